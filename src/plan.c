/* SPDX-License-Identifier: MIT */
/* plan.c: the memory plan. The worst-case resident bytes of every pool for
 * the options cw_server_init took, of the rest of the static data, of the
 * program's code and its libraries, and allowances for stack and libc's
 * heap (chanwired --plan, --mem-budget; docs/operations.md, "Memory plan"). */
#include "plan.h"
#include "base/pool.h"
#include "chanwire.h"
#include "core/runtime.h"
#include "cw_config.h"
#include "port.h"
#include "proto/frame.h"
#include "server.h"

#include <stdio.h>
#include <string.h>

#if defined(CONFIG_MEM_PLAN)

/* The main thread's stack: the deepest path (a handshake, a log line with
 * its formatting, getpwnam at start-up) stays far below; the kernel's copy
 * of argv and the environment sits at its top. */
#define PLAN_STACK (128u * 1024u)
/* What libc allocates for itself (stdio, syslog, getpwnam, locale data):
 * chanwire never calls malloc, and libc's first arena is 132 KiB. */
#define PLAN_HEAP (256u * 1024u)

uint64_t cw_plan_pages(uint64_t n, uint64_t page)
{
    return (n + page - 1) / page * page;
}

uint64_t cw_plan_pool_bytes(uint64_t block_size, uint64_t count, uint64_t blocks,
                            uint64_t touched, uint64_t page)
{
    if (blocks > count)
        blocks = count;
    uint64_t whole = cw_plan_pages(count * block_size, page) + page;
    if (blocks == 0 || block_size == 0)
        return 0;
    uint64_t n;
    if (touched >= block_size || touched == 0) {
        n = cw_plan_pages(blocks * block_size, page) + page;
    } else {
        /* Each block's first `touched` bytes may straddle one page more. */
        uint64_t per = (cw_plan_pages(touched, page) / page + 1) * page;
        if (per > cw_plan_pages(block_size, page) + page)
            per = cw_plan_pages(block_size, page) + page;
        n = blocks * per;
    }
    return n < whole ? n : whole;
}

int cw_plan_parse_bytes(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = s;
    if (!s || *p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    unsigned shift = 0;
    if (*p == 'K' || *p == 'k')
        shift = 10;
    else if (*p == 'M' || *p == 'm')
        shift = 20;
    else if (*p == 'G' || *p == 'g')
        shift = 30;
    if (shift) {
        p++;
        if (v > (UINT64_MAX >> shift))
            return -1;
        v <<= shift;
    }
    if (*p)
        return -1;
    *out = v;
    return 0;
}

struct out {
    char *buf;
    size_t cap, len;
    int full;
    uint64_t total;
};

static void item(struct out *o, const char *name, uint64_t bytes, const char *detail)
{
    o->total += bytes;
    if (o->full)
        return;
    int w = snprintf(o->buf + o->len, o->cap - o->len, "plan %-12s %12llu  %s\n", name,
                     (unsigned long long)bytes, detail);
    if (w < 0 || (size_t)w >= o->cap - o->len)
        o->full = 1;
    else
        o->len += (size_t)w;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

long cw_plan_write(cw_server *s, char *buf, size_t cap, uint64_t *total)
{
    if (!s || !s->initialised || !buf || cap == 0)
        return CW_EINVAL;
    cw_port_image im;
    cw_port_image_sizes(&im);
    const uint64_t page = im.page;
    const cw_options *opt = &cw_rt.opt;
    struct out o = {buf, cap, 0, 0, 0};
    /* Connection slots bound what only a connection can hold. */
    uint64_t slots = UINT64_MAX;
    for (unsigned i = 0; cw_pool_at(i); i++)
        if (strcmp(cw_pool_at(i)->name, "conn") == 0)
            slots = cw_pool_at(i)->limit;
    uint64_t storage = 0;
    for (unsigned i = 0; cw_pool_at(i); i++) {
        const cw_pool *p = cw_pool_at(i);
        uint64_t blocks = p->limit, touched = p->block_size;
        const char *n = p->name;
        storage += (uint64_t)p->count * p->block_size;
        if (strcmp(n, "http") == 0 || strcmp(n, "stash") == 0 || strcmp(n, "addr") == 0)
            blocks = min64(blocks, slots);
        if (strcmp(n, "msg") == 0) {
            /* A reassembled message, or a shared frame (<= sendq_max). */
            uint64_t big = opt->max_message > opt->sendq_max ? opt->max_message : opt->sendq_max;
            touched = min64(p->block_size, big + CW_FRAME_MAX_HEADER + 64);
        }
        blocks = min64(blocks, p->count);
        char name[24], detail[120];
        snprintf(name, sizeof name, "pool:%s", n);
        snprintf(detail, sizeof detail, "%llu of %llu blocks x %llu bytes%s",
                 (unsigned long long)blocks, (unsigned long long)p->count,
                 (unsigned long long)min64(touched, p->block_size),
                 touched < p->block_size ? " touched" : "");
        item(&o, name, cw_plan_pool_bytes(p->block_size, p->count, blocks, touched, page), detail);
    }
    char detail[160];
    uint64_t arena_storage = 0;
#if defined(CONFIG_TLS)
    arena_storage = CONFIG_TLS_ARENA_SIZE;
    uint64_t use = min64(opt->tls_arena_bytes, CONFIG_TLS_ARENA_SIZE);
    snprintf(detail, sizeof detail, "--tls-arena %llu of the build's %llu bytes",
             (unsigned long long)use, (unsigned long long)CONFIG_TLS_ARENA_SIZE);
    item(&o, "tls-arena", cw_plan_pages(use, page) + page, detail);
#endif
    uint64_t statics = im.data + im.bss;
    statics = statics > storage + arena_storage ? statics - storage - arena_storage : 0;
    snprintf(detail, sizeof detail, ".data %llu + .bss %llu less the pools: read buffer, "
             "tables, control and layer buffers", (unsigned long long)im.data,
             (unsigned long long)im.bss);
    item(&o, "static", statics, detail);
    item(&o, "text", im.text, "the executable's code and constants");
    snprintf(detail, sizeof detail, "%u loaded objects besides the executable (libc, loader, "
             "vDSO), every segment", im.objects ? im.objects - 1 : 0);
    item(&o, "libs", im.libs, detail);
    item(&o, "stack", PLAN_STACK, "allowance for the main thread");
    item(&o, "heap", PLAN_HEAP, "allowance for libc's own allocations");
    if (!o.full) {
        int w = snprintf(buf + o.len, cap - o.len, "plan %-12s %12llu  (%.1f MiB)\n", "total",
                         (unsigned long long)o.total, (double)o.total / 1048576.0);
        if (w < 0 || (size_t)w >= cap - o.len)
            o.full = 1;
        else
            o.len += (size_t)w;
    }
    if (total)
        *total = o.total;
    if (o.full) {
        buf[0] = 0;
        return CW_ETOOBIG;
    }
    return (long)o.len;
}
#else
long cw_plan_write(cw_server *s, char *buf, size_t cap, uint64_t *total)
{
    (void)s;
    if (buf && cap)
        buf[0] = 0;
    if (total)
        *total = 0;
    return CW_EINVAL; /* not in this build (CONFIG_MEM_PLAN) */
}
#endif
