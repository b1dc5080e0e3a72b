/* SPDX-License-Identifier: MIT */
/* routes.c: chanwired's URL routes (Channels' websocket_urlpatterns). */
#include "consumers.h"
#include "cw_config.h"

static const cw_route routes[] = {
    {"/ws/echo/", &cw_demo_echo, 0},
#if defined(CONFIG_GROUPS) && defined(CONFIG_JSON)
    /* These need groups and JSON; a build without them (the tiny profile)
     * serves the echo socket only. */
    {"/ws/chat/<room>/", &cw_demo_chat, 0},
    {"/ws/users/", &cw_demo_users, CW_ROUTE_AUTH},
#if defined(CONFIG_DEFERRED_ACCEPT)
    /* Channel names (cw_channel_name, cw_channel_send). */
    {"/ws/channel/", &cw_demo_channel, 0},
#endif
#if defined(CONFIG_APP_TIMERS)
    /* The device status page (/status/), sampled on a timer. */
    {"/ws/status/", &cw_demo_status, 0},
#endif
#endif
};

const cw_route *cw_demo_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
