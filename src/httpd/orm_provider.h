/**
 * The storage provider: mod_session's session_load and session_save hooks,
 * the cookie that carries the token, and the per-request record cache.
 */
#ifndef ORM_PROVIDER_H
#define ORM_PROVIDER_H

#include "httpd.h"
#include "mod_session.h"

/** session_load hook: DECLINED where no SessionORM key is configured. */
apr_status_t orm_session_load(request_rec *r, session_rec **z);

/** session_save hook: DECLINED where no SessionORM key is configured. */
apr_status_t orm_session_save(request_rec *r, session_rec *z);

/** fixups, after mod_session's: answers 503 when the session could not be
 *  loaded and SessionORMOnError is fail. */
int orm_fixups(request_rec *r);

/** pre_config: registers our cross-process locks for the Mutex
 *  directive. */
int orm_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);

/** post_config: builds each server's store and sets up the sweep. */
int orm_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                    server_rec *s);

#endif
