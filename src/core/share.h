/* SPDX-License-Identifier: MIT */
/* share.h: fair shares per client address. Each connection is counted
 * against its peer's address (an IPv4 address, or an IPv6 /64, which one
 * client usually holds whole; all peers of UNIX-socket listeners are one
 * address), and what all connections of one address may
 * hold of each pool is bounded: connection slots, request buffers, message
 * blocks, queued send bytes and group memberships. A handle of 0 means "not
 * counted" (no address, or the table is off): every check passes. */
#ifndef CW_SHARE_H
#define CW_SHARE_H

#include "base/pool.h"
#include "cw_config.h"
#include "port.h"

#include <stdint.h>

enum cw_share_kind {
    CW_SHARE_CONN,   /* connection slots */
    CW_SHARE_REQ,    /* request buffers (handshakes, downloads) */
    CW_SHARE_MSG,    /* message blocks (reassembly of large messages) */
    CW_SHARE_MEMBER, /* group memberships */
    CW_SHARE_IO,     /* bytes of the I/O pool: queued sends, reassembly blocks */
    CW_SHARE_TLS,    /* TLS sessions */
    CW_SHARE_KINDS
};

#if defined(CONFIG_FAIR_SHARES)
/* One address's entry. Public only so that the checks on every send and
 * read below can be inline; share.c alone links and unlinks entries. */
struct cw_share_entry {
    uint16_t next;   /* next handle in the bucket's chain; 0 ends it */
    uint8_t key[9];  /* family, then the IPv4 address or the IPv6 /64 */
    uint32_t held[CW_SHARE_KINDS];
};
#define CW_SHARE_ENTRY_SIZE CW_POOL_ROUND(sizeof(struct cw_share_entry))
extern uint8_t *cw_share_base;                   /* the entries' storage */
extern uint32_t cw_share_limit[CW_SHARE_KINDS]; /* per address, per kind */

/* Empties the table; limit[k] is what one address may hold of kind k
 * (0: no bound). */
void cw_share_init(const uint32_t limit[CW_SHARE_KINDS]);
/* Counts one more connection of peer's address. Returns its handle, or 0
 * when the address already holds its share of connections (or the table
 * is full, or the peer has no IP address: then *over is 0). */
uint16_t cw_share_attach(const cw_port_peer *peer, int *over);
/* The connection behind h is gone; the entry goes with the last one. */
void cw_share_detach(uint16_t h);
static inline struct cw_share_entry *cw_share_entry_of(uint16_t h)
{
    return (struct cw_share_entry *)(void *)(cw_share_base + (size_t)(h - 1u) * CW_SHARE_ENTRY_SIZE);
}
/* 1 when the address behind h may take n more of kind k: within its
 * share, or its first of that kind (so a message as large as the whole
 * share can still be sent). */
static inline int cw_share_fits(uint16_t h, unsigned k, uint32_t n)
{
    if (!h)
        return 1;
    uint32_t held = cw_share_entry_of(h)->held[k];
    return !held || held + n <= cw_share_limit[k];
}
/* Adds n (negative: gives back) to what h holds of kind k. */
static inline void cw_share_add(uint16_t h, unsigned k, int32_t n)
{
    if (h)
        cw_share_entry_of(h)->held[k] += (uint32_t)n;
}
/* What h holds of kind k (tests, reports). */
static inline uint32_t cw_share_held(uint16_t h, unsigned k)
{
    return h ? cw_share_entry_of(h)->held[k] : 0;
}
/* Addresses in the table now. */
unsigned cw_share_count(void);
#else
/* Built without (CONFIG_FAIR_SHARES=n): nothing is counted, all fits. */
static inline void cw_share_init(const uint32_t limit[CW_SHARE_KINDS]) { (void)limit; }
static inline uint16_t cw_share_attach(const cw_port_peer *peer, int *over)
{
    (void)peer;
    *over = 0;
    return 0;
}
static inline void cw_share_detach(uint16_t h) { (void)h; }
static inline int cw_share_fits(uint16_t h, unsigned k, uint32_t n)
{
    (void)h, (void)k, (void)n;
    return 1;
}
static inline void cw_share_add(uint16_t h, unsigned k, int32_t n) { (void)h, (void)k, (void)n; }
#endif

#endif
