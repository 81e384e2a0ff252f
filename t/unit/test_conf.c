/* Configuration records: create, merge and the defaults of the getters. */
#include <stddef.h>
#include <string.h>
#include <apr_strings.h>

#include "tests.h"
#include "orm_conf.h"
#include "orm_ttl.h"

/* Stand-ins for compiled ap_expr_info_t (opaque here). */
static const int expr_a = 1, expr_b = 2;

static void assert_attrs_unset(const orm_cookie_attrs_t *a)
{
    ck_assert_ptr_null(a->path);
    ck_assert_ptr_null(a->domain);
    ck_assert_ptr_null(a->same_site);
    ck_assert_int_eq(a->http_only, ORM_FLAG_UNSET);
    ck_assert_int_eq(a->secure, ORM_FLAG_UNSET);
}

static void assert_dir_unset(const orm_dir_conf_t *c)
{
    ck_assert_ptr_null(c->cookie_name);
    assert_attrs_unset(&c->cookie_attrs);
    ck_assert_int_eq(c->per_user, ORM_UNSET);
    ck_assert_int_eq(c->cookie_remove, ORM_UNSET);
    ck_assert_int_eq(c->ttl_seconds, ORM_UNSET);
    ck_assert_ptr_null(c->ttl_expr);
    ck_assert_int_eq(c->touch_seconds, ORM_UNSET);
}

/* A directory config with every member set. */
static orm_dir_conf_t *dir_all_set(const char *cookie, const char *path,
                                   int flag, apr_int64_t ttl,
                                   apr_int64_t touch)
{
    orm_dir_conf_t *c = orm_dir_conf_create(test_pool);

    c->cookie_name = cookie;
    c->cookie_attrs.path = path;
    c->cookie_attrs.domain = apr_pstrcat(test_pool, cookie, ".example", NULL);
    c->cookie_attrs.same_site = flag ? "Strict" : "None";
    c->cookie_attrs.http_only = flag ? ORM_FLAG_ON : ORM_FLAG_OFF;
    c->cookie_attrs.secure = flag ? ORM_FLAG_ON : ORM_FLAG_OFF;
    c->per_user = flag;
    c->cookie_remove = flag;
    c->ttl_seconds = ttl;
    c->touch_seconds = touch;
    return c;
}

START_TEST(test_dir_conf_create)
{
    orm_dir_conf_t *c = orm_dir_conf_create(test_pool);
    orm_dir_conf_t *d = orm_dir_conf_create(test_pool);

    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_ne(c, d);
    ck_assert_int_eq(ORM_UNSET, -1);
    assert_dir_unset(c);
}
END_TEST

START_TEST(test_server_conf_create)
{
    orm_server_conf_t *s = orm_server_conf_create(test_pool);
    int i;

    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_null(s->schema.table);
    for (i = 0; i < ORM_FIELD_COUNT; i++) {
        ck_assert_ptr_null(s->schema.columns[i]);
    }
    ck_assert_int_eq(s->create_schema, ORM_UNSET);
    ck_assert_ptr_null(s->dialect);
    ck_assert_int_eq(s->sessions_configured, 0);
    ck_assert_ptr_null(s->store);
}
END_TEST

START_TEST(test_dir_merge_unset_stays_unset)
{
    orm_dir_conf_t *p = orm_dir_conf_create(test_pool);
    orm_dir_conf_t *c = orm_dir_conf_create(test_pool);
    orm_dir_conf_t *m = orm_dir_conf_merge(test_pool, p, c);

    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_ne(m, p);
    ck_assert_ptr_ne(m, c);
    assert_dir_unset(m);
}
END_TEST

