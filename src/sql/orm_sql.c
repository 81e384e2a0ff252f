/* The statement builder: every statement that names the session table or
 * one of its columns is written here, from a dialect's description
 * (orm_sql_dialect.h, one file per dialect) and the schema's names, which
 * passed orm_identifier_check and so contain no quote. */
#include <string.h>
#include <apr_strings.h>

#include "orm_sql.h"
#include "orm_sql_dialect.h"

/* Every dialect, under its orm_dialect_e. */
static const orm_sql_dialect_t *const dialects[ORM_DIALECT_COUNT] = {
    [ORM_DIALECT_SQLITE] = &orm_sql_dialect_sqlite,
    [ORM_DIALECT_PGSQL] = &orm_sql_dialect_pgsql,
    [ORM_DIALECT_MYSQL] = &orm_sql_dialect_mysql,
    [ORM_DIALECT_PORTABLE] = &orm_sql_dialect_portable,
};

/* The schema's names as one dialect writes them in a statement. */
typedef struct {
    const char *table;
    const char *col[ORM_FIELD_COUNT];
} quoted_names_t;

orm_dialect_e orm_dialect_for_driver(const char *driver_name)
{
    const char *const *driver;
    int i;

    if (driver_name == NULL) {
        return ORM_DIALECT_PORTABLE;
    }
    for (i = 0; i < ORM_DIALECT_COUNT; i++) {
        for (driver = dialects[i]->drivers; *driver; driver++) {
            if (!strcmp(*driver, driver_name)) {
                return i;
            }
        }
    }
    return ORM_DIALECT_PORTABLE;
}

const char *orm_dialect_name(orm_dialect_e dialect)
{
    return dialects[dialect]->name;
}

const orm_dialect_traits_t *orm_dialect_traits(orm_dialect_e dialect)
{
    return &dialects[dialect]->traits;
}

int orm_dialect_by_name(const char *name, orm_dialect_e *dialect)
{
    int i;

    for (i = 0; i < ORM_DIALECT_COUNT; i++) {
        if (!strcasecmp(name, dialects[i]->name)) {
            *dialect = i;
            return 1;
        }
    }
    /* "sqlite3" is the driver's name; the database's will do */
    if (!strcasecmp(name, "sqlite")) {
        *dialect = ORM_DIALECT_SQLITE;
        return 1;
    }
    return 0;
}

int orm_dialect_choice(const char *name, int *dialect)
{
    orm_dialect_e named;

    if (!strcasecmp(name, "auto")) {
        *dialect = -1;
        return 1;
    }
    if (orm_dialect_by_name(name, &named)) {
        *dialect = named;
        return 1;
    }
    return 0;
}

const char *orm_dialect_conflict(apr_pool_t *pool, const char *choice,
                                 const char *driver_name)
{
    orm_dialect_e named, native;

    if (choice == NULL || driver_name == NULL
        || !orm_dialect_by_name(choice, &named)
        || named == ORM_DIALECT_PORTABLE) {
        return NULL;
    }
    native = orm_dialect_for_driver(driver_name);
    if (native == ORM_DIALECT_PORTABLE || native == named) {
        return NULL;
    }
    return apr_psprintf(pool, "'%s' cannot work with DBDriver %s, which "
                        "reaches %s databases only: name %s, portable or "
                        "auto (the default)", choice, driver_name,
                        orm_dialect_name(native), orm_dialect_name(native));
}

/* The dialects' own questions, in this order: PostgreSQL's answer names
 * it, so MySQL's, which takes any answer to the same version() (and so
 * would any other database that has that function), comes after it; and
 * SQLite's comes last: asked of a server first, its failure would be an
 * ERROR in that server's log for every new connection. */
static const orm_dialect_e probe_order[] = {
    ORM_DIALECT_PGSQL, ORM_DIALECT_MYSQL, ORM_DIALECT_SQLITE
};

