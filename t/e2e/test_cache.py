"""The session cache in shared memory: SessionORMCache,
SessionORMCacheSeconds and SessionORMCacheEntries.

With `SessionORMCache /path`, a child reads a session from the cache when it
is there, else from the database (and then keeps it). A cached session is
used for SessionORMCacheSeconds without reading its row again: a change made
outside this httpd (another host of a farm, hand-made SQL) goes unseen for
at most that long. What this httpd itself does (a write, a logout, a
rotation, an expiry) is seen at once by every child; `session-orm revoke`
raises the generation counter kept in the cache file, which drops every
cached session at once. A session of more than 4096 bytes of data is not
cached.

Most tests prove first that the session they look at is cached: an
out-of-band change of its row (SQL through the database's own client, as
another program would make it) is not seen by the next request
(`prove_cached`). Only then is "seen at once" a statement about the cache's
invalidation and not about a session read from the database anyway.
"""

import concurrent.futures
import os
import re
import stat
import subprocess
import time

import pytest

from harness.client import TOKEN_RE
from harness.common import (HTTPD_USER, IS_ROOT, chown_to, sha256_hex,
                            sql_quote, user_for, where_id)
from harness.conf import COOKIE, dbd_indented, orm_conf
from harness.databases import selected_on
from test_admin_tool import TOOL, conn, ok, run_tool

CACHE_FILE = "orm.cache"
CACHE_PATH = "@DIR@/" + CACHE_FILE      # the httpd's own directory
ROTATED = "\x01rotated"

# --------------------------------------------------------------------------
# helpers (local to this file)


def cache_server(seconds=None, entries=None, path=CACHE_PATH, extra=""):
    """Server-scope lines: the cache on (at path), and the sweep off so
    that nothing but the test writes the table."""
    lines = ["SessionORMCache %s" % path, "SessionORMSweepInterval 0"]
    if seconds is not None:
        lines.append("SessionORMCacheSeconds %s" % seconds)
    if entries is not None:
        lines.append("SessionORMCacheEntries %s" % entries)
    if extra:
        lines.append(extra)
    return "\n".join(lines)


def cache_file(srv):
    return os.path.join(srv.dir, CACHE_FILE)


def with_token(token):
    return "%s=%s" % (COOKIE, token)


def stored_data(db, token, table="session"):
    rows = db.rows(table, "data", where=where_id(token))
    assert len(rows) == 1, "no row for the session: %r" % rows
    return rows[0][0]


def set_data_oob(db, data, token, table="session"):
    """Rewrite the row's data column behind httpd's back (hand-made SQL:
    updated_at is left alone)."""
    db.sql("UPDATE %s SET data = %s WHERE %s"
           % (table, sql_quote(data), where_id(token)))


def read(srv, token, key, port=None):
    """key's value in the session token reaches on srv (None: not set, or
    no session); no client's cookie jar is involved."""
    r = srv.get("/probe?op=get&key=%s" % key, port=port,
                headers={"Cookie": with_token(token)})
    assert r.status == 200, r
    return r.value(key)


def wait_value(srv, token, key, value, timeout):
    """Polls srv until key reads value (True), for at most timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        if read(srv, token, key) == value:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def prove_cached(srv, db, token, key, value, table="session", port=None):
    """The session is in srv's cache: after its row's key was changed out
    of band, the next requests still read the cached value. The row is
    put back as it was (the cache never saw the change)."""
    before = stored_data(db, token, table)
    assert "%s=%s" % (key, value) in before, before
    changed = before.replace("%s=%s" % (key, value), "%s=oob" % key)
    set_data_oob(db, changed, token, table)
    try:
        for _ in range(3):
            got = read(srv, token, key, port)
            assert got == value, \
                "the session was not served from the cache: after an " \
                "out-of-band change of its row the next request read %r " \
                "(cached: %r)" % (got, value)
    finally:
        set_data_oob(db, before, token, table)


def parallel_reads(srv, token, key, n=8, sleep_ms=150):
    """n reads of key, four at a time, each holding its worker sleep_ms
    after loading the session: the requests are spread over several
    workers (under prefork: processes)."""
    def one(_):
        r = srv.get("/probe?op=get&key=%s&sleep=%d" % (key, sleep_ms),
                    headers={"Cookie": with_token(token)})
        assert r.status == 200, r
        return r.value(key)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(n)))


def assert_no_session(srv, token):
    """token reaches no session: nothing is read, and the response
    expires the cookie (the session is unknown)."""
    r = srv.get("/probe?op=dump", headers={"Cookie": with_token(token)})
    assert r.status == 200, r
    assert r.entries() == {}, \
        "the old token still reaches a session: %r" % r
    assert [ck.expired for ck in r.cookies(COOKIE)] == [True], r.set_cookies


def tool(db, *args, **runas):
    """session-orm (as the user runas says, harness.common.user_for;
    by default as the tests run); whatever SQLite creates stays httpd's."""
    if runas:
        res = subprocess.run([TOOL] + list(args), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True, timeout=60, **runas)
    else:
        res = run_tool(*args)
    if db.backend == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(db.path + suffix):
                chown_to(db.path + suffix, HTTPD_USER)
    return res


