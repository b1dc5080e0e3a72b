/* SPDX-License-Identifier: MIT */
/* test_ws_rx.c: frame sequencing and message reassembly (cw_ws_rx_feed and
 * the direct-read path) with recording callbacks over static buffers:
 * in-place delivery, fragments, interleaved control frames, every protocol
 * error, size limits, fail-fast UTF-8, and the same byte stream fed at every
 * split point giving the same messages. */
#include "unit.h"
#include "proto/frame.h"
#include "proto/ws_rx.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0xA4093822299F31D0ull;

static uint32_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

/* ---- recording callbacks ---- */

#define BIG (1u << 17)
#define LOG_MAX (1u << 18)

typedef struct {
    size_t log_len;
    int nmsgs, nctrls;
    int reserves, releases, held;
    int fail_reserve;
    int small_first;  /* the first reservation of a message gets a tiny block */
    int stop_on_msg;  /* message callback number (1-based) that returns stop */
    int stop_on_ctrl;
    size_t max_need;
    const uint8_t *last_ptr;  /* where the last message was delivered */
    const uint8_t *last_data; /* a copy of it (the buffer goes back at once) */
    size_t last_len;
    unsigned last_op;
    uint8_t log[LOG_MAX]; /* transcript: kind, opcode, 4-byte length, payload */
    uint32_t cap; /* capacity of rx->msg */
} tctx;

static tctx T;
static uint8_t store_a[BIG], store_b[BIG], store_small[16];

static void log_event(tctx *t, uint8_t kind, unsigned op, const uint8_t *data, size_t len)
{
    if (t->log_len + 6 + len > LOG_MAX)
        return;
    uint8_t *p = t->log + t->log_len;
    p[0] = kind;
    p[1] = (uint8_t)op;
    p[2] = (uint8_t)(len >> 24);
    p[3] = (uint8_t)(len >> 16);
    p[4] = (uint8_t)(len >> 8);
    p[5] = (uint8_t)len;
    if (len)
        memcpy(p + 6, data, len);
    t->log_len += 6 + len;
}

static int t_reserve(void *ctx, cw_ws_rx *rx, size_t need)
{
    tctx *t = ctx;
    t->reserves++;
    if (need > t->max_need)
        t->max_need = need;
    if (t->fail_reserve || need > BIG)
        return -1;
    if (rx->msg && t->cap >= need)
        return 0;
    uint8_t *nb;
    uint32_t cap;
    if (!rx->msg && t->small_first && need <= sizeof store_small) {
        nb = store_small;
        cap = sizeof store_small;
    } else {
        nb = rx->msg == store_a ? store_b : store_a;
        cap = BIG;
    }
    if (rx->msg) {
        memcpy(nb, rx->msg, rx->msg_len);
        memset(rx->msg, 0xEE, t->cap); /* stale data must not be used */
    } else {
        t->held++;
    }
    rx->msg = nb;
    t->cap = cap;
    return 0;
}

static void t_release(void *ctx, cw_ws_rx *rx)
{
    tctx *t = ctx;
    t->releases++;
    t->held--;
    memset(rx->msg, 0xDD, t->cap);
    rx->msg = NULL;
    t->cap = 0;
}

static int t_message(void *ctx, unsigned op, uint8_t *data, size_t len)
{
    tctx *t = ctx;
    static uint8_t copy[BIG];
    t->nmsgs++;
    t->last_ptr = data;
    if (len <= sizeof copy && len)
        memcpy(copy, data, len);
    t->last_data = copy;
    t->last_len = len;
    t->last_op = op;
    log_event(t, 'M', op, data, len);
    return t->stop_on_msg == t->nmsgs;
}

static int t_control(void *ctx, unsigned op, uint8_t *data, size_t len)
{
    tctx *t = ctx;
    t->nctrls++;
    log_event(t, 'C', op, data, len);
    return t->stop_on_ctrl == t->nctrls;
}

static const cw_ws_rx_ops ops = {t_reserve, t_release, t_message, t_control};

static void reset(cw_ws_rx *rx)
{
    memset(&T, 0, offsetof(tctx, log)); /* the log is overwritten from log_len 0 */
    cw_ws_rx_init(rx);
}

/* ---- building client frames ---- */

typedef struct {
    uint8_t b[2 * BIG];
    size_t n;
} stream;

static uint32_t key_counter;

/* Appends one masked frame; returns its offset in the stream. */
static size_t sf_raw(stream *s, uint8_t b0, const void *payload, size_t n, int masked)
{
    size_t at = s->n;
    if (s->n + CW_FRAME_MAX_HEADER + n > sizeof s->b) {
        fprintf(stderr, "test stream too small\n");
        abort();
    }
    uint32_t kc = key_counter++ * 0x9E3779B1u;
    uint8_t key[4] = {(uint8_t)(kc >> 24), (uint8_t)(kc >> 16), (uint8_t)(kc >> 8), (uint8_t)kc};
    size_t h = cw_frame_header(s->b + s->n, b0 & 0x0F, b0 >> 7, n, masked ? key : NULL);
    s->b[s->n] = b0; /* keeps RSV bits a test may set */
    const uint8_t *p = payload;
    for (size_t i = 0; i < n; i++)
        s->b[s->n + h + i] = (uint8_t)(p[i] ^ (masked ? key[i & 3] : 0));
    s->n += h + n;
    return at;
}

static size_t sf(stream *s, int fin, unsigned op, const void *payload, size_t n)
{
    return sf_raw(s, (uint8_t)((fin ? 0x80 : 0) | op), payload, n, 1);
}

static size_t sfs(stream *s, int fin, unsigned op, const char *text)
{
    return sf(s, fin, op, text, strlen(text));
}

/* The transcript a stream should produce, built by hand. */
static void expect(tctx *want, uint8_t kind, unsigned op, const void *data, size_t len)
{
    log_event(want, kind, op, data, len);
}

/* ---- feeding like a connection does ---- */

static uint8_t work[2 * BIG + 4096];

typedef struct {
    int rc;
    size_t fed; /* stream bytes handed over when rc was returned */
    size_t left; /* unconsumed bytes kept for the next read */
    size_t max_left;
} result;

/* Feeds s in pieces ending at cuts[0..ncuts) (the last one is s->n). The
 * unconsumed tail is presented again in front of the next piece; with
 * `direct` the payload of a streaming frame is written straight to
 * cw_ws_rx_direct's pointer instead. */
