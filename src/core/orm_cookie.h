/**
 * Cookie attributes: what SessionORMCookieName adds to or overrides in our
 * secure defaults, and the Set-Cookie value built from them.
 */
#ifndef ORM_COOKIE_H
#define ORM_COOKIE_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_tables.h>

/* A flag attribute's state: unset means "use the default". */
typedef enum {
    ORM_FLAG_UNSET = -1,
    ORM_FLAG_OFF = 0,
    ORM_FLAG_ON = 1
} orm_flag_e;

typedef struct {
    const char *path;       /* NULL: default "/" */
    const char *domain;     /* NULL: none (host-only cookie) */
    const char *same_site;  /* NULL: default "Lax" */
    orm_flag_e http_only;   /* unset: on */
    orm_flag_e secure;      /* unset: on for HTTPS requests only */
    orm_flag_e partitioned; /* unset: off (CHIPS; needs Secure) */
    int version_ignored;    /* "Version=1" was given and ignored: the
                             * RFC 2109 attribute mod_session_dbd's
                             * documentation shows; browsers ignore it */
} orm_cookie_attrs_t;

/** All attributes unset. */
void orm_cookie_attrs_init(orm_cookie_attrs_t *attrs);

/** Parses one directive argument ("Path=/x;HttpOnly=Off;SameSite=Strict")
 *  into attrs, overriding what it names. Returns NULL or an error text
 *  allocated from pool. A Version attribute with a number is ignored and
 *  noted in version_ignored; Partitioned with Secure=Off is an error. */
const char *orm_cookie_attrs_parse(apr_pool_t *pool, const char *arg,
                                   orm_cookie_attrs_t *attrs);

/** NULL when name is an RFC 6265 cookie-name token, else an error text. */
const char *orm_cookie_name_check(const char *name);

/** The values of every cookie called name in a Cookie request header, in
 *  order ("a=1; b=2"; httpd joins repeated headers with ", ", so ',' also
 *  separates cookies). Quotes around a value are removed. */
apr_array_header_t *orm_cookie_values(apr_pool_t *pool, const char *header,
                                      const char *name);

/** The Cookie header without the cookies called name (each with one
 *  adjacent separator), every other byte as it was; NULL when nothing
 *  else is left. */
const char *orm_cookie_strip(apr_pool_t *pool, const char *header,
                             const char *name);

/** The Set-Cookie header value. max_age_seconds 0 expires the cookie. */
const char *orm_cookie_header(apr_pool_t *pool, const char *name,
                              const char *value,
                              const orm_cookie_attrs_t *attrs,
                              apr_int64_t max_age_seconds, int is_https);

#endif
