/* SPDX-License-Identifier: MIT */
/* auth.h: what runs between the handshake checks and a consumer's connect
 * (Channels' AllowedHostsOriginValidator + AuthMiddlewareStack): the Origin
 * check, finding a bearer token in the request, and the pool of user
 * records that authenticated connections point at. */
#ifndef CW_AUTH_H
#define CW_AUTH_H

#include "proto/http.h"
#include "proto/jwt.h"

typedef struct cw_auth_user {
    char id[CW_USER_ID_MAX]; /* first: a free record's link overlays it */
    char name[CW_USER_NAME_MAX];
    uint32_t refs;           /* connections pointing here; 0: free */
} cw_auth_user;

/* 1 when the request may proceed: no Origin header (not a browser), an
 * Origin whose host name equals the Host header's (ports are not compared,
 * as in Channels' AllowedHostsOriginValidator), or an Origin listed in
 * allow exactly ("*" allows any). */
int cw_auth_origin_allowed(const cw_http_req *r, const char *const *allow, size_t nallow);

/* The token from "Authorization: Bearer T", else cookie `cookie`, else
 * query parameter `param` (either may be NULL). Needs
 * cw_http_prepare_scope first. NULL when none. */
const char *cw_auth_find_token(const cw_http_req *r, const char *cookie, const char *param);

void cw_auth_users_init(void);
/* A record for (id, name), shared by every connection of that user id;
 * takes a reference. NULL when the pool is full. */
cw_auth_user *cw_auth_user_get(const char *id, const char *name);
void cw_auth_user_put(cw_auth_user *u);
unsigned cw_auth_users_in_use(void);

#endif
