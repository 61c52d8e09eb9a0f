"use client";
import Link from "next/link";
import { useCallback, useEffect, useState } from "react";
import { api, problemText, type Schemas } from "@/api/client";
import { ErrorText, Loading, buttonClass, quietButtonClass } from "@/components/ui";

type Key = Schemas["StreamKeyInfo"];
type Created = Schemas["StreamKeyCreated"];

/**
 * The channel's stream keys: create (optionally for private test broadcasts), rotate, revoke. The whole key is in the
 * answer to creation and rotation only, so it is shown once, here, until the page is left. A private test key's
 * broadcast starts private: its owner watches it and makes it public when it looks right.
 */
export function StreamKeys({ channelId }: { channelId: string }) {
  const [keys, setKeys] = useState<Key[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [shown, setShown] = useState<Created | null>(null);
  const [privateTest, setPrivateTest] = useState(false);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const path = { params: { path: { channelId } } };

  const load = useCallback(async (after?: string) => {
    const { data, error } = await api.GET("/api/v1/channels/{channelId}/stream-keys", { params: { path: { channelId }, query: { limit: 50, cursor: after } } });
    if (!data) return setError(problemText(error, "Could not load the stream keys"));
    setKeys((k) => (after ? [...(k ?? []), ...data.items] : data.items));
    setCursor(data.nextCursor ?? null);
  }, [channelId]);
  useEffect(() => void load(), [load]);

  const create = async () => {
    setError("");
    setNotice("");
    const { data, error } = await api.POST("/api/v1/channels/{channelId}/stream-keys", { ...path, body: { privateTest } });
    if (!data) return setError(problemText(error, "Could not create a stream key"));
    setShown(data);
    await load();
  };
  const rotate = async (k: Key) => {
    setError("");
    setNotice("");
    const { data, error } = await api.POST("/api/v1/channels/{channelId}/stream-keys/{keyId}/rotate", { params: { path: { channelId, keyId: k.id } } });
    if (!data) return setError(problemText(error, "Could not rotate the key"));
    setShown(data);
    await load();
  };
  const revoke = async (k: Key) => {
    setError("");
    const { error, response } = await api.DELETE("/api/v1/channels/{channelId}/stream-keys/{keyId}", { params: { path: { channelId, keyId: k.id } } });
    if (!response.ok) return setError(problemText(error, "Could not revoke the key"));
    if (shown?.id === k.id) setShown(null);
    await load();
  };
  const goPublic = async (videoId: string) => {
    setError("");
    const { data, error } = await api.PATCH("/api/v1/videos/{id}", { params: { path: { id: videoId } }, body: { visibility: "public" } });
    if (!data) return setError(problemText(error, "Could not make the broadcast public"));
    setNotice("The broadcast is public now.");
  };
  const copy = async (text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setNotice("Key copied");
    } catch {
      setNotice("Copy it by hand: the browser refused the clipboard");
    }
  };

  return (
    <section aria-labelledby="keys-title" className="space-y-3">
      <h2 id="keys-title" className="text-xl font-semibold">Stream keys</h2>
      <p className="text-sm text-neutral-400">
        Publish with OBS or ffmpeg to <code>rtmp://HOST:PORT/live/KEY</code> (this server&apos;s RTMP address, port 1935 by default).
        Every publish is a broadcast of its own.
      </p>
      <ErrorText>{error}</ErrorText>
      {notice ? <p role="status" className="text-sm text-green-300">{notice}</p> : null}
      {shown ? (
        <div className="space-y-2 rounded border border-fuchsia-800 bg-fuchsia-950/40 p-3 text-sm" data-testid="new-key">
          <p>The new key is shown this once: copy it now.</p>
          <div className="flex flex-wrap items-center gap-2">
            <code className="break-all rounded bg-neutral-900 px-2 py-1" data-testid="stream-key">{shown.key}</code>
            <button type="button" className={quietButtonClass} onClick={() => void copy(shown.key)}>Copy key</button>
          </div>
        </div>
      ) : null}
      <div className="flex flex-wrap items-center gap-3">
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={privateTest} onChange={(e) => setPrivateTest(e.target.checked)} />
          For private test broadcasts (each broadcast starts private; make it public when it looks right)
        </label>
        <button type="button" className={buttonClass} onClick={() => void create()}>Create stream key</button>
      </div>
      {keys === null ? (error ? null : <Loading />) : keys.length === 0 ? <p className="text-neutral-400">No stream keys yet.</p> : (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-neutral-400">
              <tr><th scope="col" className="p-2">Key</th><th scope="col" className="p-2">Kind</th><th scope="col" className="p-2">Created</th><th scope="col" className="p-2">Latest broadcast</th><th scope="col" className="p-2"><span className="sr-only">Actions</span></th></tr>
            </thead>
            <tbody className="divide-y divide-neutral-800">
              {keys.map((k) => (
                <tr key={k.id} data-testid="stream-key-row">
                  <td className="p-2 font-mono">{k.prefix}…{k.revokedAt ? <span className="ml-2 font-sans text-neutral-400">(revoked)</span> : null}</td>
                  <td className="p-2">{k.privateTest ? "private test" : "public"}</td>
                  <td className="p-2">{new Date(k.createdAt).toLocaleString("en", { dateStyle: "medium", timeStyle: "short" })}</td>
                  <td className="p-2">
                    {k.liveVideoId ? (
                      <span className="flex flex-wrap gap-2">
                        <Link href={`/stream?v=${encodeURIComponent(k.liveVideoId)}`} className="underline">Watch</Link>
                        {k.privateTest ? <button type="button" className="underline" onClick={() => void goPublic(k.liveVideoId!)}>Make public</button> : null}
                      </span>
                    ) : <span className="text-neutral-400">none yet</span>}
                  </td>
                  <td className="p-2">
                    {!k.revokedAt ? (
                      <span className="flex gap-2">
                        <button type="button" className={quietButtonClass} onClick={() => void rotate(k)} aria-label={`Rotate key ${k.prefix}`}>Rotate</button>
                        <button type="button" className={quietButtonClass} onClick={() => void revoke(k)} aria-label={`Revoke key ${k.prefix}`}>Revoke</button>
                      </span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor ? <button type="button" className={quietButtonClass} onClick={() => void load(cursor)}>Show more keys</button> : null}
    </section>
  );
}
