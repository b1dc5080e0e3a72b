/* SPDX-License-Identifier: MIT */
/* itest_wire.c: byte-exact cases against the real daemon with the project's
 * own client: chopped writes, pings inside fragmented messages, 1000-fragment
 * messages, 10,000 pipelined echoes, 200 concurrent clients, clients that
 * vanish mid-frame, a client that stops reading, and SIGTERM with clients. */
#include "unit.h"
#include "wsclient.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ECHO "/ws/echo/"

static cw_wsc_daemon shared;      /* the daemon most cases talk to */
static const cw_wsc_daemon *cur;  /* the one whose log a failure shows */
static int dumped;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int T(int ms)
{
    return cw_wsc_ms(ms);
}

/* A failed step: counts as a failed check, says why, shows the daemon log once. */
static int ok_(long rc, const cw_wsc *c, const char *expr, const char *file, int line)
{
    if (rc >= 0)
        return 1;
    cw_unit_check(0, expr, file, line);
    fprintf(stderr, "    -> %ld: %s\n", rc, c ? c->err : "");
    if (!dumped && cur) {
        cw_wsc_daemon_dump(cur, 3000);
        dumped = 1;
    }
    return 0;
}
#define OK(c, expr)                                                                               \
    do {                                                                                          \
        if (!ok_((long)(expr), (c), #expr, __FILE__, __LINE__))                                   \
            goto out;                                                                             \
    } while (0)
/* A condition that must hold for the case to go on. */
#define NEED(cond)                                                                                \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            ok_(-1, NULL, #cond, __FILE__, __LINE__);                                             \
            goto out;                                                                             \
        }                                                                                         \
    } while (0)

static void fill_pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)((i * 31u + seed * 7u + (i >> 8)) & 0xFF);
}

static void fill_text(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)('a' + (i + seed) % 26);
}

static uint8_t big_a[1 << 20], big_b[1 << 20];

/* ---------------------------------------------------------------------- */
/* The client's own codec, checked against RFC vectors first.             */
/* ---------------------------------------------------------------------- */

