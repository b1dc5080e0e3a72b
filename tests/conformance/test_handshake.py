# SPDX-License-Identifier: MIT
"""RFC 6455 section 4: the opening handshake, case by case.

The valid handshake and its exact Sec-WebSocket-Accept; how header names,
values and token lists are read; every failure status of DESIGN.md's
bad-input table; frames pipelined behind the request; the request cut into
1-byte writes; the handshake deadline."""

import base64
import time

import wsproto as ws
from wsproto import Conn, ECHO, OP_BINARY, OP_PING, OP_PONG, OP_TEXT, case, port


def raw_request(lines):
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def std_lines(c, path=ECHO, method="GET", proto="HTTP/1.1", key=None):
    c.key = key or ws.new_key()
    return ["%s %s %s" % (method, path, proto), "Host: 127.0.0.1:%d" % c.port,
            "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + c.key,
            "Sec-WebSocket-Version: 13"]


def expect_status(c, status, extra_check=None):
    """An HTTP error answer: the status, a self-consistent body, then the
    server closes the connection."""
    resp = c.read_response()
    assert resp.status == status, "wanted %d, got %r" % (status, resp)
    assert resp.get("sec-websocket-accept") is None, resp
    assert (resp.get("connection") or "").lower() == "close", resp
    cl = resp.get("content-length")
    assert cl is not None and int(cl) == len(resp.body), resp
    c.expect_eof()
    return resp


def echo_works(c, text="hello"):
    c.send_text(text)
    c.expect_echo(OP_TEXT, text)


# ---- valid handshakes ----

@case
def valid_rfc_sample_key():
    # RFC 6455 section 1.3: the sample nonce and its accept value.
    assert ws.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    c = Conn(port())
    c.send(c.request(key="dGhlIHNhbXBsZSBub25jZQ=="))
    resp = c.read_response()
    assert resp.status == 101, resp
    assert resp.all("sec-websocket-accept") == ["s3pPLMBiTxaQ9kYGzzhZRbK+xOo="], resp
    c.check_101(resp)
    echo_works(c)
    c.close_handshake()


@case
def valid_random_keys():
    for _ in range(8):
        c = Conn.open(port())
        echo_works(c)
        c.close_handshake()


@case
def valid_101_status_line_and_nothing_more():
    c = Conn(port())
    c.send(c.request())
    resp = c.read_response()
    c.check_101(resp)
    first = resp.raw.split(b"\r\n", 1)[0]
    assert first == b"HTTP/1.1 101 Switching Protocols", first
    # Nothing may follow the head until a frame is sent.
    c.expect_quiet()
    echo_works(c)


@case
def valid_key_with_all_base64_characters():
    key = base64.b64encode(bytes([0xFB, 0xFF, 0xBF, 0x3E, 0x00, 0x10, 0x83, 0x10, 0x51, 0x87,
                                  0x20, 0x92, 0x8B, 0x30, 0xD3, 0x8F])).decode()
    assert "+" in key and "/" in key
    c = Conn(port())
    c.send(c.request(key=key))
    c.check_101(c.read_response())
    echo_works(c)


@case
def valid_header_names_lower_case():
    c = Conn(port())
    lines = [l.split(":", 1)[0].lower() + ":" + l.split(":", 1)[1] if ":" in l else l
             for l in std_lines(c)]
    c.send(raw_request(lines))
    c.check_101(c.read_response())
    echo_works(c)


@case
def valid_header_names_upper_case():
    c = Conn(port())
    lines = std_lines(c)
    lines = [lines[0]] + [l.split(":", 1)[0].upper() + ":" + l.split(":", 1)[1] for l in lines[1:]]
    c.send(raw_request(lines))
    c.check_101(c.read_response())
    echo_works(c)


@case
def valid_upgrade_and_connection_values_any_case():
    c = Conn(port())
    c.send(c.request(drop=("upgrade", "connection"),
                     headers=[("Upgrade", "WebSocket"), ("Connection", "UPGRADE")]))
    c.check_101(c.read_response())
    echo_works(c)


@case
def valid_connection_token_list():
    for value in ("keep-alive, Upgrade", "Upgrade, keep-alive", "keep-alive,Upgrade",
                  "keep-alive ,\tupgrade , close-later"):
        c = Conn(port())
        c.send(c.request(drop=("connection",), headers=[("Connection", value)]))
        c.check_101(c.read_response())
        echo_works(c)
        c.close_handshake()


