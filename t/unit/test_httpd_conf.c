/* Reading DBDriver, DBDParams and our server-scope directives out of httpd
 * configuration trees written to a temporary directory. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "tests.h"
#include "orm_httpd_conf.h"

static apr_pool_t *conf_pool;
static const char *root;            /* the tree's temporary directory */

static void conf_setup(void)
{
    apr_pool_create(&conf_pool, NULL);
    root = test_mkdtemp(conf_pool);
}

static void conf_teardown(void)
{
    ck_assert_int_eq(test_rmtree(root), 0);
    unsetenv("ORM_UNIT_DB_DIR");
    unsetenv("ORM_UNIT_TABLE");
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

static const char *at(const char *rel)
{
    return apr_pstrcat(test_pool, root, "/", rel, NULL);
}

/* Reads root/rel, which must succeed. */
static orm_httpd_conf_t read_ok(const char *rel, const char *server_root,
                                const char *vhost)
{
    orm_httpd_conf_t conf;
    const char *err = "(not set)";
    apr_status_t rv;

    memset(&conf, 0x5a, sizeof(conf));
    rv = orm_httpd_conf_read(test_pool, at(rel), server_root, vhost, &conf,
                             &err);
    ck_assert_msg(rv == APR_SUCCESS, "reading %s failed: %s", rel,
                  err ? err : "(no message)");
    return conf;
}

/* Reads root/rel, which must fail with a message containing each of the
 * NULL-terminated fragments. Returns the message. */
static const char *read_fails(const char *rel, const char *server_root,
                              const char *vhost, ...)
{
    orm_httpd_conf_t conf;
    const char *err = NULL, *fragment;
    apr_status_t rv;
    va_list ap;

    rv = orm_httpd_conf_read(test_pool, at(rel), server_root, vhost, &conf,
                             &err);
    ck_assert_msg(rv != APR_SUCCESS, "reading %s succeeded", rel);
    ck_assert_ptr_nonnull(err);
    va_start(ap, vhost);
    while ((fragment = va_arg(ap, const char *)) != NULL) {
        ck_assert_msg(strstr(err, fragment) != NULL,
                      "no \"%s\" in \"%s\"", fragment, err);
    }
    va_end(ap);
    return err;
}

static void assert_columns_default(const orm_httpd_conf_t *c, int except)
{
    int i;

    for (i = 0; i < ORM_FIELD_COUNT; i++) {
        if (i != except) {
            ck_assert_msg(c->schema.columns[i] == NULL, "column %d set to %s",
                          i, c->schema.columns[i]);
        }
    }
}

/* ---- plain files ---------------------------------------------------------- */

START_TEST(test_reads_directives)
{
    orm_httpd_conf_t c;

    put("httpd.conf",
        "ServerName www.example.com\n"
        "LoadModule dbd_module modules/mod_dbd.so\n"
        "DBDriver sqlite3\n"
        "DBDParams /var/lib/app/sessions.db\n"
        "SessionORMTable app_sessions\n"
        "SessionORMColumn id sid\n"
        "SessionORMColumn user_name owner\n"
        "SessionORMColumn EXPIRES_AT exp_ms\n"
        "SessionORMSweepBatch 250\n"
        "SessionORMSweepInterval 60\n"
        "<Location /app>\n"
        "  SessionORMCookieName sid\n"
        "</Location>\n");
    c = read_ok("httpd.conf", NULL, NULL);
    ck_assert_str_eq(c.driver, "sqlite3");
    ck_assert_str_eq(c.params, "/var/lib/app/sessions.db");
    ck_assert_str_eq(c.schema.table, "app_sessions");
    ck_assert_str_eq(c.schema.columns[ORM_FIELD_ID], "sid");
    ck_assert_str_eq(c.schema.columns[ORM_FIELD_USER_NAME], "owner");
    ck_assert_str_eq(c.schema.columns[ORM_FIELD_EXPIRES_AT], "exp_ms");
    ck_assert_ptr_null(c.schema.columns[ORM_FIELD_DATA]);
    ck_assert_ptr_null(c.schema.columns[ORM_FIELD_CREATED_AT]);
    ck_assert_ptr_null(c.schema.columns[ORM_FIELD_UPDATED_AT]);
    ck_assert_int_eq(c.sweep_batch, 250);
    ck_assert_int_eq(c.vhost_found, 0);
}
END_TEST

START_TEST(test_nothing_found)
{
    orm_httpd_conf_t c;

    put("httpd.conf", "ServerName www.example.com\nListen 80\n");
    c = read_ok("httpd.conf", NULL, NULL);
    ck_assert_ptr_null(c.driver);
    ck_assert_ptr_null(c.params);
    ck_assert_ptr_null(c.schema.table);
    assert_columns_default(&c, -1);
    ck_assert_int_eq(c.sweep_batch, 0);
    ck_assert_int_eq(c.vhost_found, 0);

    put("empty.conf", "");
    c = read_ok("empty.conf", NULL, NULL);
    ck_assert_ptr_null(c.driver);
    ck_assert_int_eq(c.vhost_found, 0);
}
END_TEST

START_TEST(test_names_case_insensitive_last_wins)
{
    orm_httpd_conf_t c;

    put("httpd.conf",
        "dbdriver pgsql\n"
        "DBDRIVER mysql\n"
        "dbdparams first\n"
        "DbdParams second\n"
        "sessionormtable t1\n"
        "SESSIONORMTABLE t2\n"
        "sessionormcolumn Data body\n"
        "SessionORMColumn data payload\n");
    c = read_ok("httpd.conf", NULL, NULL);
    ck_assert_str_eq(c.driver, "mysql");
    ck_assert_str_eq(c.params, "second");
    ck_assert_str_eq(c.schema.table, "t2");
    ck_assert_str_eq(c.schema.columns[ORM_FIELD_DATA], "payload");
    assert_columns_default(&c, ORM_FIELD_DATA);
}
END_TEST

START_TEST(test_comments_blank_lines_whitespace)
{
    orm_httpd_conf_t c;

    put("httpd.conf",
        "# DBDriver oracle\n"
        "\n"
        "   \t\n"
        "    # SessionORMTable commented\n"
        "\tDBDriver   sqlite3   \n"
        "  DBDParams\t/tmp/s.db\r\n"
        "#SessionORMTable nope\n"
        "SessionORMSweepBatch 7");           /* no newline at the end */
    c = read_ok("httpd.conf", NULL, NULL);
    ck_assert_str_eq(c.driver, "sqlite3");
    ck_assert_str_eq(c.params, "/tmp/s.db");
    ck_assert_ptr_null(c.schema.table);
    ck_assert_int_eq(c.sweep_batch, 7);
}
END_TEST

START_TEST(test_line_continuations)
{
    orm_httpd_conf_t c;
    const char *err;

    put("httpd.conf",
        "DBDParams \\\n"
        "    \"host=db port=5432 \\\n"
        "dbname=app\"\n"
        "DBDri\\\n"
        "ver pgsql\n"
        "# a comment \\\n"
        "SessionORMTable not_a_comment\n");
    c = read_ok("httpd.conf", NULL, NULL);
    ck_assert_str_eq(c.params, "host=db port=5432 dbname=app");
    ck_assert_str_eq(c.driver, "pgsql");
    /* a continued comment swallows the next line, as in httpd */
    ck_assert_ptr_null(c.schema.table);

    /* an error on a continued line names the line it starts on */
    put("bad.conf",
        "DBDriver sqlite3\n"
        "SessionORMTable \\\n"
        "   bad-name\n");
    err = read_fails("bad.conf", NULL, NULL, "bad.conf:2", NULL);
    ck_assert_ptr_null(strstr(err, "bad.conf:3"));
}
END_TEST

START_TEST(test_quoted_arguments)
{
    orm_httpd_conf_t c;

    put("httpd.conf",
        "DBDriver \"pgsql\"\n"
        "DBDParams \"host=localhost dbname=app user=www-data\"\n"
        "SessionORMTable 'quoted_table'\n");
    c = read_ok("httpd.conf", NULL, NULL);
    ck_assert_str_eq(c.driver, "pgsql");
    ck_assert_str_eq(c.params, "host=localhost dbname=app user=www-data");
    ck_assert_str_eq(c.schema.table, "quoted_table");

    put("single.conf", "DBDParams 'dbname=x password=a b'\n");
    c = read_ok("single.conf", NULL, NULL);
    ck_assert_str_eq(c.params, "dbname=x password=a b");

    /* unquoted: only the first word */
    put("word.conf", "DBDParams host=a dbname=b\n");
    c = read_ok("word.conf", NULL, NULL);
    ck_assert_str_eq(c.params, "host=a");
}
END_TEST

START_TEST(test_variables)
{
    orm_httpd_conf_t c;

    setenv("ORM_UNIT_DB_DIR", "/srv/env-db", 1);
    setenv("ORM_UNIT_TABLE", "from_env", 1);
    put("httpd.conf",
        "Define DBDIR /srv/defined\n"
        "Define DRV sqlite3\n"
        "DBDriver ${DRV}\n"
        "DBDParams ${DBDIR}/sessions-${ORM_UNIT_DB_DIR}.db\n"
        "SessionORMTable ${ORM_UNIT_TABLE}\n");
    c = read_ok("httpd.conf", NULL, NULL);
    ck_assert_str_eq(c.driver, "sqlite3");
    ck_assert_str_eq(c.params, "/srv/defined/sessions-/srv/env-db.db");
    ck_assert_str_eq(c.schema.table, "from_env");

    /* Define wins over the environment; a later Define applies to later
     * lines only */
    put("order.conf",
        "DBDParams ${ORM_UNIT_DB_DIR}/a.db\n"
        "Define ORM_UNIT_DB_DIR /srv/override\n"
        "DBDriver x${ORM_UNIT_DB_DIR}\n");
    c = read_ok("order.conf", NULL, NULL);
    ck_assert_str_eq(c.params, "/srv/env-db/a.db");
    ck_assert_str_eq(c.driver, "x/srv/override");

    /* unknown: left as written; quoted values with spaces */
    put("unknown.conf",
        "DBDParams ${ORM_UNIT_NO_SUCH_VARIABLE}/x\n"
        "Define P \"host=h dbname=d\"\n"
        "DBDriver \"${P}\"\n");
    unsetenv("ORM_UNIT_NO_SUCH_VARIABLE");
    c = read_ok("unknown.conf", NULL, NULL);
    ck_assert_str_eq(c.params, "${ORM_UNIT_NO_SUCH_VARIABLE}/x");
    ck_assert_str_eq(c.driver, "host=h dbname=d");

    /* a variable can name the table only if the result is valid */
    put("badvar.conf",
        "Define T bad-table\n"
        "SessionORMTable ${T}\n");
    read_fails("badvar.conf", NULL, NULL, "badvar.conf:2", "bad-table", NULL);
}
END_TEST

START_TEST(test_invalid_names)
{
    char longest[ORM_TABLE_NAME_MAX + 2];
    char longest_col[ORM_COLUMN_NAME_MAX + 2];
    orm_httpd_conf_t c;

    put("t1.conf", "DBDriver sqlite3\n\nSessionORMTable bad-name\n");
    read_fails("t1.conf", NULL, NULL, "t1.conf:3", "SessionORMTable",
               "bad-name", NULL);
    put("t2.conf", "SessionORMTable 1abc\n");
    read_fails("t2.conf", NULL, NULL, "t2.conf:1", NULL);
    put("t3.conf", "SessionORMTable \"a;b\"\n");
    read_fails("t3.conf", NULL, NULL, "t3.conf:1", NULL);
    put("c1.conf", "SessionORMColumn nosuchfield col\n");
    read_fails("c1.conf", NULL, NULL, "c1.conf:1", "nosuchfield", NULL);
    put("c2.conf", "# x\nSessionORMColumn data \"drop table\"\n");
    read_fails("c2.conf", NULL, NULL, "c2.conf:2", "data", NULL);
    put("c3.conf", "SessionORMColumn id 9id\n");
    read_fails("c3.conf", NULL, NULL, "c3.conf:1", NULL);

    /* the longest names allowed, and one more character */
    memset(longest, 't', sizeof(longest));
    longest[ORM_TABLE_NAME_MAX] = '\0';
    memset(longest_col, 'c', sizeof(longest_col));
    longest_col[ORM_COLUMN_NAME_MAX] = '\0';
    put("long.conf", apr_pstrcat(test_pool, "SessionORMTable ", longest,
                                 "\nSessionORMColumn data ", longest_col,
                                 "\n", NULL));
    c = read_ok("long.conf", NULL, NULL);
    ck_assert_str_eq(c.schema.table, longest);
    ck_assert_str_eq(c.schema.columns[ORM_FIELD_DATA], longest_col);
    longest[ORM_TABLE_NAME_MAX] = 't';
    longest[ORM_TABLE_NAME_MAX + 1] = '\0';
    put("long2.conf", apr_pstrcat(test_pool, "SessionORMTable ", longest,
                                  "\n", NULL));
    read_fails("long2.conf", NULL, NULL, "long2.conf:1", NULL);
    longest_col[ORM_COLUMN_NAME_MAX] = 'c';
    longest_col[ORM_COLUMN_NAME_MAX + 1] = '\0';
    put("long3.conf", apr_pstrcat(test_pool, "SessionORMColumn id ",
                                  longest_col, "\n", NULL));
    read_fails("long3.conf", NULL, NULL, "long3.conf:1", NULL);

    /* a bad name in a virtual host that is not asked for still stops it,
     * as it stops httpd */
    put("vh.conf",
        "<VirtualHost *:80>\n"
        "  ServerName other.example.com\n"
        "  SessionORMTable bad-name\n"
        "</VirtualHost>\n");
    read_fails("vh.conf", NULL, NULL, "vh.conf:3", NULL);
    read_fails("vh.conf", NULL, "www.example.com", "vh.conf:3", NULL);
}
END_TEST

START_TEST(test_missing_file)
{
    const char *err = read_fails("no/such/httpd.conf", NULL, NULL,
                                 "no/such/httpd.conf", NULL);
    ck_assert(strlen(err) > 0);
}
END_TEST

/* ---- Include and IncludeOptional ----------------------------------------- */

START_TEST(test_include_absolute_and_relative)
{
    orm_httpd_conf_t c;

    put("conf/db.conf", "DBDriver pgsql\n");
    put("conf/table.conf", "SessionORMTable included\n");
    put("httpd.conf", apr_pstrcat(test_pool,
        "Include ", root, "/conf/db.conf\n"      /* absolute */
        "Include conf/table.conf\n", NULL));     /* relative to the root */
    c = read_ok("httpd.conf", root, NULL);
    ck_assert_str_eq(c.driver, "pgsql");
    ck_assert_str_eq(c.schema.table, "included");

    /* directives after an Include override the included ones, and the
     * other way round */
    put("order.conf", apr_pstrcat(test_pool,
        "DBDriver first\n"
        "Include conf/db.conf\n"
        "SessionORMTable after\n"
        "IncludeOptional ", root, "/conf/table.conf\n", NULL));
    c = read_ok("order.conf", root, NULL);
    ck_assert_str_eq(c.driver, "pgsql");
    ck_assert_str_eq(c.schema.table, "included");
}
END_TEST

START_TEST(test_include_server_root_directive)
{
    orm_httpd_conf_t c;
    const char *other = apr_pstrcat(conf_pool, root, "/other", NULL);

    put("other/mods/dbd.conf", "DBDriver from_other_root\n");
    put("mods/dbd.conf", "DBDriver from_given_root\n");
    put("httpd.conf", apr_pstrcat(test_pool,
        "Include mods/dbd.conf\n"
        "ServerRoot \"", other, "\"\n"
        "Include mods/dbd.conf\n", NULL));
    /* before ServerRoot: the root given; after it: ServerRoot's */
    put("first.conf", "Include mods/dbd.conf\n");
    c = read_ok("first.conf", root, NULL);
    ck_assert_str_eq(c.driver, "from_given_root");
    c = read_ok("httpd.conf", root, NULL);
    ck_assert_str_eq(c.driver, "from_other_root");

    /* ServerRoot inside a virtual host is not a ServerRoot */
    put("vh.conf", apr_pstrcat(test_pool,
        "<VirtualHost *:80>\n"
        "ServerRoot ", other, "\n"
        "</VirtualHost>\n"
        "Include mods/dbd.conf\n", NULL));
    c = read_ok("vh.conf", root, NULL);
    ck_assert_str_eq(c.driver, "from_given_root");
}
END_TEST

START_TEST(test_include_glob_and_directory)
{
    orm_httpd_conf_t c;

    /* alphabetical order: the last one wins */
    put("conf.d/10-db.conf", "DBDriver sqlite3\nDBDParams ten\n");
    put("conf.d/20-db.conf", "DBDParams twenty\n");
    put("conf.d/30-table.conf", "SessionORMTable thirty\n");
    put("conf.d/99-ignored.txt", "DBDParams txt\n");
    put("httpd.conf", "Include conf.d/*.conf\n");
    c = read_ok("httpd.conf", root, NULL);
    ck_assert_str_eq(c.driver, "sqlite3");
    ck_assert_str_eq(c.params, "twenty");
    ck_assert_str_eq(c.schema.table, "thirty");

    /* a directory: every file in it, in order */
    put("dir.conf", "Include conf.d\n");
    c = read_ok("dir.conf", root, NULL);
    ck_assert_str_eq(c.params, "txt");
    ck_assert_str_eq(c.schema.table, "thirty");
    put("dirslash.conf", "IncludeOptional conf.d/\n");
    c = read_ok("dirslash.conf", root, NULL);
    ck_assert_str_eq(c.params, "txt");

    /* a glob in the directory part */
    put("sites/a/site.conf", "DBDParams site_a\n");
    put("sites/b/site.conf", "DBDParams site_b\n");
    put("globdir.conf", "Include sites/*/site.conf\n");
    c = read_ok("globdir.conf", root, NULL);
    ck_assert_str_eq(c.params, "site_b");

    /* an empty directory is fine */
    put("empty/.keep", "");
    put("emptydir.conf", "DBDParams kept\nInclude empty\n");
    c = read_ok("emptydir.conf", root, NULL);
    ck_assert_str_eq(c.params, "kept");
}
END_TEST

START_TEST(test_include_missing)
{
    orm_httpd_conf_t c;

    put("httpd.conf",
        "DBDriver sqlite3\n"
        "# the next one is missing\n"
        "Include conf/missing.conf\n");
    read_fails("httpd.conf", root, NULL, "httpd.conf:3", "missing.conf",
               NULL);

    /* the error names the included file and its line */
    put("conf/inner.conf", "\n\n\nInclude nowhere/x.conf\n");
    put("outer.conf", "Include conf/inner.conf\n");
    read_fails("outer.conf", root, NULL, "inner.conf:4", "x.conf", NULL);

    /* IncludeOptional: a missing file or glob is fine */
    put("optional.conf",
        "DBDriver sqlite3\n"
        "IncludeOptional conf/missing.conf\n"
        "IncludeOptional nowhere/*.conf\n"
        "IncludeOptional conf/*.missing\n"
        "DBDParams after\n");
    c = read_ok("optional.conf", root, NULL);
    ck_assert_str_eq(c.driver, "sqlite3");
    ck_assert_str_eq(c.params, "after");

    /* an error further down stops the read */
    put("stops.conf",
        "DBDriver sqlite3\n"
        "Include conf/missing.conf\n"
        "SessionORMTable bad-name\n");
    read_fails("stops.conf", root, NULL, "stops.conf:2", NULL);
}
END_TEST

START_TEST(test_include_loop)
{
    put("a.conf", "DBDriver sqlite3\nInclude b.conf\n");
    put("b.conf", "Include a.conf\n");
    read_fails("a.conf", root, NULL, "loop", NULL);
    put("self.conf", "Include self.conf\n");
    read_fails("self.conf", root, NULL, "self.conf:1", NULL);
    /* a glob that includes the file itself */
    put("g/main.conf", "Include g/*.conf\n");
    read_fails("g/main.conf", root, NULL, "loop", NULL);
}
END_TEST

START_TEST(test_include_same_file_twice_is_no_loop)
{
    orm_httpd_conf_t c;

    put("part.conf", "DBDParams part\n");
    put("httpd.conf",
        "Include part.conf\n"
        "Include part.conf\n"
        "Include part.conf\n"
        "SessionORMTable done\n");
    c = read_ok("httpd.conf", root, NULL);
    ck_assert_str_eq(c.params, "part");
    ck_assert_str_eq(c.schema.table, "done");
}
END_TEST

START_TEST(test_include_path_from_variable)
{
    orm_httpd_conf_t c;

    put("conf/db.conf", "DBDriver mysql\n");
    put("httpd.conf",
        "Define CONFDIR conf\n"
        "Include ${CONFDIR}/db.conf\n");
    c = read_ok("httpd.conf", root, NULL);
    ck_assert_str_eq(c.driver, "mysql");
}
END_TEST

/* ---- virtual hosts ------------------------------------------------------- */

static void put_vhosts(void)
{
    put("sites/c.conf",
        "<VirtualHost *:443>\n"
        "    ServerName https://c.example.com:8443\n"
        "    DBDParams c.db\n"
        "</VirtualHost>\n");
    put("httpd.conf",
        "DBDriver sqlite3\n"
        "DBDParams main.db\n"
        "SessionORMTable main_t\n"
        "SessionORMColumn data payload\n"
        "SessionORMSweepBatch 100\n"
        "\n"
        "<VirtualHost *:80>\n"
        "    DBDParams a.db\n"                      /* before ServerName */
        "    ServerName a.example.com\n"
        "    SessionORMTable a_t\n"
        "</VirtualHost>\n"
        "\n"
        "<VirtualHost 127.0.0.1:80 [::1]:80>\n"
        "    ServerName b.example.com:80\n"
        "    ServerAlias www.b.example.com b2.example.com\n"
        "    DBDriver pgsql\n"
        "    DBDParams \"host=db dbname=b\"\n"
        "    SessionORMColumn id sid\n"
        "    SessionORMSweepBatch 5\n"
        "</VirtualHost>\n"
        "\n"
        "Include sites/*.conf\n"
        "\n"
        "<virtualhost *:80>\n"
        "    ServerName d.example.com\n"
        "    SessionORMColumn data d_payload\n"
        "</virtualhost>\n"
        "SessionORMColumn user_name main_owner\n");  /* main, after vhosts */
}

START_TEST(test_vhost_none_asked)
{
    orm_httpd_conf_t c;

    put_vhosts();
    c = read_ok("httpd.conf", root, NULL);
    ck_assert_str_eq(c.driver, "sqlite3");
    ck_assert_str_eq(c.params, "main.db");
    ck_assert_str_eq(c.schema.table, "main_t");
    ck_assert_str_eq(c.schema.columns[ORM_FIELD_DATA], "payload");
    ck_assert_str_eq(c.schema.columns[ORM_FIELD_USER_NAME], "main_owner");
    ck_assert_ptr_null(c.schema.columns[ORM_FIELD_ID]);
    ck_assert_int_eq(c.sweep_batch, 100);
    ck_assert_int_eq(c.vhost_found, 0);
}
END_TEST

START_TEST(test_vhost_by_server_name)
{
    orm_httpd_conf_t c;

    put_vhosts();
    c = read_ok("httpd.conf", root, "a.example.com");
    ck_assert_int_eq(c.vhost_found, 1);
    ck_assert_str_eq(c.driver, "sqlite3");              /* main's */
    ck_assert_str_eq(c.params, "a.db");                 /* its own */
    ck_assert_str_eq(c.schema.table, "a_t");
    ck_assert_str_eq(c.schema.columns[ORM_FIELD_DATA], "payload");
    ck_assert_str_eq(c.schema.columns[ORM_FIELD_USER_NAME], "main_owner");
    ck_assert_ptr_null(c.schema.columns[ORM_FIELD_ID]);  /* b's not leaked */
    ck_assert_int_eq(c.sweep_batch, 100);

    /* host names are case-insensitive */
    c = read_ok("httpd.conf", root, "A.Example.COM");
    ck_assert_int_eq(c.vhost_found, 1);
    ck_assert_str_eq(c.params, "a.db");
}
END_TEST

START_TEST(test_vhost_by_alias_and_port)
{
    orm_httpd_conf_t c;
    static const char *const names[] = {
        "b.example.com", "www.b.example.com", "b2.example.com"
    };
    size_t i;

    put_vhosts();
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        c = read_ok("httpd.conf", root, names[i]);
        ck_assert_msg(c.vhost_found, "%s not found", names[i]);
        ck_assert_str_eq(c.driver, "pgsql");
        ck_assert_str_eq(c.params, "host=db dbname=b");
        ck_assert_str_eq(c.schema.table, "main_t");
        ck_assert_str_eq(c.schema.columns[ORM_FIELD_ID], "sid");
        ck_assert_str_eq(c.schema.columns[ORM_FIELD_DATA], "payload");
        ck_assert_int_eq(c.sweep_batch, 5);
    }
    /* scheme and port in ServerName, in an included file */
    c = read_ok("httpd.conf", root, "c.example.com");
    ck_assert_int_eq(c.vhost_found, 1);
    ck_assert_str_eq(c.params, "c.db");
    ck_assert_str_eq(c.driver, "sqlite3");
    /* lower-case section tags */
    c = read_ok("httpd.conf", root, "d.example.com");
    ck_assert_int_eq(c.vhost_found, 1);
    ck_assert_str_eq(c.params, "main.db");
    ck_assert_str_eq(c.schema.columns[ORM_FIELD_DATA], "d_payload");
}
END_TEST

