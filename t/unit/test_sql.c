/* SQL generation: the exact statements per dialect for the default and a
 * fully renamed mapping, plus structural checks (quoting, placeholders in
 * the documented argument order). */
#include <string.h>
#include <apr_strings.h>

#include "tests.h"
#include "orm_sql.h"

typedef struct {
    const char *load, *insert, *update, *upsert, *remove, *probe;
    const char *ddl[3];
    int nddl;
} expected_sql_t;

/* ---- default mapping ---------------------------------------------------- */

#define DQ_LOAD "SELECT \"data\", \"expires_at\", \"updated_at\", \"user_name\" " \
    "FROM \"session\" WHERE \"id\" = %s AND \"expires_at\" > %lld"
#define DQ_INSERT "INSERT INTO \"session\" (\"id\", \"data\", \"expires_at\", " \
    "\"user_name\", \"created_at\", \"updated_at\") VALUES " \
    "(%s, %s, %lld, %s, %lld, %lld)"
#define DQ_UPDATE "UPDATE \"session\" SET \"data\" = %s, \"expires_at\" = %lld, " \
    "\"user_name\" = %s, \"updated_at\" = %lld WHERE \"id\" = %s"
#define DQ_UPSERT DQ_INSERT " ON CONFLICT (\"id\") DO UPDATE SET " \
    "\"data\" = excluded.\"data\", \"expires_at\" = excluded.\"expires_at\", " \
    "\"user_name\" = excluded.\"user_name\", " \
    "\"updated_at\" = excluded.\"updated_at\""
#define DQ_REMOVE "DELETE FROM \"session\" WHERE \"id\" = %s"
#define DQ_PROBE "SELECT \"id\" FROM \"session\" WHERE 1 = 0"
#define DQ_COLUMNS(data_type) "(\"id\" VARCHAR(64) NOT NULL PRIMARY KEY, " \
    "\"data\" " data_type " NOT NULL, \"expires_at\" BIGINT NOT NULL, " \
    "\"user_name\" VARCHAR(255) NULL, \"created_at\" BIGINT NOT NULL, " \
    "\"updated_at\" BIGINT NOT NULL)"

static const expected_sql_t sqlite_default = {
    DQ_LOAD, DQ_INSERT, DQ_UPDATE, DQ_UPSERT, DQ_REMOVE, DQ_PROBE,
    { "CREATE TABLE IF NOT EXISTS \"session\" " DQ_COLUMNS("TEXT"),
      "CREATE INDEX IF NOT EXISTS \"session_expires_at_idx\" ON \"session\" "
      "(\"expires_at\")",
      "CREATE INDEX IF NOT EXISTS \"session_user_name_idx\" ON \"session\" "
      "(\"user_name\")" }, 3
};

/* PostgreSQL and SQLite share the syntax used here */
#define pgsql_default sqlite_default

static const expected_sql_t portable_default = {
    DQ_LOAD, DQ_INSERT, DQ_UPDATE, NULL, DQ_REMOVE, DQ_PROBE,
    { "CREATE TABLE \"session\" " DQ_COLUMNS("CLOB"),
      "CREATE INDEX \"session_expires_at_idx\" ON \"session\" (\"expires_at\")",
      "CREATE INDEX \"session_user_name_idx\" ON \"session\" (\"user_name\")" },
    3
};

#define BQ_INSERT "INSERT INTO `session` (`id`, `data`, `expires_at`, " \
    "`user_name`, `created_at`, `updated_at`) VALUES " \
    "(%s, %s, %lld, %s, %lld, %lld)"

