/* SPDX-License-Identifier: MIT */
/* control_cmd.c: the control socket's request parser (docs in
 * control_cmd.h): one header line, then the payload. Pure: no I/O, fuzzed
 * (tests/fuzz/fuzz_control.c). */
#include "proto/control_cmd.h"
#include "cw_config.h"

#include <stdlib.h>
#include <string.h>

static int word(const char **p, const char *end, char *out, size_t cap)
{
    size_t n = 0;
    while (*p < end && **p != ' ' && **p != '\n') {
        /* a NUL would cut the C string short ("g\0x" acting on "g") */
        if (n + 1 >= cap || (unsigned char)**p < 0x20 || **p == 0x7f)
            return -1;
        out[n++] = *(*p)++;
    }
    out[n] = 0;
    if (*p < end && **p == ' ')
        (*p)++;
    return n ? 0 : -1;
}

static int number(const char **p, const char *end, unsigned long max, unsigned long *out)
{
    char tmp[16];
    if (word(p, end, tmp, sizeof tmp) < 0)
        return -1;
    char *e;
    unsigned long v = strtoul(tmp, &e, 10);
    if (*e || tmp[0] == '-' || tmp[0] == '+' || v > max)
        return -1;
    *out = v;
    return 0;
}

int cw_control_cmd_parse(const char *buf, size_t len, size_t max_payload, cw_control_cmd *cmd,
                     const char **why)
{
    const char *nl = memchr(buf, '\n', len < CW_CTL_HEADER_MAX ? len : CW_CTL_HEADER_MAX);
    if (!nl) {
        *why = "request line too long";
        return len < CW_CTL_HEADER_MAX ? CW_CTL_MORE : CW_CTL_BAD;
    }
    memset(cmd, 0, sizeof *cmd);
    const char *p = buf, *end = nl;
    char verb[16];
    unsigned long v;
    *why = "malformed request";
    if (word(&p, end, verb, sizeof verb) < 0)
        return CW_CTL_BAD;
    if (strcmp(verb, "stats") == 0) {
        cmd->op = CW_CTL_STATS;
#if defined(CONFIG_RESTART)
    } else if (strcmp(verb, "restart") == 0) {
        cmd->op = CW_CTL_RESTART;
#endif
    } else if (strcmp(verb, "send") == 0 || strcmp(verb, "broadcast") == 0) {
        cmd->op = verb[0] == 's' ? CW_CTL_SEND : CW_CTL_BROADCAST;
        if (word(&p, end, cmd->group, sizeof cmd->group) < 0) {
            *why = "bad group name";
            return CW_CTL_BAD;
        }
        if (cmd->op == CW_CTL_SEND && word(&p, end, cmd->type, sizeof cmd->type) < 0) {
            *why = "bad type";
            return CW_CTL_BAD;
        }
        if (number(&p, end, max_payload, &v) < 0) {
            *why = "bad or too large length";
            return CW_CTL_BAD;
        }
        cmd->len = v;
    } else if (strcmp(verb, "chsend") == 0) {
        cmd->op = CW_CTL_CHSEND;
        if (word(&p, end, cmd->channel, sizeof cmd->channel) < 0) {
            *why = "bad channel name";
            return CW_CTL_BAD;
        }
        if (word(&p, end, cmd->type, sizeof cmd->type) < 0) {
            *why = "bad type";
            return CW_CTL_BAD;
        }
        if (number(&p, end, max_payload, &v) < 0) {
            *why = "bad or too large length";
            return CW_CTL_BAD;
        }
        cmd->len = v;
    } else if (strcmp(verb, "close") == 0) {
        cmd->op = CW_CTL_CLOSE;
        if (word(&p, end, cmd->group, sizeof cmd->group) < 0 || number(&p, end, 4999, &v) < 0) {
            *why = "usage: close GROUP CODE [REASON]";
            return CW_CTL_BAD;
        }
        cmd->code = (int)v;
        size_t rl = (size_t)(end - p);
        if (rl >= sizeof cmd->reason) {
            *why = "reason too long";
            return CW_CTL_BAD;
        }
        if (memchr(p, 0, rl)) {
            *why = "NUL in the reason";
            return CW_CTL_BAD;
        }
        memcpy(cmd->reason, p, rl);
        p = end;
    } else {
        *why = "unknown command";
        return CW_CTL_BAD;
    }
    if (p != end) {
        *why = "unexpected words";
        return CW_CTL_BAD;
    }
    size_t head = (size_t)(nl + 1 - buf);
    cmd->total = head + cmd->len;
    if (len < cmd->total)
        return CW_CTL_MORE;
    cmd->payload = buf + head;
    return CW_CTL_DONE;
}