START_TEST(test_vhost_not_found)
{
    orm_httpd_conf_t c;
    static const char *const names[] = {
        "zzz.example.com", "example.com", "b.example", "a.example.com.",
        "b.example.com:80x", "www.b.example.comx", ""
    };
    size_t i;

    put_vhosts();
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        c = read_ok("httpd.conf", root, names[i]);
        ck_assert_msg(!c.vhost_found, "'%s' found", names[i]);
        ck_assert_str_eq(c.driver, "sqlite3");
        ck_assert_str_eq(c.params, "main.db");
        ck_assert_str_eq(c.schema.table, "main_t");
        ck_assert_ptr_null(c.schema.columns[ORM_FIELD_ID]);
        ck_assert_int_eq(c.sweep_batch, 100);
    }
}
END_TEST

START_TEST(test_vhost_without_main_values)
{
    orm_httpd_conf_t c;

    put("httpd.conf",
        "<VirtualHost *:80>\n"
        "ServerName only.example.com\n"
        "DBDriver mysql\n"
        "DBDParams \"db=only\"\n"
        "</VirtualHost>\n");
    c = read_ok("httpd.conf", NULL, NULL);
    ck_assert_ptr_null(c.driver);
    ck_assert_ptr_null(c.params);
    ck_assert_int_eq(c.vhost_found, 0);
    c = read_ok("httpd.conf", NULL, "only.example.com");
    ck_assert_int_eq(c.vhost_found, 1);
    ck_assert_str_eq(c.driver, "mysql");
    ck_assert_str_eq(c.params, "db=only");
    ck_assert_ptr_null(c.schema.table);

    /* a vhost without ServerName matches nothing */
    put("anon.conf",
        "DBDParams main\n"
        "<VirtualHost *:80>\n"
        "DBDParams anon\n"
        "</VirtualHost>\n");
    c = read_ok("anon.conf", NULL, "localhost");
    ck_assert_int_eq(c.vhost_found, 0);
    ck_assert_str_eq(c.params, "main");
}
END_TEST

