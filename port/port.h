/* SPDX-License-Identifier: MIT */
/* port.h: the OS boundary. Everything chanwire asks of the kernel and libc
 * (polling, sockets, clock, random bytes, signals, log output) goes through
 * these calls; src/ makes no syscall of its own. One implementation per OS. */
#ifndef CW_PORT_H
#define CW_PORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* ---- poller: readiness for many fds, each tagged with an opaque pointer ---- */
#define CW_PORT_IN  1u  /* readable (or peer hung up) */
#define CW_PORT_OUT 2u  /* writable */
#define CW_PORT_ERR 4u  /* error or hang-up: read to learn which */
/* Set beside CW_PORT_ERR to tell the two apart, in builds with descriptor
 * watches (CONFIG_WATCHES) only. */
#define CW_PORT_HUP 8u  /* hang-up: the peer or the other end closed */
#define CW_PORT_FAULT 16u /* an error condition (or, with poll, a closed fd) */

typedef struct {
    void *udata;
    unsigned events;
} cw_port_event;

/* capacity: most fds ever registered at once. */
int  cw_port_poller_open(unsigned capacity);
void cw_port_poller_close(void);
int  cw_port_poller_add(int fd, unsigned events, void *udata);
int  cw_port_poller_mod(int fd, unsigned events, void *udata);
int  cw_port_poller_del(int fd);
/* fd is about to be closed and has no duplicates: forget it (epoll drops
 * a closed fd by itself; poll must remove it from its array). */
void cw_port_poller_forget(int fd);
/* Waits up to timeout_ms (-1: forever). Returns events filled, 0 on timeout
 * or signal interruption, -1 on a real error. */
int  cw_port_poller_wait(cw_port_event *ev, int max, int timeout_ms);
const char *cw_port_poller_name(void);
/* A descriptor that is readable while the poller has events (epoll's own
 * fd), for a program whose main loop drives ours; -1 when the poller has
 * none (poll). */
int  cw_port_poller_fd(void);
/* 1 when fd is an open descriptor. */
int  cw_port_fd_valid(int fd);

/* ---- wake-ups from other threads (posts): an eventfd, else a pipe ----
 * open: the fd to poll for reading, or -1 + errno. signal: thread-safe and
 * async-signal-safe. drain: on the loop thread, before looking at what the
 * signals announced. close: releases both ends. */
int  cw_port_wakeup_open(void);
void cw_port_wakeup_signal(void);
void cw_port_wakeup_drain(void);
void cw_port_wakeup_close(void);

/* ---- clock: monotonic milliseconds, never going backwards ---- */
uint64_t cw_port_now_ms(void);
/* The same clock in microseconds (latency histograms, CONFIG_METRICS). */
uint64_t cw_port_now_us(void);

/* ---- random bytes: 0 on success, -1 when no source works ---- */
int cw_port_random(void *buf, size_t len);

/* ---- log sink: one formatted line (no newline) at a level CW_LOG_ERROR
 * (0) .. CW_LOG_DEBUG (3) of chanwire.h ---- */
void cw_port_log_open(int use_syslog, const char *ident);
void cw_port_log_write(int level, const char *line, size_t len);
/* 1 while lines go to syslog (--syslog and /dev/log took them). */
int cw_port_log_to_syslog(void);
/* A finished line (newline included) to stderr as it is: the JSON lines. */
void cw_port_log_raw(const char *line, size_t len);
/* The wall clock as RFC 3339 UTC with milliseconds,
 * "2026-12-08T02:05:02.123Z" (24 bytes and a NUL; cap >= 25), and the
 * ident and pid the text lines carry. Returns the length. */
size_t cw_port_log_time(char *out, size_t cap);
const char *cw_port_log_ident(void);
int cw_port_log_pid(void);

/* ---- sockets (all non-blocking, close-on-exec) ---- */
typedef struct {
    uint8_t addr[16]; /* IPv4 in the first 4 bytes, or IPv6 */
    uint16_t port;
    uint8_t family;   /* 4 or 6, CW_PORT_UNIX on a UNIX socket; 0 when unknown */
} cw_port_peer;
#define CW_PORT_UNIX 1 /* a peer on a UNIX-socket listener: no address */

/* "1.2.3.4:5678", "[::1]:5678" or "unix" into out (at least 56 bytes). */
void cw_port_peer_format(const cw_port_peer *peer, char *out, size_t cap);

/* Binds and listens on "ADDR:PORT" ("[v6]:PORT" for IPv6). Returns the fd or
 * -1 with a one-line reason in err. */
int cw_port_listen(const char *addr_port, int backlog, char *err, size_t errlen);
/* Returns the new fd, or -1 with errno (EAGAIN, EMFILE, ...). */
int cw_port_accept(int listen_fd, cw_port_peer *peer);
/* recv/send never raise SIGPIPE. Return bytes, 0 on EOF (recv), -1 + errno. */
ssize_t cw_port_recv(int fd, void *buf, size_t len);
ssize_t cw_port_sendv(int fd, const struct iovec *iov, int iovcnt);
ssize_t cw_port_send(int fd, const void *buf, size_t len);
/* Looks at the first bytes waiting on fd without consuming them. */
ssize_t cw_port_peek(int fd, void *buf, size_t len);
void cw_port_shutdown_wr(int fd);
void cw_port_close(int fd);
/* The port number a listening fd is bound to (for --listen 127.0.0.1:0). */
int cw_port_local_port(int fd);
/* Starts a TCP connection to "ADDR:PORT" ("[ADDR6]:PORT"; numeric or
 * "localhost", no DNS) without blocking. Returns the fd (wait for
 * CW_PORT_OUT, then ask cw_port_connect_result), or -1 with errno and a
 * one-line reason in err (EINVAL: a bad address). */
