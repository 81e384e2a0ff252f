/**
 * The cache as a store: the session operations of another store (the one
 * over mod_dbd) read through orm_cache. A load asks the cache first and
 * the store when the cache has nothing current; a write goes to the store
 * and then tells the cache what the row now holds (save, insert and a
 * conditional update that matched: the row written), or that it does not
 * know (a merge, a removal, a failure: the entry is dropped).
 *
 * Used for the native format only: the express format's rows are written
 * by the Express app too, behind httpd's back.
 */
#ifndef ORM_CACHE_STORE_H
#define ORM_CACHE_STORE_H

#include <apr.h>
#include <apr_pools.h>

#include "orm_cache.h"
#include "orm_store_ops.h"

/** Connects to the store read through: called at the first operation the
 *  cache cannot answer, so that a read the cache answers takes no
 *  connection from the database's pool (and works while the database is
 *  down). */
typedef apr_status_t orm_cache_connect_fn(void *baton, orm_conn_t *inner);

/** Called once per load: hit says whether the cache had the session. */
typedef void orm_cache_report_fn(void *baton, const char *id, int hit);

/** Makes *outer, from pool, the store connect gives read through cache for
 *  the table store (orm_cache_store_key): session operations only. report
 *  may be NULL; both are called with baton. */
void orm_cache_store_wrap(orm_conn_t *outer, apr_pool_t *pool,
                          orm_cache_t *cache, apr_uint64_t store,
                          orm_cache_connect_fn *connect,
                          orm_cache_report_fn *report, void *baton);

#endif
