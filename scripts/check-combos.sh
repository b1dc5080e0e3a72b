#!/bin/sh
# SPDX-License-Identifier: MIT
# check-combos.sh: Kconfig combinations that no board builds, built and
# tested (make check-combos), and random configurations (make
# randconfig-check). Each combination is a board's stored configuration
# with a few options changed, resolved with Kconfig into
# $(BUILD_ROOT)/combos/NAME/BOARD/.config (a .config in the build folder
# wins over the board's: see the Makefile), built with every test program,
# and run on its unit tests plus the suites that exercise the changed
# option:
#   sendq-drop      host, SENDQ_DROP=y: the slow group member's messages are
#                   dropped and counted, it is not closed (test_badinput.py
#                   slow_reader_in_a_group, which checks either policy)
#   groups-no-json  host, JSON=n (so no JWT, no chat consumers): groups and
#                   the control socket alone (unit, wire, test_daemon.py);
#                   with RANDOM_GETRANDOM=n too (one build less): random
#                   bytes from /dev/urandom only (test_random: with no
#                   descriptor left it fails instead of answering)
#   no-getrandom    host, RANDOM_GETRANDOM=n alone (not in the default list:
#                   groups-no-json has it)
#   poll-tls        host-tls, POLLER_POLL=y: wss:// on the poll() poller
#                   (CW_TLS=1: unit, tls, test_websockets.py)
#   time64-off      qemu-armv7, TIME64=n: a 32-bit time_t on 32-bit glibc
#                   builds and passes its unit tests, and test_y2038.py
#                   must FAIL on it (the clock past 2038 does not fit), which
#                   shows what TIME64 is for (docs/configuration.md). Built
#                   without LTO to save time (the board's other flags kept).
#
#   check-combos.sh combos [NAME ...]      (default: all of the above)
#   check-combos.sh randconfig SEED ...    random configurations of the host
#       board (scripts/randconfig.py): each is either refused by the
#       build with its message (src/config_check.h, Kconfig's ranges) or
#       builds and passes its unit tests. The seed is printed; the same
#       seed replays the same configuration.
# The host combinations build with CFLAGS=-O2 (no -g: a third less compile
# time). Environment: BUILD_ROOT (default build), MAKE, JOBS (default 2),
# KCONFIG_PY (default /usr/bin/python3). Exit 1 when any fails.
set -u
cd "$(dirname "$0")/.."
# Each combination has its own verdict (time64-off must fail test_y2038):
# its passes are not board passes of the run's grand total (make check,
# .ci/run), which would count that expected failure.
unset CW_TOTALS_FILE
BUILD_ROOT=${BUILD_ROOT:-build}
MAKE=${MAKE:-make}
JOBS=${JOBS:-2}
KCONFIG_PY=${KCONFIG_PY:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)}
PY=$KCONFIG_PY
failed=""
log_dir=$BUILD_ROOT/combos
mkdir -p "$log_dir"

say() { printf '%s\n' "$*"; }
fail() { say "FAIL $1: $2"; failed="$failed $1"; }

# configure NAME BOARD OVERRIDES...: resolve the board's config with the
# overrides into the combination's build folder; every override must hold
# (Kconfig drops a value whose dependencies are not met).
configure() {
    name=$1 board=$2
    shift 2
    b=$log_dir/$name/$board
    mkdir -p "$b"
    if ! $PY scripts/kconfig.py resolve "boards/$board/defconfig" "$b/.config.new" "$@"; then
        fail "$name" "Kconfig could not resolve $*"
        return 1
    fi
    for o in "$@"; do
        case $o in
            *=n) grep -qx "# CONFIG_${o%=n} is not set" "$b/.config.new" ;;
            *) grep -qx "CONFIG_$o" "$b/.config.new" ;;
        esac || { fail "$name" "Kconfig did not keep $o"; return 1; }
    done
    cmp -s "$b/.config.new" "$b/.config" || mv "$b/.config.new" "$b/.config"
    rm -f "$b/.config.new"
}

# mk NAME BOARD ARGS...: make in the combination's build root.
mk() {
    name=$1 board=$2
    shift 2
    case $board in
        host*) set -- CFLAGS=-O2 "$@" ;;
    esac
    $MAKE --no-print-directory -j"$JOBS" BUILD_ROOT="$log_dir/$name" BOARD="$board" "$@"
}

