/* The Express format: express-session's JSON and signed cookie. Expected
 * cookies and number texts were computed independently with node 20
 * (crypto.createHmac, encodeURIComponent, String(number)). */
#include <stdarg.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "tests.h"
#include "orm_express.h"

#define EXAMPLE_SID "jDlYhD6Z-r5uOUUWxN9y4uP6qQwPPJMd"
#define EXAMPLE_COOKIE "s%3AjDlYhD6Z-r5uOUUWxN9y4uP6qQwPPJMd." \
    "8ia%2FE4CewA%2F6z3JPkPHflnlgTKOe5AOaq0NwIS68avM"
/* the same sid signed with "new secret" */
#define NEW_SECRET_COOKIE "s%3AjDlYhD6Z-r5uOUUWxN9y4uP6qQwPPJMd." \
    "cymM06PaOfdVXVHYNYG8hmBw68272s7dLoy2iYdPjrY"
#define EXAMPLE_COOKIE_MEMBER \
    "\"cookie\":{\"originalMaxAge\":null,\"expires\":null," \
    "\"httpOnly\":true,\"path\":\"/\"}"
#define EXAMPLE_JSON "{" EXAMPLE_COOKIE_MEMBER ",\"user\":\"alice\",\"visits\":0}"

static apr_array_header_t *secret_list(const char *first, const char *second)
{
    apr_array_header_t *a = apr_array_make(test_pool, 2, sizeof(char *));

    *(const char **)apr_array_push(a) = first;
    if (second != NULL) {
        *(const char **)apr_array_push(a) = second;
    }
    return a;
}

/* entries from "k", "v", ..., NULL */
static apr_table_t *entries_of(const char *key, ...)
{
    apr_table_t *t = apr_table_make(test_pool, 4);
    va_list ap;

    va_start(ap, key);
    for (; key != NULL; key = va_arg(ap, const char *)) {
        apr_table_set(t, key, va_arg(ap, const char *));
    }
    va_end(ap);
    return t;
}

static const char *encoded(const char *base, const apr_table_t *entries)
{
    const char *json = NULL, *error = NULL;
    apr_status_t rv = orm_express_encode(test_pool, base, entries, NULL,
                                         &json, NULL, &error);

    ck_assert_msg(rv == APR_SUCCESS, "encode: %s", error ? error : "?");
    return json;
}

static apr_table_t *decoded(const char *json)
{
    apr_table_t *entries = NULL;
    const char *error = NULL;

    ck_assert_msg(orm_express_decode(test_pool, json, &entries, &error)
                  == APR_SUCCESS, "decode %s: %s", json, error ? error : "?");
    return entries;
}

START_TEST(test_express_sign_worked_example)
{
    ck_assert_str_eq(orm_express_sign(test_pool, EXAMPLE_SID, "keyboard cat"),
                     EXAMPLE_COOKIE);
    ck_assert_str_eq(orm_express_sign(test_pool, EXAMPLE_SID, "new secret"),
                     NEW_SECRET_COOKIE);
    /* encodeURIComponent escapes the space and UTF-8, not '.' */
    ck_assert_str_eq(orm_express_sign(test_pool, "a.b \xc3\xa9",
                                      "keyboard cat"),
        "s%3Aa.b%20%C3%A9.vKgrU2sSWxDO3FDxcIEOqH%2Bn2XhWo4ESgEFynIFMF7k");
}
END_TEST

