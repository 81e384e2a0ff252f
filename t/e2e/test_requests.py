"""Subrequests and internal redirects share the session; mod_session_crypto
on top; scopes without SessionORM* directives decline."""

import re
import urllib.parse

from harness.conf import COOKIE, orm_conf
from harness.databases import rows_or_none

LOAD_LINE = r"\[session_orm:debug\].*loaded session"


def q(uri):
    return urllib.parse.quote(uri, safe="")


def test_subrequest_shares_session(httpd, db):
    srv = httpd.start(orm_conf(db), debug=True)
    c = srv.client()
    c.get("/probe?op=set&key=x&value=1")

    mark = srv.log_mark()
    r = c.get("/probe?op=subreq&key=s&key=x&uri="
              + q("/probe2?op=set&key=s&value=fromsub"))
    assert r.value("subreq_status") == "200"
    assert r.value("main:s") == "fromsub", r.body
    assert r.value("main:x") == "1", r.body
    assert len(r.set_cookies) == 1, r.set_cookies
    loads = [l for l in srv.log_since(mark) if re.search(LOAD_LINE, l)]
    assert len(loads) == 1, "expected one DB load for the request " \
                            "(main + subrequest), got:\n" + "\n".join(loads)

    assert c.get("/probe?op=dump").entries() == {"x": "1", "s": "fromsub"}
    assert db.count() == 1


def test_internal_redirect_shares_session(httpd, db):
    srv = httpd.start(orm_conf(db), debug=True)
    c = srv.client()
    c.get("/probe?op=set&key=x&value=1")

    mark = srv.log_mark()
    r = c.get("/probe?op=redirect&key=r1&value=before&uri="
              + q("/probe2?op=get&key=r1&key=x"))
    assert r.status == 200
    assert r.value("r1") == "before", r.body
    assert r.value("x") == "1", r.body
    assert len(r.set_cookies) == 1, r.set_cookies
    loads = [l for l in srv.log_since(mark) if re.search(LOAD_LINE, l)]
    assert len(loads) == 1, "expected one DB load for the request " \
                            "(+ internal redirect), got:\n" + "\n".join(loads)
    assert c.get("/probe?op=dump").entries() == {"x": "1", "r1": "before"}

    # set after the redirect only
    r = c.get("/probe?op=redirect&uri="
              + q("/probe2?op=set&key=r2&value=after"))
    assert len(r.set_cookies) == 1, r.set_cookies
    assert c.get("/probe?op=get&key=r2").value("r2") == "after"
    assert db.count() == 1


def test_one_load_per_plain_request(httpd, db):
    srv = httpd.start(orm_conf(db), debug=True)
    c = srv.client()
    c.get("/probe?op=set&key=x&value=1")
    for op in ("op=get&key=x", "op=set&key=y&value=2", "op=dump"):
        mark = srv.log_mark()
        c.get("/probe?" + op)
        loads = [l for l in srv.log_since(mark) if re.search(LOAD_LINE, l)]
        assert len(loads) == 1, (op, loads)


CRYPTO_SCOPE = """
SessionCryptoPassphrase "e2e secret passphrase"
"""


def test_session_crypto_on_top(httpd, db):
    srv = httpd.start(orm_conf(db, scope=CRYPTO_SCOPE),
                      extra_modules=["session_crypto"])
    c = srv.client()
    secret = "PlainTextValue12345"
    c.get("/probe?op=set&key=secretkey&value=" + secret)
    assert c.get("/probe?op=get&key=secretkey").value("secretkey") == secret
    rows = db.rows(columns="data")
    assert len(rows) == 1
    data = rows[0][0]
    assert data, "no data stored"
    assert secret not in data and "secretkey" not in data, data
    # the cookie carries only the token
    assert secret not in c.token

    # a server with another passphrase cannot read it (fresh session)
    srv.stop()
    other = httpd.start(orm_conf(db, scope='SessionCryptoPassphrase "other"'),
                        extra_modules=["session_crypto"])
    other.expect_log(r"AH01842|AH01843|AH01817|decrypt|session_crypto",
                     r"\[session:error\]", r"\[session_crypto:")
    c.port = other.port
    r = c.get("/probe?op=get&key=secretkey", update_jar=False)
    assert r.status == 200
    assert r.value("secretkey") is None


DECLINE_CONF = """
LimitRequestFieldSize 16384
@DBD@
Session On
<Location /orm>
    SetHandler session-probe
    SessionORMCookieName orm
</Location>
<Location /plain>
    SetHandler session-probe
    SessionCookieName plain path=/plain
</Location>
<Location /nothing>
    SetHandler session-probe
    Session Off
</Location>
"""


def test_scope_without_orm_declines(httpd, db):
    srv = httpd.start(DECLINE_CONF, dbd=db.dbd_conf(),
                      extra_modules=["session_cookie"])
    plain = srv.client(cookie_name="plain")
    r = plain.get("/plain?op=set&key=p&value=cookie-stored")
    assert r.status == 200
    names = [ck.name for ck in r.cookies()]
    assert names == ["plain"], r.set_cookies
    assert "cookie-stored" in r.cookies()[0].value
    assert plain.get("/plain?op=get&key=p").value("p") == "cookie-stored"
    assert rows_or_none(db) == []

    orm = srv.client()
    r = orm.get("/orm?op=set&key=o&value=db-stored")
    assert [ck.name for ck in r.cookies()] == [COOKIE], r.set_cookies
    assert orm.get("/orm?op=get&key=o").value("o") == "db-stored"
    assert db.count() == 1
    # the plain location still works after the ORM one was used
    assert plain.get("/plain?op=get&key=p").value("p") == "cookie-stored"

    r = srv.client().get("/nothing?op=dump")
    assert r.status == 200
    assert r.value("session") == "off"
    assert r.set_cookies == []
