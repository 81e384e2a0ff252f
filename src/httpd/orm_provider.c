#include <string.h>

#include "apr_strings.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "ap_expr.h"

#include "orm_log.h"
#include "orm_cache_store.h"
#include "orm_conf.h"
#include "orm_cookie.h"
#include "orm_db.h"
#include "orm_express.h"
#include "orm_express_store.h"
#include "orm_owner.h"
#include "orm_policy.h"
#include "orm_status.h"
#include "orm_store.h"
#include "orm_token.h"
#include "orm_integer.h"
#include "orm_ttl.h"
#include "orm_write.h"
#include "orm_provider.h"

/** What one top-level request knows about its session. Subrequests and
 *  internal redirects find it in the top request's config and share it. */
typedef struct {
    session_rec *z;
    const char *token;          /* the cookie token of the stored row; NULL
                                 * when unknown (new, or reached through a
                                 * rotated-away token) */
    const char *id;             /* the stored row's id, NULL when none */
    const orm_row_t *row;       /* the stored row as loaded or last saved */
    int cookie_presented;       /* the client sent our cookie */
    int rotated_away;           /* its token was rotated away by a login
                                 * or logout: nothing is loaded, and
                                 * nothing saved unless it logs in */
    int load_failed;            /* the database could not be asked */
} orm_request_t;

static request_rec *top_request(request_rec *r)
{
    while (r->main || r->prev) {
        r = r->main ? r->main : r->prev;
    }
    return r;
}

static orm_dir_conf_t *dir_conf(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &session_orm_module);
}

static orm_server_conf_t *server_conf(request_rec *r)
{
    return ap_get_module_config(r->server->module_config,
                                &session_orm_module);
}

static const orm_store_t *server_store(request_rec *r)
{
    return server_conf(r)->store;
}

/* The express format: express-session's signed cookie and sids kept in
 * clear in connect-mikro-orm's table; else ours: tokens, kept as their
 * digests. */
static int express_format(request_rec *r)
{
    return orm_schema_format(&server_conf(r)->schema) == ORM_FORMAT_EXPRESS;
}

/* The row id of a cookie's token (the express format's sid). */
static const char *token_id(request_rec *r, apr_pool_t *pool,
                            const char *token)
{
    return express_format(r) ? token : orm_token_digest(pool, token);
}

/* What the express format tells of the rows it reads and writes: an
 * unreadable row once a minute per server (a client can present it on
 * every request), keys it could not write at debug. */
static void report_express(void *baton, const char *id, const char *what,
                           const char *detail)
{
    request_rec *r = baton;
    apr_uint32_t suppressed = 0;
    int level;

    if (!strcmp(what, "shadowed")) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0220)
                      "session %.*s: keys %s name objects of the Express "
                      "app's session and were not written",
                      ORM_ID_PREFIX_LEN, id, detail);
        return;
    }
    level = orm_store_log_due(server_store(r), ORM_GATE_DATA, &suppressed)
            ? APLOG_WARNING : APLOG_DEBUG;
    ap_log_rerror(APLOG_MARK, level, 0, r, ORM_LOGNO(0221)
                  "session %.*s: %s (%s); the row is left as it is (%u "
                  "more such warnings since the last, logged at most every "
                  "%d s)", ORM_ID_PREFIX_LEN, id, what,
                  detail ? detail : "no detail", (unsigned)suppressed,
                  ORM_LOG_GATE_SECONDS);
}

/* Counts each key looked up through the cache, and says which it had. */
static void report_cache(void *baton, const char *id, int hit)
{
    request_rec *r = baton;

    orm_status_count(server_store(r), hit ? ORM_METRIC_CACHE_HITS
                                          : ORM_METRIC_CACHE_MISSES);
    if (hit) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0403)
                      "session %.*s read from the cache", ORM_ID_PREFIX_LEN,
                      id);
    }
}

