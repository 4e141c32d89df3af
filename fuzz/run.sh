#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang in their own directory and runs each for a while.
#
#   fuzz/run.sh [seconds-per-harness] [harness ...]     (default 30 s, every harness)
#
# Environment: REDISRPC_FUZZ_BUILD_DIR (default <repo>/build-fuzz), JOBS (build jobs, default 2).
# Seeds come from fuzz/corpus/<harness>/ and fuzz/regressions/<harness>/ (read only); inputs the
# fuzzer finds go to <build>/corpus/<harness>/. A crash reproducer is copied into
# fuzz/regressions/<harness>/, where tests/unit/fuzz_regressions_test.cpp replays it; the script
# then exits non-zero.
set -euo pipefail

seconds=${1:-30}
[[ $# -gt 0 ]] && shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${REDISRPC_FUZZ_BUILD_DIR:-$root/build-fuzz}

CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DREDISRPC_BUILD_FUZZERS=ON -DREDISRPC_BUILD_TESTS=OFF -DREDISRPC_BUILD_EXAMPLES=OFF \
  -DREDISRPC_BUILD_BENCH=OFF -DREDISRPC_BUILD_CLI=OFF -DREDISRPC_INSTALL=OFF >/dev/null
cmake --build "$build" --target redisrpc_fuzzers -j"${JOBS:-2}"

if [[ $# -gt 0 ]]; then
  harnesses=("$@")
else
  IFS=";" read -r -a harnesses <"$build/fuzz/targets.txt" || true  # no trailing newline
fi

status=0
summary=()
for h in "${harnesses[@]}"; do
  bin=$build/fuzz/fuzz_$h
  [[ -x $bin ]] || { echo "no harness $h" >&2; exit 2; }
  work=$build/corpus/$h
  artifacts=$build/artifacts/$h
  mkdir -p "$work" "$artifacts"
  dirs=("$work")
  for d in "$root/fuzz/corpus/$h" "$root/fuzz/regressions/$h"; do
    [[ -d $d ]] && dirs+=("$d")
  done
  log=$build/fuzz-$h.log
  echo "== $h: ${seconds}s"
  set +e
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
    "$bin" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -dict="$root/fuzz/json.dict" -artifact_prefix="$artifacts/" -print_final_stats=1 "${dirs[@]}" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' "$log" | tail -1 || true)
  if [[ $rc -ne 0 ]]; then
    status=1
    mkdir -p "$root/fuzz/regressions/$h"
    for f in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
      [[ -e $f ]] && cp "$f" "$root/fuzz/regressions/$h/"
    done
    summary+=("$h: FAILED (exit $rc), see $log; reproducers copied to fuzz/regressions/$h/")
    tail -40 "$log"
  else
    summary+=("$h: ok, ${runs:-?} runs, ${cov:-no stats}")
  fi
done
printf '%s\n' "${summary[@]}"
exit $status
