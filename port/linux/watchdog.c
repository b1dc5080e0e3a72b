/* SPDX-License-Identifier: MIT */
/* watchdog.c: the Linux watchdog device (/dev/watchdog): open with an
 * optional timeout, keep-alive writes from the reactor, magic close on a
 * clean exit. Any character device that accepts writes works (tests use a
 * FIFO or a plain file). */
#include "port.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#if defined(__has_include)
#if __has_include(<linux/watchdog.h>)
#include <linux/watchdog.h>
#endif
#endif
#ifndef WDIOC_SETTIMEOUT
/* musl-gcc sees no kernel headers: the two requests, as <linux/watchdog.h>
 * defines them. */
#define WDIOC_SETTIMEOUT _IOWR('W', 6, int)
#define WDIOC_GETTIMEOUT _IOR('W', 7, int)
#endif

static int wd_fd = -1;

/* ioctl's request is unsigned long in glibc and int in musl. */
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wconversion"

int cw_port_watchdog_open(const char *dev, unsigned timeout_s, int *timeout)
{
    if (wd_fd >= 0)
        cw_port_watchdog_close();
    wd_fd = open(dev, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
    if (wd_fd < 0)
        return -1;
    int t = (int)timeout_s;
    if (t > 0 && ioctl(wd_fd, WDIOC_SETTIMEOUT, &t) < 0)
        t = -1;
    if (ioctl(wd_fd, WDIOC_GETTIMEOUT, &t) < 0)
        t = t > 0 ? t : -1; /* not a watchdog driver (a test's file): unknown */
    if (timeout)
        *timeout = t;
    return 0;
}

void cw_port_watchdog_kick(void)
{
    if (wd_fd < 0)
        return;
    ssize_t r = write(wd_fd, "k", 1);
    (void)r; /* nothing to do about a failed kick but try again next time */
}

void cw_port_watchdog_close(void)
{
    if (wd_fd < 0)
        return;
    ssize_t r = write(wd_fd, "V", 1);
    (void)r;
    close(wd_fd);
    wd_fd = -1;
}
