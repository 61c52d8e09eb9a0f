#!/usr/bin/env bash
# System benchmark: the StreamVerse origin and edge against nginx on the same machine, same files, loopback only.
#   origin (Kestrel, objects from memory; recording files from disk) vs nginx (sendfile, open_file_cache)
#   edge (FASTER-backed pull-through cache) vs nginx proxy_cache + proxy_cache_lock, both in front of the same origin
#   plain-kestrel: the smallest Kestrel app serving the same bytes from memory (bench/StreamVerse.PlainKestrel), so
#   the gap to nginx splits into our pipeline's cost and Kestrel's
#   origin-routed: a second origin with the HTTP/1.1 fast lane off (StreamVerse:Delivery:FastLane=false), its own
#   publisher of the same clip: the A/B of the lane in the same run
#   ceiling: bench/edge/ceiling.c, the least an HTTP/1.1 server can do per request on this kernel (the same bytes
#   for every request, one recv and one send per readiness event): the playlist rows' upper bound in this run
#   Every row also reports the server's CPU time (user and system, from /proc) per request.
# Usage: bench/edge/run.sh            (after: dotnet build src/Origin -c Release; dotnet build bench/StreamVerse.PlainKestrel -c Release)
# Env:   DURATION=15s  CONNS="64 1000"  THREADS=2  WARMUP=3s (an unmeasured wrk run before each row: JIT tiers, caches)
#        FIRST_WARMUP=15s (instead of WARMUP before each server's first row)
#        SPLIT=1  wrk, the publishers and the burst client on CPU 0, every server on the others (common.sh, split_cores)
# Output: bench/out/edge/ (git-ignored): raw wrk outputs, summary.md
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/bench/out/edge
DLL=$ROOT/src/Origin/bin/Release/net10.0/StreamVerse.Origin.dll
DURATION=${DURATION:-15s}
CONNS=${CONNS:-"64 1000"}
WARMUP=${WARMUP:-3s}
FIRST_WARMUP=${FIRST_WARMUP:-15s}
WARMED=""
PLAIN_DLL=$ROOT/bench/StreamVerse.PlainKestrel/bin/Release/net10.0/StreamVerse.PlainKestrel.dll
[ -f "$DLL" ] || { echo "build first: dotnet build src/Origin -c Release" >&2; exit 1; }
[ -f "$PLAIN_DLL" ] || { echo "build first: dotnet build bench/StreamVerse.PlainKestrel -c Release" >&2; exit 1; }
rm -rf "$OUT"; mkdir -p "$OUT"/{www/live/bench,nginx/logs,nginx/tmp,nginx/cache,origin-data,edge-data}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true   # c1000 needs more than the usual 1024 descriptors

# shellcheck source=bench/edge/common.sh
. "$ROOT/bench/edge/common.sh"
split_cores
THREADS=${THREADS:-2}
SERVER_CPUS=$(( ${SPLIT:-0} == 1 ? $(nproc) - 1 : $(nproc) ))
ORIGIN=$(port); RTMP=$(port); EDGE=$(port); NGX=$(port); NGXPROXY=$(port); PLAIN=$(port); ROUTED=$(port); RTMP2=$(port); CEILING=$(port)
gcc -O2 -pthread -o "$OUT/ceiling" "$ROOT/bench/edge/ceiling.c"
KEY=$(openssl rand -hex 16)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v s="$2" 'index($0, s" ")==1 {print $2}' | head -1; }
SUMMARY=$OUT/summary.md
echo "cores: ${SERVER_CPUS_CMD:-shared by servers and wrk}; wrk -t$THREADS" > "$SUMMARY"
echo "| target | object | conns | req/s | transfer/s | p99 | server CPU us/req (user+sys) | load before |" >> "$SUMMARY"
echo "|---|---|---|---|---|---|---|---|" >> "$SUMMARY"
cpu_ticks() { local t=0 p; for p in $1; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$t"; }
bench() { # name object conns url server-pids
    local name=$1 object=$2 c=$3 url=$4 pids=$5 load
    # Unmeasured first: a .NET server's first seconds run unoptimised code (tiered JIT, then PGO-instrumented code
    # until tier 1 settles); nginx gets the same run. A server's first row gets FIRST_WARMUP: run 14's first row (the
    # origin at c64, 3 s after its start) cost 16.8 us per playlist, the same origin 10.7 us at c1000 right after.
    local warm=$WARMUP
    case " $WARMED " in *" $pids "*) ;; *) warm=$FIRST_WARMUP; WARMED="$WARMED $pids" ;; esac
    # shellcheck disable=SC2086 # *_CPUS_CMD are word lists on purpose (taskset -c N, or nothing)
    $LOAD_CPUS_CMD wrk -t"$THREADS" -c"$c" -d"$warm" "$url" > /dev/null 2>&1
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    local before; before=$(cpu_ticks "$pids")
    # shellcheck disable=SC2086
    $LOAD_CPUS_CMD wrk -t"$THREADS" -c"$c" -d"$DURATION" --latency "$url" > "$OUT/wrk-$name-$object-c$c.txt" 2>&1
    local after; after=$(cpu_ticks "$pids")
    local n; n=$(awk '/requests in/ {print $1}' "$OUT/wrk-$name-$object-c$c.txt")
    local cpu; cpu=$(python3 -c "print(round(($after - $before) * 1e6 / $(getconf CLK_TCK) / max(1, ${n:-0}), 1))")
    local rps tps p99
    rps=$(awk '/^Requests\/sec/ {print $2}' "$OUT/wrk-$name-$object-c$c.txt")
    tps=$(awk '/^Transfer\/sec/ {print $2}' "$OUT/wrk-$name-$object-c$c.txt")
    p99=$(awk '$1=="99%" {print $2}' "$OUT/wrk-$name-$object-c$c.txt")
    local errs; errs=$(grep -E "Socket errors|Non-2xx" "$OUT/wrk-$name-$object-c$c.txt" | tr '\n' ' ' || true)
    echo "| $name | $object | $c | $rps | $tps | $p99 | $cpu | $load |${errs:+ $errs}" >> "$SUMMARY"
    echo "$name $object c$c: $rps req/s $tps p99 $p99 cpu/req ${cpu}us (load $load) $errs"
}

