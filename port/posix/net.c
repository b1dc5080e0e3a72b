/* SPDX-License-Identifier: MIT */
/* net.c: socket setup and I/O for the core. Numeric addresses only (no DNS
 * at start-up), every socket non-blocking and close-on-exec, and no call
 * here can raise SIGPIPE. */
#define _GNU_SOURCE
#include "port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* SIGPIPE is ignored process-wide as well */
#endif

static int parse_port(const char *s, unsigned *port)
{
    char *end;
    if (!*s)
        return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || v > 65535 || s[0] == '-' || s[0] == '+')
        return -1;
    *port = (unsigned)v;
    return 0;
}

/* Fills ss from "1.2.3.4:80", "[::1]:80", "*:80", "localhost:80". */
static int parse_addr(const char *ap, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[64];
    const char *port_s;
    memset(ss, 0, sizeof *ss);
    if (ap[0] == '[') {
        const char *close = strchr(ap, ']');
        if (!close || close[1] != ':' || (size_t)(close - ap - 1) >= sizeof host)
            return -1;
        memcpy(host, ap + 1, (size_t)(close - ap - 1));
        host[close - ap - 1] = 0;
        port_s = close + 2;
        unsigned port;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        if (parse_port(port_s, &port) || inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
            return -1;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *len = sizeof *s6;
        return 0;
    }
    const char *colon = strrchr(ap, ':');
    if (!colon || (size_t)(colon - ap) >= sizeof host)
        return -1;
    memcpy(host, ap, (size_t)(colon - ap));
    host[colon - ap] = 0;
    unsigned port;
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    if (parse_port(colon + 1, &port))
        return -1;
    if (strcmp(host, "*") == 0 || host[0] == 0)
        strcpy(host, "0.0.0.0");
    else if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
        return -1;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    *len = sizeof *s4;
    return 0;
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int cw_port_listen(const char *addr_port, int backlog, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_addr(addr_port, &ss, &len) < 0) {
        snprintf(err, errlen, "bad listen address '%s' (want ADDR:PORT or [ADDR6]:PORT)",
                 addr_port);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", addr_port, strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* Linux hands TCP_NODELAY on to every accepted socket: one call here
     * instead of one per connection (set again after accept elsewhere). */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0 || set_flags(fd) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", addr_port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int cw_port_local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    if (ss.ss_family != AF_INET)
        return -1; /* a UNIX socket has no port */
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int cw_port_connect(const char *addr_port, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_addr(addr_port, &ss, &len) < 0) {
        snprintf(err, errlen, "bad address '%s' (want ADDR:PORT or [ADDR6]:PORT)", addr_port);
        errno = EINVAL;
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0 || set_flags(fd) < 0) {
        int e = errno;
        snprintf(err, errlen, "socket: %s", strerror(e));
        if (fd >= 0)
            close(fd);
        errno = e;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* non-blocking: EINTR, like EINPROGRESS, means "finishing in the background" */
    if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS && errno != EINTR) {
        int e = errno;
        snprintf(err, errlen, "connect to %s: %s", addr_port, strerror(e));
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int cw_port_connect_result(int fd)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        return errno;
    return e;
}

static void peer_store(const struct sockaddr_storage *ss, cw_port_peer *peer)
{
    memset(peer, 0, sizeof *peer);
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        memcpy(peer->addr, &s6->sin6_addr, 16);
        peer->port = ntohs(s6->sin6_port);
        peer->family = 6;
    } else if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        memcpy(peer->addr, &s4->sin_addr, 4);
        peer->port = ntohs(s4->sin_port);
        peer->family = 4;
    } else if (ss->ss_family == AF_UNIX) {
        peer->family = CW_PORT_UNIX;
    }
}

void cw_port_peer_format(const cw_port_peer *peer, char *out, size_t cap)
{
    char a[INET6_ADDRSTRLEN];
    if (peer->family == 6) {
        inet_ntop(AF_INET6, peer->addr, a, sizeof a);
        snprintf(out, cap, "[%s]:%u", a, peer->port);
    } else if (peer->family == 4) {
        inet_ntop(AF_INET, peer->addr, a, sizeof a);
        snprintf(out, cap, "%s:%u", a, peer->port);
    } else if (peer->family == CW_PORT_UNIX) {
        snprintf(out, cap, "unix");
    } else {
        snprintf(out, cap, "unknown");
    }
}

int cw_port_accept(int listen_fd, cw_port_peer *peer)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd;
#if defined(__linux__) && defined(SOCK_NONBLOCK)
    do
        fd = accept4(listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    while (fd < 0 && errno == EINTR);
#else
    do
        fd = accept(listen_fd, (struct sockaddr *)&ss, &len);
    while (fd < 0 && errno == EINTR);
    if (fd >= 0 && set_flags(fd) < 0) {
        close(fd);
        return -1;
    }
#endif
    if (fd < 0)
        return -1;
#if !defined(__linux__)
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#endif
    if (peer)
        peer_store(&ss, peer);
    return fd;
}

ssize_t cw_port_recv(int fd, void *buf, size_t len)
{
    ssize_t n;
    do
        n = recv(fd, buf, len, 0);
    while (n < 0 && errno == EINTR);
    return n;
}

ssize_t cw_port_sendv(int fd, const struct iovec *iov, int iovcnt)
{
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = (struct iovec *)(uintptr_t)iov;
    m.msg_iovlen = (__typeof__(m.msg_iovlen))iovcnt; /* size_t in glibc, int in musl */
    ssize_t n;
    do
        n = sendmsg(fd, &m, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
}

ssize_t cw_port_send(int fd, const void *buf, size_t len)
{
    ssize_t n;
    do
        n = send(fd, buf, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
}

ssize_t cw_port_peek(int fd, void *buf, size_t len)
{
    ssize_t n;
    do
        n = recv(fd, buf, len, MSG_PEEK);
    while (n < 0 && errno == EINTR);
    return n;
}

void cw_port_shutdown_wr(int fd)
{
    shutdown(fd, SHUT_WR);
}

void cw_port_close(int fd)
{
    close(fd);
}

/* ---- UNIX control socket ---- */

#include <sys/stat.h>
#include <sys/un.h>

int cw_port_listen_path(const char *path, unsigned mode, int backlog, const char *what, char *err,
                        size_t errlen)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "%s path too long (%zu bytes)", what, strlen(path));
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        /* A socket file is there: if someone answers on it, it is a live
         * daemon's and stays; if not, it is left over from a crash. */
        int probe = socket(AF_UNIX, SOCK_STREAM, 0);
        int alive = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
        if (probe >= 0)
            close(probe);
        if (alive) {
            snprintf(err, errlen, "%s %s is in use by a running daemon", what, path);
            close(fd);
            return -1;
        }
        unlink(path);
    }
    /* Create it with no access at all, then open it up to mode: there is
     * no window where others could connect. */
    mode_t old = umask(0777);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc < 0 || chmod(path, (mode_t)mode) < 0 || listen(fd, backlog) < 0 || set_flags(fd) < 0) {
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int cw_port_listen_unix(const char *path, unsigned mode, char *err, size_t errlen)
{
    return cw_port_listen_path(path, mode, 16, "control socket", err, errlen);
}

int cw_port_peer_cred(int fd, long *uid, long *gid)
{
#if defined(SO_PEERCRED)
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0) {
        *uid = (long)cr.uid;
        *gid = (long)cr.gid;
        return 0;
    }
#endif
    *uid = *gid = -1;
    return -1;
}

void cw_port_self_cred(long *uid, long *gid)
{
    *uid = (long)geteuid();
    *gid = (long)getegid();
}

int cw_port_path_id(const char *path, uint64_t *dev, uint64_t *ino)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return -1;
    *dev = (uint64_t)st.st_dev;
    *ino = (uint64_t)st.st_ino;
    return 0;
}

void cw_port_unlink_if(const char *path, uint64_t dev, uint64_t ino)
{
    struct stat st;
    if (lstat(path, &st) == 0 && (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino)
        unlink(path);
}
