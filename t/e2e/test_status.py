"""Status and metrics: `SetHandler session-orm-status` (HTML, ?format=json,
?format=prometheus) and the section in mod_status's /server-status, scraped
from a real httpd after real traffic and checked against what the test did.

README, "Status and metrics": the counters are kept in shared memory and
summed across child processes (prefork shows it: its requests land in
several processes); loads and saves count what went to the store, failed
ones included; a lost race counts a conflict and a merge; the sweep records
what it deleted and counts the rows left, once per sweep; the database's
state says since when it fails and the last error's message ID. Access is
ordinary Require: the test uses the reference config's `Require local`,
and a Require the test's client does not meet gets 403 in every format.
"""

import json
import math
import os
import re
import socket
import subprocess
import sys
import time

import pytest

from harness.common import merge_path, now_ms, run_parallel, wait_for
from harness.conf import COOKIE, dbd_indented, orm_conf
from harness.databases import selected_on
from harness.logs import DBD_CONNECT_FAILURES
from test_failures import (count_lines, db_servers,  # noqa: F401 (fixture)
                           wait_recovery_logged)
from test_vhosts import VHOSTS_CONF

# as conf/session_orm.conf.reference shows it
STATUS_CONF = """
<Location /session-orm-status>
    SetHandler session-orm-status
    Require local
</Location>
<Location /server-status>
    SetHandler server-status
    Require local
</Location>
"""
STATUS_MODULES = ["authz_host", "status"]

COUNTERS = ("loads", "saves", "new_sessions", "rotations", "conflicts",
            "timeouts", "sweep_failures", "cache_hits", "cache_misses")
FAILURE_KINDS = ("outage", "data", "too_big", "skipped")


# --------------------------------------------------------------------------
# a strict reader of the Prometheus text exposition format 0.0.4

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
SAMPLE = re.compile(r"([^{ ]+)(?:\{(.*)\})? (\S+)(?: (-?\d+))?\Z")
FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\Z")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class Family:
    def __init__(self, name):
        self.name = name
        self.help = None
        self.type = None
        self.samples = []           # (name, labels, value)


def parse_value(text):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text)
    assert FLOAT.match(text), "not a float: %r" % text
    return float(text)


def parse_labels(text):
    """'a="x",b="y"' (a trailing comma allowed) as a dict, unescaped."""
    labels, pos = {}, 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        assert m, "bad label syntax at %r" % text[pos:]
        assert m.group(1) not in labels, "label %s twice" % m.group(1)
        labels[m.group(1)] = re.sub(
            r"\\(.)", lambda e: "\n" if e.group(1) == "n" else e.group(1),
            m.group(2))
        pos = m.end()
        if pos < len(text):
            assert text[pos] == ",", "no comma at %r" % text[pos:]
            pos += 1
    return labels


def meta_line(families, line, current):
    """A HELP or TYPE line: the family it opens or continues."""
    parts = line.split(" ", 3)
    assert len(parts) >= 3 and METRIC_NAME.match(parts[2]), line
    fam = families.get(parts[2])
    if fam is None:
        fam = families[parts[2]] = Family(parts[2])
    assert fam is current or not fam.samples, \
        "%s: HELP/TYPE apart from its samples" % fam.name
    if parts[1] == "HELP":
        assert fam.help is None, "two HELP lines for " + fam.name
        fam.help = parts[3] if len(parts) > 3 else ""
        assert not re.search(r"\\[^\\n]", fam.help), line
    else:
        assert fam.type is None, "two TYPE lines for " + fam.name
        assert not fam.samples, "TYPE after the samples of " + fam.name
        assert len(parts) == 4 and parts[3] in TYPES, line
        fam.type = parts[3]
    return fam


def family_of(families, name):
    if name in families:
        return families[name]
    base = re.sub(r"_(bucket|sum|count)\Z", "", name)
    assert base in families and families[base].type == "histogram", \
        "sample %s of no family" % name
    return families[base]


