/* SPDX-License-Identifier: MIT */
/* test_utf8.c: the incremental UTF-8 validator against RFC 3629 vectors,
 * the Markus Kuhn stress cases that Autobahn section 6 uses, an independent
 * reference validator (exhaustive over short inputs), fail-fast positions
 * and agreement between whole-buffer, byte-by-byte and split feeding. */
#include "unit.h"
#include "base/utf8.h"

#include <stdio.h>
#include <string.h>

/* ---- helpers ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static void rng_seed(uint64_t s)
{
    rng_state = s ? s : 1;
}

static uint32_t rng(void)
{
    /* xorshift64*: deterministic, no libc rand() */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static size_t hex(const char *s, uint8_t *out)
{
    size_t n = 0;
    while (s[0] && s[1]) {
        if (s[0] == ' ') {
            s++;
            continue;
        }
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[k];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= (unsigned)(c - 'a' + 10);
            else
                v |= (unsigned)(c - 'A' + 10);
        }
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

/* Independent reference: 0 = complete and valid, 1 = no valid UTF-8 string
 * starts with these bytes, 2 = a valid prefix that ends inside a character.
 * It reasons on code point ranges, not on the byte tables of src/utf8.c. */
enum { REF_OK = 0, REF_BAD = 1, REF_PARTIAL = 2 };

static int ref_class(const uint8_t *p, size_t n)
{
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t i = 0;
    while (i < n) {
        uint8_t b = p[i];
        unsigned len;
        uint32_t cp;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            len = 2;
            cp = b & 0x1Fu;
        } else if ((b & 0xF0) == 0xE0) {
            len = 3;
            cp = b & 0x0Fu;
        } else if ((b & 0xF8) == 0xF0) {
            len = 4;
            cp = b & 0x07u;
        } else {
            return REF_BAD;
        }
        unsigned have = 1;
        while (have < len && i + have < n) {
            uint8_t c = p[i + have];
            if ((c & 0xC0) != 0x80)
                return REF_BAD;
            cp = cp << 6 | (c & 0x3Fu);
            have++;
        }
        unsigned missing = len - have;
        uint32_t lo = cp << (6 * missing);
        uint32_t hi = lo | ((1u << (6 * missing)) - 1);
        uint32_t a = lo > min_cp[len] ? lo : min_cp[len];
        uint32_t z = hi < 0x10FFFF ? hi : 0x10FFFF;
        if (a > z)
            return REF_BAD; /* overlong, or above U+10FFFF */
        if (a >= 0xD800 && z <= 0xDFFF)
            return REF_BAD; /* only surrogates can follow */
        if (missing)
            return REF_PARTIAL;
        i += len;
    }
    return REF_OK;
}

/* Index of the first byte after which the reference says REF_BAD, or -1. */
static long ref_fail_at(const uint8_t *p, size_t n)
{
    for (size_t k = 1; k <= n; k++)
        if (ref_class(p, k) == REF_BAD)
            return (long)k - 1;
    return -1;
}

static int state_class(uint8_t st)
{
    if (st == CW_UTF8_ACCEPT)
        return REF_OK;
    if (st == CW_UTF8_REJECT)
        return REF_BAD;
    return REF_PARTIAL;
}

/* Feeds one byte at a time; returns the final state and in *rej the index of
 * the byte that first produced REJECT (-1 when none). */
static uint8_t feed_bytewise(const uint8_t *p, size_t n, long *rej)
{
    uint8_t st = CW_UTF8_ACCEPT;
    *rej = -1;
    for (size_t i = 0; i < n; i++) {
        st = cw_utf8_step(st, p + i, 1);
        if (st == CW_UTF8_REJECT && *rej < 0)
            *rej = (long)i;
    }
    return st;
}

/* Feeds in random chunks (0..max bytes, empty chunks included). */
static uint8_t feed_random(const uint8_t *p, size_t n, size_t max)
{
    uint8_t st = CW_UTF8_ACCEPT;
    size_t i = 0;
    while (i < n) {
        size_t k = rng() % (max + 1);
        if (k > n - i)
            k = n - i;
        st = cw_utf8_step(st, p + i, k);
        i += k;
    }
    return st;
}

/* Everything one input must satisfy: the whole-buffer answer, the byte-wise
 * and split answers, and the fail-fast position all agree with the reference. */
