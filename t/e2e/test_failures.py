"""Failures and limits: the database going away (SessionORMOnError,
SessionORMRetryAfter), restarts under load, SessionORMMaxSize, hostile
cookies and corrupted rows.

README, "Concurrency, failures and limits": requests are served per
SessionORMOnError while the database fails; a session whose load failed is
never saved over the stored one; after a failed connection requests skip
the database for SessionORMRetryAfter seconds; a dropped connection is
reconnected and its statements prepared again; one ORM0112 per outage, one
ORM0114 when it ends.

PostgreSQL and MariaDB outages need a server the test can stop and start
again: the shared servers of the harness are left alone, this module starts
its own (one per database behind, with the harness' classes, reused by its
tests; the ODBC kinds reach the same one through data sources).
"""

import concurrent.futures
import http.client
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest

from harness.client import TOKEN_RE
from harness.common import (HarnessError, make_dir, merge_path,
                            run_parallel, sha256_hex, sql_quote, wait_for)
from harness.conf import AUTH_MODULES, COOKIE, HTPASSWD, orm_conf
from harness.logs import DBD_CONNECT_FAILURES
from harness.databases import (SERVER_CLASSES, allow_skip, backend_of,
                               driver_of,
                               selected_dbs, selected_on, server_of_kind)

# mod_dbd (and apr_dbd_odbc) report every failed connection attempt
DBD_LINES = DBD_CONNECT_FAILURES

RETRY_AFTER = 3


# --------------------------------------------------------------------------
# a PostgreSQL / MariaDB server that can be stopped and started again

@pytest.fixture(scope="module")
def db_servers(session_state, request):
    """kind -> a private server of the harness class for the database
    behind `kind` (it can be stopped and started again), as `kind` sees it;
    started on first use, stopped at the end of the module. Each module
    that uses it (test_status imports it) has servers of its own, in a
    directory named after the module."""
    servers = {}
    module = request.module.__name__.rpartition(".")[2]

    def get(kind):
        backend = backend_of(kind)
        try:
            if backend not in servers:
                d = make_dir(os.path.join(session_state.basedir,
                                          "restartable-%s-%s"
                                          % (module, backend)))
                servers[backend] = SERVER_CLASSES[backend](d)
            srv = server_of_kind(kind, servers[backend], session_state)
        except HarnessError as e:
            if allow_skip():
                pytest.skip("%s unavailable: %s" % (kind, e))
            raise
        if not srv.running:         # a failed test left it stopped
            srv.start_server()
        return srv
    yield get
    for srv in servers.values():
        srv.stop()


class Outage:
    """Takes the session table away and brings it back: a stopped server
    for PostgreSQL and MariaDB; for SQLite (no server) the table is renamed
    away, which makes every statement fail as well."""

    def __init__(self, kind, db, server=None):
        self.kind = kind
        self.db = db
        self.server = server

    def begin(self):
        if self.server:
            self.server.stop_server()
        else:
            self.db.sql('ALTER TABLE "session" RENAME TO "session_away"')

    def end(self):
        if self.server:
            self.server.start_server()
        else:
            self.db.sql('ALTER TABLE "session_away" RENAME TO "session"')


def outage_setup(kind, request, db_servers, name, retry):
    """(db, Outage, server-scope directives) for an outage test of `kind`."""
    server = "SessionORMSweepInterval 0\nSessionORMRetryAfter %d\n" % retry
    if backend_of(kind) == "sqlite":
        db = request.getfixturevalue("new_db")(kind, name)
        # with SessionORMCreateSchema On the module would create a new table
        # in place of the renamed one (and the rename back would fail)
        db.create_session_table()
        server += "SessionORMCreateSchema Off\n"
        return db, Outage(kind, db), server
    own = db_servers(kind)
    db = own.new_database(name)
    return db, Outage(kind, db, own), server


def start_for_outage(httpd, kind, db, server, scope="", **kw):
    """httpd on db, told to expect what an outage logs: ORM0112 and the
    driver's failed connections, and for SQLite's missing table, met first
    as "cannot be read and SessionORMCreateSchema is Off", ORM0102 (see
    assert_one_error)."""
    srv = httpd.new(orm_conf(db, server=server, scope=scope), **kw)
    srv.expect_log(r"ORM0112:", DBD_LINES)
    if backend_of(kind) == "sqlite":
        srv.expect_log(r"ORM0102:")
    srv.start()
    return srv


def count_lines(srv, pattern, mark=0):
    rx = re.compile(pattern)
    return [l for l in srv.log_since(mark) if rx.search(l)]


def assert_clean_message(line):
    """The driver's message in a log line is text (httpd writes other bytes
    as \\xNN: a message read from a buffer the driver reused meanwhile)."""
    assert not re.search(r"\\x[0-9a-fA-F]{2}", line), \
        "garbage in the logged driver message: " + line


def assert_one_error(srv, kind, mark):
    """One error line of ours for the whole outage: ORM0112; for SQLite's
    missing table the first failure is met when the table is checked, as
    ORM0102, which shares the once-per-outage gate."""
    errs = count_lines(srv, r"\[session_orm:(error|crit|alert|emerg)\]",
                       mark)
    assert len(errs) == 1, "not exactly one error line for the outage:\n" \
        + "\n".join(errs)
    ids = (("ORM0112:", "ORM0102:") if backend_of(kind) == "sqlite"
           else ("ORM0112:",))
    assert any(i in errs[0] for i in ids), errs[0]
    assert_clean_message(errs[0])


def wait_recovery_logged(srv, client, mark, timeout=5):
    """ORM0114: logged by the first request that finds the database
    answering once no failure was seen for a moment (a server that flaps
    while it restarts is one outage): requests go on meanwhile."""
    def logged():
        client.get("/probe?op=none", update_jar=False)
        return bool(count_lines(srv, r"ORM0114:", mark))
    return wait_for(logged, timeout, 0.3)


def timed_get(client, path, **kw):
    t0 = time.monotonic()
    r = client.get(path, **kw)
    return r, time.monotonic() - t0


def stored_data(db, token):
    rows = db.rows(columns="data", where="id = %s"
                   % sql_quote(sha256_hex(token)))
    return rows[0][0] if rows else None


# --------------------------------------------------------------------------
# SessionORMOnError anonymous / fail while the database is down

