/* SPDX-License-Identifier: MIT */
/* test_tls_arena.c: the static arena that serves mbedTLS's calloc/free
 * (src/core/tls_arena.c; built in every configuration, no mbedTLS needed):
 * alignment, sizes and accounting, zeroing, split and coalesce with the
 * next block, the previous one and both, reuse, exhaustion and calloc
 * overflow (NULL, counted), tiny arenas, high water, and long random
 * alloc/free sequences checked with cw_tls_arena_check() and for overlap. */
#include "core/tls_arena.h"
#include "unit.h"

#include <stdint.h>
#include <string.h>

#define HDR 16   /* the block header of tls_arena.c */
#define MINB 48  /* its smallest block */

static _Alignas(16) uint8_t mem[(1u << 18) + 64];

static size_t need_of(size_t bytes)
{
    size_t n = (bytes + HDR + 15) & ~(size_t)15;
    return n < MINB ? MINB : n;
}

static cw_tls_arena_stats stats(void)
{
    cw_tls_arena_stats s;
    cw_tls_arena_get_stats(&s);
    return s;
}

static void test_init_and_alignment(void)
{
    /* A misaligned start and size: the arena rounds both to 16. */
    cw_tls_arena_init(mem + 3, 1000);
    cw_tls_arena_stats s = stats();
    CHECK_EQ(s.size, (1000 - 13) & ~(size_t)15);
    CHECK_EQ(s.used, 0);
    CHECK_EQ(s.high_water, 0);
    CHECK_EQ(s.allocs, 0);
    CHECK_EQ(s.failures, 0);
    CHECK(cw_tls_arena_check());
    uint8_t *p = cw_tls_arena_calloc(1, 1);
    CHECK(p != NULL);
    CHECK(p == mem + 16 + HDR); /* the first block starts at the aligned base */
    for (size_t n = 0; n < 300; n += 7) {
        cw_tls_arena_init(mem, sizeof mem);
        for (int i = 0; i < 8; i++) {
            void *q = cw_tls_arena_calloc(1, n + (size_t)i);
            CHECK(q != NULL);
            CHECK_EQ((uintptr_t)q % 16, 0);
        }
        CHECK(cw_tls_arena_check());
    }
}

static void test_sizes_and_accounting(void)
{
    cw_tls_arena_init(mem, 4096);
    size_t want[] = {0, 1, 31, 32, 33, 100, 1000};
    void *p[7];
    size_t used = 0;
    for (int i = 0; i < 7; i++) {
        p[i] = cw_tls_arena_calloc(1, want[i]);
        CHECK(p[i] != NULL);
        used += need_of(want[i]);
        CHECK_EQ(stats().used, used);
        CHECK_EQ(stats().allocs, i + 1);
        CHECK(cw_tls_arena_check());
    }
    CHECK_EQ(stats().high_water, used);
    /* Consecutive blocks: each starts where the one before ends. */
    for (int i = 1; i < 7; i++)
        CHECK((uint8_t *)p[i] == (uint8_t *)p[i - 1] + need_of(want[i - 1]));
    /* n * size is what counts, not n or size alone. */
    void *q = cw_tls_arena_calloc(25, 4);
    CHECK(q != NULL);
    CHECK_EQ(stats().used, used + need_of(100));
    cw_tls_arena_free(q);
    for (int i = 0; i < 7; i++)
        cw_tls_arena_free(p[i]);
    CHECK_EQ(stats().used, 0);
    CHECK_EQ(stats().high_water, used + need_of(100));
    cw_tls_arena_free(NULL); /* like free(NULL) */
    CHECK_EQ(stats().used, 0);
    CHECK(cw_tls_arena_check());
}

