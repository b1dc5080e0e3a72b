/* SPDX-License-Identifier: MIT */
/* test_router.c: route patterns ("/ws/chat/<room>/"): which patterns are
 * well formed, which paths match, the argument values written and looked up
 * by name, and every way a path or an argument is refused. */
#include "proto/router.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

/* Matches a NUL-terminated path; args into buf. */
static int match(const char *pat, const char *path, char *buf, size_t cap)
{
    return cw_route_match(pat, path, strlen(path), buf, cap);
}

static void test_pattern_valid(void)
{
    CHECK_EQ(cw_route_pattern_valid("/"), 1);
    CHECK_EQ(cw_route_pattern_valid("/ws/users/"), 1);
    CHECK_EQ(cw_route_pattern_valid("/ws/echo"), 1);
    CHECK_EQ(cw_route_pattern_valid("/ws/chat/<room>/"), 1);
    CHECK_EQ(cw_route_pattern_valid("/ws/chat/<room>"), 1);
    CHECK_EQ(cw_route_pattern_valid("/<a>"), 1);
    CHECK_EQ(cw_route_pattern_valid("/<Room_2>/"), 1);
    CHECK_EQ(cw_route_pattern_valid("/<a>/<b>/<c>/<d>/"), 1); /* CW_ROUTE_MAX_ARGS */
    CHECK_EQ(cw_route_pattern_valid("/<a>/<b>/<c>/<d>/<e>/"), 0);
    CHECK_EQ(cw_route_pattern_valid(""), 0);
    CHECK_EQ(cw_route_pattern_valid("ws/users/"), 0);
    CHECK_EQ(cw_route_pattern_valid("<room>/"), 0);
    CHECK_EQ(cw_route_pattern_valid("/ws/<room"), 0);
    CHECK_EQ(cw_route_pattern_valid("/ws/<room/"), 0);
    CHECK_EQ(cw_route_pattern_valid("/ws/<>/"), 0);
    CHECK_EQ(cw_route_pattern_valid("/ws/x<room>/"), 0);  /* not a whole segment */
    CHECK_EQ(cw_route_pattern_valid("/ws/<room>x/"), 0);
    CHECK_EQ(cw_route_pattern_valid("/ws/<room><b>/"), 0);
    CHECK_EQ(cw_route_pattern_valid("/ws/<ro-om>/"), 0); /* names: [A-Za-z0-9_] */
    CHECK_EQ(cw_route_pattern_valid("/ws/<ro.om>/"), 0);
    CHECK_EQ(cw_route_pattern_valid("/ws/<<room>>/"), 0);
    CHECK_EQ(cw_route_pattern_valid("/ws/room>/"), 0);
    CHECK_EQ(cw_route_pattern_valid("/ws/>/"), 0);
}

static void test_static_route(void)
{
    char args[64];
    CHECK_EQ(match("/ws/users/", "/ws/users/", args, sizeof args), 0);
    CHECK_EQ(match("/ws/users/", "/ws/users", args, sizeof args), -1);
    CHECK_EQ(match("/ws/users/", "/ws/users/x", args, sizeof args), -1);
    CHECK_EQ(match("/ws/users/", "/ws/usersx/", args, sizeof args), -1);
    CHECK_EQ(match("/ws/users/", "/WS/users/", args, sizeof args), -1); /* case-sensitive */
    CHECK_EQ(match("/ws/users/", "", args, sizeof args), -1);
    CHECK_EQ(match("/", "/", args, sizeof args), 0);
    CHECK_EQ(match("/", "//", args, sizeof args), -1);
    /* only path[0..len) counts, whatever follows */
    CHECK_EQ(cw_route_match("/ws/users/", "/ws/users/?q=1", 10, args, sizeof args), 0);
    CHECK_EQ(cw_route_match("/ws/users/", "/ws/users/", 9, args, sizeof args), -1);
    /* a NUL inside the length is a byte like any other */
    CHECK_EQ(cw_route_match("/ws/users/", "/ws/us\0rs/", 10, args, sizeof args), -1);
}

static void test_one_arg(void)
{
    const char *pat = "/ws/chat/<room>/";
    char args[64];
    memset(args, 'x', sizeof args);
    CHECK_EQ(match(pat, "/ws/chat/lobby/", args, sizeof args), 1);
    CHECK_MEM(args, "lobby\0xx", 8); /* NUL-terminated, nothing more written */
    const char *v = cw_route_arg(pat, args, "room");
    CHECK(v == args);
    CHECK(v && strcmp(v, "lobby") == 0);
    CHECK(cw_route_arg(pat, args, "roo") == NULL);
    CHECK(cw_route_arg(pat, args, "rooms") == NULL);
    CHECK(cw_route_arg(pat, args, "") == NULL);
    CHECK(cw_route_arg("/ws/users/", args, "room") == NULL);

    /* every allowed character */
    CHECK_EQ(match(pat, "/ws/chat/AZaz09_.-/", args, sizeof args), 1);
    CHECK(strcmp(args, "AZaz09_.-") == 0);
    CHECK_EQ(match(pat, "/ws/chat/.a/", args, sizeof args), 1);
    CHECK(strcmp(args, ".a") == 0);
    CHECK_EQ(match(pat, "/ws/chat/.../", args, sizeof args), 1);
    CHECK(strcmp(args, "...") == 0);

    /* refused values */
    static const char *const bad[] = {
        "/ws/chat//",          /* empty */
        "/ws/chat/lobby",      /* the pattern's trailing '/' is missing */
        "/ws/chat/lobby/x",    /* more after the pattern */
        "/ws/chat/lobby//",
        "/ws/chat/lob by/",
        "/ws/chat/lob%20by/",  /* not decoded, and '%' is not allowed */
        "/ws/chat/lob+by/",
        "/ws/chat/a:b/",
        "/ws/chat/a~b/",
        "/ws/chat/\xc3\xa9/",  /* non-ASCII */
        "/ws/chat/./",
        "/ws/chat/../",
        "/ws/chat/a/b/",       /* one segment only */
        "/ws/chat/",
        "/ws/chat",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (match(pat, bad[i], args, sizeof args) != -1)
            cw_unit_check(0, bad[i], __FILE__, __LINE__);
    }
}