static result drive(cw_ws_rx *rx, const uint8_t *s, const size_t *cuts, size_t ncuts, int direct,
                    size_t max)
{
    result r = {CW_RX_OK, 0, 0, 0};
    size_t stash = 0, i = 0;
    for (size_t c = 0; c < ncuts; c++) {
        size_t end = cuts[c];
        while (i < end) {
            size_t room;
            uint8_t *d;
            if (direct && stash == 0 && (d = cw_ws_rx_direct(rx, &room)) != NULL) {
                size_t k = end - i < room ? end - i : room;
                memcpy(d, s + i, k);
                i += k;
                r.rc = cw_ws_rx_direct_done(rx, k, &ops, &T);
            } else {
                memcpy(work + stash, s + i, end - i);
                size_t len = stash + end - i, used = 0;
                i = end;
                r.rc = cw_ws_rx_feed(rx, work, len, &used, max, &ops, &T);
                if (used > len) {
                    r.rc = -99;
                    used = len;
                }
                memmove(work, work + used, len - used);
                stash = len - used;
                if (stash > r.max_left)
                    r.max_left = stash;
            }
            if (r.rc != CW_RX_OK) {
                r.fed = i;
                r.left = stash;
                return r;
            }
        }
    }
    r.fed = i;
    r.left = stash;
    return r;
}

static result drive_whole(cw_ws_rx *rx, const stream *s, size_t max)
{
    size_t cut = s->n;
    return drive(rx, s->b, &cut, 1, 0, max);
}

static result drive_chunks(cw_ws_rx *rx, const stream *s, size_t chunk, int direct, size_t max)
{
    static size_t cuts[2 * BIG];
    size_t nc = 0;
    for (size_t at = chunk; at < s->n; at += chunk)
        cuts[nc++] = at;
    cuts[nc++] = s->n;
    return drive(rx, s->b, cuts, nc, direct, max);
}

static int same_log(const tctx *a, const tctx *b)
{
    return a->log_len == b->log_len && memcmp(a->log, b->log, a->log_len) == 0;
}

static tctx want; /* expected transcript */
static stream S;
static cw_ws_rx rx;

static void begin(void)
{
    S.n = 0;
    memset(&want, 0, sizeof want);
    reset(&rx);
}

/* ---- cases ---- */

static void test_single_frame_in_place(void)
{
    begin();
    sfs(&S, 1, CW_OP_TEXT, "Hello");
    size_t used = 99;
    int rc = cw_ws_rx_feed(&rx, S.b, S.n, &used, BIG, &ops, &T);
    CHECK_EQ(rc, CW_RX_OK);
    CHECK_EQ(used, S.n);
    CHECK_EQ(T.nmsgs, 1);
    CHECK_EQ(T.last_op, CW_OP_TEXT);
    CHECK_EQ(T.last_len, 5);
    CHECK(T.last_ptr == S.b + 6); /* delivered where it lies, unmasked */
    CHECK_MEM(S.b + 6, "Hello", 5);
    CHECK_EQ(T.reserves, 0);
    CHECK_EQ(T.held, 0);
    CHECK(rx.msg == NULL);
    /* binary, with all byte values, and a 16-bit length */
    begin();
    uint8_t bin[300];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t)i;
    size_t at = sf(&S, 1, CW_OP_BINARY, bin, sizeof bin);
    rc = cw_ws_rx_feed(&rx, S.b, S.n, &used, BIG, &ops, &T);
    CHECK_EQ(rc, CW_RX_OK);
    CHECK_EQ(used, S.n);
    CHECK_EQ(T.nmsgs, 1);
    CHECK_EQ(T.last_op, CW_OP_BINARY);
    CHECK_EQ(T.last_len, sizeof bin);
    CHECK(T.last_ptr == S.b + at + 8);
    CHECK_MEM(T.last_data, bin, sizeof bin);
    CHECK_EQ(T.reserves, 0);
    /* an empty feed consumes nothing */
    begin();
    used = 7;
    CHECK_EQ(cw_ws_rx_feed(&rx, S.b, 0, &used, BIG, &ops, &T), CW_RX_OK);
    CHECK_EQ(used, 0);
}

static void test_many_frames_one_read(void)
{
    begin();
    for (int i = 0; i < 50; i++) {
        char m[16];
        int n = snprintf(m, sizeof m, "msg %d", i);
        sf(&S, 1, (unsigned)(i % 2 ? CW_OP_BINARY : CW_OP_TEXT), m, (size_t)n);
        expect(&want, 'M', (unsigned)(i % 2 ? CW_OP_BINARY : CW_OP_TEXT), m, (size_t)n);
    }
    result r = drive_whole(&rx, &S, BIG);
    CHECK_EQ(r.rc, CW_RX_OK);
    CHECK_EQ(r.left, 0);
    CHECK_EQ(T.nmsgs, 50);
    CHECK(same_log(&T, &want));
    CHECK_EQ(T.reserves, 0);
}

static void test_fragmented_text(void)
{
    begin();
    sfs(&S, 0, CW_OP_TEXT, "Hel");
    sfs(&S, 0, CW_OP_CONT, "lo ");
    sfs(&S, 1, CW_OP_CONT, "World");
    expect(&want, 'M', CW_OP_TEXT, "Hello World", 11);
    result r = drive_whole(&rx, &S, BIG);
    CHECK_EQ(r.rc, CW_RX_OK);
    CHECK_EQ(r.left, 0);
    CHECK(same_log(&T, &want));
    CHECK_EQ(T.held, 0);
    CHECK_EQ(T.releases, 1);
    CHECK(rx.msg == NULL);
    CHECK_EQ(rx.msg_len, 0);
    CHECK_EQ(rx.msg_op, 0);
    /* the next message starts clean */
    S.n = 0;
    memset(&want, 0, sizeof want);
    T.log_len = 0;
    sfs(&S, 1, CW_OP_TEXT, "again");
    expect(&want, 'M', CW_OP_TEXT, "again", 5);
    r = drive_whole(&rx, &S, BIG);
    CHECK_EQ(r.rc, CW_RX_OK);
    CHECK(same_log(&T, &want));
}

