/* chanwired.c: the chanwire daemon. Parses flags, listens, and serves the
 * demo consumers; everything else is the library. */
#include "chanwire.h"
#include "consumers.h"
#include "ctlpath.h"
#include "cw_config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LISTEN 16
#define MAX_ORIGINS 16

static const char usage[] =
    "usage: chanwired [options]\n"
    "  --listen ADDR:PORT      listen on ADDR:PORT, [ADDR6]:PORT for IPv6; repeatable\n"
    "                          (default 127.0.0.1:8080; port 0 picks a free port)\n"
    "  --log-level LEVEL       error, warn, info (default) or debug\n"
    "  --syslog                log to syslog instead of stderr\n"
    "  --max-conns N           connection limit (at most the build's CONFIG_MAX_CONNS)\n"
    "  --max-message BYTES     largest message accepted (close 1009 above it)\n"
    "  --sendq-max BYTES       bytes queued for one slow client before close 1008\n"
    "  --handshake-timeout MS  time allowed to send the request (default 5000)\n"
    "  --ping-interval MS      ping a client silent this long; 0 never (default 30000)\n"
    "  --pong-timeout MS       drop a pinged client silent this long (default 10000)\n"
    "  --close-timeout MS      wait this long for the peer's close (default 2000)\n"
    "  --shutdown-timeout MS   on SIGTERM, time to flush before exit (default 3000)\n"
    "  --tls-cert FILE         certificate chain (PEM or DER) for wss:// and HTTPS\n"
    "  --tls-key FILE          its private key; with both, --listen serves TLS unless\n"
    "                          --listen-tls names the TLS listeners (then both kinds run)\n"
    "  --listen-tls ADDR:PORT  a TLS listener (repeatable); SIGHUP reloads cert and key\n"
    "  --tls-max-sessions N    TLS sessions at once (at most the build's CONFIG_TLS_MAX_CONNS)\n"
    "  --tls-arena BYTES       TLS memory to use (at most the build's CONFIG_TLS_ARENA_SIZE)\n"
#if defined(CONFIG_STATIC_FILES)
    "  --www DIR               serve DIR's files over HTTP GET/HEAD on the same port\n"
#endif
    "  --allow-origin ORIGIN   also accept browsers from ORIGIN (repeatable; \"*\" any)\n"
#if defined(CONFIG_JWT)
    "  --jwt-secret-file FILE  verify HS256 tokens with the secret in FILE (or set\n"
    "                          $CHANWIRE_JWT_SECRET); without it /ws/users/ answers 401\n"
    "  --jwt-id-claim NAME     claim holding the user id (default user_id)\n"
    "  --jwt-name-claim NAME   claim holding the user name (default username)\n"
    "  --jwt-cookie NAME       cookie that may carry the token (default jwt)\n"
    "  --jwt-query NAME        query parameter that may carry it (default token)\n"
#endif
#if defined(CONFIG_CONTROL_SOCKET)
    "  --control PATH          control socket for chanwire-send (default $CHANWIRE_SOCKET,\n"
    "                          else /run/chanwired.sock as root, /tmp/chanwired-UID.sock)\n"
#endif
    "  --no-control            no control socket\n"
    "  --no-stats              no GET /stats (counters and pools as text) on the HTTP port\n"
    "  --max-groups N          groups at once (at most the build's CONFIG_MAX_GROUPS)\n"
    "  --max-memberships N     group memberships at once (CONFIG_MAX_MEMBERSHIPS at most)\n"
    "  --user NAME             after binding, drop root for NAME's uid and gid (no\n"
    "                          supplementary groups); the control socket is handed to it\n"
    "  --chroot DIR            after binding, chroot to DIR (--www is opened before)\n"
    "  --allow-root            keep running as root (refused without --user otherwise)\n"
    "  --redis HOST:PORT       share groups through Redis with other chanwired daemons and\n"
    "                          Django (channels_redis's RedisPubSubChannelLayer); HOST is\n"
    "                          numeric or localhost. Builds with CONFIG_LAYER_REDIS only\n"
    "  --redis-prefix PREFIX   channels_redis's \"prefix\" setting (default asgi)\n"
    "  --redis-user NAME       Redis ACL user name for AUTH\n"
    "  --redis-password-file FILE  AUTH password read from FILE (or set\n"
    "                          $CHANWIRE_REDIS_PASSWORD; --redis-password PASS also works\n"
    "                          but shows in ps)\n"
    "  --help                  this text\n"
    "  --version               print the version\n"
