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

/* One argument of SessionORMCookieAttributes and every attribute it
 * leaves set (NULL, ORM_FLAG_UNSET: untouched). */
#define U ORM_FLAG_UNSET
#define ON ORM_FLAG_ON
#define OFF ORM_FLAG_OFF

static const struct {
    const char *arg;
    orm_cookie_attrs_t want;    /* path, domain, same_site, http_only,
                                 * secure, partitioned, version_ignored */
} parse_cases[] = {
    /* each attribute on its own */
    { "Path=/app", { "/app", NULL, NULL, U, U, U, 0 } },
    { "Path=/", { "/", NULL, NULL, U, U, U, 0 } },
    { "Path=/a/b-c_d.e", { "/a/b-c_d.e", NULL, NULL, U, U, U, 0 } },
    { "Domain=example.com", { NULL, "example.com", NULL, U, U, U, 0 } },
    { "Domain=.example.org", { NULL, ".example.org", NULL, U, U, U, 0 } },
    { "SameSite=Strict", { NULL, NULL, "Strict", U, U, U, 0 } },
    { "SameSite=Lax", { NULL, NULL, "Lax", U, U, U, 0 } },
    { "SameSite=None", { NULL, NULL, "None", U, U, U, 0 } },
    { "Secure", { NULL, NULL, NULL, U, ON, U, 0 } },
    { "Secure=On", { NULL, NULL, NULL, U, ON, U, 0 } },
    { "Secure=Off", { NULL, NULL, NULL, U, OFF, U, 0 } },
    { "HttpOnly", { NULL, NULL, NULL, ON, U, U, 0 } },
    { "HttpOnly=On", { NULL, NULL, NULL, ON, U, U, 0 } },
    { "HttpOnly=Off", { NULL, NULL, NULL, OFF, U, U, 0 } },

    /* names, SameSite's values and the flags' in any case */
    { "path=/x", { "/x", NULL, NULL, U, U, U, 0 } },
    { "PATH=/x", { "/x", NULL, NULL, U, U, U, 0 } },
    { "domain=example.com", { NULL, "example.com", NULL, U, U, U, 0 } },
    /* SameSite in its canonical spelling */
    { "SAMESITE=strict", { NULL, NULL, "Strict", U, U, U, 0 } },
    { "samesite=NONE", { NULL, NULL, "None", U, U, U, 0 } },
    { "sameSite=lAx", { NULL, NULL, "Lax", U, U, U, 0 } },
    { "secure", { NULL, NULL, NULL, U, ON, U, 0 } },
    { "SECURE=off", { NULL, NULL, NULL, U, OFF, U, 0 } },
    { "secure=ON", { NULL, NULL, NULL, U, ON, U, 0 } },
    { "httponly", { NULL, NULL, NULL, ON, U, U, 0 } },
    { "HTTPONLY=OFF", { NULL, NULL, NULL, OFF, U, U, 0 } },
    /* values other than SameSite's and the flags keep their case */
    { "Path=/MixedCase", { "/MixedCase", NULL, NULL, U, U, U, 0 } },

    /* several in one argument */
    { "Path=/x;HttpOnly=Off;SameSite=Strict",
      { "/x", NULL, "Strict", OFF, U, U, 0 } },
    { "Secure;HttpOnly;Domain=example.com;Path=/p;SameSite=None",
      { "/p", "example.com", "None", ON, ON, U, 0 } },
    /* white space around the separators, as in a Set-Cookie header */
    { "Path=/x; Secure=Off; SameSite=Lax", { "/x", NULL, "Lax", U, OFF, U, 0 } },
    /* empty items are harmless */
    { "Secure;;HttpOnly=Off;", { NULL, NULL, NULL, OFF, ON, U, 0 } },
    { "", { NULL, NULL, NULL, U, U, U, 0 } },

    /* a later one overrides an earlier one */
    { "SameSite=Strict;SameSite=None", { NULL, NULL, "None", U, U, U, 0 } },
    { "Secure;Secure=Off", { NULL, NULL, NULL, U, OFF, U, 0 } },
    { "HttpOnly=Off;HttpOnly", { NULL, NULL, NULL, ON, U, U, 0 } },
    { "Path=/a;Path=/b", { "/b", NULL, NULL, U, U, U, 0 } },

    /* Partitioned (CHIPS), a flag as the others */
    { "Partitioned", { NULL, NULL, NULL, U, U, ON, 0 } },
    { "partitioned=on;Secure", { NULL, NULL, NULL, U, ON, ON, 0 } },
    { "Partitioned=Off", { NULL, NULL, NULL, U, U, OFF, 0 } },
    /* Version=1, as mod_session_dbd's documentation shows it: ignored */
    { "Version=1", { NULL, NULL, NULL, U, U, U, 1 } },
    { "Path=/x;version=1;HttpOnly", { "/x", NULL, NULL, ON, U, U, 1 } },
};

