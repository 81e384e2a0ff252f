/* libFuzzer harness: the data column of a stored row, as mod_session's
 * encoding, and the key-level merge of concurrent writes.
 *
 * Properties checked (abort on violation):
 *  - orm_codec_decode never fails; its entries have non-empty keys and
 *    values and no two keys equal ignoring case (apr_table semantics).
 *  - orm_codec_encode writes only [A-Za-z0-9._~-], '=', '&' and %XX with
 *    upper-case hex; decode(encode(t)) is t, entry by entry in order, both
 *    for decoded tables and for tables of arbitrary bytes; encoding is
 *    deterministic; orm_codec_is_plain(encode(t), t) holds, and fails
 *    against a table with an entry more or changed.
 *  - diff/apply, for tables a and b from the two halves of the input:
 *    apply(a, diff(a, b)) equals b as a table; diff(a, b) is empty exactly
 *    when a equals b; an empty diff ignoring "expiry" means a and b differ
 *    at most in "expiry"; applying the diff to a third table c (another
 *    writer's version) gives b's value for every key the diff sets, drops
 *    every key it removes, and keeps c's value for every other key.
 *  - decode agrees with a copy of mod_session's own decoder (httpd >=
 *    2.4.47 session_identity_decode, expiry key kept in the table).
 */
#include <stdint.h>
#include <strings.h>

#include <apr_tables.h>
#include <apr_lib.h>

#include "fuzz_common.h"
#include "orm_codec.h"

static const apr_table_entry_t *entries(const apr_table_t *t, int *n)
{
    const apr_array_header_t *arr = apr_table_elts(t);
    *n = arr->nelts;
    return (const apr_table_entry_t *)arr->elts;
}

static const char *show_table(apr_pool_t *pool, const apr_table_t *t)
{
    int n, i;
    const apr_table_entry_t *e = entries(t, &n);
    const char *out = "{";

    for (i = 0; i < n && i < 16; i++) {
        out = apr_pstrcat(pool, out, i ? ", " : "", fuzz_show(pool, e[i].key),
                          ": ", fuzz_show(pool, e[i].val), NULL);
    }
    return apr_pstrcat(pool, out, i < n ? ", ...}" : "}", NULL);
}

/* Same entries in the same order, byte for byte. */
static int identical(const apr_table_t *a, const apr_table_t *b)
{
    int na, nb, i;
    const apr_table_entry_t *ea = entries(a, &na), *eb = entries(b, &nb);

    if (na != nb) {
        return 0;
    }
    for (i = 0; i < na; i++) {
        if (strcmp(ea[i].key, eb[i].key) || strcmp(ea[i].val, eb[i].val)) {
            return 0;
        }
    }
    return 1;
}

/* Every key of a has the same value in b (keys compared as apr does). */
static int contained(const apr_table_t *a, const apr_table_t *b)
{
    int n, i;
    const apr_table_entry_t *e = entries(a, &n);

    for (i = 0; i < n; i++) {
        const char *v = apr_table_get(b, e[i].key);
        if (v == NULL || strcmp(v, e[i].val)) {
            return 0;
        }
    }
    return 1;
}

static int equal_as_tables(const apr_table_t *a, const apr_table_t *b)
{
    return contained(a, b) && contained(b, a);
}

static void check_unique(apr_pool_t *pool, const apr_table_t *t,
                         int values_nonempty)
{
    int n, i;
    const apr_table_entry_t *e = entries(t, &n);

    for (i = 0; i < n; i++) {
        FUZZ_REQUIRE(e[i].key && *e[i].key && e[i].val
                     && (!values_nonempty || *e[i].val),
                     "empty key or value in %s", show_table(pool, t));
        /* the first entry found for the key must be this one */
        FUZZ_REQUIRE(apr_table_get(t, e[i].key) == e[i].val,
                     "key %s twice in %s", fuzz_show(pool, e[i].key),
                     show_table(pool, t));
    }
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
        || c == '~';
}

static int is_upper_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static void check_encoding_alphabet(apr_pool_t *pool, const char *enc)
{
    const unsigned char *p = (const unsigned char *)enc;

    for (; *p; p++) {
        if (*p == '%') {
            FUZZ_REQUIRE(is_upper_hex(p[1]) && is_upper_hex(p[2])
                         && !(p[1] == '0' && p[2] == '0'),
                         "bad escape in %s", fuzz_show(pool, enc));
            p += 2;
        }
        else {
            FUZZ_REQUIRE(is_unreserved(*p) || *p == '=' || *p == '&',
                         "byte 0x%02x unescaped in %s", *p,
                         fuzz_show(pool, enc));
        }
    }
}

