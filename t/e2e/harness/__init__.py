"""End-to-end harness for mod_session_orm.

Starts the distribution httpd with a generated configuration, the database
servers (SQLite files, a private PostgreSQL 15 and a private MariaDB) inside
a temporary directory, and offers a small stdlib HTTP client.

Nothing here touches the system's own httpd, PostgreSQL or MariaDB
instances: every server listens on a free loopback port chosen at run time.

  common     paths, the httpd user, free ports, waiting, small helpers
  conf       what goes into httpd.conf, and the snippets tests share
  httpd      Httpd, HttpdFactory, Session (the probe module)
  databases  the database servers and a fresh database per test
  client     the HTTP client: http_request, Client, Response, SetCookie
  logs       the error log and the check of its lines (bad_log_lines)
  express    the Express app of t/e2e/express and its signed cookie
"""
