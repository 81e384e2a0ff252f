/**
 * What the store and the sweep log, decided in memory shared by all children
 * of httpd (every member is read and written with apr_atomic only):
 *
 * - an outage: one line when the first failure is seen, one when the
 *   database has answered again and no failure has been seen for a quiet
 *   time. The store's requests wait ORM_OUTAGE_QUIET_MS, so a server that
 *   flaps while it restarts gives one pair, not one per answer; the sweep,
 *   one look per interval, ends its outage at its first success (0);
 * - a gate for failures that are not outages (a statement refused on a
 *   working connection, an oversized session): at most one line per
 *   interval, which says how many were not logged since the last one.
 *
 * Times are passed in, so the logic is tested without waiting.
 */
#ifndef ORM_GATE_H
#define ORM_GATE_H

#include <apr.h>

/** Quiet time after the last failure before an outage counts as over. */
#define ORM_OUTAGE_QUIET_MS 1500

/** Seconds between two lines of one log gate. */
#define ORM_LOG_GATE_SECONDS 60

typedef struct {
    apr_uint32_t failing;       /* 1 from the first failure to the end */
    apr_uint32_t first_ms;      /* low 32 bits of ms times: only */
    apr_uint32_t last_ms;       /* differences are taken */
    apr_uint32_t since_sec;     /* epoch seconds of the first failure, for
                                 * the status */
} orm_outage_t;

typedef struct {
    apr_uint32_t logged_at;     /* seconds of the last line */
    apr_uint32_t suppressed;    /* not logged since */
} orm_log_gate_t;

/** A failure at now_ms; true when it starts an outage (log it). */
int orm_outage_failure(orm_outage_t *outage, apr_uint64_t now_ms);

/** The database answered at now_ms; true when that ends the outage (log
 *  it): no failure came in the last quiet_ms. *failed_ms is then the time
 *  from its first to its last failure. */
int orm_outage_success(orm_outage_t *outage, apr_uint64_t now_ms,
                       apr_uint32_t quiet_ms, apr_uint32_t *failed_ms);

/** True when an outage is on. */
int orm_outage_on(orm_outage_t *outage);

/** When the outage on began (epoch seconds); 0 when none is on. */
apr_uint32_t orm_outage_since(orm_outage_t *outage);

/** A failure to log at now_sec: true when it is logged now, with
 *  *suppressed the count not logged since the previous line; false when
 *  it is counted instead. */
int orm_log_gate_pass(orm_log_gate_t *gate, apr_uint64_t now_sec,
                      apr_uint32_t *suppressed);

#endif
