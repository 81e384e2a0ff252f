#include <errno.h>
#include <apr_strings.h>
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

void orm_db_first_row(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                      apr_dbd_results_t *res, int ncols,
                      const char ***values)
{
    apr_dbd_row_t *row = NULL;
    int i;

    *values = NULL;
    if (apr_dbd_get_row(driver, pool, res, &row, 1) != 0) {
        return;
    }
    *values = apr_pcalloc(pool, sizeof(const char *) * ncols);
    for (i = 0; i < ncols; i++) {
        (*values)[i] = apr_pstrdup(pool, apr_dbd_get_entry(driver, row, i));
    }
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
        err = apr_dbd_select(driver, pool, handle, &res, sql, 1);
    }
    else {
        err = apr_dbd_prepare(driver, pool, handle, sql, NULL, &stmt);
        if (!err) {
            err = apr_dbd_pselect(driver, pool, handle, &res, stmt, 1, nargs,
                                  (const char **)args);
        }
    }
    if (!err) {
        orm_db_first_row(pool, driver, res, ncols, values);
    }
    return err;
}
