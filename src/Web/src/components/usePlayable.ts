"use client";
import { useEffect, useState } from "react";
import { api, problemText, type Channel, type Video } from "@/api/client";

const NeedsToken = new Set(["private", "premium"]);

/** A video, its channel and the URL to play: the public path, or a tokenised one for private and premium videos. */
export function usePlayable(id: string, live: boolean, attempt = 0) {
  const [video, setVideo] = useState<Video | null>(null);
  const [channel, setChannel] = useState<Channel | null>(null);
  const [src, setSrc] = useState<string | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    if (!id) return setError("No video given");
    setError("");
    void (async () => {
      const { data, error } = await api.GET("/api/v1/videos/{id}", { params: { path: { id } } });
      if (!data) return setError(problemText(error, "Video not found"));
      setVideo(data);
      document.title = `${data.title} · StreamVerse`;
      void api.GET("/api/v1/channels/{id}", { params: { path: { id: data.channelId } } }).then((c) => setChannel(c.data ?? null));
      if (NeedsToken.has(data.visibility)) {
        const t = await api.POST("/api/v1/videos/{id}/playback-token", { params: { path: { id } } });
        if (!t.data) return setError(problemText(t.error, "This video is private"));
        setSrc(live ? t.data.hlsUrl : t.data.vodHlsUrl);
      } else {
        setSrc(data.playbackPath);
      }
    })();
  }, [id, live, attempt]);
  return { video, channel, src, error };
}