START_TEST(test_vhost_include_inside)
{
    orm_httpd_conf_t c;

    put("vh/settings.conf", "DBDParams from_include\nSessionORMTable inc_t\n");
    put("httpd.conf",
        "DBDParams main\n"
        "<VirtualHost *:80>\n"
        "  ServerName inc.example.com\n"
        "  Include vh/settings.conf\n"
        "</VirtualHost>\n");
    c = read_ok("httpd.conf", root, "inc.example.com");
    ck_assert_int_eq(c.vhost_found, 1);
    ck_assert_str_eq(c.params, "from_include");
    ck_assert_str_eq(c.schema.table, "inc_t");
    c = read_ok("httpd.conf", root, NULL);
    ck_assert_str_eq(c.params, "main");
    ck_assert_ptr_null(c.schema.table);
}
END_TEST

/* ---- httpd compatibility (were known bugs, now fixed) ---------------------------------- */

/* httpd 2.4 reads a directory given to Include recursively, dot files
 * included (checked with apache2 -t -D DUMP_INCLUDES); the reader only reads
 * the regular, non-hidden files directly in it, and skips directories that
 * a glob matched. */
START_TEST(test_include_directory_recursive)
{
    orm_httpd_conf_t c;

    put("conf.d/a.conf", "DBDriver sqlite3\n");
    put("conf.d/sub/b.conf", "DBDParams from_subdir\n");
    put("conf.d/.hidden.conf", "SessionORMTable from_dotfile\n");
    put("httpd.conf", "Include conf.d\n");
    c = read_ok("httpd.conf", root, NULL);
    ck_assert_str_eq(c.driver, "sqlite3");
    ck_assert_ptr_nonnull(c.params);
    ck_assert_str_eq(c.params, "from_subdir");
    ck_assert_ptr_nonnull(c.schema.table);
    ck_assert_str_eq(c.schema.table, "from_dotfile");

    /* a glob that matches a directory */
    put("glob.conf", "Include conf.d/s*\n");
    c = read_ok("glob.conf", root, NULL);
    ck_assert_ptr_nonnull(c.params);
    ck_assert_str_eq(c.params, "from_subdir");
}
END_TEST

