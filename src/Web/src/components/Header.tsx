"use client";
import Link from "next/link";
import { NotificationBell } from "./NotificationBell";
import { useProfile } from "./useAuth";

export function Header() {
  const profile = useProfile();
  return (
    <header className="sticky top-0 z-40 border-b border-neutral-800 bg-neutral-950/95">
      <nav aria-label="Main" className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-4 gap-y-2 px-3 py-3 sm:px-6">
        <Link href="/" className="text-lg font-bold text-fuchsia-400">StreamVerse</Link>
        <div className="ml-auto flex flex-wrap items-center gap-3 text-sm">
          {profile ? (
            <>
              <NotificationBell />
              <Link href="/subscriptions" className="rounded px-2 py-1 hover:bg-neutral-800">Subscriptions</Link>
              <Link href="/studio" className="rounded px-2 py-1 hover:bg-neutral-800">Studio</Link>
              <Link href="/account" className="rounded px-2 py-1 hover:bg-neutral-800">
                <span className="sr-only">Account of </span>{profile.displayName}
              </Link>
            </>
          ) : profile === null ? (
            <>
              <Link href="/login" className="rounded px-2 py-1 hover:bg-neutral-800">Log in</Link>
              <Link href="/register" className="rounded bg-fuchsia-700 px-3 py-1 font-medium text-white hover:bg-fuchsia-600">Register</Link>
            </>
          ) : null}
        </div>
      </nav>
    </header>
  );
}
