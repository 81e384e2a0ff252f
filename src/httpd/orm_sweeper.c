#include "apr_strings.h"
#include "apr_optional.h"
#include "apr_dbd.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "mod_dbd.h"

#include "orm_log.h"
#include "orm_bgthread.h"
#include "orm_conf.h"
#include "orm_db.h"
#include "orm_gate.h"
#include "orm_shared.h"
#include "orm_status.h"
#include "orm_store.h"
#include "orm_sweeper.h"
#include "orm_watchdog.h"

/* between two batches: long enough for waiting requests to get the table */
#define SWEEP_PAUSE apr_time_from_msec(20)

/** One table in one server's database, and how it is swept. */
typedef struct {
    server_rec *s;
    const orm_store_t *store;
    apr_int64_t interval_ms;        /* SessionORMSweepInterval */
    int batch;                      /* SessionORMSweepBatch */
} sweep_target_t;

/** Shared by all children, guarded by the cross-process lock. */
typedef struct {
    apr_int64_t last_sweep_ms;
    orm_outage_t outage;        /* the failure was logged; the next success
                                 * logs the recovery */
    int table_seen;             /* the table existed at an earlier sweep */
} sweep_slot_t;

typedef struct orm_sweeper_t {
    apr_array_header_t *targets;    /* of sweep_target_t */
    orm_shared_t *shared;           /* a sweep_slot_t per target, and the
                                     * lock of the child that sweeps */
    apr_interval_time_t wake;       /* how often each child looks */
} orm_sweeper_t;

/** This child's thread and how to stop it. */
typedef struct {
    orm_sweeper_t *sweeper;
    apr_pool_t *pool;               /* the thread's own */
    orm_bgthread_t bg;
    /* the sweep's calls, bounded by SessionORMTimeout each */
    const orm_store_t *store;
    orm_deadline_t *mark;
} sweep_worker_t;

/** One sweep of one target: its connection, under the watchdog from its
 *  opening to its close. */
typedef struct {
    ap_dbd_t *dbd;
    orm_conn_t conn;                /* the store over dbd */
    int cut;                        /* calls the watchdog cut */
    int locked;                     /* holds the farm's lock */
    int table_ok;                   /* the table could be read when the
                                     * visit began */
    apr_pool_t *pool;               /* the visit's calls: drivers free their
                                     * statements with it (apr_dbd_odbc),
                                     * so it goes before the connection is
                                     * given back */
} sweep_visit_t;

static orm_server_conf_t *server_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &session_orm_module);
}

/* Per-directory directives in the main server reach every vhost; a server
 * without DBDriver (its own or the main server's) has no database to
 * sweep. */
static apr_array_header_t *list_targets(apr_pool_t *pconf, server_rec *s,
                                        apr_int64_t *shortest_ms)
{
    apr_array_header_t *targets = apr_array_make(pconf, 4,
                                                 sizeof(sweep_target_t));
    int main_configured = server_conf(s)->sessions_configured;
    server_rec *sp;

    *shortest_ms = 0;
    for (sp = s; sp; sp = sp->next) {
        orm_server_conf_t *sconf = server_conf(sp);
        apr_int64_t interval_ms = orm_server_sweep_seconds(sconf) * 1000;
        sweep_target_t *target;

        if (!(sconf->sessions_configured || main_configured)
            || sconf->dbd_driver == NULL || interval_ms == 0) {
            continue;
        }
        target = apr_array_push(targets);
        target->s = sp;
        target->store = sconf->store;
        target->interval_ms = interval_ms;
        target->batch = orm_server_sweep_batch(sconf);
        if (*shortest_ms == 0 || interval_ms < *shortest_ms) {
            *shortest_ms = interval_ms;
        }
    }
    return targets;
}

