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
#include "orm_db.h"
#include "orm_owner.h"
#include "orm_store.h"
#include "orm_token.h"
#include "orm_integer.h"
#include "orm_ttl.h"
#include "orm_provider.h"
#include "orm_sweeper.h"

/* mod_session keeps its own expiry inside the encoded data under this key;
 * it is not application data. */
#define SESSION_EXPIRY_KEY "expiry"

/* What the row of a token rotated away by a login or logout holds for
 * SessionORMRotateGrace: a marker that names nothing, so the old token
 * reaches nothing of the session that replaced it. Control characters
 * never occur in mod_session's encodings, plain or encrypted; any row that
 * starts with one (also the "\001moved:<id>" forwarding rows of earlier
 * versions) is such a marker. */
#define ROTATED_MARKER "\001rotated"

/* A sibling domain can plant cookies of our name beside ours (cookie
 * tossing): this many well-formed ones are tried, in the order sent. */
#define MAX_COOKIE_TOKENS 4

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

static const orm_store_t *server_store(request_rec *r)
{
    orm_server_conf_t *sconf = ap_get_module_config(r->server->module_config,
                                                    &session_orm_module);
    return sconf->store;
}

static apr_status_t random_bytes(unsigned char *buf, apr_size_t len)
{
    return apr_generate_random_bytes(buf, len);
}

static int is_rotated(const char *data)
{
    return data[0] > '\0' && data[0] < ' ';
}

/* The well-formed tokens among the request's cookies of our name, at most
 * MAX_COOKIE_TOKENS; the header keeps our pairs unless CookieRemove. */
static apr_array_header_t *cookie_tokens(request_rec *r, apr_pool_t *pool,
                                         const orm_dir_conf_t *dconf,
                                         int *presented)
{
    const char *header = apr_table_get(r->headers_in, "Cookie");
    /* read here rather than with ap_cookie_read, which logs an error for
     * every request that repeats the cookie: clients can */
    apr_array_header_t *values = orm_cookie_values(pool, header,
                                                   dconf->cookie_name);
    apr_array_header_t *tokens = apr_array_make(pool, 1, sizeof(char *));
    int i;

    for (i = 0; i < values->nelts; i++) {
        const char *value = APR_ARRAY_IDX(values, i, const char *);

        if (!orm_token_is_wellformed(value, strlen(value))) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0202)
                          "ignoring a malformed %s cookie (%" APR_SIZE_T_FMT
                          " bytes)", dconf->cookie_name, strlen(value));
        }
        else if (tokens->nelts < MAX_COOKIE_TOKENS) {
            APR_ARRAY_PUSH(tokens, const char *) = value;
        }
    }
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

/* The live row of one id into *row (NULL when none, or only the marker of
 * a rotated-away token, which sets state->rotated_away); APR_EGENERAL when
 * the database could not be asked. */
static apr_status_t load_row(request_rec *r, orm_conn_t *conn, int *ready,
                             orm_request_t *state, const char *id,
                             orm_row_t **row)
{
    *row = NULL;
    if (!*ready) {
        if (orm_store_connect(r, server_store(r), conn) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        *ready = 1;
    }
    if (orm_store_load(conn, id, orm_now_ms(), row) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (*row && is_rotated((*row)->data)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0212)
                      "session %.*s was rotated away by a login or logout: "
                      "it reaches nothing", ORM_ID_PREFIX_LEN, id);
        state->rotated_away = 1;
        *row = NULL;
    }
    else if (*row == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0203)
                      "no live session %.*s (unknown or expired)",
                      ORM_ID_PREFIX_LEN, id);
    }
    return APR_SUCCESS;
}

