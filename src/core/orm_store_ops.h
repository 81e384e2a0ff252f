/**
 * The store as its callers see it: a struct of functions (orm_store_ops_t)
 * over one connection (orm_conn_t), so that a cache or a second data format
 * can wrap an implementation without its callers knowing. Callers use the
 * orm_store_* functions below, never the struct; an operation an
 * implementation does not offer answers APR_ENOTIMPL (a table that cannot
 * be looked for is not there; a sweep lock that does not exist is never
 * busy).
 *
 * Two implementations: mod_dbd's (src/httpd/orm_store.c: pooled
 * connections, statements kept prepared, outages detected and logged),
 * which the provider and the sweeper use, and the admin tool's over its own
 * apr_dbd connection (src/admin/orm_admin_store.c), which offers the upkeep
 * operations only.
 *
 * Ids are the digests of tokens or user names; times are milliseconds since
 * the epoch, as the table keeps them. The session operations log their own
 * failures (the caller only learns that one happened); the upkeep ones hand
 * the driver's message back in *errmsg, for their caller to report.
 */
#ifndef ORM_STORE_OPS_H
#define ORM_STORE_OPS_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_errno.h>

#include "orm_purge.h"

/** A stored session as read back. */
typedef struct {
    const char *data;
    apr_int64_t expires_at_ms;
    apr_int64_t updated_at_ms;
    const char *user_name;                  /* NULL when not owned */
    const char *source;     /* where the stored form differs from
                             * mod_session's (the express format's JSON):
                             * the stored text this row was read from,
                             * which a write of it starts from and
                             * expects still stored; NULL otherwise */
} orm_row_t;

/** Computes the data to store from the data stored now; NULL to leave the
 *  row as it is. */
typedef const char *orm_store_merge_fn(void *baton, apr_pool_t *pool,
                                       const char *stored_data);

/** How a purge goes, besides the batch its connection was made with. */
typedef struct {
    apr_interval_time_t pause;          /* between two batches */
    orm_purge_progress_fn *progress;    /* after each full batch; may be
                                         * NULL */
    void *baton;                        /* for progress and stopping */
    /* true when nothing more should be started (a shutdown): a failed
     * purge is then not tried again; may be NULL */
    int (*stopping)(void *baton);
} orm_purge_plan_t;

/** What a purge did. */
typedef struct {
    apr_int64_t removed;        /* rows deleted, also when it failed */
    const char *errmsg;         /* why it failed: the driver's message */
    int prepared;               /* its statement could be prepared, so a
                                 * failure was the DELETE's own */
} orm_purge_result_t;

/** The whole table at a glance (the admin tool's stats). */
typedef struct {
    apr_int64_t rows;               /* sessions, the sweep's marker not
                                     * counted */
    const char *oldest_expiry_ms;   /* NULL when there is none */
    const char *newest_expiry_ms;
} orm_store_totals_t;

typedef struct orm_store_ops_t orm_store_ops_t;

/** A connection to the store: an implementation and its state for this
 *  connection. Made by the implementation (orm_store_connect,
 *  orm_store_attach, orm_admin_store_open). */
typedef struct {
    const orm_store_ops_t *ops;
    void *impl;
} orm_conn_t;

/** What an implementation does; a member may be NULL. Each is the
 *  orm_store_* function of the same name below. */
struct orm_store_ops_t {
    /* sessions */
    apr_status_t (*load)(orm_conn_t *conn, const char *id,
                         apr_int64_t now_ms, orm_row_t **row);
    apr_status_t (*save)(orm_conn_t *conn, const char *id,
                         const orm_row_t *row, apr_int64_t created_at_ms);
    apr_status_t (*insert)(orm_conn_t *conn, const char *id,
                           const orm_row_t *row, apr_int64_t created_at_ms);
    apr_status_t (*update_if)(orm_conn_t *conn, const char *id,
                              const orm_row_t *row, apr_int64_t version,
                              int *matched);
    apr_status_t (*merge)(orm_conn_t *conn, const char *id, orm_row_t *row,
                          apr_int64_t now_ms, orm_store_merge_fn *merge,
                          void *baton, int *found);
    apr_status_t (*remove)(orm_conn_t *conn, const char *id);
    /* upkeep: the sweep */
    int (*table_exists)(orm_conn_t *conn, apr_pool_t *pool);
    apr_status_t (*identity)(orm_conn_t *conn, apr_pool_t *pool,
                             const char **name);
    apr_status_t (*lock_sweep)(orm_conn_t *conn, apr_pool_t *pool,
                               int *held);
    void (*unlock_sweep)(orm_conn_t *conn, apr_pool_t *pool);
    apr_status_t (*claim_sweep)(orm_conn_t *conn, apr_pool_t *pool,
                                apr_int64_t now_ms, apr_int64_t interval_ms,
                                int *claimed, const char **errmsg);
    apr_status_t (*purge)(orm_conn_t *conn, apr_pool_t *pool,
                          apr_int64_t now_ms, const orm_purge_plan_t *plan,
                          orm_purge_result_t *result);
    /* upkeep: the admin tool */
    apr_status_t (*count_expired)(orm_conn_t *conn, apr_pool_t *pool,
                                  apr_int64_t now_ms, apr_int64_t *count,
                                  const char **errmsg);
    apr_status_t (*totals)(orm_conn_t *conn, apr_pool_t *pool,
                           orm_store_totals_t *totals, const char **errmsg);
    apr_status_t (*table_size)(orm_conn_t *conn, apr_pool_t *pool,
                               const char **bytes, const char **errmsg);
    apr_status_t (*revoke)(orm_conn_t *conn, apr_pool_t *pool,
                           const char *user_name, int *revoked,
                           const char **errmsg);
};

