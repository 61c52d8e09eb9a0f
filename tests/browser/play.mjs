#!/usr/bin/env node
// Plays a live (or VOD) stream in headless Chromium with a real browser player and reports what happened.
//
//   node play.mjs <hls|dash> <url> <seconds> [<start>]
//
// hls.js (lowLatencyMode) or dash.js is loaded from node_modules into a tiny page served on 127.0.0.1:0
// (a different origin from the daemon: the daemon's CORS headers must allow it). The video is muted and
// autoplays. Once playback has started (first 'playing' event with currentTime > 0, or at most START_TIMEOUT
// seconds), video.currentTime is sampled for <seconds>. One JSON line goes to stdout:
//   { ok, errors, fatal, startTime, endTime, advanced, latency, levels, ... }
// Exit 0 when playback advanced by at least half of <seconds> and no fatal error was reported; 1 otherwise;
// 2 on bad usage.
//
// PLAY_SWITCH_LEVELS=1 (hls.js only): once playing, the page forces a switch to every level in turn, lowest
// first (hls.nextLevel; the next one once hls.js has switched to the previous and PLAY_SWITCH_EVERY seconds,
// default 2, have passed) and records hls.js's LEVEL_SWITCHED
// events and the decoded picture heights; the run then also needs every level switched to and decoded at its
// own height (result.switchedLevels, result.heightsSeen, result.levelHeights).
//
// PLAY_CMCD=query|headers: the player sends CTA-5004 CMCD with every request (hls.js `cmcd: {}`, with `useHeaders` for
// headers; dash.js `streaming.cmcd.enabled`, mode 'query' or 'header'), with the session id PLAY_CMCD_SID (default: the
// player's own).
//
// PLAY_AUDIO_TRACK=N: once playing, the page switches to audio track N (hls.js: hls.audioTrack = N; dash.js:
// setCurrentTrack(getTracksFor('audio')[N])) and samples currentTime from then on; the run then also needs the
// player to report that track as current (result.audioTrackNow) and sound decoded after the switch
// (result.audioBytesAfterSwitch > 0). result.audioLangs lists every audio track's language in the player's order.

import { chromium } from 'playwright-core';
import { requireLibraries, servePage } from './page-server.mjs';

const START_TIMEOUT = Number(process.env.PLAY_START_TIMEOUT ?? 20); // seconds to wait for playback to start
const SWITCH_LEVELS = process.env.PLAY_SWITCH_LEVELS === '1';
const SWITCH_EVERY = Number(process.env.PLAY_SWITCH_EVERY ?? 2);
const AUDIO_TRACK = process.env.PLAY_AUDIO_TRACK === undefined ? null : Number(process.env.PLAY_AUDIO_TRACK);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CMCD = process.env.PLAY_CMCD ?? '';
const CMCD_SID = process.env.PLAY_CMCD_SID || undefined;
if (!['', 'query', 'headers'].includes(CMCD)) {
  console.error('PLAY_CMCD must be query or headers');
  process.exit(2);
}

const [kind, url, secondsArg, startArg] = process.argv.slice(2);
const seconds = Number(secondsArg);
// <start> (dash.js only): the start time handed to initialize(); for a live MPD, seconds from the period start
// (dash.js still keeps it inside the DVR window and behind the live delay). Default: the player's own choice.
const START_AT = startArg === undefined ? NaN : Number(startArg);
if (!['hls', 'dash'].includes(kind) || !url || !(seconds > 0) || (startArg !== undefined && !(START_AT >= 0))) {
  console.error('usage: node play.mjs <hls|dash> <url> <seconds> [<start>]');
  process.exit(2);
}

requireLibraries();

