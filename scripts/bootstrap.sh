#!/usr/bin/env bash
# Installs the Debian 12 packages redisrpc needs to build, test and run its demo — only those
# that are missing, so a second run does nothing.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config git openssl
  libhiredis-dev libasio-dev nlohmann-json3-dev libssl-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  redis-server redis-tools
  python3 python3-redis python3-msgpack ruby ruby-redis php-cli php-predis
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "bootstrap: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Debian's redis-server package starts a system service on 6379; redisrpc's demo and tests
# never use it (they start private servers), so a failure to start it is harmless.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
