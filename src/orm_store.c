#include <errno.h>

#include "apr_strings.h"
#include "apr_optional.h"
#include "apr_dbd.h"
#include "httpd.h"
#include "http_log.h"

#include "orm_log.h"
#include "orm_store.h"

/* Rows are named in logs by the first characters of their id (a digest,
 * never a token). */
#define ID_PREFIX_LEN 12

static const char *const stmt_names[ORM_STMT_COUNT] = {
    "load", "upsert", "update", "insert", "remove"
};

static const char *stmt_text(const orm_sql_t *sql, orm_stmt_e which)
{
    switch (which) {
    case ORM_STMT_LOAD:   return sql->load;
    case ORM_STMT_UPSERT: return sql->upsert;
    case ORM_STMT_UPDATE: return sql->update;
    case ORM_STMT_INSERT: return sql->insert;
    case ORM_STMT_REMOVE: return sql->remove;
    default:              return NULL;
    }
}

orm_store_t *orm_store_create(apr_pool_t *pool, const orm_server_conf_t *conf,
                              int seq)
{
    orm_store_t *store = apr_pcalloc(pool, sizeof(*store));
    int portable = orm_server_portable_sql(conf);
    int i;

    store->table = orm_schema_table(&conf->schema);
    store->create_schema = orm_server_create_schema(conf);
    store->sweep_seconds = orm_server_sweep_seconds(conf);
    store->sweep_batch = orm_server_sweep_batch(conf);
    for (i = 0; i < ORM_DIALECT_COUNT; i++) {
        store->sql[i] = orm_sql_build(pool, &conf->schema, i, portable);
        store->admin[i] = orm_admin_sql_build(pool, &conf->schema, i,
                                              store->sweep_batch);
    }
    /* labels double as PostgreSQL statement names: plain identifiers */
    for (i = 0; i < ORM_STMT_COUNT; i++) {
        store->labels[i] = apr_psprintf(pool, "session_orm_%d_%s", seq,
                                        stmt_names[i]);
    }
    store->sweep_label = apr_psprintf(pool, "session_orm_%d_sweep", seq);
    return store;
}

static const char *dbd_error_text(const ap_dbd_t *dbd, int err)
{
    const char *text = apr_dbd_error(dbd->driver, dbd->handle, err);
    return text ? text : "(no message from the driver)";
}

/* Runs the probe; sequential results are read to the end so the connection
 * can run the next statement (MySQL, PostgreSQL). */
static int table_exists(apr_pool_t *pool, const ap_dbd_t *dbd,
                        const orm_sql_t *sql, int *err)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;

    /* random access: PostgreSQL's sequential mode reports errors only
     * when rows are fetched, and the probe is all about the error */
    *err = apr_dbd_select(dbd->driver, pool, dbd->handle, &res, sql->probe, 1);
    if (*err) {
        return 0;
    }
    while (apr_dbd_get_row(dbd->driver, pool, res, &row, -1) == 0) {
        continue;
    }
    return 1;
}

static apr_status_t ensure_table(request_rec *r, const orm_store_t *store,
                                 const orm_conn_t *conn)
{
    const ap_dbd_t *dbd = conn->dbd;
    int err, i;

    if (table_exists(r->pool, dbd, conn->sql, &err)) {
        return APR_SUCCESS;
    }
    if (!store->create_schema) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ORM_LOGNO(0102)
                      "session table '%s' cannot be read (%s) and "
                      "SessionORMCreateSchema is Off: create it with the DDL "
                      "in the README's Schema section",
                      store->table, dbd_error_text(dbd, err));
        return APR_EGENERAL;
    }
    for (i = 0; i < conn->sql->ddl->nelts; i++) {
        const char *ddl = APR_ARRAY_IDX(conn->sql->ddl, i, const char *);
        int nrows = 0;

        err = apr_dbd_query(dbd->driver, dbd->handle, &nrows, ddl);
        if (err) {
            int probe_err;
            /* several children meeting an empty database race to create
             * it; PostgreSQL can fail the losers even with IF NOT EXISTS */
            if (table_exists(r->pool, dbd, conn->sql, &probe_err)) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ORM_LOGNO(0111)
                              "'%s' failed (%s) but table '%s' exists: "
                              "created concurrently", ddl,
                              dbd_error_text(dbd, err), store->table);
                continue;
            }
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ORM_LOGNO(0103)
                          "creating session table '%s' failed: %s (statement: "
                          "%s)", store->table, dbd_error_text(dbd, err), ddl);
            return APR_EGENERAL;
        }
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ORM_LOGNO(0104)
                  "created session table '%s' and its indexes (%s)",
                  store->table, orm_dialect_name(conn->sql->dialect));
    return APR_SUCCESS;
}

