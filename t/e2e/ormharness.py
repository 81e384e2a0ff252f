"""End-to-end harness for mod_session_orm.

Starts the distribution httpd with a generated configuration, the database
servers (SQLite files, a private PostgreSQL 15 and a private MariaDB) inside
a temporary directory, and offers a small stdlib HTTP client.

Nothing here touches the system's own httpd, PostgreSQL or MariaDB
instances: every server listens on a free loopback port chosen at run time.
"""

import hashlib
import http.client
import os
import pwd
import grp
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))

APACHE2 = os.environ.get("APACHE2", "/usr/sbin/apache2")
APXS = os.environ.get("APXS", "/usr/bin/apxs")
HTPASSWD = os.environ.get("HTPASSWD", "/usr/bin/htpasswd")
MODDIR = os.environ.get("ORM_APACHE_MODDIR", "/usr/lib/apache2/modules")
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

IS_ROOT = os.geteuid() == 0
HTTPD_USER = os.environ.get("ORM_HTTPD_USER", "www-data")

ALL_DBS = ("sqlite", "pgsql", "mysql")


class HarnessError(Exception):
    """A problem of the test environment (not of the module under test)."""


# --------------------------------------------------------------------------
# paths and small helpers

def builddir():
    return os.environ.get("ORM_BUILDDIR", REPO)


def orm_module_path():
    return os.environ.get("ORM_MODULE") or os.path.join(
        builddir(), ".libs", "mod_session_orm.so")


def probe_module_path():
    return os.environ.get("ORM_PROBE_MODULE") or os.path.join(
        builddir(), "t", "modules", ".libs", "mod_session_probe.so")


def probe_source_path():
    return os.path.join(REPO, "t", "modules", "mod_session_probe.c")


def build_probe(destdir):
    """Build the probe with apxs into destdir (used when make check has not
    built it); returns the path of the .so."""
    os.makedirs(destdir, exist_ok=True)
    src = os.path.join(destdir, "mod_session_probe.c")
    shutil.copy(probe_source_path(), src)
    res = subprocess.run([APXS, "-c", "-Wc,-Wall", "-Wc,-Wextra",
                          "mod_session_probe.c"], cwd=destdir,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True)
    so = os.path.join(destdir, ".libs", "mod_session_probe.so")
    if res.returncode != 0 or not os.path.exists(so):
        raise HarnessError("building the probe with apxs failed:\n"
                           + res.stdout)
    return so


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(pred, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def chown_to(path, user, recursive=False):
    if not IS_ROOT:
        return
    pw = pwd.getpwnam(user)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    if recursive:
        for root, dirs, files in os.walk(path):
            for n in dirs + files:
                os.lchown(os.path.join(root, n), pw.pw_uid, pw.pw_gid)


def make_dir(path, owner=None, mode=0o755):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)
    if owner:
        chown_to(path, owner)
    return path


