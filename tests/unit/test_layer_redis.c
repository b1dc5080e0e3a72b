/* SPDX-License-Identifier: MIT */
/* test_layer_redis.c: the Redis layer's client and its reconnect state
 * machine against a small fake Redis run by this test on a loopback port
 * (it speaks just enough RESP2: AUTH, SUBSCRIBE, UNSUBSCRIBE, PUBLISH with
 * the echo real Redis sends to subscribers, PING). This file owns the clock
 * (time moves only when a test says so) and a poll()-based poller that
 * ignores fd -1, so real sockets and socket-less connection slots (as in
 * test_groups.c) live side by side. Covered: Redis down at start with the
 * backoff doubling to its cap while local groups keep working, AUTH, one
 * SUBSCRIBE per group with local members and the resubscription after a
 * reconnect, UNSUBSCRIBE after the last member, publications byte-exact,
 * our own echo delivered once, the ping barrier that retires publications
 * whose echo will not come, foreign messages of every kind, malformed and
 * oversized messages dropped without harm, protocol garbage and silence
 * (ping timeout) restarting the session, a full send queue. With
 * fr.core it also answers the core layer's commands (TIME, SCRIPT LOAD,
 * ZADD, EXPIRE, ZREM, EVAL, EVALSHA, BZPOPMIN held until the test answers
 * it, ZPOPMIN): test_core_replies covers that layer's reply handling. */
#include "base/buf.h"
#include "base/log.h"
#include "core/runtime.h"
#include "core/conn.h"
#include "cw_config.h"
#include "channels/channel.h"
#include "channels/core_wire.h"
#include "channels/groups.h"
#include "channels/layer.h"
#include "proto/layer_msg.h"
#include "port.h"
#include "core/reactor.h"
#include "proto/resp.h"
#include "server.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- the clock: moves only when told ---- */

static uint64_t fake_now = 1000000;

uint64_t cw_port_now_ms(void)
{
    return fake_now;
}

/* ---- a poller over poll(); fd -1 (socket-less slots) is remembered only ---- */

#define MAXFD 64
static struct {
    int fd;
    unsigned events;
    void *udata;
} pf[MAXFD];
static int npf;
static void *last_udata;

int cw_port_poller_open(unsigned capacity)
{
    (void)capacity;
    npf = 0;
    return 0;
}

void cw_port_poller_close(void)
{
    npf = 0;
}

int cw_port_poller_add(int fd, unsigned events, void *udata)
{
    last_udata = udata;
    if (fd < 0)
        return 0;
    if (npf == MAXFD)
        return -1;
    pf[npf].fd = fd;
    pf[npf].events = events;
    pf[npf].udata = udata;
    npf++;
    return 0;
}

int cw_port_poller_mod(int fd, unsigned events, void *udata)
{
    for (int i = 0; i < npf; i++)
        if (pf[i].fd == fd) {
            pf[i].events = events;
            pf[i].udata = udata;
        }
    return 0;
}

int cw_port_poller_del(int fd)
{
    for (int i = 0; i < npf; i++)
        if (pf[i].fd == fd) {
            pf[i] = pf[--npf];
            break;
        }
    return 0;
}

void cw_port_poller_forget(int fd)
{
    cw_port_poller_del(fd);
}

int cw_port_poller_wait(cw_port_event *ev, int max, int timeout_ms)
{
    (void)timeout_ms; /* time is the test's: never sleep here */
    struct pollfd p[MAXFD];
    for (int i = 0; i < npf; i++) {
        p[i].fd = pf[i].fd;
        p[i].events = (short)((pf[i].events & CW_PORT_IN ? POLLIN : 0) |
                              (pf[i].events & CW_PORT_OUT ? POLLOUT : 0));
        p[i].revents = 0;
    }
    if (poll(p, (nfds_t)npf, 0) <= 0)
        return 0;
    int n = 0;
    for (int i = 0; i < npf && n < max; i++) {
        if (!p[i].revents)
            continue;
        unsigned e = 0;
        if (p[i].revents & (POLLIN | POLLHUP))
            e |= CW_PORT_IN;
        if (p[i].revents & POLLOUT)
            e |= CW_PORT_OUT;
        if (p[i].revents & (POLLERR | POLLNVAL))
            e |= CW_PORT_ERR | CW_PORT_IN;
        ev[n].udata = pf[i].udata;
        ev[n].events = e;
        n++;
    }
    return n;
}

const char *cw_port_poller_name(void)
{
    return "test";
}

int cw_port_poller_fd(void)
{
    return -1; /* a fake poller has no descriptor */
}

/* ---- the fake Redis ---- */

#define FR_CLIENTS 8
#define FR_SUBS 32

struct fr_client {
    int fd;
    uint8_t in[1 << 20];
    size_t len;
    cw_resp_parser rp;
    int argc;
    char argv[4][256];
    size_t argl[4];
    uint8_t payload[1 << 20]; /* the last argument, when it is long */
    size_t payload_len;
    char subs[FR_SUBS][160];
    int nsubs;
    char psub[160]; /* one PSUBSCRIBE pattern ("prefix*"), as the layer sends */
    int authed;
};

static struct {
    int lfd;
    uint16_t port;
    const char *password;
    int answer_pings;
    int echo;            /* deliver PUBLISHes to subscribers, as Redis does */
    int reading;         /* read commands at all */
    struct fr_client c[FR_CLIENTS];
    /* the core layer's commands */
    int core;
    const char *evalsha_reply;   /* NULL: ":0" */
    struct fr_client *popper;    /* a BZPOPMIN waiting for the test's answer */
    int loads, zadds, zrems, evalshas, zpops;
    char last_member[160];
    /* what it saw */
    int auths, subscribes, unsubscribes, publishes, pings, psubscribes;
    char last_chan[160];
    uint8_t last_payload[1 << 20];
    size_t last_len;
} fr;

static void fr_listen(uint16_t port)
{
    fr.lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fr.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (bind(fr.lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fr.lfd, 16) < 0) {
        perror("fake redis");
        exit(1);
    }
    socklen_t al = sizeof a;
    getsockname(fr.lfd, (struct sockaddr *)&a, &al);
    fr.port = ntohs(a.sin_port);
    fcntl(fr.lfd, F_SETFL, O_NONBLOCK);
}

