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

/* Absent columns (fields the format does not keep) stay NULL. */
static void quote_names(apr_pool_t *pool, const orm_sql_dialect_t *d,
                        const orm_schema_t *schema, quoted_names_t *names)
{
    int i;

    names->table = quoted(pool, d, orm_schema_table(schema));
    for (i = 0; i < ORM_FIELD_COUNT; i++) {
        const char *column = orm_schema_column(schema, i);

        names->col[i] = column ? quoted(pool, d, column) : NULL;
    }
}

/* ---- the session statements (orm_sql_t) --------------------------------- */

/* The placeholder a field's value takes. */
static const char *placeholder(orm_field_e field)
{
    return field == ORM_FIELD_ID || field == ORM_FIELD_DATA
           || field == ORM_FIELD_USER_NAME ? "%s" : "%lld";
}

/* list with item appended, ", " between items; list NULL: none yet. */
static const char *listed(apr_pool_t *pool, const char *list,
                          const char *item)
{
    return list ? apr_pstrcat(pool, list, ", ", item, NULL) : item;
}

/* The fields a write sets, in the order of orm_field_e: every column the
 * format keeps; an update leaves id and created_at alone. */
static int written(const quoted_names_t *names, orm_field_e field, int update)
{
    return names->col[field] != NULL
           && !(update && (field == ORM_FIELD_ID
                           || field == ORM_FIELD_CREATED_AT));
}

/* "INSERT INTO t (id, data, ...) VALUES (%s, %s, ...)", with its
 * arguments into args. */
static const char *build_insert(apr_pool_t *pool, const quoted_names_t *names,
                                orm_arg_e *args)
{
    const char *columns = NULL, *values = NULL;
    int i, n = 0;

    for (i = 0; i < ORM_FIELD_COUNT; i++) {
        if (!written(names, i, 0)) {
            continue;
        }
        columns = listed(pool, columns, names->col[i]);
        values = listed(pool, values, placeholder(i));
        args[n++] = ORM_ARG_ID + i;
    }
    args[n] = ORM_ARG_END;
    return apr_pstrcat(pool, "INSERT INTO ", names->table, " (", columns,
                       ") VALUES (", values, ")", NULL);
}

/* "UPDATE t SET data = %s, ... WHERE id = %s", with its arguments into
 * args. */
static const char *build_update(apr_pool_t *pool, const quoted_names_t *names,
                                orm_arg_e *args)
{
    const char *set = NULL;
    int i, n = 0;

    for (i = 0; i < ORM_FIELD_COUNT; i++) {
        if (!written(names, i, 1)) {
            continue;
        }
        set = listed(pool, set, apr_pstrcat(pool, names->col[i], " = ",
                                            placeholder(i), NULL));
        args[n++] = ORM_ARG_ID + i;
    }
    args[n++] = ORM_ARG_ID;
    args[n] = ORM_ARG_END;
    return apr_pstrcat(pool, "UPDATE ", names->table, " SET ", set,
                       " WHERE ", names->col[ORM_FIELD_ID], " = %s", NULL);
}

/* The insert made an upsert: on a row already there, what an update sets. */
static const char *build_upsert(apr_pool_t *pool, const orm_sql_dialect_t *d,
                                const char *insert,
                                const quoted_names_t *names)
{
    const char *set = NULL;
    int on_conflict = d->upsert == ORM_UPSERT_ON_CONFLICT;
    int i;

    for (i = 0; i < ORM_FIELD_COUNT; i++) {
        const char *col = names->col[i];

        if (!written(names, i, 1)) {
            continue;
        }
        set = listed(pool, set, apr_pstrcat(pool, col, on_conflict
                                            ? " = excluded." : " = VALUES(",
                                            col, on_conflict ? "" : ")",
                                            NULL));
    }
    if (on_conflict) {
        return apr_pstrcat(pool, insert, " ON CONFLICT (",
                           names->col[ORM_FIELD_ID], ") DO UPDATE SET ", set,
                           NULL);
    }
    return apr_pstrcat(pool, insert, " ON DUPLICATE KEY UPDATE ", set, NULL);
}

/* An index on one column, named as the format names it: ours
 * "<table>_<field>_idx", MikroORM's "<table>_<column>_index". */
static const char *index_name(apr_pool_t *pool, const orm_sql_dialect_t *d,
                              const orm_schema_t *schema, orm_field_e field)
{
    const char *table = orm_schema_table(schema);

    if (orm_schema_format(schema) == ORM_FORMAT_EXPRESS) {
        return quoted(pool, d, apr_pstrcat(pool, table, "_",
                                           orm_schema_column(schema, field),
                                           "_index", NULL));
    }
    return quoted(pool, d, apr_pstrcat(pool, table, "_",
                                       orm_field_default_name(field), "_idx",
                                       NULL));
}