static void test_fragmented_binary(void)
{
    begin();
    uint8_t all[256 * 4];
    for (size_t i = 0; i < sizeof all; i++)
        all[i] = (uint8_t)(i * 13);
    /* 1, 2, 125, 126, 300, ... sized fragments */
    static const size_t sizes[] = {1, 2, 125, 126, 300, 470};
    size_t off = 0;
    for (size_t k = 0; k < 6; k++) {
        sf(&S, k == 5, k ? CW_OP_CONT : CW_OP_BINARY, all + off, sizes[k]);
        off += sizes[k];
    }
    CHECK_EQ(off, sizeof all);
    expect(&want, 'M', CW_OP_BINARY, all, sizeof all);
    result r = drive_whole(&rx, &S, BIG);
    CHECK_EQ(r.rc, CW_RX_OK);
    CHECK(same_log(&T, &want));
    CHECK_EQ(T.max_need, sizeof all); /* reserve asked for the total so far */
}

static void test_control_interleaved(void)
{
    begin();
    uint8_t ping125[125];
    memset(ping125, 'p', sizeof ping125);
    sfs(&S, 0, CW_OP_TEXT, "frag1 ");
    sfs(&S, 1, CW_OP_PING, "ping-1");
    sfs(&S, 0, CW_OP_CONT, "frag2 ");
    sfs(&S, 1, CW_OP_PONG, "");
    sf(&S, 1, CW_OP_PING, ping125, sizeof ping125);
    sfs(&S, 1, CW_OP_CONT, "frag3");
    sfs(&S, 1, CW_OP_CLOSE, "\x03\xE8");
    expect(&want, 'C', CW_OP_PING, "ping-1", 6);
    expect(&want, 'C', CW_OP_PONG, "", 0);
    expect(&want, 'C', CW_OP_PING, ping125, sizeof ping125);
    expect(&want, 'M', CW_OP_TEXT, "frag1 frag2 frag3", 17);
    expect(&want, 'C', CW_OP_CLOSE, "\x03\xE8", 2);
    result r = drive_whole(&rx, &S, BIG);
    CHECK_EQ(r.rc, CW_RX_OK);
    CHECK(same_log(&T, &want));
    CHECK_EQ(T.nctrls, 4);
    CHECK_EQ(T.nmsgs, 1);
    /* control frames do not count against the message limit */
    begin();
    sf(&S, 1, CW_OP_PING, ping125, sizeof ping125);
    r = drive_whole(&rx, &S, 10);
    CHECK_EQ(r.rc, CW_RX_OK);
    CHECK_EQ(T.nctrls, 1);
}

static void test_continuation_without_start(void)
{
    begin();
    sfs(&S, 1, CW_OP_CONT, "orphan");
    result r = drive_whole(&rx, &S, BIG);
    CHECK_EQ(r.rc, 1002);
    CHECK_EQ(T.nmsgs, 0);
    begin();
    sfs(&S, 0, CW_OP_CONT, "orphan");
    CHECK_EQ(drive_whole(&rx, &S, BIG).rc, 1002);
    begin();
    sfs(&S, 1, CW_OP_CONT, "");
    CHECK_EQ(drive_whole(&rx, &S, BIG).rc, 1002);
    /* after a complete fragmented message, a continuation is an orphan too */
    begin();
    sfs(&S, 0, CW_OP_TEXT, "a");
    sfs(&S, 1, CW_OP_CONT, "b");
    size_t at = sfs(&S, 1, CW_OP_CONT, "c");
    r = drive_whole(&rx, &S, BIG);
    CHECK_EQ(r.rc, 1002);
    CHECK_EQ(T.nmsgs, 1);
    /* detected from the header alone */
    reset(&rx);
    size_t used = 99;
    memcpy(work, S.b + at, 6);
    CHECK_EQ(cw_ws_rx_feed(&rx, work, 6, &used, BIG, &ops, &T), 1002);
    CHECK_EQ(T.nmsgs, 0);
}

static void test_new_message_inside_fragmented(void)
{
    static const unsigned second[] = {CW_OP_TEXT, CW_OP_BINARY};
    for (int fin = 0; fin < 2; fin++) {
        for (int k = 0; k < 2; k++) {
            begin();
            sfs(&S, 0, CW_OP_TEXT, "start");
            sfs(&S, fin, second[k], "intruder");
            result r = drive_whole(&rx, &S, BIG);
            CHECK_EQ(r.rc, 1002);
            CHECK_EQ(T.nmsgs, 0);
        }
    }
    begin();
    sfs(&S, 0, CW_OP_BINARY, "start");
    sfs(&S, 1, CW_OP_PING, "ok");
    sfs(&S, 1, CW_OP_BINARY, "intruder");
    result r = drive_whole(&rx, &S, BIG);
    CHECK_EQ(r.rc, 1002);
    CHECK_EQ(T.nctrls, 1);
    CHECK_EQ(T.nmsgs, 0);
}

static void test_protocol_errors(void)
{
    /* unmasked client frame */
    begin();
    sf_raw(&S, 0x81, "Hi", 2, 0);
    CHECK_EQ(drive_whole(&rx, &S, BIG).rc, 1002);
    CHECK_EQ(T.nmsgs, 0);
    /* RSV bits */
    for (unsigned rsv = 1; rsv < 8; rsv++) {
        begin();
        sf_raw(&S, (uint8_t)(0x81 | rsv << 4), "Hi", 2, 1);
        CHECK_EQ(drive_whole(&rx, &S, BIG).rc, 1002);
    }
    /* reserved opcodes */
    static const unsigned reserved[] = {3, 4, 5, 6, 7, 11, 12, 13, 14, 15};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        begin();
        sf_raw(&S, (uint8_t)(0x80 | reserved[i]), "Hi", 2, 1);
        CHECK_EQ(drive_whole(&rx, &S, BIG).rc, 1002);
    }
    /* fragmented control frame, and one over 125 bytes */
    begin();
    sfs(&S, 0, CW_OP_PING, "Hi");
    CHECK_EQ(drive_whole(&rx, &S, BIG).rc, 1002);
    begin();
    uint8_t big[126] = {0};
    sf(&S, 1, CW_OP_PONG, big, sizeof big);
    CHECK_EQ(drive_whole(&rx, &S, BIG).rc, 1002);
    CHECK_EQ(T.nctrls, 0);
    /* a good frame before the bad one is still delivered */
    begin();
    sfs(&S, 1, CW_OP_TEXT, "good");
    sf_raw(&S, 0x82, "bad", 3, 0);
    result r = drive_whole(&rx, &S, BIG);
    CHECK_EQ(r.rc, 1002);
    CHECK_EQ(T.nmsgs, 1);
}

