/* SPDX-License-Identifier: MIT */
/* groups.h: the group table (Channels' groups): fixed pools of groups and
 * memberships, name -> members, and the fan-outs over them (typed events,
 * one-frame broadcasts, closing a group). Safe against members joining,
 * leaving or closing while a fan-out runs. */
#ifndef CW_GROUPS_H
#define CW_GROUPS_H

#include "chanwire.h"

struct cw_member;

/* Empties the tables and registers with the connection layer to drop a
 * connection's memberships when it ends. */
void cw_groups_init(void);
/* Run-time bounds below the build's tables (0: the whole table). */
void cw_groups_set_limits(unsigned groups, unsigned memberships);
/* Drops every membership of c (on close, or a refused connect). */
void cw_groups_discard_all(cw_conn *c);
/* Joins the groups c's consumer lists (cw_consumer.groups), before its
 * connect: 0, 503 when a table is full, 500 for a bad name or list. */
int cw_groups_join_listed(cw_conn *c);
/* 1 when name is a valid group name (ASCII letters, digits, '-', '_', '.',
 * 1..CONFIG_GROUP_NAME_MAX-1 bytes). */
int cw_group_name_valid(const char *name);
/* 1 when type may be sent as an event (group or channel): 1..64 of
 * A-Z a-z 0-9 '.' '_', and not websocket.send / websocket.close. */
int cw_event_type_ok(const char *type);
/* Counts for reports: groups in use, memberships in use. */
void cw_groups_usage(unsigned *groups, unsigned *members);

/* The channel layer's view (src/channels/layer_redis.c). The cw_group_local_* calls
 * are the public fan-outs without publishing: what a message received from
 * another process does here. Same checks and returns as the public calls. */
int cw_group_local_send(const char *group, const char *type, const void *data, size_t len);
int cw_group_local_broadcast(const char *group, int binary, const void *data, size_t len);
int cw_group_local_close(const char *group, int code, const char *reason);
/* 1 while the group has local members. */
int cw_group_exists(const char *name);
/* Calls fn for each group from hash bucket *cursor on (start at 0) until fn
 * returns nonzero: then returns 0 with *cursor at the bucket to visit again
 * (some of its groups twice). Returns 1 when every group was visited. */
int cw_groups_walk(uint32_t *cursor, int (*fn)(const char *name, void *ctx), void *ctx);
/* 1 when a walk now at cursor has already visited name's bucket. */
int cw_groups_walk_passed(const char *name, uint32_t cursor);

#endif
