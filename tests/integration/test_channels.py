# SPDX-License-Identifier: MIT
"""test_channels: the Channels model as clients see it, driven by Python's
`websockets` (Debian's python3-websockets): chat rooms and their isolation,
members that left, group close through chanwire-send, presence events in
order, auth at connect (JWT from the header, a cookie or the query; tokens
minted here, by PyJWT and by djangorestframework-simplejwt; every rejection
with its documented status), the Origin check, chanwire-send reaching the
right sockets, bad control-socket requests that change nothing, the "chat"
subprotocol and route argument validation. In the TLS pass (CW_TLS=1) the
daemons listen with TLS and every client speaks wss:// (raw ones through
tests/lib/tlsraw.py)."""

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
import socket
import subprocess
import tempfile
import time

import rawws
from cwtest import (Daemon as _Daemon, Skip, case, client_ssl, daemon_path, exec_prefix, main, skip_suite,
                    slow_factor)

try:
    import websockets
    from websockets.exceptions import ConnectionClosed, InvalidHandshake
except ImportError:
    skip_suite("python3-websockets not installed (apt-get install python3-websockets)")


TMP = tempfile.mkdtemp(prefix="cw-chan-")
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


def start(*args, jwt=True, control=True, env=None):
    """A fresh daemon on a free port with its own control socket."""
    extra = []
    ctl = None
    if control:
        ctl = os.path.join(TMP, "ctl%d.sock" % len(_started))
        extra += ["--control", ctl]
    else:
        extra += ["--no-control"]
    if jwt:
        extra += ["--jwt-secret-file", SECRET_FILE]
    d = _Daemon(*(extra + list(args)), env=env)
    d.ctl = ctl
    _started.append(d)
    # The control socket is opened just after the "listening" line.
    if ctl and not d.wait_log(r"control socket " + re.escape(ctl)):
        raise AssertionError("no control socket:\n" + d.log)
    return d


def stop(d):
    rc = d.stop()
    assert rc == 0, "daemon exited with %r\n%s" % (rc, d.log[-3000:])


# ---- chanwire-send and the control socket ----

def sender_path():
    build = os.environ.get("CW_BUILD")
    if build:
        return os.path.join(build, "chanwire-send")
    return os.path.join(os.path.dirname(daemon_path()), "chanwire-send")


def cwsend(d, *args, socket_path=None):
    """Runs chanwire-send against d; returns (exit status, stdout, stderr)."""
    env = dict(os.environ)
    env.pop("CHANWIRE_SOCKET", None)
    argv = exec_prefix() + [sender_path(), "--socket", socket_path or d.ctl] + list(args)
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, timeout=20 * slow_factor())
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def delivered(d, *args, n):
    """chanwire-send must succeed and report n connections reached."""
    rc, out, err = cwsend(d, *args)
    assert (rc, out, err) == (0, "delivered to %d connection(s)\n" % n, ""), (args, rc, out, err)


def ctl_raw(d, data, timeout=10.0):
    """One raw request on the control socket; returns the whole reply."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout * slow_factor())
    try:
        s.connect(d.ctl)
        try:
            if data:
                s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before it was all read: the answer is still there
        out = b""
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                if out:
                    return out  # the reset that follows a refusal, after the answer
                raise
            if not b:
                return out
            out += b
    finally:
        s.close()


def pools(d):
    """{"group": used, "member": used, ...} from --stats."""
    rc, out, err = cwsend(d, "--stats")
    assert rc == 0 and err == "", (rc, out, err)
    used = {}
    for line in out.splitlines():
        m = re.match(r"pool (\w+) (\d+)/(\d+)", line)
        if m:
            used[m.group(1)] = int(m.group(2))
    assert "member" in used and "group" in used, out
    return used


def wait_members(d, n, timeout=5.0):
    end = time.time() + timeout * slow_factor()
    got = None
    while time.time() < end:
        got = pools(d)["member"]
        if got == n:
            return
        time.sleep(0.05)
    raise AssertionError("memberships in use: %r, want %d" % (got, n))


# ---- tokens (HS256 minted with the standard library) ----

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def mint(claims, secret=SECRET, header=None, raw_payload=None):
    header = header if header is not None else {"alg": "HS256", "typ": "JWT"}
    h = b64u(json.dumps(header, separators=(",", ":")).encode())
    p = b64u(raw_payload if raw_payload is not None else json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), ("%s.%s" % (h, p)).encode(), hashlib.sha256).digest()
    return "%s.%s.%s" % (h, p, b64u(sig))


def padded_payload_token(c):
    """Signed correctly, but the payload keeps its '=' padding."""
    h = b64u(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    raw = json.dumps(c).encode()
    raw += b" " * ((3 - len(raw) % 3) % 3 + 1)  # a length that needs padding
    p = base64.urlsafe_b64encode(raw).decode()
    assert p.endswith("=")
    sig = hmac.new(SECRET.encode(), ("%s.%s" % (h, p)).encode(), hashlib.sha256).digest()
    return "%s.%s.%s" % (h, p, b64u(sig))


def std_alphabet_token():
    """A good token whose signature is written with '+' or '/' for '-' or '_'."""
    for uid in range(1, 1000):
        h, p, sig = mint(claims(uid)).split(".")
        if "-" in sig or "_" in sig:
            return "%s.%s.%s" % (h, p, sig.replace("-", "+").replace("_", "/"))
    raise AssertionError("no signature with '-' or '_'")


def claims(uid=42, name="alice", **kw):
    c = {"user_id": uid, "username": name, "exp": int(time.time()) + 600}
    c.update(kw)
    return {k: v for k, v in c.items() if v is not None}


# ---- websockets client helpers (websockets 10 .. 14 spellings) ----

try:
    _CONNECT_PARAMS = inspect.signature(websockets.connect).parameters
except (TypeError, ValueError):
    _CONNECT_PARAMS = {}
_HDR_KW = "additional_headers" if "additional_headers" in _CONNECT_PARAMS else "extra_headers"


def connect(url, headers=None, origin=None, subprotocols=None):
    kw = dict(max_size=None, compression=None, open_timeout=10 * slow_factor(),
              close_timeout=5 * slow_factor(), ping_interval=None)
    if headers:
        kw[_HDR_KW] = headers
    if origin:
        kw["origin"] = origin
    if subprotocols:
        kw["subprotocols"] = subprotocols
    if url.startswith("wss:"):
        kw["ssl"] = client_ssl()
    return websockets.connect(url, **kw)


def status_of(exc):
    if getattr(exc, "status_code", None) is not None:
        return exc.status_code
    resp = getattr(exc, "response", None)
    if resp is not None:
        return getattr(resp, "status_code", None) or getattr(resp, "status", None)
    return None


async def status(url, **kw):
    """101 when the upgrade succeeds (the socket is closed again), else the HTTP status."""
    try:
        ws = await connect(url, **kw)
    except InvalidHandshake as e:
        st = status_of(e)
        assert st is not None, "handshake failed without a status: %r" % e
        return st
    await ws.close()
    return 101


async def recv(ws, timeout=5.0):
    return await asyncio.wait_for(ws.recv(), timeout * slow_factor())


async def expect(ws, *want):
    """The next messages are exactly want (dicts compare as parsed JSON)."""
    for w in want:
        got = await recv(ws)
        if isinstance(w, dict):
            assert json.loads(got) == w, "got %r, want %r" % (got, w)
        else:
            assert got == w, "got %r, want %r" % (got, w)


async def closed_with(ws, timeout=5.0, allowed=()):
    """Waits for the server's close; returns (code, reason). Messages in
    allowed (dicts: parsed JSON) may come first; anything else fails."""
    try:
        while True:
            m = await asyncio.wait_for(ws.recv(), timeout * slow_factor())
            ok = any((json.loads(m) == a) if isinstance(a, dict) else m == a for a in allowed)
            assert ok, "message %r where a close was expected" % (m,)
    except ConnectionClosed:
        pass
    await asyncio.wait_for(ws.wait_closed(), timeout * slow_factor())
    return ws.close_code, ws.close_reason


async def close_all(*wss):
    for ws in wss:
        await ws.close()


def chat(room):
    return "/ws/chat/%s/" % room


# ---- raw handshakes (for exact response heads) ----

def raw_upgrade(port, path, extra="", host=None):
    """Returns (Conn, status, headers) after the response head."""
    c = rawws.Conn(port, timeout=5 * slow_factor())
    key = base64.b64encode(os.urandom(16)).decode()
    c.sock.sendall(rawws.request(path, key, host or "127.0.0.1:%d" % port, extra))
    c.read_head()
    headers = {}
    for line in c.head.decode("latin-1").split("\r\n")[1:]:
        k, _, v = line.partition(":")
        headers.setdefault(k.strip().lower(), []).append(v.strip())
    if c.status == 101:
        assert headers.get("sec-websocket-accept") == [rawws.accept_of(key)], c.head
    return c, c.status, headers


def raw_status(port, path, extra=""):
    c, st, _ = raw_upgrade(port, path, extra)
    c.close()
    return st


def raw_close_frame(c, timeout=5.0):
    """Reads to the server's close frame; returns (code, reason bytes)."""
    c.sock.settimeout(timeout * slow_factor())
    while True:
        f = c.read_frame()
        assert f is not None, "EOF without a close frame"
        if f[1] == rawws.OP_CLOSE:
            p = f[2]
            return (int.from_bytes(p[:2], "big") if len(p) >= 2 else 1005), p[2:]


