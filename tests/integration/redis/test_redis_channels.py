# SPDX-License-Identifier: MIT
"""test_redis_channels: channel names and worker channels across processes
through a real redis-server under the Pub/Sub layer (channels_redis's
RedisPubSubChannelLayer naming): names are "asgispecific.<32 hex>"; a client
on one chanwired sends to a client's channel on another; a raw Redis PUBLISH
to a name (what Django's channel_layer.send does) reaches that connection's
event callback, websocket.send / websocket.close act on the socket; a send
to a channel that has ended is dropped and counted on the receiving side; a
worker channel (--worker) on one daemon runs for chanwire-send --channel on
another and replies across; the channel subscriptions come back after a
Redis restart. Builds with CONFIG_LAYER_REDIS (board host-redis)."""

import atexit
import json
import os
import re
import shutil
import tempfile
import time

from cwtest import Daemon, case, main, skip_suite, slow_factor
import redisfix
from redisfix import RedisServer, pack
from ctlkit import cwsend, stats, wait_stat, recv, recv_json, nothing_more

try:
    import websockets
    from websockets.exceptions import ConnectionClosed
except ImportError:
    skip_suite("python3-websockets not installed (apt-get install python3-websockets)")

redisfix.need_redis()

TMP = tempfile.mkdtemp(prefix="cw-redis-chan-")
_daemons = []
NAME = re.compile(r"^asgispecific\.[0-9a-f]{32}$")


@atexit.register
def _cleanup():
    for d in _daemons:
        d.kill()
    shutil.rmtree(TMP, ignore_errors=True)


def start(redis_addr, *args):
    ctl = os.path.join(TMP, "ctl%d.sock" % len(_daemons))
    d = Daemon("--redis", redis_addr, "--redis-layer", "pubsub", "--control", ctl, *args)
    d.ctl = ctl
    _daemons.append(d)
    assert d.wait_log(r"redis: connected to", timeout=10), d.log
    return d


def connect(d, query=""):
    return websockets.connect(d.url("/ws/channel/" + query), ssl=d.ssl())


async def name_of(ws):
    m = await recv_json(ws)
    assert NAME.match(m["channel"]), m
    return m["channel"]


def pattern_of(name):
    return name[:len("asgispecific.") + 16] + "*"


def wait_numpat(r, n, timeout=10.0):
    c = r.client()
    try:
        end = time.time() + timeout * slow_factor()
        while time.time() < end:
            if int(c.cmd("PUBSUB", "NUMPAT")) == n:
                return
            time.sleep(0.02)
        raise AssertionError("NUMPAT %s, want %d" % (c.cmd("PUBSUB", "NUMPAT"), n))
    finally:
        c.close()


@case
async def across_daemons():
    with RedisServer() as r:
        a, b = start(r.addr), start(r.addr)
        wait_numpat(r, 2)  # one pattern per daemon, not one channel per connection
        async with connect(a) as a1, connect(b) as b1:
            na, nb = await name_of(a1), await name_of(b1)
            assert pattern_of(na) != pattern_of(nb)
            await a1.send(json.dumps({"to": nb, "type": "hello.there", "body": {"x": 1}}))
            assert await recv_json(a1) == {"sent": 0}  # handed to Redis
            assert await recv_json(b1) == {"type": "hello.there", "x": 1}
            rc, out, err = cwsend(b, "--channel", na, '{"type": "back.again", "y": 2}')
            assert (rc, out) == (0, "delivered to 0 connection(s)\n"), (rc, out, err)
            assert await recv_json(a1) == {"type": "back.again", "y": 2}
            await nothing_more(a1, b1)
            # what Django's channel_layer.send(name, {...}) publishes
            assert r.publish(na, pack({"type": "chat_message", "message": "dj"})) == 1
            assert await recv_json(a1) == {"type": "chat_message", "message": "dj"}
            r.publish(na, pack({"type": "websocket.send", "text": "raw"}))
            assert await recv(a1) == "raw"
            # malformed: dropped and counted, the connection unharmed
            r.publish(na, b"\xc1")
            wait_stat(a, "redis_malformed", lambda v: v == 1)
            await nothing_more(a1, b1)
            r.publish(na, pack({"type": "websocket.close", "code": 4005}))
            try:
                await recv(a1)
                raise AssertionError("still open")
            except ConnectionClosed as e:
                assert e.rcvd.code == 4005, e
        assert a.stop() == 0 and b.stop() == 0


@case
async def gone_channel_dropped_on_the_receiver():
    with RedisServer() as r:
        a, b = start(r.addr), start(r.addr)
        wait_numpat(r, 2)
        async with connect(a) as a1:
            await name_of(a1)
            async with connect(b) as b1:
                nb = await name_of(b1)
            await a1.send(json.dumps({"to": nb, "type": "late.msg"}))
            assert await recv_json(a1) == {"sent": 0}
            wait_stat(b, "channel_dropped", lambda v: v == 1)
            # a name of no live process: Redis has no subscriber, nothing fails
            await a1.send(json.dumps({"to": "asgispecific." + "0" * 32, "type": "x"}))
            assert await recv_json(a1) == {"sent": 0}
            assert stats(a)["redis_publish_failed"] == "0"
        assert a.stop() == 0 and b.stop() == 0


@case
async def worker_channel_across():
    with RedisServer() as r:
        a = start(r.addr)
        b = start(r.addr, "--worker", "device.commands")
        r.wait_numsub("device.commands", 1)
        async with connect(a) as a1, connect(b, "?group=workers") as w:
            na = await name_of(a1)
            await name_of(w)
            body = json.dumps({"type": "device.command", "reply_to": na, "v": 7})
            rc, out, err = cwsend(a, "--channel", "device.commands", body)
            assert rc == 0, (rc, out, err)
            assert await recv_json(w) == {"type": "device.command", "reply_to": na, "v": 7}
            assert await recv_json(a1) == {"type": "worker.reply", "reply_to": na, "v": 7}
            # Django's channel_layer.send("device.commands", {...})
            r.publish("device.commands", pack({"type": "device.command", "v": 8}))
            assert await recv_json(w) == {"type": "device.command", "v": 8}
            await nothing_more(a1, w)
        assert a.stop() == 0 and b.stop() == 0


@case
async def subscriptions_back_after_redis_restart():
    with RedisServer() as r:
        a = start(r.addr, "--worker", "device.commands")
        wait_numpat(r, 1)
        async with connect(a) as a1, connect(a, "?group=workers") as w:
            na = await name_of(a1)
            await name_of(w)
            r.kill()
            assert a.wait_log(r"redis: lost", timeout=10), a.log
            r.start()
            wait_numpat(r, 1)
            r.wait_numsub("device.commands", 1)
            r.publish(na, pack({"type": "after.restart"}))
            assert await recv_json(a1) == {"type": "after.restart"}
            r.publish("device.commands", pack({"type": "cmd.two"}))
            assert await recv_json(w) == {"type": "cmd.two"}
        assert a.stop() == 0


if __name__ == "__main__":
    main()
