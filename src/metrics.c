/* SPDX-License-Identifier: MIT */
/* metrics.c: the Prometheus report (text exposition format 0.0.4) and the
 * listener that serves it: counters of core/runtime.h, every pool's use,
 * limit, high-water mark and failures, the send queues' bytes, the TLS
 * arena, the channel, TLS and Redis layer figures of their reports, and the
 * latency histograms of base/hist.c. The listener has CONFIG_METRICS_CONNS
 * static slots, each with a deadline and its own answer buffer, so a slow
 * or hostile scraper holds at most those and never blocks the loop. */
#include "chanwire.h"
#include "cw_config.h"
#include "metrics.h"

#if defined(CONFIG_METRICS)
#include "base/hist.h"
#include "base/log.h"
#include "base/pool.h"
#include "base/txq.h"
#include "channels/channel.h"
#include "channels/layer.h"
#include "core/reactor.h"
#include "core/runtime.h"
#include "port.h"
#if defined(CONFIG_TLS)
#include "core/tls.h"
#include "core/tls_arena.h"
#endif

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define SCRAPE_TIMEOUT_MS 5000 /* to send the request and read the answer */
#define REQ_MAX 1024           /* request head */
#define HEAD_ROOM 192          /* the status line and headers, before the body */

/* ---- the report ---- */

struct out {
    char *buf;
    size_t cap, len; /* len counts on past cap: the size it would need */
};

