/**
 * AuthType session-orm: the user is who the session says (the key
 * SessionORMUserKey names), so that Require valid-user and Require user
 * protect static files, CGI and proxied applications with the login of
 * the application that wrote the session (an Express app in the express
 * format, mod_auth_form or any module that sets the key in the native
 * one). No password is stored or checked: the session is the credential.
 */
#ifndef ORM_AUTH_H
#define ORM_AUTH_H

#include "httpd.h"

/** check_authn: r->user from the session where AuthType is session-orm;
 *  401 when the session has no user. */
int orm_check_authn(request_rec *r);

#endif
