/* SPDX-License-Identifier: MIT */
/* config_check.h: combinations of Kconfig values that cannot work, or that
 * would silently do something else than they say, refused at build time.
 * Kconfig's ranges refuse what they can express (menuconfig); these checks
 * also catch a hand-written or script-edited config (scripts/setconfig.sh,
 * Buildroot, OpenWrt), which no Kconfig tool reads. The Makefile compiles
 * this header against every cw_config.h it generates, before anything else
 * (the rule of $(B)/include/cw_config.h), and src/features.c includes it so
 * a build by other means is refused too. Each message names the options.
 * `make check-config` feeds deliberately bad configs through the Makefile
 * and expects each message (scripts/check-config-refusals.sh).
 * docs/security.md ("Configurations that cannot work") lists them. */
#ifndef CW_CONFIG_CHECK_H
#define CW_CONFIG_CHECK_H

#include "cw_config.h"
#include "base/txq.h"    /* cw_txseg: the header at the start of a queued I/O block */
#include "proto/frame.h" /* CW_FRAME_MAX_HEADER */

/* What one I/O block carries in a send queue, and what the whole pool
 * carries for ordinary traffic (the reserve is kept for answers). */
#define CW_CHECK_SEG_ROOM ((unsigned long long)CONFIG_IO_BUF_SIZE - sizeof(cw_txseg))
#define CW_CHECK_TRAFFIC_BYTES \
    ((unsigned long long)(CONFIG_IO_BUFS - CONFIG_IO_RESERVE) * CW_CHECK_SEG_ROOM)
/* The longest 101 response head (core/conn.c reply_upgrade), put in front of
 * a queue in one block (cw_txq_prepend). */
#define CW_CHECK_HEAD_101 320
/* A PUBLISH command's head on the Redis layer's queue: the channel name
 * (prefix, "__group__", group name) and RESP framing. */
#define CW_CHECK_PUBLISH_HEAD 512

/* ---- the I/O pool and the send queue ---- */

_Static_assert(CONFIG_IO_BUF_SIZE >= 512 && CONFIG_IO_BUF_SIZE >= sizeof(cw_txseg) + CW_CHECK_HEAD_101,
               "CONFIG_IO_BUF_SIZE must be at least 512: one I/O block holds the 101 response "
               "head (up to 320 bytes) after its send-queue header, and a partial frame header or "
               "control frame");
_Static_assert(CONFIG_IO_RESERVE < CONFIG_IO_BUFS,
               "CONFIG_IO_RESERVE must be below CONFIG_IO_BUFS: the reserve would be the whole I/O "
               "pool, leaving nothing for messages");
_Static_assert(CONFIG_MAX_MESSAGE_SIZE >= 125 && CONFIG_MAX_MESSAGE_SIZE <= 0x7fffffff,
               "CONFIG_MAX_MESSAGE_SIZE must be 125..2^31-1: the server raises a smaller limit to "
               "125 (a control frame payload), so the limit of the build would not hold");
_Static_assert(CONFIG_SENDQ_MAX >= 1024 && CONFIG_SENDQ_MAX <= 0x7fffffff,
               "CONFIG_SENDQ_MAX must be 1024..2^31-1: the server raises a smaller bound to 1024");
_Static_assert(CONFIG_SENDQ_MAX >= CONFIG_MAX_MESSAGE_SIZE,
               "CONFIG_SENDQ_MAX must be at least CONFIG_MAX_MESSAGE_SIZE: a reply as large as the "
               "largest message (an echo) would be refused with CW_ETOOBIG");
_Static_assert((unsigned long long)CONFIG_MAX_MESSAGE_SIZE + CW_FRAME_MAX_HEADER <=
                   CW_CHECK_TRAFFIC_BYTES,
               "CONFIG_MAX_MESSAGE_SIZE does not fit the I/O pool: one reply of the largest "
               "message must fit in CONFIG_IO_BUFS - CONFIG_IO_RESERVE blocks of "
               "CONFIG_IO_BUF_SIZE (less the send-queue header of each), else an echo of it is "
               "closed 1013 whenever the socket does not take it at once");
_Static_assert((unsigned long long)CONFIG_SENDQ_MAX + CW_FRAME_MAX_HEADER <= CW_CHECK_TRAFFIC_BYTES,
               "CONFIG_SENDQ_MAX is larger than the I/O pool (CONFIG_IO_BUFS - CONFIG_IO_RESERVE "
               "blocks of CONFIG_IO_BUF_SIZE, less the header of each): the bound is never "
               "reached, a slow reader empties the pool first (1013 for everyone, not 1008 for it)");

