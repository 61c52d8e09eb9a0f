"use client";
import Link from "next/link";
import { useEffect, useState } from "react";
import { api, count, problemText, type Channel } from "@/api/client";
import type { Profile } from "./useAuth";

const Bells = [
  ["all", "All notifications"],
  ["highlights", "Highlights (new videos, going live)"],
  ["none", "No notifications"],
] as const;

/**
 * Subscribe / Subscribed with the bell level beside it (all, highlights, none: PUT /subscription with the new bell),
 * and the channel's subscriber count as the server answers it after each change.
 */
export function Subscribe({ channel, profile }: { channel: Channel; profile: Profile | null | undefined }) {
  const [bell, setBell] = useState<string | null>(null);
  const [subscribers, setSubscribers] = useState(channel.subscriberCount);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const path = { params: { path: { id: channel.id } } };

  useEffect(() => {
    if (!profile) return;
    void api.GET("/api/v1/channels/{id}/subscription", { params: { path: { id: channel.id } } }).then(({ data }) => setBell(data?.bell ?? null));
  }, [profile, channel.id]);

  const subscribe = async (next: string | null) => {
    setBusy(true);
    setError("");
    const { data, error } = await api.PUT("/api/v1/channels/{id}/subscription", { ...path, body: { bell: next } });
    setBusy(false);
    if (!data) return setError(problemText(error, "Could not subscribe"));
    setBell(data.bell);
    setSubscribers(data.subscriberCount);
  };
  const unsubscribe = async () => {
    setBusy(true);
    setError("");
    const { error, response } = await api.DELETE("/api/v1/channels/{id}/subscription", path);
    setBusy(false);
    if (!response.ok) return setError(problemText(error, "Could not unsubscribe"));
    setBell(null);
    setSubscribers((n) => Math.max(0, Number(n) - 1));
  };

  return (
    <div className="flex flex-wrap items-center gap-2">
      <span className="text-sm text-neutral-400" data-testid="subscriber-count">
        {count(subscribers)} {Number(subscribers) === 1 ? "subscriber" : "subscribers"}
      </span>
      {!profile ? (
        <Link href="/login" className="rounded-full bg-neutral-100 px-4 py-1.5 text-sm font-medium text-neutral-900">Subscribe<span className="sr-only"> to {channel.name} (log in first)</span></Link>
      ) : bell === null ? (
        <button type="button" disabled={busy} onClick={() => void subscribe(null)} className="rounded-full bg-neutral-100 px-4 py-1.5 text-sm font-medium text-neutral-900 disabled:opacity-50">
          Subscribe<span className="sr-only"> to {channel.name}</span>
        </button>
      ) : (
        <>
          <button type="button" disabled={busy} onClick={() => void unsubscribe()} aria-label={`Unsubscribe from ${channel.name}`}
            className="rounded-full border border-neutral-700 px-4 py-1.5 text-sm hover:bg-neutral-800 disabled:opacity-50">Subscribed</button>
          <label className="flex items-center gap-1 text-sm">
            <svg aria-hidden="true" viewBox="0 0 24 24" width="18" height="18" fill="currentColor"><path d="M12 22a2 2 0 0 0 2-2h-4a2 2 0 0 0 2 2zm6-6V11a6 6 0 0 0-5-5.9V4a1 1 0 0 0-2 0v1.1A6 6 0 0 0 6 11v5l-2 2v1h16v-1l-2-2z" /></svg>
            <span className="sr-only">Bell</span>
            <select value={bell} disabled={busy} onChange={(e) => void subscribe(e.target.value)} className="rounded bg-neutral-800 px-2 py-1">
              {Bells.map(([v, label]) => <option key={v} value={v}>{label}</option>)}
            </select>
          </label>
        </>
      )}
      {error ? <span role="alert" className="text-sm text-red-300">{error}</span> : null}
    </div>
  );
}
