/* SPDX-License-Identifier: MIT */
/* unit.c: counts cases (one per RUN) and failed checks. */
#include "unit.h"

#include <stdio.h>
#include <string.h>

static int case_failed, passed, failed;
static const char *current;

void cw_unit_check(int ok, const char *expr, const char *file, int line)
{
    if (ok)
        return;
    if (!case_failed)
        fprintf(stderr, "FAIL %s\n", current);
    fprintf(stderr, "  %s:%d: CHECK(%s)\n", file, line, expr);
    case_failed = 1;
}

void cw_unit_check_int(long long a, long long b, const char *ea, const char *eb, const char *file,
                       int line)
{
    if (a == b)
        return;
    if (!case_failed)
        fprintf(stderr, "FAIL %s\n", current);
    fprintf(stderr, "  %s:%d: %s == %s: %lld != %lld\n", file, line, ea, eb, a, b);
    case_failed = 1;
}

void cw_unit_check_mem(const void *a, const void *b, size_t n, const char *ea, const char *file,
                       int line)
{
    if (memcmp(a, b, n) == 0)
        return;
    if (!case_failed)
        fprintf(stderr, "FAIL %s\n", current);
    fprintf(stderr, "  %s:%d: %s differs from the expected %zu bytes\n", file, line, ea, n);
    case_failed = 1;
}

void cw_unit_run(const char *name, void (*fn)(void))
{
    current = name;
    case_failed = 0;
    fn();
    if (case_failed)
        failed++;
    else
        passed++;
}

int cw_unit_done(void)
{
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
