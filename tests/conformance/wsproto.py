# SPDX-License-Identifier: MIT
"""wsproto: the client side of RFC 6455 for the conformance suite, on raw
sockets with the standard library only. Every byte on the wire is chosen by
the test: handshake headers, RSV bits, opcodes, FIN, the length encoding,
the mask, how the bytes are cut into writes and the pauses between them.

In the TLS pass (CW_TLS=1) every connection is TLS (tests/lib/tlsraw.py):
each write is one TLS record, so bytes cut into writes with pauses still
reach the server in separate pieces; a clean end of the stream is the
server's close_notify followed by its FIN with nothing in between or after
(a FIN without close_notify is a truncation and fails expect_eof), and a
half-close is our close_notify plus our FIN.

Also here: the suite runner glue (a per-case time budget, one shared daemon
per suite whose clean exit is checked as the last case) and an independent
UTF-8 oracle written from the table of well-formed byte sequences
(Unicode 15, table 3-7 / RFC 3629 section 4).
"""

import base64
import errno
import hashlib
import os
import select
import signal
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import cwtest  # noqa: E402
import tlsraw  # noqa: E402

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
ECHO = "/ws/echo/"

SLOW = cwtest.slow_factor()
# How long to wait for an answer that must come; how long to watch for one
# that must not.
WAIT = 5.0 * SLOW
QUIET = 0.3 * SLOW


class ProtocolAssertion(AssertionError):
    pass


class EOF(Exception):
    """The server closed the TCP connection (FIN), cleanly."""


class Reset(Exception):
    """The TCP connection was reset (or, over TLS, ended by a fatal alert)."""


TLS = cwtest.tls_mode()


def accept_key(key):
    if isinstance(key, str):
        key = key.encode("ascii")
    return base64.b64encode(hashlib.sha1(key + GUID.encode("ascii")).digest()).decode("ascii")


def new_key():
    return base64.b64encode(os.urandom(16)).decode("ascii")


def mask_bytes(data, key):
    if not data:
        return b""
    # XOR a whole repeated key at once: fast enough for megabytes.
    n = len(data)
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def length_field(n, form=None):
    """The 7-bit length and extended bytes. form: None (minimal), 7, 16, 64."""
    if form is None:
        form = 7 if n < 126 else 16 if n <= 0xFFFF else 64
    if form == 7:
        assert n < 126
        return n, b""
    if form == 16:
        return 126, struct.pack("!H", n)
    return 127, struct.pack("!Q", n)


