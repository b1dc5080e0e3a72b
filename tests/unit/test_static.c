/* SPDX-License-Identifier: MIT */
/* test_static.c: request paths to file names below the www directory:
 * index.html for directories, percent-decoding, and every path that could
 * leave the directory or name a hidden file answered with 404; MIME types
 * by extension. */
#include "proto/static.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

static void expect_rel(const char *path, const char *want, int line)
{
    char rel[256];
    memset(rel, '#', sizeof rel);
    int rc = cw_static_resolve(path, rel, sizeof rel);
    if (rc != 0 || strcmp(rel, want) != 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "'%s' -> '%s' (rc %d, got '%.40s')", path, want, rc,
                 rc == 0 ? rel : "");
        cw_unit_check(0, msg, __FILE__, line);
    }
}
#define RESOLVES(p, w) expect_rel((p), (w), __LINE__)

static void expect_404(const char *path, int line)
{
    char rel[256];
    if (cw_static_resolve(path, rel, sizeof rel) != 404) {
        char msg[200];
        snprintf(msg, sizeof msg, "'%s' -> 404", path);
        cw_unit_check(0, msg, __FILE__, line);
    }
}
#define NOT_FOUND(p) expect_404((p), __LINE__)

static void test_resolve(void)
{
    RESOLVES("/", "index.html");
    RESOLVES("/index.html", "index.html");
    RESOLVES("/app.js", "app.js");
    RESOLVES("/app/x.js", "app/x.js");
    RESOLVES("/app/", "app/index.html");
    RESOLVES("/a/b/c/", "a/b/c/index.html");
    RESOLVES("/a.b", "a.b");
    RESOLVES("/a..b", "a..b");       /* dots inside a name are fine */
    RESOLVES("/a./b", "a./b");
    RESOLVES("/a%20b.txt", "a b.txt");
    RESOLVES("/%61pp.js", "app.js");
    RESOLVES("/%C3%A9t%c3%a9.html", "\xc3\xa9t\xc3\xa9.html");
    RESOLVES("/a%2fb", "a/b");       /* a decoded '/' is a separator like any other */
    RESOLVES("/a+b", "a+b");          /* '+' is not a space in a path */
    RESOLVES("/a~b-c_d", "a~b-c_d");
}

static void test_traversal(void)
{
    NOT_FOUND("/..");
    NOT_FOUND("/../");
    NOT_FOUND("/../etc/passwd");
    NOT_FOUND("/a/../b");
    NOT_FOUND("/a/..");
    NOT_FOUND("/a/../");
    NOT_FOUND("/.");
    NOT_FOUND("/./");
    NOT_FOUND("/./a");
    NOT_FOUND("/a/.");
    NOT_FOUND("/a/./b");
    NOT_FOUND("/...");
    NOT_FOUND("/%2e%2e/etc/passwd");  /* encoded dots */
    NOT_FOUND("/%2E%2E/x");
    NOT_FOUND("/.%2e/x");
    NOT_FOUND("/a/%2e");
    NOT_FOUND("/a%2f..%2fb");         /* encoded separators around ".." */
    NOT_FOUND("/a%2f%2e%2e%2fb");
    NOT_FOUND("/.git/config");        /* hidden */
    NOT_FOUND("/a/.hidden");
    NOT_FOUND("/.env");
    NOT_FOUND("/a/.b/c");
    NOT_FOUND("/%2ehtaccess");
    NOT_FOUND("//etc/passwd");         /* empty segments */
    NOT_FOUND("/a//b");
    NOT_FOUND("/a%2f%2fb");
    NOT_FOUND("/a/%2f");
    NOT_FOUND("/%2f");
    NOT_FOUND("/a\\b");              /* backslashes */
    NOT_FOUND("/..\\x");
    NOT_FOUND("/a%5cb");
    NOT_FOUND("/a%5C..%5Cb");
    NOT_FOUND("/a%00b");             /* NUL and control characters */
    NOT_FOUND("/a%00");
    NOT_FOUND("/a%0ab");
    NOT_FOUND("/a%1f");
    NOT_FOUND("/a\x01");
    NOT_FOUND("/a%");                /* bad escapes */
    NOT_FOUND("/a%4");
    NOT_FOUND("/a%zz");
    NOT_FOUND("/a%4g");
    NOT_FOUND("/a%g4");
    NOT_FOUND("/%");
    NOT_FOUND("");                   /* not a path */
    NOT_FOUND("a/b");
    NOT_FOUND("index.html");
    NOT_FOUND("\\a");
}

