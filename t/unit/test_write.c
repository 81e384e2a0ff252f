/* The write protocol (orm_write) over a fake store: rows kept in memory,
 * another request scripted to write or delete the row before each
 * conditional write (so that this one loses the race), and any call
 * scripted to fail. Each test checks the calls made, in order, how the
 * write ended and what is stored. */
#include <string.h>
#include <apr_strings.h>

#include "tests.h"
#include "orm_codec.h"
#include "orm_write.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

#define NOW APR_INT64_C(1700000000000)
#define LOADED_VERSION (NOW - 5000)     /* the version the request loaded */
#define OLD_ID "old-row"                /* the row the request loaded */
#define NEW_ID "new-row"                /* a new row, a rotation's */
#define TTL 60
#define GRACE 5

/* What another request does to the row before a conditional write: this
 * data, or RIVAL_DELETES. */
#define RIVAL_DELETES "(deleted)"
#define RIVAL_DATA "a=1&c=3"            /* adds c to what was loaded */
#define MAX_RIVALS 16
#define MAX_ROWS 4

/* ---- the fake store ----------------------------------------------------- */

typedef enum {
    OP_LOAD, OP_SAVE, OP_INSERT, OP_UPDATE_IF, OP_MERGE, OP_REMOVE, OP_COUNT
} fake_op_e;

static const char *const op_names[OP_COUNT] = {
    "load", "save", "insert", "update_if", "merge", "remove"
};

typedef struct {
    struct {
        const char *id;                 /* NULL: a free slot */
        orm_row_t row;
    } rows[MAX_ROWS];
    const char *rivals[MAX_RIVALS];     /* before the n-th update_if */
    int nrivals;
    fake_op_e fail_op;                  /* its fail_nth call fails */
    int fail_nth;                       /* 0: none fails */
    int calls[OP_COUNT];
    const char *trace;                  /* the calls, in order */
} fake_t;

static orm_row_t *fake_row(fake_t *f, const char *id)
{
    size_t i;

    for (i = 0; i < MAX_ROWS; i++) {
        if (f->rows[i].id && !strcmp(f->rows[i].id, id)) {
            return &f->rows[i].row;
        }
    }
    return NULL;
}

static void fake_put(fake_t *f, const char *id, const orm_row_t *row)
{
    orm_row_t *slot = fake_row(f, id);
    size_t i;

    for (i = 0; slot == NULL && i < MAX_ROWS; i++) {
        if (f->rows[i].id == NULL) {
            f->rows[i].id = id;
            slot = &f->rows[i].row;
        }
    }
    ck_assert_ptr_nonnull(slot);
    *slot = *row;
}

static void fake_delete(fake_t *f, const char *id)
{
    size_t i;

    for (i = 0; i < MAX_ROWS; i++) {
        if (f->rows[i].id && !strcmp(f->rows[i].id, id)) {
            f->rows[i].id = NULL;
        }
    }
}

/* Records a call of op; true when it is the one scripted to fail. */
static int fake_call(fake_t *f, fake_op_e op)
{
    f->calls[op]++;
    f->trace = f->trace ? apr_pstrcat(test_pool, f->trace, " ",
                                      op_names[op], NULL)
                        : op_names[op];
    return f->fail_nth && op == f->fail_op && f->calls[op] == f->fail_nth;
}

/* Adds n steps of another request: each writes what (a newer version) or
 * deletes the row, before the next conditional write. */
static void add_rivals(fake_t *f, int n, const char *what)
{
    while (n-- > 0) {
        ck_assert_int_lt(f->nrivals, MAX_RIVALS);
        f->rivals[f->nrivals++] = what;
    }
}

static void rival_step(fake_t *f, const char *id)
{
    int step = f->calls[OP_UPDATE_IF] - 1;
    orm_row_t *row = fake_row(f, id);

    if (step >= f->nrivals || row == NULL) {
        return;
    }
    if (!strcmp(f->rivals[step], RIVAL_DELETES)) {
        fake_delete(f, id);
        return;
    }
    row->data = f->rivals[step];
    row->updated_at_ms++;
}

static apr_status_t fake_load(orm_conn_t *conn, const char *id,
                              apr_int64_t now_ms, orm_row_t **row)
{
    fake_t *f = conn->impl;
    orm_row_t *stored = fake_row(f, id);

    if (fake_call(f, OP_LOAD)) {
        return APR_EGENERAL;
    }
    if (stored && stored->expires_at_ms > now_ms) {
        *row = apr_pmemdup(test_pool, stored, sizeof(*stored));
    }
    return APR_SUCCESS;
}

static apr_status_t fake_save(orm_conn_t *conn, const char *id,
                              const orm_row_t *row, apr_int64_t created)
{
    fake_t *f = conn->impl;
    (void)created;

    if (fake_call(f, OP_SAVE)) {
        return APR_EGENERAL;
    }
    fake_put(f, id, row);
    return APR_SUCCESS;
}

