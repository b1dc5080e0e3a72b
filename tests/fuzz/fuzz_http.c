/* SPDX-License-Identifier: MIT */
/* fuzz_http.c: the HTTP request-head parser fed the way the daemon feeds it
 * (reads of random sizes appended to the request buffer, cw_http_parse
 * after each), then what the daemon does with a complete head: the path,
 * routing, the handshake checks, the scope (headers, query, cookies), the
 * Origin check and the token lookup.
 * Oracles: the result does not depend on how the bytes were split; every
 * span lies inside the head; the scope strings are NUL-terminated inside
 * the buffer; statuses are the documented ones.
 * Input: byte 0 seeds the read sizes, the rest is what the client sends. */
#include "fuzz.h"

#include "core/auth.h"
#include "proto/handshake.h"
#include "proto/http.h"
#include "proto/router.h"

#include <string.h>

static cw_http_req whole, split;

/* Appends bytes like read_http does: never past the buffer. Returns the
 * parse result after the last read. */
static int feed(cw_http_req *r, const uint8_t *p, size_t n, fuzz_rng *rng)
{
    cw_http_init(r);
    size_t at = 0;
    int st = CW_HTTP_MORE;
    if (n == 0)
        return cw_http_parse(r);
    do {
        size_t room = sizeof r->data - r->len;
        size_t want = rng ? fuzz_rng_chunk(rng, n - at) : n - at;
        if (want > room)
            want = room;
        memcpy(r->data + r->len, p + at, want);
        r->len = (uint16_t)(r->len + want);
        at += want;
        st = cw_http_parse(r);
    } while (st == CW_HTTP_MORE && at < n && r->len < sizeof r->data);
    return st;
}

static void span_ok(const cw_http_req *r, cw_span s)
{
    FUZZ_ASSERT((size_t)s.off + s.len <= r->pos);
}

static int spans_equal(const cw_span *a, const cw_span *b)
{
    return a->off == b->off && a->len == b->len;
}

static void check_head(const cw_http_req *r)
{
    FUZZ_ASSERT(r->pos <= r->len && r->len <= sizeof r->data);
    FUZZ_ASSERT(r->nheaders <= CONFIG_HTTP_MAX_HEADERS);
    FUZZ_ASSERT(r->version >= 10 && r->version <= 19);
    span_ok(r, r->method);
    span_ok(r, r->target);
    span_ok(r, r->path);
    span_ok(r, r->query);
    FUZZ_ASSERT(r->method.len > 0 && r->path.len > 0);
    FUZZ_ASSERT(r->data[r->path.off] == '/');
    for (unsigned i = 0; i < r->nheaders; i++) {
        span_ok(r, r->hdr[i].name);
        span_ok(r, r->hdr[i].value);
        FUZZ_ASSERT(r->hdr[i].name.len > 0);
        /* the byte after a name is ':'; after a value CR, LF or a blank */
        FUZZ_ASSERT(r->data[r->hdr[i].name.off + r->hdr[i].name.len] == ':');
        char after = r->data[r->hdr[i].value.off + r->hdr[i].value.len];
        FUZZ_ASSERT(after == '\r' || after == '\n' || after == ' ' || after == '\t');
    }
}

static const char *const allow[] = {"https://allowed.example", "http://x:1"};

static void use_head(cw_http_req *r)
{
    check_head(r);
    /* As handle_request: the byte after the path is '?' or ' '. */
    char after = r->data[r->path.off + r->path.len];
    FUZZ_ASSERT(after == '?' || after == ' ');
    r->data[r->path.off + r->path.len] = 0;
    static const char *const routes[] = {"/ws/echo/", "/ws/chat/<room>/", "/ws/users/",
                                         "/a/<x>/b/<y>"};
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        char args[56];
        int n = cw_route_match(routes[i], r->data + r->path.off, r->path.len, args, sizeof args);
        FUZZ_ASSERT(n >= -1 && n <= CW_ROUTE_MAX_ARGS);
    }
    (void)cw_handshake_is_upgrade(r);
    cw_handshake hs;
    cw_handshake_check(r, &hs);
    FUZZ_ASSERT(hs.status == 101 || hs.status == 400 || hs.status == 426);
    char out[512];
    if (hs.status == 101) {
        FUZZ_ASSERT(strlen(hs.accept) == 28);
        FUZZ_ASSERT(cw_handshake_response(out, sizeof out, hs.accept, "chat") > 0);
    } else {
        FUZZ_ASSERT(hs.why != NULL);
        FUZZ_ASSERT(cw_http_error_response(out, sizeof out, hs.status, NULL) > 0);
    }
    (void)cw_auth_origin_allowed(r, allow, 2);
    cw_http_prepare_scope(r);
    FUZZ_ASSERT(r->nparams <= CW_HTTP_MAX_PARAMS);
    for (unsigned i = 0; i < r->nparams; i++) {
        /* decoded in place: NUL-terminated within the head */
        const char *n = r->data + r->param_name[i].off, *v = r->data + r->param_value[i].off;
        FUZZ_ASSERT(strlen(n) == r->param_name[i].len && strlen(v) == r->param_value[i].len);
        FUZZ_ASSERT(cw_http_param(r, n) != NULL);
    }
    for (unsigned i = 0; i < r->nheaders; i++) {
        const char *name = r->data + r->hdr[i].name.off;
        FUZZ_ASSERT(strlen(name) == r->hdr[i].name.len);
        const char *v = cw_http_header_value(r, name);
        FUZZ_ASSERT(v && strlen(v) <= r->pos);
    }
    static const char *const names[] = {"host", "origin", "cookie", "authorization", "x"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        (void)cw_http_header_value(r, names[i]);
        (void)cw_http_param(r, names[i]);
        const char *ck = cw_http_cookie(r, names[i]);
        FUZZ_ASSERT(!ck || strlen(ck) <= CW_HTTP_COOKIE_MAX);
    }
    const char *tok = cw_auth_find_token(r, "jwt", "token");
    FUZZ_ASSERT(!tok || (*tok && strlen(tok) < sizeof r->data));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fuzz_rng rng;
    fuzz_rng_seed(&rng, data[0]);
    data++;
    size--;
    int a = feed(&whole, data, size, NULL);
    int b = feed(&split, data, size, &rng);
    FUZZ_ASSERT(a == CW_HTTP_MORE || a == CW_HTTP_DONE || a == 400 || a == 414 || a == 431 ||
                a == 505);
    /* One read or many: the same answer, the same head. */
    FUZZ_ASSERT(a == b);
    if (a != CW_HTTP_DONE)
        return 0;
    FUZZ_ASSERT(whole.pos == split.pos && whole.nheaders == split.nheaders);
    FUZZ_ASSERT(whole.version == split.version);
    FUZZ_ASSERT(spans_equal(&whole.path, &split.path) && spans_equal(&whole.query, &split.query));
    for (unsigned i = 0; i < whole.nheaders; i++)
        FUZZ_ASSERT(spans_equal(&whole.hdr[i].name, &split.hdr[i].name) &&
                    spans_equal(&whole.hdr[i].value, &split.hdr[i].value));
    /* Parsing again after DONE changes nothing (more reads may follow). */
    FUZZ_ASSERT(cw_http_parse(&whole) == CW_HTTP_DONE);
    use_head(&whole);
    return 0;
}
