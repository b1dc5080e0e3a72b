# SPDX-License-Identifier: MIT
"""test_channel_names: channel names without a channel layer (Channels'
self.channel_name and channel_layer.send inside one chanwired): every
connection of /ws/channel/ learns a name of the core layer's form, unique
per connection and per daemon run; a message sent to it reaches exactly that
connection's event callback; a send to a channel that has ended is dropped
and counted (channel_dropped), never an error; a worker channel
(--worker NAME) runs its event callback for chanwire-send --channel and for
sends from a connection, and replies to the channel in "reply_to"; bad names
are refused. Builds with CONFIG_GROUPS, CONFIG_JSON, CONFIG_DEFERRED_ACCEPT."""

import json
import os
import re
import shutil
import subprocess
import tempfile

from cwtest import Daemon, case, daemon_path, exec_prefix, main, skip_suite, slow_factor
from ctlkit import cwsend, stats, recv_json, nothing_more

try:
    import websockets
except ImportError:
    skip_suite("python3-websockets not installed (apt-get install python3-websockets)")

TMP = tempfile.mkdtemp(prefix="cw-chnames-")
NAME = re.compile(r"^specific\.[0-9a-f]{32}![0-9a-f]{16}$")
_n = [0]


def start(*args):
    _n[0] += 1
    ctl = os.path.join(TMP, "ctl%d.sock" % _n[0])
    d = Daemon("--control", ctl, *args)
    d.ctl = ctl
    assert d.wait_log(r"control socket", 10), d.log
    return d


def connect(d, query=""):
    return websockets.connect(d.url("/ws/channel/" + query), ssl=d.ssl())


async def name_of(ws):
    m = await recv_json(ws)
    assert NAME.match(m["channel"]), m
    return m["channel"]


@case
async def send_to_one_connection():
    d = start()
    async with connect(d) as a, connect(d) as b, connect(d) as c:
        na, nb, nc = await name_of(a), await name_of(b), await name_of(c)
        assert len({na, nb, nc}) == 3
        # one process id, three connections
        assert na.split("!")[0] == nb.split("!")[0] == nc.split("!")[0]
        await a.send(json.dumps({"to": nb, "type": "hello.there", "body": {"x": 1}}))
        assert await recv_json(a) == {"sent": 1}
        got = await recv_json(b)
        assert got == {"type": "hello.there", "x": 1}, got
        await nothing_more(a, b, c)
        # the control socket and chanwire-send reach one channel too
        rc, out, err = cwsend(d, "--channel", nc, '{"type": "from.cli", "y": 2}')
        assert (rc, out, err) == (0, "delivered to 1 connection(s)\n", ""), (rc, out, err)
        got = await recv_json(c)
        assert got == {"type": "from.cli", "y": 2}, got
        rc, out, err = cwsend(d, "--type", "t.two", "--channel", nc, '{"z": 3}')
        assert rc == 0, (rc, out, err)
        got = await recv_json(c)
        assert got == {"type": "t.two", "z": 3}, got
        await nothing_more(a, b, c)
    assert d.stop() == 0


@case
async def gone_channel_is_dropped_and_counted():
    d = start()
    async with connect(d) as a:
        na = await name_of(a)
        async with connect(d) as b:
            nb = await name_of(b)
        # b's slot may serve a new client now: the old name must not reach it
        async with connect(d) as b2:
            nb2 = await name_of(b2)
            assert nb2 != nb
            before = int(stats(d)["channel_dropped"])
            await a.send(json.dumps({"to": nb, "type": "late.msg"}))
            assert await recv_json(a) == {"sent": 0}
            rc, out, err = cwsend(d, "--channel", nb, '{"type": "late.msg"}')
            assert (rc, out) == (0, "delivered to 0 connection(s)\n"), (rc, out, err)
            await nothing_more(a, b2)
            assert int(stats(d)["channel_dropped"]) == before + 2
        # a name of another process, no layer to reach it: dropped too
        other = "specific.%s!%s" % ("0" * 32, "1" * 16)
        await a.send(json.dumps({"to": other, "type": "x.y"}))
        assert await recv_json(a) == {"sent": 0}
        assert na != other
    assert d.stop() == 0


@case
async def names_differ_across_daemons_and_restarts():
    seen = set()
    for _ in range(2):
        d = start()
        async with connect(d) as a:
            seen.add((await name_of(a)).split("!")[0])
        assert d.stop() == 0
    assert len(seen) == 2, seen


@case
async def worker_channel():
    d = start("--worker", "device.commands", "--worker", "device.other")
    async with connect(d, "?group=workers") as w, connect(d) as a:
        await name_of(w)
        na = await name_of(a)
        # from the control socket: the worker forwards to group "workers"
        # and replies to reply_to
        body = json.dumps({"type": "device.command", "reply_to": na, "v": 5})
        rc, out, err = cwsend(d, "--channel", "device.commands", body)
        assert (rc, out, err) == (0, "delivered to 1 connection(s)\n", ""), (rc, out, err)
        got = await recv_json(w)
        assert got == {"type": "device.command", "reply_to": na, "v": 5}, got
        got = await recv_json(a)
        assert got == {"type": "worker.reply", "reply_to": na, "v": 5}, got
        # from a connection
        await a.send(json.dumps({"to": "device.other", "type": "device.ping",
                                 "body": {"reply_to": na}}))
        got = await recv_json(w)
        assert got == {"type": "device.ping", "reply_to": na}, got
        # the worker ran inside the send: its reply comes first
        got = await recv_json(a)
        assert got == {"type": "worker.reply", "reply_to": na}, got
        assert await recv_json(a) == {"sent": 1}
        await nothing_more(w, a)
        # an unbound plain name has nowhere to go: dropped
        rc, out, err = cwsend(d, "--channel", "nobody.here", '{"type": "x"}')
        assert (rc, out) == (0, "delivered to 0 connection(s)\n"), (rc, out, err)
    assert d.stop() == 0


@case
async def bad_names_and_types():
    d = start()
    async with connect(d) as a:
        await name_of(a)
        for to in ("", "a b", "a!b!c", "!x", "x" * 200, "caf\u00e9"):
            await a.send(json.dumps({"to": to, "type": "t"}))
            assert await recv_json(a) == {"sent": -1}, to
        await a.send(json.dumps({"to": "w.x", "type": "websocket.send"}))
        assert await recv_json(a) == {"sent": -1}
        await a.send(json.dumps({"to": "w.x", "type": "t", "body": [1]}))
        assert await recv_json(a) == {"sent": -1}
        rc, out, err = cwsend(d, "--channel", "a!b!c", '{"type": "t"}')
        assert rc == 1, (rc, out, err)
        rc, out, err = cwsend(d, "--channel", "ok.name", "{}")  # no type anywhere
        assert rc == 2, (rc, out, err)
    assert d.stop() == 0


@case
async def worker_name_refused():
    for args in (("--worker", "a!b"), ("--worker", "specific.x"),
                 ("--worker", "w.one", "--worker", "w.one")):
        root = ["--allow-root"] if os.getuid() == 0 else []
        p = subprocess.run(exec_prefix() + [daemon_path(), "--listen", "127.0.0.1:0",
                                            "--no-control"] + root + list(args),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20 * slow_factor())
        assert p.returncode == 1 and b"--worker" in p.stderr, (args, p.returncode, p.stderr)


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
