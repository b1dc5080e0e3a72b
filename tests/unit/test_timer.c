/* SPDX-License-Identifier: MIT */
/* test_timer.c: the reactor's timer wheel on a fake clock and a fake
 * poller. This file defines cw_port_now_ms and the cw_port_poller_* calls
 * itself, so the archive's clock and poller objects are not linked in: time
 * moves only when a test says so (no sleeping, no wall-clock dependence) and
 * the timeout the reactor would wait for is visible. */
#include "cw_config.h"
#include "port.h"
#include "core/reactor.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

#define TICK CONFIG_TIMER_TICK_MS
#define TURN ((uint64_t)CONFIG_TIMER_SLOTS * TICK) /* one turn of the wheel, in ms */

static uint64_t fake_now;

uint64_t cw_port_now_ms(void)
{
    return fake_now;
}

/* ---- fake poller ---- */

static int poll_open, poll_adds, poll_mods, poll_dels, poll_waits;
static int last_timeout;
static int wait_sleeps;   /* the wait advances the clock by its timeout */
static int wait_fails;    /* the next wait returns -1 */
static cw_port_event pending[8];
static int npending;
static unsigned last_mod_events;

int cw_port_poller_open(unsigned capacity)
{
    (void)capacity;
    poll_open = 1;
    return 0;
}

void cw_port_poller_close(void)
{
    poll_open = 0;
}

int cw_port_poller_add(int fd, unsigned events, void *udata)
{
    (void)fd;
    (void)events;
    (void)udata;
    poll_adds++;
    return 0;
}

int cw_port_poller_mod(int fd, unsigned events, void *udata)
{
    (void)fd;
    (void)udata;
    poll_mods++;
    last_mod_events = events;
    return 0;
}

int cw_port_poller_del(int fd)
{
    (void)fd;
    poll_dels++;
    return 0;
}

void cw_port_poller_forget(int fd)
{
    cw_port_poller_del(fd);
}

int cw_port_poller_wait(cw_port_event *ev, int max, int timeout_ms)
{
    poll_waits++;
    last_timeout = timeout_ms;
    if (wait_fails) {
        wait_fails = 0;
        return -1;
    }
    if (wait_sleeps && timeout_ms > 0)
        fake_now += (uint64_t)timeout_ms;
    int n = 0;
    while (n < npending && n < max) {
        ev[n] = pending[n];
        n++;
    }
    npending = 0;
    return n;
}

static uint64_t rng_state = 0x082EFA98EC4E6C89ull;

static uint32_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

/* Start times are tick boundaries whatever the configured tick. */
static uint64_t at_tick(uint64_t ms)
{
    return ms / TICK * TICK;
}

/* A timer with a name and a record of when it fired. */
typedef struct {
    struct cw_wheel_timer t; /* first: the handler casts back */
    int id;
    int fired;
    uint64_t at;       /* clock when it last fired */
    uint32_t rearm_ms; /* re-arm itself with this delay when nonzero */
    int rearm_zero;    /* re-arm itself with delay 0, this many times */
    struct cw_wheel_timer *cancel; /* cancel this one when firing */
} ttimer;

static int order[256];
static int norder;

static void on_fire(struct cw_wheel_timer *t)
{
    ttimer *x = (ttimer *)t;
    x->fired++;
    x->at = cw_reactor_now();
    if (norder < 256)
        order[norder++] = x->id;
    if (x->cancel)
        cw_wheel_cancel(x->cancel);
    if (x->rearm_ms)
        cw_wheel_arm(t, x->rearm_ms, on_fire);
    else if (x->rearm_zero > 0) {
        x->rearm_zero--;
        cw_wheel_arm(t, 0, on_fire);
    }
}

static int batches;
static void after_batch(void)
{
    batches++;
}

static void start(uint64_t now)
{
    fake_now = now;
    norder = 0;
    batches = 0;
    wait_sleeps = 0;
    wait_fails = 0;
    npending = 0;
    CHECK(cw_reactor_init(16) >= 0);
    cw_reactor_set_after_batch(NULL);
}

