#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check-config-refusals.py: configurations that cannot work are refused
(make check-config runs it).

Each case below takes a board's stored configuration, changes a few options
the way a hand edit (or scripts/setconfig.sh) would, and builds the
configuration's header through the Makefile, as any build does
($(B)/include/cw_config.h, checked against src/config_check.h; the TLS
arena case compiles src/core/tls.c, whose check needs mbedTLS's record
sizes). The build must fail and print the expected message, which names the
options. Where Kconfig can express the rule (a `range`), resolving the same
configuration with Kconfig must not keep the values either (menuconfig and
olddefconfig refuse it too). Every board's own configuration must pass the
same check (cross boards when their compiler is installed).

  check-config-refusals.py [-v] [--only NAME ...] [--keep DIR]
Exit 1 when a case is not refused as expected, or a board is refused.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name, board, overrides, expected message (a substring), Kconfig refuses it too
CASES = [
    ("sendq_below_message", "host", {"SENDQ_MAX": "65536"},
     "CONFIG_SENDQ_MAX must be at least CONFIG_MAX_MESSAGE_SIZE", True),
    ("message_over_io_pool", "host", {"IO_BUFS": "64"},
     "CONFIG_MAX_MESSAGE_SIZE does not fit the I/O pool", False),
    ("sendq_over_io_pool", "host", {"SENDQ_MAX": "67108864"},
     "CONFIG_SENDQ_MAX is larger than the I/O pool", False),
    ("io_block_too_small", "tiny", {"IO_BUF_SIZE": "256"},
     "CONFIG_IO_BUF_SIZE must be at least 512", True),
    ("deferred_accept_block_too_small", "tiny", {"DEFERRED_ACCEPT": "y"},
     "CONFIG_DEFERRED_ACCEPT needs CONFIG_IO_BUF_SIZE", False),
    ("post_queue_not_power_of_two", "tiny", {"POSTS": "y", "POST_QUEUE": "100"},
     "CONFIG_POST_QUEUE must be a power of two", False),
    ("timer_slots_not_power_of_two", "host", {"TIMER_SLOTS": "100"},
     "CONFIG_TIMER_SLOTS must be a power of two", False),
    ("io_reserve_whole_pool", "tiny", {"IO_RESERVE": "32"},
     "CONFIG_IO_RESERVE must be below CONFIG_IO_BUFS", False),
    ("message_limit_below_control_frame", "tiny", {"MAX_MESSAGE_SIZE": "100"},
     "CONFIG_MAX_MESSAGE_SIZE must be 125", True),
    ("https_file_chunk_over_io_pool", "host-tls",
     {"MAX_MESSAGE_SIZE": "65536", "SENDQ_MAX": "65536", "IO_BUFS": "64"},
     "with CONFIG_TLS and CONFIG_STATIC_FILES every HTTPS download", False),
    ("tls_sessions_over_conns", "host-tls", {"MAX_CONNS": "32", "TLS_MAX_CONNS": "64"},
     "CONFIG_TLS_MAX_CONNS must not exceed CONFIG_MAX_CONNS", True),
    ("tls_arena_too_small", "host-tls", {"TLS_MAX_CONNS": "256"},
     "CONFIG_TLS_ARENA_SIZE is too small for CONFIG_TLS_MAX_CONNS", False),
    ("http_request_over_16_bits", "host", {"HTTP_MAX_REQUEST": "65536"},
     "CONFIG_HTTP_MAX_REQUEST must be 256..65535", True),
    ("control_buffer_below_request_line", "host", {"CONTROL_BUF": "256"},
     "CONFIG_CONTROL_BUF must be at least 512", True),
    ("group_names_over_100", "host", {"GROUP_NAME_MAX": "200"},
     "CONFIG_GROUP_NAME_MAX must be 8..100", True),
    ("groups_over_memberships", "host", {"MAX_GROUPS": "4096", "MAX_MEMBERSHIPS": "1024"},
     "CONFIG_MAX_GROUPS must not exceed CONFIG_MAX_MEMBERSHIPS", True),
    ("redis_queue_below_message", "host-redis", {"LAYER_REDIS_SENDQ": "65536"},
     "CONFIG_LAYER_REDIS_SENDQ must be at least CONFIG_MAX_MESSAGE_SIZE + 512", True),
    ("redis_queue_without_publish_head", "host-redis", {"LAYER_REDIS_SENDQ": "1048576"},
     "CONFIG_LAYER_REDIS_SENDQ must be at least CONFIG_MAX_MESSAGE_SIZE + 512", False),
    ("redis_queue_over_io_pool", "host-redis", {"LAYER_REDIS_SENDQ": "67108864"},
     "CONFIG_LAYER_REDIS_SENDQ is larger than the I/O pool", False),
    ("close_timeout_below_tick", "host", {"TIMER_TICK_MS": "1000", "CLOSE_TIMEOUT_MS": "500"},
     "CONFIG_CLOSE_TIMEOUT_MS must be CONFIG_TIMER_TICK_MS..3600000", True),
    ("handshake_timeout_over_an_hour", "host", {"HANDSHAKE_TIMEOUT_MS": "7200000"},
     "CONFIG_HANDSHAKE_TIMEOUT_MS must be CONFIG_TIMER_TICK_MS..3600000", True),
    ("accept_backoff_zero", "host", {"ACCEPT_BACKOFF_MS": "0"},
     "CONFIG_ACCEPT_BACKOFF_MS must be CONFIG_TIMER_TICK_MS..3600000", True),
    ("message_timeout_wraps", "host", {"MESSAGE_TIMEOUT_MS": "5000000"},
     "CONFIG_MESSAGE_TIMEOUT_MS must be 0 (no deadline) or CONFIG_TIMER_TICK_MS..3600000", True),
    ("ping_interval_below_tick", "host", {"PING_INTERVAL_MS": "20"},
     "CONFIG_PING_INTERVAL_MS must be 0 (no pings) or at least CONFIG_TIMER_TICK_MS", False),
    ("watchdog_kicked_too_late", "host",
     {"WATCHDOG": "y", "WATCHDOG_INTERVAL_MS": "5000", "WATCHDOG_TIMEOUT_S": "5"},
     "CONFIG_WATCHDOG_INTERVAL_MS must be at most half of CONFIG_WATCHDOG_TIMEOUT_S", False),
]


