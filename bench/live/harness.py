#!/usr/bin/env python3
"""Live-path system benchmark driver: StreamVerse vs nginx-rtmp, same input, same run.

Called by bench/live/run.sh (which builds StreamVerse, prepares bench/out/input.flv and renders
bench/out/nginx.conf). Starts/stops both servers, runs the latency probe and the 1/10/50-stream
passthrough CPU/RSS scenarios, writes bench/out/live-results.json and (unless BENCH_WRITE_RESULTS=0)
the '## Live path vs nginx-rtmp' section of bench/RESULTS.md.
"""
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "bench", "out")
LIVE = os.path.join(ROOT, "bench", "live")
INPUT_PREPARED = os.path.join(OUT, "input.flv")
INPUT = os.path.join(OUT, "live-bench-src.flv")  # hard link to input.flv used by this harness's publishers
NGINX_CONF = os.path.join(OUT, "nginx.conf")

E = os.environ.get
SV_HTTP, SV_RTMP = int(E("SV_HTTP_PORT", "27080")), int(E("SV_RTMP_PORT", "27935"))
NG_HTTP, NG_RTMP = int(E("NGINX_HTTP_PORT", "27081")), int(E("NGINX_RTMP_PORT", "27936"))
SERVERS = E("BENCH_SERVERS", "streamverse nginx").split()
STREAM_COUNTS = [int(x) for x in E("BENCH_N", "1 10 50").split()]
WARMUP = float(E("BENCH_WARMUP", "10"))
WINDOW = float(E("BENCH_WINDOW", "30"))
LAT_DURATION = float(E("BENCH_LAT_DURATION", "55"))
LAT_SKIP = float(E("BENCH_LAT_SKIP", "5"))
WRITE_RESULTS = E("BENCH_WRITE_RESULTS", "1") == "1"
MAX_STREAMS = max(STREAM_COUNTS + [1])
TCK = os.sysconf("SC_CLK_TCK")
LABEL = {"streamverse": "StreamVerse", "nginx": "nginx-rtmp"}


def log(*a):
    print("[%s]" % time.strftime("%H:%M:%S"), *a, flush=True)


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception as e:
        return "?(%s)" % e


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ---------------------------------------------------------------- /proc sampling
def children_map():
    m = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/stat" % p) as f:
                    s = f.read()
                ppid = int(s[s.rindex(")") + 2:].split()[1])
                m.setdefault(ppid, []).append(int(p))
            except (OSError, ValueError):
                pass
    return m


