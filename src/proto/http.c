/* SPDX-License-Identifier: MIT */
/* http.c: request-head parser (RFC 9112 section 2-5, strict where it matters
 * for smuggling: no obs-fold, no whitespace before the colon, no control
 * bytes). A byte-at-a-time state machine, resumable at any byte. */
#include "proto/http.h"

#include <stdio.h>
#include <string.h>

enum {
    S_METHOD,
    S_TARGET,
    S_VERSION,
    S_REQ_LF,
    S_LINE_START,
    S_NAME,
    S_VALUE_OWS,
    S_VALUE,
    S_HDR_LF,
    S_END_LF,
    S_DONE
};

void cw_http_init(cw_http_req *r)
{
    r->len = 0;
    r->pos = 0;
    r->mark = 0;
    r->state = S_METHOD;
    r->version = 0;
    r->nheaders = 0;
    r->nparams = 0;
    r->file_fd = -1;
    memset(&r->method, 0, sizeof r->method * 4);
}

/* RFC 9110 tchar: ALPHA, DIGIT and !#$%&'*+-.^_`|~, one bit per byte
 * value below 128 (smaller than the range tests and a strchr). */
int cw_http_is_tchar(unsigned char c)
{
    static const uint8_t tchar[16] = {0x00, 0x00, 0x00, 0x00, 0xfa, 0x6c, 0xff, 0x03,
                                      0xfe, 0xff, 0xff, 0xc7, 0xff, 0xff, 0xff, 0x57};
    return c < 128 && (tchar[c >> 3] >> (c & 7) & 1);
}

static int is_vchar_or_obs(unsigned char c)
{
    return (c > 0x20 && c != 0x7F);
}

static cw_span span(uint16_t from, uint16_t to)
{
    cw_span s = {from, (uint16_t)(to - from)};
    return s;
}

/* Splits the target into path and query; accepts origin-form "/p?q" and
 * absolute-form "http://host/p?q" (RFC 9112 section 3.2.2). */
static int split_target(cw_http_req *r)
{
    const char *t = r->data + r->target.off;
    uint16_t n = r->target.len, i = 0;
    if (n == 0)
        return -1;
    if (t[0] != '/') {
        const char *sep = memchr(t, ':', n);
        if (!sep || (size_t)(sep - t) + 3 > n || sep[1] != '/' || sep[2] != '/')
            return -1;
        i = (uint16_t)(sep - t + 3);
        while (i < n && t[i] != '/' && t[i] != '?')
            i++;
        if (i == n || t[i] != '/')
            return -1;
    }
    uint16_t q = i;
    while (q < n && t[q] != '?')
        q++;
    r->path = span((uint16_t)(r->target.off + i), (uint16_t)(r->target.off + q));
    if (q < n)
        r->query = span((uint16_t)(r->target.off + q + 1), (uint16_t)(r->target.off + n));
    else
        r->query = span(0, 0);
    return 0;
}

static int check_version(cw_http_req *r, uint16_t end)
{
    const char *v = r->data + r->mark;
    if (end - r->mark != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' ||
        v[5] > '9' || v[7] < '0' || v[7] > '9')
        return 400;
    if (v[5] != '1')
        return 505;
    r->version = (uint8_t)(10 + (v[7] - '0'));
    return 0;
}

static int end_value(cw_http_req *r, uint16_t end)
{
    /* trim trailing whitespace */
    while (end > r->mark && (r->data[end - 1] == ' ' || r->data[end - 1] == '\t'))
        end--;
    r->hdr[r->nheaders - 1].value = span(r->mark, end);
    return 0;
}

