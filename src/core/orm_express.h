/**
 * The Express format: a session as express-session keeps it (connect-mikro-orm's
 * `json` column, JSON.stringify of the session) and the signed cookie
 * express-session and cookie-signature send. apr, jansson and libcrypto only.
 *
 * Invariants:
 * - An entry is a top-level member whose value is a string without NUL, a
 *   number or a boolean. Every other member (objects such as "cookie",
 *   arrays, null, strings with NUL) is never an entry and never changed:
 *   encode copies it from the stored JSON as it is, in its place. Keys
 *   that only ASCII case tells apart ("a", "A") would be one key in
 *   mod_session's table: no member of such a group is an entry.
 * - Numbers are JavaScript's: every number is read as a double and written
 *   the way Number.prototype.toString writes it, so what httpd sees of a
 *   number is the text Node would print, and the JSON written back reads as
 *   the same values in Node.
 * - decode, then encode on the same stored JSON with the entries unchanged,
 *   gives JSON equal to the stored one (same members, types, values and
 *   order); decoding that gives the same entries.
 * - A cookie value is accepted only when it is exactly what orm_express_sign
 *   would send for some sid with one of the secrets; signatures are compared
 *   in constant time.
 * Strings returned are allocated in the caller's pool; nothing is kept
 * between calls.
 */
#ifndef ORM_EXPRESS_H
#define ORM_EXPRESS_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_errno.h>

#include "orm_token.h"

#define ORM_EXPRESS_SID_BYTES   24  /* uid-safe(24), as express-session */
#define ORM_EXPRESS_SID_LEN     32  /* base64url of 24 bytes */
#define ORM_EXPRESS_SID_MAX     255 /* the id column's varchar(255) */

/** What the "cookie" member of a session httpd mints says. All zero is
 *  express-session's default cookie: no max age, no expiry, HttpOnly,
 *  Path=/. */
typedef struct {
    apr_int64_t max_age_ms;     /* originalMaxAge; 0: none (null) */
    apr_int64_t expires_ms;     /* epoch ms of "expires"; 0: none (null) */
    const char *path;           /* NULL: "/" */
    const char *domain;         /* NULL: left out */
    const char *same_site;      /* NULL: left out */
    int secure;                 /* non-zero: "secure": true */
    int http_only_off;          /* non-zero: "httpOnly": false */
} orm_express_new_t;

/**
 * The entries of a stored session: its top-level strings (without NUL) as
 * they are, booleans as "true"/"false", numbers as JavaScript prints them.
 * Returns APR_EINVAL with *error saying why (jansson's message with line and
 * column, or what the JSON is instead of an object) when json is not a JSON
 * object.
 */
apr_status_t orm_express_decode(apr_pool_t *pool, const char *json,
                                apr_table_t **entries, const char **error);

/**
 * The JSON to store for entries, starting from base_json (the stored JSON
 * this write starts from; NULL for a session httpd mints, which then gets
 * fresh's "cookie" as its first member; fresh may be NULL for the defaults).
 * Members of base that are not entries stay as they are; entries of base
 * that are not in entries are removed; entries set the others, a number or
 * boolean of base staying one when the text is exactly what decode gives
 * for such a value; new keys are strings, appended in the table's order.
 * An entry named like a member that is not an entry (e.g. "cookie") changes
 * nothing: its key is added to *shadowed (an array of const char *, made
 * whenever shadowed is not NULL). Output is compact, as JSON.stringify
 * writes it. APR_EINVAL with *error when base_json is not a JSON object or
 * an entry's key or value is not valid UTF-8 (the error names the key).
 */
apr_status_t orm_express_encode(apr_pool_t *pool, const char *base_json,
                                const apr_table_t *entries,
                                const orm_express_new_t *fresh,
                                const char **json,
                                apr_array_header_t **shadowed,
                                const char **error);

/**
 * The cookie value express-session sends for sid signed with secret:
 * encodeURIComponent("s:" + sid + "." + signature), the signature being
 * unpadded standard base64 of HMAC-SHA256(secret, sid).
 */
const char *orm_express_sign(apr_pool_t *pool, const char *sid,
                             const char *secret);

/**
 * The sid a cookie value (as the Cookie header carries it) holds when one of
 * secrets (an array of const char *) signed it; NULL when it is not signed
 * ("s:" missing), malformed (a bad %-escape or %00, bytes outside printable
 * ASCII, no '.', an empty sid, a sid over ORM_EXPRESS_SID_MAX bytes)
 * or no secret gives its signature.
 */
const char *orm_express_unsign(apr_pool_t *pool, const char *cookie_value,
                               const apr_array_header_t *secrets);

/**
 * A new session id as express-session makes them: ORM_EXPRESS_SID_BYTES
 * from random (apr_generate_random_bytes in production), base64url without
 * padding, ORM_EXPRESS_SID_LEN characters.
 */
apr_status_t orm_express_new_sid(apr_pool_t *pool, orm_random_fn *random,
                                 const char **sid);

/** The text of the value at a dotted path ("passport.user") of a stored
 *  session's JSON, when it is a string or a number (a number written as
 *  an entry of orm_express_decode is); NULL otherwise, and for JSON that
 *  is no object. */
const char *orm_express_lookup(apr_pool_t *pool, const char *json,
                               const char *path);

#endif
