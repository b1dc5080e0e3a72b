/* SPDX-License-Identifier: MIT */
/* channel.h: channel names (Channels' self.channel_name) and worker
 * channels (ChannelNameRouter), the part the channel layer sees. The public
 * calls are cw_channel_name, cw_channel_send, cw_channel_bind (chanwire.h).
 * Built with CONFIG_GROUPS and CONFIG_DEFERRED_ACCEPT (names carry a
 * connection's slot and generation, cw_conn_ref). */
#ifndef CW_CHANNEL_H
#define CW_CHANNEL_H

#include "chanwire.h"
#include "cw_config.h"

/* Channel name styles: how the active layer's peers name their channels.
 *   LOCAL, CORE: "specific.<32 hex>!<16 hex>" (channels_redis.core)
 *   PUBSUB:      "<prefix>specific.<32 hex>"  (channels_redis.pubsub)
 * The 32 hex digits of this process are random at start-up; in PUBSUB the
 * first 16 name the process and the last 16 the connection. */
enum { CW_CHSTYLE_LOCAL = 0, CW_CHSTYLE_PUBSUB, CW_CHSTYLE_CORE };

#if defined(CONFIG_GROUPS) && defined(CONFIG_DEFERRED_ACCEPT)
#define CW_HAVE_CHANNELS 1

#include "proto/layer_msg.h"

/* Draws this process's random id and empties the worker table (the server
 * calls it after cw_groups_init; groups, the lower module, never calls it). */
void cw_channels_init(void);
/* The process's 32 lowercase hex digits. */
const char *cw_channel_process_id(void);
/* Writes the channel name of connection (slot, gen) in style: its length,
 * or CW_ETOOBIG. Pure apart from the process id. */
long cw_channel_format(int style, const char *prefix, uint32_t slot, uint32_t gen, char *out,
                       size_t cap);
/* Reads a name of this process in style: 1 with slot and gen, else 0. */
int cw_channel_parse(int style, const char *prefix, const char *name, uint32_t *slot,
                     uint32_t *gen);
/* 1 when name is a valid channel name (Channels' rule: letters, digits,
 * '-', '_', '.', then at most one '!' and a local part of the same
 * characters; 1..CW_CHANNEL_NAME_BUF-1 bytes). */
int cw_channel_name_valid(const char *name);
/* A message the layer received for channel name: 0 when the name is one
 * of ours or a bound worker channel (delivered, or dropped and counted in
 * channel_dropped), -1 when it is neither (the layer counts it). */
int cw_channel_from_layer(const char *name, const cw_layer_msg_msg *m);
/* Calls fn for each bound worker channel until it returns nonzero (then
 * returns that value). */
int cw_channel_workers_walk(int (*fn)(const char *name, void *ctx), void *ctx);
/* "name value" lines for the stats report; returns the length. */
size_t cw_channel_report(char *out, size_t cap);

#else
/* Without channel names the layers still need a process id; no channel
 * of ours or worker channel exists. */
#include "proto/layer_msg.h"
const char *cw_channel_process_id(void);
static inline size_t cw_channel_report(char *out, size_t cap) { (void)out, (void)cap; return 0; }
static inline int cw_channel_workers_walk(int (*fn)(const char *name, void *ctx), void *ctx)
{
    (void)fn, (void)ctx;
    return 0;
}
static inline int cw_channel_from_layer(const char *name, const cw_layer_msg_msg *m)
{
    (void)name, (void)m;
    return -1;
}
#endif
#endif