static void stop(void)
{
    cw_reactor_fini();
}

static void tinit(ttimer *x, int id)
{
    memset(x, 0, sizeof *x);
    x->id = id;
}

/* Moves the fake clock to `to` and runs one loop iteration. */
static void run_at(uint64_t to)
{
    fake_now = to;
    CHECK_EQ(cw_reactor_run_once(0), 0);
}

/* ---- cases ---- */

static void test_fire_in_order(void)
{
    const uint64_t t0 = at_tick(1000000); /* a tick boundary */
    start(t0);
    CHECK_EQ(cw_reactor_now(), t0);
    ttimer a, b, c;
    tinit(&a, 1);
    tinit(&b, 2);
    tinit(&c, 3);
    CHECK(!cw_wheel_armed(&a.t));
    cw_wheel_arm(&a.t, 2 * TICK, on_fire);
    cw_wheel_arm(&b.t, TICK, on_fire);
    cw_wheel_arm(&c.t, 3 * TICK, on_fire);
    CHECK(cw_wheel_armed(&a.t) && cw_wheel_armed(&b.t) && cw_wheel_armed(&c.t));
    run_at(t0);
    run_at(t0 + TICK - 1);
    CHECK_EQ(norder, 0);
    run_at(t0 + TICK);
    CHECK_EQ(norder, 1);
    CHECK_EQ(b.fired, 1);
    CHECK_EQ(b.at, t0 + TICK);
    CHECK(!cw_wheel_armed(&b.t));
    CHECK(cw_wheel_armed(&a.t));
    run_at(t0 + 2 * TICK - 1);
    CHECK_EQ(norder, 1);
    run_at(t0 + 2 * TICK);
    run_at(t0 + 3 * TICK);
    CHECK_EQ(norder, 3);
    CHECK_EQ(order[0], 2);
    CHECK_EQ(order[1], 1);
    CHECK_EQ(order[2], 3);
    CHECK_EQ(a.fired + b.fired + c.fired, 3);
    /* nothing fires twice */
    run_at(t0 + 100 * TICK);
    CHECK_EQ(norder, 3);
    stop();
}

static void test_one_jump_fires_in_due_order(void)
{
    const uint64_t t0 = at_tick(2000000);
    start(t0);
    ttimer x[6];
    static const uint32_t delays[6] = {5 * TICK, TICK, 3 * TICK, TICK, 2 * TICK, 5 * TICK};
    for (int i = 0; i < 6; i++) {
        tinit(&x[i], i);
        cw_wheel_arm(&x[i].t, delays[i], on_fire);
    }
    run_at(t0 + 10 * TICK);
    CHECK_EQ(norder, 6);
    /* by due tick, and in arming order within a tick */
    static const int want[6] = {1, 3, 4, 2, 0, 5};
    for (int i = 0; i < 6; i++)
        CHECK_EQ(order[i], want[i]);
    stop();
}

static void test_rounding_never_early(void)
{
    /* For delays 0..130 ms armed at several phases inside a tick, the timer
     * fires on the first tick boundary at or after now + delay (and never in
     * the tick being processed), found by stepping the clock 1 ms at a time. */
    static const uint64_t phases[] = {0, 1, TICK / 2, TICK - 1};
    uint64_t base = at_tick(10000000);
    start(base);
    int bad = 0;
    for (size_t p = 0; p < sizeof phases / sizeof phases[0]; p++) {
        for (uint32_t d = 0; d <= 130; d++) {
            base += 4 * TICK;
            uint64_t now = base + phases[p];
            run_at(now); /* the loop's time is now */
            ttimer x;
            tinit(&x, 1);
            cw_wheel_arm(&x.t, d, on_fire);
            uint64_t want = (now + d + TICK - 1) / TICK * TICK;
            if (want < (now / TICK + 1) * TICK)
                want = (now / TICK + 1) * TICK;
            uint64_t at = now;
            if (d > 1) {
                at = now + d - 1;
                run_at(at);
            }
            while (!x.fired && at < now + d + 3 * TICK)
                run_at(++at);
            /* exact, never early, at most a tick late */
            int ok = x.fired == 1 && x.at == want && x.at >= now + d && x.at > now &&
                     x.at <= now + d + TICK;
            if (!ok && !bad)
                fprintf(stderr, "  phase %u delay %u: fired %d at +%llu, want +%llu\n",
                        (unsigned)phases[p], d, x.fired, (unsigned long long)(x.at - now),
                        (unsigned long long)(want - now));
            bad += !ok;
            cw_wheel_cancel(&x.t);
            base = (at / TICK + 1) * TICK;
        }
    }
    CHECK_EQ(bad, 0);
    stop();
}

