/* SPDX-License-Identifier: MIT */
/* faults.c: fault injection for the daemon's system calls (test builds
 * only: $(B)/tests/chanwired-faults). Linked with -Wl,--wrap=recv,... so
 * every call the port layer makes to these functions comes here first;
 * with probability CW_FAULT_RATE percent (default 10) the call fails or
 * comes up short the way the kernel may make it:
 *   recv      EINTR (the port retries), EAGAIN (a spurious wake-up), or
 *             fewer bytes than asked for (a short read); MSG_PEEK: EINTR only
 *   sendmsg   EINTR, EAGAIN (socket "full"), or a short write
 *   send      EINTR only (used for best-effort one-shot replies on fresh
 *             sockets, where the kernel never writes short)
 *   accept4   EINTR, EAGAIN (another process won the race), ECONNABORTED
 *   sendfile  EAGAIN or a short write
 *   epoll_wait / poll   EINTR (a signal arrived)
 * On glibc the build's _FILE_OFFSET_BITS=64 (and, on 32-bit targets,
 * _TIME_BITS=64: CONFIG_TIME64) make <sys/sendfile.h> and <sys/socket.h>
 * redirect sendfile to sendfile64 and sendmsg to __sendmsg64: those are the
 * symbols the daemon calls there, so they are wrapped too (without that,
 * short sendfiles were never injected on any glibc build, and no write
 * fault on the 32-bit glibc boards).
 * CW_FAULT_SEED (default 1) seeds the generator, so a run's sequence of
 * decisions is reproducible for the same sequence of calls. CW_FAULT_KINDS
 * (default "eintr eagain short abort") limits the kinds injected, e.g.
 * CW_FAULT_RATE=100 CW_FAULT_KINDS=short: every read and write comes back
 * short. With CW_FAULT_REPORT=1 the counts are printed to stderr at exit. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

ssize_t __real_recv(int fd, void *buf, size_t len, int flags);
ssize_t __real_sendmsg(int fd, const struct msghdr *m, int flags);
ssize_t __real_send(int fd, const void *buf, size_t len, int flags);
int __real_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags);
ssize_t __real_sendfile(int out, int in, off_t *off, size_t count);
int __real_epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout);
int __real_poll(struct pollfd *fds, nfds_t n, int timeout);

ssize_t __wrap_recv(int fd, void *buf, size_t len, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *m, int flags);
ssize_t __wrap_send(int fd, const void *buf, size_t len, int flags);
int __wrap_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags);
ssize_t __wrap_sendfile(int out, int in, off_t *off, size_t count);
int __wrap_epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout);

enum { K_EINTR = 1, K_EAGAIN = 2, K_SHORT = 4, K_ABORT = 8 };

static unsigned rate = 10; /* percent */
static unsigned kinds = K_EINTR | K_EAGAIN | K_SHORT | K_ABORT;
static unsigned long long state = 1;
static int ready;
static unsigned long calls, eintr, eagain, shorts, aborts;

static void report(void)
{
    fprintf(stderr, "faults: %lu calls, %lu EINTR, %lu EAGAIN, %lu short, %lu ECONNABORTED "
                    "(rate %u%%)\n", calls, eintr, eagain, shorts, aborts, rate);
}

static void setup(void)
{
    const char *r = getenv("CW_FAULT_RATE"), *s = getenv("CW_FAULT_SEED");
    if (r && *r)
        rate = (unsigned)strtoul(r, NULL, 10);
    if (rate > 100)
        rate = 100;
    if (s && *s)
        state = strtoull(s, NULL, 10);
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const char *k = getenv("CW_FAULT_KINDS");
    if (k && *k) {
        kinds = 0;
        if (strstr(k, "eintr"))
            kinds |= K_EINTR;
        if (strstr(k, "eagain"))
            kinds |= K_EAGAIN;
        if (strstr(k, "short"))
            kinds |= K_SHORT;
        if (strstr(k, "abort"))
            kinds |= K_ABORT;
    }
    const char *rep = getenv("CW_FAULT_REPORT");
    if (rep && strcmp(rep, "1") == 0)
        atexit(report);
    ready = 1;
}

static unsigned next(void)
{
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(state >> 33);
}

/* 0: no fault; else one of the K_* bits in `may` (those enabled). */
static unsigned decide(unsigned may)
{
    if (!ready)
        setup();
    calls++;
    may &= kinds;
    if (!may || rate == 0 || next() % 100 >= rate)
        return 0;
    unsigned n = 0, pick;
    for (unsigned b = 1; b <= K_ABORT; b <<= 1)
        n += (may & b) != 0;
    pick = next() % n;
    for (unsigned b = 1; b <= K_ABORT; b <<= 1)
        if ((may & b) && pick-- == 0)
            return b;
    return 0;
}

