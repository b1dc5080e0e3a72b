/* SPDX-License-Identifier: MIT */
/* test_share.c: the address table behind fair shares (src/core/share.c):
 * what counts as one address (IPv4, IPv6 /64, v4-mapped IPv6), the limits
 * per kind, "the first always fits", entries that go with their last
 * connection, and many addresses in and out without losing one. */
#include "core/share.h"
#include "unit.h"

#include <string.h>

static const uint32_t limits[CW_SHARE_KINDS] = {
    [CW_SHARE_CONN] = 3, [CW_SHARE_REQ] = 2, [CW_SHARE_MSG] = 1,
    [CW_SHARE_MEMBER] = 4, [CW_SHARE_IO] = 1000,
};

static cw_port_peer v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    cw_port_peer p;
    memset(&p, 0, sizeof p);
    p.family = 4;
    p.addr[0] = a, p.addr[1] = b, p.addr[2] = c, p.addr[3] = d;
    p.port = 40000;
    return p;
}

static cw_port_peer v6(uint16_t prefix_last, uint16_t host)
{
    cw_port_peer p;
    memset(&p, 0, sizeof p);
    p.family = 6;
    p.addr[0] = 0x20, p.addr[1] = 0x01, p.addr[2] = 0x0d, p.addr[3] = 0xb8;
    p.addr[6] = (uint8_t)(prefix_last >> 8), p.addr[7] = (uint8_t)prefix_last;
    p.addr[14] = (uint8_t)(host >> 8), p.addr[15] = (uint8_t)host;
    return p;
}

static void test_connections_per_address(void)
{
    cw_share_init(limits);
    cw_port_peer a = v4(192, 168, 1, 20), b = v4(192, 168, 1, 21);
    int over;
    uint16_t h1 = cw_share_attach(&a, &over), h2 = cw_share_attach(&a, &over);
    uint16_t h3 = cw_share_attach(&a, &over);
    CHECK(h1 && h1 == h2 && h2 == h3 && !over);
    CHECK_EQ(cw_share_held(h1, CW_SHARE_CONN), 3);
    a.port = 1; /* another port of the same address is the same client */
    CHECK_EQ(cw_share_attach(&a, &over), 0);
    CHECK(over);
    uint16_t hb = cw_share_attach(&b, &over);
    CHECK(hb && hb != h1 && !over);
    CHECK_EQ(cw_share_count(), 2);
    cw_share_detach(h1);
    CHECK_EQ(cw_share_attach(&a, &over), h1); /* a freed share is reused */
    for (int i = 0; i < 3; i++)
        cw_share_detach(h1);
    cw_share_detach(hb);
    CHECK_EQ(cw_share_count(), 0);
}

static void test_ipv6_prefix_and_mapped(void)
{
    cw_share_init(limits);
    int over;
    cw_port_peer x = v6(1, 1), y = v6(1, 0xbeef), z = v6(2, 1);
    uint16_t hx = cw_share_attach(&x, &over), hy = cw_share_attach(&y, &over);
    uint16_t hz = cw_share_attach(&z, &over);
    CHECK(hx && hx == hy); /* one /64: one client, whatever its host bits */
    CHECK(hz && hz != hx);
    cw_port_peer m;
    memset(&m, 0, sizeof m);
    m.family = 6;
    m.addr[10] = 0xff, m.addr[11] = 0xff;
    m.addr[12] = 10, m.addr[13] = 0, m.addr[14] = 0, m.addr[15] = 7;
    cw_port_peer plain = v4(10, 0, 0, 7);
    uint16_t hm = cw_share_attach(&m, &over), hp = cw_share_attach(&plain, &over);
    CHECK(hm && hm == hp); /* ::ffff:10.0.0.7 is 10.0.0.7 */
    cw_port_peer none;
    memset(&none, 0, sizeof none);
    CHECK_EQ(cw_share_attach(&none, &over), 0); /* no IP address: not counted */
    CHECK(!over);
    CHECK(cw_share_fits(0, CW_SHARE_MSG, 100)); /* and handle 0 always fits */
}

static void test_kinds_and_first_always_fits(void)
{
    cw_share_init(limits);
    int over;
    cw_port_peer a = v4(10, 1, 1, 1);
    uint16_t h = cw_share_attach(&a, &over);
    CHECK(cw_share_fits(h, CW_SHARE_MSG, 1));
    cw_share_add(h, CW_SHARE_MSG, 1);
    CHECK(!cw_share_fits(h, CW_SHARE_MSG, 1));
    cw_share_add(h, CW_SHARE_MSG, -1);
    /* more than the whole share at once: only as the first */
    CHECK(cw_share_fits(h, CW_SHARE_IO, 5000));
    cw_share_add(h, CW_SHARE_IO, 5000);
    CHECK(!cw_share_fits(h, CW_SHARE_IO, 1));
    cw_share_add(h, CW_SHARE_IO, -4500);
    CHECK(cw_share_fits(h, CW_SHARE_IO, 500));
    CHECK(!cw_share_fits(h, CW_SHARE_IO, 501));
    cw_share_add(h, CW_SHARE_IO, -500);
    CHECK_EQ(cw_share_held(h, CW_SHARE_IO), 0);
    cw_share_detach(h);
}

/* Every slot from its own address, in and out in a scrambled order:
 * no entry is lost or shared by two addresses. */
static void test_many_addresses(void)
{
    cw_share_init(limits);
    enum { N = CONFIG_MAX_CONNS + CONFIG_REJECT_SLOTS < 600 ? CONFIG_MAX_CONNS + CONFIG_REJECT_SLOTS : 600 };
    static uint16_t h[N];
    int over;
    for (int i = 0; i < N; i++) {
        cw_port_peer p = v4(172, 16, (uint8_t)(i >> 8), (uint8_t)i);
        h[i] = cw_share_attach(&p, &over);
        CHECK(h[i] != 0);
        cw_share_add(h[i], CW_SHARE_IO, i);
    }
    CHECK_EQ(cw_share_count(), N);
    for (int i = 0; i < N; i += 3)
        cw_share_detach(h[i]);
    for (int i = 0; i < N; i++) {
        if (i % 3 == 0)
            continue;
        cw_port_peer p = v4(172, 16, (uint8_t)(i >> 8), (uint8_t)i);
        CHECK_EQ(cw_share_attach(&p, &over), h[i]); /* found again */
        CHECK_EQ(cw_share_held(h[i], CW_SHARE_IO), i);
        cw_share_detach(h[i]);
        cw_share_detach(h[i]);
    }
    CHECK_EQ(cw_share_count(), 0);
}

int main(void)
{
    RUN(test_connections_per_address);
    RUN(test_ipv6_prefix_and_mapped);
    RUN(test_kinds_and_first_always_fits);
    RUN(test_many_addresses);
    return cw_unit_done();
}
