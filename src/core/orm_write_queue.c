#include <string.h>

#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_proc_mutex.h>
#include <apr_shm.h>

#include "orm_write_queue.h"

/* What a cell holds, moved from state to state by compare-and-swap: its
 * writer fills a free cell and leaves it; the holder of the turn takes it
 * and says whether it wrote it; its writer collects it (free again), or,
 * when the holder has not said by then, abandons it to the holder, who
 * frees it. */
typedef enum {
    CELL_FREE = 0,
    CELL_FILLING,               /* its writer is filling it */
    CELL_LEFT,                  /* waiting for the holder of the turn */
    CELL_TAKEN,                 /* the holder is writing it */
    CELL_WRITTEN,               /* in the row, at version */
    CELL_NOT_WRITTEN,           /* its writer writes it itself */
    CELL_ABANDONED              /* its writer no longer waits */
} cell_state_e;

/* A cell not freed after this long lost its writer (the child died): it
 * is free for another (no wait for a turn lasts as long: SessionORMTimeout
 * is at most 600 s). */
#define CELL_STALE apr_time_from_sec(3600)

/* A write's changes left for the turn: set, then removed, each ending in
 * a NUL, in changes. */
typedef struct {
    volatile apr_uint32_t state;    /* cell_state_e */
    int has_owner;
    const void *store;
    apr_time_t left_at;
    apr_int64_t version;        /* CELL_WRITTEN */
    apr_int64_t expires_at_ms;
    apr_int64_t max_size;
    apr_size_t set_len;
    char id[ORM_WRITE_QUEUE_ID_MAX];
    char owner[ORM_WRITE_QUEUE_OWNER_MAX];
    char changes[ORM_WRITE_QUEUE_CHANGES_MAX];
} orm_write_cell_t;

/* One slot, in shared memory: the last write made in its turns, and the
 * writes left for them. */