/* Timers name their handler by an index into the reactor's table: each
 * timer must get its own handler back, however the handlers interleave. */
static int fired_other;
static void on_other(struct cw_wheel_timer *t)
{
    (void)t;
    fired_other++;
}

static void test_each_timer_its_own_handler(void)
{
    const uint64_t t0 = at_tick(3000000);
    start(t0);
    fired_other = 0;
    ttimer a, b, c;
    tinit(&a, 1);
    tinit(&b, 2);
    tinit(&c, 3);
    cw_wheel_arm(&a.t, TICK, on_other);
    cw_wheel_arm(&b.t, TICK, on_fire);
    cw_wheel_arm(&c.t, 2 * TICK, on_other);
    run_at(t0 + TICK);
    CHECK_EQ(fired_other, 1);
    CHECK_EQ(b.fired, 1);
    CHECK_EQ(a.fired, 0); /* on_other does not count in the record */
    cw_wheel_arm(&a.t, TICK, on_fire); /* the same timer, another handler */
    run_at(t0 + 2 * TICK);
    CHECK_EQ(fired_other, 2);
    CHECK_EQ(a.fired, 1);
    CHECK_EQ(c.fired, 0);
    stop();
}

static void test_cancel(void)
{
    const uint64_t t0 = at_tick(3000000);
    start(t0);
    ttimer a, b, z;
    tinit(&a, 1);
    tinit(&b, 2);
    tinit(&z, 3);
    cw_wheel_arm(&a.t, TICK, on_fire);
    cw_wheel_arm(&b.t, TICK, on_fire); /* same slot */
    cw_wheel_cancel(&a.t);
    CHECK(!cw_wheel_armed(&a.t));
    cw_wheel_cancel(&a.t); /* twice: no-op */
    cw_wheel_cancel(&z.t); /* never armed: no-op */
    run_at(t0 + 10 * TICK);
    CHECK_EQ(a.fired, 0);
    CHECK_EQ(b.fired, 1);
    /* cancel the only timer of a slot, then arm another in the same slot
     * one turn later: the slot must still work */
    cw_wheel_arm(&a.t, 5 * TICK, on_fire);
    cw_wheel_cancel(&a.t);
    run_at(t0 + 20 * TICK);
    CHECK_EQ(a.fired, 0);
    cw_wheel_arm(&a.t, (uint32_t)TURN - 5 * TICK, on_fire);
    run_at(t0 + 10 * TICK + TURN - 1);
    CHECK_EQ(a.fired, 0);
    run_at(t0 + 20 * TICK + TURN - 5 * TICK);
    CHECK_EQ(a.fired, 1);
    stop();
}

static void test_rearm(void)
{
    const uint64_t t0 = at_tick(4000000);
    start(t0);
    ttimer a;
    tinit(&a, 1);
    cw_wheel_arm(&a.t, 2 * TICK, on_fire);
    cw_wheel_arm(&a.t, 6 * TICK, on_fire); /* later: the first deadline is gone */
    run_at(t0 + 5 * TICK);
    CHECK_EQ(a.fired, 0);
    run_at(t0 + 6 * TICK);
    CHECK_EQ(a.fired, 1);
    CHECK_EQ(a.at, t0 + 6 * TICK);
    /* earlier */
    cw_wheel_arm(&a.t, 10 * TICK, on_fire);
    cw_wheel_arm(&a.t, TICK, on_fire);
    run_at(t0 + 7 * TICK);
    CHECK_EQ(a.fired, 2);
    run_at(t0 + 30 * TICK);
    CHECK_EQ(a.fired, 2);
    /* re-arming many times leaves one entry */
    for (int i = 0; i < 100; i++)
        cw_wheel_arm(&a.t, (uint32_t)(i % 7 + 1) * TICK, on_fire);
    run_at(t0 + 60 * TICK);
    CHECK_EQ(a.fired, 3);
    stop();
}

