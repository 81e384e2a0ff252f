#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_base64.h>
#include <apr_escape.h>
#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "orm_express.h"

/* Every number as JavaScript's double (JSON.parse knows no integers), NUL
 * kept inside strings so such a member round-trips untouched. */
#define EXPRESS_LOAD_FLAGS (JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL)
#define EXPRESS_DUMP_FLAGS (JSON_ENCODE_ANY | JSON_COMPACT)

/* --- numbers as JavaScript writes them ------------------------------- */

/* The shortest decimal digits of v (no sign) that read back as v, and the
 * exponent n of ECMAScript's Number::toString: v = 0.digits x 10^n. */
static void shortest_digits(double v, char *digits, int *n)
{
    char buf[40];
    int precision, exponent, k = 0;
    char *p;

    for (precision = 1; precision <= DBL_DECIMAL_DIG; precision++) {
        snprintf(buf, sizeof(buf), "%.*e", precision - 1, v);
        if (strtod(buf, NULL) == v) {
            break;
        }
    }
    /* buf is "d.ddde[+-]xx" (or "de[+-]xx") */
    for (p = buf; *p != 'e'; p++) {
        if (*p != '.') {
            digits[k++] = *p;
        }
    }
    while (k > 1 && digits[k - 1] == '0') {
        k--;
    }
    digits[k] = '\0';
    exponent = atoi(p + 1);
    *n = exponent + 1;
}

/* count '0' characters */
static const char *zeros(apr_pool_t *pool, int count)
{
    char *z = apr_palloc(pool, (apr_size_t)count + 1);

    memset(z, '0', (size_t)count);
    z[count] = '\0';
    return z;
}

/* Number::toString(v) for a finite v (JSON has no other numbers). */
static const char *js_number_text(apr_pool_t *pool, double v)
{
    char digits[40];
    int n, k;
    const char *sign = v < 0 ? "-" : "";

    if (v == 0) {
        return "0";                     /* -0 too, as JavaScript */
    }
    shortest_digits(fabs(v), digits, &n);
    k = (int)strlen(digits);
    if (k <= n && n <= 21) {
        return apr_pstrcat(pool, sign, digits, zeros(pool, n - k), NULL);
    }
    if (0 < n && n <= 21) {
        return apr_psprintf(pool, "%s%.*s.%s", sign, n, digits, digits + n);
    }
    if (-6 < n && n <= 0) {
        return apr_pstrcat(pool, sign, "0.", zeros(pool, -n), digits, NULL);
    }
    return apr_psprintf(pool, "%s%c%s%se%c%d", sign, digits[0],
                        k > 1 ? "." : "", digits + 1,
                        n - 1 < 0 ? '-' : '+', abs(n - 1));
}

/* --- entries ---------------------------------------------------------- */

/* True for the members mod_session sees: strings without NUL, numbers,
 * booleans. */
static int is_entry(const json_t *value)
{
    if (json_is_string(value)) {
        return strlen(json_string_value(value)) == json_string_length(value);
    }
    return json_is_number(value) || json_is_boolean(value);
}

/* The members of a session by key as mod_session's apr_table compares keys
 * (ASCII case folded): keys that only case tells apart would be one entry
 * there, so no member of such a group is an entry. */
typedef struct {
    const char *key;                /* the first member's key, as stored */
    int count;                      /* members whose key folds alike */
} member_group_t;

static const char *folded_key(apr_pool_t *pool, const char *key)
{
    char *f = apr_pstrdup(pool, key), *p;

    for (p = f; *p; p++) {
        if (*p >= 'A' && *p <= 'Z') {
            *p = (char)(*p - 'A' + 'a');
        }
    }
    return f;
}

static apr_hash_t *member_groups(apr_pool_t *pool, json_t *root)
{
    apr_hash_t *groups = apr_hash_make(pool);
    const char *key;
    json_t *value;

    json_object_foreach(root, key, value) {
        const char *f = folded_key(pool, key);
        member_group_t *g = apr_hash_get(groups, f, APR_HASH_KEY_STRING);

        if (g == NULL) {
            g = apr_pcalloc(pool, sizeof(*g));
            g->key = apr_pstrdup(pool, key);
            apr_hash_set(groups, f, APR_HASH_KEY_STRING, g);
        }
        g->count++;
    }
    return groups;
}

