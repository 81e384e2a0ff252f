/* libFuzzer harness: configuration values and the httpd configuration
 * tree (apachectl -t -D DUMP_CONFIG) the admin tool reads.
 *
 * Properties checked (abort on violation), on the whole input and on each
 * of its first lines and directive arguments:
 *  - orm_integer_parse accepts exactly "white space, digits, white space"
 *    whose value lies in [min, max] (checked against an independent
 *    arbitrary-length reference for several ranges), stores that value,
 *    and the value printed again parses back to itself.
 *  - orm_identifier_check accepts exactly [A-Za-z_][A-Za-z0-9_]* of at most
 *    max_len characters.
 *  - orm_field_lookup returns a field whose default name equals the text
 *    ignoring case, or -1 when there is none.
 *  - orm_cookie_attrs_parse does not crash and accepts only sane values.
 *  - orm_conffile_parse of the input as a DUMP_CONFIG tree never
 *    crashes; on success every table and column name it reports passes
 *    orm_identifier_check, no ${NAME} is left in the driver, parameters or
 *    timeout, vhost_found is set only when a vhost was asked for, asking
 *    for a vhost that is not there gives the same result as asking for
 *    none (so reading is deterministic), and one that is there only
 *    overrides what the main server sets; on failure it says why.
 */
#include <stdint.h>
#include <ctype.h>
#include <strings.h>

#include <apr_lib.h>

#include "fuzz_common.h"
#include "orm_integer.h"
#include "orm_ttl.h"
#include "orm_schema.h"
#include "orm_cookie.h"
#include "orm_conffile.h"

/* ---- orm_integer_parse ------------------------------------------------ */

/* Reference: 1 and *value when text is ws* digits ws* within [min, max]. */
static int seconds_ref(const char *text, apr_int64_t min, apr_int64_t max,
                       apr_int64_t *value)
{
    const char *p = text, *digits, *end;
    apr_uint64_t v = 0;

    while (isspace((unsigned char)*p)) {
        p++;
    }
    digits = p;
    while (*p >= '0' && *p <= '9') {
        p++;
    }
    end = p;
    while (isspace((unsigned char)*p)) {
        p++;
    }
    if (end == digits || *p != '\0') {
        return 0;
    }
    while (digits < end - 1 && *digits == '0') {
        digits++;
    }
    if (end - digits > 19) {        /* above 9999999999999999999 */
        return 0;
    }
    for (p = digits; p < end; p++) {
        v = v * 10 + (apr_uint64_t)(*p - '0');   /* < 10^19 < 2^64 */
    }
    if (v > (apr_uint64_t)max || (apr_int64_t)v < min) {
        return 0;
    }
    *value = (apr_int64_t)v;
    return 1;
}

static void check_seconds(apr_pool_t *pool, const char *text)
{
    static const apr_int64_t ranges[][2] = {
        { 0, ORM_MAX_SECONDS }, { 1, ORM_MAX_SECONDS }, { 0, APR_INT32_MAX },
        { 0, 3600 }, { 1, 3600 }, { 1, 100000 }, { 0, 0 }, { 7, 7 },
        { 1, 9 }, { 10, 99 }, { 0, APR_INT64_MAX },
        { APR_INT64_MAX - 1, APR_INT64_MAX }, { 5, 3 }
    };
    size_t i;

    for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        apr_int64_t min = ranges[i][0], max = ranges[i][1];
        apr_int64_t got = -12345, want = -1, again = -1;
        const char *err = orm_integer_parse(pool, text, min, max, "seconds",
                                            &got);
        int ok = seconds_ref(text, min, max, &want);

        FUZZ_REQUIRE((err == NULL) == ok, "orm_integer_parse(%s, %"
                     APR_INT64_T_FMT ", %" APR_INT64_T_FMT ") %s, "
                     "reference %s", fuzz_show(pool, text), min, max,
                     err ? err : "accepted", ok ? "accepts" : "rejects");
        if (err != NULL) {
            FUZZ_REQUIRE(*err != '\0' && got == -12345,
                         "rejection wrote the value or gave no text");
            continue;
        }
        FUZZ_REQUIRE(got == want && got >= min && got <= max,
                     "orm_integer_parse(%s) = %" APR_INT64_T_FMT ", expected %"
                     APR_INT64_T_FMT " in [%" APR_INT64_T_FMT ", %"
                     APR_INT64_T_FMT "]", fuzz_show(pool, text), got, want,
                     min, max);
        err = orm_integer_parse(pool,
                                apr_psprintf(pool, "%" APR_INT64_T_FMT, got),
                                min, max, "seconds", &again);
        FUZZ_REQUIRE(err == NULL && again == got, "%" APR_INT64_T_FMT
                     " printed does not parse back: %s", got,
                     err ? err : "other value");
    }
    FUZZ_REQUIRE(orm_integer_parse(pool, NULL, 0, 10, "seconds",
                                   &(apr_int64_t){0})
                 != NULL, "NULL accepted");
}

