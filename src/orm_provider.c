#include <string.h>

#include "apr_strings.h"
#include "apr_optional.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "ap_expr.h"
#include "util_mutex.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

#include "orm_log.h"
#include "orm_codec.h"
#include "orm_conf.h"
#include "orm_cookie.h"
#include "orm_owner.h"
#include "orm_store.h"
#include "orm_token.h"
#include "orm_ttl.h"
#include "orm_provider.h"
#include "orm_sweeper.h"

/* mod_session keeps its own expiry inside the encoded data under this key;
 * it is not application data. */
#define SESSION_EXPIRY_KEY "expiry"

/* What the row of a rotated-away token holds during the grace window: the
 * id of the session that replaced it. Control characters never occur in
 * mod_session's encodings, plain or encrypted. */
#define MOVED_MARKER "\001moved:"

#define ID_PREFIX_LEN 12

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

static const orm_store_t *server_store(request_rec *r)
{
    orm_server_conf_t *sconf = ap_get_module_config(r->server->module_config,
                                                    &session_orm_module);
    return sconf->store;
}

static apr_int64_t now_ms(void)
{
    return apr_time_as_msec(apr_time_now());
}

static apr_status_t random_bytes(unsigned char *buf, apr_size_t len)
{
    return apr_generate_random_bytes(buf, len);
}

/* A rotated-away token's row names the session that replaced it. */
static const char *moved_to(const char *data)
{
    apr_size_t len = sizeof(MOVED_MARKER) - 1;
    const char *target;

    if (strncmp(data, MOVED_MARKER, len)) {
        return NULL;
    }
    target = data + len;
    return strlen(target) == 64 && strspn(target, "0123456789abcdef") == 64
           ? target : NULL;
}

static orm_request_t *load_session(request_rec *r, request_rec *top,
                                   const orm_dir_conf_t *dconf,
                                   orm_key_mode_e mode)
{
    orm_request_t *state = apr_pcalloc(top->pool, sizeof(*state));
    session_rec *z = apr_pcalloc(top->pool, sizeof(*z));
    const char *id = NULL, *target;
    orm_conn_t conn;
    orm_row_t *row = NULL;

    z->pool = top->pool;
    z->entries = apr_table_make(top->pool, 8);
    state->z = z;

    if (mode == ORM_KEY_COOKIE) {
        /* read here rather than with ap_cookie_read, which logs an error
         * for every request that repeats the cookie: clients can */
        const char *header = apr_table_get(r->headers_in, "Cookie");
        apr_array_header_t *values = orm_cookie_values(top->pool, header,
                                                       dconf->cookie_name);
        int i;

        for (i = 0; i < values->nelts && state->token == NULL; i++) {
            const char *value = APR_ARRAY_IDX(values, i, const char *);

            state->cookie_presented = 1;
            if (orm_token_is_wellformed(value, strlen(value))) {
                state->token = value;
                id = orm_token_digest(top->pool, value);
            }
            else {
                ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0202)
                              "ignoring a malformed %s cookie (%" APR_SIZE_T_FMT
                              " bytes)", dconf->cookie_name, strlen(value));
            }
        }
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
    }
    else if (r->user) {
        id = orm_user_digest(top->pool, r->user);
    }

    if (id != NULL) {
        if (orm_store_connect(r, server_store(r), &conn) != APR_SUCCESS
            || orm_store_load(&conn, id, now_ms(), &row) != APR_SUCCESS) {
            state->load_failed = 1;
            state->token = NULL;
            return state;
        }
        /* a request still carrying the token a login rotated away, within
         * the grace window: it is served the session that replaced it */
        if (row && (target = moved_to(row->data)) != NULL) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0212)
                          "session %.*s was rotated to %.*s: serving that",
                          ID_PREFIX_LEN, id, ID_PREFIX_LEN, target);
            id = apr_pstrdup(top->pool, target);
            state->token = NULL;
            if (orm_store_load(&conn, id, now_ms(), &row) != APR_SUCCESS) {
                state->load_failed = 1;
                return state;
            }
            if (row && moved_to(row->data)) {
                row = NULL;     /* one hop only */
            }
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

