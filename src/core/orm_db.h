/**
 * What every caller of apr_dbd here needs the same way: the driver's
 * message for a failure (never NULL), a row read back as the table means
 * it, the table's clock, and how a row is named in a log line. apr-util's
 * apr_dbd only; the module's store, its sweeper and the admin tool all read
 * rows through these.
 *
 * How results are read depends on the driver, and only here. Selects on
 * the native drivers ask for random access: PostgreSQL's sequential mode
 * reports errors only when rows are fetched, and the whole result is read
 * at once, so nothing needs draining; rows are numbered from 1 (all drivers
 * refuse -1, "next", on random results: MySQL). apr_dbd_odbc asks the ODBC
 * driver for a scrollable cursor on random access, which psqlODBC refuses
 * and MariaDB's driver refuses on a prepared statement: its results are
 * read in order and drained, so the statement's cursor is closed for its
 * next run. It also hands a long text column back in pieces (about 8 KB,
 * DBDParams bufsize), one per call: every piece is read. And an UPDATE or
 * DELETE that matched no row comes back as SQL_NO_DATA, a failure to
 * apr_dbd: here it is success with no rows.
 */
#ifndef ORM_DB_H
#define ORM_DB_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_buckets.h>
#include <apr_dbd.h>

/** Rows are named in logs by this many first characters of their id (a
 *  digest, never a token). */
#define ORM_ID_PREFIX_LEN 12

/** Now on the table's clock: milliseconds since the epoch. */
apr_int64_t orm_now_ms(void);

/** A message from the driver, or the text that says it gave none. */
const char *orm_db_message(const char *text);

/** The driver's message for the failure err of a call on handle; never
 *  NULL. It changes with the driver's next call: copy it to keep it. */
const char *orm_db_error(const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                         int err);

/** A column's value as the table means it: NULL for SQL NULL and for ""
 *  (PostgreSQL's driver reads NULL as "", and nothing stored here is ""). */
const char *orm_db_value(const char *entry);

/** A number as a statement's text argument. */
const char *orm_db_int64_text(apr_pool_t *pool, apr_int64_t value);

/** Strict: true when text is a whole number and nothing else. */
int orm_db_int64_parse(const char *text, apr_int64_t *value);

/** The driver's name, as DBDriver gives it ("odbc", where apr_dbd_name
 *  says "ODBC_DRIVER_NAME"). */
const char *orm_db_driver_name(const apr_dbd_driver_t *driver);

/** The driver reads results in order (apr_dbd_odbc): see above. */
int orm_db_sequential(const apr_dbd_driver_t *driver);

/** False for a driver whose apr_dbd_check_conn only reports a dropped
 *  connection (apr_dbd_odbc), true where it reconnects it (pgsql, mysql)
 *  or there is none to drop (sqlite3). */
int orm_db_reconnects(const apr_dbd_driver_t *driver);

/** orm_db_reconnects of the driver DBDriver names (NULL: none). */
int orm_db_name_reconnects(const char *driver_name);

/** apr_dbd_select with the access the driver supports. */
int orm_db_select(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                  apr_dbd_t *handle, apr_dbd_results_t **res,
                  const char *sql);

/** apr_dbd_pselect with the access the driver supports. */
int orm_db_pselect(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                   apr_dbd_t *handle, apr_dbd_results_t **res,
                   apr_dbd_prepared_t *stmt, int nargs,
                   const char *const *args);

/** apr_dbd_pquery, where a statement that matched no row succeeds with
 *  *nrows 0 on every driver. */
int orm_db_pquery(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                  apr_dbd_t *handle, int *nrows, apr_dbd_prepared_t *stmt,
                  int nargs, const char *const *args);

/** The first row of a result of orm_db_select/orm_db_pselect as ncols
 *  copies in pool, exactly as the driver gave them (NULL for NULL; see
 *  orm_db_value), every piece of a long value joined; *values is NULL when
 *  there is no row. The rest of the result is drained. Returns 0, or
 *  nonzero when the row or one of its values could not be read; *errmsg
 *  (when errmsg is not NULL) then says why, in the driver's words. */
int orm_db_first_row(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                     apr_dbd_t *handle, apr_dbd_results_t *res, int ncols,
                     const char ***values, const char **errmsg);

/** Where a text value's stored size comes from, to tell a value the
 *  driver handed back whole from one it cut. */
typedef enum {
    /* the server works it out, in a column of its own (LENGTH): a driver
     * may hand back less with no error, or stop at a stored NUL byte */
    ORM_TEXT_SIZE_ASKED = 0,
    /* the driver hands back at most a buffer's worth, with no error for
     * the rest (apr_dbd_mysql: fldsz in DBDParams, 1 MB by default), and
     * tells the stored length through its CLOB datum: read such a column
     * with orm_db_first_row_sized */
    ORM_TEXT_SIZE_TOLD,
    /* the driver hands back every value whole, and the database's text
     * cannot hold a NUL byte, so a value's length is its stored length:
     * nothing to check (apr_dbd_pgsql: libpq's value, all of it) */
    ORM_TEXT_SIZE_WHOLE
} orm_text_size_e;

/** Where a text value's stored size comes from on this driver. */
orm_text_size_e orm_db_text_size(const apr_dbd_driver_t *driver);

/** As orm_db_first_row, on a driver whose text size is ORM_TEXT_SIZE_TOLD,
 *  and with column text_col read whole, however long, through the
 *  driver's CLOB datum (buckets from ba); (*values)[ncols], one more than
 *  asked for, is then its stored length in bytes as text, to hold against
 *  the value's length (a stored NUL byte ends the text short of it). */
int orm_db_first_row_sized(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                           apr_dbd_t *handle, apr_dbd_results_t *res,
                           int ncols, int text_col, apr_bucket_alloc_t *ba,
                           const char ***values, const char **errmsg);

/** Runs a select that answers with one row and reads that row as
 *  orm_db_first_row does. Without arguments sql runs unprepared (SQLite
 *  keeps a prepared statement until the connection closes, and these run
 *  on pooled connections); with them it is prepared unnamed. Returns the
 *  driver's error code, 0 on success (see orm_db_error). */
int orm_db_select_row(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                      apr_dbd_t *handle, const char *sql, int nargs,
                      const char *const *args, int ncols,
                      const char ***values);

/** One question that tells databases apart: the first probe whose sql
 *  answers with a first value containing answer_has names the database. */
typedef struct {
    const char *sql;            /* NULL ends a list */
    const char *answer_has;     /* "" for any answer */
    int database;               /* what the caller calls that database */
} orm_db_probe_t;

/** Asks the probes in order on the connection; the database of the first
 *  that matches, or fallback when none does. A failed probe is no error:
 *  run outside a transaction, it leaves the connection as it was. */
int orm_db_identify(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                    apr_dbd_t *handle, const orm_db_probe_t *probes,
                    int fallback);

#endif