static void put(struct out *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void put(struct out *o, const char *fmt, ...)
{
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP chanwire_%s %s\n# TYPE chanwire_%s %s\n", name, help, name, type);
}

#define COUNTER(f, help) {#f "_total", offsetof(cw_stats, f), help}
static const struct {
    const char *name;
    size_t off;
    const char *help;
} counters[] = {
    COUNTER(accepted, "Connections accepted."),
    COUNTER(upgraded, "Handshakes that ended in a WebSocket (101)."),
    COUNTER(rejected_full, "503 answers for lack of a connection slot."),
    COUNTER(http_errors, "Other 4xx and 5xx answers."),
    COUNTER(auth_failures, "401 and 403 answers at the handshake."),
    COUNTER(handshake_timeouts, "Handshakes not finished within the handshake timeout."),
    COUNTER(ping_timeouts, "Connections closed for not answering a ping."),
    COUNTER(protocol_errors, "Connections closed for a protocol error (1002, 1007)."),
    COUNTER(sendq_overflows, "Connections whose send queue went over its bound."),
    COUNTER(pool_exhausted, "Connections closed 1013 for an exhausted pool."),
    COUNTER(accept_pauses, "Pauses of accepting for lack of descriptors (EMFILE)."),
    COUNTER(msgs_in, "WebSocket messages received."),
    COUNTER(msgs_out, "WebSocket messages sent."),
    COUNTER(events_out, "Group events delivered to consumers."),
    COUNTER(tls_failures, "TLS handshakes that failed."),
    COUNTER(tls_refused, "TLS connections refused at accept (sessions or memory exhausted)."),
    COUNTER(message_timeouts, "Connections closed 1008 for a message not complete in time."),
    COUNTER(rejected_addr, "429 answers: an address over its share of slots or requests."),
    COUNTER(share_refusals, "Connections closed 1013: an address over its share of a pool."),
    COUNTER(send_timeouts, "Connections closed 1011: a send queue not drained in time."),
    COUNTER(rate_limited, "Connections closed 1008 for going over the rate limits."),
    COUNTER(download_timeouts, "Static files not sent within the download timeout."),
    COUNTER(proxy_errors, "Bad PROXY headers, or bad Forwarded headers from a trusted proxy."),
};

static unsigned long scrapes, refused, timeouts;

static void put_seconds(struct out *o, uint64_t us)
{
    put(o, "%llu.%06llu", (unsigned long long)(us / 1000000u),
        (unsigned long long)(us % 1000000u));
}

static void histogram(struct out *o, const char *name, const char *help, const cw_hist *h)
{
    family(o, name, "histogram", help);
    uint64_t cum = 0;
    for (unsigned i = 0; i < CW_HIST_BUCKETS; i++) {
        cum += h->bucket[i];
        put(o, "chanwire_%s_bucket{le=\"", name);
        put_seconds(o, h->bounds_us[i]);
        put(o, "\"} %llu\n", (unsigned long long)cum);
    }
    put(o, "chanwire_%s_bucket{le=\"+Inf\"} %llu\nchanwire_%s_sum ", name,
        (unsigned long long)h->count, name);
    put_seconds(o, h->sum_us);
    put(o, "\nchanwire_%s_count %llu\n", name, (unsigned long long)h->count);
}

static void pools(struct out *o)
{
    static const struct {
        const char *name, *type, *help;
    } fams[] = {
        {"pool_used", "gauge", "Blocks of the pool in use."},
        {"pool_limit", "gauge", "Blocks of the pool that may be in use at once."},
        {"pool_high_water", "gauge", "Most blocks of the pool ever in use at once."},
        {"pool_block_bytes", "gauge", "Bytes per block of the pool."},
        {"pool_failures_total", "counter", "Requests the pool refused for lack of a block."},
    };
    for (unsigned f = 0; f < sizeof fams / sizeof fams[0]; f++) {
        family(o, fams[f].name, fams[f].type, fams[f].help);
        const cw_pool *p;
        for (unsigned i = 0; (p = cw_pool_at(i)) != NULL; i++) {
            uint32_t v = f == 0 ? p->used : f == 1 ? p->limit : f == 2 ? p->high_water
                         : f == 3 ? p->block_size : p->failures;
            put(o, "chanwire_%s{pool=\"%s\"} %lu\n", fams[f].name, p->name, (unsigned long)v);
        }
    }
}

/* The "name value" lines of the TLS and Redis reports: a number is a
 * counter (name_total) unless listed as a gauge; a word is a state
 * (name{state="word"} 1). Lines of another shape (the TLS arena's) and
 * names the counters above have already are left out. */
static void report_lines(struct out *o, const char *text)
{
    static const char *const gauges[] = {"tls_sessions", "redis_inflight"};
    static const char *const skip[] = {"tls_refused", "tls_arena"};
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *sp = memchr(p, ' ', len);
        char name[48], val[48];
        size_t nl = sp ? (size_t)(sp - p) : 0, vl = sp ? len - nl - 1 : 0;
        if (sp && nl > 0 && nl < sizeof name && vl > 0 && vl < sizeof val) {
            memcpy(name, p, nl);
            name[nl] = 0;
            memcpy(val, sp + 1, vl);
            val[vl] = 0;
            int listed = 0, gauge = 0;
            for (unsigned i = 0; i < sizeof skip / sizeof skip[0]; i++)
                listed |= strcmp(name, skip[i]) == 0;
            for (unsigned i = 0; i < sizeof gauges / sizeof gauges[0]; i++)
                gauge |= strcmp(name, gauges[i]) == 0;
            int number = strspn(val, "0123456789") == vl;
            int word = strspn(val, "abcdefghijklmnopqrstuvwxyz_") == vl;
            /* a name an earlier line of the reports had: once is enough */
            for (const char *q = text; q < p && !listed; q = strchr(q, '\n') + 1)
                listed = strncmp(q, name, nl) == 0 && q[nl] == ' ';
            if (listed || strspn(name, "abcdefghijklmnopqrstuvwxyz_") != nl) {
                /* not ours to name */
            } else if (number) {
                put(o, "# HELP chanwire_%s%s %s from the /stats report.\n"
                       "# TYPE chanwire_%s%s %s\nchanwire_%s%s %s\n",
                    name, gauge ? "" : "_total", name, name, gauge ? "" : "_total",
                    gauge ? "gauge" : "counter", name, gauge ? "" : "_total", val);
            } else if (word) {
                put(o, "# HELP chanwire_%s %s from the /stats report (1 for the current one).\n"
                       "# TYPE chanwire_%s gauge\nchanwire_%s{state=\"%s\"} 1\n",
                    name, name, name, name, val);
            }
        }
        p += len + (eol ? 1 : 0);
    }
}

