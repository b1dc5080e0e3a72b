# SPDX-License-Identifier: MIT
"""test_redis_layer: groups across daemons through a real redis-server (Debian's,
started here on a loopback port), clients being Python `websockets`: two
chanwired instances share chat rooms both ways and each message arrives
exactly once; chanwire-send's typed events, raw broadcasts and group close
span both; Redis killed and restarted mid-test (local rooms keep working
throughout, chanwire-send reports what could not be published, delivery
across resumes); Redis down when the daemon starts; what other Redis
clients publish (Channels messages, malformed ones) and the counters;
AUTH with --redis-password-file and a wrong password; --redis-prefix. Runs
on builds with CONFIG_LAYER_REDIS (board host-redis)."""

import asyncio
import atexit
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from cwtest import Daemon, case, daemon_path, exec_prefix, main, skip_suite, slow_factor
import redisfix
from redisfix import RedisServer, pack
from ctlkit import cwsend, stats, wait_stat, recv, recv_json, nothing_more

try:
    import websockets
    from websockets.exceptions import ConnectionClosed
except ImportError:
    skip_suite("python3-websockets not installed (apt-get install python3-websockets)")

redisfix.need_redis()

TMP = tempfile.mkdtemp(prefix="cw-redis-test-")
_daemons = []


@atexit.register
def _cleanup():
    for d in _daemons:
        d.kill()
    shutil.rmtree(TMP, ignore_errors=True)


def start(redis_addr, *args, env=None, wait=True):
    """A chanwired on the Redis at redis_addr, with its own control socket."""
    ctl = os.path.join(TMP, "ctl%d.sock" % len(_daemons))
    d = Daemon("--redis", redis_addr, "--redis-layer", "pubsub", "--control", ctl, *args, env=env)
    d.ctl = ctl
    _daemons.append(d)
    assert d.wait_log(r"control socket " + re.escape(ctl)), d.log
    if wait:
        assert d.wait_log(r"redis: connected to", timeout=10), d.log
    return d


def stop(d):
    rc = d.stop()
    assert rc == 0, "daemon exited with %r\n%s" % (rc, d.log[-3000:])


def chat(d, room):
    return websockets.connect(d.url("/ws/chat/%s/" % room), ssl=d.ssl())


async def say(ws, text):
    await ws.send(json.dumps({"message": text}))


def log_count(d, pattern):
    return len(re.findall(pattern, d.log))


async def wait_log_count(d, pattern, n, timeout=15.0):
    end = time.time() + timeout * slow_factor()
    while time.time() < end:
        if log_count(d, pattern) >= n:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("%r seen %d times, want %d\n%s" % (pattern, log_count(d, pattern), n,
                                                           d.log[-3000:]))


# ---- cases ----

@case
async def two_instances_share_a_room():
    with RedisServer() as r:
        a, b = start(r.addr), start(r.addr)
        async with chat(a, "lobby") as a1, chat(b, "lobby") as b1, chat(b, "other") as b2:
            r.wait_numsub("asgi__group__chat_lobby", 2)  # one SUBSCRIBE per daemon
            await say(a1, "from A")
            assert await recv_json(a1) == {"message": "from A"}
            assert await recv_json(b1) == {"message": "from A"}
            await say(b1, "from B")
            assert await recv_json(b1) == {"message": "from B"}
            assert await recv_json(a1) == {"message": "from B"}
            # a burst keeps its order across, and nothing arrives twice
            for i in range(50):
                await say(a1, "m%d" % i)
            for ws in (a1, b1):
                for i in range(50):
                    assert await recv_json(ws) == {"message": "m%d" % i}
            await nothing_more(a1, b1, b2)
            # the subscription goes with the last member
        r.wait_numsub("asgi__group__chat_lobby", 0)
        st = stats(a)
        assert st["redis_state"] == "up" and int(st["redis_own_skipped"]) >= 51, st
        assert st["redis_malformed"] == "0" and st["redis_publish_failed"] == "0", st
        stop(a)
        stop(b)


