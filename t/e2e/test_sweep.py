"""The expiry sweep: SessionORMSweepInterval / SessionORMSweepBatch.

Every child runs a sweep thread; at most one sweep per interval across the
children (cross-process try-lock + shared last-sweep time). A sweep logs
`ORM0301: swept N expired sessions from 'T' in X ms` (info, debug when
N = 0), `ORM0302` once per outage and `ORM0304` when it works again.
"""

import datetime
import hashlib
import os
import re
import subprocess
import threading
import time

import pytest

from harness.common import (HarnessError, child_pids, make_dir, now_ms,
                            pid_alive, sha256_hex, sql_quote, wait_for)
from harness.conf import dbd_indented, orm_conf
from harness.logs import DBD_CONNECT_FAILURES
from harness.databases import (PSQL, SERVER_CLASSES, allow_skip,
                               backend_of, selected_on, server_of_kind)

# --------------------------------------------------------------------------
# helpers (local to this file)

SWEPT_RE = re.compile(
    r"^\[(?P<ts>[^\]]+)\] \[session_orm:(?P<level>\w+)\] "
    r"\[pid (?P<pid>\d+)(?::tid \d+)?\].*ORM0301: swept (?P<n>\d+) expired "
    r"sessions from '(?P<table>[^']*)' in (?P<ms>\d+) ms")
COLUMNS = "id, data, expires_at, user_name, created_at, updated_at"


class Swept:
    def __init__(self, m):
        self.ts = datetime.datetime.strptime(m.group("ts"),
                                             "%a %b %d %H:%M:%S.%f %Y")
        self.level = m.group("level")
        self.pid = int(m.group("pid"))
        self.n = int(m.group("n"))
        self.table = m.group("table")

    def __repr__(self):
        return "<swept %d from %s pid %d at %s (%s)>" % (
            self.n, self.table, self.pid, self.ts.time(), self.level)


def swept_lines(srv, mark=0):
    out = []
    for line in srv.log_since(mark):
        m = SWEPT_RE.search(line)
        if m:
            out.append(Swept(m))
    return out


def log_count(srv, pattern, mark=0):
    rx = re.compile(pattern)
    return sum(1 for l in srv.log_since(mark) if rx.search(l))


def sweep_server(interval=1, batch="@BATCH@", extra=""):
    return ("SessionORMSweepInterval %s\nSessionORMSweepBatch %s\n%s"
            % (interval, batch, extra))


def insert_expired(db, n, table="session", prefix="exp", user=None,
                   expires_at=None):
    """n expired rows with ids prefix1..prefixN in one statement."""
    now = now_ms()
    exp = expires_at if expires_at is not None else now - 3600 * 1000
    cols = "(%s)" % COLUMNS
    user = sql_quote(user)
    if db.backend == "sqlite":
        q = ("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
             "WHERE n < %d) INSERT INTO %s %s SELECT '%s' || n, 'x=1', %d, "
             "%s, %d, %d FROM c" % (n, table, cols, prefix, exp, user,
                                    exp - 1000, exp - 1000))
    elif db.backend == "pgsql":
        q = ("INSERT INTO %s %s SELECT '%s' || g, 'x=1', %d, %s, %d, %d FROM "
             "generate_series(1, %d) g" % (table, cols, prefix, exp, user,
                                           exp - 1000, exp - 1000, n))
    else:
        q = ("SET SESSION max_recursive_iterations = %d; INSERT INTO %s %s "
             "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
             "WHERE n < %d) SELECT CONCAT('%s', n), 'x=1', %d, %s, %d, %d "
             "FROM c" % (n + 10, table, cols, n, prefix, exp, user,
                         exp - 1000, exp - 1000))
    db.sql(q)


def count_expired(db, table="session"):
    return db.count(table, where="expires_at <= %d" % now_ms())


def live_session(srv, key="live", value="yes"):
    """A session created through the probe (this also creates the table)."""
    c = srv.client()
    r = c.get("/probe?op=set&key=%s&value=%s" % (key, value))
    assert r.status == 200 and c.token, r
    return c