static member_group_t *group_of(apr_pool_t *pool, apr_hash_t *groups,
                                const char *key)
{
    return apr_hash_get(groups, folded_key(pool, key), APR_HASH_KEY_STRING);
}

/* True when the member key: value is one of mod_session's entries. */
static int is_entry_member(apr_pool_t *pool, apr_hash_t *groups,
                           const char *key, const json_t *value)
{
    return is_entry(value) && group_of(pool, groups, key)->count == 1;
}

/* The entry's text of a member for which is_entry holds. */
static const char *entry_text(apr_pool_t *pool, const json_t *value)
{
    if (json_is_string(value)) {
        return apr_pstrdup(pool, json_string_value(value));
    }
    if (json_is_boolean(value)) {
        return json_is_true(value) ? "true" : "false";
    }
    return js_number_text(pool, json_number_value(value));
}

static const char *json_kind(const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_ARRAY:    return "an array";
    case JSON_STRING:   return "a string";
    case JSON_INTEGER:
    case JSON_REAL:     return "a number";
    case JSON_TRUE:
    case JSON_FALSE:    return "a boolean";
    case JSON_NULL:     return "null";
    default:            return "an object";
    }
}

/* The stored session as a jansson object (the caller json_decref's it), or
 * APR_EINVAL with *error. */
static apr_status_t load_object(apr_pool_t *pool, const char *json,
                                json_t **object, const char **error)
{
    json_error_t jerr;
    json_t *root = json_loads(json, EXPRESS_LOAD_FLAGS | JSON_DECODE_ANY,
                              &jerr);

    if (root == NULL) {
        *error = apr_psprintf(pool, "invalid JSON: %s (line %d, column %d)",
                              jerr.text, jerr.line, jerr.column);
        return APR_EINVAL;
    }
    if (!json_is_object(root)) {
        *error = apr_psprintf(pool, "the session JSON is %s, not an object",
                              json_kind(root));
        json_decref(root);
        return APR_EINVAL;
    }
    *object = root;
    return APR_SUCCESS;
}

const char *orm_express_lookup(apr_pool_t *pool, const char *json,
                               const char *path)
{
    json_t *root = NULL;
    const json_t *value;
    const char *found = NULL, *error = NULL;
    char *steps, *step, *last;

    if (json == NULL || load_object(pool, json, &root, &error)
                        != APR_SUCCESS) {
        return NULL;
    }
    value = root;
    steps = apr_pstrdup(pool, path);
    for (step = apr_strtok(steps, ".", &last); step && value;
         step = apr_strtok(NULL, ".", &last)) {
        value = json_is_object(value) ? json_object_get(value, step) : NULL;
    }
    if (json_is_string(value) || json_is_number(value)) {
        found = entry_text(pool, value);
    }
    json_decref(root);
    return found;
}

apr_status_t orm_express_decode(apr_pool_t *pool, const char *json,
                                apr_table_t **entries, const char **error)
{
    json_t *root, *value;
    const char *key;
    apr_table_t *t;
    apr_hash_t *groups;
    apr_status_t rv;

    if ((rv = load_object(pool, json, &root, error)) != APR_SUCCESS) {
        return rv;
    }
    t = apr_table_make(pool, (int)json_object_size(root));
    groups = member_groups(pool, root);
    json_object_foreach(root, key, value) {
        if (is_entry_member(pool, groups, key, value)) {
            apr_table_set(t, key, entry_text(pool, value));
        }
    }
    json_decref(root);
    *entries = t;
    return APR_SUCCESS;
}

/* --- writing back ------------------------------------------------------ */

/* s with every byte outside printable ASCII as \xNN, for error texts. */
static const char *printable(apr_pool_t *pool, const char *s)
{
    char *out = apr_palloc(pool, strlen(s) * 4 + 1), *p = out;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c >= 0x7f) {
            p += sprintf(p, "\\x%02x", c);
        }
        else {
            *p++ = (char)c;
        }
    }
    *p = '\0';
    return out;
}

/* The member an entry's text sets where the stored session had current
 * (NULL: no such member): a number or boolean stays one when decode would
 * give back exactly this text, so decoding what encode wrote gives the
 * entries it was given. NULL when text is not UTF-8. */
