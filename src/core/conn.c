/* SPDX-License-Identifier: MIT */
/* conn.c: the connection state machine. Reads land in one loop-wide buffer
 * and every complete frame in it is handled in that pass; only the
 * unconsumed tail is kept (stash, or the reassembly buffer). Replies are
 * queued and leave in one writev after the batch (cw_conn_after_batch). */
#include "core/conn.h"
#include "base/buf.h"
#include "base/hist.h"
#include "base/log.h"
#include "base/utf8.h"
#include "core/auth.h"
#include "core/runtime.h"
#include "core/share.h"
#include "core/transport.h"
#include "core/trusted.h"
#include "proto/frame.h"
#include "proto/handshake.h"
#include "proto/router.h"
#include "proto/static.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SLOTS CW_CONN_SLOTS
#define STASH_MAX 256          /* > largest incomplete header or control frame */
/* A stash block: the largest incomplete tail is a control frame (header
 * and 125 bytes). Stash blocks have a pool of their own, one per slot, so a
 * partial header of a few bytes never takes an I/O block. */
#define STASH_BLOCK (CW_FRAME_MAX_HEADER + CW_FRAME_MAX_CONTROL)
#define DIRECT_READ_MIN 2048   /* stream payloads this large straight into the message block */
#define IOV_BATCH 64

/* An idle connection owns nothing but its slot, so the slot is the memory
 * per idle connection (make bench: idle_10k, target 0.25 KiB). Its fixed
 * part, before the configured argument and user-data arrays and without
 * what TLS adds to the transport, is held to 152 bytes on 64-bit hosts,
 * plus 4 for fair shares (the address handle, the stalled-queue clock) and
 * 8 for the rate limits (CONFIG_RATE_LIMIT); grow it only with a reason. */
#if defined(CONFIG_RATE_LIMIT)
#define SLOT_FIXED_MAX 164
#else
#define SLOT_FIXED_MAX 156
#endif
#if UINTPTR_MAX > 0xffffffffu
_Static_assert(offsetof(struct cw_conn, args) - (sizeof(cw_transport) - sizeof(struct cw_io)) <=
                   SLOT_FIXED_MAX,
               "struct cw_conn grew: every idle connection pays for it");
#endif
CW_POOL_STORAGE(conn_store, sizeof(struct cw_conn), SLOTS);
CW_POOL_STORAGE(req_store, sizeof(cw_http_req), CONFIG_HTTP_BUFS);
CW_POOL_STORAGE(stash_store, STASH_BLOCK, SLOTS);
static cw_pool conn_pool, req_pool, stash_pool;
/* One connection's share of the I/O pool in bytes (cw_conn_pool_init);
 * its send queue holds at most this and sendq_max (queue_max()). */
static uint32_t conn_io_share = UINT32_MAX;
#if defined(CONFIG_RATE_LIMIT)
/* The time one message or byte costs, in 1/64 of the debt's unit
 * (1/1024 ms), from --rate-msgs and --rate-bytes; 0: no limit. */
#define RATE_UNITS_PER_S 1024000u
#define RATE_COST_SCALED (RATE_UNITS_PER_S * 64u)
static uint32_t rate_cost[2];
#endif
/* Reject slots answering 429 now: at most CONFIG_REJECT_SLOTS, so an
 * address over its share cannot fill the pool with them either. */
static unsigned over_addr_slots;
static _Alignas(16) uint8_t loop_buf[STASH_MAX + CONFIG_READ_BUF_SIZE];

static void on_io(struct cw_io *io, unsigned events);
static void on_timer(struct cw_wheel_timer *t);
#if defined(CONFIG_STATIC_FILES)
static void send_file(cw_conn *c);
#endif

/* A line about c: the JSON log lines carry its id and peer (base/log.h). */
#define conn_log(level, c, ...) cw_log_conn((level), (long)cw_conn_id(c), &(c)->peer, __VA_ARGS__)

#define CONN_OF(ptr, member) ((cw_conn *)(void *)((char *)(ptr) - offsetof(cw_conn, member)))

static uint32_t now32(void)
{
    return (uint32_t)cw_reactor_now();
}

static int would_block(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK;
}

/* ---- upcalls and the after-batch list ---- */

static void (*closed_hook)(cw_conn *c);
static int (*open_hook)(cw_conn *c);
static size_t (*report_hook)(char *out, size_t cap);

void cw_conn_on_closed(void (*fn)(cw_conn *c))
{
    closed_hook = fn;
}

void cw_conn_on_open(int (*fn)(cw_conn *c))
{
    open_hook = fn;
}

void cw_conn_on_report(size_t (*fn)(char *out, size_t cap))
{
    report_hook = fn;
}

/* Connections with work for after the batch, in the order they asked. A
 * ring with room for every slot (a connection is in it at most once, by
 * CW_CF_DIRTY); only its used part is ever touched, so an idle
 * connection costs it no resident memory. */
static cw_conn *dirty_ring[SLOTS];
static unsigned dirty_first, dirty_count;
#if defined(CONFIG_DEFERRED_ACCEPT)
/* Each slot's generation, counted up whenever a consumer's view of the
 * connection in it ends: a cw_conn_ref names one connection, not a slot. */
static uint32_t conn_gen[SLOTS];
/* cw_accept_headers' lines for the 101 being decided now (one connect, or
 * one cw_accept, at a time: the loop is single-threaded). */
static char extra_headers[CW_ACCEPT_HEADERS_MAX];
static size_t extra_len;
#endif

/* Queues c for the after-batch pass (flush, or free when closed). */
static void mark_dirty(cw_conn *c)
{
    if (c->flags & CW_CF_DIRTY)
        return;
    c->flags |= CW_CF_DIRTY;
    dirty_ring[(dirty_first + dirty_count) % SLOTS] = c;
    dirty_count++;
}

/* ---- the transport, with the after-batch read TLS may need ---- */

static ssize_t conn_recv(cw_conn *c, void *buf, size_t len)
{
    ssize_t n = cw_transport_recv(&c->xp, buf, len);
    if (n > 0 && cw_transport_pending(&c->xp)) {
        /* Decrypted bytes wait inside TLS, where the poller cannot see
         * them: come back after this batch. */
        c->flags |= CW_CF_RX_AGAIN;
        mark_dirty(c);
    }
    return n;
}

#if defined(CONFIG_FAIR_SHARES)
/* pct of n (n < 2^25, pct <= 100), at least 1. */
static uint32_t share_of(uint32_t n, unsigned pct)
{
    uint32_t v = n * pct / 100;
    return v ? v : 1;
}
#endif

void cw_conn_pool_init(unsigned max_conns)
{
    const cw_options *o = &cw_rt.opt;
    (void)o; /* used only by the optional modules below */
    dirty_first = dirty_count = 0;
    over_addr_slots = 0;
    cw_pool_init(&conn_pool, "conn", conn_store, sizeof(struct cw_conn), SLOTS);
    conn_pool.limit = max_conns + CONFIG_REJECT_SLOTS;
    cw_pool_init(&req_pool, "http", req_store, sizeof(cw_http_req), CONFIG_HTTP_BUFS);
    cw_pool_init(&stash_pool, "stash", stash_store, STASH_BLOCK, SLOTS);
    cw_buf_io_pool.reserve = CONFIG_IO_RESERVE; /* < CONFIG_IO_BUFS (config_check.h) */
#if defined(CONFIG_FAIR_SHARES)
    /* In whole blocks (32-bit arithmetic), bytes at most 4 GiB. */
    uint64_t io_conn = (uint64_t)share_of(CONFIG_IO_BUFS, o->conn_share_pct) * CONFIG_IO_BUF_SIZE;
    uint64_t io_addr = (uint64_t)share_of(CONFIG_IO_BUFS, o->addr_share_pct) * CONFIG_IO_BUF_SIZE;
    conn_io_share = io_conn < UINT32_MAX ? (uint32_t)io_conn : UINT32_MAX;
    unsigned pct = o->addr_share_pct;
    uint32_t limit[CW_SHARE_KINDS] = {
        [CW_SHARE_CONN] = o->max_conns_per_addr ? o->max_conns_per_addr : share_of(max_conns, pct),
        [CW_SHARE_REQ] = share_of(CONFIG_HTTP_BUFS, pct),
        [CW_SHARE_MSG] = share_of(CONFIG_MSG_BUFS, pct),
#if defined(CONFIG_GROUPS)
        [CW_SHARE_MEMBER] = share_of(o->max_memberships ? o->max_memberships
                                                        : CONFIG_MAX_MEMBERSHIPS, pct),
#endif
        [CW_SHARE_IO] = io_addr < UINT32_MAX ? (uint32_t)io_addr : UINT32_MAX,
#if defined(CONFIG_TLS)
        [CW_SHARE_TLS] = share_of(o->tls_max_sessions ? o->tls_max_sessions : CONFIG_TLS_MAX_CONNS,
                                  pct),
#endif
    };
    cw_share_init(limit);
#endif
#if defined(CONFIG_RATE_LIMIT)
    rate_cost[0] = o->rate_msgs ? RATE_COST_SCALED / o->rate_msgs : 0;
    rate_cost[1] = o->rate_bytes ? RATE_COST_SCALED / o->rate_bytes : 0;
#endif
}

/* ---- fair shares: what this connection holds, counted for its address ---- */

int cw_conn_share_take(cw_conn *c, unsigned kind)
{
    if (!cw_share_fits(c->share, kind, 1))
        return -1;
    cw_share_add(c->share, kind, 1);
    return 0;
}

void cw_conn_share_give(cw_conn *c, unsigned kind)
{
    cw_share_add(c->share, kind, -1);
}

/* The send queue changes only through these, so its bytes are counted
 * against the address as they come and go. */
static int tx_append(cw_conn *c, const void *a, size_t an, const void *b, size_t bn, int answer)
{
    int rc = answer ? cw_txq_append_answer(&c->tx, a, an, b, bn)
                    : cw_txq_append(&c->tx, a, an, b, bn);
    if (rc == 0)
        cw_share_add(c->share, CW_SHARE_IO, (int32_t)(an + bn));
    return rc;
}

