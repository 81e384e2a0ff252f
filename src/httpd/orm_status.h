/**
 * Status and metrics on the httpd side: the one-line calls the store, the
 * provider and the sweep make where an event happens (they add to the
 * store's orm_metrics_t in shared memory, so every child's count goes into
 * one total), and what shows them: the handler `SetHandler
 * session-orm-status` (HTML; ?format=json; ?format=prometheus) and a
 * section in mod_status's /server-status (plain lines for ?auto).
 *
 * Every call takes a store that may have no shared memory (before
 * post_config) and then counts nothing. Nothing here asks the database
 * while a page is made: the numbers are what the events and the sweep left
 * in shared memory. Who may see the pages is up to Require.
 */
#ifndef ORM_STATUS_H
#define ORM_STATUS_H

#include "httpd.h"

#include "orm_metrics.h"
#include "orm_store.h"

/** The handler's name, for SetHandler. */
#define ORM_STATUS_HANDLER "session-orm-status"

/** Adds one to a counter of store's. */
void orm_status_count(const orm_store_t *store, orm_metric_e which);

/** An error logged under message ID id (ORM0112: 112). */
void orm_status_error(const orm_store_t *store, unsigned id);

/** A request's load that began at started went to the store. */
void orm_status_loaded(const orm_store_t *store, apr_time_t started);

/** A request's write (action) that began at started went to the store
 *  and ended in rv and result (zeroed when it never reached the
 *  database). */
void orm_status_written(const orm_store_t *store, orm_save_e action,
                        apr_status_t rv, const orm_write_result_t *result,
                        apr_time_t started);

/** A sweep that began at began_ms deleted deleted rows through conn; the
 *  rows left are counted now, once per sweep (a failure is logged at debug
 *  on s). */
void orm_status_swept(server_rec *s, const orm_store_t *store,
                      orm_conn_t *conn, apr_pool_t *pool,
                      apr_int64_t began_ms, apr_int64_t deleted);

/** A sweep of store's table failed. */
void orm_status_sweep_failed(const orm_store_t *store);

/** Another host had the farm's turn to sweep store's table. */
void orm_status_swept_elsewhere(const orm_store_t *store);

/** handler: the status page of every store, in the format ?format= asks
 *  for (html, json, prometheus). */
int orm_status_handler(request_rec *r);

/** mod_status's status_hook: our section of /server-status. */
int orm_status_hook(request_rec *r, int flags);

#endif
