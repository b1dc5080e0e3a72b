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

/* A group's gid from /etc/group ("name:password:gid:members"). */
static int group_id(const char *group, long *gid)
{
    FILE *f = fopen("/etc/group", "re");
    if (!f)
        return -1;
    char line[1024];
    size_t n = strlen(group);
    int found = -1;
    while (found < 0 && fgets(line, sizeof line, f)) {
        if (strncmp(line, group, n) != 0 || line[n] != ':')
            continue;
        char *p = strchr(line + n + 1, ':'), *end;
        if (!p)
            continue;
        long g = strtol(p + 1, &end, 10);
        if (end == p + 1 || *end != ':' || g < 0)
            continue;
        *gid = g;
        found = 0;
    }
    fclose(f);
    return found;
}

/* A number, or -1 when s is not all digits. */
static long number(const char *s)
{
    char *end;
    if (!*s || *s < '0' || *s > '9')
        return -1;
    long v = strtol(s, &end, 10);
    return *end || v < 0 ? -1 : v;
}

int cw_port_chown_path(const char *path, const char *owner, char *err, size_t errlen)
{
    char user[64];
    const char *colon = strchr(owner, ':');
    size_t un = colon ? (size_t)(colon - owner) : strlen(owner);
    long uid = -1, gid = -1, ugid = -1;
    if (un >= sizeof user) {
        snprintf(err, errlen, "owner '%s': user name too long", owner);
        return -1;
    }
    memcpy(user, owner, un);
    user[un] = 0;
    if (un && (uid = number(user)) < 0 && cw_port_user_ids(user, &uid, &ugid) < 0) {
        snprintf(err, errlen, "owner '%s': no user %s in /etc/passwd", owner, user);
        return -1;
    }
    if (colon && colon[1] && (gid = number(colon + 1)) < 0 && group_id(colon + 1, &gid) < 0) {
        snprintf(err, errlen, "owner '%s': no group %s in /etc/group", owner, colon + 1);
        return -1;
    }
    if (!un && gid < 0) {
        snprintf(err, errlen, "owner '%s': want USER[:GROUP] or :GROUP", owner);
        return -1;
    }
    if (chown(path, uid < 0 ? (uid_t)-1 : (uid_t)uid, gid < 0 ? (gid_t)-1 : (gid_t)gid) < 0) {
        snprintf(err, errlen, "cannot hand %s to %s: %s", path, owner, strerror(errno));
        return -1;
    }
    return 0;
}
