/* SPDX-License-Identifier: MIT */
/* jwt.h: HS256 JSON Web Token verification (RFC 7519/7515) for auth at
 * connect: signature, alg, exp/nbf, and the user's id and name from
 * configurable claims, as minted by Django JWT libraries with a shared
 * secret (djangorestframework-simplejwt, PyJWT). */
#ifndef CW_JWT_H
#define CW_JWT_H

#include <stddef.h>
#include <stdint.h>

#define CW_JWT_MAX_TOKEN 2048
#define CW_USER_ID_MAX 40
#define CW_USER_NAME_MAX 48

typedef struct {
    const uint8_t *secret;
    size_t secret_len;
    const char *id_claim;   /* e.g. "user_id" (simplejwt) or "sub" */
    const char *name_claim; /* e.g. "username"; NULL or missing: empty name */
    int64_t leeway_s;       /* clock skew allowed on exp/nbf */
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
    CW_JWT_ECLAIM = -6      /* no usable id claim, or token_type is not "access" */
};

/* Verifies token at `now` (Unix seconds); fills *out on success. */
int cw_jwt_verify(const cw_jwt_config *cfg, const char *token, size_t len, int64_t now,
                  cw_jwt_claims *out);
const char *cw_jwt_strerror(int rc);

#endif
