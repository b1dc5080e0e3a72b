/* SPDX-License-Identifier: MIT */
/* core_wire.c: channels_redis.core's member bytes and shard formula (see
 * core_wire.h). Pure: no I/O, no state. */
#include "channels/core_wire.h"
#include "chanwire.h"
#include "proto/msgpack.h"

#include <stdio.h>
#include <string.h>

#define ROUTE_KEY "__asgi_channel__"
#define ROUTE_LEN 16

uint32_t cw_crc32(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= b[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

unsigned cw_core_shard(const char *name, size_t len, unsigned ring)
{
    if (ring <= 1)
        return 0;
    /* the same IEEE double operations as int(bigval / (4096 / float(ring))) */
    double big = (double)(cw_crc32(name, len) & 0xFFFu);
    double divisor = 4096.0 / (double)ring;
    unsigned i = (unsigned)(big / divisor);
    return i < ring ? i : ring - 1;
}

size_t cw_core_nonlocal_len(const char *name)
{
    const char *b = strchr(name, '!');
    return b ? (size_t)(b - name) + 1 : strlen(name);
}

size_t cw_core_score_format(int64_t us, char *out, size_t cap)
{
    if (us < 0)
        us = 0;
    int n = snprintf(out, cap, "%lld.%06lld", (long long)(us / 1000000), (long long)(us % 1000000));
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

int64_t cw_core_score_parse(const char *p, size_t n)
{
    int64_t sec = 0, frac = 0;
    size_t i = 0;
    int digits = 0;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        if (i >= 11)
            return -1; /* past year 5138: not a time */
        sec = sec * 10 + (p[i] - '0');
    }
    if (i == 0)
        return -1;
    if (i < n && p[i] == '.') {
        for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            if (digits < 6) {
                frac = frac * 10 + (p[i] - '0');
                digits++;
            }
    }
    if (i != n || sec > 18000000000ll)
        return -1;
    while (digits++ < 6)
        frac *= 10;
    return sec * 1000000 + frac;
}

int cw_core_expired(int64_t score_us, int64_t now_us, unsigned expiry_s)
{
    return score_us < now_us - (int64_t)expiry_s * 1000000;
}

/* Skips one whole item at *pos, containers and all, without recursion. */
static int skip(const uint8_t *p, size_t n, size_t *pos)
{
    uint64_t left = 1;
    while (left) {
        cw_msgpack_obj o;
        if (cw_msgpack_read(p, n, pos, &o) < 0)
            return CW_EINVAL;
        left--;
        if (o.type == CW_MSGPACK_ARRAY)
            left += o.n;
        else if (o.type == CW_MSGPACK_MAP)
            left += 2ull * o.n;
        if (left > n) /* more items than bytes left: truncated */
            return CW_EINVAL;
    }
    return 0;
}

long cw_core_member(uint8_t *out, size_t cap, const uint8_t rnd[CW_CORE_RANDOM],
                    const uint8_t *msg, size_t len, int array, const char *const *targets,
                    unsigned ntargets)
{
    size_t pos = 0;
    cw_msgpack_obj o;
    if (cw_msgpack_read(msg, len, &pos, &o) < 0 || o.type != CW_MSGPACK_MAP || o.n >= 0xFFFFu ||
        (!array && ntargets != 1))
        return CW_EINVAL;
    size_t head = pos, body = len - head;
    size_t nh = cw_msgpack_container_head(o.n + 1);
    if (cap < CW_CORE_RANDOM + nh + body)
        return CW_ETOOBIG;
    memcpy(out, rnd, CW_CORE_RANDOM);
    cw_msgpack_put_container(out + CW_CORE_RANDOM, 1, o.n + 1);
    memmove(out + CW_CORE_RANDOM + nh, msg + head, body);
    cw_msgpack_w w;
    size_t at = CW_CORE_RANDOM + nh + body;
    cw_msgpack_w_init(&w, out + at, cap - at);
    cw_msgpack_str(&w, ROUTE_KEY, ROUTE_LEN);
    if (array)
        cw_msgpack_array(&w, ntargets);
    for (unsigned i = 0; i < ntargets; i++)
        cw_msgpack_cstr(&w, targets[i]);
    if (w.err)
        return CW_ETOOBIG;
    return (long)(at + w.len);
}

int cw_core_unwrap(const uint8_t *member, size_t n, uint8_t *out, size_t cap, size_t *outlen,
                   void (*fn)(const char *name, size_t len, void *ctx), void *ctx)
{
    if (n <= CW_CORE_RANDOM)
        return CW_EINVAL;
    const uint8_t *p = member + CW_CORE_RANDOM;
    n -= CW_CORE_RANDOM;
    size_t pos = 0;
    cw_msgpack_obj o;
    if (cw_msgpack_read(p, n, &pos, &o) < 0 || o.type != CW_MSGPACK_MAP)
        return CW_EINVAL;
    uint32_t entries = o.n;
    size_t rstart = 0, rend = 0, vstart = 0; /* the route entry's span, its value's start */
    for (uint32_t i = 0; i < entries; i++) {
        size_t kstart = pos;
        cw_msgpack_obj k;
        if (cw_msgpack_read(p, n, &pos, &k) < 0)
            return CW_EINVAL;
        int route = k.type == CW_MSGPACK_STR && k.n == ROUTE_LEN &&
                    memcmp(k.ptr, ROUTE_KEY, ROUTE_LEN) == 0;
        if (k.type == CW_MSGPACK_ARRAY || k.type == CW_MSGPACK_MAP) {
            pos = kstart;
            if (skip(p, n, &pos) < 0)
                return CW_EINVAL;
        }
        size_t v = pos;
        if (skip(p, n, &pos) < 0)
            return CW_EINVAL;
        if (route && !rend) {
            rstart = kstart;
            vstart = v;
            rend = pos;
        }
    }
    if (pos != n)
        return CW_EINVAL; /* trailing bytes: Django's unpackb refuses them too */
    /* check the targets first: nothing is reported for a refused member */
    cw_msgpack_obj v;
    if (rend) {
        size_t at = vstart;
        if (cw_msgpack_read(p, n, &at, &v) < 0)
            return CW_EINVAL;
        if (v.type == CW_MSGPACK_ARRAY) {
            for (uint32_t i = 0; i < v.n; i++) {
                cw_msgpack_obj t;
                if (cw_msgpack_read(p, n, &at, &t) < 0 || t.type != CW_MSGPACK_STR)
                    return CW_EINVAL;
            }
        } else if (v.type != CW_MSGPACK_STR) {
            return CW_EINVAL;
        }
        entries--;
    }
    size_t head = 0;
    cw_msgpack_read(p, n, &head, &o); /* read fine above: the header's size */
    size_t nh = cw_msgpack_container_head(entries);
    size_t a0 = head, a1 = rend ? rstart : n, b0 = rend ? rend : n, b1 = n;
    if (cap < nh + (a1 - a0) + (b1 - b0))
        return CW_ETOOBIG;
    cw_msgpack_put_container(out, 1, entries);
    memcpy(out + nh, p + a0, a1 - a0);
    memcpy(out + nh + (a1 - a0), p + b0, b1 - b0);
    *outlen = nh + (a1 - a0) + (b1 - b0);
    if (rend) {
        size_t at = vstart;
        cw_msgpack_read(p, n, &at, &v);
        if (v.type == CW_MSGPACK_STR) {
            fn((const char *)v.ptr, v.n, ctx);
        } else {
            for (uint32_t i = 0; i < v.n; i++) {
                cw_msgpack_obj t;
                cw_msgpack_read(p, n, &at, &t);
                fn((const char *)t.ptr, t.n, ctx);
            }
        }
    }
    return 0;
}
