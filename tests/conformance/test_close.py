# SPDX-License-Identifier: MIT
"""RFC 6455 sections 5.5.1, 7.1-7.4: the closing handshake (Autobahn
category 7), and the closes the server starts itself: the ping deadline,
SIGTERM (1001) and the close deadline when the client never answers.

The client never closes TCP first here: after the close handshake the
server must end the TCP connection itself (RFC 6455 7.1.1), so every
expect_close waits for the server's FIN."""

import socket
import time

import cwtest
import wsproto as ws
from wsproto import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, Conn, case, frame,
                     port, register)

VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
               3000, 3999, 4000, 4999]
INVALID_CODES = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


def fresh():
    return Conn.open(port())


# ---- 7.1: basic close behaviour ----

@case
def close_7_1_1_after_echo():
    c = fresh()
    c.send_text("Hello World!")
    c.expect_echo(OP_TEXT, "Hello World!")
    c.send_close(1000)
    c.expect_close(1000)


@case
def close_7_1_2_twice():
    c = fresh()
    c.send(frame(OP_CLOSE, ws.close_payload(1000)) + frame(OP_CLOSE, ws.close_payload(1000)))
    c.expect_close(1000)


@case
def close_7_1_3_then_ping_not_answered():
    c = fresh()
    c.send(frame(OP_CLOSE, ws.close_payload(1000)) + frame(OP_PING, b"Hello World!"))
    c.expect_close(1000)


@case
def close_7_1_4_then_text_not_echoed():
    c = fresh()
    c.send(frame(OP_CLOSE, ws.close_payload(1000)) + frame(OP_TEXT, "Hello World!"))
    c.expect_close(1000)


@case
def close_7_1_4b_then_garbage_ignored():
    # After the close, not even a protocol error is answered.
    c = fresh()
    c.send(frame(OP_CLOSE, ws.close_payload(1000)) + frame(3, b"x", mask=False) +
           b"\xff" * 100)
    c.expect_close(1000)


@case
def close_7_1_4c_data_sent_later_ignored():
    c = fresh()
    c.send_close(1000)
    f = c.expect(OP_CLOSE)
    assert f.code == 1000, f
    try:
        c.send(frame(OP_TEXT, "late") + frame(OP_PING))
    except (BrokenPipeError, ConnectionResetError):
        pass
    c.expect_eof()


@case
def close_7_1_5_inside_fragmented_message():
    c = fresh()
    c.send(frame(OP_TEXT, "fragment1", fin=False) + frame(OP_CLOSE, ws.close_payload(1000)) +
           frame(OP_CONT, "fragment2"))
    c.expect_close(1000)


@case(budget=40)
def close_7_1_6_after_large_message_then_ping():
    ws.need_max_message(262140)
    c = fresh()
    big = b"BAsd7&jh23" * 26214  # 262140 bytes
    c.send(frame(OP_TEXT, big) + frame(OP_CLOSE, ws.close_payload(1000)) + frame(OP_PING))
    c.expect_echo(OP_TEXT, big, timeout=20 * ws.SLOW)
    c.expect_close(1000)


@case
def close_after_many_messages_all_echoed_first():
    c = fresh()
    c.send(b"".join(frame(OP_BINARY, bytes([i]) * i) for i in range(100)) +
           frame(OP_CLOSE, ws.close_payload(1000)))
    for i in range(100):
        c.expect_echo(OP_BINARY, bytes([i]) * i)
    c.expect_close(1000)


@case
def close_right_behind_a_ping_answers_both():
    c = fresh()
    c.send(frame(OP_PING, b"first") + frame(OP_CLOSE, ws.close_payload(1000)))
    c.expect(OP_PONG, b"first")
    c.expect_close(1000)


@case
def close_then_client_half_closes():
    # A client may shut down its side right after its close frame; the
    # server still answers with its close and then its FIN.
    c = fresh()
    c.send_close(1000)
    c.sock.shutdown(socket.SHUT_WR)
    c.expect_close(1000)


