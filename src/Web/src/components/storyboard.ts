// Seek-preview thumbnails: a WebVTT track whose cues name a region of a sprite (`sprite.jpg#xywh=x,y,w,h`), the
// form the daemon's storyboardUrl serves (and hls.js/Video.js/Vidstack read).
export interface StoryboardCue { start: number; end: number; url: string; x: number; y: number; w: number; h: number }

function seconds(t: string): number {
  const parts = t.trim().split(":").map(Number);
  return parts.reduce((acc, p) => acc * 60 + p, 0);
}

export function parseStoryboard(text: string, base: string): StoryboardCue[] {
  const cues: StoryboardCue[] = [];
  const blocks = text.replace(/\r\n?/g, "\n").split(/\n\n+/);
  for (const block of blocks) {
    const lines = block.split("\n");
    const timing = lines.findIndex((l) => l.includes("-->"));
    if (timing < 0 || timing + 1 >= lines.length) continue;
    const [from, to] = lines[timing].split("-->");
    const target = lines[timing + 1].trim();
    const hash = target.indexOf("#xywh=");
    if (hash < 0) continue;
    const [x, y, w, h] = target.slice(hash + 6).split(",").map(Number);
    if ([x, y, w, h].some((n) => !Number.isFinite(n))) continue;
    cues.push({ start: seconds(from), end: seconds(to.trim().split(/\s/)[0]), url: new URL(target.slice(0, hash), base).href, x, y, w, h });
  }
  return cues;
}

export function cueAt(cues: StoryboardCue[], time: number): StoryboardCue | undefined {
  let lo = 0;
  let hi = cues.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cues[mid].end <= time) lo = mid + 1;
    else if (cues[mid].start > time) hi = mid - 1;
    else return cues[mid];
  }
  return undefined;
}
