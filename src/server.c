/* SPDX-License-Identifier: MIT */
/* server.c: the one server: options, listeners and accepting, signals, the
 * run loop with its after-batch pass, and graceful shutdown. It puts the
 * layers together: the connection layer's upcalls are registered here
 * (and by the groups module for itself). */
#include "server.h"
#include "base/buf.h"
#include "base/hist.h"
#include "base/log.h"
#include "channels/channel.h"
#include "channels/groups.h"
#include "channels/layer.h"
#include "control.h"
#include "core/auth.h"
#include "core/conn.h"
#include "core/runtime.h"
#include "core/trusted.h"
#include "metrics.h"
#include "port.h"
#include "proto/router.h"
#if defined(CONFIG_TLS)
#include "core/tls.h"
#endif
#if defined(CONFIG_POSTS)
#include "core/post.h"
#endif
#if defined(CONFIG_WATCHES)
#include "core/watch.h"
#endif

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define ACCEPT_BATCH 64
#define LISTEN_BACKLOG 511

struct cw_server cw_srv;

#if defined(CONFIG_HOST_CHECK)
#ifndef CONFIG_ALLOW_HOSTS
#define CONFIG_ALLOW_HOSTS "" /* a cw_config.h made without the Kconfig file */
#endif
/* CONFIG_ALLOW_HOSTS split into names: static, as the options point here.
 * Each name takes two bytes at least (itself and a separator). */
static char default_hosts[sizeof CONFIG_ALLOW_HOSTS];
static const char *default_host_list[sizeof CONFIG_ALLOW_HOSTS / 2 + 1];
#endif

void cw_options_init(cw_options *o)
{
    memset(o, 0, sizeof *o);
#if defined(CONFIG_HOST_CHECK)
    memcpy(default_hosts, CONFIG_ALLOW_HOSTS, sizeof default_hosts);
    o->nallow_hosts = cw_auth_split_hosts(default_hosts, default_host_list,
                                          sizeof default_host_list / sizeof default_host_list[0]);
    o->allow_hosts = o->nallow_hosts ? default_host_list : NULL;
#endif
    o->max_conns = CONFIG_MAX_CONNS;
    o->max_message = CONFIG_MAX_MESSAGE_SIZE;
    o->sendq_max = CONFIG_SENDQ_MAX;
    o->handshake_timeout_ms = CONFIG_HANDSHAKE_TIMEOUT_MS;
    o->ping_interval_ms = CONFIG_PING_INTERVAL_MS;
    o->pong_timeout_ms = CONFIG_PONG_TIMEOUT_MS;
    o->close_timeout_ms = CONFIG_CLOSE_TIMEOUT_MS;
    o->shutdown_timeout_ms = CONFIG_SHUTDOWN_TIMEOUT_MS;
    o->message_timeout_ms = CONFIG_MESSAGE_TIMEOUT_MS;
#if defined(CONFIG_FAIR_SHARES)
    o->conn_share_pct = CONFIG_CONN_SHARE_PCT;
    o->addr_share_pct = CONFIG_ADDR_SHARE_PCT;
#endif
#if defined(CONFIG_STATIC_FILES)
    o->download_timeout_ms = CONFIG_DOWNLOAD_TIMEOUT_MS;
#endif
    o->log_level = CONFIG_LOG_LEVEL;
#if defined(CONFIG_TLS)
    o->tls_max_sessions = CONFIG_TLS_MAX_CONNS;
    o->tls_arena_bytes = CONFIG_TLS_ARENA_SIZE;
#endif
    o->log_ident = "chanwire";
#if defined(CONFIG_LOG_RATELIMIT)
    o->log_burst = CONFIG_LOG_BURST;
#endif
#if defined(CONFIG_STATS_ENDPOINT)
    o->stats_endpoint = 1;
#endif
}

