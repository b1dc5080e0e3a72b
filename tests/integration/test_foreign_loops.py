# SPDX-License-Identifier: MIT
"""test_foreign_loops: examples/glib_loop.c and examples/libuv_loop.c, where
GLib's and libuv's main loops drive chanwire through cw_loop_fd,
cw_loop_timeout and cw_loop_service with their own signal handling. Each
must answer WebSocket echoes (the descriptor integration), deliver ticks
from a chanwire timer while nothing else happens (the timeout
integration), and on SIGTERM close an open client with 1001 and exit 0
(the explicit graceful shutdown). An example that was not built because its
library is missing is skipped with the package to install. Standard
library only."""

import os
import re
import signal
import subprocess
import threading
import time


def has_config(build, name):
    try:
        with open(os.path.join(build, "include", "cw_config.h")) as f:
            return any(l.split()[:2] == ["#define", name] for l in f)
    except OSError:
        return False

from cwtest import ROOT, Skip, case, main, skip_suite, slow_factor, tls_mode
from wsraw import Client

BUILD = os.environ.get("CW_BUILD", os.path.join(ROOT, "build", "host"))
if tls_mode():
    skip_suite("the examples listen in plain text only")
if has_config(BUILD, "CONFIG_POLLER_POLL"):
    skip_suite("the poll build has no loop descriptor for another loop to watch (docs/api.md); "
               "test_loop.py drives it by timeout")
if not os.path.exists(os.path.join(BUILD, "tests", "loopapp")) and \
        not any(os.path.exists(os.path.join(BUILD, "examples", n)) for n in ("glib_loop", "libuv_loop")):
    skip_suite("this build has no foreign-loop API (CONFIG_FOREIGN_LOOP, CONFIG_APP_TIMERS)")

LISTEN_RE = re.compile(r"listening on \S+ \(port (\d+)\)")
PACKAGES = {"glib_loop": "libglib2.0-dev", "libuv_loop": "libuv1-dev"}


class Example:
    def __init__(self, name):
        self.path = os.path.join(BUILD, "examples", name)
        if not os.access(self.path, os.X_OK):
            raise Skip("examples/%s.c not built: %s not installed (apt-get install %s)"
                       % (name, PACKAGES[name], PACKAGES[name]))
        self.proc = subprocess.Popen([self.path, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.lines, self.port, ready = [], None, threading.Event()

        def read():
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace")
                self.lines.append(line)
                m = LISTEN_RE.search(line)
                if m:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()
        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(10 * slow_factor()) or not self.port:
            self.proc.kill()
            raise AssertionError("%s did not start:\n%s" % (name, "".join(self.lines)))


def exercise(name):
    ex = Example(name)
    try:
        c = Client(ex.port, "/ws/echo/")
        for text in ("hello", "x" * 1000, "ünïcödé"):
            c.send(text)
            assert c.text() == text
        # ticks come from a chanwire timer: only the timeout wakes the loop
        t = Client(ex.port, "/ws/tick/")
        got = [t.text() for _ in range(5)]
        assert got == ["tick %d" % i for i in range(1, 6)], got
        assert time.time() - t.t_head >= 0.45
        t.close()
        ex.proc.send_signal(signal.SIGTERM)
        op, data = c.recv()
        assert op == 8 and data[:2] == b"\x03\xe9", (op, data)  # 1001
        c.close()
        assert ex.proc.wait(10 * slow_factor()) == 0, "".join(ex.lines)
    finally:
        if ex.proc.poll() is None:
            ex.proc.kill()


@case
def glib_main_loop_drives_chanwire():
    exercise("glib_loop")


@case
def libuv_loop_drives_chanwire():
    exercise("libuv_loop")


if __name__ == "__main__":
    main()
