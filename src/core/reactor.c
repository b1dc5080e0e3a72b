/* SPDX-License-Identifier: MIT */
/* reactor.c: one poller, one timer wheel, one loop. Timers live in
 * CONFIG_TIMER_SLOTS circular lists indexed by due tick; a bitmap of
 * non-empty slots gives the next wake-up without walking the wheel. With
 * CONFIG_APP_TIMERS the application's millisecond timers (app_timer.c)
 * share the wait and run after the wheel. */
#include "core/reactor.h"
#include "cw_config.h"
#include "port.h"
#include "chanwire.h"

#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>

#define SLOTS CONFIG_TIMER_SLOTS
#define TICK CONFIG_TIMER_TICK_MS
/* a power of two: src/config_check.h */
#define MAX_EVENTS 256

static struct cw_wheel_timer wheel[SLOTS]; /* list heads (sentinels) */
/* One bit per slot, in words of the machine's width: 64-bit words cost a
 * 32-bit target a libgcc call (__ctzdi2) and pairs of shifts. */
typedef unsigned long bword;
#define BW ((uint32_t)(sizeof(bword) * 8))
static bword busy[(SLOTS + BW - 1) / BW];
static uint32_t done_tick; /* every tick up to this one has been processed */
static uint64_t now_ms;
static void (*after_batch)(void);

#if UINTPTR_MAX <= 0xffffffffu
/* TICK = 2^TICK_SHIFT * TICK_ODD, TICK_ODD odd; TICK_INV is TICK_ODD's
 * inverse mod 2^32 (Newton's iteration: 3, 6, 12, 24, 48 correct bits). */
#define TICK_SHIFT __builtin_ctz(TICK)
#define TICK_ODD ((uint32_t)TICK >> TICK_SHIFT)
#define INV_STEP(x) ((x) * (2u - TICK_ODD * (x)))
#define TICK_INV INV_STEP(INV_STEP(INV_STEP(INV_STEP(TICK_ODD))))
#endif

static uint32_t tick_of(uint64_t ms)
{
#if UINTPTR_MAX > 0xffffffffu
    return (uint32_t)(ms / TICK);
#else
    /* The same value without a 64-bit division, which 32-bit targets get
     * from libgcc (about 300 bytes of code): with y = ms >> TICK_SHIFT and
     * r = y mod TICK_ODD (from y's two halves), (y - r) / TICK_ODD is an
     * exact division, whose low 32 bits are (y - r) * TICK_INV mod 2^32. */
    uint64_t y = ms >> TICK_SHIFT;
    uint32_t hi = (uint32_t)(y >> 32), lo = (uint32_t)y;
    uint32_t r = (hi % TICK_ODD * (uint32_t)((1ull << 32) % TICK_ODD) + lo % TICK_ODD) % TICK_ODD;
    return (lo - r) * TICK_INV;
#endif
}

int cw_reactor_init(unsigned capacity)
{
    for (unsigned i = 0; i < SLOTS; i++)
        wheel[i].next = wheel[i].prev = &wheel[i];
    for (unsigned i = 0; i < sizeof busy / sizeof busy[0]; i++)
        busy[i] = 0;
    now_ms = cw_port_now_ms();
    done_tick = tick_of(now_ms);
    return cw_port_poller_open(capacity);
}

void cw_reactor_fini(void)
{
    cw_port_poller_close();
}

uint64_t cw_reactor_now(void)
{
    return now_ms;
}

void cw_reactor_set_after_batch(void (*fn)(void))
{
    after_batch = fn;
}

int cw_reactor_add(struct cw_io *io, int fd, unsigned events, cw_io_fn fn)
{
    io->fn = fn;
    io->fd = fd;
    io->events = events;
    return cw_port_poller_add(fd, events, io);
}

int cw_reactor_set(struct cw_io *io, unsigned events)
{
    if (io->events == events)
        return 0;
    io->events = events;
    return cw_port_poller_mod(io->fd, events, io);
}

void cw_reactor_del(struct cw_io *io)
{
    if (io->fd >= 0)
        cw_port_poller_del(io->fd);
}

void cw_reactor_forget(struct cw_io *io)
{
    if (io->fd >= 0)
        cw_port_poller_forget(io->fd);
}

/* ---- timer wheel ---- */

#if defined(CONFIG_METRICS)
struct cw_wheel_count cw_wheel_count; /* armed timers now and at most (/metrics) */
#endif

static void unlink_timer(struct cw_wheel_timer *t)
{
#if defined(CONFIG_METRICS)
    cw_wheel_count.armed--;
#endif
    t->prev->next = t->next;
    t->next->prev = t->prev;
    t->next = t->prev = NULL;
    unsigned s = t->due & (SLOTS - 1);
    if (wheel[s].next == &wheel[s])
        busy[s / BW] &= ~(1ul << (s % BW));
}

void cw_wheel_cancel(struct cw_wheel_timer *t)
{
    if (t->next)
        unlink_timer(t);
}

/* The handlers timers name by index. A program has a fixed handful (one per
 * arm site's function); more than CW_WHEEL_KINDS is a build mistake, found
 * by the first test that arms the extra one. */
static cw_wheel_fn timer_fns[CW_WHEEL_KINDS];
static unsigned ntimer_fns;

static uint8_t timer_kind(cw_wheel_fn fn)
{
    for (unsigned i = 0; i < ntimer_fns; i++)
        if (timer_fns[i] == fn)
            return (uint8_t)i;
    if (ntimer_fns == CW_WHEEL_KINDS) {
        static const char why[] = "more timer handlers than CW_WHEEL_KINDS";
        cw_port_log_write(CW_LOG_ERROR, why, sizeof why - 1);
        abort();
    }
    timer_fns[ntimer_fns] = fn;
    return (uint8_t)ntimer_fns++;
}

