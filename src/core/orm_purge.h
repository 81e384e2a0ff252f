/**
 * The expiry sweep: deletes expired rows batch after batch, with a pause
 * between batches so no statement holds its locks for long. Shared by the
 * module's background thread and the admin tool's purge; needs apr-util's
 * apr_dbd only.
 */
#ifndef ORM_PURGE_H
#define ORM_PURGE_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_time.h>
#include <apr_dbd.h>

/** The id of the sweep's marker row: never a session's (those are 64 hex
 *  digits). */
#define ORM_SWEEP_MARKER_ID "!sweep"

/** Called after each full batch (one that may have left expired rows
 *  behind) with the rows removed so far; return 0 to stop early
 *  (shutdown), non-zero to go on. May be NULL. */
typedef int orm_purge_progress_fn(void *baton, apr_int64_t removed);

typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_dbd_prepared_t *stmt;       /* orm_maintenance_sql_t.sweep, prepared */
    int batch;                      /* the LIMIT written into the SQL */
    apr_interval_time_t pause;      /* between batches */
    orm_purge_progress_fn *progress;
    void *baton;
} orm_purge_t;

/** Deletes rows that expired at or before now_ms until none is left (or
 *  progress says stop). *removed counts what was deleted, also on error;
 *  on error *errmsg holds the driver's message. */
apr_status_t orm_purge_run(apr_pool_t *pool, const orm_purge_t *sweep,
                           apr_int64_t now_ms, apr_int64_t *removed,
                           const char **errmsg);

/** Takes the sweep due now for the whole farm: *claimed = 1 when the
 *  marker row says no host swept in the last interval_ms (or there was no
 *  marker yet) and now says this host does; 0 when another host swept
 *  recently. claim and mark are orm_maintenance_sql_t's sweep_claim and
 *  sweep_mark, prepared. On error *errmsg holds the driver's message. */
apr_status_t orm_purge_claim(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                             apr_dbd_t *handle, apr_dbd_prepared_t *claim,
                             apr_dbd_prepared_t *mark, apr_int64_t now_ms,
                             apr_int64_t interval_ms, int *claimed,
                             const char **errmsg);

/** 64-bit key for an advisory lock on a table, the same in every process
 *  and on every host that uses the same table name. */
apr_int64_t orm_purge_lock_key(const char *table);

#endif
