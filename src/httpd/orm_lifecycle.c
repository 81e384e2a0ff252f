#include "apr_optional.h"
#include "apu_version.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "util_mutex.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

#include "orm_log.h"
#include "orm_conf.h"
#include "orm_store.h"
#include "orm_cache.h"
#include "orm_sweeper.h"
#include "orm_lifecycle.h"

int orm_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    static const char *const types[] = { ORM_SWEEP_MUTEX_TYPE,
                                         ORM_WRITER_MUTEX_TYPE };
    apr_size_t i;
    (void)plog;
    (void)ptemp;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (ap_mutex_register(pconf, types[i], NULL, APR_LOCK_DEFAULT, 0)
            != APR_SUCCESS) {
            return !OK;
        }
    }
    return OK;
}

/* Which module the error log shows, once per configuration httpd serves
 * with: at start-up, and after each restart (a package upgrade's new module
 * comes in with one). Not in start-up's first pass, whose configuration
 * httpd throws away (apache2 -t ends before post_config). */
static void log_version(server_rec *s)
{
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, ORM_LOGNO(0010)
                 "mod_session_orm/%s (apr-util %s) configured", ORM_VERSION,
                 apu_version_string());
}

/* SessionORMCache: the cache every store of the native format reads
 * through, under the generation the admin tool raises. A (re)start raises
 * it too, so that children of the last generation, still finishing their
 * requests, stop using what they kept. */
static apr_status_t make_cache(apr_pool_t *pconf, server_rec *s,
                               orm_store_t **stores, int count)
{
    const orm_server_conf_t *conf = ap_get_module_config(s->module_config,
                                                         &session_orm_module);
    const char *path = orm_server_cache_file(conf);
    volatile apr_uint32_t *generation;
    orm_cache_t *cache;
    const char *errmsg;
    apr_status_t rv;
    int i;

    if (path == NULL) {
        return APR_SUCCESS;
    }
    rv = orm_cache_file_open(pconf, path, 1, &generation, &errmsg);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, ORM_LOGNO(0401)
                     "SessionORMCache: %s", errmsg);
        return rv;
    }
    orm_cache_file_raise(generation);
    rv = orm_cache_create(pconf, orm_server_cache_entries(conf),
                          (apr_size_t)orm_server_cache_max_size(conf),
                          apr_time_from_sec(orm_server_cache_seconds(conf)),
                          generation, &cache);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, ORM_LOGNO(0402)
                     "SessionORMCache: cannot make the cache's shared "
                     "memory for %d sessions of up to %" APR_INT64_T_FMT
                     " bytes", orm_server_cache_entries(conf),
                     orm_server_cache_max_size(conf));
        return rv;
    }
    for (i = 0; i < count; i++) {
        orm_store_t *store = stores[i];

        if (orm_schema_format(store->schema) != ORM_FORMAT_EXPRESS) {
            store->cache = cache;
            store->cache_key = orm_cache_store_key(store->dbd_driver,
                                                   store->dbd_params,
                                                   store->table);
        }
    }
    return APR_SUCCESS;
}

int orm_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                    server_rec *s)
{
    int have_dbd = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire) != NULL;
    apr_array_header_t *stores = apr_array_make(ptemp, 4,
                                                sizeof(orm_store_t *));
    server_rec *sp;
    (void)plog;

    log_version(s);
    for (sp = s; sp; sp = sp->next) {
        orm_server_conf_t *sconf = ap_get_module_config(sp->module_config,
                                                        &session_orm_module);

        /* a warning, not a refusal (those are in orm_check_config): here
         * it reaches the error log, which is not open in check_config */
        if (sconf->dbd_driver && !have_dbd) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sp, ORM_LOGNO(0006)
                         "DBDriver is set but mod_dbd is not loaded");
        }
        /* vhosts without directives of ours share the main server's record */
        if (sconf->store == NULL) {
            sconf->store = orm_store_create(pconf, sconf, stores->nelts);
            APR_ARRAY_PUSH(stores, orm_store_t *) = sconf->store;
        }
    }
    if (orm_store_share(pconf, s, (orm_store_t **)stores->elts,
                        stores->nelts) != APR_SUCCESS
        || make_cache(pconf, s, (orm_store_t **)stores->elts, stores->nelts)
           != APR_SUCCESS
        || orm_sweeper_post_config(pconf, s) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}
