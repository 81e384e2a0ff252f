"""The session cookie: attributes, one Set-Cookie per response, hostile
cookies, and SessionORMCookieRemove."""

import http.client
import urllib.parse

import pytest

from harness.client import Response, TOKEN_RE
from harness.common import sha256_hex
from harness.conf import COOKIE, orm_conf

ATTR_CONF = """
<Location /p-default>
    SetHandler session-probe
</Location>
<Location /p-over>
    SetHandler session-probe
    SessionORMCookieName c_over Path=/p-over SameSite=Strict Domain=example.test
</Location>
<Location /p-semi>
    SetHandler session-probe
    SessionORMCookieName c_semi "path=/p-semi; samesite=none; secure"
</Location>
<Location /p-flags>
    SetHandler session-probe
    SessionORMCookieName c_flags HttpOnly=Off Secure=On
</Location>
<Location /p-nosecure>
    SetHandler session-probe
    SessionORMCookieName c_nosecure Secure=Off
</Location>
<Location /p-chips>
    SetHandler session-probe
    SessionORMCookieName c_chips Partitioned Secure
</Location>
<Location /p-migrated>
    SetHandler session-probe
    SessionORMCookieName c_migrated Path=/p-migrated Version=1
</Location>
"""


def test_cookie_version_noted_and_partitioned_needs_secure(httpd, db):
    """apache2 -t takes Version=1 with a notice naming the file and line,
    and refuses Partitioned with Secure=Off."""
    srv = httpd.new(orm_conf(db, scope=ATTR_CONF))
    rc, out = srv.configtest()
    assert rc == 0 and "Syntax OK" in out, out
    assert "ORM0011" in out and "Version is ignored" in out, out
    assert "httpd.conf line" in out, out

    srv = httpd.new(orm_conf(db, cookie="SessionORMCookieName orm "
                             "Partitioned Secure=Off"))
    rc, out = srv.configtest()
    assert rc != 0, out
    assert "Partitioned needs Secure" in out, out


def set_cookie_for(srv, path, name):
    r = srv.client(cookie_name=name).get(path + "?op=set&key=a&value=1")
    assert r.status == 200
    assert len(r.set_cookies) == 1, r.set_cookies
    c = r.cookies()[0]
    assert c.name == name, c.raw
    assert TOKEN_RE.match(c.value), c.raw
    return c


def test_cookie_attributes(httpd, db):
    srv = httpd.start(orm_conf(db, scope=ATTR_CONF))

    c = set_cookie_for(srv, "/p-default", COOKIE)
    assert c.attr("path") == "/"
    assert c.attr("httponly") is True
    assert (c.attr("samesite") or "").lower() == "lax"
    assert c.attr("secure") is None, "Secure on a plain-http response"
    assert c.attr("domain") is None
    assert c.max_age == 86400

    c = set_cookie_for(srv, "/p-over", "c_over")
    assert c.attr("path") == "/p-over"
    assert (c.attr("samesite") or "").lower() == "strict"
    assert c.attr("domain") == "example.test"
    assert c.attr("httponly") is True, "overriding Path/SameSite lost HttpOnly"
    assert c.attr("secure") is None

    c = set_cookie_for(srv, "/p-semi", "c_semi")
    assert c.attr("path") == "/p-semi"
    assert (c.attr("samesite") or "").lower() == "none"
    assert c.attr("secure") is True
    assert c.attr("httponly") is True

    c = set_cookie_for(srv, "/p-flags", "c_flags")
    assert c.attr("httponly") is None
    assert c.attr("secure") is True
    assert c.attr("path") == "/"
    assert (c.attr("samesite") or "").lower() == "lax"

    c = set_cookie_for(srv, "/p-nosecure", "c_nosecure")
    assert c.attr("secure") is None
    assert c.attr("httponly") is True

    # CHIPS: Partitioned passed through, with the Secure it needs
    c = set_cookie_for(srv, "/p-chips", "c_chips")
    assert c.attr("partitioned") is True, c.raw
    assert c.attr("secure") is True, c.raw

    # mod_session_dbd's documented Version=1: accepted, noted, not sent
    c = set_cookie_for(srv, "/p-migrated", "c_migrated")
    assert c.attr("path") == "/p-migrated"
    assert "version" not in [n.lower() for n in c.attr_names], c.raw

    # every attribute at most once
    for path, name in (("/p-default", COOKIE), ("/p-over", "c_over"),
                       ("/p-semi", "c_semi")):
        c = set_cookie_for(srv, path, name)
        names = [n.lower() for n in c.attr_names]
        assert len(names) == len(set(names)), c.raw


