/* SPDX-License-Identifier: MIT */
/* pool.c: fixed-size block pools. O(1) get and put, no locking (one thread),
 * lazy use of never-touched blocks so idle capacity costs no RSS. */
#include "base/pool.h"
#include "chanwire.h"

#include <stdio.h>

/* Every pool, for reports (cw_pool_report). */
#define MAX_POOLS 16
static cw_pool *registry[MAX_POOLS];
static unsigned registered;

void cw_pool_init(cw_pool *p, const char *name, void *storage, size_t block_size, uint32_t count)
{
    p->name = name;
    p->base = storage;
    p->block_size = (uint32_t)CW_POOL_ROUND(block_size);
    p->count = count;
    p->limit = count;
    p->reserve = 0;
    p->used = 0;
    p->high_water = 0;
    p->bump = 0;
    p->failures = 0;
    p->free_list = NULL;
    for (unsigned i = 0; i < registered; i++)
        if (registry[i] == p)
            return;
    if (registered < MAX_POOLS)
        registry[registered++] = p;
}

void *cw_pool_get(cw_pool *p)
{
    void *b;
    if (p->used + p->reserve >= p->limit) {
        p->failures++;
        return NULL;
    }
    if (p->free_list) {
        b = p->free_list;
        p->free_list = *(void **)b;
    } else if (p->bump < p->count) {
        b = p->base + (size_t)p->bump * p->block_size;
        p->bump++;
    } else {
        p->failures++;
        return NULL;
    }
    p->used++;
    if (p->used > p->high_water)
        p->high_water = p->used;
    return b;
}

void *cw_pool_get_reserved(cw_pool *p)
{
    uint32_t keep = p->reserve;
    p->reserve = 0;
    void *b = cw_pool_get(p);
    p->reserve = keep;
    return b;
}

void cw_pool_put(cw_pool *p, void *block)
{
    if (!block)
        return;
    *(void **)block = p->free_list;
    p->free_list = block;
    p->used--;
}

int cw_pool_owns(const cw_pool *p, const void *ptr)
{
    const uint8_t *q = ptr;
    return q >= p->base && q < p->base + (size_t)p->count * p->block_size;
}

uint32_t cw_pool_free_count(const cw_pool *p)
{
    return p->used + p->reserve < p->limit ? p->limit - p->used - p->reserve : 0;
}

uint32_t cw_pool_index(const cw_pool *p, const void *block)
{
    return (uint32_t)((size_t)((const uint8_t *)block - p->base) / p->block_size);
}

const cw_pool *cw_pool_at(unsigned i)
{
    return i < registered ? registry[i] : NULL;
}

size_t cw_pool_report(char *out, size_t cap)
{
    size_t n = 0;
    for (unsigned i = 0; i < registered && n < cap; i++) {
        const cw_pool *p = registry[i];
        int w = snprintf(out + n, cap - n, "pool %s %u/%u high %u failed %u\n", p->name, p->used,
                         p->limit, p->high_water, p->failures);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    return n < cap ? n : cap;
}
