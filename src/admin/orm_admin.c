/*
 * session-orm: the admin tool of mod_session_orm. Purges expired sessions,
 * shows what the table holds, revokes sessions and prints the DDL, against
 * the same table httpd uses (read from its configuration, as httpd itself
 * reads it, or given with --driver/--params/--table/--column).
 *
 * Exit codes: 0 done, 1 database error or no answer in time, 2 usage or
 * configuration error (nothing was touched).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/time.h>

#include <apr_file_info.h>
#include <apr_general.h>
#include <apr_getopt.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <apr_dbd.h>

#include "orm_admin_store.h"
#include "orm_cache.h"
#include "orm_conffile.h"
#include "orm_db.h"
#include "orm_integer.h"
#include "orm_owner.h"
#include "orm_schema.h"
#include "orm_sql.h"
#include "orm_ttl.h"
#include "orm_conf.h"

#define EXIT_DONE  0
#define EXIT_DB    1
#define EXIT_USAGE 2

#define DEFAULT_PAUSE_MS 10
/* as SessionORMTimeout's default: how long one database call may take */
#define DEFAULT_TIMEOUT_MS 5000
#define MAX_TIMEOUT_MS (3600 * 1000)
#define MAX_PAUSE_MS 60000

/* From configure (apxs); the paths of the platform's httpd. */
#ifndef ORM_APACHECTL
#define ORM_APACHECTL "/usr/sbin/apachectl"
#endif
#ifndef ORM_INFO_MODULE
#define ORM_INFO_MODULE "/usr/lib/apache2/modules/mod_info.so"
#endif
#ifndef ORM_HTTPD_CONFDIR
#define ORM_HTTPD_CONFDIR "/etc/apache2"
#endif
#ifndef ORM_HTTPD_CONFNAME
#define ORM_HTTPD_CONFNAME "apache2.conf"
#endif

static const char usage_text[] =
"Usage: session-orm [connection] COMMAND [options]\n"
"\n"
"Commands:\n"
"  purge [--dry-run] [--batch N] [--pause MS]\n"
"                       delete expired sessions now, in batches of N rows\n"
"                       (default: SessionORMSweepBatch, else 1000) with a\n"
"                       pause of MS milliseconds between batches (default 10);\n"
"                       --dry-run only counts them\n"
"  stats                live and expired counts, oldest and newest expiry,\n"
"                       size of the table where the database can tell\n"
"  revoke --user NAME   delete every session of that user (logout everywhere)\n"
"  revoke --all         delete every session\n"
"  schema               print the CREATE statements for the driver\n"
"\n"
"Connection (what httpd uses, or given one by one; the latter win):\n"
"  --config FILE        httpd's configuration, read by httpd itself\n"
"                       (apachectl -t -D DUMP_CONFIG), for DBDriver,\n"
"                       DBDParams, SessionORMTable, SessionORMColumn,\n"
"                       SessionORMSweepBatch, SessionORMTimeout,\n"
"                       SessionORMDialect and SessionORMCache\n"
"                       (default: $APACHE_CONFDIR/" ORM_HTTPD_CONFNAME ", else\n"
"                       " ORM_HTTPD_CONFDIR "/" ORM_HTTPD_CONFNAME "; not read when\n"
"                       --driver is given without --config)\n"
"  --server-root DIR    as httpd -d DIR\n"
"  -D NAME              as httpd -D NAME, for <IfDefine>; may be repeated\n"
"  --vhost NAME         use the <VirtualHost> with this ServerName/ServerAlias\n"
"  --apachectl PATH     the program that runs httpd (default\n"
"                       " ORM_APACHECTL ")\n"
"  --driver NAME        apr_dbd driver: sqlite3, pgsql, mysql, odbc, ...\n"
"  --params STRING      as in DBDParams\n"
"  --table NAME         as in SessionORMTable (default: session)\n"
"  --column FIELD=NAME  as in SessionORMColumn; may be repeated\n"
"  --timeout SECONDS    give up when the database does not answer a call\n"
"                       within this time (default: SessionORMTimeout, else 5)\n"
"  --cache FILE         SessionORMCache's file, whose generation revoke\n"
"                       raises so that httpd's cache drops every session\n"
"                       (default: SessionORMCache; Off: none)\n"
"  --dialect NAME       the SQL to write, as SessionORMDialect: auto (the\n"
"                       driver's, or under odbc the database's), sqlite,\n"
"                       pgsql, mysql or portable (default: SessionORMDialect,\n"
"                       else auto)\n"
"\n"
"  -q, --quiet          no progress, only the summary\n"
"  -h, --help           this text\n"
"  --version            print the version and exit\n"
"Long options take their value as --option VALUE or --option=VALUE.\n"
"The tool never creates a database: a SQLite file must exist.\n"
"\n"
"Exit status: 0 done, 1 database error or no answer in time, 2 usage or\n"
"configuration error (nothing was touched).\n";