#undef U
#undef ON
#undef OFF

static void assert_str_or_null(const char *got, const char *want,
                               const char *arg, const char *which)
{
    ck_assert_msg(want ? got && !strcmp(got, want) : got == NULL,
                  "'%s': %s is '%s', not '%s'", arg, which,
                  got ? got : "(null)", want ? want : "(null)");
}

/* a's attributes are want's; arg names the case. */
static void assert_attrs(const orm_cookie_attrs_t *a,
                         const orm_cookie_attrs_t *want, const char *arg)
{
    assert_str_or_null(a->path, want->path, arg, "Path");
    assert_str_or_null(a->domain, want->domain, arg, "Domain");
    assert_str_or_null(a->same_site, want->same_site, arg, "SameSite");
    ck_assert_msg(a->http_only == want->http_only, "'%s': HttpOnly %d", arg,
                  a->http_only);
    ck_assert_msg(a->secure == want->secure, "'%s': Secure %d", arg,
                  a->secure);
    ck_assert_msg(a->partitioned == want->partitioned, "'%s': Partitioned %d",
                  arg, a->partitioned);
    ck_assert_msg(a->version_ignored == want->version_ignored,
                  "'%s': Version ignored %d", arg, a->version_ignored);
}

START_TEST(test_cookie_attrs_init)
{
    static const orm_cookie_attrs_t all_unset = {
        NULL, NULL, NULL, ORM_FLAG_UNSET, ORM_FLAG_UNSET, ORM_FLAG_UNSET, 0
    };
    orm_cookie_attrs_t a = fresh();

    assert_attrs(&a, &all_unset, "(init)");
}
END_TEST

START_TEST(test_cookie_attrs_parse)
{
    orm_cookie_attrs_t a = parsed(parse_cases[_i].arg);

    assert_attrs(&a, &parse_cases[_i].want, parse_cases[_i].arg);
}
END_TEST

/* An error anywhere in the list rejects it. */
START_TEST(test_cookie_attrs_rejects_any_bad_item)
{
    assert_rejected("Path=/x;Bogus=1;Secure");
    assert_rejected("Secure;Max-Age=5");
}
END_TEST

