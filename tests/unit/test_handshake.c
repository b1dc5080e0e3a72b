/* SPDX-License-Identifier: MIT */
/* test_handshake.c: the opening handshake checks of RFC 6455 section 4.2.1
 * on parsed requests (the valid one and one request per failure, with the
 * status DESIGN.md documents), the accept key and the exact response heads. */
#include "cw_config.h"
#include "proto/handshake.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

static cw_http_req req;

/* Header lines of the valid RFC 6455 sample request; a test replaces or
 * drops lines to make each failure. */
enum { H_HOST, H_UPGRADE, H_CONNECTION, H_KEY, H_ORIGIN, H_PROTOCOL, H_VERSION, H_COUNT };
static const char *const base_hdrs[H_COUNT] = {
    "Host: server.example.com",
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Origin: http://example.com",
    "Sec-WebSocket-Protocol: chat, superchat",
    "Sec-WebSocket-Version: 13",
};

/* Builds "<line>\r\n" + headers (hdrs[i] NULL: dropped) + extra lines into
 * buf; its length. *lines: how many header lines it has. */
static size_t build_req(char *buf, size_t cap, const char *line, const char *const *hdrs,
                        const char *extra, int *lines)
{
    size_t n = (size_t)snprintf(buf, cap, "%s\r\n", line);
    *lines = 0;
    for (int i = 0; i < H_COUNT; i++)
        if (hdrs[i]) {
            n += (size_t)snprintf(buf + n, cap - n, "%s\r\n", hdrs[i]);
            ++*lines;
        }
    for (const char *e = extra; e && (e = strstr(e, "\r\n")) != NULL; e += 2)
        ++*lines;
    n += (size_t)snprintf(buf + n, cap - n, "%s\r\n", extra ? extra : "");
    return n;
}

/* Builds and parses the request; returns the handshake verdict. With a
 * small CONFIG_HTTP_MAX_REQUEST (256 at least) or CONFIG_HTTP_MAX_HEADERS
 * (8 at least), a case whose extra lines make the request longer than the
 * buffer or give it more header lines than that drops the sample's
 * optional Sec-WebSocket-Protocol line, when that line is not what the case
 * is about: the verdict does not depend on it. */
static int check_req(const char *line, const char *const *hdrs, const char *extra, cw_handshake *hs)
{
    static char buf[2048];
    int lines;
    size_t n = build_req(buf, sizeof buf, line, hdrs, extra, &lines);
    if ((n > sizeof req.data || lines > CONFIG_HTTP_MAX_HEADERS) &&
        hdrs[H_PROTOCOL] == base_hdrs[H_PROTOCOL]) {
        const char *h[H_COUNT];
        memcpy(h, hdrs, sizeof h);
        h[H_PROTOCOL] = NULL;
        n = build_req(buf, sizeof buf, line, h, extra, &lines);
    }
    memset(hs, 0x5A, sizeof *hs);
    hs->why = "the parser refused the request (CONFIG_HTTP_MAX_REQUEST or _MAX_HEADERS)";
    cw_http_init(&req);
    if (n > sizeof req.data)
        n = sizeof req.data; /* the parser then answers 431 and the check fails */
    memcpy(req.data, buf, n);
    req.len = (uint16_t)n;
    int st = cw_http_parse(&req);
    CHECK_EQ(st, CW_HTTP_DONE);
    if (st != CW_HTTP_DONE)
        return -st;
    cw_handshake_check(&req, hs);
    return hs->status;
}

/* The base request with header `which` replaced by `line` (NULL: removed). */
static int check_with(int which, const char *line, const char *extra, cw_handshake *hs)
{
    const char *h[H_COUNT];
    memcpy(h, base_hdrs, sizeof h);
    if (which >= 0)
        h[which] = line;
    return check_req("GET /chat HTTP/1.1", h, extra, hs);
}

