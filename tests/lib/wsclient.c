/* SPDX-License-Identifier: MIT */
/* wsclient.c: the test and load-generator WebSocket client: a pure codec,
 * poll-based connection helpers over the caller's buffer, and the daemon
 * under test. No allocation; SHA-1/base64 are this file's own. */
#define _GNU_SOURCE
#include "wsclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ==================================================================== */
/* Pure codec                                                           */
/* ==================================================================== */

size_t cw_wsc_frame_size(uint64_t len, int masked)
{
    size_t h = len < 126 ? 2 : len < 65536 ? 4 : 10;
    return h + (masked ? 4 : 0) + (size_t)len;
}

size_t cw_wsc_encode_header(uint8_t out[CW_WSC_MAX_HEADER], unsigned opcode, int fin, unsigned rsv,
                            uint64_t len, const uint8_t *mask)
{
    size_t n = 2;
    out[0] = (uint8_t)((fin ? 0x80u : 0u) | ((rsv & 7u) << 4) | (opcode & 0xFu));
    uint8_t m = mask ? 0x80 : 0;
    if (len < 126) {
        out[1] = (uint8_t)(m | len);
    } else if (len < 65536) {
        out[1] = (uint8_t)(m | 126);
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        n = 4;
    } else {
        out[1] = (uint8_t)(m | 127);
        for (int i = 0; i < 8; i++)
            out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
        n = 10;
    }
    if (mask) {
        memcpy(out + n, mask, 4);
        n += 4;
    }
    return n;
}

void cw_wsc_mask(uint8_t *p, size_t n, const uint8_t key[4], size_t offset)
{
    for (size_t i = 0; i < n; i++)
        p[i] ^= key[(offset + i) & 3];
}

size_t cw_wsc_encode(uint8_t *out, size_t cap, unsigned opcode, int fin, unsigned rsv,
                     const void *payload, size_t len, const uint8_t *mask)
{
    if (cw_wsc_frame_size(len, mask != NULL) > cap)
        return 0;
    size_t h = cw_wsc_encode_header(out, opcode, fin, rsv, len, mask);
    if (len)
        memcpy(out + h, payload, len);
    if (mask)
        cw_wsc_mask(out + h, len, mask, 0);
    return h + len;
}

int cw_wsc_decode(const uint8_t *p, size_t n, cw_wsc_frame *f)
{
    memset(f, 0, sizeof *f);
    if (n < 2)
        return 0;
    size_t h = 2;
    uint64_t len = p[1] & 0x7Fu;
    if (len == 126) {
        if (n < 4)
            return 0;
        len = (uint64_t)p[2] << 8 | p[3];
        h = 4;
    } else if (len == 127) {
        if (n < 10)
            return 0;
        if (p[2] & 0x80)
            return CW_WSC_EPROTO;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | p[2 + i];
        h = 10;
    }
    f->masked = (uint8_t)(p[1] >> 7);
    if (f->masked) {
        if (n < h + 4)
            return 0;
        memcpy(f->mask, p + h, 4);
        h += 4;
    }
    f->fin = (uint8_t)(p[0] >> 7);
    f->rsv = (uint8_t)((p[0] >> 4) & 7u);
    f->opcode = (uint8_t)(p[0] & 0xFu);
    f->len = len;
    f->hdr_len = h;
    if (n - h < len)
        return 0;
    f->payload = p + h;
    return 1;
}

size_t cw_wsc_close_payload(uint8_t out[125], int code, const char *reason)
{
    if (code < 0)
        return 0;
    out[0] = (uint8_t)((unsigned)code >> 8);
    out[1] = (uint8_t)code;
    size_t rl = reason ? strlen(reason) : 0;
    if (rl > 123)
        rl = 123;
    if (rl)
        memcpy(out + 2, reason, rl);
    return 2 + rl;
}

void cw_wsc_close_parse(const uint8_t *p, size_t n, int *code, const uint8_t **reason,
                        size_t *rlen)
{
    *reason = p;
    *rlen = 0;
    if (n == 0) {
        *code = CW_WSC_NO_STATUS;
        return;
    }
    if (n == 1) {
        *code = -1;
        return;
    }
    *code = p[0] << 8 | p[1];
    *reason = p + 2;
    *rlen = n - 2;
}

/* ---- SHA-1 (FIPS 180-4) and base64 ---- */

static uint32_t rol(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t st[5], const uint8_t *b)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
               (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = st[0], bb = st[1], c = st[2], d = st[3], e = st[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (bb & c) | (~bb & d);
            k = 0x5A827999u;
        } else if (i < 40) {
            f = bb ^ c ^ d;
            k = 0x6ED9EBA1u;
        } else if (i < 60) {
            f = (bb & c) | (bb & d) | (c & d);
            k = 0x8F1BBCDCu;
        } else {
            f = bb ^ c ^ d;
            k = 0xCA62C1D6u;
        }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(bb, 30);
        bb = a;
        a = t;
    }
    st[0] += a;
    st[1] += bb;
    st[2] += c;
    st[3] += d;
    st[4] += e;
}

