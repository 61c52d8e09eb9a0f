"use client";
import { useCallback, useEffect, useState } from "react";
import { api, problemText, type Schemas } from "@/api/client";
import { ErrorText, Loading, quietButtonClass } from "@/components/ui";

type Subscriber = Schemas["SubscriberResponse"];

/** The channel's subscribers (its owner and admins only), newest first. */
export function Subscribers({ channelId }: { channelId: string }) {
  const [items, setItems] = useState<Subscriber[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState("");
  const load = useCallback(async (after?: string) => {
    const { data, error } = await api.GET("/api/v1/channels/{id}/subscribers", { params: { path: { id: channelId }, query: { limit: 50, cursor: after } } });
    if (!data) return setError(problemText(error, "Could not load the subscribers"));
    setItems((s) => (after ? [...(s ?? []), ...data.items] : data.items));
    setCursor(data.nextCursor ?? null);
  }, [channelId]);
  useEffect(() => void load(), [load]);

  return (
    <section aria-labelledby="subscribers-title" className="space-y-3">
      <h2 id="subscribers-title" className="text-xl font-semibold">Subscribers</h2>
      <ErrorText>{error}</ErrorText>
      {items === null ? (error ? null : <Loading />) : items.length === 0 ? <p className="text-neutral-400">No subscribers yet.</p> : (
        <ul className="divide-y divide-neutral-800 rounded border border-neutral-800 text-sm" aria-label="Subscribers">
          {items.map((s) => (
            <li key={s.userId} className="flex flex-wrap gap-2 p-2">
              <span className="font-medium">{s.displayName}</span>
              <span className="text-neutral-400">@{s.handle}</span>
              <span className="ml-auto text-neutral-400">since {new Date(s.subscribedAt).toLocaleDateString("en", { dateStyle: "medium" })}</span>
            </li>
          ))}
        </ul>
      )}
      {cursor ? <button type="button" className={quietButtonClass} onClick={() => void load(cursor)}>Show more subscribers</button> : null}
    </section>
  );
}