static void test_max_message(void)
{
    uint8_t p[200];
    memset(p, 'x', sizeof p);
    /* exactly the maximum: fine, in place and fragmented */
    begin();
    sf(&S, 1, CW_OP_TEXT, p, 100);
    sf(&S, 0, CW_OP_BINARY, p, 60);
    sf(&S, 1, CW_OP_CONT, p, 40);
    result r = drive_whole(&rx, &S, 100);
    CHECK_EQ(r.rc, CW_RX_OK);
    CHECK_EQ(T.nmsgs, 2);
    /* one byte over in a single frame: refused at the header, before the
     * payload has arrived */
    begin();
    sf(&S, 1, CW_OP_TEXT, p, 101);
    size_t used = 99;
    memcpy(work, S.b, 6);
    CHECK_EQ(cw_ws_rx_feed(&rx, work, 6, &used, 100, &ops, &T), 1009);
    CHECK_EQ(T.reserves, 0);
    reset(&rx);
    CHECK_EQ(drive_whole(&rx, &S, 100).rc, 1009);
    CHECK_EQ(T.nmsgs, 0);
    /* across fragments: refused at the header of the fragment that crosses */
    begin();
    sf(&S, 0, CW_OP_BINARY, p, 60);
    size_t at = sf(&S, 1, CW_OP_CONT, p, 41);
    reset(&rx);
    r = drive(&rx, S.b, (size_t[]){at + 6}, 1, 0, 100);
    CHECK_EQ(r.rc, 1009);
    CHECK_EQ(r.fed, at + 6); /* only the first fragment and this header */
    reset(&rx);
    CHECK_EQ(drive_whole(&rx, &S, 100).rc, 1009);
    /* many small fragments adding up past the limit */
    begin();
    sf(&S, 0, CW_OP_TEXT, p, 30);
    for (int i = 0; i < 10; i++)
        sf(&S, 0, CW_OP_CONT, p, 10);
    r = drive_whole(&rx, &S, 100);
    CHECK_EQ(r.rc, 1009);
    /* a 64-bit length far beyond anything */
    begin();
    uint8_t h[14] = {0x82, 0xFF, 0, 0, 0x01, 0, 0, 0, 0, 0, 1, 2, 3, 4};
    CHECK_EQ(cw_ws_rx_feed(&rx, h, 14, &used, BIG, &ops, &T), 1009);
    CHECK_EQ(T.reserves, 0);
    /* the same through the 16-bit form with a small limit */
    begin();
    uint8_t h16[8] = {0x81, 0xFE, 0x01, 0x00, 1, 2, 3, 4};
    CHECK_EQ(cw_ws_rx_feed(&rx, h16, 8, &used, 255, &ops, &T), 1009);
    reset(&rx);
    CHECK_EQ(cw_ws_rx_feed(&rx, h16, 8, &used, 256, &ops, &T), CW_RX_OK);
    CHECK_EQ(used, 8);
}

/* Invalid UTF-8 is refused on its first impossible byte, across fragment
 * boundaries and inside a frame that arrives in small pieces. */
static void test_utf8_fail_fast(void)
{
    /* valid: a character split across two fragments */
    begin();
    sfs(&S, 0, CW_OP_TEXT, "abc\xCE");
    sfs(&S, 1, CW_OP_CONT, "\xBA!");
    expect(&want, 'M', CW_OP_TEXT, "abc\xCE\xBA!", 6);
    result r = drive_chunks(&rx, &S, 1, 0, BIG);
    CHECK_EQ(r.rc, CW_RX_OK);
    CHECK(same_log(&T, &want));
    /* a lead byte at the end of one fragment, ASCII at the start of the next:
     * the error comes with that first payload byte */
    begin();
    sfs(&S, 0, CW_OP_TEXT, "abc\xCE");
    size_t at = sfs(&S, 1, CW_OP_CONT, "Azzzzzzz");
    r = drive_chunks(&rx, &S, 1, 0, BIG);
    CHECK_EQ(r.rc, 1007);
    CHECK_EQ(r.fed, at + 6 + 1);
    CHECK_EQ(T.nmsgs, 0);
    /* F4 90 split over fragments: rejected at the 90 */
    begin();
    sfs(&S, 0, CW_OP_TEXT, "ok\xF4");
    at = sfs(&S, 0, CW_OP_CONT, "\x90\x80\x80");
    sfs(&S, 1, CW_OP_CONT, "tail");
    r = drive_chunks(&rx, &S, 1, 0, BIG);
    CHECK_EQ(r.rc, 1007);
    CHECK_EQ(r.fed, at + 6 + 1);
    /* a bad first fragment fails before the next fragment is fed */
    begin();
    at = sfs(&S, 0, CW_OP_TEXT, "x\xED\xA0\x80yyyy");
    size_t second = sfs(&S, 1, CW_OP_CONT, "more");
    r = drive(&rx, S.b, (size_t[]){second}, 1, 0, BIG);
    CHECK_EQ(r.rc, 1007);
    reset(&rx);
    r = drive_chunks(&rx, &S, 1, 0, BIG);
    CHECK_EQ(r.rc, 1007);
    CHECK_EQ(r.fed, at + 6 + 3); /* at the A0 */
    /* one long frame streamed in pieces: the error comes long before its end */
    static uint8_t text[2000];
    memset(text, 'a', sizeof text);
    memcpy(text + 100, "\xF4\x90\x80\x80", 4);
    for (size_t chunk = 1; chunk <= 64; chunk *= 4) {
        for (int direct = 0; direct < 2; direct++) {
            begin();
            sf(&S, 1, CW_OP_TEXT, text, sizeof text);
            r = drive_chunks(&rx, &S, chunk, direct, BIG);
            CHECK_EQ(r.rc, 1007);
            /* header is 8 bytes; the 0x90 is payload byte 101 */
            CHECK(r.fed >= 8 + 102);
            CHECK(r.fed <= 8 + 102 + chunk - 1);
            CHECK(r.fed < S.n);
            CHECK_EQ(T.nmsgs, 0);
        }
    }
    /* in-place delivery validates too */
    begin();
    sfs(&S, 1, CW_OP_TEXT, "\xC0\x80");
    CHECK_EQ(drive_whole(&rx, &S, BIG).rc, 1007);
    CHECK_EQ(T.nmsgs, 0);
    /* binary messages are not validated */
    begin();
    sfs(&S, 1, CW_OP_BINARY, "\xC0\x80\xFF");
    sfs(&S, 0, CW_OP_BINARY, "\xED\xA0");
    sfs(&S, 1, CW_OP_CONT, "\x80\xFE");
    r = drive_chunks(&rx, &S, 1, 0, BIG);
    CHECK_EQ(r.rc, CW_RX_OK);
    CHECK_EQ(T.nmsgs, 2);
}

