/* SPDX-License-Identifier: MIT */
/* sha256.h: SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for JWT HS256. */
#ifndef CW_SHA256_H
#define CW_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t total;
    uint8_t block[64];
    uint32_t fill;
} cw_sha256;

void cw_sha256_init(cw_sha256 *s);
void cw_sha256_update(cw_sha256 *s, const void *data, size_t len);
void cw_sha256_final(cw_sha256 *s, uint8_t digest[32]);

void cw_sha256_hmac(const uint8_t *key, size_t klen, const void *msg, size_t mlen,
                    uint8_t mac[32]);

#endif
