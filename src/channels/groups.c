/* SPDX-License-Identifier: MIT */
/* groups.c: group and membership pools, a hash from name to group, and the
 * fan-outs. A fan-out marks its group busy: members that leave meanwhile
 * are only marked (conn = NULL) and unlinked when the last fan-out over the
 * group ends, so no iterator ever holds a freed node. */
#include "channels/groups.h"
#include "base/hist.h"
#include "base/pool.h"
#include "base/utf8.h"
#include "channels/layer.h"
#include "core/conn.h"
#include "core/runtime.h"
#include "core/share.h"
#include "proto/frame.h"

#include <string.h>

#define MAX_NESTING 8 /* event handlers that group_send to the same group */

struct cw_member {
    struct cw_group *group;
    cw_conn *conn;                    /* NULL: left during a fan-out */
    struct cw_member *gnext, *gprev;  /* the group's members, in join order */
    struct cw_member *cnext;          /* the connection's memberships */
};

struct cw_group {
    struct cw_group *hnext; /* hash chain */
    struct cw_member *head, *tail;
    uint32_t members;       /* live members */
    uint8_t busy;           /* fan-outs running over this group */
    uint8_t has_dead;       /* members left during a fan-out */
    char name[CONFIG_GROUP_NAME_MAX];
};

/* Power-of-two bucket count, about one bucket per group. */
#define BUCKETS_FOR(n) ((n) <= 16 ? 16 : (n) <= 256 ? 256 : (n) <= 4096 ? 4096 : 65536)
#define BUCKETS BUCKETS_FOR(CONFIG_MAX_GROUPS)

CW_POOL_STORAGE(group_store, sizeof(struct cw_group), CONFIG_MAX_GROUPS);
CW_POOL_STORAGE(member_store, sizeof(struct cw_member), CONFIG_MAX_MEMBERSHIPS);
static cw_pool group_pool, member_pool;
static struct cw_group *buckets[BUCKETS];

void cw_groups_init(void)
{
    cw_pool_init(&group_pool, "group", group_store, sizeof(struct cw_group), CONFIG_MAX_GROUPS);
    cw_pool_init(&member_pool, "member", member_store, sizeof(struct cw_member),
                 CONFIG_MAX_MEMBERSHIPS);
    memset(buckets, 0, sizeof buckets);
    cw_conn_on_closed(cw_groups_discard_all);
    cw_conn_on_open(cw_groups_join_listed);
}

void cw_groups_set_limits(unsigned groups, unsigned memberships)
{
    if (groups && groups < CONFIG_MAX_GROUPS)
        group_pool.limit = groups;
    if (memberships && memberships < CONFIG_MAX_MEMBERSHIPS)
        member_pool.limit = memberships;
}

void cw_groups_usage(unsigned *groups, unsigned *members)
{
    *groups = group_pool.used;
    *members = member_pool.used;
}

int cw_group_name_valid(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++) {
        char c = name[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
        if (n + 1 >= CONFIG_GROUP_NAME_MAX)
            return 0;
    }
    return n > 0;
}

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h & (BUCKETS - 1);
}

static struct cw_group *find(const char *name)
{
    for (struct cw_group *g = buckets[hash(name)]; g; g = g->hnext)
        if (strcmp(g->name, name) == 0)
            return g;
    return NULL;
}

static void free_group(struct cw_group *g)
{
    struct cw_group **pp = &buckets[hash(g->name)];
    while (*pp != g)
        pp = &(*pp)->hnext;
    *pp = g->hnext;
    cw_pool_put(&group_pool, g);
}

static void unlink_member(struct cw_group *g, struct cw_member *m)
{
    if (m->gprev)
        m->gprev->gnext = m->gnext;
    else
        g->head = m->gnext;
    if (m->gnext)
        m->gnext->gprev = m->gprev;
    else
        g->tail = m->gprev;
    cw_pool_put(&member_pool, m);
}

