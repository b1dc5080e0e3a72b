/* SPDX-License-Identifier: MIT */
/* test_scope.c: what cw_http_prepare_scope makes of a parsed request head:
 * header names and values as C strings, the query split and percent-decoded
 * ('+' is a space, %00 drops the parameter, bad escapes stay literal),
 * Cookie headers split into pairs (quoted values too); and the parser's
 * tolerance of empty lines before the request line. Then the scope of a
 * connection slot set up by hand (no socket): cw_path rebuilt from the
 * route pattern and arguments, cw_peer for IPv4 and IPv6, and their
 * caller-buffer variants, which write all of the text or an empty string
 * (CW_ETOOBIG), never a truncated one. */
#include "core/conn.h"
#include "core/runtime.h"
#include "proto/http.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

static cw_http_req req;

/* Parses a whole head; returns the parser's answer. */
static int parse(const char *s)
{
    cw_http_init(&req);
    size_t n = strlen(s);
    memcpy(req.data, s, n);
    req.len = (uint16_t)n;
    return cw_http_parse(&req);
}

static int prepare(const char *s)
{
    int st = parse(s);
    if (st == CW_HTTP_DONE)
        cw_http_prepare_scope(&req);
    return st;
}

static int str_is(const char *got, const char *want)
{
    return got && strcmp(got, want) == 0;
}

static void test_headers_as_strings(void)
{
    CHECK_EQ(prepare("GET /ws/ HTTP/1.1\r\nHost: example.com:8080\r\nX-Empty:\r\n"
                     "X-Spaces:   a  b \t \r\nUser-Agent: t/1\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\n"),
             CW_HTTP_DONE);
    CHECK(str_is(cw_http_header_value(&req, "host"), "example.com:8080"));
    CHECK(str_is(cw_http_header_value(&req, "HOST"), "example.com:8080"));
    CHECK(str_is(cw_http_header_value(&req, "x-empty"), ""));
    CHECK(str_is(cw_http_header_value(&req, "X-Spaces"), "a  b"));
    CHECK(str_is(cw_http_header_value(&req, "user-agent"), "t/1"));
    CHECK(str_is(cw_http_header_value(&req, "x-dup"), "1")); /* the first one */
    CHECK(cw_http_header_value(&req, "x-missing") == NULL);
    CHECK(cw_http_header_value(&req, "hos") == NULL);
    /* names are C strings in place too */
    CHECK(str_is(req.data + req.hdr[0].name.off, "Host"));
    CHECK(str_is(req.data + req.hdr[3].name.off, "User-Agent"));
    /* spans keep working after the terminators went in */
    CHECK(cw_http_span_eq(&req, req.hdr[0].value, "example.com:8080"));
    CHECK(cw_http_span_eq(&req, req.method, "GET"));
    CHECK(cw_http_span_eq(&req, req.path, "/ws/"));
    CHECK_EQ(req.nparams, 0);
    /* a bare-LF request too */
    CHECK_EQ(prepare("GET / HTTP/1.1\nHost: h\nA: b\n\n"), CW_HTTP_DONE);
    CHECK(str_is(cw_http_header_value(&req, "host"), "h"));
    CHECK(str_is(cw_http_header_value(&req, "a"), "b"));
}

static void test_query(void)
{
    CHECK_EQ(prepare("GET /ws/chat/x/?token=a%20b&x=1+2&empty=&noeq&%41=%42&bad=%zz%4"
                     "&nul=x%00y&=v&dup=1&dup=2&eq=a=b&plus=%2B&hi=%e9&tail=% HTTP/1.1\r\n"
                     "Host: h\r\n\r\n"),
             CW_HTTP_DONE);
    CHECK(str_is(cw_http_param(&req, "token"), "a b"));
    CHECK(str_is(cw_http_param(&req, "x"), "1 2"));
    CHECK(str_is(cw_http_param(&req, "empty"), ""));
    CHECK(str_is(cw_http_param(&req, "noeq"), ""));
    CHECK(str_is(cw_http_param(&req, "A"), "B"));    /* names are decoded too */
    CHECK(cw_http_param(&req, "%41") == NULL);
    CHECK(str_is(cw_http_param(&req, "bad"), "%zz%4")); /* kept literally */
    CHECK(cw_http_param(&req, "nul") == NULL);         /* %00 drops the parameter */
    CHECK(cw_http_param(&req, "") == NULL);            /* no name, no parameter */
    CHECK(str_is(cw_http_param(&req, "dup"), "1"));
    CHECK(str_is(cw_http_param(&req, "eq"), "a=b"));
    CHECK(str_is(cw_http_param(&req, "plus"), "+"));
    CHECK(str_is(cw_http_param(&req, "hi"), "\xe9")); /* bytes, not checked as UTF-8 */
    CHECK(str_is(cw_http_param(&req, "tail"), "%"));
    CHECK(cw_http_param(&req, "token ") == NULL);
    CHECK(cw_http_param(&req, "Token") == NULL);       /* case-sensitive */
    CHECK_EQ(req.nparams, 12);
    /* the path is untouched */
    CHECK(cw_http_span_eq(&req, req.path, "/ws/chat/x/"));
    CHECK(str_is(cw_http_header_value(&req, "host"), "h"));
}

