/* SPDX-License-Identifier: MIT */
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

/* The optional Kconfig modules built into this library, one bit each
 * (cw_build_features); the names are cw_feature_name's. */
#define CW_FEATURE_TLS            (1u << 0)  /* CONFIG_TLS: "tls" */
#define CW_FEATURE_GROUPS         (1u << 1)  /* CONFIG_GROUPS: "groups" */
#define CW_FEATURE_JSON           (1u << 2)  /* CONFIG_JSON: "json" */
#define CW_FEATURE_JWT            (1u << 3)  /* CONFIG_JWT: "jwt" */
#define CW_FEATURE_STATIC_FILES   (1u << 4)  /* CONFIG_STATIC_FILES: "static-files" */
#define CW_FEATURE_CONTROL_SOCKET (1u << 5)  /* CONFIG_CONTROL_SOCKET: "control-socket" */
#define CW_FEATURE_LAYER_REDIS    (1u << 6)  /* CONFIG_LAYER_REDIS: "layer-redis" */
#define CW_FEATURE_STATS_ENDPOINT (1u << 7)  /* CONFIG_STATS_ENDPOINT: "stats-endpoint" */
#define CW_FEATURE_WATCHDOG       (1u << 8)  /* CONFIG_WATCHDOG: "watchdog" */
#define CW_FEATURE_DEBUG_LOG      (1u << 9)  /* CONFIG_DEBUG_LOG: "debug-log" */
#define CW_FEATURE_SENDQ_DROP     (1u << 10) /* CONFIG_SENDQ_DROP: "sendq-drop" */
#define CW_FEATURE_POLLER_POLL    (1u << 11) /* CONFIG_POLLER_POLL: "poller-poll" (else epoll) */
#define CW_FEATURE_HOST_CHECK     (1u << 12) /* CONFIG_HOST_CHECK: "host-check" */
/* The CW_FEATURE_* bits of this build, as the library was compiled. */
unsigned cw_build_features(void);
/* The short lowercase name of one CW_FEATURE_* bit ("tls", "groups", ...),
 * or NULL for 0, several bits, or a bit that names no feature. */
const char *cw_feature_name(unsigned bit);
/* Every name of this build's features, each after a space, in bit order
 * (" groups json ..."), or "" when it has none. */
const char *cw_build_features_text(void);

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

/* Log levels, most severe first (cw_options.log_level, cw_log). */
enum { CW_LOG_ERROR = 0, CW_LOG_WARN = 1, CW_LOG_INFO = 2, CW_LOG_DEBUG = 3 };

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
 * refuse the upgrade with that status, or CW_PENDING to decide later with
 * cw_accept or cw_refuse (builds with CONFIG_DEFERRED_ACCEPT). */
typedef struct cw_consumer {
    int (*connect)(cw_conn *c);
    void (*receive)(cw_conn *c, const cw_msg *m);
    void (*event)(cw_conn *c, const char *type, const uint8_t *data, size_t len);
    void (*disconnect)(cw_conn *c, int code);
    /* Channels' `groups = [...]`: NULL, or at most CW_CONSUMER_GROUPS_MAX
     * group names and a NULL, joined before connect runs and left when the
     * connection closes (after disconnect, like every membership). A full
     * group table refuses the upgrade with 503; an invalid name, a longer
     * list, or a build without CONFIG_GROUPS with 500. */
    const char *const *groups;
} cw_consumer;
#define CW_CONSUMER_GROUPS_MAX 16

/* One URL route. pattern is a path such as "/ws/users/" or one with named
 * arguments, "/ws/chat/<room>/": <name> matches one path segment of 1..48
 * characters from [A-Za-z0-9_.-]. Unmatched paths get 404. */
typedef struct cw_route {
    const char *pattern;
    const cw_consumer *consumer;
    unsigned flags; /* CW_ROUTE_* */
} cw_route;

#define CW_ROUTE_AUTH 1u /* only authenticated users (else 401) */

/* Auth hook: runs after the handshake checks and the Origin check, before
 * connect (Channels' AuthMiddlewareStack). The built-in JWT check has run
 * already. It may call cw_set_user. Returns 0 to go on, or 401/403. */
