/* Cookie name check, attribute parsing and the Set-Cookie value. */
#include <string.h>
#include <apr_strings.h>

#include "tests.h"
#include "orm_cookie.h"

static orm_cookie_attrs_t fresh(void)
{
    orm_cookie_attrs_t a;
    memset(&a, 0x5a, sizeof(a));    /* init must set every member */
    orm_cookie_attrs_init(&a);
    return a;
}

/* Parses arg into fresh attributes; fails the test on an error. */
static orm_cookie_attrs_t parsed(const char *arg)
{
    orm_cookie_attrs_t a = fresh();
    const char *err = orm_cookie_attrs_parse(test_pool, arg, &a);
    ck_assert_msg(err == NULL, "'%s' rejected: %s", arg, err);
    return a;
}

static void assert_rejected(const char *arg)
{
    orm_cookie_attrs_t a = fresh();
    const char *err = orm_cookie_attrs_parse(test_pool, arg, &a);
    ck_assert_msg(err != NULL, "'%s' accepted", arg);
    ck_assert_msg(strlen(err) > 0, "empty error text for '%s'", arg);
}

static void assert_untouched_except(const orm_cookie_attrs_t *a,
                                    const char *which)
{
    if (!strchr(which, 'p')) ck_assert_ptr_null(a->path);
    if (!strchr(which, 'd')) ck_assert_ptr_null(a->domain);
    if (!strchr(which, 's')) ck_assert_ptr_null(a->same_site);
    if (!strchr(which, 'h')) ck_assert_int_eq(a->http_only, ORM_FLAG_UNSET);
    if (!strchr(which, 'S')) ck_assert_int_eq(a->secure, ORM_FLAG_UNSET);
}