/* After the last fan-out: unlink members that left, free an empty group. */
static void settle(struct cw_group *g)
{
    if (g->busy)
        return;
    if (g->has_dead) {
        for (struct cw_member *m = g->head, *nx; m; m = nx) {
            nx = m->gnext;
            if (!m->conn)
                unlink_member(g, m);
        }
        g->has_dead = 0;
    }
    if (g->members == 0) {
        cw_layer_group_down(g->name); /* the last local member left: unsubscribe */
        free_group(g);
    }
}

/* Removes membership m (found in c's list behind *link). */
static void leave(struct cw_member **link)
{
    struct cw_member *m = *link;
    struct cw_group *g = m->group;
    *link = m->cnext;
    g->members--;
    cw_conn_share_give(m->conn, CW_SHARE_MEMBER);
    if (g->busy) {
        m->conn = NULL;
        g->has_dead = 1;
        return;
    }
    unlink_member(g, m);
    settle(g);
}

int cw_group_add(cw_conn *c, const char *name)
{
    if (!cw_group_name_valid(name))
        return CW_EINVAL;
    if (c->state != CW_ST_OPEN)
        return CW_ECLOSED;
    uint32_t mine = 0;
    for (struct cw_member *m = c->groups; m; m = m->cnext, mine++)
        if (strcmp(m->group->name, name) == 0)
            return 0; /* already a member: like Channels, adding twice is harmless */
#if defined(CONFIG_FAIR_SHARES)
    /* One connection's share: conn_share_pct of the smaller table, so
     * neither its memberships nor the groups it creates fill one. */
    uint32_t tables = group_pool.limit < member_pool.limit ? group_pool.limit : member_pool.limit;
    uint32_t share = tables * cw_rt.opt.conn_share_pct / 100;
    if (mine >= (share ? share : 1)) {
        cw_rt.stats.share_refusals++;
        return CW_ENOMEM;
    }
#else
    (void)mine;
#endif
    struct cw_group *g = find(name);
    int created = 0;
    if (!g) {
        g = cw_pool_get(&group_pool);
        if (!g)
            return CW_ENOMEM;
        memset(g, 0, offsetof(struct cw_group, name));
        strcpy(g->name, name);
        uint32_t h = hash(name);
        g->hnext = buckets[h];
        buckets[h] = g;
        created = 1;
    }
    /* The pools first (an empty one counts as such), then the address's share. */
    struct cw_member *m = cw_pool_get(&member_pool);
    if (m && cw_conn_share_take(c, CW_SHARE_MEMBER) < 0) {
        cw_pool_put(&member_pool, m);
        m = NULL;
        cw_rt.stats.share_refusals++;
    }
    if (!m) {
        if (created)
            free_group(g);
        return CW_ENOMEM;
    }
    m->group = g;
    m->conn = c;
    m->gnext = NULL;
    m->gprev = g->tail;
    if (g->tail)
        g->tail->gnext = m;
    else
        g->head = m;
    g->tail = m;
    g->members++;
    m->cnext = c->groups;
    c->groups = m;
    if (created)
        cw_layer_group_up(name); /* the first local member: subscribe */
    return 0;
}

int cw_group_discard(cw_conn *c, const char *name)
{
    for (struct cw_member **pp = &c->groups; *pp; pp = &(*pp)->cnext) {
        if (strcmp((*pp)->group->name, name) == 0) {
            leave(pp);
            return 0;
        }
    }
    return CW_ENOENT;
}

void cw_groups_discard_all(cw_conn *c)
{
    while (c->groups)
        leave(&c->groups);
}

int cw_groups_join_listed(cw_conn *c)
{
    const cw_consumer *k = cw_conn_consumer(c);
    const char *const *list = k ? k->groups : NULL;
    for (unsigned i = 0; list && list[i]; i++) {
        int rc = i < CW_CONSUMER_GROUPS_MAX ? cw_group_add(c, list[i]) : CW_EINVAL;
        if (rc == CW_ENOMEM)
            return 503; /* the tables are full now: the client may retry */
        if (rc != 0) {
            cw_log(CW_LOG_ERROR, "consumer group %u: not a group name, or over %u of them", i,
                   CW_CONSUMER_GROUPS_MAX);
            return 500;
        }
    }
    return 0;
}

