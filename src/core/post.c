/* SPDX-License-Identifier: MIT */
/* post.c: cw_post, the one call other threads may make (CONFIG_POSTS). A
 * bounded multi-producer, single-consumer ring of CONFIG_POST_QUEUE cells
 * in static storage: each cell carries a sequence number that says whose
 * turn it is (the producer that claimed its position, or the loop), so
 * producers claim positions with one compare-and-swap and never wait for
 * each other or for the loop (lock-free; no mutex, so it is also safe from
 * a signal handler). A producer that finds the loop not yet woken writes
 * the wake-up descriptor (port: eventfd, or a pipe); the loop runs at most
 * one ring's worth per wake-up, so posts cannot starve the sockets. */
#include "core/post.h"
#include "chanwire.h"
#include "core/reactor.h"
#include "cw_config.h"
#include "port.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define Q CONFIG_POST_QUEUE
#if (Q & (Q - 1)) != 0
#error "CONFIG_POST_QUEUE must be a power of two"
#endif

struct cell {
    _Atomic uint32_t seq; /* == position: free for its producer; position + 1: full */
    void (*fn)(void *arg);
    void *arg;
};

static struct cell ring[Q];
static _Atomic uint32_t enq_pos;   /* next position a producer claims */
static uint32_t deq_pos;           /* next position the loop runs (loop thread only) */
static _Atomic int wake_pending;   /* the wake-up descriptor was written, not yet read */
static _Atomic int accepting;      /* between cw_posts_open and cw_posts_close */
static struct cw_io wake_io;

int cw_post(cw_server *s, void (*fn)(void *arg), void *arg)
{
    if (!fn)
        return CW_EINVAL;
    if (!s || !atomic_load_explicit(&accepting, memory_order_acquire))
        return CW_ECLOSED;
    uint32_t pos = atomic_load_explicit(&enq_pos, memory_order_relaxed);
    struct cell *c;
    for (;;) {
        c = &ring[pos & (Q - 1)];
        uint32_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
        int32_t d = (int32_t)(seq - pos);
        if (d == 0) {
            if (atomic_compare_exchange_weak_explicit(&enq_pos, &pos, pos + 1,
                                                      memory_order_relaxed, memory_order_relaxed))
                break;
        } else if (d < 0) {
            return CW_EFULL; /* the cell still holds a post from one turn ago */
        } else {
            pos = atomic_load_explicit(&enq_pos, memory_order_relaxed);
        }
    }
    c->fn = fn;
    c->arg = arg;
    atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
    if (!atomic_exchange_explicit(&wake_pending, 1, memory_order_acq_rel))
        cw_port_wakeup_signal();
    return 0;
}

static void on_wake(struct cw_io *io, unsigned events)
{
    (void)io;
    (void)events;
    cw_port_wakeup_drain();
    /* An exchange, not a store: it reads the flag a producer set after
     * publishing its cell, so that cell is visible below. */
    atomic_exchange_explicit(&wake_pending, 0, memory_order_acq_rel);
    unsigned n;
    for (n = 0; n < Q; n++) {
        struct cell *c = &ring[deq_pos & (Q - 1)];
        uint32_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
        if (seq != deq_pos + 1)
            break; /* empty, or its producer is still writing: it wakes us */
        void (*fn)(void *) = c->fn;
        void *arg = c->arg;
        atomic_store_explicit(&c->seq, deq_pos + Q, memory_order_release);
        deq_pos++;
        fn(arg);
    }
    if (n == Q && !atomic_exchange_explicit(&wake_pending, 1, memory_order_acq_rel))
        cw_port_wakeup_signal(); /* a full ring's worth run: the rest next time */
}

int cw_posts_open(void)
{
    for (uint32_t i = 0; i < Q; i++)
        atomic_store_explicit(&ring[i].seq, i, memory_order_relaxed);
    atomic_store_explicit(&enq_pos, 0, memory_order_relaxed);
    deq_pos = 0;
    atomic_store_explicit(&wake_pending, 0, memory_order_relaxed);
    int fd = cw_port_wakeup_open();
    if (fd < 0)
        return -1;
    if (cw_reactor_add(&wake_io, fd, CW_PORT_IN, on_wake) < 0) {
        cw_port_wakeup_close();
        return -1;
    }
    atomic_store_explicit(&accepting, 1, memory_order_release);
    return 0;
}

void cw_posts_close(void)
{
    if (!atomic_exchange_explicit(&accepting, 0, memory_order_acq_rel))
        return;
    cw_reactor_forget(&wake_io);
    cw_port_wakeup_close();
}
