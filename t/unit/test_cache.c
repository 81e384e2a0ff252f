/* The session cache (orm_cache) and the store read through it
 * (orm_cache_store): what is kept is what the last write left, never what
 * a read that raced a write or a removal saw; the admin tool's generation,
 * the entry's lifetime and the row's expiry each end its use; in another
 * process as in this one. */
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "tests.h"
#include "orm_cache.h"
#include "orm_cache_store.h"

#define NOW_MS 1700000000000LL
#define LATER_MS (NOW_MS + 3600000)

static const apr_uint64_t STORE_A = 1, STORE_B = 2;

/* SessionORMCacheMaxSize's default */
#define MAX_DATA 4096

static volatile apr_uint32_t *new_generation(void)
{
    const char *path = apr_pstrcat(test_pool, test_mkdtemp(test_pool),
                                   "/cache", NULL);
    volatile apr_uint32_t *generation = NULL;
    const char *errmsg = NULL;

    ck_assert_int_eq(orm_cache_file_open(test_pool, path, 1, &generation,
                                         &errmsg), APR_SUCCESS);
    return generation;
}

static orm_cache_t *new_cache(int entries, apr_interval_time_t lifetime,
                              volatile apr_uint32_t *generation)
{
    orm_cache_t *cache = NULL;

    ck_assert_int_eq(orm_cache_create(test_pool, entries, MAX_DATA,
                                      lifetime, generation ? generation
                                                 : new_generation(),
                                      &cache), APR_SUCCESS);
    ck_assert_ptr_nonnull(cache);
    return cache;
}

static orm_row_t *row_of(const char *data, const char *owner,
                         apr_int64_t version)
{
    orm_row_t *row = apr_pcalloc(test_pool, sizeof(*row));

    row->data = data;
    row->user_name = owner;
    row->expires_at_ms = LATER_MS;
    row->updated_at_ms = version;
    return row;
}

/* The data kept for the session, or NULL. */
static const char *kept(orm_cache_t *cache, apr_uint64_t store,
                        const char *id, apr_int64_t now_ms)
{
    orm_cache_ticket_t ticket;
    orm_row_t *row;

    orm_cache_begin(cache, store, id, &ticket);
    return orm_cache_get(&ticket, test_pool, now_ms, &row) ? row->data
                                                           : NULL;
}

static void fill(orm_cache_t *cache, apr_uint64_t store, const char *id,
                 const orm_row_t *row)
{
    orm_cache_ticket_t ticket;

    orm_cache_begin(cache, store, id, &ticket);
    orm_cache_fill(&ticket, row);
}

static void written(orm_cache_t *cache, apr_uint64_t store, const char *id,
                    const orm_row_t *row)
{
    orm_cache_ticket_t ticket;

    orm_cache_begin(cache, store, id, &ticket);
    orm_cache_written(&ticket, row);
}

