/* SPDX-License-Identifier: MIT */
/* chanwire-send.c: publish to a running chanwired from any process on the
 * device, through its control socket:
 *   chanwire-send GROUP MESSAGE          MESSAGE (JSON) to every socket in GROUP;
 *                                        a JSON object with a "type" key becomes a
 *                                        typed event for the consumers (group_send)
 *   chanwire-send --type T GROUP BODY    a typed event with body BODY
 *   chanwire-send --close GROUP [--code N] [--reason TEXT]
 *   chanwire-send [--type T] --channel NAME BODY   a typed event to one channel
 *                                        (cw_channel_send: a connection's channel
 *                                        name or a worker channel)
 *   chanwire-send --stats
 *   chanwire-send --restart              the daemon restarts with the binary on disk
 * Exit status: 0 when the daemon answered "ok", 1 on its error (or when the
 * socket is not served by root or by us), 2 on usage. */
#define _GNU_SOURCE /* struct ucred */
#include "chanwire.h"
#include "ctlpath.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static const char usage[] =
    "usage: chanwire-send [--socket PATH] GROUP MESSAGE\n"
    "       chanwire-send [--socket PATH] --type TYPE GROUP BODY\n"
    "       chanwire-send [--socket PATH] --close GROUP [--code N] [--reason TEXT]\n"
    "       chanwire-send [--socket PATH] [--type TYPE] --channel NAME BODY\n"
    "       chanwire-send [--socket PATH] --stats\n"
    "       chanwire-send [--socket PATH] --restart\n"
    "MESSAGE goes to every WebSocket in GROUP. A JSON object with a \"type\" key\n"
    "(like a Channels event: {\"type\": \"chat.message\", \"message\": \"hi\"}) is delivered\n"
    "to the consumers' event handlers instead. --channel sends the typed event to one\n"
    "channel (TYPE, else BODY's \"type\"). The socket defaults to $CHANWIRE_SOCKET,\n"
    "else $XDG_RUNTIME_DIR/chanwired.sock when it exists (not for root), else\n"
    "/run/chanwired.sock. Only a socket served by root or by you is talked to.\n"
    "--restart: the daemon restarts with the binary now on disk, keeping its\n"
    "listening sockets (docs/operations.md); \"ok\" once the restart has begun.\n";

/* Finds "type":"..." at the top level of a JSON object, the way the daemon
 * will read it; a cheap scan is enough here, the daemon validates. */
static int json_type(const char *msg, char *out, size_t cap)
{
    const char *k = strstr(msg, "\"type\"");
    if (!k || msg[0] != '{')
        return 0;
    k += 6;
    while (*k == ' ' || *k == ':')
        k++;
    if (*k != '"')
        return 0;
    k++;
    size_t n = 0;
    while (k[n] && k[n] != '"' && n + 1 < cap) {
        out[n] = k[n];
        n++;
    }
    if (k[n] != '"')
        return 0;
    out[n] = 0;
    return n > 0;
}

/* A group or type goes into a space-separated request line: one word,
 * no spaces or control characters, or it would be read as something else. */
static int one_word(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return 0;
    return 1;
}

static int talk(const char *path, const char *head, const char *body, size_t blen)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        fprintf(stderr, "chanwire-send: cannot reach chanwired at %s: %s\n", path, strerror(errno));
        return 1;
    }
    /* Say nothing to a socket someone else may have put there (a name in a
     * shared directory, taken before the daemon): the server must be root
     * or us. Its credentials are the listener's when it called listen(), so
     * a daemon that started as root and dropped to --user counts as root. */
    struct ucred cr;
    socklen_t crlen = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0) {
        fprintf(stderr, "chanwire-send: cannot tell who serves %s: %s\n", path, strerror(errno));
        close(fd);
        return 1;
    }
    if (cr.uid != 0 && cr.uid != geteuid()) {
        fprintf(stderr, "chanwire-send: %s is served by uid %u, not by root or by you (uid %u): "
                "not talking to it\n", path, (unsigned)cr.uid, (unsigned)geteuid());
        close(fd);
        return 1;
    }
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    /* The daemon may refuse the request (and close) before reading all of
     * it: no SIGPIPE, and its answer is still read below. */
    int werr = 0;
    if (send(fd, head, strlen(head), MSG_NOSIGNAL) < 0 ||
        (blen && send(fd, body, blen, MSG_NOSIGNAL) != (ssize_t)blen))
        werr = errno ? errno : EIO;
    char reply[4096];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof reply - 1 && (n = read(fd, reply + got, sizeof reply - 1 - got)) > 0)
        got += (size_t)n;
    close(fd);
    reply[got] = 0;
    if (got == 0) {
        if (werr)
            fprintf(stderr, "chanwire-send: write to %s: %s\n", path, strerror(werr));
        else
            fprintf(stderr, "chanwire-send: no answer from %s\n", path);
        return 1;
    }
    char *last = reply;
    for (char *p = reply; *p; p++)
        if (*p == '\n' && p[1])
            last = p + 1;
    if (strncmp(last, "ok", 2) == 0) {
        if (last != reply)
            fwrite(reply, 1, (size_t)(last - reply), stdout);
        if (last[2] == ' ')
            printf("delivered to %ld connection(s)\n", strtol(last + 3, NULL, 10));
        return 0;
    }
    fprintf(stderr, "chanwire-send: %s", strncmp(last, "error ", 6) == 0 ? last + 6 : last);
    return 1;
}

