/* Table mapping: identifier checks, field names, defaults, merge. */
#include <string.h>
#include <apr_strings.h>

#include "tests.h"
#include "orm_schema.h"

static char *repeat(char c, apr_size_t n)
{
    char *s = apr_palloc(test_pool, n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* SessionORMFormat: its names, the express format's columns (MikroORM's
 * names, three fields only), merge child-if-set, and a mapped field the
 * format lacks refused. */
START_TEST(test_schema_express_format)
{
    orm_schema_t s, parent, merged;
    orm_format_e f;
    const char *err;

    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(orm_schema_format(&s), ORM_FORMAT_NATIVE);
    ck_assert(orm_format_by_name("Express", &f));
    ck_assert_int_eq(f, ORM_FORMAT_EXPRESS);
    ck_assert(orm_format_by_name("native", &f));
    ck_assert(!orm_format_by_name("json", &f));
    ck_assert_str_eq(orm_format_name(ORM_FORMAT_EXPRESS), "express");
    s.format = ORM_FORMAT_EXPRESS;
    ck_assert_str_eq(orm_schema_column(&s, ORM_FIELD_ID), "id");
    ck_assert_str_eq(orm_schema_column(&s, ORM_FIELD_DATA), "json");
    ck_assert_str_eq(orm_schema_column(&s, ORM_FIELD_EXPIRES_AT),
                     "expired_at");
    ck_assert_ptr_null(orm_schema_column(&s, ORM_FIELD_USER_NAME));
    ck_assert_ptr_null(orm_schema_column(&s, ORM_FIELD_UPDATED_AT));
    ck_assert(!orm_schema_has_field(&s, ORM_FIELD_CREATED_AT));
    ck_assert_ptr_null(orm_schema_check_distinct(test_pool, &s));
    s.columns[ORM_FIELD_DATA] = "payload";
    ck_assert_str_eq(orm_schema_column(&s, ORM_FIELD_DATA), "payload");
    s.columns[ORM_FIELD_USER_NAME] = "login";
    err = orm_schema_check_distinct(test_pool, &s);
    ck_assert_ptr_nonnull(err);
    ck_assert_str_eq(err, "the express format has no field user_name (its "
                     "fields: id, data, expires_at)");
    /* a virtual host's format wins; unset, the main server's holds */
    memset(&parent, 0, sizeof(parent));
    parent.format = ORM_FORMAT_EXPRESS;
    memset(&s, 0, sizeof(s));
    orm_schema_merge(&merged, &parent, &s);
    ck_assert_int_eq(orm_schema_format(&merged), ORM_FORMAT_EXPRESS);
    s.format = ORM_FORMAT_NATIVE;
    orm_schema_merge(&merged, &parent, &s);
    ck_assert_int_eq(orm_schema_format(&merged), ORM_FORMAT_NATIVE);
}
END_TEST

START_TEST(test_identifier_accepts)
{
    static const char *const good[] = {
        "session", "_x", "_", "x", "Session", "SESSION", "a1", "a_1_b",
        "_1", "sessions_v2", "expires_at", "Z9"
    };
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ck_assert_msg(orm_identifier_check(good[i], ORM_TABLE_NAME_MAX) == NULL,
                      "'%s' rejected as table", good[i]);
        ck_assert_msg(orm_identifier_check(good[i], ORM_COLUMN_NAME_MAX) == NULL,
                      "'%s' rejected as column", good[i]);
    }
    ck_assert_int_eq(ORM_TABLE_NAME_MAX, 48);
    ck_assert_int_eq(ORM_COLUMN_NAME_MAX, 63);
    ck_assert_ptr_null(orm_identifier_check(repeat('a', 48), ORM_TABLE_NAME_MAX));
    ck_assert_ptr_null(orm_identifier_check(repeat('_', 48), ORM_TABLE_NAME_MAX));
    ck_assert_ptr_null(orm_identifier_check(repeat('b', 63), ORM_COLUMN_NAME_MAX));
    ck_assert_ptr_null(orm_identifier_check(repeat('a', 1), 1));
}
END_TEST