static int child_status(pid_t pid)
{
    int status = 0;

    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

START_TEST(test_file_created_shared_and_refused_when_foreign)
{
    const char *dir = test_mkdtemp(test_pool);
    const char *path = apr_pstrcat(test_pool, dir, "/cache", NULL);
    const char *foreign = apr_pstrcat(test_pool, dir, "/hello", NULL);
    volatile apr_uint32_t *one = NULL, *two = NULL;
    const char *errmsg = NULL;
    apr_file_t *file;
    char content[16] = "";
    apr_size_t len = sizeof(content) - 1;
    struct stat st;
    pid_t pid;

    ck_assert(APR_STATUS_IS_ENOENT(orm_cache_file_open(test_pool, path, 0,
                                                       &one, &errmsg)));
    ck_assert_ptr_nonnull(strstr(errmsg, path));
    ck_assert_int_eq(orm_cache_file_open(test_pool, path, 1, &one, &errmsg),
                     APR_SUCCESS);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(orm_cache_file_open(test_pool, path, 0, &two, &errmsg),
                     APR_SUCCESS);
    ck_assert_uint_eq(*one, 0);
    orm_cache_file_raise(two);
    ck_assert_uint_eq(*one, 1);
    /* another process (the admin tool) raises it through its own map */
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        volatile apr_uint32_t *own = NULL;

        if (orm_cache_file_open(test_pool, path, 0, &own, &errmsg)
            != APR_SUCCESS) {
            _exit(1);
        }
        orm_cache_file_raise(own);
        _exit(0);
    }
    ck_assert_int_eq(child_status(pid), 0);
    ck_assert_uint_eq(*one, 2);
    /* opened again (a restart), it keeps its count */
    ck_assert_int_eq(orm_cache_file_open(test_pool, path, 1, &two, &errmsg),
                     APR_SUCCESS);
    ck_assert_uint_eq(*two, 2);

    ck_assert_int_eq(apr_file_open(&file, foreign, APR_FOPEN_WRITE
                                   | APR_FOPEN_CREATE, APR_FPROT_OS_DEFAULT,
                                   test_pool), APR_SUCCESS);
    apr_file_puts("hello\n", file);
    apr_file_close(file);
    ck_assert_int_eq(orm_cache_file_open(test_pool, foreign, 1, &one,
                                         &errmsg), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(errmsg, "not a mod_session_orm cache"));
    ck_assert_int_eq(apr_file_open(&file, foreign, APR_FOPEN_READ,
                                   APR_FPROT_OS_DEFAULT, test_pool),
                     APR_SUCCESS);
    apr_file_read(file, content, &len);
    apr_file_close(file);
    ck_assert_str_eq(content, "hello\n");
    /* a directory is no cache file either */
    ck_assert_int_ne(orm_cache_file_open(test_pool, dir, 1, &one, &errmsg),
                     APR_SUCCESS);
}
END_TEST

START_TEST(test_kept_as_read_for_its_session_only)
{
    orm_cache_t *cache = new_cache(64, apr_time_from_sec(60), NULL);
    orm_cache_ticket_t ticket;
    orm_row_t *row = NULL;

    ck_assert_ptr_null(kept(cache, STORE_A, "s1", NOW_MS));
    fill(cache, STORE_A, "s1", row_of("a=1", "alice", 7));
    orm_cache_begin(cache, STORE_A, "s1", &ticket);
    ck_assert(orm_cache_get(&ticket, test_pool, NOW_MS, &row));
    ck_assert_str_eq(row->data, "a=1");
    ck_assert_str_eq(row->user_name, "alice");
    ck_assert(row->updated_at_ms == 7);
    ck_assert(row->expires_at_ms == LATER_MS);
    ck_assert_ptr_null(row->source);
    ck_assert_ptr_null(kept(cache, STORE_B, "s1", NOW_MS));
    ck_assert_ptr_null(kept(cache, STORE_A, "s2", NOW_MS));
    fill(cache, STORE_A, "s2", row_of("b=2", NULL, 8));
    orm_cache_begin(cache, STORE_A, "s2", &ticket);
    ck_assert(orm_cache_get(&ticket, test_pool, NOW_MS, &row));
    ck_assert_ptr_null(row->user_name);
    /* no row read: nothing kept */
    fill(cache, STORE_A, "s3", NULL);
    ck_assert_ptr_null(kept(cache, STORE_A, "s3", NOW_MS));
}
END_TEST

START_TEST(test_read_that_raced_a_write_is_not_kept)
{
    orm_cache_t *cache = new_cache(64, apr_time_from_sec(60), NULL);
    orm_cache_ticket_t read, write;

    /* the read began, a write finished, then the read came back with the
     * row from before the write */
    orm_cache_begin(cache, STORE_A, "s1", &read);
    orm_cache_begin(cache, STORE_A, "s1", &write);
    orm_cache_written(&write, row_of("a=2", NULL, 2));
    orm_cache_fill(&read, row_of("a=1", NULL, 1));
    ck_assert_str_eq(kept(cache, STORE_A, "s1", NOW_MS), "a=2");

    /* a logout raced by a read: the removed session does not come back */
    orm_cache_begin(cache, STORE_A, "s1", &read);
    orm_cache_begin(cache, STORE_A, "s1", &write);
    orm_cache_written(&write, NULL);
    ck_assert_ptr_null(kept(cache, STORE_A, "s1", NOW_MS));
    orm_cache_fill(&read, row_of("a=2", NULL, 2));
    ck_assert_ptr_null(kept(cache, STORE_A, "s1", NOW_MS));
}
END_TEST

