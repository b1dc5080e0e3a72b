/* SPDX-License-Identifier: MIT */
/* tls.c: the mbedTLS glue. One RNG, up to four generations of certificate
 * + key + config (so SIGHUP can load new files while old sessions finish on
 * the old ones), a pool of session contexts, and non-blocking BIO callbacks
 * over the port layer. Works with mbedTLS 2.28 and 3.x: the differences are
 * confined to the shims just below. */
#include "core/tls.h"
#include "base/log.h"
#include "base/pool.h"
#include "core/tls_arena.h"
#include "cw_config.h"
#include "port.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/version.h>
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#include <mbedtls/build_info.h>
#else
#include <mbedtls/config.h>
#endif
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
#include <psa/crypto.h>
#endif

/* ---- version shims (2.28 vs 3.x) ---- */

static int rng(void *ctx, unsigned char *out, size_t len);
static mbedtls_ctr_drbg_context drbg;

static int parse_keyfile(mbedtls_pk_context *pk, const char *path)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_parse_keyfile(pk, path, NULL, rng, &drbg);
#else
    return mbedtls_pk_parse_keyfile(pk, path, NULL);
#endif
}

static int check_pair(const mbedtls_pk_context *pub, const mbedtls_pk_context *prv)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_check_pair(pub, prv, rng, &drbg);
#else
    return mbedtls_pk_check_pair(pub, prv);
#endif
}

static void min_tls12(mbedtls_ssl_config *conf)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03020000
    mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
#else
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
}

/* Key exchange: the fast curves first. Left to its defaults, mbedTLS 2.28
 * answers common clients with P-521, several times the handshake CPU. */
static void prefer_fast_curves(mbedtls_ssl_config *conf)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03010000
    static const uint16_t groups[] = {
#if defined(MBEDTLS_ECP_DP_CURVE25519_ENABLED)
        MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
#endif
        MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1, MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1,
        MBEDTLS_SSL_IANA_TLS_GROUP_NONE};
    mbedtls_ssl_conf_groups(conf, groups);
#elif defined(MBEDTLS_ECP_C)
    static const mbedtls_ecp_group_id curves[] = {
#if defined(MBEDTLS_ECP_DP_CURVE25519_ENABLED)
        MBEDTLS_ECP_DP_CURVE25519,
#endif
        MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_NONE};
    mbedtls_ssl_conf_curves(conf, curves);
#else
    (void)conf;
#endif
}

