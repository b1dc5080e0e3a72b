/* SPDX-License-Identifier: MIT */
/* test_app_timer.c: the application's timers (cw_timer_*) on a fake clock
 * and a fake poller, as test_timer.c does for the wheel: this file defines
 * cw_port_now_ms and the cw_port_poller_* calls, so time moves only when a
 * case says so and the wait the reactor would make is visible. Millisecond
 * deadlines, periodic timers without drift, missed periods skipped, stop
 * and re-arm from callbacks, timers tied to a connection. */
#include "chanwire.h"
#include "core/conn.h"
#include "core/reactor.h"
#include "core/runtime.h"
#include "cw_config.h"
#include "port.h"
#include "unit.h"

#include <string.h>

static uint64_t fake_now;

uint64_t cw_port_now_ms(void)
{
    return fake_now;
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
    (void)udata;
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
    (void)fd;
}

int cw_port_poller_wait(cw_port_event *ev, int max, int timeout_ms)
{
    (void)ev;
    (void)max;
    (void)timeout_ms;
    return 0;
}

static struct { int dummy; } server_stub;
#define S ((cw_server *)(void *)&server_stub)

/* A timer with a record of its callbacks and what to do in them. */
typedef struct {
    cw_timer t;
    int id, fired;
    uint64_t at[16];
    int stop_self, rearm_zero, restart_ms;
    cw_timer *stop_other;
    cw_conn *close_conn;
} xt;

static int order[64], norder;

static void on_fire(cw_timer *t, void *arg)
{
    xt *x = arg;
    CHECK(t == &x->t);
    if (x->fired < 16)
        x->at[x->fired] = cw_port_now_ms();
    x->fired++;
    if (norder < 64)
        order[norder++] = x->id;
    if (x->stop_other)
        cw_timer_stop(x->stop_other);
    if (x->close_conn)
        cw_app_timers_conn_closed(x->close_conn);
    if (x->stop_self)
        cw_timer_stop(t);
    if (x->rearm_zero > 0) {
        x->rearm_zero--;
        CHECK_EQ(cw_timer_start(S, t, 0, 0), 0);
    }
    if (x->restart_ms)
        CHECK_EQ(cw_timer_start(S, t, (uint32_t)x->restart_ms, 0), 0);
}

static void xinit(xt *x, int id)
{
    memset(x, 0, sizeof *x);
    x->id = id;
    cw_timer_init(&x->t, on_fire, x);
}

static void start(uint64_t now)
{
    fake_now = now;
    norder = 0;
    CHECK(cw_reactor_init(16) >= 0);
}

static void run_at(uint64_t to)
{
    fake_now = to;
    CHECK_EQ(cw_reactor_run_once(0), 0);
}

/* The wait the loop would make now, without running an iteration. */
static int wait_now(void)
{
    return cw_reactor_timeout();
}

static void test_one_shot_to_the_millisecond(void)
{
    const uint64_t t0 = 1000003; /* not on a wheel tick */
    start(t0);
    xt a;
    xinit(&a, 1);
    CHECK(!cw_timer_active(&a.t));
    CHECK_EQ(cw_timer_start(S, &a.t, 7, 0), 0);
    CHECK(cw_timer_active(&a.t));
    CHECK_EQ(wait_now(), 7);
    run_at(t0 + 6);
    CHECK_EQ(a.fired, 0);
    CHECK_EQ(wait_now(), 1);
    run_at(t0 + 7);
    CHECK_EQ(a.fired, 1);
    CHECK_EQ(a.at[0], t0 + 7);
    CHECK(!cw_timer_active(&a.t));
    CHECK_EQ(wait_now(), -1);
    run_at(t0 + 1000);
    CHECK_EQ(a.fired, 1);
    cw_reactor_fini();
}

static void test_periodic_without_drift(void)
{
    const uint64_t t0 = 5000001;
    start(t0);
    xt a;
    xinit(&a, 1);
    CHECK_EQ(cw_timer_start(S, &a.t, 10, 10), 0);
    run_at(t0 + 10);
    run_at(t0 + 23); /* 3 ms late */
    CHECK_EQ(a.fired, 2);
    /* the next deadline is t0 + 30, from the previous deadline, not from now */
    CHECK_EQ(wait_now(), 7);
    run_at(t0 + 30);
    CHECK_EQ(a.fired, 3);
    CHECK_EQ(a.at[2], t0 + 30);
    CHECK(cw_timer_active(&a.t));
    /* 65 ms late: one callback, the periods missed are skipped, the grid kept */
    run_at(t0 + 105);
    CHECK_EQ(a.fired, 4);
    CHECK_EQ(wait_now(), 5); /* t0 + 110 */
    run_at(t0 + 110);
    CHECK_EQ(a.fired, 5);
    cw_timer_stop(&a.t);
    CHECK(!cw_timer_active(&a.t));
    run_at(t0 + 200);
    CHECK_EQ(a.fired, 5);
    cw_reactor_fini();
}

