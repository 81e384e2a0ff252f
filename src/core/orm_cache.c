#include <string.h>

#include <apr_atomic.h>
#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_mmap.h>
#include <apr_proc_mutex.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include "orm_cache.h"
#include "orm_sha256.h"

/* ---- the generation file --------------------------------------------------
 * A small file of its own: a line that says what it is, then the
 * generation (a 32-bit counter, aligned) that every process mapping the
 * file shares through the page cache. */

#define FILE_MAGIC "mod_session_orm cache generation v1\n"
#define FILE_GENERATION_AT 64
#define FILE_SIZE 128

static apr_status_t file_error(apr_pool_t *pool, const char **errmsg,
                               apr_status_t rv, const char *path,
                               const char *what)
{
    char buf[120];

    *errmsg = apr_psprintf(pool, "%s %s: %s", what, path,
                           apr_strerror(rv, buf, sizeof(buf)));
    return rv;
}

/* Writes the file's content into a file just created. */
static apr_status_t file_init(apr_file_t *file)
{
    char content[FILE_SIZE];
    apr_size_t len = sizeof(content);

    memset(content, 0, sizeof(content));
    memcpy(content, FILE_MAGIC, sizeof(FILE_MAGIC) - 1);
    return apr_file_write_full(file, content, len, NULL);
}

apr_status_t orm_cache_file_open(apr_pool_t *pool, const char *path,
                                 int create,
                                 volatile apr_uint32_t **generation,
                                 const char **errmsg)
{
    apr_file_t *file;
    apr_finfo_t info;
    apr_mmap_t *map;
    apr_status_t rv;
    int created = 0;

    *generation = NULL;
    *errmsg = NULL;
    rv = apr_file_open(&file, path, APR_FOPEN_READ | APR_FOPEN_WRITE,
                       APR_FPROT_OS_DEFAULT, pool);
    if (APR_STATUS_IS_ENOENT(rv) && create) {
        /* exclusive: of two that create it at once, one writes it */
        rv = apr_file_open(&file, path,
                           APR_FOPEN_READ | APR_FOPEN_WRITE
                           | APR_FOPEN_CREATE | APR_FOPEN_EXCL,
                           APR_FPROT_UREAD | APR_FPROT_UWRITE, pool);
        if (rv == APR_SUCCESS) {
            created = 1;
            if ((rv = file_init(file)) != APR_SUCCESS) {
                apr_file_close(file);
                apr_file_remove(path, pool);
                return file_error(pool, errmsg, rv, path, "cannot write");
            }
        }
        else if (APR_STATUS_IS_EEXIST(rv)) {
            return orm_cache_file_open(pool, path, 0, generation, errmsg);
        }
    }
    if (rv != APR_SUCCESS) {
        return file_error(pool, errmsg, rv, path, "cannot open");
    }
    if ((rv = apr_file_info_get(&info, APR_FINFO_SIZE | APR_FINFO_TYPE,
                                file)) != APR_SUCCESS) {
        apr_file_close(file);
        return file_error(pool, errmsg, rv, path, "cannot read");
    }
    if (!created) {
        char head[sizeof(FILE_MAGIC) - 1];
        apr_size_t len = sizeof(head);

        if (info.filetype != APR_REG || info.size != FILE_SIZE
            || apr_file_read_full(file, head, len, NULL) != APR_SUCCESS
            || memcmp(head, FILE_MAGIC, len) != 0) {
            apr_file_close(file);
            *errmsg = apr_psprintf(pool, "%s is not a mod_session_orm cache "
                                   "file (left as it is)", path);
            return APR_EINVAL;
        }
    }
    rv = apr_mmap_create(&map, file, 0, FILE_SIZE,
                         APR_MMAP_READ | APR_MMAP_WRITE, pool);
    /* the mapping outlives the descriptor */
    apr_file_close(file);
    if (rv != APR_SUCCESS) {
        return file_error(pool, errmsg, rv, path, "cannot map");
    }
    *generation = (volatile apr_uint32_t *)((char *)map->mm
                                            + FILE_GENERATION_AT);
    return APR_SUCCESS;
}

