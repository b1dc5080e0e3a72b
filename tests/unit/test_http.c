/* SPDX-License-Identifier: MIT */
/* test_http.c: the incremental HTTP/1.1 request-head parser: the same bytes
 * fed whole, byte by byte and in random splits give the same spans; header
 * lookup and token lists; every error status the parser can answer. */
#include "proto/http.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

static uint64_t rng_state = 0x13198A2E03707344ull;

static uint32_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static cw_http_req ra, rb;

/* Appends n bytes (as a socket read would) and parses. */
static int feed(cw_http_req *r, const char *s, size_t n)
{
    if (n > sizeof r->data - r->len)
        n = sizeof r->data - r->len;
    memcpy(r->data + r->len, s, n);
    r->len = (uint16_t)(r->len + n);
    return cw_http_parse(r);
}

static int parse_whole(cw_http_req *r, const char *s, size_t n)
{
    cw_http_init(r);
    return feed(r, s, n);
}

/* Feeds in chunks of `chunk` bytes, or random 1..17 when chunk is 0, until
 * the parser answers something else than MORE or the input runs out. */
static int parse_chunks(cw_http_req *r, const char *s, size_t n, size_t chunk)
{
    cw_http_init(r);
    size_t i = 0;
    int st = cw_http_parse(r); /* nothing yet: MORE */
    if (st != CW_HTTP_MORE)
        return -1;
    while (i < n) {
        size_t k = chunk ? chunk : 1 + rng() % 17;
        if (k > n - i)
            k = n - i;
        st = feed(r, s + i, k);
        i += k;
        if (st != CW_HTTP_MORE)
            return st;
    }
    return st;
}

/* Two cuts: [0, a) [a, n) */
static int parse_cut(cw_http_req *r, const char *s, size_t n, size_t a)
{
    cw_http_init(r);
    int st = feed(r, s, a);
    if (st != CW_HTTP_MORE)
        return st;
    return feed(r, s + a, n - a);
}

static int same_span(cw_span x, cw_span y)
{
    return x.off == y.off && x.len == y.len;
}

/* Everything the parser reports, compared between two parses. */
static int same_result(const cw_http_req *x, const cw_http_req *y)
{
    if (x->pos != y->pos || x->version != y->version || x->nheaders != y->nheaders)
        return 0;
    if (!same_span(x->method, y->method) || !same_span(x->target, y->target) ||
        !same_span(x->path, y->path) || !same_span(x->query, y->query))
        return 0;
    for (unsigned i = 0; i < x->nheaders; i++)
        if (!same_span(x->hdr[i].name, y->hdr[i].name) || !same_span(x->hdr[i].value, y->hdr[i].value))
            return 0;
    return 1;
}

static const char *span_str(const cw_http_req *r, cw_span s)
{
    static char buf[4][256];
    static int k;
    char *b = buf[k++ & 3];
    size_t n = s.len < 255 ? s.len : 255;
    memcpy(b, r->data + s.off, n);
    b[n] = 0;
    return b;
}

#define CHECK_SPAN(r, s, want)                                                                     \
    do {                                                                                           \
        const char *g_ = span_str((r), (s));                                                       \
        if (strcmp(g_, (want)) != 0)                                                               \
            fprintf(stderr, "  span \"%s\", want \"%s\"\n", g_, (want));                           \
        CHECK(strcmp(g_, (want)) == 0);                                                            \
    } while (0)

static const char sample[] = "GET /ws/echo/?room=lobby&x=1 HTTP/1.1\r\n"
                             "Host: device.local:8080\r\n"
                             "Upgrade: websocket\r\n"
                             "Connection: keep-alive, Upgrade\r\n"
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n"
                             "X-Empty:\r\n"
                             "X-Spaces:  \t padded value \t \r\n"
                             "\r\n";