def check_histogram(fam):
    """Per series: le ascending to +Inf, cumulative counts that never
    decrease, +Inf == _count, a _sum."""
    series = {}
    for name, labels, value in fam.samples:
        rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        s = series.setdefault(rest, {"buckets": [], "sum": None,
                                     "count": None})
        if name == fam.name + "_bucket":
            s["buckets"].append((parse_value(labels["le"]), value))
        else:
            assert name in (fam.name + "_sum", fam.name + "_count"), name
            s[name[len(fam.name) + 1:]] = value
    for rest, s in series.items():
        les = [le for le, _ in s["buckets"]]
        counts = [c for _, c in s["buckets"]]
        assert les == sorted(les) and les[-1] == math.inf, (fam.name, les)
        assert counts == sorted(counts), (fam.name, rest, counts)
        assert counts[-1] == s["count"] and s["sum"] is not None, \
            (fam.name, rest, s)


def check_families(families):
    for fam in families.values():
        assert fam.type and fam.help is not None, fam.name
        keys = [(n, tuple(sorted(l.items()))) for n, l, _ in fam.samples]
        assert len(keys) == len(set(keys)), "a sample twice in " + fam.name
        if fam.type == "counter":
            assert fam.name.endswith("_total"), fam.name
            assert all(v >= 0 for _, _, v in fam.samples), fam.name
        elif fam.type == "histogram":
            check_histogram(fam)


def parse_prometheus(text):
    """The families of text by name; fails on anything the format does not
    allow, or that our use of it promises (HELP and TYPE once per family,
    before its samples; each family's samples together)."""
    assert text.endswith("\n"), "no line feed at the end"
    families, current = {}, None
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            current = meta_line(families, line, current)
        elif line.startswith("#") or not line.strip():
            continue
        else:
            m = SAMPLE.match(line)
            assert m and METRIC_NAME.match(m.group(1)), "bad sample: " + line
            fam = family_of(families, m.group(1))
            assert fam is current, "%s away from its family" % m.group(1)
            fam.samples.append((m.group(1), parse_labels(m.group(2) or ""),
                                parse_value(m.group(3))))
    check_families(families)
    return families


def sample(families, family, name=None, **labels):
    """The value of the one sample of family named name (default: the
    family's) whose labels include labels."""
    found = [v for n, l, v in families[family].samples
             if n == (name or family)
             and all(l.get(k) == str(x) for k, x in labels.items())]
    assert len(found) == 1, (family, name, labels, found)
    return found[0]


def counter_samples(families):
    """{(name, labels): value} of every counter and histogram sample."""
    return {(n, tuple(sorted(l.items()))): v
            for fam in families.values() if fam.type in ("counter",
                                                         "histogram")
            for n, l, v in fam.samples}


def test_parser_refuses_what_the_format_does_not_allow():
    good = ("# HELP x_total a\n# TYPE x_total counter\n"
            'x_total{a="1",b="q\\"\\\\\\n"} 3\n')
    assert parse_prometheus(good)["x_total"].samples[0][1]["b"] == 'q"\\\n'
    for bad in ("x_total 3\n",                          # no family
                good + "# TYPE x_total counter\n",     # TYPE twice
                good + 'x_total{b="q\\"\\\\\\n",a="1"} 4\n',  # twice
                good.replace("} 3", "} three"),
                good.replace('a="1"', "a=1"),
                good.replace('a="1"', '1a="1"'),
                good.replace("counter", "count"),
                good[:-1],
                "# HELP x_bucket h\n# TYPE x histogram\n"):
        with pytest.raises(AssertionError):
            parse_prometheus(bad)
    hist = ("# HELP h h\n# TYPE h histogram\n"
            'h_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')
    with pytest.raises(AssertionError):
        parse_prometheus(hist)                  # decreasing buckets


# --------------------------------------------------------------------------
# scraping

def get(srv, path):
    r = srv.client().get(path)      # no cookie: the scrape loads nothing
    assert r.status == 200, r
    return r