/* ---- identifiers and fields ------------------------------------------- */

static int identifier_ref(const char *name, apr_size_t max_len)
{
    const char *p = name;

    if (!(isalpha((unsigned char)*p) || *p == '_')) {
        return 0;
    }
    for (; *p; p++) {
        if (!(isalnum((unsigned char)*p) || *p == '_')) {
            return 0;
        }
    }
    return strlen(name) <= max_len;
}

static void check_identifier(apr_pool_t *pool, const char *name)
{
    static const apr_size_t limits[] = {
        0, 1, ORM_TABLE_NAME_MAX, ORM_COLUMN_NAME_MAX, (apr_size_t)-1
    };
    size_t i;

    for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        const char *err = orm_identifier_check(name, limits[i]);
        int ok = identifier_ref(name, limits[i]);
        FUZZ_REQUIRE((err == NULL) == ok, "orm_identifier_check(%s, %zu) %s",
                     fuzz_show(pool, name), (size_t)limits[i],
                     err ? err : "accepted");
        FUZZ_REQUIRE(err == NULL || *err != '\0', "empty error text");
    }
}

static void check_field(apr_pool_t *pool, const char *name)
{
    int field = orm_field_lookup(name);
    int i;

    if (field >= 0) {
        FUZZ_REQUIRE(field < ORM_FIELD_COUNT
                     && !strcasecmp(name, orm_field_default_name(field)),
                     "orm_field_lookup(%s) = %d", fuzz_show(pool, name),
                     field);
        FUZZ_REQUIRE(orm_identifier_check(orm_field_default_name(field),
                                          ORM_COLUMN_NAME_MAX) == NULL,
                     "default column name is not an identifier");
    }
    else {
        FUZZ_REQUIRE(field == -1, "orm_field_lookup(%s) = %d",
                     fuzz_show(pool, name), field);
        for (i = 0; i < ORM_FIELD_COUNT; i++) {
            FUZZ_REQUIRE(strcasecmp(name, orm_field_default_name(i)) != 0,
                         "orm_field_lookup(%s) missed field %d",
                         fuzz_show(pool, name), i);
        }
    }
}

static void check_cookie_attrs(apr_pool_t *pool, const char *text)
{
    orm_cookie_attrs_t a;
    const char *err;

    orm_cookie_attrs_init(&a);
    err = orm_cookie_attrs_parse(pool, text, &a);
    if (err) {
        FUZZ_REQUIRE(*err != '\0', "empty error text");
        return;
    }
    FUZZ_REQUIRE(a.path == NULL || a.path[0] == '/', "Path %s",
                 fuzz_show(pool, a.path));
    FUZZ_REQUIRE(!a.path || !strpbrk(a.path, " \t\r\n;,\""),
                 "Path %s", fuzz_show(pool, a.path));
    FUZZ_REQUIRE(!a.domain || (*a.domain && !strpbrk(a.domain,
                                                      " \t\r\n;,\"")),
                 "Domain %s", fuzz_show(pool, a.domain));
}

static void check_value(apr_pool_t *pool, const char *text)
{
    check_seconds(pool, text);
    check_identifier(pool, text);
    check_field(pool, text);
    check_cookie_attrs(pool, text);
}

/* ---- orm_conffile_parse --------------------------------------------- */

static int same_opt(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && !strcmp(a, b));
}

static int same_conf(const orm_conffile_t *a, const orm_conffile_t *b)
{
    int i;

    if (!same_opt(a->driver, b->driver) || !same_opt(a->params, b->params)
        || !same_opt(a->schema.table, b->schema.table)
        || a->sweep_batch != b->sweep_batch) {
        return 0;
    }
    for (i = 0; i < ORM_FIELD_COUNT; i++) {
        if (!same_opt(a->schema.columns[i], b->schema.columns[i])) {
            return 0;
        }
    }
    return 1;
}