static void test_sample_spans(void)
{
    cw_http_req *r = &ra;
    CHECK_EQ(parse_whole(r, sample, strlen(sample)), CW_HTTP_DONE);
    CHECK_EQ(r->pos, strlen(sample));
    CHECK_SPAN(r, r->method, "GET");
    CHECK_SPAN(r, r->target, "/ws/echo/?room=lobby&x=1");
    CHECK_SPAN(r, r->path, "/ws/echo/");
    CHECK_SPAN(r, r->query, "room=lobby&x=1");
    CHECK_EQ(r->version, 11);
    CHECK_EQ(r->nheaders, 7);
    CHECK_SPAN(r, r->hdr[0].name, "Host");
    CHECK_SPAN(r, r->hdr[0].value, "device.local:8080");
    CHECK_SPAN(r, r->hdr[2].name, "Connection");
    CHECK_SPAN(r, r->hdr[2].value, "keep-alive, Upgrade");
    CHECK_SPAN(r, r->hdr[3].value, "dGhlIHNhbXBsZSBub25jZQ==");
    CHECK_SPAN(r, r->hdr[5].name, "X-Empty");
    CHECK_EQ(r->hdr[5].value.len, 0);
    CHECK_SPAN(r, r->hdr[6].value, "padded value"); /* OWS trimmed both sides */
}

static const char *const split_inputs[] = {
    sample,
    "GET / HTTP/1.1\r\n\r\n",
    "GET /a HTTP/1.0\nHost: x\n\n",
    "GET http://h.example:81/p/q?z HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /x?a?b HTTP/1.1\r\nA: 1\r\nB:2\r\nC:\t3\t\r\n\r\n",
    /* errors are found at the same byte however the input is split */
    "GE(T / HTTP/1.1\r\n\r\n",
    "GET / HTTP/2.0\r\n\r\n",
    "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
    "GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n",
    "GET / HTTP/1.1\rX\r\n\r\n",
};

static void test_split_equivalence(void)
{
    for (size_t t = 0; t < sizeof split_inputs / sizeof split_inputs[0]; t++) {
        const char *s = split_inputs[t];
        size_t n = strlen(s);
        int whole = parse_whole(&ra, s, n);
        CHECK(whole != CW_HTTP_MORE);
        int bad = 0;
        /* byte by byte, and chunks of 2, 3, 7 */
        static const size_t chunks[] = {1, 2, 3, 7};
        for (size_t c = 0; c < 4; c++) {
            int st = parse_chunks(&rb, s, n, chunks[c]);
            if (st != whole || !same_result(&ra, &rb))
                bad++;
        }
        /* every two-piece split */
        for (size_t a = 0; a <= n; a++) {
            int st = parse_cut(&rb, s, n, a);
            if (st != whole || !same_result(&ra, &rb))
                bad++;
        }
        /* random splits */
        for (int k = 0; k < 50; k++) {
            int st = parse_chunks(&rb, s, n, 0);
            if (st != whole || !same_result(&ra, &rb))
                bad++;
        }
        if (bad)
            fprintf(stderr, "  input %zu: %d differing parses\n", t, bad);
        CHECK_EQ(bad, 0);
    }
}

static void test_trailing_bytes_and_done(void)
{
    /* bytes after the head (a pipelined frame) are not parsed */
    char buf[128];
    const char *head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    size_t hn = strlen(head);
    memcpy(buf, head, hn);
    memcpy(buf + hn, "\x81\x85junk", 7);
    CHECK_EQ(parse_whole(&ra, buf, hn + 7), CW_HTTP_DONE);
    CHECK_EQ(ra.pos, hn);
    CHECK_EQ(ra.len, hn + 7);
    /* calling again after DONE changes nothing */
    CHECK_EQ(cw_http_parse(&ra), CW_HTTP_DONE);
    CHECK_EQ(ra.pos, hn);
    CHECK_EQ(cw_http_parse(&ra), CW_HTTP_DONE);
    CHECK_EQ(ra.pos, hn);
    /* an incomplete head asks for more, at every prefix */
    for (size_t k = 0; k < hn; k++) {
        int st = parse_whole(&rb, head, k);
        CHECK_EQ(st, CW_HTTP_MORE);
    }
    /* init resets a used request */
    cw_http_init(&ra);
    CHECK_EQ(ra.len, 0);
    CHECK_EQ(ra.pos, 0);
    CHECK_EQ(ra.nheaders, 0);
    CHECK_EQ(ra.version, 0);
    CHECK_EQ(ra.method.len, 0);
    CHECK_EQ(ra.target.len, 0);
    CHECK_EQ(ra.path.len, 0);
    CHECK_EQ(ra.query.len, 0);
}

