/* SPDX-License-Identifier: MIT */
/* layer_redis.c: the Redis channel layer, channels_redis's
 * RedisPubSubChannelLayer spoken from inside the reactor: two non-blocking
 * RESP2 connections (one publishes, one is subscribed to one Redis channel
 * per group that has local members), a reconnect state machine with capped
 * backoff, and the bookkeeping that keeps our own publications, which Redis
 * echoes back to us, from reaching local members a second time. Channel
 * names: one PSUBSCRIBE for this process's connections, one SUBSCRIBE per
 * worker channel. It also owns the hooks of channels/layer.h: while the
 * core layer (layer_redis_core.c) is the active one, each is handed to it. */
#include "cw_config.h"
#ifdef CONFIG_LAYER_REDIS
#include "channels/layer.h"
#include "base/buf.h"
#include "chanwire.h"
#include "channels/channel.h"
#include "channels/groups.h"
#include "channels/layer_core.h"
#include "proto/layer_msg.h"
#include "port.h"
#include "core/reactor.h"
#include "proto/resp.h"
#include "base/log.h"
#include "base/txq.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#ifndef CONFIG_LAYER_REDIS_SENDQ
#define CONFIG_LAYER_REDIS_SENDQ 2097152
#endif
#ifndef CONFIG_LAYER_REDIS_INFLIGHT
#define CONFIG_LAYER_REDIS_INFLIGHT 4096
#endif
#ifndef CONFIG_LAYER_REDIS_BACKOFF_MAX_MS
#define CONFIG_LAYER_REDIS_BACKOFF_MAX_MS 5000
#endif

#define PREFIX_MAX 64
#define GROUP_TAG "__group__"
#define CHAN_MAX (PREFIX_MAX + 9 + CONFIG_GROUP_NAME_MAX)
#define CONNECT_TIMEOUT_MS 3000 /* TCP connect and the handshake */
#define HEALTH_MS 5000          /* a ping each period; one unanswered for a period drops the session */
#define STABLE_MS 2000          /* a session that lasted this long starts the backoff over */
#define BACKOFF_MIN_MS 100
#define READS_PER_EVENT 64
#define WRITES_PER_FLUSH 64
#define TOKENS_PER_READ 100000  /* a bound, far above what one read can hold */
/* the largest reply string kept: one that fits the largest pool block */
#define BLOCK_MAX (CONFIG_MAX_MESSAGE_SIZE > CONFIG_IO_BUF_SIZE ? CONFIG_MAX_MESSAGE_SIZE \
                                                                : CONFIG_IO_BUF_SIZE)
#define MAX_BULK (BLOCK_MAX - 256)

/* HELLO: connected, waiting for the answers to AUTH (with a password) and
 * PING on both connections; UP only once Redis has really answered. */
enum { ST_OFF = 0, ST_DOWN, ST_CONNECTING, ST_HELLO, ST_UP };
static const char *const state_names[] = {"off", "down", "connecting", "handshake", "up"};

struct link {
    struct cw_io io;  /* first: the reactor hands us &io */
    int connected;
    int hs;           /* handshake replies still to come */
    int hs_auth;      /* the next of them answers AUTH */
    int squeezed;     /* max_bulk lowered to drop one string we have no room for */
    cw_txq tx;
    uint8_t *rx;
    size_t rx_len, rx_cap;
    cw_resp_parser rp;
};

/* Our publications not yet known to be delivered or lost, in publish order. */
enum { PS_SENT = 0, PS_DONE, PS_GONE };
struct pending {
    uint64_t hash;     /* of channel and payload */
    uint32_t barrier;  /* PS_DONE: the ping whose pong proves no echo is still coming */
    uint8_t state;
};

/* The subscriber connection's reply being assembled. */
enum { K_NONE = 0, K_MESSAGE, K_PMESSAGE, K_SUBSCRIBE, K_UNSUBSCRIBE, K_PONG, K_OTHER };
struct sub_reply {
    int kind;
    int chan_ok;
    size_t chan_len;
    char chan[CHAN_MAX + 1];
};

static struct {
    int state;
    char addr[64];
    char prefix[PREFIX_MAX + 1];
    char group_prefix[PREFIX_MAX + sizeof GROUP_TAG];
    size_t gp_len;
    char user[65];
    char password[257];
    unsigned backoff_min, backoff_max, backoff;
    uint64_t up_since;
    int in_io;              /* a link's handler is running: failures wait for its end */
    const char *fail_why;   /* a deferred failure */
    char fail_buf[160];
    int failing_streak;     /* connection attempts failed in a row */
    struct link pub, sub;
    struct cw_wheel_timer timer;  /* backoff, connect deadline or health check */
    /* resubscribing every group after a (re)connect, a few at a time */
    int resyncing;
    uint32_t cursor;
    /* pings on the subscriber connection double as barriers */
    uint32_t ping_sent, pong_recv, health_seq;
    int need_barrier;
    struct sub_reply reply;
    struct pending ring[CONFIG_LAYER_REDIS_INFLIGHT];
    uint64_t head, reply_at, tail; /* free-running (64 bits never wrap): index = n % size */
    const char *last_error; /* for cw_layer_take_error */
    struct {
        unsigned long connects, disconnects, connect_failures;
        unsigned long published, publish_failed, publish_errors, unconfirmed;
        unsigned long received, delivered, own_skipped, malformed, toobig, unrouted;
        unsigned long subscribes, unsubscribes;
    } n;
} L;

