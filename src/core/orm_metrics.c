#include <stdarg.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_strings.h>

#include "orm_metrics.h"

#if defined(__GNUC__)
#define ORM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ORM_PRINTF(f, a)
#endif

/* ---- counting ------------------------------------------------------------ */

/* Upper bounds in microseconds, and as the le label says them. */
static const apr_uint64_t bound_us[ORM_LATENCY_BOUNDS] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000
};
static const char *const bound_text[ORM_LATENCY_BOUNDS + 1] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"
};

void orm_metrics_add(orm_metrics_t *m, orm_metric_e which, apr_uint64_t n)
{
    if (m && n) {
        apr_atomic_add64(&m->counters[which], n);
    }
}

int orm_metrics_bucket(apr_uint64_t us)
{
    int b;

    for (b = 0; b < ORM_LATENCY_BOUNDS && us > bound_us[b]; b++) {
    }
    return b;
}

void orm_metrics_observe(orm_metrics_t *m, orm_latency_e which,
                         apr_interval_time_t took)
{
    apr_uint64_t us = took > 0 ? (apr_uint64_t)took : 0;

    if (m == NULL) {
        return;
    }
    apr_atomic_inc64(&m->latency[which].buckets[orm_metrics_bucket(us)]);
    apr_atomic_add64(&m->latency[which].sum_us, us);
}

void orm_metrics_count_write(orm_metrics_t *m, orm_save_e action,
                             int written, const orm_write_result_t *result)
{
    orm_metrics_add(m, ORM_METRIC_SAVES, 1);
    /* a race lost before a failure was lost all the same */
    orm_metrics_add(m, ORM_METRIC_CONFLICTS, (apr_uint64_t)result->races_lost);
    if (!written || result->outcome != ORM_WRITE_SAVED) {
        return;
    }
    if (action == ORM_SAVE_NEW) {
        orm_metrics_add(m, ORM_METRIC_NEW_SESSIONS, 1);
    }
    else if (result->event == ORM_WRITE_ROTATED) {
        orm_metrics_add(m, ORM_METRIC_ROTATIONS, 1);
    }
    else if (result->event == ORM_WRITE_MERGED) {
        orm_metrics_add(m, result->locked ? ORM_METRIC_MERGES_LOCKED
                                          : ORM_METRIC_MERGES, 1);
    }
}

void orm_metrics_error(orm_metrics_t *m, unsigned id, apr_uint64_t now_sec)
{
    if (m) {
        apr_atomic_set64(&m->last_error,
                         ((now_sec & 0xFFFFFFFFu) << 32) | (apr_uint32_t)id);
    }
}

void orm_metrics_swept(orm_metrics_t *m, apr_uint64_t began_ms,
                       apr_uint64_t took_ms, apr_uint64_t deleted)
{
    if (m == NULL) {
        return;
    }
    apr_atomic_set64(&m->sweep.took_ms, took_ms);
    apr_atomic_set64(&m->sweep.deleted, deleted);
    apr_atomic_add64(&m->sweep.deleted_total, deleted);
    /* last: a reader that sees the new time sees the rest of it */
    apr_atomic_set64(&m->sweep.swept_ms, began_ms);
}

void orm_metrics_counted(orm_metrics_t *m, apr_uint64_t now_ms,
                         apr_uint64_t live)
{
    if (m) {
        apr_atomic_set64(&m->sweep.live, live);
        apr_atomic_set64(&m->sweep.counted_ms, now_ms);
    }
}

void orm_metrics_sweep_failed(orm_metrics_t *m, apr_uint64_t now_ms)
{
    if (m) {
        orm_metrics_add(m, ORM_METRIC_SWEEP_FAILURES, 1);
        apr_atomic_set64(&m->sweep.failed_ms, now_ms);
    }
}

void orm_metrics_swept_elsewhere(orm_metrics_t *m, apr_uint64_t now_ms)
{
    if (m) {
        apr_atomic_set64(&m->sweep.elsewhere_ms, now_ms);
    }
}

static void read_array(apr_uint64_t *shared, apr_uint64_t *to, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        to[i] = shared ? apr_atomic_read64(&shared[i]) : 0;
    }
}

