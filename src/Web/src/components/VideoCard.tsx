import Link from "next/link";
import type { Video } from "@/api/client";

export function duration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return "";
  const s = Math.floor(seconds % 60).toString().padStart(2, "0");
  const m = Math.floor(seconds / 60) % 60;
  const h = Math.floor(seconds / 3600);
  return h > 0 ? `${h}:${m.toString().padStart(2, "0")}:${s}` : `${m}:${s}`;
}

export function watchHref(v: Video): string {
  return v.status === "live" ? `/stream?v=${encodeURIComponent(v.id)}` : `/watch?v=${encodeURIComponent(v.id)}`;
}

export function VideoCard({ video }: { video: Video }) {
  return (
    <li>
      <Link href={watchHref(video)} className="group block rounded-lg focus-visible:outline-2">
        <div className="relative aspect-video overflow-hidden rounded-lg bg-neutral-800">
          {video.thumbnailUrl ? (
            // eslint-disable-next-line @next/next/no-img-element
            <img src={video.thumbnailUrl} alt="" loading="lazy" className="h-full w-full object-cover transition group-hover:scale-105" />
          ) : null}
          {video.status === "live" ? (
            <span className="absolute left-2 top-2 rounded bg-red-600 px-1.5 text-xs font-bold">LIVE</span>
          ) : video.durationSeconds ? (
            <span className="absolute bottom-2 right-2 rounded bg-black/80 px-1.5 text-xs">{duration(video.durationSeconds)}</span>
          ) : null}
        </div>
        <h3 className="mt-2 line-clamp-2 font-medium">{video.title}</h3>
        <p className="text-sm text-neutral-400">{video.viewCount.toLocaleString("en")} views · {new Date(video.createdAt).toLocaleDateString("en")}</p>
      </Link>
    </li>
  );
}

export function VideoGrid({ videos, label }: { videos: Video[]; label: string }) {
  return (
    <ul aria-label={label} className="grid grid-cols-1 gap-5 sm:grid-cols-2 lg:grid-cols-3 xl:grid-cols-4">
      {videos.map((v) => <VideoCard key={v.id} video={v} />)}
    </ul>
  );
}
