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
#include "orm_gate.h"
#include "orm_shared.h"
#include "orm_store.h"
#include "orm_purge.h"
#include "orm_sweeper.h"
#include "orm_watchdog.h"

/* between two batches: long enough for waiting requests to get the table */
#define SWEEP_PAUSE apr_time_from_msec(20)

/** One table in one server's database. */
typedef struct {
    server_rec *s;
    const orm_store_t *store;
} sweep_target_t;

/** Shared by all children, guarded by the cross-process lock. */
typedef struct {
    apr_int64_t last_sweep_ms;
    orm_outage_t outage;        /* the failure was logged; the next success
                                 * logs the recovery */
    int table_seen;             /* the table existed at an earlier sweep */
} sweep_slot_t;

typedef struct {
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

static orm_server_conf_t *server_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &session_orm_module);
}

apr_status_t orm_sweeper_post_config(apr_pool_t *pconf, server_rec *s)
{
    orm_sweeper_t *sweeper = apr_pcalloc(pconf, sizeof(*sweeper));
    int main_configured = server_conf(s)->sessions_configured;
    orm_shared_part_e failed;
    apr_int64_t shortest = 0;
    apr_status_t rv;
    server_rec *sp;

    sweeper->targets = apr_array_make(pconf, 4, sizeof(sweep_target_t));
    for (sp = s; sp; sp = sp->next) {
        orm_server_conf_t *sconf = server_conf(sp);
        const orm_store_t *store = sconf->store;
        sweep_target_t *target;

        /* per-directory directives in the main server reach every vhost;
         * a server without DBDriver (its own or the main server's) has no
         * database to sweep */
        if (!(sconf->sessions_configured || main_configured)
            || sconf->dbd_configured != 1 || store->sweep_seconds == 0) {
            continue;
        }
        target = apr_array_push(sweeper->targets);
        target->s = sp;
        target->store = store;
        if (shortest == 0 || store->sweep_seconds < shortest) {
            shortest = store->sweep_seconds;
        }
    }
    server_conf(s)->sweeper = sweeper;
    if (sweeper->targets->nelts == 0) {
        return APR_SUCCESS;
    }
    /* look four times per interval, so a sweep is late by a quarter at most */
    sweeper->wake = apr_time_from_sec(shortest) / 4;
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

static int stop_requested(sweep_worker_t *worker)
{
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

/* One sweep per interval for the whole farm: the last sweep's time lives in
 * the table, and the host that moves it on sweeps. *errmsg set: failed. */
static int claim_sweep(const sweep_target_t *target, ap_dbd_t *dbd,
                       const orm_maintenance_sql_t *sql, apr_pool_t *pool,
                       const char **errmsg)
{
    const orm_store_t *store = target->store;
    apr_dbd_prepared_t *claim = NULL, *mark = NULL;
    int claimed = 0, attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        *errmsg = NULL;
        if (orm_store_prepare_once(dbd, store->claim_label, sql->sweep_claim,
                                   &claim, errmsg) == APR_SUCCESS
            && orm_store_prepare_once(dbd, store->mark_label, sql->sweep_mark,
                                      &mark, errmsg) == APR_SUCCESS
            && orm_purge_claim(pool, dbd->driver, dbd->handle, claim, mark,
                               apr_time_as_msec(apr_time_now()),
                               store->sweep_seconds * 1000, &claimed, errmsg)
               == APR_SUCCESS) {
            break;
        }
        /* prepared anew, as the sweep's own statement (a schema change, a
         * reconnected connection) */
        *errmsg = apr_pstrdup(pool, *errmsg);
        apr_hash_set(dbd->prepared, store->claim_label, APR_HASH_KEY_STRING,
                     NULL);
        apr_hash_set(dbd->prepared, store->mark_label, APR_HASH_KEY_STRING,
                     NULL);
    }
    if (*errmsg) {
        return 0;
    }
    if (!claimed) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, target->s, ORM_LOGNO(0307)
                     "sweep of '%s' skipped: another host swept it less "
                     "than %" APR_INT64_T_FMT " s ago", store->table,
                     store->sweep_seconds);
    }
    return claimed;
}

