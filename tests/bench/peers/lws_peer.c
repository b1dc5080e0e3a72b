/* SPDX-License-Identifier: MIT */
/* lws_peer.c: the libwebsockets peer of `make bench` (Debian's 4.1.6), in
 * the library's own style: one protocol, a per-session lws_ring of pending
 * echoes, a ring per chat room with a tail per member, and every write done
 * from LWS_CALLBACK_SERVER_WRITEABLE after lws_callback_on_writable().
 *   /ws/echo/         every message back, fragments and opcode kept
 *   /ws/chat/<room>/  {"message": m} goes to every member as {"message": m}
 * Tuned as lws's documentation suggests for throughput (a 128 KiB service
 * buffer, see serv_buf). Room elements carry a count of members still to
 * send them, so freeing the oldest is O(1) per write; the helper of the
 * minimal examples, lws_ring_consume_and_update_oldest_tail, scans every
 * member on each write, which would make a 1000-member room quadratic and
 * this baseline unfairly slow. */
#include <libwebsockets.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ECHO_RING 64   /* fragments waiting to be echoed per session */
#define ROOM_RING 4096 /* messages waiting in a room */
#define MSG_MAX (1 << 20)

struct msg {
    unsigned char *payload; /* LWS_PRE bytes of headroom, then len bytes */
    size_t len;
    unsigned pending; /* room: members that still have to send it */
    char binary, first, final;
};

struct room;

struct pss {
    struct pss *next; /* room members */
    struct lws *wsi;
    struct room *room; /* NULL: echo */
    struct lws_ring *ring; /* echo: my pending fragments (from the first one) */
    int echo;
    uint32_t tail;         /* chat: my position in the room's ring */
    unsigned char *rx;     /* chat: the message being reassembled */
    size_t rx_len;
    int flow_off;
};

struct room {
    struct room *next;
    char name[64];
    struct lws_ring *ring;
    struct pss *members;
    unsigned count;
};

static struct room *rooms;
static struct lws_context *context;
static volatile int interrupted;
/* The service buffer is lws's read and write chunk (default 4096). Its
 * documentation suggests 128 KiB for throughput; with 4096 a 64 KiB echo
 * takes 16 writable callbacks and runs 4-5x slower. --serv-buf 0: default. */
static unsigned serv_buf = 128 * 1024;

static void destroy_msg(void *p)
{
    struct msg *m = p;
    free(m->payload);
    m->payload = NULL;
}

static int msg_init(struct msg *m, const void *data, size_t len)
{
    m->payload = malloc(LWS_PRE + len + 1);
    if (!m->payload)
        return -1;
    memcpy(m->payload + LWS_PRE, data, len);
    m->len = len;
    return 0;
}

/* ---- rooms ---- */

static struct room *room_get(const char *name)
{
    struct room *r;
    for (r = rooms; r; r = r->next)
        if (!strcmp(r->name, name))
            return r;
    r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    snprintf(r->name, sizeof r->name, "%s", name);
    r->ring = lws_ring_create(sizeof(struct msg), ROOM_RING, destroy_msg);
    if (!r->ring) {
        free(r);
        return NULL;
    }
    r->next = rooms;
    rooms = r;
    return r;
}

/* Frees every element at the old end that all members have sent. */
static void room_trim(struct room *r)
{
    uint32_t t = lws_ring_get_oldest_tail(r->ring);
    const struct msg *m;
    while ((m = lws_ring_get_element(r->ring, &t)) && m->pending == 0)
        lws_ring_consume(r->ring, &t, NULL, 1);
    lws_ring_update_oldest_tail(r->ring, t);
}

static void room_join(struct room *r, struct pss *pss)
{
    /* start at the head: a new member gets only what is sent from now on */
    uint32_t t = lws_ring_get_oldest_tail(r->ring);
    while (lws_ring_get_element(r->ring, &t))
        lws_ring_consume(r->ring, &t, NULL, 1);
    pss->tail = t;
    pss->room = r;
    lws_ll_fwd_insert(pss, next, r->members);
    r->count++;
}

