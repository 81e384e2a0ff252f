/**
 * SHA-256 (FIPS 180-4). apr-util 1.x offers only MD5 and SHA-1, and the
 * stored session id must be a digest nobody can invert back to a token.
 */
#ifndef ORM_SHA256_H
#define ORM_SHA256_H

#include <apr.h>
#include <apr_pools.h>

#define ORM_SHA256_DIGEST_LEN 32
#define ORM_SHA256_HEX_LEN    (ORM_SHA256_DIGEST_LEN * 2)

typedef struct {
    apr_uint32_t state[8];
    apr_uint64_t total_len;      /* bytes hashed so far */
    unsigned char block[64];
    apr_size_t block_len;        /* bytes waiting in block */
} orm_sha256_ctx;

void orm_sha256_init(orm_sha256_ctx *ctx);
void orm_sha256_update(orm_sha256_ctx *ctx, const void *data, apr_size_t len);
void orm_sha256_final(orm_sha256_ctx *ctx,
                      unsigned char digest[ORM_SHA256_DIGEST_LEN]);

/** Lower-case hex digest of data, allocated from pool (65 bytes). */
char *orm_sha256_hex(apr_pool_t *pool, const void *data, apr_size_t len);

#endif
