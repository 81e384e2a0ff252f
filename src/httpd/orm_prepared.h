/**
 * Statements kept prepared on a pooled mod_dbd connection, filed under a
 * label in the connection's table of prepared statements (where mod_dbd
 * files its own) for every later use of that connection to find. Each
 * lives in a pool of its own below the connection's, which holds its copy
 * of the label too, so a label need only live for the call that files it;
 * releasing it closes the driver's handle and, where the server names the
 * statement (PostgreSQL), deallocates it there, so the label can be
 * prepared again on a connection that stayed open. Labels double as
 * PostgreSQL statement names: plain identifiers, never request data.
 */
#ifndef ORM_PREPARED_H
#define ORM_PREPARED_H

#include "apr_dbd.h"
#include "mod_dbd.h"

/** The statement filed under label on this connection, prepared from sql
 *  the first time; on failure *errmsg holds the driver's message (until
 *  its next call). */
apr_status_t orm_prepared_once(ap_dbd_t *dbd, const char *label,
                               const char *sql, apr_dbd_prepared_t **stmt,
                               const char **errmsg);

/** Releases the statement filed under label on this connection (none is
 *  fine). */
void orm_prepared_release(apr_pool_t *pool, ap_dbd_t *dbd, const char *label);

/** Opens a new handle with params (DBDParams) in place of dbd's, for a
 *  driver that does not reconnect a dropped connection itself (odbc; the
 *  native drivers do, in apr_dbd_check_conn), and closes the old one. The
 *  statements prepared on the old handle are gone: release ours and
 *  prepare them again. Other modules' statements (DBDPrepareSQL) fail
 *  from then on, as after a native driver's reconnect. On failure dbd is
 *  unchanged and *errmsg says why. */
apr_status_t orm_dbd_reopen(ap_dbd_t *dbd, const char *params,
                            const char **errmsg);


#endif
