import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

// The real daemon, built by `dotnet build -c Release` and serving src/Web/out (`npm run build` there), on free
// 127.0.0.1 ports over a fresh SQLite data directory; the creator's e-mail is the bootstrap admin (so it may
// upload); a tiny ladder so a 3-second clip is playable in seconds. Tests read WEB_BASE_URL, WEB_CLIP, WEB_CREATOR.
export const repo = resolve(__dirname, "../..");

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

export default async function globalSetup() {
  const dll = join(repo, "src/Origin/bin/Release/net10.0/StreamVerse.Origin.dll");
  const web = join(repo, "src/Web/out");
  for (const [path, how] of [[dll, "dotnet build StreamVerse.sln -c Release"], [join(web, "index.html"), "npm ci && npm run build in src/Web"]]) {
    if (!existsSync(path)) throw new Error(`${path} is missing: run ${how} (./setup.sh test does both)`);
  }
  const work = mkdtempSync(join(tmpdir(), "sv-web-"));
  const clip = join(work, "clip.mp4");
  execFileSync("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
    "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", clip]);
  const http = await freePort();
  const rtmp = await freePort();
  const creator = `creator-${Date.now()}@web.test`;
  const args = [dll, "--data", join(work, "data"), "--http", `127.0.0.1:${http}`, "--rtmp", `127.0.0.1:${rtmp}`,
    "--StreamVerse:Web:Root", web,
    "--StreamVerse:ControlPlane:BootstrapAdminEmail", creator,
    "--StreamVerse:ControlPlane:Jobs:PollInterval", "00:00:00.2",
    "--StreamVerse:ControlPlane:Jobs:Ladder:Preset", "ultrafast",
    "--StreamVerse:ControlPlane:Jobs:Ladder:SegmentDuration", "00:00:01",
    "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:0:Height", "240",
    "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:0:Bitrate", "300000",
    "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:1:Height", "120",
    "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:1:Bitrate", "120000",
    "--Logging:LogLevel:Default", "Warning", "--Logging:LogLevel:StreamVerse", "Information"];
  mkdirSync(join(work, "data"));
  const daemon = spawn("dotnet", args, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  daemon.stdout.on("data", (d) => (log += d));
  daemon.stderr.on("data", (d) => (log += d));
  const base = `http://127.0.0.1:${http}`;
  for (let i = 0; ; i++) {
    if (daemon.exitCode !== null) throw new Error(`daemon exited ${daemon.exitCode}:\n${log}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch { /* not listening yet */ }
    if (i > 600) throw new Error(`daemon did not start in 60 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  process.env.WEB_BASE_URL = base;
  process.env.WEB_CLIP = clip;
  process.env.WEB_CREATOR = creator;
  process.env.WEB_ARTIFACTS ??= join(__dirname, "artifacts");
  mkdirSync(process.env.WEB_ARTIFACTS, { recursive: true });
  writeFileSync(join(work, "daemon.pid"), String(daemon.pid));
  process.env.WEB_DAEMON_PID = String(daemon.pid);
  process.env.WEB_WORK = work;
}
