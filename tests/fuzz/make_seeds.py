#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make_seeds.py: writes the seed corpora tests/fuzz/corpus/NAME/ (committed).

Each seed is a small, readable input that reaches one feature of its target:
valid requests and frames first, then the bad inputs of docs/security.md.
Run again after changing a target's input format; names are stable
(seed-NN-what) so a diff shows what changed. Standard library only."""

import hashlib
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def frame(op, payload=b"", fin=True, mask=b"\0\0\0\0", rsv=0, length=None):
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv | op
    if n < 126:
        head = bytes([b0, 0x80 | n])
    elif n < 65536:
        head = bytes([b0, 0x80 | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, 0x80 | 127]) + struct.pack(">Q", n)
    masked = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return head + mask + masked


def req(path="/ws/echo/", extra="", method="GET", version="HTTP/1.1", key="dGhlIHNhbXBsZSBub25jZQ=="):
    return ("%s %s %s\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
            % (method, path, version, key, extra)).encode()


def seeds_http():
    s = [
        req(),
        req("/ws/chat/lobby/?token=abc&x=%41%42+c&flag", "Cookie: jwt=eyJ.a.b; theme=\"dark\"\r\n"
            "Origin: http://127.0.0.1:8080\r\nSec-WebSocket-Protocol: chat, superchat\r\n"),
        req("http://h:1/ws/echo/?q=1"),
        req(version="HTTP/1.0"),
        req(version="HTTP/2.0"),
        req(method="POST", extra="Content-Length: 5\r\n"),
        req(extra="Transfer-Encoding: chunked\r\n"),
        req(extra="Authorization: Bearer tok.en.sig\r\n"),
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\r\n\r\nGET /index.html HTTP/1.1\nHost: x\n\n",
        b"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
        b"GET / HTTP/1.1\r\nX : a\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
        b"GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET  / HTTP/1.1\r\n\r\n",
        b"GET /" + b"a" * 8300 + b" HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(60)) + b"\r\n",
        req(extra="Origin: https://evil.example\r\nHost: second\r\n"),
    ]
    return [bytes([i * 37 & 255]) + x for i, x in enumerate(s)]


def seeds_handshake():
    base = ("Host: 127.0.0.1:8080\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
    variants = [
        base,
        base + "Origin: http://127.0.0.1\r\n",
        base.replace("13", "8"),
        base.replace("Sec-WebSocket-Version: 13\r\n", ""),
        base + "Sec-WebSocket-Version: 13\r\n",
        base.replace("websocket", "h2c"),
        base.replace("Upgrade\r\n", "close\r\n"),
        base.replace("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ"),
        base.replace("dGhlIHNhbXBsZSBub25jZQ==", "AAAAAAAAAAAAAAAAAAAAAAA="),
        base + "Content-Length: 0\r\n",
        base + "Content-Length: 1\r\n",
        base + "Transfer-Encoding: chunked\r\n",
        base + "Host: two\r\n",
        "Upgrade: WebSocket\r\nCONNECTION: UPGRADE\r\nhost: h\r\nsec-websocket-key: "
        "AQIDBAUGBwgJCgsMDQ4PEA==\r\nsec-websocket-version: 13\r\n",
    ]
    out = []
    for i, v in enumerate(variants):
        out.append(bytes([i % 8]) + v.encode())
    out.append(bytes([2]) + base.encode())
    out.append(bytes([3]) + base.encode())
    out.append(bytes([4]) + base.encode())
    return out


def seeds_ws_rx():
    k = b"\x37\xfa\x21\x3d"
    s = [
        (3, frame(1, "hello") + frame(2, b"\0\1\2")),
        (3, frame(1, "hel", fin=False, mask=k) + frame(9, "p") + frame(0, "lo", mask=k)),
        (3, frame(1, "caf\u00e9 \u20ac \U0001f600", mask=k)),
        (3, frame(1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited")),
        (3, frame(1, b"\xf0\x9f", fin=False) + frame(0, b"\x98\x80")),
        (3, frame(1, b"\xc0\xaf")),
        (2, frame(2, b"x" * 5000)),
        (5, frame(2, b"y" * 3000, fin=False) + frame(0, b"z" * 3000)),
        (0, frame(2, b"y" * 200)),
        (3, frame(8, b"\x03\xe8bye")),
        (3, frame(8, b"\x03")),
        (3, frame(8, b"\x03\xedx")),
        (3, frame(8, b"\x03\xe8\xff")),
        (3, frame(9, b"a" * 126)),
        (3, frame(9, b"a", fin=False)),
        (3, frame(1, "a", rsv=0x40)),
        (3, bytes([0x83, 0x80]) + b"\0" * 4),
        (3, frame(0, "x")),
        (3, frame(1, "a", fin=False) + frame(1, "b")),
        (3, bytes([0x81, 0x05]) + b"hello"),
        (3, bytes([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0]) + b"\0" * 4),
        (7, frame(2, b"", length=200000)[:20] + b"q" * 3000),
        (3, frame(1, "") + frame(2, b"") + frame(10, b"")),
        (0x13, frame(1, "one") + frame(1, "two") + frame(1, "three")),
        (0x4b, frame(2, b"w" * 4200, fin=False) + frame(0, b"v" * 100)),
        (0xc3, frame(1, "x" * 100, fin=False) + frame(0, "y" * 5000)),
    ]
    return [bytes([flags, i * 29 & 255]) + b for i, (flags, b) in enumerate(s)]


def seeds_router():
    pairs = [
        ("/ws/echo/", "/ws/echo/"),
        ("/ws/chat/<room>/", "/ws/chat/lobby/"),
        ("/ws/chat/<room>/", "/ws/chat/a.b-c_d/"),
        ("/ws/chat/<room>/", "/ws/chat/../"),
        ("/ws/chat/<room>/", "/ws/chat//"),
        ("/ws/chat/<room>/", "/ws/chat/" + "r" * 49 + "/"),
        ("/a/<x>/b/<y>", "/a/1/b/2"),
        ("/<a>/<b>/<c>/<d>", "/w/x/y/z"),
        ("/<a>/<b>/<c>/<d>/<e>", "/v/w/x/y/z"),
        ("/x/<id>", "/x/abc/"),
        ("/x<id>/", "/xab/"),
        ("/x/<i d>/", "/x/a/"),
        ("/x/<id>/<id>/", "/x/a/b/"),
    ]
    return [(p + "\0" + q).encode() + bytes([i * 7]) for i, (p, q) in enumerate(pairs)]


def seeds_static():
    paths = ["/", "/index.html", "/app/x.js", "/a%2Fb.css", "/../etc/passwd", "/a/%2e%2e/b",
             "/.hidden", "/a//b", "/a\\b", "/a%00b", "/a%5cb", "/dir/", "/%zz", "/caf%C3%A9.txt",
             "/" + "x" * 300, "/a.PNG", "/a.tar.gz", "/noext"]
    return [bytes([200 if i % 3 else i]) + p.encode() for i, p in enumerate(paths)]


def seeds_json():
    docs = [
        b'{"message": "hello"}',
        b'{"type": "chat.message", "message": "caf\\u00e9 \\ud83d\\ude00 \\n \\"q\\""}',
        b'{"user_id": 42, "exp": 1.5e9, "a": [1, 2.5, -3e-2, true, false, null, {"x": {}}]}',
        b' {"a":1,"a":2} ',
        b'{"message": "\\ud800"}',
        b'{"k\\"": "v", "": 0, "\\u00e9": -0}',
        b'[1,2,3]',
        b'{"a": 01}',
        b'{"a": "tab\there"}',
        b'{"a": 1,}',
        b'{"a" 1}',
        b'{"a": ' + b'[' * 40 + b']' * 40 + b'}',
        b'{"a": 9223372036854775807, "exp": -9223372036854775808, "type": 1e400}',
        b'{"message": "\xc3\xa9\xff"}',
        b'"just a string"',
        b'{"a":{"message":{"type":"x"}}}',
    ]
    out = [b"\0" + d for d in docs]
    # writer programs: (cap byte, then ops)
    out.append(b"\x01" + bytes([40, 0x00, 0x13, ord("k"), 0x34, ord("a"), ord("b"), ord("c"),
                                0x02]))
    out.append(b"\x01" + bytes([2, 0x01, 0x05, 0x06, 0x07, 0x08, 0x09, 0x02]))
    out.append(b"\x01" + bytes([200] + [0x00, 0x0a] * 20 + [0x07] + [0x02] * 20))
    out.append(b"\x01" + bytes([100, 0x05, 0x05]))
    out.append(b"\x01" + bytes([100, 0x00, 0x07, 0x02]))
    return out


def b64u(b):
    import base64
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def seeds_jwt():
    import hmac
    secret = b"fuzz-secret-0123456789"

    def sign(h, p):
        t = b64u(h) + b"." + b64u(p)
        return t + b"." + b64u(hmac.new(secret, t, hashlib.sha256).digest())

    hs = b'{"alg":"HS256","typ":"JWT"}'
    payloads = [
        b'{"user_id":42,"username":"alice","exp":4102444800,"token_type":"access"}',
        b'{"sub":"u-7","username":"' + "\u00e9".encode() * 40 + b'"}',
        b'{"user_id":"x","nbf":4102444800}',
        b'{"user_id":1,"exp":1}',
        b'{"user_id":1,"token_type":"refresh"}',
        b'{"username":"nobody"}',
        b'{"user_id":"ab\\u0000cd"}',
        b'{"user_id":12345678901234567890123}',
        b'{"user_id":1,"exp":"soon"}',
        b'{"user_id":1,"exp":1e400}',
    ]
    out = [b"\x02" + sign(hs, p) for p in payloads]
    out.append(b"\x02" + sign(b'{"alg":"none"}', payloads[0]))
    out.append(b"\x02" + sign(b'{"alg":"HS256","crit":["x"]}', payloads[0]))
    out.append(b"\x02" + b"a.b")
    out.append(b"\x02" + b"a.b.c.d")
    out.append(b"\x02" + sign(hs, payloads[0])[:-3] + b"AAA")
    for i, p in enumerate(payloads):
        out.append(bytes([1 | (i << 1) & 0x3e]) + hs + b"\xff" + p)
    out.append(b"\x01" + b'{"alg":"RS256"}' + b"\xff" + payloads[0])
    # aud and iss (the harness sets "aud-1"/"iss-1" by the input's length),
    # and padding, which is never accepted
    more = [
        b'{"user_id":1,"exp":4102444800,"aud":["x","aud-1"],"iss":"iss-1"} ',
        b'{"user_id":1,"exp":4102444800,"aud":"aud-1","iss":["iss-1"]} ',
        b'{"user_id":1,"exp":4102444800,"aud":["a\\"b",1,"aud-1"]}  ',
        b'{"user_id":1,"aud":[ "aud-1" ],"iss":"iss\\u002d1"}        ',
    ]
    out += [b"\x03" + hs + b"\xff" + p for p in more]
    out.append(b"\x02" + sign(hs, payloads[0]) + b"=")
    out.append(b"\x02" + sign(hs, b'{"user_id":1,"exp":4102444800,"aud":"aud-1"}'))

    def sized(mode, p, low3):
        # the input's length sets exp/aud/iss (bits 0..2): pad to low3
        while (2 + len(hs) + len(p)) & 7 != low3:
            p += b" "
        return mode + hs + b"\xff" + p

    def raw_sized(mode, p, extra):
        # a base64url part is never 4k+1 long: aim at two lengths
        for n in range(16):
            t = mode + sign(hs, p[:-1] + b',"x":"' + b"x" * n + b'"}')
            if (len(t) + extra) & 6 == 0:
                return t
        raise AssertionError("no length fits")
    # reachable only through the strict defaults: no exp, a 1970 clock,
    # a padded signature (nothing else configured, so nothing else refuses)
    out.append(sized(b"\x03", b'{"user_id":1}', 0))
    out.append(sized(b"\x01", b'{"user_id":1,"exp":4102444800}', 0))
    out.append(raw_sized(b"\x02", b'{"user_id":1,"exp":4102444800}', 1) + b"=")
    return out


def seeds_control():
    reqs = [
        b"stats\n",
        b"restart\n",
        b"send chat_lobby chat.message 17\n{\"message\":\"hi\"}",
        b"broadcast users 5\nhello",
        b"close chat_lobby 4001 maintenance window\n",
        b"close chat_lobby 1000\n",
        b"send g t 99999999999999999999\n",
        b"send g t -1\n",
        b"broadcast g\x01x 1\nx",
        b"close g 5000\n",
        b"bogus\n",
        b"send g t 3\nab",
        b"stats extra\n",
        b"close g 4000 a\0b\n",
        b"x" * 300,
        b"broadcast " + b"g" * 101 + b" 1\nx",
    ]
    return [bytes([255 if i % 2 else 1]) + r for i, r in enumerate(reqs)]


def seeds_utf8():
    texts = ["hello", "caf\u00e9", "\u20ac\U0001f600", "\ud7ff\ue000\U0010ffff".encode("utf-8", "surrogatepass")]
    out = [bytes([i]) + (t if isinstance(t, bytes) else t.encode()) for i, t in enumerate(texts)]
    bad = [b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xf5",
           b"\xce\xba\xe1\xbd", b"\x80", b"\xf0\x9f\x98", b"a\xffb"]
    out += [bytes([40 + i]) + b for i, b in enumerate(bad)]
    return out


def seeds_frame():
    out = []
    for i, f in enumerate([frame(1, "hi"), frame(2, b"x" * 200), frame(2, b"y" * 70000)[:14],
                           frame(8, b"\x03\xe8bye"), frame(8, b"\x03"), frame(8, b"\x03\xed"),
                           frame(9, b"", fin=False), frame(1, "a", rsv=0x20),
                           bytes([0x81, 0x05]) + b"hello", bytes([0x82, 0x7f, 0x80]) + b"\0" * 11,
                           bytes([0x82, 0x7e, 0, 5]) + b"\0" * 4, bytes([0x8b, 0x80])]):
        out.append(bytes([i * 37 & 255 | 1 if i % 3 else i * 37 & 254]) + f)
    return out


def seeds_resp():
    replies = [b"+OK\r\n", b"-ERR unknown command\r\n", b":42\r\n:-7\r\n",
               b"$5\r\nhello\r\n$-1\r\n$0\r\n\r\n",
               b"*3\r\n$7\r\nmessage\r\n$10\r\nasgi__group__chat\r\n$3\r\n\x81\xa1x\r\n",
               b"*2\r\n*1\r\n:1\r\n*0\r\n*-1\r\n",
               b"$400\r\n" + b"z" * 400 + b"\r\n+after\r\n",
               b"*9\r\n" * 9 + b":1\r\n",
               b"%2\r\n", b"+bare\rcr\r\n", b":99999999999999999999\r\n", b"$3\r\nabcX\r\n",
               b"+" + b"l" * 600 + b"\r\n"]
    out = [bytes([(i % 4) << 1, i * 13 & 255]) + r for i, r in enumerate(replies)]
    out.append(b"\x01\x00" + bytes([9]) + b"SUBSCRIBE" + bytes([17]) + b"asgi__group__chat")
    out.append(b"\x01\x00")
    return out


def mp(obj):
    """A tiny msgpack packer (enough for seeds): dict, list, str, bytes, int, float, None, bool."""
    if obj is None:
        return b"\xc0"
    if obj is True or obj is False:
        return b"\xc3" if obj else b"\xc2"
    if isinstance(obj, int):
        if 0 <= obj < 128:
            return bytes([obj])
        if -32 <= obj < 0:
            return struct.pack("b", obj)
        return b"\xd3" + struct.pack(">q", obj) if obj < 0 else b"\xcf" + struct.pack(">Q", obj)
    if isinstance(obj, float):
        return b"\xcb" + struct.pack(">d", obj)
    if isinstance(obj, str):
        b = obj.encode()
        return (bytes([0xa0 | len(b)]) if len(b) < 32 else b"\xd9" + bytes([len(b)])) + b
    if isinstance(obj, bytes):
        return b"\xc4" + bytes([len(obj)]) + obj
    if isinstance(obj, list):
        return bytes([0x90 | len(obj)]) + b"".join(mp(x) for x in obj)
    if isinstance(obj, dict):
        return bytes([0x80 | len(obj)]) + b"".join(mp(k) + mp(v) for k, v in obj.items())
    raise TypeError(obj)


def seeds_msgpack():
    objs = [{"type": "chat.message", "message": "hi"}, [1, -1, 300, -300, 70000, -70000, 2**40, -2**40],
            [1.5, float("inf"), None, True, False], b"\x00\xff", "caf\u00e9" * 10,
            {"__asgi_group__": "chat", "bytes": b"\x01\x02"}]
    out = [mp(o) for o in objs]
    out += [b"\xc1", b"\xdb\xff\xff\xff\xff", b"\xca\x3f\xc0\x00\x00", b"\xd4\x01\x02",
            b"\xdd\x00\x01\x00\x00", b"\xd0\x05\xd1\x00\x05\xcc\x05"]
    return out


def seeds_layer_msg():
    msgs = [{"type": "chat.message", "message": "hello"},
            {"type": "chat_message", "message": "x", "n": 3, "f": 1.25, "l": [1, None, True],
             "m": {"a": {"b": []}}, "b": b"\x00\x01"},
            {"type": "websocket.send", "text": "caf\u00e9"},
            {"type": "websocket.send", "bytes": b"\x00\xff"},
            {"type": "websocket.close", "code": 4001, "reason": "bye"},
            {"type": "websocket.close", "code": 999},
            {"type": "bad type!", "x": 1}, {"message": "no type"}, {"type": "t", 5: "int key"},
            {"type": "websocket.send", "text": b"\xff"}]
    out = [b"\x00" + mp(m) for m in msgs]
    out += [b"\x01" + j for j in [b'{"message": "hi", "type": "ignored"}', b'{}',
                                   b'{"a": [1, 2.5e3, -7, true, null, {"b": "c"}]}',
                                   b'{"big": 123456789012345678901234567890}', b'[1]', b'{"s": "\\ud83d\\ude00"}']]
    return out


def seeds_proxy_hdr():
    v2sig = b"\r\n\r\n\x00\r\nQUIT\n"
    return [b"\x00PROXY TCP4 192.168.1.20 10.0.0.1 56324 443\r\nGET / HTTP/1.1\r\n",
            b"\x00PROXY TCP6 2001:db8::7 ::1 1 65535\r\n",
            b"\x00PROXY UNKNOWN\r\n",
            b"\x00PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
            b"\x00" + v2sig + b"\x21\x11\x00\x0c" + bytes([203, 0, 113, 9, 10, 0, 0, 1, 0xc3, 0x50, 1, 0xbb]),
            b"\x00" + v2sig + b"\x21\x21\x00\x24" + bytes(36),
            b"\x00" + v2sig + b"\x20\x00\x00\x00",
            b"\x01203.0.113.9, 10.0.0.1\n10.1.1.1",
            b"\x01[2001:db8::5]:1234, bogus, 1.2.3.4:80",
            b"\x02for=192.0.2.60;proto=http;by=203.0.113.43, for=10.0.0.2",
            b"\x02for=\"_gazonk\"\nFor=\"[2001:db8:cafe::17]:4711\"",
            b"\x02for=unknown, ;for=\"192.0.2.\\61\";; ,",
            b"\x02for=\"[::1]\";for=1.2.3.4"]


TARGETS = {
    "http": seeds_http, "handshake": seeds_handshake, "ws_rx": seeds_ws_rx,
    "router": seeds_router, "static": seeds_static, "json": seeds_json, "jwt": seeds_jwt,
    "control": seeds_control, "utf8": seeds_utf8, "frame": seeds_frame,
    "resp": seeds_resp, "msgpack": seeds_msgpack, "layer_msg": seeds_layer_msg,
    "proxy_hdr": seeds_proxy_hdr,
}


def main():
    only = set(sys.argv[1:])
    for name, fn in TARGETS.items():
        if only and name not in only:
            continue
        d = os.path.join(HERE, "corpus", name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for i, data in enumerate(fn()):
            with open(os.path.join(d, "seed-%02d" % i), "wb") as f:
                f.write(data)
        print("%-10s %d seeds" % (name, len(os.listdir(d))))


if __name__ == "__main__":
    main()
