/* SPDX-License-Identifier: MIT */
/* layer_msg.c: chanwire group operations <-> Channels message maps. JSON is
 * turned into msgpack and back without recursion: an explicit stack of open
 * containers, bounded by CW_JSON_MAX_DEPTH; container headers are reserved
 * at their widest and shrunk to msgpack-python's smallest form on close. */
#include "cw_config.h"
#ifdef CONFIG_LAYER_REDIS
#include "proto/layer_msg.h"
#include "base/base64.h"
#include "chanwire.h"
#include "proto/msgpack.h"
#include "base/utf8.h"
#include "proto/frame.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cw_layer_msg_type_eq(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = *a == '.' ? '_' : *a, y = *b == '.' ? '_' : *b;
        if (x != y)
            return 0;
        if (!x)
            return 1;
    }
}

/* Like groups.c's rule (letters, digits, '.', '_', at most 64), and like
 * Channels no handler name starting with '_'. */
static int type_ok(const uint8_t *t, size_t n)
{
    if (n == 0 || n > CW_LAYER_MSG_TYPE_MAX || t[0] == '.' || t[0] == '_')
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_'))
            return 0;
    }
    return 1;
}

/* ======== JSON -> msgpack ======== */

#define WIDE_HEAD 5 /* map32/array32: the widest container header */

typedef struct {
    size_t hdr;   /* where the container's header was reserved */
    uint32_t n;   /* items (pairs for a map) so far */
    uint8_t map;
} jframe;

