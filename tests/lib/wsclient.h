/* SPDX-License-Identifier: MIT */
/* wsclient.h: the project's own WebSocket client, for byte-exact tests and
 * the load generator. Three layers, each usable alone: a pure codec over
 * caller buffers; a connection (non-blocking socket + the caller's receive
 * buffer) with poll-based timeouts and expect helpers; and the daemon under
 * test (start on a free port, log kept in a file, stop with SIGTERM).
 * Nothing here allocates; SHA-1 and base64 are written here, independently
 * of the server's, so a wrong accept key cannot agree with itself. */
#ifndef CW_WSCLIENT_H
#define CW_WSCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Return codes. 0 is success; functions that count return >= 0. */
enum {
    CW_WSC_EOF = -1,       /* the peer closed its side (FIN) */
    CW_WSC_ETIMEOUT = -2,  /* nothing (enough) arrived or left in time */
    CW_WSC_ERESET = -3,    /* connection reset (ECONNRESET, EPIPE) */
    CW_WSC_ESYS = -4,      /* another OS error; see errno and c->err */
    CW_WSC_EPROTO = -5,    /* the server broke RFC 6455 / HTTP; see c->err */
    CW_WSC_ESPACE = -6,    /* a caller buffer is too small */
    CW_WSC_EMISMATCH = -7, /* an expect_* helper saw something else; c->err says what */
    CW_WSC_ECLOSED = -8    /* a close frame arrived (c->close_code, c->close_reason) */
};

/* Opcodes and a few close codes, as RFC 6455 numbers them. */
enum {
    CW_WSC_CONT = 0x0,
    CW_WSC_TEXT = 0x1,
    CW_WSC_BINARY = 0x2,
    CW_WSC_CLOSE = 0x8,
    CW_WSC_PING = 0x9,
    CW_WSC_PONG = 0xA
};
#define CW_WSC_NO_STATUS 1005 /* close frame with an empty payload */
#define CW_WSC_MAX_HEADER 14
#define CW_WSC_KEY_LEN 24    /* base64 of 16 bytes */
#define CW_WSC_ACCEPT_LEN 28 /* base64 of a SHA-1 */

/* ---------------------------------------------------------------------
 * Pure codec: no I/O, no state.
 * ------------------------------------------------------------------- */

/* A parsed frame header; payload is set once the whole frame is present. */
typedef struct {
    uint64_t len;           /* payload length */
    const uint8_t *payload; /* as on the wire (still masked if masked) */
    size_t hdr_len;         /* 2..14; 0 while the header is incomplete */
    uint8_t opcode;
    uint8_t fin;
    uint8_t rsv;            /* RSV1..3 as bits 2..0 (RSV1 = 4) */
    uint8_t masked;
    uint8_t mask[4];
} cw_wsc_frame;

/* Bytes a frame of `len` payload bytes takes on the wire. */
size_t cw_wsc_frame_size(uint64_t len, int masked);
/* Writes a header with the shortest length form; mask NULL = unmasked.
 * rsv: bits 2..0 = RSV1..RSV3. Returns its length (2..14). */
size_t cw_wsc_encode_header(uint8_t out[CW_WSC_MAX_HEADER], unsigned opcode, int fin, unsigned rsv,
                            uint64_t len, const uint8_t *mask);
/* Header + payload (masked with `mask` unless NULL) into out[0..cap).
 * Returns the frame length, or 0 when cap is too small. */
size_t cw_wsc_encode(uint8_t *out, size_t cap, unsigned opcode, int fin, unsigned rsv,
                     const void *payload, size_t len, const uint8_t *mask);
/* XORs p[0..n) with key, starting at key position offset (any value). */
void cw_wsc_mask(uint8_t *p, size_t n, const uint8_t key[4], size_t offset);
/* Parses the frame at p[0..n). Returns 1 when it is all there (f->payload
 * set; frame length = f->hdr_len + f->len), 0 when more bytes are needed
 * (f->hdr_len and f->len already set once the header is complete), or
 * CW_WSC_EPROTO for a 64-bit length with its top bit set. It judges
 * nothing else: opcode, RSV and mask are the caller's to check. */
int cw_wsc_decode(const uint8_t *p, size_t n, cw_wsc_frame *f);
/* Close payload: 2-byte code + reason; code < 0 gives an empty payload.
 * Returns its length (reason truncated to 123 bytes). */
size_t cw_wsc_close_payload(uint8_t out[125], int code, const char *reason);
/* Reads a close payload: *code is 1005 when empty; -1 for length 1.
 * *reason points into p. */
void cw_wsc_close_parse(const uint8_t *p, size_t n, int *code, const uint8_t **reason,
                        size_t *rlen);

/* SHA-1 and base64, for the handshake. */
void cw_wsc_sha1(const void *data, size_t len, uint8_t out[20]);
size_t cw_wsc_base64(const uint8_t *in, size_t n, char *out); /* writes 4*ceil(n/3)+1 (NUL) */
/* Sec-WebSocket-Accept for a key: out gets 28 characters and a NUL. */
void cw_wsc_accept_for(const char *key, char out[CW_WSC_ACCEPT_LEN + 1]);
/* An opening handshake request. extra_headers: complete "Name: v\r\n"
 * lines or NULL. Returns its length, or 0 when cap is too small. */
