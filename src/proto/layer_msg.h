/* SPDX-License-Identifier: MIT */
/* layer_msg.h: how chanwire's group operations map onto Django Channels'
 * message dicts (msgpack maps) on the Redis layer, both ways:
 *   cw_group_send(g, T, {json})   <-> {"type": T, ...the JSON object's keys}
 *   cw_group_broadcast(g, text)   <-> {"type": "websocket.send", "text": text}
 *   (binary)                      <-> {"type": "websocket.send", "bytes": bin}
 *   cw_group_close(g, code, why)  <-> {"type": "websocket.close", "code": code[, "reason": why]}
 * Types compare as Channels compares handler names ('.' and '_' alike). Pure. */
#ifndef CW_LAYER_MSG_H
#define CW_LAYER_MSG_H

#include <stddef.h>
#include <stdint.h>

enum { CW_LAYER_MSG_EVENT = 1, CW_LAYER_MSG_TEXT, CW_LAYER_MSG_BINARY, CW_LAYER_MSG_CLOSE };

#define CW_LAYER_MSG_TYPE_MAX 64

typedef struct {
    int kind;                       /* CW_LAYER_MSG_* */
    char type[CW_LAYER_MSG_TYPE_MAX + 1];  /* EVENT: the type as sent */
    const uint8_t *data;            /* EVENT: JSON object (in the caller's out
                                       buffer); TEXT/BINARY: the payload's bytes */
    size_t len;
    int code;                       /* CLOSE */
    char reason[124];               /* CLOSE: NUL-terminated, may be empty */
} cw_layer_msg_msg;

/* 1 when a and b name the same Channels handler (dots read as underscores). */
int cw_layer_msg_type_eq(const char *a, const char *b);

/* Message bytes into out[0..cap). Return the length, CW_EINVAL (the event
 * body is not a JSON object, or holds what msgpack cannot carry, such as an
 * integer beyond 64 bits), or CW_ETOOBIG. An event body may be empty (no
 * other keys); a "type" key inside it is ignored: the type argument wins. */
long cw_layer_msg_encode_event(uint8_t *out, size_t cap, const char *type, const char *json, size_t len);
long cw_layer_msg_encode_send(uint8_t *out, size_t cap, int binary, const void *data, size_t len);
long cw_layer_msg_encode_close(uint8_t *out, size_t cap, int code, const char *reason);
/* Out buffer size that is always enough for cw_layer_msg_encode_event's result. */
size_t cw_layer_msg_event_bound(size_t json_len);

/* Reads one message. An event's other keys become a JSON object written to
 * out (str as strings, bin as base64 strings, ints, floats, nil, bools,
 * arrays and maps; NaN and infinities as null). Returns 0, CW_EINVAL when
 * the message is malformed or cannot be delivered (not one map, no str
 * "type", a type no handler could have, ext types, invalid UTF-8, non-str
 * keys other than integers, nesting deeper than CW_JSON_MAX_DEPTH, a bad
 * websocket.send/close), or CW_ETOOBIG when out is too small. */
int cw_layer_msg_decode(const uint8_t *p, size_t n, char *out, size_t cap, cw_layer_msg_msg *m);
/* Out buffer size that is always enough for cw_layer_msg_decode of n bytes. */
size_t cw_layer_msg_decode_bound(size_t n);

#endif
