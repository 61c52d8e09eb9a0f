import { rmSync } from "node:fs";

export default async function globalTeardown() {
  const pid = Number(process.env.WEB_DAEMON_PID);
  if (pid > 0) {
    try {
      process.kill(pid, "SIGTERM");
    } catch { /* already gone */ }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (process.env.WEB_WORK) rmSync(process.env.WEB_WORK, { recursive: true, force: true });
}
