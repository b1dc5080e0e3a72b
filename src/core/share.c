/* SPDX-License-Identifier: MIT */
/* share.c: the address table behind fair shares. Entries come from a pool
 * with room for one per connection slot and are chained from a bucket
 * array by 16-bit handles, so they never move while connections hold
 * their handles. The hash is seeded at start-up: a client cannot choose
 * addresses that pile into one chain. */
#include "core/share.h"
#include "base/pool.h"

#include <string.h>

#define SLOTS (CONFIG_MAX_CONNS + CONFIG_REJECT_SLOTS)
#define ENTRIES (SLOTS < 65535 ? SLOTS : 65535) /* handles are 1..65535 */
#define BUCKETS (SLOTS <= 64     ? 64u         \
                 : SLOTS <= 256  ? 256u        \
                 : SLOTS <= 1024 ? 1024u       \
                 : SLOTS <= 4096 ? 4096u       \
                 : SLOTS <= 16384 ? 16384u : 65536u)

CW_POOL_STORAGE(entry_store, sizeof(struct cw_share_entry), ENTRIES);
static cw_pool entry_pool;
static uint16_t buckets[BUCKETS];
static uint32_t seed;
uint8_t *cw_share_base = entry_store;
uint32_t cw_share_limit[CW_SHARE_KINDS];

void cw_share_init(const uint32_t limit[CW_SHARE_KINDS])
{
    cw_pool_init(&entry_pool, "addr", entry_store, sizeof(struct cw_share_entry), ENTRIES);
    memset(buckets, 0, sizeof buckets);
    for (int k = 0; k < CW_SHARE_KINDS; k++)
        cw_share_limit[k] = limit[k] ? limit[k] : UINT32_MAX;
    if (cw_port_random(&seed, sizeof seed) < 0)
        seed = 0x9e3779b9u;
}


/* The address as a key: a v4-mapped IPv6 address is its IPv4 address. */
static int make_key(const cw_port_peer *p, uint8_t key[9])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(key, 0, 9);
    if (p->family == 4) {
        memcpy(key + 1, p->addr, 4);
    } else if (p->family == 6 && memcmp(p->addr, mapped, 12) == 0) {
        memcpy(key + 1, p->addr + 12, 4);
    } else if (p->family == 6) {
        key[0] = 6;
        memcpy(key + 1, p->addr, 8);
        return 0;
    } else if (p->family == CW_PORT_UNIX) {
        key[0] = CW_PORT_UNIX; /* every UNIX-socket peer is one "address" */
        return 0;
    } else {
        return -1;
    }
    key[0] = 4;
    return 0;
}

static uint32_t bucket_of(const uint8_t key[9])
{
    uint32_t h = 2166136261u ^ seed;
    for (int i = 0; i < 9; i++)
        h = (h ^ key[i]) * 16777619u;
    return (h ^ (h >> 15)) & (BUCKETS - 1);
}

uint16_t cw_share_attach(const cw_port_peer *peer, int *over)
{
    uint8_t key[9];
    *over = 0;
    if (make_key(peer, key) < 0)
        return 0;
    uint32_t b = bucket_of(key);
    uint16_t h = buckets[b];
    while (h && memcmp(cw_share_entry_of(h)->key, key, sizeof key) != 0)
        h = cw_share_entry_of(h)->next;
    if (!h) {
        struct cw_share_entry *e = cw_pool_get(&entry_pool);
        if (!e) {
            *over = 1; /* as many addresses as slots: cannot happen below 65535 */
            return 0;
        }
        memset(e, 0, sizeof *e);
        memcpy(e->key, key, sizeof key);
        h = (uint16_t)(cw_pool_index(&entry_pool, e) + 1);
        e->next = buckets[b];
        buckets[b] = h;
    }
    if (!cw_share_fits(h, CW_SHARE_CONN, 1)) {
        *over = 1;
        return 0;
    }
    cw_share_entry_of(h)->held[CW_SHARE_CONN]++;
    return h;
}

void cw_share_detach(uint16_t h)
{
    if (!h)
        return;
    struct cw_share_entry *e = cw_share_entry_of(h);
    if (--e->held[CW_SHARE_CONN] > 0)
        return;
    uint16_t *link = &buckets[bucket_of(e->key)];
    while (*link != h)
        link = &cw_share_entry_of(*link)->next;
    *link = e->next;
    cw_pool_put(&entry_pool, e);
}

unsigned cw_share_count(void)
{
    return entry_pool.used;
}
