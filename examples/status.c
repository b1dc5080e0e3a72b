/* SPDX-License-Identifier: MIT */
/* status.c: /ws/status/, the device status page's socket (the page is
 * examples/www/status/). Once a second a periodic timer reads the load,
 * memory and per-interface traffic from /proc into one JSON snapshot and
 * broadcasts it to the group "status" (encoded once for every member);
 * a new client gets the latest snapshot at once. Fixed buffers, no heap:
 * at most STATUS_IFACES interfaces, each /proc file read into STATUS_READ
 * bytes. A file that cannot be read makes its field null.
 *
 * The snapshot (docs/api.md, "The status example"):
 *   {"type":"status","seq":12,"time_ms":1765140000000,
 *    "load":[0.15,0.1,0.05],"procs":{"running":1,"total":123},
 *    "mem":{"total_kb":..,"free_kb":..,"available_kb":..,"used_kb":..},
 *    "net":[{"name":"eth0","rx_bytes":..,"tx_bytes":..,"rx_bps":..,"tx_bps":..}]}
 * The timer runs while someone watches: the first client starts it, the
 * last one to leave stops it. */
#include "consumers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STATUS_GROUP "status"
#define STATUS_PERIOD_MS 1000
#define STATUS_IFACES 16
#define STATUS_READ 4096
#define STATUS_SNAP 3072 /* the JSON of STATUS_IFACES interfaces fits with room */
#define IFNAME_MAX 16    /* IFNAMSIZ */

/* Where the files are: a test points this at a folder of its own. */
static const char *proc_root = "/proc";

struct iface {
    char name[IFNAME_MAX];
    unsigned long long rx, tx;
};

static struct {
    cw_timer timer;
    int started;                   /* the timer was initialised */
    unsigned watchers;             /* open connections of this consumer */
    char snap[STATUS_SNAP];        /* the latest snapshot */
    size_t snap_len;
    unsigned long long seq;
    uint64_t last_ms;              /* when prev[] was read, 0: never */
    struct iface prev[STATUS_IFACES];
    unsigned nprev;
} st;

static uint64_t now_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Reads proc_root/name into buf (NUL-terminated): its length, or -1. At
 * most cap - 1 bytes; a longer file is cut at a line end by the parsers,
 * which only read whole lines. */
static long read_proc(const char *name, char *buf, size_t cap)
{
    char path[128];
    if (snprintf(path, sizeof path, "%s/%s", proc_root, name) >= (int)sizeof path)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    return (long)n;
}

/* One unsigned decimal at *p (after spaces), or 0 when there is none. */
static unsigned long long number(const char **p)
{
    const char *s = *p;
    unsigned long long v = 0;
    while (*s == ' ' || *s == '\t')
        s++;
    for (int i = 0; *s >= '0' && *s <= '9' && i < 20; s++, i++)
        v = v * 10 + (unsigned)(*s - '0');
    *p = s;
    return v;
}

/* "0.15" as hundredths. */
static unsigned long hundredths(const char **p)
{
    unsigned long v = (unsigned long)number(p) * 100;
    if (**p == '.') {
        (*p)++;
        if (**p >= '0' && **p <= '9')
            v += (unsigned long)(*(*p)++ - '0') * 10;
        if (**p >= '0' && **p <= '9')
            v += (unsigned long)(*(*p)++ - '0');
        while (**p >= '0' && **p <= '9')
            (*p)++;
    }
    return v;
}

static void write_hundredths(cw_json_w *w, unsigned long v)
{
    char t[32];
    int n = snprintf(t, sizeof t, "%lu.%02lu", v / 100, v % 100);
    cw_json_w_raw(w, t, (size_t)n);
}

