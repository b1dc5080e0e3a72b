/* SPDX-License-Identifier: MIT */
/* router.h: URL patterns like "/ws/chat/<room>/" matched against a request
 * path. A <name> matches one path segment of 1..CW_ROUTE_ARG_MAX characters
 * from [A-Za-z0-9_.-]; everything else must match exactly. Pure functions. */
#ifndef CW_ROUTER_H
#define CW_ROUTER_H

#include "chanwire.h"

#include <stddef.h>

#define CW_ROUTE_ARG_MAX 48 /* longest argument value */
#define CW_ROUTE_MAX_ARGS 4

/* 1 when the pattern is well formed: starts with '/', placeholders are
 * <name> with name from [A-Za-z0-9_], at most CW_ROUTE_MAX_ARGS of them,
 * each a whole segment. */
int cw_route_pattern_valid(const char *pattern);
/* Matches path[0..len) against pattern. On success returns the number of
 * arguments and writes their values, NUL-separated in pattern order, to
 * args (cap bytes); returns -1 when the path does not match (or the values
 * do not fit in cap). */
int cw_route_match(const char *pattern, const char *path, size_t len, char *args, size_t cap);
/* The first of routes[0..n) whose pattern matches path[0..len): its index,
 * with the argument values in args as cw_route_match writes them; -1 when
 * none matches. */
int cw_route_find(const cw_route *routes, size_t n, const char *path, size_t len, char *args,
                  size_t cap);
/* The value of argument `name` from a cw_route_match result, or NULL. */
const char *cw_route_arg(const char *pattern, const char *args, const char *name);

#endif
