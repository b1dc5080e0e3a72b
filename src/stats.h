/* SPDX-License-Identifier: MIT */
/* stats.h: the counters and pools as a text report, for GET /stats (as the
 * connection layer's report upcall) and the control socket's "stats". The
 * report itself, cw_stats_report, is public (chanwire.h). */
#ifndef CW_STATS_H
#define CW_STATS_H

#include "chanwire.h"

#endif