static void skip_ws(const char **p, const char *e)
{
    while (*p < e && (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r'))
        (*p)++;
}

/* Writes the JSON string at *p (validated input) as a msgpack str. */
static int put_string(cw_msgpack_w *w, const char **p, const char *e)
{
    const char *s = *p, *q = s + 1;
    while (q < e && *q != '"')
        q += *q == '\\' ? 2 : 1;
    if (q >= e)
        return CW_EINVAL;
    q++;
    *p = q;
    if (w->err || w->cap - w->len < WIDE_HEAD + 1) {
        w->err = CW_ETOOBIG;
        return CW_ETOOBIG;
    }
    cw_json_val v = {CW_JSON_STRING, s, (size_t)(q - s)};
    char *dst = (char *)w->buf + w->len + WIDE_HEAD;
    long n = cw_json_string(&v, dst, w->cap - w->len - WIDE_HEAD);
    if (n < 0) {
        if (n == CW_ETOOBIG)
            w->err = CW_ETOOBIG;
        return (int)n;
    }
    size_t h = cw_msgpack_str_head((size_t)n);
    cw_msgpack_put_str_head(w->buf + w->len, (size_t)n);
    memmove(w->buf + w->len + h, dst, (size_t)n);
    w->len += h + (size_t)n;
    return 0;
}

static int put_number(cw_msgpack_w *w, const char **p, const char *e)
{
    const char *s = *p;
    int is_float = 0;
    while (*p < e && (strchr("+-0123456789.eE", **p) && **p)) {
        if (**p == '.' || **p == 'e' || **p == 'E')
            is_float = 1;
        (*p)++;
    }
    size_t n = (size_t)(*p - s);
    char tmp[512];
    if (n == 0 || n >= sizeof tmp)
        return CW_EINVAL;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    if (is_float) {
        cw_msgpack_float(w, strtod(tmp, NULL));
        return 0;
    }
    cw_json_val v = {CW_JSON_NUMBER, s, n};
    int64_t i;
    if (cw_json_int(&v, &i) == 0) {
        cw_msgpack_int(w, i);
        return 0;
    }
    /* above INT64_MAX: msgpack still has uint64, as Python packs it */
    if (tmp[0] == '-' || n > 20)
        return CW_EINVAL;
    uint64_t u = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned d = (unsigned)(tmp[k] - '0');
        if (u > (UINT64_MAX - d) / 10)
            return CW_EINVAL;
        u = u * 10 + d;
    }
    cw_msgpack_uint(w, u);
    return 0;
}

static void open_container(cw_msgpack_w *w, jframe *f, int map)
{
    f->hdr = w->len;
    f->n = 0;
    f->map = (uint8_t)map;
    if (w->err || w->cap - w->len < WIDE_HEAD) {
        w->err = CW_ETOOBIG;
        return;
    }
    w->len += WIDE_HEAD;
}

static void close_container(cw_msgpack_w *w, const jframe *f)
{
    if (w->err)
        return;
    size_t h = cw_msgpack_container_head(f->n);
    cw_msgpack_put_container(w->buf + f->hdr, f->map, f->n);
    memmove(w->buf + f->hdr + h, w->buf + f->hdr + WIDE_HEAD, w->len - f->hdr - WIDE_HEAD);
    w->len -= WIDE_HEAD - h;
}

size_t cw_layer_msg_event_bound(size_t json_len)
{
    return 3 * json_len + 256;
}

long cw_layer_msg_encode_event(uint8_t *out, size_t cap, const char *type, const char *json, size_t len)
{
    enum { KEY, KEY_OR_END, VALUE, VALUE_OR_END, AFTER };
    size_t tl = strlen(type);
    if (!type_ok((const uint8_t *)type, tl))
        return CW_EINVAL; /* no Channels handler could take it */
    const char *p = json ? json : "", *e = p + (json ? len : 0);
    skip_ws(&p, e);
    int empty = p == e;
    if (!empty && (*p != '{' || !cw_json_valid(json, len)))
        return CW_EINVAL;
    cw_msgpack_w w;
    cw_msgpack_w_init(&w, out, cap);
    jframe st[CW_JSON_MAX_DEPTH + 1];
    int d = 0;
    open_container(&w, &st[0], 1);
    cw_msgpack_cstr(&w, "type");
    cw_msgpack_str(&w, type, tl);
    st[0].n = 1;
    if (empty) {
        close_container(&w, &st[0]);
        return w.err ? w.err : (long)w.len;
    }
    p++; /* the top-level '{' */
    int state = KEY_OR_END, drop = 0;
    size_t drop_mark = 0;
    for (;;) {
        if (w.err)
            return w.err;
        skip_ws(&p, e);
        if (p >= e)
            return CW_EINVAL;
        char c = *p;
        if (state == KEY || state == KEY_OR_END) {
            if (c == '}' && state == KEY_OR_END) {
                state = AFTER;
                goto close;
            }
            size_t mark = w.len;
            const char *ks = p;
            int rc = put_string(&w, &p, e);
            if (rc < 0)
                return rc;
            /* the top level's own "type" key yields to the type argument */
            if (d == 0 && p - ks == 6 && memcmp(ks, "\"type\"", 6) == 0) {
                drop = 1;
                drop_mark = mark;
            }
            skip_ws(&p, e);
            if (p >= e || *p != ':')
                return CW_EINVAL;
            p++;
            state = VALUE;
            continue;
        }
        if (state == VALUE || state == VALUE_OR_END) {
            if (c == ']' && state == VALUE_OR_END) {
                state = AFTER;
                goto close;
            }
            if (c == '{' || c == '[') {
                if (d + 1 > CW_JSON_MAX_DEPTH)
                    return CW_EINVAL;
                open_container(&w, &st[++d], c == '{');
                p++;
                state = c == '{' ? KEY_OR_END : VALUE_OR_END;
                continue;
            }
            int rc = 0;
            if (c == '"') {
                rc = put_string(&w, &p, e);
            } else if (c == 't' || c == 'f') {
                cw_msgpack_bool(&w, c == 't');
                p += c == 't' ? 4 : 5;
            } else if (c == 'n') {
                cw_msgpack_nil(&w);
                p += 4;
            } else {
                rc = put_number(&w, &p, e);
            }
            if (rc < 0)
                return rc;
            state = AFTER;
        }
    counted:
        /* a value just ended: count it in its container */
        if (d == 0 && drop) {
            w.len = drop_mark;
            drop = 0;
        } else {
            st[d].n++;
        }
        skip_ws(&p, e);
        if (p >= e)
            return CW_EINVAL;
        c = *p++;
        if (c == ',') {
            state = st[d].map ? KEY : VALUE;
            continue;
        }
        if (c != (st[d].map ? '}' : ']'))
            return CW_EINVAL;
        p--;
    close:
        p++; /* the closing bracket */
        close_container(&w, &st[d]);
        if (d == 0) {
            if (w.err)
                return w.err;
            skip_ws(&p, e);
            return p == e ? (long)w.len : CW_EINVAL;
        }
        d--;
        goto counted;
    }
}

long cw_layer_msg_encode_send(uint8_t *out, size_t cap, int binary, const void *data, size_t len)
{
    cw_msgpack_w w;
    cw_msgpack_w_init(&w, out, cap);
    cw_msgpack_map(&w, 2);
    cw_msgpack_cstr(&w, "type");
    cw_msgpack_cstr(&w, "websocket.send");
    if (binary) {
        cw_msgpack_cstr(&w, "bytes");
        cw_msgpack_bin(&w, data, len);
    } else {
        if (!cw_utf8_valid(data, len))
            return CW_EINVAL;
        cw_msgpack_cstr(&w, "text");
        cw_msgpack_str(&w, data, len);
    }
    return w.err ? w.err : (long)w.len;
}

long cw_layer_msg_encode_close(uint8_t *out, size_t cap, int code, const char *reason)
{
    size_t rl = reason ? strlen(reason) : 0;
    cw_msgpack_w w;
    cw_msgpack_w_init(&w, out, cap);
    cw_msgpack_map(&w, rl ? 3 : 2);
    cw_msgpack_cstr(&w, "type");
    cw_msgpack_cstr(&w, "websocket.close");
    cw_msgpack_cstr(&w, "code");
    cw_msgpack_int(&w, code);
    if (rl) {
        cw_msgpack_cstr(&w, "reason");
        cw_msgpack_str(&w, reason, rl);
    }
    return w.err ? w.err : (long)w.len;
}

/* ======== msgpack -> JSON ======== */

typedef struct {
    char *buf;
    size_t cap, len;
    int err;
} jout;

static void jput(jout *o, const void *p, size_t n)
{
    if (o->err || n > o->cap - o->len) {
        o->err = CW_ETOOBIG;
        return;
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

static void jc(jout *o, char c)
{
    jput(o, &c, 1);
}

static int jstring(jout *o, const uint8_t *s, size_t n)
{
    if (!cw_utf8_valid(s, n))
        return CW_EINVAL;
    jc(o, '"');
    size_t run = 0; /* bytes copied as they are, in one go */
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        jput(o, s + run, i - run);
        run = i + 1;
        char esc[8];
        switch (c) {
        case '"': jput(o, "\\\"", 2); break;
        case '\\': jput(o, "\\\\", 2); break;
        case '\n': jput(o, "\\n", 2); break;
        case '\r': jput(o, "\\r", 2); break;
        case '\t': jput(o, "\\t", 2); break;
        case '\b': jput(o, "\\b", 2); break;
        case '\f': jput(o, "\\f", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            jput(o, esc, 6);
        }
    }
    jput(o, s + run, n - run);
    jc(o, '"');
    return 0;
}

static void jfloat(jout *o, double f)
{
    char tmp[40];
    if (isnan(f) || isinf(f)) {
        jput(o, "null", 4);
        return;
    }
    /* the shortest text that reads back as the same double, like repr() */
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, f);
        if (strtod(tmp, NULL) == f)
            break;
    }
    jput(o, tmp, (size_t)n);
    if (!strpbrk(tmp, ".eE"))
        jput(o, ".0", 2); /* keep it a float for the next reader */
}

static void jint(jout *o, const cw_msgpack_obj *v)
{
    char tmp[24];
    int n = v->type == CW_MSGPACK_UINT ? snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v->u)
                                  : snprintf(tmp, sizeof tmp, "%lld", (long long)v->i);
    jput(o, tmp, (size_t)n);
}

