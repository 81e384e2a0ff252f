/* The counters of the status and metrics, and the texts made of them:
 * bucket placement, cumulative buckets, what a write counts, and the
 * escaping of names in Prometheus labels, JSON strings and HTML. */
#include <string.h>

#include <apr_strings.h>

#include "tests.h"
#include "orm_metrics.h"

#define T0_MS ((apr_uint64_t)1700000000123)

/* A snapshot of m under server and table. */
static orm_metrics_snapshot_t snapshot(orm_metrics_t *m, const char *server,
                                       const char *table)
{
    orm_metrics_snapshot_t s;

    memset(&s, 0, sizeof(s));
    s.server = server;
    s.table = table;
    s.host = "web1";
    s.sweep_seconds = 300;
    orm_metrics_read(m, &s);
    return s;
}

static apr_array_header_t *one_snapshot(orm_metrics_t *m, const char *server)
{
    apr_array_header_t *snaps = apr_array_make(test_pool, 2,
                                               sizeof(orm_metrics_snapshot_t));

    APR_ARRAY_PUSH(snaps, orm_metrics_snapshot_t) = snapshot(m, server,
                                                             "session");
    return snaps;
}

static int occurrences(const char *text, const char *what)
{
    int n = 0;

    while ((text = strstr(text, what)) != NULL) {
        n++;
        text += strlen(what);
    }
    return n;
}

START_TEST(test_bucket_placement)
{
    /* le: an observation equal to a bound is in that bound's bucket */
    ck_assert_int_eq(orm_metrics_bucket(0), 0);
    ck_assert_int_eq(orm_metrics_bucket(500), 0);
    ck_assert_int_eq(orm_metrics_bucket(501), 1);
    ck_assert_int_eq(orm_metrics_bucket(1000), 1);
    ck_assert_int_eq(orm_metrics_bucket(1000000), 10);
    ck_assert_int_eq(orm_metrics_bucket(10000000), ORM_LATENCY_BOUNDS - 1);
    ck_assert_int_eq(orm_metrics_bucket(10000001), ORM_LATENCY_BOUNDS);
    ck_assert_int_eq(orm_metrics_bucket(APR_UINT64_MAX), ORM_LATENCY_BOUNDS);
}
END_TEST

START_TEST(test_observe_and_read)
{
    orm_metrics_t m;
    orm_metrics_snapshot_t s;

    memset(&m, 0, sizeof(m));
    orm_metrics_observe(&m, ORM_LATENCY_LOAD, 300);
    orm_metrics_observe(&m, ORM_LATENCY_LOAD, 700);
    orm_metrics_observe(&m, ORM_LATENCY_LOAD, -5);      /* a clock step */
    orm_metrics_observe(&m, ORM_LATENCY_SAVE, 20000000);
    orm_metrics_observe(NULL, ORM_LATENCY_SAVE, 1);     /* no memory */
    s = snapshot(&m, "s", "t");
    ck_assert_uint_eq(s.latency[ORM_LATENCY_LOAD].buckets[0], 2);
    ck_assert_uint_eq(s.latency[ORM_LATENCY_LOAD].buckets[1], 1);
    ck_assert_uint_eq(s.latency[ORM_LATENCY_LOAD].sum_us, 1000);
    ck_assert_uint_eq(
        s.latency[ORM_LATENCY_SAVE].buckets[ORM_LATENCY_BOUNDS], 1);
    ck_assert_uint_eq(s.latency[ORM_LATENCY_SAVE].sum_us, 20000000);
    /* no shared memory reads as zeros */
    s = snapshot(NULL, "s", "t");
    ck_assert_uint_eq(s.latency[ORM_LATENCY_LOAD].buckets[0], 0);
    ck_assert_uint_eq(s.counters[ORM_METRIC_LOADS], 0);
}
END_TEST

