/* SPDX-License-Identifier: MIT */
/* jwt.c: splits the token, checks the header's alg before anything else,
 * compares the HMAC in constant time, then reads the claims. */
#include "proto/jwt.h"
#include "base/base64.h"
#include "chanwire.h"
#include "proto/json.h"
#include "base/sha256.h"

#include <stdio.h>
#include <string.h>

const char *cw_jwt_strerror(int rc)
{
    switch (rc) {
    case CW_JWT_OK: return "ok";
    case CW_JWT_EMALFORMED: return "malformed token";
    case CW_JWT_EALG: return "unsupported alg (only HS256)";
    case CW_JWT_ESIG: return "bad signature";
    case CW_JWT_EEXPIRED: return "token expired";
    case CW_JWT_ENOTYET: return "token not valid yet";
    case CW_JWT_ECLAIM: return "missing or unusable claims";
    case CW_JWT_ENOEXP: return "no exp claim";
    case CW_JWT_EAUD: return "aud missing or not ours";
    case CW_JWT_EISS: return "iss missing or not ours";
    case CW_JWT_ECLOCK: return "wall clock not set (before 2024): time-bound tokens refused";
    default: return "error";
    }
}

static int equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (uint8_t)(a[i] ^ b[i]);
    return d == 0;
}

#define DEC_MAX 922337203685477580u /* INT64_MAX / 10 */

/* ceil() of a valid JSON number (RFC 7519 NumericDate: seconds, maybe with
 * a fraction or an exponent), saturating at the int64 limits. Integers
 * only: soft-float code would be most of this module on FPU-less boards. */
static int64_t number_ceil(const char *p, const char *e)
{
    int neg = p < e && *p == '-';
    p += neg;
    const char *ip = p;
    while (p < e && *p >= '0' && *p <= '9')
        p++;
    size_t nint = (size_t)(p - ip), nfrac = 0;
    const char *fp = p;
    if (p < e && *p == '.') {
        fp = ++p;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        nfrac = (size_t)(p - fp);
    }
    long ex = 0;
    if (p < e && (*p == 'e' || *p == 'E')) {
        int eneg = ++p < e && *p == '-';
        p += p < e && (*p == '-' || *p == '+');
        for (; p < e; p++)
            if (ex < 1000000)
                ex = ex * 10 + (*p - '0');
        ex = eneg ? -ex : ex;
    }
    long point = (long)nint + ex; /* digits left of the decimal point */
    uint64_t acc = 0;
    int over = 0, frac = 0;
    for (size_t i = 0; i < nint + nfrac; i++) {
        unsigned d = (unsigned)((i < nint ? ip[i] : fp[i - nint]) - '0');
        if ((long)i >= point)
            frac |= d != 0;
        else if (acc > DEC_MAX || (acc == DEC_MAX && d > 7))
            over = 1;
        else
            acc = acc * 10 + d;
    }
    for (long i = (long)(nint + nfrac); i < point && acc && !over; i++) {
        if (acc > DEC_MAX)
            over = 1;
        else
            acc *= 10;
    }
    if (over)
        return neg ? INT64_MIN : INT64_MAX;
    if (neg)
        return -(int64_t)acc; /* ceil of a negative number drops the fraction */
    return frac && acc < (uint64_t)INT64_MAX ? (int64_t)acc + 1 : (int64_t)acc;
}

