/* The session policy: what a load concludes, what a save does, the merge
 * of a conflicting write, and the rules they are made of. */
#include <string.h>
#include <apr_strings.h>

#include "tests.h"
#include "orm_codec.h"
#include "orm_policy.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* A row written at T0 that lives for ttl seconds. */
#define T0 APR_INT64_C(1700000000000)
#define EXP(ttl_s) (T0 + (apr_int64_t)(ttl_s) * 1000)

/* Well-formed tokens (43 base64url characters, the last one of the 16 a
 * 32-byte token can end with) and values that are not. */
#define TOKEN_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define TOKEN_B "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA"
#define TOKEN_C "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCE"
#define TOKEN_D "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDI"
#define TOKEN_E "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEM"
#define SHORT   "AAAA"
#define BAD_END "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB"
#define BAD_CHR "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.A"

/* "k=v|k2=v2" as a list: an array of the '|'-separated items ("" none). */
static apr_array_header_t *list_of(const char *items)
{
    apr_array_header_t *list = apr_array_make(test_pool, 4, sizeof(char *));
    char *copy = apr_pstrdup(test_pool, items), *item, *last = NULL;

    for (item = apr_strtok(copy, "|", &last); item;
         item = apr_strtok(NULL, "|", &last)) {
        APR_ARRAY_PUSH(list, const char *) = item;
    }
    return list;
}

/* The items of list joined with '|'. */
static const char *joined(const apr_array_header_t *list)
{
    return apr_array_pstrcat(test_pool, list, '|');
}

/* Entries as mod_session's plain encoding gives them. */
static apr_table_t *entries_of(const char *encoded)
{
    return orm_codec_decode(test_pool, encoded);
}

static const char *opt(const char *s)
{
    return s ? s : "(null)";
}

START_TEST(test_is_rotated)
{
    static const struct {
        const char *data;
        int rotated;
    } cases[] = {
        { ORM_ROTATED_MARKER, 1 },
        { "\001moved:0123456789abcdef", 1 },    /* earlier versions' rows */
        { "\037", 1 },
        { "", 0 },
        { "a=1", 0 },
        { " a=1", 0 },
        { "\177", 0 },
        { "\xc3\xa9=1", 0 },
        { "U2FsdGVkX19hYmM==", 0 },             /* encrypted */
    };
    size_t i;

    for (i = 0; i < N_OF(cases); i++) {
        ck_assert_msg(orm_policy_is_rotated(cases[i].data)
                      == cases[i].rotated, "case %u", (unsigned)i);
    }
}
END_TEST

static void note_rejected(void *baton, const char *value)
{
    APR_ARRAY_PUSH((apr_array_header_t *)baton, const char *) = value;
}

START_TEST(test_cookie_tokens)
{
    static const struct {
        const char *values;     /* the cookies of our name, in order */
        const char *tokens;     /* tried, in order */
        const char *rejected;   /* told, in order */
    } cases[] = {
        { "", "", "" },
        { TOKEN_A, TOKEN_A, "" },
        { SHORT, "", SHORT },
        /* planted ones beside ours: tried in the order sent */
        { TOKEN_B "|" TOKEN_A, TOKEN_B "|" TOKEN_A, "" },
        { SHORT "|" TOKEN_A "|" BAD_END, TOKEN_A, SHORT "|" BAD_END },
        { BAD_CHR "|" TOKEN_A, TOKEN_A, BAD_CHR },
        /* at most four are tried; a malformed one after them is told */
        { TOKEN_A "|" TOKEN_B "|" TOKEN_C "|" TOKEN_D "|" TOKEN_E "|" SHORT,
          TOKEN_A "|" TOKEN_B "|" TOKEN_C "|" TOKEN_D, SHORT },
        /* the same token twice is tried twice, as sent */
        { TOKEN_A "|" TOKEN_A, TOKEN_A "|" TOKEN_A, "" },
    };
    size_t i;

    ck_assert_int_eq(ORM_MAX_COOKIE_TOKENS, 4);
    for (i = 0; i < N_OF(cases); i++) {
        apr_array_header_t *rejected = apr_array_make(test_pool, 1,
                                                      sizeof(char *));
        apr_array_header_t *tokens = orm_policy_cookie_tokens(
            test_pool, list_of(cases[i].values), note_rejected, rejected);

        ck_assert_str_eq(joined(tokens), cases[i].tokens);
        ck_assert_str_eq(joined(rejected), cases[i].rejected);
    }
    /* nobody to tell */
    ck_assert_str_eq(joined(orm_policy_cookie_tokens(
                         test_pool, list_of(SHORT "|" TOKEN_A), NULL, NULL)),
                     TOKEN_A);
}
END_TEST

