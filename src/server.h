/* SPDX-License-Identifier: MIT */
/* server.h: the one server instance: listeners and accepting, signals,
 * the run loop and graceful shutdown, on top of every other layer. Its
 * run-time options and counters live below it, in core/runtime.h. */
#ifndef CW_SERVER_H
#define CW_SERVER_H

#include "chanwire.h"
#include "core/reactor.h"
#include "cw_config.h"

struct cw_listener {
    struct cw_io io;
    struct cw_wheel_timer backoff; /* re-enables accepting after EMFILE */
    int paused;
    int tls;                 /* sessions accepted here speak TLS */
};

struct cw_server {
    int initialised;
    int stop_requested;
    int stopping;            /* graceful shutdown in progress */
    struct cw_io signal_io;
    struct cw_wheel_timer shutdown_timer;
    struct cw_listener listeners[CONFIG_MAX_LISTENERS];
    unsigned nlisteners;
    int tls_ready;           /* a certificate is loaded */
};

/* One per process: chanwire keeps its pools and loop in static storage. */
extern struct cw_server cw_srv;

#endif