@case
def valid_upgrade_token_list():
    # RFC 6455 4.2.1: "An |Upgrade| header field containing the value
    # "websocket"" -- one of a list of protocols.
    c = Conn(port())
    c.send(c.request(drop=("upgrade",), headers=[("Upgrade", "foo/2, websocket")]))
    c.check_101(c.read_response())
    echo_works(c)


@case
def valid_header_values_with_surrounding_whitespace():
    c = Conn(port())
    lines = std_lines(c)
    lines = [lines[0]] + [l.replace(": ", ":  \t", 1) + " \t" for l in lines[1:]]
    c.send(raw_request(lines))
    c.check_101(c.read_response())
    echo_works(c)


@case
def valid_headers_in_any_order_with_extras():
    c = Conn(port())
    lines = std_lines(c)
    lines = [lines[0]] + list(reversed(lines[1:])) + [
        "User-Agent: conformance/1.0", "Origin: http://127.0.0.1", "Cookie: a=b; c=d",
        "Accept: */*", "Pragma: no-cache", "Cache-Control: no-cache", "X-Empty:",
        "X-Obs-Text: caf\xe9"]
    c.send(raw_request(lines))
    c.check_101(c.read_response())
    echo_works(c)


@case
def valid_query_string_on_the_path():
    c = Conn(port())
    c.send(c.request(path=ECHO + "?token=abc&x=%20y"))
    c.check_101(c.read_response())
    echo_works(c)


@case
def valid_absolute_form_target():
    # RFC 6455 4.1: the Request-URI may be an absolute http URI.
    c = Conn(port())
    c.send(c.request(path="http://127.0.0.1:%d%s" % (c.port, ECHO)))
    c.check_101(c.read_response())
    echo_works(c)


@case
def valid_subprotocol_offer_not_selected():
    # The echo route speaks no subprotocol: the 101 must not name one
    # (check_101 asserts there is no Sec-WebSocket-Protocol).
    c = Conn(port())
    c.send(c.request(headers=[("Sec-WebSocket-Protocol", "chat, superchat")]))
    c.check_101(c.read_response())
    echo_works(c)


@case
def valid_extension_offer_not_selected_and_rsv1_still_refused():
    c = Conn(port())
    c.send(c.request(headers=[("Sec-WebSocket-Extensions",
                               "permessage-deflate; client_max_window_bits")]))
    c.check_101(c.read_response())
    echo_works(c)
    # No extension was agreed, so RSV1 (compressed) frames are an error.
    c.send_frame(OP_TEXT, b"\xf2\x48\xcd\xc9\xc9\x07\x00", rsv=4)
    c.expect_fail(1002)


# ---- 400 Bad Request ----

def bad_request(lines_or_bytes, status=400):
    c = Conn(port())
    data = lines_or_bytes if isinstance(lines_or_bytes, bytes) else raw_request(lines_or_bytes)
    c.send(data)
    expect_status(c, status)


def std_with(fn):
    c = Conn(port())
    lines = fn(std_lines(c))
    c.send(raw_request(lines))
    return c


@case
def bad_request_line_no_space_before_version():
    c = Conn(port())
    lines = std_lines(c)
    lines[0] = "GET %sHTTP/1.1" % ECHO
    c.send(raw_request(lines))
    expect_status(c, 400)


@case
def bad_request_line_double_space():
    c = std_with(lambda l: ["GET  %s HTTP/1.1" % ECHO] + l[1:])
    expect_status(c, 400)


@case
def bad_request_line_trailing_token():
    c = std_with(lambda l: ["GET %s HTTP/1.1 extra" % ECHO] + l[1:])
    expect_status(c, 400)


@case
def bad_request_line_bad_method_characters():
    c = std_with(lambda l: ["G(T %s HTTP/1.1" % ECHO] + l[1:])
    expect_status(c, 400)


@case
def bad_request_line_bad_version_token():
    for v in ("HTTP/1", "HTTP/1.1.1", "HTTQ/1.1", "http/1.1", "HTTP/x.1"):
        c = std_with(lambda l: ["GET %s %s" % (ECHO, v)] + l[1:])
        expect_status(c, 400)