int main(int argc, char **argv)
{
    enum { O_SOCKET = 256, O_TYPE, O_CLOSE, O_CODE, O_REASON, O_STATS, O_HELP, O_VERSION,
           O_CHANNEL, O_RESTART };
    static const struct option longopts[] = {
        {"socket", required_argument, 0, O_SOCKET}, {"type", required_argument, 0, O_TYPE},
        {"close", no_argument, 0, O_CLOSE},         {"code", required_argument, 0, O_CODE},
        {"reason", required_argument, 0, O_REASON}, {"stats", no_argument, 0, O_STATS},
        {"help", no_argument, 0, O_HELP},           {"version", no_argument, 0, O_VERSION},
        {"channel", required_argument, 0, O_CHANNEL},
        {"restart", no_argument, 0, O_RESTART},
        {0, 0, 0, 0}};
    char path[108];
    const char *type = NULL, *reason = "", *channel = NULL;
    int do_close = 0, do_stats = 0, do_restart = 0, code = 1000, c;
    cw_default_control_path(path, sizeof path, 1);
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_SOCKET: snprintf(path, sizeof path, "%s", optarg); break;
        case O_TYPE: type = optarg; break;
        case O_CLOSE: do_close = 1; break;
        case O_CODE: code = atoi(optarg); break;
        case O_REASON: reason = optarg; break;
        case O_STATS: do_stats = 1; break;
        case O_RESTART: do_restart = 1; break;
        case O_CHANNEL: channel = optarg; break;
        case O_HELP: fputs(usage, stdout); return 0;
        case O_VERSION: printf("chanwire-send %s\n", CW_VERSION); return 0;
        default:
            fprintf(stderr, "chanwire-send: bad option '%s' (try --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    char head[512];
    int rest = argc - optind;
    if (do_stats) {
        return talk(path, "stats\n", NULL, 0);
    }
    if (do_restart)
        return rest ? (fputs(usage, stderr), 2) : talk(path, "restart\n", NULL, 0);
    if (do_close) {
        if (rest != 1 || strchr(reason, '\n') || !one_word(argv[optind])) {
            fputs(usage, stderr);
            return 2;
        }
        snprintf(head, sizeof head, "close %s %d%s%s\n", argv[optind], code, *reason ? " " : "",
                 reason);
        return talk(path, head, NULL, 0);
    }
    if (channel) {
        char ctype[65];
        const char *body = rest == 1 ? argv[optind] : NULL;
        if (!type && body && json_type(body, ctype, sizeof ctype))
            type = ctype;
        if (!body || !type || !one_word(channel) || !one_word(type)) {
            fputs(usage, stderr);
            return 2;
        }
        snprintf(head, sizeof head, "chsend %s %s %zu\n", channel, type, strlen(body));
        return talk(path, head, body, strlen(body));
    }
    if (rest != 2 || !one_word(argv[optind]) || (type && !one_word(type))) {
        fputs(usage, stderr);
        return 2;
    }
    const char *group = argv[optind], *msg = argv[optind + 1];
    char found[65];
    if (!type && json_type(msg, found, sizeof found))
        type = found;
    if (type)
        snprintf(head, sizeof head, "send %s %s %zu\n", group, type, strlen(msg));
    else
        snprintf(head, sizeof head, "broadcast %s %zu\n", group, strlen(msg));
    return talk(path, head, msg, strlen(msg));
}
