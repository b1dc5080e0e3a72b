#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make bench`: chanwired against its peers, same generator, same run.

For every round, every scenario and every peer (the peer order rotates each
round), a fresh server is started pinned to one core and the generator
(cwbench) runs pinned to the other. The generator measures its own window:
messages, latency, the server's CPU time (/proc/<pid>/stat) and the CPU that
other processes used meanwhile; a run where they used more than --noise-max
of a core is flagged and, up to --retries times, run again. Medians over the
clean rounds go in a Markdown table (ratios: how many times chanwired is
better, within this run) and everything in JSON lines under --out.
Nothing here passes or fails on time: the exit status only says whether
every run completed with every payload verified.

  tests/bench/run.py --build build/host                      # everything
  tests/bench/run.py --quick --scenarios echo_pipe --peers chanwired,lws
  tests/bench/run.py --scenarios fanout_1k --peers chanwired --rounds 1 --perf
  tests/bench/run.py --scenarios tls_churn --peers chanwired --tls-build build/host-tls

`tls_churn` (chanwired only: the peers here serve no TLS) is full TLS
handshakes, no session resumption, against chanwired's TLS listener
(--tls-build: a CONFIG_TLS build such as board host-tls, which make bench
builds when mbedTLS is installed), with an ECDSA P-256 (or --tls-key rsa)
certificate made here. The generator is not cwbench but tests/bench/
tls_churn.py: --tls-parallel `openssl s_time -new` processes, each
connecting, completing one full handshake and closing, one connection after
another. OpenSSL's client needs less than half the CPU mbedTLS's server
needs per handshake, so the server's core saturates and the same tool
covers TLS 1.2 and 1.3; adding mbedTLS or OpenSSL to cwbench for a WebSocket
upgrade on top would measure the plain `churn` scenario's work as well, for
a TLS dependency in the generator. TLS 1.2 and TLS 1.3 are reported apart;
a version the build's mbedTLS does not offer (Debian's 2.28 has no 1.3) is
probed once and named in a note.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import tls_churn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "tests", "bench")
SCENARIOS = ["echo", "echo_pipe", "echo_large", "fanout_1k", "fanout_10p", "idle_10k", "churn",
             "tls_churn"]
TLS_SCENARIOS = {"tls_churn"}  # run by tls_churn.py against the TLS build, chanwired only
PEERS = ["chanwired", "lws", "ws", "daphne"]
PEER_TITLE = {"chanwired": "chanwired", "lws": "libwebsockets", "ws": "Node ws",
              "daphne": "Channels/daphne"}
