"""Virtual hosts with their own database and table: data isolated."""

from harness.common import sha256_hex
from harness.conf import COOKIE, dbd_indented
from harness.databases import rows_or_none

VHOSTS_CONF = """
<Location /probe>
    SetHandler session-probe
</Location>
Session On
SessionORMCookieName orm

<VirtualHost 127.0.0.1:@PORT@>
    ServerName a.test
    @DBD_A@
    SessionORMTable sess_a
</VirtualHost>

<VirtualHost 127.0.0.1:@PORT@>
    ServerName b.test
    @DBD_B@
    SessionORMTable sess_b
</VirtualHost>
"""


def test_vhosts_isolated(httpd, db, sqlite_server):
    """vhost a: its own SQLite file; vhost b: the parametrized database."""
    db_a = sqlite_server.new_database("vhost_a")
    db_b = db
    srv = httpd.start(VHOSTS_CONF, dbd_a=dbd_indented(db_a),
                      dbd_b=dbd_indented(db_b))
    a = srv.client(host_header="a.test")
    b = srv.client(host_header="b.test")

    a.get("/probe?op=set&key=k&value=from-a")
    b.get("/probe?op=set&key=k&value=from-b")
    assert a.token and b.token and a.token != b.token
    assert a.get("/probe?op=get&key=k").value("k") == "from-a"
    assert b.get("/probe?op=get&key=k").value("k") == "from-b"

    # a's cookie means nothing to b
    r = b.get("/probe?op=get&key=k", cookie="%s=%s" % (COOKIE, a.token),
              update_jar=False)
    assert r.value("k") is None

    assert db_a.rows("sess_a", "id") == [(sha256_hex(a.token),)]
    assert db_b.rows("sess_b", "id") == [(sha256_hex(b.token),)]
    assert not db_a.has_table("sess_b")
    assert not db_b.has_table("sess_a")
    assert rows_or_none(db_a, "session") == []
    assert rows_or_none(db_b, "session") == []


VHOSTS_PORTS_CONF = """
Session On
SessionORMCookieName orm

<VirtualHost 127.0.0.1:@PORT0@>
    @DBD_A@
    <Location /probe>
        SetHandler session-probe
    </Location>
</VirtualHost>

<VirtualHost 127.0.0.1:@PORT1@>
    @DBD_B@
    SessionORMTable other_sessions
    <Location /probe>
        SetHandler session-probe
        SessionORMCookieName orm_b
    </Location>
</VirtualHost>
"""


def test_vhosts_two_ports_same_database(httpd, db):
    """Two ports, one database, two tables."""
    conf = dbd_indented(db)
    srv = httpd.start(VHOSTS_PORTS_CONF, nports=2, dbd_a=conf, dbd_b=conf)
    a = srv.client(port=srv.ports[0])
    b = srv.client(port=srv.ports[1], cookie_name="orm_b")
    a.get("/probe?op=set&key=k&value=1")
    b.get("/probe?op=set&key=k&value=2")
    assert a.get("/probe?op=get&key=k").value("k") == "1"
    assert b.get("/probe?op=get&key=k").value("k") == "2"
    assert db.rows("session", "id") == [(sha256_hex(a.token),)]
    assert db.rows("other_sessions", "id") == [(sha256_hex(b.token),)]
