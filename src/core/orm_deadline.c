#include <apr_tables.h>
#include <apr_thread_mutex.h>

#include "orm_deadline.h"

struct orm_deadline_t {
    const void *group;
    void *conn;                 /* NULL: acquiring one of group's */
    apr_time_t due;
    int in_use;
    int cuts;
};

typedef struct {
    const void *group;
    void *conn;
} known_conn_t;

struct orm_deadlines_t {
    apr_pool_t *pool;           /* allocations under lock only */
    apr_thread_mutex_t *lock;
    apr_array_header_t *marks;  /* of orm_deadline_t *, reused; as many as
                                 * calls ever in flight at once */
    apr_array_header_t *conns;  /* of known_conn_t */
    apr_uint64_t cut_count;
};

apr_status_t orm_deadlines_create(apr_pool_t *pool, orm_deadlines_t **reg)
{
    orm_deadlines_t *r = apr_pcalloc(pool, sizeof(*r));
    apr_status_t rv;

    rv = apr_thread_mutex_create(&r->lock, APR_THREAD_MUTEX_DEFAULT, pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    r->pool = pool;
    r->marks = apr_array_make(pool, 16, sizeof(orm_deadline_t *));
    r->conns = apr_array_make(pool, 16, sizeof(known_conn_t));
    *reg = r;
    return APR_SUCCESS;
}

static int find_conn(const orm_deadlines_t *reg, const void *conn)
{
    int i;

    for (i = 0; i < reg->conns->nelts; i++) {
        if (APR_ARRAY_IDX(reg->conns, i, known_conn_t).conn == conn) {
            return i;
        }
    }
    return -1;
}

static orm_deadline_t *free_mark(orm_deadlines_t *reg)
{
    orm_deadline_t *mark;
    int i;

    for (i = 0; i < reg->marks->nelts; i++) {
        mark = APR_ARRAY_IDX(reg->marks, i, orm_deadline_t *);
        if (!mark->in_use) {
            return mark;
        }
    }
    mark = apr_pcalloc(reg->pool, sizeof(*mark));
    APR_ARRAY_PUSH(reg->marks, orm_deadline_t *) = mark;
    return mark;
}

orm_deadline_t *orm_deadline_arm(orm_deadlines_t *reg, const void *group,
                                 void *conn, apr_time_t due, int *is_new)
{
    orm_deadline_t *mark;

    *is_new = 0;
    apr_thread_mutex_lock(reg->lock);
    if (conn && find_conn(reg, conn) < 0) {
        known_conn_t *known = apr_array_push(reg->conns);

        known->group = group;
        known->conn = conn;
        *is_new = 1;
    }
    mark = free_mark(reg);
    mark->group = group;
    mark->conn = conn;
    mark->due = due;
    mark->cuts = 0;
    mark->in_use = 1;
    apr_thread_mutex_unlock(reg->lock);
    return mark;
}

int orm_deadline_disarm(orm_deadlines_t *reg, orm_deadline_t *mark)
{
    int cuts;

    if (mark == NULL) {
        return 0;
    }
    apr_thread_mutex_lock(reg->lock);
    cuts = mark->cuts;
    mark->in_use = 0;
    apr_thread_mutex_unlock(reg->lock);
    return cuts;
}

void orm_deadline_extend(orm_deadlines_t *reg, orm_deadline_t *mark,
                         apr_time_t due)
{
    if (mark == NULL) {
        return;
    }
    apr_thread_mutex_lock(reg->lock);
    mark->due = due;
    apr_thread_mutex_unlock(reg->lock);
}

void orm_deadlines_forget(orm_deadlines_t *reg, void *conn)
{
    int i;

    apr_thread_mutex_lock(reg->lock);
    i = find_conn(reg, conn);
    if (i >= 0) {
        known_conn_t *elts = (known_conn_t *)reg->conns->elts;

        elts[i] = elts[reg->conns->nelts - 1];
        reg->conns->nelts--;
    }
    apr_thread_mutex_unlock(reg->lock);
}

static int conn_in_call(const orm_deadlines_t *reg, const void *conn)
{
    int i;

    for (i = 0; i < reg->marks->nelts; i++) {
        const orm_deadline_t *mark = APR_ARRAY_IDX(reg->marks, i,
                                                   orm_deadline_t *);
        if (mark->in_use && mark->conn == conn) {
            return 1;
        }
    }
    return 0;
}

/* An overdue acquire: the connection mod_dbd is checking for it is one of
 * the group's that no marked call holds. */
static void cut_idle(orm_deadlines_t *reg, const void *group,
                     orm_deadline_cut_fn *cut, void *baton)
{
    int i;

    for (i = 0; i < reg->conns->nelts; i++) {
        const known_conn_t *known = &APR_ARRAY_IDX(reg->conns, i,
                                                   known_conn_t);
        if (known->group == group && !conn_in_call(reg, known->conn)) {
            cut(baton, group, known->conn);
        }
    }
}

apr_time_t orm_deadlines_expire(orm_deadlines_t *reg, apr_time_t now,
                                apr_interval_time_t recut,
                                orm_deadline_cut_fn *cut, void *baton)
{
    apr_time_t next = 0;
    int i;

    apr_thread_mutex_lock(reg->lock);
    for (i = 0; i < reg->marks->nelts; i++) {
        orm_deadline_t *mark = APR_ARRAY_IDX(reg->marks, i,
                                             orm_deadline_t *);
        apr_time_t look;

        if (!mark->in_use) {
            continue;
        }
        if (mark->due <= now) {
            if (mark->cuts++ == 0) {
                reg->cut_count++;
            }
            if (mark->conn) {
                cut(baton, mark->group, mark->conn);
            }
            else {
                cut_idle(reg, mark->group, cut, baton);
                cut(baton, mark->group, NULL);
            }
            look = now + recut;
        }
        else {
            look = mark->due;
        }
        if (next == 0 || look < next) {
            next = look;
        }
    }
    apr_thread_mutex_unlock(reg->lock);
    return next;
}

apr_uint64_t orm_deadlines_cut_count(orm_deadlines_t *reg)
{
    apr_uint64_t count;

    apr_thread_mutex_lock(reg->lock);
    count = reg->cut_count;
    apr_thread_mutex_unlock(reg->lock);
    return count;
}
