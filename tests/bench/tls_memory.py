#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tls_memory: memory per open TLS session (the arena's use, from the
control socket's stats, divided by the sessions open), the arena's peak for
one handshake, and sequential full handshakes per second. A measurement,
never a pass or fail: `make bench` prints it (docs/tls.md has the table).

    tests/bench/tls_memory.py --build build/host-tls

The helpers are test_tls's (tests/integration/tls): the same daemon set-up,
certificates and clients as the TLS suite."""

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "host-tls"))
    ap.add_argument("--sessions", type=int, default=16)
    ap.add_argument("--handshakes", type=int, default=40)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    os.environ["CW_BUILD"] = build
    os.environ["CW_DAEMON"] = os.path.join(build, "chanwired")
    sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration", "tls"))
    import test_tls as t  # noqa: E402 - after the paths and the build are set

    d = t.start()
    try:
        idle = t.stats(d)["arena_used"]
        n = args.sessions
        conns = [t.ws_open(d.tls_port)]
        peak = t.stats(d)["arena_high"] - idle  # one handshake, nothing else open
        conns += [t.ws_open(d.tls_port) for _ in range(n - 1)]
        st = t.stats(d)
        per = (st["arena_used"] - idle) / n
        print("tls_memory: per TLS session %.0f bytes (arena use with %d sessions open %d, idle %d); "
              "one handshake peaks at %d bytes; arena %d bytes" % (
                  per, n, st["arena_used"], idle, peak, st["arena_size"]))
        for c in conns:
            t.close_ws(c)
        t.wait_stats(d, lambda s: s["tls_sessions"] == 0 and s["arena_used"] == idle, "idle")
        for label, curve in (("client's default groups", None), ("client offering P-256 only", "prime256v1")):
            context = t.ctx()
            if curve:
                context.set_ecdh_curve(curve)
            t0 = time.time()
            for _ in range(args.handshakes):
                t.tls_handshake(d.tls_port, context).close()
            dt = time.time() - t0
            print("tls_memory: %d sequential full handshakes (ECDSA P-256 certificate, %s): "
                  "%.2f s, %.1f/s" % (args.handshakes, label, dt, args.handshakes / dt))
    finally:
        t.stop_ok(d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