static void fr_close_clients(void)
{
    for (int i = 0; i < FR_CLIENTS; i++)
        if (fr.c[i].fd >= 0) {
            close(fr.c[i].fd);
            fr.c[i].fd = -1;
        }
}

static void fr_stop(void)
{
    fr_close_clients();
    if (fr.lfd >= 0)
        close(fr.lfd);
    fr.lfd = -1;
}

static void fr_start(uint16_t port)
{
    memset(&fr, 0, sizeof fr);
    for (int i = 0; i < FR_CLIENTS; i++)
        fr.c[i].fd = -1;
    fr.answer_pings = 1;
    fr.echo = 1;
    fr.reading = 1;
    fr_listen(port);
}

static void fr_send(struct fr_client *c, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t k = send(c->fd, b, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EAGAIN) {
            struct pollfd q = {c->fd, POLLOUT, 0};
            poll(&q, 1, 100);
            continue;
        }
        if (k <= 0)
            return;
        b += k;
        n -= (size_t)k;
    }
}

static void fr_sendf(struct fr_client *c, const char *s)
{
    fr_send(c, s, strlen(s));
}

static void fr_bulk(struct fr_client *c, const void *p, size_t n)
{
    char h[32];
    snprintf(h, sizeof h, "$%zu\r\n", n);
    fr_sendf(c, h);
    fr_send(c, p, n);
    fr_sendf(c, "\r\n");
}

static int fr_subscribed(struct fr_client *c, const char *chan)
{
    for (int i = 0; i < c->nsubs; i++)
        if (strcmp(c->subs[i], chan) == 0)
            return i;
    return -1;
}

/* A message from "another publisher" to every subscriber of chan. */
static int fr_push(const char *chan, const void *p, size_t n)
{
    int reached = 0;
    for (int i = 0; i < FR_CLIENTS; i++) {
        struct fr_client *c = &fr.c[i];
        if (c->fd < 0 || fr_subscribed(c, chan) < 0)
            continue;
        fr_sendf(c, "*3\r\n$7\r\nmessage\r\n");
        fr_bulk(c, chan, strlen(chan));
        fr_bulk(c, p, n);
        reached++;
    }
    for (int i = 0; i < FR_CLIENTS; i++) {
        struct fr_client *c = &fr.c[i];
        size_t pl = strlen(c->psub);
        if (c->fd < 0 || !pl || strncmp(chan, c->psub, pl - 1) != 0)
            continue;
        fr_sendf(c, "*4\r\n$8\r\npmessage\r\n");
        fr_bulk(c, c->psub, pl);
        fr_bulk(c, chan, strlen(chan));
        fr_bulk(c, p, n);
        reached++;
    }
    return reached;
}

/* Raw bytes to every client in subscribe mode. */
static void fr_raw_to_subscribers(const char *s)
{
    for (int i = 0; i < FR_CLIENTS; i++)
        if (fr.c[i].fd >= 0 && (fr.c[i].nsubs || fr.c[i].psub[0]))
            fr_sendf(&fr.c[i], s);
}

static void fr_reply_sub(struct fr_client *c, const char *verb, const char *chan)
{
    char h[64];
    fr_sendf(c, "*3\r\n");
    fr_bulk(c, verb, strlen(verb));
    fr_bulk(c, chan, strlen(chan));
    snprintf(h, sizeof h, ":%d\r\n", c->nsubs + (c->psub[0] != 0));
    fr_sendf(c, h);
}

