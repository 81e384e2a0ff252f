/*
 * The store's upkeep operations on a connection mod_dbd opened outside a
 * request (the sweep's): whether the table is there, which database it is,
 * the farm's lock and turn to sweep, the purge and the count of the rows
 * left after it. The statements that run once per sweep on a pooled
 * connection are kept prepared under labels of the store's (the purge's
 * names its batch); the others run unprepared or prepared unnamed
 * (orm_db_select_row). Failures are handed back, not logged: the sweep
 * says what it was doing.
 */
#include <string.h>

#include "apr_strings.h"

#include "orm_db.h"
#include "orm_prepared.h"
#include "orm_purge.h"
#include "orm_store.h"

/** What an orm_conn_t of the upkeep operations holds. */
typedef struct {
    const orm_store_t *store;
    ap_dbd_t *dbd;
    const orm_sql_t *sql;                   /* for the probe */
    const orm_maintenance_sql_t *upkeep;
    int batch;
    const char *claim_label;
    const char *mark_label;
    const char *purge_label;
    const char *lock_key;                   /* of the lock held; NULL */
} upkeep_conn_t;

static int probe(apr_pool_t *pool, const upkeep_conn_t *up)
{
    const char **values = NULL;

    return orm_db_select_row(pool, up->dbd->driver, up->dbd->handle,
                             up->sql->probe, 0, NULL, 0, &values) == 0;
}

/* The driver's check, which reconnects a dropped connection where it can
 * (pgsql): true when the connection is alive after it. */
static int driver_holds_alive(apr_pool_t *pool, const upkeep_conn_t *up)
{
    return apr_dbd_check_conn(up->dbd->driver, pool, up->dbd->handle)
           == APR_SUCCESS;
}

/* A connection left idle while the database restarted is seen dead only
 * by its first statement (mod_dbd's check and libpq see it alive until
 * then): the driver's check then reconnects it, and the table is looked
 * for again before it counts as missing. */
static int upkeep_table_exists(orm_conn_t *conn, apr_pool_t *pool)
{
    const upkeep_conn_t *up = conn->impl;

    return probe(pool, up)
           || (driver_holds_alive(pool, up) && probe(pool, up));
}

/* The database's answer after the driver's name: one database reached
 * through two drivers (sqlite3 and odbc) counts as two. */
static apr_status_t upkeep_identity(orm_conn_t *conn, apr_pool_t *pool,
                                    const char **name)
{
    const upkeep_conn_t *up = conn->impl;
    const char **values = NULL;

    if (up->upkeep->identity == NULL) {
        return APR_ENOTIMPL;
    }
    if (orm_db_select_row(pool, up->dbd->driver, up->dbd->handle,
                          up->upkeep->identity, 0, NULL, 1, &values)) {
        return APR_EGENERAL;
    }
    if (values == NULL || values[0] == NULL) {
        *name = NULL;
    }
    else {
        *name = apr_pstrcat(pool, orm_db_driver_name(up->dbd->driver), ":",
                            values[0], NULL);
    }
    return APR_SUCCESS;
}

/* The key is a number of ours, the same on every host for the table. */
static apr_status_t upkeep_lock_sweep(orm_conn_t *conn, apr_pool_t *pool,
                                      int *held)
{
    upkeep_conn_t *up = conn->impl;
    const char **got = NULL;
    const char *key;

    if (up->upkeep->try_lock == NULL) {
        return APR_SUCCESS;
    }
    key = orm_db_int64_text(pool, orm_purge_lock_key(up->store->table));
    if (orm_db_select_row(pool, up->dbd->driver, up->dbd->handle,
                          up->upkeep->try_lock, 1, &key, 1, &got)
        || got == NULL || got[0] == NULL || strcmp(got[0], "1")) {
        return APR_EBUSY;
    }
    up->lock_key = key;
    *held = 1;
    return APR_SUCCESS;
}

static void upkeep_unlock_sweep(orm_conn_t *conn, apr_pool_t *pool)
{
    upkeep_conn_t *up = conn->impl;
    const char **ignored;

    if (up->lock_key) {
        orm_db_select_row(pool, up->dbd->driver, up->dbd->handle,
                          up->upkeep->unlock, 1, &up->lock_key, 1,
                          &ignored);
        up->lock_key = NULL;
    }
}

/* Tried twice: the second time with the statements prepared anew (a
 * schema change, a reconnected connection), released first: on a
 * connection that stayed open PostgreSQL still holds their names. */