def assert_live_session(db, c, key="live", value="yes", table="session"):
    assert db.count(table, where="id = '%s'" % sha256_hex(c.token)) == 1, \
        "the live session's row was swept"
    r = c.get("/probe?op=get&key=%s" % key)
    assert r.value(key) == value, \
        "live session does not read back after the sweep: %r" % r


def wait_gone(db, table="session", timeout=15):
    return wait_for(lambda: count_expired(db, table) == 0, timeout, 0.2)


# --------------------------------------------------------------------------
# basic sweep


def test_sweep_removes_expired_rows(httpd, db):
    srv = httpd.start(orm_conf(db, server=sweep_server(1)), batch=100,
                      loglevel="info", debug=True)
    c = live_session(srv)
    insert_expired(db, 450)
    assert count_expired(db) == 450
    assert wait_gone(db), "expired rows not swept within 15 s (left: %d)" \
        % count_expired(db)
    assert db.count() == 1
    assert srv.wait_log(r"\[session_orm:info\].*ORM0301: swept \d+ expired "
                        r"sessions from 'session' in \d+ ms", 5), \
        "no ORM0301 info line:\n" + srv.log_text()
    wait_for(lambda: sum(s.n for s in swept_lines(srv)) >= 450, 3)
    removed = [s for s in swept_lines(srv) if s.n > 0]
    assert sum(s.n for s in removed) == 450, removed
    assert all(s.level == "info" for s in removed), removed
    # the sweeps that found nothing are at debug
    assert all(s.level == "debug" for s in swept_lines(srv) if s.n == 0)
    assert_live_session(db, c)


def test_sweep_interval_zero_is_off(httpd, db):
    srv = httpd.start(orm_conf(db, server=sweep_server(0)), batch=100,
                      loglevel="info", debug=True)
    c = live_session(srv)
    insert_expired(db, 50)
    time.sleep(3)
    assert count_expired(db) == 50, "rows swept with SessionORMSweepInterval 0"
    assert swept_lines(srv) == []
    assert log_count(srv, r"ORM030\d") == 0
    assert_live_session(db, c)


# --------------------------------------------------------------------------
# several children: one sweep per interval

MPM_MANY = {
    "prefork": """
StartServers 4
MinSpareServers 4
MaxSpareServers 8
""",
    "event": """
StartServers 2
MinSpareThreads 8
MaxSpareThreads 16
""",
}
MPM_CHILDREN = {"prefork": 4, "event": 2}


def test_one_sweep_per_interval_across_children(httpd, db):
    """prefork with 4 children and event with 2, side by side (each on its
    own database, to keep the test short)."""
    window = 3
    runs = []
    for mpm in ("prefork", "event"):
        d = db if mpm == "prefork" else db.another_database("event")
        srv = httpd.start(MPM_MANY[mpm] + orm_conf(d, server=sweep_server(1)),
                          mpm=mpm, batch=100, loglevel="info", debug=True)
        runs.append((mpm, srv, d))
    for mpm, srv, d in runs:
        want = MPM_CHILDREN[mpm]
        assert wait_for(lambda: len(child_pids(srv.pid)) >= want, 5), \
            "%s: expected %d children, have %r" % (mpm, want,
                                                   child_pids(srv.pid))
    clients = [live_session(srv) for _, srv, _ in runs]
    for mpm, srv, d in runs:
        # a first sweep over the existing table
        assert wait_for(lambda: swept_lines(srv), 6), \
            "%s: no sweep (ORM0301 debug line) at all:\n%s" % (
                mpm, srv.log_text())
    for mpm, srv, d in runs:
        insert_expired(d, 450)
    for mpm, srv, d in runs:
        assert wait_gone(d), "%s: expired rows not swept" % mpm
    # observe at least `window` seconds after each one's first sweep
    for mpm, srv, d in runs:
        t0 = swept_lines(srv)[0].ts
        wait_for(lambda: (swept_lines(srv)[-1].ts - t0).total_seconds()
                 >= window + 0.5, window + 3, 0.2)
    time.sleep(0.2)
    for (mpm, srv, d), c in zip(runs, clients):
        want = MPM_CHILDREN[mpm]
        lines = swept_lines(srv)
        t0 = lines[0].ts
        assert len(child_pids(srv.pid)) >= want
        in_window = [s for s in lines
                     if (s.ts - t0).total_seconds() <= window]
        assert len(in_window) <= window + 1, \
            "%s: %d sweeps in %d s with %d children (one per interval " \
            "expected): %r" % (mpm, len(in_window), window, want, in_window)
        assert len(in_window) >= window - 1, \
            "%s: sweeps not every interval: %r" % (mpm, in_window)
        gaps = [(b.ts - a.ts).total_seconds()
                for a, b in zip(lines, lines[1:])]
        assert min(gaps) >= 0.8, \
            "%s: two sweeps less than an interval apart: %r" % (
                mpm, list(zip(lines, gaps)))
        removed = [s for s in lines if s.n > 0]
        assert len(removed) == 1 and removed[0].n == 450, \
            "%s: one batch of expired rows should be swept by exactly one " \
            "sweep: %r" % (mpm, removed)
    for (mpm, srv, d), c in zip(runs, clients):
        assert_live_session(d, c)


