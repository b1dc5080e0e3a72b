# SPDX-License-Identifier: MIT
"""Limits and volume (in the spirit of Autobahn category 9): the message
size limit (close 1009, decided from the frame header, before the payload
is sent), large messages at the limit, messages in many fragments or in
many TCP pieces, and many small messages.

The suite's daemon runs with --max-message 65536; the cases at the build's
own limit (CONFIG_MAX_MESSAGE_SIZE) start a daemon of their own."""

import os
import struct
import threading
import time

import wsproto as ws
from wsproto import OP_BINARY, OP_CONT, OP_PING, OP_PONG, OP_TEXT, Conn, case, frame, port, register

LIMIT = 65536


def fresh():
    return Conn.open(port())


def payload(op, n):
    if op == OP_TEXT:
        return bytes(0x21 + (i * 13) % 94 for i in range(n))
    return os.urandom(n)


def send_in_background(c, data, chunk=65536):
    """Writes while the caller reads (so neither side's buffers can stall
    the other). Returns the thread; join it after reading."""
    err = []

    def run():
        try:
            c.send(data, chunk=chunk)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.err = err
    return t


# ---- the limit: 1009 ----

@case
def limit_text_at_the_limit_echoes():
    c = fresh()
    data = payload(OP_TEXT, LIMIT)
    c.send_frame(OP_TEXT, data)
    c.expect_echo(OP_TEXT, data)
    c.close_handshake()


@case
def limit_binary_at_the_limit_echoes():
    c = fresh()
    data = payload(OP_BINARY, LIMIT)
    c.send_frame(OP_BINARY, data)
    c.expect_echo(OP_BINARY, data)
    c.close_handshake()


@case
def limit_fragmented_at_the_limit_echoes():
    c = fresh()
    data = payload(OP_BINARY, LIMIT)
    c.send(frame(OP_BINARY, data[:30000], fin=False) + frame(OP_CONT, data[30000:60000], fin=False)
           + frame(OP_CONT, data[60000:]))
    c.expect_echo(OP_BINARY, data)
    c.close_handshake()


