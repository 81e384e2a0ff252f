#include <string.h>

#include "apr_strings.h"
#include "apr_optional.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "ap_expr.h"
#include "util_cookies.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

#include "orm_log.h"
#include "orm_conf.h"
#include "orm_store.h"
#include "orm_token.h"
#include "orm_ttl.h"
#include "orm_provider.h"
#include "orm_sweeper.h"

/* mod_session keeps its own expiry inside the encoded data under this key;
 * it is not application data. */
#define SESSION_EXPIRY_KEY "expiry"

#define ID_PREFIX_LEN 12

/** What one top-level request knows about its session. Subrequests and
 *  internal redirects find it in the top request's config and share it. */
typedef struct {
    session_rec *z;
    const char *token;          /* the cookie token of the stored row */
    const char *id;             /* the stored row's id, NULL when none */
    const orm_row_t *row;       /* the stored row as loaded or last saved */
    int cookie_presented;       /* the client sent our cookie */
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

static apr_int64_t now_ms(void)
{
    return apr_time_as_msec(apr_time_now());
}

static apr_status_t random_bytes(unsigned char *buf, apr_size_t len)
{
    return apr_generate_random_bytes(buf, len);
}

static orm_request_t *load_session(request_rec *r, request_rec *top,
                                   const orm_dir_conf_t *dconf,
                                   orm_key_mode_e mode)
{
    orm_server_conf_t *sconf = ap_get_module_config(r->server->module_config,
                                                    &session_orm_module);
    orm_request_t *state = apr_pcalloc(top->pool, sizeof(*state));
    session_rec *z = apr_pcalloc(top->pool, sizeof(*z));
    const char *id = NULL;
    orm_conn_t conn;
    orm_row_t *row = NULL;

    z->pool = top->pool;
    z->entries = apr_table_make(top->pool, 8);
    state->z = z;

    if (mode == ORM_KEY_COOKIE) {
        const char *value = NULL;

        ap_cookie_read(r, dconf->cookie_name, &value,
                       orm_dir_cookie_remove(dconf));
        if (value) {
            state->cookie_presented = 1;
            if (orm_token_is_wellformed(value, strlen(value))) {
                state->token = value;
                id = orm_token_digest(top->pool, value);
            }
            else {
                ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0202)
                              "ignoring a malformed %s cookie (%" APR_SIZE_T_FMT
                              " bytes): a fresh session is served",
                              dconf->cookie_name, strlen(value));
            }
        }
    }
    else if (r->user) {
        id = orm_user_digest(top->pool, r->user);
    }

    if (id != NULL) {
        if (orm_store_connect(r, sconf->store, &conn) != APR_SUCCESS
            || orm_store_load(r, &conn, id, now_ms(), &row) != APR_SUCCESS) {
            state->load_failed = 1;
            return state;
        }
        if (row == NULL) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0203)
                          "no live session %.*s (unknown or expired): a "
                          "fresh session is served", ID_PREFIX_LEN, id);
        }
    }
    if (row == NULL) {
        state->token = NULL;    /* an unknown token is never adopted */
        /* a cookie we will not honour is answered, so that the client
         * stops sending it: mod_session calls save only when dirty */
        z->dirty = state->cookie_presented;
        return state;
    }

    state->id = id;
    state->row = row;
    z->encoded = row->data;
    /* an unchanged session saves only when the touch is due; marking it
     * dirty makes mod_session call save even without SessionMaxAge */
    if (orm_touch_due(now_ms(), row->updated_at_ms, row->expires_at_ms,
                      orm_dir_touch_seconds(dconf), 0)) {
        z->dirty = 1;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0201)
                  "loaded session %.*s", ID_PREFIX_LEN, id);
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

static int count_application_entry(void *count, const char *key,
                                   const char *value)
{
    if (strcmp(key, SESSION_EXPIRY_KEY)) {
        ++*(int *)count;
    }
    return 1;
}

static int session_is_empty(const session_rec *z)
{
    int count = 0;

    apr_table_do(count_application_entry, &count, z->entries, NULL);
    return count == 0;
}

/* mod_auth_form keeps the login under "<AuthName>-user". */
static int find_form_user(void *owner, const char *key, const char *value)
{
    apr_size_t len = strlen(key);

    if (!strcmp(key, "user")
        || (len > 5 && !strcmp(key + len - 5, "-user"))) {
        *(const char **)owner = value;
        return 0;
    }
    return 1;
}

static const char *session_owner(request_rec *r, const session_rec *z)
{
    const char *owner = NULL;

    if (r->user) {
        return r->user;
    }
    apr_table_do(find_form_user, &owner, z->entries, NULL);
    return owner;
}

