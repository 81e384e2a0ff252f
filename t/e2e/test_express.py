"""The express format (issue 14): httpd and a real Express app
(t/e2e/express: express-session with a MikroORM store on connect-mikro-orm's
Session entity) share one SQLite file or one PostgreSQL database, one table
and one signed connect.sid cookie.

The test_node_* tests check the Express side alone (what the issue observed
of connect-mikro-orm, our store's fixes of its bugs, the cookie signature);
every other test runs httpd with EXPRESS_CONF against the same database and
drives both with one cookie jar ("one browser"). The issue's scenarios:

  1 test_login_on_node_is_seen_by_httpd
  2 test_key_changed_by_httpd_is_seen_by_node
  3 test_session_minted_by_httpd_is_accepted_by_node
  4 test_logout_ends_the_session_for_both[node|httpd]
  5 test_expired_row_is_ignored_by_both
  6 test_bad_cookie_gets_no_lookup[...], test_bad_cookie_waits_for_no_lock
  7 test_secret_rotation, test_secret_from_exec
  8 test_authtype_session_orm, test_authtype_dotted_user_key
  and test_invalid_json_row_is_no_session, test_express_config_is_checked.
"""

import json
import os
import re
import stat
import subprocess
import threading
import time

import pytest

from harness.common import HarnessError, now_ms, sql_quote
from harness.conf import orm_conf
from harness.databases import PSQL, selected_dbs
from harness.express import (APP_DIR, COOKIE_NAME, KINDS, NODE,
                             ExpressFactory, check_installed, cookie_value,
                             json_of, share_jar, sid_of, sign, unsign)

SECRETS = ("first", "second")
DAY_MS = 86400 * 1000
SID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                "0123456789-_")

on_express_dbs = pytest.mark.parametrize(
    "db", [k for k in KINDS if k in selected_dbs()], indirect=True)
# the table-lock proof of "no lookup" needs PostgreSQL's ACCESS EXCLUSIVE
on_pgsql = pytest.mark.parametrize(
    "db", [k for k in ("pgsql",) if k in selected_dbs()], indirect=True)

EXPRESS_CONF = """
LimitRequestFieldSize 16384
@DBD@
SessionORMFormat express
SessionORMSecret @SECRETS@
@SERVER@
<Location />
    Session On
    SessionORMCookieName connect.sid Path=/ HttpOnly
</Location>
<Location /probe>
    SetHandler session-probe
</Location>
<Location /private>
    AuthType session-orm
    SessionORMUserKey user
    Require valid-user
</Location>
<Location /private/probe>
    SetHandler session-probe
</Location>
<Location /alice-only>
    AuthType session-orm
    SessionORMUserKey user
    Require user alice
    # another user is logged in but not admitted: 403, not httpd's 401 that
    # asks for other credentials
    AuthzSendForbiddenOnFailure On
</Location>
<Location /passport>
    AuthType session-orm
    SessionORMUserKey passport.user
    Require valid-user
</Location>
"""

# the static files AuthType session-orm protects
PROTECTED = ("private", "alice-only", "passport")


@pytest.fixture
def express(workdir):
    """Factory: express.start(db, secrets=..., cookie_max_age_ms=...)."""
    try:
        check_installed()
    except HarnessError as e:
        pytest.fail(str(e), pytrace=False)
    fac = ExpressFactory(workdir)
    yield fac
    fac.stop_all()
    fac.check_logs()


# --------------------------------------------------------------------------
# helpers

def quoted(secrets):
    return " ".join('"%s"' % s for s in secrets)


def start_httpd(httpd, db, secrets=SECRETS, server="", **kw):
    """httpd in the express format on db: the probe at /probe, static
    files under PROTECTED. Fails (never skips) with one clear message while
    the module does not know the format's directives."""
    srv = httpd.new(EXPRESS_CONF, dbd=db.dbd_conf(), secrets=quoted(secrets),
                    server=server, extra_modules=["authn_core", "authz_user"],
                    **kw)
    for d in PROTECTED:
        os.makedirs(os.path.join(srv.dir, "htdocs", d), exist_ok=True)
        with open(os.path.join(srv.dir, "htdocs", d, "secret.txt"), "w") as f:
            f.write("secret of %s\n" % d)
    require_express_directives(srv.configtest()[1])
    return srv.start()


