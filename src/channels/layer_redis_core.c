/* SPDX-License-Identifier: MIT */
/* layer_redis_core.c: channels_redis.core's RedisChannelLayer (Django's
 * default layer) spoken from inside the reactor, one Redis host: two
 * non-blocking RESP2 connections, one for commands (pipelined, replies
 * matched in order) and one that waits in BZPOPMIN on this process's queue
 * key and the worker channels' keys. A chanwire group with local members is
 * one member "specific.<id>!g.<group>" of the Redis group (ZADD with the
 * time, EXPIRE group_expiry, refreshed well before it), so Django's
 * group_send writes one message for all of them and we fan it out here.
 * Group sends run one Lua script (prune, members, per queue key: capacity,
 * ZADD, EXPIRE, as channels_redis's group_send script) that skips our own
 * queue key (local members were served directly); channel sends another.
 * Scores are Redis's TIME (never the board's clock) plus the monotonic
 * time since, strictly increasing. Reconnects with capped backoff;
 * memberships are re-added after each connect. */
#include "cw_config.h"
#ifdef CONFIG_LAYER_REDIS
#include "channels/layer_core.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/sha1.h"
#include "base/txq.h"
#include "channels/channel.h"
#include "channels/core_wire.h"
#include "channels/groups.h"
#include "core/reactor.h"
#include "port.h"
#include "proto/layer_msg.h"
#include "proto/msgpack.h"
#include "proto/resp.h"

#include <errno.h>
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
#define KEY_MAX (PREFIX_MAX + 8 + 160)
#define CONNECT_TIMEOUT_MS 3000
#define HEALTH_MS 5000
#define TIME_EVERY 12           /* health ticks between TIME samples (a minute) */
#define STABLE_MS 2000
#define BACKOFF_MIN_MS 100
#define POP_TIMEOUT_S 5         /* BZPOPMIN's timeout; no answer in twice that: dead */
#define READS_PER_EVENT 64
#define WRITES_PER_FLUSH 64
#define TOKENS_PER_READ 100000
#define MAX_TARGETS 32          /* __asgi_channel__ names served per message */
#define ZPOP_COUNT 64           /* after a BZPOPMIN, what else waits: ZPOPMIN key 64 */
#define WORKERS_MAX 16
#define BLOCK_MAX (CONFIG_MAX_MESSAGE_SIZE > CONFIG_IO_BUF_SIZE ? CONFIG_MAX_MESSAGE_SIZE \
                                                                : CONFIG_IO_BUF_SIZE)
#define MAX_BULK (BLOCK_MAX - 256)
#define EXP_RING CONFIG_LAYER_REDIS_INFLIGHT

enum { ST_OFF = 0, ST_DOWN, ST_CONNECTING, ST_HELLO, ST_UP };
static const char *const state_names[] = {"off", "down", "connecting", "handshake", "up"};

/* What a reply answers. */
enum { RK_IGNORE = 1, RK_AUTH, RK_PING, RK_TIME, RK_LOAD, RK_GSEND, RK_SEND, RK_POP, RK_ZPOP };

struct link {
    struct cw_io io; /* first: the reactor hands us &io */
    int connected;
    cw_txq tx;
    uint8_t *rx;
    size_t rx_len, rx_cap;
    cw_resp_parser rp;
    uint8_t exp[EXP_RING]; /* the kinds of the replies still to come, in order */
    uint32_t eh, et;
    int hs;                /* handshake replies still to come */
    /* the reply being read */
    int kind;
    int64_t t_sec;
    uint8_t *member;       /* POP: the popped member, copied */
    size_t member_len;
    char key[KEY_MAX + 1];
    int key_ok;
};

/* channels_redis's group_send and send scripts, written for this layer:
 * the same pruning, capacity check, ZADD and EXPIRE per queue key; the
 * member is built here as Django builds it (12 random bytes, the map, its
 * "__asgi_channel__" list). Our own queue key (ARGV[9]) is skipped. */
static const char GSEND_LUA[] =
    "local now=ARGV[1] local t=math.floor(tonumber(now))\n"
    "redis.call('ZREMRANGEBYSCORE',KEYS[1],0,t-tonumber(ARGV[2]))\n"
    "local ms=redis.call('ZRANGE',KEYS[1],0,-1)\n"
    "local byk,order={},{}\n"
    "for _,m in ipairs(ms) do\n"
    " local b=string.find(m,'!',1,true)\n"
    " local k=ARGV[8]..(b and string.sub(m,1,b) or m)\n"
    " if k~=ARGV[9] then\n"
    "  if not byk[k] then byk[k]={} order[#order+1]=k end\n"
    "  local l=byk[k] l[#l+1]=m\n"
    " end\n"
    "end\n"
    "local function hdr(n,small,big)\n"
    " if n<16 then return string.char(small+n) end\n"
    " return string.char(big,math.floor(n/256)%256,n%256)\n"
    "end\n"
    "local function str(s)\n"
    " local n=#s\n"
    " if n<32 then return string.char(160+n)..s end\n"
    " if n<256 then return string.char(217,n)..s end\n"
    " return string.char(218,math.floor(n/256)%256,n%256)..s\n"
    "end\n"
    "local n=tonumber(ARGV[6])+1 local over=0\n"
    "for i,k in ipairs(order) do\n"
    " redis.call('ZREMRANGEBYSCORE',k,0,t-tonumber(ARGV[3]))\n"
    " if redis.call('ZCOUNT',k,'-inf','+inf')<tonumber(ARGV[4]) then\n"
    "  local names=byk[k] local p={}\n"
    "  for j,m in ipairs(names) do p[j]=str(m) end\n"
    "  local member=string.sub(ARGV[5],1,10)..string.char(i%256,math.floor(i/256)%256)..\n"
    "   hdr(n,128,222)..ARGV[7]..'\\176__asgi_channel__'..hdr(#names,144,220)..table.concat(p)\n"
    "  redis.call('ZADD',k,now,member)\n"
    "  redis.call('EXPIRE',k,ARGV[3])\n"
    " else over=over+1 end\n"
    "end\n"
    "return over\n";

