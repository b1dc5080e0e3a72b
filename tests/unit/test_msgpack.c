/* SPDX-License-Identifier: MIT */
/* test_msgpack.c: the msgpack writer/reader and the Channels message mapping
 * of the Redis layer, against the vectors captured on the wire from Django
 * (channels-redis-vectors.json of the wire spec: channels_redis 4.0.0 with
 * msgpack-python 1.0.3): byte-exact encodings, decoding what Django sent,
 * msgpack-python's choice of the smallest form at every size boundary, the
 * JSON <-> msgpack conversions both ways, broadcast and close messages, and
 * every malformed message the layer must drop instead of delivering. */
#include "chanwire.h"
#include "proto/layer_msg.h"
#include "proto/msgpack.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    if (n > cap)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char b[3] = {hex[2 * i], hex[2 * i + 1], 0};
        out[i] = (uint8_t)strtoul(b, NULL, 16);
    }
    return n;
}

#define CHECK_HEX(buf, len, hex)                                 \
    do {                                                         \
        uint8_t want_[4096];                                     \
        size_t wl_ = unhex(hex, want_, sizeof want_);            \
        CHECK_EQ((long)(len), (long)wl_);                        \
        if ((size_t)(len) == wl_)                                \
            CHECK_MEM(buf, want_, wl_);                          \
    } while (0)

/* ---- the vectors (channels-redis-vectors.json) ---- */

/* canonical.pubsub_payload_hex: {"type":"chat_message","message":"hello"} */
static const char *const V_PUBSUB =
    "82a474797065ac636861745f6d657373616765a76d657373616765a568656c6c6f";
/* pubsub_django_group_send.payload_hex, captured from Django's group_send */
static const char *const V_DJANGO =
    "82a474797065ac636861745f6d657373616765a76d657373616765b466726f6d2d646a616e676f2d6466663334323938";
/* pubsub_probe_to_group.redis_command[2] */
static const char *const V_PROBE =
    "82a474797065ac636861745f6d657373616765a76d657373616765b366726f6d2d70726f62652d6466663334323938";
/* canonical.core_group_member_hex and core_send_member_hex: 12 prefix
 * bytes, then the map with __asgi_channel__ as an array or a str */
static const char *const V_CORE_GROUP =
    "000102030405060708090a0b83a474797065ac636861745f6d657373616765a76d657373616765a568656c6c6f"
    "b05f5f617367695f6368616e6e656c5f5f91d92c73706563696669632e3031323334353637383961626364656630"
    "313233343536373839616263646566216331";
static const char *const V_CORE_SEND =
    "000102030405060708090a0b83a474797065ac636861745f6d657373616765a76d657373616765a568656c6c6f"
    "b05f5f617367695f6368616e6e656c5f5fd92c73706563696669632e303132333435363738396162636465663031"
    "3233343536373839616263646566216331";
/* core_django_group_send.member_hex: a real Django core-layer message */
static const char *const V_CORE_DJANGO =
    "838eb8c12324f941b3da374683a474797065ac636861745f6d657373616765a76d657373616765b466726f6d2d646a"
    "616e676f2d3633626236373138b05f5f617367695f6368616e6e656c5f5f91d93073706563696669632e6136336531"
    "3362343532356434376637383239663264643365386231313266632170726f626531";

static void test_vectors_encode(void)
{
    uint8_t out[512];
    /* the event chanwire publishes for chat_message {"message": "hello"} */
    long n = cw_layer_msg_encode_event(out, sizeof out, "chat_message", "{\"message\": \"hello\"}", 20);
    CHECK_HEX(out, n, V_PUBSUB);
    n = cw_layer_msg_encode_event(out, sizeof out, "chat_message",
                           "{\"message\":\"from-probe-dff34298\"}", 33);
    CHECK_HEX(out, n, V_PROBE);
    /* the core layer's member, written with the plain writer: fixmap,
     * fixstr keys, str8 channel name, fixarray (all as msgpack-python) */
    static const char chan[] = "specific.0123456789abcdef0123456789abcdef!c1";
    cw_msgpack_w w;
    cw_msgpack_w_init(&w, out, sizeof out);
    for (uint8_t i = 0; i < 12; i++) {
        out[i] = i;
        w.len++;
    }
    cw_msgpack_map(&w, 3);
    cw_msgpack_cstr(&w, "type");
    cw_msgpack_cstr(&w, "chat_message");
    cw_msgpack_cstr(&w, "message");
    cw_msgpack_cstr(&w, "hello");
    cw_msgpack_cstr(&w, "__asgi_channel__");
    cw_msgpack_array(&w, 1);
    cw_msgpack_cstr(&w, chan);
    CHECK_EQ(w.err, 0);
    CHECK_HEX(out, w.len, V_CORE_GROUP);
    w.len = 12;
    cw_msgpack_map(&w, 3);
    cw_msgpack_cstr(&w, "type");
    cw_msgpack_cstr(&w, "chat_message");
    cw_msgpack_cstr(&w, "message");
    cw_msgpack_cstr(&w, "hello");
    cw_msgpack_cstr(&w, "__asgi_channel__");
    cw_msgpack_cstr(&w, chan);
    CHECK_HEX(out, w.len, V_CORE_SEND);
}

