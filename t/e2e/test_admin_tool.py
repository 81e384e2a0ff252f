"""The admin tool session-orm: purge, stats, revoke, schema, --config and
its command-line errors (exit 0 done, 1 database error, 2 usage)."""

import datetime
import os
import re
import signal
import subprocess
import time

import pytest

from harness.common import (HTTPD_USER, IS_ROOT, builddir, chown_to, free_port,
                            make_dir, now_ms, project_version, sha256_hex,
                            sql_quote)
from harness.conf import AUTH_MODULES, COOKIE, make_htpasswd, orm_conf
from harness.databases import (MARIADB, PSQL, SERVER_CLASSES, SqliteDatabase,
                               backend_of, selected_dbs, selected_on,
                               server_of_kind)

TOOL = os.environ.get("ORM_SESSION_ORM") or os.path.join(builddir(),
                                                          "session-orm")
COLUMNS = ("id", "data", "expires_at", "user_name", "created_at",
           "updated_at")
HOUR = 3600 * 1000

# --------------------------------------------------------------------------
# helpers (local to this file)

def run_tool(*args, timeout=60, env=None, cwd=None):
    if not os.path.exists(TOOL):
        pytest.fail("%s is not built (make)" % TOOL, pytrace=False)
    return subprocess.run([TOOL] + [str(a) for a in args],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=timeout, env=env, cwd=cwd)


def driver_params(db):
    m = re.match(r'DBDriver (\S+)\nDBDParams "(.*)"$', db.dbd_conf(), re.S)
    assert m, db.dbd_conf()
    return m.group(1), m.group(2)


def conn(db):
    driver, params = driver_params(db)
    return ["--driver", driver, "--params", params]


def ok(res, pattern=None):
    """Assert exit 0 (and stdout matching pattern); returns the match."""
    assert res.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (
        res.returncode, res.stdout, res.stderr)
    if pattern is None:
        return None
    m = re.search(pattern, res.stdout, re.M)
    assert m, "stdout does not match %r:\n%s" % (pattern, res.stdout)
    return m


def insert_rows(db, rows, table="session", columns=COLUMNS):
    """rows: (id, expires_at_ms, user_name) tuples."""
    if not rows:
        return
    values = []
    for rid, exp, user in rows:
        values.append("(%s, 'k=v', %d, %s, %d, %d)" % (
            sql_quote(rid), exp, sql_quote(user), exp - HOUR, exp - HOUR))
    db.sql("INSERT INTO %s (%s) VALUES %s" % (table, ", ".join(columns),
                                              ", ".join(values)))


def make_rows(n_live, n_expired, prefix="r", user=None):
    now = now_ms()
    live = [("%s-live-%d" % (prefix, i), now + HOUR + i * 1000, user)
            for i in range(n_live)]
    expired = [("%s-exp-%d" % (prefix, i), now - HOUR - i * 1000, user)
               for i in range(n_expired)]
    return live, expired


def ids(db, table="session", id_col="id"):
    return sorted(r[0] for r in db.rows(table, id_col))


def snapshot(db, table="session"):
    return sorted(db.rows(table, ", ".join(COLUMNS)))


