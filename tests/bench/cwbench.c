/* SPDX-License-Identifier: MIT */
/* cwbench.c: the load generator of `make bench` and of the callgrind guard.
 * One thread, one epoll loop, many client WebSockets (RFC 6455 client side:
 * masked frames, every payload and its order checked). Prints one JSON line.
 * Scenarios: echo, fanout, idle, churn; the named ones are presets. */
#define _GNU_SOURCE
#include "wsclient.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum { M_ECHO, M_FANOUT, M_IDLE, M_CHURN };
enum { ST_FREE, ST_CONNECTING, ST_HANDSHAKE, ST_OPEN, ST_CLOSING, ST_DONE };
enum { PH_SETUP, PH_WARMUP, PH_MEASURE, PH_DRAIN, PH_CLOSE, PH_END };

#define PATTERN_LEN (1u << 17)
#define FAN_MSG_MAX 512
#define MAX_PUBS 64

/* ---- options ---- */

static struct {
    const char *scenario;
    int mode;
    int port;
    int conns;         /* echo/idle: connections; fanout: members; churn: sessions at once */
    int inflight;      /* echo: per connection; fanout: per publisher */
    size_t size;       /* echo: payload bytes; fanout: bytes of the "message" string */
    int binary;
    int publishers;
    double warmup, duration; /* seconds; duration 0: stop on count */
    long count;        /* > 0: stop after this many counted messages (deliveries, sessions) */
    long pid;          /* the server, for CPU time and RSS */
    int nsrc;          /* source addresses 127.0.0.1 .. 127.0.0.nsrc */
    int det;           /* deterministic: fixed seeds, one thing at a time */
    int batch;         /* connects/handshakes under way at once */
    int warm_conns;    /* idle: connections opened and closed before the baseline */
    double timeout;    /* hard bound on the whole run */
    const char *label;
    const char *room;
} opt = {
    .scenario = "echo", .mode = M_ECHO, .conns = 100, .inflight = 1, .size = 32,
    .publishers = 1, .warmup = 1.0, .duration = 3.0, .nsrc = 1, .batch = 100,
    .warm_conns = 100, .timeout = 180.0, .label = "server", .room = "bench",
};

/* ---- connections ---- */

typedef struct conn {
    int fd;
    int id;             /* index in conns[] */
    uint8_t state, msg_open, msg_op, got_close, dirty, is_pub, closing_sent;
    char key[CW_WSC_KEY_LEN + 1];
    uint8_t *rbuf;
    size_t rcap, rhead, rtail;
    uint8_t *wbuf;
    size_t wcap, whead, wtail;
    uint32_t send_seq, recv_seq; /* echo: next to send, next expected */
    size_t msg_off;             /* bytes of the current message checked so far */
    int64_t *ts;                /* echo: send times, ring of inflight */
    uint32_t *expect;           /* fanout: next sequence expected from each publisher */
    uint8_t *mbuf;              /* fanout: a message being reassembled */
    int64_t t0, t_close;        /* churn: session start; close sent */
    uint64_t session;           /* churn: which session this slot runs */
} conn;

static conn *conns;
static int nconns;
static int ep = -1;
static int64_t now; /* ns, refreshed after every epoll_wait */
static uint64_t rng = 0x243F6A8885A308D3ull;
static uint8_t *pattern;
static char errmsg[512];
static int failed;

/* ---- counters ---- */

static struct {
    int phase;
    int64_t t_start, t_phase, t_measure0, t_measure1, deadline;
    long opened, open_now, pending, closed_ok, close_timeouts;
    uint64_t msgs, msgs_at0, msgs_at1;         /* counted messages (replies, deliveries, sessions) */
    uint64_t sent, bytes_in, bytes_out;
    uint64_t sessions;                         /* churn */
    uint64_t published;                        /* fanout broadcasts */
    long rss_base, rss_idle, rss_after_echo;   /* idle, KiB */
    int idle_stage;
    long idle_echoed;
} st;

/* server and machine CPU snapshots */
typedef struct {
    double srv, self, busy, softirq, steal, procs, kthreads;
    int ok;
} cpu_snap;
static cpu_snap cpu0, cpu1;

/* fanout publishers */
typedef struct {
    int conn;
    uint32_t next, low;
    uint32_t *remaining; /* ring of inflight: members still to receive */
    int64_t *ts;
} pub_t;
static pub_t pubs[MAX_PUBS];

/* ---- latency histogram (log-linear, ~3%) ---- */

#define HBUCKETS (64 + 58 * 32)
static uint64_t hist[HBUCKETS];
static uint64_t hist_n;

static unsigned hbucket(uint64_t v)
{
    if (v < 64)
        return (unsigned)v;
    unsigned k = 63u - (unsigned)__builtin_clzll(v);
    unsigned sub = (unsigned)(v >> (k - 5)) & 31u;
    return 64u + (k - 6u) * 32u + sub;
}

static double hvalue(unsigned b)
{
    if (b < 64)
        return b;
    unsigned k = (b - 64u) / 32u + 6u, sub = (b - 64u) % 32u;
    double lo = ldexp(32.0 + sub, (int)k - 5);
    return lo + ldexp(0.5, (int)k - 5);
}

static void hrecord(int64_t ns)
{
    if (st.phase != PH_MEASURE)
        return;
    uint64_t v = ns < 0 ? 0 : (uint64_t)ns;
    unsigned b = hbucket(v);
    if (b >= HBUCKETS)
        b = HBUCKETS - 1;
    hist[b]++;
    hist_n++;
}

static double hpercentile(double q)
{
    if (!hist_n)
        return -1;
    uint64_t want = (uint64_t)ceil(q * (double)hist_n);
    if (want < 1)
        want = 1;
    uint64_t acc = 0;
    for (unsigned b = 0; b < HBUCKETS; b++) {
        acc += hist[b];
        if (acc >= want)
            return hvalue(b);
    }
    return hvalue(HBUCKETS - 1);
}

/* ---- small helpers ---- */

static int64_t clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t rnd(void)
{
    uint64_t x = rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    if (!failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errmsg, sizeof errmsg, fmt, ap);
        va_end(ap);
    }
    failed = 1;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "cwbench: out of memory (%zu bytes)\n", n);
        exit(2);
    }
    return p;
}

static void *xcalloc(size_t k, size_t n)
{
    void *p = calloc(k ? k : 1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "cwbench: out of memory\n");
        exit(2);
    }
    return p;
}

