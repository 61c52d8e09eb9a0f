"use client";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useState } from "react";
import { api, clearSession, problemText, type Schemas } from "@/api/client";
import { useProfile } from "@/components/useAuth";
import { ErrorText, Loading, quietButtonClass } from "@/components/ui";

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
