// After `next build`: the export's HTML carries inline <script> elements (the RSC payload, the bootstrap). The
// daemon's Content-Security-Policy allows exactly those, by their SHA-256 (CSP3 §8.3 hash-source), and nothing
// else inline: an injected <script> has another hash and does not run. Writes out/csp-hashes.json:
// { "index.html": ["sha256-..."], "watch.html": [...] } which src/Origin/Web reads at start.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const out = new URL("../out/", import.meta.url).pathname;
const inline = /<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g;
const result = {};

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "_next") walk(path);
    } else if (name.endsWith(".html")) {
      const html = readFileSync(path, "utf8");
      const hashes = new Set();
      for (const m of html.matchAll(inline)) {
        if (m[1].length > 0) hashes.add("sha256-" + createHash("sha256").update(m[1], "utf8").digest("base64"));
      }
      result[relative(out, path).split(sep).join("/")] = [...hashes].sort();
    }
  }
}

walk(out);
writeFileSync(join(out, "csp-hashes.json"), JSON.stringify(result, null, 1) + "\n");
console.log(`csp-hashes.json: ${Object.keys(result).length} pages`);