# ---- chat rooms ----

@case
async def chat_rooms_isolated():
    d = start(jwt=False)
    rooms = {"alpha": 2, "beta": 3, "gamma": 1, "Alpha": 1}  # names are case-sensitive
    members = {}
    for room, n in rooms.items():
        members[room] = [await connect(d.url(chat(room))) for _ in range(n)]
    for room, wss in members.items():
        for i, ws in enumerate(wss):
            body = {"message": "%s says %d" % (room, i), "name": "%s-%d" % (room, i)}
            await ws.send(json.dumps(body))
            for other in wss:  # every member, the sender too
                await expect(other, body)
    # Anything that leaked into another room would be queued before these.
    for room, wss in members.items():
        delivered(d, "chat_" + room, "end of " + room, n=len(wss))
        for ws in wss:
            await expect(ws, "end of " + room)
    p = pools(d)
    assert (p["group"], p["member"]) == (4, 7), p
    for wss in members.values():
        await close_all(*wss)
    wait_members(d, 0)
    assert pools(d)["group"] == 0, "empty groups must go back to the pool"
    stop(d)


@case
async def chat_message_forms():
    d = start(jwt=False)
    a, b = [await connect(d.url(chat("forms"))) for _ in range(2)]
    tricky = 'quote " backslash \\ slash / newline \n tab \t é€𝄞 中 \u0001 </script>'
    for sent, want in (
            ({"message": "no name"}, {"message": "no name"}),
            ({"message": "with name", "name": "Zoë"}, {"message": "with name", "name": "Zoë"}),
            ({"name": "first", "message": "order", "extra": [1, {"x": 2}]}, {"message": "order", "name": "first"}),
            ({"message": tricky, "name": tricky[:20]}, {"message": tricky, "name": tricky[:20]}),
            ({"message": ""}, {"message": ""}),
            ({"message": "x" * 4000}, {"message": "x" * 4000})):
        await a.send(json.dumps(sent))
        await expect(a, want)
        await expect(b, want)
    # Not what the chat expects: an error to the sender only.
    for bad in ("hello", "{", "[]", '{"text": "x"}', '{"message": 5}', '{"message": null}', "\"message\""):
        await a.send(bad)
        got = json.loads(await recv(a))
        assert list(got) == ["error"] and isinstance(got["error"], str) and got["error"], (bad, got)
    await a.send(b'{"message": "binary frames are ignored"}')
    delivered(d, "chat_forms", "marker", n=2)
    await expect(a, "marker")
    await expect(b, "marker")
    await close_all(a, b)
    stop(d)


@case
async def members_that_left_get_nothing():
    d = start(jwt=False)
    a, b, c = [await connect(d.url(chat("lobby"))) for _ in range(3)]
    r = rawws.Conn(d.port)
    assert r.handshake(chat("lobby")) == 101
    other = await connect(d.url(chat("elsewhere")))
    wait_members(d, 5)
    delivered(d, "--type", "noop.event", "chat_lobby", "{}", n=4)
    await c.close()
    assert c.close_code == 1000
    wait_members(d, 4)
    r.close()  # vanishes without a close frame
    wait_members(d, 3)
    delivered(d, "--type", "noop.event", "chat_lobby", "{}", n=2)
    await a.send(json.dumps({"message": "who is here?"}))
    await expect(a, {"message": "who is here?"})
    await expect(b, {"message": "who is here?"})
    # A newcomer sees only what is sent after it joined.
    late = await connect(d.url(chat("lobby")))
    delivered(d, "chat_lobby", "after the newcomer", n=3)
    for ws in (a, b, late):
        await expect(ws, "after the newcomer")
    delivered(d, "chat_elsewhere", "elsewhere only", n=1)
    await expect(other, "elsewhere only")
    # Everyone leaves: the group itself is gone.
    await close_all(a, b, late)
    wait_members(d, 1)
    delivered(d, "chat_lobby", "anyone?", n=0)
    await close_all(other)
    wait_members(d, 0)
    stop(d)


