import { Suspense } from "react";
import { Stream } from "./Stream";

export const metadata = { title: "Live" };

export default function Page() {
  return <Suspense><Stream /></Suspense>;
}
