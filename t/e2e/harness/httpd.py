"""httpd instances: Httpd (one server with a generated configuration:
start, stop, restart, graceful, configtest, start_fail, its error log),
HttpdFactory (a test's instances, stopped and checked after it) and
Session (the session-wide temporary directory, the probe module, built
with apxs when make check has not built it, and the ODBC configuration)."""

import grp
import os
import pwd
import re
import resource
import shutil
import signal
import subprocess

from harness.client import Client, http_request
from harness.common import (HTTPD_USER, IS_ROOT, HarnessError, free_port,
                            make_dir, pid_alive, port_open,
                            probe_module_path, probe_source_path, wait_for)
from harness.conf import (BASE_CONF, DEFAULT_MODULES, MPM_CONF,
                          load_module_lines)
from harness.logs import ErrorLog
from harness.odbc import OdbcSources

APACHE2 = os.environ.get("APACHE2", "/usr/sbin/apache2")
APXS = os.environ.get("APXS", "/usr/bin/apxs")


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
        self.conf_path = os.path.join(self.dir, "httpd.conf")
        self.log_path = os.path.join(self.dir, "error.log")
        self.error_log = ErrorLog(self.log_path)
        self.pid_path = os.path.join(self.dir, "httpd.pid")
        self.started = False
        self.pid = None
        self.last_output = ""
        self.write_config()

    # ---- configuration

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
            loadmodules=load_module_lines(self.mpm, self.modules,
                                          self.factory.probe_path),
            user=("User %s\nGroup %s" % (HTTPD_USER, grp.getgrgid(
                pwd.getpwnam(HTTPD_USER).pw_gid).gr_name)) if IS_ROOT else "",
            mpmconf=MPM_CONF[self.mpm],
        ) + "\n" + body + "\n"

    def write_config(self):
        with open(self.conf_path, "w") as f:
            f.write(self.render())

    def expect_log(self, *patterns):
        """Declare error-log lines (regexes) as expected for this test."""
        self.error_log.expect(*patterns)

    # ---- control

    def _ctl(self, *args, timeout=60, address_space=None):
        """apache2 with args; address_space: its RLIMIT_AS in bytes (and
        its children's), to make a large allocation fail."""
        def limit():
            resource.setrlimit(resource.RLIMIT_AS,
                               (address_space, address_space))
        res = subprocess.run([APACHE2, "-d", self.dir, "-f", self.conf_path]
                             + list(args), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True, timeout=timeout,
                             preexec_fn=limit if address_space else None)
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

    def start_fail(self, timeout=10, address_space=None):
        """Start httpd when it is expected to refuse: returns (returncode,
        output + error log, running). address_space: see _ctl."""
        rc, out = self._ctl("-k", "start", address_space=address_space)
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

    # ---- the error log (harness.logs.ErrorLog)

    def log_text(self):
        return self.error_log.text()

    def log_lines(self):
        return self.error_log.lines()

    def log_mark(self):
        """Position in the error log; pass to log_since()."""
        return self.error_log.mark()

    def log_since(self, mark):
        return self.error_log.since(mark)

    def wait_log(self, pattern, timeout=5, mark=0):
        return self.error_log.wait(pattern, timeout, mark)

    def check_log(self):
        self.error_log.check()


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
    """The test run's state (a pytest session, not an HTTP one): its
    temporary directory, the probe module and the ODBC configuration."""

    def __init__(self, basedir):
        self.basedir = basedir
        self._probe = None
        self._odbc = None

    @property
    def odbc(self):
        """The run's odbcinst.ini/odbc.ini (harness.odbc.OdbcSources),
        written when an ODBC kind first needs them: from then on this
        process and everything it starts use them."""
        if self._odbc is None:
            self._odbc = OdbcSources(self.basedir)
        return self._odbc

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
