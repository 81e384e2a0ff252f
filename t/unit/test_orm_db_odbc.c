/* The database helpers (orm_db) through apr_dbd's odbc driver, on SQLite by
 * unixODBC and the SQLite ODBC driver (no server): what apr_dbd_odbc does
 * unlike the native drivers. Results are read in order (psqlODBC refuses a
 * scrollable cursor) and must be read to their end before the statement
 * runs again ("Invalid cursor state"); a long text value comes back in
 * pieces, one per apr_dbd_get_entry, each a buffer of APR_BUCKET_BUFF_SIZE
 * bytes less its NUL (7999 characters); an UPDATE or DELETE that matches
 * nothing fails with SQL_NO_DATA. Then the SQLite and the portable
 * dialects' session statements, run through orm_db as the store runs them.
 * Without the driver files every test fails, saying what to install. */
#include <string.h>
#include <apr_buckets.h>
#include <apr_strings.h>

#include "tests.h"
#include "test_db.h"
#include "orm_db.h"
#include "orm_sql.h"

static test_db_t *db;

/* The ODBC calls below use db's pool: their statements and results go
 * with the connection. */
static void odbc_setup(void)
{
    db = test_db_open_odbc();
    test_db_exec(db, "CREATE TABLE t (id VARCHAR(64) PRIMARY KEY, data TEXT, "
                 "n BIGINT)");
    test_db_exec(db, "INSERT INTO t VALUES ('a', 'first', 1)");
    test_db_exec(db, "INSERT INTO t VALUES ('b', NULL, NULL)");
    test_db_exec(db, "INSERT INTO t VALUES ('c', '', 3)");
}

static void odbc_teardown(void)
{
    test_db_close(db);
    db = NULL;
}

/* ---- helpers ------------------------------------------------------------ */

/* len characters that tell every position apart from the one a piece's
 * length away (23 divides no piece length tried here) */
static const char *patterned(size_t len)
{
    char *value = apr_palloc(db->pool, len + 1);
    size_t i;

    for (i = 0; i < len; i++) {
        value[i] = (char)('a' + i % 23);
    }
    value[len] = '\0';
    return value;
}

/* got is want, whole: a short message rather than both values */
static void check_whole(const char *got, const char *want, const char *how)
{
    size_t same = 0;

    ck_assert_msg(got != NULL, "%s: NULL for %zu characters", how,
                  strlen(want));
    while (got[same] && got[same] == want[same]) {
        same++;
    }
    ck_assert_msg(got[same] == '\0' && want[same] == '\0',
                  "%s: %zu characters back for %zu, the first %zu right", how,
                  strlen(got), strlen(want), same);
}

/* A row of t by a prepared INSERT, its values bound through ODBC. */
static void insert(const char *id, const char *data, const char *n)
{
    const char *args[3];

    args[0] = id;
    args[1] = data;
    args[2] = n;
    ck_assert_int_eq(test_db_pquery(db, test_db_prepare(db,
        "INSERT INTO t (id, data, n) VALUES (%s, %s, %lld)"), 3, args), 1);
}

/* The first row of stmt by orm_db_pselect and orm_db_first_row. */
static const char **first_row(apr_dbd_prepared_t *stmt, int nargs,
                              const char *const *args, int ncols)
{
    apr_dbd_results_t *res = NULL;
    const char **values = NULL, *why = NULL;
    int err = orm_db_pselect(db->pool, db->driver, db->handle, &res, stmt,
                             nargs, args);

    ck_assert_msg(err == 0, "select: %s",
                  orm_db_error(db->driver, db->handle, err));
    err = orm_db_first_row(db->pool, db->driver, db->handle, res, ncols,
                           &values, &why);
    ck_assert_msg(err == 0, "reading the row: %s", why);
    return values;
}

/* The first row by orm_db_select_row; fails the test on error. */
static const char **select_row(const char *sql, int nargs,
                               const char *const *args, int ncols)
{
    const char **values = NULL;
    int err = orm_db_select_row(db->pool, db->driver, db->handle, sql, nargs,
                                args, ncols, &values);

    ck_assert_msg(err == 0, "%s: %s", sql,
                  orm_db_error(db->driver, db->handle, err));
    return values;
}