static void test_query_edges(void)
{
    /* an empty query, stray '&'s */
    CHECK_EQ(prepare("GET /?&&a=1&& HTTP/1.1\r\n\r\n"), CW_HTTP_DONE);
    CHECK_EQ(req.nparams, 1);
    CHECK(str_is(cw_http_param(&req, "a"), "1"));
    CHECK_EQ(prepare("GET /? HTTP/1.1\r\n\r\n"), CW_HTTP_DONE);
    CHECK_EQ(req.nparams, 0);
    CHECK(cw_http_param(&req, "a") == NULL);
    /* escapes at the very end of a value and of the query */
    CHECK_EQ(prepare("GET /?a=%41&b=%4 HTTP/1.1\r\n\r\n"), CW_HTTP_DONE);
    CHECK(str_is(cw_http_param(&req, "a"), "A"));
    CHECK(str_is(cw_http_param(&req, "b"), "%4"));
    CHECK_EQ(prepare("GET /?a=%4&b=%41 HTTP/1.1\r\n\r\n"), CW_HTTP_DONE);
    CHECK(str_is(cw_http_param(&req, "a"), "%4"));
    CHECK(str_is(cw_http_param(&req, "b"), "A"));
    /* an absolute-form target has its query split the same way */
    CHECK_EQ(prepare("GET http://h:1/ws/?token=t%2Ex HTTP/1.1\r\n\r\n"), CW_HTTP_DONE);
    CHECK(str_is(cw_http_param(&req, "token"), "t.x"));
    /* a name with %00 drops the parameter, its neighbours stay */
    CHECK_EQ(prepare("GET /?a=1&b%00=2&c=3 HTTP/1.1\r\n\r\n"), CW_HTTP_DONE);
    CHECK_EQ(req.nparams, 2);
    CHECK(str_is(cw_http_param(&req, "a"), "1"));
    CHECK(cw_http_param(&req, "b") == NULL);
    CHECK(str_is(cw_http_param(&req, "c"), "3"));
}

static void test_query_limit(void)
{
    char r[600];
    size_t o = (size_t)snprintf(r, sizeof r, "GET /?");
    for (int i = 0; i < CW_HTTP_MAX_PARAMS + 4; i++)
        o += (size_t)snprintf(r + o, sizeof r - o, "%sp%d=%d", i ? "&" : "", i, i);
    snprintf(r + o, sizeof r - o, " HTTP/1.1\r\n\r\n");
    CHECK_EQ(prepare(r), CW_HTTP_DONE);
    CHECK_EQ(req.nparams, CW_HTTP_MAX_PARAMS);
    char name[16], val[16];
    snprintf(name, sizeof name, "p%d", CW_HTTP_MAX_PARAMS - 1);
    snprintf(val, sizeof val, "%d", CW_HTTP_MAX_PARAMS - 1);
    CHECK(str_is(cw_http_param(&req, name), val));
    snprintf(name, sizeof name, "p%d", CW_HTTP_MAX_PARAMS);
    CHECK(cw_http_param(&req, name) == NULL);
}

