"""Lifetime of rows: SessionORMTTL (literal and expression) and
SessionORMTouchInterval."""

import base64
import os
import time

from harness.common import now_ms, sha256_hex
from harness.conf import COOKIE, orm_conf


def live_token():
    """A well-formed token (32 random bytes, base64url, no padding)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def insert_row(db, token, data, expires_at, table="session"):
    now = now_ms()
    db.sql("INSERT INTO %s (id, data, expires_at, user_name, created_at, "
           "updated_at) VALUES ('%s', '%s', %d, NULL, %d, %d)"
           % (table, sha256_hex(token), data, expires_at, now - 5000,
              now - 5000))


def test_ttl_expiry(httpd, db):
    srv = httpd.start(orm_conf(db, scope="SessionORMTTL 2"))
    c = srv.client()
    r = c.get("/probe?op=set&key=a&value=1")
    assert r.cookies(COOKIE)[0].max_age == 2
    token = c.token
    row = db.rows(columns="expires_at, updated_at")[0]
    assert abs(int(row[0]) - int(row[1]) - 2000) <= 1000
    assert c.get("/probe?op=get&key=a").value("a") == "1"

    time.sleep(3.1)
    r = c.get("/probe?op=get&key=a", update_jar=False)
    assert r.value("a") is None, "expired session still served"
    # the unknown/expired cookie is expired on the client
    assert len(r.set_cookies) == 1 and r.cookies()[0].expired, r.set_cookies

    # a fresh session is served: writing gives a new token and a new row
    r = c.get("/probe?op=set&key=b&value=2")
    assert c.token and c.token != token
    assert c.get("/probe?op=dump").entries() == {"b": "2"}
    assert db.count(where="id = '%s'" % sha256_hex(c.token)) == 1


def test_expired_row_is_not_returned(httpd, db):
    """Rows whose expires_at is past are ignored even though they exist."""
    srv = httpd.start(orm_conf(db))
    # make the module create its table first
    c0 = srv.client()
    c0.get("/probe?op=set&key=init&value=1")

    live, dead = live_token(), live_token()
    insert_row(db, live, "a=alive", now_ms() + 3600 * 1000)
    insert_row(db, dead, "a=ghost", now_ms() - 1000)

    r = srv.client().get("/probe?op=get&key=a",
                         cookie="%s=%s" % (COOKIE, live))
    assert r.value("a") == "alive", "hand-inserted live row not read " \
                                    "(test precondition)"

    assert db.count(where="id = '%s'" % sha256_hex(dead)) == 1
    r = srv.client().get("/probe?op=get&key=a",
                         cookie="%s=%s" % (COOKIE, dead))
    assert r.value("a") is None, "expired row returned"
    # writing into a session presented with the dead cookie must not
    # resurrect the old row's data
    c = srv.client()
    c.jar[COOKIE] = dead
    c.get("/probe?op=set&key=b&value=new")
    assert c.token != dead
    assert c.get("/probe?op=dump").entries() == {"b": "new"}


TTL_EXPR_CONF = """
SetEnvIfExpr "%{QUERY_STRING} =~ /ttl=long/" ORM_TTL=3600
SetEnvIfExpr "%{QUERY_STRING} =~ /ttl=short/" ORM_TTL=600
SetEnvIfExpr "%{QUERY_STRING} =~ /ttl=bad/" ORM_TTL=soon
SessionORMTTL "expr=%{env:ORM_TTL}"
"""


def test_ttl_from_expression(httpd, db):
    srv = httpd.start(orm_conf(db, scope=TTL_EXPR_CONF),
                      extra_modules=["setenvif"])
    c = srv.client()

    def ttl_ms():
        e, u = db.rows(columns="expires_at, updated_at")[0]
        return int(e) - int(u)

    r = c.get("/probe?op=set&key=a&value=1&ttl=long")
    assert r.cookies(COOKIE)[0].max_age == 3600
    assert abs(ttl_ms() - 3600 * 1000) <= 2000

    r = c.get("/probe?op=set&key=a&value=2&ttl=short")
    assert r.cookies(COOKIE)[0].max_age == 600
    assert abs(ttl_ms() - 600 * 1000) <= 2000

    # not a positive integer: an error is logged, the default (86400) used
    mark = srv.log_mark()
    srv.expect_log(r"ORM\d{4}:.*TTL")
    r = c.get("/probe?op=set&key=a&value=3&ttl=bad")
    assert r.status == 200
    assert r.cookies(COOKIE)[0].max_age == 86400
    assert abs(ttl_ms() - 86400 * 1000) <= 2000
    assert srv.wait_log(r"error\].*ORM\d{4}:.*TTL", mark=mark)
    assert c.get("/probe?op=get&key=a").value("a") == "3"


def test_ttl_default_follows_session_max_age(httpd, db):
    srv = httpd.start(orm_conf(db, scope="SessionMaxAge 1234"))
    c = srv.client()
    r = c.get("/probe?op=set&key=a&value=1")
    assert r.cookies(COOKIE)[0].max_age == 1234
    e, u = db.rows(columns="expires_at, updated_at")[0]
    assert abs(int(e) - int(u) - 1234 * 1000) <= 2000


def row_times(db):
    """The one row's (expires_at, updated_at)."""
    e, u = db.rows(columns="expires_at, updated_at")[0]
    return int(e), int(u)