def login(srv, db, value="1", user="alice"):
    """A cookie session with x=value, then logged in as user (the
    "<AuthName>-user" key mod_auth_form writes): the owner change gives it
    a new token. Returns the client."""
    c = srv.client()
    assert c.get("/probe?op=set&key=x&value=%s" % value).status == 200
    anon = c.token
    r = c.get("/probe?op=set&key=realm-user&value=" + user)
    assert r.status == 200, r
    assert TOKEN_RE.match(c.token) and c.token != anon, r.set_cookies
    assert db.rows(columns="user_name", where=where_id(c.token)) == \
        [(user,)]
    return c


def start(httpd, db, server, **kw):
    return httpd.start(orm_conf(db, server=server), **kw)


# --------------------------------------------------------------------------
# 1. a hit: the cache serves reads, for SessionORMCacheSeconds at most

@pytest.mark.mpms("event", "prefork")
def test_cache_serves_reads_for_cache_seconds(httpd, db, mpm):
    seconds = 3
    srv = start(httpd, db, cache_server(seconds), mpm=mpm)
    c = srv.client()
    t0 = time.monotonic()
    assert c.get("/probe?op=set&key=x&value=1").status == 200
    token = c.token
    assert read(srv, token, "x") == "1"
    t_cached = time.monotonic()         # cached at t0..t_cached

    set_data_oob(db, "x=2", token)
    # unseen while the cached copy is young: every read, on any worker
    seen = []
    while time.monotonic() - t_cached < seconds - 1.5:
        seen.append(read(srv, token, "x"))
        time.sleep(0.1)
    seen += parallel_reads(srv, token, "x", n=4, sleep_ms=50)
    assert time.monotonic() - t0 < seconds - 0.2, \
        "test too slow to be meaningful"
    assert seen and set(seen) == {"1"}, \
        "an out-of-band change was seen within SessionORMCacheSeconds " \
        "%d: the cache does not serve the reads (%r)" % (seconds, seen)

    # and seen once SessionORMCacheSeconds passed (polled: no later than
    # that bound after the cached copy was taken, plus slack)
    assert wait_value(srv, token, "x", "2", seconds + 3), \
        "the out-of-band change is still unseen %.1f s after the session " \
        "was cached (SessionORMCacheSeconds %d)" % (
            time.monotonic() - t_cached, seconds)
    waited = time.monotonic() - t0
    assert waited <= seconds + 1.5, \
        "the change was seen only %.1f s after caching " \
        "(SessionORMCacheSeconds %d)" % (waited, seconds)
    # every worker now reads the row's value
    assert set(parallel_reads(srv, token, "x", n=4, sleep_ms=50)) == {"2"}


def test_cache_seconds_default_is_5(httpd, sqlite_server):
    """Without SessionORMCacheSeconds a cached session is used for 5 s."""
    db = sqlite_server.new_database("cachedefault")
    srv = start(httpd, db, cache_server())
    c = srv.client()
    c.get("/probe?op=set&key=x&value=1")
    token = c.token
    assert read(srv, token, "x") == "1"
    t_cached = time.monotonic()
    set_data_oob(db, "x=2", token)
    time.sleep(max(0, 3.8 - (time.monotonic() - t_cached)))
    assert read(srv, token, "x") == "1", \
        "the change was seen after %.1f s (default 5 s)" % (
            time.monotonic() - t_cached)
    assert time.monotonic() - t_cached < 4.6, "test too slow"
    assert wait_value(srv, token, "x", "2", 5)
    assert time.monotonic() - t_cached <= 6.5, \
        "the change was seen only %.1f s after caching (default 5 s)" % (
            time.monotonic() - t_cached)


@pytest.mark.parametrize("setting", ["off", "absent"])
def test_cache_off_sees_out_of_band_changes_at_once(httpd, db, setting):
    """The control: without the cache (SessionORMCache Off, or no
    directive at all; SessionORMCacheSeconds alone turns nothing on) the
    same change is read by the very next request."""
    server = "SessionORMSweepInterval 0\nSessionORMCacheSeconds 3600"
    if setting == "off":
        server += "\nSessionORMCache Off"
    srv = start(httpd, db, server)
    c = srv.client()
    c.get("/probe?op=set&key=x&value=1")
    token = c.token
    assert read(srv, token, "x") == "1"
    set_data_oob(db, "x=2", token)
    assert read(srv, token, "x") == "2"
    set_data_oob(db, "x=3", token)
    assert set(parallel_reads(srv, token, "x", n=4, sleep_ms=20)) == {"3"}
    assert not os.path.exists(cache_file(srv))


# --------------------------------------------------------------------------
# 2. writes through httpd are seen at once, by every worker

