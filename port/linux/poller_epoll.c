/* SPDX-License-Identifier: MIT */
/* poller_epoll.c: the Linux poller. Level-triggered epoll; the caller's
 * pointer rides in epoll_data so an event maps straight to its owner. */
#include "port.h"
#include "cw_config.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

static int epfd = -1;

static uint32_t to_epoll(unsigned ev)
{
    uint32_t e = 0;
    if (ev & CW_PORT_IN)
        e |= EPOLLIN | EPOLLRDHUP;
    if (ev & CW_PORT_OUT)
        e |= EPOLLOUT;
    return e;
}

int cw_port_poller_open(unsigned capacity)
{
    (void)capacity;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    return epfd < 0 ? -1 : 0;
}

void cw_port_poller_close(void)
{
    if (epfd >= 0)
        close(epfd);
    epfd = -1;
}

static int ctl(int op, int fd, unsigned events, void *udata)
{
    struct epoll_event e;
    e.events = to_epoll(events);
    e.data.ptr = udata;
    return epoll_ctl(epfd, op, fd, &e);
}

int cw_port_poller_add(int fd, unsigned events, void *udata)
{
    return ctl(EPOLL_CTL_ADD, fd, events, udata);
}

int cw_port_poller_mod(int fd, unsigned events, void *udata)
{
    return ctl(EPOLL_CTL_MOD, fd, events, udata);
}

int cw_port_poller_del(int fd)
{
    struct epoll_event e = {0};
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &e);
}

void cw_port_poller_forget(int fd)
{
    (void)fd; /* close() removes it from the epoll set: no syscall */
}

#define BATCH 256

int cw_port_poller_wait(cw_port_event *ev, int max, int timeout_ms)
{
    struct epoll_event raw[BATCH];
    if (max > BATCH)
        max = BATCH;
    int n = epoll_wait(epfd, raw, max, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        unsigned e = 0;
        if (raw[i].events & (EPOLLIN | EPOLLRDHUP))
            e |= CW_PORT_IN;
        if (raw[i].events & EPOLLOUT)
            e |= CW_PORT_OUT;
        if (raw[i].events & (EPOLLERR | EPOLLHUP))
            e |= CW_PORT_ERR | CW_PORT_IN;
#if defined(CONFIG_WATCHES) /* only watches tell the two apart */
        if (raw[i].events & EPOLLHUP)
            e |= CW_PORT_HUP;
        if (raw[i].events & EPOLLERR)
            e |= CW_PORT_FAULT;
#endif
        ev[i].udata = raw[i].data.ptr;
        ev[i].events = e;
    }
    return n;
}

const char *cw_port_poller_name(void)
{
    return "epoll";
}

int cw_port_poller_fd(void)
{
    return epfd;
}