static unsigned clamp(unsigned v, unsigned lo, unsigned hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* ---- listeners ---- */

static void resume_listener(struct cw_listener *l)
{
    if (!l->paused || l->io.fd < 0)
        return;
    l->paused = 0;
    cw_wheel_cancel(&l->backoff);
    cw_reactor_set(&l->io, CW_PORT_IN);
}

static void on_backoff(struct cw_wheel_timer *t)
{
    resume_listener((struct cw_listener *)(void *)((char *)t - offsetof(struct cw_listener, backoff)));
}

static void pause_listener(struct cw_listener *l, int err)
{
    if (l->paused)
        return;
    l->paused = 1;
    cw_rt.stats.accept_pauses++;
    cw_log(CW_LOG_WARN, "accept: %s; pausing new connections for %d ms", strerror(err),
           CONFIG_ACCEPT_BACKOFF_MS);
    cw_reactor_set(&l->io, 0);
    cw_wheel_arm(&l->backoff, CONFIG_ACCEPT_BACKOFF_MS, on_backoff);
}

static void resume_listeners(void)
{
    for (unsigned i = 0; i < cw_srv.nlisteners; i++)
        resume_listener(&cw_srv.listeners[i]);
}

#if defined(CONFIG_LOG_RATELIMIT)
/* The log's flood guard owes "repeated N times" summaries: printed when
 * they are due even if the flood (and every other line) has stopped. */
static struct cw_wheel_timer log_timer;

static void on_log_timer(struct cw_wheel_timer *t)
{
    long next = cw_log_flush(0);
    if (next >= 0)
        cw_wheel_arm(t, (uint32_t)next + 1, on_log_timer);
}
#endif

static void after_batch(void)
{
    /* Slots freed (their descriptors too): accepting may resume if it was
     * paused for lack of descriptors. */
    if (cw_conn_after_batch() > 0)
        resume_listeners();
    cw_layer_flush(); /* what the batch published, in one write */
#if defined(CONFIG_LOG_RATELIMIT)
    if (cw_log_held && !cw_wheel_armed(&log_timer))
        on_log_timer(&log_timer);
#endif
}

static void on_accept(struct cw_io *io, unsigned events)
{
    struct cw_listener *l = (struct cw_listener *)(void *)io;
    (void)events;
    for (int i = 0; i < ACCEPT_BATCH && !l->paused; i++) {
        cw_port_peer peer;
        int fd = cw_port_accept(io->fd, &peer);
        if (fd < 0) {
            int e = errno;
            if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM)
                pause_listener(l, e);
            else if (e == ECONNABORTED || e == EPROTO || e == EPERM)
                continue;
            break;
        }
        int reject = cw_rt.ws_slots_used >= cw_rt.opt.max_conns;
        cw_conn_start(fd, &peer, reject,
                      (l->tls ? CW_CONN_TLS : 0u) | (l->proxy ? CW_CONN_PROXY : 0u));
    }
}

static int add_listener(cw_server *s, const char *addr_port, int tls, char *err, size_t errlen);

int cw_listen(cw_server *s, const char *addr_port, char *err, size_t errlen)
{
    return add_listener(s, addr_port, 0, err, errlen);
}

int cw_listen_tls(cw_server *s, const char *addr_port, char *err, size_t errlen)
{
#if defined(CONFIG_TLS)
    if (!s->tls_ready) {
        snprintf(err, errlen, "TLS listener %s: no certificate loaded (cw_tls_setup)", addr_port);
        return CW_EINVAL;
    }
    return add_listener(s, addr_port, 1, err, errlen);
#else
    (void)s;
    snprintf(err, errlen, "TLS listener %s: this build has no TLS (CONFIG_TLS)", addr_port);
    return CW_EINVAL;
#endif
}

int cw_tls_setup(cw_server *s, const char *cert_file, const char *key_file, char *err,
                 size_t errlen)
{
#if defined(CONFIG_TLS)
    if (cw_tls_init(cert_file, key_file, cw_rt.opt.tls_max_sessions, cw_rt.opt.tls_arena_bytes, err,
                    errlen) < 0)
        return CW_EINVAL;
    s->tls_ready = 1;
    return 0;
#else
    (void)s;
    (void)cert_file;
    (void)key_file;
    snprintf(err, errlen, "this build has no TLS (CONFIG_TLS)");
    return CW_EINVAL;
#endif
}