static void tx_consume(cw_conn *c, size_t n)
{
    cw_txq_consume(&c->tx, n);
    cw_share_add(c->share, CW_SHARE_IO, -(int32_t)n);
}

static void tx_clear(cw_conn *c)
{
    cw_share_add(c->share, CW_SHARE_IO, -(int32_t)c->tx.bytes);
    cw_txq_clear(&c->tx);
}

static void req_put(cw_conn *c)
{
    cw_pool_put(&req_pool, c->hold.req);
    c->hold.req = NULL;
    cw_conn_share_give(c, CW_SHARE_REQ);
}

/* Reassembly blocks: an I/O block counts its bytes against the address's
 * I/O share, a message block against its message-block share. */
static void *rx_buf_get(cw_conn *c, size_t need, size_t *cap)
{
    int big = need > CONFIG_IO_BUF_SIZE;
    unsigned kind = big ? CW_SHARE_MSG : CW_SHARE_IO;
    uint32_t n = big ? 1 : CONFIG_IO_BUF_SIZE;
    void *b = cw_buf_get(need, cap); /* first: an empty pool counts as such */
    if (b && !cw_share_fits(c->share, kind, n)) {
        cw_buf_put(b);
        cw_rt.stats.share_refusals++;
        return NULL;
    }
    if (b)
        cw_share_add(c->share, kind, (int32_t)n);
    return b;
}

static void rx_buf_put(cw_conn *c, void *b)
{
    if (!b)
        return;
    if (cw_buf_cap(b) > CONFIG_IO_BUF_SIZE)
        cw_share_add(c->share, CW_SHARE_MSG, -1);
    else
        cw_share_add(c->share, CW_SHARE_IO, -(int32_t)CONFIG_IO_BUF_SIZE);
    cw_buf_put(b);
}

unsigned cw_conn_count(void)
{
    return conn_pool.used;
}

unsigned cw_conn_id(const cw_conn *c)
{
    return cw_pool_index(&conn_pool, c);
}

static void drop_stash(cw_conn *c)
{
    if (c->flags & CW_CF_STASH) {
        cw_pool_put(&stash_pool, c->hold.stash);
        c->hold.stash = NULL;
        c->flags &= (uint16_t)~CW_CF_STASH;
        c->stash_len = 0;
    }
}

const cw_consumer *cw_conn_consumer(const cw_conn *c)
{
    return c->flags & CW_CF_CONSUMER ? cw_rt.opt.routes[c->route].consumer : NULL;
}

/* ---- interest and teardown ---- */

/* Back-pressure: a client whose replies pile up is not read until they
 * drain, so its own traffic cannot grow our memory. Paused above half the
 * queue bound, resumed at a quarter. Asked before every read too: a second
 * read in one batch (TLS: decrypted bytes waiting in mbedTLS) comes before
 * the flush that would otherwise bring the flag up to date. */
static uint32_t queue_max(void)
{
    return cw_rt.opt.sendq_max < conn_io_share ? cw_rt.opt.sendq_max : conn_io_share;
}

static int rx_paused(cw_conn *c)
{
    uint32_t q = c->tx.bytes, max = queue_max();
    if (q > max / 2)
        c->flags |= CW_CF_RX_PAUSED;
    else if (q <= max / 4)
        c->flags &= (uint16_t)~CW_CF_RX_PAUSED;
    return (c->flags & CW_CF_RX_PAUSED) != 0;
}

static void update_interest(cw_conn *c)
{
    unsigned ev = 0;
    if (!rx_paused(c) && c->state != CW_ST_FILE)
        ev |= CW_PORT_IN;
    /* Resuming a paused reader: what TLS already decrypted will not show
     * up as readiness. */
    if ((ev & CW_PORT_IN) && cw_transport_pending(&c->xp) && !(c->flags & CW_CF_RX_AGAIN)) {
        c->flags |= CW_CF_RX_AGAIN;
        mark_dirty(c);
    }
    if (c->tx.head || c->state == CW_ST_FILE || cw_transport_wants_write(&c->xp))
        ev |= CW_PORT_OUT;
#if defined(CONFIG_DEFERRED_ACCEPT)
    /* Pending: nothing goes out before the 101; read only to see the client
     * leave, keeping what it sends in the request buffer while it fits. */
    if (c->flags & CW_CF_PENDING)
        ev = c->hold.req->len < sizeof c->hold.req->data ? CW_PORT_IN : 0;
#endif
    cw_reactor_set(&c->xp.io, ev);
}

static void release_buffers(cw_conn *c)
{
    tx_clear(c);
    cw_http_req *r = cw_conn_request(c);
    if (r && r->file_fd >= 0) {
        cw_port_close(r->file_fd);
        r->file_fd = -1;
    }
    if (r)
        req_put(c);
    drop_stash(c);
    /* Not the message being reassembled: a receive callback may be reading
     * it (a send that fails on the socket drops the connection under it).
     * It goes back when the slot is freed, after this batch. */
}

/* The consumer's view of c ended (disconnect called, or refused): what
 * it tied to c stops, its handles (cw_conn_ref) no longer find it. */
static void consumer_gone(cw_conn *c)
{
#if defined(CONFIG_APP_TIMERS)
    cw_app_timers_conn_closed(c);
#endif
#if defined(CONFIG_DEFERRED_ACCEPT)
    conn_gen[cw_conn_id(c)]++;
#endif
    (void)c;
}

/* Tells the consumer, once, that its connection ended. */
static void notify(cw_conn *c, int code)
{
    const cw_consumer *consumer = cw_conn_consumer(c);
    if (c->flags & CW_CF_NOTIFIED || !consumer)
        return;
    c->flags |= CW_CF_NOTIFIED;
    c->close_code = (uint16_t)code;
    if (consumer->disconnect)
        consumer->disconnect(c, code);
    /* After the callback, so it can still tell its groups goodbye. */
    if (closed_hook)
        closed_hook(c);
    consumer_gone(c);
}

/* Closes the socket now. The slot is freed after this batch, so events
 * still queued for it find it CLOSED and are ignored. */
static void drop(cw_conn *c, int code)
{
    if (c->state == CW_ST_CLOSED || c->state == CW_ST_FREE)
        return;
    if (c->state == CW_ST_HTTP || c->state == CW_ST_FILE)
        cw_rt.stats.conns_http--;
    c->state = CW_ST_CLOSED;
    notify(c, code);
    cw_wheel_cancel(&c->timer);
    cw_reactor_forget(&c->xp.io);
    cw_port_close(c->xp.io.fd);
    c->xp.io.fd = -1;
    cw_transport_close(&c->xp);
    release_buffers(c);
    mark_dirty(c);
}

/* Queues a frame with no bound check (control frames, the close frame;
 * a close may use the I/O pool's reserve: it must get out). */
static int queue_frame(cw_conn *c, unsigned op, const void *data, size_t len)
{
    uint8_t hdr[CW_FRAME_MAX_HEADER];
    size_t hl = cw_frame_header(hdr, op, 1, len, NULL);
    int rc = tx_append(c, hdr, hl, data, len, op == CW_OP_CLOSE);
    if (rc == 0)
        mark_dirty(c);
    return rc;
}

static int queue_close(cw_conn *c, int code, const char *reason)
{
    uint8_t p[CW_FRAME_MAX_CONTROL];
    size_t n = 0;
    if (code != CW_CLOSE_NO_STATUS) {
        size_t rl = reason ? strlen(reason) : 0;
        if (rl > CW_FRAME_MAX_CONTROL - 2)
            rl = CW_FRAME_MAX_CONTROL - 2;
        p[0] = (uint8_t)(code >> 8);
        p[1] = (uint8_t)code;
        if (rl)
            memcpy(p + 2, reason, rl);
        n = 2 + rl;
    }
    return queue_frame(c, CW_OP_CLOSE, p, n);
}

/* Nothing more will be said: flush, half-close, wait for the peer's FIN. */
static void enter_drain(cw_conn *c)
{
    if (c->state == CW_ST_HTTP || c->state == CW_ST_FILE)
        cw_rt.stats.conns_http--;
    c->state = CW_ST_DRAIN;
    cw_wheel_arm(&c->timer, cw_rt.opt.close_timeout_ms, on_timer);
    mark_dirty(c);
}

/* Our side starts the close handshake (application, shutdown, ping timeout). */
static void start_close(cw_conn *c, int code, const char *reason)
{
    if (queue_close(c, code, reason) < 0) {
        drop(c, code);
        return;
    }
    c->state = CW_ST_CLOSING;
    cw_wheel_arm(&c->timer, cw_rt.opt.close_timeout_ms, on_timer);
    notify(c, code);
}

/* The peer broke the protocol: say why, then stop listening to it. */
static void fail(cw_conn *c, int code, const char *why)
{
    if (code == CW_CLOSE_TRY_AGAIN)
        cw_rt.stats.pool_exhausted++;
    else
        cw_rt.stats.protocol_errors++;
    conn_log(CW_LOG_DEBUG, c, "conn %u: closing %d: %s", cw_conn_id(c), code, why);
    if (c->state == CW_ST_CLOSING) {
        /* Our close frame is already out: a connection sends one close. */
        enter_drain(c);
        return;
    }
    if (queue_close(c, code, why) < 0) {
        drop(c, code);
        return;
    }
    enter_drain(c);
    notify(c, code);
}

/* ---- HTTP ---- */

static void http_answer(cw_conn *c, int status, const char *why)
{
    char buf[512];
    const char *extra = NULL;
    if (status == 426)
        extra = "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n";
    else if (status == 405)
        extra = "Allow: GET, HEAD\r\n";
    else if (status == 401)
        extra = "WWW-Authenticate: Bearer\r\n";
    else if (status == 503)
        extra = "Retry-After: 1\r\n";
    if (status == 401 || status == 403)
        cw_rt.stats.auth_failures++;
    size_t n = cw_http_error_response(buf, sizeof buf, status, extra);
    cw_http_req *r = cw_conn_request(c);
    if (n > 0 && r && cw_http_span_eq(r, r->method, "HEAD")) {
        const char *end = strstr(buf, "\r\n\r\n"); /* a HEAD answer has no body */
        if (end)
            n = (size_t)(end + 4 - buf);
    }
    if (status != 503)
        cw_rt.stats.http_errors++;
    char peer[64];
    cw_port_peer_format(&c->peer, peer, sizeof peer);
    conn_log(status >= 500 ? CW_LOG_WARN : CW_LOG_INFO, c, "%s: %d %s", peer, status, why);
    if (r)
        req_put(c);
    tx_clear(c);
    if (n == 0 || tx_append(c, buf, n, NULL, 0, 1) < 0) {
        drop(c, 0);
        return;
    }
    enter_drain(c);
}