/* The cache's way to the database, at the first miss or write. */
static apr_status_t connect_cached(void *baton, orm_conn_t *inner)
{
    request_rec *r = baton;

    return orm_store_connect(r, server_store(r), inner);
}

/* A connection to the server's store for this request: read through the
 * cache when there is one (which connects only when it must); in the
 * express format seen through it (rows as mod_session's data, written as
 * JSON), with rows living ttl seconds. */
static apr_status_t connect_store(request_rec *r, apr_int64_t ttl,
                                  orm_conn_t *conn)
{
    const orm_store_t *store = server_store(r);
    orm_conn_t *inner;
    orm_express_use_t *use;
    apr_status_t rv;

    if (!express_format(r)) {
        if (store->cache == NULL) {
            return orm_store_connect(r, store, conn);
        }
        orm_cache_store_wrap(conn, r->pool, store->cache, store->cache_key,
                             connect_cached, report_cache, r);
        return APR_SUCCESS;
    }
    inner = apr_pcalloc(r->pool, sizeof(*inner));
    if ((rv = orm_store_connect(r, store, inner)) != APR_SUCCESS) {
        return rv;
    }
    use = apr_pcalloc(r->pool, sizeof(*use));
    use->ttl_ms = ttl * 1000;
    use->cookie_max_age_ms = ttl * 1000;
    use->report = report_express;
    use->baton = r;
    orm_express_store_wrap(conn, r->pool, inner, use);
    return APR_SUCCESS;
}

static apr_status_t random_bytes(unsigned char *buf, apr_size_t len)
{
    return apr_generate_random_bytes(buf, len);
}

/* The row the request now has, under id, reached by token. */
static void remember_session(orm_request_t *state, const char *id,
                             const char *token, const orm_row_t *row)
{
    state->token = token;
    state->id = id;
    state->row = row;
}

static void forget_session(orm_request_t *state)
{
    state->token = NULL;
    state->id = NULL;
    state->row = NULL;
}

static void log_malformed_cookie(void *baton, const char *value)
{
    request_rec *r = baton;

    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0202)
                  "ignoring a malformed %s cookie (%" APR_SIZE_T_FMT
                  " bytes)", dir_conf(r)->cookie_name, strlen(value));
}

/* The sids of the express-session cookies whose signature one of the
 * secrets verifies, in the order sent, as many as tokens are tried; no
 * other is looked up, as express-session does. */
static apr_array_header_t *express_sids(request_rec *r, apr_pool_t *pool,
                                        const apr_array_header_t *values)
{
    const apr_array_header_t *secrets = server_conf(r)->secrets;
    apr_array_header_t *sids = apr_array_make(pool, 1, sizeof(const char *));
    int i;

    for (i = 0; i < values->nelts && sids->nelts < ORM_MAX_COOKIE_TOKENS;
         i++) {
        const char *value = APR_ARRAY_IDX(values, i, const char *);
        const char *sid = orm_express_unsign(pool, value, secrets);

        if (sid) {
            APR_ARRAY_PUSH(sids, const char *) = sid;
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0222)
                          "ignoring a %s cookie whose signature no "
                          "SessionORMSecret verifies (%" APR_SIZE_T_FMT
                          " bytes): not looked up",
                          dir_conf(r)->cookie_name, strlen(value));
        }
    }
    return sids;
}

/* The tokens among the request's cookies of our name that a load tries;
 * the header keeps our pairs unless CookieRemove. */
static apr_array_header_t *cookie_tokens(request_rec *r, apr_pool_t *pool,
                                         const orm_dir_conf_t *dconf,
                                         int *presented)
{
    const char *header = apr_table_get(r->headers_in, "Cookie");
    /* read here rather than with ap_cookie_read, which logs an error for
     * every request that repeats the cookie: clients can */
    apr_array_header_t *values = orm_cookie_values(pool, header,
                                                   dconf->cookie_name);
    apr_array_header_t *tokens = express_format(r)
        ? express_sids(r, pool, values)
        : orm_policy_cookie_tokens(pool, values, log_malformed_cookie, r);

    *presented = values->nelts > 0;
    if (values->nelts && orm_dir_cookie_remove(dconf)) {
        const char *others = orm_cookie_strip(r->pool, header,
                                              dconf->cookie_name);
        if (others) {
            apr_table_set(r->headers_in, "Cookie", others);
        }
        else {
            apr_table_unset(r->headers_in, "Cookie");
        }
    }
    return tokens;
}