/* An insert fails on a row that is there, as a primary key does. */
static apr_status_t fake_insert(orm_conn_t *conn, const char *id,
                                const orm_row_t *row, apr_int64_t created)
{
    fake_t *f = conn->impl;
    (void)created;

    if (fake_call(f, OP_INSERT) || fake_row(f, id)) {
        return APR_EGENERAL;
    }
    fake_put(f, id, row);
    return APR_SUCCESS;
}

static apr_status_t fake_update_if(orm_conn_t *conn, const char *id,
                                   const orm_row_t *row, apr_int64_t version,
                                   int *matched)
{
    fake_t *f = conn->impl;
    orm_row_t *stored;

    if (fake_call(f, OP_UPDATE_IF)) {
        return APR_EGENERAL;
    }
    rival_step(f, id);
    stored = fake_row(f, id);
    *matched = stored && stored->updated_at_ms == version;
    if (*matched) {
        *stored = *row;
    }
    return APR_SUCCESS;
}

/* As orm_store_merge's contract says (and mod_dbd's store does). */
static apr_status_t fake_merge(orm_conn_t *conn, const char *id,
                               orm_row_t *row, apr_int64_t now_ms,
                               orm_store_merge_fn *merge, void *baton,
                               int *found)
{
    fake_t *f = conn->impl;
    orm_row_t *stored = fake_row(f, id);

    if (fake_call(f, OP_MERGE)) {
        return APR_EGENERAL;
    }
    if (stored == NULL || stored->expires_at_ms <= now_ms) {
        return APR_SUCCESS;
    }
    if ((row->data = merge(baton, test_pool, stored->data)) == NULL) {
        *found = -1;
        return APR_SUCCESS;
    }
    *found = 1;
    if (row->updated_at_ms <= stored->updated_at_ms) {
        row->updated_at_ms = stored->updated_at_ms + 1;
    }
    *stored = *row;
    return APR_SUCCESS;
}

static apr_status_t fake_remove(orm_conn_t *conn, const char *id)
{
    fake_t *f = conn->impl;

    if (fake_call(f, OP_REMOVE)) {
        return APR_EGENERAL;
    }
    fake_delete(f, id);
    return APR_SUCCESS;
}

static const orm_store_ops_t fake_ops = {
    .load = fake_load,
    .save = fake_save,
    .insert = fake_insert,
    .update_if = fake_update_if,
    .merge = fake_merge,
    .remove = fake_remove
};

/* ---- a request's write -------------------------------------------------- */

typedef struct {
    fake_t fake;
    orm_conn_t conn;
    orm_row_t loaded;           /* the row as the request loaded it */
    orm_save_facts_t facts;
    orm_write_t write;
    orm_write_result_t result;
} scene_t;

/* A request that loaded OLD_ID holding loaded and now holds ours (plain),
 * owned by alice, and saves it by action. */
static void scene_init(scene_t *s, orm_save_e action, const char *loaded,
                       const char *ours)
{
    memset(s, 0, sizeof(*s));
    s->conn.ops = &fake_ops;
    s->conn.impl = &s->fake;
    s->loaded.data = loaded;
    s->loaded.expires_at_ms = NOW + 600 * 1000;
    s->loaded.updated_at_ms = LOADED_VERSION;
    fake_put(&s->fake, OLD_ID, &s->loaded);
    s->facts.mode = ORM_KEY_COOKIE;
    s->facts.stored_id = OLD_ID;
    s->facts.stored = &s->loaded;
    s->facts.entries = orm_codec_decode(test_pool, ours);
    s->facts.data = ours;
    s->facts.owner = "alice";
    s->facts.now_ms = NOW;
    s->write.facts = &s->facts;
    s->write.action = action;
    s->write.id = action == ORM_SAVE_UPDATE ? OLD_ID : NEW_ID;
    s->write.ttl_seconds = TTL;
    s->write.grace_seconds = GRACE;
    s->write.merge_attempts = ORM_MERGE_ATTEMPTS;
}

static apr_status_t scene_run(scene_t *s)
{
    return orm_write_session(&s->conn, test_pool, &s->write, &s->result);
}

static void assert_ended_as(const scene_t *s, orm_write_outcome_e outcome,
                            orm_write_event_e event, const char *trace)
{
    ck_assert_int_eq(s->result.outcome, outcome);
    ck_assert_int_eq(s->result.event, event);
    ck_assert_str_eq(s->fake.trace ? s->fake.trace : "", trace);
}

