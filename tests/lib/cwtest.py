# SPDX-License-Identifier: MIT
"""cwtest: what every Python test suite of chanwire shares.

- Daemon: starts the daemon under test on 127.0.0.1 with a free port and
  stops it with SIGTERM, checking it exits 0. The binary comes from
  $CW_DAEMON; $CW_EXEC_PREFIX (e.g. "qemu-arm -cpu cortex-a7") wraps it.
- case / main: register test cases (plain or async functions) and run them,
  printing one line per case and the closing line "N passed, N failed,
  N skipped" that tests/run.py reads.
- Skip: raise it (or call skip_suite) when a dependency is missing.
Only the standard library is used here.
"""

import asyncio
import inspect
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SKIP_EXIT = 77  # the whole suite was skipped (automake convention)


class Skip(Exception):
    pass


def skip_suite(reason):
    """Ends the suite as skipped, naming what to install."""
    print("SKIP: " + reason)
    sys.exit(SKIP_EXIT)


def daemon_path(counting=False):
    if counting:
        p = os.environ.get("CW_DAEMON_COUNTING")
    else:
        p = os.environ.get("CW_DAEMON")
    if not p:
        build = os.environ.get("CW_BUILD", os.path.join(ROOT, "build", "host"))
        p = os.path.join(build, "tests", "chanwired-counting") if counting else os.path.join(build, "chanwired")
    return p


def exec_prefix():
    return shlex.split(os.environ.get("CW_EXEC_PREFIX", ""))


def slow_factor():
    """Timeouts stretch under emulation (qemu-user runs 1.5-3x slower)."""
    try:
        return float(os.environ.get("CW_SLOW", "1"))
    except ValueError:
        return 1.0


def root_args(args):
    """["--allow-root"] unless args already choose (--user, --allow-root):
    as root the daemon refuses to start without one (the suites run as root
    in CI containers; the flag is harmless otherwise)."""
    if any(a == "--allow-root" or a.startswith("--user") for a in args):
        return []
    return ["--allow-root"]


_LISTEN_RE = re.compile(r"listening on (\S+) \(port (\d+)\)")


class _RemoteProc:
    """Stands in for the Popen of a daemon that runs on the board."""
    returncode = None

    def poll(self):
        return None

    def send_signal(self, sig):
        raise Skip("signals the daemon, which runs on the board (check-vm)")

    def wait(self, timeout=None):
        raise Skip("waits for the daemon to exit, which runs on the board (check-vm)")


class RemoteDaemon:
    """make check-vm: the daemon under test already runs elsewhere (on a
    board booted under qemu-system, its port forwarded to 127.0.0.1) and
    $CW_REMOTE says where. Cases talk to it as to a local one; a case that
    needs a daemon of its own flags, its log or its exit is skipped."""

    def __init__(self, target):
        host, _, port = target.rpartition(":")
        self.host, self.ports, self.tls = host or "127.0.0.1", [int(port)], False
        self.proc = _RemoteProc()
        self.argv = ["(remote daemon at %s)" % target]

    port = property(lambda self: self.ports[0])
    log = property(lambda self: "(the daemon runs on the board: its log is the VM console)")

    def url(self, path="/ws/echo/", port=None):
        return "ws://127.0.0.1:%d%s" % (port or self.port, path)

    def ssl(self):
        return None

    def wait_log(self, pattern, timeout=5.0):
        raise Skip("needs the daemon's log, which is on the board (check-vm)")

    def alive(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
            return True
        except OSError:
            return False

    def stop(self, timeout=10.0, sig=signal.SIGTERM):
        if sig != signal.SIGTERM:
            raise Skip("signals the daemon, which runs on the board (check-vm)")
        return 0  # it keeps running: check-vm checks it at the end

    def kill(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Daemon:
    """A running chanwired. Use as a context manager or call stop()."""

    def __new__(cls, *args, counting=False, listen=None, env=None, **kw):
        remote = os.environ.get("CW_REMOTE")
        if not remote:
            return super().__new__(cls)
        if args or counting or listen or env:
            raise Skip("needs a daemon of its own (%s); the board runs one fixed daemon"
                       % " ".join(list(args) or ["counting" if counting else "listen/env"]))
        return RemoteDaemon(remote)

    def __init__(self, *args, counting=False, listen=None, env=None, start_timeout=10.0,
                 wait_ready=True):
        self.binary = daemon_path(counting)
        listen = listen or ["127.0.0.1:0"]
        argv = exec_prefix() + [self.binary]
        # CW_TLS=1 (the TLS pass of make check): the same suites over wss://.
        self.tls = tls_mode() and not any(a.startswith("--tls") or a.startswith("--listen") for a in args)
        for l in listen:
            argv += ["--listen-tls" if self.tls else "--listen", l]
        if self.tls:
            argv += ["--tls-cert", os.environ["CW_TLS_CERT"], "--tls-key", os.environ["CW_TLS_KEY"]]
        if not any(a.startswith("--log-level") for a in args):
            argv += ["--log-level", "debug"]
        # Suites run side by side: none may claim the default control socket.
        if not any(a.startswith("--control") or a == "--no-control" for a in args):
            argv += ["--no-control"]
        argv += root_args(args)
        argv += list(args)
        self.argv = argv
        self.ports = []
        self._lines = []
        self._lock = threading.Lock()
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=full_env)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._ready = threading.Event()
        self._want = len(listen)
        self._reader.start()
        if wait_ready and not self._ready.wait(start_timeout * slow_factor()):
            self.kill()
            raise RuntimeError("daemon did not start: " + " ".join(argv) + "\n" + self.log)

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            with self._lock:
                self._lines.append(line)
            m = _LISTEN_RE.search(line)
            if m:
                self.ports.append(int(m.group(2)))
                if len(self.ports) >= self._want:
                    self._ready.set()
        self._ready.set()

    @property
    def port(self):
        return self.ports[0]

    @property
    def log(self):
        with self._lock:
            return "".join(self._lines)

    def url(self, path="/ws/echo/", port=None):
        return "%s://127.0.0.1:%d%s" % ("wss" if self.tls else "ws", port or self.port, path)

    def ssl(self):
        """An ssl context for clients of this daemon (None when plain)."""
        return client_ssl() if self.tls else None

    def wait_log(self, pattern, timeout=5.0):
        """Waits until the log matches the regex; returns the match or None."""
        end = time.time() + timeout * slow_factor()
        rx = re.compile(pattern)
        while time.time() < end:
            m = rx.search(self.log)
            if m:
                return m
            time.sleep(0.02)
        return None

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=10.0, sig=signal.SIGTERM):
        """SIGTERM and wait; returns the exit status (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout * slow_factor())
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        self._reader.join(2)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        rc = self.stop()
        if exc[0] is None and rc != 0:
            raise AssertionError("daemon exited with %r\n%s" % (rc, self.log[-4000:]))
        return False


def tls_mode():
    return os.environ.get("CW_TLS") == "1" and "CW_TLS_CERT" in os.environ


def client_ssl():
    """Trusts exactly the test certificate of the TLS pass."""
    import ssl
    ctx = ssl.create_default_context(cafile=os.environ["CW_TLS_CERT"])
    ctx.check_hostname = False
    return ctx


def free_port():
    """A loopback TCP port nothing listens on now (for a helper server the
    suite starts, such as redis-server or nginx)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def connect_raw(port, host="127.0.0.1", timeout=5.0, tls=None):
    """A TCP socket to the daemon; wrapped in TLS in the TLS pass (or when
    tls=True), unless tls=False."""
    s = socket.create_connection((host, port), timeout=timeout * slow_factor())
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls if tls is not None else tls_mode():
        s = client_ssl().wrap_socket(s, server_hostname="localhost")
    return s


