#include <stdarg.h>
#include <string.h>

#include "apr_strings.h"
#include "apr_optional.h"
#include "apr_atomic.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "orm_db.h"
#include "orm_inflight.h"
#include "orm_log.h"
#include "orm_prepared.h"
#include "orm_status.h"
#include "orm_store.h"
#include "orm_watchdog.h"

/* See acquire(): mod_dbd's pool holds at most DBDMax connections per
 * process, 10 by default. */
#define ACQUIRE_RETRIES_MAX 10

/** A connection acquired for a request, with our statements prepared: what
 *  an orm_conn_t of the session operations holds. */
typedef struct {
    request_rec *r;
    const orm_store_t *store;
    ap_dbd_t *dbd;
    orm_dialect_e database;                 /* what the database is */
    const orm_sql_t *sql;                   /* what we say to it */
    orm_text_size_e text_size;              /* where the data's stored
                                             * size comes from */
    apr_dbd_prepared_t *stmt[ORM_STMT_COUNT];
    apr_dbd_transaction_t *txn;             /* open transaction, or NULL */
    int writer_held;                        /* holds the writers' lock */
    int timed_out;                          /* a call was cut: the
                                             * connection is dead */
    int fault;                              /* what the last failure was */
} dbd_conn_t;

static const char *const stmt_names[ORM_STMT_COUNT] = {
    "load", "upsert", "update", "insert", "remove", "update_if", "lock",
    "lock_touch"
};

static const char *stmt_text(const dbd_conn_t *conn, orm_stmt_e which)
{
    const orm_sql_t *sql = conn->sql;

    switch (which) {
    case ORM_STMT_LOAD:
        return conn->text_size == ORM_TEXT_SIZE_ASKED ? sql->load
                                                      : sql->load_no_size;
    case ORM_STMT_UPSERT:    return sql->upsert;
    case ORM_STMT_UPDATE:    return sql->update;
    case ORM_STMT_INSERT:    return sql->insert;
    case ORM_STMT_REMOVE:    return sql->remove;
    case ORM_STMT_UPDATE_IF: return sql->update_if;
    case ORM_STMT_LOCK:
        return conn->text_size == ORM_TEXT_SIZE_ASKED ? sql->lock
                                                      : sql->lock_no_size;
    case ORM_STMT_LOCK_TOUCH: return sql->lock_touch;
    default:                 return NULL;
    }
}

orm_store_t *orm_store_create(apr_pool_t *pool, const orm_server_conf_t *conf,
                              int seq)
{
    orm_store_t *store = apr_pcalloc(pool, sizeof(*store));
    int i;

    store->table = orm_schema_table(&conf->schema);
    store->schema = &conf->schema;
    store->create_schema = orm_server_create_schema(conf);
    store->dbd_driver = conf->dbd_driver;
    store->dbd_params = conf->dbd_params;
    store->retry_seconds = orm_server_retry_seconds(conf);
    store->timeout = apr_time_from_sec(orm_server_timeout_seconds(conf));
    /* the directive let only a dialect's name or auto through */
    if (!orm_dialect_choice(orm_server_dialect(conf), &store->dialect)) {
        store->dialect = -1;
    }
    for (i = 0; i < ORM_DIALECT_COUNT; i++) {
        store->sql[i] = orm_sql_build(pool, &conf->schema, i);
    }
    /* labels double as PostgreSQL statement names: plain identifiers */
    store->conn_key = apr_psprintf(pool, "session_orm_%d", seq);
    for (i = 0; i < ORM_STMT_COUNT; i++) {
        store->labels[i] = apr_pstrcat(pool, store->conn_key, "_",
                                       stmt_names[i], NULL);
    }
    return store;
}

apr_status_t orm_store_share(apr_pool_t *pconf, server_rec *s,
                             orm_store_t **stores, int count)
{
    orm_shared_t *shared;
    orm_shared_part_e failed;
    orm_write_queue_t *queue = NULL;
    apr_status_t rv;
    int i;

    if (count == 0) {
        return APR_SUCCESS;
    }
    rv = orm_shared_create(pconf, s, ORM_WRITER_MUTEX_TYPE,
                           sizeof(orm_store_slot_t), count, &shared,
                           &failed);
    if (rv != APR_SUCCESS && failed == ORM_SHARED_LOCK) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, ORM_LOGNO(0007)
                     "cannot create the lock SQLite writers queue on (see "
                     "the Mutex directive, type %s)", ORM_WRITER_MUTEX_TYPE);
        return rv;
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, ORM_LOGNO(0005)
                     "cannot create the shared memory for the database "
                     "state");
        return rv;
    }
    /* the writes of one session take turns on this host instead of
     * racing in the database (orm_write_queue); the module works without */
    if ((rv = orm_write_queue_create(pconf, &queue)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, ORM_LOGNO(0123)
                     "cannot make the queue for writes of one session: they "
                     "meet in the database instead, where all but one are "
                     "merged again");
    }
    for (i = 0; i < count; i++) {
        stores[i]->shared = &((orm_store_slot_t *)shared->slots)[i];
        stores[i]->writers = shared;
        stores[i]->write_queue = queue;
    }
    return APR_SUCCESS;
}

/* Every store of the child gets its record of requests in flight (NULL
 * outside prefork: nothing to hand). */
static void hand_inflight_to_stores(orm_inflight_t *inflight, server_rec *s)
{
    server_rec *sp;

    for (sp = s; inflight && sp; sp = sp->next) {
        orm_server_conf_t *sconf = ap_get_module_config(sp->module_config,
                                                        &session_orm_module);
        if (sconf->store) {
            sconf->store->inflight = inflight;
        }
    }
}

void orm_store_child_init(apr_pool_t *pchild, server_rec *s)
{
    orm_server_conf_t *sconf = ap_get_module_config(s->module_config,
                                                    &session_orm_module);
    const orm_store_t *store = sconf->store;
    apr_status_t rv;

    hand_inflight_to_stores(orm_inflight_create(pchild), s);
    if (store == NULL || store->writers == NULL) {
        return;
    }
    rv = orm_shared_attach(store->writers, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, ORM_LOGNO(0008)
                     "cannot attach to the lock SQLite writers queue on: "
                     "this child's writes rely on SQLite's busy wait");
    }
}

/* What the database behind the connection asks of us. */
static const orm_dialect_traits_t *traits(const dbd_conn_t *conn)
{
    return orm_dialect_traits(conn->database);
}