START_TEST(test_count_write)
{
    static const struct {
        orm_save_e action;
        int written;
        orm_write_outcome_e outcome;
        orm_write_event_e event;
        int locked, races;
        orm_metric_e counted;       /* ORM_METRIC_COUNT: none */
    } cases[] = {
        { ORM_SAVE_NEW, 1, ORM_WRITE_SAVED, ORM_WRITE_WRITTEN, 0, 0,
          ORM_METRIC_NEW_SESSIONS },
        { ORM_SAVE_NEW, 0, ORM_WRITE_SAVED, ORM_WRITE_WRITTEN, 0, 0,
          ORM_METRIC_COUNT },                   /* the store failed */
        { ORM_SAVE_UPDATE, 1, ORM_WRITE_SAVED, ORM_WRITE_WRITTEN, 0, 0,
          ORM_METRIC_COUNT },
        { ORM_SAVE_UPDATE, 1, ORM_WRITE_SAVED, ORM_WRITE_MERGED, 0, 2,
          ORM_METRIC_MERGES },
        { ORM_SAVE_UPDATE, 1, ORM_WRITE_SAVED, ORM_WRITE_MERGED, 1, 4,
          ORM_METRIC_MERGES_LOCKED },
        { ORM_SAVE_UPDATE, 1, ORM_WRITE_GAVE_WAY, ORM_WRITE_MOVED, 0, 1,
          ORM_METRIC_COUNT },
        { ORM_SAVE_ROTATE, 1, ORM_WRITE_SAVED, ORM_WRITE_ROTATED, 0, 1,
          ORM_METRIC_ROTATIONS },
        { ORM_SAVE_ROTATE, 0, ORM_WRITE_SAVED, ORM_WRITE_ROTATED, 0, 0,
          ORM_METRIC_COUNT },                   /* the new row failed */
        { ORM_SAVE_ROTATE, 1, ORM_WRITE_GAVE_WAY, ORM_WRITE_LOST_RACES, 0,
          ORM_ROTATE_ATTEMPTS, ORM_METRIC_COUNT },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        orm_metrics_t m;
        orm_write_result_t result;
        int c;

        memset(&m, 0, sizeof(m));
        memset(&result, 0, sizeof(result));
        result.outcome = cases[i].outcome;
        result.event = cases[i].event;
        result.locked = cases[i].locked;
        result.races_lost = cases[i].races;
        orm_metrics_count_write(&m, cases[i].action, cases[i].written,
                                &result);
        ck_assert_uint_eq(m.counters[ORM_METRIC_SAVES], 1);
        ck_assert_uint_eq(m.counters[ORM_METRIC_CONFLICTS], cases[i].races);
        for (c = ORM_METRIC_NEW_SESSIONS; c <= ORM_METRIC_MERGES_LOCKED;
             c++) {
            ck_assert_msg(m.counters[c] == (c == (int)cases[i].counted),
                          "case %u, counter %d", (unsigned)i, c);
        }
    }
}
END_TEST

START_TEST(test_error_and_sweep)
{
    orm_metrics_t m;
    orm_metrics_snapshot_t s;

    memset(&m, 0, sizeof(m));
    s = snapshot(&m, "s", "t");
    ck_assert_uint_eq(s.error_id, 0);
    orm_metrics_error(&m, 112, T0_MS / 1000);
    orm_metrics_error(&m, 116, T0_MS / 1000 + 5);     /* the last one */
    orm_metrics_swept(&m, T0_MS, 40, 7);
    orm_metrics_swept(&m, T0_MS + 300000, 25, 3);
    orm_metrics_counted(&m, T0_MS + 300030, 1234);
    orm_metrics_sweep_failed(&m, T0_MS + 600000);
    s = snapshot(&m, "s", "t");
    ck_assert_uint_eq(s.error_id, 116);
    ck_assert_uint_eq(s.error_at, T0_MS / 1000 + 5);
    ck_assert_uint_eq(s.sweep.swept_ms, T0_MS + 300000);
    ck_assert_uint_eq(s.sweep.took_ms, 25);
    ck_assert_uint_eq(s.sweep.deleted, 3);
    ck_assert_uint_eq(s.sweep.deleted_total, 10);
    ck_assert_uint_eq(s.sweep.live, 1234);
    ck_assert_uint_eq(s.sweep.counted_ms, T0_MS + 300030);
    ck_assert_uint_eq(s.sweep.failed_ms, T0_MS + 600000);
    ck_assert_uint_eq(s.counters[ORM_METRIC_SWEEP_FAILURES], 1);
}
END_TEST

/* Each bucket line of family in text for the store labelled first, in
 * order: its counts never decrease, and +Inf is the _count. */
