/* SPDX-License-Identifier: MIT */
/* loopapp.c: a test program that uses the application loop API the way a
 * device app would, for tests/integration/test_loop.py and itest_noalloc:
 * timers tied to connections, a pipe watched for readiness, posts from
 * threads started at start-up, deferred accept decided from a timer or a
 * post, and (with --foreign) its own poll() main loop driving chanwire
 * through cw_loop_fd / cw_loop_timeout / cw_loop_service with signals left
 * to it. Routes:
 *   /ws/echo/                    echo
 *   /ws/tick/?n=N&ms=M           "tick K" every M ms from a timer tied to
 *                                the connection, N times
 *   /ws/defer/?how=H&ms=M        connect answers CW_PENDING; after M ms a
 *                                timer (H=accept|refuse) or a thread's post
 *                                (H=post) decides; H=never lets the
 *                                handshake deadline pass
 *   /ws/pipe/                    a thread writes 20 lines into a pipe and
 *                                closes it; the watch relays "line K" and
 *                                then "hup"
 *   /ws/posts/?n=N               4 threads post N times each; the total
 *                                comes back as "posts T full F"
 *   /ws/hdr/                     extra 101 headers on an immediate accept
 *   /ws/state/                   the counters as JSON on each message */
#include "chanwire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXC 64
#define THREADS 4

static cw_server *srv;

/* Counters the test reads through /ws/state/. */
static unsigned long late_ticks;     /* a tick timer fired for a closed connection */
static unsigned long pending_disc;   /* disconnect of a pending connection */
static unsigned long pending_gone;   /* a decision found its connection gone */
static unsigned long decided;        /* accepts and refusals made */
static unsigned long bad_refused;    /* bad cw_accept / cw_accept_headers calls refused */
static unsigned long nested_refused; /* cw_loop_service from a callback refused (--foreign) */
static int foreign;

