/* SPDX-License-Identifier: MIT */
/* clock_shift.c: the daemon's wall clock moved by a number of seconds (test
 * builds only: $(B)/tests/chanwired-clock, tests/clock.mk). Linked with
 * -Wl,--wrap=clock_gettime,--wrap=__clock_gettime64, so every clock read of
 * the port layer (log timestamps, cw_port_wall_seconds for token expiry)
 * comes here first. CLOCK_REALTIME gets CW_CLOCK_SHIFT seconds added
 * (decimal, may be negative; default 0); every other clock, the monotonic
 * one the deadlines run on included, is left alone. tests/integration/
 * test_y2038.py moves the clock past 2038-01-19T03:14:07Z this way.
 * When the moved time does not fit the build's time_t (a 32-bit time_t:
 * CONFIG_TIME64=n on 32-bit glibc), the read fails with EOVERFLOW, as
 * glibc's own 32-bit clock_gettime does on a kernel whose clock is past
 * 2038. On 32-bit glibc with _TIME_BITS=64 (CONFIG_TIME64), and on 32-bit
 * musl, <time.h> renames clock_gettime to __clock_gettime64: that name is
 * wrapped there. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static int64_t shift(void)
{
    static int ready;
    static int64_t secs;
    if (!ready) {
        const char *s = getenv("CW_CLOCK_SHIFT");
        secs = s ? (int64_t)strtoll(s, NULL, 10) : 0;
        ready = 1;
    }
    return secs;
}

/* 0, or -1 with EOVERFLOW when the moved time does not fit time_t. */
static int move(clockid_t id, struct timespec *ts)
{
    if (id != CLOCK_REALTIME || shift() == 0)
        return 0;
    int64_t t = (int64_t)ts->tv_sec + shift();
    if (sizeof(time_t) < sizeof(int64_t) && (t > (int64_t)INT32_MAX || t < (int64_t)INT32_MIN)) {
        errno = EOVERFLOW;
        return -1;
    }
    ts->tv_sec = (time_t)t;
    return 0;
}

/* glibc with _TIME_BITS=64 on a 32-bit target, and musl 1.2+ on any 32-bit
 * target (_REDIR_TIME64), name the 64-bit call __clock_gettime64. */
#if (defined(__GLIBC__) && defined(__USE_TIME_BITS64)) || (defined(_REDIR_TIME64) && _REDIR_TIME64)
int __real___clock_gettime64(clockid_t id, struct timespec *ts);
int __wrap___clock_gettime64(clockid_t id, struct timespec *ts);

int __wrap___clock_gettime64(clockid_t id, struct timespec *ts)
{
    int rc = __real___clock_gettime64(id, ts);
    return rc == 0 ? move(id, ts) : rc;
}
#else
int __real_clock_gettime(clockid_t id, struct timespec *ts);
int __wrap_clock_gettime(clockid_t id, struct timespec *ts);

int __wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
    int rc = __real_clock_gettime(id, ts);
    return rc == 0 ? move(id, ts) : rc;
}
#endif