START_TEST(test_identifier_rejects)
{
    static const char *const bad[] = {
        "", "1abc", "9", "a-b", "-a", "a b", " a", "a ", "a\"b", "\"a\"",
        "a'b", "a`b", "`a`", "a;b", "a;DROP TABLE x", "s.t", "main.session",
        "caf\xc3\xa9", "\xc3\xa9t\xc3\xa9", "a\xff", "a\tb", "a\nb", "a(b)",
        "a$b", "a%s", "a[b]", "a/b", "a*", "a\\b"
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *err = orm_identifier_check(bad[i], ORM_TABLE_NAME_MAX);
        ck_assert_msg(err != NULL, "'%s' accepted as table", bad[i]);
        ck_assert_msg(strlen(err) > 0, "empty error text for '%s'", bad[i]);
        ck_assert_msg(orm_identifier_check(bad[i], ORM_COLUMN_NAME_MAX) != NULL,
                      "'%s' accepted as column", bad[i]);
    }
    ck_assert_ptr_nonnull(orm_identifier_check(NULL, ORM_TABLE_NAME_MAX));
}
END_TEST

START_TEST(test_identifier_length_limits)
{
    ck_assert_ptr_nonnull(orm_identifier_check(repeat('a', 49),
                                               ORM_TABLE_NAME_MAX));
    ck_assert_ptr_nonnull(orm_identifier_check(repeat('a', 64),
                                               ORM_COLUMN_NAME_MAX));
    ck_assert_ptr_nonnull(orm_identifier_check(repeat('a', 200),
                                               ORM_COLUMN_NAME_MAX));
    /* a 49..63-character name is a valid column but too long for a table */
    ck_assert_ptr_null(orm_identifier_check(repeat('a', 49),
                                            ORM_COLUMN_NAME_MAX));
    ck_assert_ptr_nonnull(orm_identifier_check(repeat('a', 63),
                                               ORM_TABLE_NAME_MAX));
    ck_assert_ptr_nonnull(orm_identifier_check("ab", 1));
    /* a bad character past the limit is still an error */
    ck_assert_ptr_nonnull(orm_identifier_check(
        apr_pstrcat(test_pool, repeat('a', 48), "-", NULL), 48));
    /* a bad character within the limit of a too-long name */
    ck_assert_ptr_nonnull(orm_identifier_check(
        apr_pstrcat(test_pool, "a-", repeat('a', 60), NULL), 48));
}
END_TEST

START_TEST(test_field_default_names)
{
    ck_assert_int_eq(ORM_FIELD_COUNT, 6);
    ck_assert_str_eq(orm_field_default_name(ORM_FIELD_ID), "id");
    ck_assert_str_eq(orm_field_default_name(ORM_FIELD_DATA), "data");
    ck_assert_str_eq(orm_field_default_name(ORM_FIELD_EXPIRES_AT), "expires_at");
    ck_assert_str_eq(orm_field_default_name(ORM_FIELD_USER_NAME), "user_name");
    ck_assert_str_eq(orm_field_default_name(ORM_FIELD_CREATED_AT), "created_at");
    ck_assert_str_eq(orm_field_default_name(ORM_FIELD_UPDATED_AT), "updated_at");
    ck_assert_ptr_null(orm_field_default_name(ORM_FIELD_COUNT));
    ck_assert_ptr_null(orm_field_default_name((orm_field_e)-1));
    ck_assert_ptr_null(orm_field_default_name((orm_field_e)100));
}
END_TEST