/* What each key reached, one character per key: '-' no live row, 'm' a
 * marker, 's' a session. */
static orm_reached_e reached_of(char c)
{
    return c == 's' ? ORM_REACHED_SESSION
           : c == 'm' ? ORM_REACHED_MARKER : ORM_REACHED_NOTHING;
}

static const char *data_of(char c)
{
    return c == 's' ? "a=1" : c == 'm' ? ORM_ROTATED_MARKER : NULL;
}

START_TEST(test_load_search)
{
    static const struct {
        int presented;
        const char *rows;       /* what the keys reach, in order */
        int tried;              /* keys tried: up to the first session */
        int found, rotated_away, dirty;
    } cases[] = {
        /* no key: a cookie sent (all malformed) is answered */
        { 0, "", 0, 0, 0, 0 },
        { 1, "", 0, 0, 0, 1 },
        /* an unknown token is answered, so the client stops sending it */
        { 1, "-", 1, 0, 0, 1 },
        { 1, "--", 2, 0, 0, 1 },
        /* a rotated-away one is not: the browser may hold the new one */
        { 1, "m", 1, 0, 1, 0 },
        { 1, "-m", 2, 0, 1, 0 },
        { 1, "m-", 2, 0, 1, 0 },
        /* the first that reaches a session wins, whatever came before */
        { 1, "s", 1, 1, 0, 0 },
        { 1, "ms", 2, 1, 0, 0 },
        { 1, "-s", 2, 1, 0, 0 },
        { 1, "sm", 1, 1, 0, 0 },
        { 1, "s-s", 1, 1, 0, 0 },
        { 1, "m-ms", 4, 1, 0, 0 },
        /* per user: no cookie */
        { 0, "-", 1, 0, 0, 0 },
        { 0, "m", 1, 0, 1, 0 },
        { 0, "s", 1, 1, 0, 0 },
    };
    /* a session found was written just now: its touch is not due */
    orm_row_t found = { "a=1", EXP(86400), T0, NULL, NULL };
    size_t i;

    for (i = 0; i < N_OF(cases); i++) {
        const char *rows = cases[i].rows;
        orm_load_search_t search;
        int tried = 0;

        orm_load_search_init(&search, cases[i].presented);
        for (; rows[tried] && !search.found; tried++) {
            ck_assert_int_eq(orm_load_search_next(&search,
                                                  data_of(rows[tried])),
                             reached_of(rows[tried]));
        }
        ck_assert_msg(tried == cases[i].tried, "case %u: %d tried",
                      (unsigned)i, tried);
        ck_assert_int_eq(search.cookie_presented, cases[i].presented);
        ck_assert_int_eq(search.found, cases[i].found);
        ck_assert_int_eq(search.rotated_away, cases[i].rotated_away);
        ck_assert_int_eq(orm_load_dirty(&search,
                                        search.found ? &found : NULL,
                                        T0 + 1000, 60), cases[i].dirty);
    }
}
END_TEST

START_TEST(test_load_dirty_when_touch_due)
{
    orm_load_search_t search;
    orm_row_t found = { "a=1", EXP(86400), T0, NULL, NULL };

    orm_load_search_init(&search, 1);
    ck_assert_int_eq(orm_load_search_next(&search, "a=1"),
                     ORM_REACHED_SESSION);
    ck_assert(!orm_load_dirty(&search, &found, T0 + 59999, 60));
    ck_assert(orm_load_dirty(&search, &found, T0 + 60000, 60));
    ck_assert(orm_load_dirty(&search, &found, T0, 0));
    /* half the row's lifetime */
    found.expires_at_ms = EXP(100);
    ck_assert(!orm_load_dirty(&search, &found, T0 + 49999, 3600));
    ck_assert(orm_load_dirty(&search, &found, T0 + 50000, 3600));
}
END_TEST

