/* A child's background thread: it sleeps between rounds until its time is
 * up, a stop wakes it at once, and it runs with every signal blocked. */
#include <signal.h>
#include <pthread.h>

#include "tests.h"
#include "orm_bgthread.h"

typedef struct {
    orm_bgthread_t bg;
    int rounds;
    int signals_blocked;
} worker_t;

static void *APR_THREAD_FUNC sleeper(apr_thread_t *thread, void *data)
{
    worker_t *w = data;
    sigset_t mask;

    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    w->signals_blocked = sigismember(&mask, SIGTERM)
                         && sigismember(&mask, SIGUSR1);
    /* an hour per round: only a stop ends it within the test */
    while (!orm_bgthread_sleep(&w->bg, apr_time_from_sec(3600))) {
        w->rounds++;
    }
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

START_TEST(test_stop_wakes_the_thread)
{
    worker_t w = { 0 };
    apr_time_t start;

    ck_assert_int_eq(orm_bgthread_init(&w.bg, test_pool), APR_SUCCESS);
    ck_assert(!orm_bgthread_stopping(&w.bg));
    ck_assert_int_eq(orm_bgthread_start(&w.bg, test_pool, sleeper, &w),
                     APR_SUCCESS);
    apr_sleep(apr_time_from_msec(50));
    start = apr_time_now();
    orm_bgthread_stop(&w.bg);           /* joins */
    ck_assert(apr_time_now() - start < apr_time_from_sec(5));
    ck_assert(orm_bgthread_stopping(&w.bg));
    ck_assert_int_eq(w.rounds, 0);
    ck_assert(w.signals_blocked);
}
END_TEST

START_TEST(test_sleep_times_out)
{
    orm_bgthread_t bg;
    apr_time_t start;

    ck_assert_int_eq(orm_bgthread_init(&bg, test_pool), APR_SUCCESS);
    start = apr_time_now();
    ck_assert(!orm_bgthread_sleep(&bg, apr_time_from_msec(30)));
    ck_assert(apr_time_now() - start >= apr_time_from_msec(25));
    ck_assert(!orm_bgthread_sleep(&bg, 0));     /* no wait at all */
    /* a stop without a thread: nothing to join */
    ck_assert_int_eq(orm_bgthread_stop(&bg), APR_SUCCESS);
    ck_assert(orm_bgthread_sleep(&bg, apr_time_from_sec(3600)));
}
END_TEST

TCase *tcase_bgthread(void)
{
    TCase *tc = tcase_create("bgthread");

    tcase_add_test(tc, test_stop_wakes_the_thread);
    tcase_add_test(tc, test_sleep_times_out);
    return tc;
}