/* "[proxy:]ADDR:PORT", "[proxy:][ADDR6]:PORT" or "[proxy:]unix:PATH". */
static int add_listener(cw_server *s, const char *addr_port, int tls, char *err, size_t errlen)
{
    if (s->nlisteners >= CONFIG_MAX_LISTENERS) {
        snprintf(err, errlen, "too many listeners (CONFIG_MAX_LISTENERS=%d)",
                 CONFIG_MAX_LISTENERS);
        return CW_EINVAL;
    }
    struct cw_listener *l = &s->listeners[s->nlisteners];
    const char *a = addr_port;
    int proxy = strncmp(a, "proxy:", 6) == 0;
    if (proxy)
        a += 6;
#if !defined(CONFIG_PROXY_HEADERS)
    if (proxy) {
        snprintf(err, errlen, "listener %s: not in this build: CONFIG_PROXY_HEADERS", addr_port);
        return CW_EINVAL;
    }
#endif
    int fd;
    if (strncmp(a, "unix:", 5) == 0) {
        const char *path = a + 5;
        if (!*path || strlen(path) >= sizeof l->path) {
            snprintf(err, errlen, "bad listen address '%s' (unix:PATH, at most %zu bytes)",
                     addr_port, sizeof l->path - 1);
            return CW_EINVAL;
        }
        fd = -1;
#if defined(CONFIG_RESTART)
        fd = cw_restart_inherited(a); /* a restart hands it over: never closed */
#endif
        if (fd < 0)
            fd = cw_port_listen_path(path, s->unix_mode ? s->unix_mode : 0660, LISTEN_BACKLOG,
                                     "listener", err, errlen);
        if (fd < 0)
            return CW_ESYS;
        uint64_t dev = 0, ino = 0;
        cw_port_path_id(path, &dev, &ino);
        if (s->unix_owner && cw_port_chown_path(path, s->unix_owner, err, errlen) < 0) {
            cw_port_unlink_if(path, dev, ino);
            cw_port_close(fd);
            return CW_ESYS;
        }
        memset(l, 0, sizeof *l);
        strcpy(l->path, path);
        l->dev = dev;
        l->ino = ino;
    } else {
        fd = -1;
#if defined(CONFIG_RESTART)
        fd = cw_restart_inherited(a);
#endif
        if (fd < 0)
            fd = cw_port_listen(a, LISTEN_BACKLOG, err, errlen);
        if (fd < 0)
            return CW_ESYS;
        memset(l, 0, sizeof *l);
    }
    l->tls = tls;
    l->proxy = proxy;
    if (cw_reactor_add(&l->io, fd, CW_PORT_IN, on_accept) < 0) {
        snprintf(err, errlen, "cannot poll listener %s: %s", addr_port, strerror(errno));
        if (l->path[0])
            cw_port_unlink_if(l->path, l->dev, l->ino);
        cw_port_close(fd);
        return CW_ESYS;
    }
    if (proxy && cw_trusted_count() == 0)
        cw_log(CW_LOG_WARN, "listener %s: no --trusted-proxy, so every PROXY header is read "
               "and ignored", addr_port);
    s->nlisteners++;
    return 0;
}

int cw_listen_unix_access(cw_server *s, unsigned mode, const char *owner, char *err,
                          size_t errlen)
{
    if (mode > 0777) {
        snprintf(err, errlen, "UNIX listener mode %o: want permission bits 0..0777", mode);
        return CW_EINVAL;
    }
    s->unix_mode = mode;
    s->unix_owner = owner && *owner ? owner : NULL;
    return 0;
}

