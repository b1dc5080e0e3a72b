# SPDX-License-Identifier: MIT
"""test_django: chanwired and a Django Channels site share groups through one
Redis. The site (tests/interop/djproj) is the Channels tutorial chat under
channels_redis's RedisPubSubChannelLayer, run by Debian's daphne; both
servers and redis-server are started here on loopback ports. Checked: a
client on daphne and one on chanwired in the same room see each other's
messages, once each; async_to_sync(channel_layer.group_send) from a Django
management command reaches chanwired's clients (both spellings of the type);
chanwired's raw broadcasts and group closes reach Django consumers that
have the two handlers the README shows, and kill (1011) the unchanged
tutorial consumer, as documented; Django closes chanwired's clients with
{"type": "websocket.close", "code": N}. Runs on builds with
CONFIG_LAYER_REDIS (board host-redis)."""

import asyncio
import atexit
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from cwtest import Daemon, case, daemon_path, exec_prefix, main, skip_suite, slow_factor
import redisfix
from redisfix import RedisServer

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.join(HERE, "djproj")
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

try:
    import websockets
    from websockets.exceptions import ConnectionClosed
except ImportError:
    skip_suite("python3-websockets not installed (apt-get install python3-websockets)")
redisfix.need_redis()
DAPHNE = shutil.which("daphne")
_probe = subprocess.run([PY, "-c", "import channels, channels_redis, daphne, django"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if not DAPHNE or _probe.returncode != 0:
    skip_suite("Django Channels not installed (apt-get install python3-django-channels daphne "
               "python3-channels-redis)")

TMP = tempfile.mkdtemp(prefix="cw-interop-")
_procs = []


@atexit.register
def _cleanup():
    for p in _procs:
        if p.poll() is None:
            p.kill()
    shutil.rmtree(TMP, ignore_errors=True)


def django_env(redis):
    env = dict(os.environ)
    env.update({"DJANGO_SETTINGS_MODULE": "interop_site.settings",
                "CW_LAYER": getattr(redis, "layer", "pubsub"),
                "CW_REDIS_URL": "redis://%s" % redis.addr,
                "PYTHONPATH": PROJECT, "PYTHONDONTWRITEBYTECODE": "1"})
    return env


class Daphne:
    def __init__(self, redis):
        self.port = redisfix.free_port()
        self.log = os.path.join(TMP, "daphne-%d.log" % self.port)
        self.proc = subprocess.Popen(
            [DAPHNE, "-b", "127.0.0.1", "-p", str(self.port), "interop_site.asgi:application"],
            cwd=PROJECT, env=django_env(redis), stdin=subprocess.DEVNULL,
            stdout=open(self.log, "wb"), stderr=subprocess.STDOUT)
        _procs.append(self.proc)
        end = time.time() + 30 * slow_factor()
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError("daphne did not start:\n" + self.output())

    def output(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def connect(self, path):
        return websockets.connect("ws://127.0.0.1:%d%s" % (self.port, path),
                                  origin="http://127.0.0.1:%d" % self.port)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def manage(redis, *args):
    p = subprocess.run([PY, "manage.py"] + list(args), cwd=PROJECT, env=django_env(redis),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60 * slow_factor())
    assert p.returncode == 0, p.stdout.decode()


def chanwired(redis, *args):
    ctl = os.path.join(TMP, "ctl-%d.sock" % redisfix.free_port())
    d = Daemon("--redis", redis.addr, "--redis-layer", getattr(redis, "layer", "pubsub"),
               "--control", ctl, *args)
    d.ctl = ctl
    assert d.wait_log(r"redis: connected to", timeout=10), d.log
    return d


def cwsend(d, *args):
    build = os.environ.get("CW_BUILD") or os.path.dirname(daemon_path())
    p = subprocess.run(exec_prefix() + [os.path.join(build, "chanwire-send"), "--socket", d.ctl]
                       + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=20 * slow_factor())
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)


async def recv(ws, timeout=10.0):
    return await asyncio.wait_for(ws.recv(), timeout * slow_factor())


async def recv_json(ws, timeout=10.0):
    return json.loads(await recv(ws, timeout))


async def nothing_more(*wss, wait=0.5):
    await asyncio.sleep(wait * slow_factor())
    for ws in wss:
        try:
            m = await asyncio.wait_for(ws.recv(), 0.01)
        except asyncio.TimeoutError:
            continue
        raise AssertionError("unexpected extra message %r" % (m,))


async def closed_with(ws, code):
    try:
        m = await recv(ws)
        raise AssertionError("got %r instead of a close" % (m,))
    except ConnectionClosed as e:
        assert e.rcvd is not None and e.rcvd.code == code, (e, code)


class Site:
    """redis-server, daphne with the Django site, and chanwired."""

    def __init__(self, *cw_args, layer="pubsub"):
        self.cw_args = cw_args
        self.layer = layer

    def __enter__(self):
        self.redis = RedisServer()
        self.redis.layer = self.layer
        self.daphne = Daphne(self.redis)
        self.cw = chanwired(self.redis, *self.cw_args)
        return self

    def __exit__(self, *exc):
        rc = self.cw.stop()
        self.daphne.stop()
        self.redis.__exit__(None, None, None)
        if exc[0] is None:
            assert rc == 0, self.cw.log[-3000:]
        return False


def both_layers(fn):
    """Registers fn(layer) once per channels_redis layer: <name>_pubsub and
    <name>_core (Django's default)."""
    for layer in ("pubsub", "core"):
        async def run(fn=fn, layer=layer):
            await fn(layer)
        run.__name__ = "%s_%s" % (fn.__name__, layer)
        case(timeout=120)(run)
    return fn


def wait_members(s, group, n):
    """n processes (daphne, chanwired) in group, as the layer keeps them."""
    if s.layer == "pubsub":
        s.redis.wait_numsub("asgi__group__" + group, n)
        return
    c = s.redis.client()
    try:
        end = time.time() + 10 * slow_factor()
        while time.time() < end:
            if c.cmd("ZCARD", "asgi:group:" + group) == n:
                return
            time.sleep(0.02)
        raise AssertionError("asgi:group:%s: %r members, want %d"
                             % (group, c.cmd("ZRANGE", "asgi:group:" + group, 0, -1), n))
    finally:
        c.close()


@both_layers
async def tutorial_chat_both_ways(layer):
    with Site(layer=layer) as s:
        async with s.daphne.connect("/ws/chat/lobby/") as dj, \
                websockets.connect(s.cw.url("/ws/chat/lobby/")) as cw:
            wait_members(s, "chat_lobby", 2)  # daphne and chanwired
            await dj.send(json.dumps({"message": "from django"}))
            assert await recv_json(dj) == {"message": "from django"}
            assert await recv_json(cw) == {"message": "from django"}
            await cw.send(json.dumps({"message": "from chanwire"}))
            assert await recv_json(cw) == {"message": "from chanwire"}
            assert await recv_json(dj) == {"message": "from chanwire"}
            for i in range(20):
                await (dj if i % 2 else cw).send(json.dumps({"message": "n%d" % i}))
            for ws in (dj, cw):
                got = [(await recv_json(ws))["message"] for _ in range(20)]
                assert sorted(got) == sorted("n%d" % i for i in range(20)), got
            await nothing_more(dj, cw)


@both_layers
async def management_command_reaches_chanwired(layer):
    with Site(layer=layer) as s:
        async with websockets.connect(s.cw.url("/ws/chat/news/")) as cw, \
                s.daphne.connect("/ws/chat/news/") as dj:
            wait_members(s, "chat_news", 2)
            manage(s.redis, "group_send", "chat_news",
                   json.dumps({"type": "chat.message", "message": "from a command"}))
            assert await recv_json(cw) == {"message": "from a command"}
            assert await recv_json(dj) == {"message": "from a command"}
            manage(s.redis, "group_send", "chat_news",
                   json.dumps({"type": "chat_message", "message": "underscored"}))
            assert await recv_json(cw) == {"message": "underscored"}
            assert await recv_json(dj) == {"message": "underscored"}
            await nothing_more(cw, dj)


@both_layers
async def chanwire_broadcast_and_close_reach_django(layer):
    with Site(layer=layer) as s:
        async with websockets.connect(s.cw.url("/ws/chat/ops/")) as cw, \
                s.daphne.connect("/ws/chat2/ops/") as ops, \
                s.daphne.connect("/ws/chat/ops/") as tutorial:
            wait_members(s, "chat_ops", 2 if layer == "pubsub" else 3)
            # typed: everybody, the unchanged tutorial consumer included
            cwsend(s.cw, "chat_ops", '{"type": "chat.message", "message": "typed"}')
            for ws in (cw, ops, tutorial):
                assert await recv_json(ws) == {"message": "typed"}
            # a raw broadcast: websocket.send; the tutorial consumer has no
            # handler for it and Channels closes it with 1011 (README)
            cwsend(s.cw, "chat_ops", "raw text")
            assert await recv(cw) == "raw text"
            assert await recv(ops) == "raw text"
            await closed_with(tutorial, 1011)
            # a group close: websocket.close with its code
            cwsend(s.cw, "--close", "chat_ops", "--code", "4001", "--reason", "maintenance")
            await closed_with(cw, 4001)
            await closed_with(ops, 4001)


@both_layers
async def django_closes_chanwired_clients(layer):
    with Site(layer=layer) as s:
        async with websockets.connect(s.cw.url("/ws/chat/q/")) as cw1, \
                websockets.connect(s.cw.url("/ws/chat/q/")) as cw2, \
                websockets.connect(s.cw.url("/ws/chat/other/")) as bystander:
            wait_members(s, "chat_q", 1)
            # an event type chanwire's chat does not handle: ignored, nothing closes
            manage(s.redis, "group_send", "chat_q", json.dumps({"type": "sensor.reading", "v": 1}))
            manage(s.redis, "group_send", "chat_q", json.dumps({"type": "websocket.close",
                                                                 "code": 4002}))
            await closed_with(cw1, 4002)
            await closed_with(cw2, 4002)
            await bystander.send(json.dumps({"message": "still here"}))
            assert await recv_json(bystander) == {"message": "still here"}


async def channel_of(ws):
    return (await recv_json(ws))["channel"]


@both_layers
async def channel_names_both_ways(layer):
    with Site(layer=layer) as s:
        async with websockets.connect(s.cw.url("/ws/channel/")) as cw, \
                s.daphne.connect("/ws/peer/") as dj:
            cw_name, dj_name = await channel_of(cw), await channel_of(dj)
            # the Django consumer learns chanwire's name from a message and
            # channel_layer.send()s to it
            await dj.send(json.dumps({"to": cw_name, "type": "peer.msg", "body": {"x": 1}}))
            assert await recv_json(cw) == {"type": "peer.msg", "x": 1}
            # and chanwire sends to the Django consumer's self.channel_name
            await cw.send(json.dumps({"to": dj_name, "type": "peer.msg", "body": {"x": 2}}))
            assert await recv_json(cw) == {"sent": 0}
            assert await recv_json(dj) == {"type": "peer.msg", "x": 2}
            # from a management command, to one chanwire connection
            manage(s.redis, "channel_send", cw_name, json.dumps({"type": "peer.msg", "x": 3}))
            assert await recv_json(cw) == {"type": "peer.msg", "x": 3}
            await nothing_more(cw, dj)


@both_layers
async def worker_channel_from_a_management_command(layer):
    with Site("--worker", "device.commands", layer=layer) as s:
        async with websockets.connect(s.cw.url("/ws/channel/?group=workers")) as w, \
                s.daphne.connect("/ws/peer/") as dj:
            await channel_of(w)
            dj_name = await channel_of(dj)
            if layer == "pubsub":
                s.redis.wait_numsub("device.commands", 1)
            manage(s.redis, "channel_send", "device.commands",
                   json.dumps({"type": "device.command", "reply_to": dj_name, "v": 9}))
            assert await recv_json(w) == {"type": "device.command", "reply_to": dj_name, "v": 9}
            # the worker's reply reached the Django consumer's channel
            assert await recv_json(dj) == {"type": "worker.reply", "reply_to": dj_name, "v": 9}
            await nothing_more(w, dj)


@both_layers
async def two_chanwired_and_daphne_in_one_group(layer):
    with Site(layer=layer) as s:
        other = chanwired(s.redis)
        try:
            async with s.daphne.connect("/ws/chat/tri/") as dj, \
                    websockets.connect(s.cw.url("/ws/chat/tri/")) as a, \
                    websockets.connect(other.url("/ws/chat/tri/")) as b:
                wait_members(s, "chat_tri", 3)
                for i, ws in enumerate((dj, a, b)):
                    await ws.send(json.dumps({"message": "from %d" % i}))
                    for peer in (dj, a, b):
                        assert await recv_json(peer) == {"message": "from %d" % i}
                await nothing_more(dj, a, b)
        finally:
            assert other.stop() == 0


@both_layers
async def membership_survives_a_redis_restart(layer):
    with Site(layer=layer) as s:
        async with websockets.connect(s.cw.url("/ws/chat/rs/")) as cw:
            wait_members(s, "chat_rs", 1)
            s.redis.kill()
            assert s.cw.wait_log(r"redis: lost", timeout=10), s.cw.log
            s.redis.start()
            wait_members(s, "chat_rs", 1)  # chanwired joined again by itself
            manage(s.redis, "group_send", "chat_rs",
                   json.dumps({"type": "chat.message", "message": "after the restart"}))
            assert await recv_json(cw) == {"message": "after the restart"}


# What chanwired must do once it shards over several hosts (docs/redis.md,
# "Several hosts"): the key placement of Debian's channels_redis.core with
# hosts=[a, b], pinned here so a change on Django's side is seen.
PLACEMENT = r"""
import asyncio, binascii, json, sys
from channels_redis.core import RedisChannelLayer

def shard(name):  # channels_redis.utils._consistent_hash, ring of 2
    return int((binascii.crc32(name.encode()) & 0xFFF) / 2048.0)

def pick(pred):
    for i in range(10000):
        if pred("%04d" % i):
            return "%04d" % i
    raise SystemExit("no name found")

async def run():
    hosts = ["redis://" + a for a in sys.argv[1:3]]
    layer = RedisChannelLayer(hosts=hosts)
    # a direct send to a specific name goes where the FULL name hashes,
    # a group send where its non-local part does: pick names where they differ
    d = pick(lambda i: shard("specific.d%s!x" % i) != shard("specific.d%s!" % i))
    direct = "specific.d%s!x" % d
    g = pick(lambda i: shard("specific.m%s!" % i) != shard("pin%s" % i))
    member, group = "specific.m%s!y" % g, "pin%s" % g
    await layer.send(direct, {"type": "t.direct"})
    await layer.group_add(group, member)
    await layer.group_send(group, {"type": "t.group"})
    print(json.dumps({"direct": direct, "direct_host": shard(direct),
                      "group": group, "group_host": shard(group),
                      "member": member, "member_host": shard("specific.m%s!" % g)}))

asyncio.run(run())
"""


@case
def django_several_hosts_placement():
    a, b = RedisServer(), RedisServer()
    try:
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        p = subprocess.run([PY, "-c", PLACEMENT, a.addr, b.addr], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=env, timeout=60)
        assert p.returncode == 0, p.stdout
        got = json.loads(p.stdout.decode().strip().splitlines()[-1])
        rs = [a.client(), b.client()]
        keys = [set(k.decode() for k in r.cmd("KEYS", "*")) for r in rs]
        nl = got["direct"].split("!")[0] + "!"
        # direct send: queue key of the non-local part, on the full name's host
        assert "asgi" + nl in keys[got["direct_host"]], keys
        assert "asgi" + nl not in keys[1 - got["direct_host"]], keys
        # group key on the group name's host
        gk = "asgi:group:" + got["group"]
        assert gk in keys[got["group_host"]] and gk not in keys[1 - got["group_host"]], keys
        # group send: the member's queue key on its non-local part's host
        mk = "asgi" + got["member"].split("!")[0] + "!"
        assert mk in keys[got["member_host"]] and mk not in keys[1 - got["member_host"]], keys
    finally:
        a.stop()
        b.stop()


if __name__ == "__main__":
    main()
