/* SPDX-License-Identifier: MIT */
/* utf8.h: incremental UTF-8 validation (RFC 3629) that fails on the first
 * byte that makes the input invalid: overlongs, surrogates and code points
 * above U+10FFFF are rejected as early as their prefix shows them. */
#ifndef CW_UTF8_H
#define CW_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define CW_UTF8_ACCEPT 0 /* at a character boundary: the text so far is valid */
#define CW_UTF8_REJECT 1 /* invalid; sticky */

/* Feeds n bytes to the validator in state `state`; returns the new state.
 * Any other value than the two above means "inside a character". */
uint8_t cw_utf8_step(uint8_t state, const uint8_t *p, size_t n);

/* Whole-buffer check: 1 when p[0..n) is complete, valid UTF-8. */
int cw_utf8_valid(const uint8_t *p, size_t n);

#endif
