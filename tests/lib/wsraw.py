# SPDX-License-Identifier: MIT
"""wsraw: the smallest blocking WebSocket client over a plain socket, for
suites that must see the raw response head (status, extra headers) and the
timing of the 101: test_loop.py and test_foreign_loops.py. Standard
library only; text frames up to 64 KiB."""

import base64
import socket
import struct
import time

from cwtest import slow_factor

KEY = base64.b64encode(b"loop-test-key-16").decode()


def request(path, extra=""):
    return ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
            "%s\r\n" % (path, KEY, extra)).encode()


def frame(text, op=1):
    data = text.encode() if isinstance(text, str) else text
    mask = b"\x01\x02\x03\x04"
    n = len(data)
    if n < 126:
        head = bytes([0x80 | op, 0x80 | n])
    else:
        head = bytes([0x80 | op, 0x80 | 126]) + struct.pack(">H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


class Client:
    def __init__(self, port, path, extra="", pipelined=b"", expect=101):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10 * slow_factor())
        self.t0 = time.time()  # before the server can have the request
        self.s.sendall(request(path, extra) + pipelined)
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(4096)
            if not chunk:
                raise AssertionError("closed before the response head: %r" % self.buf)
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.head = head.decode()
        self.t_head = time.time()
        self.status = int(self.head.split()[1])
        assert self.status == expect, self.head

    def header(self, name):
        for line in self.head.split("\r\n")[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == name.lower():
                return v.strip()
        return None

    def send(self, text):
        self.s.sendall(frame(text))

    def recv(self):
        """(opcode, payload) of the next frame."""
        while True:
            if len(self.buf) >= 2:
                n = self.buf[1] & 0x7F
                off = 2
                if n == 126:
                    if len(self.buf) < 4:
                        n = None
                    else:
                        n = struct.unpack(">H", self.buf[2:4])[0]
                        off = 4
                if n is not None and len(self.buf) >= off + n:
                    op = self.buf[0] & 0x0F
                    data = self.buf[off:off + n]
                    self.buf = self.buf[off + n:]
                    return op, data
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("closed")
            self.buf += chunk

    def text(self):
        op, data = self.recv()
        assert op == 1, (op, data)
        return data.decode()

    def close(self):
        self.s.close()