static apr_int64_t request_ttl(request_rec *r, const orm_dir_conf_t *dconf,
                               const session_rec *z)
{
    if (dconf->ttl_expr) {
        const char *err = NULL;
        const char *value = ap_expr_str_exec(r, dconf->ttl_expr, &err);
        apr_int64_t ttl;

        if (err == NULL) {
            err = orm_integer_parse(r->pool, value, 1, ORM_MAX_SECONDS,
                                    "seconds", &ttl);
        }
        if (err == NULL) {
            return ttl;
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ORM_LOGNO(0204)
                      "SessionORMTTL expression gave no usable TTL (%s); "
                      "using the default", err);
    }
    else if (dconf->ttl_seconds != ORM_UNSET) {
        return dconf->ttl_seconds;
    }
    return orm_ttl_default(z->maxage);
}

/** A load's connection, opened at the first key it tries. */
typedef struct {
    orm_conn_t conn;
    int ready;
    int tried;                  /* the store was asked (the status counts
                                 * the load) */
    apr_int64_t ttl;            /* the lifetime rows get here */
} load_conn_t;

/* Reads the live row of one key's id and tells the search what it is;
 * *row is the session it reached, else NULL. APR_EGENERAL when the
 * database could not be asked. */
static apr_status_t try_key(request_rec *r, load_conn_t *load,
                            orm_load_search_t *search, const char *id,
                            orm_row_t **row)
{
    *row = NULL;
    load->tried = 1;
    if (!load->ready) {
        if (connect_store(r, load->ttl, &load->conn) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        load->ready = 1;
    }
    if (orm_store_load(&load->conn, id, orm_now_ms(), row) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    switch (orm_load_search_next(search, *row ? (*row)->data : NULL)) {
    case ORM_REACHED_MARKER:
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0212)
                      "session %.*s was rotated away by a login or logout: "
                      "it reaches nothing", ORM_ID_PREFIX_LEN, id);
        *row = NULL;
        break;
    case ORM_REACHED_NOTHING:
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0203)
                      "no live session %.*s (unknown or expired)",
                      ORM_ID_PREFIX_LEN, id);
        break;
    case ORM_REACHED_SESSION:
        break;
    }
    return APR_SUCCESS;
}

/* Tries the request's keys (its cookie tokens in the order sent, or its
 * user) until one reaches a session, which becomes the state's row; the
 * search says what the keys reached. */
static apr_status_t find_session(request_rec *r, apr_pool_t *pool,
                                 const orm_dir_conf_t *dconf,
                                 orm_key_mode_e mode, orm_request_t *state,
                                 orm_load_search_t *search)
{
    const char *id = NULL, *token = NULL;
    load_conn_t load;
    orm_row_t *row = NULL;
    apr_time_t started = apr_time_now();
    apr_status_t rv = APR_SUCCESS;

    load.ready = 0;
    load.tried = 0;
    load.ttl = request_ttl(r, dconf, state->z);
    if (mode == ORM_KEY_USER) {
        orm_load_search_init(search, 0);
        if (r->user) {
            id = orm_user_digest(pool, r->user);
            rv = try_key(r, &load, search, id, &row);
        }
    }
    else {
        int presented, i;
        apr_array_header_t *tokens = cookie_tokens(r, pool, dconf,
                                                   &presented);

        /* the express format's cookie is the app's: one httpd does not
         * honour is left alone (the app may), never expired */
        orm_load_search_init(search, presented && !express_format(r));
        for (i = 0; i < tokens->nelts && !search->found && rv == APR_SUCCESS;
             i++) {
            token = APR_ARRAY_IDX(tokens, i, const char *);
            id = token_id(r, pool, token);
            rv = try_key(r, &load, search, id, &row);
        }
    }
    if (load.tried) {
        orm_status_loaded(server_store(r), started);
    }
    if (rv == APR_SUCCESS && row) {
        remember_session(state, id, token, row);
    }
    return rv;
}

