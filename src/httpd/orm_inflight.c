#include "apr_thread_proc.h"
#include "ap_mpm.h"
#include "http_request.h"

#include "orm_inflight.h"

/* A request noted, in its own pool. */
typedef struct noted_t {
    struct noted_t *next;
    apr_pool_t *pool;
    orm_inflight_t *inflight;   /* the record it is in */
    int ending;                 /* its pool is being destroyed */
} noted_t;

struct orm_inflight_t {
    apr_os_thread_t main_thread;    /* the one prefork's handler interrupts */
    noted_t *noted;                 /* newest first */
    int calls;                      /* database calls under way */
};

static int on_main_thread(const orm_inflight_t *inflight)
{
    return apr_os_thread_equal(inflight->main_thread,
                               apr_os_thread_current());
}

/* Registered before the connection is acquired, so it runs after mod_dbd
 * handed it back: the request stays noted while its connection is out
 * (when no other module acquired it earlier in the request). */
static apr_status_t noted_gone(void *data)
{
    noted_t *gone = data;
    noted_t **at;

    for (at = &gone->inflight->noted; *at; at = &(*at)->next) {
        if (*at == gone) {
            *at = gone->next;
            break;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t noted_ending(void *data)
{
    ((noted_t *)data)->ending = 1;
    return APR_SUCCESS;
}

/* pchild's pre-cleanup. Each pool is unlinked before it goes, so the loop
 * ends whatever its cleanups do. */
static apr_status_t inflight_end(void *data)
{
    orm_inflight_t *inflight = data;
    noted_t *request;

    if (inflight->calls > 0) {
        return APR_SUCCESS;
    }
    while ((request = inflight->noted) != NULL) {
        inflight->noted = request->next;
        if (!request->ending) {
            apr_pool_destroy(request->pool);
        }
    }
    return APR_SUCCESS;
}

orm_inflight_t *orm_inflight_create(apr_pool_t *pchild)
{
    orm_inflight_t *inflight;
    int threaded = 0;

    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) != APR_SUCCESS
        || threaded != AP_MPMQ_NOT_SUPPORTED) {
        return NULL;
    }
    inflight = apr_pcalloc(pchild, sizeof(*inflight));
    inflight->main_thread = apr_os_thread_current();
    apr_pool_pre_cleanup_register(pchild, inflight, inflight_end);
    return inflight;
}

void orm_inflight_note(orm_inflight_t *inflight, request_rec *r)
{
    noted_t *request;

    if (inflight == NULL || !on_main_thread(inflight)) {
        return;
    }
    while (!ap_is_initial_req(r)) {
        r = r->prev ? r->prev : r->main;
    }
    for (request = inflight->noted; request; request = request->next) {
        if (request->pool == r->pool) {
            return;
        }
    }
    request = apr_pcalloc(r->pool, sizeof(*request));
    request->inflight = inflight;
    request->pool = r->pool;
    request->next = inflight->noted;
    inflight->noted = request;
    apr_pool_pre_cleanup_register(r->pool, request, noted_ending);
    apr_pool_cleanup_register(r->pool, request, noted_gone,
                              apr_pool_cleanup_null);
}

void orm_inflight_calls(orm_inflight_t *inflight, int delta)
{
    if (inflight != NULL && on_main_thread(inflight)) {
        inflight->calls += delta;
    }
}