def require_express_directives(configtest_output):
    """Fail with one clear message while the module lacks the directives
    of issue 14 (an unknown directive is no test of the format)."""
    if "Invalid command 'SessionORM" in configtest_output:
        pytest.fail("mod_session_orm does not know issue 14's directives "
                    "yet:\n" + configtest_output, pytrace=False)


def browser(app, srv):
    """(node client, httpd client) sharing one cookie jar."""
    nc = app.client()
    hc = srv.client(cookie_name=COOKIE_NAME)
    share_jar(nc, hc)
    return nc, hc


def session_row(db, sid):
    """The row of sid as {id, json, data (parsed, None when invalid),
    expired_at}, or None."""
    rows = db.rows(columns="id, json, expired_at",
                   where="id = %s" % sql_quote(sid))
    if not rows:
        return None
    sid_, text, expired_at = rows[0]
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    return {"id": sid_, "json": text, "data": data,
            "expired_at": int(expired_at)}


def all_rows(db):
    return sorted(db.rows(columns="id, json, expired_at"))


def login_on_node(nc, user="alice"):
    """Log in on the app; returns the sid from the cookie it set."""
    r = nc.get("/login?user=%s" % user)
    assert r.status == 200, r
    value = nc.jar[COOKIE_NAME]
    sid = unsign(value, SECRETS[:1])
    assert sid, "the app's cookie is not signed with %r: %s" % (SECRETS[0],
                                                                 value)
    return sid


def assert_express_cookie(set_cookie, secret):
    """A connect.sid Set-Cookie as express-session writes one: a signed
    32-character sid, Path=/ and HttpOnly; returns the sid."""
    assert set_cookie.name == COOKIE_NAME, set_cookie.raw
    sid = unsign(set_cookie.value, [secret])
    assert sid, "not signed with %r: %s" % (secret, set_cookie.raw)
    assert set_cookie.value == cookie_value(sid, secret), set_cookie.raw
    assert len(sid) == 32 and set(sid) <= SID_CHARS, sid
    assert set_cookie.attr("Path") == "/", set_cookie.raw
    assert set_cookie.attr("HttpOnly") is True, set_cookie.raw
    return sid


def httpd_entries(hc, path="/probe?op=dump"):
    r = hc.get(path)
    assert r.status == 200, r
    return r.entries()


# --------------------------------------------------------------------------
# the Express side alone

def test_node_signature_matches_the_worked_example(express):
    """Our sign() gives the issue's worked example, and so does the
    cookie-signature module express-session signs with."""
    sid = "jDlYhD6Z-r5uOUUWxN9y4uP6qQwPPJMd"
    expected = ("s%3AjDlYhD6Z-r5uOUUWxN9y4uP6qQwPPJMd."
                "8ia%2FE4CewA%2F6z3JPkPHflnlgTKOe5AOaq0NwIS68avM")
    assert cookie_value(sid, "keyboard cat") == expected
    assert unsign(expected, ["other", "keyboard cat"]) == sid
    assert unsign(expected, ["other"]) is None
    out = subprocess.run(
        [NODE, "-e", "process.stdout.write(require('cookie-signature')"
                     ".sign(process.argv[1], process.argv[2]))",
         sid, "keyboard cat"], cwd=APP_DIR, stdout=subprocess.PIPE,
        universal_newlines=True, check=True).stdout
    assert out == sign(sid, "keyboard cat")


@on_express_dbs
def test_node_round_trip(express, db):
    """login / whoami / incr / logout on the app alone; the schema and the
    row are as the issue observed them."""
    app = express.start(db)
    nc = app.client()
    assert nc.get("/whoami").status == 401
    t0 = now_ms()
    r = nc.get("/login?user=alice")
    assert r.status == 200, r
    (ck,) = r.cookies(COOKIE_NAME)
    sid = assert_express_cookie(ck, "first")
    assert ck.attr("Expires") is None, "no maxAge: a browser-session cookie"

    assert db.columns("session") == ["id", "json", "expired_at"]
    assert "session_expired_at_index" in [i.lower()
                                          for i in db.indexes("session")]
    row = session_row(db, sid)
    assert row["data"] == {
        "cookie": {"originalMaxAge": None, "expires": None,
                   "httpOnly": True, "path": "/"},
        "user": "alice", "visits": 0, "remember": True,
        "prefs": {"theme": "dark", "langs": ["en", "fr"]}}
    assert row["json"] == json.dumps(row["data"], separators=(",", ":"))
    assert t0 + DAY_MS - 2000 <= row["expired_at"] <= now_ms() + DAY_MS

    assert json_of(nc.get("/incr"))["visits"] == 1
    who = json_of(nc.get("/whoami"))
    assert who["user"] == "alice" and who["visits"] == 1
    assert session_row(db, sid)["data"]["visits"] == 1

    assert json_of(nc.get("/logout")) == {"ok": True}
    assert session_row(db, sid) is None
    assert nc.get("/whoami").status == 401
    assert db.count() == 0


