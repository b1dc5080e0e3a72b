/* SPDX-License-Identifier: MIT */
/* proxy_hdr.c: the client address a proxy hands on: PROXY protocol v1/v2
 * headers (haproxy.org's proxy-protocol.txt), X-Forwarded-For lists and
 * RFC 7239 Forwarded elements. Every loop is bounded by its input, and
 * an address is copied only into fixed local buffers. */
#include "proto/proxy_hdr.h"
#include "proto/http.h"

#include <arpa/inet.h>
#include <string.h>

static const uint8_t v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                   0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
#define V1_MAX 107 /* "PROXY TCP6 " + two addresses, two ports, CRLF */

/* ---- addresses ---- */

/* Dotted IPv4, four decimal parts without leading zeros. */
static int parse_v4(const char *s, size_t n, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i] != '.')
                return -1;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
            return -1;
        out[part] = (uint8_t)v;
    }
    return i == n ? 0 : -1;
}

static int parse_v6(const char *s, size_t n, uint8_t out[16])
{
    char buf[46]; /* INET6_ADDRSTRLEN */
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

static int parse_port(const char *s, size_t n, uint16_t *port)
{
    unsigned v = 0;
    if (n == 0 || n > 5)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

int cw_ip_parse(const char *s, size_t n, cw_ip *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return -1;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return -1;
        size_t in = (size_t)(close - s) - 1, after = n - in - 2;
        if (parse_v6(s + 1, in, out->addr) < 0)
            return -1;
        if (after && (close[1] != ':' || parse_port(close + 2, after - 1, &out->port) < 0))
            return -1;
        out->family = 6;
        return 0;
    }
    size_t colons = 0, last = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ':') {
            colons++;
            last = i;
        }
    if (colons >= 2) {
        if (parse_v6(s, n, out->addr) < 0)
            return -1;
        out->family = 6;
        return 0;
    }
    size_t an = colons ? last : n;
    if (parse_v4(s, an, out->addr) < 0)
        return -1;
    if (colons && parse_port(s + last + 1, n - last - 1, &out->port) < 0)
        return -1;
    out->family = 4;
    return 0;
}

/* ---- PROXY protocol ---- */

/* The next space-separated field of line[*i..n). */
static int field(const char *line, size_t n, size_t *i, const char **f, size_t *fn)
{
    size_t s = *i;
    while (*i < n && line[*i] != ' ')
        (*i)++;
    if (*i == s)
        return -1;
    *f = line + s;
    *fn = *i - s;
    if (*i < n)
        (*i)++; /* the one space */
    return 0;
}

static int parse_v1(const uint8_t *p, size_t n, cw_ip *out, size_t *used, const char **why)
{
    size_t lim = n < V1_MAX ? n : V1_MAX, e = 0;
    while (e + 1 < lim && !(p[e] == '\r' && p[e + 1] == '\n'))
        e++;
    if (e + 1 >= lim) {
        if (n < V1_MAX)
            return CW_PROXY_MORE;
        *why = "PROXY v1 line longer than 107 bytes";
        return CW_PROXY_BAD;
    }
    const char *line = (const char *)p, *f;
    size_t i = 6, fn; /* after "PROXY " */
    *used = e + 2;
    if (field(line, e, &i, &f, &fn) < 0) {
        *why = "PROXY v1 without a protocol";
        return CW_PROXY_BAD;
    }
    if (fn == 7 && memcmp(f, "UNKNOWN", 7) == 0)
        return CW_PROXY_DONE; /* the rest is to be ignored */
    int fam = fn == 4 && memcmp(f, "TCP4", 4) == 0   ? 4
              : fn == 4 && memcmp(f, "TCP6", 4) == 0 ? 6
                                                     : 0;
    if (!fam) {
        *why = "PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN";
        return CW_PROXY_BAD;
    }
    const char *src, *dst, *sp, *dp;
    size_t srcn, dstn, spn, dpn;
    cw_ip d;
    uint16_t dport;
    if (field(line, e, &i, &src, &srcn) < 0 || field(line, e, &i, &dst, &dstn) < 0 ||
        field(line, e, &i, &sp, &spn) < 0 || field(line, e, &i, &dp, &dpn) < 0 || i != e ||
        line[e - 1] == ' ') {
        *why = "PROXY v1 wants four fields after the protocol";
        return CW_PROXY_BAD;
    }
    int bad = fam == 4 ? parse_v4(src, srcn, out->addr) < 0 || parse_v4(dst, dstn, d.addr) < 0
                       : parse_v6(src, srcn, out->addr) < 0 || parse_v6(dst, dstn, d.addr) < 0;
    if (bad || parse_port(sp, spn, &out->port) < 0 || parse_port(dp, dpn, &dport) < 0) {
        *why = "PROXY v1 address or port does not parse";
        return CW_PROXY_BAD;
    }
    out->family = (uint8_t)fam;
    return CW_PROXY_DONE;
}