# A 20 s 1280x720 clip at 4 Mbit/s with a 2 s GOP (so ~1 MB segments), encoded once, then published with -c copy
# (looped) so the publisher costs almost no CPU during the measurements.
CLIP=$ROOT/bench/out/clip-720p-4M.flv
if [ ! -f "$CLIP" ]; then
    ffmpeg -hide_banner -nostdin -loglevel error -f lavfi -i testsrc2=size=1280x720:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 \
        -t 20 -c:v libx264 -preset veryfast -b:v 4M -maxrate 4M -bufsize 4M -g 50 -keyint_min 50 -sc_threshold 0 -bf 2 -pix_fmt yuv420p \
        -c:a aac -b:a 64k -f flv "$CLIP"
fi

# shellcheck disable=SC2086
$SERVER_CPUS_CMD dotnet "$DLL" --data "$OUT/origin-data" --http 127.0.0.1:$ORIGIN --rtmp 127.0.0.1:$RTMP --stream bench=$KEY > "$OUT/origin.log" 2>&1 &
ORIGIN_PID=$!; PIDS+=($ORIGIN_PID)
# shellcheck disable=SC2086
$SERVER_CPUS_CMD dotnet "$DLL" --data "$OUT/edge-data" --http 127.0.0.1:$EDGE --upstream http://127.0.0.1:$ORIGIN > "$OUT/edge.log" 2>&1 &
EDGE_PID=$!; PIDS+=($EDGE_PID)
mkdir -p "$OUT/routed-data"
# shellcheck disable=SC2086
$SERVER_CPUS_CMD dotnet "$DLL" --data "$OUT/routed-data" --http 127.0.0.1:$ROUTED --rtmp 127.0.0.1:$RTMP2 --stream bench=$KEY --StreamVerse:Delivery:FastLane false > "$OUT/origin-routed.log" 2>&1 &
ROUTED_PID=$!; PIDS+=($ROUTED_PID)
for p in $ORIGIN $EDGE $ROUTED; do for _ in $(seq 100); do curl -sf "http://127.0.0.1:$p/healthz" >/dev/null && break; sleep 0.2; done; done

# shellcheck disable=SC2086
$LOAD_CPUS_CMD ffmpeg -hide_banner -nostdin -loglevel error -re -stream_loop -1 -i "$CLIP" -c copy -f flv "rtmp://127.0.0.1:$RTMP/live/$KEY" > "$OUT/publisher.log" 2>&1 &
PUB=$!; PIDS+=($PUB)
# shellcheck disable=SC2086
$LOAD_CPUS_CMD ffmpeg -hide_banner -nostdin -loglevel error -re -stream_loop -1 -i "$CLIP" -c copy -f flv "rtmp://127.0.0.1:$RTMP2/live/$KEY" > "$OUT/publisher-routed.log" 2>&1 &
PUB2=$!; PIDS+=($PUB2)
for p in $ORIGIN $ROUTED; do
    for _ in $(seq 150); do curl -sf "http://127.0.0.1:$p/live/bench/video.m3u8" | grep -q '^[a-z0-9]*/video_2\.m4s$' && break; sleep 0.2; done
done

start_nginx "$OUT" "$NGX" "$ORIGIN" "$NGXPROXY"
PIDS+=($NGINX_PID)

PLAIN_PID=
plain_restart() { # serves the files now in www/live/bench from memory
    [ -n "$PLAIN_PID" ] && { kill "$PLAIN_PID" 2>/dev/null || true; wait "$PLAIN_PID" 2>/dev/null || true; }
    # shellcheck disable=SC2086
    $SERVER_CPUS_CMD dotnet "$PLAIN_DLL" "127.0.0.1:$PLAIN" "$OUT/www/live/bench" > "$OUT/plain-kestrel.log" 2>&1 &
    PLAIN_PID=$!; PIDS+=($PLAIN_PID)
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PLAIN/" && break; sleep 0.1; done
}

