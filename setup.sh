#!/usr/bin/env bash
# StreamVerse set-up for a fresh Debian 12 host (idempotent).
#   ./setup.sh run   install what the daemon needs, build, start it on its embedded defaults
#   ./setup.sh test  install what the tests need, build, run the whole test suite
#   ./setup.sh deps  only install/start the dependencies
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(
  ffmpeg                      # ffmpeg/ffprobe: RTMP publisher and HLS/DASH reader in tests, peer in benchmarks
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav   # second independent RTMP publisher (rtmp2sink, x264enc)
  chromium                    # hls.js / dash.js in headless Chromium (Playwright drives /usr/bin/chromium)
  nginx libnginx-mod-rtmp     # peers for the benchmarks
  prometheus                  # promtool: lints /metrics in the tests
  wrk                         # HTTP load for the benchmarks
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev pkg-config gcc
                              # MediaCore: headers for the struct-offset probe test (runtime .so come with ffmpeg)
  procps curl ca-certificates
)

need_install=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_install+=("$p")
done
if [ ${#need_install[@]} -gt 0 ]; then
  echo "setup: installing ${need_install[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_install[@]}" >/dev/null
fi
# Debian starts nginx on :80 after installing it; the benchmarks run their own instance.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
  systemctl stop nginx || true
fi

install_node_tools() {
  if [ -f tests/browser/package.json ]; then
    (cd tests/browser && { [ -d node_modules ] && npm ls --silent >/dev/null 2>&1 || npm ci --no-audit --no-fund --silent; })
  fi
}

mode="${1:-deps}"
case "$mode" in
  deps)
    install_node_tools
    ;;
  run)
    dotnet build StreamVerse.sln -c Release -nologo -v q
    : "${STREAMVERSE_HTTP:=127.0.0.1:8080}" "${STREAMVERSE_RTMP:=127.0.0.1:1935}" "${STREAMVERSE_DATA:=./data}"
    mkdir -p "$STREAMVERSE_DATA"
    exec dotnet run --no-build -c Release --project src/Origin -- \
      --data "$STREAMVERSE_DATA" --http "$STREAMVERSE_HTTP" --rtmp "$STREAMVERSE_RTMP" "${@:2}"
    ;;
  test)
    install_node_tools
    dotnet build StreamVerse.sln -c Release -nologo -v q
    dotnet test StreamVerse.sln -c Release --no-build -nologo --logger "console;verbosity=normal" "${@:2}"
    ;;
  *)
    echo "usage: $0 [deps|run|test]" >&2
    exit 2
    ;;
esac
