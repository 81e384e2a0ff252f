"""Concurrency: many writers on SQLite, concurrent updates of one session
(key-level merge), logout winning over a slower request, token rotation on
owner change (SessionORMRotateGrace) and `session-orm revoke`.

README, "Concurrency, failures and limits": a session with a row is written
with UPDATE ... WHERE id = ? AND updated_at = ?; when another request wrote
it meanwhile only the keys this request changed are merged into the stored
row and written against its new version (after three lost races: under a
row lock; t/sanitize-e2e's build always takes the lock), same key: last
writer wins; mod_session_crypto: the whole blob. SQLite writers from all
children queue on one cross-process lock. A row deleted while a slower
request ran is not written back and that request expires the cookie. When the owner changes (r->user or
mod_auth_form's `<AuthName>-user` key) the session gets a new token and
row; the old row becomes a marker that reaches nothing, kept for
SessionORMRotateGrace seconds so that requests still carrying the old
token neither reach the new session nor replace the new cookie.

The probe's `sleep=MS` holds a request between loading the session and
changing it, so that two requests both load before either saves.
"""

import concurrent.futures
import fcntl
import glob
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from harness.client import TOKEN_RE
from harness.common import (HTTPD_USER, builddir, child_pids, chown_to,
                            merge_path, row_of, run_parallel, wait_for)
from harness.conf import COOKIE, orm_conf
from harness.databases import PSQL, backend_of, selected_on

ROTATED = "\x01rotated"


# --------------------------------------------------------------------------
# 64 concurrent writers on SQLite, across processes

PREFORK_64 = """
StartServers 8
MinSpareServers 8
MaxSpareServers 64
ServerLimit 64
MaxRequestWorkers 64
"""


# the SQLite tests run on every selected kind with SQLite behind (the
# writers' lock and WAL follow the database, not the driver)
SQLITE_KINDS = selected_on("sqlite")


@pytest.mark.parametrize("db", SQLITE_KINDS, indirect=True)
def test_sqlite_many_writers(httpd, db):
    # the queue of 64 writers is under test here, not the time limits:
    # under t/sanitize-e2e's slower build a child's first write, set up
    # behind the others in the queue, can take longer than the default 5 s
    srv = httpd.start(orm_conf(db, server="SessionORMSweepInterval 0\n"
                               "SessionORMTimeout 60")
                      + PREFORK_64, mpm="prefork", debug=True)
    nwriters, rounds = 64, 5
    barrier = threading.Barrier(nwriters)
    clients = [srv.client() for _ in range(nwriters)]
    failures = []

    def writer(i):
        c = clients[i]
        for n in range(rounds):
            barrier.wait(30)
            r = c.get("/probe?op=set&key=w&value=%d-%d" % (i, n))
            cks = r.cookies(COOKIE)
            if r.status != 200 or len(cks) != 1 or cks[0].expired:
                failures.append((i, n, r))
            elif n > 0 and cks[0].value != c.token:
                failures.append((i, n, "token changed", r))

    with concurrent.futures.ThreadPoolExecutor(nwriters) as pool:
        for f in [pool.submit(writer, i) for i in range(nwriters)]:
            f.result()
    assert not failures, failures[:5]

    # every session reads its last value, from the table and over HTTP
    assert db.count() == nwriters
    for i, c in enumerate(clients):
        assert TOKEN_RE.match(c.token)
        row = row_of(db, c.token)
        assert row and "w=%d-%d" % (i, rounds - 1) in row[0], (i, row)
        r = c.get("/probe?op=get&key=w")
        assert r.value("w") == "%d-%d" % (i, rounds - 1), (i, r)

    # the writes came from many processes
    savers = set(re.findall(r"\[pid (\d+)[:\]].*ORM0209:", srv.log_text()))
    assert len(savers) >= 8, savers
    assert "database is locked" not in srv.log_text()
    assert db.sql("PRAGMA journal_mode")[0][0].lower() == "wal"


