#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "orm_cookie.h"

void orm_cookie_attrs_init(orm_cookie_attrs_t *attrs)
{
    attrs->path = NULL;
    attrs->domain = NULL;
    attrs->same_site = NULL;
    attrs->http_only = ORM_FLAG_UNSET;
    attrs->secure = ORM_FLAG_UNSET;
    attrs->partitioned = ORM_FLAG_UNSET;
    attrs->version_ignored = 0;
}

/* RFC 6265 token: visible ASCII except separators. */
static int is_token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", c);
}

const char *orm_cookie_name_check(const char *name)
{
    const char *p;

    if (name == NULL || *name == '\0') {
        return "cookie name is empty";
    }
    for (p = name; *p; p++) {
        if (!is_token_char((unsigned char)*p)) {
            return "cookie name may contain only visible ASCII characters "
                   "other than ()<>@,;:\\\"/[]?={}";
        }
    }
    return NULL;
}

/* An attribute value ends up verbatim in Set-Cookie: no separators, no
 * control characters, no white space. */
static int is_plain_value(const char *value)
{
    const unsigned char *p;

    if (*value == '\0') {
        return 0;
    }
    for (p = (const unsigned char *)value; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == ';' || *p == ',' || *p == '"') {
            return 0;
        }
    }
    return 1;
}

static const char *parse_flag(apr_pool_t *pool, const char *name,
                              const char *value, orm_flag_e *flag)
{
    if (value == NULL || !strcasecmp(value, "on")) {
        *flag = ORM_FLAG_ON;
    }
    else if (!strcasecmp(value, "off")) {
        *flag = ORM_FLAG_OFF;
    }
    else {
        return apr_psprintf(pool, "cookie attribute %s takes On or Off, "
                            "not '%s'", name, value);
    }
    return NULL;
}

/* The item without white space at either end (inside it stays, and is
 * rejected later). */
static char *trimmed(char *item)
{
    char *end;

    while (apr_isspace(*item)) {
        item++;
    }
    end = item + strlen(item);
    while (end > item && apr_isspace(end[-1])) {
        *--end = '\0';
    }
    return item;
}

/* The flag attribute called name, or NULL. */
static orm_flag_e *flag_named(orm_cookie_attrs_t *attrs, const char *name,
                              const char **canonical)
{
    static const char *const names[] = { "HttpOnly", "Secure",
                                         "Partitioned" };
    orm_flag_e *const flags[] = { &attrs->http_only, &attrs->secure,
                                  &attrs->partitioned };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!strcasecmp(name, names[i])) {
            *canonical = names[i];
            return flags[i];
        }
    }
    return NULL;
}

/* One of the attributes that take a value (Path, Domain, SameSite), its
 * value already trimmed and checked to be plain. */
static const char *parse_valued(apr_pool_t *pool, const char *name,
                                const char *value, orm_cookie_attrs_t *attrs)
{
    if (!strcasecmp(name, "Path")) {
        if (value[0] != '/') {
            return apr_psprintf(pool, "cookie Path must start with '/', "
                                "not '%s'", value);
        }
        attrs->path = value;
    }
    else if (!strcasecmp(name, "Domain")) {
        attrs->domain = value;
    }
    else if (!strcasecmp(name, "SameSite")) {
        if (!strcasecmp(value, "Strict")) {
            attrs->same_site = "Strict";
        }
        else if (!strcasecmp(value, "Lax")) {
            attrs->same_site = "Lax";
        }
        else if (!strcasecmp(value, "None")) {
            attrs->same_site = "None";
        }
        else {
            return apr_psprintf(pool, "cookie SameSite takes Strict, Lax "
                                "or None, not '%s'", value);
        }
    }
    else {
        return apr_psprintf(pool, "unknown cookie attribute '%s' (known: "
                            "Path, Domain, SameSite, Secure, HttpOnly, "
                            "Partitioned)",
                            name);
    }
    return NULL;
}

/* One ';'-separated item of the attributes: a flag, the ignored Version,
 * or an attribute with a value; NULL or what is wrong with it. */
static const char *parse_one(apr_pool_t *pool, char *item,
                             orm_cookie_attrs_t *attrs)
{
    const char *canonical = NULL;
    orm_flag_e *flag;
    char *name = trimmed(item);
    char *value = strchr(name, '=');

    if (*name == '\0') {
        return NULL;            /* "a;;b" and a trailing ';' are harmless */
    }
    if (value) {
        *value++ = '\0';
        name = trimmed(name);
        value = trimmed(value);
    }
    if ((flag = flag_named(attrs, name, &canonical)) != NULL) {
        return parse_flag(pool, canonical, value, flag);
    }
    if (!strcasecmp(name, "Version") && value && *value
        && strspn(value, "0123456789") == strlen(value)) {
        attrs->version_ignored = 1;
        return NULL;
    }
    if (!strcasecmp(name, "Max-Age") || !strcasecmp(name, "Expires")) {
        return apr_psprintf(pool, "cookie attribute %s cannot be set: the "
                            "cookie's lifetime follows SessionORMTTL", name);
    }
    if (value == NULL || !is_plain_value(value)) {
        return apr_psprintf(pool, "cookie attribute %s needs a value "
                            "without spaces, quotes, ',' or ';'", name);
    }
    return parse_valued(pool, name, value, attrs);
}

