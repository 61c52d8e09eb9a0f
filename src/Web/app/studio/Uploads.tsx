"use client";
import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import * as tus from "tus-js-client";
import { api, problemText, token, type Video } from "@/api/client";
import { inputClass, quietButtonClass } from "@/components/ui";

interface Item {
  key: string;
  file: File;
  videoId?: string;
  sent: number;
  state: "creating" | "uploading" | "paused" | "processing" | "playable" | "failed";
  progress?: number | null;
  error?: string;
}

const Visibilities = ["public", "unlisted", "private"] as const;

/** Several files at once: each becomes a video, is sent with tus (pause/resume), then followed until it plays. */
export function Uploads({ channelId, onChange }: { channelId: string; onChange: () => void }) {
  const [items, setItems] = useState<Item[]>([]);
  const [visibility, setVisibility] = useState<(typeof Visibilities)[number]>("public");
  const [dragging, setDragging] = useState(false);
  const uploads = useRef(new Map<string, tus.Upload>());
  const patch = (key: string, change: Partial<Item>) => setItems((list) => list.map((i) => (i.key === key ? { ...i, ...change } : i)));

  // Processing progress until the video plays (the fast-start preview counts: playbackPath turns to /vod/).
  const processing = items.filter((i) => i.state === "processing").map((i) => `${i.key}=${i.videoId}`).join(",");
  useEffect(() => {
    if (!processing) return;
    const timer = window.setInterval(() => {
      for (const pair of processing.split(",")) {
        const [key, id] = pair.split("=");
        void api.GET("/api/v1/videos/{id}", { params: { path: { id } } }).then(({ data }) => {
          if (!data) return;
          if (data.status === "failed") patch(key, { state: "failed", error: data.failureReason ?? "processing failed" });
          else if (isPlayable(data)) {
            patch(key, { state: "playable", progress: 100 });
            onChange();
          } else patch(key, { progress: data.processingProgress });
        });
      }
    }, 1500);
    return () => window.clearInterval(timer);
  }, [processing, onChange]);

  const start = async (file: File) => {
    const key = `${file.name}-${file.size}-${Math.random().toString(36).slice(2)}`;
    setItems((list) => [...list, { key, file, sent: 0, state: "creating" }]);
    const title = file.name.replace(/\.[^.]+$/, "").slice(0, 100) || "Untitled";
    const { data, error } = await api.POST("/api/v1/videos", { body: { channelId, title, visibility } });
    if (!data) return patch(key, { state: "failed", error: problemText(error, "Could not create the video") });
    patch(key, { videoId: data.id, state: "uploading" });
    onChange();
    const upload = new tus.Upload(file, {
      endpoint: "/api/v1/uploads",
      metadata: { videoId: data.id, filename: file.name },
      chunkSize: 8 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000],
      storeFingerprintForResuming: false,
      onBeforeRequest: async (req) => {
        const t = await token();
        if (t) req.setHeader("Authorization", `Bearer ${t}`);
      },
      onProgress: (sent) => patch(key, { sent }),
      onSuccess: () => patch(key, { state: "processing", sent: file.size }),
      onError: (e) => patch(key, { state: "failed", error: e.message }),
    });
    uploads.current.set(key, upload);
    upload.start();
  };

  const addFiles = (files: FileList | null) => {
    for (const f of Array.from(files ?? [])) void start(f);
  };
  const pause = (i: Item) => {
    void uploads.current.get(i.key)?.abort();
    patch(i.key, { state: "paused" });
  };
  const resume = (i: Item) => {
    uploads.current.get(i.key)?.start();
    patch(i.key, { state: "uploading" });
  };

  return (
    <section aria-labelledby="upload-title" className="space-y-3">
      <h2 id="upload-title" className="text-xl font-semibold">Upload videos</h2>
      <div
        onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => { e.preventDefault(); setDragging(false); addFiles(e.dataTransfer.files); }}
        className={`flex flex-col gap-3 rounded-lg border-2 border-dashed p-6 sm:flex-row sm:items-end ${dragging ? "border-fuchsia-500 bg-fuchsia-950/30" : "border-neutral-700"}`}
      >
        <label className="block flex-1 space-y-1">
          <span>Video files (or drop them here)</span>
          <input type="file" accept="video/*,audio/*" multiple onChange={(e) => { addFiles(e.target.files); e.target.value = ""; }} className={inputClass} />
        </label>
        <label className="block space-y-1">
          <span>Visibility</span>
          <select value={visibility} onChange={(e) => setVisibility(e.target.value as typeof visibility)} className={inputClass}>
            {Visibilities.map((v) => <option key={v} value={v}>{v}</option>)}
          </select>
        </label>
      </div>
      {items.length > 0 ? (
        <ul aria-label="Uploads" className="space-y-2">
          {items.map((i) => {
            const percent = i.state === "processing" || i.state === "playable" ? Math.round(i.progress ?? 0) : Math.round((i.sent / Math.max(1, i.file.size)) * 100);
            return (
              <li key={i.key} data-testid="upload" data-state={i.state} className="rounded border border-neutral-800 p-3 text-sm">
                <div className="flex flex-wrap items-center gap-2">
                  <span className="min-w-0 flex-1 truncate font-medium">{i.file.name}</span>
                  <span role="status">{label(i)}</span>
                  {i.state === "uploading" ? <button type="button" className={quietButtonClass} onClick={() => pause(i)} aria-label={`Pause ${i.file.name}`}>Pause</button> : null}
                  {i.state === "paused" ? <button type="button" className={quietButtonClass} onClick={() => resume(i)} aria-label={`Resume ${i.file.name}`}>Resume</button> : null}
                  {i.state === "playable" && i.videoId ? <Link className="underline" href={`/watch?v=${encodeURIComponent(i.videoId)}`}>Watch</Link> : null}
                </div>
                <progress max={100} value={percent} aria-label={`${i.file.name}: ${label(i)}`} className="mt-2 h-2 w-full accent-fuchsia-500" />
                {i.error ? <p role="alert" className="text-red-300">{i.error}</p> : null}
              </li>
            );
          })}
        </ul>
      ) : null}
    </section>
  );
}

function isPlayable(v: Video): boolean {
  return v.status === "ready" || v.playbackPath.startsWith("/vod/");
}

function label(i: Item): string {
  switch (i.state) {
    case "creating": return "Preparing";
    case "uploading": return `Uploading ${Math.round((i.sent / Math.max(1, i.file.size)) * 100)} %`;
    case "paused": return `Paused at ${Math.round((i.sent / Math.max(1, i.file.size)) * 100)} %`;
    case "processing": return `Processing ${Math.round(i.progress ?? 0)} %`;
    case "playable": return "Playable";
    case "failed": return "Failed";
  }
}