// The page. window.__state collects everything the player reports; node reads it with page.evaluate.
const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>${kind} player</title>
<script src="${kind === 'hls' ? '/hls.min.js' : '/dash.all.min.js'}"></script></head>
<body><video id="v" muted autoplay playsinline width="320" height="240"></video>
<script>
const state = window.__state = { errors: [], fatal: 0, events: [], playing: false, waiting: 0, player: ${JSON.stringify(kind)}, version: null, levels: 0, partsLoaded: 0, fragsLoaded: 0, switched: [], levelHeights: [], heights: [] };
const video = document.getElementById('v');
video.muted = true;
const note = (e) => { if (state.events.length < 50) state.events.push(e); };
video.addEventListener('playing', () => { state.playing = true; note({ t: Date.now(), ev: 'playing', ct: video.currentTime }); });
video.addEventListener('waiting', () => { state.waiting++; note({ t: Date.now(), ev: 'waiting', ct: video.currentTime }); });
video.addEventListener('error', () => {
  const err = video.error;
  state.errors.push({ source: 'video', fatal: true, code: err && err.code, message: err && err.message });
  state.fatal++;
});
const src = ${JSON.stringify(url)};
try {
  if (${JSON.stringify(kind)} === 'hls') {
    if (!Hls.isSupported()) throw new Error('hls.js: MSE not supported in this browser');
    state.version = Hls.version;
    const cmcdMode = ${JSON.stringify(CMCD)};
    const hls = window.__hls = new Hls(Object.assign({ lowLatencyMode: true, debug: false },
      cmcdMode ? { cmcd: { useHeaders: cmcdMode === 'headers', sessionId: ${JSON.stringify(CMCD_SID ?? null)} || undefined } } : {}));
    hls.on(Hls.Events.ERROR, (_, d) => {
      const e = { source: 'hls.js', fatal: !!d.fatal, type: d.type, details: d.details,
        url: (d.context && d.context.url) || (d.frag && d.frag.url) || (d.part && d.part.url) || undefined,
        responseCode: d.response && d.response.code, reason: d.reason || (d.error && String(d.error)) || undefined };
      if (state.errors.length < 100) state.errors.push(e);
      if (d.fatal) state.fatal++;
    });
    // Low-latency evidence: parts loaded (not just whole segments).
    hls.on(Hls.Events.FRAG_LOADED, (_, d) => { if (d.part) state.partsLoaded++; else state.fragsLoaded++; });
    hls.on(Hls.Events.MANIFEST_PARSED, (_, d) => {
      state.levels = d.levels.length;
      state.levelHeights = d.levels.map((l) => l.height);
      note({ t: Date.now(), ev: 'manifestParsed', levels: d.levels.length });
    });
    hls.on(Hls.Events.LEVEL_SWITCHED, (_, d) => { state.switched.push(d.level); note({ t: Date.now(), ev: 'levelSwitched', level: d.level }); });
    // Decoded picture heights, sampled: a switch counts only once frames of that level reach the video element.
    setInterval(() => { if (video.videoHeight && !state.heights.includes(video.videoHeight)) state.heights.push(video.videoHeight); }, 100);
    hls.loadSource(src);
    hls.attachMedia(video);
  } else {
    const player = window.__dash = dashjs.MediaPlayer().create();
    state.version = player.getVersion ? player.getVersion() : null;
    const ev = dashjs.MediaPlayer.events;
    player.updateSettings({ debug: { logLevel: dashjs.Debug ? dashjs.Debug.LOG_LEVEL_WARNING : 3 } });
    if (${JSON.stringify(CMCD)}) {
      player.updateSettings({ streaming: { cmcd: Object.assign({ enabled: true, mode: ${JSON.stringify(CMCD === 'headers' ? 'header' : 'query')} },
        ${JSON.stringify(CMCD_SID ?? null)} ? { sid: ${JSON.stringify(CMCD_SID ?? null)} } : {}) } });
    }
    // dash.js has no fatal flag. Code 16 (TIME_SYNC_FAILED) is recoverable: the player falls back to the
    // device clock and keeps playing; it is kept as a non-fatal error (it means the MPD's UTCTiming source
    // could not be used, or the MPD has none and dash.js's default internet time server is unreachable).
    const nonFatalCodes = [16];
    player.on(ev.ERROR, (e) => {
      const err = e.error || {};
      const fatal = !nonFatalCodes.includes(err.code);
      if (state.errors.length < 100) state.errors.push({ source: 'dash.js', event: 'error', fatal, code: err.code, message: err.message, url: err.data && (err.data.url || (err.data.request && err.data.request.url)) || undefined });
      if (fatal) state.fatal++;
    });
    player.on(ev.PLAYBACK_ERROR, (e) => {
      const err = e.error || {};
      if (state.errors.length < 100) state.errors.push({ source: 'dash.js', event: 'playbackError', fatal: true, code: err.code, message: err.message || String(e.error) });
      state.fatal++;
    });
    player.on(ev.STREAM_INITIALIZED, () => {
      try {
        const reps = player.getRepresentationsByType ? player.getRepresentationsByType('video') : player.getBitrateInfoListFor('video');
        state.levels = reps ? reps.length : 0;
      } catch (e) { state.levels = -1; }
      note({ t: Date.now(), ev: 'streamInitialized', levels: state.levels });
    });
    player.initialize(video, src, true, ${JSON.stringify(START_AT)});
  }
} catch (e) {
  state.errors.push({ source: 'page', fatal: true, message: String(e && e.stack || e) });
  state.fatal++;
}
</script></body></html>`;

const server = await servePage(page);
const pageUrl = `http://127.0.0.1:${server.address().port}/`;

