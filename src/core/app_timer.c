/* SPDX-License-Identifier: MIT */
/* app_timer.c: the application's timers (cw_timer_*, CONFIG_APP_TIMERS).
 * The reactor's wheel ticks every CONFIG_TIMER_TICK_MS, too coarse for a
 * device app, so these keep their own list, sorted by deadline in
 * milliseconds, linked through the caller's struct cw_timer (no pool, no
 * allocation). Inserting walks from the latest deadline back (a periodic
 * timer usually goes last): O(armed timers) at worst, meant for the tens a
 * device program has. The reactor asks for the next deadline before it
 * waits and runs the due ones after its wheel (core/reactor.h). */
#include "chanwire.h"
#include "core/conn.h"
#include "core/reactor.h"
#include "port.h"

#include <stddef.h>

/* The armed timers, soonest first (a sentinel), and those being fired in
 * this pass: a callback may stop or re-arm any of them. */
static cw_timer armed = {&armed, &armed, 0, 0, NULL, NULL, NULL};
static cw_timer firing = {&firing, &firing, 0, 0, NULL, NULL, NULL};
static unsigned conn_tied; /* armed timers tied to a connection */

static void unlink_t(cw_timer *t)
{
    t->prev_->next_ = t->next_;
    t->next_->prev_ = t->prev_;
    t->next_ = t->prev_ = NULL;
    if (t->conn_)
        conn_tied--;
}

static void insert(cw_timer *t)
{
    cw_timer *p = armed.prev_;
    while (p != &armed && p->due_ > t->due_)
        p = p->prev_;
    t->prev_ = p;
    t->next_ = p->next_;
    p->next_->prev_ = t;
    p->next_ = t;
    if (t->conn_)
        conn_tied++;
}

void cw_timer_init(cw_timer *t, cw_timer_cb cb, void *arg)
{
    t->next_ = t->prev_ = NULL;
    t->due_ = 0;
    t->period_ = 0;
    t->cb_ = cb;
    t->arg_ = arg;
    t->conn_ = NULL;
}

static int start(cw_timer *t, cw_conn *c, uint32_t first_ms, uint32_t period_ms)
{
    if (!t || !t->cb_)
        return CW_EINVAL;
    cw_timer_stop(t);
    t->conn_ = c;
    t->period_ = period_ms;
    t->due_ = cw_port_now_ms() + first_ms;
    insert(t);
    return 0;
}

int cw_timer_start(cw_server *s, cw_timer *t, uint32_t first_ms, uint32_t period_ms)
{
    if (!s)
        return CW_EINVAL;
    return start(t, NULL, first_ms, period_ms);
}

int cw_timer_start_conn(cw_conn *c, cw_timer *t, uint32_t first_ms, uint32_t period_ms)
{
    if (!c || !cw_conn_consumer(c) || (c->flags & CW_CF_NOTIFIED) || c->state == CW_ST_CLOSED ||
        c->state == CW_ST_FREE)
        return CW_EINVAL;
    return start(t, c, first_ms, period_ms);
}

void cw_timer_stop(cw_timer *t)
{
    if (t && t->next_)
        unlink_t(t);
}

int cw_timer_active(const cw_timer *t)
{
    return t && t->next_ != NULL;
}

int cw_app_timers_timeout(void)
{
    if (armed.next_ == &armed)
        return -1;
    uint64_t now = cw_port_now_ms(), due = armed.next_->due_;
    if (due <= now)
        return 0;
    return due - now > 0x7fffffff ? 0x7fffffff : (int)(due - now);
}

void cw_app_timers_run(uint64_t now)
{
    /* Take what is due now onto the firing list first: what the callbacks
     * arm, even for "now", waits for the next pass (no endless loop). */
    while (armed.next_ != &armed && armed.next_->due_ <= now) {
        cw_timer *t = armed.next_;
        t->prev_->next_ = t->next_;
        t->next_->prev_ = t->prev_;
        t->prev_ = firing.prev_;
        t->next_ = &firing;
        firing.prev_->next_ = t;
        firing.prev_ = t;
    }
    while (firing.next_ != &firing) {
        cw_timer *t = firing.next_;
        cw_conn *c = t->conn_;
        unlink_t(t);
        if (t->period_) {
            /* The next deadline on the grid of the first: skip the periods
             * the loop missed rather than firing them in a burst. */
            uint64_t next = t->due_ + t->period_;
            if (next <= now) {
                /* 32-bit arithmetic (no 64-bit division on 32-bit
                 * targets): a lag past 2^32 ms (49 days) restarts the grid */
                uint64_t lag = now - next;
                if (lag > UINT32_MAX)
                    next = now + t->period_;
                else
                    next += (uint64_t)((uint32_t)lag / t->period_ * t->period_) + t->period_;
            }
            t->due_ = next;
            t->conn_ = c;
            insert(t);
        }
        t->cb_(t, t->arg_);
    }
}

/* c's consumer is gone (core/conn.c, after disconnect or a refusal): its
 * timers stop, also those due in the pass running now. */
void cw_app_timers_conn_closed(cw_conn *c)
{
    if (!conn_tied)
        return;
    cw_timer *lists[2] = {&armed, &firing};
    for (int i = 0; i < 2; i++) {
        for (cw_timer *t = lists[i]->next_, *nx; t != lists[i]; t = nx) {
            nx = t->next_;
            if (t->conn_ == c)
                unlink_t(t);
        }
    }
}