#if defined(CONFIG_PROXY_HEADERS)
int cw_trust_proxy(cw_server *s, const char *spec, char *err, size_t errlen)
{
    (void)s;
    return cw_trusted_add(spec, err, errlen);
}

int cw_forwarded_header(cw_server *s, const char *name, char *err, size_t errlen)
{
    (void)s;
    if (strcmp(name, "x-forwarded-for") == 0)
        cw_trusted_header = CW_FWD_XFF;
    else if (strcmp(name, "forwarded") == 0)
        cw_trusted_header = CW_FWD_RFC7239;
    else if (strcmp(name, "none") == 0)
        cw_trusted_header = -1;
    else {
        snprintf(err, errlen, "proxy header '%s': want x-forwarded-for, forwarded or none", name);
        return CW_EINVAL;
    }
    return 0;
}
#else
static int no_proxies(char *err, size_t errlen)
{
    snprintf(err, errlen, "not in this build: CONFIG_PROXY_HEADERS (trusted proxies)");
    return CW_EINVAL;
}

int cw_trust_proxy(cw_server *s, const char *spec, char *err, size_t errlen)
{
    (void)s, (void)spec;
    return no_proxies(err, errlen);
}

int cw_forwarded_header(cw_server *s, const char *name, char *err, size_t errlen)
{
    (void)s, (void)name;
    return no_proxies(err, errlen);
}
#endif

int cw_listen_port(cw_server *s, unsigned i)
{
    if (i >= s->nlisteners || s->listeners[i].io.fd < 0)
        return -1;
    return cw_port_local_port(s->listeners[i].io.fd);
}

static void close_listeners(void)
{
    for (unsigned i = 0; i < cw_srv.nlisteners; i++) {
        struct cw_listener *l = &cw_srv.listeners[i];
        if (l->io.fd < 0)
            continue;
        cw_wheel_cancel(&l->backoff);
        cw_reactor_del(&l->io);
        cw_port_close(l->io.fd);
        l->io.fd = -1;
        if (l->path[0])
            cw_port_unlink_if(l->path, l->dev, l->ino); /* only while it is still ours */
    }
}

/* ---- signals and shutdown ---- */

static void on_shutdown_deadline(struct cw_wheel_timer *t)
{
    (void)t;
    cw_log(CW_LOG_WARN, "shutdown deadline passed with %u connection(s) open: dropping them",
           cw_conn_count());
    cw_conn_abort_all();
}

static void begin_shutdown(void)
{
    cw_srv.stopping = 1;
    cw_log(CW_LOG_INFO, "shutting down: closing %u connection(s) with 1001", cw_conn_count());
    close_listeners();
    cw_conn_close_all(1001, "server shutting down");
    cw_wheel_arm(&cw_srv.shutdown_timer, cw_rt.opt.shutdown_timeout_ms, on_shutdown_deadline);
    /* Runs outside a reactor batch: flush the close frames now, not after
     * the next event (which may be the close timeout). */
    after_batch();
}

static void on_signal(struct cw_io *io, unsigned events)
{
    (void)io;
    (void)events;
    unsigned bits = cw_port_signals_take();
    if (bits & CW_SIG_TERM)
        cw_srv.stop_requested = 1;
    if (bits & CW_SIG_HUP) {
#if defined(CONFIG_TLS)
        char err[200];
        if (!cw_srv.tls_ready)
            cw_log(CW_LOG_INFO, "SIGHUP: nothing to reload");
        else if (cw_tls_reload(err, sizeof err) < 0)
            cw_log(CW_LOG_ERROR, "SIGHUP: keeping the current certificate: %s", err);
        else
            cw_log(CW_LOG_INFO, "SIGHUP: certificate and key reloaded");
#else
        cw_log(CW_LOG_INFO, "SIGHUP: nothing to reload");
#endif
    }
#if defined(CONFIG_RESTART)
    if (bits & CW_SIG_RESTART)
        cw_restart(&cw_srv); /* logs what it does, or why not */
#endif
}