int cw_port_connect(const char *addr_port, char *err, size_t errlen);
/* 0 once the connection started on fd is up, else the errno it failed with. */
int cw_port_connect_result(int fd);

/* A listening UNIX stream socket at path (an old socket file there is
 * replaced), chmod'ed to mode. Returns the fd or -1 with a reason. */
int cw_port_listen_unix(const char *path, unsigned mode, char *err, size_t errlen);
/* The same with a backlog, what naming the socket in err ("control
 * socket", "listener"). */
int cw_port_listen_path(const char *path, unsigned mode, int backlog, const char *what, char *err,
                        size_t errlen);
/* Hands path to owner "USER[:GROUP]" (names from /etc/passwd and
 * /etc/group, or numbers). 0, or -1 with a reason in err. */
int cw_port_chown_path(const char *path, const char *owner, char *err, size_t errlen);
/* Identity of the file behind a path-bound socket, taken right after bind,
 * and removal of path only while it is still that same file (so a daemon
 * never deletes a newer daemon's socket). */
int cw_port_path_id(const char *path, uint64_t *dev, uint64_t *ino);
void cw_port_unlink_if(const char *path, uint64_t dev, uint64_t ino);
/* The peer's uid and gid on a UNIX socket; -1 when unknown. */
int cw_port_peer_cred(int fd, long *uid, long *gid);
/* Our effective uid and gid. */
void cw_port_self_cred(long *uid, long *gid);
/* 1 when running with root's effective uid. */
int cw_port_is_root(void);
/* uid and gid of a user named in /etc/passwd; -1 with errno (ENOENT). */
int cw_port_user_ids(const char *user, long *uid, long *gid);
/* Least privilege once every socket is bound: with user, hands own_path
 * (the control socket; may be NULL) to that user, then chroots to
 * chroot_dir (may be NULL), clears the supplementary groups and takes the
 * user's gid and uid for good. 0, or -1 with a one-line reason in err. */
int cw_port_drop_privileges(const char *user, const char *chroot_dir, const char *own_path,
                            char *err, size_t errlen);
/* Copies up to len bytes of file_fd from *offset to the socket without a
 * user-space buffer where the OS can. Returns bytes sent or -1 + errno. */
ssize_t cw_port_sendfile(int sock_fd, int file_fd, uint64_t *offset, size_t len);
/* Opens a regular file below dir_fd for reading (no "..", final symlink
 * refused); fills its size. -1 + errno (EISDIR for a directory). */
int cw_port_open_file(int dir_fd, const char *relpath, uint64_t *size);
/* Reads up to len bytes of a file at offset. */
ssize_t cw_port_pread(int fd, void *buf, size_t len, uint64_t offset);
int cw_port_open_dir(const char *path);

/* Unix time in seconds (for token expiry). */
int64_t cw_port_wall_seconds(void);

/* ---- hardware watchdog (CONFIG_WATCHDOG; port/linux/watchdog.c) ----
 * open: the device, asking for timeout_s seconds when non-zero; fills the
 * driver's timeout in *timeout (-1 when it will not say). 0 or -1 + errno.
 * kick: one keep-alive write. close: the magic 'V' then close, so a clean
 * exit disarms it (drivers built with nowayout stay armed). */
int cw_port_watchdog_open(const char *dev, unsigned timeout_s, int *timeout);
void cw_port_watchdog_kick(void);
void cw_port_watchdog_close(void);

/* ---- signals: SIGTERM/SIGINT/SIGHUP become readable bytes on an fd ---- */
#define CW_SIG_TERM 1u
#define CW_SIG_HUP  2u
/* Installs handlers (and ignores SIGPIPE); returns the fd to poll, or -1. */
int cw_port_signals_open(void);
/* Drains the fd; returns the CW_SIG_* bits seen since the last call. */
unsigned cw_port_signals_take(void);
/* SIGUSR2: restart with the binary on disk (src/restart.c). */
#define CW_SIG_RESTART 4u

/* ---- the process image and its successor (posix/process.c) ---- */
typedef struct {
    uint64_t text;    /* the executable's read-only and code segments, bytes */
    uint64_t data;    /* its initialised writable data */
    uint64_t bss;     /* its zero-filled data (the static pools live here) */
    uint64_t libs;    /* every other loaded object's segments (libc, loader, vDSO) */
    uint64_t page;    /* the page size */
    unsigned objects; /* loaded objects, the executable included */
} cw_port_image;
/* Fills *im from the loaded program headers (page-rounded); 0 or -1. */
int cw_port_image_sizes(cw_port_image *im);
/* The absolute path the running executable was started from (the file now
 * at that path after an upgrade); 0, or -1 when the OS cannot say. */
int cw_port_self_path(char *out, size_t cap);
/* Starts path with argv and envp in a child with stdin and stdout on /dev/null: its
 * pid, or -1 + errno. cw_port_reap: 1 and its exit status (128 + signal
 * when killed) once it ended, 0 while it runs, -1 + errno. */
long cw_port_spawn_quiet(const char *path, char *const argv[], char *const envp[]);
int cw_port_reap(long pid, int *status);
void cw_port_kill(long pid);
/* on: fd survives exec (FD_CLOEXEC cleared); off: it does not. 0 or -1. */
int cw_port_inherit(int fd, int on);
/* 1 when fd is a listening stream socket (then made non-blocking and
 * close-on-exec again, as a listener of ours), else 0. */
int cw_port_is_listener(int fd);
/* Replaces this image with path (argv, envp): returns only on failure,
 * -1 + errno. */
int cw_port_exec(const char *path, char *const argv[], char *const envp[]);
/* This process's environment (NULL-terminated). */
char *const *cw_port_environ(void);

#endif
