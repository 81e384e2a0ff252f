"""The database servers and a fresh database per test.

SqliteServer (a directory of SQLite files), PgServer (a private PostgreSQL
15) and MysqlServer (a private MariaDB) hand out databases with
new_database(); each Database writes its DBDriver/DBDParams lines
(dbd_conf()) and answers queries the way its own client does (sql(),
rows(), count(), tables(), columns(), indexes()). PgServer and MysqlServer
are DaemonServers: they can be stopped and started again on the same data,
port and socket. Every server lives in the run's temporary directory and
listens on a free loopback port.

A kind (KINDS) is a database behind (`backend`: sqlite, pgsql, mysql) and
the apr_dbd driver httpd reaches it with (`driver`: sqlite3, pgsql, mysql,
odbc). The odbc-* kinds use the server of their backend as it is (no second
server): OdbcServer wraps it, and each of its databases is the native one
with an ODBC data source of its own (harness.odbc) in its dbd_conf(); the
harness still reads and writes it with the native client."""

import os
import re
import signal
import sqlite3
import subprocess

from harness.common import (HTTPD_USER, IS_ROOT, HarnessError, chown_to,
                            free_port, make_dir, port_open, read_text,
                            sql_quote, user_for, wait_for)

PG_BINDIR = os.environ.get("ORM_PG_BINDIR", "/usr/lib/postgresql/15/bin")
# Debian's /usr/bin/psql is a Perl wrapper that costs ~0.3 s a call and the
# tests poll the database a lot: the real binary when it is there
_REAL_PSQL = os.path.join(PG_BINDIR, "psql")
PSQL = os.environ.get("ORM_PSQL") or (
    _REAL_PSQL if os.path.exists(_REAL_PSQL) else "/usr/bin/psql")
MARIADBD = os.environ.get("ORM_MARIADBD", "/usr/sbin/mariadbd")
MARIADB_INSTALL_DB = os.environ.get("ORM_MARIADB_INSTALL_DB",
                                    "/usr/bin/mariadb-install-db")
MARIADB = os.environ.get("ORM_MARIADB", "/usr/bin/mariadb")

# kind -> (the database behind, the apr_dbd driver httpd uses)
KINDS = {
    "sqlite": ("sqlite", "sqlite3"),
    "pgsql": ("pgsql", "pgsql"),
    "mysql": ("mysql", "mysql"),
    "odbc-sqlite": ("sqlite", "odbc"),
    "odbc-pgsql": ("pgsql", "odbc"),
    "odbc-mariadb": ("mysql", "odbc"),
}
ALL_DBS = tuple(KINDS)


def backend_of(kind):
    """The database behind kind: sqlite, pgsql or mysql."""
    return KINDS[kind][0]


def driver_of(kind):
    """The apr_dbd driver of kind: sqlite3, pgsql, mysql or odbc."""
    return KINDS[kind][1]


