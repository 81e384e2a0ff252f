/* The outage state and the log gate in shared memory: one line when an
 * outage starts, one when it ends after a quiet time; at most one line per
 * interval for other failures, with the count of the rest. */
#include <string.h>

#include "tests.h"
#include "orm_gate.h"

#define T0 ((apr_uint64_t)1700000000000)   /* ms */
#define QUIET ORM_OUTAGE_QUIET_MS              /* the store's */

START_TEST(test_outage_one_pair)
{
    orm_outage_t o;
    apr_uint32_t failed = 0;

    memset(&o, 0, sizeof(o));
    ck_assert(!orm_outage_on(&o));
    ck_assert(!orm_outage_success(&o, T0, QUIET, &failed)); /* no outage */
    ck_assert_uint_eq(orm_outage_since(&o), 0);
    ck_assert(orm_outage_failure(&o, T0));              /* starts */
    ck_assert(orm_outage_on(&o));
    ck_assert(!orm_outage_failure(&o, T0 + 10));        /* same outage */
    ck_assert_uint_eq(orm_outage_since(&o), T0 / 1000); /* its start */
    /* a server that flaps answers between failures: still one outage */
    ck_assert(!orm_outage_success(&o, T0 + 20, QUIET, &failed));
    ck_assert(!orm_outage_failure(&o, T0 + 40));
    ck_assert(!orm_outage_success(&o, T0 + 40 + QUIET - 1, QUIET, &failed));
    ck_assert(orm_outage_on(&o));
    /* quiet long enough: ends, once */
    ck_assert(orm_outage_success(&o, T0 + 40 + QUIET, QUIET, &failed));
    ck_assert_uint_eq(failed, 40);
    ck_assert(!orm_outage_on(&o));
    ck_assert_uint_eq(orm_outage_since(&o), 0);
    ck_assert(!orm_outage_success(&o, T0 + 100000, QUIET, &failed));
    /* the next failure is a new outage */
    ck_assert(orm_outage_failure(&o, T0 + 200000));
    ck_assert_uint_eq(orm_outage_since(&o), (T0 + 200000) / 1000);
}
END_TEST

START_TEST(test_outage_wraps)
{
    /* the low 32 bits of the ms clock wrap every 49 days */
    orm_outage_t o;
    apr_uint64_t t = ((apr_uint64_t)1 << 32) - 500;
    apr_uint32_t failed = 0;

    memset(&o, 0, sizeof(o));
    ck_assert(orm_outage_failure(&o, t));
    ck_assert(!orm_outage_success(&o, t + 600, QUIET, &failed));
    ck_assert(orm_outage_success(&o, t + QUIET, QUIET, &failed));
    ck_assert_uint_eq(failed, 0);
}
END_TEST

START_TEST(test_outage_without_quiet_time)
{
    /* the sweep's: its first success after a failure ends the outage */
    orm_outage_t o;
    apr_uint32_t failed = 0;

    memset(&o, 0, sizeof(o));
    ck_assert(!orm_outage_success(&o, T0, 0, &failed));     /* no outage */
    ck_assert(orm_outage_failure(&o, T0));                  /* logged */
    ck_assert(!orm_outage_failure(&o, T0 + 300000));        /* not again */
    ck_assert(orm_outage_success(&o, T0 + 300000, 0, &failed));
    ck_assert_uint_eq(failed, 300000);
    ck_assert(!orm_outage_on(&o));
    ck_assert(!orm_outage_success(&o, T0 + 600000, 0, &failed));
    ck_assert(orm_outage_failure(&o, T0 + 900000));         /* a new one */
}
END_TEST

START_TEST(test_log_gate)
{
    orm_log_gate_t g;
    apr_uint32_t suppressed = 99;
    apr_uint64_t now = 1700000000;
    int i, passed = 0;

    memset(&g, 0, sizeof(g));
    ck_assert(orm_log_gate_pass(&g, now, &suppressed));   /* the first */
    ck_assert_uint_eq(suppressed, 0);
    for (i = 0; i < 100; i++) {
        passed += orm_log_gate_pass(&g, now + i % ORM_LOG_GATE_SECONDS,
                                    &suppressed);
    }
    ck_assert_int_eq(passed, 0);
    ck_assert(orm_log_gate_pass(&g, now + ORM_LOG_GATE_SECONDS,
                                &suppressed));
    ck_assert_uint_eq(suppressed, 100);
    ck_assert(!orm_log_gate_pass(&g, now + ORM_LOG_GATE_SECONDS + 1,
                                 &suppressed));
    ck_assert(orm_log_gate_pass(&g, now + 10 * ORM_LOG_GATE_SECONDS,
                                &suppressed));
    ck_assert_uint_eq(suppressed, 1);
}
END_TEST

TCase *tcase_gate(void)
{
    TCase *tc = tcase_create("gate");

    tcase_add_test(tc, test_outage_one_pair);
    tcase_add_test(tc, test_outage_wraps);
    tcase_add_test(tc, test_outage_without_quiet_time);
    tcase_add_test(tc, test_log_gate);
    return tc;
}
