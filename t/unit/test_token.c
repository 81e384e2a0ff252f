/* Session tokens: generation, shape check, and the row-id digests.
 * Expected encodings were computed independently with Python's
 * base64.urlsafe_b64encode (padding stripped) and hashlib.sha256. */
#include <string.h>
#include <apr_strings.h>
#include <apr_general.h>

#include "tests.h"
#include "orm_token.h"
#include "orm_sha256.h"

static apr_size_t fake_requested_len;
static int fake_calls;

static apr_status_t fake_sequential(unsigned char *buf, apr_size_t len)
{
    apr_size_t i;

    fake_calls++;
    fake_requested_len = len;
    for (i = 0; i < len; i++) {
        buf[i] = (unsigned char)i;
    }
    return APR_SUCCESS;
}

static apr_status_t fake_all_ff(unsigned char *buf, apr_size_t len)
{
    memset(buf, 0xff, len);
    return APR_SUCCESS;
}

static apr_status_t fake_all_zero(unsigned char *buf, apr_size_t len)
{
    memset(buf, 0, len);
    return APR_SUCCESS;
}

static apr_status_t fake_mixed(unsigned char *buf, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        buf[i] = (unsigned char)((i * 37 + 11) & 0xff);
    }
    return APR_SUCCESS;
}

static apr_status_t fake_fails_egeneral(unsigned char *buf, apr_size_t len)
{
    fake_calls++;
    memset(buf, 'x', len);
    return APR_EGENERAL;
}

static apr_status_t fake_fails_enotimpl(unsigned char *buf, apr_size_t len)
{
    (void)buf;
    (void)len;
    return APR_ENOTIMPL;
}

/* A 43-character string from a prefix, padded with 'A' ('A' is a valid
 * last character, so only the prefix decides). */
static char *token43(const char *prefix)
{
    char *t = apr_palloc(test_pool, ORM_TOKEN_LEN + 1);
    size_t n = strlen(prefix);

    memset(t, 'A', ORM_TOKEN_LEN);
    memcpy(t, prefix, n > ORM_TOKEN_LEN ? ORM_TOKEN_LEN : n);
    t[ORM_TOKEN_LEN] = '\0';
    return t;
}

static int wellformed(const char *s)
{
    return orm_token_is_wellformed(s, strlen(s));
}

