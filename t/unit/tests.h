/* One TCase per source file of the core; test_main.c runs them all. */
#ifndef ORM_TESTS_H
#define ORM_TESTS_H

#include <check.h>
#include <apr_pools.h>

/* A pool per test, created in the checked fixture. */
extern apr_pool_t *test_pool;
void test_pool_setup(void);
void test_pool_teardown(void);

TCase *tcase_conf(void);
TCase *tcase_cookie(void);
TCase *tcase_schema(void);
TCase *tcase_sha256(void);
TCase *tcase_sql(void);
TCase *tcase_token(void);
TCase *tcase_ttl(void);

#endif
