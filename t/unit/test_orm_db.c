/* The database helpers (orm_db) against a real SQLite database through
 * apr_dbd's sqlite3 driver: the driver's message or the fallback, values as
 * the table means them, numbers as statement text and back, one row read
 * from a select, prepared or not, a statement that matched nothing, and the
 * probes that tell databases apart. The odbc driver's own ways are in
 * test_orm_db_odbc.c. */
#include <string.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "tests.h"
#include "test_db.h"
#include "orm_db.h"

static test_db_t *db;

static void db_setup(void)
{
    db = test_db_open();
    test_db_exec(db, "CREATE TABLE t (id TEXT, n INTEGER, note TEXT)");
    test_db_exec(db, "INSERT INTO t VALUES ('a', 1, 'first'), "
                 "('b', 2, NULL), ('c', 3, '')");
}

static void db_teardown(void)
{
    test_db_close(db);
    db = NULL;
}

START_TEST(test_db_message_fallback)
{
    ck_assert_str_eq(orm_db_message("disk full"), "disk full");
    ck_assert_str_eq(orm_db_message(NULL), "(no message from the driver)");
}
END_TEST

START_TEST(test_db_error_is_the_drivers)
{
    int nrows = 0;
    int err = test_db_try_exec(db, "INSERT INTO nowhere VALUES (1)", &nrows);

    ck_assert_int_ne(err, 0);
    ck_assert_str_eq(orm_db_error(db->driver, db->handle, err),
                     apr_dbd_error(db->driver, db->handle, err));
    ck_assert_ptr_nonnull(strstr(orm_db_error(db->driver, db->handle, err),
                                 "nowhere"));
}
END_TEST

START_TEST(test_db_value_null_and_empty)
{
    /* PostgreSQL's driver reads NULL as "": both are no value */
    ck_assert_ptr_null(orm_db_value(NULL));
    ck_assert_ptr_null(orm_db_value(""));
    ck_assert_str_eq(orm_db_value("x"), "x");
    ck_assert_str_eq(orm_db_value(" "), " ");
}
END_TEST

