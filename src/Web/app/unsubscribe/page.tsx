import { Suspense } from "react";
import { Unsubscribe } from "./Unsubscribe";

export const metadata = { title: "Unsubscribe" };

export default function Page() {
  return <Suspense><Unsubscribe /></Suspense>;
}
