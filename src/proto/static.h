/* SPDX-License-Identifier: MIT */
/* static.h: the device's web page: mapping a request path to a file below
 * the www directory (no traversal, no hidden files) and its MIME type. */
#ifndef CW_STATIC_H
#define CW_STATIC_H

#include <stddef.h>

/* Turns a request path ("/", "/app/x.js", percent-encoded) into a relative
 * file name ("index.html", "app/x.js"). Returns 0, or 404 for anything that
 * could leave the directory or name a hidden file (".." or "." segments,
 * a segment starting with '.', "//", backslashes, NUL, bad escapes). */
int cw_static_resolve(const char *path, char *rel, size_t cap);
/* Content-Type for a file name, by extension. */
const char *cw_static_mime(const char *rel);

#endif
