/**
 * The store over mod_dbd: one table, reached through mod_dbd's connections,
 * offered as the store's interface (orm_store_ops.h). It owns the generated
 * SQL for every dialect, prepares it on each pooled connection the first
 * time that connection is used (creating the table first if allowed), runs
 * the statements, and recovers a connection the database dropped
 * (re-preparing on the reconnected handle). While the database cannot be
 * reached, requests skip it for SessionORMRetryAfter seconds, and failures
 * are logged once per outage across all children; a statement refused on a
 * working connection (a data error) is no outage and is logged at most once
 * a minute. No SQL text lives outside src/sql.
 *
 * A request's connection (orm_store_connect) offers the session
 * operations; one opened outside a request (orm_store_attach, the sweep's)
 * the upkeep ones, whose statements it prepares under labels of its own,
 * and tells whether the driver still holds it alive
 * (orm_store_attached_alive). Its identity (orm_store_identity) names the
 * driver with the database: the sweep asks nothing of the driver itself.
 */
#ifndef ORM_STORE_H
#define ORM_STORE_H

#include "httpd.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

#include "orm_conf.h"
#include "orm_gate.h"
#include "orm_metrics.h"
#include "orm_shared.h"
#include "orm_sql.h"
#include "orm_store_ops.h"
#include "orm_write_queue.h"

/** Failures that are not outages, each logged at most once per
 *  ORM_LOG_GATE_SECONDS across all children. */
typedef enum {
    ORM_GATE_DATA = 0,          /* a statement refused on a working
                                 * connection, a truncated fetch */
    ORM_GATE_OVERSIZE,          /* a session over SessionORMMaxSize */
    ORM_GATE_WRITER_LOCK,       /* the SQLite writers' lock failing */
    ORM_GATE_COUNT
} orm_gate_e;

typedef enum {
    ORM_STMT_LOAD = 0,
    ORM_STMT_UPSERT,
    ORM_STMT_UPDATE,
    ORM_STMT_INSERT,
    ORM_STMT_REMOVE,
    ORM_STMT_UPDATE_IF,
    ORM_STMT_LOCK,
    ORM_STMT_LOCK_TOUCH,
    ORM_STMT_COUNT
} orm_stmt_e;

/** Per store, in memory shared by all children (post_config). */
typedef struct {
    orm_outage_t outage;        /* the database cannot be used */
    apr_uint32_t retry_at;      /* epoch seconds: skip the database until */
    orm_log_gate_t gates[ORM_GATE_COUNT];
    orm_metrics_t metrics;      /* what the status shows (orm_status.h) */
} orm_store_slot_t;

/** Mutex type of the cross-process lock SQLite writers take turns on (one
 *  for all stores); child_init attaches each child to it. */
#define ORM_WRITER_MUTEX_TYPE "session-orm-sqlite"

typedef struct orm_store_t {
    const char *table;                      /* for log messages */
    const orm_schema_t *schema;
    int create_schema;
    int dialect;                            /* SessionORMDialect: an
                                             * orm_dialect_e, or -1 (auto):
                                             * the database's */
    orm_sql_t *sql[ORM_DIALECT_COUNT];
    const char *labels[ORM_STMT_COUNT];     /* unique per store */
    const char *conn_key;                   /* our state on a connection,
                                             * and our labels' stem */
    const char *dbd_driver;                 /* DBDriver and DBDParams, to */
    const char *dbd_params;                 /* connect anew where the
                                             * driver does not reconnect */
    apr_int64_t retry_seconds;
    apr_interval_time_t timeout;            /* SessionORMTimeout */
    struct orm_watchdog_t *watchdog;        /* this child's; NULL: calls are
                                             * not watched */
    orm_write_queue_t *write_queue;         /* turns for the writes of one
                                             * session, shared by all
                                             * children and stores; NULL
                                             * until post_config, or when
                                             * none could be made */
    struct orm_cache_t *cache;              /* SessionORMCache, shared by
                                             * all children and stores;
                                             * NULL: off, or the express
                                             * format */
    apr_uint64_t cache_key;                 /* the table, to the cache */
    orm_store_slot_t *shared;             /* NULL until post_config */
    orm_shared_t *writers;                  /* every store's slot and the
                                             * SQLite writers' lock; NULL
                                             * until post_config */
    struct orm_inflight_t *inflight;        /* this child's requests that
                                             * hold a connection, under
                                             * prefork (orm_inflight.h);
                                             * NULL otherwise */
} orm_store_t;

/** Builds the store for a server's configuration (post_config). seq makes
 *  its statement labels unique among all stores of this httpd. */
orm_store_t *orm_store_create(apr_pool_t *pool, const orm_server_conf_t *conf,
                              int seq);

/** Gives each store its slot of memory shared by all children, the SQLite
 *  writers' lock and the queue for writes of one session. */
apr_status_t orm_store_share(apr_pool_t *pconf, server_rec *s,
                             orm_store_t **stores, int count);

/** child_init: attaches this child to the SQLite writers' lock; under
 *  prefork, makes the child give its request's connection back before
 *  mod_dbd's pool goes when it is told to stop at once. */
void orm_store_child_init(apr_pool_t *pchild, server_rec *s);

/** True when a failure of kind which is to be logged now; *suppressed
 *  then holds how many were not logged since the last line. */
int orm_store_log_due(const orm_store_t *store, orm_gate_e which,
                      apr_uint32_t *suppressed);

/** The dialect of the database behind dbd, a connection of mod_dbd: the
 *  native driver's, or, through a driver that reaches any database (odbc),
 *  the one SessionORMDialect names, else the one the database answers to
 *  (orm_sql_dialect_probes). That is asked once per connection and kept in
 *  its pool; *asked says it was asked now. A database that answers none
 *  gets portable SQL. */
orm_dialect_e orm_store_database_dialect(apr_pool_t *pool,
                                         const orm_store_t *store,
                                         ap_dbd_t *dbd, int *asked);

/** The dialect of the statements the store runs on a database of
 *  database's dialect: SessionORMDialect's, unless that is auto. */
orm_dialect_e orm_store_statements_dialect(const orm_store_t *store,
                                           orm_dialect_e database);

/** Acquires the request's connection from mod_dbd and makes sure the table
 *  exists and our statements are prepared on it; conn then offers the
 *  session operations. APR_EAGAIN without trying while the database is
 *  known to be down. */
apr_status_t orm_store_connect(request_rec *r, const orm_store_t *store,
                               orm_conn_t *conn);

/** A connection mod_dbd opened outside a request (ap_dbd_open), as conn:
 *  the upkeep operations, their purges deleting at most batch rows per
 *  statement. Nothing is asked of the database yet but, through a driver
 *  like odbc, which database it is (orm_store_database_dialect); what conn
 *  needs lives in pool. */
void orm_store_attach(const orm_store_t *store, ap_dbd_t *dbd, int batch,
                      apr_pool_t *pool, orm_conn_t *conn);

/** True when the driver holds the connection of conn (made by
 *  orm_store_attach) alive, having reconnected it where it can (pgsql);
 *  false too where the driver cannot tell. */
int orm_store_attached_alive(orm_conn_t *conn, apr_pool_t *pool);

#endif
