"""What t/check-docs and t/check-layout read of the C sources: the files
and the function definitions in them."""

import glob
import os
import re

FUNCTION = re.compile(r"^[a-zA-Z][^;{}()#]*\b(\w+)\s*\([^;{}#]*\)\s*\{",
                      re.M)


def source_files(srcdir, pattern="*.c"):
    """src/<layer>/<pattern>, then the module's entry file."""
    files = sorted(glob.glob(os.path.join(srcdir, "src", "*", pattern)))
    return files + [os.path.join(srcdir, "mod_session_orm.c")]


def functions(text):
    """(name, start, end) of each function definition in text: the offsets
    of its first character and of its closing brace."""
    found = []
    for m in FUNCTION.finditer(text):
        depth, i = 0, m.end() - 1
        while i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                break
            i += 1
        found.append((m.group(1), m.start(), i))
    return found
