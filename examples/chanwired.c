/* chanwired.c: the chanwire daemon. Parses flags, listens, and serves the
 * demo consumers; everything else is the library. */
#include "chanwire.h"
#include "consumers.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LISTEN 16

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
    "  --help                  this text\n"
    "  --version               print the version\n"
    "Routes: /ws/echo/ echoes every text or binary message.\n";

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
           O_CLOSE, O_SHUT, O_HELP, O_VERSION };
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
        {"help", no_argument, 0, O_HELP},
        {"version", no_argument, 0, O_VERSION},
        {0, 0, 0, 0}};
    cw_options o;
    cw_options_init(&o);
    o.log_ident = "chanwired";
    const char *listen[MAX_LISTEN];
    int nlisten = 0;
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
    for (int i = 0; i < nlisten; i++) {
        char err[160];
        if (cw_listen(srv, listen[i], err, sizeof err) != 0) {
            fprintf(stderr, "chanwired: %s\n", err);
            return 1;
        }
        cw_log(2, "listening on %s (port %d)", listen[i], cw_listen_port(srv, (unsigned)i));
    }
    int rc = cw_run(srv);
    cw_server_fini(srv);
    return rc == 0 ? 0 : 1;
}