/* A database with a single writer (SQLite) lets one connection write at a
 * time. Left to themselves, writers in different children meet in
 * SQLite's busy wait, which polls (1, 2, 5, 10 ms ...) while holding
 * apr_dbd's per-process lock, and past busy_timeout in the driver's retry,
 * which sleeps 100 ms: under load a few percent of writes took over
 * 100 ms. Queued on one cross-process lock, taken around every write to
 * such a database, they never meet, and each is woken as soon as the
 * previous one is done. Readers (WAL) do not take it. */

/* Not a busy lock but a broken one, which the admin should hear of: a
 * warning at most every ORM_LOG_GATE_SECONDS per server, with the count of
 * the others, since it may fail every write from now on. */
static void writer_lock_failed(dbd_conn_t *conn, apr_status_t rv)
{
    apr_uint32_t suppressed;
    int level = orm_store_log_due(conn->store, ORM_GATE_WRITER_LOCK,
                                  &suppressed)
                ? APLOG_WARNING : APLOG_DEBUG;

    ap_log_rerror(APLOG_MARK, level, rv, conn->r, ORM_LOGNO(0132)
                  "session table '%s': cannot take the SQLite writers' lock "
                  "(%s); writing without it, bounded by SQLite's busy wait "
                  "(%u more since the last such warning, logged at most "
                  "every %d s)", conn->store->table,
                  apr_global_mutex_name(conn->store->writers->mutex),
                  (unsigned)suppressed, ORM_LOG_GATE_SECONDS);
}

static void writer_enter(dbd_conn_t *conn)
{
    const orm_shared_t *writers = conn->store->writers;
    apr_status_t rv;

    if (!traits(conn)->single_writer || writers == NULL
        || writers->mutex == NULL) {
        return;
    }
    if (writers->timed_wait_polls) {
        /* a timed wait would sleep 10 ms at a time, most of SQLite's p99
         * under mixed load: wait in the kernel, woken when the lock is
         * let go. The holder keeps it for its statements only, each cut
         * by the watchdog at SessionORMTimeout. */
        rv = apr_global_mutex_lock(writers->mutex);
    }
    else {
        /* a queue longer than SessionORMTimeout (a writer stuck): write
         * unqueued, bounded by SQLite's busy wait */
        rv = apr_global_mutex_timedlock(writers->mutex,
                                        conn->store->timeout);
        if (APR_STATUS_IS_ENOTIMPL(rv)) {
            rv = apr_global_mutex_lock(writers->mutex);
        }
    }
    if (rv == APR_SUCCESS) {
        conn->writer_held = 1;
    }
    else if (APR_STATUS_IS_TIMEUP(rv)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, conn->r, ORM_LOGNO(0131)
                      "session table '%s': the SQLite writers' lock was not "
                      "free within SessionORMTimeout; writing without it",
                      conn->store->table);
    }
    else {
        writer_lock_failed(conn, rv);
    }
}

static void writer_leave(dbd_conn_t *conn)
{
    if (conn->writer_held) {
        conn->writer_held = 0;
        apr_global_mutex_unlock(conn->store->writers->mutex);
    }
}

static const char *dbd_error_text(const ap_dbd_t *dbd, int err)
{
    return orm_db_error(dbd->driver, dbd->handle, err);
}

/* What a failure was, for the log: an outage of the database, or a
 * statement it refused on a connection that works (this statement, this
 * value), which no other request need be spared. */
enum {
    FAULT_NONE = 0,             /* not looked at yet */
    FAULT_OUTAGE,
    FAULT_DATA,
    FAULT_REPAIRED,             /* reconnected or table recreated: retry */
    FAULT_STALE                 /* a data error, or statements a schema
                                 * change let go stale (SQLite): prepared
                                 * anew, retry once */
};

/* The level for an outage's failure, logged under message ID id: error
 * for the first since the database last answered (whichever child sees
 * it), debug for the rest. */
static int failure_level(const orm_store_t *store, unsigned id)
{
    orm_status_error(store, id);
    if (store->shared == NULL) {
        return APLOG_ERR;
    }
    return orm_outage_failure(&store->shared->outage, orm_now_ms())
           ? APLOG_ERR : APLOG_DEBUG;
}

int orm_store_log_due(const orm_store_t *store, orm_gate_e which,
                      apr_uint32_t *suppressed)
{
    *suppressed = 0;
    if (store->shared == NULL) {
        return 1;
    }
    return orm_log_gate_pass(&store->shared->gates[which],
                             apr_time_sec(apr_time_now()), suppressed);
}

/* A failed statement or connection, logged once per outage. With
 * skip_database the following requests do not try for retry_seconds. */
static void report_failure(request_rec *r, const orm_store_t *store,
                           int skip_database, const char *fmt, ...)
{
    const char *message;
    va_list ap;
    int level;

    va_start(ap, fmt);
    message = apr_pvsprintf(r->pool, fmt, ap);
    va_end(ap);
    if (skip_database && store->shared) {
        apr_atomic_set32(&store->shared->retry_at,
                         (apr_uint32_t)(apr_time_sec(apr_time_now())
                                        + store->retry_seconds));
    }
    level = failure_level(store, 112);
    if (level == APLOG_ERR) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ORM_LOGNO(0112)
                      "session table '%s': %s (further failures are logged at "
                      "debug level until the database answers again)",
                      store->table, message);
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0113)
                      "session table '%s': %s", store->table, message);
    }
}

/* A failure that is not an outage: at most one line per interval for the
 * whole server, with the count of those not logged; each is at debug. */
static void report_data_error(request_rec *r, const orm_store_t *store,
                              const char *message)
{
    apr_uint32_t suppressed;

    orm_status_error(store, 116);
    if (orm_store_log_due(store, ORM_GATE_DATA, &suppressed)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ORM_LOGNO(0116)
                      "session table '%s': %s (the database answers: not an "
                      "outage; %u such failures since the last of these "
                      "lines, which come at most every %d s)",
                      store->table, message, (unsigned)suppressed,
                      ORM_LOG_GATE_SECONDS);
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0117)
                      "session table '%s': %s", store->table, message);
    }
}

/* The database answered. An outage ends once it has also been quiet for a
 * moment: a server going down or coming up answers on some connections and
 * fails on others, and that is one outage, not one per answer. */
static void report_success(request_rec *r, const orm_store_t *store)
{
    orm_store_slot_t *shared = store->shared;
    apr_uint32_t failed_ms;

    if (shared == NULL) {
        return;
    }
    /* an answer opens the retry gate at once: the request that tried the
     * database after the wait closed it for the others */
    if (apr_atomic_read32(&shared->retry_at)) {
        apr_atomic_set32(&shared->retry_at, 0);
    }
    if (orm_outage_on(&shared->outage)
        && orm_outage_success(&shared->outage, orm_now_ms(),
                              ORM_OUTAGE_QUIET_MS, &failed_ms)) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, ORM_LOGNO(0114)
                      "session table '%s' answers again (after %u s of "
                      "failures)", store->table, (unsigned)(failed_ms / 1000));
    }
}

