"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { api, problemText, setSession } from "@/api/client";
import { ErrorText, buttonClass, inputClass } from "@/components/ui";

export default function Register() {
  const router = useRouter();
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const email = String(f.get("email"));
    const password = String(f.get("password"));
    setBusy(true);
    setError("");
    const r = await api.POST("/api/v1/auth/register", {
      body: { email, password, handle: String(f.get("handle")), displayName: String(f.get("displayName")) || null },
    });
    if (r.error) {
      setBusy(false);
      return setError(problemText(r.error, "Could not register"));
    }
    const { data, error } = await api.POST("/api/v1/auth/login", { body: { email, password } });
    setBusy(false);
    if (!data) return setError(problemText(error, "Registered, but could not log in"));
    setSession(data);
    router.push("/");
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="mx-auto max-w-sm space-y-4" aria-labelledby="register-title">
      <h1 id="register-title" className="text-2xl font-semibold">Register</h1>
      <ErrorText>{error}</ErrorText>
      <label className="block space-y-1"><span>E-mail</span><input name="email" type="email" autoComplete="email" required className={inputClass} /></label>
      <label className="block space-y-1"><span>Handle</span><input name="handle" autoComplete="username" required pattern="[A-Za-z0-9_.\-]{3,30}" aria-describedby="handle-help" className={inputClass} /></label>
      <p id="handle-help" className="text-xs text-neutral-400">3 to 30 letters, digits, dots, dashes or underscores.</p>
      <label className="block space-y-1"><span>Display name (optional)</span><input name="displayName" autoComplete="name" maxLength={100} className={inputClass} /></label>
      <label className="block space-y-1"><span>Password</span><input name="password" type="password" autoComplete="new-password" required minLength={8} maxLength={256} aria-describedby="password-help" className={inputClass} /></label>
      <p id="password-help" className="text-xs text-neutral-400">At least 8 characters.</p>
      <button type="submit" disabled={busy} className={buttonClass}>Create account</button>
      <p className="text-sm text-neutral-400">Have an account? <Link href="/login" className="underline">Log in</Link></p>
    </form>
  );
}
