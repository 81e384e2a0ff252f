#include <string.h>

#include "orm_db.h"
#include "orm_purge.h"
#include "orm_sha256.h"

static apr_status_t driver_failed(const apr_dbd_driver_t *driver,
                                  apr_dbd_t *handle, int err,
                                  const char **errmsg)
{
    *errmsg = orm_db_error(driver, handle, err);
    return APR_EGENERAL;
}

apr_status_t orm_purge_run(apr_pool_t *pool, const orm_purge_t *sweep,
                           apr_int64_t now_ms, apr_int64_t *removed,
                           const char **errmsg)
{
    const char *now = orm_db_int64_text(pool, now_ms);
    apr_pool_t *batch_pool;
    int err = 0;

    *removed = 0;
    *errmsg = NULL;
    if (apr_pool_create(&batch_pool, pool) != APR_SUCCESS) {
        *errmsg = "out of memory";
        return APR_ENOMEM;
    }
    while (!err) {
        int nrows = 0;

        apr_pool_clear(batch_pool);     /* a million rows, a thousand batches */
        err = orm_db_pquery(batch_pool, sweep->driver, sweep->handle,
                            &nrows, sweep->stmt, 1, &now);
        if (err) {
            break;
        }
        *removed += nrows;
        if (nrows < sweep->batch) {
            return APR_SUCCESS;     /* nothing expired is left */
        }
        if (sweep->progress && !sweep->progress(sweep->baton, *removed)) {
            return APR_SUCCESS;
        }
        if (sweep->pause > 0) {
            apr_sleep(sweep->pause);
        }
    }
    return driver_failed(sweep->driver, sweep->handle, err, errmsg);
}

apr_status_t orm_purge_claim(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                             apr_dbd_t *handle, apr_dbd_prepared_t *claim,
                             apr_dbd_prepared_t *mark, apr_int64_t now_ms,
                             apr_int64_t interval_ms, int *claimed,
                             const char **errmsg)
{
    const char *now = orm_db_int64_text(pool, now_ms);
    const char *due = orm_db_int64_text(pool, now_ms - interval_ms);
    const char *claim_args[3], *mark_args[4];
    int nrows = 0, err;

    *claimed = 0;
    *errmsg = NULL;
    /* one statement decides: the row lock makes a second host wait and
     * then find the time it just wrote */
    claim_args[0] = now;
    claim_args[1] = ORM_SWEEP_MARKER_ID;
    claim_args[2] = due;
    err = orm_db_pquery(pool, driver, handle, &nrows, claim, 3, claim_args);
    if (err) {
        return driver_failed(driver, handle, err, errmsg);
    }
    if (nrows == 0) {
        /* not due, or no marker yet: the first sweep of this table creates
         * it; of two hosts creating it at once one fails on the key */
        mark_args[0] = ORM_SWEEP_MARKER_ID;
        mark_args[1] = now;
        mark_args[2] = now;
        mark_args[3] = ORM_SWEEP_MARKER_ID;
        err = orm_db_pquery(pool, driver, handle, &nrows, mark, 4, mark_args);
    }
    *claimed = !err && nrows > 0;
    return APR_SUCCESS;
}

apr_int64_t orm_purge_lock_key(const char *table)
{
    static const char prefix[] = "mod_session_orm sweep:";
    unsigned char digest[ORM_SHA256_DIGEST_LEN];
    orm_sha256_ctx ctx;
    apr_uint64_t key = 0;
    int i;

    orm_sha256_init(&ctx);
    orm_sha256_update(&ctx, prefix, sizeof(prefix) - 1);
    orm_sha256_update(&ctx, table, strlen(table));
    orm_sha256_final(&ctx, digest);
    for (i = 0; i < 8; i++) {
        key = (key << 8) | digest[i];
    }
    return (apr_int64_t)key;
}