START_TEST(test_dir_merge_parent_when_child_unset)
{
    orm_dir_conf_t *p = dir_all_set("pc", "/p", 1, 100, 30);
    orm_dir_conf_t *c = orm_dir_conf_create(test_pool);
    orm_dir_conf_t *m = orm_dir_conf_merge(test_pool, p, c);

    ck_assert_str_eq(m->cookie_name, "pc");
    ck_assert_str_eq(m->cookie_attrs.path, "/p");
    ck_assert_str_eq(m->cookie_attrs.domain, "pc.example");
    ck_assert_str_eq(m->cookie_attrs.same_site, "Strict");
    ck_assert_int_eq(m->cookie_attrs.http_only, ORM_FLAG_ON);
    ck_assert_int_eq(m->cookie_attrs.secure, ORM_FLAG_ON);
    ck_assert_int_eq(m->per_user, 1);
    ck_assert_int_eq(m->cookie_remove, 1);
    ck_assert_int_eq(m->ttl_seconds, 100);
    ck_assert_ptr_null(m->ttl_expr);
    ck_assert_int_eq(m->touch_seconds, 30);

    /* and the same with a parent that sets "off" values */
    p = dir_all_set("pc", "/p", 0, 200, 0);
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->per_user, 0);
    ck_assert_int_eq(m->cookie_remove, 0);
    ck_assert_int_eq(m->touch_seconds, 0);
    ck_assert_int_eq(m->ttl_seconds, 200);
    ck_assert_int_eq(m->cookie_attrs.secure, ORM_FLAG_OFF);
    ck_assert_int_eq(m->cookie_attrs.http_only, ORM_FLAG_OFF);
}
END_TEST

START_TEST(test_dir_merge_child_wins)
{
    orm_dir_conf_t *p = dir_all_set("pc", "/p", 1, 100, 30);
    orm_dir_conf_t *c = dir_all_set("cc", "/c", 0, 200, 0);
    orm_dir_conf_t *m = orm_dir_conf_merge(test_pool, p, c);

    ck_assert_str_eq(m->cookie_name, "cc");
    ck_assert_str_eq(m->cookie_attrs.path, "/c");
    ck_assert_str_eq(m->cookie_attrs.domain, "cc.example");
    ck_assert_str_eq(m->cookie_attrs.same_site, "None");
    ck_assert_int_eq(m->cookie_attrs.http_only, ORM_FLAG_OFF);
    ck_assert_int_eq(m->cookie_attrs.secure, ORM_FLAG_OFF);
    /* an explicit 0 (Off) in the child beats the parent's 1 */
    ck_assert_int_eq(m->per_user, 0);
    ck_assert_int_eq(m->cookie_remove, 0);
    ck_assert_int_eq(m->ttl_seconds, 200);
    ck_assert_int_eq(m->touch_seconds, 0);

    /* the other way round */
    m = orm_dir_conf_merge(test_pool, c, p);
    ck_assert_int_eq(m->per_user, 1);
    ck_assert_int_eq(m->cookie_remove, 1);
    ck_assert_int_eq(m->touch_seconds, 30);
    ck_assert_int_eq(m->ttl_seconds, 100);
    ck_assert_str_eq(m->cookie_name, "pc");
}
END_TEST

START_TEST(test_dir_merge_each_member_independently)
{
    orm_dir_conf_t *p = dir_all_set("pc", "/p", 1, 100, 30);
    orm_dir_conf_t *c, *m;

    c = orm_dir_conf_create(test_pool);
    c->per_user = 0;
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->per_user, 0);
    ck_assert_int_eq(m->cookie_remove, 1);
    ck_assert_int_eq(m->touch_seconds, 30);
    ck_assert_str_eq(m->cookie_name, "pc");

    c = orm_dir_conf_create(test_pool);
    c->cookie_remove = 0;
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->cookie_remove, 0);
    ck_assert_int_eq(m->per_user, 1);
    ck_assert_int_eq(m->ttl_seconds, 100);

    c = orm_dir_conf_create(test_pool);
    c->touch_seconds = 600;
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->touch_seconds, 600);
    ck_assert_int_eq(m->ttl_seconds, 100);
    ck_assert_int_eq(m->cookie_remove, 1);

    c = orm_dir_conf_create(test_pool);
    c->ttl_seconds = 5;
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->ttl_seconds, 5);
    ck_assert_int_eq(m->touch_seconds, 30);
    ck_assert_str_eq(m->cookie_name, "pc");
}
END_TEST

