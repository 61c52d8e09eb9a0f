"use client";
import Link from "next/link";
import { useEffect, useState } from "react";
import { api, count, problemText, type Video } from "@/api/client";
import type { Profile } from "./useAuth";

type Reaction = "like" | "dislike";

const pressed = "border-fuchsia-500 bg-fuchsia-950 text-fuchsia-100";
const plain = "border-neutral-700 hover:bg-neutral-800";

/**
 * Like and dislike: the caller's own reaction (GET /reaction) and the counts the server gives. The dislike count is
 * null when the creator hides it (only the owner sees it then), so no number is shown; reactions turned off by the
 * creator leave a note instead of the buttons. Pressing the pressed button clears the reaction.
 */
export function Reactions({ video, profile }: { video: Video; profile: Profile | null | undefined }) {
  const [mine, setMine] = useState<Reaction | null>(null);
  const [likes, setLikes] = useState(video.likeCount);
  const [dislikes, setDislikes] = useState(video.dislikeCount);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!profile || !video.reactionsEnabled) return;
    void api.GET("/api/v1/videos/{id}/reaction", { params: { path: { id: video.id } } }).then(({ data }) => {
      if (!data) return;
      setMine((data.reaction as Reaction | null) ?? null);
      setLikes(data.likeCount);
      setDislikes(data.dislikeCount);
    });
  }, [profile, video.id, video.reactionsEnabled]);

  if (!video.reactionsEnabled) return <p className="text-sm text-neutral-400">The creator turned reactions off for this video.</p>;

  const react = async (r: Reaction) => {
    setBusy(true);
    setError("");
    const path = { params: { path: { id: video.id } } };
    if (mine === r) {
      const { error, response } = await api.DELETE("/api/v1/videos/{id}/reaction", path);
      setBusy(false);
      if (!response.ok) return setError(problemText(error, "Could not clear your reaction"));
      setMine(null);
      if (r === "like") setLikes((n) => (n == null ? n : Math.max(0, n - 1)));
      else setDislikes((n) => (n == null ? n : Math.max(0, n - 1)));
      return;
    }
    const { data, error } = await api.PUT("/api/v1/videos/{id}/reaction", { ...path, body: { reaction: r } });
    setBusy(false);
    if (!data) return setError(problemText(error, "Could not save your reaction"));
    setMine((data.reaction as Reaction | null) ?? null);
    setLikes(data.likeCount);
    setDislikes(data.dislikeCount);
  };

  const button = (r: Reaction, label: string, n: number | null) =>
    profile ? (
      <button type="button" disabled={busy} aria-pressed={mine === r} onClick={() => void react(r)}
        className={`rounded-full border px-3 py-1 text-sm ${mine === r ? pressed : plain}`}>
        {label}{n != null ? <span className="ml-1.5 tabular-nums" data-testid={`${r}-count`}>{count(n)}</span> : null}
      </button>
    ) : (
      <Link href="/login" className={`rounded-full border px-3 py-1 text-sm ${plain}`}>
        {label}{n != null ? <span className="ml-1.5 tabular-nums" data-testid={`${r}-count`}>{count(n)}</span> : null}
        <span className="sr-only"> (log in to react)</span>
      </Link>
    );

  return (
    <div role="group" aria-label="Reactions" className="flex flex-wrap items-center gap-2">
      {button("like", "Like", likes)}
      {button("dislike", "Dislike", dislikes)}
      {error ? <span role="alert" className="text-sm text-red-300">{error}</span> : null}
    </div>
  );
}
