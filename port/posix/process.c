/* SPDX-License-Identifier: MIT */
/* process.c: the process image and its successor. The sizes of the loaded
 * ELF objects (for the memory plan), the executable's path on disk, and
 * starting a new binary: a trial run in a child, then exec in place with
 * chosen descriptors kept open (restarts that drop nobody). */
#define _GNU_SOURCE
#include "port.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int add_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    cw_port_image *im = arg;
    (void)size;
    int main_exe = im->objects == 0; /* the first object is the program itself */
    im->objects++;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        /* Page-rounded, as the kernel maps it. */
        uint64_t lo = ph->p_vaddr & ~(uint64_t)(im->page - 1);
        uint64_t hi = (ph->p_vaddr + ph->p_memsz + im->page - 1) & ~(uint64_t)(im->page - 1);
        uint64_t file_hi = (ph->p_vaddr + ph->p_filesz + im->page - 1) & ~(uint64_t)(im->page - 1);
        if (file_hi > hi)
            file_hi = hi;
        if (!main_exe) {
            im->libs += hi - lo;
        } else if (ph->p_flags & PF_W) {
            im->data += file_hi - lo;
            im->bss += hi - file_hi;
        } else {
            im->text += hi - lo;
        }
    }
    return 0;
}

int cw_port_image_sizes(cw_port_image *im)
{
    memset(im, 0, sizeof *im);
    long pg = sysconf(_SC_PAGESIZE);
    im->page = pg > 0 ? (uint64_t)pg : 4096;
    dl_iterate_phdr(add_object, im);
    return im->objects ? 0 : -1;
}

int cw_port_self_path(char *out, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", out, cap);
    if (n <= 0 || (size_t)n >= cap)
        return -1;
    out[n] = 0;
    /* Replaced while running: the path still names where the new one is. */
    static const char gone[] = " (deleted)";
    size_t g = sizeof gone - 1, len = (size_t)n;
    if (len > g && strcmp(out + len - g, gone) == 0)
        out[len - g] = 0;
    return out[0] == '/' ? 0 : -1;
}

/* posix_spawn, not fork: glibc and musl start the child with the parent
 * suspended until it has exec'd (CLONE_VFORK), so no copy of our sockets
 * outlives the exec. With fork, a copy held by the child keeps a closed
 * connection's socket registered in epoll, which then reports it for a
 * slot that is free. The child gets stdin and stdout on /dev/null, default
 * dispositions for the signals we handle, and nothing blocked. */
long cw_port_spawn_quiet(const char *path, char *const argv[], char *const envp[])
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t def, none;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGUSR2);
    sigaddset(&def, SIGHUP);
    sigemptyset(&none);
    if (posix_spawn_file_actions_init(&fa) != 0)
        return -1;
    if (posix_spawnattr_init(&at) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -1;
    }
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    int rc = posix_spawn(&pid, path, &fa, &at, argv, envp);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return (long)pid;
}

int cw_port_reap(long pid, int *status)
{
    int st = 0;
    pid_t r = waitpid((pid_t)pid, &st, WNOHANG);
    if (r == 0)
        return 0;
    if (r < 0)
        return -1;
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return 1;
}

void cw_port_kill(long pid)
{
    kill((pid_t)pid, SIGKILL);
}

char *const *cw_port_environ(void)
{
    return environ;
}

int cw_port_inherit(int fd, int on)
{
    int fl = fcntl(fd, F_GETFD);
    if (fl < 0)
        return -1;
    return fcntl(fd, F_SETFD, on ? fl & ~FD_CLOEXEC : fl | FD_CLOEXEC);
}

int cw_port_is_listener(int fd)
{
    int on = 0, type = 0;
    socklen_t len = sizeof on;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) < 0 || !on)
        return 0;
    len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
        return 0;
    /* Inherited without O_NONBLOCK and with FD_CLOEXEC cleared: restore. */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return 0;
    return cw_port_inherit(fd, 0) == 0;
}

int cw_port_exec(const char *path, char *const argv[], char *const envp[])
{
    /* Caught signals go back to their defaults by exec itself; nothing is
     * blocked here; SIGPIPE stays ignored, as the new image wants. */
    execve(path, argv, envp);
    return -1;
}
