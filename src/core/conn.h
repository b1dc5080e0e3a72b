/* SPDX-License-Identifier: MIT */
/* conn.h: the connection layer: one slot per connection and its state
 * machine, HTTP -> OPEN -> CLOSING -> DRAIN -> (free), over a transport
 * (core/transport.h); the after-batch list; the upcalls the layers above
 * register. A slot is small; buffers are borrowed from the pools only
 * while bytes are in flight. */
#ifndef CW_CONN_H
#define CW_CONN_H

#include "base/txq.h"
#include "chanwire.h"
#include "core/reactor.h"
#include "core/transport.h"
#include "cw_config.h"
#include "port.h"
#include "proto/http.h"
#include "proto/ws_rx.h"

enum cw_conn_state {
    CW_ST_FREE = 0,
    CW_ST_HTTP,    /* reading the request head */
    CW_ST_OPEN,    /* WebSocket open: messages flow both ways */
    CW_ST_CLOSING, /* our close frame is queued; waiting for the peer's */
    CW_ST_DRAIN,   /* nothing more to say: flush, half-close, wait for FIN */
    CW_ST_FILE,    /* sending a static file after its response head */
    CW_ST_CLOSED   /* socket gone; slot freed after this batch */
};

enum {
    CW_CF_DIRTY = 1u << 0,     /* on the after-batch list */
    CW_CF_REJECT = 1u << 1,    /* an overflow slot: answers 503 */
    CW_CF_PING_SENT = 1u << 2, /* waiting for any sign of life */
    CW_CF_SHUT_WR = 1u << 3,   /* our side half-closed */
    CW_CF_RX_PAUSED = 1u << 4, /* not reading: our replies to it pile up */
    CW_CF_NOTIFIED = 1u << 5,  /* disconnect already called */
    CW_CF_UPGRADED = 1u << 6,  /* the handshake succeeded */
    CW_CF_RX_AGAIN = 1u << 7,  /* TLS holds decrypted bytes: read again */
    CW_CF_CONSUMER = 1u << 8,  /* the route's consumer owns it (connect on) */
    CW_CF_STASH = 1u << 9,     /* hold is the stash, not the request */
    CW_CF_MSG_TIMED = 1u << 10, /* OPEN, a message in progress: msg_since runs */
    CW_CF_STALLED = 1u << 11,   /* the socket took less than we queued: tx.owed
                                 * must leave within the pong timeout of tx_since */
    CW_CF_OVER_ADDR = 1u << 12, /* a reject slot for an address over its share: 429 */
    CW_CF_TLS_SHARE = 1u << 13, /* counts a TLS session against its address */
    CW_CF_PENDING = 1u << 14,   /* connect answered CW_PENDING: no 101 yet */
    CW_CF_PROXY_HDR = 1u << 15  /* HTTP: its PROXY protocol header is still to come */
};

/* One slot per connection, every byte of it paid 10,000 times on a busy
 * host (make bench, idle_10k): pointers that can be derived are derived
 * (the consumer from the route), and the request buffer (HTTP state) and
 * the partial-frame stash (WebSocket states) share one pointer. */
struct cw_conn {
    cw_transport xp;         /* the socket (xp.io for the reactor), TLS or not */
    struct cw_wheel_timer timer;   /* the one deadline of the current state */
    cw_txq tx;
    union {
        cw_http_req *req;    /* HTTP and FILE states, and during connect */
        uint8_t *stash;      /* CW_CF_STASH: incomplete frame header / control frame */
    } hold;
    cw_ws_rx rx;
    struct cw_member *groups;         /* memberships (channels/groups.c) */
    struct cw_auth_user *auth_user;   /* shared record; NULL: anonymous */
    const char *subprotocol;          /* accepted in connect, or NULL */
    uint32_t last_rx_ms;     /* low 32 bits of the clock at the last read; before the
                              * 101, the handshake's start in us (base/hist.h) */
    uint16_t stash_len;
    union {
        uint16_t close_code; /* code given to disconnect (set once closing) */
        uint16_t msg_since;  /* CW_CF_MSG_TIMED: its start, in 64 ms units */
    };
    uint16_t flags;          /* CW_CF_* */
    uint8_t state;
    uint8_t route;           /* index in the route table */
    uint16_t share;          /* handle in the address table (core/share.h), 0: none */
    uint16_t tx_since;       /* CW_CF_STALLED: start of the round, in 64 ms units */
#if defined(CONFIG_RATE_LIMIT)
    uint32_t rate_debt[2];   /* token buckets as debt: messages, bytes (1/1024 ms) */
#endif
    cw_port_peer peer;
    char args[CONFIG_ROUTE_ARGS_SIZE]; /* route argument values, NUL-separated */
    _Alignas(8) uint8_t user[CONFIG_USER_DATA_SIZE ? CONFIG_USER_DATA_SIZE : 1];
};