/* 3.x may answer a read with events that are not data; they mean "again". */
static int read_again(int rc)
{
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
    if (rc == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
        return 1;
#endif
#if defined(MBEDTLS_ERR_SSL_RECEIVED_EARLY_DATA)
    if (rc == MBEDTLS_ERR_SSL_RECEIVED_EARLY_DATA)
        return 1;
#endif
    return rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE;
}

/* ---- memory: every mbedTLS allocation comes from the arena ---- */

static _Alignas(16) uint8_t arena[CONFIG_TLS_ARENA_SIZE];

/* Every open session holds its two record buffers in the arena (and more
 * during its handshake, docs/tls.md): an arena smaller than that for
 * TLS_MAX_CONNS sessions would make the session limit a lie, refusing
 * sessions long before it (src/config_check.h has the other checks). */
_Static_assert((unsigned long long)CONFIG_TLS_ARENA_SIZE >=
                   (unsigned long long)CONFIG_TLS_MAX_CONNS *
                       (MBEDTLS_SSL_IN_CONTENT_LEN + MBEDTLS_SSL_OUT_CONTENT_LEN),
               "CONFIG_TLS_ARENA_SIZE is too small for CONFIG_TLS_MAX_CONNS sessions: each open "
               "session holds the input and output record buffers of mbedTLS (MBEDTLS_SSL_IN_CONTENT_LEN "
               "+ MBEDTLS_SSL_OUT_CONTENT_LEN, 32 KiB by default) in the arena; size it as "
               "CONFIG_TLS_MAX_CONNS * 50 KiB plus the certificate");

/* The build renames mbedTLS's own calloc/free references to these two (see
 * the Makefile); with MBEDTLS_PLATFORM_MEMORY the runtime hook is used. */
void *cw_tls_calloc(size_t n, size_t size);
void cw_tls_free(void *p);

void *cw_tls_calloc(size_t n, size_t size)
{
    return cw_tls_arena_calloc(n, size);
}

void cw_tls_free(void *p)
{
    cw_tls_arena_free(p);
}

/* ---- configuration generations ---- */

#define GENERATIONS 4

struct generation {
    mbedtls_ssl_config conf;
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    unsigned sessions; /* open sessions using it */
    int loaded;
};

struct cw_tls {
    mbedtls_ssl_context ssl;
    int fd;
    uint8_t gen;
    uint8_t started;    /* the first bytes were a TLS record */
    uint8_t done;       /* handshake complete */
    uint8_t want_write; /* the last call needs POLLOUT */
    size_t pending;     /* bytes offered to the write that wants to be retried */
};

static mbedtls_entropy_context entropy;
static struct generation gens[GENERATIONS];
static int current = -1;
static char cert_path[256], key_path[256];
static int ready;
CW_POOL_STORAGE(session_store, sizeof(struct cw_tls), CONFIG_TLS_MAX_CONNS);
static cw_pool session_pool;
static unsigned long handshakes_ok, handshakes_failed, refused;

static int rng(void *ctx, unsigned char *out, size_t len)
{
    return mbedtls_ctr_drbg_random(ctx, out, len);
}

static void describe(int rc, char *out, size_t cap)
{
#if defined(MBEDTLS_ERROR_C)
    char text[120];
    mbedtls_strerror(rc, text, sizeof text);
    snprintf(out, cap, "%s (-0x%04x)", text, (unsigned)-rc);
#else
    snprintf(out, cap, "mbedTLS error -0x%04x", (unsigned)-rc);
#endif
}

static void free_generation(struct generation *g)
{
    mbedtls_ssl_config_free(&g->conf);
    mbedtls_x509_crt_free(&g->cert);
    mbedtls_pk_free(&g->key);
    g->loaded = 0;
}

/* Loads the files into g; one line in err on failure. */
static int load_generation(struct generation *g, char *err, size_t errlen)
{
    char why[160];
    int rc;
    mbedtls_ssl_config_init(&g->conf);
    mbedtls_x509_crt_init(&g->cert);
    mbedtls_pk_init(&g->key);
    g->sessions = 0;
    g->loaded = 1;
    if ((rc = mbedtls_x509_crt_parse_file(&g->cert, cert_path)) != 0) {
        describe(rc, why, sizeof why);
        /* The file is read by the PK layer: its errors come as PK_*. */
        if (rc == MBEDTLS_ERR_X509_FILE_IO_ERROR || rc == MBEDTLS_ERR_PK_FILE_IO_ERROR)
            snprintf(err, errlen, "cannot read certificate %.200s", cert_path);
        else if (rc == MBEDTLS_ERR_PK_ALLOC_FAILED || rc == MBEDTLS_ERR_X509_ALLOC_FAILED)
            snprintf(err, errlen, "cannot load certificate %.200s (not a regular file, or larger "
                     "than the TLS arena)", cert_path);
        else
            snprintf(err, errlen, "certificate %.200s: %s", cert_path, why);
        goto fail;
    }
    if ((rc = parse_keyfile(&g->key, key_path)) != 0) {
        describe(rc, why, sizeof why);
        if (rc == MBEDTLS_ERR_PK_FILE_IO_ERROR)
            snprintf(err, errlen, "cannot read key %.200s", key_path);
        else if (rc == MBEDTLS_ERR_PK_ALLOC_FAILED)
            snprintf(err, errlen, "cannot load key %.200s (not a regular file, or larger than "
                     "the TLS arena)", key_path);
        else
            snprintf(err, errlen, "key %.200s: %s", key_path, why);
        goto fail;
    }
    if (check_pair(&g->cert.pk, &g->key) != 0) {
        snprintf(err, errlen, "key %.200s does not match certificate %.200s", key_path, cert_path);
        goto fail;
    }
    if ((rc = mbedtls_ssl_config_defaults(&g->conf, MBEDTLS_SSL_IS_SERVER,
                                          MBEDTLS_SSL_TRANSPORT_STREAM,
                                          MBEDTLS_SSL_PRESET_DEFAULT)) != 0 ||
        (rc = mbedtls_ssl_conf_own_cert(&g->conf, &g->cert, &g->key)) != 0) {
        describe(rc, why, sizeof why);
        snprintf(err, errlen, "TLS configuration: %s", why);
        goto fail;
    }
    mbedtls_ssl_conf_rng(&g->conf, rng, &drbg);
    min_tls12(&g->conf);
    prefer_fast_curves(&g->conf);
    return 0;
fail:
    free_generation(g);
    return -1;
}

int cw_tls_init(const char *cert_file, const char *key_file, unsigned max_sessions,
                size_t arena_bytes, char *err, size_t errlen)
{
    if (strlen(cert_file) >= sizeof cert_path || strlen(key_file) >= sizeof key_path) {
        snprintf(err, errlen, "TLS file name too long");
        return -1;
    }
    strcpy(cert_path, cert_file);
    strcpy(key_path, key_file);
    if (arena_bytes == 0 || arena_bytes > sizeof arena)
        arena_bytes = sizeof arena;
    cw_tls_arena_init(arena, arena_bytes);
#if defined(MBEDTLS_PLATFORM_MEMORY)
    mbedtls_platform_set_calloc_free(cw_tls_calloc, cw_tls_free);
#endif
    cw_pool_init(&session_pool, "tls", session_store, sizeof(struct cw_tls), CONFIG_TLS_MAX_CONNS);
    if (max_sessions && max_sessions < CONFIG_TLS_MAX_CONNS)
        session_pool.limit = max_sessions;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
    if (psa_crypto_init() != PSA_SUCCESS) {
        snprintf(err, errlen, "TLS: PSA crypto initialisation failed");
        return -1;
    }
#endif
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    static const unsigned char pers[] = "chanwire";
    int rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, pers, sizeof pers - 1);
    if (rc != 0) {
        snprintf(err, errlen, "TLS: cannot seed the random generator");
        return -1;
    }
    if (load_generation(&gens[0], err, errlen) < 0)
        return -1;
    current = 0;
    ready = 1;
    return 0;
}

