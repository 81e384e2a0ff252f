#include <string.h>

#include <apr_hash.h>
#include <apr_proc_mutex.h>
#include <apr_shm.h>

#include "orm_write_queue.h"

/* One slot, in shared memory: the last write made in its turns. */
typedef struct orm_write_slot_t {
    const void *store;          /* whose session the hint is; NULL: none */
    unsigned int checksum;      /* of id and data, as kept */
    apr_int64_t version;
    char id[ORM_WRITE_QUEUE_ID_MAX];
    char data[ORM_WRITE_QUEUE_DATA_MAX];
} orm_write_slot_t;

struct orm_write_queue_t {
    orm_write_slot_t *slots;                        /* shared */
    apr_proc_mutex_t *locks[ORM_WRITE_QUEUE_SLOTS]; /* one per slot */
};

/* A process-shared pthread mutex lives in memory the children inherit,
 * needs no child_init, excludes threads as well as processes, and is
 * released by the system when its holder dies (robust). */
apr_status_t orm_write_queue_create(apr_pool_t *pool,
                                    orm_write_queue_t **queue)
{
#if APR_HAS_PROC_PTHREAD_SERIALIZE
    orm_write_queue_t *q = apr_pcalloc(pool, sizeof(*q));
    apr_size_t size = sizeof(*q->slots) * ORM_WRITE_QUEUE_SLOTS;
    apr_shm_t *shm;
    apr_status_t rv;
    int i;

    *queue = NULL;
    if ((rv = apr_shm_create(&shm, size, NULL, pool)) != APR_SUCCESS) {
        return rv;
    }
    q->slots = apr_shm_baseaddr_get(shm);
    memset(q->slots, 0, size);
    for (i = 0; i < ORM_WRITE_QUEUE_SLOTS; i++) {
        rv = apr_proc_mutex_create(&q->locks[i], NULL, APR_LOCK_PROC_PTHREAD,
                                   pool);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    *queue = q;
    return APR_SUCCESS;
#else
    (void)pool;
    *queue = NULL;
    return APR_ENOTIMPL;
#endif
}

/* The slot of a session: its id hashed, and the store mixed in so that
 * one id in two stores is two sessions. */
static int slot_of(const void *store, const char *id)
{
    apr_ssize_t len = APR_HASH_KEY_STRING;
    unsigned int hash = apr_hashfunc_default(id, &len);

    hash ^= (unsigned int)((apr_uintptr_t)store >> 4);
    return (int)(hash % ORM_WRITE_QUEUE_SLOTS);
}

static unsigned int checksum(const char *id, const char *data,
                             apr_int64_t version)
{
    apr_ssize_t len = APR_HASH_KEY_STRING;
    unsigned int sum = apr_hashfunc_default(id, &len);

    len = APR_HASH_KEY_STRING;
    sum = sum * 33 + apr_hashfunc_default(data, &len);
    return sum * 33 + (unsigned int)version;
}

int orm_write_turn_take(orm_write_queue_t *queue, const void *store,
                        const char *id, apr_interval_time_t wait,
                        orm_write_turn_t *turn)
{
    int i = slot_of(store, id);

    if (apr_proc_mutex_timedlock(queue->locks[i], wait) != APR_SUCCESS) {
        return 0;
    }
    turn->queue = queue;
    turn->slot = i;
    turn->store = store;
    turn->id = id;
    return 1;
}

const char *orm_write_turn_last(const orm_write_turn_t *turn,
                                apr_int64_t *version)
{
    const orm_write_slot_t *slot = &turn->queue->slots[turn->slot];

    if (slot->store != turn->store || strcmp(slot->id, turn->id) != 0
        || slot->checksum != checksum(slot->id, slot->data,
                                      slot->version)) {
        return NULL;            /* another session's, none, or torn */
    }
    *version = slot->version;
    return slot->data;
}

void orm_write_turn_keep(orm_write_turn_t *turn, const char *data,
                         apr_int64_t version)
{
    orm_write_slot_t *slot = &turn->queue->slots[turn->slot];
    apr_size_t id_len = strlen(turn->id), data_len;

    slot->store = NULL;
    if (data == NULL || id_len >= sizeof(slot->id)
        || (data_len = strlen(data)) >= sizeof(slot->data)) {
        return;
    }
    memcpy(slot->id, turn->id, id_len + 1);
    memcpy(slot->data, data, data_len + 1);
    slot->version = version;
    slot->checksum = checksum(slot->id, slot->data, version);
    slot->store = turn->store;
}

void orm_write_turn_end(orm_write_turn_t *turn)
{
    apr_proc_mutex_unlock(turn->queue->locks[turn->slot]);
    turn->queue = NULL;
}
