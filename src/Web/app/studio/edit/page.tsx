import { Suspense } from "react";
import { Edit } from "./Edit";

export const metadata = { title: "Edit video" };

export default function Page() {
  return <Suspense><Edit /></Suspense>;
}
