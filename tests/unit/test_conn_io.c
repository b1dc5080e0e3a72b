/* SPDX-License-Identifier: MIT */
/* test_conn_io: the connection state machine driven through a real socket
 * pair and the reactor, with consumers that do what a careless one would:
 * a receive whose send fails on the socket (its message must stay valid
 * until receive returns) and a connect that sends a large frame (which
 * must follow the 101, and never reach a client that connect refuses); a
 * message that trickles in is cut at its deadline, one that arrives in
 * time is not; a consumer that lists groups goes through the open upcall
 * before its connect (500 without one, its refusal undone). */
#include "base/buf.h"
#include "base/log.h"
#include "base/txq.h"
#include "core/conn.h"
#include "core/reactor.h"
#include "core/runtime.h"
#include "cw_config.h"
#include "unit.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static uint8_t big[CONFIG_IO_BUF_SIZE * 2];

/* ---- a server without listeners: one socket pair per test ---- */

static cw_route route;

static void setup(const cw_consumer *k)
{
    memset(&cw_rt, 0, sizeof cw_rt);
    cw_options_init(&cw_rt.opt);
    cw_log_set_level(-1);
    cw_rt.www_fd = -1;
    route.pattern = "/ws/t/";
    route.consumer = k;
    route.flags = 0;
    cw_rt.opt.routes = &route;
    cw_rt.opt.nroutes = 1;
    cw_buf_init();
    cw_txq_init();
    cw_conn_pool_init(CONFIG_MAX_CONNS);
    cw_reactor_init(16);
    cw_reactor_set_after_batch(NULL);
    memset(big, 'b', sizeof big);
}

static void teardown(void)
{
    cw_conn_abort_all();
    cw_conn_after_batch();
    cw_reactor_fini();
}

/* The client's end; the server's end is handed to the connection layer. */
static int open_pair(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return -1;
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    cw_port_peer peer;
    memset(&peer, 0, sizeof peer);
    cw_conn_start(sv[0], &peer, 0, 0);
    return sv[1];
}

/* A few reactor batches, each followed by the after-batch pass. */
static void spin(int n)
{
    for (int i = 0; i < n; i++) {
        cw_reactor_run_once(20);
        cw_conn_after_batch();
    }
}

static const char request[] = "GET /ws/t/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n";

/* Everything the server sent until it closed or went quiet. */
static size_t read_all(int fd, uint8_t *out, size_t cap)
{
    size_t n = 0;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    for (int idle = 0; idle < 20 && n < cap;) {
        spin(1);
        ssize_t r = read(fd, out + n, cap - n);
        if (r > 0) {
            n += (size_t)r;
            idle = 0;
        } else if (r == 0) {
            break;
        } else {
            idle++;
        }
    }
    return n;
}

/* Opens a pair and sends the upgrade request; the client's end. */
static int open_and_request(void)
{
    int fd = open_pair();
    CHECK(fd >= 0);
    CHECK(write(fd, request, sizeof request - 1) == (ssize_t)(sizeof request - 1));
    return fd;
}

/* open_and_request, then the 101 read off the wire. */
static int open_upgraded(void)
{
    int fd = open_and_request();
    uint8_t head[512];
    spin(3);
    CHECK(read(fd, head, sizeof head) > 12 && memcmp(head, "HTTP/1.1 101", 12) == 0);
    return fd;
}

/* Where needle first stands in hay[0..n), or NULL (memmem is not POSIX). */
static const uint8_t *find(const uint8_t *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return hay + i;
    return NULL;
}

/* A masked client frame (mask 0: the payload goes as it is). */
static size_t frame(uint8_t *out, unsigned op, int fin, const char *p)
{
    size_t n = strlen(p);
    out[0] = (uint8_t)((fin ? 0x80 : 0) | op);
    out[1] = (uint8_t)(0x80 | n); /* n < 126 */
    memset(out + 2, 0, 4);
    memcpy(out + 6, p, n);
    return 6 + n;
}

/* ---- a receive whose send fails keeps its message ---- */

static int recv_calls, recv_send_rc, recv_block_reused, recv_data_intact;

static void receive_after_send_failure(cw_conn *c, const cw_msg *m)
{
    recv_calls++;
    /* The peer is gone: a send of a block or more goes straight to the
     * socket and fails there. */
    recv_send_rc = cw_send_binary(c, big, sizeof big);
    /* m->data must still be ours: no pool hands its block out again, and
     * what a new block receives does not show through it. */
    size_t cap;
    uint8_t *other = cw_buf_get(m->len, &cap);
    recv_block_reused = other == m->data;
    if (other) {
        memset(other, 'X', cap);
        cw_buf_put(other);
    }
    recv_data_intact = m->len == 11 && memcmp(m->data, "hello world", 11) == 0;
}