# 32 children up before the first request, and room beyond them: the
# clients' 32 connections must not reach MaxRequestWorkers (AH00161)
PREFORK_32_STARTED = """
StartServers 32
MinSpareServers 32
MaxSpareServers 48
ServerLimit 48
MaxRequestWorkers 48
"""


@pytest.mark.parametrize("db", SQLITE_KINDS, indirect=True)
def test_sqlite_empty_database_met_by_many_children(httpd, db):
    """32 children started together each meet an empty database with their
    first write: one switches it to WAL and creates the table and its
    indexes, the others queue on the writers' lock and find them made. Not
    one of them fails ('database schema has changed', ORM0103) or logs
    'database is locked'. A race: a few rounds, each on a new database."""
    first = db
    for attempt in range(3):
        db = first.another_database("empty%d" % attempt)
        srv = httpd.start(orm_conf(db, server="SessionORMSweepInterval 0\n"
                                   "SessionORMTimeout 60")
                          + PREFORK_32_STARTED, mpm="prefork", debug=True)
        clients = [srv.client() for _ in range(32)]
        barrier = threading.Barrier(len(clients))

        def first_write(c):
            barrier.wait(30)
            return c.get("/probe?op=set&key=k&value=v")

        with concurrent.futures.ThreadPoolExecutor(len(clients)) as pool:
            answers = list(pool.map(first_write, clients))
        assert [r.status for r in answers] == [200] * len(clients), answers
        assert db.count() == len(clients)
        log = srv.log_text()
        assert len(re.findall(r"ORM0104:", log)) == 1, log
        for bad in ("ORM0103", "ORM0111", "database is locked",
                    "schema has changed"):
            assert bad not in log, (attempt, bad)
        # a prefork child stopped right after sending its response may be
        # ending the request: its connection is still out of mod_dbd's
        # pool, and Debian's apr-util asserts on that at exit
        # (reslist_cleanup, "rl->ntotal == 0"; seen through sqliteodbc,
        # whose request clean-up is slower). The module hands a request's
        # connection back at such a stop only while the request runs
        # (orm_inflight.h). Let the requests end first.
        time.sleep(1)
        srv.stop()


@pytest.mark.parametrize("db", SQLITE_KINDS, indirect=True)
def test_sqlite_writers_queue_on_the_lock(httpd, db):
    """SQLite writes take the cross-process lock placed by `Mutex ...
    session-orm-sqlite`; reads do not. The lock is held here from outside
    httpd (flock on its file, which that mechanism keeps): a write waits
    for it, a read does not, and the write completes once it is
    released."""
    lockdir = tempfile.mkdtemp(dir=httpd.workdir)
    os.chmod(lockdir, 0o777)
    srv = httpd.start(orm_conf(db, server="SessionORMSweepInterval 0\n"
                               "Mutex flock:%s session-orm-sqlite" % lockdir))
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
            time.sleep(1.5)
            assert not write.done(), "a write did not queue on the lock"
            r = c.get("/probe?op=get&key=a", update_jar=False)
            assert r.status == 200 and r.value("a") == "1", r
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    r = write.result(10)
    pool.shutdown()
    assert r.status == 200, r
    assert c.get("/probe?op=get&key=a").value("a") == "2"


