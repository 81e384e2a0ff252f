/**
 * Turns for one host's writes of a session. Requests that write the same
 * session at once would all but one lose the race to the database (each
 * write is conditional on the version its request loaded) and then read
 * the row again to merge. Queued on the session's turn they reach the
 * database one after the other, and each starts from the data the one
 * before it wrote, which the queue keeps: only a write from another host
 * (or another generation of httpd's children) is still found by losing a
 * race.
 *
 * Invariants:
 * - what the queue keeps is a hint, never the truth: a write that starts
 *   from it is still conditional on its version, so a stale hint costs a
 *   lost race, never data;
 * - the turns are a fixed table of slots in memory shared by all children,
 *   each with a lock that threads and processes alike wait on, chosen by a
 *   hash of the session's store and id: two sessions that share a slot
 *   take turns too, and keep one hint between them;
 * - a hint is kept with a checksum, so that one a child left half written
 *   (it died in its turn) is not used;
 * - a wait for a turn is bounded; past it the write goes on without one;
 * - the memory is fixed when the queue is made: data over
 *   ORM_WRITE_QUEUE_DATA_MAX bytes, or an id over ORM_WRITE_QUEUE_ID_MAX,
 *   is not kept.
 */
#ifndef ORM_WRITE_QUEUE_H
#define ORM_WRITE_QUEUE_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_errno.h>
#include <apr_tables.h>
#include <apr_time.h>

/** Slots of the queue: enough that the sessions written at one time
 *  rarely share one. */
#define ORM_WRITE_QUEUE_SLOTS 64

/** The longest data kept as a hint (a cookie-sized session and more);
 *  larger sessions still take turns. */
#define ORM_WRITE_QUEUE_DATA_MAX 4096

/** The longest session id kept (ours are 64 hex digits). */
#define ORM_WRITE_QUEUE_ID_MAX 128

typedef struct orm_write_queue_t orm_write_queue_t;

/** A turn taken: the slot and the session it was taken for. */
typedef struct {
    orm_write_queue_t *queue;
    int slot;
    const void *store;
    const char *id;
} orm_write_turn_t;

/** The queue, from pool (httpd's pconf, in post_config: before the
 *  children exist, which share it from then on). APR_ENOTIMPL where APR
 *  has no process-shared pthread mutex. */
apr_status_t orm_write_queue_create(apr_pool_t *pool,
                                    orm_write_queue_t **queue);

/** Waits at most wait for the turn of the session id of store (any
 *  pointer that tells stores apart; wait 0: takes it only if it is free
 *  now). True when the turn is the caller's,
 *  who then ends it with orm_write_turn_end; false when the wait ran out
 *  or the lock failed (the write goes on without a turn). */
int orm_write_turn_take(orm_write_queue_t *queue, const void *store,
                        const char *id, apr_interval_time_t wait,
                        orm_write_turn_t *turn);

/** The data the session's last write in turn left in the database, and
 *  its version; NULL when none is kept. Valid until the turn ends. */
const char *orm_write_turn_last(const orm_write_turn_t *turn,
                                apr_int64_t *version);

/** Keeps data as what the session's row holds at version (a write in this
 *  turn went through); data NULL forgets what was kept. */
void orm_write_turn_keep(orm_write_turn_t *turn, const char *data,
                         apr_int64_t version);

/** Ends the turn: the next waiting write of the slot goes. */
void orm_write_turn_end(orm_write_turn_t *turn);

/*
 * Writes left for the turn: a write that finds its session's turn taken
 * leaves its changes in the slot (a cell) before it waits, and the
 * holder of the turn writes them with its own, in the same statement:
 * writes that queue behind one another cost one statement and one commit
 * for the lot instead of one each (a database that flushes each commit
 * does that once). When its turn comes, the waiting write finds out
 * whether its changes were written (then it is done) or not (then it
 * writes them itself). Changes are mod_session's keys set and removed:
 * written twice, they give the same session.
 */

/** The most writes left waiting in one slot. */
#define ORM_WRITE_QUEUE_CELLS 16

/** The longest changes a cell keeps (keys set and keys removed, encoded),
 *  and the longest owner. */
#define ORM_WRITE_QUEUE_CHANGES_MAX 1024
#define ORM_WRITE_QUEUE_OWNER_MAX 256

/** A write's changes, as left for the turn. */
typedef struct {
    const char *set;            /* the keys it set, encoded */
    const char *removed;        /* the keys it removed, encoded (any
                                 * value) */
    const char *owner;          /* the row's user_name as it writes it;
                                 * NULL: none */
    apr_int64_t expires_at_ms;  /* the expiry it writes */
    apr_int64_t max_size;       /* SessionORMMaxSize where it runs */
} orm_write_changes_t;

/** A write's changes left in a cell. */
typedef struct {
    orm_write_queue_t *queue;
    int slot;
    int cell;
} orm_write_left_t;

/** Leaves changes of the session id of store for the holder of its turn
 *  to write. False when they cannot be left (no cell free, too long):
 *  the write waits for its turn as any other. */
int orm_write_leave(orm_write_queue_t *queue, const void *store,
                    const char *id, const orm_write_changes_t *changes,
                    orm_write_left_t *left);

/** What became of changes left. */
typedef enum {
    ORM_LEFT_WRITTEN = 0,       /* written by the holder of a turn */
    ORM_LEFT_NOT_WRITTEN,       /* not: the write is its own to make */
    ORM_LEFT_UNKNOWN            /* taken by a holder that did not say
                                 * (it died, or is still writing and the
                                 * wait ran out): written maybe, so it
                                 * is to be made again */
} orm_left_e;

/** Takes the changes back after the wait for the turn (taken or not):
 *  what became of them, and for ORM_LEFT_WRITTEN the version written.
 *  The cell is free again. */
orm_left_e orm_write_left_collect(orm_write_left_t *left,
                                  apr_int64_t *version);

/** Changes taken by the holder of a turn. */
typedef struct {
    int cell;
    orm_write_changes_t changes;    /* copied into the pool */
} orm_write_taken_t;

/** The holder of the turn takes the changes left for its session that
 *  write the same owner and expiry, into an array of orm_write_taken_t
 *  from pool (NULL when none). Each is then ended with
 *  orm_write_taken_end. */
apr_array_header_t *orm_write_turn_gather(orm_write_turn_t *turn,
                                          apr_pool_t *pool,
                                          const char *owner,
                                          apr_int64_t expires_at_ms);

/** Ends changes taken: written (in the row at version) or not (their
 *  writes make them themselves). */
void orm_write_taken_end(orm_write_turn_t *turn,
                         const orm_write_taken_t *taken, int written,
                         apr_int64_t version);

#endif