/* The sweep's outage: one line when it starts, whichever child sees it,
 * not one per interval; one when a sweep works again. */
static void note_outage(const sweep_target_t *target, sweep_slot_t *slot,
                        apr_status_t rv, const char *what, const char *detail)
{
    if (!orm_outage_failure(&slot->outage,
                            apr_time_as_msec(apr_time_now()))) {
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_ERR, rv, target->s, ORM_LOGNO(0302)
                 "expiry sweep of session table '%s': %s%s%s; retrying every "
                 "%" APR_INT64_T_FMT "s (logged once until it recovers)",
                 target->store->table, what, detail ? ": " : "",
                 detail ? detail : "", target->store->sweep_seconds);
}

static void note_recovery(const sweep_target_t *target, sweep_slot_t *slot)
{
    apr_uint32_t failed_ms;

    if (orm_outage_success(&slot->outage, apr_time_as_msec(apr_time_now()),
                           0, &failed_ms)) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, target->s, ORM_LOGNO(0304)
                     "expiry sweep of session table '%s' works again",
                     target->store->table);
    }
}

/* A single value from a one-row query, or NULL. With no argument the
 * statement runs unprepared: SQLite keeps every prepared statement until
 * the connection closes, and this one runs once per sweep. The argument is
 * a number of ours, for PostgreSQL's advisory lock. */
static const char *select_value(apr_pool_t *pool, const ap_dbd_t *dbd,
                                const char *sql, const char *arg)
{
    apr_dbd_prepared_t *stmt = NULL;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *value = NULL;
    int err;

    if (arg == NULL) {
        err = apr_dbd_select(dbd->driver, pool, dbd->handle, &res, sql, 1);
    }
    else {
        err = apr_dbd_prepare(dbd->driver, pool, dbd->handle, sql, NULL,
                              &stmt)
              || apr_dbd_pvselect(dbd->driver, pool, dbd->handle, &res, stmt,
                                  1, arg);
    }
    if (err) {
        return NULL;
    }
    /* random access: rows are numbered from 1 */
    if (apr_dbd_get_row(dbd->driver, pool, res, &row, 1) == 0) {
        value = apr_pstrdup(pool, apr_dbd_get_entry(dbd->driver, row, 0));
    }
    return value;
}