def traced(pid):
    """True when every thread of pid has a tracer."""
    for task in glob.glob("/proc/%d/task/*/status" % pid):
        with open(task) as f:
            if re.search(r"^TracerPid:\s+0$", f.read(), re.M):
                return False
    return True


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
@pytest.mark.parametrize("db", SQLITE_KINDS, indirect=True)
def test_sqlite_queued_writers_are_woken_not_polling(httpd, db):
    """A write queued on the SQLite writers' lock, a file lock here
    (`Mutex flock`), waits for it in the kernel and is woken when it is
    let go: APR times a wait on a file lock (fcntl, flock) by trying it
    every 10 ms, and a timed wait slept 10 ms at a time (apr_sleep, seen
    as pselect6), most of SQLite's p99 under mixed load. Here the lock is
    held from outside for a second while writes of 4 sessions queue, under
    strace: they wait (in flock(), or before it in the child's thread
    mutex), nothing sleeps, and all complete once it is released."""
    lockdir = tempfile.mkdtemp(dir=httpd.workdir)
    os.chmod(lockdir, 0o777)
    srv = httpd.start(orm_conf(db, server="SessionORMSweepInterval 0\n"
                               "SessionORMTimeout 60\n"
                               "Mutex flock:%s session-orm-sqlite" % lockdir))
    clients = [srv.client() for _ in range(4)]
    for c in clients:
        assert c.get("/probe?op=set&key=a&value=1").status == 200
    files = glob.glob(os.path.join(lockdir, "session-orm-sqlite*"))
    assert len(files) == 1, files
    out = os.path.join(httpd.workdir, "strace-%d.txt" % os.getpid())
    cmd = ["strace", "-f", "-qq", "-T", "-o", out,
           "-e", "trace=pselect6,select,flock"]
    pids = child_pids(srv.pid)
    for pid in pids:
        cmd += ["-p", str(pid)]
    tracer = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    pool = concurrent.futures.ThreadPoolExecutor(len(clients))
    try:
        assert wait_for(lambda: all(traced(pid) for pid in pids), 10), \
            "strace did not attach to httpd's children (ptrace refused?)"
        with open(files[0], "r+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                writes = [pool.submit(c.get, "/probe?op=set&key=a&value=2")
                          for c in clients]
                time.sleep(1)
                assert not any(w.done() for w in writes), \
                    "a write did not queue on the lock"
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        answers = [w.result(30) for w in writes]
    finally:
        pool.shutdown()
        tracer.send_signal(signal.SIGINT)
        tracer.wait(30)
    assert [r.status for r in answers] == [200] * len(clients), answers
    with open(out) as f:
        calls = f.read().splitlines()
    sleeps = [l for l in calls if re.search(r"\b(pselect6|select)\(", l)]
    assert not sleeps, "queued writers polled the lock: %s" % sleeps[:3]
    # strace splits a call that another process's line interrupts into
    # "<unfinished ...>" and "<... flock resumed>"; the time is on the latter
    waits = [float(m.group(1)) for m in
             (re.search(r"(?:flock\(\d+, LOCK_EX|<\.\.\. flock resumed>)"
                        r".*<([0-9.]+)>$", l) for l in calls) if m]
    # one waits in flock() for the lock itself; the others of its child
    # queue before it, on the thread mutex APR adds to a file lock
    assert any(w > 0.5 for w in waits), calls[:20]
    for c in clients:
        assert c.get("/probe?op=get&key=a").value("a") == "2"


@pytest.mark.parametrize("db", SQLITE_KINDS, indirect=True)
def test_sqlite_writer_lock_cannot_be_created(httpd, db):
    # a directory that exists (httpd checks that) where not even root can
    # create the lock's file
    srv = httpd.new(orm_conf(db, server="Mutex flock:/proc "
                             "session-orm-sqlite"))
    srv.expect_log(r"ORM0007", r"AH0\d+")
    rc, out, running = srv.start_fail()
    assert not running, "httpd started without the SQLite writers' lock"
    text = out + srv.log_text()
    assert re.search(r"ORM0007: cannot create the lock SQLite writers queue "
                     r"on \(see the Mutex directive, type "
                     r"session-orm-sqlite\)", text), text


# --------------------------------------------------------------------------
# two requests of one session at once

CRYPTO = 'SessionCryptoPassphrase "e2e concurrency passphrase"'


