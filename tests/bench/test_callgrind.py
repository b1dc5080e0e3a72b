#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The deterministic performance guard: instructions the daemon executes per
echoed message, per fan-out delivery and per short connection, counted by
valgrind's callgrind for fixed workloads, and compared with the record in
tests/bench/callgrind-baseline.json. A figure more than its tolerance above
its record fails (10%, or twice the spread of the runs that made the record
when that is more, so the limit is above the figure's own noise); a change
that makes it so must update the record (with the reason in the commit
message):

    make bench-record                # both host builds (epoll and poll)
    tests/bench/test_callgrind.py --build build/host --board host --update

How a figure is made: the daemon runs under callgrind twice with the same
set-up (connections, handshakes) and a small and a large count of the
workload, driven by cwbench --det (one connection or one message at a time,
fixed seeds, so every read holds exactly one frame); the difference of the
two totals divided by the difference of the counts cancels start-up,
handshakes and shutdown. Counts are of user-space instructions only (system
calls count as the few instructions of their wrappers). Run to run they move
by under 1% (echo, fan-out) to about 7% (connection): timers and the
order of events still follow the wall clock a little. Hence the median
of 3 runs is compared (of 5 more when it is over the limit), and the record
is the median of 5 (--update).

Exit 77 with "SKIP: ..." when valgrind is missing. The record holds the
compiler and valgrind versions it was made with: on another toolchain the
figures mean something else, so each case is reported skipped with
"re-record" (neither a pass nor a failure; CHECK_STRICT=1 counts it), and so
is a board without a record. tests/run.py does not run the guard in a
sanitizer, emulated, fault-injection or TLS pass (valgrind cannot run those,
or they would count other code); run by hand there, it says so and checks
nothing.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECORD = os.path.join(ROOT, "tests", "bench", "callgrind-baseline.json")
TOLERANCE = 0.10

# name -> (what, cwbench arguments, small count, large count, units per count)
WORKLOADS = {
    "echo_32B": ("instructions per echoed 32-byte text message",
                 ["--scenario", "echo", "--conns", "1", "--size", "32"], 50, 550, 1),
    # 60 KiB, not echo_large's 64: a frame that fits one loopback segment
    # (MSS 65483) arrives whole, so the count of reads is fixed.
    "echo_60KiB": ("instructions per echoed 60 KiB binary message",
                   ["--scenario", "echo_large", "--conns", "1", "--size", "61440"], 4, 44, 1),
    "fanout_delivery": ("instructions per fan-out delivery (room of 100, one publisher)",
                        ["--scenario", "fanout", "--conns", "100", "--publishers", "1"],
                        100 * 20, 100 * 220, 1),
    "connection": ("instructions per connection (connect, handshake, one echo, close)",
                   ["--scenario", "churn", "--conns", "1"], 10, 110, 1),
}


def log(*a):
    print(*a, flush=True)


def root_flags(daemon):
    """--allow-root when we are root and this daemon refuses root without it."""
    if os.geteuid() != 0:
        return []
    try:
        h = subprocess.run([daemon, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return ["--allow-root"] if b"--allow-root" in h else []


class NotApplicable(Exception):
    pass


def run_daemon_workload(valgrind, daemon, gen, wargs, count, tmp):
    """One daemon under callgrind, one generator run; returns total Ir."""
    out = os.path.join(tmp, "cg.out")
    vlog = os.path.join(tmp, "vg.log")
    dlog = open(os.path.join(tmp, "daemon.log"), "w+b")
    for p in (out, vlog):
        if os.path.exists(p):
            os.unlink(p)
    argv = [valgrind, "--tool=callgrind", "--callgrind-out-file=" + out, "--log-file=" + vlog,
            daemon, "--listen", "127.0.0.1:0", "--no-control", "--ping-interval", "0",
            "--log-level", "info"] + root_flags(daemon)
    proc = subprocess.Popen(argv, stdout=dlog, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        port = None
        t_end = time.time() + 60
        while time.time() < t_end and port is None:
            if proc.poll() is not None:
                break
            dlog.seek(0)
            m = re.search(rb"listening on \S+ \(port (\d+)\)", dlog.read())
            if m:
                port = int(m.group(1))
            else:
                time.sleep(0.05)
        if port is None:
            dlog.seek(0)
            raise RuntimeError("daemon did not start under valgrind: %s" %
                               dlog.read().decode("utf-8", "replace")[-500:])
        g = subprocess.run([gen, "--port", str(port), "--det", "--count", str(count),
                            "--duration", "0", "--timeout", "120", "--label", "callgrind"] + wargs,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
        res = json.loads(g.stdout.decode().strip().splitlines()[-1])
        if not res.get("ok") and "answered 404" in (res.get("error") or ""):
            raise NotApplicable("no such route in this build")
        if not res.get("ok"):
            raise RuntimeError("generator: %s" % res.get("error"))
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        dlog.close()
    if proc.returncode != 0:
        raise RuntimeError("daemon exited %s under valgrind" % proc.returncode)
    with open(out) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    raise RuntimeError("no totals in the callgrind output")


def measure(build, names, repeat=1):
    valgrind = shutil.which("valgrind")
    daemon = os.path.join(build, "chanwired")  # never $CW_DAEMON: a counting or faulty one
    gen = os.path.join(build, "bench", "cwbench")
    for p in (daemon, gen):
        if not os.access(p, os.X_OK):
            raise RuntimeError("missing %s (make builds it)" % p)
    figures = {}
    with tempfile.TemporaryDirectory(prefix="cw-callgrind-") as tmp:
        for name in names:
            what, wargs, small, large, unit = WORKLOADS[name]
            vals = []
            try:
                for _ in range(repeat):
                    a = run_daemon_workload(valgrind, daemon, gen, wargs, small, tmp)
                    b = run_daemon_workload(valgrind, daemon, gen, wargs, large, tmp)
                    vals.append((b - a) / float((large - small) * unit))
            except NotApplicable as e:
                vals = str(e)
            figures[name] = vals
    return figures


def median(vals):
    v = sorted(vals)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2.0


def load_record():
    try:
        with open(RECORD) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"boards": {}}


def versions():
    def first_line(cmd):
        try:
            return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=20).stdout.decode().splitlines()[0].strip()
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"
    return {"valgrind": first_line(["valgrind", "--version"]),
            "cc": first_line([os.environ.get("CC") or "cc", "--version"])}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.environ.get("CW_BUILD", os.path.join(ROOT, "build", "host")))
    ap.add_argument("--board", default=os.environ.get("CW_BOARD", "host"))
    ap.add_argument("--update", action="store_true", help="write the figures as the new record")
    ap.add_argument("--repeat", type=int, default=None,
                    help="measure each figure N times (default 3; 5 with --update)")
    ap.add_argument("--only", action="append", default=[], help="workload name (repeatable)")
    args = ap.parse_args()

    if not shutil.which("valgrind"):
        print("SKIP: valgrind not installed (apt-get install valgrind)")
        return 77
    why = ("a sanitizer build" if os.environ.get("CW_SANITIZE") == "1" else
           "an emulated build" if os.environ.get("CW_EXEC_PREFIX") else
           "fault injection" if os.environ.get("CW_FAULTS") == "1" else
           "a TLS pass" if os.environ.get("CW_TLS") == "1" else None)
    if why and not args.update:
        # valgrind cannot run these (or they would count other code): not a skip
        print("callgrind guard: nothing to check in %s" % why)
        print("0 passed, 0 failed")
        return 0
    build = os.path.abspath(args.build)
    names = args.only or list(WORKLOADS)
    for n in names:
        if n not in WORKLOADS:
            print("unknown workload %s (one of %s)" % (n, ", ".join(WORKLOADS)))
            return 2
    if args.repeat is None:
        args.repeat = 5 if args.update else 3
    try:
        figures = measure(build, names, args.repeat)
    except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as e:
        print("callgrind guard: could not measure: %s" % e)
        print("0 passed, 1 failed")
        return 1

    record = load_record()
    board_rec = record.setdefault("boards", {}).get(args.board, {})
    if args.update:
        entry = dict(board_rec)
        for n in names:
            vals = figures[n]
            if isinstance(vals, str):
                entry.pop(n, None)
                continue
            entry[n] = round(median(vals), 1)
        entry["recorded"] = time.strftime("%Y-%m-%d")
        entry.update(versions())
        record["boards"][args.board] = entry
        for n in names:
            vals = figures[n]
            if not isinstance(vals, str) and len(vals) > 1:
                entry[n + "_spread"] = round((max(vals) - min(vals)) / median(vals), 4)
        record["tolerance"] = TOLERANCE
        record["about"] = {n: WORKLOADS[n][0] for n in WORKLOADS}
        record["update"] = "make bench-record (or tests/bench/test_callgrind.py --board B --update)"
        with open(RECORD, "w") as f:
            json.dump(record, f, indent=2, sort_keys=True)
            f.write("\n")
        for n in names:
            if n in entry:
                print("recorded %-16s %10.1f  %s" % (n, entry[n], WORKLOADS[n][0]))
            else:
                print("not recorded %-16s %s" % (n, figures[n]))
        print("written %s (board %s)" % (os.path.relpath(RECORD, ROOT), args.board))
        return 0

    passed = failed = skipped = 0
    print("callgrind guard, board %s (record: %s)" % (args.board, os.path.relpath(RECORD, ROOT)))
    now = versions()
    differs = [k for k in ("cc", "valgrind") if board_rec and board_rec.get(k) != now[k]]
    for n in names:
        if not board_rec or differs:
            why = ("no record for board %s" % args.board if not board_rec else
                   "recorded with %s, this is %s" % (
                       " and ".join(str(board_rec.get(k)) for k in differs),
                       " and ".join(now[k] for k in differs)))
            fig = figures[n] if isinstance(figures[n], str) else "%.1f" % median(figures[n])
            print("skip - %s: %s: re-record (make bench-record); measured %s" % (n, why, fig))
            skipped += 1
            continue
        if isinstance(figures[n], str):
            print("  n/a  %-16s %s" % (n, figures[n]))
            continue
        rec = board_rec.get(n)
        tol = max(TOLERANCE, 2 * board_rec.get(n + "_spread", 0))
        if rec is not None and median(figures[n]) > rec * (1 + tol):
            # A figure over the limit is measured twice more before it fails.
            try:
                figures[n] += measure(build, [n], 2)[n]  # 5 in all
            except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as e:
                print("  (re-measuring %s failed: %s)" % (n, e))
        cur = median(figures[n])
        spread = "" if len(figures[n]) == 1 else " (runs: %s)" % ", ".join("%.1f" % v for v in figures[n])
        if rec is None:
            print("skip - %s: no record for it on board %s: re-record (make bench-record); "
                  "measured %.1f%s" % (n, args.board, cur, spread))
            skipped += 1
            continue
        change = (cur - rec) / rec
        if cur > rec * (1 + tol):
            status = "FAIL"
            failed += 1
        else:
            status = "ok"
            passed += 1
        hint = ""
        if status == "FAIL":
            hint = "  more than %d%% worse: make it faster, or update the record (make bench-record) " \
                   "and say why in the commit" % int(tol * 100)
        elif change < -tol:
            hint = "  %d%% better than the record: make bench-record to lock it in" % int(-change * 100)
        print("  %-4s %-16s %10.1f  record %10.1f  %+6.1f%%  %s%s%s" % (
            status, n, cur, rec, 100 * change, WORKLOADS[n][0], spread, hint))
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