/* data decodes to exactly the entries of expected */
static void assert_entries(const char *data, const char *expected)
{
    ck_assert_ptr_nonnull(data);
    ck_assert_msg(orm_codec_is_plain(test_pool, data,
                                     orm_codec_decode(test_pool, expected)),
                  "%s is not %s", data, expected);
}

/* "update_if" followed by n times " load update_if" */
static const char *lost_races_trace(int n)
{
    const char *trace = "update_if";

    while (n-- > 0) {
        trace = apr_pstrcat(test_pool, trace, " load update_if", NULL);
    }
    return trace;
}

/* ---- new rows and updates ----------------------------------------------- */

START_TEST(test_new_row)
{
    scene_t s;
    const orm_row_t *saved;

    scene_init(&s, ORM_SAVE_NEW, "a=1", "a=1&b=2");
    ck_assert_int_eq(scene_run(&s), APR_SUCCESS);
    /* by cookie the id is a new token's: a plain insert */
    assert_ended_as(&s, ORM_WRITE_SAVED, ORM_WRITE_WRITTEN, "insert");
    ck_assert_ptr_nonnull(saved = fake_row(&s.fake, NEW_ID));
    ck_assert_str_eq(saved->data, "a=1&b=2");
    ck_assert_str_eq(saved->user_name, "alice");
    ck_assert(saved->expires_at_ms == NOW + TTL * 1000);
    ck_assert(saved->updated_at_ms == NOW);
    ck_assert_ptr_eq(s.result.row->data, saved->data);

    /* per user the id is the user's, whose row may be there: replaced */
    scene_init(&s, ORM_SAVE_NEW, "a=1", "a=1&b=2");
    s.facts.mode = ORM_KEY_USER;
    s.write.id = OLD_ID;
    ck_assert_int_eq(scene_run(&s), APR_SUCCESS);
    assert_ended_as(&s, ORM_WRITE_SAVED, ORM_WRITE_WRITTEN, "save");
    ck_assert_str_eq(fake_row(&s.fake, OLD_ID)->data, "a=1&b=2");
}
END_TEST

START_TEST(test_update_without_conflict)
{
    static const struct {
        apr_int64_t loaded_version, written_version;
    } cases[] = {
        { LOADED_VERSION, NOW },
        /* loaded from a row written "later" (another host's clock): the
         * version still grows */
        { NOW + 7, NOW + 8 },
        { NOW, NOW + 1 },
    };
    size_t i;

    for (i = 0; i < N_OF(cases); i++) {
        scene_t s;
        const orm_row_t *stored;

        scene_init(&s, ORM_SAVE_UPDATE, "a=1", "a=1&b=2");
        s.loaded.updated_at_ms = cases[i].loaded_version;
        fake_put(&s.fake, OLD_ID, &s.loaded);
        ck_assert_int_eq(scene_run(&s), APR_SUCCESS);
        assert_ended_as(&s, ORM_WRITE_SAVED, ORM_WRITE_WRITTEN, "update_if");
        ck_assert_int_eq(s.result.races_lost, 0);
        stored = fake_row(&s.fake, OLD_ID);
        ck_assert_str_eq(stored->data, "a=1&b=2");
        ck_assert_msg(stored->updated_at_ms == cases[i].written_version,
                      "case %u", (unsigned)i);
        ck_assert(s.result.row->updated_at_ms == stored->updated_at_ms);
    }
}
END_TEST

START_TEST(test_lost_race_merged_without_lock)
{
    scene_t s;
    const orm_row_t *stored;

    scene_init(&s, ORM_SAVE_UPDATE, "a=1", "a=1&b=2");
    add_rivals(&s.fake, 1, RIVAL_DATA);
    ck_assert_int_eq(scene_run(&s), APR_SUCCESS);
    assert_ended_as(&s, ORM_WRITE_SAVED, ORM_WRITE_MERGED,
                    lost_races_trace(1));
    ck_assert_int_eq(s.result.locked, 0);
    ck_assert_int_eq(s.result.races_lost, 1);
    ck_assert_ptr_nonnull(s.result.merge.diff);     /* keys, not all */
    stored = fake_row(&s.fake, OLD_ID);
    assert_entries(stored->data, "a=1&b=2&c=3");
    ck_assert(stored->updated_at_ms == NOW);        /* over the rival's */
    ck_assert_str_eq(s.result.row->data, stored->data);
}
END_TEST

/* Every attempt without a lock lost: the merge under the row lock. With
 * merge_attempts 0 (ORM_MERGE_ATTEMPTS=0) the first lost race takes it. */
