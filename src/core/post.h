/* SPDX-License-Identifier: MIT */
/* post.h: posts from other threads (CONFIG_POSTS): the queue's wake-up
 * descriptor joins the reactor at start-up and leaves it at the end. */
#ifndef CW_POST_H
#define CW_POST_H

/* 0, or -1 with errno (no eventfd nor pipe, or the poller refused it). */
int cw_posts_open(void);
/* Stops taking posts (cw_post then answers CW_ECLOSED); queued ones are
 * dropped without running. */
void cw_posts_close(void);

#endif