static void test_vectors_decode(void)
{
    uint8_t in[512];
    char out[512];
    cw_layer_msg_msg m;
    size_t n = unhex(V_DJANGO, in, sizeof in);
    CHECK_EQ(cw_layer_msg_decode(in, n, out, sizeof out, &m), 0);
    CHECK_EQ(m.kind, CW_LAYER_MSG_EVENT);
    CHECK(strcmp(m.type, "chat_message") == 0);
    CHECK_EQ(m.len, strlen("{\"message\":\"from-django-dff34298\"}"));
    CHECK_MEM(m.data, "{\"message\":\"from-django-dff34298\"}", m.len);
    CHECK(cw_event_is(m.type, "chat.message"));
    /* core messages after their 12 random bytes: the routing key comes out
     * as one more key of the body */
    n = unhex(V_CORE_GROUP, in, sizeof in);
    CHECK_EQ(cw_layer_msg_decode(in + 12, n - 12, out, sizeof out, &m), 0);
    const char *want = "{\"message\":\"hello\",\"__asgi_channel__\":"
                       "[\"specific.0123456789abcdef0123456789abcdef!c1\"]}";
    CHECK_EQ(m.len, strlen(want));
    CHECK_MEM(m.data, want, m.len);
    n = unhex(V_CORE_SEND, in, sizeof in);
    CHECK_EQ(cw_layer_msg_decode(in + 12, n - 12, out, sizeof out, &m), 0);
    n = unhex(V_CORE_DJANGO, in, sizeof in);
    CHECK_EQ(cw_layer_msg_decode(in + 12, n - 12, out, sizeof out, &m), 0);
    CHECK(strstr(out, "\"message\":\"from-django-63bb6718\"") != NULL);
    /* with the random prefix still on, it is not a message */
    CHECK_EQ(cw_layer_msg_decode(in, n, out, sizeof out, &m), CW_EINVAL);
}

