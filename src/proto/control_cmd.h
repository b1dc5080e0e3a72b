/* SPDX-License-Identifier: MIT */
/* control_cmd.h: the control socket's requests (src/control.c serves them),
 * parsed without I/O.
 * One request per connection, one reply line:
 *   send GROUP TYPE LEN\n<LEN bytes>      -> cw_group_send
 *   broadcast GROUP LEN\n<LEN bytes>      -> cw_group_broadcast (text)
 *   close GROUP CODE [REASON]\n           -> cw_group_close
 *   chsend CHANNEL TYPE LEN\n<LEN bytes>  -> cw_channel_send (one channel)
 *   stats\n                               -> counters and pools, then "ok"
 *   restart\n                             -> cw_restart (starts it; "ok 0";
 *                                           builds with CONFIG_RESTART)
 * Replies: "ok N\n" (N members reached) or "error REASON\n". */
#ifndef CW_CONTROL_CMD_H
#define CW_CONTROL_CMD_H

#include <stddef.h>

#define CW_CTL_HEADER_MAX 256

enum { CW_CTL_SEND = 1, CW_CTL_BROADCAST, CW_CTL_CLOSE, CW_CTL_STATS, CW_CTL_CHSEND, CW_CTL_RESTART };
enum { CW_CTL_MORE = 1, CW_CTL_DONE = 0, CW_CTL_BAD = -1 };

typedef struct {
    int op;
    int code;
    char group[101];
    char channel[128];   /* CW_CTL_CHSEND */
    char type[65];
    char reason[124];
    const char *payload; /* points into the request buffer */
    size_t len;
    size_t total;        /* header + payload bytes */
} cw_control_cmd;

/* Parses a request held in buf[0..len). CW_CTL_MORE: incomplete (read
 * more); CW_CTL_DONE: cmd filled; CW_CTL_BAD: *why says what is wrong.
 * max_payload bounds LEN. Pure: unit-tested and fuzzed alone. */
int cw_control_cmd_parse(const char *buf, size_t len, size_t max_payload, cw_control_cmd *cmd,
                     const char **why);

#endif
