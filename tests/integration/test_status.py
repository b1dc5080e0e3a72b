# SPDX-License-Identifier: MIT
"""test_status: the device status example (examples/status.c) over real
sockets: /ws/status/ sends a snapshot at once on connect, then one about
every second, each valid JSON with the documented fields; every member gets
the same bytes (one encoded broadcast); a newcomer gets the latest snapshot
at once; the timer stops when the last client leaves; rates come from the
/proc/net/dev counters; missing /proc files give null fields, never a
crash (CW_STATUS_PROC points the example at a folder of the test's). The
page itself is served at /status/."""

import asyncio
import atexit
import json
import os
import shutil
import tempfile
import time

from cwtest import Daemon, case, client_ssl, connect_raw, main, read_to_eof, skip_suite, slow_factor

try:
    import websockets
except ImportError:
    skip_suite("python3-websockets not installed (apt-get install python3-websockets)")

TMP = tempfile.mkdtemp(prefix="cw-status-")
_started = []
S = slow_factor()


@atexit.register
def _cleanup():
    for d in _started:
        d.kill()
    shutil.rmtree(TMP, ignore_errors=True)


def start(*args, env=None):
    d = Daemon("--log-level", "info", *args, env=env)
    _started.append(d)
    return d


def stop(d):
    rc = d.stop()
    assert rc == 0, "daemon exited with %r\n%s" % (rc, d.log[-3000:])


def connect(d):
    kw = dict(max_size=None, compression=None, open_timeout=10 * S, close_timeout=5 * S,
              ping_interval=None)
    if d.tls:
        kw["ssl"] = client_ssl()
    return websockets.connect(d.url("/ws/status/"), **kw)


async def recv(ws, timeout=5.0):
    return await asyncio.wait_for(ws.recv(), timeout * S)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def check_snapshot(text, need_proc=True):
    """The fields docs/api.md documents, with their types."""
    s = json.loads(text)
    assert s["type"] == "status" and is_int(s["seq"]) and is_int(s["time_ms"]), s
    assert abs(s["time_ms"] / 1000 - time.time()) < 60, s["time_ms"]
    if need_proc or s["load"] is not None:
        assert isinstance(s["load"], list) and len(s["load"]) == 3, s["load"]
        assert all(isinstance(x, (int, float)) and x >= 0 for x in s["load"]), s["load"]
        assert is_int(s["procs"]["running"]) and is_int(s["procs"]["total"]), s["procs"]
    if need_proc or s["mem"] is not None:
        m = s["mem"]
        assert set(m) == {"total_kb", "free_kb", "available_kb", "used_kb"}, m
        assert all(is_int(v) for v in m.values()), m
        assert m["total_kb"] > 0 and m["used_kb"] == m["total_kb"] - m["available_kb"], m
    if need_proc or s["net"] is not None:
        assert isinstance(s["net"], list), s["net"]
        for f in s["net"]:
            assert set(f) == {"name", "rx_bytes", "tx_bytes", "rx_bps", "tx_bps"}, f
            assert isinstance(f["name"], str) and f["name"], f
            assert all(is_int(f[k]) for k in ("rx_bytes", "tx_bytes", "rx_bps", "tx_bps")), f
    return s


@case
async def snapshot_at_once_then_every_second():
    d = start()
    t0 = time.monotonic()
    async with connect(d) as ws:
        first = check_snapshot(await recv(ws, 2.0))
        assert time.monotonic() - t0 < 2.0 * S, "no snapshot at connect"
        if os.path.exists("/proc/net/dev"):
            assert "lo" in [f["name"] for f in first["net"]], first["net"]
        times, seqs = [], [first["seq"]]
        for _ in range(3):
            s = check_snapshot(await recv(ws, 3.0))
            times.append(time.monotonic())
            seqs.append(s["seq"])
        assert seqs == list(range(seqs[0], seqs[0] + 4)), seqs
        gaps = [b - a for a, b in zip(times, times[1:])]
        # About once a second, on a grid (a late tick makes the next gap
        # shorter): the mean, loosely, as the machine is shared.
        assert 0.6 < sum(gaps) / len(gaps) < 1.0 + 1.0 * S and min(gaps) > 0.1, gaps
    stop(d)


@case
async def members_get_the_same_bytes_and_newcomers_the_latest():
    d = start()
    async with connect(d) as a:
        await recv(a)
        latest = await recv(a)  # a periodic one
        async with connect(d) as b:
            at_connect = await recv(b, 1.0)
            # The newcomer's first snapshot is the latest one, not a new
            # read (unless a tick came in between: then a has it too).
            if at_connect != latest:
                assert await recv(a, 3.0) == at_connect, (at_connect[:80], latest[:80])
            # From now on both get each broadcast, byte for byte.
            for _ in range(2):
                x, y = await recv(a, 3.0), await recv(b, 3.0)
                assert x == y, (x[:80], y[:80])
                check_snapshot(x)
    stop(d)