static apr_status_t upkeep_claim_sweep(orm_conn_t *conn, apr_pool_t *pool,
                                       apr_int64_t now_ms,
                                       apr_int64_t interval_ms, int *claimed,
                                       const char **errmsg)
{
    const upkeep_conn_t *up = conn->impl;
    ap_dbd_t *dbd = up->dbd;
    apr_dbd_prepared_t *claim = NULL, *mark = NULL;
    int attempt;

    if (up->upkeep->sweep_claim == NULL) {
        *claimed = 1;           /* a format without a turn: every host */
        *errmsg = NULL;
        return APR_SUCCESS;
    }
    for (attempt = 0; attempt < 2; attempt++) {
        *errmsg = NULL;
        if (orm_prepared_once(dbd, up->claim_label, up->upkeep->sweep_claim,
                              &claim, errmsg) == APR_SUCCESS
            && orm_prepared_once(dbd, up->mark_label, up->upkeep->sweep_mark,
                                 &mark, errmsg) == APR_SUCCESS
            && orm_purge_claim(pool, dbd->driver, dbd->handle, claim, mark,
                               now_ms, interval_ms, claimed, errmsg)
               == APR_SUCCESS) {
            return APR_SUCCESS;
        }
        *errmsg = apr_pstrdup(pool, *errmsg);
        orm_prepared_release(pool, dbd, up->claim_label);
        orm_prepared_release(pool, dbd, up->mark_label);
    }
    return APR_EGENERAL;
}

/* Tried once more with the statement prepared anew, unless the sweep is
 * stopping: SQLite's driver never re-prepares one after a schema change,
 * and a reconnected PostgreSQL connection has lost it. Released first: on
 * a connection that stayed open PostgreSQL still holds its name. */
static apr_status_t upkeep_purge(orm_conn_t *conn, apr_pool_t *pool,
                                 apr_int64_t now_ms,
                                 const orm_purge_plan_t *plan,
                                 orm_purge_result_t *result)
{
    const upkeep_conn_t *up = conn->impl;
    const char *errmsg = NULL;
    orm_purge_t purge;
    apr_status_t rv = APR_EGENERAL;
    int attempt;

    memset(&purge, 0, sizeof(purge));
    purge.driver = up->dbd->driver;
    purge.handle = up->dbd->handle;
    purge.batch = up->batch;
    purge.pause = plan->pause;
    purge.progress = plan->progress;
    purge.baton = plan->baton;
    for (attempt = 0; attempt < 2; attempt++) {
        apr_int64_t removed = 0;

        rv = orm_prepared_once(up->dbd, up->purge_label, up->upkeep->sweep,
                               &purge.stmt, &errmsg);
        if (rv == APR_SUCCESS) {
            result->prepared = 1;
            rv = orm_purge_run(pool, &purge, now_ms, &removed, &errmsg);
            result->removed += removed;
        }
        if (rv == APR_SUCCESS
            || (plan->stopping && plan->stopping(plan->baton))) {
            break;
        }
        errmsg = apr_pstrdup(pool, errmsg);
        orm_prepared_release(pool, up->dbd, up->purge_label);
    }
    result->errmsg = rv == APR_SUCCESS ? NULL : errmsg;
    return rv;
}

/* The rows after a sweep, for the status: counted once per sweep, not per
 * page. Only the count is read. */
static apr_status_t upkeep_totals(orm_conn_t *conn, apr_pool_t *pool,
                                  orm_store_totals_t *totals,
                                  const char **errmsg)
{
    const upkeep_conn_t *up = conn->impl;
    const char **values = NULL;
    int err = orm_db_select_row(pool, up->dbd->driver, up->dbd->handle,
                                up->upkeep->totals, 0, NULL, 3, &values);

    memset(totals, 0, sizeof(*totals));
    if (err) {
        *errmsg = apr_pstrdup(pool, orm_db_error(up->dbd->driver,
                                                 up->dbd->handle, err));
        return APR_EGENERAL;
    }
    if (values && !orm_db_int64_parse(values[0], &totals->rows)) {
        totals->rows = 0;
    }
    return APR_SUCCESS;
}

static const orm_store_ops_t upkeep_ops = {
    .table_exists = upkeep_table_exists,
    .identity = upkeep_identity,
    .lock_sweep = upkeep_lock_sweep,
    .unlock_sweep = upkeep_unlock_sweep,
    .claim_sweep = upkeep_claim_sweep,
    .purge = upkeep_purge,
    .totals = upkeep_totals
};

int orm_store_attached_alive(orm_conn_t *conn, apr_pool_t *pool)
{
    return driver_holds_alive(pool, conn->impl);
}

void orm_store_attach(const orm_store_t *store, ap_dbd_t *dbd, int batch,
                      apr_pool_t *pool, orm_conn_t *conn)
{
    upkeep_conn_t *up = apr_pcalloc(pool, sizeof(*up));
    int asked;
    orm_dialect_e dialect = orm_store_statements_dialect(
        store, orm_store_database_dialect(pool, store, dbd, &asked));

    up->store = store;
    up->dbd = dbd;
    up->sql = store->sql[dialect];
    up->upkeep = orm_maintenance_sql_build(pool, store->schema, dialect,
                                           batch);
    up->batch = batch;
    /* each filed with its statement (orm_prepared.h): pool is enough */
    up->claim_label = apr_pstrcat(pool, store->conn_key, "_claim", NULL);
    up->mark_label = apr_pstrcat(pool, store->conn_key, "_mark", NULL);
    up->purge_label = apr_psprintf(pool, "%s_sweep_%d", store->conn_key,
                                   batch);
    conn->ops = &upkeep_ops;
    conn->impl = up;
}