#define RING_SIZE CONFIG_LAYER_REDIS_INFLIGHT

static void on_io(struct cw_io *io, unsigned events);
static void on_timer(struct cw_wheel_timer *t);
static void start(void);

/* Logs the 1st, 2nd, 4th, 8th... occurrence of something that may repeat. */
static int worth_logging(unsigned long count)
{
    return (count & (count - 1)) == 0;
}

/* ---- links ---- */

static void link_reset(struct link *l)
{
    if (l->io.fd >= 0) {
        cw_reactor_del(&l->io);
        cw_port_close(l->io.fd);
    }
    l->io.fd = -1;
    l->connected = 0;
    l->hs = 0;
    l->hs_auth = 0;
    l->squeezed = 0;
    cw_txq_clear(&l->tx);
    cw_buf_put(l->rx);
    l->rx = NULL;
    l->rx_len = l->rx_cap = 0;
    cw_resp_init(&l->rp, MAX_BULK);
}

static void set_interest(struct link *l)
{
    if (l->io.fd < 0)
        return;
    unsigned ev = l->connected ? CW_PORT_IN : CW_PORT_OUT;
    if (l->connected && l->tx.bytes)
        ev |= CW_PORT_OUT;
    cw_reactor_set(&l->io, ev);
}

/* Queues one command; 0, or -1 when the queue bound or the pool says no. */
static int queue_cmd(struct link *l, unsigned argc, const char *const *argv, const size_t *lens)
{
    uint8_t buf[CHAN_MAX + 400];
    long n = cw_resp_command(buf, sizeof buf, argc, argv, lens);
    if (n < 0 || l->tx.bytes + (size_t)n > CONFIG_LAYER_REDIS_SENDQ)
        return -1;
    return cw_txq_append(&l->tx, buf, (size_t)n, NULL, 0) == 0 ? 0 : -1;
}

static size_t channel_of(const char *group, char *out)
{
    size_t gl = strlen(group);
    memcpy(out, L.group_prefix, L.gp_len);
    memcpy(out + L.gp_len, group, gl + 1);
    return L.gp_len + gl;
}

static int queue_sub(const char *verb, const char *group)
{
    char chan[CHAN_MAX + 1];
    const char *argv[2] = {verb, chan};
    size_t lens[2] = {strlen(verb), channel_of(group, chan)};
    return queue_cmd(&L.sub, 2, argv, lens);
}

/* A Redis channel by its own name: a worker channel, or our pattern. */
static int queue_sub_raw(const char *verb, const char *chan)
{
    const char *argv[2] = {verb, chan};
    size_t lens[2] = {strlen(verb), strlen(chan)};
    return queue_cmd(&L.sub, 2, argv, lens);
}

static int queue_ping(void)
{
    static const char *const argv[1] = {"PING"};
    static const size_t lens[1] = {4};
    if (queue_cmd(&L.sub, 1, argv, lens) < 0)
        return -1;
    L.ping_sent++;
    return 0;
}

/* ---- failure and the reconnect state machine ---- */

static void ring_clear(void)
{
    for (uint64_t i = L.reply_at; i != L.tail; i++)
        if (L.ring[i % RING_SIZE].state == PS_SENT)
            L.n.unconfirmed++; /* sent, but whether Redis ran it is unknown */
    L.head = L.reply_at = L.tail = 0;
    L.ping_sent = L.pong_recv = L.health_seq = 0;
    L.need_barrier = 0;
}

static uint32_t jittered(uint32_t ms)
{
    /* +-20%, so that daemons restarted together do not retry in step */
    uint16_t r = 0;
    cw_port_random(&r, sizeof r);
    uint32_t span = ms / 5;
    return span ? ms - span + (uint32_t)(r % (2 * span + 1)) : ms;
}

static void do_fail(const char *why)
{
    int was_up = L.state == ST_UP;
    uint64_t now = cw_reactor_now();
    if (was_up) {
        L.n.disconnects++;
        cw_log(CW_LOG_WARN, "redis: lost %s: %s; local groups keep working, reconnecting", L.addr,
               why);
        if (now - L.up_since >= STABLE_MS)
            L.backoff = L.backoff_min;
    } else {
        L.n.connect_failures++;
        L.failing_streak++;
        if (worth_logging((unsigned long)L.failing_streak))
            cw_log(CW_LOG_WARN, "redis: cannot use %s: %s (attempt %d; retrying, at most every "
                   "%u ms)", L.addr, why, L.failing_streak, L.backoff_max);
        else
            cw_log(CW_LOG_DEBUG, "redis: cannot use %s: %s", L.addr, why);
    }
    link_reset(&L.pub);
    link_reset(&L.sub);
    ring_clear();
    memset(&L.reply, 0, sizeof L.reply);
    L.resyncing = 0;
    L.fail_why = NULL;
    L.state = ST_DOWN;
    uint32_t delay = jittered(L.backoff);
    L.backoff = L.backoff * 2 > L.backoff_max ? L.backoff_max : L.backoff * 2;
    cw_wheel_arm(&L.timer, delay, on_timer);
}

/* Failures found while a handler walks a link's buffer are acted on when it
 * returns: closing now would free the bytes under its feet. */