long cw_metrics_write(cw_server *s, char *buf, size_t cap)
{
    (void)s;
    struct out o = {buf, cap, 0};
    const cw_stats *t = &cw_rt.stats;
    family(&o, "build_info", "gauge", "chanwire's version (the value is 1).");
    put(&o, "chanwire_build_info{version=\"%s\"} 1\n", CW_VERSION);
    family(&o, "conns_open", "gauge", "WebSocket connections open.");
    put(&o, "chanwire_conns_open %u\n", t->conns_open);
    family(&o, "conns_http", "gauge", "Connections still in the HTTP handshake.");
    put(&o, "chanwire_conns_http %u\n", t->conns_http);
    for (unsigned i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        family(&o, counters[i].name, "counter", counters[i].help);
        put(&o, "chanwire_%s %lu\n", counters[i].name,
            *(const unsigned long *)(const void *)((const char *)t + counters[i].off));
    }
    pools(&o);
    family(&o, "sendq_bytes", "gauge", "Bytes queued on every connection together.");
    put(&o, "chanwire_sendq_bytes %zu\n", cw_txq_bytes.now);
    family(&o, "sendq_bytes_high_water", "gauge", "Most bytes ever queued at once.");
    put(&o, "chanwire_sendq_bytes_high_water %zu\n", cw_txq_bytes.high);
    family(&o, "timers_armed", "gauge", "Internal deadlines (wheel timers) armed now.");
    put(&o, "chanwire_timers_armed %lu\n", (unsigned long)cw_wheel_count.armed);
    family(&o, "timers_armed_high_water", "gauge", "Most internal deadlines ever armed at once.");
    put(&o, "chanwire_timers_armed_high_water %lu\n", (unsigned long)cw_wheel_count.high);
#if defined(CONFIG_TLS)
    cw_tls_arena_stats a;
    cw_tls_arena_get_stats(&a);
    family(&o, "tls_arena_bytes", "gauge", "Bytes of the TLS arena in use.");
    put(&o, "chanwire_tls_arena_bytes %zu\n", a.used);
    family(&o, "tls_arena_size_bytes", "gauge", "Bytes in the TLS arena.");
    put(&o, "chanwire_tls_arena_size_bytes %zu\n", a.size);
    family(&o, "tls_arena_high_water_bytes", "gauge", "Most bytes of the TLS arena ever in use.");
    put(&o, "chanwire_tls_arena_high_water_bytes %zu\n", a.high_water);
#endif
    char rep[1536];
    size_t rn = 0;
#if defined(CONFIG_TLS)
    rn = cw_tls_report(rep, sizeof rep);
#endif
    rn += cw_channel_report(rep + rn, sizeof rep - rn);
    if (rn < sizeof rep)
        rn += cw_layer_report(rep + rn, sizeof rep - rn);
    rep[rn < sizeof rep ? rn : sizeof rep - 1] = 0;
    report_lines(&o, rep);
    histogram(&o, "handshake_seconds",
              "Time from accepting a connection to queuing its 101 (TLS included).",
              &cw_hist_handshake);
    histogram(&o, "group_fanout_seconds",
              "Time one group fan-out (send, broadcast or close) takes over its local members.",
              &cw_hist_fanout);
    family(&o, "metrics_scrapes_total", "counter", "Answers of the /metrics listener.");
    put(&o, "chanwire_metrics_scrapes_total %lu\n", scrapes);
    family(&o, "metrics_refused_total", "counter",
           "/metrics connections refused (503): every scraper slot busy.");
    put(&o, "chanwire_metrics_refused_total %lu\n", refused);
    family(&o, "metrics_timeouts_total", "counter",
           "/metrics connections closed at their deadline.");
    put(&o, "chanwire_metrics_timeouts_total %lu\n", timeouts);
    if (o.len >= cap)
        return CW_ETOOBIG;
    return (long)o.len;
}

/* ---- the listener ---- */

struct scraper {
    struct cw_io io;
    struct cw_wheel_timer timer;
    size_t len;       /* request bytes read */
    size_t off, end;  /* answer bytes out[off..end) still to send */
    int sending;      /* 1: the answer is going out; 2: sent, reading to EOF */
    char req[REQ_MAX];
    char out[HEAD_ROOM + CONFIG_METRICS_BUF_SIZE];
};

static struct scraper slots[CONFIG_METRICS_CONNS];
static struct cw_io listen_io = {NULL, -1, 0};
static cw_server *metrics_server;