/* ---- /proc ---- */

static long proc_rss_kib(long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

static double proc_cpu_s(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p)
        return -1;
    p += 2;
    /* fields after the name: state(3) ... utime(14) stime(15) */
    unsigned long long ut = 0, stt = 0;
    int field = 3;
    char *save = NULL;
    for (char *t = strtok_r(p, " ", &save); t; t = strtok_r(NULL, " ", &save), field++) {
        if (field == 14)
            ut = strtoull(t, NULL, 10);
        if (field == 15) {
            stt = strtoull(t, NULL, 10);
            break;
        }
    }
    return (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
}

static void sys_cpu(double *busy, double *softirq, double *steal)
{
    *busy = *softirq = *steal = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return;
    unsigned long long v[10] = {0};
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
               &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) >= 8) {
        double hz = (double)sysconf(_SC_CLK_TCK);
        /* user nice system idle iowait irq softirq steal (guest is in user);
         * irq and softirq are mostly our own loopback traffic: apart */
        *busy = (double)(v[0] + v[1] + v[2] + v[7]) / hz;
        *softirq = (double)(v[5] + v[6]) / hz;
        *steal = (double)v[7] / hz;
    }
    fclose(f);
}

/* CPU seconds of every other process: user space (procs) and kernel threads (kthreads: ksoftirqd,
 * kworkers, which may carry our own traffic). Processes that both start
 * and end inside the window are missed; the /proc/stat residue sees them. */
static void other_procs(double *procs, double *kthreads)
{
    *procs = *kthreads = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return;
    long self = (long)getpid();
    double hz = (double)sysconf(_SC_CLK_TCK);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        long pid = strtol(e->d_name, NULL, 10);
        if (pid == self || pid == opt.pid)
            continue;
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = 0;
        char *p = strrchr(buf, ')');
        if (!p)
            continue;
        unsigned long flags = 0;
        unsigned long long ut = 0, stt = 0;
        long prio = 0, nice = 0;
        /* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
         * utime stime cutime cstime priority nice */
        if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %lu %*u %*u %*u %*u %llu %llu %*d %*d %ld %ld",
                   &flags, &ut, &stt, &prio, &nice) != 5)
            continue;
        /* Niced processes count in full: they take little CPU from a busy
         * server, but they delay its wake-ups, and a ping-pong workload
         * loses more than half its rate to a nice-19 fuzzer on the box. */
        (void)prio;
        (void)nice;
        double t = (double)(ut + stt) / hz;
        if (flags & 0x00200000ul) /* PF_KTHREAD */
            *kthreads += t;
        else
            *procs += t;
    }
    closedir(d);
}

static void snap(cpu_snap *s)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    s->self = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
              (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    s->srv = opt.pid > 0 ? proc_cpu_s(opt.pid) : -1;
    sys_cpu(&s->busy, &s->softirq, &s->steal);
    other_procs(&s->procs, &s->kthreads);
    s->ok = 1;
}

/* ---- payloads ---- */

static void pattern_init(void)
{
    pattern = xmalloc(PATTERN_LEN);
    for (size_t i = 0; i < PATTERN_LEN; i++)
        pattern[i] = (uint8_t)('a' + (i * 7 + i / 26) % 26);
}

static void hex8(uint8_t *out, uint32_t v)
{
    static const char hx[] = "0123456789abcdef";
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)hx[v & 15];
        v >>= 4;
    }
}

static size_t pat_start(int cid, uint32_t seq)
{
    return ((size_t)cid * 31u + (size_t)seq * 17u) % 4096u;
}

/* Echo payload of (connection, sequence): 16 hex digits, then the pattern. */
static void echo_payload(uint8_t *out, int cid, uint32_t seq, size_t size)
{
    uint8_t head[16];
    hex8(head, (uint32_t)cid);
    hex8(head + 8, seq);
    size_t h = size < 16 ? size : 16;
    memcpy(out, head, h);
    if (size > 16)
        memcpy(out + 16, pattern + pat_start(cid, seq), size - 16);
}

/* Checks p[0..n) against the echo payload's bytes [off, off+n). */
static int echo_check(const uint8_t *p, size_t n, int cid, uint32_t seq, size_t off)
{
    uint8_t head[16];
    hex8(head, (uint32_t)cid);
    hex8(head + 8, seq);
    while (n && off < 16) {
        if (*p != head[off])
            return -1;
        p++;
        n--;
        off++;
    }
    if (n && memcmp(p, pattern + pat_start(cid, seq) + (off - 16), n) != 0)
        return -1;
    return 0;
}

/* Fan-out message text: p<pub>-<seq>- then the pattern, size bytes. */
static size_t fan_text(char *out, int pub, uint32_t seq, size_t size)
{
    int n = snprintf(out, 32, "p%02d-%08x-", pub, seq);
    size_t k = (size_t)n;
    if (size > k) {
        memcpy(out + k, pattern + pat_start(pub, seq), size - k);
        k = size;
    }
    out[k] = 0;
    return k;
}

/* ---- framing ---- */

static void mask_bytes(uint8_t *p, size_t n, const uint8_t key[4])
{
    uint32_t k32;
    memcpy(&k32, key, 4);
    uint64_t k64 = (uint64_t)k32 << 32 | k32;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        w ^= k64;
        memcpy(p + i, &w, 8);
    }
    for (; i < n; i++)
        p[i] ^= key[i & 3];
}

/* dst = src ^ key, the key starting at position off (a multiple of 4 here). */
static void mask_copy(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key[4], size_t off)
{
    uint8_t k[4] = {key[off & 3], key[(off + 1) & 3], key[(off + 2) & 3], key[(off + 3) & 3]};
    uint32_t k32;
    memcpy(&k32, k, 4);
    uint64_t k64 = (uint64_t)k32 << 32 | k32;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, src + i, 8);
        w ^= k64;
        memcpy(dst + i, &w, 8);
    }
    for (; i < n; i++)
        dst[i] = src[i] ^ k[i & 3];
}

static void wreserve(conn *c, size_t need)
{
    if (c->wtail + need <= c->wcap)
        return;
    if (c->whead > 0) {
        memmove(c->wbuf, c->wbuf + c->whead, c->wtail - c->whead);
        c->wtail -= c->whead;
        c->whead = 0;
    }
    if (c->wtail + need > c->wcap) {
        size_t cap = c->wcap ? c->wcap : 256;
        while (cap < c->wtail + need)
            cap *= 2;
        uint8_t *nb = realloc(c->wbuf, cap);
        if (!nb) {
            fprintf(stderr, "cwbench: out of memory\n");
            exit(2);
        }
        c->wbuf = nb;
        c->wcap = cap;
    }
}

