# SPDX-License-Identifier: MIT
"""test_json_consumers: the JSON consumer conveniences as the demo's clients
see them (issue 13, item 6), over real sockets with Python's `websockets`:
the chat relays any message up to --max-message to every member of the room
(60 KiB, 8 KiB, exactly the limit at the default and at a lowered limit,
escapes kept as sent), as the Channels original does; /ws/users/ relays
long messages too; an event without "type" in its body reaches a JSON
consumer with the type in front (cw_send_event_json); a consumer's
listed groups (cw_consumer.groups) are joined before connect and left on
close (the status consumer lists "status")."""

import asyncio
import atexit
import base64
import hashlib
import hmac
import inspect
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from cwtest import (Daemon, Skip, case, client_ssl, config_value, daemon_path, exec_prefix, main, skip_suite,
                    slow_factor)

try:
    import websockets
    from websockets.exceptions import ConnectionClosed
except ImportError:
    skip_suite("python3-websockets not installed (apt-get install python3-websockets)")

TMP = tempfile.mkdtemp(prefix="cw-jsonc-")
SECRET = "chanwire-test-secret-0123456789abcdef"
SECRET_FILE = os.path.join(TMP, "jwt.secret")
with open(SECRET_FILE, "w") as _f:
    _f.write(SECRET + "\n")
_started = []


@atexit.register
def _cleanup():
    for d in _started:
        d.kill()
    shutil.rmtree(TMP, ignore_errors=True)


def start(*args):
    ctl = os.path.join(TMP, "ctl%d.sock" % len(_started))
    d = Daemon("--control", ctl, "--jwt-secret-file", SECRET_FILE, "--log-level", "info", *args)
    d.ctl = ctl
    _started.append(d)
    assert d.wait_log(r"control socket " + re.escape(ctl)), d.log
    return d


def stop(d):
    rc = d.stop()
    assert rc == 0, "daemon exited with %r\n%s" % (rc, d.log[-3000:])


try:
    _HDR_KW = ("additional_headers" if "additional_headers" in inspect.signature(websockets.connect).parameters
               else "extra_headers")
except (TypeError, ValueError):
    _HDR_KW = "extra_headers"


def connect(d, path, headers=None):
    kw = dict(max_size=None, compression=None, open_timeout=10 * slow_factor(),
              close_timeout=5 * slow_factor(), ping_interval=None)
    if headers:
        kw[_HDR_KW] = headers
    if d.tls:
        kw["ssl"] = client_ssl()
    return websockets.connect(d.url(path), **kw)


async def recv(ws, timeout=10.0):
    return await asyncio.wait_for(ws.recv(), timeout * slow_factor())


def cwsend(d, *args):
    build = os.environ.get("CW_BUILD") or os.path.dirname(daemon_path())
    # Under emulation (CW_EXEC_PREFIX) the CLI is a target binary too.
    p = subprocess.run(exec_prefix() + [os.path.join(build, "chanwire-send"), "--socket", d.ctl] + list(args),
                       capture_output=True, text=True, timeout=10 * slow_factor())
    return p.returncode, p.stdout, p.stderr


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def bearer(uid, name):
    h = b64u(b'{"alg":"HS256","typ":"JWT"}')
    p = b64u(json.dumps({"user_id": uid, "username": name, "exp": int(time.time()) + 600}).encode())
    sig = hmac.new(SECRET.encode(), ("%s.%s" % (h, p)).encode(), hashlib.sha256).digest()
    return {"Authorization": "Bearer %s.%s.%s" % (h, p, b64u(sig))}


BUILD_MAX = config_value("CONFIG_MAX_MESSAGE_SIZE", 1048576)


def need_max(n):
    if BUILD_MAX < n:
        raise Skip("needs CONFIG_MAX_MESSAGE_SIZE >= %d (this build: %d)" % (n, BUILD_MAX))


def message_of_size(total, fill="x"):
    """{"message": "xxx..."} of exactly total bytes."""
    wrap = len(json.dumps({"message": ""}))
    text = json.dumps({"message": fill * (total - wrap)})
    assert len(text) == total
    return text


async def relayed(d, room, text, want):
    """Member a sends text; a and b both get want (parsed JSON)."""
    a = await connect(d, "/ws/chat/%s/" % room)
    b = await connect(d, "/ws/chat/%s/" % room)
    await a.send(text)
    for ws in (b, a):
        got = await recv(ws)
        assert json.loads(got) == want, (len(got), got[:200])
        assert len(got) <= len(text), "the relayed body is longer than what was sent"
    await a.close()
    await b.close()


@case
async def chat_relays_60k_and_8k():
    # Before: {"error": "message too long"} for both (an 8 KiB unescape buffer).
    need_max(60 * 1024)
    d = start()
    for size in (60 * 1024, 8 * 1024, 8 * 1024 + 1):
        text = message_of_size(size)
        await relayed(d, "big", text, json.loads(text))
    stop(d)


