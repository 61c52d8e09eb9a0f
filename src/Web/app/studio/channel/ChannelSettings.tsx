"use client";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useState } from "react";
import { api, problemText, rawBody, type Channel } from "@/api/client";
import { useProfile } from "@/components/useAuth";
import { ErrorText, Loading, buttonClass, inputClass, quietButtonClass } from "@/components/ui";
import { StreamKeys } from "./StreamKeys";
import { Subscribers } from "./Subscribers";

export const Policies = [
  ["enabled", "On: comments appear at once"],
  ["held", "Held: I approve each comment first"],
  ["disabled", "Off: no comments"],
] as const;

/** The owner's channel settings: avatar and banner pictures, default comment policy, subscribers, stream keys. */
export function ChannelSettings() {
  const id = useSearchParams().get("id") ?? "";
  const router = useRouter();
  const profile = useProfile();
  const [channel, setChannel] = useState<Channel | null>(null);
  const [error, setError] = useState("");
  const [saved, setSaved] = useState("");

  const load = useCallback(async () => {
    const { data, error } = await api.GET("/api/v1/channels/{id}", { params: { path: { id } } });
    if (!data) return setError(problemText(error, "Channel not found"));
    setChannel(data);
  }, [id]);
  useEffect(() => {
    if (profile === null) router.replace("/login");
    else if (profile) {
      if (!id) setError("No channel given");
      else void load();
    }
  }, [profile, id, load, router]);

  const upload = async (kind: "avatar" | "banner", file: File | undefined) => {
    if (!file) return;
    setError("");
    setSaved("");
    const params = { params: { path: { id } }, ...rawBody(file) };
    const { error, response } = kind === "avatar"
      ? await api.PUT("/api/v1/channels/{id}/avatar", params)
      : await api.PUT("/api/v1/channels/{id}/banner", params);
    if (!response.ok) return setError(problemText(error, `Could not upload the ${kind}`));
    setSaved(kind === "avatar" ? "Avatar saved" : "Banner saved");
    await load();
  };
  const remove = async (kind: "avatar" | "banner") => {
    setError("");
    const params = { params: { path: { id } } };
    const { error, response } = kind === "avatar" ? await api.DELETE("/api/v1/channels/{id}/avatar", params) : await api.DELETE("/api/v1/channels/{id}/banner", params);
    if (!response.ok) return setError(problemText(error, `Could not remove the ${kind}`));
    setSaved(kind === "avatar" ? "Avatar removed" : "Banner removed");
    await load();
  };
  const savePolicy = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setError("");
    setSaved("");
    const policy = String(new FormData(e.currentTarget).get("policy"));
    const { data, error } = await api.PUT("/api/v1/channels/{id}/comment-policy", { params: { path: { id } }, body: { policy } });
    if (!data) return setError(problemText(error, "Could not save the comment policy"));
    setChannel((c) => (c ? { ...c, commentPolicy: data.policy } : c));
    setSaved("Comment policy saved");
  };

  if (!channel) return error ? <ErrorText>{error}</ErrorText> : <Loading />;
  return (
    <div className="mx-auto max-w-3xl space-y-8">
      <header className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-semibold">Channel settings: {channel.name}</h1>
        <Link href={`/channel?id=${encodeURIComponent(channel.id)}`} className="ml-auto text-sm underline">View channel</Link>
        <Link href="/studio" className="text-sm underline">Back to Studio</Link>
      </header>
      <ErrorText>{error}</ErrorText>
      <p role="status" className="text-green-300">{saved}</p>

      <section aria-labelledby="pictures-title" className="space-y-4">
        <h2 id="pictures-title" className="text-xl font-semibold">Pictures</h2>
        <p className="text-sm text-neutral-400">PNG, JPEG or WebP. They are re-encoded on the server.</p>
        <div className="flex flex-wrap items-center gap-4">
          {channel.avatarUrl ? (
            // eslint-disable-next-line @next/next/no-img-element
            <img src={channel.avatarUrl} alt="Current avatar" className="h-20 w-20 rounded-full object-cover" />
          ) : <div className="flex h-20 w-20 items-center justify-center rounded-full bg-neutral-800 text-xs text-neutral-400">No avatar</div>}
          <label className="space-y-1 text-sm">
            <span className="block">Avatar</span>
            <input type="file" accept="image/png,image/jpeg,image/webp" onChange={(e) => void upload("avatar", e.target.files?.[0])} className="text-sm" />
          </label>
          {channel.avatarUrl ? <button type="button" className={quietButtonClass} onClick={() => void remove("avatar")}>Remove avatar</button> : null}
        </div>
        <div className="space-y-2">
          {channel.bannerUrl ? (
            // eslint-disable-next-line @next/next/no-img-element
            <img src={channel.bannerUrl} alt="Current banner" className="aspect-[6/1] w-full rounded object-cover" />
          ) : <div className="flex aspect-[6/1] w-full items-center justify-center rounded bg-neutral-800 text-sm text-neutral-400">No banner</div>}
          <div className="flex flex-wrap items-center gap-4">
            <label className="space-y-1 text-sm">
              <span className="block">Banner</span>
              <input type="file" accept="image/png,image/jpeg,image/webp" onChange={(e) => void upload("banner", e.target.files?.[0])} className="text-sm" />
            </label>
            {channel.bannerUrl ? <button type="button" className={quietButtonClass} onClick={() => void remove("banner")}>Remove banner</button> : null}
          </div>
        </div>
      </section>

      <section aria-labelledby="policy-title" className="space-y-3">
        <h2 id="policy-title" className="text-xl font-semibold">Comments</h2>
        <form onSubmit={(e) => void savePolicy(e)} className="flex flex-wrap items-end gap-3">
          <label className="block min-w-64 flex-1 space-y-1">
            <span>Default comment policy for new videos</span>
            <select name="policy" defaultValue={channel.commentPolicy ?? "enabled"} key={channel.commentPolicy} className={inputClass}>
              {Policies.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
            </select>
          </label>
          <button type="submit" className={buttonClass}>Save policy</button>
        </form>
        <p className="text-sm text-neutral-400">Existing videos keep their own policy (set it on each video&apos;s edit page).</p>
      </section>

      <StreamKeys channelId={channel.id} />
      <Subscribers channelId={channel.id} />
    </div>
  );
}