/* Marks a driver call on dbd (NULL: mod_dbd's acquire) for this child's
 * watchdog, which cuts it at SessionORMTimeout. */
static orm_deadline_t *watch(const dbd_conn_t *conn, ap_dbd_t *dbd)
{
    orm_inflight_calls(conn->store->inflight, 1);
    return orm_watchdog_arm(conn->store, dbd);
}

/* After the call. One that was cut leaves a dead connection and says the
 * database hangs: the following requests skip it for SessionORMRetryAfter
 * instead of each waiting the full bound. */
static void unwatch(dbd_conn_t *conn, orm_deadline_t *mark)
{
    orm_inflight_calls(conn->store->inflight, -1);
    if (orm_watchdog_disarm(conn->store, mark) && !conn->timed_out) {
        apr_int64_t seconds = apr_time_sec(conn->store->timeout);

        conn->timed_out = 1;
        orm_status_count(conn->store, ORM_METRIC_TIMEOUTS);
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, conn->r, ORM_LOGNO(0130)
                      "session table '%s': a database call still waiting "
                      "after %" APR_INT64_T_FMT " s was cut", conn->store->table,
                      seconds);
        report_failure(conn->r, conn->store, 1, "the database did not answer "
                       "within %" APR_INT64_T_FMT " s (SessionORMTimeout)",
                       seconds);
    }
}

/* The probe: succeeds exactly when the table can be read (see orm_db.h
 * on random access). */
static int table_exists(apr_pool_t *pool, const ap_dbd_t *dbd,
                        const orm_sql_t *sql, int *err)
{
    const char **values = NULL;

    *err = orm_db_select_row(pool, dbd->driver, dbd->handle, sql->probe, 0,
                             NULL, 0, &values);
    return *err == 0;
}

static apr_status_t ensure_table(dbd_conn_t *conn)
{
    request_rec *r = conn->r;
    const orm_store_t *store = conn->store;
    const ap_dbd_t *dbd = conn->dbd;
    int err, i;

    if (table_exists(r->pool, dbd, conn->sql, &err)) {
        return APR_SUCCESS;
    }
    if (!store->create_schema) {
        /* ap_log_rerror evaluates its level more than once */
        int level = failure_level(store, 102);
        ap_log_rerror(APLOG_MARK, level, 0, r, ORM_LOGNO(0102)
                      "session table '%s' cannot be read (%s) and "
                      "SessionORMCreateSchema is Off: create it with the DDL "
                      "of `session-orm schema` or the README",
                      store->table, dbd_error_text(dbd, err));
        return APR_EGENERAL;
    }
    for (i = 0; i < conn->sql->ddl->nelts; i++) {
        const char *ddl = APR_ARRAY_IDX(conn->sql->ddl, i, const char *);
        int nrows = 0;

        err = apr_dbd_query(dbd->driver, dbd->handle, &nrows, ddl);
        if (err) {
            /* copied before the probe replaces the driver's message */
            const char *why = apr_pstrdup(r->pool, dbd_error_text(dbd, err));
            int probe_err, level;
            /* several children meeting an empty database race to create
             * it; PostgreSQL can fail the losers even with IF NOT EXISTS */
            if (table_exists(r->pool, dbd, conn->sql, &probe_err)) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ORM_LOGNO(0111)
                              "'%s' failed (%s) but table '%s' exists: "
                              "created concurrently", ddl, why,
                              store->table);
                continue;
            }
            level = failure_level(store, 103);
            ap_log_rerror(APLOG_MARK, level, 0, r, ORM_LOGNO(0103)
                          "creating session table '%s' failed: %s (statement: "
                          "%s)", store->table, why, ddl);
            return APR_EGENERAL;
        }
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ORM_LOGNO(0104)
                  "created session table '%s' and its indexes (%s)",
                  store->table, orm_dialect_name(conn->sql->dialect));
    return APR_SUCCESS;
}

/* One statement of the connection's set-up; its failure is no error (see
 * orm_sql_connection_setup). */
static void run_setting(dbd_conn_t *conn, const orm_sql_setting_t *setting)
{
    const ap_dbd_t *dbd = conn->dbd;
    const char **values = NULL;
    int nrows, err;

    /* read in order (odbc), a PRAGMA that sets a value gives no result to
     * fetch: it runs as a query there */
    if (setting->answers_row && !orm_db_sequential(dbd->driver)) {
        err = orm_db_select_row(conn->r->pool, dbd->driver, dbd->handle,
                                setting->sql, 0, NULL, 0, &values);
    }
    else {
        err = apr_dbd_query(dbd->driver, dbd->handle, &nrows, setting->sql);
    }
    if (err) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, conn->r, ORM_LOGNO(0115)
                      "%s failed: %s", setting->sql, dbd_error_text(dbd, err));
    }
}

/* The dialect's set-up of a new connection: SQLite's settings, the
 * server's bound on a statement's time (SessionORMTimeout) elsewhere. */
static void tune_connection(dbd_conn_t *conn)
{
    const apr_array_header_t *setup = orm_sql_connection_setup(
        conn->r->pool, conn->database,
        apr_time_as_msec(conn->store->timeout));
    int i;

    for (i = 0; i < setup->nelts; i++) {
        run_setting(conn, &APR_ARRAY_IDX(setup, i, orm_sql_setting_t));
    }
}

/* A connection's first use by this store: its set-up (tune_connection),
 * and the table made sure of. A table it can read (every connection but
 * the first ones) is looked for once. One it cannot read is looked for
 * again after the set-up, and created if missing.
 *
 * Children meeting an empty SQLite database together would each switch it
 * to WAL and create the table and its indexes, statement by statement: the
 * switch fails with 'database is locked', and a statement prepared before
 * another child's CREATE commits fails with 'database schema has changed'
 * (apr_dbd's driver does not prepare it again). So on a database with a
 * single writer a connection that cannot read the table queues on the
 * writers' lock for its set-up and the table's creation, and finds the
 * table there after the first. One whose request already holds the lock (a
 * write re-creating a dropped table) does not: the lock is not taken
 * twice. */
static apr_status_t set_up_connection(dbd_conn_t *conn)
{
    int err, queued = 0;
    apr_status_t rv;

    if (table_exists(conn->r->pool, conn->dbd, conn->sql, &err)) {
        tune_connection(conn);
        return APR_SUCCESS;
    }
    if (traits(conn)->single_writer && !conn->writer_held) {
        writer_enter(conn);
        queued = conn->writer_held;
    }
    tune_connection(conn);
    rv = ensure_table(conn);
    if (queued) {
        writer_leave(conn);
    }
    return rv;
}

