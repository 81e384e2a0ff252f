/*
 * mod_session_orm: a mod_session storage provider that keeps each session
 * as one row of a SQL table reached through mod_dbd.
 *
 * This file is the module record, the directive table and the hook
 * registration; the work is done in src/.
 *
 * Licensed under the Apache License, Version 2.0 (see LICENSE).
 */

#include "httpd.h"
#include "http_config.h"
#include "http_request.h"
#include "mod_session.h"
#include "mod_status.h"

#include "orm_directives.h"
#include "orm_lifecycle.h"
#include "orm_provider.h"
#include "orm_auth.h"
#include "orm_status.h"
#include "orm_store.h"
#include "orm_sweeper.h"
#include "orm_watchdog.h"

static const command_rec session_orm_cmds[] = {
    /* per directory: how sessions are keyed and how long they live */
    AP_INIT_TAKE_ARGV("SessionORMCookieName", orm_cmd_cookie_name, NULL,
                      RSRC_CONF | OR_AUTHCFG,
                      "cookie carrying the session token, then optional "
                      "attributes (Path=, Domain=, SameSite=, Secure, "
                      "HttpOnly=Off)"),
    AP_INIT_FLAG("SessionORMPerUser", orm_cmd_per_user, NULL,
                 RSRC_CONF | OR_AUTHCFG,
                 "On to key the session by the authenticated user instead "
                 "of a cookie"),
    AP_INIT_FLAG("SessionORMCookieRemove", orm_cmd_cookie_remove, NULL,
                 RSRC_CONF | OR_AUTHCFG,
                 "On (default) to hide the session cookie from handlers, "
                 "CGI and proxied backends"),
    AP_INIT_TAKE1("SessionORMTTL", orm_cmd_ttl, NULL, RSRC_CONF | OR_AUTHCFG,
                  "session lifetime in seconds, or \"expr=...\" evaluated per "
                  "request (default SessionMaxAge, else 86400)"),
    AP_INIT_TAKE1("SessionORMTouchInterval", orm_cmd_touch_interval, NULL,
                  RSRC_CONF | OR_AUTHCFG,
                  "seconds between expiry updates of an unchanged session "
                  "(default 60, 0 = every request)"),
    AP_INIT_TAKE1("SessionORMOnError", orm_cmd_on_error, NULL,
                  RSRC_CONF | OR_AUTHCFG,
                  "anonymous (default): serve as if without a session while "
                  "the database fails; fail: answer 503 with Retry-After"),
    AP_INIT_TAKE1("SessionORMMaxSize", orm_cmd_max_size, NULL,
                  RSRC_CONF | OR_AUTHCFG,
                  "largest encoded session in bytes that is saved (default "
                  "0 = no limit)"),
    AP_INIT_TAKE1("SessionORMRotateGrace", orm_cmd_rotate_grace, NULL,
                  RSRC_CONF | OR_AUTHCFG,
                  "seconds a token replaced at login/logout is remembered "
                  "so that it saves nothing (default 5, 0 = not at all)"),
    AP_INIT_TAKE1("SessionORMUserKey", orm_cmd_user_key, NULL,
                  RSRC_CONF | OR_AUTHCFG,
                  "session key (in the express format a dotted path such as "
                  "passport.user) that AuthType session-orm takes the user "
                  "from (default 'user')"),
    /* per server: where the rows live */
    AP_INIT_TAKE1("SessionORMFormat", orm_cmd_format, NULL, RSRC_CONF,
                  "native (default) or express: connect-mikro-orm's table "
                  "and express-session's signed cookie"),
    AP_INIT_TAKE_ARGV("SessionORMSecret", orm_cmd_secret, NULL, RSRC_CONF,
                      "the express format's cookie secrets, each as is or "
                      "exec:/path/to/program: the first signs, all verify"),
    AP_INIT_TAKE1("SessionORMTable", orm_cmd_table, NULL, RSRC_CONF,
                  "table holding the sessions (default 'session')"),
    AP_INIT_TAKE2("SessionORMColumn", orm_cmd_column, NULL, RSRC_CONF,
                  "field (id, data, expires_at, user_name, created_at, "
                  "updated_at) and the column name it maps to"),
    AP_INIT_FLAG("SessionORMCreateSchema", orm_cmd_create_schema, NULL,
                 RSRC_CONF,
                 "On (default) to create the table and indexes if missing"),
    AP_INIT_TAKE1("SessionORMDialect", orm_cmd_dialect, NULL, RSRC_CONF,
                  "the SQL to write: auto (default: the driver's, or under "
                  "odbc the database's), sqlite, pgsql, mysql or portable"),
    /* per server: the expiry sweep */
    AP_INIT_TAKE1("SessionORMSweepInterval", orm_cmd_sweep_interval, NULL,
                  RSRC_CONF,
                  "seconds between sweeps of expired sessions (default 300, "
                  "0 = never; purge with the admin tool instead)"),
    AP_INIT_TAKE1("SessionORMSweepBatch", orm_cmd_sweep_batch, NULL,
                  RSRC_CONF,
                  "expired rows deleted per statement (default 1000)"),
    /* per server: failures */
    AP_INIT_TAKE1("SessionORMRetryAfter", orm_cmd_retry_after, NULL,
                  RSRC_CONF,
                  "seconds requests skip a database that failed to connect, "
                  "and the 503's Retry-After (default 2)"),
    AP_INIT_TAKE1("SessionORMTimeout", orm_cmd_timeout, NULL, RSRC_CONF,
                  "seconds a request waits for one call into the database "
                  "before it is answered per SessionORMOnError (default 5)"),
    /* main server: the cache all virtual hosts read sessions through */
    AP_INIT_TAKE1("SessionORMCache", orm_cmd_cache, NULL, RSRC_CONF,
                  "Off (default) or the absolute path of the file the admin "
                  "tool raises to drop every cached session: read sessions "
                  "through a cache in shared memory"),
    AP_INIT_TAKE1("SessionORMCacheSeconds", orm_cmd_cache_seconds, NULL,
                  RSRC_CONF,
                  "seconds a cached session is used before its row is read "
                  "again: how long changes made outside this httpd go "
                  "unseen (default 5)"),
    AP_INIT_TAKE1("SessionORMCacheEntries", orm_cmd_cache_entries, NULL,
                  RSRC_CONF,
                  "sessions the cache holds (default 1024)"),
    AP_INIT_TAKE1("SessionORMCacheMaxSize", orm_cmd_cache_max_size, NULL,
                  RSRC_CONF,
                  "bytes of data of the largest session the cache keeps "
                  "(default 4096)"),
    /* mod_dbd's directive, also seen here (httpd runs each module's
     * handler of a directive): which servers have a database to sweep */
    AP_INIT_TAKE1("DBDriver", orm_cmd_note_dbd,
                  (void *)APR_OFFSETOF(orm_server_conf_t, dbd_driver),
                  RSRC_CONF,
                  "SQL driver (mod_dbd's directive)"),
    /* and its parameters: a connection the driver cannot reconnect (odbc)
     * is opened anew in place */
    AP_INIT_TAKE1("DBDParams", orm_cmd_note_dbd,
                  (void *)APR_OFFSETOF(orm_server_conf_t, dbd_params),
                  RSRC_CONF,
                  "SQL driver parameters (mod_dbd's directive)"),
    { NULL }
};

