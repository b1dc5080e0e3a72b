/* SPDX-License-Identifier: MIT */
/* jwt.h: HS256 JSON Web Token verification (RFC 7519/7515) for auth at
 * connect: signature, alg, exp/nbf, aud/iss, and the user's id and name
 * from configurable claims, as minted by Django JWT libraries with a shared
 * secret (djangorestframework-simplejwt, PyJWT). */
#ifndef CW_JWT_H
#define CW_JWT_H

#include <stddef.h>
#include <stdint.h>

#define CW_JWT_MAX_TOKEN 2048
#define CW_USER_ID_MAX 40
#define CW_USER_NAME_MAX 48
/* A wall clock before 2024-01-01T00:00:00Z was never set (a board with no
 * RTC starts at 1970 until NTP runs): time-bound tokens are refused. */
#define CW_JWT_CLOCK_FLOOR 1704067200

typedef struct {
    const uint8_t *secret;
    size_t secret_len;
    const char *id_claim;   /* e.g. "user_id" (simplejwt) or "sub" */
    const char *name_claim; /* e.g. "username"; NULL or missing: empty name */
    int64_t leeway_s;       /* clock skew allowed on exp/nbf */
    /* What a token must also satisfy; zero is the strict default of each. */
    const char *audience;   /* aud is it, or an array of strings holding it; NULL: unread */
    const char *issuer;     /* iss is this string; NULL: unread */
    int allow_no_exp;       /* 0: a token without exp is refused (as simplejwt does) */
    int trust_clock;        /* 1: no CW_JWT_CLOCK_FLOOR (a clock known to be set) */
} cw_jwt_config;

typedef struct {
    char id[CW_USER_ID_MAX];
    char name[CW_USER_NAME_MAX];
    int64_t exp; /* 0 when the token has none */
} cw_jwt_claims;

enum {
    CW_JWT_OK = 0,
    CW_JWT_EMALFORMED = -1, /* not three base64url parts of JSON */
    CW_JWT_EALG = -2,       /* alg is not HS256 (none, RS256, ...) or crit set */
    CW_JWT_ESIG = -3,       /* signature does not match the secret */
    CW_JWT_EEXPIRED = -4,
    CW_JWT_ENOTYET = -5,    /* nbf in the future */
    CW_JWT_ECLAIM = -6,     /* no usable id claim, or token_type is not "access" */
    CW_JWT_ENOEXP = -7,     /* no exp (and allow_no_exp not set) */
    CW_JWT_EAUD = -8,       /* aud missing or not the configured audience */
    CW_JWT_EISS = -9,       /* iss missing or not the configured issuer */
    CW_JWT_ECLOCK = -10     /* exp or nbf present while now < CW_JWT_CLOCK_FLOOR */
};

/* Verifies token at `now` (Unix seconds); fills *out on success. Only the
 * one canonical encoding of each part is accepted: base64url without '='
 * padding, unused trailing bits zero. */
int cw_jwt_verify(const cw_jwt_config *cfg, const char *token, size_t len, int64_t now,
                  cw_jwt_claims *out);
const char *cw_jwt_strerror(int rc);

#endif
