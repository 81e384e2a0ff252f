/* SQL generation: the exact statements per dialect for the default and a
 * fully renamed mapping, plus structural checks (quoting, placeholders in
 * the documented argument order), and each dialect's connection set-up. */
#include <string.h>
#include <apr_strings.h>

#include "tests.h"
#include "test_db.h"
#include "orm_sql.h"

typedef struct {
    const char *load, *insert, *update, *upsert, *remove, *probe;
    const char *ddl[3];
    int nddl;
    /* the portable dialect's only: its row lock and its size's unit */
    const char *lock_touch;
    int size_in_chars;
} expected_sql_t;

/* ---- default mapping ---------------------------------------------------- */

/* the load also returns the data's size in bytes, as each dialect counts */
#define DQ_LOAD_WITH(size) "SELECT \"data\", \"expires_at\", " \
    "\"updated_at\", \"user_name\", " size " FROM \"session\" WHERE " \
    "\"id\" = %s AND \"expires_at\" > %lld"
#define DQ_LOAD DQ_LOAD_WITH("OCTET_LENGTH(\"data\")")
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
    DQ_LOAD_WITH("LENGTH(CAST(\"data\" AS BLOB))"), DQ_INSERT, DQ_UPDATE, DQ_UPSERT, DQ_REMOVE, DQ_PROBE,
    { "CREATE TABLE IF NOT EXISTS \"session\" " DQ_COLUMNS("TEXT"),
      "CREATE INDEX IF NOT EXISTS \"session_expires_at_idx\" ON \"session\" "
      "(\"expires_at\")",
      "CREATE INDEX IF NOT EXISTS \"session_user_name_idx\" ON \"session\" "
      "(\"user_name\") WHERE \"user_name\" IS NOT NULL" }, 3,
    NULL, 0     /* no lock_touch; the size in bytes */
};

/* PostgreSQL shares SQLite's syntax but for the size in bytes */
static const expected_sql_t pgsql_default = {
    DQ_LOAD, DQ_INSERT, DQ_UPDATE, DQ_UPSERT, DQ_REMOVE, DQ_PROBE,
    { "CREATE TABLE IF NOT EXISTS \"session\" " DQ_COLUMNS("TEXT"),
      "CREATE INDEX IF NOT EXISTS \"session_expires_at_idx\" ON \"session\" "
      "(\"expires_at\")",
      "CREATE INDEX IF NOT EXISTS \"session_user_name_idx\" ON \"session\" "
      "(\"user_name\") WHERE \"user_name\" IS NOT NULL" }, 3,
    NULL, 0     /* no lock_touch; the size in bytes */
};

/* portable: names unquoted, TEXT, no IF NOT EXISTS, no upsert, the size
 * by LENGTH (characters), a row lock by an UPDATE that changes nothing */
#define UQ_UPDATE "UPDATE session SET data = %s, expires_at = %lld, " \
    "user_name = %s, updated_at = %lld WHERE id = %s"

static const expected_sql_t portable_default = {
    "SELECT data, expires_at, updated_at, user_name, LENGTH(data) FROM "
    "session WHERE id = %s AND expires_at > %lld",
    "INSERT INTO session (id, data, expires_at, user_name, created_at, "
    "updated_at) VALUES (%s, %s, %lld, %s, %lld, %lld)",
    UQ_UPDATE, NULL,
    "DELETE FROM session WHERE id = %s",
    "SELECT id FROM session WHERE 1 = 0",
    { "CREATE TABLE session (id VARCHAR(64) NOT NULL PRIMARY KEY, data TEXT "
      "NOT NULL, expires_at BIGINT NOT NULL, user_name VARCHAR(255) NULL, "
      "created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
      "CREATE INDEX session_expires_at_idx ON session (expires_at)",
      "CREATE INDEX session_user_name_idx ON session (user_name)" }, 3,
    "UPDATE session SET updated_at = updated_at WHERE id = %s AND "
    "expires_at > %lld", 1
};

#define BQ_INSERT "INSERT INTO `session` (`id`, `data`, `expires_at`, " \
    "`user_name`, `created_at`, `updated_at`) VALUES " \
    "(%s, %s, %lld, %s, %lld, %lld)"

static const expected_sql_t mysql_default = {
    "SELECT `data`, `expires_at`, `updated_at`, `user_name`, "
    "OCTET_LENGTH(`data`) FROM `session` WHERE `id` = %s AND "
    "`expires_at` > %lld",
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
      "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4", NULL, NULL }, 1,
    NULL, 0     /* no lock_touch; the size in bytes */
};

/* ---- renamed mapping: app_sessions(sid, payload, exp_ms, owner, born_ms,
 *      touched_ms) ---------------------------------------------------------- */

#define RQ_LOAD_WITH(size) "SELECT \"payload\", \"exp_ms\", " \
    "\"touched_ms\", \"owner\", " size " FROM \"app_sessions\" WHERE " \
    "\"sid\" = %s AND \"exp_ms\" > %lld"
#define RQ_LOAD RQ_LOAD_WITH("OCTET_LENGTH(\"payload\")")
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
    RQ_LOAD_WITH("LENGTH(CAST(\"payload\" AS BLOB))"), RQ_INSERT, RQ_UPDATE, RQ_UPSERT, RQ_REMOVE, RQ_PROBE,
    { "CREATE TABLE IF NOT EXISTS \"app_sessions\" " RQ_COLUMNS("TEXT"),
      "CREATE INDEX IF NOT EXISTS \"app_sessions_expires_at_idx\" ON "
      "\"app_sessions\" (\"exp_ms\")",
      "CREATE INDEX IF NOT EXISTS \"app_sessions_user_name_idx\" ON "
      "\"app_sessions\" (\"owner\") WHERE \"owner\" IS NOT NULL" }, 3,
    NULL, 0     /* no lock_touch; the size in bytes */
};

static const expected_sql_t pgsql_renamed = {
    RQ_LOAD, RQ_INSERT, RQ_UPDATE, RQ_UPSERT, RQ_REMOVE, RQ_PROBE,
    { "CREATE TABLE IF NOT EXISTS \"app_sessions\" " RQ_COLUMNS("TEXT"),
      "CREATE INDEX IF NOT EXISTS \"app_sessions_expires_at_idx\" ON "
      "\"app_sessions\" (\"exp_ms\")",
      "CREATE INDEX IF NOT EXISTS \"app_sessions_user_name_idx\" ON "
      "\"app_sessions\" (\"owner\") WHERE \"owner\" IS NOT NULL" }, 3,
    NULL, 0     /* no lock_touch; the size in bytes */
};

#define UR_UPDATE "UPDATE app_sessions SET payload = %s, exp_ms = %lld, " \
    "owner = %s, touched_ms = %lld WHERE sid = %s"

static const expected_sql_t portable_renamed = {
    "SELECT payload, exp_ms, touched_ms, owner, LENGTH(payload) FROM "
    "app_sessions WHERE sid = %s AND exp_ms > %lld",
    "INSERT INTO app_sessions (sid, payload, exp_ms, owner, born_ms, "
    "touched_ms) VALUES (%s, %s, %lld, %s, %lld, %lld)",
    UR_UPDATE, NULL,
    "DELETE FROM app_sessions WHERE sid = %s",
    "SELECT sid FROM app_sessions WHERE 1 = 0",
    { "CREATE TABLE app_sessions (sid VARCHAR(64) NOT NULL PRIMARY KEY, "
      "payload TEXT NOT NULL, exp_ms BIGINT NOT NULL, owner VARCHAR(255) "
      "NULL, born_ms BIGINT NOT NULL, touched_ms BIGINT NOT NULL)",
      "CREATE INDEX app_sessions_expires_at_idx ON app_sessions (exp_ms)",
      "CREATE INDEX app_sessions_user_name_idx ON app_sessions (owner)" }, 3,
    "UPDATE app_sessions SET touched_ms = touched_ms WHERE sid = %s AND "
    "exp_ms > %lld", 1
};

#define RB_INSERT "INSERT INTO `app_sessions` (`sid`, `payload`, `exp_ms`, " \
    "`owner`, `born_ms`, `touched_ms`) VALUES (%s, %s, %lld, %s, %lld, %lld)"

static const expected_sql_t mysql_renamed = {
    "SELECT `payload`, `exp_ms`, `touched_ms`, `owner`, "
    "OCTET_LENGTH(`payload`) FROM `app_sessions` WHERE `sid` = %s AND "
    "`exp_ms` > %lld",
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
      "CHARSET=utf8mb4", NULL, NULL }, 1,
    NULL, 0     /* no lock_touch; the size in bytes */
};

/* ---- helpers ------------------------------------------------------------ */

static orm_schema_t default_schema(void)
{
    orm_schema_t s;
    memset(&s, 0, sizeof(s));
    return s;
}