/* ---- fan-outs ---- */

typedef int (*visit_fn)(cw_conn *c, void *ctx);

/* Calls fn for each open member present when the fan-out starts. Returns
 * how many fn calls returned 1, or CW_EBUSY-like CW_EINVAL when nested too
 * deep (an event handler that sends to its own group forever). */
static int fanout(const char *name, visit_fn fn, void *ctx)
{
    struct cw_group *g = find(name);
    if (!g)
        return 0; /* like Channels: sending to an empty group does nothing */
    if (g->busy >= MAX_NESTING)
        return CW_EINVAL;
    g->busy++;
    uint32_t t0 = CW_HIST_NOW(); /* the fan-out latency (CONFIG_METRICS) */
    int reached = 0;
    struct cw_member *last = g->tail; /* later joiners do not get this one */
    for (struct cw_member *m = g->head; m; m = m->gnext) {
        if (m->conn && m->conn->state == CW_ST_OPEN)
            reached += fn(m->conn, ctx);
        if (m == last)
            break;
    }
    g->busy--;
    settle(g);
    cw_hist_since(&cw_hist_fanout, t0);
    return reached;
}

struct event_ctx {
    const char *type;
    const uint8_t *data;
    size_t len;
};

static int visit_event(cw_conn *c, void *ctx)
{
    struct event_ctx *e = ctx;
    const cw_consumer *consumer = cw_conn_consumer(c);
    if (!consumer || !consumer->event)
        return 0;
    cw_rt.stats.events_out++;
    consumer->event(c, e->type, e->data, e->len);
    return 1;
}

static int type_valid(const char *t)
{
    size_t n = 0;
    for (; t[n]; n++) {
        char c = t[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_') ||
            n >= 64)
            return 0;
    }
    return n > 0;
}

/* On a channel layer these types are the group's broadcast and close
 * (docs/api.md): as events they would mean one thing here and another on
 * every other process. Channels reads '.' and '_' alike. */
static int type_reserved(const char *t)
{
    return cw_event_is(t, "websocket.send") || cw_event_is(t, "websocket.close");
}

int cw_event_type_ok(const char *type)
{
    return type_valid(type) && !type_reserved(type);
}

int cw_event_is(const char *type, const char *name)
{
    /* Called for every member of every fan-out: the usual exact match
     * first (libc's strcmp), the '.'/'_' equivalence only after that. */
    if (strcmp(type, name) == 0)
        return 1;
    for (;; type++, name++) {
        char a = *type == '.' ? '_' : *type, b = *name == '.' ? '_' : *name;
        if (a != b)
            return 0;
        if (!a)
            return 1;
    }
}

/* The fan-out of an event to local members, arguments already checked. */
static int local_send(const char *group, const char *type, const void *data, size_t len)
{
    struct event_ctx e = {type, data, len};
    /* Handlers that forward the body unchanged share one frame. */
    cw_conn_fanout frame;
    cw_conn_fanout_begin(&frame, data, len);
    int n = fanout(group, visit_event, &e);
    cw_conn_fanout_end(&frame);
    return n;
}

int cw_group_send(cw_server *s, const char *group, const char *type, const void *data, size_t len)
{
    (void)s;
    if (!cw_group_name_valid(group) || !type_valid(type) || type_reserved(type))
        return CW_EINVAL;
    /* other processes first, so nested sends made by local handlers reach
     * them in the same order as they reach local members */
    cw_layer_publish_event(group, type, data, len);
    return local_send(group, type, data, len);
}

int cw_group_local_send(const char *group, const char *type, const void *data, size_t len)
{
    if (!cw_group_name_valid(group) || !type_valid(type))
        return CW_EINVAL;
    return local_send(group, type, data, len);
}

