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
  postgresql                  # control-plane database for deployments; the tests run against it too
  afl++                       # afl-fuzz for the SharpFuzz targets (tests/StreamVerse.Fuzz)
  python3-aiosmtpd            # the SMTP server on loopback that receives the control plane's mail in the tests
  redis-server                # the SignalR backplane: chat and real-time pushes across daemons (tests start two)
  libsrt1.5-openssl           # SRT ingest: libsrt.so.1.5, bound by src/Origin/Srt/LibSrt.cs
  srt-tools libsrt-openssl-dev  # srt-live-transmit (second SRT publisher in tests); srt.h for the constant/offset probe
  etcd-server etcd-client     # dynamic configuration: the etcd configuration provider's tests (etcdctl writes keys)
  clickhouse-server clickhouse-client   # the analytics store at scale (StreamVerse:Analytics:Store=clickhouse), over HTTP
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
  local dir
  for dir in tests/browser tests/controlplane-openapi tests/s3 tests/web; do
    if [ -f "$dir/package.json" ]; then
      (cd "$dir" && { [ -d node_modules ] && npm ls --silent >/dev/null 2>&1 || PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent; })
    fi
  done
}

# The web app (src/Web): `npm ci` + `npm run build` into src/Web/out, which the daemon serves at /. Skipped when the
# inputs hash to what the last build recorded (out/.build-stamp): a rebuild costs a minute or two on two cores.
build_web() {
  (
    cd src/Web
    [ -d node_modules ] && npm ls --silent >/dev/null 2>&1 || npm ci --no-audit --no-fund --silent
    local stamp
    stamp="$(find app src scripts openapi.json package.json package-lock.json next.config.ts postcss.config.mjs tsconfig.json \
      -type f ! -path src/api/schema.ts -print0 2>/dev/null | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)"
    if [ -f out/index.html ] && [ "$(cat out/.build-stamp 2>/dev/null)" = "$stamp" ]; then
      echo "setup: src/Web unchanged since its last build"
    else
      echo "setup: building src/Web"
      npm run build --silent
      echo "$stamp" > out/.build-stamp
    fi
  )
}

# The web app's end-to-end suite (tests/web): Playwright in Debian's Chromium against a daemon it starts.
run_web_tests() {
  (cd tests/web && npx playwright test)
}

# PostgreSQL for the control-plane tests: the Debian cluster, listening on 127.0.0.1 only, started with
# pg_ctlcluster (no systemd in a container), and a test role + database. The role's password is generated
# once into a root-only file outside the repository; the tests read it from there (or $STREAMVERSE_TEST_PG).
PG_TEST_ENV=/var/lib/streamverse-test/pg.env
start_postgres() {
  command -v pg_lsclusters >/dev/null 2>&1 || { echo "setup: pg_lsclusters missing (postgresql not installed)" >&2; return 1; }
  local ver cluster port status
  read -r ver cluster port status _ < <(pg_lsclusters -h | head -n 1) || true
  if [ -z "${ver:-}" ]; then
    ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    pg_createcluster "$ver" main >/dev/null
    read -r ver cluster port status _ < <(pg_lsclusters -h | head -n 1)
  fi
  # Loopback only (a drop-in: Debian's postgresql.conf includes conf.d/).
  local dropin="/etc/postgresql/$ver/$cluster/conf.d/streamverse.conf"
  if [ ! -f "$dropin" ]; then
    printf "listen_addresses = '127.0.0.1'\n" >"$dropin"
    [ "$status" = "online" ] && pg_ctlcluster "$ver" "$cluster" restart
  fi
  if [ "$status" != "online" ]; then
    pg_ctlcluster "$ver" "$cluster" start
  fi
  if [ ! -s "$PG_TEST_ENV" ]; then
    install -d -m 0700 "$(dirname "$PG_TEST_ENV")"
    local pw
    pw=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    (umask 077; printf "STREAMVERSE_TEST_PG='Host=127.0.0.1;Port=%s;Username=streamverse_test;Password=%s;Database=streamverse_test'\n" "$port" "$pw" >"$PG_TEST_ENV")
  fi
  local pw
  pw=$(sed -n 's/.*Password=\([^;]*\).*/\1/p' "$PG_TEST_ENV")
  runuser -u postgres -- psql -p "$port" -q -v ON_ERROR_STOP=1 -v pw="$pw" >/dev/null <<'SQL'
SELECT 'CREATE ROLE streamverse_test LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'streamverse_test') \gexec
ALTER ROLE streamverse_test LOGIN CREATEDB PASSWORD :'pw';
SELECT 'CREATE DATABASE streamverse_test OWNER streamverse_test' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'streamverse_test') \gexec
SQL
  # Search's typo tolerance (pg_trgm) lives in public, once per database: the tests' throwaway schemas would otherwise
  # each try to own the one extension (its objects in the first test schema, dropped with it under the others).
  runuser -u postgres -- psql -p "$port" -d streamverse_test -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public' >/dev/null
}