const orm_db_probe_t *orm_sql_dialect_probes(apr_pool_t *pool)
{
    int count = sizeof(probe_order) / sizeof(probe_order[0]);
    orm_db_probe_t *probes = apr_pcalloc(pool, sizeof(*probes) * (count + 1));
    int i, n;

    for (n = 0, i = 0; i < count; i++) {
        const orm_sql_dialect_t *d = dialects[probe_order[i]];

        if (d->detect_sql) {
            probes[n].sql = d->detect_sql;
            probes[n].answer_has = d->detect_answer;
            probes[n].database = probe_order[i];
            n++;
        }
    }
    return probes;
}

/* Quoted identifier. Names were validated, so they contain no quote. */
static const char *quoted(apr_pool_t *pool, const orm_sql_dialect_t *d,
                          const char *name)
{
    return apr_pstrcat(pool, d->quote, name, d->quote, NULL);
}

static void quote_names(apr_pool_t *pool, const orm_sql_dialect_t *d,
                        const orm_schema_t *schema, quoted_names_t *names)
{
    int i;

    names->table = quoted(pool, d, orm_schema_table(schema));
    for (i = 0; i < ORM_FIELD_COUNT; i++) {
        names->col[i] = quoted(pool, d, orm_schema_column(schema, i));
    }
}

/* ---- the session statements (orm_sql_t) --------------------------------- */

