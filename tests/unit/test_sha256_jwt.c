/* SPDX-License-Identifier: MIT */
/* test_sha256_jwt.c: SHA-256 on the FIPS 180-4 example messages and every
 * padding boundary, HMAC-SHA256 on RFC 4231 test cases 1-7, and HS256 JWT
 * verification: the RFC 7515 A.1 token, tokens as simplejwt/PyJWT mint
 * them, and every way a token is refused (alg, crit, signature, time,
 * shape, claims, required exp, aud/iss, an unset clock, non-canonical
 * base64url). */
#include "proto/jwt.h"
#include "base/utf8.h"
#include "base/sha256.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

static void unhex(const char *hex, uint8_t *out)
{
    for (size_t i = 0; hex[2 * i]; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static void sha(const void *m, size_t n, uint8_t d[32])
{
    cw_sha256 s;
    cw_sha256_init(&s);
    cw_sha256_update(&s, m, n);
    cw_sha256_final(&s, d);
}

static void check_digest(const uint8_t *got, const char *hex, size_t n, int line)
{
    uint8_t want[64];
    unhex(hex, want);
    if (memcmp(got, want, n) != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "digest == %s", hex);
        cw_unit_check(0, msg, __FILE__, line);
    }
}

static void test_sha256_fips(void)
{
    uint8_t d[32];
    sha("abc", 3, d);
    check_digest(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 32,
                 __LINE__);
    sha("", 0, d);
    check_digest(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 32,
                 __LINE__);
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha(m448, strlen(m448), d);
    check_digest(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", 32,
                 __LINE__);
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    sha(m896, strlen(m896), d);
    check_digest(d, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1", 32,
                 __LINE__);
}

static void test_sha256_million_a(void)
{
    /* one million 'a', fed in uneven chunks */
    static char a[1000];
    memset(a, 'a', sizeof a);
    cw_sha256 s;
    cw_sha256_init(&s);
    size_t left = 1000000, k = 1;
    while (left) {
        size_t n = k % 997 + 1;
        if (n > left)
            n = left;
        cw_sha256_update(&s, a, n);
        left -= n;
        k = k * 7 + 3;
    }
    uint8_t d[32];
    cw_sha256_final(&s, d);
    check_digest(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", 32,
                 __LINE__);
}

/* Lengths around the padding boundaries (55/56 bytes: the length field no
 * longer fits in the block; 64: a whole block). Message: bytes 0, 1, 2 ... */
static void test_sha256_padding_edges(void)
{
    static const struct {
        size_t n;
        const char *hex;
    } v[] = {
        {55, "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59"},
        {56, "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562"},
        {63, "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488"},
        {64, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108"},
        {65, "4bfd2c8b6f1eec7a2afeb48b934ee4b2694182027e6d0fc075074f2fabb31781"},
        {119, "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6"},
        {120, "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c"},
        {128, "471fb943aa23c511f6f72f8d1652d9c880cfa392ad80503120547703e56a2be5"},
    };
    uint8_t m[128], d[32], e[32];
    for (unsigned i = 0; i < sizeof m; i++)
        m[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        sha(m, v[i].n, d);
        check_digest(d, v[i].hex, 32, __LINE__);
        /* byte by byte gives the same digest */
        cw_sha256 s;
        cw_sha256_init(&s);
        for (size_t j = 0; j < v[i].n; j++)
            cw_sha256_update(&s, m + j, 1);
        cw_sha256_final(&s, e);
        CHECK_MEM(e, d, 32);
    }
}

static void test_hmac_rfc4231(void)
{
    uint8_t k[131], m[152], mac[32];
    /* 1 */
    memset(k, 0x0b, 20);
    cw_sha256_hmac(k, 20, "Hi There", 8, mac);
    check_digest(mac, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", 32,
                 __LINE__);
    /* 2 */
    const char *m2 = "what do ya want for nothing?";
    cw_sha256_hmac((const uint8_t *)"Jefe", 4, m2, strlen(m2), mac);
    check_digest(mac, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 32,
                 __LINE__);
    /* 3 */
    memset(k, 0xaa, 20);
    memset(m, 0xdd, 50);
    cw_sha256_hmac(k, 20, m, 50, mac);
    check_digest(mac, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe", 32,
                 __LINE__);
    /* 4 */
    for (unsigned i = 0; i < 25; i++)
        k[i] = (uint8_t)(i + 1);
    memset(m, 0xcd, 50);
    cw_sha256_hmac(k, 25, m, 50, mac);
    check_digest(mac, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b", 32,
                 __LINE__);
    /* 5: the RFC lists the first 128 bits */
    memset(k, 0x0c, 20);
    cw_sha256_hmac(k, 20, "Test With Truncation", 20, mac);
    check_digest(mac, "a3b6167473100ee06e0c796c2955552b", 16, __LINE__);
    /* 6: a key longer than the block is hashed first */
    memset(k, 0xaa, 131);
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    cw_sha256_hmac(k, 131, m6, strlen(m6), mac);
    check_digest(mac, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", 32,
                 __LINE__);
    /* 7 */
    const char *m7 = "This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the "
                     "HMAC algorithm.";
    cw_sha256_hmac(k, 131, m7, strlen(m7), mac);
    check_digest(mac, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", 32,
                 __LINE__);
}

static void test_hmac_key_edges(void)
{
    uint8_t k[65], mac[32];
    memset(k, 'k', sizeof k);
    cw_sha256_hmac(k, 64, "x", 1, mac); /* exactly one block: used as is */
    check_digest(mac, "f91c4c403625fb06910ef93999265bbd2d62baeaec6ff36455498cc124fe3e66", 32,
                 __LINE__);
    cw_sha256_hmac(k, 65, "x", 1, mac); /* one more byte: hashed */
    check_digest(mac, "75092ca3ee2b307470c227697b42b3e65376aa3bae98fb5a1f7b7536daa9588a", 32,
                 __LINE__);
    cw_sha256_hmac(NULL, 0, "", 0, mac);
    check_digest(mac, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad", 32,
                 __LINE__);
}

/* ---- JWT ---- */

static const char SECRET[] = "django-insecure-test-secret";

static size_t b64url(char *out, const uint8_t *in, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = a[(v >> 18) & 63];
        out[o++] = a[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = a[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = a[v & 63];
    }
    out[o] = 0;
    return o;
}

/* header.payload (both given as JSON) signed with secret: what a token
 * issuer does. The signing input is exactly what goes on the wire. */
static char tok[4096];

static const char *mint_raw(const char *h64, const char *p64, const char *secret)
{
    size_t o = (size_t)snprintf(tok, sizeof tok, "%s.%s", h64, p64);
    uint8_t mac[32];
    cw_sha256_hmac((const uint8_t *)secret, strlen(secret), tok, o, mac);
    tok[o++] = '.';
    b64url(tok + o, mac, 32);
    return tok;
}

static const char *mint(const char *header, const char *payload, const char *secret)
{
    static char h64[2048], p64[3072];
    b64url(h64, (const uint8_t *)header, strlen(header));
    b64url(p64, (const uint8_t *)payload, strlen(payload));
    return mint_raw(h64, p64, secret);
}

static const char *HS256 = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

/* Most cases below are about one thing and use small times and tokens
 * without exp: this config allows both. The defaults (zero: exp required,
 * the clock floor) have their own tests, with strict(). */
static cw_jwt_config config(void)
{
    cw_jwt_config c = {(const uint8_t *)SECRET, strlen(SECRET), "user_id", "username", 0,
                       NULL, NULL, 1, 1};
    return c;
}

static cw_jwt_config strict(void)
{
    cw_jwt_config c = config();
    c.allow_no_exp = 0;
    c.trust_clock = 0;
    return c;
}

static int verify_at(const char *t, int64_t now, cw_jwt_claims *cl)
{
    cw_jwt_config c = config();
    return cw_jwt_verify(&c, t, strlen(t), now, cl);
}

static void test_jwt_simplejwt_token(void)
{
    /* As djangorestframework-simplejwt mints an access token. */
    const char *t = mint(HS256,
                         "{\"token_type\":\"access\",\"exp\":2000,\"iat\":1000,"
                         "\"jti\":\"4f1c\",\"user_id\":42,\"username\":\"alice\"}",
                         SECRET);
    cw_jwt_claims cl;
    memset(&cl, 0x55, sizeof cl);
    CHECK_EQ(verify_at(t, 1500, &cl), CW_JWT_OK);
    CHECK(strcmp(cl.id, "42") == 0);
    CHECK(strcmp(cl.name, "alice") == 0);
    CHECK_EQ(cl.exp, 2000);
}

/* Independent of this file's minting: a token made with Python's hmac. */
static void test_jwt_fixed_token(void)
{
    /* {"alg":"HS256","typ":"JWT"}.{"user_id":"7","username":"bob","exp":1900000000}
     * with the secret "s3cret" (hmac.new(b"s3cret", si, "sha256")). */
    const char *t = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                    "eyJ1c2VyX2lkIjoiNyIsInVzZXJuYW1lIjoiYm9iIiwiZXhwIjoxOTAwMDAwMDAwfQ."
                    "vdMltAeBbPsFYg69duMyXrF4Xn7KwG_0wbQWTHE8Hzc";
    cw_jwt_config c = {(const uint8_t *)"s3cret", 6, "user_id", "username", 0, NULL, NULL, 0, 0};
    cw_jwt_claims cl;
    CHECK_EQ(cw_jwt_verify(&c, t, strlen(t), 1800000000, &cl), CW_JWT_OK);
    CHECK(strcmp(cl.id, "7") == 0);
    CHECK(strcmp(cl.name, "bob") == 0);
    CHECK_EQ(cl.exp, 1900000000);
    CHECK_EQ(cw_jwt_verify(&c, t, strlen(t), 1900000000, &cl), CW_JWT_EEXPIRED);
    c.secret_len = 5; /* "s3cre" */
    CHECK_EQ(cw_jwt_verify(&c, t, strlen(t), 1800000000, &cl), CW_JWT_ESIG);
}

static void test_jwt_rfc7515_a1(void)
{
    const char *t = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
                    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
                    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
                    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    /* the JWK's "k", base64url-decoded */
    static const uint8_t key[64] = {
        0x03, 0x23, 0x35, 0x4b, 0x2b, 0x0f, 0xa5, 0xbc, 0x83, 0x7e, 0x06, 0x65, 0x77,
        0x7b, 0xa6, 0x8f, 0x5a, 0xb3, 0x28, 0xe6, 0xf0, 0x54, 0xc9, 0x28, 0xa9, 0x0f,
        0x84, 0xb2, 0xd2, 0x50, 0x2e, 0xbf, 0xd3, 0xfb, 0x5a, 0x92, 0xd2, 0x06, 0x47,
        0xef, 0x96, 0x8a, 0xb4, 0xc3, 0x77, 0x62, 0x3d, 0x22, 0x3d, 0x2e, 0x21, 0x72,
        0x05, 0x2e, 0x4f, 0x08, 0xc0, 0xcd, 0x9a, 0xf5, 0x67, 0xd0, 0x80, 0xa3};
    cw_jwt_config c = {key, sizeof key, "iss", NULL, 0, NULL, NULL, 0, 0};
    cw_jwt_claims cl;
    /* its exp is 1300819380 (March 2011), before the default clock floor */
    CHECK_EQ(cw_jwt_verify(&c, t, strlen(t), 1300819379, &cl), CW_JWT_ECLOCK);
    c.trust_clock = 1;
    CHECK_EQ(cw_jwt_verify(&c, t, strlen(t), 1300819379, &cl), CW_JWT_OK);
    CHECK(strcmp(cl.id, "joe") == 0);
    CHECK_EQ(cl.name[0], 0);
    CHECK_EQ(cl.exp, 1300819380);
    CHECK_EQ(cw_jwt_verify(&c, t, strlen(t), 1300819380, &cl), CW_JWT_EEXPIRED);
    /* with the default id claim, there is no user */
    c.id_claim = NULL;
    CHECK_EQ(cw_jwt_verify(&c, t, strlen(t), 1300819379, &cl), CW_JWT_ECLAIM);
    /* one bit of the key changed */
    uint8_t k2[64];
    memcpy(k2, key, sizeof k2);
    k2[63] ^= 1;
    c.secret = k2;
    c.id_claim = "iss";
    CHECK_EQ(cw_jwt_verify(&c, t, strlen(t), 1300819379, &cl), CW_JWT_ESIG);
}

static void test_jwt_time(void)
{
    const char *t = mint(HS256, "{\"user_id\":1,\"exp\":2000,\"nbf\":1000}", SECRET);
    cw_jwt_claims cl;
    CHECK_EQ(verify_at(t, 1000, &cl), CW_JWT_OK);
    CHECK_EQ(verify_at(t, 1999, &cl), CW_JWT_OK);
    CHECK_EQ(verify_at(t, 2000, &cl), CW_JWT_EEXPIRED); /* exp is the first bad second */
    CHECK_EQ(verify_at(t, 999999999, &cl), CW_JWT_EEXPIRED);
    CHECK_EQ(verify_at(t, 999, &cl), CW_JWT_ENOTYET);
    CHECK_EQ(verify_at(t, -5, &cl), CW_JWT_ENOTYET);
    /* leeway on both ends */
    cw_jwt_config c = config();
    c.leeway_s = 10;
    CHECK_EQ(cw_jwt_verify(&c, t, strlen(t), 2009, &cl), CW_JWT_OK);
    CHECK_EQ(cw_jwt_verify(&c, t, strlen(t), 2010, &cl), CW_JWT_EEXPIRED);
    CHECK_EQ(cw_jwt_verify(&c, t, strlen(t), 990, &cl), CW_JWT_OK);
    CHECK_EQ(cw_jwt_verify(&c, t, strlen(t), 989, &cl), CW_JWT_ENOTYET);
    /* fractional times (PyJWT accepts them) */
    t = mint(HS256, "{\"user_id\":1,\"exp\":1500.5,\"nbf\":1000.5}", SECRET);
    CHECK_EQ(verify_at(t, 1500, &cl), CW_JWT_OK);
    CHECK_EQ(verify_at(t, 1501, &cl), CW_JWT_EEXPIRED);
    CHECK_EQ(verify_at(t, 1000, &cl), CW_JWT_ENOTYET);
    CHECK_EQ(verify_at(t, 1001, &cl), CW_JWT_OK);
    /* times are whole seconds rounded up, read without floating point
     * (exponents, negative numbers) */
    t = mint(HS256, "{\"user_id\":1,\"exp\":1.5005e3,\"nbf\":-2.5}", SECRET);
    CHECK_EQ(verify_at(t, 1500, &cl), CW_JWT_OK);
    CHECK_EQ(cl.exp, 1501);
    CHECK_EQ(verify_at(t, 1501, &cl), CW_JWT_EEXPIRED);
    CHECK_EQ(verify_at(t, -3, &cl), CW_JWT_ENOTYET);
    CHECK_EQ(verify_at(t, -2, &cl), CW_JWT_OK);
    t = mint(HS256, "{\"user_id\":1,\"exp\":20000E-1}", SECRET);
    CHECK_EQ(verify_at(t, 1999, &cl), CW_JWT_OK);
    CHECK_EQ(cl.exp, 2000);
    CHECK_EQ(verify_at(t, 2000, &cl), CW_JWT_EEXPIRED);
    t = mint(HS256, "{\"user_id\":1,\"exp\":-1e999}", SECRET);
    CHECK_EQ(verify_at(t, 0, &cl), CW_JWT_EEXPIRED); /* saturates, never wraps */
    /* no exp at all, where allowed: valid forever, exp reported as 0 */
    t = mint(HS256, "{\"user_id\":1}", SECRET);
    CHECK_EQ(verify_at(t, 4000000000, &cl), CW_JWT_OK);
    CHECK_EQ(cl.exp, 0);
    /* an exp far beyond int64 is clamped, not undefined */
    t = mint(HS256, "{\"user_id\":1,\"exp\":1e30}", SECRET);
    CHECK_EQ(verify_at(t, 1000, &cl), CW_JWT_OK);
    CHECK(cl.exp == INT64_MAX);
    t = mint(HS256, "{\"user_id\":1,\"exp\":1e999}", SECRET);
    CHECK_EQ(verify_at(t, 1000, &cl), CW_JWT_OK);
    CHECK(cl.exp == INT64_MAX);
    /* time claims that are not numbers */
    t = mint(HS256, "{\"user_id\":1,\"exp\":\"2000\"}", SECRET);
    CHECK_EQ(verify_at(t, 1000, &cl), CW_JWT_ECLAIM);
    t = mint(HS256, "{\"user_id\":1,\"nbf\":null}", SECRET);
    CHECK_EQ(verify_at(t, 1000, &cl), CW_JWT_ECLAIM);
    t = mint(HS256, "{\"user_id\":1,\"exp\":true}", SECRET);
    CHECK_EQ(verify_at(t, 1000, &cl), CW_JWT_ECLAIM);
}

static void test_jwt_signature(void)
{
    const char *good = mint(HS256, "{\"user_id\":1}", SECRET);
    char t[512];
    snprintf(t, sizeof t, "%s", good);
    cw_jwt_claims cl;
    CHECK_EQ(verify_at(t, 0, &cl), CW_JWT_OK);
    /* another secret */
    mint(HS256, "{\"user_id\":1}", "other-secret");
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_ESIG);
    /* every character of the signature matters */
    size_t n = strlen(t);
    char *sig = strrchr(t, '.') + 1;
    for (char *p = sig; p < t + n - 1; p++) {
        char save = *p;
        *p = *p == 'A' ? 'B' : 'A';
        if (verify_at(t, 0, &cl) != CW_JWT_ESIG)
            CHECK_EQ(verify_at(t, 0, &cl), CW_JWT_ESIG);
        *p = save;
    }
    /* the last character carries 2 unused bits: non-canonical is refused */
    char last = t[n - 1];
    t[n - 1] = (char)(last ^ 1);
    CHECK_EQ(verify_at(t, 0, &cl), CW_JWT_ESIG);
    t[n - 1] = last;
    /* every bit of the MAC matters, the last byte's too */
    for (int bit = 0; bit < 8; bit++) {
        static char h64[64], p64[64];
        b64url(h64, (const uint8_t *)HS256, strlen(HS256));
        b64url(p64, (const uint8_t *)"{\"user_id\":1}", 13);
        char bad[300];
        size_t o = (size_t)snprintf(bad, sizeof bad, "%s.%s", h64, p64);
        uint8_t mac[32];
        cw_sha256_hmac((const uint8_t *)SECRET, strlen(SECRET), bad, o, mac);
        mac[31] ^= (uint8_t)(1u << bit);
        bad[o++] = '.';
        b64url(bad + o, mac, 32);
        if (verify_at(bad, 0, &cl) != CW_JWT_ESIG)
            CHECK_EQ(verify_at(bad, 0, &cl), CW_JWT_ESIG);
    }
    /* a payload changed under a valid signature */
    char *dot1 = strchr(t, '.');
    dot1[1] = dot1[1] == 'e' ? 'f' : 'e';
    CHECK_EQ(verify_at(t, 0, &cl), CW_JWT_ESIG);
    snprintf(t, sizeof t, "%s", good);
    /* short, long, empty signature */
    t[n - 1] = 0;
    CHECK_EQ(verify_at(t, 0, &cl), CW_JWT_ESIG);
    snprintf(t, sizeof t, "%sAAAA", good);
    CHECK_EQ(verify_at(t, 0, &cl), CW_JWT_ESIG);
    snprintf(t, sizeof t, "%s", good);
    sig = strrchr(t, '.') + 1;
    *sig = 0;
    CHECK_EQ(verify_at(t, 0, &cl), CW_JWT_ESIG);
    /* an empty secret is a secret like any other */
    mint(HS256, "{\"user_id\":1}", "");
    cw_jwt_config c = config();
    c.secret = (const uint8_t *)"";
    c.secret_len = 0;
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), 0, &cl), CW_JWT_OK);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_ESIG);
}

