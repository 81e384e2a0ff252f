/* The expiry sweep against a real SQLite database through apr_dbd's sqlite3
 * driver: the statements of orm_maintenance_sql_build, run by orm_purge_run.
 * Every statement SQLite executes is watched through sqlite3_trace_v2
 * (looked up in the driver's libsqlite3 at run time), so the batches are
 * counted by the database itself, not by the code under test. */
#include <dlfcn.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "tests.h"
#include "test_db.h"
#include "orm_sql.h"
#include "orm_purge.h"

#define NOW APR_INT64_C(1700000000123)     /* ms, well past 2^31 */
#define MAX_SEEN 64

/* ---- SQLite's own view of the statements ------------------------------- */

#define TRACE_PROFILE 0x02     /* SQLITE_TRACE_PROFILE: a statement ended */

typedef int (*trace_v2_fn)(void *db, unsigned mask,
                           int (*cb)(unsigned, void *, void *, void *),
                           void *ctx);
typedef const char *(*sql_fn)(void *stmt);
typedef int (*changes_fn)(void *db);

typedef struct {
    void *db;                       /* the sqlite3 connection */
    int deletes;                    /* DELETE statements run */
    int changes[MAX_SEEN];          /* rows each of them removed */
} trace_t;

static sql_fn sqlite_sql;
static changes_fn sqlite_changes;

static int on_statement(unsigned type, void *ctx, void *stmt, void *x)
{
    trace_t *trace = ctx;
    const char *text = sqlite_sql(stmt);

    (void)x;
    if (type == TRACE_PROFILE && text && !strncmp(text, "DELETE", 6)) {
        if (trace->deletes < MAX_SEEN) {
            trace->changes[trace->deletes] = sqlite_changes(trace->db);
        }
        trace->deletes++;
    }
    return 0;
}

static void trace_start(test_db_t *db, trace_t *trace)
{
    trace_v2_fn trace_v2 = (trace_v2_fn)dlsym(RTLD_DEFAULT,
                                              "sqlite3_trace_v2");

    sqlite_sql = (sql_fn)dlsym(RTLD_DEFAULT, "sqlite3_sql");
    sqlite_changes = (changes_fn)dlsym(RTLD_DEFAULT, "sqlite3_changes");
    ck_assert_msg(trace_v2 && sqlite_sql && sqlite_changes,
                  "libsqlite3 (loaded by apr_dbd) has no sqlite3_trace_v2");
    memset(trace, 0, sizeof(*trace));
    trace->db = apr_dbd_native_handle(db->driver, db->handle);
    ck_assert_ptr_nonnull(trace->db);
    ck_assert_int_eq(trace_v2(trace->db, TRACE_PROFILE, on_statement, trace),
                     0);
}

static void trace_stop(test_db_t *db)
{
    trace_v2_fn trace_v2 = (trace_v2_fn)dlsym(RTLD_DEFAULT,
                                              "sqlite3_trace_v2");
    trace_v2(apr_dbd_native_handle(db->driver, db->handle), 0, NULL, NULL);
}

/* ---- fixture: a database with the session table -------------------------- */

static test_db_t *db;

static void create_table(const orm_schema_t *schema)
{
    orm_sql_t *sql = orm_sql_build(db->pool, schema, ORM_DIALECT_SQLITE, 0);
    int i;

    for (i = 0; i < sql->ddl->nelts; i++) {
        test_db_exec(db, APR_ARRAY_IDX(sql->ddl, i, const char *));
    }
}

static void sweep_setup(void)
{
    orm_schema_t none, renamed = test_renamed_schema();

    memset(&none, 0, sizeof(none));
    db = test_db_open();
    create_table(&none);
    create_table(&renamed);
}

static void sweep_teardown(void)
{
    test_db_close(db);
    db = NULL;
}

/* count rows "<prefix>-<i>" expiring at first_exp + i * step, with the
 * mapping's own insert statement, in one transaction */