static const char *build_upsert(apr_pool_t *pool, const orm_sql_dialect_t *d,
                                const char *insert, const char *const col[])
{
    const char *f_data = col[ORM_FIELD_DATA], *f_exp = col[ORM_FIELD_EXPIRES_AT],
               *f_user = col[ORM_FIELD_USER_NAME],
               *f_upd = col[ORM_FIELD_UPDATED_AT];

    if (d->upsert == ORM_UPSERT_ON_CONFLICT) {
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
                                     const orm_sql_dialect_t *d,
                                     const char *raw_table,
                                     const quoted_names_t *names)
{
    apr_array_header_t *ddl = apr_array_make(pool, 3, sizeof(const char *));
    const char *const *col = names->col;
    const char *table = names->table;
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

/* load, lock and probe */
static void build_reads(apr_pool_t *pool, const orm_sql_dialect_t *d,
                        const quoted_names_t *names, orm_sql_t *sql)
{
    const char *const *col = names->col;
    const char *octets = apr_pstrcat(pool, d->octets_open, col[ORM_FIELD_DATA],
                                     d->octets_close, NULL);
    const char *live = apr_pstrcat(pool, " FROM ", names->table, " WHERE ",
                                   col[ORM_FIELD_ID], " = %s AND ",
                                   col[ORM_FIELD_EXPIRES_AT], " > %lld",
                                   NULL);

    sql->load = apr_pstrcat(pool, "SELECT ", col[ORM_FIELD_DATA], ", ",
                            col[ORM_FIELD_EXPIRES_AT], ", ",
                            col[ORM_FIELD_UPDATED_AT], ", ",
                            col[ORM_FIELD_USER_NAME], ", ", octets, live,
                            NULL);
    sql->lock = apr_pstrcat(pool, "SELECT ", col[ORM_FIELD_DATA], ", ",
                            col[ORM_FIELD_UPDATED_AT], ", ", octets, live,
                            d->lock_clause, NULL);
    if (d->lock_by_update) {
        /* updated_at = updated_at: the row as it was, held until commit */
        sql->lock_touch = apr_pstrcat(pool, "UPDATE ", names->table, " SET ",
                                      col[ORM_FIELD_UPDATED_AT], " = ",
                                      col[ORM_FIELD_UPDATED_AT], " WHERE ",
                                      col[ORM_FIELD_ID], " = %s AND ",
                                      col[ORM_FIELD_EXPIRES_AT], " > %lld",
                                      NULL);
    }
    sql->size_in_chars = d->octets_in_chars;
    sql->probe = apr_pstrcat(pool, "SELECT ", col[ORM_FIELD_ID], " FROM ",
                             names->table, " WHERE 1 = 0", NULL);
}

/* insert, update, update_if, upsert and remove */
static void build_writes(apr_pool_t *pool, const orm_sql_dialect_t *d,
                         const quoted_names_t *names, orm_sql_t *sql)
{
    const char *const *col = names->col;
    const char *table = names->table;

    sql->insert = apr_pstrcat(pool, "INSERT INTO ", table, " (",
                              col[ORM_FIELD_ID], ", ",
                              col[ORM_FIELD_DATA], ", ",
                              col[ORM_FIELD_EXPIRES_AT], ", ",
                              col[ORM_FIELD_USER_NAME], ", ",
                              col[ORM_FIELD_CREATED_AT], ", ",
                              col[ORM_FIELD_UPDATED_AT], ") VALUES "
                              "(%s, %s, %lld, %s, %lld, %lld)", NULL);
    sql->update = apr_pstrcat(pool, "UPDATE ", table, " SET ",
                              col[ORM_FIELD_DATA], " = %s, ",
                              col[ORM_FIELD_EXPIRES_AT], " = %lld, ",
                              col[ORM_FIELD_USER_NAME], " = %s, ",
                              col[ORM_FIELD_UPDATED_AT], " = %lld WHERE ",
                              col[ORM_FIELD_ID], " = %s", NULL);
    sql->update_if = apr_pstrcat(pool, sql->update, " AND ",
                                 col[ORM_FIELD_UPDATED_AT], " = %lld", NULL);
    if (d->upsert != ORM_UPSERT_NONE) {
        sql->upsert = build_upsert(pool, d, sql->insert, col);
    }
    sql->remove = apr_pstrcat(pool, "DELETE FROM ", table, " WHERE ",
                              col[ORM_FIELD_ID], " = %s", NULL);
}

orm_sql_t *orm_sql_build(apr_pool_t *pool, const orm_schema_t *schema,
                         orm_dialect_e dialect)
{
    const orm_sql_dialect_t *d = dialects[dialect];
    orm_sql_t *sql = apr_pcalloc(pool, sizeof(*sql));
    quoted_names_t names;

    quote_names(pool, d, schema, &names);
    sql->dialect = dialect;
    build_reads(pool, d, &names, sql);
    build_writes(pool, d, &names, sql);
    sql->ddl = build_ddl(pool, d, orm_schema_table(schema), &names);
    sql->session_id = d->session_id;
    return sql;
}

/* ---- the connection ------------------------------------------------------ */

const char *orm_sql_release(apr_pool_t *pool, orm_dialect_e dialect,
                            const char *label)
{
    const orm_sql_dialect_t *d = dialects[dialect];

    if (d->release == NULL || label == NULL) {
        return NULL;
    }
    return apr_pstrcat(pool, d->release, quoted(pool, d, label), NULL);
}

const apr_array_header_t *orm_sql_connection_setup(apr_pool_t *pool,
                                                   orm_dialect_e dialect,
                                                   apr_int64_t timeout_ms)
{
    const orm_sql_dialect_t *d = dialects[dialect];
    apr_array_header_t *setup = apr_array_make(pool, 3,
                                               sizeof(orm_sql_setting_t));
    const orm_sql_setting_t *setting;

    for (setting = d->settings; setting && setting->sql; setting++) {
        APR_ARRAY_PUSH(setup, orm_sql_setting_t) = *setting;
    }
    if (d->statement_timeout) {
        d->statement_timeout(pool, setup, timeout_ms);
    }
    return setup;
}

/* ---- maintenance (orm_maintenance_sql_t) --------------------------------- */

/* Deletes at most batch expired rows, where the dialect can limit it. */
static const char *build_sweep(apr_pool_t *pool, const orm_sql_dialect_t *d,
                               const quoted_names_t *names,
                               const char *expired, int batch)
{
    const char *table = names->table, *id = names->col[ORM_FIELD_ID];
    const char *limit = apr_psprintf(pool, " LIMIT %d", batch);

    switch (d->sweep) {
    case ORM_SWEEP_LIMIT_DELETE:
        return apr_pstrcat(pool, "DELETE FROM ", table, " WHERE ", expired,
                           limit, NULL);
    case ORM_SWEEP_LIMIT_SUBQUERY:
        return apr_pstrcat(pool, "DELETE FROM ", table, " WHERE ", id,
                           " IN (SELECT ", id, " FROM ", table, " WHERE ",
                           expired, limit, ")", NULL);
    default:
        return apr_pstrcat(pool, "DELETE FROM ", table, " WHERE ", expired,
                           NULL);
    }
}

/* The farm's turn to sweep, kept in the marker row: sweep_claim and
 * sweep_mark. */
static void build_sweep_turn(apr_pool_t *pool, const orm_sql_dialect_t *d,
                             const quoted_names_t *names,
                             orm_maintenance_sql_t *sql)
{
    const char *table = names->table, *id = names->col[ORM_FIELD_ID];
    const char *updated = names->col[ORM_FIELD_UPDATED_AT];

    sql->sweep_claim = apr_pstrcat(pool, "UPDATE ", table, " SET ", updated,
                                   " = %lld WHERE ", id, " = %s AND ",
                                   updated, " <= %lld", NULL);
    /* expires_at at the largest BIGINT: never swept, never loaded; an
     * INSERT ... SELECT so a marker already there is no error */
    sql->sweep_mark = apr_pstrcat(pool, "INSERT INTO ", table, " (", id, ", ",
                                  names->col[ORM_FIELD_DATA], ", ",
                                  names->col[ORM_FIELD_EXPIRES_AT], ", ",
                                  names->col[ORM_FIELD_CREATED_AT], ", ",
                                  updated, ") SELECT %s, 'sweep marker', "
                                  "9223372036854775807, %lld, %lld",
                                  d->select_from_nothing,
                                  " WHERE NOT EXISTS (SELECT ",
                                  id, " FROM ", table, " WHERE ", id,
                                  " = %s)", NULL);
}

orm_maintenance_sql_t *orm_maintenance_sql_build(apr_pool_t *pool,
                                                 const orm_schema_t *schema,
                                                 orm_dialect_e dialect,
                                                 int batch)
{
    const orm_sql_dialect_t *d = dialects[dialect];
    orm_maintenance_sql_t *sql = apr_pcalloc(pool, sizeof(*sql));
    const char *table, *exp, *expired, *not_marker;
    quoted_names_t names;

    quote_names(pool, d, schema, &names);
    table = names.table;
    exp = names.col[ORM_FIELD_EXPIRES_AT];
    expired = apr_pstrcat(pool, exp, " <= %lld", NULL);
    sql->sweep = build_sweep(pool, d, &names, expired, batch);
    sql->count_expired = apr_pstrcat(pool, "SELECT COUNT(*) FROM ", table,
                                     " WHERE ", expired, NULL);
    /* the sweep's marker is no session: not counted, not revoked (the
     * farm keeps its turn) */
    not_marker = apr_pstrcat(pool, " WHERE ", names.col[ORM_FIELD_ID], " <> '",
                             ORM_SWEEP_MARKER_ID, "'", NULL);
    sql->totals = apr_pstrcat(pool, "SELECT COUNT(*), MIN(", exp, "), MAX(",
                              exp, ") FROM ", table, not_marker, NULL);
    build_sweep_turn(pool, d, &names, sql);
    sql->revoke_user = apr_pstrcat(pool, "DELETE FROM ", table, " WHERE ",
                                   names.col[ORM_FIELD_USER_NAME], " = %s",
                                   NULL);
    sql->revoke_all = apr_pstrcat(pool, "DELETE FROM ", table, not_marker,
                                  NULL);
    sql->table_size = d->table_size;
    sql->identity = d->identity;
    sql->try_lock = d->try_lock;
    sql->unlock = d->unlock;
    return sql;
}
