/**
 * Session tokens: what the client holds in its cookie, and the digest of it
 * that is the row's primary key. Only the digest ever reaches the database.
 */
#ifndef ORM_TOKEN_H
#define ORM_TOKEN_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_errno.h>

#define ORM_TOKEN_BYTES 32          /* 256 bits of entropy */
#define ORM_TOKEN_LEN   43          /* base64url of 32 bytes, no padding */

/** Random bytes source; apr_generate_random_bytes in production. */
typedef apr_status_t orm_random_fn(unsigned char *buf, apr_size_t len);

#define ORM_RANDOM_MAX_BYTES 64     /* most orm_random_base64url draws */

/** bytes (at most ORM_RANDOM_MAX_BYTES, else APR_EINVAL) from random as
 *  unpadded base64url, NUL-terminated: tokens and Express session ids. */
apr_status_t orm_random_base64url(apr_pool_t *pool, orm_random_fn *random,
                                  apr_size_t bytes, const char **text);

/** Fresh token from the system CSPRNG, base64url, NUL-terminated. */
apr_status_t orm_token_generate(apr_pool_t *pool, orm_random_fn *random,
                                const char **token);

/** Encodes len bytes as unpadded base64url into out (>= 4*len/3+3 bytes). */
void orm_base64url_encode(char *out, const unsigned char *in, apr_size_t len);

/** True when value (len bytes, not necessarily terminated) has the exact
 *  length and alphabet of a token we issue. Anything else is never looked up. */
int orm_token_is_wellformed(const char *value, apr_size_t len);

/** Row id for a cookie token: hex SHA-256 of the token. */
const char *orm_token_digest(apr_pool_t *pool, const char *token);

/** Row id for a per-user session: hex SHA-256 of "user:" and the name, so
 *  it can never collide with a token digest's preimage space. */
const char *orm_user_digest(apr_pool_t *pool, const char *user);

#endif
