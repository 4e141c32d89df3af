#!/usr/bin/env bash
# Throughput of one redisrpc service on Redis Cluster, spread over 1, 2 and 3 masters.
#
#   bench/cluster.sh [seconds per row]           (default 10)
#
# For M in 1 2 3: starts a cluster of M masters (no replicas; `redis-cli --cluster create`
# splits the slots evenly), one `redisrpc serve calc --shards M` process and one
# `redisrpc bench calc --shards M` client with K calls in flight, and prints calls/s. With
# --shards M the service lives on M sub-queues whose hash slots sit on M different masters
# (docs/cluster.md), so every master carries 1/M of the requests and replies.
#
# Environment: BUILD_DIR (default <repo>/build-bench), JOBS (default 2), NO_BUILD=1,
# INFLIGHT (default "64 256"), SERVERS (server processes, default 1), WORKERS (default 1).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$repo/build-bench}"
seconds="${1:-10}"
inflight_list="${INFLIGHT:-64 256}"
servers="${SERVERS:-1}"
workers="${WORKERS:-1}"

if [[ "${NO_BUILD:-0}" != 1 ]]; then
    cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" --target redisrpc_cli -j "${JOBS:-2}" >&2
fi
cli="$build/cli/redisrpc"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/redisrpc-cluster-bench.XXXXXX")"
pids=()
stop_all() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
    done
    pids=()
}
cleanup() { stop_all; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts an M-master cluster; sets $url.
start_cluster() {
    local masters=$1 nodes=() buses=() i port bus dir
    for ((i = 0; i < masters; i++)); do
        port="$(free_port)"; bus="$(free_port)"; dir="$tmp/c$masters-$i"; mkdir -p "$dir"
        redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-port "$bus" \
            --save '' --appendonly no --dir "$dir" --logfile "$dir/redis.log" --daemonize no &
        pids+=($!)
        nodes+=("127.0.0.1:$port")
        buses+=("$bus")
        for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
    done
    if ((masters < 3)); then
        # redis-cli refuses clusters of fewer than 3 masters: split the slots evenly by hand.
        for ((i = 0; i < masters; i++)); do
            redis-cli -p "${nodes[i]#*:}" cluster addslotsrange $((i * 16384 / masters)) $(((i + 1) * 16384 / masters - 1)) >/dev/null
            ((i == 0)) || redis-cli -p "${nodes[i]#*:}" cluster meet 127.0.0.1 "${nodes[0]#*:}" "${buses[0]}" >/dev/null
        done
    else
        redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$tmp/create-$masters.log"
    fi
    local ok=0
    for _ in $(seq 400); do
        ok=1
        for n in "${nodes[@]}"; do
            redis-cli -p "${n#*:}" cluster info | grep -q cluster_state:ok || ok=0
        done
        ((ok)) && break
        sleep 0.05
    done
    ((ok)) || { echo "the $masters-master cluster did not form" >&2; exit 1; }
    url="redis+cluster://$(IFS=,; echo "${nodes[*]}")"
}

echo "# tree $(git --no-optional-locks -C "$repo" describe --always --dirty 2>/dev/null || echo ?) · $(nproc) CPUs · $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') · $(redis-server --version | cut -d' ' -f1-3) · $(uptime | sed 's/.*load/load/')"
echo
echo "| masters | sub-queues | server processes | in flight | calls/s | p50 ms | p99 ms |"
echo "|---|---|---|---|---|---|---|"
for masters in 1 2 3; do
    start_cluster "$masters"
    for ((s = 0; s < servers; s++)); do
        "$cli" --url "$url" --shards "$masters" serve calc --workers "$workers" --quiet &
        pids+=($!)
    done
    "$cli" --url "$url" --shards "$masters" call calc echo 1 >/dev/null # ready
    for k in $inflight_list; do
        out="$("$cli" --url "$url" --shards "$masters" --timeout 30s --json bench calc -k "$k" -n 0 -D "${seconds}s" -m echo 1)"
        python3 - "$masters" "$servers" "$k" "$out" <<'PY'
import json, sys
m, servers, k, raw = sys.argv[1:]
r = json.loads(raw)
lat = r.get("latency_ms", {})
print(f"| {m} | {m} | {servers} | {k} | {r['calls_per_s']:.0f} | {lat.get('p50', 0):.2f} | {lat.get('p99', 0):.2f} |")
PY
    done
    stop_all
done