@case
async def group_close_closes_exactly_that_room():
    d = start(jwt=False)
    x1, x2 = [await connect(d.url(chat("r1"))) for _ in range(2)]
    x3 = rawws.Conn(d.port)
    assert x3.handshake(chat("r1")) == 101
    y1, y2 = [await connect(d.url(chat("r2"))) for _ in range(2)]
    z = await connect(d.url(chat("r3")))
    e = await connect(d.url("/ws/echo/"))
    wait_members(d, 6)

    delivered(d, "--close", "chat_r1", "--code", "4000", "--reason", "room closed", n=3)
    for ws in (x1, x2):
        assert await closed_with(ws) == (4000, "room closed")
    assert raw_close_frame(x3) == (4000, b"room closed")
    x3.send(rawws.OP_CLOSE, rawws.close_payload(4000))
    assert x3.is_eof()
    x3.close()
    wait_members(d, 3)
    # The other rooms and the echo socket did not notice.
    await y1.send(json.dumps({"message": "still here"}))
    await expect(y1, {"message": "still here"})
    await expect(y2, {"message": "still here"})
    await e.send("echo still works")
    await expect(e, "echo still works")
    delivered(d, "--close", "chat_r1", "--code", "4000", n=0)

    # A reason with non-ASCII text, then the default code with no reason.
    delivered(d, "--close", "chat_r2", "--code", "4001", "--reason", "salle fermée ✓", n=2)
    for ws in (y1, y2):
        assert await closed_with(ws) == (4001, "salle fermée ✓")
    delivered(d, "--close", "chat_r3", n=1)
    assert await closed_with(z) == (1000, "")
    await e.send("and still")
    await expect(e, "and still")
    await e.close()
    wait_members(d, 0)
    stop(d)


@case
async def typed_event_vs_raw_broadcast():
    d = start(jwt=False)
    a, b = [await connect(d.url(chat("typed"))) for _ in range(2)]
    # --type: a group_send event; the chat consumer forwards chat.message bodies.
    delivered(d, "--type", "chat.message", "chat_typed", '{"message": "from the CLI"}', n=2)
    # A JSON object with a "type" key is a typed event too; its other keys are the
    # body (what a Channels handler reads, and what the Redis layer carries).
    delivered(d, "chat_typed", '{"type": "chat.message", "message": "typed"}', n=2)
    # An event type the consumer does not handle reaches the consumer, not the socket.
    delivered(d, "chat_typed", '{"type": "sensor.reading", "value": 21.5}', n=2)
    delivered(d, "--type", "other.thing", "chat_typed", "anything", n=2)
    # Anything else is a raw broadcast: the exact text, to every socket.
    delivered(d, "chat_typed", "plain text, not JSON", n=2)
    delivered(d, "chat_typed", '{"message": "JSON without a type"}', n=2)
    delivered(d, "chat_typed", "[1, 2, 3]", n=2)
    delivered(d, "chat_typed", "end", n=2)
    for ws in (a, b):
        await expect(ws, '{"message": "from the CLI"}', '{"message": "typed"}',
                     "plain text, not JSON", '{"message": "JSON without a type"}', "[1, 2, 3]", "end")
    await close_all(a, b)
    stop(d)


@case
async def chat_subprotocol():
    d = start(jwt=False)
    ws = await connect(d.url(chat("proto")), subprotocols=["chat"])
    assert ws.subprotocol == "chat", ws.subprotocol
    await ws.send(json.dumps({"message": "over chat"}))
    await expect(ws, {"message": "over chat"})
    await ws.close()
    ws = await connect(d.url(chat("proto")), subprotocols=["v2.chat", "chat"])
    assert ws.subprotocol == "chat", ws.subprotocol
    await ws.close()
    ws = await connect(d.url(chat("proto")))
    assert ws.subprotocol is None, ws.subprotocol
    await ws.close()
    # Exact response heads.
    for path, offer, want in ((chat("p"), "chat", ["chat"]),
                              (chat("p"), "v2.chat, chat", ["chat"]),
                              (chat("p"), "superchat", None),
                              (chat("p"), "", None),
                              (chat("p"), None, None),
                              ("/ws/echo/", "chat", None)):
        extra = "" if offer is None else "Sec-WebSocket-Protocol: %s\r\n" % offer
        c, st, h = raw_upgrade(d.port, path, extra)
        c.close()
        assert st == 101, (path, offer, st)
        assert h.get("sec-websocket-protocol") == want, (path, offer, h)
    stop(d)


@case
async def route_arguments_validated():
    d = start(jwt=False)
    ok48 = "r" * 48
    for room in ("a", "Room-1_x.y", "0", "a..b", "-", "_", ok48):
        c, st, _ = raw_upgrade(d.port, chat(room))
        assert st == 101, (room, st)
        c.close()
    ws = await connect(d.url(chat(ok48)))
    delivered(d, "chat_" + ok48, "longest room", n=1)
    await expect(ws, "longest room")
    await ws.close()
    for path in (chat("r" * 49), chat("bad$room"), chat("a%20b"), chat("a b".replace(" ", "%20")),
                 chat("caf%C3%A9"), chat("."), chat(".."), "/ws/chat//", "/ws/chat/room",
                 "/ws/chat/room/extra/", chat("a;b"), chat("a:b"), chat("a@b"), chat("a+b"),
                 chat("a%2fb"), chat("%2e%2e"), "/ws/chat/", "/ws/chat", "/ws/chat/x//",
                 "/ws/CHAT/x/", "/ws/echo", "/ws/echo/x/", "/ws/users", "/ws/chat/r*/"):
        st = raw_status(d.port, path)
        assert st == 404, (path, st)
    # Nothing was joined by any of them.
    wait_members(d, 0)
    assert (await status(d.url(chat("r" * 49)))) == 404
    stop(d)


# ---- users: presence and targeted sends ----

def bearer(uid, name, **kw):
    return {"Authorization": "Bearer " + mint(claims(uid, name, **kw))}


def presence(event, name, uid):
    return {"type": "presence", "event": event, "user": name, "id": str(uid)}


@case
async def presence_events_in_order():
    d = start()
    a = await connect(d.url("/ws/users/"), headers=bearer(1, "alice"))
    await expect(a, presence("joined", "alice", 1))
    b = await connect(d.url("/ws/users/"), headers=bearer(2, "bob"))
    await expect(b, presence("joined", "bob", 2))
    await b.close()
    c = rawws.Conn(d.port)
    c.sock.sendall(rawws.request("/ws/users/", extra="Authorization: Bearer %s\r\n" % mint(claims(3, "carol"))))
    assert c.read_head() == 101, c.head
    op, payload = c.read_message()
    assert op == rawws.OP_TEXT and json.loads(payload) == presence("joined", "carol", 3), payload
    c.close()  # gone without a close frame
    await expect(a, presence("joined", "bob", 2), presence("left", "bob", 2),
                 presence("joined", "carol", 3), presence("left", "carol", 3))
    # A user message goes to everyone in "users", the sender too.
    b = await connect(d.url("/ws/users/"), headers=bearer(2, "bob"))
    await expect(b, presence("joined", "bob", 2))
    await expect(a, presence("joined", "bob", 2))
    await a.send(json.dumps({"message": "hello, all"}))
    want = {"type": "user.message", "user": "alice", "message": "hello, all"}
    await expect(a, want)
    await expect(b, want)
    await b.send("not JSON: ignored")
    delivered(d, "users", "marker", n=2)
    await expect(a, "marker")
    await expect(b, "marker")
    await b.close()
    await expect(a, presence("left", "bob", 2))
    await a.close()
    wait_members(d, 0)
    stop(d)


