# SPDX-License-Identifier: MIT
"""tlsraw: a TLS client socket for the raw-wire suites, built on the standard
library's ssl.SSLObject over memory BIOs so the test keeps control of what
goes on the TCP connection:

- every sendall()/send() is one TLS record (so "1-byte writes with pauses"
  still reach the server as separate pieces, each in its own record);
- recv() returns b"" at the end of the stream and says how it ended:
  `close_notify` (the server's TLS close alert arrived), `fin` (TCP EOF),
  so a suite can insist on a clean TLS close where a plain one wants a FIN;
- shutdown(SHUT_WR) is the TLS half-close: our close_notify, then our FIN
  (an ssl.SSLSocket cannot send close_notify without waiting for the peer's);
- send_raw() writes bytes on the TCP connection below TLS (truncated or
  garbage records), reset() ends it with an RST;
- one thread may send while another receives (as on a plain socket): the
  TLS state is behind a lock, encrypted records go out whole and in order.

Only the standard library.
"""

import os
import socket
import ssl
import struct
import threading


def client_context(cafile=None):
    """Trusts `cafile` (default: the TLS pass's certificate, $CW_TLS_CERT)."""
    ctx = ssl.create_default_context(cafile=cafile or os.environ["CW_TLS_CERT"])
    ctx.check_hostname = False
    return ctx


class TLSSocket:
    """The subset of a socket the raw suites use, over TLS."""

    def __init__(self, sock, ctx=None, server_hostname="localhost", handshake=True):
        self.raw = sock
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self.obj = (ctx or client_context()).wrap_bio(self._in, self._out, server_side=False,
                                                      server_hostname=server_hostname)
        self.close_notify = False  # the peer's close_notify was read
        self.fin = False           # TCP EOF from the peer
        self.sent_close_notify = False
        self.handshake_done = False
        self._backlog = b""        # encrypted bytes a non-blocking send left
        self._tls_lock = threading.Lock()   # the SSLObject and its BIOs
        self._send_lock = threading.Lock()  # the order of records on TCP
        if handshake:
            self.do_handshake()

    # ---- plumbing ----

    def _flush(self):
        with self._send_lock:
            with self._tls_lock:
                data = self._out.read()
            self._send(data)

    def _send(self, data):
        """Encrypted bytes to TCP, after any backlog (send lock held)."""
        data = self._backlog + data
        self._backlog = b""
        if not data:
            return
        if self.raw.gettimeout() != 0.0:
            self.raw.sendall(data)
            return
        # Non-blocking: keep what the kernel did not take for the next call.
        try:
            n = self.raw.send(data)
        except BlockingIOError:
            n = 0
        self._backlog = data[n:]

    def _feed(self):
        """One read from TCP into the incoming BIO (raises socket.timeout,
        ConnectionResetError like the raw socket would)."""
        data = self.raw.recv(1 << 18)
        with self._tls_lock:
            if data:
                self._in.write(data)
            else:
                self.fin = True
                self._in.write_eof()

    def do_handshake(self):
        """Completes the handshake. On a non-blocking socket it may raise
        BlockingIOError: call again when the socket is readable."""
        if self.handshake_done:
            return
        for _ in range(1000):
            try:
                with self._tls_lock:
                    self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                if self.fin:
                    raise ssl.SSLEOFError("EOF during the TLS handshake")
                self._feed()
        self._flush()
        self.handshake_done = True

    # ---- socket interface ----

    def sendall(self, data):
        data = bytes(data)
        if not data:
            return
        # One record per call (up to 16 KiB, as any TLS stack does): a
        # memory BIO never blocks, so write() takes everything at once.
        with self._send_lock:
            with self._tls_lock:
                n = 0
                while n < len(data):
                    n += self.obj.write(data[n:])
                out = self._out.read()
            self._send(out)

    def send(self, data):
        """Like socket.send: on a non-blocking socket whose send buffer is
        full, BlockingIOError (what was encrypted before stays queued here
        and goes out first next time); otherwise every byte is taken."""
        if self._backlog:
            with self._send_lock:
                self._send(b"")
            if self._backlog:
                raise BlockingIOError(11, "Resource temporarily unavailable")
        self.sendall(data)
        return len(data)

    def setblocking(self, flag):
        self.raw.setblocking(flag)

    def recv(self, n):
        """Decrypted bytes; b"" at the end (see close_notify / fin)."""
        for _ in range(100000):
            try:
                with self._tls_lock:
                    data = self.obj.read(n)
            except ssl.SSLWantReadError:
                self._flush()  # e.g. an answer to a TLS 1.3 key update
                if self.fin:
                    return b""
                self._feed()
                continue
            except ssl.SSLZeroReturnError:
                self.close_notify = True
                return b""
            except ssl.SSLEOFError:
                # TCP EOF without close_notify: a truncated stream.
                self.fin = True
                return b""
            if not data:
                self.close_notify = True
            return data
        raise RuntimeError("recv made no progress")

    def pending(self):
        with self._tls_lock:
            return self.obj.pending()

    def shutdown(self, how):
        """SHUT_WR (or RDWR): close_notify, then the TCP half-close."""
        if how in (socket.SHUT_WR, socket.SHUT_RDWR) and not self.sent_close_notify:
            self.sent_close_notify = True
            try:
                with self._tls_lock:
                    self.obj.unwrap()
            except (ssl.SSLWantReadError, ssl.SSLError):
                pass  # the alert is out; the peer's answer is read by recv()
            self._flush()
        self.raw.shutdown(how)

    def send_raw(self, data):
        """Bytes on the TCP connection, under TLS."""
        self.raw.sendall(data)

    def reset(self):
        """Ends the TCP connection with an RST."""
        self.raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.raw.close()

    def close(self):
        self.raw.close()

    def settimeout(self, t):
        self.raw.settimeout(t)

    def gettimeout(self):
        return self.raw.gettimeout()

    def setsockopt(self, *a):
        self.raw.setsockopt(*a)

    def getsockopt(self, *a):
        return self.raw.getsockopt(*a)

    def fileno(self):
        return self.raw.fileno()

    def getpeercert(self, binary_form=False):
        return self.obj.getpeercert(binary_form)

    def version(self):
        return self.obj.version()

    def cipher(self):
        return self.obj.cipher()


def wrap(sock, ctx=None, server_hostname="localhost", handshake=True):
    """sock in TLS; handshake=False leaves do_handshake() to the caller."""
    return TLSSocket(sock, ctx, server_hostname, handshake)