void cw_wsc_sha1(const void *data, size_t len, uint8_t out[20])
{
    uint32_t st[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    const uint8_t *p = data;
    size_t left = len;
    while (left >= 64) {
        sha1_block(st, p);
        p += 64;
        left -= 64;
    }
    uint8_t tail[128];
    memset(tail, 0, sizeof tail);
    if (left)
        memcpy(tail, p, left);
    tail[left] = 0x80;
    size_t tl = left + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        tail[tl - 1 - (size_t)i] = (uint8_t)(bits >> (8 * i));
    sha1_block(st, tail);
    if (tl == 128)
        sha1_block(st, tail + 64);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(st[i] >> 24);
        out[4 * i + 1] = (uint8_t)(st[i] >> 16);
        out[4 * i + 2] = (uint8_t)(st[i] >> 8);
        out[4 * i + 3] = (uint8_t)st[i];
    }
}

size_t cw_wsc_base64(const uint8_t *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = 0;
    return o;
}

void cw_wsc_accept_for(const char *key, char out[CW_WSC_ACCEPT_LEN + 1])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char cat[128 + sizeof guid];
    size_t kl = strlen(key);
    if (kl > 128)
        kl = 128;
    memcpy(cat, key, kl);
    memcpy(cat + kl, guid, sizeof guid - 1);
    uint8_t dig[20];
    cw_wsc_sha1(cat, kl + sizeof guid - 1, dig);
    cw_wsc_base64(dig, 20, out);
}

size_t cw_wsc_request(char *out, size_t cap, const char *path, const char *host, const char *key,
                      const char *extra_headers)
{
    int n = snprintf(out, cap,
                     "GET %s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "%s\r\n",
                     path, host, key, extra_headers ? extra_headers : "");
    if (n < 0 || (size_t)n >= cap)
        return 0;
    return (size_t)n;
}

int cw_wsc_response_head(const char *p, size_t n, int *status)
{
    *status = 0;
    size_t end = 0;
    for (size_t i = 0; i + 3 < n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n') {
            end = i + 4;
            break;
        }
    if (n >= 12 && (memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' '))
        return CW_WSC_EPROTO;
    if (!end)
        return 0;
    if (end < 12)
        return CW_WSC_EPROTO;
    int st = 0;
    for (int i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9')
            return CW_WSC_EPROTO;
        st = st * 10 + (p[i] - '0');
    }
    if (p[12] != ' ' && p[12] != '\r')
        return CW_WSC_EPROTO;
    *status = st;
    return (int)end;
}

const char *cw_wsc_header(const char *head, size_t n, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    size_t i = 0;
    /* skip the status line */
    while (i + 1 < n && !(head[i] == '\r' && head[i + 1] == '\n'))
        i++;
    i += 2;
    while (i < n) {
        size_t e = i;
        while (e + 1 < n && !(head[e] == '\r' && head[e + 1] == '\n'))
            e++;
        if (e + 1 >= n || e == i)
            break;
        if (e - i > nl && head[i + nl] == ':' && strncasecmp(head + i, name, nl) == 0) {
            size_t v = i + nl + 1, ve = e;
            while (v < ve && (head[v] == ' ' || head[v] == '\t'))
                v++;
            while (ve > v && (head[ve - 1] == ' ' || head[ve - 1] == '\t'))
                ve--;
            *vlen = ve - v;
            return head + v;
        }
        i = e + 2;
    }
    *vlen = 0;
    return NULL;
}

/* ==================================================================== */
/* Connection                                                           */
/* ==================================================================== */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(cw_wsc *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(cw_wsc *c, int rc, const char *fmt, ...)
{
    char text[sizeof c->err];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap); /* the arguments may include c->err */
    va_end(ap);
    memcpy(c->err, text, sizeof text);
    return rc;
}

static const char *op_name(unsigned op)
{
    switch (op) {
    case CW_WSC_CONT: return "continuation";
    case CW_WSC_TEXT: return "text";
    case CW_WSC_BINARY: return "binary";
    case CW_WSC_CLOSE: return "close";
    case CW_WSC_PING: return "ping";
    case CW_WSC_PONG: return "pong";
    default: return "reserved-opcode";
    }
}

static const char *rc_name(int rc)
{
    switch (rc) {
    case CW_WSC_EOF: return "EOF";
    case CW_WSC_ETIMEOUT: return "timeout";
    case CW_WSC_ERESET: return "connection reset";
    case CW_WSC_ESYS: return "system error";
    case CW_WSC_EPROTO: return "protocol error";
    case CW_WSC_ESPACE: return "buffer too small";
    case CW_WSC_EMISMATCH: return "mismatch";
    case CW_WSC_ECLOSED: return "close frame";
    default: return "?";
    }
}

double cw_wsc_slow(void)
{
    const char *s = getenv("CW_SLOW");
    if (s && *s) {
        double v = atof(s);
        if (v >= 1.0)
            return v;
    }
    s = getenv("CW_EXEC_PREFIX");
    return s && *s ? 3.0 : 1.0;
}

int cw_wsc_ms(int ms)
{
    return (int)(ms * cw_wsc_slow());
}

static uint64_t next_rand(uint64_t *s)
{
    /* xorshift64* */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

void cw_wsc_seed(cw_wsc *c, uint64_t seed)
{
    c->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
}

void cw_wsc_random(cw_wsc *c, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = next_rand(&c->rng);
        for (size_t j = 0; j < 8 && i + j < n; j++)
            out[i + j] = (uint8_t)(r >> (8 * j));
    }
}

