#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_shares: one client must not starve the device (docs/security.md,
"Fair shares"). The attacker connects from 127.0.0.2 (or .3), honest
clients from 127.0.0.1, so the per-address shares of the build's defaults
are what is tested. Only the standard library; runs on every board that
has CONFIG_FAIR_SHARES (the small-pool qemu-armv7 under qemu-user in CI,
where the starvation reproduction of issue 12 filled the pool before)."""

import os
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from cwtest import Daemon as _Daemon, case, config_value, main, parse_stats, slow_factor, wait_stats
from rawws import OP_BINARY, OP_PONG, OP_TEXT, Conn, frame

# The shares are counted per address before any TLS (the TLS sessions'
# own share is tests/integration/tls/test_tls.py::tls_sessions_shared_per_address);
# these cases drive sockets by hand (non-blocking sends, small receive
# buffers), so in the TLS pass of make check they too use a plain listener.
os.environ["CW_TLS"] = "0"

S = slow_factor()
ATTACKER = "127.0.0.2"
IO_BUF = config_value("CONFIG_IO_BUF_SIZE", 4096)

WWW = tempfile.mkdtemp(prefix="cw-shares-")
BIG = os.urandom(8 << 20)  # more than the kernel buffers on both sides
with open(os.path.join(WWW, "big.bin"), "wb") as f:
    f.write(BIG)
with open(os.path.join(WWW, "index.html"), "wb") as f:
    f.write(b"<!doctype html><title>device</title>\n")


def Daemon(*args, **kw):
    return _Daemon("--www", WWW, *args, **kw)


def http(port, req, source=None, timeout=5.0):
    """One HTTP exchange; the whole answer (the server closes)."""
    s = socket.socket()
    if source:
        s.bind((source, 0))
    s.settimeout(timeout * S)
    s.connect(("127.0.0.1", port))
    s.sendall(req)
    out = bytearray()
    try:
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            out += b
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    return bytes(out)


def status(resp):
    return int(resp.split(b" ", 2)[1]) if resp.startswith(b"HTTP/1.1 ") else None


def stats(port):
    resp = http(port, b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status(resp) == 200, resp[:200]
    return parse_stats(resp.split(b"\r\n\r\n", 1)[1].decode())


def wait_stat(port, pred, what, timeout):
    return wait_stats(lambda: stats(port), pred, what, timeout, interval=0.1)


def upgrade(port, source=None, rcvbuf=None):
    c = Conn(port, tls=False, source=source, rcvbuf=rcvbuf, timeout=10 * S)
    assert c.handshake() == 101, c.head
    return c


def honest_checks(port, old):
    """Everything an honest client needs still works."""
    blob = os.urandom(20000)
    old.echo(blob, OP_BINARY)
    new = upgrade(port)
    new.echo("still served")
    new.close()
    assert status(http(port, b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")) == 404
    page = http(port, b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n", timeout=30)
    assert status(page) == 200 and page.split(b"\r\n\r\n", 1)[1] == BIG, page[:100]
    return stats(port)


@case(timeout=180)
def one_address_cannot_starve_the_server():
    # The reproduction of issue 12: sockets that never read (small receive
    # buffers) echo 2000-byte messages until the server stops reading them,
    # then send an empty pong each second; more sockets each hold a frame
    # header and one payload byte. Before the fair shares this filled the
    # I/O pool of the qemu-armv7 board for as long as the attacker stayed.
    pong_ms, msg_ms = 3000, 3000
    # A silent partial frame cannot answer a ping (a pong inside a frame's
    # bytes is no pong): the ping deadline cuts those, the message deadline
    # any that trickle.
    with Daemon("--pong-timeout", str(pong_ms), "--message-timeout", str(msg_ms),
                "--ping-interval", "2000") as d:
        base = stats(d.port)
        io_used0, io_limit = base["pools"]["io"][0], base["pools"]["io"][1]
        old = upgrade(d.port)
        sendq = config_value("CONFIG_SENDQ_MAX", 1 << 20)
        # Enough never-readers to hold the whole pool without shares.
        n_stuck = min(48, (io_limit * IO_BUF) // max(1, min(sendq, io_limit * IO_BUF // 4) // 2) + 2)
        stuck = []
        for _ in range(n_stuck):
            try:
                stuck.append(upgrade(d.port, ATTACKER, rcvbuf=4096))
            except (AssertionError, OSError, EOFError):
                break  # over its share of connections: 429 is the answer
        msg = frame(OP_BINARY, os.urandom(2000))
        for c in stuck:
            c.sock.setblocking(False)
        end = time.time() + 30 * S
        live, talked = list(stuck), time.time()
        while live and time.time() < end:
            if time.time() - talked > 0.5:  # the honest client stays active (pings)
                old.echo("alive")
                talked = time.time()
            for c in list(live):
                try:
                    c.sock.send(msg)
                except BlockingIOError:
                    live.remove(c)  # the server stopped reading it
                except OSError:
                    live.remove(c)  # closed (1013: its address is over its share)
        partial = []
        old.echo("alive")
        for i in range(7):
            c = upgrade(d.port, ATTACKER)
            hdr = frame(OP_BINARY, b"x" * 1000)
            c.sock.sendall(hdr[: 8 + 1] if i % 2 else hdr[:1])  # header + 1 byte, or 1 byte
            partial.append(c)
        n_stashed = 4  # the 1-byte ones; a whole header's payload byte goes to a message block
        st = stats(d.port)
        print("  %d never-readers, io pool %d/%d, stash %d" % (len(stuck), st["pools"]["io"][0], io_limit,
                                                                st["pools"]["stash"][0]))
        stop = threading.Event()

        def pong():
            while not stop.wait(1.0):
                for c in stuck:
                    try:
                        c.sock.send(frame(OP_PONG))
                    except OSError:
                        pass
        t = threading.Thread(target=pong, daemon=True)
        t.start()
        try:
            # One address never holds more than its share of the I/O pool:
            # the rest, and the reserve, stay for everybody else.
            share = config_value("CONFIG_ADDR_SHARE_PCT", 50)
            assert st["pools"]["io"][0] - io_used0 <= io_limit * share // 100 + 4 * (sendq // IO_BUF + 2), st["pools"]
            assert st["pools"]["stash"][0] >= n_stashed, "partial headers take stash blocks, not I/O blocks"
            st = honest_checks(d.port, old)
            # The never-readers are closed within the pong timeout although
            # they send pongs, the partial frames at the message deadline.
            # (the honest client keeps talking, so it is never the one pinged out)
            def cut(s):
                old.echo("alive")
                return (s["send_timeouts"] + s["share_refusals"] >= 1 and
                        s["message_timeouts"] + s["ping_timeouts"] >= 7 and s["conns_open"] <= 1)
            st = wait_stat(d.port, cut, "attackers not cut", (2000 + pong_ms + msg_ms) / 1000 + 10)
            print("  cut: send_timeouts %d share_refusals %d message_timeouts %d ping_timeouts %d"
                  % (st["send_timeouts"], st["share_refusals"], st["message_timeouts"],
                     st["ping_timeouts"]))
            # The pool never filled: the high-water mark stayed below the reserve.
            reserve = config_value("CONFIG_IO_RESERVE", 8)
            assert st["pools"]["io"][2] <= io_limit - reserve, st["pools"]["io"]
            honest_checks(d.port, old)
        finally:
            stop.set()
            t.join()
        for c in stuck + partial:
            c.sock.close()
        old.close()


@case
def connections_per_address_429():
    with Daemon("--max-conns-per-addr", "3") as d:
        mine = [upgrade(d.port, ATTACKER) for _ in range(3)]
        c = Conn(d.port, tls=False, source=ATTACKER)
        assert c.handshake() == 429, c.head
        assert b"Too Many Requests" in c.head
        c.sock.close()
        other = upgrade(d.port, "127.0.0.3")  # another address is served
        other.echo("hi")
        mine.pop().close()
        st = wait_stat(d.port, lambda s: s["conns_open"] <= 3, "slot not back", 5)
        again = upgrade(d.port, ATTACKER)  # a freed share is reused
        again.echo("back")
        assert st["rejected_addr"] >= 1, st
        for c in mine + [other, again]:
            c.close()


@case
def stalled_reader_closed_whatever_it_sends():
    # A client that never reads but answers everything (a pong each 200 ms)
    # is closed once its queue has not drained for the pong timeout.
    with Daemon("--pong-timeout", "1000", "--ping-interval", "600000", "--sendq-max", "65536") as d:
        c = upgrade(d.port, ATTACKER, rcvbuf=4096)
        c.sock.setblocking(False)
        end = time.time() + 10 * S
        while time.time() < end:
            try:
                c.sock.send(frame(OP_BINARY, os.urandom(2000)))
            except BlockingIOError:
                break
        t0 = time.time()
        closed = False
        while time.time() < t0 + 8 * S:
            try:
                c.sock.send(frame(OP_PONG))
            except BlockingIOError:
                pass
            except OSError:
                closed = True
                break
            if stats(d.port)["send_timeouts"] >= 1:
                closed = True
                break
            time.sleep(0.2)
        took = time.time() - t0
        assert closed, "a reader that never drains was kept alive by its pongs"
        assert took < 3 * S + 1, "closed after %.1fs, pong timeout 1s" % took
        # the counter can be read before the log reader has the line
        assert d.wait_log(r"send queue not drained", timeout=5), d.log[-2000:]
        c.sock.close()


@case
def message_and_byte_rates_1008():
    with Daemon("--rate-msgs", "20", "--rate-bytes", "200000") as d:
        polite = upgrade(d.port)
        for i in range(10):  # within the rate: 10 a second
            polite.echo("m%d" % i)
            time.sleep(0.1)
        flood = upgrade(d.port, ATTACKER)
        flood.sock.sendall(b"".join(frame(OP_TEXT, b"x") for _ in range(200)))
        code = flood.wait_close(5 * S)
        assert code == 1008, code
        bulk = upgrade(d.port, "127.0.0.3")
        code = None
        try:
            for _ in range(20):
                bulk.sock.sendall(frame(OP_BINARY, os.urandom(60000)))
        except OSError:
            pass
        code = bulk.wait_close(5 * S)
        assert code == 1008, code
        st = stats(d.port)
        assert st["rate_limited"] >= 2, st
        polite.echo("still fine")
        polite.close()


@case
def download_deadline_not_renewed_by_chunks():
    with Daemon("--download-timeout", "1500") as d:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        s.settimeout(10 * S)
        s.connect(("127.0.0.1", d.port))
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        got, t0, cut = 0, time.time(), None
        try:
            while time.time() < t0 + 6 * S:  # a slow reader: 16 KiB every 100 ms, never silent
                b = s.recv(16384)
                if not b:
                    break
                got += len(b)
                if cut is None and stats(d.port)["download_timeouts"] >= 1:
                    cut = time.time() - t0
                    break
                time.sleep(0.1)
            s.settimeout(2 * S)
            while True:  # the server is done with it: drain what the kernels hold
                b = s.recv(1 << 20)
                if not b:
                    break
                got += len(b)
        except (ConnectionResetError, socket.timeout):
            pass
        s.close()
        assert cut is not None, "the download deadline did not cut a slow reader"
        assert cut < 1.5 * S + 2, "cut after %.1fs, deadline 1.5 s" % cut
        assert got < len(BIG), "the whole file went to a reader too slow for the deadline"
        # A reader that keeps up gets the whole file.
        page = http(d.port, b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n", timeout=30)
        assert page.split(b"\r\n\r\n", 1)[1] == BIG


@case
def partial_headers_take_no_io_block():
    with Daemon("--message-timeout", "0") as d:
        base = stats(d.port)["pools"]
        conns = [upgrade(d.port, "127.0.0.%d" % (2 + i % 4)) for i in range(12)]
        frames = [frame(OP_TEXT, b"x" * 10) for _ in conns]
        for c, f in zip(conns, frames):
            c.sock.sendall(f[:3])
        st = wait_stat(d.port, lambda s: s["pools"]["stash"][0] >= 12, "stash", 5)
        assert st["pools"]["io"][0] <= base["io"][0] + 1, (base, st["pools"])
        for c, f in zip(conns, frames):
            c.sock.sendall(f[3:])
            assert c.read_message() == (OP_TEXT, b"x" * 10)
            c.close()


@case(timeout=120)
def chat_flood_does_not_empty_the_pool():
    # One client writes a burst of small chat messages in one go: each is
    # broadcast to the room in the same batch. Each broadcast frame once
    # took an I/O block of its own until the batch ended, so twice as many
    # messages as blocks (one read's worth) emptied the pool and the other
    # members were closed 1013; small frames now share blocks.
    import json
    with Daemon() as d:
        io_limit = stats(d.port)["pools"]["io"][1]
        n = min(2 * io_limit, 4000)
        members = []
        for i in range(3):
            c = Conn(d.port, tls=False, source="127.0.0.%d" % (3 + i), timeout=20 * S)
            assert c.handshake("/ws/chat/flood/") == 101, c.head
            members.append(c)
        flooder = Conn(d.port, tls=False, source=ATTACKER, timeout=20 * S)
        assert flooder.handshake("/ws/chat/flood/") == 101, flooder.head
        burst = b"".join(frame(OP_TEXT, json.dumps({"message": "m%d" % i}).encode())
                         for i in range(n))
        t = threading.Thread(target=flooder.sock.sendall, args=(burst,), daemon=True)
        t.start()
        for c in members + [flooder]:
            for i in range(n):
                op, data = c.read_message()
                assert op == OP_TEXT and json.loads(data)["message"] == "m%d" % i, (i, data[:80])
        t.join()
        st = stats(d.port)
        print("  %d messages to 4 members: io high-water %d of %d" % (n, st["pools"]["io"][2], io_limit))
        assert st["pool_exhausted"] == 0, st
        for c in members + [flooder]:
            c.close()


if __name__ == "__main__":
    main()