@pytest.mark.parametrize("kind", selected_dbs())
def test_outage_anonymous(httpd, request, db_servers, kind):
    retry = 1
    db, outage, server = outage_setup(kind, request, db_servers, "anon",
                                      retry)
    srv = start_for_outage(httpd, kind, db, server, debug=True)

    c = srv.client()
    assert c.get("/probe?op=set&key=a&value=1&key=b&value=two").status == 200
    token = c.token
    assert token
    assert c.get("/probe?op=get&key=a").value("a") == "1"
    before = stored_data(db, token)
    assert before and "a=1" in before

    mark = srv.log_mark()
    outage.begin()
    t_down = time.monotonic()
    slow = []
    n = 0
    # longer than SessionORMRetryAfter: requests that skip the database and
    # requests that try it again and fail
    while time.monotonic() - t_down < retry + 1.5:
        n += 1
        r, dt = timed_get(c, "/probe?op=get&key=a&key=b", update_jar=False)
        assert r.status == 200, (n, r)
        assert r.value("a") is None and r.value("b") is None, r
        assert "session=on" in r.body
        if dt > 3:
            slow.append(("get", dt))
        # the request tries to change the session it could not load
        r, dt = timed_get(c, "/probe?op=set&key=a&value=lost%d" % n,
                          update_jar=False)
        assert r.status == 200, (n, r)
        assert r.set_cookies == [], \
            "a session that could not be loaded answered with a cookie: %r" \
            % r.set_cookies
        if dt > 3:
            slow.append(("set", dt))
        # a client without a cookie is served too
        r, dt = timed_get(srv.client(), "/probe?op=set&key=z&value=1")
        assert r.status == 200, r
        if dt > 3:
            slow.append(("new", dt))
        time.sleep(0.2)
    assert not slow, "requests waited on the dead database: %r" % slow
    assert n >= 5

    outage.end()
    t_up = time.monotonic()

    def back():
        r = c.get("/probe?op=get&key=a&key=b", update_jar=False)
        assert r.status == 200, r
        return r.value("a") == "1"
    assert wait_for(back, retry + 5, 0.2), \
        "old session not readable after the database came back:\n%s" % \
        "\n".join(srv.log_since(mark)[-20:])
    recovery = time.monotonic() - t_up
    assert recovery <= retry + 3, recovery
    r = c.get("/probe?op=dump")
    assert r.entries() == {"a": "1", "b": "two"}, r
    assert stored_data(db, token) == before, "stored session overwritten"

    # logged once for the outage, once for the recovery
    assert wait_recovery_logged(srv, c, mark)
    assert_one_error(srv, kind, mark)
    # the further failures (debug) name the driver's message too
    for line in count_lines(srv, r"ORM011[23]:", mark):
        assert_clean_message(line)
    oks = count_lines(srv, r"ORM0114:", mark)
    assert len(oks) == 1, oks
    assert "[session_orm:notice]" in oks[0], oks[0]
    # writes after the recovery work again
    assert c.get("/probe?op=set&key=c&value=3").status == 200
    assert c.get("/probe?op=dump").entries() == {"a": "1", "b": "two",
                                                "c": "3"}


@pytest.mark.parametrize("kind", selected_dbs())
def test_outage_fail(httpd, request, db_servers, kind):
    db, outage, server = outage_setup(kind, request, db_servers, "fail",
                                      RETRY_AFTER)
    srv = start_for_outage(httpd, kind, db, server,
                           scope="SessionORMOnError fail")

    c = srv.client()
    c.get("/probe?op=set&key=a&value=1")
    assert c.get("/probe?op=get&key=a").value("a") == "1"
    token = c.token
    before = stored_data(db, token)

    mark = srv.log_mark()
    outage.begin()
    t_down = time.monotonic()
    n = 0
    while time.monotonic() - t_down < RETRY_AFTER + 1:
        n += 1
        for q in ("op=get&key=a", "op=set&key=a&value=lost"):
            r, dt = timed_get(c, "/probe?" + q, update_jar=False)
            assert r.status == 503, (q, r)
            assert r.header("Retry-After") == str(RETRY_AFTER), r.headers
            assert dt < 3, "request took %.1f s" % dt
            assert "a=1" not in r.body
        time.sleep(0.25)
    assert n >= 3
    outage.end()

    def back():
        r = c.get("/probe?op=get&key=a", update_jar=False)
        assert r.status in (200, 503), r
        return r.status == 200 and r.value("a") == "1"
    assert wait_for(back, RETRY_AFTER + 5, 0.2), \
        "\n".join(srv.log_since(mark)[-20:])
    r = c.get("/probe?op=get&key=a")
    assert r.status == 200 and r.header("Retry-After") is None
    assert stored_data(db, token) == before
    assert_one_error(srv, kind, mark)
    assert wait_recovery_logged(srv, c, mark)


@pytest.mark.parametrize("kind", selected_dbs())
def test_outage_with_cache_serves_cached_sessions(httpd, request,
                                                  db_servers, kind, workdir):
    """SessionORMCache: while the database is down a cached session is
    still read; a change to it is not saved, nor kept as if it were (a
    failed write may leave the cache without the session: its outcome is
    not known), and what the cache lacks is answered per
    SessionORMOnError."""
    db, outage, server = outage_setup(kind, request, db_servers, "cached",
                                      RETRY_AFTER)
    server += "SessionORMCache %s\nSessionORMCacheSeconds 3600\n" % (
        os.path.join(workdir, "orm.cache"))
    srv = start_for_outage(httpd, kind, db, server,
                           scope="SessionORMOnError fail")

    c = srv.client()
    assert c.get("/probe?op=set&key=a&value=1").status == 200
    assert c.get("/probe?op=get&key=a").value("a") == "1"
    token = c.token
    before = stored_data(db, token)

    mark = srv.log_mark()
    outage.begin()
    try:
        for n in range(5):
            r, dt = timed_get(c, "/probe?op=get&key=a", update_jar=False)
            assert r.status == 200 and r.value("a") == "1", (n, r)
            assert dt < 3, "request took %.1f s" % dt
        r, dt = timed_get(c, "/probe?op=set&key=a&value=lost",
                          update_jar=False)
        assert dt < 3, "request took %.1f s" % dt
        assert r.set_cookies == [], r.set_cookies
        for n in range(3):
            r = c.get("/probe?op=get&key=a", update_jar=False)
            assert (r.status, r.value("a")) in ((200, "1"), (503, None)), \
                (n, r)
        # a session the cache does not have: per SessionORMOnError
        r = srv.client().get("/probe?op=get&key=a", update_jar=False,
                             headers={"Cookie": "%s=%s" % (COOKIE, "A" * 43)})
        assert r.status == 503, r
    finally:
        outage.end()

    def back():
        r = c.get("/probe?op=set&key=b&value=2", update_jar=False)
        return r.status == 200 and r.set_cookies != []
    assert wait_for(back, RETRY_AFTER + 5, 0.2), \
        "\n".join(srv.log_since(mark)[-20:])
    assert c.get("/probe?op=dump").entries() == {"a": "1", "b": "2"}
    assert stored_data(db, token) != before     # written again, at last
    assert_one_error(srv, kind, mark)


# --------------------------------------------------------------------------
# the database restarted while traffic runs

