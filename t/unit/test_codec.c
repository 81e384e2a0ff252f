/* mod_session's plain encoding: decode exactly as mod_session's
 * session_identity_decode does (apr_strtok on '&' then '=', ap_unescape_all,
 * empty values unset, bad escapes skip the pair), encode, and the
 * diff/apply that merge concurrent writes key by key. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "tests.h"
#include "orm_codec.h"

/* ---- helpers ------------------------------------------------------------ */

/* A table from "k1", "v1", "k2", "v2", ..., NULL. */
static apr_table_t *table_of(const char *first, ...)
{
    apr_table_t *t = apr_table_make(test_pool, 4);
    const char *key = first;
    va_list ap;

    va_start(ap, first);
    while (key) {
        const char *value = va_arg(ap, const char *);
        apr_table_add(t, key, value);
        key = va_arg(ap, const char *);
    }
    va_end(ap);
    return t;
}

/* The entries of t in order, as "k=v|k=v" with no escaping: only for
 * comparing with a literal in a test. */
static const char *dump(const apr_table_t *t)
{
    const apr_array_header_t *arr = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    const char *out = "";
    int i;

    for (i = 0; i < arr->nelts; i++) {
        out = apr_pstrcat(test_pool, out, i ? "|" : "", e[i].key, "=",
                          e[i].val, NULL);
    }
    return out;
}

/* decode(encoded) has exactly the entries listed in expected ("k=v|...",
 * in order; "" for none). */
static void decodes_to(const char *encoded, const char *expected)
{
    apr_table_t *t = orm_codec_decode(test_pool, encoded);

    ck_assert_ptr_nonnull(t);
    ck_assert_msg(!strcmp(dump(t), expected),
                  "decode(\"%s\") gave \"%s\", expected \"%s\"",
                  encoded ? encoded : "(null)", dump(t), expected);
}

/* a and b hold the same keys with the same values (order aside), and no
 * key twice. */
static int same_entries(const apr_table_t *a, const apr_table_t *b)
{
    const apr_array_header_t *arr = apr_table_elts(a);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    int i;

    if (arr->nelts != apr_table_elts(b)->nelts) {
        return 0;
    }
    for (i = 0; i < arr->nelts; i++) {
        const char *there = apr_table_get(b, e[i].key);
        if (there == NULL || strcmp(there, e[i].val)) {
            return 0;
        }
    }
    return 1;
}

static int removed_contains(const orm_diff_t *diff, const char *key)
{
    int i;

    for (i = 0; i < diff->removed->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(diff->removed, i, const char *), key)) {
            return 1;
        }
    }
    return 0;
}

/* ---- decode ------------------------------------------------------------- */

START_TEST(test_decode_basic)
{
    decodes_to("a=1", "a=1");
    decodes_to("a=1&b=two&c=3", "a=1|b=two|c=3");
    decodes_to("user=alice&expiry=1700000000000000",
               "user=alice|expiry=1700000000000000");
    /* a later pair with the same key replaces the value in place */
    decodes_to("a=1&b=2&a=3", "a=3|b=2");
    /* keys are case-insensitive (an apr_table, as in mod_session): the
     * first spelling stays, the last value wins */
    decodes_to("a=1&A=2", "a=2");
    decodes_to("Key=1&kEY=2&b=3", "Key=2|b=3");
}
END_TEST

START_TEST(test_decode_nothing)
{
    decodes_to(NULL, "");
    decodes_to("", "");
    decodes_to("&", "");
    decodes_to("&&&", "");
    /* no '=': a key without value unsets, nothing to unset */
    decodes_to("justakey", "");
    decodes_to("a&b&c", "");
    decodes_to("a=1&b&c=3", "a=1|c=3");
}
END_TEST

START_TEST(test_decode_strtok_semantics)
{
    /* empty tokens are skipped, both between pairs and around '=' */
    decodes_to("&&a=1&&&b=2&", "a=1|b=2");
    /* leading '=' are skipped before the key */
    decodes_to("=k=v", "k=v");
    decodes_to("===k=v&==j=w", "k=v|j=w");
    /* (a second '=' in the pair: see test_decode_value_keeps_equals) */
}
END_TEST