START_TEST(test_attempts_exhausted_then_locked)
{
    static const int attempts[] = { ORM_MERGE_ATTEMPTS, 1, 0 };
    size_t i;

    for (i = 0; i < N_OF(attempts); i++) {
        scene_t s;
        const orm_row_t *stored;

        scene_init(&s, ORM_SAVE_UPDATE, "a=1", "a=1&b=2");
        s.write.merge_attempts = attempts[i];
        add_rivals(&s.fake, 1 + attempts[i], RIVAL_DATA);
        ck_assert_int_eq(scene_run(&s), APR_SUCCESS);
        assert_ended_as(&s, ORM_WRITE_SAVED, ORM_WRITE_MERGED,
                        apr_pstrcat(test_pool, lost_races_trace(attempts[i]),
                                    " merge", NULL));
        ck_assert_int_eq(s.result.locked, 1);
        ck_assert_int_eq(s.result.races_lost, 1 + attempts[i]);
        stored = fake_row(&s.fake, OLD_ID);
        assert_entries(stored->data, "a=1&b=2&c=3");
        ck_assert(stored->updated_at_ms == NOW);
    }
}
END_TEST

/* Encrypted (not plain) data: the whole of it replaces what is stored. */
START_TEST(test_lost_race_opaque_data)
{
    scene_t s;

    scene_init(&s, ORM_SAVE_UPDATE, "U2FsdGVkX19hYmM=", "U2FsdGVkX19kZWY=");
    s.facts.entries = orm_codec_decode(test_pool, "a=1");
    add_rivals(&s.fake, 1, "U2FsdGVkX19naGk=");
    ck_assert_int_eq(scene_run(&s), APR_SUCCESS);
    assert_ended_as(&s, ORM_WRITE_SAVED, ORM_WRITE_MERGED,
                    lost_races_trace(1));
    ck_assert_ptr_null(s.result.merge.diff);
    ck_assert_str_eq(fake_row(&s.fake, OLD_ID)->data, "U2FsdGVkX19kZWY=");
}
END_TEST

/* A lost race where this request changed nothing but mod_session's expiry:
 * the other writer moved it already, and its row stands. */
START_TEST(test_lost_race_changed_nothing)
{
    scene_t s;

    scene_init(&s, ORM_SAVE_UPDATE, "a=1&expiry=5", "a=1&expiry=9");
    add_rivals(&s.fake, 1, RIVAL_DATA);
    ck_assert_int_eq(scene_run(&s), APR_SUCCESS);
    assert_ended_as(&s, ORM_WRITE_SAVED, ORM_WRITE_CHANGED_NOTHING,
                    "update_if");
    ck_assert_int_eq(s.result.races_lost, 1);
    ck_assert_str_eq(fake_row(&s.fake, OLD_ID)->data, RIVAL_DATA);
}
END_TEST

/* After a lost race, with and without the lock: the row went away (not
 * brought back), was rotated away by another request, or the merge is
 * over the size limit (the merge says: leave the row). */
START_TEST(test_lost_race_nothing_written)
{
    static const struct {
        const char *rival;
        int attempts;
        apr_int64_t max_size;
        orm_write_outcome_e outcome;
        orm_write_event_e event;
        const char *trace;
    } cases[] = {
        { RIVAL_DELETES, 3, 0, ORM_WRITE_ENDED, ORM_WRITE_ROW_ENDED,
          "update_if load" },
        { RIVAL_DELETES, 0, 0, ORM_WRITE_ENDED, ORM_WRITE_ROW_ENDED,
          "update_if merge" },
        { ORM_ROTATED_MARKER, 3, 0, ORM_WRITE_GAVE_WAY, ORM_WRITE_MOVED,
          "update_if load" },
        { ORM_ROTATED_MARKER, 0, 0, ORM_WRITE_GAVE_WAY, ORM_WRITE_MOVED,
          "update_if merge" },
        { RIVAL_DATA, 3, 8, ORM_WRITE_GAVE_WAY, ORM_WRITE_TOO_BIG,
          "update_if load" },
        { RIVAL_DATA, 0, 8, ORM_WRITE_GAVE_WAY, ORM_WRITE_TOO_BIG,
          "update_if merge" },
    };
    size_t i;

    for (i = 0; i < N_OF(cases); i++) {
        scene_t s;
        const orm_row_t *stored;

        scene_init(&s, ORM_SAVE_UPDATE, "a=1", "a=1&b=2");
        s.write.merge_attempts = cases[i].attempts;
        s.facts.max_size = cases[i].max_size;
        add_rivals(&s.fake, 1, cases[i].rival);
        ck_assert_int_eq(scene_run(&s), APR_SUCCESS);
        assert_ended_as(&s, cases[i].outcome, cases[i].event,
                        cases[i].trace);
        stored = fake_row(&s.fake, OLD_ID);
        if (cases[i].outcome == ORM_WRITE_ENDED) {
            ck_assert_ptr_null(stored);
        }
        else {
            ck_assert_str_eq(stored->data, cases[i].rival);
        }
        if (cases[i].event == ORM_WRITE_TOO_BIG) {
            assert_entries(s.result.merge.refused_data, "a=1&b=2&c=3");
            ck_assert(s.result.merge.max_size == 8);
        }
    }
}
END_TEST

