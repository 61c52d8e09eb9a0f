#!/usr/bin/env bash
# The live media playlist from one origin (build src/Origin -c Release; run bench/edge/run.sh once for the clip):
# wrk -t2 -c64 -d8s three times in a row. Used for the A/B of the playlist fast path in bench/RESULTS.md.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd); DLL=$ROOT/src/Origin/bin/Release/net10.0/StreamVerse.Origin.dll
OUT=$(mktemp -d); P=$((20000 + RANDOM % 5000)); R=$((P+1)); KEY=abcdef0123456789
dotnet "$DLL" --data "$OUT/d" --http 127.0.0.1:$P --rtmp 127.0.0.1:$R --stream bench=$KEY > "$OUT/o.log" 2>&1 & D=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$P/healthz >/dev/null && break; sleep 0.2; done
ffmpeg -hide_banner -nostdin -loglevel error -re -stream_loop -1 -i $ROOT/bench/out/clip-720p-4M.flv -c copy -f flv rtmp://127.0.0.1:$R/live/$KEY & F=$!
for _ in $(seq 150); do curl -sf http://127.0.0.1:$P/live/bench/video.m3u8 | grep -q 'video_2\.m4s' && break; sleep 0.2; done
curl -s -D - -o /dev/null http://127.0.0.1:$P/live/bench/video.m3u8 | tr -d '\r'
for i in 1 2 3; do wrk -t2 -c64 -d8s --latency http://127.0.0.1:$P/live/bench/video.m3u8 | awk '/Requests\/sec|99%/'; done
kill $F $D; wait 2>/dev/null; rm -rf "$OUT"
