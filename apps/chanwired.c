/* SPDX-License-Identifier: MIT */
/* chanwired.c: the chanwire daemon. Parses flags, listens, and serves the
 * demo consumers; everything else is the library. */
#include "chanwire.h"
#include "consumers.h"
#include "ctlpath.h"
#include "cw_config.h"
#include "plan.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LISTEN 16

#if defined(CONFIG_HELP_TEXT)
static const char usage[] =
    "usage: chanwired [options]\n"
    "  --listen ADDR:PORT      listen on ADDR:PORT, [ADDR6]:PORT for IPv6; repeatable\n"
    "                          (default 127.0.0.1:8080; port 0 picks a free port);\n"
    "                          unix:PATH a UNIX socket for a local web server to proxy to;\n"
#if defined(CONFIG_PROXY_HEADERS)
    "                          a proxy: prefix wants a PROXY protocol v1/v2 header first\n"
#endif
    "  --listen-mode MODE      octal mode of unix: listeners (default 0660)\n"
    "  --listen-owner U[:G]    hand unix: listeners to user U (and group G; or :G alone)\n"
#if defined(CONFIG_PROXY_HEADERS)
    "  --trusted-proxy A[/N]   trust the proxy at address A (prefix N; \"unix\": peers of\n"
    "                          unix: listeners) to name the client (repeatable)\n"
    "  --proxy-header NAME     what trusted proxies name it in: x-forwarded-for (default),\n"
    "                          forwarded (RFC 7239) or none (PROXY headers only)\n"
#endif
    "  --log-level LEVEL       error, warn, info (default) or debug\n"
#if defined(CONFIG_ALL_OPTIONS) || defined(CONFIG_SYSLOG)
    "  --syslog                log to syslog instead of stderr\n"
#endif
#if defined(CONFIG_LOG_JSON)
    "  --log-format FORMAT     text (default) or json: one JSON object per stderr line\n"
#endif
#if defined(CONFIG_LOG_RATELIMIT)
    "  --log-burst N           lines one log site may print per CONFIG_LOG_REPEAT_WINDOW_MS\n"
    "                          before the rest are summarised (\"last message repeated N\n"
    "                          times\"); 0: no limit (default CONFIG_LOG_BURST)\n"
#endif
#if defined(CONFIG_METRICS)
    "  --metrics ADDR:PORT     serve GET /metrics (Prometheus text format) on a listener\n"
    "                          of its own (port 0 picks a free port; off by default)\n"
#endif
    "  --max-conns N           connection limit (at most the build's CONFIG_MAX_CONNS)\n"
    "  --max-message BYTES     largest message accepted (close 1009 above it)\n"
    "  --sendq-max BYTES       bytes queued for one slow client before close 1008\n"
    "  --handshake-timeout MS  time allowed to send the request (default 5000)\n"
    "  --ping-interval MS      ping a client silent this long; 0 never (default 30000)\n"
    "  --pong-timeout MS       drop a pinged client silent this long (default 10000)\n"
    "  --close-timeout MS      wait this long for the peer's close (default 2000)\n"
    "  --shutdown-timeout MS   on SIGTERM, time to flush before exit (default 3000)\n"
    "  --message-timeout MS    a message must arrive whole within this (1008; 0: never)\n"
#if defined(CONFIG_FAIR_SHARES)
    "  --conn-share PCT        share of the I/O pool (and of the group tables) one\n"
    "                          connection may hold (default CONFIG_CONN_SHARE_PCT)\n"
    "  --addr-share PCT        share of each pool all connections of one client address\n"
    "                          (IPv4, or IPv6 /64) may hold (default CONFIG_ADDR_SHARE_PCT)\n"
    "  --max-conns-per-addr N  connections one client address may hold (429 above it;\n"
    "                          default: its --addr-share of --max-conns)\n"
#endif
#if defined(CONFIG_RATE_LIMIT)
    "  --rate-msgs N           messages per second one connection may send, one second's\n"
    "                          worth at once (1008 above it; default 0: no limit)\n"
    "  --rate-bytes N          bytes per second one connection may send (likewise)\n"
#endif
#if defined(CONFIG_STATIC_FILES)
    "  --download-timeout MS   a static file must be sent whole within this (default 60000)\n"
