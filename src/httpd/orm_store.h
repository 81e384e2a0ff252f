/**
 * The store: one table reached through mod_dbd. It owns the generated SQL
 * for every dialect, prepares it on each pooled connection the first time
 * that connection is used (creating the table first if allowed), runs the
 * statements, and recovers a connection the database dropped (re-preparing
 * on the reconnected handle). While the database cannot be reached, requests
 * skip it for SessionORMRetryAfter seconds, and failures are logged once per
 * outage across all children; a statement refused on a working connection
 * (a data error) is no outage and is logged at most once a minute. No SQL
 * text lives outside orm_sql.c.
 */
#ifndef ORM_STORE_H
#define ORM_STORE_H

#include "httpd.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

#include "orm_conf.h"
#include "orm_gate.h"
#include "orm_shared.h"
#include "orm_sql.h"

/** Failures that are not outages, each logged at most once per
 *  ORM_LOG_GATE_SECONDS across all children. */
typedef enum {
    ORM_GATE_DATA = 0,          /* a statement refused on a working
                                 * connection, a truncated fetch */
    ORM_GATE_OVERSIZE,          /* a session over SessionORMMaxSize */
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
    ORM_STMT_COUNT
} orm_stmt_e;

/** Per store, in memory shared by all children (post_config). */
typedef struct {
    orm_outage_t outage;        /* the database cannot be used */
    apr_uint32_t retry_at;      /* epoch seconds: skip the database until */
    orm_log_gate_t gates[ORM_GATE_COUNT];
} orm_store_slot_t;

/** Mutex type of the cross-process lock SQLite writers take turns on (one
 *  for all stores); child_init attaches each child to it. */
#define ORM_WRITER_MUTEX_TYPE "session-orm-sqlite"

typedef struct {
    const char *table;                      /* for log messages */
    int create_schema;
    orm_sql_t *sql[ORM_DIALECT_COUNT];
    const char *labels[ORM_STMT_COUNT];     /* unique per store */
    const char *conn_key;                   /* our state on a connection */
    apr_int64_t retry_seconds;
    apr_interval_time_t timeout;            /* SessionORMTimeout */
    struct orm_watchdog_t *watchdog;        /* this child's; NULL: calls are
                                             * not watched */
    orm_store_slot_t *shared;             /* NULL until post_config */
    orm_shared_t *writers;                  /* every store's slot and the
                                             * SQLite writers' lock; NULL
                                             * until post_config */
    /* the expiry sweep */
    orm_maintenance_sql_t *admin[ORM_DIALECT_COUNT];
    const char *sweep_label;
    const char *claim_label;                /* the farm's turn to sweep */
    const char *mark_label;
    apr_int64_t sweep_seconds;              /* 0: not swept by httpd */
    int sweep_batch;
} orm_store_t;

/** A connection acquired for this request, with our statements prepared. */
typedef struct {
    request_rec *r;
    const orm_store_t *store;
    ap_dbd_t *dbd;
    const orm_sql_t *sql;
    apr_dbd_prepared_t *stmt[ORM_STMT_COUNT];
    apr_dbd_transaction_t *txn;             /* open transaction, or NULL */
    int writer_held;                        /* holds the writers' lock */
    int timed_out;                          /* a call was cut: the
                                             * connection is dead */
    int fault;                              /* what the last failure was */
} orm_conn_t;

/** A stored session as read back. */
typedef struct {
    const char *data;
    apr_int64_t expires_at_ms;
    apr_int64_t updated_at_ms;
    const char *user_name;                  /* NULL when not owned */
} orm_row_t;

/** Builds the store for a server's configuration (post_config). seq makes
 *  its statement labels unique among all stores of this httpd. */
orm_store_t *orm_store_create(apr_pool_t *pool, const orm_server_conf_t *conf,
                              int seq);

/** Gives each store its slot of memory shared by all children, and the
 *  SQLite writers' lock. */
apr_status_t orm_store_share(apr_pool_t *pconf, server_rec *s,
                             orm_store_t **stores, int count);

/** child_init: attaches this child to the SQLite writers' lock. */
void orm_store_child_init(apr_pool_t *pchild, server_rec *s);

/** The statement filed under label on this connection, prepared from sql
 *  the first time; on failure *errmsg holds the driver's message. */
apr_status_t orm_store_prepare_once(ap_dbd_t *dbd, const char *label,
                                    const char *sql,
                                    apr_dbd_prepared_t **stmt,
                                    const char **errmsg);

/** Releases the statement filed under label on this connection: the
 *  driver's handle is closed and, where the server names it (PostgreSQL),
 *  the server's statement deallocated, so the label can be prepared
 *  again on a connection that stayed open. */
void orm_store_release(apr_pool_t *pool, ap_dbd_t *dbd, const char *label);

/** True when a failure of kind which is to be logged now; *suppressed
 *  then holds how many were not logged since the last line. */
int orm_store_log_due(const orm_store_t *store, orm_gate_e which,
                      apr_uint32_t *suppressed);

/** True when the store's table can be read on this connection. */
int orm_store_table_exists(apr_pool_t *pool, const ap_dbd_t *dbd,
                           const orm_store_t *store);

/** Acquires the request's connection from mod_dbd and makes sure the table
 *  exists and our statements are prepared on it. APR_EAGAIN without trying
 *  while the database is known to be down. */
apr_status_t orm_store_connect(request_rec *r, const orm_store_t *store,
                               orm_conn_t *conn);

/** The live row with this id, or *row = NULL when there is none (unknown,
 *  or expired at now_ms). */
apr_status_t orm_store_load(orm_conn_t *conn, const char *id,
                            apr_int64_t now_ms, orm_row_t **row);

/** Inserts the row, or replaces one with the same id; created_at_ms is used
 *  only for a new row. */
apr_status_t orm_store_save(orm_conn_t *conn, const char *id,
                            const orm_row_t *row, apr_int64_t created_at_ms);

/** Rewrites the row only if it still carries version (its updated_at when
 *  loaded); *matched says whether it did. */
apr_status_t orm_store_update_if(orm_conn_t *conn, const char *id,
                                 const orm_row_t *row, apr_int64_t version,
                                 int *matched);

/** Computes the data to store from the data stored now; NULL to leave the
 *  row as it is. */
typedef const char *orm_store_merge_fn(void *baton, apr_pool_t *pool,
                                       const char *stored_data);

/** In one transaction: locks the live row, asks merge for the data to
 *  write, writes it with row's other fields (its updated_at raised above the
 *  stored one). *found = 0, nothing written, when there is no live row;
 *  -1, nothing written, when merge gave NULL. */
apr_status_t orm_store_merge(orm_conn_t *conn, const char *id, orm_row_t *row,
                             apr_int64_t now_ms, orm_store_merge_fn *merge,
                             void *baton, int *found);

/** Deletes the row; no row is not an error. */
apr_status_t orm_store_remove(orm_conn_t *conn, const char *id);

#endif
