/* SPDX-License-Identifier: MIT */
/* fuzz_proxy_hdr.c: PROXY protocol headers, X-Forwarded-For and Forwarded
 * (src/proto/proxy_hdr.c). The first byte picks the parser. Oracles: a
 * header takes at most what it was given and at most 536 bytes; "more" is
 * never said of 536 bytes or more; every prefix of a header that parsed
 * asks for more (or is already bad the same way, never done); an address
 * found is IPv4 or IPv6; the forwarded parsers always end. */
#include "fuzz.h"

#include "proto/proxy_hdr.h"

#include <string.h>

/* Hops in 10.0.0.0/8 are the trusted proxies here. */
static int trusted(const cw_ip *ip, void *ctx)
{
    (void)ctx;
    return ip->family == 4 && ip->addr[0] == 10;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    cw_ip ip;
    const char *why;
    if (data[0] % 3 == 0) {
        size_t used;
        int st = cw_proxy_hdr_parse(p, n, &ip, &used, &why);
        FUZZ_ASSERT(st == CW_PROXY_MORE || st == CW_PROXY_DONE || st == CW_PROXY_BAD);
        if (st == CW_PROXY_MORE)
            FUZZ_ASSERT(n < CW_PROXY_HDR_MAX);
        if (st == CW_PROXY_BAD)
            FUZZ_ASSERT(why && *why);
        if (st == CW_PROXY_DONE) {
            FUZZ_ASSERT(used > 0 && used <= n && used <= CW_PROXY_HDR_MAX);
            FUZZ_ASSERT(ip.family == 0 || ip.family == 4 || ip.family == 6);
            for (size_t k = 0; k < used; k++) {
                cw_ip j;
                size_t u;
                FUZZ_ASSERT(cw_proxy_hdr_parse(p, k, &j, &u, &why) != CW_PROXY_DONE);
            }
            /* The same header followed by anything: the same answer. */
            cw_ip again;
            size_t u2;
            FUZZ_ASSERT(cw_proxy_hdr_parse(p, used, &again, &u2, &why) == CW_PROXY_DONE);
            FUZZ_ASSERT(u2 == used && memcmp(&again, &ip, sizeof ip) == 0);
        }
        return 0;
    }
    int kind = data[0] % 3 == 1 ? CW_FWD_XFF : CW_FWD_RFC7239;
    cw_fwd f;
    cw_fwd_init(&f);
    size_t s = 0;
    while (s <= n) {
        size_t e = s;
        while (e < n && p[e] != '\n')
            e++;
        if (cw_fwd_line(&f, kind, (const char *)p + s, e - s, trusted, NULL, &why) < 0) {
            FUZZ_ASSERT(kind == CW_FWD_RFC7239 && why && *why);
            return 0;
        }
        s = e + 1;
    }
    if (cw_fwd_result(&f, &ip))
        FUZZ_ASSERT(ip.family == 4 || ip.family == 6);
    /* An address alone parses the same as an XFF line of one. */
    if (n < 64 && cw_ip_parse((const char *)p, n, &ip) == 0)
        FUZZ_ASSERT(ip.family == 4 || ip.family == 6);
    return 0;
}
