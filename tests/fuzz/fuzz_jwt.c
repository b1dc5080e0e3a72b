/* SPDX-License-Identifier: MIT */
/* fuzz_jwt.c: HS256 token verification. Byte 0 picks a mode and the clock
 * (the input's length picks the aud, iss and exp options):
 *  raw: the rest is the token as a client sends it.
 *  signed: the rest is "header JSON" 0xFF "payload JSON"; the harness
 *    encodes and signs it with the server's secret (so the claim checks
 *    are reached), then also tries it with one signature bit flipped.
 * Oracles: a correctly signed token is never refused for its signature; a
 * tampered one is never accepted; an accepted token has a non-empty id and
 * a name that fit their buffers and are valid UTF-8 (a long name is cut at
 * a character boundary), an exp unless exp-less tokens are allowed, and a
 * clock past the floor if it has exp; a token with '=' in it is never
 * accepted; only the documented codes come back. */
#include "fuzz.h"

#include "proto/jwt.h"
#include "base/sha256.h"
#include "base/utf8.h"

#include <string.h>

static const uint8_t secret[] = "fuzz-secret-0123456789";

static size_t b64url(char *out, const uint8_t *in, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = a[(v >> 6) & 63];
        out[o++] = a[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = a[(v >> 6) & 63];
    }
    return o;
}

static int check(const cw_jwt_config *cfg, const char *tok, size_t len, int64_t now)
{
    char *copy = malloc(len ? len : 1); /* exactly the token: over-reads show */
    FUZZ_ASSERT(copy != NULL);
    memcpy(copy, tok, len);
    cw_jwt_claims cl;
    int rc = cw_jwt_verify(cfg, copy, len, now, &cl);
    free(copy);
    FUZZ_ASSERT(rc <= 0 && rc >= CW_JWT_ECLOCK);
    FUZZ_ASSERT(cw_jwt_strerror(rc) != NULL);
    if (rc == CW_JWT_OK) {
        FUZZ_ASSERT(!memchr(tok, '=', len)); /* one spelling: no padding */
        /* an accepted exp lies past now - leeway > the floor: never 0 */
        FUZZ_ASSERT(cl.exp != 0 || cfg->allow_no_exp);
        FUZZ_ASSERT(cl.exp == 0 || now >= CW_JWT_CLOCK_FLOOR);
        size_t il = strnlen(cl.id, sizeof cl.id), nl = strnlen(cl.name, sizeof cl.name);
        FUZZ_ASSERT(il > 0 && il < sizeof cl.id && nl < sizeof cl.name);
        FUZZ_ASSERT(cw_utf8_valid((const uint8_t *)cl.id, il));
        FUZZ_ASSERT(cw_utf8_valid((const uint8_t *)cl.name, nl));
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const int64_t clocks[4] = {0, 1800000000, -1, INT64_MAX / 2};
    cw_jwt_config cfg = {secret, sizeof secret - 1, "user_id", "username", 0,
                         size & 2 ? "aud-1" : NULL, size & 4 ? "iss-1" : NULL, (int)(size & 1), 0};
    int64_t now = clocks[(data[0] >> 1) & 3];
    cfg.leeway_s = (data[0] >> 3) & 1 ? 30 : 0;
    if (data[0] & 16)
        cfg.id_claim = "sub";
    if (data[0] & 32)
        cfg.name_claim = NULL;
    if (!(data[0] & 1)) {
        check(&cfg, (const char *)data + 1, size - 1, now);
        return 0;
    }
    const uint8_t *in = data + 1, *sep = memchr(in, 0xFF, size - 1);
    if (!sep)
        return 0;
    size_t hl = (size_t)(sep - in), pl = size - 1 - hl - 1;
    if (hl > 400 || pl > 2000)
        return 0;
    static char tok[4096];
    size_t o = b64url(tok, in, hl);
    tok[o++] = '.';
    o += b64url(tok + o, sep + 1, pl);
    uint8_t mac[32];
    cw_sha256_hmac(secret, sizeof secret - 1, tok, o, mac);
    tok[o++] = '.';
    size_t sig_at = o;
    o += b64url(tok + o, mac, 32);
    int rc = check(&cfg, tok, o, now);
    /* The signature is checked after the header and before the payload. */
    if (o <= CW_JWT_MAX_TOKEN)
        FUZZ_ASSERT(rc != CW_JWT_ESIG);
    /* One bit of the signature flipped: never accepted. */
    mac[(data[0] >> 6) & 31] ^= 1;
    b64url(tok + sig_at, mac, 32);
    rc = check(&cfg, tok, o, now);
    FUZZ_ASSERT(rc != CW_JWT_OK);
    return 0;
}