const result = {
  ok: false, player: kind, url, errors: [], fatal: 0, startTime: null, endTime: null, advanced: 0,
  nonFatal: 0, latency: null, levels: 0, started: false, startDelay: null, waiting: 0, version: null, console: [], gapSeeks: 0,
};
let browser;
const deadline = setTimeout(() => {
  // Never hang the caller: a wedged browser still produces a verdict.
  result.errors.push({ source: 'play.mjs', fatal: true, message: 'watchdog: run exceeded its time budget' });
  result.fatal++;
  finish(1);
}, (START_TIMEOUT + seconds + 30) * 1000);

let finished = false;
const pageErrors = [];
const responses = [];
const pending = new Map(); // requests to the daemon without a response yet: what a stalled player waits for
const requests = { playlists: 0, blocking: 0, delta: 0, media: 0 }; // uncaught exceptions in the page: fatal (the player's code threw)
async function finish(code) {
  if (finished) return;
  finished = true;
  clearTimeout(deadline);
  process.stdout.write(JSON.stringify(result) + '\n');
  try { await browser?.close(); } catch { /* already gone */ }
  server.close();
  process.exit(code);
}

try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run',
      '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
  const tab = await browser.newPage();
  tab.on('request', (r) => {
    const u = r.url();
    if (/\.(m3u8|mpd)(\?|$)/.test(u)) {
      requests.playlists++;
      if (u.includes('_HLS_msn=')) requests.blocking++;
      if (u.includes('_HLS_skip=')) requests.delta++;
    } else if (/^https?:\/\/127\.0\.0\.1:\d+\/(hls\.min|dash\.all\.min)\.js$/.test(u) === false && !u.endsWith('/')) {
      requests.media++;
    }
  });
  // Each media/playlist response's status (and failed requests), so a stall can be told from a server error.
  const pagePort = String(new URL(pageUrl).port);
  // The first 40 and the last 60 responses are kept: a stall late in a run shows at the end of the list.
  const keep = (entry) => {
    responses.push(entry);
    if (responses.length > 100) responses.splice(40, 1);
  };
  tab.on('request', (r) => {
    try {
      const u = new URL(r.url());
      if (u.port !== pagePort) pending.set(r, [u.pathname + u.search, Date.now()]);
    } catch { /* not the daemon's */ }
  });
  tab.on('response', (r) => {
    try {
      const u = new URL(r.url());
      if (u.port !== pagePort) keep([u.pathname + u.search, r.status()]);
    } catch { /* a URL without a port (data:, blob:): not the daemon's */ }
  });
  tab.on('requestfinished', (r) => { pending.delete(r); });
  tab.on('requestfailed', (r) => {
    pending.delete(r);
    try {
      keep([r.url(), 'failed: ' + (r.failure()?.errorText ?? '?')]);
    } catch { /* diagnostics only */ }
  });
  tab.on('console', (m) => {
    if (m.type() === 'error' && result.console.length < 20) result.console.push(m.text().slice(0, 300));
    // dash.js's warning when a track has no segment at the time it must buffer from (a hole at the start of one
    // AdaptationSet's timeline) and it seeks over it; whether it recovers depends on timing (see MpdWriter.CommonStart).
    if (m.text().includes('because of gap in the manifest')) result.gapSeeks++;
  });
  tab.on('pageerror', (e) => { pageErrors.push({ source: 'pageerror', fatal: true, message: String(e).slice(0, 500) }); });
  await tab.goto(pageUrl);

  const read = () => tab.evaluate(() => {
    const v = document.getElementById('v');
    const s = window.__state;
    let latency = null;
    if (window.__hls && typeof window.__hls.latency === 'number' && Number.isFinite(window.__hls.latency)) latency = window.__hls.latency;
    if (window.__dash && window.__dash.getCurrentLiveLatency) {
      const l = window.__dash.getCurrentLiveLatency();
      if (typeof l === 'number' && Number.isFinite(l) && !Number.isNaN(l)) latency = l;
    }
    const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : {};
    let audioTracks = null;
    let audioLangs = null;
    let audioTrackNow = null;
    if (window.__hls && window.__hls.audioTracks) {
      audioTracks = window.__hls.audioTracks.length;
      audioLangs = window.__hls.audioTracks.map((t) => t.lang ?? null);
      audioTrackNow = window.__hls.audioTrack;
    }
    if (window.__dash) {
      try {
        const tracks = window.__dash.getTracksFor('audio') || [];
        audioTracks = tracks.length;
        audioLangs = tracks.map((t) => t.lang ?? null);
        const now = window.__dash.getCurrentTrackFor('audio');
        audioTrackNow = now ? tracks.findIndex((t) => t.id === now.id && t.lang === now.lang) : null;
      } catch (e) { audioTracks = null; }
    }
    const target = window.__hls ? window.__hls.targetLatency : (window.__dash && window.__dash.getTargetLiveDelay ? window.__dash.getTargetLiveDelay() : null);
    return { ct: v.currentTime, targetLatency: typeof target === 'number' && Number.isFinite(target) ? target : null,
      partsLoaded: s.partsLoaded, fragsLoaded: s.fragsLoaded, paused: v.paused, readyState: v.readyState, playing: s.playing, fatal: s.fatal,
      videoFrames: q.totalVideoFrames ?? null, droppedFrames: q.droppedVideoFrames ?? null,
      audioBytes: typeof v.webkitAudioDecodedByteCount === 'number' ? v.webkitAudioDecodedByteCount : null, audioTracks, audioLangs, audioTrackNow,
      width: v.videoWidth, height: v.videoHeight, switched: s.switched, levelHeights: s.levelHeights, heights: s.heights,
      errors: s.errors, waiting: s.waiting, levels: s.levels, version: s.version, latency, events: s.events };
  });

  // Wait for playback to start (or a fatal error, or the start timeout).
  const t0 = Date.now();
  let st = await read();
  while (Date.now() - t0 < START_TIMEOUT * 1000) {
    if (st.fatal > 0 || pageErrors.length > 0 || (st.playing && st.ct > 0)) break;
    await new Promise((r) => setTimeout(r, 200));
    st = await read();
  }
  result.started = st.playing && st.ct > 0;
  result.startDelay = (Date.now() - t0) / 1000;

  // Sample currentTime for the requested duration (unless a fatal error already ended it).
  const samples = [];
  if (st.fatal === 0 && pageErrors.length === 0 && AUDIO_TRACK !== null && result.started) {
    // Switch the audio track, then measure playback from the switch on.
    await tab.evaluate((n) => {
      if (window.__hls) window.__hls.audioTrack = n;
      else window.__dash.setCurrentTrack(window.__dash.getTracksFor('audio')[n]);
    }, AUDIO_TRACK);
    st = await read();
    result.audioBytesAtSwitch = st.audioBytes;
  }
  if (st.fatal === 0 && pageErrors.length === 0) {
    result.startTime = st.ct;
    const t1 = Date.now();
    let nextSwitch = 0; // index into the forced-switch order (lowest level first)
    let lastSwitch = 0;
    let pending = null; // the level last forced
    let switchedBefore = 0; // LEVEL_SWITCHED events seen when it was forced
    while (Date.now() - t1 < seconds * 1000) {
      await new Promise((r) => setTimeout(r, 500));
      // The next forced switch waits until hls.js has played the previous one (LEVEL_SWITCHED for that level):
      // forcing again earlier would replace a switch that has not happened yet.
      const previousDone = pending === null || st.switched.slice(switchedBefore).includes(pending);
      if (SWITCH_LEVELS && kind === 'hls' && previousDone && Date.now() - lastSwitch >= SWITCH_EVERY * 1000 && nextSwitch < st.levelHeights.length) {
        const order = st.levelHeights.map((h, i) => [h, i]).sort((a, b) => a[0] - b[0]).map((x) => x[1]);
        pending = order[nextSwitch++];
        switchedBefore = st.switched.length;
        await tab.evaluate((l) => { window.__hls.nextLevel = l; }, pending);
        lastSwitch = Date.now();
      }
      st = await read();
      samples.push(Math.round(st.ct * 1000) / 1000);
      if (st.fatal > 0 || pageErrors.length > 0) break;
    }
    result.endTime = st.ct;
    result.advanced = result.endTime - result.startTime;
  }
  result.samples = samples;
  result.errors = [...st.errors, ...pageErrors];
  result.fatal = st.fatal + pageErrors.length;
  result.nonFatal = result.errors.filter((e) => !e.fatal).length;
  result.latency = st.latency;
  result.levels = st.levels;
  result.waiting = st.waiting;
  result.version = st.version;
  result.targetLatency = st.targetLatency;
  result.partsLoaded = st.partsLoaded; // hls.js: LL-HLS parts loaded (FRAG_LOADED with a part)
  result.fragsLoaded = st.fragsLoaded;
  result.requests = requests; // playlist requests the player made: plain, blocking (_HLS_msn), delta (_HLS_skip)
  result.responses = responses; // [path, status] of the daemon's responses, in order (the first 40 and the last 60)
  result.pending = [...pending.values()].map(([path, at]) => [path, Date.now() - at]); // [path, ms waited] still open at the end
  result.videoFrames = st.videoFrames; // decoded video frames (getVideoPlaybackQuality)
  result.droppedFrames = st.droppedFrames;
  result.audioBytes = st.audioBytes; // decoded audio bytes (webkitAudioDecodedByteCount): the audio track plays
  result.audioTracks = st.audioTracks;
  result.audioLangs = st.audioLangs;
  result.audioTrackNow = st.audioTrackNow;
  result.videoSize = `${st.width}x${st.height}`;
  result.events = st.events;
  result.switchedLevels = [...new Set(st.switched)].sort((a, b) => a - b);
  result.levelHeights = st.levelHeights;
  result.heightsSeen = [...st.heights].sort((a, b) => a - b);
  result.ok = result.fatal === 0 && result.started && result.advanced >= seconds / 2;
  if (AUDIO_TRACK !== null) {
    result.audioBytesAfterSwitch = (st.audioBytes ?? 0) - (result.audioBytesAtSwitch ?? 0);
    result.audioSwitchOk = result.audioTrackNow === AUDIO_TRACK && result.audioBytesAfterSwitch > 0;
    result.ok = result.ok && result.audioSwitchOk;
  }
  if (SWITCH_LEVELS) {
    const allSwitched = st.levelHeights.every((_, i) => result.switchedLevels.includes(i));
    const allDecoded = st.levelHeights.every((h) => result.heightsSeen.includes(h));
    result.switchOk = st.levelHeights.length >= 2 && allSwitched && allDecoded;
    result.ok = result.ok && result.switchOk;
  }
  await finish(result.ok ? 0 : 1);
} catch (e) {
  result.errors.push(...pageErrors, { source: 'play.mjs', fatal: true, message: String(e && e.stack || e).slice(0, 1000) });
  result.fatal += pageErrors.length + 1;
  await finish(1);
}
