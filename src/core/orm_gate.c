#include <apr_atomic.h>

#include "orm_gate.h"

int orm_outage_failure(orm_outage_t *outage, apr_uint64_t now_ms)
{
    /* the time first: a success that sees the outage sees this failure */
    apr_atomic_set32(&outage->last_ms, (apr_uint32_t)now_ms);
    if (apr_atomic_cas32(&outage->failing, 1, 0) == 0) {
        apr_atomic_set32(&outage->first_ms, (apr_uint32_t)now_ms);
        apr_atomic_set32(&outage->since_sec, (apr_uint32_t)(now_ms / 1000));
        return 1;
    }
    return 0;
}

int orm_outage_success(orm_outage_t *outage, apr_uint64_t now_ms,
                       apr_uint32_t quiet_ms, apr_uint32_t *failed_ms)
{
    apr_uint32_t last;

    if (!apr_atomic_read32(&outage->failing)) {
        return 0;
    }
    last = apr_atomic_read32(&outage->last_ms);
    /* unsigned differences stay right when the low bits wrap */
    if ((apr_uint32_t)((apr_uint32_t)now_ms - last) < quiet_ms) {
        return 0;               /* it may still be going down or flapping */
    }
    if (apr_atomic_cas32(&outage->failing, 0, 1) != 1) {
        return 0;               /* another child ended it */
    }
    *failed_ms = last - apr_atomic_read32(&outage->first_ms);
    return 1;
}

int orm_outage_on(orm_outage_t *outage)
{
    return apr_atomic_read32(&outage->failing) != 0;
}

apr_uint32_t orm_outage_since(orm_outage_t *outage)
{
    return orm_outage_on(outage) ? apr_atomic_read32(&outage->since_sec) : 0;
}

int orm_log_gate_pass(orm_log_gate_t *gate, apr_uint64_t now_sec,
                      apr_uint32_t *suppressed)
{
    apr_uint32_t now = (apr_uint32_t)now_sec;
    apr_uint32_t last = apr_atomic_read32(&gate->logged_at);

    /* one child wins the interval (the first: logged_at starts at 0); the
     * others count */
    if ((apr_uint32_t)(now - last) >= ORM_LOG_GATE_SECONDS
        && apr_atomic_cas32(&gate->logged_at, now, last) == last) {
        *suppressed = apr_atomic_xchg32(&gate->suppressed, 0);
        return 1;
    }
    apr_atomic_inc32(&gate->suppressed);
    return 0;
}
