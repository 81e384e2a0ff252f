#include <apr_strings.h>
#include <apr_lib.h>

#include "orm_ttl.h"

const char *orm_seconds_parse(apr_pool_t *pool, const char *text,
                              apr_int64_t min, apr_int64_t max,
                              apr_int64_t *seconds)
{
    const char *p = text;
    apr_int64_t value = 0;
    int digits = 0;

    if (text == NULL) {
        return "no value";
    }
    while (apr_isspace(*p)) {
        p++;
    }
    for (; apr_isdigit(*p); p++, digits++) {
        if (value > (max - (*p - '0')) / 10) {
            break;              /* beyond max: the digit left says so */
        }
        value = value * 10 + (*p - '0');
    }
    while (apr_isspace(*p)) {
        p++;
    }
    if (digits == 0 || (*p != '\0' && !apr_isdigit(*p))) {
        return apr_psprintf(pool, "'%s' is not a whole number of seconds",
                            text);
    }
    if (apr_isdigit(*p) || value < min || value > max) {
        return apr_psprintf(pool, "'%s' is out of range (%" APR_INT64_T_FMT
                            " to %" APR_INT64_T_FMT " seconds)", text, min,
                            max);
    }
    *seconds = value;
    return NULL;
}

apr_int64_t orm_ttl_default(apr_int64_t session_maxage)
{
    return session_maxage > 0 ? session_maxage : ORM_DEFAULT_TTL_SECONDS;
}

int orm_touch_due(apr_int64_t now_ms, apr_int64_t updated_at_ms,
                  apr_int64_t expires_at_ms, apr_int64_t touch_seconds,
                  apr_int64_t session_maxage)
{
    apr_int64_t interval_ms = touch_seconds * 1000;
    apr_int64_t half_life_ms = (expires_at_ms - updated_at_ms) / 2;

    if (half_life_ms < interval_ms) {
        interval_ms = half_life_ms;
    }
    if (session_maxage > 0 && session_maxage * 500 < interval_ms) {
        interval_ms = session_maxage * 500;
    }
    return now_ms - updated_at_ms >= interval_ms;
}