static orm_request_t *load_session(request_rec *r, request_rec *top,
                                   const orm_dir_conf_t *dconf,
                                   orm_key_mode_e mode)
{
    orm_request_t *state = apr_pcalloc(top->pool, sizeof(*state));
    session_rec *z = apr_pcalloc(top->pool, sizeof(*z));
    const orm_row_t *found;
    orm_load_search_t search;
    apr_status_t rv;

    z->pool = top->pool;
    z->entries = apr_table_make(top->pool, 8);
    state->z = z;
    rv = find_session(r, top->pool, dconf, mode, state, &search);
    state->cookie_presented = search.cookie_presented;
    state->rotated_away = search.rotated_away;
    if (rv != APR_SUCCESS) {
        state->load_failed = 1;
        return state;
    }
    found = state->row;
    z->dirty = orm_load_dirty(&search, found, orm_now_ms(),
                              orm_dir_touch_seconds(dconf));
    if (found) {
        z->encoded = found->data;
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0201)
                      "loaded session %.*s", ORM_ID_PREFIX_LEN, state->id);
    }
    return state;
}

apr_status_t orm_session_load(request_rec *r, session_rec **z)
{
    const orm_dir_conf_t *dconf = dir_conf(r);
    orm_key_mode_e mode = orm_dir_key_mode(dconf);
    request_rec *top;
    orm_request_t *state;

    if (mode == ORM_KEY_NONE) {
        return DECLINED;
    }
    /* mod_session asks again for every get, set and the final save */
    top = top_request(r);
    state = ap_get_module_config(top->request_config, &session_orm_module);
    if (state == NULL) {
        state = load_session(r, top, dconf, mode);
        ap_set_module_config(top->request_config, &session_orm_module, state);
    }
    *z = state->z;
    return OK;
}

const char *orm_session_value(request_rec *r, const char *path)
{
    APR_OPTIONAL_FN_TYPE(ap_session_load) *load_fn =
        APR_RETRIEVE_OPTIONAL_FN(ap_session_load);
    APR_OPTIONAL_FN_TYPE(ap_session_get) *get_fn =
        APR_RETRIEVE_OPTIONAL_FN(ap_session_get);
    const orm_request_t *state;
    session_rec *z = NULL;
    const char *value = NULL;

    if (load_fn == NULL || get_fn == NULL || load_fn(r, &z) != APR_SUCCESS
        || z == NULL) {
        return NULL;
    }
    state = ap_get_module_config(top_request(r)->request_config,
                                 &session_orm_module);
    if (express_format(r) && strchr(path, '.') && state && state->z == z
        && state->row && state->row->source) {
        return orm_express_lookup(r->pool, state->row->source, path);
    }
    get_fn(r, z, path, &value);
    return value && *value ? value : NULL;
}

int orm_fixups(request_rec *r)
{
    const orm_dir_conf_t *dconf = dir_conf(r);
    const orm_request_t *state;

    if (r->main || orm_dir_key_mode(dconf) == ORM_KEY_NONE
        || orm_dir_on_error(dconf) != ORM_ON_ERROR_FAIL) {
        return DECLINED;
    }
    state = ap_get_module_config(top_request(r)->request_config,
                                 &session_orm_module);
    if (state == NULL || !state->load_failed) {
        return DECLINED;
    }
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                server_store(r)->retry_seconds));
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0213)
                  "session could not be loaded and SessionORMOnError is "
                  "fail: 503");
    return HTTP_SERVICE_UNAVAILABLE;
}

