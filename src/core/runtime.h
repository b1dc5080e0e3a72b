/* SPDX-License-Identifier: MIT */
/* runtime.h: the run-time options and counters the core works by, as plain
 * data: cw_server_init fills the options in (clamped to the build's
 * limits), the connection layer and those above read them and count. */
#ifndef CW_RUNTIME_H
#define CW_RUNTIME_H

#include "chanwire.h"

struct cw_runtime {
    cw_options opt;
    cw_stats stats;
    unsigned ws_slots_used; /* slots counted against opt.max_conns */
    int www_fd;             /* static files directory, or -1 */
};

/* One per process, like the server that fills it in. */
extern struct cw_runtime cw_rt;

#endif