static void check_consistent(const uint8_t *p, size_t n)
{
    int ref = ref_class(p, n);
    long want_rej = ref_fail_at(p, n);
    CHECK_EQ(cw_utf8_valid(p, n), ref == REF_OK);
    CHECK_EQ(state_class(cw_utf8_step(CW_UTF8_ACCEPT, p, n)), ref);
    long rej;
    uint8_t st = feed_bytewise(p, n, &rej);
    CHECK_EQ(state_class(st), ref);
    CHECK_EQ(rej, want_rej);
    for (int k = 0; k < 4; k++)
        CHECK_EQ(state_class(feed_random(p, n, 1 + (size_t)k * 5)), ref);
}

/* ---- table-driven vectors ---- */

typedef struct {
    const char *hex;
    int valid;    /* whole input is complete, valid UTF-8 */
    long fail_at; /* index of the first impossible byte, -1 when none */
} vec;

static void run_vectors(const vec *v, size_t nv)
{
    uint8_t buf[64];
    for (size_t i = 0; i < nv; i++) {
        size_t n = hex(v[i].hex, buf);
        int valid = cw_utf8_valid(buf, n);
        long rej;
        uint8_t st = feed_bytewise(buf, n, &rej);
        int want_ref = v[i].valid ? REF_OK : (v[i].fail_at >= 0 ? REF_BAD : REF_PARTIAL);
        if (valid != v[i].valid || rej != v[i].fail_at || ref_class(buf, n) != want_ref)
            fprintf(stderr, "  vector \"%s\": valid %d, rejected at %ld\n", v[i].hex, valid, rej);
        CHECK_EQ(ref_class(buf, n), want_ref);
        CHECK_EQ(valid, v[i].valid);
        CHECK_EQ(rej, v[i].fail_at);
        if (v[i].valid)
            CHECK_EQ(st, CW_UTF8_ACCEPT);
        else if (v[i].fail_at < 0)
            CHECK(st != CW_UTF8_ACCEPT && st != CW_UTF8_REJECT); /* truncated */
        else
            CHECK_EQ(st, CW_UTF8_REJECT);
        check_consistent(buf, n);
    }
}

static void test_valid_basic(void)
{
    static const vec v[] = {
        {"", 1, -1},
        {"00", 1, -1},                      /* NUL is a valid character */
        {"48656c6c6f", 1, -1},              /* Hello */
        {"7f", 1, -1},                      /* last 1-byte */
        {"c280", 1, -1},                    /* U+0080 first 2-byte */
        {"c2a9", 1, -1},                    /* (c) */
        {"dfbf", 1, -1},                    /* U+07FF last 2-byte */
        {"e0a080", 1, -1},                  /* U+0800 first 3-byte */
        {"e282ac", 1, -1},                  /* euro sign */
        {"ed9fbf", 1, -1},                  /* U+D7FF just below surrogates */
        {"ee8080", 1, -1},                  /* U+E000 just above surrogates */
        {"efbfbd", 1, -1},                  /* U+FFFD replacement character */
        {"efbfbf", 1, -1},                  /* U+FFFF last 3-byte (noncharacter, valid) */
        {"efbfbe", 1, -1},                  /* U+FFFE noncharacter, valid */
        {"f0908080", 1, -1},                /* U+10000 first 4-byte */
        {"f09f9880", 1, -1},                /* U+1F600 emoji */
        {"f09fbfbe", 1, -1},                /* U+1FFFE noncharacter */
        {"f3bfbfbf", 1, -1},                /* U+FFFFF */
        {"f48fbfbf", 1, -1},                /* U+10FFFF last code point */
        {"f4808080", 1, -1},                /* U+100000 */
        {"cebae1bdb9cf83cebcceb5", 1, -1},  /* kosme (Kuhn 6.2/6.5) */
        {"48656c6c6f2dc2b540c39fc3b6c3a4c3bcc3a0c3a12d5554462d382121", 1, -1}, /* Hello-µ@ßöäüàá-UTF-8!! */
        {"f09f9880e282ac41c2a9", 1, -1},    /* mixed lengths back to back */
    };
    run_vectors(v, sizeof v / sizeof v[0]);
}