# s3rver (an S3-compatible server in Node, pinned in tests/s3/package-lock.json) for the S3 storage backend tests,
# on 127.0.0.1:9555 with its data outside the repository. Started in the background once and left running, like
# PostgreSQL: if something already answers there as s3rver, it is used; a process from our pid file that no
# longer answers is replaced. The endpoint and the credentials s3rver accepts go to S3_TEST_ENV for the tests.
S3_TEST_ENV=/var/lib/streamverse-test/s3.env
S3RVER_PORT=9555
S3RVER_DIR=/var/lib/streamverse-test/s3rver
S3RVER_PID=/var/lib/streamverse-test/s3rver.pid
S3RVER_LOG=/var/lib/streamverse-test/s3rver.log
s3rver_answers() {
  # s3rver answers an anonymous GET / with its bucket list (real S3 would say AccessDenied: both are S3 XML).
  curl -sS --max-time 2 "http://127.0.0.1:$S3RVER_PORT/" 2>/dev/null | grep -q '<Error>\|<ListAllMyBucketsResult'
}
start_s3rver() {
  local bin="$PWD/tests/s3/node_modules/s3rver/bin/s3rver.js"
  [ -f "$bin" ] || { echo "setup: $bin missing (npm ci in tests/s3 failed?)" >&2; return 1; }
  install -d -m 0700 "$(dirname "$S3_TEST_ENV")"
  (umask 077; printf "STREAMVERSE_TEST_S3_ENDPOINT='http://127.0.0.1:%s'\nSTREAMVERSE_TEST_S3_ACCESS_KEY='S3RVER'\nSTREAMVERSE_TEST_S3_SECRET_KEY='S3RVER'\n" "$S3RVER_PORT" >"$S3_TEST_ENV")
  if s3rver_answers; then
    return 0
  fi
  # A stale s3rver of ours (alive, not answering): stop it. The pid is only trusted if it still runs s3rver.
  local pid
  pid=$(cat "$S3RVER_PID" 2>/dev/null || true)
  if [ -n "$pid" ] && grep -qa s3rver "/proc/$pid/cmdline" 2>/dev/null; then
    echo "setup: restarting s3rver (pid $pid does not answer)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  install -d -m 0700 "$S3RVER_DIR"
  # --openssl-legacy-provider: s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only
  # offers through its legacy provider (without it, any listing longer than one page fails with a 500).
  setsid nohup node --openssl-legacy-provider "$bin" --directory "$S3RVER_DIR" --address 127.0.0.1 --port "$S3RVER_PORT" --silent \
    >>"$S3RVER_LOG" 2>&1 </dev/null &
  echo $! >"$S3RVER_PID"
  for _ in $(seq 100); do
    if s3rver_answers; then
      return 0
    fi
    sleep 0.2
  done
  echo "setup: s3rver did not answer on 127.0.0.1:$S3RVER_PORT; last lines of $S3RVER_LOG:" >&2
  tail -n 20 "$S3RVER_LOG" >&2
  return 1
}

