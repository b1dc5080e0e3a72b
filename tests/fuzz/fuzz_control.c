/* SPDX-License-Identifier: MIT */
/* fuzz_control.c: the control-socket request parser (chanwire-send's
 * protocol), fed as the daemon feeds it: after every read, the whole buffer
 * so far. Oracles: a request that parses at its full length was "more, read
 * on" at every shorter length (so no prefix is acted on early), and parses
 * to the same command at every split; names, types and reasons hold no
 * control byte or NUL; the payload lies inside the buffer; only documented
 * answers come back. Byte 0 sets the payload bound, the rest is the stream. */
#include "fuzz.h"

#include "control.h"

#include <string.h>

static void clean(const char *s)
{
    for (; *s; s++)
        FUZZ_ASSERT((unsigned char)*s >= 0x20 && *s != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max_payload = (size_t)data[0] * 64;
    size_t n = size - 1;
    char *buf = malloc(n ? n : 1); /* exactly the bytes: over-reads show */
    FUZZ_ASSERT(buf != NULL);
    memcpy(buf, data + 1, n);
    cw_control_cmd full, part;
    const char *why = NULL;
    int rc = cw_control_cmd_parse(buf, n, max_payload, &full, &why);
    FUZZ_ASSERT(rc == CW_CTL_MORE || rc == CW_CTL_DONE || rc == CW_CTL_BAD);
    if (rc == CW_CTL_BAD)
        FUZZ_ASSERT(why && *why);
    if (rc == CW_CTL_DONE) {
        FUZZ_ASSERT(full.op >= CW_CTL_SEND && full.op <= CW_CTL_RESTART);
        FUZZ_ASSERT(full.total <= n && full.len <= max_payload);
        FUZZ_ASSERT(full.payload >= buf && full.payload + full.len == buf + full.total);
        clean(full.group);
        clean(full.type);
        FUZZ_ASSERT(strnlen(full.reason, sizeof full.reason) < sizeof full.reason);
        if (full.op == CW_CTL_CLOSE)
            FUZZ_ASSERT(full.code >= 0 && full.code <= 4999 && full.group[0]);
        if (full.op == CW_CTL_SEND)
            FUZZ_ASSERT(full.group[0] && full.type[0]);
        if (full.op == CW_CTL_CHSEND) {
            clean(full.channel);
            FUZZ_ASSERT(full.channel[0] && full.type[0]);
        }
        /* Every shorter prefix: read on (or refused only for the same
         * reason the whole is refused: never). */
        size_t step = full.total > 512 ? full.total / 256 : 1;
        for (size_t k = 0; k < full.total; k += step) {
            int r = cw_control_cmd_parse(buf, k, max_payload, &part, &why);
            FUZZ_ASSERT(r == CW_CTL_MORE);
        }
        /* Bytes after the request do not change it. */
        FUZZ_ASSERT(cw_control_cmd_parse(buf, full.total, max_payload, &part, &why) == CW_CTL_DONE);
        FUZZ_ASSERT(part.op == full.op && part.len == full.len && part.code == full.code);
        FUZZ_ASSERT(strcmp(part.group, full.group) == 0 && strcmp(part.type, full.type) == 0);
        FUZZ_ASSERT(memcmp(part.reason, full.reason, sizeof part.reason) == 0);
        if (full.op == CW_CTL_CHSEND)
            FUZZ_ASSERT(strcmp(part.channel, full.channel) == 0);
    }
    free(buf);
    return 0;
}
