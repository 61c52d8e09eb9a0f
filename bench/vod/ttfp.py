#!/usr/bin/env python3
"""Time from upload complete to first playable rendition, StreamVerse vs the ffmpeg CLI, in one run.

StreamVerse: the daemon (Release build) runs on loopback with its default ladder template; an admin uploads the
source with the plain single-request upload (PUT /api/v1/videos/{id}/source). From the moment that request
returns (upload complete, job queued) the script polls, every 50 ms:
  - first playable: /vod/{id}/index.m3u8 answers 200 AND its first variant's media playlist, init segment and
    first media segment all answer 200 (what a player needs to start);
  - full ladder: GET /api/v1/videos/{id} says status "ready".
Peers, same source, same rungs and sizes, same x264 preset, bitrates, VBV caps and GOP:
  - ffmpeg CLI, whole ladder in one process (split/scale + var_stream_map, fMP4 HLS): when a server that runs
    the CLI can publish anything;
  - ffmpeg CLI, lowest rung + audio only: the same "lowest rung first" idea done with the CLI.
Prints a Markdown section for bench/RESULTS.md on stdout; details on stderr.

usage: bench/vod/ttfp.py   (env: DURATION=30 SIZE=1920x1080 RATE=30 PRESET=veryfast SEG=4; build src/Origin -c Release first)
"""
import json, os, shutil, socket, subprocess, sys, tempfile, time, urllib.request, urllib.error

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DLL = os.path.join(ROOT, "src/Origin/bin/Release/net10.0/StreamVerse.Origin.dll")
DURATION = int(os.environ.get("DURATION", "30"))
SIZE = os.environ.get("SIZE", "1920x1080")
RATE = int(os.environ.get("RATE", "30"))
PRESET = os.environ.get("PRESET", "veryfast")
SEG = int(os.environ.get("SEG", "4"))
# The daemon's default template (MediaCore LadderOptions.DefaultRungs): short side, bit/s.
TEMPLATE = [(1080, 5_000_000), (720, 3_000_000), (480, 1_400_000), (360, 730_000), (240, 300_000)]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def even(v):
    return max(2, int(v) & ~1)


def rungs_for(w, h):
    short, long_ = min(w, h), max(w, h)
    out = []
    for height, bitrate in TEMPLATE:
        if height > short:
            continue
        s, l = even(height), even(round(long_ * height / short))
        out.append(((l, s) if w >= h else (s, l), bitrate))
    return out


def http(method, url, token=None, body=None, data=None, headers=None):
    req = urllib.request.Request(url, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, data=data, timeout=600) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def ffmpeg_ladder(src, out, rungs):
    os.makedirs(out, exist_ok=True)
    n = len(rungs)
    gop = SEG * RATE
    filt = f"[0:v]split={n}" + "".join(f"[s{i}]" for i in range(n))
    maps, rates = [], []
    for i, ((w, h), b) in enumerate(rungs):
        filt += f";[s{i}]scale={w}:{h}[v{i}]"
        maps += ["-map", f"[v{i}]"]
        rates += [f"-b:v:{i}", str(b), f"-maxrate:v:{i}", str(int(b * 1.1)), f"-bufsize:v:{i}", str(int(b * 1.5))]
    vsm = " ".join(f"v:{i},agroup:aud" for i in range(n)) + " a:0,agroup:aud"
    cmd = ["ffmpeg", "-v", "error", "-y", "-i", src, "-filter_complex", filt, *maps, "-map", "0:a",
           "-c:v", "libx264", "-preset", PRESET, "-profile:v", "high", "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
           "-x264-params", f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0", *rates,
           "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000",
           "-f", "hls", "-hls_time", str(SEG), "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4",
           "-hls_flags", "independent_segments", "-master_pl_name", "master.m3u8", "-var_stream_map", vsm,
           os.path.join(out, "stream_%v.m3u8")]
    t = time.monotonic()
    subprocess.run(cmd, check=True)
    return time.monotonic() - t, cmd


