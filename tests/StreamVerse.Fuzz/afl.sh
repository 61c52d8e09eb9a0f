#!/usr/bin/env bash
# afl++ over the SharpFuzz targets (README.md in this folder). Needs afl-fuzz (Debian: afl++) and a Release build.
#   afl.sh ci [SECONDS]                 every target for SECONDS (default 20) from its committed corpus; exits 1 on a
#                                       crash or a real hang, printing each finding in base64 with its exception
#   afl.sh run TARGET [SECONDS] [ARGS]  one target for SECONDS (default 600), niced; findings stay in .afl/findings/TARGET;
#                                       ARGS go to afl-fuzz (e.g. -s 7, or -x DICT)
#   afl.sh replay TARGET FILE|DIR...    runs inputs through the uninstrumented build, e.g. .afl/findings/TARGET/default/crashes
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build="$here/bin/Release/net10.0"
work="$here/.afl"                   # git-ignored: the tool, the instrumented copy, findings
bin="$work/bin"
sharpfuzz_version=2.3.0
exec_timeout_ms=5000                # an input runs in well under a millisecond; only a loop that never ends takes seconds
hang_replay_seconds=60              # a hang afl reports is real if the input still runs past this on its own

die() { echo "afl.sh: $*" >&2; exit 2; }

prepare() {
  command -v afl-fuzz >/dev/null || die "afl-fuzz not found (apt-get install afl++)"
  [ -f "$build/StreamVerse.Fuzz.dll" ] || die "no build at $build (dotnet build StreamVerse.sln -c Release)"
  [ -x "$work/tools/sharpfuzz" ] || dotnet tool install SharpFuzz.CommandLine --version "$sharpfuzz_version" --tool-path "$work/tools" >/dev/null
  # sharpfuzz rewrites an assembly in place: instrument a fresh copy, never the build the tests use.
  rm -rf "$bin"
  mkdir -p "$bin"
  cp -a "$build/." "$bin/"
  local dll
  for dll in StreamVerse.Origin StreamVerse.Segmenter StreamVerse.ControlPlane; do
    "$work/tools/sharpfuzz" "$bin/$dll.dll" >/dev/null
  done
}

# fuzz TARGET SECONDS OUT [AFL_ARGS...]: afl-fuzz's exit status, its log in OUT/afl.log.
fuzz() {
  local target=$1 seconds=$2 out=$3
  shift 3
  rm -rf "$out"
  mkdir -p "$out"
  # The target is `dotnet`, which carries no afl instrumentation of its own (SKIP_BIN_CHECK); cores are shared with
  # the rest of the machine (NO_AFFINITY); the core_pattern is left as the system has it (MISSING_CRASHES: SharpFuzz
  # reports a crash through the fork server, not as a core dump).
  local dict=()
  [ -f "$here/dictionaries/$target.dict" ] && dict=(-x "$here/dictionaries/$target.dict")
  AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
    afl-fuzz -i "$here/corpus/$target" -o "$out" -V "$seconds" -m none -t "$exec_timeout_ms" "${dict[@]}" "$@" \
      -- "$(command -v dotnet)" "$bin/StreamVerse.Fuzz.dll" "$target" >"$out/afl.log" 2>&1
}

stat_of() { sed -n "s/^$2 *: *//p" "$1/default/fuzzer_stats" 2>/dev/null; }

