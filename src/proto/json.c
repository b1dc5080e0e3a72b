/* SPDX-License-Identifier: MIT */
/* json.c: an iterative JSON scanner (a bit stack instead of recursion, so
 * hostile nesting costs nothing but a counter), value extraction by key, and
 * an escaping writer. */
#include "proto/json.h"
#include "proto/http.h"
#include "chanwire.h"
#include "base/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p, *end;
} scan;

static void skip_ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = cw_http_hexval(p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return 0;
}

/* s->p at the opening quote. Checks escapes, control bytes and UTF-8. */
static int scan_string(scan *s)
{
    if (s->p >= s->end || *s->p != '"')
        return -1;
    s->p++;
    uint8_t u = CW_UTF8_ACCEPT;
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            s->p++;
            return u == CW_UTF8_ACCEPT ? 0 : -1;
        }
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            if (u != CW_UTF8_ACCEPT || s->end - s->p < 2)
                return -1;
            char e = s->p[1];
            if (e == 'u') {
                unsigned cp;
                if (s->end - s->p < 6 || hex4(s->p + 2, &cp) < 0)
                    return -1;
                s->p += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                s->p += 2;
            } else {
                return -1;
            }
            continue;
        }
        u = cw_utf8_step(u, &c, 1);
        if (u == CW_UTF8_REJECT)
            return -1;
        s->p++;
    }
    return -1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int scan_number(scan *s)
{
    const char *p = s->p, *e = s->end;
    if (p < e && *p == '-')
        p++;
    if (p >= e || !is_digit(*p))
        return -1;
    if (*p == '0')
        p++;
    else
        while (p < e && is_digit(*p))
            p++;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || !is_digit(*p))
            return -1;
        while (p < e && is_digit(*p))
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || !is_digit(*p))
            return -1;
        while (p < e && is_digit(*p))
            p++;
    }
    s->p = p;
    return 0;
}

static int scan_literal(scan *s, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return -1;
    s->p += n;
    return 0;
}

/* Scans one value of any depth, iteratively. s->p at its first byte. */
static int scan_value(scan *s)
{
    uint32_t is_object = 0; /* bit d: the container at depth d is an object */
    int depth = 0;
    for (;;) {
        /* expect a value */
        skip_ws(s);
        if (s->p >= s->end)
            return -1;
        char c = *s->p;
        int opened = 0;
        if (c == '{' || c == '[') {
            if (depth >= CW_JSON_MAX_DEPTH)
                return -1;
            if (c == '{')
                is_object |= 1u << depth;
            else
                is_object &= ~(1u << depth);
            depth++;
            s->p++;
            skip_ws(s);
            if (s->p < s->end && *s->p == (c == '{' ? '}' : ']')) {
                s->p++;
                depth--;
            } else if (c == '{') {
                if (scan_string(s) < 0)
                    return -1;
                skip_ws(s);
                if (s->p >= s->end || *s->p != ':')
                    return -1;
                s->p++;
                continue;
            } else {
                continue;
            }
            opened = 1;
        }
        if (!opened) {
            int rc;
            if (c == '"')
                rc = scan_string(s);
            else if (c == '-' || is_digit(c))
                rc = scan_number(s);
            else if (c == 't')
                rc = scan_literal(s, "true");
            else if (c == 'f')
                rc = scan_literal(s, "false");
            else if (c == 'n')
                rc = scan_literal(s, "null");
            else
                rc = -1;
            if (rc < 0)
                return -1;
        }
        /* after a value: close containers or move to the next element */
        for (;;) {
            if (depth == 0)
                return 0;
            skip_ws(s);
            if (s->p >= s->end)
                return -1;
            int obj = (is_object >> (depth - 1)) & 1;
            c = *s->p++;
            if (c == ',') {
                if (obj) {
                    skip_ws(s);
                    if (scan_string(s) < 0)
                        return -1;
                    skip_ws(s);
                    if (s->p >= s->end || *s->p != ':')
                        return -1;
                    s->p++;
                }
                break; /* next value */
            }
            if (c == (obj ? '}' : ']')) {
                depth--;
                continue;
            }
            return -1;
        }
    }
}

int cw_json_valid(const char *text, size_t len)
{
    scan s = {text, text + len};
    if (scan_value(&s) < 0)
        return 0;
    skip_ws(&s);
    return s.p == s.end;
}

static int type_of(char c)
{
    switch (c) {
    case '"': return CW_JSON_STRING;
    case '{': return CW_JSON_OBJECT;
    case '[': return CW_JSON_ARRAY;
    case 't':
    case 'f': return CW_JSON_BOOL;
    case 'n': return CW_JSON_NULL;
    default: return CW_JSON_NUMBER;
    }
}

