/* SPDX-License-Identifier: MIT */
/* clock.c: the monotonic millisecond clock every deadline is measured on. */
#include "port.h"

#include <time.h>

uint64_t cw_port_now_ms(void)
{
    struct timespec ts;
#ifdef CLOCK_MONOTONIC
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
        return (uint64_t)ts.tv_sec * 1000u + (uint32_t)ts.tv_nsec / 1000000u;
#endif
    /* No monotonic clock: realtime is the best that is left. */
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint32_t)ts.tv_nsec / 1000000u;
}