static const struct {
    const char *what, *cookie, *secret1, *secret2, *sid;
} unsign_cases[] = {
    { "right secret", EXAMPLE_COOKIE, "keyboard cat", NULL, EXAMPLE_SID },
    { "second secret verifies", EXAMPLE_COOKIE, "new secret", "keyboard cat",
      EXAMPLE_SID },
    { "first secret verifies", NEW_SECRET_COOKIE, "new secret",
      "keyboard cat", EXAMPLE_SID },
    { "wrong secret", EXAMPLE_COOKIE, "keyboard dog", NULL, NULL },
    { "unknown secret", NEW_SECRET_COOKIE, "keyboard cat", NULL, NULL },
    { "raw ':' as decodeURIComponent keeps it",
      "s:jDlYhD6Z-r5uOUUWxN9y4uP6qQwPPJMd."
      "8ia%2FE4CewA%2F6z3JPkPHflnlgTKOe5AOaq0NwIS68avM",
      "keyboard cat", NULL, EXAMPLE_SID },
    { "lower-case escapes", "s%3ajDlYhD6Z-r5uOUUWxN9y4uP6qQwPPJMd."
      "8ia%2fE4CewA%2f6z3JPkPHflnlgTKOe5AOaq0NwIS68avM",
      "keyboard cat", NULL, EXAMPLE_SID },
    { "missing s:", "jDlYhD6Z-r5uOUUWxN9y4uP6qQwPPJMd."
      "8ia%2FE4CewA%2F6z3JPkPHflnlgTKOe5AOaq0NwIS68avM",
      "keyboard cat", NULL, NULL },
    { "missing '.'", "s%3AjDlYhD6Z-r5uOUUWxN9y4uP6qQwPPJMd"
      "8ia%2FE4CewA%2F6z3JPkPHflnlgTKOe5AOaq0NwIS68avM",
      "keyboard cat", NULL, NULL },
    { "tampered sid", "s%3AjDlYhD6Z-r5uOUUWxN9y4uP6qQwPPJMe."
      "8ia%2FE4CewA%2F6z3JPkPHflnlgTKOe5AOaq0NwIS68avM",
      "keyboard cat", NULL, NULL },
    { "tampered signature", "s%3AjDlYhD6Z-r5uOUUWxN9y4uP6qQwPPJMd."
      "8ia%2FE4CewA%2F6z3JPkPHflnlgTKOe5AOaq0NwIS68avN",
      "keyboard cat", NULL, NULL },
    { "truncated signature", "s%3AjDlYhD6Z-r5uOUUWxN9y4uP6qQwPPJMd."
      "8ia%2FE4CewA%2F6z3JPkPHflnlgTKOe5AOaq0NwIS68av",
      "keyboard cat", NULL, NULL },
    { "padded signature", EXAMPLE_COOKIE "%3D", "keyboard cat", NULL, NULL },
    { "bad escape", "s%3AjDlYhD6Z-r5uOUUWxN9y4uP6qQwPPJMd."
      "8ia%2GE4CewA%2F6z3JPkPHflnlgTKOe5AOaq0NwIS68avM",
      "keyboard cat", NULL, NULL },
    { "escape cut short", EXAMPLE_COOKIE "%3", "keyboard cat", NULL, NULL },
    { "escape not UTF-8", "s%3A%FF.abc", "keyboard cat", NULL, NULL },
    { "empty sid", "s%3A.abc", "keyboard cat", NULL, NULL },
    { "nothing", "", "keyboard cat", NULL, NULL },
    { "only s:", "s%3A", "keyboard cat", NULL, NULL },
    { "space inside", "s%3AjDlYhD6Z-r5uOUUWxN9y4uP6qQwPPJMd ."
      "8ia%2FE4CewA%2F6z3JPkPHflnlgTKOe5AOaq0NwIS68avM",
      "keyboard cat", NULL, NULL },
};

START_TEST(test_express_unsign_cases)
{
    size_t i;

    for (i = 0; i < sizeof(unsign_cases) / sizeof(unsign_cases[0]); i++) {
        const char *sid = orm_express_unsign(test_pool, unsign_cases[i].cookie,
                              secret_list(unsign_cases[i].secret1,
                                          unsign_cases[i].secret2));
        if (unsign_cases[i].sid == NULL) {
            ck_assert_msg(sid == NULL, "%s: accepted as %s",
                          unsign_cases[i].what, sid);
        }
        else {
            ck_assert_msg(sid != NULL && !strcmp(sid, unsign_cases[i].sid),
                          "%s: got %s", unsign_cases[i].what,
                          sid ? sid : "NULL");
        }
    }
}
END_TEST