/* Unescapes the string at raw[0..n) (with quotes) into out; returns length. */
static long unescape(const char *raw, size_t n, char *out, size_t cap)
{
    if (n < 2 || raw[0] != '"' || raw[n - 1] != '"')
        return CW_EINVAL;
    const char *p = raw + 1, *e = raw + n - 1;
    size_t o = 0;
    while (p < e) {
        unsigned cp;
        if (*p != '\\') {
            if (o + 1 >= cap)
                return CW_ETOOBIG;
            out[o++] = *p++;
            continue;
        }
        char x = p[1];
        p += 2;
        switch (x) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (e - p < 4 || hex4(p, &cp) < 0)
                return CW_EINVAL;
            p += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return CW_EINVAL; /* lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (e - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) < 0 ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return CW_EINVAL;
                p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            break;
        default:
            return CW_EINVAL;
        }
        uint8_t enc[4];
        size_t k;
        if (cp < 0x80) {
            enc[0] = (uint8_t)cp;
            k = 1;
        } else if (cp < 0x800) {
            enc[0] = (uint8_t)(0xC0 | cp >> 6);
            enc[1] = (uint8_t)(0x80 | (cp & 0x3F));
            k = 2;
        } else if (cp < 0x10000) {
            enc[0] = (uint8_t)(0xE0 | cp >> 12);
            enc[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            enc[2] = (uint8_t)(0x80 | (cp & 0x3F));
            k = 3;
        } else {
            enc[0] = (uint8_t)(0xF0 | cp >> 18);
            enc[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
            enc[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            enc[3] = (uint8_t)(0x80 | (cp & 0x3F));
            k = 4;
        }
        if (o + k >= cap)
            return CW_ETOOBIG;
        memcpy(out + o, enc, k);
        o += k;
    }
    if (cap == 0)
        return CW_ETOOBIG;
    out[o] = 0;
    return (long)o;
}

int cw_json_get(const char *obj, size_t len, const char *key, cw_json_val *out)
{
    scan s = {obj, obj + len};
    int found = 0;
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return CW_EINVAL;
    s.p++;
    skip_ws(&s);
    if (s.p < s.end && *s.p == '}') {
        s.p++;
    } else {
        for (;;) {
            const char *kstart = s.p;
            if (scan_string(&s) < 0)
                return CW_EINVAL;
            char kbuf[128];
            long kn = unescape(kstart, (size_t)(s.p - kstart), kbuf, sizeof kbuf);
            skip_ws(&s);
            if (s.p >= s.end || *s.p != ':')
                return CW_EINVAL;
            s.p++;
            skip_ws(&s);
            const char *vstart = s.p;
            if (scan_value(&s) < 0)
                return CW_EINVAL;
            if (kn >= 0 && (size_t)kn == strlen(key) && memcmp(kbuf, key, (size_t)kn) == 0) {
                /* the last duplicate wins, as in Python's json */
                out->type = type_of(*vstart);
                out->ptr = vstart;
                out->len = (size_t)(s.p - vstart);
                found = 1;
            }
            skip_ws(&s);
            if (s.p < s.end && *s.p == ',') {
                s.p++;
                skip_ws(&s);
                continue;
            }
            if (s.p < s.end && *s.p == '}') {
                s.p++;
                break;
            }
            return CW_EINVAL;
        }
    }
    skip_ws(&s);
    if (s.p != s.end)
        return CW_EINVAL;
    return found ? 0 : CW_ENOENT;
}

long cw_json_string(const cw_json_val *v, char *out, size_t cap)
{
    if (v->type != CW_JSON_STRING)
        return CW_EINVAL;
    scan s = {v->ptr, v->ptr + v->len};
    if (scan_string(&s) < 0 || s.p != s.end)
        return CW_EINVAL;
    return unescape(v->ptr, v->len, out, cap);
}

int cw_json_number(const cw_json_val *v, double *out)
{
    char tmp[64];
    if (v->type != CW_JSON_NUMBER || v->len == 0 || v->len >= sizeof tmp)
        return CW_EINVAL;
    scan s = {v->ptr, v->ptr + v->len};
    if (scan_number(&s) < 0 || s.p != s.end)
        return CW_EINVAL;
    memcpy(tmp, v->ptr, v->len);
    tmp[v->len] = 0;
    *out = strtod(tmp, NULL);
    return 0;
}

int cw_json_int(const cw_json_val *v, int64_t *out)
{
    if (v->type != CW_JSON_NUMBER || v->len == 0)
        return CW_EINVAL;
    const char *p = v->ptr, *e = v->ptr + v->len;
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (p == e || (*p == '0' && e - p > 1))
        return CW_EINVAL;
    /* Overflow checked against INT64_MAX / 10 as a constant: no 64-bit
     * division, which 32-bit targets do in a library call. */
    uint64_t acc = 0, top = (uint64_t)INT64_MAX / 10;
    unsigned last = neg ? 8u : 7u; /* last digit of -INT64_MIN / INT64_MAX */
    for (; p < e; p++) {
        if (!is_digit(*p))
            return CW_EINVAL;
        unsigned d = (unsigned)(*p - '0');
        if (acc > top || (acc == top && d > last))
            return CW_EINVAL;
        acc = acc * 10 + d;
    }
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return 0;
}

int cw_json_bool(const cw_json_val *v, int *out)
{
    if (v->type != CW_JSON_BOOL)
        return CW_EINVAL;
    if (v->len == 4 && memcmp(v->ptr, "true", 4) == 0)
        *out = 1;
    else if (v->len == 5 && memcmp(v->ptr, "false", 5) == 0)
        *out = 0;
    else
        return CW_EINVAL;
    return 0;
}

