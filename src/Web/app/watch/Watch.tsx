"use client";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Comments } from "@/components/Comments";
import { Player } from "@/components/Player";
import { Reactions } from "@/components/Reactions";
import { Subscribe } from "@/components/Subscribe";
import { useProfile } from "@/components/useAuth";
import { usePlayable } from "@/components/usePlayable";
import { ErrorText, Loading } from "@/components/ui";

export function Watch() {
  const id = useSearchParams().get("v") ?? "";
  const { video, channel, src, error } = usePlayable(id, false);
  const profile = useProfile();
  if (error) return <ErrorText>{error}</ErrorText>;
  if (!video) return <Loading />;
  const playable = video.status === "ready" || video.status === "ended" || (video.status === "processing" && video.playbackPath.startsWith("/vod/"));
  return (
    <article className="mx-auto max-w-5xl space-y-4">
      {!playable ? (
        <p role="status" className="rounded bg-neutral-900 p-6 text-center">
          {video.status === "failed" ? `Processing failed: ${video.failureReason ?? "unknown reason"}` : `This video is ${video.status}${video.processingProgress != null ? ` (${Math.round(video.processingProgress)} %)` : ""}.`}
        </p>
      ) : src ? (
        <Player src={src} storyboardUrl={video.storyboardUrl} poster={video.thumbnailUrl} title={video.title} videoId={video.id} />
      ) : <Loading />}
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
}