START_TEST(test_form_user_and_owner)
{
    static const struct {
        const char *user;       /* r->user */
        const char *entries;
        const char *form_user;
        const char *owner;
    } cases[] = {
        { NULL, "", NULL, NULL },
        { NULL, "a=1&expiry=5", NULL, NULL },
        { NULL, "user=alice", "alice", "alice" },
        { NULL, "app-user=bob&app-pw=x", "bob", "bob" },
        { NULL, "a-user=carol", "carol", "carol" },
        /* not an owner key */
        { NULL, "-user=x", NULL, NULL },
        { NULL, "username=x", NULL, NULL },
        { NULL, "user-name=x", NULL, NULL },
        { NULL, "USER=x", NULL, NULL },
        { NULL, "app-User=x", NULL, NULL },
        { NULL, "users=x", NULL, NULL },
        /* the first in the session's order */
        { NULL, "b-user=one&user=two", "one", "one" },
        /* the authenticated user owns the session */
        { "dave", "", NULL, "dave" },
        { "dave", "app-user=bob", "bob", "dave" },
    };
    size_t i;

    for (i = 0; i < N_OF(cases); i++) {
        apr_table_t *entries = entries_of(cases[i].entries);
        const char *form_user = orm_policy_form_user(entries);
        const char *owner = orm_policy_owner(cases[i].user, entries);

        ck_assert_msg(orm_policy_same_owner(form_user, cases[i].form_user),
                      "case %u: form user %s", (unsigned)i, opt(form_user));
        ck_assert_msg(orm_policy_same_owner(owner, cases[i].owner),
                      "case %u: owner %s", (unsigned)i, opt(owner));
    }
}
END_TEST

START_TEST(test_same_owner)
{
    static const struct {
        const char *a, *b;
        int same;
    } cases[] = {
        { NULL, NULL, 1 },
        { NULL, "a", 0 },
        { "a", NULL, 0 },
        { "a", "a", 1 },
        { "a", "b", 0 },
        { "a", "A", 0 },
        { "", NULL, 0 },
        { "", "", 1 },
    };
    size_t i;

    for (i = 0; i < N_OF(cases); i++) {
        ck_assert_msg(orm_policy_same_owner(cases[i].a, cases[i].b)
                      == cases[i].same, "case %u", (unsigned)i);
    }
}
END_TEST

START_TEST(test_is_empty)
{
    static const struct {
        const char *entries;
        int empty;
    } cases[] = {
        { "", 1 },
        { "expiry=1700000000000000", 1 },
        { "a=1", 0 },
        { "expiry=1&a=1", 0 },
        { "Expiry=1", 0 },      /* mod_session's key is lower case */
        { "expiry2=1", 0 },
    };
    size_t i;

    ck_assert_str_eq(ORM_SESSION_EXPIRY_KEY, "expiry");
    for (i = 0; i < N_OF(cases); i++) {
        ck_assert_msg(orm_policy_is_empty(entries_of(cases[i].entries))
                      == cases[i].empty, "case %u", (unsigned)i);
    }
}
END_TEST

START_TEST(test_size_refused)
{
    static const struct {
        apr_int64_t max_size;
        const char *data, *stored;
        int refused;
    } cases[] = {
        { 0, "123456", NULL, 0 },           /* no limit */
        { -1, "123456", NULL, 0 },
        { 5, "12345", NULL, 0 },            /* at the limit */
        { 5, "123456", NULL, 1 },
        { 5, "123456", "12", 1 },
        /* a session stored over the limit can shrink, not stay or grow */
        { 5, "123456", "1234567", 0 },
        { 5, "123456", "123456", 1 },
        { 5, "1234567", "123456", 1 },
        { 5, "", "1234567", 0 },
    };
    size_t i;

    for (i = 0; i < N_OF(cases); i++) {
        ck_assert_msg(orm_policy_size_refused(cases[i].max_size,
                                              cases[i].data, cases[i].stored)
                      == cases[i].refused, "case %u", (unsigned)i);
    }
}
END_TEST