static void check_sql(const orm_sql_t *sql, const expected_sql_t *e,
                      orm_dialect_e dialect)
{
    int i;

    ck_assert_ptr_nonnull(sql);
    ck_assert_int_eq(sql->dialect, dialect);
    ck_assert_str_eq(sql->load, e->load);
    ck_assert_str_eq(sql->insert, e->insert);
    ck_assert_str_eq(sql->update, e->update);
    if (e->upsert == NULL) {
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
    if (e->lock_touch == NULL) {
        ck_assert_ptr_null(sql->lock_touch);
    }
    else {
        ck_assert_ptr_nonnull(sql->lock_touch);
        ck_assert_str_eq(sql->lock_touch, e->lock_touch);
    }
    ck_assert_int_eq(sql->size_in_chars, e->size_in_chars);
}

static void check_build(orm_dialect_e dialect, const expected_sql_t *def,
                        const expected_sql_t *ren)
{
    orm_schema_t d = default_schema(), r = test_renamed_schema();

    check_sql(orm_sql_build(test_pool, &d, dialect), def, dialect);
    check_sql(orm_sql_build(test_pool, &r, dialect), ren, dialect);
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

/* Every dialect's statements for the default and the renamed mapping, in
 * that order. */
static const orm_sql_t *const *all_builds(int *count)
{
    static const orm_sql_t *builds[ORM_DIALECT_COUNT * 2];
    orm_schema_t d = default_schema(), r = test_renamed_schema();
    int n = 0, dialect;

    for (dialect = 0; dialect < ORM_DIALECT_COUNT; dialect++) {
        builds[n++] = orm_sql_build(test_pool, &d, dialect);
        builds[n++] = orm_sql_build(test_pool, &r, dialect);
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

START_TEST(test_dialect_conflict)
{
    static const struct {
        const char *choice, *driver;
        int conflicts;
    } cases[] = {
        /* another database's dialect through a native driver */
        { "pgsql", "sqlite3", 1 }, { "MySQL", "sqlite3", 1 },
        { "sqlite", "pgsql", 1 }, { "mysql", "pgsql", 1 },
        { "pgsql", "mysql", 1 }, { "sqlite3", "mysql", 1 },
        /* its own, portable, auto, or nothing said */
        { "sqlite", "sqlite3", 0 }, { "sqlite3", "sqlite3", 0 },
        { "PGSQL", "pgsql", 0 }, { "mysql", "mysql", 0 },
        { "portable", "pgsql", 0 }, { "portable", "sqlite3", 0 },
        { "auto", "mysql", 0 }, { NULL, "pgsql", 0 },
        /* a driver that reaches several databases, or none known */
        { "mysql", "odbc", 0 }, { "sqlite", "odbc", 0 },
        { "pgsql", "oracle", 0 }, { "pgsql", NULL, 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = orm_dialect_conflict(test_pool, cases[i].choice,
                                               cases[i].driver);

        ck_assert_msg((why != NULL) == cases[i].conflicts, "%s with %s: %s",
                      cases[i].choice, cases[i].driver, why ? why : "ok");
    }
    ck_assert_str_eq(orm_dialect_conflict(test_pool, "mysql", "pgsql"),
                     "'mysql' cannot work with DBDriver pgsql, which reaches "
                     "pgsql databases only: name pgsql, portable or auto "
                     "(the default)");
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

START_TEST(test_dialect_table_complete)
{
    int d, e;

    /* every dialect has its entry, under its own name */
    for (d = 0; d < ORM_DIALECT_COUNT; d++) {
        ck_assert_ptr_nonnull(orm_dialect_name(d));
        for (e = 0; e < d; e++) {
            ck_assert_str_ne(orm_dialect_name(d), orm_dialect_name(e));
        }
    }
}
END_TEST

/* What each dialect's databases ask of the store: only SQLite has one
 * writer at a time and statements a change of the schema spoils. */
START_TEST(test_dialect_traits)
{
    static const struct {
        orm_dialect_e dialect;
        int single_writer, stale_after_schema_change;
    } cases[] = {
        { ORM_DIALECT_SQLITE, 1, 1 },
        { ORM_DIALECT_PGSQL, 0, 0 },
        { ORM_DIALECT_MYSQL, 0, 0 },
        { ORM_DIALECT_PORTABLE, 0, 0 },
    };
    int i, n = sizeof(cases) / sizeof(cases[0]);

    ck_assert_int_eq(n, ORM_DIALECT_COUNT);
    for (i = 0; i < n; i++) {
        const orm_dialect_traits_t *t = orm_dialect_traits(cases[i].dialect);

        ck_assert_msg(t->single_writer == cases[i].single_writer
                      && t->stale_after_schema_change
                         == cases[i].stale_after_schema_change,
                      "%s: single_writer %d, stale_after_schema_change %d",
                      orm_dialect_name(cases[i].dialect), t->single_writer,
                      t->stale_after_schema_change);
    }
}
END_TEST

START_TEST(test_dialect_choice)
{
    int d = 99;

    /* SessionORMDialect's values: auto is -1, a name its dialect */
    ck_assert_int_eq(orm_dialect_choice("auto", &d), 1);
    ck_assert_int_eq(d, -1);
    ck_assert_int_eq(orm_dialect_choice("AUTO", &d), 1);
    ck_assert_int_eq(d, -1);
    ck_assert_int_eq(orm_dialect_choice("pgsql", &d), 1);
    ck_assert_int_eq(d, ORM_DIALECT_PGSQL);
    ck_assert_int_eq(orm_dialect_choice("sqlite", &d), 1);
    ck_assert_int_eq(d, ORM_DIALECT_SQLITE);
    ck_assert_int_eq(orm_dialect_choice("Portable", &d), 1);
    ck_assert_int_eq(d, ORM_DIALECT_PORTABLE);
    d = 99;
    ck_assert_int_eq(orm_dialect_choice("odbc", &d), 0);
    ck_assert_int_eq(orm_dialect_choice("", &d), 0);
    ck_assert_int_eq(orm_dialect_choice("auto ", &d), 0);
    ck_assert_int_eq(d, 99);
}
END_TEST

START_TEST(test_dialect_by_name)
{
    static const struct {
        const char *name;
        orm_dialect_e dialect;
    } known[] = {
        { "sqlite3", ORM_DIALECT_SQLITE },
        { "pgsql", ORM_DIALECT_PGSQL },
        { "mysql", ORM_DIALECT_MYSQL },
        { "portable", ORM_DIALECT_PORTABLE },
        /* any case */
        { "SQLite3", ORM_DIALECT_SQLITE },
        { "PGSQL", ORM_DIALECT_PGSQL },
        { "MySQL", ORM_DIALECT_MYSQL },
        { "Portable", ORM_DIALECT_PORTABLE },
        /* the database's name for the driver's */
        { "sqlite", ORM_DIALECT_SQLITE },
        { "SQLITE", ORM_DIALECT_SQLITE },
    };
    static const char *const unknown[] = {
        "auto", "", "odbc", "oracle", "sqlite2", "sqlite33", "postgres",
        "postgresql", "mariadb", "pgsql ", " mysql", "portable2",
    };
    size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        orm_dialect_e dialect = ORM_DIALECT_COUNT;

        ck_assert_msg(orm_dialect_by_name(known[i].name, &dialect),
                      "'%s' not known", known[i].name);
        ck_assert_int_eq(dialect, known[i].dialect);
    }
    /* every dialect by its own name */
    for (i = 0; i < ORM_DIALECT_COUNT; i++) {
        orm_dialect_e dialect = ORM_DIALECT_COUNT;

        ck_assert(orm_dialect_by_name(orm_dialect_name(i), &dialect));
        ck_assert_int_eq(dialect, i);
    }
    /* no dialect: 0, and the answer is left as it was */
    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        orm_dialect_e dialect = ORM_DIALECT_COUNT;

        ck_assert_msg(!orm_dialect_by_name(unknown[i], &dialect),
                      "'%s' known", unknown[i]);
        ck_assert_int_eq(dialect, ORM_DIALECT_COUNT);
    }
}
END_TEST

/* The position of dialect's probe in probes, -1 when it has none. */
static int probe_index(const orm_db_probe_t *probes, orm_dialect_e dialect)
{
    int i;

    for (i = 0; probes[i].sql; i++) {
        if (probes[i].database == (int)dialect) {
            return i;
        }
    }
    return -1;
}

START_TEST(test_dialect_probes)
{
    const orm_db_probe_t *probes = orm_sql_dialect_probes(test_pool);
    int sqlite = probe_index(probes, ORM_DIALECT_SQLITE);
    int pgsql = probe_index(probes, ORM_DIALECT_PGSQL);
    int mysql = probe_index(probes, ORM_DIALECT_MYSQL);
    int i;

    ck_assert_ptr_nonnull(probes);
    /* the native dialects, each once, and nothing else: portable is what
     * no probe found */
    /* version() first: SQLite's question, failing on a server, would be
     * an ERROR in that server's log for every new connection */
    ck_assert_int_eq(pgsql, 0);
    ck_assert_int_eq(mysql, 1);
    ck_assert_int_eq(sqlite, 2);
    ck_assert_ptr_null(probes[3].sql);
    ck_assert_int_eq(probe_index(probes, ORM_DIALECT_PORTABLE), -1);
    for (i = 0; probes[i].sql; i++) {
        ck_assert_ptr_nonnull(probes[i].answer_has);
        ck_assert_str_eq(placeholders(probes[i].sql), "");
        ck_assert_int_eq(strncmp(probes[i].sql, "SELECT ", 7), 0);
    }
    /* SQLite's function exists nowhere else: any answer is SQLite */
    ck_assert_str_eq(probes[sqlite].sql, "SELECT sqlite_version()");
    ck_assert_str_eq(probes[sqlite].answer_has, "");
    /* PostgreSQL and MySQL ask the same: PostgreSQL's answer names it, so
     * MySQL's, which takes any answer, must come after it */
    ck_assert_str_eq(probes[pgsql].sql, "SELECT version()");
    ck_assert_str_eq(probes[pgsql].answer_has, "PostgreSQL");
    ck_assert_str_eq(probes[mysql].sql, probes[pgsql].sql);
    ck_assert_str_eq(probes[mysql].answer_has, "");
    ck_assert_int_lt(pgsql, mysql);
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
        orm_sql_t *sql = orm_sql_build(test_pool, &d, dialect);

        if (dialect == ORM_DIALECT_PORTABLE) {
            /* writes update, then insert */
            ck_assert_ptr_null(sql->upsert);
        }
        else {
            ck_assert_ptr_nonnull(sql->upsert);
            /* the upsert is the insert plus a conflict clause */
            ck_assert_int_eq(strncmp(sql->upsert, sql->insert,
                                     strlen(sql->insert)), 0);
            /* created_at is kept on conflict */
            ck_assert_ptr_null(strstr(sql->upsert + strlen(sql->insert),
                                      "created_at"));
        }
        /* the update/insert pair exists on every dialect */
        ck_assert_ptr_nonnull(sql->update);
        ck_assert_ptr_nonnull(sql->insert);
    }
}
END_TEST

/* What makes the portable dialect portable, on both mappings; and what the
 * native dialects have instead. */
START_TEST(test_sql_portable_dialect)
{
    int n, i;
    const orm_sql_t *const *builds = all_builds(&n);

    for (i = 0; i < n; i++) {
        const orm_sql_t *sql = builds[i];
        const char *create = APR_ARRAY_IDX(sql->ddl, 0, const char *);
        const char *data = i % 2 ? "payload" : "data";
        const char *length = apr_pstrcat(test_pool, ", LENGTH(", data, ") ",
                                         NULL);
        int j;

        if (sql->dialect != ORM_DIALECT_PORTABLE) {
            /* a lock clause of their own, the size in bytes */
            ck_assert_ptr_null(sql->lock_touch);
            ck_assert_int_eq(sql->size_in_chars, 0);
            continue;
        }
        ck_assert_ptr_null(sql->upsert);
        /* TEXT, which every common database has; no IF NOT EXISTS */
        ck_assert_ptr_nonnull(strstr(create, apr_pstrcat(test_pool, " ", data,
                                                         " TEXT NOT NULL, ",
                                                         NULL)));
        ck_assert_ptr_null(strstr(create, "CLOB"));
        for (j = 0; j < sql->ddl->nelts; j++) {
            ck_assert_ptr_null(strstr(APR_ARRAY_IDX(sql->ddl, j,
                                                    const char *),
                                      "IF NOT EXISTS"));
        }
        /* the row held by an UPDATE that changes nothing, run first: the
         * lock itself has no FOR UPDATE (SQLite has none) */
        ck_assert_ptr_nonnull(sql->lock_touch);
        ck_assert_int_eq(strncmp(sql->lock_touch, "UPDATE ", 7), 0);
        ck_assert_ptr_null(strstr(sql->lock, "FOR UPDATE"));
        /* the size by LENGTH, in characters */
        ck_assert_ptr_nonnull(strstr(sql->load, length));
        ck_assert_ptr_nonnull(strstr(sql->lock, length));
        ck_assert_ptr_null(strstr(sql->load, "OCTET_LENGTH"));
        ck_assert_ptr_null(strstr(sql->load, "CAST"));
        ck_assert_int_eq(sql->size_in_chars, 1);
    }
}
END_TEST

START_TEST(test_sql_placeholder_order)
{
    int n, i;
    const orm_sql_t *const *builds = all_builds(&n);

    ck_assert_int_eq(n, 8);
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
        /* (id, now_ms), as the lock it comes before */
        if (sql->lock_touch) {
            ck_assert_str_eq(placeholders(sql->lock_touch), "s,lld");
        }
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
        orm_dialect_e dialect = builds[i]->dialect;
        const char *q = dialect == ORM_DIALECT_MYSQL ? "`"
                        : dialect == ORM_DIALECT_PORTABLE ? "" : "\"";
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
        /* portable names are bare: no quote at all */
        int portable = sql->dialect == ORM_DIALECT_PORTABLE;
        char quote = sql->dialect == ORM_DIALECT_MYSQL ? '`'
                     : portable ? '\0' : '"';
        const char *stmts[11 + 3];
        int count = 0, j;

        stmts[count++] = sql->load;
        stmts[count++] = sql->load_no_size;
        stmts[count++] = sql->lock_no_size;
        stmts[count++] = sql->insert;
        stmts[count++] = sql->update;
        stmts[count++] = sql->remove;
        stmts[count++] = sql->probe;
        stmts[count++] = sql->update_if;
        stmts[count++] = sql->lock;
        if (sql->upsert) {
            stmts[count++] = sql->upsert;
        }
        if (sql->lock_touch) {
            stmts[count++] = sql->lock_touch;
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
            ck_assert_msg(portable ? quotes == 0
                          : quotes > 0 && quotes % 2 == 0,
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
    sql = orm_sql_build(test_pool, &s, ORM_DIALECT_PGSQL);
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
    sql = orm_sql_build(test_pool, &s, ORM_DIALECT_SQLITE);
    ck_assert_str_eq(sql->load,
        "SELECT \"data\", \"expires_at\", \"updated_at\", \"login\", "
        "LENGTH(CAST(\"data\" AS BLOB)) FROM \"session\" WHERE \"id\" = %s "
        "AND \"expires_at\" > %lld");
    ck_assert_str_eq(APR_ARRAY_IDX(sql->ddl, 2, const char *),
        "CREATE INDEX IF NOT EXISTS \"session_user_name_idx\" ON \"session\" "
        "(\"login\") WHERE \"login\" IS NOT NULL");
}
END_TEST

/* ---- releasing a prepared statement ------------------------------------ */

START_TEST(test_sql_release)
{
    int d;

    ck_assert_str_eq(orm_sql_release(test_pool, ORM_DIALECT_PGSQL,
                                     "session_orm_0_load"),
                     "DEALLOCATE \"session_orm_0_load\"");
    for (d = 0; d < ORM_DIALECT_COUNT; d++) {
        ck_assert_ptr_null(orm_sql_release(test_pool, d, NULL));
        if (d != ORM_DIALECT_PGSQL) {
            ck_assert_ptr_null(orm_sql_release(test_pool, d, "x"));
        }
    }
}
END_TEST

/* ---- a connection's set-up ----------------------------------------------- */

/* The set-up of dialect as "select: sql" / "query: sql" lines. */
static const char *setup_text(orm_dialect_e dialect, apr_int64_t timeout_ms)
{
    const apr_array_header_t *setup = orm_sql_connection_setup(
        test_pool, dialect, timeout_ms);
    const char *out = "";
    int i;

    for (i = 0; i < setup->nelts; i++) {
        const orm_sql_setting_t *s = &APR_ARRAY_IDX(setup, i,
                                                    orm_sql_setting_t);
        out = apr_pstrcat(test_pool, out, s->answers_row ? "select: "
                          : "query: ", s->sql, "\n", NULL);
    }
    return out;
}

#define SQLITE_SETUP "select: PRAGMA busy_timeout = 25\n" \
    "select: PRAGMA journal_mode = WAL\n" \
    "select: PRAGMA synchronous = NORMAL\n"

START_TEST(test_sql_connection_setup)
{
    /* SQLite: its settings, whatever the timeout */
    ck_assert_str_eq(setup_text(ORM_DIALECT_SQLITE, 5000), SQLITE_SETUP);
    ck_assert_str_eq(setup_text(ORM_DIALECT_SQLITE, 1), SQLITE_SETUP);
    /* the servers: a bound on a statement's time, in their units */
    ck_assert_str_eq(setup_text(ORM_DIALECT_PGSQL, 5000),
                     "query: SET statement_timeout = 5000\n");
    ck_assert_str_eq(setup_text(ORM_DIALECT_PGSQL, 123456),
                     "query: SET statement_timeout = 123456\n");
    ck_assert_str_eq(setup_text(ORM_DIALECT_MYSQL, 5000),
                     "query: SET SESSION max_statement_time = 5.000\n"
                     "query: SET SESSION max_execution_time = 5000\n");
    ck_assert_str_eq(setup_text(ORM_DIALECT_MYSQL, 1001),
                     "query: SET SESSION max_statement_time = 1.001\n"
                     "query: SET SESSION max_execution_time = 1001\n");
    ck_assert_str_eq(setup_text(ORM_DIALECT_MYSQL, 5),
                     "query: SET SESSION max_statement_time = 0.005\n"
                     "query: SET SESSION max_execution_time = 5\n");
    /* nothing is sure to be understood elsewhere */
    ck_assert_str_eq(setup_text(ORM_DIALECT_PORTABLE, 5000), "");
}
END_TEST

START_TEST(test_sql_connection_setup_runs_on_sqlite)
{
    test_db_t *db = test_db_open();
    const apr_array_header_t *setup = orm_sql_connection_setup(
        test_pool, ORM_DIALECT_SQLITE, 5000);
    apr_array_header_t *rows;
    int i;

    for (i = 0; i < setup->nelts; i++) {
        const orm_sql_setting_t *s = &APR_ARRAY_IDX(setup, i,
                                                    orm_sql_setting_t);
        apr_dbd_results_t *res = NULL;
        int err = apr_dbd_select(db->driver, db->pool, db->handle, &res,
                                 s->sql, 1);

        ck_assert_msg(err == 0, "%s: %s", s->sql,
                      apr_dbd_error(db->driver, db->handle, err));
    }
    ck_assert_int_eq(test_db_int(db, "PRAGMA busy_timeout"), 25);
    ck_assert_int_eq(test_db_int(db, "PRAGMA synchronous"), 1);  /* NORMAL */
    rows = test_db_pselect(db, test_db_prepare(db, "PRAGMA journal_mode"), 0,
                           NULL);
    ck_assert_int_eq(rows->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(rows, 0, const char **)[0], "wal");
    test_db_close(db);
}
END_TEST

/* ---- update_if and lock -------------------------------------------------- */

START_TEST(test_sql_update_if_and_lock)
{
    orm_schema_t d = default_schema(), r = test_renamed_schema();
    orm_sql_t *sql;

    /* SQLite: BEGIN IMMEDIATE holds the lock, no FOR UPDATE */
    sql = orm_sql_build(test_pool, &d, ORM_DIALECT_SQLITE);
    ck_assert_str_eq(sql->update_if, DQ_UPDATE " AND \"updated_at\" = %lld");
    ck_assert_str_eq(sql->lock,
        "SELECT \"data\", \"updated_at\", LENGTH(CAST(\"data\" AS BLOB)) "
        "FROM \"session\" WHERE \"id\" = %s AND \"expires_at\" > %lld");
    sql = orm_sql_build(test_pool, &r, ORM_DIALECT_SQLITE);
    ck_assert_str_eq(sql->update_if, RQ_UPDATE " AND \"touched_ms\" = %lld");
    ck_assert_str_eq(sql->lock,
        "SELECT \"payload\", \"touched_ms\", LENGTH(CAST(\"payload\" AS "
        "BLOB)) FROM \"app_sessions\" WHERE \"sid\" = %s AND "
        "\"exp_ms\" > %lld");

    sql = orm_sql_build(test_pool, &d, ORM_DIALECT_PGSQL);
    ck_assert_str_eq(sql->update_if, DQ_UPDATE " AND \"updated_at\" = %lld");
    ck_assert_str_eq(sql->lock,
        "SELECT \"data\", \"updated_at\", OCTET_LENGTH(\"data\") FROM "
        "\"session\" WHERE \"id\" = %s AND \"expires_at\" > %lld "
        "FOR UPDATE");
    sql = orm_sql_build(test_pool, &r, ORM_DIALECT_PGSQL);
    ck_assert_str_eq(sql->lock,
        "SELECT \"payload\", \"touched_ms\", OCTET_LENGTH(\"payload\") "
        "FROM \"app_sessions\" WHERE \"sid\" = %s AND \"exp_ms\" > "
        "%lld FOR UPDATE");

    /* portable: no FOR UPDATE; lock_touch holds the row before */
    sql = orm_sql_build(test_pool, &d, ORM_DIALECT_PORTABLE);
    ck_assert_str_eq(sql->update_if, UQ_UPDATE " AND updated_at = %lld");
    ck_assert_str_eq(sql->lock,
        "SELECT data, updated_at, LENGTH(data) FROM session WHERE id = %s "
        "AND expires_at > %lld");
    ck_assert_str_eq(sql->lock_touch,
        "UPDATE session SET updated_at = updated_at WHERE id = %s AND "
        "expires_at > %lld");
    sql = orm_sql_build(test_pool, &r, ORM_DIALECT_PORTABLE);
    ck_assert_str_eq(sql->update_if, UR_UPDATE " AND touched_ms = %lld");
    ck_assert_str_eq(sql->lock,
        "SELECT payload, touched_ms, LENGTH(payload) FROM app_sessions "
        "WHERE sid = %s AND exp_ms > %lld");
    ck_assert_str_eq(sql->lock_touch,
        "UPDATE app_sessions SET touched_ms = touched_ms WHERE sid = %s AND "
        "exp_ms > %lld");

    sql = orm_sql_build(test_pool, &d, ORM_DIALECT_MYSQL);
    ck_assert_str_eq(sql->update_if,
        "UPDATE `session` SET `data` = %s, `expires_at` = %lld, "
        "`user_name` = %s, `updated_at` = %lld WHERE `id` = %s "
        "AND `updated_at` = %lld");
    ck_assert_str_eq(sql->lock,
        "SELECT `data`, `updated_at`, OCTET_LENGTH(`data`) FROM `session` "
        "WHERE `id` = %s AND `expires_at` > %lld FOR UPDATE");
    sql = orm_sql_build(test_pool, &r, ORM_DIALECT_MYSQL);
    ck_assert_str_eq(sql->update_if,
        "UPDATE `app_sessions` SET `payload` = %s, `exp_ms` = %lld, "
        "`owner` = %s, `touched_ms` = %lld WHERE `sid` = %s "
        "AND `touched_ms` = %lld");
    ck_assert_str_eq(sql->lock,
        "SELECT `payload`, `touched_ms`, OCTET_LENGTH(`payload`) FROM "
        "`app_sessions` WHERE `sid` = %s AND `exp_ms` > %lld FOR UPDATE");
}
END_TEST

/* load and lock as a driver that tells the data's size is asked them
 * (ORM_TEXT_SIZE_TOLD) or that hands back every value whole
 * (ORM_TEXT_SIZE_WHOLE): the same, but for the size the server would work
 * out, which is the last column. */
START_TEST(test_sql_reads_without_size)
{
    orm_schema_t d = default_schema();
    const orm_sql_t *const *builds;
    const orm_sql_t *sql;
    int i, n;

    sql = orm_sql_build(test_pool, &d, ORM_DIALECT_MYSQL);
    ck_assert_str_eq(sql->load_no_size,
        "SELECT `data`, `expires_at`, `updated_at`, `user_name` FROM "
        "`session` WHERE `id` = %s AND `expires_at` > %lld");
    ck_assert_str_eq(sql->lock_no_size,
        "SELECT `data`, `updated_at` FROM `session` WHERE `id` = %s AND "
        "`expires_at` > %lld FOR UPDATE");

    builds = all_builds(&n);
    for (i = 0; i < n; i++) {
        const char *size_at;

        sql = builds[i];
        /* load minus ", <size>" before " FROM" */
        size_at = strstr(sql->load, " FROM ");
        ck_assert_ptr_nonnull(size_at);
        while (size_at > sql->load && size_at[0] != ',') {
            size_at--;
        }
        ck_assert_str_eq(sql->load_no_size,
                         apr_pstrcat(test_pool,
                                     apr_pstrndup(test_pool, sql->load,
                                                  size_at - sql->load),
                                     strstr(sql->load, " FROM "), NULL));
        ck_assert_ptr_null(strstr(sql->load_no_size, "LENGTH"));
        ck_assert_ptr_null(strstr(sql->lock_no_size, "LENGTH"));
        ck_assert_ptr_nonnull(strstr(sql->lock, "LENGTH"));
        ck_assert_str_eq(placeholders(sql->load_no_size), "s,lld");
        ck_assert_str_eq(placeholders(sql->lock_no_size), "s,lld");
    }
}
END_TEST

START_TEST(test_sql_update_if_lock_placeholders)
{
    int n, i;
    const orm_sql_t *const *builds = all_builds(&n);

    for (i = 0; i < n; i++) {
        const orm_sql_t *sql = builds[i];
        int for_update = sql->dialect != ORM_DIALECT_SQLITE
                         && sql->dialect != ORM_DIALECT_PORTABLE;
        size_t len = strlen(sql->lock);

        /* (data, expires_at, user_name, updated_at, id, loaded updated_at) */
        ck_assert_str_eq(placeholders(sql->update_if), "s,lld,s,lld,s,lld");
        /* the plain update with the version condition appended */
        ck_assert_int_eq(strncmp(sql->update_if, sql->update,
                                 strlen(sql->update)), 0);
        /* (id, now_ms) */
        ck_assert_str_eq(placeholders(sql->lock), "s,lld");
        ck_assert_int_eq(len >= 11 && !strcmp(sql->lock + len - 11,
                                              " FOR UPDATE"), for_update);
        ck_assert_ptr_null(strstr(sql->load, "FOR UPDATE"));
        /* where there is no FOR UPDATE on a server, an UPDATE locks */
        ck_assert_int_eq(sql->lock_touch != NULL,
                         sql->dialect == ORM_DIALECT_PORTABLE);
    }
}
END_TEST

/* ---- maintenance statements ---------------------------------------------- */

typedef struct {
    const char *sweep, *count_expired, *totals, *revoke_user, *revoke_all;
    const char *table_size, *identity, *try_lock, *unlock;
} expected_admin_t;

#define DA_COUNT "SELECT COUNT(*) FROM \"session\" WHERE \"expires_at\" <= %lld"
#define DA_TOTALS "SELECT COUNT(*), MIN(\"expires_at\"), MAX(\"expires_at\") " \
    "FROM \"session\" WHERE \"id\" <> '!sweep'"
#define DA_REVOKE_USER "DELETE FROM \"session\" WHERE \"user_name\" = %s"
#define DA_REVOKE_ALL "DELETE FROM \"session\" WHERE \"id\" <> '!sweep'"
#define RA_COUNT "SELECT COUNT(*) FROM \"app_sessions\" WHERE \"exp_ms\" <= %lld"
#define RA_TOTALS "SELECT COUNT(*), MIN(\"exp_ms\"), MAX(\"exp_ms\") " \
    "FROM \"app_sessions\" WHERE \"sid\" <> '!sweep'"
#define RA_REVOKE_USER "DELETE FROM \"app_sessions\" WHERE \"owner\" = %s"
#define RA_REVOKE_ALL "DELETE FROM \"app_sessions\" WHERE \"sid\" <> " \
    "'!sweep'"
#define SQLITE_SIZE "SELECT SUM(pgsize) FROM dbstat WHERE name IN (SELECT " \
    "name FROM sqlite_master WHERE tbl_name = %s)"
#define SQLITE_IDENTITY "SELECT file FROM pragma_database_list WHERE " \
    "name = 'main'"
#define PG_SIZE "SELECT pg_total_relation_size(CAST(quote_ident(%s) AS " \
    "regclass))"
#define PG_IDENTITY "SELECT COALESCE(CAST(inet_server_addr() AS text), " \
    "'socket') || ':' || COALESCE(CAST(inet_server_port() AS text), '') " \
    "|| '/' || current_database()"
#define PG_TRY_LOCK "SELECT CASE WHEN pg_try_advisory_lock(%lld) THEN 1 " \
    "ELSE 0 END"
#define PG_UNLOCK "SELECT pg_advisory_unlock(%lld)"
#define MY_SIZE "SELECT data_length + index_length FROM " \
    "information_schema.TABLES WHERE table_schema = DATABASE() AND " \
    "table_name = %s"
#define MY_IDENTITY "SELECT CONCAT(@@hostname, ':', @@port, '/', DATABASE())"

static const expected_admin_t admin_sqlite_default = {
    "DELETE FROM \"session\" WHERE \"id\" IN (SELECT \"id\" FROM \"session\" "
    "WHERE \"expires_at\" <= %lld LIMIT 1000)",
    DA_COUNT, DA_TOTALS, DA_REVOKE_USER, DA_REVOKE_ALL,
    SQLITE_SIZE, SQLITE_IDENTITY, NULL, NULL
};
static const expected_admin_t admin_sqlite_renamed = {
    "DELETE FROM \"app_sessions\" WHERE \"sid\" IN (SELECT \"sid\" FROM "
    "\"app_sessions\" WHERE \"exp_ms\" <= %lld LIMIT 7)",
    RA_COUNT, RA_TOTALS, RA_REVOKE_USER, RA_REVOKE_ALL,
    SQLITE_SIZE, SQLITE_IDENTITY, NULL, NULL
};
static const expected_admin_t admin_pgsql_default = {
    "DELETE FROM \"session\" WHERE \"id\" IN (SELECT \"id\" FROM \"session\" "
    "WHERE \"expires_at\" <= %lld LIMIT 1000)",
    DA_COUNT, DA_TOTALS, DA_REVOKE_USER, DA_REVOKE_ALL,
    PG_SIZE, PG_IDENTITY, PG_TRY_LOCK, PG_UNLOCK
};
static const expected_admin_t admin_pgsql_renamed = {
    "DELETE FROM \"app_sessions\" WHERE \"sid\" IN (SELECT \"sid\" FROM "
    "\"app_sessions\" WHERE \"exp_ms\" <= %lld LIMIT 7)",
    RA_COUNT, RA_TOTALS, RA_REVOKE_USER, RA_REVOKE_ALL,
    PG_SIZE, PG_IDENTITY, PG_TRY_LOCK, PG_UNLOCK
};
static const expected_admin_t admin_mysql_default = {
    "DELETE FROM `session` WHERE `expires_at` <= %lld LIMIT 1000",
    "SELECT COUNT(*) FROM `session` WHERE `expires_at` <= %lld",
    "SELECT COUNT(*), MIN(`expires_at`), MAX(`expires_at`) FROM `session` "
    "WHERE `id` <> '!sweep'",
    "DELETE FROM `session` WHERE `user_name` = %s",
    "DELETE FROM `session` WHERE `id` <> '!sweep'",
    MY_SIZE, MY_IDENTITY, NULL, NULL
};
static const expected_admin_t admin_mysql_renamed = {
    "DELETE FROM `app_sessions` WHERE `exp_ms` <= %lld LIMIT 7",
    "SELECT COUNT(*) FROM `app_sessions` WHERE `exp_ms` <= %lld",
    "SELECT COUNT(*), MIN(`exp_ms`), MAX(`exp_ms`) FROM `app_sessions` "
    "WHERE `sid` <> '!sweep'",
    "DELETE FROM `app_sessions` WHERE `owner` = %s",
    "DELETE FROM `app_sessions` WHERE `sid` <> '!sweep'",
    MY_SIZE, MY_IDENTITY, NULL, NULL
};
static const expected_admin_t admin_portable_default = {
    "DELETE FROM session WHERE expires_at <= %lld",
    "SELECT COUNT(*) FROM session WHERE expires_at <= %lld",
    "SELECT COUNT(*), MIN(expires_at), MAX(expires_at) FROM session "
    "WHERE id <> '!sweep'",
    "DELETE FROM session WHERE user_name = %s",
    "DELETE FROM session WHERE id <> '!sweep'",
    NULL, NULL, NULL, NULL
};
static const expected_admin_t admin_portable_renamed = {
    "DELETE FROM app_sessions WHERE exp_ms <= %lld",
    "SELECT COUNT(*) FROM app_sessions WHERE exp_ms <= %lld",
    "SELECT COUNT(*), MIN(exp_ms), MAX(exp_ms) FROM app_sessions "
    "WHERE sid <> '!sweep'",
    "DELETE FROM app_sessions WHERE owner = %s",
    "DELETE FROM app_sessions WHERE sid <> '!sweep'",
    NULL, NULL, NULL, NULL
};

static void check_opt_str(const char *got, const char *expected,
                          const char *what)
{
    if (expected == NULL) {
        ck_assert_msg(got == NULL, "%s: expected NULL, got %s", what, got);
    }
    else {
        ck_assert_msg(got != NULL && !strcmp(got, expected),
                      "%s:\n got      %s\n expected %s", what,
                      got ? got : "NULL", expected);
    }
}

static void check_admin(orm_dialect_e dialect, const orm_schema_t *schema,
                        int batch, const expected_admin_t *e)
{
    orm_maintenance_sql_t *a = orm_maintenance_sql_build(test_pool, schema,
                                                         dialect, batch);

    ck_assert_ptr_nonnull(a);
    check_opt_str(a->sweep, e->sweep, "sweep");
    check_opt_str(a->count_expired, e->count_expired, "count_expired");
    check_opt_str(a->totals, e->totals, "totals");
    check_opt_str(a->revoke_user, e->revoke_user, "revoke_user");
    check_opt_str(a->revoke_all, e->revoke_all, "revoke_all");
    check_opt_str(a->table_size, e->table_size, "table_size");
    check_opt_str(a->identity, e->identity, "identity");
    check_opt_str(a->try_lock, e->try_lock, "try_lock");
    check_opt_str(a->unlock, e->unlock, "unlock");
}

START_TEST(test_admin_sql_per_dialect)
{
    orm_schema_t d = default_schema(), r = test_renamed_schema();

    check_admin(ORM_DIALECT_SQLITE, &d, 1000, &admin_sqlite_default);
    check_admin(ORM_DIALECT_SQLITE, &r, 7, &admin_sqlite_renamed);
    check_admin(ORM_DIALECT_PGSQL, &d, 1000, &admin_pgsql_default);
    check_admin(ORM_DIALECT_PGSQL, &r, 7, &admin_pgsql_renamed);
    check_admin(ORM_DIALECT_MYSQL, &d, 1000, &admin_mysql_default);
    check_admin(ORM_DIALECT_MYSQL, &r, 7, &admin_mysql_renamed);
    check_admin(ORM_DIALECT_PORTABLE, &d, 1000, &admin_portable_default);
    check_admin(ORM_DIALECT_PORTABLE, &r, 7, &admin_portable_renamed);
    /* the batch size does not matter where there is no LIMIT */
    check_admin(ORM_DIALECT_PORTABLE, &d, 1, &admin_portable_default);
    check_admin(orm_dialect_for_driver("odbc"), &d, 1000,
                &admin_portable_default);
}
END_TEST

START_TEST(test_admin_sql_batch_in_limit)
{
    orm_schema_t d = default_schema();
    static const int batches[] = { 1, 2, 999, 1000, 100000 };
    size_t i;

    for (i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
        const char *limit = apr_psprintf(test_pool, " LIMIT %d",
                                         batches[i]);
        orm_maintenance_sql_t *s =
            orm_maintenance_sql_build(test_pool, &d, ORM_DIALECT_SQLITE,
                                      batches[i]);
        orm_maintenance_sql_t *p = orm_maintenance_sql_build(test_pool, &d,
                                                             ORM_DIALECT_PGSQL,
                                                             batches[i]);
        orm_maintenance_sql_t *m = orm_maintenance_sql_build(test_pool, &d,
                                                             ORM_DIALECT_MYSQL,
                                                             batches[i]);
        const char *sub = apr_pstrcat(test_pool, limit, ")", NULL);

        ck_assert_str_eq(s->sweep + strlen(s->sweep) - strlen(sub), sub);
        ck_assert_str_eq(p->sweep, s->sweep);
        ck_assert_str_eq(m->sweep + strlen(m->sweep) - strlen(limit), limit);
        /* only one LIMIT, and nothing but the sweep has one */
        ck_assert_ptr_null(strstr(strstr(s->sweep, " LIMIT ") + 1, " LIMIT "));
        ck_assert_ptr_null(strstr(s->count_expired, "LIMIT"));
        ck_assert_ptr_null(strstr(m->count_expired, "LIMIT"));
    }
}
END_TEST

START_TEST(test_admin_sql_placeholders)
{
    orm_schema_t d = default_schema(), r = test_renamed_schema();
    int dialect, m;

    for (dialect = 0; dialect < ORM_DIALECT_COUNT; dialect++) {
        for (m = 0; m < 2; m++) {
            orm_maintenance_sql_t *a = orm_maintenance_sql_build(test_pool,
                                                                 m ? &r : &d,
                                                                 dialect, 500);
            /* (now_ms) */
            ck_assert_str_eq(placeholders(a->sweep), "lld");
            ck_assert_str_eq(placeholders(a->count_expired), "lld");
            /* () */
            ck_assert_str_eq(placeholders(a->totals), "");
            ck_assert_str_eq(placeholders(a->revoke_all), "");
            /* (user_name) */
            ck_assert_str_eq(placeholders(a->revoke_user), "s");
            /* (table name) */
            if (a->table_size) {
                ck_assert_str_eq(placeholders(a->table_size), "s");
            }
            if (a->identity) {
                ck_assert_str_eq(placeholders(a->identity), "");
            }
            /* (key); a lock comes with its unlock */
            ck_assert_int_eq(a->try_lock != NULL, a->unlock != NULL);
            ck_assert_int_eq(a->try_lock != NULL,
                             dialect == ORM_DIALECT_PGSQL);
            if (a->try_lock) {
                ck_assert_str_eq(placeholders(a->try_lock), "lld");
                ck_assert_str_eq(placeholders(a->unlock), "lld");
            }
            /* every statement reads or deletes expired rows only with <= */
            ck_assert_ptr_nonnull(strstr(a->sweep, " <= %lld"));
            ck_assert_ptr_null(strstr(a->sweep, " < %lld"));
        }
    }
}
END_TEST

/* ---- the SQLite statements, run on SQLite -------------------------------- */

#define T0 APR_INT64_C(1700000000000)

static const char *num(apr_int64_t v)
{
    return apr_psprintf(test_pool, "%" APR_INT64_T_FMT, v);
}

/* The one row a select returned, or NULL when none; fails on several. */
static const char **one_row(test_db_t *db, const char *sql, int nargs,
                            const char **args)
{
    apr_array_header_t *rows = test_db_pselect(db, test_db_prepare(db, sql),
                                               nargs, args);

    ck_assert_msg(rows->nelts <= 1, "%d rows from %s", rows->nelts, sql);
    return rows->nelts ? APR_ARRAY_IDX(rows, 0, const char **) : NULL;
}

static int run(test_db_t *db, const char *sql, int nargs, const char **args)
{
    return test_db_pquery(db, test_db_prepare(db, sql), nargs, args);
}

/* The table and its indexes by the DDL: twice where IF NOT EXISTS makes
 * it idempotent (every dialect but portable). */
static void create_table(test_db_t *db, const orm_sql_t *sql,
                         const char *table)
{
    int passes = sql->dialect == ORM_DIALECT_PORTABLE ? 1 : 2;
    int i, pass;

    for (pass = 0; pass < passes; pass++) {
        for (i = 0; i < sql->ddl->nelts; i++) {
            test_db_exec(db, APR_ARRAY_IDX(sql->ddl, i, const char *));
        }
    }
    ck_assert_int_eq(test_db_int(db, apr_pstrcat(test_pool,
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND "
        "tbl_name = '", table, "' AND name LIKE '", table, "_%_idx'", NULL)),
        2);
    ck_assert_ptr_null(one_row(db, sql->probe, 0, NULL));
}

/* insert, load, update and update_if on row id1; it ends as (a=3,
 * expires T0+3000, bob, updated T0+20) */
static void exercise_rows(test_db_t *db, const orm_sql_t *sql)
{
    const char **row;
    const char *args[6];

    /* insert (id, data, expires_at, user_name, created_at, updated_at) */
    args[0] = "id1"; args[1] = "a=1"; args[2] = num(T0 + 1000);
    args[3] = "alice"; args[4] = num(T0); args[5] = num(T0);
    ck_assert_int_eq(run(db, sql->insert, 6, args), 1);
    /* load (id, now) -> data, expires_at, updated_at, user_name */
    args[0] = "id1"; args[1] = num(T0);
    row = one_row(db, sql->load, 2, args);
    ck_assert_ptr_nonnull(row);
    ck_assert_str_eq(row[0], "a=1");
    ck_assert_str_eq(row[1], num(T0 + 1000));
    ck_assert_str_eq(row[2], num(T0));
    ck_assert_str_eq(row[3], "alice");
    ck_assert_str_eq(row[4], "3");              /* bytes of the data */
    /* not once it expired, nor for another id */
    args[1] = num(T0 + 1000);
    ck_assert_ptr_null(one_row(db, sql->load, 2, args));
    args[0] = "nope"; args[1] = num(T0);
    ck_assert_ptr_null(one_row(db, sql->load, 2, args));

    /* update (data, expires_at, user_name, updated_at, id) */
    args[0] = "a=2"; args[1] = num(T0 + 2000); args[2] = NULL;
    args[3] = num(T0 + 10); args[4] = "id1";
    ck_assert_int_eq(run(db, sql->update, 5, args), 1);
    args[4] = "nope";
    ck_assert_int_eq(run(db, sql->update, 5, args), 0);
    args[0] = "id1"; args[1] = num(T0);
    row = one_row(db, sql->load, 2, args);
    ck_assert_str_eq(row[0], "a=2");
    ck_assert_ptr_null(row[3]);                 /* user_name NULL */

    /* update_if: only with the version that was loaded */
    args[0] = "a=3"; args[1] = num(T0 + 3000); args[2] = "bob";
    args[3] = num(T0 + 20); args[4] = "id1"; args[5] = num(T0);  /* stale */
    ck_assert_int_eq(run(db, sql->update_if, 6, args), 0);
    args[5] = num(T0 + 10);                                      /* current */
    ck_assert_int_eq(run(db, sql->update_if, 6, args), 1);
    ck_assert_int_eq(run(db, sql->update_if, 6, args), 0);       /* moved on */
}

/* lock (id, now) -> data, updated_at, size, inside a write transaction:
 * SQLite's BEGIN IMMEDIATE, or the UPDATE of lock_touch where the dialect
 * has one (portable) */
static void exercise_lock(test_db_t *db, const orm_sql_t *sql)
{
    const char **row;
    const char *args[2];

    test_db_exec(db, sql->lock_touch ? "BEGIN" : "BEGIN IMMEDIATE");
    args[0] = "id1"; args[1] = num(T0);
    if (sql->lock_touch) {
        ck_assert_int_eq(run(db, sql->lock_touch, 2, args), 1);
    }
    row = one_row(db, sql->lock, 2, args);
    ck_assert_ptr_nonnull(row);
    ck_assert_str_eq(row[0], "a=3");
    ck_assert_str_eq(row[1], num(T0 + 20));     /* the touch changed nothing */
    ck_assert_str_eq(row[2], "3");
    args[1] = num(T0 + 3000);                   /* expired by then */
    if (sql->lock_touch) {
        ck_assert_int_eq(run(db, sql->lock_touch, 2, args), 0);
    }
    ck_assert_ptr_null(one_row(db, sql->lock, 2, args));
    test_db_exec(db, "COMMIT");
}

/* Row id2 by the upsert (a new row, then the same id again keeps
 * created_at), or by the insert where the dialect has none (portable);
 * then a duplicate insert is refused. */
static void exercise_upsert(test_db_t *db, const orm_sql_t *sql,
                            const orm_schema_t *schema)
{
    const char **row;
    const char *args[6];
    int nrows = 0;

    if (sql->upsert) {
        ck_assert_int_ne(sql->dialect, ORM_DIALECT_PORTABLE);
        args[0] = "id2"; args[1] = "u=1"; args[2] = num(T0 + 5000);
        args[3] = "carol"; args[4] = num(T0 + 1); args[5] = num(T0 + 1);
        ck_assert_int_eq(run(db, sql->upsert, 6, args), 1);
        args[1] = "u=2"; args[3] = NULL; args[4] = num(T0 + 99);
        args[5] = num(T0 + 2);
        ck_assert_int_eq(run(db, sql->upsert, 6, args), 1);
        args[1] = num(T0);
        row = one_row(db, sql->load, 2, args);
        ck_assert_str_eq(row[0], "u=2");
        ck_assert_str_eq(row[2], num(T0 + 2));
        ck_assert_ptr_null(row[3]);
        ck_assert_int_eq(test_db_int(db, apr_psprintf(test_pool,
            "SELECT \"%s\" FROM \"%s\" WHERE \"%s\" = 'id2'",
            orm_schema_column(schema, ORM_FIELD_CREATED_AT),
            orm_schema_table(schema),
            orm_schema_column(schema, ORM_FIELD_ID))), T0 + 1);
    }
    else {
        ck_assert_int_eq(sql->dialect, ORM_DIALECT_PORTABLE);
        args[0] = "id2"; args[1] = "u=2"; args[2] = num(T0 + 5000);
        args[3] = NULL; args[4] = num(T0 + 1); args[5] = num(T0 + 2);
        ck_assert_int_eq(run(db, sql->insert, 6, args), 1);
    }
    /* a duplicate insert is refused (primary key) */
    args[0] = "id2"; args[1] = "dup"; args[2] = num(T0);
    args[3] = NULL; args[4] = num(T0); args[5] = num(T0);
    ck_assert_int_ne(apr_dbd_pquery(db->driver, db->pool, db->handle, &nrows,
                                    test_db_prepare(db, sql->insert), 6,
                                    args), 0);
}

/* The maintenance statements (a sweep batch of 2) on the rows id1 and id2
 * and three more; the table is empty after. */
static void exercise_maintenance(test_db_t *db, const orm_sql_t *sql,
                                 const orm_maintenance_sql_t *admin,
                                 const char *table)
{
    const char **row;
    const char *args[6];

    args[0] = "id3"; args[1] = "x=1"; args[2] = num(T0 - 5);
    args[3] = "alice"; args[4] = num(T0 - 10); args[5] = num(T0 - 10);
    ck_assert_int_eq(run(db, sql->insert, 6, args), 1);
    args[0] = "id4"; args[2] = num(T0 - 4);
    ck_assert_int_eq(run(db, sql->insert, 6, args), 1);
    args[0] = "id5"; args[2] = num(T0);
    ck_assert_int_eq(run(db, sql->insert, 6, args), 1);
    /* rows now: id1 (T0+3000, bob), id2 (T0+5000), id3 (T0-5, alice),
     * id4 (T0-4, alice), id5 (T0, alice) */
    args[0] = num(T0);
    row = one_row(db, admin->count_expired, 1, args);
    ck_assert_str_eq(row[0], "3");
    row = one_row(db, admin->totals, 0, NULL);
    ck_assert_str_eq(row[0], "5");
    ck_assert_str_eq(row[1], num(T0 - 5));
    ck_assert_str_eq(row[2], num(T0 + 5000));
    if (admin->table_size) {
        args[0] = table;
        row = one_row(db, admin->table_size, 1, args);
        ck_assert_ptr_nonnull(row);
        ck_assert_ptr_nonnull(row[0]);
        ck_assert_int_gt(apr_atoi64(row[0]), 0);
    }
    if (admin->identity) {
        row = one_row(db, admin->identity, 0, NULL);
        ck_assert_ptr_nonnull(row);
        ck_assert_str_eq(row[0], db->path);
    }
    /* sweep with LIMIT 2: two, then the last one; all at once without */
    args[0] = num(T0);
    if (strstr(admin->sweep, " LIMIT 2")) {
        ck_assert_int_eq(run(db, admin->sweep, 1, args), 2);
        ck_assert_int_eq(run(db, admin->sweep, 1, args), 1);
    }
    else {
        ck_assert_int_eq(run(db, admin->sweep, 1, args), 3);
    }
    ck_assert_int_eq(run(db, admin->sweep, 1, args), 0);
    row = one_row(db, admin->count_expired, 1, args);
    ck_assert_str_eq(row[0], "0");
    /* revoke one user, then everybody */
    args[0] = "bob";
    ck_assert_int_eq(run(db, admin->revoke_user, 1, args), 1);
    args[0] = "nobody";
    ck_assert_int_eq(run(db, admin->revoke_user, 1, args), 0);
    ck_assert_int_eq(run(db, admin->revoke_all, 0, NULL), 1);
    row = one_row(db, admin->totals, 0, NULL);
    ck_assert_str_eq(row[0], "0");
    ck_assert_ptr_null(row[1]);
}

/* Every statement of dialect for schema, run on a new SQLite database. */
static void exercise_on_sqlite(const orm_schema_t *schema,
                               orm_dialect_e dialect)
{
    test_db_t *db = test_db_open();
    orm_sql_t *sql = orm_sql_build(test_pool, schema, dialect);
    orm_maintenance_sql_t *admin =
        orm_maintenance_sql_build(test_pool, schema, dialect, 2);
    const char *args[6];

    create_table(db, sql, orm_schema_table(schema));
    exercise_rows(db, sql);
    exercise_lock(db, sql);
    exercise_upsert(db, sql, schema);
    exercise_maintenance(db, sql, admin, orm_schema_table(schema));

    /* remove (id) */
    args[0] = "id9"; args[1] = "z=1"; args[2] = num(T0 + 1);
    args[3] = NULL; args[4] = num(T0); args[5] = num(T0);
    ck_assert_int_eq(run(db, sql->insert, 6, args), 1);
    args[0] = "id9";
    ck_assert_int_eq(run(db, sql->remove, 1, args), 1);
    ck_assert_int_eq(run(db, sql->remove, 1, args), 0);

    test_db_close(db);
}

/* SQLite's own statements, and the portable ones, which SQLite takes too */
START_TEST(test_sql_runs_on_sqlite_default)
{
    orm_schema_t d = default_schema();

    exercise_on_sqlite(&d, ORM_DIALECT_SQLITE);
    exercise_on_sqlite(&d, ORM_DIALECT_PORTABLE);
}
END_TEST

START_TEST(test_sql_runs_on_sqlite_renamed)
{
    orm_schema_t r = test_renamed_schema();

    exercise_on_sqlite(&r, ORM_DIALECT_SQLITE);
    exercise_on_sqlite(&r, ORM_DIALECT_PORTABLE);
}
END_TEST

START_TEST(test_sql_runs_on_sqlite_partly_renamed)
{
    orm_schema_t s = default_schema();

    s.table = "t_";
    s.columns[ORM_FIELD_USER_NAME] = "login";
    s.columns[ORM_FIELD_EXPIRES_AT] = "valid_until";
    exercise_on_sqlite(&s, ORM_DIALECT_SQLITE);
}
END_TEST

/* ---- the express format (connect-mikro-orm's table) --------------------- */

static orm_schema_t express_schema(void)
{
    orm_schema_t s = default_schema();

    s.format = ORM_FORMAT_EXPRESS;
    return s;
}

/* The three columns only, MikroORM's names; the conditional write expects
 * the JSON it loaded; the version read back is expired_at and the owner
 * NULL; the index is named as MikroORM names it. */
START_TEST(test_sql_express_statements)
{
    orm_schema_t s = express_schema();
    orm_sql_t *sql = orm_sql_build(test_pool, &s, ORM_DIALECT_PGSQL);
    static const orm_arg_e insert[] = {
        ORM_ARG_ID, ORM_ARG_DATA, ORM_ARG_EXPIRES_AT, ORM_ARG_END
    };
    static const orm_arg_e update_if[] = {
        ORM_ARG_DATA, ORM_ARG_EXPIRES_AT, ORM_ARG_ID, ORM_ARG_SOURCE,
        ORM_ARG_END
    };
    int i;

    ck_assert_str_eq(sql->load, "SELECT \"json\", \"expired_at\", "
                     "\"expired_at\", NULL, OCTET_LENGTH(\"json\") FROM "
                     "\"session\" WHERE \"id\" = %s AND \"expired_at\" > "
                     "%lld");
    ck_assert_str_eq(sql->upsert, "INSERT INTO \"session\" (\"id\", "
                     "\"json\", \"expired_at\") VALUES (%s, %s, %lld) ON "
                     "CONFLICT (\"id\") DO UPDATE SET \"json\" = "
                     "excluded.\"json\", \"expired_at\" = "
                     "excluded.\"expired_at\"");
    ck_assert_str_eq(sql->update_if, "UPDATE \"session\" SET \"json\" = %s, "
                     "\"expired_at\" = %lld WHERE \"id\" = %s AND \"json\" = "
                     "%s");
    for (i = 0; insert[i] != ORM_ARG_END; i++) {
        ck_assert_int_eq(sql->insert_args[i], insert[i]);
    }
    ck_assert_int_eq(sql->insert_args[i], ORM_ARG_END);
    for (i = 0; update_if[i] != ORM_ARG_END; i++) {
        ck_assert_int_eq(sql->update_if_args[i], update_if[i]);
    }
    ck_assert_int_eq(sql->update_if_args[i], ORM_ARG_END);
    ck_assert_int_eq(sql->ddl->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(sql->ddl, 0, const char *),
                     "CREATE TABLE IF NOT EXISTS \"session\" (\"id\" "
                     "VARCHAR(255) NOT NULL PRIMARY KEY, \"json\" TEXT NOT "
                     "NULL, \"expired_at\" BIGINT NOT NULL)");
    ck_assert_str_eq(APR_ARRAY_IDX(sql->ddl, 1, const char *),
                     "CREATE INDEX IF NOT EXISTS "
                     "\"session_expired_at_index\" ON \"session\" "
                     "(\"expired_at\")");
    /* MySQL's collation would take "A" for "a" */
    sql = orm_sql_build(test_pool, &s, ORM_DIALECT_MYSQL);
    ck_assert_ptr_nonnull(strstr(sql->update_if, "AND BINARY `json` = %s"));
}
END_TEST

/* No owner to revoke by and no marker row for the farm's turn; the sweep
 * and the counts on expired_at. */
START_TEST(test_admin_sql_express)
{
    orm_schema_t s = express_schema();
    orm_maintenance_sql_t *m = orm_maintenance_sql_build(test_pool, &s,
                                                         ORM_DIALECT_SQLITE,
                                                         100);

    ck_assert_ptr_null(m->revoke_user);
    ck_assert_ptr_null(m->sweep_claim);
    ck_assert_ptr_null(m->sweep_mark);
    ck_assert_ptr_nonnull(strstr(m->sweep, "\"expired_at\" <= %lld"));
    ck_assert_ptr_nonnull(strstr(m->count_expired, "\"expired_at\" <= %lld"));
}
END_TEST

/* Every express statement runs on a real SQLite table that the express
 * DDL made: insert, load (as no longer live after expiry), conditional
 * write over the JSON loaded (and not over another), remove. */
START_TEST(test_sql_express_runs_on_sqlite)
{
    orm_schema_t s = express_schema();
    orm_sql_t *sql = orm_sql_build(test_pool, &s, ORM_DIALECT_SQLITE);
    test_db_t *db = test_db_open();
    const char *args[5], **row;
    int i;

    for (i = 0; i < sql->ddl->nelts; i++) {
        test_db_exec(db, APR_ARRAY_IDX(sql->ddl, i, const char *));
    }
    args[0] = "sid1"; args[1] = "{\"a\":1}"; args[2] = num(T0 + 1000);
    ck_assert_int_eq(run(db, sql->upsert, 3, args), 1);
    args[1] = num(T0);
    row = one_row(db, sql->load, 2, args);
    ck_assert_ptr_nonnull(row);
    ck_assert_str_eq(row[0], "{\"a\":1}");
    ck_assert_str_eq(row[2], row[1]);       /* the version: expired_at */
    ck_assert_ptr_null(row[3]);             /* no owner */
    args[1] = num(T0 + 1000);
    ck_assert_ptr_null(one_row(db, sql->load, 2, args));
    args[0] = "{\"a\":2}"; args[1] = num(T0 + 2000); args[2] = "sid1";
    args[3] = "{\"a\":0}";
    ck_assert_int_eq(run(db, sql->update_if, 4, args), 0);
    args[3] = "{\"a\":1}";
    ck_assert_int_eq(run(db, sql->update_if, 4, args), 1);
    args[0] = "sid1";
    ck_assert_int_eq(run(db, sql->remove, 1, args), 1);
    test_db_close(db);
}
END_TEST

START_TEST(test_sql_probe_fails_without_table)
{
    orm_schema_t d = default_schema();
    test_db_t *db = test_db_open();
    orm_sql_t *sql = orm_sql_build(test_pool, &d, ORM_DIALECT_SQLITE);
    apr_dbd_prepared_t *stmt = NULL;
    int err = apr_dbd_prepare(db->driver, db->pool, db->handle, sql->probe,
                              NULL, &stmt);

    ck_assert_int_ne(err, 0);
    test_db_exec(db, APR_ARRAY_IDX(sql->ddl, 0, const char *));
    ck_assert_ptr_null(one_row(db, sql->probe, 0, NULL));
    test_db_close(db);
}
END_TEST

TCase *tcase_sql(void)
{
    TCase *tc = tcase_create("sql");

    tcase_add_test(tc, test_dialect_for_driver);
    tcase_add_test(tc, test_dialect_conflict);
    tcase_add_test(tc, test_dialect_name);
    tcase_add_test(tc, test_dialect_table_complete);
    tcase_add_test(tc, test_dialect_traits);
    tcase_add_test(tc, test_dialect_by_name);
    tcase_add_test(tc, test_dialect_choice);
    tcase_add_test(tc, test_dialect_probes);
    tcase_add_test(tc, test_sql_sqlite);
    tcase_add_test(tc, test_sql_pgsql);
    tcase_add_test(tc, test_sql_mysql);
    tcase_add_test(tc, test_sql_portable);
    tcase_add_test(tc, test_sql_upsert_presence);
    tcase_add_test(tc, test_sql_portable_dialect);
    tcase_add_test(tc, test_sql_placeholder_order);
    tcase_add_test(tc, test_sql_load_filters_expired);
    tcase_add_test(tc, test_sql_only_identifier_quotes);
    tcase_add_test(tc, test_sql_index_names_fit_postgres);
    tcase_add_test(tc, test_sql_partial_rename);
    tcase_add_test(tc, test_sql_update_if_and_lock);
    tcase_add_test(tc, test_sql_release);
    tcase_add_test(tc, test_sql_connection_setup);
    tcase_add_test(tc, test_sql_connection_setup_runs_on_sqlite);
    tcase_add_test(tc, test_sql_reads_without_size);
    tcase_add_test(tc, test_sql_update_if_lock_placeholders);
    tcase_add_test(tc, test_admin_sql_per_dialect);
    tcase_add_test(tc, test_admin_sql_batch_in_limit);
    tcase_add_test(tc, test_admin_sql_placeholders);
    tcase_add_test(tc, test_sql_runs_on_sqlite_default);
    tcase_add_test(tc, test_sql_runs_on_sqlite_renamed);
    tcase_add_test(tc, test_sql_runs_on_sqlite_partly_renamed);
    tcase_add_test(tc, test_sql_probe_fails_without_table);
    tcase_add_test(tc, test_sql_express_statements);
    tcase_add_test(tc, test_admin_sql_express);
    tcase_add_test(tc, test_sql_express_runs_on_sqlite);
    return tc;
}
