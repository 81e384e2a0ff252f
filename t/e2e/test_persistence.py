"""Sessions live in the database: they survive httpd restarts."""

import threading
import time

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


def test_prefork_stop_during_a_request_gives_its_connection_back(httpd, db):
    """`httpd -k stop` under prefork ends a child from its signal handler
    in the middle of a request that holds a database connection (here, in
    the handler, after the load). The module hands the connection back to
    mod_dbd's pool before that pool goes, so the child exits instead of
    failing apr_reslist's assertion (`rl->ntotal == 0`, SIGABRT), as
    mod_session_dbd's children do."""
    srv = httpd.start(orm_conf(db, server="SessionORMSweepInterval 0\n"),
                      mpm="prefork", debug=True)
    c = srv.client()
    assert c.get("/probe?op=set&key=a&value=1").status == 200
    mark = srv.log_mark()
    answered = []

    def held():
        # loads the session, then sleeps in the handler with the connection
        # still the request's; the stop cuts it short, with no answer
        try:
            answered.append(c.get("/probe?op=get&key=a&sleep=3000",
                                  update_jar=False))
        except OSError:
            pass
    t = threading.Thread(target=held)
    t.start()
    # the session loaded: the connection is out, no call under way
    assert srv.wait_log(r"ORM0201:", mark=mark), "the session was not loaded"
    time.sleep(0.2)
    srv.stop()
    t.join(10)
    assert not answered, answered
    log = srv.log_text()
    assert "Assertion" not in log and "exit signal" not in log, log


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
