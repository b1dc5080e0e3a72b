#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The generator of the `tls_churn` scenario: full TLS handshakes per second
against chanwired's TLS listener, and per server CPU-second.

The load is `openssl s_time -connect HOST:PORT -new -time N`, several of them
at once (--parallel): each connects, completes a full handshake (-new: never
a resumed session; every connection is checked to be a new one from s_time's
progress marks), then closes, one connection after another. This is the
simplest honest generator available here: OpenSSL's client is much faster
than mbedTLS's server (~0.8 ms against ~2 ms of CPU per ECDSA P-256
handshake on the build machine), so the server's core is the one that
saturates, and the same tool measures TLS 1.2 and TLS 1.3. Linking mbedTLS
or OpenSSL into cwbench to add a WebSocket upgrade on top would measure
the same handshake plus the plain `churn` scenario's work, at the price of a
TLS dependency in the generator. No WebSocket upgrade is sent: this is the
TLS handshake alone (the plain `churn` scenario has the upgrade's cost).

It prints one JSON line with the keys of cwbench's (rate, per_srv_cpu_s,
srv_cpu_util, gen_cpu_util, other_procs_cpu, ...), so run.py treats both
alike. Rates use this script's own clock around the s_time processes, and
the server's CPU time comes from /proc/<pid>/stat over the same window.
s_time counts whole wall-clock seconds (`-time N` stops when the second
after the N-th ends), so the runs start just after a second boundary with
-time duration-1: the window is the --duration rounded to whole seconds
(at least 2). No latency: s_time does not report it.

  tests/bench/tls_churn.py --port 8443 --server-pid PID --tls 1.2 --duration 3
  tests/bench/tls_churn.py --port 8443 --probe          # which versions are offered
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")
VERSION_FLAG = {"1.2": "-tls1_2", "1.3": "-tls1_3"}


def proc_cpu_s(pid):
    """utime + stime of one process, seconds (-1 when it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return -1.0
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / HZ  # fields 14 and 15 of stat


def sys_cpu():
    """(busy, softirq, steal) of the whole machine, seconds, as cwbench."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:11]]
    return (v[0] + v[1] + v[2] + v[7]) / HZ, (v[5] + v[6]) / HZ, v[7] / HZ


def other_procs(skip):
    """CPU seconds of every other process: (user processes, kernel threads)."""
    procs = kthreads = 0.0
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) in skip:
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        try:
            fields = s[s.rindex(")") + 2:].split()
            flags, t = int(fields[6]), (int(fields[11]) + int(fields[12])) / HZ
        except (ValueError, IndexError):
            continue
        if flags & 0x00200000:  # PF_KTHREAD
            kthreads += t
        else:
            procs += t
    return procs, kthreads


def self_cpu():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)  # the s_time processes, once reaped
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def snap(server_pid):
    busy, softirq, steal = sys_cpu()
    procs, kthreads = other_procs({os.getpid(), server_pid})
    return {"srv": proc_cpu_s(server_pid) if server_pid > 0 else -1.0, "self": self_cpu(),
            "busy": busy, "softirq": softirq, "steal": steal, "procs": procs,
            "kthreads": kthreads}


def probe(host, port, version, timeout=20):
    """One openssl s_client handshake at exactly this version: the cipher
    negotiated, or None when the server does not offer the version."""
    try:
        p = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (host, port),
                            VERSION_FLAG[version], "-servername", "localhost"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    m = re.search(r"New, (TLSv[\d.]+), Cipher is (\S+)", p.stdout.decode(errors="replace"))
    if not m or m.group(1) != "TLSv" + version or m.group(2) == "(NONE)":
        return None
    return m.group(2)


def align_second():
    """Sleeps until just after the next wall-clock second begins (s_time's
    clock), unless one has just begun."""
    frac = time.time() % 1.0
    if frac > 0.02:
        time.sleep(1.0 - frac + 0.002)


