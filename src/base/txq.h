/* SPDX-License-Identifier: MIT */
/* txq.h: one connection's send queue: a list of segments that are either
 * I/O blocks owned by the queue or references to a shared frame encoded
 * once for many connections. Gathered into iovecs for one writev. */
#ifndef CW_TXQ_H
#define CW_TXQ_H

#include "base/pool.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* A frame encoded once and queued on many connections (group broadcast). */
typedef struct cw_txq_shared {
    uint32_t refs;
    uint32_t len;
    uint8_t data[];
} cw_txq_shared;

typedef struct cw_txseg {
    struct cw_txseg *next;
    uint8_t *data;
    uint32_t len;      /* valid bytes at data */
    uint32_t off;      /* bytes of those already sent */
    cw_txq_shared *shared; /* NULL: an owned I/O block, data follows this header */
} cw_txseg;

typedef struct cw_txq {
    cw_txseg *head, *tail;
    uint32_t bytes; /* queued, not yet sent */
    uint32_t owed;  /* the caller's: bytes to send before the queue counts
                     * as drained (conn.c's stalled-reader check) */
} cw_txq;

/* Bytes queued on every connection together, now and at most. */
typedef struct {
    size_t now, high;
} cw_txq_totals;
extern cw_txq_totals cw_txq_bytes;

/* Segments that point into a shared frame instead of holding bytes
 * (CONFIG_TX_REFS of them). cw_txq_init empties the pool. */
extern cw_pool cw_txq_ref_pool;
void cw_txq_init(void);

/* Queues a[0..an) then b[0..bn) (a frame header and its payload), copying
 * them into I/O blocks. All or nothing: CW_ENOMEM leaves q unchanged. */
int cw_txq_append(cw_txq *q, const void *a, size_t an, const void *b, size_t bn);
/* The same for an answer that must get out (an HTTP status, a close
 * frame): it may use the I/O pool's reserve. */
int cw_txq_append_answer(cw_txq *q, const void *a, size_t an, const void *b, size_t bn);
/* Puts bytes in front of everything queued (the 101 response head ahead of
 * frames a consumer sent from connect), from the reserve if need be.
 * CW_ENOMEM when no block is free. */
int cw_txq_prepend(cw_txq *q, const void *p, size_t n);
/* Queues a reference to sh (taking one reference). CW_ENOMEM when no
 * reference entry is free. */
int cw_txq_append_shared(cw_txq *q, cw_txq_shared *sh);
/* Fills up to max iovecs with the unsent bytes; returns how many. */
int cw_txq_iov(const cw_txq *q, struct iovec *iov, int max);
/* Marks n bytes as sent, freeing segments that are done. */
void cw_txq_consume(cw_txq *q, size_t n);
/* Drops everything queued. */
void cw_txq_clear(cw_txq *q);

/* A shared buffer of len bytes with one reference, or NULL. */
cw_txq_shared *cw_txq_shared_new(size_t len);
void cw_txq_shared_unref(cw_txq_shared *sh);

#endif