static void register_hooks(apr_pool_t *p)
{
    static const char *const after_mod_dbd[] = { "mod_dbd.c", NULL };
    static const char *const after_mod_session[] = { "mod_session.c", NULL };
    (void)p;

    /* mod_session asks each provider in turn; we answer where configured */
    ap_hook_session_load(orm_session_load, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_session_save(orm_session_save, NULL, NULL, APR_HOOK_MIDDLE);
    /* our locks (sweep, SQLite writers) can be placed with Mutex */
    ap_hook_pre_config(orm_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* AuthType session-orm: the user the session names */
    ap_hook_check_authn(orm_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    /* SessionORMOnError fail: a 503 once mod_session has tried the load */
    ap_hook_fixups(orm_fixups, after_mod_session, NULL, APR_HOOK_MIDDLE);
    /* refuse what the configuration alone dooms, before "Syntax OK" */
    ap_hook_check_config(orm_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* generate SQL; set up the sweep */
    ap_hook_post_config(orm_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* each child attaches to the SQLite writers' lock, and under prefork
     * notes its request in flight for an immediate stop */
    ap_hook_child_init(orm_store_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* each child's watchdog ends overdue database calls; first, so it is
     * still there while the sweep thread stops at child exit */
    ap_hook_child_init(orm_watchdog_child_init, NULL, NULL, APR_HOOK_FIRST);
    /* SetHandler session-orm-status: the counters as HTML, JSON or
     * Prometheus text */
    ap_hook_handler(orm_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* the same in mod_status's /server-status, where it is loaded */
    APR_OPTIONAL_HOOK(ap, status_hook, orm_status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
    /* the sweep thread takes connections from mod_dbd's pool: after it */
    ap_hook_child_init(orm_sweeper_child_init, after_mod_dbd, NULL,
                       APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(session_orm) = {
    STANDARD20_MODULE_STUFF,
    orm_create_dir_config,
    orm_merge_dir_config,
    orm_create_server_config,
    orm_merge_server_config,
    session_orm_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
