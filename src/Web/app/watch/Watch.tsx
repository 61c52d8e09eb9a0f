"use client";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";
import { Chat } from "@/components/Chat";
import { ChatReplay } from "@/components/ChatReplay";
import { Comments } from "@/components/Comments";
import { Player } from "@/components/Player";
import { Reactions } from "@/components/Reactions";
import { Subscribe } from "@/components/Subscribe";
import { useProfile } from "@/components/useAuth";
import { usePlayable } from "@/components/usePlayable";
import { ErrorText, Loading } from "@/components/ui";
import { countdown, usePremiere } from "./usePremiere";

export function Watch() {
  const id = useSearchParams().get("v") ?? "";
  const [attempt, setAttempt] = useState(0);
  const [time, setTime] = useState(0);
  const { video, channel, src, error } = usePlayable(id, false, attempt);
  const profile = useProfile();
  // A premiere: its own answer tells the countdown (the video itself is private until the time, so others get 404 for it).
  const premiere = usePremiere(id, !!video?.premiereAt || !!error);
  const upcoming = !!premiere && premiere.remaining > 0;
  const waiting = !!premiere && !upcoming && premiere.info.chatOpen && (!!error || video?.visibility === "private");

  // At the time, the video becomes public (within the publisher's interval): look again until it is.
  // (Keyed on booleans: the premiere's clock makes a new object every tick, which must not restart the timer.)
  const hasPremiere = !!premiere;
  const notYetVisible = !!error || video?.visibility === "private";
  useEffect(() => {
    if (!hasPremiere || upcoming || !notYetVisible) return;
    const timer = window.setTimeout(() => setAttempt((a) => a + 1), 1000);
    return () => window.clearTimeout(timer);
  }, [hasPremiere, upcoming, notYetVisible, attempt]);

  if (premiere && (upcoming || waiting)) {
    return (
      <div className="mx-auto grid max-w-7xl gap-4 lg:grid-cols-3">
        <article className="space-y-4 lg:col-span-2">
          <div role="timer" aria-live="off" data-testid="premiere-countdown" className="flex aspect-video w-full flex-col items-center justify-center gap-2 rounded bg-neutral-900">
            <p className="text-sm uppercase tracking-wide text-fuchsia-300">Premiere</p>
            <p className="text-4xl font-bold tabular-nums">{upcoming ? countdown(premiere.remaining) : "Starting…"}</p>
            <p className="text-sm text-neutral-400">{new Date(premiere.info.premiereAt).toLocaleString("en", { dateStyle: "medium", timeStyle: "short" })}</p>
          </div>
          <h1 className="text-xl font-semibold sm:text-2xl">{premiere.info.title}</h1>
        </article>
        <aside className="lg:col-span-1">
          <Chat videoId={id} channelId={premiere.info.channelId} ownerId={video?.ownerId ?? ""} profile={profile} />
        </aside>
      </div>
    );
  }
  if (error) return <ErrorText>{error}</ErrorText>;
  if (!video || (video.premiereAt && premiere === undefined)) return <Loading />;
  const playable = video.status === "ready" || video.status === "ended" || (video.status === "processing" && video.playbackPath.startsWith("/vod/"));
  const together = premiere && premiere.info.chatOpen && premiere.remaining <= 0 && (!premiere.info.durationSeconds || premiere.position < premiere.info.durationSeconds);
  const main = (
    <article className="space-y-4 lg:col-span-2">
      {!playable ? (
        <p role="status" className="rounded bg-neutral-900 p-6 text-center">
          {video.status === "failed" ? `Processing failed: ${video.failureReason ?? "unknown reason"}` : `This video is ${video.status}${video.processingProgress != null ? ` (${Math.round(video.processingProgress)} %)` : ""}.`}
        </p>
      ) : src ? (
        <Player src={src} storyboardUrl={video.storyboardUrl} poster={video.thumbnailUrl} title={video.title} startAt={together ? premiere.position : undefined}
          onTime={(t) => setTime((old) => (Math.abs(old - t) >= 0.5 ? t : old))} videoId={video.id} />
      ) : <Loading />}
      {together ? <p role="status" className="text-sm text-fuchsia-300">Premiere: everyone is watching from the same point.</p> : null}
      <h1 className="text-xl font-semibold sm:text-2xl">{video.title}</h1>
      <div className="flex flex-wrap items-center gap-x-4 gap-y-1 text-sm text-neutral-400">
        {channel ? <Link href={`/channel?id=${encodeURIComponent(channel.id)}`} className="font-medium text-neutral-100 hover:underline">{channel.name}</Link> : null}
        <span>{video.viewCount.toLocaleString("en")} views</span>
        <span>{new Date(video.createdAt).toLocaleDateString("en", { dateStyle: "medium" })}</span>
        {video.visibility !== "public" ? <span className="rounded bg-neutral-800 px-1.5">{video.visibility}</span> : null}
      </div>
      <div className="flex flex-wrap items-center justify-between gap-3">
        {channel ? <Subscribe channel={channel} profile={profile} /> : <span />}
        <Reactions video={video} profile={profile} />
      </div>
      {video.tags.length > 0 ? (
        <ul aria-label="Tags" className="flex flex-wrap gap-2 text-sm text-fuchsia-300">
          {video.tags.map((t) => <li key={t}>#{t}</li>)}
        </ul>
      ) : null}
      {video.description ? <p className="whitespace-pre-line rounded bg-neutral-900 p-3 text-neutral-200">{video.description}</p> : null}
      <details className="text-sm text-neutral-400">
        <summary className="cursor-pointer">Keyboard shortcuts</summary>
        <p>k or space: play/pause · j/l: 10 s back/forward · ←/→: 5 s · m: mute · f: fullscreen · i: picture-in-picture · &lt;/&gt;: speed</p>
      </details>
      <Comments video={video} profile={profile} />
    </article>
  );
  // A recording, or a premiere that has been shown, replays its chat beside the player.
  const replay = !together && (video.status === "ended" || (!!video.premiereAt && Date.parse(video.premiereAt) < Date.now()));
  if (!together && !replay) return <div className="mx-auto max-w-5xl">{main}</div>;
  return (
    <div className="mx-auto grid max-w-7xl gap-4 lg:grid-cols-3">
      {main}
      <aside className="lg:col-span-1">
        {together ? <Chat videoId={video.id} channelId={video.channelId} ownerId={video.ownerId} profile={profile} /> : <ChatReplay videoId={video.id} time={time} />}
      </aside>
    </div>
  );
}
