#!/usr/bin/env node
// A Web Push service and user agent on loopback, for StreamVerse's push sender, written with code that is not
// StreamVerse's: the payload is decrypted with the `http_ece` package (RFC 8188/8291 aes128gcm, by Martin Thomson,
// an author of those RFCs) and the VAPID JWT (RFC 8292) is checked with Node's crypto.
//
//   node push-receiver.mjs
//
// Makes one P-256 key pair and auth secret (the "browser's" subscription keys), listens on 127.0.0.1:0 and prints
// one JSON line: {port, p256dh, auth} (base64url). Then for each POST /push/<name> it prints one JSON line:
//   {name, status, ttl, urgency, encoding, payload, vapid: {valid, k, aud, exp, sub}, at}
// and answers:
//   /push/gone...  410 Gone (the subscription expired)
//   /push/busy...  429 with Retry-After: 2 the first time, then like any other
//   anything else  201 Created after decrypting (400 if it cannot be decrypted or the VAPID JWT is not valid)
// It runs until stdin closes.

import http from 'node:http';
import crypto from 'node:crypto';
import ece from 'http_ece';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const ecdh = crypto.createECDH('prime256v1');
ecdh.generateKeys();
const auth = crypto.randomBytes(16);
const throttled = new Set();

function checkVapid(header, origin) {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (!m) return { valid: false, reason: 'no vapid authorization' };
  const [, jwt, k] = m;
  const [h, c, s] = jwt.split('.');
  const head = JSON.parse(Buffer.from(h, 'base64url').toString());
  const claims = JSON.parse(Buffer.from(c, 'base64url').toString());
  const point = Buffer.from(k, 'base64url');
  const key = crypto.createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33, 65)) },
    format: 'jwk',
  });
  const signed = crypto.verify('sha256', Buffer.from(`${h}.${c}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  const now = Date.now() / 1000;
  const valid = signed && head.alg === 'ES256' && claims.aud === origin && claims.exp > now && claims.exp <= now + 24 * 3600;
  return { valid, k, aud: claims.aud, exp: claims.exp, sub: claims.sub };
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => {
    const name = req.url.replace(/^\/push\//, '');
    const origin = `http://${req.headers.host}`;
    const out = {
      name, ttl: req.headers.ttl ?? null, urgency: req.headers.urgency ?? null, encoding: req.headers['content-encoding'] ?? null,
      payload: null, vapid: null, at: Date.now(),
    };
    let status = 201;
    const headers = {};
    if (name.startsWith('gone')) {
      status = 410;
    } else if (name.startsWith('busy') && !throttled.has(name)) {
      throttled.add(name);
      status = 429;
      headers['Retry-After'] = '2';
    } else {
      try {
        out.vapid = checkVapid(req.headers.authorization, origin);
        const plain = ece.decrypt(Buffer.concat(chunks), { version: 'aes128gcm', privateKey: ecdh, authSecret: b64url(auth) });
        out.payload = JSON.parse(plain.toString('utf8'));
        if (!out.vapid.valid) status = 400;
      } catch (e) {
        out.error = String(e);
        status = 400;
      }
    }
    out.status = status;
    console.log(JSON.stringify(out));
    res.writeHead(status, headers);
    res.end();
  });
});

server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port, p256dh: b64url(ecdh.getPublicKey()), auth: b64url(auth) }));
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