static void check_round_trip(apr_pool_t *pool, const apr_table_t *t,
                             const char *what)
{
    const char *enc = orm_codec_encode(pool, t);
    apr_table_t *back, *more;
    int n;
    const apr_table_entry_t *e;

    FUZZ_REQUIRE(enc != NULL, "encode returned NULL");
    check_encoding_alphabet(pool, enc);
    back = orm_codec_decode(pool, enc);
    FUZZ_REQUIRE(identical(back, t), "%s: decode(encode(t)) = %s, t = %s "
                 "(encoded %s)", what, show_table(pool, back),
                 show_table(pool, t), fuzz_show(pool, enc));
    FUZZ_REQUIRE(!strcmp(orm_codec_encode(pool, back), enc),
                 "%s: encoding not deterministic", what);
    FUZZ_REQUIRE(orm_codec_is_plain(pool, enc, t),
                 "%s: is_plain(encode(t), t) false for %s", what,
                 show_table(pool, t));

    /* one entry more, or one value changed: no longer the same entries */
    more = apr_table_copy(pool, t);
    apr_table_set(more, "orm-fuzz-extra", "1");
    if (apr_table_get(t, "orm-fuzz-extra") == NULL) {
        FUZZ_REQUIRE(!orm_codec_is_plain(pool, enc, more),
                     "%s: is_plain true with an extra entry", what);
    }
    e = entries(t, &n);
    if (n > 0) {
        apr_table_t *changed = apr_table_copy(pool, t);
        apr_table_set(changed, e[0].key, apr_pstrcat(pool, e[0].val, "x",
                                                     NULL));
        FUZZ_REQUIRE(!orm_codec_is_plain(pool, enc, changed),
                     "%s: is_plain true with a changed value", what);
    }
}

/* A table of arbitrary bytes: lines "key<TAB>value", nothing unescaped. */
static apr_table_t *raw_table(apr_pool_t *pool, const char *text,
                              int allow_empty_values)
{
    apr_table_t *t = apr_table_make(pool, 8);
    char *copy = apr_pstrdup(pool, text), *line, *state = NULL;

    for (line = apr_strtok(copy, "\n", &state); line;
         line = apr_strtok(NULL, "\n", &state)) {
        char *tab = strchr(line, '\t');
        if (tab == NULL || tab == line) {
            continue;
        }
        *tab = '\0';
        if (tab[1] == '\0' && !allow_empty_values) {
            continue;
        }
        apr_table_set(t, line, tab + 1);
    }
    return t;
}

static int is_exact_expiry_spelling(const apr_table_t *t)
{
    const char *v = apr_table_get(t, "expiry");
    int n, i;
    const apr_table_entry_t *e = entries(t, &n);

    if (v == NULL) {
        return 1;
    }
    for (i = 0; i < n; i++) {
        if (!strcasecmp(e[i].key, "expiry")) {
            return !strcmp(e[i].key, "expiry");
        }
    }
    return 1;
}

static int key_removed(const orm_diff_t *d, const char *key)
{
    int i;

    for (i = 0; i < d->removed->nelts; i++) {
        if (!strcasecmp(APR_ARRAY_IDX(d->removed, i, const char *), key)) {
            return 1;
        }
    }
    return 0;
}

static void check_diff(apr_pool_t *pool, const apr_table_t *a,
                       const apr_table_t *b, const apr_table_t *c)
{
    orm_diff_t *d = orm_codec_diff(pool, a, b);
    orm_diff_t *self = orm_codec_diff(pool, a, a);
    apr_table_t *merged = orm_codec_apply(pool, a, d);
    apr_table_t *a_wo, *b_wo, *other;
    int equal = equal_as_tables(a, b);
    int n, i;
    const apr_table_entry_t *e;

    FUZZ_REQUIRE(d && d->set && d->removed, "diff incomplete");
    FUZZ_REQUIRE(equal_as_tables(merged, b), "apply(a, diff(a, b)) = %s, "
                 "b = %s, a = %s", show_table(pool, merged),
                 show_table(pool, b), show_table(pool, a));
    FUZZ_REQUIRE(orm_diff_is_empty(self, NULL) && orm_diff_is_empty(self,
                                                                     "expiry"),
                 "diff(a, a) not empty for a = %s", show_table(pool, a));
    FUZZ_REQUIRE(orm_diff_is_empty(d, NULL) == equal,
                 "diff_is_empty = %d but a %s b: a = %s, b = %s",
                 orm_diff_is_empty(d, NULL), equal ? "equals" : "differs from",
                 show_table(pool, a), show_table(pool, b));
    /* the stored table is not changed by apply */
    FUZZ_REQUIRE(equal_as_tables(orm_codec_apply(pool, a, self), a),
                 "apply(a, diff(a, a)) differs from a");

    a_wo = apr_table_copy(pool, a);
    b_wo = apr_table_copy(pool, b);
    apr_table_unset(a_wo, "expiry");
    apr_table_unset(b_wo, "expiry");
    if (orm_diff_is_empty(d, "expiry")) {
        FUZZ_REQUIRE(equal_as_tables(a_wo, b_wo), "diff ignoring expiry is "
                     "empty but a = %s, b = %s", show_table(pool, a),
                     show_table(pool, b));
    }
    else if (is_exact_expiry_spelling(a) && is_exact_expiry_spelling(b)) {
        FUZZ_REQUIRE(!equal_as_tables(a_wo, b_wo), "a and b differ only in "
                     "expiry but the diff is not empty: a = %s, b = %s",
                     show_table(pool, a), show_table(pool, b));
    }

    /* merged into another writer's version c */
    other = orm_codec_apply(pool, c, d);
    e = entries(d->set, &n);
    for (i = 0; i < n; i++) {
        const char *v = apr_table_get(other, e[i].key);
        FUZZ_REQUIRE(v && !strcmp(v, e[i].val), "merge lost set key %s",
                     fuzz_show(pool, e[i].key));
    }
    for (i = 0; i < d->removed->nelts; i++) {
        const char *k = APR_ARRAY_IDX(d->removed, i, const char *);
        FUZZ_REQUIRE(apr_table_get(other, k) == NULL
                     || apr_table_get(d->set, k) != NULL,
                     "merge kept removed key %s", fuzz_show(pool, k));
    }
    e = entries(c, &n);
    for (i = 0; i < n; i++) {
        if (apr_table_get(d->set, e[i].key) == NULL
            && !key_removed(d, e[i].key)) {
            const char *v = apr_table_get(other, e[i].key);
            FUZZ_REQUIRE(v && !strcmp(v, e[i].val), "merge changed key %s "
                         "the diff does not touch", fuzz_show(pool, e[i].key));
        }
    }
    e = entries(other, &n);
    for (i = 0; i < n; i++) {
        FUZZ_REQUIRE(apr_table_get(c, e[i].key) != NULL
                     || apr_table_get(d->set, e[i].key) != NULL,
                     "merge invented key %s", fuzz_show(pool, e[i].key));
    }
}

