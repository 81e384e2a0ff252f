"""Self-tests of the harness and the probe (no mod_session_orm involved):
mod_session_cookie + the probe, the database helpers and the ODBC data
sources."""

import re
import subprocess
import urllib.parse

import pytest

from harness.common import HTTPD_USER
from harness.databases import driver_of, selected_dbs

COOKIE_CONF = """
<Location /probe>
    SetHandler session-probe
    Session On
    SessionCookieName plain path=/
</Location>
<Location /probe2>
    SetHandler session-probe
    Session On
    SessionCookieName plain path=/
</Location>
"""

COOKIE_MODULES = ("authz_core", "session", "session_cookie", "probe")


@pytest.mark.mpms("event", "prefork")
def test_probe_with_session_cookie(httpd, mpm):
    srv = httpd.start(COOKIE_CONF, mpm=mpm, modules=COOKIE_MODULES)
    c = srv.client(cookie_name="plain")
    r = c.get("/probe?op=get&key=a")
    assert r.status == 200
    assert r.header("Content-Type").startswith("text/plain")
    assert r.value("user") == "-"
    assert r.value("session") == "on"
    assert r.value("a") is None
    assert r.set_cookies == []

    r = c.get("/probe?op=set&key=a&value=1&key=b&value=two+words")
    assert r.status == 200
    assert len(r.set_cookies) == 1
    assert c.token

    r = c.get("/probe?op=dump")
    assert r.entries() == {"a": "1", "b": "two words"}

    r = c.get("/probe?op=unset&key=a")
    assert c.get("/probe?op=get&key=a&key=b").pairs()[2:] == [
        ("a", "(null)"), ("b", "two words")]

    r = c.get("/probe?op=big&key=big&size=100")
    assert r.value("big:big") == "100"
    assert c.get("/probe?op=get&key=big").value("big") == "x" * 100

    r = c.get("/probe?op=headers")
    assert r.value("cookie").startswith("plain=")

    sub = urllib.parse.quote("/probe2?op=set&key=s&value=fromsub", safe="")
    r = c.get("/probe?op=subreq&uri=%s&key=s" % sub)
    assert "set:s" in r.lines()
    assert r.value("subreq_status") == "200"
    assert r.value("main:s") == "fromsub"
    assert c.get("/probe?op=get&key=s").value("s") == "fromsub"

    red = urllib.parse.quote("/probe2?op=get&key=s", safe="")
    r = c.get("/probe?op=redirect&uri=%s" % red)
    assert r.status == 200
    assert r.value("s") == "fromsub"

    r = c.get("/probe?op=clear")
    assert c.get("/probe?op=dump").entries() == {}


def test_graceful_and_restart(httpd):
    srv = httpd.start(COOKIE_CONF, modules=COOKIE_MODULES)
    assert srv.get("/probe").status == 200
    srv.graceful()
    assert srv.get("/probe").status == 200
    srv.restart()
    assert srv.get("/probe").status == 200


def test_log_scan_detects_errors(httpd):
    srv = httpd.start(COOKIE_CONF, modules=COOKIE_MODULES)
    srv.stop()
    with open(srv.log_path, "a") as f:
        f.write("[Mon Jan 01 00:00:00.000000 2024] [session_orm:error] "
                "[pid 1] ORM9999: synthetic\n")
    with pytest.raises(AssertionError):
        srv.check_log()
    srv.expect_log(r"ORM9999")
    srv.check_log()


def test_db_helpers(db):
    db.sql("CREATE TABLE t1 (id VARCHAR(64) PRIMARY KEY, n BIGINT, "
           "s TEXT NULL)")
    db.sql("INSERT INTO t1 VALUES ('a', 1700000000000, NULL)")
    db.sql("INSERT INTO t1 VALUES ('b''x', 2, 'tab\there')")
    assert db.has_table("t1")
    assert db.columns("t1") == ["id", "n", "s"]
    rows = sorted(db.rows("t1"))
    assert rows == [("a", "1700000000000", None), ("b'x", "2", "tab\there")]
    assert db.count("t1") == 2
    assert db.count("t1", "n > 5") == 1


ODBC_KINDS = [k for k in selected_dbs() if driver_of(k) == "odbc"]


@pytest.mark.parametrize("db", ODBC_KINDS, indirect=True)
def test_odbc_data_source(db, session_state):
    """The data source the harness wrote for an ODBC kind reaches the
    database behind it: unixODBC reads the run's own files, isql connects
    with the login of DBDParams (also as the user httpd runs as), and what
    the native client writes is read through ODBC and the other way
    round."""
    odbc = session_state.odbc
    res = subprocess.run(["odbcinst", "-j"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True)
    assert res.returncode == 0, res.stdout
    for what, path in (("DRIVERS", odbc.odbcinst_ini),
                       ("SYSTEM DATA SOURCES", odbc.odbc_ini),
                       ("USER DATA SOURCES", odbc.odbc_ini)):
        assert re.search(r"^%s\.*: %s$" % (what, re.escape(path)),
                         res.stdout, re.M), res.stdout
    login = ",user=%s,password=%s" % db.login if db.login else ""
    assert db.dbd_conf() == 'DBDriver odbc\nDBDParams "datasource=%s%s"' % (
        db.dsn, login)
    assert db.isql("SELECT 1") == [("1",)]
    assert db.isql("SELECT 1", runas=HTTPD_USER) == [("1",)]

    db.sql("CREATE TABLE harness_odbc (id VARCHAR(64) PRIMARY KEY, "
           "n BIGINT, s TEXT NULL)")
    db.sql("INSERT INTO harness_odbc VALUES ('a', 1700000000000, 'x y')")
    assert db.isql("SELECT id, n, s FROM harness_odbc") == [
        ("a", "1700000000000", "x y")]
    db.isql("INSERT INTO harness_odbc VALUES ('b', 2, NULL)",
            runas=HTTPD_USER)
    assert sorted(db.rows("harness_odbc")) == [
        ("a", "1700000000000", "x y"), ("b", "2", None)]