static void fail(const char *why)
{
    if (L.state <= ST_DOWN)
        return;
    if (L.in_io) {
        if (!L.fail_why) {
            snprintf(L.fail_buf, sizeof L.fail_buf, "%s", why);
            L.fail_why = L.fail_buf;
        }
        return;
    }
    do_fail(why);
}

/* Starts connecting l. 0, or the errno with a reason in err. */
static int link_open(struct link *l, char *err, size_t errlen)
{
    int fd = cw_port_connect(L.addr, err, errlen);
    if (fd < 0)
        return errno ? errno : EIO;
    if (cw_reactor_add(&l->io, fd, CW_PORT_OUT, on_io) < 0) {
        int e = errno;
        cw_port_close(fd);
        snprintf(err, errlen, "cannot poll the socket");
        return e ? e : EIO;
    }
    return 0;
}

/* Opens both connections. EINVAL (a bad address) changes nothing; any
 * other failure is handled: back off and retry. */
static int start_links(char *err, size_t errlen)
{
    int e = link_open(&L.pub, err, errlen);
    if (e == EINVAL)
        return e;
    L.state = ST_CONNECTING;
    if (e == 0)
        e = link_open(&L.sub, err, errlen);
    if (e) {
        do_fail(err);
        return e;
    }
    cw_wheel_arm(&L.timer, CONNECT_TIMEOUT_MS, on_timer);
    return 0;
}

static void start(void)
{
    char err[160];
    start_links(err, sizeof err);
}

static int resync_one(const char *group, void *ctx)
{
    (void)ctx;
    if (L.sub.tx.bytes > CONFIG_LAYER_REDIS_SENDQ / 2 || queue_sub("SUBSCRIBE", group) < 0)
        return 1; /* go on when the queue has drained */
    L.n.subscribes++;
    return 0;
}

static void resync_step(void)
{
    if (L.resyncing && cw_groups_walk(&L.cursor, resync_one, NULL))
        L.resyncing = 0;
}

#if defined(CW_HAVE_CHANNELS)
static int worker_sub(const char *name, void *ctx)
{
    (void)ctx;
    if (queue_sub_raw("SUBSCRIBE", name) < 0)
        return 1;
    L.n.subscribes++;
    return 0;
}

/* Our connections' channels are one pattern (channel.c: the process's id
 * in every name), the worker channels one SUBSCRIBE each. */
static void channels_subscribe(void)
{
    char pat[CHAN_MAX + 1];
    snprintf(pat, sizeof pat, "%sspecific.%.16s*", L.prefix, cw_channel_process_id());
    if (queue_sub_raw("PSUBSCRIBE", pat) < 0 || cw_channel_workers_walk(worker_sub, NULL))
        fail("cannot queue the channel subscriptions");
}
#else
static void channels_subscribe(void) {}
#endif

static void on_up(void)
{
    unsigned groups, members;
    cw_groups_usage(&groups, &members);
    L.state = ST_UP;
    L.up_since = cw_reactor_now();
    L.failing_streak = 0;
    L.n.connects++;
    cw_log(CW_LOG_INFO, "redis: connected to %s (prefix \"%s\"); subscribing %u group(s)", L.addr,
           L.prefix, groups);
    channels_subscribe();
    L.resyncing = 1;
    L.cursor = 0;
    resync_step();
    L.health_seq = L.ping_sent;
    cw_wheel_arm(&L.timer, HEALTH_MS, on_timer);
}

/* AUTH (with a password), then PING: a Redis that wants a password we do
 * not have, or is still loading, says so here and not at the first use. */
static void queue_handshake(struct link *l)
{
    static const char *const ping[1] = {"PING"};
    static const size_t ping_len[1] = {4};
    const char *argv[3] = {"AUTH"};
    size_t lens[3] = {4};
    unsigned argc = 1;
    if (L.password[0]) {
        if (L.user[0]) {
            argv[argc] = L.user;
            lens[argc++] = strlen(L.user);
        }
        argv[argc] = L.password;
        lens[argc++] = strlen(L.password);
        if (queue_cmd(l, argc, argv, lens) < 0) {
            fail("out of buffers");
            return;
        }
        l->hs_auth = 1;
        l->hs++;
    }
    if (queue_cmd(l, 1, ping, ping_len) < 0) {
        fail("out of buffers");
        return;
    }
    l->hs++;
}

static void connected(struct link *l)
{
    l->connected = 1;
    if (!L.pub.connected || !L.sub.connected)
        return;
    L.state = ST_HELLO;
    queue_handshake(&L.pub);
    queue_handshake(&L.sub);
}

static void handshake_reply(struct link *l, const cw_resp_tok *t)
{
    char why[160];
    int n = (int)(t->len > 100 ? 100 : t->len);
    const char *text = t->type == CW_RESP_ERROR ? (const char *)t->ptr : "unexpected reply";
    if (t->type != CW_RESP_ERROR)
        n = (int)strlen(text);
    l->hs--;
    if (l->hs_auth) {
        l->hs_auth = 0;
        if (t->type != CW_RESP_SIMPLE) {
            snprintf(why, sizeof why, "AUTH refused: %.*s", n, text);
            fail(why);
            return;
        }
    } else if (t->type != CW_RESP_SIMPLE || t->len != 4 || memcmp(t->ptr, "PONG", 4) != 0) {
        snprintf(why, sizeof why, "error from redis: %.*s", n, text);
        fail(why);
        return;
    }
    if (L.state == ST_HELLO && !L.fail_why && !L.pub.hs && !L.sub.hs)
        on_up();
}

