#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_restart: restarts that drop nobody (docs/operations.md,
"Restarting without dropping clients"). The daemon runs from a copy of the
binary; the copy is replaced on disk (a new inode, as a package upgrade
does) and SIGUSR2 (or chanwire-send --restart) makes the daemon exec the
new file in place, keeping its PID and its listening sockets. Under 200
connected clients and a loop that opens new connections all the time, no
attempt may be refused or reset, every old client gets close 1012 and
reconnects, and /proc/PID/exe is the new file afterwards. A new binary
that fails its trial run, or is missing, leaves the old one serving,
with the reason in the log. Only the standard library."""

import asyncio
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from cwtest import Daemon, case, config_value, daemon_path, exec_prefix, main, skip_suite, \
    slow_factor
from rawws import OP_CLOSE, OP_TEXT, frame, request

os.environ["CW_TLS"] = "0"  # the handover is the same for TLS listeners; raw sockets here
S = slow_factor()
if not config_value("CONFIG_RESTART", 0):
    @case
    def restart_not_in_this_build():
        # CONFIG_RESTART off (tiny, qemu-armv7): the control command is
        # unknown, and --help does not offer SIGUSR2.
        p = subprocess.run(exec_prefix() + [daemon_path(), "--help"], stdout=subprocess.PIPE,
                           timeout=20 * S)
        assert p.returncode == 0 and b"SIGUSR2" not in p.stdout, p
        if config_value("CONFIG_CONTROL_SOCKET", 0):
            with Daemon("--control", os.path.join(tempfile.mkdtemp(), "ctl.sock")) as d:
                ctl = [a for a in d.argv if a.endswith("ctl.sock")][0]
                cli = os.path.join(os.path.dirname(daemon_path()), "chanwire-send")
                p = subprocess.run(exec_prefix() + [cli, "--socket", ctl, "--restart"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20 * S)
                assert p.returncode == 1 and b"unknown command" in p.stderr, p

    main()
    sys.exit(0)
if os.environ.get("CW_REMOTE") or exec_prefix():
    skip_suite("the daemon execs its own binary: needs it on this machine, not under an "
               "emulator prefix")

# 200 clients, as the issue asks, when the build's slots allow them (and
# the loop's and the reconnections' on top).
CLIENTS = max(1, min(200, config_value("CONFIG_MAX_CONNS", 16) - 20))
ORIG = daemon_path()  # the build's binary (CW_DAEMON points at a copy only while one starts)
SHARE = ["--conn-share", "100", "--addr-share", "100"] if config_value("CONFIG_FAIR_SHARES", 0) else []


class Copy:
    """The daemon's binary copied to a directory of its own, so the test can
    replace it on disk the way an upgrade does."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cw-restart-")
        self.path = os.path.join(self.dir, "chanwired")
        shutil.copy2(ORIG, self.path)

    def replace(self, content=None):
        """A new file (new inode) at the same path: the same program, or a
        script with content."""
        tmp = self.path + ".new"
        if content is None:
            shutil.copy2(ORIG, tmp)
        else:
            with open(tmp, "w") as f:
                f.write(content)
            os.chmod(tmp, 0o755)
        os.replace(tmp, self.path)
        return os.stat(self.path).st_ino

    def start(self, *args):
        os.environ["CW_DAEMON"] = self.path
        try:
            return Daemon(*(("--shutdown-timeout", "5000", "--log-level", "info") + args))
        finally:
            os.environ["CW_DAEMON"] = ORIG

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def exe_inode(pid):
    return os.stat("/proc/%d/exe" % pid).st_ino