/* The request buffer while the connection holds one (the HTTP states and
 * during the auth hook and connect), else NULL. */
static inline cw_http_req *cw_conn_request(const cw_conn *c)
{
    return c->flags & CW_CF_STASH ? NULL : c->hold.req;
}

/* The consumer of an upgraded (or upgrading) connection, else NULL. */
const cw_consumer *cw_conn_consumer(const cw_conn *c);

/* Slots in the connection pool: the configured maximum plus the overflow
 * slots that only answer 503. */
#define CW_CONN_SLOTS (CONFIG_MAX_CONNS + CONFIG_REJECT_SLOTS)

void cw_conn_pool_init(unsigned max_conns);
/* Takes an accepted socket. reject: answer 503 once the request is read;
 * how: CW_CONN_TLS, it came from a TLS listener; CW_CONN_PROXY, from one
 * whose connections open with a PROXY protocol header. */
enum { CW_CONN_TLS = 1u, CW_CONN_PROXY = 2u };
void cw_conn_start(int fd, const cw_port_peer *peer, int reject, unsigned how);
/* Sends a frame (header + payload) as one unit, honouring the queue bound
 * for data frames. */
int cw_conn_send_frame(cw_conn *c, unsigned opcode, const void *data, size_t len);
/* Queues a shared (broadcast) frame, honouring the queue bound. */
int cw_conn_queue_shared(cw_conn *c, cw_txq_shared *sh);
/* Fair shares for the layers above (group memberships): takes one of kind
 * (core/share.h) for c's client address, 0, or -1 when the address holds
 * its share; gives one back. */
int cw_conn_share_take(cw_conn *c, unsigned kind);
void cw_conn_share_give(cw_conn *c, unsigned kind);

/* A group fan-out hands its event body to the connection layer for as
 * long as it runs (begin .. end, nested fan-outs stack): members whose
 * event handler sends that body on unchanged with cw_send_text share one
 * encoded frame, built (and its UTF-8 checked) on the first such send;
 * those that send it with cw_send_event_json share another. */
typedef struct cw_conn_fanout {
    const uint8_t *data;
    size_t len;
    cw_txq_shared *shared;
    int invalid;                  /* not UTF-8: every such send fails alike */
#if defined(CONFIG_JSON)
    cw_txq_shared *typed;         /* {"type":..., body's keys} */
    char typed_as[65];            /* the type it was built with */
#endif
    struct cw_conn_fanout *outer; /* the fan-out this one runs inside */
} cw_conn_fanout;
void cw_conn_fanout_begin(cw_conn_fanout *f, const void *data, size_t len);
void cw_conn_fanout_end(cw_conn_fanout *f);

/* Upcalls, registered at start-up by the layers above (in the way of
 * lwIP's tcp_recv): the connection layer calls them, never those layers
 * by name. */
/* A consumer's connection ended, or its connect was refused, after its
 * disconnect callback: drop what it held above this layer (its groups). */
void cw_conn_on_closed(void (*fn)(cw_conn *c));
/* A consumer that lists groups (cw_consumer.groups) is being opened, before
 * its connect: join them. Returns 0, or the HTTP status that refuses the
 * upgrade (what was joined is dropped through the closed upcall). Without
 * it (no CONFIG_GROUPS) such a consumer is refused with 500. */
void cw_conn_on_open(int (*fn)(cw_conn *c));
#if defined(CONFIG_APP_TIMERS)
/* c's consumer is gone (after disconnect, or refused): its timers stop.
 * Defined by core/app_timer.c, called here. */
void cw_app_timers_conn_closed(cw_conn *c);
#endif
/* The body of GET /stats: "name value" lines into out; their length.
 * Required in builds with CONFIG_STATS_ENDPOINT (cw_server_init sets it). */
void cw_conn_on_report(size_t (*fn)(char *out, size_t cap));

/* The after-batch pass, run by the server after every reactor batch:
 * flushes every connection that queued bytes and frees the closed ones.
 * Returns how many slots it freed. */
unsigned cw_conn_after_batch(void);
/* Starts a graceful close of every connection (SIGTERM). */
void cw_conn_close_all(int code, const char *reason);
/* Closes every open WebSocket with code; those in their handshake go on. */
void cw_conn_close_open(int code, const char *reason);
/* Drops every connection at once (shutdown deadline passed). */
void cw_conn_abort_all(void);
unsigned cw_conn_count(void);

#endif
