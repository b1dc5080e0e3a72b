/* SPDX-License-Identifier: MIT */
/* users.c: /ws/users/, for signed-in users only (the route requires a
 * valid token). Each session joins "users" and "user_<id>"; everyone in
 * "users" sees presence events; a message to "user_<id>" reaches all of
 * that user's open tabs; closing "users" ends every session. */
#include "consumers.h"

#include <stdio.h>
#include <string.h>

static void presence(cw_conn *c, const char *what)
{
    char body[256];
    cw_json_w w;
    cw_json_w_init(&w, body, sizeof body);
    cw_json_w_object(&w);
    cw_json_w_key(&w, "type");
    cw_json_w_cstr(&w, "presence");
    cw_json_w_key(&w, "event");
    cw_json_w_cstr(&w, what);
    cw_json_w_key(&w, "user");
    cw_json_w_cstr(&w, cw_user_name(c) && *cw_user_name(c) ? cw_user_name(c) : cw_user_id(c));
    cw_json_w_key(&w, "id");
    cw_json_w_cstr(&w, cw_user_id(c));
    cw_json_w_end(&w);
    long n = cw_json_w_finish(&w);
    if (n > 0)
        cw_group_send(cw_server_of(c), "users", "presence", body, (size_t)n);
}

static int users_connect(cw_conn *c)
{
    char own[CW_GROUP_NAME_BUF];
    snprintf(own, sizeof own, "user_%s", cw_user_id(c));
    int rc = cw_group_add(c, "users");
    if (rc == 0)
        rc = cw_group_add(c, own);
    if (rc == CW_EINVAL)
        return 403; /* an id that cannot name a group: retrying will not help */
    if (rc != 0)
        return 503;
    presence(c, "joined");
    return 0;
}

static void users_receive(cw_conn *c, const cw_msg *m)
{
    if (m->opcode != CW_TEXT)
        return;
    /* The message goes on as received (escaped, already checked): any
     * size up to --max-message. The body is the message's own value plus
     * a few short keys; the user's name is at most a user record's. */
    cw_json_val v;
    if (cw_json_get((const char *)m->data, m->len, "message", &v) != 0 ||
        v.type != CW_JSON_STRING)
        return;
    cw_json_w w;
    cw_json_w_init(&w, cw_demo_body, sizeof cw_demo_body);
    cw_json_w_object(&w);
    cw_json_w_key(&w, "type");
    cw_json_w_cstr(&w, "user.message");
    cw_json_w_key(&w, "user");
    cw_json_w_cstr(&w, cw_user_name(c));
    cw_json_w_key(&w, "message");
    cw_json_w_value(&w, &v);
    cw_json_w_end(&w);
    long bl = cw_json_w_finish(&w);
    if (bl > 0)
        cw_group_send(cw_server_of(c), "users", "user.message", cw_demo_body, (size_t)bl);
}

static void users_event(cw_conn *c, const char *type, const uint8_t *data, size_t len)
{
    /* presence, user.message, or anything sent with chanwire-send. The page
     * tells them apart by "type", as Channels' send_json(event) would show
     * them: the type in front of the body's keys unless the body says it
     * (as ours do). A body that is not an object goes as it is. */
    if (cw_send_event_json(c, type, data, len) == CW_EINVAL)
        cw_send_text(c, (const char *)data, len);
}

static void users_disconnect(cw_conn *c, int code)
{
    (void)code;
    presence(c, "left");
}

const cw_consumer cw_demo_users = {
    .connect = users_connect,
    .receive = users_receive,
    .event = users_event,
    .disconnect = users_disconnect,
};