/* The one Set-Cookie of the response. err_headers_out survives redirects
 * and errors, and is the only table it goes into. */
static void send_cookie(request_rec *r, const orm_dir_conf_t *dconf,
                        const char *token, apr_int64_t max_age)
{
    int https = !strcmp(ap_http_scheme(r), "https");
    const apr_array_header_t *secrets = server_conf(r)->secrets;

    if (express_format(r) && *token) {
        /* signed by the first secret, as express-session signs */
        token = orm_express_sign(r->pool, token,
                                 APR_ARRAY_IDX(secrets, 0, const char *));
    }
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   orm_cookie_header(r->pool, dconf->cookie_name, token,
                                     &dconf->cookie_attrs, max_age, https));
}

/* An emptied session: its row is deleted, and the cookie expired when the
 * policy says so. */
static void remove_session(request_rec *r, const orm_dir_conf_t *dconf,
                           orm_request_t *state, const orm_save_facts_t *facts)
{
    orm_conn_t conn;

    if (state->id) {
        if (connect_store(r, 0, &conn) != APR_SUCCESS
            || orm_store_remove(&conn, state->id) != APR_SUCCESS) {
            return;             /* logged by the store, once per outage */
        }
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0207)
                      "deleted emptied session %.*s", ORM_ID_PREFIX_LEN,
                      state->id);
    }
    if (orm_policy_remove_expires_cookie(facts)) {
        send_cookie(r, dconf, "", 0);
    }
    forget_session(state);
}

/* A warning at most every ORM_LOG_GATE_SECONDS per server, with the count
 * of the others: a client can send oversized sessions on every request. */
static void log_size_refused(request_rec *r, const char *id,
                             const char *data, apr_int64_t max_size)
{
    apr_uint32_t suppressed;
    int level = orm_store_log_due(server_store(r), ORM_GATE_OVERSIZE,
                                  &suppressed)
                ? APLOG_WARNING : APLOG_DEBUG;

    orm_status_count(server_store(r), ORM_METRIC_FAILED_TOO_BIG);
    ap_log_rerror(APLOG_MARK, level, 0, r, ORM_LOGNO(0210)
                  "session %.*s not saved: %" APR_SIZE_T_FMT " bytes is "
                  "more than SessionORMMaxSize %" APR_INT64_T_FMT "; the "
                  "stored version is kept (%u more since the last such "
                  "warning, logged at most every %d s)", ORM_ID_PREFIX_LEN,
                  id ? id : "(new)", strlen(data), max_size,
                  (unsigned)suppressed, ORM_LOG_GATE_SECONDS);
}

/* The log line of how a write went (orm_write_event_e), under the id of
 * the row the request loaded; a rotation names its new row too. */
static void log_write(request_rec *r, const char *id, const char *new_id,
                      const orm_write_result_t *result)
{
    const orm_merge_t *merge = &result->merge;

    switch (result->event) {
    case ORM_WRITE_WRITTEN:
        break;
    case ORM_WRITE_MERGED:
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0215)
                      "session %.*s was written concurrently: merged this "
                      "request's %s %s%s", ORM_ID_PREFIX_LEN, id,
                      merge->diff ? "changed keys" : "whole data (encrypted)",
                      result->locked ? "under a row lock" : "without a lock",
                      result->combined
                      ? ", written by the write before it in turn"
                      : result->in_turn ? ", onto the write before it in turn"
                                        : "");
        break;
    case ORM_WRITE_CHANGED_NOTHING:
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0214)
                      "session %.*s was written concurrently; this "
                      "request changed nothing", ORM_ID_PREFIX_LEN, id);
        break;
    case ORM_WRITE_ROTATED:
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0216)
                      "owner changed: session %.*s rotated to %.*s",
                      ORM_ID_PREFIX_LEN, id, ORM_ID_PREFIX_LEN, new_id);
        break;
    case ORM_WRITE_ROW_ENDED:
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0211)
                      "session %.*s ended while this request ran (logout, "
                      "revoke or expiry): not saved", ORM_ID_PREFIX_LEN, id);
        break;
    case ORM_WRITE_MOVED:
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0217)
                      "session %.*s was rotated by another request while "
                      "this one ran (login, logout): not saved, and the "
                      "cookie is left to that request", ORM_ID_PREFIX_LEN, id);
        break;
    case ORM_WRITE_TOO_BIG:
        log_size_refused(r, id, merge->refused_data, merge->max_size);
        break;
    case ORM_WRITE_LOST_RACES:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ORM_LOGNO(0219)
                      "session %.*s: the owner change lost %d races "
                      "for the row in a row; not saved",
                      ORM_ID_PREFIX_LEN, id, ORM_ROTATE_ATTEMPTS);
        break;
    }
}

