#!/usr/bin/env python3
"""N concurrent GETs of one URL released together (a cold burst); prints status counts and the elapsed time."""
import sys, threading, time, urllib.request, collections

url, n = sys.argv[1], int(sys.argv[2])
barrier = threading.Barrier(n)
statuses = collections.Counter()
lock = threading.Lock()

def get():
    barrier.wait()
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            r.read()
            code = r.status
    except Exception as e:  # noqa: BLE001 - counted, not raised
        code = getattr(e, "code", type(e).__name__)
    with lock:
        statuses[code] += 1

threads = [threading.Thread(target=get) for _ in range(n)]
start = time.monotonic()
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"statuses={dict(statuses)} elapsed_s={time.monotonic() - start:.3f}")