static void test_order_and_restart(void)
{
    const uint64_t t0 = 7000000;
    start(t0);
    xt x[8];
    static const uint32_t d[8] = {30, 5, 17, 5, 1, 29, 30, 2};
    for (int i = 0; i < 8; i++) {
        xinit(&x[i], i);
        CHECK_EQ(cw_timer_start(S, &x[i].t, d[i], 0), 0);
    }
    /* re-arming an armed timer restarts it: x[0] now due at 40 */
    CHECK_EQ(cw_timer_start(S, &x[0].t, 40, 0), 0);
    run_at(t0 + 35);
    static const int want[7] = {4, 7, 1, 3, 2, 5, 6};
    CHECK_EQ(norder, 7);
    for (int i = 0; i < 7; i++)
        CHECK_EQ(order[i], want[i]);
    CHECK_EQ(x[0].fired, 0);
    run_at(t0 + 40);
    CHECK_EQ(x[0].fired, 1);
    cw_reactor_fini();
}

static void test_from_callbacks(void)
{
    const uint64_t t0 = 9000000;
    start(t0);
    xt a, b, c, p;
    xinit(&a, 1);
    xinit(&b, 2);
    xinit(&c, 3);
    xinit(&p, 4);
    /* a stops b, due in the same pass: b never fires */
    a.stop_other = &b.t;
    CHECK_EQ(cw_timer_start(S, &a.t, 5, 0), 0);
    CHECK_EQ(cw_timer_start(S, &b.t, 5, 0), 0);
    /* c re-arms itself for "now" twice: once per pass, never a loop */
    c.rearm_zero = 2;
    CHECK_EQ(cw_timer_start(S, &c.t, 5, 0), 0);
    /* p is periodic and stops itself in its callback */
    p.stop_self = 1;
    CHECK_EQ(cw_timer_start(S, &p.t, 5, 1), 0);
    run_at(t0 + 5);
    CHECK_EQ(a.fired, 1);
    CHECK_EQ(b.fired, 0);
    CHECK_EQ(c.fired, 1);
    CHECK_EQ(p.fired, 1);
    CHECK(!cw_timer_active(&p.t));
    CHECK(!cw_timer_active(&b.t));
    CHECK(cw_timer_active(&c.t));
    CHECK_EQ(wait_now(), 0);
    run_at(t0 + 5);
    CHECK_EQ(c.fired, 2);
    run_at(t0 + 5);
    CHECK_EQ(c.fired, 3);
    CHECK(!cw_timer_active(&c.t));
    /* a periodic timer restarted in its own callback takes the new deadline */
    xt q;
    xinit(&q, 5);
    q.restart_ms = 50;
    CHECK_EQ(cw_timer_start(S, &q.t, 1, 3), 0);
    run_at(t0 + 6);
    CHECK_EQ(q.fired, 1);
    CHECK_EQ(wait_now(), 50);
    q.restart_ms = 0;
    run_at(t0 + 56);
    CHECK_EQ(q.fired, 2);
    CHECK(!cw_timer_active(&q.t)); /* restarted as a one-shot */
    cw_reactor_fini();
}

static void test_bad_arguments(void)
{
    start(100);
    cw_timer t;
    cw_timer_init(&t, NULL, NULL);
    CHECK_EQ(cw_timer_start(S, &t, 1, 0), -1);
    xt a;
    xinit(&a, 1);
    CHECK_EQ(cw_timer_start(NULL, &a.t, 1, 0), -1);
    CHECK_EQ(cw_timer_start(S, NULL, 1, 0), -1);
    CHECK(!cw_timer_active(NULL));
    cw_timer_stop(NULL);
    cw_timer_stop(&a.t); /* never started: nothing to do */
    CHECK(!cw_timer_active(&a.t));
    cw_reactor_fini();
}

/* ---- timers tied to a connection ---- */

static void nop_receive(cw_conn *c, const cw_msg *m)
{
    (void)c;
    (void)m;
}

static const cw_consumer consumer = {.receive = nop_receive};
static const cw_route route = {"/ws/", &consumer, 0};