class Database:
    """One database (a fresh one per test) on one server."""

    kind = None
    backend = None                  # the database behind (see KINDS)
    driver = None                   # the apr_dbd driver httpd uses
    server = None                   # the server that made it

    def dbd_conf(self):
        """DBDriver/DBDParams lines for httpd.conf."""
        return 'DBDriver %s\nDBDParams "%s"' % (self.driver,
                                                 self.dbd_params())

    def dbd_params(self, port=None):
        """DBDParams; with port: the same with the server at another port
        (where nothing answers)."""
        raise NotImplementedError

    def odbc_source(self):
        """({key: value} of its ODBC driver for odbc.ini, (user, password)
        or None): how an ODBC data source reaches this database."""
        raise NotImplementedError

    def another_database(self, name):
        """A fresh database of the same kind on the same server."""
        if self.server is None:
            raise HarnessError("%s: made without a server" % self.name)
        return self.server.new_database(name)

    def sql(self, query):
        """Run one statement; returns rows as tuples of str/None."""
        raise NotImplementedError

    def tables(self):
        raise NotImplementedError

    def columns(self, table):
        raise NotImplementedError

    def indexes(self, table):
        raise NotImplementedError

    def rows(self, table="session", columns="*", where=None):
        q = "SELECT %s FROM %s" % (columns, table)
        if where:
            q += " WHERE " + where
        return self.sql(q)

    def count(self, table="session", where=None):
        """Sessions in the table: the sweep's marker row (id '!sweep', see
        README "Expired sessions and the sweep") is none."""
        q = "SELECT COUNT(*) FROM %s" % table
        conds = [where] if where else []
        if table == "session":
            conds.append("id <> '!sweep'")
        if conds:
            q += " WHERE " + " AND ".join("(%s)" % c for c in conds)
        return int(self.sql(q)[0][0])

    def has_table(self, table):
        return table.lower() in [t.lower() for t in self.tables()]

    def create_session_table(self, table="session", cols=None):
        """Create the table with the spec's default layout (as the module
        would), for SessionORMCreateSchema Off tests."""
        c = dict(id="id", data="data", expires_at="expires_at",
                 user_name="user_name", created_at="created_at",
                 updated_at="updated_at")
        c.update(cols or {})
        self.sql("CREATE TABLE %s (%s VARCHAR(64) NOT NULL PRIMARY KEY, "
                 "%s TEXT, %s BIGINT NOT NULL, %s VARCHAR(255) NULL, "
                 "%s BIGINT NOT NULL, %s BIGINT NOT NULL)" % (
                     table, c["id"], c["data"], c["expires_at"],
                     c["user_name"], c["created_at"], c["updated_at"]))


def _norm(v):
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


class SqliteDatabase(Database):
    kind = "sqlite"
    backend = "sqlite"
    driver = "sqlite3"

    def __init__(self, path, server=None):
        self.path = path
        self.server = server
        self.name = os.path.basename(path)
        d = os.path.dirname(path)
        make_dir(d, owner=HTTPD_USER if IS_ROOT else None, mode=0o775)
        if not os.path.exists(path):
            open(path, "wb").close()
            os.chmod(path, 0o664)
            chown_to(path, HTTPD_USER)

    def dbd_params(self, port=None):
        return self.path

    def odbc_source(self):
        # sqliteodbc: Database is the file; the module sets its own
        # busy_timeout, journal mode and synchronous (Timeout, JournalMode,
        # SyncPragma keep the driver's defaults)
        return {"Database": self.path}, None

    def sql(self, query):
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            cur = con.execute(query)
            rows = cur.fetchall()
            return [tuple(_norm(v) for v in r) for r in rows]
        finally:
            con.close()
            # anything sqlite created as root must stay writable by httpd
            for suffix in ("", "-journal", "-wal", "-shm"):
                p = self.path + suffix
                if os.path.exists(p):
                    chown_to(p, HTTPD_USER)

    def tables(self):
        return [r[0] for r in self.sql(
            "SELECT name FROM sqlite_master WHERE type='table'")]

    def columns(self, table):
        return [r[1] for r in self.sql("PRAGMA table_info(%s)" % table)]

    def indexes(self, table):
        return [r[0] for r in self.sql(
            "SELECT name FROM sqlite_master WHERE type='index' AND "
            "tbl_name=%s" % sql_quote(table))]


class SqliteServer:
    kind = "sqlite"
    backend = "sqlite"

    def __init__(self, basedir):
        self.dir = make_dir(os.path.join(basedir, "sqlite"),
                            owner=HTTPD_USER if IS_ROOT else None,
                            mode=0o775)
        self.n = 0

    def new_database(self, name=None):
        self.n += 1
        name = name or "db%d" % self.n
        d = os.path.join(self.dir, "%s-%d" % (name, self.n))
        return SqliteDatabase(os.path.join(d, "sessions.db"), self)

    def stop(self):
        pass