size_t cw_wsc_request(char *out, size_t cap, const char *path, const char *host, const char *key,
                      const char *extra_headers);
/* Looks for a complete response head in p[0..n): returns its length
 * (through the blank line), 0 when incomplete, CW_WSC_EPROTO when the
 * status line is malformed. *status gets the status code. */
int cw_wsc_response_head(const char *p, size_t n, int *status);
/* Finds header `name` (case-insensitive) in a response head; returns a
 * pointer to its value (spaces trimmed) and its length, or NULL. */
const char *cw_wsc_header(const char *head, size_t n, const char *name, size_t *vlen);

/* ---------------------------------------------------------------------
 * A client connection. Fill with cw_wsc_init, then connect.
 * ------------------------------------------------------------------- */

typedef struct cw_wsc {
    int fd;
    int port;          /* the server's, for the Host header */
    int timeout_ms;    /* for every blocking call without its own timeout */
    int auto_pong;     /* recv_message / expect_message answer pings (default 1) */
    int rcvbuf;        /* SO_RCVBUF / SO_SNDBUF set before connect when > 0 */
    int sndbuf;
    uint8_t source;    /* > 0: connect from 127.0.0.<source> (another client address) */
    size_t chunk;      /* > 0: send_raw (and all sends) write at most this per send() */
    unsigned gap_us;   /* ... sleeping this long between chunks */
    int http_status;   /* status of the last response head read */
    int close_code;    /* of the last close frame received; 1005 empty; 0 none */
    char close_reason[124];
    uint8_t *buf;      /* the caller's receive buffer: bytes buf[head..tail) wait */
    size_t cap, head, tail;
    uint64_t rng;      /* mask keys and handshake keys */
    uint64_t bytes_in, bytes_out;
    char err[240];     /* the last failure, in words */
} cw_wsc;

/* Sets defaults (timeout 5 s scaled by cw_wsc_slow(), auto_pong on). buf
 * must hold the largest frame the caller expects (header included). */
void cw_wsc_init(cw_wsc *c, uint8_t *buf, size_t cap);
/* Seeds the mask/key generator (default: from pid, time and address). */
void cw_wsc_seed(cw_wsc *c, uint64_t seed);
void cw_wsc_random(cw_wsc *c, uint8_t *out, size_t n);

/* TCP connect to 127.0.0.1:port (blocking with c->timeout_ms), then the
 * socket is non-blocking with TCP_NODELAY. */
int cw_wsc_connect(cw_wsc *c, int port);
/* The same in two steps for event loops: start (0, connection under way),
 * wait for the fd to be writable, then check (0 connected, or an error;
 * the socket is closed on errors). */
int cw_wsc_connect_start(cw_wsc *c, int port);
int cw_wsc_connect_check(cw_wsc *c);
/* Sends the opening handshake for path (extra header lines allowed) and
 * checks 101, Upgrade, Connection and Sec-WebSocket-Accept. Bytes after
 * the head stay buffered. On a non-101 answer returns CW_WSC_EMISMATCH
 * with c->http_status set. */
int cw_wsc_handshake(cw_wsc *c, const char *path, const char *extra_headers);
/* The same in two steps for event loops: send the request (key gets the
 * Sec-WebSocket-Key), then after each read_some, check: 1 when the head
 * was complete and right (consumed from the buffer), 0 when more bytes
 * are needed, or an error as cw_wsc_handshake gives. */
int cw_wsc_handshake_send(cw_wsc *c, const char *path, const char *extra_headers,
                          char key[CW_WSC_KEY_LEN + 1]);
int cw_wsc_handshake_check(cw_wsc *c, const char *key);
/* connect + handshake. */
int cw_wsc_open(cw_wsc *c, int port, const char *path);
/* Sends a raw request and reads the response head; returns the status
 * (>= 100) or a negative code. head (may be NULL) gets a NUL-terminated
 * copy of the head. */
int cw_wsc_http(cw_wsc *c, const void *req, size_t len, char *head, size_t head_cap);
/* Closes the socket (FIN); with abort, SO_LINGER 0 first (RST). */
void cw_wsc_close_socket(cw_wsc *c, int abort);

/* Sending. All bytes, or an error; blocking up to c->timeout_ms. Every
 * send goes through send_raw, so c->chunk/c->gap_us chop everything. */
int cw_wsc_send_raw(cw_wsc *c, const void *p, size_t n);
/* Each chunk of at most `chunk` bytes in its own send(), gap_us apart. */
int cw_wsc_send_chunked(cw_wsc *c, const void *p, size_t n, size_t chunk, unsigned gap_us);
/* A masked frame with a fresh random key and RSV 0. */
int cw_wsc_send_frame(cw_wsc *c, unsigned opcode, int fin, const void *p, size_t n);
/* Any header bits; mask NULL = a random key (to send unmasked, encode
 * with cw_wsc_encode and use cw_wsc_send_raw). */
