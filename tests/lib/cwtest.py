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


_LISTEN_RE = re.compile(r"listening on (\S+) \(port (\d+)\)")


class Daemon:
    """A running chanwired. Use as a context manager or call stop()."""

    def __init__(self, *args, counting=False, listen=None, env=None, start_timeout=10.0,
                 wait_ready=True):
        self.binary = daemon_path(counting)
        listen = listen or ["127.0.0.1:0"]
        argv = exec_prefix() + [self.binary]
        for l in listen:
            argv += ["--listen", l]
        if not any(a.startswith("--log-level") for a in args):
            argv += ["--log-level", "debug"]
        # Suites run side by side: none may claim the default control socket.
        if not any(a.startswith("--control") or a == "--no-control" for a in args):
            argv += ["--no-control"]
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
        return "ws://127.0.0.1:%d%s" % (port or self.port, path)

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


def connect_raw(port, host="127.0.0.1", timeout=5.0):
    s = socket.create_connection((host, port), timeout=timeout * slow_factor())
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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
