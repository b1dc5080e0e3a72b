/* SPDX-License-Identifier: MIT */
/* tls.h: wss:// and HTTPS through mbedTLS (2.28 or 3.x), as a transport
 * under the connection state machine: non-blocking handshake and record I/O
 * on the connection's socket, want-read/want-write reported so the poller
 * interest follows, all memory from the TLS arena and a fixed context pool. */
#ifndef CW_TLS_H
#define CW_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct cw_tls;

/* Loads certificate chain and key (PEM or DER). Sessions and arena bytes
 * are capped at the given values (0 or more than the build's: the build's).
 * On failure err holds one line naming the file and what is wrong. */
int cw_tls_init(const char *cert_file, const char *key_file, unsigned max_sessions,
                size_t arena_bytes, char *err, size_t errlen);
/* Loads the same files again (SIGHUP); new connections use the new ones,
 * open connections keep theirs. 0, or -1 with err (the old pair stays). */
int cw_tls_reload(char *err, size_t errlen);
void cw_tls_fini(void);

/* A TLS session on an accepted socket. CW_ENOMEM when the context pool or
 * the arena is exhausted (the caller closes the socket). */
int cw_tls_open(struct cw_tls **out, int fd);
void cw_tls_close(struct cw_tls *t);

/* Drives the handshake: 0 when complete, 1 to wait for the socket (see
 * cw_tls_wants_write), CW_TLS_PLAIN_HTTP when the client's first bytes are
 * plain HTTP ("GET ...") so the caller can answer 400 in plain text, -1
 * when it failed (logged). */
#define CW_TLS_PLAIN_HTTP 2
int cw_tls_handshake(struct cw_tls *t, const char *peer);
int cw_tls_done(const struct cw_tls *t);
/* Like recv/writev on the socket: bytes, 0 at EOF (close_notify or FIN),
 * -1 with errno EAGAIN (wait: see cw_tls_wants_write) or ECONNRESET. */
ssize_t cw_tls_recv(struct cw_tls *t, void *buf, size_t len);
ssize_t cw_tls_sendv(struct cw_tls *t, const struct iovec *iov, int iovcnt);
/* Decrypted bytes already buffered: read again without waiting. */
int cw_tls_pending(struct cw_tls *t);
/* The last operation needs the socket writable (handshake or record). */
int cw_tls_wants_write(const struct cw_tls *t);
/* Sends close_notify (best effort). */
void cw_tls_close_notify(struct cw_tls *t);

/* One line per figure for stats: sessions, arena use (nothing before
 * cw_tls_init). */
size_t cw_tls_report(char *out, size_t cap);

#endif