# --------------------------------------------------------------------------
# a web farm: several hosts on one database sweep once per interval
# (issue 9 item 13)

# a host that does not sweep says why: another swept less than an interval
# ago (ORM0307), or, on PostgreSQL, another holds the sweep's lock right
# now (ORM0303: two hosts whose timers fire together)
SKIPPED_RE = re.compile(r"\[session_orm:debug\].*(ORM0307: sweep of "
                        r"'session' skipped: another host swept it less than "
                        r"2 s ago|ORM0303: sweep of 'session' skipped: "
                        r"another host holds its lock)")


def test_farm_sweeps_once_per_interval(httpd, db):
    """Three httpd hosts (each its own parent, children and shared memory)
    with the same DBDParams: one sweep per SessionORMSweepInterval for the
    whole farm, not one per host; the hosts that do not sweep log ORM0307
    (or ORM0303 on PostgreSQL, when another holds the sweep lock at that
    moment). On SQLite the three share one file."""
    interval, hosts, run = 2, 3, 9.0
    farm = [httpd.start(orm_conf(db, server=sweep_server(interval)),
                        name="host%d" % i, batch=100, loglevel="info",
                        debug=True)
            for i in range(hosts)]
    # the table exists before the observed window (no sweep before it does)
    live = [live_session(srv, value="h%d" % i) for i, srv in enumerate(farm)]
    marks = [srv.log_mark() for srv in farm]
    start = time.monotonic()
    # expired rows every second, so that every sweep has work
    inserted, early = 0, []
    while time.monotonic() - start < run:
        prefix = "exp%d-" % inserted      # no LIKE wildcard in it
        insert_expired(db, 20, prefix=prefix)
        if time.monotonic() - start < run - 2 * interval - 0.5:
            early.append(prefix)
        inserted += 1
        time.sleep(max(0.0, start + inserted - time.monotonic()))
    elapsed = time.monotonic() - start
    left = [p for p in early
            if db.count(where="id LIKE '%s%%'" % p)]
    assert not left, "expired rows inserted early still there: %r" % left
    # the last ones, at the latest one interval later
    assert wait_gone(db, timeout=interval + 2), \
        "%d expired rows not swept" % count_expired(db)
    time.sleep(0.3)                 # ORM0301 follows the last DELETE
    end = time.monotonic()

    lines = sorted(((s, i) for i, srv in enumerate(farm)
                    for s in swept_lines(srv, marks[i])),
                   key=lambda x: x[0].ts)
    sweeps = [s for s, _ in lines]
    most = int((end - start) / interval) + 1
    assert 2 <= len(sweeps) <= most, \
        "%d sweeps by %d hosts in %.1f s with SessionORMSweepInterval %d " \
        "(at most %d for the farm): %r" % (len(sweeps), hosts, end - start,
                                           interval, most, lines)
    gaps = [(b.ts - a.ts).total_seconds() for a, b in zip(sweeps,
                                                          sweeps[1:])]
    assert min(gaps) >= interval - 0.2, \
        "two hosts swept less than an interval apart: %r" % list(zip(lines,
                                                                   gaps))
    # every expired row once, by one sweep
    assert sum(s.n for s in sweeps) == inserted * 20, lines
    # the hosts that did not sweep skipped: about hosts - 1 per sweep
    skipped = [sum(1 for l in srv.log_since(marks[i]) if SKIPPED_RE.search(l))
               for i, srv in enumerate(farm)]
    swept_by = [sum(1 for _, h in lines if h == i) for i in range(hosts)]
    assert sum(skipped) >= len(sweeps), \
        "ORM0307/ORM0303 skips %r, sweeps per host %r" % (skipped, swept_by)
    for i in range(hosts):
        assert skipped[i] or swept_by[i] == len(sweeps), \
            "host%d neither swept every time nor logged a skip (sweeps " \
            "per host %r, skips %r)" % (i, swept_by, skipped)
    # the farm's marker row: one, never expiring, not a session
    assert db.sql("SELECT expires_at FROM session WHERE id = '!sweep'") \
        == [("9223372036854775807",)]
    assert db.count() == hosts
    for i, (srv, c) in enumerate(zip(farm, live)):
        assert_live_session(db, c, value="h%d" % i)
    assert elapsed < run + 2