void cw_wsc_init(cw_wsc *c, uint8_t *buf, size_t cap)
{
    static uint64_t counter;
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->timeout_ms = cw_wsc_ms(5000);
    c->auto_pong = 1;
    c->buf = buf;
    c->cap = cap;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    cw_wsc_seed(c, ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)c ^
                       (++counter * 0x9E3779B97F4A7C15ull));
}

/* Waits for events on c->fd until the deadline: 1 ready, 0 timeout, <0 error. */
static int wait_fd(cw_wsc *c, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left < 0)
            left = 0;
        struct pollfd p = {c->fd, events, 0};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return fail(c, CW_WSC_ESYS, "poll: %s", strerror(errno));
        return r;
    }
}

int cw_wsc_connect_start(cw_wsc *c, int port)
{
    c->head = c->tail = 0;
    c->close_code = 0;
    c->http_status = 0;
    c->port = port;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return fail(c, CW_WSC_ESYS, "socket: %s", strerror(errno));
    if (c->rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &c->rcvbuf, sizeof c->rcvbuf);
    if (c->sndbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &c->sndbuf, sizeof c->sndbuf);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    if (c->source > 0) {
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK - 1u + c->source);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            int e = errno;
            close(fd);
            return fail(c, CW_WSC_ESYS, "bind to 127.0.0.%u: %s", c->source, strerror(e));
        }
    }
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = fd;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        int e = errno;
        cw_wsc_close_socket(c, 0);
        return fail(c, CW_WSC_ESYS, "connect to 127.0.0.1:%d: %s", port, strerror(e));
    }
    return 0;
}

int cw_wsc_connect_check(cw_wsc *c)
{
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
        err = errno;
    if (err) {
        cw_wsc_close_socket(c, 0);
        return fail(c, CW_WSC_ESYS, "connect to 127.0.0.1:%d: %s", c->port, strerror(err));
    }
    return 0;
}

int cw_wsc_connect(cw_wsc *c, int port)
{
    int r = cw_wsc_connect_start(c, port);
    if (r < 0)
        return r;
    r = wait_fd(c, POLLOUT, now_ms() + c->timeout_ms);
    if (r <= 0) {
        cw_wsc_close_socket(c, 0);
        return r < 0 ? r : fail(c, CW_WSC_ETIMEOUT, "connect to 127.0.0.1:%d: timed out", port);
    }
    return cw_wsc_connect_check(c);
}

void cw_wsc_close_socket(cw_wsc *c, int abort)
{
    if (c->fd < 0)
        return;
    if (abort) {
        struct linger l = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(c->fd);
    c->fd = -1;
}

ssize_t cw_wsc_write_some(cw_wsc *c, const void *p, size_t n)
{
    for (;;) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w >= 0) {
            c->bytes_out += (uint64_t)w;
            return w;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        if (errno == EPIPE || errno == ECONNRESET)
            return fail(c, CW_WSC_ERESET, "send: %s", strerror(errno));
        return fail(c, CW_WSC_ESYS, "send: %s", strerror(errno));
    }
}

int cw_wsc_read_some(cw_wsc *c)
{
    if (c->head == c->tail) {
        c->head = c->tail = 0;
    } else if (c->head > 0 && c->cap - c->tail < c->cap / 4) {
        memmove(c->buf, c->buf + c->head, c->tail - c->head);
        c->tail -= c->head;
        c->head = 0;
    }
    if (c->tail == c->cap) {
        if (c->head == 0)
            return fail(c, CW_WSC_ESPACE, "receive buffer (%zu bytes) full", c->cap);
        memmove(c->buf, c->buf + c->head, c->tail - c->head);
        c->tail -= c->head;
        c->head = 0;
    }
    for (;;) {
        ssize_t r = recv(c->fd, c->buf + c->tail, c->cap - c->tail, 0);
        if (r > 0) {
            c->tail += (size_t)r;
            c->bytes_in += (uint64_t)r;
            if (r > 0x7FFFFFFF)
                return 0x7FFFFFFF;
            return (int)r;
        }
        if (r == 0)
            return CW_WSC_EOF;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        if (errno == ECONNRESET || errno == EPIPE)
            return fail(c, CW_WSC_ERESET, "recv: %s", strerror(errno));
        return fail(c, CW_WSC_ESYS, "recv: %s", strerror(errno));
    }
}

size_t cw_wsc_pending(const cw_wsc *c)
{
    return c->tail - c->head;
}

int cw_wsc_next_frame(cw_wsc *c, cw_wsc_frame *f)
{
    int r = cw_wsc_decode(c->buf + c->head, c->tail - c->head, f);
    if (r == 1) {
        c->head += f->hdr_len + (size_t)f->len;
        return 1;
    }
    if (r < 0)
        return fail(c, CW_WSC_EPROTO, "server frame with a 64-bit length whose top bit is set");
    if (f->hdr_len && f->hdr_len + f->len > c->cap)
        return fail(c, CW_WSC_ESPACE, "a %llu-byte frame does not fit the %zu-byte buffer",
                    (unsigned long long)f->len, c->cap);
    return 0;
}

