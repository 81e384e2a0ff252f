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
    orm_sql_t *sql = orm_sql_build(db->pool, schema, ORM_DIALECT_SQLITE);
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
    orm_sql_t *sql = orm_sql_build(db->pool, schema, ORM_DIALECT_SQLITE);
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
static const struct {
    int n, live, batch;
} batch_cases[] = {
    { 25, 7, 10 },                      /* 10, 10, 5 */
    { 30, 3, 10 },                      /* 10, 10, 10, 0 */
    { 5, 4, 10 },                       /* 5 */
    { 3, 2, 1 },                        /* 1, 1, 1, 0 */
    { 2500, 100, 1000 },                /* 1000, 1000, 500 */
    { 0, 6, 10 },                       /* nothing expired: 0 */
    { 0, 0, 1000 },                     /* an empty table */
};

START_TEST(test_sweep_batches)
{
    int n = batch_cases[_i].n, live = batch_cases[_i].live;
    int batch = batch_cases[_i].batch;
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
END_TEST

/* ---- sweeps described by a table ---------------------------------------- */

#define UNCHECKED (-1)
#define FOREVER APR_INT64_C(9223372036854775807)

/** Rows inserted before a sweep; count 0 ends the list. */
typedef struct {
    int renamed;                        /* in the renamed mapping's table */
    const char *prefix;
    int count;
    apr_int64_t first_exp, step;
} rows_t;

/** Rows a sweep must have left; table NULL ends the list. */
typedef struct {
    const char *table, *where;
    apr_int64_t count;
} left_t;

/** One sweep, the table it starts from, and what it must do. */
typedef struct {
    const char *setup_sql;              /* run first (a trigger), or NULL */
    rows_t rows[4];
    /* the sweep */
    int renamed;                        /* of the renamed mapping */
    orm_dialect_e dialect;
    int batch;                          /* 0: no such sweep */
    apr_interval_time_t pause;
    int with_progress, stop_at_call, drop_at_call;
    /* what it did */
    int fails;
    const char *errmsg;                 /* failed: this text, NULL any */
    apr_int64_t removed;
    int deletes;                        /* DELETEs SQLite ran, or
                                         * UNCHECKED */
    int changes[3];                     /* rows each of the first removed,
                                         * UNCHECKED past those known */
    int progress_calls;
    apr_int64_t first_progress;         /* what the first call was told,
                                         * or UNCHECKED */
    apr_interval_time_t min_elapsed, max_elapsed;  /* 0: any */
    left_t left[4];
} sweep_step_t;

/** A test: sweeps in turn on one database. */
typedef struct {
    const char *name;
    sweep_step_t steps[2];
} sweep_case_t;

#define DEAD_25(prefix) { 0, prefix, 25, NOW - 30000, 1000 }
#define NO_CHANGES { UNCHECKED, UNCHECKED, UNCHECKED }

static const sweep_case_t sweep_cases[] = {
    { "boundary: expiring at now is expired, a millisecond later is not",
      { { NULL, { { 0, "at", 1, NOW, 0 }, { 0, "after", 1, NOW + 1, 0 },
                  { 0, "before", 1, NOW - 1, 0 }, { 0, "ancient", 1, 0, 0 } },
          0, ORM_DIALECT_SQLITE, 10, 0, 1, 0, 0,
          0, NULL, 3, 1, { 3, UNCHECKED, UNCHECKED }, 0, UNCHECKED, 0, 0,
          { { "session", "1 = 1", 1 }, { "session", "id = 'after-0'", 1 } } }
      } },
    { "renamed schema: the default table is not touched",
      { { NULL, { { 1, "dead", 25, NOW - 30000, 1000 },
                  { 1, "live", 4, NOW + 10, 1 },
                  { 0, "other", 5, NOW - 5000, 1 } },
          1, ORM_DIALECT_SQLITE, 10, 0, 1, 0, 0,
          0, NULL, 25, 3, { 10, 10, 5 }, 2, 10, 0, 0,
          { { "app_sessions", "1 = 1", 4 },
            { "app_sessions", "sid LIKE 'live-%'", 4 },
            { "session", "1 = 1", 5 } } }
      } },
    { "portable: no LIMIT, the first statement removes everything, the "
      "second finds nothing left",
      { { NULL, { DEAD_25("dead"), { 0, "live", 2, NOW + 10, 1 } },
          0, ORM_DIALECT_PORTABLE, 10, 0, 1, 0, 0,
          0, NULL, 25, 2, { 25, 0, UNCHECKED }, 1, 25, 0, 0,
          { { "session", "1 = 1", 2 } } }
      } },
    { "without progress",
      { { NULL, { DEAD_25("dead"), { 0, "live", 3, NOW + 10, 1 } },
          0, ORM_DIALECT_SQLITE, 10, 0, 0, 0, 0,
          0, NULL, 25, 3, { 10, 10, 5 }, 0, UNCHECKED, 0, 0,
          { { "session", "1 = 1", 3 } } }
      } },
    { "progress stops it at the first call (one batch); the next sweep "
      "goes on where it stopped, to the second call",
      { { NULL, { DEAD_25("dead"), { 0, "live", 3, NOW + 10, 1 } },
          0, ORM_DIALECT_SQLITE, 10, 0, 1, 1, 0,
          0, NULL, 10, 1, { 10, UNCHECKED, UNCHECKED }, 1, 10, 0, 0,
          { { "session", "id LIKE 'dead-%'", 15 },
            { "session", "id LIKE 'live-%'", 3 } } },
        { NULL, { { 0, NULL, 0, 0, 0 } },
          0, ORM_DIALECT_SQLITE, 5, 0, 1, 2, 0,
          0, NULL, 10, 2, { 5, 5, UNCHECKED }, 2, 5, 0, 0,
          { { "session", "id LIKE 'dead-%'", 5 },
            { "session", "id LIKE 'live-%'", 3 } } }
      } },
    { "pause: 10, 10, 5 pause twice (after the full batches), not after "
      "the last; stopped at the first call, not at all",
      { { NULL, { DEAD_25("dead") },
          0, ORM_DIALECT_SQLITE, 10, apr_time_from_msec(40), 1, 0, 0,
          0, NULL, 25, 3, { 10, 10, 5 }, 2, 10,
          2 * apr_time_from_msec(40), 0,
          { { "session", "1 = 1", 0 } } },
        { NULL, { DEAD_25("dead2") },
          0, ORM_DIALECT_SQLITE, 10, apr_time_from_sec(30), 1, 1, 0,
          0, NULL, 10, 1, { 10, UNCHECKED, UNCHECKED }, 1, 10,
          0, apr_time_from_sec(10),
          { { "session", "1 = 1", 15 } } }
      } },
    { "the database's error: a trigger refuses one row in the third batch "
      "(the two before count), then every row",
      { { "CREATE TRIGGER keep_dead_22 BEFORE DELETE ON session "
          "WHEN old.id = 'dead-22' BEGIN "
          "SELECT RAISE(ABORT, 'row dead-22 is protected'); END",
          { DEAD_25("dead"), { 0, "live", 2, NOW + 10, 1 } },
          0, ORM_DIALECT_SQLITE, 10, 0, 1, 0, 0,
          1, "row dead-22 is protected", 20, 3, { 10, 10, UNCHECKED }, 2,
          10, 0, 0,
          /* the failed statement removed nothing */
          { { "session", "id LIKE 'dead-%'", 5 },
            { "session", "id LIKE 'live-%'", 2 } } },
        { "CREATE TRIGGER keep_all BEFORE DELETE ON session "
          "BEGIN SELECT RAISE(ABORT, 'no deletes today'); END",
          { { 0, NULL, 0, 0, 0 } },
          0, ORM_DIALECT_SQLITE, 10, 0, 1, 0, 0,
          1, "no deletes today", 0, 1, NO_CHANGES, 0, UNCHECKED, 0, 0,
          { { "session", "1 = 1", 7 } } }
      } },
    { "the table goes away after the first batch: the rows removed so far "
      "are reported with the error",
      { { NULL, { DEAD_25("dead") },
          0, ORM_DIALECT_SQLITE, 10, 0, 1, 0, 1,
          1, NULL, 10, UNCHECKED, { 10, UNCHECKED, UNCHECKED }, 1, 10, 0, 0,
          { { "sqlite_master", "name = 'session'", 0 } } }
      } },
};

static void run_step(const sweep_case_t *c, const sweep_step_t *step)
{
    orm_schema_t none, renamed = test_renamed_schema();
    outcome_t out;
    int i;

    memset(&none, 0, sizeof(none));
    memset(&out, 0, sizeof(out));
    if (step->setup_sql) {
        test_db_exec(db, step->setup_sql);
    }
    for (i = 0; i < 4 && step->rows[i].count; i++) {
        const rows_t *rows = &step->rows[i];

        insert_rows(rows->renamed ? &renamed : &none, rows->prefix,
                    rows->count, rows->first_exp, rows->step);
    }
    out.progress.stop_at_call = step->stop_at_call;
    out.progress.drop_at_call = step->drop_at_call;
    run_sweep(step->renamed ? &renamed : &none, step->dialect, step->batch,
              step->pause, step->with_progress, &out);

    if (step->fails) {
        ck_assert_msg(out.rv != APR_SUCCESS, "%s: succeeded", c->name);
        ck_assert_ptr_nonnull(out.errmsg);
        ck_assert(strlen(out.errmsg) > 0);
        if (step->errmsg) {
            ck_assert_str_eq(out.errmsg, step->errmsg);
        }
    }
    else {
        ck_assert_msg(out.rv == APR_SUCCESS, "%s: %s", c->name, out.errmsg);
        ck_assert_ptr_null(out.errmsg);
    }
    ck_assert_msg(out.removed == step->removed, "%s: removed %"
                  APR_INT64_T_FMT, c->name, out.removed);
    if (step->deletes != UNCHECKED) {
        ck_assert_int_eq(out.trace.deletes, step->deletes);
    }
    for (i = 0; i < 3 && step->changes[i] != UNCHECKED; i++) {
        ck_assert_int_eq(out.trace.changes[i], step->changes[i]);
    }
    ck_assert_int_eq(out.progress.calls, step->progress_calls);
    if (step->first_progress != UNCHECKED) {
        ck_assert_int_eq(out.progress.removed[0], step->first_progress);
    }
    if (step->min_elapsed) {
        ck_assert_msg(out.elapsed >= step->min_elapsed,
                      "took %" APR_TIME_T_FMT " us", out.elapsed);
    }
    if (step->max_elapsed) {
        ck_assert_msg(out.elapsed < step->max_elapsed,
                      "paused after being told to stop");
    }
    for (i = 0; i < 4 && step->left[i].table; i++) {
        const left_t *left = &step->left[i];

        ck_assert_msg(count_rows(left->table, left->where) == left->count,
                      "%s: %s WHERE %s", c->name, left->table, left->where);
    }
}

START_TEST(test_sweep_cases)
{
    const sweep_case_t *c = &sweep_cases[_i];
    int i;

    for (i = 0; i < 2 && c->steps[i].batch; i++) {
        run_step(c, &c->steps[i]);
    }
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
    tcase_add_loop_test(tc, test_sweep_batches, 0,
                        sizeof(batch_cases) / sizeof(batch_cases[0]));
    tcase_add_loop_test(tc, test_sweep_cases, 0,
                        sizeof(sweep_cases) / sizeof(sweep_cases[0]));
    tcase_add_test(tc, test_sweep_missing_table);
    tcase_add_test(tc, test_sweep_lock_key);
    tcase_add_test(tc, test_sweep_lock_key_differs_per_table);
    tcase_add_test(tc, test_sweep_claim_once_per_interval);
    return tc;
}