int cw_http_parse(cw_http_req *r)
{
    if (r->state == S_DONE)
        return CW_HTTP_DONE; /* keep pos at the end of the head */
    while (r->pos < r->len) {
        unsigned char c = (unsigned char)r->data[r->pos];
        uint16_t at = r->pos;
        int err;
        r->pos++;
        switch (r->state) {
        case S_METHOD:
            if ((c == '\r' || c == '\n') && at == r->mark && at < 8) {
                r->mark = r->pos; /* RFC 9112 2.2: ignore empty lines before the request */
                break;
            }
            if (c == ' ') {
                if (at == r->mark)
                    return 400;
                r->method = span(r->mark, at);
                r->mark = r->pos;
                r->state = S_TARGET;
            } else if (!cw_http_is_tchar(c)) {
                return 400;
            }
            break;
        case S_TARGET:
            if (c == ' ') {
                r->target = span(r->mark, at);
                if (split_target(r) < 0)
                    return 400;
                r->mark = r->pos;
                r->state = S_VERSION;
            } else if (!is_vchar_or_obs(c) || c >= 0x80) {
                return 400;
            }
            break;
        case S_VERSION:
            if (c == '\r' || c == '\n') {
                if ((err = check_version(r, at)) != 0)
                    return err;
                r->state = c == '\r' ? S_REQ_LF : S_LINE_START;
            } else if (at - r->mark >= 8) {
                return 400;
            }
            break;
        case S_REQ_LF:
        case S_HDR_LF:
            if (c != '\n')
                return 400;
            r->state = S_LINE_START;
            break;
        case S_LINE_START:
            if (c == '\r') {
                r->state = S_END_LF;
            } else if (c == '\n') {
                r->state = S_DONE;
                return CW_HTTP_DONE;
            } else if (cw_http_is_tchar(c)) {
                if (r->nheaders >= CONFIG_HTTP_MAX_HEADERS)
                    return 431;
                r->nheaders++;
                r->mark = at;
                r->state = S_NAME;
            } else {
                return 400; /* obs-fold (leading SP/HT) or garbage */
            }
            break;
        case S_NAME:
            if (c == ':') {
                r->hdr[r->nheaders - 1].name = span(r->mark, at);
                r->state = S_VALUE_OWS;
            } else if (!cw_http_is_tchar(c)) {
                return 400; /* includes whitespace before the colon */
            }
            break;
        case S_VALUE_OWS:
            if (c == ' ' || c == '\t')
                break;
            r->mark = at;
            r->state = S_VALUE;
            /* fall through */
        case S_VALUE:
            if (c == '\r' || c == '\n') {
                end_value(r, at);
                r->state = c == '\r' ? S_HDR_LF : S_LINE_START;
            } else if (c != '\t' && (c < 0x20 || c == 0x7F)) {
                return 400;
            }
            break;
        case S_END_LF:
            if (c != '\n')
                return 400;
            r->state = S_DONE;
            return CW_HTTP_DONE;
        default:
            return CW_HTTP_DONE;
        }
    }
    if (r->len >= sizeof r->data)
        return r->state <= S_VERSION ? 414 : 431;
    return CW_HTTP_MORE;
}

static int ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return 0;
    }
    return 1;
}

int cw_http_span_eq(const cw_http_req *r, cw_span s, const char *str)
{
    size_t n = strlen(str);
    return s.len == n && memcmp(r->data + s.off, str, n) == 0;
}

int cw_http_span_ieq(const cw_http_req *r, cw_span s, const char *str)
{
    size_t n = strlen(str);
    return s.len == n && ieq(r->data + s.off, str, n);
}

int cw_http_find(const cw_http_req *r, const char *name, int *count)
{
    int found = -1, n = 0;
    for (unsigned i = 0; i < r->nheaders; i++) {
        if (cw_http_span_ieq(r, r->hdr[i].name, name)) {
            if (found < 0)
                found = (int)i;
            n++;
        }
    }
    if (count)
        *count = n;
    return found;
}

int cw_http_has_token(const cw_http_req *r, cw_span v, const char *tok)
{
    const char *p = r->data + v.off, *end = p + v.len;
    size_t tn = strlen(tok);
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        const char *s = p;
        while (p < end && *p != ',')
            p++;
        const char *e = p;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - s) == tn && ieq(s, tok, tn))
            return 1;
    }
    return 0;
}

int cw_http_list_has_token(const cw_http_req *r, const char *name, const char *tok)
{
    for (unsigned i = 0; i < r->nheaders; i++)
        if (cw_http_span_ieq(r, r->hdr[i].name, name) && cw_http_has_token(r, r->hdr[i].value, tok))
            return 1;
    return 0;
}

int cw_http_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20; /* 'A'-'F' to 'a'-'f' (and nothing else into that range) */
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decodes data[from..to) into data[from..], NUL-terminates, and
 * returns the decoded span; -1 (span untouched) when it would hold a NUL. */
static int url_decode(char *data, uint16_t from, uint16_t to, cw_span *out)
{
    uint16_t o = from;
    for (uint16_t i = from; i < to; i++) {
        char c = data[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < to && cw_http_hexval(data[i + 1]) >= 0 &&
                   cw_http_hexval(data[i + 2]) >= 0) {
            c = (char)(cw_http_hexval(data[i + 1]) * 16 + cw_http_hexval(data[i + 2]));
            i = (uint16_t)(i + 2);
            if (c == 0)
                return -1;
        }
        data[o++] = c;
    }
    data[o] = 0;
    out->off = from;
    out->len = (uint16_t)(o - from);
    return 0;
}

static void split_query(cw_http_req *r)
{
    uint16_t p = r->query.off, end = (uint16_t)(r->query.off + r->query.len);
    if (r->query.len == 0)
        return;
    while (p < end && r->nparams < CW_HTTP_MAX_PARAMS) {
        uint16_t amp = p;
        while (amp < end && r->data[amp] != '&')
            amp++;
        uint16_t eq = p;
        while (eq < amp && r->data[eq] != '=')
            eq++;
        if (eq > p) {
            cw_span n, v;
            uint16_t vfrom = eq < amp ? (uint16_t)(eq + 1) : amp;
            /* decode the value first: the name's NUL lands on '=' */
            if (url_decode(r->data, vfrom, amp, &v) == 0 &&
                url_decode(r->data, p, eq, &n) == 0) {
                r->param_name[r->nparams] = n;
                r->param_value[r->nparams] = v;
                r->nparams++;
            }
        }
        p = (uint16_t)(amp + 1);
    }
}