static int count_application_entry(void *count, const char *key,
                                   const char *value)
{
    (void)value;

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

static int same_owner(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && !strcmp(a, b));
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

static void forget_session(orm_request_t *state)
{
    state->id = NULL;
    state->row = NULL;
    state->token = NULL;
}

static apr_status_t remove_session(request_rec *r, const orm_dir_conf_t *dconf,
                                   orm_key_mode_e mode, orm_request_t *state)
{
    orm_conn_t conn;

    if (state->id) {
        if (orm_store_connect(r, server_store(r), &conn) != APR_SUCCESS
            || orm_store_remove(&conn, state->id) != APR_SUCCESS) {
            return OK;          /* logged by the store, once per outage */
        }
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0207)
                      "deleted emptied session %.*s", ID_PREFIX_LEN,
                      state->id);
    }
    if (mode == ORM_KEY_COOKIE && (state->id || state->cookie_presented)) {
        send_cookie(r, dconf, "", 0);
    }
    forget_session(state);
    return APR_SUCCESS;
}

/** How a conflicting write is merged into what another request stored. */
typedef struct {
    const orm_diff_t *diff;     /* NULL: opaque data, ours replaces theirs */
    const char *ours;
} merge_baton_t;

/* NULL when the stored row only forwards to the session a login of
 * another request rotated it to: nothing of ours belongs there. */
static const char *merge_into_stored(void *data, apr_pool_t *pool,
                                     const char *stored)
{
    merge_baton_t *baton = data;

    if (moved_to(stored)) {
        return NULL;
    }
    if (baton->diff == NULL) {
        return baton->ours;
    }
    return orm_codec_encode(pool, orm_codec_apply(pool,
                                                  orm_codec_decode(pool,
                                                                   stored),
                                                  baton->diff));
}

/* Lost races merged without a lock before the row lock is taken: each
 * costs a read and a conditional write; the lock costs a transaction.
 * (t/sanitize-e2e builds with 0, so that its pass takes the lock.) */
#ifndef ORM_MERGE_ATTEMPTS
#define ORM_MERGE_ATTEMPTS 3
#endif

static void log_ended(request_rec *r, const char *id)
{
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0211)
                  "session %.*s ended while this request ran (logout, "
                  "revoke or expiry): not saved", ID_PREFIX_LEN, id);
}

static void log_moved(request_rec *r, const char *id)
{
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0217)
                  "session %.*s was rotated by another request while this "
                  "one ran (login, logout): not saved, and the cookie is "
                  "left to that request", ID_PREFIX_LEN, id);
}

static void log_merged(request_rec *r, const char *id,
                       const merge_baton_t *baton, int locked)
{
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0215)
                  "session %.*s was written concurrently: merged this "
                  "request's %s %s", ID_PREFIX_LEN, id,
                  baton->diff ? "changed keys" : "whole data (encrypted)",
                  locked ? "under a row lock" : "without a lock");
}

/* A session that has a row: written only if nobody wrote it since this
 * request loaded it (one statement); otherwise only the keys this request
 * changed are merged into what is stored now and written if that is still
 * what is stored (a read and a conditional write, retried a few times),
 * finally under a row lock. A row that went away meanwhile (logout,
 * revoke) is not brought back (*kept 0: the cookie is expired); a row that
 * another request's login rotated away is left to it (*kept -1: no
 * cookie). */