/* The id and token a write goes under: per user the user's row; the row
 * the request has; a new token for a new row or a rotation. NULL id when
 * no token could be made (logged). */
static const char *write_target(request_rec *r, const orm_request_t *state,
                                const orm_save_facts_t *facts,
                                orm_save_e action, const char **token)
{
    apr_status_t rv;

    *token = NULL;
    if (facts->mode == ORM_KEY_USER) {
        return facts->user_id;
    }
    if (action == ORM_SAVE_UPDATE) {
        *token = state->token;
        return state->id;
    }
    rv = express_format(r) ? orm_express_new_sid(r->pool, random_bytes, token)
                           : orm_token_generate(r->pool, random_bytes, token);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, ORM_LOGNO(0208)
                      "no random bytes for a session token: session not "
                      "saved");
        return NULL;
    }
    return token_id(r, r->pool, *token);
}

/* What the client is told, and the request remembers, after a write that
 * went through: the cookie of a saved session, the expiry of one that
 * ended. */
static void answer_write(request_rec *r, const orm_dir_conf_t *dconf,
                         orm_request_t *state,
                         const orm_write_result_t *result, const char *id,
                         const char *token, apr_int64_t ttl)
{
    int by_cookie = orm_dir_key_mode(dconf) == ORM_KEY_COOKIE;

    if (result->outcome == ORM_WRITE_GAVE_WAY) {
        return;
    }
    if (result->outcome == ORM_WRITE_ENDED) {
        if (by_cookie) {
            send_cookie(r, dconf, "", 0);
        }
        forget_session(state);
        return;
    }
    if (by_cookie && token) {
        send_cookie(r, dconf, token, ttl);
    }
    remember_session(state, id, token, result->row);
    state->rotated_away = 0;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0209)
                  "saved session %.*s (ttl %" APR_INT64_T_FMT "s)",
                  ORM_ID_PREFIX_LEN, id, ttl);
}

/* Writes the session as the policy decided (orm_write_session: a
 * rotation, an update of its row or a new row), logs and counts how it
 * went and answers the client. Failures of the store were logged by it, once per
 * outage; mod_session would log each of them again, so it is always told
 * all went well. */
static void write_session(request_rec *r, const orm_dir_conf_t *dconf,
                          orm_request_t *state,
                          const orm_save_facts_t *facts, orm_save_e action)
{
    orm_write_t write;
    orm_write_result_t result;
    const char *token;
    orm_conn_t conn;
    apr_time_t started;
    apr_status_t rv;

    write.facts = facts;
    write.action = action;
    write.ttl_seconds = request_ttl(r, dconf, state->z);
    write.grace_seconds = orm_dir_grace_seconds(dconf);
    write.merge_attempts = ORM_MERGE_ATTEMPTS;
    /* the queue's hints are only sound where a row's id is never used
     * again once the row is gone (a token's digest, not a user's), and
     * the row is written over its version (an express row is written over
     * the JSON it was read with, which the queue does not keep) */
    write.queue = facts->mode == ORM_KEY_COOKIE && !express_format(r)
                  ? server_store(r)->write_queue : NULL;
    write.store = server_store(r);
    write.turn_wait = server_store(r)->timeout;
    if ((write.id = write_target(r, state, facts, action, &token)) == NULL) {
        return;
    }
    started = apr_time_now();
    memset(&result, 0, sizeof(result));
    if ((rv = connect_store(r, write.ttl_seconds, &conn)) == APR_SUCCESS) {
        rv = orm_write_session(&conn, r->pool, &write, &result);
        log_write(r, state->id, write.id, &result);
    }
    orm_status_written(server_store(r), action, rv, &result, started);
    if (rv == APR_SUCCESS) {
        answer_write(r, dconf, state, &result, write.id, token,
                     write.ttl_seconds);
    }
}