static void test_cancel_from_handler(void)
{
    const uint64_t t0 = at_tick(5000000);
    start(t0);
    ttimer a, b, c, d;
    tinit(&a, 1);
    tinit(&b, 2);
    tinit(&c, 3);
    tinit(&d, 4);
    /* a and b due in the same tick; a cancels b, which is already moved to
     * the expired list; and c, due later */
    a.cancel = &b.t;
    cw_wheel_arm(&a.t, TICK, on_fire);
    cw_wheel_arm(&b.t, TICK, on_fire);
    cw_wheel_arm(&c.t, 4 * TICK, on_fire);
    cw_wheel_arm(&d.t, TICK, on_fire);
    run_at(t0 + TICK);
    CHECK_EQ(a.fired, 1);
    CHECK_EQ(b.fired, 0);
    CHECK(!cw_wheel_armed(&b.t));
    CHECK_EQ(d.fired, 1); /* the one after the cancelled one still fires */
    a.cancel = &c.t;
    cw_wheel_arm(&a.t, TICK, on_fire);
    run_at(t0 + 2 * TICK);
    CHECK_EQ(a.fired, 2);
    run_at(t0 + 20 * TICK);
    CHECK_EQ(c.fired, 0);
    /* a handler that cancels itself (already disarmed) */
    a.cancel = &a.t;
    cw_wheel_arm(&a.t, TICK, on_fire);
    run_at(t0 + 21 * TICK);
    CHECK_EQ(a.fired, 3);
    CHECK(!cw_wheel_armed(&a.t));
    /* a handler that cancels a timer due later in the same jump */
    tinit(&a, 1);
    tinit(&b, 2);
    a.cancel = &b.t;
    cw_wheel_arm(&a.t, TICK, on_fire);
    cw_wheel_arm(&b.t, 3 * TICK, on_fire);
    run_at(t0 + 30 * TICK);
    CHECK_EQ(a.fired, 1);
    CHECK_EQ(b.fired, 0);
    stop();
}

static void test_rearm_from_handler(void)
{
    const uint64_t t0 = at_tick(6000000);
    start(t0);
    ttimer p;
    tinit(&p, 1);
    p.rearm_ms = 100;
    cw_wheel_arm(&p.t, 100, on_fire);
    const uint64_t period = (100 + TICK - 1) / TICK * TICK; /* 100 ms rounded up to ticks */
    uint64_t times[32];
    int n = 0;
    for (uint64_t at = t0 + 1; at <= t0 + 10 * period; at++) {
        int before = p.fired;
        run_at(at);
        if (p.fired != before && n < 32)
            times[n++] = at;
    }
    /* once per period, on the dot */
    CHECK_EQ(p.fired, 10);
    CHECK_EQ(n, 10);
    for (int i = 0; i < n && i < 10; i++)
        CHECK_EQ(times[i], t0 + period * (uint64_t)(i + 1));
    cw_wheel_cancel(&p.t);
    /* delay 0 from a handler: next tick, not again in this iteration */
    ttimer z;
    tinit(&z, 2);
    z.rearm_zero = 5;
    uint64_t now = at_tick(t0 + 20 * period);
    run_at(now);
    cw_wheel_arm(&z.t, 0, on_fire);
    run_at(now + TICK);
    CHECK_EQ(z.fired, 1);
    run_at(now + TICK);
    CHECK_EQ(z.fired, 1);
    run_at(now + 2 * TICK);
    CHECK_EQ(z.fired, 2);
    /* a jump of several ticks fires it a bounded number of times */
    run_at(now + 10 * TICK);
    CHECK(z.fired >= 3 && z.fired <= 4);
    cw_wheel_cancel(&z.t);
    stop();
}

