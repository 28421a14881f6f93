"""Real programs the tests run (LocalStack, Alertmanager, promtool, chromium): found, or skipped
on a developer's machine, or failed in CI.

CI sets `CI=true` (GitHub Actions, GitLab and .ci/run all do); there a missing program fails the
test instead of skipping it, so a green CI run proves every real-program test ran.
`TRIAGE_REQUIRE_PROGRAMS=1` asks for the same outside CI.
"""

from __future__ import annotations

import os
import shutil

#: Read at import: tests/conftest.py strips TRIAGE_* (and keeps CI) before each test runs.
_REQUIRED_AT_IMPORT = (
    os.environ.get("CI", "").lower() in {"true", "1"}
    or os.environ.get("TRIAGE_REQUIRE_PROGRAMS") == "1"
)


def programs_required() -> bool:
    """True when a missing real program must fail the test rather than skip it."""
    return _REQUIRED_AT_IMPORT or os.environ.get("CI", "").lower() in {"true", "1"}


def missing(why: str) -> None:
    """Skip the calling test because of `why`, or fail it when programs are required."""
    import pytest

    if programs_required():
        pytest.fail(f"{why} (CI=true, so this fails instead of skipping)")
    pytest.skip(why)


def program_or_skip(*names: str, install: str) -> str:
    """The path of the first of `names` on PATH; otherwise `missing()` with how to `install` it."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    missing(f"{' or '.join(names)} is not installed ({install})")
    raise AssertionError("unreachable")  # missing() always raises
