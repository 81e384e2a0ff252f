"""Table and column names, schema creation, and configuration errors."""

import os
import re
import subprocess
import time

import pytest

from harness.common import pid_alive, project_version, sha256_hex
from harness.conf import orm_conf

RENAMED = {"id": "sid", "data": "payload", "expires_at": "exp_ms",
           "user_name": "uname", "created_at": "c_ms", "updated_at": "u_ms"}


def test_renamed_table_and_columns(httpd, db):
    server = "SessionORMTable my_sessions\n" + "\n".join(
        "SessionORMColumn %s %s" % kv for kv in RENAMED.items())
    srv = httpd.start(orm_conf(db, server=server))
    c = srv.client()
    c.get("/probe?op=set&key=a&value=renamed")
    assert db.has_table("my_sessions")
    assert not db.has_table("session")
    assert [x.lower() for x in db.columns("my_sessions")] == \
        list(RENAMED.values())
    idx = [i.lower() for i in db.indexes("my_sessions")]
    assert "my_sessions_expires_at_idx" in idx, idx
    assert "my_sessions_user_name_idx" in idx, idx
    rows = db.rows("my_sessions", "sid, payload, uname")
    assert len(rows) == 1
    assert rows[0][0] == sha256_hex(c.token)
    assert "renamed" in rows[0][1]
    assert rows[0][2] is None
    assert c.get("/probe?op=get&key=a").value("a") == "renamed"
    c.get("/probe?op=clear")
    assert db.count("my_sessions") == 0


def test_create_schema_off_without_table(httpd, db):
    srv = httpd.new(orm_conf(db, server="SessionORMCreateSchema Off"))
    # the session cannot be stored: an error with our message id, but the
    # request itself is served
    srv.expect_log(r"\[session_orm:error\].*ORM\d{4}:",
                   r"\[session:error\].*AH0181[0-9]|AH0182[0-2]")
    srv.start()
    c = srv.client()
    for _ in range(2):
        r = c.get("/probe?op=set&key=a&value=1")
        assert r.status == 200
        assert "set:a" in r.lines()
    assert srv.get("/probe?op=dump").status == 200
    assert re.search(r"\[session_orm:error\].*ORM\d{4}:", srv.log_text())
    assert not db.has_table("session"), "table created despite " \
                                        "SessionORMCreateSchema Off"


def test_create_schema_off_with_table(httpd, db):
    db.create_session_table()
    srv = httpd.start(orm_conf(db, server="SessionORMCreateSchema Off"))
    c = srv.client()
    c.get("/probe?op=set&key=a&value=1")
    assert c.get("/probe?op=get&key=a").value("a") == "1"
    assert db.rows(columns="id") == [(sha256_hex(c.token),)]
    c.get("/probe?op=set&key=a&value=2")
    assert c.get("/probe?op=get&key=a").value("a") == "2"
    c.get("/probe?op=clear")
    assert db.count() == 0


def test_create_schema_off_with_renamed_table(httpd, db):
    db.create_session_table("pre_made", cols=RENAMED)
    server = "SessionORMCreateSchema Off\nSessionORMTable pre_made\n" + \
        "\n".join("SessionORMColumn %s %s" % kv for kv in RENAMED.items())
    srv = httpd.start(orm_conf(db, server=server))
    c = srv.client()
    c.get("/probe?op=set&key=a&value=1")
    assert c.get("/probe?op=get&key=a").value("a") == "1"
    assert db.rows("pre_made", "sid") == [(sha256_hex(c.token),)]


BAD_CONFIGS = [
    # (server-scope directives, scope directives, texts the message must have)
    ("SessionORMTable bad-name", "", ["SessionORMTable", "bad-name"]),
    ("SessionORMTable 1session", "", ["SessionORMTable", "1session"]),
    ("SessionORMTable " + "t" * 49, "", ["SessionORMTable", "t" * 49]),
    ('SessionORMTable "x; DROP TABLE y"', "", ["SessionORMTable"]),
    ("SessionORMColumn data da-ta", "", ["SessionORMColumn", "da-ta"]),
    ("SessionORMColumn id " + "c" * 64, "", ["SessionORMColumn", "c" * 64]),
    ("SessionORMColumn nosuchfield x", "", ["SessionORMColumn",
                                            "nosuchfield"]),
    ("", "SessionORMCookieName orm Max-Age=10", ["Max-Age"]),
    ("", "SessionORMCookieName orm Path=/;max-age=10", ["Max-Age"]),
    ("", "SessionORMCookieName orm Expires=Wed", ["Expires"]),
    ("", 'SessionORMCookieName "bad name"', ["SessionORMCookieName"]),
    ("", "SessionORMCookieName orm SameSite=Sometimes", ["SameSite"]),
    ("", "SessionORMTTL 0", ["SessionORMTTL"]),
    ("", "SessionORMTTL soon", ["SessionORMTTL"]),
    ("", 'SessionORMTTL "expr=%{unclosed"', ["SessionORMTTL"]),
    ("", "SessionORMTouchInterval -1", ["SessionORMTouchInterval"]),
    ("SessionORMDialect odbc", "", ["SessionORMDialect"]),
    # another database's dialect through the native sqlite3 driver, in the
    # server or in a virtual host that inherits the driver
    ("SessionORMDialect pgsql", "",
     ["ORM0009", "SessionORMDialect 'pgsql' cannot work with DBDriver "
      "sqlite3, which reaches sqlite3 databases only"]),
    ("<VirtualHost 127.0.0.1:@PORT@>\n    ServerName dialect.test\n"
     "    SessionORMDialect MySQL\n</VirtualHost>", "",
     ["ORM0009", "'MySQL' cannot work with DBDriver sqlite3"]),
]


