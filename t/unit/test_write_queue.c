/* The turns for writes of one session (orm_write_queue): what a turn keeps
 * is found by the next turn of the same session only, in this process and
 * in another; a turn held elsewhere makes a taker wait, at most its wait,
 * and one whose holder died is free again. */
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <apr_strings.h>

#include "tests.h"
#include "orm_write_queue.h"

static int store_a, store_b;    /* two stores, told apart by address */

static orm_write_queue_t *new_queue(void)
{
    orm_write_queue_t *queue = NULL;

    ck_assert_int_eq(orm_write_queue_create(test_pool, &queue), APR_SUCCESS);
    ck_assert_ptr_nonnull(queue);
    return queue;
}

/* tests.h: shared with the write protocol's tests */
const char *test_turn_kept(orm_write_queue_t *queue, const void *store,
                           const char *id, apr_int64_t *version)
{
    orm_write_turn_t turn;
    const char *data;

    ck_assert(orm_write_turn_take(queue, store, id, 0, &turn));
    data = orm_write_turn_last(&turn, version);
    data = data ? apr_pstrdup(test_pool, data) : NULL;
    orm_write_turn_end(&turn);
    return data;
}

void test_turn_keep(orm_write_queue_t *queue, const void *store,
                    const char *id, const char *data, apr_int64_t version)
{
    orm_write_turn_t turn;

    ck_assert(orm_write_turn_take(queue, store, id, 0, &turn));
    orm_write_turn_keep(&turn, data, version);
    orm_write_turn_end(&turn);
}

START_TEST(test_kept_for_the_same_session_only)
{
    orm_write_queue_t *queue = new_queue();
    apr_int64_t version = 0;
    char *big = apr_palloc(test_pool, ORM_WRITE_QUEUE_DATA_MAX + 1);
    char *long_id = apr_palloc(test_pool, ORM_WRITE_QUEUE_ID_MAX + 1);

    ck_assert_ptr_null(test_turn_kept(queue, &store_a, "s1", &version));
    test_turn_keep(queue, &store_a, "s1", "a=1", 7);
    ck_assert_str_eq(test_turn_kept(queue, &store_a, "s1", &version), "a=1");
    ck_assert(version == 7);
    ck_assert_ptr_null(test_turn_kept(queue, &store_b, "s1", &version));
    ck_assert_ptr_null(test_turn_kept(queue, &store_a, "s2", &version));
    test_turn_keep(queue, &store_a, "s1", "", 8);     /* an empty session is data */
    ck_assert_str_eq(test_turn_kept(queue, &store_a, "s1", &version), "");
    ck_assert(version == 8);
    test_turn_keep(queue, &store_a, "s1", NULL, 0);   /* forgotten */
    ck_assert_ptr_null(test_turn_kept(queue, &store_a, "s1", &version));

    /* too large to keep: nothing is, not an older hint either */
    test_turn_keep(queue, &store_a, "s1", "a=1", 9);
    memset(big, 'x', ORM_WRITE_QUEUE_DATA_MAX);
    big[ORM_WRITE_QUEUE_DATA_MAX] = '\0';
    test_turn_keep(queue, &store_a, "s1", big, 10);
    ck_assert_ptr_null(test_turn_kept(queue, &store_a, "s1", &version));
    memset(long_id, 'i', ORM_WRITE_QUEUE_ID_MAX);
    long_id[ORM_WRITE_QUEUE_ID_MAX] = '\0';
    test_turn_keep(queue, &store_a, long_id, "a=1", 11);
    ck_assert_ptr_null(test_turn_kept(queue, &store_a, long_id, &version));
}
END_TEST

/* Another process (a child of httpd) holds the turn of a session for a
 * while, then keeps what it wrote and ends it; or dies holding it. */
static pid_t hold_in_child(orm_write_queue_t *queue, int hold_ms, int die)
{
    int ready[2];
    pid_t pid;
    char c = 0;

    ck_assert_int_eq(pipe(ready), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        orm_write_turn_t turn;

        close(ready[0]);
        if (!orm_write_turn_take(queue, &store_a, "s1", 0, &turn)) {
            _exit(1);
        }
        if (write(ready[1], "x", 1) != 1) {
            _exit(2);
        }
        if (die) {
            _exit(0);
        }
        apr_sleep(apr_time_from_msec(hold_ms));
        orm_write_turn_keep(&turn, "b=2", 42);
        orm_write_turn_end(&turn);
        _exit(0);
    }
    close(ready[1]);
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    close(ready[0]);
    return pid;
}

static int child_status(pid_t pid)
{
    int status = -1;

    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

START_TEST(test_turn_shared_with_another_process)
{
    orm_write_queue_t *queue = new_queue();
    orm_write_turn_t turn;
    apr_int64_t version = 0;
    pid_t pid = hold_in_child(queue, 400, 0);

    /* held there: a short wait runs out */
    ck_assert(!orm_write_turn_take(queue, &store_a, "s1",
                                   apr_time_from_msec(50), &turn));
    /* a longer one gets the turn once the child ends it, and finds what
     * the child kept */
    ck_assert(orm_write_turn_take(queue, &store_a, "s1",
                                  apr_time_from_sec(5), &turn));
    ck_assert_str_eq(orm_write_turn_last(&turn, &version), "b=2");
    ck_assert(version == 42);
    orm_write_turn_end(&turn);
    ck_assert_int_eq(child_status(pid), 0);
}
END_TEST

START_TEST(test_turn_of_a_dead_holder_is_free)
{
    orm_write_queue_t *queue = new_queue();
    orm_write_turn_t turn;
    apr_int64_t version = 0;
    pid_t pid = hold_in_child(queue, 0, 1);

    ck_assert_int_eq(child_status(pid), 0);
    ck_assert(orm_write_turn_take(queue, &store_a, "s1",
                                  apr_time_from_sec(2), &turn));
    ck_assert_ptr_null(orm_write_turn_last(&turn, &version));
    orm_write_turn_end(&turn);
    /* and usable from then on */
    test_turn_keep(queue, &store_a, "s1", "c=3", 5);
    ck_assert_str_eq(test_turn_kept(queue, &store_a, "s1", &version), "c=3");
}
END_TEST

TCase *tcase_write_queue(void)
{
    TCase *tc = tcase_create("write_queue");

    tcase_add_test(tc, test_kept_for_the_same_session_only);
    tcase_add_test(tc, test_turn_shared_with_another_process);
    tcase_add_test(tc, test_turn_of_a_dead_holder_is_free);
    return tc;
}
