/* SPDX-License-Identifier: MIT */
/* test_resp.c: the RESP2 tokenizer of the Redis layer. Every reply kind,
 * nested arrays with their depth/index/end marks, the same replies fed one
 * byte at a time and split at every offset (the tokens must not change),
 * oversized bulk strings discarded while streaming, every bound (line
 * length, nesting, array count, integer range) and malformed input, and the
 * command writers against the captured PUBLISH frame of the wire spec. */
#include "chanwire.h"
#include "proto/resp.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A token as a short text, to compare whole streams at once. */
static void show(const cw_resp_tok *t, char *out, size_t cap)
{
    static const char *const names[] = {"none", "simple", "error", "int", "bulk", "nil", "array",
                                        "toobig"};
    char val[64] = "";
    if (t->type == CW_RESP_SIMPLE || t->type == CW_RESP_ERROR || t->type == CW_RESP_BULK)
        snprintf(val, sizeof val, "=%.*s", (int)(t->len < 60 ? t->len : 60), (const char *)t->ptr);
    else if (t->type != CW_RESP_NIL)
        snprintf(val, sizeof val, "=%lld", (long long)t->num);
    snprintf(out, cap, "%s@%u.%u%s%s ", names[t->type], t->depth, t->index, val, t->end ? "!" : "");
}

/* Feeds in[0..len) in pieces of at most `chunk` bytes (0: all at once) the
 * way a connection does (keep the unconsumed tail, append the next piece)
 * and writes every token. Returns 0, or -1 on a protocol error. */
