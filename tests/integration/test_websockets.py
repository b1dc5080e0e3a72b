# SPDX-License-Identifier: MIT
"""test_websockets: the daemon's echo consumer driven by Python's
`websockets` (Debian's python3-websockets), a client nobody here wrote:
echo of every size class, fragmented sends, ping/pong, the close codes the
client sees, 200 concurrent clients and clients that vanish mid-message.
In the TLS pass (CW_TLS=1) the same over wss://, with the concurrent cases
capped at the build's TLS sessions (CONFIG_TLS_MAX_CONNS)."""

import asyncio
import atexit
import os
import random
import signal
import time

import rawws

from cwtest import Daemon as _Daemon, Skip, case, client_ssl, main, skip_suite, slow_factor, tls_mode

try:
    import websockets
    from websockets.exceptions import ConnectionClosed
except ImportError:
    skip_suite("python3-websockets not installed (apt-get install python3-websockets)")


_started = []


def Daemon(*args, **kw):
    """cwtest.Daemon, killed at exit if a failed case left it running."""
    d = _Daemon(*args, **kw)
    _started.append(d)
    return d


@atexit.register
def _kill_leftovers():
    for d in _started:
        d.kill()


MAX_MESSAGE = 1048576  # CONFIG_MAX_MESSAGE_SIZE of the host boards
SIZES = [0, 1, 2, 125, 126, 127, 128, 1000, 4095, 4096, 4097, 65535, 65536, 65537,
         100000, 262143, 262144, 262145, 500000]

_daemon = None


def concurrent_clients(want=200):
    """`want`, or in the TLS pass what the build's TLS sessions allow (a few
    kept free for connections of earlier cases still closing)."""
    if os.environ.get("CW_REMOTE"):
        # make check-vm: qemu's user-mode network accepts forwarded
        # connections with a listen backlog of 1, so a burst of connects
        # measures slirp's SYN retries, not the daemon.
        raise Skip("hundreds of simultaneous connects cannot pass qemu's user-mode network")
    if not tls_mode():
        return want
    cap = 64
    build = os.environ.get("CW_BUILD", "")
    try:
        with open(os.path.join(build, "include", "cw_config.h")) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[1] == "CONFIG_TLS_MAX_CONNS":
                    cap = int(parts[2], 0)
    except (OSError, ValueError):
        pass
    return min(want, max(1, cap - 4))


def daemon():
    """One shared daemon for the plain echo cases; a fresh one on demand."""
    global _daemon
    if _daemon is None or not _daemon.alive():
        # Over TLS the handshake deadline (from accept, TLS included) is
        # longer: dozens of full handshakes at once on a busy machine can
        # take more than the default 5 s, and none of these cases tests it.
        _daemon = Daemon(*(["--handshake-timeout", "20000"] if tls_mode() else []))
    return _daemon


def many_clients_addr(i):
    """The local address of client i of a crowd: 127.0.0.(1 + i % 8), so a
    crowd of hundreds comes from several addresses, as on a real network,
    and no one address exceeds its fair share (CONFIG_ADDR_SHARE_PCT)."""
    return {"local_addr": ("127.0.0.%d" % (1 + i % 8), 0)}


def connect(url, **kw):
    kw.setdefault("max_size", None)
    kw.setdefault("compression", None)
    kw.setdefault("open_timeout", 10 * slow_factor())
    kw.setdefault("close_timeout", 10 * slow_factor())
    kw.setdefault("ping_interval", None)
    if url.startswith("wss:"):
        kw.setdefault("ssl", client_ssl())
    return websockets.connect(url, **kw)


def text_of(n, seed=0):
    """n bytes of UTF-8 that mixes 1-, 2-, 3- and 4-byte characters."""
    rnd = random.Random(seed)
    alphabet = "aZ9 é€𝄞ñ中"
    out, size = [], 0
    while size < n:
        ch = rnd.choice(alphabet)
        b = len(ch.encode())
        if size + b > n:
            ch, b = "x", 1
        out.append(ch)
        size += b
    return "".join(out)