/* The request's state for a save of z. */
static orm_request_t *save_state(request_rec *r, session_rec *z)
{
    orm_request_t *state = ap_get_module_config(
        top_request(r)->request_config, &session_orm_module);

    if (state == NULL || state->z != z) {
        /* mod_session replaced our record with a blank one (its own expiry
         * in the data had lapsed): save that as a new session */
        state = apr_pcalloc(r->pool, sizeof(*state));
        state->z = z;
    }
    return state;
}

/* What the policy decides a save of the request's session from. */
static void save_facts(request_rec *r, const orm_dir_conf_t *dconf,
                       orm_key_mode_e mode, const orm_request_t *state,
                       orm_save_facts_t *facts)
{
    const session_rec *z = state->z;

    memset(facts, 0, sizeof(*facts));
    facts->mode = mode;
    facts->load_failed = state->load_failed;
    facts->cookie_presented = state->cookie_presented;
    facts->rotated_away = state->rotated_away;
    if (mode == ORM_KEY_USER && r->user) {
        facts->user_id = orm_user_digest(r->pool, r->user);
    }
    facts->stored_id = state->id;
    facts->stored = state->row;
    facts->entries = z->entries;
    facts->data = z->encoded ? z->encoded : "";
    /* the express format keeps no owner, so nothing rotates there: the
     * Express app regenerates its sessions itself */
    facts->owner = express_format(r)
                   ? NULL
                   : orm_owner_column(r->pool,
                                      orm_policy_owner(r->user, z->entries));
    facts->dirty = z->dirty;
    facts->maxage = z->maxage;
    facts->now_ms = orm_now_ms();
    facts->touch_seconds = orm_dir_touch_seconds(dconf);
    facts->max_size = orm_dir_max_size(dconf);
}

apr_status_t orm_session_save(request_rec *r, session_rec *z)
{
    const orm_dir_conf_t *dconf = dir_conf(r);
    orm_key_mode_e mode = orm_dir_key_mode(dconf);
    orm_request_t *state;
    orm_save_facts_t facts;
    orm_save_e action;

    if (mode == ORM_KEY_NONE) {
        return DECLINED;
    }
    state = save_state(r, z);
    save_facts(r, dconf, mode, state, &facts);
    switch (action = orm_policy_save(&facts)) {
    case ORM_SAVE_NOT_LOADED:
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0205)
                      "session not saved: it could not be loaded, and saving "
                      "now could overwrite the stored one");
        break;
    case ORM_SAVE_NO_USER:
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0206)
                      "SessionORMPerUser is On but the request has no "
                      "authenticated user: session not saved");
        break;
    case ORM_SAVE_ROTATED_AWAY:
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0218)
                      "the session token was rotated away by a login or "
                      "logout: this request's changes are not saved and no "
                      "cookie is set");
        break;
    case ORM_SAVE_REMOVE:
        remove_session(r, dconf, state, &facts);
        break;
    case ORM_SAVE_UNCHANGED:
        break;
    case ORM_SAVE_TOO_BIG:
        log_size_refused(r, state->id, facts.data, facts.max_size);
        break;
    case ORM_SAVE_ROTATE:
    case ORM_SAVE_UPDATE:
    case ORM_SAVE_NEW:
        write_session(r, dconf, state, &facts, action);
        break;
    }
    return OK;
}
