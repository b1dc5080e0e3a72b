/* SPDX-License-Identifier: MIT */
/* clock_us.c: the monotonic clock in microseconds, for the latency
 * histograms (CONFIG_METRICS). A file of its own, so a test that brings
 * its own cw_port_now_ms (clock.c) can still link the histograms. */
#include "port.h"

#include <time.h>

uint64_t cw_port_now_us(void)
{
    struct timespec ts;
#ifdef CLOCK_MONOTONIC
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
        return (uint64_t)ts.tv_sec * 1000000u + (uint32_t)ts.tv_nsec / 1000u;
#endif
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint32_t)ts.tv_nsec / 1000u;
}