static int fail(int e)
{
    if (e == EINTR)
        eintr++;
    else if (e == EAGAIN)
        eagain++;
    else
        aborts++;
    errno = e;
    return -1;
}

ssize_t __wrap_recv(int fd, void *buf, size_t len, int flags)
{
    unsigned f = decide(flags & MSG_PEEK ? K_EINTR : K_EINTR | K_EAGAIN | K_SHORT);
    if (f == K_EINTR)
        return fail(EINTR);
    if (f == K_EAGAIN)
        return fail(EAGAIN);
    if (f == K_SHORT && len > 1) {
        shorts++;
        len = 1 + next() % (len - 1);
    }
    return __real_recv(fd, buf, len, flags);
}

static ssize_t fault_sendmsg(ssize_t (*real)(int, const struct msghdr *, int), int fd,
                             const struct msghdr *m, int flags)
{
    unsigned f = decide(K_EINTR | K_EAGAIN | K_SHORT);
    if (f == K_EINTR)
        return fail(EINTR);
    if (f == K_EAGAIN)
        return fail(EAGAIN);
    size_t total = 0;
    for (size_t i = 0; i < (size_t)m->msg_iovlen; i++)
        total += m->msg_iov[i].iov_len;
    if (f == K_SHORT && total > 1) {
        /* Offer fewer bytes: a prefix of the iovecs. */
        struct iovec iov[64];
        struct msghdr s = *m;
        size_t want = 1 + next() % (total - 1), n = 0;
        for (size_t i = 0; i < (size_t)m->msg_iovlen && want > 0 && n < 64; i++, n++) {
            iov[n] = m->msg_iov[i];
            if (iov[n].iov_len > want)
                iov[n].iov_len = want;
            want -= iov[n].iov_len;
        }
        s.msg_iov = iov;
        s.msg_iovlen = (__typeof__(s.msg_iovlen))n;
        shorts++;
        return real(fd, &s, flags);
    }
    return real(fd, m, flags);
}

ssize_t __wrap_sendmsg(int fd, const struct msghdr *m, int flags)
{
    return fault_sendmsg(__real_sendmsg, fd, m, flags);
}

ssize_t __wrap_send(int fd, const void *buf, size_t len, int flags)
{
    if (decide(K_EINTR))
        return fail(EINTR);
    return __real_send(fd, buf, len, flags);
}

int __wrap_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
    unsigned f = decide(K_EINTR | K_EAGAIN | K_ABORT);
    if (f)
        return fail(f == K_EINTR ? EINTR : f == K_EAGAIN ? EAGAIN : ECONNABORTED);
    return __real_accept4(fd, sa, len, flags);
}

/* How many bytes a sendfile may try (0: fail with EAGAIN). */
static size_t fault_sendfile(size_t count)
{
    unsigned f = decide(K_EAGAIN | K_SHORT);
    if (f == K_EAGAIN)
        return 0;
    if (f == K_SHORT && count > 1) {
        shorts++;
        count = 1 + next() % (count - 1);
    }
    return count;
}

ssize_t __wrap_sendfile(int out, int in, off_t *off, size_t count)
{
    size_t n = fault_sendfile(count);
    if (count && !n)
        return fail(EAGAIN);
    return __real_sendfile(out, in, off, n);
}

#if defined(__GLIBC__) && defined(__USE_FILE_OFFSET64)
ssize_t __real_sendfile64(int out, int in, __off64_t *off, size_t count);
ssize_t __wrap_sendfile64(int out, int in, __off64_t *off, size_t count);

ssize_t __wrap_sendfile64(int out, int in, __off64_t *off, size_t count)
{
    size_t n = fault_sendfile(count);
    if (count && !n)
        return fail(EAGAIN);
    return __real_sendfile64(out, in, off, n);
}
#endif

#if defined(__GLIBC__) && defined(__USE_TIME_BITS64)
ssize_t __real___sendmsg64(int fd, const struct msghdr *m, int flags);
ssize_t __wrap___sendmsg64(int fd, const struct msghdr *m, int flags);

ssize_t __wrap___sendmsg64(int fd, const struct msghdr *m, int flags)
{
    return fault_sendmsg(__real___sendmsg64, fd, m, flags);
}
#endif

int __wrap_epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
    if (decide(K_EINTR))
        return fail(EINTR);
    return __real_epoll_wait(epfd, ev, max, timeout);
}

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (decide(K_EINTR))
        return fail(EINTR);
    return __real_poll(fds, n, timeout);
}
