"""Small helpers every part of the harness shares: where things are (the
repository, the build directory, the modules under test), the OS user
httpd runs as, free ports, waiting for a condition, processes, files and
directories owned by the right user, a few values tests compute, a
session's row, and calls run in parallel."""

import concurrent.futures
import hashlib
import os
import pwd
import re
import socket
import time

REPO = os.path.normpath(os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "..", "..", ".."))

IS_ROOT = os.geteuid() == 0
HTTPD_USER = os.environ.get("ORM_HTTPD_USER", "www-data")


class HarnessError(Exception):
    """A problem of the test environment (not of the module under test)."""


# --------------------------------------------------------------------------
# paths

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


def project_version():
    """The version AC_INIT gives in configure.ac, the one the build uses."""
    with open(os.path.join(REPO, "configure.ac")) as f:
        m = re.search(r"^AC_INIT\(\[[^]]*\],\s*\[([^]]+)\]", f.read(),
                      re.M)
    assert m, "no AC_INIT version in configure.ac"
    return m.group(1)


# --------------------------------------------------------------------------
# ports and waiting

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


def child_pids(ppid):
    """Live child pids of ppid."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == ppid and fields[0] != "Z":
            out.append(int(d))
    return out


# --------------------------------------------------------------------------
# users, files and directories

def chown_to(path, user, recursive=False):
    if not IS_ROOT:
        return
    pw = pwd.getpwnam(user)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    if recursive:
        for root, dirs, files in os.walk(path):
            for n in dirs + files:
                os.lchown(os.path.join(root, n), pw.pw_uid, pw.pw_gid)


def read_text(path):
    """A file's text (bytes that are not UTF-8 replaced), "" when it
    cannot be read (not there yet, or gone)."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def make_dir(path, owner=None, mode=0o755):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)
    if owner:
        chown_to(path, owner)
    return path


def user_for(user):
    """preexec-free Popen kwargs to run a command as an OS user when root."""
    if not IS_ROOT:
        return {}
    pw = pwd.getpwnam(user)
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


# --------------------------------------------------------------------------
# values

def merge_path():
    """How the module under test merges a lost race, as its ORM0215 line
    says: t/sanitize-e2e's build (ORM_MERGE_ATTEMPTS=0) takes the row lock
    at once ("under a row lock"), the others read the row again first."""
    return os.environ.get("ORM_E2E_MERGE", "without a lock")


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


def sql_quote(value):
    """Quote a Python value as an SQL literal (tests only)."""
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def now_ms():
    return int(time.time() * 1000)


def where_id(token):
    """The WHERE clause of the row of a session token (its digest)."""
    return "id = %s" % sql_quote(sha256_hex(token))


def row_of(db, token, columns="data, user_name"):
    """The row of a session token, as a tuple of columns, or None."""
    rows = db.rows(columns=columns, where=where_id(token))
    assert len(rows) <= 1
    return rows[0] if rows else None


# --------------------------------------------------------------------------
# concurrency

def run_parallel(*calls, stagger=0.2):
    """Runs the calls in threads, each started `stagger` seconds after the
    previous one; returns their results in order."""
    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        futs = []
        for i, call in enumerate(calls):
            if i:
                time.sleep(stagger)
            futs.append(pool.submit(call))
        return [f.result() for f in futs]