static void feed(cw_conn *c, uint8_t *buf, size_t len);

static void arm_ping(cw_conn *c)
{
    if (cw_rt.opt.ping_interval_ms)
        cw_wheel_arm(&c->timer, cw_rt.opt.ping_interval_ms, on_timer);
    else
        cw_wheel_cancel(&c->timer);
}

/* ---- the message deadline: a message in progress (its reassembly buffer,
 * or a partial frame in the stash) must be complete within
 * message_timeout_ms of its first byte, however the bytes trickle. Checked
 * as bytes arrive; a client that goes silent instead meets the ping
 * deadline (it cannot answer a ping from inside a frame, and a pong
 * between fragments is a byte that arrives). ---- */

#define MSG_UNIT_SHIFT 6 /* msg_since counts 64 ms units: 16 bits last 69 min */

/* After each read while OPEN: starts the clock when a message begins,
 * stops it when none is left in progress, and closes the connection 1008
 * once the message is overdue. */
static void track_message(cw_conn *c)
{
    if (!c->rx.msg && !(c->flags & CW_CF_STASH)) {
        c->flags &= (uint16_t)~CW_CF_MSG_TIMED; /* the common case: nothing held */
        return;
    }
    uint32_t limit = cw_rt.opt.message_timeout_ms;
    if (c->state != CW_ST_OPEN || !limit)
        return;
    uint16_t now = (uint16_t)(now32() >> MSG_UNIT_SHIFT);
    if (!(c->flags & CW_CF_MSG_TIMED)) {
        c->flags |= CW_CF_MSG_TIMED;
        c->msg_since = now;
    } else if ((uint32_t)(uint16_t)(now - c->msg_since) << MSG_UNIT_SHIFT >= limit) {
        cw_rt.stats.message_timeouts++;
        fail(c, CW_CLOSE_POLICY, "message not complete in time");
    }
}

#if defined(CONFIG_STATIC_FILES)
/* Static files: GET and HEAD below --www; the body goes out by sendfile
 * from flush() as the socket drains. */
static void serve_static(cw_conn *c)
{
    cw_http_req *r = cw_conn_request(c);
    int head = cw_http_span_eq(r, r->method, "HEAD");
    if (!head && !cw_http_span_eq(r, r->method, "GET")) {
        http_answer(c, 405, "method not allowed for a file");
        return;
    }
    char rel[256];
    uint64_t size;
    int fd = -1;
    if (cw_static_resolve(r->data + r->path.off, rel, sizeof rel) == 0)
        fd = cw_port_open_file(cw_rt.www_fd, rel, &size);
    if (fd < 0) {
        http_answer(c, 404, "no such file");
        return;
    }
    char hdr[320];
    int n = snprintf(hdr, sizeof hdr,
                     "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %llu\r\n"
                     "Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n"
                     "Connection: close\r\n\r\n",
                     cw_static_mime(rel), (unsigned long long)size);
    if (tx_append(c, hdr, (size_t)n, NULL, 0, 0) < 0) { /* traffic, not an answer */
        cw_port_close(fd);
        drop(c, 0);
        return;
    }
    conn_log(CW_LOG_DEBUG, c, "conn %u: %s /%s (%llu bytes)", cw_conn_id(c), head ? "HEAD" : "GET",
           rel, (unsigned long long)size);
    if (head || size == 0) {
        cw_port_close(fd);
        req_put(c);
        enter_drain(c);
        return;
    }
    r->file_fd = fd;
    r->file_off = 0;
    r->file_left = size;
    c->state = CW_ST_FILE;
    cw_wheel_arm(&c->timer, cw_rt.opt.download_timeout_ms, on_timer); /* once, for the whole file */
    mark_dirty(c);
}

/* Sends more of a static file; called once the queue has drained. */
static void send_file(cw_conn *c)
{
    cw_http_req *r = cw_conn_request(c);
    if (!cw_transport_can_sendfile(&c->xp) && r->file_left > 0) {
        /* No sendfile through TLS: the next piece goes through the queue,
         * read into the loop buffer, so at most its size at a time. */
        size_t chunk = r->file_left > sizeof loop_buf ? sizeof loop_buf : (size_t)r->file_left;
        ssize_t n = cw_port_pread(r->file_fd, loop_buf, chunk, r->file_off);
        if (n <= 0 || tx_append(c, loop_buf, (size_t)n, NULL, 0, 0) < 0) {
            drop(c, 0);
            return;
        }
        r->file_off += (uint64_t)n;
        r->file_left -= (uint64_t)n;
        mark_dirty(c);
        return;
    }
    while (r->file_left > 0) {
        size_t chunk = r->file_left > (1u << 20) ? (1u << 20) : (size_t)r->file_left;
        ssize_t n = cw_port_sendfile(c->xp.io.fd, r->file_fd, &r->file_off, chunk);
        if (n < 0 && would_block())
            return;
        if (n <= 0) {
            drop(c, 0); /* the file shrank, or the peer went away */
            return;
        }
        r->file_left -= (uint64_t)n;
    }
    cw_port_close(r->file_fd);
    r->file_fd = -1;
    req_put(c);
    c->state = CW_ST_HTTP; /* so enter_drain accounts it as it left HTTP */
    enter_drain(c);
}
#endif /* CONFIG_STATIC_FILES */

/* Checks that run before any consumer code: Origin, the built-in JWT,
 * the auth hook, the route's auth requirement. Returns 0 or a status. */
static int authorize(cw_conn *c, const cw_route *route)
{
    cw_http_req *r = cw_conn_request(c);
    const cw_options *o = &cw_rt.opt;
    if (!cw_auth_origin_allowed(r, o->allow_origins, o->nallow_origins)) {
        conn_log(CW_LOG_INFO, c, "conn %u: Origin '%s' not allowed", cw_conn_id(c),
               cw_http_header_value(r, "origin"));
        return 403;
    }
#if defined(CONFIG_JWT)
    if (o->jwt_secret) {
        const char *tok = cw_auth_find_token(r, o->jwt_cookie ? o->jwt_cookie : "jwt",
                                             o->jwt_query ? o->jwt_query : "token");
        if (tok) {
            cw_jwt_config cfg = {(const uint8_t *)o->jwt_secret, o->jwt_secret_len,
                                 o->jwt_id_claim ? o->jwt_id_claim : "user_id",
                                 o->jwt_name_claim ? o->jwt_name_claim : "username",
                                 (int64_t)o->jwt_leeway_s, o->jwt_audience, o->jwt_issuer,
                                 o->jwt_allow_no_exp, 0};
            cw_jwt_claims cl;
            int rc = cw_jwt_verify(&cfg, tok, strlen(tok), cw_port_wall_seconds(), &cl);
            if (rc != CW_JWT_OK) {
                conn_log(CW_LOG_INFO, c, "conn %u: token refused: %s", cw_conn_id(c),
                       cw_jwt_strerror(rc));
                return 401;
            }
            if (cw_set_user(c, cl.id, cl.name) < 0)
                return 503;
        }
    }
#endif
    if (o->auth) {
        int st = o->auth(c);
        if (st)
            return st >= 400 && st <= 599 ? st : 403;
    }
    if ((route->flags & CW_ROUTE_AUTH) && !c->auth_user)
        return 401;
    return 0;
}

#if defined(CONFIG_STATS_ENDPOINT)
/* GET /stats: the counters and pools as text, the same report as the
 * control socket's "stats" (this connection counts in conns_http and the
 * conn pool; its request buffer is given back first). */
static void serve_stats(cw_conn *c)
{
    cw_http_req *r = cw_conn_request(c);
    int head = cw_http_span_eq(r, r->method, "HEAD");
    if (!head && !cw_http_span_eq(r, r->method, "GET")) {
        http_answer(c, 405, "method not allowed for /stats");
        return;
    }
    req_put(c);
    char body[4096], hdr[200];
    size_t bn = report_hook(body, sizeof body); /* the server registers it */
    int hn = snprintf(hdr, sizeof hdr,
                      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      "Content-Length: %zu\r\nCache-Control: no-store\r\n"
                      "Connection: close\r\n\r\n", bn);
    if (hn <= 0 || tx_append(c, hdr, (size_t)hn, body, head ? 0 : bn, 1) < 0) {
        drop(c, 0);
        return;
    }
    enter_drain(c);
}
#endif

/* A complete request head goes through these steps in turn: route it
 * (or answer it as plain HTTP), check the upgrade, open the consumer's
 * view (authorise, connect), then send the 101, or refuse. */

/* Step 1: the route for the path, its arguments into c->args. A request
 * that is not for a route is answered here as plain HTTP: /stats, a static
 * file, or 404. Returns the route's index, or -1 when answered. */
static int route_request(cw_conn *c, cw_http_req *r)
{
    /* Host names not on the allow-list (DNS rebinding): refused before
     * anything, plain HTTP included. */
    if (!cw_auth_host_allowed(r, cw_rt.opt.allow_hosts, cw_rt.opt.nallow_hosts)) {
        int h = cw_http_find(r, "host", NULL);
        conn_log(CW_LOG_INFO, c, "conn %u: Host '%.*s' not allowed", cw_conn_id(c),
               h < 0 ? 0 : (int)r->hdr[h].value.len, h < 0 ? "" : r->data + r->hdr[h].value.off);
        http_answer(c, 400, "host not allowed");
        return -1;
    }
    /* NUL-terminate the path in place: the byte after it is '?' or ' '. */
    r->data[r->path.off + r->path.len] = 0;
#if defined(CONFIG_STATS_ENDPOINT)
    if (cw_rt.opt.stats_endpoint && cw_http_span_eq(r, r->path, "/stats") &&
        !cw_handshake_is_upgrade(r)) {
        serve_stats(c);
        return -1;
    }
#endif
    int ri = cw_route_find(cw_rt.opt.routes, cw_rt.opt.nroutes, r->data + r->path.off, r->path.len,
                           c->args, sizeof c->args);
    if (ri >= 0) {
        c->route = (uint8_t)ri;
        return ri;
    }
#if defined(CONFIG_STATIC_FILES)
    if (cw_rt.www_fd >= 0 && !cw_handshake_is_upgrade(r)) {
        serve_static(c);
        return -1;
    }
#endif
    http_answer(c, 404, "no route for the path");
    return -1;
}