@case
def bad_request_target_not_a_path():
    c = std_with(lambda l: ["GET ws/echo/ HTTP/1.1"] + l[1:])
    expect_status(c, 400)


@case
def bad_request_binary_garbage():
    # What a TLS ClientHello looks like to a plain-text port.
    bad_request(bytes.fromhex("16030100a5010000a10303") + bytes(range(64)) + b"\r\n\r\n")


@case
def bad_header_without_colon():
    c = std_with(lambda l: l + ["X-Broken header"])
    expect_status(c, 400)


@case
def bad_header_space_before_colon():
    c = std_with(lambda l: l[:1] + ["Host : 127.0.0.1"] + l[2:])
    expect_status(c, 400)


@case
def bad_header_obs_fold():
    c = std_with(lambda l: l + ["X-Folded: one", " two"])
    expect_status(c, 400)


@case
def bad_header_control_byte_in_value():
    c = std_with(lambda l: l + ["X-Ctl: a\x01b"])
    expect_status(c, 400)


@case
def bad_header_empty_name():
    c = std_with(lambda l: l + [": value"])
    expect_status(c, 400)


@case
def bad_missing_key():
    c = Conn(port())
    c.send(c.request(drop=("sec-websocket-key",)))
    expect_status(c, 400)


@case
def bad_key_values():
    # RFC 6455 4.2.1 item 5: base64 of exactly 16 bytes.
    for key in ("", "AAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAA",   # 16, 15 bytes
                "AAAAAAAAAAAAAAAAAAAAAAAA",                          # 18 bytes
                "AAAAAAAAAAAAAAAAAAAAAA=",                           # bad padding
                "!!!!!!!!!!!!!!!!!!!!!!==", "AAAAAAAAAAAAAAAAAAAAA===",
                "AAAAAAAAAAA AAAAAAAAAA=="):
        c = Conn(port())
        c.send(c.request(drop=("sec-websocket-key",), headers=[("Sec-WebSocket-Key", key)]))
        resp = c.read_response()
        assert resp.status == 400, "key %r: %r" % (key, resp)
        c.expect_eof()


@case
def bad_key_repeated():
    c = Conn(port())
    c.send(c.request(headers=[("Sec-WebSocket-Key", ws.new_key())]))
    expect_status(c, 400)


@case
def bad_method_not_get():
    for m in ("POST", "PUT", "DELETE", "OPTIONS", "get"):
        c = Conn(port())
        c.send(c.request(method=m))
        resp = c.read_response()
        assert resp.status == 400, "%s: %r" % (m, resp)
        c.expect_eof()


@case
def bad_http_1_0():
    c = Conn(port())
    c.send(c.request(proto="HTTP/1.0"))
    expect_status(c, 400)


@case
def bad_missing_host():
    c = Conn(port())
    c.send(c.request(drop=("host",)))
    expect_status(c, 400)


@case
def bad_missing_connection():
    c = Conn(port())
    c.send(c.request(drop=("connection",)))
    expect_status(c, 400)


@case
def bad_connection_without_upgrade_token():
    for v in ("keep-alive", "Upgrades", "close, upgrade-insecure"):
        c = Conn(port())
        c.send(c.request(drop=("connection",), headers=[("Connection", v)]))
        resp = c.read_response()
        assert resp.status == 400, "Connection: %s -> %r" % (v, resp)
        c.expect_eof()


@case
def bad_upgrade_not_websocket():
    c = Conn(port())
    c.send(c.request(drop=("upgrade",), headers=[("Upgrade", "h2c")]))
    expect_status(c, 400)


@case
def bad_missing_version():
    # Judgement: no version at all is a malformed upgrade (400); only a
    # version other than 13 gets 426 (RFC 6455 4.4).
    c = Conn(port())
    c.send(c.request(drop=("sec-websocket-version",)))
    expect_status(c, 400)


@case
def missing_upgrade_is_426():
    # A plain GET to a WebSocket-only resource: 426 naming what to upgrade to
    # (RFC 9110 15.5.22 requires the Upgrade header in a 426).
    c = Conn(port())
    c.send(c.request(drop=("upgrade",)))
    resp = expect_status(c, 426)
    assert (resp.get("upgrade") or "").lower() == "websocket", resp


