"""A small stdlib HTTP client: one request (http_request), a cookie-keeping
client for one httpd (Client), and what comes back (Response, with the
probe's "key=value" lines, and SetCookie)."""

import base64
import http.client
import re

# what a session token of mod_session_orm looks like in a cookie
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


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
        """op=dump output as a dict, without the handler's own user= and
        session= lines that open it (a session key named "user" is kept)."""
        out = {}
        pairs = self.pairs()
        if [k for k, _ in pairs[:2]] == ["user", "session"]:
            pairs = pairs[2:]
        for k, v in pairs:
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

