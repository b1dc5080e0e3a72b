/* SPDX-License-Identifier: MIT */
/* auth.c: Origin matching, the Host allow-list, token lookup and shared
 * user records. */
#include "core/auth.h"
#include "cw_config.h"
#include "base/pool.h"

#include <string.h>

CW_POOL_STORAGE(user_store, sizeof(cw_auth_user), CONFIG_MAX_USERS);
static cw_pool user_pool;

static int ieq_n(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (char)(y + 32);
        if (x != y)
            return 0;
    }
    return 1;
}

/* The host part of "host", "host:port", "[v6]" or "[v6]:port". */
static size_t host_len(const char *h, size_t n)
{
    if (n > 0 && h[0] == '[') {
        const char *close = memchr(h, ']', n);
        return close ? (size_t)(close - h + 1) : n;
    }
    const char *colon = memchr(h, ':', n);
    return colon ? (size_t)(colon - h) : n;
}

int cw_auth_origin_allowed(const cw_http_req *r, const char *const *allow, size_t nallow)
{
    int i = cw_http_find(r, "origin", NULL);
    if (i < 0)
        return 1; /* not a browser: nothing to hijack */
    const char *o = r->data + r->hdr[i].value.off;
    size_t on = r->hdr[i].value.len;
    for (size_t k = 0; k < nallow; k++) {
        size_t al = strlen(allow[k]);
        if (strcmp(allow[k], "*") == 0 || (al == on && ieq_n(allow[k], o, on)))
            return 1;
    }
    if (on > 7 && ieq_n(o, "http://", 7)) {
        o += 7;
        on -= 7;
    } else if (on > 8 && ieq_n(o, "https://", 8)) {
        o += 8;
        on -= 8;
    } else {
        return 0; /* "null", file://, ... */
    }
    if (memchr(o, '/', on))
        return 0; /* an origin has no path */
    int h = cw_http_find(r, "host", NULL);
    if (h < 0)
        return 0;
    /* Host names are compared, ports are not: like Channels' check against
     * ALLOWED_HOSTS, a page served on port 80 may open a socket on 8080. */
    const char *host = r->data + r->hdr[h].value.off;
    size_t hn = host_len(host, r->hdr[h].value.len);
    on = host_len(o, on);
    return on > 0 && on == hn && ieq_n(o, host, on);
}

#if defined(CONFIG_HOST_CHECK)
/* Dotted-decimal IPv4 as browsers write it: four numbers 0..255, no
 * leading zeros ("127.1" and "0x7f.0.0.1" are names here, and unlisted). */
static int is_ipv4(const char *h, size_t n)
{
    unsigned parts = 0, val = 0, digits = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || h[i] == '.') {
            if (digits == 0 || val > 255 || parts == 4)
                return 0;
            parts++;
            val = digits = 0;
        } else if (h[i] >= '0' && h[i] <= '9' && digits < 3 && !(digits > 0 && val == 0)) {
            val = val * 10 + (unsigned)(h[i] - '0');
            digits++;
        } else {
            return 0;
        }
    }
    return parts == 4;
}

/* The inside of "[...]": hex digits, ':' and '.', two colons at least (as
 * every IPv6 address has), 45 characters at most. No zone ("%25eth0"). */
static int is_ipv6(const char *h, size_t n)
{
    unsigned colons = 0;
    if (n > 45)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (h[i] == ':')
            colons++;
        else if (h[i] != '.' && cw_http_hexval((unsigned char)h[i]) < 0)
            return 0;
    }
    return colons >= 2;
}

static int is_name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_';
}

/* Django's is_same_domain: "name" matches itself, ".example.com" matches
 * example.com and anything ending in ".example.com". Case-insensitive; a
 * trailing dot of the entry is ignored (h has had its own removed). */
static int host_matches(const char *h, size_t hn, const char *e)
{
    size_t el = strlen(e);
    if (el > 0 && e[el - 1] == '.')
        el--;
    if (el == 0 || (e[0] == '.' && el == 1))
        return 0;
    if (e[0] != '.')
        return hn == el && ieq_n(h, e, el);
    if (hn == el - 1 && ieq_n(h, e + 1, hn))
        return 1;
    return hn > el && ieq_n(h + hn - el, e, el);
}

