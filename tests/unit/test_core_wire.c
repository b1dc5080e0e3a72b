/* SPDX-License-Identifier: MIT */
/* test_core_wire.c: channels_redis.core's bytes (src/channels/core_wire.c)
 * against the wire spec's vectors (../shared/channels-redis-wire.md §1.4,
 * §4.2, §4.3): CRC-32 and the shard formula (consistent_hash) for ring
 * sizes 1..8 as Python computes them, non-local names, queue members built
 * byte-exact for send (str) and group send (array), Django's captured
 * members read back with their targets, and malformed members refused. */
#include "channels/core_wire.h"
#include "chanwire.h"
#include "proto/layer_msg.h"
#include "unit.h"

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

static const char *const V_PUBSUB =
    "82a474797065ac636861745f6d657373616765a76d657373616765a568656c6c6f";
static const char *const V_CORE_GROUP =
    "000102030405060708090a0b83a474797065ac636861745f6d657373616765a76d657373616765a568656c6c6f"
    "b05f5f617367695f6368616e6e656c5f5f91d92c73706563696669632e3031323334353637383961626364656630"
    "313233343536373839616263646566216331";
static const char *const V_CORE_SEND =
    "000102030405060708090a0b83a474797065ac636861745f6d657373616765a76d657373616765a568656c6c6f"
    "b05f5f617367695f6368616e6e656c5f5fd92c73706563696669632e303132333435363738396162636465663031"
    "3233343536373839616263646566216331";
/* core_django_group_send.member_hex, captured from Django */
static const char *const V_CORE_DJANGO =
    "838eb8c12324f941b3da374683a474797065ac636861745f6d657373616765a76d657373616765b466726f6d2d646a"
    "616e676f2d3633626236373138b05f5f617367695f6368616e6e656c5f5f91d93073706563696669632e6136336531"
    "3362343532356434376637383239663264643365386231313266632170726f626531";
static const char CHAN[] = "specific.0123456789abcdef0123456789abcdef!c1";