/* The row went away after one lost race merged without a lock. */
START_TEST(test_row_gone_after_merge)
{
    scene_t s;

    scene_init(&s, ORM_SAVE_UPDATE, "a=1", "a=1&b=2");
    add_rivals(&s.fake, 1, RIVAL_DATA);
    add_rivals(&s.fake, 1, RIVAL_DELETES);
    ck_assert_int_eq(scene_run(&s), APR_SUCCESS);
    assert_ended_as(&s, ORM_WRITE_ENDED, ORM_WRITE_ROW_ENDED,
                    "update_if load update_if load");
    ck_assert_ptr_null(fake_row(&s.fake, OLD_ID));
    ck_assert_ptr_null(s.result.row->data);
}
END_TEST

/* ---- rotation ----------------------------------------------------------- */

/* The old row becomes the marker for the grace window (deleted without
 * one), the session moves to the new row. */
START_TEST(test_rotation)
{
    static const struct {
        apr_int64_t grace;
        const char *trace;
    } cases[] = {
        { GRACE, "update_if insert" },
        { 0, "update_if remove insert" },
    };
    size_t i;

    for (i = 0; i < N_OF(cases); i++) {
        scene_t s;
        const orm_row_t *marker, *saved;

        scene_init(&s, ORM_SAVE_ROTATE, "a=1", "a=1&b=2");
        s.write.grace_seconds = cases[i].grace;
        ck_assert_int_eq(scene_run(&s), APR_SUCCESS);
        assert_ended_as(&s, ORM_WRITE_SAVED, ORM_WRITE_ROTATED,
                        cases[i].trace);
        marker = fake_row(&s.fake, OLD_ID);
        if (cases[i].grace) {
            ck_assert_ptr_nonnull(marker);
            ck_assert_str_eq(marker->data, ORM_ROTATED_MARKER);
            ck_assert_ptr_null(marker->user_name);
            ck_assert(marker->expires_at_ms == NOW + GRACE * 1000);
            ck_assert(marker->updated_at_ms == NOW);
        }
        else {
            ck_assert_ptr_null(marker);
        }
        ck_assert_ptr_nonnull(saved = fake_row(&s.fake, NEW_ID));
        ck_assert_str_eq(saved->data, "a=1&b=2");
        ck_assert_str_eq(saved->user_name, "alice");
        ck_assert(saved->expires_at_ms == NOW + TTL * 1000);
    }
}
END_TEST

/* Lost races for the old row: this request's changes are merged into what
 * the other one stored, and the marker tried again, ORM_ROTATE_ATTEMPTS
 * times in all; then it gives way. */
START_TEST(test_rotation_lost_races)
{
    int lost;

    for (lost = 1; lost <= ORM_ROTATE_ATTEMPTS; lost++) {
        int won = lost < ORM_ROTATE_ATTEMPTS;
        scene_t s;
        const orm_row_t *old;

        scene_init(&s, ORM_SAVE_ROTATE, "a=1", "a=1&b=2");
        add_rivals(&s.fake, lost, RIVAL_DATA);
        ck_assert_int_eq(scene_run(&s), APR_SUCCESS);
        assert_ended_as(&s, won ? ORM_WRITE_SAVED : ORM_WRITE_GAVE_WAY,
                        won ? ORM_WRITE_ROTATED : ORM_WRITE_LOST_RACES,
                        apr_pstrcat(test_pool,
                                    lost_races_trace(won ? lost : lost - 1),
                                    won ? " insert" : "", NULL));
        ck_assert_int_eq(s.result.races_lost, lost);
        old = fake_row(&s.fake, OLD_ID);
        ck_assert_str_eq(old->data, won ? ORM_ROTATED_MARKER : RIVAL_DATA);
        if (won) {
            assert_entries(fake_row(&s.fake, NEW_ID)->data, "a=1&b=2&c=3");
            ck_assert(old->updated_at_ms > LOADED_VERSION + lost);
        }
        else {
            ck_assert_ptr_null(fake_row(&s.fake, NEW_ID));
        }
    }
}
END_TEST

/* Another request rotated or ended the old row first: this one gives way,
 * or ends. */
START_TEST(test_rotation_row_taken)
{
    static const struct {
        const char *rival;
        orm_write_outcome_e outcome;
        orm_write_event_e event;
    } cases[] = {
        { ORM_ROTATED_MARKER, ORM_WRITE_GAVE_WAY, ORM_WRITE_MOVED },
        { RIVAL_DELETES, ORM_WRITE_ENDED, ORM_WRITE_ROW_ENDED },
    };
    size_t i;

    for (i = 0; i < N_OF(cases); i++) {
        scene_t s;

        scene_init(&s, ORM_SAVE_ROTATE, "a=1", "a=1&b=2");
        add_rivals(&s.fake, 1, cases[i].rival);
        ck_assert_int_eq(scene_run(&s), APR_SUCCESS);
        assert_ended_as(&s, cases[i].outcome, cases[i].event,
                        "update_if load");
        ck_assert_ptr_null(fake_row(&s.fake, NEW_ID));
    }
}
END_TEST

