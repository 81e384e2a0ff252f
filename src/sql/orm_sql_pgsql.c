/* PostgreSQL (apr_dbd's "pgsql" driver). */
#include <apr_strings.h>

#include "orm_sql_dialect.h"

static const char *const drivers[] = { "pgsql", NULL };

/* The server ends a statement running past SessionORMTimeout (a lock wait,
 * a slow plan); a stopped server ends nothing: the module's watchdog bounds
 * that. Should the SET fail, statements run unbounded on the server. */
static void statement_timeout(apr_pool_t *pool, apr_array_header_t *setup,
                              apr_int64_t timeout_ms)
{
    orm_sql_setting_t *setting = apr_array_push(setup);

    setting->sql = apr_psprintf(pool, "SET statement_timeout = %"
                                APR_INT64_T_FMT, timeout_ms);
    setting->answers_row = 0;
}

const orm_sql_dialect_t orm_sql_dialect_pgsql = {
    .name = "pgsql",
    .drivers = drivers,
    .quote = "\"",
    .id_type = "VARCHAR(64)",
    .data_type = "TEXT",
    .bigint_type = "BIGINT",
    .if_not_exists = 1,
    .inline_indexes = 0,
    .partial_indexes = 1,
    .table_options = "",
    .upsert = ORM_UPSERT_ON_CONFLICT,
    .lock_clause = " FOR UPDATE",
    .octets_open = "OCTET_LENGTH(",
    .octets_close = ")",
    .detect_sql = "SELECT version()",
    .detect_answer = "PostgreSQL",
    /* a backend's pid may come again after a restart: with the start time
     * of the server it may not */
    .session_id = "SELECT CAST(pg_backend_pid() AS text) || '@' || "
                  "CAST(pg_postmaster_start_time() AS text)",
    /* the one driver that names a prepared statement on the server */
    .release = "DEALLOCATE ",
    .settings = NULL,
    .statement_timeout = statement_timeout,
    /* writers wait for the rows they lock, not by polling */
    .traits = { .single_writer = 0, .stale_after_schema_change = 0 },
    .sweep = ORM_SWEEP_LIMIT_SUBQUERY,
    .select_from_nothing = "",
    .table_size = "SELECT pg_total_relation_size(CAST("
                  "quote_ident(%s) AS regclass))",
    .identity = "SELECT COALESCE(CAST(inet_server_addr() AS "
                "text), 'socket') || ':' || "
                "COALESCE(CAST(inet_server_port() AS text), '') "
                "|| '/' || current_database()",
    /* hosts sharing the database take turns */
    .try_lock = "SELECT CASE WHEN pg_try_advisory_lock(%lld) "
                "THEN 1 ELSE 0 END",
    .unlock = "SELECT pg_advisory_unlock(%lld)",
};
