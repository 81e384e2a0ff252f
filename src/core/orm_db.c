#include <errno.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "orm_db.h"

apr_int64_t orm_now_ms(void)
{
    return apr_time_as_msec(apr_time_now());
}

const char *orm_db_message(const char *text)
{
    return text ? text : "(no message from the driver)";
}

const char *orm_db_error(const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                         int err)
{
    return orm_db_message(apr_dbd_error(driver, handle, err));
}

const char *orm_db_value(const char *entry)
{
    return entry && *entry ? entry : NULL;
}

const char *orm_db_int64_text(apr_pool_t *pool, apr_int64_t value)
{
    return apr_psprintf(pool, "%" APR_INT64_T_FMT, value);
}

int orm_db_int64_parse(const char *text, apr_int64_t *value)
{
    char *end = NULL;

    if (text == NULL || *text == '\0') {
        return 0;
    }
    errno = 0;
    *value = apr_strtoi64(text, &end, 10);
    return errno == 0 && end != NULL && *end == '\0';
}

/* apr_dbd_odbc's marks: the value it cannot hand back (a column passed
 * over on a driver that reads columns only in order), and the words its
 * message has when an ODBC call ended with SQL_NO_DATA (apr-util 1.6's
 * check_error: "<call> returned SQL_NO_DATA (100)"). */
#define ODBC_UNREADABLE ((const char *)-1)
#define ODBC_NO_DATA " returned SQL_NO_DATA ("

const char *orm_db_driver_name(const apr_dbd_driver_t *driver)
{
    const char *name = apr_dbd_name(driver);

    /* apr-util 1.6's ODBC driver names itself by its macro's name (its
     * STRINGIFY does not expand the macro): the name it is loaded by */
    return strcmp(name, "ODBC_DRIVER_NAME") ? name : "odbc";
}

static int is_odbc(const apr_dbd_driver_t *driver)
{
    return strcmp(orm_db_driver_name(driver), "odbc") == 0;
}

/* The last call on an ODBC handle found no row: nothing matched, or no
 * row is left. */
static int odbc_no_data(const apr_dbd_driver_t *driver, apr_dbd_t *handle)
{
    const char *text;

    if (!is_odbc(driver)) {
        return 0;
    }
    text = apr_dbd_error(driver, handle, 1);
    return text != NULL && strstr(text, ODBC_NO_DATA) != NULL;
}

int orm_db_sequential(const apr_dbd_driver_t *driver)
{
    return is_odbc(driver);
}

int orm_db_reconnects(const apr_dbd_driver_t *driver)
{
    return orm_db_name_reconnects(orm_db_driver_name(driver));
}

int orm_db_name_reconnects(const char *driver_name)
{
    return driver_name == NULL || strcmp(driver_name, "odbc") != 0;
}

/* apr_dbd_odbc frees a select's statement handle with the pool it is given.
 * MariaDB Connector/ODBC (3.1.15) makes a handle whose SQLExecDirect failed
 * close, when freed, the statement last prepared on the connection since:
 * a probe that failed for a missing table, freed at the request's end,
 * took the row-lock statement prepared after it with it ("Unknown prepared
 * statement handler"). A failed select's handle is therefore freed at
 * once, in a pool of its own; the driver's message stays on the
 * connection. */
int orm_db_select(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                  apr_dbd_t *handle, apr_dbd_results_t **res,
                  const char *sql)
{
    apr_pool_t *select_pool;
    int err;

    if (!is_odbc(driver)) {
        return apr_dbd_select(driver, pool, handle, res, sql, 1);
    }
    if (apr_pool_create(&select_pool, pool) != APR_SUCCESS) {
        return APR_ENOMEM;
    }
    err = apr_dbd_select(driver, select_pool, handle, res, sql, 0);
    if (err) {
        apr_pool_destroy(select_pool);
        *res = NULL;
    }
    return err;
}