/* /proc/loadavg: "0.15 0.10 0.05 1/123 4567". */
static void put_load(cw_json_w *w, char *buf)
{
    const char *p = buf;
    cw_json_w_key(w, "load");
    if (read_proc("loadavg", buf, STATUS_READ) <= 0) {
        cw_json_w_null(w);
        cw_json_w_key(w, "procs");
        cw_json_w_null(w);
        return;
    }
    cw_json_w_array(w);
    for (int i = 0; i < 3; i++)
        write_hundredths(w, hundredths(&p));
    cw_json_w_end(w);
    unsigned long long running = number(&p), total = 0;
    if (*p == '/') {
        p++;
        total = number(&p);
    }
    cw_json_w_key(w, "procs");
    cw_json_w_object(w);
    cw_json_w_key(w, "running");
    cw_json_w_int(w, (int64_t)running);
    cw_json_w_key(w, "total");
    cw_json_w_int(w, (int64_t)total);
    cw_json_w_end(w);
}

/* The value of "Key:" in /proc/meminfo (kB), or -1. */
static long long meminfo(const char *buf, const char *key)
{
    size_t kl = strlen(key);
    for (const char *line = buf; *line;) {
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            const char *p = line + kl + 1;
            return (long long)number(&p);
        }
        const char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return -1;
}

static void put_mem(cw_json_w *w, char *buf)
{
    cw_json_w_key(w, "mem");
    long long total = -1, freek = -1, avail = -1;
    if (read_proc("meminfo", buf, STATUS_READ) > 0) {
        total = meminfo(buf, "MemTotal");
        freek = meminfo(buf, "MemFree");
        avail = meminfo(buf, "MemAvailable");
    }
    if (total < 0 || freek < 0) {
        cw_json_w_null(w);
        return;
    }
    if (avail < 0)
        avail = freek; /* kernels before 3.14 */
    cw_json_w_object(w);
    cw_json_w_key(w, "total_kb");
    cw_json_w_int(w, total);
    cw_json_w_key(w, "free_kb");
    cw_json_w_int(w, freek);
    cw_json_w_key(w, "available_kb");
    cw_json_w_int(w, avail);
    cw_json_w_key(w, "used_kb");
    cw_json_w_int(w, total > avail ? total - avail : 0);
    cw_json_w_end(w);
}

/* Interface names as the page may show them: printable ASCII. */
static int name_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return 0;
    return 1;
}

static const struct iface *previous(const char *name)
{
    for (unsigned i = 0; i < st.nprev; i++)
        if (strcmp(st.prev[i].name, name) == 0)
            return &st.prev[i];
    return NULL;
}

/* Bytes per second from two counter readings (0 after a counter reset). */
static int64_t rate(unsigned long long now, unsigned long long before, uint64_t ms)
{
    if (!ms || now < before)
        return 0;
    return (int64_t)((now - before) * 1000u / ms);
}

/* /proc/net/dev: two header lines, then "  eth0: rx_bytes packets ... (8
 * receive fields) tx_bytes ...". */
static void put_net(cw_json_w *w, char *buf, uint64_t t)
{
    struct iface cur[STATUS_IFACES];
    unsigned n = 0;
    uint64_t ms = st.last_ms ? t - st.last_ms : 0;
    cw_json_w_key(w, "net");
    if (read_proc("net/dev", buf, STATUS_READ) <= 0) {
        cw_json_w_null(w);
        st.nprev = 0;
        return;
    }
    cw_json_w_array(w);
    for (char *line = buf; *line && n < STATUS_IFACES;) {
        char *nl = strchr(line, '\n');
        if (!nl)
            break; /* a cut last line is not read */
        *nl = 0;
        char *colon = strchr(line, ':');
        const char *name = line;
        while (*name == ' ')
            name++;
        size_t nlen = colon ? (size_t)(colon - name) : 0;
        if (colon && nlen > 0 && nlen < IFNAME_MAX && name_ok(name, nlen)) {
            const char *p = colon + 1;
            struct iface *f = &cur[n++];
            memcpy(f->name, name, nlen);
            f->name[nlen] = 0;
            f->rx = number(&p);
            for (int i = 0; i < 7; i++)
                (void)number(&p);
            f->tx = number(&p);
            const struct iface *old = previous(f->name);
            cw_json_w_object(w);
            cw_json_w_key(w, "name");
            cw_json_w_cstr(w, f->name);
            cw_json_w_key(w, "rx_bytes");
            cw_json_w_int(w, (int64_t)f->rx);
            cw_json_w_key(w, "tx_bytes");
            cw_json_w_int(w, (int64_t)f->tx);
            cw_json_w_key(w, "rx_bps");
            cw_json_w_int(w, old ? rate(f->rx, old->rx, ms) : 0);
            cw_json_w_key(w, "tx_bps");
            cw_json_w_int(w, old ? rate(f->tx, old->tx, ms) : 0);
            cw_json_w_end(w);
        }
        line = nl + 1;
    }
    cw_json_w_end(w);
    memcpy(st.prev, cur, n * sizeof cur[0]);
    st.nprev = n;
}

