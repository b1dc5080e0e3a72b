/* SPDX-License-Identifier: MIT */
/* static.c: path checks and MIME types for static files. */
#include "proto/static.h"
#include "proto/http.h"

#include <string.h>

int cw_static_resolve(const char *path, char *rel, size_t cap)
{
    size_t o = 0;
    if (path[0] != '/' || cap < 12)
        return 404;
    for (size_t i = 1; path[i]; i++) {
        char c = path[i];
        if (c == '%') {
            int hi = cw_http_hexval(path[i + 1]), lo = hi < 0 ? -1 : cw_http_hexval(path[i + 2]);
            if (lo < 0)
                return 404;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == 0 || c == '\\' || (unsigned char)c < 0x20)
            return 404;
        if (o + 1 >= cap - 11)
            return 404;
        rel[o++] = c;
    }
    rel[o] = 0;
    /* Check every segment of the decoded name. */
    for (size_t s = 0; s < o;) {
        size_t e = s;
        while (e < o && rel[e] != '/')
            e++;
        if (e == s || rel[s] == '.')
            return 404; /* "//", ".", "..", ".hidden" */
        s = e + 1;
    }
    if (o == 0 || rel[o - 1] == '/')
        strcpy(rel + o, "index.html");
    return 0;
}

const char *cw_static_mime(const char *rel)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},   {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"}, {"json", "application/json"},
        {"txt", "text/plain; charset=utf-8"}, {"svg", "image/svg+xml"},
        {"png", "image/png"},                 {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},               {"gif", "image/gif"},
        {"webp", "image/webp"},               {"ico", "image/x-icon"},
        {"wasm", "application/wasm"},         {"woff", "font/woff"},
        {"woff2", "font/woff2"},              {"xml", "application/xml"},
        {"map", "application/json"},          {"pdf", "application/pdf"},
    };
    const char *dot = strrchr(rel, '.');
    const char *slash = strrchr(rel, '/');
    if (dot && (!slash || dot > slash)) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
            const char *a = dot + 1, *b = types[i].ext;
            while (*a && *b && (*a | 32) == *b) {
                a++;
                b++;
            }
            if (!*a && !*b)
                return types[i].type;
        }
    }
    return "application/octet-stream";
}