static void fr_command(struct fr_client *c)
{
    const char *cmd = c->argv[0];
    if (fr.password && !c->authed && strcmp(cmd, "AUTH") != 0) {
        fr_sendf(c, "-NOAUTH Authentication required.\r\n");
        return;
    }
    if (strcmp(cmd, "AUTH") == 0) {
        fr.auths++;
        const char *pw = c->argv[c->argc - 1];
        if (fr.password && strcmp(pw, fr.password) == 0) {
            c->authed = 1;
            fr_sendf(c, "+OK\r\n");
        } else {
            fr_sendf(c, "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
        }
    } else if (strcmp(cmd, "SUBSCRIBE") == 0 && c->argc == 2) {
        fr.subscribes++;
        if (fr_subscribed(c, c->argv[1]) < 0 && c->nsubs < FR_SUBS)
            snprintf(c->subs[c->nsubs++], sizeof c->subs[0], "%s", c->argv[1]);
        fr_reply_sub(c, "subscribe", c->argv[1]);
    } else if (strcmp(cmd, "PSUBSCRIBE") == 0 && c->argc == 2) {
        fr.psubscribes++;
        snprintf(c->psub, sizeof c->psub, "%s", c->argv[1]);
        fr_reply_sub(c, "psubscribe", c->argv[1]);
    } else if (strcmp(cmd, "UNSUBSCRIBE") == 0 && c->argc == 2) {
        fr.unsubscribes++;
        int i = fr_subscribed(c, c->argv[1]);
        if (i >= 0)
            memcpy(c->subs[i], c->subs[--c->nsubs], sizeof c->subs[0]);
        fr_reply_sub(c, "unsubscribe", c->argv[1]);
    } else if (strcmp(cmd, "PUBLISH") == 0 && c->argc == 3) {
        fr.publishes++;
        snprintf(fr.last_chan, sizeof fr.last_chan, "%s", c->argv[1]);
        memcpy(fr.last_payload, c->payload, c->payload_len);
        fr.last_len = c->payload_len;
        int n = fr.echo ? fr_push(c->argv[1], c->payload, c->payload_len) : 0;
        char h[32];
        snprintf(h, sizeof h, ":%d\r\n", n);
        fr_sendf(c, h);
    } else if (fr.core && strcmp(cmd, "TIME") == 0) {
        fr_sendf(c, "*2\r\n$10\r\n1795709400\r\n$6\r\n000000\r\n");
    } else if (fr.core && strcmp(cmd, "SCRIPT") == 0) {
        fr.loads++;
        fr_sendf(c, "$40\r\n0123456789012345678901234567890123456789\r\n");
    } else if (fr.core && (strcmp(cmd, "ZADD") == 0 || strcmp(cmd, "ZREM") == 0)) {
        *(cmd[1] == 'A' ? &fr.zadds : &fr.zrems) += 1;
        snprintf(fr.last_member, sizeof fr.last_member, "%s", c->argv[c->argc - 1]);
        fr_sendf(c, ":1\r\n");
    } else if (fr.core && strcmp(cmd, "EXPIRE") == 0) {
        fr_sendf(c, ":1\r\n");
    } else if (fr.core && strcmp(cmd, "EVAL") == 0) {
        fr_sendf(c, "$-1\r\n");
    } else if (fr.core && strcmp(cmd, "EVALSHA") == 0) {
        fr.evalshas++;
        fr_sendf(c, fr.evalsha_reply ? fr.evalsha_reply : ":0\r\n");
    } else if (fr.core && strcmp(cmd, "BZPOPMIN") == 0) {
        fr.popper = c;
    } else if (fr.core && strcmp(cmd, "ZPOPMIN") == 0) {
        fr.zpops++;
        fr_sendf(c, "*0\r\n");
    } else if (strcmp(cmd, "PING") == 0) {
        fr.pings++;
        if (!fr.answer_pings)
            return;
        fr_sendf(c, c->nsubs || c->psub[0] ? "*2\r\n$4\r\npong\r\n$0\r\n\r\n" : "+PONG\r\n");
    } else {
        fr_sendf(c, "-ERR unknown command\r\n");
    }
}

/* Commands are arrays of bulk strings: parsed with the layer's own tokenizer. */
static void fr_read(struct fr_client *c)
{
    ssize_t k = recv(c->fd, c->in + c->len, sizeof c->in - c->len, 0);
    if (k == 0 || (k < 0 && errno != EAGAIN)) {
        close(c->fd);
        c->fd = -1;
        return;
    }
    if (k < 0)
        return;
    c->len += (size_t)k;
    size_t off = 0;
    for (;;) {
        cw_resp_tok t;
        long n = cw_resp_next(&c->rp, c->in + off, c->len - off, &t);
        if (n <= 0)
            break;
        off += (size_t)n;
        if (t.depth == 0) {
            c->argc = 0;
            continue;
        }
        if (t.type == CW_RESP_BULK && t.index < 4) {
            size_t m = t.len < 255 ? t.len : 255;
            memcpy(c->argv[t.index], t.ptr, m);
            c->argv[t.index][m] = 0;
            c->argl[t.index] = t.len;
            memcpy(c->payload, t.ptr, t.len);
            c->payload_len = t.len;
            c->argc = (int)t.index + 1;
        }
        if (t.end)
            fr_command(c);
    }
    memmove(c->in, c->in + off, c->len - off);
    c->len -= off;
}

static void fr_poll(void)
{
    if (fr.lfd >= 0) {
        int fd;
        while ((fd = accept(fr.lfd, NULL, NULL)) >= 0) {
            fcntl(fd, F_SETFL, O_NONBLOCK);
            for (int i = 0; i < FR_CLIENTS; i++)
                if (fr.c[i].fd < 0) {
                    memset(&fr.c[i], 0, offsetof(struct fr_client, in));
                    fr.c[i].fd = fd;
                    fr.c[i].len = 0;
                    fr.c[i].nsubs = 0;
                    fr.c[i].psub[0] = 0;
                    fr.c[i].authed = 0;
                    cw_resp_init(&fr.c[i].rp, sizeof fr.c[i].payload);
                    fd = -1;
                    break;
                }
            if (fd >= 0)
                close(fd);
        }
    }
    for (int i = 0; fr.reading && i < FR_CLIENTS; i++)
        if (fr.c[i].fd >= 0)
            fr_read(&fr.c[i]);
}

static int fr_nclients(void)
{
    int n = 0;
    for (int i = 0; i < FR_CLIENTS; i++)
        n += fr.c[i].fd >= 0;
    return n;
}

/* The channels the subscriber connection holds, sorted into one string. */
static void fr_subs(char *out, size_t cap)
{
    char *names[FR_SUBS];
    int n = 0;
    out[0] = 0;
    for (int i = 0; i < FR_CLIENTS; i++)
        if (fr.c[i].fd >= 0)
            for (int k = 0; k < fr.c[i].nsubs; k++)
                names[n++] = fr.c[i].subs[k];
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(names[j], names[i]) < 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    for (int i = 0; i < n; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "", names[i]);
}

/* ---- driving ---- */

static void after_batch(void)
{
    cw_layer_flush();
}

/* One round: the fake Redis, then one reactor pass; loopback needs a
 * moment between them. */
static void pump(void)
{
    fr_poll();
    cw_reactor_run_once(0);
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
    fr_poll();
    cw_reactor_run_once(0);
}

static void pump_n(int n)
{
    for (int i = 0; i < n; i++)
        pump();
}

static long stat_of(const char *name)
{
    char rep[4096];
    size_t n = cw_layer_report(rep, sizeof rep);
    rep[n] = 0;
    char key[64];
    snprintf(key, sizeof key, "%s ", name);
    const char *p = strstr(rep, key);
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static int state_is(const char *s)
{
    char rep[4096], want[64];
    size_t n = cw_layer_report(rep, sizeof rep);
    rep[n] = 0;
    snprintf(want, sizeof want, "redis_state %s\n", s);
    return strstr(rep, want) != NULL;
}

#define UNTIL(cond)                                \
    do {                                           \
        for (int i_ = 0; i_ < 2000 && !(cond); i_++) \
            pump();                                \
        CHECK(cond);                               \
    } while (0)

/* Moves the clock forward in steps, pumping at each. */
static void advance(uint32_t ms)
{
    for (uint32_t t = 0; t < ms; t += 10) {
        fake_now += 10;
        pump();
    }
}

/* ---- consumers ---- */

typedef struct {
    cw_conn *c;
    char type[72];
    char data[256];
    size_t len;
} event_rec;

static event_rec evs[64];
static int nev;

static void ev_cb(cw_conn *c, const char *type, const uint8_t *data, size_t len)
{
    if (nev < 64) {
        evs[nev].c = c;
        snprintf(evs[nev].type, sizeof evs[nev].type, "%s", type);
        size_t k = len < 255 ? len : 255;
        memcpy(evs[nev].data, data, k);
        evs[nev].data[k] = 0;
        evs[nev].len = len;
    }
    nev++;
}

static const cw_consumer rec = {NULL, NULL, ev_cb, NULL, NULL};

static cw_conn *conn_open(void)
{
    cw_port_peer peer;
    memset(&peer, 0, sizeof peer);
    last_udata = NULL;
    cw_conn_start(-1, &peer, 0, 0);
    if (!last_udata)
        return NULL;
    cw_conn *c = (cw_conn *)(void *)((char *)last_udata - offsetof(struct cw_conn, xp.io));
    cw_wheel_cancel(&c->timer);
    static const cw_route route = {"/ws/test/", &rec, 0};
    cw_rt.opt.routes = &route;
    cw_rt.opt.nroutes = 1;
    c->hold.req = NULL;
    c->state = CW_ST_OPEN;
    c->route = 0;
    c->flags |= CW_CF_CONSUMER;
    cw_rt.stats.conns_http--;
    return c;
}

static uint16_t free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, (struct sockaddr *)&a, sizeof a);
    socklen_t al = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &al);
    close(s);
    return ntohs(a.sin_port);
}

