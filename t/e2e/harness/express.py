"""The Express app next door (t/e2e/express, issue 14): ExpressApp, one
node process of app.js sharing a harness database (the SQLite file or the
PostgreSQL database an httpd under test uses), and ExpressFactory, a test's
apps, stopped and checked after it. Also what a test needs to speak
express-session's cookie: sign(), unsign(), cookie_value(), and json_of()
for the app's answers.

The app listens on a loopback port it picks itself (PORT=0) and names it in
its ready line, so no other process can take the port between choosing and
binding it. It runs as the user httpd runs as when the tests run as root,
so that the SQLite journal files either side creates stay writable by the
other. Its output goes to express.log in its directory; a line the app or
its store writes to report a failure fails the test unless the test
declared it with ExpressApp.expect_log(regex).

Node and the packages are prerequisites, never a reason to skip: a missing
node binary or a missing or stale node_modules raises HarnessError naming
scripts/install-deps."""

import base64
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import urllib.parse

from harness.client import Client
from harness.common import (HTTPD_USER, IS_ROOT, REPO, HarnessError,
                            make_dir, read_text, user_for, wait_for)

APP_DIR = os.path.join(REPO, "t", "e2e", "express")
NODE = os.environ.get("ORM_NODE", "node")
COOKIE_NAME = "connect.sid"
READY_RE = re.compile(r"^express-peer ready port=(\d+)$", re.M)
# what app.js and the store write when something failed
FAILURE_RE = re.compile(r"^(express-peer|store):|Error|at .*\.js:\d+", re.M)
KINDS = ("sqlite", "pgsql")


# --------------------------------------------------------------------------
# express-session's signed cookie (cookie-signature's sign/unsign)

def sign(sid, secret):
    """sid.sig as cookie-signature signs it: sig is HMAC-SHA256(secret,
    sid) in standard base64 without the trailing '='."""
    mac = hmac.new(secret.encode(), sid.encode(), hashlib.sha256).digest()
    return "%s.%s" % (sid, base64.b64encode(mac).decode().rstrip("="))


def cookie_value(sid, secret):
    """The connect.sid cookie value for sid signed with secret, URI-encoded
    as express-session sends it: s%3A<sid>.<sig>."""
    return urllib.parse.quote("s:" + sign(sid, secret), safe="")


def unsign(value, secrets):
    """The sid in a connect.sid cookie value when one of secrets signed
    it, else None."""
    raw = urllib.parse.unquote(value)
    if not raw.startswith("s:") or "." not in raw:
        return None
    sid = raw[2:].rsplit(".", 1)[0]
    for secret in secrets:
        if hmac.compare_digest(sign(sid, secret), raw[2:]):
            return sid
    return None


def sid_of(value):
    """The sid part of a connect.sid value, signed correctly or not."""
    raw = urllib.parse.unquote(value)
    return raw[2:].rsplit(".", 1)[0] if raw.startswith("s:") else raw


def json_of(resp):
    """The app's JSON answer as Python values."""
    try:
        return json.loads(resp.body)
    except ValueError:
        raise AssertionError("not JSON: %r" % resp) from None


# --------------------------------------------------------------------------
# the packages