async def read_frame(r):
    h = await r.readexactly(2)
    n = h[1] & 127
    if n == 126:
        n = struct.unpack(">H", await r.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", await r.readexactly(8))[0]
    return h[0] & 15, await r.readexactly(n)


async def ws_open(port):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(request("/ws/echo/"))
    head = await r.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        w.close()
        raise RuntimeError("no upgrade: %r" % head[:60])
    return r, w


async def echo(r, w, data):
    w.write(frame(OP_TEXT, data))
    op, p = await read_frame(r)
    return op, p


async def bye(r, w, code=1000):
    w.write(frame(OP_CLOSE, struct.pack(">H", code)))
    try:
        await asyncio.wait_for(w.drain(), 5 * S)
        await asyncio.wait_for(read_frame(r), 5 * S)
    except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
        pass
    w.close()


class Tally:
    def __init__(self):
        self.ok = 0
        self.sent_away = 0    # upgraded, then closed with 1012 by the restart: not a refusal
        self.errors = []      # refused, reset, or anything but an answer
        self.max_wait = 0.0   # the longest a new connection waited for its 101


async def opener(port, stop, t):
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            r, w = await asyncio.wait_for(ws_open(port), 30 * S)
            t.max_wait = max(t.max_wait, time.monotonic() - t0)
            op, p = await asyncio.wait_for(echo(r, w, b"loop"), 30 * S)
            if op == OP_CLOSE and p[:2] == struct.pack(">H", 1012):
                t.sent_away += 1
                w.close()
                continue
            if (op, p) != (OP_TEXT, b"loop"):
                t.errors.append("echo: %r %r" % (op, p[:40]))
            else:
                t.ok += 1
            await bye(r, w)
        except Exception as e:  # refused, reset, EOF, timeout: all failures here
            t.errors.append(repr(e))
            await asyncio.sleep(0.01)


async def old_client(port, i, ready, codes, back):
    r, w = await ws_open(port)
    op, p = await echo(r, w, b"old %d" % i)
    assert (op, p) == (OP_TEXT, b"old %d" % i), (op, p)
    ready.append(i)
    op, p = await asyncio.wait_for(read_frame(r), 60 * S)
    codes.append(struct.unpack(">H", p[:2])[0] if op == OP_CLOSE and len(p) >= 2 else -op)
    w.write(frame(OP_CLOSE, p[:2]))
    try:
        await w.drain()
    except OSError:
        pass
    w.close()
    # Reconnect at once, as a browser told 1012 does.
    r, w = await asyncio.wait_for(ws_open(port), 30 * S)
    op, p = await echo(r, w, b"back %d" % i)
    assert (op, p) == (OP_TEXT, b"back %d" % i), (op, p)
    back.append(i)
    await bye(r, w)


async def restart_under_load(d, trigger):
    """CLIENTS connected, three loops opening more, then trigger(); returns
    (codes, back, tally, restart duration)."""
    ready, codes, back = [], [], []
    clients = [asyncio.ensure_future(old_client(d.port, i, ready, codes, back))
               for i in range(CLIENTS)]
    end = time.time() + 30 * S
    while len(ready) < CLIENTS and time.time() < end:
        await asyncio.sleep(0.02)
    assert len(ready) == CLIENTS, (len(ready), d.log[-2000:])
    stop, t = asyncio.Event(), Tally()
    loops = [asyncio.ensure_future(opener(d.port, stop, t)) for _ in range(3)]
    await asyncio.sleep(0.3)
    before = t.ok
    t0 = time.monotonic()
    await asyncio.get_running_loop().run_in_executor(None, trigger)
    end = time.time() + 90 * S
    while not all(c.done() for c in clients):
        assert d.alive(), "the daemon exited:\n" + d.log[-3000:]
        assert time.time() < end, (len(back), d.log[-3000:])
        await asyncio.sleep(0.05)
    errs = [c.exception() for c in clients]  # each retrieved: no asyncio noise
    errs = [e for e in errs if e]
    assert not errs, ("%d old client(s) failed, the first: %r; daemon status %r\n%s"
                      % (len(errs), errs[0], d.proc.poll(), d.log[-3000:]))
    took = time.monotonic() - t0
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*loops), 60 * S)
    assert t.ok > before, "the loop made no connection after the restart"
    return codes, back, t, took


@case(timeout=240)
def sigusr2_under_200_clients():
    c = Copy()
    try:
        with c.start(*SHARE) as d:
            pid = d.proc.pid
            old_ino = exe_inode(pid)
            new_ino = c.replace()
            assert new_ino != old_ino
            codes, back, t, took = asyncio.run(
                restart_under_load(d, lambda: os.kill(pid, signal.SIGUSR2)))
            assert d.wait_log(r"restart: listener \S+ taken over"), d.log[-3000:]
            assert t.errors == [], (t.errors[:10], len(t.errors), d.log[-3000:])
            assert sorted(codes) == [1012] * CLIENTS, [x for x in codes if x != 1012][:10]
            assert len(back) == CLIENTS, len(back)
            assert d.alive(), d.log[-2000:]
            # The same PID (exec in place), running the new file.
            assert exe_inode(pid) == new_ino, (exe_inode(pid), new_ino)
            assert d.log.count("restart: exec ") == 1, d.log[-3000:]
            print("restart with %d clients: %.2f s until all were back; new connections: %d "
                  "refused or reset, longest wait for a 101 %.3f s, %d answered, %d sent away "
                  "with 1012" % (CLIENTS, took, len(t.errors), t.max_wait, t.ok, t.sent_away))
    finally:
        c.cleanup()