static void test_jwt_alg(void)
{
    cw_jwt_claims cl;
    const char *p = "{\"user_id\":1}";
    static const char *const headers[] = {
        "{\"alg\":\"none\",\"typ\":\"JWT\"}",
        "{\"alg\":\"None\"}",
        "{\"alg\":\"RS256\"}",
        "{\"alg\":\"HS512\"}",
        "{\"alg\":\"HS384\"}",
        "{\"alg\":\"hs256\"}",
        "{\"alg\":\"HS256 \"}",
        "{\"alg\":\"\"}",
        "{\"alg\":256}",
        "{\"alg\":null}",
        "{\"alg\":[\"HS256\"]}",
        "{\"typ\":\"JWT\"}",                               /* missing */
        "{}",
        "{\"alg\":\"HS256\",\"alg\":\"none\"}",            /* the last duplicate wins */
        "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",          /* extensions we cannot honour */
        "{\"alg\":\"HS256\",\"crit\":[]}",
        "[\"HS256\"]",
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        /* signed correctly with HS256: only the header is wrong */
        mint(headers[i], p, SECRET);
        if (verify_at(tok, 0, &cl) != CW_JWT_EALG)
            cw_unit_check(0, headers[i], __FILE__, __LINE__);
    }
    /* alg none with no signature at all */
    char h64[64], p64[64], t[200];
    b64url(h64, (const uint8_t *)"{\"alg\":\"none\"}", 14);
    b64url(p64, (const uint8_t *)p, strlen(p));
    snprintf(t, sizeof t, "%s.%s.", h64, p64);
    CHECK_EQ(verify_at(t, 0, &cl), CW_JWT_EALG);
    /* a header that needs the duplicate rule the other way */
    mint("{\"alg\":\"none\",\"alg\":\"HS256\"}", p, SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_OK);
    /* a harmless extra header field */
    mint("{\"alg\":\"HS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}", p, SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_OK);
}