static void test_arg_length(void)
{
    const char *pat = "/r/<name>/";
    char path[128], args[128];
    char v[CW_ROUTE_ARG_MAX + 2];
    memset(v, 'a', sizeof v);
    v[CW_ROUTE_ARG_MAX] = 0;
    snprintf(path, sizeof path, "/r/%s/", v);
    CHECK_EQ(match(pat, path, args, sizeof args), 1);
    CHECK_EQ(strlen(args), CW_ROUTE_ARG_MAX);
    v[CW_ROUTE_ARG_MAX] = 'a';
    v[CW_ROUTE_ARG_MAX + 1] = 0;
    snprintf(path, sizeof path, "/r/%s/", v);
    CHECK_EQ(match(pat, path, args, sizeof args), -1);
    /* one character */
    CHECK_EQ(match(pat, "/r/z/", args, sizeof args), 1);
    CHECK(strcmp(args, "z") == 0);
}

static void test_arg_at_end(void)
{
    const char *pat = "/ws/<id>";
    char args[16];
    CHECK_EQ(match(pat, "/ws/42", args, sizeof args), 1);
    CHECK(strcmp(args, "42") == 0);
    CHECK_EQ(match(pat, "/ws/42/", args, sizeof args), -1);
    CHECK_EQ(match(pat, "/ws/", args, sizeof args), -1);
}

static void test_many_args(void)
{
    const char *pat = "/a/<x>/b/<y>/<z>/";
    char args[64];
    memset(args, '#', sizeof args);
    CHECK_EQ(match(pat, "/a/one/b/two/three/", args, sizeof args), 3);
    CHECK_MEM(args, "one\0two\0three\0#", 15);
    const char *x = cw_route_arg(pat, args, "x"), *y = cw_route_arg(pat, args, "y"),
               *z = cw_route_arg(pat, args, "z");
    CHECK(x && strcmp(x, "one") == 0);
    CHECK(y && strcmp(y, "two") == 0);
    CHECK(z && strcmp(z, "three") == 0);
    CHECK(cw_route_arg(pat, args, "b") == NULL);
    CHECK_EQ(match(pat, "/a/one/c/two/three/", args, sizeof args), -1);
    CHECK_EQ(match(pat, "/a/one/b/two/", args, sizeof args), -1);
    /* the maximum number of arguments */
    const char *p4 = "/<a>/<b>/<c>/<d>/";
    CHECK_EQ(match(p4, "/1/2/3/4/", args, sizeof args), 4);
    const char *d = cw_route_arg(p4, args, "d");
    CHECK(d && strcmp(d, "4") == 0);
}

static void test_args_capacity(void)
{
    const char *pat = "/<a>/<b>/";
    char args[16];
    memset(args, '#', sizeof args);
    /* "abc\0de\0" is 7 bytes: fits in 7, not in 6 */
    CHECK_EQ(match(pat, "/abc/de/", args, 7), 2);
    CHECK_MEM(args, "abc\0de\0#", 8);
    memset(args, '#', sizeof args);
    CHECK_EQ(match(pat, "/abc/de/", args, 6), -1);
    CHECK_EQ(args[6], '#'); /* nothing written past cap */
    CHECK_EQ(match(pat, "/abc/de/", args, 0), -1);
}

static void test_first_match_order(void)
{
    /* literal text next to an argument must match exactly as well */
    char args[64];
    CHECK_EQ(match("/ws/chat/<room>/", "/ws/chats/x/", args, sizeof args), -1);
    CHECK_EQ(match("/ws/<kind>/x/", "/ws/chat/x/", args, sizeof args), 1);
    CHECK(strcmp(args, "chat") == 0);
    CHECK_EQ(match("/ws/<kind>/x/", "/ws/chat/y/", args, sizeof args), -1);
}

int main(void)
{
    RUN(test_pattern_valid);
    RUN(test_static_route);
    RUN(test_one_arg);
    RUN(test_arg_length);
    RUN(test_arg_at_end);
    RUN(test_many_args);
    RUN(test_args_capacity);
    RUN(test_first_match_order);
    return cw_unit_done();
}