# A real SMTP server for the mail tests (tests/smtp/mailsink.py over Debian's python3-aiosmtpd) on 127.0.0.1:2525,
# storing every received message as a file under SMTP_MAIL_DIR for the tests to parse. Started once and left
# running, like s3rver: something of ours already answering there is used; our pid that no longer answers is
# replaced. Debian's interpreter explicitly: a python3 earlier on PATH (pyenv) does not see Debian's packages.
SMTP_TEST_ENV=/var/lib/streamverse-test/smtp.env
SMTP_PORT=2525
SMTP_MAIL_DIR=/var/lib/streamverse-test/mail
SMTP_PID=/var/lib/streamverse-test/smtp.pid
SMTP_LOG=/var/lib/streamverse-test/smtp.log
smtp_answers() {
  # The greeting of an SMTP server (RFC 5321 4.2: 220 first).
  /usr/bin/python3 -c "import smtplib,sys; s=smtplib.SMTP('127.0.0.1', $SMTP_PORT, timeout=2); s.noop(); s.quit()" >/dev/null 2>&1
}
start_smtp() {
  install -d -m 0700 "$(dirname "$SMTP_TEST_ENV")"
  install -d -m 0755 "$SMTP_MAIL_DIR"
  # Every test run registers accounts that are mailed: keep a day of messages, not every run's.
  find "$SMTP_MAIL_DIR" -maxdepth 1 -name '*.eml' -mmin +1440 -delete 2>/dev/null || true
  (umask 077; printf "STREAMVERSE_TEST_SMTP_HOST='127.0.0.1'\nSTREAMVERSE_TEST_SMTP_PORT='%s'\nSTREAMVERSE_TEST_SMTP_MAIL_DIR='%s'\n" "$SMTP_PORT" "$SMTP_MAIL_DIR" >"$SMTP_TEST_ENV")
  if smtp_answers; then
    return 0
  fi
  local pid
  pid=$(cat "$SMTP_PID" 2>/dev/null || true)
  if [ -n "$pid" ] && grep -qa mailsink "/proc/$pid/cmdline" 2>/dev/null; then
    echo "setup: restarting the test SMTP server (pid $pid does not answer)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  setsid nohup /usr/bin/python3 "$PWD/tests/smtp/mailsink.py" --host 127.0.0.1 --port "$SMTP_PORT" --dir "$SMTP_MAIL_DIR" \
    >>"$SMTP_LOG" 2>&1 </dev/null &
  echo $! >"$SMTP_PID"
  for _ in $(seq 100); do
    if smtp_answers; then
      return 0
    fi
    sleep 0.2
  done
  echo "setup: the test SMTP server did not answer on 127.0.0.1:$SMTP_PORT; last lines of $SMTP_LOG:" >&2
  tail -n 20 "$SMTP_LOG" >&2
  return 1
}

