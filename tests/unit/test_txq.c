/* SPDX-License-Identifier: MIT */
/* test_txq.c: the send queue over the global byte pools: packing small
 * frames into one block, spanning blocks, all-or-nothing on exhaustion,
 * shared frames and their reference counts, partial consumption and iovec
 * gathering. */
#include "base/buf.h"
#include "chanwire.h"
#include "cw_config.h"
#include "base/txq.h"
#include "unit.h"

#include <string.h>

#define SEG_ROOM (CONFIG_IO_BUF_SIZE - sizeof(cw_txseg))

static uint8_t pattern[8 * CONFIG_IO_BUF_SIZE];

static void setup(void)
{
    cw_buf_init();
    cw_txq_init();
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (uint8_t)(i * 31 + (i >> 9));
}

/* Concatenates the queue's iovecs; returns the byte count. */
static size_t gather(const cw_txq *q, uint8_t *out, size_t cap, int *niov)
{
    struct iovec iov[64];
    int n = cw_txq_iov(q, iov, 64);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        if (total + iov[i].iov_len <= cap)
            memcpy(out + total, iov[i].iov_base, iov[i].iov_len);
        total += iov[i].iov_len;
    }
    if (niov)
        *niov = n;
    return total;
}

static int segments(const cw_txq *q)
{
    int n = 0;
    for (const cw_txseg *s = q->head; s; s = s->next)
        n++;
    return n;
}

static void test_empty(void)
{
    setup();
    cw_txq q = {0};
    struct iovec iov[4];
    CHECK_EQ(cw_txq_iov(&q, iov, 4), 0);
    /* appending nothing takes no block */
    CHECK_EQ(cw_txq_append(&q, NULL, 0, NULL, 0), 0);
    CHECK(q.head == NULL);
    CHECK_EQ(q.bytes, 0);
    CHECK_EQ(cw_buf_io_pool.used, 0);
    cw_txq_consume(&q, 0);
    cw_txq_clear(&q);
    CHECK(q.head == NULL && q.tail == NULL);
}

static void test_pack_into_one_block(void)
{
    setup();
    cw_txq q = {0};
    static uint8_t want[4096], got[4096];
    size_t w = 0;
    /* a header and a payload per call, as queue_frame does */
    for (int i = 0; i < 20; i++) {
        uint8_t hdr[2] = {0x81, (uint8_t)(10 + i)};
        CHECK_EQ(cw_txq_append(&q, hdr, 2, pattern + i * 50, (size_t)(10 + i)), 0);
        memcpy(want + w, hdr, 2);
        memcpy(want + w + 2, pattern + i * 50, (size_t)(10 + i));
        w += 12 + (size_t)i;
    }
    CHECK_EQ(q.bytes, w);
    CHECK_EQ(cw_buf_io_pool.used, 1); /* all in one block */
    CHECK_EQ(segments(&q), 1);
    int niov;
    CHECK_EQ(gather(&q, got, sizeof got, &niov), w);
    CHECK_EQ(niov, 1); /* one iovec: one write for the whole burst */
    CHECK_MEM(got, want, w);
    /* filling the block exactly does not take another */
    size_t room = SEG_ROOM - w;
    CHECK_EQ(cw_txq_append(&q, pattern, room - 1, pattern, 1), 0);
    CHECK_EQ(cw_buf_io_pool.used, 1);
    CHECK_EQ(q.bytes, SEG_ROOM);
    /* one more byte does */
    CHECK_EQ(cw_txq_append(&q, "x", 1, NULL, 0), 0);
    CHECK_EQ(cw_buf_io_pool.used, 2);
    CHECK_EQ(segments(&q), 2);
    cw_txq_clear(&q);
    CHECK_EQ(cw_buf_io_pool.used, 0);
    CHECK_EQ(q.bytes, 0);
}