@pytest.mark.parametrize("crypto", [False, True], ids=["plain", "crypto"])
def test_concurrent_updates(httpd, db, crypto):
    kw = {"extra_modules": ["session_crypto"]} if crypto else {}
    srv = httpd.start(orm_conf(db, scope=CRYPTO if crypto else ""),
                      debug=True, **kw)
    c = srv.client()
    assert c.get("/probe?op=set&key=base&value=0").status == 200
    token = c.token

    def req(q):
        return lambda: c.get("/probe?" + q, update_jar=False)

    # different keys: A loads, B loads, A saves, B saves (conflict: merge)
    mark = srv.log_mark()
    ra, rb = run_parallel(req("op=set&key=a&value=A&sleep=700"),
                          req("op=set&key=b&value=B&sleep=700"))
    assert ra.status == 200 and rb.status == 200, (ra, rb)
    got = c.get("/probe?op=dump").entries()
    if not crypto:
        assert got == {"base": "0", "a": "A", "b": "B"}, got
        # the module's build decides how: t/sanitize-e2e's takes the lock
        path = merge_path()
        assert any("ORM0215:" in l and path in l
                   for l in srv.log_since(mark)), \
            "the two writes did not conflict, or were not merged %s" % path
    else:
        # mod_session_crypto's data cannot be merged key by key: the later
        # request's whole session replaces the stored one; only one of the
        # two changes need survive
        assert got.get("base") == "0", got
        assert got.get("a") == "A" or got.get("b") == "B", got
    assert c.token == token

    # the same key: one of the two values (last writer wins)
    ra, rb = run_parallel(req("op=set&key=k&value=first&sleep=700"),
                          req("op=set&key=k&value=second&sleep=700"))
    assert ra.status == 200 and rb.status == 200, (ra, rb)
    got = c.get("/probe?op=dump").entries()
    assert got.get("k") in ("first", "second"), got
    assert got.get("base") == "0", got
    # B saved last (started later, same sleep)
    assert got.get("k") == "second", got

    # a removal in one request, a change in the other: both kept (plain)
    if not crypto:
        ra, rb = run_parallel(req("op=unset&key=a&sleep=700"),
                              req("op=set&key=b&value=B2&sleep=700"))
        got = c.get("/probe?op=dump").entries()
        assert got == {"base": "0", "b": "B2", "k": "second"}, got
    assert db.count() == 1


# --------------------------------------------------------------------------
# many writes of one session on one host take turns

@pytest.mark.parametrize("mpm", ["event", "prefork"])
def test_writes_of_one_session_take_turns(httpd, db, mpm):
    """Eight requests of one session load it, then all save at once, each a
    key of its own. On one host they take turns (README, "Many writes of
    one session on one host"): every key is kept, and each write after the
    first merges onto the one before it, as the turn kept it, without
    reading the row again; threads of one child (event) and children
    (prefork) alike."""
    srv = httpd.start(orm_conf(db), mpm=mpm, debug=True)
    c = srv.client()
    assert c.get("/probe?op=set&key=base&value=0").status == 200
    mark = srv.log_mark()
    n = 8
    res = run_parallel(*[
        (lambda i=i: c.get("/probe?op=set&key=k%d&value=%d&sleep=1500"
                           % (i, i), update_jar=False))
        for i in range(n)], stagger=0.05)
    assert all(r.status == 200 for r in res), res
    got = c.get("/probe?op=dump").entries()
    assert got == dict(base="0", **{"k%d" % i: str(i) for i in range(n)}), \
        got
    merges = [l for l in srv.log_since(mark) if "ORM0215:" in l]
    assert len(merges) == n - 1, "\n".join(srv.log_since(mark))
    path = merge_path()
    assert all(path in l for l in merges), "\n".join(merges)
    if path == "without a lock":
        # t/sanitize-e2e's build takes the row lock at every lost race and
        # uses no hint: there the merges say so instead. A write that
        # came while the one before it was still writing was written with
        # it (test_writes_left_for_the_turn_go_in_one_statement)
        assert all("onto the write before it in turn" in l
                   or "written by the write before it in turn" in l
                   for l in merges), "\n".join(merges)


