/**
 * SQL generation per dialect. This folder is the only place SQL text is
 * written; every identifier in it has passed orm_identifier_check and every
 * value is a placeholder of a prepared statement (%s text, %lld 64-bit
 * integer, as apr_dbd_prepare expects), but for the configured integers of
 * a connection's set-up and the sweep's LIMIT.
 *
 * Each dialect is one file, orm_sql_<name>.c, describing it in an
 * orm_sql_dialect_t (orm_sql_dialect.h); orm_sql.c builds every statement
 * from that description, and answers what its databases ask of the store
 * (orm_dialect_traits). Adding a dialect: its file (and its line in
 * Makefile.am), its value in orm_dialect_e, its entry in orm_sql.c's table.
 */
#ifndef ORM_SQL_H
#define ORM_SQL_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "orm_db.h"
#include "orm_purge.h"
#include "orm_schema.h"

typedef enum {
    ORM_DIALECT_SQLITE = 0,
    ORM_DIALECT_PGSQL,
    ORM_DIALECT_MYSQL,
    ORM_DIALECT_PORTABLE,   /* standard SQL, for any other database */
    ORM_DIALECT_COUNT
} orm_dialect_e;

/** The dialect a native apr_dbd driver ("sqlite3", "pgsql", "mysql")
 *  speaks; ORM_DIALECT_PORTABLE for a driver that reaches databases of any
 *  kind (odbc) or one no dialect names (oracle, freetds). */
orm_dialect_e orm_dialect_for_driver(const char *driver_name);

/** The dialect of a name ("sqlite3" or "sqlite", "pgsql", "mysql",
 *  "portable"; any case): 0 when no dialect has it. */
int orm_dialect_by_name(const char *name, orm_dialect_e *dialect);

/** The values SessionORMDialect (and the tool's --dialect) takes. */
#define ORM_DIALECT_CHOICES "auto, sqlite, pgsql, mysql, portable"

/** A SessionORMDialect value: "auto" (any case; *dialect -1) or a
 *  dialect's name (orm_dialect_by_name); 0 for anything else. */
int orm_dialect_choice(const char *name, int *dialect);

/** NULL when a SessionORMDialect value (NULL, "auto" or a dialect's name)
 *  can work with the apr_dbd driver DBDriver names (NULL when none), else
 *  why not, in pool. A native driver reaches one database, so the dialect
 *  of another cannot work with it; portable works with every driver, and
 *  any dialect with one that reaches several databases (odbc) or that no
 *  dialect names. */
const char *orm_dialect_conflict(apr_pool_t *pool, const char *choice,
                                 const char *driver_name);

/** The questions that tell the database behind a connection of a driver
 *  like odbc (orm_dialect_for_driver gives portable): each dialect's own,
 *  in the order to ask them, answered with its orm_dialect_e (see
 *  orm_db_identify, which falls back to portable). */
const orm_db_probe_t *orm_sql_dialect_probes(apr_pool_t *pool);

/** Short name of a dialect, for logs and the schema tool. */
const char *orm_dialect_name(orm_dialect_e dialect);

/** What a database of one dialect asks of whoever runs statements on it,
 *  beyond their text: the store acts on these, never on the dialect's
 *  identity. Each is 0 where the database needs nothing of the kind. */
typedef struct {
    /* One connection writes at a time, whatever its process, and writers
     * that meet wait by polling (SQLite's busy wait): writes queue on one
     * lock shared by every child instead, the writers' lock; so does the
     * set-up of a connection that cannot read the table yet (children
     * meeting an empty database would race to create it). */
    int single_writer;
    /* Prepared statements fail after any change of the schema (a trigger,
     * an index) until prepared again, and they are the driver's alone
     * (nothing kept on a server): a statement that fails on a table that
     * is there is prepared anew and tried once more, not taken for a data
     * error (apr_dbd_sqlite3 prepares with the legacy sqlite3_prepare). */
    int stale_after_schema_change;
} orm_dialect_traits_t;

/** The traits of dialect's databases. */
const orm_dialect_traits_t *orm_dialect_traits(orm_dialect_e dialect);

/** What a write statement's placeholders take, in their order; a list of
 *  them ends with ORM_ARG_END. The statements of the express format write
 *  fewer columns than the native one's, so the store binds each from its
 *  list. */
typedef enum {
    ORM_ARG_END = 0,
    ORM_ARG_ID,
    ORM_ARG_DATA,
    ORM_ARG_EXPIRES_AT,
    ORM_ARG_USER_NAME,
    ORM_ARG_CREATED_AT,
    ORM_ARG_UPDATED_AT,
    ORM_ARG_VERSION,            /* the updated_at the write expects */
    ORM_ARG_SOURCE,             /* the data the write expects (express: the
                                 * JSON loaded) */
    ORM_ARG_MAX = 8             /* the longest list, ORM_ARG_END not counted */
} orm_arg_e;

/** Statements for one table mapping on one dialect. Argument order is
 *  given per statement; all are prepared, none is built from request data. */
