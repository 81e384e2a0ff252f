"""SessionORMPerUser: sessions keyed by the authenticated user."""

from harness.common import sha256_hex
from harness.conf import AUTH_MODULES, make_htpasswd, orm_conf

PERUSER_SCOPE = """
SessionORMPerUser On
<Location /probe>
    AuthType Basic
    AuthName "orm"
    AuthBasicProvider file
    AuthUserFile "@HTPASSWD@"
    Require valid-user
</Location>
"""


def test_per_user_sessions(httpd, db, workdir):
    users = {"alice": "alice-pw", "bob": "bob-pw"}
    htpasswd = make_htpasswd(workdir, users)
    # no SessionORMCookieName: SessionORMPerUser alone keys the sessions
    srv = httpd.start(orm_conf(db, scope=PERUSER_SCOPE, cookie=""),
                      extra_modules=AUTH_MODULES, htpasswd=htpasswd)
    alice = srv.client(auth=("alice", "alice-pw"))
    bob = srv.client(auth=("bob", "bob-pw"))

    r = srv.get("/probe?op=dump")
    assert r.status == 401
    assert r.set_cookies == []

    r = alice.get("/probe?op=set&key=who&value=alice1")
    assert r.status == 200
    assert r.value("user") == "alice"
    assert r.set_cookies == [], "per-user mode must not send a cookie"
    r = bob.get("/probe?op=set&key=who&value=bob1")
    assert r.set_cookies == []

    r = alice.get("/probe?op=get&key=who")
    assert r.value("who") == "alice1"
    assert r.set_cookies == []
    assert bob.get("/probe?op=get&key=who").value("who") == "bob1"

    # a new client (no cookies at all) of the same user: same session
    again = srv.client(auth=("alice", "alice-pw"))
    assert again.get("/probe?op=get&key=who").value("who") == "alice1"

    rows = db.rows(columns="id, user_name")
    assert sorted(rows) == sorted([(sha256_hex("user:alice"), "alice"),
                                   (sha256_hex("user:bob"), "bob")])

    # update and delete stay per user
    alice.get("/probe?op=set&key=who&value=alice2")
    assert bob.get("/probe?op=get&key=who").value("who") == "bob1"
    r = bob.get("/probe?op=clear")
    assert r.set_cookies == []
    assert db.rows(columns="user_name") == [("alice",)]
    assert alice.get("/probe?op=get&key=who").value("who") == "alice2"
    assert bob.get("/probe?op=get&key=who").value("who") is None


def test_per_user_ignores_cookies(httpd, db, workdir):
    """A cookie (even a valid-looking one) does not select the session."""
    htpasswd = make_htpasswd(workdir, {"carol": "pw"})
    srv = httpd.start(orm_conf(db, scope=PERUSER_SCOPE),
                      extra_modules=AUTH_MODULES, htpasswd=htpasswd)
    carol = srv.client(auth=("carol", "pw"))
    carol.get("/probe?op=set&key=k&value=v")
    r = carol.get("/probe?op=get&key=k",
                  cookie="orm=" + "A" * 43)
    assert r.value("k") == "v"
    assert r.set_cookies == []