/* A column's declaration in CREATE TABLE. */
static const char *column_ddl(apr_pool_t *pool, const orm_sql_dialect_t *d,
                              const orm_schema_t *schema,
                              const quoted_names_t *names, orm_field_e field)
{
    const char *col = names->col[field];

    switch (field) {
    case ORM_FIELD_ID:
        /* express-session's sids are no digests: MikroORM's varchar(255) */
        return apr_pstrcat(pool, col, " ",
                           orm_schema_format(schema) == ORM_FORMAT_EXPRESS
                           ? "VARCHAR(255)" : d->id_type,
                           " NOT NULL PRIMARY KEY", NULL);
    case ORM_FIELD_DATA:
        return apr_pstrcat(pool, col, " ", d->data_type, " NOT NULL", NULL);
    case ORM_FIELD_USER_NAME:
        return apr_pstrcat(pool, col, " VARCHAR(255) NULL", NULL);
    default:
        return apr_pstrcat(pool, col, " ", d->bigint_type, " NOT NULL",
                           NULL);
    }
}

/* CREATE TABLE with every column the format keeps, and an index on
 * expires_at and on user_name where the format keeps it. Where the
 * dialect can, the user_name index holds only the rows that have an
 * owner: a session nobody logged into (most new ones) then costs no entry
 * in it, and the owner's lookups (WHERE user_name = ?) still use it. */
static apr_array_header_t *build_ddl(apr_pool_t *pool,
                                     const orm_sql_dialect_t *d,
                                     const orm_schema_t *schema,
                                     const quoted_names_t *names)
{
    static const orm_field_e indexed[] = {
        ORM_FIELD_EXPIRES_AT, ORM_FIELD_USER_NAME
    };
    apr_array_header_t *ddl = apr_array_make(pool, 3, sizeof(const char *));
    const char *exists = d->if_not_exists ? "IF NOT EXISTS " : "";
    const char *columns = NULL;
    int i;

    for (i = 0; i < ORM_FIELD_COUNT; i++) {
        if (names->col[i]) {
            columns = listed(pool, columns,
                             column_ddl(pool, d, schema, names, i));
        }
    }
    for (i = 0; d->inline_indexes && i < 2; i++) {
        if (names->col[indexed[i]]) {
            columns = apr_pstrcat(pool, columns, ", INDEX ",
                                  index_name(pool, d, schema, indexed[i]),
                                  " (", names->col[indexed[i]], ")", NULL);
        }
    }
    APR_ARRAY_PUSH(ddl, const char *) =
        apr_pstrcat(pool, "CREATE TABLE ", exists, names->table, " (",
                    columns, ")", d->table_options, NULL);
    for (i = 0; !d->inline_indexes && i < 2; i++) {
        if (names->col[indexed[i]]) {
            int owners_only = d->partial_indexes
                              && indexed[i] == ORM_FIELD_USER_NAME;

            APR_ARRAY_PUSH(ddl, const char *) =
                apr_pstrcat(pool, "CREATE INDEX ", exists,
                            index_name(pool, d, schema, indexed[i]), " ON ",
                            names->table, " (", names->col[indexed[i]], ")",
                            owners_only ? " WHERE " : "",
                            owners_only ? names->col[indexed[i]] : "",
                            owners_only ? " IS NOT NULL" : "", NULL);
        }
    }
    return ddl;
}

/* load, lock and probe. A format without updated_at versions its rows by
 * expires_at; one without user_name reads no owner. */
