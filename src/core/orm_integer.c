#include <apr_strings.h>
#include <apr_lib.h>

#include "orm_integer.h"

const char *orm_integer_parse(apr_pool_t *pool, const char *text,
                              apr_int64_t min, apr_int64_t max,
                              const char *unit, apr_int64_t *value)
{
    const char *p = text;
    apr_int64_t parsed = 0;
    int digits = 0;

    if (text == NULL) {
        return "no value";
    }
    while (apr_isspace(*p)) {
        p++;
    }
    for (; apr_isdigit(*p); p++, digits++) {
        if (parsed > (max - (*p - '0')) / 10) {
            break;              /* beyond max: the digit left says so */
        }
        parsed = parsed * 10 + (*p - '0');
    }
    while (apr_isspace(*p)) {
        p++;
    }
    if (digits == 0 || (*p != '\0' && !apr_isdigit(*p))) {
        return apr_psprintf(pool, "'%s' is not a whole number of %s", text,
                            unit);
    }
    if (apr_isdigit(*p) || parsed < min || parsed > max) {
        return apr_psprintf(pool, "'%s' is out of range (%" APR_INT64_T_FMT
                            " to %" APR_INT64_T_FMT " %s)", text, min, max,
                            unit);
    }
    *value = parsed;
    return NULL;
}