static int parse_v2(const uint8_t *p, size_t n, cw_ip *out, size_t *used, const char **why)
{
    if (n < 16)
        return CW_PROXY_MORE;
    size_t len = (size_t)p[14] << 8 | p[15], total = 16 + len;
    if ((p[12] >> 4) != 2) {
        *why = "PROXY v2 version is not 2";
        return CW_PROXY_BAD;
    }
    unsigned cmd = p[12] & 15, af = p[13] >> 4, proto = p[13] & 15;
    if (cmd > 1) {
        *why = "PROXY v2 command is neither LOCAL nor PROXY";
        return CW_PROXY_BAD;
    }
    if (total > CW_PROXY_HDR_MAX) {
        *why = "PROXY v2 header longer than 536 bytes";
        return CW_PROXY_BAD;
    }
    if (n < total)
        return CW_PROXY_MORE;
    *used = total;
    if (cmd == 0 || af == 0 || af == 3)
        return CW_PROXY_DONE; /* LOCAL, UNSPEC, UNIX: the socket's own address */
    if (af > 3 || proto != 1) {
        *why = "PROXY v2 family or transport is not a stream over IPv4 or IPv6";
        return CW_PROXY_BAD;
    }
    size_t need = af == 1 ? 12 : 36, alen = af == 1 ? 4 : 16;
    if (len < need) {
        *why = "PROXY v2 address block too short";
        return CW_PROXY_BAD;
    }
    memcpy(out->addr, p + 16, alen);
    out->port = (uint16_t)(p[16 + 2 * alen] << 8 | p[16 + 2 * alen + 1]);
    out->family = af == 1 ? 4 : 6;
    return CW_PROXY_DONE;
}

int cw_proxy_hdr_parse(const uint8_t *p, size_t n, cw_ip *out, size_t *used, const char **why)
{
    memset(out, 0, sizeof *out);
    *used = 0;
    *why = NULL;
    if (n == 0)
        return CW_PROXY_MORE;
    if (p[0] == 'P') {
        size_t k = n < 6 ? n : 6;
        if (memcmp(p, "PROXY ", k) != 0)
            goto none;
        return n < 6 ? CW_PROXY_MORE : parse_v1(p, n, out, used, why);
    }
    if (p[0] == 0x0D) {
        size_t k = n < 12 ? n : 12;
        if (memcmp(p, v2_sig, k) != 0)
            goto none;
        return parse_v2(p, n, out, used, why);
    }
none:
    *why = "no PROXY protocol header";
    return CW_PROXY_BAD;
}

/* ---- X-Forwarded-For and Forwarded ---- */

void cw_fwd_init(cw_fwd *f)
{
    memset(f, 0, sizeof *f);
}

