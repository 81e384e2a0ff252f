#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#if defined(__linux__)
#include <linux/tcp.h>          /* tcpi_bytes_received (glibc's lacks it) */
#endif

#include "apr_strings.h"
#include "apr_thread_proc.h"
#include "apr_thread_mutex.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "orm_log.h"
#include "orm_bgthread.h"
#include "orm_conf.h"
#include "orm_watchdog.h"

/* how often an overdue call that has not returned is cut again: a reconnect
 * inside it (PostgreSQL's PQreset) has opened a new socket */
#define RECUT_INTERVAL apr_time_from_msec(100)

/* the client libraries' own values (mysql.h, stable since MySQL 5.0) */
#define MYSQL_OPT_CONNECT_TIMEOUT 0
#define MYSQL_OPT_READ_TIMEOUT    11
#define MYSQL_OPT_WRITE_TIMEOUT   12
#define MYSQL_OPT_RECONNECT       20

typedef char my_bool_t;        /* the client libraries' my_bool */
typedef int pq_socket_fn(const void *conn);
typedef int mysql_socket_fn(void *mysql);
typedef int mysql_options_fn(void *mysql, int option, const void *arg);
typedef void sqlite_interrupt_fn(void *db);

typedef struct orm_watchdog_t orm_watchdog_t;

/* Where a store's MariaDB/MySQL server is, learnt from its first connection:
 * to find a connection mod_dbd is opening, which nothing else names. */
typedef struct {
    const orm_store_t *store;
    struct sockaddr_storage addr;
    socklen_t len;              /* 0: not known yet */
} db_peer_t;

struct orm_watchdog_t {
    orm_deadlines_t *deadlines;
    apr_interval_time_t idle_wake;  /* the shortest timeout: a call marked
                                     * while the thread sleeps is due later */
    orm_bgthread_t bg;
    /* from the client libraries the drivers loaded; NULL when absent */
    pq_socket_fn *pq_socket;
    mysql_socket_fn *mysql_socket;
    mysql_options_fn *mysql_options;
    sqlite_interrupt_fn *sqlite_interrupt;
    apr_thread_mutex_t *peer_lock;  /* peers: written by request threads */
    db_peer_t *peers;               /* one per store */
    int npeers;
};

/* dlsym's object pointer as a function pointer, without a cast ISO C
 * leaves undefined */
static void find_function(void *fn_ptr, const char *name)
{
    void *sym = dlsym(RTLD_DEFAULT, name);

    memcpy(fn_ptr, &sym, sizeof(sym));
}

static db_peer_t *peer_of(const orm_watchdog_t *wd, const void *store)
{
    int i;

    for (i = 0; i < wd->npeers; i++) {
        if (wd->peers[i].store == store) {
            return &wd->peers[i];
        }
    }
    return NULL;
}

/* A new connection mod_dbd opens is the driver's alone, and apr_dbd_mysql
 * (apr-util 1.6) sets no timeout on it: the MariaDB/MySQL client then waits
 * for the server's greeting without end. Such a connection is the only
 * socket to the store's server that has received nothing yet (a connection
 * in use has at least its greeting), whichever thread opens it. Each
 * candidate is checked and cut through a duplicate descriptor, so a number
 * closed and reused meanwhile is never touched. Linux (TCP_INFO) and TCP
 * only: a Unix socket's connection is left to the driver. */