static void test_jwt_shape(void)
{
    cw_jwt_claims cl;
    const char *good = mint(HS256, "{\"user_id\":1}", SECRET);
    char t[600];
    /* parts */
    CHECK_EQ(verify_at("", 0, &cl), CW_JWT_EMALFORMED);
    CHECK_EQ(verify_at("abc", 0, &cl), CW_JWT_EMALFORMED);
    CHECK_EQ(verify_at("abc.def", 0, &cl), CW_JWT_EMALFORMED);
    CHECK_EQ(verify_at("..", 0, &cl), CW_JWT_EMALFORMED);
    snprintf(t, sizeof t, "%s.xyz", good);
    CHECK_EQ(verify_at(t, 0, &cl), CW_JWT_EMALFORMED); /* 4 parts */
    snprintf(t, sizeof t, "%s.", good);
    CHECK_EQ(verify_at(t, 0, &cl), CW_JWT_EMALFORMED);
    const char *dot2 = strrchr(good, '.');
    snprintf(t, sizeof t, "%.*s", (int)(dot2 - good), good);
    CHECK_EQ(verify_at(t, 0, &cl), CW_JWT_EMALFORMED); /* 2 parts */
    /* the length passed bounds the token */
    cw_jwt_config c = config();
    CHECK_EQ(cw_jwt_verify(&c, good, strlen(good) - 1, 0, &cl), CW_JWT_ESIG);
    CHECK_EQ(cw_jwt_verify(&c, good, 0, 0, &cl), CW_JWT_EMALFORMED);

    /* header: bad base64url, not JSON, cut JSON */
    mint_raw("eyJhbGciOiJIUzI1NiJ9!", "eyJ1c2VyX2lkIjoxfQ", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
    mint_raw("eyJhbGciOiJIUzI1NiJ9+", "eyJ1c2VyX2lkIjoxfQ", SECRET); /* '+' is base64, not url */
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
    mint_raw("eyJhbGciOiJIUzI1NiJ", "eyJ1c2VyX2lkIjoxfQ", SECRET);   /* 4n+3 chars, bits left */
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
    mint("{\"alg\":\"HS256\"", "{\"user_id\":1}", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
    mint("alg=HS256", "{\"user_id\":1}", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
    mint_raw("", "eyJ1c2VyX2lkIjoxfQ", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
    /* padding is refused (one encoding per part: test_jwt_canonical) */
    mint_raw("eyJhbGciOiJIUzI1NiJ9", "eyJ1c2VyX2lkIjoxfQ==", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
    /* payload: signed, but not base64url, not JSON, not an object */
    mint_raw("eyJhbGciOiJIUzI1NiJ9", "eyJ1c2VyX2lkIjoxfQ*", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
    mint(HS256, "{\"user_id\":1", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
    mint(HS256, "[{\"user_id\":1}]", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
    mint(HS256, "\"user_id\"", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
    mint(HS256, "", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
    mint(HS256, "{\"user_id\":\"\xff\"}", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
}

static void test_jwt_size_limits(void)
{
    cw_jwt_claims cl;
    static char payload[2100];
    /* a payload just inside the token limit is read */
    int n = snprintf(payload, sizeof payload, "{\"user_id\":1,\"pad\":\"%0900d\"}", 0);
    mint(HS256, payload, SECRET);
    CHECK(strlen(tok) <= CW_JWT_MAX_TOKEN);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_OK);
    /* over CW_JWT_MAX_TOKEN */
    /* (the payload alone, 1520 bytes, would still fit its buffer) */
    n = snprintf(payload, sizeof payload, "{\"user_id\":1,\"pad\":\"%01500d\"}", 0);
    (void)n;
    mint(HS256, payload, SECRET);
    CHECK(strlen(tok) > CW_JWT_MAX_TOKEN);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
    /* a header too large for its buffer */
    char h[400];
    snprintf(h, sizeof h, "{\"alg\":\"HS256\",\"kid\":\"%0300d\"}", 0);
    mint(h, "{\"user_id\":1}", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
}

static void test_jwt_token_type(void)
{
    cw_jwt_claims cl;
    mint(HS256, "{\"user_id\":1,\"token_type\":\"refresh\"}", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_ECLAIM);
    mint(HS256, "{\"user_id\":1,\"token_type\":\"Access\"}", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_ECLAIM);
    mint(HS256, "{\"user_id\":1,\"token_type\":\"access\\u0000x\"}", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_ECLAIM);
    mint(HS256, "{\"user_id\":1,\"token_type\":1}", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_ECLAIM);
    mint(HS256, "{\"user_id\":1,\"token_type\":\"sliding-access-and-more\"}", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_ECLAIM);
    mint(HS256, "{\"user_id\":1,\"token_type\":\"access\"}", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_OK);
    mint(HS256, "{\"user_id\":1}", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_OK);
}

static void test_jwt_claims(void)
{
    cw_jwt_claims cl;
    mint(HS256, "{\"user_id\":\"abc-123\",\"username\":\"J\\u00f6rg\"}", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_OK);
    CHECK(strcmp(cl.id, "abc-123") == 0);
    CHECK(strcmp(cl.name, "J\xc3\xb6rg") == 0);
    mint(HS256, "{\"user_id\":-7}", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_OK);
    CHECK(strcmp(cl.id, "-7") == 0);
    CHECK_EQ(cl.name[0], 0);
    mint(HS256, "{\"user_id\":9223372036854775807}", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_OK);
    CHECK(strcmp(cl.id, "9223372036854775807") == 0);
    /* ids that are no ids */
    static const char *const bad[] = {
        "{\"username\":\"x\"}",
        "{\"user_id\":\"\"}",
        "{\"user_id\":4.2}",
        "{\"user_id\":1e3}",
        "{\"user_id\":true}",
        "{\"user_id\":null}",
        "{\"user_id\":[1]}",
        "{\"user_id\":{\"id\":1}}",
        "{\"user_id\":99999999999999999999}",
        "{\"user_id\":\"ab\\u0000cd\"}", /* would read as "ab" */
        "{\"user_id\":\"\\u0000\"}",
        "{\"user_id\":\"0123456789012345678901234567890123456789\"}", /* 40 > 39 */
        "{\"sub\":\"1\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mint(HS256, bad[i], SECRET);
        if (verify_at(tok, 0, &cl) != CW_JWT_ECLAIM)
            cw_unit_check(0, bad[i], __FILE__, __LINE__);
    }
    mint(HS256, "{\"user_id\":\"012345678901234567890123456789012345678\"}", SECRET); /* 39 */
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_OK);
    CHECK_EQ(strlen(cl.id), 39);
    /* the last duplicate wins */
    mint(HS256, "{\"user_id\":1,\"user_id\":2}", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_OK);
    CHECK(strcmp(cl.id, "2") == 0);
    /* configurable claims */
    cw_jwt_config c = config();
    c.id_claim = "sub";
    c.name_claim = "name";
    mint(HS256, "{\"sub\":\"u-1\",\"name\":\"Ann\",\"user_id\":5,\"username\":\"x\"}", SECRET);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), 0, &cl), CW_JWT_OK);
    CHECK(strcmp(cl.id, "u-1") == 0);
    CHECK(strcmp(cl.name, "Ann") == 0);
    c.name_claim = NULL;
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), 0, &cl), CW_JWT_OK);
    CHECK_EQ(cl.name[0], 0);
    /* names: a number is text too; anything unusable is an empty name */
    mint(HS256, "{\"user_id\":1,\"username\":12}", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_OK);
    CHECK(strcmp(cl.name, "12") == 0);
    mint(HS256, "{\"user_id\":1,\"username\":[\"a\"]}", SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_OK);
    CHECK_EQ(cl.name[0], 0);
    char p[200];
    snprintf(p, sizeof p, "{\"user_id\":1,\"username\":\"%047d\"}", 0); /* 47 fits */
    mint(HS256, p, SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_OK);
    CHECK_EQ(strlen(cl.name), 47);
    snprintf(p, sizeof p, "{\"user_id\":1,\"username\":\"%048d\"}", 0); /* 48 is cut to 47 */
    mint(HS256, p, SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_OK);
    CHECK_EQ(strlen(cl.name), 47);
    /* 30 two-byte characters: cut at a character boundary (46 bytes), never mid-character */
    strcpy(p, "{\"user_id\":1,\"username\":\"");
    for (int i = 0; i < 30; i++)
        strcat(p, "\xc3\xa9");
    strcat(p, "\"}");
    mint(HS256, p, SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_OK);
    CHECK_EQ(strlen(cl.name), 46);
    CHECK(cw_utf8_valid((const uint8_t *)cl.name, strlen(cl.name)));
}

/* The defaults a config left at zero has (as the server's, and as
 * simplejwt): exp is required. */
static void test_jwt_exp_required(void)
{
    cw_jwt_config c = strict();
    cw_jwt_claims cl;
    const int64_t now = 1800000000;
    mint(HS256, "{\"user_id\":1}", SECRET);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), now, &cl), CW_JWT_ENOEXP);
    mint(HS256, "{\"user_id\":1,\"nbf\":1000,\"iat\":1000}", SECRET); /* no substitute */
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), now, &cl), CW_JWT_ENOEXP);
    mint(HS256, "{\"user_id\":1,\"exp\":null}", SECRET); /* present but unusable */
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), now, &cl), CW_JWT_ECLAIM);
    mint(HS256, "{\"user_id\":1,\"exp\":1800000060}", SECRET);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), now, &cl), CW_JWT_OK);
    CHECK_EQ(cl.exp, 1800000060);
    /* allow_no_exp lets exp-less tokens in, and changes nothing else */
    c.allow_no_exp = 1;
    mint(HS256, "{\"user_id\":1}", SECRET);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), now, &cl), CW_JWT_OK);
    CHECK_EQ(cl.exp, 0);
    mint(HS256, "{\"user_id\":1,\"exp\":1799999999}", SECRET);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), now, &cl), CW_JWT_EEXPIRED);
    CHECK(strcmp(cw_jwt_strerror(CW_JWT_ENOEXP), "no exp claim") == 0);
}

