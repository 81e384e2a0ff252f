/* Standard SQL, for a database no other dialect describes (through odbc,
 * oracle, freetds) or when SessionORMDialect says portable: what
 * PostgreSQL, MariaDB/MySQL and SQLite all take, and the standard besides.
 * Names unquoted (double quotes are no quote to MySQL without ANSI_QUOTES,
 * backquotes none to the others): they passed orm_identifier_check, and
 * must not be reserved words of the database. TEXT, which every common
 * database has (Oracle's is CLOB): MySQL's holds 64 KB. No upsert, no
 * LIMIT, no IF NOT EXISTS, nothing set on the connection. */
#include "orm_sql_dialect.h"

/* the fallback: no driver is named */
static const char *const drivers[] = { NULL };

const orm_sql_dialect_t orm_sql_dialect_portable = {
    .name = "portable",
    .drivers = drivers,
    .quote = "",
    .id_type = "VARCHAR(64)",
    .data_type = "TEXT",
    .bigint_type = "BIGINT",
    .if_not_exists = 0,
    .inline_indexes = 0,
    .table_options = "",
    .upsert = ORM_UPSERT_NONE,
    /* SQLite has no FOR UPDATE; an UPDATE locks everywhere */
    .lock_clause = "",
    .lock_by_update = 1,
    /* no function counts bytes everywhere (SQLite before 3.43 has no
     * OCTET_LENGTH): LENGTH counts characters on most, bytes on MySQL */
    .octets_open = "LENGTH(",
    .octets_close = ")",
    .octets_in_chars = 1,
    /* it is the fallback: nothing to ask */
    .detect_sql = NULL,
    .detect_answer = NULL,
    /* no standard function names the server's session */
    .session_id = NULL,
    .release = NULL,
    .settings = NULL,
    .statement_timeout = NULL,
    /* nothing known of the database: none asked for */
    .traits = { .single_writer = 0, .stale_after_schema_change = 0 },
    .sweep = ORM_SWEEP_UNBOUNDED,
    .select_from_nothing = "",
    /* the size and the name of a database have no standard query */
    .table_size = NULL,
    .identity = NULL,
    .try_lock = NULL,
    .unlock = NULL,
};