/* ---- failures of the store ---------------------------------------------- */

/* A failing call ends the write with its status; nothing after it is
 * tried. A rotation whose marker was written says so. */
START_TEST(test_store_failure_at_each_step)
{
    static const struct {
        orm_save_e action;
        int rivals, attempts;
        apr_int64_t grace;
        fake_op_e op;
        const char *trace;
        orm_write_event_e event;
    } cases[] = {
        { ORM_SAVE_NEW, 0, 3, GRACE, OP_INSERT, "insert",
          ORM_WRITE_WRITTEN },
        { ORM_SAVE_UPDATE, 0, 3, GRACE, OP_UPDATE_IF, "update_if",
          ORM_WRITE_WRITTEN },
        { ORM_SAVE_UPDATE, 1, 3, GRACE, OP_LOAD, "update_if load",
          ORM_WRITE_WRITTEN },
        { ORM_SAVE_UPDATE, 1, 0, GRACE, OP_MERGE, "update_if merge",
          ORM_WRITE_WRITTEN },
        { ORM_SAVE_ROTATE, 0, 3, GRACE, OP_UPDATE_IF, "update_if",
          ORM_WRITE_WRITTEN },
        { ORM_SAVE_ROTATE, 1, 3, GRACE, OP_LOAD, "update_if load",
          ORM_WRITE_WRITTEN },
        { ORM_SAVE_ROTATE, 0, 3, 0, OP_REMOVE, "update_if remove",
          ORM_WRITE_ROTATED },
        { ORM_SAVE_ROTATE, 0, 3, GRACE, OP_INSERT, "update_if insert",
          ORM_WRITE_ROTATED },
    };
    size_t i;

    for (i = 0; i < N_OF(cases); i++) {
        scene_t s;

        scene_init(&s, cases[i].action, "a=1", "a=1&b=2");
        s.write.merge_attempts = cases[i].attempts;
        s.write.grace_seconds = cases[i].grace;
        add_rivals(&s.fake, cases[i].rivals, RIVAL_DATA);
        s.fake.fail_op = cases[i].op;
        s.fake.fail_nth = 1;
        ck_assert_msg(scene_run(&s) == APR_EGENERAL, "case %u",
                      (unsigned)i);
        ck_assert_str_eq(s.fake.trace, cases[i].trace);
        ck_assert_int_eq(s.result.event, cases[i].event);
        ck_assert_ptr_null(fake_row(&s.fake, NEW_ID));
    }
}
END_TEST

/* The conditional write after a merged lost race fails. */
START_TEST(test_store_failure_after_merge)
{
    scene_t s;

    scene_init(&s, ORM_SAVE_UPDATE, "a=1", "a=1&b=2");
    add_rivals(&s.fake, 1, RIVAL_DATA);
    s.fake.fail_op = OP_UPDATE_IF;
    s.fake.fail_nth = 2;
    ck_assert_int_eq(scene_run(&s), APR_EGENERAL);
    ck_assert_str_eq(s.fake.trace, lost_races_trace(1));
    ck_assert_int_eq(s.result.event, ORM_WRITE_WRITTEN);
    ck_assert_str_eq(fake_row(&s.fake, OLD_ID)->data, RIVAL_DATA);
}
END_TEST

/* ---- turns: writes of one session on this host ------------------------- */

/* The scene's write takes turns, and the turn of OLD_ID keeps what another
 * request of this host wrote (kept_data at kept_version; NULL: nothing). */
static void scene_queue(scene_t *s, const char *kept_data,
                        apr_int64_t kept_version)
{
    orm_write_queue_t *queue = NULL;

    ck_assert_int_eq(orm_write_queue_create(test_pool, &queue), APR_SUCCESS);
    s->write.queue = queue;
    s->write.store = &s->fake;
    s->write.turn_wait = apr_time_from_sec(1);
    test_turn_keep(queue, &s->fake, OLD_ID, kept_data, kept_version);
}

/* What the next turn of OLD_ID finds kept. */
static const char *turn_kept(const scene_t *s, apr_int64_t *version)
{
    return test_turn_kept(s->write.queue, &s->fake, OLD_ID, version);
}

/* Another request of this host wrote the session in its turn after this
 * one loaded it: this one merges onto the data the turn kept and writes
 * over its version at once, without reading the row again; the turn then
 * keeps what this one wrote. */