def blob(n, seed=0):
    return random.Random(seed).randbytes(n)


async def roundtrip(ws, msg):
    await ws.send(msg)
    got = await asyncio.wait_for(ws.recv(), 20 * slow_factor())
    assert type(got) is type(msg), "opcode changed: sent %s, got %s" % (type(msg), type(got))
    assert got == msg, "echo differs at %d bytes" % len(msg)


@case
async def echo_text_sizes():
    async with connect(daemon().url()) as ws:
        for n in SIZES:
            await roundtrip(ws, text_of(n, n))


@case
async def echo_binary_sizes():
    async with connect(daemon().url()) as ws:
        for n in SIZES:
            await roundtrip(ws, blob(n, n))


@case
async def echo_one_mebibyte():
    async with connect(daemon().url()) as ws:
        for n in (MAX_MESSAGE - 4096, MAX_MESSAGE - 14, MAX_MESSAGE - 1):
            await roundtrip(ws, blob(n, n))
        await roundtrip(ws, text_of(MAX_MESSAGE - 100, 7))
        await roundtrip(ws, "still fine")


@case
async def echo_exactly_the_limit():
    async with connect(daemon().url()) as ws:
        await roundtrip(ws, blob(MAX_MESSAGE, 1))
        await roundtrip(ws, text_of(MAX_MESSAGE, 2))
        await roundtrip(ws, b"after")


@case
async def echo_unicode_text():
    samples = ["", "ascii", "κόσμε", "€", "\U0001F600" * 50, "\u00a0\u2028\uffff",
               "\U0010FFFF", "a\x00b"]
    async with connect(daemon().url()) as ws:
        for s in samples:
            await roundtrip(ws, s)


@case
async def fragmented_text():
    async with connect(daemon().url()) as ws:
        parts = ["Hel", "lo, ", "wor", "ld"]
        await ws.send(parts)
        assert await ws.recv() == "Hello, world"
        # Many fragments (send(iterable) cuts only between str items, so
        # characters are never split here; echo.test.js splits them).
        parts = [text_of(1000, i) for i in range(50)]
        await ws.send(parts)
        assert await ws.recv() == "".join(parts)
        await ws.send(["", "x", ""])
        assert await ws.recv() == "x"


@case
async def fragmented_binary():
    async with connect(daemon().url()) as ws:
        parts = [blob(n, n) for n in (1, 0, 125, 126, 65536, 3, 70000)]
        await ws.send(parts)
        assert await ws.recv() == b"".join(parts)
        parts = [bytes([i % 256]) for i in range(1000)]
        await ws.send(parts)
        assert await ws.recv() == b"".join(parts)


@case
async def fragmented_async_iterator():
    async def gen():
        for i in range(20):
            await asyncio.sleep(0.005)
            yield blob(5000, i)
    async with connect(daemon().url()) as ws:
        await ws.send(gen())
        got = await ws.recv()
        assert got == b"".join(blob(5000, i) for i in range(20))


