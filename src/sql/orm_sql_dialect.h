/**
 * What sets one SQL dialect apart, as data. Each dialect is one file
 * (orm_sql_<name>.c) that defines one orm_sql_dialect_t, listed under its
 * orm_dialect_e in the table of orm_sql.c. The builders in orm_sql.c write
 * every statement that names the table or a column from these fields, so a
 * dialect never holds such a statement; the fixed statements it does hold
 * name no table of ours and take their values as placeholders. Only the
 * files of src/sql include this header.
 */
#ifndef ORM_SQL_DIALECT_H
#define ORM_SQL_DIALECT_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "orm_sql.h"

/** How a write that may find its row already there is written. */
typedef enum {
    ORM_UPSERT_NONE,            /* update, then insert if nothing was updated */
    ORM_UPSERT_ON_CONFLICT,     /* SQLite >= 3.24, PostgreSQL >= 9.5 */
    ORM_UPSERT_ON_DUPLICATE_KEY /* MySQL, MariaDB */
} orm_upsert_form_e;

/** How the sweep deletes at most one batch of expired rows. */
typedef enum {
    ORM_SWEEP_UNBOUNDED,        /* no portable LIMIT: one statement removes
                                 * every expired row */
    ORM_SWEEP_LIMIT_SUBQUERY,   /* DELETE ... WHERE id IN (SELECT ... LIMIT):
                                 * walks the expires_at index, stops at the
                                 * limit */
    ORM_SWEEP_LIMIT_DELETE      /* DELETE ... LIMIT */
} orm_sweep_form_e;

/** Appends to setup (of orm_sql_setting_t) the statements that make the
 *  server end a statement of this connection running longer than
 *  timeout_ms. */
typedef void orm_sql_timeout_fn(apr_pool_t *pool, apr_array_header_t *setup,
                                apr_int64_t timeout_ms);

typedef struct {
    const char *name;           /* in logs and the schema tool */
    const char *const *drivers; /* the apr_dbd drivers it serves, NULL-ended;
                                 * a driver no dialect names gets the
                                 * portable one */

    /* identifiers and column types */
    const char *quote;          /* identifier quote, opening = closing */
    const char *id_type;
    const char *data_type;
    const char *bigint_type;

    /* the table's DDL */
    int if_not_exists;          /* CREATE ... IF NOT EXISTS understood */
    int inline_indexes;         /* indexes declared inside CREATE TABLE */
    int partial_indexes;        /* CREATE INDEX ... WHERE: the owner's
                                 * index leaves out the rows of nobody */
    const char *table_options;  /* appended after CREATE TABLE (...) */

    /* reads and writes */
    orm_upsert_form_e upsert;
    const char *lock_clause;    /* row lock for a SELECT in a transaction */
    int lock_by_update;         /* no such clause every database takes: an
                                 * UPDATE that changes nothing locks first */
    const char *octets_open;    /* around a text column: its size in */
    const char *octets_close;   /* bytes, whatever the character set */
    int octets_in_chars;        /* ... or in characters where the database
                                 * counts so (portable LENGTH) */
    const char *exact_compare;  /* before a text column compared with '=':
                                 * what makes the comparison byte for byte
                                 * where the collation would not (MySQL's
                                 * "BINARY "); NULL where it is already */

    /* telling the database behind a connection (orm_sql_dialect_probes):
     * a select whose one value contains detect_answer ("" for any) only on
     * this dialect's databases, or NULL */
    const char *detect_sql;
    const char *detect_answer;

    /* the connection */
    const char *session_id;     /* orm_sql_t's session_id */
    const char *release;        /* frees a prepared statement the server
                                 * keeps by name: the words before the
                                 * quoted name; NULL where the driver frees
                                 * its own when the statement's pool goes */
    const orm_sql_setting_t *settings;  /* set-up run first on a new
                                         * connection, ended by a NULL sql;
                                         * NULL for none */
    orm_sql_timeout_fn *statement_timeout;  /* NULL where the server can't
                                             * end a long statement */

    /* what its databases ask of the store (orm_dialect_traits) */
    orm_dialect_traits_t traits;

    /* maintenance (orm_maintenance_sql_t) */
    orm_sweep_form_e sweep;
    const char *select_from_nothing;    /* what a SELECT of values needs
                                         * before a WHERE */
    const char *table_size;
    const char *identity;
    const char *try_lock;
    const char *unlock;
} orm_sql_dialect_t;

extern const orm_sql_dialect_t orm_sql_dialect_sqlite;
extern const orm_sql_dialect_t orm_sql_dialect_pgsql;
extern const orm_sql_dialect_t orm_sql_dialect_mysql;
extern const orm_sql_dialect_t orm_sql_dialect_portable;

#endif
