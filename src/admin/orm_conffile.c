#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_thread_proc.h>
#include <apr_tables.h>
#include <apr_lib.h>
#include <apr_fnmatch.h>
#include <apr_general.h>

#include "orm_conffile.h"

/* ---- asking httpd ------------------------------------------------------- */

/* Everything a file holds from its start, NUL-terminated. */
static apr_status_t read_all(apr_pool_t *pool, apr_file_t *file,
                             const char **text)
{
    apr_size_t cap = 65536, len = 0;
    char *buf = apr_palloc(pool, cap);
    apr_status_t rv;

    for (;;) {
        apr_size_t n = cap - len - 1;
        rv = apr_file_read(file, buf + len, &n);
        len += n;
        if (rv == APR_EOF) {
            break;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (len + 1 == cap) {
            /* a dump holds logical lines of up to 16 MB, and many of them */
            char *bigger = apr_palloc(pool, cap * 2);
            memcpy(bigger, buf, len);
            buf = bigger;
            cap *= 2;
        }
    }
    buf[len] = '\0';
    *text = buf;
    return APR_SUCCESS;
}

/* The last lines of what httpd wrote on stderr: its reason. */
static const char *tail_of(apr_pool_t *pool, const char *text)
{
    apr_size_t len = strlen(text);
    const char *start;

    while (len > 0 && apr_isspace(text[len - 1])) {
        len--;
    }
    start = len > 2000 ? text + len - 2000 : text;
    return len ? apr_pstrmemdup(pool, start, len - (start - text))
               : "(it printed nothing)";
}

/* apachectl -f FILE [-d DIR] [-D NAME]... -C 'LoadModule info_module ...'
 * -t -D DUMP_CONFIG, NULL-terminated. */
static const char *const *apachectl_args(apr_pool_t *pool,
                                         const orm_conffile_ask_t *ask)
{
    apr_array_header_t *args = apr_array_make(pool, 16, sizeof(char *));
    int i;

    APR_ARRAY_PUSH(args, const char *) = ask->apachectl;
    APR_ARRAY_PUSH(args, const char *) = "-f";
    APR_ARRAY_PUSH(args, const char *) = ask->config;
    if (ask->server_root) {
        APR_ARRAY_PUSH(args, const char *) = "-d";
        APR_ARRAY_PUSH(args, const char *) = ask->server_root;
    }
    for (i = 0; ask->defines && i < ask->defines->nelts; i++) {
        APR_ARRAY_PUSH(args, const char *) = "-D";
        APR_ARRAY_PUSH(args, const char *) =
            APR_ARRAY_IDX(ask->defines, i, const char *);
    }
    /* read before the file: a LoadModule of its own is then skipped */
    APR_ARRAY_PUSH(args, const char *) = "-C";
    APR_ARRAY_PUSH(args, const char *) =
        apr_psprintf(pool, "LoadModule info_module \"%s\"", ask->info_module);
    APR_ARRAY_PUSH(args, const char *) = "-t";
    APR_ARRAY_PUSH(args, const char *) = "-D";
    APR_ARRAY_PUSH(args, const char *) = "DUMP_CONFIG";
    APR_ARRAY_PUSH(args, const char *) = NULL;
    return (const char *const *)args->elts;
}

/* Starts apachectl with its standard output on a pipe (proc->out) and its
 * standard error into *err_file, a temporary file: a pipe could fill while
 * we read stdout. */
static apr_status_t start_apachectl(apr_pool_t *pool,
                                    const orm_conffile_ask_t *ask,
                                    apr_proc_t *proc, apr_file_t **err_file,
                                    const char **errmsg)
{
    apr_procattr_t *attr;
    apr_file_t *null_in;
    const char *tmpdir;
    char *err_path;
    apr_status_t rv;

    if ((rv = apr_temp_dir_get(&tmpdir, pool)) != APR_SUCCESS) {
        *errmsg = "no temporary directory";
        return rv;
    }
    err_path = apr_pstrcat(pool, tmpdir, "/session-orm.XXXXXX", NULL);
    rv = apr_file_mktemp(err_file, err_path, APR_FOPEN_CREATE
                         | APR_FOPEN_READ | APR_FOPEN_WRITE | APR_FOPEN_EXCL
                         | APR_FOPEN_DELONCLOSE, pool);
    if (rv == APR_SUCCESS) {
        rv = apr_file_open(&null_in, "/dev/null", APR_FOPEN_READ,
                           APR_OS_DEFAULT, pool);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_procattr_create(&attr, pool);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_procattr_io_set(attr, APR_NO_PIPE, APR_FULL_BLOCK,
                                 APR_NO_PIPE);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_procattr_child_in_set(attr, null_in, NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_procattr_child_err_set(attr, *err_file, NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_procattr_cmdtype_set(attr, APR_PROGRAM_PATH);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_procattr_error_check_set(attr, 1);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_proc_create(proc, ask->apachectl,
                             apachectl_args(pool, ask), NULL, attr, pool);
    }
    if (rv != APR_SUCCESS) {
        char buf[256];
        *errmsg = apr_psprintf(pool, "cannot run %s: %s", ask->apachectl,
                               apr_strerror(rv, buf, sizeof(buf)));
    }
    return rv;
}

apr_status_t orm_conffile_dump(apr_pool_t *pool, const orm_conffile_ask_t *ask,
                                 const char **dump, const char **errmsg)
{
    apr_proc_t proc;
    apr_file_t *err_file;
    const char *err_text = "", *command;
    apr_exit_why_e why;
    apr_status_t rv;
    int code;

    *dump = NULL;
    command = apr_psprintf(pool, "%s -t -D DUMP_CONFIG -f %s", ask->apachectl,
                           ask->config);
    if ((rv = start_apachectl(pool, ask, &proc, &err_file, errmsg))
        != APR_SUCCESS) {
        return rv;
    }
    rv = read_all(pool, proc.out, dump);
    apr_file_close(proc.out);
    apr_proc_wait(&proc, &code, &why, APR_WAIT);
    if (apr_file_seek(err_file, APR_SET, &(apr_off_t){0}) == APR_SUCCESS) {
        read_all(pool, err_file, &err_text);
    }
    apr_file_close(err_file);
    if (rv != APR_SUCCESS) {
        *errmsg = apr_psprintf(pool, "reading what %s printed failed",
                               command);
        return rv;
    }
    if (why != APR_PROC_EXIT || code != 0) {
        *errmsg = apr_psprintf(pool, "%s failed (%s %d): %s", command,
                               why == APR_PROC_EXIT ? "exit" : "signal",
                               code, tail_of(pool, err_text));
        return APR_EGENERAL;
    }
    if (strstr(*dump, "# In file:") == NULL) {
        /* an httpd that ignored DUMP_CONFIG, or no mod_info */
        *errmsg = apr_psprintf(pool, "%s printed no configuration tree "
                               "(is mod_info at %s?)", command,
                               ask->info_module);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* ---- reading the dump --------------------------------------------------- */

typedef struct {
    apr_pool_t *pool;
    const char *wanted_vhost;
    orm_conffile_t *main_conf;    /* directives outside any vhost */
    orm_conffile_t vhost_conf;    /* the vhost being read */
    orm_conffile_t wanted_conf;   /* the wanted vhost, once seen */
    apr_array_header_t *sections;   /* names of the open sections */
    int in_vhost;
    int vhost_matches;
    const char *file;               /* from mod_info's "# In file:" */
    int line;                       /* from its "# NNN:" */
} reader_t;

static const char *where(reader_t *rd)
{
    return apr_psprintf(rd->pool, "%s:%d", rd->file ? rd->file : "?",
                        rd->line);
}

static void overlay(orm_conffile_t *base, const orm_conffile_t *over)
{
    orm_schema_t merged;

    if (over->driver) {
        base->driver = over->driver;
    }
    if (over->params) {
        base->params = over->params;
    }
    if (over->sweep_batch) {
        base->sweep_batch = over->sweep_batch;
    }
    if (over->timeout) {
        base->timeout = over->timeout;
    }
    if (over->dialect) {
        base->dialect = over->dialect;
    }
    orm_schema_merge(&merged, &base->schema, &over->schema);
    base->schema = merged;
}

static void server_name(reader_t *rd, int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        /* ServerName may carry a scheme and port: compare the host */
        const char *host = strstr(argv[i], "://");
        char *colon;
        host = apr_pstrdup(rd->pool, host ? host + 3 : argv[i]);
        if ((colon = strrchr(host, ':')) && !strchr(host, ']')) {
            *colon = '\0';
        }
        /* ServerAlias takes wildcards, matched without case */
        if (!strcasecmp(host, rd->wanted_vhost)
            || apr_fnmatch(host, rd->wanted_vhost,
                           APR_FNM_CASE_BLIND) == APR_SUCCESS) {
            rd->vhost_matches = 1;
        }
    }
}

/* ---- the directives the tool takes --------------------------------------
 * Each reader takes a directive's words (argv[0] its name, at least one
 * argument, NULL after the last) into conf, the main server's or a vhost's,
 * and returns NULL or what is wrong. httpd has checked them; the names are
 * checked again because a schema holds only names that pass. */

typedef const char *(*directive_fn)(apr_pool_t *pool, orm_conffile_t *conf,
                                    apr_size_t member, char **argv);

/* The value as written, at member of conf (as httpd's ap_set_string_slot):
 * SessionORMTimeout too, which the tool reads as it reads --timeout. */
static const char *read_text(apr_pool_t *pool, orm_conffile_t *conf,
                             apr_size_t member, char **argv)
{
    (void)pool;
    *(const char **)((char *)conf + member) = argv[1];
    return NULL;
}

/* httpd -t has refused what is not a row count */
static const char *read_count(apr_pool_t *pool, orm_conffile_t *conf,
                              apr_size_t member, char **argv)
{
    (void)pool;
    *(int *)((char *)conf + member) = atoi(argv[1]);
    return NULL;
}

static const char *read_table(apr_pool_t *pool, orm_conffile_t *conf,
                              apr_size_t member, char **argv)
{
    (void)member;
    return orm_schema_set_table(pool, &conf->schema, argv[1]);
}

static const char *read_column(apr_pool_t *pool, orm_conffile_t *conf,
                               apr_size_t member, char **argv)
{
    (void)member;
    if (argv[2] == NULL || argv[3] != NULL) {
        return "takes a field and a column name";
    }
    return orm_schema_set_column(pool, &conf->schema, argv[1], argv[2]);
}

/* the express format maps other columns, and keeps fewer */
static const char *read_format(apr_pool_t *pool, orm_conffile_t *conf,
                               apr_size_t member, char **argv)
{
    orm_format_e format;

    (void)pool;
    (void)member;
    if (!orm_format_by_name(argv[1], &format)) {
        return "is native or express";
    }
    conf->schema.format = format;
    return NULL;
}

static const struct {
    const char *name;
    directive_fn read;
    apr_size_t member;          /* read_text, read_count: where in conf */
} our_directives[] = {
    { "DBDriver", read_text, APR_OFFSETOF(orm_conffile_t, driver) },
    { "DBDParams", read_text, APR_OFFSETOF(orm_conffile_t, params) },
    { "SessionORMTable", read_table, 0 },
    { "SessionORMColumn", read_column, 0 },
    { "SessionORMFormat", read_format, 0 },
    { "SessionORMSweepBatch", read_count,
      APR_OFFSETOF(orm_conffile_t, sweep_batch) },
    { "SessionORMTimeout", read_text, APR_OFFSETOF(orm_conffile_t, timeout) },
    { "SessionORMDialect", read_text, APR_OFFSETOF(orm_conffile_t, dialect) },
    { "SessionORMCache", read_text,
      APR_OFFSETOF(orm_conffile_t, cache_file) },
};

/* Index in our_directives of a directive the tool takes (names are
 * case-insensitive, as in httpd), or -1 for any other. */
static int our_directive(const char *name)
{
    int i, n = (int)(sizeof(our_directives) / sizeof(our_directives[0]));

    for (i = 0; i < n; i++) {
        if (!strcasecmp(name, our_directives[i].name)) {
            return i;
        }
    }
    return -1;
}

static apr_status_t directive(reader_t *rd, orm_conffile_t *conf,
                              int argc, char **argv, const char **errmsg)
{
    const char *err;
    int ours;

    if (argc < 2) {
        return APR_SUCCESS;     /* nothing we read takes no argument */
    }
    if (rd->in_vhost && rd->wanted_vhost
        && (!strcasecmp(argv[0], "ServerName")
            || !strcasecmp(argv[0], "ServerAlias"))) {
        server_name(rd, argc, argv);
        return APR_SUCCESS;
    }
    if ((ours = our_directive(argv[0])) < 0) {
        return APR_SUCCESS;
    }
    err = our_directives[ours].read(rd->pool, conf,
                                    our_directives[ours].member, argv);
    if (err != NULL) {
        *errmsg = apr_psprintf(rd->pool, "%s: %s: %s", where(rd),
                               our_directives[ours].name, err);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* Words as httpd reads a directive line (ap_getword_conf): quoted with
 * " or ', where a backslash escapes only the quote; elsewhere backslashes
 * are kept. */
static char **split_words(apr_pool_t *pool, const char *text, int *argc)
{
    apr_array_header_t *words = apr_array_make(pool, 8, sizeof(char *));
    const char *p = text;

    while (*p) {
        char *word, *out;

        while (apr_isspace(*p)) {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        word = out = apr_palloc(pool, strlen(p) + 1);
        if (*p == '"' || *p == '\'') {
            char quote = *p++;
            while (*p && *p != quote) {
                if (*p == '\\' && p[1] == quote) {
                    p++;
                }
                *out++ = *p++;
            }
            if (*p) {
                p++;
            }
        }
        else {
            while (*p && !apr_isspace(*p)) {
                *out++ = *p++;
            }
        }
        *out = '\0';
        APR_ARRAY_PUSH(words, char *) = word;
    }
    *argc = words->nelts;
    APR_ARRAY_PUSH(words, char *) = NULL;
    return (char **)words->elts;
}

/* mod_info's "# In file: PATH" and "# NNN:" lines say where a directive
 * was written; other comments do not occur. */
static void position(reader_t *rd, const char *comment)
{
    const char *p = comment + 1;

    while (*p == ' ') {
        p++;
    }
    if (!strncmp(p, "In file: ", 9)) {
        rd->file = p + 9;
    }
    else if (apr_isdigit(*p)) {
        rd->line = atoi(p);
    }
}

static apr_status_t open_section(reader_t *rd, const char *name)
{
    if (rd->sections->nelts == 0 && !strcasecmp(name, "<VirtualHost")) {
        rd->in_vhost = 1;
        rd->vhost_matches = 0;
        memset(&rd->vhost_conf, 0, sizeof(rd->vhost_conf));
    }
    APR_ARRAY_PUSH(rd->sections, const char *) = name;
    return APR_SUCCESS;
}

static void close_section(reader_t *rd)
{
    if (rd->sections->nelts > 0) {
        rd->sections->nelts--;
    }
    if (rd->sections->nelts == 0 && rd->in_vhost) {
        /* the first matching vhost is the one httpd would pick */
        if (rd->vhost_matches && !rd->wanted_conf.vhost_found) {
            rd->wanted_conf = rd->vhost_conf;
            rd->wanted_conf.vhost_found = 1;
        }
        rd->in_vhost = 0;
    }
}

static apr_status_t read_line(reader_t *rd, char *text, const char **errmsg)
{
    char **argv;
    int argc, depth = rd->sections->nelts;

    while (apr_isspace(*text)) {
        text++;
    }
    if (*text == '#') {
        position(rd, text);
        return APR_SUCCESS;
    }
    argv = split_words(rd->pool, text, &argc);
    if (argc == 0) {
        return APR_SUCCESS;
    }
    if (argv[0][0] == '<' && argv[0][1] == '/') {
        close_section(rd);
        return APR_SUCCESS;
    }
    if (argv[0][0] == '<') {
        return open_section(rd, argv[0]);
    }
    if (depth == 0) {
        return directive(rd, rd->main_conf, argc, argv, errmsg);
    }
    if (depth == 1 && rd->in_vhost) {
        return directive(rd, &rd->vhost_conf, argc, argv, errmsg);
    }
    if (our_directive(argv[0]) >= 0) {
        const char *section = APR_ARRAY_IDX(rd->sections, depth - 1,
                                            const char *);
        *errmsg = apr_psprintf(rd->pool, "%s: %s inside %s>: cannot tell "
                               "whether httpd applies it there; keep it at "
                               "the top level or directly in <VirtualHost>",
                               where(rd), argv[0], section);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* The first ${NAME} in value, or NULL. */
static const char *unresolved(apr_pool_t *pool, const char *value)
{
    const char *start = value ? strstr(value, "${") : NULL;
    const char *end = start ? strchr(start, '}') : NULL;

    return end ? apr_pstrmemdup(pool, start, end - start + 1) : NULL;
}

/* httpd leaves ${NAME} as it is (with a warning) when nothing defines it:
 * a path or a password with it in is not what anybody meant. */
static apr_status_t check_resolved(apr_pool_t *pool,
                                   const orm_conffile_t *conf,
                                   const char **errmsg)
{
    const char *values[ORM_FIELD_COUNT + 6];
    const char *names[ORM_FIELD_COUNT + 6];
    int i, n = 0;

    names[n] = "DBDriver";
    values[n++] = conf->driver;
    names[n] = "DBDParams";
    values[n++] = conf->params;
    names[n] = "SessionORMTable";
    values[n++] = conf->schema.table;
    names[n] = "SessionORMTimeout";
    values[n++] = conf->timeout;
    names[n] = "SessionORMDialect";
    values[n++] = conf->dialect;
    names[n] = "SessionORMCache";
    values[n++] = conf->cache_file;
    for (i = 0; i < ORM_FIELD_COUNT; i++) {
        names[n] = "SessionORMColumn";
        values[n++] = conf->schema.columns[i];
    }
    for (i = 0; i < n; i++) {
        const char *var = unresolved(pool, values[i]);
        if (var) {
            *errmsg = apr_psprintf(pool, "%s '%s' uses %s, which neither a "
                                   "Define nor the environment defines "
                                   "(httpd left it as it is)", names[i],
                                   values[i], var);
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

apr_status_t orm_conffile_parse(apr_pool_t *pool, const char *dump,
                                  const char *vhost, orm_conffile_t *conf,
                                  const char **errmsg)
{
    reader_t rd;
    char *text = apr_pstrdup(pool, dump), *line, *next;
    apr_status_t rv = APR_SUCCESS;

    memset(&rd, 0, sizeof(rd));
    memset(conf, 0, sizeof(*conf));
    rd.pool = pool;
    rd.wanted_vhost = vhost;
    rd.main_conf = conf;
    rd.sections = apr_array_make(pool, 8, sizeof(const char *));
    *errmsg = NULL;
    for (line = text; line && rv == APR_SUCCESS; line = next) {
        next = strchr(line, '\n');
        if (next) {
            *next++ = '\0';
        }
        rv = read_line(&rd, line, errmsg);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rd.wanted_conf.vhost_found) {
        overlay(conf, &rd.wanted_conf);
        conf->vhost_found = 1;
    }
    return check_resolved(pool, conf, errmsg);
}
