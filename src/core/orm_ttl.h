/**
 * Lifetime arithmetic: how long a row lives, and when an unchanged session
 * is worth rewriting to slide its expiry (the touch).
 */
#ifndef ORM_TTL_H
#define ORM_TTL_H

#include <apr.h>
#include <apr_pools.h>

#define ORM_DEFAULT_TTL_SECONDS        86400   /* one day, as the seed store */
#define ORM_DEFAULT_TOUCH_SECONDS      60
#define ORM_MAX_SECONDS                (10LL * 366 * 86400)  /* ten years */

/** TTL when SessionORMTTL is not set: mod_session's maxage if set, else one
 *  day. */
apr_int64_t orm_ttl_default(apr_int64_t session_maxage);

/** True when an unchanged session loaded at now_ms should be rewritten: the
 *  row was last written at least min(touch interval, half its lifetime,
 *  half of mod_session's maxage if set) ago. The halves keep both our
 *  expires_at and mod_session's own expiry from lapsing while in use. */
int orm_touch_due(apr_int64_t now_ms, apr_int64_t updated_at_ms,
                  apr_int64_t expires_at_ms, apr_int64_t touch_seconds,
                  apr_int64_t session_maxage);

/** The expiry a write at now_ms gives a session that lives ttl_seconds,
 *  over its row as loaded (updated_at_ms, expires_at_ms): the stored
 *  expiry when now + ttl would move it forward by less than the interval
 *  orm_touch_due waits (so an active session's expiry moves at most once
 *  per interval, as an unchanged one's does, and writes in quick
 *  succession leave the indexed column alone: no index entry to replace,
 *  and PostgreSQL can update the row in place); else now + ttl. */
apr_int64_t orm_ttl_write_expiry(apr_int64_t now_ms, apr_int64_t ttl_seconds,
                                 apr_int64_t updated_at_ms,
                                 apr_int64_t expires_at_ms,
                                 apr_int64_t touch_seconds,
                                 apr_int64_t session_maxage);

#endif
