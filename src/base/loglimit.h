/* SPDX-License-Identifier: MIT */
/* loglimit.h: the log's flood guard. Lines are grouped by site (the format
 * string a cw_log call passes): within one window a site may print `burst`
 * lines; the rest are counted, not printed, and once the window is over
 * one summary says "last message repeated N times". The state is a fixed
 * table of sites (CONFIG_LOG_LIMIT_SITES; the least recently used one is
 * taken over, its summary given first), so a flood costs no memory and
 * at most burst + 1 lines per site and window. Pure: the caller gives the
 * time and prints. */
#ifndef CW_LOGLIMIT_H
#define CW_LOGLIMIT_H

#include <stddef.h>
#include <stdint.h>

#define CW_LOGLIMIT_TEXT 96 /* bytes of the last suppressed line kept for its summary */

typedef struct cw_loglimit_summary {
    int level;
    uint32_t repeated;
    char text[CW_LOGLIMIT_TEXT]; /* the last suppressed line (cut), NUL-terminated */
} cw_loglimit_summary;

/* burst: lines per site and window (0: no limit); window_ms > 0. Forgets
 * every site. */
void cw_loglimit_setup(unsigned burst, uint32_t window_ms);
/* A line of `site` at level, text[0..len), at now (ms). Returns 1 to print
 * it, 0 when it was suppressed (counted, its text kept). When a site had
 * to be taken over and its old owner had suppressed lines, *evicted is
 * filled with their summary and 1 is stored in *have_evicted: print it
 * first. */
int cw_loglimit_admit(const void *site, int level, const char *text, size_t len, uint64_t now,
                      cw_loglimit_summary *evicted, int *have_evicted);
/* The next summary due at now (a site whose window ended with suppressed
 * lines), or all of them when force; 1 when *out was filled, 0 when none
 * is due. Call until 0. */
int cw_loglimit_due(uint64_t now, int force, cw_loglimit_summary *out);
/* Milliseconds until the next summary is due; -1 when none is waiting. */
long cw_loglimit_next(uint64_t now);

#endif
