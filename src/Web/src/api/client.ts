// The typed API client: every request and response shape comes from schema.ts, generated from the daemon's
// OpenAPI document (scripts/gen-api.mjs). Nothing here declares a request shape by hand.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Video = Schemas["Video"];
export type Channel = Schemas["Channel"];
export type TokenPair = Schemas["TokenPair"];

export const api = createClient<paths>({ baseUrl: "" });

// Session: the access token lives in memory only; the rotating refresh token in localStorage so a reload keeps
// the session. Refreshes are serialised (one in flight): a refresh token used twice revokes its session.
const RefreshKey = "streamverse.refresh";
let accessToken: string | null = null;
let accessExpires = 0;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<() => void>();

export function onAuthChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify() {
  for (const l of listeners) l();
}

export function hasSession(): boolean {
  return typeof window !== "undefined" && window.localStorage.getItem(RefreshKey) !== null;
}

export function setSession(pair: TokenPair) {
  accessToken = pair.accessToken;
  accessExpires = Date.now() + (pair.expiresIn - 30) * 1000;
  window.localStorage.setItem(RefreshKey, pair.refreshToken);
  notify();
}

export function clearSession() {
  accessToken = null;
  window.localStorage.removeItem(RefreshKey);
  notify();
}

async function refresh(): Promise<boolean> {
  const refreshToken = window.localStorage.getItem(RefreshKey);
  if (!refreshToken) return false;
  const { data, response } = await api.POST("/api/v1/auth/refresh", { body: { refreshToken } });
  if (data) {
    setSession(data);
    return true;
  }
  if (response.status === 401 || response.status === 400) clearSession();
  return false;
}

/** A valid access token, refreshed when it is about to expire; null when signed out. */
export async function token(): Promise<string | null> {
  if (accessToken && Date.now() < accessExpires) return accessToken;
  if (!hasSession()) return null;
  refreshing ??= refresh().finally(() => (refreshing = null));
  return (await refreshing) ? accessToken : null;
}

const bearer: Middleware = {
  async onRequest({ request, schemaPath }) {
    if (schemaPath === "/api/v1/auth/refresh" || schemaPath === "/api/v1/auth/login" || schemaPath === "/api/v1/auth/register") {
      return request;
    }
    const t = await token();
    if (t) request.headers.set("Authorization", `Bearer ${t}`);
    return request;
  },
};
api.use(bearer);

/** The readable message of an RFC 7807 problem (with its field errors), or a fallback. */
export function problemText(error: unknown, fallback = "Something went wrong"): string {
  if (error && typeof error === "object") {
    const p = error as { title?: string; detail?: string; errors?: Record<string, string[]> };
    const fields = p.errors ? Object.entries(p.errors).map(([k, v]) => `${k}: ${v.join(", ")}`) : [];
    const text = [p.detail ?? p.title, ...fields].filter(Boolean).join(". ");
    if (text) return text;
  }
  return fallback;
}

export type Comment = Schemas["CommentResponse"];

/**
 * The options that send a file as the raw request body (pictures, captions): the endpoints take the bytes themselves
 * with their media type, not JSON; the body's type in the schema is the bytes as a string, hence the cast.
 */
export function rawBody(file: Blob, contentType = file.type) {
  return { body: file as unknown as string, bodySerializer: (b: unknown) => b as BodyInit, headers: { "Content-Type": contentType } };
}

/** A count the server may hide (null) or send as a string (int64). */
export function count(n: number | string | null | undefined): string {
  return n == null ? "" : Number(n).toLocaleString("en");
}