void orm_metrics_read(orm_metrics_t *m, orm_metrics_snapshot_t *snap)
{
    apr_uint64_t error = m ? apr_atomic_read64(&m->last_error) : 0;
    int i;

    read_array(m ? m->counters : NULL, snap->counters, ORM_METRIC_COUNT);
    for (i = 0; i < ORM_LATENCY_COUNT; i++) {
        read_array(m ? m->latency[i].buckets : NULL,
                   snap->latency[i].buckets, ORM_LATENCY_BOUNDS + 1);
        read_array(m ? &m->latency[i].sum_us : NULL,
                   &snap->latency[i].sum_us, 1);
    }
    /* the record is all 64-bit words, in order */
    read_array(m ? &m->sweep.swept_ms : NULL, &snap->sweep.swept_ms,
               sizeof(snap->sweep) / sizeof(apr_uint64_t));
    snap->error_id = (unsigned)(error & 0xFFFFFFFFu);
    snap->error_at = error >> 32;
}

/* ---- what each counter is called ---------------------------------------- */

typedef struct {
    const char *family;         /* Prometheus: session_orm_<family> */
    const char *label;          /* its own label, or NULL */
    const char *help;           /* the family's (read from its first) */
    const char *key;            /* JSON member */
    const char *auto_key;       /* mod_status ?auto: SessionORM<n><key> */
    const char *text;           /* HTML */
} counter_desc_t;

/* In orm_metric_e's order; the entries of a family are neighbours. */
static const counter_desc_t counter_descs[ORM_METRIC_COUNT] = {
    { "loads_total", NULL, "Session loads, failed ones and those "
      "SessionORMCache answered included.", "loads", "Loads", "loads" },
    { "saves_total", NULL, "Session writes that went to the store, failed "
      "ones included.", "saves", "Saves", "saves" },
    { "new_sessions_total", NULL, "New session rows written.",
      "new_sessions", "NewSessions", "new sessions" },
    { "rotations_total", NULL, "Sessions moved to a new token at a change "
      "of owner.", "rotations", "Rotations", "rotations" },
    { "merges_total", "locked=\"false\"", "Writes that lost a race and "
      "merged their changes into the stored session.", "merges_unlocked",
      "MergesUnlocked", "merges without a lock" },
    { "merges_total", "locked=\"true\"", NULL, "merges_locked",
      "MergesLocked", "merges under the row lock" },
    { "conflicts_total", NULL, "Conditional writes that found the row "
      "written by another request (lost races).", "conflicts", "Conflicts",
      "conflicts (lost races)" },
    { "timeouts_total", NULL, "Database calls cut at SessionORMTimeout.",
      "timeouts", "Timeouts", "timeouts (calls cut)" },
    { "failures_total", "kind=\"outage\"", "Session operations that "
      "failed, by kind.", "failures_outage", "FailuresOutage",
      "failures: database unusable" },
    { "failures_total", "kind=\"data\"", NULL, "failures_data",
      "FailuresData", "failures: statement refused or value cut" },
    { "failures_total", "kind=\"too_big\"", NULL, "failures_too_big",
      "FailuresTooBig", "not saved: over SessionORMMaxSize" },
    { "failures_total", "kind=\"skipped\"", NULL, "failures_skipped",
      "FailuresSkipped", "not tried: database known down" },
    { "sweep_failures_total", NULL, "Expiry sweeps of the table that "
      "failed.", "sweep_failures", "SweepFailures", "failed sweeps" },
    { "cache_total", "result=\"hit\"", "Loads of a key through "
      "SessionORMCache, by what the cache had.", "cache_hits", "CacheHits",
      "cache hits" },
    { "cache_total", "result=\"miss\"", NULL, "cache_misses",
      "CacheMisses", "cache misses (read from the database)" }
};

typedef struct {
    const char *family;
    const char *help;
    const char *key;
    const char *auto_key;
} latency_desc_t;

static const latency_desc_t latency_descs[ORM_LATENCY_COUNT] = {
    { "load_duration_seconds", "Time a request's session load took in the "
      "store.", "load", "Load" },
    { "save_duration_seconds", "Time a request's session write took in the "
      "store.", "save", "Save" }
};

/* ---- text ------------------------------------------------------------------ */

/** A text made of parts, joined at the end. */
typedef struct {
    apr_pool_t *pool;
    apr_array_header_t *parts;
} text_t;

static void text_init(text_t *t, apr_pool_t *pool)
{
    t->pool = pool;
    t->parts = apr_array_make(pool, 64, sizeof(const char *));
}