@pytest.mark.mpms("event", "prefork")
def test_writes_seen_at_once_by_every_worker(httpd, db, mpm):
    srv = start(httpd, db, cache_server(3600), mpm=mpm)
    c = srv.client()
    c.get("/probe?op=set&key=a&value=1&key=b&value=keep")
    token = c.token
    assert set(parallel_reads(srv, token, "a")) == {"1"}
    prove_cached(srv, db, token, "a", "1")

    for value in ("2", "3", "four"):
        r = c.get("/probe?op=set&key=a&value=" + value)
        assert r.status == 200 and c.token == token, r
        got = parallel_reads(srv, token, "a")
        assert set(got) == {value}, \
            "after a=%s was written some workers read %r" % (value, got)
    # a key removed, another added: the whole session follows
    c.get("/probe?op=unset&key=b")
    assert set(parallel_reads(srv, token, "b")) == {None}
    c.get("/probe?op=set&key=c&value=new")
    assert set(parallel_reads(srv, token, "c")) == {"new"}
    assert c.get("/probe?op=dump").entries() == {"a": "four", "c": "new"}
    # the database agrees
    assert sorted(stored_data(db, token).split("&")) == ["a=four", "c=new"]


def test_writes_of_two_clients_seen_at_once(httpd, db):
    """Two clients of one session, each writing a key in turn: each
    reads the other's last write (a write replaces or drops the cached
    copy, it does not leave the one of another worker behind)."""
    srv = start(httpd, db, cache_server(3600))
    a = srv.client()
    a.get("/probe?op=set&key=a&value=0")
    b = srv.client()
    b.jar[COOKIE] = a.token
    for i in range(1, 6):
        a.get("/probe?op=set&key=a&value=%d" % i)
        assert b.get("/probe?op=get&key=a").value("a") == str(i)
        b.get("/probe?op=set&key=b&value=%d" % i)
        assert a.get("/probe?op=get&key=b").value("b") == str(i)
    assert a.token == b.token


# --------------------------------------------------------------------------
# 3. logout, removal and rotation take effect at once

@pytest.mark.mpms("event", "prefork")
@pytest.mark.parametrize("how", ["clear", "unset-last-key"])
def test_removed_session_gone_at_once(httpd, db, mpm, how):
    srv = start(httpd, db, cache_server(3600), mpm=mpm)
    c = srv.client()
    c.get("/probe?op=set&key=x&value=1")
    token = c.token
    assert set(parallel_reads(srv, token, "x")) == {"1"}
    prove_cached(srv, db, token, "x", "1")

    q = "op=clear" if how == "clear" else "op=unset&key=x"
    r = c.get("/probe?" + q)
    assert [ck.expired for ck in r.cookies(COOKIE)] == [True], r.set_cookies
    assert db.count(where=where_id(token)) == 0
    assert_no_session(srv, token)
    assert set(parallel_reads(srv, token, "x")) == {None}


@pytest.mark.parametrize("grace", [3, 0])
def test_rotation_on_login_at_once(httpd, db, grace):
    """Logging in rotates the token: the old token, cached just before,
    reaches nothing at once; the new one has the session."""
    srv = start(httpd, db, cache_server(
        3600, extra="SessionORMRotateGrace %d" % grace))
    c = srv.client()
    c.get("/probe?op=set&key=x&value=1")
    old = c.token
    assert read(srv, old, "x") == "1"
    prove_cached(srv, db, old, "x", "1")

    r = c.get("/probe?op=set&key=realm-user&value=alice")
    assert r.status == 200
    new = c.token
    assert TOKEN_RE.match(new) and new != old, r.set_cookies
    r = srv.get("/probe?op=dump", headers={"Cookie": with_token(old)})
    assert r.entries() == {}, \
        "the token the login replaced still reaches the cached session: " \
        "%r" % r
    if grace:
        # the rotation's marker: the old token's response leaves the
        # browser's new cookie alone
        assert r.set_cookies == [], r
        assert db.rows(columns="data", where=where_id(old)) == [(ROTATED,)]
    assert read(srv, new, "x") == "1"
    assert read(srv, new, "realm-user") == "alice"


def test_logout_of_owner_at_once(httpd, db):
    """A logged-in session, cached; the logout (the user key removed, as
    mod_auth_form's logout handler does) rotates it: its token reaches
    nothing at once, not even the user."""
    srv = start(httpd, db, cache_server(3600,
                                        extra="SessionORMRotateGrace 3"))
    c = login(srv, db)
    token = c.token
    assert read(srv, token, "realm-user") == "alice"
    prove_cached(srv, db, token, "x", "1")
    c.get("/probe?op=unset&key=realm-user")
    assert c.token != token
    r = srv.get("/probe?op=dump", headers={"Cookie": with_token(token)})
    assert r.entries() == {}, \
        "the logged-out token still reaches the cached session: %r" % r
    assert set(parallel_reads(srv, token, "realm-user")) == {None}


# --------------------------------------------------------------------------
# 4. the admin tool's revoke drops cached sessions at once