/* a + b without overflow. */
static int64_t add_sat(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

/* Reads a numeric time claim as whole seconds (rounded up: now >= exp is
 * the same test on integers); 1 when present and valid, 0 absent, -1 bad. */
static int time_claim(const char *json, size_t n, const char *name, int64_t *out)
{
    cw_json_val v;
    int rc = cw_json_get(json, n, name, &v);
    if (rc == CW_ENOENT)
        return 0;
    if (rc < 0 || v.type != CW_JSON_NUMBER)
        return -1;
    *out = number_ceil(v.ptr, v.ptr + v.len);
    return 1;
}

/* 0 when want is NULL, or when claim `name` is a string equal to want or
 * (many != 0) an array of strings one of which is (RFC 7519 4.1.3, as PyJWT
 * reads aud); -1 when it is missing, of another type, or does not match.
 * The value comes from a validated document: a linear scan, no recursion. */
static int claim_is(const char *json, size_t n, const char *name, const char *want, int many)
{
    cw_json_val v;
    if (!want)
        return 0;
    if (cw_json_get(json, n, name, &v) < 0)
        return -1;
    const char *p = v.ptr, *e = v.ptr + v.len;
    if (v.type == CW_JSON_ARRAY && many)
        p++; /* past '[': then strings, ',' and blanks up to ']' */
    else if (v.type != CW_JSON_STRING)
        return -1;
    size_t wl = strlen(want);
    int hit = 0;
    for (;;) {
        while (p < e && (*p == ',' || (unsigned char)*p <= ' ')) /* blanks, outside strings */
            p++;
        if (p >= e || *p == ']')
            return hit - 1;
        if (*p != '"')
            return -1; /* an element that is not a string: the claim is bad */
        cw_json_val s = {CW_JSON_STRING, p++, 0};
        while (p < e && *p != '"')
            p += *p == '\\' ? 2 : 1;
        s.len = (size_t)(++p - s.ptr);
        char got[256];
        long gl = p <= e ? cw_json_string(&s, got, sizeof got) : -1;
        hit |= gl == (long)wl && memcmp(got, want, wl) == 0;
    }
}

/* Copies a string or integer claim as text. */
static int text_claim(const char *json, size_t n, const char *name, char *out, size_t cap)
{
    cw_json_val v;
    if (!name || cw_json_get(json, n, name, &v) < 0)
        return -1;
    if (v.type == CW_JSON_STRING) {
        long sl = cw_json_string(&v, out, cap);
        return sl < 0 || strlen(out) != (size_t)sl ? -1 : 0; /* "ab\u0000cd" is not "ab" */
    }
    int64_t i;
    if (v.type == CW_JSON_NUMBER && cw_json_int(&v, &i) == 0) {
        int w = snprintf(out, cap, "%lld", (long long)i);
        return w > 0 && (size_t)w < cap ? 0 : -1;
    }
    return -1;
}

int cw_jwt_verify(const cw_jwt_config *cfg, const char *token, size_t len, int64_t now,
                  cw_jwt_claims *out)
{
    /* No '=' padding: with the decoder's alphabet and zero trailing bits,
     * one encoding per part (a signature has exactly one spelling). */
    if (len == 0 || len > CW_JWT_MAX_TOKEN || memchr(token, '=', len))
        return CW_JWT_EMALFORMED;
    const char *dot1 = memchr(token, '.', len);
    if (!dot1)
        return CW_JWT_EMALFORMED;
    const char *dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return CW_JWT_EMALFORMED;
    size_t hlen = (size_t)(dot1 - token), plen = (size_t)(dot2 - dot1 - 1);
    size_t slen = len - (size_t)(dot2 + 1 - token);

    char header[256];
    long hn = cw_base64url_decode((uint8_t *)header, sizeof header, token, hlen);
    if (hn < 0 || !cw_json_valid(header, (size_t)hn))
        return CW_JWT_EMALFORMED;
    char alg[16];
    if (cw_json_get_string(header, (size_t)hn, "alg", alg, sizeof alg) < 0 ||
        strcmp(alg, "HS256") != 0)
        return CW_JWT_EALG; /* "none" and every other alg end here */
    cw_json_val crit;
    if (cw_json_get(header, (size_t)hn, "crit", &crit) == 0)
        return CW_JWT_EALG; /* extensions we do not understand */

    uint8_t sig[40], mac[32];
    if (cw_base64url_decode(sig, sizeof sig, dot2 + 1, slen) != 32)
        return CW_JWT_ESIG;
    cw_sha256_hmac(cfg->secret, cfg->secret_len, token, (size_t)(dot2 - token), mac);
    if (!equal_ct(sig, mac, 32))
        return CW_JWT_ESIG;

    char payload[1536];
    long pn = cw_base64url_decode((uint8_t *)payload, sizeof payload, dot1 + 1, plen);
    if (pn < 0 || !cw_json_valid(payload, (size_t)pn) || payload[0] != '{')
        return CW_JWT_EMALFORMED;
    size_t n = (size_t)pn;
    int64_t exp = INT64_MAX, nbf = INT64_MIN; /* absent: no bound */
    int has_exp = time_claim(payload, n, "exp", &exp);
    int has_nbf = time_claim(payload, n, "nbf", &nbf);
    if ((has_exp | has_nbf) < 0)
        return CW_JWT_ECLAIM;
    if (!(has_exp | cfg->allow_no_exp))
        return CW_JWT_ENOEXP;
    /* At 1970 every exp is far ahead: until the clock is set, a token that
     * depends on it is refused rather than taken as valid. */
    if ((has_exp | has_nbf) && now < CW_JWT_CLOCK_FLOOR && !cfg->trust_clock)
        return CW_JWT_ECLOCK;
    if (now >= add_sat(exp, cfg->leeway_s))
        return CW_JWT_EEXPIRED;
    if (add_sat(now, cfg->leeway_s) < nbf)
        return CW_JWT_ENOTYET;
    if (claim_is(payload, n, "aud", cfg->audience, 1) < 0)
        return CW_JWT_EAUD;
    if (claim_is(payload, n, "iss", cfg->issuer, 0) < 0)
        return CW_JWT_EISS;
    char type[16];
    long tn = cw_json_get_string(payload, n, "token_type", type, sizeof type);
    if (tn != CW_ENOENT && (tn != 6 || memcmp(type, "access", 6) != 0))
        return CW_JWT_ECLAIM; /* a refresh token is not a session */
    memset(out, 0, sizeof *out);
    if (text_claim(payload, n, cfg->id_claim ? cfg->id_claim : "user_id", out->id,
                   sizeof out->id) < 0 || !out->id[0])
        return CW_JWT_ECLAIM;
    if (text_claim(payload, n, cfg->name_claim, out->name, sizeof out->name) < 0) {
        /* A long name is shortened at a character boundary, not dropped. */
        char longer[512];
        out->name[0] = 0;
        if (text_claim(payload, n, cfg->name_claim, longer, sizeof longer) == 0) {
            size_t k = sizeof out->name - 1;
            while (k > 0 && ((uint8_t)longer[k] & 0xC0) == 0x80)
                k--; /* longer[k] starts a character: cut before it */
            memcpy(out->name, longer, k);
            out->name[k] = 0;
        }
    }
    out->exp = has_exp ? exp : 0;
    return CW_JWT_OK;
}
