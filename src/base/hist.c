/* SPDX-License-Identifier: MIT */
/* hist.c: the two latency histograms and their fixed bucket bounds. */
#include "base/hist.h"

#include <string.h>

/* Handshakes: 0.5 ms .. 10 s (the default handshake timeout is 5 s). */
static const uint32_t handshake_bounds[CW_HIST_BUCKETS] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
    5000000, 10000000};
/* Fan-outs: 10 us .. 1 s (one pass over a group's local members). */
static const uint32_t fanout_bounds[CW_HIST_BUCKETS] = {
    10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 250000, 1000000};

cw_hist cw_hist_handshake = {handshake_bounds, 0, 0, {0}};
cw_hist cw_hist_fanout = {fanout_bounds, 0, 0, {0}};

void cw_hist_observe(cw_hist *h, uint32_t us)
{
    h->count++;
    h->sum_us += us;
    for (unsigned i = 0; i < CW_HIST_BUCKETS; i++)
        if (us <= h->bounds_us[i]) {
            h->bucket[i]++;
            return;
        }
    /* above the last bound: only in +Inf (count) */
}

void cw_hist_reset(cw_hist *h)
{
    h->count = 0;
    h->sum_us = 0;
    memset(h->bucket, 0, sizeof h->bucket);
}
