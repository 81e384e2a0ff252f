/**
 * Logging for the httpd side of the module: per-module LogLevel and our own
 * message IDs. Every ID is listed in the README's troubleshooting table and
 * is never reused for a different message.
 */
#ifndef ORM_LOG_H
#define ORM_LOG_H

#include "httpd.h"
#include "http_log.h"

APLOG_USE_MODULE(session_orm);

/* "ORM0105: " in front of the message text. */
#define ORM_LOGNO(n) "ORM" #n ": "

#endif