static const expected_sql_t mysql_default = {
    "SELECT `data`, `expires_at`, `updated_at`, `user_name` FROM `session` "
    "WHERE `id` = %s AND `expires_at` > %lld",
    BQ_INSERT,
    "UPDATE `session` SET `data` = %s, `expires_at` = %lld, "
    "`user_name` = %s, `updated_at` = %lld WHERE `id` = %s",
    BQ_INSERT " ON DUPLICATE KEY UPDATE `data` = VALUES(`data`), "
    "`expires_at` = VALUES(`expires_at`), `user_name` = VALUES(`user_name`), "
    "`updated_at` = VALUES(`updated_at`)",
    "DELETE FROM `session` WHERE `id` = %s",
    "SELECT `id` FROM `session` WHERE 1 = 0",
    { "CREATE TABLE IF NOT EXISTS `session` (`id` VARCHAR(64) CHARACTER SET "
      "ascii NOT NULL PRIMARY KEY, `data` MEDIUMTEXT NOT NULL, `expires_at` "
      "BIGINT NOT NULL, `user_name` VARCHAR(255) NULL, `created_at` BIGINT "
      "NOT NULL, `updated_at` BIGINT NOT NULL, INDEX `session_expires_at_idx` "
      "(`expires_at`), INDEX `session_user_name_idx` (`user_name`)) "
      "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4", NULL, NULL }, 1
};

/* ---- renamed mapping: app_sessions(sid, payload, exp_ms, owner, born_ms,
 *      touched_ms) ---------------------------------------------------------- */

#define RQ_LOAD "SELECT \"payload\", \"exp_ms\", \"touched_ms\", \"owner\" " \
    "FROM \"app_sessions\" WHERE \"sid\" = %s AND \"exp_ms\" > %lld"
#define RQ_INSERT "INSERT INTO \"app_sessions\" (\"sid\", \"payload\", " \
    "\"exp_ms\", \"owner\", \"born_ms\", \"touched_ms\") VALUES " \
    "(%s, %s, %lld, %s, %lld, %lld)"
#define RQ_UPDATE "UPDATE \"app_sessions\" SET \"payload\" = %s, " \
    "\"exp_ms\" = %lld, \"owner\" = %s, \"touched_ms\" = %lld " \
    "WHERE \"sid\" = %s"
#define RQ_UPSERT RQ_INSERT " ON CONFLICT (\"sid\") DO UPDATE SET " \
    "\"payload\" = excluded.\"payload\", \"exp_ms\" = excluded.\"exp_ms\", " \
    "\"owner\" = excluded.\"owner\", \"touched_ms\" = excluded.\"touched_ms\""
#define RQ_REMOVE "DELETE FROM \"app_sessions\" WHERE \"sid\" = %s"
#define RQ_PROBE "SELECT \"sid\" FROM \"app_sessions\" WHERE 1 = 0"
#define RQ_COLUMNS(data_type) "(\"sid\" VARCHAR(64) NOT NULL PRIMARY KEY, " \
    "\"payload\" " data_type " NOT NULL, \"exp_ms\" BIGINT NOT NULL, " \
    "\"owner\" VARCHAR(255) NULL, \"born_ms\" BIGINT NOT NULL, " \
    "\"touched_ms\" BIGINT NOT NULL)"

static const expected_sql_t sqlite_renamed = {
    RQ_LOAD, RQ_INSERT, RQ_UPDATE, RQ_UPSERT, RQ_REMOVE, RQ_PROBE,
    { "CREATE TABLE IF NOT EXISTS \"app_sessions\" " RQ_COLUMNS("TEXT"),
      "CREATE INDEX IF NOT EXISTS \"app_sessions_expires_at_idx\" ON "
      "\"app_sessions\" (\"exp_ms\")",
      "CREATE INDEX IF NOT EXISTS \"app_sessions_user_name_idx\" ON "
      "\"app_sessions\" (\"owner\")" }, 3
};

#define pgsql_renamed sqlite_renamed

static const expected_sql_t portable_renamed = {
    RQ_LOAD, RQ_INSERT, RQ_UPDATE, NULL, RQ_REMOVE, RQ_PROBE,
    { "CREATE TABLE \"app_sessions\" " RQ_COLUMNS("CLOB"),
      "CREATE INDEX \"app_sessions_expires_at_idx\" ON \"app_sessions\" "
      "(\"exp_ms\")",
      "CREATE INDEX \"app_sessions_user_name_idx\" ON \"app_sessions\" "
      "(\"owner\")" }, 3
};

