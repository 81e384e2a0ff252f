/**
 * The background expiry sweep: a thread in every child process that, at
 * most once per SessionORMSweepInterval across all children (a cross-process
 * try-lock and a shared "last swept" time per table), deletes expired rows
 * in batches. It stops at child exit, between two batches.
 */
#ifndef ORM_SWEEPER_H
#define ORM_SWEEPER_H

#include "httpd.h"

/** Mutex type of the sweep's cross-process try-lock. */
#define ORM_SWEEP_MUTEX_TYPE "session-orm-sweep"

/** post_config, once the stores exist: lists what to sweep and creates the
 *  cross-process lock and shared state. */
apr_status_t orm_sweeper_post_config(apr_pool_t *pconf, server_rec *s);

/** child_init (after mod_dbd's): starts this child's sweep thread. */
void orm_sweeper_child_init(apr_pool_t *pchild, server_rec *s);

#endif
