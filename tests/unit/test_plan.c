/* SPDX-License-Identifier: MIT */
/* test_plan.c: the memory plan's arithmetic (src/plan.c): pages a pool of
 * static blocks can touch, byte counts with K/M/G, and cw_plan_write's
 * report after cw_server_init: one line per pool, the options' limits,
 * a total that is the sum of its lines. */
#include "chanwire.h"
#include "cw_config.h"
#include "plan.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_pages(void)
{
    CHECK_EQ(cw_plan_pages(0, 4096), 0);
    CHECK_EQ(cw_plan_pages(1, 4096), 4096);
    CHECK_EQ(cw_plan_pages(4096, 4096), 4096);
    CHECK_EQ(cw_plan_pages(4097, 4096), 8192);
    CHECK_EQ(cw_plan_pages(65537, 65536), 131072);
}

static void test_pool_bytes(void)
{
    /* Whole blocks: the blocks' bytes in pages, one more for the start. */
    CHECK_EQ(cw_plan_pool_bytes(4096, 100, 10, 4096, 4096), 11 * 4096);
    CHECK_EQ(cw_plan_pool_bytes(256, 1000, 16, 256, 4096), 4096 + 4096);
    CHECK_EQ(cw_plan_pool_bytes(256, 1000, 17, 256, 4096), 2 * 4096 + 4096);
    /* Never more blocks than the array has, never more than the array. */
    CHECK_EQ(cw_plan_pool_bytes(4096, 4, 10, 4096, 4096), 5 * 4096);
    CHECK_EQ(cw_plan_pool_bytes(48, 10, 10, 48, 4096), 2 * 4096);
    /* Nothing handed out: nothing resident. */
    CHECK_EQ(cw_plan_pool_bytes(4096, 4, 0, 4096, 4096), 0);
    CHECK_EQ(cw_plan_pool_bytes(0, 4, 4, 0, 4096), 0);
    /* Big blocks of which only the start is written: that start in pages,
     * plus the page it may straddle, per block. */
    CHECK_EQ(cw_plan_pool_bytes(1048576, 32, 32, 65614, 4096), 32 * (17 + 1) * 4096);
    CHECK_EQ(cw_plan_pool_bytes(1048576, 32, 2, 100, 4096), 2 * 2 * 4096);
    /* ... capped by the whole array. */
    CHECK_EQ(cw_plan_pool_bytes(8192, 2, 2, 8000, 4096), 2 * 8192 + 4096);
    /* 64 KiB pages (aarch64, ppc64 kernels). */
    CHECK_EQ(cw_plan_pool_bytes(4096, 100, 100, 4096, 65536), 7 * 65536 + 65536);
}

static void test_parse_bytes(void)
{
    uint64_t v = 7;
    CHECK_EQ(cw_plan_parse_bytes("0", &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(cw_plan_parse_bytes("12345", &v), 0);
    CHECK_EQ(v, 12345);
    CHECK_EQ(cw_plan_parse_bytes("64K", &v), 0);
    CHECK_EQ(v, 65536);
    CHECK_EQ(cw_plan_parse_bytes("3m", &v), 0);
    CHECK_EQ(v, 3u << 20);
    CHECK_EQ(cw_plan_parse_bytes("2G", &v), 0);
    CHECK_EQ(v, 2ull << 30);
    v = 7;
    const char *bad[] = {"", "K", "-1", "1KB", "1 K", "1.5M", "0x10", "18446744073709551616",
                         "17179869184G", " 1", NULL};
    for (int i = 0; bad[i]; i++) {
        CHECK_EQ(cw_plan_parse_bytes(bad[i], &v), -1);
        CHECK_EQ(v, 7);
    }
    CHECK_EQ(cw_plan_parse_bytes(NULL, &v), -1);
}

/* The number on the report's line for name, or -1. */
static long long line_bytes(const char *report, const char *name)
{
    char key[40];
    snprintf(key, sizeof key, "plan %-12s ", name);
    const char *p = strstr(report, key);
    return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

static void test_report(void)
{
    char out[4096];
    uint64_t total = 1;
    cw_options o;
    cw_options_init(&o);
    o.log_level = -1;
    /* Ten connections, or all a smaller build has (randconfig-check). */
    const int conns = CONFIG_MAX_CONNS < 10 ? CONFIG_MAX_CONNS : 10;
    o.max_conns = conns;
    o.max_message = 4096;
    o.sendq_max = 4096;
    cw_server *s = cw_server_init(&o);
    CHECK(s != NULL);
    if (!s)
        return;
    long n = cw_plan_write(s, out, sizeof out, &total);
    CHECK(n > 0);
    CHECK_EQ((long)strlen(out), n);
    /* conn: --max-conns and the reject slots. */
    char want[64];
    snprintf(want, sizeof want, "%d of %d blocks", conns + CONFIG_REJECT_SLOTS,
             CONFIG_MAX_CONNS + CONFIG_REJECT_SLOTS);
    CHECK(strstr(out, want) != NULL);
    CHECK(line_bytes(out, "pool:io") > 0);
    CHECK(line_bytes(out, "static") >= 0);
    CHECK(line_bytes(out, "text") > 0);
    CHECK(line_bytes(out, "stack") > 0);
    /* The total is every line's sum, and its own last line. */
    long long sum = 0;
    for (const char *p = out; (p = strstr(p, "plan ")) != NULL; p++) {
        if (strncmp(p, "plan total", 10) == 0)
            break;
        const char *q = p + 5;
        while (*q && *q != ' ')
            q++;
        sum += strtoll(q, NULL, 10);
    }
    CHECK_EQ(sum, (long long)total);
    CHECK_EQ(line_bytes(out, "total"), (long long)total);
    /* Too small a buffer: CW_ETOOBIG, still the total. */
    uint64_t t2 = 0;
    CHECK_EQ(cw_plan_write(s, out, 40, &t2), CW_ETOOBIG);
    CHECK_EQ(t2, total);
    CHECK_EQ(out[0], 0);
    /* Fewer connections: a smaller plan (a build of one slot has no fewer). */
    uint64_t small = 0;
    cw_server_fini(s);
#if CONFIG_MAX_CONNS > 1
    o.max_conns = 1;
    s = cw_server_init(&o);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(cw_plan_write(s, out, sizeof out, &small) > 0);
    CHECK(small < total);
    cw_server_fini(s);
#endif
    CHECK_EQ(cw_plan_write(s, out, sizeof out, &small), CW_EINVAL);
}

int main(void)
{
    RUN(test_pages);
    RUN(test_pool_bytes);
    RUN(test_parse_bytes);
    RUN(test_report);
    return cw_unit_done();
}