@case
def close_then_client_closes_at_once():
    # The client closes its socket right after its close frame: nothing
    # to check on the wire, but the server must stay healthy.
    c = fresh()
    c.send_close(1000)
    c.close()
    c2 = fresh()
    c2.send_text("still serving")
    c2.expect_echo(OP_TEXT, "still serving")
    c2.close_handshake()


@case
def close_in_1_byte_chunks():
    c = fresh()
    c.send(frame(OP_CLOSE, ws.close_payload(1000, "bye")), chunk=1, pause=0.001)
    c.expect_close(1000)


# ---- 7.3: close frame payloads ----

@case
def close_7_3_1_empty_payload():
    # No code was given, so none is echoed (RFC 6455 5.5.1: "typically echos
    # the status code it received"): an empty close.
    c = fresh()
    c.send_close()
    c.expect_close(None)


@case
def close_7_3_2_one_byte_payload_is_1002():
    c = fresh()
    c.send_frame(OP_CLOSE, b"\x03")
    c.expect_fail(1002)


@case
def close_7_3_3_code_1000_no_reason():
    c = fresh()
    c.send_close(1000)
    c.expect_close(1000)


@case
def close_7_3_4_code_1000_with_reason():
    c = fresh()
    c.send_close(1000, "Hello World!")
    c.expect_close(1000)


@case
def close_7_3_5_reason_of_123_bytes():
    c = fresh()
    c.send_close(1000, "*" * 123)
    c.expect_close(1000)


@case
def close_7_3_5b_reason_of_123_bytes_multibyte():
    c = fresh()
    reason = ("é" * 61 + "x").encode()
    assert len(reason) == 123
    c.send_close(1000, reason)
    c.expect_close(1000)


@case
def close_7_3_6_reason_of_124_bytes_is_1002():
    c = fresh()
    c.send_frame(OP_CLOSE, ws.close_payload(1000, "*" * 124))
    c.expect_fail(1002)


@case
def close_7_5_1_invalid_utf8_reason_is_1007():
    c = fresh()
    c.send_close(1000, bytes.fromhex("cebae1bdb9cf83cebcceb5eda080656469746564"))
    c.expect_fail(1007)


@case
def close_invalid_utf8_reasons_are_1007():
    for reason in (b"\xff", b"\xc0\xaf", b"ok\xed\xa0\x80", b"cut\xe2\x82", b"\xf4\x90\x80\x80"):
        c = fresh()
        c.send_close(1000, reason)
        c.expect_fail(1007)


@case
def close_valid_utf8_reason_accepted():
    c = fresh()
    c.send_close(1001, "κόσμε 😀 €")
    c.expect_close(1001)


def code_case(code, valid):
    def run():
        c = fresh()
        c.send_frame(OP_CLOSE, ws.close_payload(code))
        c.expect_close(code if valid else 1002)
    return run


for _code in VALID_CODES:
    register("close_7_7_valid_code_%d_echoed" % _code, code_case(_code, True))
for _code in INVALID_CODES:
    register("close_7_9_invalid_code_%d_is_1002" % _code, code_case(_code, False))


@case
def close_invalid_code_with_reason_is_1002():
    c = fresh()
    c.send_close(1005, "reserved")
    c.expect_fail(1002)


# ---- the server's side of the TCP close ----

@case
def close_server_ends_tcp_without_waiting_for_the_client():
    # RFC 6455 7.1.1: the server closes the TCP connection first. With the
    # close deadline far away, the FIN must still come at once.
    with ws.own_daemon("--close-timeout", "20000") as d:
        c = Conn.open(d.port)
        t0 = time.monotonic()
        c.send_close(1000)
        c.expect_close(1000, timeout=2 * ws.SLOW)
        assert time.monotonic() - t0 < 1.5 * ws.SLOW
        c.close()


