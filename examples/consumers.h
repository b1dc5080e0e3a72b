/* consumers.h: the demo consumers chanwired serves, and their route table. */
#ifndef CW_DEMO_CONSUMERS_H
#define CW_DEMO_CONSUMERS_H

#include "chanwire.h"

const cw_route *cw_demo_routes(size_t *n);

#endif
