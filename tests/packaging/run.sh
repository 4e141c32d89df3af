#!/usr/bin/env bash
# Proves that redisrpc can be consumed the four usual ways, each from a clean temporary
# directory, by building and running tests/packaging/consumer:
#   (a) cmake --install into a prefix, then find_package(redisrpc CONFIG REQUIRED)
#       (and the installed `redisrpc` command-line tool runs)
#   (b) the same prefix through pkg-config: c++ main.cpp $(pkg-config --cflags --libs redisrpc)
#   (c) add_subdirectory(<source tree>)
#   (d) FetchContent_Declare(redisrpc SOURCE_DIR <source tree>)   (local, no network)
# Usage: tests/packaging/run.sh [a|b|c|d ...]   (default: all). JOBS=n sets build parallelism
# (default 2); KEEP=1 keeps the temporary directory. Exits non-zero on the first failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
consumer="$here/consumer"
jobs=${JOBS:-2}
steps=("$@")
[[ ${#steps[@]} -eq 0 ]] && steps=(a b c d)

work=$(mktemp -d "${TMPDIR:-/tmp}/redisrpc-packaging.XXXXXX")
if [[ "${KEEP:-0}" == 1 ]]; then
  echo "keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
# Debug builds compile fastest; the point is linking and finding things, not speed.
common=("${generator[@]}" -DCMAKE_BUILD_TYPE=Debug)

say() { printf '\n=== %s\n' "$*"; }

prefix="$work/prefix"
installed=0
install_project() {
  [[ $installed == 1 ]] && return
  say "building and installing redisrpc into $prefix"
  # Configured for one prefix, installed into another: the installed files must not depend on
  # the configure-time prefix.
  cmake -S "$repo" -B "$work/build" "${common[@]}" -DCMAKE_INSTALL_PREFIX="$work/configured-prefix" \
        -DREDISRPC_BUILD_TESTS=OFF -DREDISRPC_BUILD_EXAMPLES=OFF -DREDISRPC_BUILD_BENCH=OFF \
        -DREDISRPC_BUILD_CLI=ON -DREDISRPC_INSTALL=ON
  cmake --build "$work/build" -j "$jobs"
  cmake --install "$work/build" --prefix "$prefix"
  installed=1
}

step_a() {
  install_project
  say "(a) find_package(redisrpc CONFIG REQUIRED) from the installed prefix"
  cmake -S "$consumer" -B "$work/a" "${common[@]}" -DREDISRPC_CONSUMER_MODE=package -DCMAKE_PREFIX_PATH="$prefix"
  cmake --build "$work/a" -j "$jobs"
  "$work/a/consumer"
  say "(a) the installed command-line tool"
  "$prefix/bin/redisrpc" --version
  "$prefix/bin/redisrpc" call --help >/dev/null
}

step_b() {
  install_project
  say "(b) pkg-config --cflags --libs redisrpc"
  local pcdir
  pcdir=$(dirname "$(find "$prefix" -name redisrpc.pc -print -quit)")
  export PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  pkg-config --print-errors --exists redisrpc
  echo "cflags: $(pkg-config --cflags redisrpc)"
  echo "libs:   $(pkg-config --libs redisrpc)"
  mkdir -p "$work/b"
  # shellcheck disable=SC2046 # word splitting of pkg-config output is intended
  ${CXX:-c++} "$consumer/main.cpp" -o "$work/b/consumer" $(pkg-config --cflags --libs redisrpc)
  "$work/b/consumer"
}

step_c() {
  say "(c) add_subdirectory(<source tree>)"
  cmake -S "$consumer" -B "$work/c" "${common[@]}" -DREDISRPC_CONSUMER_MODE=subdirectory -DREDISRPC_SOURCE_DIR="$repo"
  cmake --build "$work/c" -j "$jobs"
  "$work/c/consumer"
}

step_d() {
  say "(d) FetchContent_Declare(redisrpc SOURCE_DIR <source tree>)"
  cmake -S "$consumer" -B "$work/d" "${common[@]}" -DREDISRPC_CONSUMER_MODE=fetchcontent -DREDISRPC_SOURCE_DIR="$repo" \
        -DFETCHCONTENT_FULLY_DISCONNECTED=ON
  cmake --build "$work/d" -j "$jobs"
  "$work/d/consumer"
}

for s in "${steps[@]}"; do
  case "$s" in
    a|b|c|d) "step_$s" ;;
    *) echo "unknown step '$s' (expected a, b, c or d)" >&2; exit 2 ;;
  esac
done
say "packaging: all of ${steps[*]} passed"
