#!/bin/sh
# SPDX-License-Identifier: MIT
# loopcost.sh BINARY [N]: runs tests/bench/loopcost.c under callgrind and
# prints instructions per timer start, per timer fire, per post and per
# post run (make bench-loop).
set -e
bin=$1
n=${2:-200000}
out=$(mktemp /tmp/cw-loopcost-XXXXXX)
valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$n" >/dev/null 2>&1
callgrind_annotate --inclusive=yes "$out" 2>/dev/null | awk -v n="$n" '
    /:cw_timer_start / && !s { s = $1 }
    /:cw_app_timers_run / && !r { r = $1 }
    /:on_fire / && !f { f = $1 }
    /:cw_post / && !p { p = $1 }
    /:on_wake / && !w { w = $1 }
    /:on_post / && !q { q = $1 }
    function num(x) { gsub(/,/, "", x); return x + 0 }
    END {
        printf "timer start: %.1f instructions per cw_timer_start\n", num(s) / (n + 64)
        printf "timer fire:  %.1f instructions per fired timer (cw_app_timers_run, callbacks excluded)\n", (num(r) - num(f)) / n
        printf "post:        %.1f instructions per cw_post (queueing, wake-up write included)\n", num(p) / n
        printf "post run:    %.1f instructions per post run on the loop (wake-up read included, callbacks excluded)\n", (num(w) - num(q)) / n
    }'
rm -f "$out"
