#!/usr/bin/env node
// Development helper: serves a directory over HTTP with CORS '*' and no caching, the way the daemon serves
// /live/NAME/, so play.mjs and lint-hls.mjs can be exercised against content made by the ffmpeg CLI.
//   node dev/serve-static.mjs <dir> [port]     (prints the base URL)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const [dir, portArg] = process.argv.slice(2);
if (!dir) { console.error('usage: node dev/serve-static.mjs <dir> [port]'); process.exit(2); }
const root = path.resolve(dir);
const types = { '.m3u8': 'application/vnd.apple.mpegurl', '.mpd': 'application/dash+xml', '.m4s': 'video/iso.segment', '.mp4': 'video/mp4', '.m4a': 'audio/mp4', '.ts': 'video/mp2t' };
const server = http.createServer((req, res) => {
  if (req.url === '/time') { // for ffmpeg -utc_timing_url: urn:mpeg:dash:utc:http-xsdate:2014
    res.writeHead(200, { 'access-control-allow-origin': '*', 'content-type': 'text/plain' }).end(new Date().toISOString());
    return;
  }
  const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = path.join(root, rel);
  if (!file.startsWith(root + path.sep)) { res.writeHead(404).end(); return; }
  fs.readFile(file, (err, body) => {
    const headers = { 'access-control-allow-origin': '*', 'cache-control': 'no-cache' };
    if (err) { res.writeHead(404, headers).end(); return; }
    res.writeHead(200, { ...headers, 'content-type': types[path.extname(file)] ?? 'application/octet-stream', 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
});
server.listen(Number(portArg ?? 0), '127.0.0.1', () => console.log(`http://127.0.0.1:${server.address().port}/`));
