#include <string.h>
#include <apr_strings.h>

#include "orm_sql.h"

typedef enum {
    UPSERT_NONE,            /* update, then insert if nothing was updated */
    UPSERT_ON_CONFLICT,     /* SQLite >= 3.24, PostgreSQL >= 9.5 */
    UPSERT_ON_DUPLICATE_KEY /* MySQL, MariaDB */
} upsert_style_e;

typedef struct {
    const char *name;
    const char *quote;          /* identifier quote, opening = closing */
    const char *id_type;
    const char *data_type;
    const char *bigint_type;
    upsert_style_e upsert;
    int if_not_exists;          /* CREATE ... IF NOT EXISTS understood */
    int inline_indexes;         /* indexes declared inside CREATE TABLE */
    const char *table_options;  /* appended after CREATE TABLE (...) */
    const char *lock_clause;    /* row lock for a SELECT in a transaction */
    const char *octets_open;    /* around a text column: its size in */
    const char *octets_close;   /* bytes, whatever the character set */
    const char *session_id;     /* the server's id of this connection */
} dialect_traits_t;

static const dialect_traits_t dialects[ORM_DIALECT_COUNT] = {
    /* ORM_DIALECT_SQLITE */
    { "sqlite3", "\"", "VARCHAR(64)", "TEXT", "BIGINT",
      UPSERT_ON_CONFLICT, 1, 0, "",
      "" /* BEGIN IMMEDIATE already holds the database's write lock */,
      /* LENGTH counts characters of text, bytes of a blob */
      "LENGTH(CAST(", " AS BLOB))", NULL /* never reconnects */ },
    /* ORM_DIALECT_PGSQL */
    { "pgsql", "\"", "VARCHAR(64)", "TEXT", "BIGINT",
      UPSERT_ON_CONFLICT, 1, 0, "", " FOR UPDATE",
      /* a backend's pid may come again after a restart: with the start
       * time of the server it may not */
      "OCTET_LENGTH(", ")",
      "SELECT CAST(pg_backend_pid() AS text) || '@' || "
      "CAST(pg_postmaster_start_time() AS text)" },
    /* ORM_DIALECT_MYSQL: ids are hex, so an ASCII key keeps the index small */
    { "mysql", "`", "VARCHAR(64) CHARACTER SET ascii", "MEDIUMTEXT", "BIGINT",
      UPSERT_ON_DUPLICATE_KEY, 1, 1,
      " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4", " FOR UPDATE",
      /* connection ids start again at 1 after a restart, so a reconnected
       * handle can get the id it had: a mark of our own, in a variable of
       * the session that a new session does not have, tells it apart */
      "OCTET_LENGTH(", ")",
      "SELECT CONCAT(CONNECTION_ID(), '/', @session_orm_mark := "
      "COALESCE(@session_orm_mark, UUID()))" },
    /* ORM_DIALECT_PORTABLE: SQL standard types only */
    { "portable", "\"", "VARCHAR(64)", "CLOB", "BIGINT",
      UPSERT_NONE, 0, 0, "", " FOR UPDATE",
      "OCTET_LENGTH(", ")", NULL },
};

orm_dialect_e orm_dialect_for_driver(const char *driver_name)
{
    if (driver_name == NULL) {
        return ORM_DIALECT_PORTABLE;
    }
    if (!strcmp(driver_name, "sqlite3")) {
        return ORM_DIALECT_SQLITE;
    }
    if (!strcmp(driver_name, "pgsql")) {
        return ORM_DIALECT_PGSQL;
    }
    if (!strcmp(driver_name, "mysql")) {
        return ORM_DIALECT_MYSQL;
    }
    return ORM_DIALECT_PORTABLE;
}

const char *orm_dialect_name(orm_dialect_e dialect)
{
    return dialects[dialect].name;
}

/* Quoted identifier. Names were validated, so they contain no quote. */
static const char *quoted(apr_pool_t *pool, const dialect_traits_t *d,
                          const char *name)
{
    return apr_pstrcat(pool, d->quote, name, d->quote, NULL);
}