/* Appends a masked frame; the payload is written by fill() (or copied). */
static uint8_t *frame_begin(conn *c, unsigned op, size_t len)
{
    wreserve(c, CW_WSC_MAX_HEADER + len);
    uint8_t key[4];
    uint64_t r = rnd();
    memcpy(key, &r, 4);
    size_t h = cw_wsc_encode_header(c->wbuf + c->wtail, op, 1, 0, len, key);
    c->wtail += h;
    uint8_t *p = c->wbuf + c->wtail;
    c->wtail += len;
    return p;
}

static void frame_end(uint8_t *payload, size_t len)
{
    mask_bytes(payload, len, payload - 4);
    st.sent++;
}

static void frame_copy(conn *c, unsigned op, const void *data, size_t len)
{
    uint8_t *p = frame_begin(c, op, len);
    if (len)
        memcpy(p, data, len);
    frame_end(p, len);
}

static void mark_dirty(conn *c);

/* ---- connection life ---- */

static void conn_free_fd(conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
}

static int conn_start(conn *c, uint64_t seqno)
{
    c->rhead = c->rtail = c->whead = c->wtail = 0;
    c->msg_open = c->got_close = c->closing_sent = 0;
    c->send_seq = c->recv_seq = 0;
    c->msg_off = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fail("socket: %s (raise the fd limit)", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (opt.nsrc > 1) {
        struct sockaddr_in src;
        memset(&src, 0, sizeof src);
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl(0x7F000001u + (uint32_t)(seqno % (uint64_t)opt.nsrc));
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) {
            fail("bind to 127.0.0.%u: %s", (unsigned)(1 + seqno % (uint64_t)opt.nsrc),
                 strerror(errno));
            close(fd);
            return -1;
        }
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)opt.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        fail("connect to 127.0.0.1:%d: %s", opt.port, strerror(errno));
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->state = ST_CONNECTING;
    c->t0 = now;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        fail("epoll_ctl: %s", strerror(errno));
        return -1;
    }
    st.pending++;
    return 0;
}

static const char *conn_path(const conn *c, char *buf, size_t cap)
{
    (void)c;
    if (opt.mode == M_FANOUT)
        snprintf(buf, cap, "/ws/chat/%s/", opt.room);
    else
        snprintf(buf, cap, "/ws/echo/");
    return buf;
}

static void send_handshake(conn *c)
{
    uint8_t raw[16];
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = rnd();
        memcpy(raw + i, &r, 8);
    }
    cw_wsc_base64(raw, sizeof raw, c->key);
    char path[160], host[32], origin[64];
    snprintf(host, sizeof host, "127.0.0.1:%d", opt.port);
    /* as a browser would: the Channels peer's origin check wants it */
    snprintf(origin, sizeof origin, "Origin: http://127.0.0.1:%d\r\n", opt.port);
    wreserve(c, 1024);
    size_t n = cw_wsc_request((char *)c->wbuf + c->wtail, c->wcap - c->wtail,
                              conn_path(c, path, sizeof path), host, c->key, origin);
    c->wtail += n;
    c->state = ST_HANDSHAKE;
    mark_dirty(c);
}