typedef struct {
    const char *command;
    const char *config;
    const char *server_root;
    const char *vhost;
    const char *apachectl;
    apr_array_header_t *defines;
    int timeout_ms;             /* 0: SessionORMTimeout, else the default */
    const char *driver_name;
    const char *params;
    const char *dialect;        /* NULL: auto */
    const char *cache_file;     /* SessionORMCache: NULL or Off, none */
    orm_schema_t schema;
    const char *user;
    int all;
    int dry_run;
    int batch;
    int pause_ms;
    int quiet;
} options_t;

/* ---- the command line ----------------------------------------------------
 * Options may come before or after the command, as --option VALUE or
 * --option=VALUE (-D NAME or -DNAME); apr_getopt_long reads each one, by
 * option_table. Each option's store function checks its value and keeps
 * it in options_t; a wrong value is a usage error at once, so nothing is
 * touched. */

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Says what is wrong with the command line; nothing has been touched. */
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("session-orm: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'session-orm --help'.\n", stderr);
    return EXIT_USAGE;
}

/* A whole number in [min, max], as the directives read them. */
static int parse_count(apr_pool_t *pool, const char *text, int min, int max,
                       const char *unit, int *out)
{
    apr_int64_t value;

    if (orm_integer_parse(pool, text, min, max, unit, &value) != NULL) {
        return 0;
    }
    *out = (int)value;
    return 1;
}

/* Seconds, fractions allowed, as a whole number of milliseconds. */
static int parse_seconds(const char *text, int *ms)
{
    char *end = NULL;
    double value;

    if (text == NULL || *text == '\0') {
        return 0;
    }
    errno = 0;
    value = strtod(text, &end);
    if (*end != '\0' || errno || !(value * 1000 >= 1)
        || value * 1000 > MAX_TIMEOUT_MS) {
        return 0;
    }
    *ms = (int)(value * 1000);
    if (*ms < value * 1000) {
        (*ms)++;                /* rounded up: never a shorter bound */
    }
    return 1;
}

typedef struct option_s option_t;

/* Keeps an option's value (NULL for one that takes none) in opt: EXIT_DONE,
 * or EXIT_USAGE when it has said what is wrong with it. */
typedef int (*option_store_fn)(apr_pool_t *pool, const option_t *option,
                               const char *value, options_t *opt);

struct option_s {
    apr_getopt_option_t getopt; /* name, letter (or LONG_ONLY), has a value */
    option_store_fn store;
    apr_size_t member;          /* store_text, store_flag: where in opt */
};

/* The letter of an option that has none: getopt_table gives it a code of
 * its own above any character, so that no letter reaches it. */
#define LONG_ONLY 0
#define FIRST_LONG_CODE 256

static int show_help(apr_pool_t *pool, const option_t *option,
                     const char *value, options_t *opt)
{
    (void)pool;
    (void)option;
    (void)value;
    (void)opt;
    fputs(usage_text, stdout);
    exit(EXIT_DONE);
}

static int show_version(apr_pool_t *pool, const option_t *option,
                        const char *value, options_t *opt)
{
    (void)pool;
    (void)option;
    (void)value;
    (void)opt;
    printf("session-orm %s\n", ORM_VERSION);
    exit(EXIT_DONE);
}

/* A string option, as httpd's ap_set_string_slot stores a directive's. */
static int store_text(apr_pool_t *pool, const option_t *option,
                      const char *value, options_t *opt)
{
    (void)pool;
    *(const char **)((char *)opt + option->member) = value;
    return EXIT_DONE;
}

static int store_flag(apr_pool_t *pool, const option_t *option,
                      const char *value, options_t *opt)
{
    (void)pool;
    (void)value;
    *(int *)((char *)opt + option->member) = 1;
    return EXIT_DONE;
}

static int add_define(apr_pool_t *pool, const option_t *option,
                      const char *value, options_t *opt)
{
    (void)pool;
    (void)option;
    APR_ARRAY_PUSH(opt->defines, const char *) = value;
    return EXIT_DONE;
}

static int store_timeout(apr_pool_t *pool, const option_t *option,
                         const char *value, options_t *opt)
{
    (void)pool;
    (void)option;
    if (!parse_seconds(value, &opt->timeout_ms)) {
        return usage_error("--timeout '%s' is not a number of seconds from "
                           "0.001 to %d", value, MAX_TIMEOUT_MS / 1000);
    }
    return EXIT_DONE;
}

static int store_user(apr_pool_t *pool, const option_t *option,
                      const char *value, options_t *opt)
{
    (void)pool;
    (void)option;
    if (*value == '\0') {
        return usage_error("--user needs a non-empty name");
    }
    opt->user = value;
    return EXIT_DONE;
}

static int store_table(apr_pool_t *pool, const option_t *option,
                       const char *value, options_t *opt)
{
    const char *err = orm_schema_set_table(pool, &opt->schema, value);
    (void)option;

    return err ? usage_error("--table: %s", err) : EXIT_DONE;
}