@case
async def timer_stops_with_the_last_client():
    d = start()
    async with connect(d) as ws:
        await recv(ws)
        last = json.loads(await recv(ws, 3.0))["seq"]
    await asyncio.sleep(3.5 * S)
    async with connect(d) as ws:
        s = json.loads(await recv(ws))
        # Nobody watched for 3.5 s: no reads meanwhile (a running timer
        # would have made 3 or more), one new on connect; one tick may
        # have come before the server saw the close.
        assert last + 1 <= s["seq"] <= last + 2, (last, s["seq"])
    stop(d)


def write(root, name, text):
    p = os.path.join(root, name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p + ".tmp", "w") as f:
        f.write(text)
    os.replace(p + ".tmp", p)


NETDEV = ("Inter-|   Receive                            |  Transmit\n"
          " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
          "    lo: %d 10 0 0 0 0 0 0 %d 10 0 0 0 0 0 0\n"
          "  eth0: 5000 1 0 0 0 0 0 0 7000 1 0 0 0 0 0 0\n")


@case
async def rates_from_the_counters():
    root = os.path.join(TMP, "fake")
    write(root, "loadavg", "1.50 0.25 0.05 3/210 999\n")
    write(root, "meminfo", "MemTotal:        1000 kB\nMemFree:          300 kB\nMemAvailable:     400 kB\n")
    write(root, "net/dev", NETDEV % (1000, 2000))
    d = start(env={"CW_STATUS_PROC": root})
    async with connect(d) as ws:
        s = check_snapshot(await recv(ws))
        assert s["load"] == [1.5, 0.25, 0.05] and s["procs"] == {"running": 3, "total": 210}, s
        assert s["mem"] == {"total_kb": 1000, "free_kb": 300, "available_kb": 400, "used_kb": 600}, s
        assert s["net"] == [
            {"name": "lo", "rx_bytes": 1000, "tx_bytes": 2000, "rx_bps": 0, "tx_bps": 0},
            {"name": "eth0", "rx_bytes": 5000, "tx_bytes": 7000, "rx_bps": 0, "tx_bps": 0}], s["net"]
        write(root, "net/dev", NETDEV % (1000 + 100000, 2000 + 50000))
        s2 = check_snapshot(await recv(ws, 3.0))
        lo = s2["net"][0]
        # 100000 bytes over about a second (the timer's period, measured).
        assert 40000 < lo["rx_bps"] <= 100000 * 1.1 and 20000 < lo["tx_bps"] <= 50000 * 1.1, lo
        assert s2["net"][1]["rx_bps"] == 0, s2["net"][1]
        # A counter that went back (an interface reset) is a rate of 0.
        write(root, "net/dev", NETDEV % (10, 10))
        s3 = check_snapshot(await recv(ws, 3.0))
        assert s3["net"][0]["rx_bps"] == 0 and s3["net"][0]["rx_bytes"] == 10, s3["net"][0]
    stop(d)


@case
async def missing_proc_files_are_null():
    root = os.path.join(TMP, "empty")
    os.makedirs(root, exist_ok=True)
    d = start(env={"CW_STATUS_PROC": root})
    async with connect(d) as ws:
        s = check_snapshot(await recv(ws), need_proc=False)
        assert (s["load"], s["procs"], s["mem"], s["net"]) == (None, None, None, None), s
        # One file appears: its field comes back on the next tick.
        write(root, "meminfo", "MemTotal: 2048 kB\nMemFree: 1024 kB\n")  # no MemAvailable (old kernels)
        s = check_snapshot(await recv(ws, 3.0), need_proc=False)
        assert s["mem"] == {"total_kb": 2048, "free_kb": 1024, "available_kb": 1024, "used_kb": 1024}, s
        # Garbage and an over-long file: still a valid snapshot.
        write(root, "net/dev", "x" * 10000 + "\n" + ":" * 50 + "\n")
        write(root, "loadavg", "not numbers\n")
        s = check_snapshot(await recv(ws, 3.0), need_proc=False)
        assert s["net"] == [] and s["load"] == [0, 0, 0], s
        many = "".join("  if%02d: %d 0 0 0 0 0 0 0 %d 0 0 0 0 0 0 0\n" % (i, i, i) for i in range(40))
        write(root, "net/dev", "h1\nh2\n" + many)
        s = check_snapshot(await recv(ws, 3.0), need_proc=False)
        assert [f["name"] for f in s["net"]] == ["if%02d" % i for i in range(16)], s["net"]
    assert d.alive()
    stop(d)


@case
def page_is_served():
    www = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "www")
    d = start("--www", www)
    for path, kind in (("/status/", "text/html"), ("/status/status.js", "text/javascript"),
                       ("/status/status.css", "text/css")):
        s = connect_raw(d.port)
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path).encode())
        answer = read_to_eof(s)
        s.close()
        head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
        assert head.startswith("http/1.1 200") and "content-type: " + kind in head, (path, head)
    stop(d)


if __name__ == "__main__":
    main()
