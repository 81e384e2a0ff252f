#include <string.h>

#include "tests.h"
#include "orm_deadline.h"

/* What the watchdog would cut: the connections handed to cut, in order,
 * and the groups whose connection being opened would be cut. */
typedef struct {
    void *cut[8];
    int n;
    const void *opening;
    int nopening;
} cuts_t;

static void record_cut(void *baton, const void *group, void *conn)
{
    cuts_t *cuts = baton;

    if (conn == NULL) {
        cuts->opening = group;
        cuts->nopening++;
        return;
    }
    if (cuts->n < 8) {
        cuts->cut[cuts->n] = conn;
    }
    cuts->n++;
}

static orm_deadlines_t *new_registry(void)
{
    orm_deadlines_t *reg = NULL;

    ck_assert_int_eq(orm_deadlines_create(test_pool, &reg), APR_SUCCESS);
    return reg;
}

START_TEST(call_in_time_is_not_cut)
{
    orm_deadlines_t *reg = new_registry();
    int conn, is_new = 0;
    cuts_t cuts = { { 0 }, 0, NULL, 0 };
    orm_deadline_t *mark = orm_deadline_arm(reg, "g", &conn, 1000, &is_new);

    ck_assert_int_eq(is_new, 1);
    ck_assert_int_eq(orm_deadlines_expire(reg, 999, 10, record_cut, &cuts),
                     1000);
    ck_assert_int_eq(cuts.n, 0);
    ck_assert_int_eq(orm_deadline_disarm(reg, mark), 0);
    /* nothing marked: nothing to look for */
    ck_assert_int_eq(orm_deadlines_expire(reg, 5000, 10, record_cut, &cuts),
                     0);
    ck_assert_int_eq(cuts.n, 0);
    /* the same connection again is known */
    mark = orm_deadline_arm(reg, "g", &conn, 6000, &is_new);
    ck_assert_int_eq(is_new, 0);
    orm_deadline_disarm(reg, mark);
}
END_TEST

START_TEST(overdue_call_is_cut_until_it_returns)
{
    orm_deadlines_t *reg = new_registry();
    int a, b, is_new;
    cuts_t cuts = { { 0 }, 0, NULL, 0 };
    orm_deadline_t *late = orm_deadline_arm(reg, "g", &a, 1000, &is_new);
    orm_deadline_t *later = orm_deadline_arm(reg, "g", &b, 3000, &is_new);

    /* overdue: cut, and looked at again after recut */
    ck_assert_int_eq(orm_deadlines_expire(reg, 1000, 100, record_cut, &cuts),
                     1100);
    ck_assert_int_eq(cuts.n, 1);
    ck_assert_ptr_eq(cuts.cut[0], &a);
    /* still blocked (a reconnect inside the call): cut again, counted once */
    orm_deadlines_expire(reg, 1100, 100, record_cut, &cuts);
    ck_assert_int_eq(cuts.n, 2);
    ck_assert_ptr_eq(cuts.cut[1], &a);
    ck_assert_int_eq(orm_deadlines_cut_count(reg), 1);
    ck_assert_int_eq(orm_deadline_disarm(reg, late), 2);
    /* the other call is due later */
    ck_assert_int_eq(orm_deadlines_expire(reg, 1200, 100, record_cut, &cuts),
                     3000);
    ck_assert_int_eq(cuts.n, 2);
    /* a marked call's deadline can move */
    orm_deadline_extend(reg, later, 5000);
    ck_assert_int_eq(orm_deadlines_expire(reg, 3000, 100, record_cut, &cuts),
                     5000);
    ck_assert_int_eq(orm_deadline_disarm(reg, later), 0);
    /* a mark is reused, not allocated again */
    late = orm_deadline_arm(reg, "g", &a, 9000, &is_new);
    ck_assert_int_eq(orm_deadline_disarm(reg, late), 0);
}
END_TEST

START_TEST(overdue_acquire_cuts_idle_connections_of_its_group)
{
    orm_deadlines_t *reg = new_registry();
    int idle, busy, other, is_new;
    cuts_t cuts = { { 0 }, 0, NULL, 0 };
    orm_deadline_t *mark;

    /* three known connections: one idle and one in a call of group g, one
     * of group h */
    orm_deadline_disarm(reg, orm_deadline_arm(reg, "g", &idle, 10, &is_new));
    orm_deadline_disarm(reg, orm_deadline_arm(reg, "h", &other, 10,
                                              &is_new));
    mark = orm_deadline_arm(reg, "g", &busy, 100000, &is_new);
    orm_deadline_arm(reg, "g", NULL, 1000, &is_new);
    ck_assert_int_eq(is_new, 0);

    orm_deadlines_expire(reg, 2000, 100, record_cut, &cuts);
    ck_assert_int_eq(cuts.n, 1);
    ck_assert_ptr_eq(cuts.cut[0], &idle);
    /* and the one mod_dbd may be opening for it */
    ck_assert_int_eq(cuts.nopening, 1);
    ck_assert_str_eq(cuts.opening, "g");
    ck_assert_int_eq(orm_deadline_disarm(reg, mark), 0);

    /* a closed connection is never cut */
    orm_deadlines_forget(reg, &idle);
    orm_deadlines_forget(reg, &busy);
    cuts.n = 0;
    orm_deadlines_expire(reg, 3000, 100, record_cut, &cuts);
    ck_assert_int_eq(cuts.n, 0);
    ck_assert_int_eq(cuts.nopening, 2);
    orm_deadlines_forget(reg, &idle);   /* twice: harmless */
}
END_TEST

START_TEST(disarm_null_mark)
{
    orm_deadlines_t *reg = new_registry();

    ck_assert_int_eq(orm_deadline_disarm(reg, NULL), 0);
    orm_deadline_extend(reg, NULL, 1);
}
END_TEST

TCase *tcase_deadline(void)
{
    TCase *tc = tcase_create("deadline");

    tcase_add_test(tc, call_in_time_is_not_cut);
    tcase_add_test(tc, overdue_call_is_cut_until_it_returns);
    tcase_add_test(tc, overdue_acquire_cuts_idle_connections_of_its_group);
    tcase_add_test(tc, disarm_null_mark);
    return tc;
}