static void test_overlong(void)
{
    static const vec v[] = {
        {"c080", 0, 0},         /* overlong NUL, C0 can never start anything */
        {"c1bf", 0, 0},         /* max overlong 2-byte */
        {"c0af", 0, 0},         /* overlong '/' */
        {"e08080", 0, 1},       /* overlong NUL 3-byte: fails at 80 after E0 */
        {"e080af", 0, 1},
        {"e09fbf", 0, 1},       /* max overlong 3-byte */
        {"f0808080", 0, 1},     /* overlong NUL 4-byte */
        {"f08080af", 0, 1},
        {"f08fbfbf", 0, 1},     /* max overlong 4-byte */
        {"f880808080", 0, 0},   /* 5-byte forms do not exist */
        {"f8808080af", 0, 0},
        {"f887bfbfbf", 0, 0},
        {"fc8080808080", 0, 0}, /* 6-byte forms */
        {"fc80808080af", 0, 0},
        {"fc83bfbfbfbf", 0, 0},
        {"41c080", 0, 1},       /* after valid ASCII */
    };
    run_vectors(v, sizeof v / sizeof v[0]);
}

static void test_surrogates(void)
{
    static const vec v[] = {
        {"eda080", 0, 1}, /* U+D800: fails at A0 */
        {"edadbf", 0, 1}, /* U+DB7F */
        {"edae80", 0, 1}, /* U+DB80 */
        {"edafbf", 0, 1}, /* U+DBFF */
        {"edb080", 0, 1}, /* U+DC00 */
        {"edbe80", 0, 1}, /* U+DF80 */
        {"edbfbf", 0, 1}, /* U+DFFF */
        {"eda080edb080", 0, 1}, /* paired surrogates (CESU-8) */
        {"eda080edbfbf", 0, 1},
        {"edadbfedb080", 0, 1},
        {"edadbfedbfbf", 0, 1},
        {"edae80edb080", 0, 1},
        {"edae80edbfbf", 0, 1},
        {"edafbfedb080", 0, 1},
        {"edafbfedbfbf", 0, 1},
        {"cebae1bdb9cf83cebcceb5eda080656469746564", 0, 12}, /* Kuhn 6.3.1 */
        {"ed", 0, -1},    /* ED alone could still become U+D000..U+D7FF */
        {"ed9f", 0, -1},
    };
    run_vectors(v, sizeof v / sizeof v[0]);
}

static void test_above_max(void)
{
    static const vec v[] = {
        {"f4908080", 0, 1},     /* U+110000: fails at 90 after F4 */
        {"f4bfbfbf", 0, 1},
        {"f5808080", 0, 0},     /* F5..FF can never lead */
        {"f6808080", 0, 0},
        {"f7bfbfbf", 0, 0},     /* last possible 4-byte form */
        {"f8", 0, 0},
        {"fb", 0, 0},
        {"fc", 0, 0},
        {"fd", 0, 0},
        {"fe", 0, 0},           /* impossible bytes (Kuhn 3.5) */
        {"ff", 0, 0},
        {"fefeffff", 0, 0},
        {"cebae1bdb9cf83cebcceb5f4908080656469746564", 0, 12}, /* Autobahn 6.4.1 */
        {"41424344f5", 0, 4},
    };
    run_vectors(v, sizeof v / sizeof v[0]);
}

static void test_continuation_and_lonely(void)
{
    static const vec v[] = {
        {"80", 0, 0},         /* unexpected continuation bytes (Kuhn 3.1) */
        {"bf", 0, 0},
        {"80bf", 0, 0},
        {"80bf80", 0, 0},
        {"80bf80bf", 0, 0},
        {"41bf", 0, 1},
        {"c2a980", 0, 2},     /* one continuation too many */
        {"e282ac80", 0, 3},
        {"f09f988080", 0, 4},
        {"c020", 0, 0},       /* lonely start characters followed by space */
        {"c220", 0, 1},
        {"df20", 0, 1},
        {"e020", 0, 1},
        {"ef20", 0, 1},
        {"e2822020", 0, 2},
        {"f020", 0, 1},
        {"f320", 0, 1},
        {"f49020", 0, 1},
        {"f4808020", 0, 3},
        {"c2c2", 0, 1},       /* start byte where a continuation must be */
        {"e2c2a9", 0, 1},
    };
    run_vectors(v, sizeof v / sizeof v[0]);
}