@pytest.mark.parametrize("server,scope,texts", BAD_CONFIGS,
                         ids=[str(i) for i in range(len(BAD_CONFIGS))])
def test_bad_config_is_rejected(httpd, sqlite_server, server, scope, texts):
    db = sqlite_server.new_database("badconf")
    if scope.startswith("SessionORMCookieName"):
        body = orm_conf(db, server=server, cookie=scope)
    else:
        body = orm_conf(db, server=server, scope=scope)
    srv = httpd.new(body)
    rc, out = srv.configtest()
    assert rc != 0, "apache2 -t accepted: %s %s\n%s" % (server, scope, out)
    for t in texts:
        assert t.lower() in out.lower(), \
            "message does not name %r:\n%s" % (t, out)
    # and the server does not start either
    rc, out, running = srv.start_fail()
    assert not running
    assert rc != 0


def test_good_names_at_the_limits_are_accepted(httpd, db):
    table = "t_" + "x" * 46                     # 48 characters
    col = "c" * 63
    server = "SessionORMTable %s\nSessionORMColumn data %s" % (table, col)
    srv = httpd.new(orm_conf(db, server=server))
    rc, out = srv.configtest()
    assert rc == 0, out
    srv.start()
    c = srv.client()
    c.get("/probe?op=set&key=a&value=1")
    assert c.get("/probe?op=get&key=a").value("a") == "1"
    assert col in [x.lower() for x in db.columns(table)]


def test_without_mod_dbd_startup_fails(httpd):
    body = """
Session On
SessionORMCookieName orm
<Location /probe>
    SetHandler session-probe
</Location>
"""
    srv = httpd.new(body, modules=("authz_core", "session", "probe", "orm"))
    srv.expect_log(r"mod_dbd", r"AH00016")
    # the configuration alone decides it: apache2 -t says so (issue 9, 7)
    rc, out = srv.configtest()
    assert rc != 0, "apache2 -t accepted it:\n" + out
    assert "ORM0001" in out and "mod_dbd" in out, out
    assert "Syntax OK" not in out, out
    rc, out, running = srv.start_fail()
    assert not running, "httpd started without mod_dbd"
    assert "mod_dbd" in out, out
    assert re.search(r"ORM\d{4}", out), out


def test_version_logged_once_per_configuration(httpd):
    """ORM0010 names the module and configure.ac's version at notice level:
    once at start-up (not for the pass whose configuration httpd throws
    away), once per restart, never from apache2 -t."""
    srv = httpd.new("", modules=("authz_core", "session", "dbd", "orm"))
    version_line = re.compile(
        r"\[session_orm:notice\] .*ORM0010: mod_session_orm/%s "
        r"\(apr-util \d+\.\d+\.\d+\) configured$"
        % re.escape(project_version()))

    def logged():
        return [l for l in srv.log_lines() if "ORM0010" in l]
    rc, out = srv.configtest()
    assert rc == 0 and "ORM0010" not in out, out
    assert logged() == []
    srv.start()
    assert len(logged()) == 1 and version_line.search(logged()[0]), \
        srv.log_text()
    srv.graceful()
    assert len(logged()) == 2 and version_line.search(logged()[1]), \
        srv.log_text()


def test_dbdriver_without_mod_dbd_warns(httpd):
    """DBDriver reaches our handler even when mod_dbd is not loaded (no
    session configured, so httpd starts): the admin is told why no
    database will be used."""
    body = """
DBDriver sqlite3
<Location /probe>
    SetHandler session-probe
</Location>
"""
    srv = httpd.new(body, modules=("authz_core", "session", "probe", "orm"))
    srv.expect_log(r"ORM0006")
    srv.start()
    assert srv.get("/probe?op=get&key=a").status == 200
    assert re.search(r"\[session_orm:warn\].*ORM0006: DBDriver is set but "
                     r"mod_dbd is not loaded", srv.log_text()), srv.log_text()