static void test_header_lookup(void)
{
    const char *s = "GET / HTTP/1.1\r\n"
                    "Host: a\r\n"
                    "X-Dup: one\r\n"
                    "connection: Upgrade\r\n"
                    "x-dup: two\r\n"
                    "X-DUP: three\r\n"
                    "\r\n";
    cw_http_req *r = &ra;
    CHECK_EQ(parse_whole(r, s, strlen(s)), CW_HTTP_DONE);
    int count = -1;
    CHECK_EQ(cw_http_find(r, "host", &count), 0);
    CHECK_EQ(count, 1);
    CHECK_EQ(cw_http_find(r, "HOST", NULL), 0);
    CHECK_EQ(cw_http_find(r, "Connection", &count), 2);
    CHECK_EQ(count, 1);
    CHECK_EQ(cw_http_find(r, "x-dup", &count), 1); /* the first one */
    CHECK_EQ(count, 3);
    CHECK_EQ(cw_http_find(r, "x-du", &count), -1); /* no prefix matches */
    CHECK_EQ(count, 0);
    CHECK_EQ(cw_http_find(r, "x-dupe", NULL), -1);
    CHECK_EQ(cw_http_find(r, "", NULL), -1);
    /* span comparisons */
    CHECK(cw_http_span_eq(r, r->hdr[2].value, "Upgrade"));
    CHECK(!cw_http_span_eq(r, r->hdr[2].value, "upgrade"));
    CHECK(cw_http_span_ieq(r, r->hdr[2].value, "UPGRADE"));
    CHECK(!cw_http_span_ieq(r, r->hdr[2].value, "Upgrad"));
    CHECK(!cw_http_span_ieq(r, r->hdr[2].value, "Upgrades"));
    CHECK(cw_http_span_eq(r, r->method, "GET"));
    CHECK(!cw_http_span_eq(r, r->method, "GETX"));
}

static void test_token_lists(void)
{
    static const struct {
        const char *value, *tok;
        int want;
    } v[] = {
        {"keep-alive, Upgrade", "upgrade", 1},
        {"keep-alive, Upgrade", "keep-alive", 1},
        {"keep-alive, Upgrade", "KEEP-ALIVE", 1},
        {"keep-alive, Upgrade", "alive", 0},
        {"keep-alive, Upgrade", "keep", 0},
        {"keep-alive, Upgrade", "upgrad", 0},
        {"keep-alive, Upgrade", "keep-alive, upgrade", 0},
        {"Upgrade", "upgrade", 1},
        {"Upgrade2", "upgrade", 0},
        {"xUpgrade", "upgrade", 0},
        {"upgrade,keep-alive", "keep-alive", 1},
        {" ,, upgrade ,,", "upgrade", 1},
        {"\tupgrade\t, close", "upgrade", 1},
        {"close", "upgrade", 0},
        {"", "upgrade", 0},
        {"websocket", "websocket", 1},
        {"h2c, WebSocket", "websocket", 1},
        {"websocket/13", "websocket", 0},
        {"foo bar, baz", "bar", 0},
        {"foo bar, baz", "foo bar", 1},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "GET / HTTP/1.1\r\nX: %s\r\n\r\n", v[i].value);
        CHECK_EQ(parse_whole(&ra, req, strlen(req)), CW_HTTP_DONE);
        int got = cw_http_has_token(&ra, ra.hdr[0].value, v[i].tok);
        if (got != v[i].want)
            fprintf(stderr, "  \"%s\" has \"%s\": %d\n", v[i].value, v[i].tok, got);
        CHECK_EQ(got, v[i].want);
    }
}

