#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make bench-arm`: guest instructions per echoed message and per fan-out
delivery of an emulated ARMv7 build (board qemu-armv7: Cortex-A7, Thumb-2,
-Os), printed beside the host build's callgrind figures.

How a figure is made. qemu-user 7.2 ships no TCG plugins (libinsn.so), so
the count comes from QEMU's own log: the daemon runs under

    qemu-arm -cpu cortex-a7 ... -d in_asm,exec,nochain -D <fifo> chanwired ...

`in_asm` lists the guest instructions of every translation block (TB) when
it is translated, `exec` logs every execution of a TB ("Trace 0: <host
code address> [...]"), and `nochain` sends every TB through the main loop
(no direct or indirect chaining), so every execution is logged. A TB is
translated just before it first runs, so the first Trace after an IN block
names its host code address; instructions executed = the sum over Trace
lines of the size of that TB. The log is read from a FIFO while it is
written, so nothing large touches the disk. (Checked on a Thumb-2 loop of
known length: 100,000 more iterations of a 2-instruction loop count exactly
200,000 more instructions.)

The workloads are test_callgrind.py's, driven by the host's cwbench --det
(one connection or one message at a time, fixed seeds): the daemon runs
twice with a small and a large count, and the difference of the totals
divided by the difference of the counts cancels start-up (the dynamic
loader included), handshakes and shutdown. Like callgrind's figure it
counts user-space instructions of the whole process (libc too); a system
call counts as the instructions around its `svc`.

What it is good for: the trend on a 32-bit ARM core compiled as the board
ships (Thumb-2, -Os, LTO), not an exact figure. Conditional instructions
count whether or not their condition holds; the reactor's timer-wheel scan
follows the wall clock (see test_callgrind.py), and emulation with logging
is much slower, so the median of --repeat runs is printed with the spread.
callgrind on the host build stays the stable figure: it is measured now on
--host-build (the same source tree; needs valgrind) and printed beside the
record that make check guards (tests/bench/callgrind-baseline.json).

  make bench-arm                                    # qemu-armv7 against build/host
  tests/bench/qemu_insns.py --build build/qemu-armv7 --gen build/host/bench/cwbench
  tests/bench/qemu_insns.py ... --host-build ''     # the record only, no callgrind run
"""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import test_callgrind  # noqa: E402  (its WORKLOADS, record and callgrind runner)

# name -> (small count, large count): test_callgrind's workloads with
# counts that keep an emulated, fully logged run to a few seconds.
COUNTS = {
    "echo_32B": (50, 350),
    "echo_60KiB": (4, 24),
    "fanout_delivery": (100 * 10, 100 * 60),
    "connection": (10, 60),
}
DEFAULT = ["echo_32B", "fanout_delivery"]

TRACE_RE = re.compile(r"^Trace \d+: (0x[0-9a-f]+) \[([0-9a-f]+)/([0-9a-f]+)/")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class LogCounter(threading.Thread):
    """Reads QEMU's -d in_asm,exec log (from a FIFO) and sums the guest
    instructions of every executed TB."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.insns = 0
        self.tbs_run = 0
        self.translated = 0
        self.unknown = 0  # executions of a TB whose size was never seen
        self.error = None

    def run(self):
        try:
            self._parse()
        except Exception as e:  # reported by the caller
            self.error = repr(e)

    def _parse(self):
        by_ptr = {}   # host code address -> guest instructions (latest translation there)
        by_pc = {}    # guest pc -> guest instructions (fallback)
        pending = None  # size of the TB just translated, waiting for its first Trace
        in_block = False
        n = 0
        block_pc = None
        insns = runs = unknown = translated = 0
        with open(self.path, "r", errors="replace") as f:
            for line in f:
                c = line[:2]
                if in_block:
                    if c == "0x":
                        if n == 0:
                            block_pc = int(line[2:line.index(":")], 16)
                        n += 1
                        continue
                    # a blank line (or anything else) ends the listing
                    in_block = False
                    pending = n
                    translated += 1
                    if block_pc is not None:
                        by_pc[block_pc] = n
                if c == "Tr":
                    m = TRACE_RE.match(line)
                    if not m:
                        continue
                    ptr = m.group(1)
                    if pending is not None:
                        by_ptr[ptr] = pending
                        pending = None
                    size = by_ptr.get(ptr)
                    if size is None:
                        size = by_pc.get(int(m.group(3), 16))
                    if size is None:
                        unknown += 1
                        continue
                    insns += size
                    runs += 1
                elif c == "IN":
                    in_block, n, block_pc = True, 0, None
        self.insns, self.tbs_run, self.unknown, self.translated = insns, runs, unknown, translated


def board_qemu(board):
    """BOARD_QEMU from boards/<board>/board.mk."""
    try:
        with open(os.path.join(ROOT, "boards", board, "board.mk")) as f:
            for line in f:
                m = re.match(r"^\s*BOARD_QEMU\s*\??=\s*(.+?)\s*$", line)
                if m:
                    return m.group(1)
    except OSError:
        pass
    return None


def run_workload(qemu, daemon, gen, wargs, count, tmp):
    """One daemon under logging qemu, one cwbench --det run; returns
    (guest instructions, TB executions, unknown TBs)."""
    fifo = os.path.join(tmp, "qemu.fifo")
    if os.path.exists(fifo):
        os.unlink(fifo)
    os.mkfifo(fifo)
    counter = LogCounter(fifo)
    counter.start()  # blocks in open() until qemu opens the log
    dlog = open(os.path.join(tmp, "daemon.log"), "w+b")
    argv = qemu + ["-d", "in_asm,exec,nochain", "-D", fifo, daemon,
                   "--listen", "127.0.0.1:0", "--no-control", "--ping-interval", "0",
                   "--log-level", "info"] + (["--allow-root"] if os.geteuid() == 0 else [])
    proc = subprocess.Popen(argv, stdout=dlog, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        port = None
        t_end = time.time() + 120
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
            raise RuntimeError("daemon did not start under %s: %s" % (
                qemu[0], dlog.read().decode("utf-8", "replace")[-500:]))
        g = subprocess.run([gen, "--port", str(port), "--det", "--count", str(count),
                            "--duration", "0", "--timeout", "300", "--label", "qemu"] + wargs,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=400)
        try:
            res = json.loads(g.stdout.decode().strip().splitlines()[-1])
        except (IndexError, ValueError):
            raise RuntimeError("generator: %s" % g.stderr.decode()[-300:])
        if not res.get("ok"):
            raise RuntimeError("generator: %s" % res.get("error"))
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if counter.is_alive() and proc.returncode is not None:
            counter.join(timeout=300)
        if counter.is_alive():
            # qemu never opened the log: unblock the reader
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                os.close(fd)
            except OSError:
                pass
            counter.join(timeout=10)
        dlog.close()
    if proc.returncode != 0:
        raise RuntimeError("daemon exited %s under %s" % (proc.returncode, qemu[0]))
    if counter.error:
        raise RuntimeError("reading the qemu log: %s" % counter.error)
    if counter.tbs_run == 0:
        raise RuntimeError("the qemu log has no executed TBs (does this qemu know -d exec?)")
    return counter.insns, counter.tbs_run, counter.unknown


def rel(p):
    """p relative to the source tree when inside it."""
    p = os.path.abspath(p)
    return os.path.relpath(p, ROOT) if p.startswith(ROOT + os.sep) else p


def median(vals):
    return test_callgrind.median(vals)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "qemu-armv7"),
                    help="the emulated build (its chanwired)")
    ap.add_argument("--board", default="qemu-armv7", help="its board (for BOARD_QEMU in board.mk)")
    ap.add_argument("--qemu", default=None, help="qemu command (default: the board's BOARD_QEMU)")
    ap.add_argument("--gen", default=None,
                    help="the host's cwbench (default <build>/../host/bench/cwbench)")
    ap.add_argument("--only", action="append", default=[],
                    help="workload (repeatable): %s; default %s" % (
                        ", ".join(COUNTS), ", ".join(DEFAULT)))
    ap.add_argument("--repeat", type=int, default=3, help="runs of each figure (median shown)")
    ap.add_argument("--host-board", default="host",
                    help="the callgrind record to print beside (tests/bench/callgrind-baseline.json)")
    ap.add_argument("--host-build", default=None,
                    help="the host build measured now under callgrind, with the same workloads "
                         "and counts (default <build>/../host; '' for none)")
    ap.add_argument("--out", default=None,
                    help="also write the figures as JSON here (default <build>/../bench/qemu-insns.json)")
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    daemon = os.path.join(build, "chanwired")
    gen = os.path.abspath(args.gen or os.path.join(os.path.dirname(build), "host", "bench", "cwbench"))
    qemu_cmd = args.qemu or board_qemu(args.board)
    if not qemu_cmd:
        log("qemu_insns: no BOARD_QEMU for board %s: give --qemu" % args.board)
        return 2
    qemu = shlex.split(qemu_cmd)
    if not shutil.which(qemu[0]):
        print("SKIP: %s not installed (apt-get install qemu-user)" % qemu[0])
        return 77
    for p in (daemon, gen):
        if not os.access(p, os.X_OK):
            log("qemu_insns: missing %s (make bench-arm builds it)" % p)
            return 2
    names = args.only or DEFAULT
    for n in names:
        if n not in COUNTS:
            log("qemu_insns: unknown workload %s (one of %s)" % (n, ", ".join(COUNTS)))
            return 2

    qver = subprocess.run([qemu[0], "--version"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT).stdout.decode().splitlines()[0]
    log("qemu_insns: %s under `%s`, %d run(s) of each figure" % (
        rel(daemon), " ".join(qemu), args.repeat))
    started = time.time()
    figures = {}
    with tempfile.TemporaryDirectory(prefix="cw-qemu-insns-") as tmp:
        for n in names:
            what, wargs = test_callgrind.WORKLOADS[n][0], test_callgrind.WORKLOADS[n][1]
            small, large = COUNTS[n]
            vals, unknown = [], 0
            for i in range(args.repeat):
                t0 = time.time()
                a, _, ua = run_workload(qemu, daemon, gen, wargs, small, tmp)
                b, tbs, ub = run_workload(qemu, daemon, gen, wargs, large, tmp)
                unknown += ua + ub
                vals.append((b - a) / float(large - small))
                log("  %-16s run %d: %.1f (%d -> %d guest instructions, %.1f s)" % (
                    n, i + 1, vals[-1], a, b, time.time() - t0))
            figures[n] = {"what": what, "runs": vals, "median": median(vals),
                          "counts": [small, large], "unknown_tbs": unknown}

    # The host build under callgrind now (same tree, same workloads and counts
    # as make check's guard), and the guard's record.
    host, host_note = {}, ""
    hb = args.host_build
    if hb is None:
        hb = os.path.join(os.path.dirname(build), "host")
    if hb and not shutil.which("valgrind"):
        host_note = "valgrind not installed: no callgrind run"
    elif hb:
        hb = os.path.abspath(hb)
        log("qemu_insns: callgrind on %s (%d runs each)" % (rel(hb), args.repeat))
        try:
            hf = test_callgrind.measure(hb, names, args.repeat)
            host = {n: median(v) for n, v in hf.items() if not isinstance(v, str)}
        except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as e:
            host_note = "callgrind failed: %s" % e
        if host_note:
            log("qemu_insns: " + host_note)
    rec = test_callgrind.load_record().get("boards", {}).get(args.host_board, {})
    record = {n: rec[n] for n in names if n in rec}

    print("Instructions per unit of work of %s under %s (%s), beside the host build under "
          "callgrind." % (rel(daemon), " ".join(qemu), qver))
    now = ("callgrind now on %s, median of %d" % (rel(hb), args.repeat) if hb and not host_note
           else "not measured now (%s)" % (host_note or "no --host-build"))
    print("%s: guest instructions from QEMU's in_asm/exec log, median of %d (the runs in "
          "brackets). Host: %s; record: tests/bench/callgrind-baseline.json, board %s, %s." % (
              args.board, args.repeat, now, args.host_board, rec.get("recorded", "?")))
    print("")
    print("| workload | %s | host x86-64, callgrind now | %s / host | host record |" % (
        args.board, args.board))
    print("|---|---|---|---|---|")
    for n in names:
        f = figures[n]
        h, r = host.get(n), record.get(n)
        print("| %s | %.0f (%s) | %s | %s | %s |" % (
            f["what"], f["median"], ", ".join("%.0f" % v for v in f["runs"]),
            "%.0f" % h if h else "-", "%.2f" % (f["median"] / h) if h else "-",
            "%.0f" % r if r else "-"))
        if f["unknown_tbs"]:
            print("  (%d TB executions of unknown size were left out)" % f["unknown_tbs"])
    print("")
    print("%.0f s in all. The host figure is the stable one (make check guards it); "
          "the emulated one shows the trend on the board's build." % (time.time() - started))

    out = args.out or os.path.join(os.path.dirname(build), "bench", "qemu-insns.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as fo:
        json.dump({"board": args.board, "qemu": " ".join(qemu), "qemu_version": qver,
                   "date": time.strftime("%Y-%m-%d %H:%M:%S"), "figures": figures,
                   "host_callgrind": host, "host_build": hb or None, "host_note": host_note or None,
                   "host_record": record, "host_record_date": rec.get("recorded")},
                  fo, indent=2, sort_keys=True)
        fo.write("\n")
    log("qemu_insns: figures in %s" % rel(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
