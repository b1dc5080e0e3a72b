/* SPDX-License-Identifier: MIT */
/* msgpack.h: the MessagePack subset channels_redis speaks (msgpack-python's
 * packb defaults): a writer over a caller buffer that always picks the
 * smallest encoding, as packb does, and a bounds-checked reader of one item
 * at a time. Pure; used by the Redis channel layer. */
#ifndef CW_MSGPACK_H
#define CW_MSGPACK_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *buf;
    size_t cap, len;
    int err; /* sticky: CW_ETOOBIG once something did not fit */
} cw_msgpack_w;

void cw_msgpack_w_init(cw_msgpack_w *w, uint8_t *buf, size_t cap);
void cw_msgpack_map(cw_msgpack_w *w, uint32_t n);
void cw_msgpack_array(cw_msgpack_w *w, uint32_t n);
void cw_msgpack_str(cw_msgpack_w *w, const void *s, size_t n);  /* str family: text (UTF-8) */
void cw_msgpack_cstr(cw_msgpack_w *w, const char *s);
void cw_msgpack_bin(cw_msgpack_w *w, const void *p, size_t n);  /* bin family: bytes */
void cw_msgpack_int(cw_msgpack_w *w, int64_t v);
void cw_msgpack_uint(cw_msgpack_w *w, uint64_t v);
void cw_msgpack_float(cw_msgpack_w *w, double v);               /* always float64, as Python */
void cw_msgpack_nil(cw_msgpack_w *w);
void cw_msgpack_bool(cw_msgpack_w *w, int v);
/* Bytes of the smallest header for a map/array/str of n (1, 3 or 5; str: 1, 2, 3 or 5). */
size_t cw_msgpack_container_head(uint32_t n);
size_t cw_msgpack_str_head(size_t n);
/* Writes a map (map=1) or array header for n at out (cw_msgpack_container_head(n) bytes). */
void cw_msgpack_put_container(uint8_t *out, int map, uint32_t n);
void cw_msgpack_put_str_head(uint8_t *out, size_t n);

enum {
    CW_MSGPACK_NIL = 1, CW_MSGPACK_BOOL, CW_MSGPACK_INT, CW_MSGPACK_UINT, CW_MSGPACK_FLOAT, CW_MSGPACK_STR, CW_MSGPACK_BIN,
    CW_MSGPACK_ARRAY, CW_MSGPACK_MAP, CW_MSGPACK_EXT
};

typedef struct {
    int type;
    uint32_t n;         /* STR, BIN, EXT: byte length; ARRAY, MAP: item count */
    const uint8_t *ptr; /* STR, BIN, EXT: the bytes */
    int64_t i;          /* INT (negative values) */
    uint64_t u;         /* UINT */
    double f;           /* FLOAT (float32 widened) */
    int b;              /* BOOL */
    int8_t ext;         /* EXT: its type */
} cw_msgpack_obj;

/* Reads the item at *pos (a container's header only; its items follow) and
 * advances *pos. 0, or CW_EINVAL when truncated or the reserved byte 0xc1. */
int cw_msgpack_read(const uint8_t *buf, size_t len, size_t *pos, cw_msgpack_obj *o);

#endif
