/* SPDX-License-Identifier: MIT */
/* resp.c: the RESP2 reply tokenizer and command writers of the Redis layer.
 * The parser keeps only a stack of element counts between calls, so a reply
 * split at any byte costs nothing but a second call, and every loop is
 * bounded by the input or by CW_RESP_LINE_MAX. */
#include "cw_config.h"
#ifdef CONFIG_LAYER_REDIS
#include "proto/resp.h"
#include "chanwire.h"

#include <stdio.h>
#include <string.h>

void cw_resp_init(cw_resp_parser *p, size_t max_bulk)
{
    memset(p, 0, sizeof *p);
    p->max_bulk = max_bulk;
}

/* Finds "\r\n" in buf[from..len); returns its offset, -1 when absent yet,
 * -2 when the line is longer than allowed. */
static long find_crlf(const uint8_t *buf, size_t len, size_t from)
{
    size_t lim = from + CW_RESP_LINE_MAX + 1; /* where the CR may be at the latest */
    for (size_t i = from; i < len && i < lim; i++) {
        if (buf[i] == '\r') {
            if (i + 1 == len)
                return -1;
            if (buf[i + 1] != '\n')
                return -2; /* a bare CR is never valid in RESP2 lines */
            return (long)i;
        }
        if (buf[i] == '\n')
            return -2;
    }
    return len >= lim ? -2 : -1;
}

/* A decimal integer filling buf[0..n) exactly. */
static int parse_int(const uint8_t *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (n > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == n || n - i > 19)
        return -1;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg)
        return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* Fills the token's place in the reply and pops finished arrays. */
static void place(cw_resp_parser *p, cw_resp_tok *tok, int opens)
{
    tok->depth = p->depth;
    tok->index = p->depth ? p->next[p->depth - 1] : 0;
    if (opens) {
        /* the array's elements follow one level deeper */
        p->left[p->depth] = tok->num;
        p->next[p->depth] = 0;
        p->depth++;
        tok->end = 0;
        return;
    }
    /* a finished element: count it, closing every array it completes */
    while (p->depth > 0) {
        p->next[p->depth - 1]++;
        if (--p->left[p->depth - 1] > 0)
            break;
        p->depth--;
    }
    tok->end = p->depth == 0;
}

long cw_resp_next(cw_resp_parser *p, const uint8_t *buf, size_t len, cw_resp_tok *tok)
{
    memset(tok, 0, sizeof *tok);
    p->need = 0;
    if (len == 0) {
        p->need = 1;
        return 0;
    }
    if (p->skip) {
        size_t n = len < p->skip ? len : (size_t)p->skip;
        p->skip -= n;
        if (p->skip) {
            tok->type = CW_RESP_NONE;
            return (long)n;
        }
        tok->type = CW_RESP_TOOBIG;
        tok->num = p->skip_len;
        place(p, tok, 0);
        return (long)n;
    }
    long eol = find_crlf(buf, len, 1);
    if (eol == -2)
        return CW_EINVAL;
    if (eol < 0) {
        p->need = len + 1;
        return 0;
    }
    const uint8_t *line = buf + 1;
    size_t ll = (size_t)eol - 1, head = (size_t)eol + 2;
    int64_t v;
    switch (buf[0]) {
    case '+':
    case '-':
        tok->type = buf[0] == '+' ? CW_RESP_SIMPLE : CW_RESP_ERROR;
        tok->ptr = line;
        tok->len = ll;
        place(p, tok, 0);
        return (long)head;
    case ':':
        if (parse_int(line, ll, &v) < 0)
            return CW_EINVAL;
        tok->type = CW_RESP_INT;
        tok->num = v;
        place(p, tok, 0);
        return (long)head;
    case '$':
        if (parse_int(line, ll, &v) < 0 || v < -1)
            return CW_EINVAL;
        if (v == -1) {
            tok->type = CW_RESP_NIL;
            place(p, tok, 0);
            return (long)head;
        }
        if ((uint64_t)v > p->max_bulk) {
            /* too large to hold: discard it as it streams past */
            p->skip = (uint64_t)v + 2;
            p->skip_len = v;
            tok->type = CW_RESP_NONE;
            return (long)head;
        }
        if (len < head + (size_t)v + 2) {
            p->need = head + (size_t)v + 2;
            return 0;
        }
        if (buf[head + (size_t)v] != '\r' || buf[head + (size_t)v + 1] != '\n')
            return CW_EINVAL;
        tok->type = CW_RESP_BULK;
        tok->ptr = buf + head;
        tok->len = (size_t)v;
        place(p, tok, 0);
        return (long)(head + (size_t)v + 2);
    case '*':
        if (parse_int(line, ll, &v) < 0 || v < -1 || v > CW_RESP_MAX_ELEMS)
            return CW_EINVAL;
        if (v <= 0) {
            tok->type = v < 0 ? CW_RESP_NIL : CW_RESP_ARRAY;
            place(p, tok, 0);
            return (long)head;
        }
        if (p->depth >= CW_RESP_MAX_DEPTH)
            return CW_EINVAL;
        tok->type = CW_RESP_ARRAY;
        tok->num = v;
        place(p, tok, 1);
        return (long)head;
    default:
        return CW_EINVAL; /* RESP3 types and garbage alike */
    }
}

/* ---- writing commands ---- */

static int put(uint8_t *out, size_t cap, size_t *len, const void *p, size_t n)
{
    if (n > cap - *len)
        return -1;
    memcpy(out + *len, p, n);
    *len += n;
    return 0;
}

static int put_head(uint8_t *out, size_t cap, size_t *len, char kind, size_t n)
{
    char tmp[32];
    int k = snprintf(tmp, sizeof tmp, "%c%zu\r\n", kind, n);
    return put(out, cap, len, tmp, (size_t)k);
}

long cw_resp_command(uint8_t *out, size_t cap, unsigned argc, const char *const *argv,
                     const size_t *lens)
{
    size_t len = 0;
    if (put_head(out, cap, &len, '*', argc) < 0)
        return CW_ETOOBIG;
    for (unsigned i = 0; i < argc; i++)
        if (put_head(out, cap, &len, '$', lens[i]) < 0 || put(out, cap, &len, argv[i], lens[i]) < 0 ||
            put(out, cap, &len, "\r\n", 2) < 0)
            return CW_ETOOBIG;
    return (long)len;
}

long cw_resp_publish_head(uint8_t *out, size_t cap, const char *chan, size_t clen, size_t plen)
{
    size_t len = 0;
    if (put(out, cap, &len, "*3\r\n$7\r\nPUBLISH\r\n", 17) < 0 ||
        put_head(out, cap, &len, '$', clen) < 0 || put(out, cap, &len, chan, clen) < 0 ||
        put(out, cap, &len, "\r\n", 2) < 0 || put_head(out, cap, &len, '$', plen) < 0)
        return CW_ETOOBIG;
    return (long)len;
}

#endif /* CONFIG_LAYER_REDIS */
