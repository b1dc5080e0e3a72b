# SPDX-License-Identifier: MIT
"""test_chaos: a stateful fuzzer over real sockets.

Many clients at once throw random mixes of valid and invalid handshakes,
frames, fragments, control frames, half-sent data, resets and early closes
at one running daemon, plus idle and slow clients, static and /stats
requests and control-socket commands. Where the answer is defined the
client checks it (echoes byte for byte, the close code a bad frame earns,
the HTTP status of a bad request); afterwards the daemon must be alive,
serve a fresh client correctly, and every pool must return to its idle
baseline. CW_CHAOS_SECONDS (default 8) and CW_CHAOS_SEED (default: random,
printed) make longer or repeated runs; a failure prints the seed and the
scenario. Standard library only; TLS in the TLS pass."""

import json
import os
import random
import shutil
import signal
import socket
import ssl
import struct
import tempfile
import threading
import time

import cwtest
from cwtest import Daemon as _Daemon, case, main, slow_factor
from rawws import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, Conn, frame,
                   open_socket, request)

S = slow_factor()
SECONDS = float(os.environ.get("CW_CHAOS_SECONDS", "8"))
SEED = int(os.environ.get("CW_CHAOS_SEED", str(random.randrange(1 << 30))))
WORKERS = int(os.environ.get("CW_CHAOS_WORKERS", "24"))
TMP = tempfile.mkdtemp(prefix="cw-chaos-")
NET_ERRORS = (OSError, EOFError, ssl.SSLError, socket.timeout)


# Within the build's limits (router boards reserve far less than the host).
SENDQ = min(262144, cwtest.config_value("CONFIG_SENDQ_MAX", 262144))
MAX_MESSAGE = min(200000, cwtest.config_value("CONFIG_MAX_MESSAGE_SIZE", 200000), SENDQ - 16)
MAX_CONNS = min(150, cwtest.config_value("CONFIG_MAX_CONNS", 150))


class Oracle(AssertionError):
    pass


class Shed(Exception):
    """The server closed an echo session with a documented load-shedding
    code (1013: a pool was full): not a failure, not a good session."""


# Close codes that shed load rather than report a fault of the client.
SHED_CODES = {1013}
# Client source addresses 127.0.0.1..8: the fair shares are per address.
SOURCES = 8


def check(cond, what):
    if not cond:
        raise Oracle(what)


# ---- what a client may send ----

def text(rnd, n):
    alphabet = "abc xyz 0123 \u00e9\u20ac\U0001f600\n\""
    return "".join(rnd.choice(alphabet) for _ in range(n)).encode()


def data_frames(rnd, op, payload):
    """payload as one frame or as fragments with control frames between."""
    if len(payload) < 4 or rnd.random() < 0.5:
        return frame(op, payload)
    cuts = sorted(rnd.sample(range(1, len(payload)), min(3, len(payload) - 1)))
    parts = [payload[a:b] for a, b in zip([0] + cuts, cuts + [len(payload)])]
    out = b""
    for i, p in enumerate(parts):
        out += frame(op if i == 0 else OP_CONT, p, fin=i == len(parts) - 1)
        if rnd.random() < 0.3:
            out += frame(OP_PING, text(rnd, rnd.randrange(0, 20)))
    return out


# (frame bytes, close code the server must answer with)
def bad_frame(rnd):
    k = rnd.randrange(12)
    if k == 0:
        return frame(OP_TEXT, b"unmasked", mask=False), 1002
    if k == 1:
        return frame(OP_TEXT, b"rsv", rsv=rnd.choice([1, 2, 4])), 1002
    if k == 2:
        return frame(rnd.choice([3, 4, 5, 6, 7, 11, 12, 15]), b"reserved"), 1002
    if k == 3:
        return frame(OP_PING, b"frag", fin=False), 1002
    if k == 4:
        return frame(OP_PING, b"p" * 126), 1002
    if k == 5:
        return frame(OP_CONT, b"orphan"), 1002
    if k == 6:
        return frame(OP_TEXT, b"a", fin=False) + frame(OP_BINARY, b"b"), 1002
    if k == 7:
        return frame(OP_TEXT, rnd.choice([b"\xff", b"ok\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"])), 1007
    if k == 8:
        return frame(OP_CLOSE, struct.pack(">H", rnd.choice([0, 999, 1004, 1005, 1006, 1015, 2000, 5000]))), 1002
    if k == 9:
        return frame(OP_CLOSE, b"\x03"), 1002
    if k == 10:
        return frame(OP_CLOSE, struct.pack(">H", 1000) + b"\xff\xfe"), 1007
    return frame(OP_BINARY, b"\0" * (MAX_MESSAGE + 1 + rnd.randrange(100))), 1009


