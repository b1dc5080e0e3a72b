/* SPDX-License-Identifier: MIT */
/* fuzz_resp.c: the RESP2 reply tokenizer of the Redis layer, fed like the
 * layer feeds it (bytes appended as they arrive, the parser resumed on the
 * unconsumed rest). Oracles: the tokens (type, depth, index, value, bytes,
 * end of reply) and the verdict do not depend on the split; tokens point
 * inside the bytes given; "need more" is only said when more is really
 * needed and never asks for more than one line plus max_bulk; a command
 * written by cw_resp_command reads back as the same array of strings.
 * Input: byte 0 picks max_bulk, byte 1 seeds the splits, the rest is what
 * Redis sends (or, with byte 0 odd, arguments for cw_resp_command). */
#include "fuzz.h"

#include "chanwire.h"
#include "proto/resp.h"

#include <string.h>

typedef struct {
    uint64_t hash;
    unsigned tokens;
} trace;

static void mix(trace *t, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        t->hash = (t->hash ^ b[i]) * 1099511628211ull;
}

/* Returns 0 when everything was consumed or the stream stopped wanting
 * more, 1 on a protocol error. */
static int drive(const uint8_t *in, size_t n, size_t max_bulk, fuzz_rng *rng, trace *t)
{
    cw_resp_parser p;
    cw_resp_init(&p, max_bulk);
    uint8_t *buf = malloc(n ? n : 1);
    FUZZ_ASSERT(buf != NULL);
    size_t have = 0, off = 0, fed = 0;
    int rc = 0;
    while (fed < n || have > off) {
        size_t more = rng ? fuzz_rng_chunk(rng, n - fed) : n - fed;
        memcpy(buf + have, in + fed, more);
        have += more;
        fed += more;
        for (;;) {
            cw_resp_tok tok;
            /* exactly the bytes held: reads past them show under ASan */
            size_t len = have - off;
            uint8_t *view = malloc(len ? len : 1);
            FUZZ_ASSERT(view != NULL);
            memcpy(view, buf + off, len);
            long k = cw_resp_next(&p, view, len, &tok);
            if (k == CW_EINVAL) {
                free(view);
                rc = 1;
                goto out;
            }
            FUZZ_ASSERT(k >= 0 && (size_t)k <= len);
            if (k == 0) {
                free(view);
                FUZZ_ASSERT(p.need > len);
                FUZZ_ASSERT(p.need <= max_bulk + CW_RESP_LINE_MAX + 8);
                break;
            }
            FUZZ_ASSERT(tok.depth <= CW_RESP_MAX_DEPTH);
            if (tok.type == CW_RESP_SIMPLE || tok.type == CW_RESP_ERROR ||
                tok.type == CW_RESP_BULK) {
                FUZZ_ASSERT(tok.ptr >= view && tok.ptr + tok.len <= view + k);
                if (tok.type == CW_RESP_BULK)
                    FUZZ_ASSERT(tok.len <= max_bulk);
            }
            if (tok.type != CW_RESP_NONE) {
                int64_t f[6] = {tok.type, tok.depth, tok.index, tok.num, tok.end,
                                (int64_t)tok.len};
                mix(t, f, sizeof f);
                if (tok.ptr)
                    mix(t, tok.ptr, tok.len);
                t->tokens++;
            }
            free(view);
            off += (size_t)k;
        }
        if (fed == n)
            break;
    }
out:
    free(buf);
    return rc;
}

static void command(const uint8_t *in, size_t n)
{
    const char *argv[16];
    size_t lens[16];
    unsigned argc = 0;
    size_t at = 0;
    while (at < n && argc < 16) {
        size_t l = in[at] % 40;
        at++;
        if (l > n - at)
            l = n - at;
        argv[argc] = (const char *)in + at;
        lens[argc++] = l;
        at += l;
    }
    uint8_t out[1024];
    long w = cw_resp_command(out, sizeof out, argc, argv, lens);
    if (w == CW_ETOOBIG)
        return;
    FUZZ_ASSERT(w > 0 && (size_t)w <= sizeof out);
    cw_resp_parser p;
    cw_resp_init(&p, 4096);
    size_t off = 0;
    cw_resp_tok tok;
    long k = cw_resp_next(&p, out, (size_t)w, &tok);
    FUZZ_ASSERT(k > 0);
    off = (size_t)k;
    if (argc == 0) {
        FUZZ_ASSERT(tok.type == CW_RESP_ARRAY && tok.num == 0 && tok.end);
        FUZZ_ASSERT(off == (size_t)w);
        return;
    }
    FUZZ_ASSERT(tok.type == CW_RESP_ARRAY && tok.num == argc && !tok.end);
    for (unsigned i = 0; i < argc; i++) {
        k = cw_resp_next(&p, out + off, (size_t)w - off, &tok);
        FUZZ_ASSERT(k > 0 && tok.type == CW_RESP_BULK && tok.depth == 1 && tok.index == i);
        FUZZ_ASSERT(tok.len == lens[i] && memcmp(tok.ptr, argv[i], lens[i]) == 0);
        FUZZ_ASSERT(tok.end == (i + 1 == argc));
        off += (size_t)k;
    }
    FUZZ_ASSERT(off == (size_t)w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if (data[0] & 1) {
        command(data + 2, size - 2);
        return 0;
    }
    static const size_t bulks[4] = {0, 16, 300, 65536};
    size_t max_bulk = bulks[(data[0] >> 1) & 3];
    fuzz_rng rng;
    fuzz_rng_seed(&rng, data[1]);
    trace a = {0, 0}, b = {0, 0};
    int ra = drive(data + 2, size - 2, max_bulk, NULL, &a);
    int rb = drive(data + 2, size - 2, max_bulk, &rng, &b);
    FUZZ_ASSERT(ra == rb && a.tokens == b.tokens && a.hash == b.hash);
    return 0;
}