/** A store's statements on one pooled connection, kept in the
 *  connection's pool: every later request finds them with one lookup. */
typedef struct {
    int ready;                  /* 0 until prepared, and after a failure */
    apr_dbd_prepared_t *stmt[ORM_STMT_COUNT];
    char session[32];           /* the server's id of the connection when
                                 * they were prepared; "" when unknown */
} orm_conn_state_t;

static orm_conn_state_t *our_state(const dbd_conn_t *conn)
{
    void *state = NULL;

    apr_pool_userdata_get(&state, conn->store->conn_key, conn->dbd->pool);
    return state;
}

/* The select session_id runs: the database's own, whatever SQL the
 * statements are in. */
static const char *session_id_sql(const dbd_conn_t *conn)
{
    return conn->store->sql[conn->database]->session_id;
}

/* The server's id of the connection's session (orm_sql_t's session_id:
 * never the same for two sessions, a server restart between them or not):
 * it changes when the driver reconnects the handle, which loses every
 * statement prepared on it. NULL when unknown. */
static const char *session_id(dbd_conn_t *conn)
{
    const ap_dbd_t *dbd = conn->dbd;
    const char **values = NULL;

    if (session_id_sql(conn) == NULL
        || orm_db_select_row(conn->r->pool, dbd->driver, dbd->handle,
                             session_id_sql(conn), 0, NULL, 1, &values)
        || values == NULL) {
        return NULL;
    }
    return orm_db_value(values[0]);
}

/* Prepares each of the dialect's statements, or finds it prepared. */
static apr_status_t prepare_statements(dbd_conn_t *conn)
{
    const orm_store_t *store = conn->store;
    apr_status_t rv;
    int i;

    for (i = 0; i < ORM_STMT_COUNT; i++) {
        const char *text = stmt_text(conn, i);
        const char *errmsg = NULL;

        conn->stmt[i] = NULL;
        if (text == NULL) {
            continue;
        }
        rv = orm_prepared_once(conn->dbd, store->labels[i], text,
                               &conn->stmt[i], &errmsg);
        if (rv != APR_SUCCESS) {
            int level = failure_level(store, 105);
            ap_log_rerror(APLOG_MARK, level, rv, conn->r, ORM_LOGNO(0105)
                          "preparing the %s statement for session table "
                          "'%s' failed: %s (statement: %s)", stmt_names[i],
                          store->table, errmsg, text);
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* Files the prepared statements in the connection's state, with the
 * session they were prepared on. */
static void keep_statements(dbd_conn_t *conn, orm_conn_state_t *state,
                            const char *session)
{
    if (state == NULL) {
        state = apr_pcalloc(conn->dbd->pool, sizeof(*state));
        apr_pool_userdata_setn(state, conn->store->conn_key, NULL,
                               conn->dbd->pool);
    }
    memcpy(state->stmt, conn->stmt, sizeof(state->stmt));
    apr_cpystrn(state->session, session ? session : "",
                sizeof(state->session));
    state->ready = 1;
}

/* First use of a connection by this store: tune it, make sure the table
 * exists, prepare the statements. The load label is filed first, so its
 * presence says the table was checked on this connection. */
static apr_status_t prepare_connection(dbd_conn_t *conn)
{
    orm_conn_state_t *state = our_state(conn);
    const char *session;
    apr_status_t rv;

    if (state && state->ready) {
        memcpy(conn->stmt, state->stmt, sizeof(conn->stmt));
        return APR_SUCCESS;
    }
    if (apr_hash_get(conn->dbd->prepared, conn->store->labels[ORM_STMT_LOAD],
                     APR_HASH_KEY_STRING) == NULL) {
        if ((rv = set_up_connection(conn)) != APR_SUCCESS) {
            return rv;
        }
    }
    /* the database's id of the session, asked before the statements are
     * prepared: should the driver reconnect in between, the id differs
     * from the one the statements live on at their first failure, and
     * they are prepared again (asked after, a reconnect in between would
     * pass for a data error on every later use) */
    session = session_id(conn);
    if ((rv = prepare_statements(conn)) != APR_SUCCESS) {
        return rv;
    }
    keep_statements(conn, state, session);
    return APR_SUCCESS;
}

/* Releases every statement of ours on the connection and prepares them
 * again under the same labels: fault when that worked, else an outage. */
static int prepare_again(dbd_conn_t *conn, int fault)
{
    orm_conn_state_t *state = our_state(conn);
    int i;

    if (state) {
        state->ready = 0;
    }
    for (i = 0; i < ORM_STMT_COUNT; i++) {
        conn->stmt[i] = NULL;
        orm_prepared_release(conn->r->pool, conn->dbd,
                             conn->store->labels[i]);
    }
    return prepare_connection(conn) == APR_SUCCESS ? fault : FAULT_OUTAGE;
}

/* A dropped connection that its driver does not reconnect (odbc: a
 * restarted server) is opened anew in place, as the native drivers do it
 * in apr_dbd_check_conn: else each pooled connection a restart killed
 * would fail a request, and mod_dbd would drop it only at its next
 * acquisition, failing another. */
static int reopen_connection(dbd_conn_t *conn)
{
    const char *errmsg = NULL;

    if (orm_db_reconnects(conn->dbd->driver)
        || orm_dbd_reopen(conn->dbd, conn->store->dbd_params, &errmsg)
           != APR_SUCCESS) {
        if (errmsg) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, conn->r,
                          ORM_LOGNO(0121) "session table '%s': connecting "
                          "anew failed: %s", conn->store->table, errmsg);
        }
        return FAULT_OUTAGE;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, conn->r, ORM_LOGNO(0122)
                  "session table '%s': a dropped %s connection was opened "
                  "anew", conn->store->table,
                  orm_db_driver_name(conn->dbd->driver));
    return prepare_again(conn, FAULT_REPAIRED);
}

/* After a failed statement (outside a transaction) or a failed prepare:
 * what was it, and can the statement be tried again? The connection is
 * checked; the driver reconnects a dropped one (restart, failover), which
 * loses the statements prepared on it: they are prepared again. A
 * connection that stayed open keeps them, so they are prepared again only
 * after they were released, and only when the table went away (it is
 * created again, SessionORMCreateSchema allowing). Otherwise the database
 * refused this statement with these values: a data error. */
static int recover_connection(dbd_conn_t *conn)
{
    orm_conn_state_t *state = our_state(conn);
    const char *session;
    apr_status_t rv;
    int err;

    rv = apr_dbd_check_conn(conn->dbd->driver, conn->r->pool,
                            conn->dbd->handle);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_ENOTIMPL(rv)) {
        return reopen_connection(conn);
    }
    if (session_id_sql(conn)) {
        if ((session = session_id(conn)) == NULL) {
            return FAULT_OUTAGE;
        }
        if (state && state->session[0] && strcmp(state->session, session)) {
            /* reconnected: its statements are gone with the old session */
            return prepare_again(conn, FAULT_REPAIRED);
        }
    }
    if (table_exists(conn->r->pool, conn->dbd, conn->sql, &err)) {
        if (!traits(conn)->stale_after_schema_change) {
            return FAULT_DATA;
        }
        /* statements a change of the schema spoiled (SQLite: "database
         * schema has changed") are the driver's alone, nothing on a
         * server: prepared anew, the statement is tried once more */
        return prepare_again(conn, FAULT_STALE);
    }
    return prepare_again(conn, FAULT_REPAIRED);   /* the table is back */
}

