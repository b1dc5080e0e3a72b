# SPDX-License-Identifier: MIT
"""rawws: a tiny WebSocket client over a plain socket, for tests that need
wire control (idle clients, clients that never read, half-sent requests).
Only the standard library. Not a general client: it trusts the server.
In the TLS pass (CW_TLS=1) connections are TLS (tests/lib/tlsraw.py) unless
made with tls=False; `sock` then is a tlsraw.TLSSocket (each write one
record; `sock.raw` is the TCP socket underneath).
"""

import base64
import hashlib
import os
import socket
import ssl
import struct
import time

import tlsraw

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


def request(path="/ws/echo/", key=None, host="127.0.0.1", extra=""):
    key = key or base64.b64encode(os.urandom(16)).decode()
    return ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n" % (path, host, key, extra)).encode()


def tls_default():
    """True in the TLS pass (CW_TLS=1 with its test certificate)."""
    return os.environ.get("CW_TLS") == "1" and "CW_TLS_CERT" in os.environ


def open_socket(port, host="127.0.0.1", timeout=5.0, tls=None, family=socket.AF_INET,
                rcvbuf=None, handshake=True, ssl_context=None, source=None):
    """A connected socket to the daemon: a tlsraw.TLSSocket in the TLS pass
    (unless tls=False), else a plain one. rcvbuf is set before connect;
    ssl_context defaults to trusting the TLS pass's certificate; source is
    the local address to connect from (another client, e.g. 127.0.0.2)."""
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if source:
            s.bind((source, 0))
        s.settimeout(timeout)
        s.connect((host, port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls_default() if tls is None else tls:
            s = tlsraw.wrap(s, ssl_context, handshake=handshake)
    except BaseException:
        s.close()
        raise
    return s


def accept_of(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def frame(op, payload=b"", fin=True, mask=True, rsv=0):
    if isinstance(payload, str):
        payload = payload.encode()
    h = bytearray([(0x80 if fin else 0) | (rsv << 4) | op])
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        h.append(mbit | n)
    elif n < 65536:
        h.append(mbit | 126)
        h += struct.pack(">H", n)
    else:
        h.append(mbit | 127)
        h += struct.pack(">Q", n)
    if not mask:
        return bytes(h) + payload
    key = os.urandom(4)
    h += key
    if n:
        # XOR in one go via int arithmetic: fast enough for megabytes.
        k = (key * (n // 4 + 1))[:n]
        payload = (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")
    return bytes(h) + payload


def close_payload(code, reason=b""):
    if isinstance(reason, str):
        reason = reason.encode()
    return struct.pack(">H", code) + reason


class Conn:
    """One raw connection. read_frame() returns (fin, op, payload), or None at EOF."""

    def __init__(self, port, host="127.0.0.1", family=socket.AF_INET, timeout=5.0, tls=None,
                 handshake=True, ssl_context=None, rcvbuf=None, source=None):
        """tls: None follows the pass; handshake=False (TLS) leaves
        sock.do_handshake() to the caller; rcvbuf: SO_RCVBUF before connect."""
        self.tls = tls_default() if tls is None else tls
        self.sock = open_socket(port, host, timeout, self.tls, family, rcvbuf=rcvbuf,
                                handshake=handshake, ssl_context=ssl_context, source=source)
        self.buf = b""
        self.status = None
        self.head = b""

    def handshake(self, path="/ws/echo/", host="127.0.0.1"):
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(request(path, key, host))
        self.read_head()
        if self.status == 101:
            want = "sec-websocket-accept: " + accept_of(key).lower()
            assert want in self.head.decode("latin-1").lower(), self.head
        return self.status

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            b = self.sock.recv(65536)
            if not b:
                raise EOFError("EOF before the response head: %r" % self.buf)
            self.buf += b
        self.head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status = int(self.head.split(b" ", 2)[1])
        return self.status

    def _need(self, n):
        while len(self.buf) < n:
            b = self.sock.recv(max(65536, n - len(self.buf)))
            if not b:
                return False
            self.buf += b
        return True

    def read_frame(self):
        if not self._need(2):
            return None
        b0, b1 = self.buf[0], self.buf[1]
        n = b1 & 0x7F
        off = 2
        if n == 126:
            if not self._need(4):
                return None
            n = struct.unpack(">H", self.buf[2:4])[0]
            off = 4
        elif n == 127:
            if not self._need(10):
                return None
            n = struct.unpack(">Q", self.buf[2:10])[0]
            off = 10
        if not self._need(off + n):
            return None
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def read_message(self, answer_pings=True):
        """The next data message (op, payload), answering pings on the way."""
        parts, op = [], None
        while True:
            f = self.read_frame()
            if f is None:
                raise EOFError("EOF while waiting for a message")
            fin, fop, payload = f
            if fop == OP_PING:
                if answer_pings:
                    self.send(OP_PONG, payload)
                continue
            if fop == OP_PONG:
                continue
            if fop == OP_CLOSE:
                raise EOFError("close frame %r while waiting for a message" % payload)
            if op is None:
                op = fop
            parts.append(payload)
            if fin:
                return op, b"".join(parts)

    def send(self, op, payload=b"", fin=True):
        self.sock.sendall(frame(op, payload, fin))

    def echo(self, payload, op=OP_TEXT):
        self.send(op, payload)
        got = self.read_message()
        want = payload.encode() if isinstance(payload, str) else payload
        assert got == (op, want), "echo differs: %r" % (got[:1],)

    def wait_close(self, timeout=5.0):
        """Reads until the server's close frame; returns its code (or 1005 for
        an empty one), or None at EOF without one."""
        end = time.time() + timeout
        while time.time() < end:
            self.sock.settimeout(max(0.05, end - time.time()))
            try:
                f = self.read_frame()
            except (socket.timeout, ConnectionResetError, ssl.SSLError):
                return None
            if f is None:
                return None
            if f[1] == OP_CLOSE:
                p = f[2]
                return struct.unpack(">H", p[:2])[0] if len(p) >= 2 else 1005
        return None

    def is_eof(self, timeout=5.0):
        """True once the server has closed the connection (EOF or reset)."""
        end = time.time() + timeout
        while time.time() < end:
            self.sock.settimeout(max(0.05, end - time.time()))
            try:
                b = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
                return True
            if not b:
                return True
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