START_TEST(test_cookie_name_check)
{
    static const char *const good[] = {
        "session", "SESSION_ID", "s", "sess-id", "a.b", "x1",
        "!#$%&'*+-.^_`|~", "__Host-session", "__Secure-sid"
    };
    static const char *const bad[] = {
        "", "a;b", "a=b", "a b", " a", "a ", "a,b", "a\"b", "a\tb", "(a)",
        "a<b", "a>b", "a@b", "a:b", "a\\b", "a/b", "a[b]", "a?b", "a{b}",
        "a\x7f", "a\x01", "a\r\nSet-Cookie: x", "caf\xc3\xa9", "\xff"
    };
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ck_assert_msg(orm_cookie_name_check(good[i]) == NULL,
                      "'%s' rejected", good[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(orm_cookie_name_check(bad[i]) != NULL,
                      "'%s' accepted", bad[i]);
    }
    ck_assert_ptr_nonnull(orm_cookie_name_check(NULL));
}
END_TEST

START_TEST(test_cookie_attrs_init)
{
    orm_cookie_attrs_t a = fresh();
    assert_untouched_except(&a, "");
}
END_TEST

START_TEST(test_cookie_attrs_each)
{
    orm_cookie_attrs_t a;

    a = parsed("Path=/app");
    ck_assert_str_eq(a.path, "/app");
    assert_untouched_except(&a, "p");

    a = parsed("Path=/");
    ck_assert_str_eq(a.path, "/");

    a = parsed("Path=/a/b-c_d.e");
    ck_assert_str_eq(a.path, "/a/b-c_d.e");

    a = parsed("Domain=example.com");
    ck_assert_str_eq(a.domain, "example.com");
    assert_untouched_except(&a, "d");

    a = parsed("Domain=.example.org");
    ck_assert_str_eq(a.domain, ".example.org");

    a = parsed("SameSite=Strict");
    ck_assert_str_eq(a.same_site, "Strict");
    assert_untouched_except(&a, "s");
    a = parsed("SameSite=Lax");
    ck_assert_str_eq(a.same_site, "Lax");
    a = parsed("SameSite=None");
    ck_assert_str_eq(a.same_site, "None");

    a = parsed("Secure");
    ck_assert_int_eq(a.secure, ORM_FLAG_ON);
    assert_untouched_except(&a, "S");
    a = parsed("Secure=On");
    ck_assert_int_eq(a.secure, ORM_FLAG_ON);
    a = parsed("Secure=Off");
    ck_assert_int_eq(a.secure, ORM_FLAG_OFF);
    assert_untouched_except(&a, "S");

    a = parsed("HttpOnly");
    ck_assert_int_eq(a.http_only, ORM_FLAG_ON);
    assert_untouched_except(&a, "h");
    a = parsed("HttpOnly=On");
    ck_assert_int_eq(a.http_only, ORM_FLAG_ON);
    a = parsed("HttpOnly=Off");
    ck_assert_int_eq(a.http_only, ORM_FLAG_OFF);
    assert_untouched_except(&a, "h");
}
END_TEST

START_TEST(test_cookie_attrs_case_insensitive)
{
    orm_cookie_attrs_t a;

    a = parsed("path=/x");
    ck_assert_str_eq(a.path, "/x");
    a = parsed("PATH=/x");
    ck_assert_str_eq(a.path, "/x");
    a = parsed("domain=example.com");
    ck_assert_str_eq(a.domain, "example.com");
    a = parsed("SAMESITE=strict");
    ck_assert_str_eq(a.same_site, "Strict");    /* canonical spelling */
    a = parsed("samesite=NONE");
    ck_assert_str_eq(a.same_site, "None");
    a = parsed("sameSite=lAx");
    ck_assert_str_eq(a.same_site, "Lax");
    a = parsed("secure");
    ck_assert_int_eq(a.secure, ORM_FLAG_ON);
    a = parsed("SECURE=off");
    ck_assert_int_eq(a.secure, ORM_FLAG_OFF);
    a = parsed("secure=ON");
    ck_assert_int_eq(a.secure, ORM_FLAG_ON);
    a = parsed("httponly");
    ck_assert_int_eq(a.http_only, ORM_FLAG_ON);
    a = parsed("HTTPONLY=OFF");
    ck_assert_int_eq(a.http_only, ORM_FLAG_OFF);
    /* values other than SameSite's and the flags keep their case */
    a = parsed("Path=/MixedCase");
    ck_assert_str_eq(a.path, "/MixedCase");
}
END_TEST

START_TEST(test_cookie_attrs_multiple)
{
    orm_cookie_attrs_t a;

    a = parsed("Path=/x;HttpOnly=Off;SameSite=Strict");
    ck_assert_str_eq(a.path, "/x");
    ck_assert_int_eq(a.http_only, ORM_FLAG_OFF);
    ck_assert_str_eq(a.same_site, "Strict");
    assert_untouched_except(&a, "phs");

    a = parsed("Secure;HttpOnly;Domain=example.com;Path=/p;SameSite=None");
    ck_assert_int_eq(a.secure, ORM_FLAG_ON);
    ck_assert_int_eq(a.http_only, ORM_FLAG_ON);
    ck_assert_str_eq(a.domain, "example.com");
    ck_assert_str_eq(a.path, "/p");
    ck_assert_str_eq(a.same_site, "None");

    /* white space around the separators, as in a Set-Cookie header */
    a = parsed("Path=/x; Secure=Off; SameSite=Lax");
    ck_assert_str_eq(a.path, "/x");
    ck_assert_int_eq(a.secure, ORM_FLAG_OFF);
    ck_assert_str_eq(a.same_site, "Lax");

    /* empty items are harmless */
    a = parsed("Secure;;HttpOnly=Off;");
    ck_assert_int_eq(a.secure, ORM_FLAG_ON);
    ck_assert_int_eq(a.http_only, ORM_FLAG_OFF);
    a = parsed("");
    assert_untouched_except(&a, "");

    /* an error anywhere in the list rejects it */
    assert_rejected("Path=/x;Bogus=1;Secure");
    assert_rejected("Secure;Max-Age=5");
}
END_TEST

START_TEST(test_cookie_attrs_later_overrides)
{
    orm_cookie_attrs_t a = fresh();

    a = parsed("SameSite=Strict;SameSite=None");
    ck_assert_str_eq(a.same_site, "None");
    a = parsed("Secure;Secure=Off");
    ck_assert_int_eq(a.secure, ORM_FLAG_OFF);
    a = parsed("HttpOnly=Off;HttpOnly");
    ck_assert_int_eq(a.http_only, ORM_FLAG_ON);
    a = parsed("Path=/a;Path=/b");
    ck_assert_str_eq(a.path, "/b");

    /* across calls (one per directive argument): only named ones change */
    a = fresh();
    ck_assert_ptr_null(orm_cookie_attrs_parse(test_pool,
                       "Path=/a;Secure;SameSite=Strict", &a));
    ck_assert_ptr_null(orm_cookie_attrs_parse(test_pool, "Secure=Off", &a));
    ck_assert_ptr_null(orm_cookie_attrs_parse(test_pool, "Domain=d.example",
                                              &a));
    ck_assert_int_eq(a.secure, ORM_FLAG_OFF);
    ck_assert_str_eq(a.path, "/a");
    ck_assert_str_eq(a.same_site, "Strict");
    ck_assert_str_eq(a.domain, "d.example");
    ck_assert_int_eq(a.http_only, ORM_FLAG_UNSET);
}
END_TEST

START_TEST(test_cookie_attrs_parse_does_not_alias_arg)
{
    char arg[32];
    orm_cookie_attrs_t a = fresh();

    strcpy(arg, "Path=/keep;Domain=x.example");
    ck_assert_ptr_null(orm_cookie_attrs_parse(test_pool, arg, &a));
    /* the caller's buffer is left intact and may be reused */
    ck_assert_str_eq(arg, "Path=/keep;Domain=x.example");
    memset(arg, 'Z', sizeof(arg) - 1);
    ck_assert_str_eq(a.path, "/keep");
    ck_assert_str_eq(a.domain, "x.example");
}
END_TEST

START_TEST(test_cookie_attrs_rejects_lifetime)
{
    assert_rejected("Max-Age=3600");
    assert_rejected("max-age=0");
    assert_rejected("MAX-AGE=1");
    assert_rejected("Max-Age");
    assert_rejected("Expires=Wed, 21 Oct 2015 07:28:00 GMT");
    assert_rejected("Expires=Wed");
    assert_rejected("expires=0");
    assert_rejected("Expires");
}
END_TEST

START_TEST(test_cookie_attrs_rejects_unknown_and_bad_values)
{
    /* unknown attributes */
    assert_rejected("Bogus");
    assert_rejected("Bogus=1");
    assert_rejected("Partitioned");
    assert_rejected("Priority=High");
    assert_rejected("=x");
    /* SameSite */
    assert_rejected("SameSite=Bogus");
    assert_rejected("SameSite=");
    assert_rejected("SameSite");
    assert_rejected("SameSite=Strictly");
    assert_rejected("SameSite=Lax,None");
    /* Path */
    assert_rejected("Path=app");
    assert_rejected("Path=");
    assert_rejected("Path");
    assert_rejected("Path=./x");
    assert_rejected("Path=/a,b");
    assert_rejected("Path=/a\"b");
    assert_rejected("Path=\"/a\"");
    assert_rejected("Path=/a\x01" "b");
    assert_rejected("Path=/caf\xc3\xa9");
    /* Domain */
    assert_rejected("Domain");
    assert_rejected("Domain=");
    assert_rejected("Domain=a,b.example");
    assert_rejected("Domain=\"example.com\"");
    /* flags take On or Off only */
    assert_rejected("Secure=yes");
    assert_rejected("Secure=1");
    assert_rejected("Secure=");
    assert_rejected("HttpOnly=true");
    assert_rejected("HttpOnly=0");
}
END_TEST

/* A value goes verbatim into Set-Cookie: white space inside it must be
 * rejected, not silently removed. */
START_TEST(test_cookie_attrs_rejects_space_in_value)
{
    assert_rejected("Path=/my app");
    assert_rejected("Domain=exa mple.com");
    assert_rejected("Path=/a\tb");
    assert_rejected("SameSite=St rict");
}
END_TEST

START_TEST(test_cookie_header_defaults)
{
    orm_cookie_attrs_t a = fresh();

    ck_assert_str_eq(orm_cookie_header(test_pool, "sid", "TOKEN", &a, 3600, 0),
                     "sid=TOKEN; Max-Age=3600; Path=/; SameSite=Lax; HttpOnly");
    ck_assert_str_eq(orm_cookie_header(test_pool, "sid", "TOKEN", &a, 3600, 1),
                     "sid=TOKEN; Max-Age=3600; Path=/; SameSite=Lax; HttpOnly; "
                     "Secure");
    ck_assert_str_eq(orm_cookie_header(test_pool, "s", "v", &a, 86400, 0),
                     "s=v; Max-Age=86400; Path=/; SameSite=Lax; HttpOnly");
    /* 64-bit Max-Age */
    ck_assert_str_eq(orm_cookie_header(test_pool, "s", "v", &a,
                                       APR_INT64_C(316224000), 0),
                     "s=v; Max-Age=316224000; Path=/; SameSite=Lax; HttpOnly");
    ck_assert_str_eq(orm_cookie_header(test_pool, "s", "v", &a,
                                       APR_INT64_C(5000000000), 0),
                     "s=v; Max-Age=5000000000; Path=/; SameSite=Lax; HttpOnly");
    /* no Domain unless set */
    ck_assert_ptr_null(strstr(orm_cookie_header(test_pool, "s", "v", &a, 1, 1),
                              "Domain"));
}
END_TEST

START_TEST(test_cookie_header_overrides_keep_other_defaults)
{
    orm_cookie_attrs_t a;

    a = parsed("Path=/app");
    ck_assert_str_eq(orm_cookie_header(test_pool, "sid", "T", &a, 60, 0),
                     "sid=T; Max-Age=60; Path=/app; SameSite=Lax; HttpOnly");
    ck_assert_str_eq(orm_cookie_header(test_pool, "sid", "T", &a, 60, 1),
                     "sid=T; Max-Age=60; Path=/app; SameSite=Lax; HttpOnly; "
                     "Secure");

    a = parsed("SameSite=Strict");
    ck_assert_str_eq(orm_cookie_header(test_pool, "sid", "T", &a, 60, 0),
                     "sid=T; Max-Age=60; Path=/; SameSite=Strict; HttpOnly");

    a = parsed("SameSite=None");
    ck_assert_str_eq(orm_cookie_header(test_pool, "sid", "T", &a, 60, 1),
                     "sid=T; Max-Age=60; Path=/; SameSite=None; HttpOnly; "
                     "Secure");

    a = parsed("HttpOnly=Off");
    ck_assert_str_eq(orm_cookie_header(test_pool, "sid", "T", &a, 60, 0),
                     "sid=T; Max-Age=60; Path=/; SameSite=Lax");
    a = parsed("HttpOnly");
    ck_assert_str_eq(orm_cookie_header(test_pool, "sid", "T", &a, 60, 0),
                     "sid=T; Max-Age=60; Path=/; SameSite=Lax; HttpOnly");

    a = parsed("Domain=example.com");
    ck_assert_str_eq(orm_cookie_header(test_pool, "sid", "T", &a, 60, 0),
                     "sid=T; Max-Age=60; Path=/; Domain=example.com; "
                     "SameSite=Lax; HttpOnly");

    a = parsed("Path=/p;Domain=d.example;SameSite=Strict;HttpOnly=Off;Secure");
    ck_assert_str_eq(orm_cookie_header(test_pool, "sid", "T", &a, 60, 0),
                     "sid=T; Max-Age=60; Path=/p; Domain=d.example; "
                     "SameSite=Strict; Secure");
}
END_TEST

START_TEST(test_cookie_header_secure)
{
    orm_cookie_attrs_t a;
    const char *h;

    /* Secure=Off: never, even on HTTPS */
    a = parsed("Secure=Off");
    h = orm_cookie_header(test_pool, "sid", "T", &a, 60, 1);
    ck_assert_str_eq(h, "sid=T; Max-Age=60; Path=/; SameSite=Lax; HttpOnly");
    ck_assert_ptr_null(strstr(h, "Secure"));
    ck_assert_str_eq(orm_cookie_header(test_pool, "sid", "T", &a, 60, 0), h);

    /* Secure / Secure=On: always, even on plain HTTP */
    a = parsed("Secure");
    ck_assert_str_eq(orm_cookie_header(test_pool, "sid", "T", &a, 60, 0),
                     "sid=T; Max-Age=60; Path=/; SameSite=Lax; HttpOnly; "
                     "Secure");
    a = parsed("Secure=On");
    ck_assert_str_eq(orm_cookie_header(test_pool, "sid", "T", &a, 60, 0),
                     "sid=T; Max-Age=60; Path=/; SameSite=Lax; HttpOnly; "
                     "Secure");
    ck_assert_str_eq(orm_cookie_header(test_pool, "sid", "T", &a, 60, 1),
                     "sid=T; Max-Age=60; Path=/; SameSite=Lax; HttpOnly; "
                     "Secure");
}
END_TEST

START_TEST(test_cookie_header_removal)
{
    orm_cookie_attrs_t a = fresh();

    ck_assert_str_eq(orm_cookie_header(test_pool, "sid", "", &a, 0, 0),
                     "sid=; Max-Age=0; Path=/; SameSite=Lax; HttpOnly");
    ck_assert_str_eq(orm_cookie_header(test_pool, "sid", "", &a, 0, 1),
                     "sid=; Max-Age=0; Path=/; SameSite=Lax; HttpOnly; Secure");
    /* the removal carries the same Path/Domain, or the browser keeps it */
    a = parsed("Path=/app;Domain=example.com");
    ck_assert_str_eq(orm_cookie_header(test_pool, "sid", "", &a, 0, 0),
                     "sid=; Max-Age=0; Path=/app; Domain=example.com; "
                     "SameSite=Lax; HttpOnly");
}
END_TEST


/* The request side: every value of our cookie, in order, and the header
 * without it for handlers and backends. */
START_TEST(test_cookie_values)
{
    apr_array_header_t *v;

    v = orm_cookie_values(test_pool, NULL, "sid");
    ck_assert_int_eq(v->nelts, 0);
    v = orm_cookie_values(test_pool, "a=1; sid=xyz; b=2", "sid");
    ck_assert_int_eq(v->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(v, 0, const char *), "xyz");
    /* repeated (two paths, or two headers joined by httpd with ", ") */
    v = orm_cookie_values(test_pool, "sid=one; x=1, sid=\"two\"", "sid");
    ck_assert_int_eq(v->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(v, 0, const char *), "one");
    ck_assert_str_eq(APR_ARRAY_IDX(v, 1, const char *), "two");
    /* a longer name that starts with ours, a name without '=', spaces */
    v = orm_cookie_values(test_pool, "sidx=1; sid; sid2=3;  sid = 4 ", "sid");
    ck_assert_int_eq(v->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(v, 0, const char *), "4");
    /* an empty value is a value */
    v = orm_cookie_values(test_pool, "sid=", "sid");
    ck_assert_int_eq(v->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(v, 0, const char *), "");
}
END_TEST

/* What handlers and backends see with SessionORMCookieRemove: only the
 * pairs named "s" go, every other byte stays (issue 9, item 4). */
START_TEST(test_cookie_strip)
{
    static const struct {
        const char *header;
        const char *stripped;       /* NULL: the header is removed */
    } cases[] = {
        /* the report: commas, quotes and a ';' inside quotes untouched */
        { "pref=Thu, 01 Jan 2030; s=TOK; json={\"a\":1,\"b\":2}; q=\"a;b\"",
          "pref=Thu, 01 Jan 2030; json={\"a\":1,\"b\":2}; q=\"a;b\"" },
        /* start, middle, end, alone */
        { "s=TOK; a=1; b=2", "a=1; b=2" },
        { "a=1; s=TOK; b=2", "a=1; b=2" },
        { "a=1; b=2; s=TOK", "a=1; b=2" },
        { "s=TOK", NULL },
        { "  s=TOK  ", NULL },
        { "s=TOK;", NULL },
        { "a=1; s=TOK;", "a=1" },
        /* repeated, adjacent or not, and every one of ours */
        { "s=1; s=2", NULL },
        { "s=1, s=2", NULL },
        { "a=1; s=1; s=2; b=2", "a=1; b=2" },
        { "s=1; a=1; s=2; b=2; s=3", "a=1; b=2" },
        { "a=1; s=1; s=2", "a=1" },
        /* spacing and separators of the others kept as sent */
        { "a=1;s=TOK;b=2", "a=1;b=2" },
        { "a=1;  s=TOK;   b=2", "a=1;  b=2" },
        { "a = 1 ;s=TOK; b= 2 ", "a = 1 ;b= 2 " },
        { "a=1;\ts=TOK;\tb=2", "a=1;\tb=2" },
        { "a=1;;s=TOK;;b=2", "a=1;;;b=2" },
        /* white space around '=' in ours */
        { "a=1; s = TOK; b=2", "a=1; b=2" },
        { "a=1; s\t=TOK", "a=1" },
        /* two Cookie headers joined by httpd with ", " */
        { "a=1, s=TOK", "a=1" },
        { "s=TOK, a=1; b=2", "a=1; b=2" },
        { "a=x, y; s=TOK, b=2", "a=x, y; b=2" },
        /* not ours: a longer name, our name as a value or inside one, no
         * '=', another case */
        { "xs=1; s2=2; sx=3", "xs=1; s2=2; sx=3" },
        { "a=s=TOK; b=s", "a=s=TOK; b=s" },
        { "s; a=1", "s; a=1" },
        { "S=TOK; a=1", "S=TOK; a=1" },
        { "json={\"s\":1}; a=\"s=1\"", "json={\"s\":1}; a=\"s=1\"" },
        /* a quoted value of ours */
        { "a=1; s=\"TOK\"; b=2", "a=1; b=2" },
        /* a quote does not hide a ';' (browsers end a cookie there) */
        { "q=\"a; s=TOK; b\"", "q=\"a; b\"" },
        /* nothing of ours: the header as it was */
        { "a=1", "a=1" },
        { "", NULL },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = orm_cookie_strip(test_pool, cases[i].header, "s");

        if (cases[i].stripped == NULL) {
            ck_assert_msg(got == NULL, "'%s' -> '%s', expected no header",
                          cases[i].header, got);
        }
        else {
            ck_assert_msg(got && !strcmp(got, cases[i].stripped),
                          "'%s' -> '%s', expected '%s'", cases[i].header,
                          got ? got : "(null)", cases[i].stripped);
        }
    }
    ck_assert_ptr_null(orm_cookie_strip(test_pool, NULL, "s"));
    ck_assert_ptr_null(orm_cookie_strip(test_pool, "sid=1", "sid"));
    ck_assert_str_eq(orm_cookie_strip(test_pool, "sidx=1;sid=2", "sid"),
                     "sidx=1");
}
END_TEST

/* The values found are those of the pairs strip removes: a token that
 * reaches the store never reaches the handler. */
START_TEST(test_cookie_values_match_strip)
{
    static const char *const headers[] = {
        "pref=Thu, 01 Jan 2030; s=TOK; json={\"a\":1,\"b\":2}; q=\"a;b\"",
        "a=x, s=one; b=2; s = \"two\" ; s=", "q=\"a; s=three; b\"",
        "xs=1; a=s=2; s", ""
    };
    static const int counts[] = { 1, 3, 1, 0, 0 };
    size_t i;

    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        apr_array_header_t *v = orm_cookie_values(test_pool, headers[i], "s");
        const char *rest = orm_cookie_strip(test_pool, headers[i], "s");

        ck_assert_int_eq(v->nelts, counts[i]);
        ck_assert_int_eq(orm_cookie_values(test_pool, rest, "s")->nelts, 0);
    }
    ck_assert_str_eq(APR_ARRAY_IDX(orm_cookie_values(test_pool, headers[1],
                                                     "s"), 1, const char *),
                     "two");
}
END_TEST