START_TEST(test_field_lookup)
{
    ck_assert_int_eq(orm_field_lookup("id"), ORM_FIELD_ID);
    ck_assert_int_eq(orm_field_lookup("data"), ORM_FIELD_DATA);
    ck_assert_int_eq(orm_field_lookup("expires_at"), ORM_FIELD_EXPIRES_AT);
    ck_assert_int_eq(orm_field_lookup("user_name"), ORM_FIELD_USER_NAME);
    ck_assert_int_eq(orm_field_lookup("created_at"), ORM_FIELD_CREATED_AT);
    ck_assert_int_eq(orm_field_lookup("updated_at"), ORM_FIELD_UPDATED_AT);
    /* case-insensitive */
    ck_assert_int_eq(orm_field_lookup("ID"), ORM_FIELD_ID);
    ck_assert_int_eq(orm_field_lookup("Data"), ORM_FIELD_DATA);
    ck_assert_int_eq(orm_field_lookup("Expires_At"), ORM_FIELD_EXPIRES_AT);
    ck_assert_int_eq(orm_field_lookup("USER_NAME"), ORM_FIELD_USER_NAME);
    ck_assert_int_eq(orm_field_lookup("cReAtEd_aT"), ORM_FIELD_CREATED_AT);
    ck_assert_int_eq(orm_field_lookup("UPDATED_at"), ORM_FIELD_UPDATED_AT);
    /* unknown */
    ck_assert_int_eq(orm_field_lookup("foo"), -1);
    ck_assert_int_eq(orm_field_lookup(""), -1);
    ck_assert_int_eq(orm_field_lookup("expires"), -1);
    ck_assert_int_eq(orm_field_lookup("user-name"), -1);
    ck_assert_int_eq(orm_field_lookup("username"), -1);
    ck_assert_int_eq(orm_field_lookup("id "), -1);
    ck_assert_int_eq(orm_field_lookup(" id"), -1);
    ck_assert_int_eq(orm_field_lookup("ids"), -1);
    ck_assert_int_eq(orm_field_lookup("i"), -1);
    ck_assert_int_eq(orm_field_lookup("session"), -1);
    ck_assert_int_eq(orm_field_lookup(NULL), -1);
}
END_TEST

START_TEST(test_schema_defaults)
{
    orm_schema_t s;
    int i;

    memset(&s, 0, sizeof(s));
    ck_assert_str_eq(orm_schema_table(&s), "session");
    ck_assert_str_eq(ORM_DEFAULT_TABLE, "session");
    for (i = 0; i < ORM_FIELD_COUNT; i++) {
        ck_assert_str_eq(orm_schema_column(&s, i), orm_field_default_name(i));
    }
    ck_assert_str_eq(orm_schema_column(&s, ORM_FIELD_EXPIRES_AT), "expires_at");

    s.table = "t";
    s.columns[ORM_FIELD_DATA] = "payload";
    ck_assert_str_eq(orm_schema_table(&s), "t");
    ck_assert_str_eq(orm_schema_column(&s, ORM_FIELD_DATA), "payload");
    /* the others keep their defaults */
    ck_assert_str_eq(orm_schema_column(&s, ORM_FIELD_ID), "id");
    ck_assert_str_eq(orm_schema_column(&s, ORM_FIELD_UPDATED_AT), "updated_at");
}
END_TEST

START_TEST(test_schema_merge)
{
    orm_schema_t parent, child, merged;

    memset(&parent, 0, sizeof(parent));
    memset(&child, 0, sizeof(child));
    memset(&merged, 0xab, sizeof(merged));  /* merge must write every member */

    parent.table = "ptable";
    parent.columns[ORM_FIELD_ID] = "p_id";
    parent.columns[ORM_FIELD_DATA] = "p_data";
    parent.columns[ORM_FIELD_EXPIRES_AT] = "p_exp";
    child.columns[ORM_FIELD_DATA] = "c_data";
    child.columns[ORM_FIELD_USER_NAME] = "c_user";

    orm_schema_merge(&merged, &parent, &child);
    ck_assert_str_eq(merged.table, "ptable");
    ck_assert_str_eq(merged.columns[ORM_FIELD_ID], "p_id");
    ck_assert_str_eq(merged.columns[ORM_FIELD_DATA], "c_data");
    ck_assert_str_eq(merged.columns[ORM_FIELD_EXPIRES_AT], "p_exp");
    ck_assert_str_eq(merged.columns[ORM_FIELD_USER_NAME], "c_user");
    /* unset in both stays unset, so the default applies later */
    ck_assert_ptr_null(merged.columns[ORM_FIELD_CREATED_AT]);
    ck_assert_ptr_null(merged.columns[ORM_FIELD_UPDATED_AT]);
    ck_assert_str_eq(orm_schema_column(&merged, ORM_FIELD_CREATED_AT),
                     "created_at");

    /* child's table wins */
    child.table = "ctable";
    orm_schema_merge(&merged, &parent, &child);
    ck_assert_str_eq(merged.table, "ctable");
    ck_assert_str_eq(orm_schema_table(&merged), "ctable");

    /* nothing set anywhere */
    memset(&parent, 0, sizeof(parent));
    memset(&child, 0, sizeof(child));
    memset(&merged, 0xab, sizeof(merged));
    orm_schema_merge(&merged, &parent, &child);
    ck_assert_ptr_null(merged.table);
    ck_assert_str_eq(orm_schema_table(&merged), "session");

    /* only the child sets things */
    child.columns[ORM_FIELD_UPDATED_AT] = "touched";
    orm_schema_merge(&merged, &parent, &child);
    ck_assert_str_eq(merged.columns[ORM_FIELD_UPDATED_AT], "touched");
    ck_assert_ptr_null(merged.columns[ORM_FIELD_ID]);

    /* inputs are not modified */
    ck_assert_ptr_null(parent.table);
    ck_assert_ptr_null(parent.columns[ORM_FIELD_UPDATED_AT]);
}
END_TEST

