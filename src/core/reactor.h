/* SPDX-License-Identifier: MIT */
/* reactor.h: the event loop (in the spirit of Redis's ae.c). Owners embed a
 * cw_io per fd and a cw_wheel_timer per deadline; the loop waits on the port
 * poller, calls their handlers, fires due timers from a hashed wheel, then
 * runs one "after batch" hook where deferred work (flushing, freeing) is done. */
#ifndef CW_REACTOR_H
#define CW_REACTOR_H

#include "cw_config.h"

#include <stdint.h>

struct cw_io;
struct cw_wheel_timer;
typedef void (*cw_io_fn)(struct cw_io *io, unsigned events);
typedef void (*cw_wheel_fn)(struct cw_wheel_timer *t);

struct cw_io {
    cw_io_fn fn;
    int fd;
    unsigned events; /* CW_PORT_IN | CW_PORT_OUT currently asked for */
};

/* Embedded in every connection slot, so kept small: the handler is an
 * index into the reactor's table of the (few) distinct timer handlers. */
struct cw_wheel_timer {
    struct cw_wheel_timer *next, *prev; /* NULL while not armed */
    uint32_t due;  /* wheel tick */
    uint8_t kind;  /* handler: index in the reactor's table */
};

/* Distinct timer handlers a program may use (each arm site passes one). */
#define CW_WHEEL_KINDS 16

int cw_reactor_init(unsigned capacity);
void cw_reactor_fini(void);
int cw_reactor_add(struct cw_io *io, int fd, unsigned events, cw_io_fn fn);
/* Changes the interest set; makes a syscall only when it differs. */
int cw_reactor_set(struct cw_io *io, unsigned events);
void cw_reactor_del(struct cw_io *io);
/* Like cw_reactor_del for an fd the caller closes right after (and never
 * shared): the poller may skip the syscall that closing makes redundant. */
void cw_reactor_forget(struct cw_io *io);

/* Arms (or re-arms) t to fire after delay_ms, rounded up to the tick. */
void cw_wheel_arm(struct cw_wheel_timer *t, uint32_t delay_ms, cw_wheel_fn fn);
void cw_wheel_cancel(struct cw_wheel_timer *t);
#if defined(CONFIG_METRICS)
/* Wheel timers armed now and at most (one per connection's deadline, the
 * listeners' back-offs, ...): the /metrics "timers" gauges. */
extern struct cw_wheel_count {
    uint32_t armed, high;
} cw_wheel_count;
#endif
static inline int cw_wheel_armed(const struct cw_wheel_timer *t)
{
    return t->next != 0;
}

#if defined(CONFIG_APP_TIMERS)
/* The application's millisecond timers (core/app_timer.c), which the loop
 * serves after its wheel: ms until the next is due (-1: none armed), and
 * firing every one due at now. */
int cw_app_timers_timeout(void);
void cw_app_timers_run(uint64_t now);
#endif
/* The wait cw_reactor_run_once would make with max_wait_ms -1: ms until
 * the next timer (wheel or application), -1 when none is armed. */
int cw_reactor_timeout(void);
/* Counts up twice per iteration: odd while the events of one wait are
 * handed out (a slot given up then is not handed out again before the
 * count moves on: events for it may still come), even otherwise. */
uint32_t cw_reactor_batch(void);

/* Milliseconds on the monotonic clock, read once per loop iteration. */
uint64_t cw_reactor_now(void);
void cw_reactor_set_after_batch(void (*fn)(void));
/* One iteration: wait (at most max_wait_ms, or until the next timer), handle
 * events, fire timers, run the after-batch hook. Returns -1 if polling failed. */
int cw_reactor_run_once(int max_wait_ms);

#endif
