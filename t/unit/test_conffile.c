/* Reading DBDriver, DBDParams and our server-scope directives out of the
 * configuration tree httpd prints for -t -D DUMP_CONFIG: the reader on
 * canned trees, the runner with a stand-in apachectl, and both against the
 * real httpd (skipped when it is not installed). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "tests.h"
#include "orm_conffile.h"

/* From configure (apxs); Debian's paths when built without it (t/sanitize) */
#ifndef ORM_APACHECTL
#define ORM_APACHECTL "/usr/sbin/apachectl"
#endif
#ifndef ORM_APACHE_MODDIR
#define ORM_APACHE_MODDIR "/usr/lib/apache2/modules"
#endif
#ifndef ORM_INFO_MODULE
#define ORM_INFO_MODULE ORM_APACHE_MODDIR "/mod_info.so"
#endif

static apr_pool_t *conf_pool;
static const char *root;            /* the test's temporary directory */

static void conf_setup(void)
{
    apr_pool_create(&conf_pool, NULL);
    root = test_mkdtemp(conf_pool);
}

static void conf_teardown(void)
{
    ck_assert_int_eq(test_rmtree(root), 0);
    unsetenv("ORM_UNIT_DB_DIR");
    apr_pool_destroy(conf_pool);
    conf_pool = NULL;
    root = NULL;
}

/* root/rel with the given content, creating directories on the way. */
static const char *put(const char *rel, const char *content)
{
    const char *path = apr_pstrcat(conf_pool, root, "/", rel, NULL);
    char *dir = apr_pstrdup(conf_pool, path);
    apr_file_t *f;
    apr_size_t len = strlen(content);

    *strrchr(dir, '/') = '\0';
    ck_assert_int_eq(apr_dir_make_recursive(dir, APR_OS_DEFAULT, conf_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE
                                   | APR_FOPEN_TRUNCATE, APR_OS_DEFAULT,
                                   conf_pool), APR_SUCCESS);
    ck_assert_int_eq(apr_file_write_full(f, content, len, NULL), APR_SUCCESS);
    apr_file_close(f);
    return path;
}

static void assert_has(const char *text, const char *fragment)
{
    ck_assert_msg(strstr(text, fragment) != NULL, "no \"%s\" in \"%s\"",
                  fragment, text);
}

static orm_conffile_t parse_ok(const char *dump, const char *vhost)
{
    orm_conffile_t conf;
    const char *err = "(not set)";
    apr_status_t rv;

    memset(&conf, 0x5a, sizeof(conf));
    rv = orm_conffile_parse(test_pool, dump, vhost, &conf, &err);
    ck_assert_msg(rv == APR_SUCCESS, "parse failed: %s",
                  err ? err : "(no message)");
    return conf;
}

/* Must fail with a message holding each NULL-terminated fragment. */
static const char *parse_fails(const char *dump, const char *vhost, ...)
{
    orm_conffile_t conf;
    const char *err = NULL, *fragment;
    va_list ap;

    ck_assert_msg(orm_conffile_parse(test_pool, dump, vhost, &conf, &err)
                  != APR_SUCCESS, "parse succeeded");
    ck_assert_ptr_nonnull(err);
    va_start(ap, vhost);
    while ((fragment = va_arg(ap, const char *)) != NULL) {
        assert_has(err, fragment);
    }
    va_end(ap);
    return err;
}

/* ---- the reader, on trees as mod_info prints them ------------------------ */

START_TEST(test_dump_reads_directives)
{
    orm_conffile_t c = parse_ok(
        "# In file: /etc/apache2/apache2.conf\n"
        "#  87:\n"
        "PidFile /var/run/apache2/apache2.pid\n"
        "# In file: /etc/apache2/conf-enabled/session.conf\n"
        "#   3:\n"
        "dbdriver pgsql\n"
        "#   4:\n"
        "DBDParams \"host=db user=web password='a b' dbname=web\"\n"
        "SessionORMTable web_sessions\n"
        "SessionORMColumn user_name owner\n"
        "SessionORMSweepBatch 250\n"
        "SessionORMTimeout 2.5\n"
        "<Directory \"/var/www\">\n"
        "  #   9:\n"
        "  Require all granted\n"
        "</Directory>\n", NULL);

    ck_assert_str_eq(c.driver, "pgsql");
    ck_assert_str_eq(c.params, "host=db user=web password='a b' dbname=web");
    ck_assert_str_eq(c.schema.table, "web_sessions");
    ck_assert_str_eq(c.schema.columns[ORM_FIELD_USER_NAME], "owner");
    ck_assert_ptr_null(c.schema.columns[ORM_FIELD_DATA]);
    ck_assert_int_eq(c.sweep_batch, 250);
    ck_assert_str_eq(c.timeout, "2.5");
    ck_assert_int_eq(c.vhost_found, 0);
}
END_TEST

