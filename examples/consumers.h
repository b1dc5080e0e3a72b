/* SPDX-License-Identifier: MIT */
/* consumers.h: the demo consumers chanwired serves, and their route table. */
#ifndef CW_DEMO_CONSUMERS_H
#define CW_DEMO_CONSUMERS_H

#include "chanwire.h"
#include "cw_config.h"

extern const cw_consumer cw_demo_echo;  /* /ws/echo/ */
extern const cw_consumer cw_demo_chat;  /* /ws/chat/<room>/ */
extern const cw_consumer cw_demo_users; /* /ws/users/ (signed-in) */
extern const cw_consumer cw_demo_status; /* /ws/status/ (builds with timers) */
extern const cw_consumer cw_demo_channel; /* /ws/channel/ (channels.c) */
extern const cw_consumer cw_demo_worker;  /* chanwired --worker NAME */

const cw_route *cw_demo_routes(size_t *n);

/* The JSON consumers' buffer for an event body built from a received
 * message (chat.c): the message limit, and room for users.c's keys and a
 * user name escaped at worst (48 bytes, 6 each). */
#define CW_DEMO_BODY_MAX (CONFIG_MAX_MESSAGE_SIZE + 512)
extern char cw_demo_body[CW_DEMO_BODY_MAX];

#endif
