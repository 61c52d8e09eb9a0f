"use client";
import { usePathname } from "next/navigation";
import { Header } from "./Header";

/**
 * The site's frame (skip link, header, centred main) around every page but the embed (/embed/{id}), which other
 * sites frame and which shows the player alone.
 */
export function Chrome({ children }: { children: React.ReactNode }) {
  const path = usePathname() ?? "/";
  if (path === "/embed" || path.startsWith("/embed/")) {
    return <main id="main" className="h-screen w-full bg-black">{children}</main>;
  }
  return (
    <>
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-neutral-800 focus:px-3 focus:py-2">
        Skip to content
      </a>
      <Header />
      <main id="main" className="mx-auto w-full max-w-7xl px-3 py-4 sm:px-6">
        {children}
      </main>
    </>
  );
}