# --------------------------------------------------------------------------
# graceful restart / graceful stop while a long sweep runs

def _stop_graceful(srv, timeout=20):
    """apache2 -k graceful-stop; returns the seconds until the parent and all
    its children are gone."""
    pid = srv.pid
    kids = child_pids(pid)
    t = time.monotonic()
    rc, out = srv._ctl("-k", "graceful-stop")
    assert rc == 0, out
    gone = wait_for(lambda: not pid_alive(pid)
                    and not any(pid_alive(k) for k in kids), timeout, 0.05)
    elapsed = time.monotonic() - t
    assert gone, "httpd not gone %d s after graceful-stop (pids %r)" % (
        timeout, [p for p in [pid] + kids if pid_alive(p)])
    srv.started = False
    return elapsed


def test_graceful_restart_and_stop_during_long_sweep(httpd, db):
    """A sweep of many expired rows, 100 at a time with a pause between
    batches (at most 5000 rows a second: 200k rows on SQLite, 50k on the
    servers, where inserting them takes longer, are many seconds of work):
    a graceful restart ends the old children promptly and the new
    generation removes the rows; a graceful stop in the middle of another
    long sweep completes within seconds, without error lines."""
    rows = 200000 if db.backend == "sqlite" else 50000
    # a graceful stop held up by the sweep would show here as a 30 s wait
    # (not as a kill after the harness' GracefulShutdownTimeout of 3 s)
    srv = httpd.start(orm_conf(db, server=sweep_server(1) +
                               "GracefulShutdownTimeout 30\n"),
                      batch=100, loglevel="info", debug=True)
    c = live_session(srv)
    insert_expired(db, rows)
    # the sweep is running: the count goes down
    assert wait_for(lambda: db.count() < rows - 300, 10, 0.05), \
        "the sweep did not start"
    gen1 = child_pids(srv.pid)
    assert gen1

    # graceful restart (into bigger batches): the old children end
    # although their sweep is far from finished
    # (still tens of batches for the second sweep below)
    srv.fmt["batch"] = 2500 if db.backend == "sqlite" else 1000
    srv.write_config()
    t = time.monotonic()
    srv.graceful()
    assert wait_for(lambda: not any(pid_alive(p) for p in gen1), 5, 0.05), \
        "old generation still alive %.1f s after graceful" % (
            time.monotonic() - t)
    left = count_expired(db)
    assert left > rows // 2, "sweep finished before the restart (test too " \
        "slow?): %d left" % left
    assert wait_for(lambda: child_pids(srv.pid), 5, 0.05), "no new children"
    gen2 = child_pids(srv.pid)
    assert not set(gen2) & set(gen1)
    # the new generation removes them
    assert wait_gone(db, timeout=20), "new generation did not finish: %d " \
        "left" % count_expired(db)
    wait_for(lambda: any(s.pid in gen2 and s.n > 0
                         for s in swept_lines(srv)), 3)
    assert any(s.pid in gen2 and s.n > 0 for s in swept_lines(srv)), \
        "no ORM0301 from the new generation: %r" % swept_lines(srv)
    assert_live_session(db, c)

    # graceful stop in the middle of the new generation's next long sweep
    insert_expired(db, rows, prefix="again")
    assert wait_for(lambda: db.count() < rows - 1000, 10, 0.02), \
        "second sweep did not start"
    elapsed = _stop_graceful(srv)
    assert elapsed < 6, "graceful-stop took %.1f s during a sweep" % elapsed
    assert "still did not exit" not in srv.log_text()
    assert count_expired(db) > 0, \
        "the sweep was not interrupted (finished before the stop?)"
    assert db.count(where="id = '%s'" % sha256_hex(c.token)) == 1