def descendants(pid):
    m, out, todo = children_map(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(m.get(p, []))
    return out


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def proc_sample(pids):
    cpu_ticks, rss_kb, pss_kb, alive = 0, 0, 0, 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                s = f.read()
            fields = s[s.rindex(")") + 2:].split()
            cpu_ticks += int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss_kb += int(line.split()[1])
            try:
                with open("/proc/%d/smaps_rollup" % p) as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            pss_kb += int(line.split()[1])
            except OSError:
                pass
            alive += 1
        except (OSError, ValueError):
            pass
    return {"t": time.monotonic(), "cpu_s": cpu_ticks / TCK, "rss_mb": rss_kb / 1024.0, "pss_mb": pss_kb / 1024.0, "procs": alive}


# ---------------------------------------------------------------- helpers
def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def http_get(port, path, timeout=5.0):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def wait_ports_free(ports, timeout=60):
    """A port still held (previous server still shutting down, or someone else): wait, then name the holder."""
    end = time.time() + timeout
    while any(port_open(p) for p in ports):
        if time.time() > end:
            held = [p for p in ports if port_open(p)]
            holders = sh("ss -ltnpH | grep -E ':(%s) ' || true" % "|".join(map(str, held)))
            raise SystemExit("port(s) %s still in use after %d s: %s" % (held, timeout, holders[:300]))
        time.sleep(0.5)


def kill_pid(pid, sig=signal.SIGTERM):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def wait_gone(pids, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if not any(os.path.exists("/proc/%d" % p) and "Z" not in open_state(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def open_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        return s[s.rindex(")") + 2]
    except OSError:
        return "Z"


# ---------------------------------------------------------------- servers
class Nginx:
    name = "nginx"

    def __init__(self):
        self.proc = None

    def start(self):
        hls = os.path.join(OUT, "nginx-hls")
        shutil.rmtree(hls, ignore_errors=True)
        os.makedirs(hls)
        os.makedirs(os.path.join(OUT, "nginx-tmp"), exist_ok=True)
        wait_ports_free((NG_HTTP, NG_RTMP))
        self.logf = open(os.path.join(OUT, "nginx-stdout.log"), "ab")
        self.proc = subprocess.Popen(["nginx", "-p", OUT, "-c", NGINX_CONF], stdout=self.logf, stderr=self.logf)
        end = time.time() + 15
        while not (port_open(NG_HTTP) and port_open(NG_RTMP)):
            if self.proc.poll() is not None or time.time() > end:
                raise SystemExit("nginx did not start; see bench/out/nginx-error.log")
            time.sleep(0.1)
        with open(os.path.join(OUT, "nginx.launch.pid"), "w") as f:
            f.write(str(self.proc.pid))
        time.sleep(0.5)

    def pids(self):
        return descendants(self.proc.pid)  # master + worker(s)

    def publish_url(self, i):
        return "rtmp://127.0.0.1:%d/live/s%d" % (NG_RTMP, i)

    def playlist_path(self, i):
        return "/s%d.m3u8" % i

    http_port = NG_HTTP

    def stop(self):
        if self.proc and self.proc.poll() is None:
            pids = self.pids()
            kill_pid(self.proc.pid, signal.SIGTERM)  # fast shutdown of master and workers
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                for p in pids:
                    kill_pid(p, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None


class StreamVerse:
    name = "streamverse"
    http_port = SV_HTTP

    def __init__(self):
        self.proc = None

    def start(self):
        data = os.path.join(OUT, "sv-data")
        shutil.rmtree(data, ignore_errors=True)
        os.makedirs(data)
        wait_ports_free((SV_HTTP, SV_RTMP))
        args = ["dotnet", "run", "--no-build", "-c", "Release", "--project", "src/Origin", "--",
                "--data", data, "--http", "127.0.0.1:%d" % SV_HTTP, "--rtmp", "127.0.0.1:%d" % SV_RTMP]
        for i in range(1, MAX_STREAMS + 1):
            args += ["--stream", "s%d=benchkey%08d" % (i, i)]
        self.logpath = os.path.join(OUT, "sv-stdout.log")
        self.logf = open(self.logpath, "ab")
        self.logf.write(("\n==== %s start\n" % datetime.datetime.utcnow().isoformat()).encode())
        self.logf.flush()
        self.log_start = os.path.getsize(self.logpath)
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=self.logf, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, DOTNET_CLI_TELEMETRY_OPTOUT="1", DOTNET_NOLOGO="1"))
        end = time.time() + 120
        ready = False
        while time.time() < end:
            if self.proc.poll() is not None:
                raise SystemExit("StreamVerse exited with %s; see bench/out/sv-stdout.log" % self.proc.returncode)
            with open(self.logpath, "rb") as f:
                f.seek(self.log_start)
                listening = b"StreamVerse listening" in f.read()
            if listening:
                try:
                    ready = http_get(SV_HTTP, "/healthz", 2)[0] == 200
                except OSError:
                    ready = False
                if ready:
                    break
            time.sleep(0.2)
        if not ready:
            self.stop()
            raise SystemExit("StreamVerse did not become ready in 120 s; see bench/out/sv-stdout.log")
        with open(os.path.join(OUT, "sv.launch.pid"), "w") as f:
            f.write(str(self.proc.pid))
        time.sleep(0.5)

    def server_pids(self):
        """The StreamVerse server process(es): descendants of `dotnet run` running the Origin assembly."""
        ds = [p for p in descendants(self.proc.pid) if p != self.proc.pid]
        own = [p for p in ds if "Origin" in cmdline(p) and " run " not in " %s " % cmdline(p)]
        return own or ds or [self.proc.pid]

    def pids(self):
        return self.server_pids()

    def publish_url(self, i):
        return "rtmp://127.0.0.1:%d/live/benchkey%08d" % (SV_RTMP, i)

    def playlist_path(self, i):
        return "/live/s%d/video.m3u8" % i

    def log_tail(self, n=None):
        try:
            with open(self.logpath, "rb") as f:
                f.seek(self.log_start)
                txt = f.read().decode(errors="replace")
                return txt[-n:] if n else txt
        except OSError:
            return ""

    shutdowns = []  # (seconds from SIGTERM to gone, killed?)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            pids = descendants(self.proc.pid)
            t = time.time()
            for p in reversed(pids):
                kill_pid(p, signal.SIGTERM)
            gone = wait_gone(pids, 30)
            if not gone:
                log("StreamVerse still running 30 s after SIGTERM: SIGKILL", pids)
                for p in pids:
                    kill_pid(p, signal.SIGKILL)
                wait_gone(pids, 10)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            StreamVerse.shutdowns.append((round(time.time() - t, 2), not gone))
        self.proc = None


def make(name):
    return StreamVerse() if name == "streamverse" else Nginx()


def cleanup_stale():
    """Idempotence: stop servers a previous interrupted run of this harness left behind (by pid file)."""
    for pf, needle in (("nginx.launch.pid", "nginx"), ("sv.launch.pid", "dotnet")):
        path = os.path.join(OUT, pf)
        if os.path.exists(path):
            try:
                pid = int(open(path).read().strip())
                if needle in cmdline(pid) and (needle != "nginx" or OUT in cmdline(pid)) and \
                        (needle != "dotnet" or "sv-data" in cmdline(pid)):
                    log("stopping stale %s pid %d from a previous run" % (needle, pid))
                    for p in reversed(descendants(pid)):
                        kill_pid(p, signal.SIGTERM)
                    wait_gone([pid], 15)
            except (ValueError, OSError):
                pass
            os.remove(path)


# ---------------------------------------------------------------- scenarios
def latency(server):
    out = os.path.join(OUT, "latency-%s.json" % server.name)
    if server.name == "streamverse":
        rtmp, pl = server.publish_url(1), "http://127.0.0.1:%d/live/s1/video.m3u8" % SV_HTTP
    else:
        rtmp, pl = server.publish_url(1), "http://127.0.0.1:%d/s1.m3u8" % NG_HTTP
    load0 = loadavg()
    cmd = [sys.executable, os.path.join(LIVE, "probe.py"), "--kind", "sv" if server.name == "streamverse" else "nginx",
           "--rtmp", rtmp, "--playlist", pl, "--input", INPUT, "--duration", str(LAT_DURATION),
           "--skip", str(LAT_SKIP), "--out", out]
    if server.name == "nginx":
        cmd += ["--hls-dir", os.path.join(OUT, "nginx-hls"), "--interval", "0.02"]
    log("latency %s: %s" % (server.name, " ".join(cmd[1:])))
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        log("probe failed:", r.stderr[-2000:])
        return {"error": "probe exit %d: %s" % (r.returncode, r.stderr.strip()[-600:]), "load": [load0, loadavg()]}
    with open(out) as f:
        doc = json.load(f)
    doc["load"] = [load0, loadavg()]
    for v in doc.get("analysis", {}).values():
        v.pop("rows", None)
    log("latency %s: %s" % (server.name, json.dumps(doc["analysis"])[:1500]))
    if doc["errors"]:
        log("probe errors (%d): %s" % (doc["error_count"], doc["errors"][:5]))
    return doc


def playlist_state(server, n):
    st = {}
    for i in range(1, n + 1):
        try:
            status, body = http_get(server.http_port, server.playlist_path(i), 5)
        except OSError as e:
            st[i] = ("err", str(e))
            continue
        uris = [l for l in body.decode(errors="replace").splitlines() if l and not l.startswith("#")] \
            if status == 200 else []
        st[i] = (status, uris[-1] if uris else None, len(uris))
    return st


def passthrough(server, n):
    idle = proc_sample(server.pids())
    load0 = loadavg()
    logs = os.path.join(OUT, "publishers-%s-%d" % (server.name, n))
    shutil.rmtree(logs, ignore_errors=True)
    os.makedirs(logs)
    pubs = []
    for i in range(1, n + 1):
        lf = open(os.path.join(logs, "s%d.log" % i), "wb")
        pubs.append((subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-stream_loop", "-1", "-i", INPUT,
             "-c", "copy", "-f", "flv", server.publish_url(i)], stdout=lf, stderr=lf), lf))
        time.sleep(0.02)
    time.sleep(WARMUP)
    s0 = proc_sample(server.pids())
    rss_peak = s0["rss_mb"]
    end = s0["t"] + WINDOW
    while time.monotonic() < end:
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))
        rss_peak = max(rss_peak, proc_sample(server.pids())["rss_mb"])
    s1 = proc_sample(server.pids())
    load1 = loadavg()
    # does every stream have a playlist, and does it advance? (two reads 3 s apart, publishers still running)
    a = playlist_state(server, n)
    time.sleep(3)
    b = playlist_state(server, n)
    alive_pubs = sum(1 for p, _ in pubs if p.poll() is None)
    with_playlist = sum(1 for i in a if a[i][0] == 200 and a[i][2] > 0)
    advancing = sum(1 for i in a if a[i][0] == 200 and b[i][0] == 200 and b[i][1] and a[i][1] != b[i][1])
    statuses = {}
    for i in a:
        statuses[str(a[i][0])] = statuses.get(str(a[i][0]), 0) + 1
    for p, lf in pubs:
        if p.poll() is None:
            kill_pid(p.pid, signal.SIGTERM)
    for p, lf in pubs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            kill_pid(p.pid, signal.SIGKILL)
            p.wait(5)
        lf.close()
    pub_errors = []
    for i in range(1, n + 1):
        txt = open(os.path.join(logs, "s%d.log" % i), errors="replace").read().strip()
        if txt:
            pub_errors.append("s%d: %s" % (i, txt.splitlines()[-1][:200]))
    dt = s1["t"] - s0["t"]
    cpu = s1["cpu_s"] - s0["cpu_s"]
    res = {
        "n": n, "window_s": round(dt, 2), "warmup_s": WARMUP,
        "cpu_s": round(cpu, 3), "cpu_s_per_stream_per_min": round(cpu / n / (dt / 60.0), 3),
        "cpu_cores_avg": round(cpu / dt, 3),
        "rss_idle_mb": round(idle["rss_mb"], 1), "rss_end_mb": round(s1["rss_mb"], 1),
        "rss_peak_mb": round(rss_peak, 1),
        "pss_idle_mb": round(idle["pss_mb"], 1), "pss_end_mb": round(s1["pss_mb"], 1),
        "rss_per_stream_mb": round((s1["rss_mb"] - idle["rss_mb"]) / n, 2),
        "server_procs": s1["procs"], "publishers_alive_at_end": alive_pubs,
        "playlists_200": with_playlist, "playlists_advancing": advancing, "playlist_status": statuses,
        "publisher_errors": pub_errors[:10], "publisher_error_count": len(pub_errors),
        "load": [load0, load1],
    }
    log("passthrough %s N=%d: %s" % (server.name, n, json.dumps(res)))
    return res