@case
async def control_socket_spans_instances():
    with RedisServer() as r:
        a, b = start(r.addr), start(r.addr)
        async with chat(a, "r3") as a1, chat(b, "r3") as b1, chat(b, "r3") as b2:
            r.wait_numsub("asgi__group__chat_r3", 2)
            # a typed event from B's control socket reaches A's consumer
            rc, out, err = cwsend(b, "chat_r3", '{"type":"chat.message","message":"typed"}')
            assert (rc, out, err) == (0, "delivered to 2 connection(s)\n", ""), (rc, out, err)
            for ws in (a1, b1, b2):
                assert await recv_json(ws) == {"message": "typed"}
            # a raw broadcast from A's (websocket.send on the wire)
            rc, out, err = cwsend(a, "chat_r3", "plain text")
            assert rc == 0, (rc, out, err)
            for ws in (a1, b1, b2):
                assert await recv(ws) == "plain text"
            await nothing_more(a1, b1, b2)
            # group_close on A closes B's members too, with the code and reason
            rc, out, err = cwsend(a, "--close", "chat_r3", "--code", "4001", "--reason", "bye")
            assert (rc, out) == (0, "delivered to 1 connection(s)\n"), (rc, out, err)
            for ws in (a1, b1, b2):
                try:
                    await recv(ws)
                    raise AssertionError("still open")
                except ConnectionClosed as e:
                    assert (e.rcvd.code, e.rcvd.reason) == (4001, "bye"), e
        stop(a)
        stop(b)


@case
async def redis_killed_and_restarted():
    with RedisServer() as r:
        a, b = start(r.addr), start(r.addr)
        async with chat(a, "r4") as a1, chat(a, "r4") as a2, chat(b, "r4") as b1:
            r.wait_numsub("asgi__group__chat_r4", 2)
            await say(b1, "before")
            for ws in (a1, a2, b1):
                assert await recv_json(ws) == {"message": "before"}
            r.kill()
            await wait_log_count(a, r"redis: lost", 1)
            await wait_log_count(b, r"redis: lost", 1)
            # local rooms keep working while Redis is away
            for i in range(5):
                await say(a1, "local %d" % i)
                assert await recv_json(a1) == {"message": "local %d" % i}
                assert await recv_json(a2) == {"message": "local %d" % i}
            # chanwire-send says what did not get out, after delivering locally
            rc, out, err = cwsend(a, "chat_r4", '{"type":"chat.message","message":"ctl"}')
            assert rc == 1 and "not published to redis" in err and \
                "delivered to 2 local connection(s)" in err, (rc, out, err)
            assert await recv_json(a1) == {"message": "ctl"}
            assert await recv_json(a2) == {"message": "ctl"}
            await nothing_more(b1)
            assert int(stats(a)["redis_publish_failed"]) >= 6
            # back on the same port: both resubscribe and delivery resumes
            r.start()
            await wait_log_count(a, r"redis: connected to", 2)
            await wait_log_count(b, r"redis: connected to", 2)
            r.wait_numsub("asgi__group__chat_r4", 2)
            await say(b1, "after")
            for ws in (a1, a2, b1):
                assert await recv_json(ws) == {"message": "after"}
            await say(a2, "after too")
            for ws in (a1, a2, b1):
                assert await recv_json(ws) == {"message": "after too"}
            await nothing_more(a1, a2, b1)
        assert stats(a)["redis_disconnects"] == "1"
        stop(a)
        stop(b)


@case
async def redis_down_at_start():
    r = RedisServer(start=False)
    with r:
        a = start(r.addr, wait=False)
        assert a.wait_log(r"redis: cannot use 127\.0\.0\.1:%d: connect: Connection refused" % r.port), \
            a.log
        async with chat(a, "r5") as a1, chat(a, "r5") as a2:
            await say(a1, "alone")
            assert await recv_json(a1) == {"message": "alone"}
            assert await recv_json(a2) == {"message": "alone"}
            assert stats(a)["redis_state"] in ("down", "connecting")
            r.start()
            assert a.wait_log(r"redis: connected to", timeout=10), a.log
            r.wait_numsub("asgi__group__chat_r5", 1)
            b = start(r.addr)
            async with chat(b, "r5") as b1:
                r.wait_numsub("asgi__group__chat_r5", 2)
                await say(b1, "hello A")
                assert await recv_json(a1) == {"message": "hello A"}
                assert await recv_json(a2) == {"message": "hello A"}
        stop(a)
        stop(b)


