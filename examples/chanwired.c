/* chanwired.c: the chanwire daemon. Parses flags, listens, and serves the
 * demo consumers; everything else is the library. */
#include "chanwire.h"
#include "consumers.h"
#include "ctlpath.h"

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
    "  --www DIR               serve DIR's files over HTTP GET/HEAD on the same port\n"
    "  --allow-origin ORIGIN   also accept browsers from ORIGIN (repeatable; \"*\" any)\n"
    "  --jwt-secret-file FILE  verify HS256 tokens with the secret in FILE (or set\n"
    "                          $CHANWIRE_JWT_SECRET); without it /ws/users/ answers 401\n"
    "  --jwt-id-claim NAME     claim holding the user id (default user_id)\n"
    "  --jwt-name-claim NAME   claim holding the user name (default username)\n"
    "  --jwt-cookie NAME       cookie that may carry the token (default jwt)\n"
    "  --jwt-query NAME        query parameter that may carry it (default token)\n"
    "  --control PATH          control socket for chanwire-send (default $CHANWIRE_SOCKET,\n"
    "                          else /run/chanwired.sock as root, /tmp/chanwired-UID.sock)\n"
    "  --no-control            no control socket\n"
    "  --help                  this text\n"
    "  --version               print the version\n"
    "Routes: /ws/echo/ (echo), /ws/chat/<room>/ (the Channels tutorial chat),\n"
    "/ws/users/ (signed-in presence; needs a token).\n";

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

static int parse_uint(const char *flag, const char *s, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || s[0] == '-' || v > 0xFFFFFFFFul) {
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
           O_JWTCOOKIE, O_JWTQUERY, O_CONTROL, O_NOCONTROL };
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
        {"www", required_argument, 0, O_WWW},
        {"allow-origin", required_argument, 0, O_ORIGIN},
        {"jwt-secret-file", required_argument, 0, O_JWTFILE},
        {"jwt-id-claim", required_argument, 0, O_JWTID},
        {"jwt-name-claim", required_argument, 0, O_JWTNAME},
        {"jwt-cookie", required_argument, 0, O_JWTCOOKIE},
        {"jwt-query", required_argument, 0, O_JWTQUERY},
        {"control", required_argument, 0, O_CONTROL},
        {"no-control", no_argument, 0, O_NOCONTROL},
        {"help", no_argument, 0, O_HELP},
        {"version", no_argument, 0, O_VERSION},
        {0, 0, 0, 0}};
    cw_options o;
    cw_options_init(&o);
    o.log_ident = "chanwired";
    const char *listen[MAX_LISTEN];
    int nlisten = 0;
    static const char *origins[MAX_ORIGINS];
    static char secret[512];
    char control[108];
    int use_control = 1;
    cw_default_control_path(control, sizeof control);
    const char *env_secret = getenv("CHANWIRE_JWT_SECRET");
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
        case O_WWW: o.www_dir = optarg; break;
        case O_ORIGIN:
            if (o.nallow_origins == MAX_ORIGINS) {
                fprintf(stderr, "chanwired: at most %d --allow-origin\n", MAX_ORIGINS);
                return 2;
            }
            origins[o.nallow_origins++] = optarg;
            o.allow_origins = origins;
            break;
        case O_JWTFILE:
            if (read_secret(optarg, secret, sizeof secret, &o.jwt_secret_len) < 0)
                return 2;
            o.jwt_secret = secret;
            break;
        case O_JWTID: o.jwt_id_claim = optarg; break;
        case O_JWTNAME: o.jwt_name_claim = optarg; break;
        case O_JWTCOOKIE: o.jwt_cookie = optarg; break;
        case O_JWTQUERY: o.jwt_query = optarg; break;
        case O_CONTROL: snprintf(control, sizeof control, "%s", optarg); break;
        case O_NOCONTROL: use_control = 0; break;
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
    if (nlisten == 0)
        listen[nlisten++] = "127.0.0.1:8080";

    o.routes = cw_demo_routes(&o.nroutes);
    cw_server *srv = cw_server_init(&o);
    if (!srv) {
        fprintf(stderr, "chanwired: cannot start (see the log above)\n");
        return 1;
    }
    if (use_control) {
        char err[160];
        if (cw_control_listen(srv, control, err, sizeof err) != 0) {
            fprintf(stderr, "chanwired: %s\n", err);
            return 1;
        }
        cw_log(2, "control socket %s", control);
    }
    for (int i = 0; i < nlisten; i++) {
        char err[160];
        if (cw_listen(srv, listen[i], err, sizeof err) != 0) {
            fprintf(stderr, "chanwired: %s\n", err);
            cw_server_fini(srv); /* removes the control socket again */
            return 1;
        }
        cw_log(2, "listening on %s (port %d)", listen[i], cw_listen_port(srv, (unsigned)i));
    }
    int rc = cw_run(srv);
    cw_server_fini(srv);
    return rc == 0 ? 0 : 1;
}
