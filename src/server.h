/* SPDX-License-Identifier: MIT */
/* server.h: the one server instance: listeners and accepting, signals,
 * the run loop, graceful shutdown and restarts (src/restart.c), on top of
 * every other layer. Its run-time options and counters live below it, in
 * core/runtime.h. */
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
    int proxy;               /* connections open with a PROXY protocol header */
    uint64_t dev, ino;       /* a UNIX socket's file, removed when closed */
    char path[108];          /* that file's path ("": a TCP listener) */
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
    unsigned unix_mode;      /* of UNIX-socket listeners made from now on */
    const char *unix_owner;  /* "USER[:GROUP]" for them, or NULL */
};

/* One per process: chanwire keeps its pools and loop in static storage. */
extern struct cw_server cw_srv;

/* Restarts (src/restart.c, part of this module; cw_restart and
 * cw_restart_setup are in chanwire.h). The next listener inherited through
 * CHANWIRE_LISTEN_FDS for addr (its port, when addr names one, must
 * match), or -1: bind it afresh. */
int cw_restart_inherited(const char *addr);
/* Closes inherited listeners nobody asked for (cw_run, once set up). */
void cw_restart_inherited_done(void);

#endif
