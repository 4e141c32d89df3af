#!/usr/bin/env bash
# Builds redisrpc_bench in Release, starts a private redis-server (unix socket + loopback TCP, no
# persistence) in a temporary directory, runs the bench over both transports, stops redis.
#
#   bench/run.sh [bench options...]        e.g. bench/run.sh --duration 2s --repeat 3
#
# Environment: BUILD_DIR (default <repo>/build-bench), TRANSPORTS (default "unix tcp"),
# JOBS (default 2), NO_BUILD=1 (use the binary already in BUILD_DIR, e.g. to build first and
# measure later when the machine is quiet).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$repo/build-bench}"
transports="${TRANSPORTS:-unix tcp}"

if [[ "${NO_BUILD:-0}" != 1 ]]; then
    cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DREDISRPC_BUILD_BENCH=ON >/dev/null
    cmake --build "$build" --target redisrpc_bench -j "${JOBS:-2}" >&2
fi
bench="$build/bench/redisrpc_bench"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/redisrpc-bench.XXXXXX")"
redis_pid=""
cleanup() {
    if [[ -n "$redis_pid" ]] && kill -0 "$redis_pid" 2>/dev/null; then
        kill "$redis_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$redis_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$redis_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# A free loopback port: ask the kernel for one.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
sock="$tmp/redis.sock"
redis-server --port "$port" --bind 127.0.0.1 --unixsocket "$sock" --unixsocketperm 700 \
    --save '' --appendonly no --dir "$tmp" --logfile "$tmp/redis.log" --daemonize no &
redis_pid=$!
for _ in $(seq 100); do
    redis-cli -s "$sock" ping >/dev/null 2>&1 && break
    sleep 0.05
done
redis-cli -s "$sock" ping >/dev/null || { echo "redis-server did not start; see $tmp/redis.log" >&2; exit 1; }

echo "# tree $(git --no-optional-locks -C "$repo" describe --always --dirty 2>/dev/null || echo ?) · $(nproc) CPUs · $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') · $(redis-server --version | cut -d' ' -f1-3) · $(uptime | sed 's/.*load/load/')"
for t in $transports; do
    case "$t" in
        unix) url="unix://$sock" ;;
        tcp) url="redis://127.0.0.1:$port" ;;
        *) echo "unknown transport $t" >&2; exit 2 ;;
    esac
    echo
    echo "## $t"
    echo
    "$bench" --url "$url" "$@"
done
