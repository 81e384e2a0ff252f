#include <apr_strings.h>

#include "orm_conf.h"
#include "orm_ttl.h"

#define MERGED(field) (child->field != ORM_UNSET ? child->field : parent->field)

/* The members that are ORM_UNSET until a directive sets them and merge as
 * "the child's if set, else the parent's", listed once for create and
 * merge. The others (the cookie name with its attributes, the TTL with its
 * expression, the schema, the strings that are NULL until set,
 * sessions_configured) merge by rules of their own below. */
#define DIR_PLAIN_MEMBERS(X) \
    X(per_user) X(cookie_remove) X(touch_seconds) X(on_error) X(max_size) \
    X(grace_seconds)
#define SERVER_PLAIN_MEMBERS(X) \
    X(create_schema) X(sweep_seconds) X(sweep_batch) \
    X(retry_seconds) X(timeout_seconds) X(cache_seconds) X(cache_entries) \
    X(cache_max_size)
#define SET_UNSET(member) conf->member = ORM_UNSET;
#define MERGE_PLAIN(member) merged->member = MERGED(member);

orm_dir_conf_t *orm_dir_conf_create(apr_pool_t *pool)
{
    orm_dir_conf_t *conf = apr_pcalloc(pool, sizeof(*conf));

    orm_cookie_attrs_init(&conf->cookie_attrs);
    conf->ttl_seconds = ORM_UNSET;
    DIR_PLAIN_MEMBERS(SET_UNSET)
    return conf;
}

orm_dir_conf_t *orm_dir_conf_merge(apr_pool_t *pool,
                                   const orm_dir_conf_t *parent,
                                   const orm_dir_conf_t *child)
{
    orm_dir_conf_t *merged = apr_pcalloc(pool, sizeof(*merged));
    int child_sets_ttl = child->ttl_seconds != ORM_UNSET
                         || child->ttl_expr != NULL;

    if (child->cookie_name) {
        merged->cookie_name = child->cookie_name;
        merged->cookie_attrs = child->cookie_attrs;
    }
    else {
        merged->cookie_name = parent->cookie_name;
        merged->cookie_attrs = parent->cookie_attrs;
    }
    DIR_PLAIN_MEMBERS(MERGE_PLAIN)
    /* a fixed TTL and an expression are one setting: the child's wins whole */
    merged->ttl_seconds = child_sets_ttl ? child->ttl_seconds
                                         : parent->ttl_seconds;
    merged->ttl_expr = child_sets_ttl ? child->ttl_expr : parent->ttl_expr;
    merged->user_key = child->user_key ? child->user_key : parent->user_key;
    return merged;
}

orm_server_conf_t *orm_server_conf_create(apr_pool_t *pool)
{
    orm_server_conf_t *conf = apr_pcalloc(pool, sizeof(*conf));

    SERVER_PLAIN_MEMBERS(SET_UNSET)
    return conf;
}

orm_server_conf_t *orm_server_conf_merge(apr_pool_t *pool,
                                         const orm_server_conf_t *parent,
                                         const orm_server_conf_t *child)
{
    orm_server_conf_t *merged = apr_pcalloc(pool, sizeof(*merged));

    orm_schema_merge(&merged->schema, &parent->schema, &child->schema);
    SERVER_PLAIN_MEMBERS(MERGE_PLAIN)
    merged->dialect = child->dialect ? child->dialect : parent->dialect;
    merged->dbd_driver = child->dbd_driver ? child->dbd_driver
                                           : parent->dbd_driver;
    merged->dbd_params = child->dbd_params ? child->dbd_params
                                           : parent->dbd_params;
    merged->secrets = child->secrets ? child->secrets : parent->secrets;
    merged->cache_file = child->cache_file ? child->cache_file
                                           : parent->cache_file;
    merged->sessions_configured = child->sessions_configured;
    return merged;
}

orm_key_mode_e orm_dir_key_mode(const orm_dir_conf_t *conf)
{
    if (conf->per_user == 1) {
        return ORM_KEY_USER;
    }
    return conf->cookie_name ? ORM_KEY_COOKIE : ORM_KEY_NONE;
}

int orm_dir_cookie_remove(const orm_dir_conf_t *conf)
{
    return conf->cookie_remove != 0;
}

apr_int64_t orm_dir_touch_seconds(const orm_dir_conf_t *conf)
{
    return conf->touch_seconds != ORM_UNSET ? conf->touch_seconds
                                            : ORM_DEFAULT_TOUCH_SECONDS;
}

int orm_server_create_schema(const orm_server_conf_t *conf)
{
    return conf->create_schema != 0;
}

const char *orm_server_dialect(const orm_server_conf_t *conf)
{
    return conf->dialect ? conf->dialect : "auto";
}

apr_int64_t orm_server_sweep_seconds(const orm_server_conf_t *conf)
{
    return conf->sweep_seconds != ORM_UNSET ? conf->sweep_seconds
                                            : ORM_DEFAULT_SWEEP_SECONDS;
}

int orm_server_sweep_batch(const orm_server_conf_t *conf)
{
    return conf->sweep_batch != ORM_UNSET ? conf->sweep_batch
                                          : ORM_DEFAULT_SWEEP_BATCH;
}

orm_on_error_e orm_dir_on_error(const orm_dir_conf_t *conf)
{
    return conf->on_error == ORM_ON_ERROR_FAIL ? ORM_ON_ERROR_FAIL
                                               : ORM_ON_ERROR_ANONYMOUS;
}

apr_int64_t orm_dir_max_size(const orm_dir_conf_t *conf)
{
    return conf->max_size != ORM_UNSET ? conf->max_size : 0;
}

const char *orm_dir_user_key(const orm_dir_conf_t *conf)
{
    return conf->user_key ? conf->user_key : "user";
}

apr_int64_t orm_dir_grace_seconds(const orm_dir_conf_t *conf)
{
    return conf->grace_seconds != ORM_UNSET ? conf->grace_seconds
                                            : ORM_DEFAULT_GRACE_SECONDS;
}

apr_int64_t orm_server_retry_seconds(const orm_server_conf_t *conf)
{
    return conf->retry_seconds != ORM_UNSET ? conf->retry_seconds
                                            : ORM_DEFAULT_RETRY_SECONDS;
}

apr_int64_t orm_server_timeout_seconds(const orm_server_conf_t *conf)
{
    return conf->timeout_seconds != ORM_UNSET ? conf->timeout_seconds
                                              : ORM_DEFAULT_TIMEOUT_SECONDS;
}

const char *orm_server_cache_file(const orm_server_conf_t *conf)
{
    return conf->cache_file && *conf->cache_file ? conf->cache_file : NULL;
}

apr_int64_t orm_server_cache_seconds(const orm_server_conf_t *conf)
{
    return conf->cache_seconds != ORM_UNSET ? conf->cache_seconds
                                            : ORM_DEFAULT_CACHE_SECONDS;
}

int orm_server_cache_entries(const orm_server_conf_t *conf)
{
    return conf->cache_entries != ORM_UNSET ? conf->cache_entries
                                            : ORM_DEFAULT_CACHE_ENTRIES;
}

apr_int64_t orm_server_cache_max_size(const orm_server_conf_t *conf)
{
    return conf->cache_max_size != ORM_UNSET ? conf->cache_max_size
                                             : ORM_DEFAULT_CACHE_MAX_SIZE;
}