START_TEST(test_merged_onto_the_write_before_in_turn)
{
    scene_t s;
    orm_row_t rival;
    const orm_row_t *stored;
    apr_int64_t version = 0;

    scene_init(&s, ORM_SAVE_UPDATE, "a=1", "a=1&b=2");
    rival = s.loaded;
    rival.data = RIVAL_DATA;
    rival.updated_at_ms = LOADED_VERSION + 1;
    fake_put(&s.fake, OLD_ID, &rival);
    scene_queue(&s, RIVAL_DATA, LOADED_VERSION + 1);
    ck_assert_int_eq(scene_run(&s), APR_SUCCESS);
    assert_ended_as(&s, ORM_WRITE_SAVED, ORM_WRITE_MERGED, "update_if");
    ck_assert_int_eq(s.result.in_turn, 1);
    ck_assert_int_eq(s.result.locked, 0);
    ck_assert_int_eq(s.result.races_lost, 1);
    stored = fake_row(&s.fake, OLD_ID);
    assert_entries(stored->data, "a=1&b=2&c=3");
    ck_assert_str_eq(turn_kept(&s, &version), stored->data);
    ck_assert(version == stored->updated_at_ms);
}
END_TEST

/* What the turn kept is a hint: another host wrote after it, so the write
 * over its version loses the race and the row is read again (the merge
 * onto the hint was one of the merge_attempts); a hint no newer than what
 * the request loaded is not used; with merge_attempts 0 (every lost race
 * under the row lock) no hint is. */
START_TEST(test_turn_hint_stale_or_unused)
{
    static const struct {
        int attempts;
        apr_int64_t kept_version;
        int moved;                  /* another host wrote after the hint:
                                     * RIVAL_DATA, a version later */
        const char *trace;
        orm_write_event_e event;
        const char *entries;
    } cases[] = {
        { ORM_MERGE_ATTEMPTS, LOADED_VERSION + 1, 1,
          "update_if load update_if", ORM_WRITE_MERGED, "a=1&b=2&c=3" },
        { 1, LOADED_VERSION + 1, 1, "update_if merge", ORM_WRITE_MERGED,
          "a=1&b=2&c=3" },
        { ORM_MERGE_ATTEMPTS, LOADED_VERSION, 0, "update_if",
          ORM_WRITE_WRITTEN, "a=1&b=2" },
        { 0, LOADED_VERSION + 1, 1, "update_if merge", ORM_WRITE_MERGED,
          "a=1&b=2&c=3" },
    };
    size_t i;

    for (i = 0; i < N_OF(cases); i++) {
        scene_t s;
        apr_int64_t version = 0;

        scene_init(&s, ORM_SAVE_UPDATE, "a=1", "a=1&b=2");
        s.write.merge_attempts = cases[i].attempts;
        scene_queue(&s, "a=1&x=stale", cases[i].kept_version);
        if (cases[i].moved) {
            orm_row_t moved = s.loaded;

            moved.data = RIVAL_DATA;
            moved.updated_at_ms = cases[i].kept_version + 1;
            fake_put(&s.fake, OLD_ID, &moved);
        }
        ck_assert_int_eq(scene_run(&s), APR_SUCCESS);
        ck_assert_msg(!strcmp(s.fake.trace, cases[i].trace),
                      "case %u: %s", (unsigned)i, s.fake.trace);
        ck_assert_int_eq(s.result.event, cases[i].event);
        ck_assert_int_eq(s.result.in_turn, 0);
        assert_entries(fake_row(&s.fake, OLD_ID)->data, cases[i].entries);
        /* the turn keeps what was written */
        ck_assert_str_eq(turn_kept(&s, &version),
                         fake_row(&s.fake, OLD_ID)->data);
    }
}
END_TEST

/* A write that did not go through leaves the turn keeping nothing: what
 * is stored is not known. */
START_TEST(test_turn_forgets_what_did_not_go_through)
{
    scene_t s;
    apr_int64_t version = 0;

    scene_init(&s, ORM_SAVE_UPDATE, "a=1", "a=1&b=2");
    scene_queue(&s, "a=1", LOADED_VERSION);
    add_rivals(&s.fake, 1, RIVAL_DELETES);
    ck_assert_int_eq(scene_run(&s), APR_SUCCESS);
    assert_ended_as(&s, ORM_WRITE_ENDED, ORM_WRITE_ROW_ENDED,
                    "update_if load");
    ck_assert_ptr_null(turn_kept(&s, &version));

    scene_init(&s, ORM_SAVE_UPDATE, "a=1", "a=1&b=2");
    scene_queue(&s, "a=1", LOADED_VERSION);
    s.fake.fail_op = OP_UPDATE_IF;
    s.fake.fail_nth = 1;
    ck_assert_int_eq(scene_run(&s), APR_EGENERAL);
    ck_assert_ptr_null(turn_kept(&s, &version));
}
END_TEST