static int send_all(cw_wsc *c, const void *p, size_t n)
{
    const uint8_t *b = p;
    int64_t deadline = now_ms() + c->timeout_ms;
    while (n > 0) {
        ssize_t w = cw_wsc_write_some(c, b, n);
        if (w < 0)
            return (int)w;
        if (w == 0) {
            int r = wait_fd(c, POLLOUT, deadline);
            if (r < 0)
                return r;
            if (r == 0)
                return fail(c, CW_WSC_ETIMEOUT, "send: %zu bytes still unsent after %d ms", n,
                            c->timeout_ms);
            continue;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int cw_wsc_send_chunked(cw_wsc *c, const void *p, size_t n, size_t chunk, unsigned gap_us)
{
    const uint8_t *b = p;
    if (chunk == 0)
        chunk = n ? n : 1;
    while (n > 0) {
        size_t k = n < chunk ? n : chunk;
        int r = send_all(c, b, k);
        if (r < 0)
            return r;
        b += k;
        n -= k;
        if (gap_us && n) {
            struct timespec ts = {(time_t)(gap_us / 1000000), (long)(gap_us % 1000000) * 1000};
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        }
    }
    return 0;
}

int cw_wsc_send_raw(cw_wsc *c, const void *p, size_t n)
{
    if (c->chunk)
        return cw_wsc_send_chunked(c, p, n, c->chunk, c->gap_us);
    return send_all(c, p, n);
}

int cw_wsc_send_frame_ex(cw_wsc *c, unsigned opcode, int fin, unsigned rsv, const void *p,
                         size_t n, const uint8_t *mask)
{
    uint8_t key[4];
    if (mask)
        memcpy(key, mask, 4);
    else
        cw_wsc_random(c, key, 4);
    /* Header and payload leave through one bounce buffer, masked as they
     * go, so a small frame is one send() and the caller's data is intact. */
    uint8_t tmp[16384];
    size_t h = cw_wsc_encode_header(tmp, opcode, fin, rsv, n, key);
    const uint8_t *src = p;
    size_t off = 0, fill = h;
    do {
        size_t k = n - off;
        if (k > sizeof tmp - fill)
            k = sizeof tmp - fill;
        if (k)
            memcpy(tmp + fill, src + off, k);
        cw_wsc_mask(tmp + fill, k, key, off);
        int r = cw_wsc_send_raw(c, tmp, fill + k);
        if (r < 0)
            return r;
        off += k;
        fill = 0;
    } while (off < n);
    return 0;
}

int cw_wsc_send_frame(cw_wsc *c, unsigned opcode, int fin, const void *p, size_t n)
{
    return cw_wsc_send_frame_ex(c, opcode, fin, 0, p, n, NULL);
}

int cw_wsc_send_close(cw_wsc *c, int code, const char *reason)
{
    uint8_t p[125];
    size_t n = cw_wsc_close_payload(p, code, reason);
    return cw_wsc_send_frame(c, CW_WSC_CLOSE, 1, p, n);
}

/* Reads until the buffer holds a response head; returns its length. */
static int read_head(cw_wsc *c, int *status)
{
    int64_t deadline = now_ms() + c->timeout_ms;
    for (;;) {
        int h = cw_wsc_response_head((const char *)c->buf + c->head, c->tail - c->head, status);
        if (h < 0)
            return fail(c, h, "malformed HTTP response: '%.*s'",
                        (int)(c->tail - c->head < 60 ? c->tail - c->head : 60),
                        (const char *)c->buf + c->head);
        if (h > 0) {
            c->http_status = *status;
            return h;
        }
        int r = cw_wsc_read_some(c);
        if (r == CW_WSC_ESPACE)
            return fail(c, r, "response head larger than the %zu-byte buffer", c->cap);
        if (r < 0 && r != CW_WSC_EOF)
            return r;
        if (r == CW_WSC_EOF)
            return fail(c, r, "EOF before a complete response head (%zu bytes: '%.*s')",
                        c->tail - c->head, (int)(c->tail - c->head < 60 ? c->tail - c->head : 60),
                        (const char *)c->buf + c->head);
        if (r == 0) {
            int w = wait_fd(c, POLLIN, deadline);
            if (w < 0)
                return w;
            if (w == 0)
                return fail(c, CW_WSC_ETIMEOUT, "no response head within %d ms", c->timeout_ms);
        }
    }
}

static int has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && v[e - 1] == ' ')
            e--;
        if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
            return 1;
    }
    return 0;
}

int cw_wsc_handshake_send(cw_wsc *c, const char *path, const char *extra_headers,
                          char key[CW_WSC_KEY_LEN + 1])
{
    uint8_t raw[16];
    char host[32], req[8192];
    cw_wsc_random(c, raw, sizeof raw);
    cw_wsc_base64(raw, sizeof raw, key);
    snprintf(host, sizeof host, "127.0.0.1:%d", c->port);
    size_t n = cw_wsc_request(req, sizeof req, path, host, key, extra_headers);
    if (n == 0)
        return fail(c, CW_WSC_ESPACE, "request larger than %zu bytes", sizeof req);
    return cw_wsc_send_raw(c, req, n);
}

