/* A real SQLite database in a temporary directory, for the tests that run
 * generated SQL: reached through apr_dbd's sqlite3 driver, or through its
 * odbc driver and unixODBC with the SQLite ODBC driver (sqliteodbc), which
 * needs no server. A driver that is missing fails the test, naming the
 * package to install. */
#ifndef ORM_TEST_DB_H
#define ORM_TEST_DB_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_dbd.h>

typedef struct {
    apr_pool_t *pool;               /* owns everything below */
    const char *dir;                /* the temporary directory */
    const char *path;               /* the database file */
    const char *params;             /* what apr_dbd_open was given */
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
} test_db_t;

/* Opens a new, empty database in a new temporary directory. */
test_db_t *test_db_open(void);
/* The same through apr_dbd's odbc driver and the SQLite ODBC driver, its
 * library searched where distributions install it. */
test_db_t *test_db_open_odbc(void);
/* Closes the handle (finalizing its statements), removes the directory
 * and destroys the pool. NULL is fine. */
void test_db_close(test_db_t *db);

/* Runs one statement that returns no rows; fails the test on error.
 * Returns the rows changed. */
int test_db_exec(test_db_t *db, const char *sql);
/* Like test_db_exec, but returns the driver's error code (0: success). */
int test_db_try_exec(test_db_t *db, const char *sql, int *nrows);
/* The first column of the first row of a query as a number (-1: no row). */
apr_int64_t test_db_int(test_db_t *db, const char *sql);

/* Prepares sql (apr_dbd placeholders); fails the test on error. */
apr_dbd_prepared_t *test_db_prepare(test_db_t *db, const char *sql);
/* Runs a prepared statement with text arguments; fails the test on error;
 * returns the rows changed. */
int test_db_pquery(test_db_t *db, apr_dbd_prepared_t *stmt, int nargs,
                   const char **args);
/* Runs a prepared select with text arguments; fails the test on error.
 * Returns the rows, each an array of ncols strings (NULL for SQL NULL). */
apr_array_header_t *test_db_pselect(test_db_t *db, apr_dbd_prepared_t *stmt,
                                    int nargs, const char **args);

#endif
