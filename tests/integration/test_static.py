# SPDX-License-Identifier: MIT
"""test_static: chanwired --www DIR as a browser and an attacker see it:
index.html for directories, MIME types, HEAD, 404/405, traversal attempts
that must never leave DIR (a secret file sits beside it), a 5 MB file sent
whole, a slow reader that does not hold up anyone else, and the WebSocket
routes still answering 426 to a plain GET. Standard library only. In the
TLS pass (CW_TLS=1) all of it over HTTPS (stdlib ssl; a response must end
with the server's close_notify: a bare FIN is a truncation and fails)."""

import atexit
import hashlib
import os
import shutil
import socket
import tempfile
import threading
import time

from cwtest import Daemon as _Daemon, case, client_ssl, main, slow_factor, tls_mode
from rawws import Conn

_started = []


def Daemon(*args, **kw):
    """cwtest.Daemon (no control socket), killed at exit if a case failed."""
    d = _Daemon("--no-control", *args, **kw)
    _started.append(d)
    return d


@atexit.register
def _cleanup():
    for d in _started:
        d.kill()
    shutil.rmtree(BASE, ignore_errors=True)


# ---- the served tree ----
#   BASE/secret.txt             beside the www dir: must never be served
#   BASE/outside/inner.txt      reachable only through a symlinked directory
#   BASE/www/...                the served files

BASE = tempfile.mkdtemp(prefix="cw-static-")
WWW = os.path.join(BASE, "www")
SECRET = b"TOP-SECRET-" + os.urandom(8).hex().encode() + b"\n"
INDEX = b"<!doctype html><title>chanwire</title><p>hello</p>\n"
SUB_INDEX = b"<!doctype html><p>sub</p>\n"
BIG_SIZE = 5 * 1024 * 1024 + 123
BIG = os.urandom(BIG_SIZE)

FILES = {
    "index.html": INDEX,
    "style.css": b"body { color: #333 }\n",
    "app.js": b"console.log('hi');\n",
    "mod.mjs": b"export const x = 1;\n",
    "data.json": b'{"a": 1}\n',
    "notes.txt": "héllo wörld\n".encode(),
    "icon.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>\n",
    "logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
    "photo.JPG": b"\xff\xd8\xff\xe0" + bytes(100),
    "favicon.ico": bytes(64),
    "prog.wasm": b"\x00asm\x01\x00\x00\x00",
    "font.woff2": b"wOF2" + bytes(20),
    "noext": b"no extension\n",
    "archive.tar.gz": b"\x1f\x8b" + bytes(10),
    "empty.txt": b"",
    "name with space.txt": b"spaced\n",
    "sub/index.html": SUB_INDEX,
    "sub/page.htm": b"<p>page</p>\n",
    "sub/deeper/x.css": b"a{}\n",
    "big.bin": BIG,
    ".env": b"PASSWORD=hunter2\n",
    ".hidden/inner.txt": b"hidden dir\n",
    "sub/.git/config": b"[core]\n",
}

MIME = {
    "/index.html": "text/html; charset=utf-8",
    "/style.css": "text/css; charset=utf-8",
    "/app.js": "text/javascript; charset=utf-8",
    "/mod.mjs": "text/javascript; charset=utf-8",
    "/data.json": "application/json",
    "/notes.txt": "text/plain; charset=utf-8",
    "/icon.svg": "image/svg+xml",
    "/logo.png": "image/png",
    "/photo.JPG": "image/jpeg",
    "/favicon.ico": "image/x-icon",
    "/prog.wasm": "application/wasm",
    "/font.woff2": "font/woff2",
    "/noext": "application/octet-stream",
    "/archive.tar.gz": "application/octet-stream",
    "/sub/page.htm": "text/html; charset=utf-8",
    "/sub/deeper/x.css": "text/css; charset=utf-8",
    "/big.bin": "application/octet-stream",
}


