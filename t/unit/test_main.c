#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <ftw.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "tests.h"

apr_pool_t *test_pool;

/* made by main() before the tests run, removed after */
static char tmp_root[4096];

void test_pool_setup(void)
{
    apr_pool_create(&test_pool, NULL);
}

void test_pool_teardown(void)
{
    apr_pool_destroy(test_pool);
    test_pool = NULL;
}

const char *test_mkdtemp(apr_pool_t *pool)
{
    char *dir = apr_pstrcat(pool, tmp_root, "/t.XXXXXX", NULL);

    ck_assert_msg(tmp_root[0] != '\0', "no temporary root directory");
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s: %s", dir,
                  strerror(errno));
    return dir;
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int test_rmtree(const char *path)
{
    if (access(path, F_OK) != 0) {
        return 0;
    }
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

orm_schema_t test_renamed_schema(void)
{
    orm_schema_t s;

    s.table = "app_sessions";
    s.columns[ORM_FIELD_ID] = "sid";
    s.columns[ORM_FIELD_DATA] = "payload";
    s.columns[ORM_FIELD_EXPIRES_AT] = "exp_ms";
    s.columns[ORM_FIELD_USER_NAME] = "owner";
    s.columns[ORM_FIELD_CREATED_AT] = "born_ms";
    s.columns[ORM_FIELD_UPDATED_AT] = "touched_ms";
    return s;
}

int main(void)
{
    Suite *suite = suite_create("mod_session_orm core");
    SRunner *runner;
    TCase *(*const cases[])(void) = {
        tcase_admin_store, tcase_bgthread, tcase_cache, tcase_codec, tcase_conf,
        tcase_cookie, tcase_db, tcase_db_odbc, tcase_deadline, tcase_express,
        tcase_gate, tcase_metrics, tcase_conffile, tcase_owner, tcase_policy,
        tcase_schema, tcase_sha256, tcase_sql, tcase_store_ops, tcase_purge,
        tcase_token, tcase_ttl, tcase_write, tcase_write_queue
    };
    const char *tmp = getenv("TMPDIR");
    size_t i;
    int failed;

    apr_initialize();
    snprintf(tmp_root, sizeof(tmp_root), "%s/orm-unit.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(tmp_root) == NULL) {
        fprintf(stderr, "cannot create %s: %s\n", tmp_root, strerror(errno));
        return EXIT_FAILURE;
    }
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        TCase *tc = cases[i]();
        tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
        suite_add_tcase(suite, tc);
    }
    runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    if (test_rmtree(tmp_root) != 0) {
        fprintf(stderr, "cannot remove %s: %s\n", tmp_root, strerror(errno));
        failed++;
    }
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
