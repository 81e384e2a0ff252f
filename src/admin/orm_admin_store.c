#include <apr_strings.h>

#include "orm_admin_store.h"
#include "orm_db.h"

/** What an orm_conn_t of the tool holds. */
typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    const orm_maintenance_sql_t *sql;
    const char *table;
    int batch;
} tool_conn_t;

/* The driver's message for the failure err, kept: the caller reports it
 * after further calls. */
static apr_status_t failed(const tool_conn_t *tool, apr_pool_t *pool,
                           int err, const char **errmsg)
{
    *errmsg = apr_pstrdup(pool, orm_db_error(tool->driver, tool->handle,
                                             err));
    return APR_EGENERAL;
}

/* One row of a select, as the table means its values (orm_db_value). */
static apr_status_t select_row(const tool_conn_t *tool, apr_pool_t *pool,
                               const char *sql, const char *arg, int ncols,
                               const char ***values, const char **errmsg)
{
    int err = orm_db_select_row(pool, tool->driver, tool->handle, sql,
                                arg != NULL, &arg, ncols, values);
    int i;

    if (err) {
        return failed(tool, pool, err, errmsg);
    }
    for (i = 0; *values && i < ncols; i++) {
        (*values)[i] = orm_db_value((*values)[i]);
    }
    return APR_SUCCESS;
}

static apr_int64_t count_of(const char **values)
{
    return values && values[0] ? apr_atoi64(values[0]) : 0;
}

static apr_status_t tool_purge(orm_conn_t *conn, apr_pool_t *pool,
                               apr_int64_t now_ms,
                               const orm_purge_plan_t *plan,
                               orm_purge_result_t *result)
{
    const tool_conn_t *tool = conn->impl;
    orm_purge_t purge;
    int err;

    purge.driver = tool->driver;
    purge.handle = tool->handle;
    purge.stmt = NULL;
    purge.batch = tool->batch;
    purge.pause = plan->pause;
    purge.progress = plan->progress;
    purge.baton = plan->baton;
    err = apr_dbd_prepare(tool->driver, pool, tool->handle, tool->sql->sweep,
                          NULL, &purge.stmt);
    if (err) {
        return failed(tool, pool, err, &result->errmsg);
    }
    result->prepared = 1;
    return orm_purge_run(pool, &purge, now_ms, &result->removed,
                         &result->errmsg);
}

static apr_status_t tool_count_expired(orm_conn_t *conn, apr_pool_t *pool,
                                       apr_int64_t now_ms, apr_int64_t *count,
                                       const char **errmsg)
{
    const tool_conn_t *tool = conn->impl;
    const char **values;
    apr_status_t rv;

    rv = select_row(tool, pool, tool->sql->count_expired,
                    orm_db_int64_text(pool, now_ms), 1, &values, errmsg);
    if (rv == APR_SUCCESS) {
        *count = count_of(values);
    }
    return rv;
}

static apr_status_t tool_totals(orm_conn_t *conn, apr_pool_t *pool,
                                orm_store_totals_t *totals,
                                const char **errmsg)
{
    const tool_conn_t *tool = conn->impl;
    const char **values;
    apr_status_t rv;

    /* count, oldest and newest expiry (NULL: no rows) */
    rv = select_row(tool, pool, tool->sql->totals, NULL, 3, &values, errmsg);
    if (rv == APR_SUCCESS) {
        totals->rows = count_of(values);
        totals->oldest_expiry_ms = values ? values[1] : NULL;
        totals->newest_expiry_ms = values ? values[2] : NULL;
    }
    return rv;
}

static apr_status_t tool_table_size(orm_conn_t *conn, apr_pool_t *pool,
                                    const char **bytes, const char **errmsg)
{
    const tool_conn_t *tool = conn->impl;
    const char **values;
    apr_status_t rv;

    if (tool->sql->table_size == NULL) {
        return APR_ENOTIMPL;
    }
    rv = select_row(tool, pool, tool->sql->table_size, tool->table, 1,
                    &values, errmsg);
    if (rv == APR_SUCCESS) {
        *bytes = values ? values[0] : NULL;
    }
    return rv;
}

static apr_status_t tool_revoke(orm_conn_t *conn, apr_pool_t *pool,
                                const char *user_name, int *revoked,
                                const char **errmsg)
{
    const tool_conn_t *tool = conn->impl;
    apr_dbd_prepared_t *stmt = NULL;
    int err;

    if (user_name && tool->sql->revoke_user == NULL) {
        *errmsg = "the express format keeps no owner: revoke every session "
                  "(--all) or delete its row by id";
        return APR_ENOTIMPL;
    }
    err = apr_dbd_prepare(tool->driver, pool, tool->handle,
                          user_name ? tool->sql->revoke_user
                                    : tool->sql->revoke_all, NULL, &stmt);
    if (!err && user_name) {
        err = orm_db_pquery(pool, tool->driver, tool->handle, revoked, stmt,
                            1, &user_name);
    }
    else if (!err) {
        err = orm_db_pquery(pool, tool->driver, tool->handle, revoked, stmt,
                            0, NULL);
    }
    return err ? failed(tool, pool, err, errmsg) : APR_SUCCESS;
}

static const orm_store_ops_t tool_ops = {
    .purge = tool_purge,
    .count_expired = tool_count_expired,
    .totals = tool_totals,
    .table_size = tool_table_size,
    .revoke = tool_revoke
};

void orm_admin_store_open(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                          apr_dbd_t *handle, const orm_schema_t *schema,
                          orm_dialect_e dialect, int batch, orm_conn_t *conn)
{
    tool_conn_t *tool = apr_pcalloc(pool, sizeof(*tool));

    tool->driver = driver;
    tool->handle = handle;
    tool->sql = orm_maintenance_sql_build(pool, schema, dialect, batch);
    tool->table = orm_schema_table(schema);
    tool->batch = batch;
    conn->ops = &tool_ops;
    conn->impl = tool;
}
