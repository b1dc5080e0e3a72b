/* log.c: cw_log formats one line into a static buffer and hands it to the
 * port's sink; lines above the configured level cost one comparison. */
#include "chanwire.h"
#include "port.h"
#include "server.h"

#include <stdarg.h>
#include <stdio.h>

void(cw_log)(int level, const char *fmt, ...)
{
    static char line[512];
    if (level > cw_srv.opt.log_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    cw_port_log_write(level, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}