START_TEST(test_schema_check_distinct)
{
    orm_schema_t s;
    const char *err;

    memset(&s, 0, sizeof(s));
    ck_assert_ptr_null(orm_schema_check_distinct(test_pool, &s));

    /* renamed, all distinct */
    s.table = "t";
    s.columns[ORM_FIELD_ID] = "sid";
    s.columns[ORM_FIELD_DATA] = "payload";
    ck_assert_ptr_null(orm_schema_check_distinct(test_pool, &s));

    /* swapping two defaults is fine */
    memset(&s, 0, sizeof(s));
    s.columns[ORM_FIELD_ID] = "data";
    s.columns[ORM_FIELD_DATA] = "id";
    ck_assert_ptr_null(orm_schema_check_distinct(test_pool, &s));

    /* a renamed field onto another field's default column */
    memset(&s, 0, sizeof(s));
    s.columns[ORM_FIELD_DATA] = "id";
    err = orm_schema_check_distinct(test_pool, &s);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "id"));

    /* case-insensitive */
    memset(&s, 0, sizeof(s));
    s.columns[ORM_FIELD_CREATED_AT] = "UPDATED_AT";
    ck_assert_ptr_nonnull(orm_schema_check_distinct(test_pool, &s));

    /* two renamed fields onto one new name */
    memset(&s, 0, sizeof(s));
    s.columns[ORM_FIELD_EXPIRES_AT] = "stamp";
    s.columns[ORM_FIELD_UPDATED_AT] = "Stamp";
    err = orm_schema_check_distinct(test_pool, &s);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "tamp"));

    /* the last pair */
    memset(&s, 0, sizeof(s));
    s.columns[ORM_FIELD_UPDATED_AT] = "created_at";
    ck_assert_ptr_nonnull(orm_schema_check_distinct(test_pool, &s));

    /* the table name may equal a column name */
    memset(&s, 0, sizeof(s));
    s.table = "data";
    ck_assert_ptr_null(orm_schema_check_distinct(test_pool, &s));
}
END_TEST

/* ---- setting names: the one check of SessionORMTable, SessionORMColumn,
 * --table, --column and the config reader ------------------------------- */

static void assert_has(const char *text, const char *fragment)
{
    ck_assert_msg(text != NULL && strstr(text, fragment) != NULL,
                  "no \"%s\" in \"%s\"", fragment, text ? text : "(null)");
}

