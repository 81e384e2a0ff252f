/* The integer parser, the default TTL and the touch decision. */
#include <string.h>
#include <apr_strings.h>

#include "tests.h"
#include "orm_integer.h"
#include "orm_ttl.h"

#define SENTINEL APR_INT64_C(-424242)

static apr_int64_t parse_ok(const char *text, apr_int64_t min, apr_int64_t max)
{
    apr_int64_t v = SENTINEL;
    const char *err = orm_integer_parse(test_pool, text, min, max, "seconds",
                                        &v);
    ck_assert_msg(err == NULL, "'%s' rejected: %s", text, err);
    return v;
}

static void parse_bad(const char *text, apr_int64_t min, apr_int64_t max)
{
    apr_int64_t v = SENTINEL;
    const char *err = orm_integer_parse(test_pool, text, min, max, "seconds",
                                        &v);
    ck_assert_msg(err != NULL, "'%s' accepted as %lld", text ? text : "(null)",
                  (long long)v);
    ck_assert(strlen(err) > 0);
}

START_TEST(test_integer_parse_ok)
{
    ck_assert_int_eq(ORM_MAX_SECONDS, APR_INT64_C(316224000));
    ck_assert_int_eq(parse_ok("0", 0, ORM_MAX_SECONDS), 0);
    ck_assert_int_eq(parse_ok("1", 1, ORM_MAX_SECONDS), 1);
    ck_assert_int_eq(parse_ok("60", 0, ORM_MAX_SECONDS), 60);
    ck_assert_int_eq(parse_ok("86400", 1, ORM_MAX_SECONDS), 86400);
    ck_assert_int_eq(parse_ok("3600", 1, ORM_MAX_SECONDS), 3600);
    ck_assert_int_eq(parse_ok("007", 1, ORM_MAX_SECONDS), 7);
    ck_assert_int_eq(parse_ok("123456789", 1, ORM_MAX_SECONDS), 123456789);
    /* surrounding white space */
    ck_assert_int_eq(parse_ok(" 60", 0, ORM_MAX_SECONDS), 60);
    ck_assert_int_eq(parse_ok("60 ", 0, ORM_MAX_SECONDS), 60);
    ck_assert_int_eq(parse_ok("  \t60\t\n ", 0, ORM_MAX_SECONDS), 60);
    ck_assert_int_eq(parse_ok("\n1800\r\n", 1, ORM_MAX_SECONDS), 1800);
}
END_TEST

START_TEST(test_integer_parse_bounds)
{
    /* inclusive bounds */
    ck_assert_int_eq(parse_ok("316224000", 1, ORM_MAX_SECONDS),
                     ORM_MAX_SECONDS);
    parse_bad("316224001", 1, ORM_MAX_SECONDS);
    parse_bad("316224010", 1, ORM_MAX_SECONDS);
    parse_bad("3162240000", 1, ORM_MAX_SECONDS);
    ck_assert_int_eq(parse_ok("1", 1, ORM_MAX_SECONDS), 1);
    parse_bad("0", 1, ORM_MAX_SECONDS);
    parse_bad("000", 1, ORM_MAX_SECONDS);
    /* small ranges */
    ck_assert_int_eq(parse_ok("10", 10, 10), 10);
    parse_bad("9", 10, 10);
    parse_bad("11", 10, 10);
    ck_assert_int_eq(parse_ok("100", 0, 100), 100);
    parse_bad("101", 0, 100);
    parse_bad("1000", 0, 100);
    parse_bad("1001", 0, 100);
    ck_assert_int_eq(parse_ok("99", 50, 100), 99);
    parse_bad("49", 50, 100);
}
END_TEST

