/* SPDX-License-Identifier: MIT */
/* fuzz_json.c: the JSON reader and writer. Byte 0 picks a mode:
 *  reader: the rest is a document. Oracles: cw_json_get succeeds only on a
 *    valid object and never says "invalid" about one; every value it finds
 *    is itself valid JSON inside the document, of the type its first byte
 *    says; strings unescape to valid UTF-8 that the writer escapes back to
 *    the same string; integers agree with the number reader; a value
 *    forwarded with cw_json_w_value comes back byte for byte.
 *  writer: the rest is a program of writer calls. Oracle: whatever
 *    cw_json_w_finish accepts is valid JSON (or empty). */
#include "fuzz.h"

#include "chanwire.h"
#include "base/utf8.h"

#include <math.h>
#include <string.h>

static const char *const keys[] = {"message", "type", "user_id", "a", "", "\xc3\xa9", "k\"",
                                   "exp"};

/* A \uD800-\uDFFF escape: valid JSON syntax, but a string that cannot be
 * UTF-8 unless it is a well-formed pair; the reader refuses it. */
static int surrogate_escape(const cw_json_val *v)
{
    for (size_t i = 0; i + 5 < v->len; i++)
        if (v->ptr[i] == '\\') {
            if (v->ptr[i + 1] == 'u' && (v->ptr[i + 2] | 32) == 'd' &&
                strchr("89abcdefABCDEF", v->ptr[i + 3]))
                return 1;
            i++;
        }
    return 0;
}

static void check_string(const cw_json_val *v)
{
    static char out[70000], wbuf[70000 * 6 + 16], back[70000];
    long n = cw_json_string(v, out, sizeof out);
    if (n == CW_ETOOBIG || (n == CW_EINVAL && surrogate_escape(v)))
        return;
    FUZZ_ASSERT(n >= 0 && out[n] == 0);
    FUZZ_ASSERT(cw_utf8_valid((const uint8_t *)out, (size_t)n));
    /* Escaped by the writer inside {"v": ...} and read back: the same. */
    cw_json_w w;
    cw_json_w_init(&w, wbuf, sizeof wbuf);
    cw_json_w_object(&w);
    cw_json_w_key(&w, "v");
    cw_json_w_string(&w, out, (size_t)n);
    cw_json_w_end(&w);
    long wl = cw_json_w_finish(&w);
    FUZZ_ASSERT(wl > 0);
    FUZZ_ASSERT(cw_json_valid(wbuf, (size_t)wl));
    long bn = cw_json_get_string(wbuf, (size_t)wl, "v", back, sizeof back);
    FUZZ_ASSERT(bn == n && memcmp(back, out, (size_t)n) == 0);
    /* A buffer one byte short is refused, never overrun. */
    if (n < 64) {
        char *tight = malloc((size_t)n + 1);
        FUZZ_ASSERT(tight != NULL);
        FUZZ_ASSERT(cw_json_string(v, tight, (size_t)n + 1) == n);
        if (n > 0)
            FUZZ_ASSERT(cw_json_string(v, tight, (size_t)n) == CW_ETOOBIG);
        free(tight);
    }
}