/* What apr_dbd_odbc hands back for row id's data at the first call, read
 * in order by apr_dbd alone, the rest of the result read past. */
static size_t first_piece_length(const char *id)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *piece;
    size_t len;

    ck_assert_int_eq(apr_dbd_select(db->driver, db->pool, db->handle, &res,
                                    apr_pstrcat(db->pool, "SELECT data FROM t "
                                                "WHERE id = '", id, "'", NULL),
                                    0), 0);
    ck_assert_int_eq(apr_dbd_get_row(db->driver, db->pool, res, &row, -1), 0);
    piece = apr_dbd_get_entry(db->driver, row, 0);
    ck_assert_ptr_nonnull(piece);
    len = strlen(piece);
    while (apr_dbd_get_row(db->driver, db->pool, res, &row, -1) == 0) {
        continue;
    }
    return len;
}

/* ---- tests -------------------------------------------------------------- */

START_TEST(test_odbc_driver_name)
{
    const apr_dbd_driver_t *sqlite3 = NULL;

    /* apr_dbd_odbc calls itself "ODBC_DRIVER_NAME" (apr-util 1.3 to 1.6
     * and apr 2: a macro stringified unexpanded); what DBDriver says */
    ck_assert_str_eq(orm_db_driver_name(db->driver), "odbc");
    ck_assert_int_eq(apr_dbd_get_driver(db->pool, "sqlite3", &sqlite3),
                     APR_SUCCESS);
    ck_assert_str_eq(orm_db_driver_name(sqlite3), "sqlite3");
}
END_TEST

START_TEST(test_odbc_sequential)
{
    const apr_dbd_driver_t *sqlite3 = NULL;

    ck_assert_msg(orm_db_sequential(db->driver), "apr_dbd's odbc driver, "
                  "named \"%s\", not taken for odbc",
                  apr_dbd_name(db->driver));
    ck_assert_int_eq(apr_dbd_get_driver(db->pool, "sqlite3", &sqlite3),
                     APR_SUCCESS);
    ck_assert(!orm_db_sequential(sqlite3));
    /* its check reports a dropped connection without reconnecting it */
    ck_assert(!orm_db_reconnects(db->driver));
    ck_assert(orm_db_reconnects(sqlite3));
    ck_assert(!orm_db_name_reconnects("odbc"));
    ck_assert(orm_db_name_reconnects("pgsql"));
    ck_assert(orm_db_name_reconnects("mysql"));
    ck_assert(orm_db_name_reconnects("sqlite3"));
    ck_assert(orm_db_name_reconnects(NULL));
}
END_TEST

#define LONG_VALUES 8

/* Rows "v<length>" (n: the length) of patterned data: one piece of the
 * driver's, just under and just over; two likewise; many. */
static void insert_long_values(size_t lengths[LONG_VALUES],
                               const char *ids[LONG_VALUES])
{
    const size_t big = 70000;
    size_t piece, i;

    /* the driver's piece, from a value longer than one */
    insert("v70000", patterned(big), "70000");
    piece = first_piece_length("v70000");
    ck_assert_msg(piece == APR_BUCKET_BUFF_SIZE - 1, "pieces of %zu "
                  "characters, not %d: the lengths below miss the edges",
                  piece, APR_BUCKET_BUFF_SIZE - 1);
    lengths[0] = piece - 1;
    lengths[1] = piece;
    lengths[2] = piece + 1;
    lengths[3] = 2 * piece - 1;
    lengths[4] = 2 * piece;
    lengths[5] = 2 * piece + 1;
    lengths[6] = 2 * piece + 2;             /* 16000 */
    lengths[7] = big;
    for (i = 0; i < LONG_VALUES; i++) {
        const char *n = apr_psprintf(db->pool, "%" APR_SIZE_T_FMT,
                                     lengths[i]);

        ids[i] = apr_pstrcat(db->pool, "v", n, NULL);
        if (lengths[i] != big) {
            insert(ids[i], patterned(lengths[i]), n);
        }
    }
}