void orm_cache_file_raise(volatile apr_uint32_t *generation)
{
    apr_atomic_inc32(generation);
}

/* ---- the cache -------------------------------------------------------- */

/* Sessions per set: a new one takes a free way or the one kept longest. */
#define WAYS 4

/* Locks, shared by sets (set s takes lock s % LOCKS): enough that threads
 * reading different sessions rarely wait for each other. */
#define LOCKS 64

/* An entry: this header, then up to the cache's max_data bytes of data
 * and a NUL (the stride is fixed when the cache is made). */
typedef struct {
    volatile apr_uint32_t full;     /* set last, cleared first */
    apr_uint32_t generation;
    apr_uint64_t store;
    apr_time_t kept_at;
    apr_int64_t expires_at_ms;
    apr_int64_t updated_at_ms;
    apr_size_t data_len;
    int has_owner;
    char id[ORM_CACHE_ID_MAX];
    char owner[ORM_CACHE_OWNER_MAX];
} cache_entry_t;

/* A set: its count of finished writes, then WAYS entries. */
typedef struct {
    volatile apr_uint32_t writes;   /* finished writes of its sessions */
} cache_set_t;

#define CACHE_LINE 64
#define ROUND_UP(n, to) (((n) + (to) - 1) / (to) * (to))

struct orm_cache_t {
    char *sets;                         /* shared */
    int set_count;
    int lock_count;
    apr_size_t max_data;
    apr_size_t entry_size;              /* an entry's stride */
    apr_size_t set_size;                /* a set's */
    apr_interval_time_t lifetime;
    volatile apr_uint32_t *generation;  /* in the file's mapping */
    apr_proc_mutex_t *locks[LOCKS];
};

static apr_size_t entry_size(apr_size_t max_data)
{
    return ROUND_UP(sizeof(cache_entry_t) + max_data + 1, CACHE_LINE);
}

static apr_size_t set_size(apr_size_t max_data)
{
    return ROUND_UP(sizeof(cache_set_t), CACHE_LINE)
           + WAYS * entry_size(max_data);
}

static int set_count(int entries)
{
    return (entries + WAYS - 1) / WAYS;
}

apr_uint64_t orm_cache_bytes(int entries, apr_size_t max_data)
{
    return (apr_uint64_t)set_count(entries) * set_size(max_data);
}

static cache_set_t *set_at(const orm_cache_t *cache, int set)
{
    return (cache_set_t *)(cache->sets + (apr_size_t)set * cache->set_size);
}

static cache_entry_t *way_at(const orm_cache_t *cache, int set, int way)
{
    return (cache_entry_t *)((char *)set_at(cache, set)
                             + ROUND_UP(sizeof(cache_set_t), CACHE_LINE)
                             + (apr_size_t)way * cache->entry_size);
}

static char *data_of(cache_entry_t *entry)
{
    return (char *)(entry + 1);
}

/* A process-shared pthread mutex, as orm_write_queue's: inherited by the
 * children, excludes threads as well as processes, released by the system
 * when its holder dies. */