@case
async def fragmented_up_to_the_limit():
    chunk = 65536
    parts = [blob(chunk, i) for i in range(MAX_MESSAGE // chunk)]
    async with connect(daemon().url()) as ws:
        await ws.send(parts)
        got = await asyncio.wait_for(ws.recv(), 20 * slow_factor())
        assert got == b"".join(parts)


@case
async def pipelined_messages_in_order():
    async with connect(daemon().url()) as ws:
        n = 2000
        for i in range(n):
            await ws.send("m%d" % i)
        for i in range(n):
            got = await asyncio.wait_for(ws.recv(), 10 * slow_factor())
            assert got == "m%d" % i, "message %d came back as %r" % (i, got)


@case
async def ping_pong():
    async with connect(daemon().url()) as ws:
        for payload in (b"", b"x", b"p" * 125, "text ping"):
            waiter = await ws.ping(payload)
            await asyncio.wait_for(waiter, 5 * slow_factor())
        # Many pings in flight, interleaved with data (fewer messages than
        # websockets' max_queue, 32, or it stops reading and sees no pong).
        waiters = []
        for i in range(25):
            waiters.append(await ws.ping(b"%d" % i))
            await ws.send("d%d" % i)
        await asyncio.wait_for(asyncio.gather(*waiters), 5 * slow_factor())
        for i in range(25):
            assert await ws.recv() == "d%d" % i


@case
async def server_pings_are_answered_by_client():
    # With a short ping interval the server pings an idle client; websockets
    # answers automatically, so the connection stays open.
    with Daemon("--ping-interval", "150", "--pong-timeout", "300") as d:
        async with connect(d.url()) as ws:
            # Count the pongs the client sends: each answers a server ping.
            pongs = []
            if hasattr(ws, "pong"):  # websockets' legacy protocol (Debian 12: 10.x)
                orig_pong = ws.pong

                async def counting_pong(data=b""):
                    pongs.append(data)
                    return await orig_pong(data)
                ws.pong = counting_pong
            await asyncio.sleep(1.0)
            await roundtrip(ws, "alive after pings")
        # The same seen on the wire: the server's pings reach an idle client.
        c = rawws.Conn(d.port, timeout=5 * slow_factor())
        assert c.handshake() == 101
        pings, end = 0, time.time() + 1.0 * slow_factor()
        while time.time() < end and pings < 3:
            f = c.read_frame()
            assert f is not None, "EOF while waiting for pings"
            if f[1] == rawws.OP_PING:
                pings += 1
                c.send(rawws.OP_PONG, f[2])
        c.echo("alive after answering %d pings" % pings)
        c.close()
    assert pings >= 3, "the server sent %d pings in 1 s at a 150 ms interval" % pings
    assert not hasattr(ws, "pong") or len(pongs) >= 3, "websockets answered %d pings" % len(pongs)


@case
async def close_normal():
    async with connect(daemon().url()) as ws:
        await roundtrip(ws, "bye soon")
    assert ws.close_code == 1000, ws.close_code


@case
async def close_code_echoed():
    for code, reason in ((1000, "done"), (1001, ""), (3000, "app"), (4999, "é" * 30)):
        ws = await connect(daemon().url())
        await ws.close(code, reason)
        assert ws.close_code == code, "sent %d, server answered %r" % (code, ws.close_code)


@case
async def close_1009_too_big():
    with Daemon("--max-message", "1000") as d:
        async with connect(d.url()) as ws:
            await roundtrip(ws, blob(1000))  # exactly the limit is fine
            await ws.send(blob(1001))
            try:
                await asyncio.wait_for(ws.recv(), 5 * slow_factor())
                raise AssertionError("a 1001-byte message was accepted")
            except ConnectionClosed:
                pass
        assert ws.close_code == 1009, ws.close_code
        # Over the limit only in total, across fragments.
        async with connect(d.url()) as ws:
            await ws.send([blob(600), blob(600)])
            try:
                await asyncio.wait_for(ws.recv(), 5 * slow_factor())
                raise AssertionError("a 1200-byte fragmented message was accepted")
            except ConnectionClosed:
                pass
        assert ws.close_code == 1009, ws.close_code
        # Text too.
        async with connect(d.url()) as ws:
            await ws.send("é" * 600)
            try:
                await asyncio.wait_for(ws.recv(), 5 * slow_factor())
                raise AssertionError("a 1200-byte text message was accepted")
            except ConnectionClosed:
                pass
        assert ws.close_code == 1009, ws.close_code
        # The daemon still serves others.
        async with connect(d.url()) as ws:
            await roundtrip(ws, "ok")


@case
async def close_1007_invalid_utf8():
    # websockets encodes every str it sends, so write the frame below the API.
    with Daemon() as d:
        async with connect(d.url()) as ws:
            await ws.write_frame(True, 0x1, b"ok \xff\xfe")
            try:
                await asyncio.wait_for(ws.recv(), 5)
                raise AssertionError("invalid UTF-8 was echoed")
            except ConnectionClosed:
                pass
        assert ws.close_code == 1007, ws.close_code


@case
async def close_1001_on_sigterm():
    d = Daemon()
    ws = await connect(d.url())
    await roundtrip(ws, "before")
    d.proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(ws.recv(), 5 * slow_factor())
        raise AssertionError("a message arrived after SIGTERM")
    except ConnectionClosed:
        pass
    assert ws.close_code == 1001, ws.close_code
    assert d.stop() == 0


@case(timeout=120)
async def concurrent_200_clients():
    d = daemon()
    n, rounds = concurrent_clients(200), 20

    async def client(i):
        async with connect(d.url(), **many_clients_addr(i)) as ws:
            for r in range(rounds):
                msg = "c%d r%d " % (i, r) + "x" * (i * 7 % 300)
                await ws.send(msg)
                got = await asyncio.wait_for(ws.recv(), 20 * slow_factor())
                assert got == msg
            await roundtrip(ws, blob(3000 + i, i))
        return ws.close_code

    t0 = time.time()
    codes = await asyncio.gather(*(client(i) for i in range(n)))
    assert all(c == 1000 for c in codes), set(codes)
    print("  %d clients x %d messages in %.2fs" % (n, rounds + 1, time.time() - t0))


@case(timeout=120)
async def concurrent_200_clients_all_open_at_once():
    d = daemon()
    conns = await asyncio.gather(*(connect(d.url(), **many_clients_addr(i))
                                   for i in range(concurrent_clients(200))))
    try:
        for i, ws in enumerate(conns):
            await ws.send("hello %d" % i)
        for i, ws in enumerate(conns):
            assert await asyncio.wait_for(ws.recv(), 10 * slow_factor()) == "hello %d" % i
    finally:
        await asyncio.gather(*(ws.close() for ws in conns))


@case
async def abrupt_disconnect_does_not_disturb_others():
    d = daemon()
    others = [await connect(d.url()) for _ in range(5)]
    for i in range(10):
        # A client that vanishes mid-message (part of a large frame sent).
        victim = await connect(d.url())
        await roundtrip(victim, "hi")
        big = blob(300000, i)
        send = asyncio.ensure_future(victim.send(big))
        await asyncio.sleep(0.001)
        victim.transport.abort()
        send.cancel()
        try:
            await send
        except (asyncio.CancelledError, ConnectionClosed):
            pass
        # One that vanishes mid-fragmented message.
        victim2 = await connect(d.url())

        async def frags():
            yield b"first"
            await asyncio.sleep(0.01)
            victim2.transport.abort()
            yield b"never"
        try:
            await victim2.send(frags())
        except ConnectionClosed:
            pass
        for j, ws in enumerate(others):
            await roundtrip(ws, "round %d client %d" % (i, j))
    # A client that vanishes with replies still queued for it.
    victim3 = await connect(d.url())
    for _ in range(20):
        await victim3.send(blob(60000))
    victim3.transport.abort()
    for j, ws in enumerate(others):
        await roundtrip(ws, blob(70000, j))
        await ws.close()
        assert ws.close_code == 1000
    assert d.alive()


@case
async def unknown_path_is_rejected():
    d = daemon()
    try:
        async with connect(d.url("/ws/nope/")):
            raise AssertionError("connected to an unknown path")
    except websockets.exceptions.InvalidStatusCode as e:
        assert e.status_code == 404, e.status_code


def _finish():
    if _daemon is not None:
        rc = _daemon.stop()
        if rc != 0:
            print("shared daemon exited with %r\n%s" % (rc, _daemon.log[-3000:]))
            _kill_leftovers()
            os._exit(1)


if __name__ == "__main__":
    atexit.register(_finish)
    main()