def test_revoke_user_drops_cached_session(httpd, db):
    srv = start(httpd, db, cache_server(3600))
    alice = login(srv, db, value="a", user="alice")
    bob = login(srv, db, value="b", user="bob")
    for c, v in ((alice, "a"), (bob, "b")):
        assert set(parallel_reads(srv, c.token, "x")) == {v}
        prove_cached(srv, db, c.token, "x", v)

    ok(tool(db, "--config", srv.conf_path, "revoke", "--user", "alice"),
       r"^revoked 1 sessions of user 'alice'")
    assert db.count(where="user_name = 'alice'") == 0
    assert_no_session(srv, alice.token)
    assert set(parallel_reads(srv, alice.token, "x")) == {None}
    # bob's session is still there (read again from its row)
    assert set(parallel_reads(srv, bob.token, "x")) == {"b"}
    assert bob.get("/probe?op=get&key=realm-user").value("realm-user") \
        == "bob"


def test_revoke_all_drops_cached_sessions(httpd, db):
    srv = start(httpd, db, cache_server(3600))
    clients = [login(srv, db, value="a", user="alice")]
    anon = srv.client()
    anon.get("/probe?op=set&key=x&value=anon")
    clients.append(anon)
    for c in clients:
        v = read(srv, c.token, "x")
        prove_cached(srv, db, c.token, "x", v)

    # (the login's rotation marker is a row too)
    ok(tool(db, "--config", srv.conf_path, "revoke", "--all"),
       r"^revoked all \d+ sessions")
    assert db.count() == 0
    for c in clients:
        assert_no_session(srv, c.token)


@pytest.mark.parametrize("what", ["unreadable", "directory", "foreign"])
def test_revoke_refused_when_cache_file_cannot_be_used(httpd, db, what):
    """When the tool cannot open the cache file, or the file is not a cache
    file, it names the file, exits 2 and revokes nothing: revoking rows
    the cache would go on serving would be a revoke that does not take
    effect. unreadable: the file is httpd's (root's when the tests run as
    root, mode 0600) and the tool runs as another user (as root: as
    ORM_HTTPD_USER; otherwise the file is made mode 000); directory: a
    directory in its place; foreign: a file that is no cache file (left
    as it is)."""
    srv = start(httpd, db, cache_server(3600))
    alice = login(srv, db)
    assert read(srv, alice.token, "x") == "1"
    path = cache_file(srv)
    assert os.path.isfile(path)
    saved = path + ".saved"
    runas = {}
    if what == "unreadable":
        if IS_ROOT:
            assert os.stat(path).st_uid == 0
            runas = user_for(HTTPD_USER)
        else:
            os.chmod(path, 0)
    else:
        os.rename(path, saved)
    if what == "directory":
        os.mkdir(path)
    elif what == "foreign":
        with open(path, "w") as f:
            f.write("hello\n")
    try:
        for args in (["revoke", "--user", "alice"], ["revoke", "--all"]):
            res = tool(db, "--config", srv.conf_path, *args, **runas)
            assert res.returncode == 2, \
                "%s: exit %d with an unusable cache file\n%s%s" % (
                    " ".join(args), res.returncode, res.stdout, res.stderr)
            assert path in res.stderr, \
                "%s: the message does not name %s:\n%s" % (
                    " ".join(args), path, res.stderr)
            assert "--help" not in res.stderr, \
                "not a usage error: no hint to --help\n" + res.stderr
            assert db.count(where="user_name = 'alice'") == 1, \
                "%s revoked the session without raising the cache's " \
                "generation" % " ".join(args)
        if what == "foreign":
            with open(path) as f:
                assert f.read() == "hello\n", "the tool changed the file"
    finally:
        if what == "unreadable":
            os.chmod(path, 0o600)
        else:
            if what == "directory":
                os.rmdir(path)
            else:
                os.unlink(path)
            os.rename(saved, path)
    assert read(srv, alice.token, "x") == "1"
    # with the file back the same command works
    ok(tool(db, "--config", srv.conf_path, "revoke", "--user", "alice"),
       r"^revoked 1 sessions of user 'alice'")
    assert_no_session(srv, alice.token)


def test_revoke_with_cache_option(httpd, db):
    """--cache FILE names the file without --config (--driver and
    --params); --cache Off revokes without it (the cached session is then
    still served: that is what the option says); a file that does not
    exist means no httpd uses it, and the revoke goes on."""
    srv = start(httpd, db, cache_server(3600))
    alice = login(srv, db, value="a", user="alice")
    bob = login(srv, db, value="b", user="bob")
    for c, v in ((alice, "a"), (bob, "b")):
        assert read(srv, c.token, "x") == v
        prove_cached(srv, db, c.token, "x", v)

    res = tool(db, *conn(db), "--cache", cache_file(srv), "revoke",
               "--user", "alice")
    ok(res, r"^revoked 1 sessions of user 'alice'")
    assert cache_file(srv) in res.stdout, res.stdout
    assert_no_session(srv, alice.token)
    assert read(srv, bob.token, "x") == "b"

    # no cache named: the row goes, the cached copy stays (for at most
    # SessionORMCacheSeconds)
    prove_cached(srv, db, bob.token, "x", "b")
    ok(tool(db, *conn(db), "--cache", "Off", "revoke", "--user", "bob"),
       r"^revoked 1 sessions of user 'bob'")
    assert db.count(where="user_name = 'bob'") == 0
    assert read(srv, bob.token, "x") == "b", \
        "--cache Off: the cached session was dropped all the same"
    carol = login(srv, db, value="c", user="carol")
    missing = os.path.join(srv.dir, "no-such.cache")
    res = tool(db, *conn(db), "--cache", missing, "revoke", "--user",
               "carol")
    ok(res, r"^revoked 1 sessions of user 'carol'")
    # said, in case an httpd lost the file it runs with
    assert "no SessionORMCache file %s" % missing in res.stderr, res.stderr
    assert not os.path.exists(missing), "the tool created the cache file"
    assert db.count(where="user_name = 'carol'") == 0
    # the --config way drops bob's cached copy
    ok(tool(db, "--config", srv.conf_path, "revoke", "--all"),
       r"^revoked all \d+ sessions")
    assert_no_session(srv, bob.token)