@case
async def presence_carol_payload_exact():
    # The joined event the newcomer itself receives, as exact JSON values.
    d = start()
    c = await connect(d.url("/ws/users/"), headers=bearer("u-7", "Carol \"C\" Ünicode"))
    got = json.loads(await recv(c))
    assert got == {"type": "presence", "event": "joined", "user": "Carol \"C\" Ünicode", "id": "u-7"}, got
    await c.close()
    # Without a name claim the id stands in for the name.
    c = await connect(d.url("/ws/users/"), headers={"Authorization": "Bearer " + mint(claims(5, None))})
    await expect(c, presence("joined", "5", 5))
    await c.close()
    stop(d)


@case
async def chanwire_send_reaches_user_tabs():
    d = start()
    t1 = await connect(d.url("/ws/users/"), headers=bearer(42, "dave"))
    await expect(t1, presence("joined", "dave", 42))
    t2 = await connect(d.url("/ws/users/"), headers=bearer(42, "dave"))
    await expect(t2, presence("joined", "dave", 42))
    await expect(t1, presence("joined", "dave", 42))
    u7 = await connect(d.url("/ws/users/"), headers=bearer(7, "erin"))
    for ws in (u7, t1, t2):
        await expect(ws, presence("joined", "erin", 7))
    # Raw broadcast (no "type"): every tab of user 42, nobody else.
    delivered(d, "user_42", '{"message":"hi"}', n=2)
    # Typed event: forwarded by the users consumer as {"type": ..., ...its body}.
    delivered(d, "user_42", '{"type":"notify","level":3}', n=2)
    delivered(d, "--type", "alert", "user_7", '{"n":1}', n=1)
    delivered(d, "user_4", "nobody", n=0)
    delivered(d, "user_420", "nobody", n=0)
    delivered(d, "users", "end", n=3)
    for ws in (t1, t2):
        await expect(ws, '{"message":"hi"}', '{"type":"notify","level":3}', "end")
    await expect(u7, '{"type":"alert","n":1}', "end")
    # One tab closes: the other still gets user_42's messages.
    await t1.close()
    await expect(t2, presence("left", "dave", 42))
    await expect(u7, presence("left", "dave", 42))
    delivered(d, "user_42", "second tab only", n=1)
    await expect(t2, "second tab only")
    # Closing "users" ends every session with the code the page shows.
    delivered(d, "--close", "users", "--code", "4002", "--reason", "maintenance", n=2)
    # Members closed first say "left" to those still in the group: like
    # Channels, each disconnect handler runs while the fan-out goes on.
    left = (presence("left", "dave", 42), presence("left", "erin", 7))
    assert await closed_with(t2, allowed=left) == (4002, "maintenance")
    assert await closed_with(u7, allowed=left) == (4002, "maintenance")
    wait_members(d, 0)
    stop(d)


# ---- the control socket ----

@case
async def control_bad_requests_change_nothing():
    d = start()
    a, b = [await connect(d.url(chat("ctl"))) for _ in range(2)]
    u = await connect(d.url("/ws/users/"), headers=bearer(42, "dave"))
    await expect(u, presence("joined", "dave", 42))
    before = pools(d)
    g100, g101 = "g" * 100, "g" * 101
    for req, reply in (
            (b"frobnicate chat_ctl 3\nabc", b"error unknown command\n"),
            (b"\n", b"error malformed request\n"),
            (b"SEND chat_ctl chat.message 2\nhi", b"error unknown command\n"),
            (b"broadcast bad/name 2\nhi", b"error invalid group, type, code or text\n"),
            (b"broadcast chat ctl 2\nhi", b"error bad or too large length\n"),
            (b"broadcast chat_ctl 2 2\nhi", b"error unexpected words\n"),
            (b"broadcast " + g101.encode() + b" 2\nhi", b"error bad group name\n"),
            (b"broadcast " + g100.encode() + b" 2\nhi", b"error invalid group, type, code or text\n"),
            (b"broadcast " + g100[:99].encode() + b" 2\nhi", b"ok 0\n"),  # 99 is the longest name
            (b"broadcast g\xc3\xa9 2\nhi", b"error invalid group, type, code or text\n"),
            (b"send chat_ctl bad-type! 2\nhi", b"error invalid group, type, code or text\n"),
            (b"send chat_ctl 2\nhi", b"error bad or too large length\n"),
            (b"broadcast chat_ctl abc\nabc", b"error bad or too large length\n"),
            (b"broadcast chat_ctl -1\n", b"error bad or too large length\n"),
            (b"broadcast chat_ctl +2\nhi", b"error bad or too large length\n"),
            (b"broadcast chat_ctl 99999999999\n", b"error bad or too large length\n"),
            (b"broadcast chat_ctl 2 extra\nhi", b"error unexpected words\n"),
            (b"broadcast chat_ctl 2\n\xff\xfe", b"error invalid group, type, code or text\n"),
            (b"broadcast user_42 2\n\xc3(", b"error invalid group, type, code or text\n"),
            (b"close chat_ctl\n", b"error usage: close GROUP CODE [REASON]\n"),
            (b"close chat_ctl 5000 x\n", b"error usage: close GROUP CODE [REASON]\n"),
            (b"close chat_ctl 1005\n", b"error invalid group, type, code or text\n"),
            (b"close chat_ctl 999 x\n", b"error invalid group, type, code or text\n"),
            (b"close users 4000 " + b"r" * 200 + b"\n", b"error reason too long\n"),
            (b"close chat_ctl 4000 \xff\n", b"error invalid group, type, code or text\n"),
            (b"stats now\n", b"error unexpected words\n"),
            (b"broadcast chat_ctl 2" + b" " * 300 + b"\nhi", b"error request line too long\n"),
            (b"x" * 70000, b"error request line too long\n")):
        got = ctl_raw(d, req)
        assert got == reply, "%r -> %r, want %r" % (req[:60], got, reply)
    # A request cut short: after the control timeout, an error; nothing sent.
    t0 = time.time()
    got = ctl_raw(d, b"broadcast chat_ctl 10\nabc")
    assert got == b"error request timed out\n", got
    assert time.time() - t0 < 8 * slow_factor()
    # The CLI says the same and exits 1.
    rc, out, err = cwsend(d, "bad!", "x")
    assert (rc, out, err) == (1, "", "chanwire-send: invalid group, type, code or text\n"), (rc, out, err)
    rc, out, err = cwsend(d, "--close", "chat_ctl", "--code", "1006")
    assert (rc, out, err) == (1, "", "chanwire-send: invalid group, type, code or text\n"), (rc, out, err)
    rc, out, err = cwsend(d, "--type", "bad-type", "chat_ctl", "{}")
    assert (rc, out, err) == (1, "", "chanwire-send: invalid group, type, code or text\n"), (rc, out, err)
    # A group or type that is not one word would be read as another request
    # ("chat_ctl 1\nX" would broadcast "X"): refused as usage, nothing sent.
    for args in (("chat_ctl 1\nX", "msg"), ("chat_ctl 3", "msg"), ("chat ctl", "x"), ("", "x"),
                 ("--type", "chat.message 2\n{}", "chat_ctl", "x"), ("--type", "", "chat_ctl", "x"),
                 ("--close", "chat_ctl 4000\nclose", "--code", "4000"), ("--close", "chat_ctl\t1")):
        rc, out, err = cwsend(d, *args)
        assert rc == 2 and out == "" and err.startswith("usage:"), (args, rc, out, err)
    # Oversized: refused from its header, while the CLI is still writing it.
    for size in (65281, 100000):
        rc, out, err = cwsend(d, "chat_ctl", "x" * size)
        assert (rc, out, err) == (1, "", "chanwire-send: bad or too large length\n"), (size, rc, out, err)
    # Nothing changed: no socket got anything, no group or membership moved.
    assert pools(d) == before, (pools(d), before)
    delivered(d, "chat_ctl", "marker", n=2)
    delivered(d, "user_42", "marker", n=1)
    for ws in (a, b, u):
        await expect(ws, "marker")
    assert d.alive()
    # A valid request still works after all that.
    body = b'{"message":"ok"}'
    got = ctl_raw(d, b"send chat_ctl chat.message %d\n%s" % (len(body), body))
    assert got == b"ok 2\n", got
    for ws in (a, b):
        await expect(ws, {"message": "ok"})
    await close_all(a, b, u)
    stop(d)