class PgDatabase(Database):
    kind = "pgsql"
    backend = "pgsql"
    driver = "pgsql"

    def __init__(self, server, name):
        self.server = server
        self.name = name

    def dbd_params(self, port=None):
        s = self.server
        return "host=127.0.0.1 port=%d user=%s password=%s dbname=%s" % (
            port or s.port, s.user, s.password, self.name)

    def odbc_source(self):
        # psqlODBC's keys (its docs/config-opt.html); the login goes into
        # DBDParams, as apr_dbd_odbc passes it to SQLConnect
        s = self.server
        return ({"Servername": "127.0.0.1", "Port": str(s.port),
                 "Database": self.name, "ReadOnly": "No"},
                (s.user, s.password))

    def sql(self, query):
        return self.server.psql(query, db=self.name, user=self.server.user)

    def tables(self):
        return [r[0] for r in self.sql(
            "SELECT tablename FROM pg_tables WHERE schemaname='public'")]

    def columns(self, table):
        return [r[0] for r in self.sql(
            "SELECT column_name FROM information_schema.columns WHERE "
            "table_schema='public' AND table_name=%s ORDER BY "
            "ordinal_position" % sql_quote(table.lower()))]

    def indexes(self, table):
        return [r[0] for r in self.sql(
            "SELECT indexname FROM pg_indexes WHERE schemaname='public' "
            "AND tablename=%s" % sql_quote(table.lower()))]


class DaemonServer:
    """A database server process of our own (PostgreSQL, MariaDB).

    stop_server() stops the process and keeps its data directory;
    start_server() starts it again on the same data, port and socket and
    waits until it answers; restart() does both. stop() is the final stop
    at the end of the session."""

    kind = None
    daemon = None                   # the process' name, for messages
    # False: tuned for the tests (no flush to disk at commit, small caches);
    # True: the server's shipped defaults, as a deployment runs it (bench/)
    durable = False
    stop_signal = signal.SIGTERM
    stop_timeout = 60

    def _launch(self):
        """Popen the server process on the existing data directory."""
        raise NotImplementedError

    def _ping(self):
        """True when the server answers a query on its socket."""
        raise NotImplementedError

    def _logtext(self):
        return read_text(self.log)

    def _next_database_name(self, name):
        """A new database's name: the test's name made an identifier, and
        a number no other database of this server has."""
        self.n += 1
        return "%s_%d" % (re.sub(r"[^a-z0-9_]", "_", (name or "db").lower())
                          [:40], self.n)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start_server(self, timeout=60):
        """Start the server process (when it is not running) and wait until
        it answers on its socket and its port."""
        if self.running:
            return self
        self.proc = self._launch()

        def ready():
            if self.proc.poll() is not None:
                raise HarnessError("%s exited:\n%s" % (self.daemon,
                                                       self._logtext()))
            return self._ping() and port_open(self.port)
        if not wait_for(ready, timeout, 0.1):
            raise HarnessError("%s did not start:\n%s" % (self.daemon,
                                                          self._logtext()))
        return self

    def _stop_process(self):
        if self.running:
            self.proc.send_signal(self.stop_signal)
            try:
                self.proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stop_server(self):
        """Stop the server process, keep its data; wait until nothing
        answers on its port any more."""
        self._stop_process()
        if not wait_for(lambda: not port_open(self.port), 10):
            raise HarnessError("%s stopped, but port %d still answers"
                               % (self.daemon, self.port))
        return self

    def restart(self):
        """stop_server() and start_server()."""
        self.stop_server()
        return self.start_server()

    def stop(self):
        self._stop_process()


