/**
 * Directive handlers and the configuration record hooks. The records and
 * their merge live in orm_conf.c; this file turns directive arguments into
 * them and rejects bad values with a message naming the directive.
 */
#ifndef ORM_DIRECTIVES_H
#define ORM_DIRECTIVES_H

#include "httpd.h"
#include "http_config.h"

void *orm_create_dir_config(apr_pool_t *pool, char *dir);
void *orm_merge_dir_config(apr_pool_t *pool, void *parent, void *child);
void *orm_create_server_config(apr_pool_t *pool, server_rec *s);
void *orm_merge_server_config(apr_pool_t *pool, void *parent, void *child);

const char *orm_cmd_cookie_name(cmd_parms *cmd, void *dconf, int argc,
                                char *const argv[]);
const char *orm_cmd_per_user(cmd_parms *cmd, void *dconf, int on);
const char *orm_cmd_cookie_remove(cmd_parms *cmd, void *dconf, int on);
const char *orm_cmd_ttl(cmd_parms *cmd, void *dconf, const char *arg);
const char *orm_cmd_touch_interval(cmd_parms *cmd, void *dconf,
                                   const char *arg);
const char *orm_cmd_table(cmd_parms *cmd, void *dconf, const char *arg);
const char *orm_cmd_column(cmd_parms *cmd, void *dconf, const char *field,
                           const char *name);
const char *orm_cmd_format(cmd_parms *cmd, void *dconf, const char *arg);
const char *orm_cmd_secret(cmd_parms *cmd, void *dconf, int argc,
                           char *const argv[]);
const char *orm_cmd_user_key(cmd_parms *cmd, void *dconf, const char *arg);
const char *orm_cmd_create_schema(cmd_parms *cmd, void *dconf, int on);
const char *orm_cmd_dialect(cmd_parms *cmd, void *dconf, const char *arg);
const char *orm_cmd_sweep_interval(cmd_parms *cmd, void *dconf,
                                   const char *arg);
const char *orm_cmd_sweep_batch(cmd_parms *cmd, void *dconf, const char *arg);
const char *orm_cmd_on_error(cmd_parms *cmd, void *dconf, const char *arg);
const char *orm_cmd_max_size(cmd_parms *cmd, void *dconf, const char *arg);
const char *orm_cmd_rotate_grace(cmd_parms *cmd, void *dconf,
                                 const char *arg);
/** mod_dbd's DBDriver and DBDParams, also seen here: the value kept in
 *  the server record's member at offset cmd->info. */
const char *orm_cmd_note_dbd(cmd_parms *cmd, void *dconf, const char *arg);
const char *orm_cmd_retry_after(cmd_parms *cmd, void *dconf, const char *arg);
const char *orm_cmd_timeout(cmd_parms *cmd, void *dconf, const char *arg);
/** SessionORMCache, SessionORMCacheSeconds, SessionORMCacheEntries,
 *  SessionORMCacheMaxSize: main server only. */
const char *orm_cmd_cache(cmd_parms *cmd, void *dconf, const char *arg);
const char *orm_cmd_cache_seconds(cmd_parms *cmd, void *dconf,
                                  const char *arg);
const char *orm_cmd_cache_entries(cmd_parms *cmd, void *dconf,
                                  const char *arg);
const char *orm_cmd_cache_max_size(cmd_parms *cmd, void *dconf,
                                   const char *arg);

/** check_config: what the merged configuration alone decides (mod_dbd
 *  loaded where sessions are kept, distinct column names), so that
 *  apache2 -t fails on it. */
int orm_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                     server_rec *s);


#endif