static void test_long_delays(void)
{
    const uint64_t t0 = at_tick(7000000);
    start(t0);
    ttimer lng, shrt, two;
    tinit(&lng, 1);
    tinit(&shrt, 2);
    tinit(&two, 3);
    /* longer than a turn, and in the same slot as a short timer */
    cw_wheel_arm(&lng.t, (uint32_t)(TURN + 2 * TICK), on_fire);
    cw_wheel_arm(&shrt.t, 2 * TICK, on_fire);
    cw_wheel_arm(&two.t, (uint32_t)(3 * TURN + 7), on_fire);
    int early = 0;
    uint64_t at;
    for (at = t0 + TICK; at <= t0 + 4 * TURN; at += TICK) {
        run_at(at);
        if (lng.fired && lng.at < t0 + TURN + 2 * TICK)
            early++;
        if (two.fired && two.at < t0 + 3 * TURN + 7)
            early++;
    }
    CHECK_EQ(early, 0);
    CHECK_EQ(shrt.fired, 1);
    CHECK_EQ(shrt.at, t0 + 2 * TICK);
    CHECK_EQ(lng.fired, 1);
    CHECK_EQ(lng.at, t0 + TURN + 2 * TICK);
    CHECK_EQ(two.fired, 1);
    CHECK_EQ(two.at, t0 + (3 * TURN + 7 + TICK - 1) / TICK * TICK);
    /* the daemon's own intervals */
    ttimer ping;
    tinit(&ping, 4);
    uint64_t now = at;
    run_at(now);
    cw_wheel_arm(&ping.t, CONFIG_PING_INTERVAL_MS, on_fire);
    run_at(now + CONFIG_PING_INTERVAL_MS - 1);
    CHECK_EQ(ping.fired, 0);
    run_at(now + CONFIG_PING_INTERVAL_MS + TICK - 1);
    CHECK_EQ(ping.fired, 1);
    stop();
}

static void test_clock_jumps(void)
{
    const uint64_t t0 = at_tick(8000000);
    start(t0);
    ttimer a, b, c;
    tinit(&a, 1);
    tinit(&b, 2);
    tinit(&c, 3);
    cw_wheel_arm(&a.t, 100, on_fire);
    cw_wheel_arm(&b.t, 30000, on_fire);
    cw_wheel_arm(&c.t, 60000, on_fire);
    /* far past several turns: what is due fires once, the rest waits */
    run_at(t0 + 40000);
    CHECK_EQ(a.fired, 1);
    CHECK_EQ(b.fired, 1);
    CHECK_EQ(c.fired, 0);
    CHECK_EQ(a.at, t0 + 40000);
    run_at(t0 + 59999);
    CHECK_EQ(c.fired, 0);
    run_at(t0 + 60000 + TICK - 1);
    CHECK_EQ(c.fired, 1);
    CHECK_EQ(a.fired + b.fired, 2);
    /* jumps of exactly one turn, one turn and a tick, and one tick short */
    static const uint64_t jumps[] = {TURN, TURN + TICK, TURN - TICK, 2 * TURN, 1000 * TURN};
    uint64_t now = at_tick(t0 + 60000 + TICK);
    run_at(now);
    for (size_t j = 0; j < sizeof jumps / sizeof jumps[0]; j++) {
        ttimer x[8];
        for (int i = 0; i < 8; i++) {
            tinit(&x[i], i);
            /* spread over the wheel, all due within the jump */
            cw_wheel_arm(&x[i].t, (uint32_t)(jumps[j] / 8 * (uint64_t)i + 1) % (uint32_t)jumps[j], on_fire);
        }
        ttimer after;
        tinit(&after, 99);
        cw_wheel_arm(&after.t, (uint32_t)(jumps[j] + TICK), on_fire);
        now += jumps[j];
        run_at(now);
        int total = 0;
        for (int i = 0; i < 8; i++)
            total += x[i].fired == 1;
        CHECK_EQ(total, 8);
        CHECK_EQ(after.fired, 0);
        run_at(now + TICK);
        CHECK_EQ(after.fired, 1);
        for (int i = 0; i < 8; i++)
            CHECK_EQ(x[i].fired, 1);
        now += TICK;
    }
    stop();
}