/* FIELD=NAME */
static int store_column(apr_pool_t *pool, const option_t *option,
                        const char *value, options_t *opt)
{
    const char *eq = strchr(value, '=');
    const char *err = "needs FIELD=NAME";
    (void)option;

    if (eq) {
        err = orm_schema_set_column(pool, &opt->schema,
                                    apr_pstrmemdup(pool, value, eq - value),
                                    eq + 1);
    }
    return err ? usage_error("--column '%s': %s", value, err) : EXIT_DONE;
}

static int store_batch(apr_pool_t *pool, const option_t *option,
                       const char *value, options_t *opt)
{
    (void)option;
    if (!parse_count(pool, value, 1, ORM_MAX_SWEEP_BATCH, "rows",
                     &opt->batch)) {
        return usage_error("--batch '%s' is not a row count from 1 to %d",
                           value, ORM_MAX_SWEEP_BATCH);
    }
    return EXIT_DONE;
}

static int store_pause(apr_pool_t *pool, const option_t *option,
                       const char *value, options_t *opt)
{
    (void)option;
    if (!parse_count(pool, value, 0, MAX_PAUSE_MS, "milliseconds",
                     &opt->pause_ms)) {
        return usage_error("--pause '%s' is not a number of milliseconds "
                           "from 0 to %d", value, MAX_PAUSE_MS);
    }
    return EXIT_DONE;
}

/* Every option; usage_text says what each one does. */
static const option_t option_table[] = {
    { { "help", 'h', 0, NULL }, show_help, 0 },
    { { "version", LONG_ONLY, 0, NULL }, show_version, 0 },
    { { "quiet", 'q', 0, NULL }, store_flag, APR_OFFSETOF(options_t, quiet) },
    { { NULL, 'D', 1, NULL }, add_define, 0 },
    { { "config", LONG_ONLY, 1, NULL }, store_text,
      APR_OFFSETOF(options_t, config) },
    { { "server-root", LONG_ONLY, 1, NULL }, store_text,
      APR_OFFSETOF(options_t, server_root) },
    { { "vhost", LONG_ONLY, 1, NULL }, store_text,
      APR_OFFSETOF(options_t, vhost) },
    { { "apachectl", LONG_ONLY, 1, NULL }, store_text,
      APR_OFFSETOF(options_t, apachectl) },
    { { "driver", LONG_ONLY, 1, NULL }, store_text,
      APR_OFFSETOF(options_t, driver_name) },
    { { "params", LONG_ONLY, 1, NULL }, store_text,
      APR_OFFSETOF(options_t, params) },
    { { "cache", LONG_ONLY, 1, NULL }, store_text,
      APR_OFFSETOF(options_t, cache_file) },
    { { "table", LONG_ONLY, 1, NULL }, store_table, 0 },
    { { "column", LONG_ONLY, 1, NULL }, store_column, 0 },
    { { "timeout", LONG_ONLY, 1, NULL }, store_timeout, 0 },
    { { "user", LONG_ONLY, 1, NULL }, store_user, 0 },
    { { "all", LONG_ONLY, 0, NULL }, store_flag, APR_OFFSETOF(options_t, all) },
    { { "dry-run", LONG_ONLY, 0, NULL }, store_flag,
      APR_OFFSETOF(options_t, dry_run) },
    { { "batch", LONG_ONLY, 1, NULL }, store_batch, 0 },
    { { "pause", LONG_ONLY, 1, NULL }, store_pause, 0 },
    { { "dialect", LONG_ONLY, 1, NULL }, store_text,
      APR_OFFSETOF(options_t, dialect) },
};

#define OPTION_COUNT (sizeof(option_table) / sizeof(option_table[0]))

/* option_table as apr_getopt_long reads it: each option's code, ended by a
 * code of 0. */
static apr_getopt_option_t *getopt_table(apr_pool_t *pool)
{
    apr_getopt_option_t *table = apr_pcalloc(pool, (OPTION_COUNT + 1)
                                                   * sizeof(*table));
    apr_size_t i;

    for (i = 0; i < OPTION_COUNT; i++) {
        table[i] = option_table[i].getopt;
        if (table[i].optch == LONG_ONLY) {
            table[i].optch = FIRST_LONG_CODE + (int)i;
        }
    }
    return table;
}

/* "--name" of "--name=value": the option the word names. */
static const char *option_named(apr_pool_t *pool, const char *word)
{
    const char *eq = strchr(word, '=');

    return (!strncmp(word, "--", 2) && eq)
           ? apr_pstrmemdup(pool, word, eq - word) : word;
}

