/* SPDX-License-Identifier: MIT */
/* utf8.c: the validator as a small state machine. States name what the next
 * byte must be; ASCII runs are skipped a word at a time. */
#include "base/utf8.h"

#include <string.h>

enum {
    ACCEPT = CW_UTF8_ACCEPT,
    REJECT = CW_UTF8_REJECT,
    TAIL1,  /* one more 80..BF */
    TAIL2,  /* two more 80..BF */
    TAIL3,  /* three more 80..BF */
    AFTER_E0, /* A0..BF, then one more (no overlong 3-byte forms) */
    AFTER_ED, /* 80..9F, then one more (no surrogates D800..DFFF) */
    AFTER_F0, /* 90..BF, then two more (no overlong 4-byte forms) */
    AFTER_F4  /* 80..8F, then two more (nothing above U+10FFFF) */
};

static uint8_t lead(uint8_t b)
{
    if (b < 0x80)
        return ACCEPT;
    if (b < 0xC2)
        return REJECT; /* continuation byte, or C0/C1 overlong lead */
    if (b < 0xE0)
        return TAIL1;
    if (b == 0xE0)
        return AFTER_E0;
    if (b == 0xED)
        return AFTER_ED;
    if (b < 0xF0)
        return TAIL2;
    if (b == 0xF0)
        return AFTER_F0;
    if (b < 0xF4)
        return TAIL3;
    if (b == 0xF4)
        return AFTER_F4;
    return REJECT;
}

static uint8_t next(uint8_t s, uint8_t b)
{
    switch (s) {
    case ACCEPT:
        return lead(b);
    case TAIL1:
        return (b & 0xC0) == 0x80 ? ACCEPT : REJECT;
    case TAIL2:
        return (b & 0xC0) == 0x80 ? TAIL1 : REJECT;
    case TAIL3:
        return (b & 0xC0) == 0x80 ? TAIL2 : REJECT;
    case AFTER_E0:
        return (b >= 0xA0 && b <= 0xBF) ? TAIL1 : REJECT;
    case AFTER_ED:
        return (b >= 0x80 && b <= 0x9F) ? TAIL1 : REJECT;
    case AFTER_F0:
        return (b >= 0x90 && b <= 0xBF) ? TAIL2 : REJECT;
    case AFTER_F4:
        return (b >= 0x80 && b <= 0x8F) ? TAIL2 : REJECT;
    default:
        return REJECT;
    }
}

uint8_t cw_utf8_step(uint8_t state, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (state == REJECT)
            return REJECT;
        if (state == ACCEPT) {
            /* Skip ASCII eight bytes at a time. */
            while (i + 8 <= n) {
                uint64_t w;
                memcpy(&w, p + i, 8);
                if (w & 0x8080808080808080ull)
                    break;
                i += 8;
            }
            while (i < n && p[i] < 0x80)
                i++;
            if (i == n)
                break;
        }
        state = next(state, p[i]);
        i++;
    }
    return state;
}

int cw_utf8_valid(const uint8_t *p, size_t n)
{
    return cw_utf8_step(ACCEPT, p, n) == ACCEPT;
}
