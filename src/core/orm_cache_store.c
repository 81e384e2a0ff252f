#include "orm_cache_store.h"

typedef struct {
    orm_conn_t inner;
    int connected;
    orm_cache_t *cache;
    apr_uint64_t store;
    apr_pool_t *pool;
    orm_cache_connect_fn *connect;
    orm_cache_report_fn *report;
    void *baton;
} cache_conn_t;

/* The store read through, connected at its first use. */
static apr_status_t connect_inner(cache_conn_t *c)
{
    apr_status_t rv;

    if (c->connected) {
        return APR_SUCCESS;
    }
    if ((rv = c->connect(c->baton, &c->inner)) == APR_SUCCESS) {
        c->connected = 1;
    }
    return rv;
}

#define INNER(c) (&(c)->inner)

static apr_status_t cache_load(orm_conn_t *conn, const char *id,
                               apr_int64_t now_ms, orm_row_t **row)
{
    cache_conn_t *c = conn->impl;
    orm_cache_ticket_t ticket;
    int hit;
    apr_status_t rv = APR_SUCCESS;

    orm_cache_begin(c->cache, c->store, id, &ticket);
    hit = orm_cache_get(&ticket, c->pool, now_ms, row);
    if (!hit && (rv = connect_inner(c)) == APR_SUCCESS) {
        rv = orm_store_load(INNER(c), id, now_ms, row);
        if (rv == APR_SUCCESS) {
            orm_cache_fill(&ticket, *row);
        }
    }
    if (c->report) {
        c->report(c->baton, id, hit);
    }
    return rv;
}

/* Connects (a write the database does not get changed nothing, and the
 * entry holds) and takes the write's ticket. */
static apr_status_t write_begin(cache_conn_t *c, const char *id,
                                orm_cache_ticket_t *ticket)
{
    apr_status_t rv = connect_inner(c);

    if (rv == APR_SUCCESS) {
        orm_cache_begin(c->cache, c->store, id, ticket);
    }
    return rv;
}

/* Tells the cache what a write left: row when the database holds it now,
 * else NULL (removed, or not known). */
static apr_status_t write_end(const orm_cache_ticket_t *ticket,
                              apr_status_t rv, const orm_row_t *row)
{
    orm_cache_written(ticket, rv == APR_SUCCESS ? row : NULL);
    return rv;
}

typedef apr_status_t row_write_fn(orm_conn_t *conn, const char *id,
                                  const orm_row_t *row,
                                  apr_int64_t created_at_ms);

/* A save or an insert: the row written is the row stored. */
static apr_status_t write_row(orm_conn_t *conn, const char *id,
                              const orm_row_t *row, apr_int64_t created_at_ms,
                              row_write_fn *write)
{
    cache_conn_t *c = conn->impl;
    orm_cache_ticket_t ticket;
    apr_status_t rv = write_begin(c, id, &ticket);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    return write_end(&ticket, write(INNER(c), id, row, created_at_ms), row);
}

static apr_status_t cache_save(orm_conn_t *conn, const char *id,
                               const orm_row_t *row,
                               apr_int64_t created_at_ms)
{
    return write_row(conn, id, row, created_at_ms, orm_store_save);
}

static apr_status_t cache_insert(orm_conn_t *conn, const char *id,
                                 const orm_row_t *row,
                                 apr_int64_t created_at_ms)
{
    return write_row(conn, id, row, created_at_ms, orm_store_insert);
}

static apr_status_t cache_update_if(orm_conn_t *conn, const char *id,
                                    const orm_row_t *row,
                                    apr_int64_t version, int *matched)
{
    cache_conn_t *c = conn->impl;
    orm_cache_ticket_t ticket;
    apr_status_t rv = write_begin(c, id, &ticket);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = orm_store_update_if(INNER(c), id, row, version, matched);
    /* not matched: another write got there first, whose row this one does
     * not know */
    return write_end(&ticket, rv, *matched ? row : NULL);
}

/* A merge follows a lost race, rare enough that the next read may ask the
 * database; a removal leaves nothing to keep. */
static apr_status_t cache_merge(orm_conn_t *conn, const char *id,
                                orm_row_t *row, apr_int64_t now_ms,
                                orm_store_merge_fn *merge, void *baton,
                                int *found)
{
    cache_conn_t *c = conn->impl;
    orm_cache_ticket_t ticket;
    apr_status_t rv = write_begin(c, id, &ticket);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = orm_store_merge(INNER(c), id, row, now_ms, merge, baton, found);
    return write_end(&ticket, rv, NULL);
}

static apr_status_t cache_remove(orm_conn_t *conn, const char *id)
{
    cache_conn_t *c = conn->impl;
    orm_cache_ticket_t ticket;
    apr_status_t rv = write_begin(c, id, &ticket);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    return write_end(&ticket, orm_store_remove(INNER(c), id), NULL);
}

static const orm_store_ops_t cache_ops = {
    .load = cache_load,
    .save = cache_save,
    .insert = cache_insert,
    .update_if = cache_update_if,
    .merge = cache_merge,
    .remove = cache_remove
};

void orm_cache_store_wrap(orm_conn_t *outer, apr_pool_t *pool,
                          orm_cache_t *cache, apr_uint64_t store,
                          orm_cache_connect_fn *connect,
                          orm_cache_report_fn *report, void *baton)
{
    cache_conn_t *c = apr_pcalloc(pool, sizeof(*c));

    c->connect = connect;
    c->cache = cache;
    c->store = store;
    c->pool = pool;
    c->report = report;
    c->baton = baton;
    outer->ops = &cache_ops;
    outer->impl = c;
}
