"""Operator-surface bugs of round 13: a group's `incidents list` line says its alerts and its
occurrences once each; `triage check` says a backend probe that cannot tell as neither `ok`
nor `FAIL`; and its GitHub line says a classic token whose scopes cannot open issues."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from test_operator_filters import seed
from test_surfaces_leftovers_431 import _group
from triage.app import open_configured_store
from triage.aws import Aws
from triage.incidents import Store
from triage.ops.operator import incident_json
from triage.ops.operator_text import incident_line
from triage.redact import Redactor
from triage.settings import load_settings


@pytest.fixture
async def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Store]:
    """A SQLite store of eight open incidents, the one TRIAGE_STORE_URL names."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    settings = load_settings()
    aws = Aws(settings)
    opened = await open_configured_store(settings, aws)
    await seed(opened, 8)
    yield opened
    await opened.aclose()
    await aws.aclose()


# --- a group's line in `incidents list --output text` -------------------------------------------


async def test_a_groups_list_line_says_its_alerts_and_occurrences_once_each(store: Store) -> None:
    """`incidents list --output text` says a group's alerts (and how many fire) and its
    occurrences each once, as its page row and `incidents show` do, rather than its
    occurrences as "7 alerts" while the group holds 3."""
    group = await _group(store)
    shown = incident_json(group, Redactor())
    now = datetime.now(UTC)
    line = incident_line(shown, group.opened_at, now)
    members, firing = shown["members"], shown["members_firing"]
    assert f"{members} alerts, {firing} firing" in line, line
    assert f"{group.occurrences} occurrences" in line, line
    assert len(re.findall(r"\balerts?\b", line.replace(shown["title"], ""))) == 1, line