START_TEST(test_integer_parse_overflow)
{
    parse_bad("99999999999999999999999", 0, ORM_MAX_SECONDS);
    parse_bad("99999999999999999999999", 1, ORM_MAX_SECONDS);
    parse_bad("9223372036854775807", 0, ORM_MAX_SECONDS);
    parse_bad("9223372036854775808", 0, ORM_MAX_SECONDS);
    parse_bad("18446744073709551617", 0, ORM_MAX_SECONDS);
    parse_bad("18446744073709551616", 0, ORM_MAX_SECONDS);
    /* a wrap-around to a small value must not be accepted */
    parse_bad("18446744073709551676", 0, ORM_MAX_SECONDS);
    parse_bad("  99999999999999999999999  ", 0, ORM_MAX_SECONDS);
    parse_bad("00000000000000000000000000000000000000000000000000000000001x",
              0, ORM_MAX_SECONDS);
}
END_TEST

START_TEST(test_integer_parse_rejects_junk)
{
    static const char *const bad[] = {
        "", " ", "\t\n", "-1", "-0", "- 1", "+5", "1.5", "1.0", "60.", ".5",
        "1e3", "0x10", "60s", "60 s", "s60", "6 0", "60;", "60,", "abc",
        "1 2 3", "ten", "\xc3\xa9", "60\xc2\xa0"
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        parse_bad(bad[i], 0, ORM_MAX_SECONDS);
    }
    parse_bad(NULL, 0, ORM_MAX_SECONDS);
}
END_TEST

START_TEST(test_ttl_default)
{
    ck_assert_int_eq(ORM_DEFAULT_TTL_SECONDS, 86400);
    ck_assert_int_eq(orm_ttl_default(0), 86400);
    ck_assert_int_eq(orm_ttl_default(-1), 86400);
    ck_assert_int_eq(orm_ttl_default(1), 1);
    ck_assert_int_eq(orm_ttl_default(600), 600);
    ck_assert_int_eq(orm_ttl_default(172800), 172800);
    ck_assert_int_eq(orm_ttl_default(APR_INT64_C(5000000000)),
                     APR_INT64_C(5000000000));
}
END_TEST

/* A row written at T0 that lives for ttl seconds. */
#define T0 APR_INT64_C(1700000000000)
#define EXP(ttl_s) (T0 + (apr_int64_t)(ttl_s) * 1000)

START_TEST(test_touch_not_due_right_after_write)
{
    ck_assert(!orm_touch_due(T0, T0, EXP(86400), 60, 0));
    ck_assert(!orm_touch_due(T0 + 1, T0, EXP(86400), 60, 0));
    ck_assert(!orm_touch_due(T0 + 1000, T0, EXP(86400), 60, 3600));
}
END_TEST

START_TEST(test_touch_due_after_interval)
{
    ck_assert(!orm_touch_due(T0 + 59999, T0, EXP(86400), 60, 0));
    ck_assert(orm_touch_due(T0 + 60000, T0, EXP(86400), 60, 0));
    ck_assert(orm_touch_due(T0 + 60001, T0, EXP(86400), 60, 0));
    ck_assert(orm_touch_due(T0 + 3600000, T0, EXP(86400), 60, 0));
    /* a longer interval */
    ck_assert(!orm_touch_due(T0 + 3599999, T0, EXP(86400), 3600, 0));
    ck_assert(orm_touch_due(T0 + 3600000, T0, EXP(86400), 3600, 0));
    /* the default interval */
    ck_assert_int_eq(ORM_DEFAULT_TOUCH_SECONDS, 60);
    ck_assert(orm_touch_due(T0 + 60000, T0, EXP(86400),
                            ORM_DEFAULT_TOUCH_SECONDS, 0));
    /* a maxage larger than twice the interval changes nothing */
    ck_assert(!orm_touch_due(T0 + 59999, T0, EXP(86400), 60, 3600));
    ck_assert(orm_touch_due(T0 + 60000, T0, EXP(86400), 60, 3600));
}
END_TEST

