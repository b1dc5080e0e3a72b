# SPDX-License-Identifier: MIT
"""test_hosts: the Host allow-list against DNS rebinding (issue 12, defect
7; Django's ALLOWED_HOSTS). A page of evil.example whose name is made to
resolve to the device sends "Host: evil.example" with "Origin:
http://evil.example": the Origin check alone lets that through. With
--allow-host (or the build's CONFIG_ALLOW_HOSTS) such a request gets 400
before any consumer, static file or /stats; IP-address Hosts always pass,
"*" turns the check off, and no list at all keeps the old behaviour. Raw
sockets, standard library only; in the TLS pass (CW_TLS=1) over TLS."""

import atexit
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile

from cwtest import (Daemon as _Daemon, Skip, case, daemon_path, exec_prefix, main, root_args,
                    slow_factor)
from rawws import Conn, open_socket, request

_started = []
WWW = tempfile.mkdtemp(prefix="cw-hosts-")
INDEX = b"<!doctype html><p>the device's page</p>\n"
with open(os.path.join(WWW, "index.html"), "wb") as _f:
    _f.write(INDEX)


def Daemon(*args, **kw):
    """cwtest.Daemon, killed at exit if a failed case left it running."""
    d = _Daemon(*args, **kw)
    _started.append(d)
    return d


@atexit.register
def _cleanup():
    for d in _started:
        d.kill()
    shutil.rmtree(WWW, ignore_errors=True)


S = slow_factor()
ROUTER = ("--allow-host", "router.lan", "--allow-host", ".example.com")


def build_config():
    import cwtest
    build = os.environ.get("CW_BUILD") or os.path.dirname(cwtest.daemon_path())
    try:
        with open(os.path.join(build, "include", "cw_config.h")) as f:
            return f.read()
    except OSError:
        return ""


def build_has(name):
    return re.search(r"^#define %s\b" % name, build_config(), re.M) is not None


def build_hosts():
    """The build's CONFIG_ALLOW_HOSTS, split as the server splits it."""
    m = re.search(r'^#define CONFIG_ALLOW_HOSTS "([^"]*)"', build_config(), re.M)
    return re.split(r"[ \t,]+", m.group(1).strip()) if m and m.group(1).strip() else []


def exchange(port, data, timeout=5.0):
    """Sends data, reads to EOF (every answer here ends with Connection:
    close); returns the bytes received."""
    s = open_socket(port, timeout=timeout * S)
    try:
        s.sendall(data)
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                return out
            out += b
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
        return out
    finally:
        s.close()


def status_of(resp):
    assert resp.startswith(b"HTTP/1.1 ") and b"\r\n\r\n" in resp, resp[:300]
    return int(resp.split(b" ", 2)[1])


def upgrade(port, host, path="/ws/echo/", origin=None):
    """The status of a WebSocket handshake naming host; after a 101 the
    connection is checked with an echo."""
    extra = "Origin: %s\r\n" % origin if origin else ""
    c = Conn(port, timeout=5 * S)
    try:
        c.sock.sendall(request(path, host=host, extra=extra))
        st = c.read_head()
        if st == 101:
            c.echo("through")
        else:
            assert b"connection: close" in c.head.lower(), c.head
        return st
    finally:
        c.close() if c.status == 101 else c.sock.close()


def get(port, path, host, version="HTTP/1.1"):
    head = "GET %s %s\r\n" % (path, version)
    if host is not None:
        head += "Host: %s\r\n" % host
    return status_of(exchange(port, (head + "\r\n").encode()))


# ---- the defect ----

@case
def rebinding_host_refused_400():
    with Daemon(*ROUTER) as d:
        # the defect's request, on each demo route: 400, not 101 (the Origin
        # matches the Host, so the Origin check would have passed it)
        for path in ("/ws/echo/", "/ws/chat/lobby/"):
            st = upgrade(d.port, "evil.example:%d" % d.port, path, origin="http://evil.example")
            assert st == 400, (path, st)
        for host in ("evil.example", "router.lan.evil.example", "evilrouter.lan",
                     "127.0.0.1.nip.io", "example.com.evil", "evilexample.com"):
            assert upgrade(d.port, host) == 400, host
        # no consumer ran: nothing was upgraded, and the server is fine
        assert upgrade(d.port, "router.lan:%d" % d.port, origin="http://router.lan") == 101


@case
def allowed_names_upgrade():
    with Daemon(*ROUTER) as d:
        for host in ("router.lan", "router.lan:%d" % d.port, "ROUTER.LAN", "router.lan.",
                     "example.com", "www.example.com:443", "a.b.example.com"):
            assert upgrade(d.port, host) == 101, host
        # the Origin check still applies behind it: 403 for a foreign page
        assert upgrade(d.port, "router.lan", origin="http://evil.example") == 403


