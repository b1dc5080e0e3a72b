#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh NAME FUZZ_BUILD_DIR SECONDS: one libFuzzer campaign (make fuzz).
# The working corpus lives in the build folder; the repository's seeds and
# regression inputs are read, never written. Prints one summary line.
# run.sh --merge NAME FUZZ_BUILD_DIR (make fuzz-merge): adds to the
# repository's corpus the working corpus's inputs that reach new code
# edges (-use_counters=0: edges, not hit counts, keep the corpus small).
set -eu
if [ "$1" = "--merge" ]; then
    name=$2 fb=$3
    seeds=tests/fuzz/corpus/$name
    work=$fb/corpus/$name
    if [ ! -d "$work" ]; then
        echo "fuzz-merge $name: no working corpus $work (run make fuzz first)"
        exit 0
    fi
    mkdir -p "$seeds"
    before=$(ls "$seeds" | wc -l)
    log=$fb/merge-$name.log
    if ! "$fb/fuzz_$name" -merge=1 -use_counters=0 -timeout=10 -rss_limit_mb=4096 \
            -max_len=20000 "$seeds" "$work" >"$log" 2>&1; then
        echo "fuzz-merge $name: FAILED (an input crashes?); log $log"
        exit 1
    fi
    after=$(ls "$seeds" | wc -l)
    echo "fuzz-merge $name: $((after - before)) new inputs (new edges), $after in $seeds," \
        "$(cat "$seeds"/* | wc -c) bytes"
    exit 0
fi
name=$1 fb=$2 secs=$3
bin=$fb/fuzz_$name
work=$fb/corpus/$name
art=$fb/artifacts/$name
mkdir -p "$work" "$art"
seeds=tests/fuzz/corpus/$name
regress=tests/fuzz/regress/$name
dirs="$work $seeds"
[ -d "$regress" ] && dirs="$dirs $regress"
dict=""
[ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
case $name in
    http|handshake) maxlen=9000 ;;
    ws_rx) maxlen=20000 ;;
    json|jwt) maxlen=6000 ;;
    *) maxlen=4096 ;;
esac
log=$fb/fuzz-$name.log
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
set +e
# shellcheck disable=SC2086
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -max_len=$maxlen \
    -print_final_stats=1 -artifact_prefix="$art/" $dict $dirs >"$log" 2>&1
rc=$?
set -e
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
size=$(ls "$work" | wc -l)
if [ $rc -ne 0 ]; then
    echo "fuzz $name: FAILED after ${runs:-?} runs (exit $rc); log $log"
    grep -E 'ERROR|SUMMARY|fuzz oracle|runtime error' "$log" | head -10
    for f in "$art"/*; do
        [ -f "$f" ] && echo "  input: $f  (add it to $regress/ once fixed)"
    done
    exit 1
fi
echo "fuzz $name: ${runs:-?} runs in ${secs}s, ${cov:-cov: ?}, corpus $size inputs, no failure"