START_TEST(test_next_version)
{
    static const struct {
        apr_int64_t now, version, next;
    } cases[] = {
        { T0, T0 - 5000, T0 },
        { T0, T0, T0 + 1 },                 /* within the millisecond */
        { T0, T0 + 7, T0 + 8 },             /* a clock behind the row's */
        { 0, 0, 1 },
    };
    size_t i;

    for (i = 0; i < N_OF(cases); i++) {
        ck_assert_int_eq(orm_policy_next_version(cases[i].now,
                                                 cases[i].version),
                         cases[i].next);
    }
}
END_TEST

/* A save's facts: by cookie, a row "a=1" of nobody's written at T0 that
 * lives a day, now 1 s later; the session holds "a=1" and is dirty. */
#define USER_ID "user-id"
#define ROW_ID "row-id"

typedef struct {
    const char *name;
    orm_key_mode_e mode;        /* 0: by cookie */
    int load_failed, presented, rotated_away;
    const char *user_id;
    int no_row;                 /* the request has no row */
    const char *row_id;         /* NULL: ROW_ID */
    const char *row_owner;
    const char *row_data;       /* NULL: "a=1" */
    const char *entries;        /* NULL: "a=1" */
    const char *owner;
    int unchanged;              /* mod_session did not mark it dirty */
    apr_int64_t age_ms;         /* since the row was written; 0: 1 s */
    int touch_always;           /* SessionORMTouchInterval 0, else 60 */
    apr_int64_t maxage, max_size;
    orm_save_e action;
} save_case_t;

static orm_save_facts_t facts_of(const save_case_t *c, orm_row_t *row)
{
    orm_save_facts_t f;

    row->data = c->row_data ? c->row_data : "a=1";
    row->user_name = c->row_owner;
    row->updated_at_ms = T0;
    row->expires_at_ms = EXP(86400);
    memset(&f, 0, sizeof(f));
    f.mode = c->mode ? c->mode : ORM_KEY_COOKIE;
    f.load_failed = c->load_failed;
    f.cookie_presented = c->presented;
    f.rotated_away = c->rotated_away;
    f.user_id = c->user_id;
    f.stored_id = c->no_row ? NULL : c->row_id ? c->row_id : ROW_ID;
    f.stored = c->no_row ? NULL : row;
    f.entries = entries_of(c->entries ? c->entries : "a=1");
    f.data = c->entries ? c->entries : "a=1";
    f.owner = c->owner;
    f.dirty = !c->unchanged;
    f.maxage = c->maxage;
    f.now_ms = T0 + (c->age_ms ? c->age_ms : 1000);
    f.touch_seconds = c->touch_always ? 0 : 60;
    f.max_size = c->max_size;
    return f;
}

