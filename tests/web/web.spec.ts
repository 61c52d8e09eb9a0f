import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { join } from "node:path";

// One story, in order: the creator registers and uploads, a viewer in another context watches; then every page
// is checked with axe and photographed at phone and desktop sizes, and the CSP is shown to stop injected script.
test.describe.configure({ mode: "serial" });

const base = () => process.env.WEB_BASE_URL!;
const Password = "correct horse battery staple";
const Viewports = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } } as const;
const state: { videoId?: string; channelId?: string } = {};

/** A browser context; signed in: a session of its own (refresh tokens rotate, so contexts never share one). */
async function context(browser: Browser, viewport: { width: number; height: number } = Viewports.desktop, signedIn = false) {
  const ctx = await browser.newContext({ baseURL: base(), viewport });
  if (signedIn) {
    const r = await fetch(`${base()}/api/v1/auth/login`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: process.env.WEB_CREATOR, password: Password }),
    });
    expect(r.status).toBe(200);
    const { refreshToken } = await r.json();
    await ctx.addInitScript((t) => {
      if (!localStorage.getItem("streamverse.refresh")) localStorage.setItem("streamverse.refresh", t);
    }, refreshToken);
  }
  return ctx;
}

test("a creator registers, creates a channel and uploads a clip with tus until it is playable", async ({ browser }) => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  await page.goto("/register");
  await page.getByLabel("E-mail").fill(process.env.WEB_CREATOR!);
  await page.getByLabel("Handle").fill(`creator${Date.now() % 1_000_000}`);
  await page.getByLabel("Display name (optional)").fill("Web Creator");
  await page.getByLabel("Password").fill(Password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("link", { name: /Account of Web Creator/ })).toBeVisible({ timeout: 30_000 });

  await page.getByRole("link", { name: "Studio" }).click();
  await page.getByLabel("Name").fill("Web channel");
  await page.getByRole("button", { name: "Create channel" }).click();
  await expect(page.getByRole("heading", { name: "Upload videos" })).toBeVisible();

  // tus: POST creates the upload, PATCH sends the bytes.
  const patches: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/api/v1/uploads/") && r.method() === "PATCH") patches.push(r.url());
  });
  await page.getByLabel(/Video files/).setInputFiles(process.env.WEB_CLIP!);
  const upload = page.getByTestId("upload");
  await expect(upload).toHaveAttribute("data-state", /processing|playable/, { timeout: 30_000 });
  expect(patches.length).toBeGreaterThan(0);
  await expect(upload).toHaveAttribute("data-state", "playable", { timeout: 90_000 });
  const watch = upload.getByRole("link", { name: "Watch" });
  state.videoId = new URL(await watch.getAttribute("href") ?? "", base()).searchParams.get("v")!;
  expect(state.videoId).toBeTruthy();
  await expect(page.getByRole("table").getByRole("link", { name: "clip", exact: true })).toBeVisible();
  state.channelId = await page.evaluate(async () => (await (await fetch("/api/v1/channels")).json()).items[0].id);
  await ctx.close();
});

test("a viewer in another browser context watches it and playback advances", async ({ browser }) => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`/watch?v=${state.videoId}`);
  await expect(page.getByRole("heading", { level: 1, name: "clip" })).toBeVisible();
  const video = page.getByTestId("video");
  await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 30_000 }).toBeGreaterThan(1);
  await expect(page.getByLabel("Quality")).toBeVisible();
  // Storyboard: the video's seek-preview track shows a thumbnail over the seek bar.
  const meta = await (await fetch(`${base()}/api/v1/videos/${state.videoId}`)).json();
  expect(meta.storyboardUrl).toBeTruthy();
  const seek = page.getByLabel("Seek");
  const box = (await seek.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.move(box.x + box.width / 2 + 5, box.y + box.height / 2);
  await expect(page.getByTestId("storyboard-thumb")).toBeVisible();
  expect(await page.getByTestId("storyboard-thumb").evaluate((e) => getComputedStyle(e).backgroundImage)).toContain("storyboard");
  await page.getByLabel("Playback speed").selectOption("1.5");
  expect(await video.evaluate((v: HTMLVideoElement) => v.playbackRate)).toBe(1.5);
  expect(errors).toEqual([]);
  await ctx.close();
});