/* While the database is known to be down, requests do not make it wait:
 * true to skip it now. The first request after the wait tries it; the
 * others go on skipping it until that one has its answer. */
static int skip_database(const orm_store_t *store)
{
    apr_uint32_t now, until;

    if (store->shared == NULL) {
        return 0;
    }
    now = (apr_uint32_t)apr_time_sec(apr_time_now());
    until = apr_atomic_read32(&store->shared->retry_at);
    if (until > now) {
        return 1;
    }
    return until != 0
           && apr_atomic_cas32(&store->shared->retry_at,
                               now + (apr_uint32_t)store->retry_seconds,
                               until) != until;
}

/* Whether the database takes a new connection now (one of our own,
 * closed at once). */
static int database_reachable(const dbd_conn_t *conn)
{
    const orm_store_t *store = conn->store;
    const apr_dbd_driver_t *driver = NULL;
    apr_dbd_t *handle = NULL;
    const char *error = NULL;

    if (store->dbd_driver == NULL || store->dbd_params == NULL
        || apr_dbd_get_driver(conn->r->pool, store->dbd_driver, &driver)
           != APR_SUCCESS
        || apr_dbd_open_ex(driver, conn->r->pool, store->dbd_params, &handle,
                           &error) != APR_SUCCESS) {
        return 0;
    }
    apr_dbd_close(driver, handle);
    return 1;
}

/* mod_dbd's connection for the request, acquired under the time bound.
 * mod_dbd checks a pooled connection before handing it out and, when the
 * check fails, drops it and hands out none. Where the driver's check does
 * not reconnect (odbc), every pooled connection a database restart killed
 * fails that check once. So when none is handed out and the database
 * takes a connection of our own, the pool is asked again, as often as it
 * can hold connections; when the database does not, it is not asked to
 * connect again and again. */
static ap_dbd_t *acquire(dbd_conn_t *conn)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *acquire_fn =
        APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    orm_deadline_t *mark;
    ap_dbd_t *dbd;
    int retries;

    orm_inflight_note(conn->store->inflight, conn->r);
    mark = watch(conn, NULL);
    dbd = acquire_fn ? acquire_fn(conn->r) : NULL;

    if (dbd == NULL && acquire_fn
        && !orm_db_name_reconnects(conn->store->dbd_driver)
        && database_reachable(conn)) {
        for (retries = 0; dbd == NULL && retries < ACQUIRE_RETRIES_MAX;
             retries++) {
            dbd = acquire_fn(conn->r);
        }
    }
    unwatch(conn, mark);
    return dbd;
}

orm_dialect_e orm_store_database_dialect(apr_pool_t *pool,
                                         const orm_store_t *store,
                                         ap_dbd_t *dbd, int *asked)
{
    static const char key[] = "session_orm_database";
    orm_dialect_e native = orm_dialect_for_driver(
                               orm_db_driver_name(dbd->driver));
    void *kept = NULL;
    int identified, *database;

    *asked = 0;
    if (native != ORM_DIALECT_PORTABLE) {
        return native;
    }
    if (store->dialect >= 0 && store->dialect != ORM_DIALECT_PORTABLE) {
        return (orm_dialect_e)store->dialect;     /* the admin says */
    }
    apr_pool_userdata_get(&kept, key, dbd->pool);
    if (kept) {
        return (orm_dialect_e)*(int *)kept;
    }
    identified = orm_db_identify(pool, dbd->driver, dbd->handle,
                                 orm_sql_dialect_probes(pool),
                                 ORM_DIALECT_PORTABLE);
    /* "none" from a connection known dead is asked again on its
     * successor; a driver that cannot tell (ENOTIMPL) is believed */
    if (identified != ORM_DIALECT_PORTABLE
        || apr_dbd_check_conn(dbd->driver, pool, dbd->handle)
           != APR_EGENERAL) {
        database = apr_palloc(dbd->pool, sizeof(*database));
        *database = identified;
        apr_pool_userdata_setn(database, key, NULL, dbd->pool);
        *asked = 1;
    }
    return (orm_dialect_e)identified;
}

orm_dialect_e orm_store_statements_dialect(const orm_store_t *store,
                                           orm_dialect_e database)
{
    return store->dialect >= 0 ? (orm_dialect_e)store->dialect : database;
}

/* What the database behind the connection is, and the statements to say
 * to it. */
static void choose_statements(dbd_conn_t *conn)
{
    int asked;

    conn->database = orm_store_database_dialect(conn->r->pool, conn->store,
                                                conn->dbd, &asked);
    conn->sql = conn->store->sql[orm_store_statements_dialect(
                                     conn->store, conn->database)];
    conn->text_size = orm_db_text_size(conn->dbd->driver);
    if (asked && conn->database == ORM_DIALECT_PORTABLE) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, conn->r, ORM_LOGNO(0120)
                      "session table '%s': the database behind this %s "
                      "connection answers to no dialect's question: "
                      "portable SQL (SessionORMDialect names one)",
                      conn->store->table, orm_db_driver_name(conn->dbd->driver));
    }
    else if (asked) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, conn->r, ORM_LOGNO(0119)
                      "session table '%s': the database behind this %s "
                      "connection is %s", conn->store->table,
                      orm_db_driver_name(conn->dbd->driver),
                      orm_dialect_name(conn->database));
    }
}

/* Our statements on the connection, prepared or recovered under the time
 * bound. */
static apr_status_t make_ready(dbd_conn_t *conn)
{
    orm_deadline_t *mark = watch(conn, conn->dbd);
    apr_status_t rv;
    int fault;

    choose_statements(conn);
    rv = prepare_connection(conn);
    if (rv != APR_SUCCESS && !conn->timed_out) {
        fault = recover_connection(conn);
        if (fault == FAULT_REPAIRED || fault == FAULT_STALE) {
            rv = APR_SUCCESS;
        }
    }
    unwatch(conn, mark);
    return rv == APR_SUCCESS && conn->timed_out ? APR_TIMEUP : rv;
}