#define RB_INSERT "INSERT INTO `app_sessions` (`sid`, `payload`, `exp_ms`, " \
    "`owner`, `born_ms`, `touched_ms`) VALUES (%s, %s, %lld, %s, %lld, %lld)"

static const expected_sql_t mysql_renamed = {
    "SELECT `payload`, `exp_ms`, `touched_ms`, `owner` FROM `app_sessions` "
    "WHERE `sid` = %s AND `exp_ms` > %lld",
    RB_INSERT,
    "UPDATE `app_sessions` SET `payload` = %s, `exp_ms` = %lld, "
    "`owner` = %s, `touched_ms` = %lld WHERE `sid` = %s",
    RB_INSERT " ON DUPLICATE KEY UPDATE `payload` = VALUES(`payload`), "
    "`exp_ms` = VALUES(`exp_ms`), `owner` = VALUES(`owner`), "
    "`touched_ms` = VALUES(`touched_ms`)",
    "DELETE FROM `app_sessions` WHERE `sid` = %s",
    "SELECT `sid` FROM `app_sessions` WHERE 1 = 0",
    { "CREATE TABLE IF NOT EXISTS `app_sessions` (`sid` VARCHAR(64) CHARACTER "
      "SET ascii NOT NULL PRIMARY KEY, `payload` MEDIUMTEXT NOT NULL, "
      "`exp_ms` BIGINT NOT NULL, `owner` VARCHAR(255) NULL, `born_ms` BIGINT "
      "NOT NULL, `touched_ms` BIGINT NOT NULL, INDEX "
      "`app_sessions_expires_at_idx` (`exp_ms`), INDEX "
      "`app_sessions_user_name_idx` (`owner`)) ENGINE=InnoDB DEFAULT "
      "CHARSET=utf8mb4", NULL, NULL }, 1
};

/* ---- helpers ------------------------------------------------------------ */

static orm_schema_t default_schema(void)
{
    orm_schema_t s;
    memset(&s, 0, sizeof(s));
    return s;
}

static orm_schema_t renamed_schema(void)
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

static void check_sql(const orm_sql_t *sql, const expected_sql_t *e,
                      orm_dialect_e dialect, int portable_writes)
{
    int i;

    ck_assert_ptr_nonnull(sql);
    ck_assert_int_eq(sql->dialect, dialect);
    ck_assert_str_eq(sql->load, e->load);
    ck_assert_str_eq(sql->insert, e->insert);
    ck_assert_str_eq(sql->update, e->update);
    if (e->upsert == NULL || portable_writes) {
        ck_assert_ptr_null(sql->upsert);
    }
    else {
        ck_assert_str_eq(sql->upsert, e->upsert);
    }
    ck_assert_str_eq(sql->remove, e->remove);
    ck_assert_str_eq(sql->probe, e->probe);
    ck_assert_ptr_nonnull(sql->ddl);
    ck_assert_int_eq(sql->ddl->nelts, e->nddl);
    for (i = 0; i < e->nddl; i++) {
        ck_assert_str_eq(APR_ARRAY_IDX(sql->ddl, i, const char *), e->ddl[i]);
    }
}

static void check_build(orm_dialect_e dialect, const expected_sql_t *def,
                        const expected_sql_t *ren)
{
    orm_schema_t d = default_schema(), r = renamed_schema();

    check_sql(orm_sql_build(test_pool, &d, dialect, 0), def, dialect, 0);
    check_sql(orm_sql_build(test_pool, &r, dialect, 0), ren, dialect, 0);
    /* forced portable writes: no upsert, everything else unchanged */
    check_sql(orm_sql_build(test_pool, &d, dialect, 1), def, dialect, 1);
    check_sql(orm_sql_build(test_pool, &r, dialect, 1), ren, dialect, 1);
}

/* The placeholders of stmt in order, as "s,lld,..." ("" for none). Fails
 * on any '%' that is not one of the two apr_dbd placeholders we use. */