START_TEST(test_touch_clamped_by_half_row_life)
{
    /* TTL 100 s, interval 60 s: rewritten after 50 s */
    ck_assert(!orm_touch_due(T0 + 49999, T0, EXP(100), 60, 0));
    ck_assert(orm_touch_due(T0 + 50000, T0, EXP(100), 60, 0));
    /* TTL 10 s, interval 1 h: after 5 s */
    ck_assert(!orm_touch_due(T0 + 4999, T0, EXP(10), 3600, 0));
    ck_assert(orm_touch_due(T0 + 5000, T0, EXP(10), 3600, 0));
    /* TTL exactly twice the interval: same either way */
    ck_assert(!orm_touch_due(T0 + 59999, T0, EXP(120), 60, 0));
    ck_assert(orm_touch_due(T0 + 60000, T0, EXP(120), 60, 0));
    /* the half is of the row's own lifetime (expires - updated), not of
     * the time left */
    ck_assert(!orm_touch_due(T0 + 49999, T0, EXP(100), 3600, 0));
}
END_TEST

START_TEST(test_touch_clamped_by_half_maxage)
{
    /* row lives a day, interval 60 s, mod_session maxage 30 s: 15 s */
    ck_assert(!orm_touch_due(T0 + 14999, T0, EXP(86400), 60, 30));
    ck_assert(orm_touch_due(T0 + 15000, T0, EXP(86400), 60, 30));
    /* maxage 0 or negative: unset, no clamp */
    ck_assert(!orm_touch_due(T0 + 15000, T0, EXP(86400), 60, 0));
    ck_assert(!orm_touch_due(T0 + 15000, T0, EXP(86400), 60, -1));
    /* the smallest of the three wins: half maxage (20 s) < half life
     * (50 s) < interval (60 s) */
    ck_assert(!orm_touch_due(T0 + 19999, T0, EXP(100), 60, 40));
    ck_assert(orm_touch_due(T0 + 20000, T0, EXP(100), 60, 40));
    /* half life (50 s) < half maxage (100 s) < interval (1 h) */
    ck_assert(!orm_touch_due(T0 + 49999, T0, EXP(100), 3600, 200));
    ck_assert(orm_touch_due(T0 + 50000, T0, EXP(100), 3600, 200));
    /* odd maxage: half of 1 s is 500 ms */
    ck_assert(!orm_touch_due(T0 + 499, T0, EXP(86400), 60, 1));
    ck_assert(orm_touch_due(T0 + 500, T0, EXP(86400), 60, 1));
}
END_TEST

START_TEST(test_touch_interval_zero_always_due)
{
    ck_assert(orm_touch_due(T0, T0, EXP(86400), 0, 0));
    ck_assert(orm_touch_due(T0 + 1, T0, EXP(86400), 0, 0));
    ck_assert(orm_touch_due(T0, T0, EXP(86400), 0, 3600));
    ck_assert(orm_touch_due(T0 + 1000, T0, EXP(10), 0, 0));
}
END_TEST

/* A write at T0 + after_ms of a session that lives ttl seconds, over the
 * row written at T0 that lived as long. */
#define WRITE_EXPIRY(after_ms, ttl_s, touch_s, maxage) \
    orm_ttl_write_expiry(T0 + (after_ms), (ttl_s), T0, EXP(ttl_s), \
                         (touch_s), (maxage))