static void put(text_t *t, const char *fmt, ...) ORM_PRINTF(2, 3);

static void put(text_t *t, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    APR_ARRAY_PUSH(t->parts, const char *) = apr_pvsprintf(t->pool, fmt, ap);
    va_end(ap);
}

static char *text_join(text_t *t)
{
    return apr_array_pstrcat(t->pool, t->parts, 0);
}

/* Microseconds and milliseconds as seconds, exactly. */
static const char *seconds_us(apr_pool_t *pool, apr_uint64_t us)
{
    return apr_psprintf(pool, "%" APR_UINT64_T_FMT ".%06" APR_UINT64_T_FMT,
                        us / 1000000, us % 1000000);
}

static const char *seconds_ms(apr_pool_t *pool, apr_uint64_t ms)
{
    return apr_psprintf(pool, "%" APR_UINT64_T_FMT ".%03" APR_UINT64_T_FMT,
                        ms / 1000, ms % 1000);
}

static apr_uint64_t histogram_count(const orm_histogram_t *h)
{
    apr_uint64_t count = 0;
    int b;

    for (b = 0; b <= ORM_LATENCY_BOUNDS; b++) {
        count += h->buckets[b];
    }
    return count;
}

static const orm_metrics_snapshot_t *snap_at(const apr_array_header_t *snaps,
                                             int i)
{
    return &APR_ARRAY_IDX(snaps, i, orm_metrics_snapshot_t);
}

/* ---- Prometheus --------------------------------------------------------- */

/* A label value: backslash, double quote and line feed escaped. */
static const char *prom_escape(apr_pool_t *pool, const char *value)
{
    char *out = apr_palloc(pool, 2 * strlen(value) + 1), *o = out;

    for (; *value; value++) {
        if (*value == '\\' || *value == '"' || *value == '\n') {
            *o++ = '\\';
        }
        *o++ = *value == '\n' ? 'n' : *value;
    }
    *o = '\0';
    return out;
}

/* The store's labels, and extra (escaped already) after them. */
static const char *prom_labels(apr_pool_t *pool,
                               const orm_metrics_snapshot_t *s,
                               const char *extra)
{
    return apr_psprintf(pool, "{server=\"%s\",table=\"%s\"%s%s}",
                        prom_escape(pool, s->server),
                        prom_escape(pool, s->table), extra ? "," : "",
                        extra ? extra : "");
}

static void prom_family(text_t *t, const char *family, const char *type,
                        const char *help)
{
    put(t, "# HELP session_orm_%s %s\n# TYPE session_orm_%s %s\n", family,
        help, family, type);
}

/* One sample of family for store s, extra (escaped) after its labels. */
static void prom_sample(text_t *t, const char *family,
                        const orm_metrics_snapshot_t *s, const char *extra,
                        const char *value)
{
    put(t, "session_orm_%s%s %s\n", family, prom_labels(t->pool, s, extra),
        value);
}

static const char *number(apr_pool_t *pool, apr_uint64_t value)
{
    return apr_psprintf(pool, "%" APR_UINT64_T_FMT, value);
}

static void prom_counters(text_t *t, const apr_array_header_t *snaps)
{
    int c, i;

    for (c = 0; c < ORM_METRIC_COUNT; c++) {
        const counter_desc_t *d = &counter_descs[c];

        if (d->help) {
            prom_family(t, d->family, "counter", d->help);
        }
        for (i = 0; i < snaps->nelts; i++) {
            const orm_metrics_snapshot_t *s = snap_at(snaps, i);

            prom_sample(t, d->family, s, d->label,
                        number(t->pool, s->counters[c]));
        }
    }
}

static void prom_histogram(text_t *t, const apr_array_header_t *snaps,
                           orm_latency_e which)
{
    const latency_desc_t *d = &latency_descs[which];
    const char *bucket = apr_pstrcat(t->pool, d->family, "_bucket", NULL);
    int i, b;

    prom_family(t, d->family, "histogram", d->help);
    for (i = 0; i < snaps->nelts; i++) {
        const orm_metrics_snapshot_t *s = snap_at(snaps, i);
        const orm_histogram_t *h = &s->latency[which];
        apr_uint64_t cumulative = 0;

        for (b = 0; b <= ORM_LATENCY_BOUNDS; b++) {
            cumulative += h->buckets[b];
            prom_sample(t, bucket, s, apr_psprintf(t->pool, "le=\"%s\"",
                                                   bound_text[b]),
                        number(t->pool, cumulative));
        }
        prom_sample(t, apr_pstrcat(t->pool, d->family, "_sum", NULL), s,
                    NULL, seconds_us(t->pool, h->sum_us));
        prom_sample(t, apr_pstrcat(t->pool, d->family, "_count", NULL), s,
                    NULL, number(t->pool, cumulative));
    }
}

