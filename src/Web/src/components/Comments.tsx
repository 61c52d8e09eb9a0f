"use client";
import Link from "next/link";
import { useCallback, useEffect, useState } from "react";
import { api, count, problemText, type Comment, type Video } from "@/api/client";
import type { Profile } from "./useAuth";
import { ErrorText, buttonClass, inputClass, quietButtonClass } from "./ui";

const Sorts = [["top", "Top"], ["newest", "Newest"]] as const;
const small = "rounded px-2 py-0.5 text-xs hover:bg-neutral-800 disabled:opacity-50";

interface Ctx {
  video: Video;
  profile: Profile | null | undefined;
  /** The video's owner or an admin: sees held comments, approves, rejects, pins, deletes any. */
  manages: boolean;
  /** The owner alone gives hearts. */
  owns: boolean;
  reload: () => void;
}

/**
 * The video's comments: threads (pinned first, then top or newest, keyset "Show more"), one reply level shown as the
 * thread's replies with "replying to @x", edit and soft delete for the author, upvotes, and for the creator held
 * comments with approve/reject, pin and heart. Every text is rendered as text (React escapes it), never as HTML.
 */
export function Comments({ video, profile }: { video: Video; profile: Profile | null | undefined }) {
  const manages = !!profile && (profile.id === video.ownerId || profile.role === "admin");
  const owns = !!profile && profile.id === video.ownerId;
  const [sort, setSort] = useState<string>("top");
  const [threads, setThreads] = useState<Comment[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);

  useEffect(() => {
    if (profile === undefined) return; // wait for the session: a manager's list differs
    void api.GET("/api/v1/videos/{id}/comments", { params: { path: { id: video.id }, query: { sort, limit: 20 } } }).then(({ data, error }) => {
      if (!data) return setError(problemText(error, "Could not load comments"));
      setThreads(data.items);
      setCursor(data.nextCursor ?? null);
    });
  }, [video.id, sort, profile, generation]);

  const more = async () => {
    if (!cursor) return;
    const { data, error } = await api.GET("/api/v1/videos/{id}/comments", { params: { path: { id: video.id }, query: { sort, limit: 20, cursor } } });
    if (!data) return setError(problemText(error, "Could not load more comments"));
    setThreads((t) => [...(t ?? []), ...data.items]);
    setCursor(data.nextCursor ?? null);
  };

  const disabled = video.commentPolicy === "disabled";
  const ctx: Ctx = { video, profile, manages, owns, reload };
  return (
    <section aria-labelledby="comments-title" className="space-y-4" data-testid="comments">
      <div className="flex flex-wrap items-center gap-3">
        <h2 id="comments-title" className="text-lg font-semibold">
          Comments{video.commentCount != null && !disabled ? <span className="ml-2 text-neutral-400">{count(video.commentCount)}</span> : null}
        </h2>
        {!disabled || manages ? (
          <label className="ml-auto flex items-center gap-2 text-sm">
            Sort by
            <select value={sort} onChange={(e) => setSort(e.target.value)} className="rounded bg-neutral-800 px-2 py-1">
              {Sorts.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
            </select>
          </label>
        ) : null}
      </div>
      {disabled ? <p className="text-neutral-400">Comments are turned off for this video.</p> : null}
      {video.commentPolicy === "held" && !manages ? <p className="text-sm text-neutral-400">The creator reviews comments before they appear.</p> : null}
      <ErrorText>{error}</ErrorText>
      {!disabled ? (
        profile ? (
          <Composer label="Add a comment" submit="Comment" onPosted={(c) => {
            setNotice(c.status === "held" ? "Your comment is held for review by the creator." : "");
            reload();
          }} videoId={video.id} />
        ) : profile === null ? <p className="text-sm"><Link href="/login" className="underline">Log in</Link> to comment.</p> : null
      ) : null}
      {notice ? <p role="status" className="text-sm text-amber-200">{notice}</p> : null}
      {(!disabled || manages) && threads ? (
        threads.length === 0 ? <p className="text-neutral-400">No comments yet.</p> : (
          <ul className="space-y-5" aria-label="Comment threads">
            {threads.map((c) => <Thread key={c.id} comment={c} ctx={ctx} />)}
          </ul>
        )
      ) : null}
      {cursor ? <button type="button" className={quietButtonClass} onClick={() => void more()}>Show more comments</button> : null}
    </section>
  );
}

function Composer({ videoId, parentId, label, submit, onPosted, onCancel }: {
  videoId: string; parentId?: string; label: string; submit: string; onPosted: (c: Comment) => void; onCancel?: () => void;
}) {
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const post = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    const { data, error } = await api.POST("/api/v1/videos/{id}/comments", { params: { path: { id: videoId } }, body: { text, parentId: parentId ?? null } });
    setBusy(false);
    if (!data) return setError(problemText(error, "Could not post the comment"));
    setText("");
    onPosted(data);
  };
  return (
    <form onSubmit={(e) => void post(e)} className="space-y-2">
      <label className="block space-y-1 text-sm">
        <span className="sr-only">{label}</span>
        <textarea value={text} onChange={(e) => setText(e.target.value)} rows={2} required maxLength={10000} placeholder={label} aria-label={label} className={inputClass} />
      </label>
      <ErrorText>{error}</ErrorText>
      <div className="flex gap-2">
        <button type="submit" disabled={busy || !text.trim()} className={buttonClass}>{submit}</button>
        {onCancel ? <button type="button" onClick={onCancel} className={quietButtonClass}>Cancel</button> : null}
      </div>
    </form>
  );
}

