/* SPDX-License-Identifier: MIT */
/* channels.c: the channel-name demo, Channels' self.channel_name and
 * channel_layer.send. /ws/channel/[?group=G] tells its client its channel
 * name ({"channel": NAME}) and joins group G if asked; a message
 * {"to": NAME, "type": T, "body": {...}} is sent as event T with that body
 * (default {}) to that channel
 * (answered {"sent": N}, N as cw_channel_send returns it); every event the
 * connection gets is forwarded to the client as {"type": T, ...}.
 * cw_demo_worker serves chanwired --worker NAME (ChannelNameRouter): each
 * event goes on to group "workers", and to the channel in its "reply_to"
 * key, as "worker.reply". */
#include "consumers.h"

#if defined(CONFIG_GROUPS) && defined(CONFIG_JSON) && defined(CONFIG_DEFERRED_ACCEPT)
#include <stdio.h>
#include <string.h>

static int channel_connect(cw_conn *c)
{
    const char *g = cw_query(c, "group");
    if (g && cw_group_add(c, g) != 0)
        return 400;
    char name[CW_CHANNEL_NAME_BUF], msg[CW_CHANNEL_NAME_BUF + 32];
    if (cw_channel_name_copy(c, name, sizeof name) < 0)
        return 500;
    int n = snprintf(msg, sizeof msg, "{\"channel\": \"%s\"}", name);
    cw_send_text(c, msg, (size_t)n);
    return 0;
}

static void channel_receive(cw_conn *c, const cw_msg *m)
{
    char to[CW_CHANNEL_NAME_BUF], type[65], reply[48];
    const char *d = (const char *)m->data;
    int rc = CW_EINVAL;
    cw_json_val body = {CW_JSON_OBJECT, "{}", 2};
    if (m->opcode == CW_TEXT && cw_json_get_string(d, m->len, "to", to, sizeof to) > 0 &&
        cw_json_get_string(d, m->len, "type", type, sizeof type) > 0 &&
        (cw_json_get(d, m->len, "body", &body) == CW_ENOENT || body.type == CW_JSON_OBJECT))
        rc = cw_channel_send(cw_server_of(c), to, type, body.ptr, body.len);
    int n = snprintf(reply, sizeof reply, "{\"sent\": %d}", rc);
    cw_send_text(c, reply, (size_t)n);
}

static void channel_event(cw_conn *c, const char *type, const uint8_t *data, size_t len)
{
    cw_send_event_json(c, type, data, len);
}

const cw_consumer cw_demo_channel = {
    .connect = channel_connect,
    .receive = channel_receive,
    .event = channel_event,
};

static void worker_event(cw_conn *c, const char *type, const uint8_t *data, size_t len)
{
    (void)c; /* a worker channel has no connection */
    char to[CW_CHANNEL_NAME_BUF];
    cw_group_send(NULL, "workers", type, data, len);
    if (cw_json_get_string((const char *)data, len, "reply_to", to, sizeof to) > 0)
        cw_channel_send(NULL, to, "worker.reply", data, len);
}

const cw_consumer cw_demo_worker = {
    .event = worker_event,
};
#endif