@case
async def chat_relays_exactly_the_limit():
    # At a lowered --max-message and at the build's own limit.
    for limit in sorted({min(70000, BUILD_MAX - 100), BUILD_MAX}):
        d = start("--max-message", str(limit))
        text = message_of_size(limit)
        await relayed(d, "edge", text, json.loads(text))
        # With a name, also at the limit.
        body = {"message": "", "name": "Ada"}
        body["message"] = "y" * (limit - len(json.dumps(body)))
        text = json.dumps(body)
        assert len(text) == limit
        await relayed(d, "edge", text, body)
        # One byte more is over the limit: 1009, as for any consumer.
        ws = await connect(d, "/ws/chat/edge/")
        await ws.send(message_of_size(limit + 1))
        try:
            await recv(ws)
            raise AssertionError("a message over --max-message was relayed")
        except ConnectionClosed:
            pass
        assert ws.close_code == 1009, ws.close_code
        stop(d)


@case
async def chat_keeps_escapes_as_sent():
    # Escapes go on unchanged (no unescape into a buffer): a message of
    # 20000 quotes is 40000 bytes escaped, and still one relay.
    need_max(41000)
    d = start()
    text = json.dumps({"message": '"' * 20000 + "\\ é \u0001 𝄞"})
    a = await connect(d, "/ws/chat/esc/")
    b = await connect(d, "/ws/chat/esc/")
    await a.send(text)
    got = await recv(b)
    assert json.loads(got) == json.loads(text)
    assert got == text.replace(": ", ":"), got[:100]  # the same escapes, byte for byte
    assert await recv(a) == got  # the sender is a member too
    await a.send(json.dumps({"message": 5}))
    assert "error" in json.loads(await recv(a))
    await a.close()
    await b.close()
    stop(d)


@case
async def users_relay_long_messages():
    # /ws/users/ used a 2 KiB buffer: a 60 KiB message now goes through.
    need_max(62 * 1024)
    d = start()
    a = await connect(d, "/ws/users/", bearer(1, "alice"))
    assert json.loads(await recv(a))["event"] == "joined"
    b = await connect(d, "/ws/users/", bearer(2, "bob"))
    assert json.loads(await recv(b))["event"] == "joined"
    assert json.loads(await recv(a))["user"] == "bob"
    msg = "z" * (60 * 1024) + ' "quoted" '
    await a.send(json.dumps({"message": msg}))
    want = {"type": "user.message", "user": "alice", "message": msg}
    for ws in (a, b):
        got = await recv(ws)
        assert json.loads(got) == want
        assert got.count('"type"') == 1, got[:80]  # a body with its own type goes unchanged
    await a.close()
    await b.close()
    stop(d)


@case
async def event_type_in_front_for_json_consumers():
    # A typed event whose body has no "type": the users consumer forwards it
    # with cw_send_event_json, as Channels' send_json(event) would.
    d = start()
    a = await connect(d, "/ws/users/", bearer(1, "alice"))
    await recv(a)
    for body, want in (
            ('{"value": 21.5, "unit": "C"}', {"type": "sensor.reading", "value": 21.5, "unit": "C"}),
            ("{}", {"type": "sensor.reading"}),
            ('  { "nested": {"type": "inner"} } ', {"type": "sensor.reading", "nested": {"type": "inner"}})):
        rc, out, err = cwsend(d, "--type", "sensor.reading", "users", body)
        assert rc == 0 and "delivered to 1" in out, (rc, out, err)
        got = await recv(a)
        assert json.loads(got) == want, got
        assert got.startswith('{"type":"sensor.reading"'), got
        assert got.count('"type"') == (2 if "nested" in want else 1), got
    # Not an object: sent as it is.
    rc, out, err = cwsend(d, "--type", "sensor.reading", "users", "[1, 2]")
    assert rc == 0, (rc, out, err)
    assert await recv(a) == "[1, 2]"
    await a.close()
    stop(d)


@case
async def listed_groups_joined_and_left():
    # The status consumer lists "status" (cw_consumer.groups): a client is a
    # member as soon as it is connected and is not after it closed.
    d = start()
    ws = await connect(d, "/ws/status/")
    await recv(ws)  # the snapshot at connect
    rc, out, err = cwsend(d, "status", "hello members")
    assert (rc, out) == (0, "delivered to 1 connection(s)\n"), (rc, out, err)
    while True:  # periodic snapshots may come first
        m = await recv(ws)
        if m == "hello members":
            break
        assert json.loads(m)["type"] == "status", m
    await ws.close()
    deadline = time.time() + 5 * slow_factor()
    while True:
        rc, out, err = cwsend(d, "status", "nobody")
        if out == "delivered to 0 connection(s)\n" or time.time() > deadline:
            break
        await asyncio.sleep(0.05)
    assert (rc, out) == (0, "delivered to 0 connection(s)\n"), (rc, out, err)
    stop(d)


if __name__ == "__main__":
    main()
