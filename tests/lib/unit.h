/* SPDX-License-Identifier: MIT */
/* unit.h: the smallest unit-test harness: TEST functions, CHECK macros, and
 * a summary line "N passed, N failed" that tests/run.py reads. */
#ifndef CW_UNIT_H
#define CW_UNIT_H

#include <stddef.h>
#include <stdint.h>

void cw_unit_check(int ok, const char *expr, const char *file, int line);
void cw_unit_check_int(long long a, long long b, const char *ea, const char *eb, const char *file,
                       int line);
void cw_unit_check_mem(const void *a, const void *b, size_t n, const char *ea, const char *file,
                       int line);
void cw_unit_run(const char *name, void (*fn)(void));
/* Prints the summary; returns the process exit status. */
int cw_unit_done(void);

#define CHECK(cond) cw_unit_check(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ(a, b) cw_unit_check_int((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_MEM(a, b, n) cw_unit_check_mem((a), (b), (n), #a, __FILE__, __LINE__)
#define RUN(fn) cw_unit_run(#fn, fn)

#endif