@on_express_dbs
def test_node_cookie_max_age_sets_the_ttl(express, db):
    """With a cookie maxAge the row lives that long and the cookie has
    Expires (the ttl connect-mikro-orm computes)."""
    app = express.start(db, cookie_max_age_ms=60000)
    nc = app.client()
    t0 = now_ms()
    (ck,) = nc.get("/login").cookies(COOKIE_NAME)
    sid = assert_express_cookie(ck, "first")
    assert ck.attr("Expires"), ck.raw
    row = session_row(db, sid)
    assert t0 + 60000 - 2000 <= row["expired_at"] <= now_ms() + 60000
    # express-session takes it as expires minus now when the cookie is
    # made: a millisecond may pass in between
    assert 60000 - 10 <= row["data"]["cookie"]["originalMaxAge"] <= 60000


@on_express_dbs
def test_node_ignores_expired_and_invalid_rows(express, db):
    """An expired row is no session; an invalid json row is no session
    either and, unlike connect-mikro-orm, the store keeps working."""
    app = express.start(db)
    app.expect_log(r"^store: session \S+: invalid json ignored")
    nc = app.client()
    sid = login_on_node(nc)
    db.sql("UPDATE session SET expired_at = %d WHERE id = %s"
           % (now_ms() - 1000, sql_quote(sid)))
    assert nc.get("/whoami").status == 401
    assert session_row(db, sid)["expired_at"] < now_ms(), "resurrected"

    sid = login_on_node(nc)
    db.sql("UPDATE session SET json = '{not json' WHERE id = %s"
           % sql_quote(sid))
    assert nc.get("/whoami").status == 401
    assert "invalid json ignored" in app.log_text()
    sid2 = login_on_node(app.client(), "bob")
    assert session_row(db, sid2)["data"]["user"] == "bob"


def bad_cookies(sid):
    """(name, connect.sid value) for sid that neither side may look up."""
    good = cookie_value(sid, "first")
    sig = good.rsplit(".", 1)[1]
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    return [
        ("wrong-signature", good.rsplit(".", 1)[0] + "." + flipped),
        ("no-signature", "s%3A" + sid),
        ("bare-sid", sid),
        ("unknown-secret", cookie_value(sid, "third")),
        ("empty-signature", "s%3A" + sid + "."),
    ]


BAD_COOKIE_NAMES = [n for n, _ in bad_cookies("x" * 32)]


@on_express_dbs
def test_node_ignores_bad_cookies(express, db):
    """express-session takes a cookie only with a signature by one of its
    secrets: the row stays untouched and no new row appears."""
    app = express.start(db)
    sid = login_on_node(app.client())
    before = all_rows(db)
    for name, value in bad_cookies(sid):
        c = app.client()
        r = c.get("/whoami", cookie="%s=%s" % (COOKIE_NAME, value))
        assert r.status == 401, (name, r)
        r = c.get("/session", cookie="%s=%s" % (COOKIE_NAME, value))
        assert json_of(r)["sid"] != sid, name
    assert all_rows(db) == before


def hold_table_lock(db):
    """A psql session holding ACCESS EXCLUSIVE on the session table: any
    statement that reads it waits until release() (the Popen's stdin
    closes)."""
    s = db.server
    p = subprocess.Popen(
        [PSQL, "-X", "-q", "-A", "-t", "-h", s.sock, "-p", str(s.port),
         "-U", s.user, "-d", db.name], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True)
    p.stdin.write("BEGIN;\nLOCK TABLE session IN ACCESS EXCLUSIVE MODE;\n"
                  "SELECT 'locked';\n")
    p.stdin.flush()
    assert p.stdout.readline().strip() == "locked"
    return p


def release_table_lock(lock):
    """End hold_table_lock()'s transaction (psql exits at end of input)."""
    lock.stdin.close()
    lock.wait(10)


