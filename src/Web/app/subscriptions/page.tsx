import { Subscriptions } from "./Subscriptions";

export const metadata = { title: "My subscriptions" };

export default function Page() {
  return <Subscriptions />;
}
