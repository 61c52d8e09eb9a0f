"use client";
import Hls, { type Level } from "hls.js";
import { useCallback, useEffect, useRef, useState } from "react";
import { Icon } from "./icons";
import { duration as clock } from "./VideoCard";
import { cueAt, parseStoryboard, type StoryboardCue } from "./storyboard";
import { token } from "@/api/client";
import { attachBeacons, type TrafficSource } from "@/lib/beacons";

const Speeds = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];

interface Props {
  src: string;
  live?: boolean;
  storyboardUrl?: string | null;
  poster?: string | null;
  title: string;
  /** Where to start, in seconds (a premiere's viewers all start at the same point of the video). */
  startAt?: number;
  /** Told the playback position as it advances (chat replay follows it). */
  onTime?: (seconds: number) => void;
  /** When given, the player reports to POST /api/v1/beacons (src/lib/beacons.ts) for the video's analytics. */
  videoId?: string;
  source?: TrafficSource;
}

/**
 * hls.js (MSE) with ABR and a manual quality menu, or the browser's own HLS where MSE is absent (Safari on iOS).
 * Keyboard: k/space play-pause, j/l -10/+10 s, arrows -5/+5 s, m mute, f fullscreen, i picture-in-picture,
 * < and > speed. Live: LL-HLS (lowLatencyMode), the distance to the live edge, and a button back to it.
 */