/* A scalar as JSON (containers are the caller's). */
static int jscalar(jout *o, const cw_msgpack_obj *v)
{
    char *b64;
    size_t need;
    switch (v->type) {
    case CW_MSGPACK_NIL: jput(o, "null", 4); return 0;
    case CW_MSGPACK_BOOL: v->b ? jput(o, "true", 4) : jput(o, "false", 5); return 0;
    case CW_MSGPACK_INT:
    case CW_MSGPACK_UINT: jint(o, v); return 0;
    case CW_MSGPACK_FLOAT: jfloat(o, v->f); return 0;
    case CW_MSGPACK_STR: return jstring(o, v->ptr, v->n);
    case CW_MSGPACK_BIN:
        /* JSON has no bytes: base64, the way DRF and most APIs carry them */
        need = 4 * ((v->n + 2) / 3) + 1;
        if (o->err || need + 2 > o->cap - o->len) {
            o->err = CW_ETOOBIG;
            return 0;
        }
        jc(o, '"');
        b64 = o->buf + o->len;
        o->len += cw_base64_encode(b64, o->cap - o->len, v->ptr, v->n);
        jc(o, '"');
        return 0;
    default:
        return CW_EINVAL; /* ext: nothing in Channels sends it */
    }
}

/* A map key as a JSON string: str, or an integer written in decimal (as
 * json.dumps writes int keys). */
