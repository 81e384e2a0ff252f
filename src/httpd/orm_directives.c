#include "apr_strings.h"
#include "apr_optional.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "ap_expr.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

#include "orm_log.h"
#include "orm_conf.h"
#include "orm_cookie.h"
#include "orm_schema.h"
#include "orm_integer.h"
#include "orm_ttl.h"
#include "orm_directives.h"
#include "orm_sql.h"
#include "orm_cache.h"

void *orm_create_dir_config(apr_pool_t *pool, char *dir)
{
    (void)dir;

    return orm_dir_conf_create(pool);
}

void *orm_merge_dir_config(apr_pool_t *pool, void *parent, void *child)
{
    return orm_dir_conf_merge(pool, parent, child);
}

void *orm_create_server_config(apr_pool_t *pool, server_rec *s)
{
    (void)s;

    return orm_server_conf_create(pool);
}

void *orm_merge_server_config(apr_pool_t *pool, void *parent, void *child)
{
    return orm_server_conf_merge(pool, parent, child);
}

static orm_server_conf_t *server_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config,
                                &session_orm_module);
}

/* Remembers that this server keys sessions with us somewhere, so that
 * check_config can insist on mod_dbd. .htaccess files are read per request
 * and must not write to the server's record. */
static void note_sessions_configured(cmd_parms *cmd)
{
    if (cmd->pool == cmd->server->process->pconf) {
        server_conf(cmd)->sessions_configured = 1;
    }
}

/* "SessionORMTTL: <what is wrong>", so the admin sees which directive. */
static const char *directive_error(cmd_parms *cmd, const char *message)
{
    return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", message, NULL);
}

const char *orm_cmd_cookie_name(cmd_parms *cmd, void *dconf, int argc,
                                char *const argv[])
{
    orm_dir_conf_t *conf = dconf;
    orm_cookie_attrs_t attrs;
    const char *err;
    int i;

    if (argc < 1) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           " needs a cookie name", NULL);
    }
    if ((err = orm_cookie_name_check(argv[0]))) {
        return directive_error(cmd, apr_psprintf(cmd->pool, "'%s': %s",
                                                 argv[0], err));
    }
    orm_cookie_attrs_init(&attrs);
    for (i = 1; i < argc; i++) {
        if ((err = orm_cookie_attrs_parse(cmd->pool, argv[i], &attrs))) {
            return directive_error(cmd, err);
        }
    }
    if (attrs.version_ignored) {
        /* the error log is not open yet: this reaches the console */
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, cmd->server,
                     ORM_LOGNO(0011) "%s: the cookie attribute Version is "
                     "ignored (an RFC 2109 leftover browsers ignore), in "
                     "%s line %d", cmd->cmd->name,
                     cmd->directive->filename, cmd->directive->line_num);
    }
    conf->cookie_name = argv[0];
    conf->cookie_attrs = attrs;
    note_sessions_configured(cmd);
    return NULL;
}

const char *orm_cmd_per_user(cmd_parms *cmd, void *dconf, int on)
{
    ((orm_dir_conf_t *)dconf)->per_user = on;
    if (on) {
        note_sessions_configured(cmd);
    }
    return NULL;
}

const char *orm_cmd_cookie_remove(cmd_parms *cmd, void *dconf, int on)
{
    (void)cmd;

    ((orm_dir_conf_t *)dconf)->cookie_remove = on;
    return NULL;
}

const char *orm_cmd_ttl(cmd_parms *cmd, void *dconf, const char *arg)
{
    orm_dir_conf_t *conf = dconf;
    const char *err = NULL;

    if (!strncasecmp(arg, "expr=", 5)) {
        ap_expr_info_t *expr = ap_expr_parse_cmd(cmd, arg + 5,
                                                 AP_EXPR_FLAG_STRING_RESULT,
                                                 &err, NULL);
        if (err) {
            return directive_error(cmd, apr_psprintf(cmd->pool,
                                   "cannot parse expression '%s': %s",
                                   arg + 5, err));
        }
        conf->ttl_expr = expr;
        conf->ttl_seconds = ORM_UNSET;
        return NULL;
    }
    if ((err = orm_integer_parse(cmd->pool, arg, 1, ORM_MAX_SECONDS,
                                 "seconds", &conf->ttl_seconds))) {
        return directive_error(cmd, apr_pstrcat(cmd->pool, err,
                                                " (or use \"expr=...\")",
                                                NULL));
    }
    conf->ttl_expr = NULL;
    return NULL;
}