class held_writes:
    """Writes to the session table held up outside httpd while inside:
    SQLite's writers' lock (flock on its file in lockdir), PostgreSQL's
    rows locked by a psql session. Reads go on."""

    def __init__(self, db, lockdir):
        self.db, self.lockdir = db, lockdir

    def __enter__(self):
        if backend_of(self.db.kind) == "sqlite":
            files = glob.glob(os.path.join(self.lockdir,
                                           "session-orm-sqlite*"))
            assert len(files) == 1, files
            self.lock = open(files[0], "r+")
            fcntl.flock(self.lock, fcntl.LOCK_EX)
            return self
        s = self.db.server
        self.psql = subprocess.Popen(
            [PSQL, "-X", "-q", "-A", "-t", "-h", s.sock, "-p", str(s.port),
             "-U", s.user, "-d", self.db.name], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            universal_newlines=True)
        self.psql.stdin.write("BEGIN;\nSELECT 1 FROM session FOR UPDATE;\n"
                              "SELECT 'locked';\n")
        self.psql.stdin.flush()
        while self.psql.stdout.readline().strip() != "locked":
            assert self.psql.poll() is None, "psql ended"
        return self

    def __exit__(self, *exc):
        if backend_of(self.db.kind) == "sqlite":
            fcntl.flock(self.lock, fcntl.LOCK_UN)
            self.lock.close()
        else:
            self.psql.stdin.close()     # psql ends, its transaction too
            self.psql.wait(10)


# room for eight requests at once from the start, in processes (prefork)
# or threads (event): none waits for the MPM to start a child
ALL_WRITES_AT_ONCE = {
    "prefork": "\nStartServers 10\nMinSpareServers 10\nMaxSpareServers 12\n"
               "ServerLimit 12\nMaxRequestWorkers 12\n",
    "event": "\nStartServers 3\nMinSpareThreads 12\n",
}


@pytest.mark.parametrize("db", selected_on("sqlite", "pgsql"), indirect=True)
@pytest.mark.mpms("event", "prefork")
def test_writes_left_for_the_turn_go_in_one_statement(httpd, db, mpm):
    """While a write of a session holds its turn (the database makes it
    wait), the writes of the session behind it leave their changes for
    the turn, and the next write in turn writes them with its own in one
    statement (README, "Many writes of one session on one host"): every
    key is kept, and those writes say the write before them wrote them."""
    lockdir = tempfile.mkdtemp(dir=httpd.workdir)
    os.chmod(lockdir, 0o777)
    srv = httpd.start(orm_conf(db, server="SessionORMSweepInterval 0\n"
                               "Mutex flock:%s session-orm-sqlite"
                               % lockdir) + ALL_WRITES_AT_ONCE[mpm],
                      mpm=mpm, debug=True)
    c = srv.client()
    assert c.get("/probe?op=set&key=base&value=0").status == 200
    mark = srv.log_mark()
    n = 8
    pool = concurrent.futures.ThreadPoolExecutor(n)
    with held_writes(db, lockdir):
        writes = []
        for i in range(n):
            writes.append(pool.submit(
                c.get, "/probe?op=set&key=k%d&value=%d" % (i, i),
                update_jar=False))
            time.sleep(0.05)
        time.sleep(1.0)
        assert not any(w.done() for w in writes), "a write was not held"
    res = [w.result(30) for w in writes]
    pool.shutdown()
    assert all(r.status == 200 for r in res), res
    got = c.get("/probe?op=dump").entries()
    assert got == dict(base="0", **{"k%d" % i: str(i) for i in range(n)}), \
        got
    log = srv.log_since(mark)
    together = [l for l in log if "ORM0215:" in l
                and "written by the write before it in turn" in l]
    if merge_path() == "without a lock":
        # the first write held up; of the seven behind it, the first to
        # get the turn writes the other six
        assert len(together) >= n - 2, "\n".join(log)
    else:
        # t/sanitize-e2e's build leaves nothing for the turn
        assert together == [], "\n".join(together)


