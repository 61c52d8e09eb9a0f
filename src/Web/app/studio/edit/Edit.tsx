"use client";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";
import { api, problemText, type Video } from "@/api/client";
import { ErrorText, Loading, buttonClass, inputClass } from "@/components/ui";
import { VideoSettings } from "./VideoSettings";

const Visibilities = ["public", "unlisted", "private", "premium"] as const;

export function Edit() {
  const id = useSearchParams().get("v") ?? "";
  const [video, setVideo] = useState<Video | null>(null);
  const [error, setError] = useState("");
  const [saved, setSaved] = useState("");
  useEffect(() => {
    if (!id) return setError("No video given");
    void api.GET("/api/v1/videos/{id}", { params: { path: { id } } }).then(({ data, error }) => (data ? setVideo(data) : setError(problemText(error, "Video not found"))));
  }, [id]);

  const save = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setError("");
    setSaved("");
    const tags = String(f.get("tags")).split(",").map((t) => t.trim()).filter(Boolean);
    const { data, error } = await api.PATCH("/api/v1/videos/{id}", {
      params: { path: { id } },
      body: { title: String(f.get("title")), description: String(f.get("description")), visibility: String(f.get("visibility")), tags },
    });
    if (!data) return setError(problemText(error, "Could not save"));
    setVideo(data);
    setSaved("Saved");
  };

  if (!video) return error ? <ErrorText>{error}</ErrorText> : <Loading />;
  return (
    <div className="mx-auto max-w-2xl space-y-8">
    <form onSubmit={(e) => void save(e)} className="space-y-4" aria-labelledby="edit-title">
      <h1 id="edit-title" className="text-2xl font-semibold">Edit video</h1>
      <ErrorText>{error}</ErrorText>
      <label className="block space-y-1"><span>Title</span><input name="title" defaultValue={video.title} required maxLength={100} className={inputClass} /></label>
      <label className="block space-y-1"><span>Description</span><textarea name="description" defaultValue={video.description} rows={6} maxLength={5000} className={inputClass} /></label>
      <label className="block space-y-1"><span>Tags (comma separated)</span><input name="tags" defaultValue={video.tags.join(", ")} className={inputClass} /></label>
      <label className="block space-y-1">
        <span>Visibility</span>
        <select name="visibility" defaultValue={video.visibility} className={inputClass}>
          {Visibilities.map((v) => <option key={v} value={v}>{v}</option>)}
        </select>
      </label>
      <div className="flex items-center gap-4">
        <button type="submit" className={buttonClass}>Save</button>
        <Link href={`/watch?v=${encodeURIComponent(video.id)}`} className="underline">Watch</Link>
        <Link href="/studio" className="underline">Back to Studio</Link>
        <span role="status" className="text-green-300">{saved}</span>
      </div>
    </form>
    <VideoSettings video={video} onChange={setVideo} />
    </div>
  );
}