static const char SEND_LUA[] =
    "redis.call('ZREMRANGEBYSCORE',KEYS[1],0,math.floor(tonumber(ARGV[1]))-tonumber(ARGV[2]))\n"
    "if redis.call('ZCOUNT',KEYS[1],'-inf','+inf')>=tonumber(ARGV[3]) then return 0 end\n"
    "redis.call('ZADD',KEYS[1],ARGV[1],ARGV[4])\n"
    "redis.call('EXPIRE',KEYS[1],ARGV[2])\n"
    "return 1\n";

/* channels_redis's receive: what a receiver left in "<key>$inflight" goes
 * back into the queue (run on each key before the first BZPOPMIN). */
static const char RESTORE_LUA[] =
    "local b=redis.call('ZRANGE',ARGV[2],0,-1,'WITHSCORES')\n"
    "for i=1,#b,2 do redis.call('ZADD',ARGV[1],b[i+1],b[i]) end\n"
    "redis.call('DEL',ARGV[2])\n";

static struct {
    int state;
    char addr[64];
    char prefix[PREFIX_MAX + 1];
    char user[65];
    char password[257];
    char gsend_sha[41], send_sha[41];
    char own[48];           /* "specific.<id>!" */
    char own_key[KEY_MAX];  /* prefix + own */
    unsigned expiry, group_expiry, capacity;
    unsigned backoff_min, backoff_max, backoff;
    uint64_t up_since;
    int in_io;
    const char *fail_why;
    char fail_buf[160];
    int failing_streak;
    struct link cmd, pop;
    struct cw_wheel_timer timer;
    unsigned ticks;
    /* clock: Redis TIME at a monotonic instant */
    int64_t time_us;
    uint64_t time_mono_ms;
    int64_t last_score_us;
    /* re-adding memberships: after a connect, and every refresh period */
    int resyncing;
    uint32_t cursor;
    uint64_t refreshed_at;
    uint64_t pop_sent_at;   /* 0: no BZPOPMIN outstanding */
    char zkey[KEY_MAX + 1]; /* the key the last pop found something in */
    int pop_restore;        /* the restore scripts still to run */
    const char *last_error;
    struct {
        unsigned long connects, disconnects, connect_failures;
        unsigned long published, publish_failed, publish_errors, channel_full;
        unsigned long received, delivered, expired, malformed, toobig, unrouted;
        unsigned long group_adds, group_discards, refreshes;
    } n;
} L;

static void on_io(struct cw_io *io, unsigned events);
static void on_timer(struct cw_wheel_timer *t);

static int worth_logging(unsigned long count)
{
    return (count & (count - 1)) == 0;
}

int cw_core_active(void)
{
    return L.state != ST_OFF;
}

/* ---- the clock ---- */

static int64_t now_us(void)
{
    return L.time_us + (int64_t)(cw_reactor_now() - L.time_mono_ms) * 1000;
}

