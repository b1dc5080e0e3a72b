# SPDX-License-Identifier: MIT
"""RFC 6455 section 5: framing, in the order of the Autobahn TestSuite
categories 1 (text and binary echo), 2 (ping/pong), 3 (reserved bits),
4 (reserved opcodes), 5 (fragmentation), plus masking and the length
encodings. Every echo is checked byte for byte, and every server frame for
its minimal header (wsproto.recv_frame)."""

import os

import wsproto as ws
from wsproto import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, Conn, case,
                     frame, port, register)

LENGTHS = [n for n in (0, 1, 125, 126, 127, 128, 65535, 65536, 65537, 100000, 500000, 1000000)
           if n <= ws.MAX_MESSAGE]


def text_payload(n):
    # ASCII, so any length is valid UTF-8; not one repeated byte.
    return bytes(0x20 + (i * 7) % 95 for i in range(n))


def binary_payload(n):
    return os.urandom(n)


def fresh():
    return Conn.open(port())


# ---- 1.x: text and binary echo ----

def echo_case(opcode, n, chunk=None, pause=0.0):
    def run():
        c = fresh()
        data = text_payload(n) if opcode == OP_TEXT else binary_payload(n)
        c.send_frame(opcode, data, chunk=chunk, pause=pause)
        f = c.expect_echo(opcode, data, timeout=20 * ws.SLOW)
        assert f.header == ws.server_header(opcode, n), f.header.hex()
        c.close_handshake()
    return run


for _op, _name in ((OP_TEXT, "text"), (OP_BINARY, "binary")):
    for _n in LENGTHS:
        register("echo_%s_%d" % (_name, _n), echo_case(_op, _n), budget=40)
    register("echo_%s_65536_in_chunks_of_997" % _name, echo_case(_op, 65536, chunk=997))
    register("echo_%s_4000_in_chunks_of_1_with_pauses" % _name,
             echo_case(_op, 4000, chunk=1, pause=0.0001), budget=40)


@case
def echo_text_split_at_every_header_offset():
    for n in (20, 300, 70000):
        data = text_payload(n)
        f = frame(OP_TEXT, data)
        hl = len(f) - n
        c = fresh()
        for cut in range(1, hl + 2):
            c.send(f[:cut])
            c.expect_quiet(0.02)
            c.send(f[cut:])
            c.expect_echo(OP_TEXT, data)
        c.close_handshake()


@case
def echo_many_messages_in_one_write():
    c = fresh()
    msgs = [text_payload(i) for i in range(0, 300, 3)]
    c.send(b"".join(frame(OP_TEXT, m) for m in msgs))
    for m in msgs:
        c.expect_echo(OP_TEXT, m)
    c.close_handshake()


@case
def echo_text_and_binary_alternating():
    c = fresh()
    for i in range(50):
        op = OP_TEXT if i % 2 else OP_BINARY
        data = text_payload(i * 11)
        c.send_frame(op, data)
        c.expect_echo(op, data)
    c.close_handshake()


@case
def echo_binary_invalid_utf8_untouched():
    c = fresh()
    data = b"\xff\xfe\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\x80"
    c.send_frame(OP_BINARY, data)
    c.expect_echo(OP_BINARY, data)


@case
def client_non_minimal_lengths_accepted():
    # RFC 6455 5.2 binds the sender to the minimal encoding; judgement: the
    # server reads any encoding that states the true length.
    c = fresh()
    for n, form in ((0, 16), (5, 16), (125, 16), (0, 64), (5, 64), (200, 64), (65535, 64)):
        data = text_payload(n)
        c.send_frame(OP_TEXT, data, length_form=form)
        c.expect_echo(OP_TEXT, data)
    c.close_handshake()


@case
def client_64bit_length_with_top_bit_set_is_1002():
    # RFC 6455 5.2: "the most significant bit MUST be 0".
    c = fresh()
    c.send(frame(OP_BINARY, b"", raw_length=bytes.fromhex("8000000000000005")) + b"abcde")
    c.expect_fail(1002)