apr_status_t orm_sweeper_post_config(apr_pool_t *pconf, server_rec *s)
{
    orm_sweeper_t *sweeper = apr_pcalloc(pconf, sizeof(*sweeper));
    orm_shared_part_e failed;
    apr_int64_t shortest_ms;
    apr_status_t rv;

    sweeper->targets = list_targets(pconf, s, &shortest_ms);
    server_conf(s)->sweeper = sweeper;
    if (sweeper->targets->nelts == 0) {
        return APR_SUCCESS;
    }
    /* look four times per interval, so a sweep is late by a quarter at most */
    sweeper->wake = apr_time_from_msec(shortest_ms) / 4;
    if (sweeper->wake < apr_time_from_sec(1)) {
        sweeper->wake = apr_time_from_sec(1);
    }

    rv = orm_shared_create(pconf, s, ORM_SWEEP_MUTEX_TYPE,
                           sizeof(sweep_slot_t), sweeper->targets->nelts,
                           &sweeper->shared, &failed);
    if (rv != APR_SUCCESS && failed == ORM_SHARED_LOCK) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, ORM_LOGNO(0003)
                     "cannot create the sweep's cross-process lock");
        return rv;
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, ORM_LOGNO(0004)
                     "cannot create the sweep's shared memory");
        return rv;
    }
    return APR_SUCCESS;
}

static int stop_requested(void *baton)
{
    sweep_worker_t *worker = baton;

    return orm_bgthread_stopping(&worker->bg);
}

static int keep_sweeping(void *baton, apr_int64_t removed)
{
    sweep_worker_t *worker = baton;
    (void)removed;

    /* each batch gets the whole bound */
    orm_watchdog_extend(worker->store, worker->mark);
    return !stop_requested(worker);
}

/* The sweep's outage: one line when it starts, whichever child sees it,
 * not one per interval; one when a sweep works again. */
static void note_outage(const sweep_target_t *target, sweep_slot_t *slot,
                        apr_status_t rv, const char *what, const char *detail)
{
    orm_status_sweep_failed(target->store);
    if (!orm_outage_failure(&slot->outage, orm_now_ms())) {
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_ERR, rv, target->s, ORM_LOGNO(0302)
                 "expiry sweep of session table '%s': %s%s%s; retrying every "
                 "%" APR_INT64_T_FMT "s (logged once until it recovers)",
                 target->store->table, what, detail ? ": " : "",
                 detail ? detail : "", target->interval_ms / 1000);
}

static void note_recovery(const sweep_target_t *target, sweep_slot_t *slot)
{
    apr_uint32_t failed_ms;

    if (orm_outage_success(&slot->outage, orm_now_ms(), 0, &failed_ms)) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, target->s, ORM_LOGNO(0304)
                     "expiry sweep of session table '%s' works again",
                     target->store->table);
    }
}

/* A connection of the target's server from mod_dbd, as the store; false,
 * logged, when there is none. */
static int open_visit(sweep_worker_t *worker, const sweep_target_t *target,
                      sweep_slot_t *slot, apr_pool_t *pool,
                      sweep_visit_t *visit, int last)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open =
        APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    const orm_store_t *store = target->store;

    memset(visit, 0, sizeof(*visit));
    worker->store = store;
    worker->mark = orm_watchdog_arm(store, NULL);
    visit->dbd = dbd_open ? dbd_open(pool, target->s) : NULL;
    visit->cut = orm_watchdog_disarm(store, worker->mark);
    worker->mark = visit->dbd ? orm_watchdog_arm(store, visit->dbd) : NULL;
    if (visit->dbd == NULL) {
        if (last) {
            note_outage(target, slot, APR_EGENERAL, "no database connection",
                        "mod_dbd's messages say why");
        }
        return 0;
    }
    apr_pool_create(&visit->pool, pool);
    orm_store_attach(store, visit->dbd, target->batch, visit->pool,
                     &visit->conn);
    return 1;
}

static void close_visit(sweep_worker_t *worker, const sweep_target_t *target,
                        sweep_visit_t *visit)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close =
        APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    const orm_store_t *store = target->store;

    if (visit->locked) {
        orm_store_unlock_sweep(&visit->conn, visit->pool);
    }
    visit->cut += orm_watchdog_disarm(store, worker->mark);
    worker->mark = NULL;
    if (visit->cut) {
        orm_status_count(store, ORM_METRIC_TIMEOUTS);
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, target->s, ORM_LOGNO(0308)
                     "expiry sweep of session table '%s': a database call "
                     "still waiting after %" APR_INT64_T_FMT " s was cut",
                     store->table, (apr_int64_t)apr_time_sec(store->timeout));
    }
    apr_pool_destroy(visit->pool);
    dbd_close(target->s, visit->dbd);
}

/* Two vhosts reaching one database and table sweep it once a round: true
 * for the first visit of this round to it. A database that cannot tell
 * its name is told apart by its target. */