# --------------------------------------------------------------------------
# 5. an expired session is not served from the cache

def test_expired_session_not_served_from_cache(httpd, db):
    srv = start(httpd, db, cache_server(3600, extra="SessionORMTTL 2"))
    c = srv.client()
    t0 = time.monotonic()
    c.get("/probe?op=set&key=x&value=1")
    token = c.token
    assert read(srv, token, "x") == "1"
    prove_cached(srv, db, token, "x", "1")
    assert time.monotonic() - t0 < 1.5, "test too slow to be meaningful"

    time.sleep(max(0, 3.1 - (time.monotonic() - t0)))
    r = srv.get("/probe?op=get&key=x", headers={"Cookie": with_token(token)})
    assert r.value("x") is None, \
        "a session whose TTL passed was served from the cache: %r" % r
    assert [ck.expired for ck in r.cookies(COOKIE)] == [True], r.set_cookies
    assert set(parallel_reads(srv, token, "x", n=4, sleep_ms=20)) == {None}


# --------------------------------------------------------------------------
# 6. a session of more than 4096 bytes of data is not cached

def test_large_session_not_cached(httpd, db):
    srv = start(httpd, db, cache_server(3600))
    small, large = srv.client(), srv.client()
    # 3004 bytes of data: cached
    small.get("/probe?op=big&key=big&size=3000")
    assert read(srv, small.token, "big") == "x" * 3000
    prove_cached(srv, db, small.token, "big", "x" * 3000)
    # 6004 bytes: read from the row every time
    large.get("/probe?op=big&key=big&size=6000")
    assert len(stored_data(db, large.token)) > 4096
    assert read(srv, large.token, "big") == "x" * 6000
    assert read(srv, large.token, "big") == "x" * 6000
    set_data_oob(db, "big=" + "y" * 6000, large.token)
    assert read(srv, large.token, "big") == "y" * 6000, \
        "a session of more than 4096 bytes was served from the cache"
    set_data_oob(db, "big=" + "z" * 5000, large.token)
    assert set(parallel_reads(srv, large.token, "big", n=4,
                              sleep_ms=20)) == {"z" * 5000}


def test_cache_max_size_keeps_larger_sessions(httpd, db):
    """SessionORMCacheMaxSize 8192: the 6004-byte session is cached; one of
    over 8192 bytes is not."""
    srv = start(httpd, db, cache_server(3600,
                                        extra="SessionORMCacheMaxSize 8192"))
    large, larger = srv.client(), srv.client()
    large.get("/probe?op=big&key=big&size=6000")
    assert read(srv, large.token, "big") == "x" * 6000
    prove_cached(srv, db, large.token, "big", "x" * 6000)
    larger.get("/probe?op=big&key=big&size=9000")
    assert read(srv, larger.token, "big") == "x" * 9000
    set_data_oob(db, "big=" + "y" * 9000, larger.token)
    assert read(srv, larger.token, "big") == "y" * 9000, \
        "a session over SessionORMCacheMaxSize was served from the cache"


# --------------------------------------------------------------------------
# SessionORMCacheEntries: a full cache still serves the right sessions

@pytest.mark.mpms("event", "prefork")
def test_small_cache_serves_the_right_sessions(httpd, db, mpm):
    """40 sessions through a cache of 16 entries: whatever is evicted,
    each token reads its own session, before and after its writes."""
    srv = start(httpd, db, cache_server(3600, entries=16), mpm=mpm)
    clients = []
    for i in range(40):
        c = srv.client()
        c.get("/probe?op=set&key=n&value=%d" % i)
        clients.append(c)
    for rnd in range(2):
        for i, c in enumerate(clients):
            assert read(srv, c.token, "n") == str(i + 100 * rnd), (rnd, i)
        for i, c in enumerate(clients):
            c.get("/probe?op=set&key=n&value=%d" % (i + 100 * (rnd + 1)))

    def one(i):
        return i, read(srv, clients[i].token, "n")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        got = dict(pool.map(one, range(len(clients))))
    assert got == {i: str(i + 200) for i in range(len(clients))}


# --------------------------------------------------------------------------
# one cache, several virtual hosts: a session is cached for its own store

