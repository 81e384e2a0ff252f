/*
 * mod_session_probe: a test-only handler that drives mod_session's public
 * optional functions from the query string, so that the end-to-end tests
 * (t/e2e) can read and write session entries without a CGI or scripting
 * module. It is built by `make check` and never installed.
 *
 *   LoadModule session_probe_module t/modules/.libs/mod_session_probe.so
 *   <Location /probe>
 *       SetHandler session-probe
 *   </Location>
 *
 * Query string (application/x-www-form-urlencoded, processed in order):
 *   op=get&key=K[&key=K2...]       prints "K=value" or "K=(null)"
 *   op=set&key=K&value=V[&key=..&value=..]   sets each pair
 *   op=unset&key=K[&key=K2...]     removes the keys
 *   op=clear                       removes every entry (marks dirty)
 *   op=dump                        prints every entry "k=v", one per line
 *                                  (not mod_session's internal "expiry")
 *   op=big&key=K&size=N            sets K to N bytes of 'x'
 *   op=headers                     prints "cookie=<incoming Cookie header>"
 *   op=subreq&uri=U[&key=K...]     runs a subrequest for U (its output
 *                                  comes first), then prints
 *                                  "subreq_status=N" and "main:K=value"
 *                                  for each key
 *   op=redirect&uri=U[&key=K&value=V...]
 *                                  sets the pairs, then internal redirect
 *                                  to U
 *   ...&status=N[&location=L]      after the operation, answer with status
 *                                  N (and a Location header) instead of
 *                                  the text
 *   ...&sleep=MS                   after loading the session, wait MS
 *                                  milliseconds (at most 60000) before the
 *                                  operation, so that concurrent requests
 *                                  all load before any of them saves (not
 *                                  for op=redirect)
 *   ...&presleep=MS                wait MS milliseconds (at most 60000)
 *                                  before mod_session loads the session
 *                                  (in post_read_request, for any URL),
 *                                  so that a request sent before another
 *                                  one's login loads its session after it
 *   op=none                        touches nothing
 *
 * The handler's own output starts with "user=<r->user or ->" and
 * "session=on|off"; Content-Type is text/plain.
 *
 * Licensed under the Apache License, Version 2.0 (see LICENSE).
 */

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_optional.h"
#include "apr_strings.h"
#include "apr_tables.h"
#include "mod_session.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define PROBE_HANDLER "session-probe"
#define PROBE_MAX_BIG (16 * 1024 * 1024)
#define PROBE_MAX_SLEEP_MS 60000

module AP_MODULE_DECLARE_DATA session_probe_module;

static APR_OPTIONAL_FN_TYPE(ap_session_load) *probe_session_load = NULL;
static APR_OPTIONAL_FN_TYPE(ap_session_get) *probe_session_get = NULL;
static APR_OPTIONAL_FN_TYPE(ap_session_set) *probe_session_set = NULL;

/**
 * Output is collected and written only after every session operation is
 * done: the first bytes that reach mod_session's output filter make it save
 * the session, so writing early would save it before a later change.
 */
typedef struct {
    request_rec *r;
    apr_array_header_t *chunks;     /* const char * */
} probe_out_t;

