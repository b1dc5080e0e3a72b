#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_proxy: chanwired behind a proxy and on a UNIX socket
(docs/operations.md, "Behind a proxy and on a UNIX socket").

Debian's nginx runs in front, started here as a plain foreground process
with its own configuration in a temporary folder, on free 127.0.0.1 ports:
proxy_pass to chanwired's UNIX socket and to its TCP port with
X-Forwarded-For, and a TLS-terminating server (a self-signed certificate
made here with openssl; wss:// to nginx, ws:// to chanwired). Clients bind
127.0.0.2 and up, so each is an address of its own while nginx comes from
127.0.0.1. What chanwired sees is read from its log (the debug line of each
upgrade names the client, as cw_peer does); the per-address limits are
checked against the real client; an untrusted peer's X-Forwarded-For and
PROXY header are ignored; the PROXY protocol v1/v2 and Forwarded (RFC 7239)
are driven by hand. Standard library, nginx and openssl."""

import atexit
import os
import re
import shutil
import signal
import socket
import ssl
import stat
import struct
import subprocess
import tempfile
import time

from cwtest import (Daemon as _Daemon, Skip, case, config_value, daemon_path, exec_prefix, free_port, main,
                    parse_stats, root_args, skip_suite, slow_factor)
from rawws import OP_TEXT, frame, request

# chanwired's side is plain here in both passes of make check: nginx
# terminates the TLS; a TLS listener behind a PROXY header is
# tests/integration/tls/test_tls_proxy.py.
os.environ["CW_TLS"] = "0"
S = slow_factor()
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
OPENSSL = shutil.which("openssl")
if not NGINX or not OPENSSL:
    skip_suite("needs nginx and openssl (scripts/install-test-deps.sh: nginx-light, openssl)")

TMP = tempfile.mkdtemp(prefix="cw-proxy-")
_started = []


@atexit.register
def _cleanup():
    for p in _started:
        try:
            if isinstance(p, subprocess.Popen):
                if p.poll() is None:
                    p.kill()
                    p.wait()
            else:
                p.kill()
        except OSError:
            pass
    shutil.rmtree(TMP, ignore_errors=True)


def needs_proxies():
    if not config_value("CONFIG_PROXY_HEADERS", 0):
        raise Skip("this build has no trusted proxies (CONFIG_PROXY_HEADERS)")


def Daemon(*args, **kw):
    if any(a in ("--trusted-proxy", "--proxy-header") or a.startswith("proxy:") for a in args):
        needs_proxies()
    d = _Daemon(*args, **kw)
    _started.append(d)
    return d


def connect(port=None, source=None, path=None, tls=None):
    """A socket to 127.0.0.1:port (from source) or to the UNIX socket path."""
    if path:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5 * S)
        s.connect(path)
        return s
    s = socket.socket()
    if source:
        s.bind((source, 0))
    s.settimeout(5 * S)
    s.connect(("127.0.0.1", port))
    if tls:
        s = tls.wrap_socket(s, server_hostname="localhost")
    return s


def read_head(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = s.recv(4096)
        if not b:
            break
        buf += b
    return buf


def status_of(head):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return int(m.group(1)) if m else None


def ws_open(prefix=b"", extra="", **kw):
    """Sends prefix (a PROXY header) and a WebSocket upgrade; returns the
    socket and the status of the answer. 101: one message is echoed."""
    s = connect(**kw)
    s.sendall(prefix + request(extra=extra))
    st = status_of(read_head(s))
    if st == 101:
        s.sendall(frame(OP_TEXT, b"hello"))
        got = b""
        while len(got) < 7:
            b = s.recv(64)
            if not b:
                break
            got += b
        assert got == b"\x81\x05hello", got
    return s, st


def upgraded_from(d, who, timeout=5.0):
    """The daemon logged an upgrade from a client whose "ADDR:PORT" starts
    with who."""
    return d.wait_log(r"conn \d+: %s\S*: upgraded" % re.escape(who), timeout)


def stats(d):
    s = connect(d.port)
    s.sendall(b"GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    buf = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        buf += b
    s.close()
    return parse_stats(buf.split(b"\r\n\r\n", 1)[1].decode())


# ---- nginx, in front ----

CERT = os.path.join(TMP, "cert.pem")
KEY = os.path.join(TMP, "key.pem")


def make_cert():
    if not os.path.exists(CERT):
        subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", KEY,
                        "-out", CERT, "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_buffering off;
    proxy_read_timeout 60s;
    server {{
        listen 127.0.0.1:{tcp};
        location / {{ proxy_pass http://127.0.0.1:{cw}; }}
    }}
    server {{
        listen 127.0.0.1:{unix};
        location / {{ proxy_pass http://unix:{sock}:; }}
    }}
    server {{
        listen 127.0.0.1:{tls} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{ proxy_pass http://127.0.0.1:{cw}; }}
    }}
}}
"""


class Nginx:
    """nginx in the foreground (no master, no service), killed at the end."""

    def __init__(self, cw_port, sock):
        make_cert()
        self.dir = tempfile.mkdtemp(dir=TMP, prefix="nginx-")
        self.tcp, self.unix, self.tls = free_port(), free_port(), free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(CONF.format(dir=self.dir, tcp=self.tcp, unix=self.unix, tls=self.tls,
                                cw=cw_port, sock=sock, cert=CERT, key=KEY))
        self.proc = subprocess.Popen([NGINX, "-p", self.dir, "-e", self.dir + "/error.log",
                                      "-c", conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _started.append(self.proc)
        end = time.time() + 10 * S
        for port in (self.tcp, self.unix, self.tls):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if self.proc.poll() is not None or time.time() > end:
                        raise RuntimeError("nginx did not start: %s\n%s" % (
                            self.proc.stderr.read().decode(errors="replace") if self.proc.poll()
                            is not None else "timeout", self.error_log()))
                    time.sleep(0.05)

    def error_log(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def client_tls(self):
        ctx = ssl.create_default_context(cafile=CERT)
        ctx.check_hostname = False
        return ctx

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10 * S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def sock_path(name):
    return os.path.join(TMP, name)


def proxied_daemon(*args):
    """chanwired on TCP and on a UNIX socket, trusting nginx on both."""
    needs_proxies()
    path = sock_path("cw-%d.sock" % free_port())
    d = Daemon("--listen", "unix:" + path, "--trusted-proxy", "127.0.0.1",
               "--trusted-proxy", "unix", *args, listen=["127.0.0.1:0"])
    assert d.wait_log(r"listening on unix:"), d.log
    return d, path


# ---- cases ----

@case
def unix_listener_serves_websockets():
    path = sock_path("plain.sock")
    with Daemon("--listen", "unix:" + path, "--listen-mode", "0600",
                listen=["127.0.0.1:0"]) as d:
        assert d.wait_log(r"listening on unix:" + re.escape(path)), d.log
        st = os.lstat(path)
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
        s, code = ws_open(path=path)
        assert code == 101, code
        assert upgraded_from(d, "unix"), d.log
        s.close()
        # The same handshake checks as on TCP.
        c = connect(path=path)
        c.sendall(b"GET /ws/echo/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n")
        assert status_of(read_head(c)) == 400
        c.close()
    assert not os.path.exists(path), "the socket file outlived the daemon"


@case
def unix_listener_owner_and_default_mode():
    path = sock_path("owned.sock")
    if os.geteuid() == 0:
        owner, uid, gid = "65534:65534", 65534, 65534
    else:
        owner, uid, gid = str(os.getuid()), os.getuid(), None
    with Daemon("--listen", "unix:" + path, "--listen-owner", owner,
                listen=["127.0.0.1:0"]) as d:
        assert d.wait_log(r"listening on unix:"), d.log
        st = os.lstat(path)
        assert stat.S_IMODE(st.st_mode) == 0o660, oct(st.st_mode)
        assert st.st_uid == uid and (gid is None or st.st_gid == gid), (st.st_uid, st.st_gid)


@case
def unix_listener_stale_and_live_socket_files():
    path = sock_path("stale.sock")
    # A socket file nobody answers on (a crashed daemon's): replaced.
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()
    with Daemon("--listen", "unix:" + path, listen=["127.0.0.1:0"]) as d:
        assert d.wait_log(r"listening on unix:"), d.log
        # A live daemon's: the second one refuses to start and leaves it.
        argv = exec_prefix() + [daemon_path(), "--no-control", "--listen", "unix:" + path]
        argv += root_args(argv)
        r = subprocess.run(argv, capture_output=True, timeout=10 * S)
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert b"is in use by a running daemon" in r.stderr, r.stderr
        assert os.path.exists(path)
        c, code = ws_open(path=path)
        assert code == 101
        c.close()
    # Not a socket: never deleted.
    with open(path, "w") as f:
        f.write("data")
    argv = exec_prefix() + [daemon_path(), "--no-control", "--listen", "unix:" + path]
    argv += root_args(argv)
    r = subprocess.run(argv, capture_output=True, timeout=10 * S)
    assert r.returncode == 1 and os.path.isfile(path), (r.returncode, r.stderr)


@case
def unix_peers_share_one_address():
    path = sock_path("shared.sock")
    with Daemon("--listen", "unix:" + path, "--max-conns-per-addr", "2",
                listen=["127.0.0.1:0"]) as d:
        assert d.wait_log(r"listening on unix:"), d.log
        a, ca = ws_open(path=path)
        b, cb = ws_open(path=path)
        c, cc = ws_open(path=path)
        assert (ca, cb, cc) == (101, 101, 429), (ca, cb, cc)
        # TCP clients are other addresses.
        t, ct = ws_open(port=d.port)
        assert ct == 101
        for x in (a, b, c, t):
            x.close()


@case
def untrusted_peer_headers_ignored():
    with Daemon("--trusted-proxy", "127.0.0.1", "--listen", "proxy:127.0.0.1:0",
                listen=["127.0.0.1:0"]) as d:
        assert d.wait_log(r"listening on proxy:127\.0\.0\.1:0 \(port \d+\)"), d.log
        s, code = ws_open(port=d.port, source="127.0.0.3", extra="X-Forwarded-For: 10.9.9.9\r\n")
        assert code == 101
        assert upgraded_from(d, "127.0.0.3:"), d.log
        assert "10.9.9.9" not in d.log, d.log
        s.close()
        # A PROXY header from an untrusted peer is read and ignored.
        s, code = ws_open(port=d.ports[1], source="127.0.0.3",
                          prefix=b"PROXY TCP4 10.8.8.8 127.0.0.1 1111 80\r\n")
        assert code == 101
        assert "10.8.8.8" not in d.log, d.log
        s.close()
        # A trusted one without a header is counted as itself.
        s, code = ws_open(port=d.port)
        assert code == 101 and upgraded_from(d, "127.0.0.1:"), d.log
        s.close()


@case
def nginx_plain_over_tcp_and_unix():
    d, path = proxied_daemon()
    with d, Nginx(d.port, path) as ng:
        for port, who in ((ng.tcp, "127.0.0.2"), (ng.unix, "127.0.0.3")):
            # What the client claims is left of what nginx saw: ignored.
            s, code = ws_open(port=port, source=who, extra="X-Forwarded-For: 6.6.6.6\r\n")
            assert code == 101, (code, ng.error_log())
            assert upgraded_from(d, who + ":0"), d.log
            s.close()
        assert "6.6.6.6" not in d.log, d.log
        # Plain HTTP through it names the client too.
        s = connect(ng.unix, source="127.0.0.4")
        s.sendall(b"GET /no/such/path HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert status_of(read_head(s)) == 404
        s.close()
        assert d.wait_log(r"127\.0\.0\.4:0: 404"), d.log


@case
def nginx_per_address_limits_use_the_client():
    d, path = proxied_daemon("--max-conns-per-addr", "2")
    with d, Nginx(d.port, path) as ng:
        held = []
        for port in (ng.tcp, ng.unix):
            s, code = ws_open(port=port, source="127.0.0.2")
            assert code == 101, code
            held.append(s)
        # The third of 127.0.0.2, over TCP or the UNIX socket: 429.
        for port in (ng.tcp, ng.unix):
            s, code = ws_open(port=port, source="127.0.0.2")
            assert code == 429, code
            s.close()
        assert d.wait_log(r"127\.0\.0\.2:0: 429"), d.log
        # Others behind the same nginx are not held back by it.
        for who in ("127.0.0.5", "127.0.0.6"):
            for port in (ng.tcp, ng.unix):
                s, code = ws_open(port=port, source=who)
                assert code == 101, (who, code)
                held.append(s)
        for s in held:
            s.close()


@case
def nginx_tls_terminating():
    d, path = proxied_daemon()
    with d, Nginx(d.port, path) as ng:
        s, code = ws_open(port=ng.tls, source="127.0.0.7", tls=ng.client_tls())
        assert code == 101, (code, ng.error_log())
        assert upgraded_from(d, "127.0.0.7:0"), d.log
        s.close()


def proxy_v2(src, dst, sport, dport, cmd=1):
    fam = 0x11 if len(src) == 4 else 0x21
    body = src + dst + struct.pack(">HH", sport, dport)
    return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x20 | cmd, fam]) + struct.pack(">H", len(body))
            + body)


@case
def proxy_protocol_v1_and_v2():
    with Daemon("--trusted-proxy", "127.0.0.0/8", "--listen", "proxy:127.0.0.1:0",
                listen=["127.0.0.1:0"]) as d:
        assert d.wait_log(r"listening on proxy:"), d.log
        port = d.ports[1]
        s, code = ws_open(port=port, prefix=b"PROXY TCP4 198.51.100.7 127.0.0.1 5555 80\r\n")
        assert code == 101 and upgraded_from(d, "198.51.100.7:5555"), d.log
        s.close()
        v6 = socket.inet_pton(socket.AF_INET6, "2001:db8::9")
        s, code = ws_open(port=port, prefix=proxy_v2(v6, bytes(16), 4242, 80))
        assert code == 101 and upgraded_from(d, "[2001:db8::9]:4242"), d.log
        s.close()
        # The header sent a byte at a time, the request right behind it.
        s = connect(port)
        for b in b"PROXY TCP4 198.51.100.8 127.0.0.1 6666 80\r\n":
            s.send(bytes([b]))
        s.sendall(request())
        assert status_of(read_head(s)) == 101
        assert upgraded_from(d, "198.51.100.8:6666"), d.log
        s.close()
        # LOCAL (a health check): the proxy's own address.
        s, code = ws_open(port=port, source="127.0.0.9",
                          prefix=proxy_v2(bytes(4), bytes(4), 0, 0, cmd=0))
        assert code == 101 and upgraded_from(d, "127.0.0.9:"), d.log
        s.close()


@case
def proxy_protocol_on_a_unix_listener():
    path = sock_path("proxied.sock")
    with Daemon("--trusted-proxy", "unix", "--listen", "proxy:unix:" + path,
                listen=["127.0.0.1:0"]) as d:
        assert d.wait_log(r"listening on proxy:unix:"), d.log
        s, code = ws_open(path=path, prefix=b"PROXY TCP4 198.51.100.40 10.0.0.1 4040 80\r\n")
        assert code == 101 and upgraded_from(d, "198.51.100.40:4040"), d.log
        s.close()
        s, code = ws_open(path=path, prefix=proxy_v2(bytes(4), bytes(4), 0, 0, cmd=0))
        assert code == 101 and upgraded_from(d, "unix"), d.log
        s.close()


@case
def proxy_protocol_bad_headers():
    with Daemon("--trusted-proxy", "127.0.0.1", "--listen", "proxy:127.0.0.1:0",
                listen=["127.0.0.1:0"]) as d:
        assert d.wait_log(r"listening on proxy:"), d.log
        port = d.ports[1]
        bad = [(request(), "no PROXY protocol header"),
               (b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "PROXY v1 wants four fields"),
               (b"PROXY TCP4 " + b"1" * 120, "longer than 107 bytes"),
               (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x08" + bytes(8), "address block too short")]
        for data, why in bad:
            s = connect(port)
            s.sendall(data)
            assert status_of(read_head(s)) == 400, data
            s.close()
            assert d.wait_log(r"127\.0\.0\.1:\d+: 400 .*" + re.escape(why)), (why, d.log)
        st = stats(d)
        assert st["proxy_errors"] == len(bad), st
        s, code = ws_open(port=d.port) # the plain listener is unaffected
        assert code == 101
        s.close()


@case
def proxy_header_within_the_handshake_deadline():
    with Daemon("--trusted-proxy", "127.0.0.1", "--listen", "proxy:127.0.0.1:0",
                "--handshake-timeout", "300", listen=["127.0.0.1:0"]) as d:
        assert d.wait_log(r"listening on proxy:"), d.log
        s = connect(d.ports[1])
        s.sendall(b"PROXY TCP4 198.51.")  # and nothing more
        t0 = time.time()
        assert s.recv(100) == b""  # closed by the deadline, no answer
        assert time.time() - t0 < 4 * S
        s.close()
        assert d.wait_log(r"handshake deadline passed"), d.log


@case
def forwarded_rfc7239():
    with Daemon("--trusted-proxy", "127.0.0.1", "--proxy-header", "forwarded",
                listen=["127.0.0.1:0"]) as d:
        s, code = ws_open(port=d.port, extra='Forwarded: for=6.6.6.6\r\n'
                          'Forwarded: For="[2001:db8:cafe::17]:4711";proto=https\r\n')
        assert code == 101 and upgraded_from(d, "[2001:db8:cafe::17]:4711"), d.log
        s.close()
        # X-Forwarded-For is not read with --proxy-header forwarded.
        s, code = ws_open(port=d.port, extra="X-Forwarded-For: 10.7.7.7\r\n")
        assert code == 101 and "10.7.7.7" not in d.log, d.log
        s.close()
        s, code = ws_open(port=d.port, extra="Forwarded: for=[::1]\r\n")
        assert code == 400, code
        assert d.wait_log(r"400 Forwarded pair|400 Forwarded"), d.log
        assert stats(d)["proxy_errors"] == 1
        # An unknown client: the proxy's own address.
        s, code = ws_open(port=d.port, source="127.0.0.1", extra="Forwarded: for=unknown\r\n")
        assert code == 101
        s.close()


@case
def bad_flags_are_refused():
    needs_proxies()
    for args, what in ((["--trusted-proxy", "1.2.3.4/33"], b"prefix must be 0..32"),
                       (["--trusted-proxy", "proxy.lan"], b"--trusted-proxy wants"),
                       (["--listen-mode", "0999"], b"--listen-mode wants an octal mode"),
                       (["--proxy-header", "x-real-ip"], b"want x-forwarded-for"),
                       (["--listen", "unix:"], b"bad listen address"),
                       (["--listen", "proxy:nowhere"], b"bad listen address")):
        argv = exec_prefix() + [daemon_path(), "--no-control"] + args
        argv += root_args(argv)
        r = subprocess.run(argv, capture_output=True, timeout=10 * S)
        assert r.returncode in (1, 2) and what in r.stderr, (args, r.returncode, r.stderr)


if __name__ == "__main__":
    main()
