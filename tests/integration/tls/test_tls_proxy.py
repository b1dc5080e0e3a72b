# SPDX-License-Identifier: MIT
"""test_tls_proxy: a TLS listener that wants a PROXY protocol header
(--listen-tls proxy:ADDR:PORT, docs/operations.md "Behind a proxy and on a
UNIX socket"): a TCP proxy (haproxy, nginx's stream module) sends the
header in the clear, then passes the client's TLS through. The header is
read before the TLS handshake and names the client; a bad one closes the
connection (a TLS client could not read a 400), logged and counted.

Runs only in the TLS pass of `make check` (CW_TLS=1, with the pass's test
certificate); standard library only."""

import os
import re
import socket
import ssl
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "lib"))
from cwtest import Daemon, case, client_ssl, main, slow_factor  # noqa: E402
from rawws import OP_TEXT, frame, request  # noqa: E402

S = slow_factor()


def daemon():
    return Daemon("--tls-cert", os.environ["CW_TLS_CERT"], "--tls-key", os.environ["CW_TLS_KEY"],
                  "--trusted-proxy", "127.0.0.1", "--listen-tls", "proxy:127.0.0.1:0",
                  listen=["127.0.0.1:0"])


def open_wss(port, header):
    raw = socket.create_connection(("127.0.0.1", port), timeout=5 * S)
    raw.sendall(header)
    s = client_ssl().wrap_socket(raw, server_hostname="localhost")
    s.sendall(request())
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(4096)
        if not b:
            break
        head += b
    return s, head


@case
def proxy_header_before_tls_names_the_client():
    with daemon() as d:
        assert d.wait_log(r"listening on proxy:127\.0\.0\.1:0 \(port \d+\) with TLS"), d.log
        port = d.ports[1]
        s, head = open_wss(port, b"PROXY TCP4 198.51.100.20 127.0.0.1 7777 443\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        s.sendall(frame(OP_TEXT, b"hi"))
        assert s.recv(16) == b"\x81\x02hi"
        s.close()
        assert d.wait_log(r"conn \d+: 198\.51\.100\.20:7777: upgraded"), d.log
        v2 = (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" + socket.inet_aton("203.0.113.5")
              + socket.inet_aton("127.0.0.1") + struct.pack(">HH", 8888, 443))
        s, head = open_wss(port, v2)
        assert head.startswith(b"HTTP/1.1 101"), head
        s.close()
        assert d.wait_log(r"conn \d+: 203\.0\.113\.5:8888: upgraded"), d.log


@case
def bad_proxy_header_closes_before_tls():
    with daemon() as d:
        assert d.wait_log(r"listening on proxy:"), d.log
        raw = socket.create_connection(("127.0.0.1", d.ports[1]), timeout=5 * S)
        try:
            client_ssl().wrap_socket(raw, server_hostname="localhost")  # no header at all
            assert False, "a TLS handshake without the PROXY header succeeded"
        except (ssl.SSLError, OSError):
            pass
        raw.close()
        assert d.wait_log(r"127\.0\.0\.1:\d+: closed: no PROXY protocol header"), d.log
        # The plain listener next to it is unaffected.
        s = socket.create_connection(("127.0.0.1", d.ports[0]), timeout=5 * S)
        s.sendall(request())
        assert s.recv(12) == b"HTTP/1.1 101"
        s.close()


@case
def client_over_its_share_closed_before_tls():
    with Daemon("--tls-cert", os.environ["CW_TLS_CERT"], "--tls-key", os.environ["CW_TLS_KEY"],
                "--trusted-proxy", "127.0.0.1", "--listen-tls", "proxy:127.0.0.1:0",
                "--max-conns-per-addr", "1", listen=["127.0.0.1:0"]) as d:
        assert d.wait_log(r"listening on proxy:"), d.log
        hdr = b"PROXY TCP4 198.51.100.30 127.0.0.1 1000 443\r\n"
        held, head = open_wss(d.ports[1], hdr)
        assert head.startswith(b"HTTP/1.1 101"), head
        try:
            s, head = open_wss(d.ports[1], hdr)
            assert not head, head
            s.close()
        except (ssl.SSLError, OSError):
            pass
        assert d.wait_log(r"198\.51\.100\.30:1000: closed: address over its share"), d.log
        # Another client behind the same proxy is not held back.
        s, head = open_wss(d.ports[1], b"PROXY TCP4 198.51.100.31 127.0.0.1 1000 443\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        s.close()
        held.close()


if __name__ == "__main__":
    main()