/* Step 2: a valid WebSocket upgrade (RFC 6455 4.2.1), else its error
 * status (400, 426, ...) is answered. Returns 1 when valid. */
static int upgrade_valid(cw_conn *c, const cw_http_req *r, cw_handshake *hs)
{
    cw_handshake_check(r, hs);
    if (hs->status == 101)
        return 1;
    http_answer(c, hs->status, hs->why);
    return 0;
}

/* Step 3: the consumer's view of the connection comes to exist (scope,
 * user data, OPEN); the checks that need no consumer code run first, then
 * connect. Returns 0 when accepted, else the HTTP status to refuse with. */
static int open_consumer(cw_conn *c, cw_http_req *r, const cw_route *route)
{
    cw_http_prepare_scope(r);
    c->flags |= CW_CF_CONSUMER;
    memset(c->user, 0, sizeof c->user);
    cw_rt.stats.conns_http--;
    c->state = CW_ST_OPEN;
    c->close_code = 0;
    int st = authorize(c, route);
    if (st == 0 && route->consumer->groups) {
        /* Channels joins a consumer's groups before its connect runs. */
        st = open_hook ? open_hook(c) : 500;
        if (st == 500 && !open_hook)
            cw_log(CW_LOG_ERROR, "route %s: consumer groups need CONFIG_GROUPS", route->pattern);
    }
#if defined(CONFIG_DEFERRED_ACCEPT)
    extra_len = 0; /* cw_accept_headers during this connect */
#endif
    if (st == 0 && route->consumer->connect)
        st = route->consumer->connect(c);
#if defined(CONFIG_DEFERRED_ACCEPT)
    if (st == CW_PENDING && c->close_code)
        st = 403;
#endif
    if (st == 0 && c->close_code)
        st = 403; /* cw_close inside connect refuses the upgrade */
#if defined(CONFIG_DEFERRED_ACCEPT)
    if (st == CW_PENDING)
        return st;
#endif
    if (st != 0 && (st < 400 || st > 599))
        st = 403;
    return st;
}

/* The one way back from step 3: the consumer's view is undone without a
 * disconnect (its connect did not succeed) and the client gets status. */
static void refuse(cw_conn *c, int status)
{
    if (closed_hook)
        closed_hook(c); /* groups that connect joined */
    consumer_gone(c);
    c->flags &= (uint16_t)~CW_CF_CONSUMER;
    c->state = CW_ST_HTTP;
    cw_rt.stats.conns_http++;
    http_answer(c, status, status == 401 || status == 403 ? "not authorized"
                                                          : "refused by the consumer");
}

/* Step 4: the 101, in front of anything connect already sent; then the
 * frames pipelined behind the request, parsed from the request buffer
 * itself, which is then given back. */
static void reply_upgrade(cw_conn *c, cw_http_req *r, const cw_handshake *hs)
{
#if defined(CONFIG_DEFERRED_ACCEPT)
    char head[320 + CW_ACCEPT_HEADERS_MAX];
    size_t hn = cw_handshake_response(head, 320, hs->accept, c->subprotocol);
    if (hn && extra_len) {
        /* The extra lines go in before the blank line that ends the head. */
        memcpy(head + hn - 2, extra_headers, extra_len);
        memcpy(head + hn - 2 + extra_len, "\r\n", 2);
        hn += extra_len;
    }
    extra_len = 0;
#else
    char head[320];
    size_t hn = cw_handshake_response(head, sizeof head, hs->accept, c->subprotocol);
#endif
    if (hn == 0 || cw_txq_prepend(&c->tx, head, hn) < 0) {
        cw_rt.stats.pool_exhausted++;
        drop(c, CW_CLOSE_TRY_AGAIN);
        return;
    }
    cw_share_add(c->share, CW_SHARE_IO, (int32_t)hn);
    cw_rt.stats.upgraded++;
    cw_rt.stats.conns_open++;
    c->flags |= CW_CF_UPGRADED;
    if (CW_LOG_COMPILED >= CW_LOG_DEBUG && cw_rt.opt.log_level >= CW_LOG_DEBUG) {
        char peer[64]; /* the client's, behind a trusted proxy (cw_peer) */
        cw_port_peer_format(&c->peer, peer, sizeof peer);
        conn_log(CW_LOG_DEBUG, c, "conn %u: %s: upgraded", cw_conn_id(c), peer);
    }
    cw_hist_since(&cw_hist_handshake, c->last_rx_ms);
    c->last_rx_ms = now32();
    arm_ping(c);
    mark_dirty(c);
    c->hold.req = NULL;
    if (r->pos < r->len) {
        feed(c, (uint8_t *)r->data + r->pos, (size_t)(r->len - r->pos));
        track_message(c);
    }
    cw_pool_put(&req_pool, r);
    cw_conn_share_give(c, CW_SHARE_REQ);
}

/* ---- the client behind a trusted proxy (core/trusted.h) ---- */

#if defined(CONFIG_PROXY_HEADERS)
/* ip as a peer address (the port layer's form). */
static void peer_from_ip(cw_port_peer *out, const cw_ip *ip)
{
    memset(out, 0, sizeof *out);
    memcpy(out->addr, ip->addr, ip->family == 4 ? 4 : 16);
    out->port = ip->port;
    out->family = ip->family;
}

/* Refused before TLS is up, where a TLS client could not read an HTTP
 * answer: logged with the client's address and closed. */
static void close_before_tls(cw_conn *c, const char *why)
{
    char peer[64];
    cw_port_peer_format(&c->peer, peer, sizeof peer);
    conn_log(CW_LOG_INFO, c, "%s: closed: %s", peer, why);
    drop(c, 0);
}

/* The client is known (ip; NULL: the peer itself): cw_peer says it, and
 * its address's shares count this connection from now on (it held none
 * while the proxy's word was awaited). 0, or -1 when that address holds
 * its share already: answered 429. */
static int set_client(cw_conn *c, const cw_ip *ip)
{
    if (ip)
        peer_from_ip(&c->peer, ip);
    if (c->flags & CW_CF_REJECT)
        return 0;
    int over = 0;
    uint16_t h = cw_share_attach(&c->peer, &over);
    if (!over && (!cw_share_fits(h, CW_SHARE_REQ, 1) ||
                  ((c->flags & CW_CF_TLS_SHARE) && !cw_share_fits(h, CW_SHARE_TLS, 1)))) {
        cw_share_detach(h);
        over = 1;
    }
    if (over) {
        cw_rt.stats.rejected_addr++;
        if (!cw_transport_ready(&c->xp)) { /* before TLS: a 429 could not be read */
            close_before_tls(c, "address over its share of connections");
            return -1;
        }
        http_answer(c, 429, "address over its share of connections");
        return -1;
    }
    c->share = h;
    cw_share_add(h, CW_SHARE_REQ, 1);
    if (c->flags & CW_CF_TLS_SHARE)
        cw_share_add(h, CW_SHARE_TLS, 1);
    cw_share_add(h, CW_SHARE_IO, (int32_t)c->tx.bytes);
    return 0;
}

/* A trusted proxy's request: the client from its X-Forwarded-For or
 * Forwarded lines (--proxy-header), or the proxy itself when it sent none.
 * 0, or -1 when answered (400: a Forwarded that does not parse; 429). */
static int resolve_client(cw_conn *c, cw_http_req *r)
{
    cw_fwd f;
    cw_fwd_init(&f);
    int kind = cw_trusted_header;
    const char *name = kind == CW_FWD_RFC7239 ? "forwarded" : "x-forwarded-for";
    for (unsigned i = 0; kind >= 0 && i < r->nheaders; i++) {
        const char *why;
        if (cw_http_span_ieq(r, r->hdr[i].name, name) &&
            cw_fwd_line(&f, kind, r->data + r->hdr[i].value.off, r->hdr[i].value.len,
                        cw_trusted_ip, NULL, &why) < 0) {
            cw_rt.stats.proxy_errors++;
            http_answer(c, 400, why);
            return -1;
        }
    }
    cw_ip ip;
    return set_client(c, cw_fwd_result(&f, &ip) ? &ip : NULL);
}

/* A PROXY listener's connection: its header, taken off the socket before
 * any HTTP (or TLS) byte. Peeked first, so that exactly the header is
 * consumed; what came of it waits in the request buffer. */
static void read_proxy(cw_conn *c)
{
    cw_http_req *r = c->hold.req;
    size_t cap = sizeof r->data < CW_PROXY_HDR_MAX ? sizeof r->data : CW_PROXY_HDR_MAX;
    ssize_t n = cap > r->len ? cw_port_peek(c->xp.io.fd, r->data + r->len, cap - r->len) : 0;
    if (n <= 0) {
        if (n < 0 && would_block())
            return;
        drop(c, 0); /* gone before its header, or a header too long for the buffer */
        return;
    }
    cw_ip ip;
    size_t used;
    const char *why = NULL;
    int st = cw_proxy_hdr_parse((const uint8_t *)r->data, r->len + (size_t)n, &ip, &used, &why);
    if (st == CW_PROXY_DONE && used <= r->len)
        st = CW_PROXY_BAD, why = "PROXY header ends inside bytes already read";
    if (st == CW_PROXY_BAD) {
        cw_rt.stats.proxy_errors++;
        if (!cw_transport_ready(&c->xp)) { /* a TLS client could not read a 400 */
            close_before_tls(c, why);
            return;
        }
        http_answer(c, 400, why);
        return;
    }
    size_t take = st == CW_PROXY_DONE ? used - r->len : (size_t)n;
    if (cw_port_recv(c->xp.io.fd, r->data + r->len, take) != (ssize_t)take) {
        drop(c, 0);
        return;
    }
    r->len = (uint16_t)(r->len + take);
    if (st == CW_PROXY_MORE)
        return;
    r->len = 0;
    c->flags &= (uint16_t)~CW_CF_PROXY_HDR;
    /* Believed from a trusted proxy only; a client it names that is a
     * trusted proxy too may name the next one in its request headers. */
    if (!cw_trusted_peer(&c->peer) || !ip.family)
        return;
    cw_port_peer named;
    peer_from_ip(&named, &ip);
    if (cw_trusted_peer(&named))
        c->peer = named; /* still counted nowhere: its request names the client */
    else
        set_client(c, &ip);
}
#endif /* CONFIG_PROXY_HEADERS */

