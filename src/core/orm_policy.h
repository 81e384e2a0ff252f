/**
 * Session policy: what a load concludes from the rows its keys reach, what
 * a save does with a request's session, and how a conflicting write is
 * merged into what another request stored. Decided from plain facts, so
 * that each decision is unit-tested without httpd; the provider gathers the
 * facts (cookies, r->user, the stored row), acts on the decisions (store
 * calls, Set-Cookie) and logs them.
 *
 * Invariants:
 * - a token rotated away by a login or logout reaches nothing: its row is
 *   a marker that no load returns and no merge writes over, and a request
 *   holding it saves nothing and sets no cookie, unless it logs in itself;
 * - a token that reaches no live row is never adopted: a save issues a new
 *   one;
 * - of several cookies of our name, the first that reaches a session wins;
 * - the owner of a session is the authenticated user, else mod_auth_form's
 *   login in the session; a change of owner rotates a cookie session;
 * - every write gives its row a version greater than the one it read;
 * - data over SessionORMMaxSize is never written, unless it is smaller
 *   than what is stored (so a session stored over the limit can shrink).
 */
#ifndef ORM_POLICY_H
#define ORM_POLICY_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "orm_codec.h"
#include "orm_conf.h"
#include "orm_store_ops.h"

/** What the row of a token rotated away by a login or logout holds for
 *  SessionORMRotateGrace: a marker that names nothing, so the old token
 *  reaches nothing of the session that replaced it. */
#define ORM_ROTATED_MARKER "\001rotated"

/** mod_session keeps its own expiry inside the encoded data under this
 *  key; it is not application data. */
#define ORM_SESSION_EXPIRY_KEY "expiry"

/** A sibling domain can plant cookies of our name beside ours (cookie
 *  tossing): this many well-formed ones are tried, in the order sent. */
#define ORM_MAX_COOKIE_TOKENS 4

/** True when stored data is the marker of a rotation. Control characters
 *  never occur in mod_session's encodings, plain or encrypted: any data
 *  that starts with one (also the "\001moved:<id>" forwarding rows of
 *  earlier versions) is such a marker. */
int orm_policy_is_rotated(const char *data);

/** Told of each cookie value that is not a token we issue. */
typedef void orm_rejected_fn(void *baton, const char *value);

/** The tokens a load tries, of the values of the request's cookies of our
 *  name: the well-formed ones, in the order sent, at most
 *  ORM_MAX_COOKIE_TOKENS; rejected (may be NULL) is told of every other. */
apr_array_header_t *orm_policy_cookie_tokens(apr_pool_t *pool,
                                             const apr_array_header_t *values,
                                             orm_rejected_fn *rejected,
                                             void *baton);

/** What the row a key reached is to a load. */
typedef enum {
    ORM_REACHED_NOTHING = 0,    /* no live row: unknown or expired */
    ORM_REACHED_MARKER,         /* the marker of a token rotated away */
    ORM_REACHED_SESSION         /* a live session */
} orm_reached_e;

/** A load's search through the request's keys (its cookie tokens in the
 *  order sent, or its user) for the first that reaches a session. */
typedef struct {
    int cookie_presented;       /* the client sent a cookie of our name */
    int rotated_away;           /* a key reached a marker, none a session */
    int found;                  /* the last key tried reached a session:
                                 * it wins and the search is over */
} orm_load_search_t;

void orm_load_search_init(orm_load_search_t *search, int cookie_presented);

/** Records what the row the next key reached is (stored_data NULL: no
 *  live row) and returns it. */
orm_reached_e orm_load_search_next(orm_load_search_t *search,
                                   const char *stored_data);

/** Whether the session a finished search gives is marked dirty, which
 *  makes mod_session call save (it does only then). With a session found
 *  (found, loaded at now_ms): when its touch is due, so that an unchanged
 *  session's expiry slides even without SessionMaxAge. Without (found
 *  NULL): when the client sent a cookie that is not honoured, so that it
 *  is answered and the client stops sending it; not when its token was
 *  rotated away, for the browser may hold the new token by now. */
int orm_load_dirty(const orm_load_search_t *search, const orm_row_t *found,
                   apr_int64_t now_ms, apr_int64_t touch_seconds);

/** The login mod_auth_form keeps in the session, under "<AuthName>-user"
 *  or "user"; NULL when there is none. */
const char *orm_policy_form_user(const apr_table_t *entries);

/** Who owns a session: the authenticated user (NULL: none), else the
 *  login in its entries; NULL when nobody. */
const char *orm_policy_owner(const char *user, const apr_table_t *entries);

/** True when two owners (NULL: none) are the same. */
int orm_policy_same_owner(const char *a, const char *b);

/** True when entries hold no application data (mod_session's expiry is
 *  not). */
