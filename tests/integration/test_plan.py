#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_plan: the memory plan (docs/operations.md, "Memory plan").
chanwired --plan prints one line per pool and part with a total that is
their sum, and binds nothing; --mem-budget below the plan refuses to start
(exit 1, one line naming both), above it starts. Then the daemon is
driven to full load with the same options, pool by pool (every HTTP
request buffer half-filled by slow handshakes, every group and membership
taken, every message block holding a partial message, every shared-frame
reference and every I/O block queued to clients that do not read), and
its VmRSS must stay within the plan (margin: none; the plan carries its
own stack and heap allowances) while the plan stays within LOOSE times the
measured RSS. Only the standard library."""

import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from cwtest import Daemon, case, config_value, daemon_path, exec_prefix, main, root_args, \
    skip_suite, slow_factor
from rawws import OP_CLOSE, OP_TEXT, frame, request

os.environ["CW_TLS"] = "0"  # the plan's pools, not TLS's: plain listeners
S = slow_factor()
LOOSE = 2.0  # the plan may be at most this many times the RSS measured at full load
MARGIN = 0   # bytes the RSS may exceed the plan by

if not config_value("CONFIG_MEM_PLAN", 0):
    @case
    def plan_not_in_this_build():
        # CONFIG_MEM_PLAN off (tiny, qemu-armv7): the flags are unknown.
        for args in (["--plan"], ["--mem-budget", "1M"]):
            p = subprocess.run(exec_prefix() + [daemon_path(), "--no-control"] + root_args(args)
                               + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=20 * slow_factor())
            assert p.returncode == 2 and b"unknown option" in p.stderr, (args, p)

    main()
    sys.exit(0)
if os.environ.get("CW_REMOTE") or exec_prefix():
    skip_suite("reads the daemon's /proc/PID/status: needs the daemon on this machine, "
               "not under an emulator prefix")

MAX_CONNS = min(200, config_value("CONFIG_MAX_CONNS", 16))
HAS_GROUPS = config_value("CONFIG_GROUPS", 0) != 0
GROUPS = min(MAX_CONNS, config_value("CONFIG_MAX_GROUPS", 0) or 1)
MEMBERS = min(MAX_CONNS, config_value("CONFIG_MAX_MEMBERSHIPS", 0) or 1)
MAX_MSG = min(65536, config_value("CONFIG_MAX_MESSAGE_SIZE", 4096))
SENDQ = min(262144, config_value("CONFIG_SENDQ_MAX", 65536))
MSG_BUFS = config_value("CONFIG_MSG_BUFS", 1)
OPTS = ["--max-conns", str(MAX_CONNS), "--max-message", str(MAX_MSG), "--sendq-max", str(SENDQ),
        "--ping-interval", "0", "--handshake-timeout", "60000", "--message-timeout", "0",
        "--pong-timeout", "600000"]
if config_value("CONFIG_FAIR_SHARES", 0):
    # One test client address takes all: the plan is for every client together.
    OPTS += ["--conn-share", "100", "--addr-share", "100"]
if HAS_GROUPS:
    OPTS += ["--max-groups", str(GROUPS), "--max-memberships", str(MEMBERS)]


def run(*args):
    argv = exec_prefix() + [daemon_path()] + ["--no-control"] + root_args(args) + list(args)
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=20 * S)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def plan(*args):
    rc, out, err = run("--plan", *args)
    assert rc == 0, (rc, out, err)
    lines = {}
    for line in out.splitlines():
        m = re.match(r"plan (\S+)\s+(\d+)  ", line)
        assert m, line
        lines[m.group(1)] = int(m.group(2))
    return lines, out


@case
def plan_lists_every_part():
    lines, out = plan(*OPTS)
    for name in ("pool:conn", "pool:io", "pool:msg", "pool:http", "static", "text", "libs",
                 "stack", "heap", "total"):
        assert name in lines, (name, out)
    if HAS_GROUPS:
        assert "pool:group" in lines and "pool:member" in lines, out
        assert "%d of " % GROUPS in out.split("pool:group")[1].splitlines()[0], out
    total = lines.pop("total")
    assert total == sum(lines.values()), out
    # The options count: more connections, a larger plan; the build's
    # defaults are the largest.
    fewer, _ = plan(*(OPTS[:1] + ["1"] + OPTS[2:]))
    full, _ = plan()
    assert fewer["pool:conn"] < lines["pool:conn"] <= full["pool:conn"], (fewer, lines, full)
    assert fewer["total"] < total <= full["total"], (fewer["total"], total, full["total"])


@case
def plan_binds_nothing():
    # The port is taken by someone else: --plan does not care (it never
    # binds), a real start fails on it.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    addr = "127.0.0.1:%d" % s.getsockname()[1]
    try:
        rc, out, err = run("--plan", "--listen", addr)
        assert rc == 0 and "plan total" in out, (rc, out, err)
        rc, out, err = run("--listen", addr)
        assert rc == 1, (rc, out, err)
    finally:
        s.close()


@case
def mem_budget():
    lines, _ = plan(*OPTS)
    total = lines["total"]
    rc, out, err = run("--mem-budget", str(total - 1), *OPTS)
    assert rc == 1, (rc, out, err)
    assert err.count("\n") == 1, err
    assert "memory plan, %d bytes, exceeds --mem-budget %d bytes" % (total, total - 1) in err, err
    rc, out, err = run("--mem-budget", "1K", *OPTS)
    assert rc == 1 and "exceeds --mem-budget 1024 bytes" in err, (rc, err)
    for bad in ("", "12Q", "-5", "1.5M", "M"):
        rc, out, err = run("--mem-budget", bad, *OPTS)
        assert rc == 2 and "--mem-budget wants bytes" in err, (bad, rc, err)
    # At or above the plan: it starts (and says so).
    kib = (total + 1023) // 1024
    with Daemon("--mem-budget", "%dK" % kib, *OPTS) as d:
        assert d.wait_log(r"memory plan %d bytes, within --mem-budget %d" % (total, kib * 1024)), d.log


# ---- full load ----

def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def connect(port, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10 * S)
    s.connect(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_head(s):
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = s.recv(4096)
        assert chunk, got
        got += chunk
    assert got.startswith(b"HTTP/1.1 101"), got[:80]
    return got.split(b"\r\n\r\n", 1)[1]


def upgrade(port, path="/ws/echo/", rcvbuf=None):
    s = connect(port, rcvbuf)
    s.sendall(request(path))
    read_head(s)
    return s


def stats(port):
    st = connect(port)
    st.sendall(b"GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    body = b""
    while True:
        chunk = st.recv(65536)
        if not chunk:
            break
        body += chunk
    st.close()
    return body.decode(errors="replace")


def close_all(socks, port):
    """Closes them and waits until the daemon has freed their slots."""
    for s in socks:
        try:
            s.close()
        except OSError:
            pass
    socks.clear()
    end = time.time() + 20 * S
    while time.time() < end:
        text = stats(port)
        if "conns_open" not in text:  # no GET /stats in this build
            time.sleep(1.0 * S)
            return
        if re.search(r"^conns_open 0$", text, re.M) and re.search(r"^conns_http 1$", text, re.M):
            return
        time.sleep(0.05)
    raise AssertionError("connections not freed:\n" + text)


def push(socks, data, cap):
    """Sends data over and over on every socket, non-blocking, until each
    has sent cap bytes, the daemon closed it, or none moved for a while."""
    sent = {s: 0 for s in socks}
    for s in socks:
        s.setblocking(False)
    idle_since = time.time()
    while sent and time.time() - idle_since < 1.0 * S:
        moved = False
        for s in list(sent):
            try:
                n = s.send(data)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                del sent[s]  # closed by the daemon (1008, 1013): its pages were used
                continue
            moved = moved or n > 0
            sent[s] += n
            if sent[s] >= cap:
                del sent[s]
        if moved:
            idle_since = time.time()
        else:
            time.sleep(0.01)


@case(timeout=300)
def rss_at_full_load_within_plan():
    lines, text = plan(*OPTS)
    total = lines["total"]
    with Daemon("--log-level", "info", *OPTS) as d:
        pid = d.proc.pid
        idle = rss(pid)
        socks = []
        # 1. Every connection slot in a slow handshake: each HTTP request
        #    buffer (as many as the slots) nearly full.
        pad = b"X-Pad: " + b"a" * (config_value("CONFIG_HTTP_MAX_REQUEST", 8192) - 400) + b"\r\n"
        req = request("/ws/echo/")
        head, tail = req[:-2], b"\r\n"
        for _ in range(MAX_CONNS):
            s = connect(d.port)
            s.sendall(head + pad)
            socks.append(s)
        time.sleep(0.3 * S)
        for s in socks:
            s.sendall(tail)
        for s in socks:
            read_head(s)
        # 2. A partial frame header on each: the stash blocks.
        for s in socks:
            s.sendall(b"\x81")
        time.sleep(0.2 * S)
        close_all(socks, d.port)
        # 3. Every message block holding a message that has not arrived whole.
        part = frame(OP_TEXT, b"m" * MAX_MSG)
        for _ in range(min(MSG_BUFS, MAX_CONNS)):
            s = upgrade(d.port)
            s.sendall(part[:-100])
            socks.append(s)
        time.sleep(0.5 * S)
        close_all(socks, d.port)
        # 4. Groups and memberships: one room each, then all in one room
        #    whose broadcasts wait in the queues of members that do not read
        #    (the shared-frame references).
        if HAS_GROUPS:
            for i in range(min(GROUPS, MEMBERS)):
                socks.append(upgrade(d.port, "/ws/chat/r%d/" % i))
            time.sleep(0.2 * S)
            close_all(socks, d.port)
            time.sleep(0.3 * S)
            for _ in range(MEMBERS - 1):
                socks.append(upgrade(d.port, "/ws/chat/all/", rcvbuf=4096))
            talker = upgrade(d.port, "/ws/chat/all/", rcvbuf=1 << 20)
            refs = config_value("CONFIG_TX_REFS", 1024)
            msg = frame(OP_TEXT, b'{"message": "hi"}')
            for _ in range(refs // max(1, MEMBERS - 1) + 8):
                talker.sendall(msg)
                try:
                    talker.setblocking(False)
                    while talker.recv(1 << 16):
                        pass
                except (BlockingIOError, OSError):
                    pass
                talker.setblocking(True)
            time.sleep(0.5 * S)
            talker.close()
            close_all(socks, d.port)
            time.sleep(0.3 * S)
        # 5. Send queues: every slot echoing to a client that does not read,
        #    until the queues (or the I/O pool) are full.
        for _ in range(MAX_CONNS):
            socks.append(upgrade(d.port, rcvbuf=4096))
        push(socks, frame(OP_TEXT, b"q" * 4000) * 4, SENDQ + (256 << 10))
        time.sleep(0.5 * S)
        full = rss(pid)
        close_all(socks, d.port)
        print("".join(l + "\n" for l in stats(d.port).splitlines() if l.startswith("pool ")),
              end="")  # each pool's high water, beside the plan's lines
        print("plan %d bytes; VmRSS idle %d, at full load %d (plan/RSS %.2f)"
              % (total, idle, full, total / full))
        assert full <= total + MARGIN, (full, total, text)
        assert total <= LOOSE * full, (total, full, text)
        assert d.alive(), d.log


if __name__ == "__main__":
    main()