START_TEST(test_write_expiry_kept_within_touch_interval)
{
    /* a day's TTL, interval 60 s: kept until a minute has passed */
    ck_assert_int_eq(WRITE_EXPIRY(0, 86400, 60, 0), EXP(86400));
    ck_assert_int_eq(WRITE_EXPIRY(1, 86400, 60, 0), EXP(86400));
    ck_assert_int_eq(WRITE_EXPIRY(59999, 86400, 60, 0), EXP(86400));
    ck_assert_int_eq(WRITE_EXPIRY(60000, 86400, 60, 0),
                     EXP(86400) + 60000);
    /* the interval's clamps apply: half the row's life (TTL 10 s: 5 s),
     * half of mod_session's maxage (30 s: 15 s) */
    ck_assert_int_eq(WRITE_EXPIRY(4999, 10, 60, 0), EXP(10));
    ck_assert_int_eq(WRITE_EXPIRY(5000, 10, 60, 0), EXP(10) + 5000);
    ck_assert_int_eq(WRITE_EXPIRY(14999, 86400, 60, 30), EXP(86400));
    ck_assert_int_eq(WRITE_EXPIRY(15000, 86400, 60, 30),
                     EXP(86400) + 15000);
    /* interval 0: every write moves it */
    ck_assert_int_eq(WRITE_EXPIRY(1, 86400, 0, 0), EXP(86400) + 1);
}
END_TEST

START_TEST(test_write_expiry_never_later_than_asked)
{
    /* a shorter TTL than the row was written with is written at once */
    ck_assert_int_eq(orm_ttl_write_expiry(T0 + 1000, 60, T0, EXP(86400),
                                          60, 0), T0 + 1000 + 60000);
    ck_assert_int_eq(orm_ttl_write_expiry(T0, 1, T0, EXP(2), 60, 0),
                     T0 + 1000);
    /* a row kept by an earlier write (updated after it was given its
     * expiry): the interval is still measured against the expiry, so the
     * session never lives less than ttl minus the interval */
    ck_assert_int_eq(orm_ttl_write_expiry(T0 + 59999, 86400, T0 + 30000,
                                          EXP(86400), 60, 0), EXP(86400));
    ck_assert_int_eq(orm_ttl_write_expiry(T0 + 60000, 86400, T0 + 30000,
                                          EXP(86400), 60, 0),
                     EXP(86400) + 60000);
}
END_TEST

START_TEST(test_write_expiry_agrees_with_touch)
{
    /* whenever a touch of the row as written is due, a write moves the
     * expiry (a touch is never a write that keeps it) */
    static const apr_int64_t ttls[] = { 2, 10, 100, 120, 86400 };
    static const apr_int64_t touches[] = { 0, 1, 60, 3600 };
    static const apr_int64_t maxages[] = { 0, 1, 30, 3600 };
    size_t t, i, m;
    apr_int64_t after;

    for (t = 0; t < sizeof(ttls) / sizeof(ttls[0]); t++)
        for (i = 0; i < sizeof(touches) / sizeof(touches[0]); i++)
            for (m = 0; m < sizeof(maxages) / sizeof(maxages[0]); m++)
                for (after = 250; after <= 100000; after += 250) {
                    int due = orm_touch_due(T0 + after, T0, EXP(ttls[t]),
                                            touches[i], maxages[m]);
                    int moved = WRITE_EXPIRY(after, ttls[t], touches[i],
                                             maxages[m]) != EXP(ttls[t]);

                    ck_assert_int_eq(due, moved);
                }
}
END_TEST

TCase *tcase_ttl(void)
{
    TCase *tc = tcase_create("ttl");

    tcase_add_test(tc, test_integer_parse_ok);
    tcase_add_test(tc, test_write_expiry_kept_within_touch_interval);
    tcase_add_test(tc, test_write_expiry_never_later_than_asked);
    tcase_add_test(tc, test_write_expiry_agrees_with_touch);
    tcase_add_test(tc, test_integer_parse_bounds);
    tcase_add_test(tc, test_integer_parse_overflow);
    tcase_add_test(tc, test_integer_parse_rejects_junk);
    tcase_add_test(tc, test_ttl_default);
    tcase_add_test(tc, test_touch_not_due_right_after_write);
    tcase_add_test(tc, test_touch_due_after_interval);
    tcase_add_test(tc, test_touch_clamped_by_half_row_life);
    tcase_add_test(tc, test_touch_clamped_by_half_maxage);
    tcase_add_test(tc, test_touch_interval_zero_always_due);
    return tc;
}
