/**
 * The store's interface (orm_store_ops.h) over the admin tool's own
 * apr_dbd connection: the upkeep operations the tool runs (purge, count of
 * expired rows, totals, table size, revoke), each statement prepared
 * unnamed when it runs, or run unprepared when it takes no argument (the
 * connection lives for one command). The session operations and the
 * sweep's turn-taking are not offered: they belong to httpd, which keeps
 * statements prepared on pooled connections and detects and logs outages;
 * the tool only ever cleans up and reports. The tool bounds each call
 * itself (a timer around every call into the driver).
 */
#ifndef ORM_ADMIN_STORE_H
#define ORM_ADMIN_STORE_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_dbd.h>

#include "orm_schema.h"
#include "orm_sql.h"
#include "orm_store_ops.h"

/** The table of schema on the connection (driver, handle) as conn; its
 *  purges delete at most batch rows per statement. What conn needs lives
 *  in pool; nothing is asked of the database yet. */
void orm_admin_store_open(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                          apr_dbd_t *handle, const orm_schema_t *schema,
                          orm_dialect_e dialect, int batch, orm_conn_t *conn);

#endif