/* A list-valued header sent as several lines is one comma-joined list
 * (RFC 9110 section 5.3): every line is searched, names in any case, and
 * other headers' lists are not. */
static void test_token_lists_across_lines(void)
{
    const char *s = "GET / HTTP/1.1\r\n"
                    "Connection: keep-alive\r\n"
                    "Upgrade: h2c\r\n"
                    "X-Other: websocket\r\n"
                    "CONNECTION: close, Upgrade\r\n"
                    "upgrade: foo/2\r\n"
                    "Upgrade: WebSocket\r\n"
                    "Connection:\r\n"
                    "\r\n";
    cw_http_req *r = &ra;
    CHECK_EQ(parse_whole(r, s, strlen(s)), CW_HTTP_DONE);
    int count = -1;
    CHECK_EQ(cw_http_find(r, "connection", &count), 0);
    CHECK_EQ(count, 3);
    CHECK_EQ(cw_http_find(r, "upgrade", &count), 1);
    CHECK_EQ(count, 3);
    /* the first line alone has neither token: only the whole list does */
    CHECK_EQ(cw_http_has_token(r, r->hdr[0].value, "upgrade"), 0);
    CHECK_EQ(cw_http_has_token(r, r->hdr[1].value, "websocket"), 0);
    CHECK_EQ(cw_http_list_has_token(r, "connection", "upgrade"), 1);
    CHECK_EQ(cw_http_list_has_token(r, "Connection", "keep-alive"), 1);
    CHECK_EQ(cw_http_list_has_token(r, "connection", "close"), 1);
    CHECK_EQ(cw_http_list_has_token(r, "upgrade", "websocket"), 1);
    CHECK_EQ(cw_http_list_has_token(r, "upgrade", "h2c"), 1);
    CHECK_EQ(cw_http_list_has_token(r, "upgrade", "foo/2"), 1);
    CHECK_EQ(cw_http_list_has_token(r, "upgrade", "foo"), 0);
    CHECK_EQ(cw_http_list_has_token(r, "connection", "websocket"), 0); /* X-Other's */
    CHECK_EQ(cw_http_list_has_token(r, "x-other", "websocket"), 1);
    CHECK_EQ(cw_http_list_has_token(r, "x-absent", "websocket"), 0);
    CHECK_EQ(cw_http_list_has_token(r, "upgrad", "websocket"), 0); /* no prefix match */
    /* no line has it */
    const char *t = "GET / HTTP/1.1\r\nUpgrade: h2c\r\nUpgrade: websocket2\r\n\r\n";
    CHECK_EQ(parse_whole(r, t, strlen(t)), CW_HTTP_DONE);
    CHECK_EQ(cw_http_list_has_token(r, "upgrade", "websocket"), 0);
}