static void test_crc_and_shard(void)
{
    CHECK_EQ(cw_crc32("123456789", 9), 0xCBF43926u);
    CHECK_EQ(cw_crc32("", 0), 0);
    /* §1.4: crc32 & 0xFFF and the shards for ring sizes 1..4 */
    CHECK_EQ(cw_crc32("asgi__group__chat_x", 19) & 0xFFF, 1872);
    CHECK_EQ(cw_crc32("chat_x", 6) & 0xFFF, 2212);
    static const struct {
        const char *name;
        unsigned want[8]; /* ring 1..8, from Python's _consistent_hash */
    } v[] = {
        {"asgi__group__chat_x", {0, 0, 1, 1, 2, 2, 3, 3}},
        {"chat_x", {0, 1, 1, 2, 2, 3, 3, 4}},
        {"specific.0123456789abcdef0123456789abcdef!", {0, 0, 1, 1, 1, 2, 2, 2}},
        {"a", {0, 1, 2, 3, 4, 5, 6, 7}},
        {"device.commands", {0, 1, 2, 3, 4, 5, 5, 6}},
        {"", {0, 0, 0, 0, 0, 0, 0, 0}},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        for (unsigned ring = 1; ring <= 8; ring++)
            CHECK_EQ(cw_core_shard(v[i].name, strlen(v[i].name), ring), v[i].want[ring - 1]);
    CHECK_EQ(cw_core_shard("chat_x", 6, 0), 0);
}

static void test_nonlocal(void)
{
    CHECK_EQ(cw_core_nonlocal_len(CHAN), strlen(CHAN) - 2);
    CHECK_EQ(cw_core_nonlocal_len("device.commands"), 15);
    CHECK_EQ(cw_core_nonlocal_len("a!"), 2);
}

static void test_member_encode(void)
{
    uint8_t msg[128], out[512], want[512], rnd[CW_CORE_RANDOM];
    for (uint8_t i = 0; i < CW_CORE_RANDOM; i++)
        rnd[i] = i;
    size_t ml = unhex(V_PUBSUB, msg, sizeof msg);
    const char *t[1] = {CHAN};
    long n = cw_core_member(out, sizeof out, rnd, msg, ml, 1, t, 1);
    size_t wl = unhex(V_CORE_GROUP, want, sizeof want);
    CHECK_EQ(n, (long)wl);
    CHECK_MEM(out, want, wl);
    n = cw_core_member(out, sizeof out, rnd, msg, ml, 0, t, 1);
    wl = unhex(V_CORE_SEND, want, sizeof want);
    CHECK_EQ(n, (long)wl);
    CHECK_MEM(out, want, wl);
    /* too small, not a map, a send with two targets */
    CHECK_EQ(cw_core_member(out, 40, rnd, msg, ml, 1, t, 1), CW_ETOOBIG);
    CHECK_EQ(cw_core_member(out, sizeof out, rnd, (const uint8_t *)"\x91\xa1x", 3, 1, t, 1),
             CW_EINVAL);
    const char *two[2] = {CHAN, CHAN};
    CHECK_EQ(cw_core_member(out, sizeof out, rnd, msg, ml, 0, two, 2), CW_EINVAL);
    /* 15 keys (a fixmap) become 16 (a map16) */
    uint8_t big[256];
    size_t bl = 0;
    big[bl++] = 0x8f;
    for (int i = 0; i < 15; i++) {
        big[bl++] = 0xa1;
        big[bl++] = (uint8_t)('a' + i);
        big[bl++] = (uint8_t)i;
    }
    n = cw_core_member(out, sizeof out, rnd, big, bl, 1, two, 2);
    CHECK(n > 0);
    CHECK_EQ(out[12], 0xde);
    CHECK_EQ(out[13], 0);
    CHECK_EQ(out[14], 16);
}

struct targets {
    int n;
    char name[4][128];
};

static void collect(const char *name, size_t len, void *ctx)
{
    struct targets *t = ctx;
    if (t->n < 4 && len < 128) {
        memcpy(t->name[t->n], name, len);
        t->name[t->n][len] = 0;
    }
    t->n++;
}

static void test_member_decode(void)
{
    uint8_t in[512], out[512], want[128];
    size_t ol = 0;
    struct targets t = {0};
    size_t n = unhex(V_CORE_GROUP, in, sizeof in);
    CHECK_EQ(cw_core_unwrap(in, n, out, sizeof out, &ol, collect, &t), 0);
    CHECK_EQ(t.n, 1);
    CHECK(strcmp(t.name[0], CHAN) == 0);
    size_t wl = unhex(V_PUBSUB, want, sizeof want);
    CHECK_EQ(ol, wl);
    CHECK_MEM(out, want, wl);
    memset(&t, 0, sizeof t);
    n = unhex(V_CORE_SEND, in, sizeof in);
    CHECK_EQ(cw_core_unwrap(in, n, out, sizeof out, &ol, collect, &t), 0);
    CHECK_EQ(t.n, 1);
    CHECK(strcmp(t.name[0], CHAN) == 0);
    CHECK_EQ(ol, wl);
    /* Django's own member: the rest is a Channels message */
    memset(&t, 0, sizeof t);
    n = unhex(V_CORE_DJANGO, in, sizeof in);
    CHECK_EQ(cw_core_unwrap(in, n, out, sizeof out, &ol, collect, &t), 0);
    CHECK_EQ(t.n, 1);
    CHECK(strcmp(t.name[0], "specific.a63e13b4525d47f7829f2dd3e8b112fc!probe1") == 0);
    char json[256];
    cw_layer_msg_msg m;
    CHECK_EQ(cw_layer_msg_decode(out, ol, json, sizeof json, &m), 0);
    CHECK_EQ(m.kind, CW_LAYER_MSG_EVENT);
    CHECK(strcmp(m.type, "chat_message") == 0);
    /* no route key: no targets, the map unchanged */
    memset(&t, 0, sizeof t);
    memset(in, 7, 12);
    size_t pl = unhex(V_PUBSUB, in + 12, sizeof in - 12);
    CHECK_EQ(cw_core_unwrap(in, 12 + pl, out, sizeof out, &ol, collect, &t), 0);
    CHECK_EQ(t.n, 0);
    CHECK_EQ(ol, pl);
    CHECK_MEM(out, in + 12, pl);
    /* a two-target array, the route key first */
    static const uint8_t two[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x82, 0xb0, '_', '_', 'a',
                                  's', 'g', 'i', '_', 'c', 'h', 'a', 'n', 'n', 'e', 'l', '_', '_',
                                  0x92, 0xa1, 'x', 0xa1, 'y', 0xa4, 't', 'y', 'p', 'e', 0xa1, 'z'};
    memset(&t, 0, sizeof t);
    CHECK_EQ(cw_core_unwrap(two, sizeof two, out, sizeof out, &ol, collect, &t), 0);
    CHECK_EQ(t.n, 2);
    CHECK(strcmp(t.name[0], "x") == 0 && strcmp(t.name[1], "y") == 0);
    static const uint8_t want2[] = {0x81, 0xa4, 't', 'y', 'p', 'e', 0xa1, 'z'};
    CHECK_EQ(ol, sizeof want2);
    CHECK_MEM(out, want2, sizeof want2);
}

static void test_member_refusals(void)
{
    uint8_t in[512], out[512];
    size_t ol;
    struct targets t = {0};
    size_t n = unhex(V_CORE_GROUP, in, sizeof in);
    /* short, truncated, trailing bytes, too small an output */
    CHECK_EQ(cw_core_unwrap(in, 12, out, sizeof out, &ol, collect, &t), CW_EINVAL);
    for (size_t cut = 13; cut < n; cut += 7)
        CHECK_EQ(cw_core_unwrap(in, cut, out, sizeof out, &ol, collect, &t), CW_EINVAL);
    in[n] = 0xc0;
    CHECK_EQ(cw_core_unwrap(in, n + 1, out, sizeof out, &ol, collect, &t), CW_EINVAL);
    CHECK_EQ(cw_core_unwrap(in, n, out, 8, &ol, collect, &t), CW_ETOOBIG);
    /* not a map; a target that is not a str */
    static const uint8_t arr[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x91, 0x01};
    CHECK_EQ(cw_core_unwrap(arr, sizeof arr, out, sizeof out, &ol, collect, &t), CW_EINVAL);
    static const uint8_t badt[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81, 0xb0, '_', '_', 'a',
                                   's', 'g', 'i', '_', 'c', 'h', 'a', 'n', 'n', 'e', 'l', '_',
                                   '_', 0x91, 0x05};
    CHECK_EQ(cw_core_unwrap(badt, sizeof badt, out, sizeof out, &ol, collect, &t), CW_EINVAL);
    static const uint8_t badv[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81, 0xb0, '_', '_', 'a',
                                   's', 'g', 'i', '_', 'c', 'h', 'a', 'n', 'n', 'e', 'l', '_',
                                   '_', 0x05};
    CHECK_EQ(cw_core_unwrap(badv, sizeof badv, out, sizeof out, &ol, collect, &t), CW_EINVAL);
    /* a huge declared map in a few bytes */
    static const uint8_t huge[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xdf, 0xff, 0xff, 0xff,
                                   0xff, 0xdd, 0xff, 0xff, 0xff, 0xff};
    CHECK_EQ(cw_core_unwrap(huge, sizeof huge, out, sizeof out, &ol, collect, &t), CW_EINVAL);
    CHECK_EQ(t.n, 0); /* no target was reported for any refused member */
}

static void test_scores_and_expiry(void)
{
    char b[32];
    CHECK_EQ(cw_core_score_format(1795709392723121ll, b, sizeof b), 17);
    CHECK(strcmp(b, "1795709392.723121") == 0);
    CHECK_EQ(cw_core_score_format(5, b, sizeof b), 8);
    CHECK(strcmp(b, "0.000005") == 0);
    CHECK_EQ(cw_core_score_format(1, b, 4), 0); /* does not fit */
    /* Python's repr(time.time()) has 7 digits: the seventh is dropped */
    CHECK_EQ(cw_core_score_parse("1795709392.7231212", 18), 1795709392723121ll);
    CHECK_EQ(cw_core_score_parse("1795709392.5", 12), 1795709392500000ll);
    CHECK_EQ(cw_core_score_parse("1795709392", 10), 1795709392000000ll);
    CHECK_EQ(cw_core_score_parse("0", 1), 0);
    static const char *const bad[] = {"", ".5", "-1", "1e9", "12x", "inf", "nan",
                                      "999999999999", "1.2.3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(cw_core_score_parse(bad[i], strlen(bad[i])), -1);
    /* the round trip */
    int64_t t = 1795709392000001ll;
    size_t n = cw_core_score_format(t, b, sizeof b);
    CHECK_EQ(cw_core_score_parse(b, n), t);
    /* expiry: older than now - expiry is expired, the boundary is not */
    int64_t now = 1795709400000000ll;
    CHECK_EQ(cw_core_expired(now - 60000000, now, 60), 0);
    CHECK_EQ(cw_core_expired(now - 60000001, now, 60), 1);
    CHECK_EQ(cw_core_expired(now + 5000000, now, 60), 0); /* a writer ahead of us */
    CHECK_EQ(cw_core_expired(0, now, 86400), 1);
}

int main(void)
{
    RUN(test_crc_and_shard);
    RUN(test_nonlocal);
    RUN(test_member_encode);
    RUN(test_member_decode);
    RUN(test_member_refusals);
    RUN(test_scores_and_expiry);
    return cw_unit_done();
}
