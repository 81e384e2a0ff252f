#include <strings.h>

#include "apr_strings.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"

#include "orm_log.h"
#include "orm_conf.h"
#include "orm_auth.h"
#include "orm_provider.h"

#define ORM_AUTH_TYPE "session-orm"

int orm_check_authn(request_rec *r)
{
    const char *type = ap_auth_type(r);
    const orm_dir_conf_t *dconf;
    const char *key, *user;

    if (type == NULL || strcasecmp(type, ORM_AUTH_TYPE)) {
        return DECLINED;
    }
    dconf = ap_get_module_config(r->per_dir_config, &session_orm_module);
    key = orm_dir_user_key(dconf);
    if ((user = orm_session_value(r, key)) == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ORM_LOGNO(0223)
                      "AuthType " ORM_AUTH_TYPE ": the session has no '%s' "
                      "(no login): 401", key);
        return HTTP_UNAUTHORIZED;
    }
    r->user = apr_pstrdup(r->pool, user);
    r->ap_auth_type = (char *)ORM_AUTH_TYPE;
    return OK;
}
