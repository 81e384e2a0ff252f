/**
 * Owner names as stored. The owner column is VARCHAR(255) of text in the
 * database's character set: a name longer than that, not UTF-8, or with
 * control characters would make the save fail on MariaDB and PostgreSQL,
 * and could be filled by any module that sets a "user" or "*-user" session
 * key. Such a name is stored in a deterministic form instead, which the
 * admin tool's `revoke --user NAME` computes the same way.
 */
#ifndef ORM_OWNER_H
#define ORM_OWNER_H

#include <apr.h>
#include <apr_pools.h>

/** Bytes the owner column holds (255 characters of at least one byte). */
#define ORM_OWNER_MAX 255

/** The owner column's value for name: name itself when it is at most
 *  ORM_OWNER_MAX bytes of UTF-8 without control characters and does not
 *  end like a mapped form; otherwise its longest such prefix that leaves
 *  room, '~', and the hex SHA-256 of the whole name (at most ORM_OWNER_MAX
 *  bytes). NULL stays NULL. */
const char *orm_owner_column(apr_pool_t *pool, const char *name);

#endif
