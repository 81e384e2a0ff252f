/* Configuration records: create, merge and the defaults of the getters. */
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

START_TEST(test_new_members_create_unset)
{
    orm_dir_conf_t *d = orm_dir_conf_create(test_pool);
    orm_server_conf_t *s = orm_server_conf_create(test_pool);

    ck_assert_int_eq(d->on_error, ORM_UNSET);
    ck_assert_int_eq(d->max_size, ORM_UNSET);
    ck_assert_int_eq(d->grace_seconds, ORM_UNSET);
    ck_assert_int_eq(s->sweep_seconds, ORM_UNSET);
    ck_assert_int_eq(s->sweep_batch, ORM_UNSET);
    ck_assert_int_eq(s->retry_seconds, ORM_UNSET);
    ck_assert_ptr_null(s->sweeper);
}
END_TEST

START_TEST(test_new_dir_members_merge)
{
    orm_dir_conf_t *p = orm_dir_conf_create(test_pool);
    orm_dir_conf_t *c = orm_dir_conf_create(test_pool);
    orm_dir_conf_t *m;

    /* unset everywhere: unset */
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->on_error, ORM_UNSET);
    ck_assert_int_eq(m->max_size, ORM_UNSET);
    ck_assert_int_eq(m->grace_seconds, ORM_UNSET);

    /* parent's when the child has none */
    p->on_error = ORM_ON_ERROR_FAIL;
    p->max_size = 4096;
    p->grace_seconds = 30;
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->on_error, ORM_ON_ERROR_FAIL);
    ck_assert_int_eq(m->max_size, 4096);
    ck_assert_int_eq(m->grace_seconds, 30);

    /* the child's, also when it is 0 (anonymous, no limit, no grace) */
    c->on_error = ORM_ON_ERROR_ANONYMOUS;
    c->max_size = 0;
    c->grace_seconds = 0;
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->on_error, ORM_ON_ERROR_ANONYMOUS);
    ck_assert_int_eq(m->max_size, 0);
    ck_assert_int_eq(m->grace_seconds, 0);
    ck_assert_int_eq(orm_dir_on_error(m), ORM_ON_ERROR_ANONYMOUS);
    ck_assert_int_eq(orm_dir_max_size(m), 0);
    ck_assert_int_eq(orm_dir_grace_seconds(m), 0);

    /* each on its own: only max_size in the child */
    c = orm_dir_conf_create(test_pool);
    c->max_size = APR_INT64_C(10000000000);      /* beyond 32 bits */
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->max_size, APR_INT64_C(10000000000));
    ck_assert_int_eq(m->on_error, ORM_ON_ERROR_FAIL);
    ck_assert_int_eq(m->grace_seconds, 30);
    /* only grace_seconds */
    c = orm_dir_conf_create(test_pool);
    c->grace_seconds = 1;
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->grace_seconds, 1);
    ck_assert_int_eq(m->max_size, 4096);
    ck_assert_int_eq(m->on_error, ORM_ON_ERROR_FAIL);
    /* only on_error, the other way round */
    p->on_error = ORM_ON_ERROR_ANONYMOUS;
    c = orm_dir_conf_create(test_pool);
    c->on_error = ORM_ON_ERROR_FAIL;
    m = orm_dir_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->on_error, ORM_ON_ERROR_FAIL);
    ck_assert_int_eq(m->max_size, 4096);

    /* three levels: server, <Location>, nested <Location> */
    p = orm_dir_conf_create(test_pool);
    p->max_size = 100;
    c = orm_dir_conf_create(test_pool);
    c->on_error = ORM_ON_ERROR_FAIL;
    m = orm_dir_conf_merge(test_pool, p, c);
    c = orm_dir_conf_create(test_pool);
    c->grace_seconds = 9;
    m = orm_dir_conf_merge(test_pool, m, c);
    ck_assert_int_eq(m->max_size, 100);
    ck_assert_int_eq(m->on_error, ORM_ON_ERROR_FAIL);
    ck_assert_int_eq(m->grace_seconds, 9);

    /* the old members are not disturbed by the new ones */
    ck_assert_int_eq(m->touch_seconds, ORM_UNSET);
    ck_assert_int_eq(m->cookie_remove, ORM_UNSET);
}
END_TEST

