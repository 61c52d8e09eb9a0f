import { Suspense } from "react";
import { Live } from "./Live";

export const metadata = { title: "Live" };

export default function Page() {
  return <Suspense><Live /></Suspense>;
}