/* The samples of one store in a gauge's family (none when unknown). */
typedef void prom_samples_fn(text_t *t, const char *family,
                             const orm_metrics_snapshot_t *s);

typedef struct {
    const char *family;
    const char *type;
    const char *help;
    prom_samples_fn *samples;
} prom_desc_t;

static void up_samples(text_t *t, const char *family,
                       const orm_metrics_snapshot_t *s)
{
    prom_sample(t, family, s, NULL, s->failing ? "0" : "1");
}

static void failing_samples(text_t *t, const char *family,
                            const orm_metrics_snapshot_t *s)
{
    if (s->failing) {
        prom_sample(t, family, s, NULL, number(t->pool, s->failing_since));
    }
}

static void error_samples(text_t *t, const char *family,
                          const orm_metrics_snapshot_t *s)
{
    if (s->error_id) {
        prom_sample(t, family, s, apr_psprintf(t->pool, "id=\"ORM%04u\"",
                                               s->error_id),
                    number(t->pool, s->error_at));
    }
}

static void sessions_samples(text_t *t, const char *family,
                             const orm_metrics_snapshot_t *s)
{
    if (s->sweep.counted_ms) {
        prom_sample(t, family, s, "state=\"live\"",
                    number(t->pool, s->sweep.live));
    }
    if (s->sweep.swept_ms) {
        prom_sample(t, family, s, "state=\"expired\"",
                    number(t->pool, s->sweep.deleted));
    }
}

static void deleted_samples(text_t *t, const char *family,
                            const orm_metrics_snapshot_t *s)
{
    prom_sample(t, family, s, NULL, number(t->pool, s->sweep.deleted_total));
}

static void sweep_time_samples(text_t *t, const char *family,
                               const orm_metrics_snapshot_t *s)
{
    if (s->sweep.swept_ms) {
        prom_sample(t, family, s, apr_psprintf(
                        t->pool, "host=\"%s\"", prom_escape(t->pool, s->host)),
                    seconds_ms(t->pool, s->sweep.swept_ms));
    }
}

static void sweep_took_samples(text_t *t, const char *family,
                               const orm_metrics_snapshot_t *s)
{
    if (s->sweep.swept_ms) {
        prom_sample(t, family, s, NULL, seconds_ms(t->pool, s->sweep.took_ms));
    }
}

static const prom_desc_t state_descs[] = {
    { "database_up", "gauge", "1 while the database answers, 0 during an "
      "outage.", up_samples },
    { "database_failing_since_seconds", "gauge", "When the current outage "
      "began (epoch seconds); only during one.", failing_samples },
    { "last_error_timestamp_seconds", "gauge", "When the last error was "
      "logged (epoch seconds), labelled with its message ID.",
      error_samples }
};

static const prom_desc_t sweep_descs[] = {
    { "sessions", "gauge", "Rows found by the last sweep on this host: live "
      "(counted after it), expired (it deleted them).", sessions_samples },
    { "sweep_deleted_total", "counter", "Expired rows the sweeps on this "
      "host deleted.", deleted_samples },
    { "sweep_last_timestamp_seconds", "gauge", "When the last sweep on this "
      "host began (epoch seconds), labelled with the host.",
      sweep_time_samples },
    { "sweep_last_duration_seconds", "gauge", "How long the last sweep on "
      "this host took.", sweep_took_samples }
};

static void prom_described(text_t *t, const apr_array_header_t *snaps,
                           const prom_desc_t *descs, size_t n)
{
    size_t d;
    int i;

    for (d = 0; d < n; d++) {
        prom_family(t, descs[d].family, descs[d].type, descs[d].help);
        for (i = 0; i < snaps->nelts; i++) {
            descs[d].samples(t, descs[d].family, snap_at(snaps, i));
        }
    }
}

