/* SPDX-License-Identifier: MIT */
/* auth.h: what runs between the handshake checks and a consumer's connect
 * (Channels' AllowedHostsOriginValidator + AuthMiddlewareStack): the Origin
 * check, the Host allow-list (Django's ALLOWED_HOSTS), finding a bearer
 * token in the request, and the pool of user records that authenticated
 * connections point at. */
#ifndef CW_AUTH_H
#define CW_AUTH_H

#include "cw_config.h"
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

/* The Host check against DNS rebinding (Django's ALLOWED_HOSTS): 1 when
 * the request may proceed. Always 1 when nallow is 0 or allow holds "*".
 * Otherwise the Host header must appear once (HTTP/1.0 may omit it: it
 * names no other host), be "host[:port]" with a numeric port, and its host
 * (case-insensitive, one trailing dot ignored) must be an IP literal
 * (dotted-decimal IPv4, or IPv6 in brackets: rebinding needs a name) or
 * match an entry: "name" exactly, ".example.com" that domain and every
 * name under it. Host names are [A-Za-z0-9._-]; entries carry no port.
 * Reads spans only: call it before cw_http_prepare_scope or after. */
#if defined(CONFIG_HOST_CHECK)
int cw_auth_host_allowed(const cw_http_req *r, const char *const *allow, size_t nallow);

/* Splits s in place at blanks and commas into at most max names (the
 * rest is ignored) and returns how many; out[i] points into s. For a
 * Kconfig string such as CONFIG_ALLOW_HOSTS. */
size_t cw_auth_split_hosts(char *s, const char **out, size_t max);
#else
/* Built without CONFIG_HOST_CHECK: no Host check, no code (cw_server_init
 * refuses an allow-list). */
static inline int cw_auth_host_allowed(const cw_http_req *r, const char *const *allow,
                                       size_t nallow)
{
    (void)r, (void)allow, (void)nallow;
    return 1;
}
#endif

/* The token from "Authorization: Bearer T", else cookie `cookie`, else
 * query parameter `param` (either may be NULL). Needs
 * cw_http_prepare_scope first. NULL when none. */
const char *cw_auth_find_token(const cw_http_req *r, const char *cookie, const char *param);

/* max: distinct users at once (0 or more than CONFIG_MAX_USERS: that). */
void cw_auth_users_init(unsigned max);
/* A record for (id, name), shared by every connection of that user id;
 * takes a reference. NULL when the pool is full. */
cw_auth_user *cw_auth_user_get(const char *id, const char *name);
void cw_auth_user_put(cw_auth_user *u);
unsigned cw_auth_users_in_use(void);

#endif
