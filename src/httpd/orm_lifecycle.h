/**
 * The module's configuration-time lifecycle: the locks it registers before
 * the configuration is read, and the runtime objects built once it has
 * been (each server's store, the sweep). Requests never come here.
 */
#ifndef ORM_LIFECYCLE_H
#define ORM_LIFECYCLE_H

#include "httpd.h"

/** pre_config: registers our cross-process locks for the Mutex
 *  directive. */
int orm_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);

/** post_config: logs the module's version (ORM0010), builds each server's
 *  store and sets up the sweep. */
int orm_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                    server_rec *s);

#endif