int orm_policy_is_empty(const apr_table_t *entries);

/** SessionORMMaxSize (max_size, 0: no limit): true when data is not to be
 *  written over stored (NULL: nothing stored), being over the limit and
 *  not smaller than stored. */
int orm_policy_size_refused(apr_int64_t max_size, const char *data,
                            const char *stored);

/** The version a write at now_ms gives a row that carried version: always
 *  greater, so that a writer still holding the old one can never match it
 *  again, even within the same millisecond. */
apr_int64_t orm_policy_next_version(apr_int64_t now_ms, apr_int64_t version);

/** What a save does with a request's session. */
typedef enum {
    ORM_SAVE_NOT_LOADED = 0,    /* the load could not ask the database:
                                 * saving could overwrite the stored one */
    ORM_SAVE_NO_USER,           /* per user, without an authenticated user */
    ORM_SAVE_ROTATED_AWAY,      /* its token was rotated away and it does
                                 * not log in: nothing saved, no cookie */
    ORM_SAVE_REMOVE,            /* emptied: its row is deleted */
    ORM_SAVE_UNCHANGED,         /* unchanged, touched recently enough */
    ORM_SAVE_TOO_BIG,           /* over SessionORMMaxSize: not written */
    ORM_SAVE_ROTATE,            /* its owner changed: a new token and row,
                                 * the old row becomes a marker */
    ORM_SAVE_UPDATE,            /* its row, over the version loaded */
    ORM_SAVE_NEW                /* a new row (by cookie, a new token) */
} orm_save_e;

/** What a save decides from. */
typedef struct {
    orm_key_mode_e mode;        /* by cookie or by user */
    int load_failed;            /* the load could not ask the database */
    int cookie_presented;       /* the client sent a cookie of our name */
    int rotated_away;           /* its token was rotated away */
    const char *user_id;        /* per user: the row id of the request's
                                 * user; NULL without one */
    const char *stored_id;      /* the id of its row, as loaded or last
                                 * saved; NULL when it has none */
    const orm_row_t *stored;    /* that row */
    const apr_table_t *entries; /* the session's entries */
    const char *data;           /* their encoding, as it would be stored */
    const char *owner;          /* the owner column it would be stored with */
    int dirty;                  /* mod_session's: the request changed it */
    apr_int64_t maxage;         /* mod_session's SessionMaxAge, 0: unset */
    apr_int64_t now_ms;
    apr_int64_t touch_seconds;  /* SessionORMTouchInterval */
    apr_int64_t max_size;       /* SessionORMMaxSize, 0: no limit */
} orm_save_facts_t;

/** What a save does, by the first that applies: refusals (not loaded, no
 *  user, rotated away), remove, unchanged, too big, then the write. */
orm_save_e orm_policy_save(const orm_save_facts_t *facts);

/** For ORM_SAVE_REMOVE: whether the client's cookie is expired (by cookie,
 *  when there was a row or the client sent one). */
int orm_policy_remove_expires_cookie(const orm_save_facts_t *facts);

/** Why a merge left the stored row as it is. */
typedef enum {
    ORM_MERGE_DONE = 0,
    ORM_MERGE_ROTATED,          /* the row was rotated away meanwhile */
    ORM_MERGE_TOO_BIG           /* the merged data is over the size limit */
} orm_merge_refusal_e;

/** How a conflicting write is merged into what another request stored. */
typedef struct {
    const orm_diff_t *diff;     /* NULL: opaque data, ours replaces theirs */
    const char *ours;
    apr_int64_t max_size;       /* SessionORMMaxSize, 0: none */
    orm_merge_refusal_e refusal;    /* set when the merge gives NULL */
    const char *refused_data;   /* the merged data that was too big */
} orm_merge_t;

/** Prepares the merge of a request's session into what another request
 *  stored: ours is its data, entries what it holds, loaded the data it
 *  loaded. When ours is mod_session's plain encoding of entries, the keys
 *  the request changed since it loaded are merged; otherwise (encrypted)
 *  ours replaces what is stored. */
void orm_merge_init(orm_merge_t *merge, apr_pool_t *pool, const char *ours,
                    const apr_table_t *entries, const char *loaded,
                    apr_int64_t max_size);

/** The data to store over stored (an orm_store_merge_fn; data is the
 *  orm_merge_t): the changed keys applied to it, or ours. NULL, and why in
 *  refusal, when stored is the marker of a rotation (nothing of ours
 *  belongs there, ever) or the merged data is refused by the size limit. */
const char *orm_merge_into_stored(void *data, apr_pool_t *pool,
                                  const char *stored);

/** True when the request changed no key but mod_session's expiry: after a
 *  lost race, the other writer has moved the expiry already. */
int orm_merge_changes_nothing(const orm_merge_t *merge);

#endif
