/* SPDX-License-Identifier: MIT */
/* fuzz_frame.c: frame headers, masking and close payloads as pure
 * functions. Oracles: a parsed header re-encodes (minimally) to a header
 * that parses to the same fields; the parser never claims more bytes than
 * it was given and wants more only when the header is really cut short;
 * the word-at-a-time mask equals the byte-at-a-time definition at every
 * alignment and key offset; close payloads are judged by the RFC's rules. */
#include "fuzz.h"

#include "base/utf8.h"
#include "proto/frame.h"

#include <string.h>

static int code_ok(unsigned c)
{
    return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int require = data[0] & 1;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    cw_frame_hdr h;
    int hl = cw_frame_parse(p, n, require, &h);
    FUZZ_ASSERT(hl <= (int)n && hl <= CW_FRAME_MAX_HEADER);
    if (hl > 0) {
        FUZZ_ASSERT(hl == h.hdr_len && hl >= 2);
        FUZZ_ASSERT(h.opcode <= 2 || (h.opcode >= 8 && h.opcode <= 10));
        if (h.opcode >= 8)
            FUZZ_ASSERT(h.fin && h.len <= CW_FRAME_MAX_CONTROL);
        FUZZ_ASSERT(h.len < (1ull << 63));
        FUZZ_ASSERT(!require || h.masked);
        uint8_t out[CW_FRAME_MAX_HEADER];
        size_t ol = cw_frame_header(out, h.opcode, h.fin, h.len, h.masked ? h.mask : NULL);
        cw_frame_hdr g;
        FUZZ_ASSERT(cw_frame_parse(out, ol, require, &g) == (int)ol);
        FUZZ_ASSERT(g.len == h.len && g.opcode == h.opcode && g.fin == h.fin &&
                    g.masked == h.masked && memcmp(g.mask, h.mask, 4) == 0);
        FUZZ_ASSERT(ol <= (size_t)hl); /* ours is minimal */
        /* Cut short anywhere: "need more", never an error or a header. */
        for (size_t k = 0; k < ol; k++)
            FUZZ_ASSERT(cw_frame_parse(out, k, require, &g) == 0);
    } else if (hl < 0) {
        FUZZ_ASSERT(-hl == CW_CLOSE_PROTOCOL);
    }
    /* Masking: word-at-a-time vs the definition, at every alignment. */
    static uint8_t a[4096 + 16], b[4096 + 16];
    size_t m = n > 4096 ? 4096 : n;
    size_t align = data[0] >> 5, off = (data[0] >> 1) & 3;
    uint8_t key[4] = {p[0], p[n > 1 ? 1 : 0], 0x5a, (uint8_t)n};
    memcpy(a + align, p, m);
    memcpy(b + align, p, m);
    cw_frame_mask(a + align, m, key, off);
    for (size_t i = 0; i < m; i++)
        b[align + i] ^= key[(off + i) & 3];
    FUZZ_ASSERT(memcmp(a + align, b + align, m) == 0);
    /* Close payloads. */
    uint16_t code = 0;
    size_t cl = n > 125 ? 125 : n;
    int bad = cw_frame_close_parse(p, cl, &code);
    if (cl == 0)
        FUZZ_ASSERT(bad == 0);
    else if (cl == 1 || !code_ok((unsigned)p[0] << 8 | p[1]))
        FUZZ_ASSERT(bad == CW_CLOSE_PROTOCOL);
    else if (!cw_utf8_valid(p + 2, cl - 2))
        FUZZ_ASSERT(bad == CW_CLOSE_INVALID_DATA);
    else
        FUZZ_ASSERT(bad == 0 && code == ((unsigned)p[0] << 8 | p[1]));
    return 0;
}
