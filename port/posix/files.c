/* SPDX-License-Identifier: MIT */
/* files.c: read-only access to the static web directory: opening a file
 * below a directory fd, and sendfile(2) where Linux has it (read+send
 * through a small stack buffer elsewhere). */
#define _GNU_SOURCE
#include "port.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/sendfile.h>
#endif

int cw_port_open_dir(const char *path)
{
    return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int cw_port_open_file(int dir_fd, const char *relpath, uint64_t *size)
{
    /* One component at a time, each with O_NOFOLLOW: a symlinked directory
     * inside the tree must not lead out of it any more than a symlinked file. */
    char part[256];
    int cur = dir_fd;
    const char *slash;
    while ((slash = strchr(relpath, '/')) != NULL) {
        size_t n = (size_t)(slash - relpath);
        int next = -1;
        if (n > 0 && n < sizeof part) {
            memcpy(part, relpath, n);
            part[n] = 0;
            next = openat(cur, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (cur != dir_fd)
            close(cur);
        if (next < 0)
            return -1;
        cur = next;
        relpath = slash + 1;
    }
    int fd = openat(cur, relpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (cur != dir_fd)
        close(cur);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        errno = S_ISDIR(st.st_mode) ? EISDIR : EACCES;
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

ssize_t cw_port_sendfile(int sock_fd, int file_fd, uint64_t *offset, size_t len)
{
#if defined(__linux__)
    off_t off = (off_t)*offset;
    ssize_t n;
    do
        n = sendfile(sock_fd, file_fd, &off, len);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        *offset = (uint64_t)off;
    return n;
#else
    char buf[4096];
    if (len > sizeof buf)
        len = sizeof buf;
    ssize_t r = pread(file_fd, buf, len, (off_t)*offset);
    if (r <= 0)
        return r;
    ssize_t w = send(sock_fd, buf, (size_t)r, MSG_NOSIGNAL);
    if (w > 0)
        *offset += (uint64_t)w;
    return w;
#endif
}

ssize_t cw_port_pread(int fd, void *buf, size_t len, uint64_t offset)
{
    ssize_t n;
    do
        n = pread(fd, buf, len, (off_t)offset);
    while (n < 0 && errno == EINTR);
    return n;
}

int64_t cw_port_wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}