START_TEST(test_save_decision)
{
    static const save_case_t cases[] = {
        /* refusals come first */
        { "load failed", .load_failed = 1, .entries = "",
          .action = ORM_SAVE_NOT_LOADED },
        { "load failed, per user", .mode = ORM_KEY_USER, .load_failed = 1,
          .action = ORM_SAVE_NOT_LOADED },
        { "per user, no user", .mode = ORM_KEY_USER, .no_row = 1,
          .action = ORM_SAVE_NO_USER },
        { "per user, no user, emptied", .mode = ORM_KEY_USER,
          .entries = "", .action = ORM_SAVE_NO_USER },
        { "rotated away", .rotated_away = 1, .no_row = 1,
          .action = ORM_SAVE_ROTATED_AWAY },
        { "rotated away, emptied", .rotated_away = 1, .no_row = 1,
          .entries = "", .action = ORM_SAVE_ROTATED_AWAY },
        { "rotated away, r->user is no login of its own",
          .rotated_away = 1, .no_row = 1, .owner = "dave",
          .action = ORM_SAVE_ROTATED_AWAY },
        { "rotated away, logs in", .rotated_away = 1, .no_row = 1,
          .entries = "a=1&app-user=bob", .owner = "bob",
          .action = ORM_SAVE_NEW },
        /* an emptied session */
        { "emptied", .entries = "", .action = ORM_SAVE_REMOVE },
        { "only the expiry left", .entries = "expiry=1",
          .action = ORM_SAVE_REMOVE },
        { "emptied, no row", .no_row = 1, .entries = "",
          .action = ORM_SAVE_REMOVE },
        { "emptied, per user", .mode = ORM_KEY_USER, .user_id = ROW_ID,
          .entries = "", .action = ORM_SAVE_REMOVE },
        { "emptied, not dirty", .entries = "", .unchanged = 1,
          .action = ORM_SAVE_REMOVE },
        /* the touch */
        { "unchanged", .unchanged = 1, .action = ORM_SAVE_UNCHANGED },
        { "unchanged, touch due", .unchanged = 1, .age_ms = 60000,
          .action = ORM_SAVE_UPDATE },
        { "unchanged, touch due by half maxage", .unchanged = 1,
          .age_ms = 15000, .maxage = 30, .action = ORM_SAVE_UPDATE },
        { "unchanged, touch every request", .unchanged = 1,
          .touch_always = 1, .age_ms = 1, .action = ORM_SAVE_UPDATE },
        { "unchanged, no row", .unchanged = 1, .no_row = 1,
          .action = ORM_SAVE_NEW },
        { "unchanged, per user", .mode = ORM_KEY_USER, .user_id = ROW_ID,
          .unchanged = 1, .action = ORM_SAVE_UNCHANGED },
        { "changed", .action = ORM_SAVE_UPDATE },
        /* owner changes rotate a cookie session, changed or not */
        { "login", .owner = "alice", .unchanged = 1,
          .action = ORM_SAVE_ROTATE },
        { "logout", .row_owner = "alice", .action = ORM_SAVE_ROTATE },
        { "switch of user", .row_owner = "alice", .owner = "bob",
          .action = ORM_SAVE_ROTATE },
        { "same owner", .row_owner = "alice", .owner = "alice",
          .action = ORM_SAVE_UPDATE },
        { "login, no row", .no_row = 1, .owner = "alice",
          .action = ORM_SAVE_NEW },
        { "per user, owner changed", .mode = ORM_KEY_USER,
          .user_id = ROW_ID, .row_owner = "alice", .owner = "bob",
          .action = ORM_SAVE_UPDATE },
        /* SessionORMMaxSize */
        { "too big", .entries = "a=1234", .max_size = 5,
          .action = ORM_SAVE_TOO_BIG },
        { "too big, new", .no_row = 1, .entries = "a=1234", .max_size = 5,
          .action = ORM_SAVE_TOO_BIG },
        { "too big, login", .entries = "a=1234", .owner = "alice",
          .max_size = 5, .action = ORM_SAVE_TOO_BIG },
        { "too big, but smaller than stored", .entries = "a=1234",
          .row_data = "a=12345", .max_size = 5, .action = ORM_SAVE_UPDATE },
        { "too big, unchanged", .entries = "a=1234", .row_data = "a=1234",
          .unchanged = 1, .max_size = 5, .action = ORM_SAVE_UNCHANGED },
        { "at the limit", .entries = "a=123", .max_size = 5,
          .action = ORM_SAVE_UPDATE },
        /* which row */
        { "new", .no_row = 1, .action = ORM_SAVE_NEW },
        { "per user, the user's row", .mode = ORM_KEY_USER,
          .user_id = ROW_ID, .action = ORM_SAVE_UPDATE },
        { "per user, another user's row", .mode = ORM_KEY_USER,
          .user_id = USER_ID, .action = ORM_SAVE_NEW },
        { "per user, no row", .mode = ORM_KEY_USER, .user_id = USER_ID,
          .no_row = 1, .action = ORM_SAVE_NEW },
    };
    size_t i;

    for (i = 0; i < N_OF(cases); i++) {
        orm_row_t row;
        orm_save_facts_t facts = facts_of(&cases[i], &row);
        orm_save_e action = orm_policy_save(&facts);

        ck_assert_msg(action == cases[i].action, "%s: %d, not %d",
                      cases[i].name, (int)action, (int)cases[i].action);
    }
}
END_TEST