/* msgpack-python's packb picks these forms (checked against it). */
static void test_writer_boundaries(void)
{
    uint8_t out[128];
    cw_msgpack_w w;
    static const struct {
        int64_t v;
        const char *hex;
    } ints[] = {
        {0, "00"}, {127, "7f"}, {128, "cc80"}, {255, "ccff"}, {256, "cd0100"}, {65535, "cdffff"},
        {65536, "ce00010000"}, {4294967295LL, "ceffffffff"}, {4294967296LL, "cf0000000100000000"},
        {-1, "ff"}, {-32, "e0"}, {-33, "d0df"}, {-128, "d080"}, {-129, "d1ff7f"},
        {-32768, "d18000"}, {-32769, "d2ffff7fff"}, {-2147483648LL, "d280000000"},
        {-2147483649LL, "d3ffffffff7fffffff"}, {INT64_MIN, "d38000000000000000"},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        cw_msgpack_w_init(&w, out, sizeof out);
        cw_msgpack_int(&w, ints[i].v);
        CHECK_HEX(out, w.len, ints[i].hex);
    }
    cw_msgpack_w_init(&w, out, sizeof out);
    cw_msgpack_uint(&w, UINT64_MAX);
    CHECK_HEX(out, w.len, "cfffffffffffffffff");
    cw_msgpack_w_init(&w, out, sizeof out);
    cw_msgpack_float(&w, 1.5);
    cw_msgpack_nil(&w);
    cw_msgpack_bool(&w, 1);
    cw_msgpack_bool(&w, 0);
    CHECK_HEX(out, w.len, "cb3ff8000000000000c0c3c2");
    /* str: fixstr up to 31, str8 to 255, str16 beyond; bin: bin8 from 0 */
    static uint8_t big[70000];
    static uint8_t dst[70100];
    memset(big, 'a', sizeof big);
    static const struct {
        size_t n;
        const char *head;
    } strs[] = {{0, "a0"}, {31, "bf"}, {32, "d920"}, {255, "d9ff"}, {256, "da0100"},
                {65535, "daffff"}, {65536, "db00010000"}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        cw_msgpack_w_init(&w, dst, sizeof dst);
        cw_msgpack_str(&w, big, strs[i].n);
        uint8_t h[8];
        size_t hl = unhex(strs[i].head, h, sizeof h);
        CHECK_EQ(w.len, hl + strs[i].n);
        CHECK_MEM(dst, h, hl);
        CHECK_EQ(cw_msgpack_str_head(strs[i].n), hl);
    }
    cw_msgpack_w_init(&w, out, sizeof out);
    cw_msgpack_bin(&w, "\x01\x02", 2);
    cw_msgpack_bin(&w, "", 0);
    CHECK_HEX(out, w.len, "c4020102c400");
    cw_msgpack_w_init(&w, dst, sizeof dst);
    cw_msgpack_bin(&w, big, 256);
    CHECK_MEM(dst, "\xc5\x01\x00", 3);
    /* containers: fix up to 15, 16-bit, then 32-bit */
    cw_msgpack_w_init(&w, out, sizeof out);
    cw_msgpack_map(&w, 15);
    cw_msgpack_map(&w, 16);
    cw_msgpack_array(&w, 0);
    cw_msgpack_array(&w, 65535);
    cw_msgpack_array(&w, 65536);
    CHECK_HEX(out, w.len, "8fde001090dcffffdd00010000");
    /* overflow sticks and nothing is written past cap */
    cw_msgpack_w_init(&w, out, 3);
    cw_msgpack_cstr(&w, "abc");
    CHECK_EQ(w.err, CW_ETOOBIG);
    cw_msgpack_nil(&w);
    CHECK_EQ(w.err, CW_ETOOBIG);
    CHECK_EQ(w.len, 0);
}

static void test_reader(void)
{
    uint8_t in[256];
    size_t n = unhex("cd0100d1ff7fca3fc00000cb3ff8000000000000c0c3c4020102d90161"
                     "dc0002de0001c70301616263d6ff00000001e0",
                     in, sizeof in);
    size_t pos = 0;
    cw_msgpack_obj o;
    CHECK_EQ(cw_msgpack_read(in, n, &pos, &o), 0);
    CHECK(o.type == CW_MSGPACK_UINT && o.u == 256);
    CHECK_EQ(cw_msgpack_read(in, n, &pos, &o), 0);
    CHECK(o.type == CW_MSGPACK_INT && o.i == -129);
    CHECK_EQ(cw_msgpack_read(in, n, &pos, &o), 0);
    CHECK(o.type == CW_MSGPACK_FLOAT && o.f == 1.5);
    CHECK_EQ(cw_msgpack_read(in, n, &pos, &o), 0);
    CHECK(o.type == CW_MSGPACK_FLOAT && o.f == 1.5);
    CHECK_EQ(cw_msgpack_read(in, n, &pos, &o), 0);
    CHECK(o.type == CW_MSGPACK_NIL);
    CHECK_EQ(cw_msgpack_read(in, n, &pos, &o), 0);
    CHECK(o.type == CW_MSGPACK_BOOL && o.b == 1);
    CHECK_EQ(cw_msgpack_read(in, n, &pos, &o), 0);
    CHECK(o.type == CW_MSGPACK_BIN && o.n == 2 && o.ptr[1] == 2);
    CHECK_EQ(cw_msgpack_read(in, n, &pos, &o), 0);
    CHECK(o.type == CW_MSGPACK_STR && o.n == 1 && o.ptr[0] == 'a');
    CHECK_EQ(cw_msgpack_read(in, n, &pos, &o), 0);
    CHECK(o.type == CW_MSGPACK_ARRAY && o.n == 2);
    CHECK_EQ(cw_msgpack_read(in, n, &pos, &o), 0);
    CHECK(o.type == CW_MSGPACK_MAP && o.n == 1);
    CHECK_EQ(cw_msgpack_read(in, n, &pos, &o), 0);
    CHECK(o.type == CW_MSGPACK_EXT && o.n == 3 && o.ext == 1);
    CHECK_EQ(cw_msgpack_read(in, n, &pos, &o), 0);
    CHECK(o.type == CW_MSGPACK_EXT && o.n == 4 && o.ext == -1); /* a timestamp */
    CHECK_EQ(cw_msgpack_read(in, n, &pos, &o), 0);
    CHECK(o.type == CW_MSGPACK_INT && o.i == -32);
    CHECK_EQ(pos, n);
    CHECK_EQ(cw_msgpack_read(in, n, &pos, &o), CW_EINVAL); /* at the end */
    /* truncated anywhere: refused, never read past the end */
    for (size_t cut = 1; cut < 4; cut++) {
        pos = 0;
        CHECK_EQ(cw_msgpack_read((const uint8_t *)"\xcd\x01\x00", cut - 1 ? cut - 1 : 0, &pos, &o),
                 CW_EINVAL);
    }
    pos = 0;
    CHECK_EQ(cw_msgpack_read((const uint8_t *)"\xd9\x05" "abc", 5, &pos, &o), CW_EINVAL);
    pos = 0;
    CHECK_EQ(cw_msgpack_read((const uint8_t *)"\xdb\xff\xff\xff\xff", 5, &pos, &o), CW_EINVAL);
    pos = 0;
    CHECK_EQ(cw_msgpack_read((const uint8_t *)"\xc1", 1, &pos, &o), CW_EINVAL); /* never used */
}