static void cut_opening(const orm_watchdog_t *wd, const void *store)
{
#if defined(__linux__)
    struct sockaddr_storage want, addr;
    socklen_t want_len = 0;
    db_peer_t *peer;
    struct dirent *entry;
    DIR *dir;

    apr_thread_mutex_lock(wd->peer_lock);
    peer = peer_of(wd, store);
    if (peer && peer->len > 0) {
        want = peer->addr;
        want_len = peer->len;
    }
    apr_thread_mutex_unlock(wd->peer_lock);
    if (want_len == 0 || (dir = opendir("/proc/self/fd")) == NULL) {
        return;
    }
    while ((entry = readdir(dir)) != NULL) {
        struct tcp_info info;
        socklen_t len = sizeof(addr), info_len = sizeof(info);
        int fd = atoi(entry->d_name), copy;

        if (entry->d_name[0] < '0' || entry->d_name[0] > '9'
            || fd == dirfd(dir)
            || (copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
            continue;
        }
        memset(&info, 0, sizeof(info));
        if (getpeername(copy, (struct sockaddr *)&addr, &len) == 0
            && len == want_len && !memcmp(&addr, &want, len)
            && getsockopt(copy, IPPROTO_TCP, TCP_INFO, &info, &info_len) == 0
            && info_len >= offsetof(struct tcp_info, tcpi_bytes_received)
                           + sizeof(info.tcpi_bytes_received)
            && info.tcpi_bytes_received == 0) {
            shutdown(copy, SHUT_RDWR);
        }
        close(copy);
    }
    closedir(dir);
#else
    (void)wd;
    (void)store;
#endif
}

/* Under the registry's lock, so the connection is open (its owner is inside
 * a marked call, or it is known and not yet forgotten). */
static void cut_connection(void *baton, const void *group, void *conn)
{
    const orm_watchdog_t *wd = baton;
    const ap_dbd_t *dbd = conn;
    const char *driver;
    void *native;
    int fd = -1;

    if (conn == NULL) {
        cut_opening(wd, group);
        return;
    }
    driver = apr_dbd_name(dbd->driver);
    native = apr_dbd_native_handle(dbd->driver, dbd->handle);
    if (native == NULL) {
        return;
    }
    if (!strcmp(driver, "pgsql") && wd->pq_socket) {
        fd = wd->pq_socket(native);
    }
    else if (!strcmp(driver, "mysql") && wd->mysql_socket) {
        fd = wd->mysql_socket(native);
        if (fd >= 0 && wd->mysql_options) {
            /* A cut connection is dead: without this, every later command
             * on it reconnects first, each waiting its connect timeout, and
             * when mod_dbd drops it, closing each prepared statement
             * (mysql_stmt_close) is such a command. A one-byte flag the
             * client library reads only before it reconnects. */
            my_bool_t off = 0;

            wd->mysql_options(native, MYSQL_OPT_RECONNECT, &off);
        }
    }
    else if (!strcmp(driver, "sqlite3") && wd->sqlite_interrupt) {
        wd->sqlite_interrupt(native);
    }
    if (fd >= 0) {
        /* not close: the descriptor stays the driver's, only dead */
        shutdown(fd, SHUT_RDWR);
    }
}

static void *APR_THREAD_FUNC watchdog_thread(apr_thread_t *thread,
                                             void *data)
{
    orm_watchdog_t *wd = data;
    apr_interval_time_t wait = wd->idle_wake;

    while (!orm_bgthread_sleep(&wd->bg, wait)) {
        apr_time_t now, next;

        now = apr_time_now();
        next = orm_deadlines_expire(wd->deadlines, now, RECUT_INTERVAL,
                                    cut_connection, wd);
        wait = next ? next - now : wd->idle_wake;
    }
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

/* libpq bounds a connection (and PQreset, which mod_dbd's acquire runs on a
 * broken one) by connect_timeout from DBDParams, else by this variable,
 * else not at all. Set before this child makes its first connection. */
static void default_pg_connect_timeout(apr_pool_t *pool,
                                       apr_interval_time_t timeout)
{
    apr_int64_t seconds = apr_time_sec(timeout);

    if (getenv("PGCONNECT_TIMEOUT") == NULL) {
        /* libpq's smallest */
        setenv("PGCONNECT_TIMEOUT", apr_psprintf(pool, "%" APR_INT64_T_FMT,
                                                 seconds < 2 ? 2 : seconds),
               0);
    }
}

static orm_store_t *server_store(server_rec *s)
{
    orm_server_conf_t *sconf = ap_get_module_config(s->module_config,
                                                    &session_orm_module);
    return sconf->store;
}

/* The shortest timeout of all stores (0: there is none), and how many
 * stores there are. */
static apr_interval_time_t shortest_timeout(server_rec *s, int *nstores)
{
    apr_interval_time_t shortest = 0;
    server_rec *sp;

    *nstores = 0;
    for (sp = s; sp; sp = sp->next) {
        const orm_store_t *store = server_store(sp);

        if (store && (shortest == 0 || store->timeout < shortest)) {
            shortest = store->timeout;
        }
        *nstores += store != NULL;
    }
    return shortest;
}

/* Every store gets the watchdog, and a place for its server's address. */
static void hand_to_stores(orm_watchdog_t *wd, server_rec *s,
                           apr_pool_t *pool, int nstores)
{
    server_rec *sp;

    wd->peers = apr_pcalloc(pool, nstores * sizeof(*wd->peers));
    wd->npeers = 0;
    for (sp = s; sp; sp = sp->next) {
        orm_store_t *store = server_store(sp);

        if (store) {
            store->watchdog = wd;
            wd->peers[wd->npeers++].store = store;
        }
    }
}

void orm_watchdog_child_init(apr_pool_t *pchild, server_rec *s)
{
    orm_watchdog_t *wd = apr_pcalloc(pchild, sizeof(*wd));
    apr_pool_t *pool = NULL;
    apr_status_t rv;
    int nstores;

    wd->idle_wake = shortest_timeout(s, &nstores);
    if (wd->idle_wake == 0) {
        return;                 /* no store: nothing to watch */
    }
    default_pg_connect_timeout(pchild, wd->idle_wake);
    find_function(&wd->pq_socket, "PQsocket");
    find_function(&wd->mysql_socket, "mysql_get_socket");
    find_function(&wd->mysql_options, "mysql_options");
    find_function(&wd->sqlite_interrupt, "sqlite3_interrupt");

    rv = apr_pool_create(&pool, pchild);
    if (rv == APR_SUCCESS) {
        rv = orm_deadlines_create(pool, &wd->deadlines);
    }
    if (rv == APR_SUCCESS) {
        rv = orm_bgthread_init(&wd->bg, pool);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_thread_mutex_create(&wd->peer_lock,
                                     APR_THREAD_MUTEX_DEFAULT, pool);
    }
    if (rv == APR_SUCCESS) {
        rv = orm_bgthread_start(&wd->bg, pool, watchdog_thread, wd);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, ORM_LOGNO(0013)
                     "cannot start the database watchdog in this child: "
                     "requests wait for a hung database as long as its "
                     "driver does (SessionORMTimeout is not enforced)");
        return;
    }
    /* a pre-cleanup of the child's pool, registered before the sweep
     * thread's: it runs after that one, so a sweep stuck on a dead database
     * is still cut while the child waits for it to end */
    apr_pool_pre_cleanup_register(pchild, &wd->bg, orm_bgthread_stop);
    hand_to_stores(wd, s, pool, nstores);
}

typedef struct {
    orm_deadlines_t *deadlines;
    void *conn;
} known_conn_t;

static apr_status_t forget_connection(void *data)
{
    known_conn_t *known = data;

    orm_deadlines_forget(known->deadlines, known->conn);
    return APR_SUCCESS;
}

/* The server's TCP address, for cut_opening (a server that moved is learnt
 * anew from the next connection). */
static void learn_peer(orm_watchdog_t *wd, const orm_store_t *store, int fd)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof(addr);
    db_peer_t *peer;

    if (fd < 0 || getpeername(fd, (struct sockaddr *)&addr, &len) != 0
        || (addr.ss_family != AF_INET && addr.ss_family != AF_INET6)) {
        return;
    }
    apr_thread_mutex_lock(wd->peer_lock);
    peer = peer_of(wd, store);
    if (peer) {
        peer->addr = addr;
        peer->len = len;
    }
    apr_thread_mutex_unlock(wd->peer_lock);
}

