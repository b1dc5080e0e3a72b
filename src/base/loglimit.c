/* SPDX-License-Identifier: MIT */
/* loglimit.c: the per-site flood guard of the log (loglimit.h): a fixed
 * table of sites with their window, lines printed and lines suppressed. */
#include "base/loglimit.h"
#include "cw_config.h"

#include <string.h>

#ifndef CONFIG_LOG_LIMIT_SITES
#define CONFIG_LOG_LIMIT_SITES 16
#endif

struct site {
    const void *key;    /* NULL: free */
    uint64_t start;     /* the window's start (ms) */
    uint64_t used;      /* last line seen (ms): least recently used is taken over */
    uint32_t printed;   /* lines printed in this window */
    uint32_t suppressed;
    int level;
    char text[CW_LOGLIMIT_TEXT];
};

static struct site sites[CONFIG_LOG_LIMIT_SITES];
static unsigned burst;
static uint32_t window = 10000;

void cw_loglimit_setup(unsigned b, uint32_t window_ms)
{
    burst = b;
    window = window_ms ? window_ms : 1;
    memset(sites, 0, sizeof sites);
}

static void summarise(struct site *s, cw_loglimit_summary *out)
{
    out->level = s->level;
    out->repeated = s->suppressed;
    memcpy(out->text, s->text, sizeof out->text);
    s->suppressed = 0;
}

int cw_loglimit_admit(const void *key, int level, const char *text, size_t len, uint64_t now,
                      cw_loglimit_summary *evicted, int *have_evicted)
{
    *have_evicted = 0;
    if (burst == 0)
        return 1;
    struct site *s = NULL, *lru = &sites[0];
    for (unsigned i = 0; i < CONFIG_LOG_LIMIT_SITES; i++) {
        if (sites[i].key == key) {
            s = &sites[i];
            break;
        }
        if (!sites[i].key || (lru->key && sites[i].used < lru->used))
            lru = &sites[i];
    }
    if (!s) {
        s = lru;
        if (s->key && s->suppressed) {
            summarise(s, evicted);
            *have_evicted = 1;
        }
        memset(s, 0, sizeof *s);
        s->key = key;
        s->start = now;
    }
    s->used = now;
    s->level = level;
    if (now - s->start >= window) {
        /* a new window; a summary still owed was given by cw_loglimit_due
         * before this line, when the caller asked first (log.c does) */
        s->start = now;
        s->printed = 0;
    }
    if (s->printed < burst) {
        s->printed++;
        return 1;
    }
    s->suppressed++;
    size_t n = len < sizeof s->text - 1 ? len : sizeof s->text - 1;
    memcpy(s->text, text, n);
    s->text[n] = 0;
    return 0;
}

int cw_loglimit_due(uint64_t now, int force, cw_loglimit_summary *out)
{
    for (unsigned i = 0; i < CONFIG_LOG_LIMIT_SITES; i++) {
        struct site *s = &sites[i];
        if (s->key && s->suppressed && (force || now - s->start >= window)) {
            summarise(s, out);
            /* the summary closes the window: the next line opens one */
            s->start = now;
            s->printed = 0;
            return 1;
        }
    }
    return 0;
}

long cw_loglimit_next(uint64_t now)
{
    long next = -1;
    for (unsigned i = 0; i < CONFIG_LOG_LIMIT_SITES; i++) {
        const struct site *s = &sites[i];
        if (!s->key || !s->suppressed)
            continue;
        uint64_t end = s->start + window;
        long left = end > now ? (long)(end - now) : 0;
        if (next < 0 || left < next)
            next = left;
    }
    return next;
}
