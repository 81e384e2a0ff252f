/**
 * Whole numbers from configuration and the command line: seconds, row
 * counts, byte sizes. One parser, so every directive and option accepts the
 * same text and says the same about what it refuses.
 */
#ifndef ORM_INTEGER_H
#define ORM_INTEGER_H

#include <apr.h>
#include <apr_pools.h>

/** Parses a whole number in [min, max] from text (surrounding white space
 *  allowed); unit names what it counts ("seconds", "rows", "bytes") in the
 *  error. NULL on success, else an error text from pool. */
const char *orm_integer_parse(apr_pool_t *pool, const char *text,
                              apr_int64_t min, apr_int64_t max,
                              const char *unit, apr_int64_t *value);

#endif
