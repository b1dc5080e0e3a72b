/* SPDX-License-Identifier: MIT */
/* ctlpath.h: where chanwired's control socket lives unless told otherwise:
 * $CHANWIRE_SOCKET, else /run/chanwired.sock for root, else
 * /tmp/chanwired-UID.sock. Shared by the daemon and chanwire-send. */
#ifndef CW_CTLPATH_H
#define CW_CTLPATH_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cw_default_control_path(char *out, size_t cap)
{
    const char *env = getenv("CHANWIRE_SOCKET");
    if (env && *env)
        snprintf(out, cap, "%s", env);
    else if (geteuid() == 0)
        snprintf(out, cap, "/run/chanwired.sock");
    else
        snprintf(out, cap, "/tmp/chanwired-%u.sock", (unsigned)geteuid());
}

#endif