# Redis for the real-time socket's backplane (SignalR over Redis pub/sub: a chat message sent on one daemon reaches the
# sockets of another) on 127.0.0.1:6390, not Debian's 6379, with its data and pid under /var/lib/streamverse-test. Started
# once and left running, like s3rver: a server of ours already answering there is used; our pid that no longer answers is
# replaced. Debian's package does not start it in a container (no systemd); where systemd runs its own on 6379, that one
# is left alone. No persistence: the backplane carries only ephemeral messages.
REDIS_TEST_ENV=/var/lib/streamverse-test/redis.env
REDIS_PORT=6390
REDIS_DIR=/var/lib/streamverse-test/redis
REDIS_PID=/var/lib/streamverse-test/redis.pid
REDIS_LOG=/var/lib/streamverse-test/redis.log
redis_answers() {
  [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
}
start_redis() {
  command -v redis-server >/dev/null 2>&1 || { echo "setup: redis-server missing (not installed)" >&2; return 1; }
  install -d -m 0700 "$(dirname "$REDIS_TEST_ENV")"
  (umask 077; printf "STREAMVERSE_TEST_REDIS='127.0.0.1:%s'\n" "$REDIS_PORT" >"$REDIS_TEST_ENV")
  if redis_answers; then
    return 0
  fi
  local pid
  pid=$(cat "$REDIS_PID" 2>/dev/null || true)
  if [ -n "$pid" ] && grep -qa redis-server "/proc/$pid/cmdline" 2>/dev/null; then
    echo "setup: restarting the test Redis (pid $pid does not answer)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  install -d -m 0700 "$REDIS_DIR"
  # --daemonize yes writes the pid file itself; loopback only, protected mode on, no RDB/AOF files.
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes --dir "$REDIS_DIR" --save "" --appendonly no \
    --daemonize yes --pidfile "$REDIS_PID" --logfile "$REDIS_LOG" </dev/null
  for _ in $(seq 100); do
    if redis_answers; then
      return 0
    fi
    sleep 0.1
  done
  echo "setup: the test Redis did not answer on 127.0.0.1:$REDIS_PORT; last lines of $REDIS_LOG:" >&2
  tail -n 20 "$REDIS_LOG" >&2
  return 1
}

# etcd for the dynamic configuration provider (StreamVerse:Config:Etcd) on 127.0.0.1:2389 (peer 2390), not Debian's
# 2379/2380, with its data under /var/lib/streamverse-test/etcd. Started once and left running, like Redis: a server of
# ours already answering there is used; our pid that no longer answers is replaced. Debian's unit is not started in a
# container (no systemd); where systemd runs its own on 2379, that one is left alone.
ETCD_TEST_ENV=/var/lib/streamverse-test/etcd.env
ETCD_PORT=2389
ETCD_PEER_PORT=2390
ETCD_DIR=/var/lib/streamverse-test/etcd
ETCD_PID=/var/lib/streamverse-test/etcd.pid
ETCD_LOG=/var/lib/streamverse-test/etcd.log
etcd_answers() {
  ETCDCTL_API=3 etcdctl --endpoints "http://127.0.0.1:$ETCD_PORT" --dial-timeout 2s endpoint health >/dev/null 2>&1
}
start_etcd() {
  command -v etcd >/dev/null 2>&1 || { echo "setup: etcd missing (etcd-server not installed)" >&2; return 1; }
  install -d -m 0700 "$(dirname "$ETCD_TEST_ENV")"
  (umask 077; printf "STREAMVERSE_TEST_ETCD='http://127.0.0.1:%s'\n" "$ETCD_PORT" >"$ETCD_TEST_ENV")
  if etcd_answers; then
    return 0
  fi
  local pid
  pid=$(cat "$ETCD_PID" 2>/dev/null || true)
  if [ -n "$pid" ] && grep -qa etcd "/proc/$pid/cmdline" 2>/dev/null; then
    echo "setup: restarting the test etcd (pid $pid does not answer)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  install -d -m 0700 "$ETCD_DIR"
  # Loopback only, one member; the data survives restarts (the tests write under their own key prefixes).
  setsid nohup etcd --name streamverse-test --data-dir "$ETCD_DIR" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "streamverse-test=http://127.0.0.1:$ETCD_PEER_PORT" \
    >>"$ETCD_LOG" 2>&1 </dev/null &
  echo $! >"$ETCD_PID"
  for _ in $(seq 100); do
    if etcd_answers; then
      return 0
    fi
    sleep 0.2
  done
  echo "setup: the test etcd did not answer on 127.0.0.1:$ETCD_PORT; last lines of $ETCD_LOG:" >&2
  tail -n 20 "$ETCD_LOG" >&2
  return 1
}

# ClickHouse for the analytics store's second engine (StreamVerse:Analytics:Store=clickhouse): Debian's clickhouse-server
# 18.16, run by us (Debian's package does not start it in a container) from a config of ours: loopback only, HTTP on
# 127.0.0.1:8124 and native TCP on 9010 (not the package's 8123/9000), data, logs and pid under
# /var/lib/streamverse-test/clickhouse, the package's users.xml (user "default", no password, loopback networks).
# Started once and left running like Redis; one of ours that no longer answers is replaced.
CLICKHOUSE_TEST_ENV=/var/lib/streamverse-test/clickhouse.env
CLICKHOUSE_PORT=8124
CLICKHOUSE_DIR=/var/lib/streamverse-test/clickhouse
CLICKHOUSE_PID=/var/lib/streamverse-test/clickhouse.pid
clickhouse_answers() {
  [ "$(curl -fsS "http://127.0.0.1:$CLICKHOUSE_PORT/ping" 2>/dev/null)" = "Ok." ]
}
start_clickhouse() {
  command -v clickhouse-server >/dev/null 2>&1 || { echo "setup: clickhouse-server missing (not installed)" >&2; return 1; }
  install -d -m 0700 "$(dirname "$CLICKHOUSE_TEST_ENV")"
  (umask 077; printf "STREAMVERSE_TEST_CLICKHOUSE='http://127.0.0.1:%s/'\n" "$CLICKHOUSE_PORT" >"$CLICKHOUSE_TEST_ENV")
  if clickhouse_answers; then
    return 0
  fi
  local pid
  pid=$(cat "$CLICKHOUSE_PID" 2>/dev/null || true)
  if [ -n "$pid" ] && grep -qa clickhouse "/proc/$pid/cmdline" 2>/dev/null; then
    echo "setup: restarting the test ClickHouse (pid $pid does not answer)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  install -d -m 0700 "$CLICKHOUSE_DIR" "$CLICKHOUSE_DIR/data" "$CLICKHOUSE_DIR/tmp" "$CLICKHOUSE_DIR/user_files" "$CLICKHOUSE_DIR/log"
  cat >"$CLICKHOUSE_DIR/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$CLICKHOUSE_DIR/log/server.log</log><errorlog>$CLICKHOUSE_DIR/log/error.log</errorlog><size>10M</size><count>2</count></logger>
  <http_port>$CLICKHOUSE_PORT</http_port>
  <tcp_port>9010</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$CLICKHOUSE_DIR/data/</path>
  <tmp_path>$CLICKHOUSE_DIR/tmp/</tmp_path>
  <user_files_path>$CLICKHOUSE_DIR/user_files/</user_files_path>
  <users_config>/etc/clickhouse-server/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
</yandex>
XML
  clickhouse-server --config-file="$CLICKHOUSE_DIR/config.xml" --pid-file="$CLICKHOUSE_PID" --daemon </dev/null >/dev/null 2>&1
  for _ in $(seq 300); do
    if clickhouse_answers; then
      return 0
    fi
    sleep 0.1
  done
  echo "setup: the test ClickHouse did not answer on 127.0.0.1:$CLICKHOUSE_PORT; last lines of $CLICKHOUSE_DIR/log/error.log:" >&2
  tail -n 20 "$CLICKHOUSE_DIR/log/error.log" >&2 || true
  return 1
}

# The SharpFuzz targets under afl-fuzz, STREAMVERSE_FUZZ_SECONDS (default 20) each from their committed corpora, after
# `dotnet test` rather than during it: a fuzzer keeps a core busy, which the timing-sensitive functional tests need.
# The corpora's deterministic replay is an xunit test and runs with the others. 0 seconds skips this step.
# See tests/StreamVerse.Fuzz/README.md.
run_fuzz_targets() {
  local seconds="${STREAMVERSE_FUZZ_SECONDS:-20}"
  if [ "$seconds" = 0 ]; then echo "fuzz: skipped (STREAMVERSE_FUZZ_SECONDS=0)"; return 0; fi
  tests/StreamVerse.Fuzz/afl.sh ci "$seconds"
}

mode="${1:-deps}"
case "$mode" in
  deps)
    install_node_tools
    start_postgres
    start_s3rver
    start_smtp
    start_redis
    start_etcd
    start_clickhouse
    ;;
  run)
    dotnet build StreamVerse.sln -c Release -nologo -v q
    build_web
    : "${STREAMVERSE_HTTP:=127.0.0.1:8080}" "${STREAMVERSE_RTMP:=127.0.0.1:1935}" "${STREAMVERSE_DATA:=./data}"
    mkdir -p "$STREAMVERSE_DATA"
    # `dotnet run --project` starts the daemon in the project folder: pass --data as an absolute path.
    STREAMVERSE_DATA="$(cd "$STREAMVERSE_DATA" && pwd)"
    exec dotnet run --no-build -c Release --project src/Origin -- \
      --data "$STREAMVERSE_DATA" --http "$STREAMVERSE_HTTP" --rtmp "$STREAMVERSE_RTMP" "${@:2}"
    ;;
  test)
    install_node_tools
    start_postgres
    start_s3rver
    start_smtp
    start_redis
    start_etcd
    start_clickhouse
    dotnet build StreamVerse.sln -c Release -nologo -v q
    build_web
    # The run's output is long (daemons log to the console): a failure is repeated at the end, where it is seen.
    test_log="$(mktemp /tmp/streamverse-test.XXXXXX.log)"
    rc=0
    dotnet test StreamVerse.sln -c Release --no-build -nologo --logger "console;verbosity=normal" "${@:2}" 2>&1 | tee "$test_log" || rc=$?
    run_web_tests 2>&1 | tee -a "$test_log" || rc=$?
    run_fuzz_targets || rc=$?
    if [ "$rc" -ne 0 ]; then
      echo "=== setup.sh test: failed tests (from $test_log) ==="
      grep -E -A40 '^[[:space:]]+Failed [A-Za-z]' "$test_log" | grep -v -E 'libav: |^\[(libx264|aac|swscaler)' | head -n 300 || true
    fi
    exit "$rc"
    ;;
  *)
    echo "usage: $0 [deps|run|test]" >&2
    exit 2
    ;;
esac