int cw_tls_reload(char *err, size_t errlen)
{
    int slot = -1;
    for (int i = 0; i < GENERATIONS; i++)
        if (!gens[i].loaded) {
            slot = i;
            break;
        }
    if (!ready || slot < 0) {
        snprintf(err, errlen, "TLS reload: %d older certificate sets still in use", GENERATIONS - 1);
        return -1;
    }
    if (load_generation(&gens[slot], err, errlen) < 0)
        return -1;
    struct generation *old = &gens[current];
    current = slot;
    if (old->sessions == 0)
        free_generation(old);
    return 0;
}

void cw_tls_fini(void)
{
    for (int i = 0; i < GENERATIONS; i++)
        if (gens[i].loaded)
            free_generation(&gens[i]);
    if (ready) {
        mbedtls_ctr_drbg_free(&drbg);
        mbedtls_entropy_free(&entropy);
    }
    ready = 0;
    current = -1;
}

/* ---- BIO over the port layer ---- */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct cw_tls *t = ctx;
    ssize_t n = cw_port_send(t->fd, buf, len);
    if (n >= 0)
        return (int)n;
    return errno == EAGAIN || errno == EWOULDBLOCK ? MBEDTLS_ERR_SSL_WANT_WRITE
                                                    : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct cw_tls *t = ctx;
    ssize_t n = cw_port_recv(t->fd, buf, len);
    if (n >= 0)
        return (int)n; /* 0: EOF */
    return errno == EAGAIN || errno == EWOULDBLOCK ? MBEDTLS_ERR_SSL_WANT_READ
                                                    : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* ---- sessions ---- */

