#include "orm_ttl.h"

apr_int64_t orm_ttl_default(apr_int64_t session_maxage)
{
    return session_maxage > 0 ? session_maxage : ORM_DEFAULT_TTL_SECONDS;
}

/* min(touch interval, half the row's lifetime, half of mod_session's
 * maxage if set), in milliseconds */
static apr_int64_t touch_interval_ms(apr_int64_t updated_at_ms,
                                     apr_int64_t expires_at_ms,
                                     apr_int64_t touch_seconds,
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
    return interval_ms;
}

int orm_touch_due(apr_int64_t now_ms, apr_int64_t updated_at_ms,
                  apr_int64_t expires_at_ms, apr_int64_t touch_seconds,
                  apr_int64_t session_maxage)
{
    return now_ms - updated_at_ms
           >= touch_interval_ms(updated_at_ms, expires_at_ms, touch_seconds,
                                session_maxage);
}

apr_int64_t orm_ttl_write_expiry(apr_int64_t now_ms, apr_int64_t ttl_seconds,
                                 apr_int64_t updated_at_ms,
                                 apr_int64_t expires_at_ms,
                                 apr_int64_t touch_seconds,
                                 apr_int64_t session_maxage)
{
    apr_int64_t expiry_ms = now_ms + ttl_seconds * 1000;

    /* never later than asked (a shorter TTL is written at once), and the
     * same bound as a touch: moved by less than its interval, kept */
    if (expires_at_ms <= expiry_ms
        && expiry_ms - expires_at_ms
           < touch_interval_ms(updated_at_ms, expires_at_ms, touch_seconds,
                               session_maxage)) {
        return expires_at_ms;
    }
    return expiry_ms;
}
