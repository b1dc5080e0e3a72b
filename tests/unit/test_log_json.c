/* SPDX-License-Identifier: MIT */
/* test_log_json.c: the JSON log lines (src/base/log.c): the string escaper
 * (quotes, backslashes, control characters, valid UTF-8 kept, invalid
 * bytes replaced, never an escape or a character cut at the end of the
 * buffer), and whole lines written to stderr (a file read back) with
 * their keys, the connection id and peer, and the text line unchanged. */
#include "base/log.h"
#include "port.h"
#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char path[64];

#if defined(CONFIG_LOG_JSON)
static size_t esc(char *out, size_t cap, const char *in, size_t len)
{
    return cw_log_json_escape(out, cap, in, len, NULL);
}

static void test_escape_plain_and_specials(void)
{
    char out[256];
    CHECK_EQ(esc(out, sizeof out, "hello", 5), 5);
    CHECK(strcmp(out, "hello") == 0);
    esc(out, sizeof out, "a\"b\\c", 5);
    CHECK(strcmp(out, "a\\\"b\\\\c") == 0);
    esc(out, sizeof out, "\n\r\t\b\f", 5);
    CHECK(strcmp(out, "\\n\\r\\t\\b\\f") == 0);
    esc(out, sizeof out, "\x01\x1f\x7f", 3);
    CHECK(strcmp(out, "\\u0001\\u001f\\u007f") == 0);
    /* a NUL inside the span is a control character like the others */
    esc(out, sizeof out, "a\0b", 3);
    CHECK(strcmp(out, "a\\u0000b") == 0);
}

static void test_escape_utf8(void)
{
    char out[256];
    /* valid two-, three- and four-byte characters pass unchanged */
    const char *ok = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    esc(out, sizeof out, ok, strlen(ok));
    CHECK(strcmp(out, ok) == 0);
    /* a lone continuation byte, a truncated sequence, an overlong, a
     * surrogate, a code point above U+10FFFF: each byte becomes U+FFFD */
    esc(out, sizeof out, "\x80", 1);
    CHECK(strcmp(out, "\\ufffd") == 0);
    esc(out, sizeof out, "a\xe2\x82", 3);
    CHECK(strcmp(out, "a\\ufffd\\ufffd") == 0);
    esc(out, sizeof out, "\xc0\xaf", 2);
    CHECK(strcmp(out, "\\ufffd\\ufffd") == 0);
    esc(out, sizeof out, "\xed\xa0\x80", 3);
    CHECK(strcmp(out, "\\ufffd\\ufffd\\ufffd") == 0);
    esc(out, sizeof out, "\xf4\x90\x80\x80", 4);
    CHECK(strcmp(out, "\\ufffd\\ufffd\\ufffd\\ufffd") == 0);
    esc(out, sizeof out, "\xff", 1);
    CHECK(strcmp(out, "\\ufffd") == 0);
}

static void test_escape_bounded(void)
{
    char out[8];
    size_t used;
    /* "ab" then an escape of 6 that would leave no room for the NUL */
    size_t n = cw_log_json_escape(out, sizeof out, "ab\x01xyz", 6, &used);
    CHECK_EQ(n, 2);
    CHECK_EQ(used, 2);
    CHECK(strcmp(out, "ab") == 0);
    /* a character is never cut: three bytes do not fit in 3 (NUL) */
    char small[3];
    n = cw_log_json_escape(small, sizeof small, "\xe2\x82\xac", 3, &used);
    CHECK_EQ(n, 0);
    CHECK_EQ(used, 0);
    CHECK_EQ(small[0], 0);
    /* cap 0 writes nothing at all */
    char none = 'x';
    CHECK_EQ(cw_log_json_escape(&none, 0, "abc", 3, &used), 0);
    CHECK_EQ(none, 'x');
    /* a long hostile input fills the buffer and stays valid */
    char big[64], in[200];
    memset(in, '"', sizeof in);
    n = cw_log_json_escape(big, sizeof big, in, sizeof in, &used);
    CHECK(n < sizeof big);
    CHECK_EQ(n % 2, 0);
    CHECK_EQ(used, n / 2);
}