static apr_status_t update_session(request_rec *r, orm_conn_t *conn,
                                   orm_request_t *state, orm_row_t *row,
                                   apr_int64_t now, int *kept)
{
    const session_rec *z = state->z;
    merge_baton_t baton;
    int matched = 0, found = 0, attempt;
    apr_status_t rv;

    *kept = 1;
    if (row->updated_at_ms <= state->row->updated_at_ms) {
        row->updated_at_ms = state->row->updated_at_ms + 1;
    }
    rv = orm_store_update_if(conn, state->id, row, state->row->updated_at_ms,
                             &matched);
    if (rv != APR_SUCCESS || matched) {
        return rv;
    }
    baton.ours = row->data;
    baton.diff = NULL;
    if (orm_codec_is_plain(r->pool, z->encoded, z->entries)) {
        baton.diff = orm_codec_diff(r->pool,
                                    orm_codec_decode(r->pool,
                                                     state->row->data),
                                    z->entries);
        if (orm_diff_is_empty(baton.diff, SESSION_EXPIRY_KEY)) {
            /* only the expiry would change: the other writer moved it */
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0214)
                          "session %.*s was written concurrently; this "
                          "request changed nothing", ID_PREFIX_LEN,
                          state->id);
            return APR_SUCCESS;
        }
    }
    for (attempt = 0; attempt < ORM_MERGE_ATTEMPTS; attempt++) {
        orm_row_t *stored = NULL;

        if ((rv = orm_store_load(conn, state->id, now, &stored))
            != APR_SUCCESS) {
            return rv;
        }
        if (stored == NULL) {
            *kept = 0;
            log_ended(r, state->id);
            return APR_SUCCESS;
        }
        row->data = merge_into_stored(&baton, r->pool, stored->data);
        if (row->data == NULL) {
            *kept = -1;
            log_moved(r, state->id);
            return APR_SUCCESS;
        }
        row->updated_at_ms = now > stored->updated_at_ms
                             ? now : stored->updated_at_ms + 1;
        rv = orm_store_update_if(conn, state->id, row, stored->updated_at_ms,
                                 &matched);
        if (rv != APR_SUCCESS || matched) {
            if (rv == APR_SUCCESS) {
                log_merged(r, state->id, &baton, 0);
            }
            return rv;
        }
    }
    rv = orm_store_merge(conn, state->id, row, now, merge_into_stored, &baton,
                         &found);
    if (rv == APR_SUCCESS && found == 0) {
        *kept = 0;
        log_ended(r, state->id);
    }
    else if (rv == APR_SUCCESS && found < 0) {
        *kept = -1;
        log_moved(r, state->id);
    }
    else if (rv == APR_SUCCESS) {
        log_merged(r, state->id, &baton, 1);
    }
    return rv;
}

/* A login, logout or switch of user on a session with a row: a new token
 * and row, so a token known before cannot reach the new owner's session;
 * the old row forwards to the new one for the grace window, then expires. */
static apr_status_t rotate_session(request_rec *r, orm_conn_t *conn,
                                   orm_request_t *state, const char *new_id,
                                   const orm_row_t *row,
                                   const orm_dir_conf_t *dconf,
                                   apr_int64_t now)
{
    apr_int64_t grace = orm_dir_grace_seconds(dconf);
    orm_row_t forward;
    apr_status_t rv;

    if ((rv = orm_store_save(conn, new_id, row, now)) != APR_SUCCESS) {
        return rv;
    }
    if (grace == 0) {
        return orm_store_remove(conn, state->id);
    }
    forward.data = apr_pstrcat(r->pool, MOVED_MARKER, new_id, NULL);
    forward.expires_at_ms = now + grace * 1000;
    forward.updated_at_ms = now;
    forward.user_name = NULL;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0216)
                  "owner changed: session %.*s rotated to %.*s",
                  ID_PREFIX_LEN, state->id, ID_PREFIX_LEN, new_id);
    return orm_store_save(conn, state->id, &forward, now);
}

