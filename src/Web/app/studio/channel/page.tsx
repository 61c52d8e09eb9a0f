import { Suspense } from "react";
import { ChannelSettings } from "./ChannelSettings";

export const metadata = { title: "Channel settings" };

export default function Page() {
  return <Suspense><ChannelSettings /></Suspense>;
}
