/* The store's interface (orm_store_ops): each entry point reaches the
 * connection's implementation with the caller's arguments; one that an
 * implementation leaves out answers APR_ENOTIMPL with its outputs cleared;
 * and a wrapper (here a read cache) sits over an implementation without
 * its caller knowing. */
#include <string.h>
#include <apr_strings.h>

#include "tests.h"
#include "orm_store_ops.h"

/* ---- an implementation that keeps one row in memory -------------------- */

typedef struct {
    const char *id;                 /* NULL: no row */
    orm_row_t row;
    int loads;                      /* calls that reached it */
} memory_t;

static apr_status_t memory_load(orm_conn_t *conn, const char *id,
                                apr_int64_t now_ms, orm_row_t **row)
{
    memory_t *m = conn->impl;

    m->loads++;
    *row = m->id && !strcmp(m->id, id) && m->row.expires_at_ms > now_ms
           ? &m->row : NULL;
    return APR_SUCCESS;
}

static apr_status_t memory_save(orm_conn_t *conn, const char *id,
                                const orm_row_t *row, apr_int64_t created)
{
    memory_t *m = conn->impl;
    (void)created;

    m->id = id;
    m->row = *row;
    return APR_SUCCESS;
}

static apr_status_t memory_remove(orm_conn_t *conn, const char *id)
{
    memory_t *m = conn->impl;

    if (m->id && !strcmp(m->id, id)) {
        m->id = NULL;
    }
    return APR_SUCCESS;
}

static const orm_store_ops_t memory_ops = {
    .load = memory_load,
    .save = memory_save,
    .remove = memory_remove
};

static void memory_open(memory_t *m, orm_conn_t *conn)
{
    memset(m, 0, sizeof(*m));
    conn->ops = &memory_ops;
    conn->impl = m;
}

/* ---- a read cache over any implementation ------------------------------ */

typedef struct {
    orm_conn_t *inner;
    const char *id;                 /* the row cached, or NULL */
    orm_row_t *row;
} cache_t;

static apr_status_t cache_load(orm_conn_t *conn, const char *id,
                               apr_int64_t now_ms, orm_row_t **row)
{
    cache_t *c = conn->impl;
    apr_status_t rv;

    if (c->id && !strcmp(c->id, id)) {
        *row = c->row;
        return APR_SUCCESS;
    }
    if ((rv = orm_store_load(c->inner, id, now_ms, row)) == APR_SUCCESS) {
        c->id = id;
        c->row = *row;
    }
    return rv;
}

static apr_status_t cache_save(orm_conn_t *conn, const char *id,
                               const orm_row_t *row, apr_int64_t created)
{
    cache_t *c = conn->impl;

    c->id = NULL;
    return orm_store_save(c->inner, id, row, created);
}

static apr_status_t cache_remove(orm_conn_t *conn, const char *id)
{
    cache_t *c = conn->impl;

    c->id = NULL;
    return orm_store_remove(c->inner, id);
}

static const orm_store_ops_t cache_ops = {
    .load = cache_load,
    .save = cache_save,
    .remove = cache_remove
};

/* What a caller does, whichever implementation conn has. */
static void caller_round_trip(orm_conn_t *conn)
{
    orm_row_t row, *loaded = NULL;

    memset(&row, 0, sizeof(row));
    row.data = "k=v";
    row.expires_at_ms = 2000;
    ck_assert_int_eq(orm_store_save(conn, "abc", &row, 1000), APR_SUCCESS);
    ck_assert_int_eq(orm_store_load(conn, "abc", 1000, &loaded), APR_SUCCESS);
    ck_assert_ptr_nonnull(loaded);
    ck_assert_str_eq(loaded->data, "k=v");
    ck_assert_int_eq(orm_store_load(conn, "abc", 1500, &loaded), APR_SUCCESS);
    ck_assert_ptr_nonnull(loaded);
    ck_assert_int_eq(orm_store_load(conn, "other", 1000, &loaded),
                     APR_SUCCESS);
    ck_assert_ptr_null(loaded);
    ck_assert_int_eq(orm_store_remove(conn, "abc"), APR_SUCCESS);
    ck_assert_int_eq(orm_store_load(conn, "abc", 1000, &loaded), APR_SUCCESS);
    ck_assert_ptr_null(loaded);
    /* an implementation without insert saves a new row instead */
    ck_assert_int_eq(orm_store_insert(conn, "new", &row, 1000), APR_SUCCESS);
    ck_assert_int_eq(orm_store_load(conn, "new", 1000, &loaded), APR_SUCCESS);
    ck_assert_ptr_nonnull(loaded);
    ck_assert_int_eq(orm_store_remove(conn, "new"), APR_SUCCESS);
}

