# SPDX-License-Identifier: MIT
"""RFC 6455 sections 5.6 and 8.1: text must be UTF-8 (Autobahn category 6).

Every vector goes three ways: as one frame, as one fragment per byte, and as
one frame written byte by byte. Valid ones must come back unchanged. Invalid
ones must fail the connection with 1007, and fast: the test sends only up to
the first byte that no continuation could make valid, then waits for the
close before sending anything more. A sequence that is only cut short can
fail only at the end of the message. The expected answer comes from the
independent oracle wsproto.utf8_first_bad (table 3-7 of the Unicode
standard), checked against the vectors' labels at import time."""

import wsproto as ws
from wsproto import OP_BINARY, OP_CONT, OP_TEXT, Conn, case, frame, port, register


# A fail-fast close comes in milliseconds; waiting longer only slows down
# the report on a server that is not fail-fast.
FAST = 2.0 * ws.SLOW


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


KOSME = h("ce ba e1 bd b9 cf 83 ce bc ce b5")

VALID = [
    ("kosme", KOSME),
    ("hello_utf8", "Hello-µ@ßöäüàá-UTF-8!!".encode()),
    ("math", "∮ E⋅da = Q,  n → ∞, ∑ f(i) = ∏ g(i)".encode()),
    ("emoji", "grin 😀 and flag 🇩🇪".encode()),
    ("all_ascii", bytes(range(128))),
    ("first_1byte_u0000", h("00")),
    ("first_2byte_u0080", h("c2 80")),
    ("first_3byte_u0800", h("e0 a0 80")),
    ("first_4byte_u10000", h("f0 90 80 80")),
    ("last_1byte_u007f", h("7f")),
    ("last_2byte_u07ff", h("df bf")),
    ("last_3byte_uffff", h("ef bf bf")),
    ("last_4byte_u10ffff", h("f4 8f bf bf")),
    ("before_surrogates_ud7ff", h("ed 9f bf")),
    ("after_surrogates_ue000", h("ee 80 80")),
    ("replacement_ufffd", h("ef bf bd")),
    ("nonchar_ufffe", h("ef bf be")),
    ("nonchar_ufdd0", h("ef b7 90")),
    ("nonchar_ufdef", h("ef b7 af")),
    ("nonchar_u1fffe", h("f0 9f bf be")),
    ("nonchar_u10fffe", h("f4 8f bf be")),
    ("plane16_first_u100000", h("f4 80 80 80")),
    ("bom_ufeff", h("ef bb bf") + b"text"),
    ("every_2byte_lead", b"".join(bytes([b, 0x80]) for b in range(0xC2, 0xE0))),
    ("every_3byte_lead", b"".join(bytes([b, 0xA0 if b == 0xE0 else 0x80, 0x80])
                                  for b in range(0xE0, 0xF0))),
    ("every_4byte_lead", b"".join(bytes([b, 0x90 if b == 0xF0 else 0x80, 0x80, 0x80])
                                  for b in range(0xF0, 0xF5))),
]

