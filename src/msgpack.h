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
} cw_mp_w;

void cw_mp_w_init(cw_mp_w *w, uint8_t *buf, size_t cap);
void cw_mp_map(cw_mp_w *w, uint32_t n);
void cw_mp_array(cw_mp_w *w, uint32_t n);
void cw_mp_str(cw_mp_w *w, const void *s, size_t n);  /* str family: text (UTF-8) */
void cw_mp_cstr(cw_mp_w *w, const char *s);
void cw_mp_bin(cw_mp_w *w, const void *p, size_t n);  /* bin family: bytes */
void cw_mp_int(cw_mp_w *w, int64_t v);
void cw_mp_uint(cw_mp_w *w, uint64_t v);
void cw_mp_float(cw_mp_w *w, double v);               /* always float64, as Python */
void cw_mp_nil(cw_mp_w *w);
void cw_mp_bool(cw_mp_w *w, int v);
/* Bytes of the smallest header for a map/array/str of n (1, 3 or 5; str: 1, 2, 3 or 5). */
size_t cw_mp_container_head(uint32_t n);
size_t cw_mp_str_head(size_t n);
/* Writes a map (map=1) or array header for n at out (cw_mp_container_head(n) bytes). */
void cw_mp_put_container(uint8_t *out, int map, uint32_t n);
void cw_mp_put_str_head(uint8_t *out, size_t n);

enum {
    CW_MP_NIL = 1, CW_MP_BOOL, CW_MP_INT, CW_MP_UINT, CW_MP_FLOAT, CW_MP_STR, CW_MP_BIN,
    CW_MP_ARRAY, CW_MP_MAP, CW_MP_EXT
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
} cw_mp_obj;

/* Reads the item at *pos (a container's header only; its items follow) and
 * advances *pos. 0, or CW_EINVAL when truncated or the reserved byte 0xc1. */
int cw_mp_read(const uint8_t *buf, size_t len, size_t *pos, cw_mp_obj *o);

#endif
