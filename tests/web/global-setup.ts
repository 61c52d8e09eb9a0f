import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

// The real daemon, built by `dotnet build -c Release` and serving src/Web/out (`npm run build` there), on free
// 127.0.0.1 ports over a fresh SQLite data directory; the creator's e-mail is the bootstrap admin (so it may
// upload); a tiny ladder so a 3-second clip is playable in seconds; mail goes to the SMTP sink that ./setup.sh starts
// (its settings in /var/lib/streamverse-test/smtp.env, or STREAMVERSE_TEST_SMTP_* in the environment), with links to
// this daemon's app. Tests read WEB_BASE_URL, WEB_CLIP, WEB_PICTURE, WEB_CREATOR, WEB_RTMP_PORT and WEB_MAIL_DIR.
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

/** The SMTP sink's host, port and mail directory: the environment, else the file setup.sh writes; missing is an error, not a skip. */
function smtpSink(): { host: string; port: string; dir: string } {
  const file = "/var/lib/streamverse-test/smtp.env";
  const fromFile: Record<string, string> = {};
  if (existsSync(file)) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const m = /^(\w+)='?([^']*)'?$/.exec(line.trim());
      if (m) fromFile[m[1]] = m[2];
    }
  }
  const get = (k: string) => process.env[k] ?? fromFile[k] ?? (() => { throw new Error(`${k} is not set and ${file} does not name it: run ./setup.sh deps`); })();
  return { host: get("STREAMVERSE_TEST_SMTP_HOST"), port: get("STREAMVERSE_TEST_SMTP_PORT"), dir: get("STREAMVERSE_TEST_SMTP_MAIL_DIR") };
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
  const picture = join(work, "picture.png");
  execFileSync("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360", "-frames:v", "1", picture]);
  const smtp = smtpSink();
  const http = await freePort();
  const rtmp = await freePort();
  const creator = `creator-${Date.now()}@web.test`;
  const args = [dll, "--data", join(work, "data"), "--http", `127.0.0.1:${http}`, "--rtmp", `127.0.0.1:${rtmp}`,
    "--StreamVerse:Web:Root", web,
    "--StreamVerse:ControlPlane:BootstrapAdminEmail", creator,
    "--StreamVerse:ControlPlane:Jobs:PollInterval", "00:00:00.2",
    "--StreamVerse:ControlPlane:Publishing:CheckInterval", "00:00:00.5",
    "--StreamVerse:ControlPlane:Jobs:Ladder:Preset", "ultrafast",
    "--StreamVerse:ControlPlane:Jobs:Ladder:SegmentDuration", "00:00:01",
    "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:0:Height", "240",
    "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:0:Bitrate", "300000",
    "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:1:Height", "120",
    "--StreamVerse:ControlPlane:Jobs:Ladder:Rungs:1:Bitrate", "120000",
    "--StreamVerse:ControlPlane:Mail:Host", smtp.host, "--StreamVerse:ControlPlane:Mail:Port", smtp.port,
    "--StreamVerse:ControlPlane:Mail:Security", "None", "--StreamVerse:ControlPlane:Mail:From", "StreamVerse <no-reply@web.test>",
    "--StreamVerse:ControlPlane:Mail:PublicBaseUrl", `http://127.0.0.1:${http}`, "--StreamVerse:ControlPlane:Mail:PollInterval", "00:00:00.5",
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
  process.env.WEB_PICTURE = picture;
  process.env.WEB_RTMP_PORT = String(rtmp);
  process.env.WEB_MAIL_DIR = smtp.dir;
  process.env.WEB_ARTIFACTS ??= join(__dirname, "artifacts");
  mkdirSync(process.env.WEB_ARTIFACTS, { recursive: true });
  writeFileSync(join(work, "daemon.pid"), String(daemon.pid));
  process.env.WEB_DAEMON_PID = String(daemon.pid);
  process.env.WEB_WORK = work;
}
