#!/usr/bin/env bash
# Ad decision + VAST 4.2 rendering on one daemon (issue 22 goal: p99 under 10 ms at 2,000 req/s). Written, NOT yet
# run: record the command, date, load average and output in bench/RESULTS.md when it is.
#
# Sets up a fresh daemon (embedded database) with one content video and one ad video (a 2 s 160x120 clip each,
# uploaded with PUT /videos/{id}/source and transcoded by the normal pipeline), 20 campaigns of which 10 target the
# content video's tag, then measures GET /api/v1/ads/vast with wrk --latency (each request runs the full decision:
# video access, exemption, the eligibility statement, and renders and signs one VAST). wrk drives at full speed: its
# Requests/sec says whether 2,000 req/s is reached and its latency distribution gives p99 there (for p99 at exactly
# 2,000 req/s use wrk2's -R2000 where available). Frequency caps are off, so every request decides the same way as a
# real first request of a viewer. Release build, loopback only.
#   bench/ads/vast-wrk.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS="${1:-20}"; CONNS="${2:-32}"
HTTP_PORT=18491; RTMP_PORT=11491
DATA=$(mktemp -d /tmp/sv-bench-ads-XXXX)
dotnet build src/Origin -c Release -nologo -v q >/dev/null
dotnet src/Origin/bin/Release/net10.0/StreamVerse.Origin.dll --data "$DATA" --http 127.0.0.1:$HTTP_PORT --rtmp 127.0.0.1:$RTMP_PORT \
  --StreamVerse:ControlPlane:BootstrapAdminEmail bench@test.invalid --Logging:LogLevel:Default Warning >"$DATA/daemon.log" 2>&1 &
DAEMON=$!
cleanup() { kill "$DAEMON" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT
B="http://127.0.0.1:$HTTP_PORT"
for _ in $(seq 50); do curl -sf "$B/healthz" >/dev/null && break; sleep 0.2; done
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
post() { curl -sf -X "$1" "$B$2" -H "$AUTH" -H 'content-type: application/json' -d "$3"; }
curl -sf -X POST "$B/api/v1/auth/register" -H 'content-type: application/json' -d '{"email":"bench@test.invalid","password":"benchmark password","handle":"bench"}' >/dev/null
TOKEN=$(curl -sf -X POST "$B/api/v1/auth/login" -H 'content-type: application/json' -d '{"email":"bench@test.invalid","password":"benchmark password"}' | json "['accessToken']")
AUTH="authorization: Bearer $TOKEN"
CH=$(post POST /api/v1/channels '{"name":"bench"}' | json "['id']")
CLIP="$DATA/clip.mp4"
ffmpeg -hide_banner -nostdin -loglevel error -f lavfi -i testsrc2=size=160x120:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 \
  -t 2 -c:v libx264 -g 25 -preset ultrafast -pix_fmt yuv420p -c:a aac -b:a 64k -movflags +faststart "$CLIP"
video() { # title tag -> id of a transcoded public video
  local id
  id=$(post POST /api/v1/videos "{\"channelId\":\"$CH\",\"title\":\"$1\",\"visibility\":\"public\",\"tags\":[\"$2\"]}" | json "['id']")
  curl -sf -X PUT "$B/api/v1/videos/$id/source" -H "$AUTH" -H "content-type: video/mp4" --data-binary "@$CLIP" >/dev/null
  for _ in $(seq 300); do
    [ "$(curl -sf "$B/api/v1/videos/$id" -H "$AUTH" | json "['status']")" = ready ] && break; sleep 0.5
  done
  echo "$id"
}
CONTENT=$(video content bench-content)
AD=$(video ad bench-ad)
ADV=$(post POST /api/v1/ads/advertisers '{"name":"bench"}' | json "['id']")
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ); END=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
for i in $(seq 20); do
  tag=bench-content; [ $((i % 2)) -eq 0 ] && tag=bench-other
  C=$(post POST /api/v1/ads/campaigns "{\"advertiserId\":\"$ADV\",\"name\":\"c$i\",\"currency\":\"EUR\",\"budgetMinor\":1000000000,\"cpmMinor\":$((1000 + i)),\"startsAt\":\"$NOW\",\"endsAt\":\"$END\",\"targeting\":{\"tags\":[\"$tag\"]}}" | json "['id']")
  post POST "/api/v1/ads/campaigns/$C/creatives" "{\"videoId\":\"$AD\",\"clickThrough\":\"https://brand.example/\"}" >/dev/null
done
URL="$B/api/v1/ads/vast?video=$CONTENT&break=pre&viewer=bench-tab"
curl -sf "$URL" | grep -q '<AdServingId>' || { echo "no ad in VAST: $(curl -s "$URL")"; exit 1; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "$URL"