def pid_alive(pid):
    """True when pid exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return False


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


def user_for(user):
    """preexec-free Popen kwargs to run a command as an OS user when root."""
    if not IS_ROOT:
        return {}
    pw = pwd.getpwnam(user)
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def sql_quote(value):
    """Quote a Python value as an SQL literal (tests only)."""
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


# --------------------------------------------------------------------------
# HTTP client

class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers          # list of (name, value)
        self.body = body                # str
        self.set_cookies = [v for k, v in headers
                            if k.lower() == "set-cookie"]

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def lines(self):
        return [l for l in self.body.split("\n") if l]

    def pairs(self):
        out = []
        for line in self.lines():
            if "=" in line:
                k, v = line.split("=", 1)
                out.append((k, v))
        return out

    def value(self, key):
        """Value of the first 'key=value' line (None for '(null)' and for a
        missing line)."""
        for k, v in self.pairs():
            if k == key:
                return None if v == "(null)" else v
        return None

    def entries(self):
        """op=dump output as a dict (without the user=/session= lines)."""
        out = {}
        for k, v in self.pairs():
            if k in ("user", "session"):
                continue
            out[k] = v
        return out

    def cookies(self, name=None):
        parsed = [parse_set_cookie(c) for c in self.set_cookies]
        if name is not None:
            parsed = [c for c in parsed if c.name == name]
        return parsed

    def __repr__(self):
        return "<Response %d set-cookie=%r body=%r>" % (
            self.status, self.set_cookies, self.body[:300])


class SetCookie:
    def __init__(self, raw):
        self.raw = raw
        parts = [p.strip() for p in raw.split(";")]
        name, _, value = parts[0].partition("=")
        self.name = name.strip()
        self.value = value.strip()
        self.attrs = {}                 # lower-case name -> value or True
        self.attr_names = []            # as sent, in order
        for p in parts[1:]:
            if not p:
                continue
            k, eq, v = p.partition("=")
            self.attr_names.append(k.strip())
            self.attrs[k.strip().lower()] = v.strip() if eq else True

    def attr(self, name):
        return self.attrs.get(name.lower())

    @property
    def max_age(self):
        v = self.attrs.get("max-age")
        return None if v is None or v is True else int(v)

    @property
    def expired(self):
        return self.max_age is not None and self.max_age <= 0

    def __repr__(self):
        return "<SetCookie %s>" % self.raw


def parse_set_cookie(raw):
    return SetCookie(raw)


def http_request(port, path, method="GET", headers=None, body=None,
                 host="127.0.0.1", timeout=15):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, resp.reason, list(resp.getheaders()),
                        data.decode("utf-8", "replace"))
    finally:
        conn.close()


class Client:
    """A tiny cookie-keeping client for one httpd (one cookie jar)."""

    def __init__(self, port, cookie_name=None, auth=None, host_header=None):
        self.port = port
        self.cookie_name = cookie_name  # None: keep every cookie
        self.jar = {}
        self.auth = auth
        self.host_header = host_header
        self.history = []

    def cookie_header(self):
        if not self.jar:
            return None
        return "; ".join("%s=%s" % kv for kv in self.jar.items())

    def request(self, path, method="GET", headers=None, cookie=None,
                update_jar=True, body=None):
        hdrs = {}
        if self.host_header:
            hdrs["Host"] = self.host_header
        if self.auth:
            import base64
            tok = base64.b64encode(("%s:%s" % self.auth).encode()).decode()
            hdrs["Authorization"] = "Basic " + tok
        c = cookie if cookie is not None else self.cookie_header()
        if c:
            hdrs["Cookie"] = c
        if headers:
            hdrs.update(headers)
        resp = http_request(self.port, path, method=method, headers=hdrs,
                            body=body)
        self.history.append(resp)
        if update_jar:
            for sc in resp.cookies():
                if self.cookie_name and sc.name != self.cookie_name:
                    continue
                if sc.expired or sc.value == "":
                    self.jar.pop(sc.name, None)
                else:
                    self.jar[sc.name] = sc.value
        return resp

    def get(self, path, **kw):
        return self.request(path, **kw)

    @property
    def token(self):
        if self.cookie_name:
            return self.jar.get(self.cookie_name)
        return next(iter(self.jar.values()), None)


# --------------------------------------------------------------------------
# error-log scanning

LOG_LINE = re.compile(r"^\[[^\]]*\] \[(?P<module>[^:\]]*):(?P<level>[a-z0-9]+)\]")
BAD_LEVELS = ("error", "crit", "alert", "emerg")


def bad_log_lines(lines, expected=()):
    """Lines that should fail a test: level error and worse, [warn] lines
    about ORM or sessions, crashed children, and raw (unformatted) lines --
    unless they match one of the expected regexes."""
    pats = [re.compile(p) for p in expected]
    bad = []
    for line in lines:
        if not line.strip():
            continue
        if any(p.search(line) for p in pats):
            continue
        m = LOG_LINE.match(line)
        if not m:
            bad.append(line)
            continue
        level = m.group("level")
        if level in BAD_LEVELS:
            bad.append(line)
        elif level == "warn" and re.search(r"ORM|session", line, re.I):
            bad.append(line)
        elif re.search(r"exit signal|AH00052|seg(mentation)? ?fault|"
                       r"core dumped", line, re.I):
            bad.append(line)
    return bad


# --------------------------------------------------------------------------
# httpd

STD_MODULES = {
    # name -> (module symbol, file)
    "authz_core": ("authz_core_module", "mod_authz_core.so"),
    "authz_user": ("authz_user_module", "mod_authz_user.so"),
    "authn_core": ("authn_core_module", "mod_authn_core.so"),
    "authn_file": ("authn_file_module", "mod_authn_file.so"),
    "auth_basic": ("auth_basic_module", "mod_auth_basic.so"),
    "auth_form": ("auth_form_module", "mod_auth_form.so"),
    "request": ("request_module", "mod_request.so"),
    "dbd": ("dbd_module", "mod_dbd.so"),
    "session": ("session_module", "mod_session.so"),
    "session_cookie": ("session_cookie_module", "mod_session_cookie.so"),
    "session_crypto": ("session_crypto_module", "mod_session_crypto.so"),
    "setenvif": ("setenvif_module", "mod_setenvif.so"),
    "env": ("env_module", "mod_env.so"),
    "headers": ("headers_module", "mod_headers.so"),
    "alias": ("alias_module", "mod_alias.so"),
    "rewrite": ("rewrite_module", "mod_rewrite.so"),
}

# load order: providers of hooks / optional functions first
MODULE_ORDER = ["authz_core", "authz_user", "authn_core", "authn_file",
                "auth_basic", "request", "setenvif", "env", "headers",
                "alias", "rewrite", "dbd", "session", "session_cookie",
                "session_crypto", "auth_form", "probe", "orm"]

DEFAULT_MODULES = ("authz_core", "dbd", "session", "probe", "orm")

MPM_CONF = {
    "event": """
