/* SPDX-License-Identifier: MIT */
/* privs.c: giving up root once the sockets are bound (chanwired --user,
 * --chroot). The order matters: look the user up while /etc/passwd is
 * still reachable, hand the control socket to that user, chroot while we
 * may, then groups, gid and uid, and prove root cannot come back. Users
 * come from /etc/passwd itself, as on the devices this runs on: no NSS
 * (which a static glibc build could not load anyway). */
#define _GNU_SOURCE
#include "port.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cw_port_user_ids(const char *user, long *uid, long *gid)
{
    FILE *f = fopen("/etc/passwd", "re");
    if (!f)
        return -1;
    char line[512];
    size_t n = strlen(user);
    int found = -1;
    errno = ENOENT;
    /* name:password:uid:gid:gecos:home:shell */
    while (found < 0 && fgets(line, sizeof line, f)) {
        if (strncmp(line, user, n) != 0 || line[n] != ':')
            continue;
        char *p = strchr(line + n + 1, ':'), *end;
        if (!p)
            continue;
        long u = strtol(p + 1, &end, 10);
        if (end == p + 1 || *end != ':')
            continue;
        long g = strtol(end + 1, &p, 10);
        if (p == end + 1 || *p != ':' || u < 0 || g < 0)
            continue;
        *uid = u;
        *gid = g;
        found = 0;
    }
    fclose(f);
    return found;
}

int cw_port_is_root(void)
{
    return geteuid() == 0;
}

int cw_port_drop_privileges(const char *user, const char *chroot_dir, const char *own_path,
                            char *err, size_t errlen)
{
    uid_t uid = 0;
    gid_t gid = 0;
    if (user) {
        if (geteuid() != 0) {
            snprintf(err, errlen, "--user %s needs to start as root", user);
            return -1;
        }
        long u, g;
        if (cw_port_user_ids(user, &u, &g) < 0) {
            snprintf(err, errlen, "--user %s: %s", user,
                     errno == ENOENT ? "no such user in /etc/passwd" : strerror(errno));
            return -1;
        }
        uid = (uid_t)u;
        gid = (gid_t)g;
        if (uid == 0) {
            snprintf(err, errlen, "--user %s is root: nothing would be dropped", user);
            return -1;
        }
        /* The control socket was created by root: give it to the user (its
         * mode stays 0660) so the user's group can still reach it. */
        if (own_path && chown(own_path, uid, gid) < 0) {
            snprintf(err, errlen, "cannot hand %s to %s: %s", own_path, user, strerror(errno));
            return -1;
        }
    }
    if (chroot_dir) {
        if (chroot(chroot_dir) < 0 || chdir("/") < 0) {
            snprintf(err, errlen, "--chroot %s: %s", chroot_dir, strerror(errno));
            return -1;
        }
    }
    if (!user)
        return 0;
    if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
        snprintf(err, errlen, "cannot become %s: %s", user, strerror(errno));
        return -1;
    }
    /* Dropped for good: neither uid nor gid 0 may come back. */
    if (setuid(0) == 0 || seteuid(0) == 0 || (gid != 0 && setgid(0) == 0) ||
        getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid) {
        snprintf(err, errlen, "could not drop root for good");
        return -1;
    }
    return 0;
}