def main():
    if not os.path.exists(DLL):
        sys.exit("build first: dotnet build src/Origin -c Release")
    work = tempfile.mkdtemp(prefix="sv-ttfp-")
    daemon = None
    try:
        src = os.path.join(work, "source.mp4")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={SIZE}:rate={RATE}",
                        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", str(DURATION),
                        "-c:v", "libx264", "-preset", "ultrafast", "-qp", "12", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k", src], check=True)
        w, h = (int(x) for x in SIZE.split("x"))
        rungs = rungs_for(w, h)
        log(f"source {SIZE}@{RATE} {DURATION}s ({os.path.getsize(src)} bytes); rungs {rungs}")

        port, rtmp = free_port(), free_port()
        base = f"http://127.0.0.1:{port}"
        admin = "bench-admin@bench.invalid"
        args = ["dotnet", DLL, "--data", os.path.join(work, "data"), "--http", f"127.0.0.1:{port}", "--rtmp", f"127.0.0.1:{rtmp}",
                "--StreamVerse:ControlPlane:BootstrapAdminEmail", admin,
                "--StreamVerse:ControlPlane:Jobs:Ladder:Preset", PRESET,
                "--StreamVerse:ControlPlane:Jobs:Ladder:SegmentDuration", f"00:00:{SEG:02d}",
                "--Logging:LogLevel:Default", "Warning"]
        daemon = subprocess.Popen(args, stdout=open(os.path.join(work, "daemon.log"), "w"), stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                if http("GET", base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        password = "bench password " + os.urandom(6).hex()
        http("POST", base + "/api/v1/auth/register", body={"email": admin, "password": password, "handle": "benchadmin", "displayName": "Bench"})
        st, b = http("POST", base + "/api/v1/auth/login", body={"email": admin, "password": password})
        assert st == 200, (st, b)
        token = json.loads(b)["accessToken"]
        st, b = http("POST", base + "/api/v1/channels", token, body={"name": "bench"})
        assert st == 201, (st, b)
        channel = json.loads(b)["id"]
        st, b = http("POST", base + "/api/v1/videos", token, body={"channelId": channel, "title": "ttfp", "visibility": "public"})
        assert st == 201, (st, b)
        video = json.loads(b)["id"]

        with open(src, "rb") as f:
            payload = f.read()
        st, b = http("PUT", f"{base}/api/v1/videos/{video}/source", token, data=payload, headers={"Content-Type": "video/mp4"})
        assert st == 202, (st, b)
        t0 = time.monotonic()
        first = ready = None
        first_variant = None
        while ready is None and time.monotonic() - t0 < 1800:
            if first is None:
                st, body = http("GET", f"{base}/vod/{video}/index.m3u8")
                if st == 200:
                    uris = [l for l in body.decode().splitlines() if l and not l.startswith("#")]
                    st2, media = http("GET", f"{base}/vod/{video}/{uris[0]}")
                    if st2 == 200:
                        base_dir = uris[0].rsplit("/", 1)[0]
                        lines = media.decode().splitlines()
                        init = next(l.split('URI="')[1].split('"')[0] for l in lines if l.startswith("#EXT-X-MAP"))
                        seg = next(l for l in lines if l and not l.startswith("#"))
                        if http("GET", f"{base}/vod/{video}/{base_dir}/{init}")[0] == 200 and http("GET", f"{base}/vod/{video}/{base_dir}/{seg}")[0] == 200:
                            first = time.monotonic() - t0
                            first_variant = (len(uris), uris)
                            log(f"first playable after {first:.2f} s: {len(uris)} variant(s) {uris}")
            st, b = http("GET", f"{base}/api/v1/videos/{video}")
            v = json.loads(b)
            if v.get("status") == "ready":
                ready = time.monotonic() - t0
                log(f"ready after {ready:.2f} s")
            elif v.get("status") == "failed":
                sys.exit(f"job failed: {v.get('failureReason')}")
            time.sleep(0.05)
        if first is None or ready is None:
            sys.exit("timed out")
        st, b = http("GET", f"{base}/vod/{video}/index.m3u8")
        full_variants = len([l for l in b.decode().splitlines() if l and not l.startswith("#")])
        daemon.terminate()
        daemon.wait(30)
        daemon = None

        full_cli, full_cmd = ffmpeg_ladder(src, os.path.join(work, "ff-full"), rungs)
        low_cli, low_cmd = ffmpeg_ladder(src, os.path.join(work, "ff-low"), rungs[-1:])
        log(f"ffmpeg CLI full ladder {full_cli:.2f} s, lowest rung only {low_cli:.2f} s")

        load = open("/proc/loadavg").read().split()[:3]
        date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        sizes = ", ".join(f"{a}x{b}" for (a, b), _ in rungs)
        print("## VOD: time from upload complete to first playable rendition\n")
        print(f"Measured {date} by `bench/vod/ttfp.py` (DURATION={DURATION} SIZE={SIZE} RATE={RATE} PRESET={PRESET} SEG={SEG}) on this")
        print(f"machine (2 cores; load average 1/5/15 min at the end: {' '.join(load)}). Source: lavfi testsrc2 + sine, x264 -qp 12.")
        print(f"Ladder: {sizes} (the daemon's default template, never upscaled) + AAC 128k; preset {PRESET}, GOP = {SEG} s.")
        print("StreamVerse's clock starts when `PUT /api/v1/videos/{id}/source` returns (upload complete, job queued); first")
        print("playable = index.m3u8, the first variant's playlist, init and first segment all answer 200; full = status ready.")
        print("The ffmpeg CLI rows are the wall time of one CLI run (nothing is publishable before it ends: VOD playlist).\n")
        print("| pipeline | first playable s | full ladder s | variants first / full |")
        print("| --- | --- | --- | --- |")
        print(f"| StreamVerse (upload -> job -> lowest rung first -> full ladder) | {first:.2f} | {ready:.2f} | {first_variant[0]} / {full_variants} |")
        print(f"| ffmpeg CLI, whole ladder in one process | {full_cli:.2f} | {full_cli:.2f} | {len(rungs)} / {len(rungs)} |")
        print(f"| ffmpeg CLI, lowest rung only | {low_cli:.2f} | n/a | 1 / 1 |")
        print()
        print(f"Ratios: StreamVerse first playable / CLI whole ladder = {first / full_cli:.2f}; StreamVerse full / CLI whole ladder = {ready / full_cli:.2f};")
        print(f"StreamVerse first playable / CLI lowest rung = {first / low_cli:.2f} (ours includes queueing, the upload of the files to storage and the")
        print("catalog update).\n")
        print("Peer commands:\n")
        print("```")
        print(" ".join(full_cmd))
        print(" ".join(low_cmd))
        print("```")
    finally:
        if daemon is not None:
            daemon.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