static void insert_rows(const orm_schema_t *schema, const char *prefix,
                        int count, apr_int64_t first_exp, apr_int64_t step)
{
    orm_sql_t *sql = orm_sql_build(db->pool, schema, ORM_DIALECT_SQLITE, 0);
    apr_dbd_prepared_t *insert = test_db_prepare(db, sql->insert);
    apr_pool_t *pool;
    int i;

    apr_pool_create(&pool, NULL);
    test_db_exec(db, "BEGIN");
    for (i = 0; i < count; i++) {
        const char *args[6];
        apr_pool_clear(pool);
        args[0] = apr_psprintf(pool, "%s-%d", prefix, i);
        args[1] = "k=v";
        args[2] = apr_psprintf(pool, "%" APR_INT64_T_FMT,
                               first_exp + i * step);
        args[3] = i % 2 ? "alice" : NULL;
        args[4] = apr_psprintf(pool, "%" APR_INT64_T_FMT, NOW - 86400000);
        args[5] = args[4];
        ck_assert_int_eq(test_db_pquery(db, insert, 6, args), 1);
    }
    test_db_exec(db, "COMMIT");
    apr_pool_destroy(pool);
}

static apr_int64_t count_rows(const char *table, const char *where)
{
    return test_db_int(db, apr_pstrcat(test_pool, "SELECT COUNT(*) FROM ",
                                       table, " WHERE ", where, NULL));
}

/* ---- a sweep with its progress recorded --------------------------------- */

typedef struct {
    int calls;
    apr_int64_t removed[MAX_SEEN];      /* what each call was told */
    apr_int64_t expired_left[MAX_SEEN]; /* what the table said meanwhile */
    const char *table, *exp_col;
    int stop_at_call;                   /* return 0 on this call (1-based) */
    int drop_at_call;                   /* drop the table on this call */
} progress_t;

static int record_progress(void *baton, apr_int64_t removed)
{
    progress_t *p = baton;

    if (p->calls < MAX_SEEN) {
        p->removed[p->calls] = removed;
        p->expired_left[p->calls] =
            count_rows(p->table, apr_psprintf(test_pool, "%s <= %"
                                              APR_INT64_T_FMT, p->exp_col,
                                              NOW));
    }
    p->calls++;
    if (p->drop_at_call == p->calls) {
        test_db_exec(db, apr_pstrcat(test_pool, "DROP TABLE ", p->table,
                                     NULL));
    }
    return p->stop_at_call != p->calls;
}

typedef struct {
    apr_status_t rv;
    apr_int64_t removed;
    const char *errmsg;
    trace_t trace;
    progress_t progress;
    apr_interval_time_t elapsed;
} outcome_t;

static void run_sweep(const orm_schema_t *schema, orm_dialect_e dialect,
                      int batch, apr_interval_time_t pause, int with_progress,
                      outcome_t *out)
{
    orm_maintenance_sql_t *admin = orm_maintenance_sql_build(test_pool, schema,
                                                             dialect, batch);
    orm_purge_t sweep;
    apr_time_t started;

    memset(&sweep, 0, sizeof(sweep));
    sweep.driver = db->driver;
    sweep.handle = db->handle;
    sweep.stmt = test_db_prepare(db, admin->sweep);
    sweep.batch = batch;
    sweep.pause = pause;
    out->progress.table = orm_schema_table(schema);
    out->progress.exp_col = orm_schema_column(schema, ORM_FIELD_EXPIRES_AT);
    if (with_progress) {
        sweep.progress = record_progress;
        sweep.baton = &out->progress;
    }
    out->removed = -12345;
    out->errmsg = "(untouched)";
    trace_start(db, &out->trace);
    started = apr_time_now();
    out->rv = orm_purge_run(test_pool, &sweep, NOW, &out->removed,
                            &out->errmsg);
    out->elapsed = apr_time_now() - started;
    trace_stop(db);
}

/* n expired rows (one of them expiring exactly now) and live ones, swept in
 * batches of batch: every expired row goes, every live one stays, in
 * n / batch full batches and a last, short one. */