static void test_truncated(void)
{
    static const vec v[] = {
        {"c2", 0, -1},        /* sequences with the last byte missing (Kuhn 3.3) */
        {"df", 0, -1},
        {"e0a0", 0, -1},
        {"e0", 0, -1},
        {"efbf", 0, -1},
        {"f09080", 0, -1},
        {"f0", 0, -1},
        {"f48fbf", 0, -1},
        {"f4", 0, -1},
        {"41424344c2", 0, -1},
        {"cebae1bdb9cf83cebcceb5e1bd", 0, -1},
        {"c0", 0, 0},         /* these cannot even start: invalid, not truncated */
        {"e080", 0, 1},
        {"f08080", 0, 1},
        {"f8808080", 0, 0},
        {"fc80808080", 0, 0},
        {"f7bfbf", 0, 0},
        {"fbbfbfbf", 0, 0},
        {"fdbfbfbfbf", 0, 0},
        /* Kuhn 3.4: all the above concatenated, fails at the C0 */
        {"c0e080f08080f8808080fc80808080dfefbff7bfbffbbfbfbffdbfbfbfbf", 0, 0},
    };
    run_vectors(v, sizeof v / sizeof v[0]);
}

/* Autobahn 6.4.x: the validator must reject at the exact byte, so a server
 * can fail the connection before the rest of the frame or message arrives. */
static void test_fail_fast(void)
{
    uint8_t b[32];
    uint8_t st;
    /* 6.4.1 / 6.4.2: kosme then F4 90 80 80 */
    size_t n = hex("cebae1bdb9cf83cebcceb5", b);
    st = cw_utf8_step(CW_UTF8_ACCEPT, b, n);
    CHECK_EQ(st, CW_UTF8_ACCEPT);
    st = cw_utf8_step(st, (const uint8_t *)"\xF4", 1);
    CHECK(st != CW_UTF8_ACCEPT && st != CW_UTF8_REJECT);
    st = cw_utf8_step(st, (const uint8_t *)"\x90", 1);
    CHECK_EQ(st, CW_UTF8_REJECT);
    /* 6.4.3 / 6.4.4: the same split as "F4" | "90 80 80" and "F4 90 80" | "80" */
    st = cw_utf8_step(cw_utf8_step(CW_UTF8_ACCEPT, b, n), (const uint8_t *)"\xF4\x90\x80", 3);
    CHECK_EQ(st, CW_UTF8_REJECT);
    st = cw_utf8_step(cw_utf8_step(CW_UTF8_ACCEPT, b, n), (const uint8_t *)"\xF4", 1);
    st = cw_utf8_step(st, (const uint8_t *)"\x90\x80\x80", 3);
    CHECK_EQ(st, CW_UTF8_REJECT);
    /* ED A0: rejected at the A0, before the third byte */
    st = cw_utf8_step(CW_UTF8_ACCEPT, (const uint8_t *)"\xED", 1);
    CHECK(st != CW_UTF8_REJECT);
    st = cw_utf8_step(st, (const uint8_t *)"\xA0", 1);
    CHECK_EQ(st, CW_UTF8_REJECT);
    /* E0 80, F0 80 (overlong) and F5 at once */
    CHECK_EQ(cw_utf8_step(CW_UTF8_ACCEPT, (const uint8_t *)"\xE0\x80", 2), CW_UTF8_REJECT);
    CHECK_EQ(cw_utf8_step(CW_UTF8_ACCEPT, (const uint8_t *)"\xF0\x80", 2), CW_UTF8_REJECT);
    CHECK_EQ(cw_utf8_step(CW_UTF8_ACCEPT, (const uint8_t *)"\xF5", 1), CW_UTF8_REJECT);
    CHECK_EQ(cw_utf8_step(CW_UTF8_ACCEPT, (const uint8_t *)"\xC1", 1), CW_UTF8_REJECT);
    /* REJECT is sticky, also across ASCII and empty input */
    CHECK_EQ(cw_utf8_step(CW_UTF8_REJECT, (const uint8_t *)"A", 1), CW_UTF8_REJECT);
    CHECK_EQ(cw_utf8_step(CW_UTF8_REJECT, (const uint8_t *)"AAAAAAAAAAAAAAAA", 16), CW_UTF8_REJECT);
    CHECK_EQ(cw_utf8_step(CW_UTF8_REJECT, (const uint8_t *)"\xC2\xA9", 2), CW_UTF8_REJECT);
    CHECK_EQ(cw_utf8_step(CW_UTF8_REJECT, NULL, 0), CW_UTF8_REJECT);
    /* an empty step keeps a mid-character state */
    st = cw_utf8_step(CW_UTF8_ACCEPT, (const uint8_t *)"\xE2\x82", 2);
    CHECK_EQ(cw_utf8_step(st, NULL, 0), st);
    CHECK_EQ(cw_utf8_step(st, (const uint8_t *)"\xAC", 1), CW_UTF8_ACCEPT);
}

