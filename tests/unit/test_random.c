/* SPDX-License-Identifier: MIT */
/* test_random.c: the port's random bytes (port/posix/random.c) come from
 * the source the configuration names: getrandom(2) with
 * CONFIG_RANDOM_GETRANDOM (no file descriptor needed, so it works when the
 * process has none left), /dev/urandom without it (which then fails, and
 * says so, rather than handing out bytes it did not get). make check-combos
 * builds RANDOM_GETRANDOM=n, which no board does. */
#include "cw_config.h"
#include "port.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void test_bytes_come_and_differ(void)
{
    unsigned char a[32], b[32], big[4096];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    CHECK_EQ(cw_port_random(a, sizeof a), 0);
    CHECK_EQ(cw_port_random(b, sizeof b), 0);
    CHECK(!all_zero(a, sizeof a));
    CHECK(memcmp(a, b, sizeof a) != 0);
    /* more than one getrandom call's guaranteed 256 bytes: filled whole */
    memset(big, 0, sizeof big);
    CHECK_EQ(cw_port_random(big, sizeof big), 0);
    CHECK(!all_zero(big + sizeof big - 64, 64));
    CHECK_EQ(cw_port_random(a, 0), 0);
}

/* With every file descriptor taken, only getrandom(2) can still answer. */
static void test_source_is_the_configured_one(void)
{
    struct rlimit old, lim;
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
    lim = old;
    lim.rlim_cur = 64;
    if (lim.rlim_cur > old.rlim_cur)
        lim.rlim_cur = old.rlim_cur;
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
    int fds[64], n = 0;
    while (n < 64) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            break;
        fds[n++] = fd;
    }
    int full = open("/dev/null", O_RDONLY | O_CLOEXEC) < 0 && errno == EMFILE;
    CHECK(full);
    unsigned char buf[16];
    memset(buf, 0, sizeof buf);
    int rc = cw_port_random(buf, sizeof buf);
    while (n > 0)
        close(fds[--n]);
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
#if defined(__linux__) && defined(SYS_getrandom) && defined(CONFIG_RANDOM_GETRANDOM)
    CHECK_EQ(rc, 0); /* getrandom needs no descriptor */
    CHECK(!all_zero(buf, sizeof buf));
#else
    CHECK_EQ(rc, -1); /* /dev/urandom could not be opened: an error, not bytes */
#endif
}

int main(void)
{
    RUN(test_bytes_come_and_differ);
    RUN(test_source_is_the_configured_one);
    return cw_unit_done();
}