static orm_request_t *load_session(request_rec *r, request_rec *top,
                                   const orm_dir_conf_t *dconf,
                                   orm_key_mode_e mode)
{
    orm_request_t *state = apr_pcalloc(top->pool, sizeof(*state));
    session_rec *z = apr_pcalloc(top->pool, sizeof(*z));
    apr_array_header_t *tokens = NULL;
    const char *id = NULL;
    orm_conn_t conn;
    orm_row_t *row = NULL;
    apr_status_t rv = APR_SUCCESS;
    int ready = 0, i;

    z->pool = top->pool;
    z->entries = apr_table_make(top->pool, 8);
    state->z = z;

    if (mode == ORM_KEY_COOKIE) {
        tokens = cookie_tokens(r, top->pool, dconf,
                               &state->cookie_presented);
        /* the first that loads is ours: one planted beside it is not */
        for (i = 0; i < tokens->nelts && row == NULL && rv == APR_SUCCESS;
             i++) {
            state->token = APR_ARRAY_IDX(tokens, i, const char *);
            id = orm_token_digest(top->pool, state->token);
            rv = load_row(r, &conn, &ready, state, id, &row);
        }
    }
    else if (r->user) {
        id = orm_user_digest(top->pool, r->user);
        rv = load_row(r, &conn, &ready, state, id, &row);
    }
    if (rv != APR_SUCCESS) {
        state->load_failed = 1;
        state->token = NULL;
        return state;
    }
    if (row == NULL) {
        state->token = NULL;    /* an unknown token is never adopted */
        /* a cookie we will not honour is answered, so that the client
         * stops sending it (mod_session calls save only when dirty); not
         * a rotated-away one: the browser may hold the new token by now */
        z->dirty = state->cookie_presented && !state->rotated_away;
        return state;
    }

    state->rotated_away = 0;    /* another of its cookies is ours */
    state->id = id;
    state->row = row;
    z->encoded = row->data;
    /* an unchanged session saves only when the touch is due; marking it
     * dirty makes mod_session call save even without SessionMaxAge */
    if (orm_touch_due(orm_now_ms(), row->updated_at_ms, row->expires_at_ms,
                      orm_dir_touch_seconds(dconf), 0)) {
        z->dirty = 1;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0201)
                  "loaded session %.*s", ORM_ID_PREFIX_LEN, id);
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

/* A login of mod_auth_form's kind: an owner key in the session. */
static int logs_in(const session_rec *z)
{
    const char *owner = NULL;

    apr_table_do(find_form_user, &owner, z->entries, NULL);
    return owner != NULL;
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
                      "deleted emptied session %.*s", ORM_ID_PREFIX_LEN,
                      state->id);
    }
    if (mode == ORM_KEY_COOKIE && (state->id || state->cookie_presented)) {
        send_cookie(r, dconf, "", 0);
    }
    forget_session(state);
    return APR_SUCCESS;
}

/* SessionORMMaxSize: data over the limit is not stored, unless it is
 * smaller than what is stored now (a session stored over the limit, say
 * before the limit was lowered, can still be shrunk or cleared). */
static int size_refused(apr_int64_t max_size, const char *data,
                        const char *stored)
{
    apr_size_t size = strlen(data);

    return max_size > 0 && (apr_int64_t)size > max_size
           && (stored == NULL || size >= strlen(stored));
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

    ap_log_rerror(APLOG_MARK, level, 0, r, ORM_LOGNO(0210)
                  "session %.*s not saved: %" APR_SIZE_T_FMT " bytes is "
                  "more than SessionORMMaxSize %" APR_INT64_T_FMT "; the "
                  "stored version is kept (%u more since the last such "
                  "warning, logged at most every %d s)", ORM_ID_PREFIX_LEN,
                  id ? id : "(new)", strlen(data), max_size,
                  (unsigned)suppressed, ORM_LOG_GATE_SECONDS);
}

/** Why a merge left the stored row as it is. */
typedef enum {
    MERGE_DONE = 0,
    MERGE_ROTATED,              /* the row was rotated away meanwhile */
    MERGE_TOO_BIG               /* the merged data is over the size limit */
} merge_refusal_e;

/** How a conflicting write is merged into what another request stored. */
typedef struct {
    const orm_diff_t *diff;     /* NULL: opaque data, ours replaces theirs */
    const char *ours;
    apr_int64_t max_size;       /* SessionORMMaxSize, 0: none */
    merge_refusal_e refusal;    /* set when the merge gives NULL */
    const char *refused_data;   /* the merged data that was too big */
} merge_baton_t;

