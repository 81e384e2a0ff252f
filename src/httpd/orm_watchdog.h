/**
 * The watchdog: a thread in every child that ends calls into the database
 * running past SessionORMTimeout. A request marks each driver call (and
 * mod_dbd's acquire, which checks the pooled connection with a round trip
 * on MySQL and reconnects a broken PostgreSQL one) in the core's deadline
 * registry; the thread shuts the socket of an overdue call down (PostgreSQL,
 * MariaDB/MySQL: the kernel of a stopped server still acknowledges, so only
 * the client can end the wait) or interrupts it (SQLite), and the blocked
 * call returns an error. The client libraries are not linked: the apr_dbd
 * drivers loaded them, and their functions are looked up by name.
 */
#ifndef ORM_WATCHDOG_H
#define ORM_WATCHDOG_H

#include "httpd.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

#include "orm_deadline.h"
#include "orm_store.h"

/** child_init (first of ours): starts this child's watchdog thread and
 *  hands it to every store. */
void orm_watchdog_child_init(apr_pool_t *pchild, server_rec *s);

/** Marks a call on dbd, or with dbd NULL the acquire of one of store's
 *  connections, that must return within the store's timeout. NULL (the
 *  call runs unwatched) without a watchdog. */
orm_deadline_t *orm_watchdog_arm(const orm_store_t *store, ap_dbd_t *dbd);

/** Clears the mark: non-zero when the call was cut. */
int orm_watchdog_disarm(const orm_store_t *store, orm_deadline_t *mark);

/** A full timeout again from now (a long task between two calls). */
void orm_watchdog_extend(const orm_store_t *store, orm_deadline_t *mark);

#endif