int cw_wsc_handshake_check(cw_wsc *c, const char *key)
{
    int status;
    const char *head = (const char *)c->buf + c->head;
    int h = cw_wsc_response_head(head, c->tail - c->head, &status);
    if (h < 0)
        return fail(c, h, "malformed HTTP response: '%.*s'",
                    (int)(c->tail - c->head < 60 ? c->tail - c->head : 60), head);
    if (h == 0) {
        if (c->tail - c->head == c->cap)
            return fail(c, CW_WSC_ESPACE, "response head larger than the %zu-byte buffer", c->cap);
        return 0;
    }
    size_t hl = (size_t)h;
    c->head += hl;
    c->http_status = status;
    if (status != 101)
        return fail(c, CW_WSC_EMISMATCH, "handshake answered %d, not 101: %.*s", status,
                    (int)(hl > 120 ? 120 : hl), head);
    char want[CW_WSC_ACCEPT_LEN + 1];
    cw_wsc_accept_for(key, want);
    size_t vl;
    const char *v = cw_wsc_header(head, hl, "Upgrade", &vl);
    if (!v || vl != 9 || strncasecmp(v, "websocket", 9) != 0)
        return fail(c, CW_WSC_EPROTO, "101 without 'Upgrade: websocket'");
    v = cw_wsc_header(head, hl, "Connection", &vl);
    if (!v || !has_token(v, vl, "upgrade"))
        return fail(c, CW_WSC_EPROTO, "101 without 'Connection: Upgrade'");
    v = cw_wsc_header(head, hl, "Sec-WebSocket-Accept", &vl);
    if (!v || vl != CW_WSC_ACCEPT_LEN || memcmp(v, want, CW_WSC_ACCEPT_LEN) != 0)
        return fail(c, CW_WSC_EPROTO, "Sec-WebSocket-Accept '%.*s', expected '%s'",
                    v ? (int)vl : 0, v ? v : "", want);
    return 1;
}

int cw_wsc_handshake(cw_wsc *c, const char *path, const char *extra_headers)
{
    char key[CW_WSC_KEY_LEN + 1];
    int r = cw_wsc_handshake_send(c, path, extra_headers, key);
    if (r < 0)
        return r;
    int status;
    r = read_head(c, &status);
    if (r < 0)
        return r;
    r = cw_wsc_handshake_check(c, key);
    return r < 0 ? r : 0;
}

int cw_wsc_open(cw_wsc *c, int port, const char *path)
{
    int r = cw_wsc_connect(c, port);
    if (r < 0)
        return r;
    r = cw_wsc_handshake(c, path, NULL);
    if (r < 0)
        cw_wsc_close_socket(c, 0);
    return r;
}

int cw_wsc_http(cw_wsc *c, const void *req, size_t len, char *head, size_t head_cap)
{
    int r = cw_wsc_send_raw(c, req, len);
    if (r < 0)
        return r;
    int status;
    int h = read_head(c, &status);
    if (h < 0)
        return h;
    if (head && head_cap) {
        size_t k = (size_t)h < head_cap - 1 ? (size_t)h : head_cap - 1;
        memcpy(head, c->buf + c->head, k);
        head[k] = 0;
    }
    c->head += (size_t)h;
    return status;
}

int cw_wsc_recv(cw_wsc *c, cw_wsc_frame *f, int timeout_ms)
{
    int64_t deadline = now_ms() + (timeout_ms < 0 ? c->timeout_ms : timeout_ms);
    for (;;) {
        int r = cw_wsc_next_frame(c, f);
        if (r != 0)
            return r < 0 ? r : 0;
        r = cw_wsc_read_some(c);
        if (r > 0)
            continue;
        if (r == CW_WSC_EOF) {
            if (c->tail != c->head)
                return fail(c, r, "EOF inside a frame (%zu bytes of it received)",
                            c->tail - c->head);
            return fail(c, r, "EOF");
        }
        if (r < 0)
            return r;
        r = wait_fd(c, POLLIN, deadline);
        if (r < 0)
            return r;
        if (r == 0)
            return fail(c, CW_WSC_ETIMEOUT, "no frame within %d ms",
                        timeout_ms < 0 ? c->timeout_ms : timeout_ms);
    }
}

/* Server frames are never masked and carry no RSV bits (no extensions). */
static int check_server_frame(cw_wsc *c, const cw_wsc_frame *f)
{
    if (f->masked)
        return fail(c, CW_WSC_EPROTO, "server sent a masked %s frame", op_name(f->opcode));
    if (f->rsv)
        return fail(c, CW_WSC_EPROTO, "server sent a %s frame with RSV bits %u",
                    op_name(f->opcode), f->rsv);
    if (f->opcode >= 8 && (!f->fin || f->len > 125))
        return fail(c, CW_WSC_EPROTO, "server sent a bad control frame (fin %u, %llu bytes)",
                    f->fin, (unsigned long long)f->len);
    if (f->hdr_len != cw_wsc_frame_size(f->len, 0) - (size_t)f->len)
        return fail(c, CW_WSC_EPROTO, "server used a %zu-byte header for a %llu-byte payload "
                    "(not the minimal length encoding)", f->hdr_len, (unsigned long long)f->len);
    return 0;
}

static void record_close(cw_wsc *c, const cw_wsc_frame *f)
{
    const uint8_t *reason;
    size_t rl;
    cw_wsc_close_parse(f->payload, (size_t)f->len, &c->close_code, &reason, &rl);
    if (rl >= sizeof c->close_reason)
        rl = sizeof c->close_reason - 1;
    memcpy(c->close_reason, reason, rl);
    c->close_reason[rl] = 0;
}

