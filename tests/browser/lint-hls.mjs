#!/usr/bin/env node
// HLS / Low-Latency HLS playlist conformance check.
//
//   node lint-hls.mjs <url-of-master-playlist>
//
// Fetches the multivariant ("master") playlist and every media playlist it references; for a live media
// playlist also the blocking reload for its preload hint (?_HLS_msn=N&_HLS_part=P) and the delta update
// (?_HLS_skip=YES). Each response is parsed with hls-parser in strict mode and checked by the explicit rules
// below (draft-pantos-hls-rfc8216bis). hls-parser 0.16 strict mode does parse the LL-HLS tags (EXT-X-PART,
// EXT-X-PART-INF, EXT-X-PRELOAD-HINT, EXT-X-SERVER-CONTROL, EXT-X-SKIP, EXT-X-RENDITION-REPORT) and enforces
// some of their rules, but only checks PART-HOLD-BACK >= PART-TARGET, stops at the first violation and
// doesn't look at the _HLS_ query semantics, so the rules are also checked here, on the text, independently.
//
// Prints one JSON line { ok, checked: [urls], problems: [...], warnings: [...], observed: {mediaUrl: {...}} };
// observed holds per media playlist its window, the blocking request made and how many segments the delta
// update skipped. Exit 1 on any problem,
// 2 on bad usage. Warnings (SHOULD-level or timing-dependent observations) don't fail the run.

import HLS from 'hls-parser';

const masterUrl = process.argv[2];
if (!masterUrl) {
  console.error('usage: node lint-hls.mjs <url-of-master-playlist>');
  process.exit(2);
}

const checked = [];
const observed = {}; // per media playlist: what the LL-HLS requests returned (for callers to assert on)
const problems = [];
const warnings = [];
const problem = (url, msg) => problems.push(`${url}: ${msg}`);
const warn = (url, msg) => warnings.push(`${url}: ${msg}`);
const PLAYLIST_TYPES = ['application/vnd.apple.mpegurl', 'audio/mpegurl', 'application/x-mpegurl'];