/* A wall clock before CW_JWT_CLOCK_FLOOR was never set: tokens whose
 * validity depends on it are refused, not judged against 1970. */
static void test_jwt_clock_floor(void)
{
    cw_jwt_config c = strict();
    cw_jwt_claims cl;
    CHECK_EQ(CW_JWT_CLOCK_FLOOR, 1704067200); /* 2024-01-01T00:00:00Z */
    /* a token that expired long ago (by any set clock) is not valid at 1970 */
    mint(HS256, "{\"user_id\":1,\"exp\":1704067300}", SECRET);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), 0, &cl), CW_JWT_ECLOCK);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), 86400, &cl), CW_JWT_ECLOCK);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), -1, &cl), CW_JWT_ECLOCK);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), CW_JWT_CLOCK_FLOOR - 1, &cl), CW_JWT_ECLOCK);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), CW_JWT_CLOCK_FLOOR, &cl), CW_JWT_OK);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), 1704067300, &cl), CW_JWT_EEXPIRED);
    /* leeway does not reach below the floor */
    c.leeway_s = 3600;
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), CW_JWT_CLOCK_FLOOR - 1, &cl), CW_JWT_ECLOCK);
    c.leeway_s = 0;
    /* nbf alone is time-bound too */
    c.allow_no_exp = 1;
    mint(HS256, "{\"user_id\":1,\"nbf\":1000}", SECRET);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), 5000, &cl), CW_JWT_ECLOCK);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), CW_JWT_CLOCK_FLOOR, &cl), CW_JWT_OK);
    /* a token that does not depend on the clock (allowed without exp) */
    mint(HS256, "{\"user_id\":1,\"iat\":1000}", SECRET);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), 0, &cl), CW_JWT_OK);
    /* the clock is checked after the signature and the claims' shape */
    mint(HS256, "{\"user_id\":1,\"exp\":1704067300}", "other-secret");
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), 0, &cl), CW_JWT_ESIG);
    /* a clock known to be right (the tests above) */
    mint(HS256, "{\"user_id\":1,\"exp\":9000,\"nbf\":-200}", SECRET);
    c.trust_clock = 1;
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), -100, &cl), CW_JWT_OK);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), 9000, &cl), CW_JWT_EEXPIRED);
    CHECK(strstr(cw_jwt_strerror(CW_JWT_ECLOCK), "clock not set") != NULL);
}

