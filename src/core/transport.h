/* SPDX-License-Identifier: MIT */
/* transport.h: the byte stream under a connection: plain TCP, or TLS on
 * the same socket (core/tls.c), behind one small interface of inline calls.
 * The connection state machine calls only these, so it has no TLS branch
 * of its own, and in a build without CONFIG_TLS each call is the plain
 * socket call (or a constant) and the TLS paths compile away. */
#ifndef CW_TRANSPORT_H
#define CW_TRANSPORT_H

#include "chanwire.h"
#include "core/reactor.h"
#include "cw_config.h"
#include "port.h"

#include <sys/types.h>
#include <sys/uio.h>

#if defined(CONFIG_TLS)
#include "core/tls.h"
#endif

/* The socket as the reactor sees it and, on a TLS listener's connections,
 * its session. Without TLS it is exactly the reactor's cw_io. */
typedef struct cw_transport {
    struct cw_io io;
#if defined(CONFIG_TLS)
    struct cw_tls *tls; /* NULL: plain TCP */
#endif
} cw_transport;

/* What cw_transport_handshake says. */
enum {
    CW_TRANSPORT_READY = 0,      /* bytes flow: read and write */
    CW_TRANSPORT_WAIT = 1,       /* handshake under way: wait for the socket */
    CW_TRANSPORT_PLAIN_HTTP = 2, /* plain HTTP on a TLS port: the session is gone, answer in plain text */
    CW_TRANSPORT_FAILED = -1     /* handshake failed (logged) */
};

/* Sets t up for socket fd (registered with the reactor by the caller);
 * secure: it came from a TLS listener. CW_ENOMEM when no TLS session or
 * arena memory is left (the caller refuses the connection). */
static inline int cw_transport_open(cw_transport *t, int fd, int secure)
{
#if defined(CONFIG_TLS)
    t->tls = NULL;
    if (secure && cw_tls_open(&t->tls, fd) < 0)
        return CW_ENOMEM;
#else
    (void)t, (void)fd, (void)secure;
#endif
    return 0;
}

/* Ends the session (not the socket), without a close_notify. */
static inline void cw_transport_close(cw_transport *t)
{
#if defined(CONFIG_TLS)
    cw_tls_close(t->tls);
    t->tls = NULL;
#else
    (void)t;
#endif
}

/* 1 when the handshake has nothing (more) to do: bytes may flow. */
static inline int cw_transport_ready(const cw_transport *t)
{
#if defined(CONFIG_TLS)
    return !t->tls || cw_tls_done(t->tls);
#else
    (void)t;
    return 1;
#endif
}

/* Drives the handshake before any application byte; peer names the client
 * in log lines. A plain socket is always READY. */
static inline int cw_transport_handshake(cw_transport *t, const cw_port_peer *peer)
{
#if defined(CONFIG_TLS)
    if (cw_transport_ready(t))
        return CW_TRANSPORT_READY;
    char name[64];
    cw_port_peer_format(peer, name, sizeof name);
    int rc = cw_tls_handshake(t->tls, name);
    if (rc == CW_TLS_PLAIN_HTTP) {
        cw_transport_close(t);
        return CW_TRANSPORT_PLAIN_HTTP;
    }
    return rc < 0 ? CW_TRANSPORT_FAILED : rc == 0 ? CW_TRANSPORT_READY : CW_TRANSPORT_WAIT;
#else
    (void)t, (void)peer;
    return CW_TRANSPORT_READY;
#endif
}

/* Like recv: bytes, 0 at EOF, -1 with errno (EAGAIN: wait). */
static inline ssize_t cw_transport_recv(cw_transport *t, void *buf, size_t len)
{
#if defined(CONFIG_TLS)
    if (t->tls)
        return cw_tls_recv(t->tls, buf, len);
#endif
    return cw_port_recv(t->io.fd, buf, len);
}

/* Like writev: bytes taken, or -1 with errno (EAGAIN: wait). */
static inline ssize_t cw_transport_sendv(cw_transport *t, const struct iovec *iov, int n)
{
#if defined(CONFIG_TLS)
    if (t->tls)
        return cw_tls_sendv(t->tls, iov, n);
#endif
    return cw_port_sendv(t->io.fd, iov, n);
}

/* Nothing more will be sent: close_notify on TLS, then the TCP FIN. */
static inline void cw_transport_shutdown(cw_transport *t)
{
#if defined(CONFIG_TLS)
    if (t->tls)
        cw_tls_close_notify(t->tls);
#endif
    cw_port_shutdown_wr(t->io.fd);
}

/* The last operation needs the socket writable (a TLS handshake flight or
 * a record that went out in part). */
static inline int cw_transport_wants_write(const cw_transport *t)
{
#if defined(CONFIG_TLS)
    return t->tls && cw_tls_wants_write(t->tls);
#else
    (void)t;
    return 0;
#endif
}

/* Received bytes already decrypted and waiting where the poller cannot see
 * them: read again without waiting for readiness. */
static inline int cw_transport_pending(cw_transport *t)
{
#if defined(CONFIG_TLS)
    return t->tls && cw_tls_done(t->tls) && cw_tls_pending(t->tls);
#else
    (void)t;
    return 0;
#endif
}

/* 1 when the kernel may copy a file straight to the socket (sendfile):
 * not through TLS, whose records are written here. */
static inline int cw_transport_can_sendfile(const cw_transport *t)
{
#if defined(CONFIG_TLS)
    return t->tls == NULL;
#else
    (void)t;
    return 1;
#endif
}

#endif
