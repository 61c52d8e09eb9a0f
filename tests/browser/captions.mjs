#!/usr/bin/env node
// Caption tracks in a real browser player: loads a VOD in headless Chromium with hls.js or dash.js, lists the
// player's subtitle/text tracks (language, name), selects the first one, and waits until the <video>'s TextTrack
// holds cues (the WebVTT file was fetched, parsed and attached by the player).
//
//   node captions.mjs <hls|dash> <url>
//
// One JSON line goes to stdout: { ok, player, version, tracks: [{ lang, name }], textTracks: [{ kind, language, label, mode, cues }], errors }.
// Exit 0 when the player listed at least one track and a TextTrack has cues, with no fatal error; 1 otherwise; 2 on bad usage.

import { chromium } from 'playwright-core';
import { requireLibraries, servePage } from './page-server.mjs';

const TIMEOUT = Number(process.env.CAPTIONS_TIMEOUT ?? 30); // seconds for the tracks and their cues to appear
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const [kind, url] = process.argv.slice(2);
if (!['hls', 'dash'].includes(kind) || !url) {
  console.error('usage: node captions.mjs <hls|dash> <url>');
  process.exit(2);
}

requireLibraries();

const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>${kind} captions</title>
<script src="${kind === 'hls' ? '/hls.min.js' : '/dash.all.min.js'}"></script></head>
<body><video id="v" muted autoplay playsinline width="320" height="240"></video>
<script>
const state = window.__state = { errors: [], fatal: 0, tracks: [], selected: false, version: null };
const video = document.getElementById('v');
const src = ${JSON.stringify(url)};
try {
  if (${JSON.stringify(kind)} === 'hls') {
    state.version = Hls.version;
    const hls = window.__hls = new Hls({ subtitleDisplay: true });
    hls.on(Hls.Events.ERROR, (_, d) => {
      if (state.errors.length < 50) state.errors.push({ fatal: !!d.fatal, type: d.type, details: d.details, url: (d.context && d.context.url) || (d.frag && d.frag.url) || undefined });
      if (d.fatal) state.fatal++;
    });
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, (_, d) => {
      state.tracks = d.subtitleTracks.map((t) => ({ lang: t.lang, name: t.name }));
    });
    hls.loadSource(src);
    hls.attachMedia(video);
  } else {
    const player = window.__dash = dashjs.MediaPlayer().create();
    state.version = player.getVersion ? player.getVersion() : null;
    const ev = dashjs.MediaPlayer.events;
    player.on(ev.ERROR, (e) => {
      const err = e.error || {};
      const fatal = err.code !== 16; // TIME_SYNC_FAILED: recoverable (see play.mjs)
      if (state.errors.length < 50) state.errors.push({ fatal, code: err.code, message: err.message });
      if (fatal) state.fatal++;
    });
    player.on(ev.TEXT_TRACKS_ADDED, (e) => {
      state.tracks = (e.tracks || []).map((t) => ({ lang: t.lang, name: (t.labels && t.labels[0] && t.labels[0].text) || t.label || null }));
      if (!state.selected && state.tracks.length > 0) { state.selected = true; player.enableText(true); player.setTextTrack(0); }
    });
    player.initialize(video, src, true);
  }
} catch (e) {
  state.errors.push({ fatal: true, message: String(e && e.stack || e) });
  state.fatal++;
}
</script></body></html>`;

const server = await servePage(page);

const result = { ok: false, player: kind, url, version: null, tracks: [], textTracks: [], errors: [] };
let browser;
const watchdog = setTimeout(() => { result.errors.push({ fatal: true, message: 'watchdog' }); finish(1); }, (TIMEOUT + 30) * 1000);
let finished = false;
async function finish(code) {
  if (finished) return;
  finished = true;
  clearTimeout(watchdog);
  process.stdout.write(JSON.stringify(result) + '\n');
  try { await browser?.close(); } catch { /* gone */ }
  server.close();
  process.exit(code);
}

try {
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
  });
  const tab = await browser.newPage();
  const pageErrors = [];
  tab.on('pageerror', (e) => pageErrors.push({ fatal: true, message: String(e).slice(0, 500) }));
  await tab.goto(`http://127.0.0.1:${server.address().port}/`);
  const read = () => tab.evaluate(() => {
    const v = document.getElementById('v');
    const s = window.__state;
    const textTracks = [];
    for (let i = 0; i < v.textTracks.length; i++) {
      const t = v.textTracks[i];
      textTracks.push({ kind: t.kind, language: t.language, label: t.label, mode: t.mode, cues: t.cues ? t.cues.length : 0 });
    }
    return { tracks: s.tracks, textTracks, errors: s.errors, fatal: s.fatal, version: s.version };
  });
  const t0 = Date.now();
  let st = await read();
  while (Date.now() - t0 < TIMEOUT * 1000) {
    if (st.fatal > 0 || pageErrors.length > 0) break;
    if (st.tracks.length > 0 && st.textTracks.some((t) => t.cues > 0)) break;
    // hls.js: select the first subtitle track once the player has its list (and again if a later update reset it).
    if (kind === 'hls' && st.tracks.length > 0) await tab.evaluate(() => { if (window.__hls.subtitleTrack !== 0) window.__hls.subtitleTrack = 0; });
    await new Promise((r) => setTimeout(r, 250));
    st = await read();
  }
  Object.assign(result, { tracks: st.tracks, textTracks: st.textTracks, version: st.version, errors: [...st.errors, ...pageErrors] });
  result.ok = st.fatal === 0 && pageErrors.length === 0 && st.tracks.length > 0 && st.textTracks.some((t) => t.cues > 0);
  await finish(result.ok ? 0 : 1);
} catch (e) {
  result.errors.push({ fatal: true, message: String(e && e.stack || e).slice(0, 1000) });
  await finish(1);
}