static void check_value(const char *doc, size_t len, const cw_json_val *v)
{
    FUZZ_ASSERT(v->ptr >= doc && v->ptr + v->len <= doc + len && v->len > 0);
    FUZZ_ASSERT(cw_json_valid(v->ptr, v->len));
    char c = v->ptr[0];
    int want = c == '"' ? CW_JSON_STRING : c == '{' ? CW_JSON_OBJECT : c == '[' ? CW_JSON_ARRAY
             : c == 't' || c == 'f' ? CW_JSON_BOOL : c == 'n' ? CW_JSON_NULL : CW_JSON_NUMBER;
    FUZZ_ASSERT(v->type == want);
    /* Forwarded as received (cw_json_w_value) inside {"v": ...}: valid,
     * only the wrapper longer, and read back as the same bytes. */
    static char fwd[70016];
    if (v->len + 7 <= sizeof fwd) {
        cw_json_w w;
        cw_json_w_init(&w, fwd, sizeof fwd);
        cw_json_w_object(&w);
        cw_json_w_key(&w, "v");
        cw_json_w_value(&w, v);
        cw_json_w_end(&w);
        long fl = cw_json_w_finish(&w);
        FUZZ_ASSERT(fl == (long)v->len + 6 && cw_json_valid(fwd, (size_t)fl));
        cw_json_val back;
        FUZZ_ASSERT(cw_json_get(fwd, (size_t)fl, "v", &back) == 0);
        FUZZ_ASSERT(back.len == v->len && memcmp(back.ptr, v->ptr, v->len) == 0);
    }
    switch (v->type) {
    case CW_JSON_STRING:
        check_string(v);
        break;
    case CW_JSON_NUMBER: {
        double d;
        int64_t i;
        int dn = cw_json_number(v, &d);
        if (cw_json_int(v, &i) == 0 && dn == 0)
            FUZZ_ASSERT(fabs(d - (double)i) <= fabs((double)i) * 1e-15 + 1e-9);
        break;
    }
    case CW_JSON_BOOL: {
        int b;
        FUZZ_ASSERT(cw_json_bool(v, &b) == 0);
        break;
    }
    case CW_JSON_OBJECT: {
        cw_json_val inner;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            int rc = cw_json_get(v->ptr, v->len, keys[k], &inner);
            FUZZ_ASSERT(rc == 0 || rc == CW_ENOENT);
        }
        break;
    }
    default:
        break;
    }
}

static void reader(const char *doc, size_t len)
{
    int valid = cw_json_valid(doc, len);
    size_t i = 0;
    while (i < len && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\n' || doc[i] == '\r'))
        i++;
    int is_obj = valid && i < len && doc[i] == '{';
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        cw_json_val v;
        int rc = cw_json_get(doc, len, keys[k], &v);
        FUZZ_ASSERT(rc == 0 || rc == CW_ENOENT || rc == CW_EINVAL);
        FUZZ_ASSERT((rc != CW_EINVAL) == is_obj);
        if (rc == 0)
            check_value(doc, len, &v);
        char small[8];
        long sn = cw_json_get_string(doc, len, keys[k], small, sizeof small);
        FUZZ_ASSERT(sn < (long)sizeof small);
        if (sn >= 0)
            FUZZ_ASSERT(small[sn] == 0);
    }
}

/* A program of writer calls, one byte each (with operands from the input). */
static void writer(const uint8_t *p, size_t n)
{
    static char buf[4096];
    cw_json_w w;
    size_t cap = n ? 1 + p[0] * 16u : 1;
    if (cap > sizeof buf)
        cap = sizeof buf;
    cw_json_w_init(&w, buf, cap);
    for (size_t i = 1; i < n; i++) {
        uint8_t op = p[i] & 15, arg = (uint8_t)(p[i] >> 4);
        size_t sl = arg < n - i - 1 ? arg : n - i - 1;
        const char *s = (const char *)p + i + 1;
        switch (op) {
        case 0: cw_json_w_object(&w); break;
        case 1: cw_json_w_array(&w); break;
        case 2: cw_json_w_end(&w); break;
        case 3: {
            char key[16];
            memcpy(key, s, sl);
            key[sl] = 0;
            cw_json_w_key(&w, key);
            i += sl;
            break;
        }
        case 4: cw_json_w_string(&w, s, sl); i += sl; break;
        case 5: cw_json_w_int(&w, (int64_t)arg * -123456789012345ll); break;
        case 6: cw_json_w_bool(&w, arg & 1); break;
        case 7: cw_json_w_null(&w); break;
        case 8: cw_json_w_raw(&w, "[1,{\"x\":null}]", 14); break;
        case 9: cw_json_w_cstr(&w, "caf\xc3\xa9 \"q\" \\ \n\x01"); break;
        default: cw_json_w_key(&w, "k"); break;
        }
    }
    long len = cw_json_w_finish(&w);
    FUZZ_ASSERT(len == CW_ETOOBIG || len == CW_EINVAL || (len >= 0 && (size_t)len < cap));
    if (len > 0)
        FUZZ_ASSERT(cw_json_valid(buf, (size_t)len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1) {
        writer(data + 1, size - 1);
        return 0;
    }
    char *doc = malloc(size); /* exactly the document: reads past it show */
    FUZZ_ASSERT(doc != NULL);
    memcpy(doc, data + 1, size - 1);
    reader(doc, size - 1);
    free(doc);
    return 0;
}
