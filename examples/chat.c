/* SPDX-License-Identifier: MIT */
/* chat.c: the Django Channels tutorial chat at /ws/chat/<room>/. Joins
 * chat_<room> on connect; a JSON message {"message": ...} becomes a
 * "chat.message" event to the room; each member forwards it to its socket.
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

#define TEXT_MAX 8192 /* a message's bytes after unescaping */
#define NAME_MAX 256

static void reply_error(cw_conn *c, const char *why)
{
    char buf[128];
    cw_json_w w;
    cw_json_w_init(&w, buf, sizeof buf);
    cw_json_w_object(&w);
    cw_json_w_key(&w, "error");
    cw_json_w_cstr(&w, why);
    cw_json_w_end(&w);
    long n = cw_json_w_finish(&w);
    if (n > 0)
        cw_send_text(c, buf, (size_t)n);
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
    static char text[TEXT_MAX], name[NAME_MAX], body[2 * TEXT_MAX];
    if (m->opcode != CW_TEXT)
        return;
    long n = cw_json_get_string((const char *)m->data, m->len, "message", text, sizeof text);
    if (n < 0) {
        reply_error(c, n == CW_ETOOBIG ? "message too long" : "expected {\"message\": text}");
        return;
    }
    long nn = cw_json_get_string((const char *)m->data, m->len, "name", name, sizeof name);
    cw_json_w w;
    cw_json_w_init(&w, body, sizeof body);
    cw_json_w_object(&w);
    cw_json_w_key(&w, "message");
    cw_json_w_string(&w, text, (size_t)n);
    if (nn > 0) {
        cw_json_w_key(&w, "name");
        cw_json_w_string(&w, name, (size_t)nn);
    }
    cw_json_w_end(&w);
    long bl = cw_json_w_finish(&w);
    if (bl < 0) {
        reply_error(c, "message too long");
        return;
    }
    char group[128];
    room_group(c, group, sizeof group);
    cw_group_send(cw_server_of(c), group, "chat.message", body, (size_t)bl);
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