static int first_this_round(const sweep_target_t *target,
                            sweep_visit_t *visit, apr_hash_t *swept,
                            apr_pool_t *pool)
{
    const char *identity = NULL;

    if (orm_store_identity(&visit->conn, pool, &identity) != APR_SUCCESS
        || identity == NULL) {
        identity = apr_psprintf(pool, "%pp", (void *)target);
    }
    identity = apr_pstrcat(pool, identity, "|", target->store->table, NULL);
    if (apr_hash_get(swept, identity, APR_HASH_KEY_STRING)) {
        return 0;
    }
    /* the round's, not the visit's */
    identity = apr_pstrdup(apr_hash_pool_get(swept), identity);
    apr_hash_set(swept, identity, APR_HASH_KEY_STRING, "");
    return 1;
}

/* Whether this host sweeps the target now: the table is there, no other
 * vhost swept it this round, and it has the farm's lock (PostgreSQL) and
 * turn. Why not is logged. */
static int sweep_is_ours(const sweep_target_t *target, sweep_slot_t *slot,
                         sweep_visit_t *visit, apr_hash_t *swept,
                         apr_pool_t *pool)
{
    const char *table = target->store->table;
    const char *errmsg = NULL;
    int claimed = 0;

    if (!first_this_round(target, visit, swept, pool)) {
        return 0;
    }
    if (!visit->table_ok) {
        if (slot->table_seen) {
            note_outage(target, slot, APR_EGENERAL, "the table cannot be "
                        "read", NULL);
        }
        return 0;               /* else no session was ever stored here */
    }
    slot->table_seen = 1;
    if (orm_store_lock_sweep(&visit->conn, pool, &visit->locked)
        != APR_SUCCESS) {
        orm_status_swept_elsewhere(target->store);
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, target->s, ORM_LOGNO(0303)
                     "sweep of '%s' skipped: another host holds its lock",
                     table);
        return 0;
    }
    /* one sweep per interval for the whole farm: the last sweep's time
     * lives in the table, and the host that moves it on sweeps */
    if (orm_store_claim_sweep(&visit->conn, pool, orm_now_ms(),
                              target->interval_ms, &claimed, &errmsg)
        != APR_SUCCESS) {
        note_outage(target, slot, APR_EGENERAL, "taking the farm's turn to "
                    "sweep failed", errmsg);
        return 0;
    }
    if (!claimed) {
        orm_status_swept_elsewhere(target->store);
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, target->s, ORM_LOGNO(0307)
                     "sweep of '%s' skipped: another host swept it less "
                     "than %" APR_INT64_T_FMT " s ago", table,
                     target->interval_ms / 1000);
    }
    return claimed;
}

static void purge_target(sweep_worker_t *worker, const sweep_target_t *target,
                         sweep_slot_t *slot, sweep_visit_t *visit,
                         apr_pool_t *pool)
{
    orm_purge_plan_t plan;
    orm_purge_result_t result;
    apr_time_t started = apr_time_now();
    apr_status_t rv;

    plan.pause = SWEEP_PAUSE;
    plan.progress = keep_sweeping;
    plan.stopping = stop_requested;
    plan.baton = worker;
    rv = orm_store_purge(&visit->conn, pool, apr_time_as_msec(started),
                         &plan, &result);
    if (rv != APR_SUCCESS) {
        note_outage(target, slot, rv, "deleting expired rows failed",
                    result.errmsg);
        return;
    }
    note_recovery(target, slot);
    ap_log_error(APLOG_MARK, result.removed ? APLOG_INFO : APLOG_DEBUG, 0,
                 target->s, ORM_LOGNO(0301) "swept %" APR_INT64_T_FMT
                 " expired sessions from '%s' in %" APR_INT64_T_FMT " ms",
                 result.removed, target->store->table,
                 (apr_int64_t)apr_time_as_msec(apr_time_now() - started));
    /* the count of what is left gets the whole bound too */
    orm_watchdog_extend(worker->store, worker->mark);
    orm_status_swept(target->s, target->store, &visit->conn, pool,
                     apr_time_as_msec(started), result.removed);
}

/* A pooled connection a restart of the database killed is seen dead only
 * by its first use. The pgsql driver then reconnects it in place; others
 * (odbc) cannot: mod_dbd drops it at the next open (which then has none to
 * give) and opens a new one at the one after. So a visit finding its
 * connection dead is made again, a few times: more connections of the pool
 * may have died with it. */
#define VISIT_ATTEMPTS 4

