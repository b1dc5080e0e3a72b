/* SPDX-License-Identifier: MIT */
/* msgpack.c: MessagePack writer and reader for the Redis channel layer,
 * byte-compatible with msgpack-python 1.0's packb(use_bin_type=True): the
 * smallest int/str/bin/container form, float64 for floats, no ext written. */
#include "cw_config.h"
#ifdef CONFIG_LAYER_REDIS
#include "proto/msgpack.h"
#include "chanwire.h"

#include <string.h>

void cw_msgpack_w_init(cw_msgpack_w *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->err = 0;
}

static uint8_t *room(cw_msgpack_w *w, size_t n)
{
    if (w->err || n > w->cap - w->len) {
        w->err = CW_ETOOBIG;
        return NULL;
    }
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

static void be(uint8_t *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static void head(cw_msgpack_w *w, uint8_t tag, uint64_t v, unsigned bytes)
{
    uint8_t *p = room(w, 1 + bytes);
    if (p) {
        p[0] = tag;
        be(p + 1, v, bytes);
    }
}

size_t cw_msgpack_container_head(uint32_t n)
{
    return n < 16 ? 1 : n <= 0xffff ? 3 : 5;
}

size_t cw_msgpack_str_head(size_t n)
{
    return n < 32 ? 1 : n <= 0xff ? 2 : n <= 0xffff ? 3 : 5;
}

void cw_msgpack_put_container(uint8_t *out, int map, uint32_t n)
{
    if (n < 16) {
        out[0] = (uint8_t)((map ? 0x80 : 0x90) | n);
    } else if (n <= 0xffff) {
        out[0] = map ? 0xde : 0xdc;
        be(out + 1, n, 2);
    } else {
        out[0] = map ? 0xdf : 0xdd;
        be(out + 1, n, 4);
    }
}

void cw_msgpack_put_str_head(uint8_t *out, size_t n)
{
    if (n < 32) {
        out[0] = (uint8_t)(0xa0 | n);
    } else if (n <= 0xff) {
        out[0] = 0xd9;
        out[1] = (uint8_t)n;
    } else if (n <= 0xffff) {
        out[0] = 0xda;
        be(out + 1, n, 2);
    } else {
        out[0] = 0xdb;
        be(out + 1, n, 4);
    }
}

static void container(cw_msgpack_w *w, int map, uint32_t n)
{
    uint8_t *p = room(w, cw_msgpack_container_head(n));
    if (p)
        cw_msgpack_put_container(p, map, n);
}

void cw_msgpack_map(cw_msgpack_w *w, uint32_t n)
{
    container(w, 1, n);
}

void cw_msgpack_array(cw_msgpack_w *w, uint32_t n)
{
    container(w, 0, n);
}

void cw_msgpack_str(cw_msgpack_w *w, const void *s, size_t n)
{
    if (n > 0xffffffffu) {
        w->err = CW_ETOOBIG;
        return;
    }
    uint8_t *p = room(w, cw_msgpack_str_head(n) + n);
    if (!p)
        return;
    cw_msgpack_put_str_head(p, n);
    memcpy(p + cw_msgpack_str_head(n), s, n);
}

void cw_msgpack_cstr(cw_msgpack_w *w, const char *s)
{
    cw_msgpack_str(w, s, strlen(s));
}

void cw_msgpack_bin(cw_msgpack_w *w, const void *data, size_t n)
{
    if (n > 0xffffffffu) {
        w->err = CW_ETOOBIG;
        return;
    }
    unsigned hb = n <= 0xff ? 1 : n <= 0xffff ? 2 : 4;
    head(w, n <= 0xff ? 0xc4 : n <= 0xffff ? 0xc5 : 0xc6, n, hb);
    uint8_t *p = room(w, n);
    if (p && n)
        memcpy(p, data, n);
}

void cw_msgpack_uint(cw_msgpack_w *w, uint64_t v)
{
    if (v < 0x80) {
        uint8_t *p = room(w, 1);
        if (p)
            p[0] = (uint8_t)v;
    } else if (v <= 0xff) {
        head(w, 0xcc, v, 1);
    } else if (v <= 0xffff) {
        head(w, 0xcd, v, 2);
    } else if (v <= 0xffffffffu) {
        head(w, 0xce, v, 4);
    } else {
        head(w, 0xcf, v, 8);
    }
}

void cw_msgpack_int(cw_msgpack_w *w, int64_t v)
{
    if (v >= 0) {
        cw_msgpack_uint(w, (uint64_t)v);
    } else if (v >= -32) {
        uint8_t *p = room(w, 1);
        if (p)
            p[0] = (uint8_t)(int8_t)v;
    } else if (v >= INT8_MIN) {
        head(w, 0xd0, (uint64_t)v, 1);
    } else if (v >= INT16_MIN) {
        head(w, 0xd1, (uint64_t)v, 2);
    } else if (v >= INT32_MIN) {
        head(w, 0xd2, (uint64_t)v, 4);
    } else {
        head(w, 0xd3, (uint64_t)v, 8);
    }
}

void cw_msgpack_float(cw_msgpack_w *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    head(w, 0xcb, bits, 8);
}

void cw_msgpack_nil(cw_msgpack_w *w)
{
    uint8_t *p = room(w, 1);
    if (p)
        p[0] = 0xc0;
}

void cw_msgpack_bool(cw_msgpack_w *w, int v)
{
    uint8_t *p = room(w, 1);
    if (p)
        p[0] = v ? 0xc3 : 0xc2;
}

/* ---- reading ---- */

static uint64_t get_be(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

/* Takes `bytes` of length/value after the tag; then n bytes of payload. */
static int take(const uint8_t *buf, size_t len, size_t *pos, unsigned bytes, uint64_t *v)
{
    if (len - *pos < bytes)
        return -1;
    *v = get_be(buf + *pos, bytes);
    *pos += bytes;
    return 0;
}

static int payload(const uint8_t *buf, size_t len, size_t *pos, uint64_t n, cw_msgpack_obj *o)
{
    if (n > len - *pos)
        return -1;
    o->ptr = buf + *pos;
    o->n = (uint32_t)n;
    *pos += (size_t)n;
    return 0;
}

int cw_msgpack_read(const uint8_t *buf, size_t len, size_t *pos, cw_msgpack_obj *o)
{
    memset(o, 0, sizeof *o);
    if (*pos >= len)
        return CW_EINVAL;
    uint8_t t = buf[(*pos)++];
    uint64_t v = 0;
    if (t < 0x80) {
        o->type = CW_MSGPACK_UINT;
        o->u = t;
        return 0;
    }
    if (t >= 0xe0) {
        o->type = CW_MSGPACK_INT;
        o->i = (int8_t)t;
        return 0;
    }
    if ((t & 0xf0) == 0x80 || (t & 0xf0) == 0x90) {
        o->type = (t & 0xf0) == 0x80 ? CW_MSGPACK_MAP : CW_MSGPACK_ARRAY;
        o->n = t & 0x0f;
        return 0;
    }
    if ((t & 0xe0) == 0xa0) {
        o->type = CW_MSGPACK_STR;
        return payload(buf, len, pos, t & 0x1f, o) < 0 ? CW_EINVAL : 0;
    }
    int rc = 0;
    switch (t) {
    case 0xc0: o->type = CW_MSGPACK_NIL; return 0;
    case 0xc2:
    case 0xc3: o->type = CW_MSGPACK_BOOL; o->b = t == 0xc3; return 0;
    case 0xc4: case 0xc5: case 0xc6: {
        unsigned hb = t == 0xc4 ? 1 : t == 0xc5 ? 2 : 4;
        o->type = CW_MSGPACK_BIN;
        rc = take(buf, len, pos, hb, &v) < 0 || payload(buf, len, pos, v, o) < 0;
        break;
    }
    case 0xd9: case 0xda: case 0xdb: {
        unsigned hb = t == 0xd9 ? 1 : t == 0xda ? 2 : 4;
        o->type = CW_MSGPACK_STR;
        rc = take(buf, len, pos, hb, &v) < 0 || payload(buf, len, pos, v, o) < 0;
        break;
    }
    case 0xc7: case 0xc8: case 0xc9: {
        unsigned hb = t == 0xc7 ? 1 : t == 0xc8 ? 2 : 4;
        uint64_t et = 0;
        o->type = CW_MSGPACK_EXT;
        rc = take(buf, len, pos, hb, &v) < 0 || take(buf, len, pos, 1, &et) < 0 ||
             payload(buf, len, pos, v, o) < 0;
        o->ext = (int8_t)(uint8_t)et;
        break;
    }
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: {
        uint64_t et = 0;
        o->type = CW_MSGPACK_EXT;
        rc = take(buf, len, pos, 1, &et) < 0 || payload(buf, len, pos, 1u << (t - 0xd4), o) < 0;
        o->ext = (int8_t)(uint8_t)et;
        break;
    }
    case 0xca: {
        float f;
        uint32_t b32;
        o->type = CW_MSGPACK_FLOAT;
        if (take(buf, len, pos, 4, &v) < 0)
            return CW_EINVAL;
        b32 = (uint32_t)v;
        memcpy(&f, &b32, sizeof f);
        o->f = f;
        return 0;
    }
    case 0xcb:
        o->type = CW_MSGPACK_FLOAT;
        if (take(buf, len, pos, 8, &v) < 0)
            return CW_EINVAL;
        memcpy(&o->f, &v, sizeof o->f);
        return 0;
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
        o->type = CW_MSGPACK_UINT;
        rc = take(buf, len, pos, 1u << (t - 0xcc), &o->u) < 0;
        break;
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        unsigned bytes = 1u << (t - 0xd0);
        o->type = CW_MSGPACK_INT;
        if (take(buf, len, pos, bytes, &v) < 0)
            return CW_EINVAL;
        if (bytes < 8 && (v >> (bytes * 8 - 1)) & 1)
            v |= ~0ull << (bytes * 8); /* sign-extend */
        o->i = (int64_t)v;
        return 0;
    }
    case 0xdc: case 0xdd:
        o->type = CW_MSGPACK_ARRAY;
        rc = take(buf, len, pos, t == 0xdc ? 2 : 4, &v) < 0;
        o->n = (uint32_t)v;
        break;
    case 0xde: case 0xdf:
        o->type = CW_MSGPACK_MAP;
        rc = take(buf, len, pos, t == 0xde ? 2 : 4, &v) < 0;
        o->n = (uint32_t)v;
        break;
    default: /* 0xc1: never used */
        return CW_EINVAL;
    }
    return rc ? CW_EINVAL : 0;
}

#endif /* CONFIG_LAYER_REDIS */
