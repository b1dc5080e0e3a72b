/* SPDX-License-Identifier: MIT */
/* features.c: which optional Kconfig modules this build of the library
 * holds (cw_build_features), and their short names (chanwired --version).
 * It also includes config_check.h, so a library built without the
 * Makefile's check of the generated header still refuses a configuration
 * that cannot work. */
#include "chanwire.h"
#include "config_check.h"
#include "cw_config.h"

#include <stddef.h>

/* By bit number: names[i] is the name of the bit 1u << i. */
static const char *const names[] = {
    "tls", "groups", "json", "jwt", "static-files", "control-socket", "layer-redis",
    "stats-endpoint", "watchdog", "debug-log", "sendq-drop", "poller-poll", "host-check",
};
_Static_assert(sizeof names / sizeof names[0] == 13 && CW_FEATURE_HOST_CHECK == 1u << 12,
               "one name per CW_FEATURE_* bit, in bit order");

unsigned cw_build_features(void)
{
    unsigned f = 0;
#if defined(CONFIG_TLS)
    f |= CW_FEATURE_TLS;
#endif
#if defined(CONFIG_GROUPS)
    f |= CW_FEATURE_GROUPS;
#endif
#if defined(CONFIG_JSON)
    f |= CW_FEATURE_JSON;
#endif
#if defined(CONFIG_JWT)
    f |= CW_FEATURE_JWT;
#endif
#if defined(CONFIG_STATIC_FILES)
    f |= CW_FEATURE_STATIC_FILES;
#endif
#if defined(CONFIG_CONTROL_SOCKET)
    f |= CW_FEATURE_CONTROL_SOCKET;
#endif
#if defined(CONFIG_LAYER_REDIS)
    f |= CW_FEATURE_LAYER_REDIS;
#endif
#if defined(CONFIG_STATS_ENDPOINT)
    f |= CW_FEATURE_STATS_ENDPOINT;
#endif
#if defined(CONFIG_WATCHDOG)
    f |= CW_FEATURE_WATCHDOG;
#endif
#if defined(CONFIG_DEBUG_LOG)
    f |= CW_FEATURE_DEBUG_LOG;
#endif
#if defined(CONFIG_SENDQ_DROP)
    f |= CW_FEATURE_SENDQ_DROP;
#endif
#if defined(CONFIG_POLLER_POLL)
    f |= CW_FEATURE_POLLER_POLL;
#endif
#if defined(CONFIG_HOST_CHECK)
    f |= CW_FEATURE_HOST_CHECK;
#endif
    return f;
}

const char *cw_feature_name(unsigned bit)
{
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (bit == 1u << i)
            return names[i];
    return NULL;
}

/* The same names as one string, " tls groups ..." (empty without any),
 * put together by the preprocessor: a program prints it at no code cost. */
const char *cw_build_features_text(void)
{
    return ""
#if defined(CONFIG_TLS)
           " tls"
#endif
#if defined(CONFIG_GROUPS)
           " groups"
#endif
#if defined(CONFIG_JSON)
           " json"
#endif
#if defined(CONFIG_JWT)
           " jwt"
#endif
#if defined(CONFIG_STATIC_FILES)
           " static-files"
#endif
#if defined(CONFIG_CONTROL_SOCKET)
           " control-socket"
#endif
#if defined(CONFIG_LAYER_REDIS)
           " layer-redis"
#endif
#if defined(CONFIG_STATS_ENDPOINT)
           " stats-endpoint"
#endif
#if defined(CONFIG_WATCHDOG)
           " watchdog"
#endif
#if defined(CONFIG_DEBUG_LOG)
           " debug-log"
#endif
#if defined(CONFIG_SENDQ_DROP)
           " sendq-drop"
#endif
#if defined(CONFIG_POLLER_POLL)
           " poller-poll"
#endif
#if defined(CONFIG_HOST_CHECK)
           " host-check"
#endif
        ;
}
