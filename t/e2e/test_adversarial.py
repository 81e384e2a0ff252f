"""Standing adversarial tests: attacks on sessions that once worked (issue
9, "nobody let in, nothing lost"), kept so that they never work again.

Each group names the attack. Logins and logouts go through the real
mod_auth_form (form-login-handler, form-logout-handler) with an htpasswd
file, and `Require valid-user` guards /private.
"""

import threading
import time

import pytest

from harness.client import TOKEN_RE
from harness.common import row_of, run_parallel
from harness.conf import COOKIE, make_htpasswd, orm_conf

ROTATED = "\x01rotated"

FORM_MODULES = ["auth_form", "authn_core", "authn_file", "authz_user",
                "request"]

USERS = {"alice": "pw-alice", "mallory": "pw-mallory"}


def form_conf(db, htpasswd, scope=""):
    """orm_conf plus mod_auth_form: /login, /logout and a /private probe
    behind `Require valid-user`."""
    auth = """
    AuthType form
    AuthName realm
    AuthFormProvider file
    AuthUserFile "%s"
""" % htpasswd
    return orm_conf(db, scope=scope) + """
<Location /login>
    SetHandler form-login-handler
    AuthFormLoginSuccessLocation "/probe?op=none"
%s
</Location>
<Location /logout>
    SetHandler form-logout-handler
    AuthName realm
</Location>
<Location /private>
    SetHandler session-probe
%s
    Require valid-user
</Location>
""" % (auth, auth)


def start_form_httpd(httpd, db, scope="SessionORMRotateGrace 30", **kw):
    htpasswd = make_htpasswd(httpd.workdir, USERS)
    return httpd.start(form_conf(db, htpasswd, scope=scope), debug=True,
                       extra_modules=FORM_MODULES, **kw)


def login(client, user, cookie=None, update_jar=True, query=""):
    body = "httpd_username=%s&httpd_password=%s" % (user, USERS[user])
    return client.request("/login" + query, method="POST", body=body,
                          cookie=cookie, update_jar=update_jar,
                          headers={"Content-Type":
                                   "application/x-www-form-urlencoded"})


def with_token(token):
    return "%s=%s" % (COOKIE, token)


# --------------------------------------------------------------------------
# 1. session fixation: a token known before the login reaches nothing after

def test_fixation_planted_token_reaches_nothing(httpd, db):
    srv = start_form_httpd(httpd, db)
    attacker = srv.client()
    assert attacker.get("/probe?op=set&key=cart&value=1").status == 200
    planted = attacker.token
    assert TOKEN_RE.match(planted)

    # the victim's browser carries the planted token and logs in
    victim = srv.client()
    victim.jar[COOKIE] = planted
    r = login(victim, "alice")
    assert r.status in (302, 303, 307), r
    assert victim.token != planted, "the login kept the planted token"
    r = victim.get("/private?op=set&key=csrf&value=victim-secret")
    assert r.status == 200 and r.value("user") == "alice", r

    # the planted token: not authenticated, reads nothing, sets no cookie
    r = attacker.get("/private?op=dump", update_jar=False)
    assert r.status == 401, r
    r = attacker.get("/probe?op=dump", update_jar=False)
    assert r.status == 200 and r.entries() == {}, r
    assert r.set_cookies == [], r
    assert row_of(db, planted)[0] == ROTATED
    # writes through it land nowhere: no row gets them, no cookie is set
    r = attacker.get("/probe?op=set&key=csrf&value=attacker",
                     update_jar=False)
    assert r.status == 200 and r.set_cookies == [], r
    assert row_of(db, planted) == (ROTATED, None)
    assert "attacker" not in "".join(d for d, _ in db.rows(
        columns="data, user_name"))

    # the attacker logs in as himself through the planted token: a session
    # of his own, without the victim's keys
    r = login(attacker, "mallory")
    assert attacker.token not in (planted, victim.token), r
    r = attacker.get("/private?op=dump")
    assert r.status == 200 and r.value("user") == "mallory", r
    assert "csrf" not in r.entries() and "cart" not in r.entries(), r

    # the victim's session is untouched
    r = victim.get("/private?op=dump")
    assert r.status == 200 and r.value("user") == "alice", r
    assert r.entries()["csrf"] == "victim-secret", r


