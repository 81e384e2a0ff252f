#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "orm_codec.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* In place, as httpd's ap_unescape_urlencoded: '+' is a space, %XX a byte;
 * 0 when an escape is malformed or decodes to NUL. */
static int unescape(char *text)
{
    char *in = text, *out = text;

    while (*in) {
        if (*in == '%') {
            int hi = hex_value(in[1]);
            int lo = hi < 0 ? -1 : hex_value(in[2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return 0;
            }
            *out++ = (char)(hi * 16 + lo);
            in += 3;
        }
        else {
            *out++ = *in == '+' ? ' ' : *in;
            in++;
        }
    }
    *out = '\0';
    return 1;
}

/* As mod_session 2.4.47+ decodes: the key ends at the first '=', the value
 * is the rest of the pair; an empty value unsets the key as written. */
apr_table_t *orm_codec_decode(apr_pool_t *pool, const char *encoded)
{
    apr_table_t *entries = apr_table_make(pool, 8);
    char *copy, *pair, *last = NULL;

    if (encoded == NULL) {
        return entries;
    }
    copy = apr_pstrdup(pool, encoded);
    for (pair = apr_strtok(copy, "&", &last); pair;
         pair = apr_strtok(NULL, "&", &last)) {
        char *value = strchr(pair, '=');
        char *key = pair;

        while (*key == '=') {
            key++;              /* apr_strtok skips leading separators */
        }
        if (*key == '\0') {
            continue;
        }
        value = strchr(key, '=');
        if (value) {
            *value++ = '\0';
        }
        if (value == NULL || *value == '\0') {
            apr_table_unset(entries, key);
            continue;
        }
        if (unescape(key) && unescape(value)) {
            apr_table_set(entries, key, value);
        }
    }
    return entries;
}

static int is_unreserved(unsigned char c)
{
    return apr_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static char *escape(apr_pool_t *pool, const char *text)
{
    static const char hexdigits[] = "0123456789ABCDEF";
    char *out = apr_palloc(pool, strlen(text) * 3 + 1);
    char *p = out;

    for (; *text; text++) {
        unsigned char c = (unsigned char)*text;
        if (is_unreserved(c)) {
            *p++ = (char)c;
        }
        else {
            *p++ = '%';
            *p++ = hexdigits[c >> 4];
            *p++ = hexdigits[c & 0x0f];
        }
    }
    *p = '\0';
    return out;
}

typedef struct {
    apr_pool_t *pool;
    apr_array_header_t *parts;
} encode_baton_t;

static int encode_entry(void *data, const char *key, const char *value)
{
    encode_baton_t *baton = data;

    if (*key && value && *value) {   /* empty values do not survive decode */
        APR_ARRAY_PUSH(baton->parts, const char *) =
            apr_pstrcat(baton->pool, escape(baton->pool, key), "=",
                        escape(baton->pool, value), NULL);
    }
    return 1;
}

const char *orm_codec_encode(apr_pool_t *pool, const apr_table_t *entries)
{
    encode_baton_t baton;

    baton.pool = pool;
    baton.parts = apr_array_make(pool, 8, sizeof(const char *));
    apr_table_do(encode_entry, &baton, entries, NULL);
    return apr_array_pstrcat(pool, baton.parts, '&');
}

typedef struct {
    const apr_table_t *other;
    int same;
} compare_baton_t;

static int same_in_other(void *data, const char *key, const char *value)
{
    compare_baton_t *baton = data;
    const char *there = apr_table_get(baton->other, key);

    if (there == NULL || strcmp(there, value)) {
        baton->same = 0;
    }
    return baton->same;
}

/* Every key of a has the same value in b. */
static int contained(const apr_table_t *a, const apr_table_t *b)
{
    compare_baton_t baton;

    baton.other = b;
    baton.same = 1;
    apr_table_do(same_in_other, &baton, a, NULL);
    return baton.same;
}

int orm_codec_is_plain(apr_pool_t *pool, const char *encoded,
                       const apr_table_t *entries)
{
    apr_table_t *decoded = orm_codec_decode(pool, encoded);

    return contained(decoded, entries) && contained(entries, decoded);
}

typedef struct {
    apr_pool_t *pool;
    const apr_table_t *other;
    orm_diff_t *diff;
} diff_baton_t;

static int note_set(void *data, const char *key, const char *value)
{
    diff_baton_t *baton = data;
    const char *before = apr_table_get(baton->other, key);

    if (before == NULL || strcmp(before, value)) {
        apr_table_set(baton->diff->set, key, value);
    }
    return 1;
}

static int note_removed(void *data, const char *key, const char *value)
{
    diff_baton_t *baton = data;
    (void)value;

    if (apr_table_get(baton->other, key) == NULL) {
        APR_ARRAY_PUSH(baton->diff->removed, const char *) =
            apr_pstrdup(baton->pool, key);
    }
    return 1;
}

orm_diff_t *orm_codec_diff(apr_pool_t *pool, const apr_table_t *loaded,
                           const apr_table_t *current)
{
    orm_diff_t *diff = apr_pcalloc(pool, sizeof(*diff));
    diff_baton_t baton;

    diff->set = apr_table_make(pool, 4);
    diff->removed = apr_array_make(pool, 2, sizeof(const char *));
    baton.pool = pool;
    baton.diff = diff;
    baton.other = loaded;
    apr_table_do(note_set, &baton, current, NULL);
    baton.other = current;
    apr_table_do(note_removed, &baton, loaded, NULL);
    return diff;
}

typedef struct {
    const char *ignore;
    int empty;
} empty_baton_t;

static int only_ignored(void *data, const char *key, const char *value)
{
    empty_baton_t *baton = data;
    (void)value;

    if (baton->ignore == NULL || strcmp(key, baton->ignore)) {
        baton->empty = 0;
    }
    return baton->empty;
}

int orm_diff_is_empty(const orm_diff_t *diff, const char *ignore)
{
    empty_baton_t baton;
    int i;

    baton.ignore = ignore;
    baton.empty = 1;
    apr_table_do(only_ignored, &baton, diff->set, NULL);
    for (i = 0; baton.empty && i < diff->removed->nelts; i++) {
        const char *key = APR_ARRAY_IDX(diff->removed, i, const char *);
        baton.empty = ignore != NULL && !strcmp(key, ignore);
    }
    return baton.empty;
}

apr_table_t *orm_codec_apply(apr_pool_t *pool, const apr_table_t *stored,
                             const orm_diff_t *diff)
{
    apr_table_t *merged = apr_table_copy(pool, stored);
    const apr_array_header_t *set = apr_table_elts(diff->set);
    const apr_table_entry_t *elts = (const apr_table_entry_t *)set->elts;
    int i;

    for (i = 0; i < diff->removed->nelts; i++) {
        apr_table_unset(merged, APR_ARRAY_IDX(diff->removed, i, const char *));
    }
    for (i = 0; i < set->nelts; i++) {
        apr_table_set(merged, elts[i].key, elts[i].val);
    }
    return merged;
}