combo() {
    name=$1
    t0=$(date +%s)
    say "== combo $name"
    case $name in
    sendq-drop)
        configure "$name" host SENDQ_DROP=y || return
        mk "$name" host check-one CHECK_ONLY="unit" || { fail "$name" "unit tests"; return; }
        CW_BUILD=$log_dir/$name/host PYTHONPATH=tests/lib \
            $PY tests/integration/test_badinput.py slow_reader_in_a_group ||
            fail "$name" "test_badinput.py slow_reader_in_a_group"
        ;;
    no-getrandom)
        configure "$name" host RANDOM_GETRANDOM=n || return
        mk "$name" host check-one CHECK_ONLY="unit" || fail "$name" "unit tests"
        ;;
    groups-no-json)
        configure "$name" host GROUPS=y JSON=n RANDOM_GETRANDOM=n || return
        mk "$name" host check-one CHECK_ONLY="unit wire test_daemon.py" || fail "$name" "suites"
        ;;
    poll-tls)
        configure "$name" host-tls POLLER_POLL=y TLS=y || return
        CW_TLS=1 mk "$name" host-tls check-one CHECK_ONLY="unit tls test_websockets.py" ||
            fail "$name" "suites"
        ;;
    time64-off)
        configure "$name" qemu-armv7 TIME64=n || return
        # The board's flags less -flto (the LTO link of every test program
        # is most of this board's build time).
        nolto="BOARD_CFLAGS=-mcpu=cortex-a7 -mthumb -ffunction-sections -fdata-sections -fno-pie"
        nolto_ld="BOARD_LDFLAGS=-Wl,--gc-sections -no-pie -mcpu=cortex-a7 -mthumb"
        mk "$name" qemu-armv7 "$nolto" "$nolto_ld" all || { fail "$name" "build"; return; }
        # The unit tests less the fuzz replays: TIME64=n drops
        # _FILE_OFFSET_BITS=64 too, and a 32-bit readdir of the corpus
        # folders fails (EOVERFLOW) under qemu-user on a 64-bit host, whose
        # ext4 gives 64-bit directory offsets (a 32-bit kernel would not).
        units=$(cd "$log_dir/$name/qemu-armv7/tests" && ls test_* | grep -v '^test_fuzz_\|\.d$')
        mk "$name" qemu-armv7 "$nolto" "$nolto_ld" check-one CHECK_ONLY="$(echo $units)" ||
            { fail "$name" "unit tests"; return; }
        out=$(mk "$name" qemu-armv7 "$nolto" "$nolto_ld" check-one CHECK_ONLY="test_y2038.py" 2>&1)
        rc=$?
        if [ $rc -ne 0 ] && printf '%s\n' "$out" | grep -q "test_y2038.py *0 passed, [1-9]"; then
            say "ok   time64-off: test_y2038.py fails as it must with a 32-bit time_t"
        else
            printf '%s\n' "$out" | tail -20
            fail "$name" "test_y2038.py passed (or did not run) with a 32-bit time_t"
        fi
        ;;
    *)
        fail "$name" "no such combination"
        ;;
    esac
    say "== combo $name done in $(($(date +%s) - t0))s"
}

# randconfig SEED: generate, then refused-with-a-message or builds+units.
randconfig() {
    seed=$1 name=randconfig-$1
    t0=$(date +%s)
    b=$log_dir/$name/host
    mkdir -p "$b"
    $PY scripts/randconfig.py "$seed" "$b/.config" || { fail "$name" "randconfig.py"; return; }
    out=$(mk "$name" host all 2>&1)
    rc=$?
    if [ $rc -ne 0 ]; then
        # A refusal: the config header check (the Makefile's message), or
        # a _Static_assert or #error that names CONFIG_ options
        # (src/config_check.h, the TLS arena's in src/core/tls.c).
        if printf '%s\n' "$out" | grep -q "these options cannot work together" ||
           printf '%s\n' "$out" | grep -q 'static assertion failed: "CONFIG_\|#error "CONFIG_'; then
            say "ok   $name: refused by the build:"
            printf '%s\n' "$out" | grep -o 'static assertion failed: "CONFIG_[^:"]*\|error: #error "CONFIG_[^"]*' |
                sort -u | head -3 | sed 's/^/       /'
        else
            printf '%s\n' "$out" | grep -v '^  [A-Z]' | tail -30
            fail "$name" "the build broke (not a refusal); replay: make randconfig-check RANDCONFIG_SEEDS=$seed, config in $b/.config"
        fi
    else
        mk "$name" host check-one CHECK_ONLY="unit" ||
            fail "$name" "unit tests; replay: make randconfig-check RANDCONFIG_SEEDS=$seed, config in $b/.config"
    fi
    say "== $name done in $(($(date +%s) - t0))s"
}

what=${1:-combos}
[ $# -gt 0 ] && shift
case $what in
combos)
    [ $# -gt 0 ] || set -- sendq-drop groups-no-json poll-tls time64-off
    for c in "$@"; do combo "$c"; done
    ;;
randconfig)
    [ $# -gt 0 ] || { say "randconfig: give seeds"; exit 2; }
    for s in "$@"; do randconfig "$s"; done
    ;;
*)
    say "usage: check-combos.sh combos [NAME ...] | randconfig SEED ..."; exit 2 ;;
esac
if [ -n "$failed" ]; then
    say "check-combos: FAILED:$failed"
    exit 1
fi
say "check-combos: all passed ($what${*:+: $*})"