static void room_leave(struct pss *pss)
{
    struct room *r = pss->room;
    struct msg *m;
    while ((m = (struct msg *)lws_ring_get_element(r->ring, &pss->tail))) {
        m->pending--;
        lws_ring_consume(r->ring, &pss->tail, NULL, 1);
    }
    lws_ll_fwd_remove(struct pss, next, pss, r->members);
    r->count--;
    room_trim(r);
    if (!r->count) {
        lws_start_foreach_llp(struct room **, pr, rooms) {
            if (*pr == r) {
                *pr = r->next;
                break;
            }
        } lws_end_foreach_llp(pr, next);
        lws_ring_destroy(r->ring);
        free(r);
    }
}

/* Finds the "message" string of a JSON object; returns its escaped bytes
 * (between the quotes) or NULL. Enough for {"message": "..."} texts. */
static const char *json_message(const char *s, size_t n, size_t *len)
{
    const char *end = s + n, *p = s;
    while (p + 9 <= end) {
        if (!memcmp(p, "\"message\"", 9))
            break;
        p++;
    }
    if (p + 9 > end)
        return NULL;
    p += 9;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    if (p >= end || *p++ != ':')
        return NULL;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    if (p >= end || *p++ != '"')
        return NULL;
    const char *v = p;
    while (p < end && *p != '"')
        p += *p == '\\' ? 2 : 1;
    if (p >= end)
        return NULL;
    *len = (size_t)(p - v);
    return v;
}

static void chat_publish(struct pss *pss)
{
    struct room *r = pss->room;
    size_t vl;
    const char *v = json_message((const char *)pss->rx, pss->rx_len, &vl);
    if (!v)
        return;
    struct msg m;
    memset(&m, 0, sizeof m);
    m.payload = malloc(LWS_PRE + vl + 16);
    if (!m.payload)
        return;
    unsigned char *o = m.payload + LWS_PRE;
    memcpy(o, "{\"message\": \"", 13);
    memcpy(o + 13, v, vl);
    memcpy(o + 13 + vl, "\"}", 2);
    m.len = 13 + vl + 2;
    m.first = m.final = 1;
    m.pending = r->count;
    if (!lws_ring_insert(r->ring, &m, 1)) {
        lwsl_warn("room %s: ring full, message dropped\n", r->name);
        free(m.payload);
        return;
    }
    lws_start_foreach_llp(struct pss **, pp, r->members) {
        lws_callback_on_writable((*pp)->wsi);
    } lws_end_foreach_llp(pp, next);
}

/* ---- the protocol ---- */