# --------------------------------------------------------------------------
# database outage: ORM0302 once, ORM0304 on recovery

DAEMON_BACKENDS = {"pgsql", "mysql"}


class _Dedicated:
    """Dedicated servers for the outage test (the harness' classes: they can
    be stopped and started again), one per database behind (the ODBC kinds
    share the native kind's), set up in a background thread while the
    other tests of this file run (initdb and mariadb-install-db take
    seconds)."""

    def __init__(self, backends, basedir):
        self.servers = {}
        self.errors = {}
        self.thread = threading.Thread(target=self._run,
                                       args=(backends, basedir), daemon=True)
        self.thread.start()

    def _run(self, backends, basedir):
        for backend in backends:
            try:
                self.servers[backend] = SERVER_CLASSES[backend](make_dir(
                    os.path.join(basedir, backend)))
            except Exception as e:      # noqa: BLE001
                self.errors[backend] = e

    def get(self, backend):
        self.thread.join(180)
        if backend in self.errors:
            raise self.errors[backend]
        return self.servers[backend]

    def stop(self):
        self.thread.join(180)
        for srv in self.servers.values():
            try:
                srv.stop()
            except Exception:               # noqa: BLE001
                pass


@pytest.fixture(scope="module", autouse=True)
def _dedicated_servers(request, session_state):
    backends = sorted(set(
        backend_of(item.callspec.params.get("db"))
        for item in request.session.items
        if item.module is request.module
        and item.originalname in ("test_database_outage_logged_once",
                                  "test_idle_host_sweeps_after_database_"
                                  "restart")
        and hasattr(item, "callspec")) & DAEMON_BACKENDS)
    if not backends:
        yield None
        return
    ded = _Dedicated(backends, make_dir(os.path.join(
        session_state.basedir, "sweep-dedicated")))
    yield ded
    ded.stop()


@pytest.fixture
def own_server(request, _dedicated_servers, session_state):
    kind = request.node.callspec.params["db"]
    if backend_of(kind) == "sqlite":
        return None
    try:
        return server_of_kind(kind, _dedicated_servers.get(backend_of(kind)),
                              session_state)
    except HarnessError as e:
        if allow_skip():
            pytest.skip("%s unavailable: %s" % (kind, e))
        raise