# ---- 426, 404, 431 ----

@case
def version_8_is_426_with_version_13():
    c = Conn(port())
    c.send(c.request(version="8"))
    resp = expect_status(c, 426)
    assert resp.all("sec-websocket-version") == ["13"], resp


@case
def other_versions_are_426():
    for v in ("0", "7", "12", "14", "130", "13.0", "abc"):
        c = Conn(port())
        c.send(c.request(version=v))
        resp = expect_status(c, 426)
        assert resp.all("sec-websocket-version") == ["13"], (v, resp)


@case
def unknown_path_is_404():
    for path in ("/", "/ws/", "/ws/echo", "/ws/echo/x", "/ws/ECHO/", "/nope"):
        c = Conn(port())
        c.send(c.request(path=path))
        resp = c.read_response()
        assert resp.status == 404, "%s: %r" % (path, resp)
        c.expect_eof()


@case
def oversized_header_is_431():
    # Larger than any CONFIG_HTTP_MAX_REQUEST can be (16-bit offsets).
    c = Conn(port())
    c.send(c.request(headers=[("X-Big", "a" * 70000)]), chunk=8192)
    expect_status(c, 431)


@case
def too_many_headers_is_431():
    c = Conn(port())
    c.send(c.request(headers=[("X-H%d" % i, "v") for i in range(3000)]), chunk=8192)
    expect_status(c, 431)


@case
def oversized_request_line_is_414():
    # Judgement: a request line that does not fit is "URI Too Long".
    c = Conn(port())
    c.send(c.request(path=ECHO + "?" + "q" * 70000), chunk=8192)
    expect_status(c, 414)


@case
def header_just_under_a_small_size_still_works():
    c = Conn(port())
    c.send(c.request(headers=[("X-Pad", "p" * 2000), ("Cookie", "c" * 1500)]))
    c.check_101(c.read_response())
    echo_works(c)


@case
def bad_host_repeated():
    c = Conn(port())
    c.send(c.request(headers=[("Host", "example.com")]))
    expect_status(c, 400)


# ---- repeated header lines (RFC 9110 5.3, RFC 9112 6.3, RFC 6455 11.3) ----
# Upgrade and Connection are lists: their lines join into one list, so the
# token may be on any line. Every other header the handshake reads is
# single-valued: a second line is 400, even when both lines agree.

@case
def valid_connection_on_several_lines():
    for values in (("keep-alive", "Upgrade"), ("Upgrade", "keep-alive"), ("", "close, upgrade")):
        c = Conn(port())
        c.send(c.request(drop=("connection",), headers=[("Connection", v) for v in values]))
        c.check_101(c.read_response())
        echo_works(c)
        c.close_handshake()


@case
def valid_upgrade_on_several_lines():
    for values in (("h2c", "websocket"), ("websocket", "h2c"), ("foo/2", "bar, WebSocket")):
        c = Conn(port())
        c.send(c.request(drop=("upgrade",), headers=[("Upgrade", v) for v in values]))
        c.check_101(c.read_response())
        echo_works(c)
        c.close_handshake()


@case
def bad_upgrade_and_connection_on_several_lines_without_the_token():
    for name, values in (("upgrade", ("h2c", "websocket2")),
                         ("connection", ("keep-alive", "close"))):
        c = Conn(port())
        c.send(c.request(drop=(name,), headers=[(name.capitalize(), v) for v in values]))
        expect_status(c, 400)


@case
def bad_content_length_repeated():
    # Two lengths are the classic smuggling shape (RFC 9112 6.3): refused
    # whatever the values, equal ones included.
    for values in (("0", "5"), ("5", "0"), ("0", "0")):
        c = Conn(port())
        c.send(c.request(headers=[("Content-Length", v) for v in values]))
        expect_status(c, 400)


@case
def bad_content_length_not_zero():
    for v in ("5", "0, 0", "-1", "abc"):
        c = Conn(port())
        c.send(c.request(headers=[("Content-Length", v)]))
        expect_status(c, 400)


@case
def bad_transfer_encoding():
    # A GET upgrade has no body: any Transfer-Encoding, with or without a
    # Content-Length beside it, is refused.
    for headers in ([("Transfer-Encoding", "chunked")], [("Transfer-Encoding", "identity")],
                    [("Content-Length", "0"), ("Transfer-Encoding", "chunked")],
                    [("Transfer-Encoding", "chunked"), ("Content-Length", "0")]):
        c = Conn(port())
        c.send(c.request(headers=headers))
        expect_status(c, 400)


