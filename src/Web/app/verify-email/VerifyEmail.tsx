"use client";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { api, problemText } from "@/api/client";
import { ErrorText, Loading } from "@/components/ui";

/**
 * The page the verification mail links to ({PublicBaseUrl}/verify-email?token=…): it posts the token to
 * POST /auth/verify-email once (a token works once; React's development double effect must not spend it twice).
 */
export function VerifyEmail() {
  const token = useSearchParams().get("token") ?? "";
  const [state, setState] = useState<"working" | "done" | "failed">("working");
  const [error, setError] = useState("");
  const sent = useRef(false);
  useEffect(() => {
    if (sent.current) return;
    sent.current = true;
    if (!token) {
      setState("failed");
      setError("This link has no token: open the link from the e-mail as it is.");
      return;
    }
    void api.POST("/api/v1/auth/verify-email", { body: { token } }).then(({ error, response }) => {
      if (response.ok) return setState("done");
      setState("failed");
      setError(problemText(error, "The link did not work"));
    });
  }, [token]);
  return (
    <div className="mx-auto max-w-md space-y-4">
      <h1 className="text-2xl font-semibold">Confirm your e-mail address</h1>
      {state === "working" ? <Loading /> : state === "done" ? (
        <p role="status" className="text-green-300">Your e-mail address is confirmed. <Link href="/" className="underline">Go to the home page</Link></p>
      ) : (
        <>
          <ErrorText>{error}</ErrorText>
          <p className="text-sm text-neutral-400">A link works once and for a limited time. Signed in, ask for a new one on your <Link href="/account" className="underline">account page</Link>.</p>
        </>
      )}
    </div>
  );
}