# ---------------------------------------------------------------- report
def fmt(v, unit=""):
    return "—" if v is None else ("%s%s" % (v, unit))


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return "%.2f" % (a / b)


def lat_get(doc, kind, metric, stat):
    try:
        return doc["analysis"][kind][metric][stat]
    except (KeyError, TypeError):
        return None


def summary_line(r):
    bits = []
    for kind, metric, label in (("part", "first_frame_to_fetchable", "every part first frame → fetched"),
                                ("part", "kf_to_fetchable", "keyframe-started part"),
                                ("segment", "next_unit_first_frame_to_fetchable", "closing keyframe → segment")):
        m = lat_get(r.get("latency", {}).get("streamverse"), kind, metric, "median_ms")
        p = lat_get(r.get("latency", {}).get("streamverse"), kind, metric, "p95_ms")
        if m is not None:
            bits.append("StreamVerse %s median %s / p95 %s ms" % (label, m, p))
    m = lat_get(r.get("latency", {}).get("nginx"), "segment", "next_unit_first_frame_to_fetchable", "median_ms")
    if m is not None:
        bits.append("nginx-rtmp closing keyframe → segment median %s ms" % m)
    pt = r.get("passthrough", {})
    for n in sorted(pt.get("streamverse", {}), key=int):
        a, b = pt["streamverse"].get(n), pt.get("nginx", {}).get(n)
        if a and b and "error" not in a and "error" not in b and b["cpu_s_per_stream_per_min"]:
            bits.append("N=%s CPU s/stream/min %s vs %s (ratio %.2f), RSS/stream %s vs %s MB" % (
                n, a["cpu_s_per_stream_per_min"], b["cpu_s_per_stream_per_min"],
                a["cpu_s_per_stream_per_min"] / b["cpu_s_per_stream_per_min"], a["rss_per_stream_mb"],
                b["rss_per_stream_mb"]))
    return "; ".join(bits) or "no comparable figures"


