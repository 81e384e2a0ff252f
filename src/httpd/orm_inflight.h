/**
 * A prefork child stopped at once gives its request's database connection
 * back first.
 *
 * prefork ends a child it is told to stop at once (`-k stop`, `-k
 * restart`) from a signal handler, in the middle of the request it is
 * serving, by destroying pchild. Subpools go newest first: mod_dbd's pool
 * of connections, made in child_init, before the request's pool, a subpool
 * of ptrans, made before child_init. With the request's connection still
 * out of the pool, apr_reslist's cleanup fails its assertion and the child
 * aborts (mod_session_dbd's too). A pre-cleanup of pchild runs before any
 * subpool goes: it ends the noted requests' pools first, which hands their
 * connections back.
 *
 * It ends a request's pool only when that is safe from a signal handler
 * that never returns: not while this module is in a database call (a
 * driver interrupted mid-call is not closed under itself), and not when
 * the pool is already being destroyed. Then the child aborts as before.
 * Only the child's main thread is noted: the handler interrupts it, and
 * any other thread (mod_http2's workers) may still be using its request.
 */
#ifndef ORM_INFLIGHT_H
#define ORM_INFLIGHT_H

#include "httpd.h"

typedef struct orm_inflight_t orm_inflight_t;

/** child_init: this child's record, its pre-cleanup registered on pchild;
 *  NULL under a threaded MPM, whose requests run in threads of their own
 *  and whose children let them finish. */
orm_inflight_t *orm_inflight_create(apr_pool_t *pchild);

/** Before a connection is acquired for r (mod_dbd hands it back when the
 *  initial request's pool goes): notes that pool, once per request. No-op
 *  for a NULL record or another thread than the child's main one. */
void orm_inflight_note(orm_inflight_t *inflight, request_rec *r);

/** Around each database call: +1 before, -1 after. */
void orm_inflight_calls(orm_inflight_t *inflight, int delta);

#endif
