/* server.h: the one server instance shared by the core modules: options,
 * counters, listeners and the after-batch list. Internal to src/. */
#ifndef CW_SERVER_H
#define CW_SERVER_H

#include "chanwire.h"
#include "conn.h"
#include "cw_config.h"
#include "reactor.h"

#if !defined(CONFIG_DEBUG_LOG)
/* Kconfig DEBUG_LOG=n: debug-level messages of the core vanish at compile
 * time, text and call both. (cw_log) in parentheses is the function. */
#define cw_log(level, ...) ((level) == CW_LOG_DEBUG ? (void)0 : (cw_log)((level), __VA_ARGS__))
#endif

struct cw_listener {
    struct cw_io io;
    struct cw_timer backoff; /* re-enables accepting after EMFILE */
    int paused;
    int tls;                 /* sessions accepted here speak TLS */
};

struct cw_server {
    cw_options opt;
    cw_stats stats;
    int initialised;
    int stop_requested;
    int stopping;            /* graceful shutdown in progress */
    struct cw_io signal_io;
    struct cw_timer shutdown_timer;
    struct cw_listener listeners[CONFIG_MAX_LISTENERS];
    unsigned nlisteners;
    unsigned ws_slots_used;  /* slots counted against max_conns */
    int www_fd;              /* static files directory, or -1 */
    int tls_ready;           /* a certificate is loaded */
};

extern struct cw_server cw_srv;

/* Queues c for the after-batch pass (flush, or free when closed). */
void cw_server_mark_dirty(cw_conn *c);
/* A connection slot was freed: resume accepting if paused for lack of fds. */
void cw_server_slot_freed(int was_counted);
/* The index of the route matching path (argument values into args), or -1. */
int cw_server_route(const char *path, size_t len, char *args, size_t cap);

#endif