@on_pgsql
def test_node_waits_for_the_table_lock(express, db):
    """The proof test_bad_cookie_waits_for_no_lock uses, shown on the app:
    under hold_table_lock() a bad cookie is answered at once (no lookup),
    a good one only after the lock is released."""
    app = express.start(db)
    nc = app.client()
    sid = login_on_node(nc)
    good = nc.jar[COOKIE_NAME]
    lock = hold_table_lock(db)
    answers = {}
    try:
        for name, value in bad_cookies(sid):
            t = time.monotonic()
            r = app.client().get("/whoami", cookie="%s=%s" % (COOKIE_NAME,
                                                              value))
            assert r.status == 401, (name, r)
            assert time.monotonic() - t < 1.5, "%s waited for the table" % name
        waiter = threading.Thread(target=lambda: answers.update(
            good=nc.get("/whoami", cookie="%s=%s" % (COOKIE_NAME, good))))
        waiter.start()
        waiter.join(2)
        assert waiter.is_alive(), "a good cookie did not wait for the lock"
    finally:
        release_table_lock(lock)
    waiter.join(20)
    assert json_of(answers["good"])["user"] == "alice"


# --------------------------------------------------------------------------
# httpd and the app on one database

@on_express_dbs
def test_login_on_node_is_seen_by_httpd(httpd, express, db):
    """1: the app's login gives httpd the user and the session's scalar
    keys (strings, numbers, booleans); nested values are no keys."""
    app = express.start(db)
    srv = start_httpd(httpd, db)
    nc, hc = browser(app, srv)
    login_on_node(nc)
    r = hc.get("/probe?op=dump")
    assert r.value("session") == "on", r
    assert r.entries() == {"user": "alice", "visits": "0",
                           "remember": "true"}, r
    assert hc.get("/probe?op=get&key=prefs&key=cookie").pairs()[2:] == [
        ("prefs", "(null)"), ("cookie", "(null)")]


@on_express_dbs
def test_key_changed_by_httpd_is_seen_by_node(httpd, express, db):
    """2: a key httpd sets reaches the app; the app's other fields, the
    nested object and cookie stay as they were; the app's next change
    reaches httpd too."""
    app = express.start(db)
    srv = start_httpd(httpd, db)
    nc, hc = browser(app, srv)
    sid = login_on_node(nc)
    before = session_row(db, sid)["data"]
    r = hc.get("/probe?op=set&key=color&value=blue")
    assert r.status == 200, r
    for ck in r.cookies(COOKIE_NAME):
        assert assert_express_cookie(ck, "first") == sid

    who = json_of(nc.get("/whoami"))
    assert who == dict(before, color="blue"), who
    row = session_row(db, sid)["data"]
    assert row == dict(before, color="blue")
    assert row["cookie"] == before["cookie"]
    assert row["prefs"] == {"theme": "dark", "langs": ["en", "fr"]}
    assert row["visits"] == 0 and row["remember"] is True, "types kept"

    assert json_of(nc.get("/incr"))["visits"] == 1
    assert httpd_entries(hc) == {"user": "alice", "visits": "1",
                                 "remember": "true", "color": "blue"}


@on_express_dbs
def test_session_minted_by_httpd_is_accepted_by_node(httpd, express, db):
    """3: httpd's new session has an express-session sid and cookie (signed
    with the first secret, Path=/, HttpOnly) and a row the app reads."""
    app = express.start(db)
    srv = start_httpd(httpd, db)
    nc, hc = browser(app, srv)
    t0 = now_ms()
    r = hc.get("/probe?op=set&key=user&value=carol&key=color&value=green")
    assert r.status == 200, r
    (ck,) = r.cookies(COOKIE_NAME)
    sid = assert_express_cookie(ck, "first")
    row = session_row(db, sid)
    assert row is not None, all_rows(db)
    assert row["data"]["user"] == "carol" and row["data"]["color"] == "green"
    assert t0 < row["expired_at"] <= now_ms() + 2 * DAY_MS, row
    # express-session's Store.createSession reads sess.cookie.expires: a
    # row without a cookie object is a TypeError (500) on the app
    assert isinstance(row["data"].get("cookie"), dict), row
    assert row["data"]["cookie"].get("path") == "/", row
    assert row["data"]["cookie"].get("httpOnly") is True, row

    who = json_of(nc.get("/whoami"))
    assert who["user"] == "carol" and who["color"] == "green", who
    assert json_of(nc.get("/incr"))["visits"] == 1
    assert nc.jar[COOKIE_NAME] == ck.value or \
        unsign(nc.jar[COOKIE_NAME], SECRETS) == sid
    assert httpd_entries(hc) == {"user": "carol", "color": "green",
                                 "visits": "1"}


