#!/usr/bin/env python3
"""Benchmarks for mod_session_orm, run on demand (not part of make check).

Every figure is measured in the same run as the figures it is compared with:
the same httpd binary, MPM, probe handler, machine and load generator (wrk),
with databases this script starts itself in a temporary directory and httpd
listening on loopback only. Absolute numbers depend on the machine; the
ratios are the result.

  bench/run compare   providers x workloads x databases (issue: performance):
                      read, sliding, burst (formerly write), new, mix,
                      large, rows1m; --mpm event|prefork;
                      --baseline REV with provider base: the module built
                      from git revision REV in the same rounds (an A/B)
  bench/run farm      mix on two httpd instances sharing one database and
                      the sessions (--dbs: pgsql, mysql): combined req/s,
                      and no acknowledged write lost (compare runs it on
                      PostgreSQL after its table when it measured mix)
  bench/run profile   where a workload's time goes: CPU per request in
                      httpd, the database and wrk (perf), httpd's hottest
                      libraries and symbols, statements per request
                      (pg_stat_statements, MariaDB status counters), the
                      module's counters, system calls per request (strace)
                      (default: the gaps issue 12 lists; needs perf, strace)
  bench/run sweep     purge rate on 1M expired + 100k live rows, and request
                      latency with and without a sweep running
  bench/run outage    1M requests over 200 sessions, database restarted twice
  bench/run memory    httpd children's private and shared resident size
                      from 100k to 1M writes (--providers dbd,orm,
                      ormcache: mod_session_dbd is the anchor)
  bench/run odbc      the module through DBDriver odbc against the native
                      driver on the same server: read and write ratios
                      (--dbs: the databases behind, default pgsql)

Every httpd runs with keep-alive (browsers and httpd's default do) and
enough threads that 16 connections never queue (MPM_BENCH).
Results go to bench/out/ (text table, CSV, PNG chart where gnuplot exists).
"""

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "t", "e2e"))

from harness.common import builddir, make_dir  # noqa: E402
from harness.conf import MODULE_ORDER, STD_MODULES  # noqa: E402
from harness.databases import (DaemonServer, MysqlServer,  # noqa: E402
                               PgServer, SqliteServer, server_of_kind)
from harness.httpd import HttpdFactory, Session  # noqa: E402

STD_MODULES.setdefault("session_dbd", ("session_dbd_module",
                                       "mod_session_dbd.so"))
if "session_dbd" not in MODULE_ORDER:
    MODULE_ORDER.append("session_dbd")
# Databases as deployed: commits flushed to disk, default caches (the test
# suite trades that for speed). Writes cost what they cost in production.
DaemonServer.durable = True

OUT = os.environ.get("ORM_BENCH_OUT", os.path.join(HERE, "out"))
WRK = shutil.which("wrk") or "/usr/bin/wrk"
LUA = os.path.join(HERE, "session.lua")
WRK_PANIC = "PANIC: unprotected error in call to Lua API"
CONNECTIONS = 16
THREADS = 2
REPEAT = 3          # measured runs per combination; the median is reported
COOKIE = "session"

# Browsers keep connections open, and so does httpd by default: every
# benchmark runs with keep-alive, so what differs between the providers is
# the session store's cost, not TCP set-up (the harness turns it off for the
# tests; the body comes after its base configuration and wins).
KEEPALIVE = """
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 15
"""
KEEPALIVE_TEXT = "keep-alive on (MaxKeepAliveRequests 0, KeepAliveTimeout 15)"

# No .htaccess lookups, as Debian's apache2.conf ships it: with overrides
# allowed, every request of every provider costs 6 openat and 6 newfstatat
# (one per directory from / down to the document root), a constant that
# narrows every ratio.
NO_OVERRIDES = """
<Directory />
    AllowOverride None
</Directory>
"""

# httpd's and APR's own choice of lock (a process-shared pthread mutex on
# Linux), as Debian's apache2.conf leaves it: the test harness's
# `Mutex file:... default`, which keeps the many instances of the test
# suite apart, would make the SQLite writers' lock a file lock
STOCK_MUTEX = """
Mutex default default
"""
STOCK_MUTEX_TEXT = "httpd's locks APR's default"

# Bigger than the tests' defaults (the harness caps ThreadLimit at 4 to keep
# the many small instances of the test suite cheap): the event MPM runs 2
# children of 32 threads from the start, so 16 connections never queue in
# httpd (with keep-alive, prefork holds a process per open connection: 16
# processes are started before the first request).
MPM_BENCH = {
    "event": """
StartServers 2
ServerLimit 2
ThreadLimit 32
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 32
MaxSpareThreads 64
MaxConnectionsPerChild 0
""",
    "prefork": """
StartServers 20
MinSpareServers 20
MaxSpareServers 32
ServerLimit 64
MaxRequestWorkers 64
MaxConnectionsPerChild 0
""",
}
MPM_TEXT = {"event": "event MPM 2 children x 32 threads",
            "prefork": "prefork MPM 20-64 processes"}

# mod_session_dbd as its manual prescribes (per dialect only where the
# column types must differ).
DBD_TABLE = {
    "sqlite": "CREATE TABLE session (key VARCHAR(50) PRIMARY KEY, "
              "value TEXT, expiry BIGINT)",
    "pgsql": "CREATE TABLE session (key VARCHAR(50) PRIMARY KEY, "
             "value TEXT, expiry BIGINT)",
    "mysql": "CREATE TABLE session (`key` VARCHAR(50) PRIMARY KEY, "
             "value MEDIUMTEXT, expiry BIGINT)",
}
DBD_SQL = """
DBDPrepareSQL "delete from session where {k} = %s" deletesession
DBDPrepareSQL "update session set value = %s, expiry = %lld, {k} = %s where {k} = %s" updatesession
DBDPrepareSQL "insert into session (value, expiry, {k}) values (%s, %lld, %s)" insertsession
DBDPrepareSQL "select value from session where {k} = %s and (expiry = 0 or expiry > %lld)" selectsession
DBDPrepareSQL "delete from session where expiry != 0 and expiry < %lld" cleansession
SessionDBDCookieName {cookie} {attrs}
"""

MIX_SESSIONS = 500
MIX_WRITE_PERCENT = 10
WORKLOADS = ["read", "sliding", "burst", "new", "mix", "large", "rows1m"]
WORKLOAD_ALIASES = {"write": "burst"}     # burst's name before issue 12
# ormcache's SessionORMCacheMaxSize for large's 16 KiB session
LARGE_CACHE_MAX = 32768
WORKLOAD_TEXT = {
    "read": "read a key",
    "sliding": "read, SessionMaxAge 1800, expiry rewritten once a minute",
    "burst": "every connection changes a key of one session",
    "new": "no cookie: a new session per request",
    "mix": "%d sessions, each request picks one at random, %d%% change a "
           "key" % (MIX_SESSIONS, MIX_WRITE_PERCENT),
    "large": "read, 16 KiB session (ormcache: SessionORMCacheMaxSize %d)"
             % LARGE_CACHE_MAX,
    "rows1m": "read, 1,000,000 rows in the table",
}
# one cookie for every provider: the module's defaults written out (HttpOnly,
# Path=/, SameSite=Lax), so every Set-Cookie carries the same attributes
COOKIE_ATTRS = "path=/;HttpOnly;SameSite=Lax"
# sliding: mod_session rewrites an unchanged session at most once a minute
# (SessionExpiryUpdateInterval, httpd 2.4.41+), as the module's
# SessionORMTouchInterval 60 does: the same rule for every provider
SLIDING_CONF = "SessionMaxAge 1800\nSessionExpiryUpdateInterval 60"


def log(msg):
    print(msg, flush=True)


# --------------------------------------------------------------------------
# wrk

