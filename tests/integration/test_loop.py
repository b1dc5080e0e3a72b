# SPDX-License-Identifier: MIT
"""test_loop: the application loop API over real sockets, through
tests/apps/loopapp.c: timers tied to connections (ticks arrive, and stop
with their connection even when its slot is reused), deferred accept
decided from a timer or from another thread's post (the 101 carries the
subprotocol and the extra headers, pipelined frames wait for it), refused,
or left to the handshake deadline, and a client that leaves while pending;
a pipe watched for readiness and hang-up; posts hammered from threads; and
the same program driven by its own poll() loop (cw_loop_*) with its own
signal handling and an explicit graceful shutdown. Standard library only."""

import json
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time

from cwtest import ROOT, case, exec_prefix, main, skip_suite, slow_factor, tls_mode
from wsraw import Client, frame, request

BUILD = os.environ.get("CW_BUILD", os.path.join(ROOT, "build", "host"))
APP = os.path.join(BUILD, "tests", "loopapp")
if tls_mode():
    skip_suite("loopapp listens in plain text only (the TLS pass covers the daemon)")
if not os.access(APP, os.X_OK):
    skip_suite("no tests/loopapp in this build: it needs CONFIG_APP_TIMERS, WATCHES, POSTS, "
               "FOREIGN_LOOP and DEFERRED_ACCEPT")

LISTEN_RE = re.compile(r"listening on \S+ \(port (\d+)\)")


