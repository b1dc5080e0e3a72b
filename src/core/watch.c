/* SPDX-License-Identifier: MIT */
/* watch.c: the application's descriptor watches (cw_watch_*,
 * CONFIG_WATCHES): a static pool of CONFIG_MAX_WATCHES slots, each a
 * reactor io with the application's callback. A slot given up during a
 * batch is not handed out again in that batch, since the poller may still
 * hold an event for it: the event then finds the slot stopped and is
 * dropped, instead of reaching another watch. */
#include "core/watch.h"
#include "chanwire.h"
#include "core/reactor.h"
#include "cw_config.h"
#include "port.h"

#include <errno.h>
#include <stddef.h>

struct cw_watch {
    struct cw_io io;     /* first: the reactor hands it back */
    cw_watch_cb cb;
    void *arg;
    uint32_t freed_in;   /* the batch it was stopped in */
    uint8_t used;
    uint8_t stopped;     /* freed_in is meaningful */
};

static struct cw_watch pool[CONFIG_MAX_WATCHES];

static void on_ready(struct cw_io *io, unsigned ev)
{
    struct cw_watch *w = (struct cw_watch *)(void *)io;
    if (!w->used)
        return; /* stopped earlier in this batch */
    unsigned out = 0;
    if ((ev & CW_PORT_IN) && (io->events & CW_PORT_IN))
        out |= CW_WATCH_IN;
    if ((ev & CW_PORT_OUT) && (io->events & CW_PORT_OUT))
        out |= CW_WATCH_OUT;
    if (ev & CW_PORT_FAULT)
        out |= CW_WATCH_ERR;
    if (ev & CW_PORT_HUP)
        out |= CW_WATCH_HUP;
    if (out)
        w->cb(w, io->fd, out, w->arg);
}

int cw_watch_start(cw_server *s, int fd, unsigned events, cw_watch_cb cb, void *arg,
                   cw_watch **out)
{
    if (!s || !cb || !out || (events & ~(unsigned)(CW_WATCH_IN | CW_WATCH_OUT)))
        return CW_EINVAL;
    if (!cw_port_fd_valid(fd)) {
        errno = EBADF;
        return CW_EINVAL;
    }
    struct cw_watch *free_slot = NULL;
    uint32_t now = cw_reactor_batch();
    for (unsigned i = 0; i < CONFIG_MAX_WATCHES; i++) {
        struct cw_watch *w = &pool[i];
        if (w->used && w->io.fd == fd)
            return CW_EEXIST;
        if (!w->used && !free_slot && !(w->stopped && w->freed_in == now))
            free_slot = w;
    }
    if (!free_slot)
        return CW_ENOMEM;
    if (cw_reactor_add(&free_slot->io, fd, events, on_ready) < 0)
        return errno == EEXIST ? CW_EEXIST : CW_ESYS;
    free_slot->cb = cb;
    free_slot->arg = arg;
    free_slot->used = 1;
    *out = free_slot;
    return 0;
}

int cw_watch_set(cw_watch *w, unsigned events)
{
    if (!w || !w->used || (events & ~(unsigned)(CW_WATCH_IN | CW_WATCH_OUT)))
        return CW_EINVAL;
    return cw_reactor_set(&w->io, events) < 0 ? CW_ESYS : 0;
}

void cw_watch_stop(cw_watch *w)
{
    if (!w || !w->used)
        return;
    /* The fd may be closed already (a mistake the docs warn of): the
     * poller's answer is of no interest then. */
    cw_reactor_del(&w->io);
    w->used = 0;
    w->freed_in = cw_reactor_batch();
    w->stopped = (uint8_t)(w->freed_in & 1); /* during event dispatch only */
}

void cw_watches_init(void)
{
    for (unsigned i = 0; i < CONFIG_MAX_WATCHES; i++) {
        pool[i].used = 0;
        pool[i].stopped = 0;
    }
}

void cw_watches_fini(void)
{
    for (unsigned i = 0; i < CONFIG_MAX_WATCHES; i++)
        cw_watch_stop(&pool[i]);
}
