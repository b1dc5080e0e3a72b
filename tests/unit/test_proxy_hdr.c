/* SPDX-License-Identifier: MIT */
/* test_proxy_hdr.c: what proxies say about the client (src/proto/proxy_hdr.c)
 * and whom we believe (src/core/trusted.c): PROXY v1 and v2 headers whole,
 * cut at every byte, and malformed; addresses with and without ports;
 * X-Forwarded-For and RFC 7239 Forwarded chains, rightmost untrusted hop;
 * the trusted-prefix table; UNIX peers as one address in the share table. */
#include "chanwire.h"
#include "core/trusted.h"
#include "proto/proxy_hdr.h"
#include "unit.h"
#if defined(CONFIG_FAIR_SHARES)
#include "core/share.h"
#endif

#include <string.h>

static int parse_all(const char *s, size_t n, cw_ip *ip, size_t *used, const char **why)
{
    return cw_proxy_hdr_parse((const uint8_t *)s, n, ip, used, why);
}

static int is_v4(const cw_ip *ip, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    return ip->family == 4 && ip->addr[0] == a && ip->addr[1] == b && ip->addr[2] == c &&
           ip->addr[3] == d;
}

static void test_v1(void)
{
    static const char h[] = "PROXY TCP4 192.168.1.20 10.0.0.1 56324 443\r\nGET / HTTP/1.1\r\n";
    size_t hl = strlen("PROXY TCP4 192.168.1.20 10.0.0.1 56324 443\r\n"), used;
    cw_ip ip;
    const char *why;
    CHECK_EQ(parse_all(h, sizeof h - 1, &ip, &used, &why), CW_PROXY_DONE);
    CHECK_EQ(used, hl);
    CHECK(is_v4(&ip, 192, 168, 1, 20));
    CHECK_EQ(ip.port, 56324);
    /* Cut anywhere before its end: more is needed, never a verdict. */
    for (size_t n = 0; n < hl; n++)
        CHECK_EQ(parse_all(h, n, &ip, &used, &why), CW_PROXY_MORE);
    static const char h6[] = "PROXY TCP6 2001:db8::7 ::1 1 65535\r\n";
    CHECK_EQ(parse_all(h6, sizeof h6 - 1, &ip, &used, &why), CW_PROXY_DONE);
    CHECK_EQ(ip.family, 6);
    CHECK_EQ(ip.addr[0], 0x20);
    CHECK_EQ(ip.addr[15], 7);
    CHECK_EQ(ip.port, 1);
    static const char unk[] = "PROXY UNKNOWN ffff::1 whatever\r\n";
    CHECK_EQ(parse_all(unk, sizeof unk - 1, &ip, &used, &why), CW_PROXY_DONE);
    CHECK_EQ(ip.family, 0);
    CHECK_EQ(used, sizeof unk - 1);
    static const char unk2[] = "PROXY UNKNOWN\r\n";
    CHECK_EQ(parse_all(unk2, sizeof unk2 - 1, &ip, &used, &why), CW_PROXY_DONE);
}

static void test_v1_bad(void)
{
    static const char *const bad[] = {
        "GET / HTTP/1.1\r\n\r\n",
        "PROXY\r\n",
        "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
        "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
        "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",
        "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",
        "PROXY TCP4 ::1 5.6.7.8 1 2\r\n",
        "PROXY TCP6 1.2.3.4 ::1 1 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
        "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
        "PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cw_ip ip;
        size_t used;
        const char *why = NULL;
        int st = parse_all(bad[i], strlen(bad[i]), &ip, &used, &why);
        if (st == CW_PROXY_MORE) /* the LF-only line: no CRLF yet, but padded it is bad */
            CHECK(strlen(bad[i]) < 107);
        else
            CHECK(st == CW_PROXY_BAD && why && *why);
    }
    /* No CRLF within 107 bytes: bad, whatever follows. */
    char longl[200];
    memset(longl, '1', sizeof longl);
    memcpy(longl, "PROXY TCP4 ", 11);
    cw_ip ip;
    size_t used;
    const char *why;
    CHECK_EQ(parse_all(longl, sizeof longl, &ip, &used, &why), CW_PROXY_BAD);
    CHECK_EQ(parse_all(longl, 106, &ip, &used, &why), CW_PROXY_MORE);
    CHECK_EQ(parse_all(longl, 107, &ip, &used, &why), CW_PROXY_BAD);
}