def parse_duration(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        return None
    value = float(m.group(1))
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[
        m.group(2)]


def run_wrk(port, duration, path, cookies=(), vary=False, connections=None,
            mix=None, write_path=None, unique=False, tag="", seed=1,
            acks=None, jar_out=None):
    """Runs wrk (bench/session.lua: see there for mix, write_path, unique,
    tag and seed; acks: a file to receive the acknowledged keys, jar_out:
    one for the sessions' cookies at the end); returns dict(rps, p50, p99
    (ms), requests, non2xx, socket_errors)."""
    env = dict(os.environ)
    env.update(ORM_PATH=path, ORM_VARY="1" if vary else "",
               ORM_MIX="" if mix is None else str(mix),
               ORM_WRITE_PATH=write_path or path,
               ORM_UNIQUE="1" if unique else "", ORM_TAG=tag,
               ORM_SEED=str(seed), ORM_COOKIE_NAME=COOKIE)
    for name, value in (("ORM_ACKS", acks), ("ORM_JAR_OUT", jar_out)):
        if value:
            env[name] = value
    cookie_file = None
    if cookies:
        fd, cookie_file = tempfile.mkstemp(prefix="orm-cookies-")
        with os.fdopen(fd, "w") as f:
            f.write("".join("%d %s\n" % nc for nc in cookies))
        env["ORM_COOKIES"] = cookie_file
    args = [WRK, "-t%d" % THREADS, "-c%d" % (connections or CONNECTIONS),
            "-d%ds" % duration, "--latency", "-s", LUA,
            "http://127.0.0.1:%d" % port]
    try:
        for attempt in range(2):
            proc = subprocess.run(args, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT,
                                  universal_newlines=True,
                                  timeout=duration + 60)
            out = proc.stdout
            # wrk's own crash (its LuaJIT now and then panics in a script
            # function, or a signal ends it) measured nothing about the
            # server: the run is made again, once
            if "Requests/sec:" in out or not (
                    proc.returncode < 0 or WRK_PANIC in out) or attempt:
                break
            log("wrk crashed (exit status %d), running again:\n%s" % (
                proc.returncode, out[-400:]))
    finally:
        if cookie_file:
            os.unlink(cookie_file)
    res = {"rps": 0.0, "p50": None, "p99": None, "requests": 0,
           "non2xx": 0, "socket_errors": 0, "raw": out}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        res["rps"] = float(m.group(1))
    else:
        log("wrk measured nothing (port %d, %s, exit status %d):\n%s" % (
            port, path, proc.returncode, out[-800:]))
    m = re.search(r"(\d+) requests in", out)
    if m:
        res["requests"] = int(m.group(1))
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(r"^\s+%s(?:\.000)?%%\s+(\S+)" % pct, out, re.M)
        if m:
            res[key] = parse_duration(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        res["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", out)
    if m:
        res["socket_errors"] = sum(int(x) for x in m.groups())
    return res


# --------------------------------------------------------------------------
# providers: cookie, none, and on a database mod_session_dbd and
# mod_session_orm without and with its read-through cache (SessionORMCache)
# "base": mod_session_orm as built from another revision (--baseline), run
# beside this tree's in the same rounds: an A/B of a change
ORM_PROVIDERS = ("orm", "ormcache", "base")
DB_PROVIDERS = ("dbd",) + ORM_PROVIDERS
CACHE_SECONDS = 5           # SessionORMCacheSeconds' default


class Bench:
    def __init__(self, tmp, dbs):
        self.tmp = tmp
        self.session = Session(tmp)
        self.factory = HttpdFactory(os.path.join(tmp, "httpd"),
                                    self.session)
        os.makedirs(self.factory.workdir, exist_ok=True)
        os.chmod(self.factory.workdir, 0o755)
        self.servers = {}
        for kind in dbs:
            log("starting %s ..." % kind)
            self.servers[kind] = {"sqlite": SqliteServer,
                                  "pgsql": PgServer,
                                  "mysql": MysqlServer}[kind](tmp)

    def close(self):
        self.factory.stop_all()
        for server in self.servers.values():
            try:
                server.stop()
            except Exception as e:  # keep stopping the others
                log("stopping a database failed: %s" % e)

    def httpd(self, provider, db, workload, mpm="event", extra="",
              name=None, create_table=True):
        """Starts httpd for one provider on one (fresh) database; a second
        host on the same database (farm) has a name of its own and does not
        create mod_session_dbd's table again."""
        maxage = SLIDING_CONF if workload == "sliding" else ""
        mods = ["authz_core", "session", "probe"]
        if provider == "none":
            body = ""
        elif provider == "cookie":
            mods.append("session_cookie")
            body = "Session On\nSessionCookieName %s %s\n%s" % (
                COOKIE, COOKIE_ATTRS, maxage)
        elif provider == "dbd":
            mods += ["dbd", "session_dbd"]
            if create_table:
                db.sql(DBD_TABLE[db_kind(db)])
            body = "%s\nSession On\n%s\n%s" % (
                db.dbd_conf(), maxage,
                DBD_SQL.format(k="`key`" if db_kind(db) == "mysql" else "key",
                               cookie=COOKIE, attrs=COOKIE_ATTRS))
        else:
            mods += ["dbd", "orm_base" if provider == "base" else "orm"]
            body = "%s\nSession On\nSessionORMCookieName %s %s\n%s" % (
                db.dbd_conf(), COOKIE, COOKIE_ATTRS, maxage)
            if workload == "sliding":
                body += "\nSessionORMTouchInterval 60"
        name = name or "%s-%s-%s" % (provider, db_kind(db) if db else "none",
                                     workload)
        if provider == "ormcache":
            # the read-through cache, its defaults otherwise; for the 16 KiB
            # session, room for it
            body += "\nSessionORMCache %s" % os.path.join(
                self.tmp, "cache-%s-%d" % (name, os.getpid()))
            if workload == "large":
                body += "\nSessionORMCacheMaxSize %d" % LARGE_CACHE_MAX
        body = (KEEPALIVE + NO_OVERRIDES + STOCK_MUTEX + MPM_BENCH[mpm] +
                "\nLimitRequestFieldSize 65536\n"
                "LimitRequestLine 65536\n" + body + "\n" + extra +
                "\n<Location /probe>\n    SetHandler session-probe\n"
                "</Location>\n")
        h = self.factory.new(body, name=name, mpm=mpm, modules=mods)
        return h.start()


def db_kind(db):
    """sqlite, pgsql, mysql, or odbc-<database behind> (harness KINDS)."""
    return db.kind if db is not None else "none"


def make_sessions(h, n, size=None):
    """n sessions, number i with key k<i> set (16 KiB when size); returns
    [(i, Cookie value)] (bench/session.lua names keys after the number)."""
    cookies = []
    for i in range(1, n + 1):
        path = ("/probe?op=big&key=k%d&size=%d" % (i, size)) if size else \
            "/probe?op=set&key=k%d&value=v%d" % (i, i)
        r = h.get(path)
        assert r.status == 200, r
        sc = [c for c in r.cookies() if c.name == COOKIE]
        assert sc, "no session cookie from %s: %r" % (h.name, r)
        cookies.append((i, "%s=%s" % (COOKIE, sc[-1].value)))
    return cookies


def count_error_lines(h, mark):
    lines = [l for l in h.log_since(mark)
             if re.search(r"\[[a-z_]*:(error|crit|alert|emerg)\]", l)]
    if lines and os.environ.get("ORM_BENCH_VERBOSE"):
        log("\n".join(lines[:5]))
    return len(lines)


def insert_series(db, count, cols, row):
    """Inserts count rows into session; row(x, cat) gives the select list
    for row number x, cat(a, b) concatenates strings in the dialect."""
    kind = db_kind(db)
    if kind == "sqlite":
        db.sql("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c "
               "WHERE x < %d) INSERT INTO session (%s) SELECT %s FROM c"
               % (count, cols, row("x", lambda a, b: "%s || %s" % (a, b))))
    elif kind == "pgsql":
        db.sql("INSERT INTO session (%s) SELECT %s FROM generate_series(1, "
               "%d) AS g(x)" % (cols, row("x", lambda a, b: "%s || %s"
                                          % (a, b)), count))
    else:
        # MariaDB's recursive CTE is slow past a few 100k rows: 1000 x 1000
        db.sql("CREATE TABLE IF NOT EXISTS seq1000 (x INT PRIMARY KEY)")
        db.sql("INSERT IGNORE INTO seq1000 (x) WITH RECURSIVE c(x) AS "
               "(SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 1000) "
               "SELECT x FROM c")
        db.sql("INSERT INTO session (%s) SELECT %s FROM (SELECT "
               "(a.x - 1) * 1000 + b.x AS x FROM seq1000 a, seq1000 b) AS t "
               "WHERE x <= %d" % (cols, row("x", lambda a, b:
                                           "CONCAT(%s, %s)" % (a, b)),
                                  count))


FAR_MS = 4102444800000          # 2100-01-01


def prefill(db, provider, rows):
    """rows extra live, unrelated sessions in the table."""
    if provider in ORM_PROVIDERS:
        insert_series(db, rows, "id, data, expires_at, user_name, "
                      "created_at, updated_at",
                      lambda x, cat: "%s, 'k=v', %d, NULL, 1, 1"
                      % (cat("'f'", x), FAR_MS))
    else:
        key = "`key`" if db_kind(db) == "mysql" else "key"
        insert_series(db, rows, "%s, value, expiry" % key,
                      lambda x, cat: "%s, 'k=v', %d"
                      % (cat("'f'", x), FAR_MS * 1000))


def compare(args):
    bench = Bench(args.tmp, args.dbs)
    results = []
    try:
        for workload in args.workloads:
            results += compare_workload(bench, args, workload)
    finally:
        bench.close()
    report_compare(results, args)
    if "mix" in args.workloads and "pgsql" in args.dbs:
        # the farm is mix on two hosts: doc/perf's farm.txt comes from the
        # same run as compare.txt
        tmp = make_dir(os.path.join(args.tmp, "farm"), mode=0o755)
        farm(argparse.Namespace(**dict(vars(args), dbs=["pgsql"], tmp=tmp)))


def compare_combos(args, workload):
    """(provider, database kind or None) of one workload."""
    combos = [("none", None)]
    if "cookie" in args.providers:
        combos.append(("cookie", None))
    for kind in args.dbs:
        combos += [(p, kind) for p in DB_PROVIDERS if p in args.providers]
    return [(p, k) for p, k in combos
            if not (p in ("none", "cookie") and workload == "rows1m")
            and not (p == "none" and workload not in ("read", "new"))]


def compare_workload(bench, args, workload):
    """Every provider of one workload, measured in rounds. All of them are
    started first; each round then runs each once, in turn (the order
    rotating from round to round), so a slow stretch of this shared
    machine (a neighbour's load, a database's background writer) falls on
    all of them instead of on the runs of one; each ratio is then taken
    within a round (paired), and the median over the rounds reported."""
    hosts = []
    for provider, kind in compare_combos(args, workload):
        db = bench.servers[kind].new_database() if kind else None
        h = bench.httpd(provider, db, workload, mpm=args.mpm)
        if workload == "rows1m":
            make_sessions(h, 1)          # the table exists now
            log("  prefilling 1,000,000 rows (%s, %s) ..." % (provider, kind))
            prefill(db, provider, 1000000)
        cookies, opts = workload_load(h, provider, workload)
        jar = dict(cookies)
        # a short warm-up fills connection pools and prepares statements
        run_keeping_cookies(h.port, 2, jar, opts)
        hosts.append(dict(provider=provider, kind=kind, h=h, jar=jar,
                          opts=opts, mark=h.log_mark(), runs=[]))
    for rnd in range(REPEAT):
        turn = rnd % len(hosts)
        for host in hosts[turn:] + hosts[:turn]:
            if host["kind"] == "pgsql":
                # what earlier runs left dirty is written out now, not by
                # a checkpoint during this one
                bench.servers["pgsql"].psql("CHECKPOINT")
            before = cpu_times()
            res = run_keeping_cookies(host["h"].port, args.duration,
                                      host["jar"],
                                      dict(host["opts"], seed=rnd + 1))
            res["steal"] = steal_percent(before, cpu_times())
            host["runs"].append(res)
            log("%-8s %-8s %-7s round %d %9.0f req/s  p99 %7.2f ms  "
                "non-2xx %d  errors %d  steal %.0f%%" % (
                    workload, host["provider"], host["kind"] or "-",
                    rnd + 1, res["rps"], res["p99"] or -1, res["non2xx"],
                    res["socket_errors"], res["steal"]))
    results = []
    for host in hosts:
        res = summarize_runs(host["runs"], host["h"], host["mark"])
        res.update(provider=host["provider"], db=host["kind"] or "-",
                   workload=workload)
        results.append(res)
        host["h"].stop()
    return results


def cpu_times():
    """The machine's CPU time so far from /proc/stat: (total, steal)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is in user)
    return sum(fields[:8]), fields[7] if len(fields) > 7 else 0


def steal_percent(before, after):
    """Of the CPU time between two cpu_times(), the share the hypervisor
    gave to others (steal): a run with much of it measured a slower
    machine."""
    total = after[0] - before[0]
    return 100.0 * (after[1] - before[1]) / total if total > 0 else 0.0


def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1]
                                                + values[mid]) / 2


def summarize_runs(runs, h, mark):
    """The medians of a combination's runs (each figure on its own), the
    runs themselves (rps_runs, for the paired ratios), their failures and
    the error-log lines since mark."""
    return dict(rps=median(r["rps"] for r in runs),
                p50=median(r["p50"] for r in runs),
                p99=median(r["p99"] for r in runs),
                rps_runs=[r["rps"] for r in runs],
                steal=max(r.get("steal", 0.0) for r in runs),
                requests=sum(r["requests"] for r in runs),
                non2xx=sum(r["non2xx"] for r in runs),
                socket_errors=sum(r["socket_errors"] for r in runs),
                log_errors=count_error_lines(h, mark))


# bench/session.lua appends the session's number (and a value)
READ_PATH = "/probe?op=get&key=k"
WRITE_PATH = "/probe?op=set&key=k"


def workload_load(h, provider, workload):
    """The sessions (Cookie values) and wrk options of one workload."""
    if provider == "none":
        return [], dict(path=READ_PATH)
    if workload in ("read", "sliding", "rows1m"):
        return make_sessions(h, CONNECTIONS), dict(path=READ_PATH)
    if workload == "large":
        return make_sessions(h, CONNECTIONS, size=16384), \
            dict(path=READ_PATH)
    if workload == "burst":
        return make_sessions(h, 1), dict(path=WRITE_PATH, vary=True)
    if workload == "mix":
        return make_sessions(h, MIX_SESSIONS), dict(
            path=READ_PATH, mix=MIX_WRITE_PERCENT, write_path=WRITE_PATH)
    return [], dict(path="/probe?op=set&key=k&value=v")      # new


def measure(h, provider, workload, duration):
    cookies, opts = workload_load(h, provider, workload)
    jar = dict(cookies)
    # a short warm-up fills connection pools and prepares statements
    run_keeping_cookies(h.port, 2, jar, opts)
    mark = h.log_mark()
    runs = [run_keeping_cookies(h.port, duration, jar, dict(opts, seed=i + 1))
            for i in range(REPEAT)]
    return median_run(runs, h, mark)


def run_keeping_cookies(port, duration, jar, opts):
    """run_wrk with the sessions of jar (number -> Cookie), which then holds
    the cookies the server set: mod_session_dbd gives a changed session a
    new key, and the next run must send it, as a browser would."""
    fd, jar_out = tempfile.mkstemp(prefix="orm-jar-")
    os.close(fd)
    try:
        res = run_wrk(port, duration, cookies=sorted(jar.items()),
                      jar_out=jar_out if jar else None, **opts)
        read_jar(jar, jar_out)
    finally:
        os.unlink(jar_out)
    return res


def read_jar(jar, path):
    """The cookies bench/session.lua wrote at the end of a run into jar."""
    with open(path) as f:
        for line in f:
            n, cookie = line.split(" ", 1)
            jar[int(n)] = cookie.strip()


def median_run(runs, h, mark):
    """The median run by throughput (one disturbed run does not decide),
    with the failures of all runs and the error-log lines since mark."""
    runs.sort(key=lambda r: r["rps"])
    res = runs[len(runs) // 2]
    res["non2xx"] = sum(r["non2xx"] for r in runs)
    res["socket_errors"] = sum(r["socket_errors"] for r in runs)
    res["log_errors"] = count_error_lines(h, mark)
    return res


def run_header(args, what="mod_session_orm benchmark", median=True):
    """The first line of a report: the conditions every figure shares."""
    return "%s: %d connections, %d wrk threads, %d s per run, %s, %s, " \
        "AllowOverride None, %s%s" % (
            what, CONNECTIONS, THREADS, args.duration, MPM_TEXT[args.mpm],
            KEEPALIVE_TEXT, STOCK_MUTEX_TEXT,
            ", median of %d runs" % REPEAT if median else "")


def paired_ratio(runs, base_runs):
    """(median, lowest, highest) of runs[i] / base_runs[i] over the rounds,
    or None."""
    ratios = [a / b for a, b in zip(runs or [], base_runs or []) if b]
    if not ratios:
        return None
    return median(ratios), min(ratios), max(ratios)


def ratio_text(ratio):
    if ratio is None:
        return "-"
    if ratio[1] == ratio[2]:
        return "%.2f" % ratio[0]
    return "%.2f %.2f-%.2f" % ratio


def report_compare(results, args):
    os.makedirs(OUT, exist_ok=True)
    by = {(r["workload"], r["provider"], r["db"]): r for r in results}
    lines = [run_header(args, median=False) + ", %d rounds (each provider "
             "runs once per round, in turn)" % REPEAT, "",
             "%-8s %-8s %-7s %9s %7s %7s %-16s %-16s %6s %6s %6s" % (
                 "workload", "provider", "db", "req/s", "p50 ms", "p99 ms",
                 "x dbd", "x cookie", "failed", "errlog", "steal")]
    for r in results:
        dbd = by.get((r["workload"], "dbd", r["db"]))
        cookie = by.get((r["workload"], "cookie", "-"))
        x_dbd = paired_ratio(r["rps_runs"], dbd and dbd["rps_runs"])
        x_cookie = paired_ratio(r["rps_runs"], cookie and cookie["rps_runs"])
        if r["workload"] == "rows1m":
            # over the same provider's read on an empty table: measured in
            # another workload's rounds, so medians, not pairs
            base = by.get(("read", r["provider"], r["db"]))
            x_cookie = (r["rps"] / base["rps"],) * 3 \
                if base and base["rps"] else None
        r["x_dbd"], r["x_cookie"] = x_dbd, x_cookie
        row = (r["workload"], r["provider"], r["db"], r["rps"],
               "%.2f" % r["p50"] if r["p50"] is not None else "-",
               "%.2f" % r["p99"] if r["p99"] is not None else "-",
               ratio_text(x_dbd), ratio_text(x_cookie),
               r["non2xx"] + r["socket_errors"], r["log_errors"], r["steal"])
        lines.append("%-8s %-8s %-7s %9.0f %7s %7s %-16s %-16s %6d %6d "
                     "%5.0f%%" % row)
    lines += baseline_lines(by, args)
    lines.append("")
    lines.append("req/s, p50, p99: the median of the runs. steal: the "
                 "largest share of CPU time the hypervisor gave to other "
                 "machines during one of the runs. x dbd: req/s over "
                 "mod_session_dbd on the same database; x cookie: over "
                 "mod_session_cookie (for rows1m: over the same provider's "
                 "read on an empty table). The providers of a workload run "
                 "in turn, one run each per round; a ratio is taken within "
                 "each round and given as the median, then the lowest and "
                 "highest of the rounds. The client keeps the cookies the "
                 "server sets, one cookie jar per session, as a browser "
                 "does.")
    lines += ["%-8s %s" % (w, WORKLOAD_TEXT[w]) for w in args.workloads]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(OUT, "compare.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(OUT, "compare.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["workload", "provider", "db", "rps", "p50_ms", "p99_ms",
                    "x_dbd", "x_dbd_low", "x_dbd_high", "x_cookie",
                    "x_cookie_low", "x_cookie_high", "failed",
                    "error_log_lines", "steal_max_percent"])
        for r in results:
            w.writerow([r["workload"], r["provider"], r["db"],
                        "%.1f" % r["rps"], r["p50"], r["p99"]]
                       + list(r["x_dbd"] or (None,) * 3)
                       + list(r["x_cookie"] or (None,) * 3)
                       + [r["non2xx"] + r["socket_errors"],
                          r["log_errors"], "%.1f" % r["steal"]])
    with open(os.path.join(OUT, "compare.md"), "w") as f:
        f.write(markdown_tables(results))
    chart(results)
    print()
    print(text)


def baseline_lines(by, args):
    """With --baseline: this tree's orm over the baseline's, paired by
    round, per workload and database."""
    pairs = [(w, d, r, by.get((w, "base", d)))
             for (w, p, d), r in by.items() if p == "orm"]
    pairs = [(w, d, r, b) for w, d, r, b in pairs if b]
    if not pairs:
        return []
    lines = ["", "orm (this tree) over base (%s): req/s, paired by round"
             % args.baseline]
    for w, d, r, b in pairs:
        lines.append("%-8s %-7s %s  p99 %s against %s ms" % (
            w, d, ratio_text(paired_ratio(r["rps_runs"], b["rps_runs"])),
            "%.2f" % r["p99"] if r["p99"] is not None else "-",
            "%.2f" % b["p99"] if b["p99"] is not None else "-"))
    return lines


def build_baseline(rev, tmp):
    """The mod_session_orm.so of --baseline: a built module as it is, or a
    git revision of this repository, exported and built in tmp."""
    if rev.endswith(".so"):
        if not os.path.exists(rev):
            sys.exit("--baseline: %s does not exist" % rev)
        return os.path.abspath(rev)
    repo = os.path.join(HERE, "..")
    src = make_dir(os.path.join(tmp, "baseline"), mode=0o755)
    log("building the baseline %s in %s ..." % (rev, src))
    archive = subprocess.run(["git", "-C", repo, "archive", rev],
                             stdout=subprocess.PIPE)
    if archive.returncode != 0:
        sys.exit("--baseline: git archive %s failed" % rev)
    subprocess.run(["tar", "-x", "-C", src], input=archive.stdout,
                   check=True)
    for cmd in (["./autogen.sh"], ["./configure"], ["make", "-s"]):
        subprocess.run(cmd, cwd=src, check=True, stdout=subprocess.DEVNULL)
    return os.path.join(src, ".libs", "mod_session_orm.so")


DB_TITLES = (("sqlite", "SQLite"), ("pgsql", "PostgreSQL"),
             ("mysql", "MariaDB"))


def markdown_tables(results):
    """The README's tables of a compare run: ratios to mod_session_dbd (and
    SQLite's to mod_session_cookie), p99 and req/s, for orm and, where it
    ran, ormcache."""
    by = {(r["workload"], r["provider"], r["db"]): r for r in results}
    workloads = list(dict.fromkeys(r["workload"] for r in results))
    dbs = [(k, t) for k, t in DB_TITLES
           if any(r["db"] == k for r in results)]
    mods = [p for p in ORM_PROVIDERS
            if any(r["provider"] == p for r in results)]
    names = " / ".join({"orm": "orm", "ormcache": "with cache",
                        "base": "baseline"}[p]
                       for p in mods)

    def ratio(r, key):
        x = r and r.get(key)
        if not x:
            return "-"
        return "%.2f" % x[0] if x[1] == x[2] else \
            "%.2f (%.2f–%.2f)" % x

    def table(title, head, cell, extra_sqlite_cookie=False):
        cols = ["%s: %s" % (t, head) for _, t in dbs]
        if extra_sqlite_cookie:
            cols.append("SQLite × cookie: %s" % names)
        out = [title, "", "| workload | " + " | ".join(cols) + " |",
               "|---" * (len(cols) + 1) + "|"]
        for w in workloads:
            cells = [cell(w, k) for k, _ in dbs]
            if extra_sqlite_cookie:
                cells.append(" / ".join(ratio(by.get((w, p, "sqlite")),
                                              "x_cookie") for p in mods))
            out.append("| %s | %s |" % (w, " | ".join(cells)))
        return out + [""]

    def figure(w, k, p, key, fmt):
        r = by.get((w, p, k))
        return fmt % r[key] if r and r.get(key) is not None else "-"

    lines = table("Requests per second, as a ratio to mod_session_dbd "
                  "(median of the rounds, lowest–highest):", names,
                  lambda w, k: " / ".join(ratio(by.get((w, p, k)), "x_dbd")
                                          for p in mods),
                  extra_sqlite_cookie=True)
    lines += table("p99 latency in ms:", names + " / dbd",
                   lambda w, k: " / ".join(figure(w, k, p, "p99", "%.1f")
                                           for p in mods + ["dbd"]))
    lines += table("Requests per second:", names + " / dbd",
                   lambda w, k: " / ".join(figure(w, k, p, "rps", "%.0f")
                                           for p in mods + ["dbd"]))
    return "\n".join(lines)


def chart(results):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        log("gnuplot not found: no chart (apt-get install gnuplot-nox)")
        return
    data = os.path.join(OUT, "compare.dat")
    labels = []
    with open(data, "w") as f:
        for i, r in enumerate(results):
            label = "%s %s%s" % (r["workload"], r["provider"],
                                 "" if r["db"] == "-" else "/" + r["db"])
            labels.append(label)
            f.write('%d "%s" %.1f %s\n' % (i, label, r["rps"],
                                           r["p99"] or 0))
    script = """
set terminal pngcairo size 1800,900 font ",9"
set termoption noenhanced
set output "{out}"
set multiplot layout 2,1 title "mod_session_orm benchmark (16 connections, median of the runs)"
set style fill solid 0.7
set boxwidth 0.8
set xtics rotate by -60 left
set grid ytics
set ylabel "requests/s"
plot "{data}" using 1:3:xtic(2) with boxes notitle lc rgb "#3060a0"
set ylabel "p99 latency (ms)"
plot "{data}" using 1:4:xtic(2) with boxes notitle lc rgb "#a04030"
unset multiplot
""".format(out=os.path.join(OUT, "compare.png"), data=data)
    res = subprocess.run([gnuplot], input=script, universal_newlines=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if res.returncode != 0:
        # pngcairo may be missing: fall back to the plain png terminal
        script = script.replace("pngcairo", "png")
        subprocess.run([gnuplot], input=script, universal_newlines=True)
    log("chart: %s" % os.path.join(OUT, "compare.png"))


def save_report(name, lines):
    """bench/out/NAME.txt, and the same on the terminal."""
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


# --------------------------------------------------------------------------
# odbc: the cost of going through ODBC

# the ODBC kind of each database behind (harness KINDS)
ODBC_KIND = {"sqlite": "odbc-sqlite", "pgsql": "odbc-pgsql",
             "mysql": "odbc-mariadb"}
ODBC_WORKLOADS = ("read", "burst")


def odbc(args):
    """The module on one server through its native driver and through
    DBDriver odbc, the same workload one after the other: the ratio is the
    cost of going through ODBC (unixODBC and the database's ODBC driver)."""
    dbs = [d for d in args.dbs if d in ODBC_KIND] or ["pgsql"]
    workloads = [w for w in args.workloads if w in ODBC_WORKLOADS] \
        or list(ODBC_WORKLOADS)
    bench = Bench(args.tmp, dbs)
    results = []
    try:
        for backend in dbs:
            native = bench.servers[backend]
            through = server_of_kind(ODBC_KIND[backend], native,
                                     bench.session)
            for workload in workloads:
                for server in (native, through):
                    db = server.new_database()
                    h = bench.httpd("orm", db, workload, mpm=args.mpm)
                    if backend == "pgsql":
                        native.psql("CHECKPOINT")
                    res = measure(h, "orm", workload, args.duration)
                    res.update(provider="orm", db=db_kind(db),
                               backend=backend, workload=workload)
                    results.append(res)
                    log("%-8s %-13s %9.0f req/s  p99 %7.2f ms  failed %d  "
                        "error-log %d" % (
                            workload, db_kind(db), res["rps"],
                            res["p99"] or -1,
                            res["non2xx"] + res["socket_errors"],
                            res["log_errors"]))
                    h.stop()
    finally:
        bench.close()
    report_odbc(results, args)


def report_odbc(results, args):
    # the native kind of a backend is its name (harness KINDS)
    by = {(r["workload"], r["db"]): r for r in results}
    lines = [run_header(args, "mod_session_orm through ODBC against the "
                        "native driver"), "",
             "%-8s %-13s %10s %9s %9s %9s %7s %7s" % (
                 "workload", "db", "req/s", "p50 ms", "p99 ms", "x native",
                 "failed", "errlog")]
    for r in results:
        native = by.get((r["workload"], r["backend"]))
        ratio = r["rps"] / native["rps"] if native and native["rps"] \
            else None
        lines.append("%-8s %-13s %10.0f %9s %9s %9s %7d %7d" % (
            r["workload"], r["db"], r["rps"],
            "%.2f" % r["p50"] if r["p50"] is not None else "-",
            "%.2f" % r["p99"] if r["p99"] is not None else "-",
            "%.2f" % ratio if ratio else "-",
            r["non2xx"] + r["socket_errors"], r["log_errors"]))
    lines += ["", "x native: req/s over the same workload through the "
              "native driver (pgsql, sqlite3, mysql) on the same server."]
    save_report("odbc", lines)


# --------------------------------------------------------------------------
# farm: two hosts on one database serve the same sessions

FARM_HOSTS = ("a", "b")


def farm(args):
    """mix on two httpd instances sharing one database and the same
    sessions, one wrk per host at the same time (half the connections
    each): the combined throughput, and afterwards every write a host
    acknowledged looked up in the sessions (each write sets a key of its
    own, so a lost one shows)."""
    kinds = [k for k in args.dbs if k != "sqlite"] or ["pgsql"]
    bench = Bench(args.tmp, kinds)
    results = []
    try:
        providers = [p for p in DB_PROVIDERS
                     if p in ("dbd", "orm") or p in args.providers]
        for kind in kinds:
            for provider in providers:
                res = farm_run(bench, args, provider, kind)
                results.append(res)
                log("farm     %-8s %-7s %9.0f req/s  p99 %7.2f ms  acked "
                    "%d  lost %d  failed %d  error-log %d" % (
                        provider, kind, res["rps"], res["p99"] or -1,
                        res["acked"], res["lost"],
                        res["non2xx"] + res["socket_errors"],
                        res["log_errors"]))
    finally:
        bench.close()
    report_farm(results, args)


def farm_run(bench, args, provider, kind):
    db = bench.servers[kind].new_database()
    hosts = [bench.httpd(provider, db, "mix", mpm=args.mpm,
                         name="farm-%s-%s-%s" % (provider, kind, tag),
                         create_table=(tag == FARM_HOSTS[0]))
             for tag in FARM_HOSTS]
    jar = dict(make_sessions(hosts[0], MIX_SESSIONS))
    if kind == "pgsql":
        bench.servers[kind].psql("CHECKPOINT")
    opts = dict(path=READ_PATH, mix=MIX_WRITE_PERCENT,
                connections=CONNECTIONS // len(hosts))
    farm_round(hosts, jar, 0, 2, opts, args.tmp)    # warm-up
    marks = [h.log_mark() for h in hosts]
    runs = []
    acked = set()
    for i in range(REPEAT):
        # two rounds: every session is served by one host, then the other
        rounds = [farm_round(hosts, jar, r, args.duration, dict(
            opts, write_path="/probe?op=set", unique=True,
            seed=2 * i + r + 1), args.tmp, acked) for r in (0, 1)]
        parts = rounds[0] + rounds[1]
        run = dict(parts[0])
        run["rps"] = sum(p["rps"] for p in parts) / 2
        run["p99"] = max(p["p99"] or 0 for p in parts)
        run["p50"] = max(p["p50"] or 0 for p in parts)
        for key in ("non2xx", "socket_errors"):
            run[key] = sum(p[key] for p in parts)
        runs.append(run)
    res = median_run(runs, hosts[0], marks[0])
    res["log_errors"] += count_error_lines(hosts[1], marks[1])
    res["acked"] = len(acked)
    if provider == "ormcache":
        # what the first host wrote last reaches the second's cache within
        # SessionORMCacheSeconds (its default): the check reads the rows
        time.sleep(CACHE_SECONDS + 1)
    res["lost"] = len(acked - session_keys(hosts[1], jar))
    res.update(provider=provider, db=kind)
    for h in hosts:
        h.stop()
    return res


def farm_round(hosts, jar, rnd, duration, opts, tmp, acked=None):
    """One wrk per host, all at once, each on its half of the sessions
    (which half: rnd); jar (session number -> Cookie) follows the cookies
    the hosts set, acked collects the acknowledged keys. Returns the wrk
    results in host order."""
    results = [None] * len(hosts)

    def one(i):
        files = dict(jar_out=os.path.join(tmp, "jar-%d" % i))
        if acked is not None:
            files["acks"] = os.path.join(tmp, "acks-%d" % i)
        mine = [(n, c) for n, c in sorted(jar.items())
                if (n + rnd + i) % len(hosts) == 0]
        results[i] = run_wrk(hosts[i].port, duration, cookies=mine,
                             tag=FARM_HOSTS[i], **dict(opts, **files))
        results[i]["files"] = files
    workers = [threading.Thread(target=one, args=(i,))
               for i in range(len(hosts))]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    for res in results:
        read_jar(jar, res["files"]["jar_out"])
        if acked is not None:
            with open(res["files"]["acks"]) as f:
                acked.update(line.strip() for line in f if line.strip())
    return results


def session_keys(h, jar):
    """Every key of every session, read through h (op=dump)."""
    keys = set()
    for cookie in jar.values():
        r = h.get("/probe?op=dump", headers={"Cookie": cookie})
        assert r.status == 200, r
        keys.update(r.entries())
    return keys


def report_farm(results, args):
    by = {(r["provider"], r["db"]): r for r in results}
    lines = [run_header(args, "farm: mix on two hosts, one database, "
                        "%d connections per host" % (CONNECTIONS // 2)),
             "", "%-8s %-7s %10s %9s %9s %8s %8s %6s %7s %7s" % (
                 "provider", "db", "req/s", "p50 ms", "p99 ms", "x dbd",
                 "acked", "lost", "failed", "errlog")]
    for r in results:
        dbd = by.get(("dbd", r["db"]))
        x_dbd = r["rps"] / dbd["rps"] if dbd and dbd["rps"] else None
        lines.append("%-8s %-7s %10.0f %9.2f %9.2f %8s %8d %6d %7d %7d" % (
            r["provider"], r["db"], r["rps"], r["p50"], r["p99"],
            "%.2f" % x_dbd if x_dbd else "-", r["acked"], r["lost"],
            r["non2xx"] + r["socket_errors"], r["log_errors"]))
    lines += ["", "req/s: both hosts together; p50/p99: the slower host's. "
              "%s; each write sets a key of its own. acked: writes answered "
              "200 by either host; lost: acked keys missing from the "
              "sessions afterwards (read through the second host)."
              % WORKLOAD_TEXT["mix"]]
    save_report("farm", lines)


# --------------------------------------------------------------------------
# profile: where the time of a workload goes

PROFILE_STATUS = """
<Location /session-orm-status>
    SetHandler session-orm-status
</Location>
"""
PERF_HZ = 499


# what `bench/run profile` measures without --dbs/--workloads: the gaps of
# issue 12 (database, workload, the providers compared)
PROFILE_GAPS = [("sqlite", "read", ("cookie", "dbd", "orm")),
                ("sqlite", "mix", ("cookie", "dbd", "orm")),
                ("pgsql", "read", ("dbd", "orm")),
                ("pgsql", "new", ("dbd", "orm")),
                ("mysql", "mix", ("dbd", "orm"))]


def profile(args):
    """Per database, workload and provider (default: PROFILE_GAPS): CPU
    time per request in httpd's children, the database server, wrk and the
    rest of the machine (perf record -a -g), where httpd's time goes (by
    library, hottest symbols), the statements per request as the database
    counts them (pg_stat_statements; MariaDB's Com_/Handler_ status
    counters), the module's own counters (merges, conflicts) and httpd's
    system calls per request (strace -c on the children, in a run of its
    own: strace slows them)."""
    if args.explicit:
        plan = [(kind, workload, args.providers) for kind in args.dbs
                for workload in args.workloads]
    else:
        plan = PROFILE_GAPS
    bench = Bench(args.tmp, sorted(set(kind for kind, _, _ in plan),
                                   key=["sqlite", "pgsql", "mysql"].index))
    lines = []
    try:
        if "pgsql" in bench.servers:
            enable_pg_stat_statements(bench.servers["pgsql"])
        for kind, workload, providers in plan:
            for provider in providers:
                lines += profile_one(bench, args, provider, kind, workload)
    finally:
        bench.close()
    save_report("profile", [run_header(args, "profile", median=False)] +
                lines)


def enable_pg_stat_statements(server):
    server.psql("ALTER SYSTEM SET shared_preload_libraries = "
                "'pg_stat_statements'")
    server.restart()


def profile_one(bench, args, provider, kind, workload):
    db = None if provider == "cookie" else bench.servers[kind].new_database()
    extra = PROFILE_STATUS if provider in ORM_PROVIDERS else ""
    h = bench.httpd(provider, db, workload, mpm=args.mpm, extra=extra)
    cookies, opts = workload_load(h, provider, workload)
    if kind == "pgsql" and db is not None:
        db.server.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                       db=db.name)
    jar = dict(cookies)
    run_keeping_cookies(h.port, 2, jar, opts)           # warm-up
    title = "%s %s %s" % (workload, provider,
                          "-" if db is None else kind)
    log("profiling %s ..." % title)
    db_before = db_counters(db)
    orm_before = orm_counters(h) if provider in ORM_PROVIDERS else {}
    perf_data = os.path.join(args.tmp, "perf.data")
    perf = subprocess.Popen(["perf", "record", "-a", "-g", "-F",
                             str(PERF_HZ), "-o", perf_data, "--", "sleep",
                             str(args.duration)],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    res = run_keeping_cookies(h.port, args.duration, jar, opts)
    perf.wait()
    n = max(res["requests"], 1)
    out = ["", "== %s: %.0f req/s (under perf), p99 %.2f ms" % (
        title, res["rps"], res["p99"] or -1)]
    pids = profiled_pids(h, db)
    out += cpu_per_request(perf_data, n, pids)
    out += hot_symbols(perf_data, pids["httpd"])
    out += statements_per_request(db, db_before, n)
    if provider in ORM_PROVIDERS:
        after = orm_counters(h)
        out.append("  module counters per request: " + ", ".join(
            "%s %.3f" % (k, (after[k] - orm_before.get(k, 0)) / n)
            for k in sorted(after) if after[k] != orm_before.get(k, 0))
            or "  module counters: none changed")
    out += syscalls_per_request(h, args, jar, opts)
    h.stop()
    log("\n".join(out))
    return out


def descendants(pid):
    """pid and every process below it (as strings)."""
    children = {}
    for p in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % p) as f:
                ppid = f.read().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        children.setdefault(ppid, []).append(p)
    found, todo = [], [str(pid)]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found


def threads_of(pid):
    """The thread ids of process pid (perf's pid sort shows threads)."""
    try:
        return os.listdir("/proc/%s/task" % pid)
    except OSError:
        return [pid]


def profiled_pids(h, db):
    """{what: [pid]}: httpd's children and the database server's processes
    of this run (others on the machine may run httpd and databases too)."""
    pids = {"httpd": sorted(children_memory_kb(h))}
    server = getattr(db, "server", None)
    proc = getattr(server, "proc", None)
    if proc is not None:
        pids[db.kind] = descendants(proc.pid)
    return pids


def cpu_per_request(perf_data, requests, pids):
    """CPU microseconds per request in httpd's children, the database
    server and wrk (samples / Hz)."""
    rep = subprocess.run(["perf", "report", "-i", perf_data, "--stdio",
                          "--no-children", "--sort", "pid", "-g", "none",
                          "-F", "sample,pid"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL,
                         universal_newlines=True).stdout
    owner = {t: what for what, ps in pids.items() for p in ps
             for t in threads_of(p)}
    samples = {}
    for m in re.finditer(r"^\s+(\d+)\s+(\d+):(\S*)", rep, re.M):
        if m.group(2) == "0":
            continue                    # idle
        what = owner.get(m.group(2),
                         "wrk" if m.group(3) == "wrk" else "other")
        samples[what] = samples.get(what, 0) + int(m.group(1))
    return ["  CPU us per request: " + ", ".join(
        "%s %.0f" % (what, samples[what] * 1e6 / PERF_HZ / requests)
        for what in list(pids) + ["wrk", "other"] if what in samples) +
        " (other: the rest of the machine, idle excluded)"]


def hot_symbols(perf_data, pids, limit=16):
    """Where httpd's CPU time goes: by library, its hottest symbols, and
    the module's own (self time, % of httpd's samples)."""
    out = []
    for sort, what, lim, dsos in (
            ("dso", "by library", 8, []),
            ("dso,sym", "hottest symbols", limit, []),
            ("sym", "module's symbols", 8, ["--dsos", "mod_session_orm.so"])):
        rep = subprocess.run(["perf", "report", "-i", perf_data, "--stdio",
                              "--no-children", "--pid", ",".join(pids),
                              "--percentage", "relative", "--sort", sort,
                              "-g", "none", "--percent-limit", "0.5"]
                             + dsos,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL,
                             universal_newlines=True).stdout
        rows = [re.sub(r"\s+", " ", l.strip()) for l in rep.split("\n")
                if re.match(r"^\s+[\d.]+%", l)]
        out.append("  httpd %s (self, %% of httpd): %s" % (
            what, "; ".join(rows[:lim])))
    return out


def db_counters(db):
    if db is None:
        return {}
    if db.kind == "pgsql":
        db.server.psql("SELECT pg_stat_statements_reset()", db=db.name)
        return {}
    if db.kind == "mysql":
        return mysql_status(db)
    return {}


MYSQL_COUNTERS = r"^(Com_|Handler_|Innodb_row_lock|Innodb_deadlocks|" \
    r"Questions$|Innodb_data_fsyncs|Innodb_os_log_fsyncs)"


def mysql_status(db):
    return {k: int(v) for k, v in db.server.query("SHOW GLOBAL STATUS")
            if re.match(MYSQL_COUNTERS, k) and v.isdigit()}


def statements_per_request(db, before, requests):
    if db is None:
        return []
    if db.kind == "pgsql":
        rows = db.server.psql(
            "SELECT calls, round(total_exec_time::numeric, 1), "
            "regexp_replace(query, '\\s+', ' ', 'g') FROM "
            "pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
            "WHERE d.datname = current_database() AND query NOT LIKE "
            "'%%pg_stat_statements%%' ORDER BY calls DESC LIMIT 12",
            db=db.name)
        out = ["  statements per request (pg_stat_statements: calls/req, "
               "server ms/req, text):"]
        total = 0.0
        for calls, ms, text in rows:
            total += int(calls) / requests
            out.append("    %.3f %.4f %s" % (int(calls) / requests,
                                              float(ms) / requests,
                                              text[:110]))
        out.insert(1, "    %.3f in all" % total)
        return out
    if db.kind == "mysql":
        after = mysql_status(db)
        diff = ["%s %.3f" % (k, (after[k] - before.get(k, 0)) / requests)
                for k in sorted(after)
                if after[k] - before.get(k, 0) >= requests / 100]
        return ["  MariaDB status counters per request (>= 0.01): " +
                ", ".join(diff)]
    return []


def orm_counters(h):
    r = h.get("/session-orm-status?format=json")
    counters = {}
    for store in json.loads(r.body).get("stores", []):
        for k, v in store.get("counters", {}).items():
            if isinstance(v, (int, float)):
                counters[k] = counters.get(k, 0) + v
    return counters


def syscalls_per_request(h, args, jar, opts, top=12):
    """strace -c -f on httpd's children during a run of its own."""
    pids = sorted(children_memory_kb(h))
    out_file = os.path.join(args.tmp, "strace.txt")
    cmd = ["strace", "-c", "-f", "-o", out_file]
    for pid in pids:
        cmd += ["-p", pid]
    strace = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    time.sleep(1)
    res = run_keeping_cookies(h.port, args.duration, jar, opts)
    strace.send_signal(2)
    strace.wait()
    n = max(res["requests"], 1)
    calls = []
    for line in open(out_file):
        f = line.split()
        if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
            # % time, seconds, usecs/call, calls, [errors], syscall
            calls.append((int(f[3]), f[-1]))
    calls.sort(reverse=True)
    total = sum(c for c, _ in calls)
    return ["  httpd system calls per request (strace -c, %d requests): "
            "%.1f in all; " % (n, total / n) + ", ".join(
                "%s %.2f" % (name, c / n) for c, name in calls[:top])]


# --------------------------------------------------------------------------
# sweep: purge rate and latency while sweeping

def sweep(args):
    bench = Bench(args.tmp, args.dbs)
    tool = os.path.join(builddir(), "session-orm")
    lines = ["expiry sweep: 1,000,000 expired + 100,000 live rows", ""]
    try:
        for kind in args.dbs:
            db = bench.servers[kind].new_database()
            h = bench.httpd("orm", db, "read",
                            extra="SessionORMSweepInterval 0")
            cookies = make_sessions(h, CONNECTIONS)
            fill_expired(db, 1000000, 100000)
            conn = db.dbd_conf()
            driver = re.search(r"DBDriver (\S+)", conn).group(1)
            params = re.search(r'DBDParams "?([^"\n]*)"?', conn).group(1)
            t0 = time.time()
            res = subprocess.run([tool, "--driver", driver, "--params",
                                  params, "purge", "--pause", "0"],
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT,
                                 universal_newlines=True)
            elapsed = time.time() - t0
            m = re.search(r"removed (\d+)", res.stdout)
            removed = int(m.group(1)) if m else 0
            lines.append("%-7s purge: %d rows in %.1f s = %.0f rows/s "
                         "(exit %d)" % (kind, removed, elapsed,
                                        removed / elapsed, res.returncode))
            log(lines[-1])
            # latency without a sweep
            base = run_wrk(h.port, args.duration, READ_PATH,
                           cookies)
            h.stop()
            # latency while the module's sweep removes 1M expired rows
            fill_expired(db, 1000000, 0, tag="b")
            h = bench.httpd("orm", db, "read",
                            extra="SessionORMSweepInterval 1\n"
                                  "LogLevel info")
            cookies2 = make_sessions(h, CONNECTIONS)
            time.sleep(1.5)     # let the sweep start
            during = run_wrk(h.port, args.duration, READ_PATH,
                             cookies2)
            left = db.count("session", "expires_at <= 500")
            lines.append("%-7s read latency p50/p99: no sweep %.2f/%.2f ms "
                         "(%.0f req/s); sweeping %.2f/%.2f ms (%.0f req/s); "
                         "expired rows left after %d s: %d" % (
                             kind, base["p50"] or -1, base["p99"] or -1,
                             base["rps"], during["p50"] or -1,
                             during["p99"] or -1, during["rps"],
                             args.duration, left))
            log(lines[-1])
            h.stop()
    finally:
        bench.close()
    save_report("sweep", lines)


def fill_expired(db, expired, live, tag="a"):
    """expired rows (expired long ago) and live ones, in the orm table."""
    cols = "id, data, expires_at, user_name, created_at, updated_at"
    for count, prefix, expires in ((expired, "e" + tag, 500),
                                   (live, "l" + tag, FAR_MS)):
        if count:
            insert_series(db, count, cols,
                          lambda x, cat: "%s, 'k=v', %d, NULL, 1, 1"
                          % (cat("'%s'" % prefix, x), expires))


# --------------------------------------------------------------------------
# outage: 1M requests over 200 sessions, database restarted twice

def outage(args):
    bench = Bench(args.tmp, [k for k in args.dbs if k != "sqlite"])
    lines = ["load with database restarts: %d requests over 200 sessions"
             % args.requests, ""]
    try:
        for kind, server in bench.servers.items():
            db = server.new_database()
            h = bench.httpd("orm", db, "write",
                            extra="SessionORMRetryAfter 1")
            h.expect_log(r"ORM011[234]", r"AH0\d+", r"mod_dbd",
                         r"dbd", r"Can't connect")
            cookies = make_sessions(h, 200)
            # sized by the rate of the workload itself (writes), plus a
            # margin for the restarts
            probe_rps = run_wrk(h.port, 3, WRITE_PATH,
                                cookies, vary=True)["rps"] or 1000
            probe_rps *= 0.8
            duration = max(10, int(args.requests / probe_rps) + 1)
            stats = {}

            def load():
                # the planned run, then top-ups until the total is reached
                # (the restarts slow it by an amount not known in advance)
                seconds = duration
                while True:
                    r = run_wrk(h.port, seconds,
                                WRITE_PATH, cookies,
                                vary=True)
                    for key in ("requests", "non2xx", "socket_errors"):
                        stats[key] = stats.get(key, 0) + r[key]
                    stats["seconds"] = stats.get("seconds", 0) + seconds
                    left = args.requests - stats["requests"]
                    if left <= 0 or r["requests"] == 0:
                        break
                    seconds = max(2, int(left / max(r["rps"], 1)) + 2)
            mark = h.log_mark()
            t = threading.Thread(target=load)
            t.start()
            for frac in (0.3, 0.65):
                time.sleep(duration * 0.3 if frac == 0.3 else
                           duration * 0.35 - 3)
                log("  %s: restarting the database ..." % kind)
                restart_server(server)
            t.join()
            lost = 0
            for n, c in cookies:
                r = h.get(READ_PATH + str(n), headers={"Cookie": c})
                if r.status != 200 or r.value("k%d" % n) in (None,
                                                            "(null)"):
                    lost += 1
            text = "\n".join(h.log_since(mark))
            ids = {}
            for m in re.finditer(r"(ORM\d{4}|AH\d{5})", text):
                ids[m.group(1)] = ids.get(m.group(1), 0) + 1
            lines.append(
                "%-6s %d requests in %d s (%.0f req/s); non-2xx %d, socket "
                "errors %d; sessions lost %d of 200; log lines by id: %s" % (
                    kind, stats.get("requests", 0), stats["seconds"],
                    stats["requests"] / max(stats["seconds"], 1),
                    stats.get("non2xx", 0),
                    stats.get("socket_errors", 0), lost,
                    ", ".join("%s x%d" % kv for kv in sorted(ids.items()))
                    or "none"))
            log(lines[-1])
            h.stop()
    finally:
        bench.close()
    save_report("outage", lines)


def restart_server(server):
    if hasattr(server, "restart"):
        server.restart()
        return
    server.stop()
    server._start()


# --------------------------------------------------------------------------
# memory: RSS of the children from 100k to 1M requests

def children_memory_kb(h):
    """{pid: {"rss", "private", "shared": kB}} of httpd's children, from
    /proc/PID/smaps_rollup: private is what the child alone holds (its
    pools, malloc's arenas, the drivers' buffers), shared what it maps with
    others (httpd's code and data from before the fork, the module's
    shared memory: its resident size counts the pages it touched)."""
    mem = {}
    ppid = str(h._read_pid())
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            status = open("/proc/%s/status" % pid).read()
            if not re.search(r"^PPid:\s+%s$" % ppid, status, re.M):
                continue
            rollup = open("/proc/%s/smaps_rollup" % pid).read()
        except OSError:
            continue
        kb = {k: int(v) for k, v in
              re.findall(r"^(\w+):\s+(\d+) kB", rollup, re.M)}
        mem[pid] = dict(rss=kb.get("Rss", 0),
                        private=kb.get("Private_Clean", 0)
                        + kb.get("Private_Dirty", 0),
                        shared=kb.get("Shared_Clean", 0)
                        + kb.get("Shared_Dirty", 0))
    return mem


MEMORY_POINTS = (100000, 250000, 500000, 750000, 1000000)


def memory(args):
    bench = Bench(args.tmp, args.dbs)
    lines = ["resident size of httpd children (%s), burst workload "
             "(every request writes), keep-alive on, every connection of "
             "mod_dbd's pools open from the start (%s)%s" % (
                 MPM_TEXT[args.mpm], MEMORY_DBD_POOL.replace("\n", ", "),
                 ", MALLOC_ARENA_MAX=%s" % os.environ["MALLOC_ARENA_MAX"]
                 if os.environ.get("MALLOC_ARENA_MAX") else ""),
             "", "private: what the children alone hold; shared: what they "
             "map with others (httpd's own pages, the module's shared "
             "memory as far as touched). Compared: the children alive "
             "since the first point.", ""]
    # dbd: mod_session_dbd under the same load, the anchor the module's
    # growth compares with
    providers = [p for p in DB_PROVIDERS if p in args.providers] or ["orm"]
    try:
        for kind in args.dbs:
            for provider in providers:
                memory_run(bench, args, kind, provider, lines)
    finally:
        bench.close()
    save_report("memory", lines)


def db_connections(db):
    """", N database connections" open to db (each holds its driver's
    buffers in some child), where the server can tell."""
    try:
        if db.kind == "pgsql":
            rows = db.server.psql("SELECT count(*) FROM pg_stat_activity "
                                  "WHERE datname = '%s'" % db.name)
        elif db.kind == "mysql":
            rows = db.server.query("SELECT count(*) FROM "
                                   "information_schema.processlist WHERE "
                                   "db = '%s'" % db.name)
        else:
            return ""
        return ", %s database connections" % rows[0][0]
    except (RuntimeError, IndexError):
        return ""


# the memory run opens every connection of mod_dbd's pools at the start:
# a pool that grows while the run goes on (to DBDMax per child, each
# connection with its driver's buffers) would pass for a leak
MEMORY_DBD_POOL = "DBDMin 10\nDBDKeep 10\nDBDMax 10"


def memory_run(bench, args, kind, provider, lines):
    db = bench.servers[kind].new_database()
    h = bench.httpd(provider, db, "burst", mpm=args.mpm,
                    extra=MEMORY_DBD_POOL)
    cookies = make_sessions(h, CONNECTIONS)
    done = 0
    first = None
    for target in MEMORY_POINTS:
        while done < target:
            rate = run_wrk(h.port, 2, WRITE_PATH, cookies, vary=True)
            done += rate["requests"]
            step = max(2, int((target - done) / max(rate["rps"], 1)))
            if done < target:
                r = run_wrk(h.port, min(step, 60), WRITE_PATH, cookies,
                            vary=True)
                done += r["requests"]
        mem = children_memory_kb(h)
        first = first or mem
        # the MPM starts and stops children as it sees fit: what compares
        # is the children alive since the first point
        kept = [pid for pid in mem if pid in first]

        def total(which, at):
            return sum(at[pid][which] for pid in kept)
        private, first_private = total("private", mem), \
            total("private", first) or 1
        lines.append(
            "%-6s %-8s after %7d requests: %d of the first %d children, "
            "private %d kB (%+.1f%%), shared %d kB (%+d kB), rss %d kB%s" % (
                kind, provider, done, len(kept), len(first), private,
                (private - first_private) * 100.0 / first_private,
                total("shared", mem),
                total("shared", mem) - total("shared", first),
                total("rss", mem), db_connections(db)))
        log(lines[-1])
    h.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("what", choices=["compare", "farm", "profile", "sweep",
                                    "outage", "memory", "odbc", "all"])
    p.add_argument("--providers", default="cookie,dbd,orm",
                   help="compare, profile, memory: the providers (default "
                   "cookie,dbd,orm; ormcache: orm with SessionORMCache)")
    p.add_argument("--dbs")
    p.add_argument("--workloads")
    p.add_argument("--mpm", choices=sorted(MPM_BENCH), default="event",
                   help="compare, odbc, farm: httpd's MPM (default event)")
    p.add_argument("--duration", type=int, default=8,
                   help="seconds per measured run (default 8)")
    p.add_argument("--repeat", type=int, default=3,
                   help="compare: rounds, each provider once per round; the "
                   "median kept (3)")
    p.add_argument("--baseline", metavar="REV|PATH.so",
                   help="compare: run provider base, mod_session_orm built "
                   "from this git revision (or this built module), beside "
                   "this tree's in the same rounds, and report orm over "
                   "base")
    p.add_argument("--requests", type=int, default=1000000,
                   help="outage: total requests (default 1000000)")
    args = p.parse_args()
    # profile: the gaps unless told what to measure
    args.explicit = bool(args.dbs or args.workloads)
    args.dbs = [d for d in (args.dbs or "sqlite,pgsql,mysql").split(",")
                if d]
    args.workloads = [WORKLOAD_ALIASES.get(w, w)
                      for w in (args.workloads or ",".join(WORKLOADS))
                      .split(",") if w]
    for w in args.workloads:
        if w not in WORKLOADS:
            p.error("unknown workload %s (%s)" % (w, ", ".join(WORKLOADS)))
    args.providers = [p for p in args.providers.split(",") if p]
    global REPEAT
    REPEAT = max(1, args.repeat)
    if ("base" in args.providers) != bool(args.baseline):
        p.error("provider base and --baseline go together")
    args.tmp = tempfile.mkdtemp(prefix="orm-bench-")
    os.chmod(args.tmp, 0o755)
    try:
        if args.baseline:
            STD_MODULES["orm_base"] = ("session_orm_module",
                                       build_baseline(args.baseline,
                                                      args.tmp))
        for what in (["compare", "farm", "sweep", "outage", "memory"]
                     if args.what == "all" else [args.what]):
            {"compare": compare, "farm": farm, "profile": profile,
             "sweep": sweep,
             "outage": outage, "memory": memory, "odbc": odbc}[what](args)
    finally:
        shutil.rmtree(args.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