static const char *placeholders(const char *stmt)
{
    const char *out = "";
    const char *p;

    for (p = strchr(stmt, '%'); p; p = strchr(p + 1, '%')) {
        const char *kind;
        if (!strncmp(p, "%s", 2)) {
            kind = "s";
        }
        else if (!strncmp(p, "%lld", 4)) {
            kind = "lld";
        }
        else {
            ck_abort_msg("unexpected '%%' sequence in: %s", stmt);
            return NULL;
        }
        out = *out ? apr_pstrcat(test_pool, out, ",", kind, NULL) : kind;
    }
    return out;
}

static const orm_sql_t *const *all_builds(int *count)
{
    static const orm_sql_t *builds[ORM_DIALECT_COUNT * 2 * 2];
    orm_schema_t d = default_schema(), r = renamed_schema();
    int n = 0, dialect, pw;

    for (dialect = 0; dialect < ORM_DIALECT_COUNT; dialect++) {
        for (pw = 0; pw <= 1; pw++) {
            builds[n++] = orm_sql_build(test_pool, &d, dialect, pw);
            builds[n++] = orm_sql_build(test_pool, &r, dialect, pw);
        }
    }
    *count = n;
    return builds;
}

/* ---- tests -------------------------------------------------------------- */

START_TEST(test_dialect_for_driver)
{
    ck_assert_int_eq(orm_dialect_for_driver("sqlite3"), ORM_DIALECT_SQLITE);
    ck_assert_int_eq(orm_dialect_for_driver("pgsql"), ORM_DIALECT_PGSQL);
    ck_assert_int_eq(orm_dialect_for_driver("mysql"), ORM_DIALECT_MYSQL);
    ck_assert_int_eq(orm_dialect_for_driver("odbc"), ORM_DIALECT_PORTABLE);
    ck_assert_int_eq(orm_dialect_for_driver("oracle"), ORM_DIALECT_PORTABLE);
    ck_assert_int_eq(orm_dialect_for_driver("freetds"), ORM_DIALECT_PORTABLE);
    ck_assert_int_eq(orm_dialect_for_driver("sqlite2"), ORM_DIALECT_PORTABLE);
    ck_assert_int_eq(orm_dialect_for_driver("sqlite"), ORM_DIALECT_PORTABLE);
    ck_assert_int_eq(orm_dialect_for_driver("mysqlx"), ORM_DIALECT_PORTABLE);
    ck_assert_int_eq(orm_dialect_for_driver("pg"), ORM_DIALECT_PORTABLE);
    ck_assert_int_eq(orm_dialect_for_driver(""), ORM_DIALECT_PORTABLE);
    ck_assert_int_eq(orm_dialect_for_driver(NULL), ORM_DIALECT_PORTABLE);
}
END_TEST

START_TEST(test_dialect_name)
{
    ck_assert_str_eq(orm_dialect_name(ORM_DIALECT_SQLITE), "sqlite3");
    ck_assert_str_eq(orm_dialect_name(ORM_DIALECT_PGSQL), "pgsql");
    ck_assert_str_eq(orm_dialect_name(ORM_DIALECT_MYSQL), "mysql");
    ck_assert_str_eq(orm_dialect_name(ORM_DIALECT_PORTABLE), "portable");
}
END_TEST

START_TEST(test_sql_sqlite)
{
    check_build(ORM_DIALECT_SQLITE, &sqlite_default, &sqlite_renamed);
    check_build(orm_dialect_for_driver("sqlite3"), &sqlite_default,
                &sqlite_renamed);
}
END_TEST

START_TEST(test_sql_pgsql)
{
    check_build(ORM_DIALECT_PGSQL, &pgsql_default, &pgsql_renamed);
    check_build(orm_dialect_for_driver("pgsql"), &pgsql_default,
                &pgsql_renamed);
}
END_TEST

START_TEST(test_sql_mysql)
{
    check_build(ORM_DIALECT_MYSQL, &mysql_default, &mysql_renamed);
    check_build(orm_dialect_for_driver("mysql"), &mysql_default,
                &mysql_renamed);
}
END_TEST