def check_installed():
    """Raise HarnessError unless node runs and node_modules matches
    package-lock.json (npm writes node_modules/.package-lock.json)."""
    try:
        out = subprocess.run([NODE, "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT,
                             universal_newlines=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise HarnessError("node is missing (%s): run scripts/install-deps"
                           % e) from None
    installed = os.path.join(APP_DIR, "node_modules", ".package-lock.json")
    lock = os.path.join(APP_DIR, "package-lock.json")
    if not os.path.exists(installed):
        raise HarnessError("%s has no node_modules: run scripts/install-deps "
                           "(npm ci there)" % APP_DIR)
    if os.path.getmtime(installed) < os.path.getmtime(lock):
        raise HarnessError("%s/node_modules is older than package-lock.json:"
                           " run scripts/install-deps (npm ci there)"
                           % APP_DIR)
    return out.strip()


# --------------------------------------------------------------------------
# one app

def db_env(db):
    """app.js's database variables for a harness database (sqlite or
    pgsql kind)."""
    if db.kind == "sqlite":
        return {"DB_KIND": "sqlite", "DB_PATH": db.path}
    if db.kind == "pgsql":
        s = db.server
        return {"DB_KIND": "pgsql", "PG_HOST": "127.0.0.1",
                "PG_PORT": str(s.port), "PG_USER": s.user,
                "PG_PASSWORD": s.password, "PG_DBNAME": db.name}
    raise HarnessError("the Express app speaks %s only, not %s"
                       % (" and ".join(KINDS), db.kind))


class ExpressApp:
    """app.js on one database, with its secrets (the first signs)."""

    def __init__(self, dirpath, db, secrets, cookie_max_age_ms=None):
        self.dir = make_dir(dirpath, owner=HTTPD_USER if IS_ROOT else None)
        self.db = db
        self.secrets = list(secrets)
        self.log_path = os.path.join(self.dir, "express.log")
        self.env = dict(os.environ, PORT="0",
                        SECRETS=json.dumps(self.secrets), **db_env(db))
        if cookie_max_age_ms is not None:
            self.env["COOKIE_MAX_AGE"] = str(cookie_max_age_ms)
        self.expected = []
        self.proc = None
        self.port = None

    def start(self, timeout=30):
        """Start node and wait for the ready line."""
        with open(self.log_path, "ab") as logf:
            self.proc = subprocess.Popen(
                [NODE, os.path.join(APP_DIR, "app.js")], cwd=self.dir,
                env=self.env, stdin=subprocess.DEVNULL, stdout=logf,
                stderr=subprocess.STDOUT, start_new_session=True,
                **(user_for(HTTPD_USER) if IS_ROOT else {}))

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("the Express app exited (rc=%s):\n%s"
                                     % (self.proc.returncode, self.log_text()))
            return READY_RE.search(self.log_text())
        if not wait_for(ready, timeout, 0.1):
            self.stop()
            raise AssertionError("the Express app did not come up:\n%s"
                                 % self.log_text())
        self.port = int(READY_RE.search(self.log_text()).group(1))
        return self

    def stop(self, timeout=10):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def client(self):
        """A cookie-keeping client for the app (harness.client.Client):
        give its jar to an httpd client (share_jar) to be one browser."""
        return Client(self.port, cookie_name=COOKIE_NAME)

    def log_text(self):
        return read_text(self.log_path)

    def expect_log(self, *patterns):
        """Declare output lines (regexes) as expected for this test."""
        self.expected.extend(patterns)

    def bad_log_lines(self):
        pats = [re.compile(p) for p in self.expected]
        return [line for line in self.log_text().splitlines()
                if FAILURE_RE.search(line)
                and not any(p.search(line) for p in pats)]


def share_jar(*clients):
    """Make clients (an app's, an httpd's) use the first one's cookie jar:
    one browser talking to both."""
    for c in clients[1:]:
        c.jar = clients[0].jar
    return clients[0].jar


class ExpressFactory:
    """Per test: starts ExpressApps in the test's directory, stops them
    after it and reports their failure lines."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.apps = []

    def start(self, db, secrets=("first", "second"), **kw):
        check_installed()
        app = ExpressApp(os.path.join(self.workdir, "express%d"
                                      % (len(self.apps) + 1)),
                         db, secrets, **kw)
        self.apps.append(app)
        return app.start()

    def stop_all(self):
        for app in self.apps:
            app.stop()

    def check_logs(self):
        msgs = ["%s:\n%s" % (app.log_path, "\n".join(bad))
                for app in self.apps for bad in [app.bad_log_lines()] if bad]
        if msgs:
            raise AssertionError("unexpected lines from the Express app "
                                 "(declare with expect_log):\n"
                                 + "\n".join(msgs))