START_TEST(test_express_unsign_roundtrip_and_limits)
{
    apr_array_header_t *secrets = secret_list("s1", "s2");
    char long_sid[ORM_EXPRESS_SID_MAX + 2];
    const char *odd = "a.b.c %\xc3\xa9:/+";
    const char *sid;

    /* the last '.' ends the sid */
    sid = orm_express_unsign(test_pool, orm_express_sign(test_pool, odd, "s2"),
                             secrets);
    ck_assert_ptr_nonnull(sid);
    ck_assert_str_eq(sid, odd);
    memset(long_sid, 'x', sizeof(long_sid));
    long_sid[ORM_EXPRESS_SID_MAX] = '\0';
    sid = orm_express_unsign(test_pool,
                             orm_express_sign(test_pool, long_sid, "s1"),
                             secrets);
    ck_assert_ptr_nonnull(sid);
    long_sid[ORM_EXPRESS_SID_MAX] = 'x';
    long_sid[ORM_EXPRESS_SID_MAX + 1] = '\0';
    ck_assert_ptr_null(orm_express_unsign(test_pool,
                       orm_express_sign(test_pool, long_sid, "s1"), secrets));
    /* a sid with %00 is no C string */
    ck_assert_ptr_null(orm_express_unsign(test_pool, "s%3Aa%00b.x", secrets));
    /* no secrets: nothing verifies */
    ck_assert_ptr_null(orm_express_unsign(test_pool, EXAMPLE_COOKIE,
                       apr_array_make(test_pool, 0, sizeof(char *))));
}
END_TEST

static apr_status_t fake_counting(unsigned char *buf, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        buf[i] = (unsigned char)(i * 11);
    }
    return APR_SUCCESS;
}

static apr_status_t fake_failing(unsigned char *buf, apr_size_t len)
{
    (void)buf;
    (void)len;
    return APR_ENOTIMPL;
}

START_TEST(test_express_new_sid)
{
    const char *a = NULL, *b = NULL, *fixed = NULL;
    size_t i;

    ck_assert_int_eq(orm_express_new_sid(test_pool, fake_counting, &fixed),
                     APR_SUCCESS);
    /* base64url of 00 0b 16 ... (Python: urlsafe_b64encode, unpadded) */
    ck_assert_str_eq(fixed, "AAsWISw3Qk1YY255hI-apbC7xtHc5_L9");
    ck_assert_int_eq(orm_express_new_sid(test_pool, apr_generate_random_bytes,
                                         &a), APR_SUCCESS);
    ck_assert_int_eq(orm_express_new_sid(test_pool, apr_generate_random_bytes,
                                         &b), APR_SUCCESS);
    ck_assert_uint_eq(strlen(a), ORM_EXPRESS_SID_LEN);
    ck_assert_uint_eq(strlen(b), ORM_EXPRESS_SID_LEN);
    ck_assert_str_ne(a, b);
    for (i = 0; i < ORM_EXPRESS_SID_LEN; i++) {
        ck_assert_msg(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
                             "wxyz0123456789-_", a[i]) != NULL,
                      "character %zu of %s", i, a);
    }
    ck_assert_int_eq(orm_express_new_sid(test_pool, fake_failing, &b),
                     APR_ENOTIMPL);
    ck_assert_int_eq(orm_random_base64url(test_pool, fake_counting,
                                          ORM_RANDOM_MAX_BYTES + 1, &b),
                     APR_EINVAL);
}
END_TEST

START_TEST(test_express_decode_example)
{
    apr_table_t *e = decoded(EXAMPLE_JSON);

    ck_assert_int_eq(apr_table_elts(e)->nelts, 2);
    ck_assert_str_eq(apr_table_get(e, "user"), "alice");
    ck_assert_str_eq(apr_table_get(e, "visits"), "0");
    ck_assert_ptr_null(apr_table_get(e, "cookie"));
    /* unchanged entries write back the same JSON */
    ck_assert_str_eq(encoded(EXAMPLE_JSON, e), EXAMPLE_JSON);
}
END_TEST

/* JSON as JSON.stringify writes it: decode then encode gives it back byte
 * for byte. */