#if defined(__GNUC__)
static void probe_printf(probe_out_t *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#endif

static void probe_printf(probe_out_t *out, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    *(const char **)apr_array_push(out->chunks) =
        apr_pvsprintf(out->r->pool, fmt, ap);
    va_end(ap);
}

static void probe_flush(probe_out_t *out)
{
    const char **c = (const char **)out->chunks->elts;
    int i;

    for (i = 0; i < out->chunks->nelts; i++) {
        ap_rputs(c[i], out->r);
    }
    apr_array_clear(out->chunks);
}

/** One decoded name=value pair of the query string. */
typedef struct {
    const char *name;
    const char *value;
} probe_arg_t;

/**
 * Split and decode the query string into an ordered array of pairs.
 */
static apr_array_header_t *probe_parse_args(request_rec *r)
{
    apr_array_header_t *args = apr_array_make(r->pool, 8, sizeof(probe_arg_t));
    char *query, *pair, *last = NULL;

    if (!r->args || !*r->args) {
        return args;
    }
    query = apr_pstrdup(r->pool, r->args);
    for (pair = apr_strtok(query, "&", &last); pair;
         pair = apr_strtok(NULL, "&", &last)) {
        probe_arg_t *arg;
        char *eq = strchr(pair, '=');
        char *value = "";

        if (eq) {
            *eq = '\0';
            value = eq + 1;
        }
        ap_unescape_urlencoded(pair);
        ap_unescape_urlencoded(value);
        arg = apr_array_push(args);
        arg->name = pair;
        arg->value = value;
    }
    return args;
}

/**
 * The first value of a named argument, or NULL.
 */
static const char *probe_arg(apr_array_header_t *args, const char *name)
{
    const probe_arg_t *a = (const probe_arg_t *)args->elts;
    int i;

    for (i = 0; i < args->nelts; i++) {
        if (!strcmp(a[i].name, name)) {
            return a[i].value;
        }
    }
    return NULL;
}

static int probe_dump_entry(void *rec, const char *key, const char *value)
{
    probe_out_t *out = rec;

    if (strcmp(key, "expiry")) {
        probe_printf(out, "%s=%s\n", key, value);
    }
    return 1;
}

static void probe_print_get(probe_out_t *out, const char *prefix,
                            const char *key)
{
    const char *value = NULL;

    probe_session_get(out->r, NULL, key, &value);
    probe_printf(out, "%s%s=%s\n", prefix, key, value ? value : "(null)");
}

/**
 * Set every key=K&value=V pair of the query string, in order.
 */
static void probe_set_pairs(probe_out_t *out, apr_array_header_t *args)
{
    const probe_arg_t *a = (const probe_arg_t *)args->elts;
    const char *key = NULL;
    int i;

    for (i = 0; i < args->nelts; i++) {
        if (!strcmp(a[i].name, "key")) {
            key = a[i].value;
        }
        else if (!strcmp(a[i].name, "value") && key) {
            probe_session_set(out->r, NULL, key, a[i].value);
            probe_printf(out, "set:%s\n", key);
            key = NULL;
        }
    }
}

static int probe_subreq(probe_out_t *out, apr_array_header_t *args)
{
    request_rec *r = out->r;
    const probe_arg_t *a = (const probe_arg_t *)args->elts;
    const char *uri = probe_arg(args, "uri");
    request_rec *rr;
    int status, i;

    if (!uri) {
        probe_printf(out, "error=missing uri\n");
        return OK;
    }
    /* the subrequest writes straight into our output, before our own lines
     * (which are held back so that the session is saved after its changes) */
    rr = ap_sub_req_lookup_uri(uri, r, r->output_filters);
    status = rr->status;
    if (status == HTTP_OK) {
        int rc = ap_run_sub_req(rr);

        status = (rc == OK) ? rr->status : rc;
    }
    ap_destroy_sub_req(rr);
    probe_printf(out, "subreq_status=%d\n", status);
    for (i = 0; i < args->nelts; i++) {
        if (!strcmp(a[i].name, "key")) {
            probe_print_get(out, "main:", a[i].value);
        }
    }
    return OK;
}

static int probe_handler(request_rec *r)
{
    apr_array_header_t *args;
    const probe_arg_t *a;
    const char *op, *status, *sleep_ms;
    session_rec *z = NULL;
    probe_out_t out;
    int i, rv = OK;

    if (!r->handler || strcmp(r->handler, PROBE_HANDLER)) {
        return DECLINED;
    }
    if (!probe_session_load || !probe_session_get || !probe_session_set) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "session-probe: mod_session is not loaded");
        return HTTP_INTERNAL_SERVER_ERROR;
    }

    out.r = r;
    out.chunks = apr_array_make(r->pool, 16, sizeof(const char *));
    args = probe_parse_args(r);
    a = (const probe_arg_t *)args->elts;
    op = probe_arg(args, "op");
    if (!op) {
        op = "dump";
    }

    if (!strcmp(op, "redirect")) {
        const char *uri = probe_arg(args, "uri");

        if (!uri) {
            return HTTP_BAD_REQUEST;
        }
        probe_set_pairs(&out, args);
        ap_internal_redirect(uri, r);
        return OK;
    }

    ap_set_content_type(r, "text/plain");
    probe_session_load(r, &z);
    probe_printf(&out, "user=%s\n", r->user ? r->user : "-");
    probe_printf(&out, "session=%s\n", z ? "on" : "off");

    sleep_ms = probe_arg(args, "sleep");
    if (sleep_ms) {
        apr_int64_t ms = apr_atoi64(sleep_ms);

        if (ms < 0 || ms > PROBE_MAX_SLEEP_MS) {
            return HTTP_BAD_REQUEST;
        }
        /* loaded above; the save comes only after the operation */
        apr_sleep(apr_time_from_msec(ms));
    }

    if (!strcmp(op, "get")) {
        for (i = 0; i < args->nelts; i++) {
            if (!strcmp(a[i].name, "key")) {
                probe_print_get(&out, "", a[i].value);
            }
        }
    }
    else if (!strcmp(op, "set")) {
        probe_set_pairs(&out, args);
    }
    else if (!strcmp(op, "unset")) {
        for (i = 0; i < args->nelts; i++) {
            if (!strcmp(a[i].name, "key")) {
                probe_session_set(r, NULL, a[i].value, NULL);
                probe_printf(&out, "unset:%s\n", a[i].value);
            }
        }
    }
    else if (!strcmp(op, "clear")) {
        if (z) {
            apr_table_clear(z->entries);
            z->dirty = 1;
        }
        probe_printf(&out, "cleared\n");
    }
    else if (!strcmp(op, "dump")) {
        if (z && z->entries) {
            apr_table_do(probe_dump_entry, &out, z->entries, NULL);
        }
    }
    else if (!strcmp(op, "big")) {
        const char *key = probe_arg(args, "key");
        const char *size = probe_arg(args, "size");
        apr_int64_t n = size ? apr_atoi64(size) : 0;
        char *buf;

        if (!key || n < 0 || n > PROBE_MAX_BIG) {
            return HTTP_BAD_REQUEST;
        }
        buf = apr_palloc(r->pool, (apr_size_t)n + 1);
        memset(buf, 'x', (apr_size_t)n);
        buf[n] = '\0';
        probe_session_set(r, NULL, key, buf);
        probe_printf(&out, "big:%s=%" APR_INT64_T_FMT "\n", key, n);
    }
    else if (!strcmp(op, "headers")) {
        const char *cookie = apr_table_get(r->headers_in, "Cookie");

        probe_printf(&out, "cookie=%s\n", cookie ? cookie : "(null)");
    }
    else if (!strcmp(op, "subreq")) {
        rv = probe_subreq(&out, args);
    }
    else if (strcmp(op, "none")) {
        probe_printf(&out, "error=unknown op %s\n", op);
    }
    status = probe_arg(args, "status");
    if (status && rv == OK) {
        /* answer with this status instead (an error/redirect response) */
        const char *location = probe_arg(args, "location");

        if (location) {
            apr_table_setn(r->headers_out, "Location", location);
        }
        return atoi(status);
    }
    if (!r->header_only) {
        probe_flush(&out);
    }
    return rv;
}