/* A connection seen for the first time: forgotten before it closes (the
 * driver's close is a clean-up of the same pool, registered earlier, so it
 * runs later), and on MariaDB/MySQL its client timeouts bounded: a
 * reconnect inside the driver (mysql_ping in mod_dbd's check) opens a socket
 * the watchdog cannot see, and takes its timeouts from these options. */
static void first_sight(const orm_store_t *store, ap_dbd_t *dbd)
{
    orm_watchdog_t *wd = store->watchdog;
    known_conn_t *known = apr_palloc(dbd->pool, sizeof(*known));

    known->deadlines = wd->deadlines;
    known->conn = dbd;
    apr_pool_cleanup_register(dbd->pool, known, forget_connection,
                              apr_pool_cleanup_null);
    if (!strcmp(apr_dbd_name(dbd->driver), "mysql") && wd->mysql_options) {
        void *mysql = apr_dbd_native_handle(dbd->driver, dbd->handle);
        unsigned int seconds = (unsigned int)apr_time_sec(store->timeout);

        if (mysql) {
            wd->mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &seconds);
            wd->mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &seconds);
            wd->mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &seconds);
            if (wd->mysql_socket) {
                learn_peer(wd, store, wd->mysql_socket(mysql));
            }
        }
    }
}

orm_deadline_t *orm_watchdog_arm(const orm_store_t *store, ap_dbd_t *dbd)
{
    orm_deadline_t *mark;
    int is_new = 0;

    if (store->watchdog == NULL) {
        return NULL;
    }
    mark = orm_deadline_arm(store->watchdog->deadlines, store, dbd,
                            apr_time_now() + store->timeout, &is_new);
    if (is_new) {
        first_sight(store, dbd);
    }
    return mark;
}

int orm_watchdog_disarm(const orm_store_t *store, orm_deadline_t *mark)
{
    return store->watchdog
           ? orm_deadline_disarm(store->watchdog->deadlines, mark) : 0;
}

void orm_watchdog_extend(const orm_store_t *store, orm_deadline_t *mark)
{
    if (store->watchdog) {
        orm_deadline_extend(store->watchdog->deadlines, mark,
                            apr_time_now() + store->timeout);
    }
}