typedef struct orm_write_slot_t {
    const void *store;          /* whose session the hint is; NULL: none */
    unsigned int checksum;      /* of id and data, as kept */
    apr_int64_t version;
    char id[ORM_WRITE_QUEUE_ID_MAX];
    char data[ORM_WRITE_QUEUE_DATA_MAX];
    orm_write_cell_t cells[ORM_WRITE_QUEUE_CELLS];
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
    apr_status_t rv = wait > 0
                      ? apr_proc_mutex_timedlock(queue->locks[i], wait)
                      : apr_proc_mutex_trylock(queue->locks[i]);

    if (rv != APR_SUCCESS) {
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

/* A cell for new changes: a free one, or one whose writer is long gone;
 * CELL_FILLING and the caller's once found. A cell being filled is never
 * taken back: its left_at may still be the last writer's, and moving
 * FILLING to FILLING would hand one cell to two writers. */
static orm_write_cell_t *claim_cell(orm_write_slot_t *slot, apr_time_t now)
{
    int c;

    for (c = 0; c < ORM_WRITE_QUEUE_CELLS; c++) {
        orm_write_cell_t *cell = &slot->cells[c];
        apr_uint32_t state = apr_atomic_read32(&cell->state);

        if (state == CELL_FILLING
            || (state != CELL_FREE && now - cell->left_at <= CELL_STALE)) {
            continue;
        }
        if (apr_atomic_cas32(&cell->state, CELL_FILLING, state) == state) {
            cell->left_at = now;
            return cell;
        }
    }
    return NULL;
}

int orm_write_leave(orm_write_queue_t *queue, const void *store,
                    const char *id, const orm_write_changes_t *changes,
                    orm_write_left_t *left)
{
    int i = slot_of(store, id);
    apr_size_t set_len = strlen(changes->set);
    apr_size_t removed_len = strlen(changes->removed);
    apr_size_t owner_len = changes->owner ? strlen(changes->owner) : 0;
    apr_size_t id_len = strlen(id);
    orm_write_cell_t *cell;

    if (id_len >= ORM_WRITE_QUEUE_ID_MAX
        || owner_len >= ORM_WRITE_QUEUE_OWNER_MAX
        || set_len + removed_len + 2 > ORM_WRITE_QUEUE_CHANGES_MAX
        || (cell = claim_cell(&queue->slots[i], apr_time_now())) == NULL) {
        return 0;
    }
    cell->store = store;
    memcpy(cell->id, id, id_len + 1);
    cell->has_owner = changes->owner != NULL;
    memcpy(cell->owner, changes->owner ? changes->owner : "", owner_len + 1);
    cell->expires_at_ms = changes->expires_at_ms;
    cell->max_size = changes->max_size;
    cell->set_len = set_len;
    memcpy(cell->changes, changes->set, set_len + 1);
    memcpy(cell->changes + set_len + 1, changes->removed, removed_len + 1);
    apr_atomic_cas32(&cell->state, CELL_LEFT, CELL_FILLING);
    left->queue = queue;
    left->slot = i;
    left->cell = (int)(cell - queue->slots[i].cells);
    return 1;
}

orm_left_e orm_write_left_collect(orm_write_left_t *left,
                                  apr_int64_t *version)
{
    orm_write_cell_t *cell = &left->queue->slots[left->slot].cells[left->cell];

    for (;;) {
        apr_uint32_t state = apr_atomic_read32(&cell->state);

        switch (state) {
        case CELL_LEFT:
            if (apr_atomic_cas32(&cell->state, CELL_FREE, state) == state) {
                return ORM_LEFT_NOT_WRITTEN;
            }
            break;              /* taken meanwhile: look again */
        case CELL_WRITTEN:
        case CELL_NOT_WRITTEN:
            *version = cell->version;
            apr_atomic_set32(&cell->state, CELL_FREE);
            return state == CELL_WRITTEN ? ORM_LEFT_WRITTEN
                                         : ORM_LEFT_NOT_WRITTEN;
        case CELL_TAKEN:
            if (apr_atomic_cas32(&cell->state, CELL_ABANDONED, state)
                == state) {
                return ORM_LEFT_UNKNOWN;    /* the holder frees it */
            }
            break;              /* ended meanwhile: look again */
        default:                /* reclaimed as stale: nothing is known */
            return ORM_LEFT_UNKNOWN;
        }
    }
}

/* The taken cell's changes are the session's with the same owner and
 * expiry: they can go into the holder's statement. */
static int same_write(const orm_write_cell_t *cell, const orm_write_turn_t *turn,
                      const char *owner, apr_int64_t expires_at_ms)
{
    return cell->store == turn->store && strcmp(cell->id, turn->id) == 0
           && cell->expires_at_ms == expires_at_ms
           && cell->has_owner == (owner != NULL)
           && (owner == NULL || strcmp(cell->owner, owner) == 0);
}

apr_array_header_t *orm_write_turn_gather(orm_write_turn_t *turn,
                                          apr_pool_t *pool,
                                          const char *owner,
                                          apr_int64_t expires_at_ms)
{
    orm_write_slot_t *slot = &turn->queue->slots[turn->slot];
    apr_array_header_t *taken = NULL;
    int c;

    for (c = 0; c < ORM_WRITE_QUEUE_CELLS; c++) {
        orm_write_cell_t *cell = &slot->cells[c];
        orm_write_taken_t *t;

        /* taken before it is read: a cell read while left could be
         * collected and left anew by another write in between */
        if (apr_atomic_read32(&cell->state) != CELL_LEFT
            || apr_atomic_cas32(&cell->state, CELL_TAKEN, CELL_LEFT)
               != CELL_LEFT) {
            continue;
        }
        if (!same_write(cell, turn, owner, expires_at_ms)) {
            if (apr_atomic_cas32(&cell->state, CELL_LEFT, CELL_TAKEN)
                != CELL_TAKEN) {
                apr_atomic_set32(&cell->state, CELL_FREE);  /* abandoned */
            }
            continue;
        }
        if (taken == NULL) {
            taken = apr_array_make(pool, 4, sizeof(orm_write_taken_t));
        }
        t = apr_array_push(taken);
        t->cell = c;
        t->changes.set = apr_pstrdup(pool, cell->changes);
        t->changes.removed = apr_pstrdup(pool,
                                         cell->changes + cell->set_len + 1);
        t->changes.owner = owner;
        t->changes.expires_at_ms = expires_at_ms;
        t->changes.max_size = cell->max_size;
    }
    return taken;
}

void orm_write_taken_end(orm_write_turn_t *turn,
                         const orm_write_taken_t *taken, int written,
                         apr_int64_t version)
{
    orm_write_cell_t *cell = &turn->queue->slots[turn->slot].cells[taken->cell];

    cell->version = version;
    if (apr_atomic_cas32(&cell->state, written ? CELL_WRITTEN
                                               : CELL_NOT_WRITTEN,
                         CELL_TAKEN) != CELL_TAKEN) {
        apr_atomic_set32(&cell->state, CELL_FREE);  /* abandoned */
    }
}