static const char *build_upsert(apr_pool_t *pool, const dialect_traits_t *d,
                                const char *insert, const char *const col[])
{
    const char *f_data = col[ORM_FIELD_DATA], *f_exp = col[ORM_FIELD_EXPIRES_AT],
               *f_user = col[ORM_FIELD_USER_NAME],
               *f_upd = col[ORM_FIELD_UPDATED_AT];

    if (d->upsert == UPSERT_ON_CONFLICT) {
        return apr_pstrcat(pool, insert, " ON CONFLICT (", col[ORM_FIELD_ID],
                           ") DO UPDATE SET ",
                           f_data, " = excluded.", f_data, ", ",
                           f_exp, " = excluded.", f_exp, ", ",
                           f_user, " = excluded.", f_user, ", ",
                           f_upd, " = excluded.", f_upd, NULL);
    }
    return apr_pstrcat(pool, insert, " ON DUPLICATE KEY UPDATE ",
                       f_data, " = VALUES(", f_data, "), ",
                       f_exp, " = VALUES(", f_exp, "), ",
                       f_user, " = VALUES(", f_user, "), ",
                       f_upd, " = VALUES(", f_upd, ")", NULL);
}

static apr_array_header_t *build_ddl(apr_pool_t *pool,
                                     const dialect_traits_t *d,
                                     const char *raw_table, const char *table,
                                     const char *const col[])
{
    apr_array_header_t *ddl = apr_array_make(pool, 3, sizeof(const char *));
    const char *exists = d->if_not_exists ? "IF NOT EXISTS " : "";
    const char *exp_index = quoted(pool, d, apr_pstrcat(pool, raw_table,
                                                        "_expires_at_idx", NULL));
    const char *user_index = quoted(pool, d, apr_pstrcat(pool, raw_table,
                                                         "_user_name_idx", NULL));
    const char *columns = apr_pstrcat(pool,
        col[ORM_FIELD_ID], " ", d->id_type, " NOT NULL PRIMARY KEY, ",
        col[ORM_FIELD_DATA], " ", d->data_type, " NOT NULL, ",
        col[ORM_FIELD_EXPIRES_AT], " ", d->bigint_type, " NOT NULL, ",
        col[ORM_FIELD_USER_NAME], " VARCHAR(255) NULL, ",
        col[ORM_FIELD_CREATED_AT], " ", d->bigint_type, " NOT NULL, ",
        col[ORM_FIELD_UPDATED_AT], " ", d->bigint_type, " NOT NULL", NULL);

    if (d->inline_indexes) {
        columns = apr_pstrcat(pool, columns,
                              ", INDEX ", exp_index, " (",
                              col[ORM_FIELD_EXPIRES_AT], ")",
                              ", INDEX ", user_index, " (",
                              col[ORM_FIELD_USER_NAME], ")", NULL);
    }
    APR_ARRAY_PUSH(ddl, const char *) =
        apr_pstrcat(pool, "CREATE TABLE ", exists, table, " (", columns, ")",
                    d->table_options, NULL);
    if (!d->inline_indexes) {
        APR_ARRAY_PUSH(ddl, const char *) =
            apr_pstrcat(pool, "CREATE INDEX ", exists, exp_index, " ON ",
                        table, " (", col[ORM_FIELD_EXPIRES_AT], ")", NULL);
        APR_ARRAY_PUSH(ddl, const char *) =
            apr_pstrcat(pool, "CREATE INDEX ", exists, user_index, " ON ",
                        table, " (", col[ORM_FIELD_USER_NAME], ")", NULL);
    }
    return ddl;
}