class PgServer(DaemonServer):
    kind = "pgsql"
    backend = "pgsql"
    daemon = "postgres"
    stop_signal = signal.SIGINT     # fast shutdown
    stop_timeout = 30
    user = "orm"
    password = "orm-pw-1"

    def __init__(self, basedir):
        for b in ("initdb", "postgres"):
            if not os.path.exists(os.path.join(PG_BINDIR, b)):
                raise HarnessError("PostgreSQL binary missing: %s"
                                   % os.path.join(PG_BINDIR, b))
        if not os.path.exists(PSQL):
            raise HarnessError("psql missing: %s" % PSQL)
        self.runas = "postgres" if IS_ROOT else None
        self.dir = make_dir(os.path.join(basedir, "pgsql"), owner=self.runas,
                            mode=0o755)
        self.data = os.path.join(self.dir, "data")
        self.sock = self.dir
        self.log = os.path.join(self.dir, "postgres.log")
        self.port = free_port()
        self.proc = None
        self.n = 0
        self._start()

    def _run(self, args, **kw):
        kw.update(user_for(self.runas) if self.runas else {})
        return subprocess.run(args, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT,
                              universal_newlines=True, cwd=self.dir, **kw)

    def _start(self):
        """First start: initdb, the server, the role httpd logs in as."""
        res = self._run([os.path.join(PG_BINDIR, "initdb"), "-D", self.data,
                         "-U", "postgres", "--auth-local=trust",
                         "--auth-host=scram-sha-256", "-E", "UTF8",
                         "--locale=C", "--no-sync"])
        if res.returncode != 0:
            raise HarnessError("initdb failed:\n" + res.stdout)
        self.start_server(timeout=30)
        self.psql("CREATE ROLE %s LOGIN PASSWORD %s"
                  % (self.user, sql_quote(self.password)))

    def _launch(self):
        logf = open(self.log, "a")
        try:
            if self.runas:
                chown_to(self.log, self.runas)
            kw = user_for(self.runas) if self.runas else {}
            return subprocess.Popen(
                [os.path.join(PG_BINDIR, "postgres"), "-D", self.data,
                 "-p", str(self.port), "-k", self.sock,
                 "-c", "listen_addresses=127.0.0.1",
                 "-c", "max_connections=200",
                 "-c", "log_min_messages=warning"] + (
                     [] if self.durable else
                     ["-c", "fsync=off", "-c", "synchronous_commit=off",
                      "-c", "full_page_writes=off",
                      "-c", "shared_buffers=32MB"]),
                stdin=subprocess.DEVNULL, stdout=logf,
                stderr=subprocess.STDOUT, cwd=self.dir,
                start_new_session=True, **kw)
        finally:
            logf.close()

    def _ping(self):
        try:
            self.psql("SELECT 1")
            return True
        except RuntimeError:
            return False

    def psql(self, query, db="postgres", user="postgres"):
        res = subprocess.run(
            [PSQL, "-X", "-q", "-A", "-t", "-F", "\x1f", "-P", "null=\\N",
             "-v", "ON_ERROR_STOP=1", "-h", self.sock, "-p", str(self.port),
             "-U", user, "-d", db, "-c", query],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, universal_newlines=True)
        if res.returncode != 0:
            raise RuntimeError("psql failed (%s): %s" % (query, res.stderr))
        rows = []
        for line in res.stdout.split("\n"):
            if line == "":
                continue
            rows.append(tuple(None if v == "\\N" else v
                              for v in line.split("\x1f")))
        return rows

    def new_database(self, name=None):
        name = self._next_database_name(name)
        self.psql("CREATE DATABASE %s OWNER %s" % (name, self.user))
        return PgDatabase(self, name)


class MysqlDatabase(Database):
    kind = "mysql"
    backend = "mysql"
    driver = "mysql"

    def __init__(self, server, name):
        self.server = server
        self.name = name

    def dbd_params(self, port=None):
        s = self.server
        return "host=127.0.0.1 port=%d user=%s pass=%s dbname=%s" % (
            port or s.port, s.user, s.password, self.name)

    def odbc_source(self):
        # MariaDB Connector/ODBC's keys (SERVER, PORT, DATABASE; UID and
        # PWD come from DBDParams through SQLConnect); 127.0.0.1 makes it
        # use TCP, as the native DBDParams do
        s = self.server
        return ({"Server": "127.0.0.1", "Port": str(s.port),
                 "Database": self.name}, (s.user, s.password))

    def sql(self, query):
        return self.server.query(query, db=self.name)

    def tables(self):
        return [r[0] for r in self.sql("SHOW TABLES")]

    def columns(self, table):
        return [r[0] for r in self.sql(
            "SELECT column_name FROM information_schema.columns WHERE "
            "table_schema=DATABASE() AND table_name=%s ORDER BY "
            "ordinal_position" % sql_quote(table))]

    def indexes(self, table):
        return sorted(set(r[0] for r in self.sql(
            "SELECT index_name FROM information_schema.statistics WHERE "
            "table_schema=DATABASE() AND table_name=%s" % sql_quote(table))))