static void test_span_blocks(void)
{
    setup();
    cw_txq q = {0};
    size_t n = 3 * SEG_ROOM + 5;
    CHECK_EQ(cw_txq_append(&q, pattern, 10, pattern + 10, n - 10), 0);
    CHECK_EQ(q.bytes, n);
    CHECK_EQ(cw_buf_io_pool.used, 4);
    struct iovec iov[8];
    CHECK_EQ(cw_txq_iov(&q, iov, 8), 4);
    CHECK_EQ(iov[0].iov_len, SEG_ROOM);
    CHECK_EQ(iov[1].iov_len, SEG_ROOM);
    CHECK_EQ(iov[2].iov_len, SEG_ROOM);
    CHECK_EQ(iov[3].iov_len, 5);
    static uint8_t got[sizeof pattern];
    CHECK_EQ(gather(&q, got, sizeof got, NULL), n);
    CHECK_MEM(got, pattern, n);
    /* fewer iovecs than segments: the first ones, in order */
    CHECK_EQ(cw_txq_iov(&q, iov, 2), 2);
    CHECK(iov[0].iov_base == q.head->data);
    /* a second append continues in the tail block's room */
    CHECK_EQ(cw_txq_append(&q, pattern + n, 100, NULL, 0), 0);
    CHECK_EQ(cw_buf_io_pool.used, 4);
    CHECK_EQ(gather(&q, got, sizeof got, NULL), n + 100);
    CHECK_MEM(got, pattern, n + 100);
    cw_txq_clear(&q);
    CHECK_EQ(cw_buf_io_pool.used, 0);
}

static void test_all_or_nothing(void)
{
    setup();
    cw_txq q = {0};
    CHECK_EQ(cw_txq_append(&q, pattern, 100, NULL, 0), 0);
    CHECK_EQ(cw_buf_io_pool.used, 1);
    /* two more blocks may be had */
    cw_buf_io_pool.limit = 3;
    cw_txseg *head = q.head, *tail = q.tail;
    uint32_t bytes = q.bytes, fails = cw_buf_io_pool.failures;
    /* needs the tail's room plus three blocks: refused, nothing changes */
    size_t too_much = (SEG_ROOM - 100) + 2 * SEG_ROOM + 1;
    CHECK_EQ(cw_txq_append(&q, pattern, 1, pattern, too_much - 1), CW_ENOMEM);
    CHECK(q.head == head && q.tail == tail);
    CHECK_EQ(q.bytes, bytes);
    CHECK_EQ(q.tail->len, 100);
    CHECK(q.tail->next == NULL);
    CHECK_EQ(cw_buf_io_pool.used, 1);
    CHECK_EQ(cw_buf_io_pool.failures, fails + 1);
    /* exactly what fits: accepted */
    CHECK_EQ(cw_txq_append(&q, pattern, 1, pattern + 1, too_much - 2), 0);
    CHECK_EQ(cw_buf_io_pool.used, 3);
    CHECK_EQ(q.bytes, 100 + too_much - 1);
    /* now even one byte more than the tail's room is refused */
    CHECK_EQ(SEG_ROOM - q.tail->len, 0);
    CHECK_EQ(cw_txq_append(&q, "x", 1, NULL, 0), CW_ENOMEM);
    CHECK_EQ(q.bytes, 100 + too_much - 1);
    /* and after sending some, blocks come back and it fits again */
    cw_txq_consume(&q, SEG_ROOM);
    CHECK_EQ(cw_buf_io_pool.used, 2);
    CHECK_EQ(cw_txq_append(&q, "x", 1, NULL, 0), 0);
    cw_txq_clear(&q);
    CHECK_EQ(cw_buf_io_pool.used, 0);
    cw_buf_io_pool.limit = cw_buf_io_pool.count;
    /* an empty queue with no block to be had */
    cw_buf_io_pool.limit = 0;
    cw_txq e = {0};
    CHECK_EQ(cw_txq_append(&e, "x", 1, NULL, 0), CW_ENOMEM);
    CHECK(e.head == NULL && e.tail == NULL);
    CHECK_EQ(e.bytes, 0);
    cw_buf_io_pool.limit = cw_buf_io_pool.count;
}