START_TEST(test_store_ops_dispatch)
{
    memory_t memory;
    orm_conn_t conn;

    memory_open(&memory, &conn);
    caller_round_trip(&conn);
    ck_assert_int_eq(memory.loads, 5);
}
END_TEST

START_TEST(test_store_ops_wrapped)
{
    memory_t memory;
    cache_t cache;
    orm_conn_t inner, outer;

    memory_open(&memory, &inner);
    memset(&cache, 0, sizeof(cache));
    cache.inner = &inner;
    outer.ops = &cache_ops;
    outer.impl = &cache;
    caller_round_trip(&outer);
    /* the second load of "abc" was the cache's */
    ck_assert_int_eq(memory.loads, 4);
}
END_TEST

START_TEST(test_store_ops_not_offered)
{
    memory_t memory;
    orm_conn_t conn;
    orm_row_t row;
    orm_purge_plan_t plan;
    orm_purge_result_t result;
    orm_store_totals_t totals;
    const char *text = "untouched", *errmsg = "untouched";
    apr_int64_t count = -1;
    int flag = -1;

    memory_open(&memory, &conn);
    memset(&row, 0, sizeof(row));
    memset(&plan, 0, sizeof(plan));
    ck_assert_int_eq(orm_store_update_if(&conn, "x", &row, 1, &flag),
                     APR_ENOTIMPL);
    ck_assert_int_eq(flag, 0);
    flag = -1;
    ck_assert_int_eq(orm_store_merge(&conn, "x", &row, 1, NULL, NULL, &flag),
                     APR_ENOTIMPL);
    ck_assert_int_eq(flag, 0);
    ck_assert(!orm_store_table_exists(&conn, test_pool));
    ck_assert_int_eq(orm_store_identity(&conn, test_pool, &text),
                     APR_ENOTIMPL);
    ck_assert_ptr_null(text);
    flag = -1;
    ck_assert_int_eq(orm_store_lock_sweep(&conn, test_pool, &flag),
                     APR_SUCCESS);
    ck_assert_int_eq(flag, 0);
    orm_store_unlock_sweep(&conn, test_pool);
    flag = -1;
    ck_assert_int_eq(orm_store_claim_sweep(&conn, test_pool, 1, 1, &flag,
                                           &errmsg), APR_ENOTIMPL);
    ck_assert_int_eq(flag, 0);
    ck_assert_ptr_null(errmsg);
    result.removed = -1;
    result.errmsg = "untouched";
    result.prepared = -1;
    ck_assert_int_eq(orm_store_purge(&conn, test_pool, 1, &plan, &result),
                     APR_ENOTIMPL);
    ck_assert_int_eq(result.removed, 0);
    ck_assert_ptr_null(result.errmsg);
    ck_assert_int_eq(result.prepared, 0);
    ck_assert_int_eq(orm_store_count_expired(&conn, test_pool, 1, &count,
                                             &errmsg), APR_ENOTIMPL);
    ck_assert_int_eq(count, 0);
    totals.rows = -1;
    totals.oldest_expiry_ms = totals.newest_expiry_ms = "untouched";
    ck_assert_int_eq(orm_store_totals(&conn, test_pool, &totals, &errmsg),
                     APR_ENOTIMPL);
    ck_assert_int_eq(totals.rows, 0);
    ck_assert_ptr_null(totals.oldest_expiry_ms);
    ck_assert_ptr_null(totals.newest_expiry_ms);
    text = "untouched";
    ck_assert_int_eq(orm_store_table_size(&conn, test_pool, &text, &errmsg),
                     APR_ENOTIMPL);
    ck_assert_ptr_null(text);
    flag = -1;
    ck_assert_int_eq(orm_store_revoke(&conn, test_pool, NULL, &flag,
                                      &errmsg), APR_ENOTIMPL);
    ck_assert_int_eq(flag, 0);
}
END_TEST

TCase *tcase_store_ops(void)
{
    TCase *tc = tcase_create("store_ops");

    tcase_add_test(tc, test_store_ops_dispatch);
    tcase_add_test(tc, test_store_ops_wrapped);
    tcase_add_test(tc, test_store_ops_not_offered);
    return tc;
}