/* Handles a ping in a helper that reads messages: answers it or fails. */
static int on_ping(cw_wsc *c, const cw_wsc_frame *f)
{
    if (!c->auto_pong)
        return fail(c, CW_WSC_EMISMATCH, "unexpected ping (%llu bytes)",
                    (unsigned long long)f->len);
    uint8_t p[125];
    memcpy(p, f->payload, (size_t)f->len);
    return cw_wsc_send_frame(c, CW_WSC_PONG, 1, p, (size_t)f->len);
}

int cw_wsc_recv_message(cw_wsc *c, int *op, uint8_t *out, size_t cap, size_t *len)
{
    *op = 0;
    *len = 0;
    for (;;) {
        cw_wsc_frame f;
        int r = cw_wsc_recv(c, &f, -1);
        if (r < 0)
            return r;
        if ((r = check_server_frame(c, &f)) < 0)
            return r;
        if (f.opcode == CW_WSC_PING) {
            if ((r = on_ping(c, &f)) < 0)
                return r;
            continue;
        }
        if (f.opcode == CW_WSC_PONG)
            continue;
        if (f.opcode == CW_WSC_CLOSE) {
            record_close(c, &f);
            return fail(c, CW_WSC_ECLOSED, "close %d '%s' instead of a message", c->close_code,
                        c->close_reason);
        }
        if (f.opcode != CW_WSC_CONT && f.opcode != CW_WSC_TEXT && f.opcode != CW_WSC_BINARY)
            return fail(c, CW_WSC_EPROTO, "server sent reserved opcode %u", f.opcode);
        if ((f.opcode == CW_WSC_CONT) != (*op != 0))
            return fail(c, CW_WSC_EPROTO, "server sent a %s frame %s a fragmented message",
                        op_name(f.opcode), *op ? "inside" : "outside");
        if (!*op)
            *op = f.opcode;
        if (f.len > cap - *len)
            return fail(c, CW_WSC_ESPACE, "message larger than %zu bytes", cap);
        memcpy(out + *len, f.payload, (size_t)f.len);
        *len += (size_t)f.len;
        if (f.fin)
            return 0;
    }
}

int cw_wsc_expect_message(cw_wsc *c, unsigned opcode, const void *data, size_t len)
{
    const uint8_t *want = data;
    size_t got = 0;
    int started = 0;
    for (;;) {
        cw_wsc_frame f;
        int r = cw_wsc_recv(c, &f, -1);
        if (r < 0)
            return fail(c, r, "expected a %zu-byte %s message (%zu bytes so far): %s", len,
                        op_name(opcode), got, c->err);
        if ((r = check_server_frame(c, &f)) < 0)
            return r;
        if (f.opcode == CW_WSC_PING) {
            if ((r = on_ping(c, &f)) < 0)
                return r;
            continue;
        }
        if (f.opcode == CW_WSC_CLOSE) {
            record_close(c, &f);
            return fail(c, CW_WSC_ECLOSED, "expected a %zu-byte %s message, got close %d '%s'",
                        len, op_name(opcode), c->close_code, c->close_reason);
        }
        unsigned want_op = started ? CW_WSC_CONT : opcode;
        if (f.opcode != want_op)
            return fail(c, CW_WSC_EMISMATCH,
                        "expected a %s frame (%zu-byte %s message, %zu bytes so far), got a %s "
                        "frame of %llu bytes",
                        op_name(want_op), len, op_name(opcode), got, op_name(f.opcode),
                        (unsigned long long)f.len);
        started = 1;
        if (f.len > len - got)
            return fail(c, CW_WSC_EMISMATCH, "%s message longer than the expected %zu bytes",
                        op_name(opcode), len);
        for (size_t i = 0; i < f.len; i++)
            if (f.payload[i] != want[got + i])
                return fail(c, CW_WSC_EMISMATCH,
                            "%s message of %zu bytes differs at byte %zu: 0x%02x, expected 0x%02x",
                            op_name(opcode), len, got + i, f.payload[i], want[got + i]);
        got += (size_t)f.len;
        if (f.fin) {
            if (got != len)
                return fail(c, CW_WSC_EMISMATCH, "%s message of %zu bytes, expected %zu",
                            op_name(opcode), got, len);
            return 0;
        }
    }
}

int cw_wsc_echo(cw_wsc *c, unsigned opcode, const void *data, size_t len)
{
    int r = cw_wsc_send_frame(c, opcode, 1, data, len);
    if (r < 0)
        return r;
    return cw_wsc_expect_message(c, opcode, data, len);
}

int cw_wsc_expect_pong(cw_wsc *c, const void *data, size_t len)
{
    for (;;) {
        cw_wsc_frame f;
        int r = cw_wsc_recv(c, &f, -1);
        if (r < 0)
            return fail(c, r, "expected a pong of %zu bytes: %s", len, c->err);
        if ((r = check_server_frame(c, &f)) < 0)
            return r;
        if (f.opcode == CW_WSC_PING) {
            if ((r = on_ping(c, &f)) < 0)
                return r;
            continue;
        }
        if (f.opcode == CW_WSC_CLOSE)
            record_close(c, &f);
        if (f.opcode != CW_WSC_PONG)
            return fail(c, CW_WSC_EMISMATCH, "expected a pong of %zu bytes, got a %s frame of %llu",
                        len, op_name(f.opcode), (unsigned long long)f.len);
        if (f.len != len || (len && memcmp(f.payload, data, len) != 0))
            return fail(c, CW_WSC_EMISMATCH, "pong payload (%llu bytes) differs from the ping's (%zu)",
                        (unsigned long long)f.len, len);
        return 0;
    }
}

