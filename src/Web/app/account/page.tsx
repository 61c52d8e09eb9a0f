"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useState } from "react";
import { api, clearSession, problemText, type Schemas } from "@/api/client";
import { useProfile } from "@/components/useAuth";
import { ErrorText, inputClass, Loading, quietButtonClass } from "@/components/ui";

type Session = Schemas["SessionInfo"];

export default function Account() {
  const router = useRouter();
  const profile = useProfile();
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");

  const load = useCallback(async () => {
    const { data, error } = await api.GET("/api/v1/me/sessions", { params: { query: { limit: 100 } } });
    if (!data) return setError(problemText(error, "Could not load sessions"));
    setSessions(data.items);
  }, []);
  useEffect(() => {
    if (profile === null) router.replace("/login");
    else if (profile) void load();
  }, [profile, load, router]);

  const revoke = async (s: Session) => {
    const { error } = await api.DELETE("/api/v1/me/sessions/{sessionId}", { params: { path: { sessionId: s.id } } });
    if (error) return setError(problemText(error, "Could not revoke the session"));
    if (s.current) {
      clearSession();
      router.push("/login");
    } else void load();
  };
  const logout = async () => {
    await api.POST("/api/v1/auth/logout");
    clearSession();
    router.push("/");
  };

  const resend = async () => {
    setError("");
    const { error, response } = await api.POST("/api/v1/auth/verify-email/resend");
    if (!response.ok) return setError(problemText(error, "Could not send a new link"));
    setNotice("A new confirmation link is on its way.");
  };

  const [newEmail, setNewEmail] = useState("");
  const [password, setPassword] = useState("");
  const [emailError, setEmailError] = useState("");
  const [emailNotice, setEmailNotice] = useState("");
  const changeEmail = async (e: React.FormEvent) => {
    e.preventDefault();
    setEmailError("");
    setEmailNotice("");
    const { data, error } = await api.POST("/api/v1/me/email", { body: { newEmail, password } });
    if (!data) return setEmailError(problemText(error, "Could not change the e-mail address"));
    setEmailNotice(data.detail);
    setPassword("");
  };

  if (!profile) return <Loading />;
  return (
    <div className="mx-auto max-w-3xl space-y-6">
      <header className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-semibold">{profile.displayName}</h1>
        <span className="text-neutral-400">@{profile.handle} · {profile.email} · {profile.role}</span>
        <button type="button" onClick={() => void logout()} className={`${quietButtonClass} ml-auto`}>Log out</button>
      </header>
      <ErrorText>{error}</ErrorText>
      {!profile.emailVerified ? (
        <p className="flex flex-wrap items-center gap-3 rounded border border-amber-800 bg-amber-950/40 p-3 text-sm">
          Your e-mail address is not confirmed yet.
          <button type="button" onClick={() => void resend()} className={quietButtonClass}>Send a new confirmation link</button>
        </p>
      ) : null}
      {notice ? <p role="status" className="text-green-300">{notice}</p> : null}
      <section aria-labelledby="email-title" className="space-y-3">
        <h2 id="email-title" className="text-xl font-semibold">E-mail address</h2>
        <p className="text-sm text-neutral-400">We mail a link to the new address; the account keeps {profile.email} until it is followed, and that address is told of the change.</p>
        <form onSubmit={(e) => void changeEmail(e)} className="grid gap-2 sm:grid-cols-[1fr_1fr_auto]">
          <label className="space-y-1 text-sm">
            <span>New e-mail address</span>
            <input type="email" required value={newEmail} onChange={(e) => setNewEmail(e.target.value)} className={inputClass} autoComplete="email" />
          </label>
          <label className="space-y-1 text-sm">
            <span>Current password</span>
            <input type="password" required value={password} onChange={(e) => setPassword(e.target.value)} className={inputClass} autoComplete="current-password" />
          </label>
          <button type="submit" className={`${quietButtonClass} self-end`}>Change e-mail</button>
        </form>
        <ErrorText>{emailError}</ErrorText>
        {emailNotice ? <p role="status" className="text-sm text-green-300">{emailNotice}</p> : null}
      </section>
      <section aria-labelledby="notifications-title" className="space-y-1">
        <h2 id="notifications-title" className="text-xl font-semibold">Notifications</h2>
        <Link href="/notifications/settings" className="text-sm underline">Notification settings: in the app, push and e-mail per kind</Link>
      </section>
      <section aria-labelledby="sessions-title" className="space-y-3">
        <h2 id="sessions-title" className="text-xl font-semibold">Sessions</h2>
        {sessions === null ? <Loading /> : (
          <ul className="divide-y divide-neutral-800 rounded border border-neutral-800">
            {sessions.map((s) => (
              <li key={s.id} className="flex flex-wrap items-center gap-2 p-3 text-sm">
                <div className="min-w-0 flex-1">
                  <p className="truncate font-medium">{s.userAgent || "Unknown device"}{s.current ? <span className="ml-2 rounded bg-fuchsia-900 px-1.5 text-xs">this device</span> : null}</p>
                  <p className="text-neutral-400">{s.ip ?? "unknown address"} · last used {new Date(s.lastUsedAt).toLocaleString("en")}</p>
                </div>
                <button type="button" onClick={() => void revoke(s)} className={quietButtonClass} aria-label={`Revoke session ${s.current ? "of this device" : `last used ${new Date(s.lastUsedAt).toLocaleString("en")}`}`}>Revoke</button>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
