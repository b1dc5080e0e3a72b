/* SPDX-License-Identifier: MIT */
/* test_watch.c: descriptor watches on the real reactor (epoll, or poll in
 * the host-poll build) and real pipes: readiness in and out, hang-up and
 * error reported, interest changed and watches stopped from callbacks (a
 * stopped watch gets nothing more, even an event already collected in the
 * same batch, and its slot is not handed out again in that batch), and the
 * documented answers for closed descriptors, duplicates and a full pool. */
#include "chanwire.h"
#include "core/reactor.h"
#include "core/watch.h"
#include "cw_config.h"
#include "port.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct { int dummy; } server_stub;
#define S ((cw_server *)(void *)&server_stub)

typedef struct {
    cw_watch *w;
    int calls;
    unsigned last, all;
    int stop_self;
    int drain;          /* read what is there */
    cw_watch **stop_other;
    int *start_fd;      /* start a watch on this fd */
    int start_want;     /* cw_watch_start's expected answer for it */
    cw_watch *started;
    unsigned set_to;    /* cw_watch_set to this (when set_now) */
    int set_now;
} rec;

static rec *recs_seen[16];
static int nseen;

static void cb(cw_watch *w, int fd, unsigned events, void *arg)
{
    rec *r = arg;
    CHECK(w == r->w);
    r->calls++;
    r->last = events;
    r->all |= events;
    if (nseen < 16)
        recs_seen[nseen++] = r;
    if (r->drain && (events & CW_WATCH_IN)) {
        char buf[256];
        while (read(fd, buf, sizeof buf) > 0)
            ;
    }
    if (r->stop_other && *r->stop_other)
        cw_watch_stop(*r->stop_other);
    if (r->start_fd) {
        static rec child;
        memset(&child, 0, sizeof child);
        int rc = cw_watch_start(S, *r->start_fd, CW_WATCH_IN, cb, &child, &r->started);
        CHECK_EQ(rc, r->start_want);
        if (rc == 0)
            child.w = r->started;
    }
    if (r->set_now)
        CHECK_EQ(cw_watch_set(w, r->set_to), 0);
    if (r->stop_self)
        cw_watch_stop(w);
}

static void mkpipe(int p[2])
{
    CHECK_EQ(pipe(p), 0);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
}

/* The poller's capacity the server asks for (src/server.c): the poll
 * poller's array is sized for it, and refuses more. */
#define CAPACITY                                                                  \
    (CONFIG_MAX_CONNS + CONFIG_REJECT_SLOTS + CONFIG_MAX_LISTENERS + 8 + CONFIG_MAX_WATCHES + 1)

static void setup(void)
{
    CHECK_EQ(cw_reactor_init(CAPACITY), 0);
    cw_watches_init();
    nseen = 0;
}

static void teardown(void)
{
    cw_watches_fini();
    cw_reactor_fini();
}

static void test_readable_writable_paused(void)
{
    setup();
    int p[2];
    mkpipe(p);
    rec r = {0}, o = {0};
    CHECK_EQ(cw_watch_start(S, p[0], CW_WATCH_IN, cb, &r, &r.w), 0);
    CHECK_EQ(cw_reactor_run_once(0), 0);
    CHECK_EQ(r.calls, 0);
    CHECK_EQ(write(p[1], "x", 1), 1);
    CHECK_EQ(cw_reactor_run_once(1000), 0);
    CHECK_EQ(r.calls, 1);
    CHECK_EQ(r.last, CW_WATCH_IN);
    /* level-triggered: unread data comes again */
    CHECK_EQ(cw_reactor_run_once(1000), 0);
    CHECK_EQ(r.calls, 2);
    /* paused: nothing, though data waits; resumed: it comes */
    CHECK_EQ(cw_watch_set(r.w, 0), 0);
    CHECK_EQ(cw_reactor_run_once(0), 0);
    CHECK_EQ(r.calls, 2);
    CHECK_EQ(cw_watch_set(r.w, CW_WATCH_IN), 0);
    r.drain = 1;
    CHECK_EQ(cw_reactor_run_once(1000), 0);
    CHECK_EQ(r.calls, 3);
    CHECK_EQ(cw_reactor_run_once(0), 0);
    CHECK_EQ(r.calls, 3);
    /* the write end: writable at once; asked to stop asking from its own
     * callback, it is not called again */
    o.set_now = 1;
    o.set_to = 0;
#if CONFIG_MAX_WATCHES < 2
    /* one slot, held by the read end: the write end is refused until the
     * read end is stopped (outside a batch: its slot is free at once) */
    CHECK_EQ(cw_watch_start(S, p[1], CW_WATCH_OUT, cb, &o, &o.w), CW_ENOMEM);
    CHECK(o.w == NULL);
    cw_watch_stop(r.w);
#endif
    CHECK_EQ(cw_watch_start(S, p[1], CW_WATCH_OUT, cb, &o, &o.w), 0);
    if (!o.w) {
        close(p[0]);
        close(p[1]);
        teardown();
        return;
    }
    CHECK_EQ(cw_reactor_run_once(1000), 0);
    CHECK_EQ(o.calls, 1);
    CHECK_EQ(o.last, CW_WATCH_OUT);
    CHECK_EQ(cw_reactor_run_once(0), 0);
    CHECK_EQ(o.calls, 1);
    /* bad arguments */
    CHECK_EQ(cw_watch_set(o.w, 4), CW_EINVAL);
    CHECK_EQ(cw_watch_set(NULL, 0), CW_EINVAL);
    cw_watch_stop(o.w);
    cw_watch_stop(r.w);
    cw_watch_stop(r.w); /* twice: nothing */
    CHECK_EQ(cw_watch_set(r.w, CW_WATCH_IN), CW_EINVAL);
    close(p[0]);
    close(p[1]);
    teardown();
}