static void check_batches(int n, int live, int batch)
{
    orm_schema_t none;
    outcome_t out;
    int full = n / batch, i;

    memset(&none, 0, sizeof(none));
    memset(&out, 0, sizeof(out));
    insert_rows(&none, "dead", n, NOW - (n - 1) * 1000, 1000);   /* ..NOW */
    insert_rows(&none, "live", live, NOW + 1, 1000);             /* NOW+1.. */
    ck_assert_int_eq(count_rows("session", "1 = 1"), n + live);

    run_sweep(&none, ORM_DIALECT_SQLITE, batch, 0, 1, &out);

    ck_assert_int_eq(out.rv, APR_SUCCESS);
    ck_assert_ptr_null(out.errmsg);
    ck_assert_int_eq(out.removed, n);
    ck_assert_int_eq(count_rows("session", "id LIKE 'dead-%'"), 0);
    ck_assert_int_eq(count_rows("session", "id LIKE 'live-%'"), live);
    ck_assert_int_eq(count_rows("session", "1 = 1"), live);

    /* the database ran full batches of batch rows, then one short one */
    ck_assert_int_eq(out.trace.deletes, full + 1);
    for (i = 0; i < full && i < MAX_SEEN; i++) {
        ck_assert_int_eq(out.trace.changes[i], batch);
    }
    ck_assert_int_eq(out.trace.changes[full], n % batch);
    /* progress after each full batch, with the running total, which the
     * table agrees with */
    ck_assert_int_eq(out.progress.calls, full);
    for (i = 0; i < full && i < MAX_SEEN; i++) {
        ck_assert_int_eq(out.progress.removed[i], (apr_int64_t)(i + 1) * batch);
        ck_assert_int_eq(out.progress.expired_left[i],
                         n - (apr_int64_t)(i + 1) * batch);
    }
}

/* ---- tests -------------------------------------------------------------- */

START_TEST(test_sweep_batches_partial_last)
{
    check_batches(25, 7, 10);           /* 10, 10, 5 */
}
END_TEST

START_TEST(test_sweep_batches_exact_multiple)
{
    check_batches(30, 3, 10);           /* 10, 10, 10, 0 */
}
END_TEST

START_TEST(test_sweep_batches_small)
{
    check_batches(5, 4, 10);            /* 5 */
}
END_TEST

START_TEST(test_sweep_batches_one_by_one)
{
    check_batches(3, 2, 1);             /* 1, 1, 1, 0 */
}
END_TEST

START_TEST(test_sweep_batches_large)
{
    check_batches(2500, 100, 1000);     /* 1000, 1000, 500 */
}
END_TEST

START_TEST(test_sweep_nothing_expired)
{
    check_batches(0, 6, 10);            /* 0 */
}
END_TEST

START_TEST(test_sweep_empty_table)
{
    check_batches(0, 0, 1000);
}
END_TEST

START_TEST(test_sweep_boundary)
{
    /* expiring at now is expired; a millisecond later is not */
    orm_schema_t none;
    outcome_t out;

    memset(&none, 0, sizeof(none));
    memset(&out, 0, sizeof(out));
    insert_rows(&none, "at", 1, NOW, 0);
    insert_rows(&none, "after", 1, NOW + 1, 0);
    insert_rows(&none, "before", 1, NOW - 1, 0);
    insert_rows(&none, "ancient", 1, 0, 0);
    run_sweep(&none, ORM_DIALECT_SQLITE, 10, 0, 1, &out);
    ck_assert_int_eq(out.rv, APR_SUCCESS);
    ck_assert_int_eq(out.removed, 3);
    ck_assert_int_eq(count_rows("session", "1 = 1"), 1);
    ck_assert_int_eq(count_rows("session", "id = 'after-0'"), 1);
}
END_TEST