static int callback_bench(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len)
{
    struct pss *pss = user;
    char uri[128];

    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        memset(pss, 0, sizeof *pss);
        pss->wsi = wsi;
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0)
            return -1;
        if (!strcmp(uri, "/ws/echo/")) {
            pss->echo = 1; /* the ring comes with the first message: idle costs nothing */
            return 0;
        }
        if (!strncmp(uri, "/ws/chat/", 9)) {
            char name[64];
            size_t n = strlen(uri + 9);
            if (n < 2 || n > 49 || uri[9 + n - 1] != '/')
                return -1;
            snprintf(name, sizeof name, "chat_%.*s", (int)(n - 1), uri + 9);
            struct room *r = room_get(name);
            if (!r)
                return -1;
            room_join(r, pss);
            return 0;
        }
        return -1;

    case LWS_CALLBACK_CLOSED:
        if (pss->room)
            room_leave(pss);
        if (pss->ring)
            lws_ring_destroy(pss->ring);
        free(pss->rx);
        break;

    case LWS_CALLBACK_RECEIVE:
        if (pss->echo) { /* echo: queue the fragment as it came */
            struct msg m;
            if (!pss->ring)
                pss->ring = lws_ring_create(sizeof(struct msg), ECHO_RING, destroy_msg);
            if (!pss->ring)
                return -1;
            memset(&m, 0, sizeof m);
            if (msg_init(&m, in, len) < 0)
                return -1;
            m.binary = (char)lws_frame_is_binary(wsi);
            m.first = (char)lws_is_first_fragment(wsi);
            m.final = (char)lws_is_final_fragment(wsi);
            if (!lws_ring_insert(pss->ring, &m, 1)) {
                destroy_msg(&m);
                lwsl_warn("echo ring full\n");
                return -1;
            }
            if (!lws_ring_get_count_free_elements(pss->ring)) {
                lws_rx_flow_control(wsi, 0);
                pss->flow_off = 1;
            }
            lws_callback_on_writable(wsi);
            break;
        }
        if (pss->room) { /* chat: reassemble, then publish */
            if (lws_frame_is_binary(wsi))
                break;
            if (lws_is_first_fragment(wsi))
                pss->rx_len = 0;
            if (pss->rx_len + len > MSG_MAX)
                return -1;
            unsigned char *nb = realloc(pss->rx, pss->rx_len + len + 1);
            if (!nb)
                return -1;
            pss->rx = nb;
            memcpy(pss->rx + pss->rx_len, in, len);
            pss->rx_len += len;
            if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
                chat_publish(pss);
        }
        break;

    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (pss->ring) {
            const struct msg *m = lws_ring_get_element(pss->ring, NULL);
            if (!m)
                break;
            int flags = lws_write_ws_flags(m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT,
                                           m->first, m->final);
            if (lws_write(wsi, m->payload + LWS_PRE, m->len, (enum lws_write_protocol)flags) <
                (int)m->len)
                return -1;
            lws_ring_consume(pss->ring, NULL, NULL, 1);
            if (pss->flow_off && lws_ring_get_count_free_elements(pss->ring) > ECHO_RING / 2) {
                lws_rx_flow_control(wsi, 1);
                pss->flow_off = 0;
            }
            if (lws_ring_get_element(pss->ring, NULL))
                lws_callback_on_writable(wsi);
            break;
        }
        if (pss->room) {
            struct room *r = pss->room;
            struct msg *m = (struct msg *)lws_ring_get_element(r->ring, &pss->tail);
            if (!m)
                break;
            if (lws_write(wsi, m->payload + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len)
                return -1;
            lws_ring_consume(r->ring, &pss->tail, NULL, 1);
            if (--m->pending == 0)
                room_trim(r);
            if (lws_ring_get_element(r->ring, &pss->tail))
                lws_callback_on_writable(wsi);
        }
        break;

    default:
        break;
    }
    return 0;
}

static struct lws_protocols protocols[] = {
    {"bench", callback_bench, sizeof(struct pss), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void sigint_handler(int sig)
{
    (void)sig;
    interrupted = 1;
    if (context)
        lws_cancel_service(context);
}

int main(int argc, char **argv)
{
    struct lws_context_creation_info info;
    int port = 0;
    for (int i = 1; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--port"))
            port = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "--rx-buffer")) /* 0: lws's default (4096) */
            protocols[0].rx_buffer_size = (size_t)atoi(argv[i + 1]);
        if (!strcmp(argv[i], "--serv-buf"))
            serv_buf = (unsigned)atoi(argv[i + 1]);
    }
    if (port <= 0) {
        fprintf(stderr, "usage: lws_peer --port N\n");
        return 2;
    }
    signal(SIGINT, sigint_handler);
    signal(SIGTERM, sigint_handler);
    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);

    memset(&info, 0, sizeof info);
    info.port = port;
    info.iface = "127.0.0.1";
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    info.pt_serv_buf_size = serv_buf;
    context = lws_create_context(&info);
    if (!context) {
        fprintf(stderr, "lws_peer: lws_create_context failed\n");
        return 1;
    }
    printf("lws peer listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
    int n = 0;
    while (n >= 0 && !interrupted)
        n = lws_service(context, 0);
    lws_context_destroy(context);
    return 0;
}