static void test_message_ends_mid_character(void)
{
    /* a single frame, whole */
    begin();
    sfs(&S, 1, CW_OP_TEXT, "ok\xCE");
    CHECK_EQ(drive_whole(&rx, &S, BIG).rc, 1007);
    CHECK_EQ(T.nmsgs, 0);
    /* the same streamed byte by byte */
    begin();
    sfs(&S, 1, CW_OP_TEXT, "ok\xE2\x82");
    result r = drive_chunks(&rx, &S, 1, 0, BIG);
    CHECK_EQ(r.rc, 1007);
    CHECK_EQ(r.fed, S.n);
    CHECK_EQ(T.nmsgs, 0);
    /* fragments, the last one empty */
    begin();
    sfs(&S, 0, CW_OP_TEXT, "a\xF0\x9F");
    sfs(&S, 0, CW_OP_CONT, "\x98");
    sfs(&S, 1, CW_OP_CONT, "");
    CHECK_EQ(drive_whole(&rx, &S, BIG).rc, 1007);
    CHECK_EQ(T.nmsgs, 0);
    /* completing the character makes it fine */
    begin();
    sfs(&S, 0, CW_OP_TEXT, "a\xF0\x9F");
    sfs(&S, 0, CW_OP_CONT, "\x98");
    sfs(&S, 1, CW_OP_CONT, "\x80");
    expect(&want, 'M', CW_OP_TEXT, "a\xF0\x9F\x98\x80", 5);
    CHECK_EQ(drive_whole(&rx, &S, BIG).rc, CW_RX_OK);
    CHECK(same_log(&T, &want));
}

static void test_zero_length(void)
{
    begin();
    sfs(&S, 0, CW_OP_TEXT, "");
    sfs(&S, 0, CW_OP_CONT, "");
    sfs(&S, 1, CW_OP_CONT, "abc");
    sfs(&S, 0, CW_OP_BINARY, "");
    sfs(&S, 1, CW_OP_CONT, "");
    sfs(&S, 1, CW_OP_TEXT, "");
    sfs(&S, 1, CW_OP_BINARY, "");
    sfs(&S, 0, CW_OP_TEXT, "x");
    sfs(&S, 0, CW_OP_CONT, "");
    sfs(&S, 1, CW_OP_CONT, "");
    expect(&want, 'M', CW_OP_TEXT, "abc", 3);
    expect(&want, 'M', CW_OP_BINARY, "", 0);
    expect(&want, 'M', CW_OP_TEXT, "", 0);
    expect(&want, 'M', CW_OP_BINARY, "", 0);
    expect(&want, 'M', CW_OP_TEXT, "x", 1);
    for (size_t chunk = 1; chunk <= S.n; chunk++) {
        reset(&rx);
        result r = drive_chunks(&rx, &S, chunk, (int)(chunk & 1), BIG);
        CHECK_EQ(r.rc, CW_RX_OK);
        CHECK_EQ(r.left, 0);
        CHECK(same_log(&T, &want));
        CHECK_EQ(T.held, 0);
    }
}

static void test_partial_input(void)
{
    size_t used;
    /* one byte of a header */
    begin();
    sfs(&S, 1, CW_OP_TEXT, "Hello");
    used = 99;
    memcpy(work, S.b, S.n);
    CHECK_EQ(cw_ws_rx_feed(&rx, work, 1, &used, BIG, &ops, &T), CW_RX_OK);
    CHECK_EQ(used, 0);
    /* a whole frame and most of the next header */
    size_t first = S.n;
    sfs(&S, 1, CW_OP_TEXT, "World");
    memcpy(work, S.b, S.n);
    CHECK_EQ(cw_ws_rx_feed(&rx, work, first + 5, &used, BIG, &ops, &T), CW_RX_OK);
    CHECK_EQ(used, first);
    CHECK_EQ(T.nmsgs, 1);
    /* a 64-bit length header cut anywhere */
    for (size_t k = 0; k < 14; k++) {
        begin();
        static uint8_t p[70000];
        sf(&S, 1, CW_OP_BINARY, p, sizeof p);
        memcpy(work, S.b, 14);
        CHECK_EQ(cw_ws_rx_feed(&rx, work, k, &used, BIG, &ops, &T), CW_RX_OK);
        CHECK_EQ(used, 0);
    }
    /* a control frame waits until it is whole; its header is not consumed */
    begin();
    sfs(&S, 1, CW_OP_PING, "0123456789");
    memcpy(work, S.b, S.n);
    CHECK_EQ(cw_ws_rx_feed(&rx, work, S.n - 1, &used, BIG, &ops, &T), CW_RX_OK);
    CHECK_EQ(used, 0);
    CHECK_EQ(T.nctrls, 0);
    CHECK_MEM(work, S.b, S.n); /* not unmasked while waiting */
    CHECK_EQ(cw_ws_rx_feed(&rx, work, S.n, &used, BIG, &ops, &T), CW_RX_OK);
    CHECK_EQ(used, S.n);
    CHECK_EQ(T.nctrls, 1);
    /* a data frame's payload is consumed as it comes */
    begin();
    sfs(&S, 1, CW_OP_TEXT, "0123456789");
    memcpy(work, S.b, S.n);
    CHECK_EQ(cw_ws_rx_feed(&rx, work, 6 + 3, &used, BIG, &ops, &T), CW_RX_OK);
    CHECK_EQ(used, 9);
    size_t room = 0;
    uint8_t *d = cw_ws_rx_direct(&rx, &room);
    CHECK(d != NULL);
    CHECK_EQ(room, 7);
    CHECK(d == rx.msg + 3);
    CHECK_MEM(rx.msg, "012", 3);
    CHECK_EQ(cw_ws_rx_feed(&rx, work + 9, S.n - 9, &used, BIG, &ops, &T), CW_RX_OK);
    CHECK_EQ(used, S.n - 9);
    CHECK_EQ(T.nmsgs, 1);
    CHECK_EQ(T.last_len, 10);
    CHECK_MEM(T.last_data, "0123456789", 10);
    CHECK(cw_ws_rx_direct(&rx, &room) == NULL);
}