static apr_status_t read_conf(apr_pool_t *pool, const char *text,
                              const char *vhost, orm_conffile_t *conf,
                              const char **errmsg)
{
    apr_status_t rv;

    *errmsg = "(not set)";
    rv = orm_conffile_parse(pool, text, vhost, conf, errmsg);
    if (rv != APR_SUCCESS) {
        FUZZ_REQUIRE(*errmsg != NULL && **errmsg != '\0'
                     && strcmp(*errmsg, "(not set)") != 0,
                     "orm_conffile_parse failed (%d) without a message", rv);
        return rv;
    }
    FUZZ_REQUIRE(conf->schema.table == NULL
                 || orm_identifier_check(conf->schema.table,
                                         ORM_TABLE_NAME_MAX) == NULL,
                 "table name %s reported", fuzz_show(pool, conf->schema.table));
    {
        int i;
        for (i = 0; i < ORM_FIELD_COUNT; i++) {
            FUZZ_REQUIRE(conf->schema.columns[i] == NULL
                         || orm_identifier_check(conf->schema.columns[i],
                                                 ORM_COLUMN_NAME_MAX) == NULL,
                         "column name %s reported for field %d",
                         fuzz_show(pool, conf->schema.columns[i]), i);
        }
    }
    FUZZ_REQUIRE(!conf->vhost_found || vhost != NULL,
                 "vhost_found without a vhost asked for");
    {
        /* nothing httpd left unreplaced reaches the tool */
        const char *values[3];
        int i;
        values[0] = conf->driver;
        values[1] = conf->params;
        values[2] = conf->timeout;
        for (i = 0; i < 3; i++) {
            const char *var = values[i] ? strstr(values[i], "${") : NULL;
            FUZZ_REQUIRE(var == NULL || strchr(var, '}') == NULL,
                         "unresolved variable in %s",
                         fuzz_show(pool, values[i]));
        }
    }
    /* must not crash; its answer depends on the names */
    (void)orm_schema_check_distinct(pool, &conf->schema);
    return rv;
}

/* Read with a vhost asked for: same status as without; when the vhost is
 * not there, the same result; when it is, it only overrides. */
static void check_vhost_read(apr_pool_t *pool, const char *text,
                             const char *vhost, apr_status_t rv_none,
                             const char *err_none,
                             const orm_conffile_t *none)
{
    orm_conffile_t wanted;
    const char *err;
    apr_status_t rv = read_conf(pool, text, vhost, &wanted, &err);

    /* an unreplaced ${NAME} counts only in the values used: a vhost's own,
     * or the main server's that the vhost overrides, changes the status */
    if (rv != rv_none
        && strstr(rv != APR_SUCCESS ? err : err_none, "${") != NULL) {
        return;
    }
    FUZZ_REQUIRE(rv == rv_none, "status %d with vhost %s asked for, %d "
                 "without", rv, vhost, rv_none);
    if (rv != APR_SUCCESS) {
        return;
    }
    if (!wanted.vhost_found) {
        FUZZ_REQUIRE(same_conf(none, &wanted), "vhost %s is not there but "
                     "changed the result", vhost);
    }
    else {
        int i;
        FUZZ_REQUIRE(!(none->driver && wanted.driver == NULL)
                     && !(none->params && wanted.params == NULL)
                     && !(none->schema.table && wanted.schema.table == NULL)
                     && !(none->sweep_batch && wanted.sweep_batch == 0),
                     "vhost %s dropped a setting of the main server", vhost);
        for (i = 0; i < ORM_FIELD_COUNT; i++) {
            FUZZ_REQUIRE(!(none->schema.columns[i]
                           && wanted.schema.columns[i] == NULL),
                         "vhost %s dropped column %d", vhost, i);
        }
    }
}

static void check_httpd_conf(apr_pool_t *pool, const char *text)
{
    orm_conffile_t none;
    const char *err_none;
    apr_status_t rv_none;

    rv_none = read_conf(pool, text, NULL, &none, &err_none);
    check_vhost_read(pool, text, "example.org", rv_none, err_none, &none);
    check_vhost_read(pool, text, "www.example.org", rv_none, err_none,
                     &none);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_apr_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    char *text = fuzz_cstr(pool, data, size);
    char *copy, *line, *state = NULL;
    int lines = 0;

    FUZZ_REQUIRE(orm_identifier_check(NULL, 10) != NULL, "NULL identifier");
    FUZZ_REQUIRE(orm_field_lookup(NULL) == -1, "NULL field");
    FUZZ_REQUIRE(orm_field_default_name((orm_field_e)-1) == NULL
                 && orm_field_default_name(ORM_FIELD_COUNT) == NULL,
                 "field name out of range");

    check_value(pool, text);
    /* each line, and each white-space separated word of it, as one value */
    copy = apr_pstrdup(pool, text);
    for (line = apr_strtok(copy, "\n", &state); line && lines < 32;
         line = apr_strtok(NULL, "\n", &state), lines++) {
        char **argv = NULL;
        int i;

        check_value(pool, line);
        if (apr_tokenize_to_argv(line, &argv, pool) == APR_SUCCESS) {
            for (i = 0; argv[i] && i < 8; i++) {
                check_value(pool, argv[i]);
            }
        }
    }
    check_httpd_conf(pool, text);
    apr_pool_destroy(pool);
    return 0;
}