/* A visit on a live connection (one that can read the table, or, when it
 * cannot, that the driver still holds alive), visit->table_ok saying
 * which; false, logged, when there is none. mod_dbd having none to give
 * twice in a row is a database that is down, not a dead connection
 * dropped: no more tries then. */
static int open_live_visit(sweep_worker_t *worker,
                           const sweep_target_t *target, sweep_slot_t *slot,
                           apr_pool_t *pool, sweep_visit_t *visit)
{
    int attempt, none_given = 0;

    for (attempt = 1; attempt <= VISIT_ATTEMPTS; attempt++) {
        int last = attempt == VISIT_ATTEMPTS || none_given;

        if (!open_visit(worker, target, slot, pool, visit, last)) {
            if (last) {
                return 0;
            }
            none_given = 1;
            continue;
        }
        none_given = 0;
        visit->table_ok = orm_store_table_exists(&visit->conn, visit->pool);
        if (attempt == VISIT_ATTEMPTS || visit->table_ok
            || orm_store_attached_alive(&visit->conn, visit->pool)) {
            return 1;
        }
        close_visit(worker, target, visit);
    }
    return 0;
}

static void sweep_target(sweep_worker_t *worker, const sweep_target_t *target,
                         sweep_slot_t *slot, apr_hash_t *swept,
                         apr_pool_t *pool)
{
    sweep_visit_t visit;

    if (!open_live_visit(worker, target, slot, pool, &visit)) {
        return;
    }
    if (sweep_is_ours(target, slot, &visit, swept, visit.pool)) {
        purge_target(worker, target, slot, &visit, visit.pool);
    }
    close_visit(worker, target, &visit);
}

/* One look: if no other child is sweeping, sweep every table whose interval
 * has passed since anyone last swept it. */
static void sweep_round(sweep_worker_t *worker, apr_pool_t *pool)
{
    const orm_sweeper_t *sweeper = worker->sweeper;
    sweep_slot_t *slots = sweeper->shared->slots;
    apr_hash_t *swept = apr_hash_make(pool);
    int i;

    if (apr_global_mutex_trylock(sweeper->shared->mutex) != APR_SUCCESS) {
        return;
    }
    for (i = 0; i < sweeper->targets->nelts && !stop_requested(worker); i++) {
        const sweep_target_t *target =
            &APR_ARRAY_IDX(sweeper->targets, i, sweep_target_t);
        apr_int64_t now = orm_now_ms();

        if (now - slots[i].last_sweep_ms < target->interval_ms) {
            continue;
        }
        slots[i].last_sweep_ms = now;
        sweep_target(worker, target, &slots[i], swept, pool);
    }
    apr_global_mutex_unlock(sweeper->shared->mutex);
}

static void *APR_THREAD_FUNC sweep_thread(apr_thread_t *thread, void *data)
{
    sweep_worker_t *worker = data;
    apr_pool_t *round_pool;

    apr_pool_create(&round_pool, worker->pool);
    while (!orm_bgthread_sleep(&worker->bg, worker->sweeper->wake)) {
        sweep_round(worker, round_pool);
        apr_pool_clear(round_pool);
    }
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

void orm_sweeper_child_init(apr_pool_t *pchild, server_rec *s)
{
    orm_sweeper_t *sweeper = server_conf(s)->sweeper;
    sweep_worker_t *worker;
    apr_status_t rv;

    if (sweeper == NULL || sweeper->targets->nelts == 0) {
        return;
    }
    worker = apr_pcalloc(pchild, sizeof(*worker));
    worker->sweeper = sweeper;
    rv = orm_shared_attach(sweeper->shared, pchild);
    if (rv == APR_SUCCESS) {
        rv = apr_pool_create(&worker->pool, pchild);
    }
    if (rv == APR_SUCCESS) {
        rv = orm_bgthread_init(&worker->bg, pchild);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, ORM_LOGNO(0305)
                     "cannot set up the expiry sweep in this child; expired "
                     "sessions are still never served");
        return;
    }
    rv = orm_bgthread_start(&worker->bg, worker->pool, sweep_thread, worker);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, ORM_LOGNO(0306)
                     "cannot start the expiry sweep thread in this child; "
                     "expired sessions are still never served");
        return;
    }
    /* before the child's other clean-ups (mod_dbd's pool among them): the
     * thread finishes its batch, hands its connection back and ends */
    apr_pool_pre_cleanup_register(pchild, &worker->bg, orm_bgthread_stop);
}