static int jkey(jout *o, const cw_msgpack_obj *k)
{
    if (k->type == CW_MSGPACK_STR)
        return jstring(o, k->ptr, k->n);
    if (k->type != CW_MSGPACK_INT && k->type != CW_MSGPACK_UINT)
        return CW_EINVAL;
    jc(o, '"');
    jint(o, k);
    jc(o, '"');
    return 0;
}

typedef struct {
    uint64_t left; /* items (a map: pairs) still to write */
    uint8_t map, first;
} mframe;

/* Converts the value at *pos (a whole tree) to JSON. depth0: containers
 * already open around it. */
static int jvalue(jout *o, const uint8_t *p, size_t n, size_t *pos, int depth0)
{
    mframe st[CW_JSON_MAX_DEPTH];
    int d = 0;
    cw_msgpack_obj v;
    for (;;) {
        if (cw_msgpack_read(p, n, pos, &v) < 0)
            return CW_EINVAL;
        if (v.type == CW_MSGPACK_ARRAY || v.type == CW_MSGPACK_MAP) {
            if (depth0 + d + 1 > CW_JSON_MAX_DEPTH)
                return CW_EINVAL;
            jc(o, v.type == CW_MSGPACK_MAP ? '{' : '[');
            st[d].left = v.n;
            st[d].map = v.type == CW_MSGPACK_MAP;
            st[d].first = 1;
            d++;
        } else if (jscalar(o, &v) < 0) {
            return CW_EINVAL;
        }
        /* close what is complete, then start the next item */
        for (;;) {
            if (o->err)
                return o->err;
            if (d == 0)
                return 0;
            mframe *f = &st[d - 1];
            if (f->left == 0) {
                jc(o, f->map ? '}' : ']');
                d--;
                continue;
            }
            f->left--;
            if (!f->first)
                jc(o, ',');
            f->first = 0;
            if (f->map) {
                cw_msgpack_obj k;
                if (cw_msgpack_read(p, n, pos, &k) < 0 || jkey(o, &k) < 0)
                    return CW_EINVAL;
                jc(o, ':');
            }
            break;
        }
    }
}

/* Skips one whole value at *pos, iteratively. */
static int skip_value(const uint8_t *p, size_t n, size_t *pos)
{
    uint64_t left = 1;
    cw_msgpack_obj v;
    while (left) {
        if (cw_msgpack_read(p, n, pos, &v) < 0)
            return CW_EINVAL;
        left--;
        if (v.type == CW_MSGPACK_ARRAY)
            left += v.n;
        else if (v.type == CW_MSGPACK_MAP)
            left += 2ull * v.n;
    }
    return 0;
}

static int key_is(const cw_msgpack_obj *k, const char *s)
{
    return k->type == CW_MSGPACK_STR && k->n == strlen(s) && memcmp(k->ptr, s, k->n) == 0;
}

size_t cw_layer_msg_decode_bound(size_t n)
{
    return 6 * n + 64;
}

