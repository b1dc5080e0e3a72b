/* SPDX-License-Identifier: MIT */
/* test_loglimit.c: the log's flood guard (src/base/loglimit.c): a site
 * prints `burst` lines per window, the rest are counted and summarised
 * once the window is over; sites are independent; a full table hands the
 * least recently used site over and gives its summary first; no limit
 * with burst 0; the summaries come out through cw_log with "last message
 * repeated N times". Time is the caller's: no clock, no sleeps. */
#include "base/log.h"
#include "base/loglimit.h"
#include "cw_config.h"
#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int admit(const void *site, uint64_t now)
{
    cw_loglimit_summary ev;
    int have;
    int r = cw_loglimit_admit(site, CW_LOG_WARN, "flood line", 10, now, &ev, &have);
    CHECK_EQ(have, 0);
    return r;
}

static void test_burst_then_summary(void)
{
    static const char site[] = "a";
    cw_loglimit_setup(3, 1000);
    int printed = 0;
    for (int i = 0; i < 100; i++)
        printed += admit(site, 10 + (uint64_t)i); /* 100 lines in 100 ms */
    CHECK_EQ(printed, 3);
    cw_loglimit_summary s;
    CHECK_EQ(cw_loglimit_due(500, 0, &s), 0); /* the window is not over */
    CHECK_EQ(cw_loglimit_next(500), 510);
    CHECK_EQ(cw_loglimit_due(1010, 0, &s), 1);
    CHECK_EQ(s.repeated, 97);
    CHECK_EQ(s.level, CW_LOG_WARN);
    CHECK(strcmp(s.text, "flood line") == 0);
    CHECK_EQ(cw_loglimit_due(1010, 0, &s), 0); /* once */
    CHECK_EQ(cw_loglimit_next(1010), -1);
    /* the next window prints again */
    CHECK_EQ(admit(site, 1020), 1);
}

static void test_sites_apart(void)
{
    static const char a[] = "a", b[] = "b";
    cw_loglimit_setup(1, 1000);
    CHECK_EQ(admit(a, 0), 1);
    CHECK_EQ(admit(a, 1), 0);
    CHECK_EQ(admit(b, 2), 1); /* another site has its own count */
    CHECK_EQ(admit(b, 3), 0);
    cw_loglimit_summary s;
    int n = 0;
    while (cw_loglimit_due(5, 1, &s)) /* forced: at exit */
        n++, CHECK_EQ(s.repeated, 1);
    CHECK_EQ(n, 2);
}

static void test_no_limit(void)
{
    cw_loglimit_setup(0, 1000);
    for (int i = 0; i < 1000; i++)
        CHECK_EQ(admit("x", 0), 1);
    cw_loglimit_summary s;
    CHECK_EQ(cw_loglimit_due(5000, 1, &s), 0);
}

static void test_table_full(void)
{
    /* more sites than the table holds: the least recently used one is
     * taken over, and what it held back is summarised first */
    static char sites[CONFIG_LOG_LIMIT_SITES + 1];
    cw_loglimit_setup(1, 100000);
    cw_loglimit_summary ev;
    int have;
    CHECK_EQ(cw_loglimit_admit(&sites[0], 1, "first", 5, 0, &ev, &have), 1);
    CHECK_EQ(cw_loglimit_admit(&sites[0], 1, "first", 5, 1, &ev, &have), 0);
    for (unsigned i = 1; i < CONFIG_LOG_LIMIT_SITES; i++)
        CHECK_EQ(cw_loglimit_admit(&sites[i], 1, "other", 5, 10 + i, &ev, &have), 1);
    CHECK_EQ(cw_loglimit_admit(&sites[CONFIG_LOG_LIMIT_SITES], 1, "new", 3, 1000, &ev, &have), 1);
    CHECK_EQ(have, 1);
    CHECK_EQ(ev.repeated, 1);
    CHECK(strcmp(ev.text, "first") == 0);
}

static void test_long_text_cut(void)
{
    char line[400];
    memset(line, 'z', sizeof line);
    cw_loglimit_setup(1, 10);
    cw_loglimit_summary s;
    int have;
    cw_loglimit_admit("s", 0, line, sizeof line, 0, &s, &have);
    CHECK_EQ(cw_loglimit_admit("s", 0, line, sizeof line, 1, &s, &have), 0);
    CHECK_EQ(cw_loglimit_due(20, 0, &s), 1);
    CHECK_EQ(strlen(s.text), CW_LOGLIMIT_TEXT - 1);
}

/* Through cw_log: a flood from one call site gives burst lines, then one
 * "last message repeated N times" line when flushed. */
static void test_through_cw_log(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/cw-loglimit-%ld", (long)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    close(fd);
    cw_log_set_level(CW_LOG_DEBUG);
    cw_log_set_json(0);
    cw_log_set_limit(5, 60000);
    for (int i = 0; i < 1000; i++)
        cw_log(CW_LOG_ERROR, "bad handshake %d", i);
    CHECK(cw_log_held);
    CHECK(cw_log_flush(0) > 0); /* not due yet: ms until it is */
    cw_log_flush(1);
    CHECK(!cw_log_held);
    dup2(saved, 2);
    close(saved);
    static char buf[16384];
    fd = open(path, O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    unlink(path);
    buf[n > 0 ? n : 0] = 0;
    int lines = 0;
    for (char *p = buf; *p; p++)
        lines += *p == '\n';
    CHECK_EQ(lines, 6);
    CHECK(strstr(buf, "bad handshake 4\n") != NULL);
    CHECK(strstr(buf, "bad handshake 5\n") == NULL);
    CHECK(strstr(buf, "last message repeated 995 times: bad handshake 999\n") != NULL);
    cw_log_set_limit(0, 1000);
}

int main(void)
{
    RUN(test_burst_then_summary);
    RUN(test_sites_apart);
    RUN(test_no_limit);
    RUN(test_table_full);
    RUN(test_long_text_cut);
    RUN(test_through_cw_log);
    return cw_unit_done();
}