typedef int (*cw_auth_fn)(cw_conn *c);

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
    /* A message must arrive whole (all its frames) within this time of its
     * first byte, else close 1008; 0: no deadline. At most one hour. */
    unsigned message_timeout_ms;
    int log_level;                /* CW_LOG_ERROR .. CW_LOG_DEBUG; -1: silent */
    int use_syslog;
    const char *log_ident;
    /* 1: stderr lines are JSON objects (CONFIG_LOG_JSON; docs/operations.md,
     * "Logs"); syslog keeps its own format. */
    int log_json;
    /* Flood guard (CONFIG_LOG_RATELIMIT): lines one log site may print per
     * CONFIG_LOG_REPEAT_WINDOW_MS before the rest are counted and
     * summarised ("last message repeated N times"); 0: no limit.
     * cw_options_init sets CONFIG_LOG_BURST. */
    unsigned log_burst;
    /* Origin check: browser origins other than the request's own Host are
     * refused (403) unless listed here ("*" allows any). */
    const char *const *allow_origins;
    size_t nallow_origins;
    /* Host check against DNS rebinding (Django's ALLOWED_HOSTS): when the
     * list is not empty, a request (WebSocket, static file or /stats)
     * whose Host header names another host gets 400 before any consumer
     * code. Entries: "name" exactly, ".example.com" for the domain and its
     * subdomains, "*" any; no ports; case-insensitive. An IP-address Host
     * is always allowed (rebinding needs a name). cw_options_init sets the
     * build's CONFIG_ALLOW_HOSTS (empty by default: no check). */
    const char *const *allow_hosts;
    size_t nallow_hosts;
    /* Built-in HS256 JWT auth (off while jwt_secret is NULL). The token is
     * read from "Authorization: Bearer", else cookie jwt_cookie, else query
     * parameter jwt_query. A present but invalid token gets 401. */
    const char *jwt_secret;
    size_t jwt_secret_len;
    const char *jwt_id_claim;     /* default "user_id" (simplejwt); "sub" is common too */
    const char *jwt_name_claim;   /* default "username" */
    const char *jwt_cookie;       /* default "jwt" */
    const char *jwt_query;        /* default "token" */
    unsigned jwt_leeway_s;
    /* simplejwt's AUDIENCE and ISSUER: when set, the token's aud (a string,
     * or an array of strings holding it) or iss must equal it exactly, and
     * a token without the claim gets 401; NULL: the claim is not read. */
    const char *jwt_audience;
    const char *jwt_issuer;
    /* A token without exp gets 401, as in simplejwt, unless this is set.
     * Whatever it is, while the wall clock reads before 2024 (never set) a
     * token with exp or nbf gets 401. */
    int jwt_allow_no_exp;
    cw_auth_fn auth;              /* optional extra hook */
    const char *www_dir;          /* static files over GET/HEAD; NULL: none */
    unsigned tls_max_sessions;    /* <= CONFIG_TLS_MAX_CONNS */
    unsigned tls_arena_bytes;     /* <= CONFIG_TLS_ARENA_SIZE */
    /* GET /stats on the HTTP port answers the counters and pools as text
     * (builds with CONFIG_STATS_ENDPOINT; on by default there, 0 turns it
     * off). The control socket's "stats" answers the same either way. */
    int stats_endpoint;
    unsigned max_groups;          /* <= CONFIG_MAX_GROUPS */
    unsigned max_memberships;     /* <= CONFIG_MAX_MEMBERSHIPS */
    unsigned max_users;           /* signed-in users at once, <= CONFIG_MAX_USERS (full: 503) */
    /* Fair shares (docs/security.md). One connection's send queue holds at
     * most conn_share_pct of the I/O pool (and sendq_max), its memberships
     * that share of the smaller group table. All connections of one client
     * address (IPv4, or IPv6 /64) hold at most addr_share_pct of each
     * pool, and at most max_conns_per_addr connections (0: that share of
     * max_conns); over it, 429. Builds with CONFIG_FAIR_SHARES. */
    unsigned conn_share_pct;      /* 1..100 */
    unsigned addr_share_pct;      /* 1..100 */
    unsigned max_conns_per_addr;
    /* Per connection, messages and bytes per second it may send (one
     * second's worth as burst; over it, close 1008); 0: no limit. Builds
     * with CONFIG_RATE_LIMIT. */
    unsigned rate_msgs;
    unsigned rate_bytes;
    /* A static file must be sent whole within this time of its request. */
    unsigned download_timeout_ms;
    /* 1: chanwire installs no signal handler (SIGTERM, SIGINT, SIGHUP,
     * SIGPIPE are the application's); shut down with cw_stop. For programs
     * that own their main loop (cw_loop_*) and their signals. Read by
     * builds with CONFIG_FOREIGN_LOOP only (zero code without it: there
     * chanwire always handles them, as cw_run needs). */
    int no_signals;
} cw_options;