/* Another request of this host left its changes for the turn (it found
 * the turn taken), with the expiry this write stores and the owner given. */
static orm_write_left_t scene_left(scene_t *s, const char *set,
                                   const char *removed, const char *owner,
                                   apr_int64_t max_size)
{
    orm_write_changes_t changes;
    orm_write_left_t left;

    changes.set = set;
    changes.removed = removed;
    changes.owner = owner;
    changes.expires_at_ms = NOW + TTL * 1000;
    changes.max_size = max_size;
    ck_assert(orm_write_leave(s->write.queue, &s->fake, OLD_ID, &changes,
                              &left));
    return left;
}

/* The write that has the turn writes the changes left for it with its
 * own, in its one statement: theirs after its own, as if they had come
 * after it in turn; a change the other request's size limit refuses, one
 * of another owner, and all of them when the statement finds the row
 * moved on, stay the other requests' own to write. */
START_TEST(test_changes_left_for_the_turn)
{
    static const struct {
        const char *set, *removed, *owner;
        apr_int64_t max_size;
        int rival;                  /* another host writes first */
        orm_left_e left;
        const char *entries;        /* stored after */
    } cases[] = {
        { "c=3", "a=1", "alice", 0, 0, ORM_LEFT_WRITTEN, "b=2&c=3" },
        { "b=5&d=4", "", "alice", 0, 0, ORM_LEFT_WRITTEN, "a=1&b=5&d=4" },
        { "c=333333", "", "alice", 10, 0, ORM_LEFT_NOT_WRITTEN, "a=1&b=2" },
        { "c=3", "", "bob", 0, 0, ORM_LEFT_NOT_WRITTEN, "a=1&b=2" },
        { "d=4", "", "alice", 0, 1, ORM_LEFT_NOT_WRITTEN, "a=1&b=2&c=3" },
    };
    size_t i;

    for (i = 0; i < N_OF(cases); i++) {
        scene_t s;
        orm_write_left_t left;
        const orm_row_t *stored;
        apr_int64_t version = 0;

        scene_init(&s, ORM_SAVE_UPDATE, "a=1", "a=1&b=2");
        scene_queue(&s, NULL, 0);
        left = scene_left(&s, cases[i].set, cases[i].removed,
                          cases[i].owner, cases[i].max_size);
        add_rivals(&s.fake, cases[i].rival, RIVAL_DATA);
        ck_assert_int_eq(scene_run(&s), APR_SUCCESS);
        stored = fake_row(&s.fake, OLD_ID);
        assert_entries(stored->data, cases[i].entries);
        ck_assert_msg(orm_write_left_collect(&left, &version)
                      == cases[i].left, "case %u", (unsigned)i);
        if (cases[i].left == ORM_LEFT_WRITTEN) {
            assert_ended_as(&s, ORM_WRITE_SAVED, ORM_WRITE_WRITTEN,
                            "update_if");
            ck_assert(version == stored->updated_at_ms);
        }
        /* the turn keeps what the row holds */
        ck_assert_str_eq(turn_kept(&s, &version), stored->data);
    }
}
END_TEST

START_TEST(test_not_a_write)
{
    scene_t s;

    scene_init(&s, ORM_SAVE_REMOVE, "a=1", "");
    ck_assert_int_eq(scene_run(&s), APR_EINVAL);
    ck_assert_ptr_null(s.fake.trace);
}
END_TEST

TCase *tcase_write(void)
{
    TCase *tc = tcase_create("write");

    tcase_add_test(tc, test_new_row);
    tcase_add_test(tc, test_update_without_conflict);
    tcase_add_test(tc, test_lost_race_merged_without_lock);
    tcase_add_test(tc, test_attempts_exhausted_then_locked);
    tcase_add_test(tc, test_lost_race_opaque_data);
    tcase_add_test(tc, test_lost_race_changed_nothing);
    tcase_add_test(tc, test_lost_race_nothing_written);
    tcase_add_test(tc, test_row_gone_after_merge);
    tcase_add_test(tc, test_rotation);
    tcase_add_test(tc, test_rotation_lost_races);
    tcase_add_test(tc, test_rotation_row_taken);
    tcase_add_test(tc, test_store_failure_at_each_step);
    tcase_add_test(tc, test_store_failure_after_merge);
    tcase_add_test(tc, test_merged_onto_the_write_before_in_turn);
    tcase_add_test(tc, test_turn_hint_stale_or_unused);
    tcase_add_test(tc, test_turn_forgets_what_did_not_go_through);
    tcase_add_test(tc, test_changes_left_for_the_turn);
    tcase_add_test(tc, test_not_a_write);
    return tc;
}
