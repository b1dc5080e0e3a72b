/* SPDX-License-Identifier: MIT */
/* trusted.h: the trusted-proxy table (--trusted-proxy ADDR[/PREFIX], and
 * "unix" for peers on UNIX-socket listeners) and the header the client
 * address is taken from. A bounded static table of CONFIG_TRUSTED_PROXIES
 * prefixes; filled before the loop runs, read on every connection. */
#ifndef CW_TRUSTED_H
#define CW_TRUSTED_H

#include "cw_config.h"
#include "port.h"
#include "proto/proxy_hdr.h"

#if defined(CONFIG_PROXY_HEADERS)
#ifndef CONFIG_TRUSTED_PROXIES
#define CONFIG_TRUSTED_PROXIES 8
#endif

/* Adds "ADDR", "ADDR/PREFIX" (IPv4 or IPv6) or "unix". 0, or CW_EINVAL /
 * CW_ENOMEM (table full) with a one-line reason in err. */
int cw_trusted_add(const char *spec, char *err, size_t errlen);
/* Empties the table (tests). */
void cw_trusted_clear(void);
/* 1 when the socket peer (or an address a proxy gave) is a trusted proxy:
 * a v4-mapped IPv6 address matches as its IPv4 address. */
int cw_trusted_peer(const cw_port_peer *p);
int cw_trusted_ip(const cw_ip *ip, void *ctx); /* a cw_ip_trusted_fn */
/* Entries in the table (the "unix" entry included). */
unsigned cw_trusted_count(void);
/* The request header read from trusted peers: CW_FWD_XFF (default),
 * CW_FWD_RFC7239, or -1 for none (PROXY headers only). */
extern int cw_trusted_header;
#else
/* Built without (CONFIG_PROXY_HEADERS=n): nobody is trusted. */
static inline int cw_trusted_peer(const cw_port_peer *p)
{
    (void)p;
    return 0;
}
static inline unsigned cw_trusted_count(void) { return 0; }
#endif

#endif