@case
def ip_address_hosts_always_allowed():
    # rebinding needs a name: a device reached by address just works
    with Daemon(*ROUTER) as d:
        for host in ("127.0.0.1", "127.0.0.1:%d" % d.port, "192.168.1.1", "[::1]:%d" % d.port,
                     "[fe80::1]"):
            assert upgrade(d.port, host) == 101, host
        for host in ("127.1", "0x7f.0.0.1", "127.000.0.1", "[evil.example]", "::1"):
            assert upgrade(d.port, host) == 400, host


@case
def plain_http_refused_too():
    if not build_has("CONFIG_STATIC_FILES") and not build_has("CONFIG_STATS_ENDPOINT"):
        raise Skip("a build without static files and /stats has no plain HTTP to check")
    with Daemon(*ROUTER, "--www", WWW) if build_has("CONFIG_STATIC_FILES") else Daemon(*ROUTER) as d:
        if build_has("CONFIG_STATS_ENDPOINT"):
            assert get(d.port, "/stats", "evil.example") == 400
            assert get(d.port, "/stats", "router.lan") == 200
        if build_has("CONFIG_STATIC_FILES"):
            assert get(d.port, "/", "evil.example:%d" % d.port) == 400
            assert get(d.port, "/index.html", "evil.example") == 400
            r = exchange(d.port, b"GET / HTTP/1.1\r\nHost: router.lan\r\n\r\n")
            assert status_of(r) == 200 and r.endswith(INDEX), r[:300]
        # refused before routing: an unknown path is 400 too, not 404
        assert get(d.port, "/nowhere/", "evil.example") == 400
        assert get(d.port, "/nowhere/", "router.lan") == 404
        # a plain GET of a WebSocket route: 400 before the 426
        assert get(d.port, "/ws/echo/", "evil.example") == 400


@case
def missing_and_repeated_host():
    with Daemon(*ROUTER) as d:
        # HTTP/1.1 must name a host; HTTP/1.0 may not (it names no other)
        assert get(d.port, "/nowhere/", None) == 400
        assert get(d.port, "/nowhere/", None, "HTTP/1.0") == 404
        assert get(d.port, "/nowhere/", "evil.example", "HTTP/1.0") == 400
        two = b"GET /nowhere/ HTTP/1.1\r\nHost: router.lan\r\nHost: router.lan\r\n\r\n"
        assert status_of(exchange(d.port, two)) == 400
        for bad in ("router.lan:80:80", "router.lan:http", "user@router.lan", ":80", "."):
            assert get(d.port, "/nowhere/", bad) == 400, bad


@case
def star_allows_any():
    with Daemon("--allow-host", "router.lan", "--allow-host", "*") as d:
        assert upgrade(d.port, "evil.example:%d" % d.port, origin="http://evil.example") == 101


@case
def flag_replaces_the_build_default():
    # localhost is in the router boards' CONFIG_ALLOW_HOSTS: the flag's list
    # replaces it rather than adding to it
    with Daemon("--allow-host", "only.example") as d:
        assert upgrade(d.port, "only.example") == 101
        assert upgrade(d.port, "localhost:%d" % d.port) == 400
        for name in build_hosts():
            if name != "*":
                assert upgrade(d.port, name.lstrip(".") or "x") == 400, name


@case
def build_default_list():
    hosts = build_hosts()
    with Daemon() as d:
        st = upgrade(d.port, "evil.example:%d" % d.port, origin="http://evil.example")
        if not hosts or "*" in hosts:
            assert st == 101, st  # no list: the behaviour before the check
            return
        assert st == 400, (hosts, st)
        for name in hosts:
            assert upgrade(d.port, name.lstrip(".")) == 101, name
        assert upgrade(d.port, "127.0.0.1:%d" % d.port) == 101


@case
def refusal_is_logged():
    with Daemon(*ROUTER) as d:
        assert d.wait_log(r"Host check: only router\.lan \.example\.com, or an IP address")
        assert upgrade(d.port, "evil.example:%d" % d.port) == 400
        assert d.wait_log(r"Host 'evil\.example:\d+' not allowed"), d.log


# ---- the flag itself ----

def run(*args, timeout=10):
    args = ("--no-control",) + tuple(root_args(args)) + args
    p = subprocess.run(exec_prefix() + [daemon_path()] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout * S)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


@case
def bad_allow_host_values_exit_2():
    for bad in ("router.lan:8080", "http://router.lan", "", ".", "[::1]", "router.lan/",
                "a b"):
        rc, out, err = run("--listen", "127.0.0.1:0", "--allow-host", bad)
        assert rc == 2, (bad, rc, err)
        lines = err.splitlines()
        assert len(lines) == 1 and "--allow-host" in lines[0] and repr(bad)[1:-1] in lines[0], \
            (bad, err)


@case
def help_mentions_allow_host():
    rc, out, err = run("--help")
    assert rc == 0 and "--allow-host NAME" in out, out


if __name__ == "__main__":
    main()