# ---- cases ----

_cases = []


def case(fn=None, *, timeout=60.0):
    """Decorator: registers fn (sync or async) as one test case."""
    def reg(f):
        _cases.append((f.__name__, f, timeout))
        return f
    return reg(fn) if fn else reg


def _run_one(fn, timeout):
    if inspect.iscoroutinefunction(fn):
        async def guarded():
            return await asyncio.wait_for(fn(), timeout * slow_factor())
        asyncio.run(guarded())
    else:
        fn()


def main(only=None):
    """Runs every registered case (or those named on the command line)."""
    names = set(sys.argv[1:]) or only
    passed = failed = skipped = 0
    for name, fn, timeout in _cases:
        if names and name not in names:
            continue
        t0 = time.time()
        try:
            _run_one(fn, timeout)
        except Skip as e:
            skipped += 1
            print("skip - %s: %s" % (name, e), flush=True)
            continue
        except Exception:
            failed += 1
            print("FAIL - %s (%.2fs)" % (name, time.time() - t0), flush=True)
            traceback.print_exc(file=sys.stdout)
            sys.stdout.flush()
            continue
        passed += 1
        print("ok - %s (%.2fs)" % (name, time.time() - t0), flush=True)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped), flush=True)
    sys.exit(1 if failed else 0)


def config_value(name, default):
    """A number from the build's cw_config.h (the limits a test must fit)."""
    build = os.environ.get("CW_BUILD") or os.path.dirname(daemon_path())
    try:
        with open(os.path.join(build, "include", "cw_config.h")) as f:
            m = re.search(r"#define %s (\d+)" % name, f.read())
            return int(m.group(1)) if m else default
    except OSError:
        return default


def control_request(path, line, timeout=5.0):
    """One request on the daemon's control socket at path; the whole reply."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(line if isinstance(line, bytes) else line.encode())
        return read_to_eof(s).decode()
    finally:
        s.close()


def read_to_eof(s):
    """Everything a socket gives until the peer closes it."""
    out = bytearray()
    while True:
        b = s.recv(65536)
        if not b:
            return bytes(out)
        out += b


def http_request(port, req):
    """One plain HTTP exchange with the daemon on 127.0.0.1:port; the whole
    answer (the server closes after it)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5 * slow_factor())
    try:
        s.sendall(req)
        return read_to_eof(s)
    finally:
        s.close()


def one_client_may_fill():
    """Daemon arguments that let one client take a whole pool (the fair
    shares of a connection and of an address lifted to 100%), for the
    cases that fill a pool on purpose from 127.0.0.1."""
    if not config_value("CONFIG_FAIR_SHARES", 0):
        return []
    return ["--conn-share", "100", "--addr-share", "100"]


def parse_stats(text):
    """The stats report ("name value" lines, then "pool NAME used/limit high
    H failed F" lines) as {name: value, "pools": {name: (used, limit, high,
    failed)}}."""
    out = {"pools": {}}
    for line in text.splitlines():
        f = line.split()
        if f and f[0] == "pool" and len(f) >= 7:
            used, limit = f[2].split("/")
            out["pools"][f[1]] = (int(used), int(limit), int(f[4]), int(f[6]))
        elif len(f) == 2 and f[1].isdigit():
            out[f[0]] = int(f[1])
    return out


def wait_stats(get, pred, what, timeout=5.0, interval=0.01):
    """Polls get() (a stats dict) until pred holds; fails naming `what`
    after timeout seconds (stretched under emulation)."""
    end = time.time() + timeout * slow_factor()
    while True:
        st = get()
        if pred(st):
            return st
        assert time.time() < end, "%s: %r" % (what, st)
        time.sleep(interval)