static void test_now_and_after_batch(void)
{
    start(9000000);
    cw_reactor_set_after_batch(after_batch);
    run_at(9000123);
    CHECK_EQ(cw_reactor_now(), 9000123);
    CHECK_EQ(batches, 1);
    run_at(9000123);
    run_at(9000500);
    CHECK_EQ(batches, 3);
    CHECK_EQ(cw_reactor_now(), 9000500);
    /* the loop time does not move by itself between iterations */
    fake_now = 9999999;
    CHECK_EQ(cw_reactor_now(), 9000500);
    /* a timer armed now counts from the loop time, not the clock */
    ttimer a;
    tinit(&a, 1);
    cw_wheel_arm(&a.t, 2 * TICK, on_fire);
    run_at(9000500 + 3 * TICK);
    CHECK_EQ(a.fired, 1);
    cw_reactor_set_after_batch(NULL);
    run_at(9000500 + 4 * TICK);
    CHECK_EQ(batches, 4);
    stop();
}

/* Many timers with random delays, the clock moved in random steps: each
 * fires exactly once, on the first iteration whose clock has reached its
 * rounded-up deadline. */
static void test_random_schedule(void)
{
    static ttimer x[500];
    static uint64_t due[500];
    const uint64_t t0 = at_tick(20000000);
    start(t0);
    run_at(t0 + 7); /* arm from the middle of a tick */
    uint64_t now = t0 + 7;
    for (int i = 0; i < 500; i++) {
        tinit(&x[i], i);
        uint32_t d = rng() % (uint32_t)(3 * TURN);
        cw_wheel_arm(&x[i].t, d, on_fire);
        uint64_t w = (now + d + TICK - 1) / TICK * TICK;
        if (w < (now / TICK + 1) * TICK)
            w = (now / TICK + 1) * TICK;
        due[i] = w;
    }
    /* cancel a few */
    for (int i = 0; i < 500; i += 17)
        cw_wheel_cancel(&x[i].t);
    uint64_t prev = now;
    int late = 0;
    while (now < t0 + 4 * TURN) {
        now += 1 + rng() % (rng() % 8 ? 3 * TICK : TURN);
        run_at(now);
        for (int i = 0; i < 500; i++) {
            if (x[i].fired && x[i].at == now && !(due[i] <= now && due[i] > prev))
                late++;
        }
        prev = now;
    }
    int fired_once = 0, cancelled_quiet = 0;
    for (int i = 0; i < 500; i++) {
        if (i % 17 == 0)
            cancelled_quiet += x[i].fired == 0;
        else
            fired_once += x[i].fired == 1;
    }
    CHECK_EQ(late, 0);
    CHECK_EQ(cancelled_quiet, 30);
    CHECK_EQ(fired_once, 470);
    stop();
}

