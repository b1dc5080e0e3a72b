/* SPDX-License-Identifier: MIT */
/* log.h: cw_log for the library's own modules, with the run-time level
 * filter and, as lwIP's LWIP_DEBUGF, every message less severe than the
 * build keeps (CONFIG_LOG_MIN_LEVEL; debug also needs CONFIG_DEBUG_LOG)
 * removed at compile time, its call and its format string. Include it
 * rather than calling chanwire.h's cw_log directly. Lines about one
 * connection go through cw_log_conn, which gives the JSON lines
 * (CONFIG_LOG_JSON) their "conn" and "peer"; repeated lines of one site
 * are held back by the flood guard (base/loglimit.h, CONFIG_LOG_RATELIMIT). */
#ifndef CW_LOG_H
#define CW_LOG_H

#include "chanwire.h"
#include "cw_config.h"
#include "port.h"

#include <stddef.h>
#include <stdint.h>

/* The least severe level compiled in (0 error .. 3 debug). */
#if !defined(CONFIG_DEBUG_LOG) && (CONFIG_LOG_MIN_LEVEL) > 2
#define CW_LOG_COMPILED 2
#else
#define CW_LOG_COMPILED (CONFIG_LOG_MIN_LEVEL)
#endif

/* cw_log with the connection it is about: its id (cw_conn_id; -1: none)
 * and peer address (NULL: none). The text line is the message alone, as
 * cw_log's. */
void cw_log_conn(int level, long conn, const cw_port_peer *peer, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#if CW_LOG_COMPILED < 3
/* (cw_log) in parentheses is the function; the macro drops the lines of
 * the levels above CW_LOG_COMPILED, which is why a level is best named as
 * a constant (a computed one keeps its call and strings). */
#define cw_log(level, ...) ((level) > CW_LOG_COMPILED ? (void)0 : (cw_log)((level), __VA_ARGS__))
#define cw_log_conn(level, ...) \
    ((level) > CW_LOG_COMPILED ? (void)0 : (cw_log_conn)((level), __VA_ARGS__))
#endif

/* Lines above level are dropped (-1: every line). Set by cw_server_init. */
void cw_log_set_level(int level);
/* 1: stderr lines are JSON objects (CONFIG_LOG_JSON; syslog, when it is
 * on, keeps its own format). Returns 0, or CW_EINVAL without the option. */
int cw_log_set_json(int json);
/* The flood guard: burst lines per site and window_ms (burst 0: off).
 * Without CONFIG_LOG_RATELIMIT it does nothing. */
void cw_log_set_limit(unsigned burst, uint32_t window_ms);
/* Prints the "repeated N times" summaries that are due (every one held
 * back, when force). Returns ms until the next is due, -1 when none waits. */
long cw_log_flush(int force);
/* Non-zero while the flood guard holds lines back (a summary will be owed):
 * the server arms its timer for cw_log_flush then. */
extern int cw_log_held;

/* JSON string body of in[0..len) (no quotes) into out (cap bytes, NUL
 * added): '"', '\\' and control characters escaped, valid UTF-8 kept,
 * each byte of invalid UTF-8 replaced by \ufffd. Never cuts an escape or a
 * character: when out is too small it stops before the first one that does
 * not fit. Returns the length written; *used (may be NULL) gets how many
 * input bytes it covers. */
#if defined(CONFIG_LOG_JSON)
size_t cw_log_json_escape(char *out, size_t cap, const char *in, size_t len, size_t *used);
#endif

#endif