INVALID = [
    ("kosme_edited_surrogate", KOSME + h("ed a0 80") + b"edited"),
    ("kosme_then_u110000", KOSME + h("f4 90 80 80") + b"edited"),
    # 3.1 beyond U+10FFFF and the old 5/6-byte forms
    ("u110000", h("f4 90 80 80")),
    ("u13ffff", h("f4 bf bf bf")),
    ("last_4byte_form_u1fffff", h("f7 bf bf bf")),
    ("first_5byte_form", h("f8 88 80 80 80")),
    ("last_5byte_form", h("fb bf bf bf bf")),
    ("first_6byte_form", h("fc 84 80 80 80 80")),
    ("last_6byte_form", h("fd bf bf bf bf bf")),
    ("lead_f5", h("f5 80 80 80")),
    # 3.2 lone continuation bytes
    ("cont_80", h("80")),
    ("cont_bf", h("bf")),
    ("cont_80_bf", h("80 bf")),
    ("cont_80_bf_80", h("80 bf 80")),
    ("cont_x4", h("80 bf 80 bf")),
    ("cont_x5", h("80 bf 80 bf 80")),
    ("cont_x6", h("80 bf 80 bf 80 bf")),
    ("cont_x7", h("80 bf 80 bf 80 bf 80")),
    ("all_64_continuations", bytes(range(0x80, 0xC0))),
    ("ascii_then_cont", b"abc" + h("80")),
    # 3.3 lonely start characters, each followed by a space
    ("lonely_2byte_starts", b"".join(bytes([b, 0x20]) for b in range(0xC0, 0xE0))),
    ("lonely_3byte_starts", b"".join(bytes([b, 0x20]) for b in range(0xE0, 0xF0))),
    ("lonely_4byte_starts", b"".join(bytes([b, 0x20]) for b in range(0xF0, 0xF8))),
    ("lonely_5byte_starts", b"".join(bytes([b, 0x20]) for b in range(0xF8, 0xFC))),
    ("lonely_6byte_starts", h("fc 20 fd 20")),
    ("start_c2_then_space", h("c2 20")),
    ("start_e1_then_space", h("e1 20")),
    ("start_f1_then_space", h("f1 20")),
    ("start_e1_80_then_ascii", h("e1 80 41")),
    ("start_f1_80_80_then_ascii", h("f1 80 80 41")),
    ("start_then_new_start", h("c3 c3 a9")),
    # 3.4 sequences with their last byte missing (only the end tells)
    ("cut_2byte_c2", h("c2")),
    ("cut_2byte_df", h("df")),
    ("cut_3byte_e0_a0", h("e0 a0")),
    ("cut_3byte_ef_bf", h("ef bf")),
    ("cut_4byte_f0_90_80", h("f0 90 80")),
    ("cut_4byte_f4_8f_bf", h("f4 8f bf")),
    ("cut_kosme", KOSME[:-1]),
    ("cut_emoji", "😀".encode()[:3]),
    ("cut_after_text", b"abc" + h("e2 82")),
    # 3.4 as in Kuhn's file (some are wrong before the end)
    ("kuhn_cut_c0", h("c0")),
    ("kuhn_cut_e0_80", h("e0 80")),
    ("kuhn_cut_f0_80_80", h("f0 80 80")),
    ("kuhn_cut_f8_80_80_80", h("f8 80 80 80")),
    ("kuhn_cut_fc_80_80_80_80", h("fc 80 80 80 80")),
    ("kuhn_cut_f7_bf_bf", h("f7 bf bf")),
    ("kuhn_cut_fb_bf_bf_bf", h("fb bf bf bf")),
    ("kuhn_cut_fd_bf_bf_bf_bf", h("fd bf bf bf bf")),
    # 3.5 concatenated cut sequences, impossible bytes
    ("kuhn_cut_concatenated", h("c0 e0 80 f0 80 80 f8 80 80 80 fc 80 80 80 80 df ef bf f7 bf bf"
                                " fb bf bf bf fd bf bf bf bf")),
    ("impossible_fe", h("fe")),
    ("impossible_ff", h("ff")),
    ("impossible_fe_fe_ff_ff", h("fe fe ff ff")),
    # 4.1 overlong "/"
    ("overlong_slash_2", h("c0 af")),
    ("overlong_slash_3", h("e0 80 af")),
    ("overlong_slash_4", h("f0 80 80 af")),
    ("overlong_slash_5", h("f8 80 80 80 af")),
    ("overlong_slash_6", h("fc 80 80 80 80 af")),
    # 4.2 maximum overlong sequences
    ("overlong_max_2", h("c1 bf")),
    ("overlong_max_3", h("e0 9f bf")),
    ("overlong_max_4", h("f0 8f bf bf")),
    ("overlong_max_5", h("f8 87 bf bf bf")),
    ("overlong_max_6", h("fc 83 bf bf bf bf")),
    # 4.3 overlong NUL
    ("overlong_nul_2", h("c0 80")),
    ("overlong_nul_3", h("e0 80 80")),
    ("overlong_nul_4", h("f0 80 80 80")),
    ("overlong_nul_5", h("f8 80 80 80 80")),
    ("overlong_nul_6", h("fc 80 80 80 80 80")),
    ("overlong_e_acute", h("c1 a9")),
    # 5.1 single UTF-16 surrogates
    ("surrogate_d800", h("ed a0 80")),
    ("surrogate_db7f", h("ed ad bf")),
    ("surrogate_db80", h("ed ae 80")),
    ("surrogate_dbff", h("ed af bf")),
    ("surrogate_dc00", h("ed b0 80")),
    ("surrogate_df80", h("ed be 80")),
    ("surrogate_dfff", h("ed bf bf")),
    # 5.2 paired UTF-16 surrogates (CESU-8)
    ("pair_d800_dc00", h("ed a0 80 ed b0 80")),
    ("pair_d800_dfff", h("ed a0 80 ed bf bf")),
    ("pair_db7f_dc00", h("ed ad bf ed b0 80")),
    ("pair_db7f_dfff", h("ed ad bf ed bf bf")),
    ("pair_db80_dc00", h("ed ae 80 ed b0 80")),
    ("pair_db80_dfff", h("ed ae 80 ed bf bf")),
    ("pair_dbff_dc00", h("ed af bf ed b0 80")),
    ("pair_dbff_dfff", h("ed af bf ed bf bf")),
    ("cesu8_emoji", h("ed a0 bd ed b8 80")),
]

