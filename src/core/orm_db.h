/**
 * What every caller of apr_dbd here needs the same way: the driver's
 * message for a failure (never NULL), a row read back as the table means
 * it, the table's clock, and how a row is named in a log line. apr-util's
 * apr_dbd only; the module's store, its sweeper and the admin tool all read
 * rows through these.
 *
 * Every select is asked for random access: PostgreSQL's sequential mode
 * reports errors only when rows are fetched, and the whole result is read
 * at once, so nothing needs draining. Rows are then numbered from 1 (all
 * drivers refuse -1, "next", on random results: MySQL).
 */
#ifndef ORM_DB_H
#define ORM_DB_H

#include <apr.h>
#include <apr_pools.h>
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

/** The first row of a random-access result as ncols copies in pool,
 *  exactly as the driver gave them (NULL for NULL; see orm_db_value);
 *  *values is NULL when there is no row. */
void orm_db_first_row(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                      apr_dbd_results_t *res, int ncols,
                      const char ***values);

/** Runs a select that answers with one row and reads that row as
 *  orm_db_first_row does. Without arguments sql runs unprepared (SQLite
 *  keeps a prepared statement until the connection closes, and these run
 *  on pooled connections); with them it is prepared unnamed. Returns the
 *  driver's error code, 0 on success (see orm_db_error). */
int orm_db_select_row(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                      apr_dbd_t *handle, const char *sql, int nargs,
                      const char *const *args, int ncols,
                      const char ***values);

#endif
