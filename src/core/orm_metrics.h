/**
 * Status and metrics: what the store, the provider and the sweep count, per
 * store (a server's table), and the texts the status handler and mod_status
 * show of it.
 *
 * Invariants:
 * - orm_metrics_t lives in memory shared by all children of httpd (the
 *   store's slot) and each of its members is read and written with
 *   apr_atomic only: a count made in any child adds to the one total, and
 *   a scrape takes no lock. Counters are 64 bits: a request adds one without
 *   waiting for anyone (a cross-process lock would queue every request of
 *   every child behind one another), and a sum of microseconds does not
 *   wrap in 71 minutes as 32 bits would. (Where APR has no 64-bit atomic
 *   instructions it guards them with a lock of the process only: children
 *   could then lose an increment now and then, nothing else);
 * - counters only grow from the start of httpd (a restart makes the shared
 *   memory anew: Prometheus sees that as a counter reset);
 * - a latency histogram keeps one count per bucket, not cumulative ones, so
 *   an observation is one increment; its count is the sum of its buckets, so
 *   its +Inf bucket always equals its count, and its cumulative buckets
 *   never decrease from one bound to the next;
 * - the renderers read only a plain snapshot (orm_metrics_snapshot_t), never
 *   the shared memory, and escape every text they did not write themselves
 *   (server names, table names, host names) for the format they write.
 */
#ifndef ORM_METRICS_H
#define ORM_METRICS_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "orm_policy.h"
#include "orm_write.h"

/** What is counted. A failure of each kind is counted once per session
 *  operation (load, write, removal) that it ended. */
typedef enum {
    ORM_METRIC_LOADS = 0,       /* session loads (the cache's hits too) */
    ORM_METRIC_SAVES,           /* session writes that went to the store */
    ORM_METRIC_NEW_SESSIONS,    /* new rows written */
    ORM_METRIC_ROTATIONS,       /* sessions moved to a new token */
    ORM_METRIC_MERGES,          /* lost races merged without a lock */
    ORM_METRIC_MERGES_LOCKED,   /* ... and under the row lock */
    ORM_METRIC_CONFLICTS,       /* conditional writes that lost the race */
    ORM_METRIC_TIMEOUTS,        /* database calls the watchdog cut */
    ORM_METRIC_FAILED_OUTAGE,   /* failed: the database could not be used */
    ORM_METRIC_FAILED_DATA,     /* failed: a statement refused, a cut value */
    ORM_METRIC_FAILED_TOO_BIG,  /* not written: over SessionORMMaxSize */
    ORM_METRIC_FAILED_SKIPPED,  /* not tried: the database known down */
    ORM_METRIC_SWEEP_FAILURES,  /* sweeps of the table that failed */
    ORM_METRIC_CACHE_HITS,      /* loads SessionORMCache answered */
    ORM_METRIC_CACHE_MISSES,    /* loads it sent to the database */
    ORM_METRIC_COUNT
} orm_metric_e;

typedef enum {
    ORM_LATENCY_LOAD = 0,       /* a request's load, all keys it tried */
    ORM_LATENCY_SAVE,           /* a request's write, all its statements */
    ORM_LATENCY_COUNT
} orm_latency_e;

/** Upper bounds of the latency buckets (seconds: 0.0005 ... 10); one more
 *  bucket holds what is over the last. */
#define ORM_LATENCY_BOUNDS 14

typedef struct {
    apr_uint64_t buckets[ORM_LATENCY_BOUNDS + 1];   /* per bucket */
    apr_uint64_t sum_us;
} orm_histogram_t;

/** What the last sweeps of the table on this host did. Times are ms since
 *  the epoch, 0 for never. */
typedef struct {
    apr_uint64_t swept_ms;      /* the last sweep done here began */
    apr_uint64_t took_ms;       /* how long it took */
    apr_uint64_t deleted;       /* expired rows it deleted */
    apr_uint64_t deleted_total; /* expired rows deleted since start */
    apr_uint64_t live;          /* rows counted after the last sweep */
    apr_uint64_t counted_ms;    /* when; 0: not counted yet */
    apr_uint64_t elsewhere_ms;  /* the last look that found another host
                                 * had the farm's turn */
    apr_uint64_t failed_ms;     /* the last sweep that failed */
} orm_sweep_record_t;

