/* SPDX-License-Identifier: MIT */
/* fuzz_utf8.c: the incremental UTF-8 validator against a plain reference
 * (RFC 3629 table 3-7 as a decoder). Oracles: the whole-buffer answer
 * agrees with the reference; fed one byte at a time the validator rejects
 * at exactly the first byte after which no continuation could make the
 * text valid ("fails fast"), and is at a boundary exactly where the
 * reference is; fed in random pieces it ends in the same state. */
#include "fuzz.h"

#include "base/utf8.h"

/* Reference: 1 while p[0..n) can still be extended to valid UTF-8; *done
 * is 1 when it is valid as it stands. */
static int viable(const uint8_t *p, size_t n, int *done)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = p[i];
        size_t need;
        uint8_t lo = 0x80, hi = 0xBF;
        if (b < 0x80) {
            i++;
            continue;
        } else if (b >= 0xC2 && b <= 0xDF) {
            need = 1;
        } else if (b == 0xE0) {
            need = 2;
            lo = 0xA0;
        } else if (b == 0xED) {
            need = 2;
            hi = 0x9F;
        } else if (b >= 0xE1 && b <= 0xEF) {
            need = 2;
        } else if (b == 0xF0) {
            need = 3;
            lo = 0x90;
        } else if (b == 0xF4) {
            need = 3;
            hi = 0x8F;
        } else if (b >= 0xF1 && b <= 0xF3) {
            need = 3;
        } else {
            return 0;
        }
        for (size_t k = 1; k <= need; k++) {
            if (i + k >= n) {
                *done = 0;
                return 1; /* a character cut short: could still be valid */
            }
            uint8_t c = p[i + k];
            uint8_t l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
            if (c < l || c > h)
                return 0;
        }
        i += need + 1;
    }
    *done = 1;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    fuzz_rng rng;
    fuzz_rng_seed(&rng, data[0]);
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    int done = 0, ok = viable(p, n, &done);
    FUZZ_ASSERT(cw_utf8_valid(p, n) == (ok && done));
    /* Byte by byte: reject exactly where the reference stops being viable. */
    uint8_t st = CW_UTF8_ACCEPT;
    for (size_t i = 0; i < n; i++) {
        st = cw_utf8_step(st, p + i, 1);
        int d = 0, v = viable(p, i + 1, &d);
        FUZZ_ASSERT((st == CW_UTF8_REJECT) == !v);
        if (v)
            FUZZ_ASSERT((st == CW_UTF8_ACCEPT) == d);
        if (!v)
            break;
    }
    /* In random pieces: the same final verdict. */
    uint8_t s2 = CW_UTF8_ACCEPT;
    for (size_t at = 0; at < n;) {
        size_t k = fuzz_rng_chunk(&rng, n - at);
        s2 = cw_utf8_step(s2, p + at, k);
        at += k;
    }
    uint8_t s1 = cw_utf8_step(CW_UTF8_ACCEPT, p, n);
    FUZZ_ASSERT((s1 == CW_UTF8_REJECT) == (s2 == CW_UTF8_REJECT));
    FUZZ_ASSERT((s1 == CW_UTF8_ACCEPT) == (s2 == CW_UTF8_ACCEPT));
    FUZZ_ASSERT((s1 == CW_UTF8_REJECT) == !ok);
    return 0;
}
