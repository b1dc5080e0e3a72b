/* SPDX-License-Identifier: MIT */
/* fuzz_ws_rx.c: the receive side of RFC 6455 (frame headers, masking,
 * fragments, reassembly, control frames, incremental UTF-8) driven the way
 * conn.c drives it: reads of random sizes, the unconsumed tail carried in a
 * stash, large payloads read straight into the reassembly buffer, buffers
 * borrowed through the ops interface (here malloc'd to the exact size, so
 * a write past the block shows under ASan).
 * Oracles: the messages, control frames and final verdict do not depend on
 * how the stream was split into reads; text messages are valid UTF-8; no
 * message is larger than the limit; the stash never holds more than a
 * control frame; no buffer is held once no message is open; with buffers
 * refused the verdict is 1013 and nothing leaks.
 * Input: byte 0 = limit (low 3 bits) and flags, byte 1 seeds the reads,
 * the rest is the byte stream from the client. */
#include "fuzz.h"

#include "base/utf8.h"
#include "proto/frame.h"
#include "proto/ws_rx.h"

#include <string.h>

#define IO_BLOCK 4096
#define STASH_LIMIT (CW_FRAME_MAX_HEADER + CW_FRAME_MAX_CONTROL)

typedef struct {
    size_t max_message;
    int exact;        /* blocks of exactly the size asked for */
    int fail_every;   /* refuse every Nth reservation (0: never) */
    int stop_after;   /* the Nth message asks to stop (0: never) */
    int reserves, held, msgs, ctrls, refused;
    uint64_t hash;    /* transcript of everything delivered */
    size_t cap;       /* capacity of rx->msg */
} ctx;

static void mix(ctx *c, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        c->hash = (c->hash ^ b[i]) * 1099511628211ull;
}

static int reserve(void *vc, cw_ws_rx *rx, size_t need)
{
    ctx *c = vc;
    FUZZ_ASSERT(need <= c->max_message || need == 1);
    if (need == 0)
        need = 1;
    if (rx->msg && c->cap >= need)
        return 0;
    c->reserves++;
    if (c->fail_every && c->reserves % c->fail_every == 0) {
        c->refused++;
        return -1;
    }
    size_t cap = c->exact ? need : need <= IO_BLOCK ? IO_BLOCK : c->max_message;
    uint8_t *b = malloc(cap);
    FUZZ_ASSERT(b != NULL);
    if (rx->msg) {
        FUZZ_ASSERT(rx->msg_len <= c->cap);
        memcpy(b, rx->msg, rx->msg_len);
        free(rx->msg);
        c->held--;
    }
    rx->msg = b;
    c->cap = cap;
    c->held++;
    return 0;
}

static void release(void *vc, cw_ws_rx *rx)
{
    ctx *c = vc;
    FUZZ_ASSERT(rx->msg != NULL);
    free(rx->msg);
    rx->msg = NULL;
    c->cap = 0;
    c->held--;
}

static int message(void *vc, unsigned op, uint8_t *data, size_t len)
{
    ctx *c = vc;
    FUZZ_ASSERT(op == CW_OP_TEXT || op == CW_OP_BINARY);
    FUZZ_ASSERT(len <= c->max_message);
    FUZZ_ASSERT(len == 0 || data != NULL);
    if (op == CW_OP_TEXT)
        FUZZ_ASSERT(cw_utf8_valid(data, len));
    uint8_t h[5] = {'M', (uint8_t)op, (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16)};
    mix(c, h, sizeof h);
    if (len)
        mix(c, data, len);
    c->msgs++;
    return c->stop_after && c->msgs == c->stop_after;
}

static int control(void *vc, unsigned op, uint8_t *data, size_t len)
{
    ctx *c = vc;
    FUZZ_ASSERT(op == CW_OP_CLOSE || op == CW_OP_PING || op == CW_OP_PONG);
    FUZZ_ASSERT(len <= CW_FRAME_MAX_CONTROL);
    uint8_t h[3] = {'C', (uint8_t)op, (uint8_t)len};
    mix(c, h, sizeof h);
    if (len)
        mix(c, data, len);
    c->ctrls++;
    if (op != CW_OP_CLOSE)
        return 0;
    uint16_t code;
    int bad = cw_frame_close_parse(data, len, &code);
    FUZZ_ASSERT(bad == 0 || bad == CW_CLOSE_PROTOCOL || bad == CW_CLOSE_INVALID_DATA);
    if (!bad)
        FUZZ_ASSERT(code == CW_CLOSE_NO_STATUS || cw_frame_close_valid(code));
    return 1; /* conn.c stops reading frames after a close */
}