/* httpd 2.4: "Include conf.d/<star>.nomatch" fails ("No matches for the wildcard
 * '*.nomatch' in '.../conf.d', failing"); only IncludeOptional ignores it.
 * The reader accepts it silently. */
START_TEST(test_include_wildcard_without_match)
{
    put("conf.d/a.conf", "DBDriver sqlite3\n");
    put("httpd.conf", "\nInclude conf.d/*.nomatch\n");
    read_fails("httpd.conf", root, NULL, "httpd.conf:2", NULL);
}
END_TEST

/* httpd matches ServerAlias wildcards (ServerAlias *.example.com); the
 * reader compares names literally, so --vhost shop.example.com misses the
 * virtual host httpd would serve it from. */
START_TEST(test_vhost_alias_wildcard)
{
    orm_httpd_conf_t c;

    put("httpd.conf",
        "DBDParams main\n"
        "<VirtualHost *:80>\n"
        "  ServerName example.com\n"
        "  ServerAlias *.example.com\n"
        "  DBDParams wild\n"
        "</VirtualHost>\n");
    c = read_ok("httpd.conf", NULL, "shop.example.com");
    ck_assert_int_eq(c.vhost_found, 1);
    ck_assert_str_eq(c.params, "wild");
}
END_TEST

/* httpd keeps a backslash that does not escape a quote or a backslash
 * (ap_getword_conf); apr_tokenize_to_argv drops every backslash, so a
 * password such as a\b in DBDParams is read as ab. */