/** One store's counts, in shared memory (zeroed at start). */
typedef struct {
    apr_uint64_t counters[ORM_METRIC_COUNT];
    orm_histogram_t latency[ORM_LATENCY_COUNT];
    apr_uint64_t last_error;    /* (epoch seconds << 32) | message ID: one
                                 * word, so the two are read together */
    orm_sweep_record_t sweep;
} orm_metrics_t;

/** A store's state at one moment, as the renderers show it. */
typedef struct {
    const char *server;             /* the server's name:port */
    const char *table;
    int failing;                    /* the outage gate is on */
    apr_uint64_t failing_since;     /* epoch seconds */
    unsigned error_id;              /* the last error's ORM message ID; 0:
                                     * none since start */
    apr_uint64_t error_at;          /* epoch seconds */
    apr_uint64_t counters[ORM_METRIC_COUNT];
    orm_histogram_t latency[ORM_LATENCY_COUNT];
    apr_int64_t sweep_seconds;      /* SessionORMSweepInterval; 0: off */
    const char *host;               /* this host's name: the sweeps
                                     * recorded are this host's */
    orm_sweep_record_t sweep;
} orm_metrics_snapshot_t;

/** Adds n to a counter; m NULL (no shared memory) counts nothing. */
void orm_metrics_add(orm_metrics_t *m, orm_metric_e which, apr_uint64_t n);

/** The bucket of an observation of us microseconds: the first whose bound
 *  it does not exceed, ORM_LATENCY_BOUNDS when it exceeds them all. */
int orm_metrics_bucket(apr_uint64_t us);

/** One load or save that took took (negative counts as 0). */
void orm_metrics_observe(orm_metrics_t *m, orm_latency_e which,
                         apr_interval_time_t took);

/** Counts how a session write ended (orm_write_session with action;
 *  written: it returned APR_SUCCESS): new rows, rotations, merges, lost
 *  races. */
void orm_metrics_count_write(orm_metrics_t *m, orm_save_e action,
                             int written, const orm_write_result_t *result);

/** An error logged under message ID id (ORM0112: 112) at now_sec. */
void orm_metrics_error(orm_metrics_t *m, unsigned id, apr_uint64_t now_sec);

/** A sweep that began at began_ms, took took_ms and deleted deleted rows. */
void orm_metrics_swept(orm_metrics_t *m, apr_uint64_t began_ms,
                       apr_uint64_t took_ms, apr_uint64_t deleted);

/** live rows counted at now_ms, after a sweep. */
void orm_metrics_counted(orm_metrics_t *m, apr_uint64_t now_ms,
                         apr_uint64_t live);

/** A sweep of the table failed at now_ms (counted too). */
void orm_metrics_sweep_failed(orm_metrics_t *m, apr_uint64_t now_ms);

/** At now_ms another host had the farm's turn to sweep. */
void orm_metrics_swept_elsewhere(orm_metrics_t *m, apr_uint64_t now_ms);

/** Copies m's counts into snap (its other members are left as they are);
 *  m NULL gives zeros. */
void orm_metrics_read(orm_metrics_t *m, orm_metrics_snapshot_t *snap);

/** Prometheus text exposition format 0.0.4 of the snapshots (an array of
 *  orm_metrics_snapshot_t): HELP and TYPE once per family, each store's
 *  samples labelled server and table. */
char *orm_metrics_prometheus(apr_pool_t *pool,
                             const apr_array_header_t *snaps);

/** One JSON object: {"stores": [...]}, one member per snapshot. */
char *orm_metrics_json(apr_pool_t *pool, const apr_array_header_t *snaps);

/** HTML: a section per store (heading and tables), to go into a page
 *  (whole_page: with the page around it). */
char *orm_metrics_html(apr_pool_t *pool, const apr_array_header_t *snaps,
                       int whole_page);

/** mod_status's ?auto: "key: value" lines, SessionORM<n><Name> for the
 *  n-th store (from 1). */
char *orm_metrics_auto(apr_pool_t *pool, const apr_array_header_t *snaps);

#endif
