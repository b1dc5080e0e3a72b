/* SPDX-License-Identifier: MIT */
/* log.h: cw_log for the library's own modules, with the run-time level
 * filter and, as lwIP's LWIP_DEBUGF, every message less severe than the
 * build keeps (CONFIG_LOG_MIN_LEVEL; debug also needs CONFIG_DEBUG_LOG)
 * removed at compile time, its call and its format string. Include it
 * rather than calling chanwire.h's cw_log directly. */
#ifndef CW_LOG_H
#define CW_LOG_H

#include "chanwire.h"
#include "cw_config.h"

/* The least severe level compiled in (0 error .. 3 debug). */
#if !defined(CONFIG_DEBUG_LOG) && (CONFIG_LOG_MIN_LEVEL) > 2
#define CW_LOG_COMPILED 2
#else
#define CW_LOG_COMPILED (CONFIG_LOG_MIN_LEVEL)
#endif

#if CW_LOG_COMPILED < 3
/* (cw_log) in parentheses is the function; the macro drops the lines of
 * the levels above CW_LOG_COMPILED, which is why a level is best named as
 * a constant (a computed one keeps its call and strings). */
#define cw_log(level, ...) ((level) > CW_LOG_COMPILED ? (void)0 : (cw_log)((level), __VA_ARGS__))
#endif

/* Lines above level are dropped (-1: every line). Set by cw_server_init. */
void cw_log_set_level(int level);

#endif
