import { Suspense } from "react";
import { Embed } from "./Embed";

export const metadata = { title: "Player" };

export default function Page() {
  return <Suspense><Embed /></Suspense>;
}