@case(timeout=120)
def restart_by_control_command():
    if not config_value("CONFIG_CONTROL_SOCKET", 0):
        return  # no control socket in this build: SIGUSR2 is the only way (case above)
    c = Copy()
    ctl = os.path.join(c.dir, "ctl.sock")
    cli = os.path.join(os.path.dirname(ORIG), "chanwire-send")
    try:
        with c.start("--control", ctl) as d:
            pid = d.proc.pid
            new_ino = c.replace()
            p = subprocess.run([cli, "--socket", ctl, "--restart"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=10 * S)
            assert p.returncode == 0, (p.returncode, p.stdout, p.stderr, d.log[-2000:])
            assert d.wait_log(r"restart: listener \S+ taken over", 20), d.log[-3000:]
            assert exe_inode(pid) == new_ino
            # The control socket's path is served by the new image.
            end = time.time() + 10 * S
            while True:
                p = subprocess.run([cli, "--socket", ctl, "--stats"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=10 * S)
                if p.returncode == 0 or time.time() > end:
                    break
                time.sleep(0.05)
            assert p.returncode == 0 and b"conns_open" in p.stdout, (p, d.log[-2000:])
            p = subprocess.run([cli, "--socket", ctl, "--restart", "extra"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10 * S)
            assert p.returncode == 2, p
    finally:
        c.cleanup()


@case(timeout=120)
def restart_after_dropping_root():
    # The packaged way (dist/chanwired.service): started as root, the daemon
    # binds, then becomes --user. Its new image runs as that user from the
    # start: it must take the listeners and the control socket over (a
    # user cannot create the socket in a root-owned directory again).
    import pwd
    if os.geteuid() != 0:
        print("as root only (--user): not root here; the other cases cover the rest")
        return
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        print("no user nobody on this machine")
        return
    c = Copy()
    os.chmod(c.dir, 0o755)  # nobody may run the copy, not create files here
    ctl = os.path.join(c.dir, "ctl.sock")
    cli = os.path.join(os.path.dirname(ORIG), "chanwire-send")
    try:
        with c.start("--user", "nobody", "--control", ctl) as d:
            pid = d.proc.pid
            new_ino = c.replace()

            async def go():
                r, w = await ws_open(d.port)
                os.kill(pid, signal.SIGUSR2)
                op, p = await asyncio.wait_for(read_frame(r), 30 * S)
                assert (op, p[:2]) == (OP_CLOSE, struct.pack(">H", 1012)), (op, p)
                w.close()
                assert d.wait_log(r"restart: control socket \S+ taken over", 20), d.log[-3000:]
                r, w = await asyncio.wait_for(ws_open(d.port), 20 * S)
                assert await echo(r, w, b"as nobody") == (OP_TEXT, b"as nobody")
                await bye(r, w)

            asyncio.run(go())
            assert exe_inode(pid) == new_ino
            with open("/proc/%d/status" % pid) as f:
                uid = [l.split()[1] for l in f if l.startswith("Uid:")][0]
            assert int(uid) == pwd.getpwnam("nobody").pw_uid, uid
            p = subprocess.run([cli, "--socket", ctl, "--stats"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=10 * S)
            assert p.returncode == 0, (p, d.log[-2000:])
    finally:
        c.cleanup()


async def still_serving(d, clients):
    """The clients that were connected are, and answer; a new one too."""
    for r, w in clients:
        op, p = await asyncio.wait_for(echo(r, w, b"still"), 10 * S)
        assert (op, p) == (OP_TEXT, b"still"), (op, p)
    r, w = await asyncio.wait_for(ws_open(d.port), 10 * S)
    assert await echo(r, w, b"new") == (OP_TEXT, b"new")
    await bye(r, w)


@case(timeout=120)
def failed_new_binary_keeps_the_old_one():
    c = Copy()
    try:
        with c.start(*SHARE) as d:
            pid = d.proc.pid
            old_ino = exe_inode(pid)

            async def go():
                clients = [await ws_open(d.port) for _ in range(5)]
                # A new binary that cannot start with these options.
                c.replace("#!/bin/sh\necho 'broken build' >&2\nexit 3\n")
                os.kill(pid, signal.SIGUSR2)
                assert d.wait_log(r"restart: the new binary's trial run \(--plan\) failed with "
                                  r"status 3; this process goes on serving", 20), d.log[-2000:]
                await still_serving(d, clients)
                # No binary at all.
                os.remove(c.path)
                os.kill(pid, signal.SIGUSR2)
                assert d.wait_log(r"restart: cannot (run the new binary|start a trial run of) "
                                  r".*goes on serving",
                                  20), d.log[-2000:]
                await still_serving(d, clients)
                for r, w in clients:
                    await bye(r, w)

            asyncio.run(go())
            assert "restart: exec" not in d.log, d.log[-2000:]
            assert exe_inode(pid) == old_ino
            assert d.log.count("taken over") == 0
    finally:
        c.cleanup()


if __name__ == "__main__":
    main()