/* ---- sessions ---------------------------------------------------------- */

/** The live row with this id, or *row = NULL when there is none (unknown,
 *  or expired at now_ms). */
apr_status_t orm_store_load(orm_conn_t *conn, const char *id,
                            apr_int64_t now_ms, orm_row_t **row);

/** Inserts the row, or replaces one with the same id; created_at_ms is used
 *  only for a new row. */
apr_status_t orm_store_save(orm_conn_t *conn, const char *id,
                            const orm_row_t *row, apr_int64_t created_at_ms);

/** Inserts the row of an id nobody has (a new token's digest): a plain
 *  insert, cheaper than save's on a database that checks for a row to
 *  replace; an error when the id is taken. Where the implementation has no
 *  insert, save. */
apr_status_t orm_store_insert(orm_conn_t *conn, const char *id,
                              const orm_row_t *row,
                              apr_int64_t created_at_ms);

/** Rewrites the row only if it still carries version (its updated_at when
 *  loaded); *matched says whether it did. */
apr_status_t orm_store_update_if(orm_conn_t *conn, const char *id,
                                 const orm_row_t *row, apr_int64_t version,
                                 int *matched);

/** In one transaction: locks the live row, asks merge for the data to
 *  write, writes it with row's other fields (its updated_at raised above the
 *  stored one). *found = 0, nothing written, when there is no live row;
 *  -1, nothing written, when merge gave NULL. */
apr_status_t orm_store_merge(orm_conn_t *conn, const char *id, orm_row_t *row,
                             apr_int64_t now_ms, orm_store_merge_fn *merge,
                             void *baton, int *found);

/** Deletes the row; no row is not an error. */
apr_status_t orm_store_remove(orm_conn_t *conn, const char *id);

/* ---- upkeep ------------------------------------------------------------ */

/** True when the table can be read. */
int orm_store_table_exists(orm_conn_t *conn, apr_pool_t *pool);

/** The database's own name for itself, so two configurations that reach the
 *  same database sweep it once: APR_SUCCESS with *name as the database
 *  gave it, which an implementation may qualify (mod_dbd's: after the
 *  driver's name), NULL for SQL NULL; APR_EGENERAL, *name NULL, when it did
 *  not answer; APR_ENOTIMPL when it cannot tell. */
apr_status_t orm_store_identity(orm_conn_t *conn, apr_pool_t *pool,
                                const char **name);

/** The lock the hosts sharing the database take turns to sweep on, where
 *  the database has one (PostgreSQL): APR_SUCCESS with *held 1 (release it
 *  with orm_store_unlock_sweep) or 0 (there is no such lock); APR_EBUSY
 *  when another host holds it or it could not be asked for. */
apr_status_t orm_store_lock_sweep(orm_conn_t *conn, apr_pool_t *pool,
                                  int *held);

/** Releases the lock orm_store_lock_sweep took. */
void orm_store_unlock_sweep(orm_conn_t *conn, apr_pool_t *pool);

/** The farm's turn to sweep (see orm_purge_claim): *claimed 1 when this
 *  host sweeps now, 0 when another one did in the last interval_ms. */
apr_status_t orm_store_claim_sweep(orm_conn_t *conn, apr_pool_t *pool,
                                   apr_int64_t now_ms,
                                   apr_int64_t interval_ms, int *claimed,
                                   const char **errmsg);

/** Deletes the rows expired at now_ms, batch after batch (see
 *  orm_purge_run), until none is left or plan->progress says stop. */
apr_status_t orm_store_purge(orm_conn_t *conn, apr_pool_t *pool,
                             apr_int64_t now_ms, const orm_purge_plan_t *plan,
                             orm_purge_result_t *result);

/** How many rows expired at now_ms. */
apr_status_t orm_store_count_expired(orm_conn_t *conn, apr_pool_t *pool,
                                     apr_int64_t now_ms, apr_int64_t *count,
                                     const char **errmsg);

/** How many sessions there are, and their first and last expiry. */
apr_status_t orm_store_totals(orm_conn_t *conn, apr_pool_t *pool,
                              orm_store_totals_t *totals,
                              const char **errmsg);

/** The bytes the table and its indexes take, as text; APR_ENOTIMPL where
 *  the database cannot tell. */
apr_status_t orm_store_table_size(orm_conn_t *conn, apr_pool_t *pool,
                                  const char **bytes, const char **errmsg);

/** Deletes every session of user_name (the owner as stored: see
 *  orm_owner_column), or with user_name NULL every session (the sweep's
 *  marker stays); *revoked counts them. */
apr_status_t orm_store_revoke(orm_conn_t *conn, apr_pool_t *pool,
                              const char *user_name, int *revoked,
                              const char **errmsg);

#endif
