/* SPDX-License-Identifier: MIT */
/* hist.h: latency histograms with fixed buckets in static memory, for the
 * Prometheus report (src/metrics.c): the handshake (accept to 101) and
 * the group fan-out (one fanout over the local members). Observing is a
 * short loop over at most CW_HIST_BUCKETS bounds; with CONFIG_METRICS off
 * the clock reads and the observations compile to nothing. */
#ifndef CW_HIST_H
#define CW_HIST_H

#include "cw_config.h"
#include "port.h"

#include <stdint.h>

#define CW_HIST_BUCKETS 14 /* finite bounds; +Inf is count */

typedef struct cw_hist {
    const uint32_t *bounds_us;       /* ascending, CW_HIST_BUCKETS of them */
    uint64_t count;
    uint64_t sum_us;
    uint32_t bucket[CW_HIST_BUCKETS]; /* observations <= bounds_us[i] and >
                                       * bounds_us[i - 1] (not cumulative) */
} cw_hist;

extern cw_hist cw_hist_handshake, cw_hist_fanout;

void cw_hist_observe(cw_hist *h, uint32_t us);
/* Every observation forgotten (cw_server_init). */
void cw_hist_reset(cw_hist *h);

#if defined(CONFIG_METRICS)
/* A start time in microseconds (wraps in 71 minutes: differences only). */
#define CW_HIST_NOW() ((uint32_t)cw_port_now_us())
static inline void cw_hist_since(cw_hist *h, uint32_t t0)
{
    cw_hist_observe(h, (uint32_t)cw_port_now_us() - t0);
}
#else
#define CW_HIST_NOW() 0u
#define cw_hist_since(h, t0) ((void)(t0))
#endif

#endif
