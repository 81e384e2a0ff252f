/* Owner names as stored: as they are when the column holds them, else a
 * deterministic form of at most ORM_OWNER_MAX bytes. Digests were computed
 * independently with Python's hashlib.sha256. */
#include <string.h>
#include <apr_strings.h>

#include "tests.h"
#include "orm_owner.h"
#include "orm_sha256.h"

/* mapped form expected for name: prefix, '~', hex digest of the name */
static const char *mapped(const char *prefix, const char *name)
{
    return apr_pstrcat(test_pool, prefix, "~",
                       orm_sha256_hex(test_pool, name, strlen(name)), NULL);
}

/* well-formed UTF-8 without control characters, or empty */
static int clean_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        if (*p < 0x20 || *p == 0x7f) {
            return 0;
        }
        if (*p < 0x80) {
            p++;
        }
        else if ((*p & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
            p += 2;
        }
        else if ((*p & 0xf0) == 0xe0 && (p[1] & 0xc0) == 0x80
                 && (p[2] & 0xc0) == 0x80) {
            p += 3;
        }
        else if ((*p & 0xf8) == 0xf0 && (p[1] & 0xc0) == 0x80
                 && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80) {
            p += 4;
        }
        else {
            return 0;
        }
    }
    return 1;
}

START_TEST(test_owner_as_is)
{
    char *max = apr_palloc(test_pool, ORM_OWNER_MAX + 1);
    const char *names[] = { "alice", "Zoë Ünicode", "李小龙", "a~b", "😀x",
                            "user@example.org", "" };
    size_t i;

    ck_assert_ptr_null(orm_owner_column(test_pool, NULL));
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        ck_assert_str_eq(orm_owner_column(test_pool, names[i]), names[i]);
    }
    memset(max, 'm', ORM_OWNER_MAX);
    max[ORM_OWNER_MAX] = '\0';
    ck_assert_str_eq(orm_owner_column(test_pool, max), max);
}
END_TEST

START_TEST(test_owner_too_long)
{
    char *name = apr_palloc(test_pool, 301);
    const char *out;

    memset(name, 'u', 300);
    name[300] = '\0';
    out = orm_owner_column(test_pool, name);
    ck_assert_uint_eq(strlen(out), ORM_OWNER_MAX);
    ck_assert_str_eq(out, mapped(apr_pstrndup(test_pool, name, 190), name));
    /* independently: sha256("u" * 300) */
    ck_assert_str_eq(out + 191, "8b5089b44d9fefeafc563a34f6cb19fb"
                                "dbe3814023622cb463bb4a74caba1c19");
    /* deterministic, and one byte more is another value */
    ck_assert_str_eq(orm_owner_column(test_pool, name), out);
    name[0] = 'v';
    ck_assert_str_ne(orm_owner_column(test_pool, name), out);
    /* 256 bytes: mapped */
    name[256] = '\0';
    ck_assert_uint_eq(strlen(orm_owner_column(test_pool, name)),
                      ORM_OWNER_MAX);
}
END_TEST

START_TEST(test_owner_utf8_prefix_whole_chars)
{
    /* 100 two-byte characters (200 bytes) then ASCII: over 255 bytes; the
     * prefix stops at 190 bytes, between characters */
    const char *e = "\xc3\xa9";
    char *name = "";
    const char *out;
    int i;

    for (i = 0; i < 100; i++) {
        name = apr_pstrcat(test_pool, name, e, NULL);
    }
    name = apr_pstrcat(test_pool, name, "tail-tail-tail-tail-tail-tail-"
                       "tail-tail-tail-tail-tail-tail-tail", NULL);
    out = orm_owner_column(test_pool, name);
    ck_assert_uint_le(strlen(out), ORM_OWNER_MAX);
    ck_assert(clean_utf8(out));
    ck_assert_str_eq(out, mapped(apr_pstrndup(test_pool, name, 190), name));
    /* an odd limit: 1 ASCII byte first, so 190 would split a character */
    name = apr_pstrcat(test_pool, "x", name, NULL);
    out = orm_owner_column(test_pool, name);
    ck_assert(clean_utf8(out));
    ck_assert_str_eq(out, mapped(apr_pstrndup(test_pool, name, 189), name));
}
END_TEST

START_TEST(test_owner_not_utf8_or_control)
{
    const char *bad[][2] = {
        { "caf\xe9", "caf" },                   /* Latin-1 */
        { "a\xc3", "a" },                       /* cut character */
        { "\xc0\xafroot", "" },                 /* overlong '/' */
        { "x\xed\xa0\x80y", "x" },              /* surrogate */
        { "x\xf4\x90\x80\x80", "x" },           /* above U+10FFFF */
        { "tab\there", "tab" },
        { "nl\nx", "nl" },
        { "del\x7f", "del" },
        { "c1\xc2\x85", "c1" },                 /* NEL */
        { "\xff", "" },
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *out = orm_owner_column(test_pool, bad[i][0]);
        ck_assert_str_eq(out, mapped(bad[i][1], bad[i][0]));
        ck_assert(clean_utf8(out));
    }
}
END_TEST

START_TEST(test_owner_mapped_forms_never_chosen)
{
    /* a name that looks mapped is mapped itself: nobody can pick the
     * stored form of another name as his own */
    char *name = apr_palloc(test_pool, 301);
    const char *victim, *again;

    memset(name, 'v', 300);
    name[300] = '\0';
    victim = orm_owner_column(test_pool, name);
    again = orm_owner_column(test_pool, victim);
    ck_assert_str_ne(again, victim);
    ck_assert_str_eq(again, mapped(apr_pstrndup(test_pool, victim, 190),
                                   victim));
    /* a short one too; upper-case hex is not our form */
    ck_assert_str_ne(orm_owner_column(test_pool, mapped("bob", "x")),
                     mapped("bob", "x"));
    ck_assert_str_eq(orm_owner_column(test_pool, "bob~ABC"), "bob~ABC");
}
END_TEST

TCase *tcase_owner(void)
{
    TCase *tc = tcase_create("owner");

    tcase_add_test(tc, test_owner_as_is);
    tcase_add_test(tc, test_owner_too_long);
    tcase_add_test(tc, test_owner_utf8_prefix_whole_chars);
    tcase_add_test(tc, test_owner_not_utf8_or_control);
    tcase_add_test(tc, test_owner_mapped_forms_never_chosen);
    return tc;
}