_MYSQL_ESC = {"t": "\t", "n": "\n", "0": "\0", "\\": "\\"}


def _mysql_unescape(v):
    """Undo the escaping of mariadb --batch output."""
    return re.sub(r"\\(.)", lambda m: _MYSQL_ESC.get(m.group(1),
                                                     m.group(0)), v)


class MysqlServer(DaemonServer):
    kind = "mysql"
    backend = "mysql"
    daemon = "mariadbd"
    user = "orm"
    password = "orm-pw-1"

    def __init__(self, basedir):
        for b in (MARIADBD, MARIADB_INSTALL_DB, MARIADB):
            if not os.path.exists(b):
                raise HarnessError("MariaDB binary missing: %s" % b)
        self.runas = "mysql" if IS_ROOT else None
        self.dir = make_dir(os.path.join(basedir, "mysql"), owner=self.runas)
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "mysqld.sock")
        self.log = os.path.join(self.dir, "mysqld.log")
        self.pidfile = os.path.join(self.dir, "mysqld.pid")
        self.port = free_port()
        self.proc = None
        self.n = 0
        self._start()

    def _start(self):
        """First start: mariadb-install-db, the server, the user httpd logs
        in as."""
        args = [MARIADB_INSTALL_DB, "--no-defaults", "--datadir=" + self.data,
                "--auth-root-authentication-method=normal", "--skip-test-db"]
        if self.runas:
            args.append("--user=" + self.runas)
        res = subprocess.run(args, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True, cwd=self.dir)
        if res.returncode != 0:
            raise HarnessError("mariadb-install-db failed:\n" + res.stdout)
        self.start_server()
        for host in ("127.0.0.1", "localhost"):
            self.query("CREATE USER '%s'@'%s' IDENTIFIED BY %s"
                       % (self.user, host, sql_quote(self.password)))
            self.query("GRANT ALL PRIVILEGES ON *.* TO '%s'@'%s'"
                       % (self.user, host))

    def _launch(self):
        args = [MARIADBD, "--no-defaults", "--datadir=" + self.data,
                "--socket=" + self.sock, "--port=%d" % self.port,
                "--bind-address=127.0.0.1", "--skip-networking=0",
                "--pid-file=" + self.pidfile, "--log-error=" + self.log,
                "--skip-log-bin", "--max-connections=300",
                "--skip-name-resolve"]
        if not self.durable:
            args += ["--innodb-buffer-pool-size=32M",
                     "--innodb-flush-log-at-trx-commit=0"]
        if self.runas:
            args.append("--user=" + self.runas)
        return subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, cwd=self.dir,
                                start_new_session=True)

    def _ping(self):
        try:
            self.query("SELECT 1")
            return True
        except RuntimeError:
            return False

    def query(self, query, db=None):
        args = [MARIADB, "--no-defaults", "-S", self.sock, "-u", "root",
                "-N", "-B"]
        if db:
            args += ["-D", db]
        args += ["-e", query]
        res = subprocess.run(args, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True)
        if res.returncode != 0:
            raise RuntimeError("mariadb failed (%s): %s" % (query, res.stderr))
        rows = []
        for line in res.stdout.split("\n"):
            if line == "":
                continue
            rows.append(tuple(None if v == "NULL" else _mysql_unescape(v)
                              for v in line.split("\t")))
        return rows

    def new_database(self, name=None):
        name = self._next_database_name(name)
        self.query("CREATE DATABASE %s" % name)
        return MysqlDatabase(self, name)


