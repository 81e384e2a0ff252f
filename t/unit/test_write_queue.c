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

/* ---- changes left for the turn ----------------------------------------- */

static const orm_write_changes_t LEFT_C3 = { "c=3", "a=1", "alice", 1000, 0 };

static void leave(orm_write_queue_t *queue, const char *id,
                  const orm_write_changes_t *changes, orm_write_left_t *left)
{
    ck_assert(orm_write_leave(queue, &store_a, id, changes, left));
}

/* The holder of s1's turn takes what matches its owner and expiry. */
static apr_array_header_t *gather(orm_write_queue_t *queue,
                                  orm_write_turn_t *turn, const char *owner,
                                  apr_int64_t expires_at_ms)
{
    ck_assert(orm_write_turn_take(queue, &store_a, "s1", 0, turn));
    return orm_write_turn_gather(turn, test_pool, owner, expires_at_ms);
}

START_TEST(test_left_changes_written_or_not_by_the_holder)
{
    static const int written[] = { 1, 0 };
    size_t i;

    for (i = 0; i < 2; i++) {
        orm_write_queue_t *queue = new_queue();
        orm_write_left_t left;
        orm_write_turn_t turn;
        apr_array_header_t *taken;
        const orm_write_taken_t *t;
        apr_int64_t version = 0;

        leave(queue, "s1", &LEFT_C3, &left);
        taken = gather(queue, &turn, "alice", 1000);
        ck_assert_ptr_nonnull(taken);
        ck_assert_int_eq(taken->nelts, 1);
        t = &APR_ARRAY_IDX(taken, 0, orm_write_taken_t);
        ck_assert_str_eq(t->changes.set, "c=3");
        ck_assert_str_eq(t->changes.removed, "a=1");
        /* taken once only */
        ck_assert_ptr_null(orm_write_turn_gather(&turn, test_pool, "alice",
                                                 1000));
        orm_write_taken_end(&turn, t, written[i], 77);
        orm_write_turn_end(&turn);
        ck_assert_int_eq(orm_write_left_collect(&left, &version),
                         written[i] ? ORM_LEFT_WRITTEN
                                    : ORM_LEFT_NOT_WRITTEN);
        if (written[i]) {
            ck_assert(version == 77);
        }
    }
}
END_TEST

/* Changes of another session, owner or expiry stay for their own turn;
 * collected untaken, they are the write's own to make. */
START_TEST(test_left_changes_of_another_write_stay)
{
    static const orm_write_changes_t others[] = {
        { "c=3", "", "bob", 1000, 0 },
        { "c=3", "", NULL, 1000, 0 },
        { "c=3", "", "alice", 2000, 0 },
    };
    orm_write_queue_t *queue = new_queue();
    orm_write_left_t left[5];
    orm_write_turn_t turn;
    apr_int64_t version = 0;
    size_t i;

    for (i = 0; i < 3; i++) {
        leave(queue, "s1", &others[i], &left[i]);
    }
    leave(queue, "s2", &LEFT_C3, &left[3]);
    ck_assert(orm_write_leave(queue, &store_b, "s1", &LEFT_C3, &left[4]));
    ck_assert_ptr_null(gather(queue, &turn, "alice", 1000));
    orm_write_turn_end(&turn);
    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(orm_write_left_collect(&left[i], &version),
                         ORM_LEFT_NOT_WRITTEN);
    }
}
END_TEST

/* A write that stops waiting while the holder has its changes cannot know
 * whether they were written: it makes them again, and the holder frees
 * the cell. Cells are few: a write finding none waits as any other. */
START_TEST(test_left_changes_abandoned_and_cells_run_out)
{
    orm_write_queue_t *queue = new_queue();
    orm_write_left_t left, more[ORM_WRITE_QUEUE_CELLS];
    orm_write_changes_t long_changes = LEFT_C3;
    orm_write_turn_t turn;
    apr_array_header_t *taken;
    apr_int64_t version = 0;
    char *text = apr_palloc(test_pool, ORM_WRITE_QUEUE_CHANGES_MAX + 1);
    int i;

    leave(queue, "s1", &LEFT_C3, &left);
    taken = gather(queue, &turn, "alice", 1000);
    ck_assert_int_eq(orm_write_left_collect(&left, &version),
                     ORM_LEFT_UNKNOWN);
    orm_write_taken_end(&turn, &APR_ARRAY_IDX(taken, 0, orm_write_taken_t),
                        1, 5);
    orm_write_turn_end(&turn);

    /* every cell free again: all of them can be had, one more cannot */
    for (i = 0; i < ORM_WRITE_QUEUE_CELLS; i++) {
        leave(queue, "s1", &LEFT_C3, &more[i]);
    }
    ck_assert(!orm_write_leave(queue, &store_a, "s1", &LEFT_C3, &left));
    for (i = 0; i < ORM_WRITE_QUEUE_CELLS; i++) {
        ck_assert_int_eq(orm_write_left_collect(&more[i], &version),
                         ORM_LEFT_NOT_WRITTEN);
    }
    /* changes too long for a cell are not left */
    memset(text, 'x', ORM_WRITE_QUEUE_CHANGES_MAX);
    text[ORM_WRITE_QUEUE_CHANGES_MAX] = '\0';
    long_changes.set = text;
    ck_assert(!orm_write_leave(queue, &store_a, "s1", &long_changes, &left));
    long_changes = LEFT_C3;
    long_changes.owner = text;
    ck_assert(!orm_write_leave(queue, &store_a, "s1", &long_changes, &left));
}
END_TEST

/* The holder is a child of httpd that dies after taking the changes: the
 * write that left them cannot know, and makes them again. */
START_TEST(test_left_changes_of_a_dead_holder)
{
    orm_write_queue_t *queue = new_queue();
    orm_write_left_t left;
    apr_int64_t version = 0;
    pid_t pid;

    leave(queue, "s1", &LEFT_C3, &left);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        orm_write_turn_t turn;

        _exit(gather(queue, &turn, "alice", 1000) ? 0 : 1);
    }
    ck_assert_int_eq(child_status(pid), 0);
    ck_assert_int_eq(orm_write_left_collect(&left, &version),
                     ORM_LEFT_UNKNOWN);
}
END_TEST

TCase *tcase_write_queue(void)
{
    TCase *tc = tcase_create("write_queue");

    tcase_add_test(tc, test_kept_for_the_same_session_only);
    tcase_add_test(tc, test_turn_shared_with_another_process);
    tcase_add_test(tc, test_turn_of_a_dead_holder_is_free);
    tcase_add_test(tc, test_left_changes_written_or_not_by_the_holder);
    tcase_add_test(tc, test_left_changes_of_another_write_stay);
    tcase_add_test(tc, test_left_changes_abandoned_and_cells_run_out);
    tcase_add_test(tc, test_left_changes_of_a_dead_holder);
    return tc;
}