def mutate(rnd, data):
    data = bytearray(data)
    for _ in range(rnd.randrange(1, 6)):
        op = rnd.randrange(4)
        i = rnd.randrange(len(data)) if data else 0
        if op == 0 and data:
            data[i] = rnd.randrange(256)
        elif op == 1:
            data[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 8)))
        elif op == 2 and data:
            del data[i:i + rnd.randrange(1, 8)]
        else:
            data[i:i] = rnd.choice([b"\r\n", b"\r\n\r\n", b" ", b":", b"\t", b"\x00", b"%00",
                                    b"Upgrade: websocket\r\n", b"Host: a\r\n"])
    return bytes(data)


# 429: an address over its fair share (CONFIG_FAIR_SHARES); every client
# here is 127.0.0.1, so on a board with few slots (the routers) it is common.
HTTP_OK = {101, 200, 400, 401, 403, 404, 405, 414, 426, 429, 431, 503, 505}


# ---- the client ----

class Client:
    def __init__(self, port, rnd, log, source=None):
        self.port, self.rnd, self.log, self.source = port, rnd, log, source
        self.c = None

    def connect(self, rcvbuf=None):
        self.c = Conn.__new__(Conn)
        self.c.sock = open_socket(self.port, timeout=5 * S, rcvbuf=rcvbuf, source=self.source)
        self.c.buf, self.c.status, self.c.head = b"", None, b""
        return self.c

    def upgrade(self, path="/ws/echo/", rcvbuf=None):
        c = self.connect(rcvbuf)
        st = c.handshake(path)
        check(st in (101, 429, 503), "handshake to %s answered %r" % (path, st))
        return st == 101

    def end(self):
        """Leaves: close handshake, FIN, reset or just close."""
        c, how = self.c, self.rnd.randrange(4)
        try:
            if how == 0:
                c.sock.sendall(frame(OP_CLOSE, struct.pack(">H", 1000)))
                c.wait_close(2 * S)
            elif how == 1:
                c.sock.shutdown(socket.SHUT_WR)
            elif how == 2:
                raw = getattr(c.sock, "raw", c.sock)
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except NET_ERRORS:
            pass
        c.close()

    def expect_close(self, want):
        """Reads to the server's close frame; its code must be `want`."""
        c = self.c
        c.sock.settimeout(5 * S)
        while True:
            f = c.read_frame()
            check(f is not None, "EOF before the close %d" % want)
            if f[1] == OP_CLOSE:
                code = struct.unpack(">H", f[2][:2])[0] if len(f[2]) >= 2 else 1005
                check(code == want, "closed %d, wanted %d" % (code, want))
                return

    def echoed(self, what):
        """The next message of an echo session. Once upgraded, an echo
        session must get its echoes: EOF, a reset or a timeout is a failure;
        only a load-shedding close code (SHED_CODES) ends it early."""
        c, parts, op = self.c, [], None
        while True:
            try:
                f = c.read_frame()
            except NET_ERRORS as e:
                raise Oracle("%s: no echo (%s: %s)" % (what, type(e).__name__, e))
            check(f is not None, "%s: EOF without a close frame" % what)
            fin, fop, payload = f
            if fop == OP_PING:
                self.send_or_fail(frame(OP_PONG, payload), what)
                continue
            if fop == OP_PONG:
                continue
            if fop == OP_CLOSE:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
                if code in SHED_CODES:
                    raise Shed(code)
                raise Oracle("%s: closed %d by the server" % (what, code))
            op = fop if op is None else op
            parts.append(payload)
            if fin:
                return op, b"".join(parts)

    def send_or_fail(self, data, what):
        try:
            self.c.sock.sendall(data)
        except NET_ERRORS:
            # Cut while sending: only a shedding close frame excuses it.
            self.echoed(what)
            raise Oracle("%s: the send failed and no close frame came" % what)

    # -- scenarios: each returns normally (True: a good echo session) or
    # raises Oracle or Shed --

    def echo_session(self):
        if not self.upgrade():
            return
        rnd = self.rnd
        for i in range(rnd.randrange(1, 12)):
            op = rnd.choice([OP_TEXT, OP_BINARY])
            # (within the message limit: routers have 4 KiB; bad_frame goes over it)
            n = min(rnd.choice([0, 1, 125, 126, 1000, 4096, 5000, 70000, MAX_MESSAGE]), MAX_MESSAGE)
            payload = text(rnd, n // 4)[:n] if op == OP_TEXT else os.urandom(n)
            what = "echo %d of %d bytes" % (i, len(payload))
            self.send_or_fail(data_frames(rnd, op, payload), what)
            check(self.echoed(what) == (op, payload), "%s differs" % what)
        self.end()
        return True

    def pipelined(self):
        if not self.upgrade():
            return
        rnd = self.rnd
        msgs = [os.urandom(rnd.randrange(0, 3000)) for _ in range(rnd.randrange(2, 40))]
        self.send_or_fail(b"".join(frame(OP_BINARY, m) for m in msgs), "pipelined echoes")
        for i, m in enumerate(msgs):
            check(self.echoed("pipelined echo %d" % i) == (OP_BINARY, m),
                  "pipelined echo %d differs" % i)
        self.end()
        return True

    def bad_frame(self):
        if not self.upgrade():
            return
        data, code = bad_frame(self.rnd)
        if self.rnd.random() < 0.5:
            good = os.urandom(self.rnd.randrange(1, 500))
            self.c.sock.sendall(frame(OP_BINARY, good))
            check(self.c.read_message() == (OP_BINARY, good), "echo before the bad frame")
        try:
            self.c.sock.sendall(data)
        except NET_ERRORS:
            self.c.close()  # closed 1009 from the header while the payload was still going
            return
        self.expect_close(code)
        self.c.close()

    def chat(self):
        room = "r%d" % self.rnd.randrange(5)
        if not self.upgrade("/ws/chat/%s/" % room):
            return
        c = self.c
        for i in range(self.rnd.randrange(1, 6)):
            c.send(OP_TEXT, json.dumps({"message": "m%d" % i}))
        c.sock.settimeout(0.2)
        try:
            while True:
                op, data = c.read_message()
                # chat messages, or text broadcast by the control scenario
                check(op == OP_TEXT, "chat: opcode %r" % op)
                data.decode("utf-8")
        except (socket.timeout, ssl.SSLError, EOFError, OSError):
            pass
        self.end()

    def half_frame(self):
        if not self.upgrade():
            return
        f = frame(self.rnd.choice([OP_TEXT, OP_BINARY]), text(self.rnd, 3000))
        self.c.sock.sendall(f[:self.rnd.randrange(1, len(f))])
        time.sleep(self.rnd.random() * 0.1)
        self.end()

    def non_reader(self):
        if not self.upgrade(rcvbuf=4096):
            return
        blob = frame(OP_BINARY, os.urandom(16000))
        self.c.sock.settimeout(0.5)
        try:
            for _ in range(self.rnd.randrange(10, 200)):
                self.c.sock.sendall(blob)
        except NET_ERRORS:
            pass
        self.end()

    def bad_handshake(self):
        rnd = self.rnd
        k = rnd.randrange(6)
        if k == 0:
            data = mutate(rnd, request(rnd.choice(["/ws/echo/", "/ws/chat/x/", "/", "/stats"])))
        elif k == 1:
            data = request(extra="X-Big: " + "a" * rnd.choice([100, 9000]) + "\r\n")
        elif k == 2:
            data = os.urandom(rnd.randrange(1, 300))
        elif k == 3:
            data = request().replace(b"13", rnd.choice([b"8", b"14", b"13, 8"]))
        elif k == 4:
            data = request(rnd.choice(["/ws/users/", "/nowhere", "/ws/chat/../", "/ws/chat/%00/"]))
        else:
            data = request()[:rnd.randrange(1, 60)]
        c = self.connect()
        try:
            c.sock.sendall(data)
            if k == 5:
                c.sock.shutdown(socket.SHUT_WR)
            c.sock.settimeout(3 * S)
            resp = b""
            while b"\r\n" not in resp:
                b = c.sock.recv(4096)
                if not b:
                    break
                resp += b
        except NET_ERRORS:
            resp = b""
        c.close()
        if resp:
            check(resp.startswith(b"HTTP/1.1 "), "not an HTTP answer: %r" % resp[:40])
            st = int(resp.split(b" ", 2)[1])
            check(st in HTTP_OK, "status %d for %r" % (st, data[:60]))

    def idle(self):
        c = self.connect()
        if self.rnd.random() < 0.5:
            c.sock.sendall(request()[:self.rnd.randrange(1, 40)])
        if self.rnd.random() < 0.3:
            # wait for the handshake deadline (0.8 s)
            c.sock.settimeout(3 * S)
            try:
                while c.sock.recv(4096):
                    pass
            except NET_ERRORS:
                pass
        else:
            time.sleep(self.rnd.random() * 0.3)
        c.close()

    def http(self):
        path = self.rnd.choice(["/stats", "/", "/index.html", "/missing", "/.hidden", "/a/../b"])
        method = self.rnd.choice(["GET", "HEAD", "POST"])
        c = self.connect()
        c.sock.sendall(("%s %s HTTP/1.1\r\nHost: x\r\n\r\n" % (method, path)).encode())
        try:
            st = c.read_head()
            check(st in HTTP_OK, "%s %s: %d" % (method, path, st))
        except NET_ERRORS:
            pass
        c.close()

    def control(self, ctl):
        cmds = [b"stats\n", b"broadcast chat_r1 5\nhello", b"send chat_r2 chat.message 17\n"
                b'{"message":"ctl"}', b"close chat_r3 4000 bye\n", b"bogus\n", b"send g t 99\nx",
                os.urandom(40), b"broadcast chat_r0 3\n\xff\xfe\xfd"]
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5 * S)
        try:
            s.connect(ctl)
            s.sendall(self.rnd.choice(cmds))
            s.shutdown(socket.SHUT_WR)
            out = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
            # (an incomplete request ended by EOF is dropped without a word)
            check(out == b"" or out.endswith(b"\n") and (
                out.startswith(b"ok") or out.startswith(b"error") or b"\nok\n" in out),
                "control answered %r" % out[:80])
        except (OSError, socket.timeout):
            pass
        finally:
            s.close()