@on_express_dbs
@pytest.mark.parametrize("side", ["node", "httpd"])
def test_logout_ends_the_session_for_both(httpd, express, db, side):
    """4: a logout on either side: neither sees the user any more (on the
    app: /logout deletes the row; on httpd: the probe clears the session,
    whose row then is gone or holds no user)."""
    app = express.start(db)
    srv = start_httpd(httpd, db)
    nc, hc = browser(app, srv)
    sid = login_on_node(nc)
    cookie = "%s=%s" % (COOKIE_NAME, nc.jar[COOKIE_NAME])
    assert httpd_entries(hc)["user"] == "alice"
    if side == "node":
        assert json_of(nc.get("/logout")) == {"ok": True}
        assert session_row(db, sid) is None
    else:
        assert hc.get("/probe?op=clear").status == 200
        row = session_row(db, sid)
        assert row is None or "user" not in row["data"], row
    # the old cookie, as a browser that kept it would send it
    r = hc.get("/probe?op=dump", cookie=cookie)
    assert "user" not in r.entries(), r
    assert nc.get("/whoami", cookie=cookie).status == 401
    assert srv.get("/private/secret.txt",
                   headers={"Cookie": cookie}).status in (401, 403)


@on_express_dbs
def test_expired_row_is_ignored_by_both(httpd, express, db):
    """5: a row whose expired_at has passed is no session on either side,
    and neither brings it back."""
    app = express.start(db)
    srv = start_httpd(httpd, db)
    nc, hc = browser(app, srv)
    sid = login_on_node(nc)
    past = now_ms() - 1000
    db.sql("UPDATE session SET expired_at = %d WHERE id = %s"
           % (past, sql_quote(sid)))
    r = hc.get("/probe?op=dump")
    assert r.entries() == {}, r
    assert srv.get("/private/secret.txt", headers={
        "Cookie": "%s=%s" % (COOKIE_NAME, nc.jar[COOKIE_NAME])}).status \
        in (401, 403)
    assert nc.get("/whoami").status == 401
    row = session_row(db, sid)
    assert row is None or row["expired_at"] == past, row


@on_express_dbs
@pytest.mark.parametrize("variant", BAD_COOKIE_NAMES)
def test_bad_cookie_gets_no_lookup(httpd, express, db, variant):
    """6: a cookie with a wrong, missing or empty signature, or signed by a
    secret httpd does not have, is no session on httpd: no user, the row
    untouched, no new row, the protected file refused; the app agrees."""
    app = express.start(db)
    srv = start_httpd(httpd, db)
    sid = login_on_node(app.client())
    value = dict(bad_cookies(sid))[variant]
    cookie = "%s=%s" % (COOKIE_NAME, value)
    before = all_rows(db)
    r = srv.get("/probe?op=dump", headers={"Cookie": cookie})
    assert r.status == 200 and r.entries() == {}, r
    assert r.cookies(COOKIE_NAME) == [], "a dump writes no session"
    assert srv.get("/private/secret.txt",
                   headers={"Cookie": cookie}).status in (401, 403)
    assert all_rows(db) == before
    assert app.client().get("/whoami", cookie=cookie).status == 401
    assert all_rows(db) == before


@on_pgsql
def test_bad_cookie_waits_for_no_lock(httpd, express, db):
    """6, no lookup proved: while the session table is locked against
    readers, httpd answers every bad cookie at once, but a good one waits
    for the lock (so a lookup would have been seen)."""
    app = express.start(db)
    srv = start_httpd(httpd, db, server="SessionORMSweepInterval 0")
    nc = app.client()
    sid = login_on_node(nc)
    good = "%s=%s" % (COOKIE_NAME, nc.jar[COOKIE_NAME])
    for _ in range(3):      # connections made and statements prepared
        assert srv.get("/probe?op=dump",
                       headers={"Cookie": good}).entries()["user"] == "alice"
    lock = hold_table_lock(db)
    answers = {}
    try:
        for name, value in bad_cookies(sid):
            t = time.monotonic()
            r = srv.get("/probe?op=dump", headers={
                "Cookie": "%s=%s" % (COOKIE_NAME, value)})
            assert r.entries() == {}, (name, r)
            assert time.monotonic() - t < 1.5, "%s waited for the table" % name
        waiter = threading.Thread(target=lambda: answers.update(
            good=srv.get("/probe?op=dump", headers={"Cookie": good})))
        waiter.start()
        waiter.join(2)
        assert waiter.is_alive(), "a good cookie did not wait: no proof"
    finally:
        release_table_lock(lock)
    waiter.join(20)
    assert answers["good"].entries()["user"] == "alice"