char *orm_metrics_prometheus(apr_pool_t *pool,
                             const apr_array_header_t *snaps)
{
    text_t t;
    int i;

    text_init(&t, pool);
    prom_described(&t, snaps, state_descs,
                   sizeof(state_descs) / sizeof(state_descs[0]));
    prom_counters(&t, snaps);
    for (i = 0; i < ORM_LATENCY_COUNT; i++) {
        prom_histogram(&t, snaps, i);
    }
    prom_described(&t, snaps, sweep_descs,
                   sizeof(sweep_descs) / sizeof(sweep_descs[0]));
    return text_join(&t);
}

/* ---- JSON ------------------------------------------------------------------ */

/* A JSON string: quotes, backslashes and control characters escaped, and
 * bytes outside ASCII as \u00XX, so the text is valid whatever the bytes. */
static const char *json_string(apr_pool_t *pool, const char *value)
{
    char *out = apr_palloc(pool, 6 * strlen(value) + 3), *o = out;
    const unsigned char *v;

    *o++ = '"';
    for (v = (const unsigned char *)value; *v; v++) {
        if (*v == '"' || *v == '\\') {
            *o++ = '\\';
            *o++ = (char)*v;
        }
        else if (*v < 0x20 || *v >= 0x7F) {
            o += apr_snprintf(o, 7, "\\u%04x", (unsigned)*v);
        }
        else {
            *o++ = (char)*v;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

/* A time in ms as epoch seconds, or null for never. */
static const char *json_time(apr_pool_t *pool, apr_uint64_t ms)
{
    return ms ? seconds_ms(pool, ms) : "null";
}

static void json_database(text_t *t, const orm_metrics_snapshot_t *s)
{
    put(t, "\"database\":{\"state\":\"%s\",\"failing_since\":%s,"
        "\"last_error\":", s->failing ? "failing" : "ok",
        json_time(t->pool, s->failing ? s->failing_since * 1000 : 0));
    if (s->error_id) {
        put(t, "{\"id\":\"ORM%04u\",\"time\":%" APR_UINT64_T_FMT "}}",
            s->error_id, s->error_at);
    }
    else {
        put(t, "null}");
    }
}

static void json_counters(text_t *t, const orm_metrics_snapshot_t *s)
{
    int c;

    put(t, "\"counters\":{");
    for (c = 0; c < ORM_METRIC_COUNT; c++) {
        put(t, "%s\"%s\":%" APR_UINT64_T_FMT, c ? "," : "",
            counter_descs[c].key, s->counters[c]);
    }
    put(t, "}");
}

static void json_latency(text_t *t, const orm_metrics_snapshot_t *s)
{
    int i, b;

    put(t, "\"latency\":{");
    for (i = 0; i < ORM_LATENCY_COUNT; i++) {
        const orm_histogram_t *h = &s->latency[i];
        apr_uint64_t cumulative = 0;

        put(t, "%s\"%s\":{\"buckets\":{", i ? "," : "", latency_descs[i].key);
        for (b = 0; b <= ORM_LATENCY_BOUNDS; b++) {
            cumulative += h->buckets[b];
            put(t, "%s\"%s\":%" APR_UINT64_T_FMT, b ? "," : "", bound_text[b],
                cumulative);
        }
        put(t, "},\"sum_seconds\":%s,\"count\":%" APR_UINT64_T_FMT "}",
            seconds_us(t->pool, h->sum_us), cumulative);
    }
    put(t, "}");
}

static void json_sweep(text_t *t, const orm_metrics_snapshot_t *s)
{
    const orm_sweep_record_t *w = &s->sweep;

    put(t, "\"sessions\":{\"live\":%s,\"expired\":%s,\"counted_at\":%s},",
        w->counted_ms ? apr_psprintf(t->pool, "%" APR_UINT64_T_FMT, w->live)
                      : "null",
        w->swept_ms ? apr_psprintf(t->pool, "%" APR_UINT64_T_FMT, w->deleted)
                    : "null", json_time(t->pool, w->counted_ms));
    put(t, "\"sweep\":{\"interval_seconds\":%" APR_INT64_T_FMT ",\"last\":",
        s->sweep_seconds);
    if (w->swept_ms) {
        put(t, "{\"time\":%s,\"duration_seconds\":%s,\"rows\":%"
            APR_UINT64_T_FMT ",\"host\":%s}", seconds_ms(t->pool, w->swept_ms),
            seconds_ms(t->pool, w->took_ms), w->deleted,
            json_string(t->pool, s->host));
    }
    else {
        put(t, "null");
    }
    put(t, ",\"deleted_total\":%" APR_UINT64_T_FMT ",\"failed_at\":%s,"
        "\"elsewhere_at\":%s}", w->deleted_total,
        json_time(t->pool, w->failed_ms), json_time(t->pool, w->elsewhere_ms));
}

char *orm_metrics_json(apr_pool_t *pool, const apr_array_header_t *snaps)
{
    text_t t;
    int i;

    text_init(&t, pool);
    put(&t, "{\"module\":\"mod_session_orm\",\"stores\":[");
    for (i = 0; i < snaps->nelts; i++) {
        const orm_metrics_snapshot_t *s = snap_at(snaps, i);

        put(&t, "%s{\"server\":%s,\"table\":%s,", i ? "," : "",
            json_string(pool, s->server), json_string(pool, s->table));
        json_database(&t, s);
        put(&t, ",");
        json_counters(&t, s);
        put(&t, ",");
        json_latency(&t, s);
        put(&t, ",");
        json_sweep(&t, s);
        put(&t, "}");
    }
    put(&t, "]}\n");
    return text_join(&t);
}

/* ---- HTML ------------------------------------------------------------------ */

static const char *html_escape(apr_pool_t *pool, const char *value)
{
    /* the longest replacement is 6 bytes */
    char *out = apr_palloc(pool, 6 * strlen(value) + 1), *o = out;

    for (; *value; value++) {
        const char *entity = NULL;

        switch (*value) {
        case '&':  entity = "&amp;";  break;
        case '<':  entity = "&lt;";   break;
        case '>':  entity = "&gt;";   break;
        case '"':  entity = "&quot;"; break;
        case '\'': entity = "&#39;";  break;
        default:   *o++ = *value;
        }
        if (entity) {
            o = apr_cpystrn(o, entity, 7);
        }
    }
    *o = '\0';
    return out;
}

static const char *html_date(apr_pool_t *pool, apr_uint64_t ms)
{
    char *date = apr_palloc(pool, APR_RFC822_DATE_LEN);

    apr_rfc822_date(date, (apr_time_t)ms * 1000);
    return date;
}

static void html_row(text_t *t, const char *name, const char *value)
{
    put(t, "<tr><th>%s</th><td>%s</td></tr>\n", name, value);
}

static void html_state(text_t *t, const orm_metrics_snapshot_t *s)
{
    apr_pool_t *p = t->pool;
    const orm_sweep_record_t *w = &s->sweep;

    html_row(t, "database", s->failing
             ? apr_pstrcat(p, "failing since ",
                           html_date(p, s->failing_since * 1000), NULL)
             : "ok");
    html_row(t, "last error", s->error_id
             ? apr_psprintf(p, "ORM%04u at %s", s->error_id,
                            html_date(p, s->error_at * 1000))
             : "none");
    html_row(t, "sessions live", w->counted_ms
             ? apr_psprintf(p, "%" APR_UINT64_T_FMT " (counted %s)", w->live,
                            html_date(p, w->counted_ms))
             : "not counted yet");
    html_row(t, "sessions expired", w->swept_ms
             ? apr_psprintf(p, "%" APR_UINT64_T_FMT " (deleted by the last "
                            "sweep)", w->deleted)
             : "not swept yet");
    if (s->sweep_seconds == 0) {
        html_row(t, "last sweep", "off (SessionORMSweepInterval 0)");
    }
    else {
        html_row(t, "last sweep", w->swept_ms
                 ? apr_psprintf(p, "%s on %s: %" APR_UINT64_T_FMT " rows in %"
                                APR_UINT64_T_FMT " ms", html_date(p, w->swept_ms),
                                html_escape(p, s->host), w->deleted, w->took_ms)
                 : "none yet on this host");
    }
    html_row(t, "rows deleted by sweeps", apr_psprintf(
             p, "%" APR_UINT64_T_FMT, w->deleted_total));
}

static void html_latency(text_t *t, const orm_metrics_snapshot_t *s)
{
    apr_uint64_t cumulative[ORM_LATENCY_COUNT] = { 0 };
    int i, b;

    put(t, "<table>\n<tr><th>latency up to (s)</th><th>loads</th>"
        "<th>saves</th></tr>\n");
    for (b = 0; b <= ORM_LATENCY_BOUNDS; b++) {
        put(t, "<tr><th>%s</th>", bound_text[b]);
        for (i = 0; i < ORM_LATENCY_COUNT; i++) {
            cumulative[i] += s->latency[i].buckets[b];
            put(t, "<td>%" APR_UINT64_T_FMT "</td>", cumulative[i]);
        }
        put(t, "</tr>\n");
    }
    put(t, "<tr><th>seconds in all</th>");
    for (i = 0; i < ORM_LATENCY_COUNT; i++) {
        put(t, "<td>%s</td>", seconds_us(t->pool, s->latency[i].sum_us));
    }
    put(t, "</tr>\n</table>\n");
}

static void html_store(text_t *t, const orm_metrics_snapshot_t *s)
{
    int c;

    put(t, "<h2>Session table %s of %s</h2>\n<table>\n",
        html_escape(t->pool, s->table), html_escape(t->pool, s->server));
    html_state(t, s);
    for (c = 0; c < ORM_METRIC_COUNT; c++) {
        html_row(t, counter_descs[c].text, apr_psprintf(
                 t->pool, "%" APR_UINT64_T_FMT, s->counters[c]));
    }
    put(t, "</table>\n");
    html_latency(t, s);
}

char *orm_metrics_html(apr_pool_t *pool, const apr_array_header_t *snaps,
                       int whole_page)
{
    text_t t;
    int i;

    text_init(&t, pool);
    if (whole_page) {
        put(&t, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            "<title>mod_session_orm status</title></head>\n<body>\n"
            "<h1>mod_session_orm status</h1>\n");
    }
    for (i = 0; i < snaps->nelts; i++) {
        html_store(&t, snap_at(snaps, i));
    }
    if (snaps->nelts == 0) {
        put(&t, "<p>No session store is configured.</p>\n");
    }
    if (whole_page) {
        put(&t, "</body></html>\n");
    }
    return text_join(&t);
}

/* ---- mod_status ?auto ------------------------------------------------------ */

/* A value on one line: control characters become '?'. */
static const char *one_line(apr_pool_t *pool, const char *value)
{
    char *out = apr_pstrdup(pool, value), *o;

    for (o = out; *o; o++) {
        if ((unsigned char)*o < 0x20) {
            *o = '?';
        }
    }
    return out;
}

static void auto_store(text_t *t, int n, const orm_metrics_snapshot_t *s)
{
    int c, i;

    put(t, "SessionORM%dServer: %s\nSessionORM%dTable: %s\n"
        "SessionORM%dDatabase: %s\n", n, one_line(t->pool, s->server), n,
        one_line(t->pool, s->table), n, s->failing ? "failing" : "ok");
    if (s->failing) {
        put(t, "SessionORM%dFailingSince: %" APR_UINT64_T_FMT "\n", n,
            s->failing_since);
    }
    if (s->error_id) {
        put(t, "SessionORM%dLastError: ORM%04u\n", n, s->error_id);
    }
    for (c = 0; c < ORM_METRIC_COUNT; c++) {
        put(t, "SessionORM%d%s: %" APR_UINT64_T_FMT "\n", n,
            counter_descs[c].auto_key, s->counters[c]);
    }
    for (i = 0; i < ORM_LATENCY_COUNT; i++) {
        put(t, "SessionORM%d%sCount: %" APR_UINT64_T_FMT "\n"
            "SessionORM%d%sSeconds: %s\n", n, latency_descs[i].auto_key,
            histogram_count(&s->latency[i]), n, latency_descs[i].auto_key,
            seconds_us(t->pool, s->latency[i].sum_us));
    }
    if (s->sweep.counted_ms) {
        put(t, "SessionORM%dSessionsLive: %" APR_UINT64_T_FMT "\n", n,
            s->sweep.live);
    }
    if (s->sweep.swept_ms) {
        put(t, "SessionORM%dSessionsExpired: %" APR_UINT64_T_FMT "\n"
            "SessionORM%dLastSweep: %s\n", n, s->sweep.deleted, n,
            seconds_ms(t->pool, s->sweep.swept_ms));
    }
}

char *orm_metrics_auto(apr_pool_t *pool, const apr_array_header_t *snaps)
{
    text_t t;
    int i;

    text_init(&t, pool);
    put(&t, "SessionORMStores: %d\n", snaps->nelts);
    for (i = 0; i < snaps->nelts; i++) {
        auto_store(&t, i + 1, snap_at(snaps, i));
    }
    return text_join(&t);
}
