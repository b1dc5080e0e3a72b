/* SPDX-License-Identifier: MIT */
/* ws_rx.h: the receive side of RFC 6455 for one connection: frames parsed in
 * place from a read buffer, fragments reassembled, text validated as it
 * arrives, control frames surfaced. Pure logic: buffers come from the
 * caller through cw_ws_rx_ops, so it is unit-tested and fuzzed alone. */
#ifndef CW_WS_RX_H
#define CW_WS_RX_H

#include <stddef.h>
#include <stdint.h>

typedef struct cw_ws_rx {
    uint8_t *msg;       /* reassembly buffer, NULL when none is held (its
                         * capacity is the reserve callback's business) */
    uint32_t remaining; /* payload bytes of the streamed frame still to come */
    uint32_t msg_len;   /* payload bytes assembled in msg */
    uint8_t mask[4];    /* key of the streamed frame */
    uint8_t mask_off;   /* key position of its next byte */
    uint8_t frame_fin;  /* FIN bit of the streamed frame */
    uint8_t msg_op;     /* CW_OP_TEXT/BINARY while a message is open, else 0 */
    uint8_t utf8;       /* validator state across the open text message */
} cw_ws_rx;

typedef struct cw_ws_rx_ops {
    /* Makes rx->msg hold at least `need` bytes, keeping rx->msg_len bytes.
     * Returns 0, or -1 when no buffer can be had (the caller closes 1013). */
    int (*reserve)(void *ctx, cw_ws_rx *rx, size_t need);
    /* Gives rx->msg back; called after a message is delivered. */
    void (*release)(void *ctx, cw_ws_rx *rx);
    /* A whole data message / a whole control frame (payload unmasked).
     * Return nonzero to stop: the connection is going away. */
    int (*message)(void *ctx, unsigned opcode, uint8_t *data, size_t len);
    int (*control)(void *ctx, unsigned opcode, uint8_t *data, size_t len);
} cw_ws_rx_ops;

enum {
    CW_RX_OK = 0,         /* consumed what it could; see *used */
    CW_RX_STOPPED = -1,   /* a callback asked to stop */
    CW_RX_NOMEM = 1013    /* positive values are close codes: 1002, 1007, 1009, 1013 */
};

void cw_ws_rx_init(cw_ws_rx *rx);
/* Parses buf[0..len) (unmasking it in place). *used receives the bytes
 * consumed; the rest is an incomplete frame header or control frame that
 * must be presented again, followed by more bytes. Returns CW_RX_OK,
 * CW_RX_STOPPED, or a close code. */
int cw_ws_rx_feed(cw_ws_rx *rx, uint8_t *buf, size_t len, size_t *used, size_t max_message,
                  const cw_ws_rx_ops *ops, void *ctx);
/* While a data frame's payload is streaming into rx->msg, returns where the
 * next bytes go and (in *room) how many are still expected, so the caller
 * can read straight into it; NULL otherwise. */
uint8_t *cw_ws_rx_direct(cw_ws_rx *rx, size_t *room);
/* Processes n bytes the caller read to the cw_ws_rx_direct pointer. */
int cw_ws_rx_direct_done(cw_ws_rx *rx, size_t n, const cw_ws_rx_ops *ops, void *ctx);

#endif
