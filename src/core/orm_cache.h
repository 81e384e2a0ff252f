/**
 * A read-through cache of sessions in memory all children of one httpd
 * share (SessionORMCache): a read finds the row there instead of asking
 * the database; every write of this httpd passes through it.
 *
 * Invariants:
 * - what this httpd writes or removes is what its next read sees, in every
 *   child: a write replaces the session's entry or drops it;
 * - a row read from the database is kept only if no write of a session of
 *   the same set was finished since the read began (each set counts its
 *   writes), so a read that raced a write or a removal never puts back
 *   what was there before it;
 * - the admin tool, outside httpd, raises a generation in a file both map
 *   (orm_cache_file_open): entries kept under an older one are not used;
 * - an entry is used for at most its lifetime (SessionORMCacheSeconds)
 *   after it was read or written, which bounds how long a change made
 *   outside this httpd (another host, another program) goes unseen, and
 *   never once the row has expired;
 * - an entry is written under its set's lock and marked full last, so one
 *   a child left half written (it died holding the lock) is not used;
 * - the memory is fixed when the cache is made: a session whose data is
 *   over the cache's largest (SessionORMCacheMaxSize), or whose id or owner
 *   is too long, is not kept (it is read from the database each time).
 */
#ifndef ORM_CACHE_H
#define ORM_CACHE_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_errno.h>
#include <apr_time.h>

#include "orm_store_ops.h"

/** The longest id and owner kept. */
#define ORM_CACHE_ID_MAX 128
#define ORM_CACHE_OWNER_MAX 256

/** The bounds of SessionORMCacheEntries, SessionORMCacheMaxSize and
 *  SessionORMCacheSeconds, and of the memory the first two make. */
#define ORM_CACHE_MIN_ENTRIES 16
#define ORM_CACHE_MAX_ENTRIES 1048576
#define ORM_CACHE_MIN_DATA 256
#define ORM_CACHE_MAX_DATA 1048576
#define ORM_CACHE_MAX_SECONDS 3600
#define ORM_CACHE_MAX_BYTES (APR_UINT64_C(1) << 30)

typedef struct orm_cache_t orm_cache_t;

/** Maps the generation file at path (created when missing and create is
 *  true, readable and writable by its owner only): *generation points into
 *  the mapping, which lives as long as pool. APR_ENOENT when it is missing
 *  and create is false; APR_EINVAL when the file is not one of ours (it is
 *  left as it is); *errmsg then says why. */
apr_status_t orm_cache_file_open(apr_pool_t *pool, const char *path,
                                 int create,
                                 volatile apr_uint32_t **generation,
                                 const char **errmsg);

/** Drops every session each cache of the file keeps (the admin tool's
 *  revoke). */
void orm_cache_file_raise(volatile apr_uint32_t *generation);

/** The shared memory a cache of entries sessions of at most max_data
 *  bytes of data takes. */
apr_uint64_t orm_cache_bytes(int entries, apr_size_t max_data);

/** The cache, from pool (httpd's pconf, in post_config: before the
 *  children exist, which share it from then on), holding about entries
 *  sessions of at most max_data bytes of data, each used for at most
 *  lifetime, under the file's generation. APR_ENOTIMPL where APR has no
 *  process-shared pthread mutex. */
apr_status_t orm_cache_create(apr_pool_t *pool, int entries,
                              apr_size_t max_data,
                              apr_interval_time_t lifetime,
                              volatile apr_uint32_t *generation,
                              orm_cache_t **cache);

/** One read or write of a session through the cache: taken before the
 *  database is asked, so that what the cache is told afterwards can be
 *  judged against what happened meanwhile. */
typedef struct {
    orm_cache_t *cache;
    apr_uint64_t store;         /* the table's key (orm_cache_store_key) */
    const char *id;
    int set;
    apr_uint32_t writes;        /* the set's count of writes when taken */
    apr_uint32_t generation;    /* the file's when taken */
} orm_cache_ticket_t;

/** Stands for a table: the same driver, parameters and table name give the
 *  same key, whichever virtual host reaches it. */
apr_uint64_t orm_cache_store_key(const char *driver, const char *params,
                                 const char *table);

/** Starts a read or write of the session id of the table store. */
void orm_cache_begin(orm_cache_t *cache, apr_uint64_t store, const char *id,
                     orm_cache_ticket_t *ticket);

/** The session as kept, copied into pool, when it is kept, current and
 *  live at now_ms: true with *row set; else false. */
int orm_cache_get(const orm_cache_ticket_t *ticket, apr_pool_t *pool,
                  apr_int64_t now_ms, orm_row_t **row);

/** Keeps row, just read from the database, unless a write of the set was
 *  finished since the ticket was taken. */
void orm_cache_fill(const orm_cache_ticket_t *ticket, const orm_row_t *row);

/** A write of the session is finished: row is what the database now holds
 *  (kept if nothing else was written in the set meanwhile), or NULL when
 *  the row was removed or its content is not known (the entry is
 *  dropped). */
void orm_cache_written(const orm_cache_ticket_t *ticket,
                       const orm_row_t *row);

#endif