static const orm_store_ops_t session_ops;

apr_status_t orm_store_connect(request_rec *r, const orm_store_t *store,
                               orm_conn_t *handle)
{
    dbd_conn_t *conn = apr_pcalloc(r->pool, sizeof(*conn));
    apr_status_t rv;

    handle->ops = &session_ops;
    handle->impl = conn;
    conn->r = r;
    conn->store = store;
    if (skip_database(store)) {
        orm_status_count(store, ORM_METRIC_FAILED_SKIPPED);
        return APR_EAGAIN;      /* known to be down */
    }
    if ((conn->dbd = acquire(conn)) == NULL) {
        orm_status_count(store, ORM_METRIC_FAILED_OUTAGE);
        report_failure(r, store, 1, "mod_dbd has no connection (its own "
                       "messages say why; check DBDriver and DBDParams)");
        return APR_ECONNREFUSED;
    }
    if ((rv = make_ready(conn)) != APR_SUCCESS) {
        orm_status_count(store, ORM_METRIC_FAILED_OUTAGE);
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r, ORM_LOGNO(0118)
                      "session table '%s': the connection cannot be used",
                      store->table);
    }
    return rv;
}

/* recover_connection under the time bound: a cut call is an outage. */
static int watched_recover(dbd_conn_t *conn)
{
    orm_deadline_t *mark = watch(conn, conn->dbd);
    int fault = recover_connection(conn);

    unwatch(conn, mark);
    return conn->timed_out ? FAULT_OUTAGE : fault;
}

/* Runs a statement (a select when res is given). Outside a transaction a
 * failure is looked into at once, and the statement run once more if the
 * connection was reconnected or the table recreated; inside one, after
 * the transaction ended (see end()). A call cut by the time bound is an
 * outage, not looked into further. */
static apr_status_t run(dbd_conn_t *conn, orm_stmt_e which, int nargs,
                        const char **args, int *nrows,
                        apr_dbd_results_t **res, const char **errmsg)
{
    const ap_dbd_t *dbd = conn->dbd;
    int attempt, err = 0;

    conn->fault = FAULT_NONE;
    for (attempt = 0; attempt < 2; attempt++) {
        orm_deadline_t *mark = watch(conn, conn->dbd);

        if (res) {
            *res = NULL;
            err = orm_db_pselect(conn->r->pool, dbd->driver, dbd->handle,
                                 res, conn->stmt[which], nargs, args);
        }
        else {
            err = orm_db_pquery(conn->r->pool, dbd->driver, dbd->handle,
                                nrows, conn->stmt[which], nargs, args);
        }
        if (err) {
            /* a copy: the driver's text changes with its next call */
            *errmsg = apr_pstrdup(conn->r->pool, dbd_error_text(dbd, err));
        }
        unwatch(conn, mark);
        if (!err) {
            conn->fault = FAULT_NONE;
            report_success(conn->r, conn->store);
            return APR_SUCCESS;
        }
        if (conn->txn) {
            break;
        }
        if (conn->timed_out) {
            conn->fault = FAULT_OUTAGE;
            break;
        }
        if (attempt > 0) {
            /* failed again on a repaired connection: this statement */
            conn->fault = FAULT_DATA;
            break;
        }
        conn->fault = watched_recover(conn);
        if (conn->fault != FAULT_REPAIRED && conn->fault != FAULT_STALE) {
            break;
        }
        dbd = conn->dbd;
    }
    return APR_EGENERAL;
}

/* A failed statement, logged as what it was: an outage, or a data error
 * naming the session. A failure inside a transaction is looked into once
 * the transaction has ended. */
static apr_status_t statement_failed(dbd_conn_t *conn, const char *what,
                                     const char *id, const char *errmsg)
{
    const char *message = apr_psprintf(conn->r->pool, "%s session %.*s "
                                       "failed: %s", what, ORM_ID_PREFIX_LEN,
                                       id, errmsg);

    if (conn->fault == FAULT_NONE && conn->txn == NULL) {
        conn->fault = conn->timed_out ? FAULT_OUTAGE : watched_recover(conn);
    }
    if (conn->fault == FAULT_DATA || conn->fault == FAULT_STALE) {
        orm_status_count(conn->store, ORM_METRIC_FAILED_DATA);
        report_data_error(conn->r, conn->store, message);
    }
    else {
        orm_status_count(conn->store, ORM_METRIC_FAILED_OUTAGE);
        /* a connection reconnected under a transaction lost its write too:
         * the database went away, if only for a moment */
        report_failure(conn->r, conn->store, conn->fault == FAULT_OUTAGE,
                       "%s", message);
    }
    return APR_EGENERAL;
}

/* Characters of UTF-8 text: its bytes but those that continue one. */
static apr_int64_t utf8_length(const char *text)
{
    apr_int64_t n = 0;

    for (; *text; text++) {
        n += ((unsigned char)*text & 0xC0) != 0x80;
    }
    return n;
}

/* True when the data column came back whole: size is its size as stored,
 * in bytes, or where the dialect's size may count characters (portable
 * LENGTH: characters on most databases, bytes on MySQL) in either. A
 * driver may hand back less with no error: one that fetches into a buffer
 * of a fixed size and cannot say so (apr_dbd_mysql, which can, is read
 * whole: see read_row), or any, at a NUL byte stored in the data. */
static int whole(const orm_sql_t *sql, const char *size, const char *data)
{
    apr_int64_t stored;

    if (!orm_db_int64_parse(size, &stored)) {
        return 0;
    }
    return stored == (apr_int64_t)strlen(data)
           || (sql->size_in_chars && stored == utf8_length(data));
}

/* The data of a row read_row read, as long as stored: nothing to check
 * where it always comes back whole, else its size column (ncols - 1)
 * against it. */
static int whole_row(const dbd_conn_t *conn, const char *const *values,
                     int ncols, const char *data)
{
    return conn->text_size == ORM_TEXT_SIZE_WHOLE
           || whole(conn->sql, values[ncols - 1], data);
}

/* A session that came back cut is never handed on nor written over: the
 * load fails, as for a database that failed to answer for this session. */
static apr_status_t truncated(dbd_conn_t *conn, const char *id)
{
    conn->fault = FAULT_DATA;
    orm_status_count(conn->store, ORM_METRIC_FAILED_DATA);
    report_data_error(conn->r, conn->store, apr_psprintf(conn->r->pool,
                      "session %.*s came back shorter than stored (a NUL "
                      "byte in its stored data, or a driver that cuts long "
                      "values): treated as a failed load",
                      ORM_ID_PREFIX_LEN, id));
    return APR_EGENERAL;
}