START_TEST(test_odbc_long_values_whole)
{
    apr_dbd_prepared_t *data_of = test_db_prepare(db,
        "SELECT data FROM t WHERE id = %s");
    size_t lengths[LONG_VALUES], i;
    const char *ids[LONG_VALUES];
    const char **values;

    insert_long_values(lengths, ids);
    /* unprepared, a column after the long one read too */
    for (i = 0; i < LONG_VALUES; i++) {
        values = select_row(apr_pstrcat(db->pool, "SELECT data, id FROM t "
                                        "WHERE id = '", ids[i], "'", NULL),
                            0, NULL, 2);
        ck_assert_ptr_nonnull(values);
        check_whole(values[0], patterned(lengths[i]),
                    "orm_db_select_row, unprepared");
        ck_assert_str_eq(values[1], ids[i]);
    }
    /* prepared, a column before and one after */
    for (i = 0; i < LONG_VALUES; i++) {
        values = select_row("SELECT id, data, n FROM t WHERE id = %s", 1,
                            &ids[i], 3);
        ck_assert_ptr_nonnull(values);
        ck_assert_str_eq(values[0], ids[i]);
        check_whole(values[1], patterned(lengths[i]),
                    "orm_db_select_row, prepared");
        ck_assert_str_eq(values[2], ids[i] + 1);
    }
    /* orm_db_pselect and orm_db_first_row, one statement for all */
    for (i = 0; i < LONG_VALUES; i++) {
        values = first_row(data_of, 1, &ids[i], 1);
        ck_assert_ptr_nonnull(values);
        check_whole(values[0], patterned(lengths[i]), "orm_db_first_row");
    }
}
END_TEST

START_TEST(test_odbc_multibyte_across_pieces)
{
    /* 8000 two-byte characters: a piece ends inside one, and the pieces
     * joined are the bytes again */
    size_t i, count = 8000;
    char *want = apr_palloc(db->pool, 2 * count + 1);
    const char *id = "utf8";
    const char **values;

    for (i = 0; i < count; i++) {
        memcpy(want + 2 * i, "\xc3\xa9", 2);        /* é */
    }
    want[2 * count] = '\0';
    insert(id, want, "2");
    values = first_row(test_db_prepare(db, "SELECT data FROM t WHERE id = %s"),
                       1, &id, 1);
    ck_assert_ptr_nonnull(values);
    check_whole(values[0], want, "orm_db_first_row");
}
END_TEST

START_TEST(test_odbc_first_row_drains)
{
    apr_dbd_prepared_t *one = test_db_prepare(db,
        "SELECT id, data FROM t WHERE id = %s");
    apr_dbd_prepared_t *several = test_db_prepare(db,
        "SELECT id FROM t WHERE n >= %lld ORDER BY id");
    apr_dbd_prepared_t *none = test_db_prepare(db,
        "SELECT id FROM t WHERE n > %lld");
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *a = "a", *zero = "0", *many = "99";
    const char **values;
    int pass, err;

    /* the same statements twice in a row on one pool: each answers */
    for (pass = 0; pass < 2; pass++) {
        values = first_row(one, 1, &a, 2);
        ck_assert_ptr_nonnull(values);
        ck_assert_str_eq(values[1], "first");
        values = first_row(several, 1, &zero, 1);
        ck_assert_ptr_nonnull(values);
        ck_assert_str_eq(values[0], "a");   /* the first of two rows */
        ck_assert_ptr_null(first_row(none, 1, &many, 1));
        values = select_row("SELECT COUNT(*) FROM t", 0, NULL, 1);
        ck_assert_ptr_nonnull(values);
        ck_assert_str_eq(values[0], "3");
    }

    /* why: a row read and the rest left, the statement cannot run again */
    ck_assert_int_eq(orm_db_pselect(db->pool, db->driver, db->handle, &res,
                                    one, 1, &a), 0);
    ck_assert_int_eq(apr_dbd_get_row(db->driver, db->pool, res, &row, -1), 0);
    err = orm_db_pselect(db->pool, db->driver, db->handle, &res, one, 1, &a);
    ck_assert_int_ne(err, 0);
    ck_assert_ptr_nonnull(strstr(orm_db_error(db->driver, db->handle, err),
                                 "Invalid cursor state"));
}
END_TEST

