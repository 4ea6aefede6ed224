#!/usr/bin/env bash
# Runs an uptick-bench command in a fresh network and mount namespace (as root) where only loopback exists
# and /etc/resolv.conf names 127.0.0.1 only, so getaddrinfo asks the benchmark's DNS server (pass
# --dns-port 53 with --resolver getaddrinfo). Example:
#   bash Benchmarks/dns-namespace.sh dns --resolver getaddrinfo --dns-port 53
set -euo pipefail
bench="$(cd "$(dirname "$0")/.." && pwd)/.build/release/uptick-bench"
conf=$(mktemp)
trap 'rm -f "$conf"' EXIT
printf 'nameserver 127.0.0.1\noptions timeout:5 attempts:2\n' > "$conf"
exec unshare -mn sh -c 'ip link set lo up && mount --bind "$0" /etc/resolv.conf && exec "$@"' "$conf" "$bench" "$@"