@case
def close_after_protocol_error_server_ends_tcp_at_once():
    with ws.own_daemon("--close-timeout", "20000") as d:
        c = Conn.open(d.port)
        c.send_frame(OP_TEXT, "x", rsv=1)
        c.expect_fail(1002, timeout=2 * ws.SLOW)
        c.close()


@case(budget=30)
def close_handshake_done_server_lingers_until_the_deadline():
    # After the close handshake the server sends its FIN first (RFC 6455
    # 7.1.1) but keeps reading until the client's FIN or --close-timeout:
    # closing outright would answer late bytes from a sloppy client with
    # a reset that can destroy the close frame in flight to it.
    with ws.own_daemon("--close-timeout", "500") as d:
        c = Conn.open(d.port)
        c.send_close(1000)
        c.expect_close(1000)
        time.sleep(0.1)
        assert not c.reset_pending(0.1), "the server let go before its close deadline"
        time.sleep(1.0 * ws.SLOW)
        assert c.reset_pending(0.2), "the server still holds the socket past its close deadline"
        c.close()


@case(budget=30)
def close_deadline_after_protocol_error_when_client_never_closes_tcp():
    # After a protocol error the server sends its close and half-closes;
    # the client neither answers nor closes TCP. The server waits at most
    # --close-timeout for that, then lets go of the socket, and a byte
    # sent to it is answered with a reset.
    with ws.own_daemon("--close-timeout", "500") as d:
        c = Conn.open(d.port)
        c.send_frame(OP_TEXT, "x", rsv=1)
        c.expect_fail(1002, timeout=2 * ws.SLOW)
        time.sleep(0.1)
        assert not c.reset_pending(0.1), "the server let go before its close deadline"
        time.sleep(1.0 * ws.SLOW)
        assert c.reset_pending(0.2), "the server still holds the socket past its close deadline"
        c.close()


# ---- closes the server starts ----

@case(budget=30)
def sigterm_sends_1001_and_client_answers():
    d = cwtest.Daemon("--close-timeout", "20000", "--shutdown-timeout", "20000")
    try:
        c = Conn.open(d.port)
        c.send_text("before")
        c.expect_echo(OP_TEXT, "before")
        t0 = time.monotonic()
        d.proc.send_signal(15)
        f = c.expect(OP_CLOSE)
        assert f.code == 1001, f
        f.reason.decode("utf-8")
        c.send_close(1001)
        c.expect_eof(timeout=3 * ws.SLOW)
        c.close()
        ws.stop_checked(d)
        assert time.monotonic() - t0 < 3 * ws.SLOW, "shutdown waited for a deadline"
    finally:
        d.kill()


@case(budget=30)
def sigterm_close_deadline_when_client_stays_silent():
    # Our close is never answered: the connection is dropped at the close
    # deadline (not the later shutdown deadline) and the daemon exits 0.
    d = cwtest.Daemon("--close-timeout", "500", "--shutdown-timeout", "20000")
    try:
        c = Conn.open(d.port)
        t0 = time.monotonic()
        d.proc.send_signal(15)
        f = c.expect(OP_CLOSE)
        assert f.code == 1001, f
        c.expect_eof(timeout=5 * ws.SLOW, dropped=True)
        dt = time.monotonic() - t0
        assert 0.35 <= dt < 3 * ws.SLOW, "closed after %.2fs, want about 0.5s" % dt
        ws.stop_checked(d)
    finally:
        d.kill()


@case(budget=30)
def sigterm_data_after_1001_is_not_echoed():
    d = cwtest.Daemon("--close-timeout", "5000", "--shutdown-timeout", "20000")
    try:
        c = Conn.open(d.port)
        d.proc.send_signal(15)
        f = c.expect(OP_CLOSE)
        assert f.code == 1001, f
        c.send(frame(OP_TEXT, "too late") + frame(OP_PING, b"late") +
               frame(OP_CLOSE, ws.close_payload(1000)))
        c.expect_eof(timeout=3 * ws.SLOW)
        c.close()
        ws.stop_checked(d)
    finally:
        d.kill()