void cw_options_init(cw_options *o);

/* One server per process: the pools, the reactor, the signal handling and
 * the run-time options are static, and every cw_server * is the same one.
 * cw_server_init sets it up; it returns NULL with a logged reason on
 * failure, and NULL (nothing logged, nothing touched) while a server is
 * already initialised, i.e. until cw_server_fini. */
cw_server *cw_server_init(const cw_options *o);
/* Adds a listening socket on "ADDR:PORT", "[ADDR6]:PORT" or "unix:PATH"
 * (a UNIX stream socket for a local web server to proxy to: a stale
 * socket file is replaced, a live daemon's refused; removed again by
 * cw_server_fini). A "proxy:" prefix makes every connection open with a
 * PROXY protocol v1/v2 header (docs/operations.md). Returns 0, or
 * CW_EINVAL / CW_ESYS with a one-line reason in err. */
int cw_listen(cw_server *s, const char *addr_port, char *err, size_t errlen);
/* Mode (0: the default 0660) and owner ("USER[:GROUP]", ":GROUP", or
 * NULL: as created) of the UNIX-socket listeners added after it. */
int cw_listen_unix_access(cw_server *s, unsigned mode, const char *owner, char *err,
                          size_t errlen);
/* Trusts a proxy: "ADDR", "ADDR/PREFIX" (IPv4 or IPv6), or "unix" for the
 * peers of UNIX-socket listeners. A trusted peer's X-Forwarded-For (or
 * Forwarded, or PROXY header) names the client: cw_peer and the
 * per-address limits use that address. At most CONFIG_TRUSTED_PROXIES
 * prefixes; 0, or CW_EINVAL / CW_ENOMEM with a reason in err. */
int cw_trust_proxy(cw_server *s, const char *spec, char *err, size_t errlen);
/* The request header read from trusted proxies: "x-forwarded-for" (the
 * default), "forwarded" (RFC 7239) or "none". 0, or CW_EINVAL. */
int cw_forwarded_header(cw_server *s, const char *name, char *err, size_t errlen);
/* wss:// and HTTPS (builds with CONFIG_TLS; CW_EINVAL otherwise): load a
 * certificate chain and key once (errors name the file), then add TLS
 * listeners beside plain ones. SIGHUP reloads the same files; open
 * connections keep the pair they started with. */
int cw_tls_setup(cw_server *s, const char *cert_file, const char *key_file, char *err,
                 size_t errlen);
int cw_listen_tls(cw_server *s, const char *addr_port, char *err, size_t errlen);
/* The port of listener i (useful after listening on port 0), or -1. */
int cw_listen_port(cw_server *s, unsigned i);
/* Runs until SIGTERM/SIGINT or cw_stop, then shuts down gracefully: close
 * 1001 to every client, queued sends flushed within the deadline. */
int cw_run(cw_server *s);
void cw_stop(cw_server *s);
/* Opens the local control socket at path (mode 0660; only root, our uid or
 * our gid may use it) through which chanwire-send publishes to groups. */
int cw_control_listen(cw_server *s, const char *path, char *err, size_t errlen);
/* The Redis channel layer (builds with CONFIG_LAYER_REDIS; CW_EINVAL
 * otherwise): groups and channel names span every process on the same
 * Redis and prefix, other chanwire daemons and Django projects using
 * channels_redis's RedisChannelLayer (core) or RedisPubSubChannelLayer
 * alike. It connects in the background and keeps
 * reconnecting; local groups work throughout. Returns 0, or CW_EINVAL with
 * a one-line reason in err (bad address or prefix). */
typedef struct {
    const char *addr;        /* Redis as "HOST:PORT" or "[ADDR6]:PORT": numeric or localhost */
    const char *prefix;      /* channels_redis's "prefix"; NULL: "asgi" */
    const char *username;    /* Redis 6 ACL user, or NULL */
    const char *password;    /* AUTH password, or NULL */
    unsigned backoff_min_ms; /* first reconnect delay, doubling; 0: 100 */
    unsigned backoff_max_ms; /* its cap; 0: CONFIG_LAYER_REDIS_BACKOFF_MAX_MS */
    /* Which channels_redis layer the Django side runs (docs/redis.md):
     * "core" (RedisChannelLayer, Django's default) or "pubsub"
     * (RedisPubSubChannelLayer); NULL: "core". The next three are the core
     * layer's settings of the same names (0: channels_redis's defaults,
     * 60 s, 86400 s, 100); give them the values of the Django side. */
    const char *layer;
    unsigned expiry_s;
    unsigned group_expiry_s;
    unsigned capacity;
} cw_redis_options;
int cw_redis_layer(cw_server *s, const cw_redis_options *o, char *err, size_t errlen);
/* Least privilege for a server started as root, called after cw_listen and
 * cw_control_listen: becomes `user` (its uid and gid, supplementary groups
 * cleared; the control socket is handed to it) and, with chroot_dir,
 * chroots there first. Either may be NULL. Returns 0, or CW_ESYS with a
 * one-line reason in err. cw_running_as_root() says whether it is needed. */
