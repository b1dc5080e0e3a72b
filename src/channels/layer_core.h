/* SPDX-License-Identifier: MIT */
/* layer_core.h: channels_redis.core's RedisChannelLayer (sorted sets,
 * src/channels/layer_redis_core.c), driven through the same hooks as the
 * Pub/Sub layer: layer_redis.c hands each call of channels/layer.h to it
 * while it is the active layer (cw_redis_options.layer "core"). */
#ifndef CW_LAYER_CORE_H
#define CW_LAYER_CORE_H

#include "chanwire.h"

#include <stddef.h>

int cw_core_start(const cw_redis_options *o, char *err, size_t errlen);
int cw_core_active(void);
void cw_core_group_up(const char *group);
void cw_core_group_down(const char *group);
/* kind: CW_LAYER_MSG_*; as cw_layer_publish_event/send/close. */
void cw_core_publish(const char *group, int kind, const char *type, const void *data, size_t len,
                     int code, const char *reason);
int cw_core_channel_send(const char *channel, const char *type, const void *data, size_t len);
void cw_core_worker_up(const char *name);
void cw_core_worker_down(const char *name);
const char *cw_core_take_error(void);
void cw_core_flush(void);
size_t cw_core_report(char *out, size_t cap);
void cw_core_fini(void);

#endif