START_TEST(test_dir_merge_ttl_is_one_setting)
{
    orm_dir_conf_t *p = orm_dir_conf_create(test_pool);
    orm_dir_conf_t *c = orm_dir_conf_create(test_pool);
    orm_dir_conf_t *m;

    /* child's expression overrides parent's seconds */
    p->ttl_seconds = 100;
    c->ttl_expr = &expr_a;
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_ptr_eq(m->ttl_expr, &expr_a);
    ck_assert_int_eq(m->ttl_seconds, ORM_UNSET);

    /* child's seconds override parent's expression */
    p = orm_dir_conf_create(test_pool);
    c = orm_dir_conf_create(test_pool);
    p->ttl_expr = &expr_a;
    c->ttl_seconds = 200;
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->ttl_seconds, 200);
    ck_assert_ptr_null(m->ttl_expr);

    /* child's expression overrides parent's expression */
    p = orm_dir_conf_create(test_pool);
    c = orm_dir_conf_create(test_pool);
    p->ttl_expr = &expr_a;
    c->ttl_expr = &expr_b;
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_ptr_eq(m->ttl_expr, &expr_b);
    ck_assert_int_eq(m->ttl_seconds, ORM_UNSET);

    /* nothing in the child: the parent's, whichever form */
    p = orm_dir_conf_create(test_pool);
    c = orm_dir_conf_create(test_pool);
    p->ttl_expr = &expr_a;
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_ptr_eq(m->ttl_expr, &expr_a);
    ck_assert_int_eq(m->ttl_seconds, ORM_UNSET);
    p->ttl_expr = NULL;
    p->ttl_seconds = 300;
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_ptr_null(m->ttl_expr);
    ck_assert_int_eq(m->ttl_seconds, 300);

    /* three levels: server seconds, <Location> expr, nested seconds */
    p = orm_dir_conf_create(test_pool);
    p->ttl_seconds = 100;
    c = orm_dir_conf_create(test_pool);
    c->ttl_expr = &expr_a;
    m = orm_dir_conf_merge(test_pool, p, c);
    c = orm_dir_conf_create(test_pool);
    c->ttl_seconds = 7;
    m = orm_dir_conf_merge(test_pool, m, c);
    ck_assert_int_eq(m->ttl_seconds, 7);
    ck_assert_ptr_null(m->ttl_expr);
}
END_TEST

START_TEST(test_dir_merge_cookie_name_and_attrs_together)
{
    orm_dir_conf_t *p = orm_dir_conf_create(test_pool);
    orm_dir_conf_t *c = orm_dir_conf_create(test_pool);
    orm_dir_conf_t *m;

    p->cookie_name = "parent_sid";
    p->cookie_attrs.path = "/p";
    p->cookie_attrs.secure = ORM_FLAG_ON;
    p->cookie_attrs.same_site = "Strict";

    /* a child naming its own cookie without attributes does not inherit
     * the parent's attributes */
    c->cookie_name = "child_sid";
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_str_eq(m->cookie_name, "child_sid");
    assert_attrs_unset(&m->cookie_attrs);

    /* child with a name and some attributes: exactly the child's */
    c->cookie_attrs.domain = "c.example";
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_str_eq(m->cookie_name, "child_sid");
    ck_assert_str_eq(m->cookie_attrs.domain, "c.example");
    ck_assert_ptr_null(m->cookie_attrs.path);
    ck_assert_ptr_null(m->cookie_attrs.same_site);
    ck_assert_int_eq(m->cookie_attrs.secure, ORM_FLAG_UNSET);

    /* child without a name: the parent's name with the parent's attrs */
    c = orm_dir_conf_create(test_pool);
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_str_eq(m->cookie_name, "parent_sid");
    ck_assert_str_eq(m->cookie_attrs.path, "/p");
    ck_assert_int_eq(m->cookie_attrs.secure, ORM_FLAG_ON);
    ck_assert_str_eq(m->cookie_attrs.same_site, "Strict");

    /* the merged record owns a copy of the attributes */
    m->cookie_attrs.path = "/changed";
    ck_assert_str_eq(p->cookie_attrs.path, "/p");
}
END_TEST

START_TEST(test_dir_key_mode)
{
    orm_dir_conf_t *c = orm_dir_conf_create(test_pool);

    ck_assert_int_eq(orm_dir_key_mode(c), ORM_KEY_NONE);

    c->cookie_name = "sid";
    ck_assert_int_eq(orm_dir_key_mode(c), ORM_KEY_COOKIE);

    c->per_user = 0;
    ck_assert_int_eq(orm_dir_key_mode(c), ORM_KEY_COOKIE);

    c->per_user = 1;
    ck_assert_int_eq(orm_dir_key_mode(c), ORM_KEY_USER);   /* wins */

    c->cookie_name = NULL;
    ck_assert_int_eq(orm_dir_key_mode(c), ORM_KEY_USER);

    c->per_user = 0;
    ck_assert_int_eq(orm_dir_key_mode(c), ORM_KEY_NONE);

    c->per_user = ORM_UNSET;
    ck_assert_int_eq(orm_dir_key_mode(c), ORM_KEY_NONE);
}
END_TEST

