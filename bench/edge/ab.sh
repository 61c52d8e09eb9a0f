#!/usr/bin/env bash
# A/B benchmark: two origins of this build with different settings, each with its own publisher of the same clip,
# against nginx (sendfile, open_file_cache) serving a copy of the same object, in rounds, loopback only.
# Usage: bench/edge/ab.sh            (after: dotnet build src/Origin -c Release; bench/edge/run.sh made the clip)
# Env:   ARGS_A / ARGS_B  extra daemon flags of A and B, e.g. ARGS_A="--StreamVerse:InlineScheduling false"
#        DLL_A  another build for A (e.g. a copy of src/Origin/bin/Release/net10.0 made before a change); B is this build
#        OBJ=playlist|segment  ROUNDS=2  CONNS="1000 64"  DUR=8s  THREADS=2  WARMUP=2s (unmeasured wrk run before each row)
#        SPLIT=1  wrk and the publishers on CPU 0, the servers on the other CPUs (common.sh, split_cores); THREADS=1
# Rounds alternate the order (odd: A, B, nginx; even: nginx, B, A).
# Output: one line per wrk run (req/s, p50, p99, server CPU us per request and busy % from /proc), also in bench/out/ab/results.txt
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DLL=$ROOT/src/Origin/bin/Release/net10.0/StreamVerse.Origin.dll
CLIP=$ROOT/bench/out/clip-720p-4M.flv
OUT=$ROOT/bench/out/ab
OBJ=${OBJ:-playlist}; ROUNDS=${ROUNDS:-2}; CONNS=${CONNS:-"1000 64"}; DUR=${DUR:-8s}; WARMUP=${WARMUP:-2s}
DLL_A=${DLL_A:-$DLL}
[ -f "$DLL" ] && [ -f "$DLL_A" ] || { echo "build first: dotnet build src/Origin -c Release" >&2; exit 1; }
[ -f "$CLIP" ] || { echo "no clip: run bench/edge/run.sh once (it encodes $CLIP)" >&2; exit 1; }
rm -rf "$OUT"; mkdir -p "$OUT"/{www,a,b}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# shellcheck source=bench/edge/common.sh
. "$ROOT/bench/edge/common.sh"
split_cores
THREADS=${THREADS:-2}
A=$(port); B=$(port); RA=$(port); RB=$(port); NGX=$(port); KEY=$(openssl rand -hex 16)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# shellcheck disable=SC2086 # ARGS_* and *_CPUS_CMD are word lists on purpose
$SERVER_CPUS_CMD dotnet "$DLL_A" --data "$OUT/a" --http 127.0.0.1:$A --rtmp 127.0.0.1:$RA --stream bench=$KEY ${ARGS_A:-} > "$OUT/a.log" 2>&1 &
APID=$!; PIDS+=($APID)
# shellcheck disable=SC2086
$SERVER_CPUS_CMD dotnet "$DLL" --data "$OUT/b" --http 127.0.0.1:$B --rtmp 127.0.0.1:$RB --stream bench=$KEY ${ARGS_B:-} > "$OUT/b.log" 2>&1 &
BPID=$!; PIDS+=($BPID)
for p in $A $B; do for _ in $(seq 100); do curl -sf "http://127.0.0.1:$p/healthz" >/dev/null && break; sleep 0.2; done; done
for r in $RA $RB; do
    # shellcheck disable=SC2086
    $LOAD_CPUS_CMD ffmpeg -hide_banner -nostdin -loglevel error -re -stream_loop -1 -i "$CLIP" -c copy -f flv "rtmp://127.0.0.1:$r/live/$KEY" > /dev/null 2>&1 &
    PIDS+=($!)
done
for p in $A $B; do
    for _ in $(seq 150); do curl -sf "http://127.0.0.1:$p/live/bench/video.m3u8" | grep -q '^[a-z0-9]*/video_2\.m4s$' && break; sleep 0.2; done
done

start_nginx "$OUT" "$NGX"
PIDS+=($NGINX_PID)

ticks() { local t=0 p; for p in $1; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
run() { # name url pids conns
    local before after n t0 t1
    # shellcheck disable=SC2086
    $LOAD_CPUS_CMD wrk -t"$THREADS" -c"$4" -d"$WARMUP" "$2" > /dev/null 2>&1   # unmeasured: tiered JIT, caches (nginx gets it too)
    before=$(ticks "$3"); t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    $LOAD_CPUS_CMD wrk -t"$THREADS" -c"$4" -d"$DUR" --latency "$2" > "$OUT/wrk.txt" 2>&1
    after=$(ticks "$3"); t1=$(date +%s.%N)
    n=$(awk '/requests in/ {print $1}' "$OUT/wrk.txt")
    # busy: the server's CPU time over the run's wall time (100 % = one core saturated)
    echo "$1 $OBJ c$4: $(awk '/^Requests\/sec/ {print $2}' "$OUT/wrk.txt") req/s p50 $(awk '$1=="50%" {print $2}' "$OUT/wrk.txt")" \
        "p99 $(awk '$1=="99%" {print $2}' "$OUT/wrk.txt")" \
        "cpu/req $(python3 -c "print(round(($after - $before) * 1e6 / $(getconf CLK_TCK) / max(1, ${n:-0}), 1))")us" \
        "busy $(python3 -c "print(round(($after - $before) * 100 / $(getconf CLK_TCK) / ($t1 - $t0)))")%" | tee -a "$OUT/results.txt"
}
newest() { curl -s "http://127.0.0.1:$1/live/bench/video.m3u8" | grep -E '^[a-z0-9]+/video_[0-9]+\.m4s$' | tail -1; }

echo "A: $DLL_A ${ARGS_A:-(defaults)}  B: $DLL ${ARGS_B:-(defaults)}  cores: ${SERVER_CPUS_CMD:-shared}, wrk -t$THREADS" | tee "$OUT/results.txt"
for round in $(seq "$ROUNDS"); do
    for c in $CONNS; do
        if [ "$OBJ" = segment ]; then
            UA=live/bench/$(newest $A); UB=live/bench/$(newest $B); UN=seg-$round-$c.m4s
        else
            UA=live/bench/video.m3u8; UB=$UA; UN=pl-$round-$c.m3u8
        fi
        # A new file name each time: nginx's open_file_cache never serves a file rewritten in place.
        curl -s "http://127.0.0.1:$A/$UA" > "$OUT/www/$UN"
        # The order alternates by round (A B nginx, then nginx B A): on a shared VM the position in a round moved
        # results by 10-20 % (bench/RESULTS.md, "Inline scheduling, again").
        if [ $((round % 2)) -eq 1 ]; then
            run A "http://127.0.0.1:$A/$UA" "$APID" "$c"
            run B "http://127.0.0.1:$B/$UB" "$BPID" "$c"
            run nginx "http://127.0.0.1:$NGX/$UN" "$NGINX_PIDS" "$c"
        else
            run nginx "http://127.0.0.1:$NGX/$UN" "$NGINX_PIDS" "$c"
            run B "http://127.0.0.1:$B/$UB" "$BPID" "$c"
            run A "http://127.0.0.1:$A/$UA" "$APID" "$c"
        fi
    done
done
