#include <string.h>
#include <apr_strings.h>

#include "orm_owner.h"
#include "orm_sha256.h"

/* the mapped form ends in '~' and 64 hex digits */
#define SUFFIX_LEN (1 + ORM_SHA256_HEX_LEN)
#define PREFIX_MAX (ORM_OWNER_MAX - SUFFIX_LEN)

/* Bytes of the well-formed UTF-8 character at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), 0 when there is none or
 * it is a control character (C0, DEL, C1). */
static apr_size_t char_len(const unsigned char *s, apr_size_t left)
{
    apr_uint32_t cp;
    apr_size_t n, i;

    if (s[0] < 0x80) {
        return (s[0] < 0x20 || s[0] == 0x7f) ? 0 : 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2; cp = s[0] & 0x1f;
    }
    else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3; cp = s[0] & 0x0f;
    }
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4; cp = s[0] & 0x07;
    }
    else {
        return 0;
    }
    if (left < n) {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)
        || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff
        || (cp >= 0x80 && cp <= 0x9f)) {
        return 0;
    }
    return n;
}

/* Length of the longest prefix of at most max bytes made of whole
 * characters that char_len accepts. */
static apr_size_t clean_prefix(const char *name, apr_size_t len,
                               apr_size_t max)
{
    const unsigned char *s = (const unsigned char *)name;
    apr_size_t at = 0, n;

    while (at < len && (n = char_len(s + at, len - at)) != 0
           && at + n <= max) {
        at += n;
    }
    return at;
}

/* A name that already looks mapped is mapped too: no chosen name can equal
 * the stored form of another one. */
static int looks_mapped(const char *name, apr_size_t len)
{
    return len >= SUFFIX_LEN && name[len - SUFFIX_LEN] == '~'
           && strspn(name + len - ORM_SHA256_HEX_LEN, "0123456789abcdef")
              == ORM_SHA256_HEX_LEN;
}

const char *orm_owner_column(apr_pool_t *pool, const char *name)
{
    apr_size_t len;

    if (name == NULL) {
        return NULL;
    }
    len = strlen(name);
    if (len <= ORM_OWNER_MAX && clean_prefix(name, len, len) == len
        && !looks_mapped(name, len)) {
        return name;
    }
    return apr_pstrcat(pool,
                       apr_pstrmemdup(pool, name,
                                      clean_prefix(name, len, PREFIX_MAX)),
                       "~", orm_sha256_hex(pool, name, len), NULL);
}