static void handle_request(cw_conn *c)
{
    cw_http_req *r = cw_conn_request(c);
    /* A trusted proxy's connection counts against no address until the
     * client behind it is known. */
#if defined(CONFIG_PROXY_HEADERS)
    if (!(c->flags & CW_CF_REJECT) && cw_trusted_peer(&c->peer) && resolve_client(c, r) < 0)
        return;
#endif
    if (c->flags & CW_CF_OVER_ADDR) {
        cw_rt.stats.rejected_addr++;
        http_answer(c, 429, "address over its share of connections");
        return;
    }
    if (c->flags & CW_CF_REJECT) {
        cw_rt.stats.rejected_full++;
        http_answer(c, 503, "no free connection slot");
        return;
    }
    int ri = route_request(c, r);
    cw_handshake hs;
    if (ri < 0 || !upgrade_valid(c, r, &hs))
        return;
    int st = open_consumer(c, r, &cw_rt.opt.routes[ri]);
    if (c->state != CW_ST_OPEN)
        return; /* dropped meanwhile (by the consumer, or for want of memory) */
#if defined(CONFIG_DEFERRED_ACCEPT)
    if (st == CW_PENDING) {
        c->flags |= CW_CF_PENDING; /* the handshake deadline keeps running */
        extra_len = 0;
        update_interest(c);
        return;
    }
#endif
    if (st != 0)
        refuse(c, st);
    else
        reply_upgrade(c, r, &hs);
}

#if defined(CONFIG_DEFERRED_ACCEPT)
/* ---- deferred accept: connect answered CW_PENDING ---- */

/* Pending: the client may pipeline frames (kept in the request buffer for
 * after the 101) or leave (disconnect 1006). */
static void read_pending(cw_conn *c)
{
    cw_http_req *r = c->hold.req;
    if (r->len < sizeof r->data) {
        ssize_t n = conn_recv(c, r->data + r->len, sizeof r->data - r->len);
        if (n <= 0) {
            if (n < 0 && would_block())
                return;
            drop(c, CW_CLOSE_ABNORMAL);
            return;
        }
        r->len = (uint16_t)(r->len + n);
    }
    update_interest(c); /* full: stop reading, the deadline still runs */
}

/* The handshake deadline passed before the application decided. */
static void pending_expired(cw_conn *c)
{
    cw_rt.stats.handshake_timeouts++;
    c->flags &= (uint16_t)~CW_CF_PENDING;
    notify(c, CW_CLOSE_ABNORMAL); /* its consumer frees what it held */
    c->flags &= (uint16_t)~CW_CF_CONSUMER;
    c->state = CW_ST_HTTP;
    cw_rt.stats.conns_http++;
    http_answer(c, 503, "connect did not decide before the handshake deadline");
}

/* Header lines for the 101: "Name: value\r\n" each, names chanwire owns
 * refused. Returns their length, or CW_EINVAL / CW_ETOOBIG. */
static long check_headers(const char *h)
{
    size_t n = strlen(h);
    if (n > CW_ACCEPT_HEADERS_MAX)
        return CW_ETOOBIG;
    for (size_t i = 0; i < n;) {
        size_t name = i;
        while (i < n && cw_http_is_tchar((unsigned char)h[i]))
            i++;
        if (i == name || i >= n || h[i] != ':')
            return CW_EINVAL;
        size_t nl = i - name;
        if ((nl == 7 && strncasecmp(h + name, "upgrade", 7) == 0) ||
            (nl == 10 && strncasecmp(h + name, "connection", 10) == 0) ||
            (nl >= 14 && strncasecmp(h + name, "sec-websocket-", 14) == 0))
            return CW_EINVAL;
        for (i++; i < n && h[i] != '\r'; i++)
            if (((unsigned char)h[i] < 0x20 && h[i] != '\t') || h[i] == 0x7f)
                return CW_EINVAL;
        if (i + 1 >= n || h[i + 1] != '\n')
            return CW_EINVAL;
        i += 2;
    }
    return (long)n;
}

static int set_headers(const char *headers)
{
    long n = headers ? check_headers(headers) : 0;
    if (n < 0)
        return (int)n;
    memcpy(extra_headers, headers ? headers : "", (size_t)n);
    extra_len = (size_t)n;
    return 0;
}

int cw_accept_headers(cw_conn *c, const char *headers)
{
    if (!c || c->state != CW_ST_OPEN || !cw_conn_request(c) || (c->flags & CW_CF_UPGRADED))
        return CW_ECLOSED;
    return set_headers(headers);
}

static int pending(const cw_conn *c)
{
    return c && c->state == CW_ST_OPEN && (c->flags & CW_CF_PENDING) &&
           !(c->flags & CW_CF_NOTIFIED);
}

int cw_accept(cw_conn *c, const char *subprotocol, const char *headers)
{
    if (!pending(c))
        return c && c->state == CW_ST_OPEN && !(c->flags & CW_CF_NOTIFIED) ? CW_EINVAL
                                                                           : CW_ECLOSED;
    cw_http_req *r = c->hold.req;
    if (subprotocol && cw_accept_subprotocol(c, subprotocol) < 0)
        return CW_ENOENT;
    int rc = set_headers(headers);
    if (rc < 0)
        return rc;
    int k = cw_http_find(r, "sec-websocket-key", NULL);
    cw_handshake hs;
    hs.status = 101;
    hs.why = NULL;
    cw_handshake_accept_key(r->data + r->hdr[k].value.off, r->hdr[k].value.len, hs.accept);
    c->flags &= (uint16_t)~CW_CF_PENDING;
    reply_upgrade(c, r, &hs);
    return c->state == CW_ST_OPEN ? 0 : CW_ENOMEM;
}

int cw_refuse(cw_conn *c, int status)
{
    if (!pending(c))
        return c && c->state == CW_ST_OPEN && !(c->flags & CW_CF_NOTIFIED) ? CW_EINVAL
                                                                           : CW_ECLOSED;
    if (status < 400 || status > 599)
        return CW_EINVAL;
    c->flags &= (uint16_t)~CW_CF_PENDING;
    refuse(c, status);
    return 0;
}

cw_conn_ref cw_conn_ref_of(cw_conn *c)
{
    unsigned id = cw_conn_id(c);
    cw_conn_ref ref = {id, conn_gen[id]};
    return ref;
}

cw_conn *cw_conn_get(cw_conn_ref ref)
{
    if (ref.slot >= conn_pool.bump || conn_gen[ref.slot] != ref.gen)
        return NULL;
    cw_conn *c = (cw_conn *)(void *)(conn_pool.base + (size_t)ref.slot * conn_pool.block_size);
    if (c->state == CW_ST_FREE || c->state == CW_ST_CLOSED || !(c->flags & CW_CF_CONSUMER) ||
        (c->flags & CW_CF_NOTIFIED))
        return NULL;
    return c;
}
#endif /* CONFIG_DEFERRED_ACCEPT */

static void read_http(cw_conn *c)
{
    cw_http_req *r = cw_conn_request(c);
    ssize_t n = conn_recv(c, r->data + r->len, sizeof r->data - r->len);
    if (n <= 0) {
        if (n < 0 && would_block())
            return;
        drop(c, 0); /* gone before finishing its request */
        return;
    }
    r->len = (uint16_t)(r->len + n);
    int st = cw_http_parse(r);
    if (st == CW_HTTP_MORE)
        return;
    if (st != CW_HTTP_DONE) {
        http_answer(c, st, st == 431 ? "request head too large"
                           : st == 414 ? "request line too long"
                                       : "malformed request");
        return;
    }
    handle_request(c);
}

/* ---- WebSocket receive ---- */

/* ---- rate limits: a token bucket per limit, kept as the time it owes ---- */

#if defined(CONFIG_RATE_LIMIT)
/* Pays the debts off for el ms (the time since the previous read). */
static void rate_decay(cw_conn *c, uint32_t el)
{
    uint64_t paid = (uint64_t)el << 10;
    for (int i = 0; i < 2; i++)
        c->rate_debt[i] = paid >= c->rate_debt[i] ? 0 : c->rate_debt[i] - (uint32_t)paid;
}

/* Spends n of a per-second rate: its cost in time joins the debt. One
 * second's worth may be owed at once (the burst); a bucket owing nothing
 * takes any single spend. 0 when over. */
static int rate_spend(uint32_t *debt, uint32_t unit_cost, uint64_t n)
{
    if (!unit_cost)
        return 1;
    uint64_t cost = (n * unit_cost) >> 6;
    if (*debt && *debt + cost > RATE_UNITS_PER_S)
        return 0;
    *debt += (uint32_t)(cost < (1u << 30) ? cost : (1u << 30));
    return 1;
}

/* Counts a message (data or control) against --rate-msgs; 0 when over,
 * and the connection is closing 1008. */
static inline int rate_message(cw_conn *c)
{
    if (!rate_cost[0] || rate_spend(&c->rate_debt[0], rate_cost[0], 1))
        return 1;
    cw_rt.stats.rate_limited++;
    fail(c, CW_CLOSE_POLICY, "message rate limit");
    return 0;
}
#else
#define rate_message(c) 1
#endif