@case
def limit_multibyte_text_counts_bytes():
    c = fresh()
    data = "é".encode() * (LIMIT // 2)
    c.send_frame(OP_TEXT, data)
    c.expect_echo(OP_TEXT, data)
    c.send_frame(OP_TEXT, data + b"x")
    c.expect_fail(1009)


@case
def limit_text_one_over_is_1009():
    c = fresh()
    c.send_frame(OP_TEXT, payload(OP_TEXT, LIMIT + 1))
    c.expect_fail(1009)


@case
def limit_binary_one_over_is_1009():
    c = fresh()
    c.send_frame(OP_BINARY, payload(OP_BINARY, LIMIT + 1))
    c.expect_fail(1009)


@case
def limit_one_over_in_two_fragments_is_1009():
    c = fresh()
    data = payload(OP_TEXT, LIMIT + 1)
    c.send(frame(OP_TEXT, data[:32768], fin=False) + frame(OP_CONT, data[32768:]))
    c.expect_fail(1009)


@case
def limit_one_over_in_many_fragments_is_1009():
    c = fresh()
    data = payload(OP_BINARY, LIMIT + 1)
    step = 4096
    parts = [data[i:i + step] for i in range(0, len(data), step)]
    wire = frame(OP_BINARY, parts[0], fin=False)
    wire += b"".join(frame(OP_CONT, p, fin=False) for p in parts[1:-1])
    wire += frame(OP_CONT, parts[-1])
    c.send(wire)
    c.expect_fail(1009)


@case
def limit_decided_from_the_header_of_a_single_frame():
    # 1,000,000 bytes declared, 1,000 sent: the close must come now.
    c = fresh()
    f = frame(OP_BINARY, b"", length=1000000)
    c.send(f + os.urandom(1000))
    c.expect_fail(1009)


@case
def limit_decided_from_the_header_alone():
    c = fresh()
    c.send(frame(OP_TEXT, b"", length=LIMIT + 1))
    c.expect_fail(1009)


@case
def limit_decided_from_the_header_of_a_later_fragment():
    c = fresh()
    c.send_frame(OP_TEXT, payload(OP_TEXT, 60000), fin=False)
    c.expect_quiet(0.1)
    c.send(frame(OP_CONT, b"", fin=True, length=10000))
    c.expect_fail(1009)


@case
def limit_huge_64bit_lengths_are_1009():
    for n in (1 << 32, (1 << 32) + 5, 1 << 62, (1 << 63) - 1):
        c = fresh()
        c.send(frame(OP_BINARY, b"", raw_length=struct.pack("!Q", n)) + b"abcd")
        c.expect_fail(1009)


@case
def limit_1009_then_other_connections_unaffected():
    c1 = fresh()
    c2 = fresh()
    c1.send_frame(OP_TEXT, payload(OP_TEXT, 1000), fin=False)
    c2.send(frame(OP_BINARY, b"", length=LIMIT * 4) + b"x" * 100)
    c2.expect_fail(1009)
    c1.send_frame(OP_CONT, b"end")
    c1.expect_echo(OP_TEXT, payload(OP_TEXT, 1000) + b"end")
    c1.close_handshake()


@case
def limit_control_frames_do_not_count_toward_the_message():
    c = fresh()
    data = payload(OP_TEXT, LIMIT)
    wire = frame(OP_TEXT, data[:LIMIT // 2], fin=False)
    wire += b"".join(frame(OP_PING, bytes([i]) * 125) for i in range(10))
    wire += frame(OP_CONT, data[LIMIT // 2:])
    c.send(wire)
    for i in range(10):
        c.expect(OP_PONG, bytes([i]) * 125)
    c.expect_echo(OP_TEXT, data)
    c.close_handshake()


# ---- 9.1, 9.2: large messages at the build's limit ----

BIG_SIZES = [n for n in (65536, 262144, 1 << 20) if n <= ws.MAX_MESSAGE]


def big_case(op, sizes):
    def run():
        with ws.own_daemon() as d:
            c = Conn.open(d.port)
            for n in sizes:
                data = payload(op, n)
                t = send_in_background(c, frame(op, data))
                c.expect_echo(op, data, timeout=30 * ws.SLOW)
                t.join(10)
                assert not t.err, t.err
            c.close_handshake()
            c.close()
    return run


register("big_9_1_text_%s" % "_".join(map(str, BIG_SIZES)), big_case(OP_TEXT, BIG_SIZES), 60)
register("big_9_2_binary_%s" % "_".join(map(str, BIG_SIZES)), big_case(OP_BINARY, BIG_SIZES), 60)


@case(budget=60)
def big_build_limit_exactly_and_one_over():
    with ws.own_daemon() as d:
        c = Conn.open(d.port)
        data = payload(OP_BINARY, ws.MAX_MESSAGE)
        t = send_in_background(c, frame(OP_BINARY, data))
        c.expect_echo(OP_BINARY, data, timeout=30 * ws.SLOW)
        t.join(10)
        c.send(frame(OP_BINARY, b"", length=ws.MAX_MESSAGE + 1) + b"x" * 100)
        c.expect_fail(1009)
        c.close()


@case
def big_max_message_flag_cannot_exceed_the_build():
    # --max-message above CONFIG_MAX_MESSAGE_SIZE is held to the build's.
    with ws.own_daemon("--max-message", str(ws.MAX_MESSAGE * 4)) as d:
        c = Conn.open(d.port)
        c.send(frame(OP_BINARY, b"", length=ws.MAX_MESSAGE + 1) + b"x" * 10)
        c.expect_fail(1009)
        c.close()


@case(budget=60)
def big_echo_written_in_parts_keeps_frames_whole():
    # The client does not read while 4 MB of echoes are on their way, so
    # the server's socket fills and it writes them in parts from its queue;
    # each pong must come after the echo before it, never inside it.
    with ws.own_daemon() as d:
        c = Conn.open(d.port, rcvbuf=4096)
        n = min(200000, ws.MAX_MESSAGE)
        msgs = [payload(OP_BINARY, n) for _ in range(20)]
        t = send_in_background(c, b"".join(frame(OP_BINARY, m) + frame(OP_PING, b"%d" % i)
                                           for i, m in enumerate(msgs)))
        time.sleep(0.5)
        for i, m in enumerate(msgs):
            c.expect_echo(OP_BINARY, m, timeout=30 * ws.SLOW)
            c.expect(OP_PONG, b"%d" % i)
        t.join(10)
        assert not t.err, t.err
        c.close_handshake()
        c.close()


# ---- 9.3, 9.4: one large message in fragments of every size ----

FRAG_SIZES = [64, 256, 1024, 4096, 16384, 65536, 262144, 1 << 20]


def fragmented_case(op, total, fsize):
    def run():
        with ws.own_daemon() as d:
            c = Conn.open(d.port)
            data = payload(op, total)
            parts = [data[i:i + fsize] for i in range(0, total, fsize)]
            wire = b"".join(frame(op if i == 0 else OP_CONT, p, fin=(i == len(parts) - 1))
                            for i, p in enumerate(parts))
            t = send_in_background(c, wire)
            c.expect_echo(op, data, timeout=30 * ws.SLOW)
            t.join(10)
            assert not t.err, t.err
            c.close_handshake()
            c.close()
    return run


_total = min(1 << 20, ws.MAX_MESSAGE)
for _op, _name in ((OP_TEXT, "9_3_text"), (OP_BINARY, "9_4_binary")):
    for _fs in FRAG_SIZES:
        if _fs <= _total:
            register("frag_%s_%d_in_fragments_of_%d" % (_name, _total, _fs),
                     fragmented_case(_op, _total, _fs), 60)


# ---- 9.5, 9.6: one large frame in TCP pieces of every size ----

CHUNK_SIZES = [64, 128, 256, 512, 1024, 2048, 4096, 65536, 131072]


def chunked_case(op, total, chunk):
    def run():
        c = fresh()
        data = payload(op, total)
        t = send_in_background(c, frame(op, data), chunk=chunk)
        c.expect_echo(op, data, timeout=30 * ws.SLOW)
        t.join(10)
        assert not t.err, t.err
        c.close_handshake()
    return run


for _op, _name in ((OP_TEXT, "9_5_text"), (OP_BINARY, "9_6_binary")):
    for _ch in CHUNK_SIZES:
        register("chunks_%s_%d_in_pieces_of_%d" % (_name, LIMIT, _ch),
                 chunked_case(_op, LIMIT, _ch), 60)


# ---- 9.7, 9.8: many messages, one at a time ----

def rtt_case(op, n, count=1000):
    def run():
        c = fresh()
        data = payload(op, n)
        for _ in range(count):
            c.send_frame(op, data)
            c.expect_echo(op, data)
        c.close_handshake()
    return run


for _op, _name in ((OP_TEXT, "9_7_text"), (OP_BINARY, "9_8_binary")):
    for _n in (0, 16, 64, 256, 1024, 4096):
        register("many_%s_1000_messages_of_%d" % (_name, _n), rtt_case(_op, _n), 60)


# ---- pipelines and fragment storms ----

@case(budget=60)
def many_10000_small_messages_pipelined_in_order():
    c = fresh()
    msgs = [("%d" % i).encode() for i in range(10000)]
    t = send_in_background(c, b"".join(frame(OP_TEXT, m) for m in msgs))
    for m in msgs:
        c.expect_echo(OP_TEXT, m)
    t.join(10)
    assert not t.err, t.err
    c.close_handshake()


@case(budget=60)
def many_1000_one_byte_fragments():
    c = fresh()
    data = payload(OP_TEXT, 1000)
    wire = b"".join(frame(OP_TEXT if i == 0 else OP_CONT, data[i:i + 1], fin=(i == 999))
                    for i in range(1000))
    c.send(wire)
    c.expect_echo(OP_TEXT, data)
    c.close_handshake()


@case(budget=60)
def many_fragments_up_to_the_limit_in_one_byte_fragments_with_pings():
    c = fresh()
    data = payload(OP_BINARY, 8192)
    pieces = []
    for i in range(len(data)):
        pieces.append(frame(OP_BINARY if i == 0 else OP_CONT, data[i:i + 1],
                            fin=(i == len(data) - 1)))
        if i % 1000 == 999:
            pieces.append(frame(OP_PING, b"%d" % i))
    t = send_in_background(c, b"".join(pieces), chunk=1000)
    for i in range(len(data)):
        if i % 1000 == 999:
            c.expect(OP_PONG, b"%d" % i)
    c.expect_echo(OP_BINARY, data)
    t.join(10)
    c.close_handshake()


@case(budget=60)
def many_empty_fragments_then_data():
    c = fresh()
    wire = frame(OP_TEXT, b"", fin=False) + frame(OP_CONT, b"", fin=False) * 5000
    wire += frame(OP_CONT, b"tail")
    c.send(wire)
    c.expect_echo(OP_TEXT, b"tail")
    c.close_handshake()


@case(budget=60)
def many_connections_each_with_a_message_in_flight():
    # Fifty clients from eight addresses, none over its share (of TLS
    # sessions, in the TLS pass).
    conns = [Conn.open(port(), source="127.0.0.%d" % (1 + i % 8)) for i in range(50)]
    for i, c in enumerate(conns):
        c.send_frame(OP_BINARY, bytes([i]) * 1000, fin=False)
    for i, c in enumerate(conns):
        c.send_frame(OP_CONT, bytes([i]) * 1000)
    for i, c in enumerate(conns):
        c.expect_echo(OP_BINARY, bytes([i]) * 2000)
        c.close_handshake()


if __name__ == "__main__":
    ws.main(["--max-message", str(LIMIT)])
