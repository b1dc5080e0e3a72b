/* SPDX-License-Identifier: MIT */
/* consumers.h: the demo consumers chanwired serves, and their route table. */
#ifndef CW_DEMO_CONSUMERS_H
#define CW_DEMO_CONSUMERS_H

#include "chanwire.h"

extern const cw_consumer cw_demo_echo;  /* /ws/echo/ */
extern const cw_consumer cw_demo_chat;  /* /ws/chat/<room>/ */
extern const cw_consumer cw_demo_users; /* /ws/users/ (signed-in) */

const cw_route *cw_demo_routes(size_t *n);

#endif