@pytest.mark.mpms("event", "prefork")
def test_burst_of_writes_loses_nothing(httpd, db, mpm):
    """Sixteen clients of one session write at once, ten keys each, and
    remove every other key they set: whether a write went alone, merged
    onto the one before it or was written by it (the three ways a write
    of a busy session goes), every change is in the session after."""
    srv = httpd.start(orm_conf(db) + ALL_WRITES_AT_ONCE[mpm], mpm=mpm)
    c = srv.client()
    assert c.get("/probe?op=set&key=base&value=0").status == 200
    nclients, nkeys = 16, 10
    barrier = threading.Barrier(nclients)

    def client(t):
        barrier.wait()
        for i in range(nkeys):
            r = c.get("/probe?op=set&key=t%d_%d&value=%d" % (t, i, i),
                      update_jar=False)
            assert r.status == 200, r
            if i % 2:
                r = c.get("/probe?op=unset&key=t%d_%d" % (t, i - 1),
                          update_jar=False)
                assert r.status == 200, r

    with concurrent.futures.ThreadPoolExecutor(nclients) as pool:
        for f in [pool.submit(client, t) for t in range(nclients)]:
            f.result(120)
    want = dict(base="0", **{"t%d_%d" % (t, i): str(i)
                             for t in range(nclients)
                             for i in range(1, nkeys, 2)})
    assert c.get("/probe?op=dump").entries() == want
    assert db.count() == 1


# --------------------------------------------------------------------------
# logout wins over a slower request

def test_logout_not_resurrected(httpd, db):
    srv = httpd.start(orm_conf(db), debug=True)
    c = srv.client()
    c.get("/probe?op=set&key=a&value=1")
    token = c.token
    assert row_of(db, token)

    slow, fast = run_parallel(
        lambda: c.get("/probe?op=set&key=s&value=slow&sleep=900",
                      update_jar=False),
        lambda: c.get("/probe?op=clear", update_jar=False),
        stagger=0.3)
    assert slow.status == 200 and fast.status == 200
    # the fast one logged out
    assert [ck.expired for ck in fast.cookies(COOKIE)] == [True], fast
    # the slow one did not bring the row back, and expires the cookie too
    assert row_of(db, token) is None
    assert db.count() == 0
    assert len(slow.set_cookies) == 1, slow.set_cookies
    ck = slow.cookies(COOKIE)[0]
    assert ck.expired and ck.max_age == 0, ck
    r = c.get("/probe?op=dump")
    assert r.entries() == {}
    assert db.count() == 0


# --------------------------------------------------------------------------
# a login in one request while a slower one of the same session runs

def test_login_during_slower_request(httpd, db):
    srv = httpd.start(orm_conf(db, scope="SessionORMRotateGrace 5"),
                      debug=True)
    c = srv.client()
    c.get("/probe?op=set&key=x&value=1")
    old = c.token

    mark = srv.log_mark()
    slow, login = run_parallel(
        lambda: c.get("/probe?op=set&key=s&value=slow&sleep=900",
                      update_jar=False),
        lambda: c.get("/probe?op=set&key=realm-user&value=alice",
                      update_jar=False),
        stagger=0.3)
    assert slow.status == 200 and login.status == 200
    new = login.cookies(COOKIE)[0].value
    assert TOKEN_RE.match(new) and new != old
    # the slow response neither expires the browser's cookie nor sets the
    # token the login replaced
    assert slow.cookies(COOKIE) == [], slow.set_cookies
    assert any("ORM0217:" in l for l in srv.log_since(mark)), \
        "the slower request did not see the rotation"
    # the old row is the rotation's marker, the new session is the login's
    assert row_of(db, old) == (ROTATED, None)
    r = c.get("/probe?op=dump", cookie="%s=%s" % (COOKIE, new),
              update_jar=False)
    assert r.entries() == {"x": "1", "realm-user": "alice"}, r


# --------------------------------------------------------------------------
# a new token when the owner changes