def test_mod_dbd_without_dbdriver_fails_clearly(httpd):
    """mod_dbd loaded but no DBDriver for the server: requests get an error
    logged with our id, never a crash."""
    body = """
Session On
SessionORMCookieName orm
<Location /probe>
    SetHandler session-probe
</Location>
"""
    srv = httpd.new(body)
    srv.expect_log(r"ORM\d{4}", r"\[dbd:", r"AH0181[0-9]|AH0182[0-2]",
                   r"DBDriver|mod_dbd")
    rc, out, running = srv.start_fail()
    if running:
        r = srv.get("/probe?op=set&key=a&value=1")
        assert r.status in (200, 500)
        assert re.search(r"ORM\d{4}", srv.log_text())
    else:
        assert re.search(r"ORM\d{4}|DBDriver", out), out


# ---- issue 9, item 7: what the configuration alone makes fail is refused
# by apache2 -t, and by apache2 -k graceful before it signals a running
# server. These are checks of the configuration, made before any database
# is opened: SQLite only.

# Two fields on one column: in one server, and by a vhost's
# SessionORMColumn merged with the main server's.
CLASH_SERVER = "SessionORMColumn data payload\nSessionORMColumn id payload"
CLASH_VHOST = """
SessionORMColumn data payload
<VirtualHost 127.0.0.1:@PORT@>
    ServerName clash.test
    SessionORMColumn id payload
</VirtualHost>
"""


@pytest.mark.parametrize("server", [CLASH_SERVER, CLASH_VHOST],
                         ids=["one_server", "vhost_merge"])
def test_column_clash_fails_configtest(httpd, sqlite_server, server):
    db = sqlite_server.new_database("clash")
    srv = httpd.new(orm_conf(db, server=server))
    srv.expect_log(r"ORM0002", r"AH0001[48]")
    rc, out = srv.configtest()
    assert rc != 0, "apache2 -t accepted it:\n" + out
    assert re.search(r"ORM0002: SessionORMColumn: fields id and data both "
                     r"map to column 'payload'", out), out
    assert "Syntax OK" not in out, out
    rc, out, running = srv.start_fail()
    assert not running and rc != 0
    assert "ORM0002" in out, out


# the DB directives only where mod_dbd is, as a2dismod dbd leaves them
NO_DBD_BODY = """
<IfModule mod_dbd.c>
%s
</IfModule>
Session On
SessionORMCookieName orm
<Location /probe>
    SetHandler session-probe
</Location>
"""


def _apache2ctl(srv, action):
    """Debian's apache2ctl on this instance's configuration (its run and
    lock directories inside the instance's, not /var/run)."""
    run = os.path.join(srv.dir, "run")
    env = dict(os.environ, APACHE_CONFDIR=srv.dir,
               APACHE_ENVVARS=os.path.join(srv.dir, "no-envvars"),
               APACHE_ARGUMENTS="-f " + srv.conf_path,
               APACHE_RUN_DIR=run, APACHE_LOCK_DIR=os.path.join(run, "lock"))
    res = subprocess.run(["apache2ctl", action], env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True,
                         timeout=60)
    return res.returncode, res.stdout


@pytest.mark.parametrize("change", ["column_clash", "no_mod_dbd"])
@pytest.mark.parametrize("how", ["apache2", "apache2ctl"])
def test_graceful_with_bad_change_keeps_server_up(httpd, sqlite_server,
                                                  change, how):
    """A graceful restart into a configuration our checks refuse is refused
    by the process asked to send it; the running server keeps serving its
    sessions. (A SIGUSR1 sent by hand still ends httpd, and apache2 -k stop
    refuses to read such a file, as with any broken configuration: httpd's
    own behaviour.)"""
    db = sqlite_server.new_database("graceful_bad")
    srv = httpd.start(NO_DBD_BODY % db.dbd_conf())
    good_body, good_modules = srv.body, list(srv.modules)
    c = srv.client()
    c.get("/probe?op=set&key=a&value=kept")
    pid = srv.pid or srv._read_pid()
    generations = srv.log_text().count("resuming normal operations")

    if change == "column_clash":
        srv.body += "\n" + CLASH_VHOST
        expected = "ORM0002"
    else:
        srv.modules.remove("dbd")
        expected = "ORM0001"
    srv.write_config()
    srv.expect_log(expected, r"AH0001[48]")
    try:
        if how == "apache2":
            rc, out = srv._ctl("-k", "graceful")
        else:
            rc, out = _apache2ctl(srv, "graceful")
        out += srv.log_text()
        assert rc != 0, "graceful into a refused configuration succeeded"
        assert expected in out, out

        time.sleep(2)               # what a restart would take
        assert pid_alive(pid), "the running server went down:\n" + out
        assert "AH00020" not in out and "AH00018" not in out, out
        assert srv.log_text().count("resuming normal operations") == \
            generations, "a restart happened"
        assert c.get("/probe?op=get&key=a").value("a") == "kept"
    finally:
        # the fixed file, as the admin would write it: graceful works again
        srv.body, srv.modules = good_body, good_modules
        srv.write_config()
    srv.graceful()
    assert c.get("/probe?op=get&key=a").value("a") == "kept"