@case
def bad_origin_repeated():
    # The first Origin would pass the same-host check; a proxy in front may
    # have judged the second (RFC 6454 7: at most one Origin).
    for second in ("http://evil.example", "http://127.0.0.1"):
        c = Conn(port())
        c.send(c.request(headers=[("Origin", "http://127.0.0.1"), ("Origin", second)]))
        expect_status(c, 400)


@case
def origin_of_another_site_refused():
    # RFC 6455 10.2: a browser names the page's origin; a server that only
    # serves its own pages refuses others before the upgrade (403), so a
    # page elsewhere cannot use a visitor's cookies on the device.
    for origin in ("http://evil.example", "https://evil.example:%d" % port(), "null",
                   "http://127.0.0.1.evil.example", "http://127.0.0.1/path", "file://"):
        c = Conn(port())
        c.send(c.request(headers=[("Origin", origin)]))
        expect_status(c, 403)


@case
def origin_of_this_host_accepted():
    # The page this server served (any port, either scheme) and a client
    # that is not a browser (no Origin) open their socket.
    for headers in ([("Origin", "http://127.0.0.1:%d" % port())], [("Origin", "http://127.0.0.1")],
                    [("Origin", "HTTPS://127.0.0.1:8443")], []):
        c = Conn(port())
        c.send(c.request(headers=headers))
        resp = c.read_response()
        assert resp.status == 101, (headers, resp)
        echo_works(c)
        c.close_handshake()


@case
def bad_authorization_repeated():
    for second in ("Bearer d.e.f", "Bearer a.b.c"):
        c = Conn(port())
        c.send(c.request(headers=[("Authorization", "Bearer a.b.c"), ("Authorization", second)]))
        expect_status(c, 400)


@case
def bad_version_repeated():
    # Not a version we do not speak (426) but a malformed request.
    for second in ("13", "8"):
        c = Conn(port())
        c.send(c.request(headers=[("Sec-WebSocket-Version", second)]))
        expect_status(c, 400)


@case
def request_of_exactly_the_configured_size():
    # CONFIG_HTTP_MAX_REQUEST bytes of head are accepted; one more is 431.
    limit = ws.build_config("CONFIG_HTTP_MAX_REQUEST", 8192)
    for extra, status in ((0, 101), (1, 431)):
        c = Conn(port())
        base = c.request(headers=[("X-Pad", "")])
        pad = limit - len(base) + extra
        c.send(c.request(headers=[("X-Pad", "p" * pad)]) + ws.frame(OP_TEXT, "after"))
        if status == 101:
            c.check_101(c.read_response())
            c.expect_echo(OP_TEXT, "after")
        else:
            expect_status(c, 431)


@case(budget=30)
def no_free_slot_is_503():
    # (all from 127.0.0.1: that one address may hold every slot here)
    with ws.own_daemon("--max-conns", "2", *ws.cwtest.one_client_may_fill()) as d:
        a = Conn.open(d.port)
        b = Conn.open(d.port)
        c = Conn(d.port)
        c.send(c.request())
        expect_status(c, 503)
        # A freed slot is usable again.
        a.close_handshake()
        a.close()
        end = time.monotonic() + 5 * ws.SLOW
        while True:
            e = Conn(d.port)
            e.send(e.request())
            resp = e.read_response()
            if resp.status == 101 or time.monotonic() > end:
                break
            e.close()
            time.sleep(0.05)
        e.check_101(resp)
        echo_works(e)
        echo_works(b)
        for x in (b, e):
            x.close_handshake()
            x.close()


# ---- how the request arrives ----

@case
def frames_pipelined_behind_the_request():
    c = Conn(port())
    frames = (ws.frame(OP_TEXT, "first") + ws.frame(OP_PING, b"p") +
              ws.frame(OP_BINARY, b"\x00\xff" * 100) + ws.frame(ws.OP_CLOSE, ws.close_payload(1000)))
    c.send(c.request() + frames)
    c.check_101(c.read_response())
    c.expect_echo(OP_TEXT, "first")
    c.expect(OP_PONG, b"p")
    c.expect_echo(OP_BINARY, b"\x00\xff" * 100)
    c.expect_close(1000)


