/* SPDX-License-Identifier: MIT */
/* scope.c: the consumer's view of one connection (Channels' scope): its
 * user data, path and route arguments, headers, cookies and query while
 * the request is held (auth hook and connect), subprotocol, user and peer.
 * Reads only; the state machine is core/conn.c. */
#include "core/auth.h"
#include "core/conn.h"
#include "core/runtime.h"
#include "proto/http.h"
#include "proto/router.h"

#include <string.h>

void *cw_user_data(cw_conn *c)
{
    return c->user;
}

size_t cw_user_data_size(void)
{
    return CONFIG_USER_DATA_SIZE;
}

static const char *route_pattern(const cw_conn *c)
{
    return cw_rt.opt.routes[c->route].pattern;
}

/* The answer of the *_copy calls when the text does not fit: an empty
 * string (when there is room for one), never a truncated one. */
static long too_big(char *out, size_t cap)
{
    if (cap)
        out[0] = 0;
    return CW_ETOOBIG;
}

/* Copies the n bytes at src and a NUL to out[0..cap). */
static long copy_out(char *out, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        return too_big(out, cap);
    memcpy(out, src, n);
    out[n] = 0;
    return (long)n;
}

/* The path, rebuilt from the pattern and the argument values (the request
 * buffer does not outlive the handshake): its length and, unless out is
 * NULL, its bytes (no NUL). */
static size_t path_build(const cw_conn *c, char *out)
{
    const char *p = route_pattern(c), *a = c->args;
    size_t n = 0;
    while (*p) {
        if (*p == '<') {
            size_t k = strlen(a);
            if (out)
                memcpy(out + n, a, k);
            n += k;
            a += k + 1;
            p = strchr(p, '>') + 1;
        } else {
            if (out)
                out[n] = *p;
            n++;
            p++;
        }
    }
    return n;
}

long cw_path_copy(cw_conn *c, char *out, size_t cap)
{
    size_t n = path_build(c, NULL); /* measured first: all of it or nothing */
    if (n >= cap)
        return too_big(out, cap);
    path_build(c, out);
    out[n] = 0;
    return (long)n;
}

const char *cw_path(cw_conn *c)
{
    static char path[CW_PATH_BUF];
    cw_path_copy(c, path, sizeof path); /* "" when it does not fit */
    return path;
}

const char *cw_arg(cw_conn *c, const char *name)
{
    return cw_route_arg(route_pattern(c), c->args, name);
}

const char *cw_query(cw_conn *c, const char *name)
{
    const cw_http_req *r = cw_conn_request(c);
    return r ? cw_http_param(r, name) : NULL;
}

const char *cw_header(cw_conn *c, const char *name)
{
    const cw_http_req *r = cw_conn_request(c);
    return r ? cw_http_header_value(r, name) : NULL;
}

const char *cw_cookie(cw_conn *c, const char *name)
{
    const cw_http_req *r = cw_conn_request(c);
    return r ? cw_http_cookie(r, name) : NULL;
}

int cw_offers_subprotocol(cw_conn *c, const char *name)
{
    const cw_http_req *r = cw_conn_request(c);
    if (!r)
        return 0;
    for (unsigned i = 0; i < r->nheaders; i++)
        if (cw_http_span_ieq(r, r->hdr[i].name, "sec-websocket-protocol") &&
            cw_http_has_token(r, r->hdr[i].value, name))
            return 1;
    return 0;
}

int cw_accept_subprotocol(cw_conn *c, const char *name)
{
    if (!cw_offers_subprotocol(c, name))
        return CW_ENOENT;
    c->subprotocol = name;
    return 0;
}

const char *cw_subprotocol(cw_conn *c)
{
    return c->subprotocol;
}

const char *cw_user_id(cw_conn *c)
{
    return c->auth_user ? c->auth_user->id : NULL;
}

const char *cw_user_name(cw_conn *c)
{
    return c->auth_user ? c->auth_user->name : NULL;
}

int cw_set_user(cw_conn *c, const char *id, const char *name)
{
    if (!id || !*id || strlen(id) >= CW_USER_ID_MAX)
        return CW_EINVAL;
    cw_auth_user *u = cw_auth_user_get(id, name);
    if (!u)
        return CW_ENOMEM;
    cw_auth_user_put(c->auth_user);
    c->auth_user = u;
    return 0;
}

long cw_peer_copy(cw_conn *c, char *out, size_t cap)
{
    char text[CW_PEER_BUF];
    cw_port_peer_format(&c->peer, text, sizeof text);
    return copy_out(out, cap, text, strlen(text));
}

const char *cw_peer(cw_conn *c)
{
    static char text[CW_PEER_BUF];
    cw_peer_copy(c, text, sizeof text);
    return text;
}
