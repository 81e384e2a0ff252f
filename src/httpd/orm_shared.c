#include <string.h>

#include "apr_shm.h"
#include "util_mutex.h"

#include "orm_shared.h"

apr_status_t orm_shared_create(apr_pool_t *pconf, server_rec *s,
                               const char *mutex_type, apr_size_t slot_size,
                               int count, orm_shared_t **shared,
                               orm_shared_part_e *failed)
{
    orm_shared_t *made = apr_pcalloc(pconf, sizeof(*made));
    apr_shm_t *shm;
    const char *mechanism;
    apr_status_t rv;

    *shared = NULL;
    rv = ap_global_mutex_create(&made->mutex, &made->mutex_file, mutex_type,
                                NULL, s, pconf, 0);
    if (rv != APR_SUCCESS) {
        *failed = ORM_SHARED_LOCK;
        return rv;
    }
    /* APR 1.7 times a wait on a file lock (`Mutex` fcntl or flock, and
     * `file:`, which is fcntl) by trying it every 10 ms; on Linux the
     * other mechanisms (the pthread mutex, APR's default there, and the
     * semaphores) have a timed wait the kernel wakes. */
    mechanism = apr_global_mutex_name(made->mutex);
    made->timed_wait_polls = strcmp(mechanism, "fcntl") == 0
                             || strcmp(mechanism, "flock") == 0;
    /* anonymous, so it goes with pconf: a restart makes it anew */
    rv = apr_shm_create(&shm, slot_size * count, NULL, pconf);
    if (rv != APR_SUCCESS) {
        *failed = ORM_SHARED_MEMORY;
        return rv;
    }
    made->slots = apr_shm_baseaddr_get(shm);
    memset(made->slots, 0, slot_size * count);
    *shared = made;
    return APR_SUCCESS;
}

apr_status_t orm_shared_attach(orm_shared_t *shared, apr_pool_t *pchild)
{
    apr_status_t rv;

    if (shared->mutex == NULL) {
        return APR_SUCCESS;
    }
    rv = apr_global_mutex_child_init(&shared->mutex, shared->mutex_file,
                                     pchild);
    if (rv != APR_SUCCESS) {
        shared->mutex = NULL;
    }
    return rv;
}