START_TEST(test_new_server_members_merge)
{
    orm_server_conf_t *p = orm_server_conf_create(test_pool);
    orm_server_conf_t *c = orm_server_conf_create(test_pool);
    orm_server_conf_t *m;

    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->sweep_seconds, ORM_UNSET);
    ck_assert_int_eq(m->sweep_batch, ORM_UNSET);
    ck_assert_int_eq(m->retry_seconds, ORM_UNSET);

    p->sweep_seconds = 600;
    p->sweep_batch = 50;
    p->retry_seconds = 10;
    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->sweep_seconds, 600);
    ck_assert_int_eq(m->sweep_batch, 50);
    ck_assert_int_eq(m->retry_seconds, 10);

    /* the child's, also 0 (sweep off, no retry wait) */
    c->sweep_seconds = 0;
    c->retry_seconds = 0;
    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->sweep_seconds, 0);
    ck_assert_int_eq(m->sweep_batch, 50);           /* not set: parent's */
    ck_assert_int_eq(m->retry_seconds, 0);
    ck_assert_int_eq(orm_server_sweep_seconds(m), 0);
    ck_assert_int_eq(orm_server_retry_seconds(m), 0);

    c = orm_server_conf_create(test_pool);
    c->sweep_batch = ORM_MAX_SWEEP_BATCH;
    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->sweep_batch, 100000);
    ck_assert_int_eq(m->sweep_seconds, 600);
    ck_assert_int_eq(m->retry_seconds, 10);

    /* parent unset, child set */
    p = orm_server_conf_create(test_pool);
    c = orm_server_conf_create(test_pool);
    c->sweep_seconds = 30;
    m = orm_server_conf_merge(test_pool, p, c);
    ck_assert_int_eq(m->sweep_seconds, 30);
    ck_assert_int_eq(m->sweep_batch, ORM_UNSET);
    ck_assert_int_eq(m->retry_seconds, ORM_UNSET);
    /* the store and sweeper built for one server are not merged */
    ck_assert_ptr_null(m->store);
    ck_assert_ptr_null(m->sweeper);
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

START_TEST(test_new_getters_defaults)
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

    /* set values come through */
    d->on_error = ORM_ON_ERROR_FAIL;
    ck_assert_int_eq(orm_dir_on_error(d), ORM_ON_ERROR_FAIL);
    d->on_error = ORM_ON_ERROR_ANONYMOUS;
    ck_assert_int_eq(orm_dir_on_error(d), ORM_ON_ERROR_ANONYMOUS);
    d->max_size = 1;
    ck_assert_int_eq(orm_dir_max_size(d), 1);
    d->max_size = 65536;
    ck_assert_int_eq(orm_dir_max_size(d), 65536);
    d->grace_seconds = 0;
    ck_assert_int_eq(orm_dir_grace_seconds(d), 0);
    d->grace_seconds = 3600;
    ck_assert_int_eq(orm_dir_grace_seconds(d), 3600);
    s->sweep_seconds = 0;
    ck_assert_int_eq(orm_server_sweep_seconds(s), 0);
    s->sweep_seconds = 86400;
    ck_assert_int_eq(orm_server_sweep_seconds(s), 86400);
    s->sweep_batch = 1;
    ck_assert_int_eq(orm_server_sweep_batch(s), 1);
    s->sweep_batch = 100000;
    ck_assert_int_eq(orm_server_sweep_batch(s), 100000);
    s->retry_seconds = 0;
    ck_assert_int_eq(orm_server_retry_seconds(s), 0);
    s->retry_seconds = 60;
    ck_assert_int_eq(orm_server_retry_seconds(s), 60);

    /* the old getters are unaffected by the new members */
    ck_assert_int_eq(orm_server_create_schema(s), 1);
    ck_assert_str_eq(orm_server_dialect(s), "auto");
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
    tcase_add_test(tc, test_new_members_create_unset);
    tcase_add_test(tc, test_new_dir_members_merge);
    tcase_add_test(tc, test_new_server_members_merge);
    tcase_add_test(tc, test_timeout_seconds);
    tcase_add_test(tc, test_new_getters_defaults);
    return tc;
}