/* The option at os's next word, with its value, kept in opt. */
static int take_option(apr_pool_t *pool, apr_getopt_t *os,
                       const apr_getopt_option_t *table, options_t *opt)
{
    const char *value = NULL, *word;
    int code, i;
    apr_status_t rv = apr_getopt_long(os, table, &code, &value);

    word = os->argv[os->ind - 1];       /* the one just read */
    /* a value after '=' for an option that takes none, or no word left
     * for the value of one that needs it */
    if (rv == APR_BADARG) {
        return usage_error("option %s %s", option_named(pool, word),
                           strchr(word, '=') ? "takes no value"
                                             : "needs a value");
    }
    /* one-letter options run together (-qh) are not taken: each option is
     * a word of its own, -DNAME being -D's value */
    if (rv != APR_SUCCESS || *os->place != '\0') {
        return usage_error("unknown option %s", option_named(pool, word));
    }
    for (i = 0; table[i].optch != code; i++) {
        /* code is one of table's: apr_getopt_long found it there */
    }
    return option_table[i].store(pool, &option_table[i], value, opt);
}

/* The command, the one word that is no option. */
static int take_command(const char *word, options_t *opt)
{
    if (opt->command != NULL) {
        return usage_error("unexpected argument '%s'", word);
    }
    opt->command = word;
    return EXIT_DONE;
}

/* A known command, with the options that go with it. */
static int check_command(const options_t *opt)
{
    if (opt->command == NULL) {
        return usage_error("no command given (purge, stats, revoke, "
                           "schema)");
    }
    if (strcmp(opt->command, "purge") && strcmp(opt->command, "stats")
        && strcmp(opt->command, "revoke") && strcmp(opt->command, "schema")) {
        return usage_error("unknown command '%s' (purge, stats, revoke, "
                           "schema)", opt->command);
    }
    if (!strcmp(opt->command, "revoke") && !opt->user == !opt->all) {
        return usage_error("revoke needs exactly one of --user NAME and "
                           "--all");
    }
    if (strcmp(opt->command, "revoke") && (opt->user || opt->all)) {
        return usage_error("--user and --all go with revoke, not %s",
                           opt->command);
    }
    if (strcmp(opt->command, "purge") && opt->dry_run) {
        return usage_error("--dry-run goes with purge, not %s", opt->command);
    }
    return EXIT_DONE;
}

/* Words in order, each option checked as it comes. A bare "--", which
 * apr_getopt_long would take for the end of the options, is an unknown
 * option: the command never starts with '-', so nothing needs it. */
static int parse_args(apr_pool_t *pool, int argc, const char *const *argv,
                      options_t *opt)
{
    const apr_getopt_option_t *table = getopt_table(pool);
    apr_getopt_t *os;
    int status = EXIT_DONE;

    apr_getopt_init(&os, pool, argc, argv);
    os->errfn = NULL;           /* usage_error says it, in the tool's words */
    while (status == EXIT_DONE && os->ind < os->argc) {
        const char *word = os->argv[os->ind];

        if (word[0] != '-') {
            status = take_command(word, opt);
            os->ind++;
        }
        else if (!strcmp(word, "--")) {
            status = usage_error("unknown option %s", word);
        }
        else {
            status = take_option(pool, os, table, opt);
        }
    }
    return status == EXIT_DONE ? check_command(opt) : status;
}

/* httpd's configuration as httpd reads it: what apachectl -t builds with
 * the same envvars, -D flags and conditional sections. */
static int read_httpd_conf(apr_pool_t *pool, const options_t *opt,
                           orm_conffile_t *conf)
{
    orm_conffile_ask_t ask;
    const char *dump = NULL, *errmsg = NULL;
    apr_finfo_t info;

    if (apr_stat(&info, opt->config, APR_FINFO_TYPE, pool) != APR_SUCCESS
        || info.filetype != APR_REG) {
        return usage_error("--config: no httpd configuration file '%s'%s",
                           opt->config, opt->driver_name ? ""
                           : " (give --config FILE, or --driver and "
                             "--params)");
    }
    memset(&ask, 0, sizeof(ask));
    ask.apachectl = opt->apachectl ? opt->apachectl : ORM_APACHECTL;
    ask.info_module = ORM_INFO_MODULE;
    ask.config = opt->config;
    ask.server_root = opt->server_root;
    ask.defines = opt->defines;
    if (orm_conffile_dump(pool, &ask, &dump, &errmsg) != APR_SUCCESS
        || orm_conffile_parse(pool, dump, opt->vhost, conf, &errmsg)
           != APR_SUCCESS) {
        return usage_error("--config %s: %s", opt->config, errmsg);
    }
    if (opt->vhost && !conf->vhost_found) {
        return usage_error("--vhost: no <VirtualHost> with ServerName or "
                           "ServerAlias '%s' in the configuration",
                           opt->vhost);
    }
    return EXIT_DONE;
}

/* The dialect asked for (by source, --dialect or SessionORMDialect) is one
 * there is, and one the driver can work with. */