/* A claim's value (JSON; NULL: no such claim) and the verdict it gets. */
typedef struct {
    const char *json;
    int rc;
} claim_case;

/* Mints a token per case with `claim` set to its value and checks the
 * verdict of c; a failing case is reported with its payload. */
static void check_claim_cases(const cw_jwt_config *c, const char *claim, const claim_case *cases,
                              size_t n)
{
    char p[600];
    cw_jwt_claims cl;
    for (size_t i = 0; i < n; i++) {
        if (cases[i].json)
            snprintf(p, sizeof p, "{\"user_id\":1,\"exp\":1800000600,\"%s\":%s}", claim,
                     cases[i].json);
        else
            snprintf(p, sizeof p, "{\"user_id\":1,\"exp\":1800000600}");
        mint(HS256, p, SECRET);
        if (cw_jwt_verify(c, tok, strlen(tok), 1800000000, &cl) != cases[i].rc)
            cw_unit_check(0, p, __FILE__, __LINE__);
    }
}

static void test_jwt_audience_issuer(void)
{
    cw_jwt_config c = strict();
    cw_jwt_claims cl;
    const int64_t now = 1800000000;
    char p[600];
    /* as simplejwt with AUDIENCE = None: aud is not read, whatever it is */
    static const char *const any[] = {"\"x\"", "[\"x\"]", "5", "null", "[1]", "{}"};
    for (size_t i = 0; i < sizeof any / sizeof any[0]; i++) {
        snprintf(p, sizeof p, "{\"user_id\":1,\"exp\":1800000600,\"aud\":%s,\"iss\":%s}",
                 any[i], any[i]);
        mint(HS256, p, SECRET);
        if (cw_jwt_verify(&c, tok, strlen(tok), now, &cl) != CW_JWT_OK)
            cw_unit_check(0, any[i], __FILE__, __LINE__);
    }
    c.audience = "chanwire";
    static const claim_case auds[] = {
        {"\"chanwire\"", CW_JWT_OK},
        {"[\"chanwire\"]", CW_JWT_OK},
        {"[\"other\",\"chanwire\"]", CW_JWT_OK},
        {"[ \"other\" ,\n\t\"chanwire\" ]", CW_JWT_OK},
        {"\"chan\\u0077ire\"", CW_JWT_OK},                 /* compared unescaped */
        {"[\"a\\\"b\",\"x\\\\\",\"chanwire\"]", CW_JWT_OK}, /* escaped quotes skipped */
        {NULL, CW_JWT_EAUD},
        {"\"other\"", CW_JWT_EAUD},
        {"\"Chanwire\"", CW_JWT_EAUD},                      /* case-sensitive */
        {"\"chanwire \"", CW_JWT_EAUD},
        {"\"chanwir\"", CW_JWT_EAUD},
        {"\"chanwire2\"", CW_JWT_EAUD},
        {"\"chanwire\\u0000\"", CW_JWT_EAUD},
        {"\"\"", CW_JWT_EAUD},
        {"[]", CW_JWT_EAUD},
        {"[\"other\"]", CW_JWT_EAUD},
        {"[\"chanwire\",1]", CW_JWT_EAUD},                  /* PyJWT: invalid claim format */
        {"[1,\"chanwire\"]", CW_JWT_EAUD},
        {"[[\"chanwire\"]]", CW_JWT_EAUD},
        {"[null]", CW_JWT_EAUD},
        {"{\"aud\":\"chanwire\"}", CW_JWT_EAUD},
        {"1", CW_JWT_EAUD},
        {"null", CW_JWT_EAUD},
        {"true", CW_JWT_EAUD},
        {"\"chanwire\",\"aud\":\"x\"", CW_JWT_EAUD},          /* the last duplicate wins */
    };
    check_claim_cases(&c, "aud", auds, sizeof auds / sizeof auds[0]);
    /* a string longer than any audience could be, in an array */
    int n = snprintf(p, sizeof p, "{\"user_id\":1,\"exp\":1800000600,\"aud\":[\"%0400d\",", 0);
    snprintf(p + n, sizeof p - (size_t)n, "\"chanwire\"]}");
    mint(HS256, p, SECRET);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), now, &cl), CW_JWT_OK);
    /* the audience check comes after the time checks */
    mint(HS256, "{\"user_id\":1,\"exp\":1700000000,\"aud\":\"other\"}", SECRET);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), now, &cl), CW_JWT_EEXPIRED);

    /* iss: one string, exactly */
    c.audience = NULL;
    c.issuer = "https://auth.example";
    static const claim_case isss[] = {
        {"\"https://auth.example\"", CW_JWT_OK},
        {"\"https:\\/\\/auth.example\"", CW_JWT_OK}, /* "\/" is "/" */
        {NULL, CW_JWT_EISS},
        {"\"https://auth.example/\"", CW_JWT_EISS},
        {"\"HTTPS://auth.example\"", CW_JWT_EISS},
        {"[\"https://auth.example\"]", CW_JWT_EISS}, /* an array is not a string */
        {"null", CW_JWT_EISS},
        {"7", CW_JWT_EISS},
    };
    check_claim_cases(&c, "iss", isss, sizeof isss / sizeof isss[0]);
    /* both set: both must match */
    c.audience = "chanwire";
    mint(HS256, "{\"user_id\":1,\"exp\":1800000600,\"aud\":\"chanwire\","
                "\"iss\":\"https://auth.example\"}", SECRET);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), now, &cl), CW_JWT_OK);
    mint(HS256, "{\"user_id\":1,\"exp\":1800000600,\"aud\":\"chanwire\",\"iss\":\"x\"}",
         SECRET);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), now, &cl), CW_JWT_EISS);
    mint(HS256, "{\"user_id\":1,\"exp\":1800000600,\"aud\":\"x\","
                "\"iss\":\"https://auth.example\"}", SECRET);
    CHECK_EQ(cw_jwt_verify(&c, tok, strlen(tok), now, &cl), CW_JWT_EAUD);
}

