/* SPDX-License-Identifier: MIT */
/* channel.c: channel names and worker channels. A connection's name holds
 * this process's random id and the connection's slot and generation
 * (cw_conn_ref), in the style of the active layer, so a name is turned back
 * into its connection without a table, and a name that outlived its
 * connection finds nothing. Worker channels (ChannelNameRouter) are a small
 * fixed table of names bound to consumers. Sends to names of other
 * processes go to the layer; sends to gone channels are dropped and
 * counted, never an error for the sender. */
#include "channels/channel.h"

#if defined(CW_HAVE_CHANNELS)
#include "channels/groups.h"
#include "channels/layer.h"
#include "core/conn.h"
#include "core/runtime.h"
#include "port.h"

#include <stdio.h>
#include <string.h>

#define WORKERS_MAX 16
#define MAX_NESTING 8 /* event handlers that send on to channels */

static struct {
    char id[33];
    struct worker {
        const cw_consumer *consumer; /* NULL: free */
        char name[CW_CHANNEL_NAME_BUF];
    } workers[WORKERS_MAX];
    int depth;
    struct {
        unsigned long sends, local, remote, dropped, received;
    } n;
} C;

static const char hexd[] = "0123456789abcdef";

void cw_channels_init(void)
{
    uint8_t r[16];
    if (cw_port_random(r, sizeof r) < 0) {
        /* no random source: the clock still tells restarts apart */
        uint64_t t = cw_port_now_ms() ^ ((uint64_t)cw_port_wall_seconds() << 20);
        memset(r, 0, sizeof r);
        memcpy(r, &t, sizeof t);
    }
    for (size_t i = 0; i < sizeof r; i++) {
        C.id[2 * i] = hexd[r[i] >> 4];
        C.id[2 * i + 1] = hexd[r[i] & 15];
    }
    C.id[32] = 0;
    memset(C.workers, 0, sizeof C.workers);
    memset(&C.n, 0, sizeof C.n);
    C.depth = 0;
}

const char *cw_channel_process_id(void)
{
    return C.id;
}

static void hex32(char *out, uint32_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 4)
        out[i] = hexd[v & 15];
}

long cw_channel_format(int style, const char *prefix, uint32_t slot, uint32_t gen, char *out,
                       size_t cap)
{
    char tail[17];
    hex32(tail, slot);
    hex32(tail + 8, gen);
    tail[16] = 0;
    int n;
    if (style == CW_CHSTYLE_PUBSUB)
        n = snprintf(out, cap, "%sspecific.%.16s%s", prefix, C.id, tail);
    else
        n = snprintf(out, cap, "specific.%s!%s", C.id, tail);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = 0;
        return CW_ETOOBIG;
    }
    return n;
}

static int unhex32(const char *p, uint32_t *v)
{
    uint32_t x = 0;
    for (int i = 0; i < 8; i++) {
        const char *d = p[i] ? strchr(hexd, p[i]) : NULL;
        if (!d)
            return 0;
        x = x << 4 | (uint32_t)(d - hexd);
    }
    *v = x;
    return 1;
}

int cw_channel_parse(int style, const char *prefix, const char *name, uint32_t *slot,
                     uint32_t *gen)
{
    const char *p = name;
    if (style == CW_CHSTYLE_PUBSUB) {
        size_t pl = strlen(prefix);
        if (strncmp(p, prefix, pl) != 0)
            return 0;
        p += pl;
        if (strncmp(p, "specific.", 9) != 0 || strncmp(p + 9, C.id, 16) != 0)
            return 0;
        p += 25;
    } else {
        if (strncmp(p, "specific.", 9) != 0 || strncmp(p + 9, C.id, 32) != 0 || p[41] != '!')
            return 0;
        p += 42;
    }
    return strlen(p) == 16 && unhex32(p, slot) && unhex32(p + 8, gen);
}

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.';
}

int cw_channel_name_valid(const char *name)
{
    size_t n = 0, bang = 0;
    for (; name[n]; n++) {
        if (n >= CW_CHANNEL_NAME_BUF - 1)
            return 0;
        if (name[n] == '!') {
            if (bang || n == 0)
                return 0;
            bang = n;
        } else if (!name_char(name[n])) {
            return 0;
        }
    }
    return n > 0;
}

static int style(const char **prefix)
{
    return cw_layer_style(prefix);
}

long cw_channel_name_copy(cw_conn *c, char *out, size_t cap)
{
    if (!c)
        return CW_EINVAL;
    const char *prefix;
    int st = style(&prefix);
    cw_conn_ref ref = cw_conn_ref_of(c);
    return cw_channel_format(st, prefix, ref.slot, ref.gen, out, cap);
}

const char *cw_channel_name(cw_conn *c)
{
    static char buf[CW_CHANNEL_NAME_BUF];
    if (cw_channel_name_copy(c, buf, sizeof buf) < 0)
        buf[0] = 0;
    return buf;
}

static struct worker *worker_find(const char *name)
{
    for (size_t i = 0; i < WORKERS_MAX; i++)
        if (C.workers[i].consumer && strcmp(C.workers[i].name, name) == 0)
            return &C.workers[i];
    return NULL;
}

int cw_channel_bind(cw_server *s, const char *name, const cw_consumer *consumer)
{
    (void)s;
    if (!name || !consumer || !consumer->event || !cw_channel_name_valid(name) ||
        strchr(name, '!') || strncmp(name, "specific.", 9) == 0)
        return CW_EINVAL;
    if (worker_find(name))
        return CW_EEXIST;
    for (size_t i = 0; i < WORKERS_MAX; i++) {
        struct worker *w = &C.workers[i];
        if (!w->consumer) {
            snprintf(w->name, sizeof w->name, "%s", name);
            w->consumer = consumer;
            cw_layer_worker_up(w->name);
            return 0;
        }
    }
    return CW_ENOMEM;
}