static int check_dialect(apr_pool_t *pool, const options_t *opt,
                         const char *source)
{
    const char *err;
    int choice;

    if (opt->dialect == NULL) {
        return EXIT_DONE;
    }
    if (!orm_dialect_choice(opt->dialect, &choice)) {
        return usage_error("%s '%s' is none of " ORM_DIALECT_CHOICES, source,
                           opt->dialect);
    }
    if ((err = orm_dialect_conflict(pool, opt->dialect, opt->driver_name))) {
        return usage_error("%s %s", source, err);
    }
    return EXIT_DONE;
}

/* The dialect named by --dialect or SessionORMDialect into *dialect; 0
 * for auto (resolve_connection let nothing else through). */
static int named_dialect(const options_t *opt, orm_dialect_e *dialect)
{
    int choice;

    if (opt->dialect == NULL || !orm_dialect_choice(opt->dialect, &choice)
        || choice < 0) {
        return 0;
    }
    *dialect = (orm_dialect_e)choice;
    return 1;
}

/* The configuration first, then what the command line says on top of it.
 * Without --config the platform's file is read, unless --driver says the
 * connection is given on the command line. */
static int resolve_connection(apr_pool_t *pool, options_t *opt)
{
    orm_conffile_t conf;
    orm_schema_t merged;
    const char *err;
    int status;

    memset(&conf, 0, sizeof(conf));
    if (opt->config == NULL && opt->driver_name == NULL) {
        const char *confdir = getenv("APACHE_CONFDIR");
        opt->config = apr_pstrcat(pool, confdir && *confdir ? confdir
                                  : ORM_HTTPD_CONFDIR, "/",
                                  ORM_HTTPD_CONFNAME, NULL);
    }
    if (opt->config) {
        if ((status = read_httpd_conf(pool, opt, &conf)) != EXIT_DONE) {
            return status;
        }
    }
    else if (opt->vhost || opt->defines->nelts) {
        return usage_error("%s needs --config (--driver without it reads no "
                           "configuration)", opt->vhost ? "--vhost" : "-D");
    }
    if (opt->driver_name == NULL) {
        opt->driver_name = conf.driver;
    }
    if (opt->params == NULL) {
        opt->params = conf.params;
    }
    if (opt->dialect == NULL) {
        opt->dialect = conf.dialect;
    }
    if (opt->cache_file == NULL) {
        opt->cache_file = conf.cache_file;
    }
    if (opt->cache_file && !strcasecmp(opt->cache_file, "off")) {
        opt->cache_file = NULL;
    }
    if (opt->batch == 0) {
        opt->batch = conf.sweep_batch > 0 ? conf.sweep_batch
                                          : ORM_DEFAULT_SWEEP_BATCH;
    }
    if (opt->timeout_ms == 0 && conf.timeout
        && !parse_seconds(conf.timeout, &opt->timeout_ms)) {
        return usage_error("SessionORMTimeout '%s' is not a number of "
                           "seconds this tool understands; give --timeout",
                           conf.timeout);
    }
    if (opt->timeout_ms == 0) {
        opt->timeout_ms = DEFAULT_TIMEOUT_MS;
    }
    orm_schema_merge(&merged, &conf.schema, &opt->schema);
    opt->schema = merged;
    if (opt->driver_name == NULL) {
        return usage_error("no driver: %s%s has no DBDriver; give --driver, "
                           "or --config with the file httpd reads",
                           opt->config ? opt->config : "",
                           opt->vhost ? " (with that vhost)" : "");
    }
    if ((err = orm_schema_check_distinct(pool, &opt->schema)) != NULL) {
        return usage_error("%s", err);
    }
    return check_dialect(pool, opt, opt->dialect == conf.dialect
                                    ? "SessionORMDialect" : "--dialect");
}

/* Without a connection: through odbc the database is not known, and
 * portable SQL is what it gets unless a dialect is named. */
static int print_schema(apr_pool_t *pool, const options_t *opt)
{
    orm_dialect_e dialect;
    const orm_sql_t *sql;
    int i, guessed = 0;

    if (!named_dialect(opt, &dialect)) {
        dialect = orm_dialect_for_driver(opt->driver_name);
        guessed = dialect == ORM_DIALECT_PORTABLE;
    }
    sql = orm_sql_build(pool, &opt->schema, dialect);
    printf("-- session table for %s (%s dialect)\n", opt->driver_name,
           orm_dialect_name(dialect));
    if (guessed) {
        printf("-- the database behind %s is not known here: give --dialect "
               "sqlite, pgsql or mysql for its own SQL\n", opt->driver_name);
    }
    for (i = 0; i < sql->ddl->nelts; i++) {
        printf("%s;\n", APR_ARRAY_IDX(sql->ddl, i, const char *));
    }
    return EXIT_DONE;
}

typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    orm_conn_t store;           /* the table, on that connection */
    orm_dialect_e dialect;
    const char *table;
    int timeout_ms;
} db_t;

