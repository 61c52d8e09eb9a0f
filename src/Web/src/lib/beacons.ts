// Player beacons for POST /api/v1/beacons (README "Analytics"): load, start (startup ms), a heartbeat about every 10 s with
// the ranges played since the last one, pause, seek, rendition (bitrate, size), stall start/end, error and end. Anonymous
// viewers are a random id per tab (sessionStorage, no cookie) and go out with navigator.sendBeacon (text/plain JSON, which
// survives the page closing); a signed-in viewer's beacons go with fetch(keepalive) so the bearer token can be sent.
import Hls, { type ErrorData, type LevelSwitchedData } from "hls.js";

export type TrafficSource = "feed" | "search" | "subscriptions" | "notification" | "external" | "embed" | "direct";

export interface BeaconOptions {
  videoId: string;
  source?: TrafficSource;
  /** The caller's access token, or null when signed out. */
  token?: () => Promise<string | null>;
  endpoint?: string;
  heartbeatMs?: number;
}

type BeaconEvent = Record<string, unknown> & { type: string };

const SessionKey = "streamverse.beacon-session";

/** A random id per tab: sessionStorage is per tab and dies with it. */
export function tabSession(): string {
  try {
    const known = sessionStorage.getItem(SessionKey);
    if (known) return known;
    const id = randomId();
    sessionStorage.setItem(SessionKey, id);
    return id;
  } catch {
    return randomId();
  }
}

function randomId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return "t" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Where the viewer came from: the page's ?src= (set by the app's links), else the referrer, else direct. */
export function trafficSource(): TrafficSource {
  const given = new URLSearchParams(location.search).get("src");
  if (given && ["feed", "search", "subscriptions", "notification", "external", "embed"].includes(given)) return given as TrafficSource;
  if (window.top !== window.self) return "embed";
  if (document.referrer && new URL(document.referrer).origin !== location.origin) return "external";
  return "direct";
}

/** Starts reporting on `video` (and `hls` when it plays through hls.js); returns the function that stops it (sending what is left). */
export function attachBeacons(video: HTMLVideoElement, hls: Hls | null, options: BeaconOptions): () => void {
  const endpoint = options.endpoint ?? "/api/v1/beacons";
  const session = tabSession();
  const source = options.source ?? trafficSource();
  let queue: BeaconEvent[] = [];
  let ranges: [number, number][] = [];
  let rangeStart = -1;
  let last = 0;
  let playRequested = 0;
  let started = false;
  let stalledAt = 0;
  let bitrate = 0;

  const closeRange = () => {
    if (rangeStart >= 0 && last > rangeStart) ranges.push([round(rangeStart), round(last)]);
    rangeStart = -1;
  };

  const send = (final = false) => {
    closeRange();
    if (ranges.length > 0) queue.push({ type: "heartbeat", ranges, ...(bitrate > 0 ? { bitrate } : {}) });
    ranges = [];
    if (!video.paused) rangeStart = last;
    if (queue.length === 0) return;
    const body = JSON.stringify({ session, videoId: options.videoId, source, events: queue.slice(0, 100) });
    queue = queue.slice(100);
    void (async () => {
      const token = options.token ? await options.token().catch(() => null) : null;
      if (token) {
        await fetch(endpoint, { method: "POST", keepalive: true, body, headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` } }).catch(() => undefined);
      } else if (!navigator.sendBeacon?.(endpoint, new Blob([body], { type: "text/plain" }))) {
        await fetch(endpoint, { method: "POST", keepalive: true, body, headers: { "Content-Type": "text/plain" } }).catch(() => undefined);
      }
    })();
    if (final && queue.length > 0) send(true);
  };

  const on = <K extends keyof HTMLVideoElementEventMap>(name: K, f: () => void) => {
    video.addEventListener(name, f);
    return () => video.removeEventListener(name, f);
  };
  const offs = [
    on("play", () => {
      if (!started && playRequested === 0) {
        playRequested = performance.now();
        queue.push({ type: "load" });
      }
    }),
    on("playing", () => {
      if (!started) {
        started = true;
        queue.push({ type: "start", startupMs: Math.round(performance.now() - (playRequested || performance.now())) });
        send();
      } else if (stalledAt > 0) {
        queue.push({ type: "stall-end", durationMs: Math.round(performance.now() - stalledAt) });
        stalledAt = 0;
      }
      rangeStart = video.currentTime;
      last = video.currentTime;
    }),
    on("timeupdate", () => {
      const t = video.currentTime;
      if (rangeStart < 0 || video.paused) return;
      if (t < last || t - last > 1.5 * Math.max(1, video.playbackRate)) {
        closeRange();
        rangeStart = t;
      }
      last = t;
    }),
    on("waiting", () => {
      if (started && stalledAt === 0 && !video.seeking) {
        stalledAt = performance.now();
        queue.push({ type: "stall-start" });
      }
    }),
    on("pause", () => {
      closeRange();
      if (!video.ended) queue.push({ type: "pause", position: round(video.currentTime) });
    }),
    on("seeking", () => {
      const from = last;
      closeRange();
      queue.push({ type: "seek", from: round(from), to: round(video.currentTime) });
      last = video.currentTime;
      if (!video.paused) rangeStart = video.currentTime;
    }),
    on("ended", () => {
      queue.push({ type: "end" });
      send();
    }),
    on("error", () => queue.push({ type: "error", code: `media-${video.error?.code ?? 0}`, message: (video.error?.message ?? "").slice(0, 500) })),
  ];

  const onLevel = (_: string, data: LevelSwitchedData) => {
    const level = hls?.levels[data.level];
    if (!level) return;
    bitrate = Math.round(level.bitrate / 1000);
    queue.push({ type: "rendition", bitrate, width: level.width, height: level.height });
  };
  const onError = (_: string, data: ErrorData) => {
    if (data.fatal) queue.push({ type: "error", code: String(data.type).slice(0, 64), message: String(data.details).slice(0, 500) });
  };
  if (hls) {
    hls.on(Hls.Events.LEVEL_SWITCHED, onLevel);
    hls.on(Hls.Events.ERROR, onError);
  }

  const timer = window.setInterval(() => send(), options.heartbeatMs ?? 10_000);
  const onHide = () => {
    if (document.visibilityState === "hidden") send(true);
  };
  const onPageHide = () => send(true);
  document.addEventListener("visibilitychange", onHide);
  window.addEventListener("pagehide", onPageHide);

  return () => {
    window.clearInterval(timer);
    document.removeEventListener("visibilitychange", onHide);
    window.removeEventListener("pagehide", onPageHide);
    if (hls) {
      hls.off(Hls.Events.LEVEL_SWITCHED, onLevel);
      hls.off(Hls.Events.ERROR, onError);
    }
    offs.forEach((off) => off());
    send(true);
  };
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
