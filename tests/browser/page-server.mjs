// The page side of the browser scripts (play.mjs, captions.mjs, chat.mjs): the players and the SignalR client from node_modules and a tiny HTTP server
// on 127.0.0.1:0 for the test page (a different origin from the daemon: the daemon's CORS headers must allow it).

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const libraries = {
  '/hls.min.js': path.join(here, 'node_modules/hls.js/dist/hls.min.js'),
  '/dash.all.min.js': path.join(here, 'node_modules/dashjs/dist/modern/umd/dash.all.min.js'),
  '/signalr.min.js': path.join(here, 'node_modules/@microsoft/signalr/dist/browser/signalr.min.js'),
};

/** Exits with 2 (bad set-up) when a player library is missing. */
export function requireLibraries() {
  for (const file of Object.values(libraries)) {
    if (!fs.existsSync(file)) {
      console.error(`missing ${file}: run ./setup.sh deps (npm ci in tests/browser)`);
      process.exit(2);
    }
  }
}

/** Serves `page` at / and the players at their paths; resolves with the listening server. */
export async function servePage(page) {
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    if (p === '/' || p === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(page);
    } else if (p === '/favicon.ico') {
      res.writeHead(204).end();
    } else if (libraries[p]) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      fs.createReadStream(libraries[p]).pipe(res);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