START_TEST(test_set_table)
{
    static const struct {
        const char *name;
        const char *says;       /* what orm_identifier_check says */
    } bad[] = {
        { "bad-name", "may contain only letters, digits and underscores" },
        { "1session", "must start with a letter or an underscore" },
        { "x; DROP TABLE y", "may contain only letters" },
        { "", "is empty" },
        { NULL, "is empty" },
    };
    orm_schema_t s;
    const char *err, *long_name = repeat('t', 49);
    size_t i;

    memset(&s, 0, sizeof(s));
    ck_assert_ptr_null(orm_schema_set_table(test_pool, &s, "web_sessions"));
    ck_assert_str_eq(s.table, "web_sessions");
    ck_assert_ptr_null(orm_schema_set_table(test_pool, &s, repeat('t', 48)));
    ck_assert_int_eq(strlen(s.table), 48);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s.table = "kept";
        err = orm_schema_set_table(test_pool, &s, bad[i].name);
        assert_has(err, apr_psprintf(test_pool, "'%s' is not a usable table "
                                     "name: it %s", bad[i].name
                                     ? bad[i].name : "", bad[i].says));
        assert_has(err, "(letters, digits and '_', at most 48 characters, "
                   "not starting with a digit)");
        ck_assert_str_eq(s.table, "kept");
    }
    err = orm_schema_set_table(test_pool, &s, long_name);
    assert_has(err, long_name);
    assert_has(err, "is too long");
    ck_assert_str_eq(s.table, "kept");
}
END_TEST

START_TEST(test_set_column)
{
    static const struct {
        const char *field, *column;
        const char *says;       /* NULL: accepted */
    } cases[] = {
        { "data", "payload", NULL },
        { "USER_NAME", "owner", NULL },
        { "Expires_At", "exp_ms", NULL },
        { "nosuchfield", "x", "unknown field 'nosuchfield' (fields: id, data, "
          "expires_at, user_name, created_at, updated_at)" },
        /* the field is judged first */
        { "bogus", "x y", "unknown field 'bogus'" },
        { "", "x", "unknown field ''" },
        { NULL, "x", "unknown field ''" },
        { "data", "da-ta", "'da-ta' is not a usable column name for data: it "
          "may contain only letters, digits and underscores (letters, digits "
          "and '_', at most 63 characters, not starting with a digit)" },
        { "ID", "9id", "'9id' is not a usable column name for ID: it must "
          "start with a letter or an underscore" },
        { "id", "", "'' is not a usable column name for id: it is empty" },
        { "id", NULL, "'' is not a usable column name for id: it is empty" },
    };
    orm_schema_t s;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int field = orm_field_lookup(cases[i].field);
        const char *err;

        memset(&s, 0, sizeof(s));
        err = orm_schema_set_column(test_pool, &s, cases[i].field,
                                    cases[i].column);
        if (cases[i].says == NULL) {
            ck_assert_msg(err == NULL, "%s %s: %s", cases[i].field,
                          cases[i].column, err);
            ck_assert_str_eq(s.columns[field], cases[i].column);
            continue;
        }
        assert_has(err, cases[i].says);
        ck_assert_msg(s.table == NULL && s.columns[ORM_FIELD_ID] == NULL
                      && s.columns[ORM_FIELD_DATA] == NULL, "schema written "
                      "for %s %s", cases[i].field, cases[i].column);
    }

    /* at the limit, and one past it */
    memset(&s, 0, sizeof(s));
    ck_assert_ptr_null(orm_schema_set_column(test_pool, &s, "id",
                                             repeat('c', 63)));
    assert_has(orm_schema_set_column(test_pool, &s, "data", repeat('c', 64)),
               "is too long");
    ck_assert_ptr_null(s.columns[ORM_FIELD_DATA]);
}
END_TEST

TCase *tcase_schema(void)
{
    TCase *tc = tcase_create("schema");

    tcase_add_test(tc, test_identifier_accepts);
    tcase_add_test(tc, test_identifier_rejects);
    tcase_add_test(tc, test_identifier_length_limits);
    tcase_add_test(tc, test_field_default_names);
    tcase_add_test(tc, test_field_lookup);
    tcase_add_test(tc, test_schema_defaults);
    tcase_add_test(tc, test_schema_merge);
    tcase_add_test(tc, test_schema_check_distinct);
    tcase_add_test(tc, test_set_table);
    tcase_add_test(tc, test_set_column);
    tcase_add_test(tc, test_schema_express_format);
    return tc;
}