static int visit_queue(cw_conn *c, void *ctx)
{
    return cw_conn_queue_shared(c, ctx) == 0;
}

static int local_broadcast(const char *group, unsigned opcode, const void *data, size_t len);

static int broadcast(const char *group, unsigned opcode, const void *data, size_t len)
{
    if (!cw_group_name_valid(group))
        return CW_EINVAL;
    cw_layer_publish_send(group, opcode == CW_OP_BINARY, data, len);
    return local_broadcast(group, opcode, data, len);
}

int cw_group_local_broadcast(const char *group, int binary, const void *data, size_t len)
{
    if (!cw_group_name_valid(group) || (!binary && !cw_utf8_valid((const uint8_t *)data, len)))
        return CW_EINVAL;
    return local_broadcast(group, binary ? CW_OP_BINARY : CW_OP_TEXT, data, len);
}

static int local_broadcast(const char *group, unsigned opcode, const void *data, size_t len)
{
    if (!find(group))
        return 0;
    if (len > cw_rt.opt.sendq_max)
        return CW_ETOOBIG;
    uint8_t hdr[CW_FRAME_MAX_HEADER];
    size_t hl = cw_frame_header(hdr, opcode, 1, len, NULL);
    /* Encoded once; every member's queue points at these same bytes. */
    cw_txq_shared *sh = cw_txq_shared_new(hl + len);
    if (!sh)
        return CW_ENOMEM;
    memcpy(sh->data, hdr, hl);
    memcpy(sh->data + hl, data, len);
    int n = fanout(group, visit_queue, sh);
    cw_txq_shared_unref(sh);
    return n;
}

int cw_group_broadcast(cw_server *s, const char *group, const char *text, size_t len)
{
    (void)s;
    if (!cw_utf8_valid((const uint8_t *)text, len))
        return CW_EINVAL;
    return broadcast(group, CW_OP_TEXT, text, len);
}

int cw_group_broadcast_binary(cw_server *s, const char *group, const void *data, size_t len)
{
    (void)s;
    return broadcast(group, CW_OP_BINARY, data, len);
}

struct close_ctx {
    int code;
    const char *reason;
};

static int visit_close(cw_conn *c, void *ctx)
{
    struct close_ctx *cc = ctx;
    return cw_close(c, cc->code, cc->reason) == 0;
}

static int close_args_valid(const char *group, int code, const char *reason)
{
    size_t rl = reason ? strlen(reason) : 0;
    return cw_group_name_valid(group) && code >= 0 && cw_frame_close_valid((unsigned)code) &&
           rl <= CW_FRAME_MAX_CONTROL - 2 && cw_utf8_valid((const uint8_t *)reason, rl);
}

int cw_group_close(cw_server *s, const char *group, int code, const char *reason)
{
    (void)s;
    if (!close_args_valid(group, code, reason))
        return CW_EINVAL;
    cw_layer_publish_close(group, code, reason);
    struct close_ctx cc = {code, reason};
    return fanout(group, visit_close, &cc);
}

int cw_group_local_close(const char *group, int code, const char *reason)
{
    if (!close_args_valid(group, code, reason))
        return CW_EINVAL;
    struct close_ctx cc = {code, reason};
    return fanout(group, visit_close, &cc);
}

/* ---- for the channel layer ---- */

int cw_group_exists(const char *name)
{
    return find(name) != NULL;
}

int cw_groups_walk(uint32_t *cursor, int (*fn)(const char *name, void *ctx), void *ctx)
{
    for (; *cursor < BUCKETS; (*cursor)++)
        for (struct cw_group *g = buckets[*cursor]; g; g = g->hnext)
            if (fn(g->name, ctx))
                return 0; /* this bucket is visited again next time */
    return 1;
}

int cw_groups_walk_passed(const char *name, uint32_t cursor)
{
    return hash(name) < cursor;
}
