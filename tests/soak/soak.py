#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""soak.py: hours of a busy day in a few minutes (make soak).

Hundreds of clients churn against one chanwired: connect, join a chat room,
talk, listen, leave (a clean close, a bare FIN or a reset), come back in
another room; some echo large binary messages; the control socket
broadcasts into rooms now and then. Every few seconds the daemon's RSS and
pool counters are sampled. It passes only when

  - RSS is flat after the warm-up (it grows by no more than --rss-slack),
  - every pool returns to its idle use once the clients are gone,
  - no client saw a wrong, corrupt, duplicated, reordered or missing
    message: a member that joined (got its 101) before a message was sent
    and left (sent its close) after the sender had its own copy back must
    have received it, in the sender's order,
  - the daemon counted no protocol error, pool exhaustion or queue overflow
    (these clients are well behaved), and exits 0 on SIGTERM.

  tests/soak/soak.py --daemon build/host/chanwired [--seconds 600] [--clients 300]

Standard library only (asyncio). Prints its figures and one PASS/FAIL line.
"""

import argparse
import asyncio
import base64
import bisect
import collections
import hashlib
import json
import os
import random
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SOURCES = 8   # client source addresses 127.0.0.1..8


def mask_frame(op, payload, fin=True):
    n = len(payload)
    h = bytearray([(0x80 if fin else 0) | op])
    if n < 126:
        h.append(0x80 | n)
    elif n < 65536:
        h.append(0x80 | 126)
        h += struct.pack(">H", n)
    else:
        h.append(0x80 | 127)
        h += struct.pack(">Q", n)
    key = os.urandom(4)
    h += key
    if n:
        k = (key * (n // 4 + 1))[:n]
        payload = (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")
    return bytes(h) + payload


class Daemon:
    def __init__(self, binary, extra, tmp):
        self.ctl = os.path.join(tmp, "ctl.sock")
        import shlex
        self.prefix = shlex.split(os.environ.get("CW_EXEC_PREFIX", ""))
        argv = self.prefix + [binary, "--listen", "127.0.0.1:0", "--control", self.ctl,
                              "--log-level", "info",
                              "--ping-interval", "5000", "--pong-timeout", "5000"]
        if os.geteuid() == 0:
            argv.append("--allow-root")
        argv += extra
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.tail = collections.deque(maxlen=200)
        self.port = None
        ready = threading.Event()

        def read():
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace")
                self.tail.append(line)
                m = re.search(r"listening on \S+ \(port (\d+)\)", line)
                if m and self.port is None:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(10) or self.port is None:
            self.proc.kill()
            raise RuntimeError("daemon did not start:\n" + "".join(self.tail))

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def stats(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(self.ctl)
        s.sendall(b"stats\n")
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
        s.close()
        st = {"pools": {}}
        for line in out.decode().splitlines():
            f = line.split()
            if f and f[0] == "pool":
                used, limit = f[2].split("/")
                st["pools"][f[1]] = (int(used), int(limit), int(f[4]), int(f[6]))
            elif len(f) == 2 and f[1].isdigit():
                st[f[0]] = int(f[1])
        return st

    def log_tail(self):
        return "".join(list(self.tail)[-40:])


class Ledger:
    """What was said in each room and who was there to hear it."""

    def __init__(self):
        self.sent = collections.defaultdict(list)   # room -> [(t_send, msg_id)]
        self.echo = {}                               # msg_id -> t the sender got it back
        self.room_of = {}                            # msg_id -> room
        self.problems = []
        self.checked = 0                             # deliveries proven
        self.sessions_checked = 0

    def problem(self, what):
        if len(self.problems) < 20:
            self.problems.append(what)

    def check_session(self, room, join_t, leave_t, got):
        """got: msg ids in arrival order. Missing: said after we joined and
        back at its sender before we left; order: each sender's in order."""
        seen = set()
        last = {}
        for mid in got:
            if mid in seen:
                self.problem("duplicate %s in %s" % (mid, room))
            seen.add(mid)
            if self.room_of.get(mid) != room:
                self.problem("%s heard in %s, said in %s" % (mid, room, self.room_of.get(mid)))
            sender, seq = mid.rsplit(".", 1)
            if int(seq) <= last.get(sender, -1):
                self.problem("%s after seq %d of %s in %s" % (mid, last[sender], sender, room))
            last[sender] = int(seq)
        log = self.sent[room]
        i = bisect.bisect_right(log, (join_t, "\uffff"))
        for t_send, mid in log[i:]:
            if t_send >= leave_t:
                break
            t_echo = self.echo.get(mid)
            if t_echo is None or t_echo >= leave_t:
                continue
            if mid in seen:
                self.checked += 1
            else:
                self.problem("%s missing at a member of %s (joined %.3f, left %.3f, sent %.3f, "
                             "echoed %.3f)" % (mid, room, join_t, leave_t, t_send, t_echo))
        self.sessions_checked += 1

    def prune(self, before):
        for room, log in self.sent.items():
            i = bisect.bisect_left(log, (before, ""))
            for _, mid in log[:i]:
                self.echo.pop(mid, None)
                self.room_of.pop(mid, None)
            del log[:i]


