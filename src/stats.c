/* SPDX-License-Identifier: MIT */
/* stats.c: the report behind GET /stats and the control socket's "stats":
 * the counters of core/runtime.h, then every pool, TLS and the channel
 * layer, as "name value" lines. Its calls are public (chanwire.h): the
 * server registers cw_stats_report as the connection layer's report. */
#include "chanwire.h"
#include "channels/channel.h"
#include "channels/layer.h"
#include "core/runtime.h"
#include "cw_config.h"
#if defined(CONFIG_TLS)
#include "core/tls.h"
#endif

#include <stdio.h>

void cw_get_stats(const cw_server *s, cw_stats *out)
{
    (void)s;
    *out = cw_rt.stats;
}

size_t cw_stats_report(char *out, size_t cap)
{
    const cw_stats *t = &cw_rt.stats;
    int n = snprintf(out, cap,
                     "conns_open %u\nconns_http %u\naccepted %lu\nupgraded %lu\n"
                     "rejected_full %lu\nhttp_errors %lu\nauth_failures %lu\n"
                     "handshake_timeouts %lu\nping_timeouts %lu\nprotocol_errors %lu\n"
                     "sendq_overflows %lu\npool_exhausted %lu\naccept_pauses %lu\n"
                     "msgs_in %lu\nmsgs_out %lu\nevents_out %lu\n"
                     "tls_failures %lu\ntls_refused %lu\nmessage_timeouts %lu\n"
                     "rejected_addr %lu\nshare_refusals %lu\nsend_timeouts %lu\n"
                     "rate_limited %lu\ndownload_timeouts %lu\nproxy_errors %lu\n",
                     t->conns_open, t->conns_http, t->accepted, t->upgraded, t->rejected_full,
                     t->http_errors, t->auth_failures, t->handshake_timeouts, t->ping_timeouts,
                     t->protocol_errors, t->sendq_overflows, t->pool_exhausted, t->accept_pauses,
                     t->msgs_in, t->msgs_out, t->events_out, t->tls_failures, t->tls_refused,
                     t->message_timeouts, t->rejected_addr, t->share_refusals,
                     t->send_timeouts, t->rate_limited, t->download_timeouts, t->proxy_errors);
    if (n < 0 || (size_t)n >= cap)
        return n < 0 ? 0 : cap - 1;
    size_t len = (size_t)n + cw_pool_report(out + n, cap - (size_t)n);
#if defined(CONFIG_TLS)
    if (len < cap)
        len += cw_tls_report(out + len, cap - len);
#endif
    if (len < cap)
        len += cw_channel_report(out + len, cap - len);
    if (len < cap)
        len += cw_layer_report(out + len, cap - len);
    return len;
}