/* JSON -> msgpack -> JSON, through the two directions the layer uses. */
static void roundtrip(const char *json, const char *want)
{
    static uint8_t mp[65536];
    static char out[65536];
    cw_layer_msg_msg m;
    long n = cw_layer_msg_encode_event(mp, sizeof mp, "x.y", json, strlen(json));
    CHECK(n < 0 || (size_t)n <= cw_layer_msg_event_bound(strlen(json)));
    CHECK(n > 0);
    if (n <= 0)
        return;
    CHECK_EQ(cw_layer_msg_decode(mp, (size_t)n, out, sizeof out, &m), 0);
    CHECK(strcmp(m.type, "x.y") == 0);
    if (m.len != strlen(want) || memcmp(m.data, want, m.len) != 0)
        fprintf(stderr, "  got  %.*s\n  want %s\n", (int)m.len, (const char *)m.data, want);
    CHECK(m.len == strlen(want) && memcmp(m.data, want, m.len) == 0);
}

static void test_event_json(void)
{
    roundtrip("{}", "{}");
    roundtrip("  {\"a\" : 1 , \"b\":[true,false,null]}  ", "{\"a\":1,\"b\":[true,false,null]}");
    roundtrip("{\"n\":[0,-1,127,128,-33,65536,9223372036854775807,-9223372036854775808,"
              "18446744073709551615]}",
              "{\"n\":[0,-1,127,128,-33,65536,9223372036854775807,-9223372036854775808,"
              "18446744073709551615]}");
    /* floats stay floats, in repr()'s shortest form */
    roundtrip("{\"f\":[1.5,0.1,1e3,-2.0,1E-7,3.141592653589793]}",
              "{\"f\":[1.5,0.1,1000.0,-2.0,1e-07,3.141592653589793]}");
    /* strings: escapes in, UTF-8 through, control characters escaped out */
    roundtrip("{\"s\":\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\\u0001 \xc3\xa9\"}",
              "{\"s\":\"a\\\"b\\\\c/d\\n\xc3\xa9\xf0\x9f\x98\x80\\u0001 \xc3\xa9\"}");
    /* nesting, empty containers, keys in order and duplicates kept */
    roundtrip("{\"o\":{\"p\":{\"q\":[[],{}]}},\"k\":1,\"k\":2}",
              "{\"o\":{\"p\":{\"q\":[[],{}]}},\"k\":1,\"k\":2}");
    /* the body's own "type" yields to the event's type */
    roundtrip("{\"type\":\"other\",\"a\":1}", "{\"a\":1}");
    roundtrip("{\"type\":{\"deep\":[1,2]}}", "{}");
    /* large containers and strings take the 16/32-bit forms and come back */
    static char big[40000], want[40000];
    int o = sprintf(big, "{\"arr\":[");
    for (int i = 0; i < 1000; i++)
        o += sprintf(big + o, "%s%d", i ? "," : "", i);
    o += sprintf(big + o, "],\"s\":\"");
    memset(big + o, 'z', 300);
    o += 300;
    sprintf(big + o, "\"}");
    memcpy(want, big, sizeof want);
    roundtrip(big, want);
    /* an empty body is an event with no other keys */
    uint8_t mp[64];
    CHECK_HEX(mp, cw_layer_msg_encode_event(mp, sizeof mp, "ping", NULL, 0), "81a474797065a470696e67");
    CHECK_HEX(mp, cw_layer_msg_encode_event(mp, sizeof mp, "ping", " \n", 2), "81a474797065a470696e67");
}

