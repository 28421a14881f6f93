"""A generic alert without `status` whose `state` says nothing changed (`pending`,
`acknowledged`, `no_data`, `unknown`) opens no ticket: before, only firing and resolved words
were read from `state`, so these fell through to the default, firing."""

from __future__ import annotations

import json

import pytest

from triage.normalize import normalize_body


@pytest.mark.parametrize("state", ["pending", "Acknowledged", "no_data", "UNKNOWN", " ack "])
def test_a_state_that_changes_nothing_opens_no_ticket(state: str) -> None:
    """The alert is skipped as `status` of that word would be, not read as firing."""
    normalized = normalize_body(json.dumps({"title": "disk full on db-7", "state": state}))
    assert normalized.alerts == ()
    [skipped] = normalized.skipped
    assert skipped.reason == "no_state_change"


@pytest.mark.parametrize("state", ["open", "closed", "merged", "draft"])
def test_a_state_of_another_kind_still_leaves_the_alert_firing(state: str) -> None:
    """A `state` that says something else (a pull request's, a door's) is not read: firing."""
    [alert] = normalize_body(json.dumps({"title": "disk full on db-7", "state": state})).alerts
    assert alert.status.value == "firing"
