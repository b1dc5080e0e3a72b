/* SPDX-License-Identifier: MIT */
/* resp.h: RESP2, the Redis protocol, for the Redis channel layer: a
 * streaming reply parser that hands out one token at a time (so replies may
 * arrive split anywhere and oversized strings are discarded without being
 * buffered), and the writers for the few commands the layer sends. Pure. */
#ifndef CW_RESP_H
#define CW_RESP_H

#include <stddef.h>
#include <stdint.h>

#define CW_RESP_MAX_DEPTH 8      /* nested arrays accepted in one reply */
#define CW_RESP_LINE_MAX 512     /* longest +simple, -error, :int or header line */
#define CW_RESP_MAX_ELEMS 65536  /* largest array count accepted */

enum {
    CW_RESP_NONE = 0, /* bytes consumed, no token yet (discarding a big string) */
    CW_RESP_SIMPLE,   /* +OK */
    CW_RESP_ERROR,    /* -ERR ... */
    CW_RESP_INT,      /* :42 */
    CW_RESP_BULK,     /* $5 hello */
    CW_RESP_NIL,      /* $-1 or *-1 */
    CW_RESP_ARRAY,    /* *3, then its elements as tokens one level deeper */
    CW_RESP_TOOBIG    /* a bulk string over max_bulk: discarded, only its length kept */
};

typedef struct {
    int type;
    unsigned depth;      /* 0: the reply itself; 1: an element of it; ... */
    unsigned index;      /* position in the enclosing array (0 at depth 0) */
    const uint8_t *ptr;  /* SIMPLE, ERROR, BULK: bytes inside the caller's buffer */
    size_t len;
    int64_t num;         /* INT: the value; ARRAY: its count; TOOBIG: the string's length */
    int end;             /* 1: this token completes a top-level reply */
} cw_resp_tok;

typedef struct {
    size_t max_bulk;     /* larger bulk strings become TOOBIG */
    unsigned depth;      /* arrays open */
    int64_t left[CW_RESP_MAX_DEPTH];   /* elements still to come at each level */
    unsigned next[CW_RESP_MAX_DEPTH];  /* index of the next element at each level */
    uint64_t skip;       /* bytes of an oversized string still to discard */
    int64_t skip_len;    /* its announced length */
    size_t need;         /* after a 0 return: bytes the next token needs in the buffer */
} cw_resp_parser;

void cw_resp_init(cw_resp_parser *p, size_t max_bulk);
/* Reads the next token from buf[0..len). Returns the bytes consumed (> 0;
 * tok->type is CW_RESP_NONE while an oversized string is being skipped), 0
 * when buf holds no whole token yet (p->need says how many bytes from buf's
 * start it takes), or CW_EINVAL on a protocol error (drop the connection).
 * Tokens point into buf: use them before moving or overwriting it. */
long cw_resp_next(cw_resp_parser *p, const uint8_t *buf, size_t len, cw_resp_tok *tok);

/* Writes a whole command (argc bulk strings) into out. Returns its length or
 * CW_ETOOBIG. */
long cw_resp_command(uint8_t *out, size_t cap, unsigned argc, const char *const *argv,
                     const size_t *lens);
/* Writes "PUBLISH channel" and the header of a payload of plen bytes; the
 * caller sends the payload and "\r\n" after it. Returns the length or
 * CW_ETOOBIG. */
long cw_resp_publish_head(uint8_t *out, size_t cap, const char *chan, size_t clen, size_t plen);

#endif