static void test_event_refusals(void)
{
    uint8_t mp[256];
    const char *bad[] = {"[1,2]", "\"s\"", "42", "{", "{\"a\":}", "{\"a\":1}x", "{\"a\":01}",
                         "{\"a\":\"\xff\"}", "{\"n\":18446744073709551616}",
                         "{\"n\":-9223372036854775809}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(cw_layer_msg_encode_event(mp, sizeof mp, "t", bad[i], strlen(bad[i])), CW_EINVAL);
    /* types no Channels handler can have */
    CHECK_EQ(cw_layer_msg_encode_event(mp, sizeof mp, "_private", "{}", 2), CW_EINVAL);
    CHECK_EQ(cw_layer_msg_encode_event(mp, sizeof mp, ".x", "{}", 2), CW_EINVAL);
    CHECK_EQ(cw_layer_msg_encode_event(mp, sizeof mp, "", "{}", 2), CW_EINVAL);
    /* too small a buffer, at every size: an error, never an overrun */
    const char *json = "{\"message\":\"hello\",\"list\":[1,2,{\"a\":1.5}]}";
    long full = cw_layer_msg_encode_event(mp, sizeof mp, "chat_message", json, strlen(json));
    CHECK(full > 0);
    for (long cap = 0; cap < full; cap++) {
        uint8_t small[256];
        memset(small, 0xee, sizeof small);
        CHECK_EQ(cw_layer_msg_encode_event(small, (size_t)cap, "chat_message", json, strlen(json)),
                 CW_ETOOBIG);
        CHECK(small[cap] == 0xee);
    }
    /* deep, but within CW_JSON_MAX_DEPTH, and one level too deep */
    char deep[128];
    int k = 0;
    deep[k++] = '{';
    deep[k++] = '"';
    deep[k++] = 'a';
    deep[k++] = '"';
    deep[k++] = ':';
    for (int i = 0; i < CW_JSON_MAX_DEPTH - 1; i++)
        deep[k++] = '[';
    for (int i = 0; i < CW_JSON_MAX_DEPTH - 1; i++)
        deep[k++] = ']';
    deep[k++] = '}';
    deep[k] = 0;
    CHECK(cw_layer_msg_encode_event(mp, sizeof mp, "t", deep, strlen(deep)) > 0);
    memmove(deep + 6, deep + 5, strlen(deep + 5) + 1); /* one [ ] pair more */
    deep[5] = '[';
    memmove(deep + k + 1, deep + k, 2);
    deep[k] = ']';
    CHECK_EQ(strlen(deep), (size_t)k + 2);
    CHECK_EQ(cw_layer_msg_encode_event(mp, sizeof mp, "t", deep, strlen(deep)), CW_EINVAL);
}

static void test_send_and_close(void)
{
    uint8_t mp[256];
    char out[256];
    cw_layer_msg_msg m;
    long n = cw_layer_msg_encode_send(mp, sizeof mp, 0, "hi", 2);
    CHECK_HEX(mp, n, "82a474797065ae776562736f636b65742e73656e64a474657874a26869");
    CHECK_EQ(cw_layer_msg_decode(mp, (size_t)n, out, sizeof out, &m), 0);
    CHECK(m.kind == CW_LAYER_MSG_TEXT && m.len == 2 && memcmp(m.data, "hi", 2) == 0);
    n = cw_layer_msg_encode_send(mp, sizeof mp, 1, "\x00\xff", 2);
    CHECK_HEX(mp, n, "82a474797065ae776562736f636b65742e73656e64a56279746573c40200ff");
    CHECK_EQ(cw_layer_msg_decode(mp, (size_t)n, out, sizeof out, &m), 0);
    CHECK(m.kind == CW_LAYER_MSG_BINARY && m.len == 2 && m.data[1] == 0xff);
    CHECK_EQ(cw_layer_msg_encode_send(mp, sizeof mp, 0, "\xff", 1), CW_EINVAL); /* text must be UTF-8 */
    n = cw_layer_msg_encode_close(mp, sizeof mp, 4000, "bye");
    CHECK_HEX(mp, n, "83a474797065af776562736f636b65742e636c6f7365a4636f6465cd0fa0a6726561736f6ea3627965");
    CHECK_EQ(cw_layer_msg_decode(mp, (size_t)n, out, sizeof out, &m), 0);
    CHECK(m.kind == CW_LAYER_MSG_CLOSE && m.code == 4000 && strcmp(m.reason, "bye") == 0);
    n = cw_layer_msg_encode_close(mp, sizeof mp, 1000, NULL);
    CHECK_HEX(mp, n, "82a474797065af776562736f636b65742e636c6f7365a4636f6465cd03e8");
    /* what Django sends: self.close() without a code, and underscores */
    uint8_t in[128];
    size_t l = unhex("81a474797065af776562736f636b65742e636c6f7365", in, sizeof in);
    CHECK_EQ(cw_layer_msg_decode(in, l, out, sizeof out, &m), 0);
    CHECK(m.kind == CW_LAYER_MSG_CLOSE && m.code == 1000 && m.reason[0] == 0);
    l = unhex("82a474797065af776562736f636b65745f636c6f7365a4636f6465c0", in, sizeof in);
    CHECK_EQ(cw_layer_msg_decode(in, l, out, sizeof out, &m), 0);
    CHECK(m.kind == CW_LAYER_MSG_CLOSE && m.code == 1000);
    /* websocket_send with text None and bytes (ASGI allows the other key as None) */
    l = unhex("83a474797065ae776562736f636b65745f73656e64a474657874c0a56279746573c40161", in,
              sizeof in);
    CHECK_EQ(cw_layer_msg_decode(in, l, out, sizeof out, &m), 0);
    CHECK(m.kind == CW_LAYER_MSG_BINARY && m.len == 1);
    CHECK(cw_layer_msg_type_eq("websocket_send", "websocket.send"));
    CHECK(!cw_layer_msg_type_eq("websocket.sendx", "websocket.send"));
}

/* Messages the layer must drop (counted) instead of delivering. */
static void test_decode_refusals(void)
{
    static const char *const bad[] = {
        "",                                         /* nothing */
        "a474797065",                               /* not a map */
        "81a474797065",                             /* truncated */
        "80",                                       /* no type */
        "81a474797065c403616263",                   /* type as bin (Django's TypeError) */
        "81a47479706501",                           /* type as int */
        "81a474797065a0",                           /* empty type */
        "81a474797065a25f78",                       /* "_x": leading underscore */
        "81a474797065a32e6162",                     /* ".ab" */
        "81a474797065a3612062",                     /* "a b": no handler name */
        "81a474797065a1780a",                       /* trailing bytes */
        "82a474797065a178a161c70101ff",             /* ext value */
        "82a474797065a178a161a1ff",                 /* invalid UTF-8 value */
        "82a474797065a178c0a161",                   /* nil key */
        "82a474797065a178a2ffff01",                 /* invalid UTF-8 key */
        "82a474797065ae776562736f636b65742e73656e64a474657874c3",         /* text not str */
        "81a474797065ae776562736f636b65742e73656e64",                     /* neither text nor bytes */
        "83a474797065ae776562736f636b65742e73656e64a474657874a161a56279746573c40161", /* both */
        "82a474797065ae776562736f636b65742e73656e64a56279746573a161",     /* bytes as str */
        "82a474797065ae776562736f636b65742e73656e64a474657874a1ff",       /* text not UTF-8 */
        "82a474797065af776562736f636b65742e636c6f7365a4636f6465cd03ed",   /* code 1005 */
        "82a474797065af776562736f636b65742e636c6f7365a4636f6465cd1388",   /* code 5000 */
        "82a474797065af776562736f636b65742e636c6f7365a4636f6465a131",     /* code as str */
        "82a474797065af776562736f636b65742e636c6f7365a6726561736f6e01",   /* reason as int */
    };
    uint8_t in[256];
    char out[512];
    cw_layer_msg_msg m;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = unhex(bad[i], in, sizeof in);
        int rc = cw_layer_msg_decode(in, n, out, sizeof out, &m);
        if (rc != CW_EINVAL)
            fprintf(stderr, "  accepted %s\n", bad[i]);
        CHECK_EQ(rc, CW_EINVAL);
    }
    /* a reason longer than a close frame allows */
    uint8_t big[300];
    size_t n = unhex("82a474797065af776562736f636b65742e636c6f7365a6726561736f6ed97c", big, sizeof big);
    memset(big + n, 'r', 124);
    CHECK_EQ(cw_layer_msg_decode(big, n + 124, out, sizeof out, &m), CW_EINVAL);
    big[n - 1] = 123;
    CHECK_EQ(cw_layer_msg_decode(big, n + 123, out, sizeof out, &m), 0);
    /* nesting past CW_JSON_MAX_DEPTH, and a map that claims more than it has */
    uint8_t deep[128];
    size_t d = unhex("82a474797065a178a161", deep, sizeof deep);
    for (int i = 0; i < CW_JSON_MAX_DEPTH; i++)
        deep[d++] = 0x91;
    deep[d++] = 0xc0;
    CHECK_EQ(cw_layer_msg_decode(deep, d, out, sizeof out, &m), CW_EINVAL);
    d = unhex("82a474797065a178a161", deep, sizeof deep);
    for (int i = 0; i < CW_JSON_MAX_DEPTH - 1; i++)
        deep[d++] = 0x91;
    deep[d++] = 0xc0;
    CHECK_EQ(cw_layer_msg_decode(deep, d, out, sizeof out, &m), 0);
    d = unhex("82a474797065a178a161dfffffffff", deep, sizeof deep);
    CHECK_EQ(cw_layer_msg_decode(deep, d, out, sizeof out, &m), CW_EINVAL);
    /* an output buffer too small at every size: CW_ETOOBIG, no overrun */
    size_t l = unhex(V_DJANGO, in, sizeof in);
    for (size_t cap = 0; cap < 34; cap++) {
        char small[64];
        memset(small, 0x55, sizeof small);
        CHECK_EQ(cw_layer_msg_decode(in, l, small, cap, &m), CW_ETOOBIG);
        CHECK(small[cap] == 0x55);
    }
}