def test_one_set_cookie_per_response(httpd, db):
    srv = httpd.start(orm_conf(db))
    c = srv.client()
    # several changes in one request
    r = c.get("/probe?op=set&key=a&value=1&key=b&value=2&key=c&value=3")
    assert len(r.set_cookies) == 1, r.set_cookies
    # an update
    r = c.get("/probe?op=set&key=a&value=9")
    assert len(r.set_cookies) == 1, r.set_cookies

    # an internal redirect where both requests change the session
    target = urllib.parse.quote("/probe2?op=set&key=r2&value=2", safe="")
    r = c.get("/probe?op=redirect&key=r1&value=1&uri=" + target)
    assert r.status == 200
    assert len(r.set_cookies) == 1, r.set_cookies
    assert c.get("/probe?op=get&key=r1&key=r2").pairs()[2:] == [
        ("r1", "1"), ("r2", "2")]

    # an external redirect (an error-path response) that sets a key
    r = c.get("/probe?op=set&key=x&value=redirected&status=302"
              "&location=/elsewhere")
    assert r.status == 302
    assert len(r.set_cookies) == 1, r.set_cookies
    assert r.cookies()[0].name == COOKIE
    assert c.get("/probe?op=get&key=x").value("x") == "redirected"

    # a 302 for a brand new session
    n = srv.client()
    r = n.get("/probe?op=set&key=y&value=1&status=302&location=/x")
    assert r.status == 302
    assert len(r.set_cookies) == 1, r.set_cookies
    assert n.get("/probe?op=get&key=y").value("y") == "1"

    # a subrequest that changes the session
    sub = urllib.parse.quote("/probe2?op=set&key=s&value=1", safe="")
    r = c.get("/probe?op=subreq&uri=" + sub)
    assert len(r.set_cookies) == 1, r.set_cookies

    # an error response that deletes the session
    r = c.get("/probe?op=clear&status=404")
    assert r.status == 404
    assert len(r.set_cookies) == 1, r.set_cookies
    assert r.cookies()[0].expired


HOSTILE = [
    ("garbage", "garbage!!"),
    ("short", "abc"),
    ("sql_or", "x' OR '1'='1"),
    ("sql_drop", "'; DROP TABLE session; --"),
    ("sql_drop_quoted", "\"'; DROP TABLE session; --\""),
    ("long_valid_chars", "A" * 8192),
    ("long_mixed", ("x' OR '1'='1;" * 700)[:8192]),
    ("padded_b64", "A" * 43 + "="),
    ("44_chars", "B" * 44),
    ("42_chars", "C" * 42),
    ("bad_char_43", "A" * 42 + "*"),
    ("percent", "%27%20OR%20%271%27%3D%271" + "A" * 20),
    ("unknown_well_formed", "Q" * 43),
]


