/* SPDX-License-Identifier: MIT */
/* chat.c: the Django Channels tutorial chat at /ws/chat/<room>/. Joins
 * chat_<room> on connect; a JSON message {"message": ...} becomes a
 * "chat.message" event to the room; each member forwards it to its socket.
 * The message's value goes on as received (cw_json_w_value: no unescaping
 * into a buffer of its own), so any message up to --max-message is relayed.
 *
 * The Channels original (chat/consumers.py), for comparison:
 *   async def connect(self):
 *       self.room_group_name = f"chat_{self.scope['url_route']['kwargs']['room_name']}"
 *       await self.channel_layer.group_add(self.room_group_name, self.channel_name)
 *       await self.accept()
 *   async def receive(self, text_data):
 *       message = json.loads(text_data)["message"]
 *       await self.channel_layer.group_send(self.room_group_name,
 *                                           {"type": "chat.message", "message": message})
 *   async def chat_message(self, event):
 *       await self.send(text_data=json.dumps({"message": event["message"]}))
 */
#include "consumers.h"

#include <stdio.h>
#include <string.h>

/* The event body: {"message":...,"name":...} cut from the received message
 * itself, so never longer than it (at most --max-message). Shared with
 * users.c, whose bodies add a few keys: one receive runs at a time. */
char cw_demo_body[CW_DEMO_BODY_MAX];

static void reply_error(cw_conn *c, const char *why)
{
    char buf[128];
    cw_json_w w;
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_object(&w);
    cw_json_w_key(&w, "error");
    cw_json_w_cstr(&w, why);
    cw_json_w_end(&w);
    cw_send_json(c, &w);
}

static void room_group(cw_conn *c, char *out, size_t cap)
{
    snprintf(out, cap, "chat_%s", cw_arg(c, "room"));
}

static int chat_connect(cw_conn *c)
{
    /* A client may ask for the "chat" subprotocol; plain clients work too. */
    cw_accept_subprotocol(c, "chat");
    char group[128];
    room_group(c, group, sizeof group);
    int rc = cw_group_add(c, group);
    if (rc == CW_EINVAL)
        return 404; /* a room name that cannot be a group name */
    return rc == 0 ? 0 : 503; /* group tables full: try again later */
}

static void chat_receive(cw_conn *c, const cw_msg *m)
{
    if (m->opcode != CW_TEXT)
        return;
    /* The values are forwarded as received (still escaped, already checked
     * by the reader): any message up to --max-message goes through. */
    const char *d = (const char *)m->data;
    cw_json_val msg, name;
    if (cw_json_get(d, m->len, "message", &msg) != 0 || msg.type != CW_JSON_STRING) {
        reply_error(c, "expected {\"message\": text}");
        return;
    }
    int has_name = cw_json_get(d, m->len, "name", &name) == 0 && name.type == CW_JSON_STRING &&
                   name.len > 2;
    cw_json_w w;
    cw_json_w_init(&w, cw_demo_body, sizeof cw_demo_body);
    cw_json_w_object(&w);
    cw_json_w_key(&w, "message");
    cw_json_w_value(&w, &msg);
    if (has_name) {
        cw_json_w_key(&w, "name");
        cw_json_w_value(&w, &name);
    }
    cw_json_w_end(&w);
    long bl = cw_json_w_finish(&w);
    if (bl < 0) {
        reply_error(c, "message too long"); /* only when the build's buffer is below the limit */
        return;
    }
    char group[128];
    room_group(c, group, sizeof group);
    cw_group_send(cw_server_of(c), group, "chat.message", cw_demo_body, (size_t)bl);
}

static void chat_event(cw_conn *c, const char *type, const uint8_t *data, size_t len)
{
    /* chat.message bodies are already the JSON the page expects. Like
     * Channels, "chat_message" (what a Django peer on the Redis layer may
     * send) names the same handler. */
    if (cw_event_is(type, "chat.message"))
        cw_send_text(c, (const char *)data, len);
}

const cw_consumer cw_demo_chat = {
    .connect = chat_connect,
    .receive = chat_receive,
    .event = chat_event,
};
