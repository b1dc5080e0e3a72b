/* SPDX-License-Identifier: MIT */
/* plan.h: the memory plan's arithmetic (src/plan.c): how many resident
 * bytes a pool of static blocks can come to, in whole pages. Pure
 * functions, unit-tested (tests/unit/test_plan.c). */
#ifndef CW_PLAN_H
#define CW_PLAN_H

#include <stdint.h>

/* The most resident bytes `blocks` blocks of `block_size` bytes can take,
 * handed out from the start of a static array, when at most `touched`
 * bytes at the start of each block are ever written (touched >=
 * block_size: all of it), with pages of `page` bytes (a power of two).
 * The array's start is not page-aligned: one page more. Never more than
 * the whole array of `count` blocks (plus that page). */
uint64_t cw_plan_pool_bytes(uint64_t block_size, uint64_t count, uint64_t blocks,
                            uint64_t touched, uint64_t page);
/* n rounded up to whole pages. */
uint64_t cw_plan_pages(uint64_t n, uint64_t page);
/* "12345" with an optional K, M or G suffix (powers of 1024) into *out:
 * 0, or -1 (empty, not a number, another suffix, overflow). */
int cw_plan_parse_bytes(const char *s, uint64_t *out);

#endif