SCENARIOS = [("echo_session", 6), ("pipelined", 2), ("bad_frame", 5), ("chat", 3),
             ("half_frame", 3), ("non_reader", 1), ("bad_handshake", 5), ("idle", 2),
             ("http", 2), ("control", 1)]


def ctl_stats(path):
    out = cwtest.control_request(path, b"stats\n", 5 * S)
    st = {"pools": {}}
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "pool":
            st["pools"][f[1]] = int(f[2].split("/")[0])
        elif len(f) == 2 and f[1].isdigit():
            st[f[0]] = int(f[1])
    return st


@case(timeout=300)
def chaos():
    www = os.path.join(TMP, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "index.html"), "w") as f:
        f.write("<p>chaos</p>")
    ctl = os.path.join(TMP, "ctl.sock")
    print("  seed %d, %.0f s, %d workers (CW_CHAOS_SEED=%d to repeat)" % (SEED, SECONDS, WORKERS, SEED))
    ms = lambda v: str(int(v * S))  # noqa: E731 - deadlines stretch under emulation
    d = _Daemon("--control", ctl, "--max-conns", str(MAX_CONNS), "--handshake-timeout", ms(800),
                "--close-timeout", ms(400), "--ping-interval", ms(700), "--pong-timeout", ms(400),
                "--max-message", str(MAX_MESSAGE), "--sendq-max", str(SENDQ), "--www", www,
                "--log-level", "info")
    try:
        assert d.wait_log(r"control socket|listening") is not None
        time.sleep(0.1)
        base = ctl_stats(ctl)
        baseline = dict(base["pools"])
        failures, counts, lock = [], {}, threading.Lock()
        good, shed = [0], [0]
        deadline = time.time() + SECONDS
        names = [n for n, w in SCENARIOS for _ in range(w)]

        def worker(w):
            rnd = random.Random(SEED * 1000 + w)
            it = 0
            while time.time() < deadline and not failures:
                name = rnd.choice(names)
                cl = Client(d.port, random.Random(rnd.random()), None,
                            source="127.0.0.%d" % (1 + w % SOURCES))
                try:
                    if name == "control":
                        cl.control(ctl)
                    elif getattr(cl, name)():
                        with lock:
                            good[0] += 1
                except Shed:
                    with lock:
                        shed[0] += 1
                except Oracle as e:
                    with lock:
                        failures.append("worker %d, scenario %d (%s): %s" % (w, it, name, e))
                except NET_ERRORS:
                    pass  # refused, reset or cut: the daemon's answer to abuse
                except Exception as e:  # a bug here or an answer we cannot parse
                    import traceback
                    with lock:
                        failures.append("worker %d, scenario %d (%s): %s" % (
                            w, it, name, traceback.format_exc()))
                finally:
                    if cl.c is not None:
                        cl.c.close()
                with lock:
                    counts[name] = counts.get(name, 0) + 1
                it += 1

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(WORKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(SECONDS + 60 * S)
        assert not any(t.is_alive() for t in threads), "workers hung"
        print("  " + ", ".join("%s %d" % kv for kv in sorted(counts.items())))
        print("  good echo sessions %d, shed (1013) %d" % (good[0], shed[0]))
        assert not failures, "seed %d: %s\n%s" % (SEED, failures[0], d.log[-3000:])
        # The run did something: at least one whole echo session per worker.
        # (How many are shed with 1013 depends on the pools: on a router's
        # four message buffers most are; every one of them was checked.)
        assert good[0] >= WORKERS, "seed %d: only %d good echo sessions" % (SEED, good[0])
        assert d.alive(), "daemon died:\n" + d.log[-3000:]
        # A fresh client is served correctly ...
        c = Conn(d.port, timeout=5 * S)
        assert c.handshake() == 101
        for n in (0, 10, min(5000, MAX_MESSAGE), MAX_MESSAGE):
            c.echo(os.urandom(n), OP_BINARY)
        c.echo("fresh \u00e9")
        c.sock.sendall(frame(OP_CLOSE, struct.pack(">H", 1000)))
        assert c.wait_close() == 1000
        c.close()
        # ... and every pool returns to its idle baseline (the deadlines of
        # whatever is still closing are at most ~1.5 s away).
        end = time.time() + 10 * S
        while True:
            st = ctl_stats(ctl)
            diff = {k: (v, baseline.get(k)) for k, v in st["pools"].items() if v != baseline.get(k)}
            if not diff and st["conns_open"] == 0 and st["conns_http"] == 0:
                break
            assert time.time() < end, "seed %d: pools not back to baseline: %r" % (SEED, diff)
            time.sleep(0.1)
        print("  after: accepted %d, upgraded %d, http_errors %d, protocol_errors %d, "
              "rejected_full %d, handshake_timeouts %d, pool_exhausted %d" % (
                  st["accepted"], st["upgraded"], st["http_errors"], st["protocol_errors"],
                  st["rejected_full"], st["handshake_timeouts"], st["pool_exhausted"]))
    finally:
        rc = d.stop()
        shutil.rmtree(TMP, ignore_errors=True)
    assert rc == 0, "exit %r\n%s" % (rc, d.log[-3000:])


if __name__ == "__main__":
    main()