static void test_reserve_failure(void)
{
    begin();
    T.fail_reserve = 1;
    sfs(&S, 0, CW_OP_TEXT, "abc");
    CHECK_EQ(drive_whole(&rx, &S, BIG).rc, 1013);
    CHECK_EQ(CW_RX_NOMEM, 1013);
    /* a frame that is not all here needs a buffer too */
    begin();
    T.fail_reserve = 1;
    sfs(&S, 1, CW_OP_BINARY, "0123456789");
    result r = drive(&rx, S.b, (size_t[]){S.n - 1, S.n}, 2, 0, BIG);
    CHECK_EQ(r.rc, 1013);
    /* a whole single frame does not */
    begin();
    T.fail_reserve = 1;
    sfs(&S, 1, CW_OP_BINARY, "0123456789");
    CHECK_EQ(drive_whole(&rx, &S, BIG).rc, CW_RX_OK);
    CHECK_EQ(T.nmsgs, 1);
    CHECK_EQ(T.reserves, 0);
    /* failing on the second fragment (growing) */
    begin();
    T.small_first = 1;
    sfs(&S, 0, CW_OP_TEXT, "0123456789");
    size_t at = sf(&S, 1, CW_OP_CONT, "01234567890123456789", 20);
    r = drive(&rx, S.b, (size_t[]){at}, 1, 0, BIG);
    CHECK_EQ(r.rc, CW_RX_OK);
    CHECK_EQ(T.held, 1);
    T.fail_reserve = 1;
    static uint8_t rest[64];
    memcpy(rest, S.b + at, S.n - at);
    size_t used = 0;
    CHECK_EQ(cw_ws_rx_feed(&rx, rest, S.n - at, &used, BIG, &ops, &T), 1013);
    CHECK_EQ(T.nmsgs, 0);
}