int cw_drop_privileges(cw_server *s, const char *user, const char *chroot_dir, char *err,
                       size_t errlen);
int cw_running_as_root(void);
/* 0 when user (may be NULL) names an /etc/passwd user other than root, else
 * CW_EINVAL with a one-line reason: check flags before binding anything. */
int cw_privileges_check(const char *user, char *err, size_t errlen);
/* Releases the listeners and the poller (tests, or before exec); after it
 * cw_server_init may set the one server up again. */
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
cw_server *cw_server_of(cw_conn *c);

/* ---- scope ----
 * For the connection's whole life: path, route arguments, subprotocol,
 * peer and user. During the auth hook and connect only (the request buffer
 * goes back to the pool after the handshake): headers, cookies, query;
 * these return NULL afterwards. Strings are NUL-terminated. */
const char *cw_path(cw_conn *c);                       /* static buffer: see cw_path_copy */
const char *cw_arg(cw_conn *c, const char *name);      /* "room" of /ws/chat/<room>/ */
const char *cw_query(cw_conn *c, const char *name);    /* percent-decoded */
const char *cw_header(cw_conn *c, const char *name);   /* case-insensitive name */
const char *cw_cookie(cw_conn *c, const char *name);
/* Subprotocols: during connect, 1 when the client offered name; accepting
 * one puts it in the 101 response. name must outlive the connection (a
 * string literal). CW_ENOENT when the client did not offer it. */
int cw_offers_subprotocol(cw_conn *c, const char *name);
int cw_accept_subprotocol(cw_conn *c, const char *name);
const char *cw_subprotocol(cw_conn *c);                /* NULL when none */
/* Extra header lines for the 101 response, during connect (or with
 * cw_accept): "Name: value\r\n" lines, at most CW_ACCEPT_HEADERS_MAX bytes
 * in all, copied. CW_EINVAL for a malformed line (no ':', a bare CR or LF,
 * control bytes) or a header chanwire owns (Upgrade, Connection,
 * Sec-WebSocket-*), CW_ETOOBIG, CW_ECLOSED outside connect. A second call
 * replaces the first. Builds with CONFIG_DEFERRED_ACCEPT. */
#define CW_ACCEPT_HEADERS_MAX 256
int cw_accept_headers(cw_conn *c, const char *headers);

/* ---- deferred accept (CONFIG_DEFERRED_ACCEPT) ----
 * connect returns CW_PENDING: the client waits (the handshake deadline
 * still runs) while the application asks someone else. Later, from any
 * loop callback (a timer, a watch, a post), it answers once: cw_accept
 * sends the 101 (subprotocol: one the client offered, or NULL; headers as
 * cw_accept_headers, or NULL) and the connection is open as if connect had
 * returned 0; cw_refuse answers status (400..599) and ends it without a
 * disconnect, as a refusing connect does. cw_header, cw_cookie, cw_query
 * keep working until then. A pending connection whose client goes away,
 * or whose deadline passes (the client gets 503), ends with disconnect
 * (code 1006), like an open one: the consumer frees what it holds there.
 * While pending, sends are queued behind the 101 and cw_close refuses it
 * with 403. A cw_conn pointer is valid only during callbacks about that
 * connection: keep a cw_conn_ref instead (a slot number and generation)
 * and turn it back with cw_conn_get, which returns NULL once that
 * connection has ended (disconnect called, refused, or freed), even when
 * the slot serves another client since. */
#define CW_PENDING 1
typedef struct {
    uint32_t slot, gen;
} cw_conn_ref;
cw_conn_ref cw_conn_ref_of(cw_conn *c);
cw_conn *cw_conn_get(cw_conn_ref ref);
/* 0, CW_EINVAL (c not pending, bad subprotocol or headers), CW_ENOENT (a
 * subprotocol the client did not offer), CW_ENOMEM (no buffer for the
 * 101: the connection is closed), CW_ECLOSED. */