class OdbcDatabase(Database):
    """A database of a native server reached by httpd through an ODBC data
    source of its own (added to the run's odbc.ini when it is made). The
    harness reads and writes it with the native client, as the native
    database; its other attributes (path, name) are the native one's."""

    driver = "odbc"

    def __init__(self, native, server, sources):
        self.native = native
        self.server = server
        self.kind = server.kind
        self.backend = native.backend
        self.sources = sources
        keys, self.login = native.odbc_source()
        self.dsn = sources.add_source(self.backend, keys)

    def __getattr__(self, name):
        if name == "native":            # not set yet: no recursion
            raise AttributeError(name)
        return getattr(self.native, name)

    def dbd_params(self, port=None):
        """apr_dbd_odbc's parameters: datasource (the DSN, for SQLConnect),
        user and password; with port: a data source of its own that points
        there."""
        dsn = self.dsn
        if port is not None:
            keys, _ = self.native.odbc_source()
            keys["Port"] = str(port)
            dsn = self.sources.add_source(self.backend, keys)
        params = ["datasource=" + dsn]
        if self.login:
            params += ["user=" + self.login[0], "password=" + self.login[1]]
        return ",".join(params)

    def odbc_source(self):
        return self.native.odbc_source()

    def isql(self, query, runas=None):
        """Run a statement through the data source (unixODBC's isql, as the
        OS user runas when given); rows as tuples of str, NULL as ""."""
        user, password = self.login or (None, None)
        return self.sources.isql(self.dsn, user, password, query, runas)

    def sql(self, query):
        return self.native.sql(query)

    def tables(self):
        return self.native.tables()

    def columns(self, table):
        return self.native.columns(table)

    def indexes(self, table):
        return self.native.indexes(table)


class OdbcServer:
    """The server of a backend seen through ODBC (one kind of KINDS):
    new_database() makes a native database and its data source; everything
    else (stop_server, start_server, restart, proc, port, ...) is the native
    server's own."""

    driver = "odbc"

    def __init__(self, native, kind, sources):
        self.native = native
        self.kind = kind
        self.backend = native.backend
        self.sources = sources
        sources.driver(self.backend)    # HarnessError when it is missing

    def __getattr__(self, name):
        if name == "native":
            raise AttributeError(name)
        return getattr(self.native, name)

    def new_database(self, name=None):
        return OdbcDatabase(self.native.new_database(name), self,
                            self.sources)


# the database behind -> its server
SERVER_CLASSES = {"sqlite": SqliteServer, "pgsql": PgServer,
                  "mysql": MysqlServer}


def server_of_kind(kind, native, session):
    """What kind sees of native (a server of its backend): native itself,
    or for an ODBC kind native behind data sources in session.odbc (the
    run's harness.odbc.OdbcSources)."""
    if native.backend != backend_of(kind):
        raise HarnessError("%s is not a server for %s" % (native.kind, kind))
    if driver_of(kind) != "odbc":
        return native
    return OdbcServer(native, kind, session.odbc)


def selected_dbs():
    raw = os.environ.get("ORM_E2E_DBS", ",".join(ALL_DBS))
    dbs = [d.strip() for d in raw.split(",") if d.strip()]
    for d in dbs:
        if d not in ALL_DBS:
            raise HarnessError("ORM_E2E_DBS: unknown database %r (use %s)"
                               % (d, ",".join(ALL_DBS)))
    return dbs


def selected_on(*backends):
    """The selected kinds whose database behind is one of backends."""
    return [k for k in selected_dbs() if backend_of(k) in backends]


def allow_skip():
    return os.environ.get("ORM_E2E_ALLOW_SKIP") == "1"


def rows_or_none(db, table="session", columns="*", where=None):
    """Rows of a table, or [] when the table does not exist (yet)."""
    if not db.has_table(table):
        return []
    return db.rows(table, columns, where)