static const char *const roundtrip_cases[] = {
    EXAMPLE_JSON,
    "{}",
    "{\"a\":[1,\"x\",null,{\"b\":[]}],\"n\":null,\"o\":{},\"t\":true,"
    "\"f\":false}",
    "{\"r\":0.1,\"e\":1e+21,\"s\":1.5e-7,\"m\":-1.25,\"big\":"
    "12345678901234567000,\"p\":[0.30000000000000004,5e-324]}",
    "{\"u\":\"Jos\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\","
    "\"esc\":\"a/b\\n\\t\\\"\\\\\x7f\"}",
    "{\"nul\":\"x\\u0000y\",\"after\":\"z\"}",
    "{\"passport\":{\"user\":\"alice\"},\"cookie\":{\"originalMaxAge\":"
    "3600000,\"expires\":\"2026-11-27T10:00:00.000Z\",\"secure\":true,"
    "\"httpOnly\":true,\"path\":\"/\",\"sameSite\":\"lax\"},\"x\":\"\"}",
};

START_TEST(test_express_roundtrip)
{
    size_t i;

    for (i = 0; i < sizeof(roundtrip_cases) / sizeof(roundtrip_cases[0]);
         i++) {
        const char *json = roundtrip_cases[i];
        apr_table_t *e = decoded(json);
        const char *again = encoded(json, e);

        ck_assert_str_eq(again, json);
        ck_assert_int_eq(apr_table_elts(decoded(again))->nelts,
                         apr_table_elts(e)->nelts);
    }
}
END_TEST

/* the entry text of a JSON number: String(number) in node */
static const struct {
    const char *json, *text;
} number_cases[] = {
    { "0", "0" }, { "-0", "0" }, { "1.0", "1" }, { "0.1", "0.1" },
    { "1e21", "1e+21" }, { "1e20", "100000000000000000000" },
    { "1.5e-7", "1.5e-7" }, { "0.000001", "0.000001" }, { "1e-7", "1e-7" },
    { "123.456", "123.456" }, { "5e-324", "5e-324" },
    { "1.7976931348623157e308", "1.7976931348623157e+308" },
    { "-1.25", "-1.25" }, { "12345678901234567890", "12345678901234567000" },
    { "0.30000000000000004", "0.30000000000000004" },
    { "123e-20", "1.23e-18" }, { "42", "42" }, { "-7", "-7" },
};

START_TEST(test_express_number_texts)
{
    size_t i;

    for (i = 0; i < sizeof(number_cases) / sizeof(number_cases[0]); i++) {
        const char *json = apr_pstrcat(test_pool, "{\"n\":",
                                       number_cases[i].json, "}", NULL);
        ck_assert_str_eq(apr_table_get(decoded(json), "n"),
                         number_cases[i].text);
    }
    ck_assert_str_eq(apr_table_get(decoded("{\"t\":true}"), "t"), "true");
    ck_assert_str_eq(apr_table_get(decoded("{\"f\":false}"), "f"), "false");
}
END_TEST

#define TYPED_BASE "{\"n\":1,\"r\":1.5,\"b\":true,\"s\":\"x\"}"

/* one entry changed on TYPED_BASE, and the JSON that gives */
static const struct {
    const char *key, *value, *json;
} typed_cases[] = {
    { "n", "2", "{\"n\":2,\"r\":1.5,\"b\":true,\"s\":\"x\"}" },
    { "n", "-0.5", "{\"n\":-0.5,\"r\":1.5,\"b\":true,\"s\":\"x\"}" },
    { "n", "x", "{\"n\":\"x\",\"r\":1.5,\"b\":true,\"s\":\"x\"}" },
    { "n", "1.0", "{\"n\":\"1.0\",\"r\":1.5,\"b\":true,\"s\":\"x\"}" },
    { "n", " 2", "{\"n\":\" 2\",\"r\":1.5,\"b\":true,\"s\":\"x\"}" },
    { "n", "1e3", "{\"n\":\"1e3\",\"r\":1.5,\"b\":true,\"s\":\"x\"}" },
    { "n", "", "{\"n\":\"\",\"r\":1.5,\"b\":true,\"s\":\"x\"}" },
    { "r", "7", "{\"n\":1,\"r\":7,\"b\":true,\"s\":\"x\"}" },
    { "b", "false", "{\"n\":1,\"r\":1.5,\"b\":false,\"s\":\"x\"}" },
    { "b", "no", "{\"n\":1,\"r\":1.5,\"b\":\"no\",\"s\":\"x\"}" },
    { "b", "1", "{\"n\":1,\"r\":1.5,\"b\":\"1\",\"s\":\"x\"}" },
    { "s", "5", "{\"n\":1,\"r\":1.5,\"b\":true,\"s\":\"5\"}" },
    { "s", "true", "{\"n\":1,\"r\":1.5,\"b\":true,\"s\":\"true\"}" },
};

