import type { Metadata, Viewport } from "next";
import { Chrome } from "@/components/Chrome";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "StreamVerse", template: "%s · StreamVerse" },
  description: "Watch, stream and upload video",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1, themeColor: "#0a0a0a" };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen">
        <Chrome>{children}</Chrome>
      </body>
    </html>
  );
}