/* A score: Redis's time, strictly increasing per process, "%.6f". */
static size_t score(char *out, size_t cap)
{
    int64_t t = now_us();
    if (t <= L.last_score_us)
        t = L.last_score_us + 1;
    L.last_score_us = t;
    return cw_core_score_format(t, out, cap);
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
    l->eh = l->et = 0;
    l->kind = 0;
    cw_txq_clear(&l->tx);
    cw_buf_put(l->rx);
    l->rx = NULL;
    l->rx_len = l->rx_cap = 0;
    cw_buf_put(l->member);
    l->member = NULL;
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

/* Queues one command whose reply is of kind k: 0, or -1 (queue bound, the
 * reply ring or the pools). Large commands are built in a pool block. */
static int queue_cmd(struct link *l, int k, unsigned argc, const char *const *argv,
                     const size_t *lens)
{
    if (l->et - l->eh >= EXP_RING)
        return -1;
    size_t need = 64;
    for (unsigned i = 0; i < argc; i++)
        need += lens[i] + 16;
    if (l->tx.bytes + need > CONFIG_LAYER_REDIS_SENDQ)
        return -1;
    uint8_t small[512];
    uint8_t *buf = small;
    size_t cap = sizeof small;
    if (need > sizeof small) {
        buf = cw_buf_get(need, &cap);
        if (!buf)
            return -1;
    }
    long n = cw_resp_command(buf, cap, argc, argv, lens);
    int rc = n < 0 ? -1 : cw_txq_append(&l->tx, buf, (size_t)n, NULL, 0) == 0 ? 0 : -1;
    if (buf != small)
        cw_buf_put(buf);
    if (rc == 0)
        l->exp[l->et++ % EXP_RING] = (uint8_t)k;
    return rc;
}

static int queue_v(struct link *l, int k, unsigned argc, const char *const *argv)
{
    size_t lens[16];
    for (unsigned i = 0; i < argc && i < 16; i++)
        lens[i] = strlen(argv[i]);
    return queue_cmd(l, k, argc, argv, lens);
}

/* ---- failure and reconnecting ---- */

static void do_fail(const char *why)
{
    uint64_t now = cw_reactor_now();
    if (L.state == ST_UP) {
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
    }
    link_reset(&L.cmd);
    link_reset(&L.pop);
    L.resyncing = 0;
    L.pop_sent_at = 0;
    L.fail_why = NULL;
    L.state = ST_DOWN;
    uint16_t r = 0;
    cw_port_random(&r, sizeof r);
    uint32_t span = L.backoff / 5, delay = span ? L.backoff - span + r % (2 * span + 1) : L.backoff;
    L.backoff = L.backoff * 2 > L.backoff_max ? L.backoff_max : L.backoff * 2;
    cw_wheel_arm(&L.timer, delay, on_timer);
}

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

static int start_links(char *err, size_t errlen)
{
    int e = link_open(&L.cmd, err, errlen);
    if (e == EINVAL)
        return e;
    L.state = ST_CONNECTING;
    if (e == 0)
        e = link_open(&L.pop, err, errlen);
    if (e) {
        do_fail(err);
        return e;
    }
    cw_wheel_arm(&L.timer, CONNECT_TIMEOUT_MS, on_timer);
    return 0;
}

/* ---- memberships ---- */

static size_t group_key(const char *group, char *out)
{
    int n = snprintf(out, KEY_MAX, "%s:group:%s", L.prefix, group);
    return n < 0 ? 0 : (size_t)n;
}

static size_t member_of(const char *group, char *out)
{
    int n = snprintf(out, KEY_MAX, "%sg.%s", L.own, group);
    return n < 0 ? 0 : (size_t)n;
}

static int queue_add(const char *group)
{
    char key[KEY_MAX], mem[KEY_MAX], sc[32], ex[16];
    group_key(group, key);
    member_of(group, mem);
    score(sc, sizeof sc);
    snprintf(ex, sizeof ex, "%u", L.group_expiry);
    const char *zadd[4] = {"ZADD", key, sc, mem};
    const char *expire[3] = {"EXPIRE", key, ex};
    if (queue_v(&L.cmd, RK_IGNORE, 4, zadd) < 0 || queue_v(&L.cmd, RK_IGNORE, 3, expire) < 0)
        return -1;
    return 0;
}

static int resync_one(const char *group, void *ctx)
{
    (void)ctx;
    if (L.cmd.tx.bytes > CONFIG_LAYER_REDIS_SENDQ / 2 || L.cmd.et - L.cmd.eh > EXP_RING / 2 ||
        queue_add(group) < 0)
        return 1;
    L.n.group_adds++;
    return 0;
}

static void resync_step(void)
{
    if (L.resyncing && cw_groups_walk(&L.cursor, resync_one, NULL))
        L.resyncing = 0;
}

void cw_core_group_up(const char *group)
{
    if (L.state != ST_UP || (L.resyncing && !cw_groups_walk_passed(group, L.cursor)))
        return;
    if (queue_add(group) < 0)
        fail("cannot queue a ZADD: redis is not reading");
    else
        L.n.group_adds++;
}

void cw_core_group_down(const char *group)
{
    if (L.state != ST_UP)
        return;
    char key[KEY_MAX], mem[KEY_MAX];
    group_key(group, key);
    member_of(group, mem);
    const char *zrem[3] = {"ZREM", key, mem};
    if (queue_v(&L.cmd, RK_IGNORE, 3, zrem) < 0)
        fail("cannot queue a ZREM: redis is not reading");
    else
        L.n.group_discards++;
}

/* ---- receiving: BZPOPMIN on our queue key and the worker keys ---- */

struct wk_ctx {
    const char *argv[WORKERS_MAX + 3];
    char keys[WORKERS_MAX][KEY_MAX];
    unsigned n;
};

static int add_worker_key(const char *name, void *ctx)
{
    struct wk_ctx *w = ctx;
    if (w->n >= WORKERS_MAX)
        return 1;
    snprintf(w->keys[w->n], KEY_MAX, "%s%s", L.prefix, name);
    w->argv[2 + w->n] = w->keys[w->n];
    w->n++;
    return 0;
}

static void queue_pop(void)
{
    static struct wk_ctx w;
    w.n = 0;
    w.argv[0] = "BZPOPMIN";
    w.argv[1] = L.own_key;
    cw_channel_workers_walk(add_worker_key, &w);
    if (L.pop_restore) {
        L.pop_restore = 0;
        for (unsigned i = 0; i <= w.n; i++) {
            char back[KEY_MAX + 16];
            const char *k = w.argv[1 + i];
            snprintf(back, sizeof back, "%s$inflight", k);
            const char *ev[5] = {"EVAL", RESTORE_LUA, "0", k, back};
            if (queue_v(&L.pop, RK_IGNORE, 5, ev) < 0) {
                fail("cannot queue the receive");
                return;
            }
        }
    }
    char to[8];
    snprintf(to, sizeof to, "%d", POP_TIMEOUT_S);
    w.argv[2 + w.n] = to;
    if (queue_v(&L.pop, RK_POP, 3 + w.n, w.argv) < 0) {
        fail("cannot queue the receive");
        return;
    }
    L.pop_sent_at = cw_reactor_now();
}

/* A key had a message: take what else it holds in batches (one round trip
 * per ZPOP_COUNT messages instead of one each), then block again. */
static void queue_zpop(const char *key)
{
    char cnt[8];
    snprintf(L.zkey, sizeof L.zkey, "%s", key);
    snprintf(cnt, sizeof cnt, "%d", ZPOP_COUNT);
    const char *argv[3] = {"ZPOPMIN", L.zkey, cnt};
    if (queue_v(&L.pop, RK_ZPOP, 3, argv) < 0) {
        fail("cannot queue the receive");
        return;
    }
    L.pop_sent_at = cw_reactor_now();
}

struct targets {
    const char *name[MAX_TARGETS];
    size_t len[MAX_TARGETS];
    unsigned n, over;
};

static void collect(const char *name, size_t len, void *ctx)
{
    struct targets *t = ctx;
    if (t->n < MAX_TARGETS) {
        t->name[t->n] = name;
        t->len[t->n++] = len;
    } else {
        t->over++;
    }
}

static void dropped_msg(int rc, const char *where, size_t n)
{
    if (rc == CW_ETOOBIG) {
        if (worth_logging(++L.n.toobig))
            cw_log(CW_LOG_WARN, "redis: dropped a message from %s: too large to convert "
                   "(%lu so far)", where, L.n.toobig);
    } else if (worth_logging(++L.n.malformed)) {
        cw_log(CW_LOG_WARN, "redis: dropped a message from %s that is not a Channels message "
               "chanwire can deliver (%zu bytes, %lu so far)", where, n, L.n.malformed);
    }
}

static void to_group(const char *group, const cw_layer_msg_msg *m)
{
    if (!cw_group_exists(group)) {
        L.n.unrouted++; /* the last member left; the ZREM is on its way */
        return;
    }
    L.n.delivered++;
    switch (m->kind) {
    case CW_LAYER_MSG_EVENT:
        cw_group_local_send(group, m->type, m->data, m->len);
        break;
    case CW_LAYER_MSG_TEXT:
    case CW_LAYER_MSG_BINARY:
        cw_group_local_broadcast(group, m->kind == CW_LAYER_MSG_BINARY, m->data, m->len);
        break;
    case CW_LAYER_MSG_CLOSE:
        cw_group_local_close(group, m->code, m->reason[0] ? m->reason : NULL);
        break;
    }
}

static void to_channel(const char *name, const cw_layer_msg_msg *m)
{
    if (cw_channel_from_layer(name, m) < 0)
        L.n.unrouted++;
    else
        L.n.delivered++;
}

/* One popped member of key, with its score (the writer's time). */
static void popped(const char *key, const uint8_t *member, size_t n, int64_t score_us)
{
    L.n.received++;
    if (score_us < 0 || cw_core_expired(score_us, now_us(), L.expiry)) {
        L.n.expired++; /* older than the expiry (or no time): never delivered */
        return;
    }
    size_t cap1, cap2;
    uint8_t *map = cw_buf_get(n, &cap1);
    size_t need = cw_layer_msg_decode_bound(n);
    char *json = cw_buf_get(need > BLOCK_MAX ? BLOCK_MAX : need, &cap2);
    struct targets t = {{0}, {0}, 0, 0};
    size_t ml = 0;
    cw_layer_msg_msg m;
    int rc = map && json ? cw_core_unwrap(member, n, map, cap1, &ml, collect, &t) : CW_ETOOBIG;
    if (rc == 0)
        rc = cw_layer_msg_decode(map, ml, json, cap2, &m);
    if (rc < 0) {
        dropped_msg(rc, key, n);
    } else if (strcmp(key, L.own_key) != 0) {
        to_channel(key + strlen(L.prefix), &m); /* a worker channel: the key names it */
    } else if (t.n == 0) {
        L.n.unrouted++; /* no __asgi_channel__: Django loses these too */
    } else {
        size_t ol = strlen(L.own);
        for (unsigned i = 0; i < t.n; i++) {
            char name[KEY_MAX];
            if (t.len[i] >= sizeof name) {
                L.n.unrouted++;
                continue;
            }
            memcpy(name, t.name[i], t.len[i]);
            name[t.len[i]] = 0;
            if (strncmp(name, L.own, ol) == 0 && name[ol] == 'g' && name[ol + 1] == '.')
                to_group(name + ol + 2, &m);
            else
                to_channel(name, &m);
        }
        L.n.unrouted += t.over;
    }
    cw_buf_put(map);
    cw_buf_put(json);
}

/* ---- replies ---- */

static void on_up(void);

static void error_reply(const cw_resp_tok *t)
{
    L.n.publish_errors++;
    if (t->len >= 8 && memcmp(t->ptr, "NOSCRIPT", 8) == 0) {
        /* the scripts were flushed: load them again */
        const char *g[3] = {"SCRIPT", "LOAD", GSEND_LUA}, *s[3] = {"SCRIPT", "LOAD", SEND_LUA};
        queue_v(&L.cmd, RK_IGNORE, 3, g);
        queue_v(&L.cmd, RK_IGNORE, 3, s);
    }
    if (worth_logging(L.n.publish_errors))
        cw_log(CW_LOG_WARN, "redis: a command was refused: %.*s (%lu so far)",
               (int)(t->len > 100 ? 100 : t->len), (const char *)t->ptr, L.n.publish_errors);
}

static void handshake_done(struct link *l)
{
    l->hs--;
    if (L.state == ST_HELLO && !L.fail_why && !L.cmd.hs && !L.pop.hs)
        on_up();
}


/* A popped member (ZPOPMIN's even elements, BZPOPMIN's second) is kept in a
 * message block until its score arrives. One larger than a message, or
 * with no block free, is dropped and counted; anything but a bulk string
 * (which Redis never sends there) keeps nothing. */
static void take_member(struct link *l, const cw_resp_tok *t)
{
    cw_buf_put(l->member);
    l->member = NULL;
    if (t->type == CW_RESP_BULK) {
        size_t cap;
        l->member = cw_buf_get(t->len ? t->len : 1, &cap);
        if (l->member) {
            memcpy(l->member, t->ptr, t->len);
            l->member_len = t->len;
        } else {
            L.n.received++;
            L.n.toobig++; /* no block free for it: dropped, counted */
        }
    } else if (t->type == CW_RESP_TOOBIG) {
        L.n.received++;
        if (worth_logging(++L.n.toobig))
            cw_log(CW_LOG_WARN, "redis: dropped a %lld-byte message: larger than "
                   "CONFIG_MAX_MESSAGE_SIZE (%lu so far)", (long long)t->num, L.n.toobig);
    }
}

static void token(struct link *l, const cw_resp_tok *t)
{
    if (t->depth == 0) {
        if (l->eh == l->et) {
            fail("a reply to nothing");
            return;
        }
        l->kind = l->exp[l->eh++ % EXP_RING];
        l->key_ok = 0;
        if (t->type == CW_RESP_ERROR) {
            if (l->kind == RK_AUTH || l->kind == RK_PING || l->kind == RK_LOAD ||
                l->kind == RK_TIME || l->kind == RK_POP) {
                char why[160];
                snprintf(why, sizeof why, "error from redis: %.*s",
                         (int)(t->len > 100 ? 100 : t->len), (const char *)t->ptr);
                fail(why);
                return;
            }
            error_reply(t);
            return;
        }
        switch (l->kind) {
        case RK_AUTH:
        case RK_PING:
        case RK_LOAD:
            if (l->hs)
                handshake_done(l);
            break;
        case RK_SEND:
            if (t->type == CW_RESP_INT && t->num == 0)
                L.n.channel_full++;
            break;
        case RK_GSEND:
            if (t->type == CW_RESP_INT && t->num > 0) {
                L.n.channel_full += (unsigned long)t->num;
                if (worth_logging(L.n.channel_full))
                    cw_log(CW_LOG_INFO, "redis: %lld channel(s) over capacity in a group send "
                           "(%lu so far)", (long long)t->num, L.n.channel_full);
            }
            break;
        case RK_ZPOP:
            if (t->type != CW_RESP_ARRAY || t->num == 0 || (t->num & 1)) {
                if (t->type == CW_RESP_ARRAY && (t->num & 1))
                    fail("unexpected ZPOPMIN reply");
                L.pop_sent_at = 0;
                queue_pop(); /* drained: wait again */
            }
            break;
        case RK_POP:
            if (t->type == CW_RESP_NIL || t->type != CW_RESP_ARRAY || t->num != 3) {
                if (t->type == CW_RESP_ARRAY && t->num != 3)
                    fail("unexpected BZPOPMIN reply");
                L.pop_sent_at = 0;
                if (t->type != CW_RESP_ARRAY)
                    queue_pop();
            }
            break;
        default:
            break;
        }
        return;
    }
    if (t->depth != 1)
        return;
    if (l->kind == RK_TIME) {
        if (t->type != CW_RESP_BULK || t->len > 18) {
            fail("unexpected TIME reply");
            return;
        }
        int64_t v = 0;
        for (size_t i = 0; i < t->len; i++)
            v = v * 10 + (t->ptr[i] - '0');
        if (t->index == 0) {
            l->t_sec = v;
        } else if (t->index == 1) {
            L.time_us = l->t_sec * 1000000 + v;
            L.time_mono_ms = cw_reactor_now();
            if (l->hs)
                handshake_done(l);
        }
    } else if (l->kind == RK_ZPOP) {
        if ((t->index & 1) == 0) {
            take_member(l, t);
        } else {
            if (l->member && t->type == CW_RESP_BULK)
                popped(L.zkey, l->member, l->member_len, cw_core_score_parse((const char *)t->ptr, t->len));
            else if (l->member)
                L.n.malformed++;
            cw_buf_put(l->member);
            l->member = NULL;
        }
        if (t->end && !L.fail_why && L.state == ST_UP)
            queue_zpop(L.zkey);
    } else if (l->kind == RK_POP) {
        if (t->index == 0) {
            l->key_ok = t->type == CW_RESP_BULK && t->len < sizeof l->key;
            if (l->key_ok) {
                memcpy(l->key, t->ptr, t->len);
                l->key[t->len] = 0;
            }
        } else if (t->index == 1) {
            take_member(l, t);
        } else if (t->index == 2) {
            if (l->member && l->key_ok && t->type == CW_RESP_BULK)
                popped(l->key, l->member, l->member_len, cw_core_score_parse((const char *)t->ptr, t->len));
            else if (l->member)
                L.n.malformed++;
            cw_buf_put(l->member);
            l->member = NULL;
            L.pop_sent_at = 0;
            if (!L.fail_why && L.state == ST_UP)
                l->key_ok ? queue_zpop(l->key) : queue_pop();
        }
    }
}

/* ---- I/O ---- */

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
        if (t.type != CW_RESP_NONE)
            token(l, &t);
    }
    if (L.fail_why)
        return;
    memmove(l->rx, l->rx + off, l->rx_len - off);
    l->rx_len -= off;
}

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
    if (!nb)
        return -1;
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
        cw_buf_put(l->rx);
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

