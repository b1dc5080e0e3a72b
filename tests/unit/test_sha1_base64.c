/* SPDX-License-Identifier: MIT */
/* test_sha1_base64.c: SHA-1 against FIPS 180 / RFC 3174 vectors and at
 * every padding boundary, base64 against RFC 4648 both ways with strict
 * rejections, base64url, and the RFC 6455 Sec-WebSocket-Accept example. */
#include "base/base64.h"
#include "proto/handshake.h"
#include "base/sha1.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

static uint64_t rng_state = 0x243F6A8885A308D3ull;

static uint32_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static void to_hex(const uint8_t *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = 0;
}

static void sha1_hex(const void *data, size_t n, char out[41])
{
    cw_sha1 s;
    uint8_t d[20];
    cw_sha1_init(&s);
    cw_sha1_update(&s, data, n);
    cw_sha1_final(&s, d);
    to_hex(d, 20, out);
}

#define CHECK_STR(got, want)                                                     \
    do {                                                                         \
        const char *g_ = (got), *w_ = (want);                                    \
        if (strcmp(g_, w_) != 0)                                                 \
            fprintf(stderr, "  got \"%s\", want \"%s\"\n", g_, w_);             \
        CHECK(strcmp(g_, w_) == 0);                                              \
    } while (0)

/* ---- SHA-1 ---- */