def test_database_outage_logged_once(httpd, db, own_server):
    if own_server is not None:
        db = own_server.new_database("outage")
    srv = httpd.new(orm_conf(db, server=sweep_server(1)), batch=100,
                    loglevel="info", debug=True)
    # mod_dbd says why it cannot connect, every time it tries
    srv.expect_log(DBD_CONNECT_FAILURES, r"ORM0302:")
    srv.start()
    c = live_session(srv)
    assert srv.wait_log(r"ORM0301:", 6), "no sweep before the outage"

    mark = srv.log_mark()
    if own_server is None:
        # SQLite: the table becomes unreadable for a while
        db.sql("ALTER TABLE session RENAME TO session_offline")
        assert srv.wait_log(r"ORM0302:", 8, mark), \
            "no ORM0302 while the session table is unreadable (renamed):" \
            "\n%s" % "\n".join(srv.log_since(mark))
        time.sleep(2.2)         # more failing sweeps: still one line
        db.sql("ALTER TABLE session_offline RENAME TO session")
        insert_expired(db, 450)
    else:
        own_server.stop_server()
        assert srv.wait_log(r"ORM0302:", 8, mark), \
            "no ORM0302 with the database down:\n%s" % \
            "\n".join(srv.log_since(mark))
        time.sleep(2.2)         # more failing sweeps: still one line
        own_server.start_server()
        insert_expired(db, 450)
    assert log_count(srv, r"ORM0302:", mark) == 1, \
        "ORM0302 logged more than once per outage:\n%s" % "\n".join(
            l for l in srv.log_since(mark) if "ORM0302" in l)
    assert re.search(r"\[session_orm:error\].*ORM0302:",
                     "\n".join(srv.log_since(mark)))

    assert srv.wait_log(r"\[session_orm:notice\].*ORM0304:", 10, mark), \
        "no ORM0304 after the database came back:\n%s" % \
        "\n".join(srv.log_since(mark)[-30:])
    assert wait_gone(db), "expired rows not swept after the outage"
    wait_for(lambda: sum(s.n for s in swept_lines(srv, mark)) >= 450, 3)
    assert log_count(srv, r"ORM0304:", mark) == 1
    assert log_count(srv, r"ORM0302:", mark) == 1
    assert sum(s.n for s in swept_lines(srv, mark)) == 450
    assert_live_session(db, c)


# issue 9 item 10: a host that was idle while its database restarted
def test_idle_host_sweeps_after_database_restart(httpd, db, own_server):
    """Its pooled connection died with the restart unnoticed (libpq learns
    of it from the first statement): the sweep reconnects (through odbc:
    visits again on a new connection) and sweeps, logging no ORM0302 for a
    database that is up."""
    if own_server is None:
        pytest.skip("SQLite has no server to restart")
    db = own_server.new_database("idle")
    srv = httpd.new(orm_conf(db, server=sweep_server(5)), batch=100,
                    loglevel="info", debug=True)
    if db.driver == "odbc":
        # the driver cannot reconnect it: mod_dbd drops the dead
        # connection at the next open, saying so, and opens a new one
        srv.expect_log(r"\[dbd:error\].*AH00639: DBD \[odbc\] Error")
    srv.start()
    c = live_session(srv)
    mark = srv.log_mark()
    assert srv.wait_log(r"ORM0301:", 10, mark), "no sweep before the restart"
    # right after a sweep, so that the next one meets the database up
    t0 = time.monotonic()
    own_server.restart()
    assert time.monotonic() - t0 < 4, "the restart took too long to test"
    mark = srv.log_mark()
    insert_expired(db, 30)
    assert wait_gone(db), "expired rows not swept after the restart:\n%s" % \
        "\n".join(srv.log_since(mark)[-20:])
    assert log_count(srv, r"ORM0302:", mark) == 0, "\n".join(
        l for l in srv.log_since(mark) if "ORM0302" in l)
    assert_live_session(db, c)


def _advisory_key(table):
    """The key of the sweep's PostgreSQL advisory lock (orm_purge_lock_key:
    the first 8 bytes of SHA-256("mod_session_orm sweep:" + table), as a
    signed 64-bit number)."""
    d = hashlib.sha256(("mod_session_orm sweep:" + table).encode()).digest()
    return int.from_bytes(d[:8], "big", signed=True)