START_TEST(test_sweep_renamed_schema)
{
    orm_schema_t renamed = test_renamed_schema(), none;
    outcome_t out;

    memset(&none, 0, sizeof(none));
    memset(&out, 0, sizeof(out));
    insert_rows(&renamed, "dead", 25, NOW - 30000, 1000);
    insert_rows(&renamed, "live", 4, NOW + 10, 1);
    /* the default table is not touched by the renamed mapping's sweep */
    insert_rows(&none, "other", 5, NOW - 5000, 1);
    run_sweep(&renamed, ORM_DIALECT_SQLITE, 10, 0, 1, &out);
    ck_assert_int_eq(out.rv, APR_SUCCESS);
    ck_assert_int_eq(out.removed, 25);
    ck_assert_int_eq(count_rows("app_sessions", "1 = 1"), 4);
    ck_assert_int_eq(count_rows("app_sessions", "sid LIKE 'live-%'"), 4);
    ck_assert_int_eq(count_rows("session", "1 = 1"), 5);
    ck_assert_int_eq(out.trace.deletes, 3);
    ck_assert_int_eq(out.progress.calls, 2);
}
END_TEST

START_TEST(test_sweep_portable_statement)
{
    /* no LIMIT: the first statement removes everything, the second finds
     * nothing left */
    orm_schema_t none;
    outcome_t out;

    memset(&none, 0, sizeof(none));
    memset(&out, 0, sizeof(out));
    insert_rows(&none, "dead", 25, NOW - 30000, 1000);
    insert_rows(&none, "live", 2, NOW + 10, 1);
    run_sweep(&none, ORM_DIALECT_PORTABLE, 10, 0, 1, &out);
    ck_assert_int_eq(out.rv, APR_SUCCESS);
    ck_assert_int_eq(out.removed, 25);
    ck_assert_int_eq(count_rows("session", "1 = 1"), 2);
    ck_assert_int_eq(out.trace.deletes, 2);
    ck_assert_int_eq(out.trace.changes[0], 25);
    ck_assert_int_eq(out.trace.changes[1], 0);
    ck_assert_int_eq(out.progress.calls, 1);
    ck_assert_int_eq(out.progress.removed[0], 25);
}
END_TEST

START_TEST(test_sweep_without_progress)
{
    orm_schema_t none;
    outcome_t out;

    memset(&none, 0, sizeof(none));
    memset(&out, 0, sizeof(out));
    insert_rows(&none, "dead", 25, NOW - 30000, 1000);
    insert_rows(&none, "live", 3, NOW + 10, 1);
    run_sweep(&none, ORM_DIALECT_SQLITE, 10, 0, 0, &out);
    ck_assert_int_eq(out.rv, APR_SUCCESS);
    ck_assert_ptr_null(out.errmsg);
    ck_assert_int_eq(out.removed, 25);
    ck_assert_int_eq(count_rows("session", "1 = 1"), 3);
    ck_assert_int_eq(out.trace.deletes, 3);
    ck_assert_int_eq(out.progress.calls, 0);
}
END_TEST

START_TEST(test_sweep_progress_stops_it)
{
    orm_schema_t none;
    outcome_t out;

    memset(&none, 0, sizeof(none));
    /* stop at the first call: one batch only */
    memset(&out, 0, sizeof(out));
    insert_rows(&none, "dead", 25, NOW - 30000, 1000);
    insert_rows(&none, "live", 3, NOW + 10, 1);
    out.progress.stop_at_call = 1;
    run_sweep(&none, ORM_DIALECT_SQLITE, 10, 0, 1, &out);
    ck_assert_int_eq(out.rv, APR_SUCCESS);
    ck_assert_ptr_null(out.errmsg);
    ck_assert_int_eq(out.removed, 10);
    ck_assert_int_eq(out.progress.calls, 1);
    ck_assert_int_eq(out.trace.deletes, 1);
    ck_assert_int_eq(count_rows("session", "id LIKE 'dead-%'"), 15);
    ck_assert_int_eq(count_rows("session", "id LIKE 'live-%'"), 3);

    /* the next sweep goes on where it stopped; stop at the second call */
    memset(&out, 0, sizeof(out));
    out.progress.stop_at_call = 2;
    run_sweep(&none, ORM_DIALECT_SQLITE, 5, 0, 1, &out);
    ck_assert_int_eq(out.rv, APR_SUCCESS);
    ck_assert_int_eq(out.removed, 10);
    ck_assert_int_eq(out.progress.calls, 2);
    ck_assert_int_eq(out.trace.deletes, 2);
    ck_assert_int_eq(count_rows("session", "id LIKE 'dead-%'"), 5);
    ck_assert_int_eq(count_rows("session", "id LIKE 'live-%'"), 3);
}
END_TEST