StartServers 1
ServerLimit 4
ThreadLimit 4
ThreadsPerChild 4
MaxRequestWorkers 16
MinSpareThreads 1
MaxSpareThreads 8
""",
    "prefork": """
StartServers 2
MinSpareServers 1
MaxSpareServers 3
ServerLimit 8
MaxRequestWorkers 8
""",
}

BASE_CONF = """\
# generated by t/e2e/ormharness.py
ServerRoot "{dir}"
ServerName 127.0.0.1
PidFile "{dir}/httpd.pid"
ErrorLog "{dir}/error.log"
LogLevel {loglevel}
DefaultRuntimeDir "{dir}/run"
Mutex file:{dir}/run default
{listen}
{loadmodules}
{user}
KeepAlive Off
Timeout 30
GracefulShutdownTimeout 3
{mpmconf}
DocumentRoot "{dir}/htdocs"
<Directory />
    Require all granted
</Directory>
"""


class Httpd:
    """One httpd instance with a generated configuration."""

    def __init__(self, factory, name, body, mpm="event", modules=None,
                 extra_modules=(), debug=False, nports=1, loglevel=None,
                 **fmt):
        self.factory = factory
        self.name = name
        self.dir = make_dir(os.path.join(factory.workdir, name),
                            owner=HTTPD_USER if IS_ROOT else None)
        make_dir(os.path.join(self.dir, "run"))
        make_dir(os.path.join(self.dir, "htdocs"))
        self.mpm = mpm
        mods = list(modules if modules is not None else DEFAULT_MODULES)
        for m in extra_modules:
            if m not in mods:
                mods.append(m)
        self.modules = mods
        self.debug = debug
        self.loglevel = loglevel
        self.ports = [free_port() for _ in range(nports)]
        self.port = self.ports[0]
        self.body = body
        self.fmt = fmt
        self.expected = []
        self.conf_path = os.path.join(self.dir, "httpd.conf")
        self.log_path = os.path.join(self.dir, "error.log")
        self.pid_path = os.path.join(self.dir, "httpd.pid")
        self.started = False
        self.pid = None
        self.last_output = ""
        self.write_config()

    # ---- configuration

    def module_lines(self):
        lines = []
        mods = sorted(self.modules, key=lambda m: (
            MODULE_ORDER.index(m) if m in MODULE_ORDER else 50))
        lines.append("LoadModule mpm_%s_module %s/mod_mpm_%s.so"
                     % (self.mpm, MODDIR, self.mpm))
        for m in mods:
            if m == "orm":
                path = orm_module_path()
                if not os.path.exists(path):
                    raise AssertionError(
                        "mod_session_orm is not built: %s does not exist "
                        "(set ORM_BUILDDIR or ORM_MODULE)" % path)
                lines.append("LoadModule session_orm_module %s" % path)
            elif m == "probe":
                lines.append("LoadModule session_probe_module %s"
                             % self.factory.probe_path())
            else:
                sym, so = STD_MODULES[m]
                lines.append("LoadModule %s %s/%s" % (sym, MODDIR, so))
        return "\n".join(lines)

    def render(self):
        loglevel = self.loglevel or "warn"
        if self.debug and "orm" in self.modules:
            loglevel += " session_orm:debug"
        # placeholders are @NAME@ (httpd's own syntax uses braces)
        fmt = {k.upper(): str(v) for k, v in self.fmt.items()}
        fmt.setdefault("DIR", self.dir)
        fmt["PORT"] = str(self.port)
        for i, p in enumerate(self.ports):
            fmt["PORT%d" % i] = str(p)
        body = re.sub(r"@([A-Z0-9_]+)@", lambda m: fmt.get(m.group(1),
                                                            m.group(0)),
                      self.body)
        return BASE_CONF.format(
            dir=self.dir,
            loglevel=loglevel,
            listen="\n".join("Listen 127.0.0.1:%d" % p for p in self.ports),
            loadmodules=self.module_lines(),
            user=("User %s\nGroup %s" % (HTTPD_USER, grp.getgrgid(
                pwd.getpwnam(HTTPD_USER).pw_gid).gr_name)) if IS_ROOT else "",
            mpmconf=MPM_CONF[self.mpm],
        ) + "\n" + body + "\n"

    def write_config(self):
        with open(self.conf_path, "w") as f:
            f.write(self.render())

    def expect_log(self, *patterns):
        """Declare error-log lines (regexes) as expected for this test."""
        self.expected.extend(patterns)

    # ---- control

    def _ctl(self, *args, timeout=60):
        res = subprocess.run([APACHE2, "-d", self.dir, "-f", self.conf_path]
                             + list(args), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True, timeout=timeout)
        self.last_output = res.stdout
        return res.returncode, res.stdout

    def configtest(self):
        """apache2 -t: returns (returncode, output)."""
        return self._ctl("-t")

    def _read_pid(self):
        try:
            with open(self.pid_path) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def start_fail(self, timeout=10):
        """Start httpd when it is expected to refuse: returns (returncode,
        output + error log, running)."""
        rc, out = self._ctl("-k", "start")
        state = {}

        def settled():
            pid = self._read_pid()
            if pid and pid_alive(pid) and all(port_open(p)
                                              for p in self.ports):
                state["running"] = True
                return True
            if pid and not pid_alive(pid):
                return True             # started, then died
            return rc != 0 and not pid
        # the daemon may fail after detaching: give it time either way
        wait_for(settled, timeout)
        running = bool(state.get("running"))
        if running:
            self.started = True
            self.pid = self._read_pid()
        return rc, out + self.log_text(), running

    def start(self, timeout=20):
        """Start httpd; wait until every port answers."""
        rc, out = self._ctl("-k", "start")
        for _ in range(3):
            # a free port can be taken by someone else before httpd binds
            # it: on the first start only, pick new ports and retry
            if rc == 0 or self.pid is not None or not re.search(
                    r"could not bind|Address already in use", out):
                break
            self.ports = [free_port() for _ in self.ports]
            self.port = self.ports[0]
            self.write_config()
            if os.path.exists(self.log_path):
                os.unlink(self.log_path)
            rc, out = self._ctl("-k", "start")
        if rc != 0:
            raise AssertionError("httpd failed to start (rc=%d):\n%s\n%s"
                                 % (rc, out, self.log_text()))

        def up():
            pid = self._read_pid()
            if pid and not pid_alive(pid):
                raise AssertionError("httpd died during startup:\n%s"
                                     % self.log_text())
            return pid and all(port_open(p) for p in self.ports)
        if not wait_for(up, timeout):
            raise AssertionError("httpd did not come up:\n%s\n%s"
                                 % (out, self.log_text()))
        self.pid = self._read_pid()
        self.started = True
        return self

    def stop(self, timeout=20):
        if not self.started:
            pid = self._read_pid()
            if not (pid and pid_alive(pid)):
                return
        pid = self._read_pid() or self.pid
        self._ctl("-k", "stop")
        if pid and not wait_for(lambda: not pid_alive(pid), timeout):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            raise AssertionError("httpd (pid %d) did not stop" % pid)
        wait_for(lambda: not os.path.exists(self.pid_path), 5)
        self.started = False

    def restart(self):
        """Full stop + start with the same configuration (same DB)."""
        self.stop()
        self.ports_wait_closed()
        return self.start()

    def ports_wait_closed(self):
        wait_for(lambda: not any(port_open(p) for p in self.ports), 10)

    def graceful(self, timeout=20):
        """apache2 -k graceful; waits until the new generation is serving."""
        n = self.log_text().count("resuming normal operations")
        rc, out = self._ctl("-k", "graceful")
        if rc != 0:
            raise AssertionError("graceful failed: %s" % out)
        if not wait_for(lambda: self.log_text().count(
                "resuming normal operations") > n, timeout):
            raise AssertionError("graceful restart did not complete:\n%s"
                                 % self.log_text())
        wait_for(lambda: all(port_open(p) for p in self.ports), 10)
        return self

    # ---- use

    def client(self, cookie_name="orm", **kw):
        return Client(kw.pop("port", self.port), cookie_name=cookie_name, **kw)

    def get(self, path, port=None, **kw):
        return http_request(port or self.port, path, **kw)

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_lines(self):
        return self.log_text().splitlines()

    def log_mark(self):
        """Position in the error log; pass to log_since()."""
        return len(self.log_text())

    def log_since(self, mark):
        return self.log_text()[mark:].splitlines()

    def wait_log(self, pattern, timeout=5, mark=0):
        rx = re.compile(pattern)
        return wait_for(lambda: any(rx.search(l)
                                    for l in self.log_since(mark)), timeout)

    def check_log(self):
        bad = bad_log_lines(self.log_lines(), self.expected)
        if bad:
            raise AssertionError(
                "unexpected lines in %s (declare with expect_log):\n%s"
                % (self.log_path, "\n".join(bad[:40])))


class HttpdFactory:
    """Per-test: creates Httpd instances and cleans them up."""

    def __init__(self, workdir, session):
        self.workdir = workdir
        self.session = session
        self.instances = []
        self.count = 0

    def probe_path(self):
        return self.session.probe_path()

    def new(self, body, name=None, **kw):
        self.count += 1
        h = Httpd(self, name or ("httpd%d" % self.count), body, **kw)
        self.instances.append(h)
        return h

    def start(self, body, **kw):
        return self.new(body, **kw).start()

    def stop_all(self):
        errors = []
        for h in self.instances:
            try:
                h.stop()
            except AssertionError as e:
                errors.append(str(e))
        return errors

    def check_logs(self):
        msgs = []
        for h in self.instances:
            try:
                h.check_log()
            except AssertionError as e:
                msgs.append(str(e))
        if msgs:
            raise AssertionError("\n".join(msgs))


class Session:
    """Session-wide state: the temp dir and the probe module."""

    def __init__(self, basedir):
        self.basedir = basedir
        self._probe = None

    def probe_path(self):
        if self._probe:
            return self._probe
        path = probe_module_path()
        if os.environ.get("ORM_PROBE_MODULE"):
            if not os.path.exists(path):
                raise AssertionError("ORM_PROBE_MODULE %s does not exist"
                                     % path)
        elif not os.path.exists(path) or (
                os.path.exists(probe_source_path()) and
                os.path.getmtime(path) < os.path.getmtime(
                    probe_source_path())):
            # not built by make check yet, or older than its source: build
            # a private copy
            path = build_probe(os.path.join(self.basedir, "probe-build"))
        self._probe = path
        return path


# --------------------------------------------------------------------------
# databases

class Database:
    """One database (a fresh one per test) on one server."""

    kind = None

    def dbd_conf(self):
        """DBDriver/DBDParams lines for httpd.conf."""
        raise NotImplementedError

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
        README "Expired sessions and the admin tool") is none."""
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

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        d = os.path.dirname(path)
        make_dir(d, owner=HTTPD_USER if IS_ROOT else None, mode=0o775)
        if not os.path.exists(path):
            open(path, "wb").close()
            os.chmod(path, 0o664)
            chown_to(path, HTTPD_USER)

    def dbd_conf(self):
        return 'DBDriver sqlite3\nDBDParams "%s"' % self.path

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

    def __init__(self, basedir):
        self.dir = make_dir(os.path.join(basedir, "sqlite"),
                            owner=HTTPD_USER if IS_ROOT else None,
                            mode=0o775)
        self.n = 0

    def new_database(self, name=None):
        self.n += 1
        name = name or "db%d" % self.n
        d = os.path.join(self.dir, "%s-%d" % (name, self.n))
        return SqliteDatabase(os.path.join(d, "sessions.db"))

    def stop(self):
        pass


