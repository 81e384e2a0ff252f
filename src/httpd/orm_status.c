#include <string.h>

#include "apr_strings.h"
#include "apr_hash.h"
#include "apr_network_io.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "mod_status.h"

#include "orm_db.h"
#include "orm_log.h"
#include "orm_conf.h"
#include "orm_status.h"

static orm_metrics_t *metrics_of(const orm_store_t *store)
{
    return store && store->shared ? &store->shared->metrics : NULL;
}

void orm_status_count(const orm_store_t *store, orm_metric_e which)
{
    orm_metrics_add(metrics_of(store), which, 1);
}

void orm_status_error(const orm_store_t *store, unsigned id)
{
    orm_metrics_error(metrics_of(store), id, apr_time_sec(apr_time_now()));
}

void orm_status_loaded(const orm_store_t *store, apr_time_t started)
{
    orm_metrics_add(metrics_of(store), ORM_METRIC_LOADS, 1);
    orm_metrics_observe(metrics_of(store), ORM_LATENCY_LOAD,
                        apr_time_now() - started);
}

void orm_status_written(const orm_store_t *store, orm_save_e action,
                        apr_status_t rv, const orm_write_result_t *result,
                        apr_time_t started)
{
    orm_metrics_count_write(metrics_of(store), action, rv == APR_SUCCESS,
                            result);
    orm_metrics_observe(metrics_of(store), ORM_LATENCY_SAVE,
                        apr_time_now() - started);
}

void orm_status_swept(server_rec *s, const orm_store_t *store,
                      orm_conn_t *conn, apr_pool_t *pool,
                      apr_int64_t began_ms, apr_int64_t deleted)
{
    orm_metrics_t *m = metrics_of(store);
    orm_store_totals_t totals;
    const char *errmsg = NULL;

    orm_metrics_swept(m, (apr_uint64_t)began_ms,
                      (apr_uint64_t)(orm_now_ms() - began_ms),
                      (apr_uint64_t)deleted);
    /* right after the sweep nothing expired is left: the rows are live */
    if (orm_store_totals(conn, pool, &totals, &errmsg) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, ORM_LOGNO(0309)
                     "counting the sessions of '%s' after the sweep failed: "
                     "%s", store->table, errmsg ? errmsg : "not offered");
        return;
    }
    orm_metrics_counted(m, (apr_uint64_t)orm_now_ms(),
                        (apr_uint64_t)totals.rows);
}

void orm_status_sweep_failed(const orm_store_t *store)
{
    orm_metrics_sweep_failed(metrics_of(store), (apr_uint64_t)orm_now_ms());
}

void orm_status_swept_elsewhere(const orm_store_t *store)
{
    orm_metrics_swept_elsewhere(metrics_of(store),
                                (apr_uint64_t)orm_now_ms());
}

/* ---- the pages ------------------------------------------------------------ */

/* The server's name, with its port where it has one of its own. */
static const char *server_label(apr_pool_t *pool, const server_rec *s)
{
    apr_port_t port = s->port ? s->port
                      : s->addrs ? s->addrs->host_port : 0;
    const char *name = s->server_hostname ? s->server_hostname : "";

    return port ? apr_psprintf(pool, "%s:%u", name, (unsigned)port) : name;
}

static orm_metrics_snapshot_t *push_snapshot(apr_array_header_t *snaps,
                                             const server_rec *s,
                                             const orm_server_conf_t *sconf,
                                             const char *host)
{
    orm_metrics_snapshot_t *snap = apr_array_push(snaps);
    const orm_store_t *store = sconf->store;

    memset(snap, 0, sizeof(*snap));
    snap->server = server_label(snaps->pool, s);
    snap->table = store->table;
    snap->host = host;
    snap->sweep_seconds = orm_server_sweep_seconds(sconf);
    orm_metrics_read(metrics_of(store), snap);
    if (store->shared && orm_outage_on(&store->shared->outage)) {
        snap->failing = 1;
        snap->failing_since = orm_outage_since(&store->shared->outage);
    }
    return snap;
}

/* Every store of this httpd with a database (DBDriver), once, in the order
 * of the servers: the first server that has it names it. */
static apr_array_header_t *snapshots(apr_pool_t *pool)
{
    apr_array_header_t *snaps = apr_array_make(
        pool, 4, sizeof(orm_metrics_snapshot_t));
    apr_hash_t *seen = apr_hash_make(pool);
    char *name = apr_palloc(pool, APRMAXHOSTLEN + 1);
    const char *host = name;
    server_rec *s;

    if (apr_gethostname(name, APRMAXHOSTLEN + 1, pool) != APR_SUCCESS) {
        host = "localhost";
    }
    for (s = ap_server_conf; s; s = s->next) {
        const orm_server_conf_t *sconf = ap_get_module_config(
            s->module_config, &session_orm_module);

        if (sconf->store == NULL || sconf->dbd_driver == NULL
            || apr_hash_get(seen, &sconf->store, sizeof(sconf->store))) {
            continue;
        }
        apr_hash_set(seen, &sconf->store, sizeof(sconf->store), "");
        push_snapshot(snaps, s, sconf, host);
    }
    return snaps;
}

/* The value of ?format=, "html" when there is none; NULL for one we do not
 * write. */
static const char *asked_format(request_rec *r)
{
    static const char *const formats[] = { "html", "json", "prometheus" };
    char *args = apr_pstrdup(r->pool, r->args ? r->args : ""), *last;
    const char *pair, *format = "html";
    size_t i;

    for (pair = apr_strtok(args, "&", &last); pair;
         pair = apr_strtok(NULL, "&", &last)) {
        if (!strncmp(pair, "format=", 7)) {
            format = pair + 7;
        }
    }
    for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (!strcmp(format, formats[i])) {
            return formats[i];
        }
    }
    return NULL;
}

int orm_status_handler(request_rec *r)
{
    const apr_array_header_t *snaps;
    const char *format, *text;

    if (r->handler == NULL || strcmp(r->handler, ORM_STATUS_HANDLER)) {
        return DECLINED;
    }
    r->allowed = AP_METHOD_BIT << M_GET;
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if ((format = asked_format(r)) == NULL) {
        return HTTP_BAD_REQUEST;
    }
    snaps = snapshots(r->pool);
    if (!strcmp(format, "json")) {
        ap_set_content_type(r, "application/json");
        text = orm_metrics_json(r->pool, snaps);
    }
    else if (!strcmp(format, "prometheus")) {
        ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
        text = orm_metrics_prometheus(r->pool, snaps);
    }
    else {
        ap_set_content_type(r, "text/html; charset=utf-8");
        text = orm_metrics_html(r->pool, snaps, 1);
    }
    /* numbers of this moment */
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (!r->header_only) {
        ap_rputs(text, r);
    }
    return OK;
}

int orm_status_hook(request_rec *r, int flags)
{
    const apr_array_header_t *snaps = snapshots(r->pool);

    if (snaps->nelts == 0) {
        return OK;
    }
    if (flags & AP_STATUS_SHORT) {
        ap_rputs(orm_metrics_auto(r->pool, snaps), r);
    }
    else {
        ap_rputs("<hr />\n<h1>mod_session_orm</h1>\n", r);
        ap_rputs(orm_metrics_html(r->pool, snaps, 0), r);
    }
    return OK;
}