@pytest.mark.parametrize("grace", [3, 0])
def test_rotation_on_owner_change(httpd, db, grace):
    srv = httpd.start(orm_conf(db, scope="SessionORMRotateGrace %d" % grace))
    c = srv.client()
    c.get("/probe?op=set&key=x&value=1")
    old = c.token
    assert row_of(db, old)

    # log in: mod_auth_form's "<AuthName>-user" key
    r = c.get("/probe?op=set&key=realm-user&value=alice")
    t_login = time.monotonic()
    assert r.status == 200
    cks = r.cookies(COOKIE)
    assert len(cks) == 1 and not cks[0].expired, r.set_cookies
    new = c.token
    assert TOKEN_RE.match(new) and new != old
    data, user = row_of(db, new)
    assert user == "alice"
    assert "x=1" in data and "alice" in data

    orow = row_of(db, old)
    if grace:
        assert orow is not None, "old row gone with a grace window"
        assert orow == (ROTATED, None), orow
        # a request still carrying the old token reaches nothing, and its
        # response leaves the browser's cookie alone
        r = c.get("/probe?op=dump", cookie="%s=%s" % (COOKIE, old),
                  update_jar=False)
        assert r.status == 200
        assert r.entries() == {}, r
        assert r.set_cookies == [], r
        # after the window it is worthless
        time.sleep(max(0, grace + 1 - (time.monotonic() - t_login)))
        r = c.get("/probe?op=dump", cookie="%s=%s" % (COOKIE, old),
                  update_jar=False)
        assert r.status == 200 and r.entries() == {}, r
    else:
        assert orow is None, "old row kept with SessionORMRotateGrace 0"
        r = c.get("/probe?op=dump", cookie="%s=%s" % (COOKIE, old),
                  update_jar=False)
        assert r.status == 200 and r.entries() == {}, r
    # the new token goes on working
    assert c.get("/probe?op=get&key=x").value("x") == "1"
    assert c.token == new

    # switch user: rotated again
    c.get("/probe?op=set&key=realm-user&value=bob")
    assert c.token not in (old, new)
    assert row_of(db, c.token)[1] == "bob"


# --------------------------------------------------------------------------
# session-orm revoke

def dbd_args(db):
    m = re.search(r'^DBDriver (\S+)\nDBDParams "(.*)"$', db.dbd_conf())
    assert m, db.dbd_conf()
    return ["--driver", m.group(1), "--params", m.group(2)]


def session_orm(db, *args):
    tool = os.path.join(builddir(), "session-orm")
    assert os.access(tool, os.X_OK), "%s is not built" % tool
    res = subprocess.run([tool] + dbd_args(db) + list(args),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True,
                         timeout=60)
    if db.backend == "sqlite":
        # whatever SQLite created as root must stay writable by httpd
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(db.path + suffix):
                chown_to(db.path + suffix, HTTPD_USER)
    return res


def test_revoke_user(httpd, db):
    srv = httpd.start(orm_conf(db))
    alice, alice2, bob = srv.client(), srv.client(), srv.client()
    for c, user in ((alice, "alice"), (alice2, "alice"), (bob, "bob")):
        c.get("/probe?op=set&key=x&value=1")
        c.get("/probe?op=set&key=realm-user&value=" + user)
        assert c.get("/probe?op=get&key=realm-user").value("realm-user") \
            == user

    res = session_orm(db, "revoke", "--user", "alice")
    assert res.returncode == 0, " ".join(map(shlex.quote, res.args)) + \
        "\n" + res.stdout

    for c in (alice, alice2):
        r = c.get("/probe?op=dump")
        assert r.status == 200 and r.entries() == {}, r
        assert [ck.expired for ck in r.cookies(COOKIE)] == [True], r
    assert bob.get("/probe?op=dump").entries() == {"x": "1",
                                                   "realm-user": "bob"}
    assert db.count(where="user_name = 'alice'") == 0
    assert db.count(where="user_name = 'bob'") == 1
