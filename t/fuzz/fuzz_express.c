/* libFuzzer harness: the Express format, what the `json` column and the
 * signed cookie of an Express app (or anyone who can write them) hold.
 *
 * Properties checked (abort on violation):
 *  - orm_express_decode either fails with an error text or gives entries;
 *    then orm_express_encode on the input with those entries succeeds,
 *    gives JSON equal to the input (jansson's json_equal, the same
 *    top-level keys in the same order), decoding it gives the same
 *    entries, and encoding that again gives the same text.
 *  - With the entries changed (each set to another entry's text, the first
 *    removed, a new key added), encode succeeds and decoding gives exactly
 *    the changed entries, but for the keys it reports as shadowed.
 *  - orm_express_unsign of the input with two secrets gives NULL or a sid
 *    of 1..255 bytes; a sid signed with either secret unsigns to itself
 *    with both, and not with a third.
 *  - orm_express_sign of the input as a sid unsigns back to it exactly
 *    when it is 1..255 bytes of UTF-8 (as jansson checks UTF-8).
 */
#include <stdint.h>

#include <jansson.h>

#include "fuzz_common.h"
#include "orm_express.h"

static const char *const secret_1 = "keyboard cat";
static const char *const secret_2 = "s\xc3\xa9" "cond";

static apr_array_header_t *secrets(apr_pool_t *pool, const char *a,
                                   const char *b)
{
    apr_array_header_t *list = apr_array_make(pool, 2, sizeof(char *));

    *(const char **)apr_array_push(list) = a;
    if (b != NULL) {
        *(const char **)apr_array_push(list) = b;
    }
    return list;
}

static int same_entries(const apr_table_t *a, const apr_table_t *b,
                        const apr_array_header_t *skip)
{
    const apr_array_header_t *arr = apr_table_elts(a);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    int i, j, skipped = 0;

    for (i = 0; i < arr->nelts; i++) {
        const char *v = apr_table_get(b, e[i].key);
        int shadowed = 0;

        for (j = 0; skip != NULL && j < skip->nelts; j++) {
            shadowed |= !strcmp(APR_ARRAY_IDX(skip, j, const char *),
                                e[i].key);
        }
        if (shadowed) {
            skipped++;
            continue;
        }
        if (v == NULL || strcmp(v, e[i].val) != 0) {
            return 0;
        }
    }
    return apr_table_elts(b)->nelts == arr->nelts - skipped;
}

/* 1 when both are JSON objects with equal members, top-level keys in the
 * same order. */
static int same_json(const char *a, const char *b)
{
    int flags = JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL;
    json_t *ja = json_loads(a, flags, NULL), *jb = json_loads(b, flags, NULL);
    int same = ja && jb && json_equal(ja, jb);
    void *ia = ja ? json_object_iter(ja) : NULL;
    void *ib = jb ? json_object_iter(jb) : NULL;

    while (same && (ia || ib)) {
        same = ia && ib && !strcmp(json_object_iter_key(ia),
                                   json_object_iter_key(ib));
        ia = ia ? json_object_iter_next(ja, ia) : NULL;
        ib = ib ? json_object_iter_next(jb, ib) : NULL;
    }
    json_decref(ja);
    json_decref(jb);
    return same;
}

/* encode(base, entries) succeeds and its JSON decodes: *back */
static const char *encode_decode(apr_pool_t *pool, const char *base,
                                 const apr_table_t *entries,
                                 apr_array_header_t **shadowed,
                                 apr_table_t **back)
{
    const char *json = NULL, *error = NULL;

    FUZZ_REQUIRE(orm_express_encode(pool, base, entries, NULL, &json,
                                    shadowed, &error) == APR_SUCCESS,
                 "encode of %s failed: %s", fuzz_show(pool, base), error);
    FUZZ_REQUIRE(orm_express_decode(pool, json, back, &error) == APR_SUCCESS,
                 "output %s does not decode: %s", fuzz_show(pool, json),
                 error);
    return json;
}