static json_t *typed_value(apr_pool_t *pool, const json_t *current,
                           const char *text)
{
    if (json_is_number(current)) {
        json_t *number = json_loads(text, EXPRESS_LOAD_FLAGS | JSON_DECODE_ANY,
                                    NULL);
        if (json_is_number(number)
            && !strcmp(entry_text(pool, number), text)) {
            return number;
        }
        json_decref(number);
    }
    else if (json_is_boolean(current)
             && (!strcmp(text, "true") || !strcmp(text, "false"))) {
        return json_boolean(text[0] == 't');
    }
    return json_string(text);
}

/* Date.prototype.toJSON of epoch milliseconds: 2026-11-27T10:00:00.000Z */
static const char *iso_time(apr_pool_t *pool, apr_int64_t ms)
{
    apr_time_exp_t tm;

    apr_time_exp_gmt(&tm, (apr_time_t)(ms / 1000) * APR_USEC_PER_SEC);
    return apr_psprintf(pool, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* The "cookie" member express-session keeps in every session, its members
 * in the order express-session's Cookie#data gives them. */
static json_t *fresh_cookie(apr_pool_t *pool, const orm_express_new_t *fresh)
{
    json_t *c = json_object();

    json_object_set_new(c, "originalMaxAge", fresh->max_age_ms > 0
                        ? json_real((double)fresh->max_age_ms) : json_null());
    json_object_set_new(c, "expires", fresh->expires_ms > 0
                        ? json_string(iso_time(pool, fresh->expires_ms))
                        : json_null());
    if (fresh->secure) {
        json_object_set_new(c, "secure", json_true());
    }
    json_object_set_new(c, "httpOnly", json_boolean(!fresh->http_only_off));
    if (fresh->domain != NULL) {
        json_object_set_new(c, "domain", json_string(fresh->domain));
    }
    json_object_set_new(c, "path", json_string(fresh->path ? fresh->path
                                                            : "/"));
    if (fresh->same_site != NULL) {
        json_object_set_new(c, "sameSite", json_string(fresh->same_site));
    }
    return c;
}

/* Removes the entries of root that httpd removed (those not in entries). */
static void remove_dropped(apr_pool_t *pool, json_t *root, apr_hash_t *groups,
                           const apr_table_t *entries)
{
    const char *key;
    json_t *value;
    void *next;

    json_object_foreach_safe(root, next, key, value) {
        if (is_entry_member(pool, groups, key, value)
            && apr_table_get(entries, key) == NULL) {
            json_object_del(root, key);
        }
    }
}

/* Sets one entry in root: the member of its group when that is an entry
 * (keeping the member's key as stored), a new member when there is none;
 * a member that is no entry is left alone and the key reported. */
static apr_status_t apply_entry(apr_pool_t *pool, json_t *root,
                                apr_hash_t *groups, const char *key,
                                const char *text,
                                apr_array_header_t *shadowed,
                                const char **error)
{
    member_group_t *g = group_of(pool, groups, key);
    json_t *current = g ? json_object_get(root, g->key) : NULL, *value;

    if (g != NULL && (g->count > 1 || !is_entry(current))) {
        *(const char **)apr_array_push(shadowed) = key;
        return APR_SUCCESS;
    }
    if ((value = typed_value(pool, current, text)) == NULL) {
        *error = apr_psprintf(pool, "the value of session key \"%s\" is "
                              "not valid UTF-8", printable(pool, key));
        return APR_EINVAL;
    }
    if (json_object_set_new(root, g ? g->key : key, value) != 0) {
        *error = apr_psprintf(pool, "session key \"%s\" is not valid "
                              "UTF-8", printable(pool, key));
        return APR_EINVAL;
    }
    if (g == NULL) {
        g = apr_pcalloc(pool, sizeof(*g));
        g->key = key;
        g->count = 1;
        apr_hash_set(groups, folded_key(pool, key), APR_HASH_KEY_STRING, g);
    }
    return APR_SUCCESS;
}

/* Sets each entry in root, in the table's order (a key given twice: the
 * last value wins). */
static apr_status_t apply_entries(apr_pool_t *pool, json_t *root,
                                  apr_hash_t *groups,
                                  const apr_table_t *entries,
                                  apr_array_header_t *shadowed,
                                  const char **error)
{
    const apr_array_header_t *arr = apr_table_elts(entries);
    const apr_table_entry_t *elts = (const apr_table_entry_t *)arr->elts;
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; i < arr->nelts && rv == APR_SUCCESS; i++) {
        if (elts[i].key != NULL) {
            rv = apply_entry(pool, root, groups, elts[i].key,
                             elts[i].val ? elts[i].val : "", shadowed, error);
        }
    }
    return rv;
}

/* JSON.stringify's compact text, piece by piece: jansson escapes strings
 * (UTF-8 kept, '/' not escaped), numbers are written as JavaScript does. */
typedef struct {
    apr_pool_t *pool;
    apr_array_header_t *parts;      /* of const char * */
    int failed;                     /* jansson ran out of memory */
} json_writer_t;

static void put(json_writer_t *w, const char *text)
{
    *(const char **)apr_array_push(w->parts) = text;
}

static void put_jansson(json_writer_t *w, const json_t *value)
{
    char *text = json_dumps(value, EXPRESS_DUMP_FLAGS);

    if (text == NULL) {
        w->failed = 1;
        return;
    }
    put(w, apr_pstrdup(w->pool, text));
    free(text);
}

static void write_value(json_writer_t *w, json_t *value);

static void write_object(json_writer_t *w, json_t *object)
{
    const char *key;
    json_t *member;
    int first = 1;

    put(w, "{");
    json_object_foreach(object, key, member) {
        json_t *name = json_string_nocheck(key);

        put(w, first ? "" : ",");
        put_jansson(w, name);
        json_decref(name);
        put(w, ":");
        write_value(w, member);
        first = 0;
    }
    put(w, "}");
}

static void write_array(json_writer_t *w, json_t *array)
{
    size_t i;

    put(w, "[");
    for (i = 0; i < json_array_size(array); i++) {
        put(w, i ? "," : "");
        write_value(w, json_array_get(array, i));
    }
    put(w, "]");
}

static void write_value(json_writer_t *w, json_t *value)
{
    if (json_is_object(value)) {
        write_object(w, value);
    }
    else if (json_is_array(value)) {
        write_array(w, value);
    }
    else if (json_is_real(value)) {
        put(w, js_number_text(w->pool, json_real_value(value)));
    }
    else {
        put_jansson(w, value);
    }
}

apr_status_t orm_express_encode(apr_pool_t *pool, const char *base_json,
                                const apr_table_t *entries,
                                const orm_express_new_t *fresh,
                                const char **json,
                                apr_array_header_t **shadowed,
                                const char **error)
{
    static const orm_express_new_t defaults;
    apr_array_header_t *shadow = apr_array_make(pool, 1, sizeof(char *));
    json_writer_t w = { pool, apr_array_make(pool, 64, sizeof(char *)), 0 };
    json_t *root;
    apr_hash_t *groups;
    apr_status_t rv;

    if (base_json != NULL) {
        if ((rv = load_object(pool, base_json, &root, error)) != APR_SUCCESS) {
            return rv;
        }
    }
    else {
        root = json_object();
        json_object_set_new(root, "cookie",
                            fresh_cookie(pool, fresh ? fresh : &defaults));
    }
    groups = member_groups(pool, root);
    remove_dropped(pool, root, groups, entries);
    if ((rv = apply_entries(pool, root, groups, entries, shadow, error))
        == APR_SUCCESS) {
        write_value(&w, root);
        if (w.failed) {
            *error = "out of memory writing the session JSON";
            rv = APR_ENOMEM;
        }
        else {
            *json = apr_array_pstrcat(pool, w.parts, 0);
        }
    }
    json_decref(root);
    if (shadowed != NULL) {
        *shadowed = shadow;
    }
    return rv;
}

/* --- the signed cookie ------------------------------------------------- */

/* Unpadded standard base64 of HMAC-SHA256(secret, data): cookie-signature's
 * signature. NULL when libcrypto fails. */
static const char *signature(apr_pool_t *pool, const char *data,
                             apr_size_t len, const char *secret)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    char *b64;
    int n;

    if (HMAC(EVP_sha256(), secret, (int)strlen(secret),
             (const unsigned char *)data, len, mac, &mac_len) == NULL) {
        return NULL;
    }
    b64 = apr_palloc(pool, apr_base64_encode_len((int)mac_len));
    n = apr_base64_encode_binary(b64, mac, (int)mac_len) - 1;
    while (n > 0 && b64[n - 1] == '=') {
        n--;
    }
    b64[n] = '\0';
    return b64;
}