/* Reads /proc into st.snap. 0, or -1 (the last snapshot stays). */
static int sample(void)
{
    static char buf[STATUS_READ], out[STATUS_SNAP];
    uint64_t t = now_ms(CLOCK_MONOTONIC);
    cw_json_w w;
    cw_json_w_init(&w, out, sizeof out);
    cw_json_w_object(&w);
    cw_json_w_key(&w, "type");
    cw_json_w_cstr(&w, "status");
    cw_json_w_key(&w, "seq");
    cw_json_w_int(&w, (int64_t)++st.seq);
    cw_json_w_key(&w, "time_ms");
    cw_json_w_int(&w, (int64_t)now_ms(CLOCK_REALTIME));
    put_load(&w, buf);
    put_mem(&w, buf);
    put_net(&w, buf, t);
    cw_json_w_end(&w);
    st.last_ms = t;
    long n = cw_json_w_finish(&w);
    if (n < 0) {
        cw_log(CW_LOG_WARN, "status: snapshot over %u bytes", (unsigned)sizeof out);
        return -1;
    }
    memcpy(st.snap, out, (size_t)n + 1);
    st.snap_len = (size_t)n;
    return 0;
}

static void tick(cw_timer *t, void *arg)
{
    (void)t;
    if (sample() == 0)
        cw_group_broadcast(arg, STATUS_GROUP, st.snap, st.snap_len);
}

static int status_connect(cw_conn *c)
{
    /* Joined "status" already (the consumer's groups). The first watcher
     * starts the timer; its first snapshot is taken now, so every client
     * has one at once. */
    if (!st.started) {
        const char *root = getenv("CW_STATUS_PROC");
        if (root && *root)
            proc_root = root;
        cw_timer_init(&st.timer, tick, cw_server_of(c));
        st.started = 1;
    }
    if (!cw_timer_active(&st.timer)) {
        if (sample() < 0 && !st.snap_len)
            return 503;
        if (cw_timer_start(cw_server_of(c), &st.timer, STATUS_PERIOD_MS, STATUS_PERIOD_MS) < 0)
            return 503;
    }
    /* Queued behind the 101. A refused connect gets no disconnect: count
     * only the accepted ones. */
    if (cw_send_text(c, st.snap, st.snap_len) != 0) {
        if (!st.watchers)
            cw_timer_stop(&st.timer);
        return 503;
    }
    st.watchers++;
    return 0;
}

static void status_disconnect(cw_conn *c, int code)
{
    (void)c;
    (void)code;
    if (st.watchers && --st.watchers == 0) {
        cw_timer_stop(&st.timer); /* nobody watches: no /proc reads */
        st.last_ms = 0;
        st.nprev = 0;
    }
}

static const char *const status_groups[] = {STATUS_GROUP, NULL};

const cw_consumer cw_demo_status = {
    .connect = status_connect,
    .disconnect = status_disconnect,
    .groups = status_groups,
};
