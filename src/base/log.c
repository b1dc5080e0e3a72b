/* SPDX-License-Identifier: MIT */
/* log.c: cw_log formats one line into a static buffer and hands it to the
 * port's sink (text or syslog) or, with --log-format json, writes it as one
 * JSON object per line on stderr; lines above the configured level cost
 * one comparison. Repeated lines of one site go through the flood guard
 * (loglimit.c) first. */
#include "base/log.h"
#include "base/utf8.h"
#if defined(CONFIG_LOG_RATELIMIT)
#include "base/loglimit.h"
#endif

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LINE_MAX_LEN 512

static int log_level = CONFIG_LOG_LEVEL;
int cw_log_held;
#if defined(CONFIG_LOG_JSON)
static int log_json;
#endif

void cw_log_set_level(int level)
{
    log_level = level;
}

int cw_log_set_json(int json)
{
#if defined(CONFIG_LOG_JSON)
    log_json = json != 0;
    return 0;
#else
    return json ? CW_EINVAL : 0;
#endif
}

void cw_log_set_limit(unsigned burst, uint32_t window_ms)
{
#if defined(CONFIG_LOG_RATELIMIT)
    cw_loglimit_setup(burst, window_ms);
#else
    (void)burst;
    (void)window_ms;
#endif
}

/* ---- JSON ---- */

#if defined(CONFIG_LOG_JSON)
static const char hex[] = "0123456789abcdef";

/* Bytes of the UTF-8 character that starts at p (n left), or 0 when it is
 * not a valid one. */