static const cw_ws_rx_ops ops = {reserve, release, message, control};

/* Feeds the stream like read_ws; rng NULL: one read of everything.
 * Returns the verdict; *rest gets the stash length at the end. */
static int drive(ctx *c, const uint8_t *in, size_t n, fuzz_rng *rng, size_t *rest)
{
    static uint8_t buf[STASH_LIMIT + (1u << 20)];
    uint8_t stash[STASH_LIMIT];
    size_t stash_len = 0, at = 0;
    cw_ws_rx rx;
    cw_ws_rx_init(&rx);
    int rc = CW_RX_OK;
    while (at < n && rc == CW_RX_OK) {
        size_t room;
        uint8_t *direct = cw_ws_rx_direct(&rx, &room);
        size_t want = rng ? fuzz_rng_chunk(rng, n - at) : n - at;
        if (direct && rng && (fuzz_rng_next(rng) & 1)) {
            FUZZ_ASSERT(stash_len == 0 && room > 0);
            if (want > room)
                want = room;
            FUZZ_ASSERT(rx.msg && rx.msg_len + want <= c->cap);
            memcpy(direct, in + at, want);
            at += want;
            rc = cw_ws_rx_direct_done(&rx, want, &ops, c);
            continue;
        }
        memcpy(buf, stash, stash_len);
        memcpy(buf + stash_len, in + at, want);
        at += want;
        size_t len = stash_len + want, used = 0;
        rc = cw_ws_rx_feed(&rx, buf, len, &used, c->max_message, &ops, c);
        FUZZ_ASSERT(used <= len);
        stash_len = 0;
        if (rc == CW_RX_OK) {
            /* only a frame header or a control frame waits */
            FUZZ_ASSERT(len - used <= STASH_LIMIT);
            stash_len = len - used;
            memcpy(stash, buf + used, stash_len);
        }
    }
    if (rc == CW_RX_OK || rc == CW_RX_STOPPED) {
        /* Between messages nothing is held. */
        if (!rx.msg_op && rx.remaining == 0)
            FUZZ_ASSERT(rx.msg == NULL);
    } else {
        FUZZ_ASSERT(rc == CW_CLOSE_PROTOCOL || rc == CW_CLOSE_INVALID_DATA ||
                    rc == CW_CLOSE_TOO_BIG || rc == CW_RX_NOMEM);
        FUZZ_ASSERT(rc != CW_RX_NOMEM || c->refused > 0);
    }
    if (rx.msg) /* conn.c gives it back when the connection ends */
        release(c, &rx);
    FUZZ_ASSERT(c->held == 0);
    *rest = stash_len;
    return rc;
}

static const size_t limits[8] = {125, 126, 1000, 4096, 4097, 20000, 70000, 300000};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t flags = data[0];
    fuzz_rng rng;
    fuzz_rng_seed(&rng, data[1]);
    const uint8_t *in = data + 2;
    size_t n = size - 2;
    if (n > (1u << 20))
        n = 1u << 20;
    ctx a, b;
    memset(&a, 0, sizeof a);
    a.max_message = limits[flags & 7];
    a.exact = (flags >> 3) & 1;
    a.stop_after = (flags >> 4) & 3;
    b = a;
    size_t rest_a, rest_b;
    int ra = drive(&a, in, n, NULL, &rest_a);
    int rb = drive(&b, in, n, &rng, &rest_b);
    /* One read or many, straight into the buffer or not: the same. */
    FUZZ_ASSERT(ra == rb);
    FUZZ_ASSERT(a.hash == b.hash && a.msgs == b.msgs && a.ctrls == b.ctrls);
    if (ra == CW_RX_OK)
        FUZZ_ASSERT(rest_a == rest_b);
    if (flags & 0x40) {
        /* Buffers refused now and then: 1013, never a crash or a leak. */
        ctx f;
        memset(&f, 0, sizeof f);
        f.max_message = a.max_message;
        f.exact = a.exact;
        f.stop_after = a.stop_after;
        f.fail_every = 1 + (flags >> 7);
        fuzz_rng_seed(&rng, data[1] ^ 0x5a);
        size_t rest_f;
        int rf = drive(&f, in, n, &rng, &rest_f);
        FUZZ_ASSERT(f.refused ? rf == CW_RX_NOMEM : rf == ra);
    }
    return 0;
}