START_TEST(test_dir_key_mode_after_merge)
{
    orm_dir_conf_t *p = orm_dir_conf_create(test_pool);
    orm_dir_conf_t *c = orm_dir_conf_create(test_pool);

    /* cookie sessions server-wide, per-user in a <Location> */
    p->cookie_name = "sid";
    c->per_user = 1;
    ck_assert_int_eq(orm_dir_key_mode(orm_dir_conf_merge(test_pool, p, c)),
                     ORM_KEY_USER);
    /* per-user server-wide, switched off below: back to the cookie */
    p->per_user = 1;
    c->per_user = 0;
    ck_assert_int_eq(orm_dir_key_mode(orm_dir_conf_merge(test_pool, p, c)),
                     ORM_KEY_COOKIE);
    /* nothing set anywhere */
    ck_assert_int_eq(orm_dir_key_mode(orm_dir_conf_merge(test_pool,
                     orm_dir_conf_create(test_pool),
                     orm_dir_conf_create(test_pool))), ORM_KEY_NONE);
}
END_TEST

START_TEST(test_dir_getters_defaults)
{
    orm_dir_conf_t *c = orm_dir_conf_create(test_pool);

    ck_assert_int_eq(orm_dir_cookie_remove(c), 1);
    ck_assert_int_eq(orm_dir_touch_seconds(c), 60);
    ck_assert_int_eq(orm_dir_touch_seconds(c), ORM_DEFAULT_TOUCH_SECONDS);

    c->cookie_remove = 0;
    ck_assert_int_eq(orm_dir_cookie_remove(c), 0);
    c->cookie_remove = 1;
    ck_assert_int_eq(orm_dir_cookie_remove(c), 1);

    c->touch_seconds = 0;
    ck_assert_int_eq(orm_dir_touch_seconds(c), 0);
    c->touch_seconds = 300;
    ck_assert_int_eq(orm_dir_touch_seconds(c), 300);
    c->touch_seconds = ORM_MAX_SECONDS;
    ck_assert_int_eq(orm_dir_touch_seconds(c), ORM_MAX_SECONDS);

    /* defaults are applied by the getters, never stored by a merge */
    c = orm_dir_conf_merge(test_pool, orm_dir_conf_create(test_pool),
                           orm_dir_conf_create(test_pool));
    ck_assert_int_eq(c->cookie_remove, ORM_UNSET);
    ck_assert_int_eq(c->touch_seconds, ORM_UNSET);
    ck_assert_int_eq(orm_dir_cookie_remove(c), 1);
    ck_assert_int_eq(orm_dir_touch_seconds(c), 60);
}
END_TEST

START_TEST(test_server_getters_defaults)
{
    orm_server_conf_t *s = orm_server_conf_create(test_pool);

    ck_assert_int_eq(orm_server_create_schema(s), 1);
    ck_assert_str_eq(orm_server_dialect(s), "auto");
    s->create_schema = 0;
    ck_assert_int_eq(orm_server_create_schema(s), 0);
    s->create_schema = 1;
    ck_assert_int_eq(orm_server_create_schema(s), 1);
    s->dialect = "portable";
    ck_assert_str_eq(orm_server_dialect(s), "portable");
    s->dialect = "auto";
    ck_assert_str_eq(orm_server_dialect(s), "auto");
}
END_TEST

