import type { NextConfig } from "next";

// A static export: the daemon serves out/ at / (src/Origin/Web). No Node server in production, so no rewrites,
// headers or image optimisation here: routes with an id take it as a query parameter (/watch?v=ID).
const config: NextConfig = {
  output: "export",
  images: { unoptimized: true },
  poweredByHeader: false,
  reactStrictMode: true,
  productionBrowserSourceMaps: false,
};

export default config;
