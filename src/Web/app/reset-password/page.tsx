import { Suspense } from "react";
import { ResetPassword } from "./ResetPassword";

export const metadata = { title: "Reset your password" };

export default function Page() {
  return <Suspense><ResetPassword /></Suspense>;
}