/* One accepted spelling per token: base64url with no '=' padding and zero
 * unused bits, in every part. */
static void test_jwt_canonical(void)
{
    cw_jwt_claims cl;
    const char *good = mint(HS256, "{\"user_id\":1}", SECRET);
    char t[600];
    snprintf(t, sizeof t, "%s", good);
    size_t n = strlen(t);
    CHECK_EQ(n - (size_t)(strrchr(t, '.') + 1 - t), 43); /* 32 bytes, unpadded */
    CHECK_EQ(verify_at(t, 0, &cl), CW_JWT_OK);
    /* the signature padded: the same bytes, another string */
    snprintf(t, sizeof t, "%s=", good);
    CHECK_EQ(verify_at(t, 0, &cl), CW_JWT_EMALFORMED);
    snprintf(t, sizeof t, "%s==", good);
    CHECK_EQ(verify_at(t, 0, &cl), CW_JWT_EMALFORMED);
    /* the last character: of the 64 url-safe ones, only one is accepted; the
     * standard alphabet's '+' and '/' and '=' are never */
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=";
    int accepted = 0;
    snprintf(t, sizeof t, "%s", good);
    for (const char *a = alpha; *a; a++) {
        t[n - 1] = *a;
        accepted += verify_at(t, 0, &cl) == CW_JWT_OK;
    }
    CHECK_EQ(accepted, 1);
    /* '-' and '_' written the standard way */
    static char h64[64], p64[64];
    uint8_t mac[32];
    for (unsigned seed = 0; seed < 64; seed++) {
        char body[64];
        snprintf(body, sizeof body, "{\"user_id\":%u}", seed);
        b64url(h64, (const uint8_t *)HS256, strlen(HS256));
        b64url(p64, (const uint8_t *)body, strlen(body));
        size_t o = (size_t)snprintf(t, sizeof t, "%s.%s", h64, p64);
        cw_sha256_hmac((const uint8_t *)SECRET, strlen(SECRET), t, o, mac);
        t[o++] = '.';
        b64url(t + o, mac, 32);
        char *s = strpbrk(t + o, "-_");
        if (!s)
            continue;
        *s = *s == '-' ? '+' : '/';
        if (verify_at(t, 0, &cl) == CW_JWT_OK)
            cw_unit_check(0, t, __FILE__, __LINE__);
    }
    /* header and payload padded (their signing input is then what is on
     * the wire, so only the encoding is wrong) */
    static const char *const hdr2 = "{\"alg\":\"HS256\",\"x\":12}"; /* 22 bytes: 30 chars */
    char hp[80], pp[80];
    b64url(hp, (const uint8_t *)hdr2, strlen(hdr2));
    b64url(p64, (const uint8_t *)"{\"user_id\":1}", 13); /* 13 bytes: 18 chars */
    CHECK_EQ(strlen(hp) % 4, 2);
    CHECK_EQ(strlen(p64) % 4, 2);
    mint_raw(hp, p64, SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_OK);
    strcat(hp, "==");
    mint_raw(hp, p64, SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
    b64url(h64, (const uint8_t *)HS256, strlen(HS256));
    snprintf(pp, sizeof pp, "%s==", p64);
    mint_raw(h64, pp, SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
    /* payload with its last character's unused bits set */
    snprintf(pp, sizeof pp, "%s", p64);
    pp[strlen(pp) - 1] = (char)(pp[strlen(pp) - 1] + 1);
    mint_raw(h64, pp, SECRET);
    CHECK_EQ(verify_at(tok, 0, &cl), CW_JWT_EMALFORMED);
}

static void test_jwt_strerror(void)
{
    CHECK(strcmp(cw_jwt_strerror(CW_JWT_OK), "ok") == 0);
    CHECK(strcmp(cw_jwt_strerror(CW_JWT_EALG), "unsupported alg (only HS256)") == 0);
    CHECK(strcmp(cw_jwt_strerror(CW_JWT_EEXPIRED), "token expired") == 0);
    CHECK(strcmp(cw_jwt_strerror(-99), "error") == 0);
}

int main(void)
{
    RUN(test_sha256_fips);
    RUN(test_sha256_million_a);
    RUN(test_sha256_padding_edges);
    RUN(test_hmac_rfc4231);
    RUN(test_hmac_key_edges);
    RUN(test_jwt_simplejwt_token);
    RUN(test_jwt_fixed_token);
    RUN(test_jwt_rfc7515_a1);
    RUN(test_jwt_time);
    RUN(test_jwt_signature);
    RUN(test_jwt_alg);
    RUN(test_jwt_shape);
    RUN(test_jwt_size_limits);
    RUN(test_jwt_token_type);
    RUN(test_jwt_claims);
    RUN(test_jwt_exp_required);
    RUN(test_jwt_clock_floor);
    RUN(test_jwt_audience_issuer);
    RUN(test_jwt_canonical);
    RUN(test_jwt_strerror);
    return cw_unit_done();
}
