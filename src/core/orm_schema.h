/**
 * The session entity's mapping onto one table: table name and the column
 * name of each field, checked as SQL identifiers at configuration time.
 *
 * This unit holds the one list of the session's fields (their names as
 * SessionORMColumn takes them, which are also their default columns) and
 * the one check of a table or column name: SessionORMTable and
 * SessionORMColumn, the tool's --table and --column and the tool's reader
 * of httpd's configuration all set names through orm_schema_set_table and
 * orm_schema_set_column, so no name reaches a schema from the configuration
 * or the command line without being a plain SQL identifier within its
 * length limit, and each is refused in the same words.
 */
#ifndef ORM_SCHEMA_H
#define ORM_SCHEMA_H

#include <apr.h>
#include <apr_pools.h>

typedef enum {
    ORM_FIELD_ID = 0,       /* hex SHA-256 of the token: primary key */
    ORM_FIELD_DATA,         /* mod_session's encoded form */
    ORM_FIELD_EXPIRES_AT,   /* epoch milliseconds, indexed */
    ORM_FIELD_USER_NAME,    /* owner, nullable, indexed */
    ORM_FIELD_CREATED_AT,   /* epoch milliseconds */
    ORM_FIELD_UPDATED_AT,   /* epoch milliseconds */
    ORM_FIELD_COUNT
} orm_field_e;

/* The table name leaves room for the "_expires_at_idx" suffix of index
 * names within the 63-character identifier limit of PostgreSQL. */
#define ORM_TABLE_NAME_MAX  48
#define ORM_COLUMN_NAME_MAX 63

#define ORM_DEFAULT_TABLE "session"

/** What the rows hold and how their ids are made (SessionORMFormat). */
typedef enum {
    ORM_FORMAT_UNSET = 0,   /* a zeroed schema: native */
    ORM_FORMAT_NATIVE,      /* all six fields; ids are digests of tokens */
    ORM_FORMAT_EXPRESS      /* connect-mikro-orm's entity: id (the
                             * express-session sid, in clear), data (its
                             * JSON) and expires_at only, by default in
                             * columns id, json and expired_at */
} orm_format_e;

typedef struct {
    const char *table;                     /* NULL: unset */
    const char *columns[ORM_FIELD_COUNT];  /* NULL: unset */
    orm_format_e format;                   /* ORM_FORMAT_UNSET: unset */
} orm_schema_t;

/** NULL when name is a plain SQL identifier of at most max_len characters
 *  ([A-Za-z_][A-Za-z0-9_]*), else a static text saying what is wrong. */
const char *orm_identifier_check(const char *name, apr_size_t max_len);

/** The field's default column name ("expires_at"), NULL if out of range. */
const char *orm_field_default_name(orm_field_e field);

/** Field for a name as written in SessionORMColumn, or -1. Case-insensitive. */
int orm_field_lookup(const char *name);

/** Sets the table's name when name is a plain SQL identifier of at most
 *  ORM_TABLE_NAME_MAX characters. Else schema is left as it is and the
 *  result says why, from pool: "'x-y' is not a usable table name: it may
 *  contain only ... (letters, digits and '_', at most 48 characters, not
 *  starting with a digit)"; the caller puts in front whose name it is. */
const char *orm_schema_set_table(apr_pool_t *pool, orm_schema_t *schema,
                                 const char *name);

/** Maps a field, named as in SessionORMColumn (any case), onto the column
 *  column when that is a plain SQL identifier of at most
 *  ORM_COLUMN_NAME_MAX characters. Else schema is left as it is and the
 *  result says why, from pool: "unknown field 'x' (fields: id, data, ...)",
 *  or "'x-y' is not a usable column name for data: it ...". */
const char *orm_schema_set_column(apr_pool_t *pool, orm_schema_t *schema,
                                  const char *field, const char *column);

/** The format of a SessionORMFormat value ("native", "express"; any
 *  case); 0 when there is none of that name. */
int orm_format_by_name(const char *name, orm_format_e *format);

/** The format's name, for logs. */
const char *orm_format_name(orm_format_e format);

/** The format in effect (native when unset). */
orm_format_e orm_schema_format(const orm_schema_t *schema);

/** Whether the format in effect keeps a field: the express format has no
 *  user_name, created_at and updated_at. */
int orm_schema_has_field(const orm_schema_t *schema, orm_field_e field);

/** Table name in effect (the default when unset). */
const char *orm_schema_table(const orm_schema_t *schema);

/** Column name in effect for a field (the format's default when unset);
 *  NULL for a field the format does not keep. */
const char *orm_schema_column(const orm_schema_t *schema, orm_field_e field);

/** Child's table and each column if set, else the parent's. */
void orm_schema_merge(orm_schema_t *merged, const orm_schema_t *parent,
                      const orm_schema_t *child);

/** NULL when no two fields map onto the same column and no field the
 *  format does not keep is mapped, else an error text allocated from
 *  pool. */
const char *orm_schema_check_distinct(apr_pool_t *pool,
                                      const orm_schema_t *schema);

#endif
