#!/usr/bin/env bash
# wrk: the origin serving one segment through the tokenised URL (/live/t/TOKEN/ID/...: HMAC check on every
# request) against the same segment through the plain URL (/live/ID/...: the in-memory "is it protected?" lookup
# only), same daemon, same run, alternating rounds. A short publish makes the segment; it is then served from the
# recording on disk, so no encoder competes with the origin for the CPU. Release build, loopback only.
#   bench/controlplane/playback-token-wrk.sh [seconds-per-round] [connections]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS="${1:-8}"; CONNS="${2:-32}"
HTTP_PORT=18481; RTMP_PORT=11481
DATA=$(mktemp -d /tmp/sv-bench-XXXX)
dotnet build src/Origin -c Release -nologo -v q >/dev/null
dotnet src/Origin/bin/Release/net10.0/StreamVerse.Origin.dll --data "$DATA" --http 127.0.0.1:$HTTP_PORT --rtmp 127.0.0.1:$RTMP_PORT \
  --StreamVerse:ControlPlane:BootstrapAdminEmail bench@test.invalid --Logging:LogLevel:Default Warning >"$DATA/daemon.log" 2>&1 &
DAEMON=$!
FFMPEG=""
cleanup() { [ -n "$FFMPEG" ] && kill "$FFMPEG" 2>/dev/null || true; kill "$DAEMON" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT
B="http://127.0.0.1:$HTTP_PORT"
for _ in $(seq 50); do curl -sf "$B/healthz" >/dev/null && break; sleep 0.2; done
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
curl -sf -X POST "$B/api/v1/auth/register" -H 'content-type: application/json' -d '{"email":"bench@test.invalid","password":"benchmark password","handle":"bench"}' >/dev/null
TOKEN=$(curl -sf -X POST "$B/api/v1/auth/login" -H 'content-type: application/json' -d '{"email":"bench@test.invalid","password":"benchmark password"}' | json "['accessToken']")
AUTH="authorization: Bearer $TOKEN"
CH=$(curl -sf -X POST "$B/api/v1/channels" -H "$AUTH" -H 'content-type: application/json' -d '{"name":"bench"}' | json "['id']")
KEY=$(curl -sf -X POST "$B/api/v1/channels/$CH/stream-keys" -H "$AUTH" | json "['key']")
ffmpeg -hide_banner -nostdin -loglevel error -re -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 \
  -t 6 -c:v libx264 -g 25 -preset ultrafast -pix_fmt yuv420p -c:a aac -b:a 64k -f flv "rtmp://127.0.0.1:$RTMP_PORT/live/$KEY" 2>/dev/null &
FFMPEG=$!
VID=""
for _ in $(seq 100); do
  VID=$(curl -sf "$B/api/v1/channels/$CH/stream-keys" -H "$AUTH" | json "[0]['liveVideoId'] or ''")
  [ -n "$VID" ] && break; sleep 0.2
done
SEG=""
for _ in $(seq 100); do
  SEG=$(curl -sf "$B/live/$VID/video.m3u8" | grep -v '^#' | grep '\.m4s$' | head -n 1 || true)
  [ -n "$SEG" ] && break; sleep 0.2
done
wait "$FFMPEG" || true; FFMPEG=""
sleep 1
PT=$(curl -sf -X POST "$B/api/v1/videos/$VID/playback-token" -H "$AUTH" -H 'content-type: application/json' -d '{}' | json "['token']")
PLAIN="$B/live/$VID/$SEG"
TOKENISED="$B/live/t/$PT/$VID/$SEG"
curl -sf -o /dev/null "$PLAIN"; curl -sf -o /dev/null "$TOKENISED"
echo "segment bytes: $(curl -sf "$PLAIN" | wc -c)"
for round in 1 2 3; do
  for kind in plain tokenised; do
    url=$PLAIN; [ "$kind" = tokenised ] && url=$TOKENISED
    rps=$(wrk -t2 -c"$CONNS" -d"${SECS}s" "$url" | awk '/Requests\/sec/ {print $2}')
    echo "round $round $kind requests/sec $rps"
  done
done