static void test_zeroing(void)
{
    memset(mem, 0xA5, sizeof mem);
    cw_tls_arena_init(mem, 8192);
    uint8_t *p = cw_tls_arena_calloc(100, 10);
    CHECK(p != NULL);
    static const uint8_t zero[1000];
    CHECK_MEM(p, zero, 1000);
    memset(p, 0xFF, 1000); /* the caller dirties it, frees it, gets it back */
    cw_tls_arena_free(p);
    uint8_t *q = cw_tls_arena_calloc(1000, 1);
    CHECK(q == p);
    CHECK_MEM(q, zero, 1000);
    /* A block split off a dirty free block is zeroed too. */
    memset(q, 0x5A, 1000);
    cw_tls_arena_free(q);
    uint8_t *r = cw_tls_arena_calloc(1, 200);
    CHECK(r == p);
    CHECK_MEM(r, zero, 200);
    CHECK(cw_tls_arena_check());
}

static void test_coalesce_with_next_previous_and_both(void)
{
    cw_tls_arena_init(mem, 8192);
    /* a b c d, then the tail (free) */
    uint8_t *a = cw_tls_arena_calloc(1, 200 - HDR);
    uint8_t *b = cw_tls_arena_calloc(1, 300 - HDR);
    uint8_t *c = cw_tls_arena_calloc(1, 400 - HDR);
    uint8_t *d = cw_tls_arena_calloc(1, 100 - HDR);
    CHECK(a && b && c && d);
    CHECK(b == a + 208 && c == b + 304 && d == c + 400);
    size_t used = stats().used;

    /* With the next one: free c, then b -> one block of 704 at b. */
    cw_tls_arena_free(c);
    cw_tls_arena_free(b);
    CHECK(cw_tls_arena_check());
    CHECK_EQ(stats().used, used - 304 - 400);
    uint8_t *bc = cw_tls_arena_calloc(1, 704 - HDR);
    CHECK(bc == b);
    CHECK_EQ(stats().used, used);
    cw_tls_arena_free(bc);

    /* Split again: b and c back in place. */
    b = cw_tls_arena_calloc(1, 300 - HDR);
    c = cw_tls_arena_calloc(1, 400 - HDR);
    CHECK(b == a + 208 && c == b + 304);

    /* With the previous one: free b, then c -> one block at b. */
    cw_tls_arena_free(b);
    cw_tls_arena_free(c);
    CHECK(cw_tls_arena_check());
    bc = cw_tls_arena_calloc(1, 704 - HDR);
    CHECK(bc == b);
    cw_tls_arena_free(bc);
    b = cw_tls_arena_calloc(1, 300 - HDR);
    c = cw_tls_arena_calloc(1, 400 - HDR);
    CHECK(b == a + 208 && c == b + 304);

    /* Both sides: free a and c, then b -> one block of 912 at a. */
    cw_tls_arena_free(a);
    cw_tls_arena_free(c);
    CHECK(cw_tls_arena_check());
    uint8_t *elsewhere = cw_tls_arena_calloc(1, 912 - HDR);
    CHECK(elsewhere != NULL && elsewhere != a); /* not yet: b sits between */
    cw_tls_arena_free(elsewhere);               /* (it came from the tail) */
    cw_tls_arena_free(b);
    CHECK(cw_tls_arena_check());
    uint8_t *abc = cw_tls_arena_calloc(1, 912 - HDR);
    CHECK(abc == a);
    CHECK_EQ(stats().used, 912 + 112);

    /* The last block merges with the free tail: then everything is one
     * block again, the whole arena in a single allocation. */
    cw_tls_arena_init(mem, 8192);
    a = cw_tls_arena_calloc(1, 1000);
    b = cw_tls_arena_calloc(1, 1000);
    cw_tls_arena_free(b);
    cw_tls_arena_free(a);
    CHECK_EQ(stats().used, 0);
    uint8_t *all = cw_tls_arena_calloc(1, 8192 - HDR);
    CHECK(all == a);
    CHECK_EQ(stats().used, 8192);
    CHECK(cw_tls_arena_calloc(1, 1) == NULL);
    cw_tls_arena_free(all);
    CHECK(cw_tls_arena_check());
}

