/* SPDX-License-Identifier: MIT */
/* log.c: cw_log formats one line into a static buffer and hands it to the
 * port's sink; lines above the configured level cost one comparison. */
#include "base/log.h"
#include "port.h"

#include <stdarg.h>
#include <stdio.h>

static int log_level = CONFIG_LOG_LEVEL;

void cw_log_set_level(int level)
{
    log_level = level;
}

void(cw_log)(int level, const char *fmt, ...)
{
    static char line[512];
    if (level > log_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    cw_port_log_write(level, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}
