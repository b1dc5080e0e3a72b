/* SPDX-License-Identifier: MIT */
/* handshake.h: the WebSocket opening handshake (RFC 6455 section 4.2) on a
 * parsed request: the checks, the accept key, and the response heads. */
#ifndef CW_HANDSHAKE_H
#define CW_HANDSHAKE_H

#include "proto/http.h"

typedef struct {
    int status;        /* 101 when the request is a valid upgrade, else the HTTP status */
    const char *why;   /* a short reason for the log when status != 101 */
    char accept[29];   /* Sec-WebSocket-Accept, NUL-terminated, when status == 101 */
} cw_handshake;

/* 1 when the request asks for an upgrade at all (has an Upgrade header). */
int cw_handshake_is_upgrade(const cw_http_req *r);
void cw_handshake_check(const cw_http_req *r, cw_handshake *out);
/* base64(SHA-1(key + GUID)), 28 chars and a NUL. */
void cw_handshake_accept_key(const char *key, size_t n, char out[29]);

/* Writes the 101 response head; subprotocol may be NULL. Returns its length,
 * or 0 when cap is too small. */
size_t cw_handshake_response(char *out, size_t cap, const char *accept, const char *subprotocol);

#endif