/* ---- hardware watchdog: kicked from a reactor timer, so a stalled loop
 * stops the kicks and the board reboots ---- */

#if defined(CONFIG_WATCHDOG)
#ifndef CONFIG_WATCHDOG_DEVICE
#define CONFIG_WATCHDOG_DEVICE "/dev/watchdog"
#endif
#ifndef CONFIG_WATCHDOG_INTERVAL_MS
#define CONFIG_WATCHDOG_INTERVAL_MS 5000
#endif
#ifndef CONFIG_WATCHDOG_TIMEOUT_S
#define CONFIG_WATCHDOG_TIMEOUT_S 0
#endif
static struct cw_wheel_timer watchdog_timer;

static void on_watchdog(struct cw_wheel_timer *t)
{
    cw_port_watchdog_kick();
    cw_wheel_arm(t, CONFIG_WATCHDOG_INTERVAL_MS, on_watchdog);
}

static void watchdog_start(void)
{
    int timeout = -1;
    if (cw_port_watchdog_open(CONFIG_WATCHDOG_DEVICE, CONFIG_WATCHDOG_TIMEOUT_S, &timeout) < 0) {
        cw_log(CW_LOG_WARN, "watchdog %s: %s; running without it", CONFIG_WATCHDOG_DEVICE,
               strerror(errno));
        return;
    }
    cw_log(CW_LOG_INFO, "watchdog %s armed (timeout %d s, kicked every %d ms)",
           CONFIG_WATCHDOG_DEVICE, timeout, CONFIG_WATCHDOG_INTERVAL_MS);
    on_watchdog(&watchdog_timer);
}

static void watchdog_stop(void)
{
    cw_wheel_cancel(&watchdog_timer);
    cw_port_watchdog_close();
}
#endif

/* ---- lifecycle ---- */