int cw_accept(cw_conn *c, const char *subprotocol, const char *headers);
/* 0, CW_EINVAL (not pending, or status not 400..599), CW_ECLOSED. */
int cw_refuse(cw_conn *c, int status);
/* The authenticated user, NULL for anonymous. cw_set_user is for auth
 * hooks (CW_ENOMEM when the user table is full). */
const char *cw_user_id(cw_conn *c);
const char *cw_user_name(cw_conn *c);
int cw_set_user(cw_conn *c, const char *id, const char *name);
/* The peer's address as "1.2.3.4:5678" or "[::1]:5678". */
const char *cw_peer(cw_conn *c);                       /* static buffer: see cw_path_copy */
/* The path and the peer's address copied into the caller's out[0..cap):
 * the length written (NUL-terminated), or CW_ETOOBIG when the text and its
 * NUL do not fit; then out holds "" (when cap > 0), never a truncated text.
 * CW_PEER_BUF bytes always hold a peer.
 * cw_path and cw_peer return one static buffer each (CW_PATH_BUF and
 * CW_PEER_BUF bytes) that the next call of the same function overwrites,
 * whatever the connection; not thread-safe. Use the text before calling
 * again, or copy it with these. A path of CW_PATH_BUF bytes or more comes
 * back from cw_path as "". */
long cw_path_copy(cw_conn *c, char *out, size_t cap);
long cw_peer_copy(cw_conn *c, char *out, size_t cap);
#define CW_PATH_BUF 256
#define CW_PEER_BUF 56
/* A stable small number naming the connection in logs. */
unsigned cw_conn_id(const cw_conn *c);

/* ---- groups (Channels' channel layer groups) ----
 * Names: ASCII letters, digits, '-', '_', '.', shorter than 100 bytes
 * (CONFIG_GROUP_NAME_MAX). Every membership is discarded when the
 * connection closes. All fan-outs are safe when members join, leave or
 * close while they run; members that join during one do not receive it. */
#define CW_GROUP_NAME_BUF 100
/* 0 (also when already a member), CW_EINVAL (name), CW_ECLOSED, or
 * CW_ENOMEM when the group or membership table is full. */
int cw_group_add(cw_conn *c, const char *group);
/* 0, or CW_ENOENT when c was not a member. */
int cw_group_discard(cw_conn *c, const char *group);
/* Calls each member's event callback with type (e.g. "chat.message") and
 * data (by convention a JSON object: the event's other keys). Returns the
 * number of members whose consumer has an event callback, or CW_EINVAL. */
int cw_group_send(cw_server *s, const char *group, const char *type, const void *data,
                  size_t len);
/* Encodes one text (binary) frame once and queues those same bytes on every
 * member. Returns the number of members it was queued to; members whose
 * queue is full get the overflow policy. */
int cw_group_broadcast(cw_server *s, const char *group, const char *text, size_t len);
int cw_group_broadcast_binary(cw_server *s, const char *group, const void *data, size_t len);
/* Closes every member with code and reason. Returns how many. */
int cw_group_close(cw_server *s, const char *group, int code, const char *reason);
/* 1 when an event's type names the handler `name`, the way Channels reads
 * types: '.' and '_' alike, so "chat.message" and "chat_message" (which a
 * Django peer may send through the channel layer) are the same event. */
int cw_event_is(const char *type, const char *name);

/* ---- channels (Channels' self.channel_name, channel_layer.send and
 * ChannelNameRouter) ---- Builds with CONFIG_GROUPS and
 * CONFIG_DEFERRED_ACCEPT (CW_EINVAL and "" otherwise).
 * Every connection has a channel name, unique across processes and
 * restarts, in the active layer's own format (docs/redis.md): a Django
 * consumer or another chanwired that learns it reaches exactly this
 * connection's event callback with channel_layer.send(name, {...}).
 * cw_channel_name returns a static buffer (as cw_path; "" for a NULL c);
 * cw_channel_name_copy writes it to out (its length, or CW_ETOOBIG). */
#define CW_CHANNEL_NAME_BUF 128
const char *cw_channel_name(cw_conn *c);
long cw_channel_name_copy(cw_conn *c, char *out, size_t cap);
/* Sends an event (type, data as for cw_group_send) to one channel: a
 * connection of this process, a worker channel bound here, or, through
 * the channel layer, a channel of another process. Returns 1 when it ran
 * here, 0 when it went to the layer or was dropped (a channel that has
 * ended, no layer to reach it: counted as channel_dropped in the stats,
 * never an error), or CW_EINVAL (bad name or type). */