int cw_layer_msg_decode(const uint8_t *p, size_t n, char *out, size_t cap, cw_layer_msg_msg *m)
{
    memset(m, 0, sizeof *m);
    size_t pos = 0, body;
    cw_msgpack_obj top, k, v, type = {0}, text = {0}, bytes = {0}, code = {0}, reason = {0};
    if (cw_msgpack_read(p, n, &pos, &top) < 0 || top.type != CW_MSGPACK_MAP)
        return CW_EINVAL;
    body = pos;
    /* first pass: the keys that decide what this is (the last duplicate wins, as in a dict) */
    for (uint32_t i = 0; i < top.n; i++) {
        size_t at;
        if (cw_msgpack_read(p, n, &pos, &k) < 0)
            return CW_EINVAL;
        at = pos;
        if (cw_msgpack_read(p, n, &at, &v) < 0)
            return CW_EINVAL;
        if (key_is(&k, "type"))
            type = v;
        else if (key_is(&k, "text"))
            text = v;
        else if (key_is(&k, "bytes"))
            bytes = v;
        else if (key_is(&k, "code"))
            code = v;
        else if (key_is(&k, "reason"))
            reason = v;
        if (skip_value(p, n, &pos) < 0)
            return CW_EINVAL;
    }
    if (pos != n) /* trailing bytes: Django's unpackb refuses them too */
        return CW_EINVAL;
    if (type.type != CW_MSGPACK_STR || !type_ok(type.ptr, type.n))
        return CW_EINVAL;
    memcpy(m->type, type.ptr, type.n);
    m->type[type.n] = 0;
    if (cw_layer_msg_type_eq(m->type, "websocket.send")) {
        int has_text = text.type && text.type != CW_MSGPACK_NIL;
        int has_bytes = bytes.type && bytes.type != CW_MSGPACK_NIL;
        if (has_text == has_bytes) /* ASGI: exactly one of them */
            return CW_EINVAL;
        if (has_text) {
            if (text.type != CW_MSGPACK_STR || !cw_utf8_valid(text.ptr, text.n))
                return CW_EINVAL;
            m->kind = CW_LAYER_MSG_TEXT;
            m->data = text.ptr;
            m->len = text.n;
        } else {
            if (bytes.type != CW_MSGPACK_BIN)
                return CW_EINVAL;
            m->kind = CW_LAYER_MSG_BINARY;
            m->data = bytes.ptr;
            m->len = bytes.n;
        }
        return 0;
    }
    if (cw_layer_msg_type_eq(m->type, "websocket.close")) {
        m->kind = CW_LAYER_MSG_CLOSE;
        m->code = 1000; /* ASGI's default */
        if (code.type == CW_MSGPACK_INT || code.type == CW_MSGPACK_UINT) {
            int64_t c = code.type == CW_MSGPACK_UINT ? (code.u > 9999 ? -1 : (int64_t)code.u) : code.i;
            if (c < 0 || c > 4999 || !cw_frame_close_valid((unsigned)c))
                return CW_EINVAL;
            m->code = (int)c;
        } else if (code.type && code.type != CW_MSGPACK_NIL) {
            return CW_EINVAL;
        }
        if (reason.type == CW_MSGPACK_STR) {
            if (reason.n > sizeof m->reason - 1 || !cw_utf8_valid(reason.ptr, reason.n) ||
                memchr(reason.ptr, 0, reason.n))
                return CW_EINVAL;
            memcpy(m->reason, reason.ptr, reason.n);
        } else if (reason.type && reason.type != CW_MSGPACK_NIL) {
            return CW_EINVAL;
        }
        return 0;
    }
    /* an event: every other key becomes the JSON body */
    jout o = {out, cap, 0, 0};
    jc(&o, '{');
    int first = 1;
    pos = body;
    for (uint32_t i = 0; i < top.n; i++) {
        if (cw_msgpack_read(p, n, &pos, &k) < 0)
            return CW_EINVAL;
        if (key_is(&k, "type")) {
            if (skip_value(p, n, &pos) < 0)
                return CW_EINVAL;
            continue;
        }
        if (!first)
            jc(&o, ',');
        first = 0;
        if (jkey(&o, &k) < 0)
            return CW_EINVAL;
        jc(&o, ':');
        int rc = jvalue(&o, p, n, &pos, 1);
        if (rc < 0)
            return rc;
    }
    jc(&o, '}');
    if (o.err)
        return o.err;
    if (o.len < cap)
        out[o.len] = 0;
    m->kind = CW_LAYER_MSG_EVENT;
    m->data = (const uint8_t *)out;
    m->len = o.len;
    return 0;
}

#endif /* CONFIG_LAYER_REDIS */
