"use client";
import { useSearchParams } from "next/navigation";
import { useState } from "react";
import { api, problemText } from "@/api/client";
import { ErrorText, buttonClass } from "@/components/ui";

/**
 * The page of a mail's unsubscribe link ({PublicBaseUrl}/unsubscribe?user=&kind=&sig=). It asks for a click before
 * posting to POST /mail/unsubscribe: mail scanners open links, and opening one must not unsubscribe anybody.
 */
export function Unsubscribe() {
  const q = useSearchParams();
  const user = q.get("user") ?? "";
  const kind = q.get("kind") ?? "";
  const sig = q.get("sig") ?? "";
  const [error, setError] = useState("");
  const [done, setDone] = useState(false);
  const submit = async () => {
    setError("");
    const { error, response } = await api.POST("/api/v1/mail/unsubscribe", { params: { query: { user, kind, sig } } });
    if (!response.ok) return setError(problemText(error, "The link did not work"));
    setDone(true);
  };
  return (
    <div className="mx-auto max-w-md space-y-4">
      <h1 className="text-2xl font-semibold">Unsubscribe</h1>
      <ErrorText>{error}</ErrorText>
      {done ? <p role="status" className="text-green-300">You will get no more &ldquo;{kind}&rdquo; e-mails.</p> : (
        <>
          <p>Stop e-mails of the kind &ldquo;{kind || "unknown"}&rdquo; to this account?</p>
          <button type="button" className={buttonClass} onClick={() => void submit()}>Unsubscribe</button>
        </>
      )}
    </div>
  );
}