const char *orm_cmd_touch_interval(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    orm_dir_conf_t *conf = dconf;
    const char *err = orm_integer_parse(cmd->pool, arg, 0, ORM_MAX_SECONDS,
                                        "seconds", &conf->touch_seconds);

    return err ? directive_error(cmd, err) : NULL;
}

const char *orm_cmd_table(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *err = orm_schema_set_table(cmd->pool,
                                           &server_conf(cmd)->schema, arg);
    (void)dconf;

    return err ? directive_error(cmd, err) : NULL;
}

const char *orm_cmd_format(cmd_parms *cmd, void *dconf, const char *arg)
{
    orm_format_e format;
    (void)dconf;

    if (!orm_format_by_name(arg, &format)) {
        return directive_error(cmd, apr_psprintf(cmd->pool, "'%s' is no "
                                                 "format: native (the "
                                                 "default) or express", arg));
    }
    server_conf(cmd)->schema.format = format;
    return NULL;
}

/* One SessionORMSecret argument: the secret, or with "exec:" the first
 * line a program prints (as SessionCryptoPassphrase takes it), so that the
 * secret need not sit in the configuration. */
static const char *read_secret(cmd_parms *cmd, const char *arg,
                               const char **secret)
{
    char **argv = NULL;

    *secret = arg;
    if (!strncasecmp(arg, "exec:", 5)) {
        if (apr_tokenize_to_argv(arg + 5, &argv, cmd->temp_pool)
            != APR_SUCCESS || argv[0] == NULL) {
            return apr_psprintf(cmd->pool, "'%s' names no program", arg);
        }
        *secret = ap_get_exec_line(cmd->pool, argv[0],
                                   (const char *const *)argv);
        if (*secret == NULL) {
            return apr_psprintf(cmd->pool, "running '%s' gave no secret",
                                arg + 5);
        }
    }
    if (**secret == '\0') {
        return apr_psprintf(cmd->pool, "'%s' gives an empty secret", arg);
    }
    return NULL;
}

const char *orm_cmd_secret(cmd_parms *cmd, void *dconf, int argc,
                           char *const argv[])
{
    apr_array_header_t *secrets;
    int i;
    (void)dconf;

    if (argc == 0) {
        return directive_error(cmd, "at least one secret");
    }
    secrets = apr_array_make(cmd->pool, argc, sizeof(const char *));
    for (i = 0; i < argc; i++) {
        const char *err = read_secret(cmd, argv[i],
                                      apr_array_push(secrets));
        if (err) {
            return directive_error(cmd, err);
        }
    }
    server_conf(cmd)->secrets = secrets;
    return NULL;
}

const char *orm_cmd_user_key(cmd_parms *cmd, void *dconf, const char *arg)
{
    orm_dir_conf_t *conf = dconf;

    if (*arg == '\0' || arg[0] == '.' || arg[strlen(arg) - 1] == '.'
        || strstr(arg, "..")) {
        return directive_error(cmd, apr_psprintf(cmd->pool, "'%s' is no "
                                                 "session key or dotted "
                                                 "path", arg));
    }
    conf->user_key = arg;
    return NULL;
}

const char *orm_cmd_column(cmd_parms *cmd, void *dconf, const char *field,
                           const char *name)
{
    const char *err = orm_schema_set_column(cmd->pool,
                                            &server_conf(cmd)->schema, field,
                                            name);
    (void)dconf;

    return err ? directive_error(cmd, err) : NULL;
}

const char *orm_cmd_create_schema(cmd_parms *cmd, void *dconf, int on)
{
    (void)dconf;

    server_conf(cmd)->create_schema = on;
    return NULL;
}

const char *orm_cmd_dialect(cmd_parms *cmd, void *dconf, const char *arg)
{
    int dialect;

    (void)dconf;
    if (!orm_dialect_choice(arg, &dialect)) {
        return directive_error(cmd, apr_psprintf(cmd->pool, "'%s' is none "
                                                 "of " ORM_DIALECT_CHOICES,
                                                 arg));
    }
    server_conf(cmd)->dialect = dialect < 0 ? "auto"
                                : orm_dialect_name((orm_dialect_e)dialect);
    return NULL;
}