START_TEST(test_dump_nothing_found_last_wins)
{
    orm_conffile_t c = parse_ok("# In file: /x\n#   1:\nListen 80\n", NULL);

    ck_assert_ptr_null(c.driver);
    ck_assert_ptr_null(c.params);
    ck_assert_ptr_null(c.schema.table);
    ck_assert_ptr_null(c.timeout);
    ck_assert_int_eq(c.sweep_batch, 0);

    c = parse_ok("DBDParams /a.db\nDBDPARAMS /b.db\n", NULL);
    ck_assert_str_eq(c.params, "/b.db");
}
END_TEST

static const char vhosts_dump[] =
    "# In file: /c/httpd.conf\n"
    "DBDriver sqlite3\n"
    "DBDParams /main.db\n"
    "SessionORMTimeout 4\n"
    "<VirtualHost 127.0.0.1:80>\n"
    "  ServerName a.test\n"
    "  DBDParams /a.db\n"
    "  <Location /x>\n"
    "    Require all granted\n"
    "  </Location>\n"
    "</VirtualHost>\n"
    "<VirtualHost 127.0.0.1:80>\n"
    "  ServerName http://v.test:8080\n"
    "  ServerAlias *.v.test other.test\n"
    "  DBDParams /v.db\n"
    "  SessionORMTable vsess\n"
    "  SessionORMTimeout 1\n"
    "</VirtualHost>\n"
    "<VirtualHost 127.0.0.1:80>\n"
    "  ServerName a.test\n"
    "  DBDParams /second-a.db\n"
    "</VirtualHost>\n"
    "SessionORMTable main_sess\n";

START_TEST(test_dump_vhosts)
{
    orm_conffile_t c = parse_ok(vhosts_dump, NULL);

    ck_assert_str_eq(c.params, "/main.db");
    ck_assert_str_eq(c.schema.table, "main_sess");
    ck_assert_int_eq(c.vhost_found, 0);

    /* the first vhost of that name, as httpd picks it; sections inside
     * it do not end it */
    c = parse_ok(vhosts_dump, "A.TEST");
    ck_assert_int_eq(c.vhost_found, 1);
    ck_assert_str_eq(c.params, "/a.db");
    ck_assert_str_eq(c.driver, "sqlite3");
    ck_assert_str_eq(c.schema.table, "main_sess");
    ck_assert_str_eq(c.timeout, "4");

    /* scheme and port, wildcard alias */
    c = parse_ok(vhosts_dump, "v.test");
    ck_assert_str_eq(c.params, "/v.db");
    ck_assert_str_eq(c.schema.table, "vsess");
    ck_assert_str_eq(c.timeout, "1");
    c = parse_ok(vhosts_dump, "www.v.test");
    ck_assert_str_eq(c.params, "/v.db");
    c = parse_ok(vhosts_dump, "other.test");
    ck_assert_str_eq(c.params, "/v.db");

    c = parse_ok(vhosts_dump, "nosuch.test");
    ck_assert_int_eq(c.vhost_found, 0);
    ck_assert_str_eq(c.params, "/main.db");
}
END_TEST

/* httpd reads logical lines of up to 16 MB; the tree holds them whole, and
 * a value that contains a directive's name is still a value. */
START_TEST(test_dump_long_lines)
{
    apr_size_t n = 200000;
    char *big = apr_palloc(test_pool, n + 1);
    orm_conffile_t c;

    memset(big, 'x', n);
    memcpy(big + n - 20, " DBDParams /decoy.db", 20);
    big[n] = '\0';
    c = parse_ok(apr_psprintf(test_pool, "DBDParams /real.db\n"
                              "ServerAdmin \"%s\"\n"
                              "Header set X-Long \"%s\"\n", big, big), NULL);
    ck_assert_str_eq(c.params, "/real.db");

    c = parse_ok(apr_psprintf(test_pool, "DBDParams \"host=h password=%s\"\n",
                              big), NULL);
    ck_assert_int_eq(strlen(c.params), strlen("host=h password=") + n);
}
END_TEST

