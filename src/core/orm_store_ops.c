#include "orm_store_ops.h"

/* Each entry point hands the call to the connection's implementation, or
 * answers APR_ENOTIMPL for what it does not offer. */
#define DISPATCH(op, ...) \
    (conn->ops->op ? conn->ops->op(conn, __VA_ARGS__) : APR_ENOTIMPL)

apr_status_t orm_store_load(orm_conn_t *conn, const char *id,
                            apr_int64_t now_ms, orm_row_t **row)
{
    *row = NULL;
    return DISPATCH(load, id, now_ms, row);
}

apr_status_t orm_store_save(orm_conn_t *conn, const char *id,
                            const orm_row_t *row, apr_int64_t created_at_ms)
{
    return DISPATCH(save, id, row, created_at_ms);
}

apr_status_t orm_store_insert(orm_conn_t *conn, const char *id,
                              const orm_row_t *row, apr_int64_t created_at_ms)
{
    if (conn->ops->insert == NULL) {
        return orm_store_save(conn, id, row, created_at_ms);
    }
    return DISPATCH(insert, id, row, created_at_ms);
}

apr_status_t orm_store_update_if(orm_conn_t *conn, const char *id,
                                 const orm_row_t *row, apr_int64_t version,
                                 int *matched)
{
    *matched = 0;
    return DISPATCH(update_if, id, row, version, matched);
}

apr_status_t orm_store_merge(orm_conn_t *conn, const char *id, orm_row_t *row,
                             apr_int64_t now_ms, orm_store_merge_fn *merge,
                             void *baton, int *found)
{
    *found = 0;
    return DISPATCH(merge, id, row, now_ms, merge, baton, found);
}

apr_status_t orm_store_remove(orm_conn_t *conn, const char *id)
{
    return DISPATCH(remove, id);
}

int orm_store_table_exists(orm_conn_t *conn, apr_pool_t *pool)
{
    return conn->ops->table_exists ? conn->ops->table_exists(conn, pool) : 0;
}

apr_status_t orm_store_identity(orm_conn_t *conn, apr_pool_t *pool,
                                const char **name)
{
    *name = NULL;
    return DISPATCH(identity, pool, name);
}

apr_status_t orm_store_lock_sweep(orm_conn_t *conn, apr_pool_t *pool,
                                  int *held)
{
    *held = 0;
    if (conn->ops->lock_sweep == NULL) {
        return APR_SUCCESS;     /* no such lock: nothing to take turns on */
    }
    return conn->ops->lock_sweep(conn, pool, held);
}

void orm_store_unlock_sweep(orm_conn_t *conn, apr_pool_t *pool)
{
    if (conn->ops->unlock_sweep) {
        conn->ops->unlock_sweep(conn, pool);
    }
}

apr_status_t orm_store_claim_sweep(orm_conn_t *conn, apr_pool_t *pool,
                                   apr_int64_t now_ms,
                                   apr_int64_t interval_ms, int *claimed,
                                   const char **errmsg)
{
    *claimed = 0;
    *errmsg = NULL;
    return DISPATCH(claim_sweep, pool, now_ms, interval_ms, claimed, errmsg);
}

apr_status_t orm_store_purge(orm_conn_t *conn, apr_pool_t *pool,
                             apr_int64_t now_ms, const orm_purge_plan_t *plan,
                             orm_purge_result_t *result)
{
    result->removed = 0;
    result->errmsg = NULL;
    result->prepared = 0;
    return DISPATCH(purge, pool, now_ms, plan, result);
}

apr_status_t orm_store_count_expired(orm_conn_t *conn, apr_pool_t *pool,
                                     apr_int64_t now_ms, apr_int64_t *count,
                                     const char **errmsg)
{
    *count = 0;
    *errmsg = NULL;
    return DISPATCH(count_expired, pool, now_ms, count, errmsg);
}

apr_status_t orm_store_totals(orm_conn_t *conn, apr_pool_t *pool,
                              orm_store_totals_t *totals, const char **errmsg)
{
    totals->rows = 0;
    totals->oldest_expiry_ms = totals->newest_expiry_ms = NULL;
    *errmsg = NULL;
    return DISPATCH(totals, pool, totals, errmsg);
}

apr_status_t orm_store_table_size(orm_conn_t *conn, apr_pool_t *pool,
                                  const char **bytes, const char **errmsg)
{
    *bytes = NULL;
    *errmsg = NULL;
    return DISPATCH(table_size, pool, bytes, errmsg);
}

apr_status_t orm_store_revoke(orm_conn_t *conn, apr_pool_t *pool,
                              const char *user_name, int *revoked,
                              const char **errmsg)
{
    *revoked = 0;
    *errmsg = NULL;
    return DISPATCH(revoke, pool, user_name, revoked, errmsg);
}
