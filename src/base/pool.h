/* SPDX-License-Identifier: MIT */
/* pool.h: fixed-size block pools carved from static arrays (lwIP memp style).
 * A pool hands out blocks from a free list, counts use and high water, and
 * never touches a block it has not yet handed out, so RSS follows real use. */
#ifndef CW_POOL_H
#define CW_POOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct cw_pool {
    const char *name;
    uint8_t *base;
    uint32_t block_size; /* bytes per block, a multiple of CW_POOL_ALIGN */
    uint32_t count;      /* blocks in the array */
    uint32_t limit;      /* blocks that may be in use at once (<= count) */
    uint32_t reserve;    /* of those, kept for cw_pool_get_reserved (answers) */
    uint32_t used;       /* blocks in use now */
    uint32_t high_water; /* most blocks ever in use at once */
    uint32_t bump;       /* blocks [bump, count) have never been handed out */
    uint32_t failures;   /* requests refused because the pool was empty */
    void *free_list;     /* returned blocks, linked through their first word */
} cw_pool;

#define CW_POOL_ALIGN 16u
#define CW_POOL_ROUND(size) ((((size) + CW_POOL_ALIGN - 1) / CW_POOL_ALIGN) * CW_POOL_ALIGN)
/* Static storage for `count` blocks of `size` bytes. */
#define CW_POOL_STORAGE(var, size, count) \
    static _Alignas(CW_POOL_ALIGN) uint8_t var[(size_t)CW_POOL_ROUND(size) * (size_t)(count)]

void cw_pool_init(cw_pool *p, const char *name, void *storage, size_t block_size, uint32_t count);
/* A block, or NULL (counted in failures) when only the reserve is left. */
void *cw_pool_get(cw_pool *p);
/* The same, and may take the reserve's last blocks: for what must always
 * be said (an HTTP answer, a close frame), so the server can still say no
 * when ordinary traffic has taken the rest. */
void *cw_pool_get_reserved(cw_pool *p);
void cw_pool_put(cw_pool *p, void *block);
int cw_pool_owns(const cw_pool *p, const void *ptr);
/* Blocks cw_pool_get can still give (the reserve not counted). */
uint32_t cw_pool_free_count(const cw_pool *p);
/* Index of a block (0..count-1): stable identity for logs and handles. */
uint32_t cw_pool_index(const cw_pool *p, const void *block);
/* The i-th pool set up so far (every pool registers in cw_pool_init), or
 * NULL past the last: for reports. */
const cw_pool *cw_pool_at(unsigned i);

#endif
