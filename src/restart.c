/* SPDX-License-Identifier: MIT */
/* restart.c: restarts that drop nobody. A trial run of the binary on disk
 * (with --plan), then the listeners stay open but unwatched (new
 * connections wait in their queues) while the WebSocket clients get close
 * 1012, then exec in place with CHANWIRE_LISTEN_FDS; and, in the new
 * image, taking those listeners back instead of binding. */
#include "base/log.h"
#if defined(CONFIG_CONTROL_SOCKET)
#include "control.h"
#endif
#include "chanwire.h"
#include "core/conn.h"
#include "core/reactor.h"
#include "core/runtime.h"
#include "port.h"
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(CONFIG_RESTART)
#define MAX_ARGS 128
#define MAX_ENV 256
#define TICK_MS 20
#define TRIAL_TIMEOUT_MS 10000
#define FDS_VAR "CHANWIRE_LISTEN_FDS="
#define CTL_VAR "CHANWIRE_CONTROL_FD="
#define RESTART_VAR "CHANWIRE_RESTART="

static char path[512];
static char *args[MAX_ARGS + 2]; /* argv, "--plan" for the trial, NULL */
static unsigned nargs;
static char plan_flag[] = "--plan";
static char *envs[MAX_ENV + 4];
static char fds_env[sizeof FDS_VAR + 12 * CONFIG_MAX_LISTENERS];
#if defined(CONFIG_CONTROL_SOCKET)
static char ctl_env[sizeof CTL_VAR + 12];
#endif
static char trial_env[] = RESTART_VAR "trial", exec_env[] = RESTART_VAR "exec";
static enum { IDLE, TRIAL, DRAIN } phase;
static long trial_pid = -1;
static uint64_t phase_start;
static struct cw_wheel_timer tick;

/* ---- the new image: listeners handed over by the old one ---- */

static int inherited[CONFIG_MAX_LISTENERS];
static unsigned ninherited, next_inherited;
static int inherit_read;

static void read_inherited(void)
{
    inherit_read = 1;
    const char *v = getenv("CHANWIRE_LISTEN_FDS");
    while (v && *v && ninherited < CONFIG_MAX_LISTENERS) {
        char *end;
        long fd = strtol(v, &end, 10);
        if (end == v || fd < 3 || fd > 65535)
            break;
        inherited[ninherited++] = (int)fd;
        v = *end == ',' ? end + 1 : end;
    }
}

int cw_restart_inherited(const char *addr)
{
    if (!inherit_read)
        read_inherited();
    while (next_inherited < ninherited) {
        int fd = inherited[next_inherited++];
        if (!cw_port_is_listener(fd)) {
            cw_log(CW_LOG_WARN, "restart: inherited descriptor %d is not a listener", fd);
            continue;
        }
        /* A port named in addr must be the one inherited (port 0: any). */
        const char *colon = strrchr(addr, ':');
        int want = colon && strncmp(addr, "unix:", 5) != 0 ? atoi(colon + 1) : 0;
        int have = cw_port_local_port(fd);
        if (want > 0 && have != want) {
            cw_log(CW_LOG_WARN, "restart: inherited listener %d has port %d, not %s's", fd, have,
                   addr);
            cw_port_close(fd);
            continue;
        }
        cw_log(CW_LOG_INFO, "restart: listener %s taken over (descriptor %d)", addr, fd);
        return fd;
    }
    return -1;
}

void cw_restart_inherited_done(void)
{
    if (!inherit_read)
        read_inherited();
    while (next_inherited < ninherited) {
        int fd = inherited[next_inherited++];
        if (cw_port_is_listener(fd)) {
            cw_log(CW_LOG_WARN, "restart: inherited listener %d not asked for: closed", fd);
            cw_port_close(fd);
        }
    }
}

/* ---- the old image ---- */

int cw_restart_setup(cw_server *s, const char *p, char *const argv[])
{
    (void)s;
    if (p && (p[0] != '/' || strlen(p) >= sizeof path))
        return CW_EINVAL;
    if (p)
        strcpy(path, p);
    else if (cw_port_self_path(path, sizeof path) < 0)
        path[0] = 0; /* logged when a restart is asked for */
    nargs = 0;
    while (argv && argv[nargs]) {
        if (nargs == MAX_ARGS)
            return CW_EINVAL;
        args[nargs] = argv[nargs];
        nargs++;
    }
    args[nargs] = NULL;
    return nargs ? 0 : CW_EINVAL;
}

static int handover_var(const char *e)
{
    return strncmp(e, FDS_VAR, sizeof FDS_VAR - 1) == 0 ||
           strncmp(e, CTL_VAR, sizeof CTL_VAR - 1) == 0 ||
           strncmp(e, RESTART_VAR, sizeof RESTART_VAR - 1) == 0;
}

/* Our environment without the handover variables, then a, b and c (each
 * may be NULL): CHANWIRE_RESTART tells chanwired it runs as a restart's
 * trial or its new image (already the --user it was asked to become). */
static void make_env(char *a, char *b, char *c)
{
    char *const *e = cw_port_environ();
    unsigned n = 0;
    for (; e && *e && n < MAX_ENV; e++)
        if (!handover_var(*e))
            envs[n++] = *e;
    char *add[3] = {a, b, c};
    for (unsigned i = 0; i < 3; i++)
        if (add[i])
            envs[n++] = add[i];
    envs[n] = NULL;
}

static void watch_listeners(int on)
{
    for (unsigned i = 0; i < cw_srv.nlisteners; i++) {
        struct cw_listener *l = &cw_srv.listeners[i];
        if (l->io.fd >= 0 && !l->paused)
            cw_reactor_set(&l->io, on ? CW_PORT_IN : 0);
    }
}

