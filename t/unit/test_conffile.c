/* Reading DBDriver, DBDParams and our server-scope directives out of the
 * configuration tree httpd prints for -t -D DUMP_CONFIG: the reader on
 * canned trees, the runner with a stand-in apachectl, and both against the
 * real httpd (skipped when it is not installed). */
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

/* The cache's file is the main server's (httpd refuses it in a vhost); a
 * vhost's dialect overrides the main server's. */
START_TEST(test_dump_cache_and_dialect)
{
    static const char dump[] =
        "DBDriver odbc\n"
        "SessionORMDialect pgsql\n"
        "SessionORMCache /run/apache2/orm.cache\n"
        "<VirtualHost *:80>\n"
        "  ServerName v.test\n"
        "  SessionORMDialect portable\n"
        "</VirtualHost>\n";
    orm_conffile_t main_conf = parse_ok(dump, NULL);
    orm_conffile_t vhost = parse_ok(dump, "v.test");
    orm_conffile_t none = parse_ok("DBDriver sqlite3\n", NULL);
    orm_conffile_t conf;
    const char *err = NULL;

    ck_assert_str_eq(main_conf.cache_file, "/run/apache2/orm.cache");
    ck_assert_str_eq(main_conf.dialect, "pgsql");
    ck_assert_str_eq(vhost.cache_file, "/run/apache2/orm.cache");
    ck_assert_str_eq(vhost.dialect, "portable");
    ck_assert_ptr_null(none.cache_file);
    ck_assert_int_ne(orm_conffile_parse(test_pool,
                                        "SessionORMCache ${RUN}/orm.cache\n",
                                        NULL, &conf, &err), APR_SUCCESS);
    assert_has(err, "SessionORMCache");
    assert_has(err, "${RUN}");
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

/* A tree (with a vhost asked for or not) and all the reader finds in it;
 * NULL: not found. */
static const struct {
    const char *why;
    const char *dump, *vhost;
    int vhost_found;
    const char *driver, *params, *table, *timeout;
} reads[] = {
    { "none of ours", "# In file: /x\n#   1:\nListen 80\n", NULL,
      0, NULL, NULL, NULL, NULL },
    { "the last one wins, names without case",
      "DBDParams /a.db\nDBDPARAMS /b.db\n", NULL,
      0, NULL, "/b.db", NULL, NULL },
    { "the main server", vhosts_dump, NULL,
      0, "sqlite3", "/main.db", "main_sess", "4" },
    /* the first vhost of that name, as httpd picks it; sections inside it
     * do not end it */
    { "the first vhost of a name", vhosts_dump, "A.TEST",
      1, "sqlite3", "/a.db", "main_sess", "4" },
    /* scheme and port, wildcard alias */
    { "a ServerName with scheme and port", vhosts_dump, "v.test",
      1, "sqlite3", "/v.db", "vsess", "1" },
    { "a wildcard ServerAlias", vhosts_dump, "www.v.test",
      1, "sqlite3", "/v.db", "vsess", "1" },
    { "a second ServerAlias", vhosts_dump, "other.test",
      1, "sqlite3", "/v.db", "vsess", "1" },
    { "a vhost that is not there", vhosts_dump, "nosuch.test",
      0, "sqlite3", "/main.db", "main_sess", "4" },
    /* an unreplaced ${NAME} counts only where the tool would use it */
    { "${NAME} in a vhost not asked for",
      "DBDParams /ok.db\n<VirtualHost *:80>\n"
      "  ServerName b.test\n  DBDParams ${NOPE}/b.db\n</VirtualHost>\n",
      NULL, 0, NULL, "/ok.db", NULL, NULL },
    { "a $ that is no variable", "DBDParams \"password=a$b{c}\"\n", NULL,
      0, NULL, "password=a$b{c}", NULL, NULL },
};

static void assert_found(const char *why, const char *what, const char *got,
                         const char *want)
{
    if (want == NULL) {
        ck_assert_msg(got == NULL, "%s: %s \"%s\" found", why, what, got);
    }
    else {
        ck_assert_msg(got != NULL && !strcmp(got, want), "%s: %s \"%s\", "
                      "not \"%s\"", why, what, got ? got : "(none)", want);
    }
}

START_TEST(test_dump_reads)
{
    size_t i;

    for (i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
        orm_conffile_t c = parse_ok(reads[i].dump, reads[i].vhost);

        ck_assert_msg(c.vhost_found == reads[i].vhost_found,
                      "%s: vhost_found %d", reads[i].why, c.vhost_found);
        assert_found(reads[i].why, "DBDriver", c.driver, reads[i].driver);
        assert_found(reads[i].why, "DBDParams", c.params, reads[i].params);
        assert_found(reads[i].why, "SessionORMTable", c.schema.table,
                     reads[i].table);
        assert_found(reads[i].why, "SessionORMTimeout", c.timeout,
                     reads[i].timeout);
        ck_assert_msg(c.sweep_batch == 0, "%s: SessionORMSweepBatch %d",
                      reads[i].why, c.sweep_batch);
    }
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

/* A tree the reader refuses, and what its message must name. */
static const struct {
    const char *why;
    const char *dump, *vhost;
    const char *names[4];       /* up to a NULL */
} refusals[] = {
    /* httpd refuses our directives in <Directory>, <Location>, <If> and the
     * like; what it lets through elsewhere (<Limit> at the top level) this
     * reader does not judge: it refuses rather than guess. */
    { "ours in <Limit>",
      "# In file: /c/httpd.conf\n"
      "#  12:\n"
      "<Limit GET>\n"
      "  #  13:\n"
      "  DBDParams /limit.db\n"
      "</Limit>\n", NULL, { "/c/httpd.conf:13", "DBDParams", "<Limit>" } },
    { "ours in <Limit> in a vhost",
      "<VirtualHost *:80>\n"
      "  ServerName a.test\n"
      "  <Limit GET>\n"
      "    SessionORMTable t\n"
      "  </Limit>\n"
      "</VirtualHost>\n", NULL, { "SessionORMTable" } },
    /* httpd leaves a ${NAME} nothing defines as it is */
    { "${NAME} in DBDParams",
      "DBDriver sqlite3\nDBDParams \"${DB_DIR}/s.db\"\n", NULL,
      { "DBDParams", "${DB_DIR}" } },
    { "${NAME} in DBDriver", "DBDriver ${DRV}\n", NULL,
      { "DBDriver", "${DRV}" } },
    { "${NAME} in SessionORMTimeout", "SessionORMTimeout ${T}\n", NULL,
      { "${T}" } },
    { "${NAME} in the vhost asked for",
      "DBDParams /ok.db\n<VirtualHost *:80>\n"
      "  ServerName b.test\n  DBDParams ${NOPE}/b.db\n</VirtualHost>\n",
      "b.test", { "${NOPE}" } },
    /* names the schema cannot hold */
    { "a bad table name",
      "# In file: /c/x.conf\n#   7:\nSessionORMTable \"a b\"\n", NULL,
      { "/c/x.conf:7", "SessionORMTable" } },
    { "an unknown field", "SessionORMColumn nosuchfield c\n", NULL,
      { "unknown field" } },
    { "a field without a column", "SessionORMColumn data\n", NULL,
      { "SessionORMColumn" } },
};

START_TEST(test_dump_refused)
{
    size_t i, j;

    for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        orm_conffile_t conf;
        const char *err = NULL;

        ck_assert_msg(orm_conffile_parse(test_pool, refusals[i].dump,
                                         refusals[i].vhost, &conf, &err)
                      != APR_SUCCESS, "%s: parse succeeded", refusals[i].why);
        ck_assert_msg(err != NULL, "%s: no message", refusals[i].why);
        for (j = 0; j < 4 && refusals[i].names[j]; j++) {
            assert_has(err, refusals[i].names[j]);
        }
    }
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

/* A stand-in that prints a tree, and the DBDParams read from it. */
static const struct {
    const char *why;
    const char *script;
    const char *params;
    apr_size_t min_dump;        /* the tree is at least this long */
} answers[] = {
    { "its arguments, one per line, as a value",
      "echo '# In file: /fake'\n"
      "printf \"DBDParams '\"; for a; do printf '%s|' \"$a\"; done\n"
      "echo \"'\"\n"
      "echo 'a warning' >&2\n",
      "-f|/c/apache2.conf|-d|/srv/root|-D|ONE|-D|TWO|-C|LoadModule "
      "info_module \"/m/mod_info.so\"|-t|-D|DUMP_CONFIG|", 0 },
    /* no deadlock, nothing lost */
    { "much on both stdout and stderr",
      "echo '# In file: /fake'\n"
      "i=0; while [ $i -lt 4000 ]; do\n"
      "  echo \"Header set X-$i 0123456789012345678901234567890123456789\"\n"
      "  echo \"warning $i 0123456789012345678901234567890123456789\" >&2\n"
      "  i=$((i+1)); done\n"
      "echo 'DBDParams /last.db'\n",
      "/last.db", 4000 * 50 },
};

START_TEST(test_ask_answers)
{
    size_t i;

    for (i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
        const char *dump, *err;
        orm_conffile_t c;
        apr_status_t rv = ask_with(fake_apachectl(answers[i].script), &dump,
                                   &err);

        ck_assert_msg(rv == APR_SUCCESS, "%s: %s", answers[i].why, err);
        ck_assert_msg(strlen(dump) > answers[i].min_dump, "%s: %zu bytes",
                      answers[i].why, strlen(dump));
        c = parse_ok(dump, NULL);
        assert_found(answers[i].why, "DBDParams", c.params,
                     answers[i].params);
    }
}
END_TEST

/* A stand-in (NULL: one that is not there) whose failure the message
 * must show. */
static const struct {
    const char *why;
    const char *script;
    const char *says[2];        /* up to a NULL */
} failures[] = {
    { "httpd refuses the configuration",
      "echo 'Action failed.'\n"
      "echo 'AH00526: Syntax error on line 3 of /c/apache2.conf:' >&2\n"
      "echo 'Invalid command' >&2\nexit 1\n",
      { "AH00526: Syntax error on line 3", "exit 1" } },
    { "no such program", NULL, { "/nonexistent/apachectl" } },
    /* exit 0 without a tree: not httpd, or no mod_info */
    { "no tree", "exit 0\n", { "/m/mod_info.so" } },
};

START_TEST(test_ask_failure_says_why)
{
    size_t i, j;

    for (i = 0; i < sizeof(failures) / sizeof(failures[0]); i++) {
        const char *dump, *err;
        const char *apachectl = failures[i].script
            ? fake_apachectl(failures[i].script) : "/nonexistent/apachectl";

        ck_assert_msg(ask_with(apachectl, &dump, &err) != APR_SUCCESS,
                      "%s: succeeded", failures[i].why);
        for (j = 0; j < 2 && failures[i].says[j]; j++) {
            assert_has(err, failures[i].says[j]);
        }
    }
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
    tcase_add_test(tc, test_dump_reads);
    tcase_add_test(tc, test_dump_cache_and_dialect);
    tcase_add_test(tc, test_dump_long_lines);
    tcase_add_test(tc, test_dump_refused);
    tcase_add_test(tc, test_ask_answers);
    tcase_add_test(tc, test_ask_failure_says_why);
    tcase_add_test(tc, test_httpd_conditionals);
    tcase_add_test(tc, test_httpd_variables_and_continuations);
    return tc;
}