static void scraper_close(struct scraper *sc)
{
    cw_wheel_cancel(&sc->timer);
    cw_reactor_del(&sc->io);
    cw_port_close(sc->io.fd);
    sc->io.fd = -1;
    sc->sending = 0;
}

static void send_more(struct scraper *sc)
{
    while (sc->off < sc->end) {
        ssize_t n = cw_port_send(sc->io.fd, sc->out + sc->off, sc->end - sc->off);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            cw_reactor_set(&sc->io, CW_PORT_OUT); /* the rest when it reads */
            return;
        }
        if (n <= 0) {
            scraper_close(sc);
            return;
        }
        sc->off += (size_t)n;
    }
    /* Sent: half-close and read what the client still sends until it
     * closes (or the deadline), so that unread bytes never make the
     * kernel answer with a reset that could destroy the answer. */
    cw_port_shutdown_wr(sc->io.fd);
    sc->sending = 2;
    cw_reactor_set(&sc->io, CW_PORT_IN);
}

/* The head goes right before body (already at out + HEAD_ROOM). */
static void answer(struct scraper *sc, const char *status, const char *extra, size_t body)
{
    char head[HEAD_ROOM];
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                      "Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
                      status, body, extra);
    if (hn < 0 || (size_t)hn >= sizeof head) {
        scraper_close(sc);
        return;
    }
    memcpy(sc->out + HEAD_ROOM - (size_t)hn, head, (size_t)hn);
    sc->off = HEAD_ROOM - (size_t)hn;
    sc->end = HEAD_ROOM + body;
    sc->sending = 1;
    scrapes++;
    send_more(sc);
}

static void answer_text(struct scraper *sc, const char *status, const char *extra,
                        const char *text)
{
    size_t n = strlen(text);
    memcpy(sc->out + HEAD_ROOM, text, n);
    answer(sc, status, extra, n);
}

static void serve(struct scraper *sc)
{
    /* "METHOD SP TARGET SP VERSION": only GET /metrics (a query ignored) */
    const char *r = sc->req, *end = sc->req + sc->len;
    const char *sp1 = memchr(r, ' ', (size_t)(end - r));
    const char *tgt = sp1 ? sp1 + 1 : end;
    const char *sp2 = sp1 ? memchr(tgt, ' ', (size_t)(end - tgt)) : NULL;
    const char *crlf = memchr(r, '\n', (size_t)(end - r));
    if (!sp1 || !sp2 || !crlf || sp2 > crlf) {
        answer_text(sc, "400 Bad Request", "", "bad request\n");
        return;
    }
    if ((size_t)(sp1 - r) != 3 || memcmp(r, "GET", 3) != 0) {
        answer_text(sc, "405 Method Not Allowed", "Allow: GET\r\n", "only GET /metrics\n");
        return;
    }
    const char *q = memchr(tgt, '?', (size_t)(sp2 - tgt));
    size_t plen = (size_t)((q ? q : sp2) - tgt);
    if (plen != 8 || memcmp(tgt, "/metrics", 8) != 0) {
        answer_text(sc, "404 Not Found", "", "only /metrics here\n");
        return;
    }
    long n = cw_metrics_write(metrics_server, sc->out + HEAD_ROOM, CONFIG_METRICS_BUF_SIZE);
    if (n < 0) {
        cw_log(CW_LOG_WARN, "metrics: the report needs more than CONFIG_METRICS_BUF_SIZE (%d "
               "bytes): answered 500", CONFIG_METRICS_BUF_SIZE);
        answer_text(sc, "500 Internal Server Error", "",
                    "report larger than CONFIG_METRICS_BUF_SIZE\n");
        return;
    }
    answer(sc, "200 OK", "Cache-Control: no-store\r\n", (size_t)n);
}