static void test_capacity(void)
{
    char rel[64];
    char path[200];
    /* the name must leave room for "index.html" appended to a directory */
    memset(rel, '#', sizeof rel);
    memset(path, 'a', sizeof path);
    path[0] = '/';
    path[53] = 0; /* 52 characters: 52 + 1 < 64 - 11 */
    CHECK_EQ(cw_static_resolve(path, rel, sizeof rel), 0);
    CHECK_EQ(strlen(rel), 52);
    path[53] = 'a';
    path[54] = 0; /* 53 characters: refused */
    CHECK_EQ(cw_static_resolve(path, rel, sizeof rel), 404);
    /* a directory name of the longest allowed length */
    memset(path, 'a', sizeof path);
    path[0] = '/';
    path[52] = '/';
    path[53] = 0;
    memset(rel, '#', sizeof rel);
    CHECK_EQ(cw_static_resolve(path, rel, sizeof rel), 0);
    CHECK_EQ(strlen(rel), 62);
    CHECK(strcmp(rel + 52, "index.html") == 0);
    CHECK_EQ(rel[63], '#');
    /* tiny buffers: refused, even for "/" */
    CHECK_EQ(cw_static_resolve("/", rel, 11), 404);
    CHECK_EQ(cw_static_resolve("/", rel, 12), 0);
    CHECK(strcmp(rel, "index.html") == 0);
    CHECK_EQ(cw_static_resolve("/a", rel, 0), 404);
    /* an encoded path is measured after decoding */
    CHECK_EQ(cw_static_resolve("/%61%61%61%61%61%61%61%61%61%61%61%61", rel, 24), 0);
    CHECK(strcmp(rel, "aaaaaaaaaaaa") == 0);
}

static void test_mime(void)
{
    static const struct {
        const char *name, *type;
    } v[] = {
        {"index.html", "text/html; charset=utf-8"},
        {"a/b.htm", "text/html; charset=utf-8"},
        {"INDEX.HTML", "text/html; charset=utf-8"},
        {"s.css", "text/css; charset=utf-8"},
        {"app.js", "text/javascript; charset=utf-8"},
        {"APP.Js", "text/javascript; charset=utf-8"},
        {"m.mjs", "text/javascript; charset=utf-8"},
        {"d.json", "application/json"},
        {"d.js.map", "application/json"},
        {"t.txt", "text/plain; charset=utf-8"},
        {"i.svg", "image/svg+xml"},
        {"i.png", "image/png"},
        {"i.jpg", "image/jpeg"},
        {"i.jpeg", "image/jpeg"},
        {"i.gif", "image/gif"},
        {"i.webp", "image/webp"},
        {"favicon.ico", "image/x-icon"},
        {"m.wasm", "application/wasm"},
        {"f.woff", "font/woff"},
        {"f.woff2", "font/woff2"},
        {"d.xml", "application/xml"},
        {"d.pdf", "application/pdf"},
        {"README", "application/octet-stream"},
        {"a.tar.gz", "application/octet-stream"},
        {"a.htmlx", "application/octet-stream"},
        {"a.htm.", "application/octet-stream"},
        {"a.jss", "application/octet-stream"},
        {"a.j", "application/octet-stream"},
        {"dir.html/file", "application/octet-stream"}, /* the dot is in a directory */
        {"dir.d/index.html", "text/html; charset=utf-8"},
        {"", "application/octet-stream"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        const char *got = cw_static_mime(v[i].name);
        if (strcmp(got, v[i].type) != 0) {
            char msg[160];
            snprintf(msg, sizeof msg, "mime(%s) == %s, got %s", v[i].name, v[i].type, got);
            cw_unit_check(0, msg, __FILE__, __LINE__);
        }
    }
}

int main(void)
{
    RUN(test_resolve);
    RUN(test_traversal);
    RUN(test_capacity);
    RUN(test_mime);
    return cw_unit_done();
}
