"""pytest fixtures for the mod_session_orm end-to-end tests.

Environment:
  ORM_BUILDDIR        build directory (default: the repository root); the
                      module is $ORM_BUILDDIR/.libs/mod_session_orm.so and
                      the probe $ORM_BUILDDIR/t/modules/.libs/mod_session_probe.so
  ORM_MODULE          path of mod_session_orm.so (overrides the above)
  ORM_PROBE_MODULE    path of mod_session_probe.so (default: as above; when
                      that is missing the probe is built with apxs)
  APACHE2             httpd binary (default /usr/sbin/apache2)
  ORM_E2E_DBS         databases to test, comma-separated (sqlite,pgsql,mysql,
                      odbc-sqlite,odbc-pgsql,odbc-mariadb; default all)
  ORM_E2E_ALLOW_SKIP  1: skip (instead of fail) tests whose database server
                      binaries (or ODBC driver) are missing
  ORM_KEEP_TMP        1: keep the temporary directory when a test failed
"""

import os
import re
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness.common import (HTTPD_USER, IS_ROOT, HarnessError,  # noqa: E402
                            make_dir)
from harness.databases import (SERVER_CLASSES, allow_skip,  # noqa: E402
                               backend_of, selected_dbs, server_of_kind)
from harness.httpd import HttpdFactory, Session  # noqa: E402

_state = {"failed": False, "basedir": None, "servers": {}, "errors": {}}


def _basedir():
    if _state["basedir"] is None:
        d = tempfile.mkdtemp(prefix="orm-e2e-")
        os.chmod(d, 0o755)
        _state["basedir"] = d
    return _state["basedir"]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "mpms(*names): MPMs to run the test under "
                   "(parametrizes the 'mpm' fixture)")


def pytest_generate_tests(metafunc):
    explicit = set()
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",")]
        explicit.update(names)
    # a test may name its kinds itself (indirect=True)
    if "db" in metafunc.fixturenames and "db" not in explicit:
        metafunc.parametrize("db", selected_dbs(), indirect=True)
    if "mpm" in metafunc.fixturenames and "mpm" not in explicit:
        m = metafunc.definition.get_closest_marker("mpms")
        mpms = list(m.args) if m else ["event"]
        metafunc.parametrize("mpm", mpms)


def pytest_sessionfinish(session, exitstatus):
    for srv in list(_state["servers"].values()):
        try:
            srv.stop()
        except Exception as e:  # noqa: BLE001
            sys.stderr.write("stopping %s: %s\n" % (srv.kind, e))
    d = _state["basedir"]
    if d and os.path.isdir(d):
        if (_state["failed"] or exitstatus not in (0, 5)) and \
                os.environ.get("ORM_KEEP_TMP") == "1":
            sys.stderr.write("\ne2e: kept %s\n" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        _state["failed"] = True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """After the test body: stop its httpds, then fail the test (not just
    its teardown) on unexpected error-log lines."""
    outcome = yield
    fac = item.funcargs.get("httpd")
    if fac is None:
        return
    errors = fac.stop_all()
    if outcome.excinfo is None:
        if errors:
            raise AssertionError("\n".join(errors))
        fac.check_logs()


def db_server(backend):
    """The shared server of one database behind (sqlite, pgsql, mysql),
    started on first use; the ODBC kinds use it too."""
    if backend in _state["errors"]:
        raise _state["errors"][backend]
    srv = _state["servers"].get(backend)
    if srv is None:
        try:
            srv = SERVER_CLASSES[backend](_basedir())
        except HarnessError as e:
            _state["errors"][backend] = e
            raise
        _state["servers"][backend] = srv
    return srv


@pytest.fixture(scope="session")
def session_state():
    return Session(_basedir())


@pytest.fixture
def workdir(request):
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)[:80]
    d = os.path.join(_basedir(), "tests", name)
    n = 1
    while os.path.exists(d):
        n += 1
        d = os.path.join(_basedir(), "tests", "%s.%d" % (name, n))
    return make_dir(d, owner=HTTPD_USER if IS_ROOT else None)


@pytest.fixture
def httpd(workdir, session_state):
    """Factory: httpd.new(body, **kw) / httpd.start(body, **kw)."""
    fac = HttpdFactory(workdir, session_state)
    yield fac
    fac.stop_all()


def get_db_server(kind, session=None):
    """The shared server as kind sees it (for an ODBC kind: behind the
    data sources of session, the run's Session)."""
    try:
        return server_of_kind(kind, db_server(backend_of(kind)), session)
    except HarnessError as e:
        if allow_skip():
            pytest.skip("%s unavailable: %s" % (kind, e))
        pytest.fail("%s unavailable (set ORM_E2E_ALLOW_SKIP=1 to skip): %s"
                    % (kind, e), pytrace=False)


@pytest.fixture
def db(request, session_state):
    """A fresh database of the selected kind (parametrized)."""
    srv = get_db_server(request.param, session_state)
    return srv.new_database(re.sub(r"\[.*", "", request.node.name))


@pytest.fixture
def new_db(session_state):
    """Factory: new_db(kind, name), a fresh database of kind (any of
    harness.databases.KINDS) on the shared server of its backend."""
    def make(kind, name):
        return get_db_server(kind, session_state).new_database(name)
    return make


@pytest.fixture
def sqlite_server():
    return get_db_server("sqlite")


@pytest.fixture
def pg_server():
    return get_db_server("pgsql")


@pytest.fixture
def mysql_server():
    return get_db_server("mysql")