START_TEST(test_writes_that_overlapped_keep_neither)
{
    orm_cache_t *cache = new_cache(64, apr_time_from_sec(60), NULL);
    orm_cache_ticket_t first, second;

    fill(cache, STORE_A, "s1", row_of("a=0", NULL, 1));
    /* two writes at once: which the database holds last is not known */
    orm_cache_begin(cache, STORE_A, "s1", &first);
    orm_cache_begin(cache, STORE_A, "s1", &second);
    orm_cache_written(&second, row_of("a=2", NULL, 3));
    orm_cache_written(&first, row_of("a=1", NULL, 2));
    ck_assert_ptr_null(kept(cache, STORE_A, "s1", NOW_MS));
    /* one at a time, each is kept */
    written(cache, STORE_A, "s1", row_of("a=3", NULL, 4));
    ck_assert_str_eq(kept(cache, STORE_A, "s1", NOW_MS), "a=3");
    written(cache, STORE_A, "s1", NULL);
    ck_assert_ptr_null(kept(cache, STORE_A, "s1", NOW_MS));
}
END_TEST

START_TEST(test_generation_lifetime_and_expiry_end_its_use)
{
    volatile apr_uint32_t *generation = new_generation();
    orm_cache_t *cache = new_cache(64, apr_time_from_msec(200), generation);
    orm_cache_ticket_t read;
    orm_row_t *expiring = row_of("a=1", NULL, 1);

    fill(cache, STORE_A, "s1", row_of("a=1", NULL, 1));
    ck_assert_str_eq(kept(cache, STORE_A, "s1", NOW_MS), "a=1");
    orm_cache_file_raise(generation);       /* the admin tool's revoke */
    ck_assert_ptr_null(kept(cache, STORE_A, "s1", NOW_MS));
    /* a read begun before the revoke keeps nothing usable after it */
    orm_cache_begin(cache, STORE_A, "s1", &read);
    orm_cache_file_raise(generation);
    orm_cache_fill(&read, row_of("a=1", NULL, 1));
    ck_assert_ptr_null(kept(cache, STORE_A, "s1", NOW_MS));
    fill(cache, STORE_A, "s1", row_of("a=1", NULL, 1));
    ck_assert_str_eq(kept(cache, STORE_A, "s1", NOW_MS), "a=1");

    /* never once the row expired */
    expiring->expires_at_ms = NOW_MS + 1000;
    fill(cache, STORE_A, "s2", expiring);
    ck_assert_str_eq(kept(cache, STORE_A, "s2", NOW_MS + 999), "a=1");
    ck_assert_ptr_null(kept(cache, STORE_A, "s2", NOW_MS + 1000));

    /* nor after its lifetime */
    apr_sleep(apr_time_from_msec(300));
    ck_assert_ptr_null(kept(cache, STORE_A, "s1", NOW_MS));
}
END_TEST

START_TEST(test_what_does_not_fit_is_not_kept)
{
    orm_cache_t *cache = new_cache(64, apr_time_from_sec(60), NULL);
    char *big = apr_palloc(test_pool, MAX_DATA + 2);
    char *long_id = apr_palloc(test_pool, ORM_CACHE_ID_MAX + 1);
    char *long_owner = apr_palloc(test_pool, ORM_CACHE_OWNER_MAX + 1);
    orm_row_t *express = row_of("a=1", NULL, 1);

    memset(big, 'x', MAX_DATA + 1);
    big[MAX_DATA + 1] = '\0';
    memset(long_id, 'i', ORM_CACHE_ID_MAX);
    long_id[ORM_CACHE_ID_MAX] = '\0';
    memset(long_owner, 'o', ORM_CACHE_OWNER_MAX);
    long_owner[ORM_CACHE_OWNER_MAX] = '\0';

    fill(cache, STORE_A, "s1", row_of(big, NULL, 1));
    ck_assert_ptr_null(kept(cache, STORE_A, "s1", NOW_MS));
    big[MAX_DATA] = '\0';         /* just fits */
    fill(cache, STORE_A, "s1", row_of(big, NULL, 1));
    ck_assert_str_eq(kept(cache, STORE_A, "s1", NOW_MS), big);
    /* a write too big to keep drops what was kept */
    big[MAX_DATA] = 'x';
    written(cache, STORE_A, "s1", row_of(big, NULL, 2));
    ck_assert_ptr_null(kept(cache, STORE_A, "s1", NOW_MS));

    fill(cache, STORE_A, long_id, row_of("a=1", NULL, 1));
    ck_assert_ptr_null(kept(cache, STORE_A, long_id, NOW_MS));
    fill(cache, STORE_A, "s2", row_of("a=1", long_owner, 1));
    ck_assert_ptr_null(kept(cache, STORE_A, "s2", NOW_MS));
    express->source = "{\"a\":1}";
    fill(cache, STORE_A, "s3", express);
    ck_assert_ptr_null(kept(cache, STORE_A, "s3", NOW_MS));
}
END_TEST

