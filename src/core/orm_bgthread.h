/**
 * A child's background thread (the expiry sweep, the database watchdog):
 * it sleeps between rounds on a condition that a stop signals, so that a
 * child stopping wakes it at once, and it never takes the MPM's signals.
 * apr only.
 */
#ifndef ORM_BGTHREAD_H
#define ORM_BGTHREAD_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_thread_proc.h>
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>

typedef struct {
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *cond;
    int stop;                   /* under lock */
    apr_thread_t *thread;       /* NULL until started */
} orm_bgthread_t;

/** Creates the stop signal in pool. */
apr_status_t orm_bgthread_init(orm_bgthread_t *bg, apr_pool_t *pool);

/** Starts fn(thread, data) in pool, with every signal blocked in it:
 *  prefork's handlers end the process from whichever thread runs them. */
apr_status_t orm_bgthread_start(orm_bgthread_t *bg, apr_pool_t *pool,
                                apr_thread_start_t fn, void *data);

/** In the thread: sleeps up to wait (not at all when wait <= 0) unless a
 *  stop came; true once stopped. */
int orm_bgthread_sleep(orm_bgthread_t *bg, apr_interval_time_t wait);

/** True once stopped, without sleeping. */
int orm_bgthread_stopping(orm_bgthread_t *bg);

/** A pool clean-up (bg as data): signals the stop and waits for the thread
 *  to end. */
apr_status_t orm_bgthread_stop(void *bg);

#endif
