"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useState } from "react";
import { api, problemText, type Schemas } from "@/api/client";
import { NotificationsChanged } from "@/components/NotificationBell";
import { on } from "@/components/realtime";
import { useProfile } from "@/components/useAuth";
import { ErrorText, Loading, quietButtonClass } from "@/components/ui";

type Notification = Schemas["NotificationResponse"];

/** Where a notification leads: the comment on its video, the video, else the channel. */
function target(n: Notification): string | null {
  if (n.videoId) return `/watch?v=${encodeURIComponent(n.videoId)}${n.commentId ? `#comment-${encodeURIComponent(n.commentId)}` : ""}`;
  if (n.channelId) return `/channel?id=${encodeURIComponent(n.channelId)}`;
  return null;
}

export function Notifications() {
  const router = useRouter();
  const profile = useProfile();
  const [items, setItems] = useState<Notification[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState("");

  const load = useCallback(async (cursor?: string) => {
    const { data, error } = await api.GET("/api/v1/me/notifications", { params: { query: { limit: 30, cursor } } });
    if (!data) return setError(problemText(error, "Could not load notifications"));
    setItems((old) => (cursor ? [...(old ?? []), ...data.items] : data.items));
    setNext(data.nextCursor ?? null);
  }, []);
  useEffect(() => {
    if (profile === null) router.replace("/login");
    else if (profile) void load();
  }, [profile, load, router]);
  useEffect(() => on<Notification>("notification.created", (n) => setItems((old) => (old && !old.some((o) => o.id === n.id) ? [n, ...old] : old))), []);

  const changed = () => window.dispatchEvent(new Event(NotificationsChanged));
  const markRead = async (n: Notification) => {
    const { response, error } = await api.POST("/api/v1/me/notifications/{id}/read", { params: { path: { id: n.id } } });
    if (!response.ok) return setError(problemText(error, "Could not mark it read"));
    setItems((old) => old?.map((o) => (o.id === n.id ? { ...o, readAt: new Date().toISOString() } : o)) ?? null);
    changed();
  };
  const markAll = async () => {
    const { data, error } = await api.POST("/api/v1/me/notifications/read-all");
    if (!data) return setError(problemText(error, "Could not mark them read"));
    const now = new Date().toISOString();
    setItems((old) => old?.map((o) => ({ ...o, readAt: o.readAt ?? now })) ?? null);
    changed();
  };

  if (!profile || items === null) return error ? <ErrorText>{error}</ErrorText> : <Loading />;
  return (
    <div className="mx-auto max-w-3xl space-y-4">
      <header className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-semibold">Notifications</h1>
        <button type="button" onClick={() => void markAll()} className={`${quietButtonClass} ml-auto`}>Mark all read</button>
        <Link href="/notifications/settings" className={quietButtonClass}>Settings</Link>
      </header>
      <ErrorText>{error}</ErrorText>
      {items.length === 0 ? <p className="text-neutral-400">Nothing yet.</p> : (
        <ul aria-label="Notifications" className="divide-y divide-neutral-800 rounded border border-neutral-800">
          {items.map((n) => {
            const href = target(n);
            return (
              <li key={n.id} data-testid="notification" data-read={n.readAt ? "true" : "false"} className={`flex flex-wrap items-center gap-2 p-3 text-sm ${n.readAt ? "text-neutral-400" : ""}`}>
                {!n.readAt ? <span aria-label="unread" className="h-2 w-2 rounded-full bg-fuchsia-500" /> : null}
                <div className="min-w-0 flex-1">
                  {href ? (
                    <Link href={href} onClick={() => void (n.readAt ? undefined : markRead(n))} className="font-medium hover:underline">{n.title}</Link>
                  ) : <span className="font-medium">{n.title}</span>}
                  <p className="text-xs text-neutral-400">{n.kind}{n.actorHandle ? ` · @${n.actorHandle}` : ""} · {new Date(n.createdAt).toLocaleString("en")}</p>
                </div>
                {!n.readAt ? <button type="button" onClick={() => void markRead(n)} className={quietButtonClass} aria-label={`Mark read: ${n.title}`}>Mark read</button> : null}
              </li>
            );
          })}
        </ul>
      )}
      {next ? <button type="button" onClick={() => void load(next)} className={quietButtonClass}>Show more</button> : null}
    </div>
  );
}
