import { Notifications } from "./Notifications";

export const metadata = { title: "Notifications" };

export default function Page() {
  return <Notifications />;
}
