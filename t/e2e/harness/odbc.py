"""The run's own ODBC configuration, for the odbc-* database kinds.

OdbcSources writes odbcinst.ini (one driver per database behind:
sqliteodbc, psqlODBC, MariaDB Connector/ODBC, each by the absolute path of
its .so) and odbc.ini (one data source per database the harness makes) in
<basedir>/odbc, readable by the user httpd runs as, and points unixODBC at
them through the harness' own environment (ODBCSYSINI, ODBCINI), which
httpd, the session-orm tool and isql inherit. Nothing outside the run's
temporary directory is read or written: not /etc/odbc*.ini, not
~/.odbc.ini (unixODBC reads it, and creates it when it is missing, unless
ODBCINI names another file).

odbc.ini is rewritten whole (to a temporary file, then renamed) each time a
source is added, so a process that reads it meanwhile sees the old list or
the new one, never half of it. Data source names stay within ODBC's 32
characters (SQL_MAX_DSN_LENGTH; unixODBC refuses longer ones)."""

import glob
import os
import subprocess
import sysconfig

from harness.common import HarnessError, make_dir, user_for

ISQL = os.environ.get("ORM_ISQL", "/usr/bin/isql")

# the database behind -> (odbcinst.ini section, the driver's .so, further
# odbcinst.ini keys). psqlODBC's Unicode build, as Debian registers it;
# Threading=0 as Debian's odbc-mariadb registers its driver (the driver is
# thread-safe: unixODBC need not serialise calls into it)
DRIVERS = {
    "sqlite": ("orm-sqlite3", "libsqlite3odbc.so", {}),
    "pgsql": ("orm-pgsql", "psqlodbcw.so", {}),
    "mysql": ("orm-mariadb", "libmaodbc.so", {"Threading": "0"}),
}


def driver_dirs():
    """Where Debian's ODBC drivers are: $ORM_ODBC_DRIVER_DIR, else the
    multiarch directory of this machine (/usr/lib/<multiarch>/odbc; the
    multiarch name Python was built for, Debian's DEB_HOST_MULTIARCH,
    without needing dpkg-dev), else any /usr/lib/*/odbc."""
    if os.environ.get("ORM_ODBC_DRIVER_DIR"):
        return [os.environ["ORM_ODBC_DRIVER_DIR"]]
    dirs = []
    multiarch = sysconfig.get_config_var("MULTIARCH")
    if multiarch:
        dirs.append("/usr/lib/%s/odbc" % multiarch)
    return dirs + sorted(glob.glob("/usr/lib/*/odbc")) + ["/usr/lib/odbc"]


def driver_path(so):
    for d in driver_dirs():
        path = os.path.join(d, so)
        if os.path.exists(path):
            return path
    return None


def _ini_text(sections):
    """sections: (name, {key: value}) pairs, in order."""
    out = []
    for name, keys in sections:
        out.append("[%s]" % name)
        out.extend("%s=%s" % kv for kv in keys.items())
        out.append("")
    return "\n".join(out)


def _write_readable(path, text):
    """Replace path with text at once, readable by everyone (httpd's user
    among them)."""
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


class OdbcSources:
    """odbcinst.ini and odbc.ini of the run, and the environment that makes
    unixODBC use them."""

    def __init__(self, basedir):
        self.dir = make_dir(os.path.join(basedir, "odbc"), mode=0o755)
        self.odbcinst_ini = os.path.join(self.dir, "odbcinst.ini")
        self.odbc_ini = os.path.join(self.dir, "odbc.ini")
        self.drivers = {}           # the database behind -> section name
        self.missing = {}           # the database behind -> the .so wanted
        sections = []
        for backend, (name, so, extra) in sorted(DRIVERS.items()):
            path = driver_path(so)
            if path is None:
                self.missing[backend] = so
                continue
            self.drivers[backend] = name
            sections.append((name, dict({"Description": "%s for the "
                                         "mod_session_orm tests" % so,
                                         "Driver": path}, **extra)))
        _write_readable(self.odbcinst_ini, _ini_text(sections))
        self.sources = []           # (name, {key: value}) in odbc.ini
        self._write_sources()
        os.environ.update(self.environ())

    def environ(self):
        """ODBCSYSINI: the directory of odbcinst.ini and the system
        odbc.ini; ODBCINI: the user's odbc.ini, the same file (otherwise
        ~/.odbc.ini of whoever runs)."""
        return {"ODBCSYSINI": self.dir, "ODBCINI": self.odbc_ini}

    def driver(self, backend):
        """The odbcinst.ini section of the driver for backend; HarnessError
        when its package is not installed."""
        if backend not in self.drivers:
            raise HarnessError("no ODBC driver %s in %s (scripts/install-deps "
                               "installs it)" % (self.missing[backend],
                                                 " or ".join(driver_dirs())))
        return self.drivers[backend]

    def add_source(self, backend, keys):
        """A new data source for the database behind (backend) with the
        driver's own connection keys; returns its name."""
        name = "orm-%s-%d" % (backend, len(self.sources) + 1)
        self.sources.append((name, dict({"Driver": self.driver(backend)},
                                        **keys)))
        self._write_sources()
        return name

    def _write_sources(self):
        listing = ("ODBC Data Sources", {n: k["Driver"]
                                         for n, k in self.sources})
        _write_readable(self.odbc_ini, _ini_text([listing] + self.sources))

    def isql(self, dsn, user=None, password=None, query="SELECT 1",
             runas=None):
        """Run one statement through the data source with unixODBC's isql
        (as the OS user runas when given and root); returns rows as tuples
        of str, NULL as "" (HarnessError when it fails)."""
        args = [ISQL, "-b", "-v", "-x0x1f", dsn]
        if user is not None:
            args += [user, password or ""]
        res = subprocess.run(args, input=query + "\n", stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True,
                             env=dict(os.environ, **self.environ()),
                             **(user_for(runas) if runas else {}))
        # isql -b exits 0 when a statement fails: it says so on stderr
        if res.returncode != 0 or "[ISQL]ERROR" in res.stderr:
            raise HarnessError("isql %s failed (%s):\n%s%s" % (
                dsn, query, res.stdout, res.stderr))
        return [tuple(line.split("\x1f"))
                for line in res.stdout.splitlines() if line]