def _acked(resp, token, key):
    """A write is acknowledged when the probe set it and the session was
    saved: mod_session_orm sends the cookie only after a successful save
    (a request whose load failed answers 200 "set:" too, without saving)."""
    if resp.status != 200 or ("set:%s" % key) not in resp.body:
        return False
    cks = resp.cookies(COOKIE)
    return len(cks) == 1 and cks[0].value == token and not cks[0].expired


# the servers a test can restart (SQLite has none), through every driver
RESTART_DBS = selected_on("pgsql", "mysql")
# and stall, through the native drivers only: through odbc the module
# cannot cut a call into a stopped server (the watchdog shuts the socket of
# libpq or libmariadb down; an ODBC handle gives no socket). README,
# "Drivers", says so.
STALL_DBS = [k for k in RESTART_DBS if driver_of(k) != "odbc"]


@pytest.mark.parametrize("kind", RESTART_DBS)
def test_restart_under_load(httpd, db_servers, kind):
    own = db_servers(kind)
    db = own.new_database("load")
    srv = httpd.new(orm_conf(db, server="SessionORMSweepInterval 0\n"
                                        "SessionORMRetryAfter 1\n"))
    srv.expect_log(r"ORM0112:", DBD_LINES)
    srv.start()

    nsessions = 20
    clients = []
    for i in range(nsessions):
        c = srv.client()
        r = c.get("/probe?op=set&key=n&value=0&key=id&value=%d" % i)
        assert _acked(r, c.token, "n"), r
        clients.append(c)

    stop = threading.Event()
    state = [{"acked": 0, "attempted": 0, "acks": [], "errors": [],
              "statuses": {}} for _ in range(nsessions)]

    def worker(i):
        c, st = clients[i], state[i]
        n = 0
        while not stop.is_set():
            n += 1
            st["attempted"] = n
            try:
                r = c.get("/probe?op=set&key=n&value=%d" % n,
                          update_jar=False)
            except (OSError, http.client.HTTPException) as e:
                st["errors"].append(repr(e))
                time.sleep(0.05)
                continue
            st["statuses"][r.status] = st["statuses"].get(r.status, 0) + 1
            if _acked(r, c.token, "n"):
                st["acked"] = n
                st["acks"].append(time.monotonic())
            time.sleep(0.02)

    mark = srv.log_mark()
    with concurrent.futures.ThreadPoolExecutor(nsessions) as pool:
        futs = [pool.submit(worker, i) for i in range(nsessions)]
        try:
            time.sleep(1.5)
            restarts = []
            for _ in range(2):
                own.stop_server()
                time.sleep(0.5)
                own.start_server()
                restarts.append(time.monotonic())
                time.sleep(2.0)
            time.sleep(0.5)
        finally:
            stop.set()
            for f in futs:
                f.result()

    last_restart = restarts[-1]
    total = sum(st["attempted"] for st in state)
    acked = sum(len(st["acks"]) for st in state)
    print("%s: %d writes, %d acknowledged" % (kind, total, acked))
    # the restarts were felt (otherwise this test proves nothing)
    assert acked < total, "no write failed during the restarts"
    problems = []
    for i, st in enumerate(state):
        if st["errors"]:
            problems.append("session %d: transport errors %r"
                            % (i, st["errors"][:3]))
        if any(s >= 500 for s in st["statuses"]):
            problems.append("session %d: statuses %r" % (i, st["statuses"]))
        after = [t for t in st["acks"] if t >= last_restart]
        if not after:
            problems.append("session %d: no acknowledged write after the "
                            "last restart" % i)
        elif after[0] - last_restart > 4:
            problems.append("session %d: first acknowledged write %.1f s "
                            "after the restart" % (i, after[0] - last_restart))
    assert not problems, "\n".join(problems) + "\n" + \
        "\n".join(srv.log_since(mark)[-20:])

    # every session reads its last acknowledged value (or a later one whose
    # save succeeded although its response did not say so)
    for i, (c, st) in enumerate(zip(clients, state)):
        r = c.get("/probe?op=get&key=n&key=id", update_jar=False)
        assert r.status == 200, r
        assert r.value("id") == str(i), (i, r)
        n = int(r.value("n"))
        assert st["acked"] <= n <= st["attempted"], \
            "session %d reads n=%d, last acknowledged %d (attempted %d)" % (
                i, n, st["acked"], st["attempted"])
    assert db.count() == nsessions
    # each outage logged, each one ended
    errs = count_lines(srv, r"\[session_orm:(error|crit|alert|emerg)\]",
                       mark)
    oks = count_lines(srv, r"ORM0114:", mark)
    # one pair per restart (issue 9 item 10): a server going down can still
    # answer on some connections for a moment, which must not end the
    # outage and start another
    assert len(errs) == len(restarts), "\n".join(errs)
    assert all("ORM0112:" in l for l in errs), "\n".join(errs)
    assert len(oks) == len(restarts), "\n".join(errs + oks)


# --------------------------------------------------------------------------
# SessionORMMaxSize

SIZE_RE = re.compile(r"ORM0210:.*session (?P<prefix>\S+) not saved: "
                     r"(?P<size>\d+) bytes .*SessionORMMaxSize (?P<max>\d+)")


def test_max_size(httpd, db):
    srv = httpd.new(orm_conf(db, scope="SessionORMMaxSize 1000"))
    srv.expect_log(r"ORM0210:")
    srv.start()
    c = srv.client()
    assert c.get("/probe?op=set&key=a&value=small").status == 200
    token = c.token
    sid = sha256_hex(token)

    mark = srv.log_mark()
    r = c.get("/probe?op=big&key=big&size=2000")
    assert r.status == 200, r
    assert r.set_cookies == [], r.set_cookies
    assert c.get("/probe?op=dump").entries() == {"a": "small"}
    assert "x" * 100 not in stored_data(db, token)
    lines = count_lines(srv, r"ORM0210:", mark)
    assert len(lines) == 1, lines
    assert "[session_orm:warn]" in lines[0]
    m = SIZE_RE.search(lines[0])
    assert m, lines[0]
    assert sid.startswith(m.group("prefix")) and len(m.group("prefix")) >= 8
    assert 2000 <= int(m.group("size")) < 2200, lines[0]
    assert m.group("max") == "1000"
    assert token not in srv.log_text()

    # under the limit: saved
    r = c.get("/probe?op=big&key=mid&size=500")
    assert r.status == 200 and len(r.cookies(COOKIE)) == 1
    assert c.get("/probe?op=get&key=mid").value("mid") == "x" * 500
    assert "x" * 500 in stored_data(db, token)

    # a new session over the limit: no row, no cookie
    n = db.count()
    c2 = srv.client()
    r = c2.get("/probe?op=big&key=big&size=2000")
    assert r.status == 200 and r.set_cookies == []
    assert db.count() == n
    # issue 9 item 10: nothing per request; 20 more oversized requests add
    # no line (at most one per interval, with the count of the rest)
    for _ in range(20):
        r = srv.client().get("/probe?op=big&key=big&size=2000")
        assert r.status == 200 and r.set_cookies == []
    assert db.count() == n
    assert len(count_lines(srv, r"ORM0210:", mark)) == 1