# The validator skips ASCII a word at a time: put the first non-ASCII byte
# at every offset of two words.
for _off in range(17):
    VALID.append(("aligned_%d_e_acute" % _off, b"a" * _off + h("c3 a9") + b"z" * 16))
    INVALID.append(("aligned_%d_ff" % _off, b"a" * _off + h("ff") + b"z" * 16))
    INVALID.append(("aligned_%d_surrogate" % _off, b"a" * _off + h("ed a0 80") + b"z" * 16))
    INVALID.append(("aligned_%d_cut" % _off, b"a" * _off + h("e2 82")))

# Every byte value that cannot start a character where it stands.
LONE = [("lone_byte_%02x" % b, bytes([b]) + b" ok") for b in range(0x80, 0x100)]

# Self-check of the oracle against the labels, and against Python's codec
# for whole messages.
for _name, _v in VALID:
    assert ws.utf8_first_bad(_v) is None, _name
    _v.decode("utf-8")
for _name, _v in INVALID + LONE:
    assert ws.utf8_first_bad(_v) is not None, _name
    try:
        _v.decode("utf-8")
        raise AssertionError("python decodes " + _name)
    except UnicodeDecodeError:
        pass


def fresh():
    return Conn.open(port())


def send_ignoring_reset(c, data, **kw):
    try:
        c.send(data, **kw)
    except (BrokenPipeError, ConnectionResetError):
        pass


def single_frame(v):
    def run():
        c = fresh()
        c.send_frame(OP_TEXT, v)
        if ws.utf8_first_bad(v) is None:
            c.expect_echo(OP_TEXT, v)
            c.close_handshake()
        else:
            c.expect_fail(1007)
    return run


def per_byte_fragments(v):
    """One fragment per byte. Invalid: fragments up to the first bad byte
    only, then the close must come."""
    def run():
        c = fresh()
        frames = [frame(OP_TEXT if i == 0 else OP_CONT, v[i:i + 1], fin=(i == len(v) - 1))
                  for i in range(len(v))]
        bad = ws.utf8_first_bad(v)
        if bad is None:
            c.send(b"".join(frames))
            c.expect_echo(OP_TEXT, v)
            c.close_handshake()
            return
        c.send(b"".join(frames[:bad + 1]))
        c.expect_fail(1007, timeout=FAST)
    return run


def streamed_frame(v):
    """One frame written a byte at a time. Invalid: the frame is declared
    longer and only written up to the first bad byte, then the close must
    come while the server still waits for the rest of the frame."""
    def run():
        c = fresh()
        bad = ws.utf8_first_bad(v)
        if bad is None:
            c.send(frame(OP_TEXT, v), chunk=1)
            c.expect_echo(OP_TEXT, v)
            c.close_handshake()
            return
        if bad == len(v):
            c.send(frame(OP_TEXT, v), chunk=1)
            c.expect_fail(1007)
            return
        tail = b" never sent" * 10
        f = frame(OP_TEXT, v + tail)
        hl = len(f) - len(v) - len(tail)
        c.send(f[:hl + bad + 1], chunk=1)
        c.expect_fail(1007, timeout=FAST)
    return run


for _name, _v in VALID + INVALID:
    _kind = "valid" if ws.utf8_first_bad(_v) is None else "invalid"
    register("utf8_%s_%s_single_frame" % (_kind, _name), single_frame(_v))
    register("utf8_%s_%s_per_byte_fragments" % (_kind, _name), per_byte_fragments(_v))
    register("utf8_%s_%s_streamed_frame" % (_kind, _name), streamed_frame(_v))
for _name, _v in LONE:
    register("utf8_invalid_%s_single_frame" % _name, single_frame(_v))
    register("utf8_invalid_%s_streamed_frame" % _name, streamed_frame(_v))


# ---- 6.1, 6.2: empty and split valid text ----

@case
def utf8_6_1_1_empty_text():
    c = fresh()
    c.send_frame(OP_TEXT, b"")
    c.expect_echo(OP_TEXT, b"")
    c.close_handshake()


@case
def utf8_6_1_3_empty_fragments_around_text():
    c = fresh()
    c.send(frame(OP_TEXT, b"", fin=False) + frame(OP_CONT, "middle frame payload", fin=False) +
           frame(OP_CONT, b""))
    c.expect_echo(OP_TEXT, "middle frame payload")
    c.close_handshake()


@case
def utf8_6_2_3_split_inside_every_character():
    v = "Hello-µ@ßöäüàá-UTF-8!! κόσμε 😀".encode()
    c = fresh()
    for cut in range(1, len(v)):
        c.send(frame(OP_TEXT, v[:cut], fin=False) + frame(OP_CONT, v[cut:]))
        c.expect_echo(OP_TEXT, v)
    c.close_handshake()


