/* SPDX-License-Identifier: MIT */
/* test_groups.c: the group table and its fan-outs on real connection slots
 * without sockets. This file defines the clock and the poller itself (as
 * test_timer.c does), so the archive's are not linked in: connections are
 * started on fd -1, nothing is ever written to a socket, and what a fan-out
 * did is read back from each connection's send queue and from the
 * consumer callbacks it ran. Covered: add/discard and names, full group and
 * membership tables, automatic discard on close, typed events, one-frame
 * broadcasts, closing a group, and fan-outs whose callbacks close, discard
 * or add members (themselves included) or fan out again. */
#include "base/buf.h"
#include "base/log.h"
#include "core/runtime.h"
#include "core/conn.h"
#include "cw_config.h"
#include "channels/groups.h"
#include "port.h"
#include "core/reactor.h"
#include "server.h"
#include "base/txq.h"
#include "unit.h"
#include "proto/frame.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* ---- fake clock and poller ---- */

static void *last_udata;

uint64_t cw_port_now_ms(void)
{
    return 1000000;
}

int cw_port_poller_open(unsigned capacity)
{
    (void)capacity;
    return 0;
}

void cw_port_poller_close(void)
{
}

int cw_port_poller_add(int fd, unsigned events, void *udata)
{
    (void)fd;
    (void)events;
    last_udata = udata;
    return 0;
}

int cw_port_poller_mod(int fd, unsigned events, void *udata)
{
    (void)fd;
    (void)events;
    (void)udata;
    return 0;
}

int cw_port_poller_del(int fd)
{
    (void)fd;
    return 0;
}

void cw_port_poller_forget(int fd)
{
    cw_port_poller_del(fd);
}

int cw_port_poller_wait(cw_port_event *ev, int max, int timeout_ms)
{
    (void)ev;
    (void)max;
    (void)timeout_ms;
    return 0;
}

const char *cw_port_poller_name(void)
{
    return "fake";
}

int cw_port_poller_fd(void)
{
    return -1; /* a fake poller has no descriptor */
}

/* ---- what the consumer saw ---- */

typedef struct {
    cw_conn *c;
    char type[72];
    char data[64];
    size_t len;
} event_rec;

static event_rec evs[256];
static int nev;
static cw_conn *gone[64]; /* disconnects, in order */
static int gone_code[64];
static int ngone;

/* Per-test behaviour run inside the callbacks. */
static void (*on_event)(cw_conn *c, const char *type);
static void (*on_disconnect)(cw_conn *c, int code);

static void ev_cb(cw_conn *c, const char *type, const uint8_t *data, size_t len)
{
    if (nev < (int)(sizeof evs / sizeof evs[0])) {
        event_rec *e = &evs[nev];
        e->c = c;
        snprintf(e->type, sizeof e->type, "%s", type);
        e->len = len;
        if (len)
            memcpy(e->data, data, len < sizeof e->data ? len : sizeof e->data);
    }
    nev++;
    if (on_event)
        on_event(c, type);
}

static void disc_cb(cw_conn *c, int code)
{
    if (ngone < (int)(sizeof gone / sizeof gone[0])) {
        gone[ngone] = c;
        gone_code[ngone] = code;
    }
    ngone++;
    if (on_disconnect)
        on_disconnect(c, code);
}

static const cw_consumer rec = {NULL, NULL, ev_cb, disc_cb, NULL};
static const cw_consumer no_event = {NULL, NULL, NULL, disc_cb, NULL};

static void setup(void)
{
    memset(&cw_srv, 0, sizeof cw_srv);
    memset(&cw_rt, 0, sizeof cw_rt);
    cw_options_init(&cw_rt.opt);
    cw_log_set_level(-1);
    cw_rt.www_fd = -1;
    cw_buf_init();
    cw_txq_init();
    cw_conn_pool_init(CONFIG_MAX_CONNS);
    cw_groups_init();
    cw_reactor_init(64);
    nev = 0;
    ngone = 0;
    on_event = NULL;
    on_disconnect = NULL;
}

/* How many slots a test may open: each start takes a request buffer, and
 * those only come back when the pools are set up again. */
#define NCONN (CONFIG_HTTP_BUFS < CONFIG_MAX_CONNS ? CONFIG_HTTP_BUFS : CONFIG_MAX_CONNS)

/* A slot as it is after a successful connect: OPEN, the consumer set, the
 * request buffer gone (it stays in its pool until the next setup). */
/* A connection's consumer comes from its route: one route per consumer. */
static cw_route test_routes[8];

static uint8_t route_of(const cw_consumer *k)
{
    unsigned i = 0;
    while (i < cw_rt.opt.nroutes && test_routes[i].consumer != k)
        i++;
    if (i == cw_rt.opt.nroutes) {
        test_routes[i].pattern = "/ws/test/";
        test_routes[i].consumer = k;
        cw_rt.opt.routes = test_routes;
        cw_rt.opt.nroutes = i + 1;
    }
    return (uint8_t)i;
}

static cw_conn *conn_open(const cw_consumer *k)
{
    cw_port_peer peer;
    memset(&peer, 0, sizeof peer);
    last_udata = NULL;
    cw_conn_start(-1, &peer, 0, 0);
    if (!last_udata)
        return NULL;
    cw_conn *c = (cw_conn *)(void *)((char *)last_udata - offsetof(struct cw_conn, xp.io));
    cw_wheel_cancel(&c->timer);
    c->hold.req = NULL;
    c->state = CW_ST_OPEN;
    c->route = route_of(k);
    c->flags |= CW_CF_CONSUMER;
    cw_rt.stats.conns_http--;
    return c;
}

static unsigned groups_used(void)
{
    unsigned g, m;
    cw_groups_usage(&g, &m);
    return g;
}

static unsigned members_used(void)
{
    unsigned g, m;
    cw_groups_usage(&g, &m);
    return m;
}

/* Whether this configuration holds what a case needs: `conns` open
 * connections (each keeps its request buffer here, so at most NCONN) and
 * `members` memberships in `groups` groups, `per_conn` of them on one
 * connection (within its share, CONFIG_CONN_SHARE_PCT of the smaller
 * table). When it does not (a small CONFIG_HTTP_BUFS, CONFIG_MAX_GROUPS or
 * CONFIG_MAX_MEMBERSHIPS), the case cannot be set up: what the
 * configuration answers instead is checked (the connection or membership
 * past the bound is refused), and the case ends. Leaves the pools dirty: the
 * case sets up again. */
static int fits(const char *what, unsigned conns, unsigned members, unsigned per_conn,
                unsigned groups)
{
    setup();
    if (conns > NCONN) {
        for (unsigned i = 0; i < NCONN; i++)
            CHECK(conn_open(&rec) != NULL);
        if (CONFIG_HTTP_BUFS <= CONFIG_MAX_CONNS)
            CHECK(conn_open(&rec) == NULL); /* no request buffer left */
        printf("%s: needs %u connections, this configuration holds %u here: checked the "
               "refusal instead\n", what, conns, (unsigned)NCONN);
        return 0;
    }
    cw_conn *a = conn_open(&rec);
    CHECK(a != NULL);
    if (!a)
        return 0;
    /* One connection in per_conn groups (all of them when the tables are
     * smaller than the case), until the first refusal. */
    int big = members <= CONFIG_MAX_MEMBERSHIPS && groups <= CONFIG_MAX_GROUPS;
    unsigned want = big ? per_conn : CONFIG_MAX_MEMBERSHIPS + 1, k = 0;
    int rc = 0;
    char name[16];
    while (k < want) {
        snprintf(name, sizeof name, "p%u", k);
        if ((rc = cw_group_add(a, name)) != 0)
            break;
        k++;
    }
    if (big && k == per_conn)
        return 1;
    CHECK_EQ(rc, CW_ENOMEM);
    CHECK(k < per_conn || k < members || k < groups);
    CHECK_EQ(members_used(), k);
    printf("%s: needs %u memberships in %u groups, %u on one connection; this configuration "
           "refused the membership %u: checked the refusal instead\n",
           what, members, groups, per_conn, k + 1);
    return 0;
}

