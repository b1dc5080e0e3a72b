/* SPDX-License-Identifier: MIT */
/* fuzz_msgpack.c: the MessagePack reader and writer of the Redis layer.
 * Oracles: the reader never reads past the buffer and always moves
 * forward; every item it reads, written again by the writer and read back,
 * has the same value; writing what was read back gives the same bytes again
 * (the writer's encoding is canonical: the smallest form, as packb's). */
#include "fuzz.h"

#include "chanwire.h"
#include "proto/msgpack.h"

#include <math.h>
#include <string.h>

#define MAX_ITEMS 512

/* Writes o; 0 when it is an ext (not written). */
static int put(cw_msgpack_w *w, const cw_msgpack_obj *o)
{
    switch (o->type) {
    case CW_MSGPACK_NIL: cw_msgpack_nil(w); return 1;
    case CW_MSGPACK_BOOL: cw_msgpack_bool(w, o->b); return 1;
    case CW_MSGPACK_UINT: cw_msgpack_uint(w, o->u); return 1;
    case CW_MSGPACK_INT: cw_msgpack_int(w, o->i); return 1;
    case CW_MSGPACK_FLOAT: cw_msgpack_float(w, o->f); return 1;
    case CW_MSGPACK_STR: cw_msgpack_str(w, o->ptr, o->n); return 1;
    case CW_MSGPACK_BIN: cw_msgpack_bin(w, o->ptr, o->n); return 1;
    case CW_MSGPACK_ARRAY: cw_msgpack_array(w, o->n); return 1;
    case CW_MSGPACK_MAP: cw_msgpack_map(w, o->n); return 1;
    default: return 0;
    }
}

/* Integers compare by value whichever family carried them. */
static int same(const cw_msgpack_obj *a, const cw_msgpack_obj *b)
{
    int ai = a->type == CW_MSGPACK_INT || a->type == CW_MSGPACK_UINT;
    int bi = b->type == CW_MSGPACK_INT || b->type == CW_MSGPACK_UINT;
    if (ai || bi) {
        if (!ai || !bi)
            return 0;
        int an = a->type == CW_MSGPACK_INT && a->i < 0, bn = b->type == CW_MSGPACK_INT && b->i < 0;
        if (an != bn)
            return 0;
        if (an)
            return a->i == b->i;
        uint64_t av = a->type == CW_MSGPACK_UINT ? a->u : (uint64_t)a->i;
        uint64_t bv = b->type == CW_MSGPACK_UINT ? b->u : (uint64_t)b->i;
        return av == bv;
    }
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case CW_MSGPACK_BOOL: return a->b == b->b;
    case CW_MSGPACK_FLOAT: return isnan(a->f) ? isnan(b->f) : a->f == b->f && signbit(a->f) == signbit(b->f);
    case CW_MSGPACK_STR:
    case CW_MSGPACK_BIN: return a->n == b->n && memcmp(a->ptr, b->ptr, a->n) == 0;
    case CW_MSGPACK_ARRAY:
    case CW_MSGPACK_MAP: return a->n == b->n;
    default: return 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *in = malloc(size ? size : 1); /* exactly the input: over-reads show */
    FUZZ_ASSERT(in != NULL);
    memcpy(in, data, size);
    static cw_msgpack_obj items[MAX_ITEMS];
    size_t pos = 0, n = 0;
    while (pos < size && n < MAX_ITEMS) {
        size_t before = pos;
        if (cw_msgpack_read(in, size, &pos, &items[n]) != 0)
            break;
        FUZZ_ASSERT(pos > before && pos <= size);
        const cw_msgpack_obj *o = &items[n];
        if (o->type == CW_MSGPACK_STR || o->type == CW_MSGPACK_BIN || o->type == CW_MSGPACK_EXT)
            FUZZ_ASSERT(o->ptr >= in && o->ptr + o->n <= in + pos);
        n++;
    }
    static uint8_t out1[1 << 17], out2[1 << 17];
    cw_msgpack_w w;
    cw_msgpack_w_init(&w, out1, sizeof out1);
    size_t kept = 0;
    static cw_msgpack_obj keep[MAX_ITEMS];
    for (size_t i = 0; i < n; i++)
        if (put(&w, &items[i]))
            keep[kept++] = items[i];
    if (w.err) {
        FUZZ_ASSERT(w.err == CW_ETOOBIG);
        free(in);
        return 0;
    }
    size_t len1 = w.len;
    pos = 0;
    cw_msgpack_w w2;
    cw_msgpack_w_init(&w2, out2, sizeof out2);
    for (size_t i = 0; i < kept; i++) {
        cw_msgpack_obj back;
        FUZZ_ASSERT(cw_msgpack_read(out1, len1, &pos, &back) == 0);
        FUZZ_ASSERT(same(&keep[i], &back));
        FUZZ_ASSERT(put(&w2, &back));
    }
    FUZZ_ASSERT(pos == len1);
    FUZZ_ASSERT(!w2.err && w2.len == len1 && memcmp(out1, out2, len1) == 0);
    free(in);
    return 0;
}