@case
async def what_other_clients_publish():
    with RedisServer() as r:
        a = start(r.addr)
        async with chat(a, "r6") as a1:
            r.wait_numsub("asgi__group__chat_r6", 1)
            sub = r.client()
            sub.subscribe("asgi__group__chat_r6")
            # our publication, as Django would write it (type keeps its dot)
            await say(a1, "hi")
            assert await recv_json(a1) == {"message": "hi"}
            chan, payload = sub.message()
            assert chan == "asgi__group__chat_r6"
            assert payload == pack({"type": "chat.message", "message": "hi"}), payload.hex()
            # Channels messages from elsewhere, both spellings of the type
            for t in ("chat_message", "chat.message"):
                r.publish("asgi__group__chat_r6", pack({"type": t, "message": t}))
                assert await recv_json(a1) == {"message": t}
            r.publish("asgi__group__chat_r6", pack({"type": "websocket.send", "text": "raw"}))
            assert await recv(a1) == "raw"
            r.publish("asgi__group__chat_r6", pack({"type": "websocket.send", "bytes": b"\x00\x01"}))
            assert await recv(a1) == b"\x00\x01"
            # what Django's own consumers would die of: dropped here, counted
            bad = [b"\xc1",                                            # not msgpack
                   b"",                                                # nothing
                   pack({"message": "no type"}),
                   pack({"type": b"chat.message"}),                    # type as bytes
                   pack({"type": "_private"}),                         # no handler name
                   b"\x82\xa4type\xa1x\xa1s\xa1\xff",                      # str not UTF-8
                   pack({"type": "chat.message", "message": "x"})[:-1],  # truncated
                   pack({"type": "chat.message", "message": "x"}) + b"\x00",  # trailing bytes
                   pack({"type": "websocket.close", "code": 5000})]    # not a close code
            for payload in bad:
                r.publish("asgi__group__chat_r6", payload)
            wait_stat(a, "redis_malformed", lambda v: int(v) == len(bad))
            # a type the consumer has no handler for: an event it ignores
            r.publish("asgi__group__chat_r6", pack({"type": "no.handler", "x": 1}))
            r.publish("asgi__group__chat_r6", pack({"type": "chat.message", "message": "still here"}))
            assert await recv_json(a1) == {"message": "still here"}
            await nothing_more(a1)
            # and the websocket is as open as before
            await say(a1, "ok")
            assert await recv_json(a1) == {"message": "ok"}
            sub.close()
        st = stats(a)
        assert st["redis_state"] == "up" and st["redis_disconnects"] == "0", st
        stop(a)


@case
async def passwords():
    with RedisServer(password="s3cret pw") as r:
        pwfile = os.path.join(TMP, "redis.pw")
        with open(pwfile, "w") as f:
            f.write("s3cret pw\n")
        a = start(r.addr, "--redis-password-file", pwfile)
        b = start(r.addr, env={"CHANWIRE_REDIS_PASSWORD": "wrong"}, wait=False)
        assert b.wait_log(r"redis: cannot use .*AUTH refused: WRONGPASS"), b.log
        c = start(r.addr, wait=False)  # none at all
        assert c.wait_log(r"redis: cannot use .*NOAUTH"), c.log
        async with chat(a, "r7") as a1, chat(b, "r7") as b1, chat(b, "r7") as b2:
            r.wait_numsub("asgi__group__chat_r7", 1)
            await say(b1, "local only")  # b has no Redis: still a chat server
            assert await recv_json(b1) == {"message": "local only"}
            assert await recv_json(b2) == {"message": "local only"}
            await say(a1, "a")
            assert await recv_json(a1) == {"message": "a"}
            await nothing_more(b1, b2)
        for d in (a, b, c):
            stop(d)


@case
async def prefixes_keep_deployments_apart():
    with RedisServer() as r:
        a = start(r.addr, "--redis-prefix", "siteA")
        b = start(r.addr, "--redis-prefix", "siteB")
        c = start(r.addr, "--redis-prefix", "siteA")
        async with chat(a, "p") as a1, chat(b, "p") as b1, chat(c, "p") as c1:
            r.wait_numsub("siteA__group__chat_p", 2)
            r.wait_numsub("siteB__group__chat_p", 1)
            await say(a1, "A")
            assert await recv_json(a1) == {"message": "A"}
            assert await recv_json(c1) == {"message": "A"}
            await nothing_more(b1)
        for d in (a, b, c):
            stop(d)


@case
def bad_options():
    p = subprocess.run(exec_prefix() + [daemon_path(), "--redis", "redis.example:6379",
                                        "--no-control", "--allow-root"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    assert p.returncode == 1 and b"bad address 'redis.example:6379'" in p.stdout, p.stdout
    p = subprocess.run(exec_prefix() + [daemon_path(), "--redis-prefix", "x", "--no-control",
                                        "--allow-root"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    assert p.returncode == 2 and b"need --redis" in p.stdout, p.stdout
    p = subprocess.run(exec_prefix() + [daemon_path(), "--redis", "127.0.0.1:1", "--redis-prefix",
                                        "has space", "--no-control", "--allow-root"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    assert p.returncode == 1 and b"bad redis prefix" in p.stdout, p.stdout


if __name__ == "__main__":
    main()
