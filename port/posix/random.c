/* SPDX-License-Identifier: MIT */
/* random.c: random bytes for the server's ping payloads and anything else
 * that must not be guessable. getrandom(2) where the kernel has it,
 * /dev/urandom otherwise. */
#include "port.h"
#include "cw_config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

static int from_getrandom(uint8_t *p, size_t len)
{
#if defined(__linux__) && defined(SYS_getrandom) && defined(CONFIG_RANDOM_GETRANDOM)
    while (len > 0) {
        long n = syscall(SYS_getrandom, p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1; /* ENOSYS on old kernels: fall back */
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
#else
    (void)p;
    (void)len;
    return -1;
#endif
}

static int from_urandom(uint8_t *p, size_t len)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    close(fd);
    return 0;
}

int cw_port_random(void *buf, size_t len)
{
    if (from_getrandom(buf, len) == 0)
        return 0;
    return from_urandom(buf, len);
}