VHOSTS_CONF = """
SessionORMCache @DIR@/orm.cache
SessionORMCacheSeconds 3600
SessionORMSweepInterval 0
Session On
SessionORMCookieName orm

<VirtualHost 127.0.0.1:@PORT0@>
    @DBD_A@
    SessionORMTable sess_a
    <Location /probe>
        SetHandler session-probe
    </Location>
</VirtualHost>

<VirtualHost 127.0.0.1:@PORT1@>
    @DBD_B@
    SessionORMTable sess_b
    <Location /probe>
        SetHandler session-probe
    </Location>
</VirtualHost>

<VirtualHost 127.0.0.1:@PORT2@>
    @DBD_A@
    SessionORMTable sess_a
    <Location /probe>
        SetHandler session-probe
    </Location>
</VirtualHost>
"""


def test_cache_keeps_virtual_hosts_apart(httpd, db):
    """Three ports, one database, two tables, one cache: a token cached
    for one table reaches nothing in the other; the two virtual hosts on
    the same table see each other's writes at once."""
    conf = dbd_indented(db)
    srv = httpd.start(VHOSTS_CONF, nports=3, dbd_a=conf, dbd_b=conf)
    pa, pb, pa2 = srv.ports
    a = srv.client(port=pa)
    a.get("/probe?op=set&key=k&value=from-a")
    assert a.get("/probe?op=get&key=k").value("k") == "from-a"
    assert a.get("/probe?op=get&key=k").value("k") == "from-a"
    # a's cached token on b's port
    r = srv.get("/probe?op=get&key=k", port=pb,
                headers={"Cookie": with_token(a.token)})
    assert r.value("k") is None, \
        "a session of table sess_a was served for sess_b: %r" % r
    b = srv.client(port=pb)
    b.get("/probe?op=set&key=k&value=from-b")
    assert b.get("/probe?op=get&key=k").value("k") == "from-b"
    assert a.get("/probe?op=get&key=k").value("k") == "from-a"
    assert db.rows("sess_a", "id") == [(sha256_hex(a.token),)]
    assert db.rows("sess_b", "id") == [(sha256_hex(b.token),)]

    # the other virtual host on sess_a: the same session, cached once
    a2 = srv.client(port=pa2)
    a2.jar[COOKIE] = a.token
    assert a2.get("/probe?op=get&key=k").value("k") == "from-a"
    prove_cached(srv, db, a.token, "k", "from-a", table="sess_a", port=pa2)
    prove_cached(srv, db, a.token, "k", "from-a", table="sess_a", port=pa)
    a.get("/probe?op=set&key=k&value=again")
    assert a2.get("/probe?op=get&key=k").value("k") == "again"
    a2.get("/probe?op=set&key=k&value=from-a2")
    assert a.get("/probe?op=get&key=k").value("k") == "from-a2"


# --------------------------------------------------------------------------
# 7. a farm: another host's change is seen within SessionORMCacheSeconds

@pytest.mark.parametrize("db", selected_on("pgsql"), indirect=True)
@pytest.mark.parametrize("change", ["write", "logout"])
def test_farm_sees_other_hosts_changes_within_cache_seconds(httpd, db,
                                                            change):
    seconds = 2
    hosts = [start(httpd, db, cache_server(seconds), name="host%s" % n)
             for n in ("A", "B")]
    host_a, host_b = hosts
    assert cache_file(host_a) != cache_file(host_b)
    a = host_a.client()
    a.get("/probe?op=set&key=x&value=1")
    token = a.token
    assert read(host_b, token, "x") == "1"    # B caches it
    t_cached = time.monotonic()

    if change == "write":
        a.get("/probe?op=set&key=x&value=2")
        assert a.token == token
        want = "2"
    else:
        r = a.get("/probe?op=clear")
        assert [ck.expired for ck in r.cookies(COOKIE)] == [True]
        assert db.count(where=where_id(token)) == 0
        want = None
    assert read(host_a, token, "x") == want     # A: at once
    # B: the cached copy, right after the change ...
    stale = read(host_b, token, "x")
    assert time.monotonic() - t_cached < seconds - 0.5, \
        "test too slow to be meaningful"
    assert stale == "1", \
        "host B read %r right after host A's change: it did not cache " \
        "the session" % stale
    # ... and the change within SessionORMCacheSeconds (polled for 5 s)
    assert wait_value(host_b, token, "x", want, 5), \
        "host B still reads x=1 %.1f s after caching it " \
        "(SessionORMCacheSeconds %d)" % (time.monotonic() - t_cached,
                                         seconds)
    assert time.monotonic() - t_cached <= seconds + 1.5
    if change == "logout":
        assert_no_session(host_b, token)