def test_fixation_slow_request_loading_after_the_login(httpd, db):
    """A request sent with the old token before the login, that loads its
    session only after it (presleep holds it before mod_session's load),
    is neither authenticated nor saved, and does not touch the cookie."""
    srv = start_form_httpd(httpd, db)
    c = srv.client()
    c.get("/probe?op=set&key=cart&value=1")
    old = c.token

    slow_private, slow_write, done_login = run_parallel(
        lambda: c.get("/private?op=dump&presleep=1500", update_jar=False),
        lambda: c.get("/probe?op=set&key=late&value=1&presleep=1500",
                      update_jar=False),
        lambda: login(c, "alice", update_jar=False),
        stagger=0.2)
    new = done_login.cookies(COOKIE)[0].value
    assert TOKEN_RE.match(new) and new != old, done_login
    assert slow_private.status == 401, slow_private
    assert slow_write.status == 200 and slow_write.set_cookies == [], \
        slow_write
    # the late write reached neither row
    assert row_of(db, old) == (ROTATED, None)
    data, user = row_of(db, new)
    assert user == "alice" and "late" not in data and "cart=1" in data


def test_fixation_in_flight_request_loses_its_changes(httpd, db):
    """A request that loaded the session before the login and saves after
    it: its changes are lost (as with Django's cycle_key), its response
    sets no cookie, and the new session holds the login's data only."""
    srv = start_form_httpd(httpd, db)
    c = srv.client()
    c.get("/probe?op=set&key=cart&value=1")
    old = c.token

    slow, done_login = run_parallel(
        lambda: c.get("/probe?op=set&key=late&value=1&sleep=1500",
                      update_jar=False),
        lambda: login(c, "alice", update_jar=False),
        stagger=0.4)
    assert slow.status == 200 and slow.set_cookies == [], slow
    new = done_login.cookies(COOKIE)[0].value
    data, user = row_of(db, new)
    assert user == "alice" and "late" not in data and "cart=1" in data
    assert row_of(db, old) == (ROTATED, None)


# --------------------------------------------------------------------------
# 2. a logout is not undone by requests running beside it

def test_logout_not_undone_by_concurrent_writes(httpd, db):
    srv = start_form_httpd(httpd, db, scope="SessionORMRotateGrace 2")
    failures = []
    for trial in range(30):
        c = srv.client()
        login(c, "alice")
        assert c.get("/private?op=set&key=k&value=0").status == 200
        token = c.token
        barrier = threading.Barrier(3)

        def at_once(call):
            barrier.wait(10)
            return call()

        run_parallel(
            lambda: at_once(lambda: c.get("/private?op=set&key=a&value=1",
                                          update_jar=False)),
            lambda: at_once(lambda: c.get("/logout", update_jar=False)),
            lambda: at_once(lambda: c.get("/probe?op=set&key=b&value=2",
                                          update_jar=False)),
            stagger=0)
        r = c.get("/private?op=dump", cookie=with_token(token),
                  update_jar=False)
        row = row_of(db, token, "data, user_name")
        if r.status == 200 or (row and row[1] is not None) \
                or (row and "realm-user" in row[0]):
            failures.append((trial, r.status, row))
    assert not failures, failures
    # past the grace window the old token is worth nothing either
    time.sleep(2.5)
    r = srv.client().get("/private?op=dump", cookie=with_token(token))
    assert r.status == 401, r


# --------------------------------------------------------------------------
# 3. cookie tossing: a planted cookie of our name does not log the user out