/* Autobahn 6.6 / 6.2: a valid text fed one byte at a time is never rejected
 * and ends at ACCEPT; the state is ACCEPT exactly at character boundaries. */
static void test_incremental_valid(void)
{
    uint8_t b[64];
    size_t n = hex("cebae1bdb9cf83cebcceb5", b);
    static const int boundary[] = {0, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1};
    uint8_t st = CW_UTF8_ACCEPT;
    for (size_t i = 0; i < n; i++) {
        st = cw_utf8_step(st, b + i, 1);
        CHECK(st != CW_UTF8_REJECT);
        CHECK_EQ(st == CW_UTF8_ACCEPT, boundary[i + 1]);
    }
    CHECK_EQ(st, CW_UTF8_ACCEPT);
    /* every split into two calls */
    for (size_t k = 0; k <= n; k++)
        CHECK_EQ(cw_utf8_step(cw_utf8_step(CW_UTF8_ACCEPT, b, k), b + k, n - k), CW_UTF8_ACCEPT);
}

/* The word-at-a-time ASCII skip: a bad byte at every position and buffer
 * alignment inside long ASCII runs, and ASCII while inside a character. */
static void test_ascii_runs(void)
{
    static _Alignas(16) uint8_t buf[96];
    for (size_t align = 0; align < 8; align++) {
        for (size_t len = 1; len <= 40; len++) {
            uint8_t *p = buf + align;
            memset(p, 'a', len);
            CHECK_EQ(cw_utf8_valid(p, len), 1);
            for (size_t bad = 0; bad < len; bad++) {
                memset(p, 'a', len);
                p[bad] = 0x80;
                CHECK_EQ(cw_utf8_valid(p, len), 0);
                long rej;
                feed_bytewise(p, len, &rej);
                CHECK_EQ(rej, (long)bad);
                p[bad] = 0xC3; /* a lead byte followed by ASCII, or truncated */
                uint8_t st = cw_utf8_step(CW_UTF8_ACCEPT, p, len);
                if (bad == len - 1)
                    CHECK(st != CW_UTF8_ACCEPT && st != CW_UTF8_REJECT);
                else
                    CHECK_EQ(st, CW_UTF8_REJECT);
            }
        }
    }
    /* inside a character, ASCII must not be skipped as if at a boundary */
    uint8_t st = cw_utf8_step(CW_UTF8_ACCEPT, (const uint8_t *)"\xCE", 1);
    CHECK_EQ(cw_utf8_step(st, (const uint8_t *)"AAAAAAAAAAAAAAAAAAAA", 20), CW_UTF8_REJECT);
    st = cw_utf8_step(CW_UTF8_ACCEPT, (const uint8_t *)"\xF0\x9F", 2);
    CHECK_EQ(cw_utf8_step(st, (const uint8_t *)"\x98" "AAAAAAAAAAAAAAAA", 17), CW_UTF8_REJECT);
    /* valid multibyte characters at every alignment among long ASCII runs */
    for (size_t at = 0; at < 40; at++) {
        memset(buf, 'z', 48);
        memcpy(buf + at, "\xF0\x9F\x98\x80", 4);
        CHECK_EQ(cw_utf8_valid(buf, 48), 1);
        buf[at + 3] = 'z'; /* the last continuation byte replaced by ASCII */
        CHECK_EQ(cw_utf8_valid(buf, 48), 0);
    }
}