START_TEST(test_decode_unescape)
{
    decodes_to("a%20b=c%26d%3De", "a b=c&d=e");
    decodes_to("k=%41%62%7e", "k=Ab~");
    decodes_to("k=%4a%4A%4b", "k=JJK");     /* either case of hex digit */
    decodes_to("k=%25", "k=%");
    decodes_to("k=%2525", "k=%25");         /* unescaped once only */
    decodes_to("k=%2F%3F%23", "k=/?#");
    decodes_to("k=caf%C3%A9", "k=caf\xC3\xA9");
    decodes_to("k=%FF%01", "k=\xFF\x01");
    decodes_to("k=a%2Bb", "k=a+b");
    decodes_to("k=a%2bb", "k=a+b");
    /* (a literal '+': see test_decode_plus_is_space) */
    decodes_to("k=a%20b", "k=a b");
    /* escaped separators are data */
    decodes_to("x%3Dy=1%262", "x=y=1&2");
}
END_TEST

START_TEST(test_decode_empty_value_unsets)
{
    decodes_to("a=1&a=", "");
    decodes_to("a=1&a", "");
    decodes_to("a=1&b=2&a=&c=3", "b=2|c=3");
    decodes_to("a=&a=1", "a=1");
    decodes_to("a=1&b=2&a&b=", "");
    /* unsetting a key that is not there is harmless */
    decodes_to("x=&a=1", "a=1");
}
END_TEST

START_TEST(test_decode_bad_escapes_skip_pair)
{
    decodes_to("a=1&b=%zz&c=3", "a=1|c=3");
    decodes_to("a=1&b%G1=2&c=3", "a=1|c=3");
    decodes_to("k=%", "");
    decodes_to("k=%4", "");
    decodes_to("k=abc%", "");
    decodes_to("k=abc%4", "");
    decodes_to("k=%%41", "");
    decodes_to("%=v", "");
    decodes_to("k%=v", "");
    /* a NUL byte is refused like a bad escape */
    decodes_to("k=%00", "");
    decodes_to("k=a%00b", "");
    decodes_to("%00=v", "");
    decodes_to("k%00=v&ok=1", "ok=1");
    /* a pair that is skipped does not disturb an earlier value */
    decodes_to("a=1&a=%zz", "a=1");
    decodes_to("a=1&a=%00", "a=1");
    /* bad escape in the key of a good value, good key of a bad value */
    decodes_to("a%2=1&b=%2", "");
    /* a valid escape right after an invalid one does not rescue it */
    decodes_to("k=%zz%41", "");
}
END_TEST

START_TEST(test_decode_leaves_input_alone)
{
    char buf[] = "a%20b=c%26d&e=f&g=";
    char copy[sizeof(buf)];
    apr_table_t *t;

    memcpy(copy, buf, sizeof(buf));
    t = orm_codec_decode(test_pool, buf);
    ck_assert_str_eq(buf, copy);
    ck_assert_str_eq(dump(t), "a b=c&d|e=f");
    /* the table's strings do not point into the caller's buffer */
    memset(buf, 'x', sizeof(buf) - 1);
    ck_assert_str_eq(dump(t), "a b=c&d|e=f");
}
END_TEST

/* ---- encode ------------------------------------------------------------- */

START_TEST(test_encode_basic)
{
    ck_assert_str_eq(orm_codec_encode(test_pool, table_of(NULL)), "");
    ck_assert_str_eq(orm_codec_encode(test_pool, table_of("a", "1", NULL)),
                     "a=1");
    /* in table order */
    ck_assert_str_eq(orm_codec_encode(test_pool,
                                      table_of("b", "2", "a", "1", NULL)),
                     "b=2&a=1");
    ck_assert_str_eq(orm_codec_encode(test_pool,
                                      table_of("a b", "c&d=e",
                                               "k~._-", "x/y?z", NULL)),
                     "a%20b=c%26d%3De&k~._-=x%2Fy%3Fz");
    ck_assert_str_eq(orm_codec_encode(test_pool,
                                      table_of("k", "a+b%c", NULL)),
                     "k=a%2Bb%25c");
    ck_assert_str_eq(orm_codec_encode(test_pool,
                                      table_of("k", "caf\xC3\xA9", NULL)),
                     "k=caf%C3%A9");
}
END_TEST

START_TEST(test_encode_drops_empty)
{
    ck_assert_str_eq(orm_codec_encode(test_pool,
                                      table_of("a", "", "b", "2", NULL)),
                     "b=2");
    ck_assert_str_eq(orm_codec_encode(test_pool,
                                      table_of("a", "1", "b", "", NULL)),
                     "a=1");
    ck_assert_str_eq(orm_codec_encode(test_pool,
                                      table_of("a", "", "b", "", NULL)), "");
    ck_assert_str_eq(orm_codec_encode(test_pool,
                                      table_of("", "x", "b", "2", NULL)),
                     "b=2");
}
END_TEST