static void test_valid_rfc_sample(void)
{
    cw_handshake hs;
    CHECK_EQ(check_with(-1, NULL, NULL, &hs), 101);
    CHECK(hs.why == NULL);
    CHECK(strcmp(hs.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
    CHECK_EQ(strlen(hs.accept), 28);
    CHECK_EQ(cw_handshake_is_upgrade(&req), 1);
}

static void test_valid_variants(void)
{
    cw_handshake hs;
    /* tokens are case-insensitive and may sit in lists */
    CHECK_EQ(check_with(H_UPGRADE, "Upgrade: WebSocket", NULL, &hs), 101);
    CHECK_EQ(check_with(H_UPGRADE, "upgrade: h2c, websocket", NULL, &hs), 101);
    CHECK_EQ(check_with(H_CONNECTION, "Connection: keep-alive, Upgrade", NULL, &hs), 101);
    CHECK_EQ(check_with(H_CONNECTION, "connection: UPGRADE", NULL, &hs), 101);
    /* header names in any case, optional headers absent */
    CHECK_EQ(check_with(H_KEY, "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==", NULL, &hs), 101);
    CHECK(strcmp(hs.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
    CHECK_EQ(check_with(H_ORIGIN, NULL, NULL, &hs), 101);
    CHECK_EQ(check_with(H_PROTOCOL, NULL, NULL, &hs), 101);
    /* a zero Content-Length is not a body */
    CHECK_EQ(check_with(-1, NULL, "Content-Length: 0\r\n", &hs), 101);
    /* another key gives another accept value */
    CHECK_EQ(check_with(H_KEY, "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==", NULL, &hs), 101);
    CHECK(strcmp(hs.accept, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=") == 0);
    /* any 16 bytes make a key, even all zeros */
    CHECK_EQ(check_with(H_KEY, "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==", NULL, &hs), 101);
    /* an absolute-form target */
    const char *h[H_COUNT];
    memcpy(h, base_hdrs, sizeof h);
    CHECK_EQ(check_req("GET http://server.example.com/chat HTTP/1.1", h, NULL, &hs), 101);
}

typedef struct {
    const char *name;
    int which;        /* header replaced, -1 none */
    const char *line; /* its replacement, NULL to drop it */
    const char *extra;
    const char *request_line;
    int status;
} fail_case;

static void test_failures(void)
{
    static const fail_case v[] = {
        {"POST", -1, NULL, NULL, "POST /chat HTTP/1.1", 400},
        {"HEAD", -1, NULL, NULL, "HEAD /chat HTTP/1.1", 400},
        {"lower-case get", -1, NULL, NULL, "get /chat HTTP/1.1", 400},
        {"HTTP/1.0", -1, NULL, NULL, "GET /chat HTTP/1.0", 400},
        {"no Host", H_HOST, NULL, NULL, NULL, 400},
        {"two Hosts", -1, NULL, "Host: other.example.com\r\n", NULL, 400},
        {"no Upgrade", H_UPGRADE, NULL, NULL, NULL, 426},
        {"Upgrade h2c", H_UPGRADE, "Upgrade: h2c", NULL, NULL, 400},
        {"Upgrade websocket2", H_UPGRADE, "Upgrade: websocket2", NULL, NULL, 400},
        {"Upgrade empty", H_UPGRADE, "Upgrade:", NULL, NULL, 400},
        {"no Connection", H_CONNECTION, NULL, NULL, NULL, 400},
        {"Connection keep-alive", H_CONNECTION, "Connection: keep-alive", NULL, NULL, 400},
        {"Connection close", H_CONNECTION, "Connection: close", NULL, NULL, 400},
        {"Connection upgraded", H_CONNECTION, "Connection: upgraded", NULL, NULL, 400},
        {"no version", H_VERSION, NULL, NULL, NULL, 400},
        {"version 8", H_VERSION, "Sec-WebSocket-Version: 8", NULL, NULL, 426},
        {"version 12", H_VERSION, "Sec-WebSocket-Version: 12", NULL, NULL, 426},
        {"version 14", H_VERSION, "Sec-WebSocket-Version: 14", NULL, NULL, 426},
        {"version list", H_VERSION, "Sec-WebSocket-Version: 13, 8", NULL, NULL, 426},
        {"version 013", H_VERSION, "Sec-WebSocket-Version: 013", NULL, NULL, 426},
        {"two versions", -1, NULL, "Sec-WebSocket-Version: 8\r\n", NULL, 400},
        {"no key", H_KEY, NULL, NULL, NULL, 400},
        {"two keys", -1, NULL, "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n", NULL, 400},
        {"same key twice", -1, NULL, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", NULL, 400},
        {"key of 15 bytes", H_KEY, "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA", NULL, NULL, 400},
        {"key of 17 bytes", H_KEY, "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA=", NULL, NULL, 400},
        {"key of 18 bytes", H_KEY, "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAA", NULL, NULL, 400},
        {"key unpadded", H_KEY, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ", NULL, NULL, 400},
        {"key bad chars", H_KEY, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ!!", NULL, NULL, 400},
        {"key url alphabet", H_KEY, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j-_==", NULL, NULL, 400},
        {"key non-canonical", H_KEY, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==", NULL, NULL, 400},
        {"key with a space", H_KEY, "Sec-WebSocket-Key: dGhlIHNhbXBs ZSBub25jZQ==", NULL, NULL, 400},
        {"key empty", H_KEY, "Sec-WebSocket-Key:", NULL, NULL, 400},
        {"Transfer-Encoding", -1, NULL, "Transfer-Encoding: chunked\r\n", NULL, 400},
        {"Content-Length", -1, NULL, "Content-Length: 5\r\n", NULL, 400},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        cw_handshake hs;
        int st;
        if (v[i].request_line) {
            const char *h[H_COUNT];
            memcpy(h, base_hdrs, sizeof h);
            st = check_req(v[i].request_line, h, v[i].extra, &hs);
        } else {
            st = check_with(v[i].which, v[i].line, v[i].extra, &hs);
        }
        if (st != v[i].status)
            fprintf(stderr, "  %s: status %d (%s)\n", v[i].name, st, st == 101 ? "-" : hs.why);
        CHECK_EQ(st, v[i].status);
        CHECK(hs.why != NULL && hs.why[0] != 0); /* a reason for the log */
        CHECK_EQ(hs.accept[0], 0);
    }
}

/* Repeated header lines (issue 12, defect 6). Upgrade and Connection are
 * lists (RFC 9110 5.3): their lines join into one, so the token may be on
 * any line. Everything else read here is single-valued: a second line is a
 * 400 with its reason, even when both lines agree, so that no later step
 * (the Origin check, the token lookup) reads one line while a proxy in
 * front read the other. */
static void test_list_headers_on_several_lines(void)
{
    cw_handshake hs;
    CHECK_EQ(check_with(H_CONNECTION, "Connection: keep-alive", "Connection: Upgrade\r\n", &hs),
             101);
    CHECK_EQ(check_with(H_CONNECTION, "Connection: Upgrade", "Connection: keep-alive\r\n", &hs),
             101);
    CHECK_EQ(check_with(H_CONNECTION, "Connection:", "connection: close, upgrade\r\n", &hs), 101);
    CHECK_EQ(check_with(H_UPGRADE, "Upgrade: h2c", "Upgrade: websocket\r\n", &hs), 101);
    CHECK_EQ(check_with(H_UPGRADE, "Upgrade: websocket", "Upgrade: h2c\r\n", &hs), 101);
    CHECK_EQ(check_with(H_UPGRADE, "Upgrade: foo/2", "UPGRADE: bar, WebSocket\r\n", &hs), 101);
    CHECK(strcmp(hs.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
    /* both on extra lines */
    CHECK_EQ(check_with(H_CONNECTION, "Connection: keep-alive",
                        "Upgrade: h2c\r\nConnection: Upgrade\r\n", &hs), 101);
}

typedef struct {
    const char *name;
    int which;        /* header replaced, -1 none */
    const char *line; /* its replacement, NULL to drop it */
    const char *extra;
    int status;
    const char *why;  /* the reason logged */
} repeat_case;

static void test_repeated_headers(void)
{
    static const repeat_case v[] = {
        /* Content-Length: never twice, not even with equal values (RFC 9112 6.3) */
        {"CL 0 then 5", -1, NULL, "Content-Length: 0\r\nContent-Length: 5\r\n", 400,
         "repeated Content-Length"},
        {"CL 5 then 0", -1, NULL, "Content-Length: 5\r\nContent-Length: 0\r\n", 400,
         "repeated Content-Length"},
        {"CL 0 twice", -1, NULL, "Content-Length: 0\r\ncontent-length: 0\r\n", 400,
         "repeated Content-Length"},
        {"CL 5", -1, NULL, "Content-Length: 5\r\n", 400, "request has a body"},
        {"CL 0, 0", -1, NULL, "Content-Length: 0, 0\r\n", 400, "request has a body"},
        {"CL 00", -1, NULL, "Content-Length: 00\r\n", 400, "request has a body"},
        /* Transfer-Encoding: any, with or without a Content-Length */
        {"TE chunked + CL 0", -1, NULL, "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n",
         400, "Transfer-Encoding on an upgrade"},
        {"CL 0 + TE chunked", -1, NULL, "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n",
         400, "Transfer-Encoding on an upgrade"},
        {"TE identity", -1, NULL, "Transfer-Encoding: identity\r\n", 400,
         "Transfer-Encoding on an upgrade"},
        {"TE empty", -1, NULL, "Transfer-Encoding:\r\n", 400, "Transfer-Encoding on an upgrade"},
        /* single-valued headers */
        {"two Origins", -1, NULL, "Origin: http://evil.example\r\n", 400, "repeated Origin"},
        {"same Origin twice", -1, NULL, "origin: http://example.com\r\n", 400, "repeated Origin"},
        {"two Origins, no Upgrade", H_UPGRADE, NULL, "Origin: http://evil.example\r\n", 400,
         "repeated Origin"},
        {"two Authorizations", -1, NULL,
         "Authorization: Bearer a.b.c\r\nAuthorization: Bearer d.e.f\r\n", 400,
         "repeated Authorization"},
        {"Authorization twice, equal", -1, NULL,
         "Authorization: Bearer a.b.c\r\nAUTHORIZATION: Bearer a.b.c\r\n", 400,
         "repeated Authorization"},
        {"two Hosts", -1, NULL, "Host: server.example.com\r\n", 400, "missing or repeated Host"},
        {"version 13 twice", -1, NULL, "Sec-WebSocket-Version: 13\r\n", 400,
         "repeated Sec-WebSocket-Version"},
        {"versions 8 then 13", H_VERSION, "Sec-WebSocket-Version: 8",
         "Sec-WebSocket-Version: 13\r\n", 400, "repeated Sec-WebSocket-Version"},
        {"key twice", -1, NULL, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", 400,
         "missing or repeated Sec-WebSocket-Key"},
        /* list headers: refused only when no line has the token */
        {"Upgrade h2c twice", H_UPGRADE, "Upgrade: h2c", "Upgrade: websocket2\r\n", 400,
         "Upgrade is not websocket"},
        {"Connection without upgrade twice", H_CONNECTION, "Connection: keep-alive",
         "Connection: close\r\n", 400, "Connection lacks upgrade"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        cw_handshake hs;
        int st = check_with(v[i].which, v[i].line, v[i].extra, &hs);
        int why_ok = st != 101 && hs.why != NULL && strcmp(hs.why, v[i].why) == 0;
        if (st != v[i].status || !why_ok)
            fprintf(stderr, "  %s: status %d (%s)\n", v[i].name, st, st == 101 ? "-" : hs.why);
        CHECK_EQ(st, v[i].status);
        CHECK(why_ok);
        CHECK_EQ(hs.accept[0], 0);
    }
}

static void test_is_upgrade(void)
{
    cw_handshake hs;
    check_with(H_UPGRADE, NULL, NULL, &hs);
    CHECK_EQ(cw_handshake_is_upgrade(&req), 0);
    check_with(H_UPGRADE, "Upgrade: h2c", NULL, &hs);
    CHECK_EQ(cw_handshake_is_upgrade(&req), 1);
}

static void test_response_head(void)
{
    static const char want[] = "HTTP/1.1 101 Switching Protocols\r\n"
                               "Upgrade: websocket\r\n"
                               "Connection: Upgrade\r\n"
                               "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                               "\r\n";
    char out[256];
    size_t n = cw_handshake_response(out, sizeof out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL);
    CHECK_EQ(n, sizeof want - 1);
    CHECK_MEM(out, want, sizeof want);
    /* with a subprotocol */
    static const char want2[] = "HTTP/1.1 101 Switching Protocols\r\n"
                                "Upgrade: websocket\r\n"
                                "Connection: Upgrade\r\n"
                                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                                "Sec-WebSocket-Protocol: chat\r\n"
                                "\r\n";
    n = cw_handshake_response(out, sizeof out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "chat");
    CHECK_EQ(n, sizeof want2 - 1);
    CHECK_MEM(out, want2, sizeof want2);
    /* capacity: the head and its NUL must fit */
    CHECK_EQ(cw_handshake_response(out, sizeof want, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL), sizeof want - 1);
    CHECK_EQ(cw_handshake_response(out, sizeof want - 1, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL), 0);
    CHECK_EQ(cw_handshake_response(out, 10, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL), 0);
    /* the full path: request -> check -> response */
    cw_handshake hs;
    CHECK_EQ(check_with(-1, NULL, NULL, &hs), 101);
    n = cw_handshake_response(out, sizeof out, hs.accept, NULL);
    CHECK_EQ(n, sizeof want - 1);
    CHECK_MEM(out, want, sizeof want);
}

static void test_error_responses(void)
{
    char out[512];
    static const char w426[] = "HTTP/1.1 426 Upgrade Required\r\n"
                               "Connection: close\r\n"
                               "Content-Type: text/plain; charset=utf-8\r\n"
                               "Content-Length: 21\r\n"
                               "Sec-WebSocket-Version: 13\r\n"
                               "\r\n"
                               "426 Upgrade Required\n";
    size_t n = cw_http_error_response(out, sizeof out, 426, "Sec-WebSocket-Version: 13\r\n");
    CHECK_EQ(n, sizeof w426 - 1);
    CHECK_MEM(out, w426, sizeof w426);
    static const char w400[] = "HTTP/1.1 400 Bad Request\r\n"
                               "Connection: close\r\n"
                               "Content-Type: text/plain; charset=utf-8\r\n"
                               "Content-Length: 16\r\n"
                               "\r\n"
                               "400 Bad Request\n";
    n = cw_http_error_response(out, sizeof out, 400, NULL);
    CHECK_EQ(n, sizeof w400 - 1);
    CHECK_MEM(out, w400, sizeof w400);
    static const char w431[] = "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                               "Connection: close\r\n"
                               "Content-Type: text/plain; charset=utf-8\r\n"
                               "Content-Length: 36\r\n"
                               "\r\n"
                               "431 Request Header Fields Too Large\n";
    n = cw_http_error_response(out, sizeof out, 431, NULL);
    CHECK_EQ(n, sizeof w431 - 1);
    CHECK_MEM(out, w431, sizeof w431);
    /* the Content-Length matches the body for every status */
    static const int statuses[] = {400, 401, 403, 404, 405, 414, 426, 429, 500, 503, 505, 599};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        n = cw_http_error_response(out, sizeof out, statuses[i], NULL);
        CHECK(n > 0);
        out[n] = 0;
        const char *cl = strstr(out, "Content-Length: ");
        const char *body = strstr(out, "\r\n\r\n");
        CHECK(cl != NULL && body != NULL);
        if (cl && body) {
            long len = 0;
            sscanf(cl + 16, "%ld", &len);
            CHECK_EQ(len, (long)(n - (size_t)(body + 4 - out)));
        }
    }
    /* too small: 0, never a truncated response */
    CHECK_EQ(cw_http_error_response(out, sizeof w400 - 1, 400, NULL), 0);
    CHECK_EQ(cw_http_error_response(out, sizeof w400, 400, NULL), sizeof w400 - 1);
}

int main(void)
{
    RUN(test_valid_rfc_sample);
    RUN(test_valid_variants);
    RUN(test_failures);
    RUN(test_list_headers_on_several_lines);
    RUN(test_repeated_headers);
    RUN(test_is_upgrade);
    RUN(test_response_head);
    RUN(test_error_responses);
    return cw_unit_done();
}
