/* SPDX-License-Identifier: MIT */
/* metrics.h: the /metrics listener's end (the rest is public in
 * chanwire.h: cw_metrics_write, cw_metrics_listen, cw_metrics_port). */
#ifndef CW_METRICS_H
#define CW_METRICS_H

/* Closes the listener and every scraper's connection (cw_server_fini). */
void cw_metrics_close(void);

#endif