def render(res):
    m = res["machine"]
    L = []
    L.append("## Live path vs nginx-rtmp")
    L.append("")
    L.append("Measured %s. Reproduce with:" % res["date"])
    L.append("")
    L.append("```sh")
    L.append("bench/live/run.sh")
    L.append("```")
    L.append("")
    L.append("Machine: %s cores (%s), %s RAM, %s; load average at start %s, at end %s (other work was running "
             "on the machine). Versions: %s; %s; %s; dotnet %s." % (
                 m["nproc"], m["cpu"], m["ram"], m["kernel"], res["load_start"], res["load_end"], m["nginx"],
                 m["rtmp_module"], m["ffmpeg"], m["dotnet"]))
    L.append("")
    if m.get("commit"):
        L.append("StreamVerse code: last commit touching `src/` = `%s`." % m["commit"])
        L.append("")
    L.append("Input: `bench/out/input.flv`, %s." % res["input_desc"])
    L.append("")
    lat = res.get("latency", {})
    sv, ng = lat.get("streamverse", {}), lat.get("nginx", {})
    L.append("### Keyframe arrival → fetchable over HTTP (1 stream, %g s published, first %g s ignored)" % (
        LAT_DURATION, LAT_SKIP))
    L.append("")
    L.append("| delay | StreamVerse median | StreamVerse p95 | nginx-rtmp median | nginx-rtmp p95 | ratio SV/nginx "
             "(median, p95) |")
    L.append("|---|---|---|---|---|---|")
    rows = [("segment: the keyframe that starts it sent → segment fetched (200)", "segment", "kf_to_fetchable"),
            ("segment: the keyframe that closes it (next segment's first) sent → segment fetched", "segment",
             "next_unit_first_frame_to_fetchable"),
            ("segment: the keyframe that closes it sent → playlist listing it written on disk (nginx: `.m3u8` "
             "mtime, free of the 20 ms polling)", "segment", "next_unit_first_frame_to_file_closed"),
            ("part that starts on a keyframe: keyframe sent → part fetched (200)", "part", "kf_to_fetchable"),
            ("every keyframe → the part containing it fetched", "part", "every_kf_to_containing_part_fetchable"),
            ("every part: its first video frame sent → part fetched", "part", "first_frame_to_fetchable"),
            ("every part: its last video frame sent → part fetched", "part", "last_frame_to_fetchable")]
    for label, kind, metric in rows:
        a, b = lat_get(sv, kind, metric, "median_ms"), lat_get(sv, kind, metric, "p95_ms")
        c, d = lat_get(ng, kind, metric, "median_ms"), lat_get(ng, kind, metric, "p95_ms")
        n_sv = lat_get(sv, kind, metric, "n")
        n_ng = lat_get(ng, kind, metric, "n")
        na = "n/a (no parts)" if kind == "part" else None
        if metric == "next_unit_first_frame_to_file_closed":
            a = b = n_sv = None
        L.append("| %s | %s | %s | %s | %s | %s |" % (
            label, fmt(a, " ms") + (" (n=%s)" % n_sv if n_sv else ""), fmt(b, " ms"),
            na or (fmt(c, " ms") + (" (n=%s)" % n_ng if n_ng else "")), na or fmt(d, " ms"),
            "—" if kind == "part" else "%s, %s" % (ratio(a, c), ratio(b, d))))
    L.append("")
    for key, doc in (("StreamVerse", sv), ("nginx-rtmp", ng)):
        if not doc:
            L.append("- %s: not measured in this run." % key)
            continue
        if "error" in doc:
            L.append("- %s: probe failed: `%s`" % (key, doc["error"]))
            continue
        parts = []
        for kind in ("segment", "part"):
            a = doc.get("analysis", {}).get(kind)
            if a:
                parts.append("%d %ss measured (of %d fetched; median duration %s ms, min %s, max %s)" % (
                    a["units_measured"], kind, a["units_fetched"], a["duration"].get("median_ms"),
                    a["duration"].get("min_ms"), a["duration"].get("max_ms")))
                if kind == "part":
                    parts.append("%d of %d measured parts start on a keyframe, %d of those flagged INDEPENDENT=YES; "
                                 "%d of %d keyframes sit in a part flagged INDEPENDENT=YES" % (
                                     a["units_starting_on_keyframe"], a["units_measured"],
                                     a["independent_flag_on_keyframe_units"], a["keyframe_parts_flagged_independent"],
                                     a["keyframes_in_parts"]))
        L.append("- %s: %d keyframes sent; %s; probe errors: %d%s; load %s → %s." % (
            key, doc.get("keyframes_sent", 0), "; ".join(parts) or "no units matched", doc.get("error_count", 0),
            (" (first: `%s`)" % doc["errors"][0][:200]) if doc.get("errors") else "", doc["load"][0], doc["load"][1]))
    goal = []
    for label, metric in (("part starting on a keyframe, keyframe → fetched", "kf_to_fetchable"),
                          ("every part, first frame → fetched", "first_frame_to_fetchable"),
                          ("every keyframe → containing part fetched", "every_kf_to_containing_part_fetchable")):
        gm, g = lat_get(sv, "part", metric, "median_ms"), lat_get(sv, "part", metric, "p95_ms")
        if gm is not None:
            goal.append("%s: median %s ms %s, p95 %s ms %s" % (label, gm, "≤ 550 (met)" if gm <= 550 else "> 550 (NOT met)",
                                                             g, "≤ 550 (met)" if g <= 550 else "> 550 (NOT met)"))
    if goal:
        L.append("- Goal “part fetchable within one part duration (PART-TARGET 0.5 s) + 50 ms” = 550 ms: "
                 + "; ".join(goal) + ".")
    else:
        L.append("- Goal “part fetchable within one part duration + 50 ms”: not measured (no StreamVerse part data).")
    L.append("")
    L.append("### Passthrough streams: server CPU and resident memory (%g s window after %g s warm-up)" % (
        WINDOW, WARMUP))
    L.append("")
    L.append("| streams | server | playlists 200 / advancing | CPU s per stream per minute | CPU cores (avg) | "
             "RSS idle → end (peak) MB | RSS per stream MB | load 1/5/15 (start → end) |")
    L.append("|---|---|---|---|---|---|---|---|")
    pt = res.get("passthrough", {})
    for n in STREAM_COUNTS:
        rs = {}
        for s in ("streamverse", "nginx"):
            r = pt.get(s, {}).get(str(n))
            rs[s] = r
            if r is None:
                L.append("| %d | %s | not measured | | | | | |" % (n, LABEL[s]))
            elif "error" in r:
                L.append("| %d | %s | failed: %s | | | | | |" % (n, LABEL[s], r["error"][:150]))
            else:
                L.append("| %d | %s | %d / %d of %d | %s | %s | %s → %s (%s) | %s | %s → %s |" % (
                    n, LABEL[s], r["playlists_200"], r["playlists_advancing"], n, r["cpu_s_per_stream_per_min"],
                    r["cpu_cores_avg"], r["rss_idle_mb"], r["rss_end_mb"], r["rss_peak_mb"],
                    r["rss_per_stream_mb"], r["load"][0], r["load"][1]))
        a, b = rs["streamverse"], rs["nginx"]
        ok = a and b and "error" not in a and "error" not in b and all(
            r["publishers_alive_at_end"] == n and r["playlists_advancing"] == n for r in (a, b))
        L.append("| %d | **ratio SV/nginx** | | **%s** | %s | %s (end) | **%s** | |" % (
            n, ratio(a["cpu_s_per_stream_per_min"], b["cpu_s_per_stream_per_min"]) if ok else "—",
            ratio(a["cpu_cores_avg"], b["cpu_cores_avg"]) if ok else "—",
            ratio(a["rss_end_mb"], b["rss_end_mb"]) if ok else "—",
            ratio(a["rss_per_stream_mb"], b["rss_per_stream_mb"]) if ok else "—"))
    L.append("")
    cpu_goal = []
    for n in STREAM_COUNTS:
        a, b = pt.get("streamverse", {}).get(str(n)), pt.get("nginx", {}).get(str(n))
        if a and b and "error" not in a and "error" not in b and b["cpu_s_per_stream_per_min"] and all(
                x["publishers_alive_at_end"] == n and x["playlists_advancing"] == n for x in (a, b)):
            r = a["cpu_s_per_stream_per_min"] / b["cpu_s_per_stream_per_min"]
            cpu_goal.append("N=%d: StreamVerse %s vs nginx-rtmp %s CPU s per stream per minute, ratio %.2f → %s" % (
                n, a["cpu_s_per_stream_per_min"], b["cpu_s_per_stream_per_min"], r, "met" if r < 1 else "NOT met"))
    L.append("Goal “less CPU per stream than nginx-rtmp”: " + ("; ".join(cpu_goal) if cpu_goal else "not measured") + ".")
    L.append("")
    issues = []
    for s in ("streamverse", "nginx"):
        for n, r in sorted(pt.get(s, {}).items(), key=lambda kv: int(kv[0])):
            if "error" in r:
                continue
            if r["publisher_error_count"] or r["publishers_alive_at_end"] != r["n"]:
                issues.append("%s N=%s: %d/%s publishers alive at the end, %d with errors (first: `%s`)" % (
                    LABEL[s], n, r["publishers_alive_at_end"], n, r["publisher_error_count"],
                    (r["publisher_errors"] or [""])[0]))
    if issues:
        L.append("Publisher problems seen: " + "; ".join(issues) + ".")
        L.append("")
    prev = res.get("previous")
    if prev:
        pc = prev.get("machine", {}).get("commit")
        L.append("Previous run of the same command, for spread (%s, load at start %s%s): %s." % (
            prev.get("date"), prev.get("load_start"), ", StreamVerse code `%s`" % pc if pc else "",
            summary_line(prev)))
        L.append("")
    L.append("### Method")
    L.append("")
    for line in METHOD:
        L.append("- " + line)
    L.append("")
    L.append("### Not measured")
    L.append("")
    for line in NOT_MEASURED:
        L.append("- " + line)
    L.append("")
    return "\n".join(L)