@case
def large_message_pipelined_behind_the_request():
    c = Conn(port())
    data = bytes(range(256)) * 400
    c.send(c.request() + ws.frame(OP_BINARY, data) + ws.frame(OP_TEXT, "next"))
    c.check_101(c.read_response())
    c.expect_echo(OP_BINARY, data)
    c.expect_echo(OP_TEXT, "next")


@case
def frames_pipelined_behind_a_request_that_fills_the_buffer():
    # The first read holds the whole head plus the start of the frames,
    # cut at every point of the first frame.
    limit = ws.build_config("CONFIG_HTTP_MAX_REQUEST", 8192)
    frames = ws.frame(OP_TEXT, "x" * 200) + ws.frame(OP_PING, b"p")
    for cut in range(0, 12):
        c = Conn(port())
        base = c.request(headers=[("X-Pad", "")])
        pad = limit - len(base) - cut
        c.send(c.request(headers=[("X-Pad", "p" * pad)]) + frames)
        c.check_101(c.read_response())
        c.expect_echo(OP_TEXT, "x" * 200)
        c.expect(OP_PONG, b"p")
        c.close()


@case
def partial_frame_pipelined_behind_the_request():
    c = Conn(port())
    f = ws.frame(OP_TEXT, "split across the head")
    c.send(c.request() + f[:5])
    c.check_101(c.read_response())
    c.expect_quiet()
    c.send(f[5:])
    c.expect_echo(OP_TEXT, "split across the head")


@case(budget=30)
def request_in_one_byte_writes():
    c = Conn(port())
    c.send(c.request(), chunk=1, pause=0.002)
    c.check_101(c.read_response())
    c.send(ws.frame(OP_TEXT, "after a slow request"), chunk=1, pause=0.002)
    c.expect_echo(OP_TEXT, "after a slow request")
    c.close_handshake()


@case
def request_cut_inside_the_final_crlf():
    c = Conn(port())
    req = c.request()
    c.send(req[:-1])
    c.expect_quiet(0.2)
    c.send(req[-1:] + ws.frame(OP_TEXT, "x"))
    c.check_101(c.read_response())
    c.expect_echo(OP_TEXT, "x")


@case
def two_hundred_handshakes_in_a_row():
    for i in range(200):
        c = Conn.open(port())
        c.send_text(str(i))
        c.expect_echo(OP_TEXT, str(i))
        c.close_handshake()
        c.close()


# ---- the handshake deadline (slowloris) ----

@case(budget=30)
def handshake_deadline_closes_a_slow_request():
    with ws.own_daemon("--handshake-timeout", "400") as d:
        c = Conn(d.port)
        t0 = time.monotonic()
        c.send(c.request()[:40])
        # Over TLS the deadline also covers the TLS handshake (it runs from
        # accept): on a loaded machine the request's record can arrive just
        # as it passes, unread when the socket closes, which is a reset.
        c.expect_eof(timeout=5 * ws.SLOW, dropped=True, allow_reset=ws.TLS)
        dt = time.monotonic() - t0
        assert dt >= 0.3, "closed after %.3fs, before the 400 ms deadline" % dt
        # A silent connection gets the same.
        c2 = Conn(d.port)
        c2.expect_eof(timeout=5 * ws.SLOW, dropped=True)
        # Trickling bytes does not extend the deadline.
        c3 = Conn(d.port)
        t0 = time.monotonic()
        req = c3.request()
        try:
            for i in range(len(req) - 1):
                c3.send(req[i:i + 1])
                time.sleep(0.05)
                if time.monotonic() - t0 > 3 * ws.SLOW:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        c3.expect_eof(timeout=5 * ws.SLOW, allow_reset=True, dropped=True)
        assert time.monotonic() - t0 < 3 * ws.SLOW, "trickling kept the request alive"


@case(budget=30)
def handshake_deadline_does_not_touch_open_connections():
    with ws.own_daemon("--handshake-timeout", "300") as d:
        c = Conn.open(d.port)
        time.sleep(0.8)
        echo_works(c, "still here")
        c.close_handshake()
        c.close()


if __name__ == "__main__":
    ws.main()