@on_express_dbs
def test_secret_rotation(httpd, express, db):
    """7: a cookie the app signed with its old secret (now httpd's second)
    verifies on httpd; what httpd signs, it signs with the first; the app
    with the rotated list reads httpd's session."""
    old_app = express.start(db, secrets=["second"])
    srv = start_httpd(httpd, db, secrets=SECRETS)
    oc = old_app.client()
    oc.get("/login?user=alice")
    old = oc.jar[COOKIE_NAME]
    assert unsign(old, ["second"]) and not unsign(old, ["first"])
    hc = srv.client(cookie_name=COOKIE_NAME)
    share_jar(oc, hc)
    assert httpd_entries(hc)["user"] == "alice"
    r = hc.get("/probe?op=set&key=color&value=red")
    for ck in r.cookies(COOKIE_NAME):
        assert assert_express_cookie(ck, "first") == sid_of(old)

    fresh = srv.client(cookie_name=COOKIE_NAME)
    (ck,) = fresh.get("/probe?op=set&key=user&value=dora").cookies(
        COOKIE_NAME)
    assert_express_cookie(ck, "first")
    new_app = express.start(db, secrets=list(SECRETS))
    nc = new_app.client()
    share_jar(fresh, nc)
    assert json_of(nc.get("/whoami"))["user"] == "dora"
    nc2 = new_app.client()
    nc2.jar[COOKIE_NAME] = old
    assert json_of(nc2.get("/whoami"))["color"] == "red"


@on_express_dbs
def test_secret_from_exec(httpd, express, db, workdir):
    """7: SessionORMSecret "exec:/path args" takes the first line the
    program prints as the secret, as SessionCryptoPassphrase does: here it
    prints a file httpd.conf names, so the secret is not in httpd.conf."""
    secret_file = os.path.join(workdir, "secret")
    with open(secret_file, "w") as f:
        f.write("from-exec\nnot the secret\n")
    prog = os.path.join(workdir, "print-secret")
    with open(prog, "w") as f:
        f.write("#!/bin/sh\nexec cat \"$1\"\n")
    os.chmod(prog, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP
             | stat.S_IROTH | stat.S_IXOTH)
    app = express.start(db, secrets=["from-exec", "second"])
    srv = start_httpd(httpd, db, secrets=["exec:%s %s" % (prog, secret_file),
                                          "second"])
    with open(srv.conf_path) as f:
        assert "from-exec" not in f.read()
    nc, hc = browser(app, srv)
    nc.get("/login?user=alice")
    assert unsign(nc.jar[COOKIE_NAME], ["from-exec"])
    assert httpd_entries(hc)["user"] == "alice"
    fresh = srv.client(cookie_name=COOKIE_NAME)
    (ck,) = fresh.get("/probe?op=set&key=user&value=erin").cookies(
        COOKIE_NAME)
    assert_express_cookie(ck, "from-exec")


@on_express_dbs
def test_authtype_session_orm(httpd, express, db):
    """8: AuthType session-orm with SessionORMUserKey user: refused
    without the app's login, served with it, r->user is the session's
    user; Require user alice serves alice and refuses bob."""
    app = express.start(db)
    srv = start_httpd(httpd, db)
    assert srv.get("/private/secret.txt").status in (401, 403)
    alice_n, alice_h = browser(app, srv)
    login_on_node(alice_n, "alice")
    r = alice_h.get("/private/secret.txt")
    assert r.status == 200 and r.body == "secret of private\n", r
    assert alice_h.get("/private/probe?op=none").value("user") == "alice"
    assert alice_h.get("/alice-only/secret.txt").status == 200

    bob_n, bob_h = browser(app, srv)
    login_on_node(bob_n, "bob")
    assert bob_h.get("/private/secret.txt").status == 200
    assert bob_h.get("/alice-only/secret.txt").status == 403
    srv.expect_log(r"AH01631: user bob: authorization failure for "
                   r"\"/alice-only/secret.txt\"")

    # a session without the key is no login
    anon_n, anon_h = browser(app, srv)
    anon_n.get("/set?color=grey")
    assert anon_n.jar.get(COOKIE_NAME)
    assert anon_h.get("/private/secret.txt").status in (401, 403)


