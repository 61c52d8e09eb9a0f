#!/usr/bin/env node
// Self-test of lint-hls.mjs: serves synthetic LL-HLS playlists (a conforming one and one broken copy per rule)
// from an in-process server that also answers _HLS_msn/_HLS_part and _HLS_skip=YES, runs lint-hls.mjs on each
// and checks the verdict. No media: init/segment/part URLs answer with a minimal ftyp box.
//   node selftest-lint.mjs      (exit 0 when every case gives the expected verdict)

import http from 'node:http';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

// A live LL-HLS media playlist: msn 10.. complete 2 s segments, parts on the last three and on the open segment.
function media(o = {}) {
  const cfg = {
    version: 9, td: 2, partTarget: 0.5, phb: 1.5, csu: 12, segments: 10, openParts: 2, partDuration: 0.5,
    hint: true, extinf: 2.0, shortPart: -1, shortIndependent: false, skip: 0, name: 'v', endlist: false, partSegments: 3, ...o,
  };
  const first = 10;
  const out = ['#EXTM3U', `#EXT-X-VERSION:${cfg.version}`, `#EXT-X-TARGETDURATION:${cfg.td}`,
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${cfg.phb}${cfg.csu ? `,CAN-SKIP-UNTIL=${cfg.csu}` : ''}`,
    `#EXT-X-PART-INF:PART-TARGET=${cfg.partTarget}`, `#EXT-X-MEDIA-SEQUENCE:${first}`];
  if (cfg.skip > 0) out.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${cfg.skip}`);
  else out.push(`#EXT-X-MAP:URI="${cfg.name}_init.mp4"`);
  for (let i = cfg.skip; i < cfg.segments; i++) {
    const msn = first + i;
    if (i >= cfg.segments - cfg.partSegments && !cfg.endlist) {
      for (let p = 0; p < 4; p++) {
        const d = p === 3 ? cfg.partDuration : p === cfg.shortPart ? 0.3 : 0.5;
        const independent = p === 0 || (p === cfg.shortPart && cfg.shortIndependent);
        out.push(`#EXT-X-PART:DURATION=${d},URI="${cfg.name}_${msn}.${p}.m4s"${independent ? ',INDEPENDENT=YES' : ''}`);
      }
    }
    out.push(`#EXTINF:${cfg.extinf.toFixed(3)},`, `${cfg.name}_${msn}.m4s`);
  }
  const open = first + cfg.segments;
  if (!cfg.endlist) {
    for (let p = 0; p < cfg.openParts; p++) out.push(`#EXT-X-PART:DURATION=0.5,URI="${cfg.name}_${open}.${p}.m4s"${p === 0 ? ',INDEPENDENT=YES' : ''}`);
    if (cfg.hint) out.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${cfg.name}_${open}.${cfg.openParts}.m4s"`);
    const other = cfg.name === 'v' ? 'a' : 'v';
    out.push(`#EXT-X-RENDITION-REPORT:URI="${other}.m3u8",LAST-MSN=${open},LAST-PART=${cfg.openParts - 1}`);
  } else {
    out.push('#EXT-X-ENDLIST');
  }
  return out.join('\n') + '\n';
}

const MASTER = `#EXTM3U
#EXT-X-VERSION:9
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="main",DEFAULT=YES,AUTOSELECT=YES,URI="a.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=400000,CODECS="avc1.64000d,mp4a.40.2",RESOLUTION=320x240,AUDIO="aud"
v.m3u8
`;

// Each case: overrides for the plain, blocking and skip responses; expected ok and a problem substring.
const cases = [
  { name: 'conforming live LL-HLS', ok: true },
  { name: 'conforming ended playlist', ok: true, plain: { endlist: true }, block: { endlist: true }, skipped: { endlist: true } },
  { name: 'PART-HOLD-BACK < 3x PART-TARGET', ok: false, expect: 'PART-HOLD-BACK 1 < 3 x PART-TARGET', all: { phb: 1.0 } },
  { name: 'EXT-X-PART DURATION > PART-TARGET', ok: false, expect: 'DURATION 0.6 > PART-TARGET 0.5', all: { partDuration: 0.6 } },
  { name: 'EXTINF above TARGETDURATION', ok: false, expect: 'rounds above EXT-X-TARGETDURATION', all: { extinf: 2.6 } },
  { name: 'VERSION < 6 with EXT-X-MAP', ok: false, expect: '< 6 with EXT-X-MAP', plain: { version: 5 }, block: { version: 5 } },
  { name: 'VERSION < 9 with EXT-X-SKIP', ok: false, expect: '< 9 with EXT-X-SKIP', skipped: { version: 8 } },
  { name: 'CAN-SKIP-UNTIL < 6x target', ok: false, expect: 'CAN-SKIP-UNTIL 6 < 6 x', all: { csu: 6 } },
  { name: 'parts without PRELOAD-HINT', ok: false, expect: 'no EXT-X-PRELOAD-HINT', all: { hint: false } },
  { name: 'short part (< 85% PART-TARGET) mid-segment', ok: false, expect: '< 85% of PART-TARGET', all: { shortPart: 1 } },
  { name: 'parts kept beyond 3 x target duration', ok: false, expect: 'still lists EXT-X-PART tags', all: { partSegments: 4 } },
  { name: 'short INDEPENDENT part is allowed', ok: true, all: { shortPart: 1, shortIndependent: true } },
  { name: 'blocking reload returns early', ok: false, expect: 'blocking reload returned without part', block: { openParts: 2 } },
  { name: 'delta update skips into the skip boundary', ok: false, expect: 'delta update keeps only', skipped: { skip: 8 } },
  { name: 'no delta update though the playlist is long', ok: false, expect: 'no EXT-X-SKIP in the delta update', skipped: { skip: 0 } },
];

let current = cases[0];
const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  const send = (type, body) => {
    res.writeHead(200, { 'content-type': type, 'access-control-allow-origin': '*' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (u.pathname === '/master.m3u8') return send('application/vnd.apple.mpegurl', MASTER);
  const m = /^\/(v|a)\.m3u8$/.exec(u.pathname);
  if (m) {
    const base = { name: m[1], ...current.all };
    if (u.searchParams.has('_HLS_msn')) return send('application/vnd.apple.mpegurl', media({ openParts: 3, ...base, ...current.block }));
    if (u.searchParams.get('_HLS_skip') === 'YES') return send('application/vnd.apple.mpegurl', media({ skip: 4, ...base, ...current.skipped }));
    return send('application/vnd.apple.mpegurl', media({ ...base, ...current.plain }));
  }
  if (/\.(m4s|mp4)$/.test(u.pathname)) {
    const ftyp = Buffer.from([0, 0, 0, 16, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x36, 0, 0, 0, 0]);
    return send('video/mp4', ftyp);
  }
  res.writeHead(404).end();
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/master.m3u8`;

let failed = 0;
for (const c of cases) {
  current = c;
  const { code, out } = await new Promise((resolve) => {
    execFile(process.execPath, [path.join(here, 'lint-hls.mjs'), url], { timeout: 60000 }, (err, stdout) => {
      resolve({ code: err ? err.code : 0, out: stdout });
    });
  });
  let verdict;
  try { verdict = JSON.parse(out); } catch { verdict = { ok: null, problems: [out] }; }
  const good = verdict.ok === c.ok && code === (c.ok ? 0 : 1) &&
    (c.ok || verdict.problems.some((p) => p.includes(c.expect)));
  if (!good) failed++;
  console.log(`${good ? 'PASS' : 'FAIL'}  ${c.name}${good ? '' : `\n      exit ${code}: ${JSON.stringify(verdict)}`}`);
}
server.close();
console.log(failed === 0 ? `all ${cases.length} cases give the expected verdict` : `${failed} case(s) failed`);
process.exit(failed === 0 ? 0 : 1);
