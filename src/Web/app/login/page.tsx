"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { api, problemText, setSession } from "@/api/client";
import { ErrorText, buttonClass, inputClass } from "@/components/ui";

export default function Login() {
  const router = useRouter();
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setBusy(true);
    setError("");
    const { data, error } = await api.POST("/api/v1/auth/login", { body: { email: String(f.get("email")), password: String(f.get("password")) } });
    setBusy(false);
    if (!data) return setError(problemText(error, "Could not log in"));
    setSession(data);
    router.push("/");
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="mx-auto max-w-sm space-y-4" aria-labelledby="login-title">
      <h1 id="login-title" className="text-2xl font-semibold">Log in</h1>
      <ErrorText>{error}</ErrorText>
      <label className="block space-y-1"><span>E-mail</span><input name="email" type="email" autoComplete="email" required className={inputClass} /></label>
      <label className="block space-y-1"><span>Password</span><input name="password" type="password" autoComplete="current-password" required className={inputClass} /></label>
      <button type="submit" disabled={busy} className={buttonClass}>Log in</button>
      <p className="text-sm text-neutral-400">No account? <Link href="/register" className="underline">Register</Link> · <Link href="/reset-password" className="underline">Forgot your password?</Link></p>
    </form>
  );
}
