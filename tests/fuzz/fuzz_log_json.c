/* SPDX-License-Identifier: MIT */
/* fuzz_log_json.c: the JSON log lines' string escaper (src/base/log.c)
 * on any bytes, with any buffer size (the first input byte). Oracles: the
 * output fits and is NUL-terminated; it has no raw control character and
 * no raw quote; it is valid UTF-8; decoding its escapes gives back exactly
 * the input it says it covered, with each byte of invalid UTF-8 as U+FFFD;
 * with room enough it covers the whole input. */
#include "fuzz.h"

#include "base/log.h"
#include "base/utf8.h"

#include <string.h>

#if defined(CONFIG_LOG_JSON)
static char out[8192];
static uint8_t back[8192 * 3];

/* The input as the escaper should see it: invalid bytes become U+FFFD. */
static size_t expect(const uint8_t *p, size_t n, uint8_t *e)
{
    size_t i = 0, k = 0;
    while (i < n) {
        size_t want = p[i] < 0x80 ? 1 : (p[i] & 0xE0) == 0xC0 ? 2 : (p[i] & 0xF0) == 0xE0 ? 3
                      : (p[i] & 0xF8) == 0xF0 ? 4 : 0;
        if (want && want <= n - i && cw_utf8_valid(p + i, want)) {
            memcpy(e + k, p + i, want);
            k += want, i += want;
        } else {
            memcpy(e + k, "\xef\xbf\xbd", 3);
            k += 3, i++;
        }
    }
    return k;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#if defined(CONFIG_LOG_JSON)
    if (size < 1 || size > 2048)
        return 0;
    size_t cap = data[0] == 0xff ? sizeof out : data[0];
    const char *in = (const char *)data + 1;
    size_t len = size - 1, used = 0;
    memset(out, 0x55, sizeof out);
    size_t n = cw_log_json_escape(out, cap, in, len, &used);
    if (cap == 0) {
        FUZZ_ASSERT(n == 0 && used == 0 && (uint8_t)out[0] == 0x55);
        return 0;
    }
    FUZZ_ASSERT(n < cap && out[n] == 0 && used <= len);
    FUZZ_ASSERT(cw_utf8_valid((const uint8_t *)out, n));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        FUZZ_ASSERT(c >= 0x20 && c != 0x7f && c != '"');
        if (c != '\\') {
            back[k++] = c;
            continue;
        }
        FUZZ_ASSERT(i + 1 < n);
        char e = out[++i];
        if (e == 'u') {
            FUZZ_ASSERT(i + 4 < n);
            int v = 0;
            for (int j = 1; j <= 4; j++) {
                int h = hexval(out[i + (size_t)j]);
                FUZZ_ASSERT(h >= 0);
                v = v * 16 + h;
            }
            i += 4;
            if (v == 0xfffd) {
                memcpy(back + k, "\xef\xbf\xbd", 3);
                k += 3;
            } else {
                FUZZ_ASSERT(v < 0x20 || v == 0x7f);
                back[k++] = (uint8_t)v;
            }
        } else {
            const char *from = "nrtbf\"\\", *to = "\n\r\t\b\f\"\\";
            const char *at = strchr(from, e);
            FUZZ_ASSERT(e && at);
            back[k++] = (uint8_t)to[at - from];
        }
    }
    static uint8_t want[2048 * 3];
    size_t wn = expect((const uint8_t *)in, used, want);
    FUZZ_ASSERT(wn == k && memcmp(want, back, k) == 0);
    if (cap >= len * 6 + 1)
        FUZZ_ASSERT(used == len);
#else
    (void)data;
    (void)size;
#endif
    return 0;
}
