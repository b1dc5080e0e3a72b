/* SPDX-License-Identifier: MIT */
/* test_control.c: the control socket's request parser (cw_control_cmd_parse):
 * send / broadcast / close / stats, requests that arrive in pieces, payload
 * and header bounds, and every malformed request refused with its reason. */
#include "control.h"
#include "cw_config.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

#define MAXP 1000

static cw_control_cmd cmd;
static const char *why;

static int parse_n(const char *buf, size_t len)
{
    why = NULL;
    return cw_control_cmd_parse(buf, len, MAXP, &cmd, &why);
}

static int parse(const char *s)
{
    return parse_n(s, strlen(s));
}

static int why_is(const char *want)
{
    return why && strcmp(why, want) == 0;
}

static void test_stats(void)
{
    CHECK_EQ(parse("stats\n"), CW_CTL_DONE);
    CHECK_EQ(cmd.op, CW_CTL_STATS);
    CHECK_EQ(cmd.total, 6);
    CHECK_EQ(cmd.len, 0);
    CHECK_EQ(parse("stats"), CW_CTL_MORE);
    CHECK_EQ(parse("stats extra\n"), CW_CTL_BAD);
    CHECK(why_is("unexpected words"));
    CHECK_EQ(parse("stats\r\n"), CW_CTL_BAD); /* one protocol: LF only */
    CHECK(why_is("malformed request"));
    /* restart: one word, like stats (builds with CONFIG_RESTART). */
#if defined(CONFIG_RESTART)
    CHECK_EQ(parse("restart\n"), CW_CTL_DONE);
    CHECK_EQ(cmd.op, CW_CTL_RESTART);
    CHECK_EQ(cmd.total, 8);
    CHECK_EQ(parse("restart now\n"), CW_CTL_BAD);
    CHECK(why_is("unexpected words"));
#else
    CHECK_EQ(parse("restart\n"), CW_CTL_BAD);
    CHECK(why_is("unknown command"));
#endif
}

static void test_send(void)
{
    const char *r = "send chat_lobby chat.message 16\n{\"message\":\"hi\"}";
    CHECK_EQ(parse(r), CW_CTL_DONE);
    CHECK_EQ(cmd.op, CW_CTL_SEND);
    CHECK(strcmp(cmd.group, "chat_lobby") == 0);
    CHECK(strcmp(cmd.type, "chat.message") == 0);
    CHECK_EQ(cmd.len, 16);
    CHECK(cmd.payload == r + 32);
    CHECK_MEM(cmd.payload, "{\"message\":\"hi\"}", 16);
    CHECK_EQ(cmd.total, 32 + 16);
    /* bytes after the payload are not part of it */
    CHECK_EQ(parse("send g t 2\nabcdef"), CW_CTL_DONE);
    CHECK_EQ(cmd.len, 2);
    CHECK_EQ(cmd.total, 13);
    /* an empty payload */
    CHECK_EQ(parse("send g t 0\n"), CW_CTL_DONE);
    CHECK_EQ(cmd.len, 0);
    CHECK_EQ(cmd.total, 11);
    /* leading zeros are still decimal */
    CHECK_EQ(parse("send g t 010\n0123456789"), CW_CTL_DONE);
    CHECK_EQ(cmd.len, 10);
}