static void setup(void)
{
    cw_layer_fini();
    memset(&cw_srv, 0, sizeof cw_srv);
    memset(&cw_rt, 0, sizeof cw_rt);
    cw_options_init(&cw_rt.opt);
    cw_log_set_level(getenv("CW_TEST_LOG") ? CW_LOG_DEBUG : -1);
    cw_rt.www_fd = -1;
    cw_buf_init();
    cw_txq_init();
    cw_conn_pool_init(CONFIG_MAX_CONNS);
    cw_groups_init();
#if defined(CW_HAVE_CHANNELS)
    cw_channels_init();
#endif
    cw_reactor_init(64);
    cw_reactor_set_after_batch(after_batch);
    nev = 0;
}

static int layer_on(uint16_t port, const char *password, unsigned bmin, unsigned bmax)
{
    char addr[32], err[200];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
    cw_redis_options o;
    memset(&o, 0, sizeof o);
    o.addr = addr;
    o.layer = "pubsub"; /* this file tests the Pub/Sub layer */
    o.password = password;
    o.backoff_min_ms = bmin;
    o.backoff_max_ms = bmax;
    int rc = cw_redis_layer(&cw_srv, &o, err, sizeof err);
    if (rc)
        fprintf(stderr, "  cw_redis_layer: %s\n", err);
    return rc;
}

static size_t hex_of(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        char b[3] = {hex[2 * i], hex[2 * i + 1], 0};
        out[i] = (uint8_t)strtoul(b, NULL, 16);
    }
    return n;
}

/* ---- cases ---- */

static void test_setup_refusals(void)
{
    setup();
    char err[200];
    cw_redis_options o;
    memset(&o, 0, sizeof o);
    o.layer = "pubsub";
    o.addr = "redis.example:6379"; /* no DNS */
    CHECK_EQ(cw_redis_layer(&cw_srv, &o, err, sizeof err), CW_EINVAL);
    CHECK(strstr(err, "bad address") != NULL);
    o.addr = "127.0.0.1";
    CHECK_EQ(cw_redis_layer(&cw_srv, &o, err, sizeof err), CW_EINVAL);
    o.addr = "127.0.0.1:6379";
    o.prefix = "has space";
    CHECK_EQ(cw_redis_layer(&cw_srv, &o, err, sizeof err), CW_EINVAL);
    o.prefix = "";
    CHECK_EQ(cw_redis_layer(&cw_srv, &o, err, sizeof err), CW_EINVAL);
    o.prefix = NULL;
    /* a hosts list of several: refused for both layers, never cut to one */
    o.addr = "127.0.0.1:6379,127.0.0.1:6380";
    for (int core = 0; core < 2; core++) {
        o.layer = core ? "core" : "pubsub";
        err[0] = 0;
        CHECK_EQ(cw_redis_layer(&cw_srv, &o, err, sizeof err), CW_EINVAL);
        CHECK(strstr(err, "several redis hosts: not supported yet") != NULL);
    }
    CHECK_EQ(cw_layer_report(err, sizeof err), 0); /* still off: nothing to report */
    /* publishing with no layer configured is silent */
    cw_layer_publish_event("g", "t", "{}", 2);
    CHECK(cw_layer_take_error() == NULL);
}

static void test_down_at_start_backoff(void)
{
    setup();
    uint16_t port = free_port();
    cw_conn *a = conn_open();
    CHECK_EQ(cw_group_add(a, "room"), 0);
    CHECK_EQ(layer_on(port, NULL, 100, 800), 0);
    UNTIL(state_is("down"));
    CHECK_EQ(stat_of("redis_connect_failures"), 1);
    /* local service goes on: the event arrives, the publication is refused */
    CHECK_EQ(cw_group_send(&cw_srv, "room", "chat.message", "{\"message\":\"m\"}", 15), 1);
    CHECK_EQ(nev, 1);
    const char *e = cw_layer_take_error();
    CHECK(e && strcmp(e, "redis is not connected") == 0);
    CHECK(cw_layer_take_error() == NULL);
    CHECK_EQ(stat_of("redis_publish_failed"), 1);
    /* the attempts: about 100, 200, 400, then 800 ms apart, +-20% and a tick */
    uint64_t last = fake_now, gaps[6];
    long seen = 1;
    int k = 0;
    for (int step = 0; step < 600 && k < 6; step++) {
        fake_now += 10;
        pump();
        long f = stat_of("redis_connect_failures");
        if (f != seen) {
            CHECK_EQ(f, seen + 1);
            seen = f;
            gaps[k++] = fake_now - last;
            last = fake_now;
        }
    }
    CHECK_EQ(k, 6);
    static const uint64_t want[6] = {100, 200, 400, 800, 800, 800};
    for (int i = 0; i < k; i++) {
        if (gaps[i] < want[i] * 8 / 10 || gaps[i] > want[i] * 12 / 10 + 2 * CONFIG_TIMER_TICK_MS)
            fprintf(stderr, "  gap %d: %llu ms, want about %llu\n", i,
                    (unsigned long long)gaps[i], (unsigned long long)want[i]);
        CHECK(gaps[i] >= want[i] * 8 / 10);
        CHECK(gaps[i] <= want[i] * 12 / 10 + 2 * CONFIG_TIMER_TICK_MS);
    }
    /* Redis appears: the next attempt connects and subscribes the room */
    fr_start(port);
    advance(1000);
    UNTIL(state_is("up"));
    char subs[512];
    UNTIL((fr_subs(subs, sizeof subs), strcmp(subs, "asgi__group__room") == 0));
    CHECK_EQ(fr_nclients(), 2);
    fr_stop();
}