/* httpd refuses our directives in <Directory>, <Location>, <If> and the
 * like; what it lets through elsewhere (<Limit> at the top level) this
 * reader does not judge: it refuses rather than guess. */
START_TEST(test_dump_our_directive_in_other_section)
{
    parse_fails("# In file: /c/httpd.conf\n"
                "#  12:\n"
                "<Limit GET>\n"
                "  #  13:\n"
                "  DBDParams /limit.db\n"
                "</Limit>\n", NULL, "/c/httpd.conf:13", "DBDParams",
                "<Limit>", NULL);
    parse_fails("<VirtualHost *:80>\n"
                "  ServerName a.test\n"
                "  <Limit GET>\n"
                "    SessionORMTable t\n"
                "  </Limit>\n"
                "</VirtualHost>\n", NULL, "SessionORMTable", NULL);
}
END_TEST

START_TEST(test_dump_unresolved_variable)
{
    orm_conffile_t c;

    parse_fails("DBDriver sqlite3\nDBDParams \"${DB_DIR}/s.db\"\n", NULL,
                "DBDParams", "${DB_DIR}", NULL);
    parse_fails("DBDriver ${DRV}\n", NULL, "DBDriver", "${DRV}", NULL);
    parse_fails("SessionORMTimeout ${T}\n", NULL, "${T}", NULL);
    /* only what the tool would use counts */
    c = parse_ok("DBDParams /ok.db\n<VirtualHost *:80>\n"
                 "  ServerName b.test\n  DBDParams ${NOPE}/b.db\n"
                 "</VirtualHost>\n", NULL);
    ck_assert_str_eq(c.params, "/ok.db");
    parse_fails("DBDParams /ok.db\n<VirtualHost *:80>\n"
                "  ServerName b.test\n  DBDParams ${NOPE}/b.db\n"
                "</VirtualHost>\n", "b.test", "${NOPE}", NULL);
    /* a $ that is no variable */
    c = parse_ok("DBDParams \"password=a$b{c}\"\n", NULL);
    ck_assert_str_eq(c.params, "password=a$b{c}");
}
END_TEST

START_TEST(test_dump_invalid_names)
{
    parse_fails("# In file: /c/x.conf\n#   7:\nSessionORMTable \"a b\"\n",
                NULL, "/c/x.conf:7", "SessionORMTable", NULL);
    parse_fails("SessionORMColumn nosuchfield c\n", NULL, "unknown field",
                NULL);
    parse_fails("SessionORMColumn data\n", NULL, "SessionORMColumn", NULL);
}
END_TEST

/* ---- the runner, with a stand-in for apachectl --------------------------- */

static const char *fake_apachectl(const char *body)
{
    const char *path = put("bin/apachectl",
                           apr_pstrcat(conf_pool, "#!/bin/sh\n", body, NULL));
    ck_assert_int_eq(chmod(path, 0755), 0);
    return path;
}

static apr_status_t ask_with(const char *apachectl, const char **dump,
                             const char **err)
{
    orm_conffile_ask_t ask;
    apr_array_header_t *defines = apr_array_make(test_pool, 2,
                                                 sizeof(const char *));

    APR_ARRAY_PUSH(defines, const char *) = "ONE";
    APR_ARRAY_PUSH(defines, const char *) = "TWO";
    memset(&ask, 0, sizeof(ask));
    ask.apachectl = apachectl;
    ask.info_module = "/m/mod_info.so";
    ask.config = "/c/apache2.conf";
    ask.server_root = "/srv/root";
    ask.defines = defines;
    *err = NULL;
    return orm_conffile_dump(test_pool, &ask, dump, err);
}

START_TEST(test_ask_arguments)
{
    const char *dump, *err;
    orm_conffile_t c;

    /* prints its arguments, one per line, as a value */
    apr_status_t rv = ask_with(fake_apachectl(
        "echo '# In file: /fake'\n"
        "printf \"DBDParams '\"; for a; do printf '%s|' \"$a\"; done\n"
        "echo \"'\"\n"
        "echo 'a warning' >&2\n"), &dump, &err);

    ck_assert_msg(rv == APR_SUCCESS, "%s", err);
    c = parse_ok(dump, NULL);
    ck_assert_str_eq(c.params, "-f|/c/apache2.conf|-d|/srv/root|-D|ONE|-D|"
                     "TWO|-C|LoadModule info_module \"/m/mod_info.so\"|-t|"
                     "-D|DUMP_CONFIG|");
}
END_TEST