static void give_up(const char *why, int code)
{
    cw_log(CW_LOG_ERROR, "restart: %s%s%d; this process goes on serving", why,
           code >= 0 ? " " : "", code);
    if (phase == DRAIN)
        watch_listeners(1);
    phase = IDLE;
    cw_wheel_cancel(&tick);
}

static uint64_t elapsed(void)
{
    return cw_reactor_now() - phase_start;
}

static void exec_new(void)
{
    size_t n = (size_t)snprintf(fds_env, sizeof fds_env, "%s", FDS_VAR);
    for (unsigned i = 0; i < cw_srv.nlisteners; i++) {
        int fd = cw_srv.listeners[i].io.fd;
        if (fd < 0 || cw_port_inherit(fd, 1) < 0)
            continue;
        n += (size_t)snprintf(fds_env + n, sizeof fds_env - n, "%s%d",
                              n > sizeof FDS_VAR - 1 ? "," : "", fd);
    }
    char *ctl = NULL;
#if defined(CONFIG_CONTROL_SOCKET)
    int cfd = cw_control_fd();
    if (cfd >= 0 && cw_port_inherit(cfd, 1) == 0) {
        snprintf(ctl_env, sizeof ctl_env, "%s%d", CTL_VAR, cfd);
        ctl = ctl_env;
    }
#endif
    make_env(fds_env, ctl, exec_env);
    args[nargs] = NULL;
    cw_log(CW_LOG_INFO, "restart: exec %s with %s%s%s", path, fds_env, ctl ? " " : "",
           ctl ? ctl : "");
    cw_port_exec(path, args, envs);
    int e = errno;
#if defined(CONFIG_CONTROL_SOCKET)
    if (ctl)
        cw_port_inherit(cfd, 0);
#endif
    for (unsigned i = 0; i < cw_srv.nlisteners; i++)
        if (cw_srv.listeners[i].io.fd >= 0)
            cw_port_inherit(cw_srv.listeners[i].io.fd, 0);
    cw_log(CW_LOG_ERROR, "restart: exec %s: %s", path, strerror(e));
    give_up("exec failed", -1);
}

static void on_tick(struct cw_wheel_timer *t)
{
    if (phase == TRIAL) {
        int st = 0;
        int r = cw_port_reap(trial_pid, &st);
        if (r == 0 && elapsed() < TRIAL_TIMEOUT_MS) {
            cw_wheel_arm(t, TICK_MS, on_tick);
            return;
        }
        if (r == 0) {
            cw_port_kill(trial_pid);
            while (cw_port_reap(trial_pid, &st) == 0)
                ;
            give_up("the new binary's trial run (--plan) took too long; killed, status", st);
            return;
        }
        trial_pid = -1;
        if (r < 0 || st != 0) {
            give_up(st == 127 ? "cannot run the new binary (its trial run exited with 127)"
                              : "the new binary's trial run (--plan) failed with status",
                    st == 127 ? -1 : st);
            return;
        }
        /* It starts with these options: stop accepting (the listening
         * sockets stay open, new connections wait in their queues) and send
         * every client away to reconnect. */
        phase = DRAIN;
        phase_start = cw_reactor_now();
        watch_listeners(0);
        cw_log(CW_LOG_INFO, "restart: trial run passed; closing %u connection(s) with 1012",
               cw_conn_count());
    }
    if (phase != DRAIN)
        return;
    /* The close frames leave in this batch's after-batch pass; the slots
     * are freed there too, and counted at the next tick. */
    cw_conn_close_open(1012, "service restart");
    if (cw_conn_count() > 0 && elapsed() < cw_rt.opt.shutdown_timeout_ms) {
        cw_wheel_arm(t, TICK_MS, on_tick);
        return;
    }
    if (cw_conn_count() > 0) {
        cw_log(CW_LOG_WARN, "restart: %u connection(s) still open after %u ms: dropping them",
               cw_conn_count(), cw_rt.opt.shutdown_timeout_ms);
        cw_conn_abort_all(); /* their sockets close with this image */
    }
    exec_new();
}

int cw_restart(cw_server *s)
{
    if (!s || !s->initialised)
        return CW_EINVAL;
    if (s->stopping || s->stop_requested) {
        cw_log(CW_LOG_WARN, "restart: shutting down already; not restarting");
        return CW_EINVAL;
    }
    if (phase != IDLE) {
        cw_log(CW_LOG_INFO, "restart: already under way");
        return 0;
    }
    if (!path[0] || !nargs) {
        cw_log(CW_LOG_ERROR, "restart: the program's path is unknown (cw_restart_setup)");
        return CW_EINVAL;
    }
    args[nargs] = plan_flag;
    args[nargs + 1] = NULL;
    make_env(trial_env, NULL, NULL);
    trial_pid = cw_port_spawn_quiet(path, args, envs);
    args[nargs] = NULL;
    if (trial_pid < 0) {
        cw_log(CW_LOG_ERROR, "restart: cannot start a trial run of %s: %s; this process goes on "
               "serving", path, strerror(errno));
        return CW_ESYS;
    }
    cw_log(CW_LOG_INFO, "restart: trying %s (trial run, pid %ld)", path, trial_pid);
    phase = TRIAL;
    phase_start = cw_reactor_now();
    cw_wheel_arm(&tick, TICK_MS, on_tick);
    return 0;
}
#else
int cw_restart_setup(cw_server *s, const char *p, char *const argv[])
{
    (void)s;
    (void)p;
    (void)argv;
    return CW_EINVAL; /* not in this build (CONFIG_RESTART) */
}

int cw_restart(cw_server *s)
{
    (void)s;
    cw_log(CW_LOG_WARN, "restart: not in this build (CONFIG_RESTART)");
    return CW_EINVAL;
}
#endif
