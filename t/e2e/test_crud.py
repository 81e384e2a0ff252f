"""Create / read / update / delete through mod_session's API (the probe)."""

import re
import time

import pytest

from harness.client import TOKEN_RE
from harness.common import now_ms, sha256_hex
from harness.conf import COOKIE, orm_conf
from harness.databases import driver_of, rows_or_none, selected_dbs

DAY_MS = 86400 * 1000


def row_dict(db, table="session", where=None):
    cols = db.columns(table)
    return [dict(zip(cols, r)) for r in db.rows(table, where=where)]


def only_cookie(resp):
    assert len(resp.set_cookies) == 1, resp.set_cookies
    c = resp.cookies()[0]
    assert c.name == COOKIE
    return c


@pytest.mark.parametrize("mpm,dialect", [("event", "auto"),
                                         ("prefork", "auto"),
                                         ("event", "portable")])
def test_crud(httpd, db, mpm, dialect):
    server = "SessionORMDialect %s" % dialect
    srv = httpd.start(orm_conf(db, server=server), mpm=mpm)
    c = srv.client()

    # create
    t0 = now_ms()
    r = c.get("/probe?op=set&key=a&value=1&key=b&value=two+words")
    assert r.status == 200
    ck = only_cookie(r)
    assert TOKEN_RE.match(ck.value), ck.raw
    assert ck.max_age == 86400
    token = ck.value
    rows = row_dict(db)
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == sha256_hex(token)
    assert row["user_name"] is None
    created = int(row["created_at"])
    updated = int(row["updated_at"])
    expires = int(row["expires_at"])
    assert t0 - 2000 <= created <= now_ms() + 2000
    assert created <= updated
    assert abs(expires - updated - DAY_MS) <= 2000
    assert "two" in row["data"]

    # read (several times: prefork spreads them over children)
    for _ in range(4):
        r = c.get("/probe?op=get&key=a&key=b")
        assert r.value("a") == "1"
        assert r.value("b") == "two words"

    # update
    time.sleep(0.01)
    r = c.get("/probe?op=set&key=a&value=2")
    assert len(r.set_cookies) == 1
    assert c.token == token, "the token must not change on update"
    assert c.get("/probe?op=dump").entries() == {"a": "2", "b": "two words"}
    rows = row_dict(db)
    assert len(rows) == 1
    assert int(rows[0]["created_at"]) == created
    assert int(rows[0]["updated_at"]) >= updated

    # large value
    r = c.get("/probe?op=big&key=big&size=50000")
    assert r.status == 200
    assert c.get("/probe?op=get&key=big").value("big") == "x" * 50000
    c.get("/probe?op=unset&key=big")

    # delete one key
    r = c.get("/probe?op=unset&key=a")
    assert c.get("/probe?op=dump").entries() == {"b": "two words"}
    assert db.count() == 1

    # delete the last key: row deleted, cookie expired
    r = c.get("/probe?op=unset&key=b")
    ck = only_cookie(r)
    assert ck.expired, ck.raw
    assert db.count() == 0
    assert c.token is None
    r = c.get("/probe?op=dump")
    assert r.entries() == {}
    assert r.set_cookies == []
    assert db.count() == 0

    # the old token is dead
    r = c.get("/probe?op=dump", cookie="%s=%s" % (COOKIE, token))
    assert r.entries() == {}
    assert db.count() == 0


def test_clear_deletes_row(httpd, db):
    srv = httpd.start(orm_conf(db))
    c = srv.client()
    c.get("/probe?op=set&key=a&value=1&key=b&value=2")
    assert db.count() == 1
    r = c.get("/probe?op=clear")
    ck = only_cookie(r)
    assert ck.expired, ck.raw
    assert db.count() == 0
    assert c.get("/probe?op=dump").entries() == {}


def test_never_set_writes_nothing(httpd, db):
    srv = httpd.start(orm_conf(db))
    c = srv.client()
    for q in ("op=dump", "op=get&key=a", "op=none", "op=unset&key=a"):
        r = c.get("/probe?" + q)
        assert r.status == 200
        assert r.set_cookies == [], (q, r.set_cookies)
    assert rows_or_none(db) == []


def test_schema_created_with_indexes(httpd, db):
    srv = httpd.start(orm_conf(db))
    c = srv.client()
    c.get("/probe?op=set&key=a&value=1")
    assert db.has_table("session")
    assert db.columns("session") == ["id", "data", "expires_at", "user_name",
                                     "created_at", "updated_at"]
    idx = [i.lower() for i in db.indexes("session")]
    assert "session_expires_at_idx" in idx, idx
    assert "session_user_name_idx" in idx, idx


def test_id_is_sha256_of_token(httpd, db):
    srv = httpd.start(orm_conf(db))
    tokens = []
    for i in range(3):
        c = srv.client()
        c.get("/probe?op=set&key=k&value=v%d" % i)
        tokens.append(c.token)
    assert len(set(tokens)) == 3
    rows = db.rows()
    assert sorted(r[0] for r in rows) == sorted(sha256_hex(t) for t in tokens)
    for r in rows:
        for cell in r:
            for t in tokens:
                assert cell is None or t not in cell, \
                    "cookie token stored in the table"


ODBC_KINDS = [k for k in selected_dbs() if driver_of(k) == "odbc"]
DIALECT_OF = {"sqlite": "sqlite3", "pgsql": "pgsql", "mysql": "mysql"}


@pytest.mark.parametrize("db", ODBC_KINDS, indirect=True)
@pytest.mark.parametrize("named", [False, True], ids=["asked", "named"])
def test_odbc_database_behind(httpd, db, named):
    """Through odbc the database behind is asked once per connection
    (ORM0119 says what it answered) and its own SQL written: the DDL quotes
    as that database does; SessionORMDialect naming it asks nothing."""
    dialect = DIALECT_OF[db.backend]
    server = "SessionORMSweepInterval 0"
    if named:
        server += "\nSessionORMDialect %s" % db.backend
    srv = httpd.start(orm_conf(db, server=server), debug=True)
    c = srv.client()
    assert c.get("/probe?op=set&key=a&value=1").status == 200
    assert c.get("/probe?op=get&key=a").value("a") == "1"
    log = srv.log_text()
    asked = re.findall(r"ORM0119: session table 'session': the database "
                       r"behind this odbc connection is (\S+)", log)
    if named:
        assert asked == [], asked
    else:
        assert asked and set(asked) == {dialect}, asked
    assert re.search(r"ORM0104: created session table 'session' and its "
                     r"indexes \(%s\)" % dialect, log), log
    assert "ORM0120" not in log


def test_long_values_come_back_whole(httpd, db):
    """Values around the pieces apr_dbd_odbc hands a long column back in
    (7999 characters each) and one over 70 KB: each comes back whole, from
    the table and over HTTP."""
    srv = httpd.start(orm_conf(db, server="SessionORMSweepInterval 0"))
    c = srv.client()
    for size in (7990, 7995, 7996, 15994, 15995, 71000):
        # the stored form is "big=" + the value: 4 characters more
        r = c.get("/probe?op=big&key=big&size=%d" % size)
        assert r.status == 200, (size, r)
        assert c.get("/probe?op=get&key=big").value("big") == "x" * size, size
        (stored,) = db.rows(columns="data", where="id = '%s'"
                            % sha256_hex(c.token))[0]
        assert stored == "big=" + "x" * size, (size, len(stored))