/* Every 1- and 2-byte input, every 3-byte input that starts with a lead byte
 * of a 3- or 4-byte form, and 4-byte inputs over interesting tails. */
static void test_exhaustive_short(void)
{
    uint8_t b[4];
    for (unsigned x = 0; x < 256; x++) {
        b[0] = (uint8_t)x;
        check_consistent(b, 1);
    }
    int bad = 0;
    for (unsigned x = 0; x < 65536; x++) {
        b[0] = (uint8_t)(x >> 8);
        b[1] = (uint8_t)x;
        long rej;
        uint8_t st = feed_bytewise(b, 2, &rej);
        if (state_class(st) != ref_class(b, 2) || rej != ref_fail_at(b, 2) ||
            cw_utf8_valid(b, 2) != (ref_class(b, 2) == REF_OK))
            bad++;
    }
    CHECK_EQ(bad, 0);
    bad = 0;
    for (unsigned lead = 0xE0; lead <= 0xF4; lead++) {
        for (unsigned x = 0; x < 65536; x++) {
            b[0] = (uint8_t)lead;
            b[1] = (uint8_t)(x >> 8);
            b[2] = (uint8_t)x;
            long rej;
            uint8_t st = feed_bytewise(b, 3, &rej);
            if (state_class(st) != ref_class(b, 3) || rej != ref_fail_at(b, 3) ||
                cw_utf8_valid(b, 3) != (ref_class(b, 3) == REF_OK))
                bad++;
        }
    }
    CHECK_EQ(bad, 0);
    static const uint8_t tails[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xF4, 0xFF};
    bad = 0;
    int valid4 = 0;
    for (unsigned lead = 0xF0; lead <= 0xF7; lead++)
        for (unsigned s = 0; s < 256; s++)
            for (size_t t = 0; t < sizeof tails; t++)
                for (size_t u = 0; u < sizeof tails; u++) {
                    b[0] = (uint8_t)lead;
                    b[1] = (uint8_t)s;
                    b[2] = tails[t];
                    b[3] = tails[u];
                    long rej;
                    uint8_t st = feed_bytewise(b, 4, &rej);
                    int ref = ref_class(b, 4);
                    valid4 += ref == REF_OK;
                    if (state_class(st) != ref || rej != ref_fail_at(b, 4) ||
                        cw_utf8_valid(b, 4) != (ref == REF_OK))
                        bad++;
                }
    CHECK_EQ(bad, 0);
    CHECK(valid4 > 0); /* the loop did reach valid 4-byte forms */
}

/* The reference itself, checked on a few known answers so that agreeing
 * with it means something. */
static void test_reference_sanity(void)
{
    CHECK_EQ(ref_class((const uint8_t *)"\xF4\x8F\xBF\xBF", 4), REF_OK);
    CHECK_EQ(ref_class((const uint8_t *)"\xF4\x90", 2), REF_BAD);
    CHECK_EQ(ref_class((const uint8_t *)"\xED\xA0", 2), REF_BAD);
    CHECK_EQ(ref_class((const uint8_t *)"\xED\x9F", 2), REF_PARTIAL);
    CHECK_EQ(ref_class((const uint8_t *)"\xE0\x9F", 2), REF_BAD);
    CHECK_EQ(ref_class((const uint8_t *)"\xE0\xA0", 2), REF_PARTIAL);
    CHECK_EQ(ref_class((const uint8_t *)"\xC1", 1), REF_BAD);
    CHECK_EQ(ref_class((const uint8_t *)"\xC2", 1), REF_PARTIAL);
    CHECK_EQ(ref_class((const uint8_t *)"\xF0\x8F", 2), REF_BAD);
    CHECK_EQ(ref_class((const uint8_t *)"\xF0\x90", 2), REF_PARTIAL);
}

/* Every code point U+0000..U+10FFFF encoded by hand: valid unless a
 * surrogate; each surrogate rejected at its second byte. */