static void flush(conn *c)
{
    while (c->whead < c->wtail) {
        ssize_t w = send(c->fd, c->wbuf + c->whead, c->wtail - c->whead, MSG_NOSIGNAL);
        if (w > 0) {
            c->whead += (size_t)w;
            st.bytes_out += (uint64_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return; /* EPOLLOUT (edge) will call again */
        if (c->state == ST_CLOSING)
            return;
        fail("conn %d: send: %s", c->id, strerror(errno));
        return;
    }
    c->whead = c->wtail = 0;
}

static conn **dirty;
static int ndirty;

static void mark_dirty(conn *c)
{
    if (!c->dirty) {
        c->dirty = 1;
        dirty[ndirty++] = c;
    }
}

static void flush_dirty(void)
{
    for (int i = 0; i < ndirty; i++) {
        conn *c = dirty[i];
        c->dirty = 0;
        if (c->fd >= 0)
            flush(c);
    }
    ndirty = 0;
}

/* ---- scenario actions ---- */

static void echo_send_one(conn *c)
{
    int64_t *slot = &c->ts[c->send_seq % (uint32_t)opt.inflight];
    *slot = now;
    uint8_t *p = frame_begin(c, opt.binary ? CW_WSC_BINARY : CW_WSC_TEXT, opt.size);
    if (opt.size <= 16) {
        echo_payload(p, c->id, c->send_seq, opt.size);
        frame_end(p, opt.size);
    } else {
        /* the pattern is copied and masked in one pass: the generator
         * must stay cheaper than the servers it measures */
        echo_payload(p, c->id, c->send_seq, 16);
        mask_copy(p + 16, pattern + pat_start(c->id, c->send_seq), opt.size - 16, p - 4, 16);
        mask_bytes(p, 16, p - 4);
        st.sent++;
    }
    c->send_seq++;
    mark_dirty(c);
}

static int may_send(void)
{
    return st.phase == PH_WARMUP || st.phase == PH_MEASURE;
}

static void fan_publish(pub_t *pb)
{
    conn *c = &conns[pb->conn];
    char text[FAN_MSG_MAX];
    size_t tl = fan_text(text, (int)(pb - pubs), pb->next, opt.size);
    char msg[FAN_MSG_MAX + 32];
    int n = snprintf(msg, sizeof msg, "{\"message\": \"%s\"}", text);
    unsigned slot = pb->next % (unsigned)opt.inflight;
    pb->remaining[slot] = (uint32_t)opt.conns;
    pb->ts[slot] = now;
    (void)tl;
    frame_copy(c, CW_WSC_TEXT, msg, (size_t)n);
    pb->next++;
    mark_dirty(c);
}

static void fan_pump(pub_t *pb)
{
    while (may_send() && pb->next - pb->low < (uint32_t)opt.inflight) {
        if (opt.count > 0 && st.published * (uint64_t)opt.conns >= (uint64_t)opt.count)
            break; /* enough deliveries under way */
        fan_publish(pb);
        st.published++;
        if (opt.det)
            break; /* one at a time: the next leaves when this one is everywhere */
    }
}

static void start_load(void)
{
    if (opt.mode == M_ECHO) {
        for (int i = 0; i < nconns; i++)
            for (int k = 0; k < opt.inflight; k++)
                echo_send_one(&conns[i]);
    } else if (opt.mode == M_FANOUT) {
        for (int p = 0; p < opt.publishers; p++)
            fan_pump(&pubs[p]);
    }
}

static void begin_close(conn *c)
{
    if (c->state != ST_OPEN)
        return;
    uint8_t payload[2] = {0x03, 0xE8}; /* 1000 */
    frame_copy(c, CW_WSC_CLOSE, payload, 2);
    st.sent--;
    c->state = ST_CLOSING;
    c->closing_sent = 1;
    c->t_close = now;
    mark_dirty(c);
}

static void churn_next(conn *c);

static void conn_finished(conn *c, int clean)
{
    conn_free_fd(c);
    if (c->state == ST_OPEN || c->state == ST_CLOSING)
        st.open_now--;
    c->state = ST_DONE;
    if (clean)
        st.closed_ok++;
    else
        st.close_timeouts++;
    if (opt.mode == M_CHURN)
        churn_next(c);
}

/* A whole message arrived (its bytes already checked chunk by chunk). */
static void on_message(conn *c, const uint8_t *data, size_t len)
{
    if (opt.mode == M_ECHO || opt.mode == M_CHURN || opt.mode == M_IDLE) {
        if (c->msg_off != opt.size) {
            fail("conn %d: echo %u came back with %zu bytes, sent %zu", c->id, c->recv_seq,
                 c->msg_off, opt.size);
            return;
        }
        if (opt.mode == M_ECHO)
            hrecord(now - c->ts[c->recv_seq % (uint32_t)opt.inflight]);
        c->recv_seq++;
        st.msgs += opt.mode == M_ECHO;
        if (opt.mode == M_CHURN) {
            begin_close(c);
            return;
        }
        if (opt.mode == M_IDLE) {
            st.idle_echoed++;
            begin_close(c);
            return;
        }
        if (may_send() && !(opt.count > 0 && st.sent >= (uint64_t)opt.count))
            echo_send_one(c);
        return;
    }
    /* fanout: {"message": "pNN-SSSSSSSS-..."} in any JSON spacing */
    const uint8_t *end = data + len;
    const uint8_t *k = NULL;
    for (const uint8_t *p = data; p + 9 <= end; p++)
        if (memcmp(p, "\"message\"", 9) == 0) {
            k = p + 9;
            break;
        }
    if (!k) {
        fail("conn %d: chat message without \"message\": %.*s", c->id, (int)(len > 80 ? 80 : len),
             (const char *)data);
        return;
    }
    while (k < end && (*k == ' ' || *k == ':'))
        k++;
    if (k >= end || *k != '"') {
        fail("conn %d: \"message\" is not a string", c->id);
        return;
    }
    const uint8_t *s = ++k;
    while (k < end && *k != '"')
        k++;
    size_t sl = (size_t)(k - s);
    unsigned pub = 0, seq = 0;
    if (sl < 13 || s[0] != 'p' || sscanf((const char *)s, "p%2u-%8x-", &pub, &seq) != 2 ||
        pub >= (unsigned)opt.publishers) {
        fail("conn %d: unexpected chat message %.*s", c->id, (int)(len > 80 ? 80 : len),
             (const char *)data);
        return;
    }
    char want[FAN_MSG_MAX];
    size_t wl = fan_text(want, (int)pub, seq, opt.size);
    if (wl != sl || memcmp(want, s, sl) != 0) {
        fail("conn %d: chat message corrupted: %.*s", c->id, (int)(len > 80 ? 80 : len),
             (const char *)data);
        return;
    }
    if (seq != c->expect[pub]) {
        fail("conn %d: from publisher %u got message %u, expected %u (order or loss)", c->id, pub,
             seq, c->expect[pub]);
        return;
    }
    c->expect[pub]++;
    pub_t *pb = &pubs[pub];
    unsigned slot = seq % (unsigned)opt.inflight;
    hrecord(now - pb->ts[slot]);
    st.msgs++;
    if (--pb->remaining[slot] == 0) {
        while (pb->low < pb->next && pb->remaining[pb->low % (unsigned)opt.inflight] == 0)
            pb->low++;
        if (!(opt.count > 0 && st.msgs >= (uint64_t)opt.count))
            fan_pump(pb);
    }
}

static int check_frame(conn *c, const cw_wsc_frame *f)
{
    if (f->masked) {
        fail("conn %d: server sent a masked frame", c->id);
        return -1;
    }
    if (f->rsv) {
        fail("conn %d: server sent RSV bits %u", c->id, f->rsv);
        return -1;
    }
    return 0;
}

static void on_frame(conn *c, const cw_wsc_frame *f)
{
    if (check_frame(c, f) < 0)
        return;
    size_t len = (size_t)f->len;
    switch (f->opcode) {
    case CW_WSC_TEXT:
    case CW_WSC_BINARY:
    case CW_WSC_CONT:
        if (c->state == ST_CLOSING && opt.mode != M_FANOUT)
            return; /* late data after our close (not expected, harmless) */
        if (f->opcode == CW_WSC_CONT) {
            if (!c->msg_open) {
                fail("conn %d: continuation frame without a message", c->id);
                return;
            }
        } else {
            if (c->msg_open) {
                fail("conn %d: new message inside a fragmented one", c->id);
                return;
            }
            c->msg_open = 1;
            c->msg_op = f->opcode;
            c->msg_off = 0;
        }
        if (opt.mode == M_FANOUT) {
            if (c->msg_op != CW_WSC_TEXT || c->msg_off + len > FAN_MSG_MAX) {
                fail("conn %d: chat reply not a short text message", c->id);
                return;
            }
            if (c->state == ST_CLOSING && !c->mbuf)
                return;
            memcpy(c->mbuf + c->msg_off, f->payload, len);
        } else {
            unsigned want = opt.binary ? CW_WSC_BINARY : CW_WSC_TEXT;
            if (c->msg_op != want) {
                fail("conn %d: echo came back as opcode %u", c->id, c->msg_op);
                return;
            }
            if (c->recv_seq >= c->send_seq) {
                fail("conn %d: a message nobody sent (%zu bytes)", c->id, len);
                return;
            }
            if (c->msg_off + len > opt.size ||
                echo_check(f->payload, len, c->id, c->recv_seq, c->msg_off) < 0) {
                fail("conn %d: echo %u corrupted or out of order at byte %zu", c->id, c->recv_seq,
                     c->msg_off);
                return;
            }
        }
        c->msg_off += len;
        if (f->fin) {
            c->msg_open = 0;
            on_message(c, c->mbuf, c->msg_off);
        }
        return;
    case CW_WSC_PING: {
        if (c->state != ST_OPEN)
            return;
        uint8_t tmp[125];
        memcpy(tmp, f->payload, len);
        frame_copy(c, CW_WSC_PONG, tmp, len);
        st.sent--;
        mark_dirty(c);
        return;
    }
    case CW_WSC_PONG:
        return;
    case CW_WSC_CLOSE: {
        int code;
        const uint8_t *reason;
        size_t rl;
        cw_wsc_close_parse(f->payload, len, &code, &reason, &rl);
        if (c->state != ST_CLOSING) {
            fail("conn %d: server closed with %d '%.*s'", c->id, code, (int)rl,
                 (const char *)reason);
            return;
        }
        c->got_close = 1;
        return;
    }
    default:
        fail("conn %d: reserved opcode %u", c->id, f->opcode);
    }
}

static void on_open(conn *c)
{
    st.pending--;
    st.opened++;
    st.open_now++;
    c->state = ST_OPEN;
    if (opt.mode == M_CHURN) {
        hrecord(now - c->t0);
        echo_send_one(c);
    } else if (opt.mode == M_IDLE && st.idle_stage == 0) {
        echo_send_one(c); /* warm-up connections: one echo, then close */
    }
}

static void handshake_check(conn *c)
{
    int status;
    const char *head = (const char *)c->rbuf + c->rhead;
    int h = cw_wsc_response_head(head, c->rtail - c->rhead, &status);
    if (h == 0)
        return;
    if (h < 0 || status != 101) {
        fail("conn %d: handshake answered %d: %.*s", c->id, status,
             (int)(c->rtail - c->rhead > 100 ? 100 : c->rtail - c->rhead), head);
        return;
    }
    char want[CW_WSC_ACCEPT_LEN + 1];
    cw_wsc_accept_for(c->key, want);
    size_t vl;
    const char *v = cw_wsc_header(head, (size_t)h, "Sec-WebSocket-Accept", &vl);
    if (!v || vl != CW_WSC_ACCEPT_LEN || memcmp(v, want, CW_WSC_ACCEPT_LEN) != 0) {
        fail("conn %d: wrong Sec-WebSocket-Accept", c->id);
        return;
    }
    c->rhead += (size_t)h;
    on_open(c);
}

static void process(conn *c)
{
    if (c->state == ST_HANDSHAKE)
        handshake_check(c);
    while (!failed && (c->state == ST_OPEN || c->state == ST_CLOSING)) {
        cw_wsc_frame f;
        int r = cw_wsc_decode(c->rbuf + c->rhead, c->rtail - c->rhead, &f);
        if (r < 0) {
            fail("conn %d: bad frame length", c->id);
            return;
        }
        if (r == 0) {
            if (f.hdr_len && f.hdr_len + f.len > c->rcap) {
                /* grow for a frame larger than the buffer */
                size_t cap = c->rcap;
                while (cap < f.hdr_len + f.len)
                    cap *= 2;
                uint8_t *nb = realloc(c->rbuf, cap);
                if (!nb) {
                    fail("out of memory");
                    return;
                }
                c->rbuf = nb;
                c->rcap = cap;
            }
            break;
        }
        c->rhead += f.hdr_len + (size_t)f.len;
        on_frame(c, &f);
    }
    if (c->rhead == c->rtail)
        c->rhead = c->rtail = 0;
}

static void on_eof(conn *c)
{
    if (c->state == ST_CLOSING && c->got_close) {
        conn_finished(c, 1);
        return;
    }
    if (c->state == ST_CLOSING) {
        conn_finished(c, 0);
        return;
    }
    fail("conn %d: server closed the connection (state %d)", c->id, c->state);
    conn_free_fd(c);
}

static void do_read(conn *c, int must_drain)
{
    for (int guard = 0; guard < 1024 && c->fd >= 0; guard++) {
        if (c->rtail == c->rcap) {
            if (c->rhead > 0) {
                memmove(c->rbuf, c->rbuf + c->rhead, c->rtail - c->rhead);
                c->rtail -= c->rhead;
                c->rhead = 0;
            } else {
                fail("conn %d: receive buffer full", c->id);
                return;
            }
        }
        size_t room = c->rcap - c->rtail;
        ssize_t r = recv(c->fd, c->rbuf + c->rtail, room, 0);
        if (r > 0) {
            c->rtail += (size_t)r;
            st.bytes_in += (uint64_t)r;
            process(c);
            if (failed)
                return;
            if ((size_t)r < room && !must_drain)
                return; /* drained: the next edge brings more */
            continue;
        }
        if (r == 0) {
            on_eof(c);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        if (c->state == ST_CLOSING) {
            conn_finished(c, c->got_close);
            return;
        }
        fail("conn %d: recv: %s", c->id, strerror(errno));
        return;
    }
}

static void on_event(conn *c, uint32_t ev)
{
    if (c->state == ST_CONNECTING) {
        if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            fail("conn %d: connect: %s", c->id, strerror(err));
            return;
        }
        send_handshake(c);
    }
    if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
        do_read(c, (ev & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0);
    if (c->fd >= 0 && (ev & EPOLLOUT) && c->whead < c->wtail)
        flush(c);
}

/* ---- churn ---- */

static uint64_t churn_seq;

static void churn_next(conn *c)
{
    if (st.phase == PH_MEASURE)
        st.msgs++; /* a whole session counted */
    st.sessions++;
    if (!may_send() || failed)
        return;
    if (opt.count > 0 &&
        st.sessions + (uint64_t)st.pending + (uint64_t)st.open_now >= (uint64_t)opt.count)
        return;
    c->session = churn_seq++;
    conn_start(c, c->session);
}

/* ---- phases ---- */

static double secs(int64_t ns)
{
    return (double)ns / 1e9;
}

static void enter(int phase)
{
    st.phase = phase;
    st.t_phase = now;
}

static void start_measure(void)
{
    enter(PH_MEASURE);
    st.t_measure0 = now;
    st.msgs_at0 = st.msgs;
    snap(&cpu0);
}

static void stop_measure(void)
{
    st.t_measure1 = now;
    st.msgs_at1 = st.msgs;
    snap(&cpu1);
    enter(PH_DRAIN);
}

static int all_drained(void)
{
    if (opt.mode == M_ECHO) {
        for (int i = 0; i < nconns; i++)
            if (conns[i].recv_seq != conns[i].send_seq)
                return 0;
        return 1;
    }
    if (opt.mode == M_FANOUT) {
        for (int p = 0; p < opt.publishers; p++)
            if (pubs[p].low != pubs[p].next)
                return 0;
        return 1;
    }
    if (opt.mode == M_CHURN)
        return st.pending == 0 && st.open_now == 0;
    return 1;
}

static void close_all(void)
{
    for (int i = 0; i < nconns; i++)
        begin_close(&conns[i]);
}

static int count_reached(void)
{
    return opt.count > 0 && st.msgs >= (uint64_t)opt.count;
}

/* Opens connections up to target, at most opt.batch under way. */
static void open_more(int target)
{
    while (!failed && st.opened + st.pending < target && st.pending < opt.batch) {
        conn *c = &conns[st.opened + st.pending];
        if (conn_start(c, (uint64_t)c->id) < 0)
            return;
    }
}

static void idle_tick(void)
{
    /* stage 0: warm-up connections (echo, close); 1: baseline; 2: open
     * all; 3: settle, RSS; 4: one echo each; then close. */
    switch (st.idle_stage) {
    case 0:
        open_more(opt.warm_conns);
        if (st.closed_ok + st.close_timeouts >= opt.warm_conns) {
            st.idle_stage = 1;
            st.t_phase = now;
        }
        break;
    case 1:
        if (now - st.t_phase > 500000000) {
            st.rss_base = proc_rss_kib(opt.pid);
            st.idle_echoed = 0;
            for (int i = 0; i < opt.warm_conns; i++)
                conns[i].state = ST_FREE;
            st.opened = 0;
            st.idle_stage = 2;
            st.t_phase = now;
            snap(&cpu0);
            st.t_measure0 = now;
        }
        break;
    case 2:
        open_more(opt.conns);
        if (st.open_now == opt.conns) {
            st.idle_stage = 3;
            st.t_phase = now;
            snap(&cpu1); /* CPU of the handshakes */
            st.t_measure1 = now;
            st.msgs_at0 = 0;
            st.msgs_at1 = (uint64_t)opt.conns;
        }
        break;
    case 3:
        if (now - st.t_phase > 1000000000) {
            st.rss_idle = proc_rss_kib(opt.pid);
            st.idle_stage = 4;
            for (int i = 0; i < opt.conns; i++)
                echo_send_one(&conns[i]);
        }
        break;
    case 4:
        if (st.open_now == 0) {
            enter(PH_END);
        }
        break;
    }
}

/* A connection we are closing: done once the server's close frame came
 * and it closed TCP; if it keeps TCP open 1 s after its close frame we
 * close it (fine); 5 s without its close frame counts as a timeout. */
static void sweep_closing(void)
{
    static int64_t last;
    if (now - last < 100000000)
        return;
    last = now;
    for (int i = 0; i < nconns; i++) {
        conn *c = &conns[i];
        if (c->state != ST_CLOSING || c->fd < 0)
            continue;
        if (c->got_close && now - c->t_close > 1000000000)
            conn_finished(c, 1);
        else if (now - c->t_close > 5000000000ll)
            conn_finished(c, 0);
    }
}

static void tick(void)
{
    if (failed)
        return;
    sweep_closing();
    switch (st.phase) {
    case PH_SETUP:
        if (opt.mode == M_IDLE) {
            idle_tick();
            return;
        }
        if (opt.mode == M_CHURN) {
            enter(opt.warmup > 0 ? PH_WARMUP : PH_MEASURE);
            if (st.phase == PH_MEASURE)
                start_measure();
            for (int i = 0; i < nconns; i++) {
                conns[i].session = churn_seq++;
                conn_start(&conns[i], conns[i].session);
            }
            return;
        }
        open_more(nconns);
        if (st.open_now == nconns) {
            if (opt.warmup > 0) {
                enter(PH_WARMUP);
            } else {
                start_measure();
            }
            start_load();
        }
        return;
    case PH_WARMUP:
        if (secs(now - st.t_phase) >= opt.warmup)
            start_measure();
        return;
    case PH_MEASURE:
        if ((opt.duration > 0 && secs(now - st.t_phase) >= opt.duration) || count_reached() ||
            (opt.mode == M_CHURN && opt.count > 0 && st.sessions >= (uint64_t)opt.count))
            stop_measure();
        return;
    case PH_DRAIN:
        if (all_drained()) {
            enter(PH_CLOSE);
            close_all();
        } else if (now - st.t_phase > 30000000000ll) {
            fail("%s still missing 30 s after the last was sent (lost?)",
                 opt.mode == M_FANOUT ? "deliveries" : "replies");
        }
        return;
    case PH_CLOSE:
        if (st.open_now == 0)
            enter(PH_END);
        return;
    }
}

static void close_stragglers(void)
{
    for (int i = 0; i < nconns; i++)
        if (conns[i].fd >= 0) {
            if (conns[i].state == ST_CLOSING)
                st.close_timeouts++;
            conn_free_fd(&conns[i]);
        }
}

/* ---- output ---- */

static void jnum(const char *k, double v, int last)
{
    if (v != v || v < -0.5)
        printf("\"%s\": null%s", k, last ? "" : ", ");
    else if (fabs(v - round(v)) < 1e-9 && fabs(v) < 1e15)
        printf("\"%s\": %.0f%s", k, v, last ? "" : ", ");
    else
        printf("\"%s\": %.6g%s", k, v, last ? "" : ", ");
}

static void jstr(const char *k, const char *v)
{
    printf("\"%s\": \"", k);
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if ((unsigned char)*p < 0x20)
            printf("\\u%04x", (unsigned char)*p);
        else
            putchar(*p);
    }
    printf("\", ");
}

static void report(void)
{
    double window = secs(st.t_measure1 - st.t_measure0);
    double msgs = (double)(st.msgs_at1 - st.msgs_at0);
    double srv = (cpu0.ok && cpu1.ok && cpu0.srv >= 0 && cpu1.srv >= 0) ? cpu1.srv - cpu0.srv : -1;
    double self = cpu1.self - cpu0.self;
    double busy = cpu1.busy - cpu0.busy;
    double other = busy - self - (srv > 0 ? srv : 0);
    printf("{");
    jstr("scenario", opt.scenario);
    jstr("server", opt.label);
    jstr("mode", opt.mode == M_ECHO     ? "echo"
                 : opt.mode == M_FANOUT ? "fanout"
                 : opt.mode == M_IDLE   ? "idle"
                                        : "churn");
    jnum("conns", opt.conns, 0);
    jnum("inflight", opt.inflight, 0);
    jnum("size", (double)opt.size, 0);
    jnum("publishers", opt.mode == M_FANOUT ? opt.publishers : 0, 0);
    jnum("ok", !failed, 0);
    if (failed)
        jstr("error", errmsg);
    jnum("window_s", window, 0);
    jnum("count", msgs, 0);
    jnum("rate", window > 0 ? msgs / window : 0, 0);
    jnum("srv_cpu_s", srv, 0);
    jnum("per_srv_cpu_s", srv > 0 ? msgs / srv : -1, 0);
    jnum("srv_cpu_util", srv >= 0 && window > 0 ? srv / window : -1, 0);
    jnum("gen_cpu_util", window > 0 ? self / window : -1, 0);
    jnum("other_cpu", window > 0 ? (other < 0 ? 0 : other) / window : -1, 0);
    jnum("softirq_cpu", window > 0 ? (cpu1.softirq - cpu0.softirq) / window : -1, 0);
    jnum("steal_cpu", window > 0 ? (cpu1.steal - cpu0.steal) / window : -1, 0);
    jnum("other_procs_cpu", window > 0 ? (cpu1.procs - cpu0.procs) / window : -1, 0);
    jnum("kthread_cpu", window > 0 ? (cpu1.kthreads - cpu0.kthreads) / window : -1, 0);
    jnum("lat_p50_us", hist_n ? hpercentile(0.50) / 1e3 : -1, 0);
    jnum("lat_p99_us", hist_n ? hpercentile(0.99) / 1e3 : -1, 0);
    jnum("lat_p999_us", hist_n ? hpercentile(0.999) / 1e3 : -1, 0);
    jnum("lat_samples", (double)hist_n, 0);
    if (opt.mode == M_IDLE) {
        jnum("rss_base_kib", (double)st.rss_base, 0);
        jnum("rss_idle_kib", (double)st.rss_idle, 0);
        jnum("rss_per_conn_kib",
             st.rss_base > 0 && st.rss_idle > 0 ? (double)(st.rss_idle - st.rss_base) / opt.conns
                                                : -1,
             0);
        jnum("echoed_after", (double)st.idle_echoed, 0);
    }
    jnum("sent", (double)st.sent, 0);
    jnum("bytes_in", (double)st.bytes_in, 0);
    jnum("bytes_out", (double)st.bytes_out, 0);
    jnum("close_timeouts", (double)st.close_timeouts, 0);
    jnum("total_s", secs(now - st.t_start), 1);
    printf("}\n");
    fflush(stdout);
}

/* ---- setup ---- */

static const char usage[] =
    "usage: cwbench --port N --scenario NAME [options]\n"
    "  scenarios: echo echo_pipe echo_large fanout_1k fanout_10p idle_10k churn\n"
    "             (presets; the options below override them)\n"
    "  --conns N        connections (fanout: room members; churn: sessions at once)\n"
    "  --inflight N     messages in flight per connection (fanout: per publisher)\n"
    "  --size BYTES     payload bytes (fanout: bytes of the message string)\n"
    "  --binary         binary frames (echo)\n"
    "  --publishers N   fanout publishers (members 0..N-1)\n"
    "  --warmup S       seconds of load before measuring (default 1)\n"
    "  --duration S     seconds measured (default 3; 0 with --count)\n"
    "  --count N        stop after N counted messages / deliveries / sessions\n"
    "  --server-pid PID the server: CPU time and RSS from /proc\n"
    "  --src-addrs N    source addresses 127.0.0.1..N (ephemeral ports)\n"
    "  --batch N        connects/handshakes under way at once (default 100)\n"
    "  --warm-conns N   idle: connections opened, echoed and closed before the\n"
    "                   baseline RSS (default: --batch, at least 100)\n"
    "  --det            deterministic: fixed seeds, one connect and one message at a time\n"
    "  --timeout S      hard bound on the whole run (default 180)\n"
    "  --label NAME     server name in the output\n"
    "  --room NAME      chat room (default bench)\n";

static int preset(const char *name)
{
    if (strcmp(name, "echo") == 0) {
        opt.mode = M_ECHO, opt.conns = 100, opt.inflight = 1, opt.size = 32;
    } else if (strcmp(name, "echo_pipe") == 0) {
        opt.mode = M_ECHO, opt.conns = 100, opt.inflight = 16, opt.size = 32;
    } else if (strcmp(name, "echo_large") == 0) {
        opt.mode = M_ECHO, opt.conns = 10, opt.inflight = 1, opt.size = 65536, opt.binary = 1;
    } else if (strcmp(name, "fanout_1k") == 0) {
        opt.mode = M_FANOUT, opt.conns = 1000, opt.publishers = 1, opt.inflight = 8, opt.size = 32;
    } else if (strcmp(name, "fanout_10p") == 0) {
        opt.mode = M_FANOUT, opt.conns = 100, opt.publishers = 10, opt.inflight = 8, opt.size = 32;
    } else if (strcmp(name, "fanout") == 0) {
        opt.mode = M_FANOUT, opt.conns = 20, opt.publishers = 1, opt.inflight = 1, opt.size = 32;
    } else if (strcmp(name, "idle_10k") == 0 || strcmp(name, "idle") == 0) {
        opt.mode = M_IDLE, opt.conns = 10000, opt.nsrc = 8, opt.batch = 200;
    } else if (strcmp(name, "churn") == 0) {
        opt.mode = M_CHURN, opt.conns = 50, opt.size = 32, opt.nsrc = 16;
    } else {
        return -1;
    }
    opt.scenario = name;
    return 0;
}

static void raise_nofile(long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t w = (rlim_t)want;
    if (rl.rlim_cur >= w)
        return;
    if (rl.rlim_max < w) {
        struct rlimit up = {w, w};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            return; /* root may raise the hard limit */
    }
    rl.rlim_cur = rl.rlim_max < w ? rl.rlim_max : w;
    setrlimit(RLIMIT_NOFILE, &rl);
}

int main(int argc, char **argv)
{
    /* the preset first, then everything else overrides it */
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--scenario") == 0 && preset(argv[i + 1]) < 0) {
            fprintf(stderr, "cwbench: unknown scenario '%s'\n%s", argv[i + 1], usage);
            return 2;
        }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && (i++, 1))
        if (ARG("--scenario"))
            ;
        else if (ARG("--port"))
            opt.port = atoi(v);
        else if (ARG("--conns"))
            opt.conns = atoi(v);
        else if (ARG("--inflight"))
            opt.inflight = atoi(v);
        else if (ARG("--size"))
            opt.size = (size_t)atol(v);
        else if (strcmp(a, "--binary") == 0)
            opt.binary = 1;
        else if (ARG("--publishers"))
            opt.publishers = atoi(v);
        else if (ARG("--warmup"))
            opt.warmup = atof(v);
        else if (ARG("--duration"))
            opt.duration = atof(v);
        else if (ARG("--count"))
            opt.count = atol(v);
        else if (ARG("--server-pid"))
            opt.pid = atol(v);
        else if (ARG("--src-addrs"))
            opt.nsrc = atoi(v);
        else if (ARG("--batch"))
            opt.batch = atoi(v);
        else if (ARG("--warm-conns"))
            opt.warm_conns = atoi(v);
        else if (ARG("--timeout"))
            opt.timeout = atof(v);
        else if (ARG("--label"))
            opt.label = v;
        else if (ARG("--room"))
            opt.room = v;
        else if (strcmp(a, "--det") == 0)
            opt.det = 1;
        else if (strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else {
            fprintf(stderr, "cwbench: bad argument '%s'\n%s", a, usage);
            return 2;
        }
#undef ARG
    }
    if (opt.port <= 0 || opt.conns <= 0 || opt.inflight <= 0 || opt.publishers <= 0 ||
        opt.publishers > MAX_PUBS || opt.publishers > opt.conns || opt.nsrc <= 0 ||
        opt.nsrc > 250 || opt.batch <= 0 || (opt.duration <= 0 && opt.count <= 0) ||
        opt.size + 16 > PATTERN_LEN || (opt.mode == M_FANOUT && opt.size > 400) ||
        (opt.mode == M_FANOUT && opt.size < 13)) {
        fprintf(stderr, "cwbench: bad or missing options\n%s", usage);
        return 2;
    }
    /* The baseline's warm-up opens as many connections at once as the
     * measured phase will, so pools sized by concurrency (handshake
     * buffers) are already touched in the baseline. */
    if (opt.mode == M_IDLE && opt.warm_conns < opt.batch)
        opt.warm_conns = opt.batch;
    if (opt.det) {
        opt.batch = 1;
        opt.warmup = 0;
        opt.nsrc = 1;
        if (opt.mode == M_ECHO)
            opt.inflight = 1;
    }
    signal(SIGPIPE, SIG_IGN);
    pattern_init();
    if (!opt.det)
        {
        uint64_t t = (uint64_t)clock_ns(), pid = (uint64_t)getpid();
        rng ^= t * UINT64_C(0x9E3779B97F4A7C15) ^ pid;
    }

    int warm = opt.mode == M_IDLE ? opt.warm_conns : 0;
    nconns = opt.mode == M_IDLE ? (opt.conns > warm ? opt.conns : warm) : opt.conns;
    raise_nofile(nconns + 64);
    conns = xcalloc((size_t)nconns, sizeof *conns);
    dirty = xcalloc((size_t)nconns, sizeof *dirty);
    size_t frame = cw_wsc_frame_size(opt.size, 1);
    size_t rcap = opt.mode == M_ECHO ? (2 * frame > 16384 ? 2 * frame : 16384)
                  : opt.mode == M_FANOUT ? 16384
                                         : 4096;
    for (int i = 0; i < nconns; i++) {
        conn *c = &conns[i];
        c->fd = -1;
        c->id = i;
        c->rcap = rcap;
        c->rbuf = xmalloc(rcap);
        if (opt.mode != M_FANOUT)
            c->ts = xcalloc((size_t)opt.inflight, sizeof *c->ts);
        if (opt.mode == M_FANOUT) {
            c->expect = xcalloc((size_t)opt.publishers, sizeof *c->expect);
            c->mbuf = xmalloc(FAN_MSG_MAX);
        }
    }
    for (int p = 0; opt.mode == M_FANOUT && p < opt.publishers; p++) {
        pubs[p].conn = p;
        pubs[p].remaining = xcalloc((size_t)opt.inflight, sizeof(uint32_t));
        pubs[p].ts = xcalloc((size_t)opt.inflight, sizeof(int64_t));
        conns[p].is_pub = 1;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        perror("epoll_create1");
        return 2;
    }

    now = clock_ns();
    st.t_start = now;
    st.deadline = now + (int64_t)(opt.timeout * 1e9);
    int64_t close_deadline = 0;
    static struct epoll_event evs[1024];
    /* Bounded: every pass either finishes by its phase or by the deadline. */
    while (st.phase != PH_END) {
        int n = epoll_wait(ep, evs, 1024, 10);
        now = clock_ns();
        if (n < 0 && errno != EINTR) {
            fail("epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n && !failed; i++)
            on_event(evs[i].data.ptr, evs[i].events);
        flush_dirty();
        tick();
        flush_dirty();
        if (failed)
            break;
        if (st.phase == PH_CLOSE && !close_deadline)
            close_deadline = now + 5000000000ll;
        if (close_deadline && now > close_deadline) {
            close_stragglers();
            break;
        }
        if (now > st.deadline) {
            fail("run timed out after %.0f s in phase %d (%ld open, %ld under way)", opt.timeout,
                 st.phase, st.open_now, st.pending);
            break;
        }
    }
    if (failed && st.phase <= PH_MEASURE) {
        if (!cpu0.ok)
            snap(&cpu0), st.t_measure0 = now;
        snap(&cpu1);
        st.t_measure1 = now;
        st.msgs_at1 = st.msgs;
    }
    close_stragglers();
    report();
    return failed ? 1 : 0;
}