#if defined(CONFIG_TLS) && defined(CONFIG_STATIC_FILES)
/* Through TLS a file goes out through the send queue, one loop buffer
 * (256 + CONFIG_READ_BUF_SIZE bytes) at a time (core/conn.c send_file). */
_Static_assert(256ull + CONFIG_READ_BUF_SIZE <= CW_CHECK_TRAFFIC_BYTES,
               "CONFIG_READ_BUF_SIZE is larger than the I/O pool (CONFIG_IO_BUFS - "
               "CONFIG_IO_RESERVE blocks of CONFIG_IO_BUF_SIZE): with CONFIG_TLS and "
               "CONFIG_STATIC_FILES every HTTPS download larger than the pool would be dropped");
#endif

/* ---- protocol buffers ---- */

_Static_assert(CONFIG_HTTP_MAX_REQUEST >= 256 && CONFIG_HTTP_MAX_REQUEST <= 65535,
               "CONFIG_HTTP_MAX_REQUEST must be 256..65535: the parser keeps 16-bit offsets, and "
               "a smaller buffer cannot hold a WebSocket handshake");
#if defined(CONFIG_CONTROL_SOCKET)
_Static_assert(CONFIG_CONTROL_BUF >= 512,
               "CONFIG_CONTROL_BUF must be at least 512: it holds the request line (up to 256 "
               "bytes) and the message");
#endif
#if defined(CONFIG_GROUPS)
_Static_assert(CONFIG_GROUP_NAME_MAX >= 8 && CONFIG_GROUP_NAME_MAX <= 100,
               "CONFIG_GROUP_NAME_MAX must be 8..100: names in Channels are under 100 bytes, and "
               "the control socket and the Redis layer hold no longer ones");
_Static_assert(CONFIG_MAX_GROUPS <= CONFIG_MAX_MEMBERSHIPS,
               "CONFIG_MAX_GROUPS must not exceed CONFIG_MAX_MEMBERSHIPS: a group exists only "
               "while it has a member, so the extra group slots could never be used");
#endif
#if defined(CONFIG_LAYER_REDIS)
_Static_assert((unsigned long long)CONFIG_LAYER_REDIS_SENDQ >=
                   (CONFIG_MAX_MESSAGE_SIZE > CONFIG_IO_BUF_SIZE ? CONFIG_MAX_MESSAGE_SIZE
                                                                 : CONFIG_IO_BUF_SIZE) +
                       (unsigned long long)CW_CHECK_PUBLISH_HEAD,
               "CONFIG_LAYER_REDIS_SENDQ must be at least CONFIG_MAX_MESSAGE_SIZE + 512: the "
               "largest messages could never be published to Redis");
_Static_assert((unsigned long long)CONFIG_LAYER_REDIS_SENDQ <= CW_CHECK_TRAFFIC_BYTES,
               "CONFIG_LAYER_REDIS_SENDQ is larger than the I/O pool (CONFIG_IO_BUFS - "
               "CONFIG_IO_RESERVE blocks of CONFIG_IO_BUF_SIZE): a stalled Redis would take "
               "every block before its bound is reached");
#endif
#if defined(CONFIG_TLS)
/* (TLS_ARENA_SIZE against TLS_MAX_CONNS needs mbedTLS's record sizes: in
 * core/tls.c.) */
_Static_assert(CONFIG_TLS_MAX_CONNS <= CONFIG_MAX_CONNS,
               "CONFIG_TLS_MAX_CONNS must not exceed CONFIG_MAX_CONNS: sessions beyond the "
               "connection slots can never be used (each costs .bss and arena sizing)");
#endif

/* ---- deadlines: every timer runs on the CONFIG_TIMER_TICK_MS wheel ---- */

#define CW_CHECK_TIMEOUT(ms) ((ms) >= CONFIG_TIMER_TICK_MS && (ms) <= 3600000)
_Static_assert(CONFIG_TIMER_TICK_MS >= 1 && CONFIG_TIMER_TICK_MS <= 1000,
               "CONFIG_TIMER_TICK_MS must be 1..1000");
_Static_assert(CONFIG_TIMER_SLOTS >= 16 && CONFIG_TIMER_SLOTS <= 4096 &&
                   (CONFIG_TIMER_SLOTS & (CONFIG_TIMER_SLOTS - 1)) == 0,
               "CONFIG_TIMER_SLOTS must be a power of two (16..4096): the wheel indexes by mask");
