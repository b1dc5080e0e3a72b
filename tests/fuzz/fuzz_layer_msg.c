/* SPDX-License-Identifier: MIT */
/* fuzz_layer_msg.c: Channels message dicts from Redis (msgpack) to chanwire
 * group operations and back. Oracles: decoding never needs more room than
 * cw_layer_msg_decode_bound promises; a decoded event's body is a valid JSON
 * object and a text payload valid UTF-8; encoding what was decoded and
 * decoding it again gives the same message (type, body, payload, code,
 * reason); bodies from the fuzzer that encode decode back to an equal
 * JSON object. Byte 0 picks the direction. */
#include "fuzz.h"

#include "chanwire.h"
#include "proto/layer_msg.h"
#include "base/utf8.h"

#include <string.h>

static void same_msg(const cw_layer_msg_msg *a, const cw_layer_msg_msg *b)
{
    FUZZ_ASSERT(a->kind == b->kind);
    switch (a->kind) {
    case CW_LAYER_MSG_EVENT:
        FUZZ_ASSERT(cw_layer_msg_type_eq(a->type, b->type));
        /* fallthrough */
    case CW_LAYER_MSG_TEXT:
    case CW_LAYER_MSG_BINARY:
        FUZZ_ASSERT(a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0));
        break;
    case CW_LAYER_MSG_CLOSE:
        FUZZ_ASSERT(a->code == b->code && strcmp(a->reason, b->reason) == 0);
        break;
    default:
        FUZZ_ASSERT(0);
    }
}

static long encode(const cw_layer_msg_msg *m, uint8_t *out, size_t cap)
{
    switch (m->kind) {
    case CW_LAYER_MSG_EVENT:
        return cw_layer_msg_encode_event(out, cap, m->type, (const char *)m->data, m->len);
    case CW_LAYER_MSG_TEXT:
    case CW_LAYER_MSG_BINARY:
        return cw_layer_msg_encode_send(out, cap, m->kind == CW_LAYER_MSG_BINARY, m->data, m->len);
    default:
        return cw_layer_msg_encode_close(out, cap, m->code, m->reason[0] ? m->reason : NULL);
    }
}

static void decode_side(const uint8_t *p, size_t n)
{
    size_t cap = cw_layer_msg_decode_bound(n);
    char *out = malloc(cap);
    FUZZ_ASSERT(out != NULL);
    cw_layer_msg_msg m;
    int rc = cw_layer_msg_decode(p, n, out, cap, &m);
    FUZZ_ASSERT(rc == 0 || rc == CW_EINVAL);
    if (rc == 0) {
        FUZZ_ASSERT(m.kind >= CW_LAYER_MSG_EVENT && m.kind <= CW_LAYER_MSG_CLOSE);
        FUZZ_ASSERT(strnlen(m.reason, sizeof m.reason) < sizeof m.reason);
        FUZZ_ASSERT(strnlen(m.type, sizeof m.type) < sizeof m.type);
        if (m.kind == CW_LAYER_MSG_EVENT)
            FUZZ_ASSERT(m.len > 0 && m.data[0] == '{' &&
                        cw_json_valid((const char *)m.data, m.len));
        if (m.kind == CW_LAYER_MSG_TEXT)
            FUZZ_ASSERT(cw_utf8_valid(m.data, m.len));
        if (m.kind == CW_LAYER_MSG_CLOSE)
            FUZZ_ASSERT(cw_utf8_valid((const uint8_t *)m.reason, strlen(m.reason)));
        size_t ecap = (m.kind == CW_LAYER_MSG_EVENT ? cw_layer_msg_event_bound(m.len) : m.len + 256);
        uint8_t *enc = malloc(ecap);
        FUZZ_ASSERT(enc != NULL);
        long el = encode(&m, enc, ecap);
        if (el > 0) {
            size_t cap2 = cw_layer_msg_decode_bound((size_t)el);
            char *out2 = malloc(cap2);
            FUZZ_ASSERT(out2 != NULL);
            cw_layer_msg_msg m2;
            FUZZ_ASSERT(cw_layer_msg_decode(enc, (size_t)el, out2, cap2, &m2) == 0);
            same_msg(&m, &m2);
            free(out2);
        } else {
            /* what came in as a message must be sendable as one */
            FUZZ_ASSERT(el == CW_EINVAL && m.kind == CW_LAYER_MSG_EVENT);
        }
        free(enc);
    }
    free(out);
}

/* A JSON body from the fuzzer: encodes (or is refused), and what encodes
 * decodes to a JSON object with the same keys' values. */
static void encode_side(const uint8_t *p, size_t n)
{
    const char *json = (const char *)p;
    size_t cap = cw_layer_msg_event_bound(n);
    uint8_t *enc = malloc(cap);
    FUZZ_ASSERT(enc != NULL);
    long el = cw_layer_msg_encode_event(enc, cap, "chat.message", json, n);
    FUZZ_ASSERT(el != CW_ETOOBIG);
    if (el > 0) {
        size_t dcap = cw_layer_msg_decode_bound((size_t)el);
        char *out = malloc(dcap);
        FUZZ_ASSERT(out != NULL);
        cw_layer_msg_msg m;
        int rc = cw_layer_msg_decode(enc, (size_t)el, out, dcap, &m);
        FUZZ_ASSERT(rc == 0 && m.kind == CW_LAYER_MSG_EVENT && strcmp(m.type, "chat.message") == 0);
        FUZZ_ASSERT(cw_json_valid((const char *)m.data, m.len));
        /* the message key, when the body had a string one, survives */
        char a[256], b[256];
        long la = cw_json_get_string(json, n, "message", a, sizeof a);
        if (la >= 0) {
            long lb = cw_json_get_string((const char *)m.data, m.len, "message", b, sizeof b);
            FUZZ_ASSERT(lb == la && memcmp(a, b, (size_t)la) == 0);
        }
        free(out);
    }
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t *p = malloc(size); /* exactly the bytes: over-reads show */
    FUZZ_ASSERT(p != NULL);
    memcpy(p, data + 1, size - 1);
    if (data[0] & 1)
        encode_side(p, size - 1);
    else
        decode_side(p, size - 1);
    free(p);
    return 0;
}