def stats_of(res):
    out = {}
    for line in res.stdout.splitlines():
        m = re.match(r"^(table size|oldest expiry|newest expiry|live|"
                     r"expired|table)\s+(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def iso(ms):
    return datetime.datetime.fromtimestamp(
        ms // 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def driver_name(db):
    return driver_params(db)[0]


def feed_cli(db, text):
    """Run SQL text through the database's own command-line client."""
    if db.backend == "sqlite":
        args = ["sqlite3", "-bail", db.path]
    elif db.backend == "pgsql":
        s = db.server
        args = [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", s.sock,
                "-p", str(s.port), "-U", s.user, "-d", db.name, "-f", "-"]
    else:
        args = [MARIADB, "--no-defaults", "-S", db.server.sock, "-u",
                "root", "-D", db.name]
    res = subprocess.run(args, input=text, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True)
    if db.backend == "sqlite":
        chown_to(db.path, HTTPD_USER)
    return res


# --------------------------------------------------------------------------
# purge


def test_purge_removes_exactly_the_expired_rows(db):
    db.create_session_table()
    live, expired = make_rows(5, 23)
    insert_rows(db, live + expired)
    res = run_tool(*conn(db), "purge")
    ok(res, r"^removed 23 expired sessions from session in [\d.]+ s")
    assert ids(db) == sorted(r[0] for r in live)
    # nothing left to do
    ok(run_tool(*conn(db), "purge"), r"^removed 0 expired sessions")
    assert ids(db) == sorted(r[0] for r in live)


def test_purge_dry_run_deletes_nothing(db):
    db.create_session_table()
    live, expired = make_rows(4, 17)
    insert_rows(db, live + expired)
    before = snapshot(db)
    res = run_tool(*conn(db), "purge", "--dry-run")
    ok(res, r"^would remove 17 expired sessions from session")
    assert snapshot(db) == before
    # option after or before the command
    res = run_tool("--dry-run", *conn(db), "purge")
    ok(res, r"^would remove 17 ")
    assert snapshot(db) == before


@pytest.mark.parametrize("batch", [7, 1])
def test_purge_batches(db, batch):
    """23 expired rows: 7 does not divide it (4 batches, the last short)."""
    db.create_session_table()
    live, expired = make_rows(3, 23)
    insert_rows(db, live + expired)
    res = run_tool(*conn(db), "purge", "--batch", batch, "--pause", "0")
    ok(res, r"^removed 23 expired sessions")
    assert ids(db) == sorted(r[0] for r in live)


# --------------------------------------------------------------------------
# stats


def test_stats(db):
    db.create_session_table()
    live, expired = make_rows(6, 9)
    insert_rows(db, live + expired)
    res = run_tool(*conn(db), "stats")
    ok(res)
    st = stats_of(res)
    assert st.get("table", "").startswith("session"), res.stdout
    assert st.get("live") == "6", res.stdout
    assert st.get("expired") == "9", res.stdout
    exps = [r[1] for r in live + expired]
    assert st.get("oldest expiry") == iso(min(exps)), res.stdout
    assert st.get("newest expiry") == iso(max(exps)), res.stdout
    assert "table size" in st, res.stdout
    if db.backend in ("pgsql", "mysql"):
        assert re.match(r"^\d+ bytes$", st["table size"]), res.stdout
        assert int(st["table size"].split()[0]) > 0
    else:
        # SQLite tells only when built with the dbstat table
        assert re.match(r"^(\d+ bytes|-)$", st["table size"]), res.stdout
    # stats changes nothing
    assert db.count() == 15

    # an empty table
    db.sql("DELETE FROM session")
    res = run_tool(*conn(db), "stats")
    ok(res)
    st = stats_of(res)
    assert (st.get("live"), st.get("expired")) == ("0", "0"), res.stdout
    assert (st.get("oldest expiry"), st.get("newest expiry")) == ("-", "-"), \
        "empty table: no expiry to show\n" + res.stdout


def test_stats_purge_revoke_leave_out_the_sweep_marker(httpd, db):
    """A sweeping httpd keeps the farm's last sweep time in a marker row
    (id '!sweep', expiring never): it is no session for stats, purge never
    removes it and revoke --all does not count it (issue 9 item 13)."""
    srv = httpd.start(orm_conf(db, server="SessionORMSweepInterval 1"),
                      debug=True)
    srv.client().get("/probe?op=set&key=k&value=v")
    assert srv.wait_log(r"ORM0301:", 6), "no sweep"
    srv.stop()
    assert db.sql("SELECT COUNT(*) FROM session WHERE id = '!sweep'") \
        == [("1",)]
    live, expired = make_rows(3, 4)
    insert_rows(db, live + expired)
    res = run_tool(*conn(db), "stats")
    ok(res)
    st = stats_of(res)
    assert (st.get("live"), st.get("expired")) == ("4", "4"), res.stdout
    newest = db.sql("SELECT MAX(expires_at) FROM session WHERE id <> "
                    "'!sweep'")[0][0]
    assert st.get("newest expiry") == iso(int(newest)), res.stdout
    ok(run_tool(*conn(db), "purge"), r"^removed 4 expired sessions")
    assert db.count() == 4
    assert db.sql("SELECT COUNT(*) FROM session WHERE id = '!sweep'") \
        == [("1",)]
    ok(run_tool(*conn(db), "revoke", "--all"), r"^revoked all 4 sessions")
    assert db.count() == 0


# --------------------------------------------------------------------------
# revoke


def test_revoke_user_and_all(db):
    db.create_session_table()
    now = now_ms()
    rows = [("a1", now + HOUR, "alice"), ("a2", now + 2 * HOUR, "alice"),
            ("a3", now - HOUR, "alice"), ("b1", now + HOUR, "bob"),
            ("b2", now + HOUR, "bob"), ("o1", now + HOUR, "o'neil; --"),
            ("n1", now + HOUR, None), ("n2", now + HOUR, None),
            ("x1", now + HOUR, "alice2")]
    insert_rows(db, rows)
    res = run_tool(*conn(db), "revoke", "--user", "alice")
    ok(res, r"^revoked 3 sessions of user 'alice'")
    assert ids(db) == ["b1", "b2", "n1", "n2", "o1", "x1"]

    # a name that needs quoting is a value, not SQL
    res = run_tool(*conn(db), "revoke", "--user", "o'neil; --")
    ok(res, r"^revoked 1 sessions")
    assert ids(db) == ["b1", "b2", "n1", "n2", "x1"]

    res = run_tool(*conn(db), "revoke", "--user", "nobody")
    ok(res, r"^revoked 0 sessions")
    assert len(ids(db)) == 5

    res = run_tool(*conn(db), "revoke", "--all")
    ok(res, r"^revoked all 5 sessions")
    assert db.count() == 0


def assert_cookie_revoked(client, value):
    """The client's revoked cookie opens no session: it is expired on the
    client, and the next write gets a new token. Returns the old token."""
    old = client.token
    r = client.get("/probe?op=get&key=k")
    assert r.value("k") is None
    assert [sc.expired for sc in r.cookies(COOKIE)] == [True], r.set_cookies
    client.get("/probe?op=set&key=k&value=" + value)
    assert client.token and client.token != old
    return old


PERUSER_SCOPE = """
<Location /user>
    SetHandler session-probe
    SessionORMPerUser On
    AuthType Basic
    AuthName "orm"
    AuthBasicProvider file
    AuthUserFile "@HTPASSWD@"
    Require valid-user
</Location>
"""


def test_revoke_sessions_made_by_httpd(httpd, db, workdir):
    """Per-user sessions (r->user) and a cookie session carrying a "user"
    key (as mod_auth_form writes it) are revoked by user; revoked cookies
    get a fresh session."""
    htpasswd = make_htpasswd(workdir, {"alice": "pw-a", "bob": "pw-b"})
    srv = httpd.start(orm_conf(db, server="SessionORMSweepInterval 0",
                               scope=PERUSER_SCOPE),
                      extra_modules=AUTH_MODULES, htpasswd=htpasswd)
    alice = srv.client(auth=("alice", "pw-a"))
    bob = srv.client(auth=("bob", "pw-b"))
    alice.get("/user?op=set&key=k&value=alice-data")
    bob.get("/user?op=set&key=k&value=bob-data")
    # a cookie session logged in as carol by a form login, and an anonymous
    carol = srv.client()
    carol.get("/probe?op=set&key=user&value=carol&key=k&value=carol-data")
    anon = srv.client()
    anon.get("/probe?op=set&key=k&value=anon-data")
    assert carol.token and anon.token
    assert sorted(r[0] or "" for r in db.rows(columns="user_name")) == \
        ["", "alice", "bob", "carol"]

    ok(run_tool(*conn(db), "revoke", "--user", "alice"),
       r"^revoked 1 sessions of user 'alice'")
    ok(run_tool(*conn(db), "revoke", "--user", "carol"),
       r"^revoked 1 sessions of user 'carol'")
    assert sorted(r[0] or "" for r in db.rows(columns="user_name")) == \
        ["", "bob"]
    # alice starts over; bob keeps his session
    assert alice.get("/user?op=get&key=k").value("k") is None
    assert bob.get("/user?op=get&key=k").value("k") == "bob-data"
    # carol's cookie no longer opens a session: it is expired on the
    # client, and the next write gets a new token
    old = assert_cookie_revoked(carol, "again")
    assert db.count(where="id = '%s'" % sha256_hex(old)) == 0
    assert anon.get("/probe?op=get&key=k").value("k") == "anon-data"

    ok(run_tool(*conn(db), "revoke", "--all"), r"^revoked all 3 sessions")
    assert db.count() == 0
    assert_cookie_revoked(anon, "fresh")
    assert bob.get("/user?op=get&key=k").value("k") is None


# --------------------------------------------------------------------------
# schema

SCHEMA_NAMES = {"table": "ddl_sessions", "data": "payload",
                "expires_at": "exp_ms"}


def test_schema_portable_ddl_runs_on_every_database(httpd, db):
    """The portable DDL (what `schema` prints for odbc without --dialect,
    and for --dialect portable) is taken by every database tested, and
    SessionORMDialect portable then stores and loads sessions in that table
    and the tool reads it; --dialect names a dialect or fails at once."""
    portable = [] if db.driver == "odbc" else ["--dialect", "portable"]
    res = run_tool("--driver", driver_name(db), *portable, "schema")
    ok(res, r"^CREATE TABLE session \(id VARCHAR\(64\) NOT NULL PRIMARY KEY, "
            r"data TEXT NOT NULL")
    assert '"' not in res.stdout and "`" not in res.stdout, res.stdout
    if db.driver == "odbc":
        assert "give --dialect sqlite, pgsql or mysql" in res.stdout
    cli = feed_cli(db, res.stdout)
    assert cli.returncode == 0 and "ERROR" not in cli.stderr.upper(), \
        "the portable DDL does not run on %s:\n%s\n%s" % (
            db.kind, res.stdout, cli.stderr)
    assert db.has_table("session")

    srv = httpd.start(orm_conf(db, server="SessionORMDialect portable\n"
                               "SessionORMCreateSchema Off\n"
                               "SessionORMSweepInterval 0"))
    c = srv.client()
    assert c.get("/probe?op=set&key=a&value=portable").status == 200
    assert c.get("/probe?op=get&key=a").value("a") == "portable"
    assert db.rows("session", "id") == [(sha256_hex(c.token),)]
    ok(run_tool(*conn(db), "--dialect", "portable", "stats"),
       r"^live\s+1$")

    bad = run_tool("--driver", driver_name(db), "--dialect", "oracle",
                   "schema")
    assert bad.returncode == 2, bad
    assert "--dialect 'oracle' is none of auto, sqlite, pgsql, mysql, " \
           "portable" in bad.stderr, bad.stderr

    # another database's dialect through a native driver: refused at once;
    # through odbc any dialect may be the database behind it
    other = "mysql" if db.backend != "mysql" else "pgsql"
    res = run_tool("--driver", driver_name(db), "--dialect", other,
                   "schema")
    if db.driver == "odbc":
        ok(res, r"\(%s dialect\)" % other)
    else:
        assert res.returncode == 2 and res.stdout == "", res
        assert "--dialect '%s' cannot work with DBDriver %s, which reaches " \
               "%s databases only" % (other, db.driver, db.driver) \
               in res.stderr, res.stderr


def test_schema_output_creates_the_table_httpd_uses(httpd, db):
    # through odbc the database is not known without a connection: the
    # admin names it (the portable DDL is test_schema_portable_through_odbc)
    dialect = ["--dialect", db.backend] if db.driver == "odbc" else []
    res = run_tool("--driver", driver_name(db), *dialect, "--table",
                   SCHEMA_NAMES["table"], "--column",
                   "data=" + SCHEMA_NAMES["data"], "--column",
                   "expires_at=" + SCHEMA_NAMES["expires_at"], "schema")
    ok(res, r"CREATE TABLE")
    ddl = res.stdout
    # no connection is needed for schema
    assert "ddl_sessions" in ddl and "payload" in ddl
    cli = feed_cli(db, ddl)
    assert cli.returncode == 0 and "ERROR" not in cli.stderr.upper(), \
        "the schema output does not run on %s:\n%s\n%s" % (
            db.kind, ddl, cli.stderr)
    # IF NOT EXISTS: running it twice is harmless
    cli = feed_cli(db, ddl)
    assert cli.returncode == 0, cli.stderr
    table = SCHEMA_NAMES["table"]
    assert db.has_table(table)
    assert [c.lower() for c in db.columns(table)] == [
        "id", "payload", "exp_ms", "user_name", "created_at", "updated_at"]
    idx = [i.lower() for i in db.indexes(table)]
    assert "ddl_sessions_expires_at_idx" in idx, idx
    assert "ddl_sessions_user_name_idx" in idx, idx

    server = ("SessionORMCreateSchema Off\nSessionORMTable %s\n"
              "SessionORMColumn data %s\nSessionORMColumn expires_at %s\n"
              "SessionORMSweepInterval 0" % (
                  table, SCHEMA_NAMES["data"], SCHEMA_NAMES["expires_at"]))
    srv = httpd.start(orm_conf(db, server=server))
    c = srv.client()
    r = c.get("/probe?op=set&key=a&value=from-ddl")
    assert r.status == 200 and c.token
    assert c.get("/probe?op=get&key=a").value("a") == "from-ddl"
    assert db.rows(table, "id") == [(sha256_hex(c.token),)]
    assert not db.has_table("session")

    # and the tool works on it with the same names
    insert_rows(db, [("gone", now_ms() - HOUR, None)], table=table,
                columns=("id", "payload", "exp_ms", "user_name",
                         "created_at", "updated_at"))
    ok(run_tool(*conn(db), "--table", table, "--column", "data=payload",
                "--column", "expires_at=exp_ms", "purge"),
       r"^removed 1 expired sessions from %s" % table)
    assert db.rows(table, "id") == [(sha256_hex(c.token),)]


# --------------------------------------------------------------------------
# --config

CONFIG_BODY = """
Include db-main.conf
<Location /probe>
    SetHandler session-probe
</Location>
Session On
SessionORMCookieName orm
SessionORMSweepInterval 0

<VirtualHost 127.0.0.1:@PORT@>
    ServerName a.test
</VirtualHost>

<VirtualHost 127.0.0.1:@PORT@>
    ServerName http://v.test:@PORT@
    ServerAlias v2.test
    Include "@DIR@/conf.d/db-vhost.conf"
</VirtualHost>
"""


def test_config_reads_httpd_configuration(httpd, db):
    srv = httpd.new(CONFIG_BODY)
    driver, params = driver_params(db)
    with open(os.path.join(srv.dir, "db-main.conf"), "w") as f:
        f.write('DBDriver %s\nDBDParams "%s"\nSessionORMTable main_sess\n'
                % (driver, params))
    make_dir(os.path.join(srv.dir, "conf.d"))
    with open(os.path.join(srv.dir, "conf.d", "db-vhost.conf"), "w") as f:
        f.write('# the vhost keeps its sessions in its own table\n'
                'DBDriver %s\nDBDParams "%s"\nSessionORMTable vhost_sess\n'
                'SessionORMColumn user_name owner\n' % (driver, params))
    srv.start()
    conf = srv.conf_path

    a = srv.client(host_header="a.test")
    v = srv.client(host_header="v.test")
    a.get("/probe?op=set&key=k&value=a")
    v.get("/probe?op=set&key=k&value=v")
    assert db.count("main_sess") == 1 and db.count("vhost_sess") == 1
    vcols = ("id", "data", "expires_at", "owner", "created_at", "updated_at")
    now = now_ms()
    insert_rows(db, [("m%d" % i, now - HOUR - i, None) for i in range(11)],
                table="main_sess")
    insert_rows(db, [("v%d" % i, now - HOUR - i, None) for i in range(13)] +
                [("vb", now + HOUR, "bob")], table="vhost_sess",
                columns=vcols)

    # main server: main_sess
    res = run_tool("--config", conf, "stats")
    ok(res)
    st = stats_of(res)
    assert st.get("table", "").startswith("main_sess"), res.stdout
    assert (st.get("live"), st.get("expired")) == ("1", "11"), st
    # the vhost, by ServerName (given with scheme and port) and by alias
    res = run_tool("--config", conf, "--vhost", "v.test", "stats")
    ok(res)
    st = stats_of(res)
    assert st.get("table", "").startswith("vhost_sess"), res.stdout
    assert (st.get("live"), st.get("expired")) == ("2", "13"), res.stdout
    ok(run_tool("--config", conf, "--vhost", "v2.test", "purge"),
       r"^removed 13 expired sessions from vhost_sess")
    assert db.count("vhost_sess") == 2
    assert db.count("main_sess") == 12
    # the vhost's column mapping is used
    ok(run_tool("--config", conf, "--vhost", "v.test", "revoke", "--user",
                "bob"), r"^revoked 1 sessions of user 'bob' in vhost_sess")
    assert ids(db, "vhost_sess") == [sha256_hex(v.token)]

    # --table overrides the configuration's table (same connection)
    db.create_session_table("other_sess")
    insert_rows(db, [("o%d" % i, now - HOUR, None) for i in range(3)],
                table="other_sess")
    ok(run_tool("--config", conf, "--table", "other_sess", "purge"),
       r"^removed 3 expired sessions from other_sess")
    assert db.count("other_sess") == 0
    assert db.count("main_sess") == 12

    ok(run_tool("--config", conf, "purge"),
       r"^removed 11 expired sessions from main_sess")
    assert ids(db, "main_sess") == [sha256_hex(a.token)]
    # httpd still serves both sessions
    assert a.get("/probe?op=get&key=k").value("k") == "a"
    assert v.get("/probe?op=get&key=k").value("k") == "v"

    # a vhost that is not there is a usage error
    res = run_tool("--config", conf, "--vhost", "nosuch.test", "stats")
    assert res.returncode == 2, res
    assert "nosuch.test" in res.stderr


# --------------------------------------------------------------------------
# errors

BAD_ARGS = [
    ("no command", []),
    ("unknown command", ["frobnicate"]),
    ("unknown option", ["--frobnicate", "stats"]),
    ("option without value", ["stats", "--table"]),
    ("revoke without --user/--all", ["revoke"]),
    ("revoke with both", ["revoke", "--user", "alice", "--all"]),
    ("revoke with empty user", ["revoke", "--user", ""]),
    ("--user without revoke", ["purge", "--user", "alice"]),
    ("--dry-run without purge", ["revoke", "--all", "--dry-run"]),
    ("bad table", ["--table", "x;drop", "purge"]),
    ("bad table quote", ["--table", "session\"", "revoke", "--all"]),
    ("unknown column field", ["--column", "bogus=x", "purge"]),
    ("column without =", ["--column", "data", "purge"]),
    ("bad column name", ["--column", "expires_at=x y", "purge"]),
    ("two fields one column", ["--column", "data=id", "revoke", "--all"]),
    ("batch 0", ["purge", "--batch", "0"]),
    ("batch too big", ["purge", "--batch", "100001"]),
    ("batch not a number", ["purge", "--batch", "7x"]),
    ("pause negative", ["purge", "--pause", "-1"]),
    ("two commands", ["purge", "stats"]),
    ("--vhost without --config", ["--vhost", "a.test", "purge"]),
    ("missing --config file", ["--config", "/nonexistent/httpd.conf",
                               "purge"]),
]


def test_bad_arguments_exit_2_and_touch_nothing(db):
    db.create_session_table()
    live, expired = make_rows(2, 5, user="alice")
    insert_rows(db, live + expired)
    before = snapshot(db)
    failures = []
    for name, args in BAD_ARGS:
        res = run_tool(*(conn(db) + args))
        if res.returncode != 2 or not res.stderr.strip() or \
                "session-orm" not in res.stderr or res.stdout.strip():
            failures.append("%s %r: exit %d, stdout %r, stderr %r" % (
                name, args, res.returncode, res.stdout, res.stderr))
        after = snapshot(db)
        if after != before:
            failures.append("%s %r changed the table" % (name, args))
            before = after
    # the connection itself missing: no driver at all
    res = run_tool("purge")
    if res.returncode != 2 or not res.stderr.strip():
        failures.append("no driver: exit %d, stderr %r" % (res.returncode,
                                                           res.stderr))
    assert not failures, "\n".join(failures)
    assert snapshot(db) == before
    # --help is not an error
    res = run_tool("--help")
    assert res.returncode == 0 and "Usage" in res.stdout


def test_version():
    """--version names the tool and configure.ac's version, alone and before
    a command (which it does not run), and --help lists it."""
    for args in (["--version"], ["--version", "purge"]):
        res = run_tool(*args)
        assert (res.returncode, res.stdout, res.stderr) == \
            (0, "session-orm %s\n" % project_version(), ""), res
    assert "--version" in run_tool("--help").stdout


def test_database_errors_exit_1(db):
    driver, params = driver_params(db)
    failures = []

    def expect_1(name, args):
        res = run_tool(*args)
        if res.returncode != 1 or not res.stderr.strip():
            failures.append("%s: exit %d, stdout %r, stderr %r" % (
                name, res.returncode, res.stdout, res.stderr))

    # the table does not exist (yet)
    for cmd in (["purge"], ["purge", "--dry-run"], ["stats"],
                ["revoke", "--all"]):
        expect_1("no table: %s" % " ".join(cmd), conn(db) + cmd)
    # a driver apr_dbd does not have
    expect_1("unknown driver", ["--driver", "nosuchdriver", "--params",
                                "x", "stats"])
    # a server that cannot be reached (a SQLite file that is not there is
    # a usage error: see test_never_creates_a_sqlite_database)
    if db.backend != "sqlite":
        bad = db.dbd_params(port=free_port())
        for cmd in (["purge"], ["stats"], ["revoke", "--all"]):
            expect_1("unreachable: %s" % " ".join(cmd),
                     ["--driver", driver, "--params", bad] + cmd)
    # wrong password
    if db.backend != "sqlite":
        expect_1("bad password", ["--driver", driver, "--params",
                                  re.sub(r"(pass(word)?=)\S+", r"\1wrong",
                                         params), "stats"])
    assert not failures, "\n".join(failures)


# --------------------------------------------------------------------------
# issue 9 item 11: the tool acts on the database httpd uses. It asks httpd
# for its configuration (apachectl -t -D DUMP_CONFIG), so conditional
# sections, -D flags, Include, ${NAME} and long lines are what httpd makes
# of them.

DECOYS = {
    # a module that is not loaded
    "ifmodule": '<IfModule mod_not_loaded.c>\n    DBDParams "%s"\n'
                '</IfModule>',
    # a comment longer than 8,191 characters whose tail looks like a
    # directive
    "long-comment": "#" + "x" * 8190 + 'DBDParams "%s"',
    # a -D flag httpd is not given
    "ifdefine": '<IfDefine NEVER>\n    DBDParams "%s"\n</IfDefine>',
}


@pytest.mark.parametrize("where", sorted(DECOYS))
def test_config_ignores_what_httpd_ignores(httpd, db, where):
    """httpd uses db; a decoy's DBDParams follows in a place httpd skips."""
    decoy = db.another_database("decoy")
    decoy.create_session_table()
    insert_rows(decoy, [("d%d" % i, now_ms() + HOUR, None) for i in range(7)])
    srv = httpd.start(orm_conf(db, server="SessionORMSweepInterval 0") + "\n"
                      + DECOYS[where] % driver_params(decoy)[1] + "\n")
    c = srv.client()
    c.get("/probe?op=set&key=k&value=real")
    assert c.token and db.count() == 1, "httpd does not use the real database"
    insert_rows(db, [("r%d" % i, now_ms() + HOUR, None) for i in range(3)])

    res = run_tool("--config", srv.conf_path, "stats")
    ok(res)
    assert stats_of(res).get("live") == "4", res.stdout
    if where == "ifdefine":
        # the -D flag httpd would be given selects the same database
        res = run_tool("--config", srv.conf_path, "-D", "NEVER", "stats")
        ok(res)
        assert stats_of(res).get("live") == "7", res.stdout

    ok(run_tool("--config", srv.conf_path, "revoke", "--all"),
       r"^revoked all 4 sessions")
    assert db.count() == 0
    assert decoy.count() == 7, "the tool emptied a database httpd does not use"
    assert_cookie_revoked(c, "again")


def test_config_default_and_option_forms(httpd, db):
    """--config defaults to $APACHE_CONFDIR/apache2.conf (Debian's
    apache2ctl reads the same); --config=FILE works like --config FILE."""
    srv = httpd.start(orm_conf(db, server="SessionORMSweepInterval 0"))
    c = srv.client()
    c.get("/probe?op=set&key=k&value=v")
    assert c.token
    insert_rows(db, [("e%d" % i, now_ms() - HOUR, None) for i in range(5)])
    confdir = make_dir(os.path.join(srv.dir, "confdir"))
    with open(srv.conf_path) as src, \
            open(os.path.join(confdir, "apache2.conf"), "w") as dst:
        dst.write(src.read())
    env = dict(os.environ, APACHE_CONFDIR=confdir)
    ok(run_tool("purge", "--dry-run", env=env), r"^would remove 5 expired")
    ok(run_tool("--config=" + srv.conf_path, "--batch=2", "purge"),
       r"^removed 5 expired")
    assert ids(db) == [sha256_hex(c.token)]
    # a missing default file is named
    res = run_tool("stats", env=dict(os.environ,
                                     APACHE_CONFDIR="/nonexistent-confdir"))
    assert res.returncode == 2, res
    assert "/nonexistent-confdir/apache2.conf" in res.stderr, res.stderr
    # a configuration httpd refuses is refused, with httpd's reason
    with open(os.path.join(confdir, "apache2.conf"), "a") as f:
        f.write("DBDParams one two\n")
    res = run_tool("stats", env=env)
    assert res.returncode == 2, res
    assert "DBDParams takes one argument" in res.stderr, res.stderr
    # flags take no value
    res = run_tool("--config=" + srv.conf_path, "purge", "--dry-run=yes")
    assert res.returncode == 2, res


# --------------------------------------------------------------------------
# issue 9 item 12: the tool never creates a database


def sqlite_selected():
    if "sqlite" not in selected_dbs():
        pytest.skip("SQLite is not among ORM_E2E_DBS")


def sqlite_scope_conf(params):
    return """
DBDriver sqlite3
DBDParams "%s"
Session On
SessionORMCookieName orm
SessionORMSweepInterval 0
<Location /probe>
    SetHandler session-probe
</Location>
""" % params


NO_CREATE_COMMANDS = (["stats"], ["purge", "--dry-run"], ["purge"],
                      ["revoke", "--all"], ["revoke", "--user", "alice"])


def test_never_creates_a_sqlite_database(httpd, workdir):
    sqlite_selected()
    d = make_dir(os.path.join(workdir, "db"),
                 owner=HTTPD_USER if IS_ROOT else None, mode=0o775)
    path = os.path.join(d, "sessions.db")
    for cmd in NO_CREATE_COMMANDS:
        res = run_tool("--driver", "sqlite3", "--params", path, *cmd)
        assert res.returncode == 2, (cmd, res)
        assert "no SQLite database at '%s'" % path in res.stderr, res.stderr
        assert not os.path.exists(path), "%s created %s" % (cmd, path)

    # through httpd's configuration, before httpd ever ran
    srv = httpd.new(sqlite_scope_conf(path))
    for cmd in NO_CREATE_COMMANDS:
        res = run_tool("--config", srv.conf_path, *cmd)
        assert res.returncode == 2 and path in res.stderr, (cmd, res)
        assert not os.path.exists(path), "%s created %s" % (cmd, path)

    # httpd creates it, as its own user, and can write it
    srv.start()
    c = srv.client()
    r = c.get("/probe?op=set&key=k&value=v")
    assert r.status == 200 and c.token
    if IS_ROOT:
        import pwd
        assert pwd.getpwuid(os.stat(path).st_uid).pw_name == HTTPD_USER
    res = run_tool("--config", srv.conf_path, "stats")
    ok(res)
    assert stats_of(res).get("live") == "1", res.stdout
    c.get("/probe?op=set&key=k2&value=v2")
    assert c.get("/probe?op=get&key=k2").value("k2") == "v2"


def test_unset_variable_in_dbdparams(httpd, workdir):
    """httpd leaves an undefined ${NAME} as it is; the tool names it rather
    than open (and create) a file called after it."""
    sqlite_selected()
    srv = httpd.new(sqlite_scope_conf("@DIR@/${ORM_E2E_UNSET}.db"))
    env = {k: v for k, v in os.environ.items() if k != "ORM_E2E_UNSET"}
    for cmd in NO_CREATE_COMMANDS:
        res = run_tool("--config", srv.conf_path, *cmd, env=env, cwd=workdir)
        assert res.returncode == 2, (cmd, res)
        assert "${ORM_E2E_UNSET}" in res.stderr, res.stderr
        assert "DBDParams" in res.stderr, res.stderr
    assert not [f for f in os.listdir(srv.dir) + os.listdir(workdir)
                if "ORM_E2E_UNSET" in f], "a file named after the variable"
    # defined in the environment, as httpd would take it from there
    env["ORM_E2E_UNSET"] = "sessions"
    path = os.path.join(srv.dir, "sessions.db")
    res = run_tool("--config", srv.conf_path, "stats", env=env)
    assert res.returncode == 2 and path in res.stderr, res
    SqliteDatabase(path).create_session_table()
    res = run_tool("--config", srv.conf_path, "stats", env=env)
    ok(res)
    assert stats_of(res).get("live") == "0", res.stdout


# --------------------------------------------------------------------------
# issue 9 item 6 (the tool's part): a bound on each database call


@pytest.mark.parametrize("kind", selected_on("pgsql", "mysql"))
def test_timeout_on_a_stopped_database(kind, session_state):
    """Every process of a private server stopped (SIGSTOP): the tool gives
    up after --timeout (default 5 s), says so, and exits 1."""
    base = make_dir(os.path.join(session_state.basedir,
                                 "admin-stalled-%s" % kind))
    server = server_of_kind(kind, SERVER_CLASSES[backend_of(kind)](base),
                            session_state)
    try:
        db = server.new_database("stalled")
        db.create_session_table()
        live, expired = make_rows(2, 3)
        insert_rows(db, live + expired)
        ok(run_tool(*conn(db), "stats"), r"^live\s+2")
        os.killpg(server.proc.pid, signal.SIGSTOP)
        try:
            for cmd, bound in ((["--timeout", "2", "stats"], 2),
                               (["--timeout=2", "revoke", "--all"], 2),
                               (["purge"], 5)):
                t0 = time.monotonic()
                res = run_tool(*(conn(db) + cmd), timeout=30)
                took = time.monotonic() - t0
                assert res.returncode == 1, (cmd, res)
                assert "the database did not answer within %d s" % bound \
                    in res.stderr, res.stderr
                assert bound - 0.3 < took < bound + 2, (cmd, took)
        finally:
            os.killpg(server.proc.pid, signal.SIGCONT)
        ok(run_tool(*conn(db), "purge"), r"^removed 3 expired")
        assert db.count() == 2
    finally:
        server.stop()