#endif
#if defined(CONFIG_TLS)
    "  --tls-cert FILE         certificate chain (PEM or DER) for wss:// and HTTPS\n"
    "  --tls-key FILE          its private key; with both, --listen serves TLS unless\n"
    "                          --listen-tls names the TLS listeners (then both kinds run)\n"
    "  --listen-tls ADDR:PORT  a TLS listener (repeatable); SIGHUP reloads cert and key\n"
    "  --tls-max-sessions N    TLS sessions at once (at most the build's CONFIG_TLS_MAX_CONNS)\n"
    "  --tls-arena BYTES       TLS memory to use (at most the build's CONFIG_TLS_ARENA_SIZE)\n"
#endif
#if defined(CONFIG_STATIC_FILES)
    "  --www DIR               serve DIR's files over HTTP GET/HEAD on the same port\n"
#endif
    "  --allow-origin ORIGIN   also accept browsers from ORIGIN (repeatable; \"*\" any)\n"
#if defined(CONFIG_HOST_CHECK)
    "  --allow-host NAME       answer only requests whose Host is NAME (.NAME: also its\n"
    "                          subdomains) or an IP address, others get 400 (repeatable;\n"
    "                          replaces the build's CONFIG_ALLOW_HOSTS; \"*\" any)\n"
#endif
#if defined(CONFIG_JWT)
    "  --jwt-secret-file FILE  verify HS256 tokens with the secret in FILE (or set\n"
    "                          $CHANWIRE_JWT_SECRET); without it /ws/users/ answers 401\n"
    "  --jwt-id-claim NAME     claim holding the user id (default user_id)\n"
    "  --jwt-name-claim NAME   claim holding the user name (default username)\n"
    "  --jwt-cookie NAME       cookie that may carry the token (default jwt)\n"
    "  --jwt-query NAME        query parameter that may carry it (default token)\n"
    "  --jwt-audience AUD      tokens must have AUD as aud (or in an aud list), else 401\n"
    "  --jwt-issuer ISS        tokens must have ISS as iss, else 401\n"
    "  --jwt-allow-no-exp      accept tokens without exp (401 by default, as simplejwt);\n"
    "                          while the clock reads before 2024 (unset), exp/nbf get 401\n"
#endif
#if defined(CONFIG_CONTROL_SOCKET)
    "  --control PATH          control socket for chanwire-send (default $CHANWIRE_SOCKET,\n"
    "                          else $XDG_RUNTIME_DIR/chanwired.sock if not root, else\n"
    "                          /run/chanwired.sock; never a world-writable /tmp)\n"
#endif
    "  --no-control            no control socket\n"
#if defined(CONFIG_ALL_OPTIONS) || defined(CONFIG_STATS_ENDPOINT)
    "  --no-stats              no GET /stats (counters and pools as text) on the HTTP port\n"
#endif
#if defined(CONFIG_ALL_OPTIONS) || defined(CONFIG_GROUPS)
    "  --max-groups N          groups at once (at most the build's CONFIG_MAX_GROUPS)\n"
    "  --max-memberships N     group memberships at once (CONFIG_MAX_MEMBERSHIPS at most)\n"
#endif
    "  --max-users N           signed-in users at once (CONFIG_MAX_USERS at most; more: 503)\n"
    "  --user NAME             after binding, drop root for NAME's uid and gid (no\n"
    "                          supplementary groups); the control socket is handed to it\n"
    "  --chroot DIR            after binding, chroot to DIR (--www is opened before)\n"
    "  --allow-root            keep running as root (refused without --user otherwise)\n"
#if defined(CONFIG_LAYER_REDIS)
    "  --redis HOST:PORT       share groups and channels through Redis with other chanwired\n"
    "                          daemons and Django (channels_redis); HOST is numeric or\n"
    "                          localhost; one host (several: not supported yet).\n"
    "                          Builds with CONFIG_LAYER_REDIS only\n"
    "  --redis-layer core|pubsub  the Django side's layer: core (RedisChannelLayer, Django's\n"
    "                          default; the default) or pubsub (RedisPubSubChannelLayer)\n"
    "  --redis-expiry S, --redis-group-expiry S, --redis-capacity N  the core layer's\n"
    "                          expiry (60), group_expiry (86400), capacity (100): as Django's\n"
    "  --redis-prefix PREFIX   channels_redis's \"prefix\" setting (default asgi)\n"
    "  --redis-user NAME       Redis ACL user name for AUTH\n"
    "  --redis-password-file FILE  AUTH password read from FILE (or set\n"
    "                          $CHANWIRE_REDIS_PASSWORD; --redis-password PASS also works\n"
    "                          but shows in ps)\n"