int cw_wsc_send_frame_ex(cw_wsc *c, unsigned opcode, int fin, unsigned rsv, const void *p,
                         size_t n, const uint8_t *mask);
/* A close frame; code < 0 sends an empty payload. */
int cw_wsc_send_close(cw_wsc *c, int code, const char *reason);

/* Non-blocking primitives (for poll/epoll loops). write_some returns the
 * bytes written (0: would block); read_some the bytes read (0: would
 * block), CW_WSC_EOF, CW_WSC_ESPACE (buffer full of one unfinished
 * frame) or an error. next_frame takes one whole frame from the buffer:
 * 1 (f->payload valid until the next read), 0 (needs more), or an error. */
ssize_t cw_wsc_write_some(cw_wsc *c, const void *p, size_t n);
int cw_wsc_read_some(cw_wsc *c);
int cw_wsc_next_frame(cw_wsc *c, cw_wsc_frame *f);
/* Bytes buffered but not yet taken as frames. */
size_t cw_wsc_pending(const cw_wsc *c);

/* Blocking receive of the next frame, whatever it is: 0, CW_WSC_EOF,
 * CW_WSC_ETIMEOUT, CW_WSC_ERESET, ... (timeout_ms < 0: c->timeout_ms). */
int cw_wsc_recv(cw_wsc *c, cw_wsc_frame *f, int timeout_ms);
/* A whole message (fragments joined) into out[0..cap): 0 with *op and
 * *len; pongs are skipped, pings answered when auto_pong; a close frame
 * gives CW_WSC_ECLOSED with c->close_code/close_reason. */
int cw_wsc_recv_message(cw_wsc *c, int *op, uint8_t *out, size_t cap, size_t *len);

/* Expectations: 0 when met, else a negative code and c->err in words.
 * Server frames must be unmasked, with RSV 0 and the shortest length
 * form, or these (and recv_message) fail with CW_WSC_EPROTO. */
int cw_wsc_expect_message(cw_wsc *c, unsigned opcode, const void *data, size_t len);
int cw_wsc_echo(cw_wsc *c, unsigned opcode, const void *data, size_t len); /* send + expect */
int cw_wsc_expect_pong(cw_wsc *c, const void *data, size_t len);
/* The next frame is a close with this code (-1: any; 1005: empty). */
int cw_wsc_expect_close(cw_wsc *c, int code);
/* The peer closes the connection (FIN or reset) with no frame first. */
int cw_wsc_expect_eof(cw_wsc *c);
/* Nothing arrives for ms milliseconds. */
int cw_wsc_expect_silence(cw_wsc *c, int ms);
/* Sends close(code), expects the echoed code, then EOF. */
int cw_wsc_close_handshake(cw_wsc *c, int code);

/* ---------------------------------------------------------------------
 * The daemon under test.
 * ------------------------------------------------------------------- */

typedef struct cw_wsc_daemon {
    pid_t pid;      /* 0 when not running */
    int port;
    int log_fd;     /* an unlinked temporary file holding stdout+stderr */
    int status;     /* after wait: see cw_wsc_daemon_wait */
} cw_wsc_daemon;

/* Timeouts stretch under emulation: $CW_SLOW, else 3 with a
 * $CW_EXEC_PREFIX, else 1. cw_wsc_ms(ms) applies it. */
double cw_wsc_slow(void);
int cw_wsc_ms(int ms);
/* Starts $CW_EXEC_PREFIX binary --listen 127.0.0.1:0 [--log-level debug]
 * args... (binary NULL: $CW_DAEMON; args NULL-terminated or NULL) and
 * waits for "listening on ... (port N)". Returns 0, or -1 with the reason
 * and the log on stderr. The daemon dies with the test (PDEATHSIG). */
int cw_wsc_daemon_start(cw_wsc_daemon *d, const char *binary, const char *const *args);
int cw_wsc_daemon_signal(cw_wsc_daemon *d, int sig);
/* Waits for exit: returns the exit code (0..255), 256 + signal number when
 * killed by a signal, or CW_WSC_ETIMEOUT (still running). */
int cw_wsc_daemon_wait(cw_wsc_daemon *d, int timeout_ms);
/* SIGTERM + wait; SIGKILL on timeout (returns CW_WSC_ETIMEOUT then). */
int cw_wsc_daemon_stop(cw_wsc_daemon *d, int timeout_ms);
int cw_wsc_daemon_alive(cw_wsc_daemon *d);
/* The log so far (the last cap-1 bytes when longer), NUL-terminated;
 * returns its length. */
size_t cw_wsc_daemon_log(const cw_wsc_daemon *d, char *out, size_t cap);
/* 1 when the log contains needle. */
int cw_wsc_daemon_log_has(const cw_wsc_daemon *d, const char *needle);
/* Prints the log's last max_bytes to stderr, indented (failure messages). */
void cw_wsc_daemon_dump(const cw_wsc_daemon *d, size_t max_bytes);
/* Closes the log file (after stop). */
void cw_wsc_daemon_release(cw_wsc_daemon *d);

#endif