START_TEST(test_sql_portable)
{
    static const char *const others[] = { "odbc", "oracle", "freetds", "" };
    size_t i;

    check_build(ORM_DIALECT_PORTABLE, &portable_default, &portable_renamed);
    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        check_build(orm_dialect_for_driver(others[i]), &portable_default,
                    &portable_renamed);
    }
    check_build(orm_dialect_for_driver(NULL), &portable_default,
                &portable_renamed);
}
END_TEST

START_TEST(test_sql_upsert_presence)
{
    orm_schema_t d = default_schema();
    int dialect;

    for (dialect = 0; dialect < ORM_DIALECT_COUNT; dialect++) {
        orm_sql_t *native = orm_sql_build(test_pool, &d, dialect, 0);
        orm_sql_t *forced = orm_sql_build(test_pool, &d, dialect, 1);

        ck_assert_ptr_null(forced->upsert);
        if (dialect == ORM_DIALECT_PORTABLE) {
            ck_assert_ptr_null(native->upsert);
        }
        else {
            ck_assert_ptr_nonnull(native->upsert);
            /* the upsert is the insert plus a conflict clause */
            ck_assert_int_eq(strncmp(native->upsert, native->insert,
                                     strlen(native->insert)), 0);
            /* created_at is kept on conflict */
            ck_assert_ptr_null(strstr(native->upsert + strlen(native->insert),
                                      "created_at"));
        }
        /* the update/insert pair exists on every dialect */
        ck_assert_ptr_nonnull(native->update);
        ck_assert_ptr_nonnull(native->insert);
        ck_assert_str_eq(native->update, forced->update);
        ck_assert_str_eq(native->insert, forced->insert);
    }
}
END_TEST

START_TEST(test_sql_placeholder_order)
{
    int n, i;
    const orm_sql_t *const *builds = all_builds(&n);

    ck_assert_int_eq(n, 16);
    for (i = 0; i < n; i++) {
        const orm_sql_t *sql = builds[i];
        int j;

        /* (id, now_ms) */
        ck_assert_str_eq(placeholders(sql->load), "s,lld");
        /* (id, data, expires_at, user_name, created_at, updated_at) */
        ck_assert_str_eq(placeholders(sql->insert), "s,s,lld,s,lld,lld");
        if (sql->upsert) {
            ck_assert_str_eq(placeholders(sql->upsert), "s,s,lld,s,lld,lld");
        }
        /* (data, expires_at, user_name, updated_at, id) */
        ck_assert_str_eq(placeholders(sql->update), "s,lld,s,lld,s");
        /* (id) */
        ck_assert_str_eq(placeholders(sql->remove), "s");
        ck_assert_str_eq(placeholders(sql->probe), "");
        for (j = 0; j < sql->ddl->nelts; j++) {
            ck_assert_str_eq(placeholders(APR_ARRAY_IDX(sql->ddl, j,
                                                        const char *)), "");
        }
    }
}
END_TEST

START_TEST(test_sql_load_filters_expired)
{
    int n, i;
    const orm_sql_t *const *builds = all_builds(&n);

    for (i = 0; i < n; i++) {
        const char *load = builds[i]->load;
        const char *q = builds[i]->dialect == ORM_DIALECT_MYSQL ? "`" : "\"";
        const char *exp = apr_pstrcat(test_pool, q,
                                      i % 2 ? "exp_ms" : "expires_at", q,
                                      " > %lld", NULL);
        ck_assert_msg(strstr(load, exp) != NULL, "no '%s' in %s", exp, load);
        ck_assert(strlen(load) >= strlen(exp));
        /* the expiry condition ends the statement */
        ck_assert_str_eq(load + strlen(load) - strlen(exp), exp);
    }
}
END_TEST