@case
def client_mask_key_zero_and_all_ones():
    c = fresh()
    for key in (b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x01\x02\x03\x04"):
        c.send_frame(OP_TEXT, "masked with %s" % key.hex(), key=key)
        c.expect_echo(OP_TEXT, "masked with %s" % key.hex())


# ---- masking (RFC 6455 5.1, 5.3) ----

@case
def unmasked_text_is_1002():
    c = fresh()
    c.send_frame(OP_TEXT, "no mask", mask=False)
    c.expect_fail(1002)


@case
def unmasked_binary_is_1002():
    c = fresh()
    c.send_frame(OP_BINARY, b"\x01\x02", mask=False)
    c.expect_fail(1002)


@case
def unmasked_empty_frame_is_1002():
    c = fresh()
    c.send_frame(OP_TEXT, b"", mask=False)
    c.expect_fail(1002)


@case
def unmasked_ping_is_1002():
    c = fresh()
    c.send_frame(OP_PING, b"ping", mask=False)
    c.expect_fail(1002)


@case
def unmasked_close_is_1002():
    c = fresh()
    c.send_frame(OP_CLOSE, ws.close_payload(1000), mask=False)
    c.expect_fail(1002)


@case
def unmasked_continuation_is_1002():
    c = fresh()
    c.send_frame(OP_TEXT, "frag", fin=False)
    c.send_frame(OP_CONT, "ment", mask=False)
    c.expect_fail(1002)


@case
def unmasked_after_good_traffic_is_1002():
    c = fresh()
    c.send(frame(OP_TEXT, "good") + frame(OP_TEXT, "bad", mask=False) + frame(OP_PING, b"x"))
    c.expect_echo(OP_TEXT, "good")
    c.expect_fail(1002)


# ---- 2.x: ping and pong ----

@case
def ping_2_1_empty():
    c = fresh()
    c.send_frame(OP_PING)
    c.expect(OP_PONG, b"")
    c.close_handshake()


@case
def ping_2_2_text_payload():
    c = fresh()
    c.send_frame(OP_PING, b"Hello, world!")
    c.expect(OP_PONG, b"Hello, world!")
    c.close_handshake()


@case
def ping_2_3_binary_payload():
    c = fresh()
    p = b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
    c.send_frame(OP_PING, p)
    c.expect(OP_PONG, p)
    c.close_handshake()


@case
def ping_2_4_payload_125():
    c = fresh()
    p = bytes(range(125))
    c.send_frame(OP_PING, p)
    c.expect(OP_PONG, p)
    c.close_handshake()


@case
def ping_2_5_payload_126_is_1002():
    c = fresh()
    c.send_frame(OP_PING, bytes(126))
    c.expect_fail(1002)


@case
def ping_2_6_payload_125_in_1_byte_chunks():
    c = fresh()
    p = bytes(range(125, 0, -1))
    c.send_frame(OP_PING, p, chunk=1, pause=0.001)
    c.expect(OP_PONG, p)
    c.close_handshake()


@case
def pong_2_7_unsolicited_empty_ignored():
    c = fresh()
    c.send_frame(OP_PONG)
    c.expect_quiet()
    c.close_handshake()


@case
def pong_2_8_unsolicited_with_payload_ignored():
    c = fresh()
    c.send_frame(OP_PONG, b"unsolicited pong payload")
    c.expect_quiet()
    c.close_handshake()


@case
def pong_2_9_unsolicited_then_ping():
    c = fresh()
    c.send(frame(OP_PONG, b"unsolicited pong payload") + frame(OP_PING, b"ping payload"))
    c.expect(OP_PONG, b"ping payload")
    c.close_handshake()


@case
def ping_2_10_ten_pings_answered_in_order():
    c = fresh()
    c.send(b"".join(frame(OP_PING, ("payload-%d" % i).encode()) for i in range(10)))
    for i in range(10):
        c.expect(OP_PONG, ("payload-%d" % i).encode())
    c.close_handshake()


@case
def ping_2_11_ten_pings_in_chunks():
    c = fresh()
    data = b"".join(frame(OP_PING, ("payload-%d" % i).encode()) for i in range(10))
    c.send(data, chunk=1, pause=0.001)
    for i in range(10):
        c.expect(OP_PONG, ("payload-%d" % i).encode())
    c.close_handshake()


@case
def ping_125_max_binary_pattern_many_times():
    c = fresh()
    for i in range(100):
        p = bytes((i + k) & 0xFF for k in range(125))
        c.send_frame(OP_PING, p)
        c.expect(OP_PONG, p)


@case
def ping_with_16bit_length_field_is_1002():
    # A control frame's payload is at most 125 bytes (RFC 6455 5.5); 126 on
    # the wire is an extended length, so the frame is not a valid control
    # frame whatever the 16-bit value says.
    c = fresh()
    c.send_frame(OP_PING, bytes(200), length_form=16)
    c.expect_fail(1002)


@case
def ping_5_1_fragmented_is_1002():
    c = fresh()
    c.send(frame(OP_PING, b"fragment1", fin=False) + frame(OP_CONT, b"fragment2"))
    c.expect_fail(1002)


@case
def pong_5_2_fragmented_is_1002():
    c = fresh()
    c.send(frame(OP_PONG, b"fragment1", fin=False) + frame(OP_CONT, b"fragment2"))
    c.expect_fail(1002)


@case
def close_fragmented_is_1002():
    c = fresh()
    c.send(frame(OP_CLOSE, ws.close_payload(1000), fin=False))
    c.expect_fail(1002)


# ---- 3.x: reserved bits ----

def rsv_case(rsv):
    def run():
        c = fresh()
        c.send_frame(OP_TEXT, "Hello, world!", rsv=rsv)
        c.expect_fail(1002)
    return run


for _rsv in range(1, 8):
    register("rsv_3_1_text_rsv%d" % _rsv, rsv_case(_rsv))


@case
def rsv_3_2_after_echo_then_no_pong():
    c = fresh()
    c.send(frame(OP_TEXT, "Hello, world!") + frame(OP_TEXT, "Hello, world!", rsv=2) +
           frame(OP_PING))
    c.expect_echo(OP_TEXT, "Hello, world!")
    c.expect_fail(1002)


@case
def rsv_3_3_frame_by_frame_with_pauses():
    c = fresh()
    c.send_frame(OP_TEXT, "Hello, world!")
    c.expect_echo(OP_TEXT, "Hello, world!")
    c.send_frame(OP_TEXT, "Hello, world!", rsv=3)
    c.expect_fail(1002)


@case
def rsv_3_4_in_1_byte_chunks():
    c = fresh()
    data = frame(OP_TEXT, "Hello, world!") + frame(OP_TEXT, "Hello, world!", rsv=4)
    c.send(data, chunk=1, pause=0.001)
    c.expect_echo(OP_TEXT, "Hello, world!")
    c.expect_fail(1002)


@case
def rsv_3_5_binary():
    c = fresh()
    c.send_frame(OP_BINARY, bytes(range(256)) * 4, rsv=5)
    c.expect_fail(1002)


@case
def rsv_3_6_ping():
    c = fresh()
    c.send_frame(OP_PING, b"Hello, world!", rsv=6)
    c.expect_fail(1002)


@case
def rsv_3_7_close():
    c = fresh()
    c.send_frame(OP_CLOSE, ws.close_payload(1000), rsv=7)
    c.expect_fail(1002)


@case
def rsv_on_continuation():
    c = fresh()
    c.send(frame(OP_TEXT, "frag", fin=False) + frame(OP_CONT, "ment", rsv=4))
    c.expect_fail(1002)


@case
def rsv_on_pong():
    c = fresh()
    c.send_frame(OP_PONG, b"", rsv=1)
    c.expect_fail(1002)


# ---- 4.x: reserved opcodes ----

def opcode_cases(op):
    def empty():
        c = fresh()
        c.send_frame(op, b"")
        c.expect_fail(1002)

    def with_payload():
        c = fresh()
        c.send_frame(op, b"reserved opcode payload")
        c.expect_fail(1002)

    def after_echo():
        c = fresh()
        c.send(frame(OP_TEXT, "Hello, world!") + frame(op, b"") + frame(OP_PING))
        c.expect_echo(OP_TEXT, "Hello, world!")
        c.expect_fail(1002)

    def after_echo_in_chunks():
        c = fresh()
        data = frame(OP_TEXT, "Hello, world!") + frame(op, b"reserved") + frame(OP_PING)
        c.send(data, chunk=1, pause=0.001)
        c.expect_echo(OP_TEXT, "Hello, world!")
        c.expect_fail(1002)

    kind = "nonctrl" if op < 8 else "ctrl"
    register("opcode_4_%s_%d_empty" % (kind, op), empty)
    register("opcode_4_%s_%d_payload" % (kind, op), with_payload)
    register("opcode_4_%s_%d_after_echo" % (kind, op), after_echo)
    register("opcode_4_%s_%d_after_echo_in_chunks" % (kind, op), after_echo_in_chunks)


for _op in list(range(3, 8)) + list(range(11, 16)):
    opcode_cases(_op)


@case
def opcode_reserved_inside_fragmented_message():
    c = fresh()
    c.send(frame(OP_TEXT, "frag", fin=False) + frame(3, b"x", fin=False) + frame(OP_CONT, "end"))
    c.expect_fail(1002)


# ---- 5.x: fragmentation ----

@case
def frag_5_3_text_two_fragments():
    c = fresh()
    c.send(frame(OP_TEXT, "fragment1", fin=False) + frame(OP_CONT, "fragment2"))
    c.expect_echo(OP_TEXT, "fragment1fragment2")
    c.close_handshake()


@case
def frag_5_4_text_two_fragments_separate_writes():
    c = fresh()
    c.send_frame(OP_TEXT, "fragment1", fin=False)
    c.expect_quiet(0.1)
    c.send_frame(OP_CONT, "fragment2")
    c.expect_echo(OP_TEXT, "fragment1fragment2")
    c.close_handshake()


@case
def frag_5_5_text_two_fragments_in_1_byte_chunks():
    c = fresh()
    c.send(frame(OP_TEXT, "fragment1", fin=False) + frame(OP_CONT, "fragment2"),
           chunk=1, pause=0.001)
    c.expect_echo(OP_TEXT, "fragment1fragment2")
    c.close_handshake()


@case
def frag_5_6_ping_between_fragments():
    c = fresh()
    c.send(frame(OP_TEXT, "fragment1", fin=False) + frame(OP_PING, b"ping payload") +
           frame(OP_CONT, "fragment2"))
    c.expect(OP_PONG, b"ping payload")
    c.expect_echo(OP_TEXT, "fragment1fragment2")
    c.close_handshake()


@case
def frag_5_7_ping_between_fragments_separate_writes():
    c = fresh()
    c.send_frame(OP_TEXT, "fragment1", fin=False)
    c.send_frame(OP_PING, b"ping payload")
    c.expect(OP_PONG, b"ping payload")
    c.send_frame(OP_CONT, "fragment2")
    c.expect_echo(OP_TEXT, "fragment1fragment2")
    c.close_handshake()


@case
def frag_5_8_ping_between_fragments_in_1_byte_chunks():
    c = fresh()
    c.send(frame(OP_TEXT, "fragment1", fin=False) + frame(OP_PING, b"ping payload") +
           frame(OP_CONT, "fragment2"), chunk=1, pause=0.001)
    c.expect(OP_PONG, b"ping payload")
    c.expect_echo(OP_TEXT, "fragment1fragment2")
    c.close_handshake()


def cont_first_cases(fin, num):
    """5.9-5.14: a continuation with nothing to continue, then a message."""
    data = (frame(OP_CONT, "non-continuation payload", fin=fin) +
            frame(OP_TEXT, "Hello, world!"))

    def one_write():
        c = fresh()
        c.send(data)
        c.expect_fail(1002)

    def per_frame():
        c = fresh()
        c.send_frame(OP_CONT, "non-continuation payload", fin=fin)
        c.expect_fail(1002)

    def chunks():
        c = fresh()
        try:
            c.send(data, chunk=1, pause=0.001)
        except (BrokenPipeError, ConnectionResetError):
            pass
        c.expect_fail(1002)

    name = "fin" if fin else "nofin"
    register("frag_5_%d_continuation_%s_first" % (num, name), one_write)
    register("frag_5_%d_continuation_%s_first_alone" % (num + 1, name), per_frame)
    register("frag_5_%d_continuation_%s_first_in_chunks" % (num + 2, name), chunks)


cont_first_cases(True, 9)
cont_first_cases(False, 12)


@case
def frag_5_15_message_then_stray_continuation():
    c = fresh()
    c.send(frame(OP_TEXT, "fragment1", fin=False) + frame(OP_CONT, "fragment2") +
           frame(OP_CONT, "fragment3", fin=False) + frame(OP_TEXT, "fragment4"))
    c.expect_echo(OP_TEXT, "fragment1fragment2")
    c.expect_fail(1002)


@case
def frag_5_16_continuations_only():
    c = fresh()
    c.send((frame(OP_CONT, "fragment1", fin=False) + frame(OP_TEXT, "fragment2", fin=False) +
            frame(OP_CONT, "fragment3")) * 2)
    c.expect_fail(1002)


@case
def frag_5_17_final_continuations_only():
    c = fresh()
    c.send((frame(OP_CONT, "fragment1") + frame(OP_TEXT, "fragment2", fin=False) +
            frame(OP_CONT, "fragment3")) * 2)
    c.expect_fail(1002)


@case
def frag_5_18_text_inside_fragmented_text():
    c = fresh()
    c.send(frame(OP_TEXT, "fragment1", fin=False) + frame(OP_TEXT, "fragment2"))
    c.expect_fail(1002)


@case
def frag_binary_inside_fragmented_text():
    c = fresh()
    c.send(frame(OP_TEXT, "fragment1", fin=False) + frame(OP_BINARY, b"fragment2"))
    c.expect_fail(1002)


@case
def frag_text_inside_fragmented_binary_separate_writes():
    c = fresh()
    c.send_frame(OP_BINARY, b"fragment1", fin=False)
    c.expect_quiet(0.1)
    c.send_frame(OP_TEXT, "fragment2", fin=False)
    c.expect_fail(1002)


def frag_5_19_data():
    return [frame(OP_TEXT, "fragment1", fin=False), frame(OP_CONT, "fragment2", fin=False),
            frame(OP_PING, b"pongme 1!"), frame(OP_CONT, "fragment3", fin=False),
            frame(OP_CONT, "fragment4", fin=False), frame(OP_PING, b"pongme 2!"),
            frame(OP_CONT, "fragment5")]


@case
def frag_5_19_pings_between_fragments_with_pauses():
    c = fresh()
    parts = frag_5_19_data()
    c.send(b"".join(parts[:2]))
    c.expect_quiet(0.3)
    c.send(parts[2])
    c.expect(OP_PONG, b"pongme 1!")
    c.send(parts[3])
    c.expect_quiet(0.3)
    c.send(parts[4] + parts[5])
    c.expect(OP_PONG, b"pongme 2!")
    c.send(parts[6])
    c.expect_echo(OP_TEXT, "fragment1fragment2fragment3fragment4fragment5")
    c.close_handshake()


@case
def frag_5_20_pings_between_fragments_frame_by_frame():
    c = fresh()
    for p in frag_5_19_data():
        c.send(p, chunk=3, pause=0.002)
    c.expect(OP_PONG, b"pongme 1!")
    c.expect(OP_PONG, b"pongme 2!")
    c.expect_echo(OP_TEXT, "fragment1fragment2fragment3fragment4fragment5")
    c.close_handshake()


@case
def frag_pong_between_fragments_ignored():
    c = fresh()
    c.send(frame(OP_BINARY, b"one", fin=False) + frame(OP_PONG, b"x") +
           frame(OP_CONT, b"two", fin=False) + frame(OP_PONG) + frame(OP_CONT, b"three"))
    c.expect_echo(OP_BINARY, b"onetwothree")
    c.close_handshake()


@case
def frag_binary_many_fragments():
    c = fresh()
    parts = [bytes([i]) * (i % 17) for i in range(200)]
    data = frame(OP_BINARY, parts[0], fin=False)
    data += b"".join(frame(OP_CONT, p, fin=False) for p in parts[1:-1])
    data += frame(OP_CONT, parts[-1])
    c.send(data)
    c.expect_echo(OP_BINARY, b"".join(parts))
    c.close_handshake()


@case
def frag_empty_fragments():
    c = fresh()
    c.send(frame(OP_TEXT, b"", fin=False) + frame(OP_CONT, b"", fin=False) + frame(OP_CONT, b""))
    c.expect_echo(OP_TEXT, b"")
    c.send(frame(OP_BINARY, b"", fin=False) + frame(OP_CONT, b"x", fin=False) +
           frame(OP_CONT, b""))
    c.expect_echo(OP_BINARY, b"x")
    c.close_handshake()


@case
def frag_large_fragments_streamed():
    ws.need_max_message(265537)
    c = fresh()
    parts = [binary_payload(n) for n in (70000, 1, 130000, 0, 65536)]
    for i, p in enumerate(parts):
        op = OP_BINARY if i == 0 else OP_CONT
        c.send_frame(op, p, fin=(i == len(parts) - 1), chunk=4093)
    c.expect_echo(OP_BINARY, b"".join(parts), timeout=20 * ws.SLOW)
    c.close_handshake()


@case
def frag_two_messages_back_to_back():
    c = fresh()
    c.send(frame(OP_TEXT, "a1", fin=False) + frame(OP_CONT, "a2") +
           frame(OP_BINARY, b"b1", fin=False) + frame(OP_CONT, b"b2") + frame(OP_TEXT, "c"))
    c.expect_echo(OP_TEXT, "a1a2")
    c.expect_echo(OP_BINARY, b"b1b2")
    c.expect_echo(OP_TEXT, "c")
    c.close_handshake()


@case
def frag_close_inside_fragmented_message():
    # A close may come between fragments (RFC 6455 5.4: control frames may
    # be injected); the partial message is never delivered.
    c = fresh()
    c.send(frame(OP_TEXT, "fragment1", fin=False) + frame(OP_CLOSE, ws.close_payload(1000)))
    c.expect_close(1000)


if __name__ == "__main__":
    ws.main()
