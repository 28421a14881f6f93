"""The redactor's needle searches and the needles' bits are built at the first text, not when
the daemon imports it: a replica started on a storm of repeats (which redact nothing) does not
pay for them before its first receive (issue 18, item 5)."""

from __future__ import annotations

import subprocess
import sys

from triage.redact import Redactor, scrub

PROBE = """
import sys
built = set()

def watch(frame, event, arg):
    if event == "call" and frame.f_code.co_name in ("_bits_of_needles", "_any_needle"):
        built.add(frame.f_code.co_name)

sys.setprofile(watch)
import triage.cli, triage.app, triage.pipeline, triage.sqs.supervisor
sys.setprofile(None)
print(sorted(built))
"""


def test_importing_the_daemon_builds_no_needle_search() -> None:
    """A fresh interpreter that imports what `triage run` imports builds no needle search and
    no needle bits (140 ms of its start when the bits were built at import)."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_the_first_text_builds_them_and_finds_its_secret() -> None:
    """The first text redacted builds the searches (once) and its secret is found through
    them: laziness changes when, not what."""
    assert Redactor().text("password=hunter2xyz") == "password=[REDACTED:password]"
    assert scrub._needle_searches.cache_info().currsize == 1
    searches = scrub._needle_searches()
    assert searches.written_bits and searches.folded_bits
