/* SPDX-License-Identifier: MIT */
/* test_post.c: cw_post, the one thread-safe call, on the real reactor and
 * wake-up descriptor: the answers (CW_EFULL with nothing queued when the
 * ring is full, CW_EINVAL, CW_ECLOSED), order per posting thread, and four
 * threads hammering it while the loop drains, every post run once. Built
 * by `make check-tsan` with clang's ThreadSanitizer and by SANITIZE=1 with
 * ASan/UBSan, so a data race or a lost post in the ring shows there. */
#include "chanwire.h"
#include "core/post.h"
#include "core/reactor.h"
#include "cw_config.h"
#include "unit.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

static struct { int dummy; } server_stub;
#define S ((cw_server *)(void *)&server_stub)

static unsigned long ran;
static uintptr_t last_arg;
static int out_of_order;

static void count(void *arg)
{
    if ((uintptr_t)arg != last_arg + 1)
        out_of_order++;
    last_arg = (uintptr_t)arg;
    ran++;
}

static void setup(void)
{
    CHECK(cw_reactor_init(16) == 0);
    CHECK(cw_posts_open() == 0);
    ran = 0;
    last_arg = 0;
    out_of_order = 0;
}

static void teardown(void)
{
    cw_posts_close();
    cw_reactor_fini();
}

static void test_answers(void)
{
    CHECK_EQ(cw_post(S, count, NULL), CW_ECLOSED); /* before start-up */
    setup();
    CHECK_EQ(cw_post(S, NULL, NULL), CW_EINVAL);
    CHECK_EQ(cw_post(NULL, count, NULL), CW_ECLOSED);
    /* fill the ring: the next post is refused and nothing is lost */
    for (uintptr_t i = 1; i <= CONFIG_POST_QUEUE; i++)
        CHECK_EQ(cw_post(S, count, (void *)i), 0);
    CHECK_EQ(cw_post(S, count, (void *)(uintptr_t)9999), CW_EFULL);
    CHECK_EQ(ran, 0); /* nothing runs outside the loop */
    CHECK_EQ(cw_reactor_run_once(1000), 0);
    CHECK_EQ(ran, CONFIG_POST_QUEUE);
    CHECK_EQ(out_of_order, 0);
    /* room again, and the ring wraps round (3 posts, or a whole ring of 2) */
    const uintptr_t more = CONFIG_POST_QUEUE < 3 ? CONFIG_POST_QUEUE : 3;
    for (uintptr_t i = CONFIG_POST_QUEUE + 1; i <= CONFIG_POST_QUEUE + more; i++)
        CHECK_EQ(cw_post(S, count, (void *)i), 0);
    CHECK_EQ(cw_reactor_run_once(1000), 0);
    CHECK_EQ(ran, CONFIG_POST_QUEUE + more);
    CHECK_EQ(out_of_order, 0);
    /* an idle loop does not spin on the wake-up: it waits out its timeout */
    CHECK_EQ(cw_reactor_run_once(0), 0);
    CHECK_EQ(ran, CONFIG_POST_QUEUE + more);
    teardown();
    CHECK_EQ(cw_post(S, count, NULL), CW_ECLOSED); /* after the end */
}

/* A post that posts again from the loop thread runs in a later pass. */
static int chain_left;
static void chain(void *arg)
{
    (void)arg;
    ran++;
    if (--chain_left > 0)
        CHECK_EQ(cw_post(S, chain, NULL), 0);
}

static void test_post_from_a_post(void)
{
    setup();
    chain_left = 3;
    CHECK_EQ(cw_post(S, chain, NULL), 0);
    for (int i = 0; i < 10 && chain_left > 0; i++)
        CHECK_EQ(cw_reactor_run_once(1000), 0);
    CHECK_EQ(ran, 3);
    teardown();
}

/* ---- several threads at once ---- */

#define THREADS 4
#define PER_THREAD 50000

static uint32_t next_seq[THREADS];
static int bad_seq;
static unsigned long hammer_ran;
static atomic_ulong refused;

static void per_thread(void *arg)
{
    uintptr_t v = (uintptr_t)arg;
    unsigned t = (unsigned)(v >> 24);
    uint32_t seq = (uint32_t)(v & 0xffffff);
    if (t >= THREADS || seq != next_seq[t])
        bad_seq++;
    else
        next_seq[t]++;
    hammer_ran++;
}

static void *producer(void *arg)
{
    uintptr_t t = (uintptr_t)arg;
    for (uintptr_t i = 0; i < PER_THREAD; i++) {
        int rc;
        while ((rc = cw_post(S, per_thread, (void *)(t << 24 | i))) == CW_EFULL) {
            atomic_fetch_add(&refused, 1);
            sched_yield();
        }
        if (rc != 0)
            return (void *)1;
    }
    return NULL;
}

static void test_threads_hammer(void)
{
    setup();
    memset(next_seq, 0, sizeof next_seq);
    bad_seq = 0;
    hammer_ran = 0;
    pthread_t th[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_create(&th[i], NULL, producer, (void *)i), 0);
    /* The loop drains until every post ran; a bound against a lost wake-up
     * turning into a hang (each pass waits at most one second). */
    for (int pass = 0; hammer_ran < (unsigned long)THREADS * PER_THREAD && pass < 2000000; pass++)
        if (cw_reactor_run_once(1000) < 0)
            break;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(th[i], &r);
        CHECK(r == NULL);
    }
    CHECK_EQ(hammer_ran, (unsigned long)THREADS * PER_THREAD);
    CHECK_EQ(bad_seq, 0);
    for (int i = 0; i < THREADS; i++)
        CHECK_EQ(next_seq[i], PER_THREAD);
    teardown();
}

int main(void)
{
    RUN(test_answers);
    RUN(test_post_from_a_post);
    RUN(test_threads_hammer);
    return cw_unit_done();
}