START_TEST(test_sql_only_identifier_quotes)
{
    int n, i;
    const orm_sql_t *const *builds = all_builds(&n);

    for (i = 0; i < n; i++) {
        const orm_sql_t *sql = builds[i];
        char quote = sql->dialect == ORM_DIALECT_MYSQL ? '`' : '"';
        const char *stmts[6 + 3];
        int count = 0, j;

        stmts[count++] = sql->load;
        stmts[count++] = sql->insert;
        stmts[count++] = sql->update;
        stmts[count++] = sql->remove;
        stmts[count++] = sql->probe;
        if (sql->upsert) {
            stmts[count++] = sql->upsert;
        }
        ck_assert_int_le(sql->ddl->nelts, 3);
        for (j = 0; j < sql->ddl->nelts; j++) {
            stmts[count++] = APR_ARRAY_IDX(sql->ddl, j, const char *);
        }
        for (j = 0; j < count; j++) {
            const char *p;
            int quotes = 0;

            ck_assert_ptr_nonnull(stmts[j]);
            for (p = stmts[j]; *p; p++) {
                if (*p == '\'' || *p == '"' || *p == '`') {
                    ck_assert_msg(*p == quote, "quote '%c' in %s dialect: %s",
                                  *p, orm_dialect_name(sql->dialect),
                                  stmts[j]);
                    quotes++;
                }
                ck_assert_msg(*p != ';', "';' in %s", stmts[j]);
            }
            ck_assert_msg(quotes > 0 && quotes % 2 == 0,
                          "unbalanced identifier quotes in %s", stmts[j]);
        }
    }
}
END_TEST

START_TEST(test_sql_index_names_fit_postgres)
{
    /* the longest table name gives 63-character index names */
    char table[ORM_TABLE_NAME_MAX + 1];
    orm_schema_t s;
    orm_sql_t *sql;
    const char *exp_idx, *user_idx;

    memset(table, 't', ORM_TABLE_NAME_MAX);
    table[ORM_TABLE_NAME_MAX] = '\0';
    memset(&s, 0, sizeof(s));
    s.table = table;
    sql = orm_sql_build(test_pool, &s, ORM_DIALECT_PGSQL, 0);
    exp_idx = apr_pstrcat(test_pool, "\"", table, "_expires_at_idx\"", NULL);
    user_idx = apr_pstrcat(test_pool, "\"", table, "_user_name_idx\"", NULL);
    ck_assert_uint_le(strlen(exp_idx) - 2, 63);
    ck_assert_uint_le(strlen(user_idx) - 2, 63);
    ck_assert_int_eq(sql->ddl->nelts, 3);
    ck_assert_ptr_nonnull(strstr(APR_ARRAY_IDX(sql->ddl, 1, const char *),
                                 exp_idx));
    ck_assert_ptr_nonnull(strstr(APR_ARRAY_IDX(sql->ddl, 2, const char *),
                                 user_idx));
}
END_TEST

START_TEST(test_sql_partial_rename)
{
    /* one renamed column; the rest keep their default names */
    orm_schema_t s;
    orm_sql_t *sql;

    memset(&s, 0, sizeof(s));
    s.columns[ORM_FIELD_USER_NAME] = "login";
    sql = orm_sql_build(test_pool, &s, ORM_DIALECT_SQLITE, 0);
    ck_assert_str_eq(sql->load,
        "SELECT \"data\", \"expires_at\", \"updated_at\", \"login\" FROM "
        "\"session\" WHERE \"id\" = %s AND \"expires_at\" > %lld");
    ck_assert_str_eq(APR_ARRAY_IDX(sql->ddl, 2, const char *),
        "CREATE INDEX IF NOT EXISTS \"session_user_name_idx\" ON \"session\" "
        "(\"login\")");
}
END_TEST

TCase *tcase_sql(void)
{
    TCase *tc = tcase_create("sql");

    tcase_add_test(tc, test_dialect_for_driver);
    tcase_add_test(tc, test_dialect_name);
    tcase_add_test(tc, test_sql_sqlite);
    tcase_add_test(tc, test_sql_pgsql);
    tcase_add_test(tc, test_sql_mysql);
    tcase_add_test(tc, test_sql_portable);
    tcase_add_test(tc, test_sql_upsert_presence);
    tcase_add_test(tc, test_sql_placeholder_order);
    tcase_add_test(tc, test_sql_load_filters_expired);
    tcase_add_test(tc, test_sql_only_identifier_quotes);
    tcase_add_test(tc, test_sql_index_names_fit_postgres);
    tcase_add_test(tc, test_sql_partial_rename);
    return tc;
}