export function Player({ src, live = false, storyboardUrl, poster, title, startAt, onTime, videoId, source }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const video = useRef<HTMLVideoElement>(null);
  const hls = useRef<Hls | null>(null);
  const [levels, setLevels] = useState<Level[]>([]);
  const [level, setLevel] = useState(-1);
  const [playingLevel, setPlayingLevel] = useState(-1);
  const [paused, setPaused] = useState(true);
  const [time, setTime] = useState(0);
  const [length, setLength] = useState(0);
  const [muted, setMuted] = useState(true);
  const [speed, setSpeed] = useState(1);
  const [latency, setLatency] = useState<number | null>(null);
  const [error, setError] = useState("");
  const [cues, setCues] = useState<StoryboardCue[]>([]);
  const [hover, setHover] = useState<{ x: number; cue: StoryboardCue; time: number } | null>(null);

  useEffect(() => {
    const v = video.current;
    if (!v) return;
    setError("");
    if (Hls.isSupported()) {
      const h = new Hls({ lowLatencyMode: live, backBufferLength: live ? 30 : 90 });
      hls.current = h;
      h.on(Hls.Events.MANIFEST_PARSED, (_, d) => setLevels(d.levels));
      h.on(Hls.Events.LEVEL_SWITCHED, (_, d) => setPlayingLevel(d.level));
      h.on(Hls.Events.ERROR, (_, d) => {
        if (!d.fatal) return;
        if (d.type === Hls.ErrorTypes.MEDIA_ERROR) h.recoverMediaError();
        else setError(live ? "The stream is not available right now." : "The video could not be loaded.");
      });
      h.loadSource(src);
      h.attachMedia(v);
      const detach = videoId ? attachBeacons(v, h, { videoId, source, token }) : null;
      return () => {
        detach?.();
        h.destroy();
        hls.current = null;
      };
    }
    if (v.canPlayType("application/vnd.apple.mpegurl")) {
      v.src = src;
      const detach = videoId ? attachBeacons(v, null, { videoId, source, token }) : null;
      return () => {
        detach?.();
        v.removeAttribute("src");
      };
    }
    setError("This browser cannot play HLS video.");
  }, [src, live, videoId, source]);

  useEffect(() => {
    if (!storyboardUrl) return setCues([]);
    const url = new URL(storyboardUrl, window.location.href).href;
    let live = true;
    void fetch(url).then(async (r) => {
      if (r.ok && live) setCues(parseStoryboard(await r.text(), url));
    }).catch(() => undefined);
    return () => {
      live = false;
    };
  }, [storyboardUrl]);

  useEffect(() => {
    if (!live) return;
    const timer = window.setInterval(() => setLatency(hls.current?.latency ?? null), 1000);
    return () => window.clearInterval(timer);
  }, [live]);

  const toggle = useCallback(() => {
    const v = video.current;
    if (!v) return;
    if (v.paused) void v.play().catch(() => undefined);
    else v.pause();
  }, []);
  const seekBy = useCallback((d: number) => {
    const v = video.current;
    if (v) v.currentTime = Math.max(0, Math.min((v.duration || 0), v.currentTime + d));
  }, []);
  const fullscreen = useCallback(() => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void box.current?.requestFullscreen().catch(() => undefined);
  }, []);
  const pip = useCallback(() => {
    const v = video.current;
    if (!v || !document.pictureInPictureEnabled) return;
    if (document.pictureInPictureElement) void document.exitPictureInPicture();
    else void v.requestPictureInPicture().catch(() => undefined);
  }, []);
  const setRate = useCallback((r: number) => {
    setSpeed(r);
    if (video.current) video.current.playbackRate = r;
  }, []);
  const goLive = useCallback(() => {
    const v = video.current;
    const edge = hls.current?.liveSyncPosition;
    if (v && edge != null) v.currentTime = edge;
    if (v?.paused) void v.play().catch(() => undefined);
  }, []);

  const onKey = (e: React.KeyboardEvent) => {
    if (e.target instanceof HTMLSelectElement || (e.target instanceof HTMLInputElement && e.target.type !== "range")) return;
    const keys: Record<string, () => void> = {
      k: toggle, " ": toggle, j: () => seekBy(-10), l: () => seekBy(10), f: fullscreen, i: pip,
      m: () => { if (video.current) video.current.muted = !video.current.muted; },
      "<": () => setRate(Speeds[Math.max(0, Speeds.indexOf(speed) - 1)]),
      ">": () => setRate(Speeds[Math.min(Speeds.length - 1, Speeds.indexOf(speed) + 1)]),
    };
    if (!(e.target instanceof HTMLInputElement)) {
      keys.ArrowLeft = () => seekBy(-5);
      keys.ArrowRight = () => seekBy(5);
    }
    const action = keys[e.key];
    if (action && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      action();
    }
  };

  const onSeekHover = (e: React.MouseEvent<HTMLInputElement>) => {
    if (cues.length === 0 || !length) return;
    const r = e.currentTarget.getBoundingClientRect();
    const t = ((e.clientX - r.left) / r.width) * length;
    const cue = cueAt(cues, t);
    setHover(cue ? { x: e.clientX - r.left, cue, time: t } : null);
  };

  const behind = latency != null && latency > 6;
  return (
    <div ref={box} className="group relative overflow-hidden rounded-lg bg-black" onKeyDown={onKey} role="region" aria-label={`Video player: ${title}`}>
      <video
        ref={video}
        data-testid="video"
        className="aspect-video w-full bg-black"
        poster={poster ?? undefined}
        playsInline
        autoPlay
        muted={muted}
        onClick={toggle}
        onPlay={() => setPaused(false)}
        onPause={() => setPaused(true)}
        onLoadedMetadata={(e) => {
          if (startAt && startAt > 0 && e.currentTarget.currentTime < 0.5) e.currentTarget.currentTime = startAt;
        }}
        onTimeUpdate={(e) => {
          setTime(e.currentTarget.currentTime);
          onTime?.(e.currentTarget.currentTime);
        }}
        onDurationChange={(e) => setLength(Number.isFinite(e.currentTarget.duration) ? e.currentTarget.duration : 0)}
        onVolumeChange={(e) => setMuted(e.currentTarget.muted)}
      />
      {error ? <p role="alert" className="absolute inset-x-0 top-1/3 mx-auto w-fit rounded bg-black/80 px-4 py-2">{error}</p> : null}
      {hover ? (
        <div aria-hidden className="pointer-events-none absolute bottom-20 -translate-x-1/2 rounded border border-neutral-600 bg-black"
          style={{ left: Math.max(hover.cue.w / 2, Math.min(hover.x + 12, (box.current?.clientWidth ?? 0) - hover.cue.w / 2)) }}>
          <div data-testid="storyboard-thumb" style={{ width: hover.cue.w, height: hover.cue.h, backgroundImage: `url("${hover.cue.url}")`, backgroundPosition: `-${hover.cue.x}px -${hover.cue.y}px` }} />
          <p className="text-center text-xs">{clock(hover.time)}</p>
        </div>
      ) : null}
      <div className="flex flex-wrap items-center gap-2 bg-neutral-900 px-2 py-2 text-sm">
        <button type="button" onClick={toggle} className="rounded px-2 py-1 hover:bg-neutral-800" aria-label={paused ? "Play (k)" : "Pause (k)"}>
          {paused ? "▶" : "❚❚"}
        </button>
        {live ? (
          <>
            <span data-testid="latency" className={behind ? "text-amber-300" : "text-red-400"} aria-live="off">
              ● {latency == null ? "LIVE" : `${latency.toFixed(1)} s behind live`}
            </span>
            <button type="button" onClick={goLive} className="rounded border border-neutral-700 px-2 py-1 hover:bg-neutral-800">Go to live edge</button>
          </>
        ) : (
          <>
            <input
              type="range" min={0} max={length || 0} step={0.1} value={time}
              aria-label="Seek" aria-valuetext={`${clock(time)} of ${clock(length)}`}
              className="min-w-24 flex-1 accent-fuchsia-500"
              onChange={(e) => { if (video.current) video.current.currentTime = Number(e.target.value); }}
              onMouseMove={onSeekHover} onMouseLeave={() => setHover(null)}
            />
            <span className="tabular-nums text-neutral-300">{clock(time)} / {clock(length)}</span>
          </>
        )}
        <button type="button" onClick={() => setMuted(!muted)} className="rounded px-2 py-1 hover:bg-neutral-800" aria-label={muted ? "Unmute (m)" : "Mute (m)"}>
          <Icon name={muted ? "muted" : "volume"} />
        </button>
        {!live ? (
          <label className="flex items-center gap-1">
            <span className="sr-only sm:not-sr-only">Speed</span>
            <select value={speed} onChange={(e) => setRate(Number(e.target.value))} className="rounded bg-neutral-800 px-1 py-1" aria-label="Playback speed">
              {Speeds.map((s) => <option key={s} value={s}>{s}×</option>)}
            </select>
          </label>
        ) : null}
        {levels.length > 1 ? (
          <label className="flex items-center gap-1">
            <span className="sr-only sm:not-sr-only">Quality</span>
            <select
              value={level} aria-label="Quality" className="rounded bg-neutral-800 px-1 py-1"
              onChange={(e) => {
                const l = Number(e.target.value);
                setLevel(l);
                if (hls.current) hls.current.currentLevel = l;
              }}
            >
              <option value={-1}>Auto{playingLevel >= 0 && levels[playingLevel] ? ` (${levels[playingLevel].height}p)` : ""}</option>
              {levels.map((l, i) => <option key={i} value={i}>{l.height}p</option>)}
            </select>
          </label>
        ) : null}
        <button type="button" onClick={pip} className="rounded px-2 py-1 hover:bg-neutral-800" aria-label="Picture in picture (i)"><Icon name="pip" /></button>
        <button type="button" onClick={fullscreen} className="rounded px-2 py-1 hover:bg-neutral-800" aria-label="Fullscreen (f)"><Icon name="fullscreen" /></button>
      </div>
    </div>
  );
}
