#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs every test suite of one build and prints one closing line.

A suite is a program that prints "N passed, N failed[, N skipped]" as its
last such line and exits 0 when nothing failed, or exits 77 after printing
"SKIP: reason" when a dependency is missing. Suites:
  unit         <build>/tests/test_*            (C, pure modules)
  wire         <build>/tests/itest_*           (C client, byte-exact cases)
  integration  tests/integration/test_*.py     (Python: stdlib or websockets)
  tls          tests/integration/tls/test_*.py (Python; only in the TLS pass, CW_TLS=1)
  redis        tests/integration/redis/test_*.py (Python + redis-server; builds with
               CONFIG_LAYER_REDIS only, e.g. board host-redis)
  interop      tests/interop/test_*.py         (Django Channels + daphne; same builds)
  conformance  tests/conformance/test_*.py     (RFC 6455 sections 4-7, Python stdlib)
  bench        tests/bench/test_*.py           (the callgrind guard: instructions per message)
  node         tests/integration/*.test.js     (Node ws)
  browser      tests/browser/*.test.js         (Chromium via playwright-core)
With CHECK_STRICT=1 a skipped suite, or a skipped case ("skip - NAME: reason")
that tests/skips-allowed does not list, counts as a failure (CI installs
everything). A suite that prints no result line is an error. With
CW_TOTALS_FILE set, each board's totals are appended to that file and
`run.py --grand-total FILE` prints the one total of a whole run (make check).
"""

import argparse
import fnmatch
import glob
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUMMARY = re.compile(r"^(?:\w+: )?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$")
SKIP_EXIT = 77
SKIP_LINE = re.compile(r"^skip - (\S+): (.*)$")
ALLOW_FILE = os.path.join(ROOT, "tests", "skips-allowed")


def load_allowed():
    """tests/skips-allowed: "SUITE::CASE | reason prefix | why" (globs)."""
    allowed = []
    with open(ALLOW_FILE) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [x.strip() for x in line.split("|")]
            if len(parts) != 3 or "::" not in parts[0] or not parts[1] or not parts[2]:
                raise SystemExit("%s:%d: want 'SUITE::CASE | reason prefix | why'" % (ALLOW_FILE, n))
            suite, case = parts[0].split("::", 1)
            allowed.append((suite, case, parts[1]))
    return allowed


def is_allowed(allowed, suite, case, reason):
    return any(fnmatch.fnmatch(suite, s) and fnmatch.fnmatch(case, c) and reason.startswith(r)
               for s, c, r in allowed)


def grand_total(path):
    """The last line of a whole run: every board pass that wrote to path."""
    totals, passes, bad = [0, 0, 0, 0], [], []  # passed, failed, skipped, not listed
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        lines = []
    for line in lines:
        kind, _, rest = line.partition(" ")
        if kind == "pass":
            label, p, fl, sk, unl = rest.rsplit(" ", 4)
            for i, v in enumerate((p, fl, sk, unl)):
                totals[i] += int(v)
            passes.append(label)
            if int(fl):
                bad.append(label)
        else:  # "error LABEL": the pass did not build or did not report
            totals[1] += 1
            passes.append(rest)
            bad.append(rest + " (did not run to its end)")
    if not passes:
        totals[1] += 1
        bad.append("no board pass reported")
    print("== %d board pass(es): %s" % (len(passes), ", ".join(passes)))
    if bad:
        print("== failed: " + ", ".join(bad))
    tail = ""
    if totals[3]:
        tail = " -- not everything ran: %d skipped not on tests/skips-allowed " \
               "(`make test` installs what they need)" % totals[3]
    elif totals[2]:
        tail = " (each skip on tests/skips-allowed)"
    print("total: %d passed, %d failed, %d skipped%s" % (tuple(totals[:3]) + (tail,)), flush=True)
    return 1 if bad else 0


def python_for_suites():
    # Debian's packages (python3-websockets, ...) live in the system Python.
    return "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def has_config(build, name):
    """1 when the build's generated cw_config.h defines name."""
    try:
        with open(os.path.join(build, "include", "cw_config.h")) as f:
            return any(l.split()[:2] == ["#define", name] for l in f)
    except OSError:
        return False


def discover(build, env):
    py = python_for_suites()
    # The callgrind guard counts the plain native daemon only: not in a
    # sanitizer, emulated, fault-injection or TLS pass.
    plain = not any(env.get(k) for k in ("CW_SANITIZE", "CW_EXEC_PREFIX", "CW_FAULTS")) and \
        env.get("CW_TLS") != "1"
    suites = []
    for p in sorted(glob.glob(os.path.join(build, "tests", "test_*"))):
        if os.access(p, os.X_OK) and not p.endswith(".d"):
            suites.append(("unit", os.path.basename(p), [p], True))
    for p in sorted(glob.glob(os.path.join(build, "tests", "itest_*"))):
        if os.access(p, os.X_OK):
            suites.append(("wire", os.path.basename(p), [p], True))
    # Suites of an optional module run only in builds that have it.
    needs = {"test_hosts.py": "CONFIG_HOST_CHECK", "test_shares.py": "CONFIG_FAIR_SHARES",
             "test_json_consumers.py": "CONFIG_GROUPS CONFIG_JSON CONFIG_APP_TIMERS",
             "test_status.py": "CONFIG_GROUPS CONFIG_JSON CONFIG_APP_TIMERS",
             "status.test.js": "CONFIG_GROUPS CONFIG_JSON CONFIG_APP_TIMERS",
             "test_metrics.py": "CONFIG_METRICS", "test_logs.py": "CONFIG_LOG_JSON CONFIG_LOG_RATELIMIT"}
    for kind, pattern in (("integration", "tests/integration/test_*.py"),
                          ("conformance", "tests/conformance/test_*.py"),
                          ("bench", "tests/bench/test_*.py")):
        for p in sorted(glob.glob(os.path.join(ROOT, pattern))):
            need = needs.get(os.path.basename(p), "")
            if not all(has_config(build, n) for n in need.split()):
                continue
            if kind == "bench" and not plain:
                continue
            suites.append((kind, os.path.basename(p), [py, p], False))
    if os.environ.get("CW_TLS") == "1":
        # The TLS suites (they need a TLS build): in the TLS pass only.
        for p in sorted(glob.glob(os.path.join(ROOT, "tests/integration/tls/test_*.py"))):
            suites.append(("tls", os.path.basename(p), [py, p], False))
    if has_config(build, "CONFIG_LAYER_REDIS"):
        # The Redis channel layer's suites need a build with it (host-redis).
        for kind, pattern in (("redis", "tests/integration/redis/test_*.py"),
                              ("interop", "tests/interop/test_*.py")):
            for p in sorted(glob.glob(os.path.join(ROOT, pattern))):
                suites.append((kind, os.path.basename(p), [py, p], False))
    for kind, pattern in (("node", "tests/integration/*.test.js"),
                          ("browser", "tests/browser/*.test.js")):
        for p in sorted(glob.glob(os.path.join(ROOT, pattern))):
            if not all(has_config(build, n) for n in needs.get(os.path.basename(p), "").split()):
                continue
            suites.append((kind, os.path.basename(p), ["node", p], False))
    return suites


def make_test_cert(build, env):
    """A throw-away certificate for the TLS pass (CW_TLS=1), made once per build."""
    d = os.path.join(build, "tls-test")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    if not (os.path.exists(cert) and os.path.exists(key)):
        if not shutil.which("openssl"):
            print("FAIL: CW_TLS=1 needs the openssl command to make a test certificate (apt-get install openssl)")
            return False
        os.makedirs(d, exist_ok=True)
        p = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-keyout", key, "-out", cert, "-days", "30",
                            "-nodes", "-subj", "/CN=localhost", "-addext",
                            "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            print("FAIL: openssl could not make a test certificate:\n" + p.stdout.decode())
            return False
    env["CW_TLS_CERT"], env["CW_TLS_KEY"] = cert, key
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/host")
    ap.add_argument("--board", default="host")
    ap.add_argument("--sanitize", action="store_true")
    ap.add_argument("--only", action="append", default=[],
                    help="glob on suite names or kinds (repeatable)")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--unavailable", metavar="REASON",
                    help="report this whole board pass as skipped (its tools are missing)")
    ap.add_argument("--grand-total", metavar="FILE",
                    help="print the total of the board passes recorded in FILE")
    args = ap.parse_args()
    if args.grand_total:
        return grand_total(args.grand_total)
    totals_file = os.environ.get("CW_TOTALS_FILE")

    build = os.path.abspath(os.path.join(ROOT, args.build) if not os.path.isabs(args.build) else args.build)
    strict = os.environ.get("CHECK_STRICT") == "1"
    env = dict(os.environ)
    env.setdefault("CW_BUILD", build)
    env.setdefault("CW_DAEMON", os.path.join(build, "chanwired"))
    env.setdefault("CW_DAEMON_COUNTING", os.path.join(build, "tests", "chanwired-counting"))
    env["CW_BOARD"] = args.board
    env["PYTHONPATH"] = os.path.join(ROOT, "tests", "lib") + os.pathsep + env.get("PYTHONPATH", "")
    env["NODE_PATH"] = os.path.join(ROOT, "tests", "node_modules") + os.pathsep + env.get("NODE_PATH", "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if args.sanitize:
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        env["CW_SANITIZE"] = "1"
    prefix = env.get("CW_EXEC_PREFIX", "").split()

    if args.unavailable:
        print("skip board %-22s 0 passed, 0 failed, 1 skipped -- %s%s" % (
            args.board, args.unavailable, " [CHECK_STRICT=1: counted as a failure]" if strict else ""))
        counts = (0, 1, 0) if strict else (0, 0, 1)
        record_totals(totals_file, args.board, counts + (counts[2],))
        print("%s: %d passed, %d failed, %d skipped" % (
            (("subtotal " + args.board) if totals_file else "total",) + counts))
        return 1 if strict else 0
    if os.environ.get("CW_TLS") == "1" and not make_test_cert(build, env):
        return 1

    allowed = load_allowed()
    totals = [0, 0, 0, 0]  # passed, failed, skipped, skipped and not on the allow-list
    bad_suites = []
    label = "%s%s%s" % (args.board, " (sanitizers)" if args.sanitize else "",
                        " over TLS" if env.get("CW_TLS") == "1" else "")
    print("== chanwire tests: board %s, build %s" % (label, os.path.relpath(build, ROOT)), flush=True)
    for kind, name, argv, native in discover(build, env):
        if args.only and not any(fnmatch.fnmatch(name, o) or fnmatch.fnmatch(kind, o) for o in args.only):
            continue
        if argv[0] == "node" and not shutil.which("node"):
            out, rc = "SKIP: node not installed (apt-get install nodejs)", SKIP_EXIT
            dt = 0.0
        else:
            run_argv = (prefix + argv) if native else argv
            t0 = time.time()
            try:
                p = subprocess.run(run_argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, timeout=args.timeout)
                out, rc = p.stdout.decode("utf-8", "replace"), p.returncode
            except subprocess.TimeoutExpired as e:
                out = (e.stdout or b"").decode("utf-8", "replace") + "\n(suite timed out)"
                rc = -1
            dt = time.time() - t0
        counts = None
        skipped_cases = []
        for line in out.splitlines():
            m = SUMMARY.match(line.strip())
            if m:
                counts = [int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)]
            m = SKIP_LINE.match(line.strip())
            if m:
                skipped_cases.append((m.group(1), m.group(2)))
        skip_reason = None
        no_result = False
        if rc == SKIP_EXIT:
            m = re.search(r"^SKIP: (.*)$", out, re.M)
            skip_reason = m.group(1) if m else "skipped"
            counts = [0, 0, 1]
            if is_allowed(allowed, name, "*", skip_reason):
                skip_reason = None  # listed: not counted against the run
        elif counts is None:
            counts = [0, 1, 0]  # no result line: it did not finish its cases
            no_result = True
        elif rc != 0 and counts[1] == 0:
            counts[1] = 1  # crashed or failed after its summary
        holes = [(c, r) for c, r in skipped_cases if not is_allowed(allowed, name, c, r)]
        if strict and holes:
            counts[1] += len(holes)  # a hole is a failure, not a skip
            counts[2] = max(0, counts[2] - len(holes))
        elif not strict:
            totals[3] += len(holes) + (1 if skip_reason else 0)
        failed_suite = counts[1] > 0 or (skip_reason and strict)
        if skip_reason and strict:
            counts = [0, 1, 0]
        for i in range(3):
            totals[i] += counts[i]
        status = "FAIL" if failed_suite else ("skip" if skip_reason else "ok")
        line = "%-4s %-11s %-28s %d passed, %d failed, %d skipped (%.1fs)" % (
            status, kind, name, counts[0], counts[1], counts[2], dt)
        if skip_reason:
            line += " -- " + skip_reason + (" [CHECK_STRICT=1: counted as a failure]" if strict else "")
        if no_result:
            line += " -- printed no result line (exit %d)" % rc
        print(line, flush=True)
        for c, r in skipped_cases:
            hole = (c, r) in holes
            print("    skip %s: %s%s" % (c, r, (" [not in tests/skips-allowed%s]" % (
                ": CHECK_STRICT=1 counts it as a failure" if strict else "")) if hole else ""),
                flush=True)
        if failed_suite and not skip_reason or args.verbose:
            lines = out.splitlines()
            if failed_suite and not args.verbose:
                # what went wrong, not the passing cases before it
                lines = [l for l in lines if not l.startswith("ok ")]
            tail = lines[-60:]
            print("\n".join("    | " + l for l in tail), flush=True)
        if failed_suite:
            bad_suites.append(name)
    print("== %s: %s" % (label, "all suites passed" if not bad_suites else "failed: " + ", ".join(bad_suites)))
    record_totals(totals_file, label.replace(" ", "_"), totals)
    tail = " -- %d skipped not on tests/skips-allowed" % totals[3] if totals[3] else ""
    print("%s: %d passed, %d failed, %d skipped%s" % (
        ("subtotal " + label) if totals_file else "total", *totals[:3], tail), flush=True)
    return 1 if bad_suites else 0


def record_totals(path, label, counts):
    if path:
        with open(path, "a") as f:
            f.write("pass %s %d %d %d %d\n" % (label.replace(" ", "_"), *counts))


if __name__ == "__main__":
    sys.exit(main())
