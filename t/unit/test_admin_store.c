/* The admin tool's store (orm_admin_store) against a real SQLite database
 * through apr_dbd's sqlite3 driver, reached only through the store's
 * interface (orm_store_*), as the tool reaches it. */
#include <string.h>
#include <apr_strings.h>

#include "tests.h"
#include "test_db.h"
#include "orm_admin_store.h"
#include "orm_owner.h"
#include "orm_sql.h"

#define NOW APR_INT64_C(1700000000123)     /* ms */

static test_db_t *db;
static orm_schema_t schema;
static orm_conn_t store;

static void open_store(int batch)
{
    orm_admin_store_open(db->pool, db->driver, db->handle, &schema,
                         ORM_DIALECT_SQLITE, batch, &store);
}

static void store_setup(void)
{
    orm_sql_t *sql;
    int i;

    schema = test_renamed_schema();
    db = test_db_open();
    sql = orm_sql_build(db->pool, &schema, ORM_DIALECT_SQLITE);
    for (i = 0; i < sql->ddl->nelts; i++) {
        test_db_exec(db, APR_ARRAY_IDX(sql->ddl, i, const char *));
    }
    open_store(10);
}

static void store_teardown(void)
{
    test_db_close(db);
    db = NULL;
}

/* A session of owner (NULL: none) expiring at expires_ms. */
static void insert_row(const char *id, const char *owner,
                       apr_int64_t expires_ms)
{
    orm_sql_t *sql = orm_sql_build(test_pool, &schema, ORM_DIALECT_SQLITE);
    const char *args[6];

    args[0] = id;
    args[1] = "k=v";
    args[2] = apr_psprintf(test_pool, "%" APR_INT64_T_FMT, expires_ms);
    args[3] = owner;
    args[4] = args[5] = "1";
    ck_assert_int_eq(test_db_pquery(db, test_db_prepare(db, sql->insert), 6,
                                    args), 1);
}

/* count sessions "<prefix>-<i>" */
static void insert_rows(const char *prefix, const char *owner, int count,
                        apr_int64_t expires_ms)
{
    int i;

    for (i = 0; i < count; i++) {
        insert_row(apr_psprintf(test_pool, "%s-%d", prefix, i), owner,
                   expires_ms);
    }
}

static apr_int64_t rows_left(void)
{
    return test_db_int(db, "SELECT COUNT(*) FROM app_sessions");
}

static int count_batches(void *baton, apr_int64_t removed)
{
    (void)removed;
    ++*(int *)baton;
    return 1;
}

START_TEST(test_admin_store_purge)
{
    orm_purge_plan_t plan;
    orm_purge_result_t result;
    int batches = 0;

    insert_rows("dead", "alice", 25, NOW - 1);
    insert_rows("live", NULL, 3, NOW + 1);
    memset(&plan, 0, sizeof(plan));
    plan.progress = count_batches;
    plan.baton = &batches;
    ck_assert_int_eq(orm_store_purge(&store, test_pool, NOW, &plan, &result),
                     APR_SUCCESS);
    ck_assert(result.prepared);
    ck_assert_int_eq(result.removed, 25);
    ck_assert_ptr_null(result.errmsg);
    ck_assert_int_eq(batches, 2);           /* 10, 10, then 5 */
    ck_assert_int_eq(rows_left(), 3);
}
END_TEST

START_TEST(test_admin_store_purge_without_table)
{
    orm_purge_plan_t plan;
    orm_purge_result_t result;

    test_db_exec(db, "DROP TABLE app_sessions");
    memset(&plan, 0, sizeof(plan));
    ck_assert_int_ne(orm_store_purge(&store, test_pool, NOW, &plan, &result),
                     APR_SUCCESS);
    /* the tool says so: "does the table exist?" */
    ck_assert(!result.prepared);
    ck_assert_int_eq(result.removed, 0);
    ck_assert_ptr_nonnull(result.errmsg);
    ck_assert_ptr_nonnull(strstr(result.errmsg, "app_sessions"));
}
END_TEST

START_TEST(test_admin_store_counts)
{
    orm_store_totals_t totals;
    const char *errmsg = "untouched";
    apr_int64_t expired = -1;

    /* empty: no expiry to show */
    ck_assert_int_eq(orm_store_totals(&store, test_pool, &totals, &errmsg),
                     APR_SUCCESS);
    ck_assert_ptr_null(errmsg);
    ck_assert_int_eq(totals.rows, 0);
    ck_assert_ptr_null(totals.oldest_expiry_ms);
    ck_assert_ptr_null(totals.newest_expiry_ms);
    ck_assert_int_eq(orm_store_count_expired(&store, test_pool, NOW, &expired,
                                             &errmsg), APR_SUCCESS);
    ck_assert_int_eq(expired, 0);

    insert_rows("dead", NULL, 4, NOW);      /* expiring now is expired */
    insert_rows("live", NULL, 2, NOW + 5000);
    insert_row(ORM_SWEEP_MARKER_ID, NULL, APR_INT64_C(9223372036854775807));
    ck_assert_int_eq(orm_store_totals(&store, test_pool, &totals, &errmsg),
                     APR_SUCCESS);
    ck_assert_int_eq(totals.rows, 6);       /* the marker is no session */
    ck_assert_str_eq(totals.oldest_expiry_ms, "1700000000123");
    ck_assert_str_eq(totals.newest_expiry_ms, "1700000005123");
    ck_assert_int_eq(orm_store_count_expired(&store, test_pool, NOW, &expired,
                                             &errmsg), APR_SUCCESS);
    ck_assert_int_eq(expired, 4);
}
END_TEST

