/* SPDX-License-Identifier: MIT */
/* privs.c: least privilege for a server started as root: after the
 * listeners and the control socket exist, become an ordinary user
 * (supplementary groups cleared) and optionally chroot. */
#include "base/log.h"
#include "chanwire.h"
#include "control.h"
#include "cw_config.h"
#include "port.h"

#include <stdio.h>

int cw_drop_privileges(cw_server *s, const char *user, const char *chroot_dir, char *err,
                       size_t errlen)
{
    (void)s;
    const char *ctl = NULL;
#if defined(CONFIG_CONTROL_SOCKET)
    ctl = cw_control_path();
#endif
    if (!user && !chroot_dir)
        return 0;
    if (cw_port_drop_privileges(user, chroot_dir, ctl, err, errlen) < 0)
        return CW_ESYS;
    if (chroot_dir && !user && cw_port_is_root())
        cw_log(CW_LOG_WARN, "chrooted but still root: root can leave a chroot (add --user)");
    cw_log(CW_LOG_INFO, "running as %s%s%s", user ? user : "the starting user",
           chroot_dir ? ", chrooted to " : "", chroot_dir ? chroot_dir : "");
    return 0;
}

int cw_privileges_check(const char *user, char *err, size_t errlen)
{
    long uid, gid;
    if (!user)
        return 0;
    if (cw_port_user_ids(user, &uid, &gid) < 0) {
        snprintf(err, errlen, "--user %s: no such user in /etc/passwd", user);
        return CW_EINVAL;
    }
    if (uid == 0) {
        snprintf(err, errlen, "--user %s is root: nothing would be dropped", user);
        return CW_EINVAL;
    }
    return 0;
}

int cw_running_as_root(void)
{
    return cw_port_is_root();
}