static void test_no_split_of_a_remainder_too_small(void)
{
    cw_tls_arena_init(mem, 1024);
    uint8_t *a = cw_tls_arena_calloc(1, 200 - HDR);
    uint8_t *guard = cw_tls_arena_calloc(1, 1);
    (void)guard;
    cw_tls_arena_free(a);
    /* 176 of its 208 wanted: the 32 left would not make a block, so the
     * whole 208 is handed out (and counted). */
    size_t used = stats().used;
    uint8_t *b = cw_tls_arena_calloc(1, 176 - HDR);
    CHECK(b == a);
    CHECK_EQ(stats().used, used + 208);
    cw_tls_arena_free(b);
    CHECK_EQ(stats().used, used);
    CHECK(cw_tls_arena_check());
}

static void test_reuse(void)
{
    cw_tls_arena_init(mem, 65536);
    uint8_t *first = cw_tls_arena_calloc(1, 16384);
    size_t high = stats().high_water;
    cw_tls_arena_free(first);
    for (int i = 0; i < 1000; i++) {
        uint8_t *p = cw_tls_arena_calloc(1, 16384);
        CHECK(p == first);
        p[16383] = (uint8_t)i;
        cw_tls_arena_free(p);
    }
    CHECK_EQ(stats().used, 0);
    CHECK_EQ(stats().high_water, high);
    CHECK_EQ(stats().allocs, 1001);
    CHECK_EQ(stats().failures, 0);
    CHECK(cw_tls_arena_check());
}

static void test_exhaustion(void)
{
    cw_tls_arena_init(mem, 4096);
    void *p[200];
    int n = 0;
    while (n < 200 && (p[n] = cw_tls_arena_calloc(1, 100)) != NULL)
        n++;
    CHECK_EQ(n, 4096 / need_of(100));
    CHECK_EQ(stats().failures, 1);
    CHECK(cw_tls_arena_calloc(1, 100) == NULL);
    CHECK(cw_tls_arena_calloc(1, 1) == NULL || stats().used + MINB <= 4096);
    CHECK(cw_tls_arena_calloc(1, 5000) == NULL); /* larger than the arena */
    CHECK(cw_tls_arena_check());
    unsigned long failures = stats().failures;
    CHECK(failures >= 3);
    /* One freed: exactly one fits again. */
    cw_tls_arena_free(p[n / 2]);
    p[n / 2] = cw_tls_arena_calloc(1, 100);
    CHECK(p[n / 2] != NULL);
    CHECK(cw_tls_arena_calloc(1, 100) == NULL);
    CHECK_EQ(stats().failures, failures + 1);
    /* Free space that exists but is not in one piece does not serve a big
     * request: every other block freed is still fragmented. */
    for (int i = 0; i < n; i += 2)
        cw_tls_arena_free(p[i]);
    CHECK(cw_tls_arena_calloc(1, 2 * need_of(100)) == NULL);
    for (int i = 1; i < n; i += 2)
        cw_tls_arena_free(p[i]);
    CHECK_EQ(stats().used, 0);
    CHECK(cw_tls_arena_calloc(1, 4096 - HDR) != NULL); /* all coalesced */
    CHECK(cw_tls_arena_check());
}

static void test_calloc_overflow(void)
{
    cw_tls_arena_init(mem, 4096);
    void *keep = cw_tls_arena_calloc(1, 10);
    cw_tls_arena_stats before = stats();
    CHECK(cw_tls_arena_calloc(SIZE_MAX, 2) == NULL);
    CHECK(cw_tls_arena_calloc(2, SIZE_MAX / 2 + 1) == NULL);
    CHECK(cw_tls_arena_calloc(SIZE_MAX / 16, 16) == NULL);
    CHECK(cw_tls_arena_calloc(1, SIZE_MAX) == NULL);
    CHECK(cw_tls_arena_calloc(1, SIZE_MAX - 8) == NULL); /* + header wraps */
    CHECK(cw_tls_arena_calloc(SIZE_MAX - 8, 1) == NULL);
    CHECK(cw_tls_arena_calloc((size_t)1 << (sizeof(size_t) * 4), (size_t)1 << (sizeof(size_t) * 4)) == NULL);
    cw_tls_arena_stats after = stats();
    CHECK_EQ(after.failures, before.failures + 7);
    CHECK_EQ(after.used, before.used);
    CHECK_EQ(after.allocs, before.allocs);
    CHECK(cw_tls_arena_check());
    /* Zero elements or zero size: a (minimal) block, freeable. */
    void *z1 = cw_tls_arena_calloc(0, 100), *z2 = cw_tls_arena_calloc(100, 0);
    CHECK(z1 != NULL && z2 != NULL && z1 != z2);
    cw_tls_arena_free(z1);
    cw_tls_arena_free(z2);
    cw_tls_arena_free(keep);
    CHECK_EQ(stats().used, 0);
}

