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

static const char *parse_one(apr_pool_t *pool, char *item,
                             orm_cookie_attrs_t *attrs)
{
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
    if (!strcasecmp(name, "HttpOnly")) {
        return parse_flag(pool, "HttpOnly", value, &attrs->http_only);
    }
    if (!strcasecmp(name, "Secure")) {
        return parse_flag(pool, "Secure", value, &attrs->secure);
    }
    if (!strcasecmp(name, "Max-Age") || !strcasecmp(name, "Expires")) {
        return apr_psprintf(pool, "cookie attribute %s cannot be set: the "
                            "cookie's lifetime follows SessionORMTTL", name);
    }
    if (value == NULL || !is_plain_value(value)) {
        return apr_psprintf(pool, "cookie attribute %s needs a value "
                            "without spaces, quotes, ',' or ';'", name);
    }
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
                            "Path, Domain, SameSite, Secure, HttpOnly)",
                            name);
    }
    return NULL;
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
                       secure ? "; Secure" : "", NULL);
}

/* Calls found(baton, item, value) for each "n=v" cookie in the header,
 * value NULL for items of another name. */
typedef void cookie_item_fn(void *baton, const char *item, const char *value);

static void each_cookie(apr_pool_t *pool, const char *header,
                        const char *name, cookie_item_fn *found, void *baton)
{
    char *item, *next;
    apr_size_t name_len = strlen(name);

    if (header == NULL) {
        return;
    }
    /* split by hand: this runs twice on every request, and apr_strtok
     * calls strchr for each character */
    for (item = apr_pstrdup(pool, header); *item; item = next) {
        char *end = item + strcspn(item, ";,");
        char *cookie, *rest, *value = NULL;
        apr_size_t len;

        next = *end ? end + 1 : end;
        *end = '\0';
        cookie = trimmed(item);
        if (*cookie == '\0') {
            continue;
        }
        rest = cookie + name_len;
        if (!strncmp(cookie, name, name_len)) {
            while (*rest == ' ' || *rest == '\t') {
                rest++;
            }
            if (*rest == '=') {
                value = trimmed(rest + 1);
                len = strlen(value);
                if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
                    value[len - 1] = '\0';
                    value++;
                }
            }
        }
        found(baton, cookie, value);
    }
}

static void collect_value(void *baton, const char *item, const char *value)
{
    (void)item;

    if (value) {
        APR_ARRAY_PUSH((apr_array_header_t *)baton, const char *) = value;
    }
}

apr_array_header_t *orm_cookie_values(apr_pool_t *pool, const char *header,
                                      const char *name)
{
    apr_array_header_t *values = apr_array_make(pool, 1,
                                                sizeof(const char *));

    each_cookie(pool, header, name, collect_value, values);
    return values;
}

static void collect_other(void *baton, const char *item, const char *value)
{
    if (value == NULL) {
        APR_ARRAY_PUSH((apr_array_header_t *)baton, const char *) = item;
    }
}

const char *orm_cookie_strip(apr_pool_t *pool, const char *header,
                             const char *name)
{
    apr_array_header_t *others = apr_array_make(pool, 4,
                                                sizeof(const char *));
    const char *joined;
    int i;

    each_cookie(pool, header, name, collect_other, others);
    if (others->nelts == 0) {
        return NULL;
    }
    joined = APR_ARRAY_IDX(others, 0, const char *);
    for (i = 1; i < others->nelts; i++) {
        joined = apr_pstrcat(pool, joined, "; ",
                             APR_ARRAY_IDX(others, i, const char *), NULL);
    }
    return joined;
}