static int rx_reserve(void *ctx, cw_ws_rx *rx, size_t need)
{
    cw_conn *c = ctx;
    if (need == 0)
        need = 1;
    if (rx->msg && cw_buf_cap(rx->msg) >= need)
        return 0;
    size_t cap;
    uint8_t *b = rx_buf_get(c, need, &cap);
    if (!b)
        return -1;
    if (rx->msg) {
        memcpy(b, rx->msg, rx->msg_len);
        rx_buf_put(c, rx->msg);
    }
    rx->msg = b;
    return 0;
}

static void rx_release(void *ctx, cw_ws_rx *rx)
{
    rx_buf_put(ctx, rx->msg);
    rx->msg = NULL;
}

static int rx_message(void *ctx, unsigned op, uint8_t *data, size_t len)
{
    cw_conn *c = ctx;
    if (c->state != CW_ST_OPEN)
        return 0; /* closing: data is read and dropped */
    if (!rate_message(c))
        return 1;
    cw_rt.stats.msgs_in++;
    const cw_consumer *consumer = cw_conn_consumer(c);
    if (consumer->receive) {
        static const uint8_t empty[1];
        cw_msg m = {(int)op, data ? data : empty, len};
        consumer->receive(c, &m);
    }
    /* After cw_close keep parsing: the peer's close frame may follow. */
    return c->state != CW_ST_OPEN && c->state != CW_ST_CLOSING;
}

static int rx_control(void *ctx, unsigned op, uint8_t *data, size_t len)
{
    cw_conn *c = ctx;
    if (op != CW_OP_CLOSE && c->state == CW_ST_OPEN && !rate_message(c))
        return 1;
    if (op == CW_OP_PING) {
        if (c->state == CW_ST_OPEN && queue_frame(c, CW_OP_PONG, data, len) < 0) {
            fail(c, CW_CLOSE_TRY_AGAIN, "no buffer for a pong");
            return 1;
        }
        return 0;
    }
    if (op == CW_OP_PONG)
        return 0; /* any traffic already counts as life */
    /* CLOSE */
    uint16_t code;
    int bad = cw_frame_close_parse(data, len, &code);
    if (bad) {
        fail(c, bad, bad == CW_CLOSE_INVALID_DATA ? "close reason is not UTF-8" : "bad close code");
        return 1;
    }
    if (c->state == CW_ST_OPEN) {
        /* Echo the peer's code, then let it see our FIN. */
        if (queue_close(c, code, NULL) < 0) {
            drop(c, code);
            return 1;
        }
        enter_drain(c);
        notify(c, code);
    } else {
        enter_drain(c); /* the answer to our own close */
    }
    return 1;
}

static const cw_ws_rx_ops rx_ops = {rx_reserve, rx_release, rx_message, rx_control};

static void handle_rx_result(cw_conn *c, int rc)
{
    if (rc > 0)
        fail(c, rc, rc == CW_CLOSE_TOO_BIG       ? "message too big"
                    : rc == CW_CLOSE_INVALID_DATA ? "invalid UTF-8"
                    : rc == CW_CLOSE_TRY_AGAIN    ? "no buffer for the message"
                                                  : "protocol error");
}

/* Parses buf (unmasking in place); keeps an incomplete tail in the stash. */
static void feed(cw_conn *c, uint8_t *buf, size_t len)
{
    size_t used = 0;
    int rc = cw_ws_rx_feed(&c->rx, buf, len, &used, cw_rt.opt.max_message, &rx_ops, c);
    if (rc != CW_RX_OK) {
        handle_rx_result(c, rc);
        return;
    }
    size_t left = len - used;
    if (left == 0)
        return;
    uint8_t *stash = left > STASH_BLOCK ? NULL : cw_pool_get(&stash_pool);
    if (!stash) {
        fail(c, CW_CLOSE_TRY_AGAIN, "no buffer for a partial frame");
        return;
    }
    memcpy(stash, buf + used, left);
    c->hold.stash = stash;
    c->flags |= CW_CF_STASH;
    c->stash_len = (uint16_t)left;
}

static void read_ws(cw_conn *c)
{
    size_t room, pre = 0;
    uint8_t *direct = cw_ws_rx_direct(&c->rx, &room);
    int streaming = direct && room >= DIRECT_READ_MIN;
    ssize_t n;
    if (streaming) {
        /* A large payload is streaming: read it where it belongs. */
        n = conn_recv(c, direct, room);
    } else {
        pre = c->stash_len;
        if (pre)
            memcpy(loop_buf, c->hold.stash, pre);
        /* Read at most half the queue bound: replies to one read (an echo
         * is as long as its input) then always fit beside what the pause
         * threshold lets pile up, so back-pressure, not 1008, slows it.
         * The part of a message read earlier is answered with this read's
         * bytes too: count it (short reads split messages all the time). */
        size_t want = queue_max() / 2, held = c->rx.msg_len;
        want = want > held + 1024 ? want - held : 1024;
        if (want > CONFIG_READ_BUF_SIZE)
            want = CONFIG_READ_BUF_SIZE;
        n = conn_recv(c, loop_buf + pre, want);
    }
    if (n <= 0) {
        if (n < 0 && would_block())
            return;
        drop(c, CW_CLOSE_ABNORMAL); /* EOF or reset without a close frame */
        return;
    }
#if defined(CONFIG_RATE_LIMIT)
    if (rate_cost[0] | rate_cost[1]) {
        rate_decay(c, now32() - c->last_rx_ms);
        if (!rate_spend(&c->rate_debt[1], rate_cost[1], (uint64_t)n)) {
            cw_rt.stats.rate_limited++;
            fail(c, CW_CLOSE_POLICY, "byte rate limit");
            return;
        }
    }
#endif
    c->last_rx_ms = now32();
    c->flags &= (uint16_t)~CW_CF_PING_SENT;
    if (streaming) {
        handle_rx_result(c, cw_ws_rx_direct_done(&c->rx, (size_t)n, &rx_ops, c));
    } else {
        drop_stash(c);
        feed(c, loop_buf, pre + (size_t)n);
    }
    track_message(c);
}

static void read_discard(cw_conn *c)
{
    ssize_t n = conn_recv(c, loop_buf, CONFIG_READ_BUF_SIZE);
    if (n > 0 || (n < 0 && would_block()))
        return;
    drop(c, CW_CLOSE_ABNORMAL); /* FIN (or reset): the close is complete */
}

/* ---- sending ---- */

/* A peer that does not read: once the socket takes less than we queued,
 * what was queued then (tx.owed) must leave within the pong timeout, and
 * so on round after round, else on_timer closes it 1011, whatever it
 * sends meanwhile (a pong now and then keeps no queue alive). A peer that
 * reads, however slowly, pays each round off and starts the next. */
static inline void track_drain(cw_conn *c, size_t sent)
{
    if (!c->tx.head) {
        c->flags &= (uint16_t)~CW_CF_STALLED;
        return;
    }
    if ((c->flags & CW_CF_STALLED) && sent < c->tx.owed) {
        c->tx.owed -= (uint32_t)sent;
        return;
    }
    if (!(c->flags & CW_CF_STALLED) && c->state == CW_ST_OPEN &&
        !(c->flags & CW_CF_PING_SENT))
        cw_wheel_arm(&c->timer, cw_rt.opt.pong_timeout_ms, on_timer);
    c->flags |= CW_CF_STALLED;
    c->tx.owed = c->tx.bytes;
    c->tx_since = (uint16_t)(now32() >> MSG_UNIT_SHIFT);
}

static void flush(cw_conn *c)
{
    struct iovec iov[IOV_BATCH];
    size_t sent = 0;
#if defined(CONFIG_DEFERRED_ACCEPT)
    if (c->flags & CW_CF_PENDING) {
        update_interest(c); /* what it sends waits behind the 101 */
        return;
    }
#endif
    while (c->tx.head) {
        int n = cw_txq_iov(&c->tx, iov, IOV_BATCH);
        size_t want = 0;
        for (int i = 0; i < n; i++)
            want += iov[i].iov_len;
        ssize_t w = cw_transport_sendv(&c->xp, iov, n);
        if (w < 0) {
            if (would_block())
                break;
            drop(c, CW_CLOSE_ABNORMAL);
            return;
        }
        tx_consume(c, (size_t)w);
        sent += (size_t)w;
        if ((size_t)w < want)
            break;
    }
    track_drain(c, sent);
#if defined(CONFIG_STATIC_FILES)
    if (!c->tx.head && c->state == CW_ST_FILE) {
        send_file(c);
        if (c->state == CW_ST_CLOSED)
            return;
    }
#endif
    if (!c->tx.head && c->state == CW_ST_DRAIN && !(c->flags & CW_CF_SHUT_WR)) {
        cw_transport_shutdown(&c->xp);
        c->flags |= CW_CF_SHUT_WR;
    }
    update_interest(c);
}

/* The bound is on what piles up: one frame into an empty queue always goes
 * (else a max-size message could never be echoed: its header would tip it
 * over a bound equal to the message limit). Applies the overflow policy. */
static int queue_overflows(cw_conn *c, size_t add)
{
    uint32_t max = queue_max();
    if (!cw_share_fits(c->share, CW_SHARE_IO, (uint32_t)add)) {
        /* The whole address holds its share of the I/O pool. */
        cw_rt.stats.share_refusals++;
        fail(c, CW_CLOSE_TRY_AGAIN, "address over its share of the I/O pool");
        return 1;
    }
    if (!c->tx.bytes || c->tx.bytes + add <= max)
        return 0;
    cw_rt.stats.sendq_overflows++;
#if !defined(CONFIG_SENDQ_DROP)
    conn_log(CW_LOG_INFO, c, "conn %u: send queue over %u bytes: closing 1008", cw_conn_id(c), max);
    start_close(c, CW_CLOSE_POLICY, "send queue full");
#endif
    return 1;
}

