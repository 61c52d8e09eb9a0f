#!/usr/bin/env bash
# Playlist delivery while the same daemon transcodes an upload, at each StreamVerse:ControlPlane:Jobs:Ladder:Nice,
# against nginx (sendfile, open_file_cache) serving a copy of the same playlist next to the same transcode, loopback only.
# The question: how much does an in-process VOD transcode (x264 with frame threads on every core, five rungs) take from
# the viewers, and what does running its codec threads at a lower priority give back.
# The job is one full-ladder pass (Jobs:FastStart off), so the load is the same from its first row to its last.
# Usage: bench/edge/under-transcode.sh   (after: dotnet build src/Origin -c Release; bench/edge/run.sh made the clip)
# Env:   NICES="0 15"  CONNS=64  DUR=8s  WARMUP=2s  THREADS=2  ROUNDS=3 (origin/nginx pairs per nice while the job runs)
#        SRC_SECONDS=45 SIZE=1920x1080 (the uploaded source: lavfi testsrc2 + sine, x264 crf 18)
# Output: one line per wrk run (phase, server, req/s, p50, p99), the job's upload-to-ready time per nice; also in
#         bench/out/under-transcode/results.txt
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DLL=$ROOT/src/Origin/bin/Release/net10.0/StreamVerse.Origin.dll
CLIP=$ROOT/bench/out/clip-720p-4M.flv
OUT=$ROOT/bench/out/under-transcode
NICES=${NICES:-"0 15"}; CONNS=${CONNS:-64}; DUR=${DUR:-8s}; WARMUP=${WARMUP:-2s}; THREADS=${THREADS:-2}; ROUNDS=${ROUNDS:-3}
SRC_SECONDS=${SRC_SECONDS:-45}; SIZE=${SIZE:-1920x1080}
[ -f "$DLL" ] || { echo "build first: dotnet build src/Origin -c Release" >&2; exit 1; }
[ -f "$CLIP" ] || { echo "no clip: run bench/edge/run.sh once (it encodes $CLIP)" >&2; exit 1; }
rm -rf "$OUT"; mkdir -p "$OUT/www"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# shellcheck source=bench/edge/common.sh
. "$ROOT/bench/edge/common.sh"
KEY=$(openssl rand -hex 16); NGX=$(port)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

ffmpeg -v error -y -f lavfi -i "testsrc2=size=$SIZE:rate=30" -f lavfi -i sine=frequency=440:sample_rate=48000 -t "$SRC_SECONDS" \
    -c:v libx264 -preset ultrafast -crf 18 -pix_fmt yuv420p -c:a aac -b:a 128k "$OUT/source.mp4"
echo "source: $SIZE@30, $SRC_SECONDS s, $(stat -c %s "$OUT/source.mp4") bytes" | tee "$OUT/results.txt"

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
api() { # METHOD PATH [TOKEN] [JSON]
    curl -sS -X "$1" "http://127.0.0.1:$HTTP$2" ${3:+-H "Authorization: Bearer $3"} ${4:+-H 'Content-Type: application/json' --data "$4"}
}
row() { # phase server url
    local n p50 p99 rps
    wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$3" > /dev/null 2>&1
    wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency "$3" > "$OUT/wrk.txt" 2>&1
    rps=$(awk '/^Requests\/sec/ {print $2}' "$OUT/wrk.txt")
    p50=$(awk '$1=="50%" {print $2}' "$OUT/wrk.txt"); p99=$(awk '$1=="99%" {print $2}' "$OUT/wrk.txt")
    n=$(awk '/Non-2xx/ {print $NF}' "$OUT/wrk.txt")
    printf '%-22s %-7s %10s req/s  p50 %8s  p99 %8s%s\n' "$1" "$2" "$rps" "$p50" "$p99" "${n:+  non-2xx $n}" | tee -a "$OUT/results.txt"
}
status() { api GET "/api/v1/videos/$VIDEO" "$TOKEN" | json '["status"]'; }