@on_express_dbs
def test_authtype_dotted_user_key(httpd, express, db):
    """8: SessionORMUserKey passport.user finds the user inside the nested
    object Passport writes; a session with a top-level user only is no
    login there."""
    app = express.start(db)
    srv = start_httpd(httpd, db)
    pn, ph = browser(app, srv)
    r = pn.get("/passport-login?user=dave")
    assert json_of(r)["passport"] == {"user": "dave"}
    r = ph.get("/passport/secret.txt")
    assert r.status == 200 and r.body == "secret of passport\n", r
    assert ph.get("/private/secret.txt").status in (401, 403)

    un, uh = browser(app, srv)
    login_on_node(un, "alice")
    assert uh.get("/passport/secret.txt").status in (401, 403)


@on_express_dbs
def test_invalid_json_row_is_no_session(httpd, express, db):
    """An invalid json row is no session on httpd, with one log line for
    two requests (rate-limited); httpd and the app go on serving."""
    app = express.start(db)
    app.expect_log(r"^store: session \S+: invalid json ignored")
    srv = start_httpd(httpd, db)
    nc, hc = browser(app, srv)
    sid = login_on_node(nc)
    db.sql("UPDATE session SET json = '{\"user\":\"alice\",' WHERE id = %s"
           % sql_quote(sid))
    mark = srv.log_mark()
    for _ in range(2):
        r = hc.get("/probe?op=dump")
        assert r.status == 200 and r.entries() == {}, r
    assert hc.get("/private/secret.txt").status in (401, 403)
    lines = [l for l in srv.log_since(mark) if sid[:8] in l
             or "json" in l.lower()]
    assert len(lines) == 1, srv.log_since(mark)
    srv.expect_log(re.escape(lines[0].split("] ", 3)[-1][:60]))
    assert nc.get("/whoami").status == 401
    other_n, other_h = browser(app, srv)
    login_on_node(other_n, "bob")
    assert httpd_entries(other_h)["user"] == "bob"


CONFIGS = [
    # (server-scope directives, accepted, texts the message must have)
    ('SessionORMFormat express\nSessionORMSecret "first" "second"', True,
     []),
    ("SessionORMFormat native", True, []),
    ('SessionORMFormat bogus\nSessionORMSecret "first"', False,
     ["SessionORMFormat", "bogus"]),
    ("SessionORMFormat express", False, ["SessionORMSecret"]),
    ('SessionORMFormat express\nSessionORMSecret "exec:/nonexistent/prog"',
     False, ["/nonexistent/prog"]),
    # a field the express format does not keep
    ('SessionORMFormat express\nSessionORMSecret "first"\n'
     'SessionORMColumn user_name login', False,
     ["ORM0002", "express format has no field user_name"]),
    ('SessionORMSecret "exec:/bin/true"', False, ["gives an empty secret"]),
    ("SessionORMSecret", False, ["SessionORMSecret"]),
    ("SessionORMUserKey passport.", False, ["SessionORMUserKey",
                                            "passport."]),
    ("SessionORMUserKey a..b", False, ["SessionORMUserKey", "a..b"]),
]


@pytest.mark.parametrize("server,accepted,texts", CONFIGS,
                         ids=["express", "native", "bogus", "no-secret",
                              "exec-fails", "express-no-owner",
                              "exec-empty", "secret-none", "user-key-dot",
                              "user-key-double-dot"])
def test_express_config_is_checked(httpd, sqlite_server, server, accepted,
                                   texts):
    """apache2 -t takes the format directives as the issue gives them and
    refuses an unknown format and the express format without a secret
    (as test_schema.py's test_bad_config_is_rejected checks the others)."""
    db = sqlite_server.new_database("expressconf")
    srv = httpd.new(orm_conf(db, server=server),
                    extra_modules=["authn_core", "authz_user"])
    rc, out = srv.configtest()
    require_express_directives(out)
    if accepted:
        assert rc == 0 and "Syntax OK" in out, out
        return
    assert rc != 0, "apache2 -t accepted: %s\n%s" % (server, out)
    for t in texts:
        assert t.lower() in out.lower(), \
            "message does not name %r:\n%s" % (t, out)
    rc, out, running = srv.start_fail()
    assert not running and rc != 0


