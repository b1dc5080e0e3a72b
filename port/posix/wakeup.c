/* SPDX-License-Identifier: MIT */
/* wakeup.c: waking the loop from another thread (posts): an eventfd where
 * Linux has one, else a non-blocking self-pipe; and the check that a
 * descriptor is open (descriptor watches). Linked only by the modules that
 * use them (CONFIG_POSTS, CONFIG_WATCHES). */
#include "port.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/eventfd.h>
#endif

static int wake_fd[2] = {-1, -1}; /* read end, write end (the same eventfd) */

static int nonblock_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return -1;
    return 0;
}

int cw_port_wakeup_open(void)
{
    if (wake_fd[0] >= 0)
        return wake_fd[0];
#if defined(__linux__)
    int e = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (e >= 0) {
        wake_fd[0] = wake_fd[1] = e;
        return e;
    }
    /* ENOSYS (a kernel without eventfd) or EINVAL (flags): the pipe. */
#endif
    int p[2];
    if (pipe(p) < 0)
        return -1;
    if (nonblock_cloexec(p[0]) < 0 || nonblock_cloexec(p[1]) < 0) {
        int saved = errno;
        close(p[0]);
        close(p[1]);
        errno = saved;
        return -1;
    }
    wake_fd[0] = p[0];
    wake_fd[1] = p[1];
    return p[0];
}

void cw_port_wakeup_signal(void)
{
    int saved = errno;
    if (wake_fd[0] == wake_fd[1]) {
        uint64_t one = 1;
        ssize_t r = write(wake_fd[1], &one, sizeof one);
        (void)r; /* only EAGAIN at 2^64-2 pending: it is readable anyway */
    } else {
        unsigned char b = 1;
        ssize_t r = write(wake_fd[1], &b, 1);
        (void)r; /* a full pipe is readable already */
    }
    errno = saved;
}

void cw_port_wakeup_drain(void)
{
    unsigned char buf[64];
    /* An eventfd reads once (its counter), a pipe until empty; bounded by
     * what the pipe holds. */
    while (read(wake_fd[0], buf, sizeof buf) > 0 && wake_fd[0] != wake_fd[1])
        ;
}

void cw_port_wakeup_close(void)
{
    if (wake_fd[0] >= 0)
        close(wake_fd[0]);
    if (wake_fd[1] >= 0 && wake_fd[1] != wake_fd[0])
        close(wake_fd[1]);
    wake_fd[0] = wake_fd[1] = -1;
}

int cw_port_fd_valid(int fd)
{
    return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}