/* ---- the bound on each database call ------------------------------------
 * A stopped or unreachable server can hold a driver call for minutes (a TCP
 * connection the kernel accepted, a read that never returns); not every
 * driver has a timeout for each step. So a timer bounds every call, whatever
 * the driver: when it fires the tool says so and exits. The message is
 * written before the timer is armed, as a signal handler may only write(). */
static char timeout_message[128];
static size_t timeout_message_len;

static void on_timeout(int sig)
{
    (void)sig;
    if (write(STDERR_FILENO, timeout_message, timeout_message_len) < 0) {
        /* nothing left to tell it with */
    }
    _exit(EXIT_DB);
}

static void watchdog_init(int timeout_ms)
{
    struct sigaction sa;

    snprintf(timeout_message, sizeof(timeout_message),
             "session-orm: the database did not answer within %g s "
             "(--timeout)\n", timeout_ms / 1000.0);
    timeout_message_len = strlen(timeout_message);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_timeout;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
}

/* Starts the bound anew (before each call to the database); 0 stops it. */
static void watchdog_arm(int timeout_ms)
{
    struct itimerval timer;

    memset(&timer, 0, sizeof(timer));
    timer.it_value.tv_sec = timeout_ms / 1000;
    timer.it_value.tv_usec = (timeout_ms % 1000) * 1000;
    setitimer(ITIMER_REAL, &timer, NULL);
}

/* A failed call into the database; errmsg is the driver's message. */
static int db_error(const char *what, const char *errmsg)
{
    fprintf(stderr, "session-orm: %s: %s\n", what, errmsg);
    return EXIT_DB;
}

/* The file a SQLite DBDParams names: the path, or a file: URI's path. */
static const char *sqlite_path(apr_pool_t *pool, const char *params)
{
    char *path, *out;
    const char *p;

    if (strncmp(params, "file:", 5)) {
        return params;
    }
    p = params + 5;
    if (!strncmp(p, "///", 3)) {
        p += 2;
    }
    else if (!strncmp(p, "//localhost/", 12)) {
        p += 11;
    }
    path = out = apr_pstrdup(pool, p);
    for (; *p && *p != '?' && *p != '#'; p++) {
        if (*p == '%' && apr_isxdigit(p[1]) && apr_isxdigit(p[2])) {
            char hex[3] = { p[1], p[2], '\0' };
            *out++ = (char)strtol(hex, NULL, 16);
            p += 2;
        }
        else {
            *out++ = *p;
        }
    }
    *out = '\0';
    return path;
}

/* SQLite creates a missing database file when it opens it (and apr_dbd
 * gives no flag against that): created by this tool, as root, before httpd
 * ever ran, it would be a file httpd cannot write. So the file must be
 * there already. */
static int sqlite_exists(apr_pool_t *pool, const char *params)
{
    const char *path = sqlite_path(pool, params);
    const char *why = NULL;
    apr_finfo_t info;
    apr_status_t rv;

    if (*path == '\0' || !strcmp(path, ":memory:")
        || (path != params && strstr(params, "mode=memory"))) {
        fprintf(stderr, "session-orm: DBDParams '%s' names no SQLite "
                "database file\n", params);
        return EXIT_USAGE;
    }
    rv = apr_stat(&info, path, APR_FINFO_TYPE, pool);
    if (APR_STATUS_IS_ENOENT(rv) || APR_STATUS_IS_ENOTDIR(rv)) {
        why = "no such file";
    }
    else if (rv != APR_SUCCESS) {
        why = "cannot look at it";
    }
    else if (info.filetype != APR_REG) {
        why = "not a file";
    }
    if (why) {
        fprintf(stderr, "session-orm: no SQLite database at '%s' (%s); this "
                "tool never creates one (httpd does when it first stores a "
                "session)\n", path, why);
        return EXIT_USAGE;
    }
    return EXIT_DONE;
}

/* libpq's own bound on connecting (it counts whole seconds, at least 2),
 * unless DBDParams sets one or is a URI (where it would not parse). */
static const char *pgsql_params(apr_pool_t *pool, const char *params,
                                int timeout_ms)
{
    if (strstr(params, "connect_timeout") || !strncmp(params, "postgres", 8)) {
        return params;
    }
    return apr_psprintf(pool, "%s connect_timeout=%d", params,
                        timeout_ms < 2000 ? 2 : (timeout_ms + 999) / 1000);
}