static const cw_consumer failing_receiver = {NULL, receive_after_send_failure, NULL, NULL, NULL};

static void message_survives_a_failed_send_in_receive(void)
{
    setup(&failing_receiver);
    recv_calls = recv_send_rc = recv_block_reused = recv_data_intact = 0;
    int fd = open_upgraded();
    /* Two fragments: the message is reassembled in a pool block. */
    uint8_t frames[64];
    size_t n = frame(frames, 1, 0, "hello ");
    n += frame(frames + n, 0, 1, "world");
    CHECK(write(fd, frames, n) == (ssize_t)n);
    close(fd);
    spin(3);
    CHECK_EQ(recv_calls, 1);
    CHECK(recv_send_rc < 0);
    CHECK_EQ(recv_block_reused, 0);
    CHECK_EQ(recv_data_intact, 1);
    spin(2);
    CHECK_EQ(cw_conn_count(), 0);
    CHECK_EQ(cw_buf_io_pool.used + cw_buf_msg_pool.used, 0);
    teardown();
}

/* ---- frames sent from connect follow the 101 ---- */

static int refuse_after_sending;

static int connect_sends_big_frame(cw_conn *c)
{
    cw_send_binary(c, big, sizeof big);
    return refuse_after_sending ? 403 : 0;
}

static const cw_consumer big_sender = {connect_sends_big_frame, NULL, NULL, NULL, NULL};

static uint8_t wire[sizeof big + 4096];

static void frame_from_connect_follows_the_101(void)
{
    setup(&big_sender);
    refuse_after_sending = 0;
    int fd = open_and_request();
    size_t n = read_all(fd, wire, sizeof wire);
    CHECK(n > 12 && memcmp(wire, "HTTP/1.1 101", 12) == 0);
    const uint8_t *end = find(wire, n, "\r\n\r\n");
    CHECK(end != NULL);
    if (end) {
        /* then exactly the frame: FIN+binary, 127-length form or 126 */
        const uint8_t *f = end + 4;
        size_t left = n - (size_t)(f - wire);
        CHECK(left >= 4 && f[0] == 0x82);
        size_t hl = f[1] == 126 ? 4 : 10;
        CHECK_EQ(left, hl + sizeof big);
    }
    close(fd);
    spin(3);
    teardown();
}

static void refused_connect_sends_no_frame(void)
{
    setup(&big_sender);
    refuse_after_sending = 1;
    int fd = open_and_request();
    size_t n = read_all(fd, wire, sizeof wire);
    CHECK(n > 12 && memcmp(wire, "HTTP/1.1 403", 12) == 0);
    /* nothing but the 403 response: no frame bytes before or after it */
    CHECK(find(wire, n, "bbbbbbbb") == NULL);
    close(fd);
    spin(3);
    CHECK_EQ(cw_conn_count(), 0);
    teardown();
}

/* ---- the message deadline ---- */

static int echoed;

static void echo_receive(cw_conn *c, const cw_msg *m)
{
    echoed++;
    cw_send_binary(c, m->data, m->len);
}

static const cw_consumer echoer = {NULL, echo_receive, NULL, NULL, NULL};

/* Opens an echo connection with the given deadline; the client's end. */
static int open_echo(unsigned timeout_ms)
{
    setup(&echoer);
    cw_rt.opt.message_timeout_ms = timeout_ms;
    echoed = 0;
    return open_upgraded();
}

/* A frame announcing 1000 bytes whose payload comes a byte at a time, one
 * every 30 ms (so the connection is never idle): closed 1008 once the
 * 300 ms deadline has passed, its buffer back in the pool. */