def config_value(name):
    build = os.environ.get("CW_BUILD") or os.path.dirname(daemon_path())
    try:
        with open(os.path.join(build, "include", "cw_config.h")) as f:
            m = re.search(r"#define %s (\d+)" % name, f.read())
            return int(m.group(1)) if m else None
    except OSError:
        return None


@case
def control_clients_bounded():
    n = config_value("CONFIG_CONTROL_CLIENTS")
    if not n:
        raise Skip("no cw_config.h in $CW_BUILD/include")
    d = start(jwt=False)
    holders = []
    try:
        for _ in range(n):  # each takes a slot and says nothing
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10 * slow_factor())
            s.connect(d.ctl)
            holders.append(s)
        time.sleep(0.2)
        # (Said before reading: a request already sent would make the close a reset.)
        assert ctl_raw(d, b"") == b"error busy\n"
        for s in holders:  # each silent one is timed out with an error
            assert s.recv(100) == b"error request timed out\n"
    finally:
        for s in holders:
            s.close()
    assert ctl_raw(d, b"broadcast chat_x 1\nx") == b"ok 0\n"
    stop(d)


@case
def chanwire_send_usage_and_unreachable():
    d = start(jwt=False)
    for args in ((), ("onlygroup",), ("a", "b", "c"), ("--close",), ("--close", "a", "b"),
                 ("--bogus", "a", "b"), ("--close", "g", "--reason", "two\nlines")):
        rc, out, err = cwsend(d, *args)
        assert rc == 2 and out == "" and err, (args, rc, out, err)
    rc, out, err = cwsend(d, "g", "m", socket_path=os.path.join(TMP, "nobody-here.sock"))
    assert rc == 1 and out == "" and "cannot reach chanwired" in err, (rc, out, err)
    rc, out, err = cwsend(d, "--stats")
    assert rc == 0 and err == "" and "pool member 0/" in out and "\nconns_open 0\n" in "\n" + out, (rc, out, err)
    rc, out, err = cwsend(d, "--help")
    assert rc == 0 and out.startswith("usage: chanwire-send"), (rc, out)
    stop(d)


# ---- auth at connect ----

@case
async def auth_rejections_401():
    d = start()
    now = int(time.time())
    users = d.url("/ws/users/")
    h = mint(claims())
    hdr, pay, sig = h.split(".")
    bad_cases = {
        "no token": None,
        "empty bearer": "",
        "bad signature": mint(claims(), secret=SECRET + "x"),
        "tampered payload": ".".join([hdr, b64u(json.dumps(claims(uid=1)).encode()), sig]),
        "truncated signature": ".".join([hdr, pay, sig[:-2]]),
        "expired": mint(claims(exp=now - 3600)),
        "expired just now": mint(claims(exp=now - 2)),
        "nbf in the future": mint(claims(nbf=now + 3600)),
        "alg none": mint(claims(), header={"alg": "none", "typ": "JWT"}).rsplit(".", 1)[0] + ".",
        "alg none, signed": mint(claims(), header={"alg": "none"}),
        "alg None": mint(claims(), header={"alg": "None"}),
        "alg HS512": mint(claims(), header={"alg": "HS512", "typ": "JWT"}),
        "alg RS256": mint(claims(), header={"alg": "RS256", "typ": "JWT"}),
        "no alg": mint(claims(), header={"typ": "JWT"}),
        "crit header": mint(claims(), header={"alg": "HS256", "crit": ["exp"]}),
        "refresh token": mint(claims(token_type="refresh")),
        "odd token_type": mint(claims(token_type="id")),
        "no user id": mint(claims(uid=None)),
        "empty user id": mint(claims(uid="")),
        "exp not a number": mint(claims(exp="tomorrow")),
        "malformed: one part": "abc",
        "malformed: two parts": "abc.def",
        "malformed: four parts": h + ".x",
        "malformed: junk": "!!!.???.***",
        "malformed: header not JSON": ".".join([b64u(b"not json"), pay, sig]),
        "malformed: payload not JSON": mint(None, raw_payload=b"{not json"),
        "malformed: payload an array": mint(None, raw_payload=b"[1,2]"),
        "malformed: huge": "a" * 6000 + "." + "b" * 10 + "." + "c" * 43,
        # exp is required by default (as simplejwt does): test_jwt_exp_required
        "no exp": mint(claims(exp=None)),
        "no exp, nbf instead": mint(claims(exp=None, nbf=now - 5)),
        # one spelling per token (test_jwt_canonical): no padding, url alphabet
        "padded signature": h + "=",
        "padded signature (2)": h + "==",
        "padded payload": padded_payload_token(claims()),
        "signature in standard base64": std_alphabet_token(),
    }
    for what, tok in bad_cases.items():
        headers = None if tok is None else {"Authorization": "Bearer " + tok}
        st = await status(users, headers=headers)
        assert st == 401, "%s: %r" % (what, st)
    # The 401 names the scheme.
    c, st, h401 = raw_upgrade(d.port, "/ws/users/")
    c.close()
    assert st == 401 and h401.get("www-authenticate") == ["Bearer"], (st, h401)
    # A present but invalid token is refused on public routes too.
    for tok in (bad_cases["bad signature"], bad_cases["expired"], bad_cases["malformed: junk"]):
        assert await status(d.url(chat("pub")), headers={"Authorization": "Bearer " + tok}) == 401
        assert await status(d.url(chat("pub") + "?token=" + tok)) == 401
    # ... while the same routes with no token, or a good one, are open.
    assert await status(d.url(chat("pub"))) == 101
    assert await status(d.url(chat("pub")), headers=bearer(1, "a")) == 101
    # An invalid header token is not rescued by a valid cookie.
    st = await status(users, headers={"Authorization": "Bearer " + bad_cases["expired"],
                                      "Cookie": "jwt=" + mint(claims())})
    assert st == 401, st
    # Nothing joined, nobody counted in.
    wait_members(d, 0)
    assert d.alive()
    stop(d)


