/**
 * The store: one table reached through mod_dbd. It owns the generated SQL
 * for every dialect, prepares it on each pooled connection the first time
 * that connection is used (creating the table first if allowed), and runs
 * the load, save and remove statements. No SQL text lives outside orm_sql.c.
 */
#ifndef ORM_STORE_H
#define ORM_STORE_H

#include "httpd.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

#include "orm_conf.h"
#include "orm_sql.h"

typedef enum {
    ORM_STMT_LOAD = 0,
    ORM_STMT_UPSERT,
    ORM_STMT_UPDATE,
    ORM_STMT_INSERT,
    ORM_STMT_REMOVE,
    ORM_STMT_COUNT
} orm_stmt_e;

typedef struct {
    const char *table;                      /* for log messages */
    int create_schema;
    orm_sql_t *sql[ORM_DIALECT_COUNT];
    const char *labels[ORM_STMT_COUNT];     /* unique per store */
    /* the expiry sweep */
    orm_admin_sql_t *admin[ORM_DIALECT_COUNT];
    const char *sweep_label;
    apr_int64_t sweep_seconds;              /* 0: not swept by httpd */
    int sweep_batch;
} orm_store_t;

/** A connection acquired for this request, with our statements prepared. */
typedef struct {
    ap_dbd_t *dbd;
    const orm_sql_t *sql;
    apr_dbd_prepared_t *stmt[ORM_STMT_COUNT];
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

/** The statement filed under label on this connection, prepared from sql
 *  the first time; on failure *errmsg holds the driver's message. */
apr_status_t orm_store_prepare_once(ap_dbd_t *dbd, const char *label,
                                    const char *sql,
                                    apr_dbd_prepared_t **stmt,
                                    const char **errmsg);

/** True when the store's table can be read on this connection. */
int orm_store_table_exists(apr_pool_t *pool, const ap_dbd_t *dbd,
                           const orm_store_t *store);

/** Acquires the request's connection from mod_dbd and makes sure the table
 *  exists and our statements are prepared on it. */
apr_status_t orm_store_connect(request_rec *r, const orm_store_t *store,
                               orm_conn_t *conn);

/** The live row with this id, or *row = NULL when there is none (unknown,
 *  or expired at now_ms). */
apr_status_t orm_store_load(request_rec *r, orm_conn_t *conn, const char *id,
                            apr_int64_t now_ms, orm_row_t **row);

/** Inserts or replaces the row; created_at_ms is used only for a new row. */
apr_status_t orm_store_save(request_rec *r, orm_conn_t *conn, const char *id,
                            const orm_row_t *row, apr_int64_t created_at_ms);

/** Deletes the row; no row is not an error. */
apr_status_t orm_store_remove(request_rec *r, orm_conn_t *conn,
                              const char *id);

#endif