static void check_changed(apr_pool_t *pool, const char *base,
                          const apr_table_t *entries)
{
    const apr_array_header_t *arr = apr_table_elts(entries);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_table_t *changed = apr_table_make(pool, arr->nelts + 1), *back;
    apr_array_header_t *shadowed = NULL;
    const char *json;
    int i;

    for (i = 1; i < arr->nelts; i++) {
        apr_table_set(changed, e[i].key, e[(i + 1) % arr->nelts].val);
    }
    apr_table_set(changed, "fuzz-new", arr->nelts ? e[0].val : "1");
    json = encode_decode(pool, base, changed, &shadowed, &back);
    FUZZ_REQUIRE(same_entries(changed, back, shadowed),
                 "changed entries do not decode back from %s",
                 fuzz_show(pool, json));
}

static void check_json(apr_pool_t *pool, const char *text)
{
    apr_table_t *entries = NULL, *again = NULL;
    apr_array_header_t *shadowed = NULL;
    const char *json, *json2 = NULL, *error = NULL;

    if (orm_express_decode(pool, text, &entries, &error) != APR_SUCCESS) {
        FUZZ_REQUIRE(error != NULL && *error, "decode failed without error");
        return;
    }
    json = encode_decode(pool, text, entries, &shadowed, &again);
    FUZZ_REQUIRE(shadowed->nelts == 0, "decoded entries shadowed");
    FUZZ_REQUIRE(same_json(text, json), "%s written back as %s",
                 fuzz_show(pool, text), fuzz_show(pool, json));
    FUZZ_REQUIRE(same_entries(entries, again, NULL),
                 "entries differ after a round trip through %s",
                 fuzz_show(pool, json));
    FUZZ_REQUIRE(orm_express_encode(pool, json, again, NULL, &json2,
                                    NULL, &error) == APR_SUCCESS
                 && !strcmp(json, json2), "second encode %s differs from %s",
                 fuzz_show(pool, json2), fuzz_show(pool, json));
    check_changed(pool, text, entries);
}

static void check_unsign(apr_pool_t *pool, const char *text)
{
    apr_array_header_t *both = secrets(pool, secret_1, secret_2);
    const char *sid = orm_express_unsign(pool, text, both);
    size_t len;

    if (sid == NULL) {
        return;
    }
    len = strlen(sid);
    FUZZ_REQUIRE(len >= 1 && len <= ORM_EXPRESS_SID_MAX, "sid of %zu bytes",
                 len);
    FUZZ_REQUIRE(!strcmp(orm_express_unsign(pool, orm_express_sign(pool, sid,
                         secret_1), both), sid), "re-signed %s does not "
                 "verify", fuzz_show(pool, sid));
    FUZZ_REQUIRE(!strcmp(orm_express_unsign(pool, orm_express_sign(pool, sid,
                         secret_2), secrets(pool, secret_2, NULL)), sid),
                 "re-signed %s does not verify", fuzz_show(pool, sid));
    FUZZ_REQUIRE(orm_express_unsign(pool, text, secrets(pool, "other", NULL))
                 == NULL, "%s verifies with an unrelated secret",
                 fuzz_show(pool, text));
}

static void check_sign(apr_pool_t *pool, const char *sid)
{
    size_t len = strlen(sid);
    json_t *s = json_string(sid);
    int expected = len >= 1 && len <= ORM_EXPRESS_SID_MAX && s != NULL;
    const char *cookie = orm_express_sign(pool, sid, secret_2);
    const char *back = orm_express_unsign(pool, cookie,
                                          secrets(pool, secret_1, secret_2));

    json_decref(s);
    FUZZ_REQUIRE(expected ? back && !strcmp(back, sid) : back == NULL,
                 "sign/unsign of %s gave %s", fuzz_show(pool, sid),
                 fuzz_show(pool, back));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    char *text = fuzz_cstr(pool, data, size);

    check_json(pool, text);
    check_unsign(pool, text);
    check_sign(pool, text);
    apr_pool_destroy(pool);
    return 0;
}
