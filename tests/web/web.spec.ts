import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

// One story, in order: the creator registers and uploads, a viewer in another context watches; then every page
// is checked with axe and photographed at phone and desktop sizes, and the CSP is shown to stop injected script.
test.describe.configure({ mode: "serial" });

const base = () => process.env.WEB_BASE_URL!;
const Password = "correct horse battery staple";
const Viewports = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } } as const;
const state: { videoId?: string; channelId?: string; viewer?: Account } = {};

interface Account { email: string; handle: string }

async function login(email: string, password = Password): Promise<Response> {
  return fetch(`${base()}/api/v1/auth/login`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password }),
  });
}

/** A plain account registered through the API (the pages under test are elsewhere). */
async function register(name: string): Promise<Account> {
  const handle = `${name}${Date.now() % 1_000_000}`;
  const email = `${handle}@web.test`;
  const r = await fetch(`${base()}/api/v1/auth/register`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password: Password, handle, displayName: `Web ${name}` }),
  });
  expect(r.status).toBe(202);
  return { email, handle };
}

/** A browser context; signed in (true: the creator; a string: that account's e-mail): a session of its own (refresh tokens rotate, so contexts never share one). */
async function context(browser: Browser, viewport: { width: number; height: number } = Viewports.desktop, signedIn: boolean | string = false) {
  const ctx = await browser.newContext({ baseURL: base(), viewport });
  if (signedIn) {
    const r = await login(signedIn === true ? process.env.WEB_CREATOR! : signedIn);
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
  { name: "subscriptions", path: "/subscriptions", signedIn: true },
  { name: "notifications", path: "/notifications", signedIn: true },
  { name: "notification-settings", path: "/notifications/settings", signedIn: true },
  { name: "stream-chat", path: `/stream?v=${state.videoId}` },
  { name: "studio-channel", path: `/studio/channel?id=${state.channelId}`, signedIn: true },
  { name: "embed", path: `/embed/${state.videoId}` },
  { name: "verify-email", path: "/verify-email?token=not-a-token" },
  { name: "reset-password", path: "/reset-password" },
  { name: "reset-password-confirm", path: "/reset-password?token=from-a-mail" },
  { name: "unsubscribe", path: "/unsubscribe?user=u&kind=comment-reply&sig=s" },
  { name: "not-found", path: "/no/such/page" },
];

async function settle(page: Page) {
  await page.waitForLoadState("networkidle").catch(() => undefined);
  await expect(page.getByRole("status").filter({ hasText: "Loading…" })).toHaveCount(0);
}

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

/** The link to `page` in the newest mail to `to` at the SMTP sink (the daemon's mails link to this app). */
async function mailLink(to: string, page: "verify-email" | "reset-password"): Promise<string> {
  const dir = process.env.WEB_MAIL_DIR!;
  const pattern = new RegExp(`${base().replace(/[.]/g, "\\.")}/${page}\\?token=[^\\s"<]+`);
  let link: string | undefined;
  await expect.poll(() => {
    const files = readdirSync(dir).filter((f) => f.startsWith(`${to.toLowerCase()}--`)).sort();
    link = files.map((f) => pattern.exec(readFileSync(join(dir, f), "utf8"))?.[0]).filter(Boolean).pop();
    return link;
  }, { timeout: 30_000, message: `a ${page} mail to ${to}` }).toBeTruthy();
  return link!;
}

const api = async (path: string, init: RequestInit = {}, email?: string) => {
  const headers = new Headers(init.headers);
  if (email) headers.set("authorization", `Bearer ${(await (await login(email)).json()).accessToken}`);
  return fetch(`${base()}${path}`, { ...init, headers });
};

test("a viewer reacts, subscribes with a bell and comments as text; the creator pins, hearts and replies", async ({ browser }) => {
  const viewer = (state.viewer = await register("viewer"));
  const vctx = await context(browser, Viewports.desktop, viewer.email);
  const vp = await vctx.newPage();
  await vp.goto(`/watch?v=${state.videoId}`);

  // Reactions: like, then dislike flips it; the counts are the server's answer.
  const like = vp.getByRole("button", { name: /^Like/ });
  const dislike = vp.getByRole("button", { name: /^Dislike/ });
  await like.click();
  await expect(like).toHaveAttribute("aria-pressed", "true");
  await expect(vp.getByTestId("like-count")).toHaveText("1");
  await dislike.click();
  await expect(dislike).toHaveAttribute("aria-pressed", "true");
  await expect(like).toHaveAttribute("aria-pressed", "false");
  await expect(vp.getByTestId("like-count")).toHaveText("0");
  await expect(vp.getByTestId("dislike-count")).toHaveText("1");

  // Subscribe, then the bell: all.
  await vp.getByRole("button", { name: "Subscribe to Web channel" }).click();
  await expect(vp.getByRole("button", { name: "Unsubscribe from Web channel" })).toBeVisible();
  await expect(vp.getByTestId("subscriber-count")).toHaveText("1 subscriber");
  const bellSaved = vp.waitForResponse((r) => r.url().endsWith("/subscription") && r.request().method() === "PUT" && r.ok());
  await vp.getByLabel("Bell").selectOption("all");
  expect((await (await bellSaved).json()).bell).toBe("all");

  // A comment full of markup is shown as the text it is; nothing in it runs.
  const text = `<img src=x onerror="window.__xss=1"> <b>bold</b> & "quotes"`;
  await vp.getByLabel("Add a comment").fill(text);
  await vp.getByRole("button", { name: "Comment", exact: true }).click();
  const mine = vp.getByTestId("comment").filter({ hasText: "bold" });
  await expect(mine.getByTestId("comment-text")).toHaveText(text);
  await expect(mine.locator("img, b")).toHaveCount(0);
  expect(await vp.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  const commentId = (await mine.getAttribute("data-comment-id"))!;

  // The creator, in a context of their own: pin, heart, reply.
  const cctx = await context(browser, Viewports.desktop, true);
  const cp = await cctx.newPage();
  await cp.goto(`/watch?v=${state.videoId}`);
  const theirs = cp.locator(`[data-comment-id="${commentId}"]`);
  await theirs.getByRole("button", { name: "Pin" }).click();
  await expect(theirs.getByText("Pinned by the creator")).toBeVisible();
  await theirs.getByRole("button", { name: "Heart", exact: true }).click();
  await expect(theirs.getByRole("button", { name: "Remove heart" })).toBeVisible();
  await theirs.getByRole("button", { name: "Reply", exact: true }).click();
  await cp.getByLabel(/^Reply to Web viewer/).fill("Thanks for watching");
  await cp.getByRole("button", { name: "Post reply" }).click();
  await expect(cp.getByTestId("comment").filter({ hasText: "Thanks for watching" })).toContainText(`replying to @${viewer.handle}`);

  // The viewer sees all of it, edits the comment (marked edited), then deletes it: the thread stays for its reply.
  await vp.reload();
  const again = vp.locator(`[data-comment-id="${commentId}"]`);
  await expect(again.getByText("Pinned by the creator")).toBeVisible();
  await expect(again.locator('[title="Hearted by the creator"]')).toHaveCount(1);
  await vp.getByRole("button", { name: "Show 1 reply" }).click();
  await expect(vp.getByTestId("comment").filter({ hasText: "Thanks for watching" })).toContainText(`replying to @${viewer.handle}`);
  await again.getByRole("button", { name: "Edit" }).click();
  await vp.getByLabel("Edit your comment").fill("Great clip, edited");
  await again.getByRole("button", { name: "Save" }).click();
  await expect(again.getByTestId("comment-text")).toHaveText("Great clip, edited");
  await expect(again.getByText("(edited)")).toBeVisible();
  await again.getByRole("button", { name: "Delete" }).click();
  await expect(vp.locator(`[data-comment-id="${commentId}"]`).getByTestId("comment-text")).toHaveText("[deleted]");

  // Another comment for the screenshots, and the subscription on the viewer's own page.
  await vp.getByLabel("Add a comment").fill("Second comment, still here");
  await vp.getByRole("button", { name: "Comment", exact: true }).click();
  await expect(vp.getByText("Second comment, still here")).toBeVisible();
  await vp.goto("/subscriptions");
  await expect(vp.getByRole("list", { name: "Subscribed channels" })).toContainText("bell: all notifications");
  await vctx.close();
  await cctx.close();
});

test("held comments wait for the creator's approval; comments and reactions can be turned off", async ({ browser }) => {
  const viewer = state.viewer!;
  const cctx = await context(browser, Viewports.desktop, true);
  const edit = await cctx.newPage();
  await edit.goto(`/studio/edit?v=${state.videoId}`);
  const policy = async (value: string) => {
    await edit.getByLabel("Comment policy").selectOption(value);
    await edit.getByRole("button", { name: "Apply comment policy" }).click();
    await expect(edit.getByText("Comment policy saved")).toBeVisible();
  };
  await policy("held");

  const vctx = await context(browser, Viewports.desktop, viewer.email);
  const vp = await vctx.newPage();
  await vp.goto(`/watch?v=${state.videoId}`);
  for (const t of ["Please approve me", "Please reject me"]) {
    await vp.getByLabel("Add a comment").fill(t);
    await vp.getByRole("button", { name: "Comment", exact: true }).click();
    await expect(vp.getByText("Your comment is held for review by the creator.")).toBeVisible();
    await expect(vp.getByTestId("comment").filter({ hasText: t })).toHaveAttribute("data-status", "held");
  }
  const anonymous = async () => JSON.stringify(await (await api(`/api/v1/videos/${state.videoId}/comments?sort=newest`)).json());
  expect(await anonymous()).not.toContain("Please approve me");

  const cp = await cctx.newPage();
  await cp.goto(`/watch?v=${state.videoId}`);
  await cp.getByTestId("comment").filter({ hasText: "Please approve me" }).getByRole("button", { name: "Approve" }).click();
  await expect(cp.getByTestId("comment").filter({ hasText: "Please approve me" })).toHaveAttribute("data-status", "published");
  await cp.getByTestId("comment").filter({ hasText: "Please reject me" }).getByRole("button", { name: "Reject" }).click();
  await expect(cp.getByTestId("comment").filter({ hasText: "Please reject me" })).toHaveCount(0);
  expect(await anonymous()).toContain("Please approve me");
  expect(await anonymous()).not.toContain("Please reject me");

  // An upvote from the creator puts the older comment first by "Top"; "Newest" puts the approved one first.
  const second = cp.getByTestId("comment").filter({ hasText: "Second comment, still here" });
  await second.getByRole("button", { name: /^Upvote/ }).click();
  await expect(second.getByRole("button", { name: /^Upvote/ })).toHaveAttribute("aria-pressed", "true");
  await expect(second.getByRole("button", { name: /^Upvote/ })).toHaveText(/1/);
  await vp.reload();
  const order = async () => {
    const texts = await vp.getByTestId("comment-text").allTextContents();
    return Math.sign(texts.indexOf("Second comment, still here") - texts.indexOf("Please approve me"));
  };
  await expect(vp.getByText("Please approve me")).toBeVisible();
  expect(await order()).toBe(-1);
  await vp.getByLabel("Sort by").selectOption("newest");
  await expect.poll(order).toBe(1);

  // Off: the viewer gets no form and no list.
  await policy("disabled");
  await vp.reload();
  await expect(vp.getByText("Comments are turned off for this video.")).toBeVisible();
  await expect(vp.getByLabel("Add a comment")).toHaveCount(0);
  await expect(vp.getByTestId("comment")).toHaveCount(0);
  await policy("enabled");

  // The dislike count hidden, then reactions off; both back on for the screenshots.
  const reactions = async (on: boolean, hidden: boolean) => {
    await edit.getByLabel("Likes and dislikes on").setChecked(on);
    await edit.getByLabel("Hide the dislike count").setChecked(hidden);
    await edit.getByRole("button", { name: "Apply reaction settings" }).click();
    await expect(edit.getByText("Reaction settings saved")).toBeVisible();
  };
  await reactions(true, true);
  await vp.reload();
  await expect(vp.getByTestId("like-count")).toBeVisible();
  await expect(vp.getByRole("button", { name: /^Dislike/ })).toBeVisible();
  await expect(vp.getByTestId("dislike-count")).toHaveCount(0);
  await reactions(false, true);
  await vp.reload();
  await expect(vp.getByText("The creator turned reactions off for this video.")).toBeVisible();
  await expect(vp.getByRole("button", { name: /^Like/ })).toHaveCount(0);
  await reactions(true, false);
  await vctx.close();
  await cctx.close();
});

test("channel settings: avatar and banner, default comment policy, subscribers, stream keys with a private test broadcast", async ({ browser }) => {
  const cctx = await context(browser, Viewports.desktop, true);
  const cp = await cctx.newPage();
  await cp.goto("/studio");
  await cp.getByRole("link", { name: "Channel settings" }).click();
  await expect(cp.getByRole("heading", { name: "Channel settings: Web channel" })).toBeVisible();
  for (const [label, alt] of [["Avatar", "Current avatar"], ["Banner", "Current banner"]]) {
    await cp.getByLabel(label, { exact: true }).setInputFiles(process.env.WEB_PICTURE!);
    await expect(cp.getByText(`${label} saved`)).toBeVisible();
    await expect.poll(() => cp.getByRole("img", { name: alt }).evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBeGreaterThan(0);
  }
  await cp.getByLabel("Default comment policy for new videos").selectOption("held");
  await cp.getByRole("button", { name: "Save policy" }).click();
  await expect(cp.getByText("Comment policy saved")).toBeVisible();
  expect((await (await api(`/api/v1/channels/${state.channelId}`)).json()).commentPolicy).toBe("held");
  await expect(cp.getByRole("list", { name: "Subscribers" })).toContainText(`@${state.viewer!.handle}`);

  // A private test key: its broadcast starts private; the creator makes it public from here.
  await cp.getByLabel(/For private test broadcasts/).check();
  await cp.getByRole("button", { name: "Create stream key" }).click();
  const key = (await cp.getByTestId("stream-key").textContent())!;
  expect(key).toMatch(/^sv_/);
  execFileSync("ffmpeg", ["-v", "error", "-re", "-i", process.env.WEB_CLIP!, "-c", "copy", "-f", "flv", `rtmp://127.0.0.1:${process.env.WEB_RTMP_PORT}/live/${key}`]);
  await cp.reload();
  const row = cp.getByTestId("stream-key-row").first();
  await expect(row).toContainText("private test");
  const watch = row.getByRole("link", { name: "Watch" });
  const broadcast = new URL((await watch.getAttribute("href"))!, base()).searchParams.get("v")!;
  expect((await api(`/api/v1/videos/${broadcast}`)).status).toBe(404);
  await row.getByRole("button", { name: "Make public" }).click();
  await expect(cp.getByText("The broadcast is public now.")).toBeVisible();
  expect((await (await api(`/api/v1/videos/${broadcast}`)).json()).visibility).toBe("public");

  await row.getByRole("button", { name: /^Rotate/ }).click();
  await expect(cp.getByTestId("stream-key")).not.toHaveText(key);
  await row.getByRole("button", { name: /^Revoke/ }).click();
  await expect(row).toContainText("(revoked)");
  await expect(cp.getByTestId("new-key")).toHaveCount(0);

  // The channel page shows the pictures and the subscriber count.
  await cp.goto(`/channel?id=${state.channelId}`);
  await expect(cp.getByTestId("channel-banner")).toBeVisible();
  await expect(cp.getByTestId("channel-avatar")).toBeVisible();
  await expect(cp.getByTestId("subscriber-count")).toHaveText("1 subscriber");
  await cctx.close();
});

test("the edit page: captions, a thumbnail from a frame or a file, scheduled publishing", async ({ browser }) => {
  const cctx = await context(browser, Viewports.desktop, true);
  const cp = await cctx.newPage();
  await cp.goto(`/studio/edit?v=${state.videoId}`);

  await cp.getByLabel("Language").fill("en");
  await cp.getByLabel("Label (optional)").fill("English");
  await cp.getByLabel("File (WebVTT or SubRip)").setInputFiles({ name: "en.vtt", mimeType: "text/vtt", buffer: Buffer.from("WEBVTT\n\n00:00.000 --> 00:02.000\nHello from the captions\n") });
  await cp.getByRole("button", { name: "Upload captions" }).click();
  await expect(cp.getByTestId("caption-track")).toContainText("English");
  const video = async () => (await api(`/api/v1/videos/${state.videoId}`, {}, process.env.WEB_CREATOR)).json();
  expect((await video()).captions.map((c: { language: string }) => c.language)).toEqual(["en"]);

  const thumbnail = cp.getByTestId("thumbnail");
  await cp.getByLabel(/a frame of the video at/).fill("1.5");
  await cp.getByRole("button", { name: "Use this frame" }).click();
  await expect(thumbnail).toHaveAttribute("src", /custom\/thumbnail/);
  const fromFrame = await thumbnail.getAttribute("src");
  await cp.getByLabel(/Upload a picture/).setInputFiles(process.env.WEB_PICTURE!);
  await expect(thumbnail).not.toHaveAttribute("src", fromFrame!);
  await expect.poll(() => thumbnail.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBeGreaterThan(0);

  // Tomorrow at this time (the input is local time); then cancelled.
  const at = new Date(Date.now() + 24 * 3600_000);
  const pad = (n: number) => n.toString().padStart(2, "0");
  await cp.getByLabel("Publish at (your local time)").fill(`${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`);
  await cp.getByRole("button", { name: "Schedule", exact: true }).click();
  await expect(cp.getByTestId("publish-at")).toBeVisible();
  const publishAt = new Date((await video()).publishAt).getTime();
  expect(Math.abs(publishAt - at.getTime())).toBeLessThan(60_000);
  await cp.getByRole("button", { name: "Cancel schedule" }).click();
  await expect(cp.getByTestId("publish-at")).toHaveCount(0);
  expect((await video()).publishAt ?? null).toBeNull();
  await cctx.close();
});

test("account mails: the verification link and a password reset land on their pages", async ({ browser }) => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  const handle = `reader${Date.now() % 1_000_000}`;
  const email = `${handle}@web.test`;
  await page.goto("/register");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Handle").fill(handle);
  await page.getByLabel("Password").fill(Password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("link", { name: new RegExp(`Account of ${handle}`) })).toBeVisible({ timeout: 30_000 });
  await page.goto(await mailLink(email, "verify-email"));
  await expect(page.getByText("Your e-mail address is confirmed.")).toBeVisible();
  expect((await (await api("/api/v1/me", {}, email)).json()).emailVerified).toBe(true);
  await ctx.close();

  const other = await context(browser);
  const reset = await other.newPage();
  await reset.goto("/login");
  await reset.getByRole("link", { name: "Forgot your password?" }).click();
  await reset.getByLabel("E-mail").fill(email);
  await reset.getByRole("button", { name: "Send me a link" }).click();
  await expect(reset.getByRole("status")).toContainText("a message with a link");
  await reset.goto(await mailLink(email, "reset-password"));
  await reset.getByLabel("New password", { exact: true }).fill("a brand new passphrase");
  await reset.getByLabel("Repeat it").fill("a brand new passphrase");
  await reset.getByRole("button", { name: "Set the new password" }).click();
  await expect(reset.getByText("Your password is changed.")).toBeVisible();
  expect((await login(email, "a brand new passphrase")).status).toBe(200);
  expect((await login(email)).status).toBe(401);
  await other.close();
});

test("another site may frame the embed page and play it, but no other page", async ({ browser }) => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  // A real cross-origin parent: another origin (its own port) on loopback, served by a server of the test's own (a
  // page the browser's router made up would count as public, and Chromium keeps public pages off local addresses).
  const parent = createServer((_, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(`<!DOCTYPE html><title>parent</title>
      <iframe id="embed" src="${base()}/embed/${state.videoId}" width="640" height="360" allow="autoplay; fullscreen"></iframe>
      <iframe id="watch" src="${base()}/watch?v=${state.videoId}" width="640" height="360"></iframe>`);
  });
  await new Promise<void>((ok) => parent.listen(0, "127.0.0.1", ok));
  const origin = `http://127.0.0.1:${(parent.address() as AddressInfo).port}`;
  expect(origin).not.toBe(base());
  await page.goto(`${origin}/`);
  const embed = page.frameLocator("#embed");
  await expect(embed.getByTestId("video")).toBeVisible();
  await expect(embed.getByRole("link", { name: /on StreamVerse/ })).toBeVisible();
  await expect(embed.getByRole("navigation", { name: "Main" })).toHaveCount(0);
  // The player starts by itself (muted) as on the watch page; pressing its Play button could pause it when autoplay won
  // the race (CI saw it stop at 0.06 s), so start it idempotently.
  await embed.getByTestId("video").evaluate((v: HTMLVideoElement) => v.play().catch(() => undefined));
  await expect.poll(() => embed.getByTestId("video").evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 30_000 }).toBeGreaterThan(0.5);

  // The watch page refuses the frame (frame-ancestors 'none'): Chromium puts its error page there instead.
  const watch = await (await page.$("#watch"))!.contentFrame();
  await expect.poll(() => watch!.url()).not.toContain("/watch");
  expect(await page.frameLocator("#watch").getByRole("heading", { level: 1 }).count()).toBe(0);
  await ctx.close();
  parent.close();
});

test("the bell counts a comment on the creator's video as it happens, and the notifications page marks it read", async ({ browser }) => {
  const creator = process.env.WEB_CREATOR!;
  expect((await api("/api/v1/me/notifications/read-all", { method: "POST" }, creator)).status).toBe(200);
  const ctx = await context(browser, Viewports.desktop, true);
  const page = await ctx.newPage();
  await page.goto("/notifications");
  await expect(page.getByRole("heading", { name: "Notifications" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Notifications", exact: true })).toBeVisible();
  await expect(page.getByTestId("unread-count")).toHaveCount(0);

  // Another account comments on the creator's video: the open page's bell and list change without a reload.
  const commenter = await register("commenter");
  const posted = await api(`/api/v1/videos/${state.videoId}/comments`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "ringing the bell" }),
  }, commenter.email);
  expect(posted.status).toBe(201);
  await expect(page.getByTestId("unread-count")).toHaveText("1", { timeout: 30_000 });
  await expect(page.getByRole("link", { name: "Notifications, 1 unread" })).toBeVisible();
  const item = page.getByTestId("notification").filter({ hasText: `@${commenter.handle}` });
  await expect(item).toHaveAttribute("data-read", "false");
  await item.getByRole("button", { name: /Mark read/ }).click();
  await expect(item).toHaveAttribute("data-read", "true");
  await expect(page.getByTestId("unread-count")).toHaveCount(0);

  // Its link leads to the video; the settings page lists every kind with its three switches.
  await expect(item.getByRole("link")).toHaveAttribute("href", new RegExp(`/watch\\?v=${state.videoId}`));
  await page.getByRole("link", { name: "Settings" }).click();
  const email = page.getByRole("checkbox", { name: "E-mail: video-comment" });
  const was = await email.isChecked();
  await email.click();
  await expect(email).toBeChecked({ checked: !was });
  await page.reload();
  await expect(page.getByRole("checkbox", { name: "E-mail: video-comment" })).toBeChecked({ checked: !was });
  await ctx.close();
});

test("a premiere counts down with its chat open, then plays for everyone; the creator moderates the chat", async ({ browser }) => {
  test.setTimeout(180_000);
  const creator = process.env.WEB_CREATOR!;
  const json = { "content-type": "application/json" };
  expect((await api(`/api/v1/videos/${state.videoId}`, { method: "PATCH", headers: json, body: JSON.stringify({ visibility: "private" }) }, creator)).status).toBe(200);
  const at = new Date(Date.now() + 20_000).toISOString();
  const scheduled = await api(`/api/v1/videos/${state.videoId}/schedule`, { method: "PUT", headers: json, body: JSON.stringify({ publishAt: at, premiere: true }) }, creator);
  expect(scheduled.status).toBe(200);

  const viewer = state.viewer ?? (state.viewer = await register("viewer"));
  const vctx = await context(browser, Viewports.desktop, viewer.email);
  const vp = await vctx.newPage();
  await vp.goto(`/watch?v=${state.videoId}`);
  await expect(vp.getByTestId("premiere-countdown")).toBeVisible();
  await expect(vp.getByTestId("premiere-countdown")).toContainText(/0:\d\d/);
  await expect(vp.getByTestId("video")).toHaveCount(0);

  const cctx = await context(browser, Viewports.desktop, true);
  const cp = await cctx.newPage();
  await cp.goto(`/watch?v=${state.videoId}`);
  await expect(cp.getByTestId("premiere-countdown")).toBeVisible();

  // Two contexts chat before the start; the creator deletes the viewer's message, which leaves the viewer's view too.
  await vp.getByRole("textbox", { name: "Chat message" }).fill("<b>can't wait</b>");
  await vp.getByRole("button", { name: "Send" }).click();
  await expect(cp.getByTestId("chat-message").filter({ hasText: "<b>can't wait</b>" })).toBeVisible();
  await cp.getByRole("textbox", { name: "Chat message" }).fill("welcome everyone");
  await cp.getByRole("button", { name: "Send" }).click();
  await expect(vp.getByTestId("chat-message").filter({ hasText: "welcome everyone" })).toBeVisible();
  await cp.getByRole("button", { name: `Delete message of @${viewer.handle}` }).click();
  await expect(vp.getByTestId("chat-message").filter({ hasText: "can't wait" })).toHaveCount(0);
  await expect(cp.getByTestId("chat-message").filter({ hasText: "can't wait" })).toHaveCount(0);

  // Slow mode set by the creator: the viewer's second message in a row is refused with the server's words.
  const settings = await api(`/api/v1/channels/${state.channelId}/chat/settings`, { method: "PUT", headers: json, body: JSON.stringify({ slowModeSeconds: 600, subscribersOnly: false, blockedWords: [] }) }, creator);
  expect(settings.status).toBe(200);
  await vp.getByRole("textbox", { name: "Chat message" }).fill("one");
  await vp.getByRole("button", { name: "Send" }).click();
  await expect(cp.getByTestId("chat-message").filter({ hasText: /^Web viewer one/ })).toBeVisible();
  await vp.getByRole("textbox", { name: "Chat message" }).fill("two");
  await vp.getByRole("button", { name: "Send" }).click();
  await expect(vp.getByRole("alert").filter({ hasText: "slow-mode" })).toContainText("one message per 600 s");
  await api(`/api/v1/channels/${state.channelId}/chat/settings`, { method: "PUT", headers: json, body: JSON.stringify({ slowModeSeconds: 0, subscribersOnly: false, blockedWords: [] }) }, creator);

  // At the time: the countdown gives way to the player, which plays, without a reload.
  await expect(vp.getByTestId("premiere-countdown")).toHaveCount(0, { timeout: 60_000 });
  const video = vp.getByTestId("video");
  await expect(video).toBeVisible();
  await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 30_000 }).toBeGreaterThan(0.5);

  // Once shown (the clip is 3 s), an ordinary video whose chat replays beside it, without the deleted message.
  await expect.poll(async () => (await (await api(`/api/v1/videos/${state.videoId}/premiere`)).json()).state, { timeout: 30_000 }).toBe("ended");
  await vp.reload();
  await expect(vp.getByTestId("chat-replay-message").filter({ hasText: "welcome everyone" })).toBeVisible();
  await expect(vp.getByTestId("chat-replay-message").filter({ hasText: "can't wait" })).toHaveCount(0);
  await vctx.close();
  await cctx.close();
});