START_TEST(test_ask_failure_says_why)
{
    const char *dump, *err;

    ck_assert_int_ne(ask_with(fake_apachectl(
        "echo 'Action failed.'\n"
        "echo 'AH00526: Syntax error on line 3 of /c/apache2.conf:' >&2\n"
        "echo 'Invalid command' >&2\nexit 1\n"), &dump, &err), APR_SUCCESS);
    assert_has(err, "AH00526: Syntax error on line 3");
    assert_has(err, "exit 1");

    ck_assert_int_ne(ask_with("/nonexistent/apachectl", &dump, &err),
                     APR_SUCCESS);
    assert_has(err, "/nonexistent/apachectl");

    /* exit 0 without a tree: not httpd, or no mod_info */
    ck_assert_int_ne(ask_with(fake_apachectl("exit 0\n"), &dump, &err),
                     APR_SUCCESS);
    assert_has(err, "/m/mod_info.so");
}
END_TEST

/* Much on both stdout and stderr: no deadlock, nothing lost. */
START_TEST(test_ask_large_output)
{
    const char *dump, *err;
    orm_conffile_t c;
    apr_status_t rv = ask_with(fake_apachectl(
        "echo '# In file: /fake'\n"
        "i=0; while [ $i -lt 4000 ]; do\n"
        "  echo \"Header set X-$i 0123456789012345678901234567890123456789\"\n"
        "  echo \"warning $i 0123456789012345678901234567890123456789\" >&2\n"
        "  i=$((i+1)); done\n"
        "echo 'DBDParams /last.db'\n"), &dump, &err);

    ck_assert_msg(rv == APR_SUCCESS, "%s", err);
    ck_assert_uint_gt(strlen(dump), 4000 * 50);
    c = parse_ok(dump, NULL);
    ck_assert_str_eq(c.params, "/last.db");
}
END_TEST

/* ---- against the real httpd ---------------------------------------------- */

static int have_httpd(void)
{
    return access(ORM_APACHECTL, X_OK) == 0
           && access(ORM_INFO_MODULE, R_OK) == 0
           && access(ORM_APACHE_MODDIR "/mod_dbd.so", R_OK) == 0
           && access(ORM_APACHE_MODDIR "/mod_mpm_event.so", R_OK) == 0;
}

/* A configuration httpd -t accepts, with body after the modules. */
static const char *httpd_conf(const char *body)
{
    return put("conf/httpd.conf", apr_pstrcat(conf_pool,
        "ServerRoot \"", root, "/conf\"\n"
        "ServerName 127.0.0.1\n"
        "ErrorLog \"", root, "/error.log\"\n"
        "PidFile \"", root, "/httpd.pid\"\n"
        "DefaultRuntimeDir \"", root, "\"\n"
        "LoadModule mpm_event_module " ORM_APACHE_MODDIR
        "/mod_mpm_event.so\n"
        "LoadModule dbd_module " ORM_APACHE_MODDIR "/mod_dbd.so\n",
        body, NULL));
}

static apr_status_t ask_httpd(const char *config, const char *define,
                              const char *vhost, orm_conffile_t *conf,
                              const char **err)
{
    orm_conffile_ask_t ask;
    apr_array_header_t *defines = apr_array_make(test_pool, 1,
                                                 sizeof(const char *));
    const char *dump;
    apr_status_t rv;

    if (define) {
        APR_ARRAY_PUSH(defines, const char *) = define;
    }
    memset(&ask, 0, sizeof(ask));
    ask.apachectl = ORM_APACHECTL;
    ask.info_module = ORM_INFO_MODULE;
    ask.config = config;
    ask.defines = defines;
    rv = orm_conffile_dump(test_pool, &ask, &dump, err);
    return rv == APR_SUCCESS
           ? orm_conffile_parse(test_pool, dump, vhost, conf, err) : rv;
}

static orm_conffile_t httpd_ok(const char *config, const char *define,
                                 const char *vhost)
{
    orm_conffile_t conf;
    const char *err = NULL;

    ck_assert_msg(ask_httpd(config, define, vhost, &conf, &err)
                  == APR_SUCCESS, "%s", err);
    return conf;
}