orm_sql_t *orm_sql_build(apr_pool_t *pool, const orm_schema_t *schema,
                         orm_dialect_e dialect, int portable_writes)
{
    const dialect_traits_t *d = &dialects[dialect];
    orm_sql_t *sql = apr_pcalloc(pool, sizeof(*sql));
    const char *raw_table = orm_schema_table(schema);
    const char *table = quoted(pool, d, raw_table);
    const char *col[ORM_FIELD_COUNT];
    const char *insert_columns, *octets;
    int i;

    for (i = 0; i < ORM_FIELD_COUNT; i++) {
        col[i] = quoted(pool, d, orm_schema_column(schema, i));
    }
    insert_columns = apr_pstrcat(pool, col[ORM_FIELD_ID], ", ",
                                 col[ORM_FIELD_DATA], ", ",
                                 col[ORM_FIELD_EXPIRES_AT], ", ",
                                 col[ORM_FIELD_USER_NAME], ", ",
                                 col[ORM_FIELD_CREATED_AT], ", ",
                                 col[ORM_FIELD_UPDATED_AT], NULL);

    octets = apr_pstrcat(pool, d->octets_open, col[ORM_FIELD_DATA],
                         d->octets_close, NULL);
    sql->dialect = dialect;
    sql->load = apr_pstrcat(pool, "SELECT ", col[ORM_FIELD_DATA], ", ",
                            col[ORM_FIELD_EXPIRES_AT], ", ",
                            col[ORM_FIELD_UPDATED_AT], ", ",
                            col[ORM_FIELD_USER_NAME], ", ", octets, " FROM ",
                            table,
                            " WHERE ", col[ORM_FIELD_ID], " = %s AND ",
                            col[ORM_FIELD_EXPIRES_AT], " > %lld", NULL);
    sql->insert = apr_pstrcat(pool, "INSERT INTO ", table, " (",
                              insert_columns, ") VALUES "
                              "(%s, %s, %lld, %s, %lld, %lld)", NULL);
    sql->update = apr_pstrcat(pool, "UPDATE ", table, " SET ",
                              col[ORM_FIELD_DATA], " = %s, ",
                              col[ORM_FIELD_EXPIRES_AT], " = %lld, ",
                              col[ORM_FIELD_USER_NAME], " = %s, ",
                              col[ORM_FIELD_UPDATED_AT], " = %lld WHERE ",
                              col[ORM_FIELD_ID], " = %s", NULL);
    if (d->upsert != UPSERT_NONE && !portable_writes) {
        sql->upsert = build_upsert(pool, d, sql->insert, col);
    }
    sql->remove = apr_pstrcat(pool, "DELETE FROM ", table, " WHERE ",
                              col[ORM_FIELD_ID], " = %s", NULL);
    sql->update_if = apr_pstrcat(pool, sql->update, " AND ",
                                 col[ORM_FIELD_UPDATED_AT], " = %lld", NULL);
    sql->lock = apr_pstrcat(pool, "SELECT ", col[ORM_FIELD_DATA], ", ",
                            col[ORM_FIELD_UPDATED_AT], ", ", octets, " FROM ",
                            table,
                            " WHERE ", col[ORM_FIELD_ID], " = %s AND ",
                            col[ORM_FIELD_EXPIRES_AT], " > %lld",
                            d->lock_clause, NULL);
    sql->probe = apr_pstrcat(pool, "SELECT ", col[ORM_FIELD_ID], " FROM ",
                             table, " WHERE 1 = 0", NULL);
    sql->ddl = build_ddl(pool, d, raw_table, table, col);
    sql->session_id = d->session_id;
    return sql;
}

const char *orm_sql_release(apr_pool_t *pool, orm_dialect_e dialect,
                            const char *label)
{
    /* only PostgreSQL names a prepared statement on the server; the other
     * drivers close theirs when the statement's pool goes */
    if (dialect != ORM_DIALECT_PGSQL || label == NULL) {
        return NULL;
    }
    return apr_pstrcat(pool, "DEALLOCATE ", quoted(pool, &dialects[dialect],
                                                    label), NULL);
}

