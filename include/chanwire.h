/* chanwire.h: the whole public API. A WebSocket server for embedded Linux in
 * the shape of Django Channels: consumers chosen by URL route, whole
 * messages in, frames out, all memory reserved at start-up. */
#ifndef CHANWIRE_H
#define CHANWIRE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CW_VERSION "0.1.0"

typedef struct cw_server cw_server;
typedef struct cw_conn cw_conn;

/* Return codes: 0 is success, every failure is one of these. */
enum {
    CW_OK = 0,
    CW_EINVAL = -1,  /* bad argument */
    CW_ENOMEM = -2,  /* a pool is exhausted */
    CW_EFULL = -3,   /* the connection's send queue bound would be exceeded */
    CW_ECLOSED = -4, /* the connection is closing or closed */
    CW_ETOOBIG = -5, /* larger than the configured maximum */
    CW_EEXIST = -6,  /* already there */
    CW_ENOENT = -7,  /* not there */
    CW_ESYS = -8     /* an OS call failed; see the log */
};

/* Message opcodes as RFC 6455 numbers them. */
enum { CW_TEXT = 1, CW_BINARY = 2 };

/* A whole received message. data stays valid until receive returns. */
typedef struct {
    int opcode; /* CW_TEXT (valid UTF-8) or CW_BINARY */
    const uint8_t *data;
    size_t len;
} cw_msg;

/* What a consumer does with each event of its connections. Any callback may
 * be NULL. connect returns 0 to accept, or an HTTP status (400..599) to
 * refuse the upgrade with that status. */
typedef struct cw_consumer {
    int (*connect)(cw_conn *c);
    void (*receive)(cw_conn *c, const cw_msg *m);
    void (*event)(cw_conn *c, const char *type, const uint8_t *data, size_t len);
    void (*disconnect)(cw_conn *c, int code);
} cw_consumer;

/* One URL route: an exact path such as "/ws/echo/". */
typedef struct cw_route {
    const char *pattern;
    const cw_consumer *consumer;
} cw_route;

/* Run-time options. cw_options_init fills the Kconfig defaults; limits may
 * only be lowered below what the build reserved. */
typedef struct cw_options {
    const cw_route *routes;
    size_t nroutes;
    unsigned max_conns;           /* <= CONFIG_MAX_CONNS */
    unsigned max_message;         /* bytes, <= CONFIG_MAX_MESSAGE_SIZE */
    unsigned sendq_max;           /* bytes, <= CONFIG_SENDQ_MAX */
    unsigned handshake_timeout_ms;
    unsigned ping_interval_ms;    /* 0: never ping */
    unsigned pong_timeout_ms;
    unsigned close_timeout_ms;
    unsigned shutdown_timeout_ms;
    int log_level;                /* 0 error .. 3 debug */
    int use_syslog;
    const char *log_ident;
} cw_options;

void cw_options_init(cw_options *o);

/* Sets up the one server instance (pools, reactor, signals). Returns NULL
 * with a logged reason on failure. */
cw_server *cw_server_init(const cw_options *o);
/* Adds a listening socket on "ADDR:PORT" or "[ADDR6]:PORT". Returns 0, or
 * CW_ESYS with a one-line reason in err. */
int cw_listen(cw_server *s, const char *addr_port, char *err, size_t errlen);
/* The port of listener i (useful after listening on port 0), or -1. */
int cw_listen_port(cw_server *s, unsigned i);
/* Runs until SIGTERM/SIGINT or cw_stop, then shuts down gracefully: close
 * 1001 to every client, queued sends flushed within the deadline. */
int cw_run(cw_server *s);
void cw_stop(cw_server *s);
/* Releases the listeners and the poller (tests, or before exec). */
void cw_server_fini(cw_server *s);

/* Sending. Each returns 0, or CW_ECLOSED, CW_EFULL (send queue bound: the
 * connection is then closed with 1008, or the message dropped when the
 * build selects CONFIG_SENDQ_DROP), CW_ENOMEM (no I/O block: the connection
 * is closed with 1013), CW_ETOOBIG or CW_EINVAL (text that is not UTF-8). */
int cw_send_text(cw_conn *c, const char *data, size_t len);
int cw_send_binary(cw_conn *c, const void *data, size_t len);
/* Starts the close handshake with code (1000, 3000-4999, ...) and a reason
 * of at most 123 bytes of UTF-8 (may be NULL). */
int cw_close(cw_conn *c, int code, const char *reason);

/* The consumer's per-connection storage: CONFIG_USER_DATA_SIZE bytes, zeroed
 * at connect. */
void *cw_user_data(cw_conn *c);
size_t cw_user_data_size(void);
/* The request path, valid during connect only; NULL afterwards. */
const char *cw_path(cw_conn *c);
/* The peer's address as "1.2.3.4:5678" or "[::1]:5678" (static buffer,
 * overwritten by the next call). */
const char *cw_peer(cw_conn *c);
/* A stable small number naming the connection in logs. */
unsigned cw_conn_id(const cw_conn *c);

/* Counters, for /stats and tests. */
typedef struct {
    unsigned conns_open;        /* WebSocket connections open now */
    unsigned conns_http;        /* sockets still in the handshake */
    unsigned long accepted;
    unsigned long upgraded;
    unsigned long rejected_full; /* 503s for lack of a slot */
    unsigned long http_errors;   /* other 4xx/5xx answers */
    unsigned long handshake_timeouts;
    unsigned long ping_timeouts;
    unsigned long protocol_errors;
    unsigned long sendq_overflows;
    unsigned long pool_exhausted; /* 1013 closes */
    unsigned long msgs_in, msgs_out;
    unsigned long accept_pauses; /* EMFILE/ENFILE back-offs */
} cw_stats;
void cw_get_stats(const cw_server *s, cw_stats *out);

/* One line per pool: "name used/limit high-water failures". Returns the
 * length written (truncated to cap). */
size_t cw_pool_report(char *out, size_t cap);

/* Logging through the server's sink (stderr or syslog). */
void cw_log(int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