class App:
    def __init__(self, *args):
        self.proc = subprocess.Popen(exec_prefix() + [APP] + list(args), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.lines = []
        self.ready = threading.Event()
        self.port = None
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(10 * slow_factor()) or not self.port:
            self.proc.kill()
            raise AssertionError("loopapp did not start:\n" + "".join(self.lines))

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            self.lines.append(line)
            m = LISTEN_RE.search(line)
            if m:
                self.port = int(m.group(1))
                self.ready.set()
        self.ready.set()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(10 * slow_factor())
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("loopapp did not stop on SIGTERM")
        assert rc == 0, "loopapp exited %r\n%s" % (rc, "".join(self.lines)[-3000:])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            self.proc.kill()
            return False
        self.stop()
        return False


def state(port):
    c = Client(port, "/ws/state/")
    c.send("?")
    st = json.loads(c.text())
    c.close()
    return st


@case
def timer_tied_to_a_connection_ticks():
    with App() as app:
        c = Client(app.port, "/ws/tick/?n=5&ms=40")
        got, at = [], []
        for _ in range(5):
            got.append(c.text())
            at.append(time.time())
        assert got == ["tick %d" % i for i in range(1, 6)], got
        # a periodic timer never fires early: 5 ticks take at least 5 periods,
        # counted from the request (the server starts the timer after it and
        # before its 101, which a loaded machine may deliver late; 2 ms for
        # the millisecond clock)
        assert at[-1] - c.t0 >= 5 * 0.040 - 0.002, at[-1] - c.t0
        c.close()


@case
def tied_timer_stops_when_its_connection_closes():
    with App() as app:
        for _ in range(3):
            c = Client(app.port, "/ws/tick/?n=100000&ms=5")
            assert c.text() == "tick 1"
            c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()  # a reset, mid-period
            # new clients take the freed slots (slot reuse)
            others = [Client(app.port, "/ws/echo/") for _ in range(4)]
            time.sleep(0.1)
            for o in others:
                o.send("still here")
                assert o.text() == "still here"
                o.close()
        time.sleep(0.1)
        assert state(app.port)["late_ticks"] == 0


@case
def deferred_accept_from_a_timer():
    with App() as app:
        c = Client(app.port, "/ws/defer/?how=accept&ms=150",
                   extra="Sec-WebSocket-Protocol: x, chat\r\n", pipelined=frame("early"))
        assert c.t_head - c.t0 >= 0.140, c.t_head - c.t0
        assert c.header("Sec-WebSocket-Protocol") == "chat", c.head
        assert c.header("Set-Cookie") == "sid=abc123; Path=/; HttpOnly", c.head
        assert c.header("X-Loop") == "decided", c.head
        # sent before the 101, kept for after it: handled as the 101 goes out,
        # before the code after cw_accept runs
        assert c.text() == "early"
        assert c.text() == "accepted accept"
        c.send("later")
        assert c.text() == "later"
        c.close()


@case
def bad_accept_arguments_are_refused_without_harm():
    with App() as app:
        c = Client(app.port, "/ws/defer/?how=accept&ms=10")
        assert c.header("X-Loop") == "decided", c.head
        assert c.header("Upgrade") == "websocket" and c.head.count("Upgrade:") == 1, c.head
        assert c.text() == "accepted accept"
        c.close()
        # 5 bad header sets, an unoffered subprotocol, accept/refuse once decided
        assert state(app.port)["bad_refused"] == 7


@case
def extra_headers_on_an_immediate_accept():
    with App() as app:
        c = Client(app.port, "/ws/hdr/")
        assert c.header("Set-Cookie") == "theme=dark; Path=/", c.head
        assert c.header("X-Device") == "loopapp", c.head
        assert c.header("Connection") == "Upgrade", c.head
        c.send("hi")
        assert c.text() == "hi"
        c.close()
        assert state(app.port)["bad_refused"] == 2


@case
def deferred_accept_from_another_threads_post():
    with App() as app:
        c = Client(app.port, "/ws/defer/?how=post&ms=60")
        assert c.header("Set-Cookie").startswith("sid=abc123"), c.head
        assert c.header("Sec-WebSocket-Protocol") is None, c.head
        assert c.text() == "accepted post"
        c.close()


@case
def deferred_refusal_answers_its_status():
    with App() as app:
        c = Client(app.port, "/ws/defer/?how=refuse&ms=30", expect=451)
        c.close()
        assert state(app.port)["decided"] == 1


@case
def pending_past_the_handshake_deadline_gets_503():
    with App("--handshake-timeout", "300") as app:
        c = Client(app.port, "/ws/defer/?how=never", expect=503)
        assert c.t_head - c.t0 >= 0.25, c.t_head - c.t0
        c.close()
        st = state(app.port)
        assert st["pending_disc"] == 1, st


@case
def client_leaving_while_pending_is_cleaned_up():
    with App() as app:
        for _ in range(5):
            s = socket.create_connection(("127.0.0.1", app.port))
            s.sendall(request("/ws/defer/?how=accept&ms=200"))
            time.sleep(0.03)
            s.close()
        time.sleep(0.5)
        st = state(app.port)
        # disconnect ran for each, and each later decision found no connection
        assert st["pending_disc"] == 5, st
        assert st["pending_gone"] == 5, st
        assert st["decided"] == 0, st
        c = Client(app.port, "/ws/echo/")
        c.send("alive")
        assert c.text() == "alive"
        c.close()


@case
def pipe_watch_relays_lines_then_the_hang_up():
    with App() as app:
        for _ in range(2):
            c = Client(app.port, "/ws/pipe/")
            got = [c.text() for _ in range(21)]
            assert got[:20] == ["line %d" % i for i in range(1, 21)], got
            assert got[20] == "hup", got
            c.close()


@case
def posts_from_threads_all_arrive():
    with App() as app:
        c = Client(app.port, "/ws/posts/?n=20000")
        m = re.match(r"posts (\d+) full (\d+)$", c.text())
        assert m and int(m.group(1)) == 40000, m
        c.close()


@case
def own_main_loop_and_signals():
    with App("--foreign") as app:
        assert any("foreign loop" in l for l in app.lines)
        c = Client(app.port, "/ws/tick/?n=3&ms=20")
        assert [c.text() for _ in range(3)] == ["tick 1", "tick 2", "tick 3"]
        assert state(app.port)["nested_refused"] == 3  # cw_loop_service from a timer
        d = Client(app.port, "/ws/defer/?how=post&ms=20")
        assert d.text() == "accepted post"
        p = Client(app.port, "/ws/posts/?n=5000")
        assert p.text().startswith("posts 10000 ")
        e = Client(app.port, "/ws/echo/")
        e.send("x")
        assert e.text() == "x"
        # SIGTERM goes to the program's handler, which asks cw_stop: the
        # graceful shutdown closes e with 1001 and cw_loop_service says done
        app.proc.send_signal(signal.SIGTERM)
        op, data = e.recv()
        assert op == 8 and struct.unpack(">H", data[:2])[0] == 1001, (op, data)
        e.close()
        assert app.proc.wait(10 * slow_factor()) == 0


if __name__ == "__main__":
    main()