START_TEST(test_express_type_keeping)
{
    size_t i;

    for (i = 0; i < sizeof(typed_cases) / sizeof(typed_cases[0]); i++) {
        apr_table_t *e = decoded(TYPED_BASE);
        const char *json;

        apr_table_set(e, typed_cases[i].key, typed_cases[i].value);
        json = encoded(TYPED_BASE, e);
        ck_assert_msg(!strcmp(json, typed_cases[i].json),
                      "%s=%s gave %s", typed_cases[i].key,
                      typed_cases[i].value, json);
        /* and decoding it gives the entries back */
        ck_assert_str_eq(apr_table_get(decoded(json), typed_cases[i].key),
                         typed_cases[i].value);
    }
    /* the example's counter: 0 -> "1" stays a number */
    ck_assert_str_eq(encoded(EXAMPLE_JSON, entries_of("user", "alice",
                                                      "visits", "1", NULL)),
                     "{" EXAMPLE_COOKIE_MEMBER
                     ",\"user\":\"alice\",\"visits\":1}");
}
END_TEST

START_TEST(test_express_remove_and_append)
{
    ck_assert_str_eq(encoded(EXAMPLE_JSON, entries_of("visits", "0", NULL)),
                     "{" EXAMPLE_COOKIE_MEMBER ",\"visits\":0}");
    ck_assert_str_eq(encoded(EXAMPLE_JSON, entries_of(NULL)),
                     "{" EXAMPLE_COOKIE_MEMBER "}");
    /* new keys after the stored ones, in the table's order, as strings */
    ck_assert_str_eq(encoded(EXAMPLE_JSON,
                             entries_of("z", "1", "visits", "3", "a", "true",
                                        "user", "bob", NULL)),
                     "{" EXAMPLE_COOKIE_MEMBER ",\"user\":\"bob\","
                     "\"visits\":3,\"z\":\"1\",\"a\":\"true\"}");
}
END_TEST

START_TEST(test_express_shadowed)
{
    const char *base = "{\"cookie\":{\"path\":\"/\"},\"z\":null,\"a\":[1],"
                       "\"nul\":\"a\\u0000\",\"k\":\"v\"}";
    apr_array_header_t *shadowed = NULL;
    const char *json = NULL, *error = NULL;

    ck_assert_int_eq(orm_express_encode(test_pool, base,
                         entries_of("cookie", "x", "z", "1", "a", "2",
                                    "nul", "3", "k", "w", NULL),
                         NULL, &json, &shadowed, &error), APR_SUCCESS);
    ck_assert_str_eq(json, "{\"cookie\":{\"path\":\"/\"},\"z\":null,"
                     "\"a\":[1],\"nul\":\"a\\u0000\",\"k\":\"w\"}");
    ck_assert_int_eq(shadowed->nelts, 4);
    ck_assert_str_eq(APR_ARRAY_IDX(shadowed, 0, const char *), "cookie");
    ck_assert_str_eq(APR_ARRAY_IDX(shadowed, 1, const char *), "z");
    ck_assert_str_eq(APR_ARRAY_IDX(shadowed, 2, const char *), "a");
    ck_assert_str_eq(APR_ARRAY_IDX(shadowed, 3, const char *), "nul");
    /* nothing shadowed: an empty array */
    ck_assert_int_eq(orm_express_encode(test_pool, EXAMPLE_JSON,
                         entries_of("user", "x", NULL), NULL, &json,
                         &shadowed, &error), APR_SUCCESS);
    ck_assert_int_eq(shadowed->nelts, 0);
}
END_TEST