static void test_hang_up_and_error(void)
{
    setup();
    int p[2], q[2];
    mkpipe(p);
    mkpipe(q);
    rec r = {0}, e = {0};
    r.drain = 1;
    CHECK_EQ(cw_watch_start(S, p[0], CW_WATCH_IN, cb, &r, &r.w), 0);
    close(p[1]); /* the writer goes away */
    CHECK_EQ(cw_reactor_run_once(1000), 0);
    CHECK_EQ(r.calls, 1);
    CHECK(r.last & CW_WATCH_HUP);
    CHECK(!(r.last & CW_WATCH_ERR));
    /* a hang-up comes even to a paused watch */
    CHECK_EQ(cw_watch_set(r.w, 0), 0);
    CHECK_EQ(cw_reactor_run_once(1000), 0);
    CHECK_EQ(r.calls, 2);
    CHECK_EQ(r.last, CW_WATCH_HUP);
    cw_watch_stop(r.w);
    close(p[0]);
    /* writing into a pipe nobody reads: an error condition */
    CHECK_EQ(cw_watch_start(S, q[1], CW_WATCH_OUT, cb, &e, &e.w), 0);
    close(q[0]);
    e.stop_self = 1;
    CHECK_EQ(cw_reactor_run_once(1000), 0);
    CHECK_EQ(e.calls, 1);
    CHECK(e.last & CW_WATCH_ERR);
    CHECK_EQ(cw_reactor_run_once(0), 0);
    CHECK_EQ(e.calls, 1); /* stopped in its callback */
    close(q[1]);
    teardown();
}

static void test_stop_another_in_the_same_batch(void)
{
    setup();
    int p[2], q[2], n[2];
    mkpipe(p);
    mkpipe(q);
    mkpipe(n);
    rec a = {0}, b = {0};
    CHECK_EQ(write(p[1], "x", 1), 1);
    CHECK_EQ(write(q[1], "y", 1), 1);
    CHECK_EQ(write(n[1], "z", 1), 1);
#if CONFIG_MAX_WATCHES >= 2
    CHECK_EQ(cw_watch_start(S, p[0], CW_WATCH_IN, cb, &a, &a.w), 0);
    CHECK_EQ(cw_watch_start(S, q[0], CW_WATCH_IN, cb, &b, &b.w), 0);
    /* both readable in one batch; whichever runs first stops the other and
     * starts a watch on a third pipe: the event collected for the stopped
     * one must not reach it, nor the new watch (not given its slot). With
     * two slots the stopped one's is the only one free: refused. */
    a.stop_other = &b.w;
    b.stop_other = &a.w;
    a.start_fd = &n[0];
    b.start_fd = &n[0];
    a.start_want = b.start_want = CONFIG_MAX_WATCHES >= 3 ? 0 : CW_ENOMEM;
    a.drain = b.drain = 1; /* the one left is not ready again */
    CHECK_EQ(cw_reactor_run_once(1000), 0);
    CHECK_EQ(a.calls + b.calls, 1);
    cw_watch *stopped = a.calls ? b.w : a.w;
    cw_watch *fresh = a.calls ? a.started : b.started;
#if CONFIG_MAX_WATCHES >= 3
    CHECK(fresh != NULL && fresh != stopped);
#else
    CHECK(fresh == NULL);
#endif
#else
    /* one slot: a watch that stops itself and starts another in the same
     * batch is refused (its slot is not handed out in that batch) */
    CHECK_EQ(cw_watch_start(S, p[0], CW_WATCH_IN, cb, &a, &a.w), 0);
    CHECK_EQ(cw_watch_start(S, q[0], CW_WATCH_IN, cb, &b, &b.w), CW_ENOMEM);
    a.stop_other = &a.w;
    a.start_fd = &n[0];
    a.start_want = CW_ENOMEM;
    CHECK_EQ(cw_reactor_run_once(1000), 0);
    CHECK_EQ(a.calls, 1);
    CHECK_EQ(b.calls, 0);
    cw_watch *stopped = a.w;
    cw_watch *fresh = a.started;
    CHECK(fresh == NULL);
#endif
#if CONFIG_MAX_WATCHES < 3
    /* after the batch the stopped slot is free again: the new watch gets it
     * and its data */
    rec c = {0};
    c.drain = 1;
    CHECK_EQ(cw_watch_start(S, n[0], CW_WATCH_IN, cb, &c, &c.w), 0);
    CHECK(c.w != NULL && c.w == stopped);
    int before = a.calls + b.calls;
    CHECK_EQ(cw_reactor_run_once(1000), 0);
    CHECK_EQ(c.calls, 1);
    CHECK_EQ(c.last, CW_WATCH_IN);
    CHECK_EQ(a.calls + b.calls, before); /* the stopped one: nothing */
    fresh = c.w;
#endif
    cw_watch_stop(fresh);
    if (a.w != fresh)
        cw_watch_stop(a.w);
    if (b.w != fresh)
        cw_watch_stop(b.w);
    for (int i = 0; i < 2; i++) {
        close(p[i]);
        close(q[i]);
        close(n[i]);
    }
    teardown();
}