START_TEST(test_httpd_conditionals)
{
    char *comment = apr_palloc(conf_pool, 20001);
    const char *config;
    orm_conffile_t c;

    if (!have_httpd()) {
        fprintf(stderr, "test_httpd_conditionals: skipped, no %s or "
                "its modules\n", ORM_APACHECTL);
        return;
    }
    /* a comment longer than any line buffer, ending like a directive */
    memset(comment, 'x', 20000);
    comment[0] = '#';
    memcpy(comment + 20000 - 21, " DBDParams /long.db\n", 21);
    comment[20000] = '\0';
    put("conf/extra.conf", "<IfDefine NEVER>\nDBDParams /extra-never.db\n"
        "</IfDefine>\n");
    /* the real value first: every decoy after it would override it */
    config = httpd_conf(apr_pstrcat(conf_pool,
        "Define DBDIR /srv/db\n"
        "DBDriver sqlite3\n"
        "DBDParams \"${DBDIR}/\\\n"
        "real.db\"\n"
        "Include extra.conf\n"
        "<IfDefine NEVER>\n  DBDParams /never.db\n</IfDefine>\n"
        "<IfModule mod_not_loaded.c>\n  DBDParams /not-loaded.db\n"
        "</IfModule>\n"
        "<IfModule !dbd_module>\n  DBDParams /not-dbd.db\n</IfModule>\n"
        "<IfFile /nonexistent/file>\n  DBDParams /iffile.db\n</IfFile>\n"
        "<IfDirective !DBDParams>\n  DBDParams /ifdirective.db\n"
        "</IfDirective>\n",
        comment,
        "<IfModule mod_dbd.c>\n"
        "  <IfDefine ORM_UNIT_ON>\n"
        "    <IfSection VirtualHost>\n"
        "      DBDParams /nested-on.db\n"
        "    </IfSection>\n"
        "  </IfDefine>\n"
        "</IfModule>\n", NULL));

    c = httpd_ok(config, NULL, NULL);
    ck_assert_str_eq(c.driver, "sqlite3");
    ck_assert_str_eq(c.params, "/srv/db/real.db");
    c = httpd_ok(config, "ORM_UNIT_ON", NULL);
    ck_assert_str_eq(c.params, "/nested-on.db");
}
END_TEST

/* Continuation lines joined, ${NAME} from Define and from the environment,
 * and what nothing defines refused. */
START_TEST(test_httpd_variables_and_continuations)
{
    const char *config, *err = NULL;
    orm_conffile_t c;

    if (!have_httpd()) {
        fprintf(stderr, "test_httpd_variables: skipped, no %s or its "
                "modules\n", ORM_APACHECTL);
        return;
    }
    config = httpd_conf("DBDriver \\\n  sqlite3\n"
                        "DBDParams ${ORM_UNIT_DB_DIR}/s.db\n");
    setenv("ORM_UNIT_DB_DIR", "/from/env", 1);
    c = httpd_ok(config, NULL, NULL);
    ck_assert_str_eq(c.driver, "sqlite3");
    ck_assert_str_eq(c.params, "/from/env/s.db");
    unsetenv("ORM_UNIT_DB_DIR");
    ck_assert_int_ne(ask_httpd(config, NULL, NULL, &c, &err), APR_SUCCESS);
    assert_has(err, "${ORM_UNIT_DB_DIR}");

    /* a configuration httpd refuses: its message */
    config = httpd_conf("DBDParams one two\n");
    ck_assert_int_ne(ask_httpd(config, NULL, NULL, &c, &err), APR_SUCCESS);
    assert_has(err, "DBDParams takes one argument");
}
END_TEST

TCase *tcase_conffile(void)
{
    TCase *tc = tcase_create("conffile");

    tcase_add_checked_fixture(tc, conf_setup, conf_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_dump_reads_directives);
    tcase_add_test(tc, test_dump_nothing_found_last_wins);
    tcase_add_test(tc, test_dump_vhosts);
    tcase_add_test(tc, test_dump_long_lines);
    tcase_add_test(tc, test_dump_our_directive_in_other_section);
    tcase_add_test(tc, test_dump_unresolved_variable);
    tcase_add_test(tc, test_dump_invalid_names);
    tcase_add_test(tc, test_ask_arguments);
    tcase_add_test(tc, test_ask_failure_says_why);
    tcase_add_test(tc, test_ask_large_output);
    tcase_add_test(tc, test_httpd_conditionals);
    tcase_add_test(tc, test_httpd_variables_and_continuations);
    return tc;
}