#endif
#if defined(CONFIG_GROUPS) && defined(CONFIG_JSON) && defined(CONFIG_DEFERRED_ACCEPT)
    "  --worker NAME           bind worker channel NAME (ChannelNameRouter): its events go to\n"
    "                          group \"workers\" and to the channel in \"reply_to\" (repeatable)\n"
#endif
#if defined(CONFIG_MEM_PLAN)
    "  --plan                  print the memory plan (worst-case bytes of every pool and\n"
    "                          of the whole daemon) for these options, then exit\n"
    "  --mem-budget BYTES      refuse to start when the plan exceeds BYTES (K, M, G)\n"
#endif
    "  --help                  this text\n"
    "  --version               print the version\n"
#if defined(CONFIG_GROUPS) && defined(CONFIG_JSON)
#if defined(CONFIG_RESTART)
    "SIGUSR2 (or chanwire-send --restart) restarts with the binary on disk, keeping\n"
    "the listening sockets; clients get close 1012 and reconnect.\n"
#endif
    "Routes: /ws/echo/ (echo), /ws/chat/<room>/ (the Channels tutorial chat),\n"
    "/ws/users/ (signed-in presence; needs a token).\n";
#else
#if defined(CONFIG_RESTART)
    "SIGUSR2 (or chanwire-send --restart) restarts with the binary on disk, keeping\n"
    "the listening sockets; clients get close 1012 and reconnect.\n"
#endif
    "Routes: /ws/echo/ (echo); this build has no groups or JSON for the others.\n";
#endif
#endif /* CONFIG_HELP_TEXT */

#if defined(CONFIG_JWT)
/* Reads the JWT secret: the whole file, without a trailing newline. */
static int read_secret(const char *path, char *out, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "chanwired: cannot read --jwt-secret-file %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t n = fread(out, 1, cap, f);
    fclose(f);
    if (n == cap) {
        fprintf(stderr, "chanwired: --jwt-secret-file %s: secret longer than %zu bytes\n", path,
                cap - 1);
        return -1;
    }
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        n--;
    if (n == 0) {
        fprintf(stderr, "chanwired: --jwt-secret-file %s is empty\n", path);
        return -1;
    }
    out[n] = 0;
    *len = n;
    return 0;
}
#endif