static int db_open(apr_pool_t *pool, const options_t *opt, db_t *db)
{
    const char *err = NULL;
    const char *params = opt->params ? opt->params : "";
    apr_status_t rv;
    int status;

    rv = apr_dbd_get_driver(pool, opt->driver_name, &db->driver);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "session-orm: no apr_dbd driver '%s' (is "
                "libaprutil1-dbd-%s installed?)\n", opt->driver_name,
                opt->driver_name);
        return EXIT_DB;
    }
    if (!strcmp(opt->driver_name, "sqlite3")
        && (status = sqlite_exists(pool, params)) != EXIT_DONE) {
        return status;
    }
    if (!strcmp(opt->driver_name, "pgsql")) {
        params = pgsql_params(pool, params, opt->timeout_ms);
    }
    db->timeout_ms = opt->timeout_ms;
    watchdog_arm(db->timeout_ms);
    rv = apr_dbd_open_ex(db->driver, pool, params, &db->handle, &err);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "session-orm: cannot connect (%s): %s\n",
                opt->driver_name, orm_db_message(err));
        return EXIT_DB;
    }
    if (!named_dialect(opt, &db->dialect)) {
        db->dialect = orm_dialect_for_driver(opt->driver_name);
        if (db->dialect == ORM_DIALECT_PORTABLE) {
            /* a driver like odbc: the database behind it says which */
            db->dialect = orm_db_identify(pool, db->driver, db->handle,
                                          orm_sql_dialect_probes(pool),
                                          ORM_DIALECT_PORTABLE);
        }
    }
    db->table = orm_schema_table(&opt->schema);
    orm_admin_store_open(pool, db->driver, db->handle, &opt->schema,
                         db->dialect, opt->batch, &db->store);
    return EXIT_DONE;
}

static int count_expired(apr_pool_t *pool, db_t *db, apr_int64_t now,
                         apr_int64_t *count)
{
    const char *errmsg;

    watchdog_arm(db->timeout_ms);
    if (orm_store_count_expired(&db->store, pool, now, count, &errmsg)
        != APR_SUCCESS) {
        return db_error("counting expired sessions failed", errmsg);
    }
    return EXIT_DONE;
}

typedef struct {
    int on_terminal;
    apr_time_t started;
    apr_interval_time_t pause;
    int timeout_ms;
} progress_t;

/* Between two batches: the pause is no database call, so the bound stops
 * for it and starts again for the next batch. */
static int show_progress(void *baton, apr_int64_t removed)
{
    progress_t *progress = baton;

    if (progress->on_terminal) {
        fprintf(stderr, "\rremoved %" APR_INT64_T_FMT " rows ...", removed);
        fflush(stderr);
    }
    if (progress->pause > 0) {
        watchdog_arm(0);
        apr_sleep(progress->pause);
    }
    watchdog_arm(progress->timeout_ms);
    return 1;
}

static int purge(apr_pool_t *pool, const options_t *opt, db_t *db)
{
    apr_int64_t now = orm_now_ms(), expired = 0;
    progress_t progress;
    orm_purge_plan_t plan;
    orm_purge_result_t result;
    apr_status_t rv;
    double seconds;

    if (opt->dry_run) {
        int status = count_expired(pool, db, now, &expired);
        if (status == EXIT_DONE) {
            printf("would remove %" APR_INT64_T_FMT " expired sessions from "
                   "%s (dry run, nothing deleted)\n", expired, db->table);
        }
        return status;
    }
    progress.on_terminal = !opt->quiet && isatty(STDERR_FILENO);
    progress.started = apr_time_now();
    progress.pause = apr_time_from_msec(opt->pause_ms);
    progress.timeout_ms = db->timeout_ms;
    plan.pause = 0;             /* show_progress pauses, off the clock */
    plan.progress = show_progress;
    plan.baton = &progress;
    plan.stopping = NULL;
    watchdog_arm(db->timeout_ms);
    rv = orm_store_purge(&db->store, pool, now, &plan, &result);
    if (rv != APR_SUCCESS && !result.prepared) {
        return db_error("preparing the purge failed (does the table "
                        "exist?)", result.errmsg);
    }
    if (progress.on_terminal) {
        fputc('\n', stderr);
    }
    seconds = (double)(apr_time_now() - progress.started) / APR_USEC_PER_SEC;
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "session-orm: purge failed after removing %"
                APR_INT64_T_FMT " rows: %s\n", result.removed,
                result.errmsg);
        return EXIT_DB;
    }
    printf("removed %" APR_INT64_T_FMT " expired sessions from %s in %.2f s "
           "(%.0f rows/s)\n", result.removed, db->table, seconds,
           seconds > 0 ? result.removed / seconds : 0.0);
    return EXIT_DONE;
}