/* Across calls (one per directive argument): only named ones change. */
START_TEST(test_cookie_attrs_across_arguments)
{
    orm_cookie_attrs_t a = fresh();

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
    assert_rejected("Priority=High");
    /* Partitioned needs Secure; Version only with a number */
    assert_rejected("Partitioned;Secure=Off");
    assert_rejected("Secure=Off;Partitioned=On");
    assert_rejected("Partitioned=maybe");
    assert_rejected("Version");
    assert_rejected("Version=");
    assert_rejected("Version=one");
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

/* Set-Cookie values: the attributes (as SessionORMCookieAttributes gives
 * them; NULL for none set), the cookie, and whether the request came over
 * HTTPS. */
static const struct {
    const char *attrs;
    const char *name, *value;
    apr_int64_t max_age;
    int https;
    const char *expected;
} header_cases[] = {
    /* the defaults: Path=/, SameSite=Lax, HttpOnly, Secure over HTTPS */
    { NULL, "sid", "TOKEN", 3600, 0,
      "sid=TOKEN; Max-Age=3600; Path=/; SameSite=Lax; HttpOnly" },
    { NULL, "sid", "TOKEN", 3600, 1,
      "sid=TOKEN; Max-Age=3600; Path=/; SameSite=Lax; HttpOnly; Secure" },
    { NULL, "s", "v", 86400, 0,
      "s=v; Max-Age=86400; Path=/; SameSite=Lax; HttpOnly" },
    /* 64-bit Max-Age */
    { NULL, "s", "v", APR_INT64_C(316224000), 0,
      "s=v; Max-Age=316224000; Path=/; SameSite=Lax; HttpOnly" },
    { NULL, "s", "v", APR_INT64_C(5000000000), 0,
      "s=v; Max-Age=5000000000; Path=/; SameSite=Lax; HttpOnly" },
    /* no Domain unless set */
    { NULL, "s", "v", 1, 1,
      "s=v; Max-Age=1; Path=/; SameSite=Lax; HttpOnly; Secure" },

    /* one attribute set keeps the other defaults */
    { "Path=/app", "sid", "T", 60, 0,
      "sid=T; Max-Age=60; Path=/app; SameSite=Lax; HttpOnly" },
    { "Path=/app", "sid", "T", 60, 1,
      "sid=T; Max-Age=60; Path=/app; SameSite=Lax; HttpOnly; Secure" },
    { "SameSite=Strict", "sid", "T", 60, 0,
      "sid=T; Max-Age=60; Path=/; SameSite=Strict; HttpOnly" },
    { "SameSite=None", "sid", "T", 60, 1,
      "sid=T; Max-Age=60; Path=/; SameSite=None; HttpOnly; Secure" },
    { "HttpOnly=Off", "sid", "T", 60, 0,
      "sid=T; Max-Age=60; Path=/; SameSite=Lax" },
    { "HttpOnly", "sid", "T", 60, 0,
      "sid=T; Max-Age=60; Path=/; SameSite=Lax; HttpOnly" },
    { "Domain=example.com", "sid", "T", 60, 0,
      "sid=T; Max-Age=60; Path=/; Domain=example.com; SameSite=Lax; "
      "HttpOnly" },
    { "Path=/p;Domain=d.example;SameSite=Strict;HttpOnly=Off;Secure", "sid",
      "T", 60, 0,
      "sid=T; Max-Age=60; Path=/p; Domain=d.example; SameSite=Strict; "
      "Secure" },

    /* Secure=Off: never, even on HTTPS */
    { "Secure=Off", "sid", "T", 60, 1,
      "sid=T; Max-Age=60; Path=/; SameSite=Lax; HttpOnly" },
    { "Secure=Off", "sid", "T", 60, 0,
      "sid=T; Max-Age=60; Path=/; SameSite=Lax; HttpOnly" },
    /* Secure / Secure=On: always, even on plain HTTP */
    { "Secure", "sid", "T", 60, 0,
      "sid=T; Max-Age=60; Path=/; SameSite=Lax; HttpOnly; Secure" },
    { "Secure=On", "sid", "T", 60, 0,
      "sid=T; Max-Age=60; Path=/; SameSite=Lax; HttpOnly; Secure" },
    { "Secure=On", "sid", "T", 60, 1,
      "sid=T; Max-Age=60; Path=/; SameSite=Lax; HttpOnly; Secure" },

    /* Partitioned last, with the Secure it needs */
    { "Partitioned;Secure", "sid", "T", 60, 0,
      "sid=T; Max-Age=60; Path=/; SameSite=Lax; HttpOnly; Secure; "
      "Partitioned" },
    { "Partitioned", "sid", "T", 60, 1,
      "sid=T; Max-Age=60; Path=/; SameSite=Lax; HttpOnly; Secure; "
      "Partitioned" },
    /* an ignored Version leaves no trace */
    { "Version=1", "sid", "T", 60, 0,
      "sid=T; Max-Age=60; Path=/; SameSite=Lax; HttpOnly" },

    /* a removal */
    { NULL, "sid", "", 0, 0,
      "sid=; Max-Age=0; Path=/; SameSite=Lax; HttpOnly" },
    { NULL, "sid", "", 0, 1,
      "sid=; Max-Age=0; Path=/; SameSite=Lax; HttpOnly; Secure" },
    /* it carries the same Path/Domain, or the browser keeps the cookie */
    { "Path=/app;Domain=example.com", "sid", "", 0, 0,
      "sid=; Max-Age=0; Path=/app; Domain=example.com; SameSite=Lax; "
      "HttpOnly" },
};

START_TEST(test_cookie_header)
{
    orm_cookie_attrs_t a = header_cases[_i].attrs
                           ? parsed(header_cases[_i].attrs) : fresh();

    ck_assert_str_eq(orm_cookie_header(test_pool, header_cases[_i].name,
                                       header_cases[_i].value, &a,
                                       header_cases[_i].max_age,
                                       header_cases[_i].https),
                     header_cases[_i].expected);
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
    tcase_add_loop_test(tc, test_cookie_attrs_parse, 0,
                        sizeof(parse_cases) / sizeof(parse_cases[0]));
    tcase_add_test(tc, test_cookie_attrs_rejects_any_bad_item);
    tcase_add_test(tc, test_cookie_attrs_across_arguments);
    tcase_add_test(tc, test_cookie_attrs_parse_does_not_alias_arg);
    tcase_add_test(tc, test_cookie_attrs_rejects_lifetime);
    tcase_add_test(tc, test_cookie_attrs_rejects_unknown_and_bad_values);
    tcase_add_test(tc, test_cookie_attrs_rejects_space_in_value);
    tcase_add_loop_test(tc, test_cookie_header, 0,
                        sizeof(header_cases) / sizeof(header_cases[0]));
    tcase_add_test(tc, test_cookie_values);
    tcase_add_test(tc, test_cookie_strip);
    tcase_add_test(tc, test_cookie_values_match_strip);
    return tc;
}