@case
async def auth_token_sources():
    d = start()
    now = int(time.time())
    tok = mint(claims(7, "tess", exp=now + 120, nbf=now - 5, iat=now, token_type="access"))
    variants = [
        ("header", "/ws/users/", {"Authorization": "Bearer " + tok}),
        ("header, lower-case scheme", "/ws/users/", {"Authorization": "bearer " + tok}),
        ("cookie", "/ws/users/", {"Cookie": "csrftoken=abc; jwt=" + tok + "; theme=dark"}),
        ("cookie alone", "/ws/users/", {"Cookie": "jwt=" + tok}),
        ("query", "/ws/users/?token=" + tok, None),
        ("query among others", "/ws/users/?a=1&token=" + tok + "&b=2", None),
    ]
    for what, path, headers in variants:
        ws = await connect(d.url(path), headers=headers)
        got = json.loads(await recv(ws))
        assert got == presence("joined", "tess", 7), (what, got)
        await ws.close()
        wait_members(d, 0)
    # Other cookie or parameter names are not tokens.
    assert await status(d.url("/ws/users/"), headers={"Cookie": "jwtx=" + tok}) == 401
    assert await status(d.url("/ws/users/?tokens=" + tok)) == 401
    assert await status(d.url("/ws/users/"), headers={"Authorization": "Basic " + tok}) == 401
    stop(d)


@case
async def auth_custom_claims_cookie_query_and_env_secret():
    env_secret = "from-the-environment"
    d = start("--jwt-id-claim", "sub", "--jwt-name-claim", "name", "--jwt-cookie", "session",
              "--jwt-query", "access_token", jwt=False, env={"CHANWIRE_JWT_SECRET": env_secret})
    tok = mint({"sub": "99", "name": "zoe", "exp": int(time.time()) + 60}, secret=env_secret)
    for path, headers in (("/ws/users/", {"Cookie": "session=" + tok}),
                          ("/ws/users/?access_token=" + tok, None),
                          ("/ws/users/", {"Authorization": "Bearer " + tok})):
        ws = await connect(d.url(path), headers=headers)
        await expect(ws, presence("joined", "zoe", 99))
        await ws.close()
        wait_members(d, 0)
    # The default names no longer carry a token here.
    assert await status(d.url("/ws/users/"), headers={"Cookie": "jwt=" + tok}) == 401
    assert await status(d.url("/ws/users/?token=" + tok)) == 401
    # Claims under the default names do not identify anyone.
    other = mint({"user_id": 1, "username": "x"}, secret=env_secret)
    assert await status(d.url("/ws/users/"), headers={"Authorization": "Bearer " + other}) == 401
    # Signed with the file's secret, not the environment's.
    assert await status(d.url("/ws/users/"), headers={"Authorization": "Bearer " + mint({"sub": "1"})}) == 401
    stop(d)


@case
async def auth_audience_issuer_and_exp_flags():
    now = int(time.time())
    aud, iss = "chanwire-ws", "https://auth.example"
    # Without --jwt-audience/--jwt-issuer, aud and iss are not read (as
    # simplejwt with AUDIENCE and ISSUER None); exp is required.
    d = start()
    for extra in ({"aud": "someone-else"}, {"aud": [1, 2]}, {"iss": "anyone"}, {"iss": ["x"]}):
        st = await status(d.url("/ws/users/"), headers=bearer(5, "e", **extra))
        assert st == 101, (extra, st)
    st = await status(d.url("/ws/users/"), headers=bearer(5, "e", exp=None))
    assert st == 401, "no exp: %r" % st
    assert d.wait_log(r"token refused: no exp claim"), d.log[-2000:]
    stop(d)

    d = start("--jwt-audience", aud, "--jwt-issuer", iss, "--jwt-allow-no-exp")
    rc = subprocess.run(exec_prefix() + [daemon_path(), "--help"], stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL, timeout=20 * slow_factor())
    for flag in ("--jwt-audience", "--jwt-issuer", "--jwt-allow-no-exp"):
        assert flag.encode() in rc.stdout, flag + " missing from --help"
    good = {"aud": aud, "iss": iss}
    accepted = [
        ("aud and iss", good),
        ("aud in a list", {"aud": ["other", aud], "iss": iss}),
        ("no exp, allowed by the flag", dict(good, exp=None)),
        ("other claims alongside", dict(good, token_type="access", jti="x", iat=now)),
    ]
    for what, extra in accepted:
        ws = await connect(d.url("/ws/users/"), headers=bearer(6, "f", **extra))
        await expect(ws, presence("joined", "f", 6))
        await ws.close()
        wait_members(d, 0)
    refused = [
        ("no aud", {"iss": iss}, "aud"),
        ("another aud", {"aud": "chanwire", "iss": iss}, "aud"),
        ("aud differs in case", {"aud": aud.upper(), "iss": iss}, "aud"),
        ("aud list without it", {"aud": ["a", "b"], "iss": iss}, "aud"),
        ("aud list with a non-string", {"aud": [aud, 1], "iss": iss}, "aud"),
        ("aud empty list", {"aud": [], "iss": iss}, "aud"),
        ("aud a number", {"aud": 1, "iss": iss}, "aud"),
        ("no iss", {"aud": aud}, "iss"),
        ("another iss", {"aud": aud, "iss": iss + "/"}, "iss"),
        ("iss in a list", {"aud": aud, "iss": [iss]}, "iss"),
        ("expired", dict(good, exp=now - 60), "expired"),
    ]
    for what, extra, _ in refused:
        st = await status(d.url("/ws/users/"), headers=bearer(7, "g", **extra))
        assert st == 401, "%s: %r" % (what, st)
    for why in ("aud missing or not ours", "iss missing or not ours", "token expired"):
        assert d.wait_log(r"token refused: " + re.escape(why)), why + "\n" + d.log[-2000:]
    wait_members(d, 0)
    assert d.alive()
    stop(d)


CLOCK_SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <time.h>
/* CLOCK_REALTIME reads 1970-01-02 plus the real seconds since the start:
 * a board with no RTC before NTP. The monotonic clock is left alone. */
