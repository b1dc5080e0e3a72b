/* SPDX-License-Identifier: MIT */
/* signals.c: turns SIGTERM, SIGINT, SIGHUP and SIGUSR2 into bytes on a self-pipe the
 * reactor polls, so no work runs inside a signal handler. SIGPIPE is
 * ignored: a peer that vanishes is an error return, never a dead process. */
#include "cw_config.h"
#include "port.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int pipe_fd[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)(sig == SIGHUP    ? CW_SIG_HUP
                                      : sig == SIGUSR2 ? CW_SIG_RESTART
                                                       : CW_SIG_TERM);
    ssize_t r = write(pipe_fd[1], &b, 1);
    (void)r; /* a full pipe already carries the news */
    errno = saved;
}

int cw_port_signals_open(void)
{
    if (pipe_fd[0] >= 0)
        return pipe_fd[0];
    if (pipe(pipe_fd) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(pipe_fd[i], F_SETFL, fcntl(pipe_fd[i], F_GETFL) | O_NONBLOCK);
        fcntl(pipe_fd[i], F_SETFD, FD_CLOEXEC);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
#if defined(CONFIG_RESTART)
    sigaction(SIGUSR2, &sa, NULL);
#endif
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    return pipe_fd[0];
}

unsigned cw_port_signals_take(void)
{
    unsigned char buf[64];
    unsigned bits = 0;
    ssize_t n;
    while ((n = read(pipe_fd[0], buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++)
            bits |= buf[i];
    return bits;
}