static long query_num(cw_conn *c, const char *name, long dflt)
{
    const char *v = cw_query(c, name);
    return v ? strtol(v, NULL, 10) : dflt;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ---- echo ---- */

static void echo_receive(cw_conn *c, const cw_msg *m)
{
    if (m->opcode == CW_TEXT)
        cw_send_text(c, (const char *)m->data, m->len);
    else
        cw_send_binary(c, m->data, m->len);
}

static const cw_consumer echo = {.receive = echo_receive};

/* ---- ticks: a timer per connection slot, tied to the connection ---- */

static struct tick {
    cw_timer t;
    cw_conn *c;
    int left, n;
    int closed; /* set by disconnect: a callback after it is a bug */
} ticks[MAXC];

static void on_tick(cw_timer *t, void *arg)
{
    struct tick *k = arg;
    if (k->closed) {
        late_ticks++;
        cw_timer_stop(t);
        return;
    }
    if (foreign && cw_loop_service(srv) == CW_EINVAL)
        nested_refused++; /* the loop does not nest */
    char msg[32];
    int n = snprintf(msg, sizeof msg, "tick %d", k->n - k->left + 1);
    cw_send_text(k->c, msg, (size_t)n);
    if (--k->left == 0)
        cw_timer_stop(t);
}

static int tick_connect(cw_conn *c)
{
    unsigned id = cw_conn_id(c);
    if (id >= MAXC)
        return 503;
    struct tick *k = &ticks[id];
    k->c = c;
    k->n = k->left = (int)query_num(c, "n", 5);
    k->closed = 0;
    long ms = query_num(c, "ms", 20);
    cw_timer_init(&k->t, on_tick, k);
    return cw_timer_start_conn(c, &k->t, (uint32_t)ms, (uint32_t)ms) == 0 ? 0 : 500;
}

static void tick_disconnect(cw_conn *c, int code)
{
    (void)code;
    ticks[cw_conn_id(c)].closed = 1;
}

static const cw_consumer tick = {.connect = tick_connect, .disconnect = tick_disconnect};

/* ---- deferred accept ---- */

static struct pend {
    cw_conn_ref ref;
    cw_timer t;
    char how[8];
    int waiting; /* connect answered CW_PENDING, no decision yet */
} pend[MAXC], *pend_of[MAXC];

static void decide(struct pend *p)
{
    cw_conn *c = cw_conn_get(p->ref);
    if (!c) {
        pending_gone++;
        return;
    }
    decided++;
    p->waiting = 0;
    if (strcmp(p->how, "refuse") == 0) {
        cw_refuse(c, 451);
        return;
    }
    const char *sub = cw_offers_subprotocol(c, "chat") ? "chat" : NULL;
    /* Refused without harm: a header chanwire owns, a bare LF, no colon,
     * a subprotocol the client did not offer. Counted for /ws/state/. */
    static const char *const bad[] = {"Upgrade: h2c\r\n", "X-A: 1\nX-B: 2\r\n", "NoColon\r\n",
                                      "Sec-WebSocket-Extensions: x\r\n", "X-Ctl: a\x01\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cw_accept(c, NULL, bad[i]) == CW_EINVAL)
            bad_refused++;
    if (cw_accept(c, "nope", NULL) == CW_ENOENT)
        bad_refused++;
    int rc = cw_accept(c, sub, "Set-Cookie: sid=abc123; Path=/; HttpOnly\r\nX-Loop: decided\r\n");
    if (cw_accept(c, NULL, NULL) == CW_EINVAL && cw_refuse(c, 400) == CW_EINVAL)
        bad_refused++; /* no longer pending */
    if (rc == 0) {
        char msg[48];
        int n = snprintf(msg, sizeof msg, "accepted %s", p->how);
        cw_send_text(c, msg, (size_t)n);
    }
}

static void on_decide_timer(cw_timer *t, void *arg)
{
    (void)t;
    decide(arg);
}

static void on_decide_post(void *arg)
{
    decide(arg);
}

/* The poster threads: each waits for work on its own pipe. */
static int work_pipe[THREADS][2];
static atomic_long posted_total;
static atomic_long full_answers;

struct job {
    int kind;   /* 1: one delayed decision post; 2: n counting posts */
    int ms;
    long n;
    struct pend *p;
    cw_conn_ref ref;
};

static unsigned long post_sum;   /* loop thread only */
static long post_want;
static cw_conn_ref post_client;

static void on_count_post(void *arg)
{
    post_sum += (unsigned long)(uintptr_t)arg;
    if ((long)post_sum == post_want) {
        cw_conn *c = cw_conn_get(post_client);
        if (c) {
            char msg[64];
            int n = snprintf(msg, sizeof msg, "posts %lu full %ld", post_sum,
                             (long)atomic_load(&full_answers));
            cw_send_text(c, msg, (size_t)n);
        }
    }
}

static void *poster(void *arg)
{
    int i = (int)(intptr_t)arg;
    struct job j;
    while (read(work_pipe[i][0], &j, sizeof j) == (ssize_t)sizeof j) {
        if (j.kind == 1) {
            sleep_ms(j.ms);
            while (cw_post(srv, on_decide_post, j.p) == CW_EFULL)
                sleep_ms(1);
        } else {
            for (long k = 0; k < j.n; k++) {
                int rc;
                while ((rc = cw_post(srv, on_count_post, (void *)(uintptr_t)1)) == CW_EFULL) {
                    atomic_fetch_add(&full_answers, 1);
                    sched_yield();
                }
                if (rc == 0)
                    atomic_fetch_add(&posted_total, 1);
            }
        }
    }
    return NULL;
}

static void give(int thread, const struct job *j)
{
    ssize_t w = write(work_pipe[thread][1], j, sizeof *j);
    (void)w;
}

static int defer_connect(cw_conn *c)
{
    /* A record per request, not per slot: a decision still armed for a
     * client that left must not be re-initialised by the next one. */
    static unsigned next;
    struct pend *p = &pend[next++ % MAXC];
    if (cw_timer_active(&p->t))
        return 503;
    pend_of[cw_conn_id(c) % MAXC] = p;
    const char *how = cw_query(c, "how");
    snprintf(p->how, sizeof p->how, "%s", how ? how : "accept");
    p->ref = cw_conn_ref_of(c);
    p->waiting = 1;
    int ms = (int)query_num(c, "ms", 50);
    if (strcmp(p->how, "never") == 0)
        return CW_PENDING;
    if (strcmp(p->how, "post") == 0) {
        struct job j = {1, ms, 0, p, p->ref};
        give(0, &j);
        return CW_PENDING;
    }
    cw_timer_init(&p->t, on_decide_timer, p);
    cw_timer_start(srv, &p->t, (uint32_t)ms, 0); /* not tied: it must find the handle dead */
    return CW_PENDING;
}

static void defer_disconnect(cw_conn *c, int code)
{
    (void)code;
    struct pend *p = pend_of[cw_conn_id(c) % MAXC];
    if (p && p->waiting)
        pending_disc++; /* the client left, or the deadline passed, undecided */
    if (p)
        p->waiting = 0;
}

static const cw_consumer defer = {.receive = echo_receive, .connect = defer_connect,
                                  .disconnect = defer_disconnect};

/* ---- a pipe watched for readiness ---- */

static int pipe_w = -1;
static cw_conn_ref pipe_client;
static char pipe_buf[512];
static size_t pipe_len;

static void on_pipe(cw_watch *w, int fd, unsigned events, void *arg)
{
    (void)arg;
    cw_conn *c = cw_conn_get(pipe_client);
    if (events & CW_WATCH_IN) {
        ssize_t n = read(fd, pipe_buf + pipe_len, sizeof pipe_buf - pipe_len);
        if (n > 0) {
            pipe_len += (size_t)n;
            char *nl;
            while ((nl = memchr(pipe_buf, '\n', pipe_len)) != NULL) {
                size_t l = (size_t)(nl - pipe_buf);
                if (c)
                    cw_send_text(c, pipe_buf, l);
                memmove(pipe_buf, nl + 1, pipe_len - l - 1);
                pipe_len -= l + 1;
            }
            return;
        }
        if (n < 0 && errno == EAGAIN)
            return;
    }
    if (events & (CW_WATCH_HUP | CW_WATCH_ERR | CW_WATCH_IN)) {
        /* EOF (read 0) or hang-up: the writer is done */
        if (c)
            cw_send_text(c, (events & CW_WATCH_HUP) ? "hup" : "eof", 3);
        cw_watch_stop(w);
        close(fd);
    }
}

static int pipe_connect(cw_conn *c)
{
    int p[2];
    if (pipe(p) < 0)
        return 500;
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    cw_watch *w;
    if (cw_watch_start(srv, p[0], CW_WATCH_IN, on_pipe, NULL, &w) < 0) {
        close(p[0]);
        close(p[1]);
        return 503;
    }
    pipe_client = cw_conn_ref_of(c);
    pipe_len = 0;
    pipe_w = p[1];
    struct job j = {3, 0, 0, NULL, pipe_client};
    give(1, &j);
    return 0;
}

static const cw_consumer piper = {.connect = pipe_connect};

/* The pipe writer runs in thread 1 for jobs of kind 3. */
static void *pipe_writer(void *arg)
{
    (void)arg;
    struct job j;
    while (read(work_pipe[1][0], &j, sizeof j) == (ssize_t)sizeof j) {
        int fd = pipe_w;
        for (int i = 1; i <= 20; i++) {
            char line[32];
            int n = snprintf(line, sizeof line, "line %d\n", i);
            ssize_t w = write(fd, line, (size_t)n);
            (void)w;
            sleep_ms(2);
        }
        close(fd);
    }
    return NULL;
}

/* ---- posts from threads ---- */

static int posts_connect(cw_conn *c)
{
    long n = query_num(c, "n", 1000);
    post_sum = 0;
    post_want = n * (THREADS - 2);
    post_client = cw_conn_ref_of(c);
    atomic_store(&full_answers, 0);
    struct job j = {2, 0, n, NULL, post_client};
    for (int i = 2; i < THREADS; i++)
        give(i, &j);
    return 0;
}

static const cw_consumer posts = {.connect = posts_connect};

/* ---- state ---- */

static void state_receive(cw_conn *c, const cw_msg *m)
{
    (void)m;
    char msg[200];
    int n = snprintf(msg, sizeof msg,
                     "{\"late_ticks\":%lu,\"pending_disc\":%lu,\"pending_gone\":%lu,"
                     "\"decided\":%lu,\"bad_refused\":%lu,\"nested_refused\":%lu}",
                     late_ticks, pending_disc, pending_gone, decided, bad_refused, nested_refused);
    cw_send_text(c, msg, (size_t)n);
}

static const cw_consumer state = {.receive = state_receive};

/* Extra headers on an immediate accept; bad ones refused first. */
static int hdr_connect(cw_conn *c)
{
    if (cw_accept_headers(c, "Connection: close\r\n") == CW_EINVAL &&
        cw_accept_headers(c, "X-Long: ") == CW_EINVAL)
        bad_refused++;
    char big[CW_ACCEPT_HEADERS_MAX + 20];
    memset(big, 'a', sizeof big);
    memcpy(big, "X-Big: ", 7);
    memcpy(big + sizeof big - 3, "\r\n", 3);
    if (cw_accept_headers(c, big) == CW_ETOOBIG)
        bad_refused++;
    return cw_accept_headers(c, "Set-Cookie: theme=dark; Path=/\r\nX-Device: loopapp\r\n") == 0 ? 0
                                                                                            : 500;
}

static const cw_consumer hdr = {.connect = hdr_connect, .receive = echo_receive};

static const cw_route routes[] = {
    {"/ws/echo/", &echo, 0},   {"/ws/tick/", &tick, 0},   {"/ws/defer/", &defer, 0},
    {"/ws/pipe/", &piper, 0},  {"/ws/posts/", &posts, 0}, {"/ws/state/", &state, 0},
    {"/ws/hdr/", &hdr, 0},
};

/* ---- the program's own loop (--foreign) ---- */

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
    (void)sig;
    got_term = 1;
}

static int foreign_loop(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: poll returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* The poll build has no loop descriptor: what it offers is the
     * timeout and a service call made at least every few ms. */
    int fd = cw_loop_fd(srv);
    for (;;) {
        if (got_term) {
            got_term = 0;
            cw_stop(srv); /* the graceful shutdown, asked explicitly */
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        int wait = cw_loop_timeout(srv);
        if (fd < 0 && (wait < 0 || wait > 5))
            wait = 5;
        int rc = poll(&pfd, fd < 0 ? 0 : 1, wait);
        if (rc < 0 && errno != EINTR)
            return 1;
        rc = cw_loop_service(srv);
        if (rc < 0)
            return 1;
        if (rc == 1)
            return 0;
    }
}

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:0";
    unsigned hs_ms = 1000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--foreign") == 0)
            foreign = 1;
        else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen = argv[++i];
        else if (strcmp(argv[i], "--handshake-timeout") == 0 && i + 1 < argc)
            hs_ms = (unsigned)atoi(argv[++i]);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    cw_options o;
    cw_options_init(&o);
    o.routes = routes;
    o.nroutes = sizeof routes / sizeof routes[0];
    o.max_conns = MAXC - 8;
    o.handshake_timeout_ms = hs_ms;
    o.no_signals = foreign;
    o.log_level = CW_LOG_INFO;
    srv = cw_server_init(&o);
    if (!srv)
        return 1;
    char err[200];
    if (cw_listen(srv, listen, err, sizeof err) < 0) {
        fprintf(stderr, "loopapp: %s\n", err);
        return 1;
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_t th;
        if (pipe(work_pipe[i]) < 0 ||
            pthread_create(&th, NULL, i == 1 ? pipe_writer : poster, (void *)(intptr_t)i) != 0)
            return 1;
        pthread_detach(th);
    }
    cw_log(CW_LOG_INFO, "listening on %s (port %d)%s", listen, cw_listen_port(srv, 0),
           foreign ? " foreign loop" : "");
    int rc = foreign ? foreign_loop() : (cw_run(srv) < 0);
    cw_server_fini(srv);
    return rc;
}