static void test_errors(void)
{
    static const struct {
        const char *req;
        int status;
    } v[] = {
        {"G(T / HTTP/1.1\r\n\r\n", 400},           /* not a token char */
        {"GET\x01 / HTTP/1.1\r\n\r\n", 400},
        {"G\xC3\xA9T / HTTP/1.1\r\n\r\n", 400},
        {" / HTTP/1.1\r\n\r\n", 400},              /* empty method */
        {"GET  / HTTP/1.1\r\n\r\n", 400},          /* empty target */
        {"GET /\r\n\r\n", 400},                    /* missing version */
        {"GET / \r\n\r\n", 400},                   /* empty version */
        {"GET /\tx HTTP/1.1\r\n\r\n", 400},        /* control byte in the target */
        {"GET /\xC3\xA9 HTTP/1.1\r\n\r\n", 400},   /* raw non-ASCII target */
        {"GET / HTTP/2.0\r\n\r\n", 505},
        {"GET / HTTP/3.0\r\n\r\n", 505},
        {"GET / HTTP/0.9\r\n\r\n", 505},
        {"GET / HTTP/1.x\r\n\r\n", 400},
        {"GET / HTTPS/1.1\r\n\r\n", 400},
        {"GET / http/1.1\r\n\r\n", 400},           /* the version is case-sensitive */
        {"GET / HTTP/1.1x\r\n\r\n", 400},
        {"GET / HTTP/1.10\r\n\r\n", 400},
        {"GET / HTTP/11\r\n\r\n", 400},
        {"GET / HTTP/1.1 \r\n\r\n", 400},
        {"GET / HTTP/1.1\rX\r\n\r\n", 400},        /* CR without LF */
        {"GET / HTTP/1.1\r\nHost: a\rX\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\n\rX", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400},  /* obs-fold */
        {"GET / HTTP/1.1\r\nHost: a\r\n\tfolded\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},            /* space before the colon */
        {"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n: a\r\n\r\n", 400},                 /* empty name */
        {"GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost\r\n\r\n", 400},                /* no colon */
        {"GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n", 400},           /* control bytes in values */
        {"GET / HTTP/1.1\r\nX: a\x7Fz\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nX: a\x1Bz\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nX: a\x1Fz\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nX: a\rz\r\n\r\n", 400},       /* bare CR inside a value */
        {"GET http://h HTTP/1.1\r\n\r\n", 400},                 /* absolute-form without a path */
        {"GET h:80 HTTP/1.1\r\n\r\n", 400},                     /* authority-form */
        {"GET * HTTP/1.1\r\n\r\n", 400},                        /* asterisk-form */
        {"GET http:/x/ HTTP/1.1\r\n\r\n", 400},
        {"GET http://h?q HTTP/1.1\r\n\r\n", 400},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        int st = parse_whole(&ra, v[i].req, strlen(v[i].req));
        if (st != v[i].status)
            fprintf(stderr, "  request %zu: %d\n", i, st);
        CHECK_EQ(st, v[i].status);
        /* byte by byte gives the same answer */
        CHECK_EQ(parse_chunks(&rb, v[i].req, strlen(v[i].req), 1), v[i].status);
    }
    /* a NUL byte in a value */
    const char nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
    CHECK_EQ(parse_whole(&ra, nul, sizeof nul - 1), 400);
    /* HTTP/1.0 and 1.1 are both parsed, and a later 1.x minor (RFC 9112
     * section 2.3); the handshake decides */
    CHECK_EQ(parse_whole(&ra, "GET / HTTP/1.0\r\n\r\n", 18), CW_HTTP_DONE);
    CHECK_EQ(ra.version, 10);
    CHECK_EQ(parse_whole(&ra, "GET / HTTP/1.9\r\n\r\n", 18), CW_HTTP_DONE);
    CHECK_EQ(ra.version, 19);
    /* lower-case methods and other tokens are the handshake's business */
    CHECK_EQ(parse_whole(&ra, "get / HTTP/1.1\r\n\r\n", 18), CW_HTTP_DONE);
    CHECK_SPAN(&ra, ra.method, "get");
    CHECK_EQ(parse_whole(&ra, "M-SEARCH! / HTTP/1.1\r\n\r\n", 24), CW_HTTP_DONE);
    CHECK_SPAN(&ra, ra.method, "M-SEARCH!");
}

static void test_value_bytes(void)
{
    /* tabs and obs-text (0x80..0xFF) are allowed inside values */
    const char *s = "GET / HTTP/1.1\r\nX: a\tb \xC3\xA9 c\r\nY:v\r\n\r\n";
    CHECK_EQ(parse_whole(&ra, s, strlen(s)), CW_HTTP_DONE);
    CHECK_SPAN(&ra, ra.hdr[0].value, "a\tb \xC3\xA9 c");
    CHECK_SPAN(&ra, ra.hdr[1].name, "Y");
    CHECK_SPAN(&ra, ra.hdr[1].value, "v");
    /* a value made only of whitespace is empty */
    s = "GET / HTTP/1.1\r\nX: \t \r\n\r\n";
    CHECK_EQ(parse_whole(&ra, s, strlen(s)), CW_HTTP_DONE);
    CHECK_EQ(ra.hdr[0].value.len, 0);
}

static void test_too_many_headers(void)
{
    static char req[CONFIG_HTTP_MAX_REQUEST + 64];
    const size_t cap = CONFIG_HTTP_MAX_REQUEST;
    size_t n = 0;
    n += (size_t)snprintf(req + n, sizeof req - n, "GET / HTTP/1.1\r\n");
    int i = 0;
    while (i < CONFIG_HTTP_MAX_HEADERS && n + 40 <= cap) {
        n += (size_t)snprintf(req + n, sizeof req - n, "H%d: %d\r\n", i, i);
        i++;
    }
    if (i < CONFIG_HTTP_MAX_HEADERS) {
        /* CONFIG_HTTP_MAX_HEADERS lines do not fit CONFIG_HTTP_MAX_REQUEST:
         * the buffer fills first, and that is the 431, with every header
         * line it held parsed and none past the count. */
        while (n <= cap) {
            n += (size_t)snprintf(req + n, sizeof req - n, "H%d: %d\r\n", i, i);
            i++;
        }
        CHECK_EQ(parse_whole(&ra, req, n), 431);
        CHECK_EQ(ra.len, cap);
        CHECK(ra.nheaders > 0 && ra.nheaders < CONFIG_HTTP_MAX_HEADERS);
        CHECK_EQ(parse_chunks(&rb, req, n, 1), 431);
        CHECK_EQ(rb.nheaders, ra.nheaders);
        return;
    }
    size_t base = n;
    n += (size_t)snprintf(req + n, sizeof req - n, "\r\n");
    CHECK_EQ(parse_whole(&ra, req, n), CW_HTTP_DONE);
    CHECK_EQ(ra.nheaders, CONFIG_HTTP_MAX_HEADERS);
    char last[16];
    snprintf(last, sizeof last, "%d", CONFIG_HTTP_MAX_HEADERS - 1);
    CHECK_SPAN(&ra, ra.hdr[CONFIG_HTTP_MAX_HEADERS - 1].value, last);
    /* one more */
    n = base;
    n += (size_t)snprintf(req + n, sizeof req - n, "Extra: 1\r\n\r\n");
    CHECK_EQ(parse_whole(&ra, req, n), 431);
    CHECK_EQ(parse_chunks(&rb, req, n, 1), 431);
    CHECK_EQ(rb.nheaders, CONFIG_HTTP_MAX_HEADERS);
}

static void test_buffer_full(void)
{
    static char req[CONFIG_HTTP_MAX_REQUEST + 16];
    const size_t cap = sizeof ra.data;
    CHECK_EQ(cap, CONFIG_HTTP_MAX_REQUEST);
    /* still in the request line (a huge target): 414 */
    memcpy(req, "GET /", 5);
    memset(req + 5, 'a', sizeof req - 5);
    CHECK_EQ(parse_whole(&ra, req, cap), 414);
    CHECK_EQ(parse_chunks(&rb, req, cap, 1000), 414);
    CHECK_EQ(parse_whole(&ra, req, cap - 1), CW_HTTP_MORE); /* not full yet */
    /* a huge method also fills the request line */
    memset(req, 'G', cap);
    CHECK_EQ(parse_whole(&ra, req, cap), 414);
    /* in the version, just before its end */
    size_t n = cap - 9;
    memcpy(req, "GET /", 5);
    memset(req + 5, 'b', n - 5);
    memcpy(req + n, " HTTP/1.", 8);
    CHECK_EQ(parse_whole(&ra, req, n + 8), CW_HTTP_MORE);
    memcpy(req + n, " HTTP/1.1", 9);
    CHECK_EQ(parse_whole(&ra, req, cap), 414);
    /* in the headers: 431 */
    n = (size_t)snprintf(req, sizeof req, "GET / HTTP/1.1\r\nX: ");
    memset(req + n, 'v', sizeof req - n);
    CHECK_EQ(parse_whole(&ra, req, cap), 431);
    CHECK_EQ(parse_chunks(&rb, req, cap, 333), 431);
    /* right after the request line's CR: already in the header part */
    n = cap - 1;
    memcpy(req, "GET /", 5);
    memset(req + 5, 'c', n - 5 - 9);
    memcpy(req + n - 9, " HTTP/1.1", 9);
    req[n] = '\r';
    CHECK_EQ(parse_whole(&ra, req, cap), 431);
    /* a head that ends exactly at the last byte of the buffer is fine */
    n = (size_t)snprintf(req, sizeof req, "GET / HTTP/1.1\r\nX: ");
    size_t fill = cap - n - 4;
    memset(req + n, 'w', fill);
    memcpy(req + n + fill, "\r\n\r\n", 4);
    CHECK_EQ(parse_whole(&ra, req, cap), CW_HTTP_DONE);
    CHECK_EQ(ra.pos, cap);
    CHECK_EQ(ra.hdr[0].value.len, fill);
    CHECK_EQ(parse_chunks(&rb, req, cap, 1), CW_HTTP_DONE);
    CHECK(same_result(&ra, &rb));
}

static void test_bare_lf(void)
{
    const char *s = "GET /p?q=1 HTTP/1.1\nHost: a\nUpgrade: websocket\n\n";
    CHECK_EQ(parse_whole(&ra, s, strlen(s)), CW_HTTP_DONE);
    CHECK_EQ(ra.pos, strlen(s));
    CHECK_EQ(ra.nheaders, 2);
    CHECK_SPAN(&ra, ra.hdr[0].value, "a");
    CHECK_SPAN(&ra, ra.hdr[1].name, "Upgrade");
    CHECK_SPAN(&ra, ra.hdr[1].value, "websocket");
    /* mixed line endings */
    s = "GET / HTTP/1.1\r\nA: 1\nB: 2\r\n\n";
    CHECK_EQ(parse_whole(&ra, s, strlen(s)), CW_HTTP_DONE);
    CHECK_EQ(ra.nheaders, 2);
    CHECK_SPAN(&ra, ra.hdr[1].value, "2");
    s = "GET / HTTP/1.1\n\r\n";
    CHECK_EQ(parse_whole(&ra, s, strlen(s)), CW_HTTP_DONE);
    CHECK_EQ(ra.pos, strlen(s));
    /* a value does not keep a CR */
    s = "GET / HTTP/1.1\r\nA: 1\r\n\r\n";
    CHECK_EQ(parse_whole(&ra, s, strlen(s)), CW_HTTP_DONE);
    CHECK_SPAN(&ra, ra.hdr[0].value, "1");
}

static void test_targets(void)
{
    static const struct {
        const char *target, *path, *query;
    } v[] = {
        {"/", "/", ""},
        {"/ws/echo/", "/ws/echo/", ""},
        {"/ws/chat/lobby/?token=abc&x=1", "/ws/chat/lobby/", "token=abc&x=1"},
        {"/p?", "/p", ""},
        {"/p?a?b=c", "/p", "a?b=c"},
        {"/%20x?%3F", "/%20x", "%3F"},
        {"http://example.com/ws/echo/", "/ws/echo/", ""},
        {"http://example.com:8080/ws/echo/?a=b", "/ws/echo/", "a=b"},
        {"ws://[::1]:80/x?y", "/x", "y"},
        {"https://user@h/p", "/p", ""},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char req[256];
        int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", v[i].target);
        CHECK_EQ(parse_whole(&ra, req, (size_t)n), CW_HTTP_DONE);
        CHECK_SPAN(&ra, ra.target, v[i].target);
        CHECK_SPAN(&ra, ra.path, v[i].path);
        CHECK_SPAN(&ra, ra.query, v[i].query);
    }
    /* no query: an empty span; an empty query: an empty span inside the target */
    CHECK_EQ(parse_whole(&ra, "GET /p HTTP/1.1\r\n\r\n", 19), CW_HTTP_DONE);
    CHECK_EQ(ra.query.len, 0);
    CHECK_EQ(parse_whole(&ra, "GET /p? HTTP/1.1\r\n\r\n", 20), CW_HTTP_DONE);
    CHECK_EQ(ra.query.len, 0);
    CHECK_EQ(ra.query.off, 7);
}

static void test_reason_phrases(void)
{
    CHECK(strcmp(cw_http_reason(101), "Switching Protocols") == 0);
    CHECK(strcmp(cw_http_reason(400), "Bad Request") == 0);
    CHECK(strcmp(cw_http_reason(404), "Not Found") == 0);
    CHECK(strcmp(cw_http_reason(414), "URI Too Long") == 0);
    CHECK(strcmp(cw_http_reason(426), "Upgrade Required") == 0);
    CHECK(strcmp(cw_http_reason(431), "Request Header Fields Too Large") == 0);
    CHECK(strcmp(cw_http_reason(503), "Service Unavailable") == 0);
    CHECK(strcmp(cw_http_reason(505), "HTTP Version Not Supported") == 0);
    CHECK(strcmp(cw_http_reason(299), "Error") == 0);
    CHECK(strcmp(cw_http_reason(403), "Forbidden") == 0);
    CHECK(strcmp(cw_http_reason(500), "Internal Server Error") == 0);
    /* Codes outside 100..999 never match a table entry's three digits. */
    CHECK(strcmp(cw_http_reason(1101), "Error") == 0);
    CHECK(strcmp(cw_http_reason(-101), "Error") == 0);
    CHECK(strcmp(cw_http_reason(0), "Error") == 0);
    /* Without CONFIG_HTTP_REASONS only the statuses the build sends have
     * a phrase: 408 and 413 come only from a consumer. */
#if defined(CONFIG_HTTP_REASONS)
    CHECK(strcmp(cw_http_reason(408), "Request Timeout") == 0);
    CHECK(strcmp(cw_http_reason(413), "Content Too Large") == 0);
    CHECK(strcmp(cw_http_reason(200), "OK") == 0);
#else
    CHECK(strcmp(cw_http_reason(408), "Error") == 0);
    CHECK(strcmp(cw_http_reason(413), "Error") == 0);
#endif
#if defined(CONFIG_HTTP_REASONS) || defined(CONFIG_STATIC_FILES) || defined(CONFIG_STATS_ENDPOINT)
    CHECK(strcmp(cw_http_reason(405), "Method Not Allowed") == 0);
    CHECK(strcmp(cw_http_reason(304), "Not Modified") == 0);
#endif
}

int main(void)
{
    RUN(test_sample_spans);
    RUN(test_split_equivalence);
    RUN(test_trailing_bytes_and_done);
    RUN(test_header_lookup);
    RUN(test_token_lists);
    RUN(test_token_lists_across_lines);
    RUN(test_errors);
    RUN(test_value_bytes);
    RUN(test_too_many_headers);
    RUN(test_buffer_full);
    RUN(test_bare_lf);
    RUN(test_targets);
    RUN(test_reason_phrases);
    return cw_unit_done();
}
