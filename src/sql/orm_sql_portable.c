/* Standard SQL, for every other apr_dbd driver (odbc, oracle, freetds):
 * standard types, no upsert, no LIMIT, nothing on the connection. */
#include "orm_sql_dialect.h"

/* the fallback: no driver is named */
static const char *const drivers[] = { NULL };

const orm_sql_dialect_t orm_sql_dialect_portable = {
    .name = "portable",
    .drivers = drivers,
    .quote = "\"",
    .id_type = "VARCHAR(64)",
    .data_type = "CLOB",
    .bigint_type = "BIGINT",
    .if_not_exists = 0,
    .inline_indexes = 0,
    .table_options = "",
    .upsert = ORM_UPSERT_NONE,
    .lock_clause = " FOR UPDATE",
    .octets_open = "OCTET_LENGTH(",
    .octets_close = ")",
    /* no standard function names the server's session */
    .session_id = NULL,
    .release = NULL,
    .settings = NULL,
    .statement_timeout = NULL,
    .sweep = ORM_SWEEP_UNBOUNDED,
    .select_from_nothing = "",
    /* the size and the name of a database have no standard query */
    .table_size = NULL,
    .identity = NULL,
    .try_lock = NULL,
    .unlock = NULL,
};