static void open_conn(cw_conn *c)
{
    memset(c, 0, sizeof *c);
    c->state = CW_ST_OPEN;
    c->flags = CW_CF_CONSUMER;
    c->route = 0;
}

static void test_tied_to_a_connection(void)
{
    const uint64_t t0 = 11000000;
    start(t0);
    cw_rt.opt.routes = &route;
    cw_rt.opt.nroutes = 1;
    static cw_conn c1, c2;
    open_conn(&c1);
    open_conn(&c2);
    xt a, b, k, g;
    xinit(&a, 1);
    xinit(&b, 2);
    xinit(&k, 3);
    xinit(&g, 4);
    CHECK_EQ(cw_timer_start_conn(&c1, &a.t, 5, 5), 0);
    CHECK_EQ(cw_timer_start_conn(&c2, &b.t, 10, 0), 0);
    CHECK_EQ(cw_timer_start(S, &g.t, 10, 0), 0);
    run_at(t0 + 5);
    CHECK_EQ(a.fired, 1);
    /* c1 closes: its timer stops, the others go on */
    cw_app_timers_conn_closed(&c1);
    CHECK(!cw_timer_active(&a.t));
    CHECK(cw_timer_active(&b.t));
    /* k, due in the same pass as b and after it, closes c2: b had its
     * callback already (same deadline: in the order they were started) */
    k.close_conn = &c2;
    CHECK_EQ(cw_timer_start(S, &k.t, 5, 0), 0); /* t0 + 10, after b and g */
    run_at(t0 + 10);
    CHECK_EQ(g.fired, 1);
    CHECK_EQ(b.fired, 1);
    CHECK_EQ(k.fired, 1);
    CHECK_EQ(a.fired, 1);
    /* the other order: the closer first, then c2's timer in the same pass */
    open_conn(&c2);
    xinit(&k, 3);
    k.close_conn = &c2;
    CHECK_EQ(cw_timer_start(S, &k.t, 5, 0), 0);
    xinit(&b, 2);
    CHECK_EQ(cw_timer_start_conn(&c2, &b.t, 5, 3), 0);
    run_at(t0 + 15);
    CHECK_EQ(k.fired, 1);
    CHECK_EQ(b.fired, 0);
    CHECK(!cw_timer_active(&b.t));
    run_at(t0 + 100);
    CHECK_EQ(b.fired, 0);
    /* a connection already told of its end, or without a consumer, refuses */
    c2.flags |= CW_CF_NOTIFIED;
    CHECK_EQ(cw_timer_start_conn(&c2, &b.t, 5, 0), -1);
    open_conn(&c2);
    c2.flags = 0;
    CHECK_EQ(cw_timer_start_conn(&c2, &b.t, 5, 0), -1);
    CHECK_EQ(cw_timer_start_conn(NULL, &b.t, 5, 0), -1);
    cw_reactor_fini();
}

/* With wheel timers armed as well, the loop waits for the sooner. */
static void on_wheel(struct cw_wheel_timer *t)
{
    (void)t;
}

static void test_wait_is_the_sooner(void)
{
    /* On a wheel tick boundary for every CONFIG_TIMER_TICK_MS: the wheel
     * rounds its deadlines up to whole ticks (the app timers do not). */
    const uint64_t t0 = (uint64_t)CONFIG_TIMER_TICK_MS * 1300000;
    start(t0);
    struct cw_wheel_timer w;
    memset(&w, 0, sizeof w);
    cw_wheel_arm(&w, 10 * CONFIG_TIMER_TICK_MS, on_wheel);
    xt a;
    xinit(&a, 1);
    CHECK_EQ(cw_timer_start(S, &a.t, 3, 0), 0);
    CHECK_EQ(wait_now(), 3);
    cw_timer_stop(&a.t);
    CHECK_EQ(wait_now(), 10 * CONFIG_TIMER_TICK_MS);
    CHECK_EQ(cw_timer_start(S, &a.t, 100 * CONFIG_TIMER_TICK_MS, 0), 0);
    CHECK_EQ(wait_now(), 10 * CONFIG_TIMER_TICK_MS);
    cw_wheel_cancel(&w);
    cw_timer_stop(&a.t);
    cw_reactor_fini();
}

int main(void)
{
    RUN(test_one_shot_to_the_millisecond);
    RUN(test_periodic_without_drift);
    RUN(test_order_and_restart);
    RUN(test_from_callbacks);
    RUN(test_bad_arguments);
    RUN(test_tied_to_a_connection);
    RUN(test_wait_is_the_sooner);
    return cw_unit_done();
}
