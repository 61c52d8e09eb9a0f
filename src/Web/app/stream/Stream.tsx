"use client";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Chat } from "@/components/Chat";
import { Player } from "@/components/Player";
import { Reactions } from "@/components/Reactions";
import { Subscribe } from "@/components/Subscribe";
import { useProfile } from "@/components/useAuth";
import { usePlayable } from "@/components/usePlayable";
import { ErrorText, Loading } from "@/components/ui";

/** /stream?v=VIDEO_ID (a channel's broadcast, with its live chat) or /stream?name=NAME (a static stream of the daemon's configuration). */
export function Stream() {
  const params = useSearchParams();
  const name = params.get("name");
  const { video, channel, src, error } = usePlayable(name ? "" : params.get("v") ?? "", true);
  const profile = useProfile();
  if (name) {
    return (
      <article className="mx-auto max-w-5xl space-y-4">
        <Player src={`/live/${encodeURIComponent(name)}/index.m3u8`} live title={name} />
        <h1 className="text-xl font-semibold">{name}</h1>
      </article>
    );
  }
  if (error) return <ErrorText>{error}</ErrorText>;
  if (!video || !src) return <Loading />;
  return (
    <div className="mx-auto grid max-w-7xl gap-4 lg:grid-cols-3">
      <article className="space-y-4 lg:col-span-2">
        {video.status === "live" ? (
          <Player src={src} live title={video.title} />
        ) : (
          <p role="status" className="rounded bg-neutral-900 p-6 text-center">
            {video.status === "ended" ? <>This broadcast has ended. <Link className="underline" href={`/watch?v=${encodeURIComponent(video.id)}`}>Watch the recording</Link></> : "This broadcast has not started yet."}
          </p>
        )}
        <h1 className="text-xl font-semibold sm:text-2xl">{video.title}</h1>
        <div className="flex flex-wrap items-center justify-between gap-3">
          {channel ? (
            <div className="flex flex-wrap items-center gap-3">
              <Link href={`/channel?id=${encodeURIComponent(channel.id)}`} className="font-medium hover:underline">{channel.name}</Link>
              <Subscribe channel={channel} profile={profile} />
            </div>
          ) : <span />}
          <Reactions video={video} profile={profile} />
        </div>
        {video.description ? <p className="whitespace-pre-line rounded bg-neutral-900 p-3">{video.description}</p> : null}
      </article>
      <aside className="lg:col-span-1">
        <Chat videoId={video.id} channelId={video.channelId} ownerId={video.ownerId} profile={profile} />
      </aside>
    </div>
  );
}