static void test_chsend(void)
{
    const char *r = "chsend specific.0123456789abcdef0123456789abcdef!0000000100000002 "
                    "peer.msg 7\n{\"x\":1}";
    CHECK_EQ(parse(r), CW_CTL_DONE);
    CHECK_EQ(cmd.op, CW_CTL_CHSEND);
    CHECK(strcmp(cmd.channel, "specific.0123456789abcdef0123456789abcdef!0000000100000002") == 0);
    CHECK(strcmp(cmd.type, "peer.msg") == 0);
    CHECK_EQ(cmd.len, 7);
    CHECK_MEM(cmd.payload, "{\"x\":1}", 7);
    CHECK_EQ(parse("chsend device.commands t 0\n"), CW_CTL_DONE);
    CHECK(strcmp(cmd.channel, "device.commands") == 0);
    /* the name is checked by cw_channel_send; here only its length (127) */
    char big[300];
    snprintf(big, sizeof big, "chsend %0127d t 0\n", 0);
    CHECK_EQ(parse(big), CW_CTL_DONE);
    snprintf(big, sizeof big, "chsend %0128d t 0\n", 0);
    CHECK_EQ(parse(big), CW_CTL_BAD);
    CHECK(why_is("bad channel name"));
    CHECK_EQ(parse("chsend name\n"), CW_CTL_BAD);
    CHECK(why_is("bad type"));
    CHECK_EQ(parse("chsend name t\n"), CW_CTL_BAD);
    CHECK(why_is("bad or too large length"));
    CHECK_EQ(parse("chsend name t 1001\n"), CW_CTL_BAD);
    CHECK_EQ(parse("chsend name t 1 x\n"), CW_CTL_BAD);
    CHECK(why_is("unexpected words"));
}

static void test_broadcast(void)
{
    CHECK_EQ(parse("broadcast user_42 3\nabc"), CW_CTL_DONE);
    CHECK_EQ(cmd.op, CW_CTL_BROADCAST);
    CHECK(strcmp(cmd.group, "user_42") == 0);
    CHECK_EQ(cmd.type[0], 0);
    CHECK_EQ(cmd.len, 3);
    CHECK_MEM(cmd.payload, "abc", 3);
    CHECK_EQ(cmd.total, 23);
    /* a payload may hold newlines and NULs: LEN counts */
    CHECK_EQ(parse_n("broadcast g 5\na\nb\0c", 19), CW_CTL_DONE);
    CHECK_EQ(cmd.len, 5);
    CHECK_MEM(cmd.payload, "a\nb\0c", 5);
    CHECK_EQ(parse("broadcast g t 3\nabc"), CW_CTL_BAD); /* broadcast has no type */
    CHECK(why_is("bad or too large length"));
}

static void test_close(void)
{
    CHECK_EQ(parse("close users 4000 server restarting\n"), CW_CTL_DONE);
    CHECK_EQ(cmd.op, CW_CTL_CLOSE);
    CHECK(strcmp(cmd.group, "users") == 0);
    CHECK_EQ(cmd.code, 4000);
    CHECK(strcmp(cmd.reason, "server restarting") == 0);
    CHECK_EQ(cmd.total, 35);
    CHECK_EQ(cmd.len, 0);
    CHECK_EQ(parse("close g 1000\n"), CW_CTL_DONE);
    CHECK_EQ(cmd.code, 1000);
    CHECK_EQ(cmd.reason[0], 0);
    /* the reason is the rest of the line, spaces included */
    CHECK_EQ(parse("close g 1001  two  spaces \n"), CW_CTL_DONE);
    CHECK(strcmp(cmd.reason, " two  spaces ") == 0);
    /* 123 bytes of reason fit (a close frame's limit), 124 do not */
    char r[200], reason[130];
    memset(reason, 'r', sizeof reason);
    reason[123] = 0;
    snprintf(r, sizeof r, "close g 1000 %s\n", reason);
    CHECK_EQ(parse(r), CW_CTL_DONE);
    CHECK_EQ(strlen(cmd.reason), 123);
    reason[123] = 'r';
    reason[124] = 0;
    snprintf(r, sizeof r, "close g 1000 %s\n", reason);
    CHECK_EQ(parse(r), CW_CTL_BAD);
    CHECK(why_is("reason too long"));
    /* codes: the parser bounds them at 4999; the group call checks them */
    CHECK_EQ(parse("close g 4999\n"), CW_CTL_DONE);
    CHECK_EQ(cmd.code, 4999);
    static const char *const bad[] = {
        "close g 5000\n", "close g -1\n", "close g +1000\n", "close g 10x\n",
        "close g\n",      "close\n",      "close g 0x3e8\n", "close g 99999999999999999999\n",
        "close  g 1000\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(bad[i]) != CW_CTL_BAD || !why_is("usage: close GROUP CODE [REASON]"))
            cw_unit_check(0, bad[i], __FILE__, __LINE__);
    }
}

