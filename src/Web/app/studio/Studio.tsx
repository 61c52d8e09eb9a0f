"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useState } from "react";
import { api, problemText, type Channel, type Video } from "@/api/client";
import { useProfile } from "@/components/useAuth";
import { ErrorText, Loading, buttonClass, inputClass } from "@/components/ui";
import { Uploads } from "./Uploads";

export function Studio() {
  const router = useRouter();
  const profile = useProfile();
  const [channels, setChannels] = useState<Channel[] | null>(null);
  const [channelId, setChannelId] = useState("");
  const [videos, setVideos] = useState<Video[] | null>(null);
  const [error, setError] = useState("");

  useEffect(() => {
    if (profile === null) router.replace("/login");
    if (!profile) return;
    void api.GET("/api/v1/channels", { params: { query: { owner: profile.id, limit: 100 } } }).then(({ data, error }) => {
      if (!data) return setError(problemText(error, "Could not load your channels"));
      setChannels(data.items);
      if (data.items.length > 0) setChannelId((c) => c || data.items[0].id);
    });
  }, [profile, router]);

  const loadVideos = useCallback(async () => {
    if (!channelId) return;
    const { data, error } = await api.GET("/api/v1/videos", { params: { query: { channel: channelId, limit: 100 } } });
    if (!data) return setError(problemText(error, "Could not load your videos"));
    setVideos(data.items);
  }, [channelId]);
  useEffect(() => void loadVideos(), [loadVideos]);

  const createChannel = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const { data, error } = await api.POST("/api/v1/channels", { body: { name: String(f.get("name")), description: String(f.get("description")) } });
    if (!data) return setError(problemText(error, "Could not create the channel"));
    setChannels((c) => [data, ...(c ?? [])]);
    setChannelId(data.id);
  };

  if (!profile || channels === null) return error ? <ErrorText>{error}</ErrorText> : <Loading />;
  if (profile.role !== "creator" && profile.role !== "admin") {
    return (
      <div className="mx-auto max-w-xl space-y-2">
        <h1 className="text-2xl font-semibold">Studio</h1>
        <p>Your account cannot publish videos yet: an administrator gives accounts the creator role.</p>
      </div>
    );
  }
  return (
    <div className="space-y-8">
      <header className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-semibold">Studio</h1>
        {channels.length > 1 ? (
          <label className="ml-auto flex items-center gap-2 text-sm">
            Channel
            <select value={channelId} onChange={(e) => setChannelId(e.target.value)} className="rounded bg-neutral-800 px-2 py-1">
              {channels.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select>
          </label>
        ) : channels.length === 1 ? <Link className="ml-auto text-sm underline" href={`/channel?id=${encodeURIComponent(channels[0].id)}`}>View channel {channels[0].name}</Link> : null}
        {channelId ? <Link className="text-sm underline" href={`/studio/channel?id=${encodeURIComponent(channelId)}`}>Channel settings</Link> : null}
      </header>
      <ErrorText>{error}</ErrorText>
      {channels.length === 0 ? (
        <form onSubmit={(e) => void createChannel(e)} className="max-w-md space-y-3" aria-labelledby="new-channel">
          <h2 id="new-channel" className="text-xl font-semibold">Create your channel</h2>
          <label className="block space-y-1"><span>Name</span><input name="name" required maxLength={100} className={inputClass} /></label>
          <label className="block space-y-1"><span>Description</span><textarea name="description" maxLength={5000} className={inputClass} /></label>
          <button type="submit" className={buttonClass}>Create channel</button>
        </form>
      ) : (
        <>
          <Uploads channelId={channelId} onChange={() => void loadVideos()} />
          <section aria-labelledby="my-videos" className="space-y-3">
            <h2 id="my-videos" className="text-xl font-semibold">My videos</h2>
            {videos === null ? <Loading /> : videos.length === 0 ? <p className="text-neutral-400">No videos yet: upload one above.</p> : (
              <div className="overflow-x-auto">
                <table className="w-full text-left text-sm">
                  <thead className="text-neutral-400">
                    <tr><th scope="col" className="p-2">Title</th><th scope="col" className="p-2">Status</th><th scope="col" className="p-2">Visibility</th><th scope="col" className="p-2">Views</th><th scope="col" className="p-2"><span className="sr-only">Actions</span></th></tr>
                  </thead>
                  <tbody className="divide-y divide-neutral-800">
                    {videos.map((v) => (
                      <tr key={v.id}>
                        <td className="p-2"><Link href={`/watch?v=${encodeURIComponent(v.id)}`} className="hover:underline">{v.title}</Link></td>
                        <td className="p-2">{v.status}{v.status === "processing" && v.processingProgress != null ? ` ${Math.round(v.processingProgress)} %` : ""}</td>
                        <td className="p-2">{v.visibility}</td>
                        <td className="p-2 tabular-nums">{v.viewCount}</td>
                        <td className="p-2"><Link href={`/studio/edit?v=${encodeURIComponent(v.id)}`} className="underline" aria-label={`Edit ${v.title}`}>Edit</Link></td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}
    </div>
  );
}
