"""Real programs the tests run (promtool …), found on PATH.

A missing program skips its test on a developer machine and fails it in CI (`CI=true`), whose
`.ci/run` installs each from its `DEBIAN` table (`[command]=package`)."""

from __future__ import annotations

import os
import shutil

import pytest


def program_or_skip(command: str, *, install: str) -> str:
    """The path of `command`; without it the test skips, saying how to `install` it, or fails
    under CI=true, where a skip would hide a missing install step."""
    path = shutil.which(command)
    if path is not None:
        return path
    why = f"{command} is not installed ({install})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why}; CI=true, so this fails instead of skipping")
    pytest.skip(why)