const char *orm_cmd_sweep_interval(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    const char *err = orm_integer_parse(cmd->pool, arg, 0, ORM_MAX_SECONDS,
                                        "seconds",
                                        &server_conf(cmd)->sweep_seconds);
    (void)dconf;

    return err ? directive_error(cmd, err) : NULL;
}

const char *orm_cmd_sweep_batch(cmd_parms *cmd, void *dconf, const char *arg)
{
    apr_int64_t batch;
    const char *err = orm_integer_parse(cmd->pool, arg, 1,
                                        ORM_MAX_SWEEP_BATCH, "rows", &batch);
    (void)dconf;

    if (err) {
        return directive_error(cmd, apr_psprintf(cmd->pool, "'%s' is not a "
                                                 "row count from 1 to %d",
                                                 arg, ORM_MAX_SWEEP_BATCH));
    }
    server_conf(cmd)->sweep_batch = (int)batch;
    return NULL;
}

const char *orm_cmd_on_error(cmd_parms *cmd, void *dconf, const char *arg)
{
    orm_dir_conf_t *conf = dconf;

    if (!strcasecmp(arg, "anonymous")) {
        conf->on_error = ORM_ON_ERROR_ANONYMOUS;
    }
    else if (!strcasecmp(arg, "fail")) {
        conf->on_error = ORM_ON_ERROR_FAIL;
    }
    else {
        return directive_error(cmd, apr_psprintf(cmd->pool, "'%s' is "
                                                 "neither anonymous nor fail",
                                                 arg));
    }
    return NULL;
}

const char *orm_cmd_max_size(cmd_parms *cmd, void *dconf, const char *arg)
{
    orm_dir_conf_t *conf = dconf;
    const char *err = orm_integer_parse(cmd->pool, arg, 0, APR_INT32_MAX,
                                        "bytes", &conf->max_size);

    return err ? directive_error(cmd, apr_psprintf(cmd->pool, "'%s' is not "
                                                   "a size in bytes (0 = no "
                                                   "limit)", arg))
               : NULL;
}

const char *orm_cmd_rotate_grace(cmd_parms *cmd, void *dconf,
                                 const char *arg)
{
    orm_dir_conf_t *conf = dconf;
    const char *err = orm_integer_parse(cmd->pool, arg, 0, 3600,
                                        "seconds", &conf->grace_seconds);

    return err ? directive_error(cmd, err) : NULL;
}

const char *orm_cmd_retry_after(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *err = orm_integer_parse(cmd->pool, arg, 1, 3600, "seconds",
                                        &server_conf(cmd)->retry_seconds);
    (void)dconf;

    return err ? directive_error(cmd, err) : NULL;
}

const char *orm_cmd_timeout(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *err = orm_integer_parse(cmd->pool, arg, 1,
                                        ORM_MAX_TIMEOUT_SECONDS, "seconds",
                                        &server_conf(cmd)->timeout_seconds);
    (void)dconf;

    return err ? directive_error(cmd, err) : NULL;
}

/* The cache is one for the whole httpd: a virtual host's own would miss
 * the writes made through another that reaches the same table. */
static const char *main_server_only(cmd_parms *cmd)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    return err ? apr_pstrcat(cmd->pool, err, " (the cache is one for all "
                             "virtual hosts)", NULL)
               : NULL;
}

const char *orm_cmd_cache(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *err = main_server_only(cmd);
    (void)dconf;

    if (err) {
        return err;             /* names the directive */
    }
    if (!strcasecmp(arg, "off")) {
        server_conf(cmd)->cache_file = "";
        return NULL;
    }
    /* the admin tool, run outside httpd, opens the same file: a path
     * relative to a ServerRoot it may not know would be another file */
    if (!ap_os_is_path_absolute(cmd->pool, arg)) {
        return directive_error(cmd, apr_psprintf(cmd->pool, "'%s' is "
                                                 "neither Off nor an "
                                                 "absolute path (the admin "
                                                 "tool opens the same "
                                                 "file)", arg));
    }
    server_conf(cmd)->cache_file = arg;
    return NULL;
}

const char *orm_cmd_cache_seconds(cmd_parms *cmd, void *dconf,
                                  const char *arg)
{
    const char *err = main_server_only(cmd);
    (void)dconf;

    if (err) {
        return err;
    }
    err = orm_integer_parse(cmd->pool, arg, 1, ORM_CACHE_MAX_SECONDS,
                            "seconds", &server_conf(cmd)->cache_seconds);
    return err ? directive_error(cmd, err) : NULL;
}

