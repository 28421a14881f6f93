"""The redactor's module-level patterns that embed a secret's name (thousands of characters,
10-20 ms each to compile) are compiled the first time they are used, not at import."""

from __future__ import annotations

import re
import subprocess
import sys

from triage.redact.rule import _LazyPattern

#: Imports the redactor with `re.compile` watched, and prints the longest source compiled.
_IMPORT_WATCHED = """
import re
longest = 0
compile = re.compile
def watched(source, flags=0):
    global longest
    longest = max(longest, len(source) if isinstance(source, str) else 0)
    return compile(source, flags)
re.compile = watched
import triage.redact
print(longest)
"""


def test_importing_the_redactor_compiles_no_pattern_holding_a_secrets_name() -> None:
    """No pattern of 5,000 characters or more (every one holding `_SECRET_NAME` is) is
    compiled while `triage.redact` is imported."""
    ran = subprocess.run(
        [sys.executable, "-c", _IMPORT_WATCHED], capture_output=True, text=True, check=True
    )
    assert int(ran.stdout) < 5_000


def test_a_lazy_pattern_compiles_once_and_answers_as_re_does() -> None:
    """A lazy pattern compiles on first use, keeps it, and searches, matches and substitutes
    as the compiled pattern does (positions and flags included)."""
    lazy = _LazyPattern(r"pass(?P<n>\d+)", re.IGNORECASE)
    assert lazy._compiled is None
    found = lazy.search("x PASS12 y", 1, 8)
    assert found is not None and found["n"] == "12"
    assert lazy.compiled is lazy.compiled
    assert lazy.match("pass1") is not None and lazy.fullmatch("pass1 ") is None
    assert lazy.sub(lambda m: "[X]", "a pass1 b Pass22") == "a [X] b [X]"