START_TEST(test_backslash_kept)
{
    orm_httpd_conf_t c;

    put("httpd.conf", "DBDParams \"user=u password=a\\b\"\n");
    c = read_ok("httpd.conf", NULL, NULL);
    ck_assert_str_eq(c.params, "user=u password=a\\b");
}
END_TEST

/* SessionORMColumn takes two arguments; httpd refuses one. The reader
 * ignores the line silently, so the admin tool works on a different column
 * than httpd would (if httpd started at all). */
START_TEST(test_column_one_argument)
{
    put("httpd.conf", "SessionORMColumn data\n");
    read_fails("httpd.conf", NULL, NULL, "httpd.conf:1", NULL);
}
END_TEST

TCase *tcase_httpd_conf(void)
{
    TCase *tc = tcase_create("httpd_conf");

    tcase_add_checked_fixture(tc, conf_setup, conf_teardown);
    tcase_add_test(tc, test_reads_directives);
    tcase_add_test(tc, test_nothing_found);
    tcase_add_test(tc, test_names_case_insensitive_last_wins);
    tcase_add_test(tc, test_comments_blank_lines_whitespace);
    tcase_add_test(tc, test_line_continuations);
    tcase_add_test(tc, test_quoted_arguments);
    tcase_add_test(tc, test_variables);
    tcase_add_test(tc, test_invalid_names);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_include_absolute_and_relative);
    tcase_add_test(tc, test_include_server_root_directive);
    tcase_add_test(tc, test_include_glob_and_directory);
    tcase_add_test(tc, test_include_missing);
    tcase_add_test(tc, test_include_loop);
    tcase_add_test(tc, test_include_same_file_twice_is_no_loop);
    tcase_add_test(tc, test_include_path_from_variable);
    tcase_add_test(tc, test_vhost_none_asked);
    tcase_add_test(tc, test_vhost_by_server_name);
    tcase_add_test(tc, test_vhost_by_alias_and_port);
    tcase_add_test(tc, test_vhost_not_found);
    tcase_add_test(tc, test_vhost_without_main_values);
    tcase_add_test(tc, test_vhost_include_inside);
    tcase_add_test(tc, test_include_directory_recursive);
    tcase_add_test(tc, test_include_wildcard_without_match);
    tcase_add_test(tc, test_vhost_alias_wildcard);
    tcase_add_test(tc, test_backslash_kept);
    tcase_add_test(tc, test_column_one_argument);
    return tc;
}
