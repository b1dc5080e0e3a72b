/* SPDX-License-Identifier: MIT */
/* control.h: the local control socket through which other processes on the
 * device publish to groups without linking the library (chanwire-send). The
 * requests and replies are in proto/control_cmd.h. */
#ifndef CW_CONTROL_H
#define CW_CONTROL_H

#include "proto/control_cmd.h"

#include <stddef.h>

/* Opens the socket at path (mode 0660; peers must be root, our uid or our
 * gid). Returns 0 or -1 with a reason in err. */
int cw_control_open(const char *path, char *err, size_t errlen);
void cw_control_close(void);
/* The socket's path while it is open, else NULL (to hand it to --user). */
const char *cw_control_path(void);
/* The listening socket's descriptor, or -1 (a restart hands it over; the
 * new image takes CHANWIRE_CONTROL_FD instead of binding the path). */
int cw_control_fd(void);

#endif
