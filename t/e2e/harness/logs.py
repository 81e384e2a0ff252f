"""httpd's error log: reading it (whole, or what came after a mark),
waiting for a line, and the check that fails a test on lines nobody
declared as expected (bad_log_lines)."""

import re

from harness.common import read_text, wait_for

LOG_LINE = re.compile(r"^\[[^\]]*\] \[(?P<module>[^:\]]*):(?P<level>[a-z0-9]+)\]")
BAD_LEVELS = ("error", "crit", "alert", "emerg")

# what mod_dbd and the driver report of each failed connection attempt:
# mod_dbd's own lines (AH00629 can't connect, AH00630 DBD error,
# AH00632/AH00633 no connection from the pool), and apr_dbd_odbc's report
# of a failed connect, which it writes to stderr (a raw line, and with
# psqlODBC continuation lines of the server's message)
DBD_CONNECT_FAILURES = (r"\[dbd:(error|crit|alert|emerg)\]|"
                        r"\[dbd_odbc\] SQL(Driver)?Connect returned")


def bad_log_lines(lines, expected=()):
    """Lines that should fail a test: level error and worse, [warn] lines
    about ORM or sessions, crashed children, and raw (unformatted) lines --
    unless they match one of the expected regexes."""
    pats = [re.compile(p) for p in expected]
    bad = []
    in_expected = False     # inside a declared multi-line raw report
    for line in lines:
        if not line.strip():
            continue
        m = LOG_LINE.match(line)
        if any(p.search(line) for p in pats):
            in_expected = True
            continue
        if not m and in_expected and not line.startswith("["):
            continue        # a continuation line of that report
        in_expected = False
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


class ErrorLog:
    """One httpd's error log file, and the lines a test declared expected
    in it."""

    def __init__(self, path):
        self.path = path
        self.expected = []

    def expect(self, *patterns):
        """Declare lines (regexes) as expected for this test."""
        self.expected.extend(patterns)

    def text(self):
        return read_text(self.path)

    def lines(self):
        return self.text().splitlines()

    def mark(self):
        """Position in the log; pass to since()."""
        return len(self.text())

    def since(self, mark):
        return self.text()[mark:].splitlines()

    def wait(self, pattern, timeout=5, mark=0):
        rx = re.compile(pattern)
        return wait_for(lambda: any(rx.search(l)
                                    for l in self.since(mark)), timeout)

    def check(self):
        bad = bad_log_lines(self.lines(), self.expected)
        if bad:
            raise AssertionError(
                "unexpected lines in %s (declare with expect_log):\n%s"
                % (self.path, "\n".join(bad[:40])))
