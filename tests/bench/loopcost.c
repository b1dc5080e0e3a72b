/* SPDX-License-Identifier: MIT */
/* loopcost.c: what the application loop API costs in instructions, for
 * callgrind (make bench-loop): N timer fires (64 one-shot timers each
 * re-armed from its own callback for "now", so every loop turn fires them
 * all) and N posts (the ring filled by this thread, then drained by one
 * loop turn), on a server with no listener, driven by cw_loop_service.
 * tests/bench/loopcost.sh reads the callgrind output: instructions per
 * cw_timer_start, per fired timer (cw_app_timers_run), per cw_post and per
 * post run (the wake-up handler). */
#include "chanwire.h"

#include <stdio.h>
#include <stdlib.h>

#define TIMERS 64

static cw_server *srv;
static unsigned long fires, runs;

static void on_fire(cw_timer *t, void *arg)
{
    (void)arg;
    fires++;
    cw_timer_start(srv, t, 0, 0);
}

static void on_post(void *arg)
{
    (void)arg;
    runs++;
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
    cw_options o;
    cw_options_init(&o);
    o.log_level = -1;
    o.no_signals = 1;
    srv = cw_server_init(&o);
    if (!srv)
        return 1;
    static cw_timer t[TIMERS];
    for (int i = 0; i < TIMERS; i++) {
        cw_timer_init(&t[i], on_fire, NULL);
        cw_timer_start(srv, &t[i], 0, 0);
    }
    while (fires < n)
        if (cw_loop_service(srv) < 0)
            return 1;
    for (int i = 0; i < TIMERS; i++)
        cw_timer_stop(&t[i]);
    unsigned long posted = 0;
    while (posted < n) {
        while (posted < n && cw_post(srv, on_post, NULL) == 0)
            posted++;
        if (cw_loop_service(srv) < 0)
            return 1;
    }
    while (runs < posted)
        if (cw_loop_service(srv) < 0)
            return 1;
    printf("fires %lu posts %lu\n", fires, runs);
    cw_server_fini(srv);
    return 0;
}
