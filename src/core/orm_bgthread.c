#include <signal.h>
#include <pthread.h>

#include "orm_bgthread.h"

apr_status_t orm_bgthread_init(orm_bgthread_t *bg, apr_pool_t *pool)
{
    apr_status_t rv;

    bg->stop = 0;
    bg->thread = NULL;
    rv = apr_thread_mutex_create(&bg->lock, APR_THREAD_MUTEX_DEFAULT, pool);
    return rv == APR_SUCCESS ? apr_thread_cond_create(&bg->cond, pool) : rv;
}

apr_status_t orm_bgthread_start(orm_bgthread_t *bg, apr_pool_t *pool,
                                apr_thread_start_t fn, void *data)
{
    sigset_t all_signals, previous;
    apr_status_t rv;

    sigfillset(&all_signals);
    pthread_sigmask(SIG_BLOCK, &all_signals, &previous);
    rv = apr_thread_create(&bg->thread, NULL, fn, data, pool);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (rv != APR_SUCCESS) {
        bg->thread = NULL;
    }
    return rv;
}

int orm_bgthread_sleep(orm_bgthread_t *bg, apr_interval_time_t wait)
{
    int stop;

    apr_thread_mutex_lock(bg->lock);
    if (!bg->stop && wait > 0) {
        apr_thread_cond_timedwait(bg->cond, bg->lock, wait);
    }
    stop = bg->stop;
    apr_thread_mutex_unlock(bg->lock);
    return stop;
}

int orm_bgthread_stopping(orm_bgthread_t *bg)
{
    return orm_bgthread_sleep(bg, 0);
}

apr_status_t orm_bgthread_stop(void *data)
{
    orm_bgthread_t *bg = data;
    apr_status_t thread_rv;

    apr_thread_mutex_lock(bg->lock);
    bg->stop = 1;
    apr_thread_cond_signal(bg->cond);
    apr_thread_mutex_unlock(bg->lock);
    if (bg->thread) {
        apr_thread_join(&thread_rv, bg->thread);
    }
    return APR_SUCCESS;
}