# verdict TARGET OUT: 0 if afl ran and found nothing real; prints the findings otherwise.
verdict() {
  local target=$1 out=$2 bad=0 f rc
  if [ ! -f "$out/default/fuzzer_stats" ] || [ "$(stat_of "$out" execs_done)" = 0 ]; then
    echo "  afl-fuzz did not run $target; its log:"
    tail -n 30 "$out/afl.log" | sed 's/^/    /'
    return 1
  fi
  echo "  $(stat_of "$out" execs_done) execs ($(stat_of "$out" execs_per_sec)/s), $(stat_of "$out" corpus_count) paths, edges $(stat_of "$out" edges_found)"
  local crashes=0 hangs=0
  for f in "$out"/default/crashes/id:*; do
    [ -e "$f" ] || continue
    bad=1
    crashes=$((crashes + 1))
    if [ "$crashes" -gt 5 ]; then echo "  (more crashes in $out/default/crashes)"; break; fi
    echo "  CRASH $target $(basename "$f")"
    echo "    input (base64): $(base64 -w0 "$f")"
    dotnet "$build/StreamVerse.Fuzz.dll" "$target" "$f" 2>&1 | sed 's/^/    /' | head -n 40 || true
  done
  for f in "$out"/default/hangs/id:*; do
    [ -e "$f" ] || continue
    hangs=$((hangs + 1))
    if [ "$hangs" -gt 5 ]; then echo "  (more hangs in $out/default/hangs)"; break; fi
    # afl's clock includes a loaded machine and a GC; the input alone decides whether it is a hang.
    rc=0
    timeout "$hang_replay_seconds" dotnet "$build/StreamVerse.Fuzz.dll" "$target" "$f" >"$out/hang-replay.log" 2>&1 || rc=$?
    if [ "$rc" -eq 124 ]; then
      bad=1
      echo "  HANG $target $(basename "$f"): still running after ${hang_replay_seconds}s on its own"
      echo "    input (base64): $(base64 -w0 "$f")"
      break   # one is enough: each replay of a real hang costs the full minute
    elif [ "$rc" -ne 0 ]; then
      bad=1
      echo "  CRASH $target $(basename "$f") (reported by afl as a hang)"
      echo "    input (base64): $(base64 -w0 "$f")"
      sed 's/^/    /' "$out/hang-replay.log" | head -n 40
    else
      echo "  slow, not a hang: $target $(basename "$f") ran clean on its own ($(sed -n 's/^ok *\([0-9.]* ms\).*/\1/p' "$out/hang-replay.log"))"
    fi
  done
  return "$bad"
}

targets() { dotnet "$build/StreamVerse.Fuzz.dll" --list | cut -f1; }

mode=${1:-}
case "$mode" in
  ci)
    seconds=${2:-20}
    prepare
    failed=()
    for target in $(targets); do
      echo "fuzz: $target, ${seconds}s"
      rc=0
      # A fixed seed: the same run of mutations each time, as far as the clock lets it go.
      fuzz "$target" "$seconds" "$work/ci/$target" -s 1 || rc=$?
      if [ "$rc" -ne 0 ]; then
        echo "  afl-fuzz exited $rc; its log:"
        tail -n 30 "$work/ci/$target/afl.log" | sed 's/^/    /'
        failed+=("$target")
      elif ! verdict "$target" "$work/ci/$target"; then
        failed+=("$target")
      fi
    done
    if [ ${#failed[@]} -gt 0 ]; then
      echo "fuzz: findings in ${failed[*]} (each is a bug: fix it, and commit the input under tests/StreamVerse.Fuzz/regressions/TARGET/)"
      exit 1
    fi
    echo "fuzz: every target ran clean"
    ;;
  run)
    target=${2:?usage: afl.sh run TARGET [SECONDS] [AFL_ARGS...]}
    seconds=${3:-600}
    shift $(( $# < 3 ? $# : 3 ))
    prepare
    targets | grep -qx "$target" || die "unknown target $target"
    rc=0
    nice -n 19 bash -c "$(declare -f fuzz); $(declare -p here bin exec_timeout_ms); fuzz \"\$@\"" _ "$target" "$seconds" "$work/findings/$target" "$@" || rc=$?
    [ "$rc" -eq 0 ] || { tail -n 30 "$work/findings/$target/afl.log"; exit "$rc"; }
    verdict "$target" "$work/findings/$target"
    ;;
  replay)
    target=${2:?usage: afl.sh replay TARGET FILE|DIR...}
    shift 2
    exec dotnet "$build/StreamVerse.Fuzz.dll" "$target" "$@"
    ;;
  *)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