void cw_http_prepare_scope(cw_http_req *r)
{
    /* Every name is followed by ':' and every value by CR, LF or trailing
     * blanks: those bytes become the terminators. */
    for (unsigned i = 0; i < r->nheaders; i++) {
        r->data[r->hdr[i].name.off + r->hdr[i].name.len] = 0;
        r->data[r->hdr[i].value.off + r->hdr[i].value.len] = 0;
    }
    split_query(r);
}

const char *cw_http_header_value(const cw_http_req *r, const char *name)
{
    int i = cw_http_find(r, name, NULL);
    return i < 0 ? NULL : r->data + r->hdr[i].value.off;
}

const char *cw_http_param(const cw_http_req *r, const char *name)
{
    for (unsigned i = 0; i < r->nparams; i++)
        if (strcmp(r->data + r->param_name[i].off, name) == 0)
            return r->data + r->param_value[i].off;
    return NULL;
}

/* Looks name up in one Cookie header value ("a=1; b=\"x\""); copies the
 * value, without surrounding blanks or quotes, into out. */
static int cookie_in(const char *v, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    while (*v) {
        while (*v == ' ' || *v == '\t' || *v == ';')
            v++;
        const char *pair = v, *semi = strchr(v, ';');
        const char *end = semi ? semi : v + strlen(v);
        const char *eq = memchr(pair, '=', (size_t)(end - pair));
        v = end;
        if (!eq)
            continue;
        const char *ne = eq;
        while (ne > pair && (ne[-1] == ' ' || ne[-1] == '\t'))
            ne--;
        if ((size_t)(ne - pair) != nl || nl == 0 || memcmp(pair, name, nl) != 0)
            continue;
        const char *vs = eq + 1, *ve = end;
        while (vs < ve && (*vs == ' ' || *vs == '\t'))
            vs++;
        while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') {
            vs++;
            ve--;
        }
        if ((size_t)(ve - vs) >= cap)
            return -1; /* longer than any value we keep */
        memcpy(out, vs, (size_t)(ve - vs));
        out[ve - vs] = 0;
        return 0;
    }
    return -1;
}

const char *cw_http_cookie(const cw_http_req *r, const char *name)
{
    /* Parsed on demand, so the Cookie header itself stays intact. */
    static char value[CW_HTTP_COOKIE_MAX + 1];
    for (unsigned i = 0; i < r->nheaders; i++)
        if (cw_http_span_ieq(r, r->hdr[i].name, "cookie") &&
            cookie_in(r->data + r->hdr[i].value.off, name, value, sizeof value) == 0)
            return value;
    return NULL;
}

const char *cw_http_reason(int status)
{
    /* One string of "<3-digit code><phrase>\0" entries: a fixed-width
     * table of codes and phrases was twice as large. Without
     * CONFIG_HTTP_REASONS only the statuses this build sends have a
     * phrase (a consumer's other 4xx/5xx get "Error"). */
    static const char reasons[] = "101Switching Protocols\0"
#if defined(CONFIG_HTTP_REASONS) || defined(CONFIG_STATIC_FILES) || defined(CONFIG_STATS_ENDPOINT)
                                  "200OK\0"
                                  "204No Content\0"
                                  "304Not Modified\0"
                                  "405Method Not Allowed\0"
#endif
                                  "400Bad Request\0"
#if defined(CONFIG_HTTP_REASONS) || defined(CONFIG_JWT)
                                  "401Unauthorized\0"
#endif
                                  "403Forbidden\0"
                                  "404Not Found\0"
#if defined(CONFIG_HTTP_REASONS)
                                  "408Request Timeout\0"
                                  "413Content Too Large\0"
#endif
                                  "414URI Too Long\0"
                                  "426Upgrade Required\0"
#if defined(CONFIG_HTTP_REASONS) || defined(CONFIG_FAIR_SHARES) || defined(CONFIG_RATE_LIMIT)
                                  "429Too Many Requests\0"
#endif
                                  "431Request Header Fields Too Large\0"
                                  "500Internal Server Error\0"
                                  "503Service Unavailable\0"
                                  "505HTTP Version Not Supported\0";
    if (status < 100 || status > 999)
        return "Error";
    const char code[3] = {(char)('0' + status / 100), (char)('0' + status / 10 % 10),
                          (char)('0' + status % 10)};
    for (const char *p = reasons; *p; p += strlen(p) + 1)
        if (memcmp(p, code, 3) == 0)
            return p + 3;
    return "Error";
}

size_t cw_http_error_response(char *out, size_t cap, int status, const char *extra)
{
    const char *reason = cw_http_reason(status);
    int body = snprintf(NULL, 0, "%d %s\n", status, reason);
    int n = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\n"
                     "Connection: close\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %d\r\n"
                     "%s"
                     "\r\n"
                     "%d %s\n",
                     status, reason, body, extra ? extra : "", status, reason);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
