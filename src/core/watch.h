/* SPDX-License-Identifier: MIT */
/* watch.h: descriptor watches (CONFIG_WATCHES): the server empties the
 * pool at start-up and stops what is left at the end. */
#ifndef CW_WATCH_H
#define CW_WATCH_H

void cw_watches_init(void);
void cw_watches_fini(void);

#endif