int cw_channel_send(cw_server *s, const char *channel, const char *type, const void *data,
                    size_t len);
/* Worker channels: binds a fixed channel name (no '!', not "specific.")
 * to consumer, whose event callback then runs, with c == NULL, for every
 * message sent to that name, from here or (through the layer) from Django's
 * channel_layer.send("device.commands", {...}). At most 16 names. 0,
 * CW_EINVAL, CW_EEXIST, CW_ENOMEM; unbind: 0 or CW_ENOENT. */
int cw_channel_bind(cw_server *s, const char *channel, const cw_consumer *consumer);
int cw_channel_unbind(cw_server *s, const char *channel);

/* ---- JSON (for consumers that speak it, like JsonWebsocketConsumer) ---- */
#define CW_JSON_MAX_DEPTH 32
enum { CW_JSON_NONE, CW_JSON_STRING, CW_JSON_NUMBER, CW_JSON_BOOL, CW_JSON_NULL,
       CW_JSON_OBJECT, CW_JSON_ARRAY };
typedef struct {
    int type;
    const char *ptr; /* the value's raw text (strings include their quotes) */
    size_t len;
} cw_json_val;
/* 1 when text[0..len) is one valid JSON value (UTF-8 checked, nesting at
 * most CW_JSON_MAX_DEPTH, no recursion). */
int cw_json_valid(const char *text, size_t len);
/* Finds key at the top level of the object obj (the last duplicate wins).
 * 0 and the value; CW_ENOENT when absent; CW_EINVAL when obj is invalid. */
int cw_json_get(const char *obj, size_t len, const char *key, cw_json_val *out);
/* Unescaped, NUL-terminated string value: its length, or CW_EINVAL /
 * CW_ETOOBIG. */
long cw_json_string(const cw_json_val *v, char *out, size_t cap);
int cw_json_number(const cw_json_val *v, double *out);
int cw_json_int(const cw_json_val *v, int64_t *out);   /* integers only */
int cw_json_bool(const cw_json_val *v, int *out);
long cw_json_get_string(const char *obj, size_t len, const char *key, char *out, size_t cap);
/* Writer over a caller buffer; errors stick and show in cw_json_w_finish. */
typedef struct {
    char *buf;
    size_t cap, len;
    int err;
    uint8_t depth;
    uint32_t first, after_key, is_obj;
} cw_json_w;
void cw_json_w_init(cw_json_w *w, char *buf, size_t cap);
void cw_json_w_object(cw_json_w *w);
void cw_json_w_array(cw_json_w *w);
void cw_json_w_end(cw_json_w *w);
void cw_json_w_key(cw_json_w *w, const char *key);
void cw_json_w_string(cw_json_w *w, const char *s, size_t n); /* must be UTF-8 */
void cw_json_w_cstr(cw_json_w *w, const char *s);
void cw_json_w_int(cw_json_w *w, int64_t v);
void cw_json_w_bool(cw_json_w *w, int v);
void cw_json_w_null(cw_json_w *w);
/* Copies json[0..n) in as one value, unchecked: it must be valid JSON
 * (else the output is not). */
void cw_json_w_raw(cw_json_w *w, const char *json, size_t n);
/* Writes a value found by cw_json_get (already checked) as it was
 * received, escapes and all: forwarding a string this way needs no buffer
 * for its unescaped text. A v of type CW_JSON_NONE makes CW_EINVAL. */
void cw_json_w_value(cw_json_w *w, const cw_json_val *v);
/* NUL-terminates; the length, CW_ETOOBIG when the buffer was too small, or
 * CW_EINVAL when the calls did not make valid JSON (a key outside an object,
 * a value without its key, text that is not UTF-8, unbalanced ends). */
long cw_json_w_finish(cw_json_w *w);
/* Channels' send_json: finishes w and sends its text. CW_ETOOBIG or
 * CW_EINVAL from cw_json_w_finish (nothing sent), else cw_send_text's. */
int cw_send_json(cw_conn *c, cw_json_w *w);
/* Channels' `self.send_json(event)` in an event handler: sends the event
 * as one JSON object with its type first, {"type": type, <data's keys>}
 * (data is the event's other keys, as cw_group_send takes them). A data
 * that has a "type" key of its own is sent unchanged. CW_EINVAL when data
 * is not a JSON object or type is not an event type ([A-Za-z0-9._], 1..64
 * bytes); else cw_send_text's answers. */