START_TEST(test_sweep_pause_between_batches)
{
    /* 10, 10, 5: two pauses (after the full batches), none after the last */
    orm_schema_t none;
    outcome_t out;
    apr_interval_time_t pause = apr_time_from_msec(40);

    memset(&none, 0, sizeof(none));
    memset(&out, 0, sizeof(out));
    insert_rows(&none, "dead", 25, NOW - 30000, 1000);
    run_sweep(&none, ORM_DIALECT_SQLITE, 10, pause, 1, &out);
    ck_assert_int_eq(out.rv, APR_SUCCESS);
    ck_assert_int_eq(out.removed, 25);
    ck_assert_msg(out.elapsed >= 2 * pause, "took %" APR_TIME_T_FMT " us",
                  out.elapsed);

    /* stopped at the first call: no pause at all */
    memset(&out, 0, sizeof(out));
    insert_rows(&none, "dead2", 25, NOW - 30000, 1000);
    out.progress.stop_at_call = 1;
    run_sweep(&none, ORM_DIALECT_SQLITE, 10, apr_time_from_sec(30), 1, &out);
    ck_assert_int_eq(out.removed, 10);
    ck_assert_msg(out.elapsed < apr_time_from_sec(10),
                  "paused after being told to stop");
}
END_TEST

START_TEST(test_sweep_missing_table)
{
    orm_schema_t none;
    outcome_t out;
    const char *driver_says;

    memset(&none, 0, sizeof(none));
    memset(&out, 0, sizeof(out));
    /* prepared while the table existed, run after it was dropped (SQLite
     * refuses to prepare against a missing table at all) */
    {
        orm_maintenance_sql_t *admin =
            orm_maintenance_sql_build(test_pool, &none, ORM_DIALECT_SQLITE,
                                      10);
        orm_purge_t sweep;

        memset(&sweep, 0, sizeof(sweep));
        sweep.driver = db->driver;
        sweep.handle = db->handle;
        sweep.stmt = test_db_prepare(db, admin->sweep);
        sweep.batch = 10;
        test_db_exec(db, "DROP TABLE \"session\"");
        out.removed = -1;
        out.errmsg = NULL;
        out.rv = orm_purge_run(test_pool, &sweep, NOW, &out.removed,
                               &out.errmsg);
        driver_says = apr_dbd_error(db->driver, db->handle, 1);
    }
    ck_assert_int_ne(out.rv, APR_SUCCESS);
    ck_assert_int_eq(out.removed, 0);
    ck_assert_ptr_nonnull(out.errmsg);
    ck_assert(strlen(out.errmsg) > 0);
    /* the driver's own message (apr_dbd's sqlite3 driver prepares with the
     * legacy sqlite3_prepare, so SQLite says "database schema has changed"
     * rather than "no such table") */
    ck_assert_ptr_nonnull(driver_says);
    ck_assert_str_eq(out.errmsg, driver_says);
    ck_assert_msg(strstr(out.errmsg, "schema") != NULL
                  || strstr(out.errmsg, "no such table") != NULL,
                  "error: %s", out.errmsg);
    /* the table really is gone */
    ck_assert_int_eq(count_rows("sqlite_master", "name = 'session'"), 0);
}
END_TEST