/* presleep=MS anywhere in the query string: hold the request before any
 * module has looked at its session (mod_session loads in fixups). */
static int probe_presleep(request_rec *r)
{
    const char *arg = r->args ? strstr(r->args, "presleep=") : NULL;
    apr_int64_t ms;

    if (arg == NULL || (arg != r->args && arg[-1] != '&')) {
        return DECLINED;
    }
    ms = apr_atoi64(arg + sizeof("presleep=") - 1);
    if (ms > 0 && ms <= PROBE_MAX_SLEEP_MS) {
        apr_sleep(apr_time_from_msec(ms));
    }
    return DECLINED;
}

static int probe_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    (void)s;
    probe_session_load = APR_RETRIEVE_OPTIONAL_FN(ap_session_load);
    probe_session_get = APR_RETRIEVE_OPTIONAL_FN(ap_session_get);
    probe_session_set = APR_RETRIEVE_OPTIONAL_FN(ap_session_set);
    return OK;
}

static void probe_register_hooks(apr_pool_t *p)
{
    (void)p;
    /* optional functions are only resolvable once every module is loaded */
    ap_hook_post_config(probe_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* presleep: before mod_session's fixups load the session */
    ap_hook_post_read_request(probe_presleep, NULL, NULL, APR_HOOK_MIDDLE);
    /* the probe itself */
    ap_hook_handler(probe_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(session_probe) = {
    STANDARD20_MODULE_STUFF,
    NULL,                       /* per-directory config creator */
    NULL,                       /* per-directory config merger */
    NULL,                       /* server config creator */
    NULL,                       /* server config merger */
    NULL,                       /* command table */
    probe_register_hooks,       /* hook registration */
#if defined(AP_MODULE_HAS_FLAGS)
    AP_MODULE_FLAG_NONE         /* flags */
#endif
};
