/**
 * Deadlines of calls into the database, for the watchdog that ends the
 * overdue ones (needs apr only; the httpd side supplies how a connection is
 * cut). A thread marks each driver call with a deadline before it makes it
 * and clears the mark after; the watchdog cuts the connection of every call
 * still marked past its deadline, again on each look until the call
 * returns (a reconnect inside the call opens a new socket).
 *
 * A call made while acquiring a connection does not know which connection
 * it will get: it names its group (a store) only, and when it is overdue
 * every connection of that group known to the registry and not inside
 * another marked call is cut (mod_dbd checks a pooled connection before
 * handing it out, and that check is what blocks); then the cut is asked
 * once more with no connection, for one that is being opened and so is not
 * known yet (mod_dbd opens one when its pool has none idle).
 *
 * Connections are cut only under the registry's lock, and a connection in a
 * marked call cannot be closed by its owner before the mark is cleared, so
 * nothing is cut after it went away. Thread-safe.
 */
#ifndef ORM_DEADLINE_H
#define ORM_DEADLINE_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_time.h>

typedef struct orm_deadlines_t orm_deadlines_t;
typedef struct orm_deadline_t orm_deadline_t;

/** Cuts a connection of group so the call blocked on it returns; conn NULL:
 *  a call acquiring a connection of group is overdue, cut one being opened
 *  (called with the registry's lock held: must not call back into the
 *  registry). */
typedef void orm_deadline_cut_fn(void *baton, const void *group, void *conn);

/** A registry living in pool (one per child process). */
apr_status_t orm_deadlines_create(apr_pool_t *pool, orm_deadlines_t **reg);

/** Marks a call on conn (NULL: acquiring a connection of group) that must
 *  return by due. *is_new says whether conn was unknown until now (the
 *  caller then arranges orm_deadlines_forget when it closes). NULL when out
 *  of memory: the call runs unwatched. */
orm_deadline_t *orm_deadline_arm(orm_deadlines_t *reg, const void *group,
                                 void *conn, apr_time_t due, int *is_new);

/** Clears the mark; returns how often the call was cut (0: it returned in
 *  time). */
int orm_deadline_disarm(orm_deadlines_t *reg, orm_deadline_t *mark);

/** Moves the deadline of a marked call (a long task that reports progress:
 *  the sweep between its batches). */
void orm_deadline_extend(orm_deadlines_t *reg, orm_deadline_t *mark,
                         apr_time_t due);

/** Forgets a connection that is being closed. */
void orm_deadlines_forget(orm_deadlines_t *reg, void *conn);

/** The watchdog's look at now: cuts what is overdue. Returns when to look
 *  next: the earliest pending deadline, now + recut while an overdue call
 *  has not returned, or 0 when nothing is marked. */
apr_time_t orm_deadlines_expire(orm_deadlines_t *reg, apr_time_t now,
                                apr_interval_time_t recut,
                                orm_deadline_cut_fn *cut, void *baton);

/** Calls cut so far (each overdue call counted once). */
apr_uint64_t orm_deadlines_cut_count(orm_deadlines_t *reg);

#endif