START_TEST(test_admin_store_count_failures)
{
    orm_store_totals_t totals;
    const char *errmsg = NULL;
    apr_int64_t expired = -1;

    test_db_exec(db, "DROP TABLE app_sessions");
    ck_assert_int_ne(orm_store_totals(&store, test_pool, &totals, &errmsg),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(errmsg, "app_sessions"));
    errmsg = NULL;
    ck_assert_int_ne(orm_store_count_expired(&store, test_pool, NOW,
                                             &expired, &errmsg),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(errmsg, "app_sessions"));
}
END_TEST

START_TEST(test_admin_store_table_size)
{
    const char *bytes = NULL, *errmsg = NULL;
    apr_status_t rv;

    insert_rows("live", NULL, 3, NOW + 1);
    rv = orm_store_table_size(&store, test_pool, &bytes, &errmsg);
    /* only an SQLite built with the dbstat table can tell */
    if (rv == APR_SUCCESS) {
        ck_assert_ptr_nonnull(bytes);
        ck_assert_int_gt(apr_atoi64(bytes), 0);
    }
    else {
        ck_assert_ptr_null(bytes);
        ck_assert_ptr_nonnull(errmsg);
        ck_assert_ptr_nonnull(strstr(errmsg, "dbstat"));
    }
}
END_TEST

START_TEST(test_admin_store_revoke)
{
    const char *errmsg = "untouched";
    int revoked = -1;

    insert_rows("alice", "alice", 3, NOW + 1);
    insert_rows("bob", "bob", 2, NOW + 1);
    insert_rows("anon", NULL, 2, NOW + 1);
    insert_row(ORM_SWEEP_MARKER_ID, NULL, APR_INT64_C(9223372036854775807));
    ck_assert_int_eq(orm_store_revoke(&store, test_pool,
                                      orm_owner_column(test_pool, "alice"),
                                      &revoked, &errmsg), APR_SUCCESS);
    ck_assert_ptr_null(errmsg);
    ck_assert_int_eq(revoked, 3);
    ck_assert_int_eq(orm_store_revoke(&store, test_pool, "carol", &revoked,
                                      &errmsg), APR_SUCCESS);
    ck_assert_int_eq(revoked, 0);
    ck_assert_int_eq(rows_left(), 5);
    /* all: the sweep's marker stays, the farm keeps its turn */
    ck_assert_int_eq(orm_store_revoke(&store, test_pool, NULL, &revoked,
                                      &errmsg), APR_SUCCESS);
    ck_assert_int_eq(revoked, 4);
    ck_assert_int_eq(rows_left(), 1);

    test_db_exec(db, "DROP TABLE app_sessions");
    ck_assert_int_ne(orm_store_revoke(&store, test_pool, NULL, &revoked,
                                      &errmsg), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(errmsg, "app_sessions"));
}
END_TEST

START_TEST(test_admin_store_offers_upkeep_only)
{
    orm_row_t row, *loaded = &row;
    const char *name = "untouched", *errmsg = NULL;
    int flag = -1;

    memset(&row, 0, sizeof(row));
    row.data = "k=v";
    ck_assert_int_eq(orm_store_load(&store, "x", NOW, &loaded), APR_ENOTIMPL);
    ck_assert_ptr_null(loaded);
    ck_assert_int_eq(orm_store_save(&store, "x", &row, NOW), APR_ENOTIMPL);
    ck_assert_int_eq(orm_store_update_if(&store, "x", &row, 1, &flag),
                     APR_ENOTIMPL);
    ck_assert_int_eq(orm_store_remove(&store, "x"), APR_ENOTIMPL);
    ck_assert_int_eq(orm_store_identity(&store, test_pool, &name),
                     APR_ENOTIMPL);
    ck_assert_ptr_null(name);
    ck_assert_int_eq(orm_store_claim_sweep(&store, test_pool, NOW, 1000,
                                           &flag, &errmsg), APR_ENOTIMPL);
    ck_assert_int_eq(flag, 0);
    /* a table it cannot look for is not there; a lock it has not is
     * never busy */
    ck_assert(!orm_store_table_exists(&store, test_pool));
    ck_assert_int_eq(orm_store_lock_sweep(&store, test_pool, &flag),
                     APR_SUCCESS);
    ck_assert_int_eq(flag, 0);
    orm_store_unlock_sweep(&store, test_pool);
    ck_assert_int_eq(rows_left(), 0);
}
END_TEST

TCase *tcase_admin_store(void)
{
    TCase *tc = tcase_create("admin_store");

    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    tcase_add_test(tc, test_admin_store_purge);
    tcase_add_test(tc, test_admin_store_purge_without_table);
    tcase_add_test(tc, test_admin_store_counts);
    tcase_add_test(tc, test_admin_store_count_failures);
    tcase_add_test(tc, test_admin_store_table_size);
    tcase_add_test(tc, test_admin_store_revoke);
    tcase_add_test(tc, test_admin_store_offers_upkeep_only);
    return tc;
}
