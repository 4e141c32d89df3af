#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (every test starts its own
# redis-server on loopback or a unix socket).
# Usage: scripts/test.sh [--sanitize address,undefined|thread] [ctest args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sanitize=""
if [ "${1:-}" = "--sanitize" ]; then
  sanitize="$2"
  shift 2
fi
"$root/scripts/bootstrap.sh"
if [ -n "$sanitize" ]; then
  build="$root/build-${sanitize//,/-}"
  BUILD_TYPE=Debug "$root/scripts/build.sh" "$build" -DREDISRPC_SANITIZE="$sanitize" -DREDISRPC_BUILD_BENCH=OFF
else
  build="$root/build"
  "$root/scripts/build.sh" "$build" -DREDISRPC_WARNINGS_AS_ERRORS=ON
fi
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
