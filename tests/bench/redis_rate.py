#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""redis_rate.py: group sends per second through Redis between two chanwired
instances (the Redis channel layer; a build with CONFIG_LAYER_REDIS, e.g.
board host-redis), measured the way a chat room uses it.

A publisher WebSocket on instance A sends chat messages {"message": ...} to
/ws/chat/bench/ as fast as a window of messages in flight allows; every
message is one cw_group_send on A, one PUBLISH to redis-server, one message
pushed to instance B and one fan-out there to --members subscribers on B
(the publisher, a member too, gets its copy from A locally). Counted over
the measuring window: the group sends that reached B; after it, every subscriber must
have received exactly the bytes of every message sent (a run that loses or
repeats one fails).
--local puts the subscribers on A with no Redis at all, for comparison.
--layer core|pubsub picks the channels_redis layer both daemons speak
(default core, as chanwired's). --channel measures channel sends instead:
the publisher on A sends each message to the channel name of one
/ws/channel/ client on B (cw_channel_send, channel_layer.send).

  python3 tests/bench/redis_rate.py --build build/host-redis
  python3 tests/bench/redis_rate.py --build /tmp/b/host-redis --members 100 --seconds 5

Needs redis-server. Prints one line and a JSON line; never fails on time,
only on lost or repeated messages."""

import argparse
import base64
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))


VERBOSE = False


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_redis(port, tmp):
    p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", tmp, "--loglevel", "warning"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if p.poll() is not None:
            break
        try:
            # a PONG: ours, not whatever else took the port meanwhile
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return p
        except OSError:
            time.sleep(0.02)
    p.kill()
    raise RuntimeError("redis-server did not start on port %d" % port)


LAYER = "core"


def start_chanwired(binary, redis_port):
    port = free_port()
    argv = [binary, "--listen", "127.0.0.1:%d" % port, "--no-control", "--log-level", "warn"]
    if LAYER == "core":
        # the bench keeps up to --window messages in flight: a capacity of 100
        # (Django's default) would drop the excess, as ChannelFull does
        argv += ["--redis-capacity", "1000000"]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    if redis_port:
        argv += ["--redis", "127.0.0.1:%d" % redis_port, "--redis-layer", LAYER]
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=None if VERBOSE else subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p, port
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("chanwired did not start")


def ws_connect(port, path):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (path, port, key)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(4096)
        if not b:
            raise RuntimeError("handshake refused")
        head += b
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError("handshake: %r" % head[:80])
    rest = head.split(b"\r\n\r\n", 1)[1]
    s.setblocking(False)
    return s, rest


def masked_text_frame(payload):
    # client frames are masked; a zero mask keeps the bytes as they are
    n = len(payload)
    if n < 126:
        return bytes([0x81, 0x80 | n, 0, 0, 0, 0]) + payload
    return bytes([0x81, 0x80 | 126, n >> 8, n & 255, 0, 0, 0, 0]) + payload


def recv_frame(s, rest):
    """One short unmasked text frame from a blocking socket (set-up only)."""
    buf = bytearray(rest)
    while len(buf) < 2 or len(buf) < 2 + (buf[1] & 127):
        b = s.recv(4096)
        if not b:
            raise RuntimeError("closed")
        buf += b
    n = buf[1] & 127
    assert n < 126 and len(buf) == 2 + n, buf
    return bytes(buf[2:2 + n])


def run(args, members_on_a):
    tmp = tempfile.mkdtemp(prefix="cw-redis-bench-")
    procs = []
    subs, pub = [], None
    try:
        rport = 0
        if not args.local:
            rport = free_port()
            procs.append(start_redis(rport, tmp))
        a, aport = start_chanwired(args.daemon, rport)
        procs.append(a)
        bport = aport
        if not args.local:
            b, bport = start_chanwired(args.daemon, rport)
            procs.append(b)
        if rport:  # both daemons connected and subscribed once members join
            time.sleep(0.3)
        subs = []
        width = max(8, args.size)
        path = "/ws/channel/" if args.channel else "/ws/chat/bench/"
        for _ in range(1 if args.channel else args.members):
            s, sub_rest = ws_connect(aport if members_on_a else bport, path)
            subs.append([s, len(sub_rest), 0])  # socket, bytes so far, bytes checked
        pub, rest = ws_connect(aport, path)
        time.sleep(0.5 if rport else 0.1)  # the SUBSCRIBEs are in place
        if args.channel:
            # its name ({"channel": NAME}), then one message to learn the frame size
            subs[0][0].setblocking(True)
            first = recv_frame(subs[0][0], sub_rest)
            target = json.loads(first)["channel"]
            pub.setblocking(True)
            recv_frame(pub, rest)  # the publisher's own name
            def body(i):
                return json.dumps({"to": target, "type": "bench.msg",
                                   "body": {"message": "%0*d" % (width, i % 10 ** width)}})
            pub.sendall(masked_text_frame(body(0).encode()))
            frame_in = 2 + len(recv_frame(subs[0][0], b""))
            recv_frame(pub, b"")  # {"sent": N}
            subs[0][0].setblocking(False)
            pub.setblocking(False)
            subs[0][1] = 0
            rest = b""
            frames = [masked_text_frame(body(i).encode()) for i in range(1000)]
        else:
            body_len = len(json.dumps({"message": "0" * width}, separators=(",", ":")))
            frame_in = 2 + body_len  # the server's unmasked frame
            frames = [masked_text_frame(json.dumps({"message": "%0*d" % (width, i % 10 ** width)})
                                        .encode()) for i in range(1000)]
        sel = selectors.DefaultSelector()
        sel.register(pub, selectors.EVENT_READ, "pub")
        for i, sub in enumerate(subs):
            sel.register(sub[0], selectors.EVENT_READ, i)
        sent = 0
        pub_in = len(rest)
        out = b""
        t0 = time.time()
        t_measure0 = t0 + args.warmup
        t_end = t_measure0 + args.seconds
        at0 = None
        buf = bytearray(1 << 20)
        while True:
            now = time.time()
            if at0 is None and now >= t_measure0:
                at0 = (min(s[1] for s in subs) // frame_in, now)
            if now >= t_end:
                break
            slowest = min(s[1] for s in subs) // frame_in
            want = min(sent + 256, slowest + args.window) - sent
            if want > 0 and not out:
                out = b"".join(frames[(sent + k) % 1000] for k in range(want))
                sent += want
            if out:
                try:
                    n = pub.send(out)
                    out = out[n:]
                except BlockingIOError:
                    pass
            for key, _ in sel.select(0.001 if out else 0.01):
                if key.data == "pub":
                    n = key.fileobj.recv_into(buf)  # its own copies: drained, counted
                    pub_in += n
                    continue
                sub = subs[key.data]
                n = key.fileobj.recv_into(buf)
                if n <= 0:
                    raise RuntimeError("a subscriber was closed")
                sub[1] += n
        t_meas = time.time()
        delivered = min(s[1] for s in subs) // frame_in - at0[0]
        elapsed = t_meas - at0[1]
        # drain: every subscriber gets every message, once
        deadline = time.time() + 10
        while min(s[1] for s in subs) < sent * frame_in and time.time() < deadline:
            for key, _ in sel.select(0.05):
                n = key.fileobj.recv_into(buf)
                if key.data != "pub":
                    subs[key.data][1] += n
        ok = all(s[1] == sent * frame_in for s in subs)
        rate = delivered / elapsed
        return {"mode": "local" if args.local else "redis", "layer": None if args.local else LAYER,
                "what": "channel" if args.channel else "group", "members": len(subs),
                "size": width, "window": args.window, "seconds": round(elapsed, 2),
                "group_sends": delivered, "group_sends_per_s": round(rate),
                "deliveries_per_s": round(rate * args.members), "sent": sent, "exact": ok}
    finally:
        for s in [x[0] for x in subs] + ([pub] if pub else []):
            s.close()  # before the daemons stop: their shutdown need not wait for us
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "host-redis"))
    ap.add_argument("--members", type=int, default=1, help="subscribers on instance B")
    ap.add_argument("--size", type=int, default=16, help="characters of each message")
    ap.add_argument("--window", type=int, default=2000, help="messages in flight at most")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--local", action="store_true", help="subscribers on A, no Redis")
    ap.add_argument("--layer", choices=("core", "pubsub"), default="core")
    ap.add_argument("--channel", action="store_true", help="channel sends to one client on B")
    ap.add_argument("-v", "--verbose", action="store_true", help="show the daemons' warnings")
    args = ap.parse_args()
    global VERBOSE, LAYER
    VERBOSE = args.verbose
    LAYER = args.layer
    args.daemon = os.path.join(args.build, "chanwired")
    if not os.path.exists(args.daemon):
        sys.exit("no %s: build it (make BOARD=host-redis)" % args.daemon)
    if not args.local and not shutil.which("redis-server"):
        sys.exit("redis-server not installed (apt-get install redis-server)")
    r = run(args, members_on_a=args.local)
    print("%s: %d %s sends/s (%d deliveries/s to %d member(s) on %s), %d-char messages, "
          "window %d, %.1f s%s" % (
              "A -> Redis (%s) -> B" % r["layer"] if r["mode"] == "redis" else "A only, no Redis",
              r["group_sends_per_s"], r["what"], r["deliveries_per_s"], r["members"],
              "B" if r["mode"] == "redis" else "A", r["size"], r["window"], r["seconds"],
              "" if r["exact"] else "  ** LOST OR EXTRA MESSAGES **"))
    print(json.dumps(r))
    return 0 if r["exact"] else 1


if __name__ == "__main__":
    sys.exit(main())