test("the Content-Security-Policy lets the app run and stops injected inline script", async ({ browser }) => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  const response = await page.goto("/");
  const csp = response!.headers()["content-security-policy"];
  expect(csp).toContain("frame-ancestors 'none'");
  // The app's own inline scripts (allowed by hash) ran: the page hydrated and asked the API for videos.
  await expect(page.getByRole("link", { name: "Log in" })).toBeVisible();
  const outcome = await page.evaluate(async () => {
    const violations: string[] = [];
    document.addEventListener("securitypolicyviolation", (e) => violations.push(e.violatedDirective));
    const s = document.createElement("script");
    s.textContent = "window.__injected = true";
    document.body.append(s);
    const div = document.createElement("div");
    div.innerHTML = `<img src="x" onerror="window.__injected = true">`;
    document.body.append(div);
    await new Promise((r) => setTimeout(r, 300));
    return { injected: (window as unknown as { __injected?: boolean }).__injected ?? false, violations };
  });
  expect(outcome.injected).toBe(false);
  expect(outcome.violations.some((v) => v.startsWith("script-src"))).toBe(true);
  await ctx.close();
});

const pages = (): { name: string; path: string; signedIn?: boolean }[] => [
  { name: "home", path: "/" },
  { name: "watch", path: `/watch?v=${state.videoId}` },
  { name: "channel", path: `/channel?id=${state.channelId}` },
  { name: "live", path: "/stream?name=nothing-live" },
  { name: "login", path: "/login" },
  { name: "register", path: "/register" },
  { name: "account", path: "/account", signedIn: true },
  { name: "studio", path: "/studio", signedIn: true },
  { name: "studio-edit", path: `/studio/edit?v=${state.videoId}`, signedIn: true },
  { name: "not-found", path: "/no/such/page" },
];

async function settle(page: Page) {
  await page.waitForLoadState("networkidle").catch(() => undefined);
  await expect(page.getByRole("status").filter({ hasText: "Loading…" })).toHaveCount(0);
}

test("every page: no serious or critical axe violation, screenshots at phone and desktop size", async ({ browser }) => {
  const failures: string[] = [];
  for (const p of pages()) {
    for (const [size, viewport] of Object.entries(Viewports)) {
      const ctx = await context(browser, viewport, p.signedIn);
      const page = await ctx.newPage();
      await page.goto(p.path);
      await settle(page);
      await page.screenshot({ path: join(process.env.WEB_ARTIFACTS!, `${p.name}-${size}.png`), fullPage: true });
      if (size === "desktop" || p.name === "home") {
        const { violations } = await new AxeBuilder({ page }).analyze();
        for (const v of violations.filter((v) => v.impact === "serious" || v.impact === "critical")) {
          failures.push(`${p.name} (${size}): ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
        }
      }
      await ctx.close();
    }
  }
  expect(failures).toEqual([]);
});

test("the edit page saves title, description and visibility", async ({ browser }) => {
  const ctx = await context(browser, Viewports.desktop, true);
  const page = await ctx.newPage();
  await page.goto(`/studio/edit?v=${state.videoId}`);
  await page.getByLabel("Title").fill("clip, renamed");
  await page.getByLabel("Description").fill("A three-second test clip.");
  await page.getByLabel("Visibility").selectOption("unlisted");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved")).toBeVisible();
  const video = await (await fetch(`${base()}/api/v1/videos/${state.videoId}`)).json();
  expect([video.title, video.description, video.visibility]).toEqual(["clip, renamed", "A three-second test clip.", "unlisted"]);
  await ctx.close();
});

test("an upload paused mid-transfer resumes from the server's offset and still becomes playable", async ({ browser }) => {
  const ctx = await context(browser, Viewports.desktop, true);
  const page = await ctx.newPage();
  // Hold the first PATCH so there is time to pause it; tus-js-client aborts it, then resumes with HEAD + PATCH.
  const seen: string[] = [];
  let held = false;
  await page.route("**/api/v1/uploads/**", async (route) => {
    const method = route.request().method();
    seen.push(method);
    if (method === "PATCH" && !held) {
      held = true;
      await new Promise((r) => setTimeout(r, 3000));
    }
    await route.continue().catch(() => undefined);
  });
  await page.goto("/studio");
  await page.getByLabel(/Video files/).setInputFiles(process.env.WEB_CLIP!);
  const upload = page.getByTestId("upload");
  await expect(upload).toHaveAttribute("data-state", "uploading");
  await expect.poll(() => held).toBe(true);
  await upload.getByRole("button", { name: /Pause/ }).click();
  await expect(upload).toHaveAttribute("data-state", "paused");
  await upload.getByRole("button", { name: /Resume/ }).click();
  await expect(upload).toHaveAttribute("data-state", "playable", { timeout: 90_000 });
  expect(seen).toContain("HEAD");
  expect(seen.filter((m) => m === "PATCH").length).toBeGreaterThanOrEqual(2);
  await ctx.close();
});