@pytest.mark.parametrize("db", selected_on("pgsql"), indirect=True)
def test_farm_write_from_stale_copy_keeps_other_hosts_change(httpd, db):
    """Host B writes a session from its cached copy after host A changed
    it: B's write is conditional on the version it read, loses the race
    and merges its key into A's row; nothing of A's change is undone. B
    reads the merged session at once, A within SessionORMCacheSeconds."""
    seconds = 2
    hosts = [start(httpd, db, cache_server(seconds), name="host%s" % n)
             for n in ("A", "B")]
    host_a, host_b = hosts
    a = host_a.client()
    a.get("/probe?op=set&key=x&value=1")
    b = host_b.client()
    b.jar[COOKIE] = a.token
    assert b.get("/probe?op=get&key=x").value("x") == "1"
    a.get("/probe?op=set&key=x&value=2")
    assert read(host_b, a.token, "x") == "1", "host B did not cache it"
    r = b.get("/probe?op=set&key=y&value=fromB")
    assert r.status == 200 and b.token == a.token, r
    assert sorted(stored_data(db, a.token).split("&")) == \
        ["x=2", "y=fromB"], "host B's write from its stale copy undid " \
                            "host A's change"
    assert b.get("/probe?op=dump").entries() == {"x": "2", "y": "fromB"}
    assert wait_value(host_a, a.token, "y", "fromB", seconds + 3)
    assert a.get("/probe?op=dump").entries() == {"x": "2", "y": "fromB"}


# --------------------------------------------------------------------------
# 8. the cache file

def test_cache_file_created_at_start(httpd, db):
    srv = httpd.new(orm_conf(db, server=cache_server(3600)))
    path = cache_file(srv)
    assert not os.path.exists(path)
    srv.start()
    assert os.path.isfile(path), "httpd did not create %s" % path
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o600, "%s has mode %o, not 600" % (path, mode)
    # and the server works with it; a restart keeps using it
    c = srv.client()
    c.get("/probe?op=set&key=x&value=1")
    assert c.get("/probe?op=get&key=x").value("x") == "1"
    srv.restart()
    assert os.path.isfile(path)
    assert c.get("/probe?op=get&key=x").value("x") == "1"
    prove_cached(srv, db, c.token, "x", "1")


@pytest.mark.mpms("event", "prefork")
def test_graceful_restart_drops_cached_sessions(httpd, db, mpm):
    """A restart raises the generation: what was cached before it is read
    again from the rows."""
    srv = start(httpd, db, cache_server(3600), mpm=mpm)
    c = srv.client()
    c.get("/probe?op=set&key=x&value=1")
    token = c.token
    assert read(srv, token, "x") == "1"
    set_data_oob(db, "x=2", token)
    assert read(srv, token, "x") == "1", "not cached (test precondition)"
    srv.graceful()
    assert set(parallel_reads(srv, token, "x", n=4, sleep_ms=20)) == {"2"}
    # and the new generation caches again
    prove_cached(srv, db, token, "x", "2")


@pytest.mark.parametrize("content", [b"hello\n", b"\0" * 4096],
                         ids=["text", "zeros"])
def test_foreign_file_refused_and_left_alone(httpd, sqlite_server, content):
    db = sqlite_server.new_database("cachefile")
    srv = httpd.new(orm_conf(db, server=cache_server(3600)))
    path = cache_file(srv)
    with open(path, "wb") as f:
        f.write(content)
    os.chmod(path, 0o644)
    srv.expect_log(r"ORM0401", r"AH0\d+")
    rc, out, running = srv.start_fail()
    assert not running, "httpd started on a file that is no cache file"
    # out: what apache2 -k start printed and the error log
    lines = [l for l in out.splitlines() if "ORM0401" in l]
    assert lines, "no ORM0401:\n" + out
    assert any(path in l for l in lines), \
        "ORM0401 does not name %s:\n%s" % (path, "\n".join(lines))
    with open(path, "rb") as f:
        assert f.read() == content, "httpd changed the file"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_cache_shared_memory_cannot_be_made(httpd, sqlite_server):
    """ORM0402: the configuration allows the cache (under 1 GB), but the
    system does not give httpd that much memory (here: an address-space
    limit of 640 MiB on apache2): httpd does not start, and says how many
    sessions of what size it could not keep."""
    db = sqlite_server.new_database("cacheshm")
    entries, max_size = 230000, 4096       # about 900 MiB of shared memory
    srv = httpd.new(orm_conf(db, server=cache_server(
        3600, entries=entries,
        extra="SessionORMCacheMaxSize %d" % max_size)))
    rc, out = srv.configtest()
    assert rc == 0, "apache2 -t refused the configuration:\n" + out
    srv.expect_log(r"ORM0402", r"AH0\d+")
    rc, out, running = srv.start_fail(address_space=640 << 20)
    assert not running, "httpd started without the cache's shared memory"
    lines = [l for l in out.splitlines() if "ORM0402" in l]
    assert lines, "no ORM0402:\n" + out
    assert any("%d sessions of up to %d bytes" % (entries, max_size) in l
               for l in lines), "ORM0402 does not say what it could not " \
                                "make:\n" + "\n".join(lines)


# --------------------------------------------------------------------------
# 9. what apache2 -t refuses

