/* SPDX-License-Identifier: MIT */
/* tls_arena.c: first-fit allocator over one array. Each block starts with a
 * 16-byte header holding its size (low bit: in use) and the previous
 * block's size, so freeing coalesces with both neighbours in O(1); free
 * blocks are kept on a doubly linked list threaded through their payload. */
#include "core/tls_arena.h"

#include <string.h>

#define ALIGN 16u
#define HDR 16u
#define MIN_BLOCK 48u /* header + two list pointers, rounded */
#define USED 1u

typedef struct {
    size_t size;      /* this block's size including the header; bit 0: used */
    size_t prev_size; /* the previous block's size, 0 for the first */
} hdr_t;

typedef struct freeblk {
    hdr_t h;
    struct freeblk *next, *prev;
} freeblk;

static uint8_t *base;
static size_t arena_size;
static freeblk *free_head;
static cw_tls_arena_stats st;

static size_t bsize(const hdr_t *h)
{
    return h->size & ~(size_t)USED;
}

static hdr_t *next_of(hdr_t *h)
{
    uint8_t *n = (uint8_t *)h + bsize(h);
    return n < base + arena_size ? (hdr_t *)(void *)n : NULL;
}

static hdr_t *prev_of(hdr_t *h)
{
    return h->prev_size ? (hdr_t *)(void *)((uint8_t *)h - h->prev_size) : NULL;
}

static void list_add(freeblk *b)
{
    b->prev = NULL;
    b->next = free_head;
    if (free_head)
        free_head->prev = b;
    free_head = b;
}

static void list_del(freeblk *b)
{
    if (b->prev)
        b->prev->next = b->next;
    else
        free_head = b->next;
    if (b->next)
        b->next->prev = b->prev;
}

static void set_size(hdr_t *h, size_t size, size_t used)
{
    h->size = size | used;
    hdr_t *n = next_of(h);
    if (n)
        n->prev_size = size;
}

void cw_tls_arena_init(void *storage, size_t size)
{
    uintptr_t a = ((uintptr_t)storage + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1);
    size -= (size_t)(a - (uintptr_t)storage);
    size &= ~(size_t)(ALIGN - 1);
    base = (uint8_t *)a;
    arena_size = size;
    memset(&st, 0, sizeof st);
    st.size = size;
    free_head = NULL;
    if (size < MIN_BLOCK)
        return;
    freeblk *b = (freeblk *)(void *)base;
    b->h.size = size;
    b->h.prev_size = 0;
    list_add(b);
}

void *cw_tls_arena_calloc(size_t n, size_t size)
{
    if (size && n > ((size_t)-1 - HDR - ALIGN) / size) {
        st.failures++;
        return NULL;
    }
    size_t want = n * size;
    size_t need = (want + HDR + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need < MIN_BLOCK)
        need = MIN_BLOCK;
    freeblk *b = free_head;
    while (b && bsize(&b->h) < need)
        b = b->next;
    if (!b) {
        st.failures++;
        return NULL;
    }
    list_del(b);
    size_t have = bsize(&b->h);
    if (have - need >= MIN_BLOCK) {
        /* Split: the tail stays free. */
        set_size(&b->h, need, USED);
        freeblk *rest = (freeblk *)(void *)((uint8_t *)b + need);
        rest->h.prev_size = need;
        set_size(&rest->h, have - need, 0);
        list_add(rest);
    } else {
        set_size(&b->h, have, USED);
        need = have;
    }
    st.used += need;
    st.allocs++;
    if (st.used > st.high_water)
        st.high_water = st.used;
    void *p = (uint8_t *)b + HDR;
    memset(p, 0, want);
    return p;
}

void cw_tls_arena_free(void *p)
{
    if (!p)
        return;
    hdr_t *h = (hdr_t *)(void *)((uint8_t *)p - HDR);
    size_t size = bsize(h);
    st.used -= size;
    hdr_t *n = next_of(h);
    if (n && !(n->size & USED)) {
        list_del((freeblk *)(void *)n);
        size += bsize(n);
    }
    hdr_t *pv = prev_of(h);
    if (pv && !(pv->size & USED)) {
        list_del((freeblk *)(void *)pv);
        size += bsize(pv);
        h = pv;
    }
    set_size(h, size, 0);
    list_add((freeblk *)(void *)h);
}

void cw_tls_arena_get_stats(cw_tls_arena_stats *out)
{
    *out = st;
}

int cw_tls_arena_check(void)
{
    size_t used = 0, prev = 0, nfree = 0, listed = 0;
    for (hdr_t *h = (hdr_t *)(void *)base; h; h = next_of(h)) {
        if (h->prev_size != prev || bsize(h) < MIN_BLOCK || bsize(h) % ALIGN)
            return 0;
        if (h->size & USED)
            used += bsize(h);
        else
            nfree++;
        prev = bsize(h);
    }
    for (freeblk *b = free_head; b; b = b->next) {
        if (b->h.size & USED || (b->next && b->next->prev != b))
            return 0;
        if (++listed > nfree)
            return 0;
    }
    return used == st.used && listed == nfree;
}
