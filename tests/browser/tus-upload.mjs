// Uploads a file to a tus 1.0 endpoint with the real tus-js-client (Node), optionally interrupting it and resuming.
//
//   node tus-upload.mjs <endpoint> <token> <file> <videoId> [--interrupt-after BYTES] [--chunk-size BYTES]
//
// Prints one line of JSON: {"uploadUrl": ..., "bytes": <final offset>, "resumedFrom": <offset the server reported
// on resume, or null>}. Exit code 1 with the error on stderr on failure.
//
// Checksums: tus-js-client 4.3.1 does not implement the checksum extension, so every PATCH gets an
// Upload-Checksum (sha1 of exactly the bytes that PATCH carries, read from the file at its Upload-Offset) through
// the client's onBeforeRequest hook. A chunk cut off by the interruption therefore fails verification on the
// server and is discarded, and the resumed upload restarts at the last whole chunk.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import tus from 'tus-js-client';

const args = process.argv.slice(2);
const [endpoint, token, file, videoId] = args;
if (!endpoint || !token || !file || !videoId) {
  console.error('usage: node tus-upload.mjs <endpoint> <token> <file> <videoId> [--interrupt-after BYTES] [--chunk-size BYTES]');
  process.exit(2);
}
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : null;
};
const interruptAfter = flag('--interrupt-after');
const chunkSize = flag('--chunk-size') ?? 256 * 1024;
const size = fs.statSync(file).size;
const fd = fs.openSync(file, 'r');

function sha1Of(offset, length) {
  const buffer = Buffer.alloc(length);
  fs.readSync(fd, buffer, 0, length, offset);
  return crypto.createHash('sha1').update(buffer).digest('base64');
}

function run(extra) {
  return new Promise((resolve, reject) => {
    let interrupted = false;
    const upload = new tus.Upload(fs.createReadStream(file), {
      endpoint,
      chunkSize,
      uploadSize: size,
      metadata: { videoId, filename: path.basename(file), filetype: 'application/octet-stream' },
      headers: { Authorization: `Bearer ${token}` },
      retryDelays: [],
      storeFingerprintForResuming: false,
      onBeforeRequest(req) {
        if (req.getMethod() === 'PATCH') {
          const offset = Number(req.getHeader('Upload-Offset'));
          req.setHeader('Upload-Checksum', `sha1 ${sha1Of(offset, Math.min(chunkSize, size - offset))}`);
        }
      },
      onAfterResponse(req, res) {
        if (req.getMethod() === 'HEAD' && extra.onHead) {
          extra.onHead(Number(res.getHeader('Upload-Offset')));
        }
      },
      onProgress(sent) {
        if (extra.interruptAfter != null && !interrupted && sent >= extra.interruptAfter) {
          interrupted = true;
          // abort() cancels the PATCH in flight: the server sees the body end early.
          upload.abort().then(() => resolve({ url: upload.url, interrupted: true }), reject);
        }
      },
      onSuccess() {
        resolve({ url: upload.url, interrupted: false });
      },
      onError: reject,
      ...(extra.uploadUrl ? { uploadUrl: extra.uploadUrl } : {}),
    });
    upload.start();
  });
}

try {
  let resumedFrom = null;
  let result = await run({ interruptAfter });
  if (result.interrupted) {
    result = await run({ uploadUrl: result.url, onHead: (offset) => { resumedFrom ??= offset; } });
  }
  if (result.interrupted) {
    throw new Error('the resumed upload did not finish');
  }
  console.log(JSON.stringify({ uploadUrl: result.url, bytes: size, resumedFrom }));
} catch (e) {
  console.error(String(e?.stack ?? e));
  process.exit(1);
}