TOUCH_2S = "SessionMaxAge 1800\nSessionORMTouchInterval 2"


def test_touch_interval_limits_writes(httpd, db):
    srv = httpd.start(orm_conf(db, scope=TOUCH_2S))
    c = srv.client()
    times = lambda: row_times(db)  # noqa: E731

    r = c.get("/probe?op=set&key=a&value=1")
    t_write = time.monotonic()
    assert len(r.set_cookies) == 1
    e0, u0 = times()
    assert abs(e0 - u0 - 1800 * 1000) <= 2000

    # reads within the interval: no write, no cookie
    for _ in range(3):
        time.sleep(0.2)
        r = c.get("/probe?op=get&key=a")
        assert r.value("a") == "1"
        assert r.set_cookies == [], "unchanged session re-sent its cookie " \
                                    "within SessionORMTouchInterval"
        assert times() == (e0, u0), "row rewritten within the interval"
    assert time.monotonic() - t_write < 1.9, "test too slow to be meaningful"

    # after the interval: one read rewrites the row and sends the cookie
    time.sleep(max(0, 2.3 - (time.monotonic() - t_write)))
    r = c.get("/probe?op=get&key=a")
    assert r.value("a") == "1"
    assert len(r.set_cookies) == 1
    assert r.cookies()[0].max_age == 1800
    e1, u1 = times()
    assert u1 > u0 and e1 > e0
    assert abs(e1 - u1 - 1800 * 1000) <= 2000

    # and the next read is quiet again
    r = c.get("/probe?op=get&key=a")
    assert r.set_cookies == []
    assert times() == (e1, u1)


def test_writes_move_the_expiry_once_per_touch_interval(httpd, db):
    """A changed session's writes keep the stored expires_at (an indexed
    column) within SessionORMTouchInterval, and move it after."""
    srv = httpd.start(orm_conf(db, scope=TOUCH_2S))
    c = srv.client()
    times = lambda: row_times(db)  # noqa: E731

    c.get("/probe?op=set&key=a&value=0")
    t_write = time.monotonic()
    e0, u0 = times()
    last_u = u0
    for i in range(1, 4):
        time.sleep(0.2)
        r = c.get("/probe?op=set&key=a&value=%d" % i)
        assert len(r.set_cookies) == 1
        e, u = times()
        assert u > last_u, "the write did not reach the row"
        assert e == e0, "expiry moved within SessionORMTouchInterval"
        last_u = u
    assert time.monotonic() - t_write < 1.9, "test too slow to be meaningful"
    assert c.get("/probe?op=get&key=a").value("a") == "3"

    time.sleep(max(0, 2.3 - (time.monotonic() - t_write)))
    c.get("/probe?op=set&key=a&value=4")
    e, u = times()
    assert e > e0 and abs(e - u - 1800 * 1000) <= 2000
    # (a shorter lifetime is written at once: test_ttl_from_expression)


def test_touch_interval_zero_writes_every_request(httpd, db):
    srv = httpd.start(orm_conf(db, scope="SessionMaxAge 1800\n"
                                         "SessionORMTouchInterval 0"))
    c = srv.client()
    c.get("/probe?op=set&key=a&value=1")
    last = int(db.rows(columns="updated_at")[0][0])
    for _ in range(3):
        time.sleep(0.02)
        r = c.get("/probe?op=get&key=a")
        assert r.value("a") == "1"
        assert len(r.set_cookies) == 1
        u = int(db.rows(columns="updated_at")[0][0])
        assert u > last
        last = u
