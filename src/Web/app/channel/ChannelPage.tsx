"use client";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";
import { api, problemText, type Channel, type Schemas, type Video } from "@/api/client";
import { Subscribe } from "@/components/Subscribe";
import { useProfile } from "@/components/useAuth";
import { VideoGrid } from "@/components/VideoCard";
import { ErrorText, Loading, quietButtonClass } from "@/components/ui";

export function ChannelPage() {
  const id = useSearchParams().get("id") ?? "";
  const [channel, setChannel] = useState<Channel | null>(null);
  const [owner, setOwner] = useState<Schemas["PublicProfile"] | null>(null);
  const [videos, setVideos] = useState<Video[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState("");
  const profile = useProfile();

  useEffect(() => {
    if (!id) return setError("No channel given");
    void (async () => {
      const { data, error } = await api.GET("/api/v1/channels/{id}", { params: { path: { id } } });
      if (!data) return setError(problemText(error, "Channel not found"));
      setChannel(data);
      document.title = `${data.name} · StreamVerse`;
      const o = await api.GET("/api/v1/users/{id}", { params: { path: { id: data.ownerId } } });
      setOwner(o.data ?? null);
      const v = await api.GET("/api/v1/videos", { params: { query: { channel: id, limit: 24 } } });
      if (!v.data) return setError(problemText(v.error, "Could not load videos"));
      setVideos(v.data.items);
      setCursor(v.data.nextCursor ?? null);
    })();
  }, [id]);

  const more = async () => {
    if (!cursor) return;
    const { data } = await api.GET("/api/v1/videos", { params: { query: { channel: id, limit: 24, cursor } } });
    if (data) {
      setVideos((v) => [...(v ?? []), ...data.items]);
      setCursor(data.nextCursor ?? null);
    }
  };

  if (error) return <ErrorText>{error}</ErrorText>;
  if (!channel) return <Loading />;
  return (
    <div className="space-y-6">
      {channel.bannerUrl ? (
        // eslint-disable-next-line @next/next/no-img-element
        <img src={channel.bannerUrl} alt="" data-testid="channel-banner" className="aspect-[6/1] w-full rounded-lg object-cover" />
      ) : null}
      <header className="flex flex-wrap items-center gap-4 border-b border-neutral-800 pb-4">
        {channel.avatarUrl ?? owner?.avatarUrl ? (
          // eslint-disable-next-line @next/next/no-img-element
          <img src={(channel.avatarUrl ?? owner?.avatarUrl)!} alt="" data-testid="channel-avatar" className="h-16 w-16 rounded-full object-cover" />
        ) : <div aria-hidden className="flex h-16 w-16 items-center justify-center rounded-full bg-fuchsia-900 text-2xl">{channel.name.slice(0, 1).toUpperCase()}</div>}
        <div className="space-y-1">
          <h1 className="text-2xl font-semibold">{channel.name}</h1>
          {owner ? <p className="text-sm text-neutral-400">by {owner.displayName} (@{owner.handle})</p> : null}
          {channel.description ? <p className="max-w-2xl whitespace-pre-line text-neutral-300">{channel.description}</p> : null}
          <Subscribe channel={channel} profile={profile} />
        </div>
        <div className="ml-auto flex flex-wrap items-center gap-2">
          {profile && (profile.id === channel.ownerId || profile.role === "admin") ? (
            <Link href={`/studio/channel?id=${encodeURIComponent(channel.id)}`} className={quietButtonClass}>Channel settings</Link>
          ) : null}
          {channel.liveVideoId ? (
            <Link href={`/stream?v=${encodeURIComponent(channel.liveVideoId)}`} className="rounded bg-red-600 px-3 py-1.5 font-medium">● Live now</Link>
          ) : null}
        </div>
      </header>
      <h2 className="text-xl font-semibold">Videos</h2>
      {videos === null ? <Loading /> : videos.length === 0 ? <p className="text-neutral-400">This channel has no videos yet.</p> : <VideoGrid videos={videos} label={`Videos of ${channel.name}`} />}
      {cursor ? <button type="button" className={quietButtonClass} onClick={() => void more()}>Show more</button> : null}
    </div>
  );
}
