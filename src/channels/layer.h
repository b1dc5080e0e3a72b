/* SPDX-License-Identifier: MIT */
/* layer.h: the hooks by which the core drives the optional channel layer
 * (src/channels/layer_redis.c): groups appearing and disappearing locally, group
 * operations to publish, the after-batch flush, stats and shutdown. Without
 * CONFIG_LAYER_REDIS they are empty inlines and nothing of the layer exists. */
#ifndef CW_LAYER_H
#define CW_LAYER_H

#include "cw_config.h"

#include <stddef.h>

#ifdef CONFIG_LAYER_REDIS

/* A group got its first local member / lost its last one. */
void cw_layer_group_up(const char *group);
void cw_layer_group_down(const char *group);
/* Publish a group operation to the other processes (no-ops while the layer
 * is not configured). A message that cannot be published is counted and
 * logged, and cw_layer_take_error reports it. */
void cw_layer_publish_event(const char *group, const char *type, const void *data, size_t len);
void cw_layer_publish_send(const char *group, int binary, const void *data, size_t len);
void cw_layer_publish_close(const char *group, int code, const char *reason);
/* Why the last publication failed since the previous call, or NULL. */
const char *cw_layer_take_error(void);
/* Sends what the batch queued (called after every reactor batch). */
void cw_layer_flush(void);
/* "name value" lines for cw_stats_report; returns the length. */
size_t cw_layer_report(char *out, size_t cap);
/* Channel names (src/channels/channel.c): the style of the active layer
 * (CW_CHSTYLE_*; *prefix its channels_redis prefix); sending to a channel
 * of another process: 0 handed to Redis, -1 dropped (counted, logged,
 * cw_layer_take_error says why); a worker channel bound / unbound here. */
int cw_layer_style(const char **prefix);
int cw_layer_channel_send(const char *channel, const char *type, const void *data, size_t len);
void cw_layer_worker_up(const char *name);
void cw_layer_worker_down(const char *name);
/* Closes the connections (cw_server_fini). */
void cw_layer_fini(void);

#else

static inline void cw_layer_group_up(const char *group) { (void)group; }
static inline void cw_layer_group_down(const char *group) { (void)group; }
static inline void cw_layer_publish_event(const char *group, const char *type, const void *data,
                                          size_t len)
{
    (void)group, (void)type, (void)data, (void)len;
}
static inline void cw_layer_publish_send(const char *group, int binary, const void *data,
                                         size_t len)
{
    (void)group, (void)binary, (void)data, (void)len;
}
static inline void cw_layer_publish_close(const char *group, int code, const char *reason)
{
    (void)group, (void)code, (void)reason;
}
static inline const char *cw_layer_take_error(void) { return NULL; }
static inline void cw_layer_flush(void) {}
static inline size_t cw_layer_report(char *out, size_t cap) { (void)out, (void)cap; return 0; }
static inline void cw_layer_fini(void) {}
static inline int cw_layer_style(const char **prefix) { *prefix = ""; return 0; }
static inline int cw_layer_channel_send(const char *channel, const char *type, const void *data,
                                        size_t len)
{
    (void)channel, (void)type, (void)data, (void)len;
    return -1;
}
static inline void cw_layer_worker_up(const char *name) { (void)name; }
static inline void cw_layer_worker_down(const char *name) { (void)name; }

#endif
#endif
