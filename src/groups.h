/* groups.h: the group table (Channels' groups): fixed pools of groups and
 * memberships, name -> members, and the fan-outs over them (typed events,
 * one-frame broadcasts, closing a group). Safe against members joining,
 * leaving or closing while a fan-out runs. */
#ifndef CW_GROUPS_H
#define CW_GROUPS_H

#include "chanwire.h"

struct cw_member;

void cw_groups_init(void);
/* Drops every membership of c (on close, or a refused connect). */
void cw_groups_discard_all(cw_conn *c);
/* 1 when name is a valid group name (ASCII letters, digits, '-', '_', '.',
 * 1..CONFIG_GROUP_NAME_MAX-1 bytes). */
int cw_group_name_valid(const char *name);
/* Counts for reports: groups in use, memberships in use. */
void cw_groups_usage(unsigned *groups, unsigned *members);

#endif