cw_server *cw_server_init(const cw_options *o)
{
    struct cw_server *s = &cw_srv;
    if (s->initialised)
        return NULL;
    memset(s, 0, sizeof *s);
    cw_options *opt = &cw_rt.opt;
    memset(&cw_rt, 0, sizeof cw_rt);
    *opt = *o;
    opt->max_conns = clamp(o->max_conns, 1, CONFIG_MAX_CONNS);
    opt->max_message = clamp(o->max_message, 125, CONFIG_MAX_MESSAGE_SIZE);
    opt->sendq_max = clamp(o->sendq_max, 1024, CONFIG_SENDQ_MAX);
    opt->handshake_timeout_ms = clamp(o->handshake_timeout_ms, 1, 3600000);
    opt->pong_timeout_ms = clamp(o->pong_timeout_ms, 1, 3600000);
    opt->close_timeout_ms = clamp(o->close_timeout_ms, 1, 3600000);
    opt->shutdown_timeout_ms = clamp(o->shutdown_timeout_ms, 1, 3600000);
    opt->message_timeout_ms = clamp(o->message_timeout_ms, 0, 3600000);
    opt->conn_share_pct = clamp(o->conn_share_pct, 1, 100);
    opt->addr_share_pct = clamp(o->addr_share_pct, 1, 100);
    opt->download_timeout_ms = clamp(o->download_timeout_ms, 1, 86400000);
    cw_rt.www_fd = -1;
    cw_log_set_level(o->log_level);
    cw_port_log_open(o->use_syslog, o->log_ident);
    cw_log_set_limit(o->log_burst, CONFIG_LOG_REPEAT_WINDOW_MS);
    if (cw_log_set_json(o->log_json) < 0) {
        cw_log(CW_LOG_ERROR, "not in this build: CONFIG_LOG_JSON (JSON log lines)");
        return NULL;
    }
    if (o->nroutes > 255) {
        cw_log(CW_LOG_ERROR, "too many routes (%zu, at most 255)", o->nroutes);
        return NULL;
    }
    for (size_t i = 0; i < o->nroutes; i++) {
        if (!o->routes[i].consumer || !cw_route_pattern_valid(o->routes[i].pattern)) {
            cw_log(CW_LOG_ERROR, "bad route pattern '%s'", o->routes[i].pattern);
            return NULL;
        }
    }
#if defined(CONFIG_STATIC_FILES)
    if (o->www_dir && (cw_rt.www_fd = cw_port_open_dir(o->www_dir)) < 0) {
        cw_log(CW_LOG_ERROR, "cannot open --www directory %s: %s", o->www_dir, strerror(errno));
        return NULL;
    }
#endif
    /* An option of a feature this build lacks is refused, naming the
     * feature (one message for all: each its own cost 50 bytes). */
    const char *lacks = NULL;
#if !defined(CONFIG_STATIC_FILES)
    if (o->www_dir)
        lacks = "STATIC_FILES (static files)";
#endif
#if !defined(CONFIG_HOST_CHECK)
    if (o->nallow_hosts)
        lacks = "HOST_CHECK (the Host allow-list)";
#endif
#if !defined(CONFIG_RATE_LIMIT)
    if (o->rate_msgs || o->rate_bytes)
        lacks = "RATE_LIMIT (rate limits)";
#endif
#if !defined(CONFIG_JWT)
    if (o->jwt_secret)
        lacks = "JWT (JWT auth)";
#endif
    if (lacks) {
        cw_log(CW_LOG_ERROR, "not in this build: CONFIG_%s", lacks);
        return NULL;
    }
    if (opt->sendq_max < opt->max_message)
        cw_log(CW_LOG_WARN, "send queue bound %u is below the message limit %u: larger replies "
               "cannot be sent", opt->sendq_max, opt->max_message);
    cw_buf_init();
    cw_txq_init();
    cw_conn_pool_init(opt->max_conns);
#if defined(CONFIG_STATS_ENDPOINT)
    cw_conn_on_report(cw_stats_report); /* GET /stats */
#endif
#if defined(CONFIG_GROUPS)
    cw_groups_init(); /* registers its own upcall: memberships end with their connection */
#if defined(CW_HAVE_CHANNELS)
    cw_channels_init(); /* this process's id for channel names; above the groups */
#endif
    cw_groups_set_limits(o->max_groups, o->max_memberships);
#endif
    cw_auth_users_init(o->max_users);
    unsigned cap = CONFIG_MAX_CONNS + CONFIG_REJECT_SLOTS + CONFIG_MAX_LISTENERS + 8;
#if defined(CONFIG_WATCHES)
    cap += CONFIG_MAX_WATCHES + 1; /* and the post wake-up */
#endif
#if defined(CONFIG_METRICS)
    cap += CONFIG_METRICS_CONNS + 1; /* the scrapers and their listener */
    cw_hist_reset(&cw_hist_handshake);
    cw_hist_reset(&cw_hist_fanout);
#endif
    if (cw_reactor_init(cap) < 0) {
        cw_log(CW_LOG_ERROR, "cannot create the %s poller: %s", cw_port_poller_name(),
               strerror(errno));
        return NULL;
    }
#if defined(CONFIG_FOREIGN_LOOP)
    s->signal_io.fd = -1;
    if (!o->no_signals)
#endif
    {
        int sfd = cw_port_signals_open();
        if (sfd < 0 || cw_reactor_add(&s->signal_io, sfd, CW_PORT_IN, on_signal) < 0) {
            cw_log(CW_LOG_ERROR, "cannot set up signal handling: %s", strerror(errno));
            return NULL;
        }
    }
#if defined(CONFIG_WATCHES)
    cw_watches_init();
#endif
#if defined(CONFIG_POSTS)
    if (cw_posts_open() < 0) {
        cw_log(CW_LOG_ERROR, "cannot set up the post queue's wake-up: %s", strerror(errno));
        return NULL;
    }
#endif
    cw_reactor_set_after_batch(after_batch);
#if defined(CONFIG_WATCHDOG)
    watchdog_start();
#endif
    s->initialised = 1;
    return s;
}

