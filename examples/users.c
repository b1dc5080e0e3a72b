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
    static char text[2048], body[2400];
    if (m->opcode != CW_TEXT)
        return;
    long n = cw_json_get_string((const char *)m->data, m->len, "message", text, sizeof text);
    if (n < 0)
        return;
    cw_json_w w;
    cw_json_w_init(&w, body, sizeof body);
    cw_json_w_object(&w);
    cw_json_w_key(&w, "type");
    cw_json_w_cstr(&w, "user.message");
    cw_json_w_key(&w, "user");
    cw_json_w_cstr(&w, cw_user_name(c));
    cw_json_w_key(&w, "message");
    cw_json_w_string(&w, text, (size_t)n);
    cw_json_w_end(&w);
    long bl = cw_json_w_finish(&w);
    if (bl > 0)
        cw_group_send(cw_server_of(c), "users", "user.message", body, (size_t)bl);
}

static void users_event(cw_conn *c, const char *type, const uint8_t *data, size_t len)
{
    /* presence, user.message, or anything sent with chanwire-send. The page
     * tells them apart by "type": a body is the event's other keys, so put
     * the type back in front unless the body repeats it (as ours do). */
    static char out[4096];
    const char *d = (const char *)data;
    size_t i = 0;
    cw_json_val v;
    while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r'))
        i++;
    if (i == len || d[i] != '{' || cw_json_get(d, len, "type", &v) != CW_ENOENT ||
        len + strlen(type) + 16 > sizeof out) {
        cw_send_text(c, d, len);
        return;
    }
    size_t j = i + 1;
    while (j < len && (d[j] == ' ' || d[j] == '\t' || d[j] == '\n' || d[j] == '\r'))
        j++;
    int n = snprintf(out, sizeof out, "{\"type\":\"%s\"%s", type, d[j] == '}' ? "" : ",");
    memcpy(out + n, d + i + 1, len - i - 1);
    cw_send_text(c, out, (size_t)n + len - i - 1);
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