static void test_buffer_growth(void)
{
    /* the first fragment lands in a tiny block; later ones force a move that
     * must keep the bytes already assembled */
    begin();
    T.small_first = 1;
    sfs(&S, 0, CW_OP_TEXT, "0123456789");
    sfs(&S, 0, CW_OP_CONT, "abcde");
    sfs(&S, 1, CW_OP_CONT, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    expect(&want, 'M', CW_OP_TEXT, "0123456789abcdeABCDEFGHIJKLMNOPQRSTUVWXYZ", 41);
    for (size_t chunk = 1; chunk <= S.n; chunk += 3) {
        for (int direct = 0; direct < 2; direct++) {
            reset(&rx);
            T.small_first = 1;
            result r = drive_chunks(&rx, &S, chunk, direct, BIG);
            CHECK_EQ(r.rc, CW_RX_OK);
            CHECK(same_log(&T, &want));
            CHECK_EQ(T.held, 0);
            CHECK_EQ(T.max_need, 41);
        }
    }
}

static void test_callback_stop(void)
{
    /* the message callback stops: nothing after that frame is consumed */
    begin();
    size_t f3;
    sfs(&S, 1, CW_OP_TEXT, "one");
    sfs(&S, 1, CW_OP_TEXT, "two");
    f3 = sfs(&S, 1, CW_OP_TEXT, "three");
    T.stop_on_msg = 2;
    size_t used = 0;
    memcpy(work, S.b, S.n);
    CHECK_EQ(cw_ws_rx_feed(&rx, work, S.n, &used, BIG, &ops, &T), CW_RX_STOPPED);
    CHECK_EQ(used, f3);
    CHECK_EQ(T.nmsgs, 2);
    /* a control callback stops */
    begin();
    sfs(&S, 1, CW_OP_TEXT, "one");
    sfs(&S, 1, CW_OP_CLOSE, "\x03\xE8");
    f3 = S.n;
    sfs(&S, 1, CW_OP_TEXT, "after close");
    T.stop_on_ctrl = 1;
    memcpy(work, S.b, S.n);
    CHECK_EQ(cw_ws_rx_feed(&rx, work, S.n, &used, BIG, &ops, &T), CW_RX_STOPPED);
    CHECK_EQ(used, f3);
    CHECK_EQ(T.nmsgs, 1);
    CHECK_EQ(T.nctrls, 1);
    /* stopping on a reassembled message still gives its buffer back */
    begin();
    sfs(&S, 0, CW_OP_BINARY, "ab");
    sfs(&S, 1, CW_OP_CONT, "cd");
    f3 = S.n;
    sfs(&S, 1, CW_OP_TEXT, "never");
    T.stop_on_msg = 1;
    memcpy(work, S.b, S.n);
    CHECK_EQ(cw_ws_rx_feed(&rx, work, S.n, &used, BIG, &ops, &T), CW_RX_STOPPED);
    CHECK_EQ(used, f3);
    CHECK_EQ(T.held, 0);
    CHECK(rx.msg == NULL);
    /* stopping through the direct path */
    begin();
    static uint8_t p[500];
    memset(p, 'q', sizeof p);
    sf(&S, 1, CW_OP_BINARY, p, sizeof p);
    T.stop_on_msg = 1;
    result r = drive_chunks(&rx, &S, 100, 1, BIG);
    CHECK_EQ(r.rc, CW_RX_STOPPED);
    CHECK_EQ(r.fed, S.n);
    CHECK_EQ(T.nmsgs, 1);
}

static void test_direct_path(void)
{
    static uint8_t p[1000];
    for (size_t i = 0; i < sizeof p; i++)
        p[i] = (uint8_t)(i * 7 + 1);
    begin();
    size_t room = 123;
    CHECK(cw_ws_rx_direct(&rx, &room) == NULL); /* nothing streaming */
    CHECK_EQ(room, 123);
    sf(&S, 1, CW_OP_BINARY, p, sizeof p);
    const size_t hl = 8;
    size_t used = 0;
    memcpy(work, S.b, hl + 10);
    CHECK_EQ(cw_ws_rx_feed(&rx, work, hl + 10, &used, BIG, &ops, &T), CW_RX_OK);
    CHECK_EQ(used, hl + 10);
    CHECK_EQ(T.reserves, 1);
    CHECK_EQ(T.max_need, sizeof p);
    size_t pos = hl + 10;
    while (pos < S.n) {
        uint8_t *d = cw_ws_rx_direct(&rx, &room);
        CHECK(d != NULL);
        if (!d)
            break;
        CHECK(d == rx.msg + (pos - hl));
        CHECK_EQ(room, S.n - pos);
        size_t k = room < 97 ? room : 97;
        memcpy(d, S.b + pos, k); /* the masked wire bytes, as recv would */
        CHECK_EQ(cw_ws_rx_direct_done(&rx, k, &ops, &T), CW_RX_OK);
        pos += k;
        CHECK_EQ(T.nmsgs, pos == S.n);
    }
    CHECK_EQ(T.nmsgs, 1);
    CHECK_EQ(T.last_op, CW_OP_BINARY);
    CHECK_EQ(T.last_len, sizeof p);
    CHECK_MEM(T.last_data, p, sizeof p);
    CHECK(cw_ws_rx_direct(&rx, &room) == NULL);
    CHECK_EQ(T.held, 0);
    /* more bytes than expected are clamped to the frame */
    begin();
    sf(&S, 1, CW_OP_BINARY, p, 20);
    memcpy(work, S.b, 6 + 5);
    CHECK_EQ(cw_ws_rx_feed(&rx, work, 6 + 5, &used, BIG, &ops, &T), CW_RX_OK);
    uint8_t *d = cw_ws_rx_direct(&rx, &room);
    CHECK_EQ(room, 15);
    memcpy(d, S.b + 11, 15);
    CHECK_EQ(cw_ws_rx_direct_done(&rx, 40, &ops, &T), CW_RX_OK);
    CHECK_EQ(T.nmsgs, 1);
    CHECK_EQ(T.last_len, 20);
    CHECK_MEM(T.last_data, p, 20);
    /* the direct path validates text and fails fast */
    begin();
    static uint8_t t[600];
    memset(t, 'a', sizeof t);
    t[300] = 0xFF;
    sf(&S, 1, CW_OP_TEXT, t, sizeof t);
    memcpy(work, S.b, 8);
    CHECK_EQ(cw_ws_rx_feed(&rx, work, 8, &used, BIG, &ops, &T), CW_RX_OK);
    d = cw_ws_rx_direct(&rx, &room);
    CHECK_EQ(room, 600);
    memcpy(d, S.b + 8, 200);
    CHECK_EQ(cw_ws_rx_direct_done(&rx, 200, &ops, &T), CW_RX_OK);
    d = cw_ws_rx_direct(&rx, &room);
    memcpy(d, S.b + 208, 200);
    CHECK_EQ(cw_ws_rx_direct_done(&rx, 200, &ops, &T), 1007);
    CHECK_EQ(T.nmsgs, 0);
    /* a fragmented message streams through the direct path across frames */
    begin();
    sf(&S, 0, CW_OP_TEXT, t, 250);
    sf(&S, 1, CW_OP_CONT, t, 250);
    result r = drive_chunks(&rx, &S, 50, 1, BIG);
    CHECK_EQ(r.rc, CW_RX_OK);
    CHECK_EQ(T.nmsgs, 1);
    CHECK_EQ(T.last_len, 500);
    CHECK_MEM(T.last_data, t, 250);
    CHECK_MEM(T.last_data + 250, t, 250);
}

/* A stream mixing every kind of frame, for the split tests. */
static void build_composite(void)
{
    begin();
    static const char text300[] =
        "κόσμε Hello-µ@ßöäüàá-UTF-8!! \xF0\x9F\x98\x80 \xE2\x82\xAC \xF4\x8F\xBF\xBF "
        "The quick brown fox jumps over the lazy dog. 0123456789 "
        "The quick brown fox jumps over the lazy dog. 0123456789 "
        "The quick brown fox jumps over the lazy dog. 0123456789 "
        "The quick brown fox jumps over the lazy dog.";
    uint8_t bin[100], ping[125];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t)(255 - i);
    memset(ping, 0xA5, sizeof ping);
    sfs(&S, 1, CW_OP_TEXT, "Hello");
    expect(&want, 'M', CW_OP_TEXT, "Hello", 5);
    sfs(&S, 1, CW_OP_PING, "ping-1");
    expect(&want, 'C', CW_OP_PING, "ping-1", 6);
    sf(&S, 0, CW_OP_BINARY, bin, 50);
    sfs(&S, 1, CW_OP_PONG, "");
    expect(&want, 'C', CW_OP_PONG, "", 0);
    sfs(&S, 0, CW_OP_CONT, "");
    sf(&S, 1, CW_OP_PING, ping, sizeof ping);
    expect(&want, 'C', CW_OP_PING, ping, sizeof ping);
    sf(&S, 1, CW_OP_CONT, bin + 50, 50);
    expect(&want, 'M', CW_OP_BINARY, bin, sizeof bin);
    sfs(&S, 1, CW_OP_TEXT, text300);
    expect(&want, 'M', CW_OP_TEXT, text300, strlen(text300));
    sfs(&S, 0, CW_OP_TEXT, "\xCE\xBA\xCF");
    sfs(&S, 1, CW_OP_CONT, "\x8C\xCF\x83\xCE\xBC\xCE\xB5");
    expect(&want, 'M', CW_OP_TEXT, "κόσμε", 10);
    sfs(&S, 1, CW_OP_TEXT, "");
    expect(&want, 'M', CW_OP_TEXT, "", 0);
    sfs(&S, 1, CW_OP_CLOSE, "\x03\xE8" "bye");
    expect(&want, 'C', CW_OP_CLOSE, "\x03\xE8" "bye", 5);
}