static void test_sha1_fips_vectors(void)
{
    char h[41];
    sha1_hex("abc", 3, h);
    CHECK_STR(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
    sha1_hex("", 0, h);
    CHECK_STR(h, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha1_hex(m448, strlen(m448), h);
    CHECK_STR(h, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    sha1_hex(m896, strlen(m896), h);
    CHECK_STR(h, "a49b2446a02c645bf419f995b67091253a04a259");
    const char *fox = "The quick brown fox jumps over the lazy dog";
    sha1_hex(fox, strlen(fox), h);
    CHECK_STR(h, "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
}

static void test_sha1_million_a(void)
{
    /* FIPS 180 / RFC 3174 TEST3: one million 'a', fed in uneven pieces. */
    static uint8_t a[1000];
    memset(a, 'a', sizeof a);
    cw_sha1 s;
    uint8_t d[20];
    char h[41];
    cw_sha1_init(&s);
    size_t left = 1000000, k = 0;
    while (left > 0) {
        size_t n = 1 + (k++ * 7919) % 1000;
        if (n > left)
            n = left;
        cw_sha1_update(&s, a, n);
        left -= n;
    }
    cw_sha1_final(&s, d);
    to_hex(d, 20, h);
    CHECK_STR(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void test_sha1_rfc3174_test4(void)
{
    /* RFC 3174 TEST4: "01234567" x 8, repeated 10 times. */
    const char *t = "0123456701234567012345670123456701234567012345670123456701234567";
    cw_sha1 s;
    uint8_t d[20];
    char h[41];
    cw_sha1_init(&s);
    for (int i = 0; i < 10; i++)
        cw_sha1_update(&s, t, 64);
    cw_sha1_final(&s, d);
    to_hex(d, 20, h);
    CHECK_STR(h, "dea356a2cddd90c7a7ecedc5ebb563934f460452");
}

static void test_sha1_padding_boundaries(void)
{
    /* Lengths around the 55/56 and 64-byte block edges (values from an
     * independent implementation). */
    static const struct {
        size_t n;
        const char *hex;
    } v[] = {
        {55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"},
        {56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"},
        {63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"},
        {64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"},
        {65, "11655326c708d70319be2610e8a57d9a5b959d3b"},
        {119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56"},
        {120, "f34c1488385346a55709ba056ddd08280dd4c6d6"},
        {127, "89d95fa32ed44a7c610b7ee38517ddf57e0bb975"},
        {128, "ad5b3fdbcb526778c2839d2f151ea753995e26a0"},
    };
    uint8_t a[128];
    memset(a, 'a', sizeof a);
    char h[41];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        sha1_hex(a, v[i].n, h);
        CHECK_STR(h, v[i].hex);
    }
    /* all 256 byte values, 4 times: exercises high bytes in the schedule */
    static uint8_t all[1024];
    for (size_t i = 0; i < sizeof all; i++)
        all[i] = (uint8_t)i;
    sha1_hex(all, sizeof all, h);
    CHECK_STR(h, "5b00669c480d5cffbdfa8bdba99561160f2d1b77");
}

static void test_sha1_incremental_splits(void)
{
    /* Any split of the input into update calls gives the one-shot digest. */
    uint8_t data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 31 + 7);
    for (size_t n = 0; n <= sizeof data; n += 13) {
        uint8_t want[20], got[20];
        cw_sha1 s;
        cw_sha1_init(&s);
        cw_sha1_update(&s, data, n);
        cw_sha1_final(&s, want);
        for (size_t cut = 0; cut <= n; cut++) {
            cw_sha1_init(&s);
            cw_sha1_update(&s, data, cut);
            cw_sha1_update(&s, NULL, 0);
            cw_sha1_update(&s, data + cut, n - cut);
            cw_sha1_final(&s, got);
            CHECK_MEM(got, want, 20);
        }
        /* byte by byte */
        cw_sha1_init(&s);
        for (size_t i = 0; i < n; i++)
            cw_sha1_update(&s, data + i, 1);
        cw_sha1_final(&s, got);
        CHECK_MEM(got, want, 20);
    }
    /* a reused context starts over after init */
    cw_sha1 s;
    uint8_t d[20];
    char h[41];
    cw_sha1_init(&s);
    cw_sha1_update(&s, "garbage", 7);
    cw_sha1_final(&s, d);
    cw_sha1_init(&s);
    cw_sha1_update(&s, "abc", 3);
    cw_sha1_final(&s, d);
    to_hex(d, 20, h);
    CHECK_STR(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
}

/* ---- base64 ---- */

static const struct {
    const char *plain, *enc;
} rfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void test_base64_encode_rfc4648(void)
{
    char out[32];
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        size_t n = strlen(rfc4648[i].plain);
        memset(out, 'X', sizeof out);
        size_t got = cw_base64_encode(out, sizeof out, (const uint8_t *)rfc4648[i].plain, n);
        CHECK_EQ(got, strlen(rfc4648[i].enc));
        CHECK_STR(out, rfc4648[i].enc);
    }
    /* both characters 62 and 63, and all-zero / all-one bytes */
    cw_base64_encode(out, sizeof out, (const uint8_t *)"\xFB\xFF", 2);
    CHECK_STR(out, "+/8=");
    cw_base64_encode(out, sizeof out, (const uint8_t *)"\xFB\xFF\xBF", 3);
    CHECK_STR(out, "+/+/");
    cw_base64_encode(out, sizeof out, (const uint8_t *)"\0\0\0", 3);
    CHECK_STR(out, "AAAA");
    cw_base64_encode(out, sizeof out, (const uint8_t *)"\xFF\xFF\xFF", 3);
    CHECK_STR(out, "////");
    uint8_t seq[20];
    for (int i = 0; i < 20; i++)
        seq[i] = (uint8_t)i;
    cw_base64_encode(out, sizeof out, seq, 20);
    CHECK_STR(out, "AAECAwQFBgcICQoLDA0ODxAREhM=");
}

static void test_base64_encode_capacity(void)
{
    char out[16];
    /* "foobar" needs 8 chars and a NUL */
    CHECK_EQ(cw_base64_encode(out, 9, (const uint8_t *)"foobar", 6), 8);
    CHECK_STR(out, "Zm9vYmFy");
    memset(out, 'X', sizeof out);
    CHECK_EQ(cw_base64_encode(out, 8, (const uint8_t *)"foobar", 6), 0);
    CHECK_EQ(out[0], 'X'); /* nothing written when it does not fit */
    CHECK_EQ(cw_base64_encode(out, 0, (const uint8_t *)"", 0), 0);
    CHECK_EQ(cw_base64_encode(out, 1, (const uint8_t *)"", 0), 0);
    CHECK_EQ(out[0], 0);
    CHECK_EQ(cw_base64_encode(out, 4, (const uint8_t *)"f", 1), 0);
    CHECK_EQ(cw_base64_encode(out, 5, (const uint8_t *)"f", 1), 4);
}

static void test_base64_decode_rfc4648(void)
{
    uint8_t out[32];
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        const char *e = rfc4648[i].enc;
        size_t want = strlen(rfc4648[i].plain);
        long got = cw_base64_decode(out, sizeof out, e, strlen(e));
        CHECK_EQ(got, (long)want);
        if (got == (long)want)
            CHECK_MEM(out, rfc4648[i].plain, want);
    }
    CHECK_EQ(cw_base64_decode(out, sizeof out, "+/8=", 4), 2);
    CHECK_MEM(out, "\xFB\xFF", 2);
    CHECK_EQ(cw_base64_decode(out, sizeof out, "+/+/", 4), 3);
    CHECK_MEM(out, "\xFB\xFF\xBF", 3);
    /* the RFC 6455 sample key is 16 bytes */
    CHECK_EQ(cw_base64_decode(out, sizeof out, "dGhlIHNhbXBsZSBub25jZQ==", 24), 16);
    CHECK_MEM(out, "the sample nonce", 16);
}

static void test_base64_decode_capacity(void)
{
    uint8_t out[8];
    memset(out, 0xEE, sizeof out);
    CHECK_EQ(cw_base64_decode(out, 6, "Zm9vYmFy", 8), 6);
    CHECK_EQ(cw_base64_decode(out, 5, "Zm9vYmFy", 8), -1);
    CHECK_EQ(cw_base64_decode(out, 5, "Zm9vYmE=", 8), 5);
    CHECK_EQ(cw_base64_decode(out, 4, "Zm9vYmE=", 8), -1);
    CHECK_EQ(cw_base64_decode(out, 0, "", 0), 0);
    /* never writes past cap */
    memset(out, 0xEE, sizeof out);
    cw_base64_decode(out, 2, "Zm9v", 4);
    CHECK_EQ(out[2], 0xEE);
    CHECK_EQ(out[3], 0xEE);
}

static void test_base64_decode_strict(void)
{
    static const char *bad[] = {
        "Zg",       /* padding missing (length not a multiple of 4) */
        "Zg=",      /* padding short */
        "Zg===",    /* padding long */
        "Z===",     /* a single char of data cannot make a byte */
        "====",
        "A",
        "AB=C",     /* '=' before data */
        "Zg==Zg==", /* padding in the middle */
        "=Zm9",
        "Zm9v====",
        "Zh==",     /* non-canonical: leftover bits of 'h' are not zero */
        "Zm9=",     /* non-canonical: leftover bits of '9' are not zero */
        "Zm8/Zm9=",
        "Zm9v!A==", /* characters outside the alphabet */
        "Zm9 v...",
        "Zm9v\nZg=",
        "Zm\r\n",
        " Zm9v===",
        "Zm9-",     /* base64url characters in standard base64 */
        "Zm9_",
        "Zm9\x80",
        "Zm9\0",
    };
    uint8_t out[16];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = i == sizeof bad / sizeof bad[0] - 1 ? 4 : strlen(bad[i]);
        long got = cw_base64_decode(out, sizeof out, bad[i], n);
        if (got != -1)
            fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
        CHECK_EQ(got, -1);
    }
    /* the canonical neighbours of the non-canonical ones are fine */
    CHECK_EQ(cw_base64_decode(out, sizeof out, "Zg==", 4), 1);
    CHECK_EQ(cw_base64_decode(out, sizeof out, "Zm8=", 4), 2);
}

static void test_base64url(void)
{
    uint8_t out[32];
    /* no padding, the url alphabet */
    CHECK_EQ(cw_base64url_decode(out, sizeof out, "-_8", 3), 2);
    CHECK_MEM(out, "\xFB\xFF", 2);
    CHECK_EQ(cw_base64url_decode(out, sizeof out, "-_-_", 4), 3);
    CHECK_MEM(out, "\xFB\xFF\xBF", 3);
    /* padding is optional but must be right when present */
    CHECK_EQ(cw_base64url_decode(out, sizeof out, "-_8=", 4), 2);
    CHECK_EQ(cw_base64url_decode(out, sizeof out, "Zg", 2), 1);
    CHECK_EQ(cw_base64url_decode(out, sizeof out, "Zg==", 4), 1);
    CHECK_EQ(cw_base64url_decode(out, sizeof out, "Zg=", 3), -1);
    CHECK_EQ(cw_base64url_decode(out, sizeof out, "-_8==", 5), -1);
    CHECK_EQ(cw_base64url_decode(out, sizeof out, "", 0), 0);
    /* RFC 4648 vectors without padding */
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        char e[16];
        size_t n = strlen(rfc4648[i].enc);
        memcpy(e, rfc4648[i].enc, n);
        while (n && e[n - 1] == '=')
            n--;
        long got = cw_base64url_decode(out, sizeof out, e, n);
        CHECK_EQ(got, (long)strlen(rfc4648[i].plain));
        if (got >= 0)
            CHECK_MEM(out, rfc4648[i].plain, (size_t)got);
    }
    /* a JWT header segment */
    const char *jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
    long n = cw_base64url_decode(out, sizeof out, jwt, strlen(jwt));
    CHECK_EQ(n, 27);
    CHECK_MEM(out, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", 27);
    /* rejections */
    CHECK_EQ(cw_base64url_decode(out, sizeof out, "+/8", 3), -1); /* standard alphabet */
    CHECK_EQ(cw_base64url_decode(out, sizeof out, "A", 1), -1);   /* 6 bits only */
    CHECK_EQ(cw_base64url_decode(out, sizeof out, "Zh", 2), -1);  /* non-canonical */
    CHECK_EQ(cw_base64url_decode(out, sizeof out, "Zm9", 3), -1);
    CHECK_EQ(cw_base64url_decode(out, sizeof out, "Zm.v", 4), -1);
    CHECK_EQ(cw_base64url_decode(out, 1, "Zm8", 3), -1);          /* cap too small */
    CHECK_EQ(cw_base64url_decode(out, 2, "Zm8", 3), 2);
}

static void test_base64_round_trip(void)
{
    /* every length 0..80 of pseudo-random bytes, both ways */
    for (size_t n = 0; n <= 80; n++) {
        uint8_t in[80], back[80];
        char enc[120];
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)rng();
        size_t e = cw_base64_encode(enc, sizeof enc, in, n);
        CHECK_EQ(e, (n + 2) / 3 * 4);
        CHECK_EQ(strlen(enc), e);
        CHECK_EQ(cw_base64_decode(back, sizeof back, enc, e), (long)n);
        CHECK_MEM(back, in, n);
        /* the same text in the url alphabet, without padding */
        size_t u = e;
        while (u && enc[u - 1] == '=')
            u--;
        for (size_t i = 0; i < u; i++)
            enc[i] = enc[i] == '+' ? '-' : enc[i] == '/' ? '_' : enc[i];
        CHECK_EQ(cw_base64url_decode(back, sizeof back, enc, u), (long)n);
        CHECK_MEM(back, in, n);
    }
}

/* ---- RFC 6455 accept key ---- */

static void test_accept_key(void)
{
    char out[29];
    memset(out, 'X', sizeof out);
    cw_handshake_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out);
    CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    cw_handshake_accept_key("x3JJHMbDL1EzLkh9GBhXDw==", 24, out);
    CHECK_STR(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

int main(void)
{
    RUN(test_sha1_fips_vectors);
    RUN(test_sha1_million_a);
    RUN(test_sha1_rfc3174_test4);
    RUN(test_sha1_padding_boundaries);
    RUN(test_sha1_incremental_splits);
    RUN(test_base64_encode_rfc4648);
    RUN(test_base64_encode_capacity);
    RUN(test_base64_decode_rfc4648);
    RUN(test_base64_decode_capacity);
    RUN(test_base64_decode_strict);
    RUN(test_base64url);
    RUN(test_base64_round_trip);
    RUN(test_accept_key);
    return cw_unit_done();
}
