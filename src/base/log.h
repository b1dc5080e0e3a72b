/* SPDX-License-Identifier: MIT */
/* log.h: cw_log for the library's own modules, with the run-time level
 * filter and, in builds without CONFIG_DEBUG_LOG, every debug message (its
 * call and its format string) removed at compile time. Include it rather
 * than calling chanwire.h's cw_log directly. */
#ifndef CW_LOG_H
#define CW_LOG_H

#include "chanwire.h"
#include "cw_config.h"

#if !defined(CONFIG_DEBUG_LOG)
/* (cw_log) in parentheses is the function; the macro drops CW_LOG_DEBUG
 * lines, which must therefore name the level as a constant. */
#define cw_log(level, ...) ((level) == CW_LOG_DEBUG ? (void)0 : (cw_log)((level), __VA_ARGS__))
#endif

/* Lines above level are dropped (-1: every line). Set by cw_server_init. */
void cw_log_set_level(int level);

#endif
