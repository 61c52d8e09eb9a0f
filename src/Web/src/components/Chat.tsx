"use client";
import { useEffect, useRef, useState } from "react";
import { api, problemText, type Schemas } from "@/api/client";
import { hubErrorText, on, onReconnected, socket } from "./realtime";
import type { Profile } from "./useAuth";
import { ErrorText, inputClass, quietButtonClass } from "./ui";

type Message = Schemas["ChatMessageResponse"];
interface Joined { open: boolean; rules: { slowModeSeconds: number; subscribersOnly: boolean }; messages: Message[] }
const MaxShown = 200;

/**
 * A broadcast's (or premiere's) live chat over the socket: JoinChat for the history and the events (chat.message,
 * chat.deleted, chat.settings), SendChat to write; a refusal (slow mode, rate limit, ban, time-out...) is shown as the
 * server words it. The channel's owner and admins get delete, time-out (5 min) and ban on each message of others.
 * Text is rendered as text.
 */
export function Chat({ videoId, channelId, ownerId, profile }: { videoId: string; channelId: string; ownerId: string; profile: Profile | null | undefined }) {
  const [messages, setMessages] = useState<Message[]>([]);
  const [open, setOpen] = useState<boolean | null>(null);
  const [rules, setRules] = useState<Joined["rules"] | null>(null);
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [sending, setSending] = useState(false);
  const list = useRef<HTMLOListElement>(null);
  const manages = !!profile && (profile.id === ownerId || profile.role === "admin");

  useEffect(() => {
    let live = true;
    const join = async () => {
      try {
        const c = await socket();
        const joined = await c.invoke<Joined>("JoinChat", videoId);
        if (!live) return;
        setMessages(joined.messages);
        setOpen(joined.open);
        setRules(joined.rules);
      } catch (e) {
        if (live) setError(hubErrorText(e));
      }
    };
    const offs = [
      on<Message>("chat.message", (m) => m.videoId === videoId && setMessages((old) => (old.some((o) => o.id === m.id) ? old : [...old, m].slice(-MaxShown)))),
      on<{ videoId: string; messageId: string }>("chat.deleted", (d) => d.videoId === videoId && setMessages((old) => old.filter((m) => m.id !== d.messageId))),
      on<{ channelId: string; slowModeSeconds: number; subscribersOnly: boolean }>("chat.settings", (s) => s.channelId === channelId && setRules(s)),
      onReconnected(() => void join()),
    ];
    void join();
    return () => {
      live = false;
      offs.forEach((off) => off());
      void socket().then((c) => c.invoke("LeaveChat", videoId)).catch(() => undefined);
    };
  }, [videoId, channelId, profile?.id]);

  useEffect(() => {
    list.current?.lastElementChild?.scrollIntoView({ block: "nearest" });
  }, [messages]);

  const send = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!text.trim()) return;
    setSending(true);
    setError("");
    try {
      await (await socket()).invoke("SendChat", videoId, text);
      setText("");
    } catch (err) {
      setError(hubErrorText(err));
    } finally {
      setSending(false);
    }
  };
  const remove = async (m: Message) => {
    const { response, error } = await api.DELETE("/api/v1/videos/{id}/chat/messages/{messageId}", { params: { path: { id: videoId, messageId: m.id } } });
    if (!response.ok) setError(problemText(error, "Could not delete the message"));
  };
  const restrict = async (m: Message, seconds: number | null) => {
    const { response, error } = await api.PUT("/api/v1/channels/{id}/chat/restrictions/{userId}", {
      params: { path: { id: channelId, userId: m.author.id } }, body: seconds == null ? {} : { durationSeconds: seconds },
    });
    setError(response.ok ? "" : problemText(error, "Could not restrict the account"));
    setNotice(response.ok ? `@${m.author.handle} ${seconds == null ? "is banned from this chat" : `is timed out for ${seconds / 60} minutes`}.` : "");
  };

  return (
    <section aria-labelledby="chat-title" className="flex h-[28rem] flex-col rounded border border-neutral-800">
      <header className="flex items-center gap-2 border-b border-neutral-800 px-3 py-2">
        <h2 id="chat-title" className="font-semibold">Live chat</h2>
        {rules && rules.slowModeSeconds > 0 ? <span className="text-xs text-neutral-400">slow mode: {rules.slowModeSeconds} s</span> : null}
        {rules?.subscribersOnly ? <span className="text-xs text-neutral-400">subscribers only</span> : null}
      </header>
      <ol ref={list} aria-label="Chat messages" aria-live="polite" className="flex-1 space-y-1 overflow-y-auto px-3 py-2 text-sm">
        {messages.map((m) => (
          <li key={m.id} data-testid="chat-message" className="group break-words">
            <span className="font-semibold text-fuchsia-300">{m.author.displayName}</span>{" "}
            <span>{m.text}</span>
            {manages && m.author.id !== profile?.id ? (
              <span className="ml-2 inline-flex gap-1">
                <button type="button" onClick={() => void remove(m)} className="text-xs underline" aria-label={`Delete message of @${m.author.handle}`}>delete</button>
                <button type="button" onClick={() => void restrict(m, 300)} className="text-xs underline" aria-label={`Time out @${m.author.handle} for 5 minutes`}>time out</button>
                <button type="button" onClick={() => void restrict(m, null)} className="text-xs underline" aria-label={`Ban @${m.author.handle} from this chat`}>ban</button>
              </span>
            ) : manages || m.author.id === profile?.id ? (
              <button type="button" onClick={() => void remove(m)} className="ml-2 text-xs underline" aria-label="Delete my message">delete</button>
            ) : null}
          </li>
        ))}
      </ol>
      <div className="space-y-2 border-t border-neutral-800 p-2">
        <ErrorText>{error}</ErrorText>
        {notice ? <p role="status" className="text-sm text-green-300">{notice}</p> : null}
        {open === false ? <p className="text-sm text-neutral-400">The chat is closed: what was said stays as a replay.</p>
          : !profile ? <p className="text-sm text-neutral-400">Log in to chat.</p>
          : (
            <form onSubmit={(e) => void send(e)} className="flex gap-2">
              <label htmlFor="chat-text" className="sr-only">Chat message</label>
              <input id="chat-text" value={text} onChange={(e) => setText(e.target.value)} maxLength={500} placeholder="Say something…" className={inputClass} autoComplete="off" />
              <button type="submit" disabled={sending || !text.trim()} className={quietButtonClass}>Send</button>
            </form>
          )}
      </div>
    </section>
  );
}
