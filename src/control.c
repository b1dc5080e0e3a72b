/* SPDX-License-Identifier: MIT */
/* control.c: the control socket: a handful of static client slots served
 * by the reactor, requests parsed by proto/control_cmd.c. Each client gets
 * CONTROL_TIMEOUT_MS to send its request; the reply is one line (or the stats block). */
#include "control.h"
#include "base/log.h"
#include "channels/groups.h"
#include "channels/layer.h"
#include "chanwire.h"
#include "core/reactor.h"
#include "cw_config.h"
#include "port.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTROL_TIMEOUT_MS 2000

/* ---- serving ---- */

struct ctl_client {
    struct cw_io io;
    struct cw_wheel_timer timer;
    size_t len;
    char buf[CONFIG_CONTROL_BUF];
};

static struct cw_io listen_io = {NULL, -1, 0};
static cw_server *control_server; /* whose groups the requests reach */
static struct ctl_client clients[CONFIG_CONTROL_CLIENTS];
static char socket_path[108];
static uint64_t socket_dev, socket_ino; /* the socket file we created */

static void client_close(struct ctl_client *cl)
{
    cw_wheel_cancel(&cl->timer);
    cw_reactor_del(&cl->io);
    cw_port_close(cl->io.fd);
    cl->io.fd = -1;
}

static void reply(struct ctl_client *cl, const char *text, size_t n)
{
    /* Replies are small and the peer is local: one write, best effort. */
    cw_port_send(cl->io.fd, text, n);
    client_close(cl);
}

/* Constant formats (a shared one made GCC's -Wformat-truncation see a null
 * %s argument on the other branch and fail the SANITIZE=1 build). */
static void reply_error(struct ctl_client *cl, const char *why)
{
    char line[160];
    int n = snprintf(line, sizeof line, "error %s\n", why);
    reply(cl, line, n < (int)sizeof line ? (size_t)n : sizeof line - 1);
}

static void reply_ok(struct ctl_client *cl, long v)
{
    char line[32];
    int n = snprintf(line, sizeof line, "ok %ld\n", v);
    reply(cl, line, (size_t)n);
}

static const char *err_text(int rc)
{
    switch (rc) {
    case CW_EINVAL: return "invalid group, type, code or text";
    case CW_ENOMEM: return "out of buffers";
    case CW_ETOOBIG: return "message too large";
    default: return "failed";
    }
}

static void stats_reply(struct ctl_client *cl)
{
    char out[4096];
    size_t n = cw_stats_report(out, sizeof out - 8);
    n += (size_t)snprintf(out + n, sizeof out - n, "ok\n");
    reply(cl, out, n);
}

#if defined(CONFIG_JSON)
static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
#endif

/* A typed event's body is the event's other keys (docs/api.md), which is
 * also what other processes get from the channel layer: the object form
 * {"type": "chat.message", "message": "hi"} loses its top-level "type"
 * member here, in place. Anything else is left as it is. */
static size_t body_without_type(char *p, size_t len)
{
#if defined(CONFIG_JSON)
    cw_json_val v;
    if (cw_json_get(p, len, "type", &v) != 0)
        return len;
    char *vs = (char *)(uintptr_t)v.ptr, *ve = vs + v.len, *ks = vs, *end = p + len;
    while (ks > p && is_ws(ks[-1]))
        ks--;
    if (ks == p || *--ks != ':')
        return len;
    while (ks > p && is_ws(ks[-1]))
        ks--;
    if (ks - p < 7 || memcmp(ks - 6, "\"type\"", 6) != 0)
        return len; /* an escaped spelling of the key: leave it */
    ks -= 6;
    char *cut0 = ks, *cut1 = ve;
    while (cut1 < end && is_ws(*cut1))
        cut1++;
    if (cut1 < end && *cut1 == ',') {
        cut1++; /* the member and the comma after it */
        while (cut1 < end && is_ws(*cut1))
            cut1++;
    } else {
        char *b = cut0; /* the last member: the comma before it */
        while (b > p && is_ws(b[-1]))
            b--;
        if (b > p && b[-1] == ',')
            cut0 = b - 1;
        cut1 = ve;
    }
    memmove(cut0, cut1, (size_t)(end - cut1));
    return len - (size_t)(cut1 - cut0);
#else
    (void)p;
    return len; /* no JSON reader in this build */
#endif
}

static void execute(struct ctl_client *cl, const cw_control_cmd *cmd)
{
    int rc = 0;
    cw_server *s = control_server;
    cw_layer_take_error(); /* only this request's failure counts */
    switch (cmd->op) {
    case CW_CTL_STATS:
        stats_reply(cl);
        return;
#if defined(CONFIG_RESTART)
    case CW_CTL_RESTART:
        /* Answered before the restart closes this socket. */
        cw_log(CW_LOG_INFO, "control: restart");
        if (cw_restart(s) < 0)
            reply_error(cl, "restart refused (see the log)");
        else
            reply_ok(cl, 0);
        return;
#endif
    case CW_CTL_SEND:
        rc = cw_group_send(s, cmd->group, cmd->type, cmd->payload,
                           body_without_type((char *)(uintptr_t)cmd->payload, cmd->len));
        break;
    case CW_CTL_BROADCAST:
        rc = cw_group_broadcast(s, cmd->group, cmd->payload, cmd->len);
        break;
    case CW_CTL_CLOSE:
        rc = cw_group_close(s, cmd->group, cmd->code, cmd->reason[0] ? cmd->reason : NULL);
        break;
    case CW_CTL_CHSEND:
        rc = cw_channel_send(s, cmd->channel, cmd->type, cmd->payload,
                             body_without_type((char *)(uintptr_t)cmd->payload, cmd->len));
        break;
    default:
        rc = CW_EINVAL;
    }
    cw_log(CW_LOG_INFO, "control: %s %s -> %d",
           cmd->op == CW_CTL_SEND     ? "send"
           : cmd->op == CW_CTL_CLOSE  ? "close"
           : cmd->op == CW_CTL_CHSEND ? "chsend"
                                      : "broadcast",
           cmd->op == CW_CTL_CHSEND ? cmd->channel : cmd->group, rc);
    const char *lerr = cw_layer_take_error();
    if (rc < 0) {
        reply_error(cl, err_text(rc));
    } else if (lerr) {
        /* delivered here, but the other processes did not get it */
        char why[140];
        snprintf(why, sizeof why, "not published to redis (%s); delivered to %d local "
                 "connection(s)", lerr, rc);
        reply_error(cl, why);
    } else {
        reply_ok(cl, rc);
    }
}