typedef struct {
    orm_dialect_e dialect;
    orm_format_e format;
    /* (id, now_ms) -> data, expires_at, updated_at, user_name, and the
     * data's size in bytes as stored (a driver may cut what it fetches);
     * in the express format updated_at is expires_at again and user_name
     * NULL */
    const char *load;
    /* load and lock without the size, for a driver that tells it itself
     * (ORM_TEXT_SIZE_TOLD), or hands back every value whole
     * (ORM_TEXT_SIZE_WHOLE): the server need not measure the data */
    const char *load_no_size;
    const char *lock_no_size;
    /* insert_args; NULL when the dialect has no single-statement upsert */
    const char *upsert;
    /* portable write, in one transaction: update first ... */
    const char *update;      /* update_args */
    /* ... and insert when it touched no row */
    const char *insert;      /* insert_args */
    const char *remove;      /* (id) */
    /* a write that expects the row as loaded (update_if_args): native, its
     * updated_at read back (the version); express, its JSON */
    const char *update_if;
    /* native (id, data, expires_at, user_name, created_at, updated_at);
     * express (id, data, expires_at) */
    const orm_arg_e *insert_args;
    /* native (data, expires_at, user_name, updated_at, id); express
     * (data, expires_at, id) */
    const orm_arg_e *update_args;
    /* update_args then ORM_ARG_VERSION (native) or ORM_ARG_SOURCE */
    const orm_arg_e *update_if_args;
    /* inside a transaction: the live row, locked until commit where the
     * dialect can (id, now_ms) -> data, updated_at (express: expires_at),
     * data's size in bytes */
    const char *lock;
    /* (id, now_ms): run before lock where the dialect has no row lock
     * clause that every database takes; an UPDATE that changes nothing
     * but holds the row (or the database) until commit. NULL elsewhere */
    const char *lock_touch;
    /* the size load and lock read back counts characters, not bytes
     * (LENGTH of the portable dialect, on databases that count so) */
    int size_in_chars;
    /* succeeds exactly when the table exists; returns no row */
    const char *probe;
    /* CREATE TABLE and its two indexes, one statement each */
    apr_array_header_t *ddl; /* of const char * */
    /* () -> one value: the server's id of the connection's session, which
     * changes when the driver reconnects the handle and never comes again,
     * not even after a restart of the server; NULL where the driver never
     * reconnects (SQLite) or the dialect has no such function */
    const char *session_id;
} orm_sql_t;

/** The statement that frees the server-side prepared statement label on a
 *  connection that stays open, or NULL when the dialect keeps none there.
 *  The label is one of ours, never request data. */
const char *orm_sql_release(apr_pool_t *pool, orm_dialect_e dialect,
                            const char *label);

/** Maintenance statements: the expiry sweep and the admin tool's queries.
 *  The batch size is a configured integer written into the text, since not
 *  every driver accepts a placeholder in LIMIT. */
typedef struct {
    /* (now_ms): deletes at most batch expired rows */
    const char *sweep;
    /* (now_ms) -> one row: count of expired rows */
    const char *count_expired;
    /* () -> one row: count, min(expires_at), max(expires_at) of all rows */
    const char *totals;
    /* (user_name): deletes every session of one owner; NULL in the
     * express format, which keeps no owner */
    const char *revoke_user;
    /* (): deletes every session (not the sweep's marker) */
    const char *revoke_all;
    /* (table name, unquoted) -> bytes of table and indexes; NULL when the
     * dialect can't tell (SQLite: only with the dbstat table built in) */
    const char *table_size;
    /* () -> one value naming the database, so two configurations that
     * reach the same database sweep it once; NULL when unknown */
    const char *identity;
    /* the farm's last sweep, kept in a marker row of the table (id
     * ORM_SWEEP_MARKER_ID, never expiring, never a session); both NULL in
     * the express format, whose table the Express app shares (there every
     * host sweeps: deleting expired rows twice does no harm):
     * (now_ms, marker id, now_ms - interval_ms) -> 1 row changed when this
     * host takes the sweep due now */
    const char *sweep_claim;
    /* (marker id, now_ms, now_ms, marker id) -> 1 row when the marker was
     * missing and this host created it (and sweeps) */
    const char *sweep_mark;
    /* (key) -> 1 when this connection got the lock; NULL: no such lock */
    const char *try_lock;
    const char *unlock;       /* (key) */
} orm_maintenance_sql_t;

/** Generates the maintenance statements for schema on dialect. */
orm_maintenance_sql_t *orm_maintenance_sql_build(apr_pool_t *pool,
                                                 const orm_schema_t *schema,
                                                 orm_dialect_e dialect,
                                                 int batch);

/** One statement of a connection's set-up. */
typedef struct {
    const char *sql;
    int answers_row;    /* run as a select: it answers with a row (SQLite's
                         * PRAGMA), else as a query */
} orm_sql_setting_t;

/** The statements that set up a new connection of dialect, in the order
 *  they run (an array of orm_sql_setting_t, empty where there are none):
 *  the dialect's settings (SQLite: busy wait, write-ahead log), then those
 *  that make the server end a statement of this connection running longer
 *  than timeout_ms (PostgreSQL, MariaDB/MySQL). Any of them may fail (each
 *  dialect's file says which and why): the connection works without it, so
 *  a failure is logged and the next one runs. */
const apr_array_header_t *orm_sql_connection_setup(apr_pool_t *pool,
                                                   orm_dialect_e dialect,
                                                   apr_int64_t timeout_ms);

/** Generates the statements for schema on dialect. */
orm_sql_t *orm_sql_build(apr_pool_t *pool, const orm_schema_t *schema,
                         orm_dialect_e dialect);

#endif