static size_t utf8_char(const uint8_t *p, size_t n)
{
    size_t want = p[0] < 0x80 ? 1 : (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3
                  : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (want == 0 || want > n)
        return 0;
    return cw_utf8_valid(p, want) ? want : 0;
}

size_t cw_log_json_escape(char *out, size_t cap, const char *in, size_t len, size_t *used)
{
    const uint8_t *p = (const uint8_t *)in;
    size_t o = 0, i = 0;
    if (cap == 0) {
        if (used)
            *used = 0;
        return 0;
    }
    while (i < len) {
        char esc[8];
        const char *put = esc;
        size_t pn, take = 1;
        uint8_t ch = p[i];
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\', esc[1] = (char)ch, pn = 2;
        } else if (ch < 0x20 || ch == 0x7f) {
            const char *named = ch == '\n' ? "\\n" : ch == '\r' ? "\\r" : ch == '\t' ? "\\t"
                                : ch == '\b' ? "\\b" : ch == '\f' ? "\\f" : NULL;
            if (named) {
                put = named, pn = 2;
            } else {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[ch >> 4], esc[5] = hex[ch & 15], pn = 6;
            }
        } else if (ch < 0x80) {
            esc[0] = (char)ch, pn = 1;
        } else if ((take = utf8_char(p + i, len - i)) > 0) {
            put = (const char *)p + i, pn = take;
        } else {
            put = "\\ufffd", pn = 6, take = 1; /* one invalid byte */
        }
        if (o + pn >= cap)
            break;
        memcpy(out + o, put, pn);
        o += pn;
        i += take;
    }
    out[o] = 0;
    if (used)
        *used = i;
    return o;
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* {"time":...,"level":...,"ident":...,"pid":...,"conn":...,"peer":...,
 * "msg":...[,"repeated":N]} and a newline, to stderr. */
static void emit_json(int level, long conn, const cw_port_peer *peer, const char *text,
                      size_t len, unsigned long repeated)
{
    static char out[LINE_MAX_LEN * 2 + 256];
    char when[32], ident[64], who[64];
    size_t n = 0;
    cw_port_log_time(when, sizeof when);
    cw_log_json_escape(ident, sizeof ident, cw_port_log_ident(), strlen(cw_port_log_ident()),
                       NULL);
    int w = snprintf(out, sizeof out,
                     "{\"time\":\"%s\",\"level\":\"%s\",\"ident\":\"%s\",\"pid\":%d", when,
                     level_names[level < 0 ? 0 : level > 3 ? 3 : level], ident, cw_port_log_pid());
    n = w > 0 ? (size_t)w : 0;
    if (conn >= 0) {
        w = snprintf(out + n, sizeof out - n, ",\"conn\":%ld", conn);
        n += w > 0 ? (size_t)w : 0;
        /* "conn N: " starting the text says it again: the key is enough */
        char pre[24];
        int pl = snprintf(pre, sizeof pre, "conn %ld: ", conn);
        if (pl > 0 && (size_t)pl <= len && memcmp(text, pre, (size_t)pl) == 0)
            text += pl, len -= (size_t)pl;
    }
    if (peer && peer->family) {
        cw_port_peer_format(peer, who, sizeof who);
        w = snprintf(out + n, sizeof out - n, ",\"peer\":\"%s\"", who);
        n += w > 0 ? (size_t)w : 0;
    }
    memcpy(out + n, ",\"msg\":\"", 8);
    n += 8;
    /* room kept for the tail: "," "repeated":4294967295 "}\n */
    n += cw_log_json_escape(out + n, sizeof out - n - 40, text, len, NULL);
    w = repeated ? snprintf(out + n, sizeof out - n, "\",\"repeated\":%lu}\n", repeated)
                 : snprintf(out + n, sizeof out - n, "\"}\n");
    n += w > 0 ? (size_t)w : 0;
    cw_port_log_raw(out, n);
}
#endif

static void emit(int level, long conn, const cw_port_peer *peer, const char *text, size_t len,
                 unsigned long repeated)
{
#if defined(CONFIG_LOG_JSON)
    if (log_json && !cw_port_log_to_syslog()) {
        emit_json(level, conn, peer, text, len, repeated);
        return;
    }
#endif
    (void)conn;
    (void)peer;
    (void)repeated;
    cw_port_log_write(level, text, len);
}

#if defined(CONFIG_LOG_RATELIMIT)
static void emit_summary(const cw_loglimit_summary *s)
{
    char line[64 + CW_LOGLIMIT_TEXT];
    int n = snprintf(line, sizeof line, "last message repeated %lu times: %s",
                     (unsigned long)s->repeated, s->text);
    if (n > 0)
        emit(s->level, -1, NULL, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1,
             s->repeated);
}
#endif

long cw_log_flush(int force)
{
#if defined(CONFIG_LOG_RATELIMIT)
    uint64_t now = cw_port_now_ms();
    cw_loglimit_summary s;
    while (cw_loglimit_due(now, force, &s))
        emit_summary(&s);
    long next = cw_loglimit_next(now);
    cw_log_held = next >= 0;
    return next;
#else
    (void)force;
    return -1;
#endif
}

static void vlog(int level, long conn, const cw_port_peer *peer, const char *fmt, va_list ap)
{
    static char line[LINE_MAX_LEN];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
#if defined(CONFIG_LOG_RATELIMIT)
    /* Summaries owed first, so they come before this line. */
    uint64_t now = cw_port_now_ms();
    cw_loglimit_summary s;
    while (cw_loglimit_due(now, 0, &s))
        emit_summary(&s);
    int evicted;
    int print = cw_loglimit_admit(fmt, level, line, len, now, &s, &evicted);
    if (evicted)
        emit_summary(&s);
    if (!print) {
        cw_log_held = 1;
        return;
    }
#endif
    emit(level, conn, peer, line, len, 0);
}

void(cw_log)(int level, const char *fmt, ...)
{
    if (level > log_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, -1, NULL, fmt, ap);
    va_end(ap);
}

void(cw_log_conn)(int level, long conn, const cw_port_peer *peer, const char *fmt, ...)
{
    if (level > log_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, conn, peer, fmt, ap);
    va_end(ap);
}
