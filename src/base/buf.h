/* SPDX-License-Identifier: MIT */
/* buf.h: the byte pools every connection borrows from while bytes are in
 * flight: I/O blocks (CONFIG_IO_BUF_SIZE) and message blocks
 * (CONFIG_MAX_MESSAGE_SIZE). The send queue's references to shared frames
 * have their own pool (base/txq.h). */
#ifndef CW_BUF_H
#define CW_BUF_H

#include "base/pool.h"

#include <stddef.h>

extern cw_pool cw_buf_io_pool, cw_buf_msg_pool;

void cw_buf_init(void);
/* A block of at least `need` bytes: an I/O block when it fits, else a
 * message block. *cap receives its size. NULL when none is free. */
void *cw_buf_get(size_t need, size_t *cap);
/* The capacity of a block that cw_buf_get gave. */
size_t cw_buf_cap(const void *block);
/* Gives back a block from either pool. */
void cw_buf_put(void *block);

#endif