static int run(const char *in, size_t len, size_t chunk, size_t max_bulk, char *out, size_t cap)
{
    static uint8_t buf[1 << 16];
    cw_resp_parser p;
    cw_resp_init(&p, max_bulk);
    size_t have = 0, fed = 0, o = 0;
    out[0] = 0;
    while (fed < len) {
        size_t take = chunk && chunk < len - fed ? chunk : len - fed;
        memcpy(buf + have, in + fed, take);
        have += take;
        fed += take;
        size_t off = 0;
        for (;;) {
            cw_resp_tok t;
            long n = cw_resp_next(&p, buf + off, have - off, &t);
            if (n < 0)
                return -1;
            if (n == 0)
                break;
            off += (size_t)n;
            if (t.type != CW_RESP_NONE && o + 1 < cap) {
                show(&t, out + o, cap - o);
                o += strlen(out + o);
            }
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    return have || p.skip || p.depth ? -2 : 0; /* input ended inside a reply */
}

static void expect(const char *in, const char *want)
{
    char out[4096], again[4096];
    size_t len = strlen(in);
    CHECK_EQ(run(in, len, 0, 1024, out, sizeof out), 0);
    if (strcmp(out, want) != 0)
        fprintf(stderr, "  got  %s\n  want %s\n", out, want);
    CHECK(strcmp(out, want) == 0);
    /* the same tokens whatever the reads look like */
    for (size_t chunk = 1; chunk <= len; chunk++) {
        CHECK_EQ(run(in, len, chunk, 1024, again, sizeof again), 0);
        CHECK(strcmp(out, again) == 0);
    }
}

static void test_scalars(void)
{
    expect("+OK\r\n", "simple@0.0=OK! ");
    expect("-ERR unknown command 'FOO'\r\n", "error@0.0=ERR unknown command 'FOO'! ");
    expect(":42\r\n:-7\r\n:0\r\n", "int@0.0=42! int@0.0=-7! int@0.0=0! ");
    expect(":9223372036854775807\r\n:-9223372036854775808\r\n",
           "int@0.0=9223372036854775807! int@0.0=-9223372036854775808! ");
    expect("$5\r\nhello\r\n$0\r\n\r\n$-1\r\n", "bulk@0.0=hello! bulk@0.0=! nil@0.0! ");
    /* binary-safe: CR, LF and NUL inside a bulk string */
    char out[256];
    const char bin[] = "$6\r\na\r\nb\0c\r\n";
    CHECK_EQ(run(bin, sizeof bin - 1, 1, 64, out, sizeof out), 0);
    CHECK(strncmp(out, "bulk@0.0=a\r\nb", 13) == 0);
}

static void test_arrays(void)
{
    /* a pub/sub push, a subscribe confirmation and a pong */
    expect("*3\r\n$7\r\nmessage\r\n$19\r\nasgi__group__chat_x\r\n$3\r\nabc\r\n",
           "array@0.0=3 bulk@1.0=message bulk@1.1=asgi__group__chat_x bulk@1.2=abc! ");
    expect("*3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n",
           "array@0.0=3 bulk@1.0=subscribe bulk@1.1=x int@1.2=1! "
           "array@0.0=2 bulk@1.0=pong bulk@1.1=! ");
    /* empty and nil arrays are whole replies at once */
    expect("*0\r\n*-1\r\n", "array@0.0=0! nil@0.0! ");
    /* nesting: each element knows its depth and place; end only at the top */
    expect("*2\r\n*2\r\n:1\r\n*0\r\n*1\r\n$-1\r\n+x\r\n",
           "array@0.0=2 array@1.0=2 int@2.0=1 array@2.1=0 array@1.1=1 nil@2.0! simple@0.0=x! ");
    expect("*1\r\n*1\r\n*1\r\n*1\r\n:5\r\n", "array@0.0=1 array@1.0=1 array@2.0=1 array@3.0=1 int@4.0=5! ");
    /* an error inside an array (as EXEC returns them) */
    expect("*2\r\n-ERR x\r\n:1\r\n", "array@0.0=2 error@1.0=ERR x int@1.1=1! ");
}

static void test_incomplete_needs(void)
{
    cw_resp_parser p;
    cw_resp_tok t;
    cw_resp_init(&p, 1024);
    /* nothing consumed until the whole token is there; need says how much */
    CHECK_EQ(cw_resp_next(&p, (const uint8_t *)"", 0, &t), 0);
    CHECK_EQ(cw_resp_next(&p, (const uint8_t *)"$5\r\nhel", 7, &t), 0);
    CHECK_EQ(p.need, 11);
    CHECK_EQ(cw_resp_next(&p, (const uint8_t *)"$5\r\nhello\r", 10, &t), 0);
    CHECK_EQ(cw_resp_next(&p, (const uint8_t *)"$5\r\nhello\r\n", 11, &t), 11);
    CHECK_EQ(t.type, CW_RESP_BULK);
    CHECK_EQ(cw_resp_next(&p, (const uint8_t *)":12", 3, &t), 0);
    CHECK(p.need > 3);
    CHECK_EQ(cw_resp_next(&p, (const uint8_t *)"*2\r", 3, &t), 0);
}

static void test_oversized_bulk_skipped(void)
{
    /* a string over max_bulk is discarded as it streams past, in any
     * pieces; only its length is reported, and parsing goes on after it */
    static char in[9000];
    char out[512];
    int n = snprintf(in, sizeof in, "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$5000\r\n");
    memset(in + n, 'x', 5000);
    n += 5000;
    n += snprintf(in + n, sizeof in - (size_t)n, "\r\n:7\r\n");
    const char *want = "array@0.0=3 bulk@1.0=message bulk@1.1=c toobig@1.2=5000! int@0.0=7! ";
    for (size_t chunk = 0; chunk <= 4096; chunk = chunk ? chunk * 2 : 1) {
        CHECK_EQ(run(in, (size_t)n, chunk, 100, out, sizeof out), 0);
        CHECK(strcmp(out, want) == 0);
    }
    /* max_bulk itself still fits */
    CHECK_EQ(run("$3\r\nabc\r\n", 9, 0, 3, out, sizeof out), 0);
    CHECK(strcmp(out, "bulk@0.0=abc! ") == 0);
    CHECK_EQ(run("$4\r\nabcd\r\n", 10, 0, 3, out, sizeof out), 0);
    CHECK(strcmp(out, "toobig@0.0=4! ") == 0);
}

static int bad(const char *in)
{
    char out[512];
    return run(in, strlen(in), 0, 1024, out, sizeof out) == -1;
}

static void test_malformed(void)
{
    CHECK(bad("?what\r\n"));            /* unknown type byte */
    CHECK(bad("%1\r\n"));               /* RESP3 map: we speak RESP2 */
    CHECK(bad(":12a\r\n"));
    CHECK(bad(":\r\n"));
    CHECK(bad(":-\r\n"));
    CHECK(bad(":99999999999999999999\r\n"));  /* beyond 64 bits */
    CHECK(bad(":9223372036854775808\r\n"));
    CHECK(bad("$-2\r\n"));
    CHECK(bad("$3\r\nabcd\r\n"));       /* no CRLF where the length says */
    CHECK(bad("$x\r\n"));
    CHECK(bad("*-2\r\n"));
    CHECK(bad("+OK\n"));                /* bare LF */
    CHECK(bad("+O\rK\r\n"));            /* bare CR */
    CHECK(bad("*65537\r\n"));           /* larger than CW_RESP_MAX_ELEMS */
    /* nesting deeper than CW_RESP_MAX_DEPTH */
    char deep[64] = "";
    for (int i = 0; i < CW_RESP_MAX_DEPTH + 1; i++)
        strcat(deep, "*1\r\n");
    strcat(deep, ":1\r\n");
    CHECK(bad(deep));
    deep[4 * CW_RESP_MAX_DEPTH] = 0;
    strcat(deep, ":1\r\n");
    CHECK(!bad(deep));
    /* a line longer than CW_RESP_LINE_MAX, with or without its end */
    static char line[CW_RESP_LINE_MAX + 16];
    memset(line, 'a', sizeof line - 1);
    line[0] = '+';
    line[sizeof line - 1] = 0;
    CHECK(bad(line));
    line[sizeof line - 3] = '\r';
    line[sizeof line - 2] = '\n';
    CHECK(bad(line));
    memset(line, 'a', CW_RESP_LINE_MAX + 1);
    line[0] = '+';
    memcpy(line + CW_RESP_LINE_MAX + 1, "\r\n", 3);
    CHECK(!bad(line)); /* exactly CW_RESP_LINE_MAX bytes after the type */
}

static void test_commands(void)
{
    uint8_t out[256];
    const char *argv[2] = {"SUBSCRIBE", "asgi__group__chat_x"};
    size_t lens[2] = {9, 19};
    long n = cw_resp_command(out, sizeof out, 2, argv, lens);
    const char want[] = "*2\r\n$9\r\nSUBSCRIBE\r\n$19\r\nasgi__group__chat_x\r\n";
    CHECK_EQ(n, (long)sizeof want - 1);
    CHECK_MEM(out, want, sizeof want - 1);
    CHECK_EQ(cw_resp_command(out, 20, 2, argv, lens), CW_ETOOBIG);
    /* the spec's captured PUBLISH frame (channels-redis-vectors.json,
     * canonical.resp_publish_hex): head + payload + CRLF */
    static const char frame_hex[] =
        "2a330d0a24370d0a5055424c4953480d0a2431390d0a617367695f5f67726f75705f5f636861745f780d0a"
        "2433330d0a82a474797065ac636861745f6d657373616765a76d657373616765a568656c6c6f0d0a";
    static const char payload_hex[] =
        "82a474797065ac636861745f6d657373616765a76d657373616765a568656c6c6f";
    uint8_t frame[200], payload[64], got[256];
    size_t fl = strlen(frame_hex) / 2, pl = strlen(payload_hex) / 2;
    for (size_t i = 0; i < fl; i++)
        frame[i] = (uint8_t)strtoul((char[]){frame_hex[2 * i], frame_hex[2 * i + 1], 0}, NULL, 16);
    for (size_t i = 0; i < pl; i++)
        payload[i] = (uint8_t)strtoul((char[]){payload_hex[2 * i], payload_hex[2 * i + 1], 0}, NULL, 16);
    long hl = cw_resp_publish_head(got, sizeof got, "asgi__group__chat_x", 19, pl);
    CHECK(hl > 0);
    memcpy(got + hl, payload, pl);
    memcpy(got + hl + (long)pl, "\r\n", 2);
    CHECK_EQ((size_t)hl + pl + 2, fl);
    CHECK_MEM(got, frame, fl);
    CHECK_EQ(cw_resp_publish_head(got, 10, "asgi__group__chat_x", 19, pl), CW_ETOOBIG);
    /* and what Redis would see parses back as that command */
    char toks[512];
    CHECK_EQ(run((const char *)frame, fl, 1, 1024, toks, sizeof toks), 0);
    CHECK(strncmp(toks, "array@0.0=3 bulk@1.0=PUBLISH bulk@1.1=asgi__group__chat_x bulk@1.2=", 67) == 0);
}

int main(void)
{
    RUN(test_scalars);
    RUN(test_arrays);
    RUN(test_incomplete_needs);
    RUN(test_oversized_bulk_skipped);
    RUN(test_malformed);
    RUN(test_commands);
    return cw_unit_done();
}
