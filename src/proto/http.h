/* SPDX-License-Identifier: MIT */
/* http.h: an incremental HTTP/1.1 request-head parser over one fixed buffer.
 * Bytes are appended to req->data as they arrive and cw_http_parse resumes
 * where it stopped; the result is a set of spans into that same buffer. */
#ifndef CW_HTTP_H
#define CW_HTTP_H

#include "cw_config.h"

#include <stddef.h>
#include <stdint.h>

#if CONFIG_HTTP_MAX_REQUEST > 65535
#error "CONFIG_HTTP_MAX_REQUEST must fit 16-bit offsets"
#endif

typedef struct {
    uint16_t off, len;
} cw_span;

#define CW_HTTP_MAX_PARAMS 16  /* query parameters kept per request */
#define CW_HTTP_COOKIE_MAX 2048 /* longest cookie value cw_http_cookie returns */

typedef struct {
    cw_span name, value;
} cw_http_header;

typedef struct cw_http_req {
    uint16_t len;       /* bytes held in data */
    uint16_t pos;       /* bytes parsed so far */
    uint16_t mark;      /* start of the token being parsed */
    uint8_t state;      /* parser state */
    uint8_t version;    /* 10 for HTTP/1.0, 11 for HTTP/1.1 */
    uint16_t nheaders;
    cw_span method, target, path, query;
    /* Filled by cw_http_prepare_scope: decoded, NUL-terminated in place. */
    uint8_t nparams;
    cw_span param_name[CW_HTTP_MAX_PARAMS], param_value[CW_HTTP_MAX_PARAMS];
    cw_http_header hdr[CONFIG_HTTP_MAX_HEADERS];
    /* A static file being sent (the request buffer is held meanwhile). */
    int file_fd;
    uint64_t file_off, file_left;
    char data[CONFIG_HTTP_MAX_REQUEST];
} cw_http_req;

enum {
    CW_HTTP_MORE = 0, /* head incomplete: append bytes and call again */
    CW_HTTP_DONE = 1  /* head complete: req->pos is its length */
    /* any other return is an HTTP error status: 400, 414, 431, 505 */
};

void cw_http_init(cw_http_req *r);
/* Parses data[pos..len). Call after appending bytes. When the buffer is full
 * and the head still incomplete, returns 414 (still in the request line) or
 * 431 (in the headers). */
int cw_http_parse(cw_http_req *r);
/* 1 for a token character of RFC 9110 (header names, methods). */
int cw_http_is_tchar(unsigned char c);

/* Case-insensitive lookup. Returns the header index or -1; *count (if not
 * NULL) receives how many headers have that name. */
int cw_http_find(const cw_http_req *r, const char *name, int *count);
/* 1 when the comma-separated list in span v contains token tok
 * (case-insensitive), as in "Connection: keep-alive, Upgrade". */
int cw_http_has_token(const cw_http_req *r, cw_span v, const char *tok);
/* 1 when any header named `name` lists token tok: the lines of a
 * list-valued header (Connection, Upgrade) are one comma-joined list
 * (RFC 9110 section 5.3), so "Connection: keep-alive" then "Connection:
 * Upgrade" has "upgrade". 0 when none does or the header is absent. */
int cw_http_list_has_token(const cw_http_req *r, const char *name, const char *tok);
/* 1 when span s equals str exactly (case-sensitive, or -insensitive). */
int cw_http_span_eq(const cw_http_req *r, cw_span s, const char *str);
int cw_http_span_ieq(const cw_http_req *r, cw_span s, const char *str);

/* Makes the scope readable as C strings, in place, once the head is
 * complete: header names and values NUL-terminated, the query split into
 * percent-decoded parameters. Spans keep working afterwards. */
void cw_http_prepare_scope(cw_http_req *r);
/* Lookups after cw_http_prepare_scope; NULL when absent. A cookie value
 * (blanks and quotes around it removed, not decoded) is copied to a static
 * buffer valid until the next cw_http_cookie call. */
const char *cw_http_header_value(const cw_http_req *r, const char *name);
const char *cw_http_param(const cw_http_req *r, const char *name);
const char *cw_http_cookie(const cw_http_req *r, const char *name);

/* Writes a complete error response with a one-line text body and
 * "Connection: close". Extra header lines (each ending in CRLF) may be NULL. */
size_t cw_http_error_response(char *out, size_t cap, int status, const char *extra);
/* Standard reason phrase for a status ("Not Found"), or "Error". */
const char *cw_http_reason(int status);
/* The value of hex digit c (either case), or -1. */
int cw_http_hexval(int c);

#endif