started_nginx=0
for NICE in $NICES; do
    HTTP=$(port); RTMP=$(port); DATA="$OUT/data-$NICE"
    dotnet "$DLL" --data "$DATA" --http 127.0.0.1:$HTTP --rtmp 127.0.0.1:$RTMP --stream bench=$KEY \
        --StreamVerse:ControlPlane:BootstrapAdminEmail bench-admin@bench.invalid \
        --StreamVerse:ControlPlane:Jobs:FastStart false --StreamVerse:ControlPlane:Jobs:Ladder:Nice "$NICE" --Logging:LogLevel:Default Warning > "$OUT/daemon-$NICE.log" 2>&1 &
    DPID=$!; PIDS+=($DPID)
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$HTTP/healthz" >/dev/null && break; sleep 0.2; done
    ffmpeg -hide_banner -nostdin -loglevel error -re -stream_loop -1 -i "$CLIP" -c copy -f flv "rtmp://127.0.0.1:$RTMP/live/$KEY" > /dev/null 2>&1 &
    FPID=$!; PIDS+=($FPID)
    PL="http://127.0.0.1:$HTTP/live/bench/video.m3u8"
    for _ in $(seq 150); do curl -sf "$PL" | grep -q '^[a-z0-9]*/video_2\.m4s$' && break; sleep 0.2; done
    if [ $started_nginx = 0 ]; then
        curl -sf "$PL" > "$OUT/www/pl.m3u8"
        start_nginx "$OUT" "$NGX"; PIDS+=($NGINX_PID); started_nginx=1
    fi
    NPL="http://127.0.0.1:$NGX/pl.m3u8"

    PASS="bench password $(openssl rand -hex 6)"
    api POST /api/v1/auth/register "" "{\"email\":\"bench-admin@bench.invalid\",\"password\":\"$PASS\",\"handle\":\"benchadmin\",\"displayName\":\"Bench\"}" > /dev/null
    TOKEN=$(api POST /api/v1/auth/login "" "{\"email\":\"bench-admin@bench.invalid\",\"password\":\"$PASS\"}" | json '["accessToken"]')
    CHANNEL=$(api POST /api/v1/channels "$TOKEN" '{"name":"bench"}' | json '["id"]')
    VIDEO=$(api POST /api/v1/videos "$TOKEN" "{\"channelId\":\"$CHANNEL\",\"title\":\"load\",\"visibility\":\"public\"}" | json '["id"]')

    echo "--- Jobs:Ladder:Nice=$NICE" | tee -a "$OUT/results.txt"
    row "idle" origin "$PL"
    row "idle" nginx "$NPL"

    t0=$(date +%s.%N)
    code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: video/mp4' \
        --data-binary "@$OUT/source.mp4" "http://127.0.0.1:$HTTP/api/v1/videos/$VIDEO/source")
    [ "$code" = 202 ] || { echo "upload answered $code" >&2; exit 1; }
    for _ in $(seq 100); do [ "$(status)" = processing ] && break; sleep 0.1; done
    sleep 2 # past probing: the codecs are open
    for r in $(seq "$ROUNDS"); do
        order="origin nginx"; [ $((r % 2)) = 0 ] && order="nginx origin" # the load changes as the job goes: alternate
        for s in $order; do
            [ "$(status)" = processing ] || break 2
            if [ $s = origin ]; then u=$PL; else u=$NPL; fi
            row "transcoding" $s "$u"
            # A row that ended after the job did is not a row under load: say so.
            [ "$(status)" = processing ] || echo "  (the job ended during that row)" | tee -a "$OUT/results.txt"
        done
    done
    for _ in $(seq 6000); do st=$(status); [ "$st" = ready ] || [ "$st" = failed ] && break; sleep 0.2; done
    t1=$(date +%s.%N)
    printf 'job %s, upload to %s: %.1f s (rows above included)\n' "$VIDEO" "$st" "$(echo "$t1 - $t0" | bc -l)" | tee -a "$OUT/results.txt"
    kill $FPID $DPID 2>/dev/null || true; wait $FPID $DPID 2>/dev/null || true
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/results.txt"
