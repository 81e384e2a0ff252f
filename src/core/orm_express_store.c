#include <string.h>

#include <apr_strings.h>

#include "orm_codec.h"
#include "orm_express.h"
#include "orm_express_store.h"
#include "orm_policy.h"

typedef struct {
    const orm_conn_t *inner;
    const orm_express_use_t *use;
    apr_pool_t *pool;
} express_conn_t;

/* mod_session's data as the entries a JSON gets: its own expiry left out
 * (expired_at is the expiry). */
static apr_table_t *entries_of(apr_pool_t *pool, const char *data)
{
    apr_table_t *entries = orm_codec_decode(pool, data ? data : "");

    apr_table_unset(entries, ORM_SESSION_EXPIRY_KEY);
    return entries;
}

/* The JSON that writing data over source gives; NULL, reported, when the
 * data cannot be written as JSON. */
static const char *to_json(const express_conn_t *x, const char *id,
                           const char *source, const char *data,
                           apr_int64_t expires_at_ms)
{
    const orm_express_use_t *use = x->use;
    orm_express_new_t fresh;
    apr_array_header_t *shadowed = NULL;
    const char *json = NULL, *error = NULL;

    memset(&fresh, 0, sizeof(fresh));
    if (use->cookie_max_age_ms > 0) {
        fresh.max_age_ms = use->cookie_max_age_ms;
        fresh.expires_ms = expires_at_ms;
    }
    if (orm_express_encode(x->pool, source, entries_of(x->pool, data), &fresh,
                           &json, &shadowed, &error) != APR_SUCCESS) {
        use->report(use->baton, id, "not writable as JSON: not saved", error);
        return NULL;
    }
    if (shadowed && shadowed->nelts) {
        use->report(use->baton, id, "shadowed",
                    apr_array_pstrcat(x->pool, shadowed, ','));
    }
    return json;
}

/* A row of the inner store as mod_session's: NULL, reported, when its
 * JSON cannot be read. */
static orm_row_t *from_json(const express_conn_t *x, const char *id,
                            const orm_row_t *stored)
{
    const orm_express_use_t *use = x->use;
    apr_table_t *entries = NULL;
    const char *error = NULL;
    orm_row_t *row;

    if (orm_express_decode(x->pool, stored->data, &entries, &error)
        != APR_SUCCESS) {
        use->report(use->baton, id, "unreadable JSON: treated as no session",
                    error);
        return NULL;
    }
    row = apr_pcalloc(x->pool, sizeof(*row));
    row->data = orm_codec_encode(x->pool, entries);
    row->source = stored->data;
    row->expires_at_ms = stored->expires_at_ms;
    /* the format keeps no write time: the lifetime a write gives tells it,
     * and the touch slides the expiry by it */
    row->updated_at_ms = stored->expires_at_ms - use->ttl_ms;
    return row;
}

static apr_status_t express_load(orm_conn_t *conn, const char *id,
                                 apr_int64_t now_ms, orm_row_t **row)
{
    const express_conn_t *x = conn->impl;
    orm_row_t *stored = NULL;
    apr_status_t rv = orm_store_load((orm_conn_t *)x->inner, id, now_ms,
                                     &stored);

    *row = rv == APR_SUCCESS && stored ? from_json(x, id, stored) : NULL;
    return rv;
}

/* The inner row written for row: its data as JSON over its source. */
static apr_status_t inner_row(const express_conn_t *x, const char *id,
                              const orm_row_t *row, orm_row_t *written)
{
    memset(written, 0, sizeof(*written));
    written->data = to_json(x, id, row->source, row->data,
                            row->expires_at_ms);
    written->source = row->source;
    written->expires_at_ms = row->expires_at_ms;
    written->updated_at_ms = row->updated_at_ms;
    return written->data ? APR_SUCCESS : APR_EINVAL;
}

static apr_status_t express_save(orm_conn_t *conn, const char *id,
                                 const orm_row_t *row,
                                 apr_int64_t created_at_ms)
{
    const express_conn_t *x = conn->impl;
    orm_row_t written;
    apr_status_t rv = inner_row(x, id, row, &written);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    return orm_store_save((orm_conn_t *)x->inner, id, &written,
                          created_at_ms);
}

static apr_status_t express_update_if(orm_conn_t *conn, const char *id,
                                      const orm_row_t *row,
                                      apr_int64_t version, int *matched)
{
    const express_conn_t *x = conn->impl;
    orm_row_t written;
    apr_status_t rv = inner_row(x, id, row, &written);

    *matched = 0;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return orm_store_update_if((orm_conn_t *)x->inner, id, &written, version,
                               matched);
}

/* The merge under the row lock, told the stored JSON: the caller's merge
 * of mod_session's data, written over that JSON. */
typedef struct {
    const express_conn_t *x;
    const char *id;
    orm_store_merge_fn *merge;
    void *baton;
    apr_int64_t expires_at_ms;
    const char *merged;         /* mod_session's data as merged */
} json_merge_t;

static const char *merge_json(void *baton, apr_pool_t *pool,
                              const char *stored_json)
{
    json_merge_t *m = baton;
    orm_row_t stored, *row;

    memset(&stored, 0, sizeof(stored));
    stored.data = stored_json;
    if ((row = from_json(m->x, m->id, &stored)) == NULL) {
        return NULL;            /* left as it is */
    }
    m->merged = m->merge(m->baton, pool, row->data);
    if (m->merged == NULL) {
        return NULL;
    }
    return to_json(m->x, m->id, stored_json, m->merged, m->expires_at_ms);
}

static apr_status_t express_merge(orm_conn_t *conn, const char *id,
                                  orm_row_t *row, apr_int64_t now_ms,
                                  orm_store_merge_fn *merge, void *baton,
                                  int *found)
{
    const express_conn_t *x = conn->impl;
    json_merge_t m;
    apr_status_t rv;

    m.x = x;
    m.id = id;
    m.merge = merge;
    m.baton = baton;
    m.expires_at_ms = row->expires_at_ms;
    m.merged = NULL;
    rv = orm_store_merge((orm_conn_t *)x->inner, id, row, now_ms, merge_json,
                         &m, found);
    /* the caller keeps mod_session's data, and the JSON as its source */
    row->source = row->data;
    row->data = m.merged;
    return rv;
}

static apr_status_t express_remove(orm_conn_t *conn, const char *id)
{
    const express_conn_t *x = conn->impl;

    return orm_store_remove((orm_conn_t *)x->inner, id);
}

static const orm_store_ops_t express_ops = {
    .load = express_load,
    .save = express_save,
    .update_if = express_update_if,
    .merge = express_merge,
    .remove = express_remove
};

void orm_express_store_wrap(orm_conn_t *outer, apr_pool_t *pool,
                            const orm_conn_t *inner,
                            const orm_express_use_t *use)
{
    express_conn_t *x = apr_pcalloc(pool, sizeof(*x));

    x->inner = inner;
    x->use = use;
    x->pool = pool;
    outer->ops = &express_ops;
    outer->impl = x;
}
