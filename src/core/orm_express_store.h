/**
 * The express format as a store: the session operations of another store
 * (the one over mod_dbd, whose statements for this format read and write
 * connect-mikro-orm's id, json and expired_at) seen as mod_session's
 * encoding, so that the provider and the write protocol work on it as on
 * the native format.
 *
 * Invariants:
 * - a row read gives mod_session the JSON's top-level strings, numbers and
 *   booleans (orm_express_decode); its JSON is kept as the row's source;
 * - a write starts from the source it loaded (a new session from a fresh
 *   object with express-session's "cookie"), changes only the scalar keys
 *   mod_session's data changed, and leaves everything else as the Express
 *   app wrote it; a conditional write expects that JSON still stored;
 * - mod_session's own "expiry" key is never written into the JSON: the
 *   row's expired_at is the expiry;
 * - a row whose JSON cannot be read is no session (told to report, which
 *   logs), never an error of the store, and is left as it is.
 */
#ifndef ORM_EXPRESS_STORE_H
#define ORM_EXPRESS_STORE_H

#include <apr.h>
#include <apr_pools.h>

#include "orm_store_ops.h"

/** Told of a row this format cannot use or a session it cannot write
 *  (what says which, and what follows), or of keys a write could not set
 *  (what: "shadowed"), with the detail. */
typedef void orm_express_report_fn(void *baton, const char *id,
                                   const char *what, const char *detail);

/** How one request uses the format. */
typedef struct {
    apr_int64_t ttl_ms;             /* the lifetime rows get: a loaded
                                     * row's updated_at is taken as its
                                     * expires_at minus this (the touch) */
    apr_int64_t cookie_max_age_ms;  /* a new session's cookie.originalMaxAge
                                     * (0: a browser-session cookie) */
    orm_express_report_fn *report;
    void *baton;
} orm_express_use_t;

/** Makes *outer, from pool, the express format over inner (whose
 *  statements are the express format's): session operations only. use is
 *  kept by reference. */
void orm_express_store_wrap(orm_conn_t *outer, apr_pool_t *pool,
                            const orm_conn_t *inner,
                            const orm_express_use_t *use);

#endif
