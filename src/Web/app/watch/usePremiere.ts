"use client";
import { useEffect, useState } from "react";
import { api, type Schemas } from "@/api/client";

type PremiereResponse = Schemas["PremiereResponse"];

/** A premiere on this browser's clock: the server's instant less the offset between the two clocks. */
export interface Premiere {
  info: PremiereResponse;
  /** Milliseconds to add to Date.now() to get the server's time. */
  offset: number;
  /** Seconds until the premiere (negative after its start). */
  remaining: number;
  /** Where everyone is in the video now, in seconds. */
  position: number;
}

/**
 * GET /videos/{id}/premiere when the video has a premiere (or is not visible yet: a scheduled premiere's video is private
 * until its time), then a clock that ticks every second. undefined while unknown, null when the video has none.
 */
export function usePremiere(id: string, wanted: boolean): Premiere | null | undefined {
  const [result, setResult] = useState<{ id: string; value: { info: PremiereResponse; offset: number } | null } | undefined>(undefined);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!id || !wanted) return;
    let live = true;
    void api.GET("/api/v1/videos/{id}/premiere", { params: { path: { id } } }).then(({ data }) => {
      if (live) setResult({ id, value: data ? { info: data, offset: Date.parse(data.serverTime) - Date.now() } : null });
    });
    return () => {
      live = false;
    };
  }, [id, wanted]);
  useEffect(() => {
    if (!result?.value) return;
    const timer = window.setInterval(() => setNow(Date.now()), 250);
    return () => window.clearInterval(timer);
  }, [result]);
  if (!wanted) return null;
  if (!result || result.id !== id) return undefined;
  const info = result.value;
  if (!info) return null;
  const remaining = (Date.parse(info.info.premiereAt) - (now + info.offset)) / 1000;
  return { ...info, remaining, position: Math.max(0, -remaining) };
}

/** "1:02:03" / "2:03" from seconds. */
export function countdown(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(r).padStart(2, "0")}`;
}
