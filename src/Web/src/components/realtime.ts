"use client";
// The one socket of the app (/api/v1/realtime, SignalR's JSON hub protocol): signed in with the access token (the
// client sends it as access_token on the WebSocket, the only place a token is in a URL), anonymous otherwise. Rebuilt
// when the session changes; listeners and chat joins are re-applied after every (re)connection.
import { HubConnectionBuilder, HubConnectionState, LogLevel, type HubConnection } from "@microsoft/signalr";
import { hasSession, onAuthChange, token } from "@/api/client";

type Handler = (...args: any[]) => void;
const handlers = new Map<string, Set<Handler>>();
const reconnected = new Set<() => void>();
let connection: HubConnection | null = null;
let starting: Promise<HubConnection> | null = null;

function build(): HubConnection {
  const c = new HubConnectionBuilder()
    .withUrl("/api/v1/realtime", { accessTokenFactory: async () => (await token()) ?? "" })
    .withAutomaticReconnect()
    .configureLogging(LogLevel.None)
    .build();
  for (const [name, set] of handlers) for (const h of set) c.on(name, h);
  c.onreconnected(() => reconnected.forEach((f) => f()));
  // Closed for good (e.g. the token expired): start again with a fresh token.
  c.onclose(() => {
    if (connection === c) window.setTimeout(() => void restart(), 2000);
  });
  return c;
}

async function restart() {
  const old = connection;
  connection = null;
  starting = null;
  if (old) await old.stop().catch(() => undefined);
  await socket().catch(() => undefined);
  reconnected.forEach((f) => f());
}

/** The started connection (anonymous when signed out). */
export function socket(): Promise<HubConnection> {
  if (connection?.state === HubConnectionState.Connected) return Promise.resolve(connection);
  starting ??= (async () => {
    connection ??= build();
    if (connection.state === HubConnectionState.Disconnected) await connection.start();
    return connection;
  })().finally(() => (starting = null));
  return starting;
}

if (typeof window !== "undefined") {
  let signedIn = hasSession();
  onAuthChange(() => {
    if (hasSession() !== signedIn || !hasSession()) {
      signedIn = hasSession();
      void restart();
    }
  });
}

/** Listens to a server event (e.g. notification.created); returns the unsubscribe. */
export function on<T>(name: string, handler: (payload: T) => void): () => void {
  const h = handler as Handler;
  let set = handlers.get(name);
  if (!set) handlers.set(name, (set = new Set()));
  set.add(h);
  connection?.on(name, h);
  return () => {
    set.delete(h);
    connection?.off(name, h);
  };
}

/** Runs after every reconnection (joins are per connection and must be made again). */
export function onReconnected(f: () => void): () => void {
  reconnected.add(f);
  return () => reconnected.delete(f);
}

/** The refusal code of a hub error ("...: slow-mode: one message per 5 s" -> its readable detail). */
export function hubErrorText(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  const i = m.indexOf("HubException: ");
  return i >= 0 ? m.slice(i + "HubException: ".length) : m.replace(/^An unexpected error occurred invoking '\w+' on the server\.\s*/, "");
}