START_TEST(test_remove_expires_cookie)
{
    static const struct {
        save_case_t save;
        int expires;
    } cases[] = {
        { { "by cookie, a row", .entries = "" }, 1 },
        { { "by cookie, a cookie sent", .no_row = 1, .presented = 1,
            .entries = "" }, 1 },
        { { "by cookie, neither", .no_row = 1, .entries = "" }, 0 },
        { { "per user", .mode = ORM_KEY_USER, .user_id = ROW_ID,
            .presented = 1, .entries = "" }, 0 },
    };
    size_t i;

    for (i = 0; i < N_OF(cases); i++) {
        orm_row_t row;
        orm_save_facts_t facts = facts_of(&cases[i].save, &row);

        ck_assert_int_eq(orm_policy_save(&facts), ORM_SAVE_REMOVE);
        ck_assert_msg(orm_policy_remove_expires_cookie(&facts)
                      == cases[i].expires, "%s", cases[i].save.name);
    }
}
END_TEST

/* The merge of a request that loaded loaded and now holds ours (plain)
 * into stored; NULL when refused. */
static const char *merged_of(const char *loaded, const char *ours,
                             const char *stored, apr_int64_t max_size,
                             orm_merge_t *merge)
{
    orm_merge_init(merge, test_pool, ours, entries_of(ours), loaded,
                   max_size);
    return orm_merge_into_stored(merge, test_pool, stored);
}

static int same_entries(const char *encoded, const char *expected)
{
    return orm_codec_is_plain(test_pool, encoded, entries_of(expected));
}

START_TEST(test_merge_plain)
{
    static const struct {
        const char *loaded, *ours, *stored, *merged;
    } cases[] = {
        /* another request's keys are kept, ours applied */
        { "a=1&b=2", "a=1&b=3", "a=1&b=2&c=9", "a=1&b=3&c=9" },
        { "a=1&b=2", "a=1", "a=1&b=2&c=3", "a=1&c=3" },
        { "a=1", "a=1&n=new", "a=7", "a=7&n=new" },
        /* ours wins a key both changed */
        { "a=1", "a=2", "a=3", "a=2" },
        /* a key it removed that the other request set again stays gone */
        { "a=1&b=2", "a=1", "a=1&b=5", "a=1" },
        /* nothing changed: what is stored */
        { "a=1", "a=1", "a=1&z=26", "a=1&z=26" },
    };
    size_t i;

    for (i = 0; i < N_OF(cases); i++) {
        orm_merge_t merge;
        const char *merged = merged_of(cases[i].loaded, cases[i].ours,
                                       cases[i].stored, 0, &merge);

        ck_assert_ptr_nonnull(merge.diff);
        ck_assert_ptr_nonnull(merged);
        ck_assert_msg(same_entries(merged, cases[i].merged),
                      "case %u: %s", (unsigned)i, merged);
        ck_assert_int_eq(merge.refusal, ORM_MERGE_DONE);
    }
}
END_TEST

START_TEST(test_merge_opaque)
{
    orm_merge_t merge;

    /* encrypted data does not decode to the entries: ours replaces theirs */
    orm_merge_init(&merge, test_pool, "U2FsdGVkX19hYmM=",
                   entries_of("a=1"), "U2FsdGVkX19vbGQ=", 0);
    ck_assert_ptr_null(merge.diff);
    ck_assert_str_eq(orm_merge_into_stored(&merge, test_pool,
                                           "U2FsdGVkX19ucXc="),
                     "U2FsdGVkX19hYmM=");
    ck_assert_int_eq(merge.refusal, ORM_MERGE_DONE);
    ck_assert(!orm_merge_changes_nothing(&merge));
}
END_TEST

