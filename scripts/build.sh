#!/usr/bin/env bash
# Configures and builds redisrpc.
# Usage: scripts/build.sh [build-dir] [extra cmake args...]; TARGETS="a b" builds only those.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
shift || true
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
targets=()
for t in ${TARGETS:-}; do targets+=(--target "$t"); done
if ! { cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" &&
       cmake --build "$build" -j"$(nproc)" "${targets[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "build failed" >&2
  exit 1
fi
echo "built in $build"
