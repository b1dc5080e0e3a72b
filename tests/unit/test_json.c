/* SPDX-License-Identifier: MIT */
/* test_json.c: the JSON reader and writer: the grammar (RFC 8259) on valid
 * and invalid vectors, nesting at and over CW_JSON_MAX_DEPTH (and far over
 * it, which a recursive parser would not survive), lookup by key, string
 * unescaping with surrogate pairs, numbers, and the writer's escaping,
 * misuse detection and overflow. */
#include "chanwire.h"
#include "unit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int valid(const char *s)
{
    return cw_json_valid(s, strlen(s));
}

/* Reports which vector failed. */
static void expect_valid(const char *s, int want, int line)
{
    if (valid(s) != want) {
        char msg[160];
        snprintf(msg, sizeof msg, "cw_json_valid(%.120s) == %d", s, want);
        cw_unit_check(0, msg, __FILE__, line);
    }
}
#define VALID(s) expect_valid((s), 1, __LINE__)
#define INVALID(s) expect_valid((s), 0, __LINE__)

static void test_valid_vectors(void)
{
    VALID("0");
    VALID("-0");
    VALID("123");
    VALID("-123");
    VALID("1.5");
    VALID("0.001");
    VALID("1e10");
    VALID("1E+10");
    VALID("1e-10");
    VALID("-1.25e-3");
    VALID("\"\"");
    VALID("\"abc\"");
    VALID("true");
    VALID("false");
    VALID("null");
    VALID("[]");
    VALID("{}");
    VALID("[ ]");
    VALID("{ }");
    VALID(" \t\r\n[1, 2 ,3]\n ");
    VALID("[1,\"a\",true,false,null,{},[]]");
    VALID("{\"a\":{\"b\":[null,{\"c\":\"d\"}]},\"e\":-1}");
    VALID("{\"a\" : 1 , \"b\" :2}");
    VALID("{\"\":0}");
    VALID("{\"a\":1,\"a\":2}"); /* duplicates are not a grammar error */
    VALID("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"");
    VALID("\"\\u0041\\u00e9\\u00E9\\uFFFF\"");
    VALID("\"\\ud83d\\ude00\"");
    VALID("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""); /* UTF-8 as is */
    VALID("\"\x7f\"");                                 /* DEL is not a control char here */
    VALID("\"a/b\"");
    /* lone surrogates in escapes follow the grammar (RFC 8259 section 8.2
     * leaves them to the reader): valid here, refused by cw_json_string */
    VALID("\"\\ud800\"");
    VALID("\"\\udc00\"");
}

static void test_invalid_vectors(void)
{
    INVALID("");
    INVALID(" ");
    INVALID("01");
    INVALID("-01");
    INVALID("00");
    INVALID("1.");
    INVALID(".5");
    INVALID("-");
    INVALID("+1");
    INVALID("1e");
    INVALID("1e+");
    INVALID("1.e5");
    INVALID("0x10");
    INVALID("1 2");
    INVALID("NaN");
    INVALID("Infinity");
    INVALID("-Infinity");
    INVALID("tru");
    INVALID("truex");
    INVALID("True");
    INVALID("nul");
    INVALID("nulll");
    INVALID("'a'");
    INVALID("[");
    INVALID("]");
    INVALID("[1");
    INVALID("[1,]");
    INVALID("[,1]");
    INVALID("[1 2]");
    INVALID("[1]]");
    INVALID("[1}");
    INVALID("{");
    INVALID("}");
    INVALID("{]");
    INVALID("{\"a\"}");
    INVALID("{\"a\":}");
    INVALID("{\"a\" 1}");
    INVALID("{a:1}");
    INVALID("{1:1}");
    INVALID("{\"a\":1,}");
    INVALID("{,\"a\":1}");
    INVALID("{\"a\":1 \"b\":2}");
    INVALID("{\"a\":1}}");
    INVALID("{}{}");
    INVALID("[{\"a\":1]]");
    INVALID("{\"a\":[1}}");
    /* strings */
    INVALID("\"abc");
    INVALID("\"");
    INVALID("abc\"");
    INVALID("\"\\\"");          /* the escaped quote does not close it */
    INVALID("\"\\x\"");
    INVALID("\"\\'\"");
    INVALID("\"\\u12\"");
    INVALID("\"\\u123\"");
    INVALID("\"\\u12G4\"");
    INVALID("\"\\U0041\"");
    INVALID("\"a\x01z\"");      /* control characters must be escaped */
    INVALID("\"a\tz\"");
    INVALID("\"a\nz\"");
    INVALID("\"a\x1fz\"");
    INVALID("\"\xff\"");        /* not UTF-8 */
    INVALID("\"\xc0\xaf\"");    /* overlong */
    INVALID("\"\xe2\x82\"");    /* truncated sequence */
    INVALID("\"\xe2\x82\\n\""); /* an escape inside a sequence */
    INVALID("\"\xe2\\n\x82\xac\""); /* ... even when the sequence goes on after it */
    INVALID("\"\xed\xa0\x80\""); /* a UTF-16 surrogate encoded in UTF-8 */
    INVALID("\"\xf4\x90\x80\x80\""); /* above U+10FFFF */
    INVALID("\"\x80\"");
    /* a NUL byte inside the length is not whitespace or a value */
    CHECK_EQ(cw_json_valid("1\0", 2), 0);
    CHECK_EQ(cw_json_valid("\"a\0b\"", 5), 0);
    /* length, not the terminator, bounds the text */
    CHECK_EQ(cw_json_valid("[1]xyz", 3), 1);
    CHECK_EQ(cw_json_valid("[1]xyz", 2), 0);
    CHECK_EQ(cw_json_valid("truex", 4), 1);
    CHECK_EQ(cw_json_valid("\"ab\"", 3), 0);
}

/* n nested containers; innermost holds 1. obj: objects {"k":...}. */
static size_t nest(char *buf, int n, int obj)
{
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        if (obj) {
            memcpy(buf + o, "{\"k\":", 5);
            o += 5;
        } else {
            buf[o++] = '[';
        }
    }
    buf[o++] = '1';
    for (int i = 0; i < n; i++)
        buf[o++] = obj ? '}' : ']';
    buf[o] = 0;
    return o;
}

static void test_depth_limit(void)
{
    static char buf[1024];
    size_t n = nest(buf, CW_JSON_MAX_DEPTH, 0);
    CHECK_EQ(cw_json_valid(buf, n), 1);
    n = nest(buf, CW_JSON_MAX_DEPTH + 1, 0);
    CHECK_EQ(cw_json_valid(buf, n), 0);
    n = nest(buf, CW_JSON_MAX_DEPTH, 1);
    CHECK_EQ(cw_json_valid(buf, n), 1);
    n = nest(buf, CW_JSON_MAX_DEPTH + 1, 1);
    CHECK_EQ(cw_json_valid(buf, n), 0);
    /* empty containers count as a level too */
    n = (size_t)snprintf(buf, sizeof buf, "%.*s%.*s", CW_JSON_MAX_DEPTH + 1,
                         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", CW_JSON_MAX_DEPTH + 1,
                         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    CHECK_EQ(cw_json_valid(buf, n), 0);
    n = (size_t)snprintf(buf, sizeof buf, "%.*s%.*s", CW_JSON_MAX_DEPTH,
                         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", CW_JSON_MAX_DEPTH,
                         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    CHECK_EQ(cw_json_valid(buf, n), 1);
}

/* The kind of each level is remembered at every depth, including the last
 * one: 31 arrays, then an object at the deepest level. */
static void test_depth_kinds(void)
{
    static char buf[1024];
    int d = CW_JSON_MAX_DEPTH - 1;
    size_t o = 0;
    for (int i = 0; i < d; i++)
        buf[o++] = '[';
    memcpy(buf + o, "{\"k\":1}", 7);
    o += 7;
    for (int i = 0; i < d; i++)
        buf[o++] = ']';
    CHECK_EQ(cw_json_valid(buf, o), 1);
    buf[d + 6] = ']'; /* the object closed with ']' */
    CHECK_EQ(cw_json_valid(buf, o), 0);
    /* alternating objects and arrays to the limit, closed in order */
    o = 0;
    for (int i = 0; i < CW_JSON_MAX_DEPTH; i++) {
        if (i & 1) {
            buf[o++] = '[';
        } else {
            memcpy(buf + o, "{\"k\":", 5);
            o += 5;
        }
    }
    buf[o++] = '0';
    for (int i = CW_JSON_MAX_DEPTH - 1; i >= 0; i--)
        buf[o++] = (i & 1) ? ']' : '}';
    CHECK_EQ(cw_json_valid(buf, o), 1);
    /* swap two closers: invalid */
    char t = buf[o - 1];
    buf[o - 1] = buf[o - 2];
    buf[o - 2] = t;
    CHECK_EQ(cw_json_valid(buf, o), 0);
}

/* Siblings do not add up: depth goes back down when containers close. */
static void test_depth_siblings(void)
{
    static char buf[64 * 1024];
    size_t o = 0;
    buf[o++] = '[';
    for (int k = 0; k < 500; k++) {
        if (k)
            buf[o++] = ',';
        for (int i = 0; i < CW_JSON_MAX_DEPTH - 1; i++)
            buf[o++] = '[';
        for (int i = 0; i < CW_JSON_MAX_DEPTH - 1; i++)
            buf[o++] = ']';
    }
    buf[o++] = ']';
    CHECK_EQ(cw_json_valid(buf, o), 1);
}

/* Hostile nesting: a million '[' costs a counter, not a stack. */
static void test_deep_hostile(void)
{
    size_t n = 1000000;
    char *b = malloc(2 * n + 1);
    CHECK(b != NULL);
    if (!b)
        return;
    memset(b, '[', n);
    memset(b + n, ']', n);
    CHECK_EQ(cw_json_valid(b, 2 * n), 0);
    memset(b, '{', n);
    CHECK_EQ(cw_json_valid(b, n), 0);
    for (size_t i = 0; i + 5 <= n; i += 5)
        memcpy(b + i, "{\"a\":", 5);
    CHECK_EQ(cw_json_valid(b, n), 0);
    cw_json_val v;
    CHECK_EQ(cw_json_get(b, n, "a", &v), CW_EINVAL);
    free(b);
}

static void test_get_types(void)
{
    const char *o = "{\"a\":1,\"b\":\"x\",\"c\":true,\"d\":null,\"e\":[1,{\"a\":2}],"
                    "\"f\":{\"a\":3},\"g\":-2.5e1,\"h\":false}";
    size_t n = strlen(o);
    cw_json_val v;
    CHECK_EQ(cw_json_get(o, n, "a", &v), 0);
    CHECK_EQ(v.type, CW_JSON_NUMBER);
    CHECK_EQ(v.len, 1);
    CHECK(v.ptr == o + 5);
    CHECK_EQ(cw_json_get(o, n, "b", &v), 0);
    CHECK_EQ(v.type, CW_JSON_STRING);
    CHECK_EQ(v.len, 3);
    CHECK_MEM(v.ptr, "\"x\"", 3);
    CHECK_EQ(cw_json_get(o, n, "c", &v), 0);
    CHECK_EQ(v.type, CW_JSON_BOOL);
    CHECK_EQ(v.len, 4);
    CHECK_EQ(cw_json_get(o, n, "d", &v), 0);
    CHECK_EQ(v.type, CW_JSON_NULL);
    CHECK_EQ(v.len, 4);
    CHECK_EQ(cw_json_get(o, n, "e", &v), 0);
    CHECK_EQ(v.type, CW_JSON_ARRAY);
    CHECK_EQ(v.len, strlen("[1,{\"a\":2}]"));
    CHECK_MEM(v.ptr, "[1,{\"a\":2}]", v.len);
    CHECK_EQ(cw_json_get(o, n, "f", &v), 0);
    CHECK_EQ(v.type, CW_JSON_OBJECT);
    CHECK_MEM(v.ptr, "{\"a\":3}", 7);
    CHECK_EQ(v.len, 7);
    CHECK_EQ(cw_json_get(o, n, "g", &v), 0);
    CHECK_EQ(v.type, CW_JSON_NUMBER);
    CHECK_MEM(v.ptr, "-2.5e1", 6);
    CHECK_EQ(v.len, 6);
    CHECK_EQ(cw_json_get(o, n, "h", &v), 0);
    CHECK_EQ(v.type, CW_JSON_BOOL);
    CHECK_EQ(v.len, 5);
    CHECK_EQ(cw_json_get(o, n, "z", &v), CW_ENOENT);
    CHECK_EQ(cw_json_get(o, n, "", &v), CW_ENOENT);
    CHECK_EQ(cw_json_get(o, n, "A", &v), CW_ENOENT); /* keys are case-sensitive */
}

static void test_get_rules(void)
{
    cw_json_val v;
    /* only the top level: nested keys are not found */
    const char *o = "{\"x\":{\"a\":1},\"y\":[{\"a\":2}]}";
    CHECK_EQ(cw_json_get(o, strlen(o), "a", &v), CW_ENOENT);
    /* the last duplicate wins */
    o = "{\"a\":1,\"b\":0,\"a\":22}";
    CHECK_EQ(cw_json_get(o, strlen(o), "a", &v), 0);
    CHECK_EQ(v.len, 2);
    CHECK_MEM(v.ptr, "22", 2);
    /* keys are compared unescaped */
    o = "{\"\\u0061\\u00e9\":5}";
    CHECK_EQ(cw_json_get(o, strlen(o), "a\xc3\xa9", &v), 0);
    CHECK_MEM(v.ptr, "5", 1);
    o = "{\"a\\\"b\":6}";
    CHECK_EQ(cw_json_get(o, strlen(o), "a\"b", &v), 0);
    CHECK_MEM(v.ptr, "6", 1);
    /* a key with an escaped NUL is not the shorter key */
    o = "{\"user_id\":1,\"user_id\\u0000x\":2}";
    CHECK_EQ(cw_json_get(o, strlen(o), "user_id", &v), 0);
    CHECK_MEM(v.ptr, "1", 1);
    o = "{\"a\\u0000\":2}";
    CHECK_EQ(cw_json_get(o, strlen(o), "a", &v), CW_ENOENT);
    /* empty key */
    o = "{\"\":7}";
    CHECK_EQ(cw_json_get(o, strlen(o), "", &v), 0);
    CHECK_MEM(v.ptr, "7", 1);
    /* whitespace around everything */
    o = " \n{ \"a\" :\t[ 1 ] , \"b\" : 2 }\r\n";
    CHECK_EQ(cw_json_get(o, strlen(o), "a", &v), 0);
    CHECK_EQ(v.type, CW_JSON_ARRAY);
    CHECK_EQ(v.len, 5);
    CHECK_EQ(cw_json_get(o, strlen(o), "b", &v), 0);
    CHECK_MEM(v.ptr, "2", 1);
    /* a very long key elsewhere does not disturb the lookup */
    char big[600];
    int k = snprintf(big, sizeof big, "{\"%0300d\":1,\"b\":3}", 0);
    CHECK_EQ(cw_json_get(big, (size_t)k, "b", &v), 0);
    CHECK_MEM(v.ptr, "3", 1);
    CHECK_EQ(cw_json_get("{}", 2, "a", &v), CW_ENOENT);
}

static void test_get_invalid(void)
{
    static const char *const bad[] = {
        "",        "[1]",         "\"a\"",         "1",           "{",
        "{\"a\":1", "{\"a\":1}x", "{\"a\":01}",    "{\"a\":1,}",  "{\"a\" 1}",
        "{a:1}",   "{\"a\":1}{}", "{\"a\":1,\"b\":}", "{\"a\":\"\\x\"}", "{\"a\":[}",
    };
    cw_json_val v;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (cw_json_get(bad[i], strlen(bad[i]), "a", &v) != CW_EINVAL)
            cw_unit_check(0, bad[i], __FILE__, __LINE__);
    }
    /* found early, but the object is broken later: still invalid */
    const char *o = "{\"a\":1,\"b\":tru}";
    CHECK_EQ(cw_json_get(o, strlen(o), "a", &v), CW_EINVAL);
}

static long str_of(const char *json_string, char *out, size_t cap)
{
    cw_json_val v = {CW_JSON_STRING, json_string, strlen(json_string)};
    return cw_json_string(&v, out, cap);
}

static void test_string_unescape(void)
{
    char out[64];
    CHECK_EQ(str_of("\"abc\"", out, sizeof out), 3);
    CHECK(strcmp(out, "abc") == 0);
    CHECK_EQ(str_of("\"\"", out, sizeof out), 0);
    CHECK_EQ(out[0], 0);
    CHECK_EQ(str_of("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", out, sizeof out), 8);
    CHECK_MEM(out, "\"\\/\b\f\n\r\t", 9);
    CHECK_EQ(str_of("\"\\u0041\"", out, sizeof out), 1);
    CHECK(strcmp(out, "A") == 0);
    CHECK_EQ(str_of("\"\\u00e9\\u00E9\"", out, sizeof out), 4);
    CHECK_MEM(out, "\xc3\xa9\xc3\xa9", 5);
    CHECK_EQ(str_of("\"\\u07ff\\u0800\"", out, sizeof out), 5); /* 2- and 3-byte edges */
    CHECK_MEM(out, "\xdf\xbf\xe0\xa0\x80", 6);
    CHECK_EQ(str_of("\"\\u20ac\"", out, sizeof out), 3);
    CHECK_MEM(out, "\xe2\x82\xac", 4);
    CHECK_EQ(str_of("\"\\uffff\"", out, sizeof out), 3);
    CHECK_MEM(out, "\xef\xbf\xbf", 4);
    /* surrogate pairs: the smallest, an emoji, the largest */
    CHECK_EQ(str_of("\"\\ud800\\udc00\"", out, sizeof out), 4);
    CHECK_MEM(out, "\xf0\x90\x80\x80", 5);
    CHECK_EQ(str_of("\"\\ud83d\\ude00!\"", out, sizeof out), 5);
    CHECK_MEM(out, "\xf0\x9f\x98\x80!", 6);
    CHECK_EQ(str_of("\"\\uDBFF\\uDFFF\"", out, sizeof out), 4);
    CHECK_MEM(out, "\xf4\x8f\xbf\xbf", 5);
    /* raw UTF-8 passes through */
    CHECK_EQ(str_of("\"\xc3\xa9t\xc3\xa9\"", out, sizeof out), 5);
    CHECK_MEM(out, "\xc3\xa9t\xc3\xa9", 6);
    /* an escaped NUL is kept: the length tells */
    CHECK_EQ(str_of("\"a\\u0000b\"", out, sizeof out), 3);
    CHECK_MEM(out, "a\0b", 4);
}

static void test_string_surrogate_errors(void)
{
    char out[64];
    static const char *const bad[] = {
        "\"\\ud800\"",        /* lone high */
        "\"\\udc00\"",        /* lone low */
        "\"\\udfff\"",
        "\"\\ud800x\"",       /* high, then a character */
        "\"\\ud800\\u0041\"", /* high, then not a low */
        "\"\\ud800\\ud800\"", /* high, high */
        "\"\\ud800\\ue000\"", /* high, then above the low range */
        "\"\\udc00\\ud800\"", /* reversed pair */
        "\"\\ud800\\n\"",
        "\"\\ud800\\",        /* cut */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (str_of(bad[i], out, sizeof out) != CW_EINVAL)
            cw_unit_check(0, bad[i], __FILE__, __LINE__);
    }
}

static void test_string_errors(void)
{
    char out[8];
    cw_json_val v = {CW_JSON_NUMBER, "1", 1};
    CHECK_EQ(cw_json_string(&v, out, sizeof out), CW_EINVAL);
    CHECK_EQ(str_of("abc", out, sizeof out), CW_EINVAL);
    CHECK_EQ(str_of("\"abc", out, sizeof out), CW_EINVAL);
    CHECK_EQ(str_of("\"a\"b\"", out, sizeof out), CW_EINVAL); /* more after the string */
    CHECK_EQ(str_of("\"\\x\"", out, sizeof out), CW_EINVAL);
    CHECK_EQ(str_of("\"\x01\"", out, sizeof out), CW_EINVAL);
    CHECK_EQ(str_of("\"\xff\"", out, sizeof out), CW_EINVAL);
    /* capacity: the NUL needs room */
    CHECK_EQ(str_of("\"abcdefg\"", out, 8), 7);
    CHECK_EQ(str_of("\"abcdefgh\"", out, 8), CW_ETOOBIG);
    CHECK_EQ(str_of("\"abc\"", out, 3), CW_ETOOBIG);
    CHECK_EQ(str_of("\"abc\"", out, 4), 3);
    CHECK_EQ(str_of("\"\\u20ac\"", out, 3), CW_ETOOBIG);
    CHECK_EQ(str_of("\"\\u20ac\"", out, 4), 3);
    CHECK_EQ(str_of("\"\\ud83d\\ude00\"", out, 4), CW_ETOOBIG);
    CHECK_EQ(str_of("\"\\ud83d\\ude00\"", out, 5), 4);
    CHECK_EQ(str_of("\"\\n\"", out, 1), CW_ETOOBIG);
    CHECK_EQ(str_of("\"\"", out, 1), 0);
    CHECK_EQ(str_of("\"\"", out, 0), CW_ETOOBIG);
    /* a too-small buffer is never written past cap */
    memset(out, '#', sizeof out);
    CHECK_EQ(str_of("\"abcdefgh\"", out, 4), CW_ETOOBIG);
    CHECK_EQ(out[4], '#');
}

static int num_of(const char *s, double *d)
{
    cw_json_val v = {CW_JSON_NUMBER, s, strlen(s)};
    return cw_json_number(&v, d);
}

static int int_of(const char *s, int64_t *i)
{
    cw_json_val v = {CW_JSON_NUMBER, s, strlen(s)};
    return cw_json_int(&v, i);
}

static void test_numbers(void)
{
    double d = 0;
    CHECK_EQ(num_of("1.5", &d), 0);
    CHECK(d == 1.5);
    CHECK_EQ(num_of("-2e3", &d), 0);
    CHECK(d == -2000.0);
    CHECK_EQ(num_of("0", &d), 0);
    CHECK(d == 0.0);
    CHECK_EQ(num_of("1E-2", &d), 0);
    CHECK(d == 0.01);
    CHECK_EQ(num_of("1300819380", &d), 0);
    CHECK(d == 1300819380.0);
    d = 7;
    CHECK_EQ(num_of("01", &d), CW_EINVAL);
    CHECK_EQ(num_of("1.", &d), CW_EINVAL);
    CHECK_EQ(num_of("0x1", &d), CW_EINVAL);
    CHECK_EQ(num_of("1 ", &d), CW_EINVAL);
    CHECK_EQ(num_of("", &d), CW_EINVAL);
    CHECK_EQ(num_of("inf", &d), CW_EINVAL);
    CHECK(d == 7); /* untouched on error */
    cw_json_val s = {CW_JSON_STRING, "\"1\"", 3};
    CHECK_EQ(cw_json_number(&s, &d), CW_EINVAL);

    int64_t i = 0;
    CHECK_EQ(int_of("42", &i), 0);
    CHECK_EQ(i, 42);
    CHECK_EQ(int_of("-42", &i), 0);
    CHECK_EQ(i, -42);
    CHECK_EQ(int_of("0", &i), 0);
    CHECK_EQ(i, 0);
    CHECK_EQ(int_of("-0", &i), 0);
    CHECK_EQ(i, 0);
    CHECK_EQ(int_of("9223372036854775807", &i), 0);
    CHECK(i == INT64_MAX);
    CHECK_EQ(int_of("-9223372036854775808", &i), 0);
    CHECK(i == INT64_MIN);
    i = 5;
    CHECK_EQ(int_of("9223372036854775808", &i), CW_EINVAL);
    CHECK_EQ(int_of("-9223372036854775809", &i), CW_EINVAL);
    CHECK_EQ(int_of("99999999999999999999", &i), CW_EINVAL);
    CHECK_EQ(int_of("1.0", &i), CW_EINVAL);
    CHECK_EQ(int_of("1e3", &i), CW_EINVAL);
    CHECK_EQ(int_of("01", &i), CW_EINVAL);
    CHECK_EQ(int_of("-", &i), CW_EINVAL);
    CHECK_EQ(int_of("", &i), CW_EINVAL);
    CHECK_EQ(int_of("+1", &i), CW_EINVAL);
    CHECK_EQ(i, 5);
    CHECK_EQ(cw_json_int(&s, &i), CW_EINVAL);
}

static void test_bools(void)
{
    const char *o = "{\"t\":true,\"f\":false,\"n\":null,\"s\":\"true\",\"z\":0}";
    cw_json_val v;
    int b = 9;
    CHECK_EQ(cw_json_get(o, strlen(o), "t", &v), 0);
    CHECK_EQ(cw_json_bool(&v, &b), 0);
    CHECK_EQ(b, 1);
    CHECK_EQ(cw_json_get(o, strlen(o), "f", &v), 0);
    CHECK_EQ(cw_json_bool(&v, &b), 0);
    CHECK_EQ(b, 0);
    b = 9;
    CHECK_EQ(cw_json_get(o, strlen(o), "n", &v), 0);
    CHECK_EQ(cw_json_bool(&v, &b), CW_EINVAL);
    CHECK_EQ(cw_json_get(o, strlen(o), "s", &v), 0);
    CHECK_EQ(cw_json_bool(&v, &b), CW_EINVAL);
    CHECK_EQ(cw_json_get(o, strlen(o), "z", &v), 0);
    CHECK_EQ(cw_json_bool(&v, &b), CW_EINVAL);
    CHECK_EQ(b, 9);
}

static void test_get_string(void)
{
    const char *o = "{\"message\":\"hi \\\"there\\\"\",\"n\":1,\"long\":\"0123456789\"}";
    char out[16];
    CHECK_EQ(cw_json_get_string(o, strlen(o), "message", out, sizeof out), 10);
    CHECK(strcmp(out, "hi \"there\"") == 0);
    CHECK_EQ(cw_json_get_string(o, strlen(o), "n", out, sizeof out), CW_EINVAL);
    CHECK_EQ(cw_json_get_string(o, strlen(o), "x", out, sizeof out), CW_ENOENT);
    CHECK_EQ(cw_json_get_string(o, strlen(o), "long", out, 10), CW_ETOOBIG);
    CHECK_EQ(cw_json_get_string(o, strlen(o), "long", out, 11), 10);
    CHECK_EQ(cw_json_get_string("[\"message\"]", 11, "message", out, sizeof out), CW_EINVAL);
}

/* ---- writer ---- */

static void test_writer_document(void)
{
    char buf[256];
    cw_json_w w;
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_object(&w);
    cw_json_w_key(&w, "a");
    cw_json_w_int(&w, 1);
    cw_json_w_key(&w, "b");
    cw_json_w_array(&w);
    cw_json_w_bool(&w, 1);
    cw_json_w_bool(&w, 0);
    cw_json_w_null(&w);
    cw_json_w_array(&w);
    cw_json_w_end(&w);
    cw_json_w_object(&w);
    cw_json_w_end(&w);
    cw_json_w_end(&w);
    cw_json_w_key(&w, "c");
    cw_json_w_cstr(&w, "x\"y\\z");
    cw_json_w_key(&w, "d");
    cw_json_w_object(&w);
    cw_json_w_key(&w, "e");
    cw_json_w_int(&w, -9);
    cw_json_w_key(&w, "f");
    cw_json_w_raw(&w, "[1,2]", 5);
    cw_json_w_end(&w);
    cw_json_w_end(&w);
    const char *want = "{\"a\":1,\"b\":[true,false,null,[],{}],\"c\":\"x\\\"y\\\\z\","
                       "\"d\":{\"e\":-9,\"f\":[1,2]}}";
    CHECK_EQ(cw_json_w_finish(&w), (long)strlen(want));
    CHECK(strcmp(buf, want) == 0);
    CHECK_EQ(cw_json_valid(buf, strlen(buf)), 1);
}

static void test_writer_escaping(void)
{
    char buf[256];
    cw_json_w w;
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_array(&w);
    cw_json_w_string(&w, "\n\r\t\x01\x1f\b\f", 7);
    cw_json_w_string(&w, "a\0b", 3); /* NUL inside the length */
    cw_json_w_cstr(&w, "/\x7f\xc3\xa9\xf0\x9f\x98\x80 ");
    cw_json_w_cstr(&w, "");
    cw_json_w_end(&w);
    const char *want = "[\"\\n\\r\\t\\u0001\\u001f\\u0008\\u000c\",\"a\\u0000b\","
                       "\"/\x7f\xc3\xa9\xf0\x9f\x98\x80 \",\"\"]";
    CHECK_EQ(cw_json_w_finish(&w), (long)strlen(want));
    CHECK(strcmp(buf, want) == 0);
    CHECK_EQ(cw_json_valid(buf, strlen(buf)), 1);
    /* what the writer escapes, the reader gives back */
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_object(&w);
    cw_json_w_key(&w, "k\"\\\n");
    cw_json_w_string(&w, "v\x01\"\\\xe2\x82\xac", 7);
    cw_json_w_end(&w);
    long n = cw_json_w_finish(&w);
    CHECK(n > 0);
    char out[32];
    CHECK_EQ(cw_json_get_string(buf, (size_t)n, "k\"\\\n", out, sizeof out), 7);
    CHECK_MEM(out, "v\x01\"\\\xe2\x82\xac", 7);
}

static void test_writer_ints(void)
{
    char buf[128];
    cw_json_w w;
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_array(&w);
    cw_json_w_int(&w, 0);
    cw_json_w_int(&w, INT64_MAX);
    cw_json_w_int(&w, INT64_MIN);
    cw_json_w_end(&w);
    const char *want = "[0,9223372036854775807,-9223372036854775808]";
    CHECK_EQ(cw_json_w_finish(&w), (long)strlen(want));
    CHECK(strcmp(buf, want) == 0);
    /* a bare top-level value */
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_cstr(&w, "x");
    CHECK_EQ(cw_json_w_finish(&w), 3);
    CHECK(strcmp(buf, "\"x\"") == 0);
}

/* The same document into every capacity: too small fails, never writes
 * past cap, and the first capacity that works is length + 1. */
static void write_doc(cw_json_w *w)
{
    cw_json_w_object(w);
    cw_json_w_key(w, "message");
    cw_json_w_cstr(w, "tab\there");
    cw_json_w_key(w, "n");
    cw_json_w_int(w, 12345);
    cw_json_w_end(w);
}

static void test_writer_overflow(void)
{
    const char *want = "{\"message\":\"tab\\there\",\"n\":12345}";
    size_t len = strlen(want);
    char buf[64];
    for (size_t cap = 0; cap <= len + 2; cap++) {
        cw_json_w w;
        memset(buf, '#', sizeof buf);
        cw_json_w_init(&w, buf, cap);
        write_doc(&w);
        long r = cw_json_w_finish(&w);
        if (cap <= len) {
            CHECK_EQ(r, CW_ETOOBIG);
        } else {
            CHECK_EQ(r, (long)len);
            CHECK(strcmp(buf, want) == 0);
        }
        for (size_t i = cap; i < sizeof buf; i++)
            if (buf[i] != '#') {
                CHECK_EQ(i, cap); /* wrote past cap */
                break;
            }
    }
}

static void test_writer_misuse(void)
{
    /* Misuse is CW_EINVAL, told apart from a full buffer (CW_ETOOBIG). */
    char buf[128];
    cw_json_w w;
    /* unbalanced */
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_object(&w);
    CHECK_EQ(cw_json_w_finish(&w), CW_EINVAL);
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_array(&w);
    cw_json_w_end(&w);
    cw_json_w_end(&w);
    CHECK_EQ(cw_json_w_finish(&w), CW_EINVAL);
    /* a key without its value */
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_object(&w);
    cw_json_w_key(&w, "a");
    cw_json_w_end(&w);
    CHECK_EQ(cw_json_w_finish(&w), CW_EINVAL);
    /* two keys in a row */
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_object(&w);
    cw_json_w_key(&w, "a");
    cw_json_w_key(&w, "b");
    cw_json_w_int(&w, 1);
    cw_json_w_end(&w);
    CHECK_EQ(cw_json_w_finish(&w), CW_EINVAL);
    /* a value in an object without a key */
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_object(&w);
    cw_json_w_int(&w, 1);
    cw_json_w_end(&w);
    CHECK_EQ(cw_json_w_finish(&w), CW_EINVAL);
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_object(&w);
    cw_json_w_key(&w, "a");
    cw_json_w_int(&w, 1);
    cw_json_w_array(&w);
    cw_json_w_end(&w);
    cw_json_w_end(&w);
    CHECK_EQ(cw_json_w_finish(&w), CW_EINVAL);
    /* a key in an array, or at the top */
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_array(&w);
    cw_json_w_key(&w, "a");
    cw_json_w_int(&w, 1);
    cw_json_w_end(&w);
    CHECK_EQ(cw_json_w_finish(&w), CW_EINVAL);
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_key(&w, "a");
    cw_json_w_int(&w, 1);
    CHECK_EQ(cw_json_w_finish(&w), CW_EINVAL);
    /* two top-level values */
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_int(&w, 1);
    cw_json_w_int(&w, 2);
    CHECK_EQ(cw_json_w_finish(&w), CW_EINVAL);
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_object(&w);
    cw_json_w_end(&w);
    cw_json_w_array(&w);
    cw_json_w_end(&w);
    CHECK_EQ(cw_json_w_finish(&w), CW_EINVAL);
    /* text that is not UTF-8, as a value or a key */
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_array(&w);
    cw_json_w_string(&w, "\xff", 1);
    cw_json_w_end(&w);
    CHECK_EQ(cw_json_w_finish(&w), CW_EINVAL);
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_object(&w);
    cw_json_w_key(&w, "\xc3");
    cw_json_w_int(&w, 1);
    cw_json_w_end(&w);
    CHECK_EQ(cw_json_w_finish(&w), CW_EINVAL);
    /* errors stick: later calls do not clear them */
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_end(&w);
    cw_json_w_array(&w);
    cw_json_w_end(&w);
    CHECK_EQ(cw_json_w_finish(&w), CW_EINVAL);
    /* nothing at all is not a document */
    cw_json_w_init(&w, buf, 0);
    CHECK_EQ(cw_json_w_finish(&w), CW_ETOOBIG);
}

static void test_writer_depth(void)
{
    char buf[256];
    cw_json_w w;
    /* 31 levels: the writer's limit, below the reader's */
    cw_json_w_init(&w, buf, sizeof buf);
    for (int i = 0; i < 31; i++)
        cw_json_w_array(&w);
    for (int i = 0; i < 31; i++)
        cw_json_w_end(&w);
    CHECK_EQ(cw_json_w_finish(&w), 62);
    CHECK_EQ(cw_json_valid(buf, 62), 1);
    cw_json_w_init(&w, buf, sizeof buf);
    for (int i = 0; i < 32; i++)
        cw_json_w_array(&w);
    for (int i = 0; i < 32; i++)
        cw_json_w_end(&w);
    CHECK_EQ(cw_json_w_finish(&w), CW_ETOOBIG);
    /* objects at every level, keys tracked per level */
    cw_json_w_init(&w, buf, sizeof buf);
    for (int i = 0; i < 31; i++) {
        cw_json_w_object(&w);
        cw_json_w_key(&w, "k");
    }
    cw_json_w_int(&w, 1);
    for (int i = 0; i < 31; i++)
        cw_json_w_end(&w);
    long n = cw_json_w_finish(&w);
    CHECK_EQ(n, 31 * 6 + 1);
    CHECK_EQ(cw_json_valid(buf, (size_t)n), 1);
}

/* cw_json_w_value: a value found by the reader goes out as received,
 * escapes and all, with no buffer for its unescaped text. */
static void test_writer_value(void)
{
    const char *in = "{\"message\": \"a\\\"b \\u00e9 \\ud834\\udd1e\", \"n\": [1, {\"x\": null}],"
                     " \"t\": true, \"f\": -1.5e3}";
    static const struct {
        const char *key, *want;
    } cases[] = {
        {"message", "{\"v\":\"a\\\"b \\u00e9 \\ud834\\udd1e\"}"},
        {"n", "{\"v\":[1, {\"x\": null}]}"},
        {"t", "{\"v\":true}"},
        {"f", "{\"v\":-1.5e3}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cw_json_val v;
        CHECK_EQ(cw_json_get(in, strlen(in), cases[i].key, &v), 0);
        char buf[128];
        cw_json_w w;
        cw_json_w_init(&w, buf, sizeof buf);
        cw_json_w_object(&w);
        cw_json_w_key(&w, "v");
        cw_json_w_value(&w, &v);
        cw_json_w_end(&w);
        long n = cw_json_w_finish(&w);
        CHECK_EQ(n, (long)strlen(cases[i].want));
        CHECK(strcmp(buf, cases[i].want) == 0);
        CHECK(cw_json_valid(buf, (size_t)n));
    }
    /* The output is no longer than the input: a buffer the size of the
     * received message holds it (the demo chat's rule), and one byte less
     * than needed is CW_ETOOBIG, never a cut value. */
    cw_json_val v;
    CHECK_EQ(cw_json_get(in, strlen(in), "message", &v), 0);
    char small[24];
    cw_json_w w;
    cw_json_w_init(&w, small, sizeof small);
    cw_json_w_array(&w);
    cw_json_w_value(&w, &v);
    cw_json_w_end(&w);
    CHECK_EQ(cw_json_w_finish(&w), CW_ETOOBIG);
    /* Not a value found by the reader: CW_EINVAL. */
    cw_json_val none = {CW_JSON_NONE, NULL, 0};
    char buf[32];
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_array(&w);
    cw_json_w_value(&w, &none);
    cw_json_w_end(&w);
    CHECK_EQ(cw_json_w_finish(&w), CW_EINVAL);
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_array(&w);
    cw_json_w_value(&w, NULL);
    cw_json_w_end(&w);
    CHECK_EQ(cw_json_w_finish(&w), CW_EINVAL);
    /* Like every value: not in an object without its key. */
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_object(&w);
    cw_json_w_value(&w, &v);
    cw_json_w_end(&w);
    CHECK_EQ(cw_json_w_finish(&w), CW_EINVAL);
}

int main(void)
{
    RUN(test_valid_vectors);
    RUN(test_invalid_vectors);
    RUN(test_depth_limit);
    RUN(test_depth_kinds);
    RUN(test_depth_siblings);
    RUN(test_deep_hostile);
    RUN(test_get_types);
    RUN(test_get_rules);
    RUN(test_get_invalid);
    RUN(test_string_unescape);
    RUN(test_string_surrogate_errors);
    RUN(test_string_errors);
    RUN(test_numbers);
    RUN(test_bools);
    RUN(test_get_string);
    RUN(test_writer_document);
    RUN(test_writer_escaping);
    RUN(test_writer_ints);
    RUN(test_writer_overflow);
    RUN(test_writer_misuse);
    RUN(test_writer_depth);
    RUN(test_writer_value);
    return cw_unit_done();
}