int cw_wsc_expect_close(cw_wsc *c, int code)
{
    for (;;) {
        cw_wsc_frame f;
        int r = cw_wsc_recv(c, &f, -1);
        if (r < 0)
            return fail(c, r, "expected close %d: %s", code, c->err);
        if ((r = check_server_frame(c, &f)) < 0)
            return r;
        if (f.opcode == CW_WSC_PING && c->auto_pong) {
            if ((r = on_ping(c, &f)) < 0)
                return r;
            continue;
        }
        if (f.opcode != CW_WSC_CLOSE)
            return fail(c, CW_WSC_EMISMATCH, "expected close %d, got a %s frame of %llu bytes",
                        code, op_name(f.opcode), (unsigned long long)f.len);
        record_close(c, &f);
        if (code >= 0 && c->close_code != code)
            return fail(c, CW_WSC_EMISMATCH, "expected close %d, got close %d '%s'", code,
                        c->close_code, c->close_reason);
        return 0;
    }
}

int cw_wsc_expect_eof(cw_wsc *c)
{
    cw_wsc_frame f;
    int r = cw_wsc_recv(c, &f, -1);
    if ((r == CW_WSC_EOF || r == CW_WSC_ERESET) && c->tail != c->head)
        return fail(c, CW_WSC_EMISMATCH, "expected EOF, got %zu bytes of a frame first",
                    c->tail - c->head);
    if (r == CW_WSC_EOF || r == CW_WSC_ERESET)
        return 0;
    if (r == 0)
        return fail(c, CW_WSC_EMISMATCH, "expected EOF, got a %s frame of %llu bytes",
                    op_name(f.opcode), (unsigned long long)f.len);
    return fail(c, r, "expected EOF: %s", c->err);
}

int cw_wsc_expect_silence(cw_wsc *c, int ms)
{
    cw_wsc_frame f;
    int r = cw_wsc_recv(c, &f, ms);
    if (r == CW_WSC_ETIMEOUT)
        return 0;
    if (r == 0)
        return fail(c, CW_WSC_EMISMATCH, "expected silence, got a %s frame of %llu bytes",
                    op_name(f.opcode), (unsigned long long)f.len);
    return fail(c, CW_WSC_EMISMATCH, "expected silence, got %s (%s)", rc_name(r), c->err);
}

int cw_wsc_close_handshake(cw_wsc *c, int code)
{
    int r = cw_wsc_send_close(c, code, NULL);
    if (r < 0)
        return r;
    r = cw_wsc_expect_close(c, code);
    if (r < 0)
        return r;
    return cw_wsc_expect_eof(c);
}

/* ==================================================================== */
/* The daemon under test                                                */
/* ==================================================================== */

#define MAX_ARGS 64

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static size_t log_size(const cw_wsc_daemon *d)
{
    struct stat st;
    if (d->log_fd < 0 || fstat(d->log_fd, &st) < 0)
        return 0;
    return (size_t)st.st_size;
}

size_t cw_wsc_daemon_log(const cw_wsc_daemon *d, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    size_t sz = log_size(d);
    size_t want = sz < cap - 1 ? sz : cap - 1;
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(d->log_fd, out + got, want - got, (off_t)(sz - want + got));
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    out[got] = 0;
    return got;
}

int cw_wsc_daemon_log_has(const cw_wsc_daemon *d, const char *needle)
{
    char chunk[65536 + 1];
    size_t nl = strlen(needle);
    if (nl == 0 || nl > 4096)
        return nl == 0;
    size_t sz = log_size(d), off = 0;
    while (off < sz) {
        ssize_t r = pread(d->log_fd, chunk, sizeof chunk - 1, (off_t)off);
        if (r <= 0)
            break;
        chunk[r] = 0;
        if (memmem(chunk, (size_t)r, needle, nl))
            return 1;
        if ((size_t)r < nl || off + (size_t)r >= sz)
            break;
        off += (size_t)r - nl + 1; /* overlap so a match across chunks is found */
    }
    return 0;
}

void cw_wsc_daemon_dump(const cw_wsc_daemon *d, size_t max_bytes)
{
    static char text[65536];
    if (max_bytes >= sizeof text)
        max_bytes = sizeof text - 1;
    size_t n = cw_wsc_daemon_log(d, text, max_bytes + 1);
    fprintf(stderr, "  --- daemon log (last %zu bytes) ---\n", n);
    char *line = text;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        fprintf(stderr, "    | %s\n", line);
        line = nl ? nl + 1 : NULL;
    }
}

/* Finds "(port N)" after "listening on" in the log. */
static int find_port(const cw_wsc_daemon *d)
{
    char text[8192];
    size_t n = log_size(d);
    if (n >= sizeof text)
        n = sizeof text - 1;
    ssize_t r = pread(d->log_fd, text, n, 0);
    if (r <= 0)
        return 0;
    text[r] = 0;
    const char *p = strstr(text, "listening on ");
    if (!p)
        return 0;
    p = strstr(p, "(port ");
    if (!p)
        return 0;
    int port = atoi(p + 6);
    return port > 0 && port < 65536 ? port : 0;
}