START_TEST(test_server_merge)
{
    orm_server_conf_t *p = orm_server_conf_create(test_pool);
    orm_server_conf_t *c = orm_server_conf_create(test_pool);
    orm_server_conf_t *m;

    /* all unset: stays unset, getters give defaults */
    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_ne(m, p);
    ck_assert_ptr_ne(m, c);
    ck_assert_ptr_null(m->schema.table);
    ck_assert_int_eq(m->create_schema, ORM_UNSET);
    ck_assert_ptr_null(m->dialect);
    ck_assert_int_eq(orm_server_create_schema(m), 1);
    ck_assert_str_eq(orm_server_dialect(m), "auto");
    ck_assert_str_eq(orm_schema_table(&m->schema), "session");

    /* schema per column */
    p->schema.table = "main_sessions";
    p->schema.columns[ORM_FIELD_ID] = "sid";
    p->schema.columns[ORM_FIELD_DATA] = "payload";
    c->schema.columns[ORM_FIELD_DATA] = "vhost_payload";
    c->schema.columns[ORM_FIELD_UPDATED_AT] = "touched";
    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_str_eq(m->schema.table, "main_sessions");
    ck_assert_str_eq(m->schema.columns[ORM_FIELD_ID], "sid");
    ck_assert_str_eq(m->schema.columns[ORM_FIELD_DATA], "vhost_payload");
    ck_assert_str_eq(m->schema.columns[ORM_FIELD_UPDATED_AT], "touched");
    ck_assert_ptr_null(m->schema.columns[ORM_FIELD_EXPIRES_AT]);
    c->schema.table = "vhost_sessions";
    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_str_eq(m->schema.table, "vhost_sessions");

    /* mod_dbd's DBDriver and DBDParams as seen here: child if set, else
     * parent, each on its own */
    ck_assert_ptr_null(m->dbd_driver);
    ck_assert_ptr_null(m->dbd_params);
    p->dbd_driver = "odbc";
    p->dbd_params = "datasource=main";
    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_str_eq(m->dbd_driver, "odbc");
    ck_assert_str_eq(m->dbd_params, "datasource=main");
    c->dbd_params = "datasource=vhost";
    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_str_eq(m->dbd_driver, "odbc");
    ck_assert_str_eq(m->dbd_params, "datasource=vhost");

    /* create_schema / dialect: child if set, else parent */
    p->create_schema = 0;
    p->dialect = "pgsql";
    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->create_schema, 0);
    ck_assert_str_eq(m->dialect, "pgsql");
    ck_assert_int_eq(orm_server_create_schema(m), 0);
    ck_assert_str_eq(orm_server_dialect(m), "pgsql");
    c->create_schema = 1;
    c->dialect = "auto";
    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->create_schema, 1);
    ck_assert_str_eq(m->dialect, "auto");
    ck_assert_int_eq(orm_server_create_schema(m), 1);
    ck_assert_str_eq(orm_server_dialect(m), "auto");
    p->create_schema = ORM_UNSET;
    p->dialect = NULL;
    c->create_schema = 0;
    c->dialect = "portable";
    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_int_eq(orm_server_create_schema(m), 0);
    ck_assert_str_eq(orm_server_dialect(m), "portable");
}
END_TEST

START_TEST(test_server_merge_sessions_configured_not_inherited)
{
    orm_server_conf_t *p = orm_server_conf_create(test_pool);
    orm_server_conf_t *c = orm_server_conf_create(test_pool);

    p->sessions_configured = 1;
    c->sessions_configured = 0;
    ck_assert_int_eq(orm_server_conf_merge(test_pool, p, c)
                     ->sessions_configured, 0);
    p->sessions_configured = 0;
    c->sessions_configured = 1;
    ck_assert_int_eq(orm_server_conf_merge(test_pool, p, c)
                     ->sessions_configured, 1);
    p->sessions_configured = 1;
    ck_assert_int_eq(orm_server_conf_merge(test_pool, p, c)
                     ->sessions_configured, 1);
}
END_TEST

/* ---- failure handling, limits and the sweep ------------------------------ */

/* One member of a configuration record as a case of the merge: a value a
 * parent sets and one a child sets (0 too counts as set), and its getter. */
typedef struct {
    const char *name;
    int server;                 /* of orm_server_conf_t, else orm_dir_conf_t */
    size_t offset;
    int wide;                   /* an apr_int64_t, else an int */
    apr_int64_t (*get)(const void *conf);
    apr_int64_t parent, child;
} member_case_t;

#define GETTER(record, member) \
    static apr_int64_t get_##member(const void *conf) \
    { \
        return orm_##record##_##member(conf); \
    }

GETTER(dir, on_error)
GETTER(dir, max_size)
GETTER(dir, grace_seconds)
GETTER(server, sweep_seconds)
GETTER(server, sweep_batch)
GETTER(server, retry_seconds)
GETTER(server, cache_seconds)
GETTER(server, cache_entries)
GETTER(server, cache_max_size)