/* The wait timeout the loop computes from the wheel. */
static void test_wait_timeout(void)
{
    const uint64_t t0 = at_tick(30000000); /* a tick boundary */
    start(t0);
    /* no timers: wait forever, or as asked */
    CHECK_EQ(cw_reactor_run_once(-1), 0);
    CHECK_EQ(last_timeout, -1);
    CHECK_EQ(cw_reactor_run_once(0), 0);
    CHECK_EQ(last_timeout, 0);
    CHECK_EQ(cw_reactor_run_once(70), 0);
    CHECK_EQ(last_timeout, 70);
    ttimer a, b;
    tinit(&a, 1);
    tinit(&b, 2);
    cw_wheel_arm(&a.t, 3 * TICK, on_fire);
    CHECK_EQ(cw_reactor_run_once(-1), 0);
    CHECK_EQ(last_timeout, 3 * TICK);
    CHECK_EQ(cw_reactor_run_once(TICK), 0);
    CHECK_EQ(last_timeout, TICK); /* the caller's bound is smaller */
    /* from inside a tick: what is left of it, measured from the loop time
     * (read once per iteration, after the wait) */
    fake_now = t0 + TICK + 7;
    CHECK_EQ(cw_reactor_run_once(-1), 0);
    CHECK_EQ(last_timeout, 3 * TICK); /* computed before this wait */
    CHECK_EQ(cw_reactor_run_once(-1), 0);
    CHECK_EQ(last_timeout, 2 * TICK - 7);
    /* an earlier timer wins */
    cw_wheel_arm(&b.t, 1, on_fire);
    CHECK_EQ(cw_reactor_run_once(-1), 0);
    CHECK_EQ(last_timeout, TICK - 7);
    /* cancelled timers no longer count: their slots are marked empty */
    cw_wheel_cancel(&b.t);
    cw_wheel_cancel(&a.t);
    CHECK_EQ(cw_reactor_run_once(-1), 0);
    CHECK_EQ(last_timeout, -1);
    /* far slots, across the bitmap words */
    fake_now = t0 + 100 * TICK;
    CHECK_EQ(cw_reactor_run_once(0), 0);
    static const uint32_t ticks[] = {1, 63, 64, 65, 127, 128, 200, CONFIG_TIMER_SLOTS - 1};
    for (size_t i = 0; i < sizeof ticks / sizeof ticks[0]; i++) {
        if (ticks[i] >= CONFIG_TIMER_SLOTS)
            continue;
        cw_wheel_arm(&a.t, ticks[i] * TICK, on_fire);
        CHECK_EQ(cw_reactor_run_once(-1), 0);
        CHECK_EQ(last_timeout, (int)(ticks[i] * TICK));
        cw_wheel_cancel(&a.t);
    }
    /* a timer more than a turn away may wake the loop early, never late,
     * and does not fire early */
    cw_wheel_arm(&a.t, (uint32_t)(TURN + 5 * TICK), on_fire);
    CHECK_EQ(cw_reactor_run_once(-1), 0);
    CHECK(last_timeout > 0 && last_timeout <= (int)(TURN + 5 * TICK));
    cw_wheel_cancel(&a.t);
    /* a timer already overdue (the loop fell behind): wait 0 */
    cw_wheel_arm(&a.t, TICK, on_fire);
    fake_now += 5 * TICK;
    wait_fails = 0;
    CHECK_EQ(cw_reactor_run_once(-1), 0); /* the wait used the old time */
    CHECK_EQ(a.fired, 1);
    stop();
}

/* The loop left alone: each wait sleeps exactly its timeout, and every
 * timer fires at its deadline, with few wasted wake-ups. */
static void test_idle_loop(void)
{
    const uint64_t t0 = at_tick(40000000);
    start(t0);
    wait_sleeps = 1;
    static ttimer x[40];
    static uint64_t due[40];
    int spare = 0; /* wakes allowed for timers more than a turn away */
    for (int i = 0; i < 40; i++) {
        tinit(&x[i], i);
        uint32_t d = 1 + rng() % (uint32_t)(2 * TURN);
        cw_wheel_arm(&x[i].t, d, on_fire);
        due[i] = (t0 + d + TICK - 1) / TICK * TICK;
        spare += (int)((due[i] - t0) / TICK / CONFIG_TIMER_SLOTS);
    }
    int iterations = 0;
    while (norder < 40 && iterations < 1000) {
        CHECK_EQ(cw_reactor_run_once(-1), 0);
        iterations++;
    }
    int bad = 0;
    for (int i = 0; i < 40; i++)
        bad += x[i].fired != 1 || x[i].at != due[i];
    CHECK_EQ(bad, 0);
    /* at most one iteration per timer, plus one early wake for each turn a
     * timer waits beyond the first */
    CHECK(spare > 0);
    CHECK(iterations <= 40 + spare);
    /* then idle: wait forever */
    CHECK_EQ(cw_reactor_run_once(-1), 0);
    CHECK_EQ(last_timeout, -1);
    stop();
}