def _build_tree():
    for rel, data in FILES.items():
        p = os.path.join(WWW, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    with open(os.path.join(BASE, "secret.txt"), "wb") as f:
        f.write(SECRET)
    os.makedirs(os.path.join(BASE, "outside"))
    with open(os.path.join(BASE, "outside", "inner.txt"), "wb") as f:
        f.write(SECRET)
    # Symlinks inside www that point out of it: a link to a file and a link
    # to a directory. Neither may expose what is outside.
    os.symlink(os.path.join(BASE, "secret.txt"), os.path.join(WWW, "link.txt"))
    os.symlink(os.path.join(BASE, "outside"), os.path.join(WWW, "linkdir"))
    os.mkdir(os.path.join(WWW, "emptydir"))


_build_tree()


# ---- HTTP over a raw socket (exact bytes, Connection: close) ----

class Resp:
    def __init__(self, raw):
        self.raw = raw
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        assert parts[0] == "HTTP/1.1", "status line %r" % lines[0]
        self.status = int(parts[1])
        self.headers = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            k = k.strip().lower()
            assert k not in self.headers, "header %s repeated" % k
            self.headers[k] = v.strip()

    def __repr__(self):
        return "<%d %r %d bytes>" % (self.status, self.headers, len(self.body))


def http_socket(port, timeout=10.0, rcvbuf=None):
    """A connection for one HTTP exchange: HTTPS in the TLS pass."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout * slow_factor())
    try:
        s.connect(("127.0.0.1", port))
        if tls_mode():
            s = client_ssl().wrap_socket(s, server_hostname="localhost", suppress_ragged_eofs=False)
    except BaseException:
        s.close()
        raise
    return s


def exchange(port, req, timeout=10.0):
    """Sends req, reads to EOF (every answer here ends with Connection: close)."""
    if isinstance(req, str):
        req = req.encode("latin-1")
    s = http_socket(port, timeout)
    try:
        s.sendall(req)
        chunks = []
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            chunks.append(b)
        return Resp(b"".join(chunks))
    finally:
        s.close()


def get(port, path, method="GET", extra=""):
    return exchange(port, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n" % (method, path, extra))


def assert_ok(r, body, ctype=None):
    assert r.status == 200, r
    assert r.headers.get("content-length") == str(len(body)), r
    assert r.body == body, "body differs: %d bytes, want %d" % (len(r.body), len(body))
    if ctype:
        assert r.headers.get("content-type") == ctype, r


def assert_404(r, path):
    assert r.status == 404, "%s: %r" % (path, r)
    assert SECRET not in r.raw and b"hunter2" not in r.raw, "%s leaked a file" % path
    assert r.body == b"404 Not Found\n", "%s: body %r" % (path, r.body)


_shared = None


def www():
    global _shared
    if _shared is None or not _shared.alive():
        _shared = Daemon("--www", WWW)
    return _shared


# ---- cases ----

@case
def index_for_root_and_directories():
    d = www()
    for path, body in (("/", INDEX), ("/index.html", INDEX), ("/sub/", SUB_INDEX),
                       ("/sub/index.html", SUB_INDEX), ("/?v=3", INDEX), ("/sub/?x=1", SUB_INDEX)):
        r = get(d.port, path)
        assert_ok(r, body, "text/html; charset=utf-8")
        assert r.headers.get("connection") == "close", r
        assert r.headers.get("x-content-type-options") == "nosniff", r
    # A directory without its trailing slash, or without an index, is not a file.
    for path in ("/sub", "/emptydir/", "/emptydir"):
        assert_404(get(d.port, path), path)


@case
def mime_types():
    d = www()
    for path, ctype in MIME.items():
        rel = path[1:]
        r = get(d.port, path)
        assert_ok(r, FILES[rel], ctype)
    # Percent-encoded names are decoded before the lookup.
    assert_ok(get(d.port, "/name%20with%20space.txt"), b"spaced\n", "text/plain; charset=utf-8")
    assert_ok(get(d.port, "/%73tyle.css"), FILES["style.css"], "text/css; charset=utf-8")


@case
def empty_file():
    d = www()
    r = get(d.port, "/empty.txt")
    assert_ok(r, b"", "text/plain; charset=utf-8")
    assert r.headers["content-length"] == "0", r


@case
def head_sends_headers_only():
    d = www()
    for path in ("/", "/style.css", "/big.bin", "/empty.txt"):
        g = get(d.port, path)
        h = get(d.port, path, "HEAD")
        assert h.status == 200, h
        assert h.body == b"", "HEAD %s sent %d body bytes" % (path, len(h.body))
        assert h.headers == g.headers, "HEAD %s headers %r != GET %r" % (path, h.headers, g.headers)
    h = get(d.port, "/big.bin", "HEAD")
    assert h.headers["content-length"] == str(BIG_SIZE), h


@case
def missing_files_404():
    d = www()
    for path in ("/nope.html", "/sub/nope/", "/index.html/", "/index.htmlx", "/INDEX.HTML",
                 "/sub/deeper/", "/big.bin/x"):
        assert_404(get(d.port, path), path)
    # HEAD of a missing file: the status and headers, and no body.
    r = get(d.port, "/nope.html", "HEAD")
    assert r.status == 404, r
    assert r.body == b"", "HEAD answered with a body: %r" % r.body


@case
def other_methods_405():
    d = www()
    for method, extra in (("POST", "Content-Length: 5\r\n"), ("PUT", "Content-Length: 5\r\n"),
                          ("DELETE", ""), ("OPTIONS", ""), ("PATCH", "Content-Length: 0\r\n")):
        for path in ("/", "/index.html", "/nope.txt"):
            body = "hello" if "5" in extra else ""
            r = exchange(d.port, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n%s" % (method, path, extra, body))
            assert r.status == 405, "%s %s: %r" % (method, path, r)
            assert r.headers.get("allow") == "GET, HEAD", r
            assert INDEX not in r.raw, "%s %s served the file" % (method, path)
    # The file is still there and unchanged.
    assert_ok(get(d.port, "/index.html"), INDEX)


TRAVERSAL = [
    "/../secret.txt", "/../../../../etc/passwd", "/sub/../../secret.txt", "/sub/../index.html",
    "/./index.html", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/%2e%2e%2fsecret.txt",
    "/..%2fsecret.txt", "/..%2Fsecret.txt", "/sub/..%2f..%2fsecret.txt", "/sub%2f..%2f..%2fsecret.txt",
    "/.%2e/secret.txt", "/%2e./secret.txt", "/..%5csecret.txt", "/..\\secret.txt", "/sub\\..\\index.html",
    "/index.html%00", "/index.html%00.png", "/%00", "/sub/%00/../index.html",
    "/.env", "/%2eenv", "/.hidden/inner.txt", "/sub/.git/config", "/sub/%2egit/config",
    "//etc/passwd", "//secret.txt", "/sub//index.html", "/%2fetc/passwd", "/%2F..%2Fsecret.txt",
    "/link.txt", "/linkdir/inner.txt", "/linkdir/", "/index.html%2", "/index.html%zz", "/%",
    "/%c0%ae%c0%ae/secret.txt", "/%252e%252e/secret.txt", "/..;/secret.txt",
    "/index.html%0d%0aX-Injected:%20yes", "/" + "a/" * 120 + "x",
]


@case
def traversal_attempts_404():
    d = www()
    for path in TRAVERSAL:
        r = get(d.port, path)
        assert_404(r, path)
        assert "x-injected" not in r.headers, path
        h = get(d.port, path, "HEAD")
        assert h.status == 404 and SECRET not in h.raw, "HEAD %s: %r" % (path, h)
    # Absolute-form targets go through the same checks.
    r = exchange(d.port, "GET http://127.0.0.1/../secret.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert_404(r, "absolute-form ..")
    # The daemon kept serving.
    assert_ok(get(d.port, "/index.html"), INDEX)


@case
def the_directory_itself_is_not_readable_as_a_file():
    d = www()
    for path in ("/sub/deeper", "/.hidden/", "/linkdir"):
        assert_404(get(d.port, path), path)


@case(timeout=120)
def large_file_complete_and_identical():
    d = www()
    want = hashlib.sha256(BIG).hexdigest()
    for _ in range(3):
        r = get(d.port, "/big.bin")
        assert r.status == 200, r
        assert r.headers["content-length"] == str(BIG_SIZE), r
        assert len(r.body) == BIG_SIZE, "got %d of %d bytes" % (len(r.body), BIG_SIZE)
        assert hashlib.sha256(r.body).hexdigest() == want, "5 MB body differs"
    # Several at once.
    results = [None] * 4

    def fetch(i):
        try:
            results[i] = get(d.port, "/big.bin")
        except Exception as e:  # reported below
            results[i] = e

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(len(results))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60 * slow_factor())
    for r in results:
        assert isinstance(r, Resp) and r.status == 200 and r.body == BIG, "parallel fetch: %r" % (r,)


@case(timeout=120)
def slow_reader_does_not_block_others():
    d = www()
    slow = http_socket(d.port, 10, rcvbuf=4096)
    try:
        slow.sendall(b"GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        got = slow.recv(1024)  # the head has started to arrive; now stop reading
        assert got.startswith(b"HTTP/1.1 200 "), got
        time.sleep(0.3)
        # Others are served promptly meanwhile: files and WebSockets.
        for _ in range(5):
            t0 = time.time()
            assert_ok(get(d.port, "/style.css"), FILES["style.css"])
            assert time.time() - t0 < 2 * slow_factor(), "a small file took %.2fs" % (time.time() - t0)
        r = get(d.port, "/big.bin")
        assert r.status == 200 and r.body == BIG, "another reader of the same file: %r" % r
        ws = Conn(d.port)
        try:
            assert ws.handshake("/ws/echo/") == 101
            ws.echo("while a reader stalls")
        finally:
            ws.close()
        # Then the slow reader takes the rest, slowly, and it is all there.
        data = bytearray(got)
        deadline = time.time() + 60 * slow_factor()
        n = 0
        while time.time() < deadline:
            b = slow.recv(65536)
            if not b:
                break
            data += b
            n += 1
            if n % 8 == 0:
                time.sleep(0.001)
        r = Resp(bytes(data))
        assert r.status == 200 and len(r.body) == BIG_SIZE, "slow reader got %d bytes" % len(r.body)
        assert r.body == BIG, "slow reader's body differs"
    finally:
        slow.close()
    assert d.alive()


@case
def reader_that_vanishes_mid_file():
    d = www()
    for _ in range(5):
        s = http_socket(d.port, 5)
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        s.recv(4096)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()  # RST while the file is still being sent
    assert_ok(get(d.port, "/index.html"), INDEX)
    assert d.alive()


@case
def ws_routes_still_426_and_upgrade():
    d = www()
    for path in ("/ws/echo/", "/ws/chat/lobby/"):
        r = get(d.port, path)
        assert r.status == 426, "%s: %r" % (path, r)
        assert r.headers.get("sec-websocket-version") == "13", r
    # A WebSocket upgrade on a path that is a file is a 404, not the file.
    c = Conn(d.port)
    try:
        assert c.handshake("/index.html") == 404, c.head
    finally:
        c.close()
    c = Conn(d.port)
    try:
        assert c.handshake("/ws/echo/") == 101
        c.echo("hello over the same port")
    finally:
        c.close()


@case
def without_www_everything_is_404():
    d = Daemon()
    try:
        for path in ("/", "/index.html", "/../secret.txt"):
            r = get(d.port, path)
            assert r.status == 404, "%s: %r" % (path, r)
            assert INDEX not in r.raw and SECRET not in r.raw, path
        r = get(d.port, "/", "POST", "Content-Length: 0\r\n")
        assert r.status in (404, 400), r  # no file serving at all: never a 405 or 200
        assert r.status != 200
        assert get(d.port, "/ws/echo/").status == 426
    finally:
        assert d.stop() == 0


@case
def bad_www_dir_fails_at_start():
    d = Daemon("--www", os.path.join(BASE, "does-not-exist"), wait_ready=False)
    try:
        d.proc.wait(10 * slow_factor())
    finally:
        d.kill()
    assert d.proc.returncode not in (0, None), d.proc.returncode
    d._reader.join(2)
    assert "does-not-exist" in d.log, d.log


@case
def shared_daemon_exits_cleanly():
    d = www()
    global _shared
    _shared = None
    assert d.stop() == 0, d.log[-3000:]


if __name__ == "__main__":
    main()