@pytest.mark.parametrize("label,value", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_cookie_gives_fresh_session(httpd, sqlite_server, label,
                                            value):
    # SQLite only here (fast); the SQL-shaped ones run on every DB below
    db = sqlite_server.new_database("hostile")
    _check_hostile(httpd, db, value)


@pytest.mark.parametrize("value", ["x' OR '1'='1",
                                   "'; DROP TABLE session; --",
                                   "Q" * 8192],
                         ids=["or_1_eq_1", "drop_table", "8k"])
def test_sql_shaped_cookie(httpd, db, value):
    _check_hostile(httpd, db, value)


def _check_hostile(httpd, db, value):
    srv = httpd.start(orm_conf(db))
    owner = srv.client()
    owner.get("/probe?op=set&key=owner&value=safe")
    assert db.count() == 1

    for _ in range(2):
        r = srv.client().get("/probe?op=dump",
                             cookie="%s=%s" % (COOKIE, value))
        assert r.status == 200
        assert r.entries() == {}
        assert len(r.set_cookies) <= 1, r.set_cookies
        for ck in r.cookies():
            assert ck.expired, "hostile cookie not expired: %s" % ck.raw
    assert db.count() == 1, "rows added by a request that set nothing"
    assert owner.get("/probe?op=get&key=owner").value("owner") == "safe"

    # the same cookie on a request that sets a key: a new token and row
    c = srv.client()
    c.jar[COOKIE] = value
    r = c.get("/probe?op=set&key=k&value=v")
    assert len(r.set_cookies) == 1
    assert TOKEN_RE.match(c.token) and c.token != value
    assert db.count() == 2
    assert db.count(where="id = '%s'" % sha256_hex(c.token)) == 1
    assert c.get("/probe?op=dump").entries() == {"k": "v"}
    assert db.has_table("session")


REMOVE_CONF = """
<Location /keep>
    SetHandler session-probe
    SessionORMCookieRemove Off
</Location>
<Location /strip>
    SetHandler session-probe
    SessionORMCookieRemove On
</Location>
"""


def test_cookie_remove(httpd, db):
    srv = httpd.start(orm_conf(db, scope=REMOVE_CONF))
    c = srv.client()
    c.get("/probe?op=set&key=a&value=1")
    tok = c.token
    both = "other=1; %s=%s; third=3" % (COOKIE, tok)

    for path in ("/probe", "/strip"):       # default is On
        r = c.get(path + "?op=headers", cookie=both)
        seen = r.value("cookie") or ""
        assert tok not in seen and COOKIE + "=" not in seen, seen
        assert "other=1" in seen and "third=3" in seen, seen
        r = c.get(path + "?op=get&key=a", cookie=both)
        assert r.value("a") == "1", "session lost when stripping the cookie"
        r = c.get(path + "?op=headers")
        assert tok not in (r.value("cookie") or "")

    r = c.get("/keep?op=headers", cookie=both)
    assert r.value("cookie") == both
    assert c.get("/keep?op=get&key=a").value("a") == "1"


# ---- issue 9, item 4: SessionORMCookieRemove takes out only our pairs;
# every other byte of the Cookie header reaches the handler as sent. The
# stripping does not touch the database: SQLite only.

STRIP_CASES = [
    # (Cookie header with @T@ for our token, what the handler must see)
    ('pref=Thu, 01 Jan 2030; orm=@T@; json={"a":1,"b":2}; q="a;b"',
     'pref=Thu, 01 Jan 2030; json={"a":1,"b":2}; q="a;b"'),
    ("orm=@T@; a=1", "a=1"),
    ("a=1;  orm = @T@ ;b=2", "a=1;  b=2"),
    ("a=1;b=2; orm=@T@", "a=1;b=2"),
    ("orm=@T@; xorm=1; a=orm=x; orm=@T@; ormx=2, b = 3",
     "xorm=1; a=orm=x; ormx=2, b = 3"),
    ("orm=@T@", None),
    ("orm=@T@; orm=@T@", None),
]


def _headers_seen(port, path, cookies):
    """A request with each of cookies as its own Cookie header line (http
    .client merges nothing); returns the Response."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.putrequest("GET", path)
        for c in cookies:
            conn.putheader("Cookie", c)
        conn.endheaders()
        resp = conn.getresponse()
        return Response(resp.status, resp.reason, list(resp.getheaders()),
                        resp.read().decode("utf-8", "replace"))
    finally:
        conn.close()


def test_cookie_remove_keeps_other_cookies_byte_for_byte(httpd,
                                                         sqlite_server):
    db = sqlite_server.new_database("strip")
    srv = httpd.start(orm_conf(db))
    c = srv.client()
    c.get("/probe?op=set&key=a&value=1")
    tok = c.token

    for header, expected in STRIP_CASES:
        header = header.replace("@T@", tok)
        r = _headers_seen(srv.port, "/probe?op=headers", [header])
        assert r.value("cookie") == expected, (header, r.body)
        r = _headers_seen(srv.port, "/probe?op=get&key=a", [header])
        assert r.value("a") == "1", (header, r.body)

    # two Cookie header lines, joined by httpd with ", "
    r = _headers_seen(srv.port, "/probe?op=headers",
                      ["pref=Thu, 01 Jan 2030", "orm=%s; z={\"a\":1}" % tok])
    assert r.value("cookie") == 'pref=Thu, 01 Jan 2030, z={"a":1}', r.body
    r = _headers_seen(srv.port, "/probe?op=get&key=a",
                      ["pref=Thu, 01 Jan 2030", "orm=%s; z=1" % tok])
    assert r.value("a") == "1", r.body