class PgDatabase(Database):
    kind = "pgsql"

    def __init__(self, server, name):
        self.server = server
        self.name = name

    def dbd_conf(self):
        s = self.server
        return ('DBDriver pgsql\nDBDParams "host=127.0.0.1 port=%d user=%s '
                'password=%s dbname=%s"' % (s.port, s.user, s.password,
                                            self.name))

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
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

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
        self.n += 1
        name = "%s_%d" % (re.sub(r"[^a-z0-9_]", "_", (name or "db").lower())
                          [:40], self.n)
        self.psql("CREATE DATABASE %s OWNER %s" % (name, self.user))
        return PgDatabase(self, name)


class MysqlDatabase(Database):
    kind = "mysql"

    def __init__(self, server, name):
        self.server = server
        self.name = name

    def dbd_conf(self):
        s = self.server
        return ('DBDriver mysql\nDBDParams "host=127.0.0.1 port=%d user=%s '
                'pass=%s dbname=%s"' % (s.port, s.user, s.password,
                                        self.name))

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
        self.n += 1
        name = "%s_%d" % (re.sub(r"[^a-z0-9_]", "_", (name or "db").lower())
                          [:40], self.n)
        self.query("CREATE DATABASE %s" % name)
        return MysqlDatabase(self, name)


SERVER_CLASSES = {"sqlite": SqliteServer, "pgsql": PgServer,
                  "mysql": MysqlServer}