static void client_codec(void)
{
    uint8_t d[20];
    static const uint8_t abc[20] = {0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
                                    0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d};
    cw_wsc_sha1("abc", 3, d);
    CHECK_MEM(d, abc, 20);
    static const uint8_t two[20] = {0x84, 0x98, 0x3e, 0x44, 0x1c, 0x3b, 0xd2, 0x6e, 0xba, 0xae,
                                    0x4a, 0xa1, 0xf9, 0x51, 0x29, 0xe5, 0xe5, 0x46, 0x70, 0xf1};
    const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    cw_wsc_sha1(m2, strlen(m2), d);
    CHECK_MEM(d, two, 20);
    char acc[CW_WSC_ACCEPT_LEN + 1];
    cw_wsc_accept_for("dGhlIHNhbXBsZSBub25jZQ==", acc); /* RFC 6455 section 1.3 */
    CHECK(strcmp(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
    char b64[16];
    cw_wsc_base64((const uint8_t *)"fo", 2, b64);
    CHECK(strcmp(b64, "Zm8=") == 0);

    /* RFC 6455 section 5.7: a masked "Hello". */
    static const uint8_t hello[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    uint8_t out[64];
    CHECK_EQ(cw_wsc_encode(out, sizeof out, CW_WSC_TEXT, 1, 0, "Hello", 5, key), sizeof hello);
    CHECK_MEM(out, hello, sizeof hello);
    CHECK_EQ(cw_wsc_encode(out, 10, CW_WSC_TEXT, 1, 0, "Hello", 5, key), 0);
    cw_wsc_frame f;
    CHECK_EQ(cw_wsc_decode(hello, sizeof hello, &f), 1);
    CHECK_EQ(f.opcode, CW_WSC_TEXT);
    CHECK_EQ(f.masked, 1);
    CHECK_EQ(f.len, 5);
    CHECK_EQ(cw_wsc_decode(hello, sizeof hello - 1, &f), 0);
    CHECK_EQ(f.hdr_len, 6);
    /* Length forms at their edges. */
    static const uint64_t lens[] = {0, 125, 126, 65535, 65536};
    for (unsigned i = 0; i < 5; i++) {
        uint8_t h[CW_WSC_MAX_HEADER];
        size_t hl = cw_wsc_encode_header(h, CW_WSC_BINARY, 0, 5, lens[i], NULL);
        CHECK_EQ(hl, lens[i] < 126 ? 2 : lens[i] < 65536 ? 4 : 10);
        CHECK_EQ(hl + lens[i], cw_wsc_frame_size(lens[i], 0));
        CHECK_EQ(cw_wsc_decode(h, hl, &f), lens[i] == 0);
        CHECK_EQ(f.len, lens[i]);
        CHECK_EQ(f.rsv, 5);
        CHECK_EQ(f.fin, 0);
    }
    static const uint8_t huge[10] = {0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0};
    CHECK_EQ(cw_wsc_decode(huge, 10, &f), CW_WSC_EPROTO);
    uint8_t cp[125];
    int code;
    const uint8_t *reason;
    size_t rl;
    size_t cl = cw_wsc_close_payload(cp, 1001, "bye");
    cw_wsc_close_parse(cp, cl, &code, &reason, &rl);
    CHECK_EQ(code, 1001);
    CHECK(rl == 3 && memcmp(reason, "bye", 3) == 0);
    cw_wsc_close_parse(cp, 0, &code, &reason, &rl);
    CHECK_EQ(code, CW_WSC_NO_STATUS);
    static const char resp[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                               "connection:  Upgrade \r\n\r\nXX";
    int st;
    CHECK_EQ(cw_wsc_response_head(resp, sizeof resp - 1, &st), sizeof resp - 3);
    CHECK_EQ(st, 101);
    CHECK_EQ(cw_wsc_response_head(resp, 20, &st), 0);
    CHECK_EQ(cw_wsc_response_head("SMTP/1.1 200 OK\r\n\r\n", 19, &st), CW_WSC_EPROTO);
    size_t vl;
    const char *v = cw_wsc_header(resp, sizeof resp - 3, "Connection", &vl);
    CHECK(v && vl == 7 && memcmp(v, "Upgrade", 7) == 0);
    CHECK(cw_wsc_header(resp, sizeof resp - 3, "Sec-WebSocket-Accept", &vl) == NULL);
}

/* ---------------------------------------------------------------------- */
/* Chopped writes                                                         */
/* ---------------------------------------------------------------------- */

static void handshake_one_byte_writes(void)
{
    static uint8_t buf[4096];
    cw_wsc c;
    cw_wsc_init(&c, buf, sizeof buf);
    c.chunk = 1;
    c.gap_us = 300;
    OK(&c, cw_wsc_open(&c, shared.port, ECHO));
    OK(&c, cw_wsc_echo(&c, CW_WSC_TEXT, "one byte at a time", 18));
    {
        uint8_t got[64];
        size_t len;
        int op;
        OK(&c, cw_wsc_send_frame(&c, CW_WSC_BINARY, 0, "two ", 4));
        OK(&c, cw_wsc_send_frame(&c, CW_WSC_CONT, 1, "parts", 5));
        OK(&c, cw_wsc_recv_message(&c, &op, got, sizeof got, &len));
        CHECK_EQ(op, CW_WSC_BINARY);
        CHECK(len == 9 && memcmp(got, "two parts", 9) == 0);
    }
    OK(&c, cw_wsc_close_handshake(&c, 1000));
out:
    cw_wsc_close_socket(&c, 0);
}

static void frames_one_byte_writes(void)
{
    static uint8_t buf[70000];
    static const size_t lens[] = {0, 1, 5, 125, 126, 127, 1000, 4096, 65535, 65536};
    cw_wsc c;
    cw_wsc_init(&c, buf, sizeof buf);
    OK(&c, cw_wsc_open(&c, shared.port, ECHO));
    c.chunk = 1;
    for (unsigned i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        unsigned op = i % 2 ? CW_WSC_BINARY : CW_WSC_TEXT;
        if (op == CW_WSC_TEXT)
            fill_text(big_a, lens[i], i);
        else
            fill_pattern(big_a, lens[i], i);
        /* Small frames with a pause after each byte, so the server really
         * sees every partial header; big ones back to back. */
        c.gap_us = lens[i] <= 1000 ? 200 : 0;
        OK(&c, cw_wsc_echo(&c, op, big_a, lens[i]));
    }
    c.gap_us = 200;
    OK(&c, cw_wsc_send_frame(&c, CW_WSC_PING, 1, "ping!", 5));
    OK(&c, cw_wsc_expect_pong(&c, "ping!", 5));
    OK(&c, cw_wsc_close_handshake(&c, 1000));
out:
    cw_wsc_close_socket(&c, 0);
}

/* 60 frames in one stream, written in chunks of 1..13 bytes so chunk
 * boundaries fall at every offset of headers, masks and payloads. */
static void frames_odd_chunks(void)
{
    static uint8_t buf[65536], stream[60 * 600];
    cw_wsc c;
    cw_wsc_init(&c, buf, sizeof buf);
    OK(&c, cw_wsc_open(&c, shared.port, ECHO));
    size_t n = 0;
    uint8_t pay[600];
    for (unsigned i = 0; i < 60; i++) {
        size_t len = (i * 53) % 300 + (i % 5 == 0 ? 200 : 0);
        fill_pattern(pay, len, i);
        uint8_t key[4];
        cw_wsc_random(&c, key, 4);
        n += cw_wsc_encode(stream + n, sizeof stream - n, CW_WSC_BINARY, 1, 0, pay, len, key);
    }
    for (size_t off = 0, k = 1; off < n; off += k, k = k % 13 + 1) {
        size_t take = n - off < k ? n - off : k;
        OK(&c, cw_wsc_send_raw(&c, stream + off, take));
        if (off % 7 == 0)
            sleep_ms(0);
    }
    for (unsigned i = 0; i < 60; i++) {
        size_t len = (i * 53) % 300 + (i % 5 == 0 ? 200 : 0);
        fill_pattern(pay, len, i);
        OK(&c, cw_wsc_expect_message(&c, CW_WSC_BINARY, pay, len));
    }
    OK(&c, cw_wsc_close_handshake(&c, 1000));
out:
    cw_wsc_close_socket(&c, 0);
}

/* The request and the first frames in one write (and then the same one
 * byte per write): frames behind the head are parsed from the request
 * buffer, including a 20 KB frame that does not fit in it. */
static void handshake_with_pipelined_frames_mode(size_t chunk)
{
    static uint8_t buf[65536], stream[40000];
    char key[CW_WSC_KEY_LEN + 1], want[CW_WSC_ACCEPT_LEN + 1], host[32], head[1024];
    uint8_t raw[16], k4[4];
    cw_wsc c;
    cw_wsc_init(&c, buf, sizeof buf);
    OK(&c, cw_wsc_connect(&c, shared.port));
    cw_wsc_random(&c, raw, 16);
    cw_wsc_base64(raw, 16, key);
    snprintf(host, sizeof host, "127.0.0.1:%d", shared.port);
    size_t n = cw_wsc_request((char *)stream, sizeof stream, ECHO, host, key, NULL);
    cw_wsc_random(&c, k4, 4);
    n += cw_wsc_encode(stream + n, sizeof stream - n, CW_WSC_TEXT, 1, 0, "first", 5, k4);
    n += cw_wsc_encode(stream + n, sizeof stream - n, CW_WSC_PING, 1, 0, "pp", 2, k4);
    fill_pattern(big_a, 20000, 5);
    n += cw_wsc_encode(stream + n, sizeof stream - n, CW_WSC_BINARY, 1, 0, big_a, 20000, k4);
    for (unsigned i = 0; i < 100; i++)
        n += cw_wsc_encode(stream + n, sizeof stream - n, CW_WSC_BINARY, 1, 0, big_a + i, 3, k4);
    OK(&c, cw_wsc_send_chunked(&c, stream, n, chunk, 0));
    OK(&c, cw_wsc_http(&c, "", 0, head, sizeof head));
    NEED(c.http_status == 101);
    size_t vl;
    const char *v = cw_wsc_header(head, strlen(head), "Sec-WebSocket-Accept", &vl);
    cw_wsc_accept_for(key, want);
    NEED(v && vl == CW_WSC_ACCEPT_LEN && memcmp(v, want, vl) == 0);
    OK(&c, cw_wsc_expect_message(&c, CW_WSC_TEXT, "first", 5));
    OK(&c, cw_wsc_expect_pong(&c, "pp", 2));
    OK(&c, cw_wsc_expect_message(&c, CW_WSC_BINARY, big_a, 20000));
    for (unsigned i = 0; i < 100; i++)
        OK(&c, cw_wsc_expect_message(&c, CW_WSC_BINARY, big_a + i, 3));
    OK(&c, cw_wsc_close_handshake(&c, 1000));
out:
    cw_wsc_close_socket(&c, 0);
}

static void handshake_with_pipelined_frames_one_write(void)
{
    handshake_with_pipelined_frames_mode(0);
}

static void handshake_with_pipelined_frames_byte_per_write(void)
{
    handshake_with_pipelined_frames_mode(1);
}

/* [message, close, message] in one write: the first is echoed, the close
 * answered, the last ignored, and nothing follows the close. */
static void nothing_after_close(void)
{
    static uint8_t buf[4096], stream[256];
    uint8_t k4[4], cp[125];
    cw_wsc c;
    cw_wsc_init(&c, buf, sizeof buf);
    OK(&c, cw_wsc_open(&c, shared.port, ECHO));
    cw_wsc_random(&c, k4, 4);
    size_t n = cw_wsc_encode(stream, sizeof stream, CW_WSC_TEXT, 1, 0, "before", 6, k4);
    size_t cl = cw_wsc_close_payload(cp, 4000, "custom");
    n += cw_wsc_encode(stream + n, sizeof stream - n, CW_WSC_CLOSE, 1, 0, cp, cl, k4);
    n += cw_wsc_encode(stream + n, sizeof stream - n, CW_WSC_TEXT, 1, 0, "after", 5, k4);
    OK(&c, cw_wsc_send_raw(&c, stream, n));
    OK(&c, cw_wsc_expect_message(&c, CW_WSC_TEXT, "before", 6));
    OK(&c, cw_wsc_expect_close(&c, 4000));
    OK(&c, cw_wsc_expect_eof(&c));
out:
    cw_wsc_close_socket(&c, 0);
}

/* ---------------------------------------------------------------------- */
/* Pings inside a fragmented message                                      */
/* ---------------------------------------------------------------------- */

/* mode 0: all frames in one write; 1: one write per frame; 2: one byte per write. */
static void pings_inside_fragments_mode(int mode)
{
    static uint8_t buf[8192], stream[4096];
    static const char *const parts[] = {"frag-one|", "frag-two|", "", "frag-three"};
    static const char *const pings[] = {"p1", "", "p3-with-a-longer-payload"};
    uint8_t p125[125];
    fill_pattern(p125, sizeof p125, 9);
    cw_wsc c;
    cw_wsc_init(&c, buf, sizeof buf);
    OK(&c, cw_wsc_open(&c, shared.port, ECHO));
    size_t n = 0;
    size_t ends[16];
    unsigned nf = 0;
    for (unsigned i = 0; i < 4; i++) {
        uint8_t key[4];
        cw_wsc_random(&c, key, 4);
        n += cw_wsc_encode(stream + n, sizeof stream - n, i ? CW_WSC_CONT : CW_WSC_TEXT, i == 3, 0,
                           parts[i], strlen(parts[i]), key);
        ends[nf++] = n;
        if (i < 3) {
            cw_wsc_random(&c, key, 4);
            n += cw_wsc_encode(stream + n, sizeof stream - n, CW_WSC_PING, 1, 0, pings[i],
                               strlen(pings[i]), key);
            ends[nf++] = n;
        }
        if (i == 1) { /* an unsolicited pong, which the server must ignore */
            cw_wsc_random(&c, key, 4);
            n += cw_wsc_encode(stream + n, sizeof stream - n, CW_WSC_PONG, 1, 0, "u", 1, key);
            ends[nf++] = n;
        }
        if (i == 2) { /* and a ping of the largest allowed size */
            cw_wsc_random(&c, key, 4);
            n += cw_wsc_encode(stream + n, sizeof stream - n, CW_WSC_PING, 1, 0, p125, 125, key);
            ends[nf++] = n;
        }
    }
    if (mode == 0) {
        OK(&c, cw_wsc_send_raw(&c, stream, n));
    } else if (mode == 1) {
        for (unsigned i = 0, start = 0; i < nf; start = (unsigned)ends[i], i++) {
            OK(&c, cw_wsc_send_raw(&c, stream + start, ends[i] - start));
            sleep_ms(2);
        }
    } else {
        OK(&c, cw_wsc_send_chunked(&c, stream, n, 1, 100));
    }
    OK(&c, cw_wsc_expect_pong(&c, pings[0], strlen(pings[0])));
    OK(&c, cw_wsc_expect_pong(&c, pings[1], strlen(pings[1])));
    OK(&c, cw_wsc_expect_pong(&c, pings[2], strlen(pings[2])));
    OK(&c, cw_wsc_expect_pong(&c, p125, 125));
    OK(&c, cw_wsc_expect_message(&c, CW_WSC_TEXT, "frag-one|frag-two|frag-three", 28));
    OK(&c, cw_wsc_expect_silence(&c, T(50)));
    OK(&c, cw_wsc_close_handshake(&c, 1000));
out:
    cw_wsc_close_socket(&c, 0);
}

static void pings_inside_fragments_one_write(void)
{
    pings_inside_fragments_mode(0);
}

static void pings_inside_fragments_frame_per_write(void)
{
    pings_inside_fragments_mode(1);
}

static void pings_inside_fragments_byte_per_write(void)
{
    pings_inside_fragments_mode(2);
}

/* ---------------------------------------------------------------------- */
/* 1000 one-byte fragments                                                */
/* ---------------------------------------------------------------------- */

static size_t encode_fragments(cw_wsc *c, uint8_t *out, size_t cap, unsigned op, const uint8_t *p,
                               size_t n, size_t per, size_t *ends)
{
    size_t o = 0;
    unsigned k = 0;
    for (size_t i = 0; i < n; i += per, k++) {
        size_t len = n - i < per ? n - i : per;
        uint8_t key[4];
        cw_wsc_random(c, key, 4);
        o += cw_wsc_encode(out + o, cap - o, i ? CW_WSC_CONT : op, i + len == n, 0, p + i, len, key);
        if (ends)
            ends[k] = o;
    }
    return o;
}

static void thousand_fragments_binary_one_write(void)
{
    static uint8_t buf[8192], stream[1000 * 8], pay[1000];
    cw_wsc c;
    cw_wsc_init(&c, buf, sizeof buf);
    fill_pattern(pay, sizeof pay, 3);
    OK(&c, cw_wsc_open(&c, shared.port, ECHO));
    size_t n = encode_fragments(&c, stream, sizeof stream, CW_WSC_BINARY, pay, 1000, 1, NULL);
    CHECK_EQ(n, 7000);
    OK(&c, cw_wsc_send_raw(&c, stream, n));
    OK(&c, cw_wsc_expect_message(&c, CW_WSC_BINARY, pay, 1000));
    OK(&c, cw_wsc_echo(&c, CW_WSC_TEXT, "after", 5));
    OK(&c, cw_wsc_close_handshake(&c, 1000));
out:
    cw_wsc_close_socket(&c, 0);
}

/* Text whose multi-byte characters are split across one-byte fragments:
 * UTF-8 validation must carry its state from fragment to fragment. */
static void thousand_fragments_utf8_frame_per_write(void)
{
    static uint8_t buf[8192], stream[1000 * 8], pay[1000];
    static size_t ends[1000];
    static const char unit[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"; /* a é € 😀 = 10 bytes */
    for (unsigned i = 0; i < 100; i++)
        memcpy(pay + 10 * i, unit, 10);
    cw_wsc c;
    cw_wsc_init(&c, buf, sizeof buf);
    OK(&c, cw_wsc_open(&c, shared.port, ECHO));
    size_t n = encode_fragments(&c, stream, sizeof stream, CW_WSC_TEXT, pay, 1000, 1, ends);
    size_t start = 0;
    for (unsigned i = 0; i < 1000; i++) {
        OK(&c, cw_wsc_send_raw(&c, stream + start, ends[i] - start));
        start = ends[i];
    }
    CHECK_EQ(start, n);
    OK(&c, cw_wsc_expect_message(&c, CW_WSC_TEXT, pay, 1000));
    OK(&c, cw_wsc_close_handshake(&c, 1000));
out:
    cw_wsc_close_socket(&c, 0);
}

/* Fragments that grow from 1 byte to 200 KB (the reassembly buffer is
 * traded for a bigger one on the way), split inside UTF-8 sequences, with
 * pings between them; sent in one write and in 997-byte writes. */
static void fragments_growing_mode(size_t chunk)
{
    static uint8_t buf[1 << 19], stream[300000];
    static const size_t sizes[] = {1, 10, 100, 1000, 5000, 50000, 199999}; /* 25611 units */
    static const char unit[] = "\xf0\x9f\x98\x80\xe2\x82\xac\xc3\xa9z"; /* 😀 € é z */
    size_t total = 0;
    for (unsigned i = 0; i < 7; i++)
        total += sizes[i];
    for (size_t i = 0; i < total; i++)
        big_a[i] = (uint8_t)unit[i % 10];
    cw_wsc c;
    cw_wsc_init(&c, buf, sizeof buf);
    OK(&c, cw_wsc_open(&c, shared.port, ECHO));
    size_t n = 0, off = 0;
    for (unsigned i = 0; i < 7; i++) {
        uint8_t k4[4];
        cw_wsc_random(&c, k4, 4);
        n += cw_wsc_encode(stream + n, sizeof stream - n, i ? CW_WSC_CONT : CW_WSC_TEXT, i == 6, 0,
                           big_a + off, sizes[i], k4);
        off += sizes[i];
        if (i % 2 == 0 && i < 6)
            n += cw_wsc_encode(stream + n, sizeof stream - n, CW_WSC_PING, 1, 0, &i, 1, k4);
    }
    OK(&c, cw_wsc_send_chunked(&c, stream, n, chunk, 0));
    for (unsigned i = 0; i < 6; i += 2)
        OK(&c, cw_wsc_expect_pong(&c, &i, 1));
    OK(&c, cw_wsc_expect_message(&c, CW_WSC_TEXT, big_a, total));
    OK(&c, cw_wsc_close_handshake(&c, 1000));
out:
    cw_wsc_close_socket(&c, 0);
}

static void fragments_growing_one_write(void)
{
    fragments_growing_mode(0);
}

static void fragments_growing_997_byte_writes(void)
{
    fragments_growing_mode(997);
}

/* ---------------------------------------------------------------------- */
/* 10,000 pipelined messages                                              */
/* ---------------------------------------------------------------------- */

#define PIPE_N 10000

static size_t pipe_len(unsigned i)
{
    return (i * 37u) % 200 + (i % 97 == 0 ? 3000 : 0);
}

static unsigned pipe_op(unsigned i)
{
    return i % 3 == 0 ? CW_WSC_TEXT : CW_WSC_BINARY;
}

static void pipe_payload(unsigned i, uint8_t *p)
{
    if (pipe_op(i) == CW_WSC_TEXT)
        fill_text(p, pipe_len(i), i);
    else
        fill_pattern(p, pipe_len(i), i);
}

static void pipelined_10000(void)
{
    static uint8_t buf[1 << 18], out_stream[PIPE_N * 220 + 110 * 3100];
    uint8_t pay[4000];
    cw_wsc c;
    cw_wsc_init(&c, buf, sizeof buf);
    OK(&c, cw_wsc_open(&c, shared.port, ECHO));
    size_t total = 0;
    for (unsigned i = 0; i < PIPE_N; i++) {
        pipe_payload(i, pay);
        uint8_t key[4];
        cw_wsc_random(&c, key, 4);
        size_t w = cw_wsc_encode(out_stream + total, sizeof out_stream - total, pipe_op(i), 1, 0,
                                 pay, pipe_len(i), key);
        NEED(w > 0);
        total += w;
    }
    size_t off = 0;
    unsigned got = 0;
    int64_t deadline = now_ms() + T(60000);
    /* Write everything while reading whatever comes back, so neither side
     * blocks on a full socket buffer. Writes vary in size to cut frames. */
    for (unsigned round = 0; got < PIPE_N && now_ms() < deadline; round++) {
        struct pollfd p = {c.fd, (short)(POLLIN | (off < total ? POLLOUT : 0)), 0};
        if (poll(&p, 1, 100) < 0 && errno != EINTR)
            NEED(0);
        if (p.revents & POLLOUT && off < total) {
            size_t k = 1000 + (round * 7919u) % 60000;
            if (k > total - off)
                k = total - off;
            ssize_t w = cw_wsc_write_some(&c, out_stream + off, k);
            OK(&c, w);
            off += (size_t)w;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            int r = cw_wsc_read_some(&c);
            if (r == CW_WSC_EOF)
                OK(&c, CW_WSC_EOF);
            OK(&c, r);
            cw_wsc_frame f;
            while ((r = cw_wsc_next_frame(&c, &f)) == 1) {
                NEED(got < PIPE_N);
                pipe_payload(got, pay);
                if (f.opcode != pipe_op(got) || !f.fin || f.masked || f.len != pipe_len(got) ||
                    memcmp(f.payload, pay, pipe_len(got)) != 0) {
                    fprintf(stderr, "  message %u: op %u fin %u len %llu (want op %u len %zu)\n",
                            got, f.opcode, f.fin, (unsigned long long)f.len, pipe_op(got),
                            pipe_len(got));
                    NEED(0);
                }
                got++;
            }
            OK(&c, r);
        }
    }
    CHECK_EQ(off, total);
    CHECK_EQ(got, PIPE_N);
    OK(&c, cw_wsc_close_handshake(&c, 1000));
out:
    cw_wsc_close_socket(&c, 0);
}

/* ---------------------------------------------------------------------- */
/* 200 concurrent clients                                                 */
/* ---------------------------------------------------------------------- */

#define NCLI 200
#define ROUNDS 5

static size_t cli_len(unsigned i, unsigned r)
{
    return (i * 131u + r * 977u) % 3000 + 1;
}

static void concurrent_200(void)
{
    static uint8_t bufs[NCLI][8192];
    static cw_wsc cl[NCLI];
    static char keys[NCLI][CW_WSC_KEY_LEN + 1];
    uint8_t pay[3100];
    unsigned opened = 0;
    for (unsigned i = 0; i < NCLI; i++) {
        cw_wsc_init(&cl[i], bufs[i], sizeof bufs[i]);
        /* A crowd comes from several addresses, none over its fair share. */
        cl[i].source = (uint8_t)(1 + i % 8);
    }
    /* All connect and send their requests before any answer is read, with
     * the two-step calls an event loop uses. */
    for (unsigned i = 0; i < NCLI; i++, opened++)
        OK(&cl[i], cw_wsc_connect_start(&cl[i], shared.port));
    for (unsigned i = 0; i < NCLI; i++) {
        struct pollfd p = {cl[i].fd, POLLOUT, 0};
        NEED(poll(&p, 1, T(5000)) == 1);
        OK(&cl[i], cw_wsc_connect_check(&cl[i]));
        OK(&cl[i], cw_wsc_handshake_send(&cl[i], ECHO, "X-Client: many\r\n", keys[i]));
    }
    for (unsigned i = 0; i < NCLI; i++) {
        cw_wsc *c = &cl[i];
        int r;
        while ((r = cw_wsc_handshake_check(c, keys[i])) == 0) {
            struct pollfd p = {c->fd, POLLIN, 0};
            NEED(poll(&p, 1, T(5000)) == 1);
            OK(c, cw_wsc_read_some(c));
        }
        OK(c, r);
        NEED(c->http_status == 101);
    }
    for (unsigned r = 0; r < ROUNDS; r++) {
        for (unsigned i = 0; i < NCLI; i++) {
            unsigned op = (i + r) % 2 ? CW_WSC_BINARY : CW_WSC_TEXT;
            int n = snprintf((char *)pay, sizeof pay, "client %u round %u ", i, r);
            size_t len = cli_len(i, r);
            if ((size_t)n < len)
                fill_text(pay + n, len - (size_t)n, i + r);
            OK(&cl[i], cw_wsc_send_frame(&cl[i], op, 1, pay, len));
        }
        for (unsigned i = 0; i < NCLI; i++) {
            unsigned op = (i + r) % 2 ? CW_WSC_BINARY : CW_WSC_TEXT;
            int n = snprintf((char *)pay, sizeof pay, "client %u round %u ", i, r);
            size_t len = cli_len(i, r);
            if ((size_t)n < len)
                fill_text(pay + n, len - (size_t)n, i + r);
            OK(&cl[i], cw_wsc_expect_message(&cl[i], op, pay, len));
        }
    }
    for (unsigned i = 0; i < NCLI; i++)
        OK(&cl[i], cw_wsc_send_close(&cl[i], 1000, "done"));
    for (unsigned i = 0; i < NCLI; i++) {
        OK(&cl[i], cw_wsc_expect_close(&cl[i], 1000));
        OK(&cl[i], cw_wsc_expect_eof(&cl[i]));
    }
out:
    for (unsigned i = 0; i < opened; i++)
        cw_wsc_close_socket(&cl[i], 0);
}

/* ---------------------------------------------------------------------- */
/* Clients that vanish mid-frame                                          */
/* ---------------------------------------------------------------------- */

#define VANISH_ROUNDS 80

static void vanish_mid_frame(void)
{
    static uint8_t bbuf[65536], vbuf[4096], frame[40000], bframe[2000];
    uint8_t bpay[1500], key[4];
    cw_wsc b, v;
    cw_wsc_init(&b, bbuf, sizeof bbuf);
    cw_wsc_init(&v, vbuf, sizeof vbuf);
    OK(&b, cw_wsc_open(&b, shared.port, ECHO));
    for (unsigned i = 0; i < VANISH_ROUNDS; i++) {
        /* b has half a frame of its own in flight while v vanishes. */
        fill_pattern(bpay, sizeof bpay, i);
        cw_wsc_random(&b, key, 4);
        size_t bn = cw_wsc_encode(bframe, sizeof bframe, CW_WSC_BINARY, 1, 0, bpay, sizeof bpay, key);
        OK(&b, cw_wsc_send_raw(&b, bframe, bn / 2));

        OK(&v, cw_wsc_open(&v, shared.port, ECHO));
        cw_wsc_random(&v, key, 4);
        if (i % 2 == 0) {
            /* The first fragment of a 20 KB message (it needs a message
             * buffer) and half of the second; then gone. 40 of these: more
             * than the message pool holds, so a leaked buffer shows. */
            fill_pattern(big_a, 20000, i);
            size_t n1 = cw_wsc_encode(frame, sizeof frame, CW_WSC_BINARY, 0, 0, big_a, 10000, key);
            size_t n2 = cw_wsc_encode(frame + n1, sizeof frame - n1, CW_WSC_CONT, 1, 0,
                                      big_a + 10000, 10000, key);
            OK(&v, cw_wsc_send_raw(&v, frame, n1 + n2 / 2));
        } else if (i % 4 == 1) {
            fill_pattern(big_a, 1000, i);
            size_t n = cw_wsc_encode(frame, sizeof frame, CW_WSC_TEXT, 1, 0, big_a, 1000, key);
            OK(&v, cw_wsc_send_raw(&v, frame, n / 2));
        } else {
            OK(&v, cw_wsc_send_raw(&v, "\x82", 1)); /* one byte of a header, then a reset */
        }
        cw_wsc_close_socket(&v, i % 4 == 3);

        OK(&b, cw_wsc_send_raw(&b, bframe + bn / 2, bn - bn / 2));
        OK(&b, cw_wsc_expect_message(&b, CW_WSC_BINARY, bpay, sizeof bpay));
    }
    /* Eight fragmented 100 KB messages at once, each needing a message
     * buffer: the vanished clients gave theirs back. */
    {
        static uint8_t mbufs[8][4096];
        static uint8_t mstream[8][110000];
        cw_wsc m[8];
        unsigned nm = 0;
        for (; nm < 8; nm++) {
            cw_wsc_init(&m[nm], mbufs[nm], sizeof mbufs[nm]);
            m[nm].source = (uint8_t)(1 + nm); /* eight clients: none over its share of buffers */
            if (!ok_(cw_wsc_open(&m[nm], shared.port, ECHO), &m[nm], "open", __FILE__, __LINE__))
                break;
        }
        size_t ns[8];
        for (unsigned k = 0; k < nm; k++) {
            fill_pattern(big_a, 100000, k);
            ns[k] = encode_fragments(&m[k], mstream[k], sizeof mstream[k], CW_WSC_BINARY, big_a,
                                     100000, 25000, NULL);
            ok_(cw_wsc_send_raw(&m[k], mstream[k], ns[k] - 100), &m[k], "send", __FILE__, __LINE__);
        }
        for (unsigned k = 0; k < nm; k++)
            ok_(cw_wsc_send_raw(&m[k], mstream[k] + ns[k] - 100, 100), &m[k], "send", __FILE__,
                __LINE__);
        for (unsigned k = 0; k < nm; k++) {
            fill_pattern(big_a, 100000, k);
            /* the echo is one 100 KB frame: read it with the big buffer */
            m[k].buf = big_b;
            m[k].cap = sizeof big_b;
            memcpy(big_b, mbufs[k] + m[k].head, m[k].tail - m[k].head);
            m[k].tail -= m[k].head;
            m[k].head = 0;
            ok_(cw_wsc_expect_message(&m[k], CW_WSC_BINARY, big_a, 100000), &m[k], "echo 100 KB",
                __FILE__, __LINE__);
            cw_wsc_close_socket(&m[k], 0);
        }
        CHECK_EQ(nm, 8);
    }
    OK(&b, cw_wsc_echo(&b, CW_WSC_TEXT, "still here", 10));
    OK(&b, cw_wsc_close_handshake(&b, 1000));
out:
    cw_wsc_close_socket(&b, 0);
    cw_wsc_close_socket(&v, 0);
}

/* ---------------------------------------------------------------------- */
/* A client that stops reading                                            */
/* ---------------------------------------------------------------------- */

/* Its documented answer: the server stops reading from it (back-pressure:
 * its writes stall, nothing grows), and when it never reads again it is
 * dropped once its queue has not drained for --pong-timeout (or by the
 * ping deadline, whichever comes first). Others are served all along. */
static void slow_reader(void)
{
    /* Short deadlines, stretched like every other timeout under emulation. */
    char ms300[16];
    snprintf(ms300, sizeof ms300, "%d", T(300));
    const char *const args[] = {"--ping-interval", ms300, "--pong-timeout", ms300,
                                "--close-timeout", ms300, NULL};
    static uint8_t sbuf[4096], obuf[8192], sframe[16400];
    uint8_t opay[512];
    cw_wsc_daemon d;
    cw_wsc s, o;
    cw_wsc_init(&s, sbuf, sizeof sbuf);
    cw_wsc_init(&o, obuf, sizeof obuf);
    if (cw_wsc_daemon_start(&d, NULL, args) < 0) {
        cw_unit_check(0, "daemon started", __FILE__, __LINE__);
        return;
    }
    cur = &d;
    /* A small receive window makes the server's replies back up at once;
     * the send side stays fast so the server's receive buffer fills fast. */
    s.rcvbuf = 4096;
    OK(&s, cw_wsc_open(&s, d.port, ECHO));
    OK(&o, cw_wsc_open(&o, d.port, ECHO));
    fill_pattern(big_a, 16384, 1);
    uint8_t key[4];
    cw_wsc_random(&s, key, 4);
    size_t fl = cw_wsc_encode(sframe, sizeof sframe, CW_WSC_BINARY, 1, 0, big_a, 16384, key);

    uint64_t written = 0, at_stall = 0;
    int64_t t0 = now_ms(), last_progress = t0, stalled_at = 0, dropped_at = 0;
    int64_t last_echo = 0, worst_echo = 0;
    unsigned echoes = 0;
    const uint64_t max_bytes = 256ull << 20;
    const int64_t stall_ms = T(150), give_up = t0 + T(30000);
    while (now_ms() < give_up && written < max_bytes) {
        struct pollfd p = {s.fd, POLLOUT, 0};
        poll(&p, 1, 20);
        int64_t t = now_ms();
        if (p.revents & (POLLERR | POLLHUP)) {
            dropped_at = t;
            break;
        }
        if (p.revents & POLLOUT) {
            size_t at = (size_t)(written % fl);
            ssize_t w = cw_wsc_write_some(&s, sframe + at, fl - at);
            if (w == CW_WSC_ERESET) {
                dropped_at = t;
                break;
            }
            OK(&s, w);
            if (w > 0) {
                written += (uint64_t)w;
                last_progress = t;
            }
        }
        if (!stalled_at && t - last_progress >= stall_ms) {
            stalled_at = t;
            at_stall = written;
        }
        /* The other client is served while this goes on. */
        if (t - last_echo >= 50) {
            int n = snprintf((char *)opay, sizeof opay, "echo %u while the other stalls", echoes);
            int64_t e0 = now_ms();
            OK(&o, cw_wsc_echo(&o, CW_WSC_TEXT, opay, (size_t)n));
            int64_t took = now_ms() - e0;
            if (took > worst_echo)
                worst_echo = took;
            echoes++;
            last_echo = now_ms();
        }
    }
    fprintf(stderr, "  slow reader: %llu bytes written (%llu after the stall), stalled after %lld "
                    "ms, dropped %lld ms after the stall; %u echoes meanwhile, slowest %lld ms\n",
            (unsigned long long)at_stall, (unsigned long long)(written - at_stall), (long long)(stalled_at - t0),
            (long long)(dropped_at && stalled_at ? dropped_at - stalled_at : -1), echoes,
            (long long)worst_echo);
    CHECK(stalled_at != 0);          /* back-pressure: its writes stopped */
    CHECK(written < max_bytes);      /* ... at a bound */
    CHECK(written - at_stall < (1u << 20)); /* and hardly moved again */
    CHECK(dropped_at != 0);          /* and it was dropped */
    CHECK(dropped_at - stalled_at <= T(5000));
    CHECK(echoes >= 5);
    CHECK(worst_echo < T(1000));
    /* Dropped for not draining its queue within the pong timeout (pings
     * it could not even read), or by the ping deadline. */
    int timed_out = 0;
    for (int i = 0; i < 100 && !(timed_out = cw_wsc_daemon_log_has(&d, "send queue not drained") ||
                                             cw_wsc_daemon_log_has(&d, "ping timeout"));
         i++)
        sleep_ms(10);
    CHECK(timed_out);
    CHECK(!cw_wsc_daemon_log_has(&d, "send queue full"));
    /* What it had received before it stopped reading is intact: the echoes
     * of its frames, in order, in whole frames. */
    {
        cw_wsc_frame f;
        s.timeout_ms = T(500);
        for (int i = 0; i < 4; i++) {
            s.buf = big_b;
            s.cap = sizeof big_b;
            int r = cw_wsc_recv(&s, &f, T(500));
            if (r == CW_WSC_ERESET || r == CW_WSC_EOF)
                break; /* a reset may discard what was unread */
            OK(&s, r);
            CHECK(f.opcode == CW_WSC_BINARY && f.len == 16384 &&
                  memcmp(f.payload, big_a, 16384) == 0);
        }
    }
    OK(&o, cw_wsc_echo(&o, CW_WSC_BINARY, "after", 5));
    OK(&o, cw_wsc_close_handshake(&o, 1000));
out:
    cw_wsc_close_socket(&s, 0);
    cw_wsc_close_socket(&o, 0);
    CHECK_EQ(cw_wsc_daemon_stop(&d, T(5000)), 0);
    cw_wsc_daemon_release(&d);
    cur = &shared;
}

/* A client that stops reading for a while, then reads everything: the
 * server paused reading it, its writes to it were partial, and when the
 * client drains, every echo arrives whole and in order. */
#define PAUSE_MSGS 4000 /* 64 MB: more than any socket buffers on the way */

/* The client's side of paused_reader_resumes: frames made as they go. */
struct pause_tx {
    uint8_t frame[16384 + 16];
    size_t len, off;
    unsigned next; /* index of the frame in `frame` */
};

static int pause_write(cw_wsc *c, struct pause_tx *t)
{
    if (t->off == t->len) {
        if (t->next == PAUSE_MSGS)
            return 0;
        uint8_t pay[16384], key[4];
        fill_pattern(pay, sizeof pay, t->next);
        cw_wsc_random(c, key, 4);
        t->len = cw_wsc_encode(t->frame, sizeof t->frame, CW_WSC_BINARY, 1, 0, pay, sizeof pay, key);
        t->off = 0;
        t->next++;
    }
    ssize_t w = cw_wsc_write_some(c, t->frame + t->off, t->len - t->off);
    if (w > 0)
        t->off += (size_t)w;
    return (int)w;
}

static void paused_reader_resumes(void)
{
    static uint8_t buf[65536];
    static struct pause_tx tx;
    uint8_t pay[16384];
    cw_wsc c;
    cw_wsc_init(&c, buf, sizeof buf);
    memset(&tx, 0, sizeof tx);
    c.rcvbuf = 4096;
    OK(&c, cw_wsc_open(&c, shared.port, ECHO));
    /* Phase 1: write without reading until the writes stall. */
    int64_t last = now_ms(), end = last + T(30000);
    while (now_ms() - last < T(200) && now_ms() < end) {
        struct pollfd p = {c.fd, POLLOUT, 0};
        poll(&p, 1, 20);
        if (p.revents & POLLOUT) {
            int w = pause_write(&c, &tx);
            OK(&c, w);
            if (w > 0)
                last = now_ms();
        }
    }
    fprintf(stderr, "  paused reader: %llu bytes (%u messages) written before reading\n",
            (unsigned long long)c.bytes_out, tx.next);
    CHECK(tx.next < PAUSE_MSGS); /* the server stopped reading: back-pressure */
    /* Phase 2: read everything (and write the rest). */
    unsigned got = 0;
    while (got < PAUSE_MSGS && now_ms() < end) {
        int more = tx.next < PAUSE_MSGS || tx.off < tx.len;
        struct pollfd p = {c.fd, (short)(POLLIN | (more ? POLLOUT : 0)), 0};
        poll(&p, 1, 100);
        if (p.revents & POLLOUT && more)
            OK(&c, pause_write(&c, &tx));
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            int r = cw_wsc_read_some(&c);
            if (r == CW_WSC_EOF)
                OK(&c, CW_WSC_EOF);
            OK(&c, r);
            cw_wsc_frame f;
            while ((r = cw_wsc_next_frame(&c, &f)) == 1) {
                fill_pattern(pay, sizeof pay, got);
                if (f.opcode != CW_WSC_BINARY || !f.fin || f.len != sizeof pay ||
                    memcmp(f.payload, pay, sizeof pay) != 0) {
                    fprintf(stderr, "  echo %u: op %u fin %u len %llu differs\n", got, f.opcode,
                            f.fin, (unsigned long long)f.len);
                    NEED(0);
                }
                got++;
            }
            OK(&c, r);
        }
    }
    CHECK_EQ(got, PAUSE_MSGS);
    OK(&c, cw_wsc_close_handshake(&c, 1000));
out:
    cw_wsc_close_socket(&c, 0);
}

/* ---------------------------------------------------------------------- */
/* SIGTERM with open clients                                              */
/* ---------------------------------------------------------------------- */

#define NTERM 12

static void sigterm_open_clients(void)
{
    static const char *const args[] = {"--shutdown-timeout", "3000", "--close-timeout", "5000",
                                       NULL};
    static uint8_t bufs[NTERM][4096];
    cw_wsc cl[NTERM], h;
    cw_wsc_daemon d;
    static uint8_t hbuf[1024];
    for (unsigned i = 0; i < NTERM; i++)
        cw_wsc_init(&cl[i], bufs[i], sizeof bufs[i]);
    cw_wsc_init(&h, hbuf, sizeof hbuf);
    if (cw_wsc_daemon_start(&d, NULL, args) < 0) {
        cw_unit_check(0, "daemon started", __FILE__, __LINE__);
        return;
    }
    cur = &d;
    for (unsigned i = 0; i < NTERM; i++) {
        OK(&cl[i], cw_wsc_open(&cl[i], d.port, ECHO));
        OK(&cl[i], cw_wsc_echo(&cl[i], CW_WSC_TEXT, "hello", 5));
    }
    /* One in the middle of a fragmented message, one in the middle of a frame. */
    OK(&cl[0], cw_wsc_send_frame(&cl[0], CW_WSC_TEXT, 0, "half a ", 7));
    OK(&cl[1], cw_wsc_send_raw(&cl[1], "\x81\x85", 2));
    /* And one that has not finished its handshake: it is just closed. */
    OK(&h, cw_wsc_connect(&h, d.port));
    OK(&h, cw_wsc_send_raw(&h, "GET /ws/echo/ HTTP/1.1\r\nHost: x\r\n", 33));
    sleep_ms(T(50));
    int64_t t0 = now_ms();
    CHECK_EQ(cw_wsc_daemon_signal(&d, SIGTERM), 0);
    for (unsigned i = 0; i < NTERM; i++) {
        OK(&cl[i], cw_wsc_expect_close(&cl[i], 1001));
        CHECK(cl[i].close_reason[0] != 0);
        if (i == 1) /* finish the frame first: a zero mask and "hello" */
            OK(&cl[i], cw_wsc_send_raw(&cl[i], "\0\0\0\0hello", 9));
        OK(&cl[i], cw_wsc_send_close(&cl[i], 1001, NULL));
        OK(&cl[i], cw_wsc_expect_eof(&cl[i]));
        /* The server half-closed; our FIN completes the TCP close. */
        cw_wsc_close_socket(&cl[i], 0);
    }
    OK(&h, cw_wsc_expect_eof(&h));
    cw_wsc_close_socket(&h, 0);
    int st = cw_wsc_daemon_wait(&d, T(3000) + T(1000));
    int64_t took = now_ms() - t0;
    fprintf(stderr, "  SIGTERM: exit status %d after %lld ms\n", st, (long long)took);
    CHECK_EQ(st, 0);
    if (st != 0 || took >= T(1500))
        cw_wsc_daemon_dump(&d, 3000);
    /* Everyone answered: no reason to wait for the 3 s deadline. */
    CHECK(took < T(1500));
    CHECK(cw_wsc_daemon_log_has(&d, "shutting down"));
    CHECK(!cw_wsc_daemon_log_has(&d, "shutdown deadline passed"));
out:
    for (unsigned i = 0; i < NTERM; i++)
        cw_wsc_close_socket(&cl[i], 0);
    cw_wsc_close_socket(&h, 0);
    cw_wsc_daemon_stop(&d, 2000);
    cw_wsc_daemon_release(&d);
    cur = &shared;
}

/* Clients that never answer the close (one silent, one that stopped reading
 * with replies piled up): the daemon still exits 0 at the shutdown deadline. */
static void sigterm_unresponsive_clients(void)
{
    static const char *const args[] = {"--shutdown-timeout", "600", "--close-timeout", "10000",
                                       NULL};
    static uint8_t qbuf[4096], sbuf[4096], gbuf[4096], sframe[16400];
    cw_wsc q, s, g;
    cw_wsc_daemon d;
    cw_wsc_init(&q, qbuf, sizeof qbuf);
    cw_wsc_init(&s, sbuf, sizeof sbuf);
    cw_wsc_init(&g, gbuf, sizeof gbuf);
    if (cw_wsc_daemon_start(&d, NULL, args) < 0) {
        cw_unit_check(0, "daemon started", __FILE__, __LINE__);
        return;
    }
    cur = &d;
    OK(&q, cw_wsc_open(&q, d.port, ECHO));
    OK(&g, cw_wsc_open(&g, d.port, ECHO));
    s.rcvbuf = 4096;
    OK(&s, cw_wsc_open(&s, d.port, ECHO));
    /* s floods without reading until its writes stall. */
    fill_pattern(big_a, 16384, 2);
    uint8_t key[4];
    cw_wsc_random(&s, key, 4);
    size_t fl = cw_wsc_encode(sframe, sizeof sframe, CW_WSC_BINARY, 1, 0, big_a, 16384, key);
    uint64_t written = 0;
    int64_t last = now_ms(), end = last + T(20000);
    while (now_ms() - last < T(200) && now_ms() < end) {
        struct pollfd p = {s.fd, POLLOUT, 0};
        poll(&p, 1, 20);
        if (p.revents & POLLOUT) {
            size_t at = (size_t)(written % fl);
            ssize_t w = cw_wsc_write_some(&s, sframe + at, fl - at);
            OK(&s, w);
            if (w > 0) {
                written += (uint64_t)w;
                last = now_ms();
            }
        }
    }
    NEED(now_ms() < end);
    int64_t t0 = now_ms();
    CHECK_EQ(cw_wsc_daemon_signal(&d, SIGTERM), 0);
    /* g answers; q stays silent. */
    OK(&g, cw_wsc_expect_close(&g, 1001));
    OK(&g, cw_wsc_send_close(&g, 1001, NULL));
    OK(&g, cw_wsc_expect_eof(&g));
    cw_wsc_close_socket(&g, 0);
    int st = cw_wsc_daemon_wait(&d, 600 + T(3000));
    int64_t took = now_ms() - t0;
    fprintf(stderr, "  SIGTERM with unresponsive clients: exit status %d after %lld ms\n", st,
            (long long)took);
    CHECK_EQ(st, 0);
    CHECK(took >= 500);             /* it did wait for them ... */
    CHECK(took < 600 + T(2000));    /* ... until the deadline, not longer */
    CHECK(cw_wsc_daemon_log_has(&d, "shutdown deadline passed"));
    /* The silent client got its 1001 and then lost the connection. */
    OK(&q, cw_wsc_expect_close(&q, 1001));
    OK(&q, cw_wsc_expect_eof(&q));
out:
    cw_wsc_close_socket(&q, 0);
    cw_wsc_close_socket(&s, 0);
    cw_wsc_close_socket(&g, 0);
    cw_wsc_daemon_stop(&d, 2000);
    cw_wsc_daemon_release(&d);
    cur = &shared;
}

/* ---------------------------------------------------------------------- */

static void shared_daemon_alive(void)
{
    CHECK(cw_wsc_daemon_alive(&shared));
}

static void shared_daemon_exits_0(void)
{
    CHECK_EQ(cw_wsc_daemon_stop(&shared, T(5000)), 0);
    CHECK(!cw_wsc_daemon_log_has(&shared, "ERROR"));
}

static void run(const char *name, void (*fn)(void))
{
    dumped = 0;
    cur = &shared;
    cw_unit_run(name, fn);
    fflush(stderr);
}
#define RUNW(fn) run(#fn, fn)

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    const char *only = argc > 1 ? argv[1] : NULL;
    if (!getenv("CW_DAEMON")) {
        printf("SKIP: CW_DAEMON is not set (run through tests/run.py)\n");
        return 77;
    }
    if (cw_wsc_daemon_start(&shared, NULL, NULL) < 0) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
#define C(f) {#f, f}
        C(client_codec),
        C(handshake_one_byte_writes),
        C(frames_one_byte_writes),
        C(frames_odd_chunks),
        C(handshake_with_pipelined_frames_one_write),
        C(handshake_with_pipelined_frames_byte_per_write),
        C(nothing_after_close),
        C(pings_inside_fragments_one_write),
        C(pings_inside_fragments_frame_per_write),
        C(pings_inside_fragments_byte_per_write),
        C(thousand_fragments_binary_one_write),
        C(thousand_fragments_utf8_frame_per_write),
        C(fragments_growing_one_write),
        C(fragments_growing_997_byte_writes),
        C(pipelined_10000),
        C(concurrent_200),
        C(vanish_mid_frame),
        C(paused_reader_resumes),
        C(slow_reader),
        C(sigterm_open_clients),
        C(sigterm_unresponsive_clients),
#undef C
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (only && !strstr(cases[i].name, only))
            continue;
        int64_t t0 = now_ms();
        run(cases[i].name, cases[i].fn);
        fprintf(stderr, "  (%s: %lld ms)\n", cases[i].name, (long long)(now_ms() - t0));
    }
    RUNW(shared_daemon_alive);
    RUNW(shared_daemon_exits_0);
    cw_wsc_daemon_release(&shared);
    return cw_unit_done();
}
