/* SQLite 3 (apr_dbd's "sqlite3" driver). */
#include "orm_sql_dialect.h"

static const char *const drivers[] = { "sqlite3", NULL };

/* Write-ahead logging, so readers never wait for a writer (a setting of
 * the database file: once set, every connection has it), and a short busy
 * wait inside each step: 25 ms. apr_dbd's SQLite driver runs every step
 * under one lock per process and retries a busy step itself (15 times,
 * 100 ms apart) with that lock released; a long busy_timeout would hold the
 * lock while waiting for a writer that may need it to finish. Each PRAGMA
 * answers with a row. One that fails leaves SQLite's default in place: the
 * connection works, only slower (readers waiting for a writer, a busy step
 * left to the driver's retry, a sync on every commit). */
static const orm_sql_setting_t settings[] = {
    { "PRAGMA busy_timeout = 25", 1 },
    { "PRAGMA journal_mode = WAL", 1 },
    /* with WAL, NORMAL survives a crash of httpd intact; only a power cut
     * can lose the last commits, and no fsync stalls each write */
    { "PRAGMA synchronous = NORMAL", 1 },
    { NULL, 0 }
};

const orm_sql_dialect_t orm_sql_dialect_sqlite = {
    .name = "sqlite3",
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
    /* BEGIN IMMEDIATE already holds the database's write lock */
    .lock_clause = "",
    /* LENGTH counts characters of text, bytes of a blob */
    .octets_open = "LENGTH(CAST(",
    .octets_close = " AS BLOB))",
    /* a function no other database has */
    .detect_sql = "SELECT sqlite_version()",
    .detect_answer = "",
    /* the driver never reconnects a handle */
    .session_id = NULL,
    /* statements are the driver's alone, nothing on a server */
    .release = NULL,
    .settings = settings,
    /* SQLite has no server to end a statement */
    .statement_timeout = NULL,
    /* one writer at a time, waiting by polling; apr_dbd_sqlite3's
     * statements go stale after a change of the schema */
    .traits = { .single_writer = 1, .stale_after_schema_change = 1 },
    .sweep = ORM_SWEEP_LIMIT_SUBQUERY,
    .select_from_nothing = "",
    /* only with the dbstat table built in */
    .table_size = "SELECT SUM(pgsize) FROM dbstat WHERE name "
                  "IN (SELECT name FROM sqlite_master WHERE "
                  "tbl_name = %s)",
    .identity = "SELECT file FROM pragma_database_list "
                "WHERE name = 'main'",
    /* no advisory lock: the farm's turn is the marker row's alone */
    .try_lock = NULL,
    .unlock = NULL,
};
