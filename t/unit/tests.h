/* One TCase per unit under test (src/core, src/sql, src/admin);
 * test_main.c runs them all. */
#ifndef ORM_TESTS_H
#define ORM_TESTS_H

#include <check.h>
#include <apr_pools.h>

#include "orm_schema.h"
#include "orm_write_queue.h"

/* A pool per test, created in the checked fixture. */
extern apr_pool_t *test_pool;
void test_pool_setup(void);
void test_pool_teardown(void);

/* A fresh directory for one test, inside a root that main() creates before
 * the tests run and removes (with everything in it) after they ran, so
 * nothing is left behind even when a forked test dies half-way. */
const char *test_mkdtemp(apr_pool_t *pool);
/* Removes path and everything below it; 0 on success. */
int test_rmtree(const char *path);

TCase *tcase_admin_store(void);
TCase *tcase_bgthread(void);
TCase *tcase_cache(void);
TCase *tcase_codec(void);
/* Every table and column renamed, for the SQL and sweep tests. */
orm_schema_t test_renamed_schema(void);

TCase *tcase_conf(void);
TCase *tcase_cookie(void);
TCase *tcase_db(void);
TCase *tcase_db_odbc(void);
TCase *tcase_deadline(void);
TCase *tcase_express(void);
TCase *tcase_gate(void);
TCase *tcase_metrics(void);
TCase *tcase_conffile(void);
TCase *tcase_owner(void);
TCase *tcase_policy(void);
TCase *tcase_schema(void);
TCase *tcase_sha256(void);
TCase *tcase_sql(void);
TCase *tcase_store_ops(void);
TCase *tcase_purge(void);
TCase *tcase_token(void);
TCase *tcase_ttl(void);
TCase *tcase_write(void);
TCase *tcase_write_queue(void);
/* What the next turn of store's session id finds kept: its data (NULL for
 * none) and *version; and a turn that keeps data at version (NULL: forgets). */
const char *test_turn_kept(orm_write_queue_t *queue, const void *store,
                           const char *id, apr_int64_t *version);
void test_turn_keep(orm_write_queue_t *queue, const void *store,
                    const char *id, const char *data, apr_int64_t version);

#endif
