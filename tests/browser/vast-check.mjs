#!/usr/bin/env node
// VAST 4.2 / VMAP 1.0 check with independent parsers: @dailymotion/vmap parses the schedule, vast-client (the
// dailymotion VAST parser, which follows VMAP's AdTagURIs the way a player would) parses each break's VAST.
//
//   node vast-check.mjs <vmap-url> [bearer-token]
//
// Prints one JSON line { breaks: [{ timeOffset, breakId, tag, ads: [...] }] } where each ad lists what vast-client read:
// version, AdServingId, UniversalAdId, impression URLs, media files, linear tracking event URLs by event, click-through,
// click-tracking and error URLs; then fires the first ad's impression and every tracking URL as parsed (the error URL with
// [ERRORCODE] replaced by 405, as vast-client's tracker does) and reports the HTTP status of each. Exit 1 on a parse error.

import { DOMParser } from '@xmldom/xmldom';
import VMAP from '@dailymotion/vmap';
import vast from 'vast-client';

const [vmapUrl, token] = process.argv.slice(2);
if (!vmapUrl) {
  console.error('usage: node vast-check.mjs <vmap-url> [bearer-token]');
  process.exit(2);
}

const headers = token ? { Authorization: `Bearer ${token}` } : {};

async function xml(url) {
  const res = await fetch(url, { headers });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return new DOMParser().parseFromString(await res.text(), 'text/xml');
}

try {
  const vmap = new VMAP(await xml(vmapUrl));
  const parser = new vast.VASTParser();
  const breaks = [];
  for (const b of vmap.adBreaks) {
    const tag = b.adSource && b.adSource.adTagURI ? b.adSource.adTagURI.uri.trim() : null;
    const entry = { timeOffset: b.timeOffset, breakId: b.breakId, tag, ads: [] };
    if (tag) {
      const response = await parser.parseVAST(await xml(tag));
      entry.version = response.version;
      for (const ad of response.ads) {
        const creative = ad.creatives.find(c => c.type === 'linear');
        entry.ads.push({
          id: ad.id,
          adServingId: ad.adServingId,
          title: ad.title,
          advertiser: ad.advertiser && (ad.advertiser.value || ad.advertiser),
          universalAdId: creative && creative.universalAdId && (creative.universalAdId.value || creative.universalAdId),
          impressions: ad.impressionURLTemplates.map(i => i.url || i),
          errors: ad.errorURLTemplates,
          duration: creative && creative.duration,
          skipDelay: creative && creative.skipDelay,
          mediaFiles: creative ? creative.mediaFiles.map(m => ({ url: m.fileURL, type: m.mimeType, delivery: m.deliveryType, width: m.width, height: m.height })) : [],
          tracking: creative ? Object.fromEntries(Object.entries(creative.trackingEvents).map(([k, v]) => [k, v.map(x => x.url || x)])) : {},
          clickThrough: creative && creative.videoClickThroughURLTemplate && (creative.videoClickThroughURLTemplate.url || creative.videoClickThroughURLTemplate),
          clickTracking: creative ? creative.videoClickTrackingURLTemplates.map(x => x.url || x) : [],
        });
      }
    }
    breaks.push(entry);
  }

  // Fire the first ad's beacons as parsed, each twice (a replay must not count again).
  const fired = {};
  const first = breaks.flatMap(b => b.ads)[0];
  if (first) {
    const urls = { impression: first.impressions[0], click: first.clickTracking[0], error: first.errors[0].replace('[ERRORCODE]', '405') };
    for (const [event, list] of Object.entries(first.tracking)) urls[event] = list[0];
    for (const [event, url] of Object.entries(urls)) {
      const a = await fetch(url);
      const b = await fetch(url);
      fired[event] = [a.status, b.status];
    }
  }

  console.log(JSON.stringify({ breaks, fired }));
} catch (e) {
  console.error(String(e && e.stack || e));
  process.exit(1);
}