long cw_json_get_string(const char *obj, size_t len, const char *key, char *out, size_t cap)
{
    cw_json_val v;
    int rc = cw_json_get(obj, len, key, &v);
    if (rc < 0)
        return rc;
    return cw_json_string(&v, out, cap);
}

/* ---- writer ---- */

/* err: 1 the buffer overflowed, 2 the calls would make invalid JSON. */
static void misuse(cw_json_w *w)
{
    if (!w->err)
        w->err = 2;
}

static void put(cw_json_w *w, const char *s, size_t n)
{
    if (w->err || w->len + n >= w->cap) {
        if (!w->err)
            w->err = 1;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

/* Writes the comma before a value or key when one is due. */
static void sep(cw_json_w *w)
{
    uint32_t bit = 1u << w->depth;
    if (w->after_key & bit) {
        w->after_key &= ~bit;
        return;
    }
    if (w->depth == 0)
        return;
    if (w->first & bit)
        w->first &= ~bit;
    else
        put(w, ",", 1);
}

/* sep() for a value: refuses a value in an object without its key, and a
 * second value at the top level (either would make the output invalid). */
static void value_sep(cw_json_w *w)
{
    uint32_t bit = 1u << w->depth;
    if ((w->depth == 0 && w->len > 0) || ((w->is_obj & bit) && !(w->after_key & bit))) {
        misuse(w);
        return;
    }
    sep(w);
}

void cw_json_w_init(cw_json_w *w, char *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->err = cap == 0;
    w->depth = 0;
    w->first = 0;
    w->after_key = 0;
    w->is_obj = 0;
}

static void open_container(cw_json_w *w, char c)
{
    value_sep(w);
    if (w->depth >= 31) {
        w->err = 1;
        return;
    }
    put(w, &c, 1);
    w->depth++;
    w->first |= 1u << w->depth;
    w->after_key &= ~(1u << w->depth);
    if (c == '{')
        w->is_obj |= 1u << w->depth;
    else
        w->is_obj &= ~(1u << w->depth);
}

void cw_json_w_object(cw_json_w *w)
{
    open_container(w, '{');
}

void cw_json_w_array(cw_json_w *w)
{
    open_container(w, '[');
}

void cw_json_w_end(cw_json_w *w)
{
    uint32_t bit = 1u << w->depth;
    if (w->depth == 0 || (w->after_key & bit)) {
        misuse(w); /* nothing open, or a key without its value */
        return;
    }
    char c = (w->is_obj & bit) ? '}' : ']';
    w->depth--;
    put(w, &c, 1);
}

static void write_escaped(cw_json_w *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put(w, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20) {
            u[0] = '\\';
            u[1] = 'u';
            u[2] = '0';
            u[3] = '0';
            u[4] = hex[c >> 4];
            u[5] = hex[c & 15];
            u[6] = 0;
            esc = u;
        }
        if (esc) {
            put(w, s + run, i - run);
            put(w, esc, strlen(esc));
            run = i + 1;
        }
    }
    put(w, s + run, n - run);
    put(w, "\"", 1);
}

void cw_json_w_key(cw_json_w *w, const char *key)
{
    uint32_t bit = 1u << w->depth;
    size_t kn = strlen(key);
    if (!(w->is_obj & bit) || (w->after_key & bit) || !cw_utf8_valid((const uint8_t *)key, kn)) {
        misuse(w); /* only inside an object, one key per value, UTF-8 */
        return;
    }
    sep(w);
    write_escaped(w, key, kn);
    put(w, ":", 1);
    w->after_key |= 1u << w->depth;
}

void cw_json_w_string(cw_json_w *w, const char *s, size_t n)
{
    if (!cw_utf8_valid((const uint8_t *)s, n)) {
        misuse(w);
        return;
    }
    value_sep(w);
    write_escaped(w, s, n);
}

void cw_json_w_cstr(cw_json_w *w, const char *s)
{
    cw_json_w_string(w, s, strlen(s));
}

void cw_json_w_int(cw_json_w *w, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    value_sep(w);
    put(w, tmp, (size_t)n);
}

void cw_json_w_bool(cw_json_w *w, int v)
{
    value_sep(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void cw_json_w_null(cw_json_w *w)
{
    value_sep(w);
    put(w, "null", 4);
}

void cw_json_w_raw(cw_json_w *w, const char *json, size_t n)
{
    value_sep(w);
    put(w, json, n);
}

void cw_json_w_value(cw_json_w *w, const cw_json_val *v)
{
    /* The reader checked the value when it found it: no second scan. */
    if (!v || v->type == CW_JSON_NONE || !v->ptr || v->len == 0) {
        misuse(w);
        return;
    }
    value_sep(w);
    put(w, v->ptr, v->len);
}

long cw_json_w_finish(cw_json_w *w)
{
    if (w->err == 1 || w->len >= w->cap)
        return CW_ETOOBIG;
    if (w->err || w->depth != 0)
        return CW_EINVAL;
    w->buf[w->len] = 0;
    return (long)w->len;
}