static size_t v2(uint8_t *out, unsigned ver_cmd, unsigned fam, const uint8_t *body, size_t blen)
{
    static const uint8_t sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                    0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    memcpy(out, sig, 12);
    out[12] = (uint8_t)ver_cmd;
    out[13] = (uint8_t)fam;
    out[14] = (uint8_t)(blen >> 8);
    out[15] = (uint8_t)blen;
    if (blen)
        memcpy(out + 16, body, blen);
    return 16 + blen;
}

static void test_v2(void)
{
    uint8_t b[700], body[600];
    cw_ip ip;
    size_t used;
    const char *why;
    /* IPv4 over TCP with a TLV after the addresses. */
    static const uint8_t a4[] = {203, 0, 113, 9, 10, 0, 0, 1, 0xC3, 0x50, 0x01, 0xBB,
                                 0x04, 0x00, 0x01, 0x7F};
    size_t n = v2(b, 0x21, 0x11, a4, sizeof a4);
    CHECK_EQ(cw_proxy_hdr_parse(b, n, &ip, &used, &why), CW_PROXY_DONE);
    CHECK_EQ(used, n);
    CHECK(is_v4(&ip, 203, 0, 113, 9));
    CHECK_EQ(ip.port, 50000);
    for (size_t k = 0; k < n; k++)
        CHECK_EQ(cw_proxy_hdr_parse(b, k, &ip, &used, &why), CW_PROXY_MORE);
    /* IPv6. */
    memset(body, 0, 36);
    body[0] = 0x20, body[1] = 0x01, body[15] = 0x42, body[32] = 0x12, body[33] = 0x34;
    n = v2(b, 0x21, 0x21, body, 36);
    CHECK_EQ(cw_proxy_hdr_parse(b, n, &ip, &used, &why), CW_PROXY_DONE);
    CHECK_EQ(ip.family, 6);
    CHECK_EQ(ip.addr[15], 0x42);
    CHECK_EQ(ip.port, 0x1234);
    /* LOCAL (a health check): no address, the socket's stays. */
    n = v2(b, 0x20, 0x00, NULL, 0);
    CHECK_EQ(cw_proxy_hdr_parse(b, n, &ip, &used, &why), CW_PROXY_DONE);
    CHECK_EQ(ip.family, 0);
    CHECK_EQ(used, 16);
    /* UNIX addresses: no IP to take. */
    memset(body, 0, 216);
    n = v2(b, 0x21, 0x31, body, 216);
    CHECK_EQ(cw_proxy_hdr_parse(b, n, &ip, &used, &why), CW_PROXY_DONE);
    CHECK_EQ(ip.family, 0);
    /* The bad ones. */
    n = v2(b, 0x11, 0x11, a4, 12);
    CHECK_EQ(cw_proxy_hdr_parse(b, n, &ip, &used, &why), CW_PROXY_BAD); /* version 1 */
    n = v2(b, 0x22, 0x11, a4, 12);
    CHECK_EQ(cw_proxy_hdr_parse(b, n, &ip, &used, &why), CW_PROXY_BAD); /* command 2 */
    n = v2(b, 0x21, 0x11, a4, 11);
    CHECK_EQ(cw_proxy_hdr_parse(b, n, &ip, &used, &why), CW_PROXY_BAD); /* too short */
    n = v2(b, 0x21, 0x12, a4, 12);
    CHECK_EQ(cw_proxy_hdr_parse(b, n, &ip, &used, &why), CW_PROXY_BAD); /* datagram */
    n = v2(b, 0x21, 0x41, a4, 12);
    CHECK_EQ(cw_proxy_hdr_parse(b, n, &ip, &used, &why), CW_PROXY_BAD); /* family 4 */
    n = v2(b, 0x21, 0x11, body, 521);
    CHECK_EQ(cw_proxy_hdr_parse(b, n, &ip, &used, &why), CW_PROXY_BAD); /* 537 bytes */
    CHECK_EQ(cw_proxy_hdr_parse(b, 16, &ip, &used, &why), CW_PROXY_BAD); /* said at once */
    n = v2(b, 0x21, 0x11, body, 520);
    CHECK_EQ(cw_proxy_hdr_parse(b, n, &ip, &used, &why), CW_PROXY_DONE); /* 536: fits */
    b[5] = 0x0C; /* a damaged signature */
    CHECK_EQ(cw_proxy_hdr_parse(b, 8, &ip, &used, &why), CW_PROXY_BAD);
}