static const char *format_expiry(apr_pool_t *pool, const char *ms_text)
{
    apr_time_exp_t tm;
    char buf[64];
    apr_size_t len;

    if (ms_text == NULL) {
        return "-";
    }
    apr_time_exp_gmt(&tm, apr_time_from_msec(apr_atoi64(ms_text)));
    apr_strftime(buf, &len, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return apr_pstrdup(pool, buf);
}

static int stats(apr_pool_t *pool, db_t *db)
{
    apr_int64_t now = orm_now_ms(), expired = 0;
    orm_store_totals_t totals;
    const char *size = NULL, *errmsg;
    int status;

    watchdog_arm(db->timeout_ms);
    if (orm_store_totals(&db->store, pool, &totals, &errmsg)
        != APR_SUCCESS) {
        return db_error("reading the session table failed (does it "
                        "exist?)", errmsg);
    }
    if ((status = count_expired(pool, db, now, &expired)) != EXIT_DONE) {
        return status;
    }
    /* not every database can tell (SQLite without dbstat): then "-" */
    watchdog_arm(db->timeout_ms);
    if (orm_store_table_size(&db->store, pool, &size, &errmsg)
        != APR_SUCCESS) {
        size = NULL;
    }
    printf("table          %s (%s)\n", db->table, orm_dialect_name(db->dialect));
    printf("live           %" APR_INT64_T_FMT "\n", totals.rows - expired);
    printf("expired        %" APR_INT64_T_FMT "\n", expired);
    printf("oldest expiry  %s\n",
           format_expiry(pool, totals.oldest_expiry_ms));
    printf("newest expiry  %s\n",
           format_expiry(pool, totals.newest_expiry_ms));
    printf("table size     %s\n",
           size ? apr_pstrcat(pool, size, " bytes", NULL) : "-");
    return EXIT_DONE;
}

/* The generation of httpd's cache (SessionORMCache), mapped before anything
 * is revoked: a revoke httpd's cache would not see is not made. *generation
 * NULL when there is no cache, or no httpd made its file yet. */
static int open_cache(apr_pool_t *pool, const options_t *opt,
                      volatile apr_uint32_t **generation)
{
    const char *errmsg;
    apr_status_t rv;

    *generation = NULL;
    if (opt->cache_file == NULL) {
        return EXIT_DONE;
    }
    rv = orm_cache_file_open(pool, opt->cache_file, 0, generation, &errmsg);
    if (APR_STATUS_IS_ENOENT(rv)) {
        /* httpd makes it at start: none runs with the cache, unless the
         * file was removed under it */
        fprintf(stderr, "session-orm: note: no SessionORMCache file %s: "
                "httpd has not started with the cache; one that did and "
                "lost the file keeps serving what it cached for up to "
                "SessionORMCacheSeconds\n", opt->cache_file);
        return EXIT_DONE;
    }
    if (rv != APR_SUCCESS) {
        /* not the command line's fault: no hint to --help */
        fprintf(stderr, "session-orm: SessionORMCache: %s; nothing was "
                "revoked (httpd's cache would go on serving the "
                "sessions)\n", errmsg);
        return EXIT_USAGE;
    }
    return EXIT_DONE;
}

static int revoke_sessions(apr_pool_t *pool, const options_t *opt, db_t *db)
{
    const char *errmsg;
    volatile apr_uint32_t *generation;
    int revoked = 0, status;
    apr_status_t rv;

    if ((status = open_cache(pool, opt, &generation)) != EXIT_DONE) {
        return status;
    }
    watchdog_arm(db->timeout_ms);
    rv = orm_store_revoke(&db->store, pool,
                          opt->all ? NULL : orm_owner_column(pool, opt->user),
                          &revoked, &errmsg);
    /* raised after a failure too: a DELETE cut after its commit did
     * revoke, and dropping what the cache holds loses nothing */
    if (generation) {
        orm_cache_file_raise(generation);
    }
    if (rv != APR_SUCCESS) {
        return db_error("revoking sessions failed", errmsg);
    }
    if (opt->all) {
        printf("revoked all %d sessions in %s\n", revoked, db->table);
    }
    else {
        printf("revoked %d sessions of user '%s' in %s\n", revoked,
               opt->user, db->table);
    }
    if (generation) {
        printf("dropped every session httpd's cache holds (%s)\n",
               opt->cache_file);
    }
    return EXIT_DONE;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *pool;
    options_t opt;
    db_t db;
    int status;

    apr_app_initialize(&argc, &argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    apr_dbd_init(pool);

    memset(&opt, 0, sizeof(opt));
    opt.pause_ms = DEFAULT_PAUSE_MS;
    opt.defines = apr_array_make(pool, 4, sizeof(const char *));
    if ((status = parse_args(pool, argc, argv, &opt)) != EXIT_DONE
        || (status = resolve_connection(pool, &opt)) != EXIT_DONE) {
        return status;
    }
    if (!strcmp(opt.command, "schema")) {
        return print_schema(pool, &opt);
    }
    memset(&db, 0, sizeof(db));
    watchdog_init(opt.timeout_ms);
    if ((status = db_open(pool, &opt, &db)) != EXIT_DONE) {
        return status;
    }
    if (!strcmp(opt.command, "purge")) {
        status = purge(pool, &opt, &db);
    }
    else if (!strcmp(opt.command, "stats")) {
        status = stats(pool, &db);
    }
    else {
        status = revoke_sessions(pool, &opt, &db);
    }
    watchdog_arm(db.timeout_ms);
    apr_dbd_close(db.driver, db.handle);
    watchdog_arm(0);
    return status;
}