int orm_db_pselect(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                   apr_dbd_t *handle, apr_dbd_results_t **res,
                   apr_dbd_prepared_t *stmt, int nargs,
                   const char *const *args)
{
    return apr_dbd_pselect(driver, pool, handle, res, stmt,
                           !orm_db_sequential(driver), nargs,
                           (const char **)args);
}

int orm_db_pquery(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                  apr_dbd_t *handle, int *nrows, apr_dbd_prepared_t *stmt,
                  int nargs, const char *const *args)
{
    int err = apr_dbd_pquery(driver, pool, handle, nrows, stmt, nargs,
                             (const char **)args);

    if (err && odbc_no_data(driver, handle)) {
        *nrows = 0;
        return 0;
    }
    return err;
}

/* One value into *value (NULL for NULL); on apr_dbd_odbc every piece of
 * it, each call handing the next until NULL. Nonzero when unreadable. */
static int read_value(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                      apr_dbd_row_t *row, int col, const char **value)
{
    const char *piece = apr_dbd_get_entry(driver, row, col);
    apr_array_header_t *pieces;

    *value = NULL;
    if (piece == ODBC_UNREADABLE && is_odbc(driver)) {
        return 1;
    }
    if (piece == NULL || !is_odbc(driver)) {
        *value = apr_pstrdup(pool, piece);
        return 0;
    }
    pieces = apr_array_make(pool, 4, sizeof(const char *));
    while (piece != NULL) {
        if (piece == ODBC_UNREADABLE) {
            return 1;
        }
        APR_ARRAY_PUSH(pieces, const char *) = piece;
        piece = apr_dbd_get_entry(driver, row, col);
    }
    *value = apr_array_pstrcat(pool, pieces, '\0');
    return 0;
}

orm_text_size_e orm_db_text_size(const apr_dbd_driver_t *driver)
{
    const char *name = orm_db_driver_name(driver);

    if (strcmp(name, "mysql") == 0) {
        return ORM_TEXT_SIZE_TOLD;
    }
    if (strcmp(name, "pgsql") == 0) {
        return ORM_TEXT_SIZE_WHOLE;
    }
    return ORM_TEXT_SIZE_ASKED;
}

/* Column col of a driver that tells a text value's size
 * (ORM_TEXT_SIZE_TOLD), whole, into *value (NULL for NULL) and its stored
 * length into *stored. The string datum is the driver's buffer ended
 * within it, so it is safe to measure even when the value went on past
 * it; the CLOB datum is a bucket as long as the stored value, read only
 * when the buffer did not hold it all. Nonzero when the driver failed. */
static int read_sized_text(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                           apr_dbd_row_t *row, int col,
                           apr_bucket_alloc_t *ba, const char **value,
                           apr_off_t *stored)
{
    const char *head = NULL;
    apr_bucket_brigade *bb;
    apr_size_t length;
    char *whole;
    apr_status_t rv;

    *value = NULL;
    *stored = 0;
    rv = apr_dbd_datum_get(driver, row, col, APR_DBD_TYPE_STRING, &head);
    if (rv == APR_ENOENT || (rv == APR_SUCCESS && head == NULL)) {
        return 0;
    }
    bb = apr_brigade_create(pool, ba);
    if (rv != APR_SUCCESS
        || apr_dbd_datum_get(driver, row, col, APR_DBD_TYPE_CLOB, bb)
        || apr_brigade_length(bb, 0, stored) || *stored < 0) {
        apr_brigade_destroy(bb);
        return 1;
    }
    length = strlen(head);
    if ((apr_off_t)length == *stored) {
        *value = apr_pstrmemdup(pool, head, length);
        apr_brigade_destroy(bb);
        return 0;
    }
    /* the buffer's worth, then the rest, fetched piece by piece, into one
     * string; should fewer bytes come than stored, the caller's check of
     * the size says so */
    length = (apr_size_t)*stored;
    whole = apr_palloc(pool, length + 1);
    rv = apr_brigade_flatten(bb, whole, &length);
    apr_brigade_destroy(bb);
    if (rv != APR_SUCCESS) {
        return 1;
    }
    whole[length] = '\0';
    *value = whole;
    return 0;
}

