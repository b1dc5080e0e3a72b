/* SPDX-License-Identifier: MIT */
/* router.c: segment-by-segment matching of a path against a pattern. */
#include "proto/router.h"

#include <string.h>

static int is_arg_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

int cw_route_pattern_valid(const char *p)
{
    int nargs = 0;
    if (p[0] != '/')
        return 0;
    for (size_t i = 0; p[i]; i++) {
        if (p[i] == '>')
            return 0;
        if (p[i] != '<')
            continue;
        if (p[i - 1] != '/')
            return 0; /* a placeholder is a whole segment */
        size_t j = i + 1;
        while (is_name_char(p[j]))
            j++;
        if (j == i + 1 || p[j] != '>' || (p[j + 1] != '/' && p[j + 1] != 0))
            return 0;
        if (++nargs > CW_ROUTE_MAX_ARGS)
            return 0;
        i = j;
    }
    return 1;
}

int cw_route_match(const char *pat, const char *path, size_t len, char *args, size_t cap)
{
    size_t i = 0, o = 0;
    int nargs = 0;
    while (*pat) {
        if (*pat != '<') {
            if (i >= len || path[i] != *pat)
                return -1;
            i++;
            pat++;
            continue;
        }
        pat = strchr(pat, '>') + 1;
        size_t start = i;
        while (i < len && is_arg_char(path[i]))
            i++;
        size_t n = i - start;
        if (n == 0 || n > CW_ROUTE_ARG_MAX || (i < len && path[i] != '/') || o + n + 1 > cap)
            return -1;
        /* "." and ".." are never names: they mean something else in paths */
        if ((n == 1 && path[start] == '.') || (n == 2 && path[start] == '.' && path[start + 1] == '.'))
            return -1;
        memcpy(args + o, path + start, n);
        o += n;
        args[o++] = 0;
        nargs++;
    }
    return i == len ? nargs : -1;
}

const char *cw_route_arg(const char *pat, const char *args, const char *name)
{
    size_t nl = strlen(name);
    while ((pat = strchr(pat, '<')) != NULL) {
        const char *end = strchr(pat, '>');
        if ((size_t)(end - pat - 1) == nl && memcmp(pat + 1, name, nl) == 0)
            return args;
        args += strlen(args) + 1;
        pat = end + 1;
    }
    return NULL;
}

int cw_route_find(const cw_route *routes, size_t n, const char *path, size_t len, char *args,
                  size_t cap)
{
    for (size_t i = 0; i < n; i++)
        if (cw_route_match(routes[i].pattern, path, len, args, cap) >= 0)
            return (int)i;
    return -1;
}