START_TEST(test_express_case_groups)
{
    const char *base = "{\"a\":1,\"A\":\"two\",\"User\":\"x\"}";
    apr_table_t *e = decoded(base);
    apr_array_header_t *shadowed = NULL;
    const char *json = NULL, *error = NULL;

    /* apr_table would merge a and A: neither is an entry */
    ck_assert_int_eq(apr_table_elts(e)->nelts, 1);
    ck_assert_str_eq(apr_table_get(e, "user"), "x");
    ck_assert_str_eq(encoded(base, e), base);
    /* setting "a" changes neither; "USER" sets the member as stored */
    ck_assert_int_eq(orm_express_encode(test_pool, base,
                         entries_of("a", "3", "USER", "y", NULL), NULL,
                         &json, &shadowed, &error), APR_SUCCESS);
    ck_assert_str_eq(json, "{\"a\":1,\"A\":\"two\",\"User\":\"y\"}");
    ck_assert_int_eq(shadowed->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(shadowed, 0, const char *), "a");
}
END_TEST

START_TEST(test_express_fresh_session)
{
    orm_express_new_t fresh = { 0 };
    const char *json = NULL, *error = NULL;

    ck_assert_str_eq(encoded(NULL, entries_of("user", "bob", NULL)),
                     "{" EXAMPLE_COOKIE_MEMBER ",\"user\":\"bob\"}");
    fresh.max_age_ms = 3600000;
    fresh.expires_ms = APR_INT64_C(1795773600000);
    ck_assert_int_eq(orm_express_encode(test_pool, NULL,
                         entries_of("user", "bob", NULL), &fresh, &json,
                         NULL, &error), APR_SUCCESS);
    ck_assert_str_eq(json, "{\"cookie\":{\"originalMaxAge\":3600000,"
                     "\"expires\":\"2026-11-27T10:00:00.000Z\","
                     "\"httpOnly\":true,\"path\":\"/\"},\"user\":\"bob\"}");
    fresh.expires_ms += 7;
    fresh.secure = 1;
    fresh.http_only_off = 1;
    fresh.domain = "example.org";
    fresh.path = "/app";
    fresh.same_site = "lax";
    ck_assert_int_eq(orm_express_encode(test_pool, NULL,
                         entries_of(NULL), &fresh, &json, NULL, &error),
                     APR_SUCCESS);
    ck_assert_str_eq(json, "{\"cookie\":{\"originalMaxAge\":3600000,"
                     "\"expires\":\"2026-11-27T10:00:00.007Z\","
                     "\"secure\":true,\"httpOnly\":false,"
                     "\"domain\":\"example.org\",\"path\":\"/app\","
                     "\"sameSite\":\"lax\"}}");
    /* an entry named cookie does not replace the fresh one */
    ck_assert_str_eq(encoded(NULL, entries_of("cookie", "x", NULL)),
                     "{" EXAMPLE_COOKIE_MEMBER "}");
}
END_TEST

static const struct {
    const char *json, *error_part;
} invalid_cases[] = {
    { "", "invalid JSON" }, { "{", "line 1" },
    { "{\"a\":}", "column" }, { "{\"a\":1}x", "invalid JSON" },
    { "{\"a\":\"\xff\"}", "invalid JSON" }, { "{\"a\":1e400}", "invalid JSON" },
    { "[1]", "an array, not an object" },
    { "\"s\"", "a string, not an object" },
    { "1", "a number, not an object" }, { "true", "a boolean" },
    { "null", "null, not an object" },
};

START_TEST(test_express_invalid_json)
{
    size_t i;

    for (i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
        apr_table_t *e = NULL;
        const char *json = NULL, *error = NULL;

        ck_assert_int_eq(orm_express_decode(test_pool, invalid_cases[i].json,
                                            &e, &error), APR_EINVAL);
        ck_assert_msg(error && strstr(error, invalid_cases[i].error_part),
                      "%s: error %s", invalid_cases[i].json, error);
        error = NULL;
        ck_assert_int_eq(orm_express_encode(test_pool, invalid_cases[i].json,
                             entries_of(NULL), NULL, &json, NULL, &error),
                         APR_EINVAL);
        ck_assert_ptr_nonnull(error);
    }
}
END_TEST

