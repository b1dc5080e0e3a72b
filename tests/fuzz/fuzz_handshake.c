/* SPDX-License-Identifier: MIT */
/* fuzz_handshake.c: the opening-handshake checks (RFC 6455 section 4.2.1)
 * on requests whose header block comes from the fuzzer, against a second,
 * deliberately plain statement of the same rules: a request is upgraded
 * (101) exactly when the rules say so, and refused with 400 or 426
 * otherwise. Then the Origin check and the response heads.
 * Input: byte 0 picks the request line, the rest is the header block. */
#include "fuzz.h"

#include "core/auth.h"
#include "base/base64.h"
#include "proto/handshake.h"
#include "proto/http.h"

#include <string.h>

static cw_http_req req;

static const char *const lines[] = {
    "GET /ws/echo/ HTTP/1.1\r\n",
    "GET /ws/chat/room/?token=abc HTTP/1.1\r\n",
    "POST /ws/echo/ HTTP/1.1\r\n",
    "GET /ws/echo/ HTTP/1.0\r\n",
    "GET http://h/ws/echo/ HTTP/1.1\r\n",
    "HEAD / HTTP/1.1\r\n",
    "GET / HTTP/1.2\r\n",
    "get /ws/echo/ HTTP/1.1\r\n",
};

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int name_is(cw_span s, const char *name)
{
    size_t n = strlen(name);
    if (s.len != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)req.data[s.off + i]) != name[i])
            return 0;
    return 1;
}

static int count(const char *name, int *last)
{
    int n = 0;
    for (unsigned i = 0; i < req.nheaders; i++)
        if (name_is(req.hdr[i].name, name)) {
            if (n == 0)
                *last = (int)i;
            n++;
        }
    return n;
}

/* "a, b ,c" contains tok (case-insensitive, blanks around elements). */
static int list_has(cw_span v, const char *tok)
{
    size_t tn = strlen(tok), i = 0;
    const char *p = req.data + v.off;
    while (i < v.len) {
        size_t s = i;
        while (i < v.len && p[i] != ',')
            i++;
        size_t b = s, e = i;
        while (b < e && (p[b] == ' ' || p[b] == '\t'))
            b++;
        while (e > b && (p[e - 1] == ' ' || p[e - 1] == '\t'))
            e--;
        if (e - b == tn) {
            size_t k = 0;
            while (k < tn && lower((unsigned char)p[b + k]) == tok[k])
                k++;
            if (k == tn)
                return 1;
        }
        i++;
    }
    return 0;
}

static int value_is(cw_span v, const char *s)
{
    return v.len == strlen(s) && memcmp(req.data + v.off, s, v.len) == 0;
}

/* Some line named name lists tok: repeated lines of a list-valued header
 * make one list. */
static int any_has(const char *name, const char *tok)
{
    for (unsigned i = 0; i < req.nheaders; i++)
        if (name_is(req.hdr[i].name, name) && list_has(req.hdr[i].value, tok))
            return 1;
    return 0;
}

/* The rules, stated plainly. */
static int should_upgrade(void)
{
    int i = -1;
    if (!value_is(req.method, "GET") || req.version < 11)
        return 0;
    if (count("host", &i) != 1)
        return 0;
    if (count("origin", &i) > 1 || count("authorization", &i) > 1)
        return 0;
    if (!any_has("upgrade", "websocket") || !any_has("connection", "upgrade"))
        return 0;
    if (count("transfer-encoding", &i) > 0)
        return 0;
    int cl = count("content-length", &i);
    if (cl > 1 || (cl == 1 && !value_is(req.hdr[i].value, "0")))
        return 0;
    if (count("sec-websocket-version", &i) != 1 || !value_is(req.hdr[i].value, "13"))
        return 0;
    if (count("sec-websocket-key", &i) != 1 || req.hdr[i].value.len != 24)
        return 0;
    uint8_t raw[18];
    return cw_base64_decode(raw, sizeof raw, req.data + req.hdr[i].value.off, 24) == 16;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *line = lines[data[0] % (sizeof lines / sizeof lines[0])];
    cw_http_init(&req);
    size_t ll = strlen(line);
    if (ll + size - 1 + 2 > sizeof req.data)
        return 0;
    memcpy(req.data, line, ll);
    memcpy(req.data + ll, data + 1, size - 1);
    memcpy(req.data + ll + size - 1, "\r\n", 2);
    req.len = (uint16_t)(ll + size - 1 + 2);
    if (cw_http_parse(&req) != CW_HTTP_DONE)
        return 0;
    cw_handshake hs;
    cw_handshake_check(&req, &hs);
    int want = should_upgrade();
    FUZZ_ASSERT((hs.status == 101) == want);
    FUZZ_ASSERT(hs.status == 101 || hs.status == 400 || hs.status == 426);
    int i = -1;
    if (count("origin", &i) > 1 || count("authorization", &i) > 1)
        FUZZ_ASSERT(hs.status == 400); /* before any 426: a malformed request */
    char out[512];
    if (hs.status == 101) {
        count("sec-websocket-key", &i);
        char again[29];
        cw_handshake_accept_key(req.data + req.hdr[i].value.off, 24, again);
        FUZZ_ASSERT(strcmp(again, hs.accept) == 0);
        size_t n = cw_handshake_response(out, sizeof out, hs.accept, NULL);
        FUZZ_ASSERT(n > 0 && strstr(out, hs.accept) && memcmp(out + n - 4, "\r\n\r\n", 4) == 0);
    } else {
        size_t n = cw_http_error_response(out, sizeof out, hs.status, "Retry-After: 1\r\n");
        FUZZ_ASSERT(n > 0 && hs.why && *hs.why);
    }
    static const char *const allow[] = {"*"};
    FUZZ_ASSERT(cw_auth_origin_allowed(&req, allow, 1) == 1);
    (void)cw_auth_origin_allowed(&req, NULL, 0);
    return 0;
}
