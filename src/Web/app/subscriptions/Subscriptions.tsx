"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useState } from "react";
import { api, count, problemText, type Schemas } from "@/api/client";
import { useProfile } from "@/components/useAuth";
import { ErrorText, Loading, quietButtonClass } from "@/components/ui";

type Subscription = Schemas["SubscriptionResponse"];

const BellText: Record<string, string> = { all: "all notifications", highlights: "highlights", none: "no notifications" };

/** GET /me/subscriptions, newest first, keyset "Show more"; unsubscribe from the list. */
export function Subscriptions() {
  const router = useRouter();
  const profile = useProfile();
  const [items, setItems] = useState<Subscription[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState("");

  const load = useCallback(async (after?: string) => {
    const { data, error } = await api.GET("/api/v1/me/subscriptions", { params: { query: { limit: 50, cursor: after } } });
    if (!data) return setError(problemText(error, "Could not load your subscriptions"));
    setItems((s) => (after ? [...(s ?? []), ...data.items] : data.items));
    setCursor(data.nextCursor ?? null);
  }, []);
  useEffect(() => {
    if (profile === null) router.replace("/login");
    else if (profile) void load();
  }, [profile, load, router]);

  const unsubscribe = async (s: Subscription) => {
    const { error, response } = await api.DELETE("/api/v1/channels/{id}/subscription", { params: { path: { id: s.channelId } } });
    if (!response.ok) return setError(problemText(error, "Could not unsubscribe"));
    setItems((all) => (all ?? []).filter((x) => x.channelId !== s.channelId));
  };

  if (!profile || items === null) return error ? <ErrorText>{error}</ErrorText> : <Loading />;
  return (
    <div className="mx-auto max-w-3xl space-y-4">
      <h1 className="text-2xl font-semibold">My subscriptions</h1>
      <ErrorText>{error}</ErrorText>
      {items.length === 0 ? <p className="text-neutral-400">You have not subscribed to any channel yet.</p> : (
        <ul className="divide-y divide-neutral-800 rounded border border-neutral-800" aria-label="Subscribed channels">
          {items.map((s) => (
            <li key={s.channelId} className="flex flex-wrap items-center gap-3 p-3">
              <div className="min-w-0 flex-1">
                <Link href={`/channel?id=${encodeURIComponent(s.channelId)}`} className="font-medium hover:underline">{s.channelName}</Link>
                <p className="text-sm text-neutral-400">
                  {count(s.subscriberCount)} subscribers · bell: {BellText[s.bell] ?? s.bell} · since {new Date(s.subscribedAt).toLocaleDateString("en", { dateStyle: "medium" })}
                </p>
              </div>
              <button type="button" className={quietButtonClass} onClick={() => void unsubscribe(s)} aria-label={`Unsubscribe from ${s.channelName}`}>Unsubscribe</button>
            </li>
          ))}
        </ul>
      )}
      {cursor ? <button type="button" className={quietButtonClass} onClick={() => void load(cursor)}>Show more</button> : null}
    </div>
  );
}
