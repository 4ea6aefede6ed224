#!/usr/bin/env bash
# A/B of uptick builds against the ceiling: ab-http.sh ROUNDS BENCH_BINARY... (copies of .build/release/uptick-bench).
# One `serve` process for all; each round runs, for every build in turn, `scenario uptick` then `scenario ceiling`,
# so each build is compared with a ceiling measured next to it (the machine's speed drifts). N checks per scenario
# (default 30000). Run it inside `unshare -n sh -c 'ip link set lo up && …'` like the other benchmarks.
set -euo pipefail
rounds=$1; shift
checks=${N:-30000}
work=$(mktemp -d)
trap 'exec 4>&- 2>/dev/null || true; rm -rf "$work"' EXIT
mkfifo "$work/stdin"
"$1" serve --kind http < "$work/stdin" > "$work/port" &
exec 4> "$work/stdin"
while [ ! -s "$work/port" ]; do sleep 0.1; done
target="http://127.0.0.1:$(head -1 "$work/port")/"
for _ in $(seq 1 "$rounds"); do
    for bench in "$@"; do
        uptick=$("$bench" scenario uptick --target "$target" --monitors "$checks")
        ceiling=$("$bench" scenario ceiling --target "$target" --monitors "$checks")
        python3 - "$bench" "$uptick" "$ceiling" <<'PY'
import json, sys
name, u, c = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
rate = lambda m: m["checks"] / m["seconds"]
cpu = lambda m: m["cpuMicroseconds"] / max(m["checks"], 1)
print(f"{name}: uptick {rate(u):.0f}/s {cpu(u):.1f} µs/check, ceiling {rate(c):.0f}/s {cpu(c):.1f} µs/check, "
      f"× ceiling {rate(u) / rate(c):.2f}, failures {u['failures']}")
PY
    done
done