static void test_shared(void)
{
    setup();
    cw_txq_shared *sh = cw_txq_shared_new(100);
    CHECK(sh != NULL);
    if (!sh)
        return;
    CHECK_EQ(sh->refs, 1);
    CHECK_EQ(sh->len, 100);
    CHECK_EQ(cw_buf_io_pool.used, 1); /* small: an I/O block */
    memcpy(sh->data, pattern, 100);
    cw_txq q[3] = {{0}, {0}, {0}};
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(cw_txq_append_shared(&q[i], sh), 0);
        CHECK_EQ(q[i].bytes, 100);
    }
    CHECK_EQ(sh->refs, 4);
    CHECK_EQ(cw_txq_ref_pool.used, 3);
    CHECK_EQ(cw_buf_io_pool.used, 1); /* not copied */
    /* the iovec points at the shared bytes themselves */
    struct iovec iov[2];
    CHECK_EQ(cw_txq_iov(&q[1], iov, 2), 1);
    CHECK(iov[0].iov_base == sh->data);
    CHECK_EQ(iov[0].iov_len, 100);
    /* the encoder's own reference goes */
    cw_txq_shared_unref(sh);
    CHECK_EQ(sh->refs, 3);
    /* one queue sends part, another all, the third is cleared */
    cw_txq_consume(&q[0], 40);
    CHECK_EQ(sh->refs, 3);
    CHECK_EQ(cw_txq_iov(&q[0], iov, 2), 1);
    CHECK(iov[0].iov_base == sh->data + 40);
    CHECK_EQ(iov[0].iov_len, 60);
    cw_txq_consume(&q[1], 100);
    CHECK_EQ(sh->refs, 2);
    CHECK(q[1].head == NULL && q[1].tail == NULL);
    cw_txq_clear(&q[2]);
    CHECK_EQ(sh->refs, 1);
    CHECK_EQ(cw_txq_ref_pool.used, 1);
    cw_txq_consume(&q[0], 60);
    /* the last reference returns the buffer */
    CHECK_EQ(cw_txq_ref_pool.used, 0);
    CHECK_EQ(cw_buf_io_pool.used, 0);
    /* large shared frames come from the message pool */
    sh = cw_txq_shared_new(CONFIG_IO_BUF_SIZE);
    if ((size_t)CONFIG_MAX_MESSAGE_SIZE >= sizeof(cw_txq_shared) + CONFIG_IO_BUF_SIZE) {
        CHECK(sh != NULL);
        CHECK_EQ(cw_buf_msg_pool.used, 1);
        cw_txq_shared_unref(sh);
        CHECK(cw_txq_shared_new((size_t)CONFIG_MAX_MESSAGE_SIZE) == NULL);
    } else {
        /* Kconfig allows message blocks no larger than an I/O block (make
         * randconfig-check found this case assuming larger): a frame too
         * large for an I/O block then has no pool, and the caller copies. */
        CHECK(sh == NULL);
    }
    CHECK_EQ(cw_buf_msg_pool.used, 0);
}

static void test_shared_between_owned(void)
{
    setup();
    cw_txq q = {0};
    cw_txq_shared *sh = cw_txq_shared_new(10);
    memcpy(sh->data, "SHAREDDATA", 10);
    CHECK_EQ(cw_txq_append(&q, "ab", 2, "cd", 2), 0);
    CHECK_EQ(cw_txq_append_shared(&q, sh), 0);
    /* owned bytes after a shared segment start a new block */
    CHECK_EQ(cw_txq_append(&q, "ef", 2, NULL, 0), 0);
    CHECK_EQ(cw_txq_append(&q, "gh", 2, NULL, 0), 0);
    CHECK_EQ(segments(&q), 3);
    CHECK_EQ(q.bytes, 18);
    uint8_t got[32];
    int niov;
    CHECK_EQ(gather(&q, got, sizeof got, &niov), 18);
    CHECK_EQ(niov, 3);
    CHECK_MEM(got, "abcdSHAREDDATAefgh", 18);
    /* consume across the segment boundaries */
    cw_txq_consume(&q, 3);
    CHECK_EQ(gather(&q, got, sizeof got, &niov), 15);
    CHECK_MEM(got, "dSHAREDDATAefgh", 15);
    cw_txq_consume(&q, 5); /* "d" and "SHAR" */
    CHECK_EQ(segments(&q), 2);
    CHECK_EQ(q.bytes, 10);
    CHECK_EQ(gather(&q, got, sizeof got, &niov), 10);
    CHECK_EQ(niov, 2);
    CHECK_MEM(got, "EDDATAefgh", 10);
    cw_txq_consume(&q, 6);
    CHECK_EQ(segments(&q), 1);
    CHECK_EQ(sh->refs, 1);
    cw_txq_shared_unref(sh);
    CHECK_EQ(cw_txq_ref_pool.used, 0);
    cw_txq_consume(&q, 4);
    CHECK(q.head == NULL && q.tail == NULL);
    CHECK_EQ(q.bytes, 0);
    CHECK_EQ(cw_buf_io_pool.used, 0);
    /* the queue is usable again after draining */
    CHECK_EQ(cw_txq_append(&q, "again", 5, NULL, 0), 0);
    CHECK_EQ(gather(&q, got, sizeof got, NULL), 5);
    CHECK_MEM(got, "again", 5);
    cw_txq_clear(&q);
}

