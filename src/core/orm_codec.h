/**
 * mod_session's plain encoding of a session ("k=v&k2=v2", both sides
 * URL-escaped), read and written the way mod_session's own decoder reads it,
 * so that a save can merge only the keys a request changed into what is
 * stored. Sessions encrypted by mod_session_crypto are opaque and are never
 * passed through here.
 */
#ifndef ORM_CODEC_H
#define ORM_CODEC_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_tables.h>

/** Entries of an encoded session, as mod_session (2.4.47 and later)
 *  decodes them: pairs split at '&', the key ends at the first '=' and the
 *  value is the rest, '+' and %XX unescaped; an empty value unsets the key,
 *  a bad escape skips the pair. Never fails: any text gives a table. */
apr_table_t *orm_codec_decode(apr_pool_t *pool, const char *encoded);

/** The encoded form of entries; everything but [A-Za-z0-9._~-] is %XX. */
const char *orm_codec_encode(apr_pool_t *pool, const apr_table_t *entries);

/** True when encoded decodes to exactly these entries (so the session is
 *  not encrypted and can be merged key by key). */
int orm_codec_is_plain(apr_pool_t *pool, const char *encoded,
                       const apr_table_t *entries);

/** What a request did to its session: keys set to a new value, and keys
 *  removed, relative to what it loaded. */
typedef struct {
    apr_table_t *set;
    apr_array_header_t *removed;    /* of const char * */
} orm_diff_t;

orm_diff_t *orm_codec_diff(apr_pool_t *pool, const apr_table_t *loaded,
                           const apr_table_t *current);

/** True when the diff changes nothing but the keys in ignore (may be
 *  NULL), e.g. mod_session's own "expiry". */
int orm_diff_is_empty(const orm_diff_t *diff, const char *ignore);

/** stored with the diff applied: removed keys gone, set keys replaced. */
apr_table_t *orm_codec_apply(apr_pool_t *pool, const apr_table_t *stored,
                             const orm_diff_t *diff);

#endif
