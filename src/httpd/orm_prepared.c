#include "apr_strings.h"

#include "orm_db.h"
#include "orm_prepared.h"
#include "orm_sql.h"

apr_status_t orm_prepared_once(ap_dbd_t *dbd, const char *label,
                               const char *sql, apr_dbd_prepared_t **stmt,
                               const char **errmsg)
{
    apr_pool_t *stmt_pool;
    int err;

    *stmt = apr_hash_get(dbd->prepared, label, APR_HASH_KEY_STRING);
    if (*stmt) {
        return APR_SUCCESS;
    }
    /* a sub-pool: statements are finalized before the connection closes,
     * or when orm_prepared_release replaces them */
    if (apr_pool_create(&stmt_pool, dbd->pool) != APR_SUCCESS) {
        *errmsg = "out of memory";
        return APR_ENOMEM;
    }
    err = apr_dbd_prepare(dbd->driver, stmt_pool, dbd->handle, sql, label,
                          stmt);
    if (err) {
        *errmsg = orm_db_error(dbd->driver, dbd->handle, err);
        *stmt = NULL;
        apr_pool_destroy(stmt_pool);
        return APR_EGENERAL;
    }
    label = apr_pstrdup(stmt_pool, label);
    apr_hash_set(dbd->prepared, label, APR_HASH_KEY_STRING, *stmt);
    apr_pool_userdata_setn(stmt_pool, label, NULL, dbd->pool);
    return APR_SUCCESS;
}

apr_status_t orm_dbd_reopen(ap_dbd_t *dbd, const char *params,
                            const char **errmsg)
{
    apr_dbd_t *handle = NULL;
    const char *error = NULL;

    if (params == NULL) {
        *errmsg = "no DBDParams to connect with";
        return APR_ENOTIMPL;
    }
    /* in the connection's pool, which mod_dbd destroys with the
     * connection: the new handle is closed with it, as the old one was */
    if (apr_dbd_open_ex(dbd->driver, dbd->pool, params, &handle, &error)
        != APR_SUCCESS || handle == NULL) {
        *errmsg = error ? error : "the driver could not connect";
        return APR_EGENERAL;
    }
    apr_dbd_close(dbd->driver, dbd->handle);
    dbd->handle = handle;
    return APR_SUCCESS;
}

void orm_prepared_release(apr_pool_t *pool, ap_dbd_t *dbd, const char *label)
{
    /* the driver's dialect, not the database's: only apr_dbd_pgsql names
     * its statements on the server (through odbc the ODBC driver keeps
     * its own, freed with the statement's pool) */
    const char *release = orm_sql_release(
        pool, orm_dialect_for_driver(orm_db_driver_name(dbd->driver)), label);
    void *stmt_pool = NULL;
    int nrows = 0;

    /* both entries go before the pool that holds their key */
    apr_hash_set(dbd->prepared, label, APR_HASH_KEY_STRING, NULL);
    apr_pool_userdata_get(&stmt_pool, label, dbd->pool);
    if (stmt_pool) {
        apr_pool_userdata_setn(NULL, label, NULL, dbd->pool);
        apr_pool_destroy(stmt_pool);    /* closes the driver's handle */
    }
    if (release) {
        /* fails when a reconnection already dropped it: nothing to free */
        apr_dbd_query(dbd->driver, dbd->handle, &nrows, release);
    }
}