static void hop(cw_fwd *f, const cw_ip *ip, cw_ip_trusted_fn trusted, void *ctx)
{
    if (!f->have_first) {
        f->first = *ip;
        f->have_first = 1;
    }
    if (ip->family == 0 || !trusted(ip, ctx)) {
        f->client = *ip;
        f->have_client = 1;
    }
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void xff_line(cw_fwd *f, const char *v, size_t n, cw_ip_trusted_fn trusted, void *ctx)
{
    size_t i = 0;
    while (i < n) {
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        if (i < n)
            i++; /* the comma */
        while (s < e && is_ows(v[s]))
            s++;
        while (e > s && is_ows(v[e - 1]))
            e--;
        if (s == e)
            continue; /* an empty list element */
        cw_ip ip;
        if (cw_ip_parse(v + s, e - s, &ip) < 0)
            memset(&ip, 0, sizeof ip); /* not an address: an unknown hop */
        hop(f, &ip, trusted, ctx);
    }
}

/* A for= node (RFC 7239 section 6): an address, "unknown", or an
 * obfuscated name ("_" and ALPHA / DIGIT / "." / "_" / "-"), either with
 * an optional port. -1 when it is none of these. */
static int fwd_node(const char *w, size_t m, cw_ip *ip)
{
    memset(ip, 0, sizeof *ip);
    static const char unknown[] = "unknown"; /* ABNF strings: any case */
    size_t k = 0;
    while (k < 7 && m == 7 && (w[k] | 0x20) == unknown[k])
        k++;
    if (k == 7)
        return 0;
    size_t name_end = m;
    if (w[0] != '[') {
        const char *colon = memchr(w, ':', m);
        if (colon)
            name_end = (size_t)(colon - w);
    }
    if (w[0] == '_') {
        for (size_t i = 1; i < name_end; i++) {
            char c = w[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-'))
                return -1;
        }
        return 0;
    }
    if (cw_ip_parse(w, m, ip) == 0)
        return 0;
    /* An address with an obfuscated port ("1.2.3.4:_x", "[::1]:_x"). */
    const char *colon = w[0] == '[' ? memchr(w, ']', m) : w + name_end;
    if (colon && w[0] == '[')
        colon++;
    if (colon && (size_t)(colon - w) + 2 <= m && colon[0] == ':' && colon[1] == '_')
        return cw_ip_parse(w, (size_t)(colon - w), ip);
    return -1;
}

static int fwd_line(cw_fwd *f, const char *v, size_t n, cw_ip_trusted_fn trusted, void *ctx,
                    const char **why)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && is_ows(v[i]))
            i++;
        if (i < n && v[i] == ',') {
            i++; /* an empty list element */
            continue;
        }
        if (i == n)
            break;
        int have_for = 0;
        cw_ip node;
        memset(&node, 0, sizeof node);
        /* The pairs of one element, up to its comma. */
        while (i < n && v[i] != ',') {
            if (v[i] == ';' || is_ows(v[i])) {
                i++;
                continue;
            }
            size_t ns = i;
            while (i < n && cw_http_is_tchar((unsigned char)v[i]))
                i++;
            size_t nn = i - ns;
            if (nn == 0 || i == n || v[i] != '=') {
                *why = "Forwarded pair is not name=value";
                return -1;
            }
            i++;
            char w[64];
            size_t m = 0;
            int toolong = 0;
            if (i < n && v[i] == '"') {
                i++;
                for (;;) {
                    if (i == n) {
                        *why = "Forwarded quoted string not closed";
                        return -1;
                    }
                    unsigned char c = (unsigned char)v[i++];
                    if (c == '"')
                        break;
                    if (c == '\\') {
                        if (i == n) {
                            *why = "Forwarded quoted string not closed";
                            return -1;
                        }
                        c = (unsigned char)v[i++];
                    }
                    if ((c < 0x20 && c != '\t') || c == 0x7F) {
                        *why = "Forwarded value has a control byte";
                        return -1;
                    }
                    if (m < sizeof w)
                        w[m++] = (char)c;
                    else
                        toolong = 1;
                }
            } else {
                while (i < n && cw_http_is_tchar((unsigned char)v[i])) {
                    if (m < sizeof w)
                        w[m++] = v[i];
                    else
                        toolong = 1;
                    i++;
                }
                if (m == 0) {
                    *why = "Forwarded value is empty";
                    return -1;
                }
            }
            if (nn == 3 && (v[ns] | 0x20) == 'f' && (v[ns + 1] | 0x20) == 'o' &&
                (v[ns + 2] | 0x20) == 'r') {
                if (have_for) {
                    *why = "Forwarded element has two for= pairs";
                    return -1;
                }
                have_for = 1;
                if (toolong || m == 0 || fwd_node(w, m, &node) < 0) {
                    *why = "Forwarded for= is not an address, unknown or an obfuscated name";
                    return -1;
                }
            }
            while (i < n && is_ows(v[i]))
                i++;
            if (i < n && v[i] != ';' && v[i] != ',') {
                *why = "Forwarded pairs must be separated by ';'";
                return -1;
            }
        }
        if (have_for)
            hop(f, &node, trusted, ctx);
        if (i < n)
            i++; /* the comma */
    }
    return 0;
}

int cw_fwd_line(cw_fwd *f, int kind, const char *v, size_t n, cw_ip_trusted_fn trusted,
                void *ctx, const char **why)
{
    *why = NULL;
    if (kind == CW_FWD_RFC7239)
        return fwd_line(f, v, n, trusted, ctx, why);
    xff_line(f, v, n, trusted, ctx);
    return 0;
}

int cw_fwd_result(const cw_fwd *f, cw_ip *out)
{
    const cw_ip *ip = f->have_client ? &f->client : f->have_first ? &f->first : NULL;
    if (!ip || ip->family == 0)
        return 0;
    *out = *ip;
    return 1;
}
