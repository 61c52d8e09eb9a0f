"use client";
import { useState } from "react";
import { api, problemText, rawBody, type Video } from "@/api/client";
import { duration } from "@/components/VideoCard";
import { ErrorText, buttonClass, inputClass, quietButtonClass } from "@/components/ui";
import { Policies } from "../channel/ChannelSettings";

type Section = "thumbnail" | "schedule" | "comments" | "captions";

/** A local date-time for a datetime-local input (its value has no zone: the viewer's own). */
function localInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => n.toString().padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * The video's settings beside its metadata form: comment policy, reactions, thumbnail (upload or a frame of the
 * video), scheduled publishing and captions. Each section saves on its own and answers with the server's state.
 */
export function VideoSettings({ video, onChange }: { video: Video; onChange: (v: Video) => void }) {
  const [error, setError] = useState("");
  const [saved, setSaved] = useState("");
  // The section of the last action: its outcome is shown there, next to the control that caused it.
  const [at, setAt] = useState<Section>("thumbnail");
  const id = video.id;
  const path = { params: { path: { id } } };
  const begin = (section: Section) => {
    setAt(section);
    setError("");
    setSaved("");
  };
  const feedback = (section: Section) => (
    <>
      {at === section ? <ErrorText>{error}</ErrorText> : null}
      <p role="status" className="text-sm text-green-300">{at === section ? saved : ""}</p>
    </>
  );
  const reload = async () => {
    const { data } = await api.GET("/api/v1/videos/{id}", path);
    if (data) onChange(data);
  };

  const savePolicy = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    begin("comments");
    const policy = String(new FormData(e.currentTarget).get("policy"));
    const { data, error } = await api.PUT("/api/v1/videos/{id}/comment-policy", { ...path, body: { policy } });
    if (!data) return setError(problemText(error, "Could not save the comment policy"));
    onChange({ ...video, commentPolicy: data.policy });
    setSaved("Comment policy saved");
  };
  const saveReactions = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    begin("comments");
    const f = new FormData(e.currentTarget);
    const { data, error } = await api.PATCH("/api/v1/videos/{id}", { ...path, body: { reactionsEnabled: f.get("reactionsEnabled") === "on", dislikeCountHidden: f.get("dislikeCountHidden") === "on" } });
    if (!data) return setError(problemText(error, "Could not save the reaction settings"));
    onChange(data);
    setSaved("Reaction settings saved");
  };
  const uploadThumbnail = async (file: File | undefined) => {
    if (!file) return;
    begin("thumbnail");
    const { data, error } = await api.PUT("/api/v1/videos/{id}/thumbnail", { ...path, ...rawBody(file) });
    if (!data) return setError(problemText(error, "Could not upload the thumbnail"));
    onChange(data);
    setSaved("Thumbnail saved");
  };
  const pickFrame = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    begin("thumbnail");
    const atSeconds = Number(new FormData(e.currentTarget).get("atSeconds"));
    const { data, error } = await api.POST("/api/v1/videos/{id}/thumbnail/frame", { ...path, body: { atSeconds } });
    if (!data) return setError(problemText(error, "Could not take that frame"));
    onChange(data);
    setSaved("Thumbnail saved");
  };
  const resetThumbnail = async () => {
    begin("thumbnail");
    const { error, response } = await api.DELETE("/api/v1/videos/{id}/thumbnail", path);
    if (!response.ok) return setError(problemText(error, "Could not reset the thumbnail"));
    await reload();
    setSaved("Thumbnail reset to the automatic poster");
  };
  const schedule = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    begin("schedule");
    const local = String(new FormData(e.currentTarget).get("publishAt"));
    const { data, error } = await api.PUT("/api/v1/videos/{id}/schedule", { ...path, body: { publishAt: local ? new Date(local).toISOString() : null } });
    if (!data) return setError(problemText(error, "Could not schedule the video"));
    onChange(data);
    setSaved("Publication scheduled");
  };
  const unschedule = async () => {
    begin("schedule");
    const { error, response } = await api.DELETE("/api/v1/videos/{id}/schedule", path);
    if (!response.ok) return setError(problemText(error, "Could not cancel the schedule"));
    onChange({ ...video, publishAt: null });
    setSaved("Schedule cancelled");
  };
  const uploadCaptions = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    begin("captions");
    const form = e.currentTarget;
    const f = new FormData(form);
    const file = f.get("file") as File | null;
    const language = String(f.get("language")).trim();
    const label = String(f.get("label")).trim();
    if (!file || file.size === 0) return setError("Choose a WebVTT or SubRip file");
    const type = /\.srt$/i.test(file.name) ? "application/x-subrip" : file.name.toLowerCase().endsWith(".vtt") ? "text/vtt" : "text/plain";
    const { data, error } = await api.PUT("/api/v1/videos/{id}/captions/{language}", {
      params: { path: { id, language }, query: label ? { label } : {} }, ...rawBody(file, type),
    });
    if (!data) return setError(problemText(error, "Could not upload the captions"));
    form.reset();
    await reload();
    setSaved(`Captions ${data.label} saved`);
  };
  const deleteCaptions = async (language: string) => {
    begin("captions");
    const { error, response } = await api.DELETE("/api/v1/videos/{id}/captions/{language}", { params: { path: { id, language } } });
    if (!response.ok) return setError(problemText(error, "Could not delete the captions"));
    await reload();
    setSaved("Captions deleted");
  };

  const section = "space-y-3 border-t border-neutral-800 pt-6";
  return (
    <div className="space-y-6">
      <section aria-labelledby="thumb-title" className={section}>
        <h2 id="thumb-title" className="text-xl font-semibold">Thumbnail</h2>
        {feedback("thumbnail")}
        {video.thumbnailUrl ? (
          // eslint-disable-next-line @next/next/no-img-element
          <img src={video.thumbnailUrl} alt="Current thumbnail" data-testid="thumbnail" className="aspect-video w-64 rounded object-cover" />
        ) : <p className="text-sm text-neutral-400">No thumbnail yet.</p>}
        <label className="block space-y-1 text-sm">
          <span className="block">Upload a picture (PNG, JPEG or WebP)</span>
          <input type="file" accept="image/png,image/jpeg,image/webp" onChange={(e) => void uploadThumbnail(e.target.files?.[0])} className="text-sm" />
        </label>
        <form onSubmit={(e) => void pickFrame(e)} className="flex flex-wrap items-end gap-3">
          <label className="block space-y-1 text-sm">
            <span className="block">Or a frame of the video at (seconds{video.durationSeconds ? `, up to ${duration(Number(video.durationSeconds))}` : ""})</span>
            <input name="atSeconds" type="number" min={0} step={0.1} max={video.durationSeconds ?? undefined} defaultValue={0} required className={`${inputClass} w-40`} />
          </label>
          <button type="submit" className={quietButtonClass}>Use this frame</button>
          <button type="button" className={quietButtonClass} onClick={() => void resetThumbnail()}>Back to the automatic poster</button>
        </form>
      </section>

      <section aria-labelledby="schedule-title" className={section}>
        <h2 id="schedule-title" className="text-xl font-semibold">Scheduled publishing</h2>
        {feedback("schedule")}
        <p className="text-sm text-neutral-400">A private or unlisted video becomes public by itself at this time.</p>
        {video.publishAt ? <p data-testid="publish-at">Scheduled for {new Date(video.publishAt).toLocaleString("en", { dateStyle: "medium", timeStyle: "short" })}</p> : null}
        <form onSubmit={(e) => void schedule(e)} className="flex flex-wrap items-end gap-3" key={video.publishAt ?? "none"}>
          <label className="block space-y-1 text-sm">
            <span className="block">Publish at (your local time)</span>
            <input name="publishAt" type="datetime-local" required defaultValue={localInput(video.publishAt)} className={`${inputClass} w-60`} />
          </label>
          <button type="submit" className={quietButtonClass}>Schedule</button>
          {video.publishAt ? <button type="button" className={quietButtonClass} onClick={() => void unschedule()}>Cancel schedule</button> : null}
        </form>
      </section>

      <section aria-labelledby="comment-policy-title" className={section}>
        <h2 id="comment-policy-title" className="text-xl font-semibold">Comments and reactions</h2>
        {feedback("comments")}
        <form onSubmit={(e) => void savePolicy(e)} className="flex flex-wrap items-end gap-3" key={`p-${video.commentPolicy}`}>
          <label className="block min-w-64 flex-1 space-y-1">
            <span>Comment policy</span>
            <select name="policy" defaultValue={video.commentPolicy} className={inputClass}>
              {Policies.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
            </select>
          </label>
          <button type="submit" className={quietButtonClass}>Apply comment policy</button>
        </form>
        <form onSubmit={(e) => void saveReactions(e)} className="flex flex-wrap items-center gap-4 text-sm" key={`r-${video.reactionsEnabled}-${video.dislikeCountHidden}`}>
          <label className="flex items-center gap-2"><input type="checkbox" name="reactionsEnabled" defaultChecked={video.reactionsEnabled} /> Likes and dislikes on</label>
          <label className="flex items-center gap-2"><input type="checkbox" name="dislikeCountHidden" defaultChecked={video.dislikeCountHidden} /> Hide the dislike count</label>
          <button type="submit" className={quietButtonClass}>Apply reaction settings</button>
        </form>
      </section>

      <section aria-labelledby="captions-title" className={section}>
        <h2 id="captions-title" className="text-xl font-semibold">Captions</h2>
        {feedback("captions")}
        {video.captions.length === 0 ? <p className="text-sm text-neutral-400">No captions yet.</p> : (
          <ul className="divide-y divide-neutral-800 rounded border border-neutral-800 text-sm" aria-label="Caption tracks">
            {video.captions.map((c) => (
              <li key={c.language} className="flex flex-wrap items-center gap-3 p-2" data-testid="caption-track">
                <span className="font-medium">{c.label}</span>
                <span className="text-neutral-400">{c.language} · {c.source}</span>
                <a href={c.url} className="underline">WebVTT</a>
                <button type="button" className={`${quietButtonClass} ml-auto`} onClick={() => void deleteCaptions(c.language)} aria-label={`Delete captions ${c.label}`}>Delete</button>
              </li>
            ))}
          </ul>
        )}
        <form onSubmit={(e) => void uploadCaptions(e)} className="grid gap-3 sm:grid-cols-[8rem_1fr_1fr_auto] sm:items-end">
          <label className="block space-y-1 text-sm"><span className="block">Language</span><input name="language" required placeholder="en" maxLength={35} className={inputClass} /></label>
          <label className="block space-y-1 text-sm"><span className="block">Label (optional)</span><input name="label" placeholder="English" maxLength={100} className={inputClass} /></label>
          <label className="block space-y-1 text-sm"><span className="block">File (WebVTT or SubRip)</span><input name="file" type="file" accept=".vtt,.srt,text/vtt,application/x-subrip" required className="text-sm" /></label>
          <button type="submit" className={buttonClass}>Upload captions</button>
        </form>
      </section>
    </div>
  );
}