#if defined(CONFIG_GROUPS) && defined(CONFIG_JSON)
    "Routes: /ws/echo/ (echo), /ws/chat/<room>/ (the Channels tutorial chat),\n"
    "/ws/users/ (signed-in presence; needs a token).\n";
#else
    "Routes: /ws/echo/ (echo); this build has no groups or JSON for the others.\n";
#endif

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

static int parse_uint(const char *flag, const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    /* ERANGE: on 32-bit targets unsigned long saturates at the limit. */
    if (!*s || *end || s[0] == '-' || errno == ERANGE || v > 0xFFFFFFFFul) {
        fprintf(stderr, "chanwired: %s wants a non-negative number, not '%s'\n", flag, s);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

static int parse_level(const char *s, int *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0 || (s[0] == '0' + i && s[1] == 0)) {
            *out = i;
            return 0;
        }
    fprintf(stderr, "chanwired: --log-level wants error, warn, info or debug, not '%s'\n", s);
    return -1;
}

int main(int argc, char **argv)
{
    enum { O_LISTEN = 256, O_LOG, O_SYSLOG, O_MAXC, O_MAXM, O_SENDQ, O_HS, O_PING, O_PONG,
           O_CLOSE, O_SHUT, O_HELP, O_VERSION, O_WWW, O_ORIGIN, O_JWTFILE, O_JWTID, O_JWTNAME,
           O_JWTCOOKIE, O_JWTQUERY, O_CONTROL, O_NOCONTROL, O_TLSCERT, O_TLSKEY, O_LISTENTLS,
           O_TLSMAX, O_TLSARENA, O_REDIS, O_REDISPREFIX, O_REDISUSER, O_REDISPASS,
           O_REDISPASSFILE, O_NOSTATS, O_MAXGROUPS, O_MAXMEMBERS, O_USER, O_CHROOT,
           O_ALLOWROOT };
    static const struct option longopts[] = {
        {"listen", required_argument, 0, O_LISTEN},
        {"log-level", required_argument, 0, O_LOG},
        {"syslog", no_argument, 0, O_SYSLOG},
        {"max-conns", required_argument, 0, O_MAXC},
        {"max-message", required_argument, 0, O_MAXM},
        {"sendq-max", required_argument, 0, O_SENDQ},
        {"handshake-timeout", required_argument, 0, O_HS},
        {"ping-interval", required_argument, 0, O_PING},
        {"pong-timeout", required_argument, 0, O_PONG},
        {"close-timeout", required_argument, 0, O_CLOSE},
        {"shutdown-timeout", required_argument, 0, O_SHUT},
        {"tls-cert", required_argument, 0, O_TLSCERT},
        {"tls-key", required_argument, 0, O_TLSKEY},
        {"listen-tls", required_argument, 0, O_LISTENTLS},
        {"tls-max-sessions", required_argument, 0, O_TLSMAX},
        {"tls-arena", required_argument, 0, O_TLSARENA},
#if defined(CONFIG_STATIC_FILES)
        {"www", required_argument, 0, O_WWW},
#endif
        {"allow-origin", required_argument, 0, O_ORIGIN},
#if defined(CONFIG_JWT)
        {"jwt-secret-file", required_argument, 0, O_JWTFILE},
        {"jwt-id-claim", required_argument, 0, O_JWTID},
        {"jwt-name-claim", required_argument, 0, O_JWTNAME},
        {"jwt-cookie", required_argument, 0, O_JWTCOOKIE},
        {"jwt-query", required_argument, 0, O_JWTQUERY},
#endif
#if defined(CONFIG_CONTROL_SOCKET)
        {"control", required_argument, 0, O_CONTROL},
#endif
        {"no-control", no_argument, 0, O_NOCONTROL},
        {"no-stats", no_argument, 0, O_NOSTATS},
        {"max-groups", required_argument, 0, O_MAXGROUPS},
        {"max-memberships", required_argument, 0, O_MAXMEMBERS},
        {"user", required_argument, 0, O_USER},
        {"chroot", required_argument, 0, O_CHROOT},
        {"allow-root", no_argument, 0, O_ALLOWROOT},
        {"redis", required_argument, 0, O_REDIS},
        {"redis-prefix", required_argument, 0, O_REDISPREFIX},
        {"redis-user", required_argument, 0, O_REDISUSER},
        {"redis-password", required_argument, 0, O_REDISPASS},
        {"redis-password-file", required_argument, 0, O_REDISPASSFILE},
        {"help", no_argument, 0, O_HELP},
        {"version", no_argument, 0, O_VERSION},
        {0, 0, 0, 0}};
    cw_options o;
    cw_options_init(&o);
    o.log_ident = "chanwired";
    const char *listen[MAX_LISTEN], *listen_tls[MAX_LISTEN];
    int nlisten = 0, nlisten_tls = 0;
    const char *tls_cert = NULL, *tls_key = NULL;
    const char *run_user = NULL, *chroot_dir = NULL;
    int allow_root = 0;
    static const char *origins[MAX_ORIGINS];
    static char secret[512];
    static char redis_password[257];
    cw_redis_options redis;
    memset(&redis, 0, sizeof redis);
    const char *env_redis_pw = getenv("CHANWIRE_REDIS_PASSWORD");
    if (env_redis_pw && *env_redis_pw)
        redis.password = env_redis_pw;
    char control[108];
#if defined(CONFIG_CONTROL_SOCKET)
    int use_control = 1;
#else
    int use_control = 0; /* not in this build: --no-control is a no-op */
#endif
    cw_default_control_path(control, sizeof control);
#if defined(CONFIG_JWT)
    const char *env_secret = getenv("CHANWIRE_JWT_SECRET");
#else
    const char *env_secret = NULL; /* no JWT in this build */
#endif
    if (env_secret && *env_secret && strlen(env_secret) < sizeof secret) {
        strcpy(secret, env_secret);
        o.jwt_secret = secret;
        o.jwt_secret_len = strlen(secret);
    }
    int c, bad = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_LISTEN:
            if (nlisten == MAX_LISTEN) {
                fprintf(stderr, "chanwired: at most %d --listen\n", MAX_LISTEN);
                return 2;
            }
            listen[nlisten++] = optarg;
            break;
        case O_LOG: bad |= parse_level(optarg, &o.log_level); break;
        case O_SYSLOG: o.use_syslog = 1; break;
        case O_MAXC: bad |= parse_uint("--max-conns", optarg, &o.max_conns); break;
        case O_MAXM: bad |= parse_uint("--max-message", optarg, &o.max_message); break;
        case O_SENDQ: bad |= parse_uint("--sendq-max", optarg, &o.sendq_max); break;
        case O_HS: bad |= parse_uint("--handshake-timeout", optarg, &o.handshake_timeout_ms); break;
        case O_PING: bad |= parse_uint("--ping-interval", optarg, &o.ping_interval_ms); break;
        case O_PONG: bad |= parse_uint("--pong-timeout", optarg, &o.pong_timeout_ms); break;
        case O_CLOSE: bad |= parse_uint("--close-timeout", optarg, &o.close_timeout_ms); break;
        case O_SHUT: bad |= parse_uint("--shutdown-timeout", optarg, &o.shutdown_timeout_ms); break;
        case O_TLSCERT: tls_cert = optarg; break;
        case O_TLSMAX: bad |= parse_uint("--tls-max-sessions", optarg, &o.tls_max_sessions); break;
        case O_TLSARENA: bad |= parse_uint("--tls-arena", optarg, &o.tls_arena_bytes); break;
        case O_TLSKEY: tls_key = optarg; break;
        case O_LISTENTLS:
            if (nlisten_tls == MAX_LISTEN) {
                fprintf(stderr, "chanwired: at most %d --listen-tls\n", MAX_LISTEN);
                return 2;
            }
            listen_tls[nlisten_tls++] = optarg;
            break;
#if defined(CONFIG_STATIC_FILES)
        case O_WWW: o.www_dir = optarg; break;
#endif
        case O_ORIGIN:
            if (o.nallow_origins == MAX_ORIGINS) {
                fprintf(stderr, "chanwired: at most %d --allow-origin\n", MAX_ORIGINS);
                return 2;
            }
            origins[o.nallow_origins++] = optarg;
            o.allow_origins = origins;
            break;
#if defined(CONFIG_JWT)
        case O_JWTFILE:
            if (read_secret(optarg, secret, sizeof secret, &o.jwt_secret_len) < 0)
                return 2;
            o.jwt_secret = secret;
            break;
        case O_JWTID: o.jwt_id_claim = optarg; break;
        case O_JWTNAME: o.jwt_name_claim = optarg; break;
        case O_JWTCOOKIE: o.jwt_cookie = optarg; break;
        case O_JWTQUERY: o.jwt_query = optarg; break;
#endif
#if defined(CONFIG_CONTROL_SOCKET)
        case O_CONTROL: snprintf(control, sizeof control, "%s", optarg); break;
#endif
        case O_NOCONTROL: use_control = 0; break;
        case O_NOSTATS: o.stats_endpoint = 0; break;
        case O_MAXGROUPS: bad |= parse_uint("--max-groups", optarg, &o.max_groups); break;
        case O_MAXMEMBERS:
            bad |= parse_uint("--max-memberships", optarg, &o.max_memberships);
            break;
        case O_USER: run_user = optarg; break;
        case O_CHROOT: chroot_dir = optarg; break;
        case O_ALLOWROOT: allow_root = 1; break;
        case O_REDIS: redis.addr = optarg; break;
        case O_REDISPREFIX: redis.prefix = optarg; break;
        case O_REDISUSER: redis.username = optarg; break;
        case O_REDISPASS: redis.password = optarg; break;
        case O_REDISPASSFILE:
            if (read_password(optarg, redis_password, sizeof redis_password) < 0)
                return 2;
            redis.password = redis_password;
            break;
        case O_HELP: fputs(usage, stdout); return 0;
        case O_VERSION: printf("chanwired %s\n", CW_VERSION); return 0;
        case ':':
            fprintf(stderr, "chanwired: %s needs a value (try --help)\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "chanwired: unknown option '%s' (try --help)\n", argv[optind - 1]);
            return 2;
        }
        if (bad)
            return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "chanwired: unexpected argument '%s' (try --help)\n", argv[optind]);
        return 2;
    }
    if (!redis.addr && (redis.prefix || redis.username ||
                        (redis.password && redis.password != env_redis_pw))) {
        fprintf(stderr, "chanwired: --redis-prefix, --redis-user and --redis-password need "
                "--redis\n");
        return 2;
    }
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
        for (int i = 0; i < nlisten; i++)
            listen_tls[nlisten_tls++] = listen[i];
        nlisten = 0;
        if (nlisten_tls == 0)
            listen_tls[nlisten_tls++] = "127.0.0.1:8443";
    }
    if (nlisten == 0 && nlisten_tls == 0)
        listen[nlisten++] = "127.0.0.1:8080";
    /* Least privilege: root only to bind, then --user; root throughout
     * only when asked for in so many words. */
    if (cw_running_as_root() && !run_user && !allow_root) {
        fprintf(stderr, "chanwired: refusing to run as root: give --user NAME (root is dropped "
                "after binding) or --allow-root\n");
        return 2;
    }
    if (run_user && !cw_running_as_root()) {
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

    o.routes = cw_demo_routes(&o.nroutes);
    cw_server *srv = cw_server_init(&o);
    if (!srv) {
        fprintf(stderr, "chanwired: cannot start (see the log above)\n");
        return 1;
    }
#if defined(CONFIG_CONTROL_SOCKET)
    if (use_control) {
        char err[160];
        if (cw_control_listen(srv, control, err, sizeof err) != 0) {
            fprintf(stderr, "chanwired: %s\n", err);
            return 1;
        }
        cw_log(2, "control socket %s", control);
    }
#else
    (void)use_control;
#endif
    if (redis.addr) {
        char err[200];
        if (cw_redis_layer(srv, &redis, err, sizeof err) != 0) {
            fprintf(stderr, "chanwired: %s\n", err);
            cw_server_fini(srv);
            return 1;
        }
    }
    if (tls_cert) {
        char err[300];
        if (cw_tls_setup(srv, tls_cert, tls_key, err, sizeof err) != 0) {
            fprintf(stderr, "chanwired: %s\n", err);
            cw_server_fini(srv);
            return 1;
        }
    }
    for (int i = 0; i < nlisten + nlisten_tls; i++) {
        char err[160];
        int tls = i >= nlisten;
        const char *addr = tls ? listen_tls[i - nlisten] : listen[i];
        int rc = tls ? cw_listen_tls(srv, addr, err, sizeof err) : cw_listen(srv, addr, err, sizeof err);
        if (rc != 0) {
            fprintf(stderr, "chanwired: %s\n", err);
            cw_server_fini(srv); /* removes the control socket again */
            return 1;
        }
        cw_log(2, "listening on %s (port %d)%s", addr, cw_listen_port(srv, (unsigned)i),
               tls ? " with TLS" : "");
    }
    if (run_user || chroot_dir) {
        char err[200];
        if (cw_drop_privileges(srv, run_user, chroot_dir, err, sizeof err) != 0) {
            fprintf(stderr, "chanwired: %s\n", err);
            cw_server_fini(srv);
            return 1;
        }
    }
    int rc = cw_run(srv);
    cw_server_fini(srv);
    return rc == 0 ? 0 : 1;
}
