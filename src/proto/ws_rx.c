/* SPDX-License-Identifier: MIT */
/* ws_rx.c: frame sequencing and reassembly. A frame that is whole in the
 * read buffer and is a whole message is delivered where it lies (no copy);
 * fragments and frames that straddle reads stream into a reassembly buffer,
 * validated as they come so bad UTF-8 fails on its first wrong byte. */
#include "proto/ws_rx.h"
#include "base/utf8.h"
#include "proto/frame.h"

#include <string.h>

void cw_ws_rx_init(cw_ws_rx *rx)
{
    memset(rx, 0, sizeof *rx);
}

static void end_message(cw_ws_rx *rx, const cw_ws_rx_ops *ops, void *ctx)
{
    rx->msg_op = 0;
    rx->msg_len = 0;
    rx->utf8 = CW_UTF8_ACCEPT;
    if (rx->msg)
        ops->release(ctx, rx);
}

/* Unmasked payload bytes p[0..n) of the current message have landed at
 * rx->msg + rx->msg_len (p points there). Validates and accounts them. */
static int take_payload(cw_ws_rx *rx, size_t n)
{
    if (rx->msg_op == CW_OP_TEXT) {
        rx->utf8 = cw_utf8_step(rx->utf8, rx->msg + rx->msg_len, n);
        if (rx->utf8 == CW_UTF8_REJECT)
            return CW_CLOSE_INVALID_DATA;
    }
    rx->msg_len += (uint32_t)n;
    return 0;
}

/* The last byte of a data frame has arrived. */
static int frame_done(cw_ws_rx *rx, int fin, const cw_ws_rx_ops *ops, void *ctx)
{
    if (!fin)
        return CW_RX_OK;
    if (rx->msg_op == CW_OP_TEXT && rx->utf8 != CW_UTF8_ACCEPT)
        return CW_CLOSE_INVALID_DATA; /* message ends inside a character */
    unsigned op = rx->msg_op;
    int stop = ops->message(ctx, op, rx->msg, rx->msg_len);
    end_message(rx, ops, ctx);
    return stop ? CW_RX_STOPPED : CW_RX_OK;
}

/* Streams n masked bytes from src into the reassembly buffer. */
static int stream(cw_ws_rx *rx, const uint8_t *src, size_t n, const cw_ws_rx_ops *ops, void *ctx)
{
    uint8_t *dst = rx->msg + rx->msg_len;
    if (src != dst)
        memcpy(dst, src, n);
    cw_frame_mask(dst, n, rx->mask, rx->mask_off);
    rx->mask_off = (uint8_t)((rx->mask_off + n) & 3);
    rx->remaining -= (uint32_t)n; /* n <= remaining */
    int rc = take_payload(rx, n);
    if (rc)
        return rc;
    if (rx->remaining == 0)
        return frame_done(rx, rx->frame_fin, ops, ctx);
    return CW_RX_OK;
}

uint8_t *cw_ws_rx_direct(cw_ws_rx *rx, size_t *room)
{
    if (rx->remaining == 0)
        return NULL;
    *room = (size_t)rx->remaining;
    return rx->msg + rx->msg_len;
}

int cw_ws_rx_direct_done(cw_ws_rx *rx, size_t n, const cw_ws_rx_ops *ops, void *ctx)
{
    if (n > rx->remaining)
        n = (size_t)rx->remaining;
    return stream(rx, rx->msg + rx->msg_len, n, ops, ctx);
}

/* Checks that this data frame may come now and fits; opens the message. */
static int admit(cw_ws_rx *rx, const cw_frame_hdr *h, size_t max_message)
{
    if (h->opcode == CW_OP_CONT) {
        if (!rx->msg_op)
            return CW_CLOSE_PROTOCOL; /* continuation with nothing to continue */
    } else {
        if (rx->msg_op)
            return CW_CLOSE_PROTOCOL; /* new message inside a fragmented one */
        rx->msg_op = h->opcode;
        rx->msg_len = 0;
        rx->utf8 = CW_UTF8_ACCEPT;
    }
    if (h->len > max_message || rx->msg_len + h->len > max_message || h->len > UINT32_MAX)
        return CW_CLOSE_TOO_BIG;
    return 0;
}

int cw_ws_rx_feed(cw_ws_rx *rx, uint8_t *buf, size_t len, size_t *used, size_t max_message,
                  const cw_ws_rx_ops *ops, void *ctx)
{
    size_t pos = 0;
    int rc = CW_RX_OK;
    while (pos < len && rc == CW_RX_OK) {
        if (rx->remaining > 0) {
            size_t n = len - pos;
            if (n > rx->remaining)
                n = (size_t)rx->remaining;
            rc = stream(rx, buf + pos, n, ops, ctx);
            pos += n;
            continue;
        }
        cw_frame_hdr h;
        int hl = cw_frame_parse(buf + pos, len - pos, 1, &h);
        if (hl < 0) {
            rc = -hl;
            break;
        }
        if (hl == 0)
            break; /* header incomplete */
        size_t avail = len - pos - (size_t)hl;
        uint8_t *payload = buf + pos + hl;
        if (h.opcode >= CW_OP_CLOSE) {
            if (avail < h.len)
                break; /* control frame incomplete: at most 139 bytes wait */
            cw_frame_mask(payload, (size_t)h.len, h.mask, 0);
            pos += (size_t)hl + (size_t)h.len;
            if (ops->control(ctx, h.opcode, payload, (size_t)h.len))
                rc = CW_RX_STOPPED;
            continue;
        }
        if ((rc = admit(rx, &h, max_message)) != 0)
            break;
        if (avail >= h.len && h.fin && h.opcode != CW_OP_CONT) {
            /* Whole message in one frame, all here: deliver in place. */
            size_t n = (size_t)h.len;
            cw_frame_mask(payload, n, h.mask, 0);
            pos += (size_t)hl + n;
            if (h.opcode == CW_OP_TEXT && !cw_utf8_valid(payload, n)) {
                rc = CW_CLOSE_INVALID_DATA;
                break;
            }
            unsigned op = rx->msg_op;
            rx->msg_op = 0;
            if (ops->message(ctx, op, payload, n))
                rc = CW_RX_STOPPED;
            continue;
        }
        /* A fragment, or a frame still arriving: it goes to the buffer. */
        if (ops->reserve(ctx, rx, rx->msg_len + (size_t)h.len) < 0) {
            rc = CW_RX_NOMEM;
            break;
        }
        pos += (size_t)hl;
        memcpy(rx->mask, h.mask, 4);
        rx->mask_off = 0;
        rx->frame_fin = h.fin;
        rx->remaining = (uint32_t)h.len;
        if (h.len == 0)
            rc = frame_done(rx, h.fin, ops, ctx);
    }
    *used = pos;
    return rc;
}