orm_maintenance_sql_t *orm_maintenance_sql_build(apr_pool_t *pool,
                                                 const orm_schema_t *schema,
                                                 orm_dialect_e dialect,
                                                 int batch)
{
    const dialect_traits_t *d = &dialects[dialect];
    orm_maintenance_sql_t *sql = apr_pcalloc(pool, sizeof(*sql));
    const char *table = quoted(pool, d, orm_schema_table(schema));
    const char *id = quoted(pool, d, orm_schema_column(schema, ORM_FIELD_ID));
    const char *exp = quoted(pool, d, orm_schema_column(schema,
                                                       ORM_FIELD_EXPIRES_AT));
    const char *user = quoted(pool, d, orm_schema_column(schema,
                                                        ORM_FIELD_USER_NAME));
    const char *data = quoted(pool, d, orm_schema_column(schema,
                                                        ORM_FIELD_DATA));
    const char *created = quoted(pool, d, orm_schema_column(
                                              schema, ORM_FIELD_CREATED_AT));
    const char *updated = quoted(pool, d, orm_schema_column(
                                              schema, ORM_FIELD_UPDATED_AT));
    const char *expired = apr_pstrcat(pool, exp, " <= %lld", NULL);
    const char *not_marker;
    const char *limit = apr_psprintf(pool, " LIMIT %d", batch);

    switch (dialect) {
    case ORM_DIALECT_MYSQL:
        sql->sweep = apr_pstrcat(pool, "DELETE FROM ", table, " WHERE ",
                                 expired, limit, NULL);
        sql->table_size = "SELECT data_length + index_length FROM "
                          "information_schema.TABLES WHERE table_schema = "
                          "DATABASE() AND table_name = %s";
        sql->identity = "SELECT CONCAT(@@hostname, ':', @@port, '/', "
                        "DATABASE())";
        break;
    case ORM_DIALECT_SQLITE:
    case ORM_DIALECT_PGSQL:
        /* the subquery walks the expires_at index and stops at the limit */
        sql->sweep = apr_pstrcat(pool, "DELETE FROM ", table, " WHERE ", id,
                                 " IN (SELECT ", id, " FROM ", table,
                                 " WHERE ", expired, limit, ")", NULL);
        if (dialect == ORM_DIALECT_SQLITE) {
            sql->table_size = "SELECT SUM(pgsize) FROM dbstat WHERE name "
                              "IN (SELECT name FROM sqlite_master WHERE "
                              "tbl_name = %s)";
            sql->identity = "SELECT file FROM pragma_database_list "
                            "WHERE name = 'main'";
        }
        else {
            sql->table_size = "SELECT pg_total_relation_size(CAST("
                              "quote_ident(%s) AS regclass))";
            sql->identity = "SELECT COALESCE(CAST(inet_server_addr() AS "
                            "text), 'socket') || ':' || "
                            "COALESCE(CAST(inet_server_port() AS text), '') "
                            "|| '/' || current_database()";
            sql->try_lock = "SELECT CASE WHEN pg_try_advisory_lock(%lld) "
                            "THEN 1 ELSE 0 END";
            sql->unlock = "SELECT pg_advisory_unlock(%lld)";
        }
        break;
    default:
        /* no portable LIMIT: one statement removes every expired row */
        sql->sweep = apr_pstrcat(pool, "DELETE FROM ", table, " WHERE ",
                                 expired, NULL);
        break;
    }
    sql->count_expired = apr_pstrcat(pool, "SELECT COUNT(*) FROM ", table,
                                     " WHERE ", expired, NULL);
    /* the sweep's marker is no session: not counted, not revoked (the
     * farm keeps its turn) */
    not_marker = apr_pstrcat(pool, " WHERE ", id, " <> '",
                             ORM_SWEEP_MARKER_ID, "'", NULL);
    sql->totals = apr_pstrcat(pool, "SELECT COUNT(*), MIN(", exp, "), MAX(",
                              exp, ") FROM ", table, not_marker, NULL);
    sql->sweep_claim = apr_pstrcat(pool, "UPDATE ", table, " SET ", updated,
                                   " = %lld WHERE ", id, " = %s AND ",
                                   updated, " <= %lld", NULL);
    /* expires_at at the largest BIGINT: never swept, never loaded; an
     * INSERT ... SELECT so a marker already there is no error */
    sql->sweep_mark = apr_pstrcat(pool, "INSERT INTO ", table, " (", id, ", ",
                                  data, ", ", exp, ", ", created, ", ",
                                  updated, ") SELECT %s, 'sweep marker', "
                                  "9223372036854775807, %lld, %lld",
                                  /* MySQL wants a table for a WHERE */
                                  dialect == ORM_DIALECT_MYSQL
                                  ? " FROM DUAL" : "",
                                  " WHERE NOT EXISTS (SELECT ",
                                  id, " FROM ", table, " WHERE ", id,
                                  " = %s)", NULL);
    sql->revoke_user = apr_pstrcat(pool, "DELETE FROM ", table, " WHERE ",
                                   user, " = %s", NULL);
    sql->revoke_all = apr_pstrcat(pool, "DELETE FROM ", table, not_marker,
                                  NULL);
    return sql;
}

const char *const *orm_sql_statement_timeout(apr_pool_t *pool,
                                             orm_dialect_e dialect,
                                             apr_int64_t timeout_ms)
{
    const char **sql = apr_pcalloc(pool, 3 * sizeof(*sql));

    switch (dialect) {
    case ORM_DIALECT_PGSQL:
        sql[0] = apr_psprintf(pool, "SET statement_timeout = %"
                              APR_INT64_T_FMT, timeout_ms);
        break;
    case ORM_DIALECT_MYSQL:
        sql[0] = apr_psprintf(pool, "SET SESSION max_statement_time = %"
                              APR_INT64_T_FMT ".%03d", timeout_ms / 1000,
                              (int)(timeout_ms % 1000));
        sql[1] = apr_psprintf(pool, "SET SESSION max_execution_time = %"
                              APR_INT64_T_FMT, timeout_ms);
        break;
    default:
        break;
    }
    return sql;
}
