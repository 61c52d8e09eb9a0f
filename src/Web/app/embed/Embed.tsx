"use client";
import { usePathname, useSearchParams } from "next/navigation";
import { Player } from "@/components/Player";
import { usePlayable } from "@/components/usePlayable";

/**
 * /embed/{videoId}: the player alone, for other sites' iframes. The daemon serves this page for every path under
 * /embed (a static export has no dynamic segment, so the id is read from the path; ?v= works too) and it is the one
 * page whose Content-Security-Policy lets any origin frame it (src/Origin/Web/WebApp.cs).
 */
export function Embed() {
  const path = usePathname() ?? "";
  const query = useSearchParams().get("v");
  const fromPath = path.startsWith("/embed/") ? decodeURIComponent(path.slice("/embed/".length).split("/")[0]) : "";
  const id = fromPath || query || "";
  const { video, src, error } = usePlayable(id, false);
  if (error) return <p role="alert" className="flex h-full items-center justify-center p-4 text-neutral-300">{error}</p>;
  if (!video || !src) return <p role="status" className="flex h-full items-center justify-center text-neutral-400">Loading…</p>;
  const watch = `${window.location.origin}/watch?v=${encodeURIComponent(video.id)}`;
  return (
    <div className="relative flex h-full flex-col justify-center">
      <Player src={src} storyboardUrl={video.storyboardUrl} poster={video.thumbnailUrl} title={video.title} videoId={video.id} source="embed" />
      <a href={watch} target="_blank" rel="noopener noreferrer" className="absolute left-2 top-2 z-10 max-w-[80%] truncate rounded bg-black/70 px-2 py-1 text-sm text-white hover:underline">
        {video.title} <span className="text-neutral-300">on StreamVerse</span>
      </a>
    </div>
  );
}