static void test_cookies(void)
{
    CHECK_EQ(prepare("GET / HTTP/1.1\r\nCookie: a=1; b=\"q v\"; c=; d; e=x=y;f=2\r\n"
                     "Host: h\r\ncookie: g=7;  h = 8 ; q=\"\r\n\r\n"),
             CW_HTTP_DONE);
    CHECK(str_is(cw_http_cookie(&req, "a"), "1"));
    CHECK(str_is(cw_http_cookie(&req, "b"), "q v")); /* quotes removed */
    CHECK(str_is(cw_http_cookie(&req, "c"), ""));
    CHECK(cw_http_cookie(&req, "d") == NULL);        /* no '=': not a pair */
    CHECK(str_is(cw_http_cookie(&req, "e"), "x=y"));
    CHECK(str_is(cw_http_cookie(&req, "f"), "2"));   /* no space after ';' */
    CHECK(str_is(cw_http_cookie(&req, "g"), "7"));   /* a second Cookie header */
    CHECK(str_is(cw_http_cookie(&req, "h"), "8"));   /* blanks around name and value trimmed */
    CHECK(str_is(cw_http_cookie(&req, "q"), "\""));  /* a lone quote stays */
    CHECK(cw_http_cookie(&req, "A") == NULL);        /* case-sensitive */
    CHECK(cw_http_cookie(&req, "jwt") == NULL);
    /* a pair without a name is not a cookie */
    CHECK_EQ(prepare("GET / HTTP/1.1\r\nCookie: =v; ok=1\r\n\r\n"), CW_HTTP_DONE);
    CHECK(cw_http_cookie(&req, "") == NULL);
    CHECK(str_is(cw_http_cookie(&req, "ok"), "1"));
    /* the cookie values are not percent-decoded */
    CHECK_EQ(prepare("GET / HTTP/1.1\r\nCookie: jwt=a%2Eb+c\r\n\r\n"), CW_HTTP_DONE);
    CHECK(str_is(cw_http_cookie(&req, "jwt"), "a%2Eb+c"));
}

/* Cookies are parsed on demand: every cookie is found, the raw header stays
 * intact, and a value longer than CW_HTTP_COOKIE_MAX is not returned. */
static void test_cookie_limit(void)
{
    static char r[CW_HTTP_COOKIE_MAX + 700];
    size_t o = (size_t)snprintf(r, sizeof r, "GET / HTTP/1.1\r\nCookie: ");
    for (int i = 0; i < CW_HTTP_MAX_PARAMS + 3; i++)
        o += (size_t)snprintf(r + o, sizeof r - o, "%sc%d=%d", i ? "; " : "", i, i);
    snprintf(r + o, sizeof r - o, "\r\n\r\n");
    CHECK_EQ(prepare(r), CW_HTTP_DONE);
    CHECK(str_is(cw_http_cookie(&req, "c0"), "0"));
    char name[16], val[16];
    snprintf(name, sizeof name, "c%d", CW_HTTP_MAX_PARAMS + 2);
    snprintf(val, sizeof val, "%d", CW_HTTP_MAX_PARAMS + 2);
    CHECK(str_is(cw_http_cookie(&req, name), val));
    const char *raw = cw_http_header_value(&req, "cookie");
    CHECK(raw && strncmp(raw, "c0=0; c1=1; c2=2", 16) == 0);
    if (sizeof req.data > CW_HTTP_COOKIE_MAX + 100) {
        o = (size_t)snprintf(r, sizeof r, "GET / HTTP/1.1\r\nCookie: big=");
        memset(r + o, 'x', CW_HTTP_COOKIE_MAX + 1);
        o += CW_HTTP_COOKIE_MAX + 1;
        snprintf(r + o, sizeof r - o, "; ok=1\r\n\r\n");
        CHECK_EQ(prepare(r), CW_HTTP_DONE);
        CHECK(cw_http_cookie(&req, "big") == NULL);
        CHECK(str_is(cw_http_cookie(&req, "ok"), "1"));
    }
}

/* RFC 9112 section 2.2: a server SHOULD ignore at least one empty line
 * before the request line. */