static void on_client(struct cw_io *io, unsigned events)
{
    struct ctl_client *cl = (struct ctl_client *)(void *)io;
    (void)events;
    ssize_t n = cw_port_recv(io->fd, cl->buf + cl->len, sizeof cl->buf - cl->len);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        client_close(cl);
        return;
    }
    cl->len += (size_t)n;
    cw_control_cmd cmd;
    const char *why;
    int rc = cw_control_cmd_parse(cl->buf, cl->len, sizeof cl->buf - CW_CTL_HEADER_MAX, &cmd, &why);
    if (rc == CW_CTL_MORE && cl->len < sizeof cl->buf)
        return;
    if (rc != CW_CTL_DONE) {
        cw_log(CW_LOG_INFO, "control: refused request: %s", rc == CW_CTL_MORE ? "too large" : why);
        reply_error(cl, rc == CW_CTL_MORE ? "request too large" : why);
        return;
    }
    execute(cl, &cmd);
}

static void on_client_timeout(struct cw_wheel_timer *t)
{
    struct ctl_client *cl =
        (struct ctl_client *)(void *)((char *)t - offsetof(struct ctl_client, timer));
    reply_error(cl, "request timed out");
}

static void on_accept(struct cw_io *io, unsigned events)
{
    (void)events;
    for (int k = 0; k < 8; k++) {
        int fd = cw_port_accept(io->fd, NULL);
        if (fd < 0)
            return;
        long uid, gid, me, mygid;
        cw_port_self_cred(&me, &mygid);
        if (cw_port_peer_cred(fd, &uid, &gid) < 0 || (uid != 0 && uid != me && gid != mygid)) {
            static const char deny[] = "error permission denied\n";
            cw_port_send(fd, deny, sizeof deny - 1);
            cw_port_close(fd);
            cw_log(CW_LOG_WARN, "control: refused uid %ld", uid);
            continue;
        }
        struct ctl_client *cl = NULL;
        for (unsigned i = 0; i < CONFIG_CONTROL_CLIENTS; i++)
            if (clients[i].io.fd < 0) {
                cl = &clients[i];
                break;
            }
        if (!cl) {
            static const char busy[] = "error busy\n";
            cw_port_send(fd, busy, sizeof busy - 1);
            cw_port_close(fd);
            continue;
        }
        cl->len = 0;
        if (cw_reactor_add(&cl->io, fd, CW_PORT_IN, on_client) < 0) {
            cw_port_close(fd);
            cl->io.fd = -1;
            continue;
        }
        cw_wheel_arm(&cl->timer, CONTROL_TIMEOUT_MS, on_client_timeout);
    }
}

int cw_control_open(const char *path, char *err, size_t errlen)
{
    for (unsigned i = 0; i < CONFIG_CONTROL_CLIENTS; i++)
        clients[i].io.fd = -1;
    /* A restart (src/restart.c) hands the socket over: the path never
     * stops answering, and a daemon that dropped root keeps a socket it
     * could not create again. */
    int fd = -1;
#if defined(CONFIG_RESTART)
    const char *inh = getenv("CHANWIRE_CONTROL_FD");
    fd = inh && *inh ? atoi(inh) : -1;
    if (fd >= 3 && cw_port_is_listener(fd))
        cw_log(CW_LOG_INFO, "restart: control socket %s taken over (descriptor %d)", path, fd);
    else
#endif
        fd = cw_port_listen_unix(path, 0660, err, errlen);
    if (fd < 0)
        return -1;
    if (cw_reactor_add(&listen_io, fd, CW_PORT_IN, on_accept) < 0) {
        snprintf(err, errlen, "control socket %s: cannot poll", path);
        cw_port_close(fd);
        return -1;
    }
    snprintf(socket_path, sizeof socket_path, "%s", path);
    if (cw_port_path_id(path, &socket_dev, &socket_ino) < 0)
        socket_dev = socket_ino = 0;
    return 0;
}

const char *cw_control_path(void)
{
    return listen_io.fd >= 0 ? socket_path : NULL;
}

void cw_control_close(void)
{
    for (unsigned i = 0; i < CONFIG_CONTROL_CLIENTS; i++)
        if (clients[i].io.fd >= 0)
            client_close(&clients[i]);
    if (listen_io.fd >= 0) {
        cw_reactor_del(&listen_io);
        cw_port_close(listen_io.fd);
        listen_io.fd = -1;
        cw_port_unlink_if(socket_path, socket_dev, socket_ino);
    }
}

int cw_control_fd(void)
{
    return listen_io.fd;
}

int cw_control_listen(cw_server *s, const char *path, char *err, size_t errlen)
{
    control_server = s;
    return cw_control_open(path, err, errlen) < 0 ? CW_ESYS : 0;
}