static void test_all_code_points(void)
{
    int bad = 0;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        uint8_t b[4];
        size_t n;
        if (cp < 0x80) {
            b[0] = (uint8_t)cp;
            n = 1;
        } else if (cp < 0x800) {
            b[0] = (uint8_t)(0xC0 | cp >> 6);
            b[1] = (uint8_t)(0x80 | (cp & 0x3F));
            n = 2;
        } else if (cp < 0x10000) {
            b[0] = (uint8_t)(0xE0 | cp >> 12);
            b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            b[2] = (uint8_t)(0x80 | (cp & 0x3F));
            n = 3;
        } else {
            b[0] = (uint8_t)(0xF0 | cp >> 18);
            b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
            b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            b[3] = (uint8_t)(0x80 | (cp & 0x3F));
            n = 4;
        }
        int sur = cp >= 0xD800 && cp <= 0xDFFF;
        if (cw_utf8_valid(b, n) != !sur)
            bad++;
        if (sur && cw_utf8_step(CW_UTF8_ACCEPT, b, 2) != CW_UTF8_REJECT)
            bad++;
    }
    CHECK_EQ(bad, 0);
    /* one past the end, and the overlong encodings of a few code points */
    CHECK_EQ(cw_utf8_valid((const uint8_t *)"\xF4\x90\x80\x80", 4), 0);
    CHECK_EQ(cw_utf8_valid((const uint8_t *)"\xC1\x81", 2), 0);         /* 'A' in 2 bytes */
    CHECK_EQ(cw_utf8_valid((const uint8_t *)"\xE0\x81\x81", 3), 0);     /* 'A' in 3 bytes */
    CHECK_EQ(cw_utf8_valid((const uint8_t *)"\xF0\x80\x81\x81", 4), 0); /* 'A' in 4 bytes */
    CHECK_EQ(cw_utf8_valid((const uint8_t *)"\xE0\x9F\xBF", 3), 0);     /* U+07FF in 3 */
    CHECK_EQ(cw_utf8_valid((const uint8_t *)"\xF0\x8F\xBF\xBF", 4), 0); /* U+FFFF in 4 */
}

/* Random inputs built from a mix of valid characters, stray bytes and
 * boundary values: whole, byte-wise and random splits agree with the
 * reference, including the index of the first rejected byte. */
static void test_random_mixes(void)
{
    static const char *pieces[] = {
        "41", "7f", "00", "c280", "dfbf", "e0a080", "ed9fbf", "ee8080", "efbfbf", "f0908080",
        "f48fbfbf", "cebae1bdb9cf83cebcceb5", "80", "bf", "c0", "c1", "e080", "eda0", "f490",
        "f5", "ff", "e2", "f09f", "f09f98", "4142434445464748494a",
    };
    uint8_t parts[sizeof pieces / sizeof pieces[0]][16];
    size_t plen[sizeof pieces / sizeof pieces[0]];
    size_t np = sizeof pieces / sizeof pieces[0];
    for (size_t i = 0; i < np; i++)
        plen[i] = hex(pieces[i], parts[i]);
    rng_seed(12345);
    int seen[3] = {0, 0, 0};
    for (int iter = 0; iter < 4000; iter++) {
        uint8_t buf[256];
        size_t n = 0;
        int count = (int)(rng() % 12);
        int mostly_valid = iter % 2;
        for (int k = 0; k < count; k++) {
            size_t pi = rng() % np;
            if (mostly_valid && pi >= 12 && rng() % 8)
                pi = rng() % 12;
            if (n + plen[pi] > sizeof buf)
                break;
            memcpy(buf + n, parts[pi], plen[pi]);
            n += plen[pi];
        }
        if (iter % 5 == 0 && n > 0)
            buf[rng() % n] = (uint8_t)rng(); /* a random byte anywhere */
        seen[ref_class(buf, n)]++;
        check_consistent(buf, n);
    }
    /* the generator does reach all three outcomes */
    CHECK(seen[REF_OK] > 100);
    CHECK(seen[REF_BAD] > 100);
    CHECK(seen[REF_PARTIAL] > 20);
}

int main(void)
{
    RUN(test_reference_sanity);
    RUN(test_valid_basic);
    RUN(test_overlong);
    RUN(test_surrogates);
    RUN(test_above_max);
    RUN(test_continuation_and_lonely);
    RUN(test_truncated);
    RUN(test_fail_fast);
    RUN(test_incremental_valid);
    RUN(test_ascii_runs);
    RUN(test_exhaustive_short);
    RUN(test_all_code_points);
    RUN(test_random_mixes);
    return cw_unit_done();
}
