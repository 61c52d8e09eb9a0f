#!/usr/bin/env python3
"""Live-path latency probe (Python 3, standard library only).

Publishes a prepared FLV file over RTMP at real-time pace with a minimal RTMP client and records the
wall-clock time each video keyframe tag has been handed to the kernel (after sendall() returns).
Concurrently it watches the server's HTTP output and records when each segment / part becomes fetchable
(the completion time of a 200 fetch of its URI). Keyframes are matched to segments/parts by media time:
the decode time in the fetched media (tfdt of the first moof for fMP4, first video PTS for MPEG-TS),
made relative to the first unit of the session, which starts at the first keyframe of the input.

  probe.py --kind sv    --rtmp rtmp://127.0.0.1:P/live/KEY  --playlist http://127.0.0.1:H/live/NAME/video.m3u8 ...
  probe.py --kind nginx --rtmp rtmp://127.0.0.1:P/live/NAME --playlist http://127.0.0.1:H/NAME.m3u8 ...

Writes a JSON document with raw events and the summary.
"""
import argparse
import http.client
import json
import os
import queue
import re
import socket
import statistics
import struct
import sys
import threading
import time
import urllib.parse

now = time.monotonic  # one clock for the publisher and the pollers (same process)


def wall_minus_mono():
    """CLOCK_REALTIME - CLOCK_MONOTONIC (best of a few reads), to place file mtimes on the monotonic clock."""
    best = None
    for _ in range(20):
        a = time.monotonic()
        w = time.time()
        b = time.monotonic()
        if best is None or b - a < best[0]:
            best = (b - a, w - (a + b) / 2)
    return best[1]


# ---------------------------------------------------------------- FLV
def read_flv_tags(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:3] != b"FLV":
        raise SystemExit("not an FLV file: " + path)
    off = struct.unpack(">I", data[5:9])[0] + 4
    tags = []
    while off + 11 <= len(data):
        ttype = data[off] & 0x1F
        size = int.from_bytes(data[off + 1:off + 4], "big")
        ts = int.from_bytes(data[off + 4:off + 7], "big") | (data[off + 7] << 24)
        body = data[off + 11:off + 11 + size]
        if len(body) < size:
            break
        tags.append((ttype, ts, body))
        off += 11 + size + 4
    return tags


def is_keyframe(ttype, body):
    # video tag, frame type 1 (key), AVC packet type 1 (NALU, not the sequence header)
    return ttype == 9 and len(body) > 1 and (body[0] >> 4) == 1 and body[1] == 1


# ---------------------------------------------------------------- AMF0
def amf_str(s):
    b = s.encode()
    return b"\x02" + struct.pack(">H", len(b)) + b


def amf_num(n):
    return b"\x00" + struct.pack(">d", float(n))