class Soak:
    def __init__(self, args, port, ssl_ctx):
        self.a, self.port, self.ssl = args, port, ssl_ctx
        self.ledger = Ledger()
        self.deadline = 0
        self.counts = collections.Counter()

    def msg_text(self, mid, rnd):
        body = "%s.%s" % (mid, "x" * rnd.randrange(0, 300))
        return "%s.%08x" % (body, zlib.crc32(body.encode()))

    def parse(self, text):
        body, crc = text.rsplit(".", 1)
        if "%08x" % zlib.crc32(body.encode()) != crc:
            self.ledger.problem("corrupt message %r" % text[:60])
            return None
        p = body.split(".")
        return p[0] + "." + p[1]   # "SENDER.SEQ" (SENDER: cCLIENT-SESSION or ctl-0)

    async def open(self, path, cid):
        # Clients come from 127.0.0.1-8, as a device's clients come from
        # many addresses: no one address goes over its fair share.
        r, w = await asyncio.open_connection("127.0.0.1", self.port, ssl=self.ssl,
                                             server_hostname="localhost" if self.ssl else None,
                                             local_addr=("127.0.0.%d" % (1 + cid % SOURCES), 0))
        key = base64.b64encode(os.urandom(16))
        w.write(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path.encode(), key))
        head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 10)
        status = int(head.split(b" ", 2)[1])
        if status == 101:
            acc = base64.b64encode(hashlib.sha1(key + GUID).digest())
            if acc not in head:
                self.ledger.problem("bad Sec-WebSocket-Accept")
        return r, w, status

    async def read_frame(self, r):
        h = await r.readexactly(2)
        n = h[1] & 0x7F
        if n == 126:
            n = struct.unpack(">H", await r.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", await r.readexactly(8))[0]
        return h[0] & 0x80, h[0] & 0x0F, await r.readexactly(n)

    async def chat_session(self, cid, sess, rnd):
        room = "soak%d" % rnd.randrange(self.a.rooms)
        r, w, st = await self.open("/ws/chat/%s/" % room, cid)
        if st != 101:
            self.counts["refused %d" % st] += 1
            w.close()
            return
        join_t = time.monotonic()
        self.counts["sessions"] += 1
        got, me = [], "c%d-%d" % (cid, sess)
        closed = asyncio.Event()
        close_sent = asyncio.Event()

        async def reader():
            try:
                while True:
                    fin, op, p = await self.read_frame(r)
                    if op == 9:
                        w.write(mask_frame(10, p))
                    elif op == 8:
                        if not close_sent.is_set():
                            self.ledger.problem("%s: server closed %r" % (me, p[:2]))
                        closed.set()
                        return
                    elif op == 1:
                        text = p.decode("utf-8")
                        try:
                            msg = json.loads(text)["message"]
                        except (ValueError, KeyError):
                            msg = text  # a control broadcast: raw text
                        mid = self.parse(msg)
                        if mid is None:
                            continue
                        got.append(mid)
                        self.counts["received"] += 1
                        if mid.startswith(me + "."):
                            self.ledger.echo[mid] = time.monotonic()
            except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, OSError):
                closed.set()

        rt = asyncio.create_task(reader())
        seq = 0
        end = min(self.deadline, time.monotonic() + rnd.uniform(1, self.a.session_max))
        while time.monotonic() < end and not closed.is_set():
            mid = "%s.%d" % (me, seq)
            seq += 1
            self.ledger.room_of[mid] = room
            self.ledger.sent[room].append((time.monotonic(), mid))
            w.write(mask_frame(1, json.dumps({"message": self.msg_text(mid, rnd)}).encode()))
            self.counts["sent"] += 1
            await asyncio.sleep(rnd.uniform(0.1, self.a.think))
        how = rnd.random()
        leave_t = time.monotonic()
        if how < 0.7:
            close_sent.set()
            w.write(mask_frame(8, struct.pack(">H", 1000)))
            try:
                await asyncio.wait_for(closed.wait(), 10)
            except asyncio.TimeoutError:
                self.ledger.problem("%s: no close answer in 10 s" % me)
            self.ledger.check_session(room, join_t, leave_t, got)
            self.counts["clean leaves"] += 1
        elif how < 0.85:
            close_sent.set()
            self.counts["FIN leaves"] += 1
        else:
            close_sent.set()
            sock = w.get_extra_info("socket")
            if sock is not None and not self.ssl:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.counts["reset leaves"] += 1
        rt.cancel()
        w.close()

    async def echo_session(self, cid, rnd):
        r, w, st = await self.open("/ws/echo/", cid)
        if st != 101:
            w.close()
            return
        self.counts["echo sessions"] += 1
        for _ in range(rnd.randrange(1, 6)):
            n = min(rnd.choice([10, 5000, 70000, 300000]), self.a.max_echo)
            data = os.urandom(n)
            w.write(mask_frame(2, data))
            while True:
                fin, op, p = await asyncio.wait_for(self.read_frame(r), 20)
                if op == 9:
                    w.write(mask_frame(10, p))
                    continue
                break
            if (op, p) != (2, data):
                self.ledger.problem("echo of %d bytes came back wrong (%d bytes)" % (n, len(p)))
            self.counts["echoes"] += 1
        w.write(mask_frame(8, struct.pack(">H", 1000)))
        try:
            while True:
                fin, op, p = await asyncio.wait_for(self.read_frame(r), 10)
                if op == 8:
                    break
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, OSError):
            pass
        w.close()

    async def client(self, cid):
        rnd = random.Random(self.a.seed * 100003 + cid)
        await asyncio.sleep(rnd.uniform(0, 2))
        sess = 0
        while time.monotonic() < self.deadline:
            try:
                if rnd.random() < 0.08:
                    await self.echo_session(cid, rnd)
                else:
                    await self.chat_session(cid, sess, rnd)
                    sess += 1
            except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError,
                    ssl.SSLError, OSError) as e:
                self.ledger.problem("client %d: %r" % (cid, e))
                await asyncio.sleep(0.5)
            except Exception:  # a bug in the soak itself: say so, do not hang
                import traceback
                self.ledger.problem("client %d: %s" % (cid, traceback.format_exc()))
                return
            await asyncio.sleep(rnd.uniform(0, 0.5))

    async def broadcaster(self, ctl, rnd):
        n = 0
        loop = asyncio.get_running_loop()
        while time.monotonic() < self.deadline - 1:
            await asyncio.sleep(rnd.uniform(0.5, 3))
            room = "soak%d" % rnd.randrange(self.a.rooms)
            mid = "ctl-0.%d" % n
            n += 1
            text = self.msg_text(mid, rnd).encode()
            self.ledger.room_of[mid] = room
            self.ledger.sent[room].append((time.monotonic(), mid))

            def send():
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(5)
                s.connect(ctl)
                s.sendall(b"broadcast chat_%s %d\n%s" % (room.encode(), len(text), text))
                out = s.recv(100)
                s.close()
                return out

            out = await loop.run_in_executor(None, send)
            if not out.startswith(b"ok"):
                self.ledger.problem("control broadcast: %r" % out)
            self.ledger.echo[mid] = time.monotonic()
            self.counts["control broadcasts"] += 1

    async def run(self, d, samples):
        t0 = time.monotonic()
        self.deadline = t0 + self.a.seconds
        tasks = [asyncio.create_task(self.client(i)) for i in range(self.a.clients)]
        tasks.append(asyncio.create_task(self.broadcaster(d.ctl, random.Random(self.a.seed))))
        loop = asyncio.get_running_loop()
        next_sample = t0
        while time.monotonic() < self.deadline:
            if time.monotonic() >= next_sample:
                st = await loop.run_in_executor(None, d.stats)
                samples.append((time.monotonic() - t0, d.rss_kb(), st))
                next_sample += self.a.sample
                self.ledger.prune(time.monotonic() - 2 * self.a.session_max - 30)
            await asyncio.sleep(0.2)
        await asyncio.wait(tasks, timeout=self.a.session_max + 30)
        for t in tasks:
            t.cancel()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--clients", type=int, default=300)
    ap.add_argument("--rooms", type=int, default=0, help="default clients/10")
    ap.add_argument("--think", type=float, default=1.0, help="most seconds between messages")
    ap.add_argument("--session-max", type=float, default=15.0)
    ap.add_argument("--sample", type=float, default=0, help="seconds between samples")
    ap.add_argument("--warmup", type=float, default=0, help="seconds (default 20%%, 10..120)")
    ap.add_argument("--rss-slack", type=int, default=1024, help="KiB RSS may grow after warm-up")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("daemon_args", nargs="*")
    a = ap.parse_args(argv)
    a.rooms = a.rooms or max(2, a.clients // 10)
    a.sample = a.sample or max(1.0, min(5.0, a.seconds / 20))
    a.warmup = a.warmup or min(120.0, max(10.0, a.seconds * 0.2))
    a.session_max = min(a.session_max, max(2.0, a.seconds / 4))
    a.max_echo = 300000  # echoes stay within the build's message and queue limits
    here = os.path.dirname(os.path.abspath(a.daemon))
    for inc in (os.path.join(here, "include"), os.path.join(os.path.dirname(here), "include")):
        try:
            with open(os.path.join(inc, "cw_config.h")) as f:
                text = f.read()
        except OSError:
            continue
        for name in ("CONFIG_MAX_MESSAGE_SIZE", "CONFIG_SENDQ_MAX"):
            m = re.search(r"#define %s (\d+)" % name, text)
            if m:
                a.max_echo = min(a.max_echo, int(m.group(1)) - 16)
        break
    tmp = tempfile.mkdtemp(prefix="cw-soak-")
    extra = list(a.daemon_args)
    ssl_ctx = None
    if a.tls_cert:
        extra += ["--tls-cert", a.tls_cert, "--tls-key", a.tls_key]
        ssl_ctx = ssl.create_default_context(cafile=a.tls_cert)
        ssl_ctx.check_hostname = False
    d = Daemon(a.daemon, extra, tmp)
    samples = []
    soak = Soak(a, d.port, ssl_ctx)
    print("soak: %d clients in %d rooms for %.0f s (warm-up %.0f s, samples every %.1f s), "
          "daemon pid %d, seed %d" % (a.clients, a.rooms, a.seconds, a.warmup, a.sample,
                                      d.proc.pid, a.seed), flush=True)
    base = d.stats()
    rss0 = d.rss_kb()
    fails = []
    try:
        asyncio.run(soak.run(d, samples))
        # every pool back to its idle use
        end = time.time() + 15
        while True:
            st = d.stats()
            busy = {k: v[0] for k, v in st["pools"].items() if v[0] != base["pools"][k][0]}
            if not busy and st["conns_open"] == 0 and st["conns_http"] == 0:
                break
            if time.time() > end:
                fails.append("pools not back to idle: %r" % busy)
                break
            time.sleep(0.2)
        rss_end = d.rss_kb()
    finally:
        d.proc.send_signal(signal.SIGTERM)
        try:
            rc = d.proc.wait(15)
        except subprocess.TimeoutExpired:
            d.proc.kill()
            rc = None
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    if rc != 0:
        fails.append("daemon exited %r" % rc)
    for k in ("protocol_errors", "pool_exhausted", "sendq_overflows"):
        if st.get(k):
            fails.append("%s %d" % (k, st[k]))
    # RSS: flat after the warm-up
    warm = [s for s in samples if s[0] <= a.warmup]
    after = [s for s in samples if s[0] > a.warmup]
    rss_warm = warm[-1][1] if warm else rss0
    rss_max_after = max([s[1] for s in after] or [rss_warm])
    emulated = bool(d.prefix)  # the RSS would be the emulator's, translation caches and all
    if emulated:
        print("soak: RSS not judged: the daemon runs under %s" % " ".join(d.prefix))
    elif after and rss_max_after - rss_warm > a.rss_slack:
        fails.append("RSS grew %d KiB after the warm-up (%d -> %d KiB; slack %d)" % (
            rss_max_after - rss_warm, rss_warm, rss_max_after, a.rss_slack))
    if len(after) < 2 and not emulated:
        fails.append("too few samples after the warm-up (%d): run longer" % len(after))
    fails += soak.ledger.problems
    # figures
    c = soak.counts
    print("soak: %d chat sessions (%d clean, %d FIN, %d reset leaves), %d echo sessions, "
          "%d echoes" % (c["sessions"], c["clean leaves"], c["FIN leaves"], c["reset leaves"],
                         c["echo sessions"], c["echoes"]))
    print("soak: %d messages sent, %d received, %d control broadcasts; %d deliveries proven "
          "over %d clean sessions" % (c["sent"], c["received"], c["control broadcasts"],
                                      soak.ledger.checked, soak.ledger.sessions_checked))
    print("soak: RSS %d KiB at start, %d after warm-up, %d max after, %d at the end" % (
        rss0, rss_warm, rss_max_after, rss_end))
    hw = st["pools"]
    print("soak: pools used/high-water/failed: " + ", ".join(
        "%s %d/%d/%d" % (k, v[0], v[2], v[3]) for k, v in sorted(hw.items())))
    print("soak: daemon accepted %d, upgraded %d, msgs in %d, out %d, events %d" % (
        st.get("accepted", 0), st.get("upgraded", 0), st.get("msgs_in", 0), st.get("msgs_out", 0),
        st.get("events_out", 0)))
    if len(samples) > 1:
        print("soak: RSS samples (s: KiB): " + " ".join(
            "%.0f:%d" % (s[0], s[1]) for s in samples[::max(1, len(samples) // 12)]))
    if fails:
        for f in fails[:20]:
            print("soak: FAIL " + f)
        print("soak: log tail:\n" + d.log_tail())
        print("soak: FAIL")
        return 1, soak
    print("soak: PASS")
    return 0, soak


if __name__ == "__main__":
    sys.exit(main()[0])