static void test_tiny_arenas(void)
{
    cw_tls_arena_init(mem, 0);
    CHECK(cw_tls_arena_calloc(1, 1) == NULL);
    CHECK_EQ(stats().failures, 1);
    cw_tls_arena_init(mem, MINB - 1);
    CHECK(cw_tls_arena_calloc(1, 1) == NULL);
    cw_tls_arena_init(mem + 1, MINB + 15); /* 48 after alignment */
    CHECK_EQ(stats().size, MINB);
    void *p = cw_tls_arena_calloc(1, MINB - HDR);
    CHECK(p != NULL);
    CHECK(cw_tls_arena_calloc(1, 1) == NULL);
    cw_tls_arena_free(p);
    CHECK(cw_tls_arena_calloc(1, MINB - HDR + 1) == NULL);
    CHECK(cw_tls_arena_calloc(1, 1) != NULL);
    CHECK(cw_tls_arena_check());
}

static void test_check_sees_corruption(void)
{
    /* So the checks above are not vacuous. */
    cw_tls_arena_init(mem, 4096);
    uint8_t *a = cw_tls_arena_calloc(1, 100);
    uint8_t *b = cw_tls_arena_calloc(1, 100);
    CHECK(a && b);
    CHECK(cw_tls_arena_check());
    size_t saved;
    memcpy(&saved, b - HDR + sizeof(size_t), sizeof saved); /* b's prev_size */
    size_t wrong = saved + 16;
    memcpy(b - HDR + sizeof(size_t), &wrong, sizeof wrong);
    CHECK(!cw_tls_arena_check());
    memcpy(b - HDR + sizeof(size_t), &saved, sizeof saved);
    CHECK(cw_tls_arena_check());
}

/* ---- random sequences ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

#define SLOTS 96

struct slot {
    uint8_t *p;
    size_t n;
    uint8_t tag;
};

/* Every live block is intact (its tag in every byte) and none overlaps
 * another (blocks are at least their size plus a header apart). */
static int live_ok(const struct slot *s)
{
    for (int i = 0; i < SLOTS; i++) {
        if (!s[i].p)
            continue;
        for (size_t k = 0; k < s[i].n; k++)
            if (s[i].p[k] != s[i].tag)
                return 0;
        for (int j = 0; j < SLOTS; j++) {
            if (j == i || !s[j].p)
                continue;
            const uint8_t *lo = s[i].p - HDR, *hi = s[i].p + s[i].n;
            const uint8_t *lo2 = s[j].p - HDR, *hi2 = s[j].p + s[j].n;
            if (lo < hi2 && lo2 < hi)
                return 0;
        }
    }
    return 1;
}