static void test_pieces(void)
{
    /* every prefix of a request is MORE, the whole is DONE */
    const char *r = "send room.1 chat.message 5\nhello";
    size_t n = strlen(r);
    for (size_t i = 0; i < n; i++) {
        if (parse_n(r, i) != CW_CTL_MORE) {
            CHECK_EQ(parse_n(r, i), CW_CTL_MORE);
            break;
        }
    }
    CHECK_EQ(parse_n(r, n), CW_CTL_DONE);
    CHECK_MEM(cmd.payload, "hello", 5);
    /* MORE with the header read reports the whole size needed */
    CHECK_EQ(parse_n(r, n - 2), CW_CTL_MORE);
    CHECK_EQ(cmd.total, n);
}

static void test_header_limit(void)
{
    char r[CW_CTL_HEADER_MAX + 8];
    /* no newline in the first CW_CTL_HEADER_MAX bytes: refused */
    memset(r, 'x', sizeof r);
    CHECK_EQ(parse_n(r, CW_CTL_HEADER_MAX - 1), CW_CTL_MORE);
    CHECK_EQ(parse_n(r, CW_CTL_HEADER_MAX), CW_CTL_BAD);
    CHECK(why_is("request line too long"));
    CHECK_EQ(parse_n(r, sizeof r), CW_CTL_BAD);
    /* a line that ends exactly at the limit is read */
    memcpy(r, "close g 1000 ", 13);
    memset(r + 13, 'r', CW_CTL_HEADER_MAX - 14);
    r[CW_CTL_HEADER_MAX - 1] = '\n';
    CHECK_EQ(parse_n(r, CW_CTL_HEADER_MAX), CW_CTL_BAD); /* reason over 123 */
    CHECK(why_is("reason too long"));
    /* ... and a newline just past the limit is not looked for */
    memcpy(r, "send g t 1", 10);
    memset(r + 10, ' ', CW_CTL_HEADER_MAX - 10);
    r[CW_CTL_HEADER_MAX] = '\n';
    CHECK_EQ(parse_n(r, CW_CTL_HEADER_MAX + 1), CW_CTL_BAD);
    CHECK(why_is("request line too long"));
}

static void test_payload_limit(void)
{
    char r[64];
    snprintf(r, sizeof r, "send g t %d\n", MAXP);
    CHECK_EQ(parse(r), CW_CTL_MORE);
    CHECK_EQ(cmd.total, strlen(r) + MAXP);
    snprintf(r, sizeof r, "send g t %d\n", MAXP + 1);
    CHECK_EQ(parse(r), CW_CTL_BAD);
    CHECK(why_is("bad or too large length"));
    snprintf(r, sizeof r, "broadcast g %d\n", MAXP + 1);
    CHECK_EQ(parse(r), CW_CTL_BAD);
    CHECK_EQ(parse("send g t 18446744073709551616\n"), CW_CTL_BAD);
    CHECK_EQ(parse("send g t 99999999999999999999999\n"), CW_CTL_BAD);
    /* max_payload 0 allows only empty payloads */
    CHECK_EQ(cw_control_cmd_parse("broadcast g 0\n", 14, 0, &cmd, &why), CW_CTL_DONE);
    CHECK_EQ(cw_control_cmd_parse("broadcast g 1\nx", 15, 0, &cmd, &why), CW_CTL_BAD);
}

