#!/bin/sh
# Protected page of the mod_session_orm demo: shows the logged-in user and
# counts the visits of this session.
#
# mod_session hands the session to CGI scripts in HTTP_SESSION
# (SessionEnv On) as url-encoded key=value pairs joined by '&'. The
# X-Replace-Session response header (SessionHeader) is merged back into the
# session; mod_session removes it before the response leaves the server and
# mod_session_orm writes the changed session to the database.

visits=$(printf '%s' "${HTTP_SESSION:-}" | tr '&' '\n' |
         sed -n 's/^visits=\([0-9]\{1,9\}\)$/\1/p' | head -n 1)
visits=$(( ${visits:-0} + 1 ))

html() {
    printf '%s' "$1" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g'
}

# SessionORMCookieRemove (On by default) strips the session cookie from the
# request before it reaches this script.
case "${HTTP_COOKIE:-}" in
    *demo_session=*) cookie_note="This script can see that cookie (SessionORMCookieRemove is Off)." ;;
    *)               cookie_note="This script never sees that cookie: SessionORMCookieRemove strips it from the request." ;;
esac

printf 'Content-Type: text/html; charset=utf-8\n'
printf 'Cache-Control: no-store\n'
printf 'X-Replace-Session: visits=%d\n' "$visits"
printf '\n'
cat <<HTML
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Protected page — mod_session_orm demo</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<h1>Hello, <span id="user">$(html "${REMOTE_USER:-?}")</span>!</h1>
<div class="box">
<p>Visits in this session: <span class="count" id="visits">$visits</span></p>
<p>Reload to count up. The count and your login are kept in the
<code>session</code> table of <code>demo/run/db/sessions.sqlite</code>; the
browser only holds a random token in the <code>demo_session</code> cookie.
$cookie_note</p>
</div>
<p>Restart the server (<code>sudo ./scripts/quickstart</code> again) and
reload: you are still logged in and the count goes on.</p>
<p><a href="/logout">Log out</a> · <a href="/">Start page</a></p>
</body>
</html>
HTML