@pytest.mark.parametrize("db", selected_on("pgsql"), indirect=True)
def test_pgsql_advisory_lock_held_elsewhere_skips_sweep(httpd, db):
    """Another host sweeping the same PostgreSQL table (it holds the
    advisory lock): this one skips its sweeps until the lock is free."""
    pg_server = db.server
    srv = httpd.start(orm_conf(db, server=sweep_server(1)), batch=100,
                      loglevel="info", debug=True)
    c = live_session(srv)
    assert srv.wait_log(r"ORM0301:", 6), "no sweep"
    key = _advisory_key("session")
    other = subprocess.Popen(
        [PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
         pg_server.sock, "-p", str(pg_server.port), "-U", pg_server.user,
         "-d", db.name],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, universal_newlines=True)
    try:
        other.stdin.write("SELECT pg_advisory_lock(%d);\nSELECT 'locked';\n"
                          % key)
        other.stdin.flush()
        while True:
            line = other.stdout.readline()
            assert line, "psql holding the lock ended"
            if line.strip() == "locked":
                break
        mark = srv.log_mark()
        insert_expired(db, 100)
        time.sleep(2.5)
        assert count_expired(db) == 100, \
            "swept although another host holds the sweep's advisory lock"
        assert log_count(srv, r"ORM0303:", mark) >= 1, \
            "no ORM0303 (skipped: another host holds its lock)"
        other.stdin.write("SELECT pg_advisory_unlock(%d);\n\\q\n" % key)
        other.stdin.flush()
        other.wait(10)
    finally:
        if other.poll() is None:
            other.kill()
            other.wait()
    assert wait_gone(db, timeout=6), "not swept once the lock was released"
    assert_live_session(db, c)


def test_sweep_survives_schema_change_in_same_database(httpd, db):
    """Another table appears in the same database after the sweep prepared
    its DELETE (a second vhost's table, an admin's migration): the sweep
    keeps working."""
    srv = httpd.start(orm_conf(db, server=sweep_server(1)), batch=100,
                      loglevel="info", debug=True)
    c = live_session(srv)
    assert srv.wait_log(r"ORM0301:", 6), "no sweep"
    time.sleep(1.2)                 # a second sweep on the same connection
    mark = srv.log_mark()
    db.create_session_table("other_sessions")
    insert_expired(db, 200)
    assert wait_gone(db, timeout=8), \
        "expired rows not swept after another table was created:\n%s" % \
        "\n".join(l for l in srv.log_since(mark) if "ORM03" in l)
    assert_live_session(db, c)


def test_sweep_turn_refused_on_an_open_connection(httpd, db):
    """The farm's turn to sweep is an UPDATE of the marker row. When the
    database refuses it on a connection that stays open (here a trigger; a
    lock timeout or a revoked grant would do the same), the sweep tries
    once more with its statements prepared anew, which needs the old ones
    released first: PostgreSQL keeps a prepared statement's name for the
    connection's life, and preparing it again under that name fails
    'already exists'. Once the database takes the UPDATE again, the sweep
    goes on."""
    if db.backend != "pgsql":
        pytest.skip("a trigger that refuses the turn: PostgreSQL's plpgsql")
    srv = httpd.start(orm_conf(db, server=sweep_server(1)), batch=100,
                      loglevel="info", debug=True)
    srv.expect_log(r"ORM0302:.*turn refused by the test")
    c = live_session(srv)
    assert srv.wait_log(r"ORM0301:", 6), "no sweep"
    mark = srv.log_mark()
    db.sql("CREATE FUNCTION orm_test_refuse() RETURNS trigger "
           "LANGUAGE plpgsql AS $$ BEGIN "
           "RAISE EXCEPTION 'turn refused by the test'; END $$")
    db.sql("CREATE TRIGGER orm_test_refuse BEFORE UPDATE ON session "
           "FOR EACH ROW WHEN (OLD.id = '!sweep') "
           "EXECUTE FUNCTION orm_test_refuse()")
    assert srv.wait_log(r"ORM0302:.*turn refused by the test", 8, mark), \
        "\n".join(srv.log_since(mark))
    # both attempts failed for the database's reason, not for a name left
    # behind by the first
    assert not any("already exists" in l for l in srv.log_since(mark)), \
        "\n".join(srv.log_since(mark))

    mark = srv.log_mark()
    db.sql("DROP TRIGGER orm_test_refuse ON session")
    insert_expired(db, 50)
    assert wait_gone(db, timeout=10), "\n".join(srv.log_since(mark))
    assert srv.wait_log(r"ORM0304:", 5, mark), "no recovery logged"
    assert not any("already exists" in l for l in srv.log_since(mark))
    assert_live_session(db, c)


# --------------------------------------------------------------------------
# virtual hosts

