// A viewer's page in headless Chromium with the SignalR JavaScript client (@microsoft/signalr): it connects to a daemon's
// real-time socket anonymously, joins a video's chat, and waits for a chat message with the expected text.
//   node chat.mjs <daemon base URL> <video id> <expected text> [seconds]
// Prints "joined" once the chat is joined (the caller sends its message after that), then one JSON line with the message
// received; exit 0 when it came, 1 on a time-out or a page error, 2 on a bad set-up.
// WebSockets without negotiation: the page's origin is not the daemon's, and a WebSocket needs no CORS.

import { chromium } from 'playwright-core';
import { requireLibraries, servePage } from './page-server.mjs';

const [baseUrl, videoId, expected, secondsArg] = process.argv.slice(2);
if (!baseUrl || !videoId || !expected) {
  console.error('usage: node chat.mjs <daemon base URL> <video id> <expected text> [seconds]');
  process.exit(2);
}
requireLibraries();
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hubUrl = baseUrl.replace(/\/$/, '') + '/api/v1/realtime';
const page = `<!doctype html><meta charset="utf-8"><script src="/signalr.min.js"></script>
<script>
window.chat = { joined: false, received: [], error: null };
const connection = new signalR.HubConnectionBuilder()
  .withUrl(${JSON.stringify(hubUrl)}, { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets })
  .build();
connection.on('chat.message', (m) => window.chat.received.push(m));
connection.start()
  .then(() => connection.invoke('JoinChat', ${JSON.stringify(videoId)}))
  .then(() => { window.chat.joined = true; })
  .catch((e) => { window.chat.error = String(e); });
</script>`;

const server = await servePage(page);
const { port } = server.address();
let browser;
let code = 1;
const deadline = Date.now() + 1000 * Number(secondsArg ?? 60);
try {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync'] });
  const tab = await browser.newPage();
  tab.on('pageerror', (e) => console.error('page error: ' + e.message));
  await tab.goto(`http://127.0.0.1:${port}/`);
  let joined = false;
  while (Date.now() < deadline) {
    const state = await tab.evaluate(() => window.chat);
    if (state.error) {
      console.error('chat error: ' + state.error);
      break;
    }
    if (state.joined && !joined) {
      joined = true;
      process.stdout.write('joined\n');
    }
    const hit = state.received.find((m) => m.text === expected);
    if (hit) {
      process.stdout.write(JSON.stringify(hit) + '\n');
      code = 0;
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (code !== 0) console.error('no chat message with the expected text arrived');
} catch (e) {
  console.error(String(e));
} finally {
  try { await browser?.close(); } catch { /* already gone */ }
  server.close();
}
process.exit(code);