/* orm_db_first_row, and orm_db_first_row_sized where text_col >= 0. */
static int first_row(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                     apr_dbd_t *handle, apr_dbd_results_t *res, int ncols,
                     int text_col, apr_bucket_alloc_t *ba,
                     const char ***values, const char **errmsg)
{
    int sequential = orm_db_sequential(driver);
    int slots = ncols + (text_col >= 0);
    apr_dbd_row_t *row = NULL;
    int i, failed = 0;

    *values = NULL;
    if (apr_dbd_get_row(driver, pool, res, &row, sequential ? -1 : 1)) {
        /* in order, the end of the rows and a failed fetch look alike */
        return sequential && !odbc_no_data(driver, handle);
    }
    *values = apr_pcalloc(pool, sizeof(const char *) * (slots ? slots : 1));
    /* in column order: some ODBC drivers read columns only so */
    for (i = 0; i < ncols && !failed; i++) {
        if (i == text_col) {
            apr_off_t stored = 0;

            failed = read_sized_text(pool, driver, row, i, ba, &(*values)[i],
                                     &stored);
            (*values)[ncols] = apr_off_t_toa(pool, stored);
        }
        else {
            failed = read_value(pool, driver, row, i, &(*values)[i]);
        }
    }
    if (failed) {
        /* the driver's reason, before draining replaces it */
        *values = NULL;
        if (errmsg) {
            *errmsg = apr_pstrdup(pool, orm_db_error(driver, handle, 1));
        }
    }
    if (sequential) {
        /* to the end, which closes the cursor for the statement's next
         * run */
        while (apr_dbd_get_row(driver, pool, res, &row, -1) == 0) {
            continue;
        }
    }
    return failed;
}

int orm_db_first_row(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                     apr_dbd_t *handle, apr_dbd_results_t *res, int ncols,
                     const char ***values, const char **errmsg)
{
    return first_row(pool, driver, handle, res, ncols, -1, NULL, values,
                     errmsg);
}

int orm_db_first_row_sized(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                           apr_dbd_t *handle, apr_dbd_results_t *res,
                           int ncols, int text_col, apr_bucket_alloc_t *ba,
                           const char ***values, const char **errmsg)
{
    return first_row(pool, driver, handle, res, ncols, text_col, ba, values,
                     errmsg);
}

int orm_db_select_row(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                      apr_dbd_t *handle, const char *sql, int nargs,
                      const char *const *args, int ncols,
                      const char ***values)
{
    apr_dbd_prepared_t *stmt = NULL;
    apr_dbd_results_t *res = NULL;
    int err;

    *values = NULL;
    if (nargs == 0) {
        err = orm_db_select(pool, driver, handle, &res, sql);
    }
    else {
        err = apr_dbd_prepare(driver, pool, handle, sql, NULL, &stmt);
        if (!err) {
            err = orm_db_pselect(pool, driver, handle, &res, stmt, nargs,
                                 args);
        }
    }
    if (!err) {
        err = orm_db_first_row(pool, driver, handle, res, ncols, values,
                               NULL);
    }
    return err;
}

int orm_db_identify(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                    apr_dbd_t *handle, const orm_db_probe_t *probes,
                    int fallback)
{
    const orm_db_probe_t *probe;
    const char *asked = NULL, *answer = NULL;

    for (probe = probes; probe->sql; probe++) {
        /* probes in a row may ask the same: asked once */
        if (asked == NULL || strcmp(asked, probe->sql)) {
            const char **values = NULL;

            asked = probe->sql;
            answer = orm_db_select_row(pool, driver, handle, probe->sql, 0,
                                       NULL, 1, &values) == 0 && values
                     ? values[0] : NULL;
        }
        if (answer && strstr(answer, probe->answer_has)) {
            return probe->database;
        }
    }
    return fallback;
}