/* NULL, and why in the baton, when the stored row is the marker of a
 * rotation (nothing of ours belongs there, ever) or when the merged data
 * would be over SessionORMMaxSize. */
static const char *merge_into_stored(void *data, apr_pool_t *pool,
                                     const char *stored)
{
    merge_baton_t *baton = data;
    const char *merged;

    if (is_rotated(stored)) {
        baton->refusal = MERGE_ROTATED;
        return NULL;
    }
    merged = baton->diff == NULL
             ? baton->ours
             : orm_codec_encode(pool,
                                orm_codec_apply(pool,
                                                orm_codec_decode(pool, stored),
                                                baton->diff));
    if (size_refused(baton->max_size, merged, stored)) {
        baton->refusal = MERGE_TOO_BIG;
        baton->refused_data = merged;
        return NULL;
    }
    baton->refusal = MERGE_DONE;
    return merged;
}

/* Lost races merged without a lock before the row lock is taken: each
 * costs a read and a conditional write; the lock costs a transaction.
 * (t/sanitize-e2e builds with 0, so that its pass takes the lock.) */
#ifndef ORM_MERGE_ATTEMPTS
#define ORM_MERGE_ATTEMPTS 3
#endif

/* A rotation that keeps losing the race for the old row gives up after
 * this many attempts (each a read and a conditional write). */
#define ROTATE_ATTEMPTS 5

static void log_ended(request_rec *r, const char *id)
{
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0211)
                  "session %.*s ended while this request ran (logout, "
                  "revoke or expiry): not saved", ORM_ID_PREFIX_LEN, id);
}

static void log_moved(request_rec *r, const char *id)
{
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0217)
                  "session %.*s was rotated by another request while this "
                  "one ran (login, logout): not saved, and the cookie is "
                  "left to that request", ORM_ID_PREFIX_LEN, id);
}

static void log_merged(request_rec *r, const char *id,
                       const merge_baton_t *baton, int locked)
{
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0215)
                  "session %.*s was written concurrently: merged this "
                  "request's %s %s", ORM_ID_PREFIX_LEN, id,
                  baton->diff ? "changed keys" : "whole data (encrypted)",
                  locked ? "under a row lock" : "without a lock");
}

/* What a merge that gave NULL means for the request: *kept -1 (nothing
 * saved, no cookie) either way; logged by its reason. */
static void merge_refused(request_rec *r, const char *id,
                          const merge_baton_t *baton, int *kept)
{
    *kept = -1;
    if (baton->refusal == MERGE_TOO_BIG) {
        log_size_refused(r, id, baton->refused_data, baton->max_size);
    }
    else {
        log_moved(r, id);
    }
}

/* The version a write gives a row that carried version: always greater,
 * so that a writer still holding the old one can never match it again,
 * even within the same millisecond. */
static apr_int64_t next_version(apr_int64_t now, apr_int64_t version)
{
    return now > version ? now : version + 1;
}

/* The merge of this request's changes (the keys it changed since it
 * loaded, or for opaque data the whole of it) into a stored row. */
static void merge_baton_init(request_rec *r, const orm_request_t *state,
                             const char *ours, const orm_dir_conf_t *dconf,
                             merge_baton_t *baton)
{
    const session_rec *z = state->z;

    memset(baton, 0, sizeof(*baton));
    baton->ours = ours;
    baton->max_size = orm_dir_max_size(dconf);
    if (orm_codec_is_plain(r->pool, z->encoded, z->entries)) {
        baton->diff = orm_codec_diff(r->pool,
                                     orm_codec_decode(r->pool,
                                                      state->row->data),
                                     z->entries);
    }
}

/* After a lost race: reads the row again and applies this request's
 * changes to what is stored now, into row->data with *version the stored
 * one. row->data NULL when there is nothing to write: the row ended (*kept
 * 0) or the merge was refused (*kept -1), each logged. */