function Thread({ comment, ctx }: { comment: Comment; ctx: Ctx }) {
  const [replies, setReplies] = useState<Comment[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState("");
  const load = useCallback(async (after?: string) => {
    const { data, error } = await api.GET("/api/v1/videos/{id}/comments/{commentId}/replies", {
      params: { path: { id: ctx.video.id, commentId: comment.id }, query: { limit: 20, cursor: after } },
    });
    if (!data) return setError(problemText(error, "Could not load replies"));
    setReplies((r) => (after ? [...(r ?? []), ...data.items] : data.items));
    setCursor(data.nextCursor ?? null);
  }, [ctx.video.id, comment.id]);

  const replyCount = Number(comment.replyCount);
  return (
    <li>
      <Item comment={comment} ctx={ctx} onReplied={() => void load()} />
      <div className="ml-10 mt-2 space-y-3">
        {replies === null && replyCount > 0 ? (
          <button type="button" onClick={() => void load()} className="text-sm font-medium text-fuchsia-300 hover:underline">
            {replyCount === 1 ? "Show 1 reply" : `Show ${count(replyCount)} replies`}
          </button>
        ) : null}
        <ErrorText>{error}</ErrorText>
        {replies && replies.length > 0 ? (
          <ul className="space-y-3" aria-label={`Replies to ${comment.author?.displayName ?? "a deleted comment"}`}>
            {replies.map((r) => <li key={r.id}><Item comment={r} ctx={ctx} onReplied={() => void load()} /></li>)}
          </ul>
        ) : null}
        {cursor ? <button type="button" onClick={() => void load(cursor)} className={quietButtonClass}>Show more replies</button> : null}
      </div>
    </li>
  );
}

function Item({ comment: initial, ctx, onReplied }: { comment: Comment; ctx: Ctx; onReplied: () => void }) {
  const [c, setC] = useState(initial);
  const [editing, setEditing] = useState(false);
  const [replying, setReplying] = useState(false);
  const [draft, setDraft] = useState(initial.text ?? "");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => setC(initial), [initial]);

  const path = { params: { path: { id: ctx.video.id, commentId: c.id } } };
  const mine = !!ctx.profile && c.author?.id === ctx.profile.id;
  const held = c.status === "held";

  /** Runs one action; on success applies the change locally or reloads the list (pins and approvals reorder it). */
  const act = async (run: () => Promise<{ error?: unknown; response: Response }>, after: () => void, what: string) => {
    setBusy(true);
    setError("");
    const { error, response } = await run();
    setBusy(false);
    if (!response.ok) return setError(problemText(error, `Could not ${what}`));
    after();
  };
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    const { data, error } = await api.PATCH("/api/v1/videos/{id}/comments/{commentId}", { ...path, body: { text: draft } });
    setBusy(false);
    if (!data) return setError(problemText(error, "Could not save the comment"));
    setC(data);
    setEditing(false);
  };

  const name = c.author ? c.author.displayName : "[deleted]";
  return (
    <article aria-label={`Comment by ${name}`} data-testid="comment" data-comment-id={c.id} data-status={c.status}
      className={`rounded-lg p-3 ${held ? "border border-amber-700 bg-amber-950/30" : "bg-neutral-900"}`}>
      <header className="flex flex-wrap items-baseline gap-x-2 gap-y-1 text-sm">
        {c.pinned ? <span className="rounded bg-neutral-800 px-1.5 text-xs">Pinned by the creator</span> : null}
        {c.author ? <span className="font-medium">{c.author.displayName} <span className="text-neutral-400">@{c.author.handle}</span></span> : null}
        {c.replyingTo ? <span className="text-neutral-400">replying to @{c.replyingTo}</span> : null}
        <time dateTime={c.createdAt} className="text-neutral-400">{new Date(c.createdAt).toLocaleString("en", { dateStyle: "medium", timeStyle: "short" })}</time>
        {c.edited && !c.deleted ? <span className="text-neutral-400">(edited)</span> : null}
        {held ? <span className="rounded bg-amber-800 px-1.5 text-xs text-amber-50">Held for review</span> : null}
      </header>
      {editing ? (
        <form onSubmit={(e) => void save(e)} className="mt-2 space-y-2">
          <textarea value={draft} onChange={(e) => setDraft(e.target.value)} rows={3} required aria-label="Edit your comment" className={inputClass} />
          <div className="flex gap-2">
            <button type="submit" disabled={busy} className={buttonClass}>Save</button>
            <button type="button" onClick={() => setEditing(false)} className={quietButtonClass}>Cancel</button>
          </div>
        </form>
      ) : (
        <p className={`mt-1 whitespace-pre-line break-words ${c.deleted ? "italic text-neutral-400" : "text-neutral-100"}`} data-testid="comment-text">
          {c.deleted ? "[deleted]" : c.text}
        </p>
      )}
      {!c.deleted ? (
        <div className="mt-2 flex flex-wrap items-center gap-1 text-neutral-300">
          {!held ? (
            ctx.profile ? (
              <button type="button" className={small} disabled={busy} aria-pressed={c.voted} aria-label={`Upvote (${Number(c.upvotes)})`}
                onClick={() => void act(() => (c.voted ? api.DELETE : api.PUT)("/api/v1/videos/{id}/comments/{commentId}/vote", path),
                  () => setC({ ...c, voted: !c.voted, upvotes: Number(c.upvotes) + (c.voted ? -1 : 1) }), "vote")}>
                ▲ <span className="tabular-nums">{count(c.upvotes)}</span>
              </button>
            ) : <span className="px-2 text-xs tabular-nums" aria-label={`${Number(c.upvotes)} upvotes`}>▲ {count(c.upvotes)}</span>
          ) : null}
          {c.hearted ? <span className="px-1 text-xs text-red-400" title="Hearted by the creator">♥<span className="sr-only">Hearted by the creator</span></span> : null}
          {ctx.profile && !held && ctx.video.commentPolicy !== "disabled" ? <button type="button" className={small} onClick={() => setReplying((r) => !r)}>Reply</button> : null}
          {mine ? <button type="button" className={small} onClick={() => { setDraft(c.text ?? ""); setEditing(true); }}>Edit</button> : null}
          {mine || ctx.manages ? (
            <button type="button" className={small} disabled={busy}
              onClick={() => void act(() => api.DELETE("/api/v1/videos/{id}/comments/{commentId}", path), ctx.reload, "delete")}>Delete</button>
          ) : null}
          {ctx.owns && !held ? (
            <button type="button" className={small} disabled={busy} aria-pressed={c.hearted}
              onClick={() => void act(() => (c.hearted ? api.DELETE : api.PUT)("/api/v1/videos/{id}/comments/{commentId}/heart", path),
                () => setC({ ...c, hearted: !c.hearted }), "heart")}>{c.hearted ? "Remove heart" : "Heart"}</button>
          ) : null}
          {ctx.manages && !held && c.parentId === null ? (
            <button type="button" className={small} disabled={busy}
              onClick={() => void act(() => (c.pinned ? api.DELETE : api.PUT)("/api/v1/videos/{id}/comments/{commentId}/pin", path), ctx.reload, "pin")}>{c.pinned ? "Unpin" : "Pin"}</button>
          ) : null}
          {ctx.manages && held ? (
            <>
              <button type="button" className={small} disabled={busy}
                onClick={() => void act(() => api.POST("/api/v1/videos/{id}/comments/{commentId}/approve", path), ctx.reload, "approve")}>Approve</button>
              <button type="button" className={small} disabled={busy}
                onClick={() => void act(() => api.POST("/api/v1/videos/{id}/comments/{commentId}/reject", path), ctx.reload, "reject")}>Reject</button>
            </>
          ) : null}
        </div>
      ) : null}
      <ErrorText>{error}</ErrorText>
      {replying ? (
        <div className="mt-2">
          <Composer videoId={ctx.video.id} parentId={c.id} label={`Reply to ${name}`} submit="Post reply" onCancel={() => setReplying(false)}
            onPosted={() => { setReplying(false); onReplied(); }} />
        </div>
      ) : null}
    </article>
  );
}
