/* SPDX-License-Identifier: MIT */
/* core_wire.h: the bytes of channels_redis.core (RedisChannelLayer) that
 * are not Redis commands: the shard formula (consistent_hash), non-local
 * names, and queue members (12 random bytes, then the msgpack map with its
 * "__asgi_channel__" routing key). Pure; unit-tested against the captured
 * vectors of ../shared/channels-redis-wire.md §4. */
#ifndef CW_CORE_WIRE_H
#define CW_CORE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define CW_CORE_RANDOM 12 /* the random prefix of every queue member */

/* zlib's CRC-32 (IEEE), as Python's binascii.crc32. */
uint32_t cw_crc32(const void *p, size_t n);
/* channels_redis's _consistent_hash: the host index of name among ring
 * hosts (0 when ring <= 1). */
unsigned cw_core_shard(const char *name, size_t len, unsigned ring);
/* Length of name's non-local part: up to and including the first '!', or
 * the whole name. */
size_t cw_core_nonlocal_len(const char *name);

/* Scores: UNIX time in microseconds <-> the "%.6f" seconds Redis holds
 * (Python's repr(time.time()) too: more or fewer digits are read, digits
 * past the sixth dropped). Parsing reads a non-negative decimal; anything
 * else, or a value past year 2554, gives -1. */
size_t cw_core_score_format(int64_t us, char *out, size_t cap);
int64_t cw_core_score_parse(const char *p, size_t n);
/* 1 when a message scored score_us is past the expiry at now_us (Django's
 * writers prune score < int(now) - expiry; a reader never delivers such). */
int cw_core_expired(int64_t score_us, int64_t now_us, unsigned expiry_s);

/* A queue member: rnd, then the msgpack map msg[0..len) with one more key,
 * "__asgi_channel__", whose value is targets[0] as a str (array == 0: a
 * send) or an array of the ntargets names (a group send). Returns the
 * length written to out, CW_EINVAL (msg is not one map) or CW_ETOOBIG. */
long cw_core_member(uint8_t *out, size_t cap, const uint8_t rnd[CW_CORE_RANDOM],
                    const uint8_t *msg, size_t len, int array, const char *const *targets,
                    unsigned ntargets);

/* Reads a queue member: drops the random prefix and copies the map without
 * its "__asgi_channel__" key to out (its length in *outlen), calling
 * fn(name, name_len, ctx) for each target it names (a str, or each str of
 * an array; none when the key is absent). 0, CW_EINVAL (malformed: short,
 * not one map, a target that is not a str, trailing bytes) or CW_ETOOBIG. */
int cw_core_unwrap(const uint8_t *member, size_t n, uint8_t *out, size_t cap, size_t *outlen,
                   void (*fn)(const char *name, size_t len, void *ctx), void *ctx);

#endif