def scrape_prometheus(srv):
    r = get(srv, "/session-orm-status?format=prometheus")
    assert r.header("Content-Type").startswith("text/plain; version=0.0.4"), \
        r.headers
    return parse_prometheus(r.body)


def scrape_json(srv):
    r = get(srv, "/session-orm-status?format=json")
    assert r.header("Content-Type").startswith("application/json")
    tool = subprocess.run([sys.executable, "-m", "json.tool"],
                          input=r.body, universal_newlines=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert tool.returncode == 0, tool.stderr
    stores = json.loads(r.body)["stores"]
    assert len(stores) == 1, stores
    assert stores[0]["table"] == "session"
    return stores[0]


def merge_label():
    """How this build merges a lost race (see test_concurrency)."""
    return "true" if merge_path() == "under a row lock" else "false"


# --------------------------------------------------------------------------
# traffic

N_NEW, M_LOADS, K_SAVES = 5, 7, 4


def make_traffic(srv):
    """N_NEW new sessions, M_LOADS loads, K_SAVES saves, one conflict;
    returns the clients."""
    clients = []
    for i in range(N_NEW):
        c = srv.client()
        r = c.get("/probe?op=set&key=n&value=%d" % i)
        assert r.status == 200 and c.token, r
        clients.append(c)
    for i in range(M_LOADS):
        r = clients[i % N_NEW].get("/probe?op=get&key=n")
        assert r.value("n") == str(i % N_NEW), r
        assert r.set_cookies == [], r          # a load only
    for i in range(K_SAVES):
        r = clients[i % N_NEW].get("/probe?op=set&key=k&value=%d" % i)
        assert r.status == 200 and len(r.set_cookies) == 1, r
    # two requests load the same session, then both save: one loses
    c = clients[0]
    ra, rb = run_parallel(
        lambda: c.get("/probe?op=set&key=a&value=A&sleep=700",
                      update_jar=False),
        lambda: c.get("/probe?op=set&key=b&value=B&sleep=700",
                      update_jar=False))
    assert ra.status == 200 and rb.status == 200
    got = c.get("/probe?op=get&key=a&key=b", update_jar=False)
    assert got.value("a") == "A" and got.value("b") == "B", got
    return clients


# what make_traffic did (the conflict: 2 loads, 2 saves; the check after:
# one load)
LOADS = M_LOADS + K_SAVES + 2 + 1
SAVES = N_NEW + K_SAVES + 2


def check_json_counts(store):
    counters = store["counters"]
    expected = dict.fromkeys(COUNTERS, 0)
    expected.update(loads=LOADS, saves=SAVES, new_sessions=N_NEW,
                    conflicts=1)
    assert {k: counters[k] for k in COUNTERS} == expected, counters
    merged = "merges_locked" if merge_label() == "true" else "merges_unlocked"
    assert counters[merged] == 1 and counters["merges_locked"] \
        + counters["merges_unlocked"] == 1, counters
    assert all(counters["failures_" + k] == 0 for k in FAILURE_KINDS), \
        counters
    assert store["latency"]["load"]["count"] == LOADS
    assert store["latency"]["save"]["count"] == SAVES
    # the conflict's requests slept 0.7 s between load and save, not in
    # the store: every load and save was quick
    assert store["latency"]["save"]["buckets"]["+Inf"] == SAVES
    assert 0 < store["latency"]["load"]["sum_seconds"] < LOADS * 5
    assert store["database"] == {"state": "ok", "failing_since": None,
                                 "last_error": None}, store["database"]


def check_prometheus_counts(families):
    labels = {"table": "session"}
    assert sample(families, "session_orm_loads_total", **labels) == LOADS
    assert sample(families, "session_orm_saves_total", **labels) == SAVES
    assert sample(families, "session_orm_new_sessions_total",
                  **labels) == N_NEW
    assert sample(families, "session_orm_conflicts_total", **labels) == 1
    assert sample(families, "session_orm_merges_total",
                  locked=merge_label(), **labels) == 1
    for kind in FAILURE_KINDS:
        assert sample(families, "session_orm_failures_total", kind=kind,
                      **labels) == 0
    assert sample(families, "session_orm_load_duration_seconds",
                  "session_orm_load_duration_seconds_count",
                  **labels) == LOADS
    assert sample(families, "session_orm_save_duration_seconds",
                  "session_orm_save_duration_seconds_bucket", le="+Inf",
                  **labels) == SAVES
    assert sample(families, "session_orm_database_up", **labels) == 1
    assert families["session_orm_database_failing_since_seconds"].samples \
        == []


def wait_sweep(srv, db, after_ms):
    """Three expired rows, inserted now, deleted by the next sweep; the
    JSON of the store once that sweep has counted the rows left."""
    db.sql("INSERT INTO session (id, data, expires_at, user_name, "
           "created_at, updated_at) VALUES ('old-1', 'x=1', 1000, NULL, 1, "
           "1), ('old-2', 'x=1', 1000, NULL, 1, 1), ('old-3', 'x=1', 1000, "
           "NULL, 1, 1)")
    state = {}

    def swept():
        state["store"] = scrape_json(srv)
        sessions = state["store"]["sessions"]
        return (state["store"]["sweep"]["deleted_total"] == 3
                and sessions["counted_at"] is not None
                and sessions["counted_at"] * 1000 > after_ms)
    assert wait_for(swept, 10, 0.3), state
    return state["store"]


def check_sweep(store, t0_ms):
    sweep = store["sweep"]
    assert sweep["interval_seconds"] == 1
    assert sweep["last"]["host"] == socket.gethostname(), sweep
    assert t0_ms <= sweep["last"]["time"] * 1000 <= now_ms() + 1000, sweep
    assert 0 <= sweep["last"]["duration_seconds"] < 5
    assert sweep["failed_at"] is None
    # the rows left are the sessions: every one is live
    assert store["sessions"]["live"] == N_NEW, store["sessions"]
    assert store["sessions"]["expired"] == sweep["last"]["rows"]


def check_pages(srv, store):
    """The HTML page and mod_status's section show the same numbers."""
    counters = store["counters"]
    html = get(srv, "/session-orm-status").body
    assert html.startswith("<!DOCTYPE html>")
    for text, key in (("loads", "loads"), ("saves", "saves"),
                      ("new sessions", "new_sessions"),
                      ("conflicts (lost races)", "conflicts")):
        assert "<tr><th>%s</th><td>%d</td></tr>" % (text, counters[key]) \
            in html, (text, html)
    assert "<tr><th>database</th><td>ok</td></tr>" in html
    assert "<tr><th>sessions live</th><td>%d (counted" % N_NEW in html
    status = get(srv, "/server-status").body
    assert "<h1>mod_session_orm</h1>" in status
    assert "<tr><th>new sessions</th><td>%d</td></tr>" % N_NEW in status
    auto = get(srv, "/server-status?auto").body
    assert "SessionORMStores: 1\n" in auto, auto
    for line in ("SessionORM1Table: session", "SessionORM1Database: ok",
                 "SessionORM1Loads: %d" % counters["loads"],
                 "SessionORM1NewSessions: %d" % N_NEW,
                 "SessionORM1Conflicts: 1",
                 "SessionORM1SessionsLive: %d" % N_NEW):
        assert line + "\n" in auto, (line, auto)
    assert "<" not in auto.split("SessionORMStores:")[1]


def check_never_decrease(srv, clients, first):
    """More traffic, a second scrape: no counter went down, the ones the
    traffic moved went up by what it did."""
    for c in clients:
        assert c.get("/probe?op=set&key=more&value=1").status == 200
    second = scrape_prometheus(srv)
    before, after = counter_samples(first), counter_samples(second)
    assert set(before) <= set(after)
    down = [k for k in before if after[k] < before[k]]
    assert not down, down
    assert sample(second, "session_orm_loads_total") \
        == sample(first, "session_orm_loads_total") + len(clients)
    assert sample(second, "session_orm_saves_total") \
        == sample(first, "session_orm_saves_total") + len(clients)


@pytest.mark.mpms("event", "prefork")
def test_status_after_traffic(httpd, db, mpm):
    srv = httpd.start(orm_conf(db, server="SessionORMSweepInterval 1\n")
                      + STATUS_CONF, mpm=mpm, extra_modules=STATUS_MODULES)
    t0 = now_ms()
    fresh = scrape_prometheus(srv)
    assert sample(fresh, "session_orm_loads_total") == 0
    assert sample(fresh, "session_orm_database_up") == 1

    clients = make_traffic(srv)
    families = scrape_prometheus(srv)
    check_prometheus_counts(families)
    check_json_counts(scrape_json(srv))

    store = wait_sweep(srv, db, now_ms())
    check_sweep(store, t0)
    families = scrape_prometheus(srv)
    assert sample(families, "session_orm_sweep_deleted_total") == 3
    assert sample(families, "session_orm_sessions", state="live") == N_NEW
    assert sample(families, "session_orm_sweep_last_timestamp_seconds",
                  host=socket.gethostname()) * 1000 >= t0
    check_pages(srv, store)
    check_never_decrease(srv, clients, families)


def test_status_counts_cache_hits_and_misses(httpd, db, workdir):
    """With SessionORMCache, loads the cache answered are hits, those it
    sent to the database misses; both are loads."""
    srv = httpd.start(orm_conf(db, server="SessionORMCache %s\n"
                               "SessionORMCacheSeconds 3600\n"
                               % os.path.join(workdir, "orm.cache"))
                      + STATUS_CONF, extra_modules=STATUS_MODULES,
                      debug=True)
    c = srv.client()
    assert c.get("/probe?op=set&key=a&value=1").status == 200
    for _ in range(3):      # the write was kept: read from the cache
        assert c.get("/probe?op=get&key=a").value("a") == "1"
    # a token nobody has: looked up in the database, and nothing kept
    for _ in range(2):
        r = srv.client().get("/probe?op=get&key=a", headers={
            "Cookie": "%s=%s" % (COOKIE, "A" * 43)})
        assert r.status == 200 and r.value("a") is None, r
    counters = scrape_json(srv)["counters"]
    assert (counters["cache_hits"], counters["cache_misses"],
            counters["loads"]) == (3, 2, 5), counters
    families = scrape_prometheus(srv)
    assert sample(families, "session_orm_cache_total", result="hit") == 3
    assert sample(families, "session_orm_cache_total", result="miss") == 2
    auto = get(srv, "/server-status?auto").body
    assert "SessionORM1CacheHits: 3\n" in auto, auto
    # each hit said so at debug level
    assert len(count_lines(srv, r"ORM0403: session \w+ read from the "
                           r"cache")) == 3


# --------------------------------------------------------------------------
# one section per server and table

def test_status_per_server_and_table(httpd, db):
    """Two virtual hosts with a table each (sess_a, sess_b) on one
    database: two stores, each counting only its own requests, in JSON and
    Prometheus alike."""
    srv = httpd.start(VHOSTS_CONF + STATUS_CONF, dbd_a=dbd_indented(db),
                      dbd_b=dbd_indented(db), extra_modules=STATUS_MODULES)
    a = srv.client(host_header="a.test")
    b = srv.client(host_header="b.test")
    assert a.get("/probe?op=set&key=k&value=1").status == 200
    for value in ("1", "2"):
        assert b.get("/probe?op=set&key=k&value=" + value).status == 200

    r = get(srv, "/session-orm-status?format=json")
    stores = {s["table"]: s for s in json.loads(r.body)["stores"]}
    assert sorted(stores) == ["sess_a", "sess_b"], stores
    port = ":%d" % srv.port
    assert stores["sess_a"]["server"] == "a.test" + port, stores["sess_a"]
    assert stores["sess_b"]["server"] == "b.test" + port, stores["sess_b"]
    # a: one new session; b: one new, then a load and a save of it
    expected = {"sess_a": (0, 1, 1), "sess_b": (1, 2, 1)}
    for table, (loads, saves, new) in expected.items():
        counters = stores[table]["counters"]
        assert (counters["loads"], counters["saves"],
                counters["new_sessions"]) == (loads, saves, new), \
            (table, counters)
    families = scrape_prometheus(srv)
    for table, (loads, saves, _) in expected.items():
        server = table[-1] + ".test" + port
        assert sample(families, "session_orm_loads_total", server=server,
                      table=table) == loads
        assert sample(families, "session_orm_saves_total", server=server,
                      table=table) == saves


# ordinary Require decides who reads it: here nobody the test can be
DENIED_CONF = """
<Location /session-orm-status-elsewhere>
    SetHandler session-orm-status
    Require ip 192.0.2.1
</Location>
"""


def test_status_refuses(httpd, db):
    srv = httpd.new(orm_conf(db) + STATUS_CONF + DENIED_CONF,
                    extra_modules=STATUS_MODULES)
    srv.expect_log(r"AH01630: client denied by server configuration: "
                   r".*/session-orm-status-elsewhere")
    srv.start()
    for fmt in ("", "?format=json", "?format=prometheus"):
        r = srv.get("/session-orm-status-elsewhere" + fmt)
        assert r.status == 403 and "session_orm" not in r.body, r
    assert srv.get("/session-orm-status?format=xml").status == 400
    assert srv.get("/session-orm-status", method="POST").status == 405
    r = srv.get("/session-orm-status?format=json", method="HEAD")
    assert r.status == 200 and r.body == ""


# --------------------------------------------------------------------------
# the database's state: failing since when, with the last error's ID

@pytest.mark.parametrize("kind", selected_on("pgsql", "mysql"))
def test_status_database_failing(httpd, db_servers, kind):  # noqa: F811
    own = db_servers(kind)
    db = own.new_database("status")
    srv = httpd.new(orm_conf(db, server="SessionORMSweepInterval 0\n"
                                        "SessionORMRetryAfter 1\n")
                    + STATUS_CONF, extra_modules=STATUS_MODULES)
    srv.expect_log(r"ORM0112:", DBD_CONNECT_FAILURES)
    srv.start()
    c = srv.client()
    assert c.get("/probe?op=set&key=a&value=1").status == 200
    assert scrape_json(srv)["database"]["state"] == "ok"

    mark = srv.log_mark()
    t_down = time.time()
    own.stop_server()
    # longer than SessionORMRetryAfter: skipped requests, and tries
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        assert c.get("/probe?op=get&key=a", update_jar=False).status == 200
        time.sleep(0.1)
    check_failing(srv, t_down)

    own.start_server()
    assert wait_recovery_logged(srv, c, mark)
    store = scrape_json(srv)
    assert store["database"]["state"] == "ok", store["database"]
    assert store["database"]["failing_since"] is None
    assert store["database"]["last_error"]["id"] == "ORM0112"
    assert len(count_lines(srv, r"ORM0112:", mark)) == 1


def check_failing(srv, t_down):
    store = scrape_json(srv)
    database = store["database"]
    assert database["state"] == "failing", database
    assert t_down - 1 <= database["failing_since"] <= time.time(), database
    assert database["last_error"]["id"] == "ORM0112", database
    assert store["counters"]["failures_outage"] >= 1, store["counters"]
    assert store["counters"]["failures_skipped"] >= 1, store["counters"]
    families = scrape_prometheus(srv)
    assert sample(families, "session_orm_database_up") == 0
    assert sample(families, "session_orm_database_failing_since_seconds") \
        == int(database["failing_since"])
    assert sample(families, "session_orm_last_error_timestamp_seconds",
                  id="ORM0112") >= int(t_down)
    auto = get(srv, "/server-status?auto").body
    assert "SessionORM1Database: failing\n" in auto
    assert "SessionORM1LastError: ORM0112\n" in auto
    html = get(srv, "/session-orm-status").body
    assert "<tr><th>database</th><td>failing since " in html
