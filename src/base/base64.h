/* SPDX-License-Identifier: MIT */
/* base64.h: RFC 4648 base64 with padding, and base64url without it (JWT). */
#ifndef CW_BASE64_H
#define CW_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Writes 4*ceil(n/3) chars plus a NUL; returns the length without the NUL,
 * or 0 when cap is too small. */
size_t cw_base64_encode(char *out, size_t cap, const uint8_t *in, size_t n);
/* Strict decode of padded base64 (no whitespace). Returns bytes written or
 * -1 on any invalid input or when cap is too small. */
long cw_base64_decode(uint8_t *out, size_t cap, const char *in, size_t n);
/* base64url (RFC 4648 section 5), padding optional. Same return convention. */
long cw_base64url_decode(uint8_t *out, size_t cap, const char *in, size_t n);

#endif