@pytest.mark.parametrize("planted", ["unknown", "malformed", "rotated"])
def test_cookie_tossing_keeps_the_real_session(httpd, db, planted):
    srv = start_form_httpd(httpd, db)
    c = srv.client()
    login(c, "alice")
    real = c.token
    if planted == "unknown":
        other = "A" * 43
    elif planted == "malformed":
        other = "not-a-token"
    else:
        d = srv.client()
        d.get("/probe?op=set&key=x&value=1")
        other = d.token
        login(d, "mallory")
    for header in ("%s=%s; %s=%s" % (COOKIE, other, COOKIE, real),
                   "%s=%s; %s=%s" % (COOKIE, real, COOKIE, other)):
        r = c.get("/private?op=dump", cookie=header, update_jar=False)
        assert r.status == 200 and r.value("user") == "alice", (header, r)
        assert all(not ck.expired for ck in r.cookies(COOKIE)), r
        r = c.get("/probe?op=set&key=n&value=1", cookie=header,
                  update_jar=False)
        assert r.status == 200, r
        assert all(not ck.expired and ck.value == real
                   for ck in r.cookies(COOKIE)), r
    assert c.get("/private?op=get&key=n").value("n") == "1"


def test_cookie_tossing_tries_a_bounded_number(httpd, db):
    """Five planted well-formed tokens before the real one: only four are
    tried (a bound on what one request costs the database)."""
    srv = start_form_httpd(httpd, db)
    c = srv.client()
    login(c, "alice")
    fakes = ["%s=%s" % (COOKIE, ch * 43) for ch in "AEIMQ"]
    r = c.get("/private?op=dump",
              cookie="; ".join(fakes[:3] + [with_token(c.token)]),
              update_jar=False)
    assert r.status == 200, r
    r = c.get("/private?op=dump",
              cookie="; ".join(fakes + [with_token(c.token)]),
              update_jar=False)
    assert r.status == 401, r


# --------------------------------------------------------------------------
# 9. SessionORMMaxSize holds for what concurrent merges store

def test_max_size_holds_under_concurrent_merges(httpd, db):
    srv = httpd.start(orm_conf(db, scope="SessionORMMaxSize 20000"),
                      debug=True)
    srv.expect_log(r"ORM0210")
    c = srv.client()
    assert c.get("/probe?op=set&key=base&value=0").status == 200

    def add(i):
        return lambda: c.get("/probe?op=big&key=k%d&size=7000&sleep=800" % i,
                             update_jar=False)

    results = run_parallel(*[add(i) for i in range(12)], stagger=0.02)
    assert all(r.status == 200 for r in results), results
    data, = db.rows(columns="data")[0][:1]
    assert len(data) <= 20000, len(data)
    kept = [k for k in c.get("/probe?op=dump").entries() if k.startswith("k")]
    assert 1 <= len(kept) <= 2, kept

    # still writable below the limit
    r = c.get("/probe?op=set&key=small&value=1")
    assert r.status == 200
    assert c.get("/probe?op=get&key=small").value("small") == "1"


def test_max_size_oversized_session_can_shrink(httpd, db):
    """A session stored over the limit (the limit lowered later) can still
    be shrunk and cleared; growing it is refused."""
    big = httpd.start(orm_conf(db), name="big")
    c = big.client()
    c.get("/probe?op=big&key=a&size=15000")
    c.get("/probe?op=big&key=b&size=15000")
    token = c.token
    big.stop()

    srv = httpd.start(orm_conf(db, scope="SessionORMMaxSize 10000"),
                      name="small", debug=True)
    srv.expect_log(r"ORM0210")
    c = srv.client()
    c.jar[COOKIE] = token
    r = c.get("/probe?op=big&key=c&size=100")
    assert r.status == 200
    assert c.get("/probe?op=get&key=c").value("c") is None
    # 15,000 bytes left: still over the limit, but smaller than stored
    c.get("/probe?op=unset&key=a")
    entries = c.get("/probe?op=dump").entries()
    assert "a" not in entries and "b" in entries, list(entries)
    c.get("/probe?op=clear")
    assert db.count() == 0
