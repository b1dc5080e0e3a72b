/* SPDX-License-Identifier: MIT */
/* echo.c: the echo consumer at /ws/echo/: every text or binary message goes
 * back unchanged, with the same opcode. */
#include "consumers.h"

static void echo_receive(cw_conn *c, const cw_msg *m)
{
    int rc;
    if (m->opcode == CW_TEXT)
        rc = cw_send_text(c, (const char *)m->data, m->len);
    else
        rc = cw_send_binary(c, m->data, m->len);
    /* Queue overflow and pool exhaustion already close the connection; a
     * reply larger than the whole send-queue bound can never go out. */
    if (rc == CW_ETOOBIG)
        cw_close(c, 1009, "reply larger than the send queue");
}

const cw_consumer cw_demo_echo = {.receive = echo_receive};