static void on_scraper(struct cw_io *io, unsigned events)
{
    struct scraper *sc = (struct scraper *)(void *)io;
    if (sc->sending == 1) {
        if (events & (CW_PORT_OUT | CW_PORT_ERR))
            send_more(sc);
        return;
    }
    if (sc->sending == 2) {
        ssize_t n = cw_port_recv(io->fd, sc->req, sizeof sc->req);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            scraper_close(sc);
        return;
    }
    ssize_t n = cw_port_recv(io->fd, sc->req + sc->len, sizeof sc->req - sc->len);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        scraper_close(sc);
        return;
    }
    size_t from = sc->len > 3 ? sc->len - 3 : 0;
    sc->len += (size_t)n;
    for (size_t i = from; i + 1 < sc->len; i++) {
        if ((sc->req[i] == '\n' && sc->req[i + 1] == '\n') ||
            (i + 3 < sc->len && memcmp(sc->req + i, "\r\n\r\n", 4) == 0)) {
            serve(sc);
            return;
        }
    }
    if (sc->len == sizeof sc->req)
        answer_text(sc, "431 Request Header Fields Too Large", "", "request head too large\n");
}

static void on_scraper_timeout(struct cw_wheel_timer *t)
{
    struct scraper *sc = (struct scraper *)(void *)((char *)t - offsetof(struct scraper, timer));
    timeouts++;
    scraper_close(sc);
}

static void on_metrics_accept(struct cw_io *io, unsigned events)
{
    (void)events;
    for (int k = 0; k < 8; k++) {
        int fd = cw_port_accept(io->fd, NULL);
        if (fd < 0)
            return;
        struct scraper *sc = NULL;
        for (unsigned i = 0; i < CONFIG_METRICS_CONNS; i++)
            if (slots[i].io.fd < 0) {
                sc = &slots[i];
                break;
            }
        if (!sc) {
            /* what the request sent already, so closing makes no reset */
            char drain[512];
            (void)cw_port_recv(fd, drain, sizeof drain);
            static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                       "Connection: close\r\nContent-Length: 0\r\n\r\n";
            cw_port_send(fd, busy, sizeof busy - 1);
            cw_port_close(fd);
            refused++;
            continue;
        }
        sc->len = sc->off = sc->end = 0;
        sc->sending = 0;
        if (cw_reactor_add(&sc->io, fd, CW_PORT_IN, on_scraper) < 0) {
            cw_port_close(fd);
            sc->io.fd = -1;
            continue;
        }
        cw_wheel_arm(&sc->timer, SCRAPE_TIMEOUT_MS, on_scraper_timeout);
    }
}

int cw_metrics_listen(cw_server *s, const char *addr_port, char *err, size_t errlen)
{
    if (listen_io.fd >= 0) {
        snprintf(err, errlen, "--metrics %s: one metrics listener only", addr_port);
        return CW_EINVAL;
    }
    for (unsigned i = 0; i < CONFIG_METRICS_CONNS; i++)
        slots[i].io.fd = -1;
    char why[160];
    int fd = cw_port_listen(addr_port, 16, why, sizeof why);
    if (fd < 0) {
        snprintf(err, errlen, "--metrics: %s", why);
        return CW_ESYS;
    }
    if (cw_reactor_add(&listen_io, fd, CW_PORT_IN, on_metrics_accept) < 0) {
        snprintf(err, errlen, "--metrics %s: cannot poll", addr_port);
        cw_port_close(fd);
        return CW_ESYS;
    }
    metrics_server = s;
    return 0;
}

int cw_metrics_port(cw_server *s)
{
    (void)s;
    return listen_io.fd >= 0 ? cw_port_local_port(listen_io.fd) : -1;
}

void cw_metrics_close(void)
{
    if (listen_io.fd < 0)
        return;
    for (unsigned i = 0; i < CONFIG_METRICS_CONNS; i++)
        if (slots[i].io.fd >= 0)
            scraper_close(&slots[i]);
    cw_reactor_del(&listen_io);
    cw_port_close(listen_io.fd);
    listen_io.fd = -1;
}

#else /* !CONFIG_METRICS */

#include <stdio.h>

long cw_metrics_write(cw_server *s, char *buf, size_t cap)
{
    (void)s, (void)buf, (void)cap;
    return CW_EINVAL;
}

int cw_metrics_listen(cw_server *s, const char *addr_port, char *err, size_t errlen)
{
    (void)s;
    snprintf(err, errlen, "--metrics %s: this build has no metrics (CONFIG_METRICS)", addr_port);
    return CW_EINVAL;
}

int cw_metrics_port(cw_server *s)
{
    (void)s;
    return -1;
}

void cw_metrics_close(void)
{
}

#endif
