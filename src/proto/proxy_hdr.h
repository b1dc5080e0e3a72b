/* SPDX-License-Identifier: MIT */
/* proxy_hdr.h: what a proxy says about the client behind it: the PROXY
 * protocol header (v1 text, v2 binary) that opens a connection, and the
 * X-Forwarded-For and Forwarded (RFC 7239) request headers. Pure codecs
 * over caller buffers: bounded, no allocation, no socket. */
#ifndef CW_PROXY_HDR_H
#define CW_PROXY_HDR_H

#include <stddef.h>
#include <stdint.h>

/* A client address: family 4 (addr[0..4)), 6 (addr[0..16)), or 0 for
 * "unknown" (the proxy gave none, or one that is not an IP address). */
typedef struct {
    uint8_t addr[16];
    uint16_t port;
    uint8_t family;
} cw_ip;

/* The longest PROXY header taken (v1 is at most 107 bytes; v2 with its
 * TLVs must fit this, the size the PROXY protocol spec says fits one
 * segment). */
#define CW_PROXY_HDR_MAX 536

enum {
    CW_PROXY_MORE = 0,  /* incomplete: call again with more bytes */
    CW_PROXY_DONE = 1,  /* *used bytes were the header; *out is the client
                         * (family 0: LOCAL / UNKNOWN, keep the socket's) */
    CW_PROXY_BAD = -1   /* not a valid PROXY header: *why says what */
};

/* Parses the PROXY header at the start of p[0..n). */
int cw_proxy_hdr_parse(const uint8_t *p, size_t n, cw_ip *out, size_t *used, const char **why);

/* One address as the headers write it: "1.2.3.4", "1.2.3.4:80", "::1",
 * "[::1]", "[::1]:80". 0, or -1 when s[0..n) is not one. */
int cw_ip_parse(const char *s, size_t n, cw_ip *out);

/* 1 when the hop at ip is a trusted proxy (ctx: the caller's). */
typedef int (*cw_ip_trusted_fn)(const cw_ip *ip, void *ctx);

/* The client behind a chain of proxies, from the header lines in the
 * order they came (cw_fwd_line for each line, then cw_fwd_result): the
 * rightmost hop that is not a trusted proxy, or the leftmost when every
 * hop is trusted. */
typedef struct {
    cw_ip client;        /* the last untrusted hop so far (family 0: unknown) */
    cw_ip first;         /* the leftmost hop */
    uint8_t have_client, have_first;
} cw_fwd;

enum { CW_FWD_XFF = 0, CW_FWD_RFC7239 = 1 };

void cw_fwd_init(cw_fwd *f);
/* One header line's value v[0..n): kind CW_FWD_XFF (comma-separated
 * addresses; one that is not an address is an unknown hop) or
 * CW_FWD_RFC7239 (elements of pairs; for= gives the hop). 0, or -1 with
 * *why when a Forwarded line does not parse. */
int cw_fwd_line(cw_fwd *f, int kind, const char *v, size_t n, cw_ip_trusted_fn trusted,
                void *ctx, const char **why);
/* 1 with *out the client's address; 0 when the headers named no hop, or
 * the client's hop is unknown (the connection keeps its peer's address). */
int cw_fwd_result(const cw_fwd *f, cw_ip *out);

#endif