static void test_ip_parse(void)
{
    cw_ip ip;
    CHECK_EQ(cw_ip_parse("1.2.3.4", 7, &ip), 0);
    CHECK(is_v4(&ip, 1, 2, 3, 4));
    CHECK_EQ(cw_ip_parse("1.2.3.4:8080", 12, &ip), 0);
    CHECK_EQ(ip.port, 8080);
    CHECK_EQ(cw_ip_parse("::1", 3, &ip), 0);
    CHECK_EQ(ip.family, 6);
    CHECK_EQ(cw_ip_parse("[::1]", 5, &ip), 0);
    CHECK_EQ(cw_ip_parse("[2001:db8::1]:443", 17, &ip), 0);
    CHECK_EQ(ip.port, 443);
    CHECK_EQ(ip.addr[15], 1);
    static const char *const bad[] = {"",        "1.2.3",   "1.2.3.4.5", "1.2.3.4:",
                                      "1.2.3.4:99999", "a.b.c.d", "[::1",    "[::1]x",
                                      "[1.2.3.4]", "::g",     "1.2.3.4 ", " 1.2.3.4",
                                      "[::1]:",  "unknown", "fe80::1%eth0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(cw_ip_parse(bad[i], strlen(bad[i]), &ip), -1);
}

#if CONFIG_TRUSTED_PROXIES >= 3
/* The table of a typical set-up: the local nginx and a LAN's proxies. */
static void trust_setup(void)
{
    char err[120];
    cw_trusted_clear();
    CHECK_EQ(cw_trusted_add("127.0.0.1", err, sizeof err), 0);
    CHECK_EQ(cw_trusted_add("10.1.0.0/16", err, sizeof err), 0);
    CHECK_EQ(cw_trusted_add("2001:db8:aa::/48", err, sizeof err), 0);
}

static int client_of(int kind, const char *const *lines, size_t nlines, cw_ip *out, int *bad)
{
    cw_fwd f;
    cw_fwd_init(&f);
    *bad = 0;
    for (size_t i = 0; i < nlines; i++) {
        const char *why;
        if (cw_fwd_line(&f, kind, lines[i], strlen(lines[i]), cw_trusted_ip, NULL, &why) < 0) {
            CHECK(why && *why);
            *bad = 1;
            return 0;
        }
    }
    return cw_fwd_result(&f, out);
}

static void test_trusted_table(void)
{
    char err[120];
    trust_setup();
    cw_port_peer p;
    memset(&p, 0, sizeof p);
    p.family = 4;
    memcpy(p.addr, "\x7f\x00\x00\x01", 4);
    CHECK(cw_trusted_peer(&p));
    p.addr[3] = 2;
    CHECK(!cw_trusted_peer(&p));
    memcpy(p.addr, "\x0a\x01\xfe\x09", 4);
    CHECK(cw_trusted_peer(&p));
    p.addr[1] = 2;
    CHECK(!cw_trusted_peer(&p));
    /* v4-mapped IPv6 matches as IPv4. */
    memset(&p, 0, sizeof p);
    p.family = 6;
    memcpy(p.addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x7f\0\0\x01", 16);
    CHECK(cw_trusted_peer(&p));
    memcpy(p.addr, "\x20\x01\x0d\xb8\x00\xaa\xff\xff\0\0\0\0\0\0\0\x01", 16);
    CHECK(cw_trusted_peer(&p));
    p.addr[5] = 0xab;
    CHECK(!cw_trusted_peer(&p));
    /* UNIX peers only with "unix". */
    memset(&p, 0, sizeof p);
    p.family = CW_PORT_UNIX;
    CHECK(!cw_trusted_peer(&p));
    CHECK_EQ(cw_trusted_add("unix", err, sizeof err), 0);
    CHECK(cw_trusted_peer(&p));
    p.family = 0;
    CHECK(!cw_trusted_peer(&p));
    /* Bad entries, and a bounded table. */
    static const char *const bad[] = {"", "1.2.3.4/33", "::1/129", "1.2.3.4/", "1.2.3.4/-1",
                                      "1.2.3.4:80", "[::1]", "localhost", "1.2.3.4/8x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(cw_trusted_add(bad[i], err, sizeof err), CW_EINVAL);
    cw_trusted_clear();
    for (int i = 0; i < CONFIG_TRUSTED_PROXIES; i++)
        CHECK_EQ(cw_trusted_add("192.0.2.0/24", err, sizeof err), 0);
    CHECK_EQ(cw_trusted_add("192.0.2.0/24", err, sizeof err), CW_ENOMEM);
    CHECK(strstr(err, "CONFIG_TRUSTED_PROXIES") != NULL);
    /* /0 trusts every address of its family. */
    cw_trusted_clear();
    CHECK_EQ(cw_trusted_add("0.0.0.0/0", err, sizeof err), 0);
    memset(&p, 0, sizeof p);
    p.family = 4;
    memcpy(p.addr, "\xc6\x33\x64\x01", 4);
    CHECK(cw_trusted_peer(&p));
    cw_trusted_clear();
}

static void test_xff(void)
{
    trust_setup();
    cw_ip ip;
    int bad;
    /* nginx appended the client to what the client sent: the rightmost
     * untrusted hop is the client, what it claimed before is not believed. */
    const char *a[] = {"6.6.6.6, 198.51.100.7"};
    CHECK(client_of(CW_FWD_XFF, a, 1, &ip, &bad));
    CHECK(is_v4(&ip, 198, 51, 100, 7));
    /* Trusted hops on the right are skipped. */
    const char *b[] = {"198.51.100.7, 10.1.2.3,127.0.0.1"};
    CHECK(client_of(CW_FWD_XFF, b, 1, &ip, &bad));
    CHECK(is_v4(&ip, 198, 51, 100, 7));
    /* Over several lines, in order. */
    const char *c[] = {"6.6.6.6", "198.51.100.8", "10.1.0.1"};
    CHECK(client_of(CW_FWD_XFF, c, 3, &ip, &bad));
    CHECK(is_v4(&ip, 198, 51, 100, 8));
    /* Every hop trusted: the leftmost. */
    const char *d[] = {"10.1.9.9, 127.0.0.1"};
    CHECK(client_of(CW_FWD_XFF, d, 1, &ip, &bad));
    CHECK(is_v4(&ip, 10, 1, 9, 9));
    /* Ports, brackets, IPv6, blanks and empty elements. */
    const char *e[] = {" , [2001:db8::5]:1234 ,, \t"};
    CHECK(client_of(CW_FWD_XFF, e, 1, &ip, &bad));
    CHECK_EQ(ip.family, 6);
    CHECK_EQ(ip.port, 1234);
    /* Garbage left of the client is never looked at; garbage as the
     * client is an unknown hop: the proxy's own address stays. */
    const char *f[] = {"<script>, 198.51.100.9"};
    CHECK(client_of(CW_FWD_XFF, f, 1, &ip, &bad));
    CHECK(is_v4(&ip, 198, 51, 100, 9));
    const char *g[] = {"198.51.100.9, bogus, 127.0.0.1"};
    CHECK(!client_of(CW_FWD_XFF, g, 1, &ip, &bad));
    CHECK(!bad);
    const char *h[] = {""};
    CHECK(!client_of(CW_FWD_XFF, h, 1, &ip, &bad));
    CHECK(!client_of(CW_FWD_XFF, h, 0, &ip, &bad));
    cw_trusted_clear();
}

static void test_forwarded(void)
{
    trust_setup();
    cw_ip ip;
    int bad;
    const char *a[] = {"for=192.0.2.60;proto=http;by=203.0.113.43"};
    CHECK(client_of(CW_FWD_RFC7239, a, 1, &ip, &bad));
    CHECK(is_v4(&ip, 192, 0, 2, 60));
    /* RFC 7239 section 4's examples; quoted IPv6 with a port. */
    const char *b[] = {"for=\"_gazonk\"", "For=\"[2001:db8:cafe::17]:4711\""};
    CHECK(client_of(CW_FWD_RFC7239, b, 2, &ip, &bad));
    CHECK_EQ(ip.family, 6);
    CHECK_EQ(ip.port, 4711);
    CHECK_EQ(ip.addr[15], 0x17);
    const char *c[] = {"for=192.0.2.43, for=198.51.100.17;by=203.0.113.60;proto=http, for=10.1.0.2"};
    CHECK(client_of(CW_FWD_RFC7239, c, 1, &ip, &bad));
    CHECK(is_v4(&ip, 198, 51, 100, 17));
    /* The client's hop is unknown or obfuscated: keep the proxy's address. */
    const char *d[] = {"for=192.0.2.43, for=unknown"};
    CHECK(!client_of(CW_FWD_RFC7239, d, 1, &ip, &bad));
    CHECK(!bad);
    const char *e[] = {"for=192.0.2.43, for=_hidden, for=\"10.1.0.2:_port\""};
    CHECK(!client_of(CW_FWD_RFC7239, e, 1, &ip, &bad));
    CHECK(!bad);
    /* Elements without for=, escapes, empty pairs and elements. */
    const char *f[] = {"proto=https, ;for=\"192.0.2.\\61\";; ,"};
    CHECK(client_of(CW_FWD_RFC7239, f, 1, &ip, &bad));
    CHECK(is_v4(&ip, 192, 0, 2, 61));
    /* Malformed: each one a 400 from a trusted proxy. */
    static const char *const badv[] = {
        "for", "for=", "=1.2.3.4", "for=1.2.3.4 x", "for=\"1.2.3.4", "for=[::1]",
        "for=\"[::1]\";for=1.2.3.4", "for=1.2.3.4:80", "for=\"a\x01\"", "for=\"\\",
        "for=example.com", "for=\"_x y\"",
        "for=\"0123456789012345678901234567890123456789012345678901234567890123456789\"",
    };
    for (size_t i = 0; i < sizeof badv / sizeof badv[0]; i++) {
        const char *l[] = {badv[i]};
        CHECK(!client_of(CW_FWD_RFC7239, l, 1, &ip, &bad));
        CHECK(bad);
    }
    cw_trusted_clear();
}

#endif

#if CONFIG_TRUSTED_PROXIES < 3
/* A build with a table this small (or none) refuses what does not fit. */
static void test_small_table(void)
{
    char err[120];
    cw_trusted_clear();
    for (int i = 0; i < CONFIG_TRUSTED_PROXIES; i++)
        CHECK_EQ(cw_trusted_add("192.0.2.0/24", err, sizeof err), 0);
    CHECK_EQ(cw_trusted_add("127.0.0.1", err, sizeof err), CW_ENOMEM);
    CHECK_EQ(cw_trusted_add("unix", err, sizeof err), 0);
    cw_trusted_clear();
}
#endif

static void test_unix_peers_share_one_address(void)
{
#if defined(CONFIG_FAIR_SHARES)
    static const uint32_t limits[CW_SHARE_KINDS] = {[CW_SHARE_CONN] = 2, [CW_SHARE_REQ] = 2};
    cw_share_init(limits);
    cw_port_peer u;
    memset(&u, 0, sizeof u);
    u.family = CW_PORT_UNIX;
    int over;
    uint16_t h1 = cw_share_attach(&u, &over), h2 = cw_share_attach(&u, &over);
    CHECK(h1 && h1 == h2 && !over);
    CHECK_EQ(cw_share_attach(&u, &over), 0);
    CHECK(over);
    cw_share_detach(h1);
    cw_share_detach(h2);
    CHECK_EQ(cw_share_count(), 0);
#endif
    char text[64];
    cw_port_peer u2;
    memset(&u2, 0, sizeof u2);
    u2.family = CW_PORT_UNIX;
    cw_port_peer_format(&u2, text, sizeof text);
    CHECK(strcmp(text, "unix") == 0);
}

int main(void)
{
    RUN(test_v1);
    RUN(test_v1_bad);
    RUN(test_v2);
    RUN(test_ip_parse);
#if CONFIG_TRUSTED_PROXIES >= 3 /* the table the cases below fill */
    RUN(test_trusted_table);
    RUN(test_xff);
    RUN(test_forwarded);
#else
    RUN(test_small_table);
#endif
    RUN(test_unix_peers_share_one_address);
    return cw_unit_done();
}