#define DIR_MEMBER(m) #m, 0, offsetof(orm_dir_conf_t, m), \
    sizeof(((orm_dir_conf_t *)0)->m) == sizeof(apr_int64_t), get_##m
#define SERVER_MEMBER(m) #m, 1, offsetof(orm_server_conf_t, m), \
    sizeof(((orm_server_conf_t *)0)->m) == sizeof(apr_int64_t), get_##m

static const member_case_t member_cases[] = {
    { DIR_MEMBER(on_error), ORM_ON_ERROR_FAIL, ORM_ON_ERROR_ANONYMOUS },
    { DIR_MEMBER(on_error), ORM_ON_ERROR_ANONYMOUS, ORM_ON_ERROR_FAIL },
    { DIR_MEMBER(max_size), 4096, 0 },                  /* no limit */
    { DIR_MEMBER(max_size), 65536, 1 },
    { DIR_MEMBER(max_size), 4096, APR_INT64_C(10000000000) },  /* > 32 bits */
    { DIR_MEMBER(grace_seconds), 30, 0 },               /* no grace */
    { DIR_MEMBER(grace_seconds), 3600, 1 },
    { SERVER_MEMBER(sweep_seconds), 600, 0 },           /* sweep off */
    { SERVER_MEMBER(sweep_seconds), 86400, 30 },
    { SERVER_MEMBER(sweep_batch), 50, ORM_MAX_SWEEP_BATCH },
    { SERVER_MEMBER(sweep_batch), 1000, 1 },
    { SERVER_MEMBER(retry_seconds), 10, 0 },            /* no retry wait */
    { SERVER_MEMBER(retry_seconds), 60, 1 },
    { SERVER_MEMBER(cache_seconds), 5, 3600 },
    { SERVER_MEMBER(cache_entries), 1024, 16 },
    { SERVER_MEMBER(cache_max_size), 4096, 65536 },
};

#define MEMBER_CASES (int)(sizeof(member_cases) / sizeof(member_cases[0]))

static apr_int64_t member_of(const void *conf, const member_case_t *mc)
{
    const char *at = (const char *)conf + mc->offset;

    return mc->wide ? *(const apr_int64_t *)at : *(const int *)at;
}

static void set_member(void *conf, const member_case_t *mc, apr_int64_t v)
{
    char *at = (char *)conf + mc->offset;

    if (mc->wide) {
        *(apr_int64_t *)at = v;
    }
    else {
        *(int *)at = (int)v;
    }
}

static void *conf_create(const member_case_t *mc)
{
    return mc->server ? (void *)orm_server_conf_create(test_pool)
                      : (void *)orm_dir_conf_create(test_pool);
}

static void *conf_merge(const member_case_t *mc, void *parent, void *child)
{
    return mc->server ? (void *)orm_server_conf_merge(test_pool, parent, child)
                      : (void *)orm_dir_conf_merge(test_pool, parent, child);
}

static void assert_member(const void *conf, const member_case_t *mc,
                          apr_int64_t expected)
{
    apr_int64_t got = member_of(conf, mc);

    ck_assert_msg(got == expected, "%s: %" APR_INT64_T_FMT " where %"
                  APR_INT64_T_FMT " was expected", mc->name, got, expected);
}

/* Every member of mc's record but mc's own: as in expected (NULL: unset). */
static void assert_others(const member_case_t *mc, const void *merged,
                          const void *expected)
{
    int j;

    for (j = 0; j < MEMBER_CASES; j++) {
        const member_case_t *other = &member_cases[j];

        if (other->server == mc->server && other->offset != mc->offset) {
            assert_member(merged, other, expected ? member_of(expected, other)
                                                  : ORM_UNSET);
        }
    }
}

/* A parent with every member of mc's record set, from the cases. */
static void *parent_all_set(const member_case_t *mc)
{
    void *p = conf_create(mc);
    int j;

    for (j = 0; j < MEMBER_CASES; j++) {
        if (member_cases[j].server == mc->server) {
            set_member(p, &member_cases[j], member_cases[j].parent);
        }
    }
    return p;
}

START_TEST(test_member_create_unset)
{
    const member_case_t *mc = &member_cases[_i];

    assert_member(conf_create(mc), mc, ORM_UNSET);
}
END_TEST