VHOSTS_CONF = """
<Location /probe>
    SetHandler session-probe
</Location>
Session On
SessionORMCookieName orm
SessionORMSweepInterval 1
SessionORMSweepBatch 100
@DBD_MAIN@

<VirtualHost 127.0.0.1:@PORT@>
    ServerName a.test
    @DBD_A@
</VirtualHost>

<VirtualHost 127.0.0.1:@PORT@>
    ServerName b.test
    @DBD_B@
</VirtualHost>
"""


def test_vhosts_sharing_a_table_swept_once(httpd, db):
    """The main server and two vhosts, each with its own DBDParams for the
    same database and table: one sweep per interval, not three."""
    conf = dbd_indented(db)
    srv = httpd.start(VHOSTS_CONF, dbd_main=conf, dbd_a=conf, dbd_b=conf,
                      loglevel="info", debug=True)
    a = srv.client(host_header="a.test")
    b = srv.client(host_header="b.test")
    a.get("/probe?op=set&key=live&value=a")
    b.get("/probe?op=set&key=live&value=b")
    assert db.count() == 2
    mark = srv.log_mark()
    insert_expired(db, 450)
    assert wait_gone(db)
    time.sleep(1.1)                 # one more interval
    lines = swept_lines(srv, mark)
    removed = [s for s in lines if s.n > 0]
    assert len(removed) == 1 and removed[0].n == 450, \
        "vhosts on one table: one sweep expected: %r" % removed
    gaps = [(y.ts - x.ts).total_seconds() for x, y in zip(lines, lines[1:])]
    assert not gaps or min(gaps) >= 0.8, \
        "the shared table was swept twice per interval: %r" % lines
    assert db.count() == 2
    assert a.get("/probe?op=get&key=live").value("live") == "a"
    assert b.get("/probe?op=get&key=live").value("live") == "b"


def test_vhosts_on_different_databases_both_swept(httpd, db):
    """vhost a (and the main server): the parametrized database; vhost b:
    another database of the same kind (another SQLite file, another
    database on the same server), same table name."""
    other = db.another_database("other")
    srv = httpd.start(VHOSTS_CONF, dbd_main=dbd_indented(db),
                      dbd_a=dbd_indented(db), dbd_b=dbd_indented(other),
                      loglevel="info", debug=True)
    a = srv.client(host_header="a.test")
    b = srv.client(host_header="b.test")
    a.get("/probe?op=set&key=live&value=a")
    b.get("/probe?op=set&key=live&value=b")
    assert db.count() == 1 and other.count() == 1
    mark = srv.log_mark()
    insert_expired(db, 300)
    insert_expired(other, 200)
    ok = wait_for(lambda: count_expired(db) == 0
                  and count_expired(other) == 0, 10, 0.2)
    assert ok, "not both swept: %d left in a, %d left in b\n%s" % (
        count_expired(db), count_expired(other),
        "\n".join(srv.log_since(mark)[-20:]))
    # the line is written once the sweep is over, just after the DELETEs
    wait_for(lambda: len([s for s in swept_lines(srv, mark) if s.n]) >= 2, 3)
    removed = sorted(s.n for s in swept_lines(srv, mark) if s.n > 0)
    assert removed == [200, 300], removed
    assert a.get("/probe?op=get&key=live").value("live") == "a"
    assert b.get("/probe?op=get&key=live").value("live") == "b"


def test_vhost_only_database_logs_no_sweep_errors(httpd, db):
    """Only a vhost has DBDriver/DBDParams (the session directives are in
    the main server, as in test_vhosts.py): the main server has no database
    and nothing to sweep, so no error may be logged for it."""
    srv = httpd.start(VHOSTS_CONF, dbd_main="", dbd_a=dbd_indented(db),
                      dbd_b=dbd_indented(db), loglevel="info", debug=True)
    a = srv.client(host_header="a.test")
    a.get("/probe?op=set&key=live&value=a")
    insert_expired(db, 100)
    assert wait_gone(db, timeout=8), "the vhost's table was not swept"
    # the harness fails the test on [dbd:error] / ORM0302 lines