@case
def utf8_4byte_character_over_four_fragments_with_pauses():
    v = "😀".encode()
    c = fresh()
    for i in range(4):
        c.send_frame(OP_TEXT if i == 0 else OP_CONT, v[i:i + 1], fin=(i == 3))
        if i < 3:
            c.expect_quiet(0.05)
    c.expect_echo(OP_TEXT, v)
    c.close_handshake()


# ---- 6.4: fail fast ----

@case
def utf8_6_4_1_invalid_second_fragment():
    c = fresh()
    c.send_frame(OP_TEXT, KOSME, fin=False)
    c.expect_quiet()
    c.send_frame(OP_CONT, h("f4 90 80 80"), fin=False)
    c.expect_fail(1007)


@case
def utf8_6_4_2_invalid_across_fragments():
    c = fresh()
    c.send_frame(OP_TEXT, KOSME + h("f4"), fin=False)
    c.expect_quiet()
    c.send_frame(OP_CONT, h("90"), fin=False)
    c.expect_fail(1007)


@case
def utf8_6_4_3_invalid_inside_one_frame():
    c = fresh()
    rest = h("f4 90 80 80") + b"edited"
    f = frame(OP_TEXT, KOSME + rest)
    hl = len(f) - len(KOSME) - len(rest)
    c.send(f[:hl + len(KOSME)])
    c.expect_quiet()
    c.send(f[hl + len(KOSME):hl + len(KOSME) + 4])
    c.expect_fail(1007)


@case
def utf8_6_4_4_invalid_byte_alone_inside_one_frame():
    c = fresh()
    rest = h("f4 90 80 80") + b"edited"
    f = frame(OP_TEXT, KOSME + rest)
    hl = len(f) - len(KOSME) - len(rest)
    c.send(f[:hl + len(KOSME) + 1])
    c.expect_quiet()
    c.send(f[hl + len(KOSME) + 1:hl + len(KOSME) + 2])
    c.expect_fail(1007)


@case
def utf8_fail_fast_in_a_large_frame():
    # 200 KB declared; the bad byte is at 100 KB; the rest is never sent.
    ws.need_max_message(200002)
    c = fresh()
    payload = b"x" * 100000 + h("c0 af") + b"y" * 100000
    f = frame(OP_TEXT, payload)
    hl = len(f) - len(payload)
    c.send(f[:hl + 100001], chunk=8192)
    c.expect_fail(1007)


@case
def utf8_fail_fast_in_a_large_fragmented_message():
    ws.need_max_message(140003)
    c = fresh()
    c.send_frame(OP_TEXT, b"x" * 70000, fin=False)
    c.send_frame(OP_CONT, b"y" * 70000, fin=False)
    c.expect_quiet(0.1)
    c.send_frame(OP_CONT, h("ed a0 80"), fin=False)
    c.expect_fail(1007)


# ---- the validator's state ----

@case
def utf8_state_resets_between_messages():
    c = fresh()
    c.send_frame(OP_TEXT, h("c3 a9"))
    c.expect_echo(OP_TEXT, h("c3 a9"))
    c.send_frame(OP_TEXT, h("a9"))
    c.expect_fail(1007)


@case
def utf8_binary_message_does_not_feed_the_validator():
    c = fresh()
    c.send(frame(OP_BINARY, h("c3"), fin=False) + frame(OP_CONT, h("ff fe")))
    c.expect_echo(OP_BINARY, h("c3 ff fe"))
    c.send_frame(OP_TEXT, h("a9"))
    c.expect_fail(1007)


@case
def utf8_ping_between_fragments_does_not_feed_the_validator():
    c = fresh()
    c.send(frame(OP_TEXT, h("e2 82"), fin=False) + frame(ws.OP_PING, h("ff 80")) +
           frame(OP_CONT, h("ac")))
    c.expect(ws.OP_PONG, h("ff 80"))
    c.expect_echo(OP_TEXT, "€")
    c.close_handshake()


@case
def utf8_message_ending_inside_character_after_many_fragments():
    c = fresh()
    c.send(frame(OP_TEXT, b"abc", fin=False) + frame(OP_CONT, "é€".encode(), fin=False) +
           frame(OP_CONT, h("f0 9f 98")))
    c.expect_fail(1007)


@case
def utf8_valid_after_invalid_on_another_connection():
    # A failed connection leaves nothing behind for the next one.
    c = fresh()
    c.send(frame(OP_TEXT, h("e2 82"), fin=False))
    c2 = fresh()
    c.send_frame(OP_CONT, h("41"))
    c.expect_fail(1007)
    c2.send_frame(OP_TEXT, h("ac"))
    c2.expect_fail(1007)
    c3 = fresh()
    c3.send_frame(OP_TEXT, "€")
    c3.expect_echo(OP_TEXT, "€")


if __name__ == "__main__":
    ws.main()
