#include "orm_ttl.h"

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