apr_status_t orm_session_save(request_rec *r, session_rec *z)
{
    const orm_dir_conf_t *dconf = dir_conf(r);
    orm_key_mode_e mode = orm_dir_key_mode(dconf);
    orm_request_t *state;
    orm_row_t *row;
    orm_conn_t conn;
    const char *id, *token = NULL;
    apr_int64_t now, ttl, max_size, size;
    int rotate, kept = 1;
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
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0205)
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
    row = apr_pcalloc(r->pool, sizeof(*row));
    row->data = z->encoded ? z->encoded : "";
    row->user_name = orm_owner_column(r->pool, session_owner(r, z));
    rotate = mode == ORM_KEY_COOKIE && state->row
             && !same_owner(state->row->user_name, row->user_name);
    if (!rotate && !z->dirty && state->row
        && !orm_touch_due(now, state->row->updated_at_ms,
                          state->row->expires_at_ms,
                          orm_dir_touch_seconds(dconf), z->maxage)) {
        return OK;              /* unchanged and touched recently enough */
    }
    max_size = orm_dir_max_size(dconf);
    size = (apr_int64_t)strlen(row->data);
    if (max_size > 0 && size > max_size) {
        apr_uint32_t suppressed;
        int level = orm_store_log_due(server_store(r), ORM_GATE_OVERSIZE,
                                      &suppressed)
                    ? APLOG_WARNING : APLOG_DEBUG;
        ap_log_rerror(APLOG_MARK, level, 0, r, ORM_LOGNO(0210)
                      "session %.*s not saved: %" APR_INT64_T_FMT " bytes is "
                      "more than SessionORMMaxSize %" APR_INT64_T_FMT "; the "
                      "stored version is kept (%u more since the last such "
                      "warning, logged at most every %d s)", ID_PREFIX_LEN,
                      state->id ? state->id : "(new)", size, max_size,
                      (unsigned)suppressed, ORM_LOG_GATE_SECONDS);
        return OK;
    }

    ttl = request_ttl(r, dconf, z);
    row->expires_at_ms = now + ttl * 1000;
    row->updated_at_ms = now;

    if (mode == ORM_KEY_USER) {
        id = orm_user_digest(r->pool, r->user);
    }
    else if (state->id == NULL || rotate) {
        if ((rv = orm_token_generate(r->pool, random_bytes, &token))
            != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, ORM_LOGNO(0208)
                          "no random bytes for a session token: session not "
                          "saved");
            return OK;
        }
        id = orm_token_digest(r->pool, token);
    }
    else {
        id = state->id;
        token = state->token;
    }

    /* failures below were logged by the store, once per outage; mod_session
     * would log each of them again, so it is told all went well */
    if (orm_store_connect(r, server_store(r), &conn) != APR_SUCCESS) {
        return OK;
    }
    if (rotate) {
        rv = rotate_session(r, &conn, state, id, row, dconf, now);
    }
    else if (state->row && !strcmp(id, state->id)) {
        rv = update_session(r, &conn, state, row, now, &kept);
    }
    else {
        rv = orm_store_save(&conn, id, row, now);
    }
    if (rv != APR_SUCCESS || kept < 0) {
        return OK;
    }
    if (!kept) {
        if (mode == ORM_KEY_COOKIE) {
            send_cookie(r, dconf, "", 0);
        }
        forget_session(state);
        return OK;
    }
    if (mode == ORM_KEY_COOKIE && token) {
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

int orm_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    static const char *const types[] = { ORM_SWEEP_MUTEX_TYPE,
                                         ORM_WRITER_MUTEX_TYPE };
    apr_size_t i;
    (void)plog;
    (void)ptemp;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (ap_mutex_register(pconf, types[i], NULL, APR_LOCK_DEFAULT, 0)
            != APR_SUCCESS) {
            return !OK;
        }
    }
    return OK;
}

int orm_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                    server_rec *s)
{
    int have_dbd = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire) != NULL;
    apr_array_header_t *stores = apr_array_make(ptemp, 4,
                                                sizeof(orm_store_t *));
    server_rec *sp;
    (void)plog;

    for (sp = s; sp; sp = sp->next) {
        orm_server_conf_t *sconf = ap_get_module_config(sp->module_config,
                                                        &session_orm_module);
        const char *err;

        if (sconf->dbd_configured == 1 && !have_dbd) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sp, ORM_LOGNO(0006)
                         "DBDriver is set but mod_dbd is not loaded");
        }
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
            sconf->store = orm_store_create(pconf, sconf, stores->nelts);
            APR_ARRAY_PUSH(stores, orm_store_t *) = sconf->store;
        }
    }
    if (orm_store_share(pconf, s, (orm_store_t **)stores->elts,
                        stores->nelts) != APR_SUCCESS
        || orm_sweeper_post_config(pconf, s) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}
