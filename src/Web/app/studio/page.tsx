import { Studio } from "./Studio";

export const metadata = { title: "Studio" };

export default function Page() {
  return <Studio />;
}