static void test_empty_lines_before_request(void)
{
    CHECK_EQ(parse("\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n"), CW_HTTP_DONE);
    CHECK(cw_http_span_eq(&req, req.method, "GET"));
    CHECK(cw_http_span_eq(&req, req.path, "/a"));
    CHECK(cw_http_span_eq(&req, req.hdr[0].value, "h"));
    CHECK_EQ(parse("\n\nGET / HTTP/1.1\r\n\r\n"), CW_HTTP_DONE);
    CHECK(cw_http_span_eq(&req, req.method, "GET"));
    CHECK_EQ(parse("\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n"), CW_HTTP_DONE); /* 8 bytes */
    CHECK(cw_http_span_eq(&req, req.method, "GET"));
    /* a bounded allowance: more is garbage */
    CHECK_EQ(parse("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 400);
    /* byte by byte, the same */
    const char *s = "\r\n\r\nGET /b?x=1 HTTP/1.1\r\nHost: h\r\n\r\n";
    cw_http_init(&req);
    int st = CW_HTTP_MORE;
    for (size_t i = 0; s[i] && st == CW_HTTP_MORE; i++) {
        req.data[req.len++] = s[i];
        st = cw_http_parse(&req);
    }
    CHECK_EQ(st, CW_HTTP_DONE);
    CHECK_EQ(req.pos, strlen(s));
    CHECK(cw_http_span_eq(&req, req.method, "GET"));
    CHECK(cw_http_span_eq(&req, req.path, "/b"));
    CHECK(cw_http_span_eq(&req, req.query, "x=1"));
    /* only before the method: blanks or empty lines elsewhere stay errors */
    CHECK_EQ(parse(" GET / HTTP/1.1\r\n\r\n"), 400);
    CHECK_EQ(parse("\r\n GET / HTTP/1.1\r\n\r\n"), 400);
    CHECK_EQ(parse("G\r\nET / HTTP/1.1\r\n\r\n"), 400);
    /* an empty line only: still waiting for the request */
    CHECK_EQ(parse("\r\n"), CW_HTTP_MORE);
}

/* ---- the scope of a connection slot ---- */

static struct cw_conn conn;
static cw_route routes[2];
static const cw_consumer nothing;

/* conn on a route with pattern and the NUL-separated argument values args
 * (alen bytes, the last NUL included). */
static cw_conn *conn_on(const char *pattern, const char *args, size_t alen)
{
    memset(&conn, 0, sizeof conn);
    routes[1].pattern = pattern;
    routes[1].consumer = &nothing;
    cw_rt.opt.routes = routes;
    cw_rt.opt.nroutes = 2;
    conn.route = 1;
    CHECK(alen <= sizeof conn.args);
    memcpy(conn.args, args, alen <= sizeof conn.args ? alen : 0);
    return &conn;
}

static cw_conn *conn_from(uint8_t family, const uint8_t *addr, size_t alen, uint16_t port)
{
    cw_conn *c = conn_on("/", "", 1);
    c->peer.family = family;
    memcpy(c->peer.addr, addr, alen);
    c->peer.port = port;
    return c;
}

typedef long (*copy_fn)(cw_conn *c, char *out, size_t cap);

/* fn(c) into the first cap bytes of a larger buffer whose other bytes must
 * stay untouched; out gets what it wrote. Returns fn's answer. */
static long copy_into(copy_fn fn, cw_conn *c, size_t cap, char *out, size_t outcap)
{
    static char big[CW_PATH_BUF + 200];
    memset(big, '#', sizeof big);
    long r = fn(c, big, cap);
    size_t i = cap;
    while (i < sizeof big && big[i] == '#')
        i++;
    CHECK_EQ(i, sizeof big); /* nothing past cap */
    if (r < 0 && cap > 1)
        CHECK(big[0] == 0 && big[1] == '#'); /* the empty string, nothing else */
    snprintf(out, outcap, "%s", cap ? big : "");
    return r;
}

/* Exact fit, room to spare, one byte short and no room at all, for one of
 * the copy calls and the text it should give. */
static void check_copy(copy_fn fn, cw_conn *c, const char *want)
{
    char got[CW_PATH_BUF + 200];
    size_t n = strlen(want);
    CHECK_EQ(copy_into(fn, c, n + 1, got, sizeof got), n); /* exact fit */
    CHECK(strcmp(got, want) == 0);
    CHECK_EQ(copy_into(fn, c, n + 50, got, sizeof got), n);
    CHECK(strcmp(got, want) == 0);
    CHECK_EQ(copy_into(fn, c, n, got, sizeof got), CW_ETOOBIG); /* one byte short */
    CHECK(strcmp(got, "") == 0);
    CHECK_EQ(copy_into(fn, c, 1, got, sizeof got), CW_ETOOBIG);
    CHECK_EQ(fn(c, NULL, 0), CW_ETOOBIG); /* not even the NUL: nothing written */
}

static void test_path_copy(void)
{
    /* the argument values in pattern order */
    cw_conn *c = conn_on("/ws/chat/<room>/<k>/", "r1\0k", 5);
    check_copy(cw_path_copy, c, "/ws/chat/r1/k/");
    CHECK(strcmp(cw_path(c), "/ws/chat/r1/k/") == 0);
    /* an argument at the very end, and a pattern without any */
    c = conn_on("/ws/<room>", "abc", 4);
    check_copy(cw_path_copy, c, "/ws/abc");
    c = conn_on("/ws/echo/", "", 1);
    check_copy(cw_path_copy, c, "/ws/echo/");
    c = conn_on("/", "", 1);
    check_copy(cw_path_copy, c, "/");
    /* cw_path's buffer is overwritten by the next call, for any connection */
    const char *p = cw_path(c);
    CHECK(strcmp(p, "/") == 0);
    c = conn_on("/x/<a>/", "q", 2);
    CHECK(cw_path(c) == p);
    CHECK(strcmp(p, "/x/q/") == 0);
}

/* A path too long for cw_path's buffer comes back from it as "", and whole
 * from cw_path_copy given room. */
static void test_path_longer_than_static(void)
{
    static char pat[CW_PATH_BUF + 40];
    pat[0] = '/';
    memset(pat + 1, 'p', sizeof pat - 2);
    pat[sizeof pat - 1] = 0;
    cw_conn *c = conn_on(pat, "", 1);
    CHECK(strcmp(cw_path(c), "") == 0);
    check_copy(cw_path_copy, c, pat);
    pat[CW_PATH_BUF - 1] = 0; /* the longest that fits */
    CHECK(strcmp(cw_path(c), pat) == 0);
    pat[CW_PATH_BUF - 1] = 'p';
    pat[CW_PATH_BUF] = 0; /* one more */
    CHECK(strcmp(cw_path(c), "") == 0);
}

static void test_peer_copy(void)
{
    static const uint8_t v4[4] = {192, 168, 1, 20};
    cw_conn *c = conn_from(4, v4, sizeof v4, 5678);
    check_copy(cw_peer_copy, c, "192.168.1.20:5678");
    CHECK(strcmp(cw_peer(c), "192.168.1.20:5678") == 0);

    static const uint8_t lo6[16] = {[15] = 1};
    c = conn_from(6, lo6, sizeof lo6, 443);
    check_copy(cw_peer_copy, c, "[::1]:443");
    CHECK(strcmp(cw_peer(c), "[::1]:443") == 0);

    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x42};
    c = conn_from(6, v6, sizeof v6, 8080);
    check_copy(cw_peer_copy, c, "[2001:db8::42]:8080");

    /* the longest IPv6 text fits in CW_PEER_BUF */
    static uint8_t full[16];
    memset(full, 0xff, sizeof full);
    c = conn_from(6, full, sizeof full, 65535);
    static const char longest[] = "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535";
    check_copy(cw_peer_copy, c, longest);
    char buf[CW_PEER_BUF];
    CHECK_EQ(cw_peer_copy(c, buf, sizeof buf), sizeof longest - 1);
    CHECK(strcmp(cw_peer(c), longest) == 0);

    /* cw_peer's buffer is overwritten by the next call, for any connection */
    const char *p = cw_peer(c);
    c = conn_from(4, v4, sizeof v4, 1);
    CHECK(cw_peer(c) == p);
    CHECK(strcmp(p, "192.168.1.20:1") == 0);
}

int main(void)
{
    RUN(test_headers_as_strings);
    RUN(test_query);
    RUN(test_query_edges);
    RUN(test_query_limit);
    RUN(test_cookies);
    RUN(test_cookie_limit);
    RUN(test_empty_lines_before_request);
    RUN(test_path_copy);
    RUN(test_path_longer_than_static);
    RUN(test_peer_copy);
    return cw_unit_done();
}