int clock_gettime(clockid_t id, struct timespec *ts)
{
    static int (*real)(clockid_t, struct timespec *);
    static time_t start;
    if (!real)
        real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real(id, ts);
    if (rc == 0 && id == CLOCK_REALTIME) {
        if (!start)
            start = ts->tv_sec;
        ts->tv_sec = 86400 + (ts->tv_sec - start);
    }
    return rc;
}
"""


def clock_1970_env():
    """LD_PRELOAD of a library that sets the daemon's wall clock to 1970
    (the host's native daemon only: not under an emulator or a runner)."""
    if exec_prefix() or os.environ.get("CW_REMOTE"):
        raise Skip("the 1970 clock is a preload library for the host's own daemon")
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise Skip("no C compiler for the clock preload library")
    src, so = os.path.join(TMP, "clock1970.c"), os.path.join(TMP, "clock1970.so")
    with open(src, "w") as f:
        f.write(CLOCK_SHIM)
    subprocess.run([cc, "-shared", "-fPIC", "-o", so, src, "-ldl"], check=True)
    asan = os.environ.get("ASAN_OPTIONS", "")
    return {"LD_PRELOAD": so, "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0"}


@case
async def clock_before_2024_refuses_time_bound_tokens():
    """A wall clock before CW_JWT_CLOCK_FLOOR (never set) cannot judge exp:
    tokens with exp or nbf get 401, tokens that do not depend on it pass."""
    d = start("--jwt-allow-no-exp", env=clock_1970_env())
    now = int(time.time())
    for what, c in (("valid by the real clock", claims(exp=now + 600)),
                    ("expired a year ago", claims(exp=now - 365 * 86400)),
                    ("expired in 2024", claims(exp=1704067200 + 3600)),
                    ("nbf only", claims(exp=None, nbf=now - 60))):
        st = await status(d.url("/ws/users/"), headers={"Authorization": "Bearer " + mint(c)})
        assert st == 401, "%s: %r" % (what, st)
    assert d.wait_log(r"token refused: wall clock not set \(before 2024\)"), d.log[-2000:]
    # A token that does not depend on the clock is still good.
    ws = await connect(d.url("/ws/users/"), headers=bearer(11, "noclock", exp=None))
    await expect(ws, presence("joined", "noclock", 11))
    await ws.close()
    wait_members(d, 0)
    stop(d)


@case
async def users_without_a_secret_is_401():
    d = start(jwt=False)
    assert await status(d.url("/ws/users/")) == 401
    assert await status(d.url("/ws/users/"), headers=bearer(1, "a")) == 401
    assert await status(d.url(chat("open"))) == 101
    stop(d)


@case
async def user_ids_that_cannot_name_a_group():
    d = start()
    for uid in ("bob@example.com", "a b", "ü", "a/b"):
        st = await status(d.url("/ws/users/"), headers=bearer(uid, "n"))
        assert st == 403, "user id %r: %r" % (uid, st)
    wait_members(d, 0)
    # Ids are at most 39 bytes (CW_USER_ID_MAX): a longer one identifies nobody.
    assert await status(d.url("/ws/users/"), headers=bearer("x" * 40, "n")) == 401
    ws = await connect(d.url("/ws/users/"), headers=bearer("x" * 39, "long"))
    await expect(ws, presence("joined", "long", "x" * 39))
    await ws.close()
    uid = "3f2b8c1e-9d4a-4c6b-8e2f-1a2b3c4d5e6f"  # UUID ids are fine
    ws = await connect(d.url("/ws/users/"), headers=bearer(uid, "uuid"))
    await expect(ws, presence("joined", "uuid", uid))
    await ws.close()
    stop(d)


@case
async def origin_checks():
    d = start()
    tok = mint(claims())
    port = d.port
    for origin, want in (
            ("http://evil.example", 403),
            ("https://evil.example:%d" % port, 403),
            ("http://127.0.0.1.evil.example", 403),
            ("http://localhost:%d" % port, 403),  # Host is 127.0.0.1
            ("null", 403),
            ("file://", 403),
            ("http://127.0.0.1:%d/path" % port, 403),
            ("http://127.0.0.1:%d" % port, 101),
            ("http://127.0.0.1", 101),  # ports are not compared
            ("https://127.0.0.1:8443", 101),
            ("HTTP://127.0.0.1:%d" % port, 101)):
        for path, headers in ((chat("o"), None), ("/ws/users/", {"Authorization": "Bearer " + tok})):
            st = await status(d.url(path), origin=origin, headers=headers)
            assert st == want, "Origin %s on %s: %r, want %r" % (origin, path, st, want)
    # No Origin at all: not a browser, accepted.
    assert raw_status(port, chat("o")) == 101
    # A foreign Origin is refused before the token is even looked at.
    st = raw_status(port, "/ws/users/", "Origin: http://evil.example\r\n")
    assert st == 403, st
    # The Host header's name is what counts: a page served as "device.local".
    c, st, _ = raw_upgrade(port, chat("o"), "Origin: http://device.local\r\n", host="device.local:%d" % port)
    c.close()
    assert st == 101, st
    wait_members(d, 0)
    stop(d)


@case
async def full_user_table_answers_503():
    # Who a socket belongs to is kept in the user table; when it is full a
    # new user is refused (503, Retry-After), never let in as anonymous.
    d = start("--max-users", "2")
    port = d.port
    auth = lambda uid, name: "Authorization: Bearer %s\r\n" % mint(claims(uid, name))
    a = await connect(d.url("/ws/users/"), headers=bearer(1, "alice"))
    b = await connect(d.url("/ws/users/"), headers=bearer(2, "bob"))
    for path in ("/ws/users/", chat("r")):  # also where signing in is optional
        c, st, head = raw_upgrade(port, path, auth(3, "carol"))
        c.close()
        assert st == 503, (path, st)
        assert head.get("retry-after") == ["1"], head
    assert d.wait_log(r"503"), "the refusal is logged"
    # A user already signed in shares their record: a second tab gets in.
    a2 = await connect(d.url("/ws/users/"), headers=bearer(1, "alice"))
    await a2.close()
    # Once bob is gone, carol has a place.
    await b.close()
    deadline = time.time() + 5 * slow_factor()
    while raw_status(port, "/ws/users/", auth(3, "carol")) != 101:
        assert time.time() < deadline, "bob's record was not given back"
        await asyncio.sleep(0.05)
    await a.close()
    stop(d)


@case
async def allow_origin_flag():
    d = start("--allow-origin", "https://app.example.com", "--allow-origin", "http://10.0.0.5:8080")
    for origin, want in (("https://app.example.com", 101),
                         ("http://10.0.0.5:8080", 101),
                         ("https://APP.example.com", 101),
                         ("http://app.example.com", 403),
                         ("https://app.example.com:444", 403),
                         ("http://10.0.0.5", 403),
                         ("https://other.example", 403),
                         ("http://127.0.0.1:1", 101)):  # same host still fine
        st = await status(d.url(chat("a")), origin=origin)
        assert st == want, "Origin %s: %r, want %r" % (origin, st, want)
    st = await status(d.url("/ws/users/"), origin="https://app.example.com", headers=bearer(3, "c"))
    assert st == 101, st
    stop(d)
    d = start("--allow-origin", "*")
    assert await status(d.url(chat("a")), origin="https://anywhere.example") == 101
    stop(d)


# ---- tokens from other libraries ----

@case
async def tokens_minted_by_pyjwt():
    try:
        import jwt
    except ImportError:
        raise Skip("python3-jwt (PyJWT) not installed (apt-get install python3-jwt)")
    d = start()
    now = int(time.time())
    good = jwt.encode({"user_id": 42, "username": "py", "exp": now + 300, "iat": now}, SECRET, algorithm="HS256")
    if isinstance(good, bytes):
        good = good.decode()
    ws = await connect(d.url("/ws/users/"), headers={"Authorization": "Bearer " + good})
    await expect(ws, presence("joined", "py", 42))
    await ws.close()
    ws = await connect(d.url("/ws/users/?token=" + good))
    await expect(ws, presence("joined", "py", 42))
    await ws.close()

    def enc(payload, key=SECRET, alg="HS256"):
        t = jwt.encode(payload, key, algorithm=alg)
        return t.decode() if isinstance(t, bytes) else t

    refused = {
        "expired": enc({"user_id": 1, "exp": now - 600}),
        "nbf": enc({"user_id": 1, "nbf": now + 600}),
        "other key": enc({"user_id": 1}, key="not the secret"),
        "HS384": enc({"user_id": 1}, alg="HS384"),
        "none": enc({"user_id": 1}, key=None, alg="none"),
    }
    for what, tok in refused.items():
        st = await status(d.url("/ws/users/"), headers={"Authorization": "Bearer " + tok})
        assert st == 401, "%s: %r" % (what, st)
    stop(d)


_django_ready = False


def simplejwt():
    """rest_framework_simplejwt with a minimal Django settings module."""
    global _django_ready
    try:
        import django
        from django.conf import settings
    except ImportError:
        raise Skip("python3-djangorestframework-simplejwt (and python3-django) not installed")
    if not _django_ready:
        if not settings.configured:
            settings.configure(
                SECRET_KEY="not-the-jwt-secret",
                INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                                "rest_framework", "rest_framework_simplejwt"],
                DATABASES={},
                USE_TZ=True,
                SIMPLE_JWT={"SIGNING_KEY": SECRET, "ALGORITHM": "HS256"},
            )
        try:
            django.setup()
            from rest_framework_simplejwt import tokens  # noqa: F401
        except ImportError:
            raise Skip("python3-djangorestframework-simplejwt not installed "
                       "(apt-get install python3-djangorestframework-simplejwt)")
        _django_ready = True
    from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
    return AccessToken, RefreshToken