int cw_tls_open(struct cw_tls **out, int fd)
{
    struct cw_tls *t = ready ? cw_pool_get(&session_pool) : NULL;
    if (!t) {
        refused++;
        return CW_ENOMEM;
    }
    memset(t, 0, sizeof *t);
    t->fd = fd;
    t->gen = (uint8_t)current;
    mbedtls_ssl_init(&t->ssl);
    if (mbedtls_ssl_setup(&t->ssl, &gens[current].conf) != 0) {
        mbedtls_ssl_free(&t->ssl); /* the arena is full: refuse this one only */
        cw_pool_put(&session_pool, t);
        refused++;
        return CW_ENOMEM;
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    gens[current].sessions++;
    *out = t;
    return 0;
}

void cw_tls_close(struct cw_tls *t)
{
    if (!t)
        return;
    mbedtls_ssl_free(&t->ssl);
    struct generation *g = &gens[t->gen];
    if (--g->sessions == 0 && t->gen != current)
        free_generation(g);
    cw_pool_put(&session_pool, t);
}

/* What the first byte waiting says: -1 nothing yet, 1 plain HTTP (methods
 * are upper-case tokens: GET, HEAD, POST ...), 0 anything else (a TLS
 * handshake record starts with 0x16; garbage fails the handshake). */
static int plain_http_first(int fd)
{
    uint8_t b;
    ssize_t n = cw_port_peek(fd, &b, 1);
    if (n < 1)
        return n == 0 ? 0 : -1; /* EOF: let the handshake see it */
    return b >= 'A' && b <= 'Z';
}

int cw_tls_done(const struct cw_tls *t)
{
    return t->done;
}

int cw_tls_handshake(struct cw_tls *t, const char *peer)
{
    if (t->done)
        return 0;
    if (!t->started) {
        int first = plain_http_first(t->fd);
        if (first < 0)
            return 1;
        if (first)
            return CW_TLS_PLAIN_HTTP;
        t->started = 1;
    }
    int rc = mbedtls_ssl_handshake(&t->ssl);
    t->want_write = rc == MBEDTLS_ERR_SSL_WANT_WRITE;
    if (rc == 0) {
        t->done = 1;
        handshakes_ok++;
        cw_log(CW_LOG_DEBUG, "%s: TLS handshake done (%s, %s)", peer,
               mbedtls_ssl_get_version(&t->ssl), mbedtls_ssl_get_ciphersuite(&t->ssl));
        return 0;
    }
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
        return 1;
    char why[160];
    describe(rc, why, sizeof why);
    handshakes_failed++;
    cw_log(CW_LOG_INFO, "%s: TLS handshake failed: %s", peer, why);
    return -1;
}

ssize_t cw_tls_recv(struct cw_tls *t, void *buf, size_t len)
{
    /* One call to mbedtls_ssl_read yields at most one record: keep going
     * while records are there, so one readiness event still means one pass
     * over everything that arrived. */
    size_t got = 0;
    while (got < len) {
        int rc = mbedtls_ssl_read(&t->ssl, (unsigned char *)buf + got, len - got);
        t->want_write = rc == MBEDTLS_ERR_SSL_WANT_WRITE;
        if (rc > 0) {
            got += (size_t)rc;
            continue;
        }
        if (got)
            return (ssize_t)got; /* EOF or an error shows on the next call */
        if (rc == 0 || rc == MBEDTLS_ERR_SSL_CONN_EOF) {
            /* mbedtls_ssl_read's 0: TCP ended without close_notify
             * (perhaps inside a record). */
            cw_log(CW_LOG_DEBUG, "TLS: peer closed TCP without close_notify");
            return 0;
        }
        if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
            return 0;
        if (read_again(rc)) {
            errno = EAGAIN;
            return -1;
        }
        char why[160];
        describe(rc, why, sizeof why);
        cw_log(CW_LOG_DEBUG, "TLS read failed: %s", why);
        errno = ECONNRESET;
        return -1;
    }
    return (ssize_t)got;
}

ssize_t cw_tls_sendv(struct cw_tls *t, const struct iovec *iov, int iovcnt)
{
    size_t total = 0, off = 0;
    int i = 0;
    if (t->pending && iovcnt > 0) {
        /* After WANT_WRITE a record of `pending` bytes is inside mbedTLS,
         * which must be offered the very same bytes again. The caller still
         * holds them first, but perhaps cut differently (a direct write's
         * rest is copied into I/O blocks): gather them when they are not
         * in one piece, and count them across the iovecs. */
        static unsigned char gather[16384];
        const unsigned char *buf = iov[0].iov_base;
        if (iov[0].iov_len < t->pending) {
            size_t got = 0;
            for (int k = 0; k < iovcnt && got < t->pending; k++) {
                size_t n = iov[k].iov_len < t->pending - got ? iov[k].iov_len : t->pending - got;
                memcpy(gather + got, iov[k].iov_base, n);
                got += n;
            }
            if (got < t->pending) {
                errno = EINVAL; /* the caller lost bytes mbedTLS has: cannot go on */
                return -1;
            }
            buf = gather;
        }
        int rc = mbedtls_ssl_write(&t->ssl, buf, t->pending);
        if (rc == MBEDTLS_ERR_SSL_WANT_WRITE || rc == MBEDTLS_ERR_SSL_WANT_READ) {
            t->want_write = rc == MBEDTLS_ERR_SSL_WANT_WRITE;
            errno = EAGAIN;
            return -1;
        }
        if (rc <= 0) {
            errno = EPIPE;
            return -1;
        }
        t->pending = 0;
        t->want_write = 0;
        total = (size_t)rc;
        for (off = total; i < iovcnt && off >= iov[i].iov_len; i++)
            off -= iov[i].iov_len;
    }
    for (; i < iovcnt; i++, off = 0) {
        const unsigned char *p = (const unsigned char *)iov[i].iov_base + off;
        size_t left = iov[i].iov_len - off;
        while (left > 0) {
            size_t chunk = left < 16384 ? left : 16384;
            int rc = mbedtls_ssl_write(&t->ssl, p, chunk);
            if (rc > 0) {
                t->want_write = 0;
                total += (size_t)rc;
                p += rc;
                left -= (size_t)rc;
                continue;
            }
            if (rc == MBEDTLS_ERR_SSL_WANT_WRITE || rc == MBEDTLS_ERR_SSL_WANT_READ) {
                t->pending = chunk;
                t->want_write = rc == MBEDTLS_ERR_SSL_WANT_WRITE;
                if (total)
                    return (ssize_t)total;
                errno = EAGAIN;
                return -1;
            }
            if (total)
                return (ssize_t)total;
            errno = EPIPE;
            return -1;
        }
    }
    return (ssize_t)total;
}

int cw_tls_pending(struct cw_tls *t)
{
    return mbedtls_ssl_get_bytes_avail(&t->ssl) > 0;
}

int cw_tls_wants_write(const struct cw_tls *t)
{
    return t->want_write;
}

void cw_tls_close_notify(struct cw_tls *t)
{
    if (t->done)
        mbedtls_ssl_close_notify(&t->ssl);
}

size_t cw_tls_report(char *out, size_t cap)
{
    if (!ready)
        return 0; /* no certificate loaded: no TLS figures */
    cw_tls_arena_stats a;
    cw_tls_arena_get_stats(&a);
    int n = snprintf(out, cap,
                     "tls_sessions %u\ntls_handshakes %lu\ntls_handshake_failures %lu\n"
                     "tls_refused %lu\ntls_arena %zu/%zu high %zu failed %lu\n",
                     session_pool.used, handshakes_ok, handshakes_failed, refused, a.used, a.size,
                     a.high_water, a.failures);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}
