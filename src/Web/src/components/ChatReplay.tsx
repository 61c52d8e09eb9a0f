"use client";
import { useEffect, useRef, useState } from "react";
import { api, type Schemas } from "@/api/client";

type Message = Schemas["ChatMessageResponse"];
const Window = 60;

/**
 * A recording's (or past premiere's) chat, replayed in step with the player: the messages whose media time the playback
 * has reached, fetched a minute ahead at a time (GET /videos/{id}/chat/messages?from=&to=, keyset pages).
 */
export function ChatReplay({ videoId, time }: { videoId: string; time: number }) {
  const [messages, setMessages] = useState<Message[]>([]);
  const [fetchedTo, setFetchedTo] = useState(0);
  const busy = useRef(false);
  const list = useRef<HTMLOListElement>(null);

  useEffect(() => {
    setMessages([]);
    setFetchedTo(0);
  }, [videoId]);

  useEffect(() => {
    // Windows are loaded in order from 0, so what is behind the position is always there; the next one is fetched half a window early.
    if (busy.current || time + Window / 2 < fetchedTo) return;
    busy.current = true;
    const from = fetchedTo, to = Math.max(fetchedTo, time) + Window;
    void (async () => {
      const got: Message[] = [];
      let cursor: string | undefined;
      do {
        const { data } = await api.GET("/api/v1/videos/{id}/chat/messages", { params: { path: { id: videoId }, query: { from, to, cursor, limit: 100 } } });
        if (!data) break;
        got.push(...data.items);
        cursor = data.nextCursor ?? undefined;
      } while (cursor);
      setMessages((old) => [...old, ...got.filter((m) => !old.some((o) => o.id === m.id))]);
      setFetchedTo(to);
      busy.current = false;
    })();
  }, [videoId, time, fetchedTo]);

  const shown = messages.filter((m) => Number(m.mediaTime) <= time + 0.25);
  useEffect(() => {
    list.current?.lastElementChild?.scrollIntoView({ block: "nearest" });
  }, [shown.length]);

  return (
    <section aria-labelledby="replay-title" className="flex h-[28rem] flex-col rounded border border-neutral-800">
      <h2 id="replay-title" className="border-b border-neutral-800 px-3 py-2 font-semibold">Chat replay</h2>
      <ol ref={list} aria-label="Chat replay messages" className="flex-1 space-y-1 overflow-y-auto px-3 py-2 text-sm">
        {shown.length === 0 ? <li className="text-neutral-400">No messages yet at this point.</li> : shown.map((m) => (
          <li key={m.id} data-testid="chat-replay-message" className="break-words">
            <span className="font-semibold text-fuchsia-300">{m.author.displayName}</span> <span>{m.text}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