/* The cases with three groups, in a build whose group table holds fewer
 * (randconfig): the table refuses past its size, and nothing else is
 * checked (the layer's one-group cases cover the rest). 1: carry on. */
static int three_groups_fit(void)
{
    if (CONFIG_MAX_GROUPS >= 3)
        return 1;
    setup();
    cw_conn *a = conn_open();
    CHECK(a != NULL);
    if (!a)
        return 0;
    CHECK_EQ(cw_group_add(a, "g1"), 0);
    if (CONFIG_MAX_GROUPS == 2)
        (void)cw_group_add(a, "g2"); /* the table's second, or over the share */
    CHECK(cw_group_add(a, "g3") < 0);
    printf("  (3 groups do not fit CONFIG_MAX_GROUPS=%d: checked the refusal)\n",
           CONFIG_MAX_GROUPS);
    return 0;
}

/* How many connections a case may open: each start takes a request
 * buffer, and those only come back when the pools are set up again. */
#define NCONN (CONFIG_HTTP_BUFS < CONFIG_MAX_CONNS ? CONFIG_HTTP_BUFS : CONFIG_MAX_CONNS)

/* The cases with n connections, in a build that holds fewer here
 * (randconfig: a small CONFIG_HTTP_BUFS or CONFIG_MAX_CONNS): the one past
 * the bound is refused, and nothing else is checked. 1: carry on. */
static int conns_fit(unsigned n)
{
    if (n <= NCONN)
        return 1;
    setup();
    for (unsigned i = 0; i < NCONN; i++)
        CHECK(conn_open() != NULL);
    CHECK(conn_open() == NULL);
    printf("  (%u connections do not fit here, %u do: checked the refusal)\n", n,
           (unsigned)NCONN);
    return 0;
}

static void test_auth_and_subscriptions(void)
{
    if (!three_groups_fit() || !conns_fit(4))
        return;
    setup();
    fr_start(0);
    fr.password = "s3cret";
    cw_conn *a = conn_open(), *b = conn_open(), *c = conn_open();
    CHECK_EQ(cw_group_add(a, "g1"), 0);
    CHECK_EQ(cw_group_add(b, "g1"), 0);
    CHECK_EQ(cw_group_add(c, "g2"), 0);
    CHECK_EQ(layer_on(fr.port, "s3cret", 100, 800), 0);
    UNTIL(state_is("up"));
    CHECK_EQ(fr.auths, 2); /* both connections */
    char subs[512];
    UNTIL((fr_subs(subs, sizeof subs), strcmp(subs, "asgi__group__g1 asgi__group__g2") == 0));
    CHECK_EQ(fr.subscribes, 2);
    /* one SUBSCRIBE per group, not per member; UNSUBSCRIBE after the last */
    cw_conn *d = conn_open();
    CHECK_EQ(cw_group_add(d, "g1"), 0);
    CHECK_EQ(cw_group_add(d, "g3"), 0);
    UNTIL((fr_subs(subs, sizeof subs),
           strcmp(subs, "asgi__group__g1 asgi__group__g2 asgi__group__g3") == 0));
    CHECK_EQ(fr.subscribes, 3);
    CHECK_EQ(cw_group_discard(c, "g2"), 0);
    CHECK_EQ(cw_group_discard(a, "g1"), 0);
    UNTIL((fr_subs(subs, sizeof subs), strcmp(subs, "asgi__group__g1 asgi__group__g3") == 0));
    CHECK_EQ(fr.unsubscribes, 1);
    /* leaving and rejoining in one batch: the commands keep their order */
    CHECK_EQ(cw_group_discard(d, "g3"), 0);
    CHECK_EQ(cw_group_add(d, "g3"), 0);
    pump_n(20);
    fr_subs(subs, sizeof subs);
    CHECK(strcmp(subs, "asgi__group__g1 asgi__group__g3") == 0);
    fr_stop();
}

static void test_auth_refused(void)
{
    setup();
    fr_start(0);
    fr.password = "right";
    CHECK_EQ(layer_on(fr.port, "wrong", 100, 200), 0);
    UNTIL(stat_of("redis_connect_failures") == 1);
    CHECK(state_is("down"));
    advance(300);
    UNTIL(stat_of("redis_connect_failures") >= 2);
    CHECK_EQ(stat_of("redis_connects"), 0);
    fr_stop();
}

static const char *const CHAT_HI = /* {"type":"chat.message","message":"hi"} */
    "82a474797065ac636861742e6d657373616765a76d657373616765a26869";

