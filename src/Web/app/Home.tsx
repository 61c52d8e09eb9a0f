"use client";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";
import { api, problemText, type Schemas, type Video } from "@/api/client";
import { VideoGrid } from "@/components/VideoCard";
import { ErrorText, Loading, quietButtonClass } from "@/components/ui";

export function Home() {
  const params = useSearchParams();
  const category = params.get("category");
  const categoryId = category && /^\d+$/.test(category) ? Number(category) : undefined;
  const [categories, setCategories] = useState<Schemas["Category"][]>([]);
  const [videos, setVideos] = useState<Video[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState("");

  useEffect(() => {
    void api.GET("/api/v1/categories", { params: { query: { limit: 100 } } }).then(({ data }) => setCategories(data?.items ?? []));
  }, []);

  useEffect(() => {
    setVideos(null);
    void api.GET("/api/v1/videos", { params: { query: { sort: "newest", limit: 24, category: categoryId } } }).then(({ data, error }) => {
      if (error || !data) return setError(problemText(error, "Could not load videos"));
      setVideos(data.items);
      setCursor(data.nextCursor ?? null);
    });
  }, [categoryId]);

  const more = async () => {
    if (!cursor) return;
    const { data, error } = await api.GET("/api/v1/videos", { params: { query: { sort: "newest", limit: 24, category: categoryId, cursor } } });
    if (error || !data) return setError(problemText(error, "Could not load videos"));
    setVideos((v) => [...(v ?? []), ...data.items]);
    setCursor(data.nextCursor ?? null);
  };

  const current = categories.find((c) => c.id === categoryId);
  return (
    <div className="space-y-6">
      {categories.length > 0 ? (
        <nav aria-label="Categories">
          <ul className="flex gap-2 overflow-x-auto pb-1">
            <li><Link href="/" aria-current={categoryId === undefined ? "page" : undefined} className={`${quietButtonClass} block whitespace-nowrap aria-[current=page]:bg-neutral-100 aria-[current=page]:text-neutral-900`}>All</Link></li>
            {categories.map((c) => (
              <li key={c.id}>
                <Link href={`/?category=${c.id}`} aria-current={c.id === categoryId ? "page" : undefined} className={`${quietButtonClass} block whitespace-nowrap aria-[current=page]:bg-neutral-100 aria-[current=page]:text-neutral-900`}>{c.name}</Link>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
      <h1 className="text-2xl font-semibold">{current ? current.name : "Newest videos"}</h1>
      <ErrorText>{error}</ErrorText>
      {videos === null ? <Loading /> : videos.length === 0 ? <p className="text-neutral-400">No videos yet.</p> : <VideoGrid videos={videos} label="Videos" />}
      {cursor ? <button type="button" className={quietButtonClass} onClick={() => void more()}>Show more</button> : null}
    </div>
  );
}
