/* SPDX-License-Identifier: MIT */
/* txq.c: send-queue segments over the byte pools. Small frames from one
 * batch pack into the tail block, so a burst of replies leaves in one write. */
#include "base/txq.h"
#include "base/buf.h"
#include "chanwire.h"
#include "cw_config.h"

#include <string.h>

#define SEG_ROOM (CONFIG_IO_BUF_SIZE - sizeof(cw_txseg))

cw_pool cw_txq_ref_pool;
CW_POOL_STORAGE(ref_store, sizeof(cw_txseg), CONFIG_TX_REFS);

/* Shared frames small enough are packed into I/O blocks ("packs"), so a
 * burst of small broadcasts (a chat room's) takes a block per few dozen
 * messages, not one each. A pack counts its live frames in its first
 * bytes; it goes back to the pool with its last frame. Larger frames get a
 * block of their own, starting at the block's first byte. */
typedef struct {
    uint32_t live; /* frames in this pack not yet released */
    uint32_t used; /* bytes of the block taken, this header included */
} pack_hdr;
#define PACK_HDR ((sizeof(pack_hdr) + 7u) & ~(size_t)7u)

static pack_hdr *pack_cur; /* the pack new frames go into, or NULL */

void cw_txq_init(void)
{
    pack_cur = NULL;
    cw_txq_bytes.now = cw_txq_bytes.high = 0;
    cw_pool_init(&cw_txq_ref_pool, "txref", ref_store, sizeof(cw_txseg), CONFIG_TX_REFS);
}

static size_t tail_room(const cw_txq *q)
{
    const cw_txseg *t = q->tail;
    if (!t || t->shared)
        return 0;
    return SEG_ROOM - t->len;
}

static cw_txseg *new_block(cw_txq *q, int answer)
{
    cw_txseg *s = answer ? cw_pool_get_reserved(&cw_buf_io_pool) : cw_pool_get(&cw_buf_io_pool);
    if (!s)
        return NULL;
    s->next = NULL;
    s->data = (uint8_t *)(s + 1);
    s->len = 0;
    s->off = 0;
    s->shared = NULL;
    if (q->tail)
        q->tail->next = s;
    else
        q->head = s;
    q->tail = s;
    return s;
}

cw_txq_totals cw_txq_bytes;

/* Every queue's bytes together, and their most (for /metrics; nothing
 * without CONFIG_METRICS). */
static inline void total_add(size_t n)
{
#if defined(CONFIG_METRICS)
    cw_txq_bytes.now += n;
    if (cw_txq_bytes.now > cw_txq_bytes.high)
        cw_txq_bytes.high = cw_txq_bytes.now;
#else
    (void)n;
#endif
}

static inline void total_sub(size_t n)
{
#if defined(CONFIG_METRICS)
    cw_txq_bytes.now -= n;
#else
    (void)n;
#endif
}

static void copy_in(cw_txq *q, const uint8_t *p, size_t n, int answer)
{
    while (n > 0) {
        size_t room = tail_room(q);
        if (room == 0) {
            new_block(q, answer); /* cannot fail: counted beforehand */
            room = SEG_ROOM;
        }
        size_t take = n < room ? n : room;
        memcpy(q->tail->data + q->tail->len, p, take);
        q->tail->len += (uint32_t)take;
        q->bytes += (uint32_t)take;
        total_add(take);
        p += take;
        n -= take;
    }
}

static int append(cw_txq *q, const void *a, size_t an, const void *b, size_t bn, int answer)
{
    size_t total = an + bn, room = tail_room(q);
    if (total > room) {
        const cw_pool *io = &cw_buf_io_pool;
        size_t blocks = (total - room + SEG_ROOM - 1) / SEG_ROOM;
        if (blocks > (answer ? io->limit - io->used : cw_pool_free_count(io))) {
            cw_buf_io_pool.failures++;
            return CW_ENOMEM;
        }
    }
    copy_in(q, a, an, answer);
    copy_in(q, b, bn, answer);
    return 0;
}

int cw_txq_append(cw_txq *q, const void *a, size_t an, const void *b, size_t bn)
{
    return append(q, a, an, b, bn, 0);
}

int cw_txq_append_answer(cw_txq *q, const void *a, size_t an, const void *b, size_t bn)
{
    return append(q, a, an, b, bn, 1);
}