START_TEST(test_merge_refused)
{
    orm_merge_t merge;

    /* a marker: nothing of ours belongs there, ever */
    ck_assert_ptr_null(merged_of("a=1", "a=2", ORM_ROTATED_MARKER, 0,
                                 &merge));
    ck_assert_int_eq(merge.refusal, ORM_MERGE_ROTATED);
    ck_assert_ptr_null(merged_of("a=1", "a=2", "\001moved:abc", 0, &merge));
    ck_assert_int_eq(merge.refusal, ORM_MERGE_ROTATED);
    orm_merge_init(&merge, test_pool, "U2FsdGVkX19hYmM=", entries_of("a=1"),
                   "U2FsdGVkX19vbGQ=", 0);
    ck_assert_ptr_null(orm_merge_into_stored(&merge, test_pool,
                                             ORM_ROTATED_MARKER));
    ck_assert_int_eq(merge.refusal, ORM_MERGE_ROTATED);

    /* over the limit with the other request's keys */
    ck_assert_ptr_null(merged_of("a=1", "a=1&b=2", "a=1&c=3", 7, &merge));
    ck_assert_int_eq(merge.refusal, ORM_MERGE_TOO_BIG);
    ck_assert_int_eq(merge.max_size, 7);
    ck_assert_msg(same_entries(merge.refused_data, "a=1&b=2&c=3"), "%s",
                  merge.refused_data);
    /* over the limit but smaller than what is stored */
    ck_assert_ptr_nonnull(merged_of("a=1&c=333", "a=1", "a=1&c=333&d=4", 5,
                                    &merge));
    ck_assert_int_eq(merge.refusal, ORM_MERGE_DONE);

    /* a refusal is not kept by the next merge that goes through */
    ck_assert_ptr_null(orm_merge_into_stored(&merge, test_pool,
                                             ORM_ROTATED_MARKER));
    ck_assert_ptr_nonnull(orm_merge_into_stored(&merge, test_pool, "a=1"));
    ck_assert_int_eq(merge.refusal, ORM_MERGE_DONE);
}
END_TEST

START_TEST(test_merge_changes_nothing)
{
    static const struct {
        const char *loaded, *ours;
        int nothing;
    } cases[] = {
        { "a=1&expiry=1", "a=1&expiry=2", 1 },
        { "a=1", "a=1&expiry=2", 1 },
        { "a=1&expiry=1", "a=1", 1 },
        { "a=1", "a=1", 1 },
        { "a=1&expiry=1", "a=2&expiry=2", 0 },
        { "a=1", "a=1&b=2", 0 },
        { "a=1&b=2", "a=1", 0 },
    };
    size_t i;

    for (i = 0; i < N_OF(cases); i++) {
        orm_merge_t merge;

        orm_merge_init(&merge, test_pool, cases[i].ours,
                       entries_of(cases[i].ours), cases[i].loaded, 0);
        ck_assert_msg(orm_merge_changes_nothing(&merge) == cases[i].nothing,
                      "case %u", (unsigned)i);
    }
}
END_TEST

TCase *tcase_policy(void)
{
    TCase *tc = tcase_create("policy");

    tcase_add_test(tc, test_is_rotated);
    tcase_add_test(tc, test_cookie_tokens);
    tcase_add_test(tc, test_load_search);
    tcase_add_test(tc, test_load_dirty_when_touch_due);
    tcase_add_test(tc, test_form_user_and_owner);
    tcase_add_test(tc, test_same_owner);
    tcase_add_test(tc, test_is_empty);
    tcase_add_test(tc, test_size_refused);
    tcase_add_test(tc, test_next_version);
    tcase_add_test(tc, test_save_decision);
    tcase_add_test(tc, test_remove_expires_cookie);
    tcase_add_test(tc, test_merge_plain);
    tcase_add_test(tc, test_merge_opaque);
    tcase_add_test(tc, test_merge_refused);
    tcase_add_test(tc, test_merge_changes_nothing);
    return tc;
}