static apr_status_t merge_again(request_rec *r, orm_conn_t *conn,
                                const orm_request_t *state,
                                merge_baton_t *baton, orm_row_t *row,
                                apr_int64_t now, apr_int64_t *version,
                                int *kept)
{
    orm_row_t *stored = NULL;
    apr_status_t rv;

    row->data = NULL;
    if ((rv = orm_store_load(conn, state->id, now, &stored))
        != APR_SUCCESS) {
        return rv;
    }
    if (stored == NULL) {
        *kept = 0;
        log_ended(r, state->id);
        return APR_SUCCESS;
    }
    row->data = merge_into_stored(baton, r->pool, stored->data);
    if (row->data == NULL) {
        merge_refused(r, state->id, baton, kept);
    }
    *version = stored->updated_at_ms;
    return APR_SUCCESS;
}

/* A session that has a row: written only if nobody wrote it since this
 * request loaded it (one statement); otherwise only the keys this request
 * changed are merged into what is stored now and written if that is still
 * what is stored (a read and a conditional write, retried a few times),
 * finally under a row lock. A row that went away meanwhile (logout,
 * revoke) is not brought back (*kept 0: the cookie is expired); a row that
 * another request's login rotated away is left to it, and a merge over
 * the size limit is not written (*kept -1: no cookie). */
static apr_status_t update_session(request_rec *r, orm_conn_t *conn,
                                   orm_request_t *state, orm_row_t *row,
                                   const orm_dir_conf_t *dconf,
                                   apr_int64_t now, int *kept)
{
    merge_baton_t baton;
    int matched = 0, found = 0, attempt;
    apr_status_t rv;

    *kept = 1;
    row->updated_at_ms = next_version(row->updated_at_ms,
                                      state->row->updated_at_ms);
    rv = orm_store_update_if(conn, state->id, row, state->row->updated_at_ms,
                             &matched);
    if (rv != APR_SUCCESS || matched) {
        return rv;
    }
    merge_baton_init(r, state, row->data, dconf, &baton);
    if (baton.diff && orm_diff_is_empty(baton.diff, SESSION_EXPIRY_KEY)) {
        /* only the expiry would change: the other writer moved it */
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0214)
                      "session %.*s was written concurrently; this "
                      "request changed nothing", ORM_ID_PREFIX_LEN, state->id);
        return APR_SUCCESS;
    }
    for (attempt = 0; attempt < ORM_MERGE_ATTEMPTS; attempt++) {
        apr_int64_t version = 0;

        if ((rv = merge_again(r, conn, state, &baton, row, now, &version,
                              kept)) != APR_SUCCESS || row->data == NULL) {
            return rv;
        }
        row->updated_at_ms = next_version(now, version);
        rv = orm_store_update_if(conn, state->id, row, version, &matched);
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
        merge_refused(r, state->id, &baton, kept);
    }
    else if (rv == APR_SUCCESS) {
        log_merged(r, state->id, &baton, 1);
    }
    return rv;
}

/* A login, logout or switch of user on a session with a row: the session
 * moves to a new token and row, and the old row becomes a marker that
 * reaches nothing. The marker is written only over the version this
 * request read, with a newer one, so no concurrent write of the old token
 * can land on it or on the new session; kept for the grace window so that
 * requests still carrying the old token neither reach the new session nor
 * replace the new cookie. When another request wrote the old row first,
 * this request's changes are applied to what it stored and the rotation
 * is tried again; when it rotated or ended the row, this one gives way
 * (*kept -1, or 0: the cookie is expired). */