static void on_timer(struct cw_wheel_timer *t)
{
    (void)t;
    switch (L.state) {
    case ST_DOWN:
        start();
        break;
    case ST_CONNECTING:
    case ST_HELLO:
        do_fail("no answer within the connect deadline");
        break;
    case ST_UP:
        if ((int32_t)(L.pong_recv - L.health_seq) < 0) {
            do_fail("no answer to a ping");
            break;
        }
        if (queue_ping() == 0)
            L.health_seq = L.ping_sent; /* sent after this batch */
        cw_wheel_arm(&L.timer, HEALTH_MS, on_timer);
        break;
    default:
        break;
    }
}

/* ---- our own publications ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static uint64_t pub_hash(const char *chan, size_t clen, const uint8_t *p, size_t n)
{
    uint64_t h = fnv(14695981039346656037ull, chan, clen);
    h = fnv(h, "\n", 1);
    return fnv(h, p, n);
}

static void ring_settle(void)
{
    while (L.head != L.reply_at) {
        struct pending *e = &L.ring[L.head % RING_SIZE];
        if (e->state == PS_DONE && (int32_t)(L.pong_recv - e->barrier) < 0)
            break;
        L.head++;
    }
}

/* 1 when the message is the echo of one of our publications. Echoes come
 * back in publish order, so the oldest match is the right one; a foreign
 * message with the very same bytes is interchangeable with ours. */
static int own_echo(uint64_t h)
{
    for (uint64_t i = L.head; i != L.tail; i++) {
        struct pending *e = &L.ring[i % RING_SIZE];
        if (e->state != PS_GONE && e->hash == h) {
            e->state = PS_GONE;
            ring_settle();
            return 1;
        }
    }
    return 0;
}

static void publish_reply(const cw_resp_tok *t)
{
    if (L.reply_at == L.tail) {
        fail("a reply to nothing on the publishing connection");
        return;
    }
    struct pending *e = &L.ring[L.reply_at % RING_SIZE];
    L.reply_at++;
    if (t->type == CW_RESP_INT) {
        if (e->state == PS_SENT) {
            /* ran: an echo, if any, is ahead of the next ping's pong */
            e->state = PS_DONE;
            e->barrier = L.ping_sent + 1;
            L.need_barrier = 1;
        }
    } else {
        e->state = PS_GONE;
        L.n.publish_errors++;
        if (worth_logging(L.n.publish_errors))
            cw_log(CW_LOG_WARN, "redis: PUBLISH refused: %.*s (%lu so far)",
                   (int)(t->len > 100 ? 100 : t->len),
                   t->type == CW_RESP_ERROR ? (const char *)t->ptr : "unexpected reply",
                   L.n.publish_errors);
    }
    ring_settle();
}

static void publish_failed(const char *why)
{
    L.n.publish_failed++;
    L.last_error = why;
    if (worth_logging(L.n.publish_failed))
        cw_log(CW_LOG_WARN, "redis: message not published: %s (%lu so far)", why,
               L.n.publish_failed);
}

/* How a publication's payload is made, once a buffer is at hand. */
struct payload {
    int kind; /* CW_LAYER_MSG_* */
    const char *type;
    const void *data;
    size_t len;
    int code;
    const char *reason;
};

static long encode(const struct payload *pl, uint8_t *out, size_t cap)
{
    switch (pl->kind) {
    case CW_LAYER_MSG_EVENT: return cw_layer_msg_encode_event(out, cap, pl->type, pl->data, pl->len);
    case CW_LAYER_MSG_CLOSE: return cw_layer_msg_encode_close(out, cap, pl->code, pl->reason);
    default: return cw_layer_msg_encode_send(out, cap, pl->kind == CW_LAYER_MSG_BINARY, pl->data, pl->len);
    }
}

static size_t encode_bound(const struct payload *pl)
{
    switch (pl->kind) {
    case CW_LAYER_MSG_EVENT: return cw_layer_msg_event_bound(pl->len);
    case CW_LAYER_MSG_CLOSE: return 256;
    default: return pl->len + 64;
    }
}

static void publish_chan(const char *chan, size_t clen, const struct payload *pl, int echo);

static void publish(const char *group, const struct payload *pl)
{
    char chan[CHAN_MAX + 1];
    size_t clen = channel_of(group, chan);
    publish_chan(chan, clen, pl, 1);
}

/* echo 0: a channel of another process, which Redis does not send back to
 * us; its entry only waits for the reply. */
