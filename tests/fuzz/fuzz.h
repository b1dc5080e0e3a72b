/* SPDX-License-Identifier: MIT */
/* fuzz.h: what every fuzz target shares. A target defines
 * LLVMFuzzerTestOneInput; it is linked either with libFuzzer (make fuzz,
 * clang) or with replay.c (make check: every seed and every regression
 * input replayed under the normal compiler, and under ASan+UBSan with
 * SANITIZE=1). A target aborts (FUZZ_ASSERT) when an oracle fails. */
#ifndef CW_FUZZ_H
#define CW_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: fuzz oracle failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* A small deterministic generator (xorshift32) seeded from input bytes:
 * read sizes, split points and the like. */
typedef struct {
    uint32_t s;
} fuzz_rng;

static inline void fuzz_rng_seed(fuzz_rng *r, uint32_t seed)
{
    r->s = seed * 2654435761u + 0x9e3779b9u;
    if (!r->s)
        r->s = 1;
}

static inline uint32_t fuzz_rng_next(fuzz_rng *r)
{
    uint32_t x = r->s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    r->s = x;
    return x;
}

/* 1..max, small values more likely (the interesting splits are short). */
static inline size_t fuzz_rng_chunk(fuzz_rng *r, size_t max)
{
    uint32_t v = fuzz_rng_next(r);
    size_t lim = (v & 3) == 0 ? 2 : (v & 3) == 1 ? 16 : (v & 3) == 2 ? 300 : max;
    if (lim > max)
        lim = max;
    return lim ? 1 + (size_t)((v >> 2) % lim) : 0;
}

#endif
