#!/usr/bin/env bash
# VOD ladder: MediaCore (in-process, our bindings) vs the ffmpeg CLI (split/scale + var_stream_map, one process).
# Same source, same rungs and sizes, same x264 preset/bitrates/VBV caps/GOP, same AAC settings.
# Measures wall time, fps, CPU seconds and peak RSS (/usr/bin/time -v) and PSNR/SSIM per rung (ffmpeg filters,
# against the source scaled to the rung size with the same bicubic swscale). Writes the section
# "## VOD ladder vs ffmpeg CLI" of bench/RESULTS.md.
#   bench/mediacore/run.sh            (env: DURATION=10 SIZE=1280x720 RATE=30 PRESET=veryfast SEG=4)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
DURATION=${DURATION:-10}
SIZE=${SIZE:-1280x720}
RATE=${RATE:-30}
PRESET=${PRESET:-veryfast}
SEG=${SEG:-4}
WORK=$(mktemp -d /tmp/sv-ladder-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# Rungs: height:bitrate (maxrate 1.1x, bufsize 1.5x, as LadderRung's defaults); sizes as LadderPlanner makes them.
RUNGS="720:3000000,480:1400000,360:730000,240:300000"
SIZES=(1280x720 852x480 640x360 426x240)
GOP=$(python3 -c "print(round($SEG*$RATE))")

SRC="$WORK/source.mp4"
ffmpeg -v error -y -f lavfi -i "testsrc2=size=$SIZE:rate=$RATE" -f lavfi -i "sine=frequency=440:sample_rate=48000" \
  -t "$DURATION" -c:v libx264 -preset ultrafast -qp 12 -pix_fmt yuv420p -c:a aac -b:a 192k "$SRC"
FRAMES=$(python3 -c "print(round($DURATION*$RATE))")

dotnet build bench/StreamVerse.MediaCore.Bench -c Release -nologo -v q >/dev/null
OURS_CMD=(dotnet bench/StreamVerse.MediaCore.Bench/bin/Release/net10.0/StreamVerse.MediaCore.Bench.dll
  "$SRC" "$WORK/ours" "$PRESET" "$SEG" "$RUNGS" --no-thumbnails)

filter="[0:v]split=4[s0][s1][s2][s3]"
maps=()
rates=()
i=0
IFS=',' read -ra R <<<"$RUNGS"
for r in "${R[@]}"; do
  b=${r#*:}
  w=${SIZES[$i]%x*}; h=${SIZES[$i]#*x}
  filter+=";[s$i]scale=$w:$h[v$i]"
  maps+=(-map "[v$i]")
  rates+=(-b:v:$i "$b" -maxrate:v:$i "$(python3 -c "print(int($b*1.1))")" -bufsize:v:$i "$(python3 -c "print(int($b*1.5))")")
  i=$((i+1))
done
mkdir -p "$WORK/ffmpeg"
FFMPEG_CMD=(ffmpeg -v error -y -i "$SRC" -filter_complex "$filter" "${maps[@]}" -map 0:a
  -c:v libx264 -preset "$PRESET" -profile:v high -g "$GOP" -keyint_min "$GOP" -sc_threshold 0
  -x264-params "keyint=$GOP:min-keyint=$GOP:scenecut=0:open-gop=0" "${rates[@]}"
  -c:a aac -b:a 128k -ac 2 -ar 48000
  -f hls -hls_time "$SEG" -hls_playlist_type vod -hls_segment_type fmp4 -hls_flags independent_segments
  -master_pl_name master.m3u8 -var_stream_map "v:0,agroup:aud v:1,agroup:aud v:2,agroup:aud v:3,agroup:aud a:0,agroup:aud"
  "$WORK/ffmpeg/stream_%v.m3u8")

measure() { # name, command...
  local name=$1; shift
  /usr/bin/time -v "$@" >"$WORK/$name.out" 2>"$WORK/$name.time"
}

measure ours "${OURS_CMD[@]}"
measure ffmpeg "${FFMPEG_CMD[@]}"
for r in "${R[@]}"; do
  [ -f "$WORK/ours/${r%:*}p.m3u8" ] || { echo "MediaCore made no ${r%:*}p rung (source smaller than the ladder?)" >&2; exit 1; }
done

quality() { # playlist, WxH -> "psnr ssim kbps"
  local pl=$1 w=${2%x*} h=${2#*x}
  local log
  log=$(ffmpeg -v info -nostats -i "$pl" -i "$SRC" -lavfi \
    "[0:v]setpts=PTS-STARTPTS,split[d1][d2];[1:v]scale=$w:$h:flags=bicubic,setpts=PTS-STARTPTS,split[r1][r2];[d1][r1]psnr;[d2][r2]ssim" \
    -f null - 2>&1)
  local psnr ssim bytes
  psnr=$(grep -o 'average:[0-9.inf]*' <<<"$log" | head -1 | cut -d: -f2)
  ssim=$(grep -o 'All:[0-9.]*' <<<"$log" | head -1 | cut -d: -f2)
  bytes=$(ffprobe -v error -select_streams v:0 -show_entries packet=size -of csv=p=0 "$pl" | awk '{s+=$1} END {print s}')
  echo "$psnr $ssim $(python3 -c "print(round($bytes*8/$DURATION/1000))")"
}

cpu() { awk -F': ' '/User time|System time/ {s+=$2} END {printf "%.2f", s}' "$WORK/$1.time"; }
wall() { awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); t=0; for(i=1;i<=n;i++) t=t*60+a[i]; printf "%.2f", t}' "$WORK/$1.time"; }
rss() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$WORK/$1.time"; }

ow=$(wall ours); fw=$(wall ffmpeg)
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
{
  echo "## VOD ladder vs ffmpeg CLI"
  echo
  echo "Measured $DATE by \`bench/mediacore/run.sh\` on this machine (2 cores shared with other work; load average (1/5/15 min) at the end of the run: $LOAD)."
  echo "Source: ffmpeg lavfi testsrc2 $SIZE@$RATE + 440 Hz sine, ${DURATION} s ($FRAMES frames), x264 -qp 12. Ladder: $RUNGS"
  echo "(sizes ${SIZES[*]}), x264 preset $PRESET, GOP $GOP (= ${SEG} s), scene cut off, VBV maxrate 1.1x / bufsize 1.5x; AAC 128k stereo 48 kHz."
  echo "Both write fMP4 HLS. MediaCore without thumbnails. Versions: $(ffmpeg -version | head -1 | cut -d' ' -f1-3), $(dotnet --version) SDK."
  echo
  echo "| pipeline | wall s | fps (frames x rungs / wall) | CPU s (user+sys) | peak RSS MiB |"
  echo "| --- | --- | --- | --- | --- |"
  echo "| MediaCore (in-process) | $ow | $(python3 -c "print(round($FRAMES*4/$ow,1))") | $(cpu ours) | $(rss ours) |"
  echo "| ffmpeg CLI (split/scale, var_stream_map) | $fw | $(python3 -c "print(round($FRAMES*4/$fw,1))") | $(cpu ffmpeg) | $(rss ffmpeg) |"
  echo
  echo "| rung | MediaCore PSNR dB | MediaCore SSIM | MediaCore kbit/s | ffmpeg PSNR dB | ffmpeg SSIM | ffmpeg kbit/s |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  i=0
  for r in "${R[@]}"; do
    h=${r%:*}
    read -r op os ok <<<"$(quality "$WORK/ours/${h}p.m3u8" "${SIZES[$i]}")"
    read -r fp fs fk <<<"$(quality "$WORK/ffmpeg/stream_$i.m3u8" "${SIZES[$i]}")"
    echo "| ${SIZES[$i]} | $op | $os | $ok | $fp | $fs | $fk |"
    i=$((i+1))
  done
  echo
  echo "Commands:"
  echo
  echo '```'
  printf '%q ' "${OURS_CMD[@]}"; echo
  printf '%q ' "${FFMPEG_CMD[@]}"; echo
  echo '```'
} >"$WORK/section.md"

cat "$WORK/section.md"
RESULTS=bench/RESULTS.md
touch "$RESULTS"
python3 - "$RESULTS" "$WORK/section.md" <<'PY'
import re, sys
path, section = sys.argv[1], open(sys.argv[2]).read()
text = open(path).read()
pattern = re.compile(r"^## VOD ladder vs ffmpeg CLI\n.*?(?=^## |\Z)", re.S | re.M)
if pattern.search(text):
    text = pattern.sub(lambda m: section + "\n", text)
else:
    text = (text.rstrip() + "\n\n" if text.strip() else "# Benchmark results\n\n") + section
open(path, "w").write(text)
PY