test("the account page changes the e-mail address through a link mailed to the new one", async ({ browser }) => {
  const account = await register("mover");
  const ctx = await context(browser, Viewports.desktop, account.email);
  const page = await ctx.newPage();
  await page.goto("/account");
  const newEmail = `moved${Date.now() % 1_000_000}@web.test`;
  await page.getByLabel("New e-mail address").fill(newEmail);
  await page.getByLabel("Current password").fill(Password);
  await page.getByRole("button", { name: "Change e-mail" }).click();
  await expect(page.getByRole("status").filter({ hasText: "confirmation link" })).toBeVisible();
  await expect(page.getByText(`· ${account.email} ·`)).toBeVisible();

  await page.goto(await mailLink(newEmail, "verify-email"));
  await expect(page.getByRole("status").filter({ hasText: "is confirmed" })).toBeVisible();
  await page.goto("/account");
  await expect(page.getByText(`· ${newEmail} ·`)).toBeVisible();
  expect((await login(newEmail)).status).toBe(200);
  await ctx.close();
});

test("every page: no serious or critical axe violation, screenshots at phone and desktop size", async ({ browser }) => {
  // 17 pages at two sizes, each photographed whole and (at desktop size) checked by axe: over two minutes on a busy CI machine.
  test.setTimeout(300_000);
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

