/* MariaDB and MySQL (apr_dbd's "mysql" driver). */
#include <apr_strings.h>

#include "orm_sql_dialect.h"

static const char *const drivers[] = { "mysql", NULL };

/* The server ends a statement running past SessionORMTimeout (a lock wait,
 * a slow plan); a stopped server ends nothing: the module's watchdog bounds
 * that. One of the two fails: MariaDB knows max_statement_time (in
 * seconds), MySQL max_execution_time (in milliseconds). */
static void statement_timeout(apr_pool_t *pool, apr_array_header_t *setup,
                              apr_int64_t timeout_ms)
{
    orm_sql_setting_t *mariadb = apr_array_push(setup);
    orm_sql_setting_t *mysql = apr_array_push(setup);

    mariadb->sql = apr_psprintf(pool, "SET SESSION max_statement_time = %"
                                APR_INT64_T_FMT ".%03d", timeout_ms / 1000,
                                (int)(timeout_ms % 1000));
    mariadb->answers_row = 0;
    mysql->sql = apr_psprintf(pool, "SET SESSION max_execution_time = %"
                              APR_INT64_T_FMT, timeout_ms);
    mysql->answers_row = 0;
}

const orm_sql_dialect_t orm_sql_dialect_mysql = {
    .name = "mysql",
    .drivers = drivers,
    .quote = "`",
    /* ids are hex, so an ASCII key keeps the index small */
    .id_type = "VARCHAR(64) CHARACTER SET ascii",
    .data_type = "MEDIUMTEXT",
    .bigint_type = "BIGINT",
    .if_not_exists = 1,
    .inline_indexes = 1,
    .table_options = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    .upsert = ORM_UPSERT_ON_DUPLICATE_KEY,
    .lock_clause = " FOR UPDATE",
    .octets_open = "OCTET_LENGTH(",
    .octets_close = ")",
    /* utf8mb4's default collation ignores case */
    .exact_compare = "BINARY ",
    /* any answer: asked after PostgreSQL's same question (MariaDB answers
     * "10.11.6-MariaDB-...", MySQL "8.0.36") */
    .detect_sql = "SELECT version()",
    .detect_answer = "",
    /* connection ids start again at 1 after a restart, so a reconnected
     * handle can get the id it had: a mark of our own, in a variable of the
     * session that a new session does not have, tells it apart */
    .session_id = "SELECT CONCAT(CONNECTION_ID(), '/', @session_orm_mark := "
                  "COALESCE(@session_orm_mark, UUID()))",
    /* the driver closes its statements when their pool goes */
    .release = NULL,
    .settings = NULL,
    .statement_timeout = statement_timeout,
    /* writers wait for the rows they lock, not by polling */
    .traits = { .single_writer = 0, .stale_after_schema_change = 0 },
    .sweep = ORM_SWEEP_LIMIT_DELETE,
    /* MySQL wants a table for a WHERE */
    .select_from_nothing = " FROM DUAL",
    .table_size = "SELECT data_length + index_length FROM "
                  "information_schema.TABLES WHERE table_schema = "
                  "DATABASE() AND table_name = %s",
    .identity = "SELECT CONCAT(@@hostname, ':', @@port, '/', DATABASE())",
    /* no advisory lock: the marker row alone gives the farm its turn */
    .try_lock = NULL,
    .unlock = NULL,
};