static void sweep_target(sweep_worker_t *worker, const sweep_target_t *target,
                         sweep_slot_t *slot, apr_hash_t *swept,
                         apr_pool_t *pool)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open =
        APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close =
        APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    const orm_store_t *store = target->store;
    const orm_maintenance_sql_t *sql;
    const char *identity, *errmsg = NULL, *lock_key = NULL;
    orm_purge_t sweep;
    apr_int64_t removed = 0;
    apr_time_t started;
    apr_status_t rv;
    ap_dbd_t *dbd;
    int attempt, cut, table_ok;

    worker->store = store;
    worker->mark = orm_watchdog_arm(store, NULL);
    dbd = dbd_open ? dbd_open(pool, target->s) : NULL;
    cut = orm_watchdog_disarm(store, worker->mark);
    worker->mark = dbd ? orm_watchdog_arm(store, dbd) : NULL;
    if (dbd == NULL) {
        note_outage(target, slot, APR_EGENERAL, "no database connection",
                    "mod_dbd's messages say why");
        return;
    }
    sql = store->admin[orm_dialect_for_driver(apr_dbd_name(dbd->driver))];

    /* A connection left idle while the database restarted is seen dead
     * only by its first statement (mod_dbd's check and libpq see it alive
     * until then): the driver's check then reconnects it, and the table is
     * looked for again before a failure is reported. */
    table_ok = orm_store_table_exists(pool, dbd, store);
    if (!table_ok && apr_dbd_check_conn(dbd->driver, pool, dbd->handle)
                     == APR_SUCCESS) {
        table_ok = orm_store_table_exists(pool, dbd, store);
    }

    /* two vhosts reaching one database and table sweep it once */
    identity = sql->identity ? select_value(pool, dbd, sql->identity, NULL)
                             : apr_psprintf(pool, "%pp", (void *)target);
    identity = apr_pstrcat(pool, apr_dbd_name(dbd->driver), ":", identity,
                           "|", store->table, NULL);
    if (apr_hash_get(swept, identity, APR_HASH_KEY_STRING)) {
        goto leave;
    }
    apr_hash_set(swept, identity, APR_HASH_KEY_STRING, "");

    if (!table_ok) {
        if (slot->table_seen) {
            note_outage(target, slot, APR_EGENERAL, "the table cannot be "
                        "read", NULL);
        }
        goto leave;             /* else no session was ever stored here */
    }
    slot->table_seen = 1;
    /* hosts sharing a PostgreSQL database take turns */
    if (sql->try_lock) {
        const char *got;

        lock_key = apr_psprintf(pool, "%" APR_INT64_T_FMT,
                                orm_purge_lock_key(store->table));
        got = select_value(pool, dbd, sql->try_lock, lock_key);
        if (got == NULL || strcmp(got, "1")) {
            lock_key = NULL;
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, target->s,
                         ORM_LOGNO(0303) "sweep of '%s' skipped: another "
                         "host holds its lock", store->table);
            goto leave;
        }
    }
    if (!claim_sweep(target, dbd, sql, pool, &errmsg)) {
        if (errmsg) {
            note_outage(target, slot, APR_EGENERAL, "taking the farm's turn "
                        "to sweep failed", errmsg);
        }
        goto leave;
    }

    sweep.driver = dbd->driver;
    sweep.handle = dbd->handle;
    sweep.batch = store->sweep_batch;
    sweep.pause = SWEEP_PAUSE;
    sweep.progress = keep_sweeping;
    sweep.baton = worker;
    started = apr_time_now();
    for (attempt = 0; attempt < 2; attempt++) {
        apr_int64_t batch_removed = 0;

        rv = orm_store_prepare_once(dbd, store->sweep_label, sql->sweep,
                                    &sweep.stmt, &errmsg);
        if (rv == APR_SUCCESS) {
            rv = orm_purge_run(pool, &sweep, apr_time_as_msec(started),
                               &batch_removed, &errmsg);
            removed += batch_removed;
        }
        if (rv == APR_SUCCESS || stop_requested(worker)) {
            break;
        }
        /* once more with the statement prepared anew: SQLite's driver never
         * re-prepares one after a schema change, and a reconnected
         * PostgreSQL connection has lost it. Released first: on a
         * connection that stayed open PostgreSQL still holds its name. */
        errmsg = apr_pstrdup(pool, errmsg);
        orm_store_release(pool, dbd, store->sweep_label);
    }
    if (rv != APR_SUCCESS) {
        note_outage(target, slot, rv, "deleting expired rows failed", errmsg);
        goto leave;
    }
    note_recovery(target, slot);
    ap_log_error(APLOG_MARK, removed ? APLOG_INFO : APLOG_DEBUG, 0, target->s,
                 ORM_LOGNO(0301) "swept %" APR_INT64_T_FMT " expired sessions "
                 "from '%s' in %" APR_INT64_T_FMT " ms", removed, store->table,
                 (apr_int64_t)apr_time_as_msec(apr_time_now() - started));
leave:
    if (lock_key) {
        select_value(pool, dbd, sql->unlock, lock_key);
    }
    cut += orm_watchdog_disarm(store, worker->mark);
    worker->mark = NULL;
    if (cut) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, target->s, ORM_LOGNO(0308)
                     "expiry sweep of session table '%s': a database call "
                     "still waiting after %" APR_INT64_T_FMT " s was cut",
                     store->table, (apr_int64_t)apr_time_sec(store->timeout));
    }
    dbd_close(target->s, dbd);
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
        apr_int64_t now = apr_time_as_msec(apr_time_now());

        if (now - slots[i].last_sweep_ms
            < target->store->sweep_seconds * 1000) {
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