const char *orm_cookie_attrs_parse(apr_pool_t *pool, const char *arg,
                                   orm_cookie_attrs_t *attrs)
{
    char *copy = apr_pstrdup(pool, arg);
    char *state = NULL;
    char *item;
    const char *err;

    for (item = apr_strtok(copy, ";", &state); item;
         item = apr_strtok(NULL, ";", &state)) {
        if ((err = parse_one(pool, item, attrs)) != NULL) {
            return err;
        }
    }
    /* browsers drop a partitioned cookie that is not Secure */
    if (attrs->partitioned == ORM_FLAG_ON && attrs->secure == ORM_FLAG_OFF) {
        return "cookie attribute Partitioned needs Secure (not Secure=Off)";
    }
    return NULL;
}

const char *orm_cookie_header(apr_pool_t *pool, const char *name,
                              const char *value,
                              const orm_cookie_attrs_t *attrs,
                              apr_int64_t max_age_seconds, int is_https)
{
    int secure = attrs->secure == ORM_FLAG_UNSET ? is_https
                                                 : attrs->secure == ORM_FLAG_ON;
    int http_only = attrs->http_only != ORM_FLAG_OFF;

    return apr_pstrcat(pool, name, "=", value,
                       "; Max-Age=", apr_psprintf(pool, "%" APR_INT64_T_FMT,
                                                  max_age_seconds),
                       "; Path=", attrs->path ? attrs->path : "/",
                       attrs->domain ? "; Domain=" : "",
                       attrs->domain ? attrs->domain : "",
                       "; SameSite=",
                       attrs->same_site ? attrs->same_site : "Lax",
                       http_only ? "; HttpOnly" : "",
                       secure ? "; Secure" : "",
                       attrs->partitioned == ORM_FLAG_ON ? "; Partitioned"
                                                         : "", NULL);
}

/* One pair of a Cookie request header, found without copying it. */
typedef struct {
    const char *start;      /* first byte of the pair (white space skipped) */
    const char *end;        /* one past its last non-space byte */
    const char *next;       /* one past its separator: where the next one
                             * starts (the header's end for the last) */
    int ours;               /* named name: "name=value", "name = value" */
    const char *value;      /* ours: the value, quotes included */
} cookie_pair_t;

/* The pair at p. Pairs are separated by ';' (RFC 6265) and by ',', which
 * httpd puts between repeated Cookie headers. Nothing inside a pair is
 * changed or relied on beyond its name, so a ',' or a quote in another
 * cookie's value only splits that value into pieces that are not ours. A
 * quote never hides a ';': browsers end a cookie there, and most
 * applications split there, so it must end ours too. */
static void next_pair(const char *p, const char *name, apr_size_t name_len,
                      cookie_pair_t *pair)
{
    const char *sep = p + strcspn(p, ";,");
    const char *rest;

    while (p < sep && apr_isspace(*p)) {
        p++;
    }
    pair->start = p;
    pair->end = sep;
    while (pair->end > p && apr_isspace(pair->end[-1])) {
        pair->end--;
    }
    pair->next = *sep ? sep + 1 : sep;
    pair->ours = 0;
    pair->value = NULL;
    if (strncmp(p, name, name_len)) {
        return;
    }
    rest = p + name_len;
    while (*rest == ' ' || *rest == '\t') {
        rest++;
    }
    if (*rest != '=') {
        return;
    }
    rest++;
    while (rest < pair->end && apr_isspace(*rest)) {
        rest++;
    }
    pair->ours = 1;
    pair->value = rest;
}

apr_array_header_t *orm_cookie_values(apr_pool_t *pool, const char *header,
                                      const char *name)
{
    apr_array_header_t *values = apr_array_make(pool, 1,
                                                sizeof(const char *));
    apr_size_t name_len = strlen(name);
    cookie_pair_t pair;
    const char *p;

    for (p = header; p && *p; p = pair.next) {
        const char *value;
        apr_size_t len;

        next_pair(p, name, name_len, &pair);
        if (!pair.ours) {
            continue;
        }
        value = pair.value;
        len = (apr_size_t)(pair.end - value);
        if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
            value++;
            len -= 2;
        }
        APR_ARRAY_PUSH(values, const char *) = apr_pstrmemdup(pool, value,
                                                              len);
    }
    return values;
}

/* The length of out[0..len) without the separator it ends with and the
 * white space around that separator. */
static apr_size_t without_last_separator(const char *out, apr_size_t len)
{
    while (len > 0 && apr_isspace(out[len - 1])) {
        len--;
    }
    if (len > 0 && (out[len - 1] == ';' || out[len - 1] == ',')) {
        len--;
    }
    while (len > 0 && apr_isspace(out[len - 1])) {
        len--;
    }
    return len;
}

/* Everything but our pairs is copied byte for byte: a handler, CGI or
 * backend that parses cookies its own way must read the others exactly as
 * the client sent them. A pair of ours goes with the separator and white
 * space after it, or, the last one, with those before it. */
const char *orm_cookie_strip(apr_pool_t *pool, const char *header,
                             const char *name)
{
    apr_size_t name_len = strlen(name);
    char *out;
    apr_size_t len = 0;
    cookie_pair_t pair;
    const char *p, *after;

    if (header == NULL) {
        return NULL;
    }
    out = apr_palloc(pool, strlen(header) + 1);
    for (p = header; *p; p = pair.next) {
        next_pair(p, name, name_len, &pair);
        if (!pair.ours) {
            memcpy(out + len, p, (apr_size_t)(pair.next - p));
            len += (apr_size_t)(pair.next - p);
            continue;
        }
        after = pair.next;
        while (apr_isspace(*after)) {
            after++;
        }
        if (*after == '\0') {
            len = without_last_separator(out, len);
            break;
        }
        /* the white space after the previous separator stays */
        memcpy(out + len, p, (apr_size_t)(pair.start - p));
        len += (apr_size_t)(pair.start - p);
        pair.next = after;
    }
    out[len] = '\0';
    return len ? out : NULL;
}