# Daphne is two orders of magnitude slower: fewer connections where the
# count only sets the run's length, and fewer rounds (see --daphne-rounds).
DAPHNE_OVERRIDES = {"idle_10k": ["--conns", "5000"]}
QUICK_OVERRIDES = {"idle_10k": ["--conns", "2000"]}
DEBIAN_PY = "/usr/bin/python3"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, hard), max(want, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Peer:
    def __init__(self, name, argv_fn, cwd=None, env=None, missing=None):
        self.name, self.argv_fn, self.cwd, self.env, self.missing = name, argv_fn, cwd, env, missing


def make_peers(build):
    peers = {}
    daemon = os.path.join(build, "chanwired")
    peers["chanwired"] = Peer(
        "chanwired",
        lambda port: [daemon, "--listen", "127.0.0.1:%d" % port, "--no-control",
                      "--ping-interval", "0", "--log-level", "warn", "--allow-root"],
        missing=None if os.access(daemon, os.X_OK) else "build it: make")
    lws = os.path.join(build, "bench", "lws_peer")
    peers["lws"] = Peer(
        "lws", lambda port: [lws, "--port", str(port)],
        missing=None if os.access(lws, os.X_OK) else
        "apt-get install libwebsockets-dev, then make bench builds it")
    node_modules = os.path.join(ROOT, "tests", "node_modules")
    ws_ok = shutil.which("node") and os.path.isdir(os.path.join(node_modules, "ws"))
    peers["ws"] = Peer(
        "ws", lambda port: ["node", os.path.join(HERE, "peers", "ws_peer.js"), "--port", str(port)],
        env={"NODE_PATH": node_modules},
        missing=None if ws_ok else "apt-get install nodejs npm; cd tests && npm install")
    daphne = shutil.which("daphne") or "/usr/bin/daphne"
    dj_ok = os.access(daphne, os.X_OK) and os.path.exists(DEBIAN_PY) and subprocess.run(
        [DEBIAN_PY, "-c", "import channels, daphne"], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL).returncode == 0
    peers["daphne"] = Peer(
        "daphne", lambda port: [daphne, "-v", "0", "-b", "127.0.0.1", "-p", str(port),
                                "benchsite.asgi:application"],
        cwd=os.path.join(HERE, "peers", "django_chat"),
        env={"PYTHONPATH": os.path.join(HERE, "peers", "django_chat"),
             "PYTHONDONTWRITEBYTECODE": "1"},
        missing=None if dj_ok else "apt-get install daphne python3-django-channels")
    return peers


def make_cert(out, kind):
    """A self-signed certificate for localhost / 127.0.0.1 and its key, in out."""
    cert, key = os.path.join(out, "bench-%s.crt" % kind), os.path.join(out, "bench-%s.key" % kind)
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if kind == "ec" else \
        ["-newkey", "rsa:2048"]
    p = subprocess.run(["openssl", "req", "-x509"] + newkey + [
        "-keyout", key, "-out", cert, "-days", "2", "-nodes", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        raise RuntimeError("openssl req: " + p.stdout.decode(errors="replace")[-300:])
    return cert, key


def make_tls_peer(tls_build, out, kind):
    """chanwired of the TLS build on a TLS listener, or a Peer saying what is missing."""
    daemon = os.path.join(tls_build, "chanwired")
    missing = None
    if not shutil.which("openssl"):
        missing = "apt-get install openssl"
    elif not os.access(daemon, os.X_OK):
        missing = "no TLS build at %s (apt-get install libmbedtls-dev; make bench builds it)" % (
            os.path.relpath(tls_build, ROOT))
    cert = key = None
    if not missing:
        try:
            cert, key = make_cert(out, kind)
        except RuntimeError as e:
            missing = str(e)
    return Peer("chanwired-tls",
                lambda port: [daemon, "--listen-tls", "127.0.0.1:%d" % port, "--tls-cert", cert,
                              "--tls-key", key, "--no-control", "--ping-interval", "0",
                              "--log-level", "warn", "--allow-root"],
                missing=missing)


def tls_offered(args, peer, versions):
    """Starts the TLS peer once and probes each version: {version: cipher or None}."""
    port = free_port()
    with tempfile.TemporaryFile() as logf:
        proc = subprocess.Popen(peer.argv_fn(port), cwd=ROOT, stdin=subprocess.DEVNULL,
                                stdout=logf, stderr=subprocess.STDOUT)
        try:
            if not wait_port(port, proc, 30):
                logf.seek(0)
                raise RuntimeError("the TLS daemon did not start: " +
                                   logf.read().decode(errors="replace")[-300:])
            return {v: tls_churn.probe("127.0.0.1", port, v) for v in versions}
        finally:
            stop(proc)


def wait_port(port, proc, timeout):
    t_end = time.time() + timeout
    while time.time() < t_end:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def stop(proc):
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def run_one(args, peer, scenario, extra):
    """Starts the peer, runs the generator once, stops the peer; returns
    the generator's JSON result (with "ok": 0 and "error" on failure)."""
    port = free_port()
    env = dict(os.environ)
    env.update(peer.env or {})
    rt = ["chrt", "-r", str(args.rt_prio)] if args.rt else []
    pin_srv = rt + (["taskset", "-c", str(args.server_cpu)] if args.pin else [])
    pin_gen = rt + (["taskset", "-c", str(args.gen_cpu)] if args.pin else [])
    logf = open(os.path.join(args.out, "server-%s.log" % peer.name), "ab")
    proc = subprocess.Popen(pin_srv + peer.argv_fn(port), cwd=peer.cwd or ROOT, env=env,
                            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                            preexec_fn=raise_nofile)
    try:
        if not wait_port(port, proc, 30):
            return {"ok": 0, "error": "%s did not start (see %s)" % (peer.name, logf.name),
                    "scenario": scenario, "server": peer.name}
        time.sleep(0.2)
        perf = None
        if args.perf:
            pdata = os.path.join(args.out, "perf-%s-%s.data" % (scenario, peer.name))
            perf = subprocess.Popen(["perf", "record", "-q", "-F", "999", "-g", "-o", pdata,
                                     "-p", str(proc.pid)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            log("  perf record of %s on %s: perf report -i %s --no-children" % (
                peer.name, scenario, os.path.relpath(pdata)))
        argv = pin_gen + extra.get("gen", [args.gen]) + ["--port", str(port), "--scenario", scenario,
                          "--server-pid", str(proc.pid), "--label", peer.name,
                          "--duration", str(extra.get("duration", args.duration)),
                          "--warmup", str(extra.get("warmup", args.warmup))] + extra.get("args", [])
        try:
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=extra.get("timeout", 300), preexec_fn=raise_nofile)
        except subprocess.TimeoutExpired:
            return {"ok": 0, "error": "generator timed out", "scenario": scenario,
                    "server": peer.name}
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=60)
        line = p.stdout.decode().strip().splitlines()
        try:
            res = json.loads(line[-1])
        except (IndexError, ValueError):
            return {"ok": 0, "error": "generator: " + p.stderr.decode()[-300:],
                    "scenario": scenario, "server": peer.name}
        if proc.poll() is not None:
            res["ok"] = 0
            res["error"] = "%s exited during the run (status %s)" % (peer.name, proc.returncode)
        return res
    finally:
        stop(proc)
        logf.close()


def noise_of(r):
    procs = max(0.0, r.get("other_procs_cpu") or 0.0)
    steal = max(0.0, r.get("steal_cpu") or 0.0)
    resid = max(0.0, r.get("other_cpu") or 0.0)
    return max(procs + steal, resid)


def med(vals):
    vals = [v for v in vals if v is not None and v >= 0]
    return statistics.median(vals) if vals else None


def fmt_num(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1e6:
        return "%.2fM" % (v / 1e6)
    if a >= 1e4:
        return "%.0fk" % (v / 1e3)
    if a >= 1e3:
        return "%.1fk" % (v / 1e3)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    return "%.2f" % v


def fmt_ms(us):
    if us is None:
        return "-"
    ms = us / 1000.0
    return "%.3g" % ms if ms < 100 else "%.0f" % ms


# metric rows per scenario: (label, key, higher_is_better)
ECHO_ROWS = [("msg/s", "rate", True), ("msg per server CPU-s", "per_srv_cpu_s", True),
             ("latency p50 / p99 / p99.9 ms", "lat", None)]
FAN_ROWS = [("deliveries/s", "rate", True), ("deliveries per server CPU-s", "per_srv_cpu_s", True),
            ("latency p50 / p99 / p99.9 ms", "lat", None)]
ROWS = {
    "echo": ECHO_ROWS, "echo_pipe": ECHO_ROWS, "echo_large": ECHO_ROWS,
    "fanout_1k": FAN_ROWS, "fanout_10p": FAN_ROWS,
    "idle_10k": [("server RSS KiB per idle conn", "rss_per_conn_kib", False),
                 ("handshakes/s while opening", "rate", True)],
    "churn": [("handshakes/s", "rate", True), ("handshakes per server CPU-s", "per_srv_cpu_s", True),
              ("connect+handshake p50 / p99 / p99.9 ms", "lat", None)],
    "tls_churn": [("TLS handshakes/s", "rate", True),
                  ("TLS handshakes per server CPU-s", "per_srv_cpu_s", True)],
}


def rows_of(sc):
    """A table scenario is a scenario or scenario/variant (tls_churn/1.2)."""
    return ROWS[sc.split("/")[0]]


def sc_title(sc):
    base, _, variant = sc.partition("/")
    return "%s TLS %s" % (base, variant) if variant else sc


def summarize(runs):
    """Median of the clean runs of one (scenario, peer), or of all if none is clean."""
    ok = [r for r in runs if r.get("ok")]
    clean = [r for r in ok if not r.get("noisy")]
    use = clean or ok
    if not use:
        return {"ok": 0, "error": runs[-1].get("error") if runs else "no run"}
    s = {"ok": 1, "rounds": len(use), "noisy": not clean}
    for k in ("rate", "per_srv_cpu_s", "lat_p50_us", "lat_p99_us", "lat_p999_us",
              "rss_per_conn_kib", "srv_cpu_util", "gen_cpu_util", "conns", "count", "window_s"):
        s[k] = med([r.get(k) for r in use])
    s["gen_bound"] = (s["gen_cpu_util"] or 0) > 0.9
    s["noise"] = med([noise_of(r) for r in use])
    return s


def table(summary, scenarios, peers, notes, noise_max):
    out = []
    head = ["scenario", "metric"] + [PEER_TITLE[p] for p in peers]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for sc in scenarios:
        first = True
        for label, key, better in rows_of(sc):
            cells = [sc_title(sc) if first else "", label]
            first = False
            base = summary.get((sc, "chanwired"), {})
            for p in peers:
                s = summary.get((sc, p))
                if not s:
                    cells.append("n/a")
                    continue
                if not s.get("ok"):
                    cells.append("failed")
                    continue
                if key == "lat":
                    cell = "%s / %s / %s" % (fmt_ms(s["lat_p50_us"]), fmt_ms(s["lat_p99_us"]),
                                             fmt_ms(s["lat_p999_us"]))
                else:
                    v = s.get(key)
                    cell = fmt_num(v)
                    b = base.get(key) if base.get("ok") else None
                    if p != "chanwired" and v and b:
                        ratio = b / v if better else v / b
                        cell += " (%.3gx)" % ratio
                marks = ""
                if s.get("noisy"):
                    marks += "*"
                if s.get("gen_bound") and key == "rate":
                    marks += "†"
                cells.append(cell + marks)
            out.append("| " + " | ".join(cells) + " |")
    out.append("")
    out.append("(Nx): how many times chanwired is better than that peer in this run (higher "
               "throughput, or lower RSS). * other processes used more than %.2f of a core during "
               "every round of that cell (at SCHED_RR they get only the time the server and the "
               "generator leave idle; without it they delay their wake-ups). † the generator's core "
               "was saturated (>90%%): that rate is the generator's limit, compare per server "
               "CPU-s." % noise_max)
    for n in notes:
        out.append(n)
    return "\n".join(out)


TARGETS = [
    # (text, scenario, key, peer, needed ratio (chanwired better by), kind)
    ("echo_pipe msg/s >= 10x libwebsockets", "echo_pipe", "rate", "lws", 10, "ratio"),
    ("echo_pipe msg per server CPU-s >= 10x libwebsockets", "echo_pipe", "per_srv_cpu_s", "lws", 10, "ratio"),
    ("fanout_1k deliveries/s >= 10x libwebsockets", "fanout_1k", "rate", "lws", 10, "ratio"),
    ("fanout_1k deliveries per server CPU-s >= 10x libwebsockets", "fanout_1k", "per_srv_cpu_s", "lws", 10, "ratio"),
    ("echo_large msg/s >= 5x libwebsockets", "echo_large", "rate", "lws", 5, "ratio"),
    ("echo_large msg per server CPU-s >= 5x libwebsockets", "echo_large", "per_srv_cpu_s", "lws", 5, "ratio"),
    ("idle_10k <= 0.25 KiB RSS per idle connection", "idle_10k", "rss_per_conn_kib", None, 0.25, "max"),
    ("churn handshakes per server CPU-s >= 1.5x libwebsockets", "churn", "per_srv_cpu_s", "lws", 1.5, "ratio"),
]


def targets(summary, scenarios, peers):
    lines = []
    for text, sc, key, peer, need, kind in TARGETS:
        if sc not in scenarios:
            continue
        cw = summary.get((sc, "chanwired"), {})
        if kind == "max":
            v = cw.get(key) if cw.get("ok") else None
            if v is None:
                continue
            lines.append("- %s: %s (%.3g)" % (text, "met" if v <= need else "NOT met", v))
            continue
        if peer not in peers:
            continue
        pv = summary.get((sc, peer), {})
        if not (cw.get("ok") and pv.get("ok") and cw.get(key) and pv.get(key)):
            continue
        r = cw[key] / pv[key]
        lines.append("- %s: %s (%.3gx)" % (text, "met" if r >= need else "NOT met", r))
    if "daphne" in peers:
        worst = None
        for sc in scenarios:
            for _, key, better in rows_of(sc):
                if key == "lat":
                    continue
                cw, dp = summary.get((sc, "chanwired"), {}), summary.get((sc, "daphne"), {})
                if cw.get("ok") and dp.get("ok") and cw.get(key) and dp.get(key):
                    r = cw[key] / dp[key] if better else dp[key] / cw[key]
                    if worst is None or r < worst[0]:
                        worst = (r, sc, key)
        if worst:
            lines.append("- >= 50x Channels/daphne in every scenario: %s (lowest %.3gx: %s %s)" % (
                "met" if worst[0] >= 50 else "NOT met", worst[0], worst[1], worst[2]))
    return lines


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores, Linux %s" % (model, os.cpu_count() or 0, platform.release())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build/host")
    ap.add_argument("--out", default=None, help="results folder (default <build>/../bench)")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--daphne-rounds", type=int, default=1)
    ap.add_argument("--duration", type=float, default=3.0, help="seconds measured per run")
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--quick", action="store_true",
                    help="1 round, 1 s runs, idle with 2000 connections")
    ap.add_argument("--retries", type=int, default=None,
                    help="extra tries of a noisy run (default 2; 0 with SCHED_RR, where other "
                         "processes only get the time our two leave idle)")
    ap.add_argument("--noise-max", type=float, default=0.10,
                    help="CPU (in cores) other processes may use during a run before it is "
                         "flagged noisy")
    ap.add_argument("--no-pin", dest="pin", action="store_false")
    ap.add_argument("--no-rt", dest="rt", action="store_false",
                    help="run server and generator with the normal scheduler (default as root: "
                         "SCHED_RR, so background jobs on a shared machine cannot hold back "
                         "their wake-ups)")
    ap.add_argument("--rt-prio", type=int, default=10)
    ap.add_argument("--server-cpu", type=int, default=1)
    ap.add_argument("--gen-cpu", type=int, default=0)
    ap.add_argument("--gen-args", default="", help="extra cwbench arguments for every run")
    ap.add_argument("--perf", action="store_true",
                    help="perf record -g each server during its run (into --out)")
    ap.add_argument("--tls-build", default=None,
                    help="tls_churn: the CONFIG_TLS build whose chanwired serves TLS "
                         "(default <build>/../host-tls)")
    ap.add_argument("--tls-versions", default="1.2,1.3",
                    help="tls_churn: protocol versions to measure, each reported apart; one the "
                         "build does not offer is noted and skipped")
    ap.add_argument("--tls-parallel", type=int, default=4,
                    help="tls_churn: openssl s_time processes at once")
    ap.add_argument("--tls-key", choices=["ec", "rsa"], default="ec",
                    help="tls_churn: certificate key, ECDSA P-256 (default) or RSA 2048")
    args = ap.parse_args()

    build = os.path.abspath(os.path.join(ROOT, args.build) if not os.path.isabs(args.build) else args.build)
    args.gen = os.path.join(build, "bench", "cwbench")
    if not os.access(args.gen, os.X_OK):
        log("run.py: no generator at %s (make bench builds it)" % args.gen)
        return 2
    args.out = os.path.abspath(args.out or os.path.join(os.path.dirname(build), "bench"))
    os.makedirs(args.out, exist_ok=True)
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 1.0, 0.5
    if args.pin and (os.cpu_count() or 1) < 2:
        log("run.py: fewer than 2 cores: not pinning")
        args.pin = False
    if args.rt and (os.geteuid() != 0 or not shutil.which("chrt")):
        args.rt = False  # needs root (CAP_SYS_NICE) and util-linux
    if args.retries is None:
        args.retries = 0 if args.rt else 2
    if args.pin and not shutil.which("taskset"):
        log("run.py: no taskset (util-linux): not pinning")
        args.pin = False
    scenarios = [s for s in args.scenarios.split(",") if s]
    for s in scenarios:
        if s not in SCENARIOS:
            log("run.py: unknown scenario %s (one of %s)" % (s, ", ".join(SCENARIOS)))
            return 2
    all_peers = make_peers(build)
    peers, notes = [], []
    for p in [p for p in args.peers.split(",") if p]:
        if p not in all_peers:
            log("run.py: unknown peer %s (one of %s)" % (p, ", ".join(PEERS)))
            return 2
        if all_peers[p].missing:
            log("run.py: skipping %s: %s" % (p, all_peers[p].missing))
            notes.append("%s not measured: %s." % (PEER_TITLE[p], all_peers[p].missing))
            continue
        peers.append(p)

    # tls_churn: chanwired's TLS build only, one table scenario per offered version
    table_scenarios, tls_peer, tls_versions = [], None, []
    for sc in scenarios:
        if sc not in TLS_SCENARIOS:
            table_scenarios.append(sc)
            continue
        if "chanwired" not in peers:
            continue
        tls_build = os.path.abspath(args.tls_build or os.path.join(os.path.dirname(build), "host-tls"))
        tls_peer = make_tls_peer(tls_build, args.out, args.tls_key)
        if tls_peer.missing:
            log("run.py: skipping %s: %s" % (sc, tls_peer.missing))
            notes.append("%s not measured: %s." % (sc, tls_peer.missing))
            tls_peer = None
            continue
        try:
            offered = tls_offered(args, tls_peer, [v for v in args.tls_versions.split(",") if v])
        except (RuntimeError, KeyError) as e:
            log("run.py: skipping %s: %s" % (sc, e))
            notes.append("%s not measured: %s." % (sc, e))
            tls_peer = None
            continue
        for v, cipher in offered.items():
            if cipher:
                tls_versions.append(v)
                table_scenarios.append("%s/%s" % (sc, v))
            else:
                log("run.py: %s: TLS %s not offered by %s" % (sc, v, os.path.relpath(tls_build, ROOT)))
                notes.append("%s TLS %s: not offered by the TLS build's mbedTLS (%s; Debian 12's "
                             "2.28 has no TLS 1.3: build against 3.x with MBEDTLS_INCDIR/"
                             "MBEDTLS_LIBDIR and pass --tls-build)." % (
                                 sc, v, os.path.relpath(tls_build, ROOT)))
        if tls_versions:
            notes.append("%s: chanwired only (the peers here serve no TLS); full handshakes, no "
                         "resumption, %s certificate, %d `openssl s_time -new` at once (%s); no "
                         "WebSocket upgrade." % (
                             sc, "ECDSA P-256" if args.tls_key == "ec" else "RSA 2048",
                             args.tls_parallel, ", ".join("TLS %s: %s" % (v, offered[v])
                                                          for v in tls_versions)))

    stamp = time.strftime("%Y%m%d-%H%M%S")
    jpath = os.path.join(args.out, "results-%s.jsonl" % stamp)
    jf = open(jpath, "w")
    started = time.time()
    log("bench: %s; scenarios %s; peers %s; %d rounds (daphne %d) of %.1f s + %.1f s warm-up; %s" % (
        machine(), ",".join(scenarios), ",".join(peers), args.rounds,
        min(args.rounds, args.daphne_rounds), args.duration, args.warmup,
        ("server on cpu %d, generator on cpu %d" % (args.server_cpu, args.gen_cpu) if args.pin
         else "not pinned") + (", SCHED_RR %d" % args.rt_prio if args.rt else "")))
    runs = {}
    failures = 0
    for rnd in range(args.rounds):
        order = peers[rnd % len(peers):] + peers[:rnd % len(peers)] if peers else []
        for sc in table_scenarios:
            base, _, variant = sc.partition("/")
            for p in order:
                if p == "daphne" and rnd >= args.daphne_rounds:
                    continue
                peer = all_peers[p]
                extra = {"args": args.gen_args.split()}
                if base in TLS_SCENARIOS:
                    if p != "chanwired":
                        continue
                    peer = tls_peer
                    extra = {"gen": [sys.executable, os.path.join(HERE, "tls_churn.py")],
                             "args": ["--tls", variant, "--parallel", str(args.tls_parallel)],
                             "timeout": 120 + 3 * (args.duration + args.warmup)}
                if args.quick and sc in QUICK_OVERRIDES:
                    extra["args"] = extra["args"] + QUICK_OVERRIDES[sc]
                if p == "daphne":
                    extra["args"] = extra["args"] + DAPHNE_OVERRIDES.get(sc, [])
                    extra["timeout"] = 600
                for attempt in range(1 + args.retries):
                    r = run_one(args, peer, base, extra)
                    r["round"], r["attempt"] = rnd, attempt
                    r["noise"] = round(noise_of(r), 3) if r.get("ok") else None
                    r["noisy"] = bool(r.get("ok")) and r["noise"] > args.noise_max
                    jf.write(json.dumps(dict(r, type="run")) + "\n")
                    jf.flush()
                    runs.setdefault((sc, p), []).append(r)
                    if not r.get("ok"):
                        failures += 1
                        log("  round %d %-10s %-9s FAILED: %s" % (rnd + 1, sc, p, r.get("error")))
                        break
                    key = "rss_per_conn_kib" if sc == "idle_10k" else "rate"
                    log("  round %d %-10s %-9s %s %s (server CPU %.0f%%, generator %.0f%%, other %.2f cores)%s" % (
                        rnd + 1, sc, p, fmt_num(r.get(key)),
                        "KiB/conn" if sc == "idle_10k" else "/s",
                        100 * (r.get("srv_cpu_util") or 0), 100 * (r.get("gen_cpu_util") or 0),
                        r["noise"], " NOISY" if r["noisy"] else ""))
                    if not r["noisy"]:
                        break

    summary = {k: summarize(v) for k, v in runs.items()}
    for (sc, p), s in sorted(summary.items()):
        base, _, variant = sc.partition("/")
        jf.write(json.dumps(dict(s, type="summary", scenario=base, server=p,
                                 **({"tls_version": variant} if variant else {}))) + "\n")
    if "daphne" in peers:
        notes.append("Channels/daphne: %d round(s)%s." % (
            min(args.rounds, args.daphne_rounds),
            "; idle_10k with %s connections" % DAPHNE_OVERRIDES["idle_10k"][1]
            if "idle_10k" in scenarios else ""))
    if args.quick:
        notes.append("Quick mode: 1 round of %.0f s per cell; idle_10k with 2000 connections." % args.duration)
    md = table(summary, table_scenarios, peers, notes, args.noise_max)
    tl = targets(summary, table_scenarios, peers)
    cmd = "tests/bench/run.py " + " ".join(sys.argv[1:])
    header = "`%s` on %s, %s; %d round(s) of %.0f s (+%.1f s warm-up), server and generator %s%s; %.0f s in all." % (
        cmd.strip(), time.strftime("%Y-%m-%d"), machine(), args.rounds, args.duration, args.warmup,
        "pinned to one core each" if args.pin else "not pinned",
        " at SCHED_RR priority %d" % args.rt_prio if args.rt else "", time.time() - started)
    text = header + "\n\n" + md + ("\n\nTargets (issue 6), from this run:\n" + "\n".join(tl) if tl else "") + "\n"
    jf.write(json.dumps({"type": "meta", "command": cmd, "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                         "machine": machine(), "rounds": args.rounds, "duration": args.duration,
                         "pinned": args.pin, "rt": args.rt, "failures": failures}) + "\n")
    jf.close()
    mpath = jpath[:-len(".jsonl")] + ".md"
    with open(mpath, "w") as f:
        f.write(text)
    for src, name in ((jpath, "latest.jsonl"), (mpath, "latest.md")):
        shutil.copyfile(src, os.path.join(args.out, name))
    print(text)
    log("bench: results in %s and %s" % (os.path.relpath(jpath, ROOT), os.path.relpath(mpath, ROOT)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