START_TEST(test_odbc_pquery_no_match)
{
    apr_dbd_prepared_t *update = test_db_prepare(db,
        "UPDATE t SET n = n + 1 WHERE id = %s");
    apr_dbd_prepared_t *remove = test_db_prepare(db,
        "DELETE FROM t WHERE id = %s");
    const char *nobody = "zz", *a = "a";
    int nrows = 42;

    /* nothing matched: success, no row */
    ck_assert_int_eq(orm_db_pquery(db->pool, db->driver, db->handle, &nrows,
                                   update, 1, &nobody), 0);
    ck_assert_int_eq(nrows, 0);
    nrows = 42;
    ck_assert_int_eq(orm_db_pquery(db->pool, db->driver, db->handle, &nrows,
                                   remove, 1, &nobody), 0);
    ck_assert_int_eq(nrows, 0);
    /* a match counts, and the connection goes on */
    ck_assert_int_eq(orm_db_pquery(db->pool, db->driver, db->handle, &nrows,
                                   update, 1, &a), 0);
    ck_assert_int_eq(nrows, 1);
    ck_assert_int_eq(orm_db_pquery(db->pool, db->driver, db->handle, &nrows,
                                   remove, 1, &a), 0);
    ck_assert_int_eq(nrows, 1);
    /* why: apr_dbd itself calls it a failure */
    ck_assert_int_ne(apr_dbd_pquery(db->driver, db->pool, db->handle, &nrows,
                                    remove, 1, &a), 0);
    ck_assert_ptr_nonnull(strstr(orm_db_error(db->driver, db->handle, 1),
                                 "SQL_NO_DATA"));
}
END_TEST

START_TEST(test_odbc_pquery_error)
{
    apr_dbd_prepared_t *insert_stmt = test_db_prepare(db,
        "INSERT INTO t (id, n) VALUES (%s, 0)");
    apr_dbd_prepared_t *gone;
    const char *a = "a";
    int nrows = 0, err;

    /* a real failure stays one: a duplicate key ... */
    err = orm_db_pquery(db->pool, db->driver, db->handle, &nrows, insert_stmt,
                        1, &a);
    ck_assert_int_ne(err, 0);
    ck_assert_ptr_null(strstr(orm_db_error(db->driver, db->handle, err),
                              "SQL_NO_DATA"));
    /* ... and a table that went away after the statement was prepared */
    test_db_exec(db, "CREATE TABLE gone (id TEXT)");
    gone = test_db_prepare(db, "DELETE FROM gone WHERE id = %s");
    test_db_exec(db, "DROP TABLE gone");
    err = orm_db_pquery(db->pool, db->driver, db->handle, &nrows, gone, 1, &a);
    ck_assert_int_ne(err, 0);
    ck_assert_msg(strstr(orm_db_error(db->driver, db->handle, err),
                         "no such table") != NULL, "%s",
                  orm_db_error(db->driver, db->handle, err));
}
END_TEST

/* A failed select: no results, the driver's reason kept (its handle is
 * freed at once, see orm_db_select), and the connection goes on. */
START_TEST(test_odbc_select_error)
{
    apr_dbd_results_t *res = (apr_dbd_results_t *)db;
    const char **values = NULL;
    const char *message;
    int err;

    err = orm_db_select(db->pool, db->driver, db->handle, &res,
                        "SELECT id FROM missing WHERE 1 = 0");
    ck_assert_int_ne(err, 0);
    ck_assert_ptr_null(res);
    message = orm_db_error(db->driver, db->handle, err);
    ck_assert_msg(strstr(message, "no such table") != NULL, "%s", message);
    ck_assert_int_eq(orm_db_select_row(db->pool, db->driver, db->handle,
                                       "SELECT data FROM t WHERE id = 'a'",
                                       0, NULL, 1, &values), 0);
    ck_assert_ptr_nonnull(values);
    ck_assert_str_eq(values[0], "first");
}
END_TEST