BAD_CACHE_CONFIGS = [
    ("SessionORMCache cache/orm.cache", ["SessionORMCache", "absolute"]),
    ("SessionORMCache orm.cache", ["SessionORMCache", "absolute"]),
    ("SessionORMCache", ["SessionORMCache"]),
    ("SessionORMCache /tmp/a /tmp/b", ["SessionORMCache"]),
    ("SessionORMCacheSeconds 0", ["SessionORMCacheSeconds"]),
    ("SessionORMCacheSeconds 3601", ["SessionORMCacheSeconds"]),
    ("SessionORMCacheSeconds abc", ["SessionORMCacheSeconds"]),
    ("SessionORMCacheSeconds -1", ["SessionORMCacheSeconds"]),
    ("SessionORMCacheSeconds 5s", ["SessionORMCacheSeconds"]),
    ("SessionORMCacheEntries 15", ["SessionORMCacheEntries"]),
    ("SessionORMCacheEntries 1048577", ["SessionORMCacheEntries"]),
    ("SessionORMCacheEntries abc", ["SessionORMCacheEntries"]),
    ("SessionORMCacheEntries 0", ["SessionORMCacheEntries"]),
    ("SessionORMCacheMaxSize 255", ["SessionORMCacheMaxSize"]),
    ("SessionORMCacheMaxSize 1048577", ["SessionORMCacheMaxSize"]),
    ("SessionORMCacheMaxSize 4k", ["SessionORMCacheMaxSize"]),
    # what both make together: over 1 GB of shared memory
    ("SessionORMCache @DIR@/orm.cache\nSessionORMCacheEntries 1048576",
     ["ORM0014", "SessionORMCacheEntries", "SessionORMCacheMaxSize"]),
    ("SessionORMCache @DIR@/orm.cache\nSessionORMCacheEntries 65536\n"
     "SessionORMCacheMaxSize 65536",
     ["ORM0014", "SessionORMCacheEntries", "SessionORMCacheMaxSize"]),
]

NESTED_CACHE_DIRECTIVES = [
    "SessionORMCache @DIR@/orm.cache",
    "SessionORMCacheSeconds 10",
    "SessionORMCacheEntries 2048",
    "SessionORMCacheMaxSize 8192",
]

SECTIONS = {
    "virtualhost": "<VirtualHost 127.0.0.1:@PORT@>\n    ServerName v.test\n"
                   "    %s\n</VirtualHost>",
    "location": "<Location /probe>\n    %s\n</Location>",
    "directory": "<Directory \"@DIR@/htdocs\">\n    %s\n</Directory>",
}


def _refused(httpd, db, body, texts):
    srv = httpd.new(body)
    rc, out = srv.configtest()
    assert rc != 0, "apache2 -t accepted it:\n%s\n%s" % (body, out)
    assert "Syntax OK" not in out, out
    for t in texts:
        assert t.lower() in out.lower(), \
            "message does not name %r:\n%s" % (t, out)
    return srv


@pytest.mark.parametrize("line,texts", BAD_CACHE_CONFIGS,
                         ids=[re.sub(r"[^A-Za-z0-9]+", "_", l[0][15:])
                              .strip("_") or "none"
                              for l in BAD_CACHE_CONFIGS])
def test_bad_cache_config_is_refused(httpd, sqlite_server, line, texts):
    db = sqlite_server.new_database("badcache")
    srv = _refused(httpd, db, orm_conf(db, server=line), texts)
    rc, out, running = srv.start_fail()
    assert not running and rc != 0


@pytest.mark.parametrize("section", sorted(SECTIONS))
@pytest.mark.parametrize("line", NESTED_CACHE_DIRECTIVES,
                         ids=["cache", "seconds", "entries", "max_size"])
def test_cache_directives_main_server_only(httpd, sqlite_server, section,
                                           line):
    db = sqlite_server.new_database("cachescope")
    name = line.split()[0]
    _refused(httpd, db, orm_conf(db) + "\n" + SECTIONS[section] % line,
             [name])


GOOD_CACHE_CONFIGS = [
    "SessionORMCache Off",
    "SessionORMCache Off\nSessionORMCacheSeconds 1\n"
    "SessionORMCacheEntries 16\nSessionORMCacheMaxSize 256",
    "SessionORMCache @DIR@/orm.cache\nSessionORMCacheSeconds 3600\n"
    "SessionORMCacheEntries 1048576\nSessionORMCacheMaxSize 256",
    "SessionORMCache @DIR@/orm.cache\nSessionORMCacheEntries 16\n"
    "SessionORMCacheMaxSize 1048576",
    "SessionORMCache @DIR@/orm.cache",
]


@pytest.mark.parametrize("server", GOOD_CACHE_CONFIGS,
                         ids=["off", "off-limits-low", "limits-high",
                              "largest-sessions", "defaults"])
def test_good_cache_config_is_accepted(httpd, sqlite_server, server):
    db = sqlite_server.new_database("goodcache")
    srv = httpd.new(orm_conf(db, server=server))
    rc, out = srv.configtest()
    assert rc == 0 and "Syntax OK" in out, out
    srv.start()
    c = srv.client()
    c.get("/probe?op=set&key=x&value=1")
    assert c.get("/probe?op=get&key=x").value("x") == "1"
