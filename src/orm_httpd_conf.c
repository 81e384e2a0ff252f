#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <glob.h>
#include <sys/stat.h>

#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_tables.h>
#include <apr_lib.h>
#include <apr_fnmatch.h>

#include "orm_httpd_conf.h"

#define MAX_INCLUDE_DEPTH 32

typedef struct {
    apr_pool_t *pool;
    const char *server_root;
    const char *wanted_vhost;
    apr_table_t *defines;
    orm_httpd_conf_t *main_conf;    /* directives outside any vhost */
    orm_httpd_conf_t vhost_conf;    /* the vhost being read */
    orm_httpd_conf_t wanted_conf;   /* the wanted vhost, once seen */
    int in_vhost;
    int vhost_matches;
    int depth;
} reader_t;

static apr_status_t read_file(reader_t *rd, const char *path,
                              const char **errmsg);

static const char *where(reader_t *rd, const char *path, int line)
{
    return apr_psprintf(rd->pool, "%s:%d", path, line);
}

/* ${NAME} from Define, else the environment; left alone when unknown. */
static char *expand_variables(reader_t *rd, const char *text)
{
    const char *p = text;
    char *out = "";

    while (*p) {
        const char *start = strstr(p, "${");
        const char *end = start ? strchr(start + 2, '}') : NULL;
        const char *name, *value;

        if (!start || !end) {
            return apr_pstrcat(rd->pool, out, p, NULL);
        }
        name = apr_pstrmemdup(rd->pool, start + 2, end - start - 2);
        value = apr_table_get(rd->defines, name);
        if (value == NULL) {
            value = getenv(name);
        }
        out = apr_pstrcat(rd->pool, out,
                          apr_pstrmemdup(rd->pool, p, start - p),
                          value ? value
                                : apr_pstrmemdup(rd->pool, start,
                                                 end - start + 1), NULL);
        p = end + 1;
    }
    return out;
}

static const char *resolve(reader_t *rd, const char *path)
{
    if (path[0] == '/' || rd->server_root == NULL) {
        return path;
    }
    return apr_pstrcat(rd->pool, rd->server_root, "/", path, NULL);
}

/* Every file below dir, subdirectories included, in name order. */
static apr_status_t include_directory(reader_t *rd, const char *dir,
                                      const char **errmsg)
{
    glob_t matches;
    apr_status_t rv = APR_SUCCESS;
    apr_finfo_t info;
    size_t i;
    const char *const patterns[2] = { "/*", "/.[!.]*" };
    int p;

    for (p = 0; p < 2 && rv == APR_SUCCESS; p++) {
        const char *pattern = apr_pstrcat(rd->pool, dir, patterns[p], NULL);
        if (glob(pattern, 0, NULL, &matches) != 0) {
            continue;
        }
        for (i = 0; i < matches.gl_pathc && rv == APR_SUCCESS; i++) {
            const char *path = apr_pstrdup(rd->pool, matches.gl_pathv[i]);
            if (apr_stat(&info, path, APR_FINFO_TYPE, rd->pool)
                != APR_SUCCESS) {
                continue;
            }
            rv = info.filetype == APR_DIR
                 ? include_directory(rd, path, errmsg)
                 : read_file(rd, path, errmsg);
        }
        globfree(&matches);
    }
    return rv;
}

static apr_status_t include(reader_t *rd, const char *pattern, int optional,
                            const char *at, const char **errmsg)
{
    const char *path = resolve(rd, pattern);
    apr_finfo_t info;
    glob_t matches;
    apr_status_t rv = APR_SUCCESS;
    size_t i;
    int globbed;

    if (rd->depth >= MAX_INCLUDE_DEPTH) {
        *errmsg = apr_psprintf(rd->pool, "%s: includes nest deeper than %d "
                               "(a loop?)", at, MAX_INCLUDE_DEPTH);
        return APR_EINVAL;
    }
    rd->depth++;
    globbed = glob(path, 0, NULL, &matches);
    if (globbed == GLOB_NOMATCH) {
        rd->depth--;
        if (optional) {
            return APR_SUCCESS;
        }
        *errmsg = apr_psprintf(rd->pool, "%s: Include '%s': %s", at, path,
                               strpbrk(path, "*?[") ? "no file matches"
                                                    : "no such file");
        return APR_ENOENT;
    }
    if (globbed != 0) {
        rd->depth--;
        *errmsg = apr_psprintf(rd->pool, "%s: cannot read '%s'", at, path);
        return APR_EGENERAL;
    }
    /* a directory stands for every file below it, as in httpd */
    for (i = 0; i < matches.gl_pathc && rv == APR_SUCCESS; i++) {
        const char *match = apr_pstrdup(rd->pool, matches.gl_pathv[i]);
        if (apr_stat(&info, match, APR_FINFO_TYPE, rd->pool) != APR_SUCCESS) {
            continue;
        }
        rv = info.filetype == APR_DIR ? include_directory(rd, match, errmsg)
                                      : read_file(rd, match, errmsg);
    }
    globfree(&matches);
    rd->depth--;
    return rv;
}

static orm_httpd_conf_t *target(reader_t *rd)
{
    return rd->in_vhost ? &rd->vhost_conf : rd->main_conf;
}

static void overlay(orm_httpd_conf_t *base, const orm_httpd_conf_t *over)
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
    orm_schema_merge(&merged, &base->schema, &over->schema);
    base->schema = merged;
}