static void queue_handshake(struct link *l)
{
    static const char *const ping[1] = {"PING"};
    if (L.password[0]) {
        const char *argv[3] = {"AUTH"};
        unsigned argc = 1;
        if (L.user[0])
            argv[argc++] = L.user;
        argv[argc++] = L.password;
        if (queue_v(l, RK_AUTH, argc, argv) < 0)
            goto full;
        l->hs++;
    }
    if (queue_v(l, RK_PING, 1, ping) < 0)
        goto full;
    l->hs++;
    if (l == &L.cmd) {
        const char *time_[1] = {"TIME"};
        const char *g[3] = {"SCRIPT", "LOAD", GSEND_LUA}, *s[3] = {"SCRIPT", "LOAD", SEND_LUA};
        if (queue_v(l, RK_TIME, 1, time_) < 0 || queue_v(l, RK_LOAD, 3, g) < 0 ||
            queue_v(l, RK_LOAD, 3, s) < 0)
            goto full;
        l->hs += 3;
    }
    return;
full:
    fail("out of buffers");
}

static void connected(struct link *l)
{
    l->connected = 1;
    if (!L.cmd.connected || !L.pop.connected)
        return;
    L.state = ST_HELLO;
    queue_handshake(&L.cmd);
    queue_handshake(&L.pop);
}