START_TEST(test_sweep_error_message_from_database)
{
    /* a trigger refuses to delete one row, in the third batch: the two
     * batches before it count, the error is SQLite's RAISE message */
    orm_schema_t none;
    outcome_t out;

    memset(&none, 0, sizeof(none));
    memset(&out, 0, sizeof(out));
    insert_rows(&none, "dead", 25, NOW - 30000, 1000);
    insert_rows(&none, "live", 2, NOW + 10, 1);
    test_db_exec(db, "CREATE TRIGGER keep_dead_22 BEFORE DELETE ON session "
                 "WHEN old.id = 'dead-22' BEGIN "
                 "SELECT RAISE(ABORT, 'row dead-22 is protected'); END");
    run_sweep(&none, ORM_DIALECT_SQLITE, 10, 0, 1, &out);
    ck_assert_int_ne(out.rv, APR_SUCCESS);
    ck_assert_int_eq(out.removed, 20);
    ck_assert_int_eq(out.progress.calls, 2);
    ck_assert_int_eq(out.trace.deletes, 3);
    ck_assert_ptr_nonnull(out.errmsg);
    ck_assert_str_eq(out.errmsg, "row dead-22 is protected");
    /* the failed statement removed nothing */
    ck_assert_int_eq(count_rows("session", "id LIKE 'dead-%'"), 5);
    ck_assert_int_eq(count_rows("session", "id LIKE 'live-%'"), 2);

    /* on the first batch: nothing removed, the error reported */
    memset(&out, 0, sizeof(out));
    test_db_exec(db, "CREATE TRIGGER keep_all BEFORE DELETE ON session "
                 "BEGIN SELECT RAISE(ABORT, 'no deletes today'); END");
    run_sweep(&none, ORM_DIALECT_SQLITE, 10, 0, 1, &out);
    ck_assert_int_ne(out.rv, APR_SUCCESS);
    ck_assert_int_eq(out.removed, 0);
    ck_assert_int_eq(out.progress.calls, 0);
    ck_assert_str_eq(out.errmsg, "no deletes today");
    ck_assert_int_eq(count_rows("session", "1 = 1"), 7);
}
END_TEST

START_TEST(test_sweep_error_after_some_batches)
{
    /* the table goes away after the first batch: the rows removed so far
     * are still reported, with the error */
    orm_schema_t none;
    outcome_t out;

    memset(&none, 0, sizeof(none));
    memset(&out, 0, sizeof(out));
    insert_rows(&none, "dead", 25, NOW - 30000, 1000);
    out.progress.drop_at_call = 1;
    run_sweep(&none, ORM_DIALECT_SQLITE, 10, 0, 1, &out);
    ck_assert_int_ne(out.rv, APR_SUCCESS);
    ck_assert_int_eq(out.removed, 10);
    ck_assert_int_eq(out.progress.calls, 1);
    ck_assert_ptr_nonnull(out.errmsg);
    ck_assert(strlen(out.errmsg) > 0);
}
END_TEST