def board_cc(board):
    """The compiler a board builds with (its board.mk), as make sees it."""
    out = subprocess.run(["make", "-s", "--no-print-directory", "-p", "BOARD=" + board, "-n",
                          "check-config-nothing"], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout.decode()
    m = re.search(r"^CC :?= (.*)$", out, re.M)
    return m.group(1).split()[0] if m else "cc"


def write_config(src, dst, overrides):
    lines = open(src).read().splitlines()
    left = dict(overrides)
    out = []
    for l in lines:
        m = re.match(r"^(?:# )?CONFIG_([A-Za-z0-9_]+)(?:=| is not set)", l)
        if m and m.group(1) in left:
            v = left.pop(m.group(1))
            out.append("# CONFIG_%s is not set" % m.group(1) if v == "n" else
                       "CONFIG_%s=%s" % (m.group(1), v))
        else:
            out.append(l)
    for k, v in left.items():
        out.append("CONFIG_%s=%s" % (k, v))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, "w") as f:
        f.write("\n".join(out) + "\n")


def build(tmp, board, target):
    """make the target with tmp/board/.config; (returncode, output)."""
    p = subprocess.run(["make", "-s", "--no-print-directory", "BOARD=" + board,
                        "BUILD_ROOT=" + tmp, os.path.join(tmp, board, target)],
                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def kconfig_keeps(cfg, overrides):
    """The overridden options Kconfig keeps as given, or None without kconfiglib."""
    try:
        import kconfiglib
    except ImportError:
        return None
    kconf = kconfiglib.Kconfig(os.path.join(ROOT, "Kconfig"), warn=False)
    kconf.load_config(cfg)
    return {k: v for k, v in overrides.items()
            if k in kconf.syms and kconf.syms[k].str_value == v}


def has_mbedtls():
    p = subprocess.run(["cc", "-E", "-x", "c", "-"], input=b"#include <mbedtls/ssl.h>\n",
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p.returncode == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--keep", help="build folder to use and keep (default: a temporary one)")
    args = ap.parse_args()
    tmp = args.keep or tempfile.mkdtemp(prefix="cw-config-check-")
    strict = os.environ.get("CHECK_STRICT") == "1"
    bad = []
    done = skipped = 0
    try:
        for name, board, overrides, want, kconfig_refuses in CASES:
            if args.only and name not in args.only:
                continue
            case_dir = os.path.join(tmp, name)
            shutil.rmtree(case_dir, ignore_errors=True)
            cfg = os.path.join(case_dir, board, ".config")
            write_config(os.path.join(ROOT, "boards", board, "defconfig"), cfg, overrides)
            target = "include/cw_config.h"
            if name == "tls_arena_too_small":
                if not has_mbedtls():
                    why = "mbedTLS headers not installed (apt-get install libmbedtls-dev)"
                    print("%s %-36s %s" % ("FAIL" if strict else "skip", name, why))
                    if strict:
                        bad.append(name)
                    else:
                        skipped += 1
                    continue
                target = "obj/src/core/tls.o"
            rc, out = build(case_dir, board, target)
            problems = []
            if rc == 0:
                problems.append("the build accepted it")
            elif want not in out:
                problems.append("refused without the message %r" % want)
            kept = kconfig_keeps(cfg, overrides) if kconfig_refuses else None
            if kept is not None and kept == overrides:
                problems.append("Kconfig keeps it (%s)" % ", ".join(
                    "CONFIG_%s=%s" % kv for kv in sorted(kept.items())))
            change = " ".join("CONFIG_%s=%s" % kv for kv in overrides.items())
            print("%s %-36s %s: %s%s" % ("FAIL" if problems else "ok  ", name, board, change,
                                         "  [Kconfig too]" if kept is not None and not problems
                                         else ""))
            if problems or args.verbose:
                for p in problems:
                    print("     " + p)
                print("\n".join("     | " + l for l in out.strip().splitlines()[-12:]))
            if problems:
                bad.append(name)
            done += 1
        # The shipped configurations pass the same check.
        if not args.only:
            for board in sorted(os.listdir(os.path.join(ROOT, "boards"))):
                if not os.path.exists(os.path.join(ROOT, "boards", board, "defconfig")):
                    continue
                cc = board_cc(board)
                if not shutil.which(cc):
                    print("skip %-36s no %s (the board's compiler)" % ("board " + board, cc))
                    skipped += 1
                    continue
                d = os.path.join(tmp, "boards")
                rc, out = build(d, board, "include/cw_config.h")
                print("%s %-36s %s" % ("ok  " if rc == 0 else "FAIL", "board " + board,
                                       "its defconfig passes" if rc == 0 else "refused"))
                if rc != 0:
                    print("\n".join("     | " + l for l in out.strip().splitlines()[-12:]))
                    bad.append("board " + board)
                done += 1
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print("config refusals: %d checked, %d failed, %d skipped" % (done, len(bad), skipped))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