START_TEST(test_encode_every_byte)
{
    static const char unreserved[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-";
    int c;

    for (c = 1; c < 256; c++) {
        char value[2] = { (char)c, '\0' };
        char expected[16];
        const char *got;

        if (strchr(unreserved, c)) {
            snprintf(expected, sizeof(expected), "k=%c", c);
        }
        else {
            snprintf(expected, sizeof(expected), "k=%%%02X", c);
        }
        got = orm_codec_encode(test_pool, table_of("k", value, NULL));
        ck_assert_msg(!strcmp(got, expected), "byte 0x%02X: \"%s\", "
                      "expected \"%s\"", c, got, expected);
        /* the same for a key */
        got = orm_codec_encode(test_pool, table_of(value, "v", NULL));
        ck_assert_str_eq(got, apr_pstrcat(test_pool, expected + 2, "=v",
                                          NULL));
    }
}
END_TEST

START_TEST(test_encode_decode_round_trip)
{
    /* deterministic pseudo-random keys and values over bytes 1..255 */
    apr_uint32_t seed = 12345;
    int round;

    for (round = 0; round < 200; round++) {
        apr_table_t *t = apr_table_make(test_pool, 8);
        int nkeys = round % 7, k;
        const char *encoded;

        for (k = 0; k < nkeys; k++) {
            char key[12], value[24];
            int klen = 1 + k % 5, vlen = 1 + (round + k) % 20, i;

            for (i = 0; i < klen; i++) {
                seed = seed * 1103515245u + 12345u;
                key[i] = (char)(1 + (seed >> 16) % 255);
            }
            key[klen] = '\0';
            key[0] = (char)('a' + k);   /* distinct keys */
            for (i = 0; i < vlen; i++) {
                seed = seed * 1103515245u + 12345u;
                value[i] = (char)(1 + (seed >> 16) % 255);
            }
            value[vlen] = '\0';
            apr_table_set(t, key, value);
        }
        encoded = orm_codec_encode(test_pool, t);
        /* nothing outside the unreserved set and the separators */
        ck_assert_uint_eq(strspn(encoded, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "abcdefghijklmnopqrstuvwxyz0123456789"
                                 "._~-%=&"), strlen(encoded));
        ck_assert_msg(same_entries(orm_codec_decode(test_pool, encoded), t),
                      "round %d: %s does not decode back", round, encoded);
        ck_assert(orm_codec_is_plain(test_pool, encoded, t));
        /* encoding is stable */
        ck_assert_str_eq(orm_codec_encode(test_pool,
                                          orm_codec_decode(test_pool,
                                                           encoded)),
                         encoded);
    }
}
END_TEST

/* ---- is_plain ----------------------------------------------------------- */

START_TEST(test_is_plain)
{
    apr_table_t *ab = table_of("a", "1", "b", "x y", NULL);

    ck_assert(orm_codec_is_plain(test_pool, "a=1&b=x%20y", ab));
    /* order does not matter, nor how a byte was escaped */
    ck_assert(orm_codec_is_plain(test_pool, "b=x%20y&a=1", ab));
    ck_assert(orm_codec_is_plain(test_pool, "a=%31&b=x%20y", ab));
    /* with what decode drops or merges */
    ck_assert(orm_codec_is_plain(test_pool, "a=1&&b=x%20y&c=", ab));
    ck_assert(orm_codec_is_plain(test_pool, "a=0&a=1&b=x%20y", ab));
    /* a value differs, a key is missing on either side */
    ck_assert(!orm_codec_is_plain(test_pool, "a=2&b=x%20y", ab));
    ck_assert(!orm_codec_is_plain(test_pool, "a=1", ab));
    ck_assert(!orm_codec_is_plain(test_pool, "a=1&b=x%20y&c=3", ab));
    ck_assert(!orm_codec_is_plain(test_pool, "a=1&b=x%2By", ab));
    /* keys compare case-insensitively, values exactly */
    ck_assert(orm_codec_is_plain(test_pool, "A=1&b=x%20y", ab));
    ck_assert(!orm_codec_is_plain(test_pool, "a=1&b=X%20y", ab));
    /* an opaque (encrypted) session */
    ck_assert(!orm_codec_is_plain(test_pool,
                                  "U2FsdGVkX19hYmNkZWZnaGlqa2xtbm9wcQ==", ab));
    /* nothing and nothing */
    ck_assert(orm_codec_is_plain(test_pool, "", table_of(NULL)));
    ck_assert(orm_codec_is_plain(test_pool, NULL, table_of(NULL)));
    ck_assert(!orm_codec_is_plain(test_pool, NULL, ab));
    ck_assert(!orm_codec_is_plain(test_pool, "a=1", table_of(NULL)));
}
END_TEST

/* ---- diff, is_empty, apply ---------------------------------------------- */

START_TEST(test_diff)
{
    apr_table_t *loaded = table_of("a", "1", "b", "2", "c", "3", NULL);
    apr_table_t *current = table_of("a", "1", "b", "20", "d", "4", NULL);
    orm_diff_t *diff = orm_codec_diff(test_pool, loaded, current);

    ck_assert_ptr_nonnull(diff);
    ck_assert_ptr_nonnull(diff->set);
    ck_assert_ptr_nonnull(diff->removed);
    ck_assert_int_eq(apr_table_elts(diff->set)->nelts, 2);
    ck_assert_str_eq(apr_table_get(diff->set, "b"), "20");
    ck_assert_str_eq(apr_table_get(diff->set, "d"), "4");
    ck_assert_ptr_null(apr_table_get(diff->set, "a"));
    ck_assert_int_eq(diff->removed->nelts, 1);
    ck_assert(removed_contains(diff, "c"));
    ck_assert(!orm_diff_is_empty(diff, NULL));
    ck_assert(!orm_diff_is_empty(diff, "b"));

    /* the inputs are not changed */
    ck_assert_str_eq(dump(loaded), "a=1|b=2|c=3");
    ck_assert_str_eq(dump(current), "a=1|b=20|d=4");

    /* nothing changed */
    diff = orm_codec_diff(test_pool, loaded,
                          table_of("c", "3", "a", "1", "b", "2", NULL));
    ck_assert_int_eq(apr_table_elts(diff->set)->nelts, 0);
    ck_assert_int_eq(diff->removed->nelts, 0);
    ck_assert(orm_diff_is_empty(diff, NULL));
    ck_assert(orm_diff_is_empty(diff, "expiry"));

    /* from nothing, to nothing */
    diff = orm_codec_diff(test_pool, table_of(NULL), loaded);
    ck_assert_int_eq(apr_table_elts(diff->set)->nelts, 3);
    ck_assert_int_eq(diff->removed->nelts, 0);
    diff = orm_codec_diff(test_pool, loaded, table_of(NULL));
    ck_assert_int_eq(apr_table_elts(diff->set)->nelts, 0);
    ck_assert_int_eq(diff->removed->nelts, 3);
    ck_assert(removed_contains(diff, "a"));
    ck_assert(removed_contains(diff, "b"));
    ck_assert(removed_contains(diff, "c"));
    diff = orm_codec_diff(test_pool, table_of(NULL), table_of(NULL));
    ck_assert(orm_diff_is_empty(diff, NULL));
}
END_TEST

START_TEST(test_diff_is_empty_ignores_one_key)
{
    apr_table_t *loaded = table_of("user", "alice", "expiry", "100", NULL);
    orm_diff_t *diff;

    /* only the expiry moved */
    diff = orm_codec_diff(test_pool, loaded,
                          table_of("user", "alice", "expiry", "200", NULL));
    ck_assert(orm_diff_is_empty(diff, "expiry"));
    ck_assert(!orm_diff_is_empty(diff, NULL));
    ck_assert(!orm_diff_is_empty(diff, "user"));
    ck_assert(!orm_diff_is_empty(diff, "Expiry"));  /* exact key only */

    /* expiry added, expiry removed */
    diff = orm_codec_diff(test_pool, table_of("user", "alice", NULL),
                          loaded);
    ck_assert(orm_diff_is_empty(diff, "expiry"));
    ck_assert(!orm_diff_is_empty(diff, NULL));
    diff = orm_codec_diff(test_pool, loaded,
                          table_of("user", "alice", NULL));
    ck_assert(orm_diff_is_empty(diff, "expiry"));
    ck_assert(!orm_diff_is_empty(diff, NULL));

    /* expiry and something else */
    diff = orm_codec_diff(test_pool, loaded,
                          table_of("user", "bob", "expiry", "200", NULL));
    ck_assert(!orm_diff_is_empty(diff, "expiry"));
    diff = orm_codec_diff(test_pool, loaded, table_of("expiry", "200", NULL));
    ck_assert(!orm_diff_is_empty(diff, "expiry"));
    diff = orm_codec_diff(test_pool, loaded,
                          table_of("user", "alice", "cart", "1", NULL));
    ck_assert(!orm_diff_is_empty(diff, "expiry"));
}
END_TEST

START_TEST(test_apply)
{
    apr_table_t *loaded = table_of("a", "1", "b", "2", "c", "3", NULL);
    apr_table_t *current = table_of("a", "1", "b", "20", "d", "4", NULL);
    apr_table_t *stored = table_of("a", "1", "b", "2", "c", "3", "x", "9",
                                   NULL);
    orm_diff_t *diff = orm_codec_diff(test_pool, loaded, current);
    apr_table_t *merged = orm_codec_apply(test_pool, stored, diff);

    ck_assert(same_entries(merged, table_of("a", "1", "b", "20", "x", "9",
                                            "d", "4", NULL)));
    /* stored is not changed */
    ck_assert_str_eq(dump(stored), "a=1|b=2|c=3|x=9");
    /* applying an empty diff gives an equal copy */
    merged = orm_codec_apply(test_pool, stored,
                             orm_codec_diff(test_pool, loaded, loaded));
    ck_assert(same_entries(merged, stored));
    ck_assert_ptr_ne(merged, stored);
}
END_TEST

/* What a merge stores: the stored data decoded, the diff applied, encoded
 * again. */
static const char *merge_stored(const char *stored, const orm_diff_t *diff)
{
    return orm_codec_encode(test_pool,
                            orm_codec_apply(test_pool,
                                            orm_codec_decode(test_pool,
                                                             stored),
                                            diff));
}

START_TEST(test_merge_concurrent_requests)
{
    /* two requests load {user=alice, cart=1}; the first adds theme=dark and
     * is stored; the second (slower) changes cart and drops a key the
     * other never touched. The merge keeps both changes. */
    const char *row = "user=alice&cart=1&note=x";
    apr_table_t *loaded = orm_codec_decode(test_pool, row);
    apr_table_t *first = apr_table_copy(test_pool, loaded);
    apr_table_t *second = apr_table_copy(test_pool, loaded);
    const char *stored_now, *merged;
    orm_diff_t *diff;

    apr_table_set(first, "theme", "dark");
    stored_now = orm_codec_encode(test_pool, first);
    ck_assert_str_eq(stored_now, "user=alice&cart=1&note=x&theme=dark");

    apr_table_set(second, "cart", "2 items");
    apr_table_unset(second, "note");
    diff = orm_codec_diff(test_pool, loaded, second);
    ck_assert(!orm_diff_is_empty(diff, "expiry"));
    merged = merge_stored(stored_now, diff);
    ck_assert(same_entries(orm_codec_decode(test_pool, merged),
                           table_of("user", "alice", "cart", "2 items",
                                    "theme", "dark", NULL)));

    /* a key the slower request did not change keeps the newer value */
    apr_table_set(first, "cart", "5");
    stored_now = orm_codec_encode(test_pool, first);
    diff = orm_codec_diff(test_pool, loaded,
                          table_of("user", "alice", "cart", "1", "note", "x",
                                   "lang", "de", NULL));
    merged = merge_stored(stored_now, diff);
    ck_assert(same_entries(orm_codec_decode(test_pool, merged),
                           table_of("user", "alice", "cart", "5", "note", "x",
                                    "theme", "dark", "lang", "de", NULL)));

    /* the same key changed by both: the later writer wins */
    diff = orm_codec_diff(test_pool, loaded,
                          table_of("user", "alice", "cart", "7", "note", "x",
                                   NULL));
    merged = merge_stored(stored_now, diff);
    ck_assert_str_eq(apr_table_get(orm_codec_decode(test_pool, merged),
                                   "cart"), "7");
}
END_TEST

/* ---- httpd compatibility ------------------------------------------------
 * The expectations below are what mod_session of the installed httpd
 * (Debian 12, Apache/2.4.71) does: observed with Session On, SessionEnv On,
 * SessionHeader and mod_session_cookie, sending the encoded form as the
 * cookie and reading back HTTP_SESSION and Set-Cookie. Since 2.4.47
 * (CVE-2021-26690) session_identity_decode reads the value with
 * apr_strtok(NULL, "&", ...), i.e. everything after the key's '=', and
 * unescapes with ap_unescape_urlencoded ('+' is a space); its encoder
 * writes a space as '+'. Each test guards against a way in which the codec
 * once disagreed with it. */

/* Guards against a crash on a pair made only of '=': calling
 * apr_strtok(NULL, "=", &plast) when the key token was NULL, with plast still
 * NULL, dereferences NULL in apr_strtok -- the same bug as CVE-2021-26690 in
 * mod_session <= 2.4.46. The header promises "any text gives a table". */
START_TEST(test_decode_only_equals_does_not_crash)
{
    decodes_to("=", "");
    decodes_to("==", "");
    decodes_to("a=1&=&b=2", "a=1|b=2");
    decodes_to("==&=&", "");
}
END_TEST

/* mod_session writes a space as '+' and reads '+' as a space, and so does
 * the codec. Guards against a codec that keeps '+': a stored value
 * "hello world" (data "note=hello+world") would come out of a conflicting
 * write's merge as "hello+world", and is_plain() would be false for every
 * session holding a space. */
START_TEST(test_decode_plus_is_space)
{
    apr_table_t *loaded, *current;
    const char *merged;

    decodes_to("k=a+b", "k=a b");
    decodes_to("a+b=1", "a b=1");
    ck_assert(orm_codec_is_plain(test_pool, "note=hello+world",
                                 table_of("note", "hello world", NULL)));
    /* the merge of a conflicting write (the stored data decoded, this
     * request's diff applied, encoded again): another request stored
     * note="hello world" */
    loaded = table_of("cart", "1", NULL);
    current = table_of("cart", "2", NULL);
    merged = orm_codec_encode(test_pool,
                              orm_codec_apply(test_pool,
                                              orm_codec_decode(test_pool,
                                                  "note=hello+world&cart=1"),
                                              orm_codec_diff(test_pool,
                                                             loaded,
                                                             current)));
    ck_assert_msg(strstr(merged, "note=hello%20world") != NULL
                  || strstr(merged, "note=hello+world") != NULL,
                  "merged: %s (mod_session reads note as \"hello+world\")",
                  merged);
}
END_TEST

/* mod_session (>= 2.4.47) takes everything after the key's '=' as the
 * value, and so does the codec (guards against stopping at the next '='). */
START_TEST(test_decode_value_keeps_equals)
{
    decodes_to("k=v=w", "k=v=w");
    decodes_to("k==v", "k==v");
    decodes_to("a=1&a===", "a===");
    decodes_to("U2FsdGVkX19hYmM==", "U2FsdGVkX19hYmM==");
}
END_TEST

/* mod_session unsets the key of an empty-valued pair as written, without
 * unescaping it (apr_table_unset(z->entries, key) comes before
 * ap_unescape_all), and so does the codec. Guards against unescaping the key
 * first, and skipping the unset when the key has a bad escape: */
START_TEST(test_decode_unset_uses_raw_key)
{
    /* mod_session: "a b" is set, then "a%20b" (not there) is unset */
    decodes_to("a%20b=1&a%20b=", "a b=1");
    /* mod_session: "k%zz" is set (from %25), then "k%zz" is unset */
    decodes_to("k%25zz=1&k%zz=", "");
}
END_TEST

TCase *tcase_codec(void)
{
    TCase *tc = tcase_create("codec");

    tcase_add_test(tc, test_decode_basic);
    tcase_add_test(tc, test_decode_nothing);
    tcase_add_test(tc, test_decode_strtok_semantics);
    tcase_add_test(tc, test_decode_unescape);
    tcase_add_test(tc, test_decode_empty_value_unsets);
    tcase_add_test(tc, test_decode_bad_escapes_skip_pair);
    tcase_add_test(tc, test_decode_leaves_input_alone);
    tcase_add_test(tc, test_encode_basic);
    tcase_add_test(tc, test_encode_drops_empty);
    tcase_add_test(tc, test_encode_every_byte);
    tcase_add_test(tc, test_encode_decode_round_trip);
    tcase_add_test(tc, test_is_plain);
    tcase_add_test(tc, test_diff);
    tcase_add_test(tc, test_diff_is_empty_ignores_one_key);
    tcase_add_test(tc, test_apply);
    tcase_add_test(tc, test_merge_concurrent_requests);
    tcase_add_test(tc, test_decode_only_equals_does_not_crash);
    tcase_add_test(tc, test_decode_plus_is_space);
    tcase_add_test(tc, test_decode_value_keeps_equals);
    tcase_add_test(tc, test_decode_unset_uses_raw_key);
    return tc;
}