def frame(opcode, payload=b"", fin=True, rsv=0, mask=True, key=None, length_form=None,
          length=None, raw_length=None):
    """One client frame. rsv is the 3-bit RSV1..3 value (4 = RSV1). mask=False
    sends it unmasked. length overrides the declared payload length;
    raw_length gives the 8 extended-length bytes verbatim (with form 64)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0x0F)
    l7, ext = length_field(n, length_form)
    if raw_length is not None:
        l7, ext = 127, raw_length
    head = bytes([b0, (0x80 if mask else 0) | l7]) + ext
    if not mask:
        return head + payload
    if key is None:
        key = os.urandom(4)
    return head + key + mask_bytes(payload, key)


def server_header(opcode, n, fin=True):
    """The exact header a server must use: RSV 0, unmasked, minimal length."""
    b0 = (0x80 if fin else 0) | opcode
    l7, ext = length_field(n)
    return bytes([b0, l7]) + ext


def close_payload(code=None, reason=b""):
    if code is None:
        return b""
    if isinstance(reason, str):
        reason = reason.encode("utf-8")
    return struct.pack("!H", code) + reason


class Frame:
    def __init__(self, header, payload):
        self.header = header
        b0, b1 = header[0], header[1]
        self.fin = b0 >> 7
        self.rsv = (b0 >> 4) & 7
        self.opcode = b0 & 0x0F
        self.masked = b1 >> 7
        self.payload = payload

    @property
    def code(self):
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    @property
    def reason(self):
        return self.payload[2:]

    def __repr__(self):
        p = self.payload if len(self.payload) <= 40 else self.payload[:40] + b"..."
        return "Frame(fin=%d rsv=%d op=%d masked=%d len=%d %r)" % (
            self.fin, self.rsv, self.opcode, self.masked, len(self.payload), p)


class Response:
    def __init__(self, status, reason, headers, raw, body=b""):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value) in order
        self.raw = raw
        self.body = body

    def get(self, name):
        vals = self.all(name)
        return vals[0] if vals else None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def __repr__(self):
        return "Response(%d %s, %r)" % (self.status, self.reason, self.headers)


_open = []


def close_all():
    """Closes every socket a case left open (run after each case)."""
    while _open:
        c = _open.pop()
        try:
            c.sock.close()
        except OSError:
            pass


class Conn:
    """One raw TCP connection to the daemon."""

    def __init__(self, port, host="127.0.0.1", rcvbuf=None, source=None):
        """source: the local address to connect from (another client)."""
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            # Before connect, so the window we announce is small too.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if source:
            self.sock.bind((source, 0))
        self.sock.settimeout(WAIT)
        self.sock.connect((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.port = port
        self.buf = b""
        self.eof = False
        self.ragged = False  # TLS: the server's FIN came without close_notify
        self.key = None
        _open.append(self)
        if TLS:
            raw = self.sock
            try:
                self.sock = tlsraw.wrap(raw)
            except BaseException:
                raw.close()
                raise

    # ---- opening handshake ----

    @classmethod
    def open(cls, port, path=ECHO, headers=None, extra=b"", rcvbuf=None, source=None):
        """Connects and completes a valid handshake, asserting every
        required field of the 101 (RFC 6455 section 4.2.2)."""
        c = cls(port, rcvbuf=rcvbuf, source=source)
        resp = c.handshake(path, headers=headers, extra=extra)
        c.check_101(resp)
        return c

    def request(self, path=ECHO, headers=None, key=None, version="13", method="GET",
                proto="HTTP/1.1", drop=()):
        """Builds an upgrade request. headers: extra (name, value) pairs;
        drop: names (lower case) of standard headers to leave out."""
        self.key = key if key is not None else new_key()
        std = [("Host", "127.0.0.1:%d" % self.port), ("Upgrade", "websocket"),
               ("Connection", "Upgrade"), ("Sec-WebSocket-Key", self.key),
               ("Sec-WebSocket-Version", version)]
        lines = ["%s %s %s" % (method, path, proto)]
        for k, v in std:
            if k.lower() not in drop:
                lines.append("%s: %s" % (k, v))
        for k, v in headers or []:
            lines.append("%s: %s" % (k, v))
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def handshake(self, path=ECHO, headers=None, extra=b"", chunk=None, pause=0.0, **kw):
        req = self.request(path, headers, **kw)
        self.send(req + extra, chunk=chunk, pause=pause)
        return self.read_response()

    def check_101(self, resp):
        if resp.status != 101:
            raise ProtocolAssertion("handshake failed: %r" % resp)
        up = resp.get("upgrade")
        if up is None or up.lower() != "websocket":
            raise ProtocolAssertion("101 without Upgrade: websocket: %r" % resp)
        conn = resp.get("connection") or ""
        if "upgrade" not in [t.strip().lower() for t in conn.split(",")]:
            raise ProtocolAssertion("101 without Connection: Upgrade: %r" % resp)
        if resp.all("sec-websocket-accept") != [accept_key(self.key)]:
            raise ProtocolAssertion("wrong Sec-WebSocket-Accept: %r (want %s)" %
                                    (resp.all("sec-websocket-accept"), accept_key(self.key)))
        for h in ("sec-websocket-extensions", "sec-websocket-protocol"):
            if resp.get(h) is not None:
                raise ProtocolAssertion("101 selects %s nobody offered: %r" % (h, resp))

    def read_response(self, timeout=WAIT):
        """Reads one HTTP response head (and a Content-Length body)."""
        end = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(end):
                raise ProtocolAssertion("connection closed before a response head; got %r" %
                                        self.buf)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or parts[0] != "HTTP/1.1" or not parts[1].isdigit():
            raise ProtocolAssertion("bad status line %r" % lines[0])
        headers = []
        for l in lines[1:]:
            if ":" not in l:
                raise ProtocolAssertion("bad response header line %r" % l)
            k, v = l.split(":", 1)
            headers.append((k, v.strip()))
        resp = Response(int(parts[1]), parts[2] if len(parts) > 2 else "", headers, head)
        cl = resp.get("content-length")
        if resp.status != 101 and cl is not None:
            n = int(cl)
            while len(self.buf) < n:
                if not self._fill(end):
                    break
            resp.body, self.buf = self.buf[:n], self.buf[n:]
        return resp

    # ---- sending ----

    def send(self, data, chunk=None, pause=0.0):
        """Writes data, in pieces of `chunk` bytes with `pause` seconds
        between them when asked."""
        if not chunk:
            self.sock.sendall(data)
            return
        for i in range(0, len(data), chunk):
            self.sock.sendall(data[i:i + chunk])
            if pause:
                time.sleep(pause)

    def send_frame(self, opcode, payload=b"", chunk=None, pause=0.0, **kw):
        self.send(frame(opcode, payload, **kw), chunk=chunk, pause=pause)

    def send_text(self, text, **kw):
        self.send_frame(OP_TEXT, text, **kw)

    def send_close(self, code=None, reason=b"", **kw):
        self.send_frame(OP_CLOSE, close_payload(code, reason), **kw)

    # ---- receiving ----

    def _fill(self, end):
        """Reads more bytes before the deadline. Returns False at EOF; raises
        Reset on a reset, socket.timeout when nothing came in time."""
        if self.eof:
            return False
        left = end - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(1 << 20)
        except ConnectionResetError:
            raise Reset("connection reset by the server")
        except socket.timeout:
            raise socket.timeout("timed out")
        except ssl.SSLError as e:
            raise Reset("TLS error: %s" % e)
        if not data:
            if TLS:
                self._tls_end(end)
            self.eof = True
            return False
        self.buf += data
        return True

    def _tls_end(self, end):
        """The TLS stream ended: after close_notify only the FIN may come."""
        s = self.sock
        if not s.close_notify:
            self.ragged = True
            return
        while not s.fin:
            left = end - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out")
            s.raw.settimeout(left)
            try:
                data = s.raw.recv(4096)
            except ConnectionResetError:
                raise Reset("connection reset by the server after its close_notify")
            if data:
                raise ProtocolAssertion("bytes after the server's close_notify: %r" % data[:64])
            s.fin = True

    def _need(self, n, end):
        while len(self.buf) < n:
            if not self._fill(end):
                raise EOF("EOF with %d of %d bytes buffered" % (len(self.buf), n))

    def recv_frame(self, timeout=WAIT):
        """The next server frame. Raises EOF, Reset or socket.timeout."""
        end = time.monotonic() + timeout
        self._need(2, end)
        b1 = self.buf[1]
        l7 = b1 & 0x7F
        hl = 2 + (2 if l7 == 126 else 8 if l7 == 127 else 0) + (4 if b1 & 0x80 else 0)
        self._need(hl, end)
        if l7 == 126:
            n = struct.unpack("!H", self.buf[2:4])[0]
        elif l7 == 127:
            n = struct.unpack("!Q", self.buf[2:10])[0]
        else:
            n = l7
        self._need(hl + n, end)
        header, payload = self.buf[:hl], self.buf[hl:hl + n]
        self.buf = self.buf[hl + n:]
        f = Frame(header, payload)
        if f.masked:
            raise ProtocolAssertion("server frame is masked: %r" % f)
        if f.rsv:
            raise ProtocolAssertion("server frame has RSV bits: %r" % f)
        if header != server_header(f.opcode, n, f.fin):
            raise ProtocolAssertion("server frame header %s is not the minimal encoding %s" %
                                    (header.hex(), server_header(f.opcode, n, f.fin).hex()))
        return f

    def expect(self, opcode, payload=None, timeout=WAIT):
        """The next frame must be a final frame with this opcode (and payload)."""
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        try:
            f = self.recv_frame(timeout)
        except socket.timeout:
            raise ProtocolAssertion("no frame within %.1fs (wanted opcode %d)" % (timeout, opcode))
        except (EOF, Reset) as e:
            raise ProtocolAssertion("connection ended (%s) while waiting for opcode %d" %
                                    (e, opcode))
        if f.opcode != opcode or not f.fin:
            raise ProtocolAssertion("wanted a final frame with opcode %d, got %r" % (opcode, f))
        if payload is not None and f.payload != payload:
            raise ProtocolAssertion("payload differs: got %d bytes %r..., want %d bytes %r..." %
                                    (len(f.payload), f.payload[:32], len(payload), payload[:32]))
        return f

    def expect_echo(self, opcode, payload, timeout=WAIT):
        return self.expect(opcode, payload, timeout)

    def expect_eof(self, timeout=WAIT, allow_reset=False, dropped=False):
        """The server must close TCP (FIN) with nothing more sent, without
        this side closing first. Over TLS: close_notify, then the FIN;
        dropped=True (the server gives up on the connection at a deadline)
        also accepts a FIN without close_notify."""
        end = time.monotonic() + timeout
        try:
            while self._fill(end):
                pass
        except socket.timeout:
            raise ProtocolAssertion("server did not close the TCP connection within %.1fs" %
                                    timeout)
        except Reset:
            if not allow_reset:
                raise ProtocolAssertion("connection reset instead of a clean TCP close")
            self.buf = b""
            return
        if self.buf:
            raise ProtocolAssertion("bytes after the close frame: %r" % self.buf[:64])
        if self.ragged and not dropped:
            raise ProtocolAssertion("the server closed TCP without a TLS close_notify")

    def expect_close(self, code, reason=None, timeout=WAIT):
        """The server's close frame with `code` (None: an empty close frame),
        then the server's FIN. Frames before it are an error."""
        f = self.expect(OP_CLOSE, None, timeout)
        if code is None:
            if f.payload != b"":
                raise ProtocolAssertion("wanted an empty close frame, got code %r reason %r" %
                                        (f.code, f.reason))
        else:
            if len(f.payload) < 2 or f.code != code:
                raise ProtocolAssertion("wanted close code %d, got %r (payload %r)" %
                                        (code, f.code, f.payload[:40]))
            try:
                f.reason.decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolAssertion("close reason is not UTF-8: %r" % f.reason)
            if reason is not None and f.reason != reason:
                raise ProtocolAssertion("wanted reason %r, got %r" % (reason, f.reason))
        self.expect_eof(timeout)
        return f

    def expect_fail(self, code, timeout=WAIT):
        """The connection is failed: a close frame with `code`, then FIN.
        The client does not answer (it failed the connection itself)."""
        return self.expect_close(code, None, timeout)

    def close_handshake(self, code=1000):
        """The client starts a normal close and checks the echo and the FIN."""
        self.send_close(code)
        self.expect_close(code)

    def expect_quiet(self, duration=QUIET):
        """Nothing at all may arrive for `duration` seconds."""
        end = time.monotonic() + duration
        try:
            got = self._fill(end)
        except socket.timeout:
            return
        if got:
            raise ProtocolAssertion("unexpected bytes from the server: %r" % self.buf[:64])
        raise ProtocolAssertion("server closed the connection unexpectedly")

    def reset_pending(self, wait=0.2):
        """True when the peer answered with RST (probing with one byte)."""
        try:
            self.sock.send(b"\x00")
        except (BrokenPipeError, ConnectionResetError):
            return True
        time.sleep(wait)
        # Over TLS the probes are records the server may read; the RST is
        # seen on the TCP socket underneath.
        rx = self.sock.raw if TLS else self.sock
        try:
            rx.settimeout(0.05)
            rx.recv(1)
            self.sock.send(b"\x00")
            return False
        except (BrokenPipeError, ConnectionResetError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---- the build's configuration ----

def build_config(name, default):
    """An integer CONFIG_* of the build under test (from
    $CW_BUILD/include/cw_config.h), or `default` when it cannot be read."""
    build = os.environ.get("CW_BUILD") or os.path.dirname(cwtest.daemon_path())
    try:
        with open(os.path.join(build, "include", "cw_config.h")) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[0] == "#define" and parts[1] == name:
                    return int(parts[2], 0)
    except (OSError, ValueError):
        pass
    return default


MAX_MESSAGE = build_config("CONFIG_MAX_MESSAGE_SIZE", 1 << 20)


def need_max_message(n):
    """Skips a case whose messages the build cannot hold."""
    if MAX_MESSAGE < n:
        raise cwtest.Skip("needs CONFIG_MAX_MESSAGE_SIZE >= %d (build has %d)" % (n, MAX_MESSAGE))


# ---- UTF-8 oracle (table 3-7 of the Unicode standard) ----

_WELL_FORMED = [
    ((0x00, 0x7F),),
    ((0xC2, 0xDF), (0x80, 0xBF)),
    ((0xE0, 0xE0), (0xA0, 0xBF), (0x80, 0xBF)),
    ((0xE1, 0xEC), (0x80, 0xBF), (0x80, 0xBF)),
    ((0xED, 0xED), (0x80, 0x9F), (0x80, 0xBF)),
    ((0xEE, 0xEF), (0x80, 0xBF), (0x80, 0xBF)),
    ((0xF0, 0xF0), (0x90, 0xBF), (0x80, 0xBF), (0x80, 0xBF)),
    ((0xF1, 0xF3), (0x80, 0xBF), (0x80, 0xBF), (0x80, 0xBF)),
    ((0xF4, 0xF4), (0x80, 0x8F), (0x80, 0xBF), (0x80, 0xBF)),
]


def utf8_first_bad(data):
    """None when data is valid UTF-8. Otherwise the index of the first byte
    after which no continuation can make it valid (a fail-fast validator must
    reject at that byte), or len(data) when it is only cut short."""
    i, n = 0, len(data)
    while i < n:
        row = next((r for r in _WELL_FORMED if r[0][0] <= data[i] <= r[0][1]), None)
        if row is None:
            return i
        for k in range(1, len(row)):
            if i + k >= n:
                return n
            lo, hi = row[k]
            if not lo <= data[i + k] <= hi:
                return i + k
        i += len(row)
    return None


# ---- suite glue ----

_shared = {}
_current_daemon_args = []


def shared_daemon():
    """The suite's daemon, started on first use with the suite's arguments."""
    d = _shared.get("d")
    if d is None:
        d = cwtest.Daemon(*_current_daemon_args)
        _shared["d"] = d
    return d


def port():
    return shared_daemon().port


class CaseTimeout(Exception):
    pass


def _alarm(signum, frm):
    raise CaseTimeout("case exceeded its time budget")


def case(fn=None, *, budget=20.0):
    """Registers a case with a hard time budget (SIGALRM) and checks after
    it that the shared daemon is still running; leftover sockets are closed."""
    def reg(f):
        def run():
            signal.signal(signal.SIGALRM, _alarm)
            signal.setitimer(signal.ITIMER_REAL, budget * SLOW)
            try:
                f()
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                close_all()
                d = _shared.get("d")
                if d is not None and not d.alive():
                    _shared.pop("d")
                    raise AssertionError("the daemon died (status %r); log tail:\n%s" %
                                         (d.proc.returncode, d.log[-3000:]))
        run.__name__ = f.__name__
        cwtest.case(run, timeout=budget)
        return f
    return reg(fn) if fn else reg


def register(name, fn, budget=20.0):
    """Registers a generated case under `name`."""
    fn.__name__ = name
    case(fn, budget=budget)


def stop_checked(d):
    """SIGTERM the daemon; it must exit 0 with no sanitizer report."""
    rc = d.stop()
    log = d.log
    assert rc == 0, "daemon exited with %r; log tail:\n%s" % (rc, log[-3000:])
    for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
        assert bad not in log, "sanitizer report in the daemon log:\n" + log[-3000:]


def main(daemon_args=()):
    """Runs the suite. The last case stops the shared daemon and checks that
    it exits 0 (SIGTERM) after everything it went through."""
    _current_daemon_args[:] = list(daemon_args)

    def daemon_exits_cleanly():
        d = _shared.pop("d", None) or shared_daemon()
        _shared.pop("d", None)
        stop_checked(d)

    register("daemon_exits_cleanly", daemon_exits_cleanly, budget=30.0)
    try:
        cwtest.main()
    finally:
        d = _shared.pop("d", None)
        if d is not None:
            d.kill()


class own_daemon:
    """A daemon of the case's own (other flags than the suite's), stopped
    with SIGTERM and checked at the end of the block."""

    def __init__(self, *args):
        self.d = cwtest.Daemon(*args)

    def __enter__(self):
        return self.d

    def __exit__(self, *exc):
        if exc[0] is not None:
            self.d.kill()
            return False
        stop_checked(self.d)
        return False