static void test_every_split_point(void)
{
    build_composite();
    CHECK(strlen("κόσμε") == 10);
    result r = drive_whole(&rx, &S, BIG);
    CHECK_EQ(r.rc, CW_RX_OK);
    CHECK(same_log(&T, &want));
    int bad = 0;
    size_t worst_left = 0;
    for (int direct = 0; direct < 2; direct++) {
        /* every single cut */
        for (size_t a = 0; a <= S.n; a++) {
            reset(&rx);
            size_t cuts[2] = {a, S.n};
            r = drive(&rx, S.b, cuts, 2, direct, BIG);
            if (r.rc != CW_RX_OK || r.left != 0 || !same_log(&T, &want) || T.held != 0)
                bad++;
            if (r.max_left > worst_left)
                worst_left = r.max_left;
        }
        /* pairs of cuts */
        for (size_t a = 0; a <= S.n; a += 5) {
            for (size_t b = a; b <= S.n; b += 7) {
                reset(&rx);
                size_t cuts[3] = {a, b, S.n};
                r = drive(&rx, S.b, cuts, 3, direct, BIG);
                if (r.rc != CW_RX_OK || r.left != 0 || !same_log(&T, &want))
                    bad++;
            }
        }
        /* byte by byte, fixed chunks and random splits */
        for (size_t chunk = 1; chunk < 40; chunk++) {
            reset(&rx);
            r = drive_chunks(&rx, &S, chunk, direct, BIG);
            if (r.rc != CW_RX_OK || r.left != 0 || !same_log(&T, &want))
                bad++;
        }
        for (int k = 0; k < 300; k++) {
            static size_t cuts[4096];
            size_t nc = 0, at = 0;
            while (at < S.n) {
                at += rng() % 23;
                cuts[nc++] = at < S.n ? at : S.n;
            }
            reset(&rx);
            r = drive(&rx, S.b, cuts, nc, direct, BIG);
            if (r.rc != CW_RX_OK || r.left != 0 || !same_log(&T, &want))
                bad++;
        }
    }
    CHECK_EQ(bad, 0);
    /* what is carried over between reads is at most a header or a control frame */
    CHECK(worst_left <= 6 + CW_FRAME_MAX_CONTROL);
}

static void test_large_frames_split(void)
{
    /* 64-bit length frames and a fragmented message of them */
    static uint8_t big[70000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i ^ (i >> 8));
    begin();
    sf(&S, 1, CW_OP_BINARY, big, 65536);
    sf(&S, 0, CW_OP_BINARY, big, 30000);
    sfs(&S, 1, CW_OP_PING, "mid");
    sf(&S, 1, CW_OP_CONT, big + 30000, 40000);
    expect(&want, 'M', CW_OP_BINARY, big, 65536);
    expect(&want, 'C', CW_OP_PING, "mid", 3);
    expect(&want, 'M', CW_OP_BINARY, big, 70000);
    static const size_t chunks[] = {1, 7, 4096, 65535, 200000};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        for (int direct = 0; direct < 2; direct++) {
            reset(&rx);
            result r = drive_chunks(&rx, &S, chunks[c], direct, BIG);
            CHECK_EQ(r.rc, CW_RX_OK);
            CHECK_EQ(r.left, 0);
            CHECK(same_log(&T, &want));
        }
    }
}

/* Streams that fail give the same close code and the same deliveries before
 * the failure however they are split. */
static void test_error_streams_split(void)
{
    static const int codes[] = {1002, 1002, 1009, 1007, 1002, 1007};
    for (int e = 0; e < 6; e++) {
        begin();
        sfs(&S, 1, CW_OP_TEXT, "first");
        sfs(&S, 1, CW_OP_PING, "p");
        switch (e) {
        case 0:
            sfs(&S, 1, CW_OP_CONT, "orphan");
            break;
        case 1:
            sfs(&S, 0, CW_OP_TEXT, "a");
            sfs(&S, 1, CW_OP_PONG, "x");
            sfs(&S, 1, CW_OP_BINARY, "b");
            break;
        case 2:
            sf(&S, 0, CW_OP_BINARY, "0123456789012345678901234567890123456789", 40);
            sf(&S, 1, CW_OP_CONT, "0123456789012345678901234567890123456789", 40);
            break;
        case 3:
            sfs(&S, 0, CW_OP_TEXT, "ok so far \xE2\x82");
            sfs(&S, 1, CW_OP_CONT, "\xACstill ok \xED\xBF\xBF then bad");
            break;
        case 4:
            sf_raw(&S, 0x82, "unmasked", 8, 0);
            break;
        case 5:
            sfs(&S, 1, CW_OP_TEXT, "trailing \xF0\x9F\x98");
            break;
        }
        sfs(&S, 1, CW_OP_TEXT, "never");
        static tctx first;
        result r0 = drive_whole(&rx, &S, 64);
        CHECK_EQ(r0.rc, codes[e]);
        CHECK_EQ(T.nmsgs, 1);
        memcpy(&first, &T, sizeof first);
        int bad = 0;
        for (int direct = 0; direct < 2; direct++) {
            for (size_t a = 0; a <= S.n; a++) {
                reset(&rx);
                size_t cuts[2] = {a, S.n};
                result r = drive(&rx, S.b, cuts, 2, direct, 64);
                if (r.rc != codes[e] || !same_log(&T, &first))
                    bad++;
            }
            for (size_t chunk = 1; chunk < 20; chunk++) {
                reset(&rx);
                result r = drive_chunks(&rx, &S, chunk, direct, 64);
                if (r.rc != codes[e] || !same_log(&T, &first))
                    bad++;
            }
        }
        if (bad)
            fprintf(stderr, "  error stream %d: %d differing runs\n", e, bad);
        CHECK_EQ(bad, 0);
    }
}

int main(void)
{
    RUN(test_single_frame_in_place);
    RUN(test_many_frames_one_read);
    RUN(test_fragmented_text);
    RUN(test_fragmented_binary);
    RUN(test_control_interleaved);
    RUN(test_continuation_without_start);
    RUN(test_new_message_inside_fragmented);
    RUN(test_protocol_errors);
    RUN(test_max_message);
    RUN(test_utf8_fail_fast);
    RUN(test_message_ends_mid_character);
    RUN(test_zero_length);
    RUN(test_partial_input);
    RUN(test_reserve_failure);
    RUN(test_buffer_growth);
    RUN(test_callback_stop);
    RUN(test_direct_path);
    RUN(test_every_split_point);
    RUN(test_large_frames_split);
    RUN(test_error_streams_split);
    return cw_unit_done();
}