newest_segment() { curl -s "http://127.0.0.1:${1:-$ORIGIN}/live/bench/video.m3u8" | grep -E '^[a-z0-9]+/video_[0-9]+\.m4s$' | tail -1; }

# --- origin vs nginx: playlist (the live media playlist, from memory) -------------------------------------------
curl -s "http://127.0.0.1:$ORIGIN/live/bench/video.m3u8" > "$OUT/www/live/bench/video.m3u8"
PLBYTES=$(stat -c %s "$OUT/www/live/bench/video.m3u8")
echo "playlist bytes: $PLBYTES" | tee "$OUT/sizes.txt"
plain_restart
# shellcheck disable=SC2086
$SERVER_CPUS_CMD "$OUT/ceiling" "$CEILING" "$OUT/www/live/bench/video.m3u8" "$SERVER_CPUS" &
CEILING_PID=$!; PIDS+=($CEILING_PID)
for c in $CONNS; do
    bench origin playlist "$c" "http://127.0.0.1:$ORIGIN/live/bench/video.m3u8" "$ORIGIN_PID"
    bench origin-routed playlist "$c" "http://127.0.0.1:$ROUTED/live/bench/video.m3u8" "$ROUTED_PID"
    bench plain-kestrel playlist "$c" "http://127.0.0.1:$PLAIN/video.m3u8" "$PLAIN_PID"
    bench nginx playlist "$c" "http://127.0.0.1:$NGX/live/bench/video.m3u8" "$NGINX_PIDS"
    bench ceiling playlist "$c" "http://127.0.0.1:$CEILING/live/bench/video.m3u8" "$CEILING_PID"
done
kill "$CEILING_PID" 2>/dev/null || true

# --- origin vs nginx: ~1 MB segment (the newest complete live segment: in the origin's memory for ~24 s) ---------
for c in $CONNS; do
    SEG=$(newest_segment)
    curl -s "http://127.0.0.1:$ORIGIN/live/bench/$SEG" > "$OUT/www/live/bench/segment.m4s"
    echo "segment $SEG bytes: $(stat -c %s "$OUT/www/live/bench/segment.m4s")" | tee -a "$OUT/sizes.txt"
    plain_restart
    bench origin-memory segment "$c" "http://127.0.0.1:$ORIGIN/live/bench/$SEG" "$ORIGIN_PID"
    bench origin-routed-memory segment "$c" "http://127.0.0.1:$ROUTED/live/bench/$(newest_segment $ROUTED)" "$ROUTED_PID"
    bench plain-kestrel segment "$c" "http://127.0.0.1:$PLAIN/segment.m4s" "$PLAIN_PID"
    bench nginx segment "$c" "http://127.0.0.1:$NGX/live/bench/segment.m4s" "$NGINX_PIDS"
done

# --- edge vs nginx proxy_cache: cold burst of 200 concurrent requests, origin requests counted at the origin -----
SERIES='streamverse_http_media_responses_total{kind="segment"}'
for proxy in edge nginx-proxy-cache; do
    p=$EDGE; [ "$proxy" = nginx-proxy-cache ] && p=$NGXPROXY
    SEG=$(newest_segment)
    before=$(metric "$ORIGIN" "$SERIES")
    # shellcheck disable=SC2086
    result=$($LOAD_CPUS_CMD python3 "$ROOT/bench/edge/burst.py" "http://127.0.0.1:$p/live/bench/$SEG" 200)
    after=$(metric "$ORIGIN" "$SERIES")
    echo "cold burst $proxy $SEG: $result origin_segment_requests=$(python3 -c "print(int(float('$after')-float('$before')))")" | tee -a "$OUT/burst.txt"
    sleep 2.5   # the next newest segment (2 s apart) for the other proxy, so both bursts are cold
done

# --- edge vs nginx proxy_cache: hit throughput on a cached segment --------------------------------------------
for c in $CONNS; do
    SEG=$(newest_segment)
    curl -s -o /dev/null "http://127.0.0.1:$EDGE/live/bench/$SEG"; curl -s -o /dev/null "http://127.0.0.1:$NGXPROXY/live/bench/$SEG"
    bench edge-hit segment "$c" "http://127.0.0.1:$EDGE/live/bench/$SEG" "$EDGE_PID"
    bench nginx-proxy-cache-hit segment "$c" "http://127.0.0.1:$NGXPROXY/live/bench/$SEG" "$NGINX_PIDS"
done

# --- the recording (stream ended): origin serving the segment file from disk vs nginx ------------------------
SEG=$(newest_segment)
kill "$PUB"; wait "$PUB" 2>/dev/null || true
for _ in $(seq 100); do curl -s "http://127.0.0.1:$ORIGIN/live/bench/video.m3u8" | grep -q ENDLIST && break; sleep 0.2; done
for c in $CONNS; do
    bench origin-recording-disk segment "$c" "http://127.0.0.1:$ORIGIN/live/bench/$SEG" "$ORIGIN_PID"
done

echo "edge upstream requests: $(curl -s http://127.0.0.1:$EDGE/metrics | grep '^streamverse_edge_upstream_requests_total' | tr '\n' ' ')" | tee -a "$OUT/burst.txt"
echo; cat "$SUMMARY"