async function get(url, { method = 'GET', timeoutMs = 15000 } = {}) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  const started = Date.now();
  try {
    const res = await fetch(url, { method, signal: ctl.signal, headers: { origin: 'http://lint.invalid' } });
    const body = method === 'HEAD' ? null : Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, body, ms: Date.now() - started };
  } catch (e) {
    return { status: 0, error: ctl.signal.aborted ? `no response in ${timeoutMs} ms` : String(e.cause ?? e), ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

// ---- A small, independent reading of a playlist's text (enough for the rules checked here) ----

function parseAttributes(s) {
  const attrs = {};
  const re = /([A-Z0-9-]+)=("[^"]*"|[^,]*)/g;
  let m;
  while ((m = re.exec(s)) !== null) {
    attrs[m[1]] = m[2].startsWith('"') ? m[2].slice(1, -1) : m[2];
  }
  return attrs;
}

function readMedia(text) {
  const p = {
    version: null, targetDuration: null, mediaSequence: 0, skipped: 0, hasSkip: false, hasMap: false, mapUri: null,
    partTarget: null, serverControl: null, endlist: false, iframesOnly: false, segments: [], openParts: [],
    hints: [], renditionReports: [], versionCount: 0, floatExtinf: false,
  };
  let pendingDuration = null;
  let parts = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    if (!line.startsWith('#')) {
      p.segments.push({ duration: pendingDuration, uri: line, parts });
      pendingDuration = null;
      parts = [];
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? line.slice(1) : line.slice(1, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1);
    switch (name) {
      case 'EXT-X-VERSION': p.version = Number(value); p.versionCount++; break;
      case 'EXT-X-TARGETDURATION': p.targetDuration = Number(value); break;
      case 'EXT-X-MEDIA-SEQUENCE': p.mediaSequence = Number(value); break;
      case 'EXT-X-ENDLIST': p.endlist = true; break;
      case 'EXT-X-I-FRAMES-ONLY': p.iframesOnly = true; break;
      case 'EXT-X-MAP': p.hasMap = true; p.mapUri ??= parseAttributes(value).URI; break;
      case 'EXT-X-PART-INF': p.partTarget = Number(parseAttributes(value)['PART-TARGET']); break;
      case 'EXT-X-SERVER-CONTROL': p.serverControl = parseAttributes(value); break;
      case 'EXT-X-SKIP': p.hasSkip = true; p.skipped = Number(parseAttributes(value)['SKIPPED-SEGMENTS']); break;
      case 'EXT-X-PRELOAD-HINT': p.hints.push(parseAttributes(value)); break;
      case 'EXT-X-RENDITION-REPORT': p.renditionReports.push(parseAttributes(value)); break;
      case 'EXTINF': {
        const d = value.split(',')[0];
        pendingDuration = Number(d);
        if (!/^\d+$/.test(d)) p.floatExtinf = true;
        break;
      }
      case 'EXT-X-PART': {
        const a = parseAttributes(value);
        parts.push({ duration: Number(a.DURATION), uri: a.URI, independent: a.INDEPENDENT === 'YES', gap: a.GAP === 'YES' });
        break;
      }
      default: break;
    }
  }
  p.openParts = parts; // EXT-X-PART tags after the last complete segment
  // Media sequence numbers: EXT-X-SKIP's skipped segments come first.
  const first = p.mediaSequence + p.skipped;
  p.segments.forEach((s, i) => { s.msn = first + i; });
  p.nextMsn = first + p.segments.length; // the MSN of the segment being built (the open one)
  return p;
}

const num = (v) => (v === undefined || v === null || v === '' ? undefined : Number(v));

// ---- The rules ----

// hls-parser findings that are SHOULD-level in the draft, or stricter than it, become warnings; the rule is then
// checked exactly by the code below.
const DEMOTED = [
  // draft 6.2.2: EXT-X-PART tags SHOULD be removed once more than three target durations from the end
  // (hls-parser counts segments, including the open one, instead of durations).
  'Remove EXT-X-PART tags from the Playlist after they are greater than three target durations',
  // draft 4.4.4.9 exempts INDEPENDENT=YES parts and the final part of a segment from the 85% floor;
  // hls-parser exempts only the last one listed. Checked below with the draft's exemptions.
  'must have a duration of at least 85% of PART-TARGET',
];

// Strict parse; when it rejects the playlist, a second, non-strict pass collects every finding (hls-parser
// reports each through console.error and goes on) so one violation doesn't hide the next.
function hlsParser(url, text, expectMaster) {
  HLS.setOptions({ strictMode: true, silent: true });
  try {
    const parsed = HLS.parse(text);
    if (parsed.isMasterPlaylist !== expectMaster) problem(url, `hls-parser read a ${parsed.isMasterPlaylist ? 'multivariant' : 'media'} playlist where the other was expected`);
    return parsed;
  } catch (strictError) {
    const found = [];
    const original = console.error;
    console.error = (m) => found.push(String(m));
    HLS.setOptions({ strictMode: false, silent: false });
    try {
      HLS.parse(text);
    } catch (e) {
      found.push(String(e?.message ?? e));
    } finally {
      console.error = original;
      HLS.setOptions({ strictMode: true, silent: true });
    }
    if (!found.includes(strictError.message)) found.unshift(strictError.message);
    for (const m of new Set(found)) {
      if (DEMOTED.some((d) => m.includes(d))) warn(url, `hls-parser (strict, SHOULD-level or stricter than the draft): ${m}`);
      else problem(url, `hls-parser (strict): ${m}`);
    }
    return null;
  }
}

function checkMedia(url, text, p) {
  hlsParser(url, text, false);

  if (!text.startsWith('#EXTM3U')) problem(url, 'the first line is not #EXTM3U');
  if (p.versionCount > 1) problem(url, 'more than one EXT-X-VERSION');
  const version = p.version ?? 1;

  // EXT-X-TARGETDURATION: required, and every EXTINF rounded to the nearest integer <= it.
  if (!Number.isInteger(p.targetDuration) || p.targetDuration <= 0) {
    problem(url, `EXT-X-TARGETDURATION missing or not a positive integer (${p.targetDuration})`);
  }
  for (const s of p.segments) {
    if (!(s.duration >= 0)) problem(url, `segment ${s.msn} (${s.uri}) has no valid EXTINF`);
    else if (Math.round(s.duration) > p.targetDuration) {
      problem(url, `EXTINF ${s.duration} of segment ${s.msn} (${s.uri}) rounds above EXT-X-TARGETDURATION ${p.targetDuration}`);
    }
  }

  // EXT-X-VERSION: >= 3 with decimal EXTINF, >= 6 with EXT-X-MAP (no I-frames-only), >= 9 with EXT-X-SKIP.
  if (p.floatExtinf && version < 3) problem(url, `EXT-X-VERSION ${version} < 3 with decimal EXTINF durations`);
  if (p.hasMap && !p.iframesOnly && version < 6) problem(url, `EXT-X-VERSION ${version} < 6 with EXT-X-MAP`);
  if (p.hasSkip && version < 9) problem(url, `EXT-X-VERSION ${version} < 9 with EXT-X-SKIP`);

  const sc = p.serverControl ?? {};
  const allParts = [...p.segments.flatMap((s) => s.parts.map((x) => ({ ...x, msn: s.msn }))), ...p.openParts.map((x) => ({ ...x, msn: p.nextMsn }))];
  const hasParts = allParts.length > 0;

  if (hasParts || p.partTarget !== null) {
    if (!(p.partTarget > 0)) problem(url, 'EXT-X-PART present without a valid EXT-X-PART-INF:PART-TARGET');
    if (!p.serverControl) problem(url, 'LL-HLS playlist (EXT-X-PART-INF) without EXT-X-SERVER-CONTROL');
    else if (sc['CAN-BLOCK-RELOAD'] !== 'YES') problem(url, 'LL-HLS playlist without EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES');
    const phb = num(sc['PART-HOLD-BACK']);
    if (phb === undefined) problem(url, 'EXT-X-PART-INF present but EXT-X-SERVER-CONTROL has no PART-HOLD-BACK');
    else if (p.partTarget > 0 && phb < 3 * p.partTarget) {
      problem(url, `PART-HOLD-BACK ${phb} < 3 x PART-TARGET ${p.partTarget} (MUST be >= 2x, SHOULD be >= 3x)`);
    }
  }
  for (const part of allParts) {
    if (!(part.duration > 0)) problem(url, `EXT-X-PART ${part.uri} has no valid DURATION`);
    else if (p.partTarget > 0 && part.duration > p.partTarget) {
      problem(url, `EXT-X-PART ${part.uri} DURATION ${part.duration} > PART-TARGET ${p.partTarget}`);
    }
    if (!part.uri) problem(url, 'EXT-X-PART without URI');
  }
  // draft 4.4.4.9: every part >= 85% of PART-TARGET, except INDEPENDENT=YES parts, GAP parts and the final part
  // of its segment (for the open segment the last listed part may still turn out final: not judged).
  if (p.partTarget > 0) {
    const lists = [...p.segments.map((s) => ({ msn: s.msn, parts: s.parts, complete: true })), { msn: p.nextMsn, parts: p.openParts, complete: false }];
    for (const { parts } of lists) {
      parts.forEach((x, i) => {
        if (i === parts.length - 1 || x.independent || x.gap || !(x.duration > 0)) return;
        if (x.duration < 0.85 * p.partTarget) problem(url, `EXT-X-PART ${x.uri} DURATION ${x.duration} < 85% of PART-TARGET ${p.partTarget} (not INDEPENDENT, not the final part)`);
      });
    }
  }
  // draft 6.2.2: parts more than three target durations from the end SHOULD be removed; StreamVerse does,
  // so this linter holds it to that (the selftest has a case for it).
  if (p.targetDuration > 0) {
    let fromEnd = p.openParts.reduce((a, x) => a + (x.duration || 0), 0);
    for (let i = p.segments.length - 1; i >= 0; i--) {
      const s = p.segments[i];
      if (s.parts.length > 0 && fromEnd > 3 * p.targetDuration) {
        problem(url, `segment ${s.msn} still lists EXT-X-PART tags ${fromEnd.toFixed(3)} s from the end (SHOULD be removed after 3 x target duration)`);
        break;
      }
      fromEnd += s.duration || 0;
    }
  }
  // Parts of a complete segment should add up to its EXTINF (a SHOULD-level observation).
  for (const s of p.segments) {
    if (s.parts.length > 0 && s.duration > 0) {
      const sum = s.parts.reduce((a, x) => a + (x.duration || 0), 0);
      if (Math.abs(sum - s.duration) > 0.05) warn(url, `parts of segment ${s.msn} add up to ${sum.toFixed(3)} s, its EXTINF is ${s.duration}`);
    }
  }

  const partHints = p.hints.filter((h) => h.TYPE === 'PART');
  for (const h of p.hints) {
    if (!h.TYPE || !h.URI) problem(url, `EXT-X-PRELOAD-HINT without TYPE or URI: ${JSON.stringify(h)}`);
  }
  if (partHints.length > 1) problem(url, 'more than one EXT-X-PRELOAD-HINT:TYPE=PART');
  if (hasParts && !p.endlist && partHints.length === 0) problem(url, 'EXT-X-PART present but no EXT-X-PRELOAD-HINT:TYPE=PART (live playlist)');

  const csu = num(sc['CAN-SKIP-UNTIL']);
  if (csu !== undefined && csu < 6 * p.targetDuration) problem(url, `CAN-SKIP-UNTIL ${csu} < 6 x EXT-X-TARGETDURATION ${p.targetDuration}`);
  const hb = num(sc['HOLD-BACK']);
  if (hb !== undefined && hb < 3 * p.targetDuration) problem(url, `HOLD-BACK ${hb} < 3 x EXT-X-TARGETDURATION ${p.targetDuration}`);
  if (p.hasSkip) {
    if (csu === undefined) problem(url, 'EXT-X-SKIP in a playlist whose EXT-X-SERVER-CONTROL has no CAN-SKIP-UNTIL');
    if (!Number.isInteger(p.skipped) || p.skipped < 0) problem(url, `EXT-X-SKIP:SKIPPED-SEGMENTS not a decimal integer`);
  }

  for (const r of p.renditionReports) {
    if (!r.URI) problem(url, 'EXT-X-RENDITION-REPORT without URI');
    else if (/^[a-z][a-z0-9+.-]*:/i.test(r.URI)) problem(url, `EXT-X-RENDITION-REPORT URI ${r.URI} is not relative`);
  }
}

async function checkResources(url, p) {
  // The init section, the last complete segment and the last listed part must be there.
  if (p.mapUri) {
    const u = new URL(p.mapUri, url).href;
    const r = await get(u);
    if (r.status !== 200) problem(u, `EXT-X-MAP init section: HTTP ${r.status || r.error}`);
    else if (r.body.length < 8 || r.body.subarray(4, 8).toString('latin1') !== 'ftyp') problem(u, 'EXT-X-MAP init section does not start with an ftyp box');
  }
  const last = p.segments.at(-1);
  if (last) {
    const u = new URL(last.uri, url).href;
    const r = await get(u, { method: 'HEAD' });
    if (r.status !== 200) problem(u, `last segment (msn ${last.msn}): HEAD ${r.status || r.error}`);
  }
  const lastPart = p.openParts.at(-1) ?? last?.parts.at(-1);
  if (lastPart?.uri) {
    const u = new URL(lastPart.uri, url).href;
    const r = await get(u, { method: 'HEAD' });
    if (r.status !== 200) problem(u, `last listed part: HEAD ${r.status || r.error}`);
  }
}

async function fetchPlaylist(url, opts) {
  checked.push(url);
  const r = await get(url, opts);
  if (r.status !== 200) {
    problem(url, `HTTP ${r.status || r.error}`);
    return null;
  }
  const type = (r.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (!PLAYLIST_TYPES.includes(type)) problem(url, `Content-Type "${type}" is not application/vnd.apple.mpegurl (or audio/mpegurl)`);
  if (r.headers.get('access-control-allow-origin') === null) warn(url, 'no Access-Control-Allow-Origin header (browser players on another origin cannot load it)');
  return { text: r.body.toString('utf8'), ms: r.ms };
}

async function lintMedia(url, masterMedia) {
  const plain = await fetchPlaylist(url);
  if (!plain) return;
  const p = readMedia(plain.text);
  observed[url] = {
    endlist: p.endlist, segments: p.segments.length, duration: Math.round(p.segments.reduce((a, x) => a + (x.duration || 0), 0) * 1000) / 1000,
    targetDuration: p.targetDuration, partTarget: p.partTarget, serverControl: p.serverControl,
  };
  checkMedia(url, plain.text, p);
  await checkResources(url, p);

  // Rendition reports must name other renditions of the same presentation.
  for (const r of p.renditionReports) {
    if (r.URI && masterMedia && !masterMedia.has(new URL(r.URI, url).href)) {
      problem(url, `EXT-X-RENDITION-REPORT URI ${r.URI} is not a rendition listed in the multivariant playlist`);
    }
  }

  if (p.endlist) return; // ended: nothing to block on, no deltas to ask for
  const sc = p.serverControl ?? {};

  // Blocking playlist reload for the hinted part.
  const hint = p.hints.find((h) => h.TYPE === 'PART');
  if (hint && sc['CAN-BLOCK-RELOAD'] === 'YES') {
    const msn = p.nextMsn;
    const part = p.openParts.length; // the hinted part is the next part of the open segment
    const blockUrl = `${url}${url.includes('?') ? '&' : '?'}_HLS_msn=${msn}&_HLS_part=${part}`;
    const budget = Math.max(3 * (p.targetDuration || 1), 3) * 1000 + 5000;
    const blocked = await fetchPlaylist(blockUrl, { timeoutMs: budget });
    observed[url].blocking = { msn, part, ms: blocked?.ms ?? null };
    if (blocked) {
      const b = readMedia(blocked.text);
      checkMedia(blockUrl, blocked.text, b);
      // The response must contain that part (or anything later): the open segment has > part parts, or the
      // segment msn is complete.
      const has = b.nextMsn > msn || (b.nextMsn === msn && b.openParts.length > part);
      if (!has) problem(blockUrl, `blocking reload returned without part ${msn}.${part} (playlist ends at msn ${b.nextMsn} with ${b.openParts.length} parts, after ${blocked.ms} ms)`);
      if (b.openParts.length > part && b.nextMsn === msn && hint.URI && b.openParts[part].uri !== hint.URI) {
        problem(blockUrl, `part ${msn}.${part} is ${b.openParts[part].uri}, the preload hint promised ${hint.URI}`);
      }
      if (b.mediaSequence < p.mediaSequence) problem(blockUrl, `EXT-X-MEDIA-SEQUENCE went back from ${p.mediaSequence} to ${b.mediaSequence}`);
    }
  } else if (p.openParts.length > 0 || p.segments.some((s) => s.parts.length > 0)) {
    problem(url, 'live playlist with parts but no usable PRELOAD-HINT/CAN-BLOCK-RELOAD: blocking reload not checked');
  }

  // Delta update.
  const csu = num(sc['CAN-SKIP-UNTIL']);
  if (csu !== undefined) {
    const skipUrl = `${url}${url.includes('?') ? '&' : '?'}_HLS_skip=YES`;
    const delta = await fetchPlaylist(skipUrl);
    if (delta) {
      const d = readMedia(delta.text);
      observed[url].skippedSegments = d.hasSkip ? d.skipped : 0;
      checkMedia(skipUrl, delta.text, d);
      const total = p.segments.reduce((a, s) => a + (s.duration || 0), 0);
      if (!d.hasSkip) {
        const msg = `no EXT-X-SKIP in the delta update (playlist holds ${total.toFixed(1)} s, CAN-SKIP-UNTIL ${csu})`;
        if (total > csu + 2 * p.targetDuration) problem(skipUrl, msg); else warn(skipUrl, msg);
      } else {
        const kept = d.segments.reduce((a, s) => a + (s.duration || 0), 0);
        if (d.skipped <= 0) problem(skipUrl, `EXT-X-SKIP:SKIPPED-SEGMENTS=${d.skipped}`);
        // Only segments more than the Skip Boundary from the end may be skipped.
        if (kept < csu - p.targetDuration) problem(skipUrl, `delta update keeps only ${kept.toFixed(3)} s of segments, less than CAN-SKIP-UNTIL ${csu} (minus one target duration)`);
        if (d.mediaSequence !== p.mediaSequence && d.mediaSequence < p.mediaSequence) problem(skipUrl, `EXT-X-MEDIA-SEQUENCE went back from ${p.mediaSequence} to ${d.mediaSequence}`);
        // The first segment after the skip must be one the full playlist has (same URI for the same MSN).
        const firstKept = d.segments[0];
        const same = firstKept && p.segments.find((s) => s.msn === firstKept.msn);
        if (firstKept && same && same.uri !== firstKept.uri) {
          problem(skipUrl, `after EXT-X-SKIP, msn ${firstKept.msn} is ${firstKept.uri}; the full playlist has ${same.uri}`);
        }
      }
    }
  }
}

async function main() {
  const m = await fetchPlaylist(masterUrl);
  if (!m) return;
  const isMaster = /#EXT-X-STREAM-INF/.test(m.text);
  if (isMaster) hlsParser(masterUrl, m.text, true);
  else {
    // Given a media playlist: lint just that.
    checked.pop();
    await lintMedia(masterUrl, null);
    return;
  }

  // Multivariant playlist rules on the text.
  const lines = m.text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const groups = new Map(); // "TYPE/GROUP-ID" -> [uris]
  const media = new Set();
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('#EXT-X-MEDIA:')) {
      const a = parseAttributes(lines[i].slice('#EXT-X-MEDIA:'.length));
      if (!a.TYPE || !a['GROUP-ID'] || !a.NAME) problem(masterUrl, `EXT-X-MEDIA without TYPE, GROUP-ID or NAME: ${lines[i]}`);
      const key = `${a.TYPE}/${a['GROUP-ID']}`;
      if (!groups.has(key)) groups.set(key, []);
      if (a.URI) {
        if (a.TYPE === 'CLOSED-CAPTIONS') problem(masterUrl, 'EXT-X-MEDIA TYPE=CLOSED-CAPTIONS must not have a URI');
        groups.get(key).push(a.URI);
        media.add(new URL(a.URI, masterUrl).href);
      }
    }
  }
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('#EXT-X-STREAM-INF:')) {
      const a = parseAttributes(lines[i].slice('#EXT-X-STREAM-INF:'.length));
      const uri = lines[i + 1];
      if (!uri || uri.startsWith('#')) { problem(masterUrl, 'EXT-X-STREAM-INF not followed by a URI line'); continue; }
      if (!(Number(a.BANDWIDTH) > 0)) problem(masterUrl, `EXT-X-STREAM-INF for ${uri} without a valid BANDWIDTH`);
      if (!a.CODECS) problem(masterUrl, `EXT-X-STREAM-INF for ${uri} without CODECS (SHOULD be present; players need it for MSE)`);
      for (const [attr, type] of [['AUDIO', 'AUDIO'], ['VIDEO', 'VIDEO'], ['SUBTITLES', 'SUBTITLES']]) {
        if (a[attr] && !groups.has(`${type}/${a[attr]}`)) problem(masterUrl, `EXT-X-STREAM-INF ${attr}="${a[attr]}" names no EXT-X-MEDIA TYPE=${type} group`);
      }
      media.add(new URL(uri, masterUrl).href);
    }
  }
  if (media.size === 0) problem(masterUrl, 'the multivariant playlist references no media playlists');
  for (const url of media) {
    await lintMedia(url, media);
  }
}

const watchdog = setTimeout(() => {
  problems.push('lint-hls: did not finish within 90 s');
  done();
}, 90000);

function done() {
  clearTimeout(watchdog);
  process.stdout.write(JSON.stringify({ ok: problems.length === 0, checked, problems, warnings, observed }) + '\n');
  process.exit(problems.length === 0 ? 0 : 1);
}

main().then(done, (e) => { problems.push(`lint-hls crashed: ${e?.stack ?? e}`); done(); });