const char *orm_cmd_cache_entries(cmd_parms *cmd, void *dconf,
                                  const char *arg)
{
    apr_int64_t entries;
    const char *err = main_server_only(cmd);
    (void)dconf;

    if (err) {
        return err;
    }
    if (orm_integer_parse(cmd->pool, arg, ORM_CACHE_MIN_ENTRIES,
                          ORM_CACHE_MAX_ENTRIES, "sessions", &entries)) {
        return directive_error(cmd, apr_psprintf(cmd->pool, "'%s' is not a "
                                                 "number of sessions from "
                                                 "%d to %d", arg,
                                                 ORM_CACHE_MIN_ENTRIES,
                                                 ORM_CACHE_MAX_ENTRIES));
    }
    server_conf(cmd)->cache_entries = (int)entries;
    return NULL;
}

const char *orm_cmd_cache_max_size(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    const char *err = main_server_only(cmd);
    (void)dconf;

    if (err) {
        return err;
    }
    if (orm_integer_parse(cmd->pool, arg, ORM_CACHE_MIN_DATA,
                          ORM_CACHE_MAX_DATA, "bytes",
                          &server_conf(cmd)->cache_max_size)) {
        return directive_error(cmd, apr_psprintf(cmd->pool, "'%s' is not a "
                                                 "size in bytes from %d to "
                                                 "%d", arg,
                                                 ORM_CACHE_MIN_DATA,
                                                 ORM_CACHE_MAX_DATA));
    }
    return NULL;
}

const char *orm_cmd_note_dbd(cmd_parms *cmd, void *dconf, const char *arg)
{
    char *record = (char *)server_conf(cmd);
    (void)dconf;

    *(const char **)(record + (apr_size_t)cmd->info) =
        apr_pstrdup(cmd->pool, arg);
    return NULL;                /* mod_dbd's own handler runs as well */
}

/* Runs after every server's record is merged and before "Syntax OK", so
 * that apache2 -t and the process sending -k graceful refuse what the
 * configuration alone makes fail: a running server is never handed it.
 * The error log is not open yet: messages go to the console (the journal
 * under systemd), as httpd's own configuration errors do. */
int orm_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                     server_rec *s)
{
    int have_dbd = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire) != NULL;
    server_rec *sp;
    (void)pconf;
    (void)plog;

    for (sp = s; sp; sp = sp->next) {
        orm_server_conf_t *sconf = ap_get_module_config(sp->module_config,
                                                        &session_orm_module);
        const char *err;

        if (sconf->sessions_configured && !have_dbd) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp, ORM_LOGNO(0001)
                         "mod_session_orm keeps sessions in a database "
                         "through mod_dbd, which is not loaded: add "
                         "'LoadModule dbd_module modules/mod_dbd.so' (on "
                         "Debian: a2enmod dbd)");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if ((err = orm_schema_check_distinct(ptemp, &sconf->schema))) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp, ORM_LOGNO(0002)
                         "SessionORMColumn: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if ((err = orm_dialect_conflict(ptemp, sconf->dialect,
                                        sconf->dbd_driver))) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp, ORM_LOGNO(0009)
                         "SessionORMDialect %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (sp == s && orm_server_cache_file(sconf)
            && orm_cache_bytes(orm_server_cache_entries(sconf),
                               (apr_size_t)orm_server_cache_max_size(sconf))
               > ORM_CACHE_MAX_BYTES) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp, ORM_LOGNO(0014)
                         "SessionORMCacheEntries %d of up to "
                         "SessionORMCacheMaxSize %" APR_INT64_T_FMT " bytes "
                         "would take %" APR_UINT64_T_FMT " MB of shared "
                         "memory, over the %" APR_UINT64_T_FMT " MB the "
                         "cache may take: lower either",
                         orm_server_cache_entries(sconf),
                         orm_server_cache_max_size(sconf),
                         orm_cache_bytes(orm_server_cache_entries(sconf),
                                         (apr_size_t)
                                         orm_server_cache_max_size(sconf))
                         >> 20, ORM_CACHE_MAX_BYTES >> 20);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (orm_schema_format(&sconf->schema) == ORM_FORMAT_EXPRESS
            && sconf->secrets == NULL) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp, ORM_LOGNO(0012)
                         "SessionORMFormat express needs SessionORMSecret: "
                         "the secret(s) the Express app signs its session "
                         "cookies with (express-session's secret option)");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}