class _User:
    """What for_user() reads: the id field (USER_ID_FIELD, default "id")."""

    def __init__(self, uid, username):
        self.id = uid
        self.pk = uid
        self.username = username
        self.is_active = True


@case
async def tokens_minted_by_simplejwt():
    AccessToken, RefreshToken = simplejwt()
    d = start()
    access = AccessToken.for_user(_User(42, "django"))
    ws = await connect(d.url("/ws/users/"), headers={"Authorization": "Bearer " + str(access)})
    await expect(ws, presence("joined", "42", 42))  # simplejwt puts no name in the token
    await ws.close()
    # A name claim added the way a project's custom token would.
    access["username"] = "django"
    ws = await connect(d.url("/ws/users/?token=" + str(access)))
    await expect(ws, presence("joined", "django", 42))
    await ws.close()
    # A bare AccessToken() with the id set by hand, sent as a cookie.
    bare = AccessToken()
    bare["user_id"] = 43
    ws = await connect(d.url("/ws/users/"), headers={"Cookie": "jwt=" + str(bare)})
    await expect(ws, presence("joined", "43", 43))
    await ws.close()
    # The access token of a refresh pair is a session; the refresh token is not.
    refresh = RefreshToken.for_user(_User(44, "r"))
    ws = await connect(d.url("/ws/users/"), headers={"Authorization": "Bearer " + str(refresh.access_token)})
    await expect(ws, presence("joined", "44", 44))
    await ws.close()
    st = await status(d.url("/ws/users/"), headers={"Authorization": "Bearer " + str(refresh)})
    assert st == 401, st
    # Expired, per simplejwt's own clock fields.
    old = AccessToken.for_user(_User(45, "old"))
    old["exp"] = int(time.time()) - 60
    st = await status(d.url("/ws/users/"), headers={"Authorization": "Bearer " + str(old)})
    assert st == 401, st
    wait_members(d, 0)
    stop(d)



@case
async def audience_and_issuer_as_simplejwt_and_pyjwt_read_them():
    """With --jwt-audience/--jwt-issuer, a token is accepted exactly when
    simplejwt's TokenBackend with the same AUDIENCE and ISSUER (PyJWT
    underneath) accepts it; tokens those libraries mint are accepted."""
    simplejwt()
    from rest_framework_simplejwt.backends import TokenBackend
    from rest_framework_simplejwt.exceptions import TokenBackendError
    aud, iss = "chanwire-ws", "https://auth.example"
    backend = TokenBackend("HS256", SECRET, audience=aud, issuer=iss)
    d = start("--jwt-audience", aud, "--jwt-issuer", iss)
    now = int(time.time())
    minted = backend.encode({"user_id": 8, "username": "sj", "exp": now + 300})
    assert '"aud"' in base64.urlsafe_b64decode(minted.split(".")[1] + "==").decode()
    ws = await connect(d.url("/ws/users/"), headers={"Authorization": "Bearer " + minted})
    await expect(ws, presence("joined", "sj", 8))
    await ws.close()
    wait_members(d, 0)
    variants = [{}, {"aud": aud}, {"iss": iss}, {"aud": aud, "iss": iss},
                {"aud": [aud], "iss": iss}, {"aud": ["x", aud, "y"], "iss": iss},
                {"aud": ["x"], "iss": iss}, {"aud": [], "iss": iss}, {"aud": "", "iss": iss},
                {"aud": [aud, 3], "iss": iss}, {"aud": {"a": aud}, "iss": iss},
                {"aud": aud, "iss": iss.upper()}, {"aud": aud, "iss": [iss]},
                {"aud": aud + " ", "iss": iss}, {"aud": aud, "iss": None}]
    for extra in variants:
        tok = mint(claims(9, "v", **extra))
        try:
            backend.decode(tok)
            want = 101
        except TokenBackendError:
            want = 401
        st = await status(d.url("/ws/users/"), headers={"Authorization": "Bearer " + tok})
        assert st == want, "%r: %r, simplejwt says %r" % (extra, st, want)
        wait_members(d, 0)
    stop(d)


if __name__ == "__main__":
    main()
