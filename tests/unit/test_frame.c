/* SPDX-License-Identifier: MIT */
/* test_frame.c: the RFC 6455 frame codec: header bytes for every length
 * class, parse/encode round trips, incomplete headers, opcodes, RSV bits,
 * control frame rules, masking at every alignment, close codes and close
 * payloads. */
#include "unit.h"
#include "proto/frame.h"

#include <stdio.h>
#include <string.h>

static uint64_t rng_state = 0xB7E151628AED2A6Bull;

static uint32_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static const uint8_t key[4] = {0x37, 0xFA, 0x21, 0x3D};

/* ---- header encoding: exact bytes ---- */

typedef struct {
    uint64_t len;
    uint8_t hdr[10]; /* unmasked FIN+TEXT header */
    size_t hdr_len;
} len_vec;

static const len_vec lens[] = {
    {0, {0x81, 0x00}, 2},
    {1, {0x81, 0x01}, 2},
    {125, {0x81, 0x7D}, 2},
    {126, {0x81, 0x7E, 0x00, 0x7E}, 4},
    {127, {0x81, 0x7E, 0x00, 0x7F}, 4},
    {65535, {0x81, 0x7E, 0xFF, 0xFF}, 4},
    {65536, {0x81, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}, 10},
    {4294967295ull, {0x81, 0x7F, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF}, 10},
    {4294967296ull, {0x81, 0x7F, 0, 0, 0, 0x01, 0, 0, 0, 0}, 10},
    {4294967297ull, {0x81, 0x7F, 0, 0, 0, 0x01, 0, 0, 0, 0x01}, 10},
    {0x0123456789ABCDEFull, {0x81, 0x7F, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF}, 10},
    {0x7FFFFFFFFFFFFFFFull, {0x81, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, 10},
};
#define NLENS (sizeof lens / sizeof lens[0])

static void test_header_lengths_exact(void)
{
    uint8_t out[CW_FRAME_MAX_HEADER];
    for (size_t i = 0; i < NLENS; i++) {
        memset(out, 0xAA, sizeof out);
        size_t n = cw_frame_header(out, CW_OP_TEXT, 1, lens[i].len, NULL);
        CHECK_EQ(n, lens[i].hdr_len);
        CHECK_MEM(out, lens[i].hdr, lens[i].hdr_len);
        if (n < sizeof out)
            CHECK_EQ(out[n], 0xAA); /* nothing past the header */
        /* masked: the mask bit and the key after the length */
        memset(out, 0xAA, sizeof out);
        n = cw_frame_header(out, CW_OP_TEXT, 1, lens[i].len, key);
        CHECK_EQ(n, lens[i].hdr_len + 4);
        CHECK_EQ(out[0], 0x81);
        CHECK_EQ(out[1], lens[i].hdr[1] | 0x80);
        CHECK_MEM(out + 2, lens[i].hdr + 2, lens[i].hdr_len - 2);
        CHECK_MEM(out + lens[i].hdr_len, key, 4);
    }
}

static void test_header_first_byte(void)
{
    uint8_t out[CW_FRAME_MAX_HEADER];
    cw_frame_header(out, CW_OP_BINARY, 0, 3, NULL);
    CHECK_EQ(out[0], 0x02);
    cw_frame_header(out, CW_OP_CONT, 1, 3, NULL);
    CHECK_EQ(out[0], 0x80);
    cw_frame_header(out, CW_OP_CLOSE, 1, 2, NULL);
    CHECK_EQ(out[0], 0x88);
    cw_frame_header(out, CW_OP_PING, 1, 0, NULL);
    CHECK_EQ(out[0], 0x89);
    cw_frame_header(out, CW_OP_PONG, 1, 0, NULL);
    CHECK_EQ(out[0], 0x8A);
    /* RFC 6455 5.7: unmasked "Hello" */
    uint8_t f[16];
    size_t n = cw_frame_header(f, CW_OP_TEXT, 1, 5, NULL);
    memcpy(f + n, "Hello", 5);
    CHECK_EQ(n + 5, 7);
    CHECK_MEM(f, "\x81\x05\x48\x65\x6c\x6c\x6f", 7);
}

/* ---- parsing ---- */

static void test_parse_round_trip(void)
{
    for (size_t i = 0; i < NLENS; i++) {
        for (int masked = 0; masked < 2; masked++) {
            for (unsigned op = 0; op < 3; op++) {
                for (int fin = 0; fin < 2; fin++) {
                    uint8_t h[CW_FRAME_MAX_HEADER + 4];
                    size_t n = cw_frame_header(h, op, fin, lens[i].len, masked ? key : NULL);
                    memset(h + n, 0x55, 4); /* payload bytes after the header */
                    cw_frame_hdr fh;
                    memset(&fh, 0xCC, sizeof fh);
                    int r = cw_frame_parse(h, n + 4, masked, &fh);
                    CHECK_EQ(r, (int)n);
                    CHECK_EQ(fh.hdr_len, n);
                    CHECK_EQ(fh.len, lens[i].len);
                    CHECK_EQ(fh.opcode, op);
                    CHECK_EQ(fh.fin, fin);
                    CHECK_EQ(fh.masked, masked);
                    if (masked)
                        CHECK_MEM(fh.mask, key, 4);
                    else
                        CHECK_MEM(fh.mask, "\0\0\0\0", 4);
                    /* the exact header length is enough */
                    CHECK_EQ(cw_frame_parse(h, n, masked, &fh), (int)n);
                }
            }
        }
    }
    /* RFC 6455 5.7 masked "Hello" */
    const uint8_t m[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    cw_frame_hdr fh;
    CHECK_EQ(cw_frame_parse(m, sizeof m, 1, &fh), 6);
    CHECK_EQ(fh.len, 5);
    CHECK_EQ(fh.opcode, CW_OP_TEXT);
    CHECK_EQ(fh.fin, 1);
    uint8_t p[5];
    memcpy(p, m + 6, 5);
    cw_frame_mask(p, 5, fh.mask, 0);
    CHECK_MEM(p, "Hello", 5);
    /* RFC 6455 5.7: fragmented unmasked "Hel" + "lo" */
    CHECK_EQ(cw_frame_parse((const uint8_t *)"\x01\x03Hel", 5, 0, &fh), 2);
    CHECK_EQ(fh.fin, 0);
    CHECK_EQ(fh.opcode, CW_OP_TEXT);
    CHECK_EQ(fh.len, 3);
    CHECK_EQ(cw_frame_parse((const uint8_t *)"\x80\x02lo", 4, 0, &fh), 2);
    CHECK_EQ(fh.fin, 1);
    CHECK_EQ(fh.opcode, CW_OP_CONT);
    /* ping "Hello" unmasked, and 256 / 65536 byte binary headers */
    CHECK_EQ(cw_frame_parse((const uint8_t *)"\x89\x05Hello", 7, 0, &fh), 2);
    CHECK_EQ(fh.opcode, CW_OP_PING);
    CHECK_EQ(cw_frame_parse((const uint8_t *)"\x82\x7E\x01\x00", 4, 0, &fh), 4);
    CHECK_EQ(fh.len, 256);
    CHECK_EQ(cw_frame_parse((const uint8_t *)"\x82\x7F\x00\x00\x00\x00\x00\x01\x00\x00", 10, 0, &fh), 10);
    CHECK_EQ(fh.len, 65536);
}

static void test_parse_incomplete(void)
{
    /* Every proper prefix of every header needs more bytes. */
    for (size_t i = 0; i < NLENS; i++) {
        for (int masked = 0; masked < 2; masked++) {
            uint8_t h[CW_FRAME_MAX_HEADER];
            size_t n = cw_frame_header(h, CW_OP_BINARY, 1, lens[i].len, masked ? key : NULL);
            for (size_t k = 0; k < n; k++) {
                cw_frame_hdr fh;
                CHECK_EQ(cw_frame_parse(h, k, masked, &fh), 0);
            }
        }
    }
    /* control frames too */
    uint8_t h[CW_FRAME_MAX_HEADER];
    size_t n = cw_frame_header(h, CW_OP_CLOSE, 1, 125, key);
    CHECK_EQ(n, 6);
    for (size_t k = 0; k < n; k++) {
        cw_frame_hdr fh;
        CHECK_EQ(cw_frame_parse(h, k, 1, &fh), 0);
    }
    cw_frame_hdr fh;
    CHECK_EQ(cw_frame_parse(NULL, 0, 1, &fh), 0);
}

static void test_parse_opcodes(void)
{
    for (unsigned op = 0; op < 16; op++) {
        uint8_t f[8] = {(uint8_t)(0x80 | op), 0x80, 1, 2, 3, 4};
        cw_frame_hdr fh;
        int r = cw_frame_parse(f, 6, 1, &fh);
        int known = op <= 2 || (op >= 8 && op <= 10);
        if (known) {
            CHECK_EQ(r, 6);
            CHECK_EQ(fh.opcode, op);
        } else {
            CHECK_EQ(r, -1002);
        }
        /* a reserved opcode is refused as soon as the two first bytes are in */
        if (!known)
            CHECK_EQ(cw_frame_parse(f, 2, 1, &fh), -1002);
        /* FIN clear: data frames fine, control frames refused */
        f[0] = (uint8_t)op;
        r = cw_frame_parse(f, 6, 1, &fh);
        if (op <= 2)
            CHECK_EQ(r, 6);
        else
            CHECK_EQ(r, -1002);
    }
}

static void test_parse_rsv_bits(void)
{
    for (unsigned rsv = 1; rsv < 8; rsv++) {
        for (unsigned op = 0; op < 16; op++) {
            uint8_t f[6] = {(uint8_t)(0x80 | rsv << 4 | op), 0x80, 0, 0, 0, 0};
            cw_frame_hdr fh;
            CHECK_EQ(cw_frame_parse(f, 6, 1, &fh), -1002);
            CHECK_EQ(cw_frame_parse(f, 2, 1, &fh), -1002);
        }
    }
}

static void test_parse_control_rules(void)
{
    cw_frame_hdr fh;
    for (unsigned op = 8; op <= 10; op++) {
        /* 125 is the largest control payload */
        uint8_t f[14] = {(uint8_t)(0x80 | op), 0x80 | 125, 1, 2, 3, 4};
        CHECK_EQ(cw_frame_parse(f, 6, 1, &fh), 6);
        CHECK_EQ(fh.len, 125);
        /* 126 in the 7-bit field, even with a small 16-bit length */
        uint8_t g[8] = {(uint8_t)(0x80 | op), 0x80 | 126, 0x00, 0x05, 1, 2, 3, 4};
        CHECK_EQ(cw_frame_parse(g, 8, 1, &fh), -1002);
        CHECK_EQ(cw_frame_parse(g, 2, 1, &fh), -1002); /* known from two bytes */
        uint8_t k[14] = {(uint8_t)(0x80 | op), 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4};
        CHECK_EQ(cw_frame_parse(k, 14, 1, &fh), -1002);
        /* fragmented control frame */
        uint8_t m[6] = {(uint8_t)op, 0x80, 1, 2, 3, 4};
        CHECK_EQ(cw_frame_parse(m, 6, 1, &fh), -1002);
        CHECK_EQ(cw_frame_parse(m, 2, 1, &fh), -1002);
    }
    /* data frames may be larger than 125 */
    uint8_t d[8] = {0x82, 0x80 | 126, 0x00, 0x7E, 1, 2, 3, 4};
    CHECK_EQ(cw_frame_parse(d, 8, 1, &fh), 8);
    CHECK_EQ(fh.len, 126);
}

static void test_parse_masking_rules(void)
{
    cw_frame_hdr fh;
    /* unmasked client frame refused when a mask is required */
    CHECK_EQ(cw_frame_parse((const uint8_t *)"\x81\x05Hello", 7, 1, &fh), -1002);
    CHECK_EQ(cw_frame_parse((const uint8_t *)"\x81\x05", 2, 1, &fh), -1002);
    CHECK_EQ(cw_frame_parse((const uint8_t *)"\x89\x00", 2, 1, &fh), -1002);
    /* accepted when not required */
    CHECK_EQ(cw_frame_parse((const uint8_t *)"\x81\x05Hello", 7, 0, &fh), 2);
    CHECK_EQ(fh.masked, 0);
    /* a masked frame is fine either way */
    const uint8_t m[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d};
    CHECK_EQ(cw_frame_parse(m, 6, 0, &fh), 6);
    CHECK_EQ(fh.masked, 1);
    CHECK_EQ(cw_frame_parse(m, 5, 0, &fh), 0); /* the key is part of the header */
}

static void test_parse_64bit_msb(void)
{
    cw_frame_hdr fh;
    uint8_t f[14] = {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
    CHECK_EQ(cw_frame_parse(f, 14, 1, &fh), -1002);
    f[2] = 0xFF;
    CHECK_EQ(cw_frame_parse(f, 14, 1, &fh), -1002);
    /* incomplete: still waiting, the length is not known yet */
    for (size_t k = 0; k < 14; k++)
        CHECK_EQ(cw_frame_parse(f, k, 1, &fh), 0);
    /* largest allowed */
    f[2] = 0x7F;
    for (int i = 3; i < 10; i++)
        f[i] = 0xFF;
    CHECK_EQ(cw_frame_parse(f, 14, 1, &fh), 14);
    CHECK_EQ(fh.len, 0x7FFFFFFFFFFFFFFFull);
    CHECK_MEM(fh.mask, "\x01\x02\x03\x04", 4);
}

/* ---- masking ---- */

static void ref_mask(uint8_t *p, size_t n, const uint8_t k[4], size_t off)
{
    for (size_t i = 0; i < n; i++)
        p[i] ^= k[(off + i) % 4];
}

static void test_mask_alignments(void)
{
    static _Alignas(16) uint8_t buf[160], want[160], orig[160];
    const uint8_t k[4] = {0xDE, 0xAD, 0xBE, 0xEF};
    int bad = 0;
    for (size_t align = 0; align < 16; align++) {
        for (size_t n = 0; n <= 100; n++) {
            for (size_t off = 0; off < 8; off++) {
                for (size_t i = 0; i < sizeof buf; i++)
                    orig[i] = (uint8_t)(i * 7 + align + n);
                memcpy(buf, orig, sizeof buf);
                memcpy(want, orig, sizeof want);
                ref_mask(want + align, n, k, off);
                cw_frame_mask(buf + align, n, k, off);
                if (memcmp(buf, want, sizeof buf) != 0) /* also: nothing outside touched */
                    bad++;
                cw_frame_mask(buf + align, n, k, off);
                if (memcmp(buf, orig, sizeof buf) != 0)
                    bad++;
            }
        }
    }
    CHECK_EQ(bad, 0);
}

static void test_mask_streamed(void)
{
    /* Masking in pieces, carrying the key position, equals masking at once. */
    uint8_t a[1000], b[1000];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = b[i] = (uint8_t)rng();
    cw_frame_mask(a, sizeof a, key, 0);
    size_t pos = 0;
    while (pos < sizeof b) {
        size_t n = 1 + rng() % 37;
        if (n > sizeof b - pos)
            n = sizeof b - pos;
        cw_frame_mask(b + pos, n, key, pos & 3);
        pos += n;
    }
    CHECK_MEM(a, b, sizeof a);
    /* a known value: zeros masked give the key repeated */
    uint8_t z[9] = {0};
    cw_frame_mask(z, 9, key, 1);
    CHECK_MEM(z, "\xFA\x21\x3D\x37\xFA\x21\x3D\x37\xFA", 9);
    /* n = 0 touches nothing */
    uint8_t one = 0x42;
    cw_frame_mask(&one, 0, key, 0);
    CHECK_EQ(one, 0x42);
}

/* ---- close codes and payloads ---- */

static int ref_close_valid(unsigned c)
{
    /* RFC 6455 7.4.1 plus the IANA registry (1012-1014); 1004, 1005, 1006
     * and 1015 never on the wire; 1016-2999 unassigned; 3000-4999 open. */
    return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

static void test_close_code_classes(void)
{
    static const struct {
        unsigned code;
        int valid;
    } v[] = {
        {0, 0},    {1, 0},    {999, 0},  {1000, 1}, {1001, 1}, {1002, 1}, {1003, 1},
        {1004, 0}, {1005, 0}, {1006, 0}, {1007, 1}, {1008, 1}, {1009, 1}, {1010, 1},
        {1011, 1}, {1012, 1}, {1013, 1}, {1014, 1}, {1015, 0}, {1016, 0}, {1100, 0},
        {2000, 0}, {2999, 0}, {3000, 1}, {3999, 1}, {4000, 1}, {4999, 1}, {5000, 0},
        {65535, 0},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        if (cw_frame_close_valid(v[i].code) != v[i].valid)
            fprintf(stderr, "  close code %u\n", v[i].code);
        CHECK_EQ(cw_frame_close_valid(v[i].code), v[i].valid);
    }
    int bad = 0;
    for (unsigned c = 0; c <= 70000; c++)
        bad += cw_frame_close_valid(c) != ref_close_valid(c);
    CHECK_EQ(bad, 0);
}

static void test_close_parse(void)
{
    uint16_t code = 0;
    /* empty: no status */
    CHECK_EQ(cw_frame_close_parse(NULL, 0, &code), 0);
    CHECK_EQ(code, CW_CLOSE_NO_STATUS);
    /* one byte: protocol error */
    CHECK_EQ(cw_frame_close_parse((const uint8_t *)"\x03", 1, &code), 1002);
    CHECK_EQ(cw_frame_close_parse((const uint8_t *)"\x03\xE8", 1, &code), 1002); /* a good code cut short */
    /* code only */
    code = 0;
    CHECK_EQ(cw_frame_close_parse((const uint8_t *)"\x03\xE8", 2, &code), 0);
    CHECK_EQ(code, 1000);
    CHECK_EQ(cw_frame_close_parse((const uint8_t *)"\x0F\x9F", 2, &code), 0);
    CHECK_EQ(code, 3999);
    CHECK_EQ(cw_frame_close_parse((const uint8_t *)"\x13\x87", 2, &code), 0);
    CHECK_EQ(code, 4999);
    /* code and a UTF-8 reason */
    CHECK_EQ(cw_frame_close_parse((const uint8_t *)"\x03\xE9" "bye \xCE\xBA\xE1\xBD\xB9", 11, &code), 0);
    CHECK_EQ(code, 1001);
    /* codes that may not be sent: 1002 whatever the reason */
    static const unsigned badc[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535};
    for (size_t i = 0; i < sizeof badc / sizeof badc[0]; i++) {
        uint8_t p[4] = {(uint8_t)(badc[i] >> 8), (uint8_t)badc[i], 'o', 'k'};
        CHECK_EQ(cw_frame_close_parse(p, 2, &code), 1002);
        CHECK_EQ(cw_frame_close_parse(p, 4, &code), 1002);
    }
    /* every valid code is taken back unchanged */
    for (unsigned c = 0; c < 65536; c++) {
        if (!ref_close_valid(c))
            continue;
        uint8_t p[2] = {(uint8_t)(c >> 8), (uint8_t)c};
        code = 0;
        if (cw_frame_close_parse(p, 2, &code) != 0 || code != c) {
            CHECK_EQ(code, c);
            break;
        }
    }
    /* invalid UTF-8 reasons: 1007 */
    static const char *badr[] = {"\xFF", "\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "ok\xCE", "\x80"};
    for (size_t i = 0; i < sizeof badr / sizeof badr[0]; i++) {
        uint8_t p[16] = {0x03, 0xE8};
        size_t n = strlen(badr[i]);
        memcpy(p + 2, badr[i], n);
        CHECK_EQ(cw_frame_close_parse(p, 2 + n, &code), 1007);
    }
    /* the largest control payload: code + 123 bytes of reason */
    uint8_t big[125] = {0x03, 0xE8};
    memset(big + 2, 'x', 123);
    CHECK_EQ(cw_frame_close_parse(big, 125, &code), 0);
    CHECK_EQ(code, 1000);
    /* a bad code wins over a bad reason */
    CHECK_EQ(cw_frame_close_parse((const uint8_t *)"\x03\xED\xFF", 3, &code), 1002);
}

int main(void)
{
    RUN(test_header_lengths_exact);
    RUN(test_header_first_byte);
    RUN(test_parse_round_trip);
    RUN(test_parse_incomplete);
    RUN(test_parse_opcodes);
    RUN(test_parse_rsv_bits);
    RUN(test_parse_control_rules);
    RUN(test_parse_masking_rules);
    RUN(test_parse_64bit_msb);
    RUN(test_mask_alignments);
    RUN(test_mask_streamed);
    RUN(test_close_code_classes);
    RUN(test_close_parse);
    return cw_unit_done();
}
