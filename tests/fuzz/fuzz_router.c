/* SPDX-License-Identifier: MIT */
/* fuzz_router.c: route patterns and request paths. Input: a pattern, a NUL,
 * a path. Oracles: a valid pattern's match yields one value per <name>,
 * each 1..48 characters of [A-Za-z0-9_.-] and never "." or ".."; putting
 * the values back into the pattern gives the path again; cw_route_arg
 * finds each value by its name; nothing is written past the args buffer. */
#include "fuzz.h"

#include "proto/router.h"

#include <string.h>

static int arg_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    if (!nul || nul - data > 200)
        return 0;
    char pattern[201];
    memcpy(pattern, data, (size_t)(nul - data) + 1);
    const char *path = (const char *)nul + 1;
    size_t plen = size - (size_t)(nul - data) - 1;
    if (!cw_route_pattern_valid(pattern))
        return 0;
    int placeholders = 0;
    for (const char *p = pattern; *p; p++)
        placeholders += *p == '<';
    FUZZ_ASSERT(placeholders <= CW_ROUTE_MAX_ARGS);
    /* exactly the size asked for: writes past it show under ASan */
    size_t cap = (size_t)(data[size - 1] % 80) + 1;
    char *args = malloc(cap);
    FUZZ_ASSERT(args != NULL);
    int n = cw_route_match(pattern, path, plen, args, cap);
    if (n >= 0) {
        FUZZ_ASSERT(n == placeholders);
        char rebuilt[512];
        size_t o = 0, a = 0;
        for (const char *p = pattern; *p;) {
            if (*p == '<') {
                const char *end = strchr(p, '>');
                char name[201];
                size_t nl = (size_t)(end - p - 1);
                FUZZ_ASSERT(nl < sizeof name);
                memcpy(name, p + 1, nl);
                name[nl] = 0;
                size_t vl = strnlen(args + a, cap - a);
                FUZZ_ASSERT(a + vl < cap);
                const char *v = args + a;
                FUZZ_ASSERT(vl >= 1 && vl <= CW_ROUTE_ARG_MAX);
                FUZZ_ASSERT(strcmp(v, ".") != 0 && strcmp(v, "..") != 0);
                for (size_t i = 0; i < vl; i++)
                    FUZZ_ASSERT(arg_char(v[i]));
                /* the first placeholder of that name answers */
                const char *got = cw_route_arg(pattern, args, name);
                FUZZ_ASSERT(got != NULL);
                FUZZ_ASSERT(o + vl < sizeof rebuilt);
                memcpy(rebuilt + o, v, vl);
                o += vl;
                a += vl + 1;
                p = end + 1;
            } else {
                FUZZ_ASSERT(o + 1 < sizeof rebuilt);
                rebuilt[o++] = *p++;
            }
        }
        FUZZ_ASSERT(o == plen && memcmp(rebuilt, path, plen) == 0);
        FUZZ_ASSERT(cw_route_arg(pattern, args, "no such name, it has blanks") == NULL);
    }
    free(args);
    return 0;
}