METHOD = [
    "Latency: `bench/live/probe.py` (Python 3 standard library) publishes `input.flv` itself over RTMP "
    "(simple handshake, connect/releaseStream/FCPublish/createStream/publish in AMF0, chunk size 4096, "
    "every message with a full type-0 header), paced on the FLV timestamps against the wall clock "
    "like `ffmpeg -re`. A keyframe's arrival time is the monotonic clock right after `sendall()` of its "
    "FLV tag returned (loopback; the server has the bytes in its socket buffer). Publishing and polling run in "
    "one process on one clock.",
    "StreamVerse: the probe reads `/live/s1/video.m3u8`, then issues LL-HLS blocking reloads "
    "(`_HLS_msn`/`_HLS_part`) for the part named by `EXT-X-PRELOAD-HINT`; every new `EXT-X-PART` (its "
    "`INDEPENDENT` flag recorded) and every new full segment is fetched at once (3 fetch workers); the completion "
    "of the 200 response is the availability time. nginx-rtmp: `/s1.m3u8` polled every 20 ms (adds 0-20 ms, "
    "about 10 ms on average, to nginx's HTTP figures; the `.m3u8` mtime row is free of it), each new fragment "
    "fetched the same way.",
    "Matching: the decode time of the first video sample of each fetched unit (fMP4 `tfdt` with the init "
    "segment's `mdhd` timescale; MPEG-TS first video PES PTS), relative to the session's first unit (which starts "
    "at the input's first keyframe), is matched to the input video frame with that FLV timestamp (±10 ms); units "
    "matching no frame are counted as probe errors. A unit's last frame is the frame before the next unit's first; "
    "`closes it` = the next unit's first keyframe, whose arrival is what lets a server cut a unit on keyframes. "
    "A segment measured from the keyframe that starts it includes its own 2 s by construction. `every keyframe → "
    "the part containing it` covers keyframes that fall inside a part as well as those that start one. Units "
    "whose first frame was sent in the first seconds (see the heading) and each session's last unit (flushed when "
    "the publisher leaves) are left out.",
    "Timing resolution: Python thread scheduling (GIL switch interval 5 ms) and the 2-core machine shared "
    "with other work add a few ms of jitter; the load averages are recorded beside each figure.",
    "CPU/RSS: for each N in %s, a fresh server, then N `ffmpeg -re -stream_loop -1 -i input.flv -c copy -f flv` "
    "publishers (one per stream), %g s warm-up, then utime+stime from `/proc/PID/stat` and VmRSS from "
    "`/proc/PID/status` at the start and end of a %g s window (RSS peak sampled every second). StreamVerse: "
    "the server process started by `dotnet run` (the `dotnet run` launcher itself is excluded); nginx: master, "
    "worker and cache manager processes (summed; summed RSS counts their shared pages more than once, PSS "
    "idle/end is also in `bench/out/live-results.json`). RSS per stream = (RSS at the end of the window − RSS of the fresh idle server) / N. "
    "First all publishers to StreamVerse, then the same to nginx, one server running at a time. After the "
    "window every stream's playlist is read twice 3 s apart: `200` = a playlist with at least one segment, "
    "`advancing` = its last segment changed." % (" ".join(map(str, STREAM_COUNTS)), WARMUP, WINDOW),
    "StreamVerse is started as `dotnet run --no-build -c Release --project src/Origin -- --data "
    "<abs>/bench/out/sv-data --http 127.0.0.1:27080 --rtmp 127.0.0.1:27935 --stream s1=benchkey00000001 … --stream s50=benchkey00000050`. "
    "`--data` is absolute because a relative `bench/out/sv-data` ended up as `src/Origin/bench/out/sv-data` "
    "(the daemon's `StreamVerse listening … data=` log line showed it: under `dotnet run --project` the daemon's "
    "working directory is the project directory, and it resolves `--data` with `Path.GetFullPath`).",
    "Publishers and the probe read `bench/out/live-bench-src.flv`, a hard link to `input.flv`: in an attempt at "
    "14:49 UTC on 2026-11-25 the StreamVerse probe was ended by SIGTERM from outside the harness and the N=1/N=10 "
    "StreamVerse publishers were gone before the end of the window (playlists not advancing) while other work on "
    "the machine was publishing `input.flv` too; that run was discarded. A scenario whose publishers did not all "
    "survive, or whose playlists did not all advance, gets no ratio.",
    "nginx-rtmp's `.m3u8` mtime row: file times come from the kernel's coarse clock (a few ms granularity), "
    "so values a few ms below zero mean 'within one clock tick of the keyframe'.",
    "nginx-rtmp runs `worker_processes 1` (nginx-rtmp's live relay between workers needs `rtmp_auto_push`; one "
    "worker is its documented live set-up), so it uses at most one core; StreamVerse may use both cores. "
    "nginx-rtmp writes MPEG-TS fragments to disk (2 s, 16 s playlist); StreamVerse keeps CMAF segments/parts in "
    "memory and also records to `bench/out/sv-data`. Neither figure includes the publishers' own CPU.",
]