START_TEST(test_odbc_identify)
{
    static const orm_db_probe_t none_match[] = {
        { "SELECT version()", "", ORM_DIALECT_PGSQL },     /* fails here */
        { "SELECT sqlite_version()", "PostgreSQL", ORM_DIALECT_PGSQL },
        { NULL, NULL, 0 }
    };
    static const orm_db_probe_t after_failure[] = {
        { "SELECT no_such_function()", "", ORM_DIALECT_PGSQL },
        { "SELECT sqlite_version()", "3.", ORM_DIALECT_MYSQL },
        { NULL, NULL, 0 }
    };
    static const orm_db_probe_t empty[] = { { NULL, NULL, 0 } };
    const char **values;

    ck_assert_int_eq(orm_db_identify(db->pool, db->driver, db->handle,
                                     orm_sql_dialect_probes(db->pool),
                                     ORM_DIALECT_PORTABLE),
                     ORM_DIALECT_SQLITE);
    ck_assert_int_eq(orm_db_identify(db->pool, db->driver, db->handle,
                                     none_match, ORM_DIALECT_PORTABLE),
                     ORM_DIALECT_PORTABLE);
    ck_assert_int_eq(orm_db_identify(db->pool, db->driver, db->handle,
                                     empty, ORM_DIALECT_PORTABLE),
                     ORM_DIALECT_PORTABLE);
    /* a probe that failed is no error: the next is asked, and the
     * connection works after */
    ck_assert_int_eq(orm_db_identify(db->pool, db->driver, db->handle,
                                     after_failure, ORM_DIALECT_PORTABLE),
                     ORM_DIALECT_MYSQL);
    values = select_row("SELECT data FROM t WHERE id = 'a'", 0, NULL, 1);
    ck_assert_ptr_nonnull(values);
    ck_assert_str_eq(values[0], "first");
}
END_TEST

START_TEST(test_odbc_null_and_empty)
{
    const char *b = "b", *c = "c";
    apr_dbd_prepared_t *stmt = test_db_prepare(db,
        "SELECT data, n, id FROM t WHERE id = %s");
    const char **values;

    /* NULL stays NULL, in the long column and in a short one */
    values = first_row(stmt, 1, &b, 3);
    ck_assert_ptr_nonnull(values);
    ck_assert_ptr_null(values[0]);
    ck_assert_ptr_null(values[1]);
    ck_assert_str_eq(values[2], "b");
    values = select_row("SELECT data, n, id FROM t WHERE id = 'b'", 0, NULL,
                        3);
    ck_assert_ptr_nonnull(values);
    ck_assert_ptr_null(values[0]);
    ck_assert_ptr_null(values[1]);
    ck_assert_str_eq(values[2], "b");
    /* "" stays "" (the caller asks orm_db_value) */
    values = first_row(stmt, 1, &c, 3);
    ck_assert_ptr_nonnull(values);
    ck_assert_str_eq(values[0], "");
    ck_assert_str_eq(values[1], "3");
    ck_assert_str_eq(values[2], "c");
    values = select_row("SELECT data, n FROM t WHERE id = %s", 1, &c, 2);
    ck_assert_ptr_nonnull(values);
    ck_assert_str_eq(values[0], "");
    ck_assert_str_eq(values[1], "3");
    /* a NULL and a "" written through ODBC read back the same */
    insert("d", NULL, "4");
    insert("e", "", "5");
    ck_assert_ptr_null(select_row("SELECT data FROM t WHERE id = 'd'", 0,
                                  NULL, 1)[0]);
    ck_assert_str_eq(select_row("SELECT data FROM t WHERE id = 'e'", 0, NULL,
                                1)[0], "");
}
END_TEST

/* ---- a dialect's session statements through ODBC ----------------------- */

#define T0 "1700000000000"

/* A prepared statement of ours run by orm_db_pquery; its rows changed. */
static int pquery(const char *sql, int nargs, const char *const *args)
{
    int nrows = -1;
    int err = orm_db_pquery(db->pool, db->driver, db->handle, &nrows,
                            test_db_prepare(db, sql), nargs, args);

    ck_assert_msg(err == 0, "%s: %s", sql,
                  orm_db_error(db->driver, db->handle, err));
    return nrows;
}