void cw_wheel_arm(struct cw_wheel_timer *t, uint32_t delay_ms, cw_wheel_fn fn)
{
    cw_wheel_cancel(t);
    /* Round up, and never into the tick being processed now. */
    uint32_t due = tick_of(now_ms + delay_ms + TICK - 1);
    if ((int32_t)(due - done_tick) <= 0)
        due = done_tick + 1;
    t->due = due;
    t->kind = timer_kind(fn);
    struct cw_wheel_timer *head = &wheel[due & (SLOTS - 1)];
    t->next = head;
    t->prev = head->prev;
    head->prev->next = t;
    head->prev = t;
    busy[(due & (SLOTS - 1)) / BW] |= 1ul << ((due & (SLOTS - 1)) % BW);
#if defined(CONFIG_METRICS)
    if (++cw_wheel_count.armed > cw_wheel_count.high)
        cw_wheel_count.high = cw_wheel_count.armed;
#endif
}

#define WORDS ((SLOTS + BW - 1) / BW)

/* Distance from slot `start` to the first non-empty slot at or after it,
 * going round the wheel; -1 when every slot is empty. Scans the bitmap a
 * word at a time: this runs before every wait, so it must be cheap. */
static int first_busy(uint32_t start)
{
    uint32_t w = start / BW, b = start % BW;
    bword word = busy[w] & (~0ul << b);
    for (uint32_t k = 0; k <= WORDS; k++) {
        if (word) {
            uint32_t s = (w * BW + (uint32_t)__builtin_ctzl(word)) & (SLOTS - 1);
            return (int)((s - start) & (SLOTS - 1));
        }
        w = (w + 1) % WORDS;
        word = busy[w];
        if (k + 1 == WORDS) /* back at the start word: only the slots before start */
            word &= b ? (1ul << b) - 1 : 0;
    }
    return -1;
}

/* Milliseconds until the next non-empty slot's tick, or -1 when none. */
static int next_timeout(void)
{
    int d = first_busy((done_tick + 1) & (SLOTS - 1));
    if (d < 0)
        return -1;
    uint32_t due = done_tick + 1 + (uint32_t)d;
    if ((int32_t)(due - tick_of(now_ms)) <= 0)
        return 0;
    return (int)((uint64_t)due * TICK - now_ms);
}

static void fire_slot(uint32_t tick)
{
    struct cw_wheel_timer *head = &wheel[tick & (SLOTS - 1)];
    struct cw_wheel_timer expired = {&expired, &expired, 0, 0};
    /* Move what is due onto a private list first: a handler may cancel or
     * re-arm any timer, including ones still waiting in this slot. */
    for (struct cw_wheel_timer *t = head->next, *nx; t != head; t = nx) {
        nx = t->next;
        if ((int32_t)(t->due - tick) <= 0) {
            t->prev->next = t->next;
            t->next->prev = t->prev;
            t->next = &expired;
            t->prev = expired.prev;
            expired.prev->next = t;
            expired.prev = t;
        }
    }
    if (head->next == head)
        busy[(tick & (SLOTS - 1)) / BW] &= ~(1ul << ((tick & (SLOTS - 1)) % BW));
    while (expired.next != &expired) {
        struct cw_wheel_timer *t = expired.next;
        t->prev->next = t->next;
        t->next->prev = t->prev;
        t->next = t->prev = NULL;
#if defined(CONFIG_METRICS)
        cw_wheel_count.armed--;
#endif
        timer_fns[t->kind](t);
    }
}

static void run_timers(void)
{
    uint32_t cur = tick_of(now_ms);
    uint32_t steps = cur - done_tick;
    if (steps > SLOTS) {
        /* The clock jumped past a whole turn: visit each slot once. */
        done_tick = cur - SLOTS;
        steps = SLOTS;
    }
    while (steps--) {
        done_tick++;
        fire_slot(done_tick);
    }
}

int cw_reactor_timeout(void)
{
    int timeout = next_timeout();
#if defined(CONFIG_APP_TIMERS)
    int app = cw_app_timers_timeout();
    if (app >= 0 && (timeout < 0 || app < timeout))
        timeout = app;
#endif
    return timeout;
}

#if defined(CONFIG_WATCHES)
static uint32_t batches;

uint32_t cw_reactor_batch(void)
{
    return batches;
}
#endif

int cw_reactor_run_once(int max_wait_ms)
{
    static cw_port_event ev[MAX_EVENTS];
    int timeout = cw_reactor_timeout();
    if (max_wait_ms >= 0 && (timeout < 0 || timeout > max_wait_ms))
        timeout = max_wait_ms;
    int n = cw_port_poller_wait(ev, MAX_EVENTS, timeout);
    now_ms = cw_port_now_ms();
    if (n < 0)
        return -1;
#if defined(CONFIG_WATCHES)
    batches++; /* odd while the events of this wait are handed out */
#endif
    for (int i = 0; i < n; i++) {
        struct cw_io *io = ev[i].udata;
        io->fn(io, ev[i].events);
    }
#if defined(CONFIG_WATCHES)
    batches++;
#endif
    run_timers();
#if defined(CONFIG_APP_TIMERS)
    cw_app_timers_run(now_ms);
#endif
    if (after_batch)
        after_batch();
    return 0;
}