/* Readiness dispatch, interest changes, and a failing wait. */
static int io_calls;
static unsigned io_events;
static struct cw_io *io_seen;
static ttimer *io_arms; /* armed from the handler */

static void on_io(struct cw_io *io, unsigned events)
{
    io_calls++;
    io_events = events;
    io_seen = io;
    if (io_arms)
        cw_wheel_arm(&io_arms->t, 0, on_fire);
}

static void test_io_dispatch(void)
{
    const uint64_t t0 = at_tick(50000000);
    start(t0);
    CHECK_EQ(poll_open, 1);
    struct cw_io a, b;
    poll_adds = poll_mods = poll_dels = 0;
    CHECK_EQ(cw_reactor_add(&a, 5, CW_PORT_IN, on_io), 0);
    CHECK_EQ(cw_reactor_add(&b, 6, CW_PORT_IN, on_io), 0);
    CHECK_EQ(poll_adds, 2);
    CHECK_EQ(a.fd, 5);
    CHECK_EQ(a.events, CW_PORT_IN);
    /* the same interest again: no call into the poller */
    CHECK_EQ(cw_reactor_set(&a, CW_PORT_IN), 0);
    CHECK_EQ(poll_mods, 0);
    CHECK_EQ(cw_reactor_set(&a, CW_PORT_IN | CW_PORT_OUT), 0);
    CHECK_EQ(poll_mods, 1);
    CHECK_EQ(last_mod_events, CW_PORT_IN | CW_PORT_OUT);
    CHECK_EQ(cw_reactor_set(&a, CW_PORT_IN | CW_PORT_OUT), 0);
    CHECK_EQ(poll_mods, 1);
    CHECK_EQ(cw_reactor_set(&a, CW_PORT_IN), 0);
    CHECK_EQ(poll_mods, 2);
    /* events reach their owner, then timers run, then the batch hook */
    ttimer t;
    tinit(&t, 7);
    io_arms = &t;
    cw_reactor_set_after_batch(after_batch);
    pending[0].udata = &b;
    pending[0].events = CW_PORT_IN | CW_PORT_ERR;
    npending = 1;
    fake_now += TICK;
    CHECK_EQ(cw_reactor_run_once(0), 0);
    CHECK_EQ(io_calls, 1);
    CHECK(io_seen == &b);
    CHECK_EQ(io_events, CW_PORT_IN | CW_PORT_ERR);
    CHECK_EQ(batches, 1);
    /* armed with delay 0 by the handler: due now, fired after the events */
    CHECK_EQ(t.fired, 1);
    CHECK_EQ(t.at, t0 + TICK);
    io_arms = NULL;
    fake_now += TICK;
    CHECK_EQ(cw_reactor_run_once(0), 0);
    CHECK_EQ(t.fired, 1);
    CHECK_EQ(io_calls, 1);
    /* a failed wait: -1, no handler, no batch hook */
    wait_fails = 1;
    CHECK_EQ(cw_reactor_run_once(0), -1);
    CHECK_EQ(batches, 2);
    /* removal */
    cw_reactor_del(&a);
    CHECK_EQ(poll_dels, 1);
    b.fd = -1;
    cw_reactor_del(&b);
    CHECK_EQ(poll_dels, 1);
    cw_reactor_set_after_batch(NULL);
    stop();
    CHECK_EQ(poll_open, 0);
}

int main(void)
{
    RUN(test_fire_in_order);
    RUN(test_one_jump_fires_in_due_order);
    RUN(test_rounding_never_early);
    RUN(test_each_timer_its_own_handler);
    RUN(test_cancel);
    RUN(test_rearm);
    RUN(test_cancel_from_handler);
    RUN(test_rearm_from_handler);
    RUN(test_long_delays);
    RUN(test_clock_jumps);
    RUN(test_now_and_after_batch);
    RUN(test_random_schedule);
    RUN(test_wait_timeout);
    RUN(test_idle_loop);
    RUN(test_io_dispatch);
    return cw_unit_done();
}