/* What encodeURIComponent leaves as it is (ASCII, whatever the locale). */
static int is_uri_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9') || (c != '\0' && strchr("-_.!~*'()", c));
}

/* encodeURIComponent of UTF-8 text: all but A-Z a-z 0-9 -_.!~*'() as %XX */
static const char *uri_encode_component(apr_pool_t *pool, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = apr_palloc(pool, strlen(s) * 3 + 1), *p = out;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (is_uri_unreserved(c)) {
            *p++ = (char)c;
        }
        else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0x0f];
        }
    }
    *p = '\0';
    return out;
}

/* True when s[0..len) is UTF-8 as decodeURIComponent accepts it: no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
static int is_strict_utf8(const unsigned char *s, apr_size_t len)
{
    apr_size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        unsigned long cp;
        int more, j;

        if (c < 0x80) {
            i++;
            continue;
        }
        more = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2
             : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
        if (more == 0 || len - i <= (apr_size_t)more) {
            return 0;
        }
        cp = c & (0x3f >> more);
        for (j = 1; j <= more; j++) {
            if ((s[i + j] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
            || (more == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
            return 0;
        }
        i += (apr_size_t)more + 1;
    }
    return 1;
}

/* decodeURIComponent of a cookie value; NULL for a malformed escape, %00,
 * a byte outside printable ASCII or escapes that are not UTF-8. */