apr_status_t orm_store_prepare_once(ap_dbd_t *dbd, const char *label,
                                    const char *sql,
                                    apr_dbd_prepared_t **stmt,
                                    const char **errmsg)
{
    apr_pool_t *stmt_pool;
    int err;

    *stmt = apr_hash_get(dbd->prepared, label, APR_HASH_KEY_STRING);
    if (*stmt) {
        return APR_SUCCESS;
    }
    /* a sub-pool: statements are finalized before the connection closes */
    if (apr_pool_create(&stmt_pool, dbd->pool) != APR_SUCCESS) {
        *errmsg = "out of memory";
        return APR_ENOMEM;
    }
    err = apr_dbd_prepare(dbd->driver, stmt_pool, dbd->handle, sql, label,
                          stmt);
    if (err) {
        *errmsg = dbd_error_text(dbd, err);
        *stmt = NULL;
        apr_pool_destroy(stmt_pool);
        return APR_EGENERAL;
    }
    apr_hash_set(dbd->prepared, label, APR_HASH_KEY_STRING, *stmt);
    return APR_SUCCESS;
}

int orm_store_table_exists(apr_pool_t *pool, const ap_dbd_t *dbd,
                           const orm_store_t *store)
{
    int err;

    return table_exists(pool, dbd,
                        store->sql[orm_dialect_for_driver(
                                       apr_dbd_name(dbd->driver))], &err);
}

apr_status_t orm_store_connect(request_rec *r, const orm_store_t *store,
                               orm_conn_t *conn)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *acquire =
        APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    apr_status_t rv;
    int i;

    conn->dbd = acquire ? acquire(r) : NULL;
    if (conn->dbd == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ORM_LOGNO(0101)
                      "no database connection for session table '%s': "
                      "mod_dbd could not provide one (its own messages above "
                      "say why; check DBDriver and DBDParams)", store->table);
        return APR_EGENERAL;
    }
    conn->sql = store->sql[orm_dialect_for_driver(
                               apr_dbd_name(conn->dbd->driver))];
    /* a connection new to this store: the table first, then statements */
    if (apr_hash_get(conn->dbd->prepared, store->labels[ORM_STMT_LOAD],
                     APR_HASH_KEY_STRING) == NULL
        && (rv = ensure_table(r, store, conn)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < ORM_STMT_COUNT; i++) {
        const char *text = stmt_text(conn->sql, i);
        const char *errmsg = NULL;

        conn->stmt[i] = NULL;
        if (text == NULL) {
            continue;
        }
        rv = orm_store_prepare_once(conn->dbd, store->labels[i], text,
                                    &conn->stmt[i], &errmsg);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, ORM_LOGNO(0105)
                          "preparing the %s statement for session table "
                          "'%s' failed: %s (statement: %s)", stmt_names[i],
                          store->table, errmsg, text);
            return rv;
        }
    }
    return APR_SUCCESS;
}

static const char *int64_text(apr_pool_t *pool, apr_int64_t value)
{
    return apr_psprintf(pool, "%" APR_INT64_T_FMT, value);
}

/* Strict: a whole stored number, nothing else. */
static int parse_int64(const char *text, apr_int64_t *value)
{
    char *end = NULL;

    if (text == NULL || *text == '\0') {
        return 0;
    }
    errno = 0;
    *value = apr_strtoi64(text, &end, 10);
    return errno == 0 && end != NULL && *end == '\0';
}