START_TEST(test_db_int64_both_ways)
{
    static const struct {
        const char *text;
        int ok;
        apr_int64_t value;
    } cases[] = {
        { "0", 1, 0 },
        { "1700000000123", 1, APR_INT64_C(1700000000123) },
        { "-5", 1, -5 },
        { "9223372036854775807", 1, APR_INT64_C(9223372036854775807) },
        { "9223372036854775808", 0, 0 },        /* out of range */
        { "", 0, 0 },
        { NULL, 0, 0 },
        { "12a", 0, 0 },
        { "1.5", 0, 0 },
        { "7 ", 0, 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        apr_int64_t value = -1;
        int ok = orm_db_int64_parse(cases[i].text, &value);

        ck_assert_msg(ok == cases[i].ok, "'%s': %d", cases[i].text, ok);
        if (ok) {
            ck_assert_int_eq(value, cases[i].value);
            /* and back: the text a statement gets */
            ck_assert_int_eq(apr_atoi64(orm_db_int64_text(test_pool, value)),
                             value);
        }
    }
    ck_assert_str_eq(orm_db_int64_text(test_pool, APR_INT64_C(-42)), "-42");
    ck_assert_str_eq(orm_db_int64_text(test_pool,
                                       APR_INT64_C(1700000000123)),
                     "1700000000123");
}
END_TEST

START_TEST(test_db_now_is_the_clock_in_ms)
{
    apr_int64_t before = apr_time_as_msec(apr_time_now());
    apr_int64_t now = orm_now_ms();
    apr_int64_t after = apr_time_as_msec(apr_time_now());

    ck_assert(before <= now && now <= after);
}
END_TEST

/* One select through orm_db_select_row: values as the driver gave them. */
static const char **row_of(const char *sql, int nargs, const char **args,
                           int ncols, int *err)
{
    const char *untouched[1] = { "untouched" };
    const char **values = untouched;

    *err = orm_db_select_row(test_pool, db->driver, db->handle, sql, nargs,
                             args, ncols, &values);
    ck_assert_ptr_ne(values, untouched);    /* always answered */
    return values;
}

START_TEST(test_db_select_row_unprepared)
{
    int err = -1;
    const char **values = row_of("SELECT id, n, note FROM t ORDER BY id", 0,
                                 NULL, 3, &err);

    ck_assert_int_eq(err, 0);
    ck_assert_ptr_nonnull(values);
    ck_assert_str_eq(values[0], "a");       /* the first row only */
    ck_assert_str_eq(values[1], "1");
    ck_assert_str_eq(values[2], "first");
}
END_TEST

START_TEST(test_db_select_row_with_arguments)
{
    const char *args[2];
    const char **values;
    int err = -1;

    args[0] = "b";
    values = row_of("SELECT id, n, note FROM t WHERE id = %s", 1, args, 3,
                    &err);
    ck_assert_int_eq(err, 0);
    ck_assert_ptr_nonnull(values);
    ck_assert_str_eq(values[0], "b");
    ck_assert_str_eq(values[1], "2");
    ck_assert_ptr_null(values[2]);          /* NULL stays NULL */

    args[0] = "c";
    args[1] = "3";
    values = row_of("SELECT note, n FROM t WHERE id = %s AND n = %lld", 2,
                    args, 2, &err);
    ck_assert_int_eq(err, 0);
    ck_assert_ptr_nonnull(values);
    ck_assert_str_eq(values[0], "");        /* "" stays "": the caller asks
                                             * orm_db_value */
    ck_assert_str_eq(values[1], "3");
}
END_TEST

START_TEST(test_db_select_row_no_row)
{
    const char *arg = "zz";
    int err = -1;

    ck_assert_ptr_null(row_of("SELECT id FROM t WHERE id = %s", 1, &arg, 1,
                              &err));
    ck_assert_int_eq(err, 0);
    ck_assert_ptr_null(row_of("SELECT id FROM t WHERE n > 10", 0, NULL, 1,
                              &err));
    ck_assert_int_eq(err, 0);
}
END_TEST

START_TEST(test_db_select_row_failure)
{
    const char *arg = "a";
    int err = 0;

    /* unprepared, and failing to prepare: the driver's code, no values */
    ck_assert_ptr_null(row_of("SELECT id FROM nowhere", 0, NULL, 1, &err));
    ck_assert_int_ne(err, 0);
    ck_assert_ptr_nonnull(strstr(orm_db_error(db->driver, db->handle, err),
                                 "nowhere"));
    err = 0;
    ck_assert_ptr_null(row_of("SELECT id FROM nowhere WHERE id = %s", 1, &arg,
                              1, &err));
    ck_assert_int_ne(err, 0);
}
END_TEST

START_TEST(test_db_first_row_copies)
{
    apr_dbd_results_t *res = NULL;
    const char **values = NULL;
    apr_pool_t *scratch;

    /* the values outlive the pool the result was read in */
    apr_pool_create(&scratch, test_pool);
    ck_assert_int_eq(apr_dbd_select(db->driver, scratch, db->handle, &res,
                                    "SELECT id, note FROM t WHERE n = 1", 1),
                     0);
    ck_assert_int_eq(orm_db_first_row(test_pool, db->driver, db->handle, res,
                                      2, &values, NULL), 0);
    apr_pool_destroy(scratch);
    ck_assert_ptr_nonnull(values);
    ck_assert_str_eq(values[0], "a");
    ck_assert_str_eq(values[1], "first");

    /* past the last row: none */
    ck_assert_int_eq(apr_dbd_select(db->driver, test_pool, db->handle, &res,
                                    "SELECT id FROM t WHERE n = 0", 1), 0);
    ck_assert_int_eq(orm_db_first_row(test_pool, db->driver, db->handle, res,
                                      1, &values, NULL), 0);
    ck_assert_ptr_null(values);
}
END_TEST

/* The first row of sql by orm_db_first_row_sized, its first column the
 * text one; fails the test on error. */
static const char **sized_row(const char *sql, int ncols)
{
    apr_dbd_results_t *res = NULL;
    const char **values = NULL;

    ck_assert_int_eq(apr_dbd_select(db->driver, test_pool, db->handle, &res,
                                    sql, 1), 0);
    ck_assert_int_eq(orm_db_first_row_sized(test_pool, db->driver,
                                            db->handle, res, ncols, 0,
                                            apr_bucket_alloc_create(test_pool),
                                            &values, NULL), 0);
    ck_assert_ptr_nonnull(values);
    return values;
}

/* orm_db_first_row_sized, on SQLite's driver (the one it is for,
 * apr_dbd_mysql, needs a server: t/e2e's test_large_session_never_truncated
 * reads values past its buffer there). */
START_TEST(test_db_first_row_sized)
{
    const char **values;

    /* SQLite text can hold a NUL byte: its size is for the server to tell */
    ck_assert_int_eq(orm_db_text_size(db->driver), ORM_TEXT_SIZE_ASKED);
    /* the text column's stored size after the columns asked for */
    values = sized_row("SELECT note, id FROM t WHERE n = 1", 2);
    ck_assert_str_eq(values[0], "first");
    ck_assert_str_eq(values[1], "a");
    ck_assert_str_eq(values[2], "5");

    /* a stored NUL byte: the text ends there, the size says it is short */
    values = sized_row("SELECT CAST(X'61620063' AS TEXT)", 1);
    ck_assert_str_eq(values[0], "ab");
    ck_assert_str_eq(values[1], "4");

    /* NULL: no value, no size */
    values = sized_row("SELECT NULL", 1);
    ck_assert_ptr_null(values[0]);
    ck_assert_str_eq(values[1], "0");
}
END_TEST

START_TEST(test_db_pquery_no_match)
{
    apr_dbd_prepared_t *remove = test_db_prepare(db,
        "DELETE FROM t WHERE id = %s");
    const char *nobody = "zz", *a = "a";
    int nrows = 42;

    /* as through odbc (test_orm_db_odbc.c): nothing matched is no error */
    ck_assert_int_eq(orm_db_pquery(test_pool, db->driver, db->handle, &nrows,
                                   remove, 1, &nobody), 0);
    ck_assert_int_eq(nrows, 0);
    ck_assert_int_eq(orm_db_pquery(test_pool, db->driver, db->handle, &nrows,
                                   remove, 1, &a), 0);
    ck_assert_int_eq(nrows, 1);
    /* a failure is one: the table went away after the statement was
     * prepared */
    test_db_exec(db, "CREATE TABLE gone (id TEXT)");
    remove = test_db_prepare(db, "DELETE FROM gone WHERE id = %s");
    test_db_exec(db, "DROP TABLE gone");
    ck_assert_int_ne(orm_db_pquery(test_pool, db->driver, db->handle, &nrows,
                                   remove, 1, &a), 0);
}
END_TEST

START_TEST(test_db_identify_sqlite3)
{
    static const orm_db_probe_t none_match[] = {
        { "SELECT sqlite_version()", "PostgreSQL", 1 },
        { "SELECT version()", "", 2 },                  /* fails here */
        { NULL, NULL, 0 }
    };
    /* what a database answers to, whichever driver reaches it */
    static const orm_db_probe_t sqlite_version[] = {
        { "SELECT version()", "", 2 },
        { "SELECT sqlite_version()", "3.", 3 },
        { NULL, NULL, 0 }
    };

    ck_assert(!orm_db_sequential(db->driver));
    ck_assert_int_eq(orm_db_identify(test_pool, db->driver, db->handle,
                                     none_match, -1), -1);
    ck_assert_int_eq(orm_db_identify(test_pool, db->driver, db->handle,
                                     sqlite_version, -1), 3);
}
END_TEST

TCase *tcase_db(void)
{
    TCase *tc = tcase_create("db");

    tcase_add_checked_fixture(tc, db_setup, db_teardown);
    tcase_add_test(tc, test_db_message_fallback);
    tcase_add_test(tc, test_db_error_is_the_drivers);
    tcase_add_test(tc, test_db_value_null_and_empty);
    tcase_add_test(tc, test_db_first_row_sized);
    tcase_add_test(tc, test_db_int64_both_ways);
    tcase_add_test(tc, test_db_now_is_the_clock_in_ms);
    tcase_add_test(tc, test_db_select_row_unprepared);
    tcase_add_test(tc, test_db_select_row_with_arguments);
    tcase_add_test(tc, test_db_select_row_no_row);
    tcase_add_test(tc, test_db_select_row_failure);
    tcase_add_test(tc, test_db_first_row_copies);
    tcase_add_test(tc, test_db_pquery_no_match);
    tcase_add_test(tc, test_db_identify_sqlite3);
    return tc;
}