START_TEST(test_express_invalid_utf8)
{
    const char *json = NULL, *error = NULL;

    ck_assert_int_eq(orm_express_encode(test_pool, EXAMPLE_JSON,
                         entries_of("user", "bad\xc3(", NULL), NULL, &json,
                         NULL, &error), APR_EINVAL);
    ck_assert_str_eq(error, "the value of session key \"user\" is not valid "
                     "UTF-8");
    ck_assert_int_eq(orm_express_encode(test_pool, NULL,
                         entries_of("k\xff", "v", NULL), NULL, &json, NULL,
                         &error), APR_EINVAL);
    ck_assert_str_eq(error, "session key \"k\\xff\" is not valid UTF-8");
    /* a surrogate encoded in UTF-8 is not UTF-8 either */
    ck_assert_int_eq(orm_express_encode(test_pool, NULL,
                         entries_of("k", "\xed\xa0\x80", NULL), NULL, &json,
                         NULL, &error), APR_EINVAL);
}
END_TEST

/* AuthType session-orm's dotted paths: strings and numbers (as entries
 * write them) are found; objects, booleans, null, a missing step, a path
 * through a non-object and JSON that is no object give NULL. */
START_TEST(test_express_lookup)
{
    static const char *json = "{\"user\":\"alice\",\"passport\":{"
        "\"user\":\"dave\",\"id\":42,\"score\":1.5,\"ok\":true,"
        "\"none\":null},\"list\":[\"x\"]}";
    static const struct {
        const char *path, *expected;
    } cases[] = {
        { "user", "alice" },
        { "passport.user", "dave" },
        { "passport.id", "42" },
        { "passport.score", "1.5" },
        { "passport", NULL },
        { "passport.ok", NULL },
        { "passport.none", NULL },
        { "passport.missing", NULL },
        { "user.name", NULL },
        { "list", NULL },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *found = orm_express_lookup(test_pool, json,
                                               cases[i].path);
        if (cases[i].expected) {
            ck_assert_msg(found && !strcmp(found, cases[i].expected),
                          "%s gave %s", cases[i].path, found ? found : "NULL");
        }
        else {
            ck_assert_msg(found == NULL, "%s gave %s", cases[i].path, found);
        }
    }
    ck_assert_ptr_null(orm_express_lookup(test_pool, "[1]", "0"));
    ck_assert_ptr_null(orm_express_lookup(test_pool, "{", "user"));
    ck_assert_ptr_null(orm_express_lookup(test_pool, NULL, "user"));
}
END_TEST

START_TEST(test_express_unicode)
{
    const char *name = "Jos\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80";
    const char *json = encoded(NULL, entries_of("name", name,
                                                "k\xc3\xa9y", "/\"\\", NULL));

    /* UTF-8 as is, not \u-escaped; '/' not escaped */
    ck_assert_str_eq(json, apr_pstrcat(test_pool, "{" EXAMPLE_COOKIE_MEMBER
                     ",\"name\":\"", name, "\",\"k\xc3\xa9y\":\"/\\\"\\\\\"}",
                     NULL));
    ck_assert_str_eq(apr_table_get(decoded(json), "name"), name);
    ck_assert_str_eq(apr_table_get(decoded(json), "k\xc3\xa9y"), "/\"\\");
}
END_TEST

TCase *tcase_express(void)
{
    TCase *tc = tcase_create("express");

    tcase_add_test(tc, test_express_sign_worked_example);
    tcase_add_test(tc, test_express_unsign_cases);
    tcase_add_test(tc, test_express_unsign_roundtrip_and_limits);
    tcase_add_test(tc, test_express_new_sid);
    tcase_add_test(tc, test_express_decode_example);
    tcase_add_test(tc, test_express_roundtrip);
    tcase_add_test(tc, test_express_number_texts);
    tcase_add_test(tc, test_express_type_keeping);
    tcase_add_test(tc, test_express_remove_and_append);
    tcase_add_test(tc, test_express_shadowed);
    tcase_add_test(tc, test_express_case_groups);
    tcase_add_test(tc, test_express_fresh_session);
    tcase_add_test(tc, test_express_invalid_json);
    tcase_add_test(tc, test_express_invalid_utf8);
    tcase_add_test(tc, test_express_unicode);
    tcase_add_test(tc, test_express_lookup);
    return tc;
}
