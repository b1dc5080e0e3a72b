/* SPDX-License-Identifier: MIT */
/* glib_loop.c: chanwire inside a GLib main loop (a program that already has
 * one: a GTK or GIO daemon, NetworkManager-style services). GLib watches
 * the one descriptor chanwire gives (cw_loop_fd) and a timeout chanwire
 * asks for (cw_loop_timeout); either way cw_loop_service does the work,
 * without blocking. Signals stay GLib's (cw_options.no_signals):
 * SIGTERM/SIGINT ask chanwire for a graceful shutdown with cw_stop, and the
 * loop ends when cw_loop_service says it is done.
 *   glib_loop [--listen ADDR:PORT]    (default 127.0.0.1:8080)
 * Routes: /ws/echo/ (echo) and /ws/tick/ ("tick N" every 100 ms from a
 * cw_timer, five times: chanwire's timers run inside GLib's loop too). */
#include "chanwire.h"

#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static cw_server *srv;
static GMainLoop *loop;
static guint timeout_id;

static void service(void);

static gboolean on_timeout(gpointer data)
{
    (void)data;
    timeout_id = 0;
    service();
    return G_SOURCE_REMOVE;
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
    (void)fd;
    (void)cond;
    (void)data;
    service();
    return G_SOURCE_CONTINUE;
}

/* Serves what is ready, then asks again when to come back. */
static void service(void)
{
    int rc = cw_loop_service(srv);
    if (rc != 0) { /* 1: the graceful shutdown is over; < 0: the poller failed */
        g_main_loop_quit(loop);
        return;
    }
    if (timeout_id)
        g_source_remove(timeout_id);
    timeout_id = 0;
    int ms = cw_loop_timeout(srv);
    if (ms >= 0)
        timeout_id = g_timeout_add((guint)ms, on_timeout, NULL);
}

static gboolean on_term(gpointer data)
{
    (void)data;
    cw_stop(srv);
    service(); /* starts the shutdown now */
    return G_SOURCE_CONTINUE;
}

static void echo_receive(cw_conn *c, const cw_msg *m)
{
    if (m->opcode == CW_TEXT)
        cw_send_text(c, (const char *)m->data, m->len);
    else
        cw_send_binary(c, m->data, m->len);
}

/* One tick timer per connection slot, tied to its connection. */
static struct {
    cw_timer t;
    cw_conn *c;
    int n;
} ticks[64];

static void on_tick(cw_timer *t, void *arg)
{
    (void)t;
    char msg[32];
    int i = (int)(intptr_t)arg;
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
        fprintf(stderr, "glib_loop: %s\n", srv ? err : "cannot start");
        return 1;
    }
    int fd = cw_loop_fd(srv);
    if (fd < 0) {
        fprintf(stderr, "glib_loop: this build has no loop descriptor (the poll poller)\n");
        return 1;
    }
    cw_log(CW_LOG_INFO, "listening on %s (port %d) in a GLib main loop", listen,
           cw_listen_port(srv, 0));
    loop = g_main_loop_new(NULL, FALSE);
    g_unix_fd_add(fd, G_IO_IN, on_readable, NULL);
    g_unix_signal_add(SIGTERM, on_term, NULL);
    g_unix_signal_add(SIGINT, on_term, NULL);
    service(); /* arms the first timeout */
    g_main_loop_run(loop);
    g_main_loop_unref(loop);
    cw_server_fini(srv);
    return 0;
}
