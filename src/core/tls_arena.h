/* SPDX-License-Identifier: MIT */
/* tls_arena.h: a fixed arena for mbedTLS's memory. mbedTLS allocates with
 * calloc/free (contexts, record buffers, bignums during handshakes); here
 * those calls are served from one static array sized by Kconfig, so TLS
 * can never grow the heap and running out refuses one connection only. */
#ifndef CW_TLS_ARENA_H
#define CW_TLS_ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t size;       /* bytes in the arena */
    size_t used;       /* bytes in allocated blocks, headers included */
    size_t high_water;
    unsigned long allocs, failures;
} cw_tls_arena_stats;

/* Makes the arena use storage[0..size) (aligned to 16). */
void cw_tls_arena_init(void *storage, size_t size);
void *cw_tls_arena_calloc(size_t n, size_t size);
void cw_tls_arena_free(void *p);
void cw_tls_arena_get_stats(cw_tls_arena_stats *out);
/* Checks the block list and free list are consistent (tests). */
int cw_tls_arena_check(void);

#endif