static apr_status_t rotate_session(request_rec *r, orm_conn_t *conn,
                                   orm_request_t *state, const char *new_id,
                                   orm_row_t *row,
                                   const orm_dir_conf_t *dconf,
                                   apr_int64_t now, int *kept)
{
    apr_int64_t grace = orm_dir_grace_seconds(dconf);
    apr_int64_t version = state->row->updated_at_ms;
    merge_baton_t baton;
    orm_row_t marker;
    int matched = 0, attempt;
    apr_status_t rv;

    *kept = 1;
    merge_baton_init(r, state, row->data, dconf, &baton);
    marker.data = ROTATED_MARKER;
    marker.user_name = NULL;
    marker.expires_at_ms = now + grace * 1000;
    for (attempt = 0; ; attempt++) {
        marker.updated_at_ms = next_version(now, version);
        rv = orm_store_update_if(conn, state->id, &marker, version, &matched);
        if (rv != APR_SUCCESS || matched) {
            break;
        }
        if (attempt + 1 == ROTATE_ATTEMPTS) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ORM_LOGNO(0219)
                          "session %.*s: the owner change lost %d races "
                          "for the row in a row; not saved",
                          ORM_ID_PREFIX_LEN, state->id, ROTATE_ATTEMPTS);
            *kept = -1;
            return APR_SUCCESS;
        }
        if ((rv = merge_again(r, conn, state, &baton, row, now, &version,
                              kept)) != APR_SUCCESS || row->data == NULL) {
            return rv;
        }
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0216)
                  "owner changed: session %.*s rotated to %.*s",
                  ORM_ID_PREFIX_LEN, state->id, ORM_ID_PREFIX_LEN, new_id);
    if (grace == 0 && (rv = orm_store_remove(conn, state->id))
                      != APR_SUCCESS) {
        return rv;
    }
    return orm_store_save(conn, new_id, row, now);
}

/* The id and token a save writes under; NULL id when no token could be
 * made (logged). */
static const char *save_target(request_rec *r, const orm_request_t *state,
                               orm_key_mode_e mode, int rotate,
                               const char **token)
{
    apr_status_t rv;

    *token = NULL;
    if (mode == ORM_KEY_USER) {
        return orm_user_digest(r->pool, r->user);
    }
    if (state->id != NULL && !rotate) {
        *token = state->token;
        return state->id;
    }
    if ((rv = orm_token_generate(r->pool, random_bytes, token))
        != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, ORM_LOGNO(0208)
                      "no random bytes for a session token: session not "
                      "saved");
        return NULL;
    }
    return orm_token_digest(r->pool, *token);
}

apr_status_t orm_session_save(request_rec *r, session_rec *z)
{
    const orm_dir_conf_t *dconf = dir_conf(r);
    orm_key_mode_e mode = orm_dir_key_mode(dconf);
    orm_request_t *state;
    orm_row_t *row;
    orm_conn_t conn;
    const char *id, *token = NULL;
    apr_int64_t now, ttl, max_size;
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
    /* a request whose token was rotated away saves nothing and sets no
     * cookie (the browser may hold the new token by now), unless it logs
     * in itself: its session was empty, so what it saves is its own */
    if (state->rotated_away && !logs_in(z)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0218)
                      "the session token was rotated away by a login or "
                      "logout: this request's changes are not saved and no "
                      "cookie is set");
        return OK;
    }
    if (session_is_empty(z)) {
        return remove_session(r, dconf, mode, state);
    }

    now = orm_now_ms();
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
    if (size_refused(max_size, row->data,
                     state->row ? state->row->data : NULL)) {
        log_size_refused(r, state->id, row->data, max_size);
        return OK;
    }

    ttl = request_ttl(r, dconf, z);
    row->expires_at_ms = now + ttl * 1000;
    row->updated_at_ms = now;
    if ((id = save_target(r, state, mode, rotate, &token)) == NULL) {
        return OK;
    }

    /* failures below were logged by the store, once per outage; mod_session
     * would log each of them again, so it is told all went well */
    if (orm_store_connect(r, server_store(r), &conn) != APR_SUCCESS) {
        return OK;
    }
    if (rotate) {
        rv = rotate_session(r, &conn, state, id, row, dconf, now, &kept);
    }
    else if (state->row && !strcmp(id, state->id)) {
        rv = update_session(r, &conn, state, row, dconf, now, &kept);
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
    state->rotated_away = 0;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0209)
                  "saved session %.*s (ttl %" APR_INT64_T_FMT "s)",
                  ORM_ID_PREFIX_LEN, id, ttl);
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

        /* a warning, not a refusal (those are in orm_check_config): here
         * it reaches the error log, which is not open in check_config */
        if (sconf->dbd_configured == 1 && !have_dbd) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sp, ORM_LOGNO(0006)
                         "DBDriver is set but mod_dbd is not loaded");
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
