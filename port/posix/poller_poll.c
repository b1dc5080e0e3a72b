/* SPDX-License-Identifier: MIT */
/* poller_poll.c: the portable poller, for kernels without epoll. One static
 * pollfd array sized by the caller's capacity; removal swaps in the last. */
#include "port.h"
#include "cw_config.h"

#include <errno.h>
#include <poll.h>

/* Connection slots plus listeners, the signal pipe and a few spares. */
#if defined(CONFIG_WATCHES)
#define POLL_WATCHES CONFIG_MAX_WATCHES
#else
#define POLL_WATCHES 0
#endif
/* The application's watches and the post wake-up join them. */
#define POLL_CAP (CONFIG_MAX_CONNS + CONFIG_REJECT_SLOTS + CONFIG_MAX_LISTENERS + 16 + POLL_WATCHES + 1)

static struct pollfd fds[POLL_CAP];
static void *owners[POLL_CAP];
static unsigned nfds;
static unsigned cursor; /* where the next wait resumes its scan: fairness */

int cw_port_poller_open(unsigned capacity)
{
    nfds = 0;
    cursor = 0;
    return capacity > POLL_CAP ? -1 : 0;
}

void cw_port_poller_close(void)
{
    nfds = 0;
}

static short to_poll(unsigned ev)
{
    short e = 0;
    if (ev & CW_PORT_IN)
        e |= POLLIN;
    if (ev & CW_PORT_OUT)
        e |= POLLOUT;
    return e;
}

static int find(int fd)
{
    for (unsigned i = 0; i < nfds; i++)
        if (fds[i].fd == fd)
            return (int)i;
    return -1;
}

int cw_port_poller_add(int fd, unsigned events, void *udata)
{
    if (nfds >= POLL_CAP || find(fd) >= 0) {
        errno = nfds >= POLL_CAP ? ENOSPC : EEXIST;
        return -1;
    }
    fds[nfds].fd = fd;
    fds[nfds].events = to_poll(events);
    fds[nfds].revents = 0;
    owners[nfds] = udata;
    nfds++;
    return 0;
}

int cw_port_poller_mod(int fd, unsigned events, void *udata)
{
    int i = find(fd);
    if (i < 0) {
        errno = ENOENT;
        return -1;
    }
    fds[i].events = to_poll(events);
    owners[i] = udata;
    return 0;
}

int cw_port_poller_del(int fd)
{
    int i = find(fd);
    if (i < 0) {
        errno = ENOENT;
        return -1;
    }
    nfds--;
    fds[i] = fds[nfds];
    owners[i] = owners[nfds];
    return 0;
}

void cw_port_poller_forget(int fd)
{
    cw_port_poller_del(fd);
}

int cw_port_poller_wait(cw_port_event *ev, int max, int timeout_ms)
{
    int n = poll(fds, (nfds_t)nfds, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    int out = 0;
    if (cursor >= nfds)
        cursor = 0;
    /* Scan from the cursor so that, when more than max fds are ready, the
     * ones left out this time come first next time. The scan's start stays
     * fixed while the cursor moves (else one fd could come out twice and
     * another not at all when several are ready). */
    unsigned start = cursor;
    for (unsigned k = 0; k < nfds && out < max && n > 0; k++) {
        unsigned i = (start + k) % nfds;
        short r = fds[i].revents;
        if (!r)
            continue;
        n--;
        unsigned e = 0;
        if (r & POLLIN)
            e |= CW_PORT_IN;
        if (r & POLLOUT)
            e |= CW_PORT_OUT;
        if (r & (POLLERR | POLLHUP | POLLNVAL))
            e |= CW_PORT_ERR | CW_PORT_IN;
#if defined(CONFIG_WATCHES) /* only watches tell the two apart */
        if (r & POLLHUP)
            e |= CW_PORT_HUP;
        if (r & (POLLERR | POLLNVAL))
            e |= CW_PORT_FAULT;
#endif
        ev[out].udata = owners[i];
        ev[out].events = e;
        out++;
        cursor = i + 1;
    }
    return out;
}

const char *cw_port_poller_name(void)
{
    return "poll";
}

int cw_port_poller_fd(void)
{
    return -1; /* one fd per socket: no single descriptor stands for them */
}