/* The row of load or lock, its first column the data and its last the
 * data's stored size: from the server, or where the driver tells it, from
 * the driver, which then hands back the data whole however long. Where
 * the data always comes back whole (ORM_TEXT_SIZE_WHOLE) the statement
 * has no size column and the row one column fewer: see whole_row. */
static int read_row(dbd_conn_t *conn, apr_dbd_results_t *res, int ncols,
                    const char ***values, const char **errmsg)
{
    int failed;

    /* a driver may fetch here (odbc): a database call, too */
    orm_inflight_calls(conn->store->inflight, 1);
    switch (conn->text_size) {
    case ORM_TEXT_SIZE_WHOLE:
        failed = orm_db_first_row(conn->r->pool, conn->dbd->driver,
                                  conn->dbd->handle, res, ncols - 1, values,
                                  errmsg);
        break;
    case ORM_TEXT_SIZE_TOLD:
        failed = orm_db_first_row_sized(conn->r->pool, conn->dbd->driver,
                                        conn->dbd->handle, res, ncols - 1, 0,
                                        conn->r->connection->bucket_alloc,
                                        values, errmsg);
        break;
    case ORM_TEXT_SIZE_ASKED:
    default:
        failed = orm_db_first_row(conn->r->pool, conn->dbd->driver,
                                  conn->dbd->handle, res, ncols, values,
                                  errmsg);
        break;
    }
    orm_inflight_calls(conn->store->inflight, -1);
    return failed;
}

static apr_status_t dbd_load(orm_conn_t *handle, const char *id,
                             apr_int64_t now_ms, orm_row_t **row)
{
    dbd_conn_t *conn = handle->impl;
    request_rec *r = conn->r;
    apr_dbd_results_t *res = NULL;
    const char *args[2], **values, *errmsg = NULL;
    orm_row_t *found;

    *row = NULL;
    args[0] = id;
    args[1] = orm_db_int64_text(r->pool, now_ms);
    if (run(conn, ORM_STMT_LOAD, 2, args, NULL, &res, &errmsg)) {
        return statement_failed(conn, "loading", id, errmsg);
    }
    /* data, expires_at, updated_at, user_name, the data's stored size */
    if (read_row(conn, res, 5, &values, &errmsg)) {
        return statement_failed(conn, "reading", id, errmsg);
    }
    if (values == NULL) {
        return APR_SUCCESS;
    }
    found = apr_pcalloc(r->pool, sizeof(*found));
    /* no saved session is "" */
    found->data = orm_db_value(values[0]);
    if (found->data == NULL
        || !orm_db_int64_parse(values[1], &found->expires_at_ms)
        || !orm_db_int64_parse(values[2], &found->updated_at_ms)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, ORM_LOGNO(0109)
                      "stored row of session %.*s is unreadable (missing "
                      "data or non-numeric times); treating the session "
                      "as absent", ORM_ID_PREFIX_LEN, id);
        return APR_SUCCESS;
    }
    if (!whole_row(conn, values, 5, found->data)) {
        return truncated(conn, id);
    }
    /* no owner is named "" */
    found->user_name = orm_db_value(values[3]);
    *row = found;
    return APR_SUCCESS;
}

/* The arguments of a write statement as its list (orm_sql_t's
 * insert_args, update_args, update_if_args) names them, into args; the
 * count. version is the updated_at the write expects, created_at_ms a new
 * row's. */
static int bind_args(apr_pool_t *pool, const orm_arg_e *spec, const char *id,
                     const orm_row_t *row, apr_int64_t created_at_ms,
                     apr_int64_t version, const char **args)
{
    int n;

    for (n = 0; spec[n] != ORM_ARG_END; n++) {
        switch (spec[n]) {
        case ORM_ARG_ID:
            args[n] = id;
            break;
        case ORM_ARG_DATA:
            args[n] = row->data;
            break;
        case ORM_ARG_EXPIRES_AT:
            args[n] = orm_db_int64_text(pool, row->expires_at_ms);
            break;
        case ORM_ARG_USER_NAME:
            args[n] = row->user_name;
            break;
        case ORM_ARG_CREATED_AT:
            args[n] = orm_db_int64_text(pool, created_at_ms);
            break;
        case ORM_ARG_UPDATED_AT:
            args[n] = orm_db_int64_text(pool, row->updated_at_ms);
            break;
        case ORM_ARG_VERSION:
            args[n] = orm_db_int64_text(pool, version);
            break;
        default:                /* ORM_ARG_SOURCE */
            args[n] = row->source ? row->source : "";
            break;
        }
    }
    return n;
}

static apr_status_t write_failed(dbd_conn_t *conn, const char *id,
                                 const char *errmsg)
{
    return statement_failed(conn, "saving", id, errmsg);
}

static apr_status_t begin(dbd_conn_t *conn, const char *id)
{
    orm_deadline_t *mark = watch(conn, conn->dbd);
    int err = apr_dbd_transaction_start(conn->dbd->driver, conn->r->pool,
                                        conn->dbd->handle, &conn->txn);
    unwatch(conn, mark);
    if (err) {
        conn->txn = NULL;
        return write_failed(conn, id, dbd_error_text(conn->dbd, err));
    }
    return APR_SUCCESS;
}

/* Commits, or rolls back when a statement inside failed or rollback is
 * asked for. */