int cw_send_event_json(cw_conn *c, const char *type, const void *data, size_t len);

/* ---- the loop: timers, descriptor watches, posts, other main loops ----
 * Threads: everything in this header runs on the loop thread (the one in
 * cw_run or cw_loop_service), from callbacks or between iterations,
 * except cw_post, which any thread may call while the server exists.
 * docs/api.md "Threads and loops" says what may be called from where. */

/* Timers (CONFIG_APP_TIMERS): one-shot or periodic, millisecond
 * resolution, in storage the caller owns (static, or in cw_user_data). The
 * fields are private; cw_timer_init sets them up once. A periodic timer's
 * next deadline is its previous deadline plus the period (no drift); if
 * the loop fell a whole period or more behind, the missed periods are
 * skipped (one callback, the next deadline still on the original grid),
 * never fired as a burst. Start, stop and re-arm work from any callback,
 * the timer's own included. */
typedef struct cw_timer cw_timer;
typedef void (*cw_timer_cb)(cw_timer *t, void *arg);
struct cw_timer {
    cw_timer *next_, *prev_; /* private: NULL while stopped */
    uint64_t due_;
    uint32_t period_;
    cw_timer_cb cb_;
    void *arg_;
    cw_conn *conn_;
};
/* On a timer that is not armed (never started, stopped, or a one-shot
 * that fired): initialising an armed one corrupts the list. */
void cw_timer_init(cw_timer *t, cw_timer_cb cb, void *arg);
/* first_ms after now, then every period_ms (0: one-shot). Re-arming an
 * armed timer restarts it. 0 or -1 (CW_EINVAL: no server, no callback). */
int cw_timer_start(cw_server *s, cw_timer *t, uint32_t first_ms, uint32_t period_ms);
/* Tied to c: stopped when c closes (no callback after disconnect, nor
 * after a refusal). -1 also when c is closing already. */
int cw_timer_start_conn(cw_conn *c, cw_timer *t, uint32_t first_ms, uint32_t period_ms);
void cw_timer_stop(cw_timer *t);
int cw_timer_active(const cw_timer *t);

/* Descriptor watches (CONFIG_WATCHES, at most CONFIG_MAX_WATCHES): cb runs
 * on the loop thread when fd is ready for what events asks (CW_WATCH_IN,
 * CW_WATCH_OUT; 0 pauses it); CW_WATCH_ERR and CW_WATCH_HUP come whatever
 * was asked. Level-triggered: read or write until EAGAIN, or it comes
 * again. cw_watch_set and cw_watch_stop work from any callback (a stopped
 * watch gets no further callback, also later in the same batch). Stop the
 * watch before closing its fd. cw_watch_start: 0 and *out, CW_EINVAL (fd
 * not open: EBADF; no callback; events other than IN and OUT), CW_EEXIST
 * (fd watched already), CW_ENOMEM (every watch in use), CW_ESYS (the
 * poller refused it: a regular file under epoll). */
enum { CW_WATCH_IN = 1, CW_WATCH_OUT = 2, CW_WATCH_ERR = 4, CW_WATCH_HUP = 8 };
typedef struct cw_watch cw_watch;
typedef void (*cw_watch_cb)(cw_watch *w, int fd, unsigned events, void *arg);
int cw_watch_start(cw_server *s, int fd, unsigned events, cw_watch_cb cb, void *arg,
                   cw_watch **out);
/* 0, CW_EINVAL, CW_ESYS. */
int cw_watch_set(cw_watch *w, unsigned events);
void cw_watch_stop(cw_watch *w);

/* Posts (CONFIG_POSTS): the one thread-safe call. Queues fn(arg) to run on
 * the loop thread, in order per posting thread, within one loop iteration.
 * 0, CW_EFULL (CONFIG_POST_QUEUE posts wait already: nothing queued, try
 * later), CW_EINVAL (no fn), CW_ECLOSED (no server). Async-signal-safe. */
int cw_post(cw_server *s, void (*fn)(void *arg), void *arg);

/* Someone else's main loop (CONFIG_FOREIGN_LOOP), instead of cw_run:
 * poll cw_loop_fd for readability with cw_loop_timeout as the timeout (ms,
 * -1: none), and call cw_loop_service when it is readable or the timeout
 * passed; ask cw_loop_timeout again after each call. cw_loop_service never
 * blocks: it handles what is ready, the due timers and posts, and flushes.
 * It returns 0, 1 once a graceful shutdown asked with cw_stop (or SIGTERM)
 * has finished (then cw_server_fini), CW_ESYS, or CW_EINVAL when called
 * from inside one of its own callbacks (no nesting). cw_loop_fd is the epoll
 * descriptor; builds with the poll poller have none (CW_EINVAL): call
 * cw_loop_service at least every cw_loop_timeout ms and at most every few
 * ms (it polls with a zero timeout), or run chanwire in a thread of its
 * own with cw_run and cw_post to it. */