static void test_answers(void)
{
    setup();
    int p[2];
    mkpipe(p);
    rec r = {0}, r2 = {0};
    cw_watch *w = NULL;
    /* a closed or invalid descriptor: CW_EINVAL, EBADF, nothing watched */
    int closed = dup(p[0]);
    close(closed);
    errno = 0;
    CHECK_EQ(cw_watch_start(S, closed, CW_WATCH_IN, cb, &r, &w), CW_EINVAL);
    CHECK_EQ(errno, EBADF);
    CHECK_EQ(cw_watch_start(S, -1, CW_WATCH_IN, cb, &r, &w), CW_EINVAL);
    CHECK_EQ(cw_watch_start(S, p[0], 4, cb, &r, &w), CW_EINVAL);
    CHECK_EQ(cw_watch_start(S, p[0], CW_WATCH_IN, NULL, &r, &w), CW_EINVAL);
    CHECK_EQ(cw_watch_start(NULL, p[0], CW_WATCH_IN, cb, &r, &w), CW_EINVAL);
    CHECK(w == NULL);
    CHECK_EQ(cw_watch_start(S, p[0], CW_WATCH_IN, cb, &r, &r.w), 0);
    CHECK_EQ(cw_watch_start(S, p[0], CW_WATCH_OUT, cb, &r2, &w), CW_EEXIST);
    cw_watch_stop(r.w);
    /* a full pool: CW_ENOMEM */
    static int fds[CONFIG_MAX_WATCHES + 1][2];
    static rec many[CONFIG_MAX_WATCHES + 1];
    for (int i = 0; i < CONFIG_MAX_WATCHES; i++) {
        mkpipe(fds[i]);
        CHECK_EQ(cw_watch_start(S, fds[i][0], CW_WATCH_IN, cb, &many[i], &many[i].w), 0);
    }
    mkpipe(fds[CONFIG_MAX_WATCHES]);
    CHECK_EQ(cw_watch_start(S, fds[CONFIG_MAX_WATCHES][0], CW_WATCH_IN, cb, &r, &w), CW_ENOMEM);
    /* a slot stopped outside a batch is free again after one */
    cw_watch_stop(many[0].w);
    CHECK_EQ(cw_reactor_run_once(0), 0);
    CHECK_EQ(cw_watch_start(S, fds[CONFIG_MAX_WATCHES][0], CW_WATCH_IN, cb, &r, &w), 0);
    cw_watch_stop(w);
    for (int i = 0; i <= CONFIG_MAX_WATCHES; i++) {
        if (i < CONFIG_MAX_WATCHES)
            cw_watch_stop(many[i].w);
        close(fds[i][0]);
        close(fds[i][1]);
    }
#if !defined(CONFIG_POLLER_POLL)
    /* epoll refuses regular files (they are always ready): CW_ESYS */
    char path[] = "/tmp/cw-watch-XXXXXX";
    int f = mkstemp(path);
    CHECK(f >= 0);
    unlink(path);
    CHECK_EQ(cw_watch_start(S, f, CW_WATCH_IN, cb, &r, &w), CW_ESYS);
    close(f);
#endif
    close(p[0]);
    close(p[1]);
    teardown();
}

int main(void)
{
    RUN(test_readable_writable_paused);
    RUN(test_hang_up_and_error);
    RUN(test_stop_another_in_the_same_batch);
    RUN(test_answers);
    return cw_unit_done();
}