/* The order in which conns received events since index from. */
static int events_are(int from, cw_conn *const *who, int n)
{
    if (nev - from != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (evs[from + i].c != who[i])
            return 0;
    return 1;
}

/* The bytes queued on c (owned and shared segments alike). */
static size_t queued(cw_conn *c, uint8_t *out, size_t cap)
{
    struct iovec iov[16];
    int n = cw_txq_iov(&c->tx, iov, 16);
    size_t o = 0;
    for (int i = 0; i < n && o < cap; i++) {
        size_t k = iov[i].iov_len < cap - o ? iov[i].iov_len : cap - o;
        memcpy(out + o, iov[i].iov_base, k);
        o += k;
    }
    return o;
}

/* ---- the table ---- */

static void test_add_discard(void)
{
    if (!fits(__func__, 2, 3, 2, 2))
        return;
    setup();
    cw_conn *a = conn_open(&rec), *b = conn_open(&rec);
    CHECK(a && b);
    if (!a || !b)
        return;
    CHECK_EQ(groups_used(), 0);
    CHECK_EQ(cw_group_add(a, "room"), 0);
    CHECK_EQ(groups_used(), 1);
    CHECK_EQ(members_used(), 1);
    CHECK_EQ(cw_group_add(a, "room"), 0); /* twice is harmless, and one membership */
    CHECK_EQ(members_used(), 1);
    CHECK_EQ(cw_group_add(b, "room"), 0);
    CHECK_EQ(cw_group_add(a, "other"), 0);
    CHECK_EQ(groups_used(), 2);
    CHECK_EQ(members_used(), 3);
    CHECK_EQ(cw_group_send(&cw_srv, "room", "t", "x", 1), 2);
    CHECK_EQ(cw_group_discard(a, "room"), 0);
    CHECK_EQ(members_used(), 2);
    CHECK_EQ(cw_group_discard(a, "room"), CW_ENOENT);
    CHECK_EQ(cw_group_discard(a, "nope"), CW_ENOENT);
    CHECK_EQ(cw_group_discard(b, "other"), CW_ENOENT);
    CHECK_EQ(cw_group_send(&cw_srv, "room", "t", "x", 1), 1);
    CHECK_EQ(cw_group_discard(b, "room"), 0);
    CHECK_EQ(groups_used(), 1); /* the empty group is freed */
    CHECK_EQ(cw_group_send(&cw_srv, "room", "t", "x", 1), 0);
    /* names are exact and case-sensitive */
    CHECK_EQ(cw_group_add(b, "Other"), 0);
    CHECK_EQ(groups_used(), 2);
    CHECK_EQ(cw_group_send(&cw_srv, "other", "t", "x", 1), 1);
    cw_groups_discard_all(a);
    cw_groups_discard_all(b);
    cw_groups_discard_all(b);
    CHECK_EQ(groups_used(), 0);
    CHECK_EQ(members_used(), 0);
    CHECK_EQ(ngone, 0); /* discarding is not disconnecting */
}

static void test_names(void)
{
    if (!fits(__func__, 1, 1, 1, 1))
        return;
    setup();
    cw_conn *a = conn_open(&rec);
    CHECK(a);
    if (!a)
        return;
    char name[CONFIG_GROUP_NAME_MAX + 2];
    /* a name is valid when shorter than CONFIG_GROUP_NAME_MAX (at least 8):
     * every allowed character in names of 7 bytes or fewer */
    CHECK_EQ(cw_group_name_valid("AZaz-_."), 1);
    CHECK_EQ(cw_group_name_valid("09"), 1);
    CHECK_EQ(cw_group_name_valid("a"), 1);
    CHECK_EQ(cw_group_name_valid("chat_lobby"), sizeof "chat_lobby" <= CONFIG_GROUP_NAME_MAX);
    CHECK_EQ(cw_group_name_valid("AZaz09-_."), sizeof "AZaz09-_." <= CONFIG_GROUP_NAME_MAX);
    memset(name, 'n', sizeof name);
    name[CONFIG_GROUP_NAME_MAX - 1] = 0; /* 99 bytes (by default): the longest */
    CHECK_EQ(cw_group_name_valid(name), 1);
    CHECK_EQ(cw_group_add(a, name), 0);
    CHECK_EQ(cw_group_send(&cw_srv, name, "t", NULL, 0), 1);
    name[CONFIG_GROUP_NAME_MAX - 1] = 'n';
    name[CONFIG_GROUP_NAME_MAX] = 0; /* 100 bytes (by default): too long */
    CHECK_EQ(cw_group_name_valid(name), 0);
    CHECK_EQ(cw_group_add(a, name), CW_EINVAL);
    static const char *const bad[] = {"", "a b", "a/b", "a:b", "a\tb", "\xc3\xa9", "a@b",
                                      "a,b", "a*", "$"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (cw_group_name_valid(bad[i]) != 0 || cw_group_add(a, bad[i]) != CW_EINVAL ||
            cw_group_send(&cw_srv, bad[i], "t", NULL, 0) != CW_EINVAL ||
            cw_group_broadcast(&cw_srv, bad[i], "x", 1) != CW_EINVAL ||
            cw_group_broadcast_binary(&cw_srv, bad[i], "x", 1) != CW_EINVAL ||
            cw_group_close(&cw_srv, bad[i], 1000, NULL) != CW_EINVAL)
            cw_unit_check(0, bad[i], __FILE__, __LINE__);
    }
    CHECK_EQ(groups_used(), 1);
    /* event types: letters, digits, '.', '_', 1..64 bytes */
    char type[80];
    memset(type, 't', sizeof type);
    type[64] = 0;
    nev = 0;
    CHECK_EQ(cw_group_send(&cw_srv, name + 1, "chat.message", "", 0), 1);
    CHECK_EQ(cw_group_send(&cw_srv, name + 1, "user_2.left", "", 0), 1);
    CHECK_EQ(cw_group_send(&cw_srv, name + 1, type, "", 0), 1);
    type[64] = 't';
    type[65] = 0;
    CHECK_EQ(cw_group_send(&cw_srv, name + 1, type, "", 0), CW_EINVAL);
    CHECK_EQ(cw_group_send(&cw_srv, name + 1, "", "", 0), CW_EINVAL);
    CHECK_EQ(cw_group_send(&cw_srv, name + 1, "chat-message", "", 0), CW_EINVAL);
    CHECK_EQ(cw_group_send(&cw_srv, name + 1, "a b", "", 0), CW_EINVAL);
    CHECK_EQ(nev, 3);
}

static void test_add_when_not_open(void)
{
    setup();
    cw_conn *a = conn_open(&rec);
    CHECK(a);
    if (!a)
        return;
    static const uint8_t states[] = {CW_ST_HTTP, CW_ST_CLOSING, CW_ST_DRAIN, CW_ST_CLOSED};
    for (size_t i = 0; i < sizeof states; i++) {
        a->state = states[i];
        CHECK_EQ(cw_group_add(a, "g"), CW_ECLOSED);
        CHECK_EQ(cw_group_add(a, "bad name"), CW_EINVAL);
    }
    CHECK_EQ(groups_used(), 0);
    CHECK_EQ(members_used(), 0);
}

/* Every group from the pool: the next new one is refused and nothing
 * leaks; existing groups still take members; lookups survive freeing half
 * of them (hash chains with collisions). */
static void test_group_table_full(void)
{
    setup();
    cw_rt.opt.conn_share_pct = 100; /* a few connections fill the table here */
    static cw_conn *cs[NCONN];
    unsigned per = (CONFIG_MAX_GROUPS + NCONN - 1) / NCONN;
    for (unsigned i = 0; i < NCONN; i++) {
        cs[i] = conn_open(&rec);
        CHECK(cs[i] != NULL);
        if (!cs[i])
            return;
    }
    char name[32];
    for (unsigned g = 0; g < CONFIG_MAX_GROUPS; g++) {
        snprintf(name, sizeof name, "g%u", g);
        if (cw_group_add(cs[g / per], name) != 0) {
            CHECK_EQ(cw_group_add(cs[g / per], name), 0);
            return;
        }
    }
    CHECK_EQ(groups_used(), CONFIG_MAX_GROUPS);
    CHECK_EQ(members_used(), CONFIG_MAX_GROUPS);
    CHECK_EQ(cw_group_add(cs[0], "new.one"), CW_ENOMEM);
    CHECK_EQ(cw_group_add(cs[NCONN - 1], "new.one"), CW_ENOMEM);
    CHECK_EQ(groups_used(), CONFIG_MAX_GROUPS);
    CHECK_EQ(members_used(), CONFIG_MAX_GROUPS);
    CHECK_EQ(cw_group_send(&cw_srv, "new.one", "t", NULL, 0), 0);
    /* an existing group takes another member, when a membership is left
     * (CONFIG_MAX_MEMBERSHIPS above CONFIG_MAX_GROUPS) and g0 has room for
     * another connection */
    if (CONFIG_MAX_MEMBERSHIPS == CONFIG_MAX_GROUPS && NCONN > 1) {
        CHECK_EQ(cw_group_add(cs[NCONN - 1], "g0"), CW_ENOMEM);
    } else if (NCONN > 1) {
        CHECK_EQ(cw_group_add(cs[NCONN - 1], "g0"), 0);
        CHECK_EQ(cw_group_send(&cw_srv, "g0", "t", NULL, 0), 2);
        CHECK_EQ(cw_group_discard(cs[NCONN - 1], "g0"), 0);
    } else {
        CHECK_EQ(cw_group_add(cs[0], "g0"), 0); /* already a member: nothing taken */
        CHECK_EQ(members_used(), CONFIG_MAX_GROUPS);
    }
    /* free every other group; the rest are still found */
    for (unsigned g = 0; g < CONFIG_MAX_GROUPS; g += 2) {
        snprintf(name, sizeof name, "g%u", g);
        CHECK_EQ(cw_group_discard(cs[g / per], name), 0);
    }
    CHECK_EQ(groups_used(), CONFIG_MAX_GROUPS / 2);
    int wrong = 0;
    for (unsigned g = 0; g < CONFIG_MAX_GROUPS; g++) {
        snprintf(name, sizeof name, "g%u", g);
        wrong += cw_group_send(&cw_srv, name, "t", NULL, 0) != (g & 1 ? 1 : 0);
    }
    CHECK_EQ(wrong, 0);
    /* and new ones fit again */
    CHECK_EQ(cw_group_add(cs[0], "new.one"), 0);
    CHECK_EQ(groups_used(), CONFIG_MAX_GROUPS / 2 + 1);
    for (unsigned i = 0; i < NCONN; i++)
        cw_groups_discard_all(cs[i]);
    CHECK_EQ(groups_used(), 0);
    CHECK_EQ(members_used(), 0);
}

/* Every membership from the pool: a new group is refused without leaking
 * the group it had to create, and so is a new member of an existing one.
 * When the memberships do not fit the groups on the connections there are
 * (CONFIG_MAX_MEMBERSHIPS above CONFIG_MAX_GROUPS times NCONN), the group
 * table runs out first: that is refused, with memberships left. */
static void test_member_table_full(void)
{
    setup();
    cw_rt.opt.conn_share_pct = 100; /* a few connections fill the table here */
    static cw_conn *cs[NCONN];
    unsigned ngroups = (CONFIG_MAX_MEMBERSHIPS + NCONN - 1) / NCONN;
    for (unsigned i = 0; i < NCONN; i++) {
        cs[i] = conn_open(&rec);
        CHECK(cs[i] != NULL);
        if (!cs[i])
            return;
    }
    char name[32];
    if (ngroups > CONFIG_MAX_GROUPS) {
        for (unsigned k = 0; k < CONFIG_MAX_GROUPS * NCONN; k++) {
            snprintf(name, sizeof name, "m%u", k / NCONN);
            if (cw_group_add(cs[k % NCONN], name) != 0) {
                CHECK_EQ(cw_group_add(cs[k % NCONN], name), 0);
                return;
            }
        }
        CHECK_EQ(groups_used(), CONFIG_MAX_GROUPS);
        CHECK_EQ(members_used(), CONFIG_MAX_GROUPS * NCONN);
        CHECK(members_used() < CONFIG_MAX_MEMBERSHIPS);
        CHECK_EQ(cw_group_add(cs[0], "fresh"), CW_ENOMEM);
        CHECK_EQ(members_used(), CONFIG_MAX_GROUPS * NCONN);
        for (unsigned i = 0; i < NCONN; i++)
            cw_groups_discard_all(cs[i]);
        CHECK_EQ(groups_used(), 0);
        CHECK_EQ(members_used(), 0);
        return;
    }
    for (unsigned k = 0; k < CONFIG_MAX_MEMBERSHIPS; k++) {
        snprintf(name, sizeof name, "m%u", k / NCONN);
        if (cw_group_add(cs[k % NCONN], name) != 0) {
            CHECK_EQ(cw_group_add(cs[k % NCONN], name), 0);
            return;
        }
    }
    CHECK_EQ(members_used(), CONFIG_MAX_MEMBERSHIPS);
    unsigned g_before = groups_used();
    CHECK_EQ(g_before, ngroups);
    /* already a member: still fine, nothing needed */
    CHECK_EQ(cw_group_add(cs[0], "m0"), 0);
    /* a new group: refused, and the group it made is given back */
    CHECK_EQ(cw_group_add(cs[0], "fresh"), CW_ENOMEM);
    CHECK_EQ(groups_used(), g_before);
    CHECK_EQ(cw_group_send(&cw_srv, "fresh", "t", NULL, 0), 0);
    if (ngroups >= 2 && NCONN >= 2 && ngroups < CONFIG_MAX_GROUPS) {
        /* a new member of an existing group: refused */
        CHECK_EQ(cw_group_discard(cs[0], "m1"), 0);
        CHECK_EQ(cw_group_add(cs[1], "fresh"), 0); /* takes the freed membership */
        CHECK_EQ(groups_used(), g_before + 1);
        CHECK_EQ(cw_group_add(cs[0], "m1"), CW_ENOMEM);
        CHECK_EQ(cw_group_send(&cw_srv, "m1", "t", NULL, 0), NCONN - 1);
    } else {
        /* one group, one connection, or no group left: the membership
         * given back is taken again, and nothing past it */
        CHECK_EQ(cw_group_discard(cs[0], "m0"), 0);
        CHECK_EQ(members_used(), CONFIG_MAX_MEMBERSHIPS - 1);
        CHECK_EQ(cw_group_add(cs[0], "m0"), 0);
        CHECK_EQ(cw_group_add(cs[NCONN - 1], "fresh"), CW_ENOMEM);
    }
    CHECK_EQ(members_used(), CONFIG_MAX_MEMBERSHIPS);
    for (unsigned i = 0; i < NCONN; i++)
        cw_groups_discard_all(cs[i]);
    CHECK_EQ(groups_used(), 0);
    CHECK_EQ(members_used(), 0);
}

static void test_discard_all_on_close(void)
{
    if (!fits(__func__, 2, 4, 3, 3))
        return;
    setup();
    cw_conn *a = conn_open(&rec), *b = conn_open(&rec);
    CHECK(a && b);
    if (!a || !b)
        return;
    CHECK_EQ(cw_group_add(a, "g1"), 0);
    CHECK_EQ(cw_group_add(a, "g2"), 0);
    CHECK_EQ(cw_group_add(a, "g3"), 0);
    CHECK_EQ(cw_group_add(b, "g2"), 0);
    CHECK_EQ(members_used(), 4);
    CHECK_EQ(cw_close(a, 1000, "bye"), 0);
    CHECK_EQ(a->state, CW_ST_CLOSING);
    CHECK_EQ(ngone, 1);
    CHECK(gone[0] == a);
    CHECK_EQ(gone_code[0], 1000);
    CHECK(a->groups == NULL);
    CHECK_EQ(groups_used(), 1);
    CHECK_EQ(members_used(), 1);
    CHECK_EQ(cw_group_send(&cw_srv, "g2", "t", NULL, 0), 1);
    CHECK_EQ(cw_group_send(&cw_srv, "g1", "t", NULL, 0), 0);
    /* a closing connection cannot join again */
    CHECK_EQ(cw_group_add(a, "g1"), CW_ECLOSED);
    CHECK_EQ(groups_used(), 1);
}

/* disconnect still sees its groups (to say goodbye) and may leave them
 * itself; whatever is left is discarded after it returns. */
static int seen_groups_in_disconnect;

static void disconnect_leaves_one(cw_conn *c, int code)
{
    (void)code;
    seen_groups_in_disconnect = c->groups != NULL;
    CHECK_EQ(cw_group_discard(c, "g1"), 0);
    CHECK_EQ(cw_group_add(c, "g9"), CW_ECLOSED);
}

static void test_disconnect_sees_groups(void)
{
    if (!fits(__func__, 1, 2, 2, 2))
        return;
    setup();
    cw_conn *a = conn_open(&rec);
    CHECK(a);
    if (!a)
        return;
    CHECK_EQ(cw_group_add(a, "g1"), 0);
    CHECK_EQ(cw_group_add(a, "g2"), 0);
    on_disconnect = disconnect_leaves_one;
    seen_groups_in_disconnect = 0;
    CHECK_EQ(cw_close(a, 4000, NULL), 0);
    CHECK_EQ(seen_groups_in_disconnect, 1);
    CHECK_EQ(ngone, 1);
    CHECK_EQ(groups_used(), 0);
    CHECK_EQ(members_used(), 0);
}

/* ---- typed events ---- */

static void test_send_events(void)
{
    if (!fits(__func__, 5, 5, 1, 2))
        return;
    setup();
    cw_conn *a = conn_open(&rec), *b = conn_open(&rec), *c = conn_open(&rec);
    cw_conn *quiet = conn_open(&no_event), *other = conn_open(&rec);
    CHECK(a && b && c && quiet && other);
    if (!a || !b || !c || !quiet || !other)
        return;
    CHECK_EQ(cw_group_add(b, "room"), 0);
    CHECK_EQ(cw_group_add(a, "room"), 0);
    CHECK_EQ(cw_group_add(quiet, "room"), 0);
    CHECK_EQ(cw_group_add(c, "room"), 0);
    CHECK_EQ(cw_group_add(other, "hall"), 0);
    const char *data = "{\"message\":\"hi\"}";
    /* members without an event callback are not counted */
    CHECK_EQ(cw_group_send(&cw_srv, "room", "chat.message", data, strlen(data)), 3);
    cw_conn *order[] = {b, a, c}; /* join order */
    CHECK(events_are(0, order, 3));
    for (int i = 0; i < 3 && i < nev; i++) {
        CHECK(strcmp(evs[i].type, "chat.message") == 0);
        CHECK_EQ(evs[i].len, strlen(data));
        CHECK_MEM(evs[i].data, data, strlen(data));
    }
    CHECK_EQ(cw_rt.stats.events_out, 3);
    /* events queue nothing by themselves */
    CHECK(a->tx.head == NULL && b->tx.head == NULL);
    /* a member that is no longer open is skipped */
    c->state = CW_ST_CLOSING;
    CHECK_EQ(cw_group_send(&cw_srv, "room", "t", NULL, 0), 2);
    CHECK_EQ(nev, 5);
    CHECK_EQ(cw_group_send(&cw_srv, "nobody", "t", NULL, 0), 0);
    CHECK_EQ(nev, 5);
}

/* A fan-out over {a, b, c} where a's event callback does something. */
static cw_conn *fa, *fb, *fc, *fd;

static void three_members(void)
{
    setup();
    fa = conn_open(&rec);
    fb = conn_open(&rec);
    fc = conn_open(&rec);
    fd = conn_open(&rec);
    CHECK(fa && fb && fc && fd);
    if (!fa || !fb || !fc || !fd)
        return;
    CHECK_EQ(cw_group_add(fa, "g"), 0);
    CHECK_EQ(cw_group_add(fb, "g"), 0);
    CHECK_EQ(cw_group_add(fc, "g"), 0);
}

/* The cases on three_members: four connections, up to four memberships. */
#define THREE_FIT() fits(__func__, 4, 4, 1, 1)

static void a_closes_c(cw_conn *c, const char *type)
{
    (void)type;
    if (c == fa)
        CHECK_EQ(cw_close(fc, 4000, "bye"), 0);
}

static void test_send_member_closes_later_one(void)
{
    if (!THREE_FIT())
        return;
    three_members();
    on_event = a_closes_c;
    CHECK_EQ(cw_group_send(&cw_srv, "g", "t", NULL, 0), 2);
    cw_conn *order[] = {fa, fb};
    CHECK(events_are(0, order, 2));
    CHECK_EQ(ngone, 1);
    CHECK(gone[0] == fc);
    CHECK_EQ(gone_code[0], 4000);
    CHECK_EQ(members_used(), 2);
    /* c got its close frame, nothing else */
    uint8_t q[32];
    CHECK_EQ(queued(fc, q, sizeof q), 7);
    CHECK_MEM(q, "\x88\x05\x0f\xa0" "bye", 7);
    on_event = NULL;
    nev = 0;
    CHECK_EQ(cw_group_send(&cw_srv, "g", "t", NULL, 0), 2);
    CHECK(events_are(0, order, 2));
}

/* No I/O block for c's close frame: c is dropped at once (CLOSED, socket
 * gone, slot freed after the batch) in the middle of the fan-out. */
static void test_send_member_dropped_midway(void)
{
    if (!THREE_FIT())
        return;
    three_members();
    on_event = a_closes_c;
    cw_buf_io_pool.limit = cw_buf_io_pool.used; /* every I/O block taken */
    CHECK_EQ(cw_group_send(&cw_srv, "g", "t", NULL, 0), 2);
    cw_buf_io_pool.limit = cw_buf_io_pool.count;
    cw_conn *order[] = {fa, fb};
    CHECK(events_are(0, order, 2));
    CHECK_EQ(fc->state, CW_ST_CLOSED);
    CHECK(fc->tx.head == NULL);
    CHECK_EQ(ngone, 1);
    CHECK(gone[0] == fc);
    CHECK_EQ(gone_code[0], 4000);
    CHECK_EQ(members_used(), 2);
    CHECK_EQ(cw_group_add(fc, "g"), CW_ECLOSED);
    CHECK(fc->flags & CW_CF_DIRTY); /* to be freed after the batch */
}

static void each_closes_itself(cw_conn *c, const char *type)
{
    (void)type;
    CHECK_EQ(cw_close(c, 1000, NULL), 0);
}

static void test_send_members_close_themselves(void)
{
    if (!THREE_FIT())
        return;
    three_members();
    on_event = each_closes_itself;
    CHECK_EQ(cw_group_send(&cw_srv, "g", "t", NULL, 0), 3);
    cw_conn *order[] = {fa, fb, fc};
    CHECK(events_are(0, order, 3));
    CHECK_EQ(ngone, 3);
    CHECK_EQ(groups_used(), 0); /* freed once the fan-out ended */
    CHECK_EQ(members_used(), 0);
    uint8_t q[8];
    CHECK_EQ(queued(fb, q, sizeof q), 4);
    CHECK_MEM(q, "\x88\x02\x03\xe8", 4);
}

static void a_discards_b(cw_conn *c, const char *type)
{
    (void)type;
    if (c == fa)
        CHECK_EQ(cw_group_discard(fb, "g"), 0);
}

static void test_send_member_discards_another(void)
{
    if (!THREE_FIT())
        return;
    three_members();
    on_event = a_discards_b;
    CHECK_EQ(cw_group_send(&cw_srv, "g", "t", NULL, 0), 2);
    cw_conn *order[] = {fa, fc};
    CHECK(events_are(0, order, 2));
    CHECK_EQ(members_used(), 2);
    CHECK_EQ(ngone, 0);
    CHECK_EQ(fb->state, CW_ST_OPEN);
    CHECK_EQ(cw_group_discard(fb, "g"), CW_ENOENT);
}

static void a_leaves_and_rejoins(cw_conn *c, const char *type)
{
    (void)type;
    if (c == fa) {
        CHECK_EQ(cw_group_discard(fa, "g"), 0);
        CHECK_EQ(cw_group_add(fa, "g"), 0);
        CHECK_EQ(cw_group_add(fd, "g"), 0); /* and a newcomer */
    }
}

static void test_send_rejoin_and_newcomer_not_visited(void)
{
    if (!THREE_FIT())
        return;
    three_members();
    on_event = a_leaves_and_rejoins;
    CHECK_EQ(cw_group_send(&cw_srv, "g", "t", NULL, 0), 3);
    cw_conn *order[] = {fa, fb, fc};
    CHECK(events_are(0, order, 3));
    CHECK_EQ(members_used(), 4);
    /* the next fan-out sees the new order */
    on_event = NULL;
    nev = 0;
    CHECK_EQ(cw_group_send(&cw_srv, "g", "t", NULL, 0), 4);
    cw_conn *order2[] = {fb, fc, fa, fd};
    CHECK(events_are(0, order2, 4));
}

static void a_replaces_last(cw_conn *c, const char *type)
{
    (void)type;
    if (c == fa) {
        CHECK_EQ(cw_group_discard(fc, "g"), 0); /* the last member when it started */
        CHECK_EQ(cw_group_add(fd, "g"), 0);
    }
}

static void test_send_last_member_leaves(void)
{
    if (!THREE_FIT())
        return;
    three_members();
    on_event = a_replaces_last;
    CHECK_EQ(cw_group_send(&cw_srv, "g", "t", NULL, 0), 2);
    cw_conn *order[] = {fa, fb};
    CHECK(events_are(0, order, 2));
    CHECK_EQ(members_used(), 3);
}

static unsigned groups_inside;

static void a_empties_group(cw_conn *c, const char *type)
{
    (void)type;
    if (c == fa) {
        cw_groups_discard_all(fc);
        cw_groups_discard_all(fb);
        cw_groups_discard_all(fa);
        groups_inside = groups_used(); /* kept while the fan-out runs */
    }
}

static void test_send_group_emptied_midway(void)
{
    if (!THREE_FIT())
        return;
    three_members();
    on_event = a_empties_group;
    CHECK_EQ(cw_group_send(&cw_srv, "g", "t", NULL, 0), 1);
    CHECK_EQ(groups_inside, 1);
    CHECK_EQ(groups_used(), 0);
    CHECK_EQ(members_used(), 0);
    CHECK_EQ(cw_group_send(&cw_srv, "g", "t", NULL, 0), 0);
    /* the name can be used again */
    on_event = NULL;
    CHECK_EQ(cw_group_add(fb, "g"), 0);
    nev = 0;
    CHECK_EQ(cw_group_send(&cw_srv, "g", "t", NULL, 0), 1);
    CHECK(nev == 1 && evs[0].c == fb);
}

static void a_closes_group(cw_conn *c, const char *type)
{
    (void)type;
    if (c == fa)
        CHECK_EQ(cw_group_close(&cw_srv, "g", 4001, "closed"), 3);
}

static void test_send_group_closed_midway(void)
{
    if (!THREE_FIT())
        return;
    three_members();
    on_event = a_closes_group;
    CHECK_EQ(cw_group_send(&cw_srv, "g", "t", NULL, 0), 1);
    cw_conn *order[] = {fa};
    CHECK(events_are(0, order, 1));
    CHECK_EQ(ngone, 3);
    CHECK(gone[0] == fa && gone[1] == fb && gone[2] == fc);
    CHECK(gone_code[0] == 4001 && gone_code[1] == 4001 && gone_code[2] == 4001);
    CHECK_EQ(groups_used(), 0);
    CHECK_EQ(members_used(), 0);
}

/* An event handler that sends to its own group again, forever: bounded. */
static int last_nested_rc;

static void resend(cw_conn *c, const char *type)
{
    (void)c;
    last_nested_rc = cw_group_send(&cw_srv, "g", type, NULL, 0);
}

static void test_nested_send_bounded(void)
{
    if (!fits(__func__, 1, 1, 1, 1))
        return;
    setup();
    cw_conn *a = conn_open(&rec);
    CHECK(a);
    if (!a)
        return;
    CHECK_EQ(cw_group_add(a, "g"), 0);
    on_event = resend;
    CHECK_EQ(cw_group_send(&cw_srv, "g", "again", NULL, 0), 1);
    CHECK_EQ(nev, 8); /* MAX_NESTING levels, then refused */
    CHECK_EQ(last_nested_rc, 1);
    CHECK_EQ(members_used(), 1);
    /* the depth is given back: the next send works the same */
    nev = 0;
    CHECK_EQ(cw_group_send(&cw_srv, "g", "again", NULL, 0), 1);
    CHECK_EQ(nev, 8);
}

static int innermost_rc;
static int depth_now;

static void resend_track(cw_conn *c, const char *type)
{
    (void)c;
    depth_now++;
    int rc = cw_group_send(&cw_srv, "g", type, NULL, 0);
    if (rc < 0)
        innermost_rc = rc;
    depth_now--;
}

static void test_nested_send_refused_depth(void)
{
    if (!fits(__func__, 1, 1, 1, 1))
        return;
    setup();
    cw_conn *a = conn_open(&rec);
    CHECK(a);
    if (!a)
        return;
    CHECK_EQ(cw_group_add(a, "g"), 0);
    on_event = resend_track;
    innermost_rc = 0;
    CHECK_EQ(cw_group_send(&cw_srv, "g", "again", NULL, 0), 1);
    CHECK_EQ(innermost_rc, CW_EINVAL);
    CHECK_EQ(depth_now, 0);
}

/* Two groups sending to each other: each group's depth is bounded. */
static void ping_pong(cw_conn *c, const char *type)
{
    (void)c;
    cw_group_send(&cw_srv, strcmp(type, "to.g1") == 0 ? "g2" : "g1",
                  strcmp(type, "to.g1") == 0 ? "to.g2" : "to.g1", NULL, 0);
}

static void test_nested_ping_pong(void)
{
    if (!fits(__func__, 1, 2, 2, 2))
        return;
    setup();
    cw_conn *a = conn_open(&rec);
    CHECK(a);
    if (!a)
        return;
    CHECK_EQ(cw_group_add(a, "g1"), 0);
    CHECK_EQ(cw_group_add(a, "g2"), 0);
    on_event = ping_pong;
    CHECK_EQ(cw_group_send(&cw_srv, "g1", "to.g1", NULL, 0), 1);
    CHECK_EQ(nev, 16);
}

/* ---- broadcasts ---- */

static void test_broadcast_one_frame(void)
{
    if (!fits(__func__, 4, 4, 1, 2))
        return;
    setup();
    cw_conn *a = conn_open(&rec), *b = conn_open(&rec), *c = conn_open(&no_event);
    cw_conn *d = conn_open(&rec);
    CHECK(a && b && c && d);
    if (!a || !b || !c || !d)
        return;
    cw_group_add(a, "g");
    cw_group_add(b, "g");
    cw_group_add(c, "g");
    cw_group_add(d, "h");
    CHECK_EQ(cw_group_broadcast(&cw_srv, "g", "hello", 5), 3);
    /* one encoded frame, referenced by every member's queue */
    CHECK(a->tx.head && a->tx.head->shared);
    if (!a->tx.head || !a->tx.head->shared || !b->tx.head || !c->tx.head)
        return;
    cw_txq_shared *sh = a->tx.head->shared;
    CHECK(b->tx.head->shared == sh);
    CHECK(c->tx.head->shared == sh);
    CHECK_EQ(sh->refs, 3);
    CHECK_EQ(sh->len, 7);
    CHECK_MEM(sh->data, "\x81\x05hello", 7);
    CHECK(d->tx.head == NULL);
    CHECK_EQ(cw_buf_io_pool.used, 1);
    CHECK_EQ(cw_txq_ref_pool.used, 3);
    CHECK_EQ(cw_rt.stats.msgs_out, 3);
    CHECK_EQ(nev, 0); /* a broadcast runs no consumer code */
    /* binary, and an empty text */
    CHECK_EQ(cw_group_broadcast_binary(&cw_srv, "g", "\x00\xff", 2), 3);
    CHECK_EQ(cw_group_broadcast(&cw_srv, "g", "", 0), 3);
    uint8_t q[32];
    CHECK_EQ(queued(b, q, sizeof q), 7 + 4 + 2);
    CHECK_MEM(q, "\x81\x05hello\x82\x02\x00\xff\x81\x00", 13);
    /* the three small frames share one block (a pack), given back when
     * the last queue lets go of its last frame */
    cw_txq_clear(&a->tx);
    cw_txq_clear(&b->tx);
    CHECK_EQ(cw_buf_io_pool.used, 1);
    cw_txq_clear(&c->tx);
    CHECK_EQ(cw_buf_io_pool.used, 0);
    CHECK_EQ(cw_txq_ref_pool.used, 0);
}

/* Event handlers that send the body on unchanged share one encoded frame;
 * a handler that sends its own copy gets its own bytes. */
static int forward_rc[8], nforward;

static void forward_cb(cw_conn *c, const char *type, const uint8_t *data, size_t len)
{
    (void)type;
    forward_rc[nforward++ & 7] = cw_send_text(c, (const char *)data, len);
}

static void copy_cb(cw_conn *c, const char *type, const uint8_t *data, size_t len)
{
    char copy[64];
    (void)type;
    memcpy(copy, data, len);
    cw_send_text(c, copy, len);
}

static const cw_consumer forwarder = {NULL, NULL, forward_cb, NULL, NULL};
static const cw_consumer copier = {NULL, NULL, copy_cb, NULL, NULL};

static void test_send_forwarded_body_shared(void)
{
    if (!fits(__func__, 3, 3, 1, 1))
        return;
    setup();
    nforward = 0;
    cw_conn *a = conn_open(&forwarder), *b = conn_open(&forwarder), *c = conn_open(&copier);
    CHECK(a && b && c);
    if (!a || !b || !c)
        return;
    cw_group_add(a, "room");
    cw_group_add(b, "room");
    cw_group_add(c, "room");
    const char *body = "{\"message\":\"hi\"}";
    CHECK_EQ(cw_group_send(&cw_srv, "room", "chat.message", body, strlen(body)), 3);
    CHECK(a->tx.head && a->tx.head->shared && b->tx.head && b->tx.head->shared);
    if (!a->tx.head || !a->tx.head->shared || !b->tx.head || !c->tx.head)
        return;
    cw_txq_shared *sh = a->tx.head->shared;
    CHECK(b->tx.head->shared == sh);
    CHECK_EQ(sh->refs, 2); /* the fan-out's own reference is gone */
    CHECK_EQ(sh->len, 2 + strlen(body));
    CHECK_MEM(sh->data + 2, body, strlen(body));
    CHECK(c->tx.head->shared == NULL); /* the copy went into c's own block */
    uint8_t q[64];
    CHECK_EQ(queued(c, q, sizeof q), 2 + strlen(body));
    CHECK_MEM(q + 2, body, strlen(body));
    CHECK_EQ(forward_rc[0], 0);
    CHECK_EQ(forward_rc[1], 0);
    /* a body that is not UTF-8 fails for every forwarder, and queues nothing */
    cw_txq_clear(&a->tx);
    cw_txq_clear(&b->tx);
    cw_txq_clear(&c->tx);
    nforward = 0;
    CHECK_EQ(cw_group_send(&cw_srv, "room", "t", "\xff", 1), 3);
    CHECK_EQ(forward_rc[0], CW_EINVAL);
    CHECK_EQ(forward_rc[1], CW_EINVAL);
    CHECK(a->tx.head == NULL && b->tx.head == NULL);
    cw_txq_clear(&c->tx);
    CHECK_EQ(cw_buf_io_pool.used, 0);
    CHECK_EQ(cw_txq_ref_pool.used, 0);
}

/* With every queue reference taken, a broadcast and a forwarded body are
 * copied into each member's own blocks instead: nobody is closed. */
static void test_broadcast_refs_exhausted_copies(void)
{
    if (!fits(__func__, 2, 2, 1, 1))
        return;
    setup();
    nforward = 0;
    cw_conn *a = conn_open(&rec), *b = conn_open(&forwarder);
    CHECK(a && b);
    if (!a || !b)
        return;
    cw_group_add(a, "g");
    cw_group_add(b, "g");
    static void *held[CONFIG_TX_REFS];
    unsigned n = 0;
    while (n < CONFIG_TX_REFS && (held[n] = cw_pool_get(&cw_txq_ref_pool)) != NULL)
        n++;
    CHECK(cw_pool_get(&cw_txq_ref_pool) == NULL);
    CHECK_EQ(cw_group_broadcast(&cw_srv, "g", "hello", 5), 2);
    CHECK_EQ(cw_group_send(&cw_srv, "g", "chat.message", "{}", 2), 2);
    CHECK_EQ(forward_rc[0], 0);
    CHECK(a->state == CW_ST_OPEN && b->state == CW_ST_OPEN);
    uint8_t q[64];
    CHECK_EQ(queued(a, q, sizeof q), 7);
    CHECK_MEM(q, "\x81\x05hello", 7);
    CHECK_EQ(queued(b, q, sizeof q), 7 + 4);
    CHECK_MEM(q, "\x81\x05hello\x81\x02{}", 11);
    while (n > 0)
        cw_pool_put(&cw_txq_ref_pool, held[--n]);
    cw_txq_clear(&a->tx);
    cw_txq_clear(&b->tx);
    CHECK_EQ(cw_buf_io_pool.used, 0);
    CHECK_EQ(cw_txq_ref_pool.used, 0);
}

static void test_broadcast_refusals(void)
{
    if (!fits(__func__, 1, 1, 1, 1))
        return;
    setup();
    cw_conn *a = conn_open(&rec);
    CHECK(a);
    if (!a)
        return;
    cw_group_add(a, "g");
    CHECK_EQ(cw_group_broadcast(&cw_srv, "g", "\xc3", 1), CW_EINVAL); /* not UTF-8 */
    CHECK_EQ(cw_group_broadcast(&cw_srv, "g", "a\xed\xa0\x80", 4), CW_EINVAL);
    CHECK_EQ(cw_group_broadcast_binary(&cw_srv, "g", "\xc3", 1), 1); /* binary is anything */
    cw_txq_clear(&a->tx);
    /* no group: nothing encoded, no buffer taken */
    CHECK_EQ(cw_group_broadcast(&cw_srv, "nobody", "x", 1), 0);
    CHECK_EQ(cw_buf_io_pool.used, 0);
    /* larger than a send queue may ever hold */
    cw_rt.opt.sendq_max = 2048;
    static char big[2049];
    memset(big, 'b', sizeof big);
    CHECK_EQ(cw_group_broadcast(&cw_srv, "g", big, 2049), CW_ETOOBIG);
    CHECK_EQ(cw_group_broadcast(&cw_srv, "g", big, 2048), 1);
    CHECK(a->tx.head && a->tx.head->shared && a->tx.head->shared->len == 2048 + 4);
    CHECK_EQ(a->state, CW_ST_OPEN);
}

#if defined(CONFIG_FAIR_SHARES)
/* One connection holds at most its share (conn_share_pct) of the smaller
 * group table: it cannot fill the tables for the others. */
static void test_membership_share_per_connection(void)
{
#if CONFIG_MAX_GROUPS <= 8 || CONFIG_MAX_MEMBERSHIPS < 8
    {
        /* Tables smaller than the case's 8: the same rule on them. */
        setup();
        cw_rt.opt.conn_share_pct = 25;
        cw_conn *a = conn_open(&rec);
        CHECK(a);
        if (!a)
            return;
        unsigned tables = CONFIG_MAX_GROUPS < CONFIG_MAX_MEMBERSHIPS ? CONFIG_MAX_GROUPS
                                                                     : CONFIG_MAX_MEMBERSHIPS;
        unsigned share = tables * 25 / 100 ? tables * 25 / 100 : 1;
        char name[16];
        for (unsigned k = 0; k < share; k++) {
            snprintf(name, sizeof name, "s%u", k);
            CHECK_EQ(cw_group_add(a, name), 0);
        }
        unsigned long refused = cw_rt.stats.share_refusals;
        CHECK_EQ(cw_group_add(a, "new.one"), CW_ENOMEM);
        CHECK_EQ(cw_rt.stats.share_refusals, refused + 1);
        CHECK_EQ(members_used(), share);
        return;
    }
#endif
    if (!fits(__func__, 2, 5, 2, 3))
        return;
    setup();
    cw_groups_set_limits(8, 100);
    cw_rt.opt.conn_share_pct = 25; /* of 8 groups: 2 memberships */
    cw_conn *a = conn_open(&rec), *b = conn_open(&rec);
    CHECK(a && b);
    if (!a || !b)
        return;
    unsigned long refused = cw_rt.stats.share_refusals;
    CHECK_EQ(cw_group_add(a, "g1"), 0);
    CHECK_EQ(cw_group_add(a, "g2"), 0);
    CHECK_EQ(cw_group_add(a, "g2"), 0); /* already a member: no new share */
    CHECK_EQ(cw_group_add(a, "g3"), CW_ENOMEM);
    CHECK_EQ(cw_rt.stats.share_refusals, refused + 1);
    CHECK_EQ(groups_used(), 2);
    CHECK_EQ(cw_group_add(b, "g3"), 0); /* the others still can */
    CHECK_EQ(cw_group_add(b, "g1"), 0);
    CHECK_EQ(cw_group_discard(a, "g1"), 0); /* leaving frees a's share */
    CHECK_EQ(cw_group_add(a, "g3"), 0);
}
#endif

/* A member whose queue is over its bound gets the overflow policy (1008)
 * and leaves the group; the others get the frame. */
static void test_broadcast_slow_member(void)
{
    if (!fits(__func__, 3, 3, 1, 1))
        return;
    setup();
    cw_rt.opt.sendq_max = 1024;
    cw_conn *a = conn_open(&rec), *slow = conn_open(&rec), *c = conn_open(&rec);
    CHECK(a && slow && c);
    if (!a || !slow || !c)
        return;
    cw_group_add(a, "g");
    cw_group_add(slow, "g");
    cw_group_add(c, "g");
    static char pile[1000];
    memset(pile, 'p', sizeof pile);
    CHECK_EQ(cw_send_text(slow, pile, sizeof pile), 0);
    static char msg[100];
    memset(msg, 'm', sizeof msg);
    CHECK_EQ(cw_group_broadcast(&cw_srv, "g", msg, sizeof msg), 2);
    CHECK_EQ(cw_rt.stats.sendq_overflows, 1);
#if !defined(CONFIG_SENDQ_DROP)
    CHECK_EQ(slow->state, CW_ST_CLOSING);
    CHECK_EQ(ngone, 1);
    CHECK(gone[0] == slow);
    CHECK_EQ(gone_code[0], CW_CLOSE_POLICY);
    CHECK_EQ(members_used(), 2);
#endif
    CHECK(a->tx.head && a->tx.head->shared);
    CHECK(c->tx.head && c->tx.head->shared);
    CHECK(a->tx.head && c->tx.head && a->tx.head->shared == c->tx.head->shared);
    CHECK(a->tx.head && a->tx.head->shared->refs == 2);
}

/* ---- closing a group ---- */

static void test_group_close(void)
{
    if (!fits(__func__, 4, 5, 2, 2))
        return;
    setup();
    cw_conn *a = conn_open(&rec), *b = conn_open(&rec), *c = conn_open(&no_event);
    cw_conn *d = conn_open(&rec);
    CHECK(a && b && c && d);
    if (!a || !b || !c || !d)
        return;
    cw_group_add(a, "users");
    cw_group_add(b, "users");
    cw_group_add(c, "users");
    cw_group_add(b, "other");
    cw_group_add(d, "other");
    CHECK_EQ(cw_group_close(&cw_srv, "users", 4000, "session ended"), 3);
    CHECK_EQ(ngone, 3);
    CHECK(gone[0] == a && gone[1] == b && gone[2] == c);
    CHECK(gone_code[0] == 4000 && gone_code[1] == 4000 && gone_code[2] == 4000);
    CHECK_EQ(a->state, CW_ST_CLOSING);
    CHECK_EQ(d->state, CW_ST_OPEN);
    uint8_t q[40];
    CHECK_EQ(queued(c, q, sizeof q), 2 + 2 + 13);
    CHECK_MEM(q, "\x88\x0f\x0f\xa0session ended", 17);
    /* every membership of the closed members went, other groups too */
    CHECK_EQ(members_used(), 1);
    CHECK_EQ(groups_used(), 1);
    CHECK_EQ(cw_group_send(&cw_srv, "other", "t", NULL, 0), 1);
    /* a second close finds nobody */
    CHECK_EQ(cw_group_close(&cw_srv, "users", 4000, NULL), 0);
    /* without a reason: the code alone */
    CHECK_EQ(cw_group_close(&cw_srv, "other", 1001, NULL), 1);
    CHECK_EQ(queued(d, q, sizeof q), 4);
    CHECK_MEM(q, "\x88\x02\x03\xe9", 4);
}

static void test_group_close_arguments(void)
{
    if (!fits(__func__, 1, 1, 1, 1))
        return;
    setup();
    cw_conn *a = conn_open(&rec);
    CHECK(a);
    if (!a)
        return;
    cw_group_add(a, "g");
    static const int bad_codes[] = {-1, 0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000};
    for (size_t i = 0; i < sizeof bad_codes / sizeof bad_codes[0]; i++)
        CHECK_EQ(cw_group_close(&cw_srv, "g", bad_codes[i], NULL), CW_EINVAL);
    char reason[130];
    memset(reason, 'r', sizeof reason);
    reason[124] = 0;
    CHECK_EQ(cw_group_close(&cw_srv, "g", 1000, reason), CW_EINVAL); /* 124 bytes */
    CHECK_EQ(cw_group_close(&cw_srv, "g", 1000, "\xff"), CW_EINVAL);
    CHECK_EQ(ngone, 0);
    CHECK_EQ(a->state, CW_ST_OPEN);
    reason[123] = 0;
    CHECK_EQ(cw_group_close(&cw_srv, "g", 4999, reason), 1);
    uint8_t q[140];
    CHECK_EQ(queued(a, q, sizeof q), 2 + 125);
    CHECK_MEM(q, "\x88\x7d\x13\x87", 4);
}

/* The presence pattern: each member's disconnect tells the group that it
 * left, while the group is being closed. Members already closing are not
 * told; nobody is told twice. */
static void say_left(cw_conn *c, int code)
{
    (void)code;
    char who[8];
    snprintf(who, sizeof who, "%c", c == fa ? 'a' : c == fb ? 'b' : c == fc ? 'c' : '?');
    cw_group_send(&cw_srv, "g", "user.left", who, 1);
}

static void test_group_close_presence(void)
{
    if (!THREE_FIT())
        return;
    three_members();
    on_disconnect = say_left;
    CHECK_EQ(cw_group_close(&cw_srv, "g", 4003, NULL), 3);
    CHECK_EQ(nev, 3);
    if (nev == 3) {
        CHECK(evs[0].c == fb && evs[0].data[0] == 'a');
        CHECK(evs[1].c == fc && evs[1].data[0] == 'a');
        CHECK(evs[2].c == fc && evs[2].data[0] == 'b');
    }
    CHECK_EQ(ngone, 3);
    CHECK_EQ(groups_used(), 0);
    CHECK_EQ(members_used(), 0);
}

/* Closes cascade: while the group is being closed, a's disconnect closes
 * b directly; the group close then skips b (one close frame, one
 * disconnect each). */
static void a_takes_b_along(cw_conn *c, int code)
{
    (void)code;
    if (c == fa)
        CHECK_EQ(cw_close(fb, 4004, NULL), 0);
}

static void test_group_close_cascade(void)
{
    if (!THREE_FIT())
        return;
    three_members();
    on_disconnect = a_takes_b_along;
    CHECK_EQ(cw_group_close(&cw_srv, "g", 4000, NULL), 2); /* a and c; b was closed by a */
    CHECK_EQ(ngone, 3);
    CHECK(gone[0] == fa && gone[1] == fb && gone[2] == fc);
    CHECK(gone_code[0] == 4000 && gone_code[1] == 4004 && gone_code[2] == 4000);
    uint8_t q[16];
    CHECK_EQ(queued(fb, q, sizeof q), 4); /* one close frame only */
    CHECK_MEM(q, "\x88\x02\x0f\xa4", 4);
    CHECK_EQ(members_used(), 0);
}

/* ---- a consumer's listed groups (cw_consumer.groups) ---- */

static const char *const two_groups[] = {"status", "alerts", NULL};
static const cw_consumer listed = {NULL, NULL, ev_cb, disc_cb, two_groups};
static const char *const bad_name[] = {"ok", "not ok", NULL};
static const cw_consumer listed_bad = {NULL, NULL, ev_cb, disc_cb, bad_name};
static const char *const too_many[CW_CONSUMER_GROUPS_MAX + 2] = {
    "g0", "g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8",
    "g9", "g10", "g11", "g12", "g13", "g14", "g15", "g16", NULL};
static const cw_consumer listed_many = {NULL, NULL, ev_cb, disc_cb, too_many};

static void listed_groups_joined(void)
{
    setup();
    cw_conn *a = conn_open(&listed), *b = conn_open(&listed_bad), *c = conn_open(&listed_many);
    cw_conn *n = conn_open(&rec);
    CHECK(a && b && c && n);
    if (!a || !b || !c || !n)
        return;
    /* Joined in order; the same call again changes nothing. */
    CHECK_EQ(cw_groups_join_listed(a), 0);
    CHECK_EQ(groups_used(), 2);
    CHECK_EQ(cw_groups_join_listed(a), 0);
    CHECK_EQ(members_used(), 2);
    CHECK_EQ(cw_group_send(&cw_srv, "alerts", "t", "{}", 2), 1);
    CHECK_EQ(cw_group_send(&cw_srv, "status", "t", "{}", 2), 1);
    /* No list: nothing to join. */
    CHECK_EQ(cw_groups_join_listed(n), 0);
    CHECK_EQ(members_used(), 2);
    /* A bad name: 500 (a programming error); what was joined before it
     * goes when the refusal drops the connection's memberships. */
    CHECK_EQ(cw_groups_join_listed(b), 500);
    CHECK_EQ(members_used(), 3);
    cw_groups_discard_all(b);
    CHECK_EQ(members_used(), 2);
    /* More than CW_CONSUMER_GROUPS_MAX names: 500 too. */
    CHECK_EQ(cw_groups_join_listed(c), 500);
    CHECK_EQ(members_used(), 2 + CW_CONSUMER_GROUPS_MAX);
    cw_groups_discard_all(c);
    /* Left on close, with every other membership. */
    cw_conn_close_all(1001, "bye");
    CHECK_EQ(members_used(), 0);
    CHECK_EQ(groups_used(), 0);
}

static void test_listed_groups(void)
{
    if (fits(__func__, 4, 2 + CW_CONSUMER_GROUPS_MAX, CW_CONSUMER_GROUPS_MAX,
             2 + CW_CONSUMER_GROUPS_MAX))
        listed_groups_joined();
    /* A full table: 503, the client may try again. */
    setup();
    cw_groups_set_limits(1, 0);
    cw_conn *d = conn_open(&listed);
    CHECK(d);
    if (!d)
        return;
    CHECK_EQ(cw_groups_join_listed(d), 503);
    cw_groups_discard_all(d);
    CHECK_EQ(groups_used(), 0);
}

#if defined(CONFIG_JSON)
static void json_forward_cb(cw_conn *c, const char *type, const uint8_t *data, size_t len)
{
    CHECK_EQ(cw_send_event_json(c, type, data, len), 0);
}

static const cw_consumer json_forwarder = {NULL, NULL, json_forward_cb, NULL, NULL};

/* cw_send_event_json: the type in front of the body's keys, one frame. */
static void test_send_event_json(void)
{
    setup();
    cw_conn *a = conn_open(&rec);
    CHECK(a);
    if (!a)
        return;
    static const struct {
        const char *body, *want;
    } cases[] = {
        {"{\"v\":1}", "{\"type\":\"sensor.reading\",\"v\":1}"},
        {" { \"v\" : [1] } ", "{\"type\":\"sensor.reading\", \"v\" : [1] } "},
        {"{}", "{\"type\":\"sensor.reading\"}"},
        {"{ }", "{\"type\":\"sensor.reading\" }"},
        {"{\"type\":\"own\",\"v\":2}", "{\"type\":\"own\",\"v\":2}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cw_txq_clear(&a->tx);
        CHECK_EQ(cw_send_event_json(a, "sensor.reading", cases[i].body, strlen(cases[i].body)), 0);
        uint8_t q[128];
        size_t n = queued(a, q, sizeof q), wl = strlen(cases[i].want);
        CHECK_EQ(n, 2 + wl);
        CHECK_EQ(q[0], 0x81);
        CHECK_EQ(q[1], wl);
        CHECK_MEM(q + 2, cases[i].want, wl);
    }
    cw_txq_clear(&a->tx);
    /* Not an object, or not an event type: CW_EINVAL, nothing queued. */
    const char *bad[] = {"[1]", "\"x\"", "{", "", "{\"a\":1}x", "\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(cw_send_event_json(a, "t", bad[i], strlen(bad[i])), CW_EINVAL);
    char longest[66];
    memset(longest, 'a', 65);
    longest[65] = 0; /* 65 bytes: one too many */
    const char *types[] = {"", "a b", "a\"", "\xc3\xa9", longest};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        CHECK_EQ(cw_send_event_json(a, types[i], "{}", 2), CW_EINVAL);
    CHECK(a->tx.head == NULL);
    longest[64] = 0;
    CHECK_EQ(cw_send_event_json(a, longest, "{}", 2), 0);
    cw_txq_clear(&a->tx);
    /* cw_send_json: the writer's text, or its error with nothing sent. */
    char buf[32];
    cw_json_w w;
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_object(&w);
    cw_json_w_key(&w, "ok");
    cw_json_w_bool(&w, 1);
    cw_json_w_end(&w);
    CHECK_EQ(cw_send_json(a, &w), 0);
    uint8_t q[64];
    CHECK_EQ(queued(a, q, sizeof q), 2 + 11);
    CHECK_MEM(q + 2, "{\"ok\":true}", 11);
    cw_txq_clear(&a->tx);
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_object(&w);
    CHECK_EQ(cw_send_json(a, &w), CW_EINVAL);
    cw_json_w_init(&w, buf, 4);
    cw_json_w_cstr(&w, "too long for four bytes");
    CHECK_EQ(cw_send_json(a, &w), CW_ETOOBIG);
    CHECK(a->tx.head == NULL);
    CHECK_EQ(cw_buf_io_pool.used, 0);
    /* In a fan-out, members that forward the event this way share one
     * frame, as cw_send_text of the unchanged body does. */
    cw_conn *b = conn_open(&json_forwarder), *e = conn_open(&json_forwarder);
    if (NCONN < 3) {
        CHECK(CONFIG_HTTP_BUFS > CONFIG_MAX_CONNS || !e); /* no request buffer left */
        return;
    }
    CHECK(b && e);
    if (!b || !e)
        return;
    CHECK_EQ(cw_group_add(b, "room"), 0);
    if (CONFIG_MAX_MEMBERSHIPS < 2) {
        CHECK_EQ(cw_group_add(e, "room"), CW_ENOMEM); /* the table is full */
        return;
    }
    CHECK_EQ(cw_group_add(e, "room"), 0);
    const char *body = "{\"v\":1}", *want = "{\"type\":\"x.y\",\"v\":1}";
    CHECK_EQ(cw_group_send(&cw_srv, "room", "x.y", body, strlen(body)), 2);
    CHECK(b->tx.head && b->tx.head->shared && e->tx.head && b->tx.head->shared == e->tx.head->shared);
    if (b->tx.head && b->tx.head->shared) {
        cw_txq_shared *sh = b->tx.head->shared;
        CHECK_EQ(sh->refs, 2); /* the fan-out's own reference is gone */
        CHECK_EQ(sh->len, 2 + strlen(want));
        CHECK_MEM(sh->data + 2, want, strlen(want));
    }
    cw_txq_clear(&b->tx);
    cw_txq_clear(&e->tx);
    CHECK_EQ(cw_txq_ref_pool.used, 0);
    CHECK_EQ(cw_buf_io_pool.used, 0);
    /* A closing connection: CW_ECLOSED. */
    cw_conn_close_all(1001, "bye");
    CHECK_EQ(cw_send_event_json(a, "t", "{}", 2), CW_ECLOSED);
}
#endif

int main(void)
{
    RUN(test_listed_groups);
#if defined(CONFIG_JSON)
    RUN(test_send_event_json);
#endif
    RUN(test_add_discard);
    RUN(test_send_forwarded_body_shared);
    RUN(test_names);
    RUN(test_add_when_not_open);
    RUN(test_group_table_full);
    RUN(test_member_table_full);
    RUN(test_discard_all_on_close);
    RUN(test_disconnect_sees_groups);
    RUN(test_send_events);
    RUN(test_send_member_closes_later_one);
    RUN(test_send_member_dropped_midway);
    RUN(test_send_members_close_themselves);
    RUN(test_send_member_discards_another);
    RUN(test_send_rejoin_and_newcomer_not_visited);
    RUN(test_send_last_member_leaves);
    RUN(test_send_group_emptied_midway);
    RUN(test_send_group_closed_midway);
    RUN(test_nested_send_bounded);
    RUN(test_nested_send_refused_depth);
    RUN(test_nested_ping_pong);
    RUN(test_broadcast_one_frame);
    RUN(test_broadcast_refs_exhausted_copies);
    RUN(test_broadcast_refusals);
    RUN(test_broadcast_slow_member);
#if defined(CONFIG_FAIR_SHARES)
    RUN(test_membership_share_per_connection);
#endif
    RUN(test_group_close);
    RUN(test_group_close_arguments);
    RUN(test_group_close_presence);
    RUN(test_group_close_cascade);
    return cw_unit_done();
}
