#!/usr/bin/env bash
# Live-path system benchmark: StreamVerse vs nginx-rtmp (libnginx-mod-rtmp), same input, same run.
# The one command (idempotent):  bench/live/run.sh
# Builds StreamVerse (Release), prepares bench/out/input.flv once, renders bench/out/nginx.conf, then
# bench/live/harness.py starts each server, runs the latency probe and the 1/10/50-stream passthrough
# CPU/RSS scenarios, stops the servers, prints the tables and rewrites the
# "## Live path vs nginx-rtmp" section of bench/RESULTS.md.
# Knobs (environment): BENCH_SERVERS="streamverse nginx", BENCH_N="1 10 50", BENCH_WARMUP=10,
#   BENCH_WINDOW=30, BENCH_LAT_DURATION=55, BENCH_LAT_SKIP=5, BENCH_WRITE_RESULTS=1,
#   SV_HTTP_PORT=27080 SV_RTMP_PORT=27935 NGINX_HTTP_PORT=27081 NGINX_RTMP_PORT=27936 (all on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/bench/out
mkdir -p "$OUT"

for tool in ffmpeg ffprobe nginx python3 dotnet; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (./setup.sh deps installs it)" >&2; exit 1; }
done
[ -f /usr/lib/nginx/modules/ngx_rtmp_module.so ] || { echo "run.sh: libnginx-mod-rtmp missing" >&2; exit 1; }

case " ${BENCH_SERVERS:-streamverse nginx} " in
  *" streamverse "*)
    echo "run.sh: dotnet build -c Release"
    dotnet build -c Release -nologo -v q ;;
esac

# 60 s of 720p30 test pattern + 440 Hz tone; x264 with a keyframe every 30 frames (1 s) and no
# scene-cut keyframes, so StreamVerse's 2 s segments / 0.5 s parts and nginx-rtmp's 2 s fragments all cut
# on the same keyframes; no B-frames (zerolatency) so PTS = DTS; AAC 128k.
INPUT_DESC="60 s testsrc2 1280x720 30 fps, libx264 veryfast zerolatency -g 30 -keyint_min 30 -sc_threshold 0, 2500 kb/s (maxrate 2500k, bufsize 2500k), AAC 48 kHz 128 kb/s sine 440 Hz, FLV"
if [ ! -s "$OUT/input.flv" ]; then
  echo "run.sh: preparing $OUT/input.flv"
  ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 -t 60 \
    -c:v libx264 -preset veryfast -tune zerolatency -g 30 -keyint_min 30 -sc_threshold 0 \
    -b:v 2500k -maxrate 2500k -bufsize 2500k -pix_fmt yuv420p \
    -c:a aac -b:a 128k -ar 48000 -f flv "$OUT/input.flv.tmp"
  mv "$OUT/input.flv.tmp" "$OUT/input.flv"
fi

user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"   # workers must write $OUT/nginx-hls
sed -e "s#@OUT@#$OUT#g" -e "s#@RTMP_PORT@#${NGINX_RTMP_PORT:-27936}#g" -e "s#@HTTP_PORT@#${NGINX_HTTP_PORT:-27081}#g" \
    -e "s#@USER_LINE@#$user_line#" bench/live/nginx.conf.in > "$OUT/nginx.conf"
mkdir -p "$OUT/nginx-hls" "$OUT/nginx-tmp"
nginx -t -q -p "$OUT" -c "$OUT/nginx.conf"

echo "run.sh: load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u)"
BENCH_INPUT_DESC="$INPUT_DESC" exec python3 bench/live/harness.py