static void publish_chan(const char *chan, size_t clen, const struct payload *pl, int echo)
{
    if (L.state == ST_OFF)
        return;
    if (L.state != ST_UP) {
        publish_failed("redis is not connected");
        return;
    }
    if (L.tail - L.head >= RING_SIZE) {
        publish_failed("too many publications awaiting redis");
        return;
    }
    size_t need = encode_bound(pl) + 2, cap;
    if (need > BLOCK_MAX)
        need = BLOCK_MAX;
    uint8_t *buf = cw_buf_get(need, &cap);
    if (!buf) {
        publish_failed("out of buffers");
        return;
    }
    long n = encode(pl, buf, cap - 2);
    if (n < 0) {
        cw_buf_put(buf);
        publish_failed(n == CW_ETOOBIG ? "message too large"
                                       : "not a Channels message (a JSON object body, a type "
                                         "Channels can route)");
        return;
    }
    uint8_t head[CHAN_MAX + 64];
    long hl = cw_resp_publish_head(head, sizeof head, chan, clen, (size_t)n);
    uint64_t h = pub_hash(chan, clen, buf, (size_t)n);
    buf[n] = '\r';
    buf[n + 1] = '\n';
    if (hl < 0 || L.pub.tx.bytes + (size_t)hl + (size_t)n + 2 > CONFIG_LAYER_REDIS_SENDQ) {
        cw_buf_put(buf);
        publish_failed("redis send queue full");
        return;
    }
    int rc = cw_txq_append(&L.pub.tx, head, (size_t)hl, buf, (size_t)n + 2);
    cw_buf_put(buf);
    if (rc < 0) {
        publish_failed("out of buffers");
        return;
    }
    struct pending *e = &L.ring[L.tail % RING_SIZE];
    e->hash = h;
    e->state = echo ? PS_SENT : PS_GONE;
    e->barrier = 0;
    L.tail++;
    L.n.published++;
}

void cw_layer_publish_event(const char *group, const char *type, const void *data, size_t len)
{
    if (cw_core_active()) {
        cw_core_publish(group, CW_LAYER_MSG_EVENT, type, data, len, 0, NULL);
        return;
    }
    struct payload pl = {CW_LAYER_MSG_EVENT, type, data, len, 0, NULL};
    publish(group, &pl);
}

void cw_layer_publish_send(const char *group, int binary, const void *data, size_t len)
{
    if (cw_core_active()) {
        cw_core_publish(group, binary ? CW_LAYER_MSG_BINARY : CW_LAYER_MSG_TEXT, NULL, data, len,
                        0, NULL);
        return;
    }
    struct payload pl = {binary ? CW_LAYER_MSG_BINARY : CW_LAYER_MSG_TEXT, NULL, data, len, 0, NULL};
    publish(group, &pl);
}

void cw_layer_publish_close(const char *group, int code, const char *reason)
{
    if (cw_core_active()) {
        cw_core_publish(group, CW_LAYER_MSG_CLOSE, NULL, NULL, 0, code, reason);
        return;
    }
    struct payload pl = {CW_LAYER_MSG_CLOSE, NULL, NULL, 0, code, reason};
    publish(group, &pl);
}

int cw_layer_style(const char **prefix)
{
    *prefix = L.prefix;
    if (cw_core_active())
        return CW_CHSTYLE_CORE;
    return L.state == ST_OFF ? CW_CHSTYLE_LOCAL : CW_CHSTYLE_PUBSUB;
}

int cw_layer_channel_send(const char *channel, const char *type, const void *data, size_t len)
{
    struct payload pl = {CW_LAYER_MSG_EVENT, type, data, len, 0, NULL};
    unsigned long failed = L.n.publish_failed;
    if (cw_core_active())
        return cw_core_channel_send(channel, type, data, len);
    if (L.state == ST_OFF)
        return -1;
    publish_chan(channel, strlen(channel), &pl, 0);
    return L.n.publish_failed == failed ? 0 : -1;
}

void cw_layer_worker_up(const char *name)
{
    if (cw_core_active()) {
        cw_core_worker_up(name);
        return;
    }
    if (L.state != ST_UP)
        return; /* subscribed when the connection comes up */
    if (queue_sub_raw("SUBSCRIBE", name) < 0)
        fail("cannot queue a SUBSCRIBE: redis is not reading");
    else
        L.n.subscribes++;
}

void cw_layer_worker_down(const char *name)
{
    if (cw_core_active()) {
        cw_core_worker_down(name);
        return;
    }
    if (L.state != ST_UP)
        return;
    if (queue_sub_raw("UNSUBSCRIBE", name) < 0)
        fail("cannot queue an UNSUBSCRIBE: redis is not reading");
    else
        L.n.unsubscribes++;
}

const char *cw_layer_take_error(void)
{
    if (cw_core_active())
        return cw_core_take_error();
    const char *e = L.last_error;
    L.last_error = NULL;
    return e;
}

/* ---- subscriptions ---- */

void cw_layer_group_up(const char *group)
{
    if (cw_core_active()) {
        cw_core_group_up(group);
        return;
    }
    if (L.state != ST_UP || (L.resyncing && !cw_groups_walk_passed(group, L.cursor)))
        return; /* (re)connecting, or the resubscribing walk will get to it */
    if (queue_sub("SUBSCRIBE", group) < 0)
        fail("cannot queue a SUBSCRIBE: redis is not reading");
    else
        L.n.subscribes++;
}

void cw_layer_group_down(const char *group)
{
    if (cw_core_active()) {
        cw_core_group_down(group);
        return;
    }
    if (L.state != ST_UP)
        return;
    if (queue_sub("UNSUBSCRIBE", group) < 0)
        fail("cannot queue an UNSUBSCRIBE: redis is not reading");
    else
        L.n.unsubscribes++;
}

/* ---- messages from other processes ---- */

static void deliver_channel(const char *chan, const uint8_t *p, size_t n);

static int decode_msg(const char *what, const uint8_t *p, size_t n, cw_layer_msg_msg *m,
                      char **out);