static void test_publish_once_and_foreign(void)
{
    setup();
    fr_start(0);
    cw_conn *a = conn_open();
    CHECK_EQ(cw_group_add(a, "g1"), 0);
    CHECK_EQ(layer_on(fr.port, NULL, 100, 800), 0);
    UNTIL(state_is("up") && fr.subscribes == 1);
    pump_n(5);
    /* a local send: local members at once, Redis byte-exact, the echo skipped */
    CHECK_EQ(cw_group_send(&cw_srv, "g1", "chat.message", "{\"message\":\"hi\"}", 16), 1);
    CHECK_EQ(nev, 1);
    CHECK(cw_layer_take_error() == NULL);
    UNTIL(fr.publishes == 1 && stat_of("redis_own_skipped") == 1);
    uint8_t want[64];
    size_t wl = hex_of(CHAT_HI, want);
    CHECK(strcmp(fr.last_chan, "asgi__group__g1") == 0);
    CHECK_EQ(fr.last_len, wl);
    CHECK_MEM(fr.last_payload, want, wl);
    pump_n(10);
    CHECK_EQ(nev, 1);
    UNTIL(stat_of("redis_inflight") == 0);
    /* the very same bytes from another process are delivered */
    CHECK_EQ(fr_push("asgi__group__g1", want, wl), 1);
    UNTIL(nev == 2);
    CHECK(strcmp(evs[1].type, "chat.message") == 0 && strcmp(evs[1].data, "{\"message\":\"hi\"}") == 0);
    /* Django's spelling of the type comes through as sent */
    uint8_t dj[128];
    size_t dl = hex_of("82a474797065ac636861745f6d657373616765a76d657373616765b466726f6d2d646a616e"
                       "676f2d6466663334323938", dj);
    fr_push("asgi__group__g1", dj, dl);
    UNTIL(nev == 3);
    CHECK(strcmp(evs[2].type, "chat_message") == 0);
    CHECK(strcmp(evs[2].data, "{\"message\":\"from-django-dff34298\"}") == 0);
    /* a group with no local member: published, nothing comes back */
    CHECK_EQ(cw_group_send(&cw_srv, "other", "x", "{}", 2), 0);
    UNTIL(fr.publishes == 2 && stat_of("redis_inflight") == 0);
    CHECK(strcmp(fr.last_chan, "asgi__group__other") == 0);
    /* broadcast: one frame locally, websocket.send on the wire */
    uint32_t before = a->tx.bytes;
    CHECK_EQ(cw_group_broadcast(&cw_srv, "g1", "raw", 3), 1);
    CHECK_EQ(a->tx.bytes, before + 5);
    UNTIL(fr.publishes == 3 && stat_of("redis_own_skipped") == 2);
    CHECK(fr.last_len == 30 && memcmp(fr.last_payload + 7, "websocket.send", 14) == 0);
    pump_n(5);
    CHECK_EQ(a->tx.bytes, before + 5); /* not twice */
    /* a foreign broadcast is queued as a frame too */
    uint8_t ws[64];
    size_t wsl = hex_of("82a474797065ae776562736f636b65742e73656e64a474657874a26869", ws);
    fr_push("asgi__group__g1", ws, wsl);
    UNTIL(a->tx.bytes == before + 5 + 4);
    /* reserved types cannot be sent as events */
    CHECK_EQ(cw_group_send(&cw_srv, "g1", "websocket.close", "{}", 2), CW_EINVAL);
    CHECK_EQ(cw_group_send(&cw_srv, "g1", "websocket_send", "{}", 2), CW_EINVAL);
    /* a body that is not a JSON object: delivered here, not published */
    CHECK_EQ(cw_group_send(&cw_srv, "g1", "x", "[1]", 3), 1);
    const char *e = cw_layer_take_error();
    CHECK(e && strstr(e, "JSON object") != NULL);
    /* a foreign close closes the local members */
    uint8_t cl[64];
    size_t cll = hex_of("83a474797065af776562736f636b65742e636c6f7365a4636f6465cd0fa1a6726561736f6e"
                        "a3627965", cl);
    fr_push("asgi__group__g1", cl, cll);
    UNTIL(a->state != CW_ST_OPEN);
    CHECK_EQ(a->close_code, 4001);
    fr_stop();
}

static void test_echo_that_never_comes(void)
{
    /* Redis may run our PUBLISH before our SUBSCRIBE: no echo then. The
     * ping barrier retires the publication, so a later identical message
     * from someone else is not mistaken for it. */
    setup();
    fr_start(0);
    cw_conn *a = conn_open();
    CHECK_EQ(cw_group_add(a, "g1"), 0);
    CHECK_EQ(layer_on(fr.port, NULL, 100, 800), 0);
    UNTIL(state_is("up") && fr.subscribes == 1);
    fr.echo = 0;
    pump_n(5);
    int pings = fr.pings;
    CHECK_EQ(cw_group_send(&cw_srv, "g1", "chat.message", "{\"message\":\"hi\"}", 16), 1);
    UNTIL(fr.publishes == 1 && stat_of("redis_inflight") == 0);
    CHECK_EQ(fr.pings, pings + 1); /* the barrier */
    uint8_t want[64];
    size_t wl = hex_of(CHAT_HI, want);
    fr_push("asgi__group__g1", want, wl);
    UNTIL(nev == 2);
    CHECK_EQ(stat_of("redis_own_skipped"), 0);
    fr_stop();
}

static void test_redis_restart(void)
{
    if (!three_groups_fit() || !conns_fit(3))
        return;
    setup();
    fr_start(0);
    uint16_t port = fr.port;
    cw_conn *a = conn_open(), *b = conn_open();
    CHECK_EQ(cw_group_add(a, "g1"), 0);
    CHECK_EQ(cw_group_add(b, "g2"), 0);
    CHECK_EQ(layer_on(port, NULL, 100, 400), 0);
    UNTIL(state_is("up") && fr.subscribes == 2);
    /* Redis dies: the session ends, local groups go on */
    fr_stop();
    UNTIL(state_is("down"));
    CHECK_EQ(stat_of("redis_disconnects"), 1);
    CHECK_EQ(cw_group_send(&cw_srv, "g1", "t", "{}", 2), 1);
    CHECK_EQ(nev, 1);
    CHECK(cw_layer_take_error() != NULL);
    /* a group that appears and one that goes while Redis is away */
    cw_conn *c = conn_open();
    CHECK_EQ(cw_group_add(c, "g3"), 0);
    CHECK_EQ(cw_group_discard(b, "g2"), 0);
    advance(1500);
    CHECK(state_is("down"));
    /* back on the same port: every group with members is subscribed again */
    fr_start(port);
    advance(600);
    UNTIL(state_is("up"));
    char subs[512];
    UNTIL((fr_subs(subs, sizeof subs), strcmp(subs, "asgi__group__g1 asgi__group__g3") == 0));
    CHECK_EQ(stat_of("redis_connects"), 2);
    uint8_t want[64];
    size_t wl = hex_of(CHAT_HI, want);
    fr_push("asgi__group__g3", want, wl);
    UNTIL(nev == 2);
    CHECK(evs[1].c == c);
    /* a reconnect that lasted: the backoff starts over at the minimum */
    advance(3000);
    fr_close_clients();
    UNTIL(state_is("down"));
    uint64_t t0 = fake_now;
    for (int i = 0; i < 100 && !state_is("up"); i++) {
        fake_now += 10;
        pump_n(3);
    }
    CHECK(state_is("up"));
    CHECK(fake_now - t0 <= 100 * 12 / 10 + 2 * CONFIG_TIMER_TICK_MS);
    fr_stop();
}

