#include <string.h>
#include <apr_strings.h>

#include "tests.h"
#include "test_db.h"

test_db_t *test_db_open(void)
{
    apr_pool_t *pool;
    test_db_t *db;
    apr_status_t rv;

    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
    db = apr_pcalloc(pool, sizeof(*db));
    db->pool = pool;
    db->dir = test_mkdtemp(pool);
    db->path = apr_pstrcat(pool, db->dir, "/sessions.db", NULL);
    ck_assert_int_eq(apr_dbd_init(pool), APR_SUCCESS);
    rv = apr_dbd_get_driver(pool, "sqlite3", &db->driver);
    ck_assert_msg(rv == APR_SUCCESS, "apr_dbd has no sqlite3 driver (%d); "
                  "install libaprutil1-dbd-sqlite3", rv);
    rv = apr_dbd_open(db->driver, pool, db->path, &db->handle);
    ck_assert_msg(rv == APR_SUCCESS, "cannot open %s", db->path);
    return db;
}

void test_db_close(test_db_t *db)
{
    if (db == NULL) {
        return;
    }
    if (db->handle) {
        apr_dbd_close(db->driver, db->handle);
        db->handle = NULL;
    }
    ck_assert_int_eq(test_rmtree(db->dir), 0);
    apr_pool_destroy(db->pool);
}

int test_db_try_exec(test_db_t *db, const char *sql, int *nrows)
{
    *nrows = 0;
    return apr_dbd_query(db->driver, db->handle, nrows, sql);
}

int test_db_exec(test_db_t *db, const char *sql)
{
    int nrows = 0;
    int err = test_db_try_exec(db, sql, &nrows);

    ck_assert_msg(err == 0, "%s: %s", sql,
                  apr_dbd_error(db->driver, db->handle, err));
    return nrows;
}

apr_int64_t test_db_int(test_db_t *db, const char *sql)
{
    apr_pool_t *pool;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_int64_t value = -1;
    int err;

    apr_pool_create(&pool, db->pool);
    err = apr_dbd_select(db->driver, pool, db->handle, &res, sql, 1);
    ck_assert_msg(err == 0, "%s: %s", sql,
                  apr_dbd_error(db->driver, db->handle, err));
    if (apr_dbd_get_row(db->driver, pool, res, &row, 1) == 0) {
        const char *v = apr_dbd_get_entry(db->driver, row, 0);
        value = v ? apr_atoi64(v) : 0;
    }
    apr_pool_destroy(pool);
    return value;
}

apr_dbd_prepared_t *test_db_prepare(test_db_t *db, const char *sql)
{
    apr_dbd_prepared_t *stmt = NULL;
    int err = apr_dbd_prepare(db->driver, db->pool, db->handle, sql, NULL,
                              &stmt);

    ck_assert_msg(err == 0, "preparing %s: %s", sql,
                  apr_dbd_error(db->driver, db->handle, err));
    ck_assert_ptr_nonnull(stmt);
    return stmt;
}

int test_db_pquery(test_db_t *db, apr_dbd_prepared_t *stmt, int nargs,
                   const char **args)
{
    int nrows = 0;
    int err = apr_dbd_pquery(db->driver, db->pool, db->handle, &nrows, stmt,
                             nargs, args);

    ck_assert_msg(err == 0, "statement failed: %s",
                  apr_dbd_error(db->driver, db->handle, err));
    return nrows;
}

apr_array_header_t *test_db_pselect(test_db_t *db, apr_dbd_prepared_t *stmt,
                                    int nargs, const char **args)
{
    apr_array_header_t *rows = apr_array_make(db->pool, 4,
                                              sizeof(const char **));
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int err, ncols, i, n;

    err = apr_dbd_pselect(db->driver, db->pool, db->handle, &res, stmt, 1,
                          nargs, args);
    ck_assert_msg(err == 0, "select failed: %s",
                  apr_dbd_error(db->driver, db->handle, err));
    ncols = apr_dbd_num_cols(db->driver, res);
    for (n = 1; apr_dbd_get_row(db->driver, db->pool, res, &row, n) == 0;
         n++) {
        const char **values = apr_pcalloc(db->pool,
                                          (ncols + 1) * sizeof(*values));
        for (i = 0; i < ncols; i++) {
            const char *v = apr_dbd_get_entry(db->driver, row, i);
            values[i] = v ? apr_pstrdup(db->pool, v) : NULL;
        }
        APR_ARRAY_PUSH(rows, const char **) = values;
    }
    return rows;
}