NOT_MEASURED = [
    "Latency with more than one stream, and latency of DASH (`index.mpd`) and of the audio playlist: the probe "
    "drives one stream's `video.m3u8` only.",
    "Server CPU/RSS with viewers: the passthrough scenarios publish only; playlists are read just once per "
    "stream (twice, 3 s apart) after the window, no segments are served during it.",
    "nginx-rtmp part-level latency: it has no LL-HLS parts (its rows say n/a).",
    "The publishers' own CPU (ffmpeg `-c copy`, the same for both servers) and the probe's.",
    "Repeatability beyond two runs: each table is one run on a shared 2-core machine with a high load average "
    "(see the load columns); the line above Method summarises the previous run of the same command.",
]


def update_results_md(section):
    path = os.path.join(ROOT, "bench", "RESULTS.md")
    head = "# StreamVerse benchmark results\n\n"
    text = open(path).read() if os.path.exists(path) else head
    start = text.find("## Live path vs nginx-rtmp")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    else:
        nxt = re.search(r"^## ", text[start + 3:], re.M)
        end = start + 3 + nxt.start() if nxt else len(text)
        text = text[:start] + section + ("\n" if nxt else "") + text[end:]
        if not text.endswith("\n"):
            text += "\n"
    with open(path, "w") as f:
        f.write(text)
    log("updated", path)