@on_express_dbs
def test_admin_tool_on_the_express_table(httpd, express, db):
    """The tool reads SessionORMFormat from httpd's configuration: stats
    and purge work on the app's table (expired_at), the app's live session
    is kept; revoke --user is refused (no owner is kept) and changes
    nothing; schema prints the app's DDL."""
    from harness.httpd import APACHE2
    from test_admin_tool import ok, run_tool, stats_of
    app = express.start(db)
    srv = start_httpd(httpd, db, server="SessionORMSweepInterval 0")
    nc = app.client()
    sid = login_on_node(nc)
    past = now_ms() - 60000
    for i in range(3):
        db.sql("INSERT INTO session (id, json, expired_at) VALUES "
               "('old%d', '{}', %d)" % (i, past - i))
    # the harness's httpd binary reads the configuration (under
    # t/sanitize-e2e, the wrapper that loads the sanitized module)
    conf = ["--config", srv.conf_path, "--server-root", srv.dir,
            "--apachectl", APACHE2]
    res = run_tool(*conf, "stats")
    ok(res)
    st = stats_of(res)
    assert (st.get("live"), st.get("expired")) == ("1", "3"), res.stdout
    ok(run_tool(*conf, "purge"), r"^removed 3 expired sessions from session")
    assert session_row(db, sid) is not None
    assert nc.get("/whoami").status == 200
    res = run_tool(*conf, "revoke", "--user", "alice")
    assert res.returncode != 0 and "keeps no owner" in res.stderr, res
    assert session_row(db, sid) is not None
    res = run_tool(*conf, "schema")
    ok(res)
    assert "expired_at" in res.stdout and "user_name" not in res.stdout
    assert "session_expired_at_index" in res.stdout, res.stdout


@on_express_dbs
def test_concurrent_writes_of_both_sides_merge(httpd, express, db):
    """The app writes the session while an httpd request that loaded it
    before is still running: httpd's conditional write finds the JSON
    changed and merges its one key into what the app wrote, so neither
    side's change is lost and the app's fields keep their types."""
    app = express.start(db)
    srv = start_httpd(httpd, db)
    nc, hc = browser(app, srv)
    sid = login_on_node(nc)
    answer = {}
    t = threading.Thread(target=lambda: answer.update(r=hc.get(
        "/probe?op=set&key=color&value=blue&sleep=1500")))
    t.start()
    time.sleep(0.5)                 # httpd has loaded the session
    assert nc.get("/incr").status == 200
    t.join(30)
    assert answer["r"].status == 200, answer
    data = session_row(db, sid)["data"]
    assert data["color"] == "blue" and data["visits"] == 1, data
    assert data["user"] == "alice" and data["prefs"]["theme"] == "dark"
    assert data["cookie"]["path"] == "/", data
    assert httpd_entries(hc)["visits"] == "1"


@on_express_dbs
def test_authtype_session_orm_native_format(httpd, db):
    """AuthType session-orm in the native format: r->user is the session's
    "user" (mod_auth_form's key, or any module's), 401 without it; a
    SessionORMUserKey with a dot is taken as written there."""
    server = """
<Location /private>
    AuthType session-orm
    Require valid-user
</Location>
<Location /private/probe>
    SetHandler session-probe
</Location>
<Location /dotted>
    AuthType session-orm
    SessionORMUserKey app.user
    Require valid-user
</Location>
<Location /dotted/probe>
    SetHandler session-probe
</Location>
"""
    srv = httpd.start(orm_conf(db, server=server),
                      extra_modules=["authn_core", "authz_user"])
    c = srv.client()
    assert c.get("/private/probe?op=none").status == 401
    c.get("/probe?op=set&key=user&value=carol")
    r = c.get("/private/probe?op=none")
    assert r.status == 200 and r.value("user") == "carol", r
    assert c.get("/dotted/probe?op=none").status == 401
    c.get("/probe?op=set&key=app.user&value=dan")
    r = c.get("/dotted/probe?op=none")
    assert r.status == 200 and r.value("user") == "dan", r
    c.get("/probe?op=unset&key=user")
    assert c.get("/private/probe?op=none").status == 401
