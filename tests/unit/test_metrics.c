/* SPDX-License-Identifier: MIT */
/* test_metrics.c: the Prometheus report (src/metrics.c) without a server:
 * histogram buckets are fixed, cumulative in the report, +Inf equals
 * _count and _sum is in seconds; every sample line is "name{labels}
 * value" after its family's # HELP and # TYPE; every pool is there; a
 * buffer too small gives CW_ETOOBIG, never a cut report. */
#include "base/hist.h"
#include "base/pool.h"
#include "chanwire.h"
#include "core/runtime.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char out[65536];

/* The value of the sample line that starts with `key ` (e.g. a bucket). */
static long long sample(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
        if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
            return atoll(p + kl + 1);
    return -1;
}

static void test_hist_buckets(void)
{
    cw_hist_reset(&cw_hist_fanout);
    cw_hist_observe(&cw_hist_fanout, 0);       /* first bucket (10 us) */
    cw_hist_observe(&cw_hist_fanout, 10);      /* on a bound: that bucket */
    cw_hist_observe(&cw_hist_fanout, 11);      /* the next one (25 us) */
    cw_hist_observe(&cw_hist_fanout, 5000000); /* above the last bound: +Inf only */
    CHECK_EQ(cw_hist_fanout.count, 4);
    CHECK_EQ(cw_hist_fanout.sum_us, 5000021);
    CHECK_EQ(cw_hist_fanout.bucket[0], 2);
    CHECK_EQ(cw_hist_fanout.bucket[1], 1);
    long n = cw_metrics_write(NULL, out, sizeof out);
    CHECK(n > 0);
    CHECK_EQ(strlen(out), (size_t)n);
    CHECK_EQ(sample(out, "chanwire_group_fanout_seconds_bucket{le=\"0.000010\"}"), 2);
    CHECK_EQ(sample(out, "chanwire_group_fanout_seconds_bucket{le=\"0.000025\"}"), 3);
    CHECK_EQ(sample(out, "chanwire_group_fanout_seconds_bucket{le=\"1.000000\"}"), 3);
    CHECK_EQ(sample(out, "chanwire_group_fanout_seconds_bucket{le=\"+Inf\"}"), 4);
    CHECK_EQ(sample(out, "chanwire_group_fanout_seconds_count"), 4);
    CHECK(strstr(out, "\nchanwire_group_fanout_seconds_sum 5.000021\n") != NULL);
    CHECK(strstr(out, "# TYPE chanwire_group_fanout_seconds histogram\n") != NULL);
    CHECK(strstr(out, "# TYPE chanwire_handshake_seconds histogram\n") != NULL);
}

static void test_shape(void)
{
    static _Alignas(16) uint8_t store[4 * 32];
    static cw_pool p;
    cw_pool_init(&p, "unitpool", store, 32, 4);
    void *a = cw_pool_get(&p), *b = cw_pool_get(&p);
    cw_pool_put(&p, a);
    (void)b;
    cw_rt.stats.accepted = 12345;
    cw_rt.stats.conns_open = 7;
    long n = cw_metrics_write(NULL, out, sizeof out);
    CHECK(n > 0);
    CHECK_EQ(sample(out, "chanwire_accepted_total"), 12345);
    CHECK_EQ(sample(out, "chanwire_conns_open"), 7);
    CHECK_EQ(sample(out, "chanwire_pool_used{pool=\"unitpool\"}"), 1);
    CHECK_EQ(sample(out, "chanwire_pool_high_water{pool=\"unitpool\"}"), 2);
    CHECK_EQ(sample(out, "chanwire_pool_limit{pool=\"unitpool\"}"), 4);
    CHECK_EQ(sample(out, "chanwire_pool_block_bytes{pool=\"unitpool\"}"), 32);
    CHECK(strstr(out, "# TYPE chanwire_accepted_total counter\n") != NULL);
    CHECK(strstr(out, "# TYPE chanwire_conns_open gauge\n") != NULL);
    /* every line: a comment, or name[{labels}] SP value; each sample's
     * family was announced by # TYPE before it */
    const char *line = out, *last_type = "";
    int samples = 0;
    while (*line) {
        const char *nl = strchr(line, '\n');
        CHECK(nl != NULL);
        if (!nl)
            break;
        if (strncmp(line, "# TYPE ", 7) == 0) {
            last_type = line + 7;
        } else if (line[0] != '#') {
            samples++;
            size_t name = strspn(line, "abcdefghijklmnopqrstuvwxyz_");
            CHECK(name > 9 && strncmp(line, "chanwire_", 9) == 0);
            /* the family itself, or its _bucket, _sum or _count */
            CHECK(strncmp(line, last_type, name) == 0 || strncmp(line, last_type, name - 7) == 0 ||
                  strncmp(line, last_type, name - 4) == 0 ||
                  strncmp(line, last_type, name - 6) == 0);
            const char *sp = memchr(line, ' ', (size_t)(nl - line));
            if (line[name] == '{')
                CHECK(memchr(line, '}', (size_t)(nl - line)) != NULL);
            CHECK(sp != NULL && sp + 1 < nl);
            if (sp)
                CHECK(strspn(sp + 1, "0123456789.") == (size_t)(nl - sp - 1));
        }
        line = nl + 1;
    }
    CHECK(samples > 60);
    cw_rt.stats.accepted = 0;
    cw_rt.stats.conns_open = 0;
}

static void test_too_small(void)
{
    long full = cw_metrics_write(NULL, out, sizeof out);
    CHECK(full > 0);
    memset(out, 'x', sizeof out);
    CHECK_EQ(cw_metrics_write(NULL, out, (size_t)full), CW_ETOOBIG); /* no room for the NUL */
    CHECK_EQ(cw_metrics_write(NULL, out, 100), CW_ETOOBIG);
    CHECK_EQ(cw_metrics_write(NULL, out, 0), CW_ETOOBIG);
    CHECK_EQ(cw_metrics_write(NULL, out, (size_t)full + 1), full);
    /* the default buffer (Kconfig's 24576) holds this build's report with
     * room to spare; a configuration may choose a smaller one (the scrape
     * then gets 500, test_metrics.py) */
#if CONFIG_METRICS_BUF_SIZE >= 24576
    CHECK(full + 2048 < CONFIG_METRICS_BUF_SIZE);
#endif
}

int main(void)
{
    RUN(test_hist_buckets);
    RUN(test_shape);
    RUN(test_too_small);
    return cw_unit_done();
}