def machine():
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    return {
        "nproc": sh("nproc"), "ram": mem, "kernel": sh("uname -sr"),
        "cpu": sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip(),
        "nginx": sh("nginx -v 2>&1"),
        "rtmp_module": "libnginx-mod-rtmp " + sh("dpkg-query -W -f='${Version}' libnginx-mod-rtmp"),
        "ffmpeg": sh("ffmpeg -version | head -1 | cut -d' ' -f1-3"),
        "dotnet": sh("dotnet --version"),
        "commit": sh("git -C %s log -1 --format='%%h %%s' -- src Directory.Build.props Directory.Packages.props" % ROOT)[:90],
    }


def main():
    if "--render-only" in sys.argv:  # re-render bench/out/live-results.json (no measurement)
        with open(os.path.join(OUT, "live-results.json")) as f:
            res = json.load(f)
        section = render(res)
        print(section)
        if WRITE_RESULTS:
            update_results_md(section)
        return
    cleanup_stale()
    if os.path.exists(INPUT):
        os.remove(INPUT)
    os.link(INPUT_PREPARED, INPUT)
    previous = None
    last = os.path.join(OUT, "live-results.json")
    if os.path.exists(last):  # keep the last run's figures to show the run-to-run spread
        try:
            with open(last) as f:
                previous = json.load(f)
            previous.pop("previous", None)
            shutil.copy(last, os.path.join(OUT, "live-results-prev.json"))
        except (OSError, ValueError):
            previous = None
    res = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
           "load_start": loadavg(), "latency": {}, "passthrough": {}, "method": METHOD,
           "input_desc": E("BENCH_INPUT_DESC", "see bench/live/run.sh"), "previous": previous}
    log("machine", res["machine"], "load", res["load_start"])
    for name in SERVERS:
        srv = make(name)
        try:
            srv.start()
            res["latency"][name] = latency(srv)
        except SystemExit as e:
            res["latency"][name] = {"error": str(e)}
            log("latency", name, "failed:", e)
        finally:
            srv.stop()
            if name == "streamverse" and "error" in res["latency"].get(name, {}):
                res["latency"][name]["log_tail"] = srv.log_tail(4000)
    for n in STREAM_COUNTS:
        for name in SERVERS:
            srv = make(name)
            try:
                srv.start()
                res["passthrough"].setdefault(name, {})[str(n)] = passthrough(srv, n)
            except SystemExit as e:
                res["passthrough"].setdefault(name, {})[str(n)] = {"error": str(e)}
                log("passthrough", name, n, "failed:", e)
            finally:
                if name == "streamverse":
                    tail = srv.log_tail() if srv.proc else ""
                    errs = [l for l in tail.splitlines() if re.search(r"fail|error|exception|crit", l, re.I)]
                    if errs:
                        res["passthrough"][name][str(n)]["server_log_errors"] = errs[-10:]
                srv.stop()
    res["load_end"] = loadavg()
    res["sv_shutdowns"] = StreamVerse.shutdowns
    with open(os.path.join(OUT, "live-results.json"), "w") as f:
        json.dump(res, f, indent=1)
    section = render(res)
    print(section)
    if WRITE_RESULTS:
        update_results_md(section)


if __name__ == "__main__":
    main()
