/**
 * What all children of httpd share, for one part of the module (the
 * store's outage state and SQLite writers' queue, the sweep's schedule):
 * an array of slots in shared memory and a cross-process lock. Both are
 * made in post_config, before the children exist, so every child finds
 * the slots at the same address; each child attaches to the lock in
 * child_init. The lock's Mutex type is registered in pre_config, so the
 * Mutex directive can place it. Slots start zeroed; how they are read and
 * written (apr_atomic, or under the lock) is their owner's rule, and the
 * outage gate both owners keep in them is orm_gate's.
 */
#ifndef ORM_SHARED_H
#define ORM_SHARED_H

#include "httpd.h"
#include "apr_global_mutex.h"

typedef struct {
    void *slots;                    /* count zeroed slots */
    apr_global_mutex_t *mutex;      /* NULL in a child that could not
                                     * attach to it */
    const char *mutex_file;
    int timed_wait_polls;           /* APR times a wait on this lock by
                                     * trying it every 10 ms (fcntl,
                                     * flock): see orm_shared_create */
} orm_shared_t;

/** What orm_shared_create could not make (each owner logs its own
 *  message). */
typedef enum {
    ORM_SHARED_LOCK = 0,
    ORM_SHARED_MEMORY
} orm_shared_part_e;

/** post_config: count slots of slot_size bytes and a lock of mutex_type,
 *  allocated from pconf. On failure *failed says which. */
apr_status_t orm_shared_create(apr_pool_t *pconf, server_rec *s,
                               const char *mutex_type, apr_size_t slot_size,
                               int count, orm_shared_t **shared,
                               orm_shared_part_e *failed);

/** child_init: attaches this child to the lock; on failure the child has
 *  none (shared->mutex is NULL). */
apr_status_t orm_shared_attach(orm_shared_t *shared, apr_pool_t *pchild);

#endif