START_TEST(test_sweep_lock_key)
{
    /* the first 8 bytes, big-endian, of SHA-256("mod_session_orm sweep:" +
     * table), as a signed 64-bit number (computed with Python's hashlib) */
    ck_assert_int_eq(orm_purge_lock_key("session"),
                     APR_INT64_C(2433114281017487981));
    ck_assert_int_eq(orm_purge_lock_key("app_sessions"),
                     APR_INT64_C(6345943735231518716));
    ck_assert_int_eq(orm_purge_lock_key("sessions"),
                     APR_INT64_C(-21768341332309255));
    ck_assert_int_eq(orm_purge_lock_key("x"),
                     APR_INT64_C(-577951108984996662));
    ck_assert_int_eq(orm_purge_lock_key(
                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                     APR_INT64_C(4688364805078798810));
    /* stable */
    ck_assert_int_eq(orm_purge_lock_key("session"),
                     orm_purge_lock_key(apr_pstrdup(test_pool, "session")));
}
END_TEST

START_TEST(test_sweep_lock_key_differs_per_table)
{
    static const char *const names[] = {
        "session", "sessions", "Session", "SESSION", "session2", "session_",
        "app_sessions", "s", "t", "x", "_", "a_b", "ab_"
    };
    size_t n = sizeof(names) / sizeof(names[0]), i, j;

    for (i = 0; i < n; i++) {
        for (j = i + 1; j < n; j++) {
            ck_assert_msg(orm_purge_lock_key(names[i])
                          != orm_purge_lock_key(names[j]),
                          "same key for %s and %s", names[i], names[j]);
        }
    }
}
END_TEST

/* One sweep per interval for the farm: the marker row's time decides, the
 * first claim creates it, and it is no session to count or sweep. */
START_TEST(test_sweep_claim_once_per_interval)
{
    orm_schema_t none;
    orm_maintenance_sql_t *admin;
    apr_dbd_prepared_t *claim, *mark, *totals;
    const char *errmsg = NULL;
    apr_array_header_t *rows;
    int claimed = -1;

    memset(&none, 0, sizeof(none));
    admin = orm_maintenance_sql_build(db->pool, &none, ORM_DIALECT_SQLITE,
                                      1000);
    claim = test_db_prepare(db, admin->sweep_claim);
    mark = test_db_prepare(db, admin->sweep_mark);
#define CLAIM(now) \
    ck_assert_int_eq(orm_purge_claim(test_pool, db->driver, db->handle, \
                                     claim, mark, (now), 2000, &claimed, \
                                     &errmsg), APR_SUCCESS)
    CLAIM(NOW);                 /* no marker: created, this host sweeps */
    ck_assert_int_eq(claimed, 1);
    CLAIM(NOW + 10);            /* another host, just after */
    ck_assert_int_eq(claimed, 0);
    CLAIM(NOW + 1999);
    ck_assert_int_eq(claimed, 0);
    CLAIM(NOW + 2000);          /* an interval later: one host again */
    ck_assert_int_eq(claimed, 1);
    CLAIM(NOW + 2001);
    ck_assert_int_eq(claimed, 0);
#undef CLAIM
    ck_assert_int_eq(test_db_int(db, "SELECT COUNT(*) FROM \"session\""), 1);
    /* the sweep never takes it, the totals do not count it */
    insert_rows(&none, "old", 3, NOW - 1000, 1);
    {
        outcome_t out;

        memset(&out, 0, sizeof(out));
        run_sweep(&none, ORM_DIALECT_SQLITE, 1000, 0, 0, &out);
        ck_assert_int_eq(out.rv, APR_SUCCESS);
        ck_assert_int_eq(out.removed, 3);
    }
    ck_assert_int_eq(test_db_int(db, "SELECT COUNT(*) FROM \"session\" "
                                 "WHERE \"id\" = '!sweep'"), 1);
    totals = test_db_prepare(db, admin->totals);
    rows = test_db_pselect(db, totals, 0, NULL);
    ck_assert_str_eq(APR_ARRAY_IDX(rows, 0, const char **)[0], "0");
}
END_TEST

TCase *tcase_purge(void)
{
    TCase *tc = tcase_create("purge");

    tcase_add_checked_fixture(tc, sweep_setup, sweep_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sweep_batches_partial_last);
    tcase_add_test(tc, test_sweep_batches_exact_multiple);
    tcase_add_test(tc, test_sweep_batches_small);
    tcase_add_test(tc, test_sweep_batches_one_by_one);
    tcase_add_test(tc, test_sweep_batches_large);
    tcase_add_test(tc, test_sweep_nothing_expired);
    tcase_add_test(tc, test_sweep_empty_table);
    tcase_add_test(tc, test_sweep_boundary);
    tcase_add_test(tc, test_sweep_renamed_schema);
    tcase_add_test(tc, test_sweep_portable_statement);
    tcase_add_test(tc, test_sweep_without_progress);
    tcase_add_test(tc, test_sweep_progress_stops_it);
    tcase_add_test(tc, test_sweep_pause_between_batches);
    tcase_add_test(tc, test_sweep_missing_table);
    tcase_add_test(tc, test_sweep_error_after_some_batches);
    tcase_add_test(tc, test_sweep_error_message_from_database);
    tcase_add_test(tc, test_sweep_lock_key);
    tcase_add_test(tc, test_sweep_lock_key_differs_per_table);
    tcase_add_test(tc, test_sweep_claim_once_per_interval);
    return tc;
}
