#!/usr/bin/env python3
"""Login latency of a real user while N clients flood POST /api/v1/auth/register (each registration is an Argon2id
hash). Same daemon, same run: first the floor (logins on the idle daemon), then the same logins during the flood.

  bench/controlplane/registration-flood.py DLL [--flooders 32] [--seconds 10] [--addresses many|one] [--Daemon:Key=value ...]

DLL is a built StreamVerse.Origin.dll (this tree's, or an older commit's for "before"). --addresses many: each
flooder connects from its own 127.0.1.x address (a distributed flood: no per-address limit stops it); one: all
from 127.0.0.2. The real user logs in from 127.0.0.1, one login after another. Loopback only; the machine's load
average goes into the output because the numbers mean little without it.
"""
import argparse, http.client, json, os, shutil, statistics, subprocess, sys, tempfile, threading, time, uuid

def post(host, port, path, body, source=None, timeout=60):
    c = http.client.HTTPConnection(host, port, timeout=timeout, source_address=(source, 0) if source else None)
    try:
        c.request("POST", path, json.dumps(body), {"content-type": "application/json"})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dll"); ap.add_argument("--flooders", type=int, default=32); ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--addresses", choices=["many", "one"], default="many"); ap.add_argument("--port", type=int, default=18491)
    ap.add_argument("--label", default="")
    a, extra = ap.parse_known_args()
    a.extra = [x for x in extra if x != "--"]
    data = tempfile.mkdtemp(prefix="sv-flood-")
    log = open(os.path.join(data, "daemon.log"), "w")
    daemon = subprocess.Popen(["dotnet", a.dll, "--data", data, "--http", f"127.0.0.1:{a.port}", "--rtmp", f"127.0.0.1:{a.port + 1}",
                               "--Logging:LogLevel:Default", "Warning", *a.extra], stdout=log, stderr=log)
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=2); c.request("GET", "/healthz"); c.getresponse().read(); break
            except OSError:
                time.sleep(0.2)
        email, password = "real@bench.invalid", "a real user's password"
        st, _ = post("127.0.0.1", a.port, "/api/v1/auth/register", {"email": email, "password": password, "handle": "realuser"})
        assert st == 202, st

        def login():
            t = time.perf_counter()
            st, _ = post("127.0.0.1", a.port, "/api/v1/auth/login", {"email": email, "password": password})
            return time.perf_counter() - t, st

        login()  # warm-up
        idle = [login() for _ in range(10)]

        stop = threading.Event(); statuses = {}; lock = threading.Lock()
        def flood(i):
            src = f"127.0.1.{i + 1}" if a.addresses == "many" else "127.0.0.2"
            while not stop.is_set():
                try:
                    st, _ = post("127.0.0.1", a.port, "/api/v1/auth/register",
                                 {"email": f"f{uuid.uuid4().hex}@bench.invalid", "password": "flood password", "handle": "f" + uuid.uuid4().hex[:20]}, source=src)
                except OSError:
                    st = "error"
                with lock:
                    statuses[st] = statuses.get(st, 0) + 1
        threads = [threading.Thread(target=flood, args=(i,), daemon=True) for i in range(a.flooders)]
        for t in threads: t.start()
        time.sleep(1.0)  # let the flood build up
        loaded = []; end = time.monotonic() + a.seconds
        while time.monotonic() < end:
            loaded.append(login())
        stop.set()
        for t in threads: t.join(70)

        def fmt(xs):
            s = sorted(x for x, _ in xs)
            return f"n={len(s)} median={statistics.median(s):.3f}s p90={s[int(0.9 * (len(s) - 1))]:.3f}s max={s[-1]:.3f}s statuses={sorted({st for _, st in xs})}"
        print(f"{a.label} flooders={a.flooders} addresses={a.addresses} extra={' '.join(a.extra) or '-'} load={os.getloadavg()[0]:.2f}")
        print(f"  idle logins:    {fmt(idle)}")
        print(f"  logins in flood: {fmt(loaded)}")
        print(f"  flood answers:  {dict(sorted((str(k), v) for k, v in statuses.items()))}")
    finally:
        daemon.terminate(); daemon.wait(30); log.close(); shutil.rmtree(data, ignore_errors=True)

if __name__ == "__main__":
    main()
