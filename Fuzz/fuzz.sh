#!/usr/bin/env bash
# Fuzz uptick's parsers of outside bytes with libFuzzer (docs/fuzzing.md).
#
#   Fuzz/fuzz.sh [SECONDS] [TARGET...]     default: 540 s each, every target
#
# Builds `uptick-fuzz` with libFuzzer's instrumentation into .build/fuzz (the first build takes minutes), runs each
# target for SECONDS on a working corpus under .build/fuzz/work seeded from Fuzz/corpus/TARGET, restarting after a
# crash until the time is used (crash inputs are kept under .build/fuzz/crashes), then merges what is new into
# Fuzz/corpus/TARGET (only inputs that add coverage). One line per target: runs, crashes, corpus files.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-540}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(monitor endpoint monitor-file config http-response hrana dns)

swift build --product uptick-fuzz --build-path .build/fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING \
    -Xcc -fsanitize=fuzzer-no-link >&2
fuzzer=.build/fuzz/debug/uptick-fuzz
mkdir -p .build/fuzz/crashes

for target in "${targets[@]}"; do
    work=.build/fuzz/work/$target
    mkdir -p "$work"
    log=.build/fuzz/$target.log
    : > "$log"
    end=$(( $(date +%s) + seconds ))
    runs=0 crashes=0
    while [ "$(date +%s)" -lt "$end" ]; do
        left=$(( end - $(date +%s) ))
        status=0
        # SWIFT_BACKTRACE off: libFuzzer, not the Swift runtime, handles the crash (and saves its input).
        SWIFT_BACKTRACE=enable=no UPTICK_FUZZ_TARGET=$target "$fuzzer" -max_total_time="$left" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix=".build/fuzz/crashes/$target-" "$work" "Fuzz/corpus/$target" >>"$log" 2>&1 || status=$?
        runs=$(( runs + $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0) ))
        [ "$status" -eq 0 ] && break
        crashes=$(( crashes + 1 ))
    done
    UPTICK_FUZZ_TARGET=$target "$fuzzer" -merge=1 "Fuzz/corpus/$target" "$work" >>"$log" 2>&1
    echo "$target: $seconds s, $runs runs, $crashes crashes, $(ls "Fuzz/corpus/$target" | wc -l) corpus files (log: $log)"
done