/* The largest block the layer converts a message in: the larger of the
 * message and I/O blocks (CONFIG_MAX_MESSAGE_SIZE may be the smaller). */
#define LAYER_BLOCK                                                                \
    (CONFIG_MAX_MESSAGE_SIZE > CONFIG_IO_BUF_SIZE ? CONFIG_MAX_MESSAGE_SIZE : CONFIG_IO_BUF_SIZE)

static void test_bad_messages_dropped(void)
{
    setup();
    fr_start(0);
    cw_conn *a = conn_open();
    CHECK_EQ(cw_group_add(a, "g1"), 0);
    CHECK_EQ(layer_on(fr.port, NULL, 100, 800), 0);
    UNTIL(state_is("up") && fr.subscribes == 1);
    pump_n(5);
    /* not msgpack, no type, a bad type, a type Django could not route, ext */
    static const char *const bad[] = {"c1", "", "80", "81a474797065c403616263", "81a474797065a25f78",
                                      "82a474797065a178a161c70101ff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t b[64];
        fr_push("asgi__group__g1", b, hex_of(bad[i], b));
    }
    UNTIL(stat_of("redis_malformed") == 6);
    /* larger than any buffer: skipped as it streams past */
    static uint8_t huge[LAYER_BLOCK + 10];
    memset(huge, 0xa0, sizeof huge);
    fr_push("asgi__group__g1", huge, sizeof huge);
    UNTIL(stat_of("redis_toobig") == 1);
    /* a message to a group we do not have */
    uint8_t want[64];
    size_t wl = hex_of(CHAT_HI, want);
    for (int i = 0; i < FR_CLIENTS; i++)
        if (fr.c[i].fd >= 0 && fr.c[i].nsubs) {
            snprintf(fr.c[i].subs[fr.c[i].nsubs++], sizeof fr.c[i].subs[0], "asgi__group__zz");
            snprintf(fr.c[i].subs[fr.c[i].nsubs++], sizeof fr.c[i].subs[0], "other");
        }
    fr_push("asgi__group__zz", want, wl);
    fr_push("other", want, wl);
    UNTIL(stat_of("redis_unrouted") == 2);
    /* nothing of it reached or closed the member; the session is intact */
    CHECK_EQ(nev, 0);
    CHECK(a->state == CW_ST_OPEN);
    CHECK(state_is("up"));
    CHECK_EQ(stat_of("redis_disconnects"), 0);
    fr_push("asgi__group__g1", want, wl);
    UNTIL(nev == 1);
    /* an unexpected reply kind is ignored, protocol garbage restarts the session */
    fr_raw_to_subscribers("*3\r\n$8\r\npmessage\r\n$1\r\nx\r\n$1\r\ny\r\n");
    pump_n(10);
    CHECK(state_is("up"));
    fr_raw_to_subscribers("?garbage\r\n");
    UNTIL(state_is("down"));
    CHECK(a->state == CW_ST_OPEN);
    advance(300);
    UNTIL(state_is("up"));
    fr_stop();
}

static void test_silent_redis(void)
{
    setup();
    fr_start(0);
    cw_conn *a = conn_open();
    CHECK_EQ(cw_group_add(a, "g1"), 0);
    CHECK_EQ(layer_on(fr.port, NULL, 100, 800), 0);
    UNTIL(state_is("up"));
    /* answers pings: stays up however long */
    advance(12000);
    CHECK(state_is("up"));
    CHECK(fr.pings >= 2);
    /* stops answering: dropped within two health periods (and reconnected) */
    fr.answer_pings = 0;
    advance(10500);
    CHECK_EQ(stat_of("redis_disconnects"), 1);
    fr_stop();
}

static void test_send_queue_full(void)
{
    setup();
    fr_start(0);
    CHECK_EQ(layer_on(fr.port, NULL, 100, 800), 0);
    UNTIL(state_is("up"));
    pump_n(5);
    static char big[200000];
    memset(big, 'x', sizeof big);
#if LAYER_BLOCK < 200000
    /* larger than the layer's blocks: refused as such, nothing queued */
    long failed = stat_of("redis_publish_failed");
    CHECK_EQ(cw_group_broadcast(&cw_srv, "nobody", big, LAYER_BLOCK + 1), 0);
    const char *tl = cw_layer_take_error();
    CHECK(tl && strcmp(tl, "message too large") == 0);
    CHECK_EQ(stat_of("redis_publish_failed"), failed + 1);
    CHECK_EQ(stat_of("redis_inflight"), 0);
#endif
    fr.reading = 0; /* Redis stops reading: the socket, then our queue fill up */
    /* 200000-byte messages, or as large as the layer's blocks take
     * (LAYER_BLOCK / 2), about 200000 bytes between two pumps */
    enum { BIG = LAYER_BLOCK / 2 < 200000 ? LAYER_BLOCK / 2 : 200000,
           PER_PUMP = (200000 + BIG - 1) / BIG };
    int refused = 0;
    for (int i = 0; i < 400 && !refused; i++) {
        for (int k = 0; k < PER_PUMP && !refused; k++) {
            CHECK_EQ(cw_group_broadcast(&cw_srv, "nobody", big, BIG), 0);
            const char *e = cw_layer_take_error();
            refused = e != NULL;
            /* the bound, or the I/O pool first on boards where it is the
             * smaller, or (small messages) the publications awaiting Redis */
            CHECK(!e || strcmp(e, "redis send queue full") == 0 ||
                  strcmp(e, "out of buffers") == 0 ||
                  strcmp(e, "too many publications awaiting redis") == 0);
        }
        pump();
    }
    CHECK(refused);
    CHECK(stat_of("redis_publish_failed") >= 1);
    CHECK(state_is("up")); /* a slow Redis is not a dead one */
    fr_stop();
}

