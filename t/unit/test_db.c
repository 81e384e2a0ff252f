#include <dlfcn.h>
#include <glob.h>
#include <string.h>
#include <apr_strings.h>

#include "tests.h"
#include "test_db.h"

/* Where distributions install the SQLite ODBC driver (Debian and Ubuntu:
 * libsqliteodbc, in the multiarch directory's odbc/). */
static const char *const sqliteodbc_places[] = {
    "/usr/lib/*/odbc/libsqlite3odbc.so",
    "/usr/lib/odbc/libsqlite3odbc.so",
    "/usr/lib64/libsqlite3odbc.so",
    "/usr/local/lib/libsqlite3odbc.so",
    NULL
};

/* The SQLite ODBC driver's library, or NULL. */
static const char *sqliteodbc_library(apr_pool_t *pool)
{
    const char *const *place;
    const char *found = NULL;

    for (place = sqliteodbc_places; *place && !found; place++) {
        glob_t matches;

        if (glob(*place, 0, NULL, &matches) == 0 && matches.gl_pathc > 0) {
            found = apr_pstrdup(pool, matches.gl_pathv[0]);
        }
        globfree(&matches);
    }
    return found;
}

/* A new database file's place, in a new temporary directory. */
static test_db_t *db_create(void)
{
    apr_pool_t *pool;
    test_db_t *db;

    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
    db = apr_pcalloc(pool, sizeof(*db));
    db->pool = pool;
    db->dir = test_mkdtemp(pool);
    db->path = apr_pstrcat(pool, db->dir, "/sessions.db", NULL);
    ck_assert_int_eq(apr_dbd_init(pool), APR_SUCCESS);
    return db;
}

/* Opens db->params with apr_dbd's driver_name (from package). */
static void db_connect(test_db_t *db, const char *driver_name,
                       const char *package)
{
    const char *error = NULL;
    apr_status_t rv = apr_dbd_get_driver(db->pool, driver_name, &db->driver);

    ck_assert_msg(rv == APR_SUCCESS, "apr_dbd has no %s driver (%d); "
                  "install %s", driver_name, rv, package);
    rv = apr_dbd_open_ex(db->driver, db->pool, db->params, &db->handle,
                         &error);
    ck_assert_msg(rv == APR_SUCCESS, "cannot open %s: %s", db->params,
                  error ? error : "(no message)");
}

test_db_t *test_db_open(void)
{
    test_db_t *db = db_create();

    db->params = db->path;
    db_connect(db, "sqlite3", "libaprutil1-dbd-sqlite3");
    return db;
}

/* apr_dbd_odbc's ODBC environment is the process's: made once, never
 * freed (the driver's static henv), and the driver manager's and the ODBC
 * driver's state hang from it. apr_terminate unloads the driver's DSO when
 * the tests end, after which LeakSanitizer (t/sanitize) would find all of
 * that unreachable: the DSO stays loaded to the end. */
static void keep_loaded(const apr_dbd_driver_t *driver)
{
    Dl_info info;

    ck_assert_msg(dladdr(driver, &info) && info.dli_fname
                  && dlopen(info.dli_fname,
                            RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE),
                  "cannot keep the odbc driver's DSO loaded: %s", dlerror());
}

test_db_t *test_db_open_odbc(void)
{
    test_db_t *db = db_create();
    const char *library = sqliteodbc_library(db->pool);

    ck_assert_msg(library != NULL, "no SQLite ODBC driver (libsqlite3odbc.so "
                  "in /usr/lib/<multiarch>/odbc, /usr/lib/odbc, /usr/lib64 "
                  "or /usr/local/lib); install libsqliteodbc and unixodbc");
    /* quoted: the connection string has the separators '=' and ';' */
    db->params = apr_psprintf(db->pool, "CONNECT='DRIVER=%s;Database=%s'",
                              library, db->path);
    db_connect(db, "odbc", "libaprutil1-dbd-odbc and unixodbc");
    keep_loaded(db->driver);
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
