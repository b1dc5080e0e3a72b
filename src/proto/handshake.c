/* SPDX-License-Identifier: MIT */
/* handshake.c: validates an upgrade request header by header, in the order
 * that gives the most useful status, and builds the fixed response heads. */
#include "proto/handshake.h"
#include "base/base64.h"
#include "base/sha1.h"

#include <stdio.h>
#include <string.h>

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void cw_handshake_accept_key(const char *key, size_t n, char out[29])
{
    cw_sha1 s;
    uint8_t d[20];
    cw_sha1_init(&s);
    cw_sha1_update(&s, key, n);
    cw_sha1_update(&s, ws_guid, sizeof ws_guid - 1);
    cw_sha1_final(&s, d);
    cw_base64_encode(out, 29, d, 20);
}

int cw_handshake_is_upgrade(const cw_http_req *r)
{
    return cw_http_find(r, "upgrade", NULL) >= 0;
}

static int fail(cw_handshake *out, int status, const char *why)
{
    out->status = status;
    out->why = why;
    out->accept[0] = 0;
    return status;
}

/* Finds a header that must appear exactly once. Returns its index, -1 when
 * absent, -2 when repeated. */
static int single(const cw_http_req *r, const char *name)
{
    int n, i = cw_http_find(r, name, &n);
    return n > 1 ? -2 : i;
}

/* Headers that are not lists (RFC 9110 section 5.3) and that a later step
 * reads by their first line: a second line is a malformed request, or a
 * second value the next hop may read instead (RFC 6454 section 7 for
 * Origin, RFC 9110 section 11.6.2 for Authorization). */
static const struct {
    char name[16];
    char why[24];
} at_most_once[] = {
    {"origin", "repeated Origin"},
    {"authorization", "repeated Authorization"},
};

void cw_handshake_check(const cw_http_req *r, cw_handshake *out)
{
    int i, n;
    if (!cw_http_span_eq(r, r->method, "GET")) {
        fail(out, 400, "method is not GET");
        return;
    }
    if (r->version < 11) {
        fail(out, 400, "HTTP/1.0 cannot upgrade");
        return;
    }
    if (single(r, "host") < 0) {
        fail(out, 400, "missing or repeated Host");
        return;
    }
    for (size_t k = 0; k < sizeof at_most_once / sizeof at_most_once[0]; k++) {
        if (single(r, at_most_once[k].name) == -2) {
            fail(out, 400, at_most_once[k].why);
            return;
        }
    }
    if (!cw_handshake_is_upgrade(r)) {
        fail(out, 426, "not an upgrade request");
        return;
    }
    /* Upgrade and Connection are lists: every line counts (RFC 9110 5.3). */
    if (!cw_http_list_has_token(r, "upgrade", "websocket")) {
        fail(out, 400, "Upgrade is not websocket");
        return;
    }
    if (!cw_http_list_has_token(r, "connection", "upgrade")) {
        fail(out, 400, "Connection lacks upgrade");
        return;
    }
    /* A GET has no body; a framing header on it is a smuggling attempt
     * (RFC 9112 section 6.3), whatever its value. */
    if (cw_http_find(r, "transfer-encoding", NULL) >= 0) {
        fail(out, 400, "Transfer-Encoding on an upgrade");
        return;
    }
    i = cw_http_find(r, "content-length", &n);
    if (n > 1) {
        fail(out, 400, "repeated Content-Length"); /* even with equal values */
        return;
    }
    if (i >= 0 && !cw_http_span_eq(r, r->hdr[i].value, "0")) {
        fail(out, 400, "request has a body");
        return;
    }
    i = single(r, "sec-websocket-version");
    if (i == -1) {
        fail(out, 400, "missing Sec-WebSocket-Version");
        return;
    }
    if (i == -2) {
        fail(out, 400, "repeated Sec-WebSocket-Version");
        return;
    }
    if (!cw_http_span_eq(r, r->hdr[i].value, "13")) {
        fail(out, 426, "unsupported Sec-WebSocket-Version");
        return;
    }
    i = single(r, "sec-websocket-key");
    if (i < 0) {
        fail(out, 400, "missing or repeated Sec-WebSocket-Key");
        return;
    }
    cw_span key = r->hdr[i].value;
    uint8_t raw[18];
    if (key.len != 24 || cw_base64_decode(raw, sizeof raw, r->data + key.off, key.len) != 16) {
        fail(out, 400, "Sec-WebSocket-Key is not 16 bytes of base64");
        return;
    }
    out->status = 101;
    out->why = NULL;
    cw_handshake_accept_key(r->data + key.off, key.len, out->accept);
}

size_t cw_handshake_response(char *out, size_t cap, const char *accept, const char *subprotocol)
{
    int n = snprintf(out, cap,
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n"
                     "%s%s%s"
                     "\r\n",
                     accept, subprotocol ? "Sec-WebSocket-Protocol: " : "",
                     subprotocol ? subprotocol : "", subprotocol ? "\r\n" : "");
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
