/**
 * The storage provider: mod_session's session_load and session_save hooks,
 * the glue between httpd and the session policy (orm_policy.h). It reads
 * the request (its cookies, r->user, the top request that caches its
 * record), asks the policy what a load concludes and what a save does,
 * runs the store calls that follow (conditional writes, the merge after a
 * lost race, the rotation of a token), evaluates SessionORMTTL, logs, and
 * sends the one Set-Cookie. Each top-level request loads its session at
 * most once; subrequests and internal redirects share that record.
 */
#ifndef ORM_PROVIDER_H
#define ORM_PROVIDER_H

#include "httpd.h"
#include "mod_session.h"

/** session_load hook: DECLINED where no SessionORM key is configured. */
apr_status_t orm_session_load(request_rec *r, session_rec **z);

/** session_save hook: DECLINED where no SessionORM key is configured. */
apr_status_t orm_session_save(request_rec *r, session_rec *z);

/** fixups, after mod_session's: answers 503 when the session could not be
 *  loaded and SessionORMOnError is fail. */
int orm_fixups(request_rec *r);
/** The value of a key of the request's session (mod_session loads it if
 *  it has not yet), NULL when there is none or it is empty. In the express
 *  format a dotted path ("passport.user") reaches into the JSON's objects;
 *  in the native format the key is taken as written. */
const char *orm_session_value(request_rec *r, const char *path);

#endif