int cw_channel_unbind(cw_server *s, const char *name)
{
    (void)s;
    struct worker *w = name ? worker_find(name) : NULL;
    if (!w)
        return CW_ENOENT;
    cw_layer_worker_down(w->name);
    w->consumer = NULL;
    w->name[0] = 0;
    return 0;
}

int cw_channel_workers_walk(int (*fn)(const char *name, void *ctx), void *ctx)
{
    for (size_t i = 0; i < WORKERS_MAX; i++)
        if (C.workers[i].consumer) {
            int r = fn(C.workers[i].name, ctx);
            if (r)
                return r;
        }
    return 0;
}

/* The connection of one of our own names, or NULL. *ours: the name is of
 * this process (in any style, so a name handed out before a layer was set
 * up still works). */
static cw_conn *conn_of(const char *name, int *ours)
{
    const char *prefix;
    int st = style(&prefix);
    uint32_t slot, gen;
    *ours = cw_channel_parse(st, prefix, name, &slot, &gen);
    if (!*ours && st != CW_CHSTYLE_CORE)
        *ours = cw_channel_parse(CW_CHSTYLE_CORE, prefix, name, &slot, &gen);
    if (!*ours)
        return NULL;
    cw_conn_ref ref = {slot, gen};
    return cw_conn_get(ref);
}

static void dropped(void)
{
    C.n.dropped++;
}

/* An event to a connection or a worker (c NULL). */
static void run_event(const cw_consumer *consumer, cw_conn *c, const char *type,
                      const void *data, size_t len)
{
    if (!consumer || !consumer->event || C.depth >= MAX_NESTING) {
        dropped();
        return;
    }
    C.n.local++;
    cw_rt.stats.events_out++;
    C.depth++;
    consumer->event(c, type, data, len);
    C.depth--;
}

int cw_channel_send(cw_server *s, const char *name, const char *type, const void *data,
                    size_t len)
{
    (void)s;
    if (!name || !type || (len && !data) || !cw_channel_name_valid(name) ||
        !cw_event_type_ok(type))
        return CW_EINVAL;
    C.n.sends++;
    int ours;
    cw_conn *c = conn_of(name, &ours);
    if (c) {
        run_event(cw_conn_consumer(c), c, type, data, len);
        return 1;
    }
    if (ours) {
        dropped(); /* that connection has ended */
        return 0;
    }
    struct worker *w = worker_find(name);
    if (w) {
        run_event(w->consumer, NULL, type, data, len);
        return 1;
    }
    if (cw_layer_channel_send(name, type, data, len) == 0)
        C.n.remote++;
    else
        dropped();
    return 0;
}

int cw_channel_from_layer(const char *name, const cw_layer_msg_msg *m)
{
    int ours;
    cw_conn *c = conn_of(name, &ours);
    struct worker *w = c || ours ? NULL : worker_find(name);
    if (!c && !ours && !w)
        return -1;
    C.n.received++;
    if (!c) {
        if (w && m->kind == CW_LAYER_MSG_EVENT)
            run_event(w->consumer, NULL, m->type, m->data, m->len);
        else
            dropped();
        return 0;
    }
    switch (m->kind) {
    case CW_LAYER_MSG_EVENT:
        run_event(cw_conn_consumer(c), c, m->type, m->data, m->len);
        break;
    case CW_LAYER_MSG_TEXT:
        C.n.local++;
        cw_send_text(c, (const char *)m->data, m->len);
        break;
    case CW_LAYER_MSG_BINARY:
        C.n.local++;
        cw_send_binary(c, m->data, m->len);
        break;
    case CW_LAYER_MSG_CLOSE:
        C.n.local++;
        cw_close(c, m->code, m->reason[0] ? m->reason : NULL);
        break;
    default:
        dropped();
    }
    return 0;
}

size_t cw_channel_report(char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    int n = snprintf(out, cap,
                     "channel_sends %lu\nchannel_local %lu\nchannel_remote %lu\n"
                     "channel_dropped %lu\nchannel_received %lu\n",
                     C.n.sends, C.n.local, C.n.remote, C.n.dropped, C.n.received);
    if (n < 0)
        return 0;
    return (size_t)n >= cap ? cap - 1 : (size_t)n;
}

#else /* !CW_HAVE_CHANNELS */
#include "port.h"

#include <stdio.h>
#include <string.h>

const char *cw_channel_process_id(void)
{
    static char id[33];
    if (!id[0]) {
        uint8_t r[16] = {0};
        if (cw_port_random(r, sizeof r) < 0) {
            uint64_t t = cw_port_now_ms() ^ ((uint64_t)cw_port_wall_seconds() << 20);
            memcpy(r, &t, sizeof t);
        }
        for (size_t i = 0; i < sizeof r; i++)
            snprintf(id + 2 * i, 3, "%02x", r[i]);
    }
    return id;
}

const char *cw_channel_name(cw_conn *c)
{
    (void)c;
    return "";
}

long cw_channel_name_copy(cw_conn *c, char *out, size_t cap)
{
    (void)c;
    if (cap)
        out[0] = 0;
    return CW_EINVAL;
}

int cw_channel_send(cw_server *s, const char *name, const char *type, const void *data,
                    size_t len)
{
    (void)s, (void)name, (void)type, (void)data, (void)len;
    return CW_EINVAL;
}

int cw_channel_bind(cw_server *s, const char *name, const cw_consumer *consumer)
{
    (void)s, (void)name, (void)consumer;
    return CW_EINVAL;
}

int cw_channel_unbind(cw_server *s, const char *name)
{
    (void)s, (void)name;
    return CW_ENOENT;
}
#endif
