/* SPDX-License-Identifier: MIT */
/* frame.h: RFC 6455 frame headers, masking and close payloads as pure
 * functions over caller buffers. No socket, no state, no allocation. */
#ifndef CW_WS_FRAME_H
#define CW_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum {
    CW_OP_CONT = 0x0,
    CW_OP_TEXT = 0x1,
    CW_OP_BINARY = 0x2,
    CW_OP_CLOSE = 0x8,
    CW_OP_PING = 0x9,
    CW_OP_PONG = 0xA
};

/* Close codes (RFC 6455 section 7.4.1 and the IANA registry). */
enum {
    CW_CLOSE_NORMAL = 1000,
    CW_CLOSE_GOING_AWAY = 1001,
    CW_CLOSE_PROTOCOL = 1002,
    CW_CLOSE_UNSUPPORTED = 1003,
    CW_CLOSE_NO_STATUS = 1005,   /* never on the wire */
    CW_CLOSE_ABNORMAL = 1006,    /* never on the wire */
    CW_CLOSE_INVALID_DATA = 1007,
    CW_CLOSE_POLICY = 1008,
    CW_CLOSE_TOO_BIG = 1009,
    CW_CLOSE_EXTENSION = 1010,
    CW_CLOSE_INTERNAL = 1011,
    CW_CLOSE_RESTART = 1012,
    CW_CLOSE_TRY_AGAIN = 1013
};

#define CW_FRAME_MAX_HEADER 14
#define CW_FRAME_MAX_CONTROL 125

typedef struct {
    uint64_t len;       /* payload length */
    uint8_t mask[4];    /* masking key, wire order */
    uint8_t opcode;
    uint8_t fin;
    uint8_t masked;
    uint8_t hdr_len;    /* 2..14 */
} cw_frame_hdr;

/* Parses a frame header at p[0..n). Returns the header length when it is
 * complete, 0 when more bytes are needed, or a negative close code when the
 * header breaks the protocol (reserved bits or opcodes, fragmented or
 * oversized control frame, 64-bit length with its top bit set, or an
 * unmasked frame while require_mask). */
int cw_frame_parse(const uint8_t *p, size_t n, int require_mask, cw_frame_hdr *h);

/* Writes a header for a payload of len bytes; mask NULL means unmasked
 * (server to client). Returns the header length (2..14). */
size_t cw_frame_header(uint8_t out[CW_FRAME_MAX_HEADER], unsigned opcode, int fin, uint64_t len,
                       const uint8_t *mask);

/* XORs p[0..n) with the key, starting at key position `offset` (0..3).
 * Works a machine word at a time; masking twice restores the data. */
void cw_frame_mask(uint8_t *p, size_t n, const uint8_t key[4], size_t offset);

/* Close payload check (section 5.5.1 and 7.4): returns 0 and the code
 * (CW_CLOSE_NO_STATUS when empty) when the payload is acceptable, else the
 * close code to fail with: 1002 for length 1 or a code that may not be sent,
 * 1007 for a reason that is not UTF-8. */
int cw_frame_close_parse(const uint8_t *p, size_t n, uint16_t *code);

/* 1 when `code` may appear in a close frame on the wire. */
int cw_frame_close_valid(unsigned code);

#endif