static const char *uri_decode_component(apr_pool_t *pool, const char *s)
{
    const unsigned char *p;
    const char *out;

    for (p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x21 || *p > 0x7e) {
            return NULL;
        }
    }
    out = apr_punescape_url(pool, s, NULL, NULL, 0);
    if (out == NULL || !is_strict_utf8((const unsigned char *)out,
                                       strlen(out))) {
        return NULL;
    }
    return out;
}

const char *orm_express_sign(apr_pool_t *pool, const char *sid,
                             const char *secret)
{
    const char *sig = signature(pool, sid, strlen(sid), secret);

    if (sig == NULL) {
        return NULL;
    }
    return uri_encode_component(pool, apr_pstrcat(pool, "s:", sid, ".", sig,
                                                  NULL));
}

/* 1 when sig is what secret gives for sid (sid_len bytes). */
static int signature_matches(apr_pool_t *pool, const char *sid,
                             apr_size_t sid_len, const char *sig,
                             const char *secret)
{
    const char *expected = signature(pool, sid, sid_len, secret);
    apr_size_t sig_len = strlen(sig);

    return expected != NULL && strlen(expected) == sig_len
        && CRYPTO_memcmp(expected, sig, sig_len) == 0;
}

const char *orm_express_unsign(apr_pool_t *pool, const char *cookie_value,
                               const apr_array_header_t *secrets)
{
    const char *value, *sid, *dot;
    apr_size_t sid_len;
    int i;

    value = uri_decode_component(pool, cookie_value);
    if (value == NULL || strncmp(value, "s:", 2) != 0) {
        return NULL;
    }
    sid = value + 2;
    if ((dot = strrchr(sid, '.')) == NULL) {
        return NULL;
    }
    sid_len = (apr_size_t)(dot - sid);
    if (sid_len == 0 || sid_len > ORM_EXPRESS_SID_MAX) {
        return NULL;
    }
    for (i = 0; i < secrets->nelts; i++) {
        const char *secret = APR_ARRAY_IDX(secrets, i, const char *);
        if (secret != NULL
            && signature_matches(pool, sid, sid_len, dot + 1, secret)) {
            return apr_pstrmemdup(pool, sid, sid_len);
        }
    }
    return NULL;
}

apr_status_t orm_express_new_sid(apr_pool_t *pool, orm_random_fn *random,
                                 const char **sid)
{
    return orm_random_base64url(pool, random, ORM_EXPRESS_SID_BYTES, sid);
}