START_TEST(test_member_merge_unset_stays_unset)
{
    const member_case_t *mc = &member_cases[_i];

    assert_member(conf_merge(mc, conf_create(mc), conf_create(mc)), mc,
                  ORM_UNSET);
}
END_TEST

/* Merges child into parent: mc's member is expected, and its getter gives
 * it, not the default. */
static void assert_merged(const member_case_t *mc, void *parent, void *child,
                          apr_int64_t expected)
{
    void *m = conf_merge(mc, parent, child);

    assert_member(m, mc, expected);
    ck_assert_int_eq(mc->get(m), expected);
}

/* The parent's when the child has none; the child's when it has one, also
 * when it is 0. */
START_TEST(test_member_merge_child_over_parent)
{
    const member_case_t *mc = &member_cases[_i];
    void *p = conf_create(mc), *c = conf_create(mc);

    set_member(p, mc, mc->parent);
    assert_merged(mc, p, c, mc->parent);
    set_member(c, mc, mc->child);
    assert_merged(mc, p, c, mc->child);
}
END_TEST

/* A child setting this member alone: its value, and the others' parent's
 * (set or not). */
START_TEST(test_member_merge_one_at_a_time)
{
    const member_case_t *mc = &member_cases[_i];
    void *p = parent_all_set(mc), *c = conf_create(mc), *m;

    set_member(c, mc, mc->child);
    m = conf_merge(mc, p, c);
    assert_member(m, mc, mc->child);
    assert_others(mc, m, p);
    m = conf_merge(mc, conf_create(mc), c);
    assert_member(m, mc, mc->child);
    assert_others(mc, m, NULL);
}
END_TEST

/* The store and the sweeper built for one server are never merged, and
 * the sweep's members leave the schema's getters at their defaults. */
START_TEST(test_server_merge_leaves_store_sweeper_and_schema)
{
    orm_server_conf_t *s = orm_server_conf_create(test_pool);
    orm_server_conf_t *c = orm_server_conf_create(test_pool);

    ck_assert_ptr_null(s->sweeper);
    c->sweep_seconds = 30;
    c->retry_seconds = 60;
    s = orm_server_conf_merge(test_pool, s, c);
    ck_assert_ptr_null(s->store);
    ck_assert_ptr_null(s->sweeper);
    ck_assert_int_eq(orm_server_create_schema(s), 1);
    ck_assert_str_eq(orm_server_dialect(s), "auto");
}
END_TEST

/* Server, <Location>, nested <Location>: each level's own member. */
START_TEST(test_limit_merge_three_levels)
{
    orm_dir_conf_t *server = orm_dir_conf_create(test_pool);
    orm_dir_conf_t *location = orm_dir_conf_create(test_pool);
    orm_dir_conf_t *nested = orm_dir_conf_create(test_pool);
    orm_dir_conf_t *m;

    server->max_size = 100;
    location->on_error = ORM_ON_ERROR_FAIL;
    nested->grace_seconds = 9;
    m = orm_dir_conf_merge(test_pool, server, location);
    m = orm_dir_conf_merge(test_pool, m, nested);
    ck_assert_int_eq(m->max_size, 100);
    ck_assert_int_eq(m->on_error, ORM_ON_ERROR_FAIL);
    ck_assert_int_eq(m->grace_seconds, 9);
    /* members no level set stay unset */
    ck_assert_int_eq(m->touch_seconds, ORM_UNSET);
    ck_assert_int_eq(m->cookie_remove, ORM_UNSET);
}
END_TEST

START_TEST(test_timeout_seconds)
{
    orm_server_conf_t *p = orm_server_conf_create(test_pool);
    orm_server_conf_t *c = orm_server_conf_create(test_pool);
    orm_server_conf_t *m;

    ck_assert_int_eq(p->timeout_seconds, ORM_UNSET);
    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->timeout_seconds, ORM_UNSET);
    ck_assert_int_eq(orm_server_timeout_seconds(m), 5);
    /* the parent's when the child has none */
    p->timeout_seconds = 12;
    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_int_eq(orm_server_timeout_seconds(m), 12);
    /* the child's over the parent's */
    c->timeout_seconds = 2;
    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_int_eq(orm_server_timeout_seconds(m), 2);
    ck_assert_int_eq(m->retry_seconds, ORM_UNSET);
}
END_TEST