START_TEST(test_token_generate_deterministic)
{
    const char *token = NULL;

    fake_calls = 0;
    fake_requested_len = 0;
    ck_assert_int_eq(orm_token_generate(test_pool, fake_sequential, &token),
                     APR_SUCCESS);
    ck_assert_int_eq(fake_calls, 1);
    ck_assert_uint_eq(fake_requested_len, ORM_TOKEN_BYTES);
    ck_assert_uint_eq(fake_requested_len, 32);
    ck_assert_str_eq(token, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");

    ck_assert_int_eq(orm_token_generate(test_pool, fake_all_ff, &token),
                     APR_SUCCESS);
    ck_assert_str_eq(token, "__________________________________________8");

    ck_assert_int_eq(orm_token_generate(test_pool, fake_all_zero, &token),
                     APR_SUCCESS);
    ck_assert_str_eq(token, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");

    ck_assert_int_eq(orm_token_generate(test_pool, fake_mixed, &token),
                     APR_SUCCESS);
    ck_assert_str_eq(token, "CzBVep_E6Q4zWH2ix-wRNluApcrvFDleg6jN8hc8YYY");
}
END_TEST

START_TEST(test_token_generated_are_wellformed)
{
    orm_random_fn *fns[] = { fake_sequential, fake_all_ff, fake_all_zero,
                             fake_mixed, apr_generate_random_bytes };
    size_t i;

    for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        const char *token = NULL;
        ck_assert_int_eq(orm_token_generate(test_pool, fns[i], &token),
                         APR_SUCCESS);
        ck_assert_ptr_nonnull(token);
        ck_assert_uint_eq(strlen(token), ORM_TOKEN_LEN);
        ck_assert_uint_eq(strlen(token), 43);
        ck_assert_msg(wellformed(token), "generated '%s' not well-formed",
                      token);
    }
}
END_TEST

START_TEST(test_token_real_random_differs)
{
    const char *a = NULL, *b = NULL;
    int i;

    ck_assert_int_eq(orm_token_generate(test_pool, apr_generate_random_bytes,
                                        &a), APR_SUCCESS);
    ck_assert_int_eq(orm_token_generate(test_pool, apr_generate_random_bytes,
                                        &b), APR_SUCCESS);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    ck_assert_str_ne(a, b);
    ck_assert(wellformed(a));
    ck_assert(wellformed(b));
    /* and never the all-zero token an unfilled buffer would give */
    for (i = 0; i < 8; i++) {
        const char *t = NULL;
        orm_token_generate(test_pool, apr_generate_random_bytes, &t);
        ck_assert_str_ne(t, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        ck_assert_str_ne(t, a);
    }
}
END_TEST

START_TEST(test_token_random_failure_propagates)
{
    const char *sentinel = "untouched";
    const char *token = sentinel;

    fake_calls = 0;
    ck_assert_int_eq(orm_token_generate(test_pool, fake_fails_egeneral,
                                        &token), APR_EGENERAL);
    ck_assert_int_eq(fake_calls, 1);
    ck_assert_ptr_eq(token, sentinel);

    token = sentinel;
    ck_assert_int_eq(orm_token_generate(test_pool, fake_fails_enotimpl,
                                        &token), APR_ENOTIMPL);
    ck_assert_ptr_eq(token, sentinel);

    token = NULL;
    ck_assert_int_eq(orm_token_generate(test_pool, fake_fails_egeneral,
                                        &token), APR_EGENERAL);
    ck_assert_ptr_null(token);
}
END_TEST

START_TEST(test_base64url_encode)
{
    static const struct {
        const char *in; apr_size_t len; const char *out;
    } cases[] = {
        { "", 0, "" },
        { "M", 1, "TQ" },
        { "Ma", 2, "TWE" },
        { "Man", 3, "TWFu" },
        { "\xfb", 1, "-w" },
        { "\xfb\xff", 2, "-_8" },
        { "\xfb\xff\xbf", 3, "-_-_" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[16];
        memset(out, '#', sizeof(out));
        orm_base64url_encode(out, (const unsigned char *)cases[i].in,
                             cases[i].len);
        ck_assert_str_eq(out, cases[i].out);
    }
}
END_TEST

START_TEST(test_token_wellformed_accepts)
{
    static const char all_last[] = "AEIMQUYcgkosw048";
    char buf[64];
    size_t i;

    ck_assert(wellformed("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"));
    ck_assert(wellformed("__________________________________________8"));
    ck_assert(wellformed("CzBVep_E6Q4zWH2ix-wRNluApcrvFDleg6jN8hc8YYY"));
    ck_assert(wellformed("-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_w"));
    ck_assert(wellformed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"));
    ck_assert(wellformed("0123456789012345678901234567890123456789010"));
    /* each of the 16 characters whose two spare bits are zero may end one */
    for (i = 0; i < sizeof(all_last) - 1; i++) {
        char *t = token43("");
        t[42] = all_last[i];
        ck_assert_msg(wellformed(t), "ending '%c' rejected", all_last[i]);
    }
    /* len decides, not a terminator: junk after 43 bytes is not looked at */
    memset(buf, 0, sizeof(buf));
    memcpy(buf, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", 43);
    memcpy(buf + 43, "+/=;' \xff", 7);
    ck_assert(orm_token_is_wellformed(buf, 43));
}
END_TEST

START_TEST(test_token_wellformed_rejects_length)
{
    const char *good = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    char longer[64];

    ck_assert(!orm_token_is_wellformed(NULL, 43));
    ck_assert(!orm_token_is_wellformed(NULL, 0));
    ck_assert(!orm_token_is_wellformed("", 0));
    ck_assert(!orm_token_is_wellformed(good, 42));
    ck_assert(!wellformed("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh"));
    ck_assert(!orm_token_is_wellformed(good, 0));
    ck_assert(!orm_token_is_wellformed(good, 1));
    strcpy(longer, good);
    strcat(longer, "A");
    ck_assert_uint_eq(strlen(longer), 44);
    ck_assert(!wellformed(longer));
    ck_assert(!wellformed("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="));
    ck_assert(!wellformed(
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8AAECAwQFBgcICQoLDA0ODxA"
        "REhMUFRYXGBkaGxwdHh8"));
}
END_TEST

START_TEST(test_token_wellformed_rejects_alphabet)
{
    static const char *const bad_chars[] = {
        "+", "/", "=", ".", " ", "~", "%", ";", "'", "\"", "\\", ",", ":",
        "\t", "\n", "\x7f", "\x01", "\x80", "\xff", "\xc3"
    };
    static const size_t positions[] = { 0, 1, 20, 41 };
    size_t i, j;

    for (i = 0; i < sizeof(bad_chars) / sizeof(bad_chars[0]); i++) {
        for (j = 0; j < sizeof(positions) / sizeof(positions[0]); j++) {
            char *t = token43("");
            t[positions[j]] = bad_chars[i][0];
            ck_assert_msg(!orm_token_is_wellformed(t, ORM_TOKEN_LEN),
                          "byte 0x%02x at %u accepted",
                          (unsigned char)bad_chars[i][0],
                          (unsigned)positions[j]);
        }
    }
    /* a bad byte in last position is rejected too */
    for (i = 0; i < sizeof(bad_chars) / sizeof(bad_chars[0]); i++) {
        char *t = token43("");
        t[42] = bad_chars[i][0];
        ck_assert(!orm_token_is_wellformed(t, ORM_TOKEN_LEN));
    }
    /* standard base64 of the same bytes uses '+' and '/' */
    ck_assert(!wellformed("++++++++++++++++++++++++++++++++++++++++++8"));
    ck_assert(!wellformed("//////////////////////////////////////////8"));
    /* non-ASCII UTF-8 (é) in the middle, length still 43 bytes */
    ck_assert(!wellformed(token43("AAAAAAAAAA\xc3\xa9")));
}
END_TEST

START_TEST(test_token_wellformed_rejects_embedded_nul)
{
    char t[ORM_TOKEN_LEN + 1];
    size_t pos[] = { 0, 10, 41, 42 };
    size_t i;

    for (i = 0; i < sizeof(pos) / sizeof(pos[0]); i++) {
        memcpy(t, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", 44);
        t[pos[i]] = '\0';
        ck_assert_msg(!orm_token_is_wellformed(t, ORM_TOKEN_LEN),
                      "NUL at %u accepted", (unsigned)pos[i]);
    }
}
END_TEST

START_TEST(test_token_wellformed_rejects_spare_bits)
{
    static const char all_chars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int accepted = 0;
    size_t i;

    ck_assert(!wellformed("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHhB"));
    ck_assert(wellformed(token43("")));     /* all 'A' */
    for (i = 0; i < 64; i++) {
        char *t = token43("");
        t[42] = all_chars[i];
        if (wellformed(t)) {
            accepted++;
            ck_assert_msg(i % 4 == 0, "ending '%c' (spare bits %u) accepted",
                          all_chars[i], (unsigned)(i % 4));
        }
        else {
            ck_assert_msg(i % 4 != 0, "ending '%c' rejected", all_chars[i]);
        }
    }
    ck_assert_int_eq(accepted, 16);
    /* 'B','C','D' differ from 'A' only in the spare bits */
    ck_assert(!wellformed(token43("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB")));
    ck_assert(!wellformed(token43("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAC")));
    ck_assert(!wellformed(token43("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_")));
}
END_TEST

START_TEST(test_token_wellformed_rejects_sql)
{
    static const char *const shapes[] = {
        "' OR '1'='1",
        "x' OR 1=1 --",
        "A; DROP TABLE session; --",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'--",
        "1 UNION SELECT data FROM session",
        "\" OR \"\"=\"",
        "%s%s%s%s%lld",
        "AAAAAAAAAA/*comment*/AAAAAAAAAAAAAAAAAAAAA",
    };
    size_t i;

    for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        char *t = token43(shapes[i]);
        ck_assert_uint_eq(strlen(t), 43);
        ck_assert_msg(!wellformed(t), "'%s' accepted", t);
        ck_assert(!wellformed(shapes[i]));
    }
}
END_TEST

START_TEST(test_token_digest)
{
    const char *token = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    const char *d = orm_token_digest(test_pool, token);

    ck_assert_str_eq(d,
        "ea866a757e4c38babfa8127cbe9a409d3e1f93a00ff1488ff735fcf917afffd0");
    ck_assert_str_eq(d, orm_sha256_hex(test_pool, token, strlen(token)));
    ck_assert_uint_eq(strlen(d), 64);
    /* the digest is not the token, and differs per token */
    ck_assert_str_ne(d, orm_token_digest(test_pool,
                     "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHhA"));
    ck_assert_str_eq(orm_token_digest(test_pool, "alice"),
        "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90");
}
END_TEST

START_TEST(test_user_digest)
{
    const char *u = orm_user_digest(test_pool, "alice");

    ck_assert_str_eq(u,
        "dabd1db8d35ab13106274f61f1bf977812cce4f477b15014cf38fb796c50a4c4");
    ck_assert_str_eq(u, orm_sha256_hex(test_pool, "user:alice", 10));
    /* keyed: never the token digest of the same string */
    ck_assert_str_ne(u, orm_token_digest(test_pool, "alice"));
    ck_assert_str_ne(u, orm_sha256_hex(test_pool, "alice", 5));
    ck_assert_str_ne(u, orm_user_digest(test_pool, "bob"));
    ck_assert_str_ne(u, orm_user_digest(test_pool, "Alice"));
    ck_assert_str_eq(orm_user_digest(test_pool, ""),
        "0a478cd081990729d5e2dd4ece291e20c09c1ca4ed93d73a9d94d572c100c308");
    ck_assert_str_eq(orm_user_digest(test_pool, "jos\xc3\xa9"),
        "ed76f8c8968114fcf2de21d82e13dca7436277244e1a2b42452e1a972fe21598");
    /* the keying is the "user:" prefix; ':' is outside the token alphabet,
     * so no issued token has this preimage */
    ck_assert(!wellformed(token43("user:alice")));
    ck_assert_str_eq(orm_token_digest(test_pool, "user:alice"), u);
}
END_TEST

TCase *tcase_token(void)
{
    TCase *tc = tcase_create("token");

    tcase_add_test(tc, test_token_generate_deterministic);
    tcase_add_test(tc, test_token_generated_are_wellformed);
    tcase_add_test(tc, test_token_real_random_differs);
    tcase_add_test(tc, test_token_random_failure_propagates);
    tcase_add_test(tc, test_base64url_encode);
    tcase_add_test(tc, test_token_wellformed_accepts);
    tcase_add_test(tc, test_token_wellformed_rejects_length);
    tcase_add_test(tc, test_token_wellformed_rejects_alphabet);
    tcase_add_test(tc, test_token_wellformed_rejects_embedded_nul);
    tcase_add_test(tc, test_token_wellformed_rejects_spare_bits);
    tcase_add_test(tc, test_token_wellformed_rejects_sql);
    tcase_add_test(tc, test_token_digest);
    tcase_add_test(tc, test_user_digest);
    return tc;
}
