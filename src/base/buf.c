/* SPDX-License-Identifier: MIT */
/* buf.c: storage and bookkeeping of the I/O and message pools. */
#include "base/buf.h"
#include "cw_config.h"

cw_pool cw_buf_io_pool, cw_buf_msg_pool;

CW_POOL_STORAGE(io_store, CONFIG_IO_BUF_SIZE, CONFIG_IO_BUFS);
CW_POOL_STORAGE(msg_store, CONFIG_MAX_MESSAGE_SIZE, CONFIG_MSG_BUFS);

void cw_buf_init(void)
{
    cw_pool_init(&cw_buf_io_pool, "io", io_store, CONFIG_IO_BUF_SIZE, CONFIG_IO_BUFS);
    cw_pool_init(&cw_buf_msg_pool, "msg", msg_store, CONFIG_MAX_MESSAGE_SIZE, CONFIG_MSG_BUFS);
}

void *cw_buf_get(size_t need, size_t *cap)
{
    if (need <= CONFIG_IO_BUF_SIZE) {
        *cap = CONFIG_IO_BUF_SIZE;
        return cw_pool_get(&cw_buf_io_pool);
    }
    if (need <= CONFIG_MAX_MESSAGE_SIZE) {
        *cap = CONFIG_MAX_MESSAGE_SIZE;
        return cw_pool_get(&cw_buf_msg_pool);
    }
    return NULL;
}

size_t cw_buf_cap(const void *block)
{
    return cw_pool_owns(&cw_buf_io_pool, block) ? CONFIG_IO_BUF_SIZE : CONFIG_MAX_MESSAGE_SIZE;
}

void cw_buf_put(void *block)
{
    if (!block)
        return;
    if (cw_pool_owns(&cw_buf_io_pool, block))
        cw_pool_put(&cw_buf_io_pool, block);
    else
        cw_pool_put(&cw_buf_msg_pool, block);
}