TCase *tcase_cookie(void)
{
    TCase *tc = tcase_create("cookie");

    tcase_add_test(tc, test_cookie_name_check);
    tcase_add_test(tc, test_cookie_attrs_init);
    tcase_add_test(tc, test_cookie_attrs_each);
    tcase_add_test(tc, test_cookie_attrs_case_insensitive);
    tcase_add_test(tc, test_cookie_attrs_multiple);
    tcase_add_test(tc, test_cookie_attrs_later_overrides);
    tcase_add_test(tc, test_cookie_attrs_parse_does_not_alias_arg);
    tcase_add_test(tc, test_cookie_attrs_rejects_lifetime);
    tcase_add_test(tc, test_cookie_attrs_rejects_unknown_and_bad_values);
    tcase_add_test(tc, test_cookie_attrs_rejects_space_in_value);
    tcase_add_test(tc, test_cookie_header_defaults);
    tcase_add_test(tc, test_cookie_header_overrides_keep_other_defaults);
    tcase_add_test(tc, test_cookie_header_secure);
    tcase_add_test(tc, test_cookie_header_removal);
    tcase_add_test(tc, test_cookie_values);
    tcase_add_test(tc, test_cookie_strip);
    tcase_add_test(tc, test_cookie_values_match_strip);
    return tc;
}
