/**
 * Configuration records, free of httpd headers so that create, merge and
 * the defaults can be unit-tested. Every member has an "unset" value; a merge
 * takes the child's value if set, else the parent's; defaults are applied
 * only by the getters below, never stored.
 */
#ifndef ORM_CONF_H
#define ORM_CONF_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "orm_cookie.h"
#include "orm_schema.h"

#define ORM_UNSET (-1)

/* What post_config builds for a server; defined in src/httpd, which this
 * header may not include. */
struct orm_store_t;
struct orm_sweeper_t;

#define ORM_DEFAULT_SWEEP_SECONDS 300
#define ORM_DEFAULT_SWEEP_BATCH   1000
#define ORM_MAX_SWEEP_BATCH       100000
#define ORM_DEFAULT_RETRY_SECONDS 2
#define ORM_DEFAULT_GRACE_SECONDS 5
#define ORM_DEFAULT_TIMEOUT_SECONDS 5
#define ORM_MAX_TIMEOUT_SECONDS   600
#define ORM_DEFAULT_CACHE_SECONDS 5
#define ORM_DEFAULT_CACHE_ENTRIES 1024
#define ORM_DEFAULT_CACHE_MAX_SIZE 4096

/** What a request gets while the database cannot be reached. */
typedef enum {
    ORM_ON_ERROR_ANONYMOUS = 0, /* served as if it had no session */
    ORM_ON_ERROR_FAIL           /* 503 with Retry-After */
} orm_on_error_e;

/** How a scope's sessions are keyed. */
typedef enum {
    ORM_KEY_NONE = 0,   /* not ours here: the hooks decline */
    ORM_KEY_COOKIE,     /* anonymous, by a cookie token */
    ORM_KEY_USER        /* by the authenticated user, r->user */
} orm_key_mode_e;

/** Per-directory configuration. */
typedef struct {
    const char *cookie_name;        /* NULL: unset */
    orm_cookie_attrs_t cookie_attrs; /* set together with cookie_name */
    int per_user;                   /* ORM_UNSET, 0 or 1 */
    int cookie_remove;              /* ORM_UNSET, 0 or 1 */
    apr_int64_t ttl_seconds;        /* ORM_UNSET or a fixed TTL */
    const void *ttl_expr;           /* compiled ap_expr_info_t, or NULL;
                                     * opaque so this header needs no httpd */
    apr_int64_t touch_seconds;      /* ORM_UNSET or the touch interval */
    int on_error;                   /* ORM_UNSET or an orm_on_error_e */
    apr_int64_t max_size;           /* ORM_UNSET, 0 (no limit) or bytes */
    apr_int64_t grace_seconds;      /* ORM_UNSET or how long the marker of
                                     * a rotated-away token is kept */
    const char *user_key;           /* NULL: unset; SessionORMUserKey, the
                                     * session key (a dotted path in the
                                     * express format) AuthType session-orm
                                     * takes r->user from */
} orm_dir_conf_t;

/** Per-server (virtual host) configuration: where the rows live. */
typedef struct {
    orm_schema_t schema;
    int create_schema;              /* ORM_UNSET, 0 or 1 */
    const char *dialect;            /* NULL (unset), "auto" or a dialect's
                                     * name, checked by the directive */
    apr_int64_t sweep_seconds;      /* ORM_UNSET, 0 (off) or the interval */
    int sweep_batch;                /* ORM_UNSET or rows per DELETE */
    apr_int64_t retry_seconds;      /* ORM_UNSET or how long requests skip
                                     * an unreachable database */
    apr_int64_t timeout_seconds;    /* ORM_UNSET or how long a request waits
                                     * for one call into the database */
    const char *dbd_driver;         /* NULL or the name DBDriver gave for
                                     * this server or inherited from the
                                     * main server, as mod_dbd merges it */
    const char *dbd_params;         /* NULL or DBDParams, merged the same
                                     * way: to connect anew where the
                                     * driver does not reconnect (odbc) */
    apr_array_header_t *secrets;    /* NULL: unset; SessionORMSecret (the
                                     * express format's), of const char *:
                                     * the first signs, all verify */
    const char *cache_file;         /* NULL: unset; "" (Off) or the
                                     * SessionORMCache file: main server
                                     * only, checked by the directive */
    apr_int64_t cache_seconds;      /* ORM_UNSET or an entry's lifetime */
    int cache_entries;              /* ORM_UNSET or sessions kept */
    apr_int64_t cache_max_size;     /* ORM_UNSET or the largest data
                                     * kept, bytes */
    int sessions_configured;        /* a directive of ours enables sessions
                                     * somewhere in this server (not merged:
                                     * a fact about this server's sections) */
    struct orm_store_t *store;      /* the store built for this server in
                                     * post_config */
    struct orm_sweeper_t *sweeper;  /* main server only: the sweep targets,
                                     * lock and shared state built in
                                     * post_config */
} orm_server_conf_t;

orm_dir_conf_t *orm_dir_conf_create(apr_pool_t *pool);
orm_dir_conf_t *orm_dir_conf_merge(apr_pool_t *pool,
                                   const orm_dir_conf_t *parent,
                                   const orm_dir_conf_t *child);

orm_server_conf_t *orm_server_conf_create(apr_pool_t *pool);
orm_server_conf_t *orm_server_conf_merge(apr_pool_t *pool,
                                         const orm_server_conf_t *parent,
                                         const orm_server_conf_t *child);

orm_key_mode_e orm_dir_key_mode(const orm_dir_conf_t *conf);
int orm_dir_cookie_remove(const orm_dir_conf_t *conf);          /* On */
apr_int64_t orm_dir_touch_seconds(const orm_dir_conf_t *conf);  /* 60 */
orm_on_error_e orm_dir_on_error(const orm_dir_conf_t *conf);  /* anonymous */
apr_int64_t orm_dir_max_size(const orm_dir_conf_t *conf);       /* 0: none */
apr_int64_t orm_dir_grace_seconds(const orm_dir_conf_t *conf);  /* 5 */
const char *orm_dir_user_key(const orm_dir_conf_t *conf);     /* "user" */
int orm_server_create_schema(const orm_server_conf_t *conf);    /* On */
const char *orm_server_dialect(const orm_server_conf_t *conf);  /* auto */
apr_int64_t orm_server_sweep_seconds(const orm_server_conf_t *conf); /* 300 */
int orm_server_sweep_batch(const orm_server_conf_t *conf);      /* 1000 */
apr_int64_t orm_server_retry_seconds(const orm_server_conf_t *conf); /* 2 */
apr_int64_t orm_server_timeout_seconds(const orm_server_conf_t *conf); /* 5 */
/** The SessionORMCache file, NULL when the cache is off (the default). */
const char *orm_server_cache_file(const orm_server_conf_t *conf);
apr_int64_t orm_server_cache_seconds(const orm_server_conf_t *conf); /* 5 */
int orm_server_cache_entries(const orm_server_conf_t *conf);    /* 1024 */
apr_int64_t orm_server_cache_max_size(const orm_server_conf_t *conf);
                                                                /* 4096 */

#endif