def amf_obj(d):
    out = b"\x03"
    for k, v in d.items():
        kb = k.encode()
        out += struct.pack(">H", len(kb)) + kb
        out += amf_num(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else amf_str(str(v))
    return out + b"\x00\x00\x09"


AMF_NULL = b"\x05"


def amf_decode_all(b):
    """Decode a sequence of AMF0 values (enough for _result/onStatus)."""
    vals, i = [], 0

    def dec(i):
        t = b[i]
        i += 1
        if t == 0:
            return struct.unpack(">d", b[i:i + 8])[0], i + 8
        if t == 1:
            return bool(b[i]), i + 1
        if t == 2:
            n = struct.unpack(">H", b[i:i + 2])[0]
            return b[i + 2:i + 2 + n].decode(errors="replace"), i + 2 + n
        if t in (3, 8):
            if t == 8:
                i += 4
            d = {}
            while True:
                n = struct.unpack(">H", b[i:i + 2])[0]
                i += 2
                if n == 0 and b[i] == 9:
                    return d, i + 1
                k = b[i:i + n].decode(errors="replace")
                i += n
                v, i = dec(i)
                d[k] = v
        if t in (5, 6):
            return None, i
        raise ValueError("amf type %d" % t)

    try:
        while i < len(b):
            v, i = dec(i)
            vals.append(v)
    except Exception:
        pass
    return vals


# ---------------------------------------------------------------- RTMP publisher
class RtmpPublisher:
    CHUNK = 4096

    def __init__(self, url, log):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port or 1935
        parts = u.path.lstrip("/").split("/", 1)
        self.app, self.name = parts[0], parts[1]
        self.tc_url = "rtmp://%s:%d/%s" % (self.host, self.port, self.app)
        self.log = log
        self.sock = None
        self.in_chunk = 128
        self.in_hdr = {}  # csid -> [ts, len, type, sid]
        self.in_buf = {}
        self.rbuf = b""
        self.events = queue.Queue()

    # --- I/O
    def _recv_exact(self, n):
        while len(self.rbuf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise ConnectionError("server closed the connection")
            self.rbuf += d
        out, self.rbuf = self.rbuf[:n], self.rbuf[n:]
        return out

    def _send_msg(self, csid, mtype, sid, ts, payload):
        ext = ts >= 0xFFFFFF
        t3 = 0xFFFFFF if ext else ts
        hdr = bytes([csid & 0x3F]) + t3.to_bytes(3, "big") + len(payload).to_bytes(3, "big") + bytes([mtype]) \
            + struct.pack("<I", sid)
        if ext:
            hdr += struct.pack(">I", ts)
        out = [hdr, payload[:self.CHUNK]]
        for i in range(self.CHUNK, len(payload), self.CHUNK):
            out.append(bytes([0xC0 | (csid & 0x3F)]) + (struct.pack(">I", ts) if ext else b""))
            out.append(payload[i:i + self.CHUNK])
        self.sock.sendall(b"".join(out))

    def _read_loop(self):
        """Parse server chunks; hand command messages to the event queue, ignore the rest."""
        try:
            while True:
                b0 = self._recv_exact(1)[0]
                fmt, csid = b0 >> 6, b0 & 0x3F
                if csid == 0:
                    csid = 64 + self._recv_exact(1)[0]
                elif csid == 1:
                    x = self._recv_exact(2)
                    csid = 64 + x[0] + x[1] * 256
                h = self.in_hdr.setdefault(csid, [0, 0, 0, 0])
                if fmt <= 2:
                    t = int.from_bytes(self._recv_exact(3), "big")
                    if fmt <= 1:
                        h[1] = int.from_bytes(self._recv_exact(3), "big")
                        h[2] = self._recv_exact(1)[0]
                        if fmt == 0:
                            h[3] = struct.unpack("<I", self._recv_exact(4))[0]
                    if t == 0xFFFFFF:
                        self._recv_exact(4)
                buf = self.in_buf.get(csid, b"")
                need = min(self.in_chunk, h[1] - len(buf))
                buf += self._recv_exact(need)
                if len(buf) >= h[1]:
                    self.in_buf[csid] = b""
                    self._on_msg(h[2], buf)
                else:
                    self.in_buf[csid] = buf
        except Exception as e:  # connection closed at the end of the run
            self.events.put(("closed", str(e)))

    def _on_msg(self, mtype, payload):
        if mtype == 1:
            self.in_chunk = struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF
        elif mtype == 20:
            self.events.put(("cmd", amf_decode_all(payload)))

    def _wait(self, pred, what, timeout=10.0):
        end = now() + timeout
        while True:
            left = end - now()
            if left <= 0:
                raise TimeoutError("RTMP: timed out waiting for " + what)
            try:
                ev = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if ev[0] == "closed":
                raise ConnectionError("RTMP: connection closed while waiting for %s (%s)" % (what, ev[1]))
            vals = ev[1]
            if vals and vals[0] == "onStatus" or (vals and vals[0] == "_error"):
                info = next((v for v in vals if isinstance(v, dict) and "code" in v), {})
                if info.get("level") == "error" or vals[0] == "_error":
                    raise ConnectionError("RTMP: server said %r" % (vals,))
            r = pred(vals)
            if r is not None:
                return r

    def connect(self):
        self.sock = socket.create_connection((self.host, self.port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c1 = struct.pack(">II", 0, 0) + os.urandom(1528)
        self.sock.sendall(b"\x03" + c1)
        s0s1 = self._recv_exact(1 + 1536)
        self.sock.sendall(s0s1[1:])  # C2 echoes S1
        self._recv_exact(1536)       # S2
        self.sock.settimeout(None)
        threading.Thread(target=self._read_loop, daemon=True).start()
        self._send_msg(2, 1, 0, 0, struct.pack(">I", self.CHUNK))
        self._send_msg(3, 20, 0, 0, amf_str("connect") + amf_num(1) + amf_obj({
            "app": self.app, "type": "nonprivate", "flashVer": "FMLE/3.0 (compatible; StreamVerse-bench)",
            "tcUrl": self.tc_url}))
        self._wait(lambda v: True if v and v[0] == "_result" and v[1] == 1 else None, "connect _result")
        self._send_msg(3, 20, 0, 0, amf_str("releaseStream") + amf_num(2) + AMF_NULL + amf_str(self.name))
        self._send_msg(3, 20, 0, 0, amf_str("FCPublish") + amf_num(3) + AMF_NULL + amf_str(self.name))
        self._send_msg(3, 20, 0, 0, amf_str("createStream") + amf_num(4) + AMF_NULL)
        self.sid = int(self._wait(
            lambda v: v[3] if v and v[0] == "_result" and v[1] == 4 and len(v) > 3 else None, "createStream"))
        self._send_msg(4, 20, self.sid, 0, amf_str("publish") + amf_num(5) + AMF_NULL + amf_str(self.name)
                       + amf_str("live"))

        def started(v):
            if v and v[0] == "onStatus":
                info = next((x for x in v if isinstance(x, dict)), {})
                if info.get("code") == "NetStream.Publish.Start":
                    return True
            return None
        self._wait(started, "NetStream.Publish.Start")

    def publish(self, tags, stop_after, keyframes_out, t_start_out, frames_out=None):
        """Send tags paced on their timestamps; record keyframe send times."""
        t0 = None
        first_ts = None
        for ttype, ts, body in tags:
            if first_ts is None:
                first_ts = ts
            if t0 is None:
                t0 = now()
                t_start_out.append(t0)
            rel = (ts - first_ts) / 1000.0
            if rel > stop_after:
                break
            delay = t0 + rel - now()
            if delay > 0:
                time.sleep(delay)
            if ttype == 18:
                self._send_msg(5, 18, self.sid, ts, amf_str("@setDataFrame") + body)
            elif ttype == 9:
                self._send_msg(6, 9, self.sid, ts, body)
                t = now()
                if is_keyframe(ttype, body):
                    keyframes_out.append((ts, t))
                if frames_out is not None and len(body) > 1 and body[1] == 1:
                    frames_out.append((ts, t))
            elif ttype == 8:
                self._send_msg(4, 8, self.sid, ts, body)

    def close(self):
        try:
            self._send_msg(3, 20, 0, 0, amf_str("FCUnpublish") + amf_num(6) + AMF_NULL + amf_str(self.name))
            self._send_msg(3, 20, self.sid, 0, amf_str("deleteStream") + amf_num(7) + AMF_NULL + amf_num(self.sid))
            time.sleep(0.2)
            self.sock.close()
        except Exception:
            pass


# ---------------------------------------------------------------- media parsing
def mp4_boxes(b, start=0, end=None):
    end = len(b) if end is None else end
    i = start
    while i + 8 <= end:
        size = struct.unpack(">I", b[i:i + 4])[0]
        typ = b[i + 4:i + 8].decode("latin1")
        hdr = 8
        if size == 1:
            size = struct.unpack(">Q", b[i + 8:i + 16])[0]
            hdr = 16
        elif size == 0:
            size = end - i
        if size < hdr:
            return
        yield typ, i + hdr, i + size
        i += size


def mp4_find(b, path, start=0, end=None):
    for typ, s, e in mp4_boxes(b, start, end):
        if typ == path[0]:
            if len(path) == 1:
                return s, e
            r = mp4_find(b, path[1:], s, e)
            if r:
                return r
    return None


def mp4_timescale(init):
    r = mp4_find(init, ["moov", "trak", "mdia", "mdhd"])
    if not r:
        return None
    s, _ = r
    ver = init[s]
    return struct.unpack(">I", init[s + 12:s + 16] if ver == 0 else init[s + 20:s + 24])[0]


def mp4_first_tfdt(seg):
    r = mp4_find(seg, ["moof", "traf", "tfdt"])
    if not r:
        return None
    s, _ = r
    return struct.unpack(">Q", seg[s + 4:s + 12])[0] if seg[s] == 1 else struct.unpack(">I", seg[s + 4:s + 8])[0]


def ts_first_video_pts(b):
    """First PTS of a video PES (stream_id 0xE0-0xEF) in an MPEG-TS buffer, in 90 kHz units."""
    for i in range(0, len(b) - 188 + 1, 188):
        p = b[i:i + 188]
        if p[0] != 0x47 or not (p[1] & 0x40):
            continue
        afc = (p[3] >> 4) & 3
        j = 4
        if afc in (2, 3):
            j += 1 + p[4]
        if afc == 2 or j + 14 > 188:
            continue
        if p[j:j + 3] == b"\x00\x00\x01" and 0xE0 <= p[j + 3] <= 0xEF and (p[j + 7] & 0x80):
            q = p[j + 9:j + 14]
            return (((q[0] >> 1) & 7) << 30) | (q[1] << 22) | ((q[2] >> 1) << 15) | (q[3] << 7) | (q[4] >> 1)
    return None


# ---------------------------------------------------------------- HTTP
class Http:
    def __init__(self, base):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port or 80
        self.conn = None

    def get(self, path, timeout=10.0):
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
                else:
                    self.conn.timeout = timeout
                    if self.conn.sock:
                        self.conn.sock.settimeout(timeout)
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                body = r.read()
                if r.getheader("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, body
            except (http.client.HTTPException, OSError):
                if self.conn:
                    self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        raise RuntimeError("unreachable")


class Fetcher:
    """Pool of workers fetching unit URIs as soon as they are listed; records completion time."""

    def __init__(self, base, n=3):
        self.q = queue.Queue()
        self.results = []
        self.lock = threading.Lock()
        self.base = base
        for _ in range(n):
            threading.Thread(target=self._work, daemon=True).start()

    publishing_since = None  # set by main() once NetStream.Publish.Start arrived

    def submit(self, item):
        if Fetcher.publishing_since is None or item["listed"] < Fetcher.publishing_since:
            item["stale"] = True  # listed before this publish began (e.g. a previous session's recording)
        self.q.put(item)

    def _work(self):
        h = Http(self.base)
        while True:
            item = self.q.get()
            try:
                status, body = h.get(item["path"])
            except Exception as e:
                status, body = -1, str(e).encode()
            t = now()
            item["status"] = status
            item["fetched"] = t
            item["bytes"] = len(body)
            item["media_time"] = item.pop("parse")(body) if status == 200 else None
            with self.lock:
                self.results.append(item)
            self.q.task_done()


def resolve(playlist_path, uri):
    return urllib.parse.urljoin(playlist_path, uri)


# ---------------------------------------------------------------- watchers
def watch_sv(playlist_url, stop, events, errors, fetch):
    """LL-HLS media playlist with blocking reloads for the next part (the EXT-X-PRELOAD-HINT part)."""
    u = urllib.parse.urlparse(playlist_url)
    ppath = u.path
    h = Http(playlist_url)
    timescale = {}
    seen_parts, seen_segs = set(), set()
    want = None  # (msn, part)
    blocking_calls = 0
    while not stop.is_set():
        path = ppath
        if want is not None:
            path += "?_HLS_msn=%d&_HLS_part=%d" % want
        try:
            status, body = h.get(path, timeout=6.0)
        except Exception as e:
            errors.append("%.3f playlist %s: %s" % (now(), path, e))
            want = None
            time.sleep(0.02)
            continue
        t = now()
        if want is not None:
            blocking_calls += 1
        if status != 200:
            if status != 404 or events["first_200"] is not None:
                errors.append("%.3f playlist %s: HTTP %d %s" % (t, path, status, body[:200]))
            want = None
            time.sleep(0.02)
            continue
        if events["first_200"] is None:
            events["first_200"] = t
        text = body.decode(errors="replace")
        msn = 0
        m = re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text)
        if m:
            msn = int(m.group(1))
        mm = re.search(r'#EXT-X-MAP:URI="([^"]+)"', text)
        if mm and mm.group(1) not in timescale:
            st, init = h.get(resolve(ppath, mm.group(1)))
            timescale[mm.group(1)] = mp4_timescale(init) if st == 200 else None
            if not timescale[mm.group(1)]:
                errors.append("init %s: HTTP %d / no timescale" % (mm.group(1), st))
        ts_scale = timescale.get(mm.group(1)) if mm else None

        def parser(scale):
            return lambda b: (mp4_first_tfdt(b) / scale) if scale and mp4_first_tfdt(b) is not None else None
        cur = msn
        last_part = None
        for line in text.splitlines():
            if line.startswith("#EXT-X-PART:"):
                mu = re.search(r'URI="([^"]+)"', line)
                if not mu:
                    continue
                uri = mu.group(1)
                mp = re.search(r"_(\d+)\.(\d+)\.m4s", uri)
                pn = (int(mp.group(1)), int(mp.group(2))) if mp else (cur, 0)
                last_part = pn
                if uri not in seen_parts:
                    seen_parts.add(uri)
                    fetch.submit({"kind": "part", "uri": uri, "msn": pn[0], "part": pn[1], "listed": t,
                                  "independent": "INDEPENDENT=YES" in line,
                                  "path": resolve(ppath, uri), "parse": parser(ts_scale)})
            elif line and not line.startswith("#"):
                if line not in seen_segs:
                    seen_segs.add(line)
                    fetch.submit({"kind": "segment", "uri": line, "msn": cur, "listed": t,
                                  "path": resolve(ppath, line), "parse": parser(ts_scale)})
                cur += 1
        hint = re.search(r'#EXT-X-PRELOAD-HINT:[^\n]*TYPE=PART[^\n]*URI="[^"]*_(\d+)\.(\d+)\.m4s"', text)
        if hint:
            want = (int(hint.group(1)), int(hint.group(2)))
        elif last_part is not None:
            events["no_hint"] = events.get("no_hint", 0) + 1
            want = (last_part[0], last_part[1] + 1)
            if last_part[0] < cur:  # the segment holding the last part is complete: next part is (cur, 0)
                want = (cur, 0)
        else:
            want = None
            time.sleep(0.02)
        events["blocking_calls"] = blocking_calls


def watch_nginx(playlist_url, stop, events, errors, fetch, interval=0.02, hls_dir=None):
    u = urllib.parse.urlparse(playlist_url)
    ppath = u.path
    h = Http(playlist_url)
    seen = set()
    while not stop.is_set():
        t_req = now()
        try:
            status, body = h.get(ppath, timeout=5.0)
        except Exception as e:
            errors.append("%.3f playlist: %s" % (now(), e))
            status, body = -1, b""
        t = now()
        if status == 200:
            if events["first_200"] is None:
                events["first_200"] = t
            for line in body.decode(errors="replace").splitlines():
                if line and not line.startswith("#") and line not in seen:
                    seen.add(line)
                    closed = None
                    if hls_dir:
                        # nginx-rtmp closes the fragment, then writes NAME.m3u8 (tmp file + rename): the mtime of
                        # the playlist that first lists the fragment is when it was published on disk (the next
                        # rewrite is a fragment later, so the file read just now is that one)
                        try:
                            closed = os.stat(os.path.join(hls_dir, os.path.basename(ppath))).st_mtime_ns / 1e9 \
                                - events["wall_minus_mono"]
                        except OSError as e:
                            errors.append("stat %s: %s" % (line, e))
                    fetch.submit({"kind": "segment", "uri": line, "listed": t, "path": resolve(ppath, line),
                                  "file_closed": closed,
                                  "parse": lambda b: (ts_first_video_pts(b) / 90000.0)
                                  if ts_first_video_pts(b) is not None else None})
        elif status != 404 or events["first_200"] is not None:
            errors.append("%.3f playlist HTTP %d" % (t, status))
        d = interval - (now() - t_req)
        if d > 0:
            time.sleep(d)


# ---------------------------------------------------------------- analysis
def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = (len(xs) - 1) * p
    f = int(k)
    c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


def summarize(xs):
    if not xs:
        return {"n": 0}
    return {"n": len(xs), "median_ms": round(statistics.median(xs) * 1000, 1),
            "p95_ms": round(pct(xs, 0.95) * 1000, 1), "min_ms": round(min(xs) * 1000, 1),
            "max_ms": round(max(xs) * 1000, 1)}


def match(times, t, tol):
    """index of the entry of sorted list `times` nearest to t, if within tol."""
    import bisect
    i = bisect.bisect_left(times, t)
    best = None
    for j in (i - 1, i):
        if 0 <= j < len(times) and (best is None or abs(times[j] - t) < abs(times[best] - t)):
            best = j
    return best if best is not None and abs(times[best] - t) <= tol else None


def analyse(keyframes, frames, units, t_first_send, skip, errors):
    """keyframes/frames: [(flv_ts_ms, send_time)] (video keyframes / all video frames);
    units: fetched items with media_time (s) of their first video sample."""
    kf_ts = [k[0] / 1000.0 for k in keyframes]
    fr_ts = [f[0] / 1000.0 for f in frames]
    ok = [u for u in units if u.get("status") == 200 and u.get("media_time") is not None and not u.get("stale")]
    for u in units:
        if u.get("status") != 200:
            errors.append("fetch %s: status %s" % (u["uri"], u.get("status")))
    out = {}
    for kind in ("part", "segment"):
        us = sorted([u for u in ok if u["kind"] == kind], key=lambda u: u["media_time"])
        if not us:
            continue
        base = us[0]["media_time"]  # the session's first unit starts with the input's first keyframe
        rows = []
        for u in us:
            rel = u["media_time"] - base + kf_ts[0]
            j = match(fr_ts, rel, 0.010)
            if j is None:
                errors.append("%s %s: media time %.3f matches no video frame" % (kind, u["uri"], rel))
                continue
            k = match(kf_ts, rel, 0.010)
            rows.append({"uri": u["uri"], "independent": u.get("independent", kind == "segment"),
                         "file_closed": u.get("file_closed"),
                         "frame_index": j, "frame_ts": fr_ts[j], "first_sent": frames[j][1],
                         "is_kf": k is not None, "listed": u["listed"], "fetched": u["fetched"],
                         "bytes": u["bytes"]})
        for a, b in zip(rows, rows[1:]):
            # the unit's last frame is the one before the next unit's first frame
            a["last_sent"] = frames[b["frame_index"] - 1][1]
            a["next_first_sent"] = b["first_sent"]
            a["duration"] = b["frame_ts"] - a["frame_ts"]
        # measured: units whose first frame was sent after the skip, and that were closed by a following unit
        # while the publisher was live (the last unit of a session is flushed when the publisher leaves)
        use = [r for r in rows if r["first_sent"] - t_first_send >= skip and "last_sent" in r]
        kfu = [r for r in use if r["is_kf"]]
        res = {
            "units_fetched": len(us), "units_measured": len(use), "first_uri": us[0]["uri"],
            "units_starting_on_keyframe": len(kfu),
            "independent_flag_on_keyframe_units": sum(1 for r in kfu if r["independent"]),
            "independent_flag_on_other_units": sum(1 for r in use if r["independent"] and not r["is_kf"]),
            "kf_to_fetchable": summarize([r["fetched"] - r["first_sent"] for r in kfu]),
            "kf_to_listed": summarize([r["listed"] - r["first_sent"] for r in kfu]),
            "next_unit_first_frame_to_fetchable": summarize([r["fetched"] - r["next_first_sent"] for r in use]),
            "next_unit_first_frame_to_file_closed": summarize([r["file_closed"] - r["next_first_sent"] for r in use
                                                               if r.get("file_closed") is not None]),
            "first_frame_to_fetchable": summarize([r["fetched"] - r["first_sent"] for r in use]),
            "last_frame_to_fetchable": summarize([r["fetched"] - r["last_sent"] for r in use]),
            "duration": summarize([r["duration"] for r in use]),
            "rows": [{k: (round(v - t_first_send, 4) if k in ("first_sent", "listed", "fetched", "last_sent",
                                                               "next_first_sent", "file_closed") and v is not None else v)
                      for k, v in r.items()} for r in rows],
        }
        if kind == "part":
            # every keyframe -> the part that contains it (keyframes need not start a part)
            per_kf, flagged = [], 0
            for ts_ms, sent in keyframes:
                if sent - t_first_send < skip:
                    continue
                kt = ts_ms / 1000.0
                holder = None
                for r in rows:
                    if r["frame_ts"] <= kt + 0.0005 and "duration" in r and kt < r["frame_ts"] + r["duration"] - 0.0005:
                        holder = r
                        break
                if holder is None:
                    continue
                per_kf.append(holder["fetched"] - sent)
                flagged += 1 if holder["independent"] else 0
            res["every_kf_to_containing_part_fetchable"] = summarize(per_kf)
            res["keyframes_in_parts"] = len(per_kf)
            res["keyframe_parts_flagged_independent"] = flagged
        out[kind] = res
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", choices=["sv", "nginx"], required=True)
    ap.add_argument("--rtmp", required=True)
    ap.add_argument("--playlist", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--duration", type=float, default=55.0, help="seconds of input to publish")
    ap.add_argument("--skip", type=float, default=5.0, help="ignore keyframes sent in the first N seconds")
    ap.add_argument("--drain", type=float, default=3.0, help="keep watching N seconds after the last tag")
    ap.add_argument("--out", required=True)
    ap.add_argument("--hls-dir", help="nginx: hls_path, to read fragment file mtimes")
    ap.add_argument("--interval", type=float, default=0.02, help="nginx: playlist poll interval (s)")
    a = ap.parse_args()

    tags = read_flv_tags(a.input)
    events = {"first_200": None, "wall_minus_mono": wall_minus_mono()}
    errors = []
    stop = threading.Event()
    results = {}

    fetch = Fetcher(a.playlist)

    def watcher():
        try:
            if a.kind == "sv":
                watch_sv(a.playlist, stop, events, errors, fetch)
            else:
                watch_nginx(a.playlist, stop, events, errors, fetch, a.interval, a.hls_dir)
        except Exception as e:
            errors.append("watcher crashed: %r" % e)

    wt = threading.Thread(target=watcher, daemon=True)
    wt.start()
    pub = RtmpPublisher(a.rtmp, errors)
    t_conn = now()
    pub.connect()
    t_pubstart = now()
    Fetcher.publishing_since = t_pubstart
    keyframes, frames, t_start = [], [], []
    pub.publish(tags, a.duration, keyframes, t_start, frames)
    t_end = now()
    pub.close()
    time.sleep(a.drain)
    stop.set()
    wt.join(timeout=8)
    time.sleep(0.5)
    with fetch.lock:
        units = list(fetch.results)
    t0 = t_start[0]
    an = analyse(keyframes, frames, units, t0, a.skip, errors) if keyframes and units else {}
    doc = {
        "kind": a.kind, "rtmp": a.rtmp, "playlist": a.playlist, "input": a.input, "duration": a.duration,
        "skip": a.skip, "publish_handshake_s": round(t_pubstart - t_conn, 4),
        "keyframes_sent": len(keyframes), "publish_wall_s": round(t_end - t0, 3),
        "first_playlist_200_s": round(events["first_200"] - t0, 4) if events["first_200"] else None,
        "blocking_calls": events.get("blocking_calls"), "playlists_without_preload_hint": events.get("no_hint", 0),
        "errors": errors[:200], "error_count": len(errors), "analysis": an,
    }
    with open(a.out, "w") as f:
        json.dump(doc, f, indent=1)
    brief = {k: {kk: vv for kk, vv in v.items() if kk != "rows"} for k, v in an.items()}
    print(json.dumps({"kind": a.kind, "errors": len(errors), "keyframes": len(keyframes), **brief}, indent=1))


if __name__ == "__main__":
    main()