int cw_auth_host_allowed(const cw_http_req *r, const char *const *allow, size_t nallow)
{
    if (nallow == 0)
        return 1;
    for (size_t k = 0; k < nallow; k++)
        if (strcmp(allow[k], "*") == 0)
            return 1;
    int count, i = cw_http_find(r, "host", &count);
    if (count > 1)
        return 0; /* which one would a proxy in front have used? */
    if (i < 0)
        return r->version < 11; /* HTTP/1.1 must name a host (RFC 9112 3.2) */
    const char *h = r->data + r->hdr[i].value.off;
    size_t n = r->hdr[i].value.len, hn = host_len(h, n);
    if (hn < n) {
        /* ":port", digits only (no userinfo, path or second colon) */
        if (h[hn] != ':')
            return 0;
        for (size_t j = hn + 1; j < n; j++)
            if (h[j] < '0' || h[j] > '9')
                return 0;
    }
    if (hn > 0 && h[0] == '[')
        return hn >= 2 && h[hn - 1] == ']' && is_ipv6(h + 1, hn - 2);
    if (hn > 0 && h[hn - 1] == '.')
        hn--; /* "router.lan." is the absolute form of "router.lan" */
    if (hn == 0)
        return 0;
    for (size_t j = 0; j < hn; j++)
        if (!is_name_char(h[j]))
            return 0;
    if (is_ipv4(h, hn))
        return 1; /* a browser that sends an address resolved no name */
    for (size_t k = 0; k < nallow; k++)
        if (host_matches(h, hn, allow[k]))
            return 1;
    return 0;
}

static int is_sep(char ch)
{
    return ch == ' ' || ch == '\t' || ch == ',';
}

size_t cw_auth_split_hosts(char *s, const char **out, size_t max)
{
    size_t n = 0;
    while (*s && n < max) { /* each pass moves s on: bounded by strlen */
        if (is_sep(*s)) {
            s++;
            continue;
        }
        out[n++] = s;
        while (*s && !is_sep(*s))
            s++;
        if (*s)
            *s++ = 0;
    }
    return n;
}
#endif /* CONFIG_HOST_CHECK */

const char *cw_auth_find_token(const cw_http_req *r, const char *cookie, const char *param)
{
    const char *a = cw_http_header_value(r, "authorization");
    if (a && strlen(a) > 7 && ieq_n(a, "bearer ", 7)) {
        a += 7;
        while (*a == ' ')
            a++;
        if (*a)
            return a;
    }
    const char *t;
    if (cookie && (t = cw_http_cookie(r, cookie)) != NULL && *t)
        return t;
    if (param && (t = cw_http_param(r, param)) != NULL && *t)
        return t;
    return NULL;
}

void cw_auth_users_init(unsigned max)
{
    cw_pool_init(&user_pool, "user", user_store, sizeof(cw_auth_user), CONFIG_MAX_USERS);
    if (max && max < CONFIG_MAX_USERS)
        user_pool.limit = max;
}

cw_auth_user *cw_auth_user_get(const char *id, const char *name)
{
    /* Tabs of one user share a record: a linear scan of the records ever
     * used is fine for a once-per-connection event. */
    for (uint32_t i = 0; i < user_pool.bump; i++) {
        cw_auth_user *u = (cw_auth_user *)(void *)(user_pool.base + (size_t)i * user_pool.block_size);
        if (u->refs && strcmp(u->id, id) == 0) {
            u->refs++;
            if (name && *name)
                strncpy(u->name, name, sizeof u->name - 1);
            return u;
        }
    }
    cw_auth_user *u = cw_pool_get(&user_pool);
    if (!u)
        return NULL;
    memset(u, 0, sizeof *u);
    u->refs = 1;
    strncpy(u->id, id, sizeof u->id - 1);
    if (name)
        strncpy(u->name, name, sizeof u->name - 1);
    return u;
}

void cw_auth_user_put(cw_auth_user *u)
{
    if (u && --u->refs == 0)
        cw_pool_put(&user_pool, u); /* refs stays 0: the link overlays id */
}

unsigned cw_auth_users_in_use(void)
{
    return user_pool.used;
}