static void on_up(void)
{
    unsigned groups, members;
    cw_groups_usage(&groups, &members);
    L.state = ST_UP;
    L.up_since = cw_reactor_now();
    L.failing_streak = 0;
    L.n.connects++;
    cw_log(CW_LOG_INFO, "redis: connected to %s (core layer, prefix \"%s\"); joining %u group(s)",
           L.addr, L.prefix, groups);
    L.resyncing = 1;
    L.cursor = 0;
    L.refreshed_at = L.up_since;
    resync_step();
    L.pop_restore = 1;
    queue_pop();
    L.ticks = 0;
    cw_wheel_arm(&L.timer, HEALTH_MS, on_timer);
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

static void on_timer(struct cw_wheel_timer *t)
{
    (void)t;
    char why[160];
    switch (L.state) {
    case ST_DOWN:
        start_links(why, sizeof why);
        break;
    case ST_CONNECTING:
    case ST_HELLO:
        do_fail("no answer within the connect deadline");
        break;
    case ST_UP: {
        uint64_t now = cw_reactor_now();
        if (L.pop_sent_at && now - L.pop_sent_at > 2u * POP_TIMEOUT_S * 1000u + HEALTH_MS) {
            do_fail("no answer to BZPOPMIN");
            break;
        }
        static const char *const ping[1] = {"PING"}, *const time_[1] = {"TIME"};
        if (L.cmd.et - L.cmd.eh > EXP_RING - 2) {
            do_fail("no answer to the commands");
            break;
        }
        queue_v(&L.cmd, RK_PING, 1, ping);
        if (++L.ticks % TIME_EVERY == 0)
            queue_v(&L.cmd, RK_TIME, 1, time_);
        /* refresh the memberships well inside group_expiry */
        uint64_t period = (uint64_t)L.group_expiry * 1000u / 4u;
        if (period > 3600u * 1000u)
            period = 3600u * 1000u;
        if (!L.resyncing && now - L.refreshed_at >= period) {
            L.refreshed_at = now;
            L.n.refreshes++;
            L.resyncing = 1;
            L.cursor = 0;
        }
        cw_wheel_arm(&L.timer, HEALTH_MS, on_timer);
        break;
    }
    default:
        break;
    }
}

void cw_core_flush(void)
{
    if (L.state <= ST_DOWN)
        return;
    if (L.fail_why) {
        do_fail(L.fail_why);
        return;
    }
    if (L.state == ST_UP && L.resyncing && L.cmd.tx.bytes < CONFIG_LAYER_REDIS_SENDQ / 4)
        resync_step();
    L.in_io = 1;
    if (L.cmd.connected)
        write_link(&L.cmd);
    if (L.pop.connected && !L.fail_why)
        write_link(&L.pop);
    L.in_io = 0;
    if (L.fail_why)
        do_fail(L.fail_why);
}

/* ---- sending ---- */

static void publish_failed(const char *why)
{
    L.n.publish_failed++;
    L.last_error = why;
    if (worth_logging(L.n.publish_failed))
        cw_log(CW_LOG_WARN, "redis: message not sent: %s (%lu so far)", why, L.n.publish_failed);
}

static long encode(int kind, const char *type, const void *data, size_t len, int code,
                   const char *reason, uint8_t *out, size_t cap)
{
    switch (kind) {
    case CW_LAYER_MSG_EVENT: return cw_layer_msg_encode_event(out, cap, type, data, len);
    case CW_LAYER_MSG_CLOSE: return cw_layer_msg_encode_close(out, cap, code, reason);
    default: return cw_layer_msg_encode_send(out, cap, kind == CW_LAYER_MSG_BINARY, data, len);
    }
}

static uint8_t *encode_block(int kind, const char *type, const void *data, size_t len, int code,
                             const char *reason, size_t extra, long *n)
{
    size_t need = (kind == CW_LAYER_MSG_EVENT ? cw_layer_msg_event_bound(len)
                   : kind == CW_LAYER_MSG_CLOSE ? 256 : len + 64) + extra, cap;
    if (need > BLOCK_MAX)
        need = BLOCK_MAX;
    uint8_t *buf = cw_buf_get(need, &cap);
    if (!buf) {
        *n = CW_ENOMEM;
        return NULL;
    }
    *n = encode(kind, type, data, len, code, reason, buf + extra, cap - extra);
    if (*n < 0) {
        cw_buf_put(buf);
        return NULL;
    }
    return buf;
}

static const char *encode_error(long n)
{
    return n == CW_ENOMEM  ? "out of buffers"
           : n == CW_ETOOBIG ? "message too large"
                           : "not a Channels message (a JSON object body, a type Channels can "
                             "route)";
}

void cw_core_publish(const char *group, int kind, const char *type, const void *data, size_t len,
                     int code, const char *reason)
{
    if (L.state != ST_UP) {
        publish_failed("redis is not connected");
        return;
    }
    long n;
    uint8_t *buf = encode_block(kind, type, data, len, code, reason, 0, &n);
    if (!buf) {
        publish_failed(encode_error(n));
        return;
    }
    size_t pos = 0;
    cw_msgpack_obj o;
    cw_msgpack_read(buf, (size_t)n, &pos, &o); /* our own map: its header */
    char key[KEY_MAX], sc[32], ge[16], ex[16], cap[16], cnt[16];
    uint8_t rnd[CW_CORE_RANDOM];
    cw_port_random(rnd, sizeof rnd);
    group_key(group, key);
    snprintf(ge, sizeof ge, "%u", L.group_expiry);
    snprintf(ex, sizeof ex, "%u", L.expiry);
    snprintf(cap, sizeof cap, "%u", L.capacity);
    snprintf(cnt, sizeof cnt, "%u", (unsigned)o.n);
    size_t sl = score(sc, sizeof sc);
    const char *argv[13] = {"EVALSHA", L.gsend_sha, "1", key, sc, ge, ex, cap,
                            (const char *)rnd, cnt, (const char *)buf + pos, L.prefix, L.own_key};
    size_t lens[13] = {7, 40, 1, strlen(key), sl, strlen(ge), strlen(ex), strlen(cap),
                       CW_CORE_RANDOM, strlen(cnt), (size_t)n - pos, strlen(L.prefix),
                       strlen(L.own_key)};
    int rc = queue_cmd(&L.cmd, RK_GSEND, 13, argv, lens);
    cw_buf_put(buf);
    if (rc < 0) {
        publish_failed("redis send queue full");
        return;
    }
    L.n.published++;
}

int cw_core_channel_send(const char *channel, const char *type, const void *data, size_t len)
{
    if (L.state != ST_UP) {
        publish_failed("redis is not connected");
        return -1;
    }
    long n;
    uint8_t *buf = encode_block(CW_LAYER_MSG_EVENT, type, data, len, 0, NULL, 0, &n);
    if (!buf) {
        publish_failed(encode_error(n));
        return -1;
    }
    size_t cap, tl = strlen(channel);
    uint8_t *mem = cw_buf_get((size_t)n + CW_CORE_RANDOM + tl + 32, &cap);
    uint8_t rnd[CW_CORE_RANDOM];
    cw_port_random(rnd, sizeof rnd);
    long ml = CW_ENOMEM;
    if (mem && strchr(channel, '!')) {
        const char *t[1] = {channel};
        ml = cw_core_member(mem, cap, rnd, buf, (size_t)n, 0, t, 1);
    } else if (mem && cap >= (size_t)n + CW_CORE_RANDOM) {
        memcpy(mem, rnd, CW_CORE_RANDOM); /* a general channel: no routing key */
        memcpy(mem + CW_CORE_RANDOM, buf, (size_t)n);
        ml = n + CW_CORE_RANDOM;
    }
    cw_buf_put(buf);
    if (ml < 0) {
        cw_buf_put(mem);
        publish_failed(encode_error(ml));
        return -1;
    }
    char key[KEY_MAX], sc[32], ex[16], cp[16];
    snprintf(key, sizeof key, "%s%.*s", L.prefix, (int)cw_core_nonlocal_len(channel), channel);
    snprintf(ex, sizeof ex, "%u", L.expiry);
    snprintf(cp, sizeof cp, "%u", L.capacity);
    size_t sl = score(sc, sizeof sc);
    const char *argv[8] = {"EVALSHA", L.send_sha, "1", key, sc, ex, cp, (const char *)mem};
    size_t lens[8] = {7, 40, 1, strlen(key), sl, strlen(ex), strlen(cp), (size_t)ml};
    int rc = queue_cmd(&L.cmd, RK_SEND, 8, argv, lens);
    cw_buf_put(mem);
    if (rc < 0) {
        publish_failed("redis send queue full");
        return -1;
    }
    L.n.published++;
    return 0;
}

/* A worker bound while BZPOPMIN waits is in the next one (within
 * POP_TIMEOUT_S); one unbound is dropped from it the same way. */
void cw_core_worker_up(const char *name)
{
    (void)name;
}

void cw_core_worker_down(const char *name)
{
    (void)name;
}

const char *cw_core_take_error(void)
{
    const char *e = L.last_error;
    L.last_error = NULL;
    return e;
}

/* ---- set-up, report, shutdown ---- */

static void sha_hex(const char *text, char out[41])
{
    cw_sha1 s;
    uint8_t d[20];
    cw_sha1_init(&s);
    cw_sha1_update(&s, text, strlen(text));
    cw_sha1_final(&s, d);
    for (int i = 0; i < 20; i++) {
        out[2 * i] = "0123456789abcdef"[d[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
    }
    out[40] = 0;
}

int cw_core_start(const cw_redis_options *o, char *err, size_t errlen)
{
    const char *prefix = o->prefix ? o->prefix : "asgi";
    memset(&L.n, 0, sizeof L.n);
    snprintf(L.addr, sizeof L.addr, "%s", o->addr);
    snprintf(L.prefix, sizeof L.prefix, "%s", prefix);
    snprintf(L.user, sizeof L.user, "%s", o->username ? o->username : "");
    snprintf(L.password, sizeof L.password, "%s", o->password ? o->password : "");
    snprintf(L.own, sizeof L.own, "specific.%s!", cw_channel_process_id());
    snprintf(L.own_key, sizeof L.own_key, "%s%s", L.prefix, L.own);
    L.expiry = o->expiry_s ? o->expiry_s : 60;
    L.group_expiry = o->group_expiry_s ? o->group_expiry_s : 86400;
    L.capacity = o->capacity ? o->capacity : 100;
    sha_hex(GSEND_LUA, L.gsend_sha);
    sha_hex(SEND_LUA, L.send_sha);
    L.backoff_min = o->backoff_min_ms ? o->backoff_min_ms : BACKOFF_MIN_MS;
    L.backoff_max = o->backoff_max_ms ? o->backoff_max_ms : CONFIG_LAYER_REDIS_BACKOFF_MAX_MS;
    if (L.backoff_max < L.backoff_min)
        L.backoff_max = L.backoff_min;
    L.backoff = L.backoff_min;
    L.cmd.io.fd = L.pop.io.fd = -1;
    link_reset(&L.cmd);
    link_reset(&L.pop);
    L.failing_streak = 0;
    L.last_score_us = 0;
    char why[160];
    L.state = ST_DOWN; /* active from here on */
    if (start_links(why, sizeof why) == EINVAL) {
        L.state = ST_OFF;
        snprintf(err, errlen, "--redis: %s", why);
        return CW_EINVAL;
    }
    return 0;
}

size_t cw_core_report(char *out, size_t cap)
{
    if (L.state == ST_OFF || cap == 0)
        return 0;
    int n = snprintf(out, cap,
                     "redis_layer core\nredis_state %s\nredis_connects %lu\n"
                     "redis_disconnects %lu\nredis_connect_failures %lu\nredis_published %lu\n"
                     "redis_publish_failed %lu\nredis_publish_errors %lu\n"
                     "redis_channel_full %lu\nredis_received %lu\nredis_delivered %lu\n"
                     "redis_expired %lu\nredis_malformed %lu\nredis_toobig %lu\n"
                     "redis_unrouted %lu\n"
                     "redis_group_adds %lu\n"
                     "redis_group_discards %lu\n"
                     "redis_refreshes %lu\nredis_inflight %u\n",
                     state_names[L.state], L.n.connects, L.n.disconnects, L.n.connect_failures,
                     L.n.published, L.n.publish_failed, L.n.publish_errors, L.n.channel_full,
                     L.n.received, L.n.delivered, L.n.expired, L.n.malformed, L.n.toobig,
                     L.n.unrouted, L.n.group_adds, L.n.group_discards, L.n.refreshes,
                     (unsigned)(L.cmd.et - L.cmd.eh));
    if (n < 0)
        return 0;
    return (size_t)n >= cap ? cap - 1 : (size_t)n;
}

void cw_core_fini(void)
{
    if (L.state == ST_OFF)
        return;
    cw_core_flush(); /* the last ZREMs, best effort */
    cw_wheel_cancel(&L.timer);
    link_reset(&L.cmd);
    link_reset(&L.pop);
    L.state = ST_OFF;
}
#endif