/* The end of a graceful shutdown (cw_run, or cw_loop_service). */
static void stopped(cw_server *s)
{
    cw_wheel_cancel(&s->shutdown_timer);
#if defined(CONFIG_WATCHDOG)
    watchdog_stop(); /* a clean exit disarms it; a crash or a hang does not */
#endif
#if defined(CONFIG_LOG_RATELIMIT)
    cw_log_flush(1); /* what the flood guard still held back, before the last line */
#endif
    cw_log(CW_LOG_INFO, "stopped");
}

/* One turn of the loop, waiting at most wait_ms (-1: until something
 * happens): 0, 1 once a graceful shutdown has finished, or CW_ESYS. */
static int turn(cw_server *s, int wait_ms)
{
    if (s->stop_requested && !s->stopping)
        begin_shutdown();
    if (s->stopping && cw_conn_count() == 0) {
        stopped(s);
        return 1;
    }
    if (cw_reactor_run_once(wait_ms) < 0) {
        cw_log(CW_LOG_ERROR, "poller failed: %s", strerror(errno));
        return CW_ESYS;
    }
    return 0;
}

int cw_run(cw_server *s)
{
    int rc;
#if defined(CONFIG_RESTART)
    cw_restart_inherited_done();
#endif
    while ((rc = turn(s, -1)) == 0)
        ;
    return rc < 0 ? rc : 0;
}

#if defined(CONFIG_FOREIGN_LOOP)
/* Someone else's main loop drives this one (chanwire.h, docs/api.md). */
int cw_loop_fd(cw_server *s)
{
    int fd = s && s->initialised ? cw_port_poller_fd() : -1;
    return fd < 0 ? CW_EINVAL : fd;
}

int cw_loop_timeout(cw_server *s)
{
    /* A stop asked since the last service is started by the next one. */
    if (!s || (s->stop_requested && !s->stopping))
        return 0;
    return cw_reactor_timeout();
}

int cw_loop_service(cw_server *s)
{
    static int inside; /* called from one of its own callbacks: refused */
    if (!s || !s->initialised || inside)
        return CW_EINVAL;
    if (s->stopping && cw_conn_count() == 0 && !cw_wheel_armed(&s->shutdown_timer))
        return 1; /* finished already */
    inside = 1;
    int rc = turn(s, 0);
    if (rc == 0 && s->stop_requested && !s->stopping)
        rc = turn(s, 0); /* a callback of this turn asked: start now */
    if (rc == 0 && s->stopping && cw_conn_count() == 0)
        rc = turn(s, 0);
    inside = 0;
    return rc;
}
#endif

void cw_stop(cw_server *s)
{
    s->stop_requested = 1;
}

void cw_server_fini(cw_server *s)
{
    close_listeners();
#if defined(CONFIG_METRICS)
    cw_metrics_close();
#endif
#if defined(CONFIG_LOG_RATELIMIT)
    cw_wheel_cancel(&log_timer);
    cw_log_flush(1); /* what the flood guard still held back */
#endif
#if defined(CONFIG_WATCHDOG)
    watchdog_stop(); /* also when cw_run never ran (a listener failed) */
#endif
#if defined(CONFIG_CONTROL_SOCKET)
    cw_control_close();
#endif
    if (cw_rt.www_fd >= 0) {
        cw_port_close(cw_rt.www_fd);
        cw_rt.www_fd = -1;
    }
#if defined(CONFIG_TLS)
    if (s->tls_ready)
        cw_tls_fini();
    s->tls_ready = 0;
#endif
    cw_layer_fini();
#if defined(CONFIG_WATCHES)
    cw_watches_fini();
#endif
#if defined(CONFIG_POSTS)
    cw_posts_close();
#endif
    cw_reactor_del(&s->signal_io);
    cw_reactor_fini();
    s->initialised = 0;
}

cw_server *cw_server_of(cw_conn *c)
{
    (void)c;
    return &cw_srv;
}
