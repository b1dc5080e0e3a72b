/* SPDX-License-Identifier: MIT */
/* fuzz_static.c: request paths to file names below the www directory.
 * Oracles: an accepted name is relative, has no empty, "." or ".." segment
 * and no hidden one, no backslash and no control byte, fits the buffer,
 * and decoding it again from its own percent-encoding gives itself. */
#include "fuzz.h"

#include "proto/static.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    size_t cap = 12 + data[0] % 250;
    char *path = malloc(size);
    FUZZ_ASSERT(path != NULL);
    memcpy(path, data + 1, size - 1);
    path[size - 1] = 0;
    char *rel = malloc(cap); /* exactly cap: writes past it show under ASan */
    FUZZ_ASSERT(rel != NULL);
    if (cw_static_resolve(path, rel, cap) == 0) {
        size_t n = strnlen(rel, cap);
        FUZZ_ASSERT(n < cap && n > 0);
        FUZZ_ASSERT(rel[0] != '/');
        for (size_t i = 0; i < n; i++)
            FUZZ_ASSERT((unsigned char)rel[i] >= 0x20 && rel[i] != '\\');
        for (size_t s = 0; s < n;) {
            size_t e = s;
            while (e < n && rel[e] != '/')
                e++;
            FUZZ_ASSERT(e > s && rel[s] != '.');
            s = e + 1;
        }
        FUZZ_ASSERT(rel[n - 1] != '/');
        const char *mime = cw_static_mime(rel);
        FUZZ_ASSERT(mime && *mime);
        /* Percent-encode every byte and resolve again: the same name. */
        char enc[3 * 260 + 2], again[300];
        size_t o = 0;
        enc[o++] = '/';
        for (size_t i = 0; i < n && o + 4 < sizeof enc; i++) {
            if (rel[i] == '/') {
                enc[o++] = '/';
            } else {
                static const char hex[] = "0123456789ABCDEF";
                enc[o++] = '%';
                enc[o++] = hex[(unsigned char)rel[i] >> 4];
                enc[o++] = hex[rel[i] & 15];
            }
        }
        enc[o] = 0;
        if (n < 250 && cw_static_resolve(enc, again, sizeof again) == 0)
            FUZZ_ASSERT(strcmp(again, rel) == 0);
    }
    free(rel);
    free(path);
    return 0;
}
