/* SPDX-License-Identifier: MIT */
/* test_features.c: cw_build_features against the CONFIG_ symbols of this
 * build, bit by bit, and cw_feature_name: every flag named as chanwire.h
 * says, names unique and lowercase, NULL for anything that is not one
 * feature bit. */
#include "chanwire.h"
#include "cw_config.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

/* What this build selected, read here from cw_config.h on its own. */
static const struct {
    unsigned bit;
    const char *name;
    int configured;
} want[] = {
#if defined(CONFIG_TLS)
    {CW_FEATURE_TLS, "tls", 1},
#else
    {CW_FEATURE_TLS, "tls", 0},
#endif
#if defined(CONFIG_GROUPS)
    {CW_FEATURE_GROUPS, "groups", 1},
#else
    {CW_FEATURE_GROUPS, "groups", 0},
#endif
#if defined(CONFIG_JSON)
    {CW_FEATURE_JSON, "json", 1},
#else
    {CW_FEATURE_JSON, "json", 0},
#endif
#if defined(CONFIG_JWT)
    {CW_FEATURE_JWT, "jwt", 1},
#else
    {CW_FEATURE_JWT, "jwt", 0},
#endif
#if defined(CONFIG_STATIC_FILES)
    {CW_FEATURE_STATIC_FILES, "static-files", 1},
#else
    {CW_FEATURE_STATIC_FILES, "static-files", 0},
#endif
#if defined(CONFIG_CONTROL_SOCKET)
    {CW_FEATURE_CONTROL_SOCKET, "control-socket", 1},
#else
    {CW_FEATURE_CONTROL_SOCKET, "control-socket", 0},
#endif
#if defined(CONFIG_LAYER_REDIS)
    {CW_FEATURE_LAYER_REDIS, "layer-redis", 1},
#else
    {CW_FEATURE_LAYER_REDIS, "layer-redis", 0},
#endif
#if defined(CONFIG_STATS_ENDPOINT)
    {CW_FEATURE_STATS_ENDPOINT, "stats-endpoint", 1},
#else
    {CW_FEATURE_STATS_ENDPOINT, "stats-endpoint", 0},
#endif
#if defined(CONFIG_WATCHDOG)
    {CW_FEATURE_WATCHDOG, "watchdog", 1},
#else
    {CW_FEATURE_WATCHDOG, "watchdog", 0},
#endif
#if defined(CONFIG_DEBUG_LOG)
    {CW_FEATURE_DEBUG_LOG, "debug-log", 1},
#else
    {CW_FEATURE_DEBUG_LOG, "debug-log", 0},
#endif
#if defined(CONFIG_SENDQ_DROP)
    {CW_FEATURE_SENDQ_DROP, "sendq-drop", 1},
#else
    {CW_FEATURE_SENDQ_DROP, "sendq-drop", 0},
#endif
#if defined(CONFIG_POLLER_POLL)
    {CW_FEATURE_POLLER_POLL, "poller-poll", 1},
#else
    {CW_FEATURE_POLLER_POLL, "poller-poll", 0},
#endif
#if defined(CONFIG_HOST_CHECK)
    {CW_FEATURE_HOST_CHECK, "host-check", 1},
#else
    {CW_FEATURE_HOST_CHECK, "host-check", 0},
#endif
};
#define NWANT (sizeof want / sizeof want[0])

static int is_one_bit(unsigned v)
{
    return v && !(v & (v - 1));
}

/* Each flag is its own single bit, and the build's mask is exactly the
 * configured ones: no bit missing, none extra. */
static void test_mask_matches_config(void)
{
    unsigned f = cw_build_features(), all = 0, expect = 0;
    for (size_t i = 0; i < NWANT; i++) {
        CHECK(is_one_bit(want[i].bit));
        CHECK_EQ(all & want[i].bit, 0); /* no two flags share a bit */
        all |= want[i].bit;
        if (want[i].configured)
            expect |= want[i].bit;
        CHECK_EQ(!!(f & want[i].bit), want[i].configured);
        if (!!(f & want[i].bit) != want[i].configured)
            fprintf(stderr, "    (feature %s)\n", want[i].name);
    }
    CHECK_EQ(f, expect);
    CHECK_EQ(f & ~all, 0);
    CHECK_EQ(cw_build_features(), f); /* stable */
}

/* Every flag has the name chanwire.h gives it; every bit that names no
 * feature, and every value that is not one bit, has none. */
static void test_names(void)
{
    for (size_t i = 0; i < NWANT; i++) {
        const char *n = cw_feature_name(want[i].bit);
        CHECK(n && strcmp(n, want[i].name) == 0);
    }
    unsigned all = 0;
    for (size_t i = 0; i < NWANT; i++)
        all |= want[i].bit;
    for (unsigned bit = 1; bit; bit <<= 1)
        if (!(bit & all))
            CHECK(cw_feature_name(bit) == NULL);
    CHECK(cw_feature_name(0) == NULL);
    CHECK(cw_feature_name(CW_FEATURE_TLS | CW_FEATURE_GROUPS) == NULL);
    CHECK(cw_feature_name(~0u) == NULL);
}

/* The set bits of this build all have names, short lowercase words that
 * are unique (chanwired --version prints them space-separated). */
static void test_names_unique_and_plain(void)
{
    unsigned f = cw_build_features();
    for (unsigned bit = 1; bit; bit <<= 1)
        if (f & bit)
            CHECK(cw_feature_name(bit) != NULL);
    for (unsigned a = 1; a; a <<= 1) {
        const char *na = cw_feature_name(a);
        if (!na)
            continue;
        CHECK(*na && strlen(na) <= 16);
        CHECK(strspn(na, "abcdefghijklmnopqrstuvwxyz-") == strlen(na));
        for (unsigned b = a << 1; b; b <<= 1) {
            const char *nb = cw_feature_name(b);
            CHECK(!nb || strcmp(na, nb) != 0);
        }
    }
}

/* The text chanwired --version prints is the names of the set bits, each
 * after one space, in bit order, and nothing else. */
static void test_text_matches_mask(void)
{
    char want_text[256] = "";
    unsigned f = cw_build_features();
    for (unsigned bit = 1; bit; bit <<= 1) {
        if (!(f & bit))
            continue;
        strcat(want_text, " ");
        strcat(want_text, cw_feature_name(bit));
    }
    CHECK(strcmp(cw_build_features_text(), want_text) == 0);
    if (strcmp(cw_build_features_text(), want_text) != 0)
        fprintf(stderr, "    text '%s', bits say '%s'\n", cw_build_features_text(), want_text);
}

int main(void)
{
    RUN(test_mask_matches_config);
    RUN(test_names);
    RUN(test_names_unique_and_plain);
    RUN(test_text_matches_mask);
    return cw_unit_done();
}
