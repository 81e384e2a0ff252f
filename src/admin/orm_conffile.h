/**
 * Reads, from httpd's configuration, the few directives the admin tool
 * needs to reach the same table httpd uses: DBDriver, DBDParams,
 * SessionORMTable, SessionORMColumn, SessionORMSweepBatch,
 * SessionORMTimeout, SessionORMDialect and SessionORMCache.
 *
 * httpd itself reads the files: `apachectl -t -D DUMP_CONFIG` with mod_info
 * loaded through -C prints the configuration tree as httpd built it, with
 * <IfDefine>, <IfModule>, <IfFile>, <IfDirective>, <IfSection>, <IfVersion>
 * evaluated, Include and IncludeOptional followed, ${NAME} replaced,
 * continuation lines joined and comments dropped. Re-implementing that
 * (every module's directives for <IfDirective>, the -D flags of Debian's
 * envvars, httpd's line reader) could only come close; asking httpd is
 * exact. No httpd headers.
 */
#ifndef ORM_CONFFILE_H
#define ORM_CONFFILE_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_errno.h>
#include <apr_tables.h>

#include "orm_schema.h"

typedef struct {
    const char *driver;         /* DBDriver, NULL when not found */
    const char *params;         /* DBDParams */
    orm_schema_t schema;        /* SessionORMTable and SessionORMColumn */
    int sweep_batch;            /* SessionORMSweepBatch, 0 when not found */
    const char *timeout;        /* SessionORMTimeout as written, or NULL */
    const char *dialect;        /* SessionORMDialect as written, or NULL */
    const char *cache_file;     /* SessionORMCache as written ("Off" or a
                                 * path), or NULL */
    int vhost_found;            /* the vhost asked for was seen */
} orm_conffile_t;

/** How to ask httpd for its configuration tree. */
typedef struct {
    const char *apachectl;      /* apachectl (sources envvars) or httpd */
    const char *info_module;    /* path of mod_info.so, loaded with -C */
    const char *config;         /* -f FILE */
    const char *server_root;    /* -d DIR, NULL: httpd's own default */
    const apr_array_header_t *defines;  /* const char *: -D NAME each */
} orm_conffile_ask_t;

/** Runs `apachectl -f FILE [-d DIR] [-D NAME]... -C 'LoadModule
 *  info_module ...' -t -D DUMP_CONFIG` and returns its standard output in
 *  *dump. When httpd refuses the configuration (or cannot be run) returns
 *  non-success with *errmsg carrying what it said. */
apr_status_t orm_conffile_dump(apr_pool_t *pool, const orm_conffile_ask_t *ask,
                                 const char **dump, const char **errmsg);

/** Reads a DUMP_CONFIG tree into conf. vhost, when not NULL, selects the
 *  first <VirtualHost> whose ServerName or ServerAlias it is, whose
 *  directives then override the main server's. Fails with *errmsg naming
 *  the file and line for an invalid name, for one of our directives inside
 *  a section other than <VirtualHost> (httpd refuses them in <Directory>,
 *  <Location>, <If> and the like; what is left, such as <Limit>, this
 *  reader does not judge), and for a ${NAME} httpd left unreplaced in a
 *  value the tool would use (it defines nothing of that name). */
apr_status_t orm_conffile_parse(apr_pool_t *pool, const char *dump,
                                  const char *vhost, orm_conffile_t *conf,
                                  const char **errmsg);

#endif
