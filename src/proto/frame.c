/* SPDX-License-Identifier: MIT */
/* frame.c: frame header codec, word-wise masking and close payloads. */
#include "proto/frame.h"
#include "base/utf8.h"

#include <string.h>

int cw_frame_parse(const uint8_t *p, size_t n, int require_mask, cw_frame_hdr *h)
{
    if (n < 2)
        return 0;
    uint8_t b0 = p[0], b1 = p[1];
    h->fin = (uint8_t)(b0 >> 7);
    h->opcode = b0 & 0x0F;
    h->masked = (uint8_t)(b1 >> 7);
    if (b0 & 0x70)
        return -CW_CLOSE_PROTOCOL; /* RSV1-3: no extension was negotiated */
    switch (h->opcode) {
    case CW_OP_CONT:
    case CW_OP_TEXT:
    case CW_OP_BINARY:
        break;
    case CW_OP_CLOSE:
    case CW_OP_PING:
    case CW_OP_PONG:
        if (!h->fin || (b1 & 0x7F) > CW_FRAME_MAX_CONTROL)
            return -CW_CLOSE_PROTOCOL;
        break;
    default:
        return -CW_CLOSE_PROTOCOL; /* reserved opcode */
    }
    if (require_mask && !h->masked)
        return -CW_CLOSE_PROTOCOL;
    size_t need = 2;
    uint64_t len = b1 & 0x7F;
    if (len == 126)
        need += 2;
    else if (len == 127)
        need += 8;
    if (h->masked)
        need += 4;
    if (n < need)
        return 0;
    size_t i = 2;
    if (len == 126) {
        len = (uint64_t)p[2] << 8 | p[3];
        i = 4;
    } else if (len == 127) {
        if (p[2] & 0x80)
            return -CW_CLOSE_PROTOCOL; /* the most significant bit MUST be 0 */
        len = 0;
        for (i = 2; i < 10; i++)
            len = len << 8 | p[i];
    }
    h->len = len;
    if (h->masked)
        memcpy(h->mask, p + i, 4);
    else
        memset(h->mask, 0, 4);
    h->hdr_len = (uint8_t)need;
    return (int)need;
}

size_t cw_frame_header(uint8_t out[CW_FRAME_MAX_HEADER], unsigned opcode, int fin, uint64_t len,
                       const uint8_t *mask)
{
    size_t i;
    out[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0F));
    uint8_t m = mask ? 0x80 : 0;
    if (len < 126) {
        out[1] = (uint8_t)(m | len);
        i = 2;
    } else if (len <= 0xFFFF) {
        out[1] = m | 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        i = 4;
    } else {
        out[1] = m | 127;
        for (unsigned k = 0; k < 8; k++)
            out[2 + k] = (uint8_t)(len >> (56 - 8 * k));
        i = 10;
    }
    if (mask) {
        memcpy(out + i, mask, 4);
        i += 4;
    }
    return i;
}

void cw_frame_mask(uint8_t *p, size_t n, const uint8_t key[4], size_t offset)
{
    size_t k = offset & 3;
    /* Bytes until p is word aligned, rotating through the key. */
    while (n > 0 && ((uintptr_t)p & 7)) {
        *p++ ^= key[k];
        k = (k + 1) & 3;
        n--;
    }
    if (n >= 8) {
        uint8_t rot[8];
        for (unsigned i = 0; i < 8; i++)
            rot[i] = key[(k + i) & 3];
        uint64_t w8;
        memcpy(&w8, rot, 8);
        while (n >= 8) {
            uint64_t v;
            memcpy(&v, p, 8);
            v ^= w8;
            memcpy(p, &v, 8);
            p += 8;
            n -= 8;
        }
    }
    while (n > 0) {
        *p++ ^= key[k];
        k = (k + 1) & 3;
        n--;
    }
}

int cw_frame_close_valid(unsigned code)
{
    if (code >= 3000 && code <= 4999)
        return 1; /* registered libraries (3xxx) and private use (4xxx) */
    if (code >= 1000 && code <= 1003)
        return 1;
    /* 1004 reserved, 1005/1006 never sent, 1015 TLS failure never sent */
    return code >= 1007 && code <= 1014;
}

int cw_frame_close_parse(const uint8_t *p, size_t n, uint16_t *code)
{
    if (n == 0) {
        *code = CW_CLOSE_NO_STATUS;
        return 0;
    }
    if (n == 1)
        return CW_CLOSE_PROTOCOL;
    unsigned c = (unsigned)p[0] << 8 | p[1];
    if (!cw_frame_close_valid(c))
        return CW_CLOSE_PROTOCOL;
    if (!cw_utf8_valid(p + 2, n - 2))
        return CW_CLOSE_INVALID_DATA;
    *code = (uint16_t)c;
    return 0;
}