static void deliver(const char *chan, size_t clen, const uint8_t *p, size_t n)
{
    L.n.received++;
    if (clen <= L.gp_len || memcmp(chan, L.group_prefix, L.gp_len) != 0) {
        deliver_channel(chan, p, n); /* one of our channels, or a worker channel */
        return;
    }
    if (own_echo(pub_hash(chan, clen, p, n))) {
        L.n.own_skipped++;
        return;
    }
    const char *group = chan + L.gp_len;
    if (!cw_group_exists(group)) {
        L.n.unrouted++; /* its last member left; the UNSUBSCRIBE is on its way */
        return;
    }
    cw_layer_msg_msg m;
    char *out;
    if (decode_msg(group, p, n, &m, &out) < 0)
        return;
    L.n.delivered++;
    switch (m.kind) {
    case CW_LAYER_MSG_EVENT:
        cw_group_local_send(group, m.type, m.data, m.len);
        break;
    case CW_LAYER_MSG_TEXT:
    case CW_LAYER_MSG_BINARY:
        cw_group_local_broadcast(group, m.kind == CW_LAYER_MSG_BINARY, m.data, m.len);
        break;
    case CW_LAYER_MSG_CLOSE:
        cw_group_local_close(group, m.code, m.reason[0] ? m.reason : NULL);
        break;
    }
    cw_buf_put(out);
}

/* Decodes a message into a pool block: 0 with the block in *out, or -1
 * (dropped and counted). */
static int decode_msg(const char *what, const uint8_t *p, size_t n, cw_layer_msg_msg *m,
                      char **out)
{
    size_t need = cw_layer_msg_decode_bound(n), cap;
    if (need > BLOCK_MAX)
        need = BLOCK_MAX;
    *out = cw_buf_get(need, &cap);
    int rc = *out ? cw_layer_msg_decode(p, n, *out, cap, m) : CW_ETOOBIG;
    if (rc == 0)
        return 0;
    cw_buf_put(*out);
    *out = NULL;
    if (rc == CW_ETOOBIG) {
        if (worth_logging(++L.n.toobig))
            cw_log(CW_LOG_WARN, "redis: dropped a message to %s: too large to convert "
                   "(%lu so far)", what, L.n.toobig);
    } else if (worth_logging(++L.n.malformed)) {
        cw_log(CW_LOG_WARN, "redis: dropped a message to %s that is not a Channels message "
               "chanwire can deliver (%zu bytes, %lu so far)", what, n, L.n.malformed);
    }
    return -1;
}

static void deliver_channel(const char *chan, const uint8_t *p, size_t n)
{
#if defined(CW_HAVE_CHANNELS)
    cw_layer_msg_msg m;
    char *out;
    if (decode_msg(chan, p, n, &m, &out) < 0)
        return;
    if (cw_channel_from_layer(chan, &m) < 0)
        L.n.unrouted++;
    else
        L.n.delivered++;
    cw_buf_put(out);
#else
    (void)chan, (void)p, (void)n;
    L.n.unrouted++;
#endif
}

static void on_pong(void)
{
    L.pong_recv++;
    ring_settle();
}

static int kind_of(const cw_resp_tok *t)
{
    static const struct { const char *s; int k; } kinds[] = {
        {"message", K_MESSAGE}, {"subscribe", K_SUBSCRIBE}, {"unsubscribe", K_UNSUBSCRIBE},
        {"pong", K_PONG}, {"pmessage", K_PMESSAGE}, {"psubscribe", K_SUBSCRIBE},
        {"punsubscribe", K_UNSUBSCRIBE}};
    if (t->type != CW_RESP_BULK)
        return K_OTHER;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (t->len == strlen(kinds[i].s) && memcmp(t->ptr, kinds[i].s, t->len) == 0)
            return kinds[i].k;
    return K_OTHER;
}

static void sub_token(const cw_resp_tok *t)
{
    struct sub_reply *r = &L.reply;
    if (t->depth == 0) {
        memset(r, 0, offsetof(struct sub_reply, chan));
        if (L.sub.hs) {
            handshake_reply(&L.sub, t);
        } else if (t->type == CW_RESP_ERROR) {
            char why[160];
            snprintf(why, sizeof why, "error from redis: %.*s", (int)(t->len > 100 ? 100 : t->len),
                     (const char *)t->ptr);
            fail(why);
        } else if (t->type == CW_RESP_SIMPLE && t->len == 4 && memcmp(t->ptr, "PONG", 4) == 0) {
            on_pong(); /* a PING while subscribed to nothing */
        } else if (t->type != CW_RESP_ARRAY) {
            fail("unexpected reply on the subscriber connection");
        }
        return;
    }
    if (t->depth == 1) {
        if (t->index == 0) {
            r->kind = kind_of(t);
        } else if (t->index == (r->kind == K_PMESSAGE ? 2u : 1u) && t->type == CW_RESP_BULK) {
            r->chan_ok = t->len <= CHAN_MAX;
            if (r->chan_ok) {
                memcpy(r->chan, t->ptr, t->len);
                r->chan[t->len] = 0;
                r->chan_len = t->len;
            }
        } else if ((t->index == 2 && r->kind == K_MESSAGE) ||
                   (t->index == 3 && r->kind == K_PMESSAGE)) {
            if (t->type == CW_RESP_BULK && r->chan_ok) {
                deliver(r->chan, r->chan_len, t->ptr, t->len);
            } else if (t->type == CW_RESP_TOOBIG) {
                L.n.received++;
                if (worth_logging(++L.n.toobig))
                    cw_log(CW_LOG_WARN, "redis: dropped a %lld-byte message: larger than "
                           "CONFIG_MAX_MESSAGE_SIZE (%lu so far)", (long long)t->num, L.n.toobig);
            } else {
                L.n.received++;
                L.n.unrouted++;
            }
        }
    }
    if (t->end && r->kind == K_PONG)
        on_pong();
}