/* The waiting BZPOPMIN's answer: raw bytes. */
static void fr_pop(const void *p, size_t n)
{
    struct fr_client *c = fr.popper;
    fr.popper = NULL;
    if (c && c->fd >= 0)
        fr_send(c, p, n);
}

/* A BZPOPMIN answer: [key, member, score]. */
static size_t pop_reply(uint8_t *out, const char *key, const uint8_t *m, size_t ml,
                        const char *score)
{
    size_t n = (size_t)sprintf((char *)out, "*3\r\n$%zu\r\n%s\r\n$%zu\r\n", strlen(key), key, ml);
    memcpy(out + n, m, ml);
    n += ml;
    n += (size_t)sprintf((char *)out + n, "\r\n$%zu\r\n%s\r\n", strlen(score), score);
    return n;
}

static void test_core_replies(void)
{
    setup();
    uint16_t port = free_port();
    fr_start(port);
    fr.core = 1;
    char addr[32], err[200];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
    cw_redis_options o;
    memset(&o, 0, sizeof o);
    o.addr = addr; /* no layer named: core, the default */
    CHECK_EQ(cw_redis_layer(&cw_srv, &o, err, sizeof err), 0);
    UNTIL(state_is("up"));
    CHECK_EQ(fr.loads, 2); /* both scripts, in the handshake */
    UNTIL(fr.popper != NULL);
    /* joining: ZADD PREFIX:group:G <time> specific.<id>!g.G */
    cw_conn *a = conn_open();
    CHECK_EQ(cw_group_add(a, "room"), 0);
    UNTIL(fr.zadds == 1);
    char member[128], key[128];
    snprintf(member, sizeof member, "specific.%s!g.room", cw_channel_process_id());
    snprintf(key, sizeof key, "asgispecific.%s!", cw_channel_process_id());
    CHECK(strcmp(fr.last_member, member) == 0);
    /* a Django group_send to that member: delivered, then the queue is
     * drained with ZPOPMIN and BZPOPMIN waits again */
    static const char *const V =
        "82a474797065ac636861745f6d657373616765a76d657373616765a568656c6c6f";
    uint8_t map[64], m[512], reply[1024], rnd[CW_CORE_RANDOM] = {0};
    size_t ml = hex_of(V, map);
    const char *t[1] = {member};
    long n = cw_core_member(m, sizeof m, rnd, map, ml, 1, t, 1);
    CHECK(n > 0);
    fr_pop(reply, pop_reply(reply, key, m, (size_t)n, "1795709399.500000"));
    UNTIL(nev == 1);
    CHECK(strcmp(evs[0].type, "chat_message") == 0 && strcmp(evs[0].data, "{\"message\":\"hello\"}") == 0);
    UNTIL(fr.popper != NULL);
    CHECK_EQ(fr.zpops, 1);
    /* older than the expiry (60 s before Redis's TIME): never delivered */
    fr_pop(reply, pop_reply(reply, key, m, (size_t)n, "1795709300.000000"));
    UNTIL(stat_of("redis_expired") == 1);
    UNTIL(fr.popper != NULL);
    /* a member that is not msgpack; one with no routing key; a score that
     * is not a number: dropped and counted, the session goes on */
    static const uint8_t bad[13] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xc1};
    fr_pop(reply, pop_reply(reply, key, bad, sizeof bad, "1795709399.5"));
    UNTIL(stat_of("redis_malformed") == 1);
    UNTIL(fr.popper != NULL);
    memcpy(m, rnd, CW_CORE_RANDOM);
    memcpy(m + CW_CORE_RANDOM, map, ml);
    fr_pop(reply, pop_reply(reply, key, m, CW_CORE_RANDOM + ml, "1795709399.5"));
    UNTIL(stat_of("redis_unrouted") == 1);
    UNTIL(fr.popper != NULL);
    fr_pop(reply, pop_reply(reply, key, m, CW_CORE_RANDOM + ml, "soon"));
    UNTIL(stat_of("redis_expired") == 2);
    UNTIL(fr.popper != NULL);
    CHECK_EQ(nev, 1);
    CHECK(state_is("up"));
    /* group sends: the script's count of full queues is ChannelFull */
    fr.evalsha_reply = ":3\r\n";
    CHECK_EQ(cw_group_send(&cw_srv, "room", "chat.message", "{}", 2), 1);
    UNTIL(stat_of("redis_channel_full") == 3);
    CHECK_EQ(fr.evalshas, 1);
    /* the scripts flushed (NOSCRIPT): counted, loaded again */
    fr.evalsha_reply = "-NOSCRIPT No matching script. Please use EVAL.\r\n";
    CHECK_EQ(cw_group_send(&cw_srv, "room", "chat.message", "{}", 2), 1);
    UNTIL(fr.loads == 4);
    CHECK_EQ(stat_of("redis_publish_errors"), 1);
    CHECK(state_is("up"));
    fr.evalsha_reply = NULL;
    /* a BZPOPMIN answer of the wrong shape: the session is dropped and
     * made again, the membership added again */
    static const char two[] = "*2\r\n$1\r\nx\r\n$1\r\ny\r\n";
    fr_pop(two, sizeof two - 1);
    UNTIL(stat_of("redis_disconnects") == 1);
    advance(300);
    UNTIL(state_is("up"));
    UNTIL(fr.zadds == 2);
    CHECK(strcmp(fr.last_member, member) == 0);
    /* leaving: ZREM */
    CHECK_EQ(cw_group_discard(a, "room"), 0);
    UNTIL(fr.zrems == 1);
    cw_layer_fini();
    fr_stop();
}

int main(void)
{
    RUN(test_setup_refusals);
    RUN(test_down_at_start_backoff);
    RUN(test_auth_and_subscriptions);
    RUN(test_auth_refused);
    RUN(test_publish_once_and_foreign);
    RUN(test_echo_that_never_comes);
    RUN(test_redis_restart);
    RUN(test_bad_messages_dropped);
    RUN(test_silent_redis);
    RUN(test_send_queue_full);
    RUN(test_core_replies);
    cw_layer_fini();
    return cw_unit_done();
}