int cw_conn_send_frame(cw_conn *c, unsigned opcode, const void *data, size_t len)
{
    if (c->state != CW_ST_OPEN)
        return CW_ECLOSED;
    uint8_t hdr[CW_FRAME_MAX_HEADER];
    size_t hl = cw_frame_header(hdr, opcode, 1, len, NULL);
    if (len > cw_rt.opt.sendq_max)
        return CW_ETOOBIG;
    if (queue_overflows(c, hl + len))
        return CW_EFULL;
    if (!c->tx.head && len >= CONFIG_IO_BUF_SIZE && (c->flags & CW_CF_UPGRADED)) {
        /* Large and nothing waiting: try the socket first, queue the rest.
         * Not from connect: its frames wait behind the 101 (or are dropped
         * with the refusal). */
        struct iovec iov[2] = {{hdr, hl}, {(void *)(uintptr_t)data, len}};
        ssize_t w = cw_transport_sendv(&c->xp, iov, 2);
        if (w < 0 && !would_block()) {
            drop(c, CW_CLOSE_ABNORMAL);
            return CW_ECLOSED;
        }
        size_t sent = w > 0 ? (size_t)w : 0;
        size_t hsent = sent < hl ? sent : hl;
        size_t psent = sent - hsent;
        cw_rt.stats.msgs_out++;
        if (sent == hl + len)
            return 0;
        if (tx_append(c, hdr + hsent, hl - hsent, (const uint8_t *)data + psent, len - psent,
                      0) < 0) {
            cw_rt.stats.pool_exhausted++;
            drop(c, CW_CLOSE_TRY_AGAIN); /* half a frame is out: cannot continue */
            return CW_ENOMEM;
        }
        mark_dirty(c);
        return 0;
    }
    if (tx_append(c, hdr, hl, data, len, 0) < 0) {
        fail(c, CW_CLOSE_TRY_AGAIN, "no buffer to send");
        return CW_ENOMEM;
    }
    cw_rt.stats.msgs_out++;
    mark_dirty(c);
    return 0;
}

int cw_conn_queue_shared(cw_conn *c, cw_txq_shared *sh)
{
    if (c->state != CW_ST_OPEN)
        return CW_ECLOSED;
    if (queue_overflows(c, sh->len))
        return CW_EFULL;
    /* Sharing is an optimisation: with every queue reference in use (many
     * members, many broadcasts in flight) the member gets its own copy in
     * its I/O blocks, as a frame sent to it alone would. */
    if (cw_txq_append_shared(&c->tx, sh) == 0)
        cw_share_add(c->share, CW_SHARE_IO, (int32_t)sh->len);
    else if (tx_append(c, sh->data, sh->len, NULL, 0, 0) < 0) {
        fail(c, CW_CLOSE_TRY_AGAIN, "no buffer for a broadcast");
        return CW_ENOMEM;
    }
    cw_rt.stats.msgs_out++;
    mark_dirty(c);
    return 0;
}

/* ---- events ---- */

/* Before any HTTP: the transport's handshake (TLS). Returns 1 once done. */
static int transport_ready(cw_conn *c)
{
    if (cw_transport_ready(&c->xp))
        return 1;
    int rc = cw_transport_handshake(&c->xp, &c->peer);
    if (rc == CW_TRANSPORT_PLAIN_HTTP) {
        /* Plain HTTP on the TLS port: answer it in plain text. */
        http_answer(c, 400, "plain HTTP sent to the TLS port");
        return 0;
    }
    if (rc == CW_TRANSPORT_FAILED) {
        cw_rt.stats.tls_failures++;
        drop(c, 0);
        return 0;
    }
    if (rc == CW_TRANSPORT_READY) {
        /* The request may have come with the client's last handshake
         * flight, already decrypted: read after this batch. */
        c->flags |= CW_CF_RX_AGAIN;
        mark_dirty(c);
    }
    update_interest(c);
    return 0;
}

static void on_io(struct cw_io *io, unsigned events)
{
    cw_conn *c = CONN_OF(io, xp.io);
#if defined(CONFIG_PROXY_HEADERS)
    if (c->flags & CW_CF_PROXY_HDR) { /* before TLS too: the proxy speaks first */
        if (events & CW_PORT_IN && c->state == CW_ST_HTTP)
            read_proxy(c);
        return;
    }
#endif
    if (!transport_ready(c))
        return;
    if (events & CW_PORT_OUT && c->state != CW_ST_CLOSED)
        flush(c);
    if (!(events & CW_PORT_IN))
        return;
    switch (c->state) {
    case CW_ST_HTTP:
        read_http(c);
        break;
    case CW_ST_OPEN:
#if defined(CONFIG_DEFERRED_ACCEPT)
        if (c->flags & CW_CF_PENDING) {
            read_pending(c);
            break;
        }
#endif
        /* fall through */
    case CW_ST_CLOSING:
        if (!rx_paused(c))
            read_ws(c);
        break;
    case CW_ST_DRAIN:
        read_discard(c);
        break;
    case CW_ST_FILE:
        if (events & CW_PORT_ERR)
            drop(c, 0);
        break;
    default:
        break;
    }
}

static void on_timer(struct cw_wheel_timer *t)
{
    cw_conn *c = CONN_OF(t, timer);
    switch (c->state) {
    case CW_ST_HTTP:
        cw_rt.stats.handshake_timeouts++;
        conn_log(CW_LOG_DEBUG, c, "conn %u: handshake deadline passed", cw_conn_id(c));
        drop(c, 0);
        break;
    case CW_ST_OPEN: {
#if defined(CONFIG_DEFERRED_ACCEPT)
        if (c->flags & CW_CF_PENDING) {
            pending_expired(c);
            break;
        }
#endif
        uint32_t now = now32(), idle = now - c->last_rx_ms;
        uint32_t ping = cw_rt.opt.ping_interval_ms, pong = cw_rt.opt.pong_timeout_ms;
        uint32_t next = UINT32_MAX;
        if (c->flags & CW_CF_STALLED) {
            uint32_t stalled = (uint32_t)(uint16_t)((now >> MSG_UNIT_SHIFT) - c->tx_since)
                               << MSG_UNIT_SHIFT;
            if (stalled + CONFIG_TIMER_TICK_MS >= pong) {
                cw_rt.stats.send_timeouts++;
                conn_log(CW_LOG_INFO, c, "conn %u: send queue not drained in %u ms: closing 1011",
                       cw_conn_id(c), pong);
                drop(c, CW_CLOSE_INTERNAL); /* it does not read: a close frame would wait */
                return;
            }
            next = pong - stalled;
        }
        if (c->flags & CW_CF_PING_SENT) {
            cw_rt.stats.ping_timeouts++;
            fail(c, CW_CLOSE_INTERNAL, "ping timeout");
            return;
        }
        if (ping && idle + CONFIG_TIMER_TICK_MS >= ping) {
            if (queue_frame(c, CW_OP_PING, NULL, 0) < 0) {
                drop(c, CW_CLOSE_ABNORMAL);
                return;
            }
            c->flags |= CW_CF_PING_SENT;
            next = next < pong ? next : pong;
        } else if (ping && ping - idle < next) {
            next = ping - idle;
        }
        if (next != UINT32_MAX)
            cw_wheel_arm(&c->timer, next, on_timer);
        break;
    }
#if defined(CONFIG_STATIC_FILES)
    case CW_ST_FILE:
        cw_rt.stats.download_timeouts++;
        conn_log(CW_LOG_INFO, c, "conn %u: download not done in %u ms", cw_conn_id(c),
               cw_rt.opt.download_timeout_ms);
        drop(c, 0);
        break;
#endif
    default:
        drop(c, CW_CLOSE_ABNORMAL); /* close handshake or drain took too long */
        break;
    }
}

void cw_conn_start(int fd, const cw_port_peer *peer, int reject, unsigned how)
{
    int tls = (how & CW_CONN_TLS) != 0;
    /* Its address's share of slots and request buffers: over it, the
     * request is read in a reject slot and answered 429. A trusted proxy's
     * connection is counted once the client behind it is known. */
    int over = 0, late = !reject && cw_trusted_peer(peer);
    uint16_t share = reject || late ? 0 : cw_share_attach(peer, &over);
    if (!over && (!cw_share_fits(share, CW_SHARE_REQ, 1) ||
                  (tls && !cw_share_fits(share, CW_SHARE_TLS, 1))))
        over = 1;
    if (over) {
        cw_share_detach(share);
        share = 0;
        reject = 1;
    }
    cw_conn *c = over && over_addr_slots >= CONFIG_REJECT_SLOTS ? NULL : cw_pool_get(&conn_pool);
    cw_http_req *r = c ? cw_pool_get(&req_pool) : NULL;
    if (!r) {
        /* Not even a slot or request buffer to answer from: best effort
         * (in plain text only: a TLS client could not read it). */
        static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                   "Connection: close\r\nContent-Length: 0\r\n\r\n";
        static const char many[] = "HTTP/1.1 429 Too Many Requests\r\n"
                                   "Connection: close\r\nContent-Length: 0\r\n\r\n";
        if (c)
            cw_pool_put(&conn_pool, c);
        cw_share_detach(share);
        if (!tls)
            cw_port_send(fd, over ? many : busy, over ? sizeof many - 1 : sizeof busy - 1);
        cw_port_close(fd);
        if (over)
            cw_rt.stats.rejected_addr++;
        else
            cw_rt.stats.rejected_full++;
        return;
    }
    memset(c, 0, offsetof(cw_conn, user));
    if (cw_transport_open(&c->xp, fd, tls) < 0) {
        cw_share_detach(share);
        cw_pool_put(&req_pool, r);
        cw_pool_put(&conn_pool, c);
        cw_port_close(fd);
        cw_rt.stats.tls_refused++;
        cw_log(CW_LOG_WARN, "TLS sessions or memory exhausted: refusing a connection");
        return;
    }
    c->hold.req = r;
    cw_http_init(r);
    c->peer = *peer;
    c->last_rx_ms = CW_HIST_NOW(); /* until the 101: when the handshake began */
    c->state = CW_ST_HTTP;
    c->share = share;
    cw_share_add(share, CW_SHARE_REQ, 1);
    if (tls && (share || late)) {
        cw_share_add(share, CW_SHARE_TLS, 1);
        c->flags |= CW_CF_TLS_SHARE;
    }
    if (how & CW_CONN_PROXY)
        c->flags |= CW_CF_PROXY_HDR;
    if (over) {
        c->flags |= CW_CF_OVER_ADDR;
        over_addr_slots++;
    }
    if (reject)
        c->flags |= CW_CF_REJECT;
    else
        cw_rt.ws_slots_used++;
    cw_rt.stats.conns_http++;
    cw_rt.stats.accepted++;
    if (cw_reactor_add(&c->xp.io, fd, CW_PORT_IN, on_io) < 0) {
        drop(c, 0);
        return;
    }
    cw_wheel_arm(&c->timer, cw_rt.opt.handshake_timeout_ms, on_timer);
}

