/* SPDX-License-Identifier: MIT */
/* test_watchdog.c: the port's watchdog device calls (port/linux/watchdog.c)
 * on a plain file standing in for /dev/watchdog: a kick is one write, a
 * clean close writes the magic 'V' first, a missing device is an error the
 * caller can report. (The reactor kicking a real driver is checked by
 * make BOARD=qemu-armv7 check-vm, on a booted kernel with softdog.) */
#include "port.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static size_t read_back(char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, cap);
    close(fd);
    return n > 0 ? (size_t)n : 0;
}

static void test_kick_and_magic_close(void)
{
    int timeout = 123;
    CHECK_EQ(cw_port_watchdog_open(path, 0, &timeout), 0);
    CHECK_EQ(timeout, -1); /* a plain file cannot say its timeout */
    cw_port_watchdog_kick();
    cw_port_watchdog_kick();
    cw_port_watchdog_kick();
    cw_port_watchdog_close();
    char buf[16];
    size_t n = read_back(buf, sizeof buf);
    CHECK_EQ(n, 4);
    CHECK_MEM(buf, "kkkV", 4);
    /* closing twice, or kicking after close, writes nothing more */
    cw_port_watchdog_close();
    cw_port_watchdog_kick();
    CHECK_EQ(read_back(buf, sizeof buf), 4);
}

static void test_timeout_request_on_a_non_driver(void)
{
    /* WDIOC_SETTIMEOUT fails on a file: still open, timeout unknown */
    int timeout = 0;
    CHECK_EQ(cw_port_watchdog_open(path, 30, &timeout), 0);
    CHECK_EQ(timeout, -1);
    cw_port_watchdog_close();
}

static void test_missing_device(void)
{
    int timeout = 0;
    errno = 0;
    CHECK_EQ(cw_port_watchdog_open("/nonexistent/chanwire-watchdog", 0, &timeout), -1);
    CHECK_EQ(errno, ENOENT);
    cw_port_watchdog_kick(); /* no device: a no-op, not a crash */
    cw_port_watchdog_close();
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/cw-watchdog-%ld", (long)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    close(fd);
    RUN(test_kick_and_magic_close);
    RUN(test_timeout_request_on_a_non_driver);
    RUN(test_missing_device);
    unlink(path);
    return cw_unit_done();
}