#if defined(CONFIG_LAYER_REDIS)
/* The Redis password: the file's first line. */
static int read_password(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f || !fgets(out, (int)cap, f)) {
        fprintf(stderr, "chanwired: cannot read --redis-password-file %s: %s\n", path,
                f ? "empty" : strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = 0;
    return 0;
}
#endif

static int parse_uint(const char *flag, const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    /* ERANGE: on 32-bit targets unsigned long saturates at the limit. */
    if (!*s || *end || s[0] == '-' || errno == ERANGE || v > 0xFFFFFFFFul) {
        fprintf(stderr, "chanwired: --%s wants a non-negative number, not '%s'\n", flag, s);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

/* --log-level: a name, or its number "0".."3". */
static int parse_level(const char *s, int *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    static const signed char levels[] = {CW_LOG_ERROR, CW_LOG_WARN, CW_LOG_INFO, CW_LOG_DEBUG};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0 || (s[0] == '0' + i && s[1] == 0)) {
            *out = levels[i];
            return 0;
        }
    fprintf(stderr, "chanwired: --log-level wants error, warn, info or debug, not '%s'\n", s);
    return -1;
}

#if defined(CONFIG_HOST_CHECK)
/* An --allow-host value: "*", or a name of [A-Za-z0-9._-] (IP addresses
 * need no entry; "[::1]", ports and schemes would never match). */
static int host_entry_ok(const char *s)
{
    if (strcmp(s, "*") == 0)
        return 1;
    if (!*s || strcmp(s, ".") == 0)
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
           strlen(s);
}

/* "Host check: a b c" (or nothing when off): the log says why a 400 came. */
static void log_hosts(const cw_options *o)
{
    char line[200];
    size_t n = 0;
    for (size_t i = 0; i < o->nallow_hosts && n < sizeof line; i++)
        n += (size_t)snprintf(line + n, sizeof line - n, " %s", o->allow_hosts[i]);
    if (o->nallow_hosts)
        cw_log(CW_LOG_INFO, "Host check: only%s, or an IP address", line);
}
#endif

/* "chanwired VERSION features: a b c" on one line: the optional modules
 * of this build (cw_build_features_text). */
static void print_version(void)
{
    const char *f = cw_build_features_text();
    printf("chanwired " CW_VERSION " features:%s\n", *f ? f : " none");
}

/* A repeatable flag's values. */
struct list {
    const char *v[MAX_LISTEN];
    unsigned n;
};

/* Everything the flags set, in one place: each option's table entry says
 * what kind of value it takes and where it goes (an offset in here), so
 * one loop parses them all instead of one case per flag. */
static struct args {
    cw_options o;
    cw_redis_options redis;
    const char *tls_cert, *tls_key, *run_user, *chroot_dir;
    const char *listen_mode, *listen_owner, *proxy_header;
    struct list trusted;
    int allow_root, use_control;
    const char *metrics; /* --metrics ADDR:PORT */
    int plan;                /* --plan */
    const char *mem_budget;  /* --mem-budget BYTES */
    struct list listen, listen_tls, origins, hosts, workers;
} a;

enum {
    K_UINT = 1, /* unsigned number */
    K_STR,      /* the argument itself */
    K_SET,      /* no argument: the int becomes 1 */
    K_CLEAR,    /* no argument: the int becomes 0 */
    K_LIST,     /* repeatable, at most MAX_LISTEN */
    K_LOG,
    K_JWTFILE,
    K_CONTROL,
    K_PASSFILE,
    K_LOGFMT,
    K_HELP,
    K_VERSION
};
#define OPT(kind, member) ((kind) << 16 | (int)offsetof(struct args, member))
#define REQ required_argument
#define NO no_argument

static const struct option longopts[] = {
    {"listen", REQ, 0, OPT(K_LIST, listen)},
    {"listen-mode", REQ, 0, OPT(K_STR, listen_mode)},
    {"listen-owner", REQ, 0, OPT(K_STR, listen_owner)},
#if defined(CONFIG_ALL_OPTIONS) || defined(CONFIG_PROXY_HEADERS)
    {"trusted-proxy", REQ, 0, OPT(K_LIST, trusted)},
    {"proxy-header", REQ, 0, OPT(K_STR, proxy_header)},
#endif
    {"log-level", REQ, 0, OPT(K_LOG, o)},
#if defined(CONFIG_LOG_JSON)
    {"log-format", REQ, 0, OPT(K_LOGFMT, o)},
#endif
#if defined(CONFIG_LOG_RATELIMIT)
    {"log-burst", REQ, 0, OPT(K_UINT, o.log_burst)},
#endif
#if defined(CONFIG_METRICS)
    {"metrics", REQ, 0, OPT(K_STR, metrics)},
#endif
#if defined(CONFIG_ALL_OPTIONS) || defined(CONFIG_SYSLOG)
    {"syslog", NO, 0, OPT(K_SET, o.use_syslog)},
#endif
    {"max-conns", REQ, 0, OPT(K_UINT, o.max_conns)},
    {"max-message", REQ, 0, OPT(K_UINT, o.max_message)},
    {"sendq-max", REQ, 0, OPT(K_UINT, o.sendq_max)},
    {"handshake-timeout", REQ, 0, OPT(K_UINT, o.handshake_timeout_ms)},
    {"ping-interval", REQ, 0, OPT(K_UINT, o.ping_interval_ms)},
    {"pong-timeout", REQ, 0, OPT(K_UINT, o.pong_timeout_ms)},
    {"close-timeout", REQ, 0, OPT(K_UINT, o.close_timeout_ms)},
    {"shutdown-timeout", REQ, 0, OPT(K_UINT, o.shutdown_timeout_ms)},
    {"message-timeout", REQ, 0, OPT(K_UINT, o.message_timeout_ms)},
#if defined(CONFIG_FAIR_SHARES)
    {"conn-share", REQ, 0, OPT(K_UINT, o.conn_share_pct)},
    {"addr-share", REQ, 0, OPT(K_UINT, o.addr_share_pct)},
    {"max-conns-per-addr", REQ, 0, OPT(K_UINT, o.max_conns_per_addr)},
#endif
#if defined(CONFIG_RATE_LIMIT)
    {"rate-msgs", REQ, 0, OPT(K_UINT, o.rate_msgs)},
    {"rate-bytes", REQ, 0, OPT(K_UINT, o.rate_bytes)},
#endif
#if defined(CONFIG_STATIC_FILES)
    {"download-timeout", REQ, 0, OPT(K_UINT, o.download_timeout_ms)},
#endif
#if defined(CONFIG_TLS)
    {"tls-cert", REQ, 0, OPT(K_STR, tls_cert)},
    {"tls-key", REQ, 0, OPT(K_STR, tls_key)},
    {"listen-tls", REQ, 0, OPT(K_LIST, listen_tls)},
    {"tls-max-sessions", REQ, 0, OPT(K_UINT, o.tls_max_sessions)},
    {"tls-arena", REQ, 0, OPT(K_UINT, o.tls_arena_bytes)},
#endif
#if defined(CONFIG_STATIC_FILES)
    {"www", REQ, 0, OPT(K_STR, o.www_dir)},
#endif
    {"allow-origin", REQ, 0, OPT(K_LIST, origins)},
#if defined(CONFIG_HOST_CHECK)
    {"allow-host", REQ, 0, OPT(K_LIST, hosts)},
#endif
#if defined(CONFIG_JWT)
    {"jwt-secret-file", REQ, 0, OPT(K_JWTFILE, o)},
    {"jwt-id-claim", REQ, 0, OPT(K_STR, o.jwt_id_claim)},
    {"jwt-name-claim", REQ, 0, OPT(K_STR, o.jwt_name_claim)},
    {"jwt-cookie", REQ, 0, OPT(K_STR, o.jwt_cookie)},
    {"jwt-query", REQ, 0, OPT(K_STR, o.jwt_query)},
    {"jwt-audience", REQ, 0, OPT(K_STR, o.jwt_audience)},
    {"jwt-issuer", REQ, 0, OPT(K_STR, o.jwt_issuer)},
    {"jwt-allow-no-exp", NO, 0, OPT(K_SET, o.jwt_allow_no_exp)},
#endif
#if defined(CONFIG_CONTROL_SOCKET)
    {"control", REQ, 0, OPT(K_CONTROL, o)},
#endif
    /* Accepted by every build: launchers (and the tests) pass it to all. */
    {"no-control", NO, 0, OPT(K_CLEAR, use_control)},
#if defined(CONFIG_ALL_OPTIONS) || defined(CONFIG_STATS_ENDPOINT)
    {"no-stats", NO, 0, OPT(K_CLEAR, o.stats_endpoint)},
#endif
#if defined(CONFIG_ALL_OPTIONS) || defined(CONFIG_GROUPS)
    {"max-groups", REQ, 0, OPT(K_UINT, o.max_groups)},
    {"max-memberships", REQ, 0, OPT(K_UINT, o.max_memberships)},
#endif
    {"max-users", REQ, 0, OPT(K_UINT, o.max_users)},
    {"user", REQ, 0, OPT(K_STR, run_user)},
    {"chroot", REQ, 0, OPT(K_STR, chroot_dir)},
    {"allow-root", NO, 0, OPT(K_SET, allow_root)},
#if defined(CONFIG_LAYER_REDIS)
    {"redis", REQ, 0, OPT(K_STR, redis.addr)},
    {"redis-prefix", REQ, 0, OPT(K_STR, redis.prefix)},
    {"redis-layer", REQ, 0, OPT(K_STR, redis.layer)},
    {"redis-expiry", REQ, 0, OPT(K_UINT, redis.expiry_s)},
    {"redis-group-expiry", REQ, 0, OPT(K_UINT, redis.group_expiry_s)},
    {"redis-capacity", REQ, 0, OPT(K_UINT, redis.capacity)},
    {"redis-user", REQ, 0, OPT(K_STR, redis.username)},
    {"redis-password", REQ, 0, OPT(K_STR, redis.password)},
    {"redis-password-file", REQ, 0, OPT(K_PASSFILE, o)},
#endif
#if defined(CONFIG_GROUPS) && defined(CONFIG_JSON) && defined(CONFIG_DEFERRED_ACCEPT)
    {"worker", REQ, 0, OPT(K_LIST, workers)},
#endif
#if defined(CONFIG_MEM_PLAN)
    {"plan", NO, 0, OPT(K_SET, plan)},
    {"mem-budget", REQ, 0, OPT(K_STR, mem_budget)},
#endif
    {"help", NO, 0, OPT(K_HELP, o)},
    {"version", NO, 0, OPT(K_VERSION, o)},
    {0, 0, 0, 0}};

/* --help: the full text, or (without CONFIG_HELP_TEXT) the option names
 * from the option table, whose strings the image has anyway. */
static void print_usage(void)
{
#if defined(CONFIG_HELP_TEXT)
    fputs(usage, stdout);
#else
    fputs("usage: chanwired [options] (docs/api.md says what they do):\n", stdout);
    for (const struct option *p = longopts; p->name; p++)
        printf("  --%s%s\n", p->name, p->has_arg ? " VALUE" : "");
#endif
}

int main(int argc, char **argv)
{
    cw_options *o = &a.o;
    cw_options_init(o);
    o->log_ident = "chanwired";
#if defined(CONFIG_LAYER_REDIS)
    static char redis_password[257];
    const char *env_redis_pw = getenv("CHANWIRE_REDIS_PASSWORD");
    if (env_redis_pw && *env_redis_pw)
        a.redis.password = env_redis_pw;
#endif
#if defined(CONFIG_CONTROL_SOCKET)
    char control[108];
    a.use_control = 1;
    cw_default_control_path(control, sizeof control, 0);
#endif
#if defined(CONFIG_JWT)
    static char secret[512];
    const char *env_secret = getenv("CHANWIRE_JWT_SECRET");
    if (env_secret && *env_secret && strlen(env_secret) < sizeof secret) {
        strcpy(secret, env_secret);
        o->jwt_secret = secret;
        o->jwt_secret_len = strlen(secret);
    }
#endif
    int c, li = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, &li)) != -1) {
        const char *name = longopts[li].name;
        void *at = (char *)&a + (c & 0xFFFF);
        switch (c >> 16) {
        case K_UINT:
            if (parse_uint(name, optarg, at) < 0)
                return 2;
            break;
        case K_STR:
#if defined(CONFIG_LAYER_REDIS)
            /* channels_redis's hosts list: one host for now (docs/redis.md) */
            if (at == (void *)&a.redis.addr && (a.redis.addr || strchr(optarg, ','))) {
                fprintf(stderr, "chanwired: several --redis hosts: not supported yet (give one "
                        "HOST:PORT; docs/redis.md)\n");
                return 2;
            }
#endif
            *(const char **)at = optarg;
            break;
        case K_SET: *(int *)at = 1; break;
        case K_CLEAR: *(int *)at = 0; break;
        case K_LIST: {
            struct list *l = at;
            if (l->n == MAX_LISTEN) {
                fprintf(stderr, "chanwired: at most %d --%s\n", MAX_LISTEN, name);
                return 2;
            }
            l->v[l->n++] = optarg;
            break;
        }
        case K_LOG:
            if (parse_level(optarg, &o->log_level) < 0)
                return 2;
            break;
        case K_LOGFMT:
            if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0) {
                fprintf(stderr, "chanwired: --log-format wants text or json, not '%s'\n", optarg);
                return 2;
            }
            o->log_json = optarg[0] == 'j';
            break;
#if defined(CONFIG_JWT)
        case K_JWTFILE:
            if (read_secret(optarg, secret, sizeof secret, &o->jwt_secret_len) < 0)
                return 2;
            o->jwt_secret = secret;
            break;
#endif
#if defined(CONFIG_CONTROL_SOCKET)
        case K_CONTROL: snprintf(control, sizeof control, "%s", optarg); break;
#endif
#if defined(CONFIG_LAYER_REDIS)
        case K_PASSFILE:
            if (read_password(optarg, redis_password, sizeof redis_password) < 0)
                return 2;
            a.redis.password = redis_password;
            break;
#endif
        case K_HELP: print_usage(); return 0;
        case K_VERSION: print_version(); return 0;
        default:
            /* opterr = 0 and no ':' leading the option string: a missing
             * value is reported as '?' too, naming the flag. */
            fprintf(stderr, "chanwired: unknown option '%s' (try --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (a.origins.n) {
        o->allow_origins = a.origins.v;
        o->nallow_origins = a.origins.n;
    }
#if defined(CONFIG_HOST_CHECK)
    if (a.hosts.n) {
        for (unsigned i = 0; i < a.hosts.n; i++)
            if (!host_entry_ok(a.hosts.v[i])) {
                fprintf(stderr, "chanwired: --allow-host wants a host name (router.lan, .lan for "
                        "the domain, or *; no scheme or port), not '%s'\n", a.hosts.v[i]);
                return 2;
            }
        o->allow_hosts = a.hosts.v;
        o->nallow_hosts = a.hosts.n;
    }
#endif
    const char **listen = a.listen.v, **listen_tls = a.listen_tls.v;
    unsigned nlisten = a.listen.n;
#if defined(CONFIG_TLS)
    unsigned nlisten_tls = a.listen_tls.n;
#else
    const unsigned nlisten_tls = 0; /* no TLS listener in this build */
#endif
#if defined(CONFIG_LAYER_REDIS)
    cw_redis_options *redis = &a.redis;
#endif
#if defined(CONFIG_TLS)
    const char *tls_cert = a.tls_cert, *tls_key = a.tls_key;
#endif
    const char *run_user = a.run_user;
    if (optind < argc) {
        fprintf(stderr, "chanwired: unexpected argument '%s' (try --help)\n", argv[optind]);
        return 2;
    }
#if defined(CONFIG_LAYER_REDIS)
    if (!redis->addr && (redis->prefix || redis->username ||
                        (redis->password && redis->password != env_redis_pw))) {
        fprintf(stderr, "chanwired: --redis-prefix, --redis-user and --redis-password need "
                "--redis\n");
        return 2;
    }
#endif
#if defined(CONFIG_TLS)
    if (!tls_cert != !tls_key) {
        fprintf(stderr, "chanwired: --tls-cert and --tls-key go together (try --help)\n");
        return 2;
    }
    if (nlisten_tls && !tls_cert) {
        fprintf(stderr, "chanwired: --listen-tls needs --tls-cert and --tls-key\n");
        return 2;
    }
    if (tls_cert && nlisten_tls == 0) {
        /* Only a certificate: the --listen addresses serve TLS. */
        for (unsigned i = 0; i < nlisten; i++)
            listen_tls[nlisten_tls++] = listen[i];
        nlisten = 0;
        if (nlisten_tls == 0)
            listen_tls[nlisten_tls++] = "127.0.0.1:8443";
    }
#endif
    if (nlisten == 0 && nlisten_tls == 0)
        listen[nlisten++] = "127.0.0.1:8080";
    /* Least privilege: root only to bind, then --user; root throughout
     * only when asked for in so many words. */
    if (cw_running_as_root() && !run_user && !a.allow_root) {
        fprintf(stderr, "chanwired: refusing to run as root: give --user NAME (root is dropped "
                "after binding) or --allow-root\n");
        return 2;
    }
    /* A restart's new image (and its trial run) is --user already: the
     * old image dropped root, and hands over what needed it (docs/operations.md). */
    int restarted = 0;
#if defined(CONFIG_RESTART)
    const struct passwd *pw = run_user && getenv("CHANWIRE_RESTART") ? getpwnam(run_user) : NULL;
    restarted = pw && !cw_running_as_root() && pw->pw_uid == getuid() && pw->pw_gid == getgid();
#endif
    if (run_user && !cw_running_as_root() && !restarted) {
        fprintf(stderr, "chanwired: --user %s needs to start as root\n", run_user);
        return 2;
    }
    if (run_user) {
        char err[160];
        if (cw_privileges_check(run_user, err, sizeof err) != 0) {
            fprintf(stderr, "chanwired: %s\n", err);
            return 2;
        }
    }

#if defined(CONFIG_MEM_PLAN)
    uint64_t budget = 0;
    if (a.mem_budget && cw_plan_parse_bytes(a.mem_budget, &budget) < 0) {
        fprintf(stderr, "chanwired: --mem-budget wants bytes (a number, or with K, M or G), "
                "not '%s'\n", a.mem_budget);
        return 2;
    }
#endif

    o->routes = cw_demo_routes(&o->nroutes);
    cw_server *srv = cw_server_init(o);
    if (!srv) {
        fprintf(stderr, "chanwired: cannot start (see the log above)\n");
        return 1;
    }
#if defined(CONFIG_MEM_PLAN)
    if (a.plan || a.mem_budget) {
        /* Before anything is bound or created: --plan only reports. */
        static char plan[2048];
        uint64_t total = 0;
        if (cw_plan_write(srv, plan, sizeof plan, &total) < 0)
            snprintf(plan, sizeof plan, "plan total %llu\n", (unsigned long long)total);
        if (a.plan)
            fputs(plan, stdout);
        if (a.mem_budget && total > budget) {
            fprintf(stderr, "chanwired: the memory plan, %llu bytes, exceeds --mem-budget %llu "
                    "bytes (chanwired --plan lists it)\n", (unsigned long long)total,
                    (unsigned long long)budget);
            cw_server_fini(srv);
            return 1;
        }
        if (a.plan) {
            cw_server_fini(srv);
            return 0;
        }
        cw_log(CW_LOG_INFO, "memory plan %llu bytes, within --mem-budget %llu",
               (unsigned long long)total, (unsigned long long)budget);
    }
#endif
#if defined(CONFIG_CONTROL_SOCKET)
    if (a.use_control) {
        char err[160];
        if (cw_control_listen(srv, control, err, sizeof err) != 0) {
            fprintf(stderr, "chanwired: %s (give --control PATH, or --no-control)\n", err);
            return 1;
        }
        cw_log(CW_LOG_INFO, "control socket %s", control);
    }
#endif
#if defined(CONFIG_LAYER_REDIS)
    if (redis->addr) {
        char err[200];
        if (cw_redis_layer(srv, redis, err, sizeof err) != 0) {
            fprintf(stderr, "chanwired: %s\n", err);
            cw_server_fini(srv);
            return 1;
        }
    }
#endif
#if defined(CONFIG_GROUPS) && defined(CONFIG_JSON) && defined(CONFIG_DEFERRED_ACCEPT)
    for (unsigned i = 0; i < a.workers.n; i++) {
        if (cw_channel_bind(srv, a.workers.v[i], &cw_demo_worker) != 0) {
            fprintf(stderr, "chanwired: --worker %s: not a free worker channel name\n",
                    a.workers.v[i]);
            cw_server_fini(srv);
            return 1;
        }
    }
#endif
#if defined(CONFIG_TLS)
    if (tls_cert) {
        char err[300];
        if (cw_tls_setup(srv, tls_cert, tls_key, err, sizeof err) != 0) {
            fprintf(stderr, "chanwired: %s\n", err);
            cw_server_fini(srv);
            return 1;
        }
    }
#endif
    {
        char err[200], *end = NULL;
        unsigned long mode = a.listen_mode ? strtoul(a.listen_mode, &end, 8) : 0;
        int bad = a.listen_mode && (!*a.listen_mode || *end || a.listen_mode[0] == '-' ||
                                    a.listen_mode[0] == '+' || mode > 0777);
        if (bad)
            snprintf(err, sizeof err, "--listen-mode wants an octal mode like 0660, not '%s'",
                     a.listen_mode);
        if (!bad && cw_listen_unix_access(srv, (unsigned)mode, a.listen_owner, err, sizeof err))
            bad = 1;
        for (unsigned i = 0; !bad && i < a.trusted.n; i++)
            bad = cw_trust_proxy(srv, a.trusted.v[i], err, sizeof err) != 0;
        if (!bad && a.proxy_header)
            bad = cw_forwarded_header(srv, a.proxy_header, err, sizeof err) != 0;
        if (bad) {
            fprintf(stderr, "chanwired: %s\n", err);
            cw_server_fini(srv);
            return 2;
        }
    }
#if defined(CONFIG_METRICS)
    if (a.metrics) {
        char err[160];
        if (cw_metrics_listen(srv, a.metrics, err, sizeof err) != 0) {
            fprintf(stderr, "chanwired: %s\n", err);
            cw_server_fini(srv);
            return 1;
        }
        cw_log(CW_LOG_INFO, "metrics on %s (port %d)", a.metrics, cw_metrics_port(srv));
    }
#endif
    for (unsigned i = 0; i < nlisten + nlisten_tls; i++) {
        char err[160];
        int tls = i >= nlisten;
        const char *addr = tls ? listen_tls[i - nlisten] : listen[i];
        int rc = tls ? cw_listen_tls(srv, addr, err, sizeof err) : cw_listen(srv, addr, err, sizeof err);
        if (rc != 0) {
            fprintf(stderr, "chanwired: %s\n", err);
            cw_server_fini(srv); /* removes the control socket again */
            return 1;
        }
        if (cw_listen_port(srv, i) < 0)
            cw_log(CW_LOG_INFO, "listening on %s%s", addr, tls ? " with TLS" : "");
        else
            cw_log(CW_LOG_INFO, "listening on %s (port %d)%s", addr, cw_listen_port(srv, i),
                   tls ? " with TLS" : "");
    }
    if ((run_user || a.chroot_dir) && !restarted) {
        char err[200];
        if (cw_drop_privileges(srv, run_user, a.chroot_dir, err, sizeof err) != 0) {
            fprintf(stderr, "chanwired: %s\n", err);
            cw_server_fini(srv);
            return 1;
        }
    }
#if defined(CONFIG_HOST_CHECK)
    log_hosts(o); /* once started: a start-up error stays the only line */
#endif
#if defined(CONFIG_RESTART)
    cw_restart_setup(srv, NULL, argv); /* SIGUSR2: this path, these flags */
#endif
    int rc = cw_run(srv);
    cw_server_fini(srv);
    return rc == 0 ? 0 : 1;
}
