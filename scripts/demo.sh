#!/usr/bin/env bash
# The demo: installs what is missing, builds, then runs the calculator server and client.
# Uses $REDIS_URL when set; otherwise starts a private redis-server on a unix socket in a
# temporary directory and removes it afterwards.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
TARGETS="calculator_server calculator_client" "$root/scripts/build.sh" "$root/build" >/dev/null
bin="$root/build/examples/calculator"

tmp="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

if [ -z "${REDIS_URL:-}" ]; then
  redis-server --port 0 --unixsocket "$tmp/redis.sock" --unixsocketperm 700 --save "" --appendonly no \
               --dir "$tmp" --daemonize no --loglevel warning >"$tmp/redis.log" 2>&1 &
  pids+=($!)
  export REDIS_URL="unix://$tmp/redis.sock"
  for _ in $(seq 100); do
    redis-cli -s "$tmp/redis.sock" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
  echo "demo: private redis-server at $REDIS_URL"
else
  echo "demo: using REDIS_URL=$REDIS_URL"
fi

queue="calc-demo-$$"
for dialect in ${DEMO_DIALECTS:-classic jsonrpc codility}; do
  echo "demo: --dialect $dialect"
  "$bin/calculator_server" --queue "$queue" --dialect "$dialect" &
  server=$!
  pids+=("$server")
  "$bin/calculator_client" --queue "$queue" --dialect "$dialect"
  kill -TERM "$server"
  wait "$server"
done