/* SessionORMCacheMaxSize: what fits is the cache's own; its memory grows
 * with it and with the entries. */
START_TEST(test_largest_session_is_the_caches)
{
    orm_cache_t *small = NULL, *large = NULL;
    char *data = apr_palloc(test_pool, 10001);
    volatile apr_uint32_t *generation = new_generation();

    memset(data, 'd', 10000);
    data[10000] = '\0';
    ck_assert_int_eq(orm_cache_create(test_pool, 64, ORM_CACHE_MIN_DATA,
                                      apr_time_from_sec(60), generation,
                                      &small), APR_SUCCESS);
    ck_assert_int_eq(orm_cache_create(test_pool, 64, 16384,
                                      apr_time_from_sec(60), generation,
                                      &large), APR_SUCCESS);
    fill(large, STORE_A, "s1", row_of(data, NULL, 1));
    ck_assert_str_eq(kept(large, STORE_A, "s1", NOW_MS), data);
    data[ORM_CACHE_MIN_DATA] = '\0';
    fill(small, STORE_A, "s1", row_of(data, NULL, 1));
    ck_assert_str_eq(kept(small, STORE_A, "s1", NOW_MS), data);
    data[ORM_CACHE_MIN_DATA] = 'd';
    data[ORM_CACHE_MIN_DATA + 1] = '\0';
    fill(small, STORE_A, "s2", row_of(data, NULL, 1));
    ck_assert_ptr_null(kept(small, STORE_A, "s2", NOW_MS));

    ck_assert(orm_cache_bytes(1024, 4096) > 1024 * 4096);
    ck_assert(orm_cache_bytes(1024, 4096) < 1024 * 8192);
    ck_assert(orm_cache_bytes(2048, 4096) == 2 * orm_cache_bytes(1024, 4096));
    ck_assert(orm_cache_bytes(1024, 16384) > orm_cache_bytes(1024, 4096));
    /* the largest settings are refused by that bound (check_config) */
    ck_assert(orm_cache_bytes(ORM_CACHE_MAX_ENTRIES, ORM_CACHE_MAX_DATA)
              > ORM_CACHE_MAX_BYTES);
    ck_assert(orm_cache_bytes(ORM_CACHE_MAX_ENTRIES, ORM_CACHE_MIN_DATA)
              <= ORM_CACHE_MAX_BYTES);
}
END_TEST

START_TEST(test_full_cache_gives_each_session_its_own_row)
{
    orm_cache_t *cache = new_cache(ORM_CACHE_MIN_ENTRIES,
                                   apr_time_from_sec(60), NULL);
    int i, hits = 0;

    for (i = 0; i < 200; i++) {
        const char *id = apr_psprintf(test_pool, "s%d", i);

        fill(cache, STORE_A, id, row_of(apr_psprintf(test_pool, "n=%d", i),
                                        NULL, i));
        ck_assert_str_eq(kept(cache, STORE_A, id, NOW_MS),
                         apr_psprintf(test_pool, "n=%d", i));
    }
    for (i = 0; i < 200; i++) {
        const char *id = apr_psprintf(test_pool, "s%d", i);
        const char *data = kept(cache, STORE_A, id, NOW_MS);

        if (data) {
            ck_assert_str_eq(data, apr_psprintf(test_pool, "n=%d", i));
            hits++;
        }
    }
    /* at most what it holds, and the last ones still */
    ck_assert_int_le(hits, ORM_CACHE_MIN_ENTRIES);
    ck_assert_int_gt(hits, 0);
    ck_assert_str_eq(kept(cache, STORE_A, "s199", NOW_MS), "n=199");
}
END_TEST