/* The session's row by load: data and its size. */
static void check_load(const orm_sql_t *sql, const char *data,
                       const char *size)
{
    const char *args[2] = { "id1", T0 };
    const char **row = first_row(test_db_prepare(db, sql->load), 2, args, 5);

    ck_assert_ptr_nonnull(row);
    ck_assert_str_eq(row[0], data);
    ck_assert_str_eq(row[4], size);
}

/* The write of a loaded session in a transaction: the row held (by
 * lock_touch first where the dialect has it), read, and updated only in
 * the version read. */
static void write_locked(const orm_sql_t *sql, const char *data)
{
    apr_dbd_transaction_t *trans = NULL;
    const char *key[2] = { "id1", T0 };
    const char *args[6] = { data, "1700000009000", NULL, "1700000000020",
                            "id1", NULL };
    const char **row;

    ck_assert_int_eq(apr_dbd_transaction_start(db->driver, db->pool,
                                               db->handle, &trans), 0);
    if (sql->lock_touch) {
        ck_assert_int_eq(pquery(sql->lock_touch, 2, key), 1);
    }
    row = first_row(test_db_prepare(db, sql->lock), 2, key, 3);
    ck_assert_ptr_nonnull(row);
    args[5] = row[1];
    ck_assert_int_eq(pquery(sql->update_if, 6, args), 1);
    ck_assert_int_eq(pquery(sql->update_if, 6, args), 0);    /* moved on */
    ck_assert_int_eq(apr_dbd_transaction_end(db->driver, db->pool, trans),
                     0);
}

/* What the store says to the database for one session, on dialect's
 * statements: created, loaded, written, an update of nothing, removed. */
static void run_session_statements(orm_dialect_e dialect)
{
    orm_schema_t schema;
    const orm_sql_t *sql;
    const char *row1[6] = { "id1", "a=1", "1700000009000", "alice", T0, T0 };
    const char *nobody[5] = { "x", "1700000009000", NULL, T0, "nobody" };
    int i;

    memset(&schema, 0, sizeof(schema));
    sql = orm_sql_build(db->pool, &schema, dialect);
    for (i = 0; i < sql->ddl->nelts; i++) {
        test_db_exec(db, APR_ARRAY_IDX(sql->ddl, i, const char *));
    }
    ck_assert_int_eq(pquery(sql->upsert ? sql->upsert : sql->insert, 6, row1),
                     1);
    check_load(sql, "a=1", "3");
    /* the portable write of a new session: an update of nothing first */
    ck_assert_int_eq(pquery(sql->update, 5, nobody), 0);
    write_locked(sql, "a=22");
    check_load(sql, "a=22", "4");
    ck_assert_int_eq(pquery(sql->remove, 1, row1), 1);
    ck_assert_int_eq(pquery(sql->remove, 1, row1), 0);
}

START_TEST(test_odbc_runs_sqlite_statements)
{
    run_session_statements(ORM_DIALECT_SQLITE);
}
END_TEST

START_TEST(test_odbc_runs_portable_statements)
{
    run_session_statements(ORM_DIALECT_PORTABLE);
}
END_TEST

TCase *tcase_db_odbc(void)
{
    TCase *tc = tcase_create("db_odbc");

    tcase_add_checked_fixture(tc, odbc_setup, odbc_teardown);
    tcase_add_test(tc, test_odbc_driver_name);
    tcase_add_test(tc, test_odbc_sequential);
    tcase_add_test(tc, test_odbc_long_values_whole);
    tcase_add_test(tc, test_odbc_multibyte_across_pieces);
    tcase_add_test(tc, test_odbc_first_row_drains);
    tcase_add_test(tc, test_odbc_pquery_no_match);
    tcase_add_test(tc, test_odbc_pquery_error);
    tcase_add_test(tc, test_odbc_select_error);
    tcase_add_test(tc, test_odbc_identify);
    tcase_add_test(tc, test_odbc_null_and_empty);
    tcase_add_test(tc, test_odbc_runs_sqlite_statements);
    tcase_add_test(tc, test_odbc_runs_portable_statements);
    return tc;
}