apr_status_t orm_cache_create(apr_pool_t *pool, int entries,
                              apr_size_t max_data,
                              apr_interval_time_t lifetime,
                              volatile apr_uint32_t *generation,
                              orm_cache_t **cache)
{
#if APR_HAS_PROC_PTHREAD_SERIALIZE
    orm_cache_t *c = apr_pcalloc(pool, sizeof(*c));
    apr_shm_t *shm;
    apr_status_t rv;
    int i;

    *cache = NULL;
    c->set_count = set_count(entries);
    c->lock_count = c->set_count < LOCKS ? c->set_count : LOCKS;
    c->max_data = max_data;
    c->entry_size = entry_size(max_data);
    c->set_size = set_size(max_data);
    c->lifetime = lifetime;
    c->generation = generation;
    rv = apr_shm_create(&shm, (apr_size_t)orm_cache_bytes(entries, max_data),
                        NULL, pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* anonymous shared memory comes zeroed: every way empty, and only the
     * pages a child touches count in its resident size */
    c->sets = apr_shm_baseaddr_get(shm);
    for (i = 0; i < c->lock_count; i++) {
        rv = apr_proc_mutex_create(&c->locks[i], NULL, APR_LOCK_PROC_PTHREAD,
                                   pool);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    *cache = c;
    return APR_SUCCESS;
#else
    (void)pool;
    (void)entries;
    (void)max_data;
    (void)lifetime;
    (void)generation;
    *cache = NULL;
    return APR_ENOTIMPL;
#endif
}

apr_uint64_t orm_cache_store_key(const char *driver, const char *params,
                                 const char *table)
{
    const char *parts[3];
    unsigned char digest[32];
    orm_sha256_ctx ctx;
    apr_uint64_t key = 0;
    int i;

    parts[0] = driver ? driver : "";
    parts[1] = params ? params : "";
    parts[2] = table ? table : "";
    orm_sha256_init(&ctx);
    for (i = 0; i < 3; i++) {
        /* with its NUL, so that no two splits of one text are one key */
        orm_sha256_update(&ctx, parts[i], strlen(parts[i]) + 1);
    }
    orm_sha256_final(&ctx, digest);
    for (i = 0; i < 8; i++) {
        key = (key << 8) | digest[i];
    }
    return key;
}

static int set_of(const orm_cache_t *cache, apr_uint64_t store,
                  const char *id)
{
    apr_ssize_t len = APR_HASH_KEY_STRING;
    unsigned int hash = apr_hashfunc_default(id, &len);

    hash ^= (unsigned int)(store ^ (store >> 32));
    return (int)(hash % (unsigned int)cache->set_count);
}

void orm_cache_begin(orm_cache_t *cache, apr_uint64_t store, const char *id,
                     orm_cache_ticket_t *ticket)
{
    ticket->cache = cache;
    ticket->store = store;
    ticket->id = id;
    ticket->set = set_of(cache, store, id);
    ticket->writes = apr_atomic_read32(&set_at(cache, ticket->set)->writes);
    ticket->generation = apr_atomic_read32(cache->generation);
}

/* The set's lock; false when it could not be taken (the cache is then
 * passed by: a read asks the database, a write drops nothing it could not
 * have kept). */
static int lock_set(const orm_cache_ticket_t *ticket)
{
    const orm_cache_t *cache = ticket->cache;

    return apr_proc_mutex_lock(cache->locks[ticket->set % cache->lock_count])
           == APR_SUCCESS;
}

static void unlock_set(const orm_cache_ticket_t *ticket)
{
    const orm_cache_t *cache = ticket->cache;

    apr_proc_mutex_unlock(cache->locks[ticket->set % cache->lock_count]);
}

/* The session's entry in its set, full or not; NULL when it has none. */
static cache_entry_t *find_entry(const orm_cache_ticket_t *ticket)
{
    int w;

    for (w = 0; w < WAYS; w++) {
        cache_entry_t *entry = way_at(ticket->cache, ticket->set, w);

        if (entry->full && entry->store == ticket->store
            && strcmp(entry->id, ticket->id) == 0) {
            return entry;
        }
    }
    return NULL;
}

/* Kept less than the lifetime ago; kept "later than now" (the clock was
 * set back) is not current either, or the entry would outlive its bound. */
static int is_current(const orm_cache_t *cache, apr_time_t kept_at)
{
    apr_interval_time_t age = apr_time_now() - kept_at;

    return age >= 0 && age < cache->lifetime;
}

int orm_cache_get(const orm_cache_ticket_t *ticket, apr_pool_t *pool,
                  apr_int64_t now_ms, orm_row_t **row)
{
    orm_cache_t *cache = ticket->cache;
    cache_entry_t *entry;
    orm_row_t *copy = NULL;

    *row = NULL;
    if (!lock_set(ticket)) {
        return 0;
    }
    entry = find_entry(ticket);
    if (entry && entry->generation == apr_atomic_read32(cache->generation)
        && is_current(cache, entry->kept_at)
        && entry->expires_at_ms > now_ms) {
        copy = apr_pcalloc(pool, sizeof(*copy));
        copy->data = apr_pstrmemdup(pool, data_of(entry), entry->data_len);
        copy->expires_at_ms = entry->expires_at_ms;
        copy->updated_at_ms = entry->updated_at_ms;
        copy->user_name = entry->has_owner ? apr_pstrdup(pool, entry->owner)
                                           : NULL;
    }
    unlock_set(ticket);
    *row = copy;
    return copy != NULL;
}

/* A way for the session: its own, a free one, else the one kept longest
 * (an entry of a generation gone or past its lifetime is older still). */
static cache_entry_t *way_for(const orm_cache_ticket_t *ticket)
{
    cache_entry_t *entry = find_entry(ticket), *oldest = NULL;
    int w;

    for (w = 0; entry == NULL && w < WAYS; w++) {
        cache_entry_t *way = way_at(ticket->cache, ticket->set, w);

        if (!way->full) {
            entry = way;
        }
        else if (oldest == NULL || way->kept_at < oldest->kept_at) {
            oldest = way;
        }
    }
    return entry ? entry : oldest;
}

/* Keeps row in the session's way; a row that does not fit is dropped. */
static void keep(const orm_cache_ticket_t *ticket, const orm_row_t *row)
{
    cache_entry_t *entry = way_for(ticket);
    apr_size_t id_len = strlen(ticket->id);
    apr_size_t data_len = row->data ? strlen(row->data) : 0;
    apr_size_t owner_len = row->user_name ? strlen(row->user_name) : 0;

    entry->full = 0;
    if (row->data == NULL || row->source != NULL
        || data_len > ticket->cache->max_data || id_len >= sizeof(entry->id)
        || owner_len >= sizeof(entry->owner)) {
        return;
    }
    entry->generation = ticket->generation;
    entry->store = ticket->store;
    entry->kept_at = apr_time_now();
    entry->expires_at_ms = row->expires_at_ms;
    entry->updated_at_ms = row->updated_at_ms;
    entry->data_len = data_len;
    memcpy(data_of(entry), row->data, data_len + 1);
    memcpy(entry->id, ticket->id, id_len + 1);
    entry->has_owner = row->user_name != NULL;
    if (row->user_name) {
        memcpy(entry->owner, row->user_name, owner_len + 1);
    }
    apr_atomic_set32(&entry->full, 1);
}

static void drop(const orm_cache_ticket_t *ticket)
{
    cache_entry_t *entry = find_entry(ticket);

    if (entry) {
        entry->full = 0;
    }
}

void orm_cache_fill(const orm_cache_ticket_t *ticket, const orm_row_t *row)
{
    cache_set_t *set = set_at(ticket->cache, ticket->set);

    if (row == NULL || !lock_set(ticket)) {
        return;
    }
    if (set->writes == ticket->writes) {
        keep(ticket, row);
    }
    unlock_set(ticket);
}

void orm_cache_written(const orm_cache_ticket_t *ticket,
                       const orm_row_t *row)
{
    cache_set_t *set = set_at(ticket->cache, ticket->set);

    if (!lock_set(ticket)) {
        /* the entry cannot be dropped, and stays bounded by its lifetime;
         * counted, the write still stops reads begun before it from
         * filling (a robust lock fails only when the system is out of
         * what it needs) */
        apr_atomic_inc32(&set->writes);
        return;
    }
    /* another write finished meanwhile: which of the two the database
     * holds last is not known here, so neither is kept */
    if (row && set->writes == ticket->writes) {
        keep(ticket, row);
    }
    else {
        drop(ticket);
    }
    apr_atomic_inc32(&set->writes);
    unlock_set(ticket);
}