static apr_status_t directive(reader_t *rd, int argc, char **argv,
                              const char *at, const char **errmsg)
{
    const char *name = argv[0];
    orm_httpd_conf_t *conf = target(rd);

    if (!strcasecmp(name, "<VirtualHost")) {
        if (rd->in_vhost) {
            *errmsg = apr_psprintf(rd->pool, "%s: <VirtualHost> inside "
                                   "<VirtualHost>", at);
            return APR_EINVAL;
        }
        rd->in_vhost = 1;
        rd->vhost_matches = 0;
        memset(&rd->vhost_conf, 0, sizeof(rd->vhost_conf));
    }
    else if (!strcasecmp(name, "</VirtualHost>")) {
        /* the first matching vhost is the one httpd would pick */
        if (rd->in_vhost && rd->vhost_matches
            && !rd->wanted_conf.vhost_found) {
            rd->wanted_conf = rd->vhost_conf;
            rd->wanted_conf.vhost_found = 1;
        }
        rd->in_vhost = 0;
    }
    else if (argc < 2) {
        return APR_SUCCESS;     /* nothing we read takes no argument */
    }
    else if (!strcasecmp(name, "ServerRoot") && !rd->in_vhost) {
        rd->server_root = argv[1];
    }
    else if (!strcasecmp(name, "Define")) {
        /* without a value it only serves <IfDefine>: ${NAME} stays */
        if (argc > 2) {
            apr_table_set(rd->defines, argv[1], argv[2]);
        }
    }
    else if (!strcasecmp(name, "Include")
             || !strcasecmp(name, "IncludeOptional")) {
        return include(rd, argv[1], !strcasecmp(name, "IncludeOptional"), at,
                       errmsg);
    }
    else if (rd->in_vhost && rd->wanted_vhost
             && (!strcasecmp(name, "ServerName")
                 || !strcasecmp(name, "ServerAlias"))) {
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
    else if (!strcasecmp(name, "DBDriver")) {
        conf->driver = argv[1];
    }
    else if (!strcasecmp(name, "DBDParams")) {
        conf->params = argv[1];
    }
    else if (!strcasecmp(name, "SessionORMTable")) {
        const char *err = orm_identifier_check(argv[1], ORM_TABLE_NAME_MAX);
        if (err) {
            *errmsg = apr_psprintf(rd->pool, "%s: SessionORMTable '%s' %s",
                                   at, argv[1], err);
            return APR_EINVAL;
        }
        conf->schema.table = argv[1];
    }
    else if (!strcasecmp(name, "SessionORMColumn") && argc != 3) {
        *errmsg = apr_psprintf(rd->pool, "%s: SessionORMColumn takes a "
                               "field and a column name", at);
        return APR_EINVAL;
    }
    else if (!strcasecmp(name, "SessionORMColumn")) {
        int field = orm_field_lookup(argv[1]);
        const char *err = orm_identifier_check(argv[2], ORM_COLUMN_NAME_MAX);
        if (field < 0 || err) {
            *errmsg = apr_psprintf(rd->pool, "%s: SessionORMColumn %s %s: %s",
                                   at, argv[1], argv[2],
                                   field < 0 ? "unknown field" : err);
            return APR_EINVAL;
        }
        conf->schema.columns[field] = argv[2];
    }
    else if (!strcasecmp(name, "SessionORMSweepBatch")) {
        conf->sweep_batch = atoi(argv[1]);
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

static apr_status_t read_file(reader_t *rd, const char *path,
                              const char **errmsg)
{
    apr_file_t *file;
    char buf[8192];
    char *logical = NULL;       /* a line with its continuations */
    int line = 0, first_line = 0;
    apr_status_t rv;

    rv = apr_file_open(&file, path, APR_FOPEN_READ | APR_FOPEN_BUFFERED,
                       APR_OS_DEFAULT, rd->pool);
    if (rv != APR_SUCCESS) {
        *errmsg = apr_psprintf(rd->pool, "cannot open '%s'", path);
        return rv;
    }
    while (apr_file_gets(buf, sizeof(buf), file) == APR_SUCCESS) {
        apr_size_t len = strlen(buf);
        char **argv = NULL;
        char *text;
        int argc = 0;

        line++;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
            buf[--len] = '\0';
        }
        if (logical == NULL) {
            first_line = line;
        }
        if (len > 0 && buf[len - 1] == '\\') {
            buf[len - 1] = '\0';
            logical = apr_pstrcat(rd->pool, logical ? logical : "", buf, NULL);
            continue;
        }
        text = apr_pstrcat(rd->pool, logical ? logical : "", buf, NULL);
        logical = NULL;
        while (apr_isspace(*text)) {
            text++;
        }
        if (*text == '\0' || *text == '#') {
            continue;
        }
        text = expand_variables(rd, text);
        argv = split_words(rd->pool, text, &argc);
        /* "<VirtualHost *:80>" tokenizes as "<VirtualHost" "*:80>" */
        if (argc > 0) {
            rv = directive(rd, argc, argv, where(rd, path, first_line),
                           errmsg);
            if (rv != APR_SUCCESS) {
                break;
            }
        }
    }
    apr_file_close(file);
    return rv;
}

apr_status_t orm_httpd_conf_read(apr_pool_t *pool, const char *path,
                                 const char *server_root, const char *vhost,
                                 orm_httpd_conf_t *conf, const char **errmsg)
{
    reader_t rd;
    apr_status_t rv;

    memset(&rd, 0, sizeof(rd));
    memset(conf, 0, sizeof(*conf));
    rd.pool = pool;
    rd.server_root = server_root;
    rd.wanted_vhost = vhost;
    rd.defines = apr_table_make(pool, 8);
    rd.main_conf = conf;
    *errmsg = NULL;
    if ((rv = read_file(&rd, path, errmsg)) != APR_SUCCESS) {
        return rv;
    }
    if (rd.wanted_conf.vhost_found) {
        overlay(conf, &rd.wanted_conf);
        conf->vhost_found = 1;
    }
    return APR_SUCCESS;
}