static apr_int64_t request_ttl(request_rec *r, const orm_dir_conf_t *dconf,
                               const session_rec *z)
{
    if (dconf->ttl_expr) {
        const char *err = NULL;
        const char *value = ap_expr_str_exec(r, dconf->ttl_expr, &err);
        apr_int64_t ttl;

        if (err == NULL) {
            err = orm_seconds_parse(r->pool, value, 1, ORM_MAX_SECONDS, &ttl);
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

/* The one Set-Cookie of the response. err_headers_out survives redirects
 * and errors, and is the only table it goes into. */
static void send_cookie(request_rec *r, const orm_dir_conf_t *dconf,
                        const char *token, apr_int64_t max_age)
{
    int https = !strcmp(ap_http_scheme(r), "https");

    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   orm_cookie_header(r->pool, dconf->cookie_name, token,
                                     &dconf->cookie_attrs, max_age, https));
}

static apr_status_t remove_session(request_rec *r, const orm_dir_conf_t *dconf,
                                   orm_key_mode_e mode, orm_request_t *state)
{
    orm_server_conf_t *sconf = ap_get_module_config(r->server->module_config,
                                                    &session_orm_module);
    orm_conn_t conn;
    apr_status_t rv;

    if (state->id) {
        if ((rv = orm_store_connect(r, sconf->store, &conn)) != APR_SUCCESS
            || (rv = orm_store_remove(r, &conn, state->id)) != APR_SUCCESS) {
            return rv;
        }
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0207)
                      "deleted emptied session %.*s", ID_PREFIX_LEN,
                      state->id);
    }
    if (mode == ORM_KEY_COOKIE && (state->id || state->cookie_presented)) {
        send_cookie(r, dconf, "", 0);
    }
    state->id = NULL;
    state->row = NULL;
    state->token = NULL;
    return APR_SUCCESS;
}

apr_status_t orm_session_save(request_rec *r, session_rec *z)
{
    const orm_dir_conf_t *dconf = dir_conf(r);
    orm_key_mode_e mode = orm_dir_key_mode(dconf);
    orm_server_conf_t *sconf;
    orm_request_t *state;
    orm_row_t *row;
    orm_conn_t conn;
    const char *id, *token = NULL;
    apr_int64_t now, ttl;
    apr_status_t rv;

    if (mode == ORM_KEY_NONE) {
        return DECLINED;
    }
    state = ap_get_module_config(top_request(r)->request_config,
                                 &session_orm_module);
    if (state == NULL || state->z != z) {
        /* mod_session replaced our record with a blank one (its own expiry
         * in the data had lapsed): save that as a new session */
        state = apr_pcalloc(r->pool, sizeof(*state));
        state->z = z;
    }
    if (state->load_failed) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, ORM_LOGNO(0205)
                      "session not saved: it could not be loaded, and saving "
                      "now could overwrite the stored one");
        return OK;
    }
    if (mode == ORM_KEY_USER && r->user == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0206)
                      "SessionORMPerUser is On but the request has no "
                      "authenticated user: session not saved");
        return OK;
    }
    if (session_is_empty(z)) {
        return remove_session(r, dconf, mode, state);
    }

    now = now_ms();
    if (!z->dirty && state->row
        && !orm_touch_due(now, state->row->updated_at_ms,
                          state->row->expires_at_ms,
                          orm_dir_touch_seconds(dconf), z->maxage)) {
        return OK;              /* unchanged and touched recently enough */
    }

    id = state->id;
    if (mode == ORM_KEY_USER) {
        id = orm_user_digest(r->pool, r->user);
    }
    else if (id == NULL) {
        if ((rv = orm_token_generate(r->pool, random_bytes, &token))
            != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, ORM_LOGNO(0208)
                          "no random bytes for a session token: session not "
                          "saved");
            return rv;
        }
        id = orm_token_digest(r->pool, token);
    }
    else {
        token = state->token;
    }

    ttl = request_ttl(r, dconf, z);
    row = apr_pcalloc(r->pool, sizeof(*row));
    row->data = z->encoded ? z->encoded : "";
    row->expires_at_ms = now + ttl * 1000;
    row->updated_at_ms = now;
    row->user_name = session_owner(r, z);

    sconf = ap_get_module_config(r->server->module_config, &session_orm_module);
    if ((rv = orm_store_connect(r, sconf->store, &conn)) != APR_SUCCESS
        || (rv = orm_store_save(r, &conn, id, row, now)) != APR_SUCCESS) {
        return rv;
    }
    if (mode == ORM_KEY_COOKIE) {
        send_cookie(r, dconf, token, ttl);
    }
    state->id = id;
    state->row = row;
    state->token = token;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0209)
                  "saved session %.*s (ttl %" APR_INT64_T_FMT "s)",
                  ID_PREFIX_LEN, id, ttl);
    return OK;
}

int orm_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                    server_rec *s)
{
    int have_dbd = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire) != NULL;
    int seq = 0;
    server_rec *sp;

    for (sp = s; sp; sp = sp->next) {
        orm_server_conf_t *sconf = ap_get_module_config(sp->module_config,
                                                        &session_orm_module);
        const char *err;

        if (sconf->sessions_configured && !have_dbd) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp, ORM_LOGNO(0001)
                         "mod_session_orm keeps sessions in a database "
                         "through mod_dbd, which is not loaded: add "
                         "'LoadModule dbd_module modules/mod_dbd.so' (on "
                         "Debian: a2enmod dbd)");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if ((err = orm_schema_check_distinct(ptemp, &sconf->schema))) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp, ORM_LOGNO(0002)
                         "SessionORMColumn: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        /* vhosts without directives of ours share the main server's record */
        if (sconf->store == NULL) {
            sconf->store = orm_store_create(pconf, sconf, seq++);
        }
    }
    return orm_sweeper_post_config(pconf, s) == APR_SUCCESS
           ? OK : HTTP_INTERNAL_SERVER_ERROR;
}