static void test_malformed(void)
{
    static const struct {
        const char *req, *why;
    } v[] = {
        {"\n", "malformed request"},
        {" stats\n", "malformed request"},
        {"frobnicate g\n", "unknown command"},
        {"SEND g t 1\nx", "unknown command"},
        {"sendx g t 1\nx", "unknown command"},
        {"verylongverbname g\n", "malformed request"},
        {"send\n", "bad group name"},
        {"send  g t 1\nx", "bad group name"},
        {"send g\n", "bad type"},
        {"send g t\n", "bad or too large length"},
        {"send g t x\n", "bad or too large length"},
        {"send g t -1\n", "bad or too large length"},
        {"send g t +1\nx", "bad or too large length"},
        {"send g t 1x\nx", "bad or too large length"},
        {"send g t 1 extra\nx", "unexpected words"},
        {"send g t 1  \nx", "unexpected words"},
        {"broadcast\n", "bad group name"},
        {"broadcast g\n", "bad or too large length"},
        {"broadcast g 1 2\nx", "unexpected words"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        int rc = parse(v[i].req);
        if (rc != CW_CTL_BAD || !why_is(v[i].why)) {
            char msg[160];
            snprintf(msg, sizeof msg, "'%s' -> BAD '%s' (got %d '%s')", v[i].req, v[i].why, rc,
                     why ? why : "");
            cw_unit_check(0, msg, __FILE__, __LINE__);
        }
    }
}

static void test_name_lengths(void)
{
    char r[400], g[120], t[80];
    /* a 100-byte group fits the buffer; the group call judges the name */
    memset(g, 'g', sizeof g);
    g[100] = 0;
    snprintf(r, sizeof r, "broadcast %s 0\n", g);
    CHECK_EQ(parse(r), CW_CTL_DONE);
    CHECK_EQ(strlen(cmd.group), 100);
    g[100] = 'g';
    g[101] = 0;
    snprintf(r, sizeof r, "broadcast %s 0\n", g);
    CHECK_EQ(parse(r), CW_CTL_BAD);
    CHECK(why_is("bad group name"));
    /* types up to 64 bytes */
    memset(t, 't', sizeof t);
    t[64] = 0;
    snprintf(r, sizeof r, "send g %s 0\n", t);
    CHECK_EQ(parse(r), CW_CTL_DONE);
    CHECK_EQ(strlen(cmd.type), 64);
    t[64] = 't';
    t[65] = 0;
    snprintf(r, sizeof r, "send g %s 0\n", t);
    CHECK_EQ(parse(r), CW_CTL_BAD);
    CHECK(why_is("bad type"));
}

/* A NUL inside a word would cut the C string short: "g\0evil" would act on
 * group "g". Words with NUL (or other control bytes) are refused. */
static void test_nul_in_words(void)
{
    CHECK_EQ(parse_n("send g\0evil t 1\nx", 17), CW_CTL_BAD);
    CHECK(why_is("bad group name"));
    CHECK_EQ(parse_n("send g t\0x 1\nx", 14), CW_CTL_BAD);
    CHECK(why_is("bad type"));
    CHECK_EQ(parse_n("broadcast g 1\0\nx", 16), CW_CTL_BAD);
    CHECK_EQ(parse_n("close g\0x 1000\n", 15), CW_CTL_BAD);
    CHECK_EQ(parse_n("close g 1000 bye\0x\n", 19), CW_CTL_BAD);
    CHECK(why_is("NUL in the reason"));
    CHECK_EQ(parse_n("stats\0\n", 7), CW_CTL_BAD);
    CHECK_EQ(parse_n("send g\tx t 1\nx", 14), CW_CTL_BAD);
}

int main(void)
{
    RUN(test_stats);
    RUN(test_send);
    RUN(test_chsend);
    RUN(test_broadcast);
    RUN(test_close);
    RUN(test_pieces);
    RUN(test_header_limit);
    RUN(test_payload_limit);
    RUN(test_malformed);
    RUN(test_name_lengths);
    RUN(test_nul_in_words);
    return cw_unit_done();
}
