/* SPDX-License-Identifier: MIT */
/* libuv_loop.c: chanwire inside a libuv loop (Node-style C programs,
 * anything built on uv_run). A uv_poll_t watches chanwire's descriptor
 * (cw_loop_fd) and a uv_timer_t waits what cw_loop_timeout asks; either
 * calls cw_loop_service, which never blocks. Signals are libuv's
 * (cw_options.no_signals): SIGTERM/SIGINT call cw_stop, and the loop stops
 * once cw_loop_service reports the graceful shutdown done.
 *   libuv_loop [--listen ADDR:PORT]    (default 127.0.0.1:8080)
 * Routes: /ws/echo/ (echo) and /ws/tick/ ("tick N" every 100 ms from a
 * cw_timer, five times). */
#include "chanwire.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

static cw_server *srv;
static uv_loop_t *loop;
static uv_poll_t poller;
static uv_timer_t timer;
static uv_signal_t sig_term, sig_int;

static void service(void);

static void on_timer(uv_timer_t *t)
{
    (void)t;
    service();
}

static void on_readable(uv_poll_t *p, int status, int events)
{
    (void)p;
    (void)status;
    (void)events;
    service();
}

static void stop_all(void)
{
    uv_poll_stop(&poller);
    uv_timer_stop(&timer);
    uv_signal_stop(&sig_term);
    uv_signal_stop(&sig_int);
    uv_stop(loop);
}

/* Serves what is ready, then asks again when to come back. */
static void service(void)
{
    int rc = cw_loop_service(srv);
    if (rc != 0) { /* 1: the graceful shutdown is over; < 0: the poller failed */
        stop_all();
        return;
    }
    int ms = cw_loop_timeout(srv);
    if (ms >= 0)
        uv_timer_start(&timer, on_timer, (uint64_t)ms, 0);
    else
        uv_timer_stop(&timer);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    cw_stop(srv);
    service();
}

static void echo_receive(cw_conn *c, const cw_msg *m)
{
    if (m->opcode == CW_TEXT)
        cw_send_text(c, (const char *)m->data, m->len);
    else
        cw_send_binary(c, m->data, m->len);
}

static struct {
    cw_timer t;
    cw_conn *c;
    int n;
} ticks[64];

static void on_tick(cw_timer *t, void *arg)
{
    int i = (int)(intptr_t)arg;
    char msg[32];
    int n = snprintf(msg, sizeof msg, "tick %d", ++ticks[i].n);
    cw_send_text(ticks[i].c, msg, (size_t)n);
    if (ticks[i].n == 5)
        cw_timer_stop(t);
}

static int tick_connect(cw_conn *c)
{
    unsigned i = cw_conn_id(c);
    if (i >= sizeof ticks / sizeof ticks[0])
        return 503;
    ticks[i].c = c;
    ticks[i].n = 0;
    cw_timer_init(&ticks[i].t, on_tick, (void *)(intptr_t)i);
    return cw_timer_start_conn(c, &ticks[i].t, 100, 100) == 0 ? 0 : 500;
}

static const cw_consumer echo = {.receive = echo_receive};
static const cw_consumer tick = {.connect = tick_connect};
static const cw_route routes[] = {{"/ws/echo/", &echo, 0}, {"/ws/tick/", &tick, 0}};

int main(int argc, char **argv)
{
    const char *listen = argc > 2 && strcmp(argv[1], "--listen") == 0 ? argv[2] : "127.0.0.1:8080";
    signal(SIGPIPE, SIG_IGN); /* chanwire leaves every signal to us */
    cw_options o;
    cw_options_init(&o);
    o.routes = routes;
    o.nroutes = 2;
    o.max_conns = 60;
    o.no_signals = 1;
    srv = cw_server_init(&o);
    char err[200];
    if (!srv || cw_listen(srv, listen, err, sizeof err) < 0) {
        fprintf(stderr, "libuv_loop: %s\n", srv ? err : "cannot start");
        return 1;
    }
    int fd = cw_loop_fd(srv);
    if (fd < 0) {
        fprintf(stderr, "libuv_loop: this build has no loop descriptor (the poll poller)\n");
        return 1;
    }
    cw_log(CW_LOG_INFO, "listening on %s (port %d) in a libuv loop", listen,
           cw_listen_port(srv, 0));
    loop = uv_default_loop();
    uv_poll_init(loop, &poller, fd);
    uv_poll_start(&poller, UV_READABLE, on_readable);
    uv_timer_init(loop, &timer);
    uv_signal_init(loop, &sig_term);
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_init(loop, &sig_int);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    service(); /* arms the first timeout */
    uv_run(loop, UV_RUN_DEFAULT);
    cw_server_fini(srv);
    return 0;
}