START_TEST(test_cache_settings)
{
    orm_server_conf_t *p = orm_server_conf_create(test_pool);
    orm_server_conf_t *c = orm_server_conf_create(test_pool);
    orm_server_conf_t *m = orm_server_conf_merge(test_pool, p, c);

    /* off unless named, with its defaults */
    ck_assert_ptr_null(orm_server_cache_file(m));
    ck_assert_int_eq(orm_server_cache_seconds(m), 5);
    ck_assert_int_eq(orm_server_cache_entries(m), 1024);
    ck_assert_int_eq(orm_server_cache_max_size(m), 4096);
    p->cache_file = "/run/orm.cache";
    p->cache_seconds = 30;
    p->cache_entries = 4096;
    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_str_eq(orm_server_cache_file(m), "/run/orm.cache");
    ck_assert_int_eq(orm_server_cache_seconds(m), 30);
    ck_assert_int_eq(orm_server_cache_entries(m), 4096);
    /* Off below a file named above */
    c->cache_file = "";
    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_ptr_null(orm_server_cache_file(m));
}
END_TEST

START_TEST(test_limit_and_sweep_getters_defaults)
{
    orm_dir_conf_t *d = orm_dir_conf_create(test_pool);
    orm_server_conf_t *s = orm_server_conf_create(test_pool);

    /* the documented defaults (README's directive table) */
    ck_assert_int_eq(orm_dir_on_error(d), ORM_ON_ERROR_ANONYMOUS);
    ck_assert_int_eq(orm_dir_max_size(d), 0);
    ck_assert_int_eq(orm_dir_grace_seconds(d), 5);
    ck_assert_int_eq(orm_server_sweep_seconds(s), 300);
    ck_assert_int_eq(orm_server_sweep_batch(s), 1000);
    ck_assert_int_eq(orm_server_retry_seconds(s), 2);
    ck_assert_int_eq(ORM_MAX_SWEEP_BATCH, 100000);

    /* defaults are not stored by a merge */
    d = orm_dir_conf_merge(test_pool, orm_dir_conf_create(test_pool),
                           orm_dir_conf_create(test_pool));
    ck_assert_int_eq(d->grace_seconds, ORM_UNSET);
    ck_assert_int_eq(orm_dir_grace_seconds(d), 5);
    s = orm_server_conf_merge(test_pool, orm_server_conf_create(test_pool),
                              orm_server_conf_create(test_pool));
    ck_assert_int_eq(s->sweep_batch, ORM_UNSET);
    ck_assert_int_eq(orm_server_sweep_batch(s), 1000);
}
END_TEST

TCase *tcase_conf(void)
{
    TCase *tc = tcase_create("conf");

    tcase_add_test(tc, test_dir_conf_create);
    tcase_add_test(tc, test_server_conf_create);
    tcase_add_test(tc, test_dir_merge_unset_stays_unset);
    tcase_add_test(tc, test_dir_merge_parent_when_child_unset);
    tcase_add_test(tc, test_dir_merge_child_wins);
    tcase_add_test(tc, test_dir_merge_each_member_independently);
    tcase_add_test(tc, test_dir_merge_ttl_is_one_setting);
    tcase_add_test(tc, test_dir_merge_cookie_name_and_attrs_together);
    tcase_add_test(tc, test_dir_key_mode);
    tcase_add_test(tc, test_dir_key_mode_after_merge);
    tcase_add_test(tc, test_dir_getters_defaults);
    tcase_add_test(tc, test_server_getters_defaults);
    tcase_add_test(tc, test_server_merge);
    tcase_add_test(tc, test_server_merge_sessions_configured_not_inherited);
    tcase_add_loop_test(tc, test_member_create_unset, 0, MEMBER_CASES);
    tcase_add_loop_test(tc, test_member_merge_unset_stays_unset, 0,
                        MEMBER_CASES);
    tcase_add_loop_test(tc, test_member_merge_child_over_parent, 0,
                        MEMBER_CASES);
    tcase_add_loop_test(tc, test_member_merge_one_at_a_time, 0,
                        MEMBER_CASES);
    tcase_add_test(tc, test_server_merge_leaves_store_sweeper_and_schema);
    tcase_add_test(tc, test_limit_merge_three_levels);
    tcase_add_test(tc, test_timeout_seconds);
    tcase_add_test(tc, test_cache_settings);
    tcase_add_test(tc, test_limit_and_sweep_getters_defaults);
    return tc;
}
