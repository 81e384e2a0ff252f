/**
 * The write protocol: how a save that the session policy decided
 * (orm_policy_save's ORM_SAVE_ROTATE, ORM_SAVE_UPDATE or ORM_SAVE_NEW) is
 * carried out over the store interface. Nothing here logs or knows the
 * request: the result says how the write ended, and the provider turns that
 * into its log line and its cookie. The store logs its own failures; a
 * failure is handed back as it came.
 *
 * Invariants:
 * - an update is written only over the version the request loaded (one
 *   conditional write); after a lost race this request's changes are merged
 *   into what is stored now (orm_merge_into_stored) and written only over
 *   what was read, merge_attempts times at most, then under the row lock
 *   (orm_store_merge);
 * - with a queue, the updates of one session on this host take turns, and
 *   one that finds the turn's last write newer than what it loaded merges
 *   onto that write at once (one of the merge_attempts);
 * - one that finds the turn taken leaves its changes for the holder, who
 *   writes them with its own in one statement (same owner and expiry);
 *   it is done only when the holder's write went through, and otherwise
 *   writes them itself (keys set and removed again give the same data);
 * - a row that went away meanwhile (logout, revoke, expiry) is never
 *   brought back, and a row rotated away is never written over: the merge
 *   refuses it;
 * - a rotation turns the old row into the marker (ORM_ROTATED_MARKER, for
 *   the grace window) over the version read, then saves the new row; after
 *   ORM_ROTATE_ATTEMPTS lost races for the old row it gives way;
 * - every row written carries a version greater than the one it replaces.
 */
#ifndef ORM_WRITE_H
#define ORM_WRITE_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_errno.h>

#include "orm_policy.h"
#include "orm_store_ops.h"
#include "orm_write_queue.h"

/** Lost races merged without a lock before the row lock is taken: each
 *  costs a read and a conditional write; the lock costs a transaction.
 *  The provider passes it as orm_write_t's merge_attempts. Defined as 0
 *  when building (t/sanitize-e2e does), every lost race takes the lock at
 *  once, so that a test pass covers the locked path. */
#ifndef ORM_MERGE_ATTEMPTS
#define ORM_MERGE_ATTEMPTS 3
#endif

/** A rotation that keeps losing the race for the old row gives up after
 *  this many attempts (each a read and a conditional write). */
#define ORM_ROTATE_ATTEMPTS 5

/** One write of a request's session. */
typedef struct {
    const orm_save_facts_t *facts;  /* what the policy decided from: the
                                     * row loaded (stored_id, stored), the
                                     * entries, data, owner, now, size
                                     * limit */
    orm_save_e action;          /* ORM_SAVE_ROTATE, _UPDATE or _NEW */
    const char *id;             /* the row a new session or a rotation
                                 * goes to (an update writes the row
                                 * loaded, facts->stored_id) */
    apr_int64_t ttl_seconds;    /* of the row written */
    apr_int64_t grace_seconds;  /* SessionORMRotateGrace: how long the
                                 * marker stays; 0 deletes the old row */
    int merge_attempts;         /* ORM_MERGE_ATTEMPTS */
    orm_write_queue_t *queue;   /* the host's turns for writes of one
                                 * session (an update waits for its
                                 * turn), or NULL */
    const void *store;          /* tells the queue's sessions apart */
    apr_interval_time_t turn_wait;  /* the longest wait for a turn */
} orm_write_t;

/** What the client is told. */
typedef enum {
    ORM_WRITE_SAVED = 0,        /* written: the cookie is sent */
    ORM_WRITE_ENDED,            /* its row went away meanwhile: not
                                 * brought back, and the cookie expired */
    ORM_WRITE_GAVE_WAY          /* not written and no cookie */
} orm_write_outcome_e;

/** How the write went, as the provider logs it. */
typedef enum {
    ORM_WRITE_WRITTEN = 0,      /* saved without a conflict: nothing to
                                 * tell */
    ORM_WRITE_MERGED,           /* saved: written concurrently, this
                                 * request's changes merged (locked says
                                 * how) */
    ORM_WRITE_CHANGED_NOTHING,  /* saved: written concurrently, and this
                                 * request changed nothing but the expiry,
                                 * which the other writer moved already */
    ORM_WRITE_ROTATED,          /* the old row is the marker now; the new
                                 * row is saved unless the store failed
                                 * after (then the apr_status_t says so) */
    ORM_WRITE_ROW_ENDED,        /* ended: the row went away meanwhile */
    ORM_WRITE_MOVED,            /* gave way: another request rotated the
                                 * row */
    ORM_WRITE_TOO_BIG,          /* gave way: the merged data is over the
                                 * size limit (merge.refused_data) */
    ORM_WRITE_LOST_RACES        /* gave way: the rotation lost
                                 * ORM_ROTATE_ATTEMPTS races for the old
                                 * row */
} orm_write_event_e;

/** How a write ended. */
typedef struct {
    orm_write_outcome_e outcome;
    orm_write_event_e event;
    orm_row_t *row;             /* the row as written: its data (merged,
                                 * after a lost race) and version */
    orm_merge_t merge;          /* after a lost race: the merge (its diff,
                                 * and for ORM_WRITE_TOO_BIG the refused
                                 * data and the limit) */
    int locked;                 /* ORM_WRITE_MERGED under the row lock */
    int in_turn;                /* ORM_WRITE_MERGED onto the data of the
                                 * write before it in turn, without
                                 * reading the row again */
    int races_lost;             /* conditional writes that found the row
                                 * written by another request */
    int combined;               /* ORM_WRITE_MERGED in turn: the write
                                 * before it wrote this request's changes
                                 * in its own statement */
} orm_write_result_t;

/**
 * Carries out write over conn, allocating from pool. The result is set
 * also when the store fails (its event is then ORM_WRITE_WRITTEN, or
 * ORM_WRITE_ROTATED when the marker was written before), and is to be acted
 * on (cookie, remembered row) only on APR_SUCCESS. APR_EINVAL, nothing
 * done, for an action that is not a write.
 */
apr_status_t orm_write_session(orm_conn_t *conn, apr_pool_t *pool,
                               const orm_write_t *write,
                               orm_write_result_t *result);

#endif
