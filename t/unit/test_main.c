#include <stdlib.h>
#include <apr_general.h>

#include "tests.h"

apr_pool_t *test_pool;

void test_pool_setup(void)
{
    apr_pool_create(&test_pool, NULL);
}

void test_pool_teardown(void)
{
    apr_pool_destroy(test_pool);
    test_pool = NULL;
}

int main(void)
{
    Suite *suite = suite_create("mod_session_orm core");
    SRunner *runner;
    TCase *(*const cases[])(void) = {
        tcase_conf, tcase_cookie, tcase_schema, tcase_sha256, tcase_sql,
        tcase_token, tcase_ttl
    };
    size_t i;
    int failed;

    apr_initialize();
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        TCase *tc = cases[i]();
        tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
        suite_add_tcase(suite, tc);
    }
    runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