static void trickled_message_is_cut_at_its_deadline(void)
{
    int fd = open_echo(300);
    /* 1000 bytes, or the longest message allowed (125 at least: still more
     * than the trickle sends) */
    const unsigned len = CONFIG_MAX_MESSAGE_SIZE < 1000 ? CONFIG_MAX_MESSAGE_SIZE : 1000;
    uint8_t hdr[8] = {0x82, 0x80 | 126, (uint8_t)(len >> 8), (uint8_t)(len & 255), 0, 0, 0, 0};
    size_t hn = sizeof hdr;
    if (len <= 125) { /* the 7-bit length form, as a client must use */
        hdr[1] = (uint8_t)(0x80 | len);
        hdr[2] = hdr[3] = 0; /* the mask */
        hn = 6;
    }
    CHECK(write(fd, hdr, hn) == (ssize_t)hn);
    uint8_t got[64];
    ssize_t n = -1;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    for (int i = 0; i < 100 && n <= 0; i++) { /* at most 3 s */
        if (write(fd, "x", 1) != 1)
            break;
        spin(1);
        usleep(10000);
        n = read(fd, got, sizeof got);
    }
    /* a close frame with 1008 */
    CHECK(n >= 4 && got[0] == 0x88 && got[2] == 1008 >> 8 && got[3] == (1008 & 255));
    CHECK_EQ(cw_rt.stats.message_timeouts, 1);
    CHECK_EQ(echoed, 0);
    close(fd);
    spin(3);
    CHECK_EQ(cw_conn_count(), 0);
    CHECK_EQ(cw_buf_io_pool.used + cw_buf_msg_pool.used, 0);
    teardown();
}

/* The same deadline, a message in two fragments 100 ms apart, and another
 * after a pause longer than the deadline: both echoed, nothing closed. */
static void message_in_time_is_not_cut(void)
{
    int fd = open_echo(300);
    uint8_t f[64];
    for (int round = 0; round < 2; round++) {
        CHECK(write(fd, f, frame(f, 2, 0, "part one ")) > 0);
        for (int i = 0; i < 10; i++) {
            spin(1);
            usleep(5000);
        }
        CHECK(write(fd, f, frame(f, 0, 1, "part two")) > 0);
        spin(3);
        for (int i = 0; i < 40; i++) { /* 400 ms with no message at all */
            spin(1);
            usleep(5000);
        }
    }
    CHECK_EQ(echoed, 2);
    CHECK_EQ(cw_rt.stats.message_timeouts, 0);
    uint8_t got[256];
    ssize_t n = read(fd, got, sizeof got);
    CHECK(n > 0 && got[0] == 0x82); /* the echoes, no close frame */
    close(fd);
    spin(3);
    teardown();
}

/* ---- a consumer's listed groups: the open upcall ---- */

static int opened, connected, closed_calls, open_answer;

static int fake_open(cw_conn *c)
{
    (void)c;
    opened++;
    CHECK_EQ(connected, 0); /* before connect, as Channels joins them */
    return open_answer;
}

static void fake_closed(cw_conn *c)
{
    (void)c;
    closed_calls++;
}

static int count_connect(cw_conn *c)
{
    (void)c;
    connected++;
    return 0;
}

static const char *const some_groups[] = {"g", NULL};
static const cw_consumer grouped = {count_connect, NULL, NULL, NULL, some_groups};

/* The status line the server answers the upgrade with ("101", "503"). */
static void upgrade_answers(const char *status)
{
    opened = connected = closed_calls = 0;
    int fd = open_and_request();
    size_t n = read_all(fd, wire, sizeof wire);
    CHECK(n > 12 && memcmp(wire + 9, status, 3) == 0);
    close(fd);
    spin(3);
}

static void listed_groups_go_through_the_open_upcall(void)
{
    setup(&grouped);
    /* Nothing registered (a build without groups): 500, connect not run. */
    cw_conn_on_open(NULL);
    cw_conn_on_closed(fake_closed);
    upgrade_answers("500");
    CHECK_EQ(connected, 0);
    /* Registered: joined before connect, then the 101. */
    cw_conn_on_open(fake_open);
    open_answer = 0;
    upgrade_answers("101");
    CHECK_EQ(opened, 1);
    CHECK_EQ(connected, 1);
    /* A full table: the hook's status, no connect, what was joined dropped. */
    open_answer = 503;
    upgrade_answers("503");
    CHECK_EQ(opened, 1);
    CHECK_EQ(connected, 0);
    CHECK_EQ(closed_calls, 1);
    /* A consumer without a list never reaches the hook. */
    teardown();
    setup(&big_sender);
    refuse_after_sending = 0;
    upgrade_answers("101");
    CHECK_EQ(opened, 0);
    cw_conn_on_open(NULL);
    cw_conn_on_closed(NULL);
    teardown();
}

int main(void)
{
    RUN(listed_groups_go_through_the_open_upcall);
    RUN(message_survives_a_failed_send_in_receive);
    RUN(frame_from_connect_follows_the_101);
    RUN(refused_connect_sends_no_frame);
    RUN(trickled_message_is_cut_at_its_deadline);
    RUN(message_in_time_is_not_cut);
    return cw_unit_done();
}