static void build_reads(apr_pool_t *pool, const orm_sql_dialect_t *d,
                        const quoted_names_t *names, orm_sql_t *sql)
{
    const char *const *col = names->col;
    const char *version = col[ORM_FIELD_UPDATED_AT]
                          ? col[ORM_FIELD_UPDATED_AT]
                          : col[ORM_FIELD_EXPIRES_AT];
    const char *owner = col[ORM_FIELD_USER_NAME] ? col[ORM_FIELD_USER_NAME]
                                                 : "NULL";
    const char *octets = apr_pstrcat(pool, d->octets_open, col[ORM_FIELD_DATA],
                                     d->octets_close, NULL);
    const char *live = apr_pstrcat(pool, " FROM ", names->table, " WHERE ",
                                   col[ORM_FIELD_ID], " = %s AND ",
                                   col[ORM_FIELD_EXPIRES_AT], " > %lld",
                                   NULL);
    const char *load_columns = apr_pstrcat(pool, "SELECT ",
                                           col[ORM_FIELD_DATA], ", ",
                                           col[ORM_FIELD_EXPIRES_AT], ", ",
                                           version, ", ", owner, NULL);
    const char *lock_columns = apr_pstrcat(pool, "SELECT ",
                                           col[ORM_FIELD_DATA], ", ",
                                           version, NULL);

    sql->load = apr_pstrcat(pool, load_columns, ", ", octets, live, NULL);
    sql->load_no_size = apr_pstrcat(pool, load_columns, live, NULL);
    sql->lock = apr_pstrcat(pool, lock_columns, ", ", octets, live,
                            d->lock_clause, NULL);
    sql->lock_no_size = apr_pstrcat(pool, lock_columns, live, d->lock_clause,
                                    NULL);
    if (d->lock_by_update) {
        /* version = version: the row as it was, held until commit */
        sql->lock_touch = apr_pstrcat(pool, "UPDATE ", names->table, " SET ",
                                      version, " = ", version, " WHERE ",
                                      col[ORM_FIELD_ID], " = %s AND ",
                                      col[ORM_FIELD_EXPIRES_AT], " > %lld",
                                      NULL);
    }
    sql->size_in_chars = d->octets_in_chars;
    sql->probe = apr_pstrcat(pool, "SELECT ", col[ORM_FIELD_ID], " FROM ",
                             names->table, " WHERE 1 = 0", NULL);
}

/* Room for the longest list of a statement's arguments and its end. */
static orm_arg_e *arg_list(apr_pool_t *pool)
{
    return apr_pcalloc(pool, (ORM_ARG_MAX + 1) * sizeof(orm_arg_e));
}

/* insert, update, update_if, upsert and remove, with their arguments */
static void build_writes(apr_pool_t *pool, const orm_sql_dialect_t *d,
                         const quoted_names_t *names, orm_sql_t *sql)
{
    orm_arg_e *insert_args = arg_list(pool);
    orm_arg_e *update_args = arg_list(pool);
    orm_arg_e *update_if_args = arg_list(pool);
    int n;

    sql->insert = build_insert(pool, names, insert_args);
    sql->update = build_update(pool, names, update_args);
    for (n = 0; update_args[n] != ORM_ARG_END; n++) {
        update_if_args[n] = update_args[n];
    }
    if (names->col[ORM_FIELD_UPDATED_AT]) {
        sql->update_if = apr_pstrcat(pool, sql->update, " AND ",
                                     names->col[ORM_FIELD_UPDATED_AT],
                                     " = %lld", NULL);
        update_if_args[n] = ORM_ARG_VERSION;
    }
    else {
        /* no version: the write expects the data it loaded, byte for byte */
        sql->update_if = apr_pstrcat(pool, sql->update, " AND ",
                                     d->exact_compare ? d->exact_compare : "",
                                     names->col[ORM_FIELD_DATA], " = %s",
                                     NULL);
        update_if_args[n] = ORM_ARG_SOURCE;
    }
    if (d->upsert != ORM_UPSERT_NONE) {
        sql->upsert = build_upsert(pool, d, sql->insert, names);
    }
    sql->remove = apr_pstrcat(pool, "DELETE FROM ", names->table, " WHERE ",
                              names->col[ORM_FIELD_ID], " = %s", NULL);
    sql->insert_args = insert_args;
    sql->update_args = update_args;
    sql->update_if_args = update_if_args;
}

orm_sql_t *orm_sql_build(apr_pool_t *pool, const orm_schema_t *schema,
                         orm_dialect_e dialect)
{
    const orm_sql_dialect_t *d = dialects[dialect];
    orm_sql_t *sql = apr_pcalloc(pool, sizeof(*sql));
    quoted_names_t names;

    quote_names(pool, d, schema, &names);
    sql->dialect = dialect;
    sql->format = orm_schema_format(schema);
    build_reads(pool, d, &names, sql);
    build_writes(pool, d, &names, sql);
    sql->ddl = build_ddl(pool, d, schema, &names);
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
    if (names.col[ORM_FIELD_UPDATED_AT] && names.col[ORM_FIELD_CREATED_AT]) {
        build_sweep_turn(pool, d, &names, sql);
    }
    if (names.col[ORM_FIELD_USER_NAME]) {
        sql->revoke_user = apr_pstrcat(pool, "DELETE FROM ", table, " WHERE ",
                                       names.col[ORM_FIELD_USER_NAME],
                                       " = %s", NULL);
    }
    sql->revoke_all = apr_pstrcat(pool, "DELETE FROM ", table, not_marker,
                                  NULL);
    sql->table_size = d->table_size;
    sql->identity = d->identity;
    sql->try_lock = d->try_lock;
    sql->unlock = d->unlock;
    return sql;
}
