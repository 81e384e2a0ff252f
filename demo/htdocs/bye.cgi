#!/bin/sh
# Where /logout (mod_auth_form's form-logout-handler) sends the browser. The
# logout handler has already taken the user out of the session; this script
# empties what is left (the visit counter) through the X-Replace-Session
# header, so mod_session_orm deletes the session's row and expires the cookie.

printf 'Content-Type: text/html; charset=utf-8\n'
printf 'Cache-Control: no-store\n'
printf 'X-Replace-Session: visits=\n'
printf '\n'
cat <<'HTML'
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Logged out — mod_session_orm demo</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<h1>Logged out</h1>
<p>Your session is gone: its row was deleted from the database and the
browser was told to drop the cookie.</p>
<p><a href="/login.shtml">Log in again</a> · <a href="/">Start page</a></p>
</body>
</html>
HTML