apr_status_t orm_store_load(request_rec *r, orm_conn_t *conn, const char *id,
                            apr_int64_t now_ms, orm_row_t **row)
{
    const ap_dbd_t *dbd = conn->dbd;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *dbrow = NULL;
    int err;

    *row = NULL;
    err = apr_dbd_pvselect(dbd->driver, r->pool, dbd->handle, &res,
                           conn->stmt[ORM_STMT_LOAD], 1, id,
                           int64_text(r->pool, now_ms));
    if (err) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ORM_LOGNO(0106)
                      "loading session %.*s failed: %s", ID_PREFIX_LEN, id,
                      dbd_error_text(dbd, err));
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(dbd->driver, r->pool, res, &dbrow, -1) == 0) {
        orm_row_t *found;

        if (*row != NULL) {
            continue;           /* the primary key makes this unreachable */
        }
        found = apr_pcalloc(r->pool, sizeof(*found));
        found->data = apr_dbd_get_entry(dbd->driver, dbrow, 0);
        found->user_name = apr_dbd_get_entry(dbd->driver, dbrow, 3);
        if (found->data == NULL
            || !parse_int64(apr_dbd_get_entry(dbd->driver, dbrow, 1),
                            &found->expires_at_ms)
            || !parse_int64(apr_dbd_get_entry(dbd->driver, dbrow, 2),
                            &found->updated_at_ms)) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, ORM_LOGNO(0109)
                          "stored row of session %.*s is unreadable (missing "
                          "data or non-numeric times); treating the session "
                          "as absent", ID_PREFIX_LEN, id);
            continue;
        }
        *row = found;
    }
    return APR_SUCCESS;
}

static apr_status_t save_portable(request_rec *r, orm_conn_t *conn,
                                  const char *id, const orm_row_t *row,
                                  const char *created, const char *updated)
{
    const ap_dbd_t *dbd = conn->dbd;
    const char *expires = int64_text(r->pool, row->expires_at_ms);
    apr_dbd_transaction_t *txn = NULL;
    int err, nrows = 0;

    if ((err = apr_dbd_transaction_start(dbd->driver, r->pool, dbd->handle,
                                         &txn)) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ORM_LOGNO(0110)
                      "starting the transaction to save session %.*s "
                      "failed: %s", ID_PREFIX_LEN, id,
                      dbd_error_text(dbd, err));
        return APR_EGENERAL;
    }
    err = apr_dbd_pvquery(dbd->driver, r->pool, dbd->handle, &nrows,
                          conn->stmt[ORM_STMT_UPDATE], row->data, expires,
                          row->user_name, updated, id);
    if (!err && nrows == 0) {
        err = apr_dbd_pvquery(dbd->driver, r->pool, dbd->handle, &nrows,
                              conn->stmt[ORM_STMT_INSERT], id, row->data,
                              expires, row->user_name, created, updated);
    }
    if (err) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ORM_LOGNO(0107)
                      "saving session %.*s failed: %s", ID_PREFIX_LEN, id,
                      dbd_error_text(dbd, err));
    }
    /* an error inside marks the transaction, so this rolls it back */
    apr_dbd_transaction_end(dbd->driver, r->pool, txn);
    return err ? APR_EGENERAL : APR_SUCCESS;
}

apr_status_t orm_store_save(request_rec *r, orm_conn_t *conn, const char *id,
                            const orm_row_t *row, apr_int64_t created_at_ms)
{
    const ap_dbd_t *dbd = conn->dbd;
    const char *created = int64_text(r->pool, created_at_ms);
    const char *updated = int64_text(r->pool, row->updated_at_ms);
    int err, nrows = 0;

    if (conn->stmt[ORM_STMT_UPSERT] == NULL) {
        return save_portable(r, conn, id, row, created, updated);
    }
    err = apr_dbd_pvquery(dbd->driver, r->pool, dbd->handle, &nrows,
                          conn->stmt[ORM_STMT_UPSERT], id, row->data,
                          int64_text(r->pool, row->expires_at_ms),
                          row->user_name, created, updated);
    if (err) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ORM_LOGNO(0107)
                      "saving session %.*s failed: %s", ID_PREFIX_LEN, id,
                      dbd_error_text(dbd, err));
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t orm_store_remove(request_rec *r, orm_conn_t *conn,
                              const char *id)
{
    const ap_dbd_t *dbd = conn->dbd;
    int err, nrows = 0;

    err = apr_dbd_pvquery(dbd->driver, r->pool, dbd->handle, &nrows,
                          conn->stmt[ORM_STMT_REMOVE], id);
    if (err) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ORM_LOGNO(0108)
                      "deleting session %.*s failed: %s", ID_PREFIX_LEN, id,
                      dbd_error_text(dbd, err));
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}
