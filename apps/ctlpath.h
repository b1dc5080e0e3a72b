/* SPDX-License-Identifier: MIT */
/* ctlpath.h: where chanwired's control socket lives unless told otherwise:
 * $CHANWIRE_SOCKET, else $XDG_RUNTIME_DIR/chanwired.sock for a user other
 * than root, else /run/chanwired.sock. Shared by the daemon and chanwire-send. */
#ifndef CW_CTLPATH_H
#define CW_CTLPATH_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Never a world-writable directory such as /tmp: another user could plant
 * a socket of their own at the name, or race the daemon for it. Both
 * defaults are directories only their owner can write: the user's runtime
 * directory (absolute, 0700 by its specification), else /run, where only
 * root creates files, so a daemon that is not root and has no runtime
 * directory fails to start there and asks for --control. chanwire-send
 * (client) takes the user's socket only when it is there, else the system
 * daemon's, and checks who answers on either (SO_PEERCRED). */
static inline void cw_default_control_path(char *out, size_t cap, int client)
{
    const char *env = getenv("CHANWIRE_SOCKET"), *fmt = "%s";
    if (!env || !*env) {
        fmt = "%s/chanwired.sock";
        env = geteuid() ? getenv("XDG_RUNTIME_DIR") : NULL;
        if (!env || *env != '/') {
            env = "/run";
        } else if (client) {
            snprintf(out, cap, fmt, env);
            if (access(out, F_OK) != 0)
                env = "/run";
        }
    }
    snprintf(out, cap, fmt, env);
}

#endif