static void test_shared_ref_exhaustion(void)
{
    setup();
    cw_txq_shared *sh = cw_txq_shared_new(4);
    cw_txq_ref_pool.limit = 2;
    cw_txq q = {0};
    CHECK_EQ(cw_txq_append_shared(&q, sh), 0);
    CHECK_EQ(cw_txq_append_shared(&q, sh), 0);
    uint32_t bytes = q.bytes;
    cw_txseg *tail = q.tail;
    CHECK_EQ(cw_txq_append_shared(&q, sh), CW_ENOMEM);
    CHECK_EQ(sh->refs, 3); /* no reference taken for the refused entry */
    CHECK_EQ(q.bytes, bytes);
    CHECK(q.tail == tail);
    cw_txq_clear(&q);
    CHECK_EQ(sh->refs, 1);
    cw_txq_shared_unref(sh);
    CHECK_EQ(cw_buf_io_pool.used, 0);
    cw_txq_ref_pool.limit = cw_txq_ref_pool.count;
}

static void test_consume_partial(void)
{
    setup();
    cw_txq q = {0};
    size_t n = 2 * SEG_ROOM + 300;
    CHECK_EQ(cw_txq_append(&q, pattern, n, NULL, 0), 0);
    CHECK_EQ(cw_buf_io_pool.used, 3);
    static uint8_t got[sizeof pattern];
    /* consume in odd steps, checking the rest each time */
    size_t sent = 0;
    const size_t steps[] = {1, 2, SEG_ROOM / 3, SEG_ROOM - 3 - SEG_ROOM / 3, 1, SEG_ROOM, 299};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        cw_txq_consume(&q, steps[i]);
        sent += steps[i];
        CHECK_EQ(q.bytes, n - sent);
        size_t left = gather(&q, got, sizeof got, NULL);
        CHECK_EQ(left, n - sent);
        CHECK_MEM(got, pattern + sent, left);
    }
    CHECK_EQ(sent, n);
    CHECK(q.head == NULL);
    CHECK_EQ(cw_buf_io_pool.used, 0);
    /* blocks return one by one at the exact boundary */
    CHECK_EQ(cw_txq_append(&q, pattern, n, NULL, 0), 0);
    cw_txq_consume(&q, SEG_ROOM - 1);
    CHECK_EQ(cw_buf_io_pool.used, 3);
    cw_txq_consume(&q, 1);
    CHECK_EQ(cw_buf_io_pool.used, 2);
    cw_txq_consume(&q, SEG_ROOM);
    CHECK_EQ(cw_buf_io_pool.used, 1);
    cw_txq_consume(&q, 300);
    CHECK_EQ(cw_buf_io_pool.used, 0);
    CHECK(q.head == NULL && q.tail == NULL);
}

static void test_iov_limits(void)
{
    setup();
    cw_txq q = {0};
    cw_txq_shared *sh[5];
    for (int i = 0; i < 5; i++) {
        sh[i] = cw_txq_shared_new(8);
        memset(sh[i]->data, '0' + i, 8);
        CHECK_EQ(cw_txq_append_shared(&q, sh[i]), 0);
        cw_txq_shared_unref(sh[i]);
    }
    struct iovec iov[5];
    memset(iov, 0, sizeof iov);
    CHECK_EQ(cw_txq_iov(&q, iov, 3), 3);
    CHECK(iov[0].iov_base == sh[0]->data);
    CHECK(iov[2].iov_base == sh[2]->data);
    CHECK(iov[3].iov_base == NULL); /* not written past max */
    CHECK_EQ(cw_txq_iov(&q, iov, 0), 0);
    CHECK_EQ(cw_txq_iov(&q, iov, 5), 5);
    /* a fully sent head segment is freed by consume, never an empty iovec */
    cw_txq_consume(&q, 8);
    CHECK_EQ(cw_txq_iov(&q, iov, 5), 4);
    CHECK(iov[0].iov_base == sh[1]->data);
    /* a zero-length shared frame gives no iovec */
    cw_txq_shared *z = cw_txq_shared_new(0);
    CHECK_EQ(cw_txq_append_shared(&q, z), 0);
    cw_txq_shared_unref(z);
    CHECK_EQ(cw_txq_iov(&q, iov, 5), 4);
    cw_txq_clear(&q);
    CHECK_EQ(cw_txq_ref_pool.used, 0);
    CHECK_EQ(cw_buf_io_pool.used, 0);
}

/* The reserve: ordinary appends leave the pool's last blocks alone, an
 * answer (HTTP status, close frame) and the 101 in front may take them. */
