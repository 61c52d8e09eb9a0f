"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { api, problemText, type Schemas } from "@/api/client";
import { useProfile } from "@/components/useAuth";
import { ErrorText, Loading, quietButtonClass } from "@/components/ui";

type Setting = Schemas["NotificationSetting"];
type Channel = "inApp" | "push" | "email";
const Channels: [Channel, string][] = [["inApp", "In the app"], ["push", "Push"], ["email", "E-mail"]];

function fromBase64Url(s: string): Uint8Array<ArrayBuffer> {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4));
  const out = new Uint8Array(new ArrayBuffer(b.length));
  for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
  return out;
}

/** Per-kind in-app, push and e-mail switches (GET/PUT /me/notification-settings), and this browser's Web Push opt-in. */
export function NotificationSettings() {
  const router = useRouter();
  const profile = useProfile();
  const [settings, setSettings] = useState<Setting[] | null>(null);
  const [error, setError] = useState("");
  const [push, setPush] = useState<"unsupported" | "off" | "on" | "denied" | null>(null);

  useEffect(() => {
    if (profile === null) router.replace("/login");
    if (!profile) return;
    void api.GET("/api/v1/me/notification-settings").then(({ data, error }) => (data ? setSettings(data.settings) : setError(problemText(error))));
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) return setPush("unsupported");
    if (Notification.permission === "denied") return setPush("denied");
    void navigator.serviceWorker.getRegistration("/").then(async (r) => setPush((await r?.pushManager.getSubscription()) ? "on" : "off"));
  }, [profile, router]);

  const toggle = async (kind: string, channel: Channel, value: boolean) => {
    setError("");
    const { data, error } = await api.PUT("/api/v1/me/notification-settings", {
      body: { settings: [{ kind, inApp: channel === "inApp" ? value : null, push: channel === "push" ? value : null, email: channel === "email" ? value : null }] },
    });
    if (!data) return setError(problemText(error, "Could not save the setting"));
    setSettings(data.settings);
  };

  const enablePush = async () => {
    setError("");
    try {
      const key = await api.GET("/api/v1/push/vapid-public-key");
      if (!key.data) return setError(problemText(key.error, "Push is not available"));
      const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
      await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromBase64Url(key.data.publicKey) });
      const json = subscription.toJSON();
      const { error } = await api.POST("/api/v1/me/push-subscriptions", {
        body: { endpoint: json.endpoint ?? null, expirationTime: json.expirationTime ?? null, keys: { p256dh: json.keys?.p256dh ?? null, auth: json.keys?.auth ?? null } },
      });
      if (error) return setError(problemText(error, "Could not register this browser"));
      setPush("on");
    } catch (e) {
      setPush(Notification.permission === "denied" ? "denied" : "off");
      setError(e instanceof Error ? e.message : "Push could not be turned on");
    }
  };
  const disablePush = async () => {
    const registration = await navigator.serviceWorker.getRegistration("/");
    const subscription = await registration?.pushManager.getSubscription();
    if (subscription) {
      await api.DELETE("/api/v1/me/push-subscriptions", { params: { query: { endpoint: subscription.endpoint } } });
      await subscription.unsubscribe();
    }
    setPush("off");
  };

  if (!profile || settings === null) return error ? <ErrorText>{error}</ErrorText> : <Loading />;
  return (
    <div className="mx-auto max-w-3xl space-y-6">
      <header className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-semibold">Notification settings</h1>
        <Link href="/notifications" className={`${quietButtonClass} ml-auto`}>Back to notifications</Link>
      </header>
      <ErrorText>{error}</ErrorText>
      <section aria-labelledby="push-title" className="space-y-2 rounded border border-neutral-800 p-3">
        <h2 id="push-title" className="font-semibold">Push notifications in this browser</h2>
        {push === "unsupported" ? <p className="text-neutral-400">This browser does not support Web Push.</p>
          : push === "denied" ? <p className="text-neutral-400">Notifications are blocked for this site in the browser&apos;s settings.</p>
          : push === "on" ? <button type="button" onClick={() => void disablePush()} className={quietButtonClass}>Turn off push in this browser</button>
          : push === "off" ? <button type="button" onClick={() => void enablePush()} className={quietButtonClass}>Turn on push in this browser</button>
          : null}
      </section>
      <table className="w-full text-sm">
        <caption className="sr-only">What you are told about, and how</caption>
        <thead>
          <tr className="text-left text-neutral-400">
            <th scope="col" className="py-2">Kind</th>
            {Channels.map(([c, label]) => <th key={c} scope="col" className="py-2">{label}</th>)}
          </tr>
        </thead>
        <tbody className="divide-y divide-neutral-800">
          {settings.map((s) => (
            <tr key={s.kind}>
              <th scope="row" className="py-2 text-left font-normal">{s.kind}</th>
              {Channels.map(([c, label]) => (
                <td key={c} className="py-2">
                  <input type="checkbox" checked={s[c]} aria-label={`${label}: ${s.kind}`} onChange={(e) => void toggle(s.kind, c, e.target.checked)} className="h-4 w-4" />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