_Static_assert(CW_CHECK_TIMEOUT(CONFIG_HANDSHAKE_TIMEOUT_MS),
               "CONFIG_HANDSHAKE_TIMEOUT_MS must be CONFIG_TIMER_TICK_MS..3600000: a shorter "
               "deadline still lasts a tick, a longer one is cut to an hour at start-up");
_Static_assert(CW_CHECK_TIMEOUT(CONFIG_PONG_TIMEOUT_MS),
               "CONFIG_PONG_TIMEOUT_MS must be CONFIG_TIMER_TICK_MS..3600000: a shorter "
               "deadline still lasts a tick, a longer one is cut to an hour at start-up");
_Static_assert(CW_CHECK_TIMEOUT(CONFIG_CLOSE_TIMEOUT_MS),
               "CONFIG_CLOSE_TIMEOUT_MS must be CONFIG_TIMER_TICK_MS..3600000: a shorter "
               "deadline still lasts a tick, a longer one is cut to an hour at start-up");
_Static_assert(CW_CHECK_TIMEOUT(CONFIG_SHUTDOWN_TIMEOUT_MS),
               "CONFIG_SHUTDOWN_TIMEOUT_MS must be CONFIG_TIMER_TICK_MS..3600000: a shorter "
               "deadline still lasts a tick, a longer one is cut to an hour at start-up");
_Static_assert(CW_CHECK_TIMEOUT(CONFIG_ACCEPT_BACKOFF_MS),
               "CONFIG_ACCEPT_BACKOFF_MS must be CONFIG_TIMER_TICK_MS..3600000: a shorter pause "
               "still lasts a tick");
_Static_assert(CONFIG_PING_INTERVAL_MS == 0 || CONFIG_PING_INTERVAL_MS >= CONFIG_TIMER_TICK_MS,
               "CONFIG_PING_INTERVAL_MS must be 0 (no pings) or at least CONFIG_TIMER_TICK_MS");
_Static_assert(CONFIG_MESSAGE_TIMEOUT_MS == 0 || CW_CHECK_TIMEOUT(CONFIG_MESSAGE_TIMEOUT_MS),
               "CONFIG_MESSAGE_TIMEOUT_MS must be 0 (no deadline) or CONFIG_TIMER_TICK_MS..3600000: "
               "a longer one is cut to an hour at start-up (and past 69 minutes its 16-bit clock "
               "would wrap, so it would never fire)");
#if defined(CONFIG_DOWNLOAD_TIMEOUT_MS) && defined(CONFIG_STATIC_FILES)
_Static_assert(CONFIG_DOWNLOAD_TIMEOUT_MS >= CONFIG_TIMER_TICK_MS,
               "CONFIG_DOWNLOAD_TIMEOUT_MS must be at least CONFIG_TIMER_TICK_MS");
#endif
/* ---- the application loop (issue 13) ---- */

#if defined(CONFIG_DEFERRED_ACCEPT)
/* cw_accept_headers' lines (CW_ACCEPT_HEADERS_MAX) join the 101 head in its
 * one I/O block (a pending connection may have queued frames behind it). */
_Static_assert(CONFIG_IO_BUF_SIZE >= sizeof(cw_txseg) + CW_CHECK_HEAD_101 + 256,
               "CONFIG_DEFERRED_ACCEPT needs CONFIG_IO_BUF_SIZE of at least 608 (640 on 64-bit): "
               "the 101 head with 256 bytes of extra headers must fit one I/O block");
#endif
#if defined(CONFIG_POSTS)
_Static_assert(CONFIG_POST_QUEUE >= 2 && (CONFIG_POST_QUEUE & (CONFIG_POST_QUEUE - 1)) == 0,
               "CONFIG_POST_QUEUE must be a power of two (2..65536): the ring indexes by mask");
#endif

#if defined(CONFIG_WATCHDOG)
_Static_assert(CONFIG_WATCHDOG_INTERVAL_MS >= CONFIG_TIMER_TICK_MS,
               "CONFIG_WATCHDOG_INTERVAL_MS must be at least CONFIG_TIMER_TICK_MS");
_Static_assert(CONFIG_WATCHDOG_TIMEOUT_S == 0 ||
                   2ull * CONFIG_WATCHDOG_INTERVAL_MS <= 1000ull * CONFIG_WATCHDOG_TIMEOUT_S,
               "CONFIG_WATCHDOG_INTERVAL_MS must be at most half of CONFIG_WATCHDOG_TIMEOUT_S: "
               "a kick that late (plus the latency of the loop) lets the watchdog reboot a "
               "healthy board");
#endif

#endif