/* httpd 2.4 ap_unescape_urlencoded ('+' is a space, then %XX as
 * ap_unescape_all, %00 refused): 0 on success. */
static int ms_unescape(char *url)
{
    char *x, *y;
    int bad = 0;

    for (x = url; *x; x++) {
        if (*x == '+') {
            *x = ' ';
        }
    }
    for (x = y = url; *y; ++x, ++y) {
        if (*y != '%') {
            *x = *y;
        }
        else if (!apr_isxdigit(y[1]) || !apr_isxdigit(y[2])) {
            bad = 1;
            *x = '%';
        }
        else {
            char hex[3] = { y[1], y[2], 0 };
            *x = (char)strtol(hex, NULL, 16);
            if (*x == '\0') {
                bad = 1;
            }
            y += 2;
        }
    }
    *x = '\0';
    return bad;
}

/* mod_session.c session_identity_decode as of httpd 2.4.47 (after
 * CVE-2021-26690: the key is checked before the value is read, and the
 * value is the rest of the pair), with "expiry" left in the table */
static apr_table_t *ms_decode(apr_pool_t *pool, const char *text)
{
    apr_table_t *t = apr_table_make(pool, 8);
    const char *sep = "&";
    char *last = NULL, *encoded = apr_pstrdup(pool, text);
    char *pair = apr_strtok(encoded, sep, &last);

    while (pair && pair[0]) {
        char *plast = NULL;
        char *key = apr_strtok(pair, "=", &plast);
        if (key && *key) {
            char *val = apr_strtok(NULL, sep, &plast);
            if (!val || !*val) {
                apr_table_unset(t, key);
            }
            else if (!ms_unescape(key) && !ms_unescape(val)) {
                apr_table_set(t, key, val);
            }
        }
        pair = apr_strtok(NULL, sep, &last);
    }
    return t;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    char *text = fuzz_cstr(pool, data, size);
    size_t half = size / 2;
    char *first = fuzz_cstr(pool, data, half);
    char *second = fuzz_cstr(pool, data + half, size - half);
    apr_table_t *t, *a, *b;

    FUZZ_REQUIRE(apr_is_empty_table(orm_codec_decode(pool, NULL)),
                 "decode(NULL) not empty");
    t = orm_codec_decode(pool, text);
    FUZZ_REQUIRE(t != NULL, "decode returned NULL");
    check_unique(pool, t, 1);
    check_round_trip(pool, t, "decoded");
    check_round_trip(pool, raw_table(pool, text, 0), "raw");
    {
        apr_table_t *ms = ms_decode(pool, text);
        FUZZ_REQUIRE(identical(ms, t), "decode %s = %s, mod_session: %s",
                     fuzz_show(pool, text), show_table(pool, t),
                     show_table(pool, ms));
    }

    a = orm_codec_decode(pool, first);
    b = orm_codec_decode(pool, second);
    check_unique(pool, a, 1);
    check_unique(pool, b, 1);
    check_diff(pool, a, b, t);
    check_diff(pool, b, a, orm_codec_decode(pool, "expiry=1&a=1&b=2"));
    /* tables of arbitrary bytes, empty values included */
    check_diff(pool, raw_table(pool, first, 1), raw_table(pool, second, 1),
               raw_table(pool, text, 1));
    apr_pool_destroy(pool);
    return 0;
}
