"use client";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useState } from "react";
import { api, problemText } from "@/api/client";
import { ErrorText, buttonClass, inputClass } from "@/components/ui";

/**
 * Both halves of a password reset at the path the mails link to: without a token, ask for a reset mail
 * (POST /auth/password-reset, which answers 202 whether or not the address has an account); with the mail's
 * ?token=, choose the new password (POST /auth/password-reset/confirm).
 */
export function ResetPassword() {
  const token = useSearchParams().get("token");
  return token ? <Confirm token={token} /> : <Request />;
}

function Request() {
  const [error, setError] = useState("");
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    const { error, response } = await api.POST("/api/v1/auth/password-reset", { body: { email: String(new FormData(e.currentTarget).get("email")) } });
    setBusy(false);
    if (!response.ok) return setError(problemText(error, "Could not ask for a reset"));
    setSent(true);
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="mx-auto max-w-sm space-y-4" aria-labelledby="reset-title">
      <h1 id="reset-title" className="text-2xl font-semibold">Reset your password</h1>
      <ErrorText>{error}</ErrorText>
      {sent ? (
        <p role="status" className="text-green-300">If an account has this address, a message with a link to choose a new password is on its way.</p>
      ) : (
        <>
          <label className="block space-y-1"><span>E-mail</span><input name="email" type="email" autoComplete="email" required className={inputClass} /></label>
          <button type="submit" disabled={busy} className={buttonClass}>Send me a link</button>
        </>
      )}
      <p className="text-sm text-neutral-400"><Link href="/login" className="underline">Back to log in</Link></p>
    </form>
  );
}

function Confirm({ token }: { token: string }) {
  const [error, setError] = useState("");
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    if (f.get("password") !== f.get("repeat")) return setError("The two passwords differ");
    setBusy(true);
    setError("");
    const { error, response } = await api.POST("/api/v1/auth/password-reset/confirm", { body: { token, newPassword: String(f.get("password")) } });
    setBusy(false);
    if (!response.ok) return setError(problemText(error, "Could not reset the password"));
    setDone(true);
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="mx-auto max-w-sm space-y-4" aria-labelledby="new-password-title">
      <h1 id="new-password-title" className="text-2xl font-semibold">Choose a new password</h1>
      <ErrorText>{error}</ErrorText>
      {done ? (
        <p role="status" className="text-green-300">Your password is changed. <Link href="/login" className="underline">Log in</Link> with it.</p>
      ) : (
        <>
          <label className="block space-y-1"><span>New password</span><input name="password" type="password" autoComplete="new-password" required minLength={8} maxLength={256} className={inputClass} /></label>
          <label className="block space-y-1"><span>Repeat it</span><input name="repeat" type="password" autoComplete="new-password" required minLength={8} maxLength={256} className={inputClass} /></label>
          <button type="submit" disabled={busy} className={buttonClass}>Set the new password</button>
          <p className="text-sm text-neutral-400">A link works once and for a limited time: <Link href="/reset-password" className="underline">ask for a new one</Link> if it expired.</p>
        </>
      )}
    </form>
  );
}