# --------------------------------------------------------------------------
# cookies of any content

def raw_request(port, cookie_bytes, path="/probe?op=dump"):
    """A request with a Cookie header of arbitrary bytes; returns (status,
    raw response text)."""
    req = (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Connection: close\r\nCookie: " + cookie_bytes + b"\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(req)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    text = data.decode("latin-1")
    status = int(text.split(" ", 2)[1])
    return status, text


GARBAGE = [
    ("overlong", "A" * 16000),
    ("overlong-mixed", ("Ab0_-" * 3300)[:16300]),
    ("short", "abc"),
    ("42", "A" * 42),
    ("44", "A" * 44),
    ("std-base64", "+/" * 21 + "A"),
    ("padded", "A" * 42 + "="),
    ("percent", "%41" * 14 + "A"),
    ("percent-garbage", "%00%ff%0d%0a%3B%3d%25%zz%"),
    ("quoted", '"' + "A" * 41 + '"'),
    ("unknown-token", "Q" * 43),
    ("empty", ""),
    ("sql", "x'; DROP TABLE session; --"),
]


def test_garbage_cookies(httpd, db):
    srv = httpd.start(orm_conf(db))
    keeper = srv.client()
    keeper.get("/probe?op=set&key=keep&value=me")
    ktoken = keeper.token
    rows_before = db.count()

    for name, value in GARBAGE:
        cookie = "%s=%s" % (COOKIE, value)
        r = srv.get("/probe?op=dump", headers={"Cookie": cookie})
        assert r.status == 200, (name, r)
        assert r.entries() == {}, (name, r)
        # told to drop the cookie, nothing else
        assert [ck.expired for ck in r.cookies(COOKIE)] == [True], (name, r)
        # writing gives a fresh session with a new token
        c = srv.client()
        c.jar[COOKIE] = value
        r = c.get("/probe?op=set&key=g&value=%s" % name)
        assert r.status == 200, (name, r)
        cks = r.cookies(COOKIE)
        assert len(cks) == 1 and TOKEN_RE.match(cks[0].value), (name, r)
        assert cks[0].value != value
        assert c.get("/probe?op=get&key=g").value("g") == name

    # binary bytes (obs-text) and control characters
    for raw in (bytes(range(0x80, 0x100)),
                b"orm=" + bytes(range(0x80, 0x100)),
                b"orm=" + b"\xff" * 43,
                b"orm=\x01\x02\x7f" + b"A" * 40,
                b"orm=A\tB; orm=\x00x"):
        status, text = raw_request(srv.port, raw)
        # httpd itself may refuse control characters (400); never 5xx
        assert status in (200, 400), (raw, text[:300])
        if status == 200:
            assert "keep=me" not in text

    assert db.count() == rows_before + len(GARBAGE)
    assert keeper.get("/probe?op=dump").entries() == {"keep": "me"}
    assert keeper.token == ktoken
    assert db.has_table("session")


def test_duplicate_cookies(httpd, db):
    """Several cookies of our name: a fresh session (or, when one of them is
    the valid token, that session), never an error -- and no error-log
    line, since any client can send them."""
    srv = httpd.start(orm_conf(db))
    keeper = srv.client()
    keeper.get("/probe?op=set&key=keep&value=me")
    ktoken = keeper.token

    # many cookies of our name, malformed or unknown
    many = "; ".join("%s=junk%d" % (COOKIE, i) for i in range(200))
    many += "; %s=%s" % (COOKIE, "Z" * 43)
    r = srv.get("/probe?op=dump", headers={"Cookie": many})
    assert r.status == 200 and r.entries() == {}, r
    # several of our name, one of them valid: never an error
    for mixed in ("%s=junk; %s=%s" % (COOKIE, COOKIE, ktoken),
                  "%s=%s; %s=junk" % (COOKIE, ktoken, COOKIE),
                  "%s=%s; %s=%s" % (COOKIE, ktoken, COOKIE, "Y" * 43)):
        r = srv.get("/probe?op=dump", headers={"Cookie": mixed})
        assert r.status == 200, (mixed, r)
        assert r.entries() in ({}, {"keep": "me"}), (mixed, r)
    # the same token twice is that session
    r = srv.get("/probe?op=dump", headers={
        "Cookie": "%s=%s; %s=%s" % (COOKIE, ktoken, COOKIE, ktoken)})
    assert r.status == 200 and r.entries() == {"keep": "me"}, r

    assert keeper.get("/probe?op=dump").entries() == {"keep": "me"}


# --------------------------------------------------------------------------
# corrupted stored rows

def make_nullable(db):
    if db.backend == "pgsql":
        db.sql('ALTER TABLE "session" ALTER COLUMN data DROP NOT NULL')
    elif db.backend == "mysql":
        db.sql("ALTER TABLE session MODIFY data MEDIUMTEXT NULL")


def test_corrupted_rows(httpd, db):
    srv = httpd.new(orm_conf(db))
    srv.expect_log(r"\[session_orm:warn\].*ORM0109:")
    srv.start()

    def new_session(q):
        c = srv.client()
        r = c.get("/probe?op=set&" + q)
        assert r.status == 200 and c.token
        return c, "id = %s" % sql_quote(sha256_hex(c.token))

    unwarned = []

    def assert_fresh(c, what):
        mark = srv.log_mark()
        r = c.get("/probe?op=dump", update_jar=False)
        assert r.status == 200, (what, r)
        assert r.entries() == {}, (what, r)
        if not any("ORM0109:" in l for l in srv.log_since(mark)):
            unwarned.append(what)       # checked at the end
        # the client can go on with a fresh session
        r = c.get("/probe?op=set&key=after&value=1")
        assert r.status == 200, (what, r)
        assert c.get("/probe?op=dump").entries() == {"after": "1"}, what

    # non-numeric times (SQLite's column affinity keeps the text)
    if db.backend == "sqlite":
        c, where = new_session("key=a&value=1")
        db.sql("UPDATE session SET expires_at = 'abc' WHERE " + where)
        assert_fresh(c, "expires_at=abc")
        c, where = new_session("key=a&value=1")
        db.sql("UPDATE session SET updated_at = 'later' WHERE " + where)
        assert_fresh(c, "updated_at=later")
    else:
        # missing data where the column can be made nullable
        c, where = new_session("key=a&value=1")
        make_nullable(db)
        db.sql("UPDATE session SET data = NULL WHERE " + where)
        assert_fresh(c, "data=NULL")

    # empty data: an empty session, no error
    c, where = new_session("key=a&value=1")
    db.sql("UPDATE session SET data = '' WHERE " + where)
    r = c.get("/probe?op=dump", update_jar=False)
    assert r.status == 200 and r.entries() == {}, r

    # data truncated to half: what can be decoded is decoded
    pairs = [("k%d" % i, "value-%d-%s" % (i, "v" * i)) for i in range(8)]
    pairs.append(("sym", "a&b=c d%e"))
    q = "&".join("key=%s&value=%s" % (k, urllib.parse.quote(v, safe=""))
                 for k, v in pairs)
    orig = dict(pairs)
    for cut in ("half", "percent"):
        c, where = new_session(q)
        data = db.rows(columns="data", where=where)[0][0]
        if cut == "half":
            part = data[:len(data) // 2]
        else:
            i = data.find("%")
            assert i > 0, data
            part = data[:i + 2]         # ends inside an escape: "%2"
        db.sql("UPDATE session SET data = %s WHERE %s"
               % (sql_quote(part), where))
        r = c.get("/probe?op=dump", update_jar=False)
        assert r.status == 200, (cut, r)
        got = r.entries()
        assert got, (cut, part, r)
        for k, v in got.items():
            assert k in orig and orig[k].startswith(v), (cut, k, v, part)
        # and the session can be written again
        r = c.get("/probe?op=set&key=new&value=1")
        assert r.status == 200
        assert c.get("/probe?op=get&key=new").value("new") == "1"

    assert not unwarned, "unreadable rows served without an ORM0109 " \
        "warning: %s" % ", ".join(unwarned)


# --------------------------------------------------------------------------
# issue 9 item 6: a hung database (every process of it stopped) holds a
# request no longer than SessionORMTimeout

TIMEOUT = 2
STALL_RETRY = 5


def process_tree(pid):
    """pid and all its descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def signal_tree(pids, sig):
    for p in pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


def stall_setup(kind, request, db_servers, httpd, on_error):
    """A server on a private database of `kind` with SessionORMTimeout, a
    client with a session, and the database server's process tree."""
    own = db_servers(kind)
    db = own.new_database("stall_" + on_error)
    srv = httpd.new(orm_conf(
        db,
        server="SessionORMSweepInterval 0\nSessionORMRetryAfter %d\n"
        "SessionORMTimeout %d\n" % (STALL_RETRY, TIMEOUT),
        scope="SessionORMOnError " + on_error), debug=True)
    srv.expect_log(r"ORM0112:", DBD_LINES)
    srv.start()
    c = srv.client()
    assert c.get("/probe?op=set&key=a&value=1").status == 200
    assert c.get("/probe?op=get&key=a").value("a") == "1"
    return srv, c, process_tree(own.proc.pid)


def httpd_processes(srv):
    return len(process_tree(srv._read_pid()))


def assert_session_back(srv, c, mark):
    """After SIGCONT the stored session is served again, without a
    restart."""
    def back():
        r = c.get("/probe?op=get&key=a", update_jar=False)
        return r.status == 200 and r.value("a") == "1"
    assert wait_for(back, STALL_RETRY + 10, 0.3), \
        "\n".join(srv.log_since(mark)[-20:])


def concurrent_gets(c, n, q="op=get&key=a"):
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        return list(pool.map(
            lambda i: timed_get(c, "/probe?" + q, update_jar=False),
            range(n)))


@pytest.mark.parametrize("kind", STALL_DBS)
def test_stalled_database_fail(httpd, request, db_servers, kind):
    """SIGSTOP on every process of the database: a request with a session
    is answered 503 with Retry-After within the bound, the next ones at once
    (the retry gate), the child count stays put; after SIGCONT sessions
    work again without a restart."""
    srv, c, tree = stall_setup(kind, request, db_servers, httpd, "fail")
    procs_before = httpd_processes(srv)
    mark = srv.log_mark()
    signal_tree(tree, signal.SIGSTOP)
    try:
        t_stop = time.monotonic()
        r, dt = timed_get(c, "/probe?op=get&key=a", update_jar=False)
        assert r.status == 503, r
        assert r.header("Retry-After") == str(STALL_RETRY), r.headers
        assert dt < TIMEOUT + 1.5, "the first request took %.1f s" % dt
        # thirty at once: the gate answers them without the database
        results = concurrent_gets(c, 30)
        assert all(r.status == 503 for r, _ in results), \
            [r.status for r, _ in results]
        times = sorted(dt for _, dt in results)
        assert sum(1 for t in times if t < 1) >= 25, times
        assert times[-1] < TIMEOUT + 1.5, times
        assert httpd_processes(srv) <= procs_before + 1
        # past the gate: one request tries again, and is bounded too
        time.sleep(max(0, STALL_RETRY + 0.5 - (time.monotonic() - t_stop)))
        results = concurrent_gets(c, 10)
        assert all(r.status == 503 for r, _ in results)
        assert max(dt for _, dt in results) < TIMEOUT * 2 + 1.5, results
        assert sum(1 for _, dt in results if dt < 1) >= 8, results
    finally:
        signal_tree(tree, signal.SIGCONT)

    assert_session_back(srv, c, mark)
    assert c.get("/probe?op=set&key=b&value=2").status == 200
    assert c.get("/probe?op=dump").entries() == {"a": "1", "b": "2"}
    assert count_lines(srv, r"ORM0130:", mark), "no call was cut"
    assert_one_error(srv, kind, mark)


@pytest.mark.parametrize("kind", STALL_DBS)
def test_stalled_database_anonymous(httpd, request, db_servers, kind):
    srv, c, tree = stall_setup(kind, request, db_servers, httpd, "anonymous")
    mark = srv.log_mark()
    signal_tree(tree, signal.SIGSTOP)
    try:
        for i in range(3):
            r, dt = timed_get(c, "/probe?op=get&key=a", update_jar=False)
            log = "\n".join(srv.log_since(mark)[-15:])
            assert r.status == 200 and r.value("a") is None, (r, log)
            assert "session=on" in r.body
            assert dt < TIMEOUT + 1.5, "request %d took %.1f s\n%s" % (
                i, dt, log)
    finally:
        signal_tree(tree, signal.SIGCONT)

    assert_session_back(srv, c, mark)


def sysv_semaphores():
    """The ids of the private System V semaphore sets (key 0, as APR makes
    them) there are."""
    with open("/proc/sysvipc/sem") as f:
        return {int(line.split()[1]) for line in f.readlines()[1:]
                if int(line.split()[0]) == 0}


def semop(semid, op):
    """One operation on semaphore 0 of a set, undone if we die; never
    waits (a semaphore that is taken is an error)."""
    import ctypes

    class Sembuf(ctypes.Structure):
        _fields_ = [("sem_num", ctypes.c_ushort), ("sem_op", ctypes.c_short),
                    ("sem_flg", ctypes.c_short)]

    libc = ctypes.CDLL(None, use_errno=True)
    undo, nowait = 0x1000, 0x800          # SEM_UNDO, IPC_NOWAIT
    if libc.semop(semid, ctypes.byref(Sembuf(0, op, undo | nowait)),
                  1) != 0:
        raise OSError(ctypes.get_errno(), "semop %d on %d" % (op, semid))


def start_on_semaphore(httpd, db, debug=False):
    """httpd whose SQLite writers' lock is a System V semaphore, after one
    write of key a (=1): (server, client, the semaphore set's id)."""
    before = sysv_semaphores()
    srv = httpd.start(orm_conf(db, server="SessionORMSweepInterval 0\n"
                               "SessionORMTimeout %d\n"
                               "Mutex sysvsem session-orm-sqlite"
                               % TIMEOUT), debug=debug)
    c = srv.client()
    assert c.get("/probe?op=set&key=a&value=1").status == 200
    made = sysv_semaphores() - before
    assert len(made) == 1, made
    return srv, c, made.pop()


@pytest.mark.parametrize("db", selected_on("sqlite"), indirect=True)
def test_sqlite_writer_lock_wait_is_bounded(httpd, db):
    """The SQLite writers' lock, a semaphore here (a mechanism APR can wait
    on with a time limit), held from outside: a write waits
    SessionORMTimeout for it, then writes without it."""
    srv, c, semid = start_on_semaphore(httpd, db)
    semop(semid, -1)
    try:
        t0 = time.monotonic()
        r = c.get("/probe?op=set&key=a&value=2", update_jar=False)
        dt = time.monotonic() - t0
    finally:
        semop(semid, 1)
    assert r.status == 200, r
    assert TIMEOUT - 0.5 < dt < TIMEOUT + 1.5, dt
    assert c.get("/probe?op=get&key=a").value("a") == "2"


@pytest.mark.parametrize("db", selected_on("sqlite"), indirect=True)
def test_sqlite_writer_lock_error_is_warned_and_write_goes_on(httpd, db):
    """The SQLite writers' lock broken, not busy (its semaphore set removed
    from outside): writes go on without it, at once, and each says so as
    ORM0132 with the APR status, at warn once a minute, else at debug;
    ORM0131, the lock busy past SessionORMTimeout, is not what is said."""
    import ctypes
    srv, c, semid = start_on_semaphore(httpd, db, debug=True)
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.semctl(semid, 0, 0) == 0, ctypes.get_errno()  # IPC_RMID
    srv.expect_log(r"\[session_orm:warn\].*ORM0132:")
    mark = srv.log_mark()
    for value in ("2", "3"):
        t0 = time.monotonic()
        r = c.get("/probe?op=set&key=a&value=" + value)
        assert r.status == 200, r
        assert time.monotonic() - t0 < 1.0
        assert c.get("/probe?op=get&key=a").value("a") == value
    said = [line for line in srv.log_since(mark) if "ORM0132" in line]
    assert len(said) == 2, srv.log_since(mark)
    assert all("writers' lock (sysvsem)" in line
               and "(22)Invalid argument" in line for line in said), said
    # once a minute a warning, the others at debug
    assert ":warn]" in said[0] and ":debug]" in said[1], said
    assert not any("ORM0131" in line for line in srv.log_since(mark))


@pytest.mark.parametrize("db", selected_on("sqlite"), indirect=True)
def test_sqlite_writer_file_lock_is_waited_for(httpd, db):
    """A file lock (`Mutex flock`) APR can time only by trying it every
    10 ms, so a write waits for it untimed: held from outside for longer
    than SessionORMTimeout, the write waits, and completes once it is
    released."""
    import fcntl
    import glob
    import tempfile
    lockdir = tempfile.mkdtemp(dir=httpd.workdir)
    os.chmod(lockdir, 0o777)
    srv = httpd.start(orm_conf(db, server="SessionORMSweepInterval 0\n"
                               "SessionORMTimeout %d\n"
                               "Mutex flock:%s session-orm-sqlite"
                               % (TIMEOUT, lockdir)))
    c = srv.client()
    assert c.get("/probe?op=set&key=a&value=1").status == 200
    files = glob.glob(os.path.join(lockdir, "session-orm-sqlite*"))
    assert len(files) == 1, files
    pool = concurrent.futures.ThreadPoolExecutor(1)
    with open(files[0], "r+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            write = pool.submit(c.get, "/probe?op=set&key=a&value=2",
                                update_jar=False)
            time.sleep(TIMEOUT + 1.5)
            assert not write.done(), "the write did not wait for the lock"
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            released = time.monotonic()
    r = write.result(10)
    pool.shutdown()
    assert r.status == 200, r
    assert time.monotonic() - released < 1.0
    assert c.get("/probe?op=get&key=a").value("a") == "2"


# --------------------------------------------------------------------------
# issue 9 item 5: a failed statement never poisons the connection; a value
# the owner column cannot hold never fails the save

AUTH_SCOPE = """
<Location /auth>
    SetHandler session-probe
    AuthType Basic
    AuthName "orm"
    AuthBasicProvider file
    AuthUserFile "%s"
    Require valid-user
</Location>
"""


def long_user_htpasswd(dirpath, user, password):
    """An htpasswd file with one user whose name htpasswd itself refuses
    (over 255 bytes): the hash comes from htpasswd -n for a short name."""
    out = subprocess.run([HTPASSWD, "-nbB", "x", password], check=True,
                         stdout=subprocess.PIPE, universal_newlines=True)
    path = os.path.join(dirpath, "htpasswd-long")
    with open(path, "w") as f:
        f.write(user + ":" + out.stdout.strip().split(":", 1)[1] + "\n")
    os.chmod(path, 0o644)
    return path


def saved(c, r):
    """The request's session was saved: our cookie came back with a token
    and its row exists (checked by the caller through the token)."""
    cks = r.cookies(COOKIE)
    return r.status == 200 and len(cks) == 1 and not cks[0].expired \
        and TOKEN_RE.match(cks[0].value) is not None


def assert_new_sessions_save(srv, db, n, what):
    failed = []
    for i in range(n):
        c = srv.client()
        r = c.get("/probe?op=set&key=n&value=%d" % i)
        if not saved(c, r) or db.count(where="id = %s" % sql_quote(
                sha256_hex(c.token))) != 1:
            failed.append(i)
    assert not failed, "%s: %d of %d new sessions not saved (%r)" % (
        what, len(failed), n, failed[:10])


def assert_no_poison(srv, mark):
    bad = count_lines(srv, r"already exists|ORM0105:|ORM0112:|ORM0114:",
                      mark)
    assert not bad, "\n".join(bad[:10])


def test_owner_column_overflow_saves_and_revokes(httpd, db, workdir):
    from test_admin_tool import TOOL, conn, ok, run_tool
    long_basic = "b" * 300
    htpasswd = long_user_htpasswd(workdir, long_basic, "pw")
    srv = httpd.start(orm_conf(db, server="SessionORMSweepInterval 0\n",
                               scope=AUTH_SCOPE % htpasswd),
                      extra_modules=AUTH_MODULES)
    mark = srv.log_mark()

    # any "*-user" key is the owner: 300 characters, no login needed
    long_key = "u" * 300
    c1 = srv.client()
    r = c1.get("/probe?op=set&key=app-user&value=%s&key=k&value=1"
               % long_key)
    assert saved(c1, r), r
    # the owner not UTF-8 (Latin-1 bytes through the query string)
    c2 = srv.client()
    r = c2.get("/probe?op=set&key=user&value=caf%E9&key=k&value=2")
    assert saved(c2, r), r
    # Basic authentication with a 300-character user
    c3 = srv.client(auth=(long_basic, "pw"))
    r = c3.get("/auth?op=set&key=k&value=3")
    assert r.status == 200 and "user=" + long_basic in r.body, r
    assert saved(c3, r), r
    for c, v in ((c1, "1"), (c2, "2"), (c3, "3")):
        path = "/auth" if c is c3 else "/probe"
        assert c.get(path + "?op=get&key=k").value("k") == v
    stored = [u for (u,) in db.rows(columns="user_name")]
    assert len(stored) == 3 and all(u and len(u) <= 255 for u in stored), \
        stored

    # the next 60 new sessions all save: the connection was not poisoned
    assert_new_sessions_save(srv, db, 60, "after the long owners")
    # a further write by each owner keeps its session (same owner: no
    # rotation, as the stored form is compared with the stored form)
    for c, path in ((c1, "/probe"), (c3, "/auth")):
        token = c.token
        assert saved(c, c.get(path + "?op=set&key=again&value=1"))
        assert c.token == token

    # revoke --user finds each by the name it was given
    ok(run_tool(*conn(db), "revoke", "--user", long_key),
       r"^revoked 1 sessions")
    ok(run_tool(*conn(db), "revoke", "--user", long_basic),
       r"^revoked 1 sessions")
    res = subprocess.run([TOOL] + conn(db) + ["revoke", "--user",
                                              b"caf\xe9"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert res.returncode == 0 and b"revoked 1 sessions" in res.stdout, res
    assert c1.get("/probe?op=get&key=k", update_jar=False).value("k") is None
    assert db.count() == 60
    assert_no_poison(srv, mark)


def test_dropped_table_is_recreated(httpd, db):
    srv = httpd.start(orm_conf(db, server="SessionORMSweepInterval 0\n"))
    keep = srv.client()
    assert saved(keep, keep.get("/probe?op=set&key=a&value=1"))
    assert_new_sessions_save(srv, db, 5, "before the drop")
    mark = srv.log_mark()
    db.sql("DROP TABLE session")
    # within a few requests the table is back and sessions save
    n = 0
    while True:
        n += 1
        c = srv.client()
        if saved(c, c.get("/probe?op=set&key=n&value=%d" % n)):
            break
        assert n < 5, "no session saved in %d requests after DROP " \
            "TABLE:\n%s" % (n, "\n".join(srv.log_since(mark)[-20:]))
    assert db.has_table("session")
    assert_new_sessions_save(srv, db, 40, "after the drop")
    assert_no_poison(srv, mark)


# --------------------------------------------------------------------------
# issue 9 item 10: data errors are not outages, nor logged per request

def reject_marked_values(db):
    """The database refuses any session data containing "reject" (a rule
    of the application's DBA: a data error on a working connection)."""
    if db.backend == "sqlite":
        for ev in ("INSERT", "UPDATE"):
            db.sql("CREATE TRIGGER reject_%s BEFORE %s ON session WHEN "
                   "NEW.data LIKE '%%reject%%' BEGIN SELECT RAISE(ABORT, "
                   "'rejected by a trigger'); END" % (ev.lower(), ev))
    else:
        db.sql("ALTER TABLE session ADD CONSTRAINT no_reject CHECK "
               "(data NOT LIKE '%reject%')")


def test_data_errors_rate_limited(httpd, db):
    srv = httpd.new(orm_conf(db, server="SessionORMSweepInterval 0\n"))
    srv.expect_log(r"ORM0116:")
    srv.start()
    keep = srv.client()
    assert saved(keep, keep.get("/probe?op=set&key=a&value=1"))
    reject_marked_values(db)
    mark = srv.log_mark()
    for i in range(100):
        c = srv.client()
        r = c.get("/probe?op=set&key=v&value=reject%d" % i)
        assert r.status == 200 and r.cookies(COOKIE) == [], r
    # the database answers: nothing skips it, other sessions save
    assert_new_sessions_save(srv, db, 20, "after the data errors")
    assert saved(keep, keep.get("/probe?op=set&key=b&value=2"))
    lines = count_lines(srv, r"\[session_orm:(warn|error|crit|alert|"
                        r"emerg)\]", mark)
    assert 1 <= len(lines) <= 2, "\n".join(lines[:10])
    assert all("ORM0116:" in l for l in lines), "\n".join(lines)
    # it names the session by its id prefix and says what the database said
    assert re.search(r"saving session [0-9a-f]{12} failed: .*reject",
                     lines[0]), lines[0]
    assert_no_poison(srv, mark)


# --------------------------------------------------------------------------
# issue 9 item 8: apr_dbd_mysql fetches a text value into a buffer of its
# field size (fldsz, 1 MB by default) and hands back only what fits. The
# load asks the driver for the value's stored size (its CLOB datum) and reads
# on past the buffer, so a session comes back whole at any fldsz.

BIG = 2000000


def with_dbd_params(db, extra):
    return re.sub(r'DBDParams "(.*)"$', lambda m: 'DBDParams "%s,%s"'
                  % (m.group(1), extra), db.dbd_conf(), flags=re.S)


class _ExtraParams:
    def __init__(self, db, extra):
        self.db, self.extra = db, extra

    def dbd_conf(self):
        return with_dbd_params(self.db, self.extra)


@pytest.mark.skipif("mysql" not in selected_dbs(), reason="MariaDB not "
                    "selected (ORM_E2E_DBS)")
# the default 1 MB buffer, one that holds it all, and 4 KB pieces
@pytest.mark.parametrize("fldsz", [None, 20000000, 4096])
def test_large_session_never_truncated(httpd, mysql_server, fldsz):
    db = mysql_server.new_database("big%s" % (fldsz or ""))
    conf_db = _ExtraParams(db, "fldsz=%d" % fldsz) if fldsz else db
    srv = httpd.new(orm_conf(conf_db, server="SessionORMSweepInterval 0\n"))
    srv.start()
    c = srv.client()
    r = c.get("/probe?op=set&key=a&value=1")
    assert saved(c, r)
    r = c.get("/probe?op=big&key=big&size=%d" % BIG)
    assert saved(c, r), r
    where = "id = %s" % sql_quote(sha256_hex(c.token))
    stored = db.rows(columns="data", where=where)[0][0]
    assert len(stored) > BIG
    mark = srv.log_mark()
    for _ in range(3):
        r = c.get("/probe?op=get&key=big&key=a", update_jar=False)
        assert r.status == 200, r
        got = r.value("big")
        assert got is not None and len(got) == BIG, len(got) if got else got
        assert r.value("a") == "1"
        # a write after the read keeps the big value (the next round reads
        # it back whole)
        r = c.get("/probe?op=set&key=w&value=1", update_jar=False)
        assert r.status == 200, r
        assert len(db.rows(columns="data", where=where)[0][0]) >= len(stored)
    assert not count_lines(srv, r"ORM0116:|ORM0112:|ORM0114:", mark)


@pytest.mark.skipif("mysql" not in selected_dbs(), reason="MariaDB not "
                    "selected (ORM_E2E_DBS)")
def test_mysql_reads_ask_the_driver_for_the_size(httpd, mysql_server):
    """On apr_dbd_mysql the load and the locked read leave the data's size
    to the driver: the server is never asked to measure the data (as
    MariaDB's general log shows the statements prepared)."""
    db = mysql_server.new_database("nosize")
    srv = httpd.new(orm_conf(db, server="SessionORMSweepInterval 0\n"))
    srv.start()
    db.sql("SET GLOBAL log_output = 'TABLE'")
    db.sql("TRUNCATE TABLE mysql.general_log")
    db.sql("SET GLOBAL general_log = 1")
    try:
        c = srv.client()
        assert saved(c, c.get("/probe?op=set&key=a&value=1"))
        r = c.get("/probe?op=get&key=a", update_jar=False)
        assert r.value("a") == "1"
    finally:
        db.sql("SET GLOBAL general_log = 0")
    prepared = [row[0] for row in db.sql(
        "SELECT CONVERT(argument USING utf8mb4) FROM mysql.general_log "
        "WHERE command_type = 'Prepare'")]
    reads = [p for p in prepared if p.startswith("SELECT `data`")]
    # the load and the lock, each prepared on the connection
    assert len(reads) >= 2, prepared
    assert not [p for p in reads if "LENGTH" in p], reads


@pytest.mark.skipif("mysql" not in selected_dbs(), reason="MariaDB not "
                    "selected (ORM_E2E_DBS)")
def test_merge_reads_a_session_over_fldsz_whole(httpd, mysql_server):
    """A lost race on a session longer than apr_dbd_mysql's field size
    (fldsz=4096) is merged onto the row read back whole: read by the load
    in this build, under the row lock in t/sanitize-e2e's (a lost race
    merged under the lock at once), both leaving the size to the driver.
    Cut there, the merge would write a session short of its big value."""
    db = mysql_server.new_database("bigmerge")
    srv = httpd.start(orm_conf(_ExtraParams(db, "fldsz=4096"),
                               server="SessionORMSweepInterval 0\n"),
                      debug=True)
    c = srv.client()
    big = 100000
    assert saved(c, c.get("/probe?op=set&key=base&value=0"))
    assert saved(c, c.get("/probe?op=big&key=big&size=%d" % big))
    mark = srv.log_mark()
    ra, rb = run_parallel(
        lambda: c.get("/probe?op=set&key=a&value=A&sleep=700",
                      update_jar=False),
        lambda: c.get("/probe?op=set&key=b&value=B&sleep=700",
                      update_jar=False))
    assert ra.status == 200 and rb.status == 200, (ra, rb)
    assert any("ORM0215:" in line and merge_path() in line
               for line in srv.log_since(mark)), \
        "the two writes did not conflict, or were not merged %s:\n%s" % (
            merge_path(), "\n".join(srv.log_since(mark)))
    r = c.get("/probe?op=get&key=big&key=a&key=b&key=base",
              update_jar=False)
    assert r.status == 200, r
    got = r.value("big")
    assert got is not None and len(got) == big, len(got) if got else got
    assert [r.value(k) for k in ("a", "b", "base")] == ["A", "B", "0"], r
    assert not count_lines(srv, r"ORM0116:|ORM0112:|ORM0114:", mark)


@pytest.mark.skipif("pgsql" not in selected_dbs(), reason="PostgreSQL not "
                    "selected (ORM_E2E_DBS)")
def test_pgsql_reads_ask_no_size(httpd, pg_server):
    """On apr_dbd_pgsql the load and the locked read ask the server for no
    size of the data: libpq hands a value back whole and PostgreSQL text
    holds no NUL byte, so there is nothing to check it against (the
    statements as the server logs them prepared)."""
    db = pg_server.new_database("nosize")
    pg_server.psql("ALTER DATABASE %s SET log_statement = 'all'" % db.name)
    with open(pg_server.log) as f:
        f.seek(0, os.SEEK_END)
        mark = f.tell()
    srv = httpd.start(orm_conf(db, server="SessionORMSweepInterval 0\n"))
    c = srv.client()
    assert saved(c, c.get("/probe?op=set&key=a&value=1"))
    r = c.get("/probe?op=get&key=a", update_jar=False)
    assert r.value("a") == "1"
    srv.stop()
    with open(pg_server.log) as f:
        f.seek(mark)
        logged = f.read()
    reads = re.findall(r"statement: (PREPARE \S+_(?:load|lock) .*)", logged)
    # the load and the lock, each prepared on the connection
    assert len(reads) >= 2, logged[-2000:]
    assert not [p for p in reads if "LENGTH" in p], reads


@pytest.mark.skipif("mysql" not in selected_dbs(), reason="MariaDB not "
                    "selected (ORM_E2E_DBS)")
def test_stored_nul_byte_fails_the_load_and_keeps_the_row(httpd,
                                                          mysql_server):
    """A NUL byte stored in the data (written behind httpd's back) would end
    the text the driver hands back: the load fails (ORM0116) rather than
    hand on, or later write over, a session short of its stored bytes."""
    db = mysql_server.new_database("nulbyte")
    srv = httpd.new(orm_conf(db, server="SessionORMSweepInterval 0\n"))
    srv.expect_log(r"ORM0116:.*shorter than stored")
    srv.start()
    c = srv.client()
    r = c.get("/probe?op=set&key=a&value=1")
    assert saved(c, r)
    where = "id = %s" % sql_quote(sha256_hex(c.token))
    db.sql("UPDATE session SET data = CONCAT(data, '&b=', CHAR(0), 'z') "
           "WHERE " + where)
    before = db.sql("SELECT HEX(data) FROM session WHERE " + where)
    mark = srv.log_mark()
    r = c.get("/probe?op=get&key=a", update_jar=False)
    assert r.status == 200, r
    assert r.value("a") is None, "a session short of its stored bytes loaded"
    r = c.get("/probe?op=set&key=w&value=1", update_jar=False)
    assert db.sql("SELECT HEX(data) FROM session WHERE " + where) == before
    lines = count_lines(srv, r"ORM0116:", mark)
    assert lines and sha256_hex(c.token)[:12] in lines[0], lines