static void assert_cumulative(const char *text, const char *family,
                              const char *first)
{
    const char *bucket = apr_pstrcat(test_pool, family, "_bucket{", first,
                                     NULL);
    const char *count = apr_pstrcat(test_pool, family, "_count{", first,
                                    NULL);
    const char *at = text, *line;
    apr_uint64_t previous = 0, value = 0;
    int lines = 0;

    while ((line = strstr(at, bucket)) != NULL) {
        value = apr_strtoi64(strchr(line, '}') + 2, NULL, 10);
        ck_assert_msg(value >= previous, "%s decreases", family);
        previous = value;
        lines++;
        at = line + 1;
    }
    ck_assert_int_eq(lines, ORM_LATENCY_BOUNDS + 1);
    ck_assert_ptr_nonnull(strstr(text, apr_psprintf(
        test_pool, "le=\"+Inf\"} %" APR_UINT64_T_FMT "\n", value)));
    line = strstr(text, count);
    ck_assert_ptr_nonnull(line);
    ck_assert_uint_eq(apr_strtoi64(strchr(line, '}') + 2, NULL, 10), value);
}

START_TEST(test_prometheus_text)
{
    orm_metrics_t m;
    apr_array_header_t *snaps;
    const char *text;

    memset(&m, 0, sizeof(m));
    orm_metrics_add(&m, ORM_METRIC_LOADS, 3);
    orm_metrics_observe(&m, ORM_LATENCY_LOAD, 300);
    orm_metrics_observe(&m, ORM_LATENCY_LOAD, 30000);
    orm_metrics_observe(&m, ORM_LATENCY_LOAD, 30000000);
    orm_metrics_swept(&m, T0_MS, 12, 5);
    snaps = one_snapshot(&m, "web:80");
    APR_ARRAY_PUSH(snaps, orm_metrics_snapshot_t) = snapshot(&m, "api:81",
                                                             "other");
    text = orm_metrics_prometheus(test_pool, snaps);
    /* HELP and TYPE once per family, whatever the stores and labels */
    ck_assert_int_eq(occurrences(text, "# TYPE session_orm_failures_total "
                                       "counter\n"), 1);
    ck_assert_int_eq(occurrences(text, "# HELP session_orm_merges_total "),
                     1);
    ck_assert_int_eq(occurrences(text, "# TYPE session_orm_load_duration_"
                                       "seconds histogram\n"), 1);
    ck_assert_int_eq(occurrences(text, "session_orm_failures_total{"), 8);
    ck_assert_ptr_nonnull(strstr(text, "session_orm_loads_total{server="
                                       "\"web:80\",table=\"session\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(text, "session_orm_failures_total{server="
                                       "\"api:81\",table=\"other\",kind="
                                       "\"too_big\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(text, "session_orm_load_duration_seconds_"
                                       "sum{server=\"web:80\",table=\"session"
                                       "\"} 30.030300\n"));
    ck_assert_ptr_nonnull(strstr(text, "session_orm_sweep_last_timestamp_"
                                       "seconds{server=\"web:80\",table="
                                       "\"session\",host=\"web1\"} "
                                       "1700000000.123\n"));
    ck_assert_ptr_nonnull(strstr(text, "session_orm_database_up{server="
                                       "\"web:80\",table=\"session\"} 1\n"));
    /* only while failing */
    ck_assert_ptr_null(strstr(text, "session_orm_database_failing_since_"
                                    "seconds{"));
    assert_cumulative(text, "session_orm_load_duration_seconds",
                      "server=\"web:80\"");
    assert_cumulative(text, "session_orm_save_duration_seconds",
                      "server=\"api:81\"");
    ck_assert_int_eq(text[strlen(text) - 1], '\n');
}
END_TEST

START_TEST(test_prometheus_label_escaping)
{
    orm_metrics_t m;
    const char *text;

    memset(&m, 0, sizeof(m));
    text = orm_metrics_prometheus(test_pool,
                                  one_snapshot(&m, "a\"b\\c\nd"));
    ck_assert_ptr_nonnull(strstr(text, "session_orm_loads_total{server="
                                       "\"a\\\"b\\\\c\\nd\",table="
                                       "\"session\"} 0\n"));
    ck_assert_ptr_null(strstr(text, "c\nd"));
}
END_TEST

START_TEST(test_json_escaping)
{
    orm_metrics_t m;
    orm_metrics_snapshot_t *s;
    apr_array_header_t *snaps;
    const char *text;

    memset(&m, 0, sizeof(m));
    orm_metrics_error(&m, 112, 1700000000);
    snaps = one_snapshot(&m, "q\"b\\s\n\x01\xc3\xa9");
    s = &APR_ARRAY_IDX(snaps, 0, orm_metrics_snapshot_t);
    s->failing = 1;
    s->failing_since = 1700000000;
    text = orm_metrics_json(test_pool, snaps);
    ck_assert_ptr_nonnull(strstr(text, "\"server\":\"q\\\"b\\\\s\\u000a"
                                       "\\u0001\\u00c3\\u00a9\","));
    ck_assert_ptr_nonnull(strstr(text, "\"database\":{\"state\":\"failing\","
                                       "\"failing_since\":1700000000.000,"
                                       "\"last_error\":{\"id\":\"ORM0112\","
                                       "\"time\":1700000000}}"));
    /* never swept: nulls, not zeros */
    ck_assert_ptr_nonnull(strstr(text, "\"sessions\":{\"live\":null,"
                                       "\"expired\":null,\"counted_at\":"
                                       "null}"));
    ck_assert_ptr_nonnull(strstr(text, "\"+Inf\":0},\"sum_seconds\":"
                                       "0.000000,\"count\":0}"));
    ck_assert_int_eq(occurrences(text, "{"), occurrences(text, "}"));
    ck_assert_int_eq(occurrences(text, "["), occurrences(text, "]"));
}
END_TEST

START_TEST(test_html_escaping)
{
    orm_metrics_t m;
    apr_array_header_t *snaps;
    const char *text;

    memset(&m, 0, sizeof(m));
    orm_metrics_swept(&m, T0_MS, 12, 5);
    snaps = one_snapshot(&m, "<script>&\"'");
    APR_ARRAY_IDX(snaps, 0, orm_metrics_snapshot_t).host = "h<1>";
    text = orm_metrics_html(test_pool, snaps, 1);
    ck_assert_ptr_nonnull(strstr(text, "&lt;script&gt;&amp;&quot;&#39;"));
    ck_assert_ptr_nonnull(strstr(text, "on h&lt;1&gt;: 5 rows in 12 ms"));
    ck_assert_ptr_null(strstr(text, "<script>"));
    ck_assert_ptr_nonnull(strstr(text, "<!DOCTYPE html>"));
    text = orm_metrics_html(test_pool, snaps, 0);       /* mod_status's */
    ck_assert_ptr_null(strstr(text, "<html>"));
    ck_assert_ptr_nonnull(strstr(text, "<h2>"));
}
END_TEST

START_TEST(test_auto_lines)
{
    orm_metrics_t m;
    const char *text;

    memset(&m, 0, sizeof(m));
    orm_metrics_add(&m, ORM_METRIC_NEW_SESSIONS, 4);
    orm_metrics_observe(&m, ORM_LATENCY_SAVE, 1500);
    text = orm_metrics_auto(test_pool, one_snapshot(&m, "x\ny:80"));
    ck_assert_ptr_nonnull(strstr(text, "SessionORMStores: 1\n"
                                       "SessionORM1Server: x?y:80\n"
                                       "SessionORM1Table: session\n"
                                       "SessionORM1Database: ok\n"));
    ck_assert_ptr_nonnull(strstr(text, "SessionORM1NewSessions: 4\n"));
    ck_assert_ptr_nonnull(strstr(text, "SessionORM1SaveCount: 1\n"
                                       "SessionORM1SaveSeconds: 0.001500\n"));
    ck_assert_ptr_null(strstr(text, "LastError"));
}
END_TEST

TCase *tcase_metrics(void)
{
    TCase *tc = tcase_create("metrics");

    tcase_add_test(tc, test_bucket_placement);
    tcase_add_test(tc, test_observe_and_read);
    tcase_add_test(tc, test_count_write);
    tcase_add_test(tc, test_error_and_sweep);
    tcase_add_test(tc, test_prometheus_text);
    tcase_add_test(tc, test_prometheus_label_escaping);
    tcase_add_test(tc, test_json_escaping);
    tcase_add_test(tc, test_html_escaping);
    tcase_add_test(tc, test_auto_lines);
    return tc;
}
