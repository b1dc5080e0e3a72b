/* SPDX-License-Identifier: MIT */
/* fuzz_core_wire.c: reading channels_redis.core queue members
 * (src/channels/core_wire.c). Oracles: cw_core_unwrap never reads past the
 * member, accepts or refuses without reporting targets for a refused one;
 * what it accepts leaves exactly one msgpack map with nothing after it;
 * wrapping that map again with the targets it reported (as a group send)
 * and unwrapping gives the same map and targets back; scores parse to -1
 * or a value that formats and parses back to itself; shards are in range. */
#include "fuzz.h"

#include "chanwire.h"
#include "channels/core_wire.h"
#include "proto/msgpack.h"

#include <string.h>

#define MAX_T 64

struct tl {
    const char *p[MAX_T];
    size_t n[MAX_T];
    unsigned count;
};

static void collect(const char *name, size_t len, void *ctx)
{
    struct tl *t = ctx;
    if (t->count < MAX_T) {
        t->p[t->count] = name;
        t->n[t->count] = len;
    }
    t->count++;
}

static uint8_t out[1 << 17], again[1 << 17], back[1 << 17];
static char names[MAX_T][300];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > sizeof out / 2)
        return 0;
    struct tl t = {{0}, {0}, 0};
    size_t ol = 0;
    int rc = cw_core_unwrap(data, size, out, sizeof out, &ol, collect, &t);
    FUZZ_ASSERT(rc == 0 || rc == CW_EINVAL || rc == CW_ETOOBIG);
    if (rc != 0) {
        FUZZ_ASSERT(t.count == 0);
    } else {
        size_t pos = 0, left = 1;
        while (left) { /* the output is one whole map */
            cw_msgpack_obj o;
            FUZZ_ASSERT(cw_msgpack_read(out, ol, &pos, &o) == 0);
            left--;
            if (o.type == CW_MSGPACK_ARRAY)
                left += o.n;
            else if (o.type == CW_MSGPACK_MAP)
                left += 2u * o.n;
            FUZZ_ASSERT(left <= ol);
        }
        FUZZ_ASSERT(pos == ol);
        unsigned k = t.count < MAX_T ? t.count : MAX_T;
        const char *tp[MAX_T];
        int names_ok = 1;
        for (unsigned i = 0; i < k; i++) {
            if (t.n[i] >= sizeof names[i] || memchr(t.p[i], 0, t.n[i])) {
                names_ok = 0;
                break;
            }
            memcpy(names[i], t.p[i], t.n[i]);
            names[i][t.n[i]] = 0;
            tp[i] = names[i];
        }
        uint8_t rnd[CW_CORE_RANDOM] = {0};
        long wl = names_ok && k == t.count && k > 0
                      ? cw_core_member(again, sizeof again, rnd, out, ol, 1, tp, k)
                      : -1;
        if (wl > 0) {
            struct tl t2 = {{0}, {0}, 0};
            size_t bl = 0;
            FUZZ_ASSERT(cw_core_unwrap(again, (size_t)wl, back, sizeof back, &bl, collect, &t2) == 0);
            FUZZ_ASSERT(bl == ol && memcmp(back, out, ol) == 0);
            FUZZ_ASSERT(t2.count == k);
            for (unsigned i = 0; i < k; i++)
                FUZZ_ASSERT(t2.n[i] == strlen(names[i]) && memcmp(t2.p[i], names[i], t2.n[i]) == 0);
        }
    }
    int64_t s = cw_core_score_parse((const char *)data, size);
    if (s >= 0) {
        char b[40];
        size_t n = cw_core_score_format(s, b, sizeof b);
        FUZZ_ASSERT(n > 0 && cw_core_score_parse(b, n) == s);
    }
    for (unsigned ring = 1; ring <= 8; ring++)
        FUZZ_ASSERT(cw_core_shard((const char *)data, size, ring) < ring);
    return 0;
}