static void test_decode_values(void)
{
    /* every msgpack value Django may send, as JSON */
    uint8_t in[256];
    char out[512];
    cw_layer_msg_msg m;
    size_t n = unhex("88a474797065a178"
                     "a162c403010203"         /* b: bin -> base64 */
                     "a169d0df"               /* i: int8 -33 */
                     "a175cfffffffffffffffff" /* u: uint64 max */
                     "a166ca3fc00000"         /* f: float32 1.5 */
                     "a16ecb7ff8000000000000" /* n: NaN -> null */
                     "a16d8101a27a7a"         /* m: int key 1 */
                     "a174c2",                /* t: false */
                     in, sizeof in);
    CHECK_EQ(cw_layer_msg_decode(in, n, out, sizeof out, &m), 0);
    const char *want = "{\"b\":\"AQID\",\"i\":-33,\"u\":18446744073709551615,\"f\":1.5,"
                       "\"n\":null,\"m\":{\"1\":\"zz\"},\"t\":false}";
    if (m.len != strlen(want) || memcmp(m.data, want, m.len))
        fprintf(stderr, "  got %.*s\n", (int)m.len, (const char *)m.data);
    CHECK(m.len == strlen(want) && memcmp(m.data, want, m.len) == 0);
    /* the result is JSON the core's own reader accepts */
    CHECK(cw_json_valid((const char *)m.data, m.len));
    CHECK(cw_layer_msg_decode_bound(n) >= m.len);
}

int main(void)
{
    RUN(test_vectors_encode);
    RUN(test_vectors_decode);
    RUN(test_writer_boundaries);
    RUN(test_reader);
    RUN(test_event_json);
    RUN(test_event_refusals);
    RUN(test_send_and_close);
    RUN(test_decode_refusals);
    RUN(test_decode_values);
    return cw_unit_done();
}