static int saved = -1;

static void capture(void)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    fflush(stderr);
    saved = dup(2);
    dup2(fd, 2);
    close(fd);
}

static const char *captured(void)
{
    static char buf[8192];
    dup2(saved, 2);
    close(saved);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

#endif

static void test_json_lines(void)
{
#if defined(CONFIG_LOG_JSON)
    cw_port_log_open(0, "unit\"ident");
    cw_log_set_level(CW_LOG_DEBUG);
    cw_log_set_limit(0, 1000);
    CHECK_EQ(cw_log_set_json(1), 0);
    cw_port_peer peer = {{127, 0, 0, 1}, 4242, 4};
    capture();
    cw_log(CW_LOG_ERROR, "plain %s", "line");
    cw_log_conn(CW_LOG_WARN, 7, &peer, "conn %u: Host '%s' not allowed", 7u, "ev\"il\n\x01\xff");
    const char *out = captured();
    const char *l2 = strchr(out, '\n');
    CHECK(l2 != NULL);
    CHECK(strncmp(out, "{\"time\":\"", 9) == 0);
    CHECK(strstr(out, "\"level\":\"error\",\"ident\":\"unit\\\"ident\",\"pid\":") != NULL);
    CHECK(strstr(out, "\"msg\":\"plain line\"}\n") != NULL);
    /* the time is RFC 3339 UTC with milliseconds: 2026-12-08T02:05:02.123Z */
    CHECK_EQ(out[9 + 4], '-');
    CHECK_EQ(out[9 + 10], 'T');
    CHECK_EQ(out[9 + 19], '.');
    CHECK_EQ(out[9 + 23], 'Z');
    CHECK_EQ(strstr(l2, "\"level\":\"warn\"") != NULL, CW_LOG_COMPILED >= CW_LOG_WARN);
    if (CW_LOG_COMPILED >= CW_LOG_WARN) {
        CHECK(strstr(l2, ",\"conn\":7,\"peer\":\"127.0.0.1:4242\",") != NULL);
        /* "conn 7: " is dropped from msg (the key says it); hostile text escaped */
        CHECK(strstr(l2, "\"msg\":\"Host 'ev\\\"il\\n\\u0001\\ufffd' not allowed\"}\n") !=
              NULL);
    }
    /* every line is one line: no raw control characters inside */
    for (const char *p = out; *p; p++)
        CHECK(*p == '\n' || (unsigned char)*p >= 0x20);
    /* connection 0 is a connection (the first slot); -1 is none */
    capture();
    cw_log_conn(CW_LOG_ERROR, 0, NULL, "conn %u: first slot", 0u);
    cw_log_conn(CW_LOG_ERROR, -1, NULL, "no connection");
    const char *z = captured();
    CHECK(strstr(z, ",\"conn\":0,\"msg\":\"first slot\"}\n") != NULL);
    CHECK(strstr(z, "\"pid\":") != NULL && strstr(strchr(z, '\n'), "\"conn\"") == NULL);
    /* text format: the message as it was, the connection's prefix kept */
    CHECK_EQ(cw_log_set_json(0), 0);
    capture();
    cw_log_conn(CW_LOG_ERROR, 7, &peer, "conn %u: text line", 7u);
    out = captured();
    CHECK(strstr(out, " error: conn 7: text line\n") != NULL);
    CHECK(strchr(out, '{') == NULL);
#else
    CHECK_EQ(cw_log_set_json(1), CW_EINVAL); /* not in this build: refused */
    CHECK_EQ(cw_log_set_json(0), 0);
#endif
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/cw-logjson-%ld", (long)getpid());
#if defined(CONFIG_LOG_JSON)
    RUN(test_escape_plain_and_specials);
    RUN(test_escape_utf8);
    RUN(test_escape_bounded);
#endif
    RUN(test_json_lines);
    unlink(path);
    return cw_unit_done();
}