static void pub_token(const cw_resp_tok *t)
{
    if (t->depth != 0 || t->type == CW_RESP_ARRAY) {
        fail("unexpected reply on the publishing connection");
        return;
    }
    if (L.pub.hs)
        handshake_reply(&L.pub, t);
    else
        publish_reply(t);
}

/* ---- I/O ---- */

/* Handles every whole token in the link's buffer, then keeps the rest. */
static void process(struct link *l)
{
    size_t off = 0;
    for (int i = 0; i < TOKENS_PER_READ && !L.fail_why; i++) {
        cw_resp_tok t;
        long n = cw_resp_next(&l->rp, l->rx + off, l->rx_len - off, &t);
        if (n < 0) {
            fail("protocol error in a reply from redis");
            return;
        }
        if (n == 0)
            break;
        off += (size_t)n;
        if (l->squeezed && (l->rp.skip || t.type == CW_RESP_TOOBIG)) {
            l->squeezed = 0; /* the string we had no room for is being dropped */
            l->rp.max_bulk = MAX_BULK;
        }
        if (t.type == CW_RESP_NONE)
            continue;
        if (l == &L.sub)
            sub_token(&t);
        else
            pub_token(&t);
    }
    if (L.fail_why)
        return;
    memmove(l->rx, l->rx + off, l->rx_len - off);
    l->rx_len -= off;
}

/* Room for the next read: a block from the pools, grown when one reply
 * needs more than it holds. */
static int rx_room(struct link *l)
{
    if (!l->rx) {
        l->rx = cw_buf_get(CONFIG_IO_BUF_SIZE, &l->rx_cap);
        if (!l->rx) {
            fail("out of buffers for replies");
            return -1;
        }
        l->rx_len = 0;
    }
    if (l->rx_len < l->rx_cap)
        return 0;
    size_t cap;
    uint8_t *nb = l->rp.need > l->rx_cap ? cw_buf_get(l->rp.need, &cap) : NULL;
    if (!nb) {
        /* no bigger block free: drop the string that wants it, keep going */
        l->squeezed = 1;
        l->rp.max_bulk = 0;
        process(l);
        return l->rx_len < l->rx_cap ? 0 : -1;
    }
    memcpy(nb, l->rx, l->rx_len);
    cw_buf_put(l->rx);
    l->rx = nb;
    l->rx_cap = cap;
    return 0;
}

static void read_link(struct link *l)
{
    for (int i = 0; i < READS_PER_EVENT && !L.fail_why; i++) {
        if (rx_room(l) < 0) {
            fail("a reply too large for the buffers");
            return;
        }
        ssize_t n = cw_port_recv(l->io.fd, l->rx + l->rx_len, l->rx_cap - l->rx_len);
        if (n == 0) {
            fail("connection closed by redis");
            return;
        }
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fail(strerror(errno));
            break;
        }
        l->rx_len += (size_t)n;
        process(l);
    }
    if (!L.fail_why && l->rx && l->rx_len == 0) {
        cw_buf_put(l->rx); /* an idle connection holds no buffer */
        l->rx = NULL;
        l->rx_cap = 0;
    }
}

static void write_link(struct link *l)
{
    for (int i = 0; i < WRITES_PER_FLUSH && l->tx.bytes; i++) {
        struct iovec iov[64];
        int k = cw_txq_iov(&l->tx, iov, 64);
        ssize_t n = cw_port_sendv(l->io.fd, iov, k);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fail(strerror(errno));
            break;
        }
        cw_txq_consume(&l->tx, (size_t)n);
    }
    set_interest(l);
}

static void on_io(struct cw_io *io, unsigned events)
{
    struct link *l = (struct link *)(void *)io;
    L.in_io = 1;
    if (!l->connected) {
        int e = cw_port_connect_result(io->fd);
        if (e) {
            char why[160];
            snprintf(why, sizeof why, "connect: %s", strerror(e));
            fail(why);
        } else {
            connected(l);
            set_interest(l);
        }
    } else {
        if (events & (CW_PORT_IN | CW_PORT_ERR))
            read_link(l);
        if (!L.fail_why && (events & CW_PORT_OUT))
            write_link(l);
    }
    L.in_io = 0;
    if (L.fail_why)
        do_fail(L.fail_why);
}

void cw_layer_flush(void)
{
    if (cw_core_active()) {
        cw_core_flush();
        return;
    }
    if (L.state <= ST_DOWN)
        return;
    if (L.fail_why) {
        do_fail(L.fail_why);
        return;
    }
    if (L.state == ST_UP) {
        if (L.resyncing && L.sub.tx.bytes < CONFIG_LAYER_REDIS_SENDQ / 4)
            resync_step();
        if (L.need_barrier && L.ping_sent == L.pong_recv && queue_ping() == 0)
            L.need_barrier = 0;
    }
    L.in_io = 1;
    if (L.pub.connected)
        write_link(&L.pub);
    if (L.sub.connected && !L.fail_why)
        write_link(&L.sub);
    L.in_io = 0;
    if (L.fail_why)
        do_fail(L.fail_why);
}