int cw_loop_fd(cw_server *s);
int cw_loop_timeout(cw_server *s);
int cw_loop_service(cw_server *s);

/* The memory plan (docs/operations.md, "Memory plan"): after
 * cw_server_init, the most resident memory the process can come to with
 * these options and this build: one line "plan NAME BYTES detail" per
 * pool and per other part (static data, code, libraries, stack and heap
 * allowances), then "plan total BYTES (N MiB)". Writes it NUL-terminated
 * into buf and the total into *total (may be NULL); returns the length,
 * CW_ETOOBIG when cap is too small, CW_EINVAL before cw_server_init or in
 * a build without CONFIG_MEM_PLAN. */
long cw_plan_write(cw_server *s, char *buf, size_t cap, uint64_t *total);

/* Restarts that drop nobody (docs/operations.md): the binary now at path
 * (absolute; NULL: the one this process was started from) with argv (NULL
 * ends it; argv[0] first) replaces this process, keeping its PID and its
 * listening sockets. A trial run of that binary with argv and --plan must
 * exit 0 first; then accepting stops (new connections wait in the listen
 * queue), every WebSocket client gets close 1012, and once they are gone
 * (or after the shutdown timeout) the process execs the new binary with
 * CHANWIRE_LISTEN_FDS naming the listeners. SIGUSR2 and the control
 * command "restart" ask for it. A failed step is logged and the server
 * goes on as before. 0, or CW_EINVAL (argv too long, no path; a build
 * without CONFIG_RESTART); cw_restart: 0 once under way, CW_EINVAL (not set
 * up, shutting down), CW_ESYS (the trial run could not start). */
int cw_restart_setup(cw_server *s, const char *path, char *const argv[]);
int cw_restart(cw_server *s);

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
    unsigned long events_out;    /* group events delivered to consumers */
    unsigned long auth_failures; /* 401/403 at the handshake */
    unsigned long tls_failures;  /* TLS handshakes that failed */
    unsigned long tls_refused;   /* TLS sessions or memory exhausted at accept */
    unsigned long message_timeouts; /* 1008: a message not complete in time */
    unsigned long rejected_addr;    /* 429: an address over its share of slots or requests */
    unsigned long share_refusals;   /* 1013: an address over its share of a pool */
    unsigned long send_timeouts;    /* 1011: a send queue not drained within the pong timeout */
    unsigned long rate_limited;     /* 1008: over --rate-msgs or --rate-bytes */
    unsigned long download_timeouts; /* a static file not sent within its deadline */
    unsigned long proxy_errors;  /* a bad PROXY header, or Forwarded from a trusted proxy */
} cw_stats;
void cw_get_stats(const cw_server *s, cw_stats *out);
/* Counters and pools as "name value" lines; returns the length. */
size_t cw_stats_report(char *out, size_t cap);

/* One line per pool: "name used/limit high-water failures". Returns the
 * length written (truncated to cap). */
size_t cw_pool_report(char *out, size_t cap);

/* Prometheus metrics (CONFIG_METRICS; docs/operations.md, "Metrics").
 * cw_metrics_write: the report in the text exposition format 0.0.4 into
 * buf, NUL-terminated; its length, or CW_ETOOBIG when it needs cap bytes
 * or more (nothing usable is left in buf), CW_EINVAL without the option.
 * cw_metrics_listen: serves GET /metrics on "ADDR:PORT" (port 0: any free
 * one) on a listener of its own, CONFIG_METRICS_CONNS scrapers at once;
 * 0, CW_ESYS (bind failed, err says why) or CW_EINVAL (a second listener,
 * or no CONFIG_METRICS). cw_metrics_port: its port, or -1. */
long cw_metrics_write(cw_server *s, char *buf, size_t cap);
int cw_metrics_listen(cw_server *s, const char *addr_port, char *err, size_t errlen);
int cw_metrics_port(cw_server *s);

/* Logging through the server's sink (stderr or syslog), at one of the
 * CW_LOG_* levels (cw_options.log_level keeps the levels up to its own). */
void cw_log(int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