static void test_reserve_for_answers(void)
{
    setup();
    cw_buf_io_pool.limit = 4;
    cw_buf_io_pool.reserve = 2;
    cw_txq q = {0}, a = {0}, u = {0};
    CHECK_EQ(cw_pool_free_count(&cw_buf_io_pool), 2);
    CHECK_EQ(cw_txq_append(&q, pattern, SEG_ROOM, NULL, 0), 0);
    CHECK_EQ(cw_txq_append(&q, pattern, SEG_ROOM, NULL, 0), 0);
    CHECK_EQ(cw_pool_free_count(&cw_buf_io_pool), 0);
    /* traffic: refused although two blocks are free */
    CHECK_EQ(cw_txq_append(&q, "x", 1, NULL, 0), CW_ENOMEM);
    CHECK(cw_pool_get(&cw_buf_io_pool) == NULL);
    /* an answer and a 101 in front: taken from the reserve */
    CHECK_EQ(cw_txq_append_answer(&a, "HTTP/1.1 503", 12, NULL, 0), 0);
    CHECK_EQ(cw_txq_prepend(&u, "HTTP/1.1 101", 12), 0);
    CHECK_EQ(cw_buf_io_pool.used, 4);
    /* and even an answer gets nothing past the limit */
    cw_txq z = {0};
    CHECK_EQ(cw_txq_append_answer(&z, "x", 1, NULL, 0), CW_ENOMEM);
    cw_txq_clear(&q);
    cw_txq_clear(&a);
    cw_txq_clear(&u);
    CHECK_EQ(cw_buf_io_pool.used, 0);
    cw_buf_io_pool.reserve = 0;
    cw_buf_io_pool.limit = cw_buf_io_pool.count;
}

/* Small shared frames are packed into blocks: a burst of broadcasts takes
 * a block per pack, not one each; a pack goes back with its last frame; a
 * frame too large for a pack has a block of its own. */
static void test_shared_frames_packed(void)
{
    setup();
    enum { N = 200 };
    static cw_txq_shared *sh[N];
    for (int i = 0; i < N; i++) {
        sh[i] = cw_txq_shared_new(40);
        CHECK(sh[i] != NULL);
        memset(sh[i]->data, i, 40);
    }
    uint32_t per_pack = (CONFIG_IO_BUF_SIZE - 8) / 48;
    CHECK_EQ(cw_buf_io_pool.used, (N + per_pack - 1) / per_pack);
    for (int i = 0; i < N; i++) /* none overlaps another */
        CHECK(sh[i]->len == 40 && sh[i]->data[0] == (uint8_t)i && sh[i]->data[39] == (uint8_t)i);
    cw_txq_shared *big = cw_txq_shared_new(CONFIG_IO_BUF_SIZE - 8);
    CHECK(big != NULL);
    uint32_t with_big = cw_buf_io_pool.used + cw_buf_msg_pool.used;
    for (int i = 0; i < N; i += 2)
        cw_txq_shared_unref(sh[i]);
    CHECK_EQ(cw_buf_io_pool.used + cw_buf_msg_pool.used, with_big); /* every pack still holds one */
    for (int i = 1; i < N; i += 2)
        cw_txq_shared_unref(sh[i]);
    cw_txq_shared_unref(big);
    CHECK_EQ(cw_buf_io_pool.used, 0);
    CHECK_EQ(cw_buf_msg_pool.used, 0);
    /* a pack's frame shared by queues lives until the last lets go */
    cw_txq q1 = {0}, q2 = {0};
    cw_txq_shared *s1 = cw_txq_shared_new(10);
    CHECK_EQ(cw_txq_append_shared(&q1, s1), 0);
    CHECK_EQ(cw_txq_append_shared(&q2, s1), 0);
    cw_txq_shared_unref(s1);
    cw_txq_clear(&q1);
    CHECK_EQ(cw_buf_io_pool.used, 1);
    cw_txq_clear(&q2);
    CHECK_EQ(cw_buf_io_pool.used, 0);
}

int main(void)
{
    RUN(test_empty);
    RUN(test_pack_into_one_block);
    RUN(test_span_blocks);
    RUN(test_all_or_nothing);
    RUN(test_shared);
    RUN(test_shared_between_owned);
    RUN(test_shared_ref_exhaustion);
    RUN(test_consume_partial);
    RUN(test_iov_limits);
    RUN(test_reserve_for_answers);
    RUN(test_shared_frames_packed);
    return cw_unit_done();
}