START_TEST(test_shared_with_other_processes)
{
    orm_cache_t *cache = new_cache(64, apr_time_from_sec(60), NULL);
    pid_t pid;

    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        fill(cache, STORE_A, "s1", row_of("a=1", NULL, 1));
        _exit(0);
    }
    ck_assert_int_eq(child_status(pid), 0);
    ck_assert_str_eq(kept(cache, STORE_A, "s1", NOW_MS), "a=1");
    /* a write in another process drops what this one would read */
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        written(cache, STORE_A, "s1", NULL);
        _exit(0);
    }
    ck_assert_int_eq(child_status(pid), 0);
    ck_assert_ptr_null(kept(cache, STORE_A, "s1", NOW_MS));
}
END_TEST

START_TEST(test_store_keys)
{
    apr_uint64_t key = orm_cache_store_key("pgsql", "host=a", "session");

    ck_assert(key == orm_cache_store_key("pgsql", "host=a", "session"));
    ck_assert(key != orm_cache_store_key("pgsql", "host=b", "session"));
    ck_assert(key != orm_cache_store_key("pgsql", "host=a", "other"));
    ck_assert(key != orm_cache_store_key("mysql", "host=a", "session"));
    ck_assert(orm_cache_store_key("ab", "c", "t")
              != orm_cache_store_key("a", "bc", "t"));
}
END_TEST

/* ---- the store read through the cache ---------------------------------- */

/* A store of rows in memory that counts what it is asked. */
typedef struct {
    apr_hash_t *rows;           /* id -> orm_row_t * */
    int loads;
    int connects;
    int refuse_connect;
    int refuse_match;
} counting_store_t;

static apr_status_t counting_load(orm_conn_t *conn, const char *id,
                                  apr_int64_t now_ms, orm_row_t **row)
{
    counting_store_t *s = conn->impl;
    (void)now_ms;

    s->loads++;
    *row = apr_hash_get(s->rows, id, APR_HASH_KEY_STRING);
    return APR_SUCCESS;
}

static apr_status_t counting_save(orm_conn_t *conn, const char *id,
                                  const orm_row_t *row,
                                  apr_int64_t created_at_ms)
{
    counting_store_t *s = conn->impl;
    orm_row_t *copy = apr_pmemdup(test_pool, row, sizeof(*row));
    (void)created_at_ms;

    apr_hash_set(s->rows, apr_pstrdup(test_pool, id), APR_HASH_KEY_STRING,
                 copy);
    return APR_SUCCESS;
}

static apr_status_t counting_update_if(orm_conn_t *conn, const char *id,
                                       const orm_row_t *row,
                                       apr_int64_t version, int *matched)
{
    counting_store_t *s = conn->impl;
    orm_row_t *stored = apr_hash_get(s->rows, id, APR_HASH_KEY_STRING);

    *matched = stored && stored->updated_at_ms == version
               && !s->refuse_match;
    return *matched ? counting_save(conn, id, row, 0) : APR_SUCCESS;
}

static apr_status_t counting_remove(orm_conn_t *conn, const char *id)
{
    counting_store_t *s = conn->impl;

    apr_hash_set(s->rows, id, APR_HASH_KEY_STRING, NULL);
    return APR_SUCCESS;
}

static const orm_store_ops_t counting_ops = {
    .load = counting_load,
    .save = counting_save,
    .update_if = counting_update_if,
    .remove = counting_remove
};

static apr_status_t counting_connect(void *baton, orm_conn_t *inner)
{
    counting_store_t *s = baton;

    s->connects++;
    if (s->refuse_connect) {
        return APR_EAGAIN;
    }
    inner->ops = &counting_ops;
    inner->impl = s;
    return APR_SUCCESS;
}

/* A request's connection: through the cache, to the counting store. */
static orm_conn_t *request_conn(orm_cache_t *cache, counting_store_t *s)
{
    orm_conn_t *conn = apr_pcalloc(test_pool, sizeof(*conn));

    orm_cache_store_wrap(conn, test_pool, cache, STORE_A, counting_connect,
                         NULL, s);
    return conn;
}

static const char *load_data(orm_cache_t *cache, counting_store_t *s,
                             const char *id)
{
    orm_row_t *row = NULL;

    ck_assert_int_eq(orm_store_load(request_conn(cache, s), id, NOW_MS,
                                    &row), APR_SUCCESS);
    return row ? row->data : NULL;
}