static void end(dbd_conn_t *conn, int rollback)
{
    orm_deadline_t *mark = watch(conn, conn->dbd);

    if (rollback) {
        apr_dbd_transaction_mode_set(conn->dbd->driver, conn->txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    apr_dbd_transaction_end(conn->dbd->driver, conn->r->pool, conn->txn);
    unwatch(conn, mark);
    conn->txn = NULL;
}

/* One write statement on its own, its arguments as spec lists them, in
 * the writers' turn where the database has one writer; its failure
 * logged. *nrows: the rows it changed. */
static apr_status_t write_statement(dbd_conn_t *conn, orm_stmt_e which,
                                    const orm_arg_e *spec, const char *id,
                                    const orm_row_t *row,
                                    apr_int64_t created_at_ms,
                                    apr_int64_t version, int *nrows)
{
    const char *errmsg = NULL;
    const char *args[ORM_ARG_MAX];
    int nargs = bind_args(conn->r->pool, spec, id, row, created_at_ms,
                          version, args);
    apr_status_t rv;

    writer_enter(conn);
    rv = run(conn, which, nargs, args, nrows, NULL, &errmsg);
    writer_leave(conn);
    return rv ? write_failed(conn, id, errmsg) : APR_SUCCESS;
}

static apr_status_t dbd_save(orm_conn_t *handle, const char *id,
                             const orm_row_t *row, apr_int64_t created_at_ms)
{
    dbd_conn_t *conn = handle->impl;
    apr_pool_t *pool = conn->r->pool;
    const char *errmsg = NULL;
    const char *args[ORM_ARG_MAX];
    const orm_sql_t *sql = conn->sql;
    int nrows = 0, nargs;

    if (conn->stmt[ORM_STMT_UPSERT]) {
        return write_statement(conn, ORM_STMT_UPSERT, sql->insert_args, id,
                               row, created_at_ms, 0, &nrows);
    }
    /* portable: update, and insert when there was nothing to update */
    writer_enter(conn);
    if (begin(conn, id) != APR_SUCCESS) {
        writer_leave(conn);
        return APR_EGENERAL;
    }
    nargs = bind_args(pool, sql->update_args, id, row, 0, 0, args);
    if (run(conn, ORM_STMT_UPDATE, nargs, args, &nrows, NULL, &errmsg) == 0
        && nrows == 0) {
        nargs = bind_args(pool, sql->insert_args, id, row, created_at_ms, 0,
                          args);
        run(conn, ORM_STMT_INSERT, nargs, args, &nrows, NULL, &errmsg);
    }
    end(conn, errmsg != NULL);
    writer_leave(conn);
    return errmsg ? write_failed(conn, id, errmsg) : APR_SUCCESS;
}

static apr_status_t dbd_insert(orm_conn_t *handle, const char *id,
                               const orm_row_t *row, apr_int64_t created_at_ms)
{
    dbd_conn_t *conn = handle->impl;
    int nrows = 0;

    return write_statement(conn, ORM_STMT_INSERT, conn->sql->insert_args, id,
                           row, created_at_ms, 0, &nrows);
}

static apr_status_t dbd_update_if(orm_conn_t *handle, const char *id,
                                  const orm_row_t *row, apr_int64_t version,
                                  int *matched)
{
    dbd_conn_t *conn = handle->impl;
    int nrows = 0;
    apr_status_t rv = write_statement(conn, ORM_STMT_UPDATE_IF,
                                      conn->sql->update_if_args, id, row, 0,
                                      version, &nrows);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* updated_at always changes, so MySQL's "rows changed" is "rows
     * matched" here: 0 means the row moved on or went away */
    *matched = nrows > 0;
    return APR_SUCCESS;
}

/* Inside the merge's transaction: the live row, locked where the dialect
 * can, into *stored ("" for no data) and *version (its updated_at, 0 when
 * unreadable); *stored NULL when there is none, *errmsg set when the
 * statement failed. APR_EGENERAL when the data came back cut. */
static apr_status_t lock_row(dbd_conn_t *conn, const char *id,
                             apr_int64_t now_ms, const char **stored,
                             apr_int64_t *version, const char **errmsg)
{
    apr_pool_t *pool = conn->r->pool;
    apr_dbd_results_t *res = NULL;
    const char *args[2], **values;

    *stored = NULL;
    *version = 0;
    args[0] = id;
    args[1] = orm_db_int64_text(pool, now_ms);
    if (conn->stmt[ORM_STMT_LOCK_TOUCH]) {
        int nrows = 0;

        if (run(conn, ORM_STMT_LOCK_TOUCH, 2, args, &nrows, NULL, errmsg)) {
            return APR_SUCCESS;
        }
    }
    if (run(conn, ORM_STMT_LOCK, 2, args, NULL, &res, errmsg) != 0) {
        return APR_SUCCESS;
    }
    /* data, updated_at, the data's stored size */
    if (read_row(conn, res, 3, &values, errmsg)) {
        return APR_SUCCESS;
    }
    if (values == NULL) {
        return APR_SUCCESS;
    }
    if (orm_db_value(values[0])
        && !whole_row(conn, values, 3, values[0])) {
        return APR_EGENERAL;
    }
    *stored = values[0] ? values[0] : "";
    if (!orm_db_int64_parse(values[1], version)) {
        *version = 0;
    }
    return APR_SUCCESS;
}

static apr_status_t dbd_merge(orm_conn_t *handle, const char *id,
                              orm_row_t *row, apr_int64_t now_ms,
                              orm_store_merge_fn *merge, void *baton,
                              int *found)
{
    dbd_conn_t *conn = handle->impl;
    const char *stored = NULL, *errmsg = NULL;
    apr_int64_t stored_version = 0;
    const char *args[ORM_ARG_MAX];
    int nrows = 0;

    *found = 0;
    writer_enter(conn);
    if (begin(conn, id) != APR_SUCCESS) {
        writer_leave(conn);
        return APR_EGENERAL;
    }
    if (lock_row(conn, id, now_ms, &stored, &stored_version, &errmsg)
        != APR_SUCCESS) {
        end(conn, 1);
        writer_leave(conn);
        return truncated(conn, id);
    }
    if (errmsg == NULL && stored != NULL) {
        *found = 1;
        row->data = merge(baton, conn->r->pool, stored);
    }
    if (row->data == NULL) {
        *found = -1;            /* merge says: leave the row as it is */
    }
    else if (errmsg == NULL && stored != NULL) {
        if (row->updated_at_ms <= stored_version) {
            row->updated_at_ms = stored_version + 1;  /* a newer version */
        }
        run(conn, ORM_STMT_UPDATE,
            bind_args(conn->r->pool, conn->sql->update_args, id, row, 0, 0,
                      args),
            args, &nrows, NULL, &errmsg);
    }
    end(conn, errmsg != NULL || stored == NULL || row->data == NULL);
    writer_leave(conn);
    return errmsg ? write_failed(conn, id, errmsg) : APR_SUCCESS;
}

static apr_status_t dbd_remove(orm_conn_t *handle, const char *id)
{
    dbd_conn_t *conn = handle->impl;
    const char *errmsg = NULL;
    int nrows = 0;
    apr_status_t rv;

    writer_enter(conn);
    rv = run(conn, ORM_STMT_REMOVE, 1, &id, &nrows, NULL, &errmsg);
    writer_leave(conn);
    if (rv != APR_SUCCESS) {
        return statement_failed(conn, "deleting", id, errmsg);
    }
    return APR_SUCCESS;
}

/* A request's connection: the session operations. */
static const orm_store_ops_t session_ops = {
    .load = dbd_load,
    .save = dbd_save,
    .insert = dbd_insert,
    .update_if = dbd_update_if,
    .merge = dbd_merge,
    .remove = dbd_remove
};