static void random_run(size_t arena, size_t max_size, int ops, uint64_t seed)
{
    rng_state = seed;
    cw_tls_arena_init(mem, arena);
    struct slot s[SLOTS];
    memset(s, 0, sizeof s);
    size_t floor = 0; /* sum of the minimal sizes of the live blocks */
    unsigned long fails = 0, allocs = 0;
    int bad_check = 0, bad_live = 0, bad_used = 0, bad_zero = 0;
    for (int op = 0; op < ops; op++) {
        int i = (int)(rnd() % SLOTS);
        if (s[i].p) {
            floor -= need_of(s[i].n);
            cw_tls_arena_free(s[i].p);
            s[i].p = NULL;
        } else {
            size_t n = (rnd() % 8 == 0) ? rnd() % (max_size + 1) : rnd() % 200;
            size_t cnt = 1, sz = n;
            if (n && rnd() % 3 == 0 && n % 4 == 0) {
                cnt = n / 4;
                sz = 4;
            }
            uint8_t *p = cw_tls_arena_calloc(cnt, sz);
            if (!p) {
                fails++;
                continue;
            }
            allocs++;
            for (size_t k = 0; k < n; k++)
                if (p[k]) {
                    bad_zero++;
                    break;
                }
            s[i].p = p;
            s[i].n = n;
            s[i].tag = (uint8_t)(op | 1);
            memset(p, s[i].tag, n);
            floor += need_of(n);
        }
        cw_tls_arena_stats st = stats();
        /* A block is its minimal size, or up to one minimal block more
         * when the remainder was too small to split off. */
        int live = 0;
        for (int k = 0; k < SLOTS; k++)
            live += s[k].p != NULL;
        if (st.used < floor || st.used > floor + (size_t)live * (MINB - 16))
            bad_used++;
        if (!cw_tls_arena_check())
            bad_check++;
        if (op % 64 == 0 && !live_ok(s))
            bad_live++;
    }
    CHECK_EQ(bad_check, 0);
    CHECK_EQ(bad_live, 0);
    CHECK_EQ(bad_used, 0);
    CHECK_EQ(bad_zero, 0);
    CHECK(live_ok(s));
    cw_tls_arena_stats st = stats();
    CHECK_EQ(st.failures, fails);
    CHECK_EQ(st.allocs, allocs);
    CHECK(st.high_water >= st.used && st.high_water <= st.size);
    for (int i = 0; i < SLOTS; i++)
        cw_tls_arena_free(s[i].p);
    CHECK_EQ(stats().used, 0);
    CHECK(cw_tls_arena_check());
    /* Everything coalesced back into one block. */
    CHECK(cw_tls_arena_calloc(1, stats().size - HDR) != NULL);
}

static void test_random_roomy(void)
{
    random_run(1u << 18, 8000, 20000, 0x1234567ull);
}

static void test_random_tight(void)
{
    /* Often full: exercises the failure path amid splits and merges. */
    random_run(16384, 3000, 20000, 0xfeedfaceull);
}

static void test_random_seeds(void)
{
    for (uint64_t seed = 1; seed <= 8; seed++)
        random_run(32768 + (size_t)seed * 1000, 1 + (size_t)seed * 700, 3000, seed * 0x9E3779B9ull);
}

static void test_high_water(void)
{
    cw_tls_arena_init(mem, 65536);
    void *a = cw_tls_arena_calloc(1, 10000);
    void *b = cw_tls_arena_calloc(1, 20000);
    size_t peak = stats().used;
    cw_tls_arena_free(b);
    void *c = cw_tls_arena_calloc(1, 5000);
    CHECK_EQ(stats().high_water, peak);
    cw_tls_arena_free(a);
    cw_tls_arena_free(c);
    CHECK_EQ(stats().used, 0);
    CHECK_EQ(stats().high_water, peak);
    /* Re-initialising starts the figures over. */
    cw_tls_arena_init(mem, 65536);
    CHECK_EQ(stats().high_water, 0);
    CHECK_EQ(stats().allocs, 0);
}

int main(void)
{
    RUN(test_init_and_alignment);
    RUN(test_sizes_and_accounting);
    RUN(test_zeroing);
    RUN(test_coalesce_with_next_previous_and_both);
    RUN(test_no_split_of_a_remainder_too_small);
    RUN(test_reuse);
    RUN(test_exhaustion);
    RUN(test_calloc_overflow);
    RUN(test_tiny_arenas);
    RUN(test_check_sees_corruption);
    RUN(test_random_roomy);
    RUN(test_random_tight);
    RUN(test_random_seeds);
    RUN(test_high_water);
    return cw_unit_done();
}