def s_time(host, port, version, seconds, parallel, align=True):
    """`parallel` s_time processes with -time `seconds`; started just after
    a second boundary they run seconds+1 s. Returns (connections, wall
    seconds, error or None)."""
    if align:
        align_second()
    argv = ["openssl", "s_time", "-connect", "%s:%d" % (host, port), "-new",
            VERSION_FLAG[version], "-time", str(seconds)]
    t0 = time.monotonic()
    procs = [subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT) for _ in range(parallel)]
    outs = []
    for p in procs:
        try:
            out, _ = p.communicate(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        outs.append((p.returncode, out.decode(errors="replace")))
    wall = time.monotonic() - t0
    total = 0
    for rc, out in outs:
        m = re.search(r"^(\d+) connections in [\d.]+ real seconds", out, re.M)
        if rc != 0 or not m or "ERROR" in out:
            tail = " ".join(out.strip().splitlines()[-3:])[-300:]
            return total, wall, "s_time exited %s: %s" % (rc, tail)
        n = int(m.group(1))
        # progress marks: '*' a new full handshake, 'r' a resumed session
        # (t/3: TLS 1.0/SSL 3); all n must be new ones
        marks = "".join(re.findall(r"^[*rt3]+$", out[:m.start()], re.M))
        if marks.count("r") or marks.count("*") != n:
            return total, wall, "s_time: %d connections but %d new-handshake marks, %d resumed" % (
                n, marks.count("*"), marks.count("r"))
        total += n
    return total, wall, None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--scenario", default="tls_churn")
    ap.add_argument("--server-pid", type=int, default=0)
    ap.add_argument("--label", default="server")
    ap.add_argument("--tls", default="1.2", choices=sorted(VERSION_FLAG), help="protocol version")
    ap.add_argument("--parallel", type=int, default=4, help="s_time processes at once")
    ap.add_argument("--duration", type=float, default=3.0,
                    help="seconds measured (whole seconds, at least 2)")
    ap.add_argument("--warmup", type=float, default=1.0,
                    help="seconds of handshakes before measuring (whole seconds, at least 2; "
                         "0: none)")
    ap.add_argument("--probe", action="store_true",
                    help="only report which versions the server offers (JSON), one handshake each")
    args = ap.parse_args()

    if args.probe:
        print(json.dumps({v: probe(args.host, args.port, v) for v in sorted(VERSION_FLAG)}))
        return 0

    res = {"scenario": args.scenario, "server": args.label, "mode": "tls_churn",
           "tls_version": args.tls, "conns": args.parallel, "generator": "openssl s_time -new"}
    t_start = time.monotonic()
    cipher = probe(args.host, args.port, args.tls)
    if cipher is None:
        res.update(ok=0, error="no TLS %s handshake with the server (not offered?)" % args.tls)
        print(json.dumps(res))
        return 1
    res["cipher"] = cipher
    if args.warmup > 0:
        _, _, err = s_time(args.host, args.port, args.tls,
                           max(1, int(round(args.warmup)) - 1), args.parallel)
        if err:
            res.update(ok=0, error="warm-up: " + err)
            print(json.dumps(res))
            return 1
    secs = max(1, int(round(args.duration)) - 1)
    align_second()  # before the snapshot: no idle server time in the window
    c0 = snap(args.server_pid)
    count, window, err = s_time(args.host, args.port, args.tls, secs, args.parallel, align=False)
    c1 = snap(args.server_pid)
    srv = c1["srv"] - c0["srv"] if c0["srv"] >= 0 and c1["srv"] >= 0 else -1.0
    own = c1["self"] - c0["self"]
    other = (c1["busy"] - c0["busy"]) - own - max(srv, 0.0)
    res.update({
        "ok": 0 if err else 1,
        "window_s": round(window, 6), "count": count,
        "rate": count / window if window > 0 else 0,
        "srv_cpu_s": srv if srv >= 0 else None,
        "per_srv_cpu_s": count / srv if srv > 0 else None,
        "srv_cpu_util": srv / window if srv >= 0 and window > 0 else None,
        # the generator's core: the s_time processes (and this script)
        "gen_cpu_util": own / window if window > 0 else None,
        "other_cpu": max(other, 0.0) / window if window > 0 else None,
        "softirq_cpu": (c1["softirq"] - c0["softirq"]) / window,
        "steal_cpu": (c1["steal"] - c0["steal"]) / window,
        "other_procs_cpu": (c1["procs"] - c0["procs"]) / window,
        "kthread_cpu": (c1["kthreads"] - c0["kthreads"]) / window,
        "lat_p50_us": None, "lat_p99_us": None, "lat_p999_us": None,
        "total_s": round(time.monotonic() - t_start, 3),
    })
    if err:
        res["error"] = err
    print(json.dumps(res))
    return 0 if not err else 1


if __name__ == "__main__":
    sys.exit(main())