START_TEST(test_store_reads_through_and_writes_tell_the_cache)
{
    orm_cache_t *cache = new_cache(64, apr_time_from_sec(60), NULL);
    counting_store_t s;
    int matched = 0;
    orm_row_t *row = NULL;

    memset(&s, 0, sizeof(s));
    s.rows = apr_hash_make(test_pool);
    ck_assert_int_eq(orm_store_save(request_conn(cache, &s), "s1",
                                    row_of("a=1", NULL, 1), NOW_MS),
                     APR_SUCCESS);
    /* the save is kept: no load, and no connection, for the next read */
    s.loads = s.connects = 0;
    ck_assert_str_eq(load_data(cache, &s, "s1"), "a=1");
    ck_assert_int_eq(s.loads, 0);
    ck_assert_int_eq(s.connects, 0);

    /* a conditional update that matched is kept */
    ck_assert_int_eq(orm_store_update_if(request_conn(cache, &s), "s1",
                                         row_of("a=2", NULL, 2), 1,
                                         &matched), APR_SUCCESS);
    ck_assert(matched);
    ck_assert_str_eq(load_data(cache, &s, "s1"), "a=2");
    ck_assert_int_eq(s.loads, 0);

    /* one that lost the race is not: the next read asks the store */
    s.refuse_match = 1;
    ck_assert_int_eq(orm_store_update_if(request_conn(cache, &s), "s1",
                                         row_of("a=3", NULL, 3), 2,
                                         &matched), APR_SUCCESS);
    ck_assert(!matched);
    ck_assert_str_eq(load_data(cache, &s, "s1"), "a=2");
    ck_assert_int_eq(s.loads, 1);
    ck_assert_str_eq(load_data(cache, &s, "s1"), "a=2");
    ck_assert_int_eq(s.loads, 1);

    /* a removal: gone at once */
    ck_assert_int_eq(orm_store_remove(request_conn(cache, &s), "s1"),
                     APR_SUCCESS);
    ck_assert_ptr_null(load_data(cache, &s, "s1"));
    ck_assert_int_eq(s.loads, 2);

    /* an insert falls back to the store's save, and is kept */
    ck_assert_int_eq(orm_store_insert(request_conn(cache, &s), "s2",
                                      row_of("b=1", NULL, 1), NOW_MS),
                     APR_SUCCESS);
    ck_assert_str_eq(load_data(cache, &s, "s2"), "b=1");
    ck_assert_int_eq(s.loads, 2);

    /* the database down: what the cache has is still read; the rest
     * fails as it would without it, and a write changes nothing */
    s.refuse_connect = 1;
    ck_assert_str_eq(load_data(cache, &s, "s2"), "b=1");
    ck_assert_int_eq(orm_store_load(request_conn(cache, &s), "s3", NOW_MS,
                                    &row), APR_EAGAIN);
    ck_assert_int_eq(orm_store_update_if(request_conn(cache, &s), "s2",
                                         row_of("b=2", NULL, 2), 1,
                                         &matched), APR_EAGAIN);
    ck_assert(!matched);
    ck_assert_str_eq(load_data(cache, &s, "s2"), "b=1");
}
END_TEST

TCase *tcase_cache(void)
{
    TCase *tc = tcase_create("cache");

    tcase_add_test(tc, test_file_created_shared_and_refused_when_foreign);
    tcase_add_test(tc, test_kept_as_read_for_its_session_only);
    tcase_add_test(tc, test_read_that_raced_a_write_is_not_kept);
    tcase_add_test(tc, test_writes_that_overlapped_keep_neither);
    tcase_add_test(tc, test_generation_lifetime_and_expiry_end_its_use);
    tcase_add_test(tc, test_what_does_not_fit_is_not_kept);
    tcase_add_test(tc, test_largest_session_is_the_caches);
    tcase_add_test(tc, test_full_cache_gives_each_session_its_own_row);
    tcase_add_test(tc, test_shared_with_other_processes);
    tcase_add_test(tc, test_store_keys);
    tcase_add_test(tc, test_store_reads_through_and_writes_tell_the_cache);
    return tc;
}
