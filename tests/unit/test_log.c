/* SPDX-License-Identifier: MIT */
/* test_log.c: the library's cw_log (src/base/log.h): the run-time level
 * filters lines, and a level less severe than the build compiles in
 * (CONFIG_LOG_MIN_LEVEL, debug also CONFIG_DEBUG_LOG) leaves no call at
 * all: its arguments are not even evaluated. Lines go to stderr, here a
 * file read back. */
#include "base/log.h"
#include "port.h"
#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];
static int saved = -1;

/* Sends stderr to a fresh file. */
static void capture(void)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    fflush(stderr);
    saved = dup(2);
    dup2(fd, 2);
    close(fd);
}

/* Puts stderr back; returns what was logged. */
static const char *captured(void)
{
    static char buf[2048];
    dup2(saved, 2);
    close(saved);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

static int evaluated;
static int count(int v)
{
    evaluated++;
    return v;
}

static void test_compiled_levels(void)
{
    cw_log_set_level(CW_LOG_DEBUG);
    evaluated = 0;
    capture();
    cw_log(CW_LOG_ERROR, "line-error %d", count(0));
    cw_log(CW_LOG_WARN, "line-warn %d", count(1));
    cw_log(CW_LOG_INFO, "line-info %d", count(2));
    cw_log(CW_LOG_DEBUG, "line-debug %d", count(3));
    const char *out = captured();
    CHECK(strstr(out, "line-error 0") != NULL);
    CHECK_EQ(strstr(out, "line-warn 1") != NULL, CW_LOG_COMPILED >= CW_LOG_WARN);
    CHECK_EQ(strstr(out, "line-info 2") != NULL, CW_LOG_COMPILED >= CW_LOG_INFO);
    CHECK_EQ(strstr(out, "line-debug 3") != NULL, CW_LOG_COMPILED >= CW_LOG_DEBUG);
    /* A line compiled out is no call: its arguments are not evaluated. */
    CHECK_EQ(evaluated, CW_LOG_COMPILED + 1);
#if defined(CONFIG_DEBUG_LOG) && CONFIG_LOG_MIN_LEVEL >= 3
    CHECK_EQ(CW_LOG_COMPILED, CW_LOG_DEBUG);
#elif CONFIG_LOG_MIN_LEVEL < 2
    CHECK_EQ(CW_LOG_COMPILED, CONFIG_LOG_MIN_LEVEL);
#else
    CHECK_EQ(CW_LOG_COMPILED, CW_LOG_INFO);
#endif
}

static void test_run_time_level(void)
{
    /* What is compiled in still obeys --log-level. */
    cw_log_set_level(CW_LOG_ERROR);
    capture();
    cw_log(CW_LOG_ERROR, "kept-error");
    cw_log(CW_LOG_WARN, "dropped-warn");
    const char *out = captured();
    CHECK(strstr(out, "kept-error") != NULL);
    CHECK(strstr(out, "dropped-warn") == NULL);
    cw_log_set_level(-1); /* silent */
    capture();
    cw_log(CW_LOG_ERROR, "silent-error");
    CHECK(strstr(captured(), "silent-error") == NULL);
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/cw-log-%ld", (long)getpid());
    RUN(test_compiled_levels);
    RUN(test_run_time_level);
    unlink(path);
    return cw_unit_done();
}
