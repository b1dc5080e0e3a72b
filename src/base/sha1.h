/* SPDX-License-Identifier: MIT */
/* sha1.h: SHA-1 (FIPS 180-4), only for Sec-WebSocket-Accept. */
#ifndef CW_SHA1_H
#define CW_SHA1_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[5];
    uint64_t total; /* bytes fed so far */
    uint8_t block[64];
    uint32_t fill;  /* bytes waiting in block */
} cw_sha1;

void cw_sha1_init(cw_sha1 *s);
void cw_sha1_update(cw_sha1 *s, const void *data, size_t len);
void cw_sha1_final(cw_sha1 *s, uint8_t digest[20]);

#endif