def selected_dbs():
    raw = os.environ.get("ORM_E2E_DBS", ",".join(ALL_DBS))
    dbs = [d.strip() for d in raw.split(",") if d.strip()]
    for d in dbs:
        if d not in ALL_DBS:
            raise HarnessError("ORM_E2E_DBS: unknown database %r (use %s)"
                               % (d, ",".join(ALL_DBS)))
    return dbs


def allow_skip():
    return os.environ.get("ORM_E2E_ALLOW_SKIP") == "1"


# --------------------------------------------------------------------------
# configuration snippets shared by the tests

COOKIE = "orm"


def orm_conf(db, server="", scope="", cookie="SessionORMCookieName " + COOKIE):
    """A server using `db` with the probe at /probe and /probe2.
    `server` goes in server scope (SessionORMTable, ...), `scope` holds
    per-directory directives applied server-wide."""
    return """
LimitRequestFieldSize 16384
%s
%s
Session On
%s
%s
<Location /probe>
    SetHandler session-probe
</Location>
<Location /probe2>
    SetHandler session-probe
</Location>
""" % (db.dbd_conf(), server, cookie, scope)


def dbd_indented(db):
    """db.dbd_conf() indented for a <VirtualHost> block."""
    return db.dbd_conf().replace("\n", "\n    ")


# modules for Basic authentication against make_htpasswd()'s file
AUTH_MODULES = ["auth_basic", "authn_file", "authn_core", "authz_user"]


def make_htpasswd(dirpath, users):
    """An htpasswd file in dirpath for users (name -> password)."""
    path = os.path.join(dirpath, "htpasswd")
    first = True
    for user, pw in users.items():
        args = [HTPASSWD, "-b"] + (["-c"] if first else []) + [path, user,
                                                                pw]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        first = False
    os.chmod(path, 0o644)
    return path


def rows_or_none(db, table="session", columns="*", where=None):
    """Rows of a table, or [] when the table does not exist (yet)."""
    if not db.has_table(table):
        return []
    return db.rows(table, columns, where)


def now_ms():
    return int(time.time() * 1000)


TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
