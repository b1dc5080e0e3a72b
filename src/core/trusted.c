/* SPDX-License-Identifier: MIT */
/* trusted.c: the trusted-proxy table: which socket peers may say who the
 * client is. Prefix matching over at most CONFIG_TRUSTED_PROXIES entries,
 * compared as 16-byte addresses (IPv4 as v4-mapped IPv6). */
#include "core/trusted.h"
#include "chanwire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d */
    uint8_t bits;     /* prefix length over the 128 bits */
};

static struct entry table[CONFIG_TRUSTED_PROXIES];
static unsigned nentries;
static int unix_trusted;
int cw_trusted_header = CW_FWD_XFF;

static void mapped(const uint8_t v4[4], uint8_t out[16])
{
    memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    memcpy(out + 12, v4, 4);
}

int cw_trusted_add(const char *spec, char *err, size_t errlen)
{
    if (strcmp(spec, "unix") == 0) {
        unix_trusted = 1;
        return 0;
    }
    if (nentries >= (unsigned)CONFIG_TRUSTED_PROXIES) {
        snprintf(err, errlen, "--trusted-proxy %s: table full (CONFIG_TRUSTED_PROXIES=%d)", spec,
                 CONFIG_TRUSTED_PROXIES);
        return CW_ENOMEM;
    }
    const char *slash = strchr(spec, '/');
    size_t an = slash ? (size_t)(slash - spec) : strlen(spec);
    cw_ip ip;
    if (memchr(spec, ']', an) || memchr(spec, '[', an) || cw_ip_parse(spec, an, &ip) < 0 ||
        ip.port) {
        snprintf(err, errlen, "--trusted-proxy wants ADDR[/PREFIX] or unix, not '%s'", spec);
        return CW_EINVAL;
    }
    unsigned max = ip.family == 4 ? 32 : 128, bits = max;
    if (slash) {
        char *end;
        unsigned long v = strtoul(slash + 1, &end, 10);
        if (!slash[1] || *end || slash[1] == '-' || slash[1] == '+' || v > max) {
            snprintf(err, errlen, "--trusted-proxy %s: prefix must be 0..%u", spec, max);
            return CW_EINVAL;
        }
        bits = (unsigned)v;
    }
    struct entry *e = &table[nentries];
    if (ip.family == 4) {
        mapped(ip.addr, e->addr);
        bits += 96;
    } else {
        memcpy(e->addr, ip.addr, 16);
    }
    e->bits = (uint8_t)bits;
    /* Host bits cleared, so a match is a masked compare. */
    for (unsigned b = bits; b < 128; b++)
        e->addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
    nentries++;
    return 0;
}

void cw_trusted_clear(void)
{
    nentries = 0;
    unix_trusted = 0;
    cw_trusted_header = CW_FWD_XFF;
}

unsigned cw_trusted_count(void)
{
    return nentries + (unsigned)unix_trusted;
}

static int match16(const uint8_t a[16])
{
    for (unsigned i = 0; i < nentries; i++) {
        const struct entry *e = &table[i];
        unsigned full = e->bits / 8u, rest = e->bits % 8u;
        if (memcmp(a, e->addr, full) != 0)
            continue;
        if (rest && ((a[full] ^ e->addr[full]) & (uint8_t)(0xFF00u >> rest)))
            continue;
        return 1;
    }
    return 0;
}

static int match(unsigned family, const uint8_t *addr)
{
    uint8_t a[16];
    if (!nentries) /* the common case: no proxy in front, one test per accept */
        return 0;
    if (family == 4)
        mapped(addr, a);
    else if (family == 6)
        memcpy(a, addr, 16);
    else
        return 0;
    return match16(a);
}

int cw_trusted_peer(const cw_port_peer *p)
{
    if (p->family == CW_PORT_UNIX)
        return unix_trusted;
    return match(p->family, p->addr);
}

int cw_trusted_ip(const cw_ip *ip, void *ctx)
{
    (void)ctx;
    return match(ip->family, ip->addr);
}
