# SPDX-License-Identifier: MIT
"""redisfix: what the Redis layer's suites share (tests/integration/redis,
tests/interop, tests/bench/redis_rate.py).

- RedisServer: Debian's redis-server started by the test on a free loopback
  port (no persistence), stopped, killed and restarted on the same port.
- Resp: just enough of a RESP2 client to PUBLISH raw payloads, SUBSCRIBE and
  read pushes, and ask PUBSUB NUMSUB, written here so the suites need no
  Redis client library.
- pack: msgpack maps exactly as msgpack-python's packb writes them (the
  subset Channels messages use), so the suites need no msgpack library
  either; unpack reads them back.
"""

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time

from cwtest import free_port, skip_suite, slow_factor


def need_redis():
    if not shutil.which("redis-server"):
        skip_suite("redis-server not installed (apt-get install redis-server)")


class RedisServer:
    """A redis-server of our own on 127.0.0.1:port."""

    def __init__(self, port=None, password=None, start=True):
        self.port = port or free_port()
        self.password = password
        self.dir = tempfile.mkdtemp(prefix="cw-redis-")
        self.proc = None
        self.addr = "127.0.0.1:%d" % self.port
        if start:
            self.start()

    def start(self, timeout=10.0):
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", self.dir, "--loglevel", "warning",
                "--daemonize", "no"]
        if self.password:
            argv += ["--requirepass", self.password]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        end = time.time() + timeout * slow_factor()
        while time.time() < end:
            try:
                c = self.client()
                ok = c.cmd("PING") == "PONG"
                c.close()
                if ok:
                    return
            except (OSError, RespError):
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited with %r (port %d in use?)"
                                   % (self.proc.returncode, self.port))
            time.sleep(0.02)
        raise RuntimeError("redis-server did not answer on port %d" % self.port)

    def kill(self):
        """Gone at once, as after a crash: every client sees its connection die."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self):
        return Resp(self.port, self.password)

    def numsub(self, channel):
        c = self.client()
        try:
            return int(c.cmd("PUBSUB", "NUMSUB", channel)[1])
        finally:
            c.close()

    def wait_numsub(self, channel, n, timeout=10.0):
        end = time.time() + timeout * slow_factor()
        while time.time() < end:
            if self.numsub(channel) == n:
                return
            time.sleep(0.02)
        raise AssertionError("%s: %d subscriber(s), want %d" % (channel, self.numsub(channel), n))

    def publish(self, channel, payload):
        c = self.client()
        try:
            return c.cmd("PUBLISH", channel, payload)
        finally:
            c.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


class RespError(Exception):
    pass


class Resp:
    def __init__(self, port, password=None, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout * slow_factor())
        self.f = self.sock.makefile("rb")
        if password:
            self.cmd("AUTH", password)

    def close(self):
        self.f.close()
        self.sock.close()

    def send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.sock.sendall(b"".join(out))

    def read(self):
        line = self.f.readline()
        if not line.endswith(b"\r\n"):
            raise OSError("connection closed")
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RespError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2]
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RespError("bad reply %r" % line)

    def cmd(self, *args):
        self.send(*args)
        return self.read()

    def subscribe(self, *channels):
        self.send("SUBSCRIBE", *channels)
        for _ in channels:
            self.read()

    def message(self, timeout=5.0):
        """The next pushed message as (channel, payload), or None on timeout."""
        self.sock.settimeout(timeout * slow_factor())
        try:
            while True:
                m = self.read()
                if isinstance(m, list) and m and m[0] == b"message":
                    return m[1].decode(), m[2]
        except socket.timeout:
            return None


# ---- msgpack, the way msgpack-python's packb(use_bin_type=True) writes it ----

def pack(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 0x80:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        if v >= 0:
            for tag, fmt, lim in ((0xcc, "B", 0xff), (0xcd, ">H", 0xffff),
                                  (0xce, ">I", 0xffffffff), (0xcf, ">Q", 2 ** 64 - 1)):
                if v <= lim:
                    return bytes([tag]) + struct.pack(fmt, v)
        for tag, fmt, lim in ((0xd0, "b", 2 ** 7), (0xd1, ">h", 2 ** 15), (0xd2, ">i", 2 ** 31),
                              (0xd3, ">q", 2 ** 63)):
            if v >= -lim:
                return bytes([tag]) + struct.pack(fmt, v)
        raise ValueError("int out of range")
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode()
        n = len(b)
        if n < 32:
            return bytes([0xa0 | n]) + b
        if n <= 0xff:
            return b"\xd9" + bytes([n]) + b
        if n <= 0xffff:
            return b"\xda" + struct.pack(">H", n) + b
        return b"\xdb" + struct.pack(">I", n) + b
    if isinstance(v, (bytes, bytearray)):
        n = len(v)
        if n <= 0xff:
            return b"\xc4" + bytes([n]) + bytes(v)
        if n <= 0xffff:
            return b"\xc5" + struct.pack(">H", n) + bytes(v)
        return b"\xc6" + struct.pack(">I", n) + bytes(v)
    if isinstance(v, (list, tuple)):
        n = len(v)
        head = bytes([0x90 | n]) if n < 16 else (b"\xdc" + struct.pack(">H", n) if n <= 0xffff
                                                 else b"\xdd" + struct.pack(">I", n))
        return head + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        n = len(v)
        head = bytes([0x80 | n]) if n < 16 else (b"\xde" + struct.pack(">H", n) if n <= 0xffff
                                                 else b"\xdf" + struct.pack(">I", n))
        return head + b"".join(pack(k) + pack(x) for k, x in v.items())
    raise TypeError(type(v))


def unpack(b):
    """The inverse for what pack writes (and float32); raises on anything else."""
    v, pos = _unpack(b, 0)
    if pos != len(b):
        raise ValueError("trailing bytes")
    return v


def _unpack(b, i):
    t = b[i]
    i += 1
    if t < 0x80:
        return t, i
    if t >= 0xe0:
        return t - 256, i
    if 0x80 <= t <= 0x8f or t in (0xde, 0xdf):
        n, i = (t & 0x0f, i) if t <= 0x8f else _len(b, i, 2 if t == 0xde else 4)
        d = {}
        for _ in range(n):
            k, i = _unpack(b, i)
            d[k], i = _unpack(b, i)
        return d, i
    if 0x90 <= t <= 0x9f or t in (0xdc, 0xdd):
        n, i = (t & 0x0f, i) if t <= 0x9f else _len(b, i, 2 if t == 0xdc else 4)
        out = []
        for _ in range(n):
            x, i = _unpack(b, i)
            out.append(x)
        return out, i
    if 0xa0 <= t <= 0xbf or t in (0xd9, 0xda, 0xdb):
        n, i = (t & 0x1f, i) if t <= 0xbf else _len(b, i, {0xd9: 1, 0xda: 2, 0xdb: 4}[t])
        return b[i:i + n].decode(), i + n
    if t in (0xc4, 0xc5, 0xc6):
        n, i = _len(b, i, {0xc4: 1, 0xc5: 2, 0xc6: 4}[t])
        return bytes(b[i:i + n]), i + n
    simple = {0xc0: None, 0xc2: False, 0xc3: True}
    if t in simple:
        return simple[t], i
    fmts = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q", 0xd0: ">b", 0xd1: ">h", 0xd2: ">i",
            0xd3: ">q", 0xca: ">f", 0xcb: ">d"}
    if t in fmts:
        n = struct.calcsize(fmts[t])
        return struct.unpack(fmts[t], b[i:i + n])[0], i + n
    raise ValueError("msgpack type 0x%02x" % t)


def _len(b, i, n):
    return int.from_bytes(b[i:i + n], "big"), i + n
