/* SPDX-License-Identifier: MIT */
/* log.c: where log lines go. stderr with a UTC timestamp, or syslog written
 * straight to /dev/log (libc's syslog() may allocate; this never does);
 * the raw stderr write and the timestamp the JSON lines (base/log.c) use. */
#include "port.h"
#include "cw_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int syslog_fd = -1;
static char ident_buf[32] = "chanwire";
static int pid;

static const char *const level_name[] = {"error", "warn", "info", "debug"};

void cw_port_log_open(int use_syslog, const char *ident)
{
    if (ident) {
        strncpy(ident_buf, ident, sizeof ident_buf - 1);
        ident_buf[sizeof ident_buf - 1] = 0;
    }
    pid = (int)getpid();
    if (!use_syslog)
        return;
#if !defined(CONFIG_SYSLOG)
    static const char no[] = "chanwire: syslog is not in this build (CONFIG_SYSLOG=n), "
                             "logging to stderr\n";
    ssize_t w = write(2, no, sizeof no - 1);
    (void)w;
#else
    syslog_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (syslog_fd < 0)
        return;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, "/dev/log");
    if (connect(syslog_fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(syslog_fd);
        syslog_fd = -1;
        static const char msg[] = "chanwire: /dev/log unavailable, logging to stderr\n";
        ssize_t r = write(2, msg, sizeof msg - 1);
        (void)r;
    }
#endif
}

void cw_port_log_write(int level, const char *line, size_t len)
{
    char buf[600];
    int n;
    if (level < 0)
        level = 0;
    if (level > 3)
        level = 3;
    if (len > 512)
        len = 512;
    if (syslog_fd >= 0) {
        /* facility daemon (3); syslog severities: err 3, warning 4, info 6, debug 7 */
        static const int sev[] = {3, 4, 6, 7};
        n = snprintf(buf, sizeof buf, "<%d>%s[%d]: %.*s", 3 * 8 + sev[level], ident_buf, pid,
                     (int)len, line);
        if (n > 0 && send(syslog_fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
            return;
    }
    char when[32];
    cw_port_log_time(when, sizeof when);
    n = snprintf(buf, sizeof buf, "%s %s[%d] %s: %.*s\n", when, ident_buf, pid,
                 level_name[level], (int)len, line);
    if (n > 0) {
        size_t w = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
        ssize_t r = write(2, buf, w);
        (void)r;
    }
}

int cw_port_log_to_syslog(void)
{
    return syslog_fd >= 0;
}

void cw_port_log_raw(const char *line, size_t len)
{
    ssize_t r = write(2, line, len);
    (void)r;
}

size_t cw_port_log_time(char *out, size_t cap)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(ts.tv_nsec / 1000000));
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

const char *cw_port_log_ident(void)
{
    return ident_buf;
}

int cw_port_log_pid(void)
{
    return pid ? pid : (int)getpid();
}
