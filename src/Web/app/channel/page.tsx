import { Suspense } from "react";
import { ChannelPage } from "./ChannelPage";

export const metadata = { title: "Channel" };

export default function Page() {
  return <Suspense><ChannelPage /></Suspense>;
}