int cw_wsc_daemon_start(cw_wsc_daemon *d, const char *binary, const char *const *args)
{
    memset(d, 0, sizeof *d);
    d->log_fd = -1;
    if (!binary)
        binary = getenv("CW_DAEMON");
    if (!binary || !*binary) {
        fprintf(stderr, "cw_wsc_daemon_start: no daemon binary (set CW_DAEMON)\n");
        return -1;
    }
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/cw-daemon-log-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    d->log_fd = mkstemp(path);
    if (d->log_fd < 0) {
        fprintf(stderr, "cw_wsc_daemon_start: mkstemp %s: %s\n", path, strerror(errno));
        return -1;
    }
    unlink(path);
    fcntl(d->log_fd, F_SETFD, FD_CLOEXEC);

    /* argv: prefix words, binary, --listen, [--log-level debug], args */
    static char prefix[1024];
    const char *argv[MAX_ARGS + 1];
    int argc = 0;
    const char *pre = getenv("CW_EXEC_PREFIX");
    snprintf(prefix, sizeof prefix, "%s", pre ? pre : "");
    for (char *s = strtok(prefix, " \t"); s && argc < 16; s = strtok(NULL, " \t"))
        argv[argc++] = s;
    argv[argc++] = binary;
    argv[argc++] = "--listen";
    argv[argc++] = "127.0.0.1:0";
    int has_level = 0, has_control = 0, has_root = 0;
    for (int i = 0; args && args[i]; i++) {
        if (strncmp(args[i], "--log-level", 11) == 0)
            has_level = 1;
        if (strncmp(args[i], "--control", 9) == 0 || strcmp(args[i], "--no-control") == 0)
            has_control = 1;
        if (strcmp(args[i], "--allow-root") == 0 || strncmp(args[i], "--user", 6) == 0)
            has_root = 1;
    }
    /* As root the daemon wants --user or --allow-root (harmless otherwise). */
    if (!has_root)
        argv[argc++] = "--allow-root";
    if (!has_level) {
        argv[argc++] = "--log-level";
        argv[argc++] = "debug";
    }
    /* Suites run side by side: none may claim the default control socket. */
    if (!has_control)
        argv[argc++] = "--no-control";
    for (int i = 0; args && args[i]; i++) {
        if (argc >= MAX_ARGS) {
            fprintf(stderr, "cw_wsc_daemon_start: too many arguments\n");
            cw_wsc_daemon_release(d);
            return -1;
        }
        argv[argc++] = args[i];
    }
    argv[argc] = NULL;

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "cw_wsc_daemon_start: fork: %s\n", strerror(errno));
        cw_wsc_daemon_release(d);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(d->log_fd, 1);
        dup2(d->log_fd, 2);
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(argv[0], (char *const *)(uintptr_t)argv);
        dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    d->pid = pid;
    int64_t deadline = now_ms() + cw_wsc_ms(10000);
    while (now_ms() < deadline) {
        d->port = find_port(d);
        if (d->port)
            return 0;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            d->pid = 0;
            d->status = WIFEXITED(st) ? WEXITSTATUS(st) : 256 + WTERMSIG(st);
            fprintf(stderr, "cw_wsc_daemon_start: %s exited (status %d) before listening\n",
                    binary, d->status);
            cw_wsc_daemon_dump(d, 4000);
            cw_wsc_daemon_release(d);
            return -1;
        }
        sleep_ms(5);
    }
    fprintf(stderr, "cw_wsc_daemon_start: %s did not log its port in time\n", binary);
    cw_wsc_daemon_dump(d, 4000);
    cw_wsc_daemon_release(d);
    return -1;
}

int cw_wsc_daemon_signal(cw_wsc_daemon *d, int sig)
{
    if (d->pid <= 0)
        return -1;
    return kill(d->pid, sig);
}

int cw_wsc_daemon_wait(cw_wsc_daemon *d, int timeout_ms)
{
    if (d->pid <= 0)
        return d->status;
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(d->pid, &st, WNOHANG);
        if (r == d->pid) {
            d->pid = 0;
            d->status = WIFEXITED(st) ? WEXITSTATUS(st) : 256 + WTERMSIG(st);
            return d->status;
        }
        if (r < 0 && errno != EINTR) {
            d->pid = 0;
            d->status = CW_WSC_ESYS;
            return d->status;
        }
        if (now_ms() >= deadline)
            return CW_WSC_ETIMEOUT;
        sleep_ms(2);
    }
}

int cw_wsc_daemon_stop(cw_wsc_daemon *d, int timeout_ms)
{
    if (d->pid <= 0)
        return d->status;
    kill(d->pid, SIGTERM);
    int st = cw_wsc_daemon_wait(d, timeout_ms);
    if (st == CW_WSC_ETIMEOUT) {
        kill(d->pid, SIGKILL);
        cw_wsc_daemon_wait(d, 5000);
        d->status = CW_WSC_ETIMEOUT;
        return CW_WSC_ETIMEOUT;
    }
    return st;
}

int cw_wsc_daemon_alive(cw_wsc_daemon *d)
{
    return d->pid > 0 && cw_wsc_daemon_wait(d, 0) == CW_WSC_ETIMEOUT;
}

void cw_wsc_daemon_release(cw_wsc_daemon *d)
{
    if (d->pid > 0)
        cw_wsc_daemon_stop(d, 2000);
    if (d->log_fd >= 0)
        close(d->log_fd);
    d->log_fd = -1;
}