/* Returns 1 when it freed c's slot. */
static int after_batch_one(cw_conn *c)
{
    if (c->state == CW_ST_CLOSED) {
        int counted = !(c->flags & CW_CF_REJECT);
        if (c->rx.msg) {
            rx_buf_put(c, c->rx.msg);
            c->rx.msg = NULL;
        }
        if (c->flags & CW_CF_TLS_SHARE)
            cw_share_add(c->share, CW_SHARE_TLS, -1);
        cw_share_detach(c->share);
        c->share = 0;
        if (c->flags & CW_CF_OVER_ADDR)
            over_addr_slots--;
        if (c->flags & CW_CF_UPGRADED)
            cw_rt.stats.conns_open--;
        cw_auth_user_put(c->auth_user);
        c->auth_user = NULL;
        c->state = CW_ST_FREE;
        cw_pool_put(&conn_pool, c);
        if (counted)
            cw_rt.ws_slots_used--;
        return 1;
    }
    if (c->flags & CW_CF_RX_AGAIN) {
        c->flags &= (uint16_t)~CW_CF_RX_AGAIN;
        on_io(&c->xp.io, CW_PORT_IN);
        if (c->state == CW_ST_CLOSED)
            return 0; /* dropped: it is on the list again, to be freed */
    }
    if (c->state != CW_ST_FREE)
        flush(c);
    return 0;
}

unsigned cw_conn_after_batch(void)
{
    unsigned freed = 0;
    /* Flushing may close a connection, and a disconnect callback may queue
     * to others: they join the end of this same queue. */
    while (dirty_count > 0) {
        cw_conn *c = dirty_ring[dirty_first];
        dirty_first = (dirty_first + 1) % SLOTS;
        dirty_count--;
        c->flags &= (uint16_t)~CW_CF_DIRTY;
        freed += (unsigned)after_batch_one(c);
    }
    return freed;
}

/* Walks every slot ever handed out (the pool never touches the rest). */
void cw_conn_close_all(int code, const char *reason)
{
    for (uint32_t i = 0; i < conn_pool.bump; i++) {
        cw_conn *c = (cw_conn *)(void *)(conn_pool.base + (size_t)i * conn_pool.block_size);
#if defined(CONFIG_DEFERRED_ACCEPT)
        if (c->state == CW_ST_OPEN && (c->flags & CW_CF_PENDING))
            drop(c, code); /* no 101 yet: nothing to close politely */
        else
#endif
        if (c->state == CW_ST_OPEN)
            start_close(c, code, reason);
        else if (c->state == CW_ST_HTTP)
            drop(c, 0);
    }
}

/* The same for a restart: connections still in their handshake are left
 * to finish it (then closed by the next call), not dropped. */
void cw_conn_close_open(int code, const char *reason)
{
    for (uint32_t i = 0; i < conn_pool.bump; i++) {
        cw_conn *c = (cw_conn *)(void *)(conn_pool.base + (size_t)i * conn_pool.block_size);
#if defined(CONFIG_DEFERRED_ACCEPT)
        if (c->flags & CW_CF_PENDING)
            continue; /* no 101 yet: decided later, closed then */
#endif
        if (c->state == CW_ST_OPEN)
            start_close(c, code, reason);
    }
}

void cw_conn_abort_all(void)
{
    for (uint32_t i = 0; i < conn_pool.bump; i++) {
        cw_conn *c = (cw_conn *)(void *)(conn_pool.base + (size_t)i * conn_pool.block_size);
        if (c->state != CW_ST_FREE && c->state != CW_ST_CLOSED)
            drop(c, CW_CLOSE_GOING_AWAY);
    }
}

/* ---- public per-connection API ---- */

/* The innermost group fan-out running, if any (cw_conn_fanout_begin). */
static cw_conn_fanout *fanout_now;

void cw_conn_fanout_begin(cw_conn_fanout *f, const void *data, size_t len)
{
    f->data = data;
    f->len = len;
    f->shared = NULL;
    f->invalid = 0;
#if defined(CONFIG_JSON)
    f->typed = NULL;
#endif
    f->outer = fanout_now;
    fanout_now = f;
}

void cw_conn_fanout_end(cw_conn_fanout *f)
{
    fanout_now = f->outer;
    if (f->shared)
        cw_txq_shared_unref(f->shared);
#if defined(CONFIG_JSON)
    if (f->typed)
        cw_txq_shared_unref(f->typed);
#endif
}

/* The fan-out's body, forwarded unchanged: encoded (and its UTF-8 checked)
 * once for the whole fan-out, then shared. */
static int send_fanout_text(cw_conn *c, cw_conn_fanout *f)
{
    if (!f->shared && !f->invalid) {
        if (!cw_utf8_valid(f->data, f->len)) {
            f->invalid = 1;
        } else if (f->len <= cw_rt.opt.sendq_max) {
            uint8_t hdr[CW_FRAME_MAX_HEADER];
            size_t hl = cw_frame_header(hdr, CW_OP_TEXT, 1, f->len, NULL);
            if ((f->shared = cw_txq_shared_new(hl + f->len)) != NULL) {
                memcpy(f->shared->data, hdr, hl);
                memcpy(f->shared->data + hl, f->data, f->len);
            }
        }
    }
    if (f->invalid)
        return CW_EINVAL;
    if (!f->shared) /* too large or no buffer to share: copy as usual */
        return cw_conn_send_frame(c, CW_OP_TEXT, f->data, f->len);
    return cw_conn_queue_shared(c, f->shared);
}

int cw_send_text(cw_conn *c, const char *data, size_t len)
{
    cw_conn_fanout *f = fanout_now;
    if (f && (const void *)data == f->data && len == f->len)
        return send_fanout_text(c, f);
    if (!cw_utf8_valid((const uint8_t *)data, len))
        return CW_EINVAL;
    return cw_conn_send_frame(c, CW_OP_TEXT, data, len);
}

#if defined(CONFIG_JSON)
int cw_send_json(cw_conn *c, cw_json_w *w)
{
    long n = cw_json_w_finish(w);
    if (n < 0)
        return (int)n;
    return cw_send_text(c, w->buf, (size_t)n);
}

static int is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

int cw_send_event_json(cw_conn *c, const char *type, const void *data, size_t len)
{
    const char *d = data;
    size_t tn = 0;
    for (; type[tn]; tn++) {
        char ch = type[tn];
        if (tn >= 64 || !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                          (ch >= '0' && ch <= '9') || ch == '.' || ch == '_'))
            return CW_EINVAL;
    }
    cw_json_val v;
    int rc = cw_json_get(d, len, "type", &v);
    if (tn == 0 || (rc != 0 && rc != CW_ENOENT))
        return CW_EINVAL; /* no type, or data is not a JSON object */
    if (rc == 0)
        return cw_send_text(c, d, len); /* it says its type itself */
    /* {"type":"t", then the object's keys after its '{' (no copy of them
     * here: both parts go into the queue as one frame). */
    size_t i = 0;
    while (d[i] != '{')
        i++;
    size_t j = i + 1;
    while (is_ws(d[j]))
        j++;
    uint8_t head[CW_FRAME_MAX_HEADER + 80];
    char pre[80];
    int pn = snprintf(pre, sizeof pre, "{\"type\":\"%s\"%s", type, d[j] == '}' ? "" : ",");
    size_t tail = len - i - 1, plen = (size_t)pn + tail;
    if (c->state != CW_ST_OPEN)
        return CW_ECLOSED;
    if (plen > cw_rt.opt.sendq_max)
        return CW_ETOOBIG;
    size_t hl = cw_frame_header(head, CW_OP_TEXT, 1, plen, NULL);
    memcpy(head + hl, pre, (size_t)pn);
    cw_conn_fanout *f = fanout_now;
    if (f && (const void *)d == f->data && len == f->len) {
        /* A group event forwarded by every member: one frame for all. */
        if (f->typed && strcmp(f->typed_as, type) != 0) {
            cw_txq_shared_unref(f->typed);
            f->typed = NULL;
        }
        if (!f->typed && (f->typed = cw_txq_shared_new(hl + plen)) != NULL) {
            memcpy(f->typed->data, head, hl + (size_t)pn);
            memcpy(f->typed->data + hl + (size_t)pn, d + i + 1, tail);
            memcpy(f->typed_as, type, tn + 1);
        }
        if (f->typed)
            return cw_conn_queue_shared(c, f->typed);
        /* no buffer to share: a copy of its own, as below */
    }
    if (queue_overflows(c, hl + plen))
        return CW_EFULL;
    if (tx_append(c, head, hl + (size_t)pn, d + i + 1, tail, 0) < 0) {
        fail(c, CW_CLOSE_TRY_AGAIN, "no buffer to send");
        return CW_ENOMEM;
    }
    cw_rt.stats.msgs_out++;
    mark_dirty(c);
    return 0;
}
#endif

int cw_send_binary(cw_conn *c, const void *data, size_t len)
{
    return cw_conn_send_frame(c, CW_OP_BINARY, data, len);
}

int cw_close(cw_conn *c, int code, const char *reason)
{
    size_t rl = reason ? strlen(reason) : 0;
    if (code < 0 || !cw_frame_close_valid((unsigned)code) || rl > CW_FRAME_MAX_CONTROL - 2 ||
        !cw_utf8_valid((const uint8_t *)reason, rl))
        return CW_EINVAL;
    if (c->state != CW_ST_OPEN)
        return CW_ECLOSED;
#if defined(CONFIG_DEFERRED_ACCEPT)
    if (c->flags & CW_CF_PENDING)
        return cw_refuse(c, 403);
#endif
    if (cw_conn_request(c)) {
        /* Inside connect: closing means refusing the upgrade (403). */
        c->close_code = (uint16_t)code;
        return 0;
    }
    start_close(c, code, reason);
    return 0;
}