/* ---- set-up, report, shutdown ---- */

static int prefix_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > PREFIX_MAX)
        return 0;
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("_.-:", *p)))
            return 0;
    return 1;
}

int cw_redis_layer(cw_server *s, const cw_redis_options *o, char *err, size_t errlen)
{
    (void)s;
    const char *prefix = o->prefix ? o->prefix : "asgi";
    if (L.state != ST_OFF || cw_core_active()) {
        snprintf(err, errlen, "the redis layer is already set up");
        return CW_EINVAL;
    }
    int core = !o->layer || strcmp(o->layer, "core") == 0;
    if (!core && strcmp(o->layer, "pubsub") != 0) {
        snprintf(err, errlen, "bad redis layer '%s' (core or pubsub)", o->layer);
        return CW_EINVAL;
    }
    if (!o->addr || strlen(o->addr) >= sizeof L.addr) {
        snprintf(err, errlen, "bad redis address");
        return CW_EINVAL;
    }
    if (strchr(o->addr, ',')) {
        /* a channels_redis "hosts" list of several: the core layer's
         * sharding over hosts is not built yet (docs/redis.md) */
        snprintf(err, errlen, "several redis hosts: not supported yet (give one HOST:PORT)");
        return CW_EINVAL;
    }
    if (!prefix_ok(prefix)) {
        snprintf(err, errlen, "bad redis prefix '%s' (1..%d of A-Z a-z 0-9 _ . - :)", prefix,
                 PREFIX_MAX);
        return CW_EINVAL;
    }
    if ((o->username && strlen(o->username) >= sizeof L.user) ||
        (o->password && strlen(o->password) >= sizeof L.password)) {
        snprintf(err, errlen, "redis user name or password too long");
        return CW_EINVAL;
    }
    if (core)
        return cw_core_start(o, err, errlen);
    memset(&L.n, 0, sizeof L.n);
    snprintf(L.addr, sizeof L.addr, "%s", o->addr);
    snprintf(L.prefix, sizeof L.prefix, "%s", prefix);
    L.gp_len = (size_t)snprintf(L.group_prefix, sizeof L.group_prefix, "%s%s", prefix, GROUP_TAG);
    snprintf(L.user, sizeof L.user, "%s", o->username ? o->username : "");
    snprintf(L.password, sizeof L.password, "%s", o->password ? o->password : "");
    L.backoff_min = o->backoff_min_ms ? o->backoff_min_ms : BACKOFF_MIN_MS;
    L.backoff_max = o->backoff_max_ms ? o->backoff_max_ms : CONFIG_LAYER_REDIS_BACKOFF_MAX_MS;
    if (L.backoff_max < L.backoff_min)
        L.backoff_max = L.backoff_min;
    L.backoff = L.backoff_min;
    L.pub.io.fd = L.sub.io.fd = -1;
    link_reset(&L.pub);
    link_reset(&L.sub);
    ring_clear();
    L.n.unconfirmed = 0;
    L.failing_streak = 0;
    /* a bad address fails here, at start-up; an unreachable Redis does not */
    char why[160];
    if (start_links(why, sizeof why) == EINVAL) {
        snprintf(err, errlen, "--redis: %s", why);
        return CW_EINVAL;
    }
    return 0;
}

size_t cw_layer_report(char *out, size_t cap)
{
    if (cw_core_active())
        return cw_core_report(out, cap);
    if (L.state == ST_OFF || cap == 0)
        return 0;
    int n = snprintf(out, cap,
                     "redis_layer pubsub\nredis_state %s\nredis_connects %lu\n"
                     "redis_disconnects %lu\n"
                     "redis_connect_failures %lu\nredis_published %lu\nredis_publish_failed %lu\n"
                     "redis_publish_errors %lu\nredis_unconfirmed %lu\nredis_received %lu\n"
                     "redis_delivered %lu\nredis_own_skipped %lu\nredis_malformed %lu\n"
                     "redis_toobig %lu\nredis_unrouted %lu\nredis_subscribes %lu\n"
                     "redis_unsubscribes %lu\nredis_inflight %u\n",
                     state_names[L.state], L.n.connects, L.n.disconnects, L.n.connect_failures,
                     L.n.published, L.n.publish_failed, L.n.publish_errors, L.n.unconfirmed,
                     L.n.received, L.n.delivered, L.n.own_skipped, L.n.malformed, L.n.toobig,
                     L.n.unrouted, L.n.subscribes, L.n.unsubscribes,
                     (unsigned)(L.tail - L.head));
    if (n < 0)
        return 0;
    return (size_t)n >= cap ? cap - 1 : (size_t)n;
}

void cw_layer_fini(void)
{
    if (cw_core_active()) {
        cw_core_fini();
        return;
    }
    if (L.state == ST_OFF)
        return;
    cw_layer_flush(); /* the last UNSUBSCRIBEs, best effort */
    cw_wheel_cancel(&L.timer);
    link_reset(&L.pub);
    link_reset(&L.sub);
    L.state = ST_OFF;
}

#else /* !CONFIG_LAYER_REDIS */
#include "chanwire.h"

#include <stdio.h>

int cw_redis_layer(cw_server *s, const cw_redis_options *o, char *err, size_t errlen)
{
    (void)s;
    (void)o;
    snprintf(err, errlen, "this build has no Redis layer (CONFIG_LAYER_REDIS is off)");
    return CW_EINVAL;
}
#endif