int cw_txq_prepend(cw_txq *q, const void *p, size_t n)
{
    if (!q->head)
        return append(q, p, n, NULL, 0, 1);
    if (n > SEG_ROOM)
        return CW_ETOOBIG;
    cw_txseg *s = cw_pool_get_reserved(&cw_buf_io_pool);
    if (!s)
        return CW_ENOMEM;
    s->data = (uint8_t *)(s + 1);
    memcpy(s->data, p, n);
    s->len = (uint32_t)n;
    s->off = 0;
    s->shared = NULL;
    s->next = q->head;
    q->head = s;
    q->bytes += (uint32_t)n;
    total_add(n);
    return 0;
}

int cw_txq_append_shared(cw_txq *q, cw_txq_shared *sh)
{
    cw_txseg *s = cw_pool_get(&cw_txq_ref_pool);
    if (!s)
        return CW_ENOMEM;
    s->next = NULL;
    s->data = sh->data;
    s->len = sh->len;
    s->off = 0;
    s->shared = sh;
    sh->refs++;
    if (q->tail)
        q->tail->next = s;
    else
        q->head = s;
    q->tail = s;
    q->bytes += sh->len;
    total_add(sh->len);
    return 0;
}

int cw_txq_iov(const cw_txq *q, struct iovec *iov, int max)
{
    int n = 0;
    for (const cw_txseg *s = q->head; s && n < max; s = s->next) {
        if (s->len == s->off)
            continue;
        iov[n].iov_base = s->data + s->off;
        iov[n].iov_len = s->len - s->off;
        n++;
    }
    return n;
}

static void free_seg(cw_txseg *s)
{
    if (s->shared) {
        cw_txq_shared_unref(s->shared);
        cw_pool_put(&cw_txq_ref_pool, s);
    } else {
        cw_pool_put(&cw_buf_io_pool, s);
    }
}

void cw_txq_consume(cw_txq *q, size_t n)
{
    q->bytes -= (uint32_t)n;
    total_sub(n);
    while (q->head) {
        cw_txseg *s = q->head;
        size_t left = s->len - s->off;
        if (n < left) {
            s->off += (uint32_t)n;
            return;
        }
        n -= left;
        q->head = s->next;
        if (!q->head)
            q->tail = NULL;
        free_seg(s);
    }
}

void cw_txq_clear(cw_txq *q)
{
    while (q->head) {
        cw_txseg *s = q->head;
        q->head = s->next;
        free_seg(s);
    }
    q->tail = NULL;
    total_sub(q->bytes);
    q->bytes = 0;
    q->owed = 0;
}

static pack_hdr *pack_of(const cw_txq_shared *sh)
{
    const cw_pool *io = &cw_buf_io_pool;
    return (pack_hdr *)(void *)(io->base + (size_t)cw_pool_index(io, sh) * io->block_size);
}

cw_txq_shared *cw_txq_shared_new(size_t len)
{
    size_t need = (sizeof(cw_txq_shared) + len + 7u) & ~(size_t)7u;
    cw_txq_shared *sh;
    if (need <= CONFIG_IO_BUF_SIZE - PACK_HDR) {
        if (pack_cur && pack_cur->used + need > CONFIG_IO_BUF_SIZE)
            pack_cur = NULL; /* full: its frames free it */
        if (!pack_cur) {
            pack_cur = cw_pool_get(&cw_buf_io_pool);
            if (!pack_cur)
                return NULL;
            pack_cur->live = 0;
            pack_cur->used = PACK_HDR;
        }
        sh = (cw_txq_shared *)(void *)((uint8_t *)pack_cur + pack_cur->used);
        pack_cur->used += (uint32_t)need;
        pack_cur->live++;
    } else {
        size_t cap;
        if (!(sh = cw_buf_get(sizeof(cw_txq_shared) + len, &cap)))
            return NULL;
    }
    sh->refs = 1;
    sh->len = (uint32_t)len;
    return sh;
}

void cw_txq_shared_unref(cw_txq_shared *sh)
{
    if (--sh->refs != 0)
        return;
    pack_hdr *p = cw_pool_owns(&cw_buf_io_pool, sh) ? pack_of(sh) : NULL;
    if (!p || (void *)p == (void *)sh) {
        cw_buf_put(sh); /* a block of its own */
        return;
    }
    if (--p->live == 0) {
        if (p == pack_cur)
            pack_cur = NULL;
        cw_pool_put(&cw_buf_io_pool, p);
    }
}
