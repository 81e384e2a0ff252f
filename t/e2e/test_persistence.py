"""Sessions live in the database: they survive httpd restarts."""

import pytest

from harness.conf import orm_conf


@pytest.mark.mpms("event", "prefork")
def test_survives_restart(httpd, db, mpm):
    srv = httpd.start(orm_conf(db), mpm=mpm)
    c = srv.client()
    c.get("/probe?op=set&key=a&value=before-restart")
    token = c.token
    assert token

    srv.restart()
    r = c.get("/probe?op=get&key=a")
    assert r.value("a") == "before-restart"
    assert c.token == token

    # and a write after the restart lands in the same row
    c.get("/probe?op=set&key=b&value=after")
    assert db.count() == 1
    assert c.get("/probe?op=dump").entries() == {"a": "before-restart",
                                                 "b": "after"}


def test_survives_graceful_restart(httpd, db):
    srv = httpd.start(orm_conf(db))
    c = srv.client()
    c.get("/probe?op=set&key=a&value=1")
    srv.graceful()
    assert c.get("/probe?op=get&key=a").value("a") == "1"
    c.get("/probe?op=set&key=a&value=2")
    srv.graceful()
    assert c.get("/probe?op=get&key=a").value("a") == "2"
    assert db.count() == 1


def test_new_server_same_database(httpd, db):
    """A second, differently configured httpd on the same database reads the
    sessions the first one wrote (nothing is kept in httpd's memory)."""
    first = httpd.start(orm_conf(db))
    c = first.client()
    c.get("/probe?op=set&key=a&value=shared")
    first.stop()
    second = httpd.start(orm_conf(db), mpm="prefork")
    c.port = second.port
    assert c.get("/probe?op=get&key=a").value("a") == "shared"