@case(budget=30)
def sigterm_with_fragmented_message_pending():
    d = cwtest.Daemon("--close-timeout", "5000", "--shutdown-timeout", "20000")
    try:
        c = Conn.open(d.port)
        c.send_frame(OP_TEXT, "half", fin=False)
        c.expect_quiet(0.1)
        d.proc.send_signal(15)
        f = c.expect(OP_CLOSE)
        assert f.code == 1001, f
        c.send(frame(OP_CONT, "done") + frame(OP_CLOSE, ws.close_payload(1001)))
        c.expect_eof(timeout=3 * ws.SLOW)
        c.close()
        ws.stop_checked(d)
    finally:
        d.kill()


def one_close_case(bad):
    """The server has sent its close (SIGTERM); the client then breaks the
    protocol. The server must not send a second close frame: it only ends
    the TCP connection."""
    def run():
        d = cwtest.Daemon("--close-timeout", "5000", "--shutdown-timeout", "20000")
        try:
            c = Conn.open(d.port)
            d.proc.send_signal(15)
            f = c.expect(OP_CLOSE)
            assert f.code == 1001, f
            c.send(bad)
            c.expect_eof(timeout=3 * ws.SLOW)
            c.close()
            ws.stop_checked(d)
        finally:
            d.kill()
    return run


for _name, _bad in (("invalid_close_code", frame(OP_CLOSE, ws.close_payload(999))),
                    ("invalid_close_reason", frame(OP_CLOSE, ws.close_payload(1000, b"\xff"))),
                    ("invalid_utf8_text", frame(OP_TEXT, b"\xc0\xaf")),
                    ("reserved_opcode", frame(5, b"")),
                    ("unmasked_frame", frame(OP_TEXT, b"x", mask=False)),
                    ("oversized_ping", frame(OP_PING, bytes(126)))):
    register("sigterm_then_%s_gets_no_second_close" % _name, one_close_case(_bad), 30)


@case(budget=30)
def ping_deadline_server_pings_and_pong_keeps_alive():
    with ws.own_daemon("--ping-interval", "300", "--pong-timeout", "300") as d:
        c = Conn.open(d.port)
        for _ in range(3):
            f = c.expect(OP_PING, timeout=3 * ws.SLOW)
            c.send_frame(OP_PONG, f.payload)
        c.send_text("alive")
        c.expect_echo(OP_TEXT, "alive")
        c.close_handshake()
        c.close()


@case(budget=30)
def ping_deadline_traffic_counts_as_life():
    # Under emulation (CW_SLOW) one echo takes longer: the interval stays
    # several round trips long, and the client keeps talking for 3+ of them.
    iv = int(400 * ws.SLOW)
    with ws.own_daemon("--ping-interval", str(iv), "--pong-timeout", str(int(300 * ws.SLOW))) as d:
        c = Conn.open(d.port)
        end = time.monotonic() + 3.75 * iv / 1000
        while time.monotonic() < end:
            c.send_text("tick")
            c.expect_echo(OP_TEXT, "tick")
            time.sleep(0.1)
        c.close_handshake()
        c.close()


@case(budget=30)
def ping_deadline_silent_client_is_closed_1011():
    # Judgement: a peer that does not answer the keepalive ping is closed
    # with 1011, as websockets and ws do.
    with ws.own_daemon("--ping-interval", "300", "--pong-timeout", "300") as d:
        c = Conn.open(d.port)
        t0 = time.monotonic()
        f = c.expect(OP_PING, timeout=3 * ws.SLOW)
        assert f.payload == b"" or len(f.payload) <= 125
        c.expect_fail(1011, timeout=3 * ws.SLOW)
        dt = time.monotonic() - t0
        assert dt >= 0.5, "closed after %.2fs: before ping interval + pong timeout" % dt
        c.close()


if __name__ == "__main__":
    ws.main()
