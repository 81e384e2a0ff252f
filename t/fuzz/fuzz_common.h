/* Shared by the libFuzzer harnesses: apr set-up once per process, a pool
 * per input, and a failure macro that names the violated property and
 * aborts so libFuzzer keeps the input as a crash artifact. */
#ifndef ORM_FUZZ_COMMON_H
#define ORM_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#define FUZZ_REQUIRE(cond, ...)                                             \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "\n*** property violated at %s:%d: %s\n",      \
                    __FILE__, __LINE__, #cond);                             \
            fprintf(stderr, "*** " __VA_ARGS__);                            \
            fputc('\n', stderr);                                            \
            abort();                                                        \
        }                                                                   \
    } while (0)

static void fuzz_apr_init(void)
{
    static int initialized;

    if (!initialized) {
        if (apr_initialize() != APR_SUCCESS) {
            fprintf(stderr, "apr_initialize failed\n");
            abort();
        }
        atexit(apr_terminate);
        initialized = 1;
    }
}

static apr_pool_t *fuzz_pool(void)
{
    apr_pool_t *pool = NULL;

    fuzz_apr_init();
    if (apr_pool_create(&pool, NULL) != APR_SUCCESS || pool == NULL) {
        fprintf(stderr, "apr_pool_create failed\n");
        abort();
    }
    return pool;
}

/* The input as a C string (bytes after an embedded NUL are cut off, as
 * they would be by any C caller). */
static char *fuzz_cstr(apr_pool_t *pool, const uint8_t *data, size_t size)
{
    return apr_pstrmemdup(pool, (const char *)data, size);
}

/* A printable rendering of a string for failure messages. */
static const char *fuzz_show(apr_pool_t *pool, const char *s)
{
    char *out, *p;

    if (s == NULL) {
        return "(null)";
    }
    out = apr_palloc(pool, strlen(s) * 4 + 3);
    p = out;
    *p++ = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            p += sprintf(p, "\\x%02x", c);
        }
        else {
            *p++ = (char)c;
        }
    }
    *p++ = '"';
    *p = '\0';
    return out;
}

#endif
