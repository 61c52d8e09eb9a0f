"use client";
import Link from "next/link";
import { useEffect, useState } from "react";
import { api } from "@/api/client";
import { on, onReconnected, socket } from "./realtime";

/** Tells the bell to count again (the notifications page marked some read). */
export const NotificationsChanged = "streamverse:notifications-changed";

/**
 * The header's bell: the unread count from GET /me/notifications/unread-count, plus one for every
 * notification.created the socket brings; counted again after a reconnection (the list is the truth) and when the
 * notifications page marks some read.
 */
export function NotificationBell() {
  const [unread, setUnread] = useState(0);
  useEffect(() => {
    let live = true;
    const load = async () => {
      const { data } = await api.GET("/api/v1/me/notifications/unread-count");
      if (live && data) setUnread(Number(data.unread));
    };
    void load();
    const off = on("notification.created", () => setUnread((n) => n + 1));
    const offReconnected = onReconnected(() => void load());
    const reload = () => void load();
    window.addEventListener(NotificationsChanged, reload);
    void socket().then(() => load()).catch(() => undefined);
    return () => {
      live = false;
      off();
      offReconnected();
      window.removeEventListener(NotificationsChanged, reload);
    };
  }, []);
  const label = unread === 0 ? "Notifications" : `Notifications, ${unread} unread`;
  return (
    <Link href="/notifications" aria-label={label} title={label} className="relative rounded px-2 py-1 hover:bg-neutral-800">
      <svg aria-hidden="true" viewBox="0 0 24 24" className="inline h-5 w-5 fill-current">
        <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5-6.71V3.5a2 2 0 0 0-4 0v.79A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z" />
      </svg>
      {unread > 0 ? (
        <span data-testid="unread-count" className="absolute -right-1 -top-1 min-w-5 rounded-full bg-fuchsia-600 px-1 text-center text-xs font-bold text-white">
          {unread > 99 ? "99+" : unread}
        </span>
      ) : null}
    </Link>
  );
}
