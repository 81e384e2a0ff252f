/**
 * Reads, from httpd configuration files, the few directives the admin tool
 * needs to reach the same table httpd uses: DBDriver, DBDParams,
 * SessionORMTable, SessionORMColumn and SessionORMSweepBatch. Include and
 * IncludeOptional are followed (globs, paths relative to ServerRoot),
 * ${NAME} is replaced from Define and the environment, and a <VirtualHost>
 * is read only when it is the one asked for. No httpd headers.
 */
#ifndef ORM_HTTPD_CONF_H
#define ORM_HTTPD_CONF_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_errno.h>

#include "orm_schema.h"

typedef struct {
    const char *driver;         /* DBDriver, NULL when not found */
    const char *params;         /* DBDParams */
    orm_schema_t schema;        /* SessionORMTable and SessionORMColumn */
    int sweep_batch;            /* SessionORMSweepBatch, 0 when not found */
    int vhost_found;            /* the vhost asked for was seen */
} orm_httpd_conf_t;

/** Reads path (and what it includes) into conf. server_root resolves
 *  relative paths until a ServerRoot directive says otherwise; vhost, when
 *  not NULL, selects the <VirtualHost> whose ServerName or ServerAlias it
 *  is, whose directives then override the main server's. On error returns
 *  non-success with *errmsg saying which file and line. */
apr_status_t orm_httpd_conf_read(apr_pool_t *pool, const char *path,
                                 const char *server_root, const char *vhost,
                                 orm_httpd_conf_t *conf, const char **errmsg);

#endif
